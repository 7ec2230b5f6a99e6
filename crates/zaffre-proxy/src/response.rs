//! Stage 7, **filter the response**: what of the upstream's answer reaches the app.
//!
//! - The body is read up to `max_response_bytes` and no further (a larger declared `Content-Length` is refused
//!   before reading); the proxy asked for `Accept-Encoding: identity`, so nothing is decompressed.
//! - Text only: `ZAF request()` carries no binary bodies. A body is refused (502 `binary_response`) when its
//!   content type is not textual (`text/*`, JSON, XML, JavaScript, form, YAML, CSV, JWT, GraphQL, NDJSON) or it is
//!   not valid UTF-8. An empty body is always fine; a body without content type must be UTF-8.
//! - Hop-by-hop headers (and any named in `Connection`) and `Set-Cookie` are removed: cookies of a third party
//!   must not be planted in, or read by, the app.
//! - Statuses are passed unchanged, 3xx included (redirects are never followed, so a secret is never re-sent to
//!   another host); the bridge turns non-2xx into jqXHR-like failures.

use hyper::header::HeaderMap;
use hyper::StatusCode;

use crate::outcome::{Refusal, RefusalCode, UpstreamResponse};

/// Whether a `Content-Type` value names a textual media type.
pub fn is_textual(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((top, sub)) = essence.split_once('/') else {
        return false;
    };
    if top == "text" {
        return true;
    }
    if top != "application" {
        return false;
    }
    sub.ends_with("+json")
        || sub.ends_with("+xml")
        || matches!(
            sub,
            "json"
                | "xml"
                | "javascript"
                | "x-javascript"
                | "ecmascript"
                | "x-www-form-urlencoded"
                | "graphql"
                | "graphql-response+json"
                | "x-ndjson"
                | "ndjson"
                | "yaml"
                | "x-yaml"
                | "csv"
                | "jwt"
                | "jose"
                | "json-seq"
                | "x-json"
        )
}

fn hop_by_hop(name: &str, connection_tokens: &[String]) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "te" | "trailer" | "transfer-encoding" | "upgrade"
    ) || name.starts_with("proxy-")
        || connection_tokens.iter().any(|t| t == name)
}

/// Builds the app's view of the response, or refuses a binary one.
pub fn filter(
    status: StatusCode,
    reason: Option<&[u8]>,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<UpstreamResponse, Refusal> {
    let content_type = headers
        .get(hyper::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if !body.is_empty() {
        if let Some(ct) = &content_type {
            if !is_textual(ct) {
                return Err(binary());
            }
        }
    }
    let body = String::from_utf8(body).map_err(|_| binary())?;

    let connection_tokens: Vec<String> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    let headers = headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !hop_by_hop(name, &connection_tokens) && name != "set-cookie" && name != "set-cookie2"
        })
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let status_text = reason
        .and_then(|r| std::str::from_utf8(r).ok())
        .map(str::to_string)
        .or_else(|| status.canonical_reason().map(str::to_string))
        .unwrap_or_default();
    Ok(UpstreamResponse {
        status: status.as_u16(),
        status_text,
        headers,
        body,
        retries: 0,
    })
}

fn binary() -> Refusal {
    Refusal::new(
        RefusalCode::BinaryResponse,
        "the upstream answered with a binary body; request() carries text only (JSON, XML, HTML, plain text)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textual_types() {
        for t in [
            "text/html; charset=utf-8",
            "application/json",
            "application/problem+json",
            "application/atom+xml",
            "TEXT/PLAIN",
        ] {
            assert!(is_textual(t), "{t}");
        }
        for t in [
            "image/png",
            "application/octet-stream",
            "application/pdf",
            "application/zip",
            "video/mp4",
            "nonsense",
        ] {
            assert!(!is_textual(t), "{t}");
        }
    }

    #[test]
    fn filters_headers_and_binary() {
        let mut h = HeaderMap::new();
        h.insert("content-type", "text/plain".parse().unwrap());
        h.insert("set-cookie", "a=b".parse().unwrap());
        h.insert("connection", "x-private, keep-alive".parse().unwrap());
        h.insert("x-private", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert("x-rate-limit", "10".parse().unwrap());
        let r = filter(StatusCode::OK, None, &h, b"hi".to_vec()).unwrap();
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content-type", "x-rate-limit"]);
        assert_eq!(r.status_text, "OK");
        assert_eq!(
            filter(StatusCode::OK, None, &h, vec![0xff, 0xfe])
                .unwrap_err()
                .code,
            RefusalCode::BinaryResponse
        );
        h.insert("content-type", "image/png".parse().unwrap());
        assert_eq!(
            filter(StatusCode::OK, None, &h, b"png".to_vec())
                .unwrap_err()
                .code,
            RefusalCode::BinaryResponse
        );
        assert!(filter(StatusCode::NO_CONTENT, None, &h, vec![]).is_ok());
    }
}
