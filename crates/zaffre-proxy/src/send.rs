//! Stage 6, **send**: one HTTP/1.1 exchange over a connection from [`crate::connect`], and the 429 retry policy.
//!
//! - The request line uses the origin form (path and query); `Host` is the checked host (and port when not the
//!   default); the body is sent with a `Content-Length`.
//! - Redirects are never followed: a 3xx is returned to the app as is, so a secret is never re-sent anywhere.
//! - A pooled connection that turns out to be closed before any answer is replaced once by a fresh connection
//!   (same checked addresses) when the request was not sent, or the method is idempotent.
//! - 429: retried after `Retry-After` (delta-seconds or an HTTP date, header name case-insensitive; 1 s when
//!   missing or unreadable) at most `max_retries` times, only when the wait is at most `max_retry_after` and still
//!   fits in the call's deadline, and never when the app asked `autoRetry: false`.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, HOST};
use hyper::{Method, Request};

use crate::check::Target;
use crate::connect::{ConnectError, Connection, Connector};
use crate::outcome::{Refusal, RefusalCode, UpstreamResponse};
use crate::response;

/// Delay used for a 429 without a readable `Retry-After`.
pub const FALLBACK_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What went out and came back in one exchange.
pub struct Exchange {
    pub response: Result<UpstreamResponse, Refusal>,
    pub response_bytes: u64,
    pub remote_addr: Option<SocketAddr>,
}

/// The request to send (already checked).
pub struct Prepared<'a> {
    pub method: &'a Method,
    pub target: &'a Target,
    /// Checked addresses, in the order to try.
    pub addrs: &'a [SocketAddr],
    pub headers: &'a [(hyper::header::HeaderName, HeaderValue)],
    pub body: &'a Bytes,
}

fn build_request(prepared: &Prepared<'_>) -> Result<Request<Full<Bytes>>, Refusal> {
    let url = &prepared.target.url;
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut builder = Request::builder()
        .method(prepared.method.clone())
        .uri(path_and_query);
    let headers = builder.headers_mut().ok_or_else(invalid_request)?;
    headers.insert(
        HOST,
        HeaderValue::from_str(&prepared.target.authority()).map_err(|_| invalid_request())?,
    );
    for (name, value) in prepared.headers {
        headers.append(name.clone(), value.clone());
    }
    builder
        .body(Full::new(prepared.body.clone()))
        .map_err(|_| invalid_request())
}

fn invalid_request() -> Refusal {
    Refusal::new(
        RefusalCode::InvalidUrl,
        "the request could not be built from this URL",
    )
}

fn connect_refusal(error: ConnectError) -> Refusal {
    match error {
        ConnectError::Timeout => Refusal::new(
            RefusalCode::Timeout,
            "the upstream did not accept a connection in time",
        ),
        ConnectError::Failed => Refusal::new(
            RefusalCode::ConnectFailed,
            "could not connect to the upstream",
        ),
    }
}

