//! The server's configuration: one typed struct, loaded once at start.
//!
//! The command line crate builds it from, in increasing precedence, compiled-in
//! defaults, an optional TOML file, `ZAFFRE_*` environment variables and flags;
//! the server only ever sees the result. Secrets it holds are wrapped in
//! [`Secret`] so that `Debug` output (and therefore logs) never shows them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A value that must never be printed. `Debug` and `Display` show `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself: call only where it is used, never to log it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Every setting of a zaffre server. Field docs are the reference for the
/// config file keys (`zaffre config example` prints an annotated file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Where zaffre keeps its SQLite database and generated keys.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://<data_dir>/zaffre.db`.
    /// May carry a password, hence secret.
    pub database_url: Secret<String>,
    /// The URL people use to reach zaffre (e.g. `https://help.example.com`).
    /// Sets the origin writes must come from and marks cookies `Secure` under https.
    /// Empty means "derived from each request's Host header over http".
    pub public_url: String,
    /// The domain app assets are served under: each app gets the origin
    /// `app-<id>.<apps_domain>` (same scheme and port as zaffre), so apps can
    /// never touch the workspace or each other. Needs wildcard DNS and TLS; use
    /// a registrable domain of its own (see docs/apps-hosting.md). Empty means
    /// `app-<id>.localhost` on zaffre's port, which browsers resolve to
    /// loopback: right for running on localhost only.
    pub apps_domain: String,
    /// Requests per minute allowed to each user on the API; 0 disables the limit.
    pub rate_limit_per_minute: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a browser session lasts, in hours.
    pub session_hours: u32,
    /// Log output: `pretty` or `json`.
    pub log_format: LogFormat,
    /// Largest app package upload accepted (`POST /api/v2/apps/uploads`), in
    /// bytes. Zendesk's app size limit is 30 MiB.
    pub max_upload_bytes: usize,
    /// The key that encrypts secure app settings at rest: 32 random bytes in
    /// base64 (`openssl rand -base64 32`). Empty means "the key file
    /// `<data_dir>/secret.key`, created on first start". Every server node
    /// sharing a database must use the same key (see docs/apps.md).
    pub secret_key: Secret<String>,
    /// Private address ranges the app proxy (`client.request()`) may reach,
    /// as CIDR strings such as `"10.20.0.0/16"`, for on-premises services.
    /// Empty by default: loopback, private, link-local, metadata and other
    /// special-purpose addresses are refused (docs/proxy.md).
    pub proxy_allow_ranges: Vec<String>,
    /// Development only (`zaffre dev` turns it on): the proxy may reach
    /// loopback addresses, and secure requests may use plain http to them.
    pub proxy_allow_loopback: bool,
    /// A PEM file of extra root certificates the proxy trusts besides the
    /// public (webpki) roots, for on-premises CAs. Empty means none.
    pub proxy_ca_file: PathBuf,
    /// Cap on a proxied request's time, in seconds (1 to 60); the app's
    /// `timeout` option is cut to it, and it is the default when the app
    /// gives none and it is under 30.
    pub proxy_timeout_secs: u64,
    /// Largest upstream response body the proxy reads, in bytes; a larger one
    /// is refused (502).
    pub proxy_max_response_bytes: usize,
    /// Proxied requests per minute allowed to each installation; 0 disables
    /// the limit. Counted per node.
    pub proxy_rate_per_minute: u32,
    /// Proxied requests one installation may have in flight at once (per node).
    pub proxy_max_concurrent: u32,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 4567)),
            data_dir: PathBuf::from("zaffre-data"),
            database_url: Secret::default(),
            public_url: String::new(),
            apps_domain: String::new(),
            // Zendesk's default for its smaller plans.
            rate_limit_per_minute: 700,
            max_body_bytes: 1024 * 1024,
            session_hours: 12,
            log_format: LogFormat::Pretty,
            max_upload_bytes: 30 * 1024 * 1024,
            secret_key: Secret::default(),
            proxy_allow_ranges: Vec::new(),
            proxy_allow_loopback: false,
            proxy_ca_file: PathBuf::new(),
            proxy_timeout_secs: 60,
            proxy_max_response_bytes: 5 * 1024 * 1024,
            // About ten a second, sustained: generous for one installation of
            // an app (Zendesk's apps limit is lower) and a bound on a runaway one.
            proxy_rate_per_minute: 600,
            proxy_max_concurrent: 20,
        }
    }
}

