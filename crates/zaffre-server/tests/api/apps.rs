//! Apps and installations: upload → create → install with settings, the
//! settings rules, requirements.json ticket fields, bad input, and the leak
//! test: a secure setting's value must appear in no response, no header, no
//! log line and nowhere in the database except encrypted.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{for_each_engine, send, Actor, TestApp};

// ---------------------------------------------------------------- fixtures

/// A valid app with a required plain setting, a required secure one, a
/// checkbox and a number with defaults, and a requirements.json ticket field.
fn app_files(name: &str) -> Vec<(String, Vec<u8>)> {
    let mut files = zaffre_manifest::scaffold::new_app(name);
    let manifest = json!({
        "name": name,
        "author": {"name": "Tests", "email": "tests@example.com", "url": "https://example.com"},
        "defaultLocale": "en",
        "private": true,
        "location": {"support": {"ticket_sidebar": {"url": "assets/iframe.html", "flexible": true}}},
        "version": "1.2.3",
        "frameworkVersion": "2.0",
        "domainWhitelist": ["api.example.com"],
        "parameters": [
            {"name": "subdomain", "type": "text", "required": true},
            {"name": "api_token", "type": "text", "secure": true, "required": true, "scopes": ["header"]},
            {"name": "verbose", "type": "checkbox", "default": false},
            {"name": "limit", "type": "number", "default": 10},
            {"name": "home", "type": "url"}
        ]
    });
    files.insert(
        "manifest.json".into(),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    );
    files.insert(
        "requirements.json".into(),
        serde_json::to_vec(&json!({"ticket_fields": {
            "support_level": {"type": "text", "title": "Support level (from an app)"}
        }}))
        .unwrap(),
    );
    files.into_iter().collect()
}

fn zip_of(files: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    zaffre_manifest::write_zip(&zaffre_manifest::Package::from_files(files)).expect("zip")
}

/// Every response seen, as text (status line, headers, body), for the leak scan.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, text: String) {
        self.0.lock().unwrap().push(text);
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

async fn call(seen: &Seen, request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let headers = format!("{:?}", response.headers());
    let text = response.text().await.expect("body");
    seen.push(format!("{status} {headers} {text}"));
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn upload(app: &TestApp, seen: &Seen, who: &Actor, zip: Vec<u8>) -> (u16, Value) {
    let form = Form::new().part(
        "uploaded_data",
        Part::bytes(zip)
            .file_name("app.zip")
            .mime_str("application/zip")
            .unwrap(),
    );
    call(
        seen,
        app.request(who, Method::POST, "/api/v2/apps/uploads.json")
            .multipart(form),
    )
    .await
}

async fn json_call(
    app: &TestApp,
    seen: &Seen,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = app.request(&app.admin, method, path);
    if let Some(b) = body {
        r = r.json(&b);
    }
    call(seen, r).await
}

/// Uploads and creates an app; returns its id.
async fn create_app(app: &TestApp, seen: &Seen, name: &str) -> i64 {
    let (status, body) = upload(app, seen, &app.admin, zip_of(app_files(name))).await;
    assert_eq!(status, 201, "{body}");
    let upload_id = body["id"].as_i64().expect("upload id");
    let (status, body) = json_call(
        app,
        seen,
        Method::POST,
        "/api/v2/apps.json",
        Some(json!({"name": name, "short_description": "Made by a test", "upload_id": upload_id})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let job = body["job_id"].as_str().expect("job id").to_owned();
    let (status, body) = json_call(
        app,
        seen,
        Method::GET,
        &format!("/api/v2/apps/job_statuses/{job}.json"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "completed");
    body["app_id"].as_i64().expect("app id")
}

// ---------------------------------------------------------------- log capture

/// Every log line of the test process, at trace level for zaffre (the proxy
/// included; `proxy.rs` scans it too), sqlx and tower-http, in one buffer
/// (installed once; other tests' lines land there
/// too, which only makes the scan stricter).
pub(crate) fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "zaffre_server=trace,zaffre_proxy=trace,zaffre_store=trace,zaffre_domain=trace,zaffre_manifest=trace,sqlx=trace,tower_http=trace",
            ))
            .with_writer(move || BufferWriter(writer.clone()))
            .with_ansi(false)
            .finish();
        // Another test binary module may have set one; then ours is not
        // installed and the scan below would be vacuous, so fail loudly.
        tracing::subscriber::set_global_default(subscriber)
            .expect("the leak test installs the process's log subscriber");
        buffer
    })
    .clone()
}

struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn upload_create_install_update_and_uninstall() {
    for_each_engine(|app: TestApp| async move {
        let seen = Seen::default();
        let app_id = create_app(&app, &seen, "Round Trip").await;

        let (status, shown) =
            json_call(&app, &seen, Method::GET, &format!("/api/v2/apps/{app_id}.json"), None).await;
        assert_eq!(status, 200);
        assert_eq!(shown["name"], "Round Trip");
        assert_eq!(shown["version"], "1.2.3");
        assert_eq!(shown["short_description"], "Made by a test");
        assert_eq!(shown["locations"], json!([3]));
        assert_eq!(shown["parameters"][1]["name"], "api_token");
        assert_eq!(shown["parameters"][1]["secure"], true);
        assert_eq!(shown["parameters"][2]["kind"], "checkbox");
        let (status, list) = json_call(&app, &seen, Method::GET, "/api/v2/apps.json", None).await;
        assert_eq!(status, 200);
        assert_eq!(list["apps"].as_array().unwrap().len(), 1);

        // Files are in the database, for every node.
        let file = app
            .store
            .get_app_file(app.account, zaffre_domain::AppId(app_id), "assets/iframe.html")
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&file).contains("Round Trip"));

        let fields_before = app.store.list_ticket_fields(app.account).await.unwrap().len();
        let (status, inst) = json_call(
            &app,
            &seen,
            Method::POST,
            "/api/v2/apps/installations.json",
            Some(json!({"app_id": app_id, "settings": {"name": "Mine", "subdomain": "acme", "api_token": "tok-123", "limit": "25"}})),
        )
        .await;
        assert_eq!(status, 201, "{inst}");
        let id = inst["id"].as_i64().unwrap();
        assert_eq!(inst["enabled"], true);
        assert_eq!(
            inst["settings"],
            json!({"name": "Mine", "title": "Mine", "subdomain": "acme", "api_token": null, "limit": 25, "verbose": false})
        );
        assert_eq!(inst["secure_settings"], json!({"api_token": true}));
        let fields = app.store.list_ticket_fields(app.account).await.unwrap();
        assert_eq!(fields.len(), fields_before + 1, "the requirements' ticket field");
        let (status, reqs) = json_call(
            &app,
            &seen,
            Method::GET,
            &format!("/api/v2/apps/installations/{id}/requirements.json"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(reqs["requirements"][0]["identifier"], "support_level");

        // Edit: a plain value, disable, and a round trip of what was read
        // (secure null) keeps the secret.
        let mut settings = inst["settings"].clone();
        settings["subdomain"] = json!("beta");
        let (status, updated) = json_call(
            &app,
            &seen,
            Method::PUT,
            &format!("/api/v2/apps/installations/{id}.json"),
            Some(json!({"settings": settings, "enabled": false})),
        )
        .await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["settings"]["subdomain"], "beta");
        assert_eq!(updated["enabled"], false);
        assert_eq!(updated["secure_settings"], json!({"api_token": true}));
        let sealed = app
            .store
            .get_installation_secrets(app.account, zaffre_domain::InstallationId(id))
            .await
            .unwrap();
        assert_eq!(sealed.len(), 1);

        // The installed list (any staff) has enabled installations only.
        let (status, installed) = send(app.request(&app.agent, Method::GET, "/api/zaffre/apps/installed.json")).await;
        assert_eq!(status, 200);
        assert_eq!(installed["installations"], json!([]));
        json_call(&app, &seen, Method::PUT, &format!("/api/v2/apps/installations/{id}.json"), Some(json!({"enabled": true}))).await;
        let (_, installed) = send(app.request(&app.agent, Method::GET, "/api/zaffre/apps/installed.json")).await;
        let one = &installed["installations"][0];
        assert_eq!(one["app_name"], "Round Trip");
        assert_eq!(one["locations"][0]["url"], "assets/iframe.html");
        assert!(one["settings"].get("api_token").is_none(), "{one}");

        // singleInstall is not set: a second installation is fine.
        let (status, second) = json_call(&app, &seen, Method::POST, "/api/v2/apps/installations.json",
            Some(json!({"app_id": app_id, "settings": {"subdomain": "b", "api_token": "t"}}))).await;
        assert_eq!(status, 201, "{second}");
        assert_eq!(second["settings"]["name"], "Round Trip", "name defaults to the app's");

        // Uninstall removes the ticket field it made.
        let (status, _) = json_call(&app, &seen, Method::DELETE, &format!("/api/v2/apps/installations/{id}.json"), None).await;
        assert_eq!(status, 204);
        let (status, _) = json_call(&app, &seen, Method::GET, &format!("/api/v2/apps/installations/{id}.json"), None).await;
        assert_eq!(status, 404);
        let after = app.store.list_ticket_fields(app.account).await.unwrap();
        assert_eq!(after.len(), fields_before + 1, "one installation (and field) is left");
        // Deleting the app takes the other installation and its field.
        let (status, _) = json_call(&app, &seen, Method::DELETE, &format!("/api/v2/apps/{app_id}.json"), None).await;
        assert_eq!(status, 204);
        assert_eq!(app.store.list_ticket_fields(app.account).await.unwrap().len(), fields_before);
        let (_, list) = json_call(&app, &seen, Method::GET, "/api/v2/apps/installations.json", None).await;
        assert_eq!(list["installations"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn bad_packages_and_bad_settings_are_4xx_and_write_nothing() {
    for_each_engine(|app: TestApp| async move {
        let seen = Seen::default();
        // A package with errors: every finding, nothing stored.
        let mut files = app_files("Broken");
        for (path, bytes) in &mut files {
            if path == "manifest.json" {
                *bytes = br#"{"name": "Broken", "author": {"name": "A", "email": "a@b.c"}, "defaultLocale": "en",
                    "location": {"support": {"ticket_sidebar": "assets/missing.html"}}, "frameworkVersion": "2.0",
                    "parameters": [{"name": "token", "secure": true, "default": "x"}]}"#.to_vec();
            }
        }
        let (status, body) = upload(&app, &seen, &app.admin, zip_of(files)).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"], "InvalidPackage");
        let findings = body["findings"].as_array().unwrap();
        assert!(findings.iter().any(|f| f["key"] == "invalid_location_uri" && f["file"] == "manifest.json"), "{body}");
        assert!(findings.iter().any(|f| f["key"] == "secure_parameter_with_default"), "{body}");
        // Not a zip, an empty body, JSON instead of multipart, no field.
        let (status, body) = upload(&app, &seen, &app.admin, b"not a zip at all".to_vec()).await;
        assert_eq!((status, body["findings"][0]["key"].clone()), (422, json!("zip_invalid")));
        let (status, _) = json_call(&app, &seen, Method::POST, "/api/v2/apps/uploads.json", Some(json!({}))).await;
        assert_eq!(status, 400);
        let (status, _) = call(&seen, app.request(&app.admin, Method::POST, "/api/v2/apps/uploads.json")
            .header("content-type", "multipart/form-data; boundary=x").body("garbage")).await;
        assert_eq!(status, 400);
        let form = Form::new().text("other", "x");
        let (status, _) = call(&seen, app.request(&app.admin, Method::POST, "/api/v2/apps/uploads.json").multipart(form)).await;
        assert_eq!(status, 400);
        // Agents may not upload.
        let (status, _) = upload(&app, &seen, &app.agent, zip_of(app_files("Nope"))).await;
        assert_eq!(status, 403);
        // An unknown upload.
        let (status, body) = json_call(&app, &seen, Method::POST, "/api/v2/apps.json", Some(json!({"upload_id": 999_999}))).await;
        assert_eq!(status, 422, "{body}");
        assert!(app.store.list_apps(app.account).await.unwrap().is_empty());

        let app_id = create_app(&app, &seen, "Settings").await;
        let fields_before = app.store.list_ticket_fields(app.account).await.unwrap().len();
        for (settings, attribute) in [
            (json!({"api_token": "t"}), "settings.subdomain"),
            (json!({"subdomain": "a"}), "settings.api_token"),
            (json!({"subdomain": "a", "api_token": "t", "nope": 1}), "settings.nope"),
            (json!({"subdomain": "a", "api_token": "t", "limit": "lots"}), "settings.limit"),
            (json!({"subdomain": "a", "api_token": "t", "verbose": 3}), "settings.verbose"),
            (json!({"subdomain": "a", "api_token": "t", "home": "javascript:alert(1)"}), "settings.home"),
            (json!({"subdomain": ["a"], "api_token": "t"}), "settings.subdomain"),
            (json!({"subdomain": "a", "api_token": "t".repeat(70_000)}), "settings.api_token"),
        ] {
            let (status, body) = json_call(&app, &seen, Method::POST, "/api/v2/apps/installations.json",
                Some(json!({"app_id": app_id, "settings": settings}))).await;
            assert_eq!(status, 422, "{attribute}: {body}");
            assert!(body["details"].get(attribute).is_some(), "{attribute}: {body}");
        }
        for body in [json!({"app_id": "x"}), json!({"app_id": 99_999, "settings": {}}), json!({"app_id": app_id, "settings": 5}), json!({"app_id": app_id, "enabled": "yes"})] {
            let (status, answer) = json_call(&app, &seen, Method::POST, "/api/v2/apps/installations.json", Some(body)).await;
            assert_eq!(status, 422, "{answer}");
        }
        let (status, _) = json_call(&app, &seen, Method::POST, "/api/v2/apps/installations.json", Some(json!([1, 2]))).await;
        assert_eq!(status, 400);
        assert!(app.store.list_installations(app.account, None).await.unwrap().is_empty());
        assert_eq!(app.store.list_ticket_fields(app.account).await.unwrap().len(), fields_before);

        // Another account cannot see or install the app.
        let (status, _) = send(app.request(&app.foreign_admin, Method::GET, &format!("/api/v2/apps/{app_id}.json"))).await;
        assert_eq!(status, 404);
        let (status, _) = send(app.request(&app.foreign_admin, Method::POST, "/api/v2/apps/installations.json")
            .json(&json!({"app_id": app_id, "settings": {"subdomain": "a", "api_token": "t"}}))).await;
        assert_eq!(status, 422);
    })
    .await;
}

#[tokio::test]
async fn a_single_install_app_installs_once() {
    let app = TestApp::sqlite(|_| {}).await;
    let seen = Seen::default();
    let mut files = app_files("Once");
    for (path, bytes) in &mut files {
        if path == "manifest.json" {
            let mut m: Value = serde_json::from_slice(bytes).unwrap();
            m["singleInstall"] = json!(true);
            *bytes = serde_json::to_vec(&m).unwrap();
        }
    }
    let (_, body) = upload(&app, &seen, &app.admin, zip_of(files)).await;
    let (_, job) = json_call(
        &app,
        &seen,
        Method::POST,
        "/api/v2/apps.json",
        Some(json!({"upload_id": body["id"]})),
    )
    .await;
    let job = job["job_id"].as_str().unwrap().to_owned();
    let (_, status) = json_call(
        &app,
        &seen,
        Method::GET,
        &format!("/api/v2/apps/job_statuses/{job}.json"),
        None,
    )
    .await;
    let app_id = status["app_id"].as_i64().unwrap();
    let install = json!({"app_id": app_id, "settings": {"subdomain": "a", "api_token": "t"}});
    let (first, _) = json_call(
        &app,
        &seen,
        Method::POST,
        "/api/v2/apps/installations.json",
        Some(install.clone()),
    )
    .await;
    let (second, body) = json_call(
        &app,
        &seen,
        Method::POST,
        "/api/v2/apps/installations.json",
        Some(install),
    )
    .await;
    assert_eq!((first, second), (201, 422), "{body}");
}

/// The Done-when test: a recognisable secure value goes through upload,
/// install, update, list, show and errors; it must appear in no response,
/// header or log line, and in the database only encrypted.
#[tokio::test]
async fn a_secure_value_never_leaves_the_server_in_plain_text() {
    let logs = captured_logs();
    for_each_engine(|app: TestApp| {
        let logs = logs.clone();
        async move {
            const SECRET: &str = "ZAFFRE-LEAK-CANARY-7f3a9c1e";
            const SECRET2: &str = "ZAFFRE-LEAK-CANARY-SECOND-55b2";
            let seen = Seen::default();
            let app_id = create_app(&app, &seen, "Leak Test").await;
            let (status, inst) = json_call(&app, &seen, Method::POST, "/api/v2/apps/installations.json",
                Some(json!({"app_id": app_id, "settings": {"subdomain": "plainvalue-acme", "api_token": SECRET}}))).await;
            assert_eq!(status, 201, "{inst}");
            let id = inst["id"].as_i64().unwrap();
            let path = format!("/api/v2/apps/installations/{id}.json");
            // Updates: plain only, then a new secret, then a round trip of what was read.
            json_call(&app, &seen, Method::PUT, &path, Some(json!({"settings": {"subdomain": "plainvalue-beta"}}))).await;
            let (status, _) = json_call(&app, &seen, Method::PUT, &path, Some(json!({"settings": {"api_token": SECRET2}}))).await;
            assert_eq!(status, 200);
            let (_, read) = json_call(&app, &seen, Method::GET, &path, None).await;
            json_call(&app, &seen, Method::PUT, &path, Some(json!({"settings": read["settings"].clone()}))).await;
            // Errors that carry the secrets in their requests.
            for settings in [
                json!({"api_token": format!("{SECRET}{}", "x".repeat(70_000))}),
                json!({"api_token": [SECRET]}),
                json!({"api_token": {"v": SECRET}}),
                json!({"api_token": SECRET, "nope": SECRET}),
                json!({"api_token": SECRET, "limit": SECRET}),
                json!({"api_token": SECRET, "home": SECRET}),
            ] {
                let (status, body) = json_call(&app, &seen, Method::PUT, &path, Some(json!({"settings": settings}))).await;
                assert_eq!(status, 422, "{body}");
            }
            let (status, _) = json_call(&app, &seen, Method::POST, "/api/v2/apps/installations.json",
                Some(json!({"app_id": app_id, "settings": {"api_token": SECRET, "limit": SECRET}}))).await;
            assert_eq!(status, 422);
            // Reads of everything.
            for p in [
                "/api/v2/apps.json".to_owned(),
                "/api/v2/apps/owned.json".to_owned(),
                format!("/api/v2/apps/{app_id}.json"),
                "/api/v2/apps/installations.json".to_owned(),
                path.clone(),
                format!("/api/v2/apps/installations/{id}/requirements.json"),
                "/api/zaffre/apps/installed.json".to_owned(),
                "/api/openapi.json".to_owned(),
            ] {
                let (status, _) = json_call(&app, &seen, Method::GET, &p, None).await;
                assert_eq!(status, 200, "{p}");
            }
            // The value is really stored: it decrypts to the last one written.
            let sealed = app.store.get_installation_secrets(app.account, zaffre_domain::InstallationId(id)).await.unwrap();
            assert_eq!(sealed.len(), 1);

            // 1. Responses and headers.
            let responses = seen.all();
            assert!(responses.len() > 20);
            for r in &responses {
                for s in [SECRET, SECRET2] {
                    assert!(!r.contains(s), "a response carries the secret: {}", &r[..r.len().min(300)]);
                }
            }
            assert!(responses.iter().any(|r| r.contains("plainvalue-beta")), "the scan sees plain values");

            // 2. Log lines (the subscriber writes synchronously).
            let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
            assert!(text.contains("app installed"), "logs were captured");
            for s in [SECRET, SECRET2] {
                assert!(!text.contains(s), "a log line carries the secret");
            }

            // 3. The database.
            match app.engine {
                "sqlite" => {
                    let path = app.database_url.trim_start_matches("sqlite://").to_owned();
                    let mut bytes = Vec::new();
                    for suffix in ["", "-wal", "-shm"] {
                        if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
                            bytes.extend(b);
                        }
                    }
                    assert!(bytes.windows(15).any(|w| w == b"plainvalue-beta"), "the scan sees plain values");
                    for s in [SECRET, SECRET2] {
                        assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "the database file holds the secret");
                        let short = &s.as_bytes()[..12];
                        assert!(!bytes.windows(12).any(|w| w == short), "the database holds part of the secret");
                    }
                }
                _ => {
                    use sqlx::{Connection, Row};
                    let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
                    let columns = sqlx::query(
                        "SELECT table_name, column_name, data_type FROM information_schema.columns \
                         WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'bytea', 'json', 'jsonb')",
                    )
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                    assert!(!columns.is_empty());
                    let mut saw_plain = false;
                    for c in columns {
                        let table: String = c.get(0);
                        let column: String = c.get(1);
                        let kind: String = c.get(2);
                        let sql = if kind == "bytea" {
                            format!("SELECT COUNT(*) FROM \"{table}\" WHERE position(convert_to($1, 'UTF8') in \"{column}\") > 0")
                        } else {
                            format!("SELECT COUNT(*) FROM \"{table}\" WHERE position($1 in \"{column}\"::text) > 0")
                        };
                        for s in [SECRET, SECRET2, "plainvalue-beta"] {
                            let n: i64 = sqlx::query_scalar(&sql).bind(s).fetch_one(&mut conn).await.unwrap();
                            if s == "plainvalue-beta" {
                                saw_plain |= n > 0;
                            } else {
                                assert_eq!(n, 0, "{table}.{column} holds the secret");
                            }
                        }
                    }
                    assert!(saw_plain, "the scan sees plain values");
                }
            }
        }
    })
    .await;
}

#[tokio::test]
async fn oversized_uploads_and_zip_bombs_are_refused() {
    let app = TestApp::sqlite(|c| c.max_upload_bytes = 64 * 1024).await;
    let seen = Seen::default();
    // Over max_upload_bytes: 413 before anything is parsed.
    let (status, body) = upload(&app, &seen, &app.admin, vec![0u8; 100 * 1024]).await;
    assert_eq!(status, 413, "{body}");
    // A small zip that inflates 1000×: refused by the package reader.
    let mut files = app_files("Bomb");
    files.push(("assets/zeros.bin.txt".into(), vec![0u8; 4 * 1024 * 1024]));
    let zip = zip_of(files);
    assert!(zip.len() < 64 * 1024);
    let (status, body) = upload(&app, &seen, &app.admin, zip).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["findings"][0]["key"], "zip_bomb", "{body}");
    assert!(app.store.list_apps(app.account).await.unwrap().is_empty());
}
