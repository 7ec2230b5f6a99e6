//! `zaffre dev` end to end, through its library entry point
//! (`zaffre_cli::dev::start`), on a temp copy of the `zaffre app new`
//! scaffold: real SQLite under the app's `.zaffre/`, real HTTP (and TLS),
//! real file watching.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast;
use zaffre_cli::dev::{self, settings, DevHost, DevOptions};
use zaffre_server::dev::DevEvent;

const SECRET: &str = "tok-3f9a-from-the-environment";
const PASSWORD: &str = "dev-admin-password-1";

/// A scaffolded app in a temp folder; `tweak` edits its manifest text.
fn scaffold(tmp: &Path, tweak: impl Fn(String) -> String) -> PathBuf {
    let dir = tmp.join("my-app");
    for (path, bytes) in zaffre_manifest::scaffold::new_app("Dev Helper") {
        let full = dir.join(&path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        let bytes = if path == "manifest.json" {
            tweak(String::from_utf8(bytes).unwrap()).into_bytes()
        } else {
            bytes
        };
        std::fs::write(full, bytes).unwrap();
    }
    dir
}

/// Options for tests: a free port, no terminal, a given environment, output captured.
fn options(
    app: &Path,
    env: &[(&str, &str)],
    flags: &[&str],
) -> (DevOptions, Arc<Mutex<Vec<String>>>) {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("ZAFFRE_ADMIN_PASSWORD".to_owned(), PASSWORD.to_owned())])
        .collect();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let opts = DevOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        settings: flags.iter().map(|s| s.to_string()).collect(),
        env: Arc::new(move |k| env.get(k).cloned()),
        interactive: false,
        out: Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned())),
        ..DevOptions::new(vec![app.to_owned()])
    };
    (opts, lines)
}

fn output(lines: &Arc<Mutex<Vec<String>>>) -> String {
    lines.lock().unwrap().join("\n")
}

