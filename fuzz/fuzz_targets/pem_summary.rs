//! PEM files summarised for `/_admin/server/tls`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls_inventory::PemSummary;

fuzz_target!(|data: &[u8]| {
    let summary = PemSummary::of_file(data);
    let _ = serde_json::to_string(&summary);
});
