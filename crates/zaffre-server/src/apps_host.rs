//! App origins: where installed ZAF apps' files are served, and which frames
//! the workspace may show.
//!
//! Every app gets an origin of its own, `app-<id>.<apps domain>` with zaffre's
//! scheme and port (`app-<id>.localhost:<port>` when no apps domain is
//! configured; browsers resolve `*.localhost` to loopback). The origin is what
//! isolates an app: it cannot read the workspace's DOM, cookies or storage, nor
//! another app's. So a request whose Host names an app origin is answered here
//! and only here ([`app_origin_gate`] runs before every other route): it never
//! reaches the API or the session machinery, and cookies it carries are
//! ignored.
//!
//! On an app origin zaffre serves the app's `assets/` files from the store,
//! and its own ZAF SDK at [`SDK_PATH`]. HTML files get the Zendesk SDK's CDN
//! addresses rewritten to that path, so unmodified apps work offline and
//! against this host.
//!
//! The same files are also served under a versioned prefix,
//! `/v/<assets version>/assets/…` ([`assets_version`], derived from the
//! moment the app's files were last replaced). The workspace builds iframe
//! URLs under it, so every relative reference in an app page resolves under
//! it too, and those answers are cached for good (`immutable`): an app's
//! scripts and styles come from the browser's cache on the next registration
//! without a revalidation round trip. A new version (an upload, a `zaffre dev`
//! reload) gets a new prefix. Unversioned `/assets/…` paths keep working,
//! revalidated on every load, for apps that build absolute paths themselves.

use std::borrow::Cow;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// Where zaffre's ZAF SDK is served on every app origin.
pub const SDK_PATH: &str = "/__zaffre/zaf_sdk.js";

/// zaffre's SDK (web/sdk), embedded like the workspace files.
#[derive(RustEmbed)]
#[folder = "../../web/sdk"]
struct SdkFiles;

/// The addresses Zendesk documents for its SDK, without scheme and without
/// the `.min`/`.js` ending; all of them are rewritten to [`SDK_PATH`].
const ZENDESK_SDK_URLS: [&str; 2] = [
    "//assets.zendesk.com/apps/sdk/2.0/zaf_sdk",
    "//static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk",
];

/// Where versioned app paths start: `/v/<assets version>/assets/…`.
const VERSIONED_PREFIX: &str = "/v/";

/// The version of an app's files that its versioned paths name: a hash of
/// the moment they were last replaced (every upload of a new version and every
/// `zaffre dev` reload stores them anew; timestamps are microseconds and only
/// move forward), so it changes with the files and never comes back.
pub fn assets_version(app: &zaffre_domain::apps::App) -> String {
    let stamp = format!("{}:{}", app.id.0, app.updated_at.timestamp_micros());
    hex::encode(&Sha256::digest(stamp.as_bytes())[..8])
}

/// `/v/<version>/assets/…` → (`version`, `/assets/…`); None for any other path.
fn split_versioned(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(VERSIONED_PREFIX)?;
    let (version, tail) = rest.split_once('/')?;
    let ok = version.len() == 16
        && version
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let path = &path[VERSIONED_PREFIX.len() + version.len()..];
    (ok && tail.starts_with("assets/")).then_some((version, path))
}

/// Routes of the authenticated API that the workspace's app bridge needs.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/zaffre/apps/origins.json", get(origins))
}

/// `GET /api/zaffre/apps/origins.json`: how the bridge builds iframe URLs.
/// The app origin depends on the Host the workspace was reached by (its
/// port), so the browser asks rather than guesses.
async fn origins(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    // Apps run in the agent workspace only.
    caller.require_staff()?;
    let host = request_host(&headers).unwrap_or_default();
    Ok(Json(serde_json::json!({
        "app_origin_template": app_origin(&state.config, &host, "{id}"),
        "sdk_path": SDK_PATH,
    })))
}

/// The Host a request was made to (HTTP/1.1 Host header).
fn request_host(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
}

/// Splits `name[:port]` (IPv6 literals in brackets keep their colons).
fn split_host(host: &str) -> (&str, Option<&str>) {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((_, tail)) => {
                let name_len = host.len() - tail.len();
                (&host[..name_len], tail.strip_prefix(':'))
            }
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    }
}

/// The domain app origins live under: the configured one, else `localhost`.
fn apps_domain(config: &Config) -> &str {
    if config.apps_domain.is_empty() {
        "localhost"
    } else {
        &config.apps_domain
    }
}

