//! Property: whatever spelling the URL uses (dotted, integer, hex, IPv4-mapped IPv6, or a name), the address the
//! connector dials is exactly the address the check saw. Each case listens on a random 127/8 address and compares
//! the accepted connection's local address with the checked one.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use common::*;
use proptest::prelude::*;
use serde_json::json;

fn spelled(ip: Ipv4Addr, form: u8) -> String {
    let n = u32::from(ip);
    match form {
        0 => ip.to_string(),
        1 => n.to_string(),
        2 => format!("0x{n:x}"),
        3 => format!("[::ffff:{ip}]"),
        _ => "target.test".to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn the_connector_dials_exactly_the_checked_address(b in 0u8..=255, c in 0u8..=255, d in 1u8..=254, form in 0u8..5, mapped_answer in any::<bool>()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let ip = Ipv4Addr::new(127, b, c, d);
            let up = upstream_on(&ip.to_string(), Arc::new(|_, _| ok_text("hit")), None).await;
            // A decoy on the neighbouring address, same scripted world: it must never be dialled.
            let decoy_ip = Ipv4Addr::new(127, b, c, if d == 254 { 1 } else { d + 1 });
            let decoy = upstream_on(&decoy_ip.to_string(), Arc::new(|_, _| ok_text("decoy")), None).await;
            let resolver = ScriptedResolver::new();
            let answer: IpAddr = if mapped_answer { IpAddr::V6(ip.to_ipv6_mapped()) } else { IpAddr::V4(ip) };
            resolver.set("target.test", &[&[answer], &[IpAddr::V4(decoy_ip)]]);
            let proxy = proxy(dev_config(), resolver);
            let url = format!("http://{}:{}/", spelled(ip, form), up.port());
            let out = send(&proxy, json!({ "url": url })).await;
            let expected = SocketAddr::new(IpAddr::V4(ip), up.port());
            prop_assert_eq!(out.result.map(|r| r.body).ok(), Some("hit".to_string()));
            prop_assert_eq!(out.audit.remote_addr, Some(expected));
            let seen = up.seen();
            prop_assert_eq!(seen.len(), 1);
            prop_assert_eq!(seen[0].local, expected);
            prop_assert_eq!(decoy.accepts(), 0);
            Ok(())
        })?;
    }
}
