//! Operator configuration of the proxy ([`ProxyConfig`]) and the CIDR ranges ([`IpRange`]) an operator may allow.
//!
//! Everything here is chosen by the server (config file, `zaffre dev`), never by an app.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// Limits and policy of the proxy. `Default` gives the production values documented on each field.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Timeout when the app gives none (30 s). Bounds the whole call, 429 waits included.
    pub default_timeout: Duration,
    /// Cap on the app's `timeout` option (60 s).
    pub max_timeout: Duration,
    /// TCP connect plus TLS handshake (10 s).
    pub connect_timeout: Duration,
    /// Largest request body sent upstream (1 MiB); larger → 413.
    pub max_request_body_bytes: usize,
    /// Largest response body read (5 MiB); larger → 502 "response too large" (reading stops at the cap).
    pub max_response_bytes: usize,
    /// The fixed `User-Agent` sent upstream.
    pub user_agent: String,
    /// Operator-allowed ranges (e.g. `10.20.0.0/16` for an on-premises service); empty by default.
    pub allow_ranges: Vec<IpRange>,
    /// Development only (`zaffre dev`): loopback targets are allowed, and secure requests may use plain http to
    /// loopback.
    pub allow_loopback: bool,
    /// zaffre's own listen addresses: always refused (an unspecified address means every loopback address on
    /// that port).
    pub own_addrs: Vec<SocketAddr>,
    /// zaffre's own host names (public URL host, apps domain): refused, subdomains included.
    pub own_hosts: Vec<String>,
    /// How many times an upstream 429 is retried automatically (2).
    pub max_retries: u32,
    /// Longest `Retry-After` honoured (10 s); a longer one returns the 429 to the app.
    pub max_retry_after: Duration,
    /// JWT lifetime when the app's `jwt.expiry` is absent (300 s).
    pub jwt_default_expiry: Duration,
    /// Cap on the app's `jwt.expiry` (3600 s).
    pub jwt_max_expiry: Duration,
    /// DER or PEM certificates trusted besides the webpki roots (tests, on-premises CAs).
    pub extra_root_certs: Vec<Vec<u8>>,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            default_timeout: Duration::from_secs(30),
            max_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_request_body_bytes: 1024 * 1024,
            max_response_bytes: 5 * 1024 * 1024,
            user_agent: concat!("zaffre-proxy/", env!("CARGO_PKG_VERSION")).to_string(),
            allow_ranges: Vec::new(),
            allow_loopback: false,
            own_addrs: Vec::new(),
            own_hosts: Vec::new(),
            max_retries: 2,
            max_retry_after: Duration::from_secs(10),
            jwt_default_expiry: Duration::from_secs(300),
            jwt_max_expiry: Duration::from_secs(3600),
            extra_root_certs: Vec::new(),
        }
    }
}

/// A CIDR range such as `10.0.0.0/8` or `fd00::/8` (a bare address means a single host).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// The range `network/prefix`; host bits of `network` are cleared. `None` when the prefix is too long.
    pub fn new(network: IpAddr, prefix: u8) -> Option<IpRange> {
        let max = if network.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return None;
        }
        let network = match network {
            IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & mask32(prefix)).into()),
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & mask128(prefix)).into()),
        };
        Some(IpRange { network, prefix })
    }

    /// Whether `addr` (compared as is: callers canonicalise first) lies in the range.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                u32::from(a) & mask32(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                u128::from(a) & mask128(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

fn mask32(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn mask128(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

/// Why a CIDR string was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a CIDR range such as 10.0.0.0/8 or fd00::/8")]
pub struct IpRangeParseError(pub String);

impl FromStr for IpRange {
    type Err = IpRangeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || IpRangeParseError(s.to_string());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| err())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| err())?
            }
            Some(_) => return Err(err()),
            None => max,
        };
        IpRange::new(addr, prefix).ok_or_else(err)
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl fmt::Debug for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IpRange({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let r: IpRange = "10.20.0.0/16".parse().unwrap();
        assert!(r.contains("10.20.3.4".parse().unwrap()));
        assert!(!r.contains("10.21.0.1".parse().unwrap()));
        let one: IpRange = "127.0.0.2".parse().unwrap();
        assert!(one.contains("127.0.0.2".parse().unwrap()));
        assert!(!one.contains("127.0.0.3".parse().unwrap()));
        let v6: IpRange = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert_eq!(
            "10.1.2.3/8".parse::<IpRange>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/-1",
            "::/129",
        ] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad}");
        }
    }
}
