//! App origins: requests to `app-<id>.localhost` reach only the app-asset
//! handler (never the API or the session), the SDK is served there with
//! hardened headers, and the workspace page may frame app origins only.

use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, SET_COOKIE};
use reqwest::Method;

use crate::common::TestApp;

fn app_host(app: &TestApp, id: u32) -> String {
    format!("app-{id}.localhost:{}", app.addr.port())
}

#[tokio::test]
async fn an_app_origin_never_reaches_the_api_or_the_session() {
    let app = TestApp::sqlite(|_| {}).await;
    let host = app_host(&app, 1);
    for path in [
        "/api/v2/tickets.json",
        "/auth/session",
        "/api/zaffre/apps/origins.json",
        "/",
        "/assets/app.js",
    ] {
        let response = app
            .anonymous(Method::GET, path)
            .basic_auth(
                format!("{}/token", app.admin.user.email),
                Some(&app.admin.token),
            )
            .header(HOST, &host)
            .header("cookie", "zaffre_session=anything")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers().get(SET_COOKIE).is_none());
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "text/plain; charset=utf-8",
            "{path} is answered by the app handler"
        );
        assert_eq!(response.text().await.unwrap(), "Not found");
    }
    let response = app
        .anonymous(Method::POST, "/api/v2/tickets.json")
        .basic_auth(
            format!("{}/token", app.admin.user.email),
            Some(&app.admin.token),
        )
        .header(HOST, &host)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
}

#[tokio::test]
async fn every_app_origin_serves_the_zaffre_sdk() {
    let app = TestApp::sqlite(|_| {}).await;
    let port = app.addr.port();
    let response = app
        .anonymous(Method::GET, "/__zaffre/zaf_sdk.js")
        .header(HOST, app_host(&app, 42))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers().clone();
    assert_eq!(h[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.get(SET_COOKIE).is_none());
    let csp = h[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert!(
        csp.ends_with(&format!(
            "frame-ancestors http://localhost:{port} http://127.0.0.1:{port}"
        )),
        "{csp}"
    );
    let body = response.text().await.unwrap();
    assert!(body.contains("ZAFClient"));
    assert!(!body.contains("\n//"), "comment lines are not served");
    // The bare path is revalidated; the versioned address app pages load is cached for good.
    assert_eq!(h["cache-control"], "no-cache");
    let url = zaffre_server::apps_host::sdk_url();
    let versioned = app
        .anonymous(Method::GET, &url)
        .header(HOST, app_host(&app, 42))
        .send()
        .await
        .unwrap();
    assert_eq!(versioned.status(), 200);
    assert_eq!(
        versioned.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(versioned.text().await.unwrap(), body);
    let stale = app
        .anonymous(Method::GET, "/__zaffre/zaf_sdk.js?v=0000000000000000")
        .header(HOST, app_host(&app, 42))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.headers()["cache-control"], "no-cache");

    // On the workspace's own host, the path is not special.
    let body = app
        .anonymous(Method::GET, "/__zaffre/zaf_sdk.js")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("ZAFClient"));
}

#[tokio::test]
async fn escaping_paths_and_files_outside_assets_are_not_found() {
    let app = TestApp::sqlite(|_| {}).await;
    for path in [
        "/manifest.json",
        "/assets/%2e%2e/manifest.json",
        "/assets//x.html",
        "/assets/x%00.html",
    ] {
        let response = app
            .anonymous(Method::GET, path)
            .header(HOST, app_host(&app, 1))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_workspace_frames_app_origins_only_and_is_never_framed() {
    let app = TestApp::sqlite(|_| {}).await;
    let port = app.addr.port();
    let response = app
        .anonymous(Method::GET, "/tickets/1")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("frame-src http://*.localhost:{port};")),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers()["x-frame-options"], "DENY");

    let (status, body) = app.get(&app.agent, "/api/zaffre/apps/origins.json").await;
    assert_eq!(status, 200);
    assert_eq!(body["sdk_path"], "/__zaffre/zaf_sdk.js");
    assert!(body["app_origin_template"]
        .as_str()
        .unwrap()
        .starts_with("http://app-{id}.localhost"));
    let (status, _) =
        crate::common::send(app.anonymous(Method::GET, "/api/zaffre/apps/origins.json")).await;
    assert_eq!(status, 401);
}
