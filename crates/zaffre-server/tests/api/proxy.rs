//! The app proxy endpoint (`POST /api/zaffre/installations/{id}/proxy`) and
//! its audit log, end to end: a real zaffre with a test resolver that maps
//! `upstream.test` to a local upstream on 127.0.0.1 (loopback allowed, as
//! under `zaffre dev`), an app installed through the Apps API with a secure
//! setting whose value is recognisable.
//!
//! The rules checked: the upstream receives the secret and nothing else does
//! (replies, audit rows, the export, log lines); only staff of the
//! installation's account may call, browsers with Origin and CSRF token; a
//! disabled installation is refused; bad options are Zendesk-shaped 400s;
//! zaffre itself and its accounts are not proxyable; the per-installation
//! limits answer 429 with their headers; the audit log filters, pages and
//! exports.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::IntoResponse;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::Notify;
use zaffre_server::api::proxy::ProxySetup;

use crate::common::{send, TestApp};

/// The secure setting's value: it must reach the upstream and nothing else.
const SECRET: &str = "zaffre-canary-8f3e2d1c-SECRET";

// ---------------------------------------------------------------- upstream

/// What the upstream saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: String,
    headers: HashMap<String, String>,
}

#[derive(Default)]
struct UpstreamState {
    requests: Mutex<Vec<Seen>>,
    /// `/slow` says it has arrived, then waits to be released.
    arrived: Notify,
    release: Notify,
}

/// A local HTTP upstream on 127.0.0.1.
struct Upstream {
    addr: SocketAddr,
    state: Arc<UpstreamState>,
}

impl Upstream {
    async fn start() -> Upstream {
        let state = Arc::new(UpstreamState::default());
        let router = axum::Router::new()
            .route("/ok", axum::routing::any(ok))
            .route("/missing", axum::routing::any(missing))
            .route("/slow", axum::routing::any(slow))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind upstream");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Upstream { addr, state }
    }

    fn url(&self, path: &str) -> String {
        format!("http://upstream.test:{}{path}", self.addr.port())
    }

    fn requests(&self) -> Vec<Seen> {
        self.state.requests.lock().unwrap().clone()
    }
}

fn note(state: &UpstreamState, uri: &Uri, headers: &HeaderMap) {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    state.requests.lock().unwrap().push(Seen {
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        headers,
    });
}

async fn ok(
    State(state): State<Arc<UpstreamState>>,
    uri: Uri,
    headers: HeaderMap,
) -> impl IntoResponse {
    note(&state, &uri, &headers);
    (
        [
            ("content-type", "application/json"),
            ("x-upstream", "yes"),
            ("set-cookie", "upstream_session=abc"),
        ],
        r#"{"hello":"world"}"#,
    )
}

async fn missing(
    State(state): State<Arc<UpstreamState>>,
    uri: Uri,
    headers: HeaderMap,
) -> impl IntoResponse {
    note(&state, &uri, &headers);
    (
        axum::http::StatusCode::NOT_FOUND,
        [("content-type", "text/plain")],
        "no such thing",
    )
}

async fn slow(
    State(state): State<Arc<UpstreamState>>,
    uri: Uri,
    headers: HeaderMap,
) -> impl IntoResponse {
    note(&state, &uri, &headers);
    state.arrived.notify_one();
    state.release.notified().await;
    "finally"
}

/// Resolves `upstream.test` (and its subdomains) to 127.0.0.1; nothing else.
struct TestResolver;

#[async_trait::async_trait]
impl zaffre_proxy::Resolver for TestResolver {
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        if host == "upstream.test" || host.ends_with(".upstream.test") {
            Ok(vec![IpAddr::from([127, 0, 0, 1])])
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "no such host"))
        }
    }
}

fn setup() -> ProxySetup {
    ProxySetup {
        resolver: Arc::new(TestResolver),
        extra_root_certs: Vec::new(),
    }
}

/// Runs `test` on SQLite, then on PostgreSQL when configured, each with a
/// fresh zaffre (loopback allowed, `tweak` applied) and upstream.
async fn on_each_engine<F, Fut>(tweak: fn(&mut zaffre_server::Config), test: F)
where
    F: Fn(TestApp, Upstream) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let engines = if std::env::var("ZAFFRE_TEST_POSTGRES_URL").is_ok() {
        vec![false, true]
    } else {
        vec![false]
    };
    for postgres in engines {
        let app = TestApp::with_proxy(
            postgres,
            |c| {
                c.proxy_allow_loopback = true;
                tweak(c);
            },
            setup(),
        )
        .await;
        test(app, Upstream::start().await).await;
    }
}

