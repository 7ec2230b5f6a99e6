//! Positive paths and the rules that shape what goes out and comes back: interpolation, scopes, JWT claims,
//! headers and bodies, redirects, 429 retries, limits, timeouts, https with a test CA, pooling and rebinding.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::Response;
use serde_json::{json, Value};
use zaffre_proxy::*;

fn lo() -> std::net::IpAddr {
    "127.0.0.1".parse().unwrap()
}

/// A dev-mode proxy whose resolver maps good.test (whitelisted) and other.test to 127.0.0.1.
fn dev_proxy() -> (Proxy, Arc<ScriptedResolver>) {
    let r = ScriptedResolver::new();
    for name in [
        "good.test",
        "api.good.test",
        "other.test",
        "s3cr3t-tenant.good.test",
    ] {
        r.set(name, &[&[lo()]]);
    }
    (proxy(dev_config(), r.clone()), r)
}

#[tokio::test]
async fn secure_header_reaches_upstream_and_nothing_else_sees_it() {
    let up = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    let out = send(
        &proxy,
        json!({
            "url": format!("http://good.test:{}/v1/items?key={{{{setting.token}}}}", up.port()),
            "secure": true,
            "headers": {"Authorization": "Bearer {{setting.token}}", "X-Hdr": "{{setting.hdr_only}}", "X-Plain": "{{setting.plain}}"},
        }),
    )
    .await;
    let response = out.result.unwrap();
    assert_eq!((response.status, response.body.as_str()), (200, "ok"));
    let seen = &up.seen()[0];
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(seen.header("x-hdr"), Some(HDR_ONLY));
    assert_eq!(
        seen.header("x-plain"),
        Some("{{setting.plain}}"),
        "non-secure placeholders stay literal"
    );
    assert_eq!(seen.uri, format!("/v1/items?key={TOKEN}"));
    assert_eq!(
        seen.header("host"),
        Some(format!("good.test:{}", up.port()).as_str())
    );
    assert_eq!(out.audit.host, "good.test");
    assert_eq!(out.audit.path, "/v1/items");
    assert_eq!(out.audit.secure_settings_used, ["token", "hdr_only"]);
    assert_eq!(out.audit.status, Some(200));
    assert_eq!(out.audit.remote_addr, Some(up.addr));
}

#[tokio::test]
async fn host_from_a_secure_setting_is_masked_in_the_audit() {
    let up = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    let out = send(
        &proxy,
        json!({"url": format!("http://{{{{setting.tenant}}}}.good.test:{}/t/{{{{setting.token}}}}/x", up.port()), "secure": true}),
    )
    .await;
    // tenant's scopes are [url]; token has all scopes.
    assert_eq!(out.result.unwrap().status, 200);
    assert_eq!(out.audit.host, "[secure:tenant].good.test");
    assert_eq!(out.audit.path, "/t/[secure:token]/x");
    assert_eq!(up.seen()[0].uri, format!("/t/{TOKEN}/x"));
}

#[tokio::test]
async fn non_secure_requests_never_interpolate_and_recursion_is_literal() {
    let up = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    send(&proxy, json!({"url": format!("http://other.test:{}/?k={{{{setting.token}}}}", up.port()), "headers": {"X-A": "{{setting.token}}"}, "type": "POST", "data": "{{setting.token}}"})).await.result.unwrap();
    let seen = &up.seen()[0];
    assert_eq!(seen.header("x-a"), Some("{{setting.token}}"));
    assert_eq!(seen.body, "{{setting.token}}");
    assert_eq!(seen.uri, "/?k={{setting.token}}");

    send(&proxy, json!({"url": format!("http://good.test:{}/", up.port()), "secure": true, "headers": {"X-R": "{{setting.recursive}}"}})).await.result.unwrap();
    assert_eq!(
        up.seen()[1].header("x-r"),
        Some("{{setting.token}}|{{jwt.token}}"),
        "substituted text is not re-scanned"
    );
}

