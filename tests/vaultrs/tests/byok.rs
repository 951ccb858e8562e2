//! vaultrs drives BYOK against the real binary (hvac has no call for it):
//! `wrapping_key`, `keys/:name/import` and `keys/:name/import_version`.
//! The import ciphertexts are built here from material made here (RSA-OAEP
//! over an ephemeral AES-256 key, then AES-KWP), and what keyward then
//! encrypts and signs is checked locally with that same material.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aes_kw::KeyInit;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{self, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use vaultrs::api::transit::requests::{ImportKeyRequest, ImportKeyVersionRequest};
use vaultrs::api::transit::{HashFunction, KeyType};
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;
use vaultrs::transit::{data, key, wrapping_key};

const MOUNT: &str = "transit";
const TOKEN: &str = "kw.vaultrs-tests-root";

struct Server {
    child: Child,
    _dir: tempfile::TempDir,
    url: String,
    ca: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    if let Ok(bin) = std::env::var("KEYWARD_BIN") {
        return PathBuf::from(bin);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/keyward")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = dir.path().join("data");
    let child = Command::new(binary())
        .args(["server", "--dev", "--data-dir"])
        .arg(&data)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--dev-root-token",
            TOKEN,
        ])
        .args(["--dev-admin-password", "Vaultrs-Tests-Admin-1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyward (set KEYWARD_BIN)");
    let ca = data.join("tls").join("ca.pem");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if ca.exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    Server {
        child,
        _dir: dir,
        url: format!("https://127.0.0.1:{port}"),
        ca,
    }
}

