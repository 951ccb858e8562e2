//! [`LoginCache`]: HTTP Basic logins of internal users, verified once with
//! bcrypt and then served from memory until their time to live runs out.
//!
//! The server's authentication goes through it, and so can any service that
//! embeds this crate: the same users, the same hashes, the same cache rules.
//!
//! - Entries are keyed by an HMAC (with a random per-cache key) of the user
//!   name and the password, so the cache never holds a password, and a wrong
//!   password for a cached user is a miss that bcrypt refuses.
//! - An unknown user costs one bcrypt against a decoy hash, so the time a
//!   login takes does not tell whether the user exists.
//! - A flush counts a generation up. A login is cached only if the
//!   configuration it was verified against was read in the current
//!   generation: a password changed while its bcrypt ran never keeps working.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ring::hmac;
use secrecy::{ExposeSecret, SecretString};

use crate::{InternalUser, PasswordHash, Principal, SecurityConfig, UserName};

/// Upper bound of the cache; when full, expired entries go first, then
/// everything (a flush costs one bcrypt per active user).
const CAPACITY: usize = 10_000;

/// A bcrypt hash (cost 12) of a password nobody knows, checked for unknown
/// users so a miss costs the same whether or not the user exists.
const DECOY: &str = "$2y$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";

struct Entry {
    principal: Principal,
    expires: Instant,
}

#[derive(Default)]
struct Entries {
    map: HashMap<[u8; 32], Entry>,
    generation: u64,
}

/// The cache of HTTP Basic logins (the plugin's authentication cache,
/// `cache.ttl_minutes`).
///
/// Cheap to share behind an `Arc`; every method takes `&self`.
///
/// ```
/// use std::time::Duration;
/// use rbac_model::{ConfigType, LoginCache, PasswordHash, SecurityConfig};
/// use secrecy::SecretString;
///
/// let hash = PasswordHash::create(&SecretString::from("s3cret-Passw0rd"), 4).unwrap();
/// let yaml = format!(
///     "_meta: {{type: internalusers, config_version: 2}}\n\
///      alice: {{hash: '{}', backend_roles: [readers]}}\n",
///     hash.as_stored()
/// );
/// let mut config = SecurityConfig::default();
/// config.load_yaml(ConfigType::InternalUsers, &yaml).unwrap();
///
/// let cache = LoginCache::new(Duration::from_secs(60));
/// let generation = cache.generation();
/// let alice = cache
///     .login_blocking("alice", SecretString::from("s3cret-Passw0rd"), &config, generation)
///     .expect("right password");
/// assert_eq!(alice.backend_roles(), ["readers"]);
/// // The second login is served from memory, without bcrypt.
/// assert!(cache.login_blocking("alice", SecretString::from("s3cret-Passw0rd"), &config, generation).is_some());
/// assert_eq!(cache.counts(), (1, 1));
/// // A wrong password is never a hit.
/// assert!(cache.login_blocking("alice", SecretString::from("guess"), &config, generation).is_none());
/// ```
pub struct LoginCache {
    entries: Mutex<Entries>,
    key: hmac::Key,
    hits: AtomicU64,
    misses: AtomicU64,
    ttl: Duration,
    decoy: PasswordHash,
}

impl std::fmt::Debug for LoginCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginCache")
            .field("ttl", &self.ttl)
            .field("cached", &self.cached())
            .finish_non_exhaustive()
    }
}

/// The outcome of a cache lookup.
enum Lookup {
    Hit(Principal),
    Miss(Candidate),
}

/// What a login needs after the cache missed: the hash to check (the
/// decoy's for an unknown user) and the user, if known.
struct Candidate {
    key: [u8; 32],
    hash: PasswordHash,
    user: Option<InternalUser>,
}

