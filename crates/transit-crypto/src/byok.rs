//! Bring your own key: Vault's import ciphertext and the keys it creates.
//!
//! `ciphertext = base64( RSA-OAEP(wrapping key, hash H, MGF1 H, no label)(E)
//! || AES-KWP(E, material) )` with an ephemeral AES-256 key `E` and the
//! mount's RSA-4096 wrapping key. The material is the raw key of a
//! symmetric or `hmac` key, or PKCS#8 DER of a private key; a public key
//! alone comes as a PEM `PUBLIC KEY` in `public_key`, unwrapped.

use std::sync::Arc;

use aes_kw::KeyInit;
use keyring_core::{KeyRing, Timestamp};
use zeroize::Zeroizing;

use crate::asym::{AsymmetricKey, OaepHash};
use crate::key_type::Algorithm;
use crate::material::{Asym, KeyMaterial, VersionMaterial};
use crate::policy::{FORMAT, RotatePeriod};
use crate::{Error, Kdf, KeyName, KeyType, Policy, SecretBytes, gobase64};

/// The size of the wrapped ephemeral key: one RSA-4096 block.
const WRAPPED_KEY_LEN: usize = 512;

/// `hash_function` of an import (`SHA256` by default; case-insensitive,
/// no hyphen).
pub fn parse_hash_function(name: &str) -> Result<OaepHash, Error> {
    match name.to_ascii_uppercase().as_str() {
        "SHA1" => Ok(OaepHash::Sha1),
        "SHA224" => Err(Error::HashFunctionUnsupported),
        "SHA256" => Ok(OaepHash::Sha256),
        "SHA384" => Ok(OaepHash::Sha384),
        "SHA512" => Ok(OaepHash::Sha512),
        _ => Err(Error::UnknownHashFunction(name.to_string())),
    }
}

/// What an import brings.
#[derive(Debug)]
pub enum ImportMaterial {
    /// The unwrapped key material (raw bytes or PKCS#8 DER).
    Private(Zeroizing<Vec<u8>>),
    /// A PEM `PUBLIC KEY`.
    Public(String),
}

/// The mount's wrapping key (an RSA-4096 key pair).
#[derive(Debug)]
pub struct WrappingKey(pub(crate) Arc<AsymmetricKey>);

impl WrappingKey {
    /// A new RSA-4096 wrapping key (slow: run it on a blocking thread).
    pub fn generate() -> Result<WrappingKey, Error> {
        AsymmetricKey::generate(KeyType::Rsa4096).map(|k| WrappingKey(Arc::new(k)))
    }

    /// The public key as `GET wrapping_key` answers it.
    pub fn public_pem(&self) -> String {
        self.0.public_key_text()
    }

    /// Unwraps an import ciphertext (base64) into the key material, with
    /// Vault's checks and texts.
    pub fn unwrap(&self, ciphertext: &str, hash: OaepHash) -> Result<Zeroizing<Vec<u8>>, Error> {
        let raw = decode_ciphertext(ciphertext)?;
        self.unwrap_raw(&raw, hash)
    }

    /// [`Self::unwrap`] of a decoded ciphertext (see [`decode_ciphertext`]).
    pub fn unwrap_raw(&self, raw: &[u8], hash: OaepHash) -> Result<Zeroizing<Vec<u8>>, Error> {
        if raw.len() <= WRAPPED_KEY_LEN {
            return Err(Error::ImportCiphertextTooShort);
        }
        let (wrapped_key, wrapped_material) = raw.split_at(WRAPPED_KEY_LEN);
        let ephemeral = self
            .0
            .rsa_decrypt(wrapped_key, hash)
            .map_err(|_| Error::ImportDecryption)?;
        if ephemeral.len() != 32 {
            return Err(Error::EphemeralKeySize);
        }
        kwp_unwrap(&ephemeral, wrapped_material)
    }

