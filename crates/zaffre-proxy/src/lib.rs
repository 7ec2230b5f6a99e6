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
//! 4. [`resolve`] — **resolve** the host once and `classify` every address — unless an idle pooled connection to
//!    this scheme, host and port exists, whose address was checked when it was dialled (`connect`; its address is
//!    classified again all the same);
//! 5. `connect` — **connect** to exactly a checked address (TLS with rustls), pooled per scheme, host and port;
//! 6. `send` — **send**, with the timeout and 429 retries;
//! 7. `response` — **filter the response**: size cap, text only, hop-by-hop and `Set-Cookie` removed;
//! 8. `audit` — the **audit record**, written for every call, refusals included, with secure values masked.
//!
//! The crate knows nothing of HTTP servers, stores or sessions: the server builds an [`InstallationContext`] and
//! passes the app's options.

pub mod audit;
pub mod build;
pub mod check;
pub mod classify;
pub mod config;
pub mod connect;
pub mod context;
pub mod interpolate;
pub mod jwt;
pub mod outcome;
pub mod request;
pub mod resolve;
pub mod response;
pub mod send;
pub mod whitelist;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

pub use config::{IpRange, IpRangeParseError, ProxyConfig};
pub use context::{InstallationContext, Scope, ScopeParseError, SettingValue};
pub use outcome::{AuditRecord, ProxyOutcome, Refusal, RefusalCode, UpstreamResponse};
pub use request::{AppRequest, ContentTypeOption, JwtOptions};
pub use resolve::{Resolver, SystemResolver};

use check::TargetHost;
use classify::{check_addr, AddrClass};
use interpolate::{not_proxyable, Masker};

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
    resolver: Arc<dyn Resolver>,
    connector: connect::Connector,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    pub fn new(config: ProxyConfig, resolver: Arc<dyn Resolver>) -> Result<Proxy, ProxyInitError> {
        let connector = connect::Connector::new(&config.extra_root_certs, config.connect_timeout)?;
        Ok(Proxy {
            config,
            resolver,
            connector,
        })
    }

    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Runs parse → interpolate → check → resolve → connect → send → filter response, and always returns an
    /// audit record (also for refusals).
    pub async fn send(
        &self,
        request: AppRequest,
        installation: &InstallationContext,
    ) -> ProxyOutcome {
        let started = Instant::now();
        let timeout = request
            .timeout
            .unwrap_or(self.config.default_timeout)
            .min(self.config.max_timeout);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut audit = AuditRecord {
            method: request.method.clone(),
            ..AuditRecord::default()
        };
        let mut masker = Masker::default();
        let mut display_url = String::new();
        let run = self.run(
            &request,
            installation,
            deadline,
            &mut audit,
            &mut masker,
            &mut display_url,
        );
        let mut result = match tokio::time::timeout_at(deadline, run).await {
            Ok(result) => result,
            Err(_) => Err(Refusal::new(
                RefusalCode::Timeout,
                format!("{display_url}: no answer within {} ms", timeout.as_millis()),
            )),
        };
        if let Err(refusal) = &mut result {
            refusal.message = masker.mask(&refusal.message);
        }
        audit.duration = started.elapsed();
        audit::finish(&mut audit, &result);
        ProxyOutcome { result, audit }
    }

    /// An idle pooled connection for `name` (see [`connect::Connector::checkout_for_name`] for why it needs no
    /// new lookup), provided its address still passes [`check_addr`]. It always does (the configuration it was
    /// checked against cannot change), but the check is cheap and keeps the rule "classified on every call"
    /// literally true.
    fn pooled_for_name(&self, target: &check::Target, name: &str) -> Option<connect::Connection> {
        let connection = self
            .connector
            .checkout_for_name(target.https, name, target.port)?;
        match check_addr(connection.key.addr, &self.config) {
            Ok(()) => Some(connection),
            Err(_) => None,
        }
    }

    async fn run(
        &self,
        request: &AppRequest,
        installation: &InstallationContext,
        deadline: tokio::time::Instant,
        audit: &mut AuditRecord,
        masker: &mut Masker,
        display_url: &mut String,
    ) -> Result<UpstreamResponse, Refusal> {
        // 2. interpolate and build
        let out = build::build(request, installation, &self.config, masker, display_url)?;
        *display_url = out.display_url.clone();
        audit.secure_settings_used = out.secure_settings_used.clone();
        audit.request_bytes = out.body.len() as u64;

        // 3. check
        let target = check::check_target(&out, request.secure, installation, &self.config)?;
        audit::record_target(audit, &target, masker);

        // 4. resolve once, classify every answer; or take an idle connection to an address checked earlier
        let mut pooled = None;
        let addrs: Vec<SocketAddr> = match &target.host {
            TargetHost::Ip(ip) => vec![SocketAddr::new(*ip, target.port)],
            TargetHost::Name(name) => match self.pooled_for_name(&target, name) {
                Some(connection) => {
                    let addr = connection.key.addr;
                    pooled = Some(connection);
                    vec![addr]
                }
                None => {
                    let answer = self.resolver.resolve(name).await.map_err(|e| {
                        tracing::debug!(error = %e, "resolution failed");
                        Refusal::new(
                            RefusalCode::ResolveFailed,
                            format!("{display_url}: the host name did not resolve"),
                        )
                    })?;
                    if answer.is_empty() {
                        return Err(Refusal::new(
                            RefusalCode::ResolveFailed,
                            format!("{display_url}: the host name did not resolve"),
                        ));
                    }
                    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(answer.len());
                    for ip in answer {
                        let addr = SocketAddr::new(ip.to_canonical(), target.port);
                        if let Err(why) = check_addr(addr, &self.config) {
                            let mut refusal = not_proxyable(display_url);
                            refusal
                                .message
                                .push_str(&format!(" (the host resolves to {why})"));
                            return Err(refusal);
                        }
                        if !addrs.contains(&addr) {
                            addrs.push(addr);
                        }
                    }
                    addrs
                }
            },
        };
        if request.secure
            && !target.https
            && !addrs.iter().all(|a| {
                classify::classify(a.ip()) == AddrClass::Loopback && self.config.allow_loopback
            })
        {
            let mut refusal = not_proxyable(display_url);
            refusal
                .message
                .push_str(" (secure requests must use https)");
            return Err(refusal);
        }

        // 5.–7. connect, send, filter; 429 retries
        let prepared = send::Prepared {
            method: &out.method,
            target: &target,
            addrs: &addrs,
            headers: &out.headers,
            body: &out.body,
        };
        let mut retries = 0;
        loop {
            let exchange = send::exchange(
                &self.connector,
                &prepared,
                pooled.take(),
                self.config.max_response_bytes,
            )
            .await;
            audit.response_bytes = exchange.response_bytes;
            audit.remote_addr = exchange.remote_addr.or(audit.remote_addr);
            let mut response = exchange.response?;
            response.retries = retries;
            audit.retries = retries;
            if response.status != 429 || !request.auto_retry || retries >= self.config.max_retries {
                return Ok(response);
            }
            let wait = send::retry_after(response.header("retry-after"), SystemTime::now())
                .unwrap_or(send::FALLBACK_RETRY_AFTER);
            if wait > self.config.max_retry_after || tokio::time::Instant::now() + wait >= deadline
            {
                return Ok(response);
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                retry = retries + 1,
                "upstream 429, retrying"
            );
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }
}
