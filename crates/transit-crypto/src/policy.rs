//! A key policy: one named key with its settings and its ring of versions.
//!
//! A [`Policy`] is an immutable snapshot. Every change (rotate, config,
//! trim, backup bookkeeping) builds a new policy from the old one; the engine
//! persists it and then swaps it into the cache, so readers holding the old
//! `Arc` are never blocked and never see half a change.

use keyring_core::{KeyRing, KeyVersion, Timestamp};
use serde::{Deserialize, Serialize};

use crate::material::VersionMaterial;
use crate::{Error, Kdf, KeyName, KeyType};

/// One hour: the shortest auto-rotation period.
const MIN_ROTATE_PERIOD_SECS: u64 = 3600;

/// How often a key rotates by itself: off (0) or at least an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RotatePeriod(u64);

impl RotatePeriod {
    /// No automatic rotation.
    pub const OFF: RotatePeriod = RotatePeriod(0);

    /// A period of `secs` seconds: 0, or at least 3600.
    pub fn from_secs(secs: u64) -> Result<RotatePeriod, Error> {
        if secs != 0 && secs < MIN_ROTATE_PERIOD_SECS {
            return Err(Error::AutoRotatePeriod);
        }
        Ok(RotatePeriod(secs))
    }

    /// Seconds (0 when off).
    pub fn secs(self) -> u64 {
        self.0
    }

    /// True when automatic rotation is on.
    pub fn is_on(self) -> bool {
        self.0 != 0
    }
}

/// When a backup or restore happened and the latest version at that time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// When.
    pub time: Timestamp,
    /// The latest version then.
    pub version: u32,
}

/// The settings of a key to create, checked in Vault's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOptions {
    /// The type.
    pub key_type: KeyType,
    /// Per-request key derivation.
    pub derived: bool,
    /// Convergent encryption (needs `derived`).
    pub convergent: bool,
    /// Key material may be exported.
    pub exportable: bool,
    /// Plaintext backups are allowed.
    pub allow_plaintext_backup: bool,
    /// Automatic rotation.
    pub auto_rotate_period: RotatePeriod,
    /// Length of an `hmac` key in bytes; 0 for other types.
    pub key_size: u32,
}

impl KeyOptions {
    /// Options with Vault's defaults for `key_type`.
    pub fn new(key_type: KeyType) -> Self {
        KeyOptions {
            key_type,
            derived: false,
            convergent: false,
            exportable: false,
            allow_plaintext_backup: false,
            auto_rotate_period: RotatePeriod::OFF,
            key_size: 0,
        }
    }

    /// The options of `POST keys/:name`, checked in the order Vault checks
    /// them: the period, convergence without derivation, the type, the size.
    #[allow(clippy::too_many_arguments)]
    pub fn from_request(
        type_name: &str,
        derived: bool,
        convergent: bool,
        exportable: bool,
        allow_plaintext_backup: bool,
        auto_rotate_secs: u64,
        key_size: i64,
    ) -> Result<KeyOptions, Error> {
        let auto_rotate_period = RotatePeriod::from_secs(auto_rotate_secs)?;
        if convergent && !derived {
            return Err(Error::ConvergentRequiresDerivation);
        }
        let key_type = KeyType::parse(type_name)?;
        let mut size = 0;
        if key_size != 0 {
            if key_type != KeyType::Hmac {
                return Err(Error::KeySizeNotValid(key_type));
            }
            if !(32..=512).contains(&key_size) {
                return Err(Error::InvalidKeySize(key_size));
            }
            size = key_size as u32;
        }
        Ok(KeyOptions {
            key_type,
            derived,
            convergent,
            exportable,
            allow_plaintext_backup,
            auto_rotate_period,
            key_size: size,
        })
    }

