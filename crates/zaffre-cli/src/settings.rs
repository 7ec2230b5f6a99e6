//! Loading the configuration: defaults < TOML file < `ZAFFRE_*` environment <
//! flags, into the server's one [`Config`] struct.
//!
//! The environment is passed in as a lookup function rather than read here, so
//! the precedence rules are tested without touching the process environment.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use zaffre_server::{Config, LogFormat, Secret};

use crate::args::CommonArgs;

/// The annotated example configuration, printed by `zaffre config example`.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

/// Flags that override configuration keys; `None` leaves the key alone.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub common: CommonArgs,
    pub listen: Option<std::net::SocketAddr>,
}

/// Builds the configuration from every source, in order, and validates it.
pub fn load(overrides: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
    let file = overrides
        .common
        .config
        .clone()
        .or_else(|| env("ZAFFRE_CONFIG").map(PathBuf::from));
    let mut config = match &file {
        Some(path) => read_file(path)?,
        None => Config::default(),
    };
    apply_env(&mut config, env)?;
    if let Some(listen) = overrides.listen {
        config.listen = listen;
    }
    if let Some(dir) = &overrides.common.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &overrides.common.database_url {
        config.database_url = Secret::new(url.clone());
    }
    config
        .validate()
        .map_err(anyhow::Error::msg)
        .context("invalid configuration")?;
    Ok(config)
}

fn read_file(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the configuration file {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("the configuration file {} is not valid", path.display()))
}

fn apply_env(config: &mut Config, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    fn parsed<T: std::str::FromStr>(name: &str, value: &str) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        value
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={value:?} is not valid: {e}"))
    }
    if let Some(v) = env("ZAFFRE_LISTEN") {
        config.listen = parsed("ZAFFRE_LISTEN", &v)?;
    }
    if let Some(v) = env("ZAFFRE_DATA_DIR") {
        config.data_dir = PathBuf::from(v);
    }
    if let Some(v) = env("ZAFFRE_DATABASE_URL") {
        // Not echoed in errors: it may carry a password.
        config.database_url = Secret::new(v);
    }
    if let Some(v) = env("ZAFFRE_PUBLIC_URL") {
        config.public_url = v;
    }
    if let Some(v) = env("ZAFFRE_APPS_DOMAIN") {
        config.apps_domain = v.trim().to_owned();
    }
    if let Some(v) = env("ZAFFRE_RATE_LIMIT_PER_MINUTE") {
        config.rate_limit_per_minute = parsed("ZAFFRE_RATE_LIMIT_PER_MINUTE", &v)?;
    }
    if let Some(v) = env("ZAFFRE_MAX_BODY_BYTES") {
        config.max_body_bytes = parsed("ZAFFRE_MAX_BODY_BYTES", &v)?;
    }
    if let Some(v) = env("ZAFFRE_SESSION_HOURS") {
        config.session_hours = parsed("ZAFFRE_SESSION_HOURS", &v)?;
    }
    if let Some(v) = env("ZAFFRE_MAX_UPLOAD_BYTES") {
        config.max_upload_bytes = parsed("ZAFFRE_MAX_UPLOAD_BYTES", &v)?;
    }
    if let Some(v) = env("ZAFFRE_SECRET_KEY") {
        // Not echoed in errors: it is the key itself.
        config.secret_key = Secret::new(v);
    }
    if let Some(v) = env("ZAFFRE_LOG_FORMAT") {
        config.log_format = match v.as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => bail!("ZAFFRE_LOG_FORMAT={other:?} is not valid: use pretty or json"),
        };
    }
    Ok(())
}

/// The real process environment, as a lookup function.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn precedence_is_defaults_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("z.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1000\"\nrate_limit_per_minute = 5\nsession_hours = 3\n",
        )
        .unwrap();
        let overrides = Overrides {
            common: CommonArgs {
                config: Some(file),
                ..CommonArgs::default()
            },
            listen: Some("127.0.0.1:3000".parse().unwrap()),
        };
        let env = env_of(&[
            ("ZAFFRE_LISTEN", "127.0.0.1:2000"),
            ("ZAFFRE_RATE_LIMIT_PER_MINUTE", "9"),
        ]);
        let config = load(&overrides, &env).unwrap();
        assert_eq!(config.listen.port(), 3000, "flag beats env");
        assert_eq!(config.rate_limit_per_minute, 9, "env beats file");
        assert_eq!(config.session_hours, 3, "file beats default");
        assert_eq!(config.max_body_bytes, Config::default().max_body_bytes);
    }

    #[test]
    fn the_example_file_is_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn bad_values_are_named_and_unknown_keys_refused() {
        let err = load(&Overrides::default(), &env_of(&[("ZAFFRE_LISTEN", "nope")])).unwrap_err();
        assert!(format!("{err:#}").contains("ZAFFRE_LISTEN"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("z.toml");
        std::fs::write(&file, "lissen = \"x\"\n").unwrap();
        let overrides = Overrides {
            common: CommonArgs {
                config: Some(file),
                ..CommonArgs::default()
            },
            listen: None,
        };
        let err = load(&overrides, &env_of(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("lissen"), "{err:#}");
        let err = load(
            &Overrides::default(),
            &env_of(&[("ZAFFRE_CONFIG", "/nonexistent/z.toml")]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/z.toml"));
    }
}
