//! AEAD sealing in Vault's byte layout: `nonce (12) || ciphertext || tag (16)`.

use ring::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::key_type::Aead;
use crate::{Error, KeyType};

/// Bytes added to a plaintext: the nonce and the tag.
pub(crate) const OVERHEAD: usize = NONCE_LEN + 16;

fn key(aead: Aead, raw: &[u8]) -> Result<LessSafeKey, Error> {
    // The engine only ever passes keys of the cipher's length; a wrong
    // length means a corrupt record, not a caller's mistake.
    UnboundKey::new(aead.algorithm(), raw)
        .map(LessSafeKey::new)
        .map_err(|_| Error::Corrupt {
            name: String::new(),
            reason: "key material of the wrong length".into(),
        })
}

/// Random bytes drawn from the system source 4 KiB at a time, per thread:
/// a batch of 1,000 encryptions costs 3 `getrandom` calls instead of 1,000.
/// Each byte is handed out once.
struct NoncePool {
    buf: [u8; 4096],
    pos: usize,
}

thread_local! {
    static NONCES: std::cell::RefCell<NoncePool> = const {
        std::cell::RefCell::new(NoncePool { buf: [0; 4096], pos: 4096 })
    };
}

/// A random nonce.
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN], Error> {
    NONCES.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.pos + NONCE_LEN > pool.buf.len() {
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut pool.buf)
                .map_err(|_| Error::Randomness)?;
            pool.pos = 0;
        }
        let mut nonce = [0u8; NONCE_LEN];
        let start = pool.pos;
        nonce.copy_from_slice(&pool.buf[start..start + NONCE_LEN]);
        // Wipe what was handed out, so it is never handed out again.
        pool.buf[start..start + NONCE_LEN].fill(0);
        pool.pos += NONCE_LEN;
        Ok(nonce)
    })
}

/// Seals `plaintext`: `nonce || ciphertext || tag`.
pub(crate) fn seal(
    aead: Aead,
    raw_key: &[u8],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let key = key(aead, raw_key)?;
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| Error::Randomness)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens `nonce || ciphertext || tag`. Errors carry Go's texts: input
/// shorter than a nonce is `invalid ciphertext length`; anything that does
/// not authenticate is the cipher's `message authentication failed`.
pub(crate) fn open(
    key_type: KeyType,
    aead: Aead,
    raw_key: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if sealed.len() < NONCE_LEN {
        return Err(Error::CiphertextLength);
    }
    let key = key(aead, raw_key)?;
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::CiphertextLength)?;
    let mut buf = Zeroizing::new(rest.to_vec());
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| Error::AuthenticationFailed(key_type))?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gobase64;

    /// spec §17 (computed with Python's cryptography): key 0x00..0x1f,
    /// nonce 0x00..0x0b, plaintext "the quick brown fox".
    #[test]
    fn spec_vectors() {
        let key: Vec<u8> = (0u8..32).collect();
        let nonce: [u8; 12] = core::array::from_fn(|i| i as u8);
        let pt = b"the quick brown fox";
        let v =
            |aead, k: &[u8], aad: &[u8]| gobase64::encode(&seal(aead, k, nonce, aad, pt).unwrap());
        assert_eq!(
            v(Aead::Aes256Gcm, &key, b""),
            "AAECAwQFBgcICQoLM2qzO7SQq3jmYfX53p4WTeW5/w/KdcvN6/BO3Zfwl6AY5AI="
        );
        assert_eq!(
            v(Aead::Aes256Gcm, &key, b"associated"),
            "AAECAwQFBgcICQoLM2qzO7SQq3jmYfX53p4WTeW5/2o8q1m/2nZXLJwVgsgg4TE="
        );
        assert_eq!(
            v(Aead::Aes128Gcm, &key[..16], b""),
            "AAECAwQFBgcICQoL5wTC7hdunjcg8gP4WdQeKNVJYiF1QkG3WkpHHLvJj3mnGGQ="
        );
        assert_eq!(
            v(Aead::ChaCha20Poly1305, &key, b""),
            "AAECAwQFBgcICQoL/ZNtIFhizCPco12B92pgQ68fyk3lD53gkRTlfp1ZlaBPLcA="
        );
    }

    #[test]
    fn nonces_are_never_repeated() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            assert!(seen.insert(random_nonce().unwrap()));
        }
    }

    #[test]
    fn open_errors() {
        let key = [7u8; 32];
        let sealed = seal(Aead::Aes256Gcm, &key, [1; 12], b"", b"x").unwrap();
        assert_eq!(
            &open(KeyType::Aes256Gcm96, Aead::Aes256Gcm, &key, b"", &sealed).unwrap()[..],
            b"x"
        );
        assert_eq!(
            open(
                KeyType::Aes256Gcm96,
                Aead::Aes256Gcm,
                &key,
                b"",
                &sealed[..5]
            )
            .unwrap_err(),
            Error::CiphertextLength
        );
        assert_eq!(
            open(
                KeyType::Aes256Gcm96,
                Aead::Aes256Gcm,
                &key,
                b"",
                &sealed[..20]
            )
            .unwrap_err()
            .to_string(),
            "cipher: message authentication failed"
        );
        assert_eq!(
            open(KeyType::Aes256Gcm96, Aead::Aes256Gcm, &key, b"aad", &sealed).unwrap_err(),
            Error::AuthenticationFailed(KeyType::Aes256Gcm96)
        );
    }
}