impl LoginCache {
    /// A cache whose entries live for `ttl`; a zero `ttl` caches nothing (as
    /// the plugin's `cache.ttl_minutes: 0`), so every login runs bcrypt.
    pub fn new(ttl: Duration) -> LoginCache {
        let rng = ring::rand::SystemRandom::new();
        LoginCache {
            entries: Mutex::new(Entries::default()),
            // Generating a 32-byte key only fails when the OS has no randomness.
            key: hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("system randomness"),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            ttl,
            decoy: PasswordHash::from_stored(DECOY).expect("a well-formed bcrypt hash"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current generation. Read it *before* reading the configuration a
    /// login is checked against, and pass it to [`LoginCache::login`].
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Forgets every cached login. Call it after a changed configuration
    /// is in place (the plugin's `DELETE _plugins/_security/api/cache`).
    pub fn flush(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.map.clear();
    }

    /// Forgets the cached logins of one user (after its password or roles
    /// changed).
    pub fn flush_user(&self, user: &str) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.map.retain(|_, e| e.principal.name() != user);
    }

    /// The number of logins cached now.
    pub fn cached(&self) -> usize {
        self.lock().map.len()
    }

    /// `(hits, misses)` since the cache was made.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Checks `user` and `password` against the internal users of `config`:
    /// from the cache, or with bcrypt on a blocking thread of the tokio
    /// runtime (so it never stalls the async workers). `None` for an unknown
    /// user, a user without a password or a wrong password.
    ///
    /// `generation` must have been read with [`LoginCache::generation`]
    /// before `config` was read.
    pub async fn login(
        &self,
        user: &str,
        password: SecretString,
        config: &SecurityConfig,
        generation: u64,
    ) -> Option<Principal> {
        let candidate = match self.lookup(user, &password, config) {
            Lookup::Hit(hit) => return Some(hit),
            Lookup::Miss(c) => c,
        };
        let hash = candidate.hash.clone();
        let verified = tokio::task::spawn_blocking(move || hash.verify(&password))
            .await
            .unwrap_or(false);
        self.finish(user, candidate, verified, generation)
    }

    /// [`LoginCache::login`] on the calling thread, for callers without a
    /// tokio runtime. bcrypt takes tens of milliseconds on a miss.
    pub fn login_blocking(
        &self,
        user: &str,
        password: SecretString,
        config: &SecurityConfig,
        generation: u64,
    ) -> Option<Principal> {
        match self.lookup(user, &password, config) {
            Lookup::Hit(hit) => Some(hit),
            Lookup::Miss(candidate) => {
                let verified = candidate.hash.verify(&password);
                self.finish(user, candidate, verified, generation)
            }
        }
    }

    /// A hit, or what to verify.
    fn lookup(&self, user: &str, password: &SecretString, config: &SecurityConfig) -> Lookup {
        let key = self.key_of(user, password);
        if let Some(entry) = self.lock().map.get(&key)
            && entry.expires > Instant::now()
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(entry.principal.clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let user = config.internal_users.get(user).cloned();
        let hash = user
            .as_ref()
            .and_then(|u| PasswordHash::from_stored(u.hash.clone()).ok());
        let (hash, user) = match hash {
            Some(h) => (h, user),
            None => (self.decoy.clone(), None),
        };
        Lookup::Miss(Candidate { key, hash, user })
    }

    /// The principal of a verified login, cached if `generation` is current.
    fn finish(
        &self,
        name: &str,
        candidate: Candidate,
        verified: bool,
        generation: u64,
    ) -> Option<Principal> {
        let stored = candidate.user.filter(|_| verified)?;
        let principal = principal_of(&UserName::new(name).ok()?, &stored);
        let mut entries = self.lock();
        if !self.ttl.is_zero() && entries.generation == generation {
            if entries.map.len() >= CAPACITY {
                let now = Instant::now();
                entries.map.retain(|_, e| e.expires > now);
                if entries.map.len() >= CAPACITY {
                    entries.map.clear();
                }
            }
            entries.map.insert(
                candidate.key,
                Entry {
                    principal: principal.clone(),
                    expires: Instant::now() + self.ttl,
                },
            );
        }
        Some(principal)
    }

    fn key_of(&self, user: &str, password: &SecretString) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(user.as_bytes());
        ctx.update(&[0]);
        ctx.update(password.expose_secret().as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(&ctx.sign().as_ref()[..32]);
        key
    }
}

/// The principal an internal user authenticates as: its backend roles, its
/// directly given security roles and the names of its attributes.
pub fn principal_of(name: &UserName, user: &InternalUser) -> Principal {
    Principal::internal_user(
        name,
        user.backend_roles.clone(),
        user.opendistro_security_roles.clone(),
        user.attributes
            .keys()
            .map(|k| format!("attr.internal.{k}"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConfigType;

    fn config_with(user: &str, password: &str) -> SecurityConfig {
        let hash =
            PasswordHash::create(&SecretString::from(password.to_string()), 4).expect("hash");
        let yaml = format!(
            "_meta: {{type: internalusers, config_version: 2}}\n{user}: {{hash: '{}', backend_roles: [r1], attributes: {{team: blue}}}}\n",
            hash.as_stored()
        );
        let mut config = SecurityConfig::default();
        config
            .load_yaml(ConfigType::InternalUsers, &yaml)
            .expect("yaml");
        config
    }

    fn pw(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    #[tokio::test]
    async fn hits_misses_and_wrong_passwords() {
        let config = config_with("bob", "Right-Passw0rd");
        let cache = LoginCache::new(Duration::from_secs(60));
        let g = cache.generation();
        let p = cache
            .login("bob", pw("Right-Passw0rd"), &config, g)
            .await
            .expect("login");
        assert_eq!(p.name(), "bob");
        assert_eq!(p.attribute_names(), ["attr.internal.team"]);
        assert_eq!(cache.cached(), 1);
        assert!(cache.login("bob", pw("wrong"), &config, g).await.is_none());
        assert!(cache.login("nobody", pw("x"), &config, g).await.is_none());
        assert!(
            cache
                .login("bob", pw("Right-Passw0rd"), &config, g)
                .await
                .is_some()
        );
        assert_eq!(cache.counts(), (1, 3));
    }

    #[test]
    fn a_login_verified_before_a_flush_is_not_cached() {
        let config = config_with("bob", "Right-Passw0rd");
        let cache = LoginCache::new(Duration::from_secs(60));
        let before = cache.generation();
        cache.flush();
        assert!(
            cache
                .login_blocking("bob", pw("Right-Passw0rd"), &config, before)
                .is_some()
        );
        assert_eq!(cache.cached(), 0, "stale generation: not cached");
        let now = cache.generation();
        cache.login_blocking("bob", pw("Right-Passw0rd"), &config, now);
        assert_eq!(cache.cached(), 1);
        cache.flush_user("someone-else");
        assert_eq!(cache.cached(), 1);
        cache.flush_user("bob");
        assert_eq!(cache.cached(), 0);
    }

    #[test]
    fn zero_ttl_caches_nothing_and_a_changed_password_misses() {
        let cache = LoginCache::new(Duration::ZERO);
        let config = config_with("bob", "Right-Passw0rd");
        let g = cache.generation();
        cache.login_blocking("bob", pw("Right-Passw0rd"), &config, g);
        assert_eq!(cache.cached(), 0);

        let cache = LoginCache::new(Duration::from_secs(60));
        cache.login_blocking("bob", pw("Right-Passw0rd"), &config, g);
        let changed = config_with("bob", "New-Passw0rd-2");
        cache.flush_user("bob");
        let g = cache.generation();
        assert!(
            cache
                .login_blocking("bob", pw("Right-Passw0rd"), &changed, g)
                .is_none()
        );
        assert!(
            cache
                .login_blocking("bob", pw("New-Passw0rd-2"), &changed, g)
                .is_some()
        );
    }
}
