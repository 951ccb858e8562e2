//! Versioned key rings: numbered versions of key material with the minimum
//! version rules of Vault's transit keys.
//!
//! Invariants, kept by every method and checked when a ring is deserialized:
//!
//! - versions are numbered from 1; `latest` is the highest;
//! - `1 <= min_decryption_version <= latest`;
//! - `min_encryption_version` is 0 (meaning "latest") or lies in
//!   `[min_decryption_version, latest]`;
//! - `min_available_version` is 0 (nothing trimmed) or lies in
//!   `[1, min_decryption_version]` and `<= min_encryption_version`;
//! - the ring holds exactly the versions `max(1, min_available_version)..=latest`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{KeyRingError, Timestamp};

/// A key version number, always at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyVersion(u32);

impl KeyVersion {
    /// The first version of every ring.
    pub const FIRST: KeyVersion = KeyVersion(1);

    /// A version number; `None` for 0.
    pub fn new(n: u32) -> Option<Self> {
        (n >= 1).then_some(KeyVersion(n))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One version of key material and when it was made.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry<M> {
    /// The key material of this version.
    pub material: M,
    /// When the version was created.
    pub created: Timestamp,
}

impl<M> fmt::Debug for VersionEntry<M> {
    // Material is secret: only the time is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VersionEntry")
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// Numbered versions of key material and the rules for which may be used.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RingRepr<M>", into = "RingRepr<M>")]
#[serde(bound(
    serialize = "M: Serialize + Clone",
    deserialize = "M: Deserialize<'de>"
))]
pub struct KeyRing<M> {
    versions: BTreeMap<u32, VersionEntry<M>>,
    latest: u32,
    min_decryption_version: u32,
    min_encryption_version: u32,
    min_available_version: u32,
}

#[derive(Serialize, Deserialize)]
struct RingRepr<M> {
    versions: BTreeMap<u32, VersionEntry<M>>,
    latest: u32,
    min_decryption_version: u32,
    min_encryption_version: u32,
    min_available_version: u32,
}

impl<M> From<KeyRing<M>> for RingRepr<M> {
    fn from(r: KeyRing<M>) -> Self {
        RingRepr {
            versions: r.versions,
            latest: r.latest,
            min_decryption_version: r.min_decryption_version,
            min_encryption_version: r.min_encryption_version,
            min_available_version: r.min_available_version,
        }
    }
}

impl<M> TryFrom<RingRepr<M>> for KeyRing<M> {
    type Error = KeyRingError;

    fn try_from(r: RingRepr<M>) -> Result<Self, KeyRingError> {
        let ring = KeyRing {
            versions: r.versions,
            latest: r.latest,
            min_decryption_version: r.min_decryption_version,
            min_encryption_version: r.min_encryption_version,
            min_available_version: r.min_available_version,
        };
        ring.check_invariants()?;
        Ok(ring)
    }
}

impl<M> fmt::Debug for KeyRing<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("latest", &self.latest)
            .field("min_decryption_version", &self.min_decryption_version)
            .field("min_encryption_version", &self.min_encryption_version)
            .field("min_available_version", &self.min_available_version)
            .finish_non_exhaustive()
    }
}

impl<M> KeyRing<M> {
    /// A ring whose version 1 is `material`.
    pub fn new(material: M, created: Timestamp) -> Self {
        let mut versions = BTreeMap::new();
        versions.insert(1, VersionEntry { material, created });
        KeyRing {
            versions,
            latest: 1,
            min_decryption_version: 1,
            min_encryption_version: 0,
            min_available_version: 0,
        }
    }

    /// A ring from its parts (for example a backup being restored), checked
    /// against every invariant of the module docs.
    pub fn from_parts(
        versions: BTreeMap<u32, VersionEntry<M>>,
        min_decryption_version: u32,
        min_encryption_version: u32,
        min_available_version: u32,
    ) -> Result<Self, KeyRingError> {
        let latest = versions.keys().next_back().copied().unwrap_or(0);
        let ring = KeyRing {
            versions,
            latest,
            min_decryption_version,
            min_encryption_version,
            min_available_version,
        };
        ring.check_invariants()?;
        Ok(ring)
    }

