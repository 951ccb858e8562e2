//! ArangoDB's summary of a PEM file, computed from the bytes on disk exactly
//! as `/_admin/server/tls` reports it.
//!
//! - `sha256`: lowercase hex SHA-256 of the whole file;
//! - `certificates`: every block labelled exactly `CERTIFICATE`, in file
//!   order, from `-----BEGIN` through the closing dashes of the END line, with
//!   no trailing newline and inner line breaks kept byte for byte;
//! - `privateKeySha256`: SHA-256 of the first block whose label contains
//!   `PRIVATE KEY`, delimited the same way;
//! - the deprecated spellings `SHA256` and `privateKeySHA256` with the same values.
//!
//! Scanning stops silently at the first malformed block; the file hash is
//! always computed. An empty file summarises as `{}`.

use ring::digest::{SHA256, digest};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The summary of one PEM file (or of a certificate file and a key file read
/// as one, see [`PemSummary::of_pair`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PemSummary {
    /// Lowercase hex SHA-256 of the file bytes; `None` for an empty file.
    pub sha256: Option<String>,
    /// The `CERTIFICATE` blocks, verbatim.
    pub certificates: Vec<String>,
    /// Lowercase hex SHA-256 of the first private-key block, verbatim.
    pub private_key_sha256: Option<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex_lower(digest(&SHA256, bytes).as_ref())
}

fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// One PEM block: its label and its exact text (BEGIN line through the END
/// line's closing dashes).
struct Block<'a> {
    label: &'a [u8],
    text: &'a [u8],
}

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn blocks(file: &[u8]) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(start) = find(file, BEGIN, pos) {
        let label_start = start + BEGIN.len();
        let Some(label_end) = find(file, DASHES, label_start) else {
            break;
        };
        let label = &file[label_start..label_end];
        if label.contains(&b'\n') || label.contains(&b'\r') {
            break;
        }
        let mut end_marker = END.to_vec();
        end_marker.extend_from_slice(label);
        end_marker.extend_from_slice(DASHES);
        let Some(end) = find(file, &end_marker, label_end + DASHES.len()) else {
            break;
        };
        let stop = end + end_marker.len();
        out.push(Block {
            label,
            text: &file[start..stop],
        });
        pos = stop;
    }
    out
}

impl PemSummary {
    /// The summary of one file's bytes.
    pub fn of_file(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return PemSummary::default();
        }
        let blocks = blocks(bytes);
        PemSummary {
            sha256: Some(sha256_hex(bytes)),
            certificates: blocks
                .iter()
                .filter(|b| b.label == b"CERTIFICATE")
                .map(|b| String::from_utf8_lossy(b.text).into_owned())
                .collect(),
            private_key_sha256: blocks
                .iter()
                .find(|b| find(b.label, b"PRIVATE KEY", 0).is_some())
                .map(|b| sha256_hex(b.text)),
        }
    }

    /// keyward takes the certificate chain and the key as two files
    /// (`--tls-cert`, `--tls-key`); ArangoDB's keyfile holds both. The pair is
    /// summarised as the one file `cat cert key` would make, so that an
    /// operator comparing with `sha256sum` of that concatenation (as
    /// kube-arangodb does with its keyfile) gets the same hash. When both
    /// paths name the same file, it is summarised once.
    pub fn of_pair(cert: &[u8], key: Option<&[u8]>) -> Self {
        match key {
            None => Self::of_file(cert),
            Some(key) => {
                let mut joined = cert.to_vec();
                joined.extend_from_slice(key);
                Self::of_file(&joined)
            }
        }
    }
}

impl Serialize for PemSummary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(sha) = &self.sha256 else {
            return s.serialize_map(Some(0))?.end();
        };
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("sha256", sha)?;
        map.serialize_entry("SHA256", sha)?;
        map.serialize_entry("certificates", &self.certificates)?;
        if let Some(k) = &self.private_key_sha256 {
            map.serialize_entry("privateKeySha256", k)?;
            map.serialize_entry("privateKeySHA256", k)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT_A: &str = "-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----";
    const CERT_B: &str = "-----BEGIN CERTIFICATE-----\r\nQkJC\r\n-----END CERTIFICATE-----";
    const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nS0VZ\n-----END EC PRIVATE KEY-----";

    #[test]
    fn blocks_are_kept_verbatim_and_keys_hashed_by_their_text() {
        let file = format!(
            "junk\n{CERT_A}\n-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n{CERT_B}\n{KEY}\n"
        );
        let s = PemSummary::of_file(file.as_bytes());
        assert_eq!(s.certificates, vec![CERT_A.to_string(), CERT_B.to_string()]);
        assert_eq!(
            s.private_key_sha256.as_deref(),
            Some(sha256_hex(KEY.as_bytes()).as_str())
        );
        assert_eq!(
            s.sha256.as_deref(),
            Some(sha256_hex(file.as_bytes()).as_str())
        );
        let json = serde_json::to_value(&s).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for k in [
            "sha256",
            "SHA256",
            "certificates",
            "privateKeySha256",
            "privateKeySHA256",
        ] {
            assert!(keys.contains(&k), "{k} missing");
        }
    }

    #[test]
    fn scanning_stops_at_a_block_that_never_ends() {
        let broken = format!("{CERT_A}\n-----BEGIN CERTIFICATE-----\nnever ends\n{KEY}");
        let s = PemSummary::of_file(broken.as_bytes());
        assert_eq!(s.certificates, vec![CERT_A.to_string()]);
        assert_eq!(
            s.private_key_sha256, None,
            "nothing after the broken block is read"
        );
        assert!(s.sha256.is_some(), "the file hash is always computed");
    }

    #[test]
    fn empty_file_is_an_empty_object_and_no_key_means_no_key_fields() {
        assert_eq!(
            serde_json::to_string(&PemSummary::of_file(b"")).unwrap(),
            "{}"
        );
        let json = serde_json::to_value(PemSummary::of_file(CERT_A.as_bytes())).unwrap();
        assert!(json.get("privateKeySha256").is_none());
        assert_eq!(json["certificates"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_pair_hashes_like_its_concatenation() {
        let pair = PemSummary::of_pair(CERT_A.as_bytes(), Some(KEY.as_bytes()));
        let joined = PemSummary::of_file(format!("{CERT_A}{KEY}").as_bytes());
        assert_eq!(pair, joined);
    }
}
