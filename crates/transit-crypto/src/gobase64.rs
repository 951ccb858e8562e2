//! Base64 as Vault reads it: Go's `base64.StdEncoding.DecodeString`, which
//! skips `\r` and `\n`, accepts non-zero trailing bits, and reports the first
//! bad byte as `illegal base64 data at input byte N`. Vault puts that text in
//! its answers, so the offsets must be Go's.
//!
//! Valid canonical input (the common case) takes the fast path of the
//! `base64` crate; anything else runs the port of Go's decoder, which decides
//! whether it is accepted and where it fails.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// Go's `CorruptInputError`: the offset of the first byte that does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorruptInput(pub usize);

impl std::fmt::Display for CorruptInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "illegal base64 data at input byte {}", self.0)
    }
}

/// Decodes standard, padded base64 exactly as Go does.
pub fn decode(input: &str) -> Result<Vec<u8>, CorruptInput> {
    if let Ok(bytes) = STANDARD.decode(input) {
        return Ok(bytes);
    }
    decode_like_go(input.as_bytes())
}

/// [`decode`] into memory that is wiped when dropped (plaintexts, keys).
pub fn decode_secret(input: &str) -> Result<Zeroizing<Vec<u8>>, CorruptInput> {
    decode(input).map(Zeroizing::new)
}

/// Standard padded base64.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Go's `base64.RawURLEncoding`: URL alphabet, no padding (JWS).
const RAW_URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// URL-safe base64 without padding (JWS signatures).
pub fn encode_raw_url(bytes: &[u8]) -> String {
    RAW_URL.encode(bytes)
}

/// Decodes as Go's `base64.RawURLEncoding.DecodeString`: `\r` and `\n`
/// are skipped, padding is an error, trailing bits are accepted.
pub fn decode_raw_url(input: &str) -> Option<Vec<u8>> {
    if input.bytes().any(is_newline) {
        let clean: String = input.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        return RAW_URL.decode(clean).ok();
    }
    RAW_URL.decode(input).ok()
}

fn value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn is_newline(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// A port of Go's `decodeQuantum` loop (encoding/base64, padding '=', not strict).
fn decode_like_go(src: &[u8]) -> Result<Vec<u8>, CorruptInput> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0usize;
    while si < src.len() {
        let mut dbuf = [0u8; 4];
        let mut dlen = 4usize;
        let mut trailing: Option<CorruptInput> = None;
        let mut j = 0usize;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                // Padding is required: a short final quantum is corrupt.
                return Err(CorruptInput(si - j));
            }
            let c = src[si];
            si += 1;
            if let Some(v) = value(c) {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if is_newline(c) {
                continue;
            }
            if c != b'=' {
                return Err(CorruptInput(si - 1));
            }
            // Padding: the end of the input.
            match j {
                0 | 1 => return Err(CorruptInput(si - 1)),
                2 => {
                    while si < src.len() && is_newline(src[si]) {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(CorruptInput(src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(CorruptInput(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && is_newline(src[si]) {
                si += 1;
            }
            if si < src.len() {
                trailing = Some(CorruptInput(si));
            }
            dlen = j;
            break;
        }
        let val = u32::from(dbuf[0]) << 18
            | u32::from(dbuf[1]) << 12
            | u32::from(dbuf[2]) << 6
            | u32::from(dbuf[3]);
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if let Some(e) = trailing {
            return Err(e);
        }
        if dlen < 4 {
            // Padding ended the input.
            return Ok(out);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(s: &str) -> String {
        decode(s).unwrap_err().to_string()
    }

    #[test]
    fn go_offsets() {
        // Texts observed from OpenBao (Go's decoder).
        assert_eq!(err("%%%"), "illegal base64 data at input byte 0");
        assert_eq!(err("not*base64"), "illegal base64 data at input byte 3");
        assert_eq!(err(":;.?"), "illegal base64 data at input byte 0");
        assert_eq!(err("abc"), "illegal base64 data at input byte 0");
        assert_eq!(err("abcde"), "illegal base64 data at input byte 4");
        assert_eq!(err("ab="), "illegal base64 data at input byte 3");
        assert_eq!(err("a==="), "illegal base64 data at input byte 1");
        assert_eq!(err("ab==x"), "illegal base64 data at input byte 4");
        assert_eq!(err("ab=x"), "illegal base64 data at input byte 2");
    }

    #[test]
    fn go_leniency() {
        assert_eq!(decode("aGk=").unwrap(), b"hi");
        // Non-zero trailing bits are accepted (not strict).
        assert_eq!(decode("aGl=").unwrap(), b"hi");
        // Newlines are skipped anywhere.
        assert_eq!(decode("aG\nk=\r\n").unwrap(), b"hi");
        assert_eq!(decode("").unwrap(), b"");
        assert_eq!(decode("\n").unwrap(), b"");
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes.clone());
            prop_assert_eq!(decode_like_go(encode(&bytes).as_bytes()).unwrap(), bytes);
        }

        #[test]
        fn never_panics(s in ".{0,64}") {
            let _ = decode(&s);
        }

        #[test]
        fn fast_path_agrees_with_the_port(s in "[A-Za-z0-9+/=\n]{0,24}") {
            if let Ok(fast) = STANDARD.decode(&s) {
                prop_assert_eq!(decode_like_go(s.as_bytes()).unwrap(), fast);
            }
        }
    }
}
