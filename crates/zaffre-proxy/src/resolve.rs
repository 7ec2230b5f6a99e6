//! Stage 4, **resolve**: host names to addresses through an injectable [`Resolver`], so tests can simulate names
//! that resolve to private addresses, mixed answers and rebinding. The proxy asks at most once per call and dials
//! only addresses from that one answer (after every one of them has been classified), so a second, different
//! answer can never be used. It does not ask at all when an idle pooled connection to the same scheme, host and
//! port exists: that connection's address was classified when it was dialled (see
//! `connect::Connector::checkout_for_name`), and a lookup is made again at least every
//! `connect::REUSE_WITHOUT_LOOKUP` per connection.

use std::io;
use std::net::IpAddr;

use async_trait::async_trait;

/// Name resolution.
#[async_trait]
pub trait Resolver: Send + Sync {
    /// Every address `host` (an ASCII name, never an IP literal) resolves to.
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver (`getaddrinfo` through tokio).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        // The port is irrelevant: only the addresses are used.
        let addrs = tokio::net::lookup_host((host, 0)).await?;
        let mut out: Vec<IpAddr> = Vec::new();
        for addr in addrs {
            if !out.contains(&addr.ip()) {
                out.push(addr.ip());
            }
        }
        Ok(out)
    }
}
