//! Who is calling: the outcome of authentication.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The name of an internal user: 1 to 256 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl UserName {
    /// Checks and wraps a user name.
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        if name.is_empty() || name.chars().count() > 256 || name.chars().any(char::is_control) {
            return Err(Error::InvalidName(name.chars().take(64).collect()));
        }
        Ok(UserName(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        UserName::new(s)
    }
}

impl From<UserName> for String {
    fn from(n: UserName) -> String {
        n.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a principal authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The root token: a superuser.
    RootToken,
    /// An internal user with HTTP Basic.
    InternalUser,
    /// A TLS client certificate whose DN is an admin DN: a superuser.
    AdminCertificate,
    /// A Vault token that is not the root token.
    Token,
}

/// What a Vault token brings to a principal: which token, and its policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The token's hash.
    pub id: crate::tokens::TokenId,
    /// Its accessor.
    pub accessor: String,
    /// Its policies.
    pub policies: Vec<String>,
    /// True when it still counts uses.
    pub limited_uses: bool,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    name: String,
    kind: PrincipalKind,
    backend_roles: Vec<String>,
    direct_roles: Vec<String>,
    attribute_names: Vec<String>,
    token: Option<TokenGrant>,
}

impl Principal {
    /// The holder of the root token.
    pub fn root() -> Self {
        Principal {
            name: "root".into(),
            kind: PrincipalKind::RootToken,
            backend_roles: Vec::new(),
            direct_roles: Vec::new(),
            attribute_names: Vec::new(),
            token: None,
        }
    }

    /// The holder of an admin certificate, named by its subject DN.
    pub fn admin_certificate(dn: &str) -> Self {
        Principal {
            name: dn.to_string(),
            kind: PrincipalKind::AdminCertificate,
            backend_roles: Vec::new(),
            direct_roles: Vec::new(),
            attribute_names: Vec::new(),
            token: None,
        }
    }

    /// An internal user, with its backend roles, directly given security
    /// roles and attribute names.
    pub fn internal_user(
        name: &UserName,
        backend_roles: Vec<String>,
        direct_roles: Vec<String>,
        attribute_names: Vec<String>,
    ) -> Self {
        Principal {
            name: name.as_str().to_string(),
            kind: PrincipalKind::InternalUser,
            backend_roles,
            direct_roles,
            attribute_names,
            token: None,
        }
    }

    /// The holder of a Vault token that is not the root token, named by its
    /// display name.
    pub fn token(display_name: &str, grant: TokenGrant) -> Self {
        Principal {
            name: display_name.to_string(),
            kind: PrincipalKind::Token,
            backend_roles: Vec::new(),
            direct_roles: Vec::new(),
            attribute_names: Vec::new(),
            token: Some(grant),
        }
    }

    /// The same principal, reached through a Vault token (a userpass login
    /// acting as its user, or the root token).
    pub fn with_token(mut self, grant: TokenGrant) -> Self {
        self.token = Some(grant);
        self
    }

    /// The Vault token the principal authenticated with, if any.
    pub fn token_grant(&self) -> Option<&TokenGrant> {
        self.token.as_ref()
    }

    /// The name the principal acts under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it authenticated.
    pub fn kind(&self) -> &PrincipalKind {
        &self.kind
    }

    /// Its backend roles.
    pub fn backend_roles(&self) -> &[String] {
        &self.backend_roles
    }

    /// Security roles given directly (`opendistro_security_roles`).
    pub fn direct_roles(&self) -> &[String] {
        &self.direct_roles
    }

    /// The names of its attributes, as the plugin shows them (`attr.internal.<key>`).
    pub fn attribute_names(&self) -> &[String] {
        &self.attribute_names
    }

    /// True for the root token and the admin certificate: they bypass every
    /// privilege check.
    pub fn is_superuser(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::RootToken | PrincipalKind::AdminCertificate
        )
    }
}
