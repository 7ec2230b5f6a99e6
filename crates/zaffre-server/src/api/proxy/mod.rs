//! `POST /api/zaffre/installations/{installation_id}/proxy`: the server end
//! of an app's `client.request()` (see docs/proxy.md and the
//! `zaffre-proxy` crate, which does the request itself).
//!
//! **Whose request it is.** The installation comes from the URL path, and
//! the path is written by zaffre's host page (`web/assets/host/`), which
//! knows which installation each app iframe belongs to and fills the id from
//! the iframe that sent the message. An app cannot choose it: its messages
//! carry only the request options, and nothing in the options names an
//! installation. The caller must be a signed-in agent or admin of the
//! installation's account (the session cookie with the host's Origin and
//! CSRF token, like every browser write, or an API token); another account's
//! installation is a 404, end-users get 403, anonymous callers 401.
//!
//! **What happens**, in order: the installation and its context are looked
//! up ([`cache`]: the installation, plain settings, secure settings opened
//! with the server's key, the manifest's scopes and `domainWhitelist`, the
//! account's subdomain; reused for up to [`PROXY_CONTEXT_TTL`], dropped at
//! once by any app or installation write on this node); the installation
//! must be enabled; the installation's limits are taken
//! (`proxy_max_concurrent` in flight, `proxy_rate_per_minute`), else 429
//! with `Retry-After` and `RateLimit-*`; the options are read
//! ([`AppRequest::from_options`]); the proxy runs; one audit row is queued
//! ([`writer`], written in batches off the request path; read by
//! [`crate::api::audit`]) for every outcome past the lookup, refusals
//! included.
//!
//! **Replies.** When the upstream answered (whatever its status):
//! `200 {"status", "statusText", "headers": {name: value}, "body", "retries"}`.
//! Otherwise the refusal, in Zendesk's error shape plus
//! `{"proxy_refusal": {"status", "code", "message"}}`, with the refusal's
//! status (a target that is zaffre itself or another account of it is
//! `403 … is not a proxyable URI`). Every reply carries the installation's
//! `RateLimit-*` headers.
//!
//! Secure values exist only inside [`zaffre_proxy::InstallationContext`]s
//! (the cached one and the call's copy), as setting values whose `Debug`
//! prints `[redacted]`: no reply, log line or audit row carries one (the proxy masks
//! them in its audit record and refusal messages; this module logs ids,
//! statuses and codes only).

mod cache;
mod context;
mod setup;
mod writer;

use std::time::Duration;

use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use zaffre_domain::apps::Installation;
use zaffre_domain::InstallationId;
use zaffre_proxy::{AppRequest, AuditRecord, UpstreamResponse};
use zaffre_store::NewProxyAudit;

pub use cache::{ProxyContextCache, ProxyEntry, PROXY_CONTEXT_TTL};
pub use context::{installation_context, ContextParts};
pub use setup::{build_proxy, proxy_config, ProxySetup};
pub use writer::{AuditWriter, QUEUE_ROWS};

use crate::api::people::Staff;
use crate::api::tickets::IdPath;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::rate_limit::RateDecision;
use crate::state::AppState;

/// The proxy route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/zaffre/installations/{id}/proxy", post(proxy_request))
}