fn no_tweak(_: &mut zaffre_server::Config) {}

// ---------------------------------------------------------------- fixtures

/// Installs an app whitelisting `upstream.test` with a secure `api_token`
/// (header scope only) and a plain `region`; returns the installation id.
async fn install(app: &TestApp) -> i64 {
    let mut files = zaffre_manifest::scaffold::new_app("Proxy Test");
    let manifest = json!({
        "name": "Proxy Test",
        "author": {"name": "Tests", "email": "tests@example.com", "url": "https://example.com"},
        "defaultLocale": "en",
        "private": true,
        "location": {"support": {"ticket_sidebar": {"url": "assets/iframe.html", "flexible": true}}},
        "version": "1.0.0",
        "frameworkVersion": "2.0",
        "domainWhitelist": ["upstream.test"],
        "parameters": [
            {"name": "api_token", "type": "text", "secure": true, "required": true, "scopes": ["header"]},
            {"name": "region", "type": "text"}
        ]
    });
    files.insert(
        "manifest.json".into(),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    );
    let zip =
        zaffre_manifest::write_zip(&zaffre_manifest::Package::from_files(files)).expect("zip");
    let form = Form::new().part(
        "uploaded_data",
        Part::bytes(zip)
            .file_name("app.zip")
            .mime_str("application/zip")
            .unwrap(),
    );
    let (status, body) = send(
        app.request(&app.admin, Method::POST, "/api/v2/apps/uploads.json")
            .multipart(form),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .write(
            &app.admin,
            Method::POST,
            "/api/v2/apps.json",
            &json!({"upload_id": body["id"]}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let job = body["job_id"].as_str().unwrap().to_owned();
    let (_, body) = app
        .get(&app.admin, &format!("/api/v2/apps/job_statuses/{job}.json"))
        .await;
    let app_id = body["app_id"].as_i64().expect("app id");
    let (status, body) = app
        .write(
            &app.admin,
            Method::POST,
            "/api/v2/apps/installations.json",
            &json!({"app_id": app_id, "settings": {"api_token": SECRET, "region": "eu"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("installation id")
}

fn proxy_path(installation: i64) -> String {
    format!("/api/zaffre/installations/{installation}/proxy")
}

/// A secure request for the upstream's `path`, with the token in a header.
fn secure_options(upstream: &Upstream, path: &str) -> Value {
    json!({
        "url": upstream.url(path),
        "type": "GET",
        "secure": true,
        "headers": {"Authorization": "Bearer {{setting.api_token}}"},
    })
}

/// Calls the proxy as the agent (API token); returns status, headers and the raw body.
async fn proxy(
    app: &TestApp,
    installation: i64,
    options: Value,
) -> (u16, reqwest::header::HeaderMap, String) {
    let response = app
        .request(&app.agent, Method::POST, &proxy_path(installation))
        .json(&json!({ "options": options }))
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn audit(app: &TestApp, query: &str) -> Value {
    let (status, body) = app
        .get(&app.admin, &format!("/api/zaffre/proxy_audit.json?{query}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn rows(body: &Value) -> &Vec<Value> {
    body["proxy_audit"].as_array().expect("proxy_audit")
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn a_secure_request_reaches_the_upstream_and_the_secret_goes_nowhere_else() {
    let logs = crate::apps::captured_logs();
    on_each_engine(no_tweak, |app, upstream| {
        async move {
            let id = install(&app).await;
            let mut options = secure_options(&upstream, "/ok");
            options["url"] = json!(upstream.url("/ok?page=2"));
            let (status, headers, text) = proxy(&app, id, options).await;
            assert_eq!(status, 200, "{text}");
            let reply: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(reply["status"], 200);
            assert_eq!(reply["statusText"], "OK");
            assert_eq!(reply["body"], r#"{"hello":"world"}"#);
            assert_eq!(reply["headers"]["x-upstream"], "yes");
            assert!(reply["headers"].get("set-cookie").is_none(), "{reply}");
            assert_eq!(reply["retries"], 0);
            assert_eq!(headers["ratelimit-limit"], "600");
            assert_eq!(headers["ratelimit-remaining"], "599");
            assert!(headers.contains_key("ratelimit-reset"));

            let seen = upstream.requests();
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].path, "/ok");
            assert_eq!(seen[0].query, "page=2");
            assert_eq!(
                seen[0].headers.get("authorization").map(String::as_str),
                Some(format!("Bearer {SECRET}").as_str()),
                "the upstream receives the secret"
            );
            assert!(
                !seen[0].headers.contains_key("cookie"),
                "the browser's cookies are never forwarded"
            );

            // A non-secure request keeps {{setting.…}} literal.
            let (status, _, text) = proxy(
                &app,
                id,
                json!({"url": upstream.url("/ok"), "headers": {"X-Token": "{{setting.api_token}}"}}),
            )
            .await;
            assert_eq!(status, 200, "{text}");
            assert_eq!(
                upstream.requests()[1].headers.get("x-token").map(String::as_str),
                Some("{{setting.api_token}}")
            );

            let list = audit(&app, "").await;
            let entries = rows(&list);
            assert_eq!(entries.len(), 2, "{list}");
            let secure = &entries[1];
            assert_eq!(secure["installation_id"], id);
            assert_eq!(secure["user_id"], app.agent.user.id.get());
            assert_eq!(secure["method"], "GET");
            assert_eq!(secure["scheme"], "http");
            assert_eq!(secure["host"], "upstream.test");
            assert_eq!(secure["port"], upstream.addr.port());
            assert_eq!(secure["path"], "/ok", "no query string in the audit log");
            assert_eq!(secure["status"], 200);
            assert_eq!(secure["refused"], false);
            assert_eq!(secure["secure_settings_used"], json!(["api_token"]));
            assert_eq!(secure["response_bytes"], 17);
            assert_eq!(entries[0]["secure_settings_used"], json!([]));

            let export = app
                .request(&app.admin, Method::GET, "/api/zaffre/proxy_audit.jsonl")
                .send()
                .await
                .unwrap();
            let export = export.text().await.unwrap();
            for text in [text.as_str(), &list.to_string(), &export] {
                assert!(!text.contains(SECRET), "the secret leaked: {text}");
            }
        }
    })
    .await;
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logs.contains("proxied call"), "the capture is live");
    assert!(!logs.contains(SECRET), "a log line carries the secret");
}

#[tokio::test]
async fn browser_calls_need_the_host_origin_and_the_csrf_token() {
    on_each_engine(no_tweak, |app, upstream| async move {
        let id = install(&app).await;
        let response = app
            .anonymous(Method::POST, "/auth/login")
            .json(&json!({"email": "agent@example.com", "password": app.agent.password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let session: Value = response.json().await.unwrap();
        let csrf = session["csrf_token"].as_str().unwrap().to_owned();
        let body = json!({"options": secure_options(&upstream, "/ok")});
        let call = || {
            app.anonymous(Method::POST, &proxy_path(id))
                .header("cookie", &cookie)
                .json(&body)
        };

        let (status, reply) = send(call().header("origin", &app.base)).await;
        assert_eq!(
            (status, reply["error"].as_str()),
            (403, Some("InvalidCSRF"))
        );
        let (status, _) = send(
            call()
                .header(
                    "origin",
                    format!("http://app-1.localhost:{}", app.addr.port()),
                )
                .header("x-csrf-token", &csrf),
        )
        .await;
        assert_eq!(status, 403, "an app origin is not the host page");
        assert!(upstream.requests().is_empty());

        let (status, reply) = send(
            call()
                .header("origin", &app.base)
                .header("x-csrf-token", &csrf),
        )
        .await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(upstream.requests().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn only_staff_of_the_installation_s_account_may_use_it() {
    on_each_engine(no_tweak, |app, upstream| async move {
        let id = install(&app).await;
        let body = json!({"options": secure_options(&upstream, "/ok")});
        let (status, _) = app
            .write(&app.end_user, Method::POST, &proxy_path(id), &body)
            .await;
        assert_eq!(status, 403, "end-users");
        let (status, _) = send(app.anonymous(Method::POST, &proxy_path(id)).json(&body)).await;
        assert_eq!(status, 401, "anonymous");
        let (status, reply) = app
            .write(&app.foreign_admin, Method::POST, &proxy_path(id), &body)
            .await;
        assert_eq!(status, 404, "another account's installation: {reply}");
        assert_eq!(reply["error"], "RecordNotFound");
        for missing in ["999999", "0", "abc"] {
            let (status, _) = app
                .write(
                    &app.agent,
                    Method::POST,
                    &format!("/api/zaffre/installations/{missing}/proxy"),
                    &body,
                )
                .await;
            assert_eq!(status, 404, "{missing}");
        }
        assert!(upstream.requests().is_empty(), "no call was made");
        assert!(rows(&audit(&app, "").await).is_empty());

        // Admins are staff too.
        let (status, _) = app
            .write(&app.admin, Method::POST, &proxy_path(id), &body)
            .await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_disabled_installation_is_refused_and_audited() {
    on_each_engine(no_tweak, |app, upstream| async move {
        let id = install(&app).await;
        let (status, _) = app
            .write(
                &app.admin,
                Method::PUT,
                &format!("/api/v2/apps/installations/{id}.json"),
                &json!({"enabled": false}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, _, text) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status, 403, "{reply}");
        assert_eq!(reply["error"], "Forbidden");
        assert_eq!(reply["proxy_refusal"]["code"], "installation_disabled");
        assert!(upstream.requests().is_empty());
        let list = audit(&app, "refused=true").await;
        assert_eq!(rows(&list).len(), 1);
        assert_eq!(rows(&list)[0]["host"], "upstream.test");
        assert_eq!(rows(&list)[0]["status"], 403);
    })
    .await;
}

#[tokio::test]
async fn bad_bodies_and_options_are_zendesk_shaped_400s() {
    on_each_engine(no_tweak, |app, upstream| async move {
        let id = install(&app).await;
        for body in [json!({}), json!({"options": "GET /"}), json!([1, 2])] {
            let (status, reply) = app
                .write(&app.agent, Method::POST, &proxy_path(id), &body)
                .await;
            assert_eq!(status, 400, "{body}: {reply}");
            assert_eq!(reply["error"], "InvalidParams");
            assert!(reply["description"].is_string());
        }
        let (status, reply) = send(
            app.request(&app.agent, Method::POST, &proxy_path(id))
                .header("content-type", "text/plain")
                .body("options"),
        )
        .await;
        assert_eq!(
            (status, reply["error"].as_str()),
            (400, Some("InvalidContentType"))
        );

        for options in [
            json!({"url": 5}),
            json!({"url": upstream.url("/ok"), "type": "BREW"}),
            json!({"url": upstream.url("/ok"), "headers": "x"}),
            json!({"url": upstream.url("/ok"), "timeout": "soon"}),
        ] {
            let (status, _, text) = proxy(&app, id, options.clone()).await;
            let reply: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(status, 400, "{options}: {reply}");
            assert_eq!(reply["error"], "InvalidParams", "{reply}");
            assert!(reply["description"].is_string());
            assert_eq!(reply["proxy_refusal"]["status"], 400);
            assert!(reply["proxy_refusal"]["code"].is_string());
        }
        assert!(upstream.requests().is_empty());
        // Option refusals are proxied calls: audited. Malformed bodies are not.
        assert_eq!(rows(&audit(&app, "refused=true&status=400").await).len(), 4);
    })
    .await;
}

fn zaffre_named(c: &mut zaffre_server::Config) {
    c.public_url = "http://zaffre.test".into();
}

#[tokio::test]
async fn zaffre_itself_and_its_accounts_are_not_proxyable() {
    on_each_engine(zaffre_named, |app, upstream| async move {
        let id = install(&app).await;
        for url in [
            "http://zaffre.test/api/v2/users.json",
            "https://zaffre.test/api/v2/users.json",
            "https://other.zaffre.test/api/v2/users.json",
            "http://SUPPORT.Zaffre.Test:8080/x",
        ] {
            let (status, _, text) = proxy(&app, id, json!({ "url": url })).await;
            let reply: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(status, 403, "{url}: {reply}");
            let message = reply["proxy_refusal"]["message"].as_str().unwrap();
            assert!(
                message.contains("is not a proxyable URI"),
                "{url}: {message}"
            );
            assert_eq!(reply["description"], message);
        }
        let list = audit(&app, "refused=true&status=403").await;
        assert_eq!(rows(&list).len(), 4);
        assert!(upstream.requests().is_empty());
    })
    .await;
}

#[tokio::test]
async fn zaffre_s_listen_address_is_not_proxyable() {
    // The upstream stands in for zaffre's own listener: config.listen names it.
    let upstream = Upstream::start().await;
    let listen = upstream.addr;
    let app = TestApp::with_proxy(
        false,
        move |c| {
            c.proxy_allow_loopback = true;
            c.listen = listen;
        },
        setup(),
    )
    .await;
    let id = install(&app).await;
    let (status, _, text) = proxy(&app, id, json!({ "url": upstream.url("/ok") })).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("is not a proxyable URI"), "{text}");
    assert!(upstream.requests().is_empty(), "no request reached it");
}

fn two_a_minute(c: &mut zaffre_server::Config) {
    c.proxy_rate_per_minute = 2;
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_its_headers() {
    on_each_engine(two_a_minute, |app, upstream| async move {
        let id = install(&app).await;
        for remaining in ["1", "0"] {
            let (status, headers, _) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
            assert_eq!(status, 200);
            assert_eq!(headers["ratelimit-limit"], "2");
            assert_eq!(headers["ratelimit-remaining"], remaining);
        }
        let (status, headers, text) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status, 429, "{reply}");
        assert_eq!(reply["error"], "TooManyRequests");
        assert_eq!(reply["proxy_refusal"]["code"], "rate_limited");
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(headers["ratelimit-limit"], "2");
        assert_eq!(headers["ratelimit-remaining"], "0");
        assert_eq!(
            headers["ratelimit-reset"].to_str().unwrap(),
            retry.to_string()
        );
        assert_eq!(
            upstream.requests().len(),
            2,
            "the refused call made no request"
        );
        let refused = audit(&app, "status=429").await;
        assert_eq!(rows(&refused).len(), 1);
        assert!(rows(&refused)[0]["refusal"]
            .as_str()
            .unwrap()
            .starts_with("rate_limited"));
    })
    .await;
}

fn one_at_a_time(c: &mut zaffre_server::Config) {
    c.proxy_max_concurrent = 1;
}

#[tokio::test]
async fn the_concurrency_cap_answers_429_while_a_call_is_in_flight() {
    on_each_engine(one_at_a_time, |app, upstream| async move {
        let id = install(&app).await;
        let first = {
            let request = app
                .request(&app.agent, Method::POST, &proxy_path(id))
                .json(&json!({"options": secure_options(&upstream, "/slow")}));
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        };
        upstream.state.arrived.notified().await;
        let (status, headers, text) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        assert_eq!(status, 429, "{text}");
        assert!(text.contains("too_many_in_flight"), "{text}");
        assert_eq!(headers["retry-after"], "1");
        assert_eq!(headers["ratelimit-limit"], "1");
        assert_eq!(headers["ratelimit-remaining"], "0");
        upstream.state.release.notify_one();
        assert_eq!(first.await.unwrap(), 200);
        // The place is free again.
        let (status, _, _) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports_for_admins_only() {
    on_each_engine(no_tweak, |app, upstream| async move {
        let id = install(&app).await;
        let (s1, _, _) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        let (s2, _, _) = proxy(&app, id, secure_options(&upstream, "/missing")).await;
        let (s3, _, _) = proxy(&app, id, json!({"url": "http://10.1.2.3/admin?key=k3y"})).await;
        let (s4, _, _) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        assert_eq!((s1, s2, s3, s4), (200, 200, 403, 200));

        let all = rows(&audit(&app, "").await).clone();
        assert_eq!(all.len(), 4);
        let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
        for (query, expected) in [
            ("status=404", 1),
            ("status=200", 2),
            ("refused=true", 1),
            ("refused=false", 3),
            ("host=UPSTREAM.test", 3),
            ("host=10.1.2.3", 1),
            (&format!("installation_id={id}") as &str, 4),
            ("installation_id=999999", 0),
            (&format!("user_id={}", app.agent.user.id.get()), 4),
            (&format!("user_id={}", app.admin.user.id.get()), 0),
            ("since=2000-01-01&until=2999-01-01T00:00:00Z", 4),
            ("until=2000-01-01", 0),
        ] {
            assert_eq!(rows(&audit(&app, query).await).len(), expected, "{query}");
        }
        let app_id = all[0]["app_id"].as_i64().unwrap();
        assert_eq!(
            rows(&audit(&app, &format!("app_id={app_id}")).await).len(),
            4
        );
        let refused = rows(&audit(&app, "refused=true").await)[0].clone();
        assert_eq!(refused["status"], 403);
        let reason = refused["refusal"].as_str().unwrap();
        assert!(reason.contains("not a proxyable URI"), "{reason}");
        assert!(
            !reason.contains("k3y"),
            "no query string in the audit log: {reason}"
        );
        assert_eq!(refused["path"], "/admin");

        // Cursor pages walk every row once, newest first.
        let mut walked = Vec::new();
        let mut query = "page[size]=3".to_owned();
        loop {
            let page = audit(&app, &query).await;
            walked.extend(rows(&page).iter().map(|e| e["id"].as_i64().unwrap()));
            if page["meta"]["has_more"] != true {
                break;
            }
            let next = page["links"]["next"].as_str().unwrap();
            query = next.split_once('?').unwrap().1.to_owned();
        }
        assert_eq!(walked, ids);
        let (status, reply) = app
            .get(&app.admin, "/api/zaffre/proxy_audit.json?page=2")
            .await;
        assert_eq!(
            (status, reply["error"].as_str()),
            (400, Some("InvalidParams"))
        );

        // The export: the same rows as JSON lines, filtered the same way.
        let response = app
            .request(
                &app.admin,
                Method::GET,
                "/api/zaffre/proxy_audit.jsonl?status=200",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-ndjson"));
        assert_eq!(response.headers()["x-zaffre-export-limit"], "100000");
        let text = response.text().await.unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert!(lines
            .iter()
            .all(|l| l["status"] == 200 && l["path"] == "/ok"));
        assert_eq!(lines[0], all[0]);

        // Bad filters are 400s naming the parameter; agents may not read the log.
        for (query, key) in [
            ("installation_id=abc", "installation_id"),
            ("status=700", "status"),
            ("refused=maybe", "refused"),
            ("since=last%20week", "since"),
        ] {
            for path in [
                "/api/zaffre/proxy_audit.json",
                "/api/zaffre/proxy_audit.jsonl",
            ] {
                let (status, reply) = app.get(&app.admin, &format!("{path}?{query}")).await;
                assert_eq!(status, 400, "{path}?{query}");
                assert_eq!(reply["error"], "InvalidParams");
                assert!(
                    reply["description"].as_str().unwrap().starts_with(key),
                    "{reply}"
                );
            }
        }
        for path in [
            "/api/zaffre/proxy_audit.json",
            "/api/zaffre/proxy_audit.jsonl",
        ] {
            let (status, _) = app.get(&app.agent, path).await;
            assert_eq!(status, 403, "{path}");
            let (status, _) = app.get(&app.foreign_admin, path).await;
            assert_eq!(
                status, 200,
                "another account's admin sees their own (empty) log"
            );
        }
        let (_, theirs) = app
            .get(&app.foreign_admin, "/api/zaffre/proxy_audit.json")
            .await;
        assert!(rows(&theirs).is_empty());
    })
    .await;
}

// ---------------------------------------------------------------- caching and the audit writer

#[tokio::test]
async fn apps_api_changes_apply_to_the_very_next_call() {
    on_each_engine(no_tweak, |app, upstream| async move {
        let id = install(&app).await;
        let installation = format!("/api/v2/apps/installations/{id}.json");
        let seen_token = |upstream: &Upstream| {
            upstream.requests().last().unwrap().headers["authorization"].clone()
        };
        let (status, _, text) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(seen_token(&upstream), format!("Bearer {SECRET}"));

        // A new secure value: the cached context is dropped by the write.
        let (status, body) = app
            .write(
                &app.admin,
                Method::PUT,
                &installation,
                &json!({"settings": {"api_token": "zaffre-canary-rotated"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, _, text) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(seen_token(&upstream), "Bearer zaffre-canary-rotated");

        // Disabled: refused at once, though the installation was cached enabled a moment ago.
        let (status, _) = app
            .write(
                &app.admin,
                Method::PUT,
                &installation,
                &json!({"enabled": false}),
            )
            .await;
        assert_eq!(status, 200);
        let calls = upstream.requests().len();
        let (status, _, text) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        assert_eq!(status, 403, "{text}");
        assert!(text.contains("installation_disabled"), "{text}");
        assert_eq!(upstream.requests().len(), calls);

        let (status, _) = app
            .write(
                &app.admin,
                Method::PUT,
                &installation,
                &json!({"enabled": true}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, _, text) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        assert_eq!(status, 200, "{text}");

        // Uninstalled: gone at once.
        let (status, _) = app
            .write(&app.admin, Method::DELETE, &installation, &json!({}))
            .await;
        assert_eq!(status, 204);
        let (status, _, text) = proxy(&app, id, secure_options(&upstream, "/ok")).await;
        assert_eq!(status, 404, "{text}");
        assert_eq!(upstream.requests().len(), calls + 1);
    })
    .await;
}

/// Every row of the account, counted through the store.
async fn stored_rows(app: &TestApp, installation: i64) -> usize {
    let filter = zaffre_store::ProxyAuditFilter {
        installation_id: Some(zaffre_domain::InstallationId(installation)),
        ..Default::default()
    };
    let (mut count, mut before) = (0, None);
    loop {
        let page = app
            .store
            .list_proxy_audit(app.account, &filter, before, 1000)
            .await
            .expect("list");
        count += page.items.len();
        if !page.has_more {
            return count;
        }
        before = page.items.last().map(|e| e.id);
    }
}

fn audit_row(installation: i64, n: usize) -> zaffre_store::NewProxyAudit {
    zaffre_store::NewProxyAudit {
        installation_id: zaffre_domain::InstallationId(installation),
        app_id: zaffre_domain::AppId(1),
        user_id: zaffre_domain::UserId(1),
        method: "GET".into(),
        scheme: "https".into(),
        host: format!("h{n}.test"),
        port: 443,
        path: "/".into(),
        status: Some(200),
        duration_ms: 1,
        request_bytes: 0,
        response_bytes: 2,
        secure_settings_used: vec![],
        refusal: None,
        retries: 0,
    }
}

#[tokio::test]
async fn the_audit_writer_loses_nothing_when_full_or_closed() {
    on_each_engine(no_tweak, |app, _upstream| async move {
        use zaffre_server::api::proxy::{AuditWriter, QUEUE_ROWS};
        let writer = AuditWriter::new(app.store.clone());
        // More rows than the queue holds, from many tasks at once: senders wait for room.
        let total = QUEUE_ROWS + 1000;
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let writer = writer.clone();
                let account = app.account;
                tokio::spawn(async move {
                    for n in (t..total).step_by(8) {
                        writer.record(account, audit_row(77, n)).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        writer.close().await;
        assert_eq!(stored_rows(&app, 77).await, total);
        // After closing, a row is written directly rather than queued for nobody.
        writer.record(app.account, audit_row(77, 0)).await;
        assert_eq!(stored_rows(&app, 77).await, total + 1);
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_writes_the_queued_audit_rows() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("zaffre.db").display());
    let store = zaffre_store::connect(&url).await.unwrap();
    let account = store.create_account("acme", "Acme").await.unwrap().id;
    let state = zaffre_server::AppState::with_proxy_setup(
        store.clone(),
        zaffre_server::Config::default(),
        ProxySetup::default(),
    )
    .expect("state");
    let writer = state.audit_writer.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stop = Arc::new(Notify::new());
    let signal = stop.clone();
    let server = tokio::spawn(zaffre_server::serve(listener, state, async move {
        signal.notified().await
    }));
    // Several batches' worth, all queued (the queue holds them) before the
    // signal: without the flush in serve, most would still be waiting when it returned.
    let queued = 3000;
    assert!(queued < zaffre_server::api::proxy::QUEUE_ROWS);
    for n in 0..queued {
        writer.record(account, audit_row(5, n)).await;
    }
    stop.notify_one();
    server.await.unwrap().unwrap();
    let mut count = 0;
    let mut before = None;
    loop {
        let page = store
            .list_proxy_audit(account, &Default::default(), before, 1000)
            .await
            .unwrap();
        count += page.items.len();
        if !page.has_more {
            break;
        }
        before = page.items.last().map(|e| e.id);
    }
    assert_eq!(
        count, queued,
        "every queued row is written before serve returns"
    );
}