    /// The latest version.
    pub fn latest(&self) -> KeyVersion {
        KeyVersion(self.latest)
    }

    /// The latest version's entry.
    pub fn latest_entry(&self) -> &VersionEntry<M> {
        &self.versions[&self.latest]
    }

    /// The oldest version that may decrypt or verify (at least 1).
    pub fn min_decryption_version(&self) -> u32 {
        self.min_decryption_version
    }

    /// The oldest version that may encrypt or sign; 0 means only the latest.
    pub fn min_encryption_version(&self) -> u32 {
        self.min_encryption_version
    }

    /// Versions below this were trimmed away for good; 0 when none were.
    pub fn min_available_version(&self) -> u32 {
        self.min_available_version
    }

    /// The entry of a version still held by the ring.
    pub fn get(&self, version: u32) -> Option<&VersionEntry<M>> {
        self.versions.get(&version)
    }

    /// Mutable access to a version's entry (to fill in material of an existing version).
    pub fn get_mut(&mut self, version: u32) -> Option<&mut VersionEntry<M>> {
        self.versions.get_mut(&version)
    }

    /// Every version still held, oldest first (the archive).
    pub fn versions(&self) -> impl DoubleEndedIterator<Item = (KeyVersion, &VersionEntry<M>)> {
        self.versions.iter().map(|(v, e)| (KeyVersion(*v), e))
    }

    /// The versions that may be used now: `min_decryption_version..=latest`.
    pub fn working_set(&self) -> impl DoubleEndedIterator<Item = (KeyVersion, &VersionEntry<M>)> {
        self.versions
            .range(self.min_decryption_version..)
            .map(|(v, e)| (KeyVersion(*v), e))
    }

    /// Adds a new latest version.
    pub fn rotate(&mut self, material: M, created: Timestamp) -> Result<KeyVersion, KeyRingError> {
        let next = self.latest.checked_add(1).ok_or(KeyRingError::Exhausted)?;
        self.versions
            .insert(next, VersionEntry { material, created });
        self.latest = next;
        Ok(KeyVersion(next))
    }

    /// The version to encrypt or sign with: `requested` 0 means the latest.
    pub fn for_encryption(
        &self,
        requested: u32,
    ) -> Result<(KeyVersion, &VersionEntry<M>), KeyRingError> {
        let version = if requested == 0 {
            self.latest
        } else {
            requested
        };
        if version > self.latest {
            return Err(KeyRingError::TooNew {
                requested: version,
                latest: self.latest,
            });
        }
        if self.min_encryption_version > 0 && version < self.min_encryption_version {
            return Err(KeyRingError::TooOld {
                requested: version,
                minimum: self.min_encryption_version,
            });
        }
        if version < self.min_decryption_version {
            return Err(KeyRingError::NoSuchVersion(version));
        }
        self.versions
            .get(&version)
            .map(|e| (KeyVersion(version), e))
            .ok_or(KeyRingError::NoSuchVersion(version))
    }

    /// The entry to decrypt or verify data made with `version`.
    pub fn for_decryption(&self, version: u32) -> Result<&VersionEntry<M>, KeyRingError> {
        if version > self.latest {
            return Err(KeyRingError::TooNew {
                requested: version,
                latest: self.latest,
            });
        }
        if version < self.min_decryption_version {
            return Err(KeyRingError::TooOld {
                requested: version,
                minimum: self.min_decryption_version,
            });
        }
        self.versions
            .get(&version)
            .ok_or(KeyRingError::NoSuchVersion(version))
    }