#[tokio::test]
async fn secure_value_in_the_path_is_encoded_not_a_traversal() {
    let up = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    send(&proxy, json!({"url": format!("http://good.test:{}/a/{{{{setting.dots}}}}/b", up.port()), "secure": true})).await.result.unwrap();
    assert_eq!(up.seen()[0].uri, "/a/..%2F..%2Fadmin/b");
    send(&proxy, json!({"url": format!("http://good.test:{}/a/{{{{setting.sub_dots}}}}/b", up.port()), "secure": true})).await.result.unwrap();
    assert_eq!(up.seen()[1].uri, "/a/%252e%252e/b");
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let target = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    for status in [301u16, 302, 303, 307, 308] {
        let location = format!("http://127.0.0.1:{}/steal", target.port());
        let up = upstream(Arc::new(move |_, _| {
            Response::builder()
                .status(status)
                .header("location", location.clone())
                .body(Full::new(Bytes::new()))
                .unwrap()
        }))
        .await;
        let out = send(&proxy, json!({"url": format!("http://good.test:{}/", up.port()), "secure": true, "headers": {"X-Key": "{{setting.token}}"}})).await;
        let response = out.result.unwrap();
        assert_eq!(response.status, status);
        assert!(response.header("location").unwrap().ends_with("/steal"));
        assert_eq!(up.accepts(), 1);
    }
    assert_eq!(target.accepts(), 0, "the redirect target saw no connection");
}

#[tokio::test]
async fn jwt_claims_are_ours_where_it_matters() {
    let up = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    let out = send(
        &proxy,
        json!({
            "url": format!("http://good.test:{}/hook?jwt={{{{jwt.token}}}}", up.port()),
            "secure": true,
            "headers": {"Authorization": "Bearer {{jwt.token}}"},
            "jwt": {"algorithm": "HS256", "secret_key": "{{setting.jwt_key}}", "expiry": 999999,
                    "claims": {"iss": "acme-app", "sub": "{{setting.claim}}", "exp": 9999999999u64, "iat": 1,
                               "zaffre": {"user_id": 1}, "nested": ["{{setting.claim}}"]}},
        }),
    )
    .await;
    assert_eq!(out.result.unwrap().status, 200);
    assert!(out
        .audit
        .secure_settings_used
        .contains(&"jwt_key".to_string()));
    let seen = &up.seen()[0];
    let token = seen
        .header("authorization")
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_string();
    assert!(seen.uri.ends_with(&format!("?jwt={token}")));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    let claims: Value = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(JWT_KEY.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(exp - iat, 3600, "expiry capped by jwt_max_expiry");
    assert!(iat > 1_600_000_000, "iat is ours");
    assert_eq!(claims["iss"], "acme-app");
    assert_eq!(claims["sub"], "S3CR3T-claim");
    assert_eq!(claims["nested"][0], "S3CR3T-claim");
    assert_eq!(
        claims["zaffre"],
        json!({"account": "acme", "account_id": 11, "installation_id": 22, "app_id": 33, "user_id": 44})
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);

    // Default expiry.
    send(&proxy, json!({"url": format!("http://good.test:{}/", up.port()), "secure": true, "headers": {"X-T": "{{jwt.token}}"}, "jwt": {"secret_key": "{{setting.jwt_key}}"}})).await.result.unwrap();
    let token = up.seen()[1].header("x-t").unwrap().to_string();
    let claims = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(JWT_KEY.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    // The token never reaches the audit path.
    assert!(!format!("{:?}", out.audit).contains(&token));
}

#[tokio::test]
async fn header_rules() {
    let up = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    send(
        &proxy,
        json!({
            "url": format!("http://good.test:{}/", up.port()),
            "headers": {"Host": "evil.test", "Connection": "close, X-Keep", "Keep-Alive": "1", "TE": "trailers",
                        "Transfer-Encoding": "chunked", "Upgrade": "websocket", "Proxy-Authorization": "Basic x",
                        "Content-Length": "999", "User-Agent": "spoof", "Accept-Encoding": "gzip",
                        "X-Forwarded-For": "10.0.0.1", "Authorization": "Token abc", "Cookie": "a=b", "client-id": "7"},
        }),
    )
    .await
    .result
    .unwrap();
    let seen = &up.seen()[0];
    assert_eq!(
        seen.headers_named("host"),
        [format!("good.test:{}", up.port())]
    );
    for absent in [
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
        "proxy-authorization",
        "x-forwarded-for",
    ] {
        assert!(seen.header(absent).is_none(), "{absent} forwarded");
    }
    assert_ne!(seen.header("connection"), Some("close, X-Keep"));
    assert_eq!(
        seen.header("content-length"),
        None,
        "GET without body has no Content-Length"
    );
    assert!(seen
        .header("user-agent")
        .unwrap()
        .starts_with("zaffre-proxy/"));
    assert_eq!(seen.header("accept-encoding"), Some("identity"));
    assert_eq!(seen.header("authorization"), Some("Token abc"));
    assert_eq!(seen.header("cookie"), Some("a=b"));
    assert_eq!(seen.header("client-id"), Some("7"));

    // Basic auth from username/password with the basic_auth scopes.
    send(&proxy, json!({"url": format!("https://good.test:{}/", up.port()).replace("https", "http"), "secure": true, "username": "{{setting.user}}", "password": "{{setting.pass}}"})).await.result.unwrap();
    use base64::Engine;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{BASIC_USER}:{BASIC_PASS}"));
    assert_eq!(
        up.seen()[1].header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
}

#[tokio::test]
async fn body_encodings() {
    let up = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    let url = format!("http://good.test:{}/p?x=1", up.port());
    let post = |data: Value, extra: Value| {
        let mut o = json!({"url": url, "type": "POST", "data": data, "secure": true});
        o.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        o
    };
    send(
        &proxy,
        post(
            json!({"a": 1, "b": ["x", "y"], "c": {"d": "{{setting.token}}"}, "e": "a b&c"}),
            json!({}),
        ),
    )
    .await
    .result
    .unwrap();
    send(
        &proxy,
        post(
            json!({"a": 1, "k": "{{setting.token}}"}),
            json!({"contentType": "application/json"}),
        ),
    )
    .await
    .result
    .unwrap();
    send(
        &proxy,
        post(
            json!("raw {{setting.token}} text"),
            json!({"contentType": "text/plain"}),
        ),
    )
    .await
    .result
    .unwrap();
    send(
        &proxy,
        json!({"url": url, "data": {"q": "a b", "t": "{{setting.token}}"}, "secure": true}),
    )
    .await
    .result
    .unwrap();
    send(&proxy, post(json!({"a": 1}), json!({"contentType": false})))
        .await
        .result
        .unwrap();
    let seen = up.seen();
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded; charset=UTF-8")
    );
    assert_eq!(
        seen[0].body,
        format!("a=1&b%5B%5D=x&b%5B%5D=y&c%5Bd%5D={TOKEN}&e=a+b%26c")
    );
    assert_eq!(
        seen[0].header("content-length"),
        Some(seen[0].body.len().to_string().as_str())
    );
    assert_eq!(seen[1].header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&seen[1].body).unwrap(),
        json!({"a": 1, "k": TOKEN})
    );
    assert_eq!(seen[2].body, format!("raw {TOKEN} text"));
    assert_eq!(seen[3].method, "GET");
    assert_eq!(seen[3].uri, format!("/p?x=1&q=a+b&t={TOKEN}"));
    assert_eq!(seen[3].body, "");
    assert_eq!(seen[4].header("content-type"), None);
}

fn status_with(status: u16, headers: &[(&str, String)]) -> Response<Full<Bytes>> {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "text/plain");
    for (n, v) in headers {
        b = b.header(*n, v.as_str());
    }
    b.body(Full::new(Bytes::from_static(b"slow down"))).unwrap()
}

