//! Shared test fixtures: a recognisable secret in every installation, a scripted resolver, local upstreams that
//! count accepted connections and record requests, a log buffer that catches every tracing line, and the
//! secret-leak scan.

#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use zaffre_proxy::*;

/// Every secure value starts with this, so one scan finds any of them.
pub const SECRET_MARK: &str = "S3CR3T";
pub const TOKEN: &str = "S3CR3T-tok-7f3a9c";
pub const HDR_ONLY: &str = "S3CR3T-hdr-51b2";
pub const JWT_KEY: &str = "S3CR3T-jwt-key-99";
pub const BASIC_USER: &str = "S3CR3T-user";
pub const BASIC_PASS: &str = "S3CR3T-pass";

pub fn installation() -> InstallationContext {
    let s = |name: &str, value: &str, secure: bool, scopes: &[Scope]| SettingValue {
        name: name.into(),
        value: value.into(),
        secure,
        scopes: scopes.to_vec(),
    };
    InstallationContext {
        account_id: 11,
        account_subdomain: "acme".into(),
        installation_id: 22,
        app_id: 33,
        user_id: 44,
        settings: vec![
            s("token", TOKEN, true, &[]),
            s("hdr_only", HDR_ONLY, true, &[Scope::Header]),
            s("jwt_key", JWT_KEY, true, &[Scope::JwtSecretKey]),
            s("claim", "S3CR3T-claim", true, &[Scope::JwtClaim]),
            s("user", BASIC_USER, true, &[Scope::BasicAuthUsername]),
            s("pass", BASIC_PASS, true, &[Scope::BasicAuthPassword]),
            s("recursive", "{{setting.token}}|{{jwt.token}}", true, &[]),
            s("tenant", "S3CR3T-tenant", true, &[Scope::Url]),
            s("crlf", "S3CR3T\r\nX-Injected: 1", true, &[]),
            s("nul", "S3CR3T\0x", true, &[]),
            s("sub_slash", "evil.test/x?", true, &[]),
            s("sub_hash", "evil.test#", true, &[]),
            s("sub_at", "a@evil.test", true, &[]),
            s("sub_crlf", "a.good.test\r\nHost: x", true, &[]),
            s("sub_dots", "%2e%2e", true, &[]),
            s("sub_evil", "evil.test", true, &[]),
            s("dots", "../../admin", true, &[]),
            s("plain", "visible-value", false, &[]),
            s("wl_host", "tenant.example.test", false, &[]),
        ],
        domain_whitelist: vec!["good.test".into(), "{{setting.wl_host}}".into()],
    }
}

/// A resolver with scripted answers: each name has a list of answers, one per lookup (the last one repeats).
#[derive(Default)]
pub struct ScriptedResolver {
    answers: Mutex<HashMap<String, Vec<Vec<IpAddr>>>>,
    calls: Mutex<HashMap<String, usize>>,
}

impl ScriptedResolver {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn set(&self, name: &str, answers: &[&[IpAddr]]) {
        self.answers.lock().unwrap().insert(
            name.to_string(),
            answers.iter().map(|a| a.to_vec()).collect(),
        );
    }

    pub fn calls(&self, name: &str) -> usize {
        self.calls.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

#[async_trait]
impl Resolver for ScriptedResolver {
    async fn resolve(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(host.to_string()).or_default();
            *n += 1;
            *n
        };
        let answers = self.answers.lock().unwrap();
        match answers.get(host) {
            Some(list) if !list.is_empty() => Ok(list[(n - 1).min(list.len() - 1)].clone()),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such name",
            )),
        }
    }
}

/// A request as the upstream saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The local address the connection arrived at (what the proxy dialled).
    pub local: SocketAddr,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

pub type Handler = Arc<dyn Fn(&Seen, usize) -> Response<Full<Bytes>> + Send + Sync>;

