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

/// The scaffold app with `main.js` replaced, as the store takes it.
fn scaffold_app(main_js: &str) -> zaffre_domain::apps::NewApp {
    let mut files = zaffre_manifest::scaffold::new_app("Versioned");
    files.insert("assets/main.js".into(), main_js.as_bytes().to_vec());
    let package = zaffre_manifest::Package::from_files(files);
    zaffre_server::api::apps::new_app_from_package(package, None, None).expect("a valid app")
}

/// GET on an app origin: (status, cache-control, body).
async fn fetch_app_file(app: &TestApp, id: i64, path: &str) -> (u16, String, String) {
    let response = app
        .anonymous(Method::GET, path)
        .header(HOST, format!("app-{id}.localhost:{}", app.addr.port()))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, cache, response.text().await.unwrap())
}

/// The `assets_version` the workspace's installed list gives for the one app.
async fn installed_version(app: &TestApp) -> String {
    let (status, body) = app.get(&app.agent, "/api/zaffre/apps/installed.json").await;
    assert_eq!(status, 200, "{body}");
    let version = body["installations"][0]["assets_version"]
        .as_str()
        .expect("an assets_version")
        .to_owned();
    assert_eq!(version.len(), 16, "{version}");
    assert!(version.bytes().all(|b| b.is_ascii_hexdigit()), "{version}");
    version
}

#[tokio::test]
async fn versioned_app_paths_are_cached_for_good_and_change_with_each_version() {
    crate::common::for_each_engine(|app: TestApp| async move {
        const IMMUTABLE: &str = "public, max-age=31536000, immutable";
        let created = app
            .store
            .create_app(app.account, &scaffold_app("/* one */"))
            .await
            .unwrap();
        let id = created.id.0;
        let (status, body) = app
            .write(
                &app.admin,
                Method::POST,
                "/api/v2/apps/installations.json",
                &serde_json::json!({"app_id": id, "settings": {"name": "Versioned"}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let v1 = installed_version(&app).await;

        // Under the current version: the same files, kept for good; HTML is always revalidated.
        let (status, cache, body) =
            fetch_app_file(&app, id, &format!("/v/{v1}/assets/main.js")).await;
        assert_eq!(
            (status, cache.as_str(), body.as_str()),
            (200, IMMUTABLE, "/* one */")
        );
        let (status, cache, html) =
            fetch_app_file(&app, id, &format!("/v/{v1}/assets/iframe.html")).await;
        assert_eq!((status, cache.as_str()), (200, "no-cache"));
        assert!(
            html.contains(&zaffre_server::apps_host::sdk_url()),
            "{html}"
        );
        // Unversioned paths still work, revalidated.
        let (status, cache, body) = fetch_app_file(&app, id, "/assets/main.js").await;
        assert_eq!(
            (status, cache.as_str(), body.as_str()),
            (200, "no-cache", "/* one */")
        );
        let (_, _, plain_html) = fetch_app_file(&app, id, "/assets/iframe.html").await;
        assert_eq!(plain_html, html);

        // A new version of the files (an upload, a `zaffre dev` reload) changes the prefix.
        app.store
            .update_app(app.account, created.id, &scaffold_app("/* two */"))
            .await
            .unwrap();
        let v2 = installed_version(&app).await;
        assert_ne!(v1, v2);
        let (status, cache, body) =
            fetch_app_file(&app, id, &format!("/v/{v2}/assets/main.js")).await;
        assert_eq!(
            (status, cache.as_str(), body.as_str()),
            (200, IMMUTABLE, "/* two */")
        );
        // A stale prefix (a page loaded before the update) gets the current files, not kept.
        let (status, cache, body) =
            fetch_app_file(&app, id, &format!("/v/{v1}/assets/main.js")).await;
        assert_eq!(
            (status, cache.as_str(), body.as_str()),
            (200, "no-cache", "/* two */")
        );
        let (_, cache, body) = fetch_app_file(&app, id, "/assets/main.js").await;
        assert_eq!((cache.as_str(), body.as_str()), ("no-cache", "/* two */"));

        // Only `/v/<16 hex digits>/assets/…` is versioned, and it cannot escape the app's assets.
        for path in [
            format!("/v/{v2}/manifest.json"),
            format!("/v/{v2}/assets/missing.js"),
            format!("/v/{v2}/assets/%2e%2e/manifest.json"),
            format!("/v/{v2}/__zaffre/zaf_sdk.js"),
            format!("/v/{}g/assets/main.js", &v2[..15]),
            format!("/v/{}/assets/main.js", &v2[..15]),
            "/v/assets/main.js".to_owned(),
        ] {
            let (status, cache, _) = fetch_app_file(&app, id, &path).await;
            assert_eq!((status, cache.as_str()), (404, "no-cache"), "{path}");
        }
        // Another app's origin does not serve this app's files under its prefix.
        let (status, _, _) = fetch_app_file(&app, id + 1, &format!("/v/{v2}/assets/main.js")).await;
        assert_eq!(status, 404);
    })
    .await;
}