    /// Sets both minimums at once (`None` keeps a value). Either both change
    /// or neither does.
    pub fn set_min_versions(
        &mut self,
        decryption: Option<u32>,
        encryption: Option<u32>,
    ) -> Result<(), KeyRingError> {
        let dec = decryption.unwrap_or(self.min_decryption_version);
        let enc = encryption.unwrap_or(self.min_encryption_version);
        if dec == 0 {
            return Err(KeyRingError::InvalidMinimum(
                "the minimum decryption version starts at 1",
            ));
        }
        if dec > self.latest {
            return Err(KeyRingError::TooNew {
                requested: dec,
                latest: self.latest,
            });
        }
        if enc > self.latest {
            return Err(KeyRingError::TooNew {
                requested: enc,
                latest: self.latest,
            });
        }
        if enc > 0 && enc < dec {
            return Err(KeyRingError::InvalidMinimum(
                "the minimum encryption version must be at least the minimum decryption version",
            ));
        }
        if self.min_available_version > 0 {
            if enc < self.min_available_version {
                return Err(KeyRingError::InvalidMinimum(
                    "the minimum encryption version must be at least the minimum available version",
                ));
            }
            if dec < self.min_available_version {
                return Err(KeyRingError::InvalidMinimum(
                    "the minimum decryption version must be at least the minimum available version",
                ));
            }
        }
        self.min_decryption_version = dec;
        self.min_encryption_version = enc;
        Ok(())
    }

    /// Removes every version below `min_available` for good.
    pub fn trim(&mut self, min_available: u32) -> Result<(), KeyRingError> {
        if min_available == 0 {
            return Err(KeyRingError::InvalidMinimum(
                "the minimum available version must be positive",
            ));
        }
        if min_available < self.min_available_version {
            return Err(KeyRingError::InvalidMinimum(
                "the minimum available version cannot be decremented",
            ));
        }
        if self.min_encryption_version == 0 {
            return Err(KeyRingError::InvalidMinimum(
                "the minimum available version needs a minimum encryption version",
            ));
        }
        if min_available > self.min_encryption_version {
            return Err(KeyRingError::InvalidMinimum(
                "the minimum available version cannot exceed the minimum encryption version",
            ));
        }
        if min_available > self.min_decryption_version {
            return Err(KeyRingError::InvalidMinimum(
                "the minimum available version cannot exceed the minimum decryption version",
            ));
        }
        self.versions = self.versions.split_off(&min_available);
        self.min_available_version = min_available;
        Ok(())
    }

    /// Changes the material type of every version (for example to decode it
    /// after loading), keeping versions and rules.
    pub fn try_map<N, E>(self, mut f: impl FnMut(M) -> Result<N, E>) -> Result<KeyRing<N>, E> {
        let mut versions = BTreeMap::new();
        for (v, e) in self.versions {
            versions.insert(
                v,
                VersionEntry {
                    material: f(e.material)?,
                    created: e.created,
                },
            );
        }
        Ok(KeyRing {
            versions,
            latest: self.latest,
            min_decryption_version: self.min_decryption_version,
            min_encryption_version: self.min_encryption_version,
            min_available_version: self.min_available_version,
        })
    }

