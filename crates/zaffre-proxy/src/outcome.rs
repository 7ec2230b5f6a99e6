//! What a proxied call yields: the upstream's answer or a [`Refusal`], plus an [`AuditRecord`] in every case.
//!
//! Nothing in here may carry a secure value: refusal messages are written from names and positions only, and the
//! audit record masks secure values (`[secure:NAME]`) wherever they could appear.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

/// The result of [`crate::Proxy::send`].
#[derive(Debug)]
pub struct ProxyOutcome {
    pub result: Result<UpstreamResponse, Refusal>,
    pub audit: AuditRecord,
}

/// The upstream's answer, whatever its status (the bridge turns non-2xx into jqXHR-like failures).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UpstreamResponse {
    pub status: u16,
    pub status_text: String,
    /// Response headers minus hop-by-hop headers and `Set-Cookie`, names in lower case, in the upstream's order.
    pub headers: Vec<(String, String)>,
    /// The body as UTF-8 text (binary bodies are refused).
    pub body: String,
    /// How many times a 429 was retried before this answer.
    pub retries: u32,
}

impl UpstreamResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why the proxy did not return an upstream answer. `message` is safe to show to the app.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Refusal {
    /// 400 bad option, 403 forbidden target, 413 request body too large, 422 unknown setting, 502 upstream, DNS or
    /// connect failure, response too large or binary, 504 timeout.
    pub status: u16,
    pub code: RefusalCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status: code.status(),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status,
            self.code.as_str(),
            self.message
        )
    }
}

impl std::error::Error for Refusal {}

/// Machine-readable refusal reasons; each maps to one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// An option has the wrong type or value (400).
    InvalidOption,
    /// The URL is not an absolute http(s) URL we accept (400).
    InvalidUrl,
    /// A header name or value is not allowed (400).
    InvalidHeader,
    /// The `jwt` option is invalid (400).
    InvalidJwt,
    /// A secure value would go into a position its scopes don't allow, or into the URL's host structurally (400).
    ScopeViolation,
    /// The request body is larger than the limit (413).
    RequestTooLarge,
    /// The target is not allowed: scheme, address class, own host, not whitelisted for a secure request (403).
    ForbiddenTarget,
    /// A `{{setting.NAME}}` names no setting of the installation (422).
    UnknownSetting,
    /// The host name did not resolve (502).
    ResolveFailed,
    /// No connection could be made (502).
    ConnectFailed,
    /// The upstream broke the exchange (502).
    UpstreamError,
    /// The response body was larger than the limit (502).
    ResponseTooLarge,
    /// The response was not text (502).
    BinaryResponse,
    /// The upstream did not answer in time (504).
    Timeout,
    /// The proxy endpoint is not available (503); reserved for callers (e.g. not yet implemented).
    Unavailable,
}

impl RefusalCode {
    pub fn status(self) -> u16 {
        match self {
            RefusalCode::InvalidOption
            | RefusalCode::InvalidUrl
            | RefusalCode::InvalidHeader
            | RefusalCode::InvalidJwt
            | RefusalCode::ScopeViolation => 400,
            RefusalCode::RequestTooLarge => 413,
            RefusalCode::ForbiddenTarget => 403,
            RefusalCode::UnknownSetting => 422,
            RefusalCode::ResolveFailed
            | RefusalCode::ConnectFailed
            | RefusalCode::UpstreamError
            | RefusalCode::ResponseTooLarge
            | RefusalCode::BinaryResponse => 502,
            RefusalCode::Timeout => 504,
            RefusalCode::Unavailable => 503,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::InvalidOption => "invalid_option",
            RefusalCode::InvalidUrl => "invalid_url",
            RefusalCode::InvalidHeader => "invalid_header",
            RefusalCode::InvalidJwt => "invalid_jwt",
            RefusalCode::ScopeViolation => "scope_violation",
            RefusalCode::RequestTooLarge => "request_too_large",
            RefusalCode::ForbiddenTarget => "forbidden_target",
            RefusalCode::UnknownSetting => "unknown_setting",
            RefusalCode::ResolveFailed => "resolve_failed",
            RefusalCode::ConnectFailed => "connect_failed",
            RefusalCode::UpstreamError => "upstream_error",
            RefusalCode::ResponseTooLarge => "response_too_large",
            RefusalCode::BinaryResponse => "binary_response",
            RefusalCode::Timeout => "timeout",
            RefusalCode::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit row, written for every call including refusals. Never holds a secure value.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct AuditRecord {
    /// Upper-case method (empty when the options could not be read).
    pub method: String,
    /// `http` or `https` (empty when the URL could not be parsed).
    pub scheme: String,
    /// The host parsed after interpolation, secure values masked as `[secure:NAME]`.
    pub host: String,
    pub port: u16,
    /// The path parsed after interpolation, secure values masked; never the query string.
    pub path: String,
    /// The upstream's final status, `None` when refused.
    pub status: Option<u16>,
    pub duration: Duration,
    /// Request body bytes sent upstream (per attempt).
    pub request_bytes: u64,
    /// Response body bytes read.
    pub response_bytes: u64,
    /// Names of the secure settings interpolated (never their values).
    pub secure_settings_used: Vec<String>,
    /// `code: message` of the refusal, if refused.
    pub refusal: Option<String>,
    pub retries: u32,
    /// The checked address actually connected to (the last attempt's), if any.
    pub remote_addr: Option<SocketAddr>,
}
