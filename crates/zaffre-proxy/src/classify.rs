//! Address classification: is an IP address one the proxy may connect to?
//!
//! Every address is canonicalised first (`::ffff:a.b.c.d` becomes `a.b.c.d`, so `Ipv6Addr::is_loopback` pitfalls
//! don't apply), then classified against the IANA special-purpose registries plus the forms that embed an IPv4
//! address (IPv4-compatible, NAT64, 6to4, Teredo). Only [`AddrClass::Public`] is allowed by default; IPv6 must
//! also be in the global unicast block 2000::/3. Operators may allow named ranges (`allow_ranges`) and, in
//! development, loopback (`allow_loopback`); zaffre's own listen addresses are refused whatever the settings.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::config::ProxyConfig;

/// What kind of address an IP is, for the proxy's purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrClass {
    Public,
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, fc00::/7.
    Private,
    /// 169.254/16 (cloud metadata lives here) and fe80::/10.
    LinkLocal,
    /// 100.64/10 carrier-grade NAT.
    SharedCgnat,
    /// 0.0.0.0/8 ("this network").
    ThisNetwork,
    Unspecified,
    Multicast,
    Broadcast,
    /// 198.18/15, 2001:2::/48.
    Benchmarking,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 192.0.0.0/24 and 2001::/23 other than Teredo.
    ProtocolAssignment,
    /// 240/4, 192.88.99/24, and IPv6 outside 2000::/3 not named otherwise.
    Reserved,
    /// ::/96 (IPv4-compatible).
    Ipv4Compatible,
    /// 64:ff9b::/96, 64:ff9b:1::/48.
    Nat64,
    /// 2002::/16.
    SixToFour,
    /// 2001::/32.
    Teredo,
    /// fec0::/10.
    SiteLocal,
}

impl AddrClass {
    pub fn describe(self) -> &'static str {
        match self {
            AddrClass::Public => "a public address",
            AddrClass::Loopback => "a loopback address",
            AddrClass::Private => "a private address",
            AddrClass::LinkLocal => "a link-local address (cloud metadata)",
            AddrClass::SharedCgnat => "a carrier-grade NAT address",
            AddrClass::ThisNetwork => "a 0.0.0.0/8 address",
            AddrClass::Unspecified => "the unspecified address",
            AddrClass::Multicast => "a multicast address",
            AddrClass::Broadcast => "the broadcast address",
            AddrClass::Benchmarking => "a benchmarking address",
            AddrClass::Documentation => "a documentation address",
            AddrClass::ProtocolAssignment => "an IETF protocol assignment address",
            AddrClass::Reserved => "a reserved address",
            AddrClass::Ipv4Compatible => "an IPv4-compatible IPv6 address",
            AddrClass::Nat64 => "a NAT64 address",
            AddrClass::SixToFour => "a 6to4 address",
            AddrClass::Teredo => "a Teredo address",
            AddrClass::SiteLocal => "a site-local address",
        }
    }
}

impl fmt::Display for AddrClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Classifies `ip` after canonicalisation.
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip.to_canonical() {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    let [a, b, c, d, e, f, g, h] = net;
    u128::from(ip) & mask == u128::from(Ipv6Addr::new(a, b, c, d, e, f, g, h)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    use AddrClass::*;
    if ip.is_unspecified() {
        Unspecified
    } else if in4(ip, [0, 0, 0, 0], 8) {
        ThisNetwork
    } else if in4(ip, [127, 0, 0, 0], 8) {
        Loopback
    } else if in4(ip, [10, 0, 0, 0], 8)
        || in4(ip, [172, 16, 0, 0], 12)
        || in4(ip, [192, 168, 0, 0], 16)
    {
        Private
    } else if in4(ip, [169, 254, 0, 0], 16) {
        LinkLocal
    } else if in4(ip, [100, 64, 0, 0], 10) {
        SharedCgnat
    } else if in4(ip, [192, 0, 2, 0], 24)
        || in4(ip, [198, 51, 100, 0], 24)
        || in4(ip, [203, 0, 113, 0], 24)
    {
        Documentation
    } else if in4(ip, [192, 0, 0, 0], 24) {
        ProtocolAssignment
    } else if in4(ip, [198, 18, 0, 0], 15) {
        Benchmarking
    } else if in4(ip, [224, 0, 0, 0], 4) {
        Multicast
    } else if ip == Ipv4Addr::BROADCAST {
        Broadcast
    } else if in4(ip, [240, 0, 0, 0], 4) || in4(ip, [192, 88, 99, 0], 24) {
        Reserved
    } else {
        Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    use AddrClass::*;
    if ip.is_unspecified() {
        Unspecified
    } else if ip.is_loopback() {
        Loopback
    } else if in6(ip, [0; 8], 96) {
        Ipv4Compatible
    } else if in6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)
        || in6(ip, [0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48)
    {
        Nat64
    } else if in6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        SixToFour
    } else if in6(ip, [0x2001, 0, 0, 0, 0, 0, 0, 0], 32) {
        Teredo
    } else if in6(ip, [0x2001, 0x2, 0, 0, 0, 0, 0, 0], 48) {
        Benchmarking
    } else if in6(ip, [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32)
        || in6(ip, [0x3fff, 0, 0, 0, 0, 0, 0, 0], 20)
    {
        Documentation
    } else if in6(ip, [0x2001, 0, 0, 0, 0, 0, 0, 0], 23) {
        ProtocolAssignment
    } else if in6(ip, [0xfc00, 0, 0, 0, 0, 0, 0, 0], 7) {
        Private
    } else if in6(ip, [0xfe80, 0, 0, 0, 0, 0, 0, 0], 10) {
        LinkLocal
    } else if in6(ip, [0xfec0, 0, 0, 0, 0, 0, 0, 0], 10) {
        SiteLocal
    } else if in6(ip, [0xff00, 0, 0, 0, 0, 0, 0, 0], 8) {
        Multicast
    } else if !in6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3)
        || in6(ip, [0x5f00, 0, 0, 0, 0, 0, 0, 0], 16)
    {
        Reserved
    } else {
        Public
    }
}

/// Why an address may not be connected to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrRefusal {
    /// zaffre's own listen address.
    Own,
    Class(AddrClass),
}