async fn run_429(retry_after: Option<String>, auto_retry: bool) -> (ProxyOutcome, usize) {
    let up = upstream(Arc::new(move |_, n| {
        if n == 1 {
            let headers: Vec<(&str, String)> = retry_after
                .iter()
                .map(|v| ("Retry-After", v.clone()))
                .collect();
            status_with(429, &headers)
        } else {
            ok_text("done")
        }
    }))
    .await;
    let (proxy, _) = dev_proxy();
    let out = send(
        &proxy,
        json!({"url": format!("http://good.test:{}/", up.port()), "autoRetry": auto_retry}),
    )
    .await;
    let n = up.seen().len();
    (out, n)
}

#[tokio::test]
async fn retries_429_after_retry_after() {
    let (out, n) = run_429(Some("1".into()), true).await;
    let r = out.result.unwrap();
    assert_eq!((r.status, r.retries, n, out.audit.retries), (200, 1, 2, 1));

    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    let (out, n) = run_429(Some(date), true).await;
    assert_eq!((out.result.unwrap().status, n), (200, 2));

    let (out, n) = run_429(Some("garbage".into()), true).await;
    assert_eq!(
        (out.result.unwrap().retries, n),
        (1, 2),
        "unreadable Retry-After: fallback delay"
    );

    let (out, n) = run_429(None, true).await;
    assert_eq!(
        (out.result.unwrap().retries, n),
        (1, 2),
        "missing Retry-After: fallback delay"
    );
}

