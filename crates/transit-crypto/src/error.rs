//! The engine's one error type. Every message is Vault's exact text (typos
//! included: clients and tests match on them), and every variant says how
//! the HTTP layer should treat it ([`ErrorKind`]).

use crate::KeyType;

/// How a failure should be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's mistake; Vault answers 400.
    Invalid,
    /// The caller's mistake that Vault answers with 500 (a plain Go error in
    /// Vault). keyward answers 400 with the same text.
    InvalidVault500,
    /// The thing asked for does not exist; Vault answers 404 with no message.
    NotFound,
    /// A failure of the server itself (storage, randomness): 500.
    Internal,
}

/// Why a key could not be deleted (the text after `error deleting policy <n>: `).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRefusal {
    /// No such key.
    NotFound,
    /// `deletion_allowed` is false.
    NotAllowed,
}

impl std::fmt::Display for DeleteRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeleteRefusal::NotFound => "could not delete key; not found",
            DeleteRefusal::NotAllowed => "deletion is not allowed for this key",
        })
    }
}

/// Everything that can go wrong in the transit engine. Messages never
/// contain key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- key creation and types ---
    /// A key type name Vault does not know (or that this engine does not offer).
    #[error("unknown key type {0}")]
    UnknownKeyType(String),
    /// An asymmetric type asked for by the encrypt upsert.
    #[error("key type {0} not supported for this operation")]
    KeyTypeNotForUpsert(String),
    /// `key_size` on a type other than `hmac`.
    #[error("key_size is not valid for algorithm {0}")]
    KeySizeNotValid(KeyType),
    /// `key_size` outside 32..=512.
    #[error("invalid key_size {0}")]
    InvalidKeySize(i64),
    /// An `hmac` key without `key_size`.
    #[error("invalid key size for HMAC key, must be between 32 and 512 bytes")]
    HmacKeySizeMissing,
    /// `auto_rotate_period` below one hour and not zero.
    #[error("auto rotate period must be 0 to disable or at least an hour")]
    AutoRotatePeriod,
    /// `convergent_encryption` without `derived`.
    #[error("convergent encryption requires derivation to be enabled")]
    ConvergentRequiresDerivation,
    /// Convergent upsert through encrypt without a context.
    #[error("convergent encryption requires derivation to be enabled, so context is required")]
    ConvergentRequiresContext,
    /// `convergent_encryption` on an ed25519 key.
    #[error("convergent encryption not supported for keys of type {0}")]
    ConvergentNotSupported(KeyType),
    /// `derived` or `convergent_encryption` on a type that cannot derive.
    #[error("key derivation and convergent encryption not supported for keys of type {0}")]
    DerivationNotSupported(KeyType),

    // --- a key that is not there; each endpoint has its own words ---
    /// encrypt, decrypt, rewrap, datakey, hmac, verify.
    #[error("encryption key not found")]
    EncryptionKeyNotFound,
    /// rotate.
    #[error("key not found")]
    RotateKeyNotFound,
    /// trim.
    #[error("invalid key name")]
    TrimKeyNotFound,
    /// config.
    #[error("no existing key named {0} could be found")]
    ConfigKeyNotFound(String),
    /// delete, missing or refused.
    #[error("error deleting policy {name}: {reason}")]
    DeleteRefused {
        /// The key.
        name: String,
        /// Why.
        reason: DeleteRefusal,
    },
    /// backup.
    #[error("key {0:?} not found")]
    BackupKeyNotFound(String),
    /// read and export: answered 404 without a message.
    #[error("not found")]
    NotFound,

    // --- config ---
    /// `min_decryption_version` < 0.
    #[error("min decryption version cannot be negative")]
    MinDecryptionNegative,
    /// `min_decryption_version` above the latest version.
    #[error("cannot set min decryption version of {requested}, latest key version is {latest}")]
    MinDecryptionTooHigh {
        /// Asked for.
        requested: i64,
        /// Latest version.
        latest: u32,
    },
    /// `min_encryption_version` < 0.
    #[error("min encryption version cannot be negative")]
    MinEncryptionNegative,
    /// `min_encryption_version` above the latest version.
    #[error("cannot set min encryption version of {requested}, latest key version is {latest}")]
    MinEncryptionTooHigh {
        /// Asked for.
        requested: i64,
        /// Latest version.
        latest: u32,
    },
    /// The minimum encryption version is below the minimum decryption version.
    #[error(
        "cannot set min encryption/decryption values; min encryption version of {encryption} must be greater than or equal to min decryption version of {decryption}"
    )]
    MinEncryptionBelowDecryption {
        /// The minimum encryption version.
        encryption: u32,
        /// The minimum decryption version.
        decryption: u32,
    },
    /// A minimum encryption version below the trimmed floor.
    #[error("min encryption version should not be less than min available version")]
    MinEncryptionBelowAvailable,
    /// A minimum decryption version below the trimmed floor (Vault's typo).
    #[error("min decryption version should not be less then min available version")]
    MinDecryptionBelowAvailable,

    // --- trim ---
    /// No `min_available_version`.
    #[error("missing min_available_version")]
    MissingMinAvailable,
    /// Lower than the current floor.
    #[error("minimum available version cannot be decremented")]
    TrimDecrement,
    /// `min_encryption_version` is 0.
    #[error("minimum available version cannot be set when minimum encryption version is not set")]
    TrimNeedsMinEncryption,
    /// Above the minimum encryption version (Vault's typo).
    #[error("minimum available version cannot be greater than minmum encryption version")]
    TrimAboveMinEncryption,
    /// Above the minimum decryption version.
    #[error("minimum available version cannot be greater than minimum decryption version")]
    TrimAboveMinDecryption,
    /// Negative.
    #[error("minimum available version cannot be negative")]
    TrimNegative,
    /// Zero.
    #[error("minimum available version should be positive")]
    TrimZero,

    // --- rotate ---
    /// An imported key that may not be rotated.
    #[error("imported key {0} does not allow rotation within Vault")]
    ImportedNoRotation(String),

    // --- encrypt, decrypt ---
    /// The type cannot encrypt.
    #[error("message encryption not supported for key type {0}")]
    EncryptionNotSupported(KeyType),
    /// The type cannot decrypt.
    #[error("message decryption not supported for key type {0}")]
    DecryptionNotSupported(KeyType),
    /// `key_version` < 0.
    #[error("requested version for encryption is negative")]
    EncryptVersionNegative,
    /// `key_version` above the latest.
    #[error("requested version for encryption is higher than the latest key version")]
    EncryptVersionTooNew,
    /// `key_version` below `min_encryption_version`.
    #[error("requested version for encryption is less than the minimum encryption key version")]
    EncryptVersionTooOld,
    /// A version outside the working set.
    #[error("no such key version")]
    NoSuchKeyVersion,
    /// A derived key used without a context.
    #[error(
        "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key"
    )]
    MissingContext,
    /// A caller-supplied nonce (only Vault 0.6.1 keys took one).
    #[error("provided nonce not allowed for this key")]
    NonceNotAllowed,
    /// Bad base64 in a plaintext or context: Go's own text.
    #[error("{0}")]
    Base64(String),
    /// Bad base64 in `associated_data`.
    #[error("unable to get associated_data/additional_data from factory[0]: {0}")]
    AssociatedDataBase64(String),
    /// `associated_data` on a type without AEAD.
    #[error("'[{index}].associated_data' provided for non-AEAD cipher suite {key_type}")]
    AssociatedDataUnsupported {
        /// Item index.
        index: usize,
        /// The key type.
        key_type: KeyType,
    },
    /// The ciphertext does not start with `vault:v`.
    #[error("invalid ciphertext: no prefix")]
    CiphertextNoPrefix,
    /// No `:` after the version.
    #[error("invalid ciphertext: wrong number of fields")]
    CiphertextFields,
    /// The version is not a number.
    #[error("invalid ciphertext: version number could not be decoded")]
    CiphertextVersion,
    /// The version is above the latest.
    #[error("invalid ciphertext: version is too new")]
    CiphertextTooNew,
    /// The version is below `min_decryption_version`.
    #[error("ciphertext or signature version is disallowed by policy (too old)")]
    TooOld,
    /// The payload is not base64.
    #[error("invalid ciphertext: could not decode base64")]
    CiphertextBase64,
    /// The payload is shorter than a nonce.
    #[error("invalid ciphertext length")]
    CiphertextLength,
    /// Wrong key, context, associated data, or tampering (Go's texts).
    #[error("{}", if matches!(.0, KeyType::ChaCha20Poly1305) { "chacha20poly1305: message authentication failed" } else { "cipher: message authentication failed" })]
    AuthenticationFailed(KeyType),
    /// A convergent version this engine no longer serves.
    #[error("refusing to support decryption with old convergent encryption key: version {0}")]
    OldConvergentVersion(u8),
    /// datakey `bits` other than 128, 256, 512.
    #[error("invalid bit length")]
    InvalidBits,

    // --- hmac ---
    /// `key_version` below `min_encryption_version`.
    #[error("cannot generate HMAC: version is too old (disallowed by policy)")]
    HmacVersionTooOld,
    /// `key_version` above the latest.
    #[error("key version does not exist; latest key version is {0}")]
    HmacVersionTooNew(u32),
    /// `key_version` < 0.
    #[error("key version does not exist (cannot be negative)")]
    HmacVersionNegative,
    /// An algorithm name Vault does not know. Vault formats the zero hash
    /// type instead of the name; the text is copied as it is.
    #[error("unsupported algorithm '\\x00'")]
    UnsupportedHmacAlgorithm,
    /// `none` as an HMAC algorithm.
    #[error("algorithm cannot be none")]
    HmacAlgorithmNone,
    /// Bad base64 in an HMAC or hash input.
    #[error("unable to decode input as base64: {0}")]
    InputBase64(String),
    /// The HMAC to verify does not start with `vault:v`.
    #[error("invalid HMAC to verify: no prefix")]
    HmacNoPrefix,
    /// No `:` after the version.
    #[error("invalid HMAC: wrong number of fields")]
    HmacFields,
    /// The version is not a number.
    #[error("invalid HMAC: version number could not be decoded")]
    HmacVersion,
    /// The MAC is not base64.
    #[error("unable to decode verification HMAC as base64: {0}")]
    HmacBase64(String),
    /// The version is above the latest.
    #[error("invalid HMAC: version is too new")]
    HmacTooNew,
    /// The version is below `min_decryption_version`.
    #[error("cannot verify HMAC: version is too old (disallowed by policy)")]
    HmacTooOld,

    // --- hash, random ---
    /// Unknown hash output format.
    #[error("unsupported encoding format {0}; must be \"hex\" or \"base64\"")]
    HashFormat(String),
    /// Unknown hash algorithm.
    #[error("unsupported algorithm {0}")]
    HashAlgorithm(String),
    /// `bytes` < 1.
    #[error("'bytes' cannot be less than 1")]
    RandomTooFew,
    /// `bytes` > 128 KiB.
    #[error("'bytes' should be less than 131072")]
    RandomTooMany,
    /// Unknown random output format.
    #[error("unsupported encoding format {0:?}; must be \"hex\" or \"base64\"")]
    RandomFormat(String),
    /// Unknown entropy source.
    #[error("unsupported entropy source {0:?}; must be \"platform\" or \"seal\", or \"all\"")]
    RandomSource(String),

    // --- export ---
    /// Unknown export type.
    #[error("invalid export type: {0}")]
    InvalidExportType(String),
    /// The key is not exportable.
    #[error("private key material is not exportable")]
    NotExportable,
    /// `encryption-key` of a type that cannot encrypt.
    #[error("encryption not supported for the key")]
    ExportEncryptionUnsupported,
    /// `signing-key` of a type that cannot sign.
    #[error("signing not supported for the key")]
    ExportSigningUnsupported,
    /// `certificate-chain` of a type that cannot sign.
    #[error("certificate chain not supported for keys that do not support signing")]
    ExportCertificateUnsupported,
    /// A version that is not a number.
    #[error("invalid key version")]
    InvalidExportVersion,
    /// A version below `min_decryption_version`.
    #[error("version for export is below minimum decryption version")]
    ExportVersionTooOld,
    /// A version that does not exist.
    #[error("version does not exist or cannot be found")]
    ExportVersionMissing,
    /// An export type that does not fit the key type.
    #[error("unknown key type {key_type} for export type {export_type}")]
    ExportTypeMismatch {
        /// The key's type.
        key_type: KeyType,
        /// The export type asked for.
        export_type: &'static str,
    },

    /// `certificate-chain` of a version without one.
    #[error("selected key version does not have a certificate chain imported")]
    NoCertificateChain,

    // --- backup, restore ---
    /// Backup of a key that is not exportable.
    #[error("exporting is disallowed on the policy")]
    ExportingDisallowed,
    /// Backup of a key without `allow_plaintext_backup`.
    #[error("plaintext backup is disallowed on the policy")]
    PlaintextBackupDisallowed,
    /// Restore to a name with a slash.
    #[error("key names cannot be paths")]
    KeyNamePath,
    /// Restore onto an existing key without `force`.
    #[error("key {0:?} already exists")]
    KeyExists(String),
    /// A backup blob that is not base64.
    #[error("{0}")]
    BackupBase64(String),
    /// A backup blob that is not the JSON Vault writes.
    #[error("invalid backup: {0}")]
    BackupFormat(String),
    /// A backup whose key ring breaks the version rules.
    #[error("failed to restore the policy {name:?}: {reason}")]
    RestoreInvalid {
        /// The key.
        name: String,
        /// Why.
        reason: String,
    },

    // --- sign, verify ---
    /// sign: no such key.
    #[error("signing key not found")]
    SigningKeyNotFound,
    /// verify: no such key.
    #[error("signature verification key not found")]
    VerificationKeyNotFound,
    /// sign with a type that cannot sign.
    #[error("key type {0} does not support signing")]
    SigningNotSupported(KeyType),
    /// verify a signature with a type that cannot sign.
    #[error("key type {0} does not support verification")]
    VerificationNotSupported(KeyType),
    /// An unknown `hash_algorithm`.
    #[error("invalid hash algorithm {0:?}")]
    InvalidSignatureHash(String),
    /// An unknown `marshaling_algorithm`.
    #[error("invalid marshaling type {0:?}")]
    InvalidMarshaling(String),
    /// `salt_length` that is no number.
    #[error("salt length neither 'auto', 'hash', nor an int: {0}")]
    SaltNotNumber(String),
    /// `salt_length` below -1.
    #[error("salt length is invalid: {0}")]
    SaltNegative(i64),
    /// `hash_algorithm=none` without its two companions.
    #[error("hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15")]
    HashNoneRequires,
    /// `key_version` < 0.
    #[error("requested version for signing is negative")]
    SignVersionNegative,
    /// `key_version` above the latest.
    #[error("requested version for signing is higher than the latest key version")]
    SignVersionTooNew,
    /// `key_version` below `min_encryption_version`.
    #[error("requested version for signing is less than the minimum encryption key version")]
    SignVersionTooOld,
    /// A public-key-only version asked to sign.
    #[error("requested version for signing does not contain a private part")]
    SignNoPrivateKey,
    /// A PSS salt length outside `[-1, max]`.
    #[error("requested salt length {0} is invalid")]
    SaltLengthInvalid(i64),
    /// `signature_algorithm` other than `pss` and `pkcs1v15` on an RSA key.
    #[error("unsupported rsa signature algorithm {0}")]
    UnsupportedRsaSignatureAlgorithm(String),
    /// A derived ed25519 key used without a context.
    #[error(
        "error deriving key: missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key"
    )]
    DeriveMissingContext,
    /// The signature does not start with `vault:v`.
    #[error("invalid signature: no prefix")]
    SignatureNoPrefix,
    /// No `:` after the version.
    #[error("invalid signature: wrong number of fields")]
    SignatureFields,
    /// The version is not a number.
    #[error("invalid signature: version number could not be decoded")]
    SignatureVersion,
    /// The version is above the latest.
    #[error("invalid signature: version is too new")]
    SignatureTooNew,
    /// The signature is not base64 of the marshaling's alphabet.
    #[error("invalid base64 signature value")]
    SignatureBase64,
    /// An ASN.1 ECDSA signature that does not parse.
    #[error("supplied signature is invalid")]
    SignatureInvalid,
    /// Bytes after an ASN.1 ECDSA signature.
    #[error("supplied signature contains extra data")]
    SignatureExtraData,
    /// An RSA hash aws-lc-rs does not sign with (keyward's limit; Vault
    /// accepts it).
    #[error(
        "hash algorithm {0} is not supported with RSA keys in keyward; use sha2-256, sha2-384 or sha2-512"
    )]
    RsaHashUnsupported(&'static str),
    /// `hash_algorithm=none` on RSA with an input that is not a PKCS#1
    /// DigestInfo (keyward's limit).
    #[error(
        "hash_algorithm=none with RSA keys needs a PKCS#1 v1.5 DigestInfo of SHA-256, SHA-384 or SHA-512 as input in keyward"
    )]
    RsaRawInput,
    /// RSA signing failed (Go's text of the cause).
    #[error("{0}")]
    RsaSign(String),
    /// RSA encryption failed.
    #[error("failed to RSA encrypt the plaintext: {0}")]
    RsaEncrypt(String),
    /// RSA-OAEP decryption failed.
    #[error("failed to RSA decrypt the ciphertext: crypto/rsa: decryption error")]
    RsaDecrypt,
    /// A public-key-only RSA version asked to decrypt.
    #[error("cannot decrypt ciphertext, key version does not have a private counterpart")]
    RsaNoPrivateKey,
    /// An RSA key was asked for (made, loaded, imported or restored) in a
    /// build without the `rsa` feature (keyward's; the server always has it).
    #[error("RSA keys are not available: transit-crypto was built without its `rsa` feature")]
    RsaNotBuilt,

    // --- import ---
    /// `convergent_encryption` given to import.
    #[error("import cannot be used on keys with convergent encryption enabled")]
    ImportConvergent,
    /// `auto_rotate_period` without `allow_rotation`.
    #[error("allow_rotation must be set to true if auto-rotation is enabled")]
    ImportRotationRequired,
    /// An unknown type name on import.
    #[error("unknown key type: {0}")]
    ImportUnknownKeyType(String),
    /// import onto an existing key.
    #[error(
        "the import path cannot be used with an existing key; use import-version to rotate an existing imported key"
    )]
    ImportExisting,
    /// An unknown `hash_function`.
    #[error("unknown hash function: {0}")]
    UnknownHashFunction(String),
    /// SHA224 as `hash_function`: aws-lc-rs has no RSA-OAEP with SHA-224
    /// (keyward's limit; Vault accepts it).
    #[error(
        "hash function SHA224 is not supported by keyward's RSA-OAEP; use SHA1, SHA256, SHA384 or SHA512"
    )]
    HashFunctionUnsupported,
    /// The ciphertext is not base64 (Go's text).
    #[error("{0}")]
    ImportBase64(String),
    /// No room for the wrapped ephemeral key.
    #[error("provided ciphertext is too short")]
    ImportCiphertextTooShort,
    /// The ephemeral key does not decrypt under the wrapping key.
    #[error("crypto/rsa: decryption error")]
    ImportDecryption,
    /// The ephemeral key is not 32 bytes.
    #[error("expected ephemeral AES key to be 256-bit")]
    EphemeralKeySize,
    /// AES-KWP refused the wrapped key (Tink's texts, as Vault uses Tink).
    #[error("kwp: {0}")]
    Kwp(&'static str),
    /// `public_key` for a type without public keys.
    #[error("provided type does not support public_key import")]
    PublicKeyImportUnsupported,
    /// The imported material does not fit the type.
    #[error("error importing key: {0}")]
    ImportFailed(String),
    /// import_version on a missing key.
    #[error("no key found with name {0}; to import a new key, use the import/ endpoint")]
    ImportVersionNoKey(String),
    /// import_version on a key made (or rotated) inside the engine.
    #[error("the import_version endpoint can only be used with an imported key")]
    ImportVersionNotImported,
    /// import_version on a convergent key.
    #[error("import_version cannot be used on keys with convergent encryption enabled")]
    ImportVersionConvergent,
    /// import_version: the material does not fit the key (Vault's text,
    /// without import's prefix).
    #[error("{0}")]
    ImportVersionFailed(String),
    /// import_version with `version` that cannot take this material.
    #[error("{0}")]
    ImportVersionRefused(&'static str),

    // --- cache ---
    /// A cache size of 1..=9 or negative.
    #[error("size must be 0 or a value greater or equal to 10")]
    CacheSize,

    // --- the server itself ---
    /// Storage failed.
    #[error("storage failed: {0}")]
    Storage(String),
    /// A stored key could not be read back.
    #[error("stored key {name} is unreadable: {reason}")]
    Corrupt {
        /// The key.
        name: String,
        /// Why.
        reason: String,
    },
    /// The system random source failed.
    #[error("no system randomness available")]
    Randomness,

    // --- csr, set-certificate, byok-export ---
    /// `csr` or `set-certificate` on a key whose name is unknown.
    #[error("key with provided name '{0}' not found")]
    CertKeyNotFound(String),
    /// `csr` or `set-certificate` on a type that cannot sign.
    #[error("key type '{0}' does not support signing")]
    CertNotSigning(KeyType),
    /// `csr` or `set-certificate` on a derived key.
    #[error("operation not supported for keys with derivation enabled")]
    CertDerived,
    /// The `csr` template has no PEM block.
    #[error("could not decode PEM CSR")]
    CsrTemplatePem,
    /// The `csr` template is not a certification request.
    #[error("could not parse the CSR template: {0}")]
    CsrTemplate(String),
    /// The version of a CSR is not in the working set.
    #[error("could not create the csr: no such key version")]
    CsrNoSuchVersion,
    /// The version of a CSR has no private key.
    #[error("could not create the csr: private key not imported for key version selected")]
    CsrNoPrivateKey,
    /// A PEM block of the chain could not be read.
    #[error("could not decode a PEM block in the certificate chain")]
    ChainPem,
    /// The chain has no `CERTIFICATE` block.
    #[error("provided certificate chain did not contain any valid PEM encoded certificate")]
    ChainEmpty,
    /// A certificate of the chain is not X.509 DER.
    #[error("could not parse a certificate in the certificate chain: x509: malformed certificate")]
    ChainCertificate,
    /// The first certificate is a CA.
    #[error(
        "failed to persist certificate chain: certificate in the first element is not a valid leaf certificate"
    )]
    ChainLeafIsCa,
    /// The last certificate of a longer chain is not a CA.
    #[error(
        "failed to persist certificate chain: certificate in the last element is not a valid CA certificate"
    )]
    ChainLastNotCa,
    /// A certificate between the leaf and the last one is not a CA.
    #[error(
        "failed to persist certificate chain: could not validate if there is only one leaf certificate in the provided chain"
    )]
    ChainSecondLeaf,
    /// The version of `set-certificate` is not in the working set.
    #[error("failed to persist certificate chain: no such key version")]
    ChainNoSuchVersion,
    /// The leaf's key is of another algorithm.
    #[error(
        "failed to persist certificate chain: could not validate key match between leaf certificate key and key entry in transit: provided leaf certificate public key algorithm '{algorithm}' does not match the transit key type '{key_type}'"
    )]
    ChainAlgorithm {
        /// Go's name of the leaf's key algorithm.
        algorithm: &'static str,
        /// The key's type.
        key_type: KeyType,
    },
    /// The leaf's key is not the version's.
    #[error(
        "failed to persist certificate chain: leaf certificate public key does not match the selected key version"
    )]
    ChainKeyMismatch,
    /// `byok-export` to a destination key that does not exist.
    #[error("no such destination key to export to")]
    ByokNoDestination,
    /// `byok-export` of a source key that does not exist.
    #[error("no such source key for export")]
    ByokNoSource,
    /// `byok-export` of a key that is not exportable.
    #[error("key is not exportable")]
    ByokNotExportable,
    /// `byok-export` of a public-key-only version.
    #[error("failed to wrap target key for import: version {0} has no private key")]
    ByokNoPrivateKey(u32),
    /// `byok-export` to a destination that cannot sign (so is not RSA).
    #[error("key wrapping (requring message signing) is not supported for key type {0}")]
    ByokDestinationType(KeyType),
    /// `byok-export` to a signing destination that is not RSA.
    #[error("unsupported key type in use; must be a rsa key")]
    ByokDestinationNotRsa,
}

