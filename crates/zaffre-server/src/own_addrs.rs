//! The addresses at which this server can be reached, for the app proxy's
//! "never zaffre itself" rule ([`zaffre_proxy::ProxyConfig::own_addrs`]).
//!
//! A server listening on one address is reached there only. A server
//! listening on the unspecified address (`0.0.0.0` or `[::]`) answers on
//! every address of every local interface, so the listen address alone would
//! let `http://<the machine's LAN or public IP>:<port>/` through the proxy
//! to zaffre itself. The proxy already treats an unspecified own address as
//! covering loopback; this module adds each interface address, at the listen
//! port.

use std::net::{IpAddr, SocketAddr};

/// `listen` itself and, when it is an unspecified address, every local
/// interface address at its port: IPv4 ones for `0.0.0.0`, both families for
/// `[::]` (Linux's dual-stack default; refusing one address too many is the
/// safe side). Interfaces that cannot be listed are logged and left out:
/// the listen address still covers loopback.
pub fn own_addrs(listen: SocketAddr) -> Vec<SocketAddr> {
    if !listen.ip().is_unspecified() {
        return vec![listen];
    }
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => expand(listen, interfaces.iter().map(if_addrs::Interface::ip)),
        Err(e) => {
            tracing::warn!(
                error = %e,
                "could not list the network interfaces; the app proxy knows zaffre only by its listen address"
            );
            vec![listen]
        }
    }
}

/// `listen` followed by each of `interfaces` (of the families `listen`
/// answers on) at its port, without repeats.
fn expand(listen: SocketAddr, interfaces: impl IntoIterator<Item = IpAddr>) -> Vec<SocketAddr> {
    let mut addrs = vec![listen];
    for ip in interfaces {
        if listen.is_ipv4() && !ip.is_ipv4() {
            continue;
        }
        let addr = SocketAddr::new(ip, listen.port());
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    addrs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_specific_listen_address_is_the_only_one() {
        assert_eq!(own_addrs(sa("127.0.0.1:4567")), vec![sa("127.0.0.1:4567")]);
        assert_eq!(own_addrs(sa("[::1]:4567")), vec![sa("[::1]:4567")]);
    }

    #[test]
    fn an_ipv4_wildcard_covers_the_ipv4_interfaces_at_its_port() {
        let interfaces = [
            ip("127.0.0.1"),
            ip("192.168.1.20"),
            ip("fe80::1"),
            ip("203.0.113.7"),
            ip("192.168.1.20"),
        ];
        assert_eq!(
            expand(sa("0.0.0.0:8080"), interfaces),
            vec![
                sa("0.0.0.0:8080"),
                sa("127.0.0.1:8080"),
                sa("192.168.1.20:8080"),
                sa("203.0.113.7:8080")
            ]
        );
    }

    #[test]
    fn an_ipv6_wildcard_covers_both_families() {
        let interfaces = [ip("192.168.1.20"), ip("2001:db8::5")];
        assert_eq!(
            expand(sa("[::]:8080"), interfaces),
            vec![
                sa("[::]:8080"),
                sa("192.168.1.20:8080"),
                sa("[2001:db8::5]:8080")
            ]
        );
    }

    #[test]
    fn the_wildcard_takes_this_machines_real_interface_addresses() {
        let listen = sa("0.0.0.0:4567");
        let addrs = own_addrs(listen);
        assert_eq!(addrs[0], listen);
        let v4: Vec<IpAddr> = if_addrs::get_if_addrs()
            .expect("interfaces")
            .iter()
            .map(if_addrs::Interface::ip)
            .filter(IpAddr::is_ipv4)
            .collect();
        assert!(!v4.is_empty(), "a Linux machine has at least 127.0.0.1");
        for ip in v4 {
            assert!(
                addrs.contains(&SocketAddr::new(ip, 4567)),
                "{ip} missing from {addrs:?}"
            );
        }
    }
}