#[tokio::test]
async fn long_retry_after_and_auto_retry_false_return_the_429() {
    let (out, n) = run_429(Some("86400".into()), true).await;
    let r = out.result.unwrap();
    assert_eq!((r.status, r.retries, n), (429, 0, 1));
    assert_eq!(r.header("retry-after"), Some("86400"));
    assert_eq!(r.body, "slow down");

    let (out, n) = run_429(Some("1".into()), false).await;
    assert_eq!((out.result.unwrap().status, n), (429, 1));
}

#[tokio::test]
async fn retries_are_bounded() {
    let up = upstream(Arc::new(|_, _| {
        status_with(429, &[("retry-after", "0".into())])
    }))
    .await;
    let (proxy, _) = dev_proxy();
    let out = send(
        &proxy,
        json!({"url": format!("http://good.test:{}/", up.port())}),
    )
    .await;
    let r = out.result.unwrap();
    assert_eq!((r.status, r.retries), (429, 2));
    assert_eq!(up.seen().len(), 3);
}

#[tokio::test]
async fn response_limits_and_binary() {
    let big = upstream(Arc::new(|_, _| ok_text(&"x".repeat(5000)))).await;
    let chunked = chunked_upstream(30, 500).await;
    let png = upstream(Arc::new(|_, _| {
        Response::builder()
            .header("content-type", "image/png")
            .body(Full::new(Bytes::from_static(b"\x89PNG\r\n")))
            .unwrap()
    }))
    .await;
    let bad_utf8 = upstream(Arc::new(|_, _| {
        Response::builder()
            .header("content-type", "text/plain")
            .body(Full::new(Bytes::from_static(b"\xff\xfe\xfd")))
            .unwrap()
    }))
    .await;
    let r = ScriptedResolver::new();
    r.set("good.test", &[&[lo()]]);
    let proxy = proxy(
        ProxyConfig {
            max_response_bytes: 1000,
            ..dev_config()
        },
        r,
    );
    for (up, code) in [
        (&big, RefusalCode::ResponseTooLarge),
        (&chunked, RefusalCode::ResponseTooLarge),
        (&png, RefusalCode::BinaryResponse),
        (&bad_utf8, RefusalCode::BinaryResponse),
    ] {
        let out = send(
            &proxy,
            json!({"url": format!("http://good.test:{}/", up.port())}),
        )
        .await;
        let refusal = out.result.unwrap_err();
        assert_eq!((refusal.code, refusal.status), (code, 502));
        assert!(out.audit.refusal.unwrap().starts_with(code.as_str()));
    }
}

/// A raw upstream streaming `chunks` chunked pieces of `size` bytes, without Content-Length.
async fn chunked_upstream(chunks: usize, size: usize) -> Upstream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let a = accepts.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            a.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n").await;
                for _ in 0..chunks {
                    let piece = format!("{size:x}\r\n{}\r\n", "y".repeat(size));
                    if stream.write_all(piece.as_bytes()).await.is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    Upstream {
        addr,
        accepts,
        seen: Default::default(),
    }
}