impl Error {
    /// How the HTTP layer should answer this error.
    pub fn kind(&self) -> ErrorKind {
        use Error::*;
        match self {
            NotFound => ErrorKind::NotFound,
            Storage(_) | Corrupt { .. } | Randomness => ErrorKind::Internal,
            HmacKeySizeMissing
            | DerivationNotSupported(_)
            | BackupKeyNotFound(_)
            | ImportedNoRotation(_)
            | AssociatedDataBase64(_)
            | ExportTypeMismatch { .. }
            | ExportingDisallowed
            | PlaintextBackupDisallowed
            | KeyNamePath
            | KeyExists(_)
            | BackupBase64(_)
            | BackupFormat(_)
            | RestoreInvalid { .. }
            | SignVersionNegative
            | SignVersionTooNew
            | SignVersionTooOld
            | SignNoPrivateKey
            | UnsupportedRsaSignatureAlgorithm(_)
            | DeriveMissingContext
            | RsaSign(_)
            | RsaEncrypt(_)
            | RsaDecrypt
            | RsaNoPrivateKey
            | ImportConvergent
            | ImportRotationRequired
            | ImportExisting
            | ImportBase64(_)
            | ImportCiphertextTooShort
            | ImportDecryption
            | EphemeralKeySize
            | Kwp(_)
            | PublicKeyImportUnsupported
            | ImportFailed(_)
            | ImportVersionNoKey(_)
            | ImportVersionNotImported
            | ImportVersionConvergent
            | ImportVersionRefused(_)
            | ImportVersionFailed(_)
            | ConvergentNotSupported(_)
            | NoCertificateChain
            | ChainKeyMismatch
            | ByokNoDestination
            | ByokNoSource
            | ByokNoPrivateKey(_)
            | ByokDestinationType(_)
            | ByokDestinationNotRsa => ErrorKind::InvalidVault500,
            _ => ErrorKind::Invalid,
        }
    }
}

impl From<keyring_core::Error> for Error {
    fn from(e: keyring_core::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_vaults() {
        assert_eq!(
            Error::AuthenticationFailed(KeyType::ChaCha20Poly1305).to_string(),
            "chacha20poly1305: message authentication failed"
        );
        assert_eq!(
            Error::AuthenticationFailed(KeyType::Aes256Gcm96).to_string(),
            "cipher: message authentication failed"
        );
        assert_eq!(
            Error::UnsupportedHmacAlgorithm.to_string(),
            "unsupported algorithm '\\x00'"
        );
        assert_eq!(
            Error::KeyExists("k".into()).to_string(),
            "key \"k\" already exists"
        );
        assert_eq!(
            Error::DeleteRefused {
                name: "k".into(),
                reason: DeleteRefusal::NotAllowed
            }
            .to_string(),
            "error deleting policy k: deletion is not allowed for this key"
        );
        assert_eq!(
            Error::RandomSource("bogus".into()).to_string(),
            "unsupported entropy source \"bogus\"; must be \"platform\" or \"seal\", or \"all\""
        );
        assert_eq!(
            Error::HashFormat("base92".into()).to_string(),
            "unsupported encoding format base92; must be \"hex\" or \"base64\""
        );
    }
}
