//! Big unsigned integers between big-endian bytes and decimal text: Vault's
//! backup blob writes `*big.Int` values (EC coordinates, RSA components)
//! as bare JSON numbers of any size.

use zeroize::Zeroizing;

/// Decimal text of a big-endian magnitude (`"0"` for none).
pub(crate) fn to_decimal(bytes: &[u8]) -> Zeroizing<String> {
    // Repeated division of base-2^32 limbs by 10^9.
    let mut limbs: Zeroizing<Vec<u32>> = Zeroizing::new(
        bytes
            .rchunks(4)
            .rev()
            .map(|c| c.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
            .collect(),
    );
    let mut chunks: Zeroizing<Vec<u32>> = Zeroizing::new(Vec::new());
    while limbs.iter().any(|l| *l != 0) {
        let mut rem: u64 = 0;
        for l in limbs.iter_mut() {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
    }
    let mut out = Zeroizing::new(String::with_capacity(chunks.len() * 9 + 1));
    match chunks.split_last() {
        None => out.push('0'),
        Some((top, rest)) => {
            out.push_str(&top.to_string());
            for c in rest.iter().rev() {
                out.push_str(&format!("{c:09}"));
            }
        }
    }
    out
}

/// Big-endian magnitude (no leading zeros) of non-negative decimal text;
/// `None` for anything else (a sign, a fraction, an exponent).
pub(crate) fn from_decimal(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 5000 {
        return None;
    }
    // Little-endian base-2^32 limbs, multiplied by 10 and added to per digit.
    let mut limbs: Zeroizing<Vec<u32>> = Zeroizing::new(Vec::new());
    for d in text.bytes().map(|b| u64::from(b - b'0')) {
        let mut carry = d;
        for l in limbs.iter_mut() {
            let cur = u64::from(*l) * 10 + carry;
            *l = cur as u32;
            carry = cur >> 32;
        }
        if carry != 0 {
            limbs.push(carry as u32);
        }
    }
    let mut out = Zeroizing::new(Vec::with_capacity(limbs.len() * 4));
    for l in limbs.iter().rev() {
        out.extend_from_slice(&l.to_be_bytes());
    }
    let skip = out.iter().take_while(|b| **b == 0).count();
    out.drain(..skip);
    Some(out)
}

/// Left-pads a magnitude with zeros to `len` bytes (`None` when longer).
pub(crate) fn pad(magnitude: &[u8], len: usize) -> Option<Zeroizing<Vec<u8>>> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let m = &magnitude[skip..];
    if m.len() > len {
        return None;
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    out[len - m.len()..].copy_from_slice(m);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(&*to_decimal(&[]), "0");
        assert_eq!(&*to_decimal(&[0, 0]), "0");
        assert_eq!(&*to_decimal(&[1, 0]), "256");
        assert_eq!(&*to_decimal(&[0xff; 8]), "18446744073709551615");
        assert_eq!(
            &*to_decimal(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            "18446744073709551616"
        );
        assert_eq!(&from_decimal("65537").unwrap()[..], &[1, 0, 1]);
        assert_eq!(&from_decimal("0").unwrap()[..], &[] as &[u8]);
        assert!(from_decimal("-1").is_none() && from_decimal("1e5").is_none());
        assert_eq!(&pad(&[0, 1, 2], 4).unwrap()[..], &[0, 0, 1, 2]);
        assert!(pad(&[1, 2, 3], 2).is_none());
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let text = to_decimal(&bytes);
            let back = from_decimal(&text).unwrap();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            prop_assert_eq!(&back[..], &bytes[skip..]);
        }
    }
}
