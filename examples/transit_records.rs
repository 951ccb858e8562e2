//! Encryption as a library: an application that keeps customer records
//! encrypted with `transit-crypto` over an embedded `keyring-core` store,
//! with no keyward server running.
//!
//! What it does, asserting each step:
//!
//! 1. opens (or creates) an encrypted data dir in the server's layout
//!    (`keyward.redb`, `keystore.json`, a key folder);
//! 2. creates the transit key `customer-records` and encrypts three records,
//!    each bound to its record id as associated data;
//! 3. decrypts them, and shows that a ciphertext moved to another record id
//!    does not open;
//! 4. rotates the key, rewraps every stored ciphertext to the new version,
//!    and raises `min_decryption_version` so the old version is retired;
//! 5. closes everything, opens the data dir again and decrypts: every
//!    acknowledged write was durable;
//! 6. writes a backup of the key (`backup.txt`), the blob
//!    `POST /v1/transit/restore/customer-records` takes, so a keyward server
//!    decrypts the same ciphertexts (`tests/tests/embedding.rs` proves it).
//!
//! Usage: `cargo run -p keyward-examples --example transit_records [DATA_DIR]`
//! (default: a temporary directory, removed at the end).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use keyring_core::Barrier;
use keyward_examples::{SystemClock, open_data_dir};
use transit_crypto::{
    CipherInput, ConfigChange, Error, KeyName, KeyOptions, KeyType, Policy, Transit,
};

/// Where this application keeps its keys inside the store. The server keeps
/// each mount's keys under `transit/<uuid>/`; any prefix works.
const PREFIX: &str = "app/transit/";

type Records = BTreeMap<&'static str, String>;

async fn open(data_dir: &Path) -> Result<(Arc<Barrier>, Transit), Box<dyn std::error::Error>> {
    let barrier = open_data_dir(data_dir, &data_dir.join("keyfolder"))?;
    let transit = Transit::open(barrier.clone(), PREFIX, Arc::new(SystemClock)).await?;
    Ok((barrier, transit))
}

/// The associated data of a record: its id, so a ciphertext copied onto
/// another record is refused.
fn bound_to(id: &str) -> CipherInput<'_> {
    CipherInput {
        associated_data: id.as_bytes(),
        ..CipherInput::default()
    }
}

fn decrypt_all(key: &Policy, records: &Records) -> Result<Vec<String>, Error> {
    records
        .iter()
        .map(|(id, ct)| {
            let plain = key.decrypt(ct, &bound_to(id))?;
            Ok(String::from_utf8_lossy(&plain).into_owned())
        })
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let data_dir = std::env::args()
        .nth(1)
        .map(Into::into)
        .unwrap_or_else(|| tmp.path().join("data"));
    let name = KeyName::parse("customer-records").ok_or("a valid key name")?;
    let plaintexts = [
        ("cust-001", "Ada Lovelace, 12 St James's Square"),
        ("cust-002", "Grace Hopper, 1 Navy Way"),
        ("cust-003", "Alan Turing, Bletchley Park"),
    ];

    // 1-2: open, create the key, encrypt.
    let (_barrier, transit) = open(&data_dir).await?;
    let options = KeyOptions {
        exportable: true,
        allow_plaintext_backup: true,
        ..KeyOptions::new(KeyType::Aes256Gcm96)
    };
    let (key, created) = transit.create(&name, &options).await?;
    assert!(created, "a fresh data dir has no key yet");
    let mut records = Records::new();
    for (id, text) in plaintexts {
        let sealed = key.encrypt(text.as_bytes(), &bound_to(id))?;
        assert_eq!(sealed.version, 1);
        assert!(sealed.ciphertext.starts_with("vault:v1:"));
        records.insert(id, sealed.ciphertext);
    }

    // 3: decrypt; a ciphertext under another record id does not open.
    let opened = decrypt_all(&key, &records)?;
    assert_eq!(opened, plaintexts.map(|(_, t)| t.to_string()));
    let moved = key.decrypt(&records["cust-001"], &bound_to("cust-002"));
    assert!(
        moved.is_err(),
        "associated data binds a ciphertext to its record"
    );

    // 4: rotate, rewrap everything, retire version 1.
    let key = transit.rotate(&name).await?;
    assert_eq!(key.latest_version(), 2);
    for (id, ct) in records.iter_mut() {
        let rewrapped = key.rewrap(ct, &bound_to(id))?;
        assert_eq!(rewrapped.version, 2);
        *ct = rewrapped.ciphertext;
    }
    let old = key.encrypt(
        b"kept at version 1",
        &CipherInput {
            key_version: 1,
            ..CipherInput::default()
        },
    )?;
    let change = ConfigChange {
        min_decryption_version: Some(2),
        ..ConfigChange::default()
    };
    let (key, ()) = transit
        .update(&name, Error::RotateKeyNotFound, |p, _now| {
            let c = p.configured(&change)?;
            Ok((c.policy, c.changed, ()))
        })
        .await?;
    assert_eq!(key.min_decryption_version(), 2);
    assert!(
        matches!(
            key.decrypt(&old.ciphertext, &CipherInput::default()),
            Err(Error::TooOld)
        ),
        "version 1 is retired"
    );
    assert_eq!(decrypt_all(&key, &records)?.len(), 3);

    // 5: close, reopen, decrypt again.
    drop((key, transit, _barrier));
    let (_barrier, transit) = open(&data_dir).await?;
    let key = transit
        .get(&name)
        .await?
        .ok_or("the key survived the restart")?;
    assert_eq!(key.latest_version(), 2);
    assert_eq!(key.min_decryption_version(), 2);
    assert_eq!(
        decrypt_all(&key, &records)?,
        plaintexts.map(|(_, t)| t.to_string())
    );

    // 6: the backup a keyward server restores.
    let backup = transit.backup(&name).await?;
    std::fs::write(data_dir.join("backup.txt"), &backup)?;
    let restored = Transit::open(
        Arc::new(Barrier::ephemeral(Arc::new(
            keyring_core::MemoryStore::new(),
        ))?),
        PREFIX,
        Arc::new(SystemClock),
    )
    .await?;
    let copy = restored.restore(None, &backup, false).await?;
    assert_eq!(decrypt_all(&copy, &records)?.len(), 3);

    println!(
        "transit_records: ok: 3 records encrypted, rotated to v{}, rewrapped, v1 retired, \
         reopened from {} and decrypted; backup in backup.txt",
        key.latest_version(),
        data_dir.display()
    );
    Ok(())
}
