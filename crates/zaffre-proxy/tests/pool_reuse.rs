//! Reusing an idle pooled connection for the same scheme, host and port without a new lookup, and why that lets no
//! unchecked address through: the pooled connection goes to the address checked when it was dialled, and any new
//! connection still comes from a fresh lookup whose every answer is classified first. The scripted world rebinds
//! the name to a forbidden address (listening on the same port) after the first lookup.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::json;
use zaffre_proxy::ProxyConfig;

/// A listener on `addr` that only counts the connections it accepts.
async fn counting_listener(addr: SocketAddr) -> Arc<AtomicUsize> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("bind the forbidden address on the upstream's port");
    let accepts = Arc::new(AtomicUsize::new(0));
    let counted = accepts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    accepts
}

#[tokio::test]
async fn an_idle_connection_is_reused_without_a_lookup_and_new_ones_are_still_checked() {
    let allowed = upstream_on("127.0.0.2", Arc::new(|_, _| ok_text("allowed")), None).await;
    let forbidden_addr = SocketAddr::new("127.0.0.3".parse().unwrap(), allowed.port());
    let forbidden_accepts = counting_listener(forbidden_addr).await;
    let r = ScriptedResolver::new();
    // The first lookup answers the allowed address; every later one the forbidden address.
    let allowed_ip: IpAddr = "127.0.0.2".parse().unwrap();
    r.set("rebind.test", &[&[allowed_ip], &[forbidden_addr.ip()]]);
    let config = ProxyConfig {
        allow_ranges: vec!["127.0.0.2/32".parse().unwrap()],
        ..ProxyConfig::default()
    };
    let proxy = proxy(config, r.clone());
    let options = json!({"url": format!("http://rebind.test:{}/", allowed.port())});

    for _ in 0..3 {
        let out = send(&proxy, options.clone()).await;
        assert_eq!(out.result.unwrap().body, "allowed");
        assert_eq!(
            out.audit.remote_addr,
            Some(SocketAddr::new(allowed_ip, allowed.port()))
        );
    }
    assert_eq!(
        r.calls("rebind.test"),
        1,
        "the idle connection needed no lookup"
    );
    assert_eq!(allowed.accepts(), 1);

    // Two calls at once: the first takes the idle connection (to the address checked when it was dialled); the
    // second finds none idle, so it looks the name up, gets the rebound answer, and is refused before connecting.
    let (a, b) = tokio::join!(send(&proxy, options.clone()), send(&proxy, options.clone()));
    assert_eq!(a.result.unwrap().body, "allowed");
    let refusal = b.result.unwrap_err();
    assert_eq!(refusal.status, 403, "{}", refusal.message);
    assert_eq!(r.calls("rebind.test"), 2);
    assert_eq!(forbidden_accepts.load(Ordering::SeqCst), 0);
    assert_eq!(allowed.accepts(), 1);

    // Another port of the same host is another pool key: it is looked up (and refused) too.
    let other_port =
        json!({"url": format!("http://rebind.test:{}/", allowed.port().wrapping_add(1).max(1))});
    assert_eq!(
        send(&proxy, other_port).await.result.unwrap_err().status,
        403
    );
    assert_eq!(r.calls("rebind.test"), 3);
    assert_eq!(forbidden_accepts.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_pooled_connection_serves_only_its_own_scheme_host_and_port() {
    let up = ok_upstream().await;
    let r = ScriptedResolver::new();
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    r.set("good.test", &[&[lo]]);
    r.set("other.test", &[&[lo]]);
    let proxy = proxy(dev_config(), r.clone());
    for host in ["good.test", "good.test", "other.test", "other.test"] {
        let out = send(
            &proxy,
            json!({"url": format!("http://{host}:{}/", up.port())}),
        )
        .await;
        out.result.unwrap();
    }
    assert_eq!(r.calls("good.test"), 1);
    assert_eq!(r.calls("other.test"), 1);
    assert_eq!(
        up.accepts(),
        2,
        "one connection per host name, each reused once"
    );
}