/// The app a Host header addresses, when it is an app origin: exactly
/// `app-<id>.<apps domain>` with a canonical positive id, any port.
pub fn app_id_for_host(config: &Config, host: &str) -> Option<i64> {
    let (name, _) = split_host(host);
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let label = name.strip_suffix(apps_domain(config))?.strip_suffix('.')?;
    let digits = label.strip_prefix("app-")?;
    if digits.is_empty()
        || digits.len() > 18
        || digits.starts_with('0')
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok()
}

/// `scheme://` and `:port` of the workspace as its users reach it: from
/// `public_url` when configured, else http and the request's port.
fn scheme_and_port(config: &Config, request_host: &str) -> (&'static str, String) {
    if let Ok(url) = url::Url::parse(&config.public_url) {
        let scheme = if url.scheme() == "https" {
            "https"
        } else {
            "http"
        };
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        return (scheme, port);
    }
    let port = split_host(request_host)
        .1
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    ("http", port)
}

/// The origin of app `id` (a number, or a placeholder such as `{id}`) for a
/// workspace reached through `request_host`.
pub fn app_origin(config: &Config, request_host: &str, id: &str) -> String {
    let (scheme, port) = scheme_and_port(config, request_host);
    format!("{scheme}://app-{id}.{}{port}", apps_domain(config))
}

