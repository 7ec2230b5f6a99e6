//! What the server knows about the installation making a request ([`InstallationContext`]): its identity, its
//! settings (secure or not) and its manifest's `domainWhitelist`. Built by the server from the store, never from
//! anything the app sends.

use std::fmt;
use std::str::FromStr;

/// The installation on whose behalf a request is proxied.
#[derive(Clone, Debug)]
pub struct InstallationContext {
    pub account_id: i64,
    pub account_subdomain: String,
    pub installation_id: i64,
    pub app_id: i64,
    pub user_id: i64,
    /// Every setting of the installation, secure or not.
    pub settings: Vec<SettingValue>,
    /// The manifest's `domainWhitelist` entries, which may hold `{{setting.x}}` templates.
    pub domain_whitelist: Vec<String>,
}

impl InstallationContext {
    /// The setting called `name` (names are case-sensitive, as in the manifest).
    pub fn setting(&self, name: &str) -> Option<&SettingValue> {
        self.settings.iter().find(|s| s.name == name)
    }
}

/// One setting value of an installation.
#[derive(Clone)]
pub struct SettingValue {
    pub name: String,
    /// The value; `Debug` prints `[redacted]` instead when the setting is secure.
    pub value: String,
    pub secure: bool,
    /// Positions a secure value may be interpolated into; empty means every position (the manifest validator warns
    /// about that).
    pub scopes: Vec<Scope>,
}

impl SettingValue {
    /// Whether the value may go into `position`.
    pub fn allows(&self, position: Scope) -> bool {
        self.scopes.is_empty() || self.scopes.contains(&position)
    }
}

impl fmt::Debug for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.secure {
            &"[redacted]"
        } else {
            &self.value
        };
        f.debug_struct("SettingValue")
            .field("name", &self.name)
            .field("value", value)
            .field("secure", &self.secure)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A position a secure setting may be interpolated into (the manifest's `scopes` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Header,
    Body,
    Url,
    JwtSecretKey,
    JwtClaim,
    BasicAuthUsername,
    BasicAuthPassword,
}

impl Scope {
    /// The manifest name (`header`, `jwt_secret_key`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Header => "header",
            Scope::Body => "body",
            Scope::Url => "url",
            Scope::JwtSecretKey => "jwt_secret_key",
            Scope::JwtClaim => "jwt_claim",
            Scope::BasicAuthUsername => "basic_auth_username",
            Scope::BasicAuthPassword => "basic_auth_password",
        }
    }

    pub const ALL: [Scope; 7] = [
        Scope::Header,
        Scope::Body,
        Scope::Url,
        Scope::JwtSecretKey,
        Scope::JwtClaim,
        Scope::BasicAuthUsername,
        Scope::BasicAuthPassword,
    ];
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not one of the manifest's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown secure setting scope {0:?}")]
pub struct ScopeParseError(pub String);

impl FromStr for Scope {
    type Err = ScopeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| ScopeParseError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secure_values() {
        let secure = SettingValue {
            name: "token".into(),
            value: "S3CR3T".into(),
            secure: true,
            scopes: vec![],
        };
        let shown = format!("{secure:?} {secure:#?}");
        assert!(!shown.contains("S3CR3T"), "{shown}");
        assert!(shown.contains("[redacted]"));
        let plain = SettingValue {
            name: "sub".into(),
            value: "acme".into(),
            secure: false,
            scopes: vec![],
        };
        assert!(format!("{plain:?}").contains("acme"));
    }

    #[test]
    fn scope_names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
        }
        assert!("url_host".parse::<Scope>().is_err());
    }
}
