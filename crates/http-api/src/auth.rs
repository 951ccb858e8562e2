//! Authentication: credentials from the headers → a [`Principal`].
//!
//! Tokens (`X-Vault-Token`, or `Authorization: Bearer`) are checked against
//! an in-memory index of token hashes: no storage read. HTTP Basic is checked
//! against internal users through a cache, so bcrypt runs only on a miss.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use keyring_core::Timestamp;
use rbac_model::tokens::{TokenEntry, TokenStore};
use rbac_model::{LoginCache, Principal, SecurityConfig, TokenGrant, UserName};
use secrecy::SecretString;

use crate::security::AuthFailures;

/// The subject DN of the client's TLS certificate (the leaf), as the plugin
/// prints it (`X500Principal.getName()`, RFC 2253).
pub(crate) fn client_certificate_dn(conn: &crate::api::ConnInfo) -> Option<String> {
    tls_inventory::dn::subject_dn(conn.peer_certificates.first()?)
}

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
    /// The user name a Basic login gives (for the audit of a failed login;
    /// a token names no one).
    pub(crate) fn login_name(&self) -> Option<String> {
        match self {
            Credentials::Basic { user, .. } => Some(user.clone()),
            _ => None,
        }
    }

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

/// What authentication made of a request's credentials.
pub(crate) enum AuthOutcome {
    /// No credentials.
    Anonymous,
    /// Authenticated.
    Principal(Principal),
    /// Credentials that do not authenticate (or a blocked user name).
    Failed,
    /// The client address is blocked by an `auth_failure_listeners` entry.
    Blocked,
}

pub(crate) struct Authenticator {
    /// Vault tokens (the root token among them), all in memory.
    pub(crate) tokens: Arc<TokenStore>,
    /// Basic logins of internal users (rbac-model's cache, which embedders
    /// use too).
    logins: LoginCache,
    pub(crate) failures: AuthFailures,
}

/// The principal a live token stands for: the root token is root; a userpass
/// login acts as its user (with the user's current roles); any other token is
/// itself, with only its policies.
pub(crate) fn principal_of_token(entry: &TokenEntry, config: &SecurityConfig) -> Principal {
    let grant = TokenGrant {
        id: entry.id,
        accessor: entry.accessor.clone(),
        policies: entry.policies.clone(),
        limited_uses: entry.num_uses > 0,
    };
    if entry.is_root() {
        return Principal::root().with_token(grant);
    }
    if let Some(user) = &entry.user
        && let Some(stored) = config.internal_users.get(user)
        && let Ok(name) = UserName::new(user.as_str())
    {
        return rbac_model::principal_of(&name, stored).with_token(grant);
    }
    Principal::token(&entry.display_name, grant)
}

impl Authenticator {
    /// `ttl` zero disables the cache (as `cache.ttl_minutes: 0`).
    pub(crate) fn new(ttl: Duration, tokens: Arc<TokenStore>) -> Self {
        Authenticator {
            tokens,
            logins: LoginCache::new(ttl),
            failures: AuthFailures::default(),
        }
    }

    /// The cache generation: read it before the configuration a login is
    /// checked against, and pass it to [`Authenticator::authenticate`].
    pub(crate) fn generation(&self) -> u64 {
        self.logins.generation()
    }

    /// Forgets every cached login (`DELETE P/cache`, any change to a user).
    /// Call it after the new configuration is swapped in.
    pub(crate) fn flush_cache(&self) {
        self.logins.flush();
    }

    /// Forgets the cached logins of one user.
    pub(crate) fn flush_user(&self, user: &str) {
        self.logins.flush_user(user);
    }