    /// Stored form: PKCS#8 DER.
    pub(crate) fn to_stored(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let parts = self.0.stored();
        parts
            .private
            .map(|p| Zeroizing::new(p.expose().to_vec()))
            .ok_or(Error::RsaNoPrivateKey)
    }

    /// From its stored form.
    pub(crate) fn from_stored(pkcs8: &[u8]) -> Result<WrappingKey, String> {
        let probe = AsymmetricKey::import_private(KeyType::Rsa4096, pkcs8)?;
        Ok(WrappingKey(Arc::new(probe)))
    }
}

/// The bytes of an import ciphertext: base64, and longer than the wrapped
/// ephemeral key (checked before the wrapping key is touched, as Vault does).
pub fn decode_ciphertext(ciphertext: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let raw = Zeroizing::new(
        gobase64::decode(ciphertext).map_err(|e| Error::ImportBase64(e.to_string()))?,
    );
    if raw.len() <= WRAPPED_KEY_LEN {
        return Err(Error::ImportCiphertextTooShort);
    }
    Ok(raw)
}

/// AES-KWP (RFC 5649) unwrap with Tink's size rules and texts, which Vault
/// uses: 24..=8200 bytes, a multiple of 8.
pub fn kwp_unwrap(key: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    if wrapped.len() < 24 {
        return Err(Error::Kwp("wrapped key size too small"));
    }
    if wrapped.len() > 8200 {
        return Err(Error::Kwp("wrapped key size too large"));
    }
    if !wrapped.len().is_multiple_of(8) {
        return Err(Error::Kwp("wrapped key size must be a multiple of 8 bytes"));
    }
    let kwp = aes_kw::KwpAes256::new_from_slice(key).map_err(|_| Error::EphemeralKeySize)?;
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let n = kwp
        .unwrap_key(wrapped, &mut out)
        .map_err(|_| Error::Kwp("unwrap failed integrity check"))?
        .len();
    out.truncate(n);
    Ok(out)
}

/// AES-KWP wrap (tests, benchmarks, and a client-side helper).
pub fn kwp_wrap(key: &[u8], material: &[u8]) -> Result<Vec<u8>, Error> {
    let kwp = aes_kw::KwpAes256::new_from_slice(key).map_err(|_| Error::EphemeralKeySize)?;
    let mut out = vec![0u8; material.len() + 16];
    let n = kwp
        .wrap_key(material, &mut out)
        .map_err(|_| Error::Kwp("key size to wrap too small"))?
        .len();
    out.truncate(n);
    Ok(out)
}

/// `byok-export/:destination/:source(/:version)`: each version of `source`
/// (the working set, or `version`: a number, `v<n>` or `latest`) as an
/// import ciphertext for the latest version of `destination`, an RSA key
/// (typically another server's wrapping key, imported as a public key):
/// the same format `keys/:name/import` reads, with `hash` for RSA-OAEP.
/// Symmetric and `hmac` keys go as raw bytes, private keys as PKCS#8.
/// Checks in OpenBao's order.
pub fn byok_export(
    destination: Option<&Policy>,
    source: Option<&Policy>,
    version: Option<&str>,
    hash: &str,
) -> Result<std::collections::BTreeMap<u32, String>, Error> {
    let destination = destination.ok_or(Error::ByokNoDestination)?;
    let source = source.ok_or(Error::ByokNoSource)?;
    if !source.exportable() {
        return Err(Error::ByokNotExportable);
    }
    let versions: Vec<u32> = match version {
        None | Some("") => source.ring.working_set().map(|(v, _)| v.get()).collect(),
        Some("latest") => vec![source.latest_version()],
        Some(text) => {
            let n: i64 = text
                .strip_prefix('v')
                .unwrap_or(text)
                .parse()
                .map_err(|_| Error::InvalidExportVersion)?;
            if n < i64::from(source.min_decryption_version()) {
                return Err(Error::ExportVersionTooOld);
            }
            let v = u32::try_from(n).map_err(|_| Error::ExportVersionMissing)?;
            if source.ring.get(v).is_none() {
                return Err(Error::ExportVersionMissing);
            }
            vec![v]
        }
    };
    let mut out = std::collections::BTreeMap::new();
    for v in versions {
        let entry = source.ring.get(v).ok_or(Error::ExportVersionMissing)?;
        let material = match entry.material.key.asymmetric() {
            None => Zeroizing::new(entry.material.key.symmetric().expose().to_vec()),
            Some(k) => k.pkcs8_der().ok_or(Error::ByokNoPrivateKey(v))?,
        };
        // The hash is checked per version, as OpenBao does (so an empty
        // key set never sees it).
        let hash = parse_hash_function(hash)?;
        out.insert(v, wrap_for(destination, &material, hash)?);
    }
    Ok(out)
}

