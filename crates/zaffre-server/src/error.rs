//! The server's one error contract.
//!
//! Every handler returns `Result<_, ApiError>`, and every failure leaves the
//! server in Zendesk's shape: `{"error": "<Code>", "description": "<text>"}`,
//! plus `details` for 422 `RecordInvalid`. The `error` codes are stable so
//! clients can branch on them. All `From` conversions live here so the mapping
//! from storage and domain failures to HTTP status is decided in one place.
//!
//! A 5xx body never carries internal detail: the cause is logged once, here,
//! and the client gets a generic description.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use zaffre_domain::search::SearchError;
use zaffre_domain::validation::{FieldError, ValidationErrors};
use zaffre_store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such record in the caller's account (or the caller may not know it exists).
    #[error("not found")]
    NotFound,
    /// The request was understood but its values break the rules.
    #[error("invalid: {0}")]
    Invalid(ValidationErrors),
    /// An uploaded app package is unreadable or fails validation: 422 with
    /// every finding (errors and warnings), as `zaffre app validate` prints them.
    #[error("invalid app package")]
    InvalidPackage(Vec<zaffre_manifest::Finding>),
    /// The request itself is malformed: bad JSON, bad query parameters.
    #[error("bad request: {0}")]
    BadRequest(&'static str, String),
    /// No valid credentials.
    #[error("unauthenticated")]
    Unauthenticated,
    /// Valid credentials, insufficient rights.
    #[error("forbidden")]
    Forbidden,
    /// A write from the browser without the host's origin and CSRF token.
    #[error("csrf check failed")]
    CsrfRejected,
    /// The record changed concurrently and the request asked not to overwrite it.
    #[error("update conflict")]
    UpdateConflict,
    /// The body is larger than the configured limit.
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    /// Too many requests; retry after this many seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// The app proxy did not make a call: its own checks refused it (see
    /// [`zaffre_proxy::Refusal`]), the installation is disabled or over its
    /// limits. `message` is safe to show the app (never a secure value).
    #[error("proxy refusal {status} {code}")]
    ProxyRefused {
        status: u16,
        code: String,
        message: String,
    },
    /// The database is unreachable or misbehaving.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the cause is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 with a single problem on one attribute.
    pub fn invalid(attribute: &str, description: impl Into<String>) -> Self {
        ApiError::Invalid(ValidationErrors::single(
            attribute,
            zaffre_domain::validation::ErrorKind::InvalidValue,
            description,
        ))
    }

    /// A 400 for a malformed query parameter.
    pub fn bad_param(description: impl Into<String>) -> Self {
        ApiError::BadRequest("InvalidParams", description.into())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) | ApiError::InvalidPackage(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::CsrfRejected => StatusCode::FORBIDDEN,
            ApiError::UpdateConflict => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::ProxyRefused { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> Value {
        match self {
            ApiError::NotFound => json!({"error": "RecordNotFound", "description": "Not found"}),
            ApiError::Invalid(errors) => json!({
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": details(&errors.errors),
            }),
            ApiError::InvalidPackage(findings) => {
                let errors = findings
                    .iter()
                    .filter(|f| f.severity == zaffre_manifest::Severity::Error)
                    .count();
                // Like Zendesk's `apps/validate`, `description` is the first
                // error; `findings` has all of them, with file and JSON path.
                let first = findings
                    .iter()
                    .find(|f| f.severity == zaffre_manifest::Severity::Error)
                    .map_or_else(String::new, |f| f.message.clone());
                json!({
                    "error": "InvalidPackage",
                    "description": if errors > 1 {
                        format!("{first} (and {} more errors)", errors - 1)
                    } else {
                        first
                    },
                    "findings": findings,
                })
            }
            ApiError::BadRequest(code, description) => {
                json!({"error": code, "description": description})
            }
            // Zendesk's exact body for a failed authentication.
            ApiError::Unauthenticated => json!({"error": "Couldn't authenticate you"}),
            ApiError::Forbidden => json!({
                "error": "Forbidden",
                "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."
            }),
            ApiError::CsrfRejected => json!({
                "error": "InvalidCSRF",
                "description": "Writes from the browser must come from zaffre's own pages and carry its X-CSRF-Token header"
            }),
            ApiError::UpdateConflict => json!({
                "error": "UpdateConflict",
                "description": "The record was changed by someone else since you loaded it"
            }),
            ApiError::PayloadTooLarge { limit } => json!({
                "error": "PayloadTooLarge",
                "description": format!("The request body is larger than {limit} bytes")
            }),
            ApiError::RateLimited { retry_after_secs } => json!({
                "error": "TooManyRequests",
                "description": format!("Rate limit exceeded; retry after {retry_after_secs} seconds")
            }),
            ApiError::ProxyRefused {
                status,
                code,
                message,
            } => json!({
                "error": proxy_error_name(self.status()),
                "description": message,
                "proxy_refusal": {"status": status, "code": code, "message": message},
            }),
            ApiError::Unavailable(_) => json!({
                "error": "ServiceUnavailable",
                "description": "The database is not available; try again shortly"
            }),
            ApiError::Internal(_) => json!({
                "error": "InternalError",
                "description": "Something went wrong on our side; it has been logged"
            }),
        }
    }
}

/// The `error` name of a proxy refusal, by its status; the precise reason is
/// `proxy_refusal.code`.
fn proxy_error_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "InvalidParams",
        403 => "Forbidden",
        404 => "RecordNotFound",
        413 => "PayloadTooLarge",
        422 => "UnprocessableEntity",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "BadGateway",
    }
}

/// Groups field errors by attribute, as Zendesk's `details` map does.
fn details(errors: &[FieldError]) -> BTreeMap<&str, Vec<&FieldError>> {
    let mut map: BTreeMap<&str, Vec<&FieldError>> = BTreeMap::new();
    for e in errors {
        map.entry(e.attribute.as_str()).or_default().push(e);
    }
    map
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            _ => {}
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if let ApiError::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(text) => ApiError::invalid("base", text),
            // Callers that can retry handle this themselves; reaching here means they gave up.
            StoreError::StaleRevision => ApiError::UpdateConflict,
            StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => {
                ApiError::Unavailable(e.to_string())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::secrets::SecretError> for ApiError {
    /// A secret that cannot be sealed or opened is the server's problem (a
    /// wrong key on this node, a tampered row): logged, and a generic 500.
    /// The error's text names the setting and key ids, never a value.
    fn from(e: crate::secrets::SecretError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<zaffre_proxy::Refusal> for ApiError {
    /// The proxy's refusal, with its status; its message never holds a secure value.
    fn from(r: zaffre_proxy::Refusal) -> Self {
        ApiError::ProxyRefused {
            status: r.status,
            code: r.code.as_str().to_owned(),
            message: r.message,
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::Invalid(e)
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        ApiError::BadRequest("InvalidSearch", e.0)
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
