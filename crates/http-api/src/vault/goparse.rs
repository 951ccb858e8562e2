//! Go's parsers, for Vault's field coercion texts: `strconv.ParseInt`,
//! `strconv.ParseBool`, `time.ParseDuration` and Vault's
//! `parseutil.ParseDurationSecond`, each with Go's error wording.

/// `%q` of a string, as Go writes it (enough for the ASCII inputs that
/// reach error texts; other characters are escaped as Rust does).
pub(crate) fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// `strconv.ParseInt(s, 10, 64)`: the reason on failure.
pub(crate) fn parse_int(s: &str) -> Result<i64, &'static str> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    s.parse::<i64>().map_err(|_| "value out of range")
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms (digits, a point, an
/// exponent, `inf`, `nan`): the value, or Go's reason.
pub(crate) fn parse_float(s: &str) -> Result<f64, &'static str> {
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
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
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

/// `time.ParseDuration`: nanoseconds, or Go's error text.
pub(crate) fn parse_go_duration(orig: &str) -> Result<i64, String> {
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
        if !frac_part.is_empty() {
            // Go keeps the fraction to nanosecond precision, truncating.
            let mut scale: u128 = 1;
            let mut frac: u128 = 0;
            for d in frac_part.bytes().take(30) {
                frac = frac * 10 + u128::from(d - b'0');
                scale *= 10;
            }
            value += frac * per / scale;
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
pub(crate) fn parse_duration_secs(input: &str) -> Result<i64, String> {
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
