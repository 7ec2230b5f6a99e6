//! Stage 5, **connect**: our own connector. It dials exactly one of the addresses the resolve stage checked
//! (never a name, so there is no second lookup and no DNS rebinding), speaks TLS with rustls (webpki roots plus
//! the operator's extra roots; the server name is the checked host), and hands hyper an HTTP/1.1 connection.
//!
//! Connections are kept alive in a pool keyed by (scheme, host, checked address and port): a pooled connection is
//! only ever reused for the same host at the same checked address, so reuse can neither skip a check nor send one
//! host's request down another host's TLS session.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::ProxyInitError;

/// How long an idle pooled connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections kept per pool key.
const MAX_IDLE_PER_KEY: usize = 64;

/// What a pooled connection may be reused for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolKey {
    pub https: bool,
    /// The checked host name (or IP text), also the TLS server name.
    pub host: String,
    /// The checked address, port included.
    pub addr: SocketAddr,
}

/// A connection ready to send one request.
pub struct Connection {
    pub key: PoolKey,
    pub sender: SendRequest<Full<Bytes>>,
    /// Whether it came from the pool (then a failure before any response may be a stale connection).
    pub reused: bool,
}

struct Idle {
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

/// Why no connection was made.
#[derive(Debug)]
pub enum ConnectError {
    Timeout,
    Failed,
}

pub struct Connector {
    tls: TlsConnector,
    connect_timeout: Duration,
    pool: Mutex<HashMap<PoolKey, Vec<Idle>>>,
}

impl Connector {
    pub fn new(
        extra_root_certs: &[Vec<u8>],
        connect_timeout: Duration,
    ) -> Result<Connector, ProxyInitError> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for (index, cert) in extra_root_certs.iter().enumerate() {
            let ders: Vec<CertificateDer<'static>> =
                if cert.trim_ascii_start().starts_with(b"-----BEGIN") {
                    CertificateDer::pem_slice_iter(cert)
                        .collect::<Result<_, _>>()
                        .map_err(|e| {
                            ProxyInitError::RootCertificate(format!("certificate {index}: {e}"))
                        })?
                } else {
                    vec![CertificateDer::from(cert.clone())]
                };
            if ders.is_empty() {
                return Err(ProxyInitError::RootCertificate(format!(
                    "certificate {index}: no certificate in PEM"
                )));
            }
            for der in ders {
                roots.add(der).map_err(|e| {
                    ProxyInitError::RootCertificate(format!("certificate {index}: {e}"))
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ProxyInitError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Connector {
            tls: TlsConnector::from(Arc::new(config)),
            connect_timeout,
            pool: Mutex::new(HashMap::new()),
        })
    }

    /// A connection to one of `addrs` (all checked), from the pool if one is idle, else newly dialled in order.
    pub async fn connect(
        &self,
        https: bool,
        host: &str,
        addrs: &[SocketAddr],
    ) -> Result<Connection, ConnectError> {
        for addr in addrs {
            let key = PoolKey {
                https,
                host: host.to_string(),
                addr: *addr,
            };
            if let Some(sender) = self.checkout(&key) {
                return Ok(Connection {
                    key,
                    sender,
                    reused: true,
                });
            }
        }
        self.dial_any(https, host, addrs).await
    }

    /// A new connection (never from the pool) to one of `addrs`.
    pub async fn dial_any(
        &self,
        https: bool,
        host: &str,
        addrs: &[SocketAddr],
    ) -> Result<Connection, ConnectError> {
        let deadline = tokio::time::Instant::now() + self.connect_timeout;
        let mut last = ConnectError::Failed;
        for addr in addrs {
            let key = PoolKey {
                https,
                host: host.to_string(),
                addr: *addr,
            };
            match tokio::time::timeout_at(deadline, self.dial(&key)).await {
                Ok(Ok(sender)) => {
                    return Ok(Connection {
                        key,
                        sender,
                        reused: false,
                    })
                }
                Ok(Err(())) => last = ConnectError::Failed,
                Err(_) => return Err(ConnectError::Timeout),
            }
        }
        Err(last)
    }

    async fn dial(&self, key: &PoolKey) -> Result<SendRequest<Full<Bytes>>, ()> {
        let tcp = TcpStream::connect(key.addr).await.map_err(|e| {
            tracing::debug!(error = %e, "connect failed");
        })?;
        let _ = tcp.set_nodelay(true);
        if key.https {
            let server_name = ServerName::try_from(key.host.clone()).map_err(|_| ())?;
            let tls = self.tls.connect(server_name, tcp).await.map_err(|e| {
                tracing::debug!(error = %e, "TLS handshake failed");
            })?;
            let (sender, conn) = http1::handshake(TokioIo::new(tls)).await.map_err(|_| ())?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(sender)
        } else {
            let (sender, conn) = http1::handshake(TokioIo::new(tcp)).await.map_err(|_| ())?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(sender)
        }
    }

    fn checkout(&self, key: &PoolKey) -> Option<SendRequest<Full<Bytes>>> {
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let idle = pool.get_mut(key)?;
        while let Some(entry) = idle.pop() {
            if entry.since.elapsed() < IDLE_TIMEOUT && !entry.sender.is_closed() {
                return Some(entry.sender);
            }
        }
        None
    }

    /// Returns a connection whose response has been read completely.
    pub fn checkin(&self, connection: Connection) {
        if connection.sender.is_closed() {
            return;
        }
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let idle = pool.entry(connection.key).or_default();
        idle.retain(|entry| entry.since.elapsed() < IDLE_TIMEOUT && !entry.sender.is_closed());
        if idle.len() < MAX_IDLE_PER_KEY {
            idle.push(Idle {
                sender: connection.sender,
                since: Instant::now(),
            });
        }
    }
}
