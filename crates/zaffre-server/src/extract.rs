//! Request extractors whose failures speak the error contract.
//!
//! axum's own `Json` and `Query` reject with plain-text bodies; these wrap the
//! same work so that malformed JSON, invalid UTF-8, wrong content types,
//! oversized bodies and bad query strings all answer in Zendesk's JSON shape.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body, read up to the configured size limit.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::BadRequest(
                "InvalidContentType",
                "Send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let limit = state.config.max_body_bytes;
        let bytes = read_body(req.into_body(), limit).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Reads a whole body, refusing more than `limit` bytes with 413.
pub async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        // `to_bytes` reports a limit breach as an error whose source is `LengthLimitError`.
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::BadRequest("InvalidBody", "The request body could not be read".into())
        }
    })
}

/// Parses JSON bytes into `T`, with a message that says where the problem is.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::BadRequest(
            "InvalidJSON",
            "The body is not valid UTF-8".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "The JSON does not have the expected shape",
            _ => "The body is not valid JSON",
        };
        ApiError::BadRequest("InvalidJSON", format!("{what}: {e}"))
    })
}

/// A query string decoded into `T`; unknown keys are ignored.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::bad_param(format!("Invalid query parameters: {e}")))
    }
}

/// A numeric id from the path, accepting Zendesk's `.json` suffix (`/tickets/5.json`).
pub fn parse_path_id(raw: &str) -> Result<i64, ApiError> {
    let digits = raw.strip_suffix(".json").unwrap_or(raw);
    match digits.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::NotFound),
    }
}

impl FromRequestParts<AppState> for crate::shapes::BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !state.config.public_url.is_empty() {
            return Ok(crate::shapes::BaseUrl(
                state.config.public_url.trim_end_matches('/').to_owned(),
            ));
        }
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        Ok(crate::shapes::BaseUrl(format!("http://{host}")))
    }
}