/// An HTTP client that reaches `localhost` and the app origin at the host's address.
fn client(host: &DevHost) -> reqwest::Client {
    let (app_id, _, _) = host.apps[0];
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost", host.addr)
        .resolve(&format!("app-{app_id}.localhost"), host.addr);
    if let Some(ca) = &host.ca_pem {
        builder = builder
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

async fn admin_get(host: &DevHost, path: &str) -> (u16, Value) {
    let response = client(host)
        .get(format!("{}{path}", host.url))
        .basic_auth("admin@example.com", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn app_file(host: &DevHost, path: &str) -> (u16, String) {
    let (app_id, _, _) = host.apps[0];
    let scheme = if host.ca_pem.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!(
        "{scheme}://app-{app_id}.localhost:{}/{path}",
        host.addr.port()
    );
    let response = client(host).get(url).send().await.unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

/// The next dev event matching `want`; the timeout only stops a hung test.
async fn next_event(
    rx: &mut broadcast::Receiver<DevEvent>,
    want: impl Fn(&DevEvent) -> bool,
) -> DevEvent {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let event = rx.recv().await.expect("event stream");
            if want(&event) {
                return event;
            }
        }
    })
    .await
    .expect("no dev event arrived")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_installs_seals_reloads_and_signs_in() {
    let tmp = tempfile::tempdir().unwrap();
    let app = scaffold(tmp.path(), |m| m);
    let (opts, lines) = options(
        &app,
        &[("ZAFFRE_SETTING_API_TOKEN", SECRET)],
        &["greeting=Hi from a flag"],
    );
    let host = dev::start(opts).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        app.join(".zaffre/zaffre.db").is_file(),
        "dev database under .zaffre/"
    );
    let (app_id, installation_id, _) = host.apps[0];

    // The secure setting is sealed: the installation says it is set, never what it is.
    let (status, body) = admin_get(&host, "/api/v2/apps/installations.json").await;
    assert_eq!(status, 200, "{body}");
    let text = body.to_string();
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    let inst = body["installations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == installation_id.0)
        .unwrap()
        .clone();
    assert_eq!(inst["settings"]["greeting"], "Hi from a flag", "{inst}");
    assert_eq!(inst["secure_settings"]["api_token"], true, "{inst}");
    let printed = output(&lines);
    assert!(!printed.contains(SECRET), "secret printed: {printed}");
    assert!(printed.contains("api_token = [secure, set]"), "{printed}");
    assert!(printed.contains("loopback upstreams"), "{printed}");

    // The dev API, for the workspace.
    let (status, body) = admin_get(&host, "/api/zaffre/dev").await;
    assert_eq!(status, 200);
    assert_eq!(body["dev"], true);
    assert_eq!(body["loopback_upstreams"], true);
    assert_eq!(body["https"], false);
    assert_eq!(body["apps"][0]["app_id"], app_id.0);
    assert_eq!(body["apps"][0]["status"], "ok");
    assert_eq!(body["apps"][0]["version"], 1);

    // Live reload: an edited iframe page is served from the app origin with a new version.
    let (status, before) = app_file(&host, "assets/iframe.html").await;
    assert_eq!(status, 200);
    assert!(!before.contains("reloaded-marker-1"));
    let mut events = host.dev().subscribe();
    let page = app.join("assets/iframe.html");
    let edited = std::fs::read_to_string(&page)
        .unwrap()
        .replace("<body>", "<body><p>reloaded-marker-1</p>");
    std::fs::write(&page, edited).unwrap();
    let event = next_event(&mut events, |e| matches!(e, DevEvent::Reloaded { .. })).await;
    let DevEvent::Reloaded {
        app_id: id,
        version,
        changed,
    } = event
    else {
        unreachable!()
    };
    assert_eq!(id, app_id);
    assert_eq!(version, 2);
    assert!(
        changed.contains(&"assets/iframe.html".to_owned()),
        "{changed:?}"
    );
    let (_, after) = app_file(&host, "assets/iframe.html").await;
    assert!(after.contains("reloaded-marker-1"), "{after}");

    // A manifest that stops validating: app.invalid, the old files stay.
    let manifest = app.join("manifest.json");
    let good = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, good.replace("\"2.0\"", "\"9.9\"")).unwrap();
    let event = next_event(&mut events, |e| matches!(e, DevEvent::Invalid { .. })).await;
    let DevEvent::Invalid { findings, .. } = event else {
        unreachable!()
    };
    assert!(
        findings.iter().any(|f| f.key == "invalid_version"),
        "{findings:?}"
    );
    let (_, body) = admin_get(&host, "/api/zaffre/dev").await;
    assert_eq!(body["apps"][0]["status"], "invalid");
    assert_eq!(body["apps"][0]["version"], 2);
    let (status, still) = app_file(&host, "assets/iframe.html").await;
    assert_eq!(status, 200);
    assert!(still.contains("reloaded-marker-1"));
    assert!(output(&lines).contains("invalid_version"));

    // Fixed again: app.valid then app.reloaded, and a new parameter gets its default.
    std::fs::write(
        &manifest,
        good.replace(
            "\"parameters\": [",
            "\"parameters\": [\n    {\"name\": \"colour\", \"type\": \"text\", \"default\": \"blue\"},",
        ),
    )
    .unwrap();
    next_event(&mut events, |e| matches!(e, DevEvent::Valid { .. })).await;
    let event = next_event(&mut events, |e| matches!(e, DevEvent::Reloaded { .. })).await;
    assert!(
        matches!(event, DevEvent::Reloaded { version: 3, .. }),
        "{event:?}"
    );
    let (_, body) = admin_get(&host, "/api/v2/apps/installations.json").await;
    let inst = &body["installations"][0];
    assert_eq!(inst["settings"]["colour"], "blue", "{inst}");
    assert_eq!(inst["secure_settings"]["api_token"], true, "{inst}");

    // The sign-in link works exactly once and lands on the ticket.
    let next = host.landing_path();
    assert!(next.starts_with("/tickets/"), "{next}");
    let link = host.sign_in_url(&next);
    let response = client(&host).get(&link).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], next.as_str());
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let session = client(&host)
        .get(format!("{}/auth/session", host.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(session.status().as_u16(), 200);
    let session: Value = session.json().await.unwrap();
    assert_eq!(session["user"]["email"], "admin@example.com");
    let again = client(&host).get(&link).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 400);
    assert!(again.headers().get("set-cookie").is_none());
    host.shutdown().await.unwrap();

    // The dev database persists: a second start reuses the app and keeps the sealed secret.
    let (opts, _) = options(&app, &[], &[]);
    let host = dev::start(opts).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(host.apps[0].0, app_id);
    let (_, body) = admin_get(&host, "/api/v2/apps/installations.json").await;
    assert_eq!(body["installations"].as_array().unwrap().len(), 1);
    assert_eq!(
        body["installations"][0]["secure_settings"]["api_token"],
        true
    );
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn settings_precedence_is_file_then_env_then_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let app = scaffold(tmp.path(), |m| m);
    std::fs::write(
        app.join(settings::CONFIG_FILE),
        r#"{"parameters": {"greeting": "from file", "api_token": "file-token", "typo_name": 1}}"#,
    )
    .unwrap();
    let file = settings::read_config_file(&app).unwrap();
    let package = zaffre_manifest::Package::from_dir(&app).unwrap();
    let params = package.manifest().unwrap().parameters;
    let env = |k: &str| (k == "ZAFFRE_SETTING_API_TOKEN").then(|| "env-token".to_owned());
    let none = |_: &str| None;
    let no_flags: Vec<(String, String)> = vec![];
    let resolved = settings::resolve(&params, &file, &none, &no_flags, &|_| false);
    assert_eq!(resolved.values["greeting"], "from file");
    assert_eq!(resolved.values["api_token"], "file-token");
    assert_eq!(resolved.unknown_in_file, vec!["typo_name".to_owned()]);
    let resolved = settings::resolve(&params, &file, &env, &no_flags, &|_| false);
    assert_eq!(resolved.values["api_token"], "env-token");
    let flags = settings::parse_flags(&["api_token=flag-token".into()]).unwrap();
    let resolved = settings::resolve(&params, &file, &env, &flags, &|_| false);
    assert_eq!(resolved.values["api_token"], "flag-token");
    assert_eq!(resolved.values["greeting"], "from file");
    assert!(settings::parse_flags(&["no-equals-sign".into()]).is_err());

    // Starting warns about the unknown name and never prints a secure value.
    let (opts, lines) = options(&app, &[("ZAFFRE_SETTING_API_TOKEN", "env-token")], &[]);
    let host = dev::start(opts).await.unwrap_or_else(|e| panic!("{e:#}"));
    let printed = output(&lines);
    assert!(printed.contains("typo_name"), "{printed}");
    assert!(!printed.contains("env-token") && !printed.contains("file-token"));
    assert!(printed.contains("greeting = \"from file\""), "{printed}");
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_missing_required_setting_without_a_terminal_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let app = scaffold(tmp.path(), |m| {
        m.replace(
            "\"required\": false,\n      \"secure\": true",
            "\"required\": true,\n      \"secure\": true",
        )
    });
    assert!(std::fs::read_to_string(app.join("manifest.json"))
        .unwrap()
        .contains("\"required\": true"));
    let (opts, _) = options(&app, &[], &[]);
    let err = format!("{:#}", dev::start(opts).await.err().expect("must fail"));
    assert!(err.contains("api_token (secure)"), "{err}");
    assert!(err.contains("ZAFFRE_SETTING_API_TOKEN"), "{err}");
    assert!(err.contains("--setting api_token="), "{err}");

    // Supplied by flag, it starts.
    let (opts, _) = options(&app, &[], &["api_token=from-flag"]);
    let host = dev::start(opts).await.unwrap_or_else(|e| panic!("{e:#}"));
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_folders_config_files_and_busy_ports_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("not-an-app");
    std::fs::create_dir_all(&empty).unwrap();
    let (opts, _) = options(&empty, &[], &[]);
    let err = format!("{:#}", dev::start(opts).await.err().unwrap());
    assert!(
        err.contains("is not a ZAF app") && err.contains("manifest.json"),
        "{err}"
    );

    let (opts, _) = options(&tmp.path().join("missing"), &[], &[]);
    let err = format!("{:#}", dev::start(opts).await.err().unwrap());
    assert!(err.contains("does not exist"), "{err}");

    let app = scaffold(tmp.path(), |m| m);
    std::fs::write(app.join(settings::CONFIG_FILE), "{ not json").unwrap();
    let (opts, _) = options(&app, &[], &[]);
    let err = format!("{:#}", dev::start(opts).await.err().unwrap());
    assert!(
        err.contains("zcli.apps.config.json is not valid JSON"),
        "{err}"
    );
    std::fs::remove_file(app.join(settings::CONFIG_FILE)).unwrap();

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (mut opts, _) = options(&app, &[], &[]);
    opts.listen = Some(busy.local_addr().unwrap());
    let err = format!("{:#}", dev::start(opts).await.err().unwrap());
    assert!(
        err.contains("is in use") && err.contains("--listen"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_the_host_and_app_origins_with_the_local_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let app = scaffold(tmp.path(), |m| {
        m.replace("\"api.example.com\"", "\"localhost\"")
    });
    let ca_dir = tmp.path().join("ca");
    let ca = ca_dir.display().to_string();
    let (mut opts, lines) = options(
        &app,
        &[
            ("ZAFFRE_DEV_CA_DIR", ca.as_str()),
            ("ZAFFRE_SETTING_API_TOKEN", SECRET),
        ],
        &[],
    );
    opts.https = true;
    opts.watch = false;
    let host = dev::start(opts).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert!(host.url.starts_with("https://localhost:"), "{}", host.url);
    assert!(ca_dir.join("ca.pem").is_file());
    let printed = output(&lines);
    assert!(
        printed.contains("certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n zaffre-dev"),
        "{printed}"
    );

    let health = client(&host)
        .get(format!("{}/healthz", host.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let (status, page) = app_file(&host, "assets/iframe.html").await;
    assert_eq!(status, 200);
    assert!(page.contains("<title>Dev Helper</title>"), "{page}");

    // App origins are https too: the bridge's template and the sign-in cookie say so.
    let (_, origins) = admin_get(&host, "/api/zaffre/apps/origins.json").await;
    let template = origins["app_origin_template"].as_str().unwrap();
    assert!(
        template.starts_with("https://app-{id}.localhost:"),
        "{template}"
    );
    let link = host.sign_in_url("/");
    let response = client(&host).get(&link).send().await.unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");

    // Dev mode lets the proxy reach a loopback mock API (named `localhost`, as
    // developers write it), which receives the sealed secret.
    let mock = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock_port = mock.local_addr().unwrap().port();
    let received = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut conn, _) = mock.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nmock ok")
            .await
            .unwrap();
        String::from_utf8_lossy(&seen).into_owned()
    });
    let (_, installation_id, _) = host.apps[0];
    let reply = client(&host)
        .post(format!(
            "{}/api/zaffre/installations/{installation_id}/proxy",
            host.url
        ))
        .basic_auth("admin@example.com", Some(PASSWORD))
        .json(&serde_json::json!({"options": {
            "url": format!("http://localhost:{mock_port}/status"),
            "headers": {"Authorization": "Bearer {{setting.api_token}}"},
            "secure": true,
        }}))
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let body: Value = reply.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["body"], "mock ok", "{body}");
    assert!(!body.to_string().contains(SECRET));
    let request = received.await.unwrap();
    assert!(
        request.contains(&format!("Bearer {SECRET}")),
        "the mock got: {request}"
    );

    // A client that does not trust the CA is refused.
    let untrusting = reqwest::Client::builder()
        .resolve("localhost", host.addr)
        .build()
        .unwrap();
    assert!(untrusting
        .get(format!("{}/healthz", host.url))
        .send()
        .await
        .is_err());
    host.shutdown().await.unwrap();
}
