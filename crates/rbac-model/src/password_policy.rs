//! The plugin's password rules for the REST API: minimum and maximum length,
//! an optional regular expression, and the zxcvbn strength score with the
//! user name as a dictionary word.

use crate::Error;

/// The longest password the plugin accepts.
pub const MAX_PASSWORD_LENGTH: usize = 100;

/// `password_score_based_validation_strength`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// zxcvbn score 1.
    Fair,
    /// zxcvbn score 2.
    Good,
    /// zxcvbn score 3 (the default).
    Strong,
    /// zxcvbn score 4.
    VeryStrong,
}

impl Strength {
    /// Reads the setting's value (case-insensitive), with the plugin's message.
    pub fn parse(value: &str) -> Result<Strength, Error> {
        match value.to_ascii_lowercase().as_str() {
            "fair" => Ok(Strength::Fair),
            "good" => Ok(Strength::Good),
            "strong" => Ok(Strength::Strong),
            "very_strong" => Ok(Strength::VeryStrong),
            _ => Err(Error::Setting {
                setting: "plugins.security.restapi.password_score_based_validation_strength".into(),
                reason: format!(
                    "cannot be used with the configured: {value}. Expected one of [fair,good,strong,very_strong]"
                ),
            }),
        }
    }

    fn score(self) -> u8 {
        match self {
            Strength::Fair => 1,
            Strength::Good => 2,
            Strength::Strong => 3,
            Strength::VeryStrong => 4,
        }
    }
}

/// The password rules in force.
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    min_length: Option<usize>,
    regex: Option<fancy_regex::Regex>,
    regex_message: String,
    strength: Strength,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: None,
            regex: None,
            regex_message: DEFAULT_REGEX_MESSAGE.into(),
            strength: Strength::Strong,
        }
    }
}

/// The reason given when the regex does not match and no message is set.
pub const DEFAULT_REGEX_MESSAGE: &str = "Password does not match minimum criteria";

impl PasswordPolicy {
    /// Builds the rules from the settings' values.
    pub fn new(
        min_length: i64,
        regex: Option<&str>,
        regex_message: Option<&str>,
        strength: Strength,
    ) -> Result<PasswordPolicy, Error> {
        let regex = match regex.filter(|r| !r.is_empty()) {
            Some(r) => Some(fancy_regex::Regex::new(&format!("^(?:{r})$")).map_err(|e| {
                Error::Setting {
                    setting: "plugins.security.restapi.password_validation_regex".into(),
                    reason: e.to_string(),
                }
            })?),
            None => None,
        };
        Ok(PasswordPolicy {
            min_length: usize::try_from(min_length).ok().filter(|n| *n > 0),
            regex,
            regex_message: regex_message.unwrap_or(DEFAULT_REGEX_MESSAGE).to_string(),
            strength,
        })
    }

    /// Checks `password` for `username`; the error is the plugin's reason text.
    pub fn check(&self, username: &str, password: &str) -> Result<(), String> {
        let len = password.encode_utf16().count();
        if len == 0 || self.min_length.is_some_and(|min| len < min) {
            return Err("Password is too short".into());
        }
        if len > MAX_PASSWORD_LENGTH {
            return Err("Password is too long".into());
        }
        if let Some(re) = &self.regex
            && !re.is_match(password).unwrap_or(false)
        {
            return Err(self.regex_message.clone());
        }
        let entropy = zxcvbn::zxcvbn(password, &[username]);
        if u8::from(entropy.score()) < self.strength.score() {
            return Err("Weak password".into());
        }
        // zxcvbn keeps its dictionary names private; the user-input
        // dictionary is recognisable by its Debug name.
        let similar = entropy.sequence().iter().any(|m| match &m.pattern {
            zxcvbn::matching::patterns::MatchPattern::Dictionary(d) => {
                format!("{:?}", d.dictionary_name) == "UserInputs"
            }
            _ => false,
        });
        if similar {
            return Err("Password is similar to user name".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugins_own_examples() {
        let p = PasswordPolicy::new(9, None, None, Strength::Strong).unwrap();
        assert_eq!(p.check("u", "password89").unwrap_err(), "Weak password");
        assert_eq!(p.check("u", "A123456789").unwrap_err(), "Weak password");
        assert_eq!(p.check("u", "str123").unwrap_err(), "Password is too short");
        assert!(p.check("u", "s5tRx2r4bwex").is_ok());

        let regex = "(?=.*[A-Z])(?=.*[^a-zA-Z\\d])(?=.*[0-9])(?=.*[a-z]).{8,}";
        let p = PasswordPolicy::new(-1, Some(regex), None, Strength::Fair).unwrap();
        for bad in [
            "123",
            "1234567",
            "1Aa%",
            "123456789",
            "a123456789",
            "A123456789",
        ] {
            assert_eq!(
                p.check("u", bad).unwrap_err(),
                DEFAULT_REGEX_MESSAGE,
                "{bad}"
            );
        }
        assert!(p.check("u", "$aA123456789").is_ok());
        assert!(p.check("u", "Admin_123").is_ok());
        assert_eq!(
            p.check("some_user_name", "H3235,cc,some_User_Name")
                .unwrap_err(),
            "Password is similar to user name"
        );
    }

    #[test]
    fn defaults_refuse_weak_and_long_passwords() {
        let p = PasswordPolicy::default();
        assert_eq!(p.check("kirk", "kirkpass").unwrap_err(), "Weak password");
        assert_eq!(p.check("u", "").unwrap_err(), "Password is too short");
        assert_eq!(
            p.check("u", &"x".repeat(101)).unwrap_err(),
            "Password is too long"
        );
        assert!(p.check("u", "opensearchpy@123").is_ok());
        assert!(p.check("plain", "Hj4%kLp9@wEr").is_ok());
        assert!(Strength::parse("VERY_strong").is_ok());
        assert!(Strength::parse("weak").is_err());
    }
}
