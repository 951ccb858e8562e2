//! Certificates of signing keys, as OpenBao 2.7.2 serves them:
//!
//! - `keys/:name/csr`: a PKCS#10 request for a version's key, signed with
//!   it (the private key never leaves), from an optional PEM template whose
//!   subject and attributes (extension requests: SANs, key usage ...) are
//!   kept as they are; the template's own key and signature are replaced.
//!   ECDSA signs with SHA-256/384/512 by curve, RSA with PKCS#1 v1.5 over
//!   SHA-256, ed25519 as itself: Go's choices.
//! - `keys/:name/set-certificate`: a PEM chain, leaf first, attached to a
//!   version after the checks OpenBao makes (a leaf first, CAs after it,
//!   the leaf's key is the version's); shown on key read and by
//!   `export/certificate-chain`, carried by backups.

use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::request::{CertReq, CertReqInfo, Version};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::asym::{AsymmetricKey, RsaHash, RsaScheme};
use crate::key_type::{Algorithm, Curve};
use crate::material::CertificateChain;
use crate::{Error, HashAlgorithm, KeyType, Policy, der_lite};

const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const OID_ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const OID_SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519_TEXT: &str = "1.3.101.112";
const OID_DSA: &str = "1.2.840.10040.4.1";

/// One PEM block: its label and DER.
struct PemBlock {
    label: String,
    der: Vec<u8>,
}

/// The next PEM block of `text` (text before it is skipped, as Go's
/// `pem.Decode` does) and what follows it; `None` when there is none.
fn next_pem(text: &str) -> Option<(PemBlock, &str)> {
    let start = text.find("-----BEGIN ")?;
    let after = &text[start + 11..];
    let label_end = after.find("-----")?;
    let label = &after[..label_end];
    if label.contains('\n') {
        return None;
    }
    let body_start = &after[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_start.find(&end_marker)?;
    let body: String = body_start[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = crate::gobase64::decode(&body).ok()?;
    let mut rest = &body_start[end + end_marker.len()..];
    // The rest of the END line goes with the block.
    rest = rest.split_once('\n').map_or("", |(_, r)| r);
    Some((
        PemBlock {
            label: label.to_string(),
            der,
        },
        rest,
    ))
}

/// The certificates of a PEM chain, in order; other PEM blocks are
/// skipped, as OpenBao does.
fn parse_chain(text: &str) -> Result<Vec<(Vec<u8>, Certificate)>, Error> {
    let mut rest = text.trim();
    let mut ders = Vec::new();
    while !rest.is_empty() {
        let (block, next) = next_pem(rest).ok_or(Error::ChainPem)?;
        if block.label == "CERTIFICATE" || block.label == "X509 CERTIFICATE" {
            ders.push(block.der);
        }
        rest = next;
    }
    if ders.is_empty() {
        return Err(Error::ChainEmpty);
    }
    ders.into_iter()
        .map(|der| {
            let cert = Certificate::from_der(&der).map_err(|_| Error::ChainCertificate)?;
            Ok((der, cert))
        })
        .collect()
}

/// Go's `BasicConstraintsValid && IsCA`.
fn is_ca(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate().get_extension::<BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca
    )
}

/// Go's name of a certificate's public key algorithm.
fn go_algorithm_name(oid: &str) -> &'static str {
    match oid {
        OID_RSA => "RSA",
        OID_EC => "ECDSA",
        OID_ED25519_TEXT => "Ed25519",
        OID_DSA => "DSA",
        _ => "0",
    }
}

impl Policy {
    /// The key of a version in the working set (a CSR and a chain name
    /// versions as OpenBao's `safeGetKeyEntry`: only those).
    fn certificate_key(&self, version: Option<i64>) -> Option<(u32, &AsymmetricKey)> {
        let v = match version {
            None => self.latest_version(),
            Some(v) => u32::try_from(v).ok()?,
        };
        if v < self.min_decryption_version() {
            return None;
        }
        let key = self.ring.get(v)?.material.key.asymmetric()?;
        Some((v, key))
    }

