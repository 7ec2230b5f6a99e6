//! The proxy's configuration, derived from the server's [`Config`]: the
//! operator's `proxy_*` keys, plus zaffre's own addresses and host names,
//! which the proxy must always refuse so that an app cannot reach zaffre
//! itself (or another account of it) with the agent's position in the
//! network.
//!
//! Own host names are the public URL's host and the apps domain; the proxy
//! refuses their subdomains too, which covers every account
//! (`<subdomain>.<public host>`) and every app origin. With no public URL
//! (localhost use), the listen address covers zaffre: names are resolved and
//! the addresses compared.

use std::sync::Arc;
use std::time::Duration;

use zaffre_proxy::{IpRange, Proxy, ProxyConfig, Resolver, SystemResolver};

use crate::config::Config;

/// What tests (and embedders) may inject: the resolver, and root certificates
/// trusted besides the public ones and `proxy_ca_file`.
#[derive(Clone)]
pub struct ProxySetup {
    pub resolver: Arc<dyn Resolver>,
    pub extra_root_certs: Vec<Vec<u8>>,
}

impl Default for ProxySetup {
    /// The operating system's resolver and no extra certificates.
    fn default() -> Self {
        ProxySetup {
            resolver: Arc::new(SystemResolver),
            extra_root_certs: Vec::new(),
        }
    }
}

/// The proxy's configuration for `config` (already validated), without the
/// `proxy_ca_file` certificates (see [`build_proxy`]).
pub fn proxy_config(config: &Config) -> ProxyConfig {
    let defaults = ProxyConfig::default();
    let max_timeout = Duration::from_secs(config.proxy_timeout_secs);
    let mut own_hosts = Vec::new();
    if let Some(host) = url::Url::parse(&config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    {
        own_hosts.push(host);
    }
    if !config.apps_domain.is_empty() {
        own_hosts.push(config.apps_domain.to_ascii_lowercase());
    }
    ProxyConfig {
        default_timeout: defaults.default_timeout.min(max_timeout),
        max_timeout,
        max_response_bytes: config.proxy_max_response_bytes,
        // Validated by `Config::validate`; an entry that does not parse is dropped rather than widening anything.
        allow_ranges: config
            .proxy_allow_ranges
            .iter()
            .filter_map(|r| r.parse::<IpRange>().ok())
            .collect(),
        allow_loopback: config.proxy_allow_loopback,
        own_addrs: vec![config.listen],
        own_hosts,
        ..defaults
    }
}

/// Builds the proxy: [`proxy_config`], the `proxy_ca_file` certificates and
/// `setup`'s. Fails with a message naming the key when the CA file cannot be
/// read or holds no usable certificate.
pub fn build_proxy(config: &Config, setup: ProxySetup) -> Result<Proxy, String> {
    let mut proxy_config = proxy_config(config);
    if !config.proxy_ca_file.as_os_str().is_empty() {
        let pem = std::fs::read(&config.proxy_ca_file).map_err(|e| {
            format!(
                "proxy_ca_file: could not read {}: {e}",
                config.proxy_ca_file.display()
            )
        })?;
        proxy_config.extra_root_certs.push(pem);
    }
    proxy_config.extra_root_certs.extend(setup.extra_root_certs);
    Proxy::new(proxy_config, setup.resolver).map_err(|e| {
        if config.proxy_ca_file.as_os_str().is_empty() {
            format!("the app proxy could not be set up: {e}")
        } else {
            format!("proxy_ca_file: {e}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_hosts_and_addresses_come_from_the_config() {
        let config = Config {
            public_url: "https://Help.Example.com:8443/".into(),
            apps_domain: "zaffre-apps.example.net".into(),
            listen: "0.0.0.0:4567".parse().unwrap(),
            ..Config::default()
        };
        let p = proxy_config(&config);
        assert_eq!(
            p.own_hosts,
            vec!["help.example.com", "zaffre-apps.example.net"]
        );
        assert_eq!(p.own_addrs, vec![config.listen]);
        assert!(!p.allow_loopback);
        assert!(p.allow_ranges.is_empty());
    }

    #[test]
    fn operator_keys_reach_the_proxy() {
        let config = Config {
            proxy_allow_ranges: vec!["10.20.0.0/16".into()],
            proxy_allow_loopback: true,
            proxy_timeout_secs: 12,
            proxy_max_response_bytes: 4096,
            ..Config::default()
        };
        let p = proxy_config(&config);
        assert_eq!(p.allow_ranges, vec!["10.20.0.0/16".parse().unwrap()]);
        assert!(p.allow_loopback);
        assert_eq!(p.max_timeout, Duration::from_secs(12));
        assert_eq!(p.default_timeout, Duration::from_secs(12));
        assert_eq!(p.max_response_bytes, 4096);
        assert!(
            p.own_hosts.is_empty(),
            "no public URL: the listen address covers zaffre"
        );
    }

    #[test]
    fn an_unreadable_ca_file_is_a_clear_error() {
        let config = Config {
            proxy_ca_file: "/nonexistent/zaffre-ca.pem".into(),
            ..Config::default()
        };
        let e = build_proxy(&config, ProxySetup::default()).unwrap_err();
        assert!(e.starts_with("proxy_ca_file: could not read"), "{e}");
    }
}
