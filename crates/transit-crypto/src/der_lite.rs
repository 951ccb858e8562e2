//! The little DER this engine writes and the one structure it parses the
//! way Go does: an ECDSA signature, `SEQUENCE { INTEGER r, INTEGER s }`,
//! read as `encoding/asn1.Unmarshal` reads it (so the same inputs are
//! errors, `valid: false` or checked, as in Vault). PKCS#8 and SPKI are
//! parsed with the `der`/`pkcs8`/`spki` crates.

/// Appends a DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// `tag || len || content`.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already encoded elements.
pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes (minimal).
pub(crate) fn uint(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let m = &magnitude[skip..];
    let mut content = Vec::with_capacity(m.len() + 1);
    if m.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(m);
    tlv(0x02, &content)
}

/// A BIT STRING with no unused bits.
pub(crate) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(0x03, &content)
}

/// PEM with Go's layout: 64-character lines, a newline after the footer.
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let b64 = crate::gobase64::encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// The DER inside the first PEM block labelled `label`, as Go's
/// `pem.Decode` finds it (text before the block is skipped; headers are
/// not supported).
pub(crate) fn pem_decode(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    crate::gobase64::decode(&body).ok()
}

/// Why an ASN.1 ECDSA signature was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureDerError {
    /// Not `SEQUENCE { INTEGER, INTEGER ... }` as Go's `asn1.Unmarshal` reads it.
    Invalid,
    /// Bytes after the sequence.
    ExtraData,
}

/// One TLV at the start of `input`, with Go's DER rules for the header
/// (no indefinite length, minimal long-form lengths, low tag numbers).
/// Returns (tag, content, rest).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len_bytes, after) = rest.split_at(n);
        rest = after;
        if len_bytes[0] == 0 {
            return None;
        }
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return None;
        }
        len
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

/// A signed INTEGER as Go reads it: non-empty, minimally encoded. Returns
/// (negative, magnitude without leading zeros).
fn read_integer(content: &[u8]) -> Option<(bool, Vec<u8>)> {
    if content.is_empty() {
        return None;
    }
    if content.len() > 1
        && ((content[0] == 0 && content[1] & 0x80 == 0)
            || (content[0] == 0xff && content[1] & 0x80 == 0x80))
    {
        return None;
    }
    let negative = content[0] & 0x80 != 0;
    if !negative {
        let skip = content.iter().take_while(|b| **b == 0).count();
        return Some((false, content[skip..].to_vec()));
    }
    // Two's complement magnitude: invert and add one.
    let mut mag: Vec<u8> = content.iter().map(|b| !b).collect();
    for b in mag.iter_mut().rev() {
        let (v, carry) = b.overflowing_add(1);
        *b = v;
        if !carry {
            break;
        }
    }
    let skip = mag.iter().take_while(|b| **b == 0).count();
    Some((true, mag[skip..].to_vec()))
}

/// r and s of an ASN.1 ECDSA signature: (negative, magnitude) each.
pub type SignatureParts = ((bool, Vec<u8>), (bool, Vec<u8>));

/// Reads `SEQUENCE { INTEGER r, INTEGER s }` as Go's `asn1.Unmarshal` into
/// a two-field struct: trailing elements inside the sequence are ignored,
/// bytes after it are [`SignatureDerError::ExtraData`].
pub fn parse_ecdsa_signature(input: &[u8]) -> Result<SignatureParts, SignatureDerError> {
    let (tag, content, rest) = read_tlv(input).ok_or(SignatureDerError::Invalid)?;
    if tag != 0x30 {
        return Err(SignatureDerError::Invalid);
    }
    let (tag_r, r, after_r) = read_tlv(content).ok_or(SignatureDerError::Invalid)?;
    let (tag_s, s, _) = read_tlv(after_r).ok_or(SignatureDerError::Invalid)?;
    if tag_r != 0x02 || tag_s != 0x02 {
        return Err(SignatureDerError::Invalid);
    }
    let r = read_integer(r).ok_or(SignatureDerError::Invalid)?;
    let s = read_integer(s).ok_or(SignatureDerError::Invalid)?;
    if !rest.is_empty() {
        return Err(SignatureDerError::ExtraData);
    }
    Ok((r, s))
}

/// `SEQUENCE { INTEGER r, INTEGER s }` from non-negative magnitudes.
pub(crate) fn ecdsa_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    sequence(&[&uint(r), &uint(s)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_go_rules() {
        let sig = ecdsa_signature(&[0x80, 1], &[0, 0, 5]);
        assert_eq!(sig, [0x30, 8, 2, 3, 0, 0x80, 1, 2, 1, 5]);
        let ((rn, r), (sn, s)) = parse_ecdsa_signature(&sig).unwrap();
        assert_eq!((rn, r, sn, s), (false, vec![0x80, 1], false, vec![5]));
        let mut extra = sig.clone();
        extra.push(0);
        assert_eq!(
            parse_ecdsa_signature(&extra),
            Err(SignatureDerError::ExtraData)
        );
        // Non-minimal integer, empty integer, wrong tags.
        assert!(parse_ecdsa_signature(&[0x30, 6, 2, 2, 0, 1, 2, 0]).is_err());
        assert!(parse_ecdsa_signature(&[0x30, 4, 2, 0, 2, 0]).is_err());
        assert!(parse_ecdsa_signature(&[0x31, 6, 2, 1, 1, 2, 1, 1]).is_err());
        // Negative values are read (Vault then answers valid: false).
        let ((rn, r), _) = parse_ecdsa_signature(&[0x30, 6, 2, 1, 0xff, 2, 1, 1]).unwrap();
        assert!(rn && r == vec![1]);
        // Trailing elements inside the sequence are ignored, as Go does.
        assert!(parse_ecdsa_signature(&[0x30, 9, 2, 1, 1, 2, 1, 1, 5, 1, 0]).is_ok());
        // Long form for a short length is not DER.
        assert!(parse_ecdsa_signature(&[0x30, 0x81, 6, 2, 1, 1, 2, 1, 1]).is_err());
    }

    #[test]
    fn pem_layout() {
        let p = pem("PUBLIC KEY", &[1u8; 100]);
        assert!(p.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(p.ends_with("\n-----END PUBLIC KEY-----\n"));
        assert_eq!(p.lines().nth(1).unwrap().len(), 64);
        assert_eq!(pem_decode(&p, "PUBLIC KEY").unwrap(), vec![1u8; 100]);
        assert!(pem_decode(&p, "PRIVATE KEY").is_none());
    }

    proptest! {
        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_ecdsa_signature(&bytes);
        }

        #[test]
        fn encoder_output_parses(
            r in proptest::collection::vec(any::<u8>(), 0..70),
            s in proptest::collection::vec(any::<u8>(), 0..70),
        ) {
            let sig = ecdsa_signature(&r, &s);
            let ((rn, rm), (sn, sm)) = parse_ecdsa_signature(&sig).unwrap();
            let strip = |v: &[u8]| v.iter().skip_while(|b| **b == 0).copied().collect::<Vec<u8>>();
            prop_assert!(!rn && !sn);
            prop_assert_eq!(rm, strip(&r));
            prop_assert_eq!(sm, strip(&s));
        }
    }
}