/// The import ciphertext of `material` for the latest version of the RSA
/// key `destination`.
fn wrap_for(destination: &Policy, material: &[u8], hash: OaepHash) -> Result<String, Error> {
    if !destination.key_type().supports_signing() {
        return Err(Error::ByokDestinationType(destination.key_type()));
    }
    let rsa = destination
        .ring
        .get(destination.latest_version())
        .and_then(|e| e.material.key.asymmetric())
        .filter(|k| k.key_type().is_rsa())
        .ok_or(Error::ByokDestinationNotRsa)?;
    let ephemeral = SecretBytes::random(32)?;
    let mut out = rsa.rsa_encrypt_oaep(ephemeral.expose(), hash)?;
    out.extend_from_slice(&kwp_wrap(ephemeral.expose(), material)?);
    Ok(gobase64::encode(&out))
}

/// The settings of `POST keys/:name/import`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// The type.
    pub key_type: KeyType,
    /// Per-request key derivation.
    pub derived: bool,
    /// Exportable.
    pub exportable: bool,
    /// Plaintext backups allowed.
    pub allow_plaintext_backup: bool,
    /// Automatic rotation (needs `allow_rotation`).
    pub auto_rotate_period: RotatePeriod,
    /// The engine may rotate the key.
    pub allow_rotation: bool,
}

impl ImportOptions {
    /// The type named `name` (case-insensitive, as Vault's import reads it).
    pub fn parse_type(name: &str) -> Result<KeyType, Error> {
        KeyType::parse(&name.to_ascii_lowercase())
            .map_err(|_| Error::ImportUnknownKeyType(name.to_string()))
    }
}

/// The key material of `material` for a key of `key_type`, with Vault's
/// checks (`ImportPublicOrPrivate`). The error is Vault's text without the
/// `error importing key: ` that import (not import_version) puts first.
fn key_material(
    key_type: KeyType,
    derived: bool,
    material: &ImportMaterial,
) -> Result<KeyMaterial, String> {
    if key_type == KeyType::Ed25519 && derived && matches!(material, ImportMaterial::Public(_)) {
        return Err("unable to import only public key for derived Ed25519 key: imported key should not be an Ed25519 key pair but is instead an HKDF key".into());
    }
    match (key_type.algorithm(), material) {
        (Algorithm::Aead(_) | Algorithm::Hmac, ImportMaterial::Private(bytes)) => {
            let ok = match key_type.algorithm() {
                Algorithm::Aead(a) => bytes.len() == a.key_len(),
                _ => (32..=512).contains(&bytes.len()),
            };
            if !ok {
                return Err(format!(
                    "invalid key size {} bytes for key type {key_type}",
                    bytes.len()
                ));
            }
            Ok(KeyMaterial::Symmetric(SecretBytes::new(bytes.to_vec())))
        }
        (Algorithm::Aead(_) | Algorithm::Hmac, ImportMaterial::Public(_)) => {
            Err("provided type does not support public_key import".into())
        }
        (_, ImportMaterial::Private(der)) => AsymmetricKey::import_private(key_type, der)
            .map(|k| KeyMaterial::Asymmetric(Asym(Arc::new(k)))),
        (_, ImportMaterial::Public(pem)) => AsymmetricKey::import_public(key_type, pem)
            .map(|k| KeyMaterial::Asymmetric(Asym(Arc::new(k)))),
    }
}