/// The workspace page's Content-Security-Policy for a request to `host`.
///
/// `frame-src` names the apps domain with a wildcard. Under a dedicated
/// apps domain that is exactly the app origins. On localhost it also covers
/// `<account>.localhost` workspaces on the same port, which all refuse to be
/// framed (`frame-ancestors 'none'`), so in effect only app origins can be
/// shown. A list of installed apps would break modals and apps installed
/// while the page is open.
///
/// `connect-src` allows any https origin (and http ones when the workspace
/// itself is plain http, as in development): `client.request({cors: true})`
/// is a direct fetch from this page to the app's chosen service.
pub fn workspace_csp(config: &Config, request_host: &str) -> String {
    let frames = app_origin(config, request_host, "*").replace("app-*.", "*.");
    let connect = match scheme_and_port(config, request_host).0 {
        "https" => "'self' https:",
        _ => "'self' https: http:",
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src {connect}; font-src 'self'; frame-src {frames}; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// Who may frame an app page: the workspace's origin(s). With a public URL,
/// that origin and its account subdomains; on localhost, the loopback names
/// on the request's port (never `*.localhost`, which would include other
/// apps' origins; `[::1]` cannot be named there).
fn frame_ancestors(config: &Config, request_host: &str) -> String {
    if let Ok(url) = url::Url::parse(&config.public_url) {
        let origin = url.origin().ascii_serialization();
        let (scheme, port) = scheme_and_port(config, request_host);
        return match url.host_str() {
            Some(host) if host.parse::<std::net::IpAddr>().is_err() => {
                format!("{origin} {scheme}://*.{host}{port}")
            }
            _ => origin,
        };
    }
    let (_, port) = scheme_and_port(config, request_host);
    // Chromium does not accept IPv6 literals in frame-ancestors.
    format!("http://localhost{port} http://127.0.0.1{port}")
}

/// The CSP of every app page. Apps in the wild use inline scripts, CDNs,
/// templates compiled with `new Function` and their own APIs, so content is
/// allowed broadly; what is fixed is who may frame them, plugins, and `<base>`.
fn app_csp(config: &Config, request_host: &str) -> String {
    format!(
        "default-src * data: blob: 'unsafe-inline' 'unsafe-eval'; object-src 'none'; base-uri 'self'; \
         frame-ancestors {}",
        frame_ancestors(config, request_host)
    )
}

/// Middleware in front of every route: requests to an app origin are served
/// from that app's files and never reach anything else.
pub async fn app_origin_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = request_host(req.headers()).or_else(|| req.uri().host().map(str::to_owned));
    let Some(app_id) = host
        .as_deref()
        .and_then(|h| app_id_for_host(&state.config, h))
    else {
        return next.run(req).await;
    };
    if req.uri().path().starts_with(crate::apptest::PREFIX) {
        if let Some(test) = crate::apptest::for_app(&state, app_id) {
            let host = host.unwrap_or_default();
            return harden(
                crate::apptest::serve(&test, req).await,
                &state.config,
                &host,
            );
        }
    }
    // Only what the answer needs is kept: the request (and its cookies) go no further.
    let (parts, _body) = req.into_parts();
    serve_app_request(
        &state,
        app_id,
        host.as_deref().unwrap_or_default(),
        &parts.method,
        parts.uri.path(),
        parts.uri.query(),
        parts.headers.get(header::IF_NONE_MATCH),
    )
    .await
}

async fn serve_app_request(
    state: &AppState,
    app_id: i64,
    host: &str,
    method: &Method,
    path: &str,
    query: Option<&str>,
    if_none_match: Option<&HeaderValue>,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return harden(r, &state.config, host);
    }
    let Some(path) = decode_path(path) else {
        return harden(not_found(), &state.config, host);
    };
    let (version, path) = match split_versioned(&path) {
        Some((version, rest)) => (Some(version), rest),
        None => (None, path.as_str()),
    };
    // A versioned answer may be kept for good only when the files it came from are that
    // version's: the version is read before and after the file (an upload in between
    // changes it), and a stale prefix is answered with the current files, revalidated.
    let mut cacheable = false;
    let found: Result<Option<(Vec<u8>, &str)>, ApiError> = if path == SDK_PATH {
        Ok(sdk().map(|s| (s.bytes.clone(), "text/javascript; charset=utf-8")))
    } else {
        match path.strip_prefix('/').filter(|p| p.starts_with("assets/")) {
            Some(rel) => {
                let mime = content_type(rel);
                // HTML is never kept (below): an iframe's page, on every registration's
                // critical path, is not slowed by the version checks.
                let version = version.filter(|_| !mime.starts_with("text/html"));
                let before = match version {
                    Some(_) => current_assets_version(state, app_id).await,
                    None => Ok(None),
                };
                let file = load_app_file(state, app_id, rel).await;
                if let (Some(v), Ok(Some(b)), Ok(Some(_))) = (version, &before, &file) {
                    let after = current_assets_version(state, app_id).await;
                    cacheable = b == v && after.is_ok_and(|a| a.as_deref() == Some(v));
                }
                before.and(file).map(|o| o.map(|b| (b, mime)))
            }
            None => Ok(None),
        }
    };
    let (bytes, mime) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return harden(not_found(), &state.config, host),
        Err(e) => return harden(e.into_response(), &state.config, host),
    };
    let bytes = if mime.starts_with("text/html") {
        let html = match rewrite_sdk_urls(&String::from_utf8_lossy(&bytes)) {
            Cow::Owned(s) => s.into_bytes(),
            Cow::Borrowed(_) => bytes,
        };
        match crate::apptest::for_app(state, app_id) {
            Some(_) => crate::apptest::inject(&String::from_utf8_lossy(&html)).into_bytes(),
            None => html,
        }
    } else {
        bytes
    };
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
    let fresh = if_none_match.is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(bytes))
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    let mut response = harden(response, &state.config, host);
    // What never changes at its address is kept by browsers for good, so an app's iframe
    // loads it without asking: the SDK under its versioned address (what app pages are
    // rewritten to) and an app's files under their current version prefix, except HTML
    // (rewritten per binary and per app test run; an iframe's own page is never reused
    // anyway, its URL carrying a fresh app_guid). Everything else, including the bare SDK
    // path and unversioned app paths, is revalidated (ETag) on every load, because an
    // app's files change under the same origin when a new version is stored.
    let versioned_file = cacheable && !mime.starts_with("text/html");
    let versioned_sdk =
        path == SDK_PATH && query.is_some_and(|q| sdk().is_some_and(|s| q == s.query));
    if versioned_file || versioned_sdk {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    response
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Not found",
    )
        .into_response()
}

