//! What the examples share: the wall clock the library crates ask for, the
//! server's data-dir layout, and a small HTTP/1.1 client.
//!
//! keyward's library crates never read the clock or pick files on their
//! own: the embedding application hands them a [`Clock`] and the paths.
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use keyring_core::{Barrier, Clock, Keystore, RedbStore, Timestamp};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::new(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        )
    }
}

/// The current time in Unix seconds (what `tls-inventory` checks validity against).
pub fn unix_now() -> i64 {
    SystemClock.now().unix_secs()
}

/// Opens an encrypted store in the layout the keyward server uses, so the
/// server can open the same directory (while this process is not using it):
/// `DIR/keyward.redb` (the database), `DIR/keystore.json` (the data key,
/// wrapped by each 32-byte key file of `keyfolder`).
///
/// The first call on an empty directory writes one random key into an empty
/// `keyfolder` and initializes the keystore; later calls unlock it, and a
/// wrong key is refused before the database is touched.
pub fn open_data_dir(dir: &Path, keyfolder: &Path) -> Result<Arc<Barrier>, keyring_core::Error> {
    let keystore = Keystore::new(dir.join("keystore.json"), Some(keyfolder.to_path_buf()));
    let unlocked = if keystore.exists() {
        keystore.unlock()?
    } else {
        let io = |e: std::io::Error| keyring_core::Error::Storage(e.to_string());
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::create_dir_all(keyfolder).map_err(io)?;
        if std::fs::read_dir(keyfolder).map_err(io)?.next().is_none() {
            let mut key = [0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
                .map_err(|_| keyring_core::Error::Storage("no system randomness".into()))?;
            // Key material: readable by this user only.
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(keyfolder.join("app.key"))
                .and_then(|mut f| f.write_all(&key).and_then(|()| f.sync_all()))
                .map_err(io)?;
        }
        keystore.initialize()?
    };
    let store = RedbStore::open(dir.join("keyward.redb"))?;
    Ok(Arc::new(Barrier::new(Arc::new(store), unlocked)))
}

/// One HTTP answer: status, headers (names lower-case) and body.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    /// The body as JSON (panics when it is not: the examples assert).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` over `io` and reads
/// the whole answer. Enough for the examples; a real client would pool
/// connections.
pub async fn http1<S>(
    mut io: S,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Answer>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    io.write_all(req.as_bytes()).await?;
    io.flush().await?;
    let mut raw = Vec::new();
    // A TLS peer may close without close_notify after `Connection: close`;
    // what was read until then is the answer.
    if let Err(e) = io.read_to_end(&mut raw).await
        && e.kind() != std::io::ErrorKind::UnexpectedEof
    {
        return Err(e);
    }
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> std::io::Result<Answer> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
