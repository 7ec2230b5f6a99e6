//! zaffre's secure egress proxy: what runs behind ZAF's `client.request()` when a request goes through the server.
//!
//! Every field of a request comes from code in an app's iframe, so every field is attacker-controlled; the secrets
//! (secure settings) and zaffre's network position are what this crate protects. A call runs explicit stages, each
//! in its own module:
//!
//! 1. [`request`] — **parse** the app's options into an [`AppRequest`];
//! 2. `interpolate` — **interpolate** `{{setting.NAME}}` / `{{jwt.token}}` (secure requests only, one pass,
//!    scopes honoured) and build the outgoing request (`jwt` mints the token);
//! 3. `check` — **check** the final URL: scheme, host, `domainWhitelist` (`whitelist`), literal addresses;
//! 4. [`resolve`] — **resolve** the host once and `classify` every address;
//! 5. `connect` — **connect** to exactly a checked address (TLS with rustls), pooled per checked address;
//! 6. `send` — **send**, with the timeout and 429 retries;
//! 7. `response` — **filter the response**: size cap, text only, hop-by-hop and `Set-Cookie` removed;
//! 8. `audit` — the **audit record**, written for every call, refusals included, with secure values masked.
//!
//! The crate knows nothing of HTTP servers, stores or sessions: the server builds an [`InstallationContext`] and
//! passes the app's options.

pub mod config;
pub mod context;
pub mod outcome;
pub mod request;
pub mod resolve;

use std::sync::Arc;
use std::time::Instant;

pub use config::{IpRange, IpRangeParseError, ProxyConfig};
pub use context::{InstallationContext, Scope, ScopeParseError, SettingValue};
pub use outcome::{AuditRecord, ProxyOutcome, Refusal, RefusalCode, UpstreamResponse};
pub use request::{AppRequest, ContentTypeOption, JwtOptions};
pub use resolve::{Resolver, SystemResolver};

/// Why a [`Proxy`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProxyInitError {
    #[error("an extra root certificate could not be read: {0}")]
    RootCertificate(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// The proxy: configuration, resolver, TLS setup and the upstream connection pool. Share it behind an `Arc`.
pub struct Proxy {
    config: ProxyConfig,
    #[allow(dead_code)]
    resolver: Arc<dyn Resolver>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Proxy {
    pub fn new(config: ProxyConfig, resolver: Arc<dyn Resolver>) -> Result<Proxy, ProxyInitError> {
        Ok(Proxy { config, resolver })
    }

    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Runs parse → interpolate → check → resolve → connect → send → filter response, and always returns an
    /// audit record (also for refusals).
    pub async fn send(&self, request: AppRequest, installation: &InstallationContext) -> ProxyOutcome {
        let started = Instant::now();
        let _ = installation;
        let refusal = Refusal::new(RefusalCode::Unavailable, "the proxy is not implemented yet");
        let audit = AuditRecord {
            method: request.method.clone(),
            duration: started.elapsed(),
            refusal: Some(format!("{}: {}", refusal.code, refusal.message)),
            ..AuditRecord::default()
        };
        ProxyOutcome { result: Err(refusal), audit }
    }
}
