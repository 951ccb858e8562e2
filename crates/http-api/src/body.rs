//! Reading a request body within the size and time limits.

use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::family::Refusal;

/// Reads the whole body, refusing more than `limit` bytes or a body that
/// takes longer than `timeout` to arrive (zero: no time limit).
pub(crate) async fn read_limited<B>(
    body: B,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Refusal>
where
    B: Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let collect = Limited::new(body, limit).collect();
    let collected = if timeout.is_zero() {
        collect.await
    } else {
        match tokio::time::timeout(timeout, collect).await {
            Ok(collected) => collected,
            Err(_) => return Err(Refusal::BodyTimeout { timeout }),
        }
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Refusal::TooLarge { limit })
        }
        Err(e) => Err(Refusal::BadBody(e.to_string())),
    }
}
