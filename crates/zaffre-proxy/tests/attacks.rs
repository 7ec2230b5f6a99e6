//! The attack checklist (reference §3.5): every case must be refused AND make no connection. A counting upstream
//! listens on 127.0.0.1; the scripted resolver points test names at it (or at other private/mixed answers), so a
//! case that slipped through would be counted as an accept.

mod common;

use std::net::IpAddr;
use std::sync::Arc;

use common::*;
use serde_json::json;
use zaffre_proxy::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

struct Case {
    name: &'static str,
    options: serde_json::Value,
    status: u16,
}

fn case(name: &'static str, options: serde_json::Value, status: u16) -> Case {
    Case {
        name,
        options,
        status,
    }
}

async fn run_cases(proxy: &Proxy, listener: &Upstream, cases: Vec<Case>) -> usize {
    let n = cases.len();
    for c in cases {
        let outcome = send(proxy, c.options.clone()).await;
        let refusal = match outcome.result {
            Ok(r) => panic!("{}: not refused, upstream answered {}", c.name, r.status),
            Err(refusal) => refusal,
        };
        assert_eq!(refusal.status, c.status, "{}: {refusal}", c.name);
        assert_eq!(refusal.status, refusal.code.status(), "{}", c.name);
        assert!(outcome.audit.status.is_none(), "{}", c.name);
        assert_eq!(listener.accepts(), 0, "{}: a connection was made", c.name);
    }
    n
}

fn resolver_for(listener: &Upstream) -> Arc<ScriptedResolver> {
    let lo = listener.addr.ip();
    let r = ScriptedResolver::new();
    r.set("loopy.test", &[&[lo]]);
    r.set("mixed.test", &[&[ip("8.8.8.8"), lo]]);
    r.set("mixed6.test", &[&[ip("2606:4700::1111"), ip("::1")]]);
    r.set("private.test", &[&[ip("10.1.2.3")]]);
    r.set("mapped.test", &[&[ip("::ffff:127.0.0.1")]]);
    r.set("compat.test", &[&[ip("::127.0.0.1")]]);
    r.set("meta.test", &[&[ip("169.254.169.254")]]);
    r.set("nat64.test", &[&[ip("64:ff9b::7f00:1")]]);
    r.set("sixtofour.test", &[&[ip("2002:7f00:1::1")]]);
    r.set("cgnat.test", &[&[ip("100.64.1.1")]]);
    r.set("zero.test", &[&[ip("0.0.0.0")]]);
    r.set("ula.test", &[&[ip("fd00::1")]]);
    // Whitelist cases: every name points at the counting listener, and 127/8 is allowed, so only the whitelist
    // (or the URL rules) stand between the request and a connection.
    for name in [
        "good.test",
        "evil.test",
        "evilgood.test",
        "good.test.evil.test",
        "xn--gd-ckb.test",
        "tenant.example.test",
    ] {
        r.set(name, &[&[lo]]);
    }
    r
}

