//! Stage 5, **connect**: our own connector. It dials exactly one of the addresses the resolve stage checked
//! (never a name, so there is no second lookup and no DNS rebinding), speaks TLS with rustls (webpki roots plus
//! the operator's extra roots; the server name is the checked host), and hands hyper an HTTP/1.1 connection.
//!
//! Connections are kept alive in a pool keyed by (scheme, host, port), each idle connection remembering the checked
//! address it was dialled to. A pooled connection is only ever reused for the same scheme, host and port, so reuse
//! cannot send one host's request down another host's TLS session, and it is connected to an address that passed
//! the classification when it was dialled (see [`Connector::checkout_for_name`] for why that stays sound without a
//! new lookup).

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
/// How long after a lookup last returned its address a pooled connection may be reused for a host name without
/// asking the resolver again: a name that moved elsewhere is followed within this time, as with a DNS cache.
pub const REUSE_WITHOUT_LOOKUP: Duration = Duration::from_secs(30);

/// What a connection is for: the checked address it was dialled to, and the host it speaks to there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolKey {
    pub https: bool,
    /// The checked host name (or IP text), also the TLS server name.
    pub host: String,
    /// The checked address, port included.
    pub addr: SocketAddr,
}

/// Which idle connections a request may take: same scheme, host and port (the address may be any checked one).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct HostKey {
    https: bool,
    host: String,
    port: u16,
}

impl PoolKey {
    fn host_key(&self) -> HostKey {
        HostKey {
            https: self.https,
            host: self.host.clone(),
            port: self.addr.port(),
        }
    }
}

/// A connection ready to send one request.
pub struct Connection {
    pub key: PoolKey,
    pub sender: SendRequest<Full<Bytes>>,
    /// Whether it came from the pool (then a failure before any response may be a stale connection).
    pub reused: bool,
    /// When a lookup of the host last answered with this connection's address (or it was dialled to a literal).
    confirmed: Instant,
}

struct Idle {
    sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    since: Instant,
    confirmed: Instant,
}

impl Idle {
    fn usable(&self) -> bool {
        self.since.elapsed() < IDLE_TIMEOUT && !self.sender.is_closed()
    }
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
    pool: Mutex<HashMap<HostKey, Vec<Idle>>>,
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

    /// A connection to one of `addrs` (all checked, with the same port), from the pool if one to any of them is
    /// idle, else newly dialled in order.
    pub async fn connect(
        &self,
        https: bool,
        host: &str,
        addrs: &[SocketAddr],
    ) -> Result<Connection, ConnectError> {
        if let Some(port) = addrs.first().map(SocketAddr::port) {
            let key = HostKey {
                https,
                host: host.to_string(),
                port,
            };
            if let Some(mut connection) = self.checkout(&key, |idle| addrs.contains(&idle.addr)) {
                // The answer just checked holds this address again.
                connection.confirmed = Instant::now();
                return Ok(connection);
            }
        }
        self.dial_any(https, host, addrs).await
    }

    /// An idle connection for host name `host` at `port`, before (and instead of) resolving it, if one was
    /// confirmed by a lookup less than [`REUSE_WITHOUT_LOOKUP`] ago.
    ///
    /// Why this keeps the guarantee that we only ever talk to checked addresses: connections enter the pool only
    /// from [`Connector::dial_any`], which dials addresses the caller resolved and classified (every answer of
    /// that lookup, refusing the call if any was forbidden); the pool is keyed by scheme, host and port, so the
    /// connection is to an address that was checked *for this very host and port*; and the policy it was checked
    /// against (the proxy's configuration) never changes for the life of the [`Connector`]. Skipping the lookup
    /// therefore cannot let an unchecked address through. DNS rebinding gains nothing either: a rebound answer is
    /// only ever seen by a new lookup, whose addresses are classified before any of them is dialled. What reuse
    /// defers is only *following* a name that moved to another (permitted) address, by at most
    /// [`REUSE_WITHOUT_LOOKUP`]. The caller still classifies the address again, which costs nothing.
    pub fn checkout_for_name(&self, https: bool, host: &str, port: u16) -> Option<Connection> {
        let key = HostKey {
            https,
            host: host.to_string(),
            port,
        };
        self.checkout(&key, |idle| idle.confirmed.elapsed() < REUSE_WITHOUT_LOOKUP)
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
                        confirmed: Instant::now(),
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

    /// The most recently used idle connection under `key` that `wanted` accepts; expired or closed ones met on
    /// the way are dropped.
    fn checkout(&self, key: &HostKey, wanted: impl Fn(&Idle) -> bool) -> Option<Connection> {
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let idle = pool.get_mut(key)?;
        idle.retain(Idle::usable);
        let index = idle.iter().rposition(wanted)?;
        let entry = idle.remove(index);
        Some(Connection {
            key: PoolKey {
                https: key.https,
                host: key.host.clone(),
                addr: entry.addr,
            },
            sender: entry.sender,
            reused: true,
            confirmed: entry.confirmed,
        })
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
        let idle = pool.entry(connection.key.host_key()).or_default();
        idle.retain(Idle::usable);
        if idle.len() < MAX_IDLE_PER_KEY {
            idle.push(Idle {
                sender: connection.sender,
                addr: connection.key.addr,
                since: Instant::now(),
                confirmed: connection.confirmed,
            });
        }
    }
}
