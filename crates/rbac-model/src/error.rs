//! The crate's error type: one enum for everything the identity model refuses.
//!
//! Most variants are a caller's mistake and carry the plugin's text, so that
//! `http-api` can render them in the OpenSearch shapes without rewording.

use std::fmt;

/// Everything that can go wrong in the identity model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A password could not be hashed.
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// A stored hash is not in a format this crate reads.
    #[error("unsupported password hash format")]
    UnsupportedHash,
    /// A user name is not acceptable.
    #[error("invalid user name: {0}")]
    InvalidName(String),
    /// The request content failed validation: `{"status":"error","reason":...}`.
    #[error("{0}")]
    Invalid(ValidationFailure),
    /// A request the plugin answers with 400 `{"status":"BAD_REQUEST","message":...}`.
    #[error("{0}")]
    BadRequest(String),
    /// 404 `{"status":"NOT_FOUND","message":...}`.
    #[error("{0}")]
    NotFound(String),
    /// 403 `{"status":"FORBIDDEN","message":...}`.
    #[error("{0}")]
    Forbidden(String),
    /// A value passed the key and type checks but does not fit the model
    /// (for example an unknown key inside `index_permissions`). The plugin
    /// lets such input escape as an exception; keyward answers 400.
    #[error("{0}")]
    Malformed(String),
    /// A configuration file could not be read.
    #[error("{file}: {reason}")]
    File {
        /// The file (or configuration type) concerned.
        file: String,
        /// Why.
        reason: String,
    },
    /// A `plugins.security.*` setting is not acceptable.
    #[error("setting [{setting}]: {reason}")]
    Setting {
        /// The setting's name.
        setting: String,
        /// Why.
        reason: String,
    },
}

/// Why request content was refused, in the plugin's validation vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationFailure {
    /// Unknown, missing or "one of" keys. Each list is sorted.
    InvalidConfiguration {
        /// Keys the resource does not accept.
        invalid_keys: Vec<String>,
        /// Mandatory keys that are absent.
        missing_mandatory_keys: Vec<String>,
        /// At least one of these keys must be present.
        specify_one_of: Vec<String>,
    },
    /// Values of the wrong JSON type: key → `String expected` and the like.
    WrongDatatype(Vec<(String, String)>),
    /// Any other reason, with the plugin's text.
    Reason(String),
}

impl ValidationFailure {
    /// `Could not parse content of request.`
    pub fn unparseable() -> Self {
        ValidationFailure::Reason("Could not parse content of request.".into())
    }

    /// `Request body required for this action.`
    pub fn body_required() -> Self {
        ValidationFailure::Reason("Request body required for this action.".into())
    }

    /// The `reason` text of the plugin's body.
    pub fn reason(&self) -> &str {
        match self {
            ValidationFailure::InvalidConfiguration { .. } => "Invalid configuration",
            ValidationFailure::WrongDatatype(_) => "Wrong datatype",
            ValidationFailure::Reason(r) => r,
        }
    }
}

impl fmt::Display for ValidationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationFailure::InvalidConfiguration {
                invalid_keys,
                missing_mandatory_keys,
                specify_one_of,
            } => {
                write!(f, "Invalid configuration")?;
                if !invalid_keys.is_empty() {
                    write!(f, "; invalid keys: {}", invalid_keys.join(","))?;
                }
                if !missing_mandatory_keys.is_empty() {
                    write!(f, "; missing keys: {}", missing_mandatory_keys.join(","))?;
                }
                if !specify_one_of.is_empty() {
                    write!(f, "; specify one of: {}", specify_one_of.join(","))?;
                }
                Ok(())
            }
            ValidationFailure::WrongDatatype(fields) => {
                write!(f, "Wrong datatype")?;
                for (k, v) in fields {
                    write!(f, "; {k}: {v}")?;
                }
                Ok(())
            }
            ValidationFailure::Reason(r) => f.write_str(r),
        }
    }
}

impl From<ValidationFailure> for Error {
    fn from(v: ValidationFailure) -> Self {
        Error::Invalid(v)
    }
}
