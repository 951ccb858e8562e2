//! Go's parsers, for Vault's field coercion texts: `strconv.ParseInt`,
//! `strconv.ParseBool`, `time.ParseDuration` and Vault's
//! `parseutil.ParseDurationSecond`, each with Go's error wording.

/// `%q` of a string, as Go writes it (enough for the ASCII inputs that
/// reach error texts; other characters are escaped as Rust does).
pub(crate) fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// `strconv.ParseInt(s, 10, 64)`: the reason on failure.
pub fn parse_int(s: &str) -> Result<i64, &'static str> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    s.parse::<i64>().map_err(|_| "value out of range")
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms (digits, a point, an
/// exponent, `inf`, `nan`): the value, or Go's reason.
pub fn parse_float(s: &str) -> Result<f64, &'static str> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let named = ["inf", "infinity", "nan"]
        .iter()
        .any(|n| body.eq_ignore_ascii_case(n));
    let decimal = !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || b".eE+-".contains(&b));
    if !named && !decimal {
        return Err("invalid syntax");
    }
    let v: f64 = s.parse().map_err(|_| "invalid syntax")?;
    if v.is_infinite() && !named {
        return Err("value out of range");
    }
    Ok(v)
}

/// `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

const NANOS_PER: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Go's `leadingFraction`: the digits as an integer, as many as fit, and
/// the power of ten they were scaled by; digits past that are ignored.
fn leading_fraction(digits: &str) -> (u64, f64) {
    let mut x: u64 = 0;
    let mut scale = 1.0;
    for d in digits.bytes() {
        if x > (i64::MAX as u64) / 10 {
            break;
        }
        let y = x * 10 + u64::from(d - b'0');
        if y > 1 << 63 {
            break;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale)
}

/// `time.ParseDuration`: nanoseconds, or Go's error text.
pub fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig;
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if let Some(rest) = s.strip_prefix('.') {
            let frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &rest[..frac_len];
            s = &rest[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let Some((_, per)) = NANOS_PER.iter().find(|(u, _)| *u == unit) else {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                go_quote(unit),
                go_quote(orig)
            ));
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut value = whole.checked_mul(*per).ok_or_else(invalid)?;
        let (frac, scale) = leading_fraction(frac_part);
        if frac > 0 {
            // As Go: in float64, which is nanosecond-exact for fractions of hours.
            value += (frac as f64 * (*per as f64 / scale)) as u128;
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > i64::MAX as u128 + u128::from(negative) {
            return Err(invalid());
        }
    }
    let total = i128::try_from(total).map_err(|_| invalid())?;
    let signed = if negative { -total } else { total };
    i64::try_from(signed).map_err(|_| invalid())
}

/// Vault's `parseutil.ParseDurationSecond` of a string, in whole seconds
/// (may be negative; the caller refuses that).
pub fn parse_duration_secs(input: &str) -> Result<i64, String> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(0);
    }
    if let Ok(v) = parse_int(s) {
        // Seconds become a Go `time.Duration` (nanoseconds in an i64).
        if v.unsigned_abs() > (i64::MAX / 1_000_000_000) as u64 {
            return Err(
                "multiplication of durations resulted in overflow, one operand may be too large"
                    .into(),
            );
        }
        return Ok(v);
    }
    if let Some(days) = s.strip_suffix('d') {
        let v = parse_int(days)
            .map_err(|reason| format!("strconv.ParseInt: parsing {}: {reason}", go_quote(days)))?;
        return v
            .checked_mul(86_400)
            .ok_or_else(|| format!("time: invalid duration {}", go_quote(s)));
    }
    parse_go_duration(s).map(|nanos| nanos / 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_fractions_keep_what_fits_as_go_does() {
        // 30 digits of fraction of an hour overflowed the old integer sum.
        assert_eq!(
            parse_go_duration("0.999999999999999999999999999999h"),
            Ok(3_600_000_000_000)
        );
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("0.000000001s"), Ok(1));
        assert_eq!(parse_go_duration("1.0000000009s"), Ok(1_000_000_000));
    }

    proptest::proptest! {
        /// Whatever the text, the parser answers (no panic), and what it
        /// accepts is what a sum of its parts gives.
        #[test]
        fn any_text_parses_or_is_refused(text in "[-+]?([0-9]{0,25}(\\.[0-9]{0,40})?(ns|us|µs|ms|s|m|h|x)?){1,4}") {
            let _ = parse_go_duration(&text);
            let _ = parse_duration_secs(&text);
        }

        #[test]
        fn whole_units_add_up(h in 0u64..1000, m in 0u64..1000, s in 0u64..1000) {
            let text = format!("{h}h{m}m{s}s");
            let expected = ((h * 3600 + m * 60 + s) * 1_000_000_000) as i64;
            proptest::prop_assert_eq!(parse_go_duration(&text), Ok(expected));
        }
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float("1.5"), Ok(1.5));
        assert_eq!(parse_float("-2e3"), Ok(-2000.0));
        assert_eq!(parse_float("7"), Ok(7.0));
        assert!(parse_float("NaN").unwrap().is_nan());
        assert_eq!(parse_float("abc"), Err("invalid syntax"));
        assert_eq!(parse_float(""), Err("invalid syntax"));
        assert_eq!(parse_float("1e400"), Err("value out of range"));
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int("12"), Ok(12));
        assert_eq!(parse_int("+12"), Ok(12));
        assert_eq!(parse_int("-3"), Ok(-3));
        assert_eq!(parse_int("1.5"), Err("invalid syntax"));
        assert_eq!(parse_int(" 1"), Err("invalid syntax"));
        assert_eq!(parse_int(""), Err("invalid syntax"));
        assert_eq!(parse_int("99999999999999999999"), Err("value out of range"));
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_duration_secs("1.5h"), Ok(5400));
        assert_eq!(parse_duration_secs("1h0m1s"), Ok(3601));
        assert_eq!(parse_duration_secs("3600"), Ok(3600));
        assert_eq!(parse_duration_secs("1d"), Ok(86400));
        assert_eq!(parse_duration_secs(""), Ok(0));
        assert_eq!(parse_duration_secs("-1800s"), Ok(-1800));
        assert_eq!(parse_duration_secs("2562047h"), Ok(2562047 * 3600));
        assert_eq!(
            parse_duration_secs("forever").unwrap_err(),
            "time: invalid duration \"forever\""
        );
        assert_eq!(
            parse_duration_secs("9999999999h").unwrap_err(),
            "time: invalid duration \"9999999999h\""
        );
        assert_eq!(
            parse_duration_secs("3600.5").unwrap_err(),
            "time: missing unit in duration \"3600.5\""
        );
        assert_eq!(
            parse_duration_secs("1e3").unwrap_err(),
            "time: unknown unit \"e\" in duration \"1e3\""
        );
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("1.5ms"), Ok(1_500_000));
        assert_eq!(parse_go_duration(".5s"), Ok(500_000_000));
        assert!(parse_go_duration(".s").is_err());
    }
}