    fn check_invariants(&self) -> Result<(), KeyRingError> {
        let bad = |what| Err(KeyRingError::InvalidMinimum(what));
        if self.latest == 0 {
            return bad("a key ring has at least one version");
        }
        if self.min_decryption_version == 0 || self.min_decryption_version > self.latest {
            return bad("the minimum decryption version is out of range");
        }
        if self.min_encryption_version != 0
            && (self.min_encryption_version < self.min_decryption_version
                || self.min_encryption_version > self.latest)
        {
            return bad("the minimum encryption version is out of range");
        }
        if self.min_available_version != 0
            && (self.min_available_version > self.min_decryption_version
                || self.min_available_version > self.min_encryption_version)
        {
            return bad("the minimum available version is out of range");
        }
        let first = self.min_available_version.max(1);
        let expected = (self.latest - first + 1) as usize;
        if self.versions.len() != expected
            || self.versions.keys().next() != Some(&first)
            || self.versions.keys().next_back() != Some(&self.latest)
        {
            return bad("the stored versions do not match the version numbers");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_unix_secs(s)
    }

    #[test]
    fn rotation_and_selection() {
        let mut ring = KeyRing::new("k1", t(1));
        assert_eq!(ring.rotate("k2", t(2)).unwrap().get(), 2);
        ring.rotate("k3", t(3)).unwrap();
        assert_eq!(ring.for_encryption(0).unwrap().1.material, "k3");
        assert_eq!(ring.for_encryption(1).unwrap().1.material, "k1");
        assert!(matches!(
            ring.for_encryption(4),
            Err(KeyRingError::TooNew { .. })
        ));
        ring.set_min_versions(Some(2), Some(3)).unwrap();
        assert!(matches!(
            ring.for_encryption(2),
            Err(KeyRingError::TooOld { .. })
        ));
        assert!(matches!(
            ring.for_decryption(1),
            Err(KeyRingError::TooOld { .. })
        ));
        assert_eq!(ring.for_decryption(2).unwrap().material, "k2");
        assert_eq!(ring.working_set().count(), 2);
        ring.trim(2).unwrap();
        assert!(ring.get(1).is_none());
        assert!(
            ring.set_min_versions(Some(1), None).is_err(),
            "below the trimmed floor"
        );
        assert!(ring.trim(1).is_err(), "cannot decrement");
    }

    #[test]
    fn trim_needs_min_encryption_version() {
        let mut ring = KeyRing::new(0u8, t(0));
        ring.rotate(1, t(1)).unwrap();
        assert!(ring.trim(1).is_err());
        ring.set_min_versions(None, Some(2)).unwrap();
        assert!(ring.trim(2).is_err(), "above min decryption version 1");
        ring.trim(1).unwrap();
    }

    #[test]
    fn deserializing_checks_invariants() {
        let ring = KeyRing::new(5u8, t(0));
        let mut json: serde_json::Value = serde_json::to_value(&ring).unwrap();
        assert_eq!(
            serde_json::from_value::<KeyRing<u8>>(json.clone()).unwrap(),
            ring
        );
        json["latest"] = 3.into();
        assert!(serde_json::from_value::<KeyRing<u8>>(json).is_err());
    }

    #[test]
    fn from_parts_checks_invariants() {
        let entry = |m: u8| VersionEntry {
            material: m,
            created: t(0),
        };
        let versions: BTreeMap<u32, _> = [(2, entry(2)), (3, entry(3))].into_iter().collect();
        let ring = KeyRing::from_parts(versions.clone(), 2, 2, 2).unwrap();
        assert_eq!(ring.latest().get(), 3);
        assert!(
            KeyRing::from_parts(versions.clone(), 2, 2, 0).is_err(),
            "version 1 missing"
        );
        assert!(
            KeyRing::from_parts(versions, 1, 0, 2).is_err(),
            "min_dec below floor"
        );
        assert!(KeyRing::<u8>::from_parts(BTreeMap::new(), 1, 0, 0).is_err());
    }

    #[test]
    fn debug_hides_material() {
        let ring = KeyRing::new("very-secret", t(0));
        assert!(!format!("{ring:?}").contains("very-secret"));
        assert!(!format!("{:?}", ring.latest_entry()).contains("very-secret"));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Rotate,
        SetMin(Option<u32>, Option<u32>),
        Trim(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Rotate),
            2 => (proptest::option::of(0u32..12), proptest::option::of(0u32..12))
                .prop_map(|(d, e)| Op::SetMin(d, e)),
            1 => (0u32..12).prop_map(Op::Trim),
        ]
    }

    proptest! {
        #[test]
        fn any_sequence_keeps_the_invariants(ops in proptest::collection::vec(op(), 0..40)) {
            let mut ring = KeyRing::new(1u32, t(0));
            for op in ops {
                let before = ring.clone();
                let result = match op {
                    Op::Rotate => ring.rotate(ring.latest + 1, t(1)).map(|_| ()),
                    Op::SetMin(d, e) => ring.set_min_versions(d, e),
                    Op::Trim(v) => ring.trim(v),
                };
                prop_assert!(ring.check_invariants().is_ok(), "{:?} broke {:?}", result, ring);
                if result.is_err() {
                    prop_assert_eq!(&ring, &before, "a refused change must change nothing");
                }
                // Every version allowed for decryption is present with its own material.
                for v in ring.min_decryption_version..=ring.latest {
                    prop_assert_eq!(ring.for_decryption(v).unwrap().material, v);
                }
                // Whatever encryption picks is allowed for decryption.
                let (v, _) = ring.for_encryption(0).unwrap();
                prop_assert!(ring.for_decryption(v.get()).is_ok());
                // Serde round trip.
                let json = serde_json::to_string(&ring).unwrap();
                prop_assert_eq!(serde_json::from_str::<KeyRing<u32>>(&json).unwrap(), ring.clone());
            }
        }
    }
}