impl Config {
    /// The database URL to use, applying the SQLite default under `data_dir`.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.expose().is_empty() {
            format!("sqlite://{}", self.data_dir.join("zaffre.db").display())
        } else {
            self.database_url.expose().clone()
        }
    }

    /// Checks what serde cannot: the public URL must be an absolute http(s) URL.
    pub fn validate(&self) -> Result<(), String> {
        if !self.public_url.is_empty() {
            let url = url::Url::parse(&self.public_url).map_err(|e| format!("public_url: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err("public_url: must be an http:// or https:// URL with a host".into());
            }
        }
        if !self.apps_domain.is_empty() && !is_domain_name(&self.apps_domain) {
            return Err(
                "apps_domain: must be a lower-case domain name such as apps.example.net (no scheme, port or path)"
                    .into(),
            );
        }
        if !self.apps_domain.is_empty() && self.public_url.is_empty() {
            // App pages must name the one origin allowed to frame them.
            return Err("apps_domain: set public_url too, the workspace's own address".into());
        }
        if self.max_body_bytes < 1024 {
            return Err("max_body_bytes: must be at least 1024".into());
        }
        if self.session_hours == 0 {
            return Err("session_hours: must be at least 1".into());
        }
        if self.max_upload_bytes < 1024 {
            return Err("max_upload_bytes: must be at least 1024".into());
        }
        if !self.secret_key.expose().is_empty()
            && crate::secrets::SecretBox::from_base64(self.secret_key.expose()).is_err()
        {
            // The message never echoes the value.
            return Err(
                "secret_key: must be 32 bytes in base64 (`openssl rand -base64 32`)".into(),
            );
        }
        self.validate_proxy()
    }

    /// The `proxy_*` keys.
    fn validate_proxy(&self) -> Result<(), String> {
        for range in &self.proxy_allow_ranges {
            range
                .parse::<zaffre_proxy::IpRange>()
                .map_err(|e| format!("proxy_allow_ranges: {e}"))?;
        }
        if !(1..=60).contains(&self.proxy_timeout_secs) {
            return Err("proxy_timeout_secs: must be from 1 to 60".into());
        }
        if self.proxy_max_response_bytes < 1024 {
            return Err("proxy_max_response_bytes: must be at least 1024".into());
        }
        if self.proxy_max_concurrent == 0 {
            return Err("proxy_max_concurrent: must be at least 1".into());
        }
        Ok(())
    }

    /// The public origin (`scheme://host[:port]`) if one is configured.
    pub fn public_origin(&self) -> Option<String> {
        let url = url::Url::parse(&self.public_url).ok()?;
        Some(url.origin().ascii_serialization())
    }

    /// Whether cookies must be marked `Secure`.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// A lower-case DNS name of at least two labels: letters, digits and inner hyphens.
fn is_domain_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && name.len() <= 200
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_database_password() {
        let config = Config {
            database_url: Secret::new("postgres://zaffre:hunter2@db/zaffre".into()),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn validation_messages_name_the_key() {
        let config = Config {
            public_url: "ftp://x".into(),
            ..Config::default()
        };
        assert!(config.validate().unwrap_err().starts_with("public_url"));
    }

    #[test]
    fn proxy_keys_are_checked() {
        assert!(Config::default().validate().is_ok());
        let bad = [
            Config {
                proxy_allow_ranges: vec!["10.0.0.0/8".into(), "10.0.0.0/33".into()],
                ..Config::default()
            },
            Config {
                proxy_allow_ranges: vec!["intranet".into()],
                ..Config::default()
            },
            Config {
                proxy_timeout_secs: 0,
                ..Config::default()
            },
            Config {
                proxy_timeout_secs: 61,
                ..Config::default()
            },
            Config {
                proxy_max_response_bytes: 10,
                ..Config::default()
            },
            Config {
                proxy_max_concurrent: 0,
                ..Config::default()
            },
        ];
        for config in bad {
            let e = config.validate().unwrap_err();
            assert!(e.starts_with("proxy_"), "{e}");
        }
        let good = Config {
            proxy_allow_ranges: vec!["10.20.0.0/16".into(), "fd00::/8".into()],
            ..Config::default()
        };
        assert!(good.validate().is_ok());
    }

    #[test]
    fn apps_domain_must_be_a_bare_domain_name() {
        for bad in [
            "https://apps.example.net",
            "apps.example.net:443",
            "Apps.Example.net",
            "net",
            ".x.net",
        ] {
            let config = Config {
                apps_domain: bad.into(),
                ..Config::default()
            };
            assert!(
                config.validate().unwrap_err().starts_with("apps_domain"),
                "{bad}"
            );
        }
        let config = Config {
            apps_domain: "zaffre-apps.example.net".into(),
            ..Config::default()
        };
        assert!(config.validate().unwrap_err().contains("public_url"));
        let config = Config {
            apps_domain: "zaffre-apps.example.net".into(),
            public_url: "https://help.example.com".into(),
            ..Config::default()
        };
        assert!(config.validate().is_ok());
    }
}