impl fmt::Display for AddrRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrRefusal::Own => f.write_str("zaffre's own address"),
            AddrRefusal::Class(class) => f.write_str(class.describe()),
        }
    }
}

/// Decides whether the proxy may connect to `addr` under `config`: zaffre's own listen addresses never; then the
/// operator's `allow_ranges` (never for unspecified, multicast or broadcast); then loopback when `allow_loopback`;
/// otherwise only public addresses.
pub fn check_addr(addr: SocketAddr, config: &ProxyConfig) -> Result<(), AddrRefusal> {
    let ip = addr.ip().to_canonical();
    let class = classify(ip);
    for own in &config.own_addrs {
        if own.port() != addr.port() {
            continue;
        }
        let own_ip = own.ip().to_canonical();
        // A wildcard listener answers on every local address; the ones we can name are loopback and unspecified.
        let wildcard_hit = own_ip.is_unspecified()
            && matches!(
                class,
                AddrClass::Loopback | AddrClass::Unspecified | AddrClass::ThisNetwork
            );
        if own_ip == ip || wildcard_hit {
            return Err(AddrRefusal::Own);
        }
    }
    if matches!(
        class,
        AddrClass::Unspecified | AddrClass::Multicast | AddrClass::Broadcast
    ) {
        return Err(AddrRefusal::Class(class));
    }
    if config.allow_ranges.iter().any(|range| range.contains(ip)) {
        return Ok(());
    }
    match class {
        AddrClass::Public => Ok(()),
        AddrClass::Loopback if config.allow_loopback => Ok(()),
        other => Err(AddrRefusal::Class(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> AddrClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn table() {
        use AddrClass::*;
        for (addr, class) in [
            ("8.8.8.8", Public),
            ("1.1.1.1", Public),
            ("100.63.255.254", Public),
            ("100.128.0.1", Public),
            ("2001:4860:4860::8888", Public),
            ("2606:4700::1111", Public),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.32.0.1", Public),
            ("192.168.1.1", Private),
            ("100.64.0.1", SharedCgnat),
            ("127.0.0.1", Loopback),
            ("127.255.255.255", Loopback),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::127.0.0.1", Ipv4Compatible),
            ("::8.8.8.8", Ipv4Compatible),
            ("169.254.169.254", LinkLocal),
            ("fe80::1", LinkLocal),
            ("fec0::1", SiteLocal),
            ("fd00::1", Private),
            ("fc00::1", Private),
            ("255.255.255.255", Broadcast),
            ("224.0.0.1", Multicast),
            ("ff02::2", Multicast),
            ("0.0.0.0", Unspecified),
            ("::", Unspecified),
            ("0.1.2.3", ThisNetwork),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("240.0.0.1", Reserved),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("2001:db8::1", Documentation),
            ("192.0.0.8", ProtocolAssignment),
            ("64:ff9b::a9fe:a9fe", Nat64),
            ("64:ff9b::808:808", Nat64),
            ("64:ff9b:1::1", Nat64),
            ("2002:a9fe:a9fe::1", SixToFour),
            ("2002:808:808::1", SixToFour),
            ("2001::1", Teredo),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Teredo),
            ("2001:2::1", Benchmarking),
            ("100::1", Reserved),
            ("4000::1", Reserved),
        ] {
            assert_eq!(c(addr), class, "{addr}");
        }
    }

    #[test]
    fn policy() {
        let mut config = ProxyConfig::default();
        let sa = |s: &str| -> SocketAddr { s.parse().unwrap() };
        assert!(check_addr(sa("8.8.8.8:443"), &config).is_ok());
        assert!(check_addr(sa("127.0.0.1:80"), &config).is_err());
        config.allow_loopback = true;
        assert!(check_addr(sa("127.0.0.1:80"), &config).is_ok());
        assert!(check_addr(sa("[::ffff:127.0.0.1]:80"), &config).is_ok());
        assert!(check_addr(sa("10.20.1.1:80"), &config).is_err());
        config.allow_ranges.push("10.20.0.0/16".parse().unwrap());
        assert!(check_addr(sa("10.20.1.1:80"), &config).is_ok());
        assert!(check_addr(sa("10.21.1.1:80"), &config).is_err());
        config.own_addrs.push(sa("0.0.0.0:8080"));
        assert_eq!(
            check_addr(sa("127.0.0.1:8080"), &config),
            Err(AddrRefusal::Own)
        );
        assert!(check_addr(sa("127.0.0.1:8081"), &config).is_ok());
        config.own_addrs.push(sa("8.8.4.4:443"));
        assert_eq!(
            check_addr(sa("8.8.4.4:443"), &config),
            Err(AddrRefusal::Own)
        );
        config.allow_ranges.push("0.0.0.0/0".parse().unwrap());
        assert!(check_addr(sa("255.255.255.255:80"), &config).is_err());
        assert!(check_addr(sa("224.0.0.1:80"), &config).is_err());
    }
}