fn client(server: &Server) -> VaultClient {
    VaultClient::new(
        VaultClientSettingsBuilder::default()
            .address(&server.url)
            .token(TOKEN)
            .ca_certs(vec![server.ca.to_string_lossy().to_string()])
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    SystemRandom::new().fill(&mut out).unwrap();
    out
}

/// Vault's import ciphertext for `material` under the wrapping key (PEM).
fn wrap(wrapping_pem: &str, material: &[u8], oaep: &'static rsa::OaepAlgorithm) -> String {
    let body: String = wrapping_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let spki = STANDARD.decode(body).unwrap();
    let public =
        rsa::OaepPublicEncryptingKey::new(rsa::PublicEncryptingKey::from_der(&spki).unwrap())
            .unwrap();
    assert_eq!(public.key_size_bits(), 4096);
    let ephemeral = random::<32>();
    let mut out = vec![0u8; public.ciphertext_size()];
    public.encrypt(oaep, &ephemeral, &mut out, None).unwrap();
    let kwp = aes_kw::KwpAes256::new_from_slice(&ephemeral).unwrap();
    let mut wrapped = vec![0u8; material.len() + 16];
    let n = kwp.wrap_key(material, &mut wrapped).unwrap().len();
    out.extend_from_slice(&wrapped[..n]);
    STANDARD.encode(out)
}

fn payload(framed: &str) -> Vec<u8> {
    STANDARD
        .decode(framed.splitn(3, ':').nth(2).unwrap())
        .unwrap()
}

fn api_error(e: ClientError) -> (u16, Vec<String>) {
    match e {
        ClientError::APIError { code, errors } => (code, errors),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn wrapping_key_import_and_import_version() {
    let server = start();
    let c = client(&server);

    // The wrapping key is RSA-4096, made once.
    let pem = wrapping_key::get(&c, MOUNT).await.unwrap().public_key;
    assert!(
        pem.starts_with("-----BEGIN PUBLIC KEY-----\n")
            && pem.ends_with("-----END PUBLIC KEY-----\n")
    );
    assert_eq!(wrapping_key::get(&c, MOUNT).await.unwrap().public_key, pem);

    // AES-256 with every hash function aws-lc-rs offers for RSA-OAEP.
    for (name, hash, oaep) in [
        ("aes-sha1", HashFunction::Sha1, &rsa::OAEP_SHA1_MGF1SHA1),
        (
            "aes-sha256",
            HashFunction::Sha256,
            &rsa::OAEP_SHA256_MGF1SHA256,
        ),
        (
            "aes-sha384",
            HashFunction::Sha384,
            &rsa::OAEP_SHA384_MGF1SHA384,
        ),
        (
            "aes-sha512",
            HashFunction::Sha512,
            &rsa::OAEP_SHA512_MGF1SHA512,
        ),
    ] {
        let material = random::<32>();
        key::import(
            &c,
            MOUNT,
            name,
            Some(
                ImportKeyRequest::builder()
                    .ciphertext(wrap(&pem, &material, oaep))
                    .hash_function(hash)
                    .key_type(KeyType::Aes256Gcm96),
            ),
        )
        .await
        .unwrap();
        let ct = data::encrypt(&c, MOUNT, name, &STANDARD.encode(b"vaultrs"), None)
            .await
            .unwrap()
            .ciphertext;
        let mut sealed = payload(&ct);
        let nonce = Nonce::try_assume_unique_for_key(&sealed[..12]).unwrap();
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &material).unwrap());
        let plain = key
            .open_in_place(nonce, Aad::empty(), &mut sealed[12..])
            .unwrap();
        assert_eq!(plain, b"vaultrs");
    }
    let read = key::read(&c, MOUNT, "aes-sha256").await.unwrap();
    assert!(read.supports_encryption);

    // import_version: version 2 from new material.
    let second = random::<32>();
    key::import_version(
        &c,
        MOUNT,
        "aes-sha256",
        Some(ImportKeyVersionRequest::builder().ciphertext(wrap(
            &pem,
            &second,
            &rsa::OAEP_SHA256_MGF1SHA256,
        ))),
    )
    .await
    .unwrap();
    let ct = data::encrypt(&c, MOUNT, "aes-sha256", &STANDARD.encode(b"v2"), None)
        .await
        .unwrap()
        .ciphertext;
    assert!(ct.starts_with("vault:v2:"));

    // RSA-2048 from a PKCS#8 key made here: keyward's PKCS#1 v1.5 signature
    // verifies under our public key, and its OAEP ciphertext opens with our
    // private key.
    let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap();
    let pkcs8 = pair.as_der().unwrap();
    key::import(
        &c,
        MOUNT,
        "rsa",
        Some(
            ImportKeyRequest::builder()
                .ciphertext(wrap(&pem, pkcs8.as_ref(), &rsa::OAEP_SHA256_MGF1SHA256))
                .key_type(KeyType::Rsa2048),
        ),
    )
    .await
    .unwrap();
    let sig = data::sign(
        &c,
        MOUNT,
        "rsa",
        &STANDARD.encode(b"signed"),
        Some(
            vaultrs::api::transit::requests::SignDataRequest::builder()
                .signature_algorithm(vaultrs::api::transit::SignatureAlgorithm::Pkcs1v15),
        ),
    )
    .await
    .unwrap()
    .signature;
    signature::UnparsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref(),
    )
    .verify(b"signed", &payload(&sig))
    .unwrap();
    let ct = data::encrypt(&c, MOUNT, "rsa", &STANDARD.encode(b"sealed"), None)
        .await
        .unwrap()
        .ciphertext;
    let private = rsa::OaepPrivateDecryptingKey::new(
        rsa::PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).unwrap(),
    )
    .unwrap();
    let mut out = vec![0u8; private.min_output_size()];
    let plain = private
        .decrypt(&rsa::OAEP_SHA256_MGF1SHA256, &payload(&ct), &mut out, None)
        .unwrap();
    assert_eq!(plain, b"sealed");

    // Public key first, then its private half fills in version 1.
    let ec = signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let spki = ec.public_key().as_der().unwrap();
    let public_pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(spki.as_ref())
    );
    key::import(
        &c,
        MOUNT,
        "ec",
        Some(
            ImportKeyRequest::builder()
                .public_key(public_pem)
                .key_type(KeyType::EcdsaP256),
        ),
    )
    .await
    .unwrap();
    let refused = data::sign(&c, MOUNT, "ec", &STANDARD.encode(b"m"), None)
        .await
        .unwrap_err();
    assert_eq!(
        api_error(refused),
        (
            400,
            vec!["requested version for signing does not contain a private part".to_string()]
        )
    );
    let ec_pkcs8 = ec.to_pkcs8v1().unwrap();
    key::import_version(
        &c,
        MOUNT,
        "ec",
        Some(
            ImportKeyVersionRequest::builder()
                .ciphertext(wrap(&pem, ec_pkcs8.as_ref(), &rsa::OAEP_SHA256_MGF1SHA256))
                .version(1u64),
        ),
    )
    .await
    .unwrap();
    let sig = data::sign(&c, MOUNT, "ec", &STANDARD.encode(b"m"), None)
        .await
        .unwrap()
        .signature;
    assert!(sig.starts_with("vault:v1:"));
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, ec.public_key().as_ref())
        .verify(b"m", &payload(&sig))
        .unwrap();

    // Mistakes are 400 with Vault's texts.
    let existing = key::import(
        &c,
        MOUNT,
        "rsa",
        Some(
            ImportKeyRequest::builder()
                .ciphertext(wrap(&pem, pkcs8.as_ref(), &rsa::OAEP_SHA256_MGF1SHA256))
                .key_type(KeyType::Rsa2048),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(
        api_error(existing),
        (400, vec!["the import path cannot be used with an existing key; use import-version to rotate an existing imported key".to_string()])
    );
    let wrong_type = key::import(
        &c,
        MOUNT,
        "too-big",
        Some(
            ImportKeyRequest::builder()
                .ciphertext(wrap(&pem, pkcs8.as_ref(), &rsa::OAEP_SHA256_MGF1SHA256))
                .key_type(KeyType::Rsa4096),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(
        api_error(wrong_type),
        (
            400,
            vec![
                "error importing key: invalid key size: expected 512 bytes, got 256 bytes"
                    .to_string()
            ]
        )
    );
    let not_imported = key::import_version(
        &c,
        MOUNT,
        "missing",
        Some(ImportKeyVersionRequest::builder().ciphertext(wrap(
            &pem,
            &second,
            &rsa::OAEP_SHA256_MGF1SHA256,
        ))),
    )
    .await
    .unwrap_err();
    assert_eq!(
        api_error(not_imported),
        (
            400,
            vec![
                "no key found with name missing; to import a new key, use the import/ endpoint"
                    .to_string()
            ]
        )
    );
    // Rotating an import that allows it ends import_version for that key.
    key::import(
        &c,
        MOUNT,
        "rotates",
        Some(
            ImportKeyRequest::builder()
                .ciphertext(wrap(&pem, &random::<32>(), &rsa::OAEP_SHA256_MGF1SHA256))
                .allow_rotation(true),
        ),
    )
    .await
    .unwrap();
    key::rotate(&c, MOUNT, "rotates").await.unwrap();
    let after = key::import_version(
        &c,
        MOUNT,
        "rotates",
        Some(ImportKeyVersionRequest::builder().ciphertext(wrap(
            &pem,
            &random::<32>(),
            &rsa::OAEP_SHA256_MGF1SHA256,
        ))),
    )
    .await
    .unwrap_err();
    assert_eq!(
        api_error(after),
        (
            400,
            vec!["the import_version endpoint can only be used with an imported key".to_string()]
        )
    );
}
