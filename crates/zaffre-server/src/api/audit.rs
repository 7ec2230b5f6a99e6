//! The app proxy's audit log, for admins: `GET /api/zaffre/proxy_audit.json`
//! (newest first, cursor pages) and `GET /api/zaffre/proxy_audit.jsonl` (the
//! same rows as JSON lines, for export).
//!
//! Rows are written by [`crate::api::proxy`], one per proxied call, refusals
//! included, in batches off the request path
//! ([`crate::api::proxy::AuditWriter`]); both endpoints first wait for the
//! rows queued on this node, so they list every call made on it so far. They carry setting names, never values, and paths without their
//! query strings, so showing or exporting them reveals no secret.
//!
//! Filters (all optional, combined with AND): `installation_id`, `app_id`,
//! `user_id` (positive ids), `status` (100–599), `refused` (`true` or
//! `false`), `host` (exact, case-insensitive), `since` and `until` (RFC 3339
//! times or `YYYY-MM-DD` dates in UTC; `since` inclusive, `until` exclusive).
//! A malformed value is a 400 naming the parameter.
//!
//! The export streams at most [`EXPORT_LIMIT`] rows, newest first, reading
//! them from the store in pages; the response says the limit in
//! `X-Zaffre-Export-Limit`, and a wider window is exported in several calls
//! (`until` = the oldest `created_at` received).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use zaffre_domain::{AccountId, AppId, InstallationId, ProxyAuditId, UserId};
use zaffre_store::{DynStore, ProxyAuditEntry, ProxyAuditFilter};

use crate::api::paging::PageRequest;
use crate::api::people::{list_body, Admin};
use crate::error::{ApiError, ApiResult};
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// The most rows one export returns.
pub const EXPORT_LIMIT: u32 = 100_000;
/// Rows read from the store at a time while exporting.
const EXPORT_CHUNK: u32 = 500;

/// The audit routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/zaffre/proxy_audit.json", get(list_audit))
        .route("/api/zaffre/proxy_audit.jsonl", get(export_audit))
}