    fn certificate_checks(&self) -> Result<(), Error> {
        if !self.key_type.supports_signing() {
            return Err(Error::CertNotSigning(self.key_type));
        }
        if self.derived {
            return Err(Error::CertDerived);
        }
        Ok(())
    }

    /// `keys/:name/csr`: a PEM `CERTIFICATE REQUEST` for `version` (latest
    /// when `None`), from `template` (PEM; `""` for an empty request).
    pub fn create_csr(&self, version: Option<i64>, template: &str) -> Result<String, Error> {
        self.certificate_checks()?;
        let (subject, attributes) = if template.is_empty() {
            (Default::default(), Default::default())
        } else {
            let (block, _) = next_pem(template).ok_or(Error::CsrTemplatePem)?;
            let req =
                CertReq::from_der(&block.der).map_err(|e| Error::CsrTemplate(e.to_string()))?;
            (req.info.subject, req.info.attributes)
        };
        let (_, key) = self
            .certificate_key(version)
            .ok_or(Error::CsrNoSuchVersion)?;
        if !key.has_private() {
            return Err(Error::CsrNoPrivateKey);
        }
        let public_key = SubjectPublicKeyInfoOwned::from_der(&key.spki_der())
            .map_err(|e| Error::CsrTemplate(e.to_string()))?;
        let info = CertReqInfo {
            version: Version::V1,
            subject,
            public_key,
            attributes,
        }
        .to_der()
        .map_err(|e| Error::CsrTemplate(e.to_string()))?;
        let (algorithm, signature) = csr_signature(self.key_type, key, &info)?;
        let csr = der_lite::sequence(&[&info, &algorithm, &der_lite::bit_string(&signature)]);
        Ok(der_lite::pem("CERTIFICATE REQUEST", &csr))
    }

    /// `keys/:name/set-certificate`: the key with `chain` (PEM, leaf
    /// first) attached to `version` (latest when `None`), replacing any
    /// chain it had.
    pub fn with_certificate_chain(
        &self,
        version: Option<i64>,
        chain: &str,
    ) -> Result<Policy, Error> {
        self.certificate_checks()?;
        let certs = parse_chain(chain)?;
        if is_ca(&certs[0].1) {
            return Err(Error::ChainLeafIsCa);
        }
        if certs.len() > 1 {
            if !is_ca(&certs[certs.len() - 1].1) {
                return Err(Error::ChainLastNotCa);
            }
            if certs[1..certs.len() - 1].iter().any(|(_, c)| !is_ca(c)) {
                return Err(Error::ChainSecondLeaf);
            }
        }
        let (v, key) = self
            .certificate_key(version)
            .ok_or(Error::ChainNoSuchVersion)?;
        let spki = certs[0].1.tbs_certificate().subject_public_key_info();
        let algorithm = spki.algorithm.oid.to_string();
        let expected = match self.key_type.algorithm() {
            Algorithm::Ed25519 => OID_ED25519_TEXT,
            Algorithm::Ecdsa(_) => OID_EC,
            _ => OID_RSA,
        };
        if algorithm != expected {
            return Err(Error::ChainAlgorithm {
                algorithm: go_algorithm_name(&algorithm),
                key_type: self.key_type,
            });
        }
        let leaf_der: Option<Vec<u8>> = Encode::to_der(spki).ok();
        let leaf_key = leaf_der.and_then(|der| {
            AsymmetricKey::import_public(self.key_type, &der_lite::pem("PUBLIC KEY", &der)).ok()
        });
        if !leaf_key.is_some_and(|k| k.same_public(key)) {
            return Err(Error::ChainKeyMismatch);
        }
        let mut next = self.clone();
        if let Some(e) = next.ring.get_mut(v) {
            e.material.certificate_chain =
                CertificateChain(certs.into_iter().map(|(der, _)| der).collect());
        }
        Ok(next)
    }
}

