//! The `vault:v<N>:<base64>` framing of ciphertexts and HMACs.

/// The literal before the version number.
pub const PREFIX: &str = "vault:v";

/// `vault:v<version>:<payload>`.
pub fn format(version: u32, payload_base64: &str) -> String {
    let mut s = String::with_capacity(PREFIX.len() + 12 + payload_base64.len());
    s.push_str(PREFIX);
    s.push_str(&version.to_string());
    s.push(':');
    s.push_str(payload_base64);
    s
}

/// `vault:v<version>:` + base64(`payload`), encoded straight into the
/// output (one allocation: ciphertexts are the hot path).
pub fn format_encoded(version: u32, payload: &[u8]) -> String {
    let mut s = String::new();
    write_encoded(&mut s, version, payload);
    s
}

/// Appends `vault:v<version>:` + base64(`payload`) to `out`.
pub fn write_encoded(out: &mut String, version: u32, payload: &[u8]) {
    use base64::Engine;
    out.reserve(PREFIX.len() + 12 + payload.len().div_ceil(3) * 4);
    out.push_str(PREFIX);
    out.push_str(&version.to_string());
    out.push(':');
    base64::engine::general_purpose::STANDARD.encode_string(payload, out);
}

/// What is wrong with a framed value (each caller words it its own way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// It does not start with `vault:v`.
    NoPrefix,
    /// There is no `:` after the version.
    Fields,
    /// The version is not an integer (Go's `strconv.Atoi`).
    Version,
}

/// Splits `vault:v<N>:<rest>` into the version (which may be zero or
/// negative, as Go's `Atoi` reads it) and the rest, still base64.
pub fn parse(value: &str) -> Result<(i64, &str), FrameError> {
    let rest = value.strip_prefix(PREFIX).ok_or(FrameError::NoPrefix)?;
    let (version, payload) = rest.split_once(':').ok_or(FrameError::Fields)?;
    // Rust's integer parser accepts exactly what Go's Atoi accepts: an
    // optional sign and decimal digits, within range.
    let version = version.parse::<i64>().map_err(|_| FrameError::Version)?;
    Ok((version, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_like_vault() {
        assert_eq!(parse("vault:v1:abcd"), Ok((1, "abcd")));
        assert_eq!(parse("vault:v1:"), Ok((1, "")));
        assert_eq!(parse("vault:v-1:x"), Ok((-1, "x")));
        assert_eq!(parse("vault:v+2:x:y"), Ok((2, "x:y")));
        assert_eq!(parse("vault:v0:x"), Ok((0, "x")));
        assert_eq!(parse("vault:v1"), Err(FrameError::Fields));
        assert_eq!(parse("vault:v:x"), Err(FrameError::Version));
        assert_eq!(parse("vault:v 1:x"), Err(FrameError::Version));
        assert_eq!(
            parse("vault:v99999999999999999999:x"),
            Err(FrameError::Version)
        );
        assert_eq!(parse("vault:x1:x"), Err(FrameError::NoPrefix));
        assert_eq!(parse(""), Err(FrameError::NoPrefix));
        assert_eq!(format(7, "QQ=="), "vault:v7:QQ==");
        assert_eq!(format_encoded(7, b"A"), "vault:v7:QQ==");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = parse(&s);
        }

        #[test]
        fn format_then_parse(v in 1u32.., payload in "[A-Za-z0-9+/=]*") {
            let s = format(v, &payload);
            prop_assert_eq!(parse(&s), Ok((i64::from(v), payload.as_str())));
        }
    }
}