/// `GET /api/zaffre/proxy_audit.json`.
#[utoipa::path(
    get,
    path = "/api/zaffre/proxy_audit.json",
    tag = "App proxy",
    description = "Admins only. The app proxy's audit log, newest first: one row per proxied call, refusals \
                   included, with setting names (never values) and paths without query strings. Cursor \
                   pagination (`page[size]` up to 100, `page[after]` from `meta.after_cursor`).",
    params(AuditParams, crate::api::openapi::PagingParams),
    responses(
        (status = 200, description = "`{proxy_audit: [AuditEntry], meta, links}`; an entry is `{id, created_at, installation_id, app_id, user_id, method, scheme, host, port, path, status, duration_ms, request_bytes, response_bytes, secure_settings_used, refused, refusal, retries}`"),
        (status = 400, description = "A malformed filter or page parameter", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_audit(
    State(state): State<AppState>,
    base: BaseUrl,
    Admin(caller): Admin,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let filter = parse_filter(uri.query())?;
    // Rows are written in the background: show every call made on this node so far.
    state.audit_writer.flush().await;
    let (size, after) = match PageRequest::from_query(uri.query())? {
        PageRequest::Cursor { size, after } => (size, after),
        PageRequest::Offset { page: 1, per_page } => (per_page, None),
        PageRequest::Offset { .. } => {
            return Err(ApiError::bad_param(
                "page: the audit log pages with cursors; use page[size] and page[after]",
            ))
        }
    };
    let listing = state
        .store
        .list_proxy_audit(caller.account, &filter, after.map(ProxyAuditId), size)
        .await?;
    let paging = PageRequest::Cursor { size, after };
    Ok(Json(list_body(
        "proxy_audit",
        &listing,
        entry_json,
        |e| e.id.get(),
        &paging,
        &base,
        &uri,
    )))
}

/// `GET /api/zaffre/proxy_audit.jsonl`.
#[utoipa::path(
    get,
    path = "/api/zaffre/proxy_audit.jsonl",
    tag = "App proxy",
    description = "Admins only. The audit log as JSON lines (`application/x-ndjson`), one entry per line as in \
                   `proxy_audit.json`, newest first, with the same filters; at most 100,000 rows \
                   (`X-Zaffre-Export-Limit`): export a longer history in windows of `since`/`until`.",
    params(AuditParams),
    responses(
        (status = 200, description = "One JSON object per line", content_type = "application/x-ndjson"),
        (status = 400, description = "A malformed filter", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn export_audit(
    State(state): State<AppState>,
    Admin(caller): Admin,
    uri: Uri,
) -> ApiResult<Response> {
    let filter = parse_filter(uri.query())?;
    // Rows are written in the background: show every call made on this node so far.
    state.audit_writer.flush().await;
    // The first chunk is read before answering, so a database failure is a
    // proper error response rather than a truncated stream.
    let first = state
        .store
        .list_proxy_audit(caller.account, &filter, None, EXPORT_CHUNK)
        .await?;
    let export = Export {
        store: state.store.clone(),
        account: caller.account,
        filter,
        pending: Some(first),
        sent: 0,
    };
    let stream = futures_util::stream::unfold(export, Export::next_chunk);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson; charset=utf-8"),
    );
    headers.insert("x-zaffre-export-limit", HeaderValue::from(EXPORT_LIMIT));
    headers.insert(
        "content-disposition",
        HeaderValue::from_static("attachment; filename=\"proxy_audit.jsonl\""),
    );
    Ok(response)
}

/// The state of a streaming export: the chunk in hand and how far it got.
struct Export {
    store: DynStore,
    account: AccountId,
    filter: ProxyAuditFilter,
    pending: Option<zaffre_store::Listing<ProxyAuditEntry>>,
    sent: u32,
}

impl Export {
    /// The next chunk of lines, or `None` when done. A database failure
    /// mid-stream ends the stream with an error (the client sees a broken
    /// transfer, never a silently short file).
    async fn next_chunk(mut self) -> Option<(Result<String, std::io::Error>, Export)> {
        let listing = self.pending.take()?;
        let remaining = EXPORT_LIMIT - self.sent;
        let rows: Vec<&ProxyAuditEntry> = listing.items.iter().take(remaining as usize).collect();
        if rows.is_empty() {
            return None;
        }
        let mut text = String::new();
        for entry in &rows {
            text.push_str(&entry_json(entry).to_string());
            text.push('\n');
        }
        self.sent += u32::try_from(rows.len()).unwrap_or(EXPORT_CHUNK);
        let last = rows.last().map(|e| e.id);
        if listing.has_more && self.sent < EXPORT_LIMIT {
            let next = EXPORT_CHUNK.min(EXPORT_LIMIT - self.sent);
            match self
                .store
                .list_proxy_audit(self.account, &self.filter, last, next)
                .await
            {
                Ok(next) => self.pending = Some(next),
                Err(e) => {
                    tracing::error!(error = %e, "the audit export stopped: the database failed");
                    return Some((Err(std::io::Error::other("the audit export failed")), self));
                }
            }
        }
        Some((Ok(text), self))
    }
}

/// One audit row as the API shows it.
pub fn entry_json(e: &ProxyAuditEntry) -> Value {
    let c = &e.call;
    json!({
        "id": e.id,
        "created_at": shapes::timestamp(&e.created_at),
        "installation_id": c.installation_id,
        "app_id": c.app_id,
        "user_id": c.user_id,
        "method": c.method,
        "scheme": c.scheme,
        "host": c.host,
        "port": c.port,
        "path": c.path,
        "status": c.status,
        "duration_ms": c.duration_ms,
        "request_bytes": c.request_bytes,
        "response_bytes": c.response_bytes,
        "secure_settings_used": c.secure_settings_used,
        "refused": c.refusal.is_some(),
        "refusal": c.refusal,
        "retries": c.retries,
    })
}

/// The filter parameters, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Only its shape is used, by the OpenAPI document.
pub struct AuditParams {
    /// Calls of one installation.
    installation_id: Option<i64>,
    /// Calls of one app's installations.
    app_id: Option<i64>,
    /// Calls made by one user.
    user_id: Option<i64>,
    /// The status answered to the app (the upstream's or the refusal's), 100–599.
    status: Option<u16>,
    /// `true`: refusals only; `false`: calls that reached an upstream.
    refused: Option<bool>,
    /// Exact host name (case-insensitive).
    host: Option<String>,
    /// At or after this time: RFC 3339 (`2024-05-01T10:00:00Z`) or a date (`2024-05-01`, midnight UTC).
    since: Option<String>,
    /// Before this time, same forms as `since`.
    until: Option<String>,
}

/// Reads the filter parameters; a malformed one is a 400 naming it.
pub fn parse_filter(query: Option<&str>) -> ApiResult<ProxyAuditFilter> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad_param(format!("Invalid query parameters: {e}")))?;
    let mut filter = ProxyAuditFilter::default();
    for (key, value) in &pairs {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "installation_id" => filter.installation_id = Some(InstallationId(id(key, value)?)),
            "app_id" => filter.app_id = Some(AppId(id(key, value)?)),
            "user_id" => filter.user_id = Some(UserId(id(key, value)?)),
            "status" => {
                filter.status = Some(
                    value
                        .parse::<u16>()
                        .ok()
                        .filter(|s| (100..=599).contains(s))
                        .ok_or_else(|| bad(key, "an HTTP status from 100 to 599", value))?,
                );
            }
            "refused" => {
                filter.refused = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad(key, "true or false", value)),
                });
            }
            "host" => {
                if value.chars().count() > 255 || value.chars().any(char::is_control) {
                    return Err(bad(key, "a host name", value));
                }
                filter.host = Some(value.to_ascii_lowercase());
            }
            "since" => filter.since = Some(time(key, value)?),
            "until" => filter.until = Some(time(key, value)?),
            // Paging and anything else are not filters.
            _ => {}
        }
    }
    Ok(filter)
}

