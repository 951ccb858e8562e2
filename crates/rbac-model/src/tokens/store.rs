//! Issuing, finding, renewing and revoking tokens.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use keyring_core::{Barrier, Timestamp, WriteBatch};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;

use super::entry::{TokenEntry, TokenId, TokenRequest};

/// Token records (format 2 on): `auth/token/hmac/<hex HMAC-SHA256(salt, id)>`.
///
/// Storage paths are not sealed by the barrier (only values are), so they
/// must not reveal anything about a token. Format 1 kept records at
/// `auth/token/id/<hex SHA-256 of the token>`: whoever had a copy of the
/// data dir or of a snapshot, without its keys, could test guesses of a
/// weak token (a dev root token such as `root`) against those names. With a
/// per-store random salt, which is itself sealed, the names say nothing.
/// Vault salts its token ids for the same reason.
const PREFIX: &str = "auth/token/hmac/";
/// Where format 1 kept token records (read only by the migration).
const FORMAT1_PREFIX: &str = "auth/token/id/";
/// The 32-byte salt of the record names, sealed by the barrier.
const SALT_PATH: &str = "auth/token/salt";

/// The HMAC key that names token records.
struct Salt(ring::hmac::Key);

impl Salt {
    fn from_bytes(path: &str, bytes: &[u8]) -> Result<Self, TokenError> {
        if bytes.len() != 32 {
            return Err(TokenError::Storage(format!(
                "{path}: a salt of {} bytes, not 32",
                bytes.len()
            )));
        }
        Ok(Salt(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes)))
    }

    /// Reads the store's salt, or makes one (and returns its bytes to be
    /// stored) when the store has none yet.
    async fn load_or_new(
        barrier: &Barrier,
        rng: &SystemRandom,
    ) -> Result<(Self, Option<zeroize::Zeroizing<Vec<u8>>>), TokenError> {
        if let Some(bytes) = barrier.get(SALT_PATH).await? {
            return Ok((Salt::from_bytes(SALT_PATH, &bytes)?, None));
        }
        let mut fresh = zeroize::Zeroizing::new(vec![0u8; 32]);
        rng.fill(&mut fresh)
            .map_err(|_| TokenError::Storage("no randomness".into()))?;
        Ok((Salt::from_bytes(SALT_PATH, &fresh)?, Some(fresh)))
    }

    /// The storage path of the token with this id.
    fn path(&self, id: &TokenId) -> String {
        let tag = ring::hmac::sign(&self.0, id.as_bytes());
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("{PREFIX}{hex}")
    }
}

/// The storage changes that move format-1 token records (named by the
/// token's SHA-256) to format 2 (named by a salted HMAC of it), with the
/// new salt: for one atomic write together with the format record. Running
/// it again on a moved store finds nothing to move and returns an empty
/// batch (apart from the salt it found).
pub async fn salted_record_names(barrier: &Barrier) -> Result<WriteBatch, TokenError> {
    let rng = SystemRandom::new();
    let (salt, fresh) = Salt::load_or_new(barrier, &rng).await?;
    let mut batch = WriteBatch::new();
    if let Some(bytes) = fresh {
        batch.put(SALT_PATH, bytes.to_vec());
    }
    for (path, bytes) in barrier.scan(FORMAT1_PREFIX).await? {
        let entry: TokenEntry = serde_json::from_slice(&bytes)
            .map_err(|e| TokenError::Storage(format!("{path}: {e}")))?;
        if path[FORMAT1_PREFIX.len()..] != entry.id.hex() {
            return Err(TokenError::Storage(format!(
                "{path}: the record holds another token"
            )));
        }
        batch.delete(path);
        batch.put(salt.path(&entry.id), bytes.to_vec());
    }
    Ok(batch)
}

/// Vault's default and maximum lease TTL: 768 hours.
pub const DEFAULT_TTL_SECS: u64 = 768 * 3600;

/// Why a token operation was refused; texts are Vault's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// A non-root parent asked for policies it does not have.
    #[error("child policies must be subset of parent")]
    PoliciesNotSubset,
    /// The token cannot be renewed.
    #[error("lease is not renewable")]
    NotRenewable,
    /// No such token (or accessor).
    #[error("bad token")]
    NotFound,
    /// Storage failed.
    #[error("storage failed: {0}")]
    Storage(String),
}

impl From<keyring_core::Error> for TokenError {
    fn from(e: keyring_core::Error) -> Self {
        TokenError::Storage(e.to_string())
    }
}