    /// The checks Vault makes only when the key is really created (an
    /// existing key is returned as it is, whatever the options say).
    fn check_creatable(&self) -> Result<(), Error> {
        if self.convergent && !self.derived {
            return Err(Error::ConvergentRequiresDerivation);
        }
        if self.key_type == KeyType::Ed25519 && self.convergent {
            return Err(Error::ConvergentNotSupported(self.key_type));
        }
        if (self.derived || self.convergent) && !self.key_type.supports_derivation() {
            return Err(Error::DerivationNotSupported(self.key_type));
        }
        if self.key_type == KeyType::Hmac && !(32..=512).contains(&self.key_size) {
            return Err(Error::HmacKeySizeMissing);
        }
        Ok(())
    }
}

/// Stored records carry their format so a later release can migrate them.
pub(crate) const FORMAT: u32 = 1;

/// One named key: settings and versions. Immutable; see the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    pub(crate) format: u32,
    pub(crate) name: KeyName,
    #[serde(rename = "type")]
    pub(crate) key_type: KeyType,
    pub(crate) derived: bool,
    pub(crate) kdf: Kdf,
    pub(crate) convergent: bool,
    pub(crate) exportable: bool,
    pub(crate) allow_plaintext_backup: bool,
    pub(crate) deletion_allowed: bool,
    pub(crate) auto_rotate_period: RotatePeriod,
    pub(crate) key_size: u32,
    pub(crate) imported: bool,
    pub(crate) allow_imported_key_rotation: bool,
    pub(crate) backup_info: Option<Stamp>,
    pub(crate) restore_info: Option<Stamp>,
    pub(crate) ring: KeyRing<VersionMaterial>,
}

impl Policy {
    /// A new key with version 1 made at `now`.
    pub fn generate(name: KeyName, options: &KeyOptions, now: Timestamp) -> Result<Policy, Error> {
        options.check_creatable()?;
        let material =
            VersionMaterial::generate(options.key_type, options.key_size, options.convergent)?;
        Ok(Policy {
            format: FORMAT,
            name,
            key_type: options.key_type,
            derived: options.derived,
            kdf: Kdf::HkdfSha256,
            convergent: options.convergent,
            exportable: options.exportable,
            allow_plaintext_backup: options.allow_plaintext_backup,
            deletion_allowed: false,
            auto_rotate_period: options.auto_rotate_period,
            key_size: options.key_size,
            imported: false,
            allow_imported_key_rotation: false,
            backup_info: None,
            restore_info: None,
            ring: KeyRing::new(material, now),
        })
    }

    /// Reads a stored record back.
    pub fn from_stored(bytes: &[u8]) -> Result<Policy, String> {
        let policy: Policy = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if policy.format != FORMAT {
            return Err(format!("unknown record format {}", policy.format));
        }
        policy.check()?;
        Ok(policy)
    }