    /// Checks the credentials against the tokens and the internal users of
    /// `config`, from the client at `ip`, at `now`. `generation` was read
    /// (with [`Authenticator::generation`]) before `config` was.
    pub(crate) async fn authenticate(
        &self,
        creds: Credentials,
        config: &SecurityConfig,
        ip: Option<IpAddr>,
        generation: u64,
        now: Timestamp,
    ) -> AuthOutcome {
        if matches!(creds, Credentials::None) {
            return AuthOutcome::Anonymous;
        }
        if self.failures.ip_blocked(ip) {
            return AuthOutcome::Blocked;
        }
        match creds {
            Credentials::None => AuthOutcome::Anonymous,
            Credentials::Malformed => {
                self.failures.record_failure(ip, None);
                AuthOutcome::Failed
            }
            Credentials::Token(token) => match self.tokens.lookup(&token, now) {
                Some(entry) => AuthOutcome::Principal(principal_of_token(&entry, config)),
                None => {
                    self.failures.record_failure(ip, None);
                    AuthOutcome::Failed
                }
            },
            Credentials::Basic { user, password } => {
                if self.failures.user_blocked(&user) {
                    // The internal user database is skipped for a blocked name.
                    self.failures.record_failure(ip, None);
                    return AuthOutcome::Failed;
                }
                match self.logins.login(&user, password, config, generation).await {
                    Some(p) => AuthOutcome::Principal(p),
                    None => {
                        self.failures.record_failure(ip, Some(&user));
                        AuthOutcome::Failed
                    }
                }
            }
        }
    }

    /// Logins in the cache now.
    pub(crate) fn cached(&self) -> usize {
        self.logins.cached()
    }

    /// `(hits, misses)` of the Basic-auth cache since the start.
    pub(crate) fn cache_counts(&self) -> (u64, u64) {
        self.logins.counts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbac_model::PasswordHash;
    use secrecy::ExposeSecret;

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
        let barrier = Arc::new(
            keyring_core::Barrier::ephemeral(Arc::new(keyring_core::MemoryStore::new())).unwrap(),
        );
        let tokens = Arc::new(TokenStore::open(barrier).await.unwrap());
        let auth = Authenticator::new(Duration::from_secs(60), tokens.clone());
        let config = SecurityConfig::default();
        let now = Timestamp::from_unix_secs(1_800_000_000);
        let token = SecretString::from("root-token".to_string());
        tokens.put_root(&token, now).await.unwrap();
        assert!(matches!(
            auth.authenticate(Credentials::Token(token), &config, None, 0, now).await,
            AuthOutcome::Principal(p) if p.is_superuser()
        ));
        assert!(matches!(
            auth.authenticate(
                Credentials::Token("nope".to_string().into()),
                &config,
                None,
                0,
                now
            )
            .await,
            AuthOutcome::Failed
        ));

        let mut config = SecurityConfig::default();
        let pw = SecretString::from("pw".to_string());
        config.internal_users.insert(
            "admin".into(),
            rbac_model::InternalUser {
                hash: PasswordHash::create(&pw, 4)
                    .unwrap()
                    .as_stored()
                    .to_string(),
                backend_roles: vec!["admin".into()],
                reserved: true,
                ..Default::default()
            },
        );
        let basic = |p: &str| Credentials::Basic {
            user: "admin".into(),
            password: p.to_string().into(),
        };
        match auth.authenticate(basic("pw"), &config, None, 0, now).await {
            AuthOutcome::Principal(p) => assert_eq!(p.backend_roles(), ["admin".to_string()]),
            _ => panic!("expected a principal"),
        }
        assert_eq!(auth.cached(), 1);
        assert!(matches!(
            auth.authenticate(basic("wrong"), &config, None, 0, now)
                .await,
            AuthOutcome::Failed
        ));
        assert!(matches!(
            auth.authenticate(
                Credentials::Basic {
                    user: "ghost".into(),
                    password: "pw".to_string().into()
                },
                &config,
                None,
                0,
                now
            )
            .await,
            AuthOutcome::Failed
        ));
        auth.flush_cache();
        assert_eq!(auth.cached(), 0);
        // A login checked against the configuration before a flush is not cached.
        assert!(matches!(
            auth.authenticate(basic("pw"), &config, None, 0, now).await,
            AuthOutcome::Principal(_)
        ));
        assert_eq!(auth.cached(), 0);
    }
}