impl Policy {
    /// A new imported key: version 1 is `material`.
    pub fn import_new(
        name: KeyName,
        options: &ImportOptions,
        material: &ImportMaterial,
        now: Timestamp,
    ) -> Result<Policy, Error> {
        let key_type = options.key_type;
        if options.derived && !key_type.supports_derivation() {
            return Err(Error::DerivationNotSupported(key_type));
        }
        let key = key_material(key_type, options.derived, material).map_err(Error::ImportFailed)?;
        let key_size = match (&key, key_type) {
            (KeyMaterial::Symmetric(k), KeyType::Hmac) => k.len() as u32,
            _ => 0,
        };
        let version = VersionMaterial::imported(key_type, key)?;
        let policy = Policy {
            format: FORMAT,
            name,
            key_type,
            derived: options.derived,
            // Vault's import leaves the KDF at its zero value: derived
            // imported keys use the legacy counter-mode KDF.
            kdf: if options.derived {
                Kdf::HmacSha256Counter
            } else {
                Kdf::HkdfSha256
            },
            convergent: false,
            exportable: options.exportable,
            allow_plaintext_backup: options.allow_plaintext_backup,
            deletion_allowed: false,
            auto_rotate_period: options.auto_rotate_period,
            key_size,
            imported: true,
            allow_imported_key_rotation: options.allow_rotation,
            backup_info: None,
            restore_info: None,
            ring: KeyRing::new(version, now),
        };
        Ok(policy)
    }

    /// `import_version`: a new version of `material`, or (with a private
    /// key) the private half of a public-only version: `version` when
    /// given, else the latest when it lacks one and the key pair matches.
    pub fn with_imported_version(
        &self,
        material: &ImportMaterial,
        version: Option<i64>,
        now: Timestamp,
    ) -> Result<Policy, Error> {
        if !self.imported {
            return Err(Error::ImportVersionNotImported);
        }
        if self.convergent {
            return Err(Error::ImportVersionConvergent);
        }
        let private = matches!(material, ImportMaterial::Private(_));
        if let Some(v) = version {
            let v = u32::try_from(v).map_err(|_| Error::NoSuchKeyVersion)?;
            let entry = self.ring.get(v).ok_or(Error::NoSuchKeyVersion)?;
            let existing = entry
                .material
                .key
                .asymmetric()
                .ok_or(Error::ImportVersionRefused(
                    "provided type does not support importing key versions",
                ))?;
            if !existing.has_private() && !private {
                return Err(Error::ImportVersionRefused(
                    "cannot add a public key to a key version that already has a public key set",
                ));
            }
            if existing.has_private() {
                return Err(Error::ImportVersionRefused(
                    "private key imported, key version cannot be updated",
                ));
            }
            return self.fill_private(v, material);
        }
        // A private key for a public-only latest version fills it in.
        let latest = self.latest_version();
        let latest_public_only = self
            .ring
            .get(latest)
            .and_then(|e| e.material.key.asymmetric())
            .is_some_and(|k| !k.has_private());
        if latest_public_only
            && private
            && let Ok(next) = self.fill_private(latest, material)
        {
            return Ok(next);
        }
        let key = key_material(self.key_type, self.derived, material)
            .map_err(Error::ImportVersionFailed)?;
        let version = VersionMaterial::imported(self.key_type, key)?;
        let mut next = self.clone();
        next.ring
            .rotate(version, now)
            .map_err(|e| Error::Storage(e.to_string()))?;
        Ok(next)
    }

