//! The agent workspace's files, embedded in the binary.
//!
//! Release builds carry `web/` inside the executable, so zaffre is one file to
//! deploy; debug builds read the folder from disk (rust-embed's behaviour), so
//! the UI can be edited without recompiling. Every workspace URL answers with
//! `index.html`, which routes on the client; assets get ETags so a reload costs
//! a 304, and the page gets a strict Content-Security-Policy and may not be
//! framed by anyone.

use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "../../web"]
struct WebFiles;

/// `GET /assets/{*path}`.
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve_file(&format!("assets/{path}"), &headers, "no-cache")
        .unwrap_or_else(|| ApiError::NotFound.into_response())
}

/// Any workspace URL: the single page, which routes on the client. Its CSP
/// ([`workspace_csp`](crate::apps_host::workspace_csp)) lets scripts and
/// styles come only from zaffre, frames only from app origins, and forbids
/// framing the workspace itself.
pub async fn workspace_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html") || accept.contains("*/*"));
    if !wants_html {
        return ApiError::NotFound.into_response();
    }
    let Some(mut response) = serve_file("index.html", &headers, "no-cache") else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the workspace files are missing from this build",
        )
            .into_response();
    };
    let h = response.headers_mut();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Ok(csp) = HeaderValue::from_str(&crate::apps_host::workspace_csp(&state.config, host)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn serve_file(path: &str, request: &HeaderMap, cache: &'static str) -> Option<Response> {
    let file = WebFiles::get(path)?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mut response = if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = file.metadata.mimetype().to_owned();
        let mut r = file.data.into_owned().into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_str(&mime).ok()?);
        r
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_str(&etag).ok()?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Some(response)
}