#[tokio::test]
async fn an_upstream_that_never_answers_times_out() {
    let (addr, accepts) = silent_upstream().await;
    let (proxy, _) = dev_proxy();
    let out = send(
        &proxy,
        json!({"url": format!("http://good.test:{}/", addr.port()), "timeout": 300}),
    )
    .await;
    let refusal = out.result.unwrap_err();
    assert_eq!((refusal.status, refusal.code), (504, RefusalCode::Timeout));
    assert_eq!(accepts.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(out.audit.refusal.is_some());
}

#[tokio::test]
async fn https_with_a_test_ca() {
    let (acceptor, der) = tls_acceptor(&["good.test"]);
    let up = upstream_on(
        "127.0.0.1",
        Arc::new(|_, _| ok_text("over tls")),
        Some(acceptor),
    )
    .await;
    let r = ScriptedResolver::new();
    r.set("good.test", &[&[lo()]]);
    // Not dev mode: https is required for secure requests; 127/8 allowed as an operator range.
    let base = ProxyConfig {
        allow_ranges: vec!["127.0.0.0/8".parse().unwrap()],
        ..ProxyConfig::default()
    };
    let options = json!({"url": format!("https://good.test:{}/x", up.port()), "secure": true, "headers": {"X-Key": "{{setting.token}}"}});

    let untrusting = proxy(base.clone(), r.clone());
    let refusal = send(&untrusting, options.clone()).await.result.unwrap_err();
    assert_eq!(
        (refusal.status, refusal.code),
        (502, RefusalCode::ConnectFailed)
    );
    assert!(
        up.seen().is_empty(),
        "nothing sent over an untrusted TLS session"
    );

    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(&der)
        }
    );
    for root in [der.clone(), pem.into_bytes()] {
        let trusting = proxy(
            ProxyConfig {
                extra_root_certs: vec![root],
                ..base.clone()
            },
            r.clone(),
        );
        let out = send(&trusting, options.clone()).await;
        assert_eq!(out.result.unwrap().body, "over tls");
        assert_eq!(out.audit.scheme, "https");
    }
    assert_eq!(up.seen().last().unwrap().header("x-key"), Some(TOKEN));

    // Plain http for a secure request is refused outside dev mode, before connecting.
    let before = up.accepts();
    let plain = proxy(base, r);
    let out = send(
        &plain,
        json!({"url": format!("http://good.test:{}/x", up.port()), "secure": true}),
    )
    .await;
    assert_eq!(out.result.unwrap_err().status, 403);
    assert_eq!(up.accepts(), before);
}

#[tokio::test]
async fn connections_are_pooled_per_host_and_checked_address() {
    let up = ok_upstream().await;
    let (proxy, _) = dev_proxy();
    for _ in 0..3 {
        send(
            &proxy,
            json!({"url": format!("http://good.test:{}/", up.port())}),
        )
        .await
        .result
        .unwrap();
    }
    assert_eq!(up.accepts(), 1, "keep-alive reuse");
    send(
        &proxy,
        json!({"url": format!("http://other.test:{}/", up.port())}),
    )
    .await
    .result
    .unwrap();
    assert_eq!(
        up.accepts(),
        2,
        "another host name never shares a connection"
    );
}

#[tokio::test]
async fn rebinding_answers_are_never_used_after_the_check() {
    let allowed = upstream_on("127.0.0.2", Arc::new(|_, _| ok_text("allowed")), None).await;
    let forbidden = upstream_on("127.0.0.3", Arc::new(|_, _| ok_text("forbidden")), None).await;
    let r = ScriptedResolver::new();
    // First answer allowed, second (a later lookup) forbidden: a call never looks up twice.
    r.set(
        "rebind.test",
        &[
            &["127.0.0.2".parse().unwrap()],
            &["127.0.0.3".parse().unwrap()],
        ],
    );
    let config = ProxyConfig {
        allow_ranges: vec!["127.0.0.2/32".parse().unwrap()],
        ..ProxyConfig::default()
    };
    let proxy = proxy(config, r.clone());
    let out = send(
        &proxy,
        json!({"url": format!("http://rebind.test:{}/", allowed.port())}),
    )
    .await;
    assert_eq!(out.result.unwrap().body, "allowed");
    assert_eq!(r.calls("rebind.test"), 1, "one lookup per call");
    let out = send(
        &proxy,
        json!({"url": format!("http://rebind.test:{}/", forbidden.port())}),
    )
    .await;
    assert_eq!(out.result.unwrap_err().status, 403);
    assert_eq!(r.calls("rebind.test"), 2);
    assert_eq!(forbidden.accepts(), 0);
}

#[tokio::test]
async fn refusals_are_logged_without_secrets() {
    let (proxy, _) = dev_proxy();
    let out = send(
        &proxy,
        json!({"url": "https://{{setting.sub_evil}}/{{setting.token}}", "secure": true}),
    )
    .await;
    let refusal = out.result.unwrap_err();
    assert_eq!(refusal.status, 403);
    assert!(
        refusal.message.contains("[secure:sub_evil]"),
        "{}",
        refusal.message
    );
    assert!(logs().contains("proxy refused a request"));
    assert_no_leak_in_logs();
}