    /// The record to store (key material included: the barrier encrypts it).
    pub fn to_stored(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        serde_json::to_vec(self)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| Error::Corrupt {
                name: self.name.to_string(),
                reason: e.to_string(),
            })
    }

    /// Consistency between the settings and the material (a restored or
    /// stored record is checked before it is served).
    pub(crate) fn check(&self) -> Result<(), String> {
        use crate::key_type::Algorithm;
        use crate::material::KeyMaterial;
        for (v, entry) in self.ring.versions() {
            let ok = match (self.key_type.algorithm(), &entry.material.key) {
                (Algorithm::Aead(aead), KeyMaterial::Symmetric(key)) => key.len() == aead.key_len(),
                (Algorithm::Hmac, KeyMaterial::Symmetric(key)) => (32..=512).contains(&key.len()),
                (_, KeyMaterial::Asymmetric(a)) => a.0.key_type() == self.key_type,
                _ => false,
            };
            if !ok {
                return Err(format!("version {v} has a key of the wrong length"));
            }
            if entry.material.hmac_key.is_empty() {
                return Err(format!("version {v} has no HMAC key"));
            }
        }
        if self.convergent && !self.derived {
            return Err("convergent encryption without derivation".into());
        }
        if self.derived && !self.key_type.supports_derivation() {
            return Err(format!("derivation on a {} key", self.key_type));
        }
        if self.convergent && self.key_type == KeyType::Ed25519 {
            return Err("convergent encryption on an ed25519 key".into());
        }
        Ok(())
    }

    // --- reading ---

    /// The name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }
    /// The type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }
    /// Per-request derivation.
    pub fn derived(&self) -> bool {
        self.derived
    }
    /// The KDF of a derived key.
    pub fn kdf(&self) -> Kdf {
        self.kdf
    }
    /// Convergent encryption.
    pub fn convergent(&self) -> bool {
        self.convergent
    }
    /// Exportable.
    pub fn exportable(&self) -> bool {
        self.exportable
    }
    /// Plaintext backups allowed.
    pub fn allow_plaintext_backup(&self) -> bool {
        self.allow_plaintext_backup
    }
    /// May be deleted.
    pub fn deletion_allowed(&self) -> bool {
        self.deletion_allowed
    }
    /// Automatic rotation.
    pub fn auto_rotate_period(&self) -> RotatePeriod {
        self.auto_rotate_period
    }
    /// Key size of an `hmac` key (0 for other types).
    pub fn key_size(&self) -> u32 {
        self.key_size
    }
    /// Imported rather than generated (BYOK, issue 4).
    pub fn imported(&self) -> bool {
        self.imported
    }
    /// An imported key may be rotated.
    pub fn allow_imported_key_rotation(&self) -> bool {
        self.allow_imported_key_rotation
    }
    /// The last backup.
    pub fn backup_info(&self) -> Option<Stamp> {
        self.backup_info
    }
    /// The restore this key came from.
    pub fn restore_info(&self) -> Option<Stamp> {
        self.restore_info
    }
    /// The latest version.
    pub fn latest_version(&self) -> u32 {
        self.ring.latest().get()
    }
    /// The oldest version that may decrypt (at least 1).
    pub fn min_decryption_version(&self) -> u32 {
        self.ring.min_decryption_version()
    }
    /// The oldest version that may encrypt; 0 means the latest only.
    pub fn min_encryption_version(&self) -> u32 {
        self.ring.min_encryption_version()
    }
    /// Versions below were trimmed; 0 when none were.
    pub fn min_available_version(&self) -> u32 {
        self.ring.min_available_version()
    }
    /// The working set, `min_decryption_version..=latest`, with creation times.
    pub fn versions(&self) -> impl Iterator<Item = (KeyVersion, Timestamp)> + '_ {
        self.ring.working_set().map(|(v, e)| (v, e.created))
    }
    /// When the latest version was made (the auto-rotation clock).
    pub fn latest_created(&self) -> Timestamp {
        self.ring.latest_entry().created
    }

    /// True when automatic rotation is due at `now`: the latest version is
    /// older than the period. Imported keys that may not rotate never are.
    pub fn rotation_due(&self, now: Timestamp) -> bool {
        let period = self.auto_rotate_period.secs();
        if period == 0 || (self.imported && !self.allow_imported_key_rotation) {
            return false;
        }
        let due = self
            .latest_created()
            .plus_secs(i64::try_from(period).unwrap_or(i64::MAX));
        now > due
    }

    // --- changing (each returns a new policy) ---

    /// Refuses the rotation of an imported key that may not rotate.
    pub fn check_rotatable(&self) -> Result<(), Error> {
        if self.imported && !self.allow_imported_key_rotation {
            return Err(Error::ImportedNoRotation(self.name.to_string()));
        }
        Ok(())
    }

    /// Fresh material for this key's next version (slow for RSA: the
    /// engine runs it on a blocking thread).
    pub fn new_material(&self) -> Result<VersionMaterial, Error> {
        VersionMaterial::generate(self.key_type, self.key_size, self.convergent)
    }

    /// A new latest version made at `now`.
    pub fn rotated(&self, now: Timestamp) -> Result<Policy, Error> {
        self.check_rotatable()?;
        let material = self.new_material()?;
        self.rotated_with(material, now)
    }

    /// A new latest version of `material`, made at `now`.
    pub fn rotated_with(&self, material: VersionMaterial, now: Timestamp) -> Result<Policy, Error> {
        self.check_rotatable()?;
        let mut next = self.clone();
        next.ring
            .rotate(material, now)
            .map_err(|e| Error::Storage(e.to_string()))?;
        next.imported = false;
        Ok(next)
    }

    /// The same key with `deletion_allowed` etc. changed by `change`, with
    /// Vault's checks in Vault's order. Also returns the warning to show and
    /// whether anything changed.
    pub fn configured(&self, change: &ConfigChange) -> Result<Configured, Error> {
        let latest = self.latest_version();
        let mut dec = self.min_decryption_version();
        let mut enc = self.min_encryption_version();
        let mut warning = None;
        let mut changed = false;
        if let Some(requested) = change.min_decryption_version {
            if requested < 0 {
                return Err(Error::MinDecryptionNegative);
            }
            let mut wanted = requested;
            if wanted == 0 {
                wanted = 1;
                warning = Some(
                    "since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1"
                        .to_string(),
                );
            }
            if wanted != i64::from(dec) {
                if wanted > i64::from(latest) {
                    return Err(Error::MinDecryptionTooHigh {
                        requested: wanted,
                        latest,
                    });
                }
                dec = wanted as u32;
                changed = true;
            }
        }
        if let Some(requested) = change.min_encryption_version {
            if requested < 0 {
                return Err(Error::MinEncryptionNegative);
            }
            if requested != i64::from(enc) {
                if requested > i64::from(latest) {
                    return Err(Error::MinEncryptionTooHigh { requested, latest });
                }
                enc = requested as u32;
                changed = true;
            }
        }
        if enc > 0 && enc < dec {
            return Err(Error::MinEncryptionBelowDecryption {
                encryption: enc,
                decryption: dec,
            });
        }
        let mut next = self.clone();
        if let Some(allowed) = change.deletion_allowed
            && allowed != next.deletion_allowed
        {
            next.deletion_allowed = allowed;
            changed = true;
        }
        // exportable and allow_plaintext_backup are one-way: false never unsets.
        if change.exportable == Some(true) && !next.exportable {
            next.exportable = true;
            changed = true;
        }
        if change.allow_plaintext_backup == Some(true) && !next.allow_plaintext_backup {
            next.allow_plaintext_backup = true;
            changed = true;
        }
        if let Some(secs) = change.auto_rotate_period_secs {
            let period = RotatePeriod::from_secs(secs)?;
            if period != next.auto_rotate_period {
                next.auto_rotate_period = period;
                changed = true;
            }
        }
        if changed {
            let available = self.min_available_version();
            if available > enc {
                return Err(Error::MinEncryptionBelowAvailable);
            }
            if available > dec {
                return Err(Error::MinDecryptionBelowAvailable);
            }
            next.ring
                .set_min_versions(Some(dec), Some(enc))
                .map_err(|e| Error::Corrupt {
                    name: self.name.to_string(),
                    reason: e.to_string(),
                })?;
        }
        Ok(Configured {
            policy: next,
            warning,
            changed,
        })
    }

    /// The key with every version below `min_available` removed for good,
    /// with Vault's checks in Vault's order.
    pub fn trimmed(&self, min_available: Option<i64>) -> Result<Policy, Error> {
        let requested = min_available.ok_or(Error::MissingMinAvailable)?;
        let enc = i64::from(self.min_encryption_version());
        let dec = i64::from(self.min_decryption_version());
        if requested < i64::from(self.min_available_version()) {
            return Err(Error::TrimDecrement);
        }
        if enc == 0 {
            return Err(Error::TrimNeedsMinEncryption);
        }
        if requested > enc {
            return Err(Error::TrimAboveMinEncryption);
        }
        if requested > dec {
            return Err(Error::TrimAboveMinDecryption);
        }
        if requested < 0 {
            return Err(Error::TrimNegative);
        }
        if requested == 0 {
            return Err(Error::TrimZero);
        }
        let mut next = self.clone();
        next.ring
            .trim(requested as u32)
            .map_err(|e| Error::Corrupt {
                name: self.name.to_string(),
                reason: e.to_string(),
            })?;
        Ok(next)
    }

    /// The key with a backup recorded at `now`.
    pub(crate) fn with_backup_info(&self, now: Timestamp) -> Policy {
        let mut next = self.clone();
        next.backup_info = Some(Stamp {
            time: now,
            version: self.latest_version(),
        });
        next
    }
}