/// One exchange: connect (or use `pooled`, a connection to one of `prepared.addrs` already taken from the pool),
/// send, read the body up to the cap, filter.
pub async fn exchange(
    connector: &Connector,
    prepared: &Prepared<'_>,
    pooled: Option<Connection>,
    max_response_bytes: usize,
) -> Exchange {
    let target = prepared.target;
    let host = target.host_str();
    let connected = match pooled {
        Some(connection) => Ok(connection),
        None => connector.connect(target.https, &host, prepared.addrs).await,
    };
    let mut connection = match connected {
        Ok(c) => c,
        Err(e) => {
            return Exchange {
                response: Err(connect_refusal(e)),
                response_bytes: 0,
                remote_addr: None,
            }
        }
    };
    let idempotent = matches!(
        *prepared.method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    );
    let mut sent = match build_request(prepared) {
        Ok(request) => send_once(&mut connection, request).await,
        Err(refusal) => {
            return Exchange {
                response: Err(refusal),
                response_bytes: 0,
                remote_addr: None,
            }
        }
    };
    if let Err(error) = &sent {
        // A keep-alive connection the upstream closed while idle: try once more on a fresh one, unless the
        // request may have reached the upstream and is not idempotent.
        if connection.reused && (!error.sent || error.error.is_canceled() || idempotent) {
            match connector
                .dial_any(target.https, &host, prepared.addrs)
                .await
            {
                Ok(fresh) => {
                    connection = fresh;
                    sent = match build_request(prepared) {
                        Ok(request) => send_once(&mut connection, request).await,
                        Err(refusal) => {
                            return Exchange {
                                response: Err(refusal),
                                response_bytes: 0,
                                remote_addr: None,
                            }
                        }
                    };
                }
                Err(e) => {
                    return Exchange {
                        response: Err(connect_refusal(e)),
                        response_bytes: 0,
                        remote_addr: None,
                    }
                }
            }
        }
    }
    let remote_addr = Some(connection.key.addr);
    let response = match sent {
        Ok(r) => r,
        Err(error) => {
            tracing::debug!(error = %error.error, "upstream exchange failed");
            return Exchange {
                response: Err(Refusal::new(
                    RefusalCode::UpstreamError,
                    "the upstream closed the connection without answering",
                )),
                response_bytes: 0,
                remote_addr,
            };
        }
    };

    let (parts, mut body) = response.into_parts();
    let too_large = || {
        Refusal::new(
            RefusalCode::ResponseTooLarge,
            format!("the upstream's response is larger than {max_response_bytes} bytes"),
        )
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_response_bytes as u64) {
        return Exchange {
            response: Err(too_large()),
            response_bytes: 0,
            remote_addr,
        };
    }
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    if bytes.len() + data.len() > max_response_bytes {
                        // Stop reading; the connection is dropped, not pooled.
                        let read = (bytes.len() + data.len()) as u64;
                        return Exchange {
                            response: Err(too_large()),
                            response_bytes: read,
                            remote_addr,
                        };
                    }
                    bytes.extend_from_slice(data);
                }
            }
            Some(Err(error)) => {
                tracing::debug!(error = %error, "upstream body failed");
                return Exchange {
                    response: Err(Refusal::new(
                        RefusalCode::UpstreamError,
                        "the upstream's response broke off",
                    )),
                    response_bytes: bytes.len() as u64,
                    remote_addr,
                };
            }
        }
    }
    connector.checkin(connection);
    let response_bytes = bytes.len() as u64;
    let reason = parts
        .extensions
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| r.as_bytes().to_vec());
    Exchange {
        response: response::filter(parts.status, reason.as_deref(), &parts.headers, bytes),
        response_bytes,
        remote_addr,
    }
}

/// A failed send, and whether the request may have gone out (a connection found closed before sending is always
/// safe to replace).
struct SendError {
    error: hyper::Error,
    sent: bool,
}

async fn send_once(
    connection: &mut Connection,
    request: Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, SendError> {
    connection
        .sender
        .ready()
        .await
        .map_err(|error| SendError { error, sent: false })?;
    connection
        .sender
        .send_request(request)
        .await
        .map_err(|error| SendError { error, sent: true })
}

/// How long to wait before retrying a 429, from its `Retry-After` value (`None` when unreadable).
pub fn retry_after(value: Option<&str>, now: SystemTime) -> Option<Duration> {
    let value = value?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(Some(" 2 "), now), Some(Duration::from_secs(2)));
        assert_eq!(
            retry_after(Some("86400"), now),
            Some(Duration::from_secs(86400))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(3));
        assert_eq!(retry_after(Some(&later), now), Some(Duration::from_secs(3)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(3));
        assert_eq!(retry_after(Some(&earlier), now), Some(Duration::ZERO));
        assert_eq!(retry_after(Some("soon"), now), None);
        assert_eq!(retry_after(Some("-1"), now), None);
        assert_eq!(retry_after(None, now), None);
    }
}