/// What spending one use of a token did.
#[derive(Debug)]
pub enum TokenUse {
    /// Counted (or the token has no use limit).
    Counted,
    /// That was the last use: the token is revoked; its entry as it was.
    Last(Arc<TokenEntry>),
    /// The token was no longer there.
    Gone,
}

#[derive(Default)]
struct State {
    by_id: HashMap<TokenId, Arc<TokenEntry>>,
    by_accessor: HashMap<String, TokenId>,
    children: HashMap<String, BTreeSet<String>>,
}

impl State {
    fn insert(&mut self, entry: Arc<TokenEntry>) {
        if let Some(parent) = &entry.parent {
            self.children
                .entry(parent.clone())
                .or_default()
                .insert(entry.accessor.clone());
        }
        self.by_accessor.insert(entry.accessor.clone(), entry.id);
        self.by_id.insert(entry.id, entry);
    }

    fn remove(&mut self, id: TokenId) -> Option<Arc<TokenEntry>> {
        let entry = self.by_id.remove(&id)?;
        self.by_accessor.remove(&entry.accessor);
        if let Some(parent) = &entry.parent
            && let Some(siblings) = self.children.get_mut(parent)
        {
            siblings.remove(&entry.accessor);
        }
        Some(entry)
    }

    /// The token and every descendant, parents before children.
    fn subtree(&self, id: TokenId) -> Vec<TokenId> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            let Some(entry) = self.by_id.get(&id) else {
                continue;
            };
            out.push(id);
            if let Some(kids) = self.children.get(&entry.accessor) {
                stack.extend(kids.iter().filter_map(|a| self.by_accessor.get(a).copied()));
            }
        }
        out
    }

    /// A token is alive when it and every ancestor are unexpired.
    fn alive(&self, entry: &TokenEntry, now: Timestamp) -> bool {
        let mut current = entry;
        for _ in 0..256 {
            if current.is_expired(now) {
                return false;
            }
            let Some(parent) = &current.parent else {
                return true;
            };
            let Some(pid) = self.by_accessor.get(parent) else {
                return false;
            };
            let Some(p) = self.by_id.get(pid) else {
                return false;
            };
            current = p;
        }
        false
    }
}

/// All tokens, in memory and in storage.
pub struct TokenStore {
    barrier: Arc<Barrier>,
    salt: Salt,
    state: RwLock<State>,
    writes: tokio::sync::Mutex<()>,
    rng: SystemRandom,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.state.read().map(|s| s.by_id.len()).unwrap_or(0);
        write!(f, "TokenStore({n} tokens)")
    }
}

