//! Upgrades of the on-disk format: the numbered steps that bring a data
//! store written by an older keyward to [`DATA_FORMAT`], in one place.
//!
//! How a data dir's format is kept (a sealed record in the store, and a
//! fence in the keystore file that older keywards read before anything
//! else) is described in `keyring_core`'s `format` module and in
//! `docs/operations.md` ("Upgrading").
//!
//! [`migrate`] runs every time the API loads its state from the store: at
//! start, and after a snapshot restore put older records back. Each step
//! computes its changes from the store as it is, and writes them together
//! with the next format number in one atomic batch: a crash leaves the
//! store in the old format or the new one, never between, and the next
//! start runs the remaining steps. A step run again on its own output
//! finds nothing left to change.

use std::future::Future;
use std::pin::Pin;

use keyring_core::{Barrier, DATA_FORMAT, FORMAT_PATH, WriteBatch, format_record};

use crate::Error;

type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<WriteBatch, Error>> + Send + 'a>>;

/// One step: from format `from` to `from + 1`.
pub(crate) struct Step {
    /// The format the step reads.
    pub(crate) from: u32,
    /// What changes, for the log and the docs.
    pub(crate) what: &'static str,
    /// The changes, computed from the store; applied with the new format
    /// record in one write.
    pub(crate) run: for<'a> fn(&'a Barrier) -> StepFuture<'a>,
}

/// Every step, oldest first. Format `n` is brought up to date by the steps
/// from `STEPS[n - 1]` on.
pub(crate) const STEPS: &[Step] = &[Step {
    from: 1,
    what: "token records renamed from the token's SHA-256 to a salted HMAC of it \
           (auth/token/id/ -> auth/token/hmac/, new sealed salt at auth/token/salt)",
    run: |barrier| {
        Box::pin(async move {
            rbac_model::tokens::salted_record_names(barrier)
                .await
                .map_err(|e| Error::Record {
                    path: "auth/token/".into(),
                    reason: e.to_string(),
                })
        })
    },
}];

// The list ends at the format this keyward writes.
const _: () = assert!(STEPS.len() as u32 + 1 == DATA_FORMAT);

/// The path that exists in every store a keyward has started on (the
/// cluster identity, written at first start by every format).
const FIRST_START_PATH: &str = crate::state::CLUSTER_PATH;

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The format the store was in.
    pub from: u32,
    /// The format it is in now ([`DATA_FORMAT`]).
    pub to: u32,
    /// The steps that ran, by their description.
    pub steps: Vec<&'static str>,
}

/// Brings the store up to [`DATA_FORMAT`]: refuses a newer format, stamps
/// a new store, raises the keystore's fence, then runs the missing steps,
/// each in one atomic write with its format record.
pub async fn migrate(barrier: &Barrier) -> Result<Migration, Error> {
    let fence = barrier.format_fence()?;
    let stored = barrier.data_format().await?;
    let fresh = stored == 1
        && barrier.get(FORMAT_PATH).await?.is_none()
        && barrier.get(FIRST_START_PATH).await?.is_none();
    if fresh {
        barrier
            .put(FORMAT_PATH, &format_record(DATA_FORMAT))
            .await?;
        barrier.raise_format_fence(DATA_FORMAT).await?;
        return Ok(Migration {
            from: DATA_FORMAT,
            to: DATA_FORMAT,
            steps: Vec::new(),
        });
    }
    // From here on a keyward too old for the result stays out.
    if fence < DATA_FORMAT {
        barrier.raise_format_fence(DATA_FORMAT).await?;
    }
    let mut done = Vec::new();
    for step in STEPS.iter().filter(|s| s.from >= stored) {
        tracing::warn!(
            target: "keyward::upgrade",
            from = step.from,
            to = step.from + 1,
            step = step.what,
            "migrating the data store"
        );
        let mut batch = (step.run)(barrier).await?;
        batch.put(FORMAT_PATH, format_record(step.from + 1));
        barrier.write(batch).await?;
        done.push(step.what);
    }
    if !done.is_empty() {
        tracing::warn!(target: "keyward::upgrade", from = stored, to = DATA_FORMAT, "data store migrated");
    }
    Ok(Migration {
        from: stored,
        to: DATA_FORMAT,
        steps: done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring_core::MemoryStore;
    use std::sync::Arc;

    #[test]
    fn steps_are_numbered_without_gaps() {
        for (i, step) in STEPS.iter().enumerate() {
            assert_eq!(step.from, i as u32 + 1, "{}", step.what);
        }
    }

    #[tokio::test]
    async fn a_new_store_is_stamped_and_an_old_one_migrated_once() {
        let fresh = Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap();
        let m = migrate(&fresh).await.unwrap();
        assert!(m.steps.is_empty());
        assert_eq!(fresh.data_format().await.unwrap(), DATA_FORMAT);

        // A format-1 store: started once (cluster record), no format record.
        // (Token records moving is tested with the token store, and
        // end to end on a data dir made by a format-1 keyward.)
        let old = Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap();
        old.put(FIRST_START_PATH, b"{}").await.unwrap();
        let m = migrate(&old).await.unwrap();
        assert_eq!((m.from, m.to, m.steps.len()), (1, DATA_FORMAT, STEPS.len()));
        assert_eq!(old.data_format().await.unwrap(), DATA_FORMAT);
        assert!(old.get("auth/token/salt").await.unwrap().is_some());
        let again = migrate(&old).await.unwrap();
        assert!(again.steps.is_empty(), "nothing left to do");

        // A newer store is refused, and left as it is.
        old.put(FORMAT_PATH, &format_record(DATA_FORMAT + 1))
            .await
            .unwrap();
        let e = migrate(&old).await.unwrap_err().to_string();
        assert!(e.contains(&format!("format {}", DATA_FORMAT + 1)), "{e}");
    }
}