#[tokio::test]
async fn default_policy_refuses_internal_targets_without_connecting() {
    let listener = ok_upstream().await;
    let p = listener.port();
    let proxy = proxy(ProxyConfig::default(), resolver_for(&listener));
    let get = |url: String| json!({ "url": url });
    let cases = vec![
        case("127.0.0.1", get(format!("http://127.0.0.1:{p}/")), 403),
        case("127.1", get(format!("http://127.1:{p}/")), 403),
        case("hex dotted", get(format!("http://0x7f.0.0.1:{p}/")), 403),
        case("octal", get(format!("http://0177.0.0.1:{p}/")), 403),
        case("decimal", get(format!("http://2130706433:{p}/")), 403),
        case("hex", get(format!("http://0x7f000001:{p}/")), 403),
        case("0", get(format!("http://0:{p}/")), 403),
        case("0.0.0.0", get(format!("http://0.0.0.0:{p}/")), 403),
        case("0.1.2.3", get(format!("http://0.1.2.3:{p}/")), 403),
        case("[::1]", get(format!("http://[::1]:{p}/")), 403),
        case("[::]", get(format!("http://[::]:{p}/")), 403),
        case(
            "mapped dotted",
            get(format!("http://[::ffff:127.0.0.1]:{p}/")),
            403,
        ),
        case(
            "mapped hex",
            get(format!("http://[::ffff:7f00:1]:{p}/")),
            403,
        ),
        case("compatible", get(format!("http://[::127.0.0.1]:{p}/")), 403),
        case(
            "nat64 metadata",
            get(format!("http://[64:ff9b::a9fe:a9fe]:{p}/")),
            403,
        ),
        case(
            "nat64 loopback",
            get(format!("http://[64:ff9b::7f00:1]:{p}/")),
            403,
        ),
        case(
            "nat64 local-use",
            get(format!("http://[64:ff9b:1::7f00:1]:{p}/")),
            403,
        ),
        case(
            "6to4 metadata",
            get(format!("http://[2002:a9fe:a9fe::1]:{p}/")),
            403,
        ),
        case(
            "6to4 loopback",
            get(format!("http://[2002:7f00:1::1]:{p}/")),
            403,
        ),
        case(
            "teredo",
            get(format!(
                "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{p}/"
            )),
            403,
        ),
        case("zone id", get(format!("http://[fe80::1%25lo]:{p}/")), 400),
        case("link-local v6", get(format!("http://[fe80::1]:{p}/")), 403),
        case("ula", get(format!("http://[fd00::1]:{p}/")), 403),
        case("site-local", get(format!("http://[fec0::1]:{p}/")), 403),
        case("multicast v6", get(format!("http://[ff02::1]:{p}/")), 403),
        case(
            "metadata ip",
            get("http://169.254.169.254/latest/meta-data/".into()),
            403,
        ),
        case(
            "metadata name",
            get("http://metadata.google.internal/computeMetadata/v1/".into()),
            403,
        ),
        case(
            "metadata name dot",
            get("http://METADATA.google.internal./".into()),
            403,
        ),
        case(
            "aws metadata name",
            get("http://metadata.amazonaws.com/".into()),
            403,
        ),
        case("cgnat", get("http://100.64.0.1/".into()), 403),
        case("10/8", get("http://10.0.0.1/".into()), 403),
        case("172.16/12", get("http://172.16.0.1/".into()), 403),
        case("192.168/16", get("http://192.168.1.1/".into()), 403),
        case("multicast", get("http://224.0.0.1/".into()), 403),
        case("broadcast", get("http://255.255.255.255/".into()), 403),
        case("benchmarking", get("http://198.18.0.1/".into()), 403),
        case("reserved", get("http://240.0.0.1/".into()), 403),
        case("ietf 192.0.0/24", get("http://192.0.0.8/".into()), 403),
        case("documentation", get("http://192.0.2.1/".into()), 403),
        case("localhost", get(format!("http://localhost:{p}/")), 403),
        case("LOCALHOST.", get(format!("http://LOCALHOST.:{p}/")), 403),
        case(
            "sub.localhost",
            get(format!("http://app.localhost:{p}/")),
            403,
        ),
        case(
            "name → 127.0.0.1",
            get(format!("http://loopy.test:{p}/")),
            403,
        ),
        case(
            "mixed public+loopback",
            get(format!("http://mixed.test:{p}/")),
            403,
        ),
        case(
            "mixed v6 public+::1",
            get(format!("http://mixed6.test:{p}/")),
            403,
        ),
        case("name → 10/8", get(format!("http://private.test:{p}/")), 403),
        case(
            "name → mapped loopback",
            get(format!("http://mapped.test:{p}/")),
            403,
        ),
        case(
            "name → compatible",
            get(format!("http://compat.test:{p}/")),
            403,
        ),
        case(
            "name → metadata",
            get(format!("http://meta.test:{p}/")),
            403,
        ),
        case("name → nat64", get(format!("http://nat64.test:{p}/")), 403),
        case(
            "name → 6to4",
            get(format!("http://sixtofour.test:{p}/")),
            403,
        ),
        case("name → cgnat", get(format!("http://cgnat.test:{p}/")), 403),
        case("name → 0.0.0.0", get(format!("http://zero.test:{p}/")), 403),
        case("name → ula", get(format!("http://ula.test:{p}/")), 403),
        case(
            "unresolvable",
            get(format!("http://nowhere.test:{p}/")),
            502,
        ),
        case("gopher", get(format!("gopher://127.0.0.1:{p}/_GET")), 403),
        case("file", get("file:///etc/passwd".into()), 403),
        case("ftp", get(format!("ftp://127.0.0.1:{p}/")), 403),
        case("data", get("data:text/plain,hello".into()), 403),
        case("ws", get(format!("ws://127.0.0.1:{p}/")), 403),
        case(
            "slash-backslash",
            get(format!("http:/\\127.0.0.1:{p}/")),
            400,
        ),
        case("no slashes", get(format!("http:127.0.0.1:{p}/")), 400),
        case("relative", get("/api/v2/tickets.json".into()), 400),
        case("port 65536", get("http://127.0.0.1:65536/".into()), 400),
        case("tab in host", get(format!("http://127.0.0.1\t:{p}/")), 400),
        case(
            "cors",
            json!({ "url": format!("http://loopy.test:{p}/"), "cors": true }),
            400,
        ),
        case(
            "TRACE",
            json!({ "url": format!("http://loopy.test:{p}/"), "type": "TRACE" }),
            400,
        ),
    ];
    let n = run_cases(&proxy, &listener, cases).await;
    assert!(n >= 60, "{n} cases");
}

