//! BYOK input: the AES-KWP layer of an import ciphertext and the key
//! material it carries (raw bytes, PKCS#8 DER, or a PEM public key), for
//! every key type. Errors, never panics.
#![no_main]

use keyring_core::Timestamp;
use libfuzzer_sys::fuzz_target;
use transit_crypto::{ImportMaterial, ImportOptions, KeyName, KeyType, Policy, RotatePeriod, kwp_unwrap};

fuzz_target!(|data: &[u8]| {
    let _ = kwp_unwrap(&[7u8; 32], data);
    let name = KeyName::parse("fuzz").expect("name");
    for key_type in KeyType::ALL {
        let options = ImportOptions {
            key_type,
            derived: false,
            exportable: true,
            allow_plaintext_backup: false,
            auto_rotate_period: RotatePeriod::OFF,
            allow_rotation: false,
        };
        let now = Timestamp::from_unix_secs(1);
        let private = ImportMaterial::Private(data.to_vec().into());
        if let Ok(p) = Policy::import_new(name.clone(), &options, &private, now) {
            let _ = p.with_imported_version(&private, Some(1), now);
        }
        let public = ImportMaterial::Public(String::from_utf8_lossy(data).into_owned());
        let _ = Policy::import_new(name.clone(), &options, &public, now);
    }
});