fn bad(key: &str, expected: &str, value: &str) -> ApiError {
    let shown: String = value.chars().take(40).collect();
    ApiError::bad_param(format!("{key} must be {expected}, not {shown:?}"))
}

fn id(key: &str, value: &str) -> ApiResult<i64> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(key, "a positive id", value))
}

fn time(key: &str, value: &str) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            bad(
                key,
                "an RFC 3339 time (2024-05-01T10:00:00Z) or a date (2024-05-01)",
                value,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_parses() {
        let f = parse_filter(Some(
            "installation_id=3&app_id=4&user_id=5&status=404&refused=true&host=API.Example.com\
             &since=2024-05-01&until=2024-05-02T10%3A00%3A00%2B02%3A00&page%5Bsize%5D=5",
        ))
        .unwrap();
        assert_eq!(f.installation_id, Some(InstallationId(3)));
        assert_eq!(f.app_id, Some(AppId(4)));
        assert_eq!(f.user_id, Some(UserId(5)));
        assert_eq!(f.status, Some(404));
        assert_eq!(f.refused, Some(true));
        assert_eq!(f.host.as_deref(), Some("api.example.com"));
        assert_eq!(f.since.unwrap().to_rfc3339(), "2024-05-01T00:00:00+00:00");
        assert_eq!(f.until.unwrap().to_rfc3339(), "2024-05-02T08:00:00+00:00");
        assert_eq!(parse_filter(None).unwrap(), ProxyAuditFilter::default());
        assert_eq!(
            parse_filter(Some("status=&host=")).unwrap(),
            ProxyAuditFilter::default()
        );
    }

    #[test]
    fn bad_values_name_their_parameter() {
        for (query, key) in [
            ("installation_id=x", "installation_id"),
            ("installation_id=0", "installation_id"),
            ("app_id=-1", "app_id"),
            ("user_id=1.5", "user_id"),
            ("status=99", "status"),
            ("status=600", "status"),
            ("refused=yes", "refused"),
            ("since=yesterday", "since"),
            ("until=2024-13-01", "until"),
            ("host=a%0Ab", "host"),
        ] {
            let e = parse_filter(Some(query)).unwrap_err();
            match e {
                ApiError::BadRequest(code, text) => {
                    assert_eq!(code, "InvalidParams");
                    assert!(text.starts_with(key), "{query}: {text}");
                }
                other => panic!("{query}: {other:?}"),
            }
        }
    }
}
