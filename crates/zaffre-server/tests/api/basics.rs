//! Health, authentication methods, sessions and CSRF.

use reqwest::Method;
use serde_json::json;

use crate::common::{for_each_engine, send, TestApp};

#[tokio::test]
async fn healthz_answers_with_the_engine() {
    for_each_engine(|app: TestApp| async move {
        let (status, body) = send(app.anonymous(Method::GET, "/healthz")).await;
        assert_eq!(status, 200);
        assert_eq!(body["database"], app.engine);
    })
    .await;
}

#[tokio::test]
async fn me_works_with_token_and_password_and_refuses_bad_credentials() {
    for_each_engine(|app: TestApp| async move {
        let (status, body) = app.get(&app.agent, "/api/v2/users/me.json").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["email"], "agent@example.com");

        let with_password = app
            .anonymous(Method::GET, "/api/v2/users/me.json")
            .basic_auth(&app.admin.user.email, Some(&app.admin.password));
        let (status, body) = send(with_password).await;
        assert_eq!(status, 200);
        assert_eq!(body["user"]["role"], "admin");

        for (login, secret) in [
            (app.admin.user.email.clone(), "wrong".to_owned()),
            (
                format!("{}/token", app.admin.user.email),
                "wrong".to_owned(),
            ),
            // The agent's token presented with the admin's email.
            (
                format!("{}/token", app.admin.user.email),
                app.agent.token.clone(),
            ),
        ] {
            let (status, body) = send(
                app.anonymous(Method::GET, "/api/v2/users/me.json")
                    .basic_auth(login, Some(secret)),
            )
            .await;
            assert_eq!(status, 401);
            assert_eq!(body, json!({"error": "Couldn't authenticate you"}));
        }
    })
    .await;
}

#[tokio::test]
async fn browser_sessions_need_origin_and_csrf_token_for_writes() {
    for_each_engine(|app: TestApp| async move {
        let login = app
            .anonymous(Method::POST, "/auth/login")
            .json(&json!({"email": "agent@example.com", "password": app.agent.password}));
        let response = login.send().await.unwrap();
        assert_eq!(response.status(), 200);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let session: serde_json::Value = response.json().await.unwrap();
        let csrf = session["csrf_token"].as_str().unwrap().to_owned();
        let cookie_pair = cookie.split(';').next().unwrap().to_owned();

        let origin = app.base.clone();
        let with_cookie =
            |method: Method, path: &str| app.anonymous(method, path).header("cookie", &cookie_pair);
        let (status, _) = send(with_cookie(Method::GET, "/auth/session")).await;
        assert_eq!(status, 200);

        // Logout is a write: without the token or from an app's origin it is refused.
        let (status, body) =
            send(with_cookie(Method::POST, "/auth/logout").header("origin", &origin)).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("InvalidCSRF")));
        let foreign = format!("http://app-1.localhost:{}", app.addr.port());
        let (status, _) = send(
            with_cookie(Method::POST, "/auth/logout")
                .header("origin", foreign)
                .header("x-csrf-token", &csrf),
        )
        .await;
        assert_eq!(status, 403);
        let (status, _) = send(
            with_cookie(Method::POST, "/auth/logout")
                .header("origin", &origin)
                .header("x-csrf-token", &csrf),
        )
        .await;
        assert_eq!(status, 204);
        let (status, _) = send(with_cookie(Method::GET, "/auth/session")).await;
        assert_eq!(status, 401, "the session ended");
    })
    .await;
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s_and_workspace_paths_serve_the_page() {
    let app = TestApp::sqlite(|_| {}).await;
    let (status, body) = app.get(&app.agent, "/api/v2/nothing_here.json").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "RecordNotFound");
    let page = app
        .anonymous(Method::GET, "/tickets/1")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = TestApp::sqlite(|c| c.rate_limit_per_minute = 3).await;
    for remaining in ["2", "1", "0"] {
        let response = app
            .request(&app.agent, Method::GET, "/api/v2/users/me.json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-rate-limit"], "3");
        assert_eq!(response.headers()["x-rate-limit-remaining"], remaining);
    }
    let response = app
        .request(&app.agent, Method::GET, "/api/v2/users/me.json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    // Limits are per user: the admin is unaffected.
    let (status, _) = app.get(&app.admin, "/api/v2/users/me.json").await;
    assert_eq!(status, 200);
}
