//! The on-disk format of a data dir: one number for everything a keyward
//! stores (record paths, record encodings, the keystore file), so that a
//! newer keyward knows what to migrate and an older one knows to stop.
//!
//! The number is kept twice, for two jobs:
//!
//! - **In the store**, at [`FORMAT_PATH`], sealed by the barrier like every
//!   value: the authority on which layout the records are in. A migration
//!   step writes its changes and the new number in one atomic batch, so the
//!   record never disagrees with the data. A store without it is format 1
//!   (every data dir written before formats were numbered).
//! - **In the keystore file** (`format`), beside the store, in the clear: a
//!   fence that is read before the keys are used and before the database is
//!   opened, so a keyward that is too old refuses the data dir without
//!   touching a byte (and without needing the keys to say so). A migration
//!   raises the fence *before* it writes, so from its first write on, older
//!   keywards stay out. Format-1 keywards already refuse a keystore whose
//!   `format` is not 1, with a message naming it.
//!
//! The steps that bring a format-N store to [`DATA_FORMAT`] live in one
//! list, `http_api::upgrade` (they touch records owned by every layer).

use serde::{Deserialize, Serialize};

use crate::Error;

/// The format this keyward writes, and the newest it reads.
pub const DATA_FORMAT: u32 = 2;

/// Where the store keeps its format number.
pub const FORMAT_PATH: &str = "sys/format";

/// The version of keyward this crate was built as, for messages.
pub const KEYWARD_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatRecord {
    format: u32,
}

/// The value stored at [`FORMAT_PATH`] for `format`.
pub fn format_record(format: u32) -> Vec<u8> {
    serde_json::to_vec(&FormatRecord { format }).expect("a number serializes")
}

/// Reads the value stored at [`FORMAT_PATH`].
pub(crate) fn parse_format_record(bytes: &[u8]) -> Result<u32, Error> {
    let record: FormatRecord = serde_json::from_slice(bytes).map_err(|_| Error::Corrupt {
        path: FORMAT_PATH.into(),
    })?;
    if record.format == 0 {
        return Err(Error::Corrupt {
            path: FORMAT_PATH.into(),
        });
    }
    Ok(record.format)
}

/// Refuses `found` when this keyward cannot read it; `what` names the thing
/// (a data dir, a snapshot) in the message.
pub fn check_readable(what: &str, found: u32) -> Result<(), Error> {
    if found > DATA_FORMAT {
        return Err(Error::NewerFormat {
            what: what.to_string(),
            found,
        });
    }
    if found == 0 {
        return Err(Error::Storage(format!(
            "{what} has format 0, which no keyward writes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_newer_formats_are_refused_by_name() {
        assert_eq!(parse_format_record(&format_record(2)).unwrap(), 2);
        assert!(parse_format_record(b"{\"format\":0}").is_err());
        assert!(parse_format_record(b"2").is_err());
        check_readable("the data dir /d", 1).unwrap();
        check_readable("the data dir /d", DATA_FORMAT).unwrap();
        let e = check_readable("the data dir /d", DATA_FORMAT + 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("format {}", DATA_FORMAT + 1)), "{e}");
        assert!(e.contains(&format!("up to format {DATA_FORMAT}")), "{e}");
        assert!(e.contains("the data dir /d"), "{e}");
        assert!(e.contains("snapshot"), "the message says what to do: {e}");
    }
}
