//! Times as Go's `time.Time` writes them in JSON: RFC 3339 with up to nine
//! fractional digits, trailing zeros dropped (`RFC3339Nano`), in UTC.

use keyring_core::Timestamp;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Go's zero time, written for unused backup archive entries.
pub const ZERO: &str = "0001-01-01T00:00:00Z";

/// `2026-11-27T01:13:29.095130881Z`.
pub fn format_rfc3339_nano(ts: Timestamp) -> String {
    let Ok(dt) = OffsetDateTime::from_unix_timestamp(ts.unix_secs()) else {
        return ZERO.to_string();
    };
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let nanos = ts.subsec_nanos();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Reads an RFC 3339 time with any offset.
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let dt = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some(Timestamp::new(dt.unix_timestamp(), dt.nanosecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go() {
        let ts = Timestamp::new(1_795_747_648, 95_130_881);
        assert_eq!(format_rfc3339_nano(ts), "2026-11-27T02:47:28.095130881Z");
        assert_eq!(
            format_rfc3339_nano(Timestamp::new(1_795_747_648, 500_000_000)),
            "2026-11-27T02:47:28.5Z"
        );
        assert_eq!(
            format_rfc3339_nano(Timestamp::from_unix_secs(0)),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(parse_rfc3339("2026-11-27T02:47:28.095130881Z"), Some(ts));
        assert_eq!(
            parse_rfc3339("2026-11-27T03:47:28.095130881+01:00"),
            Some(ts)
        );
        assert_eq!(parse_rfc3339("nonsense"), None);
    }
}
