//! Stage 3, **check**: the interpolated URL parsed with WHATWG rules (the `url` crate, as browsers parse), then
//! the target checked before anything touches the network.
//!
//! - Only `http` and `https`; no userinfo (`user@host` confuses parsers and sends credentials nobody reviewed).
//! - IP literals in any spelling (`127.1`, `0x7f.0.0.1`, `2130706433`, `0`, `[::ffff:7f00:1]`, …) are normalised
//!   by the parser and classified here ([`crate::classify`]); names are limited to `[a-z0-9._-]` after IDNA
//!   mapping, with one trailing dot removed.
//! - `localhost` and `*.localhost` are loopback (refused unless `allow_loopback`); cloud metadata names and
//!   zaffre's own host names are refused by name.
//! - Secure requests: https only (plain http only to loopback in development), and the host must match the
//!   resolved `domainWhitelist` ([`crate::whitelist`]). An IP literal never matches a whitelist.
//!
//! Addresses that names resolve to are classified in the resolve stage ([`crate::Proxy`]), with the same rules.

use std::net::{IpAddr, SocketAddr};

use url::{Host, Url};

use crate::build::Outgoing;
use crate::classify::check_addr;
use crate::config::ProxyConfig;
use crate::context::InstallationContext;
use crate::interpolate::not_proxyable;
use crate::outcome::{Refusal, RefusalCode};
use crate::whitelist::{bare_host, host_allowed, resolve_whitelist};

/// Metadata services reachable by name in clouds; refused whatever they resolve to.
const METADATA_HOSTS: [&str; 8] = [
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "metadata.amazonaws.com",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.com",
    "metadata.packet.net",
];

/// The checked target.
#[derive(Clone, Debug)]
pub struct Target {
    /// The final URL: extra query appended, fragment removed.
    pub url: Url,
    pub https: bool,
    pub host: TargetHost,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetHost {
    /// Lower-case ASCII, no trailing dot.
    Name(String),
    /// Canonical (IPv4-mapped IPv6 is IPv4).
    Ip(IpAddr),
}

impl Target {
    /// The `Host` header value.
    pub fn authority(&self) -> String {
        let host = match &self.host {
            TargetHost::Name(name) => name.clone(),
            TargetHost::Ip(IpAddr::V6(v6)) => format!("[{v6}]"),
            TargetHost::Ip(IpAddr::V4(v4)) => v4.to_string(),
        };
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The host as text (for audit records and TLS server names).
    pub fn host_str(&self) -> String {
        match &self.host {
            TargetHost::Name(name) => name.clone(),
            TargetHost::Ip(ip) => ip.to_string(),
        }
    }
}

fn forbidden(display: &str, reason: &str) -> Refusal {
    let mut refusal = not_proxyable(display);
    refusal.message.push_str(&format!(" ({reason})"));
    refusal
}

/// Parses and checks the interpolated URL.
pub fn check_target(
    out: &Outgoing,
    secure: bool,
    installation: &InstallationContext,
    config: &ProxyConfig,
) -> Result<Target, Refusal> {
    let display = &out.display_url;
    let mut url = Url::parse(&out.url).map_err(|e| {
        Refusal::new(
            RefusalCode::InvalidUrl,
            format!("{display}: not a valid URL ({e})"),
        )
    })?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(not_proxyable(display)),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::new(
            RefusalCode::InvalidUrl,
            format!("{display}: URLs with credentials (user@host) are not accepted; use username/password or headers"),
        ));
    }
    if let Some(extra) = &out.extra_query {
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&{extra}"),
            _ => extra.clone(),
        };
        url.set_query(Some(&query));
    }
    url.set_fragment(None);
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Refusal::new(RefusalCode::InvalidUrl, format!("{display}: no port")))?;
    if port == 0 {
        return Err(forbidden(display, "port 0"));
    }

    let host = match url.host() {
        Some(Host::Domain(domain)) => {
            let name = domain.strip_suffix('.').unwrap_or(domain).to_string();
            if name.is_empty()
                || name.split('.').any(str::is_empty)
                || !name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
                })
            {
                return Err(Refusal::new(
                    RefusalCode::InvalidUrl,
                    format!("{display}: the host is not a valid host name"),
                ));
            }
            if (name == "localhost" || name.ends_with(".localhost")) && !config.allow_loopback {
                return Err(forbidden(display, "localhost"));
            }
            if METADATA_HOSTS.contains(&name.as_str()) {
                return Err(forbidden(display, "cloud metadata service"));
            }
            let own = config.own_hosts.iter().filter_map(|h| {
                let h = h
                    .rsplit_once(':')
                    .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(h.as_str(), |(h, _)| h);
                bare_host(h)
            });
            for own in own {
                if name == own || name.ends_with(&format!(".{own}")) {
                    return Err(forbidden(display, "zaffre itself"));
                }
            }
            TargetHost::Name(name)
        }
        Some(Host::Ipv4(v4)) => TargetHost::Ip(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => TargetHost::Ip(IpAddr::V6(v6).to_canonical()),
        None => {
            return Err(Refusal::new(
                RefusalCode::InvalidUrl,
                format!("{display}: the URL has no host"),
            ))
        }
    };
    if let TargetHost::Ip(ip) = host {
        if let Err(why) = check_addr(SocketAddr::new(ip, port), config) {
            return Err(forbidden(display, &why.to_string()));
        }
    }

    if secure {
        if !https && !config.allow_loopback {
            return Err(forbidden(display, "secure requests must use https"));
        }
        let allowed = match &host {
            TargetHost::Name(name) => host_allowed(name, &resolve_whitelist(installation)),
            TargetHost::Ip(_) => false,
        };
        if !allowed {
            return Err(forbidden(
                display,
                "the host is not in the app's domainWhitelist",
            ));
        }
    }
    Ok(Target {
        url,
        https,
        host,
        port,
    })
}
