//! `export/:type/:name(/:version)`: key material of exportable keys.

use std::collections::BTreeMap;

use crate::{Error, Policy, gobase64};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportType {
    /// The encryption key of each version.
    EncryptionKey,
    /// The signing key (asymmetric types, issue 4).
    SigningKey,
    /// The HMAC key of each version.
    HmacKey,
    /// The public key (asymmetric types; needs no `exportable`).
    PublicKey,
    /// An imported certificate chain (asymmetric types).
    CertificateChain,
}

impl ExportType {
    /// Vault's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportType::EncryptionKey => "encryption-key",
            ExportType::SigningKey => "signing-key",
            ExportType::HmacKey => "hmac-key",
            ExportType::PublicKey => "public-key",
            ExportType::CertificateChain => "certificate-chain",
        }
    }

    /// The type named `name`.
    pub fn parse(name: &str) -> Result<ExportType, Error> {
        [
            ExportType::EncryptionKey,
            ExportType::SigningKey,
            ExportType::HmacKey,
            ExportType::PublicKey,
            ExportType::CertificateChain,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
        .ok_or_else(|| Error::InvalidExportType(name.to_string()))
    }
}

impl Policy {
    /// The exported material by version. `version` is the URL's last
    /// segment: absent for the whole working set, `latest`, or a number
    /// (optionally `v`-prefixed). Checks run in Vault's order.
    pub fn export(
        &self,
        export_type: ExportType,
        version: Option<&str>,
    ) -> Result<BTreeMap<u32, String>, Error> {
        let needs_exportable = !matches!(
            export_type,
            ExportType::PublicKey | ExportType::CertificateChain
        );
        if needs_exportable && !self.exportable {
            return Err(Error::NotExportable);
        }
        match export_type {
            ExportType::EncryptionKey if !self.key_type.supports_encryption() => {
                return Err(Error::ExportEncryptionUnsupported);
            }
            ExportType::SigningKey if !self.key_type.supports_signing() => {
                return Err(Error::ExportSigningUnsupported);
            }
            ExportType::CertificateChain if !self.key_type.supports_signing() => {
                return Err(Error::ExportCertificateUnsupported);
            }
            _ => {}
        }
        let versions: Vec<u32> = match version {
            None | Some("") => self.versions().map(|(v, _)| v.get()).collect(),
            Some("latest") => vec![self.latest_version()],
            Some(text) => {
                let n: i64 = text
                    .strip_prefix('v')
                    .unwrap_or(text)
                    .parse()
                    .map_err(|_| Error::InvalidExportVersion)?;
                if n < i64::from(self.min_decryption_version()) {
                    return Err(Error::ExportVersionTooOld);
                }
                if n > i64::from(self.latest_version()) {
                    return Err(Error::ExportVersionMissing);
                }
                vec![n as u32]
            }
        };
        let mut out = BTreeMap::new();
        for v in versions {
            let entry = self.ring.get(v).ok_or(Error::ExportVersionMissing)?;
            let asym = entry.material.key.asymmetric();
            let mismatch = || Error::ExportTypeMismatch {
                key_type: self.key_type,
                export_type: export_type.as_str(),
            };
            let material = match (export_type, asym) {
                (ExportType::EncryptionKey, None) => {
                    gobase64::encode(entry.material.key.symmetric().expose())
                }
                (ExportType::HmacKey, _) => gobase64::encode(entry.material.hmac_key.expose()),
                (ExportType::EncryptionKey | ExportType::SigningKey, Some(a)) => {
                    a.private_key_export().to_string()
                }
                (ExportType::PublicKey, Some(a)) => a.public_key_export(),
                (ExportType::CertificateChain, Some(_)) => {
                    if entry.material.certificate_chain.is_empty() {
                        return Err(Error::NoCertificateChain);
                    }
                    entry.material.certificate_chain.pem()
                }
                _ => return Err(mismatch()),
            };
            out.insert(v, material);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigChange, KeyName, KeyOptions, KeyType};
    use keyring_core::Timestamp;

    fn key(ty: KeyType, exportable: bool) -> Policy {
        let mut o = KeyOptions::new(ty);
        o.exportable = exportable;
        o.key_size = if ty == KeyType::Hmac { 32 } else { 0 };
        let mut p = Policy::generate(
            KeyName::parse("k").unwrap(),
            &o,
            Timestamp::from_unix_secs(1),
        )
        .unwrap();
        for i in 0..2 {
            p = p.rotated(Timestamp::from_unix_secs(2 + i)).unwrap();
        }
        p
    }

    #[test]
    fn observed_openbao_answers() {
        let nex = key(KeyType::Aes256Gcm96, false);
        let e = |p: &Policy, t, v| p.export(t, v).unwrap_err().to_string();
        assert_eq!(
            e(&nex, ExportType::PublicKey, None),
            "unknown key type aes256-gcm96 for export type public-key"
        );
        assert_eq!(
            e(&nex, ExportType::CertificateChain, None),
            "certificate chain not supported for keys that do not support signing"
        );
        assert_eq!(
            e(&nex, ExportType::SigningKey, None),
            "private key material is not exportable"
        );
        assert_eq!(
            e(&nex, ExportType::EncryptionKey, Some("abc")),
            "private key material is not exportable"
        );
        let ex = key(KeyType::Aes256Gcm96, true);
        assert_eq!(
            e(&ex, ExportType::SigningKey, None),
            "signing not supported for the key"
        );
        assert_eq!(
            e(&ex, ExportType::EncryptionKey, Some("0")),
            "version for export is below minimum decryption version"
        );
        assert_eq!(
            e(&ex, ExportType::EncryptionKey, Some("-1")),
            "version for export is below minimum decryption version"
        );
        assert_eq!(
            e(&ex, ExportType::EncryptionKey, Some("V1")),
            "invalid key version"
        );
        assert_eq!(
            e(&ex, ExportType::EncryptionKey, Some("1/x")),
            "invalid key version"
        );
        assert_eq!(
            e(&ex, ExportType::EncryptionKey, Some("7")),
            "version does not exist or cannot be found"
        );
        assert_eq!(
            ex.export(ExportType::EncryptionKey, Some("v2"))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            ex.export(ExportType::EncryptionKey, Some("+2"))
                .unwrap()
                .len(),
            1
        );
        let latest = ex.export(ExportType::HmacKey, Some("latest")).unwrap();
        assert_eq!(latest.keys().copied().collect::<Vec<_>>(), vec![3]);
        let all = ex.export(ExportType::EncryptionKey, None).unwrap();
        assert_eq!(all.len(), 3);
        // The encryption key is not the HMAC key.
        let hmac = ex.export(ExportType::HmacKey, None).unwrap();
        assert!(all.iter().all(|(v, k)| hmac[v] != *k));
        let hm = key(KeyType::Hmac, true);
        assert_eq!(
            e(&hm, ExportType::EncryptionKey, None),
            "encryption not supported for the key"
        );
    }

    #[test]
    fn asymmetric_exports() {
        let ed = key(KeyType::Ed25519, true);
        let signing = ed.export(ExportType::SigningKey, Some("1")).unwrap();
        assert_eq!(gobase64::decode(&signing[&1]).unwrap().len(), 64);
        let public = ed.export(ExportType::PublicKey, Some("latest")).unwrap();
        assert_eq!(gobase64::decode(&public[&3]).unwrap().len(), 32);
        assert_eq!(
            ed.export(ExportType::EncryptionKey, None)
                .unwrap_err()
                .to_string(),
            "encryption not supported for the key"
        );
        let ec = key(KeyType::EcdsaP384, false);
        let public = ec.export(ExportType::PublicKey, None).unwrap();
        assert!(public[&1].starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(public[&1].ends_with("-----END PUBLIC KEY-----"));
        assert_eq!(
            ec.export(ExportType::SigningKey, None)
                .unwrap_err()
                .to_string(),
            "private key material is not exportable"
        );
        let ec = key(KeyType::EcdsaP256, true);
        let private = ec.export(ExportType::SigningKey, Some("2")).unwrap();
        assert!(private[&2].starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        assert!(!private[&2].ends_with('\n'));
        let rsa = key(KeyType::Rsa2048, true);
        let enc = rsa.export(ExportType::EncryptionKey, Some("1")).unwrap();
        assert!(
            enc[&1].starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
                && enc[&1].ends_with("-----\n")
        );
        assert_eq!(enc, rsa.export(ExportType::SigningKey, Some("1")).unwrap());
        let public = rsa.export(ExportType::PublicKey, Some("1")).unwrap();
        assert!(public[&1].ends_with("-----END PUBLIC KEY-----\n"));
        assert_eq!(
            rsa.export(ExportType::CertificateChain, Some("1"))
                .unwrap_err()
                .to_string(),
            "selected key version does not have a certificate chain imported"
        );
    }

    #[test]
    fn only_the_working_set() {
        let ex = key(KeyType::ChaCha20Poly1305, true);
        let ex = ex
            .configured(&ConfigChange {
                min_decryption_version: Some(3),
                ..Default::default()
            })
            .unwrap()
            .policy;
        let all = ex.export(ExportType::EncryptionKey, None).unwrap();
        assert_eq!(all.keys().copied().collect::<Vec<_>>(), vec![3]);
    }
}