/// What `POST keys/:name/config` may change; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChange {
    /// `min_decryption_version`.
    pub min_decryption_version: Option<i64>,
    /// `min_encryption_version`.
    pub min_encryption_version: Option<i64>,
    /// `deletion_allowed`.
    pub deletion_allowed: Option<bool>,
    /// `exportable` (can only be turned on).
    pub exportable: Option<bool>,
    /// `allow_plaintext_backup` (can only be turned on).
    pub allow_plaintext_backup: Option<bool>,
    /// `auto_rotate_period` in seconds.
    pub auto_rotate_period_secs: Option<u64>,
}

/// The outcome of [`Policy::configured`].
#[derive(Debug, Clone)]
pub struct Configured {
    /// The key after the change.
    pub policy: Policy,
    /// Vault's warning when `min_decryption_version` 0 was forced to 1.
    pub warning: Option<String>,
    /// False when nothing changed (nothing to persist).
    pub changed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_unix_secs(s)
    }

    fn key(ty: KeyType) -> Policy {
        let mut o = KeyOptions::new(ty);
        if ty == KeyType::Hmac {
            o.key_size = 32;
        }
        Policy::generate(KeyName::parse("k").unwrap(), &o, t(1000)).unwrap()
    }

    fn rotated(mut p: Policy, n: usize) -> Policy {
        for i in 0..n {
            p = p.rotated(t(2000 + i as i64)).unwrap();
        }
        p
    }

    #[test]
    fn create_options_in_vaults_order() {
        let e = |ty: &str, d, c, secs, size| {
            KeyOptions::from_request(ty, d, c, false, false, secs, size)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("bogus", false, true, 5, 0),
            "auto rotate period must be 0 to disable or at least an hour"
        );
        assert_eq!(
            e("bogus", false, true, 0, 0),
            "convergent encryption requires derivation to be enabled"
        );
        assert_eq!(e("bogus", false, false, 0, 0), "unknown key type bogus");
        assert_eq!(
            e("aes256-gcm96", false, false, 0, 32),
            "key_size is not valid for algorithm aes256-gcm96"
        );
        assert_eq!(e("hmac", false, false, 0, 16), "invalid key_size 16");
        let hmac_no_size =
            KeyOptions::from_request("hmac", false, false, false, false, 0, 0).unwrap();
        assert_eq!(
            Policy::generate(KeyName::parse("h").unwrap(), &hmac_no_size, t(0))
                .unwrap_err()
                .to_string(),
            "invalid key size for HMAC key, must be between 32 and 512 bytes"
        );
        let mut derived_hmac = hmac_no_size.clone();
        derived_hmac.key_size = 32;
        derived_hmac.derived = true;
        assert_eq!(
            Policy::generate(KeyName::parse("h").unwrap(), &derived_hmac, t(0))
                .unwrap_err()
                .to_string(),
            "key derivation and convergent encryption not supported for keys of type hmac"
        );
    }

    #[test]
    fn config_rules() {
        let p = rotated(key(KeyType::Aes256Gcm96), 4); // versions 1..=5
        let cfg = |dec: Option<i64>, enc: Option<i64>| ConfigChange {
            min_decryption_version: dec,
            min_encryption_version: enc,
            ..Default::default()
        };
        let err = |c: ConfigChange| p.configured(&c).unwrap_err().to_string();
        assert_eq!(
            err(cfg(Some(7), None)),
            "cannot set min decryption version of 7, latest key version is 5"
        );
        assert_eq!(
            err(cfg(Some(-1), None)),
            "min decryption version cannot be negative"
        );
        assert_eq!(
            err(cfg(None, Some(7))),
            "cannot set min encryption version of 7, latest key version is 5"
        );
        assert_eq!(
            err(cfg(Some(3), Some(2))),
            "cannot set min encryption/decryption values; min encryption version of 2 must be greater than or equal to min decryption version of 3"
        );
        let ok = p.configured(&cfg(Some(2), Some(3))).unwrap();
        assert!(ok.changed);
        assert_eq!(ok.policy.min_decryption_version(), 2);
        assert_eq!(ok.policy.versions().count(), 4);
        let zero = p.configured(&cfg(Some(0), None)).unwrap();
        assert!(!zero.changed);
        assert!(zero.warning.unwrap().contains("forcing minimum to 1"));

        // exportable is one-way.
        let on = p
            .configured(&ConfigChange {
                exportable: Some(true),
                ..Default::default()
            })
            .unwrap()
            .policy;
        let still = on
            .configured(&ConfigChange {
                exportable: Some(false),
                ..Default::default()
            })
            .unwrap();
        assert!(still.policy.exportable() && !still.changed);
        assert_eq!(
            p.configured(&ConfigChange {
                auto_rotate_period_secs: Some(59),
                ..Default::default()
            })
            .unwrap_err(),
            Error::AutoRotatePeriod
        );
    }

    #[test]
    fn trim_rules() {
        let p = rotated(key(KeyType::Aes256Gcm96), 9); // 1..=10
        assert_eq!(p.trimmed(None).unwrap_err(), Error::MissingMinAvailable);
        assert_eq!(
            p.trimmed(Some(2)).unwrap_err(),
            Error::TrimNeedsMinEncryption
        );
        let p = p
            .configured(&ConfigChange {
                min_decryption_version: Some(3),
                min_encryption_version: Some(9),
                ..Default::default()
            })
            .unwrap()
            .policy;
        assert_eq!(
            p.trimmed(Some(4)).unwrap_err(),
            Error::TrimAboveMinDecryption
        );
        assert_eq!(p.trimmed(Some(0)).unwrap_err(), Error::TrimZero);
        // Vault checks "decremented" first, so a negative value reads as that.
        assert_eq!(p.trimmed(Some(-1)).unwrap_err(), Error::TrimDecrement);
        let t2 = p.trimmed(Some(2)).unwrap();
        assert_eq!(t2.min_available_version(), 2);
        assert_eq!(t2.trimmed(Some(1)).unwrap_err(), Error::TrimDecrement);
        // Lowering min_decryption below the floor is refused.
        assert_eq!(
            t2.configured(&ConfigChange {
                min_decryption_version: Some(1),
                ..Default::default()
            })
            .unwrap_err()
            .to_string(),
            "min decryption version should not be less then min available version"
        );
    }

    #[test]
    fn rotation_due_uses_the_latest_version() {
        let mut p = key(KeyType::ChaCha20Poly1305);
        assert!(!p.rotation_due(t(1_000_000)));
        p.auto_rotate_period = RotatePeriod::from_secs(3600).unwrap();
        assert!(!p.rotation_due(t(1000 + 3600)));
        assert!(p.rotation_due(t(1000 + 3601)));
        let p = p.rotated(t(5000)).unwrap();
        assert!(!p.rotation_due(t(5000 + 3600)));
        assert!(p.rotation_due(t(5000 + 3601)));
    }

    #[test]
    fn stored_round_trip_and_redaction() {
        let p = rotated(key(KeyType::Hmac), 2);
        let bytes = p.to_stored().unwrap();
        let back = Policy::from_stored(&bytes).unwrap();
        assert_eq!(back.latest_version(), 3);
        assert_eq!(back.key_size(), 32);
        assert_eq!(
            back.ring.get(2).unwrap().material,
            p.ring.get(2).unwrap().material
        );
        let dbg = format!("{p:?}");
        let raw = crate::gobase64::encode(p.ring.get(1).unwrap().material.hmac_key.expose());
        assert!(!dbg.contains(&raw));
    }
}
