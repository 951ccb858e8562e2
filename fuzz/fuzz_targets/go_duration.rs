//! Go's duration, integer, float and bool syntax as Vault reads request
//! fields (`time.ParseDuration`, `parseutil.ParseDurationSecond`, `strconv`),
//! from any untrusted text: never a panic, and a duration that parses
//! parses to its negation with a `-` in front and to itself with a `+`.
#![no_main]

use http_api::go_parsers::{
    parse_bool, parse_duration_secs, parse_float, parse_go_duration, parse_int,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_duration_secs(text);
    let _ = parse_int(text);
    let _ = parse_float(text);
    let _ = parse_bool(text);
    if text.starts_with(['-', '+']) {
        return;
    }
    if let Ok(nanos) = parse_go_duration(text) {
        assert!(nanos >= 0, "{text:?} gave {nanos}");
        assert_eq!(parse_go_duration(&format!("-{text}")), Ok(-nanos), "{text:?}");
        assert_eq!(parse_go_duration(&format!("+{text}")), Ok(nanos), "{text:?}");
    }
});