/// `POST /api/zaffre/installations/{installation_id}/proxy`.
#[utoipa::path(
    post,
    path = "/api/zaffre/installations/{installation_id}/proxy",
    tag = "App proxy",
    description = "The server end of an app's `client.request()`, called by zaffre's host page (never by an \
                   app directly: the host page fills the installation id from the iframe that sent the \
                   request). Agents and admins of the installation's account; browser calls need the \
                   host's Origin and X-CSRF-Token. Body `{\"options\": <the app's request options>}` \
                   (`url`, `type`, `data`, `contentType`, `dataType`, `headers`, `secure`, `jwt`, \
                   `autoRetry`, `timeout`). When the upstream answered, whatever its status: \
                   `{status, statusText, headers, body, retries}`. A refusal answers with its status and \
                   `{error, description, proxy_refusal: {status, code, message}}`; a target that is zaffre \
                   itself or another of its accounts is 403 `… is not a proxyable URI`. Each installation \
                   may make `proxy_rate_per_minute` calls a minute and have `proxy_max_concurrent` in \
                   flight: beyond that, 429 with `Retry-After`. Every reply has `RateLimit-Limit`, \
                   `RateLimit-Remaining` and `RateLimit-Reset`. Every call past the installation lookup \
                   is written to the audit log.",
    params(("installation_id" = i64, Path, description = "The installation whose settings apply")),
    responses(
        (status = 200, description = "`{status, statusText, headers, body, retries}`: the upstream's answer"),
        (status = 400, description = "Bad options (`proxy_refusal.code` says which rule)", body = crate::api::openapi::schemas::ErrorBody),
        (status = 401, description = "Not signed in", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "An end-user, a missing CSRF token, a disabled installation, or a forbidden target (`… is not a proxyable URI`)", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such installation in this account", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "A `{{setting.NAME}}` names no setting", body = crate::api::openapi::schemas::ErrorBody),
        (status = 429, description = "The installation's rate or concurrency limit", body = crate::api::openapi::schemas::ErrorBody),
        (status = 502, description = "DNS, connection or upstream failure; response too large or binary", body = crate::api::openapi::schemas::ErrorBody),
        (status = 504, description = "The upstream did not answer in time", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn proxy_request(
    State(state): State<AppState>,
    Staff(caller): Staff,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let entry = state
        .proxy_contexts
        .get(&state, caller.account, InstallationId(id))
        .await?;
    let installation = &entry.installation;
    let options = options_of(&body)?;
    let call = Call {
        state: &state,
        caller: &caller,
        installation,
    };
    if !installation.enabled {
        let refusal = ApiError::ProxyRefused {
            status: 403,
            code: "installation_disabled".into(),
            message: format!("installation {id} is disabled"),
        };
        call.record(describe(options), &refusal).await;
        return Err(refusal);
    }

    let key = format!("installation:{id}");
    let Some(_permit) = state.proxy_in_flight.try_acquire(&key) else {
        let max = state.proxy_in_flight.max();
        let refusal = ApiError::ProxyRefused {
            status: 429,
            code: "too_many_in_flight".into(),
            message: format!(
                "this installation already has {max} requests in flight; retry shortly"
            ),
        };
        call.record(describe(options), &refusal).await;
        let mut response = refusal.into_response();
        concurrency_headers(response.headers_mut(), max);
        return Ok(response);
    };
    let decision = state.proxy_limiter.check(&key);
    if let RateDecision::Limited { retry_after_secs } = decision {
        let refusal = ApiError::ProxyRefused {
            status: 429,
            code: "rate_limited".into(),
            message: format!(
                "this installation made more than {} requests this minute; retry after {retry_after_secs} seconds",
                state.config.proxy_rate_per_minute
            ),
        };
        call.record(describe(options), &refusal).await;
        return Ok(call.with_rate_headers(refusal.into_response(), decision));
    }

    let request = match AppRequest::from_options(options) {
        Ok(request) => request,
        Err(refusal) => {
            let refusal = ApiError::from(refusal);
            call.record(describe(options), &refusal).await;
            return Ok(call.with_rate_headers(refusal.into_response(), decision));
        }
    };
    // The cached context with this call's user; the clone lives for the call only.
    let mut context = entry.context.clone();
    context.user_id = caller.user.id.get();
    let outcome = state.proxy.send(request, &context).await;
    drop(context);
    let response = match outcome.result {
        Ok(upstream) => {
            call.record_outcome(options, &outcome.audit, Some(upstream.status), None)
                .await;
            reply(&upstream).into_response()
        }
        Err(refusal) => {
            let refusal = ApiError::from(refusal);
            call.record_outcome(options, &outcome.audit, None, Some(&refusal))
                .await;
            refusal.into_response()
        }
    };
    Ok(call.with_rate_headers(response, decision))
}

/// The OpenAPI description of the proxy and its audit log, merged into the
/// document served at `/api/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(proxy_request, crate::api::audit::list_audit, crate::api::audit::export_audit),
    tags((name = "App proxy", description = "The server end of apps' client.request(), and its audit log"))
)]
pub struct ProxyApi;

/// The `options` object of the body; anything else is a 400.
fn options_of(body: &Value) -> ApiResult<&Value> {
    match body.get("options") {
        Some(options @ Value::Object(_)) => Ok(options),
        _ => Err(ApiError::bad_param(
            "The body must be {\"options\": {…}} with the app's request options",
        )),
    }
}

/// The 200 body for an upstream answer. Repeated headers are joined with
/// `, ` as HTTP allows (the proxy has already removed `Set-Cookie`).
fn reply(upstream: &UpstreamResponse) -> Json<Value> {
    let mut headers = Map::new();
    for (name, value) in &upstream.headers {
        let name = name.to_ascii_lowercase();
        match headers.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            _ => {
                headers.insert(name, Value::String(value.clone()));
            }
        }
    }
    Json(json!({
        "status": upstream.status,
        "statusText": upstream.status_text,
        "headers": headers,
        "body": upstream.body,
        "retries": upstream.retries,
    }))
}