/// A local HTTP upstream that counts accepted connections and records requests.
pub struct Upstream {
    pub addr: SocketAddr,
    pub accepts: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

pub fn ok_text(body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// An upstream answering every request with `handler`, optionally over TLS.
pub async fn upstream_on(
    ip: &str,
    handler: Handler,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Upstream {
    let listener = TcpListener::bind((ip.parse::<IpAddr>().unwrap(), 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::new(Mutex::new(Vec::new()));
    let (a, s) = (accepts.clone(), seen.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            a.fetch_add(1, Ordering::SeqCst);
            let local = stream.local_addr().unwrap();
            let (handler, seen, tls) = (handler.clone(), s.clone(), tls.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let (handler, seen) = (handler.clone(), seen.clone());
                    async move {
                        use http_body_util::BodyExt;
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let record = Seen {
                            method: parts.method.to_string(),
                            uri: parts.uri.to_string(),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(n, v)| {
                                    (
                                        n.to_string(),
                                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                    )
                                })
                                .collect(),
                            body: String::from_utf8_lossy(&body).into_owned(),
                            local,
                        };
                        let n = {
                            let mut seen = seen.lock().unwrap();
                            seen.push(record.clone());
                            seen.len()
                        };
                        Ok::<_, Infallible>(handler(&record, n))
                    }
                });
                let builder = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    });
    Upstream {
        addr,
        accepts,
        seen,
    }
}

pub async fn upstream(handler: Handler) -> Upstream {
    upstream_on("127.0.0.1", handler, None).await
}

/// An upstream answering `ok` to everything.
pub async fn ok_upstream() -> Upstream {
    upstream(Arc::new(|_, _| ok_text("ok"))).await
}

/// A listener that accepts and then never answers.
pub async fn silent_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let a = accepts.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (addr, accepts)
}

/// A self-signed certificate for `names`, as (acceptor, certificate DER).
pub fn tls_acceptor(names: &[&str]) -> (tokio_rustls::TlsAcceptor, Vec<u8>) {
    let cert =
        rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let der = cert.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone().into()], key)
        .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), der)
}

pub fn proxy(config: ProxyConfig, resolver: Arc<ScriptedResolver>) -> Proxy {
    init_logs();
    Proxy::new(config, resolver).unwrap()
}

/// Development settings: loopback allowed (so requests reach local upstreams over plain http).
pub fn dev_config() -> ProxyConfig {
    ProxyConfig {
        allow_loopback: true,
        max_retry_after: Duration::from_secs(5),
        ..ProxyConfig::default()
    }
}

/// Parses options and sends; checks the outcome for leaks (the upstream never echoes in these tests).
pub async fn send(proxy: &Proxy, options: Value) -> ProxyOutcome {
    send_with(proxy, options, &installation()).await
}

pub async fn send_with(
    proxy: &Proxy,
    options: Value,
    installation: &InstallationContext,
) -> ProxyOutcome {
    let outcome = match AppRequest::from_options(&options) {
        Ok(request) => proxy.send(request, installation).await,
        Err(refusal) => ProxyOutcome {
            result: Err(refusal),
            audit: AuditRecord::default(),
        },
    };
    assert_no_leak(&outcome);
    outcome
}

/// The secret-leak scan: no secure value in the refusal, the response, the audit record, or any log line so far.
pub fn assert_no_leak(outcome: &ProxyOutcome) {
    let shown = format!("{:?} {:?}", outcome.result, outcome.audit);
    assert!(
        !shown.contains(SECRET_MARK),
        "a secure value leaked into the outcome: {shown}"
    );
    assert_no_leak_in_logs();
}

pub fn assert_no_leak_in_logs() {
    let logs = String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned();
    assert!(
        !logs.contains(SECRET_MARK),
        "a secure value leaked into the logs"
    );
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(Default::default)
}

struct BufferWriter;

impl Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        log_buffer().lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every tracing event of every level from every crate into the buffer.
pub fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| BufferWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
}

/// Log lines captured so far (for tests asserting that refusals are logged).
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}
