//! Bodies of `PUT /_admin/log/level`, as the handler turns them into changes.
#![no_main]

use audit_config::LogLevels;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(data) else { return };
    let changes: Vec<(String, Option<String>)> = map
        .into_iter()
        .map(|(k, v)| (k, v.as_str().map(str::to_string)))
        .collect();
    let mut levels = LogLevels::default();
    let before = levels.clone();
    if levels.apply(&changes).is_err() {
        assert_eq!(levels, before, "a refused change must change nothing");
    }
});