#[tokio::test]
async fn dev_mode_still_refuses_zaffre_itself_and_private_ranges() {
    let listener = ok_upstream().await;
    let p = listener.port();
    let r = resolver_for(&listener);
    r.set("localhost", &[&[ip("127.0.0.1"), ip("::1")]]);
    let config = ProxyConfig {
        allow_loopback: true,
        own_addrs: vec![listener.addr],
        own_hosts: vec!["zaffre.test".into(), "apps.zaffre.test:8443".into()],
        ..ProxyConfig::default()
    };
    let proxy = proxy(config, r);
    let get = |url: String| json!({ "url": url });
    run_cases(
        &proxy,
        &listener,
        vec![
            case("own addr", get(format!("http://127.0.0.1:{p}/")), 403),
            case(
                "own addr mapped",
                get(format!("http://[::ffff:127.0.0.1]:{p}/")),
                403,
            ),
            case("own addr 127.1", get(format!("http://127.1:{p}/")), 403),
            case(
                "own addr by name",
                get(format!("http://loopy.test:{p}/")),
                403,
            ),
            case(
                "own addr via localhost",
                get(format!("http://localhost:{p}/")),
                403,
            ),
            case("own host", get(format!("http://zaffre.test:{p}/")), 403),
            case(
                "own apps subdomain",
                get(format!("http://app-1.apps.zaffre.test:{p}/")),
                403,
            ),
            case(
                "private still refused",
                get(format!("http://private.test:{p}/")),
                403,
            ),
            case(
                "metadata still refused",
                get("http://169.254.169.254/".into()),
                403,
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn secure_requests_refuse_whitelist_and_interpolation_tricks() {
    let listener = ok_upstream().await;
    let p = listener.port();
    // 127/8 allowed by the operator: the address class is no obstacle, so each refusal below is the whitelist's,
    // the URL rules' or the interpolation rules'.
    let config = ProxyConfig {
        allow_ranges: vec!["127.0.0.0/8".parse().unwrap()],
        ..ProxyConfig::default()
    };
    let proxy = proxy(config, resolver_for(&listener));
    let secure = |url: String| json!({ "url": url, "secure": true, "headers": { "X-Key": "{{setting.token}}" } });
    let cases = vec![
        case(
            "userinfo host switch",
            secure(format!("https://good.test@evil.test:{p}/")),
            400,
        ),
        case(
            "backslash",
            secure(format!("https://evil.test\\@good.test:{p}/")),
            400,
        ),
        case(
            "fragment",
            secure(format!("https://evil.test:{p}#@good.test/")),
            403,
        ),
        case(
            "query",
            secure(format!("https://evil.test:{p}?@good.test/")),
            403,
        ),
        case(
            "suffix host",
            secure(format!("https://good.test.evil.test:{p}/")),
            403,
        ),
        case(
            "no dot boundary",
            secure(format!("https://evilgood.test:{p}/")),
            403,
        ),
        case(
            "homograph punycode",
            secure(format!("https://xn--gd-ckb.test:{p}/")),
            403,
        ),
        case(
            "percent-encoded host",
            secure(format!("https://%65vil.test:{p}/")),
            403,
        ),
        case(
            "full-width host",
            secure(format!("https://ｅｖｉｌ.test:{p}/")),
            403,
        ),
        case(
            "port out of range",
            secure("https://good.test:65536/".into()),
            400,
        ),
        case(
            "http downgrade",
            secure(format!("http://good.test:{p}/")),
            403,
        ),
        case(
            "ip literal never whitelisted",
            secure(format!("https://127.0.0.1:{p}/")),
            403,
        ),
        case(
            "not whitelisted",
            secure(format!("https://evil.test:{p}/")),
            403,
        ),
        case(
            "setting host slash",
            secure(format!("https://{{{{setting.sub_slash}}}}.good.test:{p}/")),
            400,
        ),
        case(
            "setting host hash",
            secure(format!("https://{{{{setting.sub_hash}}}}.good.test:{p}/")),
            400,
        ),
        case(
            "setting host at",
            secure(format!("https://{{{{setting.sub_at}}}}.good.test:{p}/")),
            400,
        ),
        case(
            "setting host crlf",
            secure(format!("https://{{{{setting.sub_crlf}}}}:{p}/")),
            400,
        ),
        case(
            "setting host %2e%2e",
            secure(format!("https://{{{{setting.sub_dots}}}}.good.test:{p}/")),
            400,
        ),
        case(
            "setting host switch",
            secure(format!("https://{{{{setting.sub_evil}}}}:{p}/")),
            403,
        ),
        case(
            "secret outside scope (url)",
            json!({"url": format!("https://good.test:{p}/{{{{setting.hdr_only}}}}"), "secure": true}),
            400,
        ),
        case(
            "secret outside scope (body)",
            json!({"url": format!("https://good.test:{p}/"), "type": "POST", "data": "{{setting.hdr_only}}", "secure": true}),
            400,
        ),
        case(
            "unknown setting",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "headers": {"X": "{{setting.missing}}"}}),
            422,
        ),
        case(
            "crlf after interpolation",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "headers": {"X": "{{setting.crlf}}"}}),
            400,
        ),
        case(
            "nul after interpolation",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "headers": {"X": "{{setting.nul}}"}}),
            400,
        ),
        case(
            "literal crlf header",
            json!({"url": format!("https://good.test:{p}/"), "headers": {"X": "a\r\nHost: evil.test"}}),
            400,
        ),
        case(
            "underscore header",
            json!({"url": format!("https://good.test:{p}/"), "headers": {"client_id": "x"}}),
            400,
        ),
        case(
            "jwt alg none",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "jwt": {"algorithm": "none", "secret_key": "{{setting.jwt_key}}"}}),
            400,
        ),
        case(
            "jwt RS256",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "jwt": {"algorithm": "RS256", "secret_key": "{{setting.jwt_key}}"}}),
            400,
        ),
        case(
            "jwt literal key",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "jwt": {"secret_key": "known"}}),
            400,
        ),
        case(
            "jwt non-secure key",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "jwt": {"secret_key": "{{setting.plain}}"}}),
            400,
        ),
        case(
            "jwt key outside scope",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "jwt": {"secret_key": "{{setting.hdr_only}}"}}),
            400,
        ),
        case(
            "jwt without secure",
            json!({"url": format!("https://good.test:{p}/"), "jwt": {"secret_key": "{{setting.jwt_key}}"}}),
            400,
        ),
        case(
            "jwt claim outside scope",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "jwt": {"secret_key": "{{setting.jwt_key}}", "claims": {"k": "{{setting.hdr_only}}"}}}),
            400,
        ),
        case(
            "basic user outside scope",
            json!({"url": format!("https://good.test:{p}/"), "secure": true, "username": "{{setting.pass}}"}),
            400,
        ),
        case(
            "basic auth and header",
            json!({"url": format!("https://good.test:{p}/"), "username": "u", "headers": {"Authorization": "Bearer x"}}),
            400,
        ),
        case(
            "body too large",
            json!({"url": format!("https://good.test:{p}/"), "type": "POST", "data": "x".repeat(1024 * 1024 + 1)}),
            413,
        ),
    ];
    run_cases(&proxy, &listener, cases).await;
}