    fn fill_private(&self, version: u32, material: &ImportMaterial) -> Result<Policy, Error> {
        let key = key_material(self.key_type, self.derived, material)
            .map_err(Error::ImportVersionFailed)?;
        let entry = self.ring.get(version).ok_or(Error::NoSuchKeyVersion)?;
        let (Some(new), Some(old)) = (key.asymmetric(), entry.material.key.asymmetric()) else {
            return Err(Error::ImportVersionRefused(
                "provided type does not support importing key versions",
            ));
        };
        if !new.same_public(old) {
            return Err(Error::ImportVersionRefused(
                "cannot import key, key pair does not match",
            ));
        }
        let mut next = self.clone();
        if let Some(e) = next.ring.get_mut(version) {
            e.material.key = key;
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa as lrsa;

    fn wrap_for(wk: &WrappingKey, material: &[u8], hash: &'static lrsa::OaepAlgorithm) -> String {
        let spki = crate::der_lite::pem_decode(&wk.public_pem(), "PUBLIC KEY").unwrap();
        let public =
            lrsa::OaepPublicEncryptingKey::new(lrsa::PublicEncryptingKey::from_der(&spki).unwrap())
                .unwrap();
        let eph = [9u8; 32];
        let mut ct = vec![0u8; 512];
        public.encrypt(hash, &eph, &mut ct, None).unwrap();
        ct.extend_from_slice(&kwp_wrap(&eph, material).unwrap());
        gobase64::encode(&ct)
    }

    fn name(s: &str) -> KeyName {
        KeyName::parse(s).unwrap()
    }

    fn options(key_type: KeyType) -> ImportOptions {
        ImportOptions {
            key_type,
            derived: false,
            exportable: true,
            allow_plaintext_backup: false,
            auto_rotate_period: RotatePeriod::OFF,
            allow_rotation: false,
        }
    }

    #[test]
    fn unwrap_every_hash_and_errors() {
        let wk = WrappingKey::generate().unwrap();
        let key = [7u8; 32];
        for (name, alg) in [
            ("sha1", &lrsa::OAEP_SHA1_MGF1SHA1),
            ("SHA256", &lrsa::OAEP_SHA256_MGF1SHA256),
            ("Sha384", &lrsa::OAEP_SHA384_MGF1SHA384),
            ("SHA512", &lrsa::OAEP_SHA512_MGF1SHA512),
        ] {
            let ct = wrap_for(&wk, &key, alg);
            let hash = parse_hash_function(name).unwrap();
            assert_eq!(&wk.unwrap(&ct, hash).unwrap()[..], &key);
        }
        assert_eq!(
            parse_hash_function("SHA-256").unwrap_err().to_string(),
            "unknown hash function: SHA-256"
        );
        let e = |ct: &str| wk.unwrap(ct, OaepHash::Sha256).unwrap_err().to_string();
        assert_eq!(e("###"), "illegal base64 data at input byte 0");
        assert_eq!(
            e(&gobase64::encode(&[1u8; 100])),
            "provided ciphertext is too short"
        );
        assert_eq!(
            e(&gobase64::encode(&[1u8; 600])),
            "crypto/rsa: decryption error"
        );
        // Wrapped under SHA-1, read as SHA-256.
        assert_eq!(
            wk.unwrap(
                &wrap_for(&wk, &key, &lrsa::OAEP_SHA1_MGF1SHA1),
                OaepHash::Sha256
            )
            .unwrap_err(),
            Error::ImportDecryption
        );
        // A bad KWP blob.
        let mut raw =
            gobase64::decode(&wrap_for(&wk, &key, &lrsa::OAEP_SHA256_MGF1SHA256)).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert_eq!(
            e(&gobase64::encode(&raw)),
            "kwp: unwrap failed integrity check"
        );
        raw.truncate(512 + 16);
        assert_eq!(
            e(&gobase64::encode(&raw)),
            "kwp: wrapped key size too small"
        );
    }

    #[test]
    fn import_rules() {
        let now = Timestamp::from_unix_secs(5);
        let aes = ImportMaterial::Private(Zeroizing::new(vec![1u8; 32]));
        let p = Policy::import_new(name("a"), &options(KeyType::Aes256Gcm96), &aes, now).unwrap();
        assert!(p.imported() && p.latest_version() == 1);
        let short = ImportMaterial::Private(Zeroizing::new(vec![1u8; 16]));
        assert_eq!(
            Policy::import_new(name("a"), &options(KeyType::Aes256Gcm96), &short, now)
                .unwrap_err()
                .to_string(),
            "error importing key: invalid key size 16 bytes for key type aes256-gcm96"
        );
        assert_eq!(
            p.with_imported_version(&short, None, now)
                .unwrap_err()
                .to_string(),
            "invalid key size 16 bytes for key type aes256-gcm96"
        );
        let pem = ImportMaterial::Public("-----BEGIN PUBLIC KEY-----".into());
        assert_eq!(
            Policy::import_new(name("a"), &options(KeyType::Aes256Gcm96), &pem, now)
                .unwrap_err()
                .to_string(),
            "error importing key: provided type does not support public_key import"
        );
        let hmac = ImportMaterial::Private(Zeroizing::new(vec![3u8; 48]));
        let h = Policy::import_new(name("h"), &options(KeyType::Hmac), &hmac, now).unwrap();
        assert_eq!(h.key_size(), 48);
        // Rotation of an imported key that may not rotate.
        assert_eq!(
            p.rotated(now).unwrap_err().to_string(),
            "imported key a does not allow rotation within Vault"
        );
        let two = p.with_imported_version(&aes, None, now).unwrap();
        assert_eq!(two.latest_version(), 2);
    }

    #[test]
    fn asymmetric_imports_and_fill_in() {
        let now = Timestamp::from_unix_secs(5);
        // A P-256 key pair as PKCS#8, from aws-lc-rs.
        let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        )
        .unwrap()
        .to_pkcs8v1()
        .unwrap();
        let private = ImportMaterial::Private(Zeroizing::new(pkcs8.as_ref().to_vec()));
        let p = Policy::import_new(name("e"), &options(KeyType::EcdsaP256), &private, now).unwrap();
        let public_pem = p
            .ring
            .get(1)
            .unwrap()
            .material
            .key
            .asymmetric()
            .unwrap()
            .public_key_text();
        assert_eq!(
            Policy::import_new(name("e"), &options(KeyType::EcdsaP384), &private, now)
                .unwrap_err()
                .to_string(),
            "error importing key: invalid curve: expected P-384, got P-256"
        );
        assert_eq!(
            Policy::import_new(name("e"), &options(KeyType::Rsa2048), &private, now)
                .unwrap_err()
                .to_string(),
            "error importing key: invalid key type: expected rsa-2048, got *ecdsa.PrivateKey"
        );
        // Public first, then the private half fills the same version.
        let public = ImportMaterial::Public(public_pem);
        let pubonly =
            Policy::import_new(name("e"), &options(KeyType::EcdsaP256), &public, now).unwrap();
        let signing = crate::sign::SignOptions::default();
        assert_eq!(
            pubonly.sign(0, b"", b"m", &signing).unwrap_err(),
            Error::SignNoPrivateKey
        );
        let filled = pubonly.with_imported_version(&private, None, now).unwrap();
        assert_eq!(filled.latest_version(), 1);
        assert!(filled.sign(0, b"", b"m", &signing).is_ok());
        // A private key for a version that has one is refused.
        assert_eq!(
            filled
                .with_imported_version(&private, Some(1), now)
                .unwrap_err()
                .to_string(),
            "private key imported, key version cannot be updated"
        );
        // A different key pair for a public-only version does not match.
        let other = aws_lc_rs::signature::EcdsaKeyPair::generate(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        )
        .unwrap()
        .to_pkcs8v1()
        .unwrap();
        let other = ImportMaterial::Private(Zeroizing::new(other.as_ref().to_vec()));
        assert_eq!(
            pubonly
                .with_imported_version(&other, Some(1), now)
                .unwrap_err()
                .to_string(),
            "cannot import key, key pair does not match"
        );
        // Without a version a mismatching private key becomes version 2.
        assert_eq!(
            pubonly
                .with_imported_version(&other, None, now)
                .unwrap()
                .latest_version(),
            2
        );

        // RSA: size checks and the RSASSA-PSS form go through PKCS#1.
        let rsa = lrsa::KeyPair::generate(lrsa::KeySize::Rsa2048).unwrap();
        let der = ImportMaterial::Private(Zeroizing::new(rsa.as_der().unwrap().as_ref().to_vec()));
        assert_eq!(
            Policy::import_new(name("r"), &options(KeyType::Rsa3072), &der, now)
                .unwrap_err()
                .to_string(),
            "error importing key: invalid key size: expected 384 bytes, got 256 bytes"
        );
        assert!(Policy::import_new(name("r"), &options(KeyType::Rsa2048), &der, now).is_ok());
    }

    #[test]
    fn ed25519_pkcs8_forms() {
        let now = Timestamp::from_unix_secs(5);
        let seed = [4u8; 32];
        // RFC 8410.
        let mut rfc = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        rfc.extend_from_slice(&seed);
        let a = Policy::import_new(
            name("d"),
            &options(KeyType::Ed25519),
            &ImportMaterial::Private(Zeroizing::new(rfc)),
            now,
        )
        .unwrap();
        // NSS: ecPublicKey with the Ed25519 curve OID and an ECPrivateKey.
        let ec_priv =
            crate::der_lite::sequence(&[&[0x02, 0x01, 0x01], &crate::der_lite::tlv(0x04, &seed)]);
        let alg = crate::der_lite::sequence(&[
            &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
            &[
                0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01,
            ],
        ]);
        let nss = crate::der_lite::sequence(&[
            &[0x02, 0x01, 0x00],
            &alg,
            &crate::der_lite::tlv(0x04, &ec_priv),
        ]);
        let b = Policy::import_new(
            name("d"),
            &options(KeyType::Ed25519),
            &ImportMaterial::Private(Zeroizing::new(nss)),
            now,
        )
        .unwrap();
        let pk = |p: &Policy| {
            p.ring
                .get(1)
                .unwrap()
                .material
                .key
                .asymmetric()
                .unwrap()
                .public_key_text()
        };
        assert_eq!(pk(&a), pk(&b));
        let mut derived = options(KeyType::Ed25519);
        derived.derived = true;
        assert_eq!(
            Policy::import_new(
                name("d"),
                &derived,
                &ImportMaterial::Public(String::new()),
                now
            )
            .unwrap_err()
            .to_string(),
            "error importing key: unable to import only public key for derived Ed25519 key: imported key should not be an Ed25519 key pair but is instead an HKDF key"
        );
    }

    mod properties {
        use std::sync::OnceLock;

        use proptest::prelude::*;

        use super::*;

        /// One wrapping key for every case (RSA-4096 generation is slow).
        fn wrapping_key() -> &'static WrappingKey {
            static KEY: OnceLock<WrappingKey> = OnceLock::new();
            KEY.get_or_init(|| WrappingKey::generate().unwrap())
        }

        /// A valid P-256 PKCS#8 key, to mutate.
        fn p256_pkcs8() -> &'static [u8] {
            static DER: OnceLock<Vec<u8>> = OnceLock::new();
            DER.get_or_init(|| {
                aws_lc_rs::signature::EcdsaKeyPair::generate(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                )
                .unwrap()
                .to_pkcs8v1()
                .unwrap()
                .as_ref()
                .to_vec()
            })
        }

