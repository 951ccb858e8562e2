//! The summaries, details and fingerprints of this crate against values the
//! `openssl` command line computes from files it generated itself: DNs with
//! multi-valued RDNs and characters that need escaping, IP (v4 and v6),
//! URI, e-mail, registered-ID and otherName SANs, a serial given in decimal,
//! the dates, the SHA-256 fingerprint, and ArangoDB's PEM hashes.
//!
//! Where Java and OpenSSL print differently (Java escapes `=` and `#`
//! everywhere and every leading or trailing space, keeps the encoded order
//! inside a multi-valued RDN, prints `emailAddress` as OID and hex), the
//! expected value is derived from OpenSSL's output by the rules of
//! `sun.security.x509.AVA.toRFC2253String`, written out again here.

use std::path::Path;
use std::process::Command;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tls_inventory::{CertificateInfo, ClientAuth, PemSummary, TlsFiles};

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn sha256_hex(dir: &Path, file: &str) -> String {
    let out = openssl(dir, &["dgst", "-sha256", "-r", file]);
    out.split_whitespace().next().unwrap().to_string()
}

fn der_of(pem_file: &Path) -> Vec<u8> {
    CertificateDer::from_pem_file(pem_file).unwrap().to_vec()
}

/// Splits at unescaped `sep`.
fn split(s: &str, sep: char) -> Vec<String> {
    let (mut out, mut cur, mut esc) = (Vec::new(), String::new(), false);
    for c in s.chars() {
        if esc {
            cur.push(c);
            esc = false;
        } else if c == '\\' {
            cur.push(c);
            esc = true;
        } else if c == sep {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// `AVA.toRFC2253String`'s escaping, from the JDK source.
fn java_escape(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let lead = chars.iter().take_while(|c| **c == ' ').count();
    let trail = chars.len() - chars.iter().rev().take_while(|c| **c == ' ').count();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if ",=+<>#;\"\\".contains(*c) || i < lead || i >= trail {
            out.push('\\');
        }
        out.push(*c);
    }
    out
}

/// One AVA of OpenSSL's RFC 2253 output as Java prints it.
fn java_ava(ava: &str) -> String {
    let (kind, value) = ava.split_once('=').unwrap();
    let value = unescape(value);
    match kind {
        // Not an RFC 2253 keyword in Java: OID and the DER (IA5String) in hex.
        "emailAddress" => {
            let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
            format!("1.2.840.113549.1.9.1=#16{:02x}{hex}", value.len())
        }
        k => format!("{k}={}", java_escape(&value)),
    }
}

/// OpenSSL's RFC 2253 subject, as sets of Java-printed AVAs per RDN.
fn expected_rdns(openssl_rfc2253: &str) -> Vec<Vec<String>> {
    split(openssl_rfc2253, ',')
        .iter()
        .map(|rdn| {
            let mut avas: Vec<String> = split(rdn, '+').iter().map(|a| java_ava(a)).collect();
            avas.sort();
            avas
        })
        .collect()
}

fn ours_rdns(dn: &str) -> Vec<Vec<String>> {
    split(dn, ',')
        .iter()
        .map(|rdn| {
            let mut avas = split(rdn, '+');
            avas.sort();
            avas
        })
        .collect()
}

/// OpenSSL's SAN listing as the plugin's sorted `[[type, value], ...]`.
fn expected_san(listing: &str) -> String {
    let line = listing.lines().nth(1).unwrap().trim();
    let mut pairs: Vec<(u8, String)> = line
        .split(", ")
        .map(|entry| {
            let (kind, value) = entry.split_once(':').unwrap();
            match kind {
                "DNS" => (2, value.to_string()),
                "IP Address" => (7, value.to_ascii_lowercase()),
                "URI" => (6, value.to_string()),
                "email" => (1, value.to_string()),
                "Registered ID" => (8, value.to_string()),
                "othername" => {
                    let (oid, v) = value.trim().split_once("::").unwrap();
                    (0, format!("[{oid}, {v}]"))
                }
                other => panic!("unexpected SAN type {other}"),
            }
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    let inner: Vec<String> = pairs.iter().map(|(t, v)| format!("[{t}, {v}]")).collect();
    format!("[{}]", inner.join(", "))
}

const SUBJECT: &str =
    "/C=DE/L= spaced /O=Te\\\"st<1>;x/OU=a=b#c/OU=#lead/CN=node\\, one+UID=u1/emailAddress=x@y.z";
const SANS: &str = "subjectAltName=DNS:node.example.com,DNS:localhost,IP:127.0.0.1,IP:2001:db8::ab,URI:https://keyward.example/x?y=1,email:ops@example.com,RID:1.2.3.4.5.5,otherName:1.2.3.4;UTF8:node-1.example.com,DNS:localhost";
const SERIAL: &str = "123456789012345678901234567890";

fn generate(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "30",
            "-set_serial",
            SERIAL,
            "-subj",
            SUBJECT,
            "-addext",
            SANS,
        ],
    );
}

#[test]
fn certificate_details_match_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate(d);
    let info = CertificateInfo::from_der(&der_of(&d.join("cert.pem"))).unwrap();

    let subject = openssl(
        d,
        &[
            "x509", "-in", "cert.pem", "-noout", "-subject", "-nameopt", "RFC2253",
        ],
    );
    let subject = subject.trim().strip_prefix("subject=").unwrap();
    assert_eq!(ours_rdns(&info.subject_dn), expected_rdns(subject));
    // Self-signed: the issuer is the subject.
    assert_eq!(info.issuer_dn, info.subject_dn);
    // Inside the multi-valued RDN, Java keeps the encoded (DER SET) order:
    // CN's element (30 0f ...) sorts before UID's (30 10 ...).
    assert!(
        info.subject_dn
            .contains(",CN=node\\, one+UID=u1,OU=\\#lead,OU=a\\=b\\#c,O=Te\\\"st\\<1\\>\\;x,L=\\ spaced\\ ,C=DE"),
        "{}",
        info.subject_dn
    );

    let san = openssl(
        d,
        &[
            "x509",
            "-in",
            "cert.pem",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    );
    assert_eq!(info.san, expected_san(&san));
    assert!(info.san.starts_with("[[0, [1.2.3.4, node-1.example.com]], [1, ops@example.com], [2, localhost], [2, node.example.com], [6, https://keyward.example/x?y=1], [7, 127.0.0.1], [7, 2001:db8:0:0:0:0:0:ab], [8, 1.2.3.4.5.5]]"), "{}", info.san);

    assert_eq!(info.serial_number, SERIAL);

    let dates = openssl(
        d,
        &[
            "x509", "-in", "cert.pem", "-noout", "-dates", "-dateopt", "iso_8601",
        ],
    );
    let date = |key: &str| {
        let line = dates.lines().find(|l| l.starts_with(key)).unwrap();
        line[key.len() + 1..].replace(' ', "T")
    };
    assert_eq!(info.not_before, date("notBefore"));
    assert_eq!(info.not_after, date("notAfter"));

    let fp = openssl(
        d,
        &[
            "x509",
            "-in",
            "cert.pem",
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    );
    let fp = fp
        .trim()
        .split_once('=')
        .unwrap()
        .1
        .replace(':', "")
        .to_ascii_lowercase();
    assert_eq!(info.sha256_fingerprint, fp);
}

#[test]
fn java_name_of_the_same_subject() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let der = der_of(&dir.path().join("cert.pem"));
    assert_eq!(
        tls_inventory::dn::subject_java_name(&der).unwrap(),
        "EMAILADDRESS=x@y.z, CN=\"node, one\" + UID=u1, OU=\"#lead\", OU=\"a=b#c\", O=\"Te\\\"st<1>;x\", L=\" spaced \", C=DE"
    );
}

/// The text of the first block labelled `label`, from BEGIN through the END
/// line's dashes, cut out with plain string search.
fn block(text: &str, label: &str) -> String {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).unwrap();
    let stop = text[start..].find(&end).unwrap() + start + end.len();
    text[start..stop].to_string()
}

#[test]
fn arango_summary_matches_openssl_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate(d);
    // A keyfile as ArangoDB takes it: certificate then key, one file.
    let cert = std::fs::read_to_string(d.join("cert.pem")).unwrap();
    let key = std::fs::read_to_string(d.join("key.pem")).unwrap();
    std::fs::write(d.join("keyfile.pem"), format!("{cert}{key}")).unwrap();
    std::fs::write(d.join("keyblock.txt"), block(&key, "PRIVATE KEY")).unwrap();

    let summary = PemSummary::of_file(&std::fs::read(d.join("keyfile.pem")).unwrap());
    assert_eq!(
        summary.sha256.as_deref(),
        Some(sha256_hex(d, "keyfile.pem").as_str())
    );
    assert_eq!(summary.certificates, vec![block(&cert, "CERTIFICATE")]);
    assert_eq!(
        summary.private_key_sha256.as_deref(),
        Some(sha256_hex(d, "keyblock.txt").as_str())
    );

    // keyward's two files summarise as their concatenation.
    let files = TlsFiles {
        cert: d.join("cert.pem"),
        key: d.join("key.pem"),
        client_ca: Some(d.join("cert.pem")),
        client_auth: ClientAuth::Optional,
        sni: [("sni.example".to_string(), d.join("keyfile.pem"))].into(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let loaded = files.load(now).unwrap();
    assert_eq!(loaded.inventory.keyfile, summary);
    assert_eq!(loaded.inventory.sni["sni.example"], summary);
    assert_eq!(
        loaded.inventory.client_ca.sha256.as_deref(),
        Some(sha256_hex(d, "cert.pem").as_str())
    );
    assert_eq!(loaded.inventory.client_ca.private_key_sha256, None);
    // The CA file's certificate is an authority; the served ones are leaves.
    assert_eq!(loaded.inventory.authorities.len(), 1);
    assert_eq!(loaded.inventory.leaves.len(), 2);
}