/// `Retry-After` and `RateLimit-*` for a concurrency refusal: the limit
/// named is the in-flight cap, and a place frees up as soon as any call ends.
fn concurrency_headers(headers: &mut HeaderMap, max: u32) {
    headers.insert(RETRY_AFTER, HeaderValue::from(1));
    headers.insert("ratelimit-limit", HeaderValue::from(max));
    headers.insert("ratelimit-remaining", HeaderValue::from(0));
    headers.insert("ratelimit-reset", HeaderValue::from(1));
}

/// Where a call was going, as far as the options tell before the proxy has
/// read them: for the audit rows of calls refused before the proxy ran.
/// The query string is left out, as the proxy's own records do.
fn describe(options: &Value) -> AuditRecord {
    let method = match options.get("type").or_else(|| options.get("method")) {
        Some(Value::String(m)) if !m.is_empty() && m.len() <= 16 => m.to_ascii_uppercase(),
        None | Some(Value::Null) => "GET".into(),
        Some(_) => String::new(),
    };
    let mut record = AuditRecord {
        method,
        ..AuditRecord::default()
    };
    let url = options
        .get("url")
        .and_then(Value::as_str)
        .and_then(|u| url::Url::parse(u).ok());
    if let Some(url) = url {
        record.scheme = url.scheme().chars().take(16).collect();
        record.host = url.host_str().unwrap_or("").chars().take(255).collect();
        record.port = url.port_or_known_default().unwrap_or(0);
        record.path = url.path().chars().take(2000).collect();
    }
    record
}

/// One call's fixed facts: who, for which installation.
struct Call<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    installation: &'a Installation,
}

impl Call<'_> {
    /// Adds the installation's `RateLimit-*` headers to a reply.
    fn with_rate_headers(&self, mut response: Response, decision: RateDecision) -> Response {
        self.state
            .proxy_limiter
            .add_standard_headers(response.headers_mut(), decision);
        response
    }

    /// Writes the audit row of a call the proxy ran. When the proxy refused
    /// it before settling a target (a URL or address refused while checking),
    /// its record has no target; the options' URL is recorded instead, which
    /// holds placeholders at most, never a value.
    async fn record_outcome(
        &self,
        options: &Value,
        audit: &AuditRecord,
        upstream_status: Option<u16>,
        refusal: Option<&ApiError>,
    ) {
        let filled;
        let audit = if audit.host.is_empty() && audit.scheme.is_empty() {
            let described = describe(options);
            filled = AuditRecord {
                scheme: described.scheme,
                host: described.host,
                port: described.port,
                path: described.path,
                ..audit.clone()
            };
            &filled
        } else {
            audit
        };
        let status = upstream_status
            .or(audit.status)
            .or_else(|| refusal.map(|r| r.status().as_u16()));
        self.write(
            audit,
            status,
            audit.refusal.clone().or_else(|| refusal.map(refusal_text)),
        )
        .await;
    }

    /// Writes the audit row of a call refused before the proxy ran.
    async fn record(&self, audit: AuditRecord, refusal: &ApiError) {
        self.write(
            &audit,
            Some(refusal.status().as_u16()),
            Some(refusal_text(refusal)),
        )
        .await;
    }

    async fn write(&self, audit: &AuditRecord, status: Option<u16>, refusal: Option<String>) {
        let refusal = refusal.as_deref().map(without_queries);
        let row = NewProxyAudit {
            installation_id: self.installation.id,
            app_id: self.installation.app_id,
            user_id: self.caller.user.id,
            method: audit.method.clone(),
            scheme: audit.scheme.clone(),
            host: audit.host.clone(),
            port: audit.port,
            path: audit.path.clone(),
            status,
            duration_ms: duration_ms(audit.duration),
            request_bytes: audit.request_bytes,
            response_bytes: audit.response_bytes,
            secure_settings_used: audit.secure_settings_used.clone(),
            refusal,
            retries: audit.retries,
        };
        tracing::info!(
            installation.id = %self.installation.id,
            status = status.unwrap_or(0),
            refused = row.refusal.is_some(),
            duration_ms = row.duration_ms,
            "proxied call"
        );
        // Written in the background, in batches ([`writer`]); this waits only
        // when the queue is full. A failed write is logged there.
        self.state
            .audit_writer
            .record(self.caller.account, row)
            .await;
    }
}

