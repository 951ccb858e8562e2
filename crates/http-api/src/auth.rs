//! Authentication: credentials from the headers → a [`Principal`].
//!
//! Tokens (`X-Vault-Token`, or `Authorization: Bearer`) are checked against
//! an in-memory index of token hashes: no storage read. HTTP Basic is checked
//! against internal users through a cache, so bcrypt runs only on a miss.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use rbac_model::{InternalUser, PasswordHash, Principal, UserName};
use ring::digest::{SHA256, digest};
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Backend roles that the demo role mapping maps to `all_access`. The
/// identity issue replaces this with the stored role mappings.
const ALL_ACCESS_BACKEND_ROLES: &[&str] = &["admin"];

/// Upper bound of the Basic-auth cache; when full, expired entries go first,
/// then everything (a flush costs one bcrypt per active user).
const CACHE_CAPACITY: usize = 10_000;

/// Credentials found in a request.
pub(crate) enum Credentials {
    None,
    Token(SecretString),
    Basic {
        user: String,
        password: SecretString,
    },
    Malformed,
}

impl Credentials {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        if let Some(v) = headers.get("x-vault-token") {
            return match v.to_str() {
                Ok(t) if !t.is_empty() => Credentials::Token(SecretString::from(t.to_string())),
                _ => Credentials::Malformed,
            };
        }
        let Some(auth) = headers.get(http::header::AUTHORIZATION) else {
            return Credentials::None;
        };
        let Ok(auth) = auth.to_str() else {
            return Credentials::Malformed;
        };
        let (scheme, rest) = auth.split_once(' ').unwrap_or((auth, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Credentials::Token(SecretString::from(rest.to_string()));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = STANDARD
                .decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            return match decoded.as_deref().and_then(|d| d.split_once(':')) {
                Some((user, password)) => Credentials::Basic {
                    user: user.to_string(),
                    password: SecretString::from(password.to_string()),
                },
                None => Credentials::Malformed,
            };
        }
        Credentials::Malformed
    }
}

struct CacheEntry {
    principal: Principal,
    expires: Instant,
}

pub(crate) struct Authenticator {
    root_token_sha256: RwLock<Option<[u8; 32]>>,
    users: RwLock<HashMap<String, InternalUser>>,
    cache: Mutex<HashMap<[u8; 32], CacheEntry>>,
    cache_key: hmac::Key,
    ttl: Duration,
    /// A real bcrypt hash checked for unknown users, so that a miss costs the
    /// same time whether or not the user exists.
    decoy: PasswordHash,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    digest(&SHA256, bytes)
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

impl Authenticator {
    pub(crate) fn new(ttl: Duration) -> Self {
        let rng = ring::rand::SystemRandom::new();
        Authenticator {
            root_token_sha256: RwLock::new(None),
            users: RwLock::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
            cache_key: hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("system randomness"),
            ttl,
            decoy: PasswordHash::from_stored(
                "$2y$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            )
            .expect("a well-formed bcrypt hash"),
        }
    }

    pub(crate) fn set_root_token_sha256(&self, hash: [u8; 32]) {
        *self
            .root_token_sha256
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(hash);
    }

    pub(crate) fn token_sha256(token: &SecretString) -> [u8; 32] {
        sha256(token.expose_secret().as_bytes())
    }

    pub(crate) fn set_user(&self, name: &str, user: InternalUser) {
        self.users
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), user);
        // Any change to a user invalidates every cached login.
        self.flush_cache();
    }