/// The AlgorithmIdentifier and signature of a CSR's `info`, with Go's
/// algorithm for the key.
fn csr_signature(
    key_type: KeyType,
    key: &AsymmetricKey,
    info: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let algorithm_id = |oid: &[u8], null: bool| {
        let oid = der_lite::tlv(0x06, oid);
        if null {
            der_lite::sequence(&[&oid, &[0x05, 0x00]])
        } else {
            der_lite::sequence(&[&oid])
        }
    };
    match key_type.algorithm() {
        Algorithm::Ed25519 => {
            let sig = key.ed25519_sign(info).ok_or(Error::CsrNoPrivateKey)?;
            Ok((algorithm_id(OID_ED25519, false), sig.to_vec()))
        }
        Algorithm::Ecdsa(curve) => {
            let (hash, oid) = match curve {
                Curve::P256 => (HashAlgorithm::Sha2_256, OID_ECDSA_SHA256),
                Curve::P384 => (HashAlgorithm::Sha2_384, OID_ECDSA_SHA384),
                Curve::P521 => (HashAlgorithm::Sha2_512, OID_ECDSA_SHA512),
            };
            let (r, s) = key
                .ecdsa_sign(&hash.digest(info))
                .ok_or(Error::CsrNoPrivateKey)?;
            Ok((algorithm_id(oid, false), der_lite::ecdsa_signature(&r, &s)))
        }
        _ => {
            let digest = HashAlgorithm::Sha2_256.digest(info);
            let sig = key.rsa_sign(RsaScheme::Pkcs1v15, RsaHash::Sha256, &digest)?;
            Ok((algorithm_id(OID_SHA256_WITH_RSA, true), sig))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyName, KeyOptions};
    use keyring_core::Timestamp;

    fn key(t: KeyType) -> Policy {
        let o = KeyOptions::new(t);
        Policy::generate(
            KeyName::parse("c").unwrap(),
            &o,
            Timestamp::new(1_800_000_000, 0),
        )
        .unwrap()
    }

    #[test]
    fn csrs_carry_the_keys_public_key_and_verify() {
        for t in [
            KeyType::Ed25519,
            KeyType::EcdsaP256,
            KeyType::EcdsaP384,
            KeyType::EcdsaP521,
            KeyType::Rsa2048,
        ] {
            let p = key(t);
            let pem = p.create_csr(None, "").unwrap();
            let (block, _) = next_pem(&pem).unwrap();
            assert_eq!(block.label, "CERTIFICATE REQUEST");
            let req = CertReq::from_der(&block.der).unwrap();
            let ours = p
                .ring
                .get(1)
                .unwrap()
                .material
                .key
                .asymmetric()
                .unwrap()
                .spki_der();
            assert_eq!(req.info.public_key.to_der().unwrap(), ours, "{t}");
            // A template keeps its subject; its key is replaced.
            let again = p.create_csr(Some(1), &pem).unwrap();
            let (b2, _) = next_pem(&again).unwrap();
            assert_eq!(
                CertReq::from_der(&b2.der)
                    .unwrap()
                    .info
                    .public_key
                    .to_der()
                    .unwrap(),
                ours
            );
        }
    }

    #[test]
    fn csr_and_chain_refusals() {
        let aes = key(KeyType::Aes256Gcm96);
        assert_eq!(
            aes.create_csr(None, ""),
            Err(Error::CertNotSigning(KeyType::Aes256Gcm96))
        );
        let ec = key(KeyType::EcdsaP256);
        assert_eq!(ec.create_csr(Some(2), ""), Err(Error::CsrNoSuchVersion));
        assert_eq!(ec.create_csr(Some(0), ""), Err(Error::CsrNoSuchVersion));
        assert_eq!(ec.create_csr(None, "no pem"), Err(Error::CsrTemplatePem));
        assert!(matches!(
            ec.create_csr(
                None,
                "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
            ),
            Err(Error::CsrTemplate(_))
        ));
        assert_eq!(
            ec.with_certificate_chain(None, "garbage").unwrap_err(),
            Error::ChainPem
        );
        assert_eq!(
            ec.with_certificate_chain(None, "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n")
                .unwrap_err(),
            Error::ChainEmpty
        );
        assert_eq!(
            ec.with_certificate_chain(
                None,
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            )
            .unwrap_err(),
            Error::ChainCertificate
        );
    }
}