/// `code: message` of a refusal, as the proxy writes its own.
fn refusal_text(e: &ApiError) -> String {
    match e {
        ApiError::ProxyRefused { code, message, .. } => format!("{code}: {message}"),
        other => other.to_string(),
    }
}

/// A refusal message with the query string and fragment cut from every URL
/// in it. Refusals name the URL as the app wrote it (`<url> is not a
/// proxyable URI`), which is right for the app, but the audit log keeps no
/// query strings: they carry tokens.
fn without_queries(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if !word.contains("://") {
                return word.to_owned();
            }
            match word.find(['?', '#']) {
                // Keep the punctuation that followed the URL in the sentence (`<url>: …`).
                Some(cut) if word.ends_with(':') => format!("{}:", &word[..cut]),
                Some(cut) => word[..cut].to_owned(),
                None => word.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn describe_leaves_out_the_query_and_defaults_the_method() {
        let r = describe(&json!({"url": "https://API.example.com:8443/v1/x?token=abc#frag"}));
        assert_eq!(r.method, "GET");
        assert_eq!(r.scheme, "https");
        assert_eq!(r.host, "api.example.com");
        assert_eq!(r.port, 8443);
        assert_eq!(r.path, "/v1/x");
        let r = describe(&json!({"url": "/api/v2/users.json", "type": "post"}));
        assert_eq!(r.method, "POST");
        assert_eq!((r.host.as_str(), r.port), ("", 0));
        let r = describe(&json!({"url": 5, "type": ["x"]}));
        assert_eq!(r.method, "");
    }

    #[test]
    fn audit_refusals_lose_their_urls_queries() {
        assert_eq!(
            without_queries(
                "forbidden_target: http://10.0.0.1/admin?token=abc is not a proxyable URI"
            ),
            "forbidden_target: http://10.0.0.1/admin is not a proxyable URI"
        );
        assert_eq!(
            without_queries("resolve_failed: https://x.test/a#k=v: the host name did not resolve"),
            "resolve_failed: https://x.test/a: the host name did not resolve"
        );
        assert_eq!(
            without_queries("rate_limited: retry? later"),
            "rate_limited: retry? later"
        );
    }

    #[test]
    fn reply_joins_repeated_headers() {
        let upstream = UpstreamResponse {
            status: 404,
            status_text: "Not Found".into(),
            headers: vec![
                ("Link".into(), "<a>".into()),
                ("link".into(), "<b>".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: "{}".into(),
            retries: 1,
        };
        let Json(body) = reply(&upstream);
        assert_eq!(body["status"], 404);
        assert_eq!(body["statusText"], "Not Found");
        assert_eq!(body["headers"]["link"], "<a>, <b>");
        assert_eq!(body["headers"]["content-type"], "application/json");
        assert_eq!(body["body"], "{}");
        assert_eq!(body["retries"], 1);
    }

    #[test]
    fn options_must_be_an_object() {
        assert!(options_of(&json!({"options": {"url": "x"}})).is_ok());
        for bad in [
            json!({}),
            json!({"options": "x"}),
            json!([1]),
            json!({"options": null}),
        ] {
            let e = options_of(&bad).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        }
    }
}