    pub(crate) fn flush_cache(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// `Ok(None)` when there are no credentials; `Err(())` when they do not
    /// authenticate.
    pub(crate) async fn authenticate(&self, creds: Credentials) -> Result<Option<Principal>, ()> {
        match creds {
            Credentials::None => Ok(None),
            Credentials::Malformed => Err(()),
            Credentials::Token(token) => {
                let presented = Self::token_sha256(&token);
                let root = *self
                    .root_token_sha256
                    .read()
                    .unwrap_or_else(|p| p.into_inner());
                match root {
                    Some(root) if bool::from(root.ct_eq(&presented)) => Ok(Some(Principal::root())),
                    _ => Err(()),
                }
            }
            Credentials::Basic { user, password } => self.basic(user, password).await.map(Some),
        }
    }

    async fn basic(&self, user: String, password: SecretString) -> Result<Principal, ()> {
        let cache_key = {
            let mut ctx = hmac::Context::with_key(&self.cache_key);
            ctx.update(user.as_bytes());
            ctx.update(&[0]);
            ctx.update(password.expose_secret().as_bytes());
            let tag = ctx.sign();
            let key: [u8; 32] = tag.as_ref().try_into().map_err(|_| ())?;
            key
        };
        if let Some(entry) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&cache_key)
            && entry.expires > Instant::now()
        {
            return Ok(entry.principal.clone());
        }
        let stored = self
            .users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user)
            .cloned();
        let (hash, known) = match &stored {
            Some(u) => (u.hash.clone(), true),
            None => (self.decoy.clone(), false),
        };
        let verified = tokio::task::spawn_blocking(move || hash.verify(&password))
            .await
            .unwrap_or(false);
        if !(verified && known) {
            return Err(());
        }
        let stored = stored.ok_or(())?;
        let name = UserName::new(user).map_err(|_| ())?;
        let superuser = stored
            .backend_roles
            .iter()
            .any(|r| ALL_ACCESS_BACKEND_ROLES.contains(&r.as_str()));
        let principal = Principal::internal_user(&name, stored.backend_roles.clone(), superuser);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_CAPACITY {
            let now = Instant::now();
            cache.retain(|_, e| e.expires > now);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(
            cache_key,
            CacheEntry {
                principal: principal.clone(),
                expires: Instant::now() + self.ttl,
            },
        );
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn parses_every_credential_form() {
        assert!(matches!(
            Credentials::from_headers(&headers(&[])),
            Credentials::None
        ));
        assert!(matches!(
            Credentials::from_headers(&headers(&[("x-vault-token", "t")])),
            Credentials::Token(_)
        ));
        assert!(matches!(
            Credentials::from_headers(&headers(&[("authorization", "bearer abc")])),
            Credentials::Token(_)
        ));
        // "admin:pw" in base64
        match Credentials::from_headers(&headers(&[("authorization", "Basic YWRtaW46cHc=")])) {
            Credentials::Basic { user, password } => {
                assert_eq!(user, "admin");
                assert_eq!(password.expose_secret(), "pw");
            }
            _ => panic!("expected basic"),
        }
        assert!(matches!(
            Credentials::from_headers(&headers(&[("authorization", "Basic !!!")])),
            Credentials::Malformed
        ));
        assert!(matches!(
            Credentials::from_headers(&headers(&[("authorization", "Digest x")])),
            Credentials::Malformed
        ));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn tokens_and_cached_basic_logins() {
        let auth = Authenticator::new(Duration::from_secs(60));
        let token = SecretString::from("root-token".to_string());
        auth.set_root_token_sha256(Authenticator::token_sha256(&token));
        assert!(
            auth.authenticate(Credentials::Token(token))
                .await
                .unwrap()
                .unwrap()
                .is_superuser()
        );
        assert!(
            auth.authenticate(Credentials::Token("nope".to_string().into()))
                .await
                .is_err()
        );

        let pw = SecretString::from("pw".to_string());
        auth.set_user(
            "admin",
            InternalUser {
                hash: PasswordHash::create(&pw, 4).unwrap(),
                backend_roles: vec!["admin".into()],
                reserved: true,
                description: String::new(),
            },
        );
        let basic = |p: &str| Credentials::Basic {
            user: "admin".into(),
            password: p.to_string().into(),
        };
        let p = auth.authenticate(basic("pw")).await.unwrap().unwrap();
        assert!(p.is_superuser());
        assert_eq!(auth.cache.lock().unwrap().len(), 1);
        assert!(auth.authenticate(basic("wrong")).await.is_err());
        assert!(
            auth.authenticate(Credentials::Basic {
                user: "ghost".into(),
                password: "pw".to_string().into()
            })
            .await
            .is_err()
        );
    }
}