fn random_string(rng: &SystemRandom, len: usize) -> Result<String, TokenError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut b = [0u8; 32];
        rng.fill(&mut b)
            .map_err(|_| TokenError::Storage("no randomness".into()))?;
        for byte in b {
            if out.len() < len && usize::from(byte) < 256 - 256 % ALPHABET.len() {
                out.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

fn entry_json(entry: &TokenEntry) -> Vec<u8> {
    serde_json::to_vec(entry).expect("token entries serialize")
}

impl TokenStore {
    /// Loads every token from storage into memory.
    /// A store still in the format-1 layout (records named by the token's
    /// SHA-256) is refused: the data dir must be migrated first.
    pub async fn open(barrier: Arc<Barrier>) -> Result<Self, TokenError> {
        if let Some(old) = barrier.list(FORMAT1_PREFIX).await?.first() {
            return Err(TokenError::Storage(format!(
                "{old}: a token record in the format-1 layout; the data dir was not migrated"
            )));
        }
        let rng = SystemRandom::new();
        let (salt, fresh) = Salt::load_or_new(&barrier, &rng).await?;
        let mut state = State::default();
        for (path, bytes) in barrier.scan(PREFIX).await? {
            let entry: TokenEntry = serde_json::from_slice(&bytes)
                .map_err(|e| TokenError::Storage(format!("{path}: {e}")))?;
            if path != salt.path(&entry.id) {
                return Err(TokenError::Storage(format!(
                    "{path}: the record holds another token"
                )));
            }
            state.insert(Arc::new(entry));
        }
        if let Some(bytes) = fresh {
            if !state.by_id.is_empty() {
                return Err(TokenError::Storage(format!(
                    "{SALT_PATH} is missing while token records exist"
                )));
            }
            barrier.put(SALT_PATH, &bytes).await?;
        }
        Ok(TokenStore {
            barrier,
            salt,
            state: RwLock::new(state),
            writes: tokio::sync::Mutex::new(()),
            rng: SystemRandom::new(),
        })
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The live token a client presented: no storage read.
    pub fn lookup(&self, token: &SecretString, now: Timestamp) -> Option<Arc<TokenEntry>> {
        self.lookup_id(TokenId::of(token), now)
    }

    /// The live token with this hash.
    pub fn lookup_id(&self, id: TokenId, now: Timestamp) -> Option<Arc<TokenEntry>> {
        let state = self.state();
        let entry = state.by_id.get(&id)?;
        state.alive(entry, now).then(|| entry.clone())
    }

    /// The live token with this accessor.
    pub fn lookup_accessor(&self, accessor: &str, now: Timestamp) -> Option<Arc<TokenEntry>> {
        let id = *self.state().by_accessor.get(accessor)?;
        self.lookup_id(id, now)
    }

    /// The accessors of every live token.
    pub fn accessors(&self, now: Timestamp) -> Vec<String> {
        let state = self.state();
        let mut out: Vec<String> = state
            .by_id
            .values()
            .filter(|e| state.alive(e, now))
            .map(|e| e.accessor.clone())
            .collect();
        out.sort();
        out
    }

    /// How many tokens are held (live or not yet tidied).
    pub fn len(&self) -> usize {
        self.state().by_id.len()
    }

    /// True when no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes `token` the root token (dev mode, bootstrap): policies `root`,
    /// no TTL, no parent. Replaces any other root token of this name.
    pub async fn put_root(
        &self,
        token: &SecretString,
        now: Timestamp,
    ) -> Result<Arc<TokenEntry>, TokenError> {
        let _w = self.writes.lock().await;
        let id = TokenId::of(token);
        // The same root token again (a dev server's restart) keeps its
        // accessor: the tokens it created name their parent by accessor,
        // and a new one would orphan (and so revoke) every one of them.
        let existing = self
            .state()
            .by_id
            .get(&id)
            .filter(|e| e.path == "auth/token/root")
            .cloned();
        let accessor = match &existing {
            Some(e) => e.accessor.clone(),
            None => random_string(&self.rng, 24)?,
        };
        let entry = TokenEntry {
            id,
            accessor,
            policies: vec!["root".into()],
            parent: None,
            display_name: "root".into(),
            meta: Default::default(),
            num_uses: 0,
            creation_time: now,
            creation_ttl: 0,
            explicit_max_ttl: 0,
            expire_time: None,
            issue_time: now,
            renewable: false,
            orphan: true,
            path: "auth/token/root".into(),
            user: None,
        };
        // Earlier root tokens made this way are revoked: one dev root token.
        let stale: Vec<TokenId> = self
            .state()
            .by_id
            .values()
            .filter(|e| e.path == "auth/token/root" && e.id != entry.id)
            .map(|e| e.id)
            .collect();
        let mut batch = WriteBatch::new();
        for id in &stale {
            batch.delete(self.salt.path(id));
        }
        batch.put(self.salt.path(&entry.id), entry_json(&entry));
        self.barrier.write(batch).await?;
        let entry = Arc::new(entry);
        let mut state = self.state_mut();
        for id in stale {
            state.remove(id);
        }
        if let Some(old) = state.remove(entry.id) {
            drop(old);
        }
        state.insert(entry.clone());
        Ok(entry)
    }

    /// Issues a token. `parent` is the caller's token (`None` or `orphan` for
    /// no parent); a non-root parent may only hand out its own policies.
    pub async fn create(
        &self,
        parent: Option<&TokenEntry>,
        req: TokenRequest,
        path: &str,
        user: Option<String>,
        now: Timestamp,
    ) -> Result<(SecretString, Arc<TokenEntry>), TokenError> {
        let mut policies: Vec<String> = match (&req.policies, parent) {
            (Some(p), _) => p
                .iter()
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
            (None, Some(parent)) => parent.policies.clone(),
            (None, None) => Vec::new(),
        };
        if let Some(parent) = parent
            && !parent.is_root()
        {
            let allowed: BTreeSet<&str> = parent
                .policies
                .iter()
                .map(String::as_str)
                .chain(["default"])
                .collect();
            if policies.iter().any(|p| !allowed.contains(p.as_str())) {
                return Err(TokenError::PoliciesNotSubset);
            }
        }
        if !req.no_default_policy && !policies.iter().any(|p| p == "root") {
            policies.push("default".into());
        }
        policies.sort();
        policies.dedup();

        let explicit_max = req.explicit_max_ttl.unwrap_or(0);
        let is_root = policies.iter().any(|p| p == "root");
        let mut ttl = match req.ttl {
            Some(t) if t > 0 => t,
            _ if is_root => 0,
            _ => DEFAULT_TTL_SECS,
        };
        if explicit_max > 0 && (ttl == 0 || ttl > explicit_max) {
            ttl = explicit_max;
        }
        let token = SecretString::from(format!("s.{}", random_string(&self.rng, 24)?));
        let display = req.display_name.unwrap_or_default();
        let display_name = match (display.is_empty(), user.as_deref()) {
            (_, Some(u)) => format!("userpass-{u}"),
            (true, None) => "token".to_string(),
            (false, None) => format!("token-{display}"),
        };
        let orphan = req.no_parent || parent.is_none();
        let entry = TokenEntry {
            id: TokenId::of(&token),
            accessor: random_string(&self.rng, 24)?,
            policies,
            parent: if orphan {
                None
            } else {
                parent.map(|p| p.accessor.clone())
            },
            display_name,
            meta: req.meta,
            num_uses: req.num_uses,
            creation_time: now,
            creation_ttl: ttl,
            explicit_max_ttl: explicit_max,
            expire_time: (ttl > 0).then(|| now.plus_secs(i64::try_from(ttl).unwrap_or(i64::MAX))),
            issue_time: now,
            renewable: req.renewable.unwrap_or(true) && ttl > 0,
            orphan,
            path: path.to_string(),
            user,
        };
        let _w = self.writes.lock().await;
        self.barrier
            .put(&self.salt.path(&entry.id), &entry_json(&entry))
            .await?;
        let entry = Arc::new(entry);
        self.state_mut().insert(entry.clone());
        Ok((token, entry))
    }

    /// Extends a live token's TTL by `increment` seconds from now (its
    /// original TTL when `None`), never beyond `explicit_max_ttl`.
    pub async fn renew(
        &self,
        id: TokenId,
        increment: Option<u64>,
        now: Timestamp,
    ) -> Result<Arc<TokenEntry>, TokenError> {
        let _w = self.writes.lock().await;
        let current = self.lookup_id(id, now).ok_or(TokenError::NotFound)?;
        if !current.renewable {
            return Err(TokenError::NotRenewable);
        }
        let mut entry = (*current).clone();
        let mut ttl = increment.filter(|i| *i > 0).unwrap_or(entry.creation_ttl);
        if entry.explicit_max_ttl > 0 {
            let age = u64::try_from(now.unix_secs() - entry.creation_time.unix_secs()).unwrap_or(0);
            ttl = ttl.min(entry.explicit_max_ttl.saturating_sub(age));
        }
        entry.expire_time = Some(now.plus_secs(i64::try_from(ttl).unwrap_or(i64::MAX)));
        entry.issue_time = now;
        self.barrier
            .put(&self.salt.path(&entry.id), &entry_json(&entry))
            .await?;
        let entry = Arc::new(entry);
        let mut state = self.state_mut();
        state.remove(id);
        state.insert(entry.clone());
        Ok(entry)
    }

    /// Revokes a token and all its descendants; returns how many went.
    pub async fn revoke(&self, id: TokenId) -> Result<usize, TokenError> {
        let _w = self.writes.lock().await;
        let doomed = self.state().subtree(id);
        if doomed.is_empty() {
            return Ok(0);
        }
        let mut batch = WriteBatch::new();
        for id in &doomed {
            batch.delete(self.salt.path(id));
        }
        self.barrier.write(batch).await?;
        let mut state = self.state_mut();
        for id in &doomed {
            state.remove(*id);
        }
        Ok(doomed.len())
    }

    /// Counts one use of a limited-use token. The last use revokes it at
    /// once, so no other request can use it, and hands back the entry the
    /// request it authorizes may still show (Vault answers that one request
    /// with the token tainted, `num_uses: -1`).
    pub async fn spend_use(&self, id: TokenId) -> Result<TokenUse, TokenError> {
        let current = self.state().by_id.get(&id).cloned();
        let entry = match current {
            Some(e) if e.num_uses == 1 => {
                self.revoke(id).await?;
                return Ok(TokenUse::Last(e));
            }
            Some(e) if e.num_uses > 0 => (*e).clone(),
            Some(_) => return Ok(TokenUse::Counted),
            None => return Ok(TokenUse::Gone),
        };
        let _w = self.writes.lock().await;
        let mut next = entry;
        next.num_uses -= 1;
        self.barrier
            .put(&self.salt.path(&next.id), &entry_json(&next))
            .await?;
        let next = Arc::new(next);
        let mut state = self.state_mut();
        state.remove(id);
        state.insert(next);
        Ok(TokenUse::Counted)
    }

    /// Deletes expired tokens (with their subtrees); returns how many went.
    pub async fn tidy(&self, now: Timestamp) -> Result<usize, TokenError> {
        let expired: Vec<TokenId> = {
            let state = self.state();
            state
                .by_id
                .values()
                .filter(|e| !state.alive(e, now))
                .map(|e| e.id)
                .collect()
        };
        let mut n = 0;
        for id in expired {
            n += self.revoke(id).await?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring_core::MemoryStore;
    use secrecy::ExposeSecret;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_unix_secs(s)
    }

    async fn store() -> (Arc<Barrier>, TokenStore) {
        let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
        let s = TokenStore::open(barrier.clone()).await.unwrap();
        (barrier, s)
    }

    #[tokio::test]
    async fn format_1_records_are_refused_until_renamed_by_the_salted_hmac() {
        let store = Arc::new(MemoryStore::new());
        let barrier = Arc::new(Barrier::ephemeral(store.clone()).unwrap());
        // Format 1: records named by the token's SHA-256, no salt.
        let root = SecretString::from("root".to_string());
        let (_, s) = store_on(barrier.clone()).await;
        let entry = s.put_root(&root, t(0)).await.unwrap();
        let (child_token, child) = s
            .create(
                Some(&entry),
                req(&["p"], Some(3600)),
                "auth/token/create",
                None,
                t(0),
            )
            .await
            .unwrap();
        let mut batch = WriteBatch::new();
        for (path, bytes) in barrier.scan(PREFIX).await.unwrap() {
            let e: TokenEntry = serde_json::from_slice(&bytes).unwrap();
            batch.delete(path);
            batch.put(format!("{FORMAT1_PREFIX}{}", e.id.hex()), bytes.to_vec());
        }
        batch.delete(SALT_PATH);
        barrier.write(batch).await.unwrap();
        let err = TokenStore::open(barrier.clone()).await.unwrap_err();
        assert!(err.to_string().contains("not migrated"), "{err}");

        let moves = salted_record_names(&barrier).await.unwrap();
        barrier.write(moves).await.unwrap();
        assert!(
            salted_record_names(&barrier)
                .await
                .unwrap()
                .into_ops()
                .is_empty(),
            "a second run moves nothing"
        );
        let s = TokenStore::open(barrier.clone()).await.unwrap();
        assert_eq!(s.lookup(&root, t(1)).unwrap().accessor, entry.accessor);
        assert_eq!(
            s.lookup(&child_token, t(1)).unwrap().accessor,
            child.accessor
        );
        // No record name says anything about a token any more.
        let paths = keyring_core::Store::list(store.as_ref(), "").await.unwrap();
        assert!(
            paths.iter().all(|p| !p.contains(&entry.id.hex())),
            "{paths:?}"
        );
        assert!(
            paths.iter().all(|p| !p.starts_with(FORMAT1_PREFIX)),
            "{paths:?}"
        );
        // Revoking still finds the record under its new name.
        s.revoke(child.id).await.unwrap();
        let s = TokenStore::open(barrier.clone()).await.unwrap();
        assert!(s.lookup(&child_token, t(1)).is_none());
    }

    async fn store_on(barrier: Arc<Barrier>) -> (Arc<Barrier>, TokenStore) {
        let s = TokenStore::open(barrier.clone()).await.unwrap();
        (barrier, s)
    }

    fn req(policies: &[&str], ttl: Option<u64>) -> TokenRequest {
        TokenRequest {
            policies: Some(policies.iter().map(|s| s.to_string()).collect()),
            ttl,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn root_creates_children_that_die_with_their_parent() {
        let (barrier, s) = store().await;
        let root = s
            .put_root(&SecretString::from("root-token".to_string()), t(0))
            .await
            .unwrap();
        assert!(root.is_root());
        let (tok, parent) = s
            .create(
                Some(&root),
                req(&["p"], Some(3600)),
                "auth/token/create",
                None,
                t(0),
            )
            .await
            .unwrap();
        assert!(tok.expose_secret().starts_with("s.") && tok.expose_secret().len() == 26);
        assert_eq!(parent.policies, vec!["default", "p"]);
        let (child_tok, child) = s
            .create(
                Some(&parent),
                req(&["p"], None),
                "auth/token/create",
                None,
                t(10),
            )
            .await
            .unwrap();
        assert_eq!(child.parent.as_deref(), Some(parent.accessor.as_str()));
        assert!(s.lookup(&child_tok, t(20)).is_some());
        // A non-root parent cannot hand out policies it does not hold.
        assert_eq!(
            s.create(
                Some(&parent),
                req(&["admin"], None),
                "auth/token/create",
                None,
                t(10)
            )
            .await
            .unwrap_err(),
            TokenError::PoliciesNotSubset
        );
        // The parent's expiry takes the child with it, before any tidy.
        assert!(s.lookup(&child_tok, t(3601)).is_none());
        // Revoking the parent revokes the child, durably.
        assert_eq!(s.revoke(parent.id).await.unwrap(), 2);
        assert!(s.lookup(&tok, t(20)).is_none());
        let reopened = TokenStore::open(barrier).await.unwrap();
        assert!(reopened.lookup(&child_tok, t(20)).is_none());
        assert!(
            reopened
                .lookup(&SecretString::from("root-token".to_string()), t(99_999_999))
                .is_some()
        );
    }

    #[tokio::test]
    async fn the_same_root_token_again_keeps_the_tokens_it_created() {
        let (barrier, s) = store().await;
        let root_token = SecretString::from("dev-root".to_string());
        let root = s.put_root(&root_token, t(0)).await.unwrap();
        let (child_tok, _) = s
            .create(
                Some(&root),
                req(&["p"], None),
                "auth/token/create",
                None,
                t(1),
            )
            .await
            .unwrap();
        // A dev server's restart sets the same root token again.
        let reopened = TokenStore::open(barrier.clone()).await.unwrap();
        let again = reopened.put_root(&root_token, t(2)).await.unwrap();
        assert_eq!(again.accessor, root.accessor);
        assert!(reopened.lookup(&child_tok, t(3)).is_some());
        // Another root token replaces it, and its children go with it.
        let other = SecretString::from("other-root".to_string());
        reopened.put_root(&other, t(4)).await.unwrap();
        assert!(reopened.lookup(&root_token, t(5)).is_none());
        assert!(reopened.lookup(&child_tok, t(5)).is_none());
    }

    #[tokio::test]
    async fn ttl_renewal_and_explicit_max() {
        let (_, s) = store().await;
        let r = TokenRequest {
            explicit_max_ttl: Some(100),
            ..req(&["p"], Some(60))
        };
        let (tok, e) = s
            .create(None, r, "auth/token/create", None, t(0))
            .await
            .unwrap();
        assert!(e.orphan);
        assert_eq!(e.ttl_left(t(0)), 60);
        let renewed = s.renew(e.id, Some(3600), t(50)).await.unwrap();
        assert_eq!(
            renewed.expire_time,
            Some(t(100)),
            "capped by explicit_max_ttl"
        );
        assert!(s.lookup(&tok, t(99)).is_some());
        assert!(s.lookup(&tok, t(100)).is_none());
        assert_eq!(s.tidy(t(100)).await.unwrap(), 1);
        let nr = TokenRequest {
            renewable: Some(false),
            ..req(&["p"], Some(60))
        };
        let (_, e) = s
            .create(None, nr, "auth/token/create", None, t(0))
            .await
            .unwrap();
        assert_eq!(
            s.renew(e.id, None, t(1)).await.unwrap_err(),
            TokenError::NotRenewable
        );
    }

    #[tokio::test]
    async fn limited_uses_run_out() {
        let (_, s) = store().await;
        let r = TokenRequest {
            num_uses: 2,
            ..req(&["p"], None)
        };
        let (tok, e) = s
            .create(None, r, "auth/token/create", None, t(0))
            .await
            .unwrap();
        assert!(matches!(
            s.spend_use(e.id).await.unwrap(),
            TokenUse::Counted
        ));
        assert!(s.lookup(&tok, t(1)).is_some());
        assert!(matches!(
            s.spend_use(e.id).await.unwrap(),
            TokenUse::Last(_)
        ));
        assert!(s.lookup(&tok, t(1)).is_none(), "the last use revoked it");
        assert!(matches!(s.spend_use(e.id).await.unwrap(), TokenUse::Gone));
    }

    #[test]
    fn ids_are_hashes_and_print_short() {
        let id = TokenId::of(&SecretString::from("x".to_string()));
        assert_eq!(TokenId::from_hex(&id.hex()), Some(id));
        assert!(!format!("{id:?}").contains(&id.hex()));
    }
}