        const ASYMMETRIC: [KeyType; 7] = [
            KeyType::Ed25519,
            KeyType::EcdsaP256,
            KeyType::EcdsaP384,
            KeyType::EcdsaP521,
            KeyType::Rsa2048,
            KeyType::Rsa3072,
            KeyType::Rsa4096,
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// Any ciphertext text is refused with an error, never a panic.
            #[test]
            fn arbitrary_ciphertext_text_is_an_error(text in ".{0,800}") {
                prop_assert!(wrapping_key().unwrap(&text, OaepHash::Sha256).is_err());
            }

            /// Random bytes of any length (also past the RSA block) never
            /// unwrap: RSA-OAEP refuses them.
            #[test]
            fn random_ciphertext_bytes_never_unwrap(
                bytes in proptest::collection::vec(any::<u8>(), 0..1200),
                which in 0usize..4,
            ) {
                let hash = [OaepHash::Sha1, OaepHash::Sha256, OaepHash::Sha384, OaepHash::Sha512][which];
                let err = wrapping_key().unwrap(&gobase64::encode(&bytes), hash).unwrap_err();
                prop_assert!(matches!(err, Error::ImportCiphertextTooShort | Error::ImportDecryption), "{err}");
            }

            /// A valid wrapped key with one bit flipped anywhere is refused.
            #[test]
            fn a_flipped_bit_is_refused(material in proptest::collection::vec(any::<u8>(), 16..96), at in any::<usize>(), bit in 0u8..8) {
                let wk = wrapping_key();
                let mut raw = gobase64::decode(&wrap_for(wk, &material, &lrsa::OAEP_SHA256_MGF1SHA256)).unwrap();
                let at = at % raw.len();
                raw[at] ^= 1 << bit;
                prop_assert!(wk.unwrap_raw(&raw, OaepHash::Sha256).is_err());
            }

            /// AES-KWP of arbitrary bytes under a fixed key: an error, never a
            /// panic (integrity check or Tink's size rules).
            #[test]
            fn arbitrary_kwp_blobs_are_errors(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                prop_assert!(kwp_unwrap(&[5u8; 32], &bytes).is_err());
            }

            /// KWP round trip of any material of a size Tink accepts.
            #[test]
            fn kwp_round_trips(material in proptest::collection::vec(any::<u8>(), 16..512)) {
                let wrapped = kwp_wrap(&[6u8; 32], &material).unwrap();
                prop_assert_eq!(&kwp_unwrap(&[6u8; 32], &wrapped).unwrap()[..], &material[..]);
            }

            /// Random bytes as the private key of an asymmetric import are an
            /// error, as is random text as its public key.
            #[test]
            fn random_key_material_is_refused(
                bytes in proptest::collection::vec(any::<u8>(), 0..200),
                text in ".{0,200}",
                which in 0usize..7,
            ) {
                let now = Timestamp::from_unix_secs(5);
                let opts = options(ASYMMETRIC[which]);
                let private = ImportMaterial::Private(Zeroizing::new(bytes));
                prop_assert!(Policy::import_new(name("p"), &opts, &private, now).is_err());
                let public = ImportMaterial::Public(text);
                prop_assert!(Policy::import_new(name("p"), &opts, &public, now).is_err());
            }

            /// A mutated PKCS#8 key never panics; when it still parses, the
            /// key it gives signs and verifies its own signature.
            #[test]
            fn mutated_pkcs8_is_refused_or_usable(at in any::<usize>(), value in any::<u8>(), cut in any::<bool>()) {
                let now = Timestamp::from_unix_secs(5);
                let mut der = p256_pkcs8().to_vec();
                let at = at % der.len();
                if cut {
                    der.truncate(at);
                } else {
                    der[at] = value;
                }
                let material = ImportMaterial::Private(Zeroizing::new(der));
                if let Ok(p) = Policy::import_new(name("m"), &options(KeyType::EcdsaP256), &material, now) {
                    let opts = crate::sign::SignOptions::default();
                    let signed = p.sign(0, b"", b"message", &opts).unwrap();
                    prop_assert!(p.verify_signature(b"", b"message", &signed.signature, &opts).unwrap());
                }
            }
        }
    }
}