/// Headers every answer on an app origin carries.
fn harden(mut response: Response, config: &Config, host: &str) -> Response {
    let h = response.headers_mut();
    // Only this module answers here, but make sure no cookie is ever set on an app origin.
    h.remove(header::SET_COOKIE);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if let Ok(v) = HeaderValue::from_str(&app_csp(config, host)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// A file of an app, from the store. App ids are global, but the store is
/// scoped by account: the app is looked up in the default account (zaffre's
/// single-account deployments); other accounts' apps are not found.
async fn load_app_file(
    state: &AppState,
    app_id: i64,
    path: &str,
) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(account) = state.accounts.resolve(state, None).await? else {
        return Ok(None);
    };
    match state
        .store
        .get_app_file(account, zaffre_domain::AppId(app_id), path)
        .await
    {
        Ok(bytes) => Ok(Some(bytes)),
        Err(zaffre_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The current [`assets_version`] of an app (None when there is no such app).
async fn current_assets_version(state: &AppState, app_id: i64) -> Result<Option<String>, ApiError> {
    let Some(account) = state.accounts.resolve(state, None).await? else {
        return Ok(None);
    };
    match state
        .store
        .get_app(account, zaffre_domain::AppId(app_id))
        .await
    {
        Ok(app) => Ok(Some(assets_version(&app))),
        Err(zaffre_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The SDK as served, and the query (`v=<content hash>`) of its versioned
/// address.
struct Sdk {
    bytes: Vec<u8>,
    query: String,
}

/// The SDK as served: comment lines and indentation removed, which roughly
/// halves it gzipped, without a build step (the source is written so that
/// whole-line removal is safe: no code line starts with `*`). Computed once:
/// it derives only from the embedded file, so it is a constant of the binary.
fn sdk() -> Option<&'static Sdk> {
    static SDK: std::sync::OnceLock<Option<Sdk>> = std::sync::OnceLock::new();
    SDK.get_or_init(|| {
        let file = SdkFiles::get("zaf_sdk.js")?;
        let bytes = compact_js(&String::from_utf8_lossy(&file.data)).into_bytes();
        let query = format!("v={}", hex::encode(&Sha256::digest(&bytes)[..8]));
        Some(Sdk { bytes, query })
    })
    .as_ref()
}

/// What app pages load the SDK from: [`SDK_PATH`] with the content hash, so
/// that browsers cache it for good and a new zaffre changes the address.
pub fn sdk_url() -> String {
    match sdk() {
        Some(s) => format!("{SDK_PATH}?{}", s.query),
        None => SDK_PATH.to_owned(),
    }
}

/// Drops blank lines, `//` comment lines and block comments that occupy
/// whole lines, and trims indentation. Line breaks stay, so automatic
/// semicolon insertion sees the same program.
pub fn compact_js(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut in_block = false;
    for line in source.lines() {
        let t = line.trim();
        if in_block {
            if t.contains("*/") {
                in_block = false;
            }
            continue;
        }
        let kept = if t.is_empty() || t.starts_with("//") {
            continue;
        } else if let Some(rest) = t.strip_prefix("/*") {
            match rest.find("*/") {
                Some(end) if rest[end + 2..].trim().is_empty() => continue,
                Some(_) => t,
                None => {
                    in_block = true;
                    continue;
                }
            }
        } else {
            t
        };
        out.push_str(kept);
        out.push('\n');
    }
    out
}

/// Rewrites Zendesk's SDK addresses (`http:`, `https:` or protocol-relative,
/// with or without `.min`) in an HTML page to [`sdk_url`].
pub fn rewrite_sdk_urls(html: &str) -> Cow<'_, str> {
    let lower = html.to_ascii_lowercase();
    // (start, end) byte spans to replace, in order.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for needle in ZENDESK_SDK_URLS {
        let mut from = 0;
        while let Some(found) = lower[from..].find(needle) {
            let at = from + found;
            from = at + needle.len();
            let mut end = from;
            if lower[end..].starts_with(".min") {
                end += 4;
            }
            if !lower[end..].starts_with(".js") {
                continue;
            }
            end += 3;
            if lower[end..]
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                continue;
            }
            let start = if lower[..at].ends_with("https:") {
                at - 6
            } else if lower[..at].ends_with("http:") {
                at - 5
            } else {
                at
            };
            spans.push((start, end));
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(html);
    }
    spans.sort_unstable();
    let url = sdk_url();
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    for (start, end) in spans {
        out.push_str(&html[last..start]);
        out.push_str(&url);
        last = end;
    }
    out.push_str(&html[last..]);
    Cow::Owned(out)
}

/// Decodes a request path's `%XX` escapes, refusing anything that could
/// leave the app's folder or confuse a lookup: `..` and `.` segments, empty
/// segments, backslashes, control characters and invalid UTF-8.
fn decode_path(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let path = String::from_utf8(out).ok()?;
    if !path.starts_with('/') || path.contains('\\') || path.chars().any(char::is_control) {
        return None;
    }
    if path[1..]
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return None;
    }
    Some(path)
}

/// The Content-Type for a file name; unknown kinds are served as bytes.
fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "pdf" => "application/pdf",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(apps_domain: &str, public_url: &str) -> Config {
        Config {
            apps_domain: apps_domain.into(),
            public_url: public_url.into(),
            ..Config::default()
        }
    }

    #[test]
    fn app_hosts_are_exact() {
        let local = config("", "");
        assert_eq!(app_id_for_host(&local, "app-5.localhost:4567"), Some(5));
        assert_eq!(app_id_for_host(&local, "APP-12.LOCALHOST"), Some(12));
        assert_eq!(app_id_for_host(&local, "app-12.localhost.:80"), Some(12));
        for not_app in [
            "localhost:4567",
            "app-.localhost",
            "app-05.localhost",
            "app-5x.localhost",
            "app-5.evil.localhost",
            "x.app-5.localhost",
            "app-5.localhost.evil.com",
            "app-5.example.net",
            "app-99999999999999999999.localhost",
            "acme.localhost:4567",
            "127.0.0.1:4567",
        ] {
            assert_eq!(app_id_for_host(&local, not_app), None, "{not_app}");
        }
        let prod = config("zaffre-apps.net", "https://help.example.com");
        assert_eq!(app_id_for_host(&prod, "app-7.zaffre-apps.net"), Some(7));
        assert_eq!(app_id_for_host(&prod, "app-7.localhost:4567"), None);
        assert_eq!(app_id_for_host(&prod, "app-7.xzaffre-apps.net"), None);
    }

    #[test]
    fn origins_follow_the_workspace_scheme_and_port() {
        let local = config("", "");
        assert_eq!(
            app_origin(&local, "127.0.0.1:4567", "3"),
            "http://app-3.localhost:4567"
        );
        assert_eq!(
            app_origin(&local, "localhost", "{id}"),
            "http://app-{id}.localhost"
        );
        let prod = config("zaffre-apps.net", "https://help.example.com");
        assert_eq!(
            app_origin(&prod, "help.example.com", "3"),
            "https://app-3.zaffre-apps.net"
        );
        assert!(workspace_csp(&local, "127.0.0.1:4567")
            .contains("frame-src http://*.localhost:4567; frame-ancestors 'none'"));
        assert!(workspace_csp(&prod, "help.example.com")
            .contains("frame-src https://*.zaffre-apps.net;"));
        assert!(workspace_csp(&prod, "help.example.com").contains("connect-src 'self' https:;"));
        assert!(
            workspace_csp(&local, "127.0.0.1:4567").contains("connect-src 'self' https: http:;")
        );
        assert!(app_csp(&local, "app-3.localhost:4567")
            .ends_with("frame-ancestors http://localhost:4567 http://127.0.0.1:4567"));
        assert!(app_csp(&prod, "app-3.zaffre-apps.net")
            .ends_with("frame-ancestors https://help.example.com https://*.help.example.com"));
    }

    #[test]
    fn every_zendesk_sdk_address_is_rewritten() {
        let html = r#"<script src="https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"></script>
<script src="https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.js"></script>
<script src='//assets.zendesk.com/apps/sdk/2.0/zaf_sdk.js'></script>
<script src=HTTP://assets.zendesk.com/apps/sdk/2.0/zaf_sdk.min.js></script>
<script src="https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.jsx"></script>
<script src="https://assets.zendesk.com/apps/sdk/2.0/other.js"></script>"#;
        let out = rewrite_sdk_urls(html);
        let url = sdk_url();
        assert!(url.starts_with("/__zaffre/zaf_sdk.js?v="), "{url}");
        assert_eq!(out.matches(&url).count(), 4, "{out}");
        assert!(out.contains(&format!(r#"src="{url}"></script>"#)));
        assert!(out.contains(&format!("src='{url}'")));
        assert!(out.contains(&format!("src={url}>")));
        assert!(out.contains("zaf_sdk.jsx"));
        assert!(out.contains("other.js"));
        assert!(matches!(
            rewrite_sdk_urls("<p>no sdk</p>"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn paths_cannot_escape() {
        assert_eq!(
            decode_path("/assets/a%20b.html").as_deref(),
            Some("/assets/a b.html")
        );
        for bad in [
            "/assets/../manifest.json",
            "/assets/%2e%2e/x",
            "/assets//x",
            "/assets/a\\b",
            "/assets/%00",
            "/assets/%ff",
            "/assets/%2",
        ] {
            assert_eq!(decode_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn compaction_keeps_code_lines_and_drops_comments() {
        let src = "// head\n(function () {\n  /** doc */\n  var a = 1; // tail stays\n  /**\n   * block\n   */\n  /** @type {any} */ (window).x = a;\n\n})();\n";
        assert_eq!(
            compact_js(src),
            "(function () {\nvar a = 1; // tail stays\n/** @type {any} */ (window).x = a;\n})();\n"
        );
        let sdk = sdk().expect("the SDK is embedded");
        assert!(String::from_utf8_lossy(&sdk.bytes).contains("ZAFClient"));
        assert_eq!(sdk.query.len(), "v=".len() + 16);
    }
}
