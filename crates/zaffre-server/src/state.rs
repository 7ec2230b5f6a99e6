//! The state every handler shares: the store, the configuration and the
//! in-memory helpers. Nothing here is global; tests build as many independent
//! states as they like.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use zaffre_domain::AccountId;
use zaffre_store::{DynStore, StoreError};

use crate::api::proxy::{build_proxy, ProxySetup};
use crate::auth::PasswordCache;
use crate::cache::{FieldCache, TokenCache};
use crate::config::Config;
use crate::error::ApiError;
use crate::events::EventHub;
use crate::rate_limit::{ConcurrencyLimiter, RateLimiter};
use crate::secrets::SecretBox;

/// Shared server state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub config: Arc<Config>,
    pub limiter: RateLimiter,
    /// Counts login attempts per email, separately from API traffic.
    pub login_limiter: RateLimiter,
    pub hub: EventHub,
    pub password_cache: PasswordCache,
    /// API token → user, for a few seconds ([`crate::cache`]).
    pub token_cache: TokenCache,
    /// Each account's ticket fields, for a few seconds ([`crate::cache`]).
    pub field_cache: FieldCache,
    pub accounts: AccountResolver,
    /// Cancelled when the server begins shutting down, so that endless
    /// responses (event streams) end and graceful shutdown can complete.
    pub shutdown: CancellationToken,
    /// Seals and opens secure app settings (see [`crate::secrets`]).
    pub secrets: SecretBox,
    /// The egress proxy behind the apps' `client.request()` ([`crate::api::proxy`]).
    pub proxy: Arc<zaffre_proxy::Proxy>,
    /// Proxied calls per minute, per installation (`proxy_rate_per_minute`).
    pub proxy_limiter: RateLimiter,
    /// Proxied calls in flight, per installation (`proxy_max_concurrent`).
    pub proxy_in_flight: ConcurrencyLimiter,
    /// Each installation's proxy context, for a few seconds
    /// ([`crate::api::proxy::ProxyContextCache`]).
    pub proxy_contexts: crate::api::proxy::ProxyContextCache,
    /// Writes the proxy's audit rows in batches, off the request path
    /// ([`crate::api::proxy::AuditWriter`]); [`crate::serve`] flushes it.
    pub audit_writer: crate::api::proxy::AuditWriter,
    /// Development mode (`zaffre dev`); `None` under `zaffre serve`.
    pub dev: Option<Arc<crate::dev::DevState>>,
    /// A headless test run (`zaffre test`, [`crate::apptest`]). A slot shared
    /// by every clone, so the CLI can set it once the dev host is serving.
    pub apptest: Arc<std::sync::OnceLock<Arc<crate::apptest::AppTest>>>,
}

impl AppState {
    /// Builds the state for a store and a validated configuration. Fails
    /// with a message naming the configuration key when the app proxy cannot
    /// be set up as configured (an unreadable `proxy_ca_file`).
    pub fn new(store: DynStore, config: Config) -> Result<Self, String> {
        Self::with_proxy_setup(store, config, ProxySetup::default())
    }

    /// Builds the state with an injected resolver and extra trusted roots for
    /// the app proxy (tests: simulated names, a local https upstream).
    pub fn with_proxy_setup(
        store: DynStore,
        config: Config,
        setup: ProxySetup,
    ) -> Result<Self, String> {
        let proxy = build_proxy(&config, setup)?;
        Ok(Self::with_proxy(store, config, proxy))
    }

    fn with_proxy(store: DynStore, config: Config, proxy: zaffre_proxy::Proxy) -> Self {
        let secrets = secret_box(&config);
        AppState {
            proxy: Arc::new(proxy),
            proxy_limiter: RateLimiter::new(config.proxy_rate_per_minute),
            proxy_in_flight: ConcurrencyLimiter::new(config.proxy_max_concurrent),
            proxy_contexts: crate::api::proxy::ProxyContextCache::default(),
            audit_writer: crate::api::proxy::AuditWriter::new(store.clone()),
            secrets,
            store,
            limiter: RateLimiter::new(config.rate_limit_per_minute),
            // Ten tries a minute per email slows guessing without locking anyone out for long.
            login_limiter: RateLimiter::new(10),
            config: Arc::new(config),
            hub: EventHub::default(),
            password_cache: PasswordCache::default(),
            token_cache: TokenCache::default(),
            field_cache: FieldCache::default(),
            accounts: AccountResolver::default(),
            shutdown: CancellationToken::new(),
            dev: None,
            apptest: Arc::default(),
        }
    }
}

/// The configured key, or (when none is configured, as in tests and
/// embedders) a random key for this process only, with a warning: secure
/// settings written with it cannot be read after a restart. `zaffre serve`
/// always configures one (from the key file under the data directory).
fn secret_box(config: &Config) -> SecretBox {
    let key = config.secret_key.expose();
    if !key.is_empty() {
        if let Ok(b) = SecretBox::from_base64(key) {
            return b;
        }
        // `Config::validate` refuses a malformed key before we get here.
        tracing::error!("secret_key is not 32 bytes of base64; using a temporary key");
    } else {
        tracing::warn!(
            "no secret_key configured: secure app settings use a temporary key and will not survive a restart"
        );
    }
    SecretBox::generate()
}

/// A subdomain lookup's answer and when it was made.
type CachedAccount = (Option<AccountId>, Instant);

/// Maps a request's Host to an account: `acme.example.com` addresses the
/// account with subdomain `acme` when there is one, anything else the default
/// (oldest) account. Answers are cached: accounts are never renamed, and
/// unknown names are re-checked after a minute.
#[derive(Clone, Default)]
pub struct AccountResolver {
    default: Arc<RwLock<Option<AccountId>>>,
    by_subdomain: Arc<RwLock<HashMap<String, CachedAccount>>>,
}

impl AccountResolver {
    const NEGATIVE_TTL: Duration = Duration::from_secs(60);
    const MAX_CACHED: usize = 1000;

    /// The account addressed by `host`, or `None` when zaffre has no account yet.
    pub async fn resolve(
        &self,
        state: &AppState,
        host: Option<&str>,
    ) -> Result<Option<AccountId>, ApiError> {
        if let Some(label) = host.and_then(subdomain_label) {
            if let Some(found) = self.by_subdomain(state, &label).await? {
                return Ok(Some(found));
            }
        }
        self.default_account(state).await
    }

    async fn by_subdomain(
        &self,
        state: &AppState,
        label: &str,
    ) -> Result<Option<AccountId>, ApiError> {
        if let Some((cached, at)) = self.read_cache(label) {
            if cached.is_some() || at.elapsed() < Self::NEGATIVE_TTL {
                return Ok(cached);
            }
        }
        let found = match state.store.get_account_by_subdomain(label).await {
            Ok(account) => Some(account.id),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let mut cache = self
            .by_subdomain
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= Self::MAX_CACHED {
            cache.retain(|_, (id, _)| id.is_some());
        }
        cache.insert(label.to_owned(), (found, Instant::now()));
        Ok(found)
    }

    fn read_cache(&self, label: &str) -> Option<(Option<AccountId>, Instant)> {
        let cache = self
            .by_subdomain
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(label).copied()
    }

    async fn default_account(&self, state: &AppState) -> Result<Option<AccountId>, ApiError> {
        if let Some(id) = *self
            .default
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            return Ok(Some(id));
        }
        let found = state.store.default_account().await?.map(|a| a.id);
        if found.is_some() {
            *self
                .default
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = found;
        }
        Ok(found)
    }
}

/// The first label of a host name with at least two labels (`acme` of
/// `acme.localhost:4567`); `None` for IP addresses and single-label hosts.
fn subdomain_label(host: &str) -> Option<String> {
    let name = if host.starts_with('[') {
        return None;
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return None;
    }
    let (first, rest) = name.split_once('.')?;
    if first.is_empty() || rest.is_empty() {
        return None;
    }
    Some(first.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::subdomain_label;

    #[test]
    fn subdomains_come_from_multi_label_names_only() {
        assert_eq!(
            subdomain_label("acme.localhost:4567").as_deref(),
            Some("acme")
        );
        assert_eq!(subdomain_label("Help.Example.com").as_deref(), Some("help"));
        assert_eq!(subdomain_label("localhost:4567"), None);
        assert_eq!(subdomain_label("127.0.0.1:4567"), None);
        assert_eq!(subdomain_label("[::1]:4567"), None);
    }
}
