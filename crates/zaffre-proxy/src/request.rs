//! Stage 1, **parse**: the app's `client.request()` options (a JSON object, as the SDK posts them) read into a
//! typed [`AppRequest`], with every option's type checked. Nothing here is trusted: every field comes from code
//! running in the app's iframe.
//!
//! Options read: `url`, `type` (or jQuery's `method`; default GET), `data`, `contentType`, `dataType`, `headers`,
//! `secure`, `jwt`, `autoRetry`, `timeout` (ms), `username`, `password`. `httpCompleteResponse` is the bridge's
//! business; jQuery pass-throughs (`cache`, `xhrFields`, …) are ignored; `cors: true` is refused (such requests are
//! sent by the browser and never reach the proxy).

use std::time::Duration;

use serde_json::{Map, Value};

use crate::outcome::{Refusal, RefusalCode};

/// Methods the proxy sends. jQuery accepts any token; these are the ones HTTP APIs use.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The app's request options, validated for shape (not yet for policy).
#[derive(Clone, Debug, PartialEq)]
pub struct AppRequest {
    /// The URL template as the app wrote it (placeholders not yet replaced).
    pub url: String,
    /// Upper-case method.
    pub method: String,
    /// `data`: a string is sent as is, an object or array is encoded per `content_type` (or put in the query for
    /// GET and HEAD).
    pub data: Option<Value>,
    pub content_type: ContentTypeOption,
    /// `dataType` (`json`, `text`, …); the proxy derives `Accept` from it.
    pub data_type: Option<String>,
    /// Headers in the app's order; values as strings.
    pub headers: Vec<(String, String)>,
    pub secure: bool,
    pub jwt: Option<JwtOptions>,
    /// `autoRetry` (default true): retry an upstream 429 after its `Retry-After`.
    pub auto_retry: bool,
    /// `timeout` in ms (0 or absent: the server default), capped by the server.
    pub timeout: Option<Duration>,
    /// jQuery's `username`/`password`: sent as `Authorization: Basic`.
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The `contentType` option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentTypeOption {
    /// Absent: jQuery's default `application/x-www-form-urlencoded; charset=UTF-8` when there is a body.
    Default,
    /// `false`: no Content-Type header is sent.
    Omit,
    /// The given media type.
    Given(String),
}

/// The `jwt` option: `{algorithm, secret_key, expiry, claims}`.
#[derive(Clone, Debug, PartialEq)]
pub struct JwtOptions {
    /// Must be a single `{{setting.NAME}}` placeholder naming a secure setting.
    pub secret_key: String,
    /// Seconds; `None` = the server default. Capped by the server.
    pub expiry: Option<u64>,
    pub claims: Map<String, Value>,
}

fn invalid(message: impl Into<String>) -> Refusal {
    Refusal::new(RefusalCode::InvalidOption, message)
}

impl AppRequest {
    /// Reads the options object (or a bare URL string, as `client.request("…")` allows).
    pub fn from_options(options: &Value) -> Result<AppRequest, Refusal> {
        let owned;
        let options = match options {
            Value::Object(map) => map,
            Value::String(url) => {
                owned = Map::from_iter([("url".to_string(), Value::String(url.clone()))]);
                &owned
            }
            _ => return Err(invalid("request options must be an object or a URL string")),
        };

        if bool_option(options, "cors")?.unwrap_or(false) {
            return Err(invalid(
                "cors requests are sent by the browser and never through the proxy",
            ));
        }
        let url = match options.get("url") {
            Some(Value::String(url)) if !url.is_empty() => url.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(invalid("url is required"))
            }
            Some(_) => return Err(invalid("url must be a string")),
        };

        let method = match options
            .get("type")
            .filter(|v| !v.is_null())
            .or_else(|| options.get("method"))
        {
            None | Some(Value::Null) => "GET".to_string(),
            Some(Value::String(m)) => {
                let upper = m.trim().to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    return Err(invalid(format!(
                        "type must be one of {}",
                        METHODS.join(", ")
                    )));
                }
                upper
            }
            Some(_) => return Err(invalid("type must be a string")),
        };

        let data = options.get("data").filter(|v| !v.is_null()).cloned();
        if let Some(Value::Bool(_)) = data {
            return Err(invalid("data must be a string, an object or an array"));
        }

        let content_type = match options.get("contentType") {
            None | Some(Value::Null) => ContentTypeOption::Default,
            Some(Value::Bool(false)) => ContentTypeOption::Omit,
            Some(Value::String(ct)) if !ct.trim().is_empty() => {
                ContentTypeOption::Given(ct.trim().to_string())
            }
            Some(_) => return Err(invalid("contentType must be a media type string or false")),
        };

        let data_type = match options.get("dataType") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(t.trim().to_ascii_lowercase()),
            Some(_) => return Err(invalid("dataType must be a string")),
        };

        let headers = match options.get("headers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => {
                let mut headers = Vec::with_capacity(map.len());
                for (name, value) in map {
                    let value = match value {
                        Value::Null => continue,
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => {
                            return Err(Refusal::new(
                                RefusalCode::InvalidHeader,
                                format!("header {name:?} must have a string value"),
                            ))
                        }
                    };
                    headers.push((name.clone(), value));
                }
                headers
            }
            Some(_) => return Err(invalid("headers must be an object")),
        };

        let secure = bool_option(options, "secure")?.unwrap_or(false);
        let auto_retry = bool_option(options, "autoRetry")?.unwrap_or(true);

        let timeout = match options.get("timeout") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(ms) if ms.is_finite() && ms >= 0.0 => {
                    if ms == 0.0 {
                        None // jQuery: 0 means no timeout of its own, so the server default applies.
                    } else {
                        Some(Duration::from_secs_f64(ms.min(1e12) / 1000.0))
                    }
                }
                _ => {
                    return Err(invalid(
                        "timeout must be a non-negative number of milliseconds",
                    ))
                }
            },
            Some(_) => return Err(invalid("timeout must be a number of milliseconds")),
        };

        let username = string_option(options, "username")?;
        let password = string_option(options, "password")?;

        let jwt = match options.get("jwt") {
            None | Some(Value::Null) => None,
            Some(Value::Object(jwt)) => Some(parse_jwt(jwt)?),
            Some(_) => {
                return Err(Refusal::new(
                    RefusalCode::InvalidJwt,
                    "jwt must be an object",
                ))
            }
        };

        Ok(AppRequest {
            url,
            method,
            data,
            content_type,
            data_type,
            headers,
            secure,
            jwt,
            auto_retry,
            timeout,
            username,
            password,
        })
    }
}

fn parse_jwt(jwt: &Map<String, Value>) -> Result<JwtOptions, Refusal> {
    let bad = |m: &str| Refusal::new(RefusalCode::InvalidJwt, m.to_string());
    match jwt.get("algorithm") {
        None | Some(Value::Null) => {}
        Some(Value::String(alg)) if alg == "HS256" => {}
        Some(_) => {
            return Err(bad(
                "jwt.algorithm must be HS256, the only algorithm the proxy signs with",
            ))
        }
    }
    let secret_key = match jwt.get("secret_key") {
        Some(Value::String(s)) => s.trim().to_string(),
        _ => {
            return Err(bad(
                "jwt.secret_key must be a {{setting.NAME}} placeholder of a secure setting",
            ))
        }
    };
    let expiry = match jwt.get("expiry") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(secs) if secs > 0 => Some(secs),
            _ => return Err(bad("jwt.expiry must be a positive whole number of seconds")),
        },
        Some(_) => return Err(bad("jwt.expiry must be a number of seconds")),
    };
    let claims = match jwt.get("claims") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(claims)) => claims.clone(),
        Some(_) => return Err(bad("jwt.claims must be an object")),
    };
    Ok(JwtOptions {
        secret_key,
        expiry,
        claims,
    })
}

fn bool_option(options: &Map<String, Value>, name: &str) -> Result<Option<bool>, Refusal> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(format!("{name} must be true or false"))),
    }
}

fn string_option(options: &Map<String, Value>, name: &str) -> Result<Option<String>, Refusal> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{name} must be a string"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_defaults_and_options() {
        let r = AppRequest::from_options(&json!("https://a.test/x")).unwrap();
        assert_eq!(r.method, "GET");
        assert!(r.auto_retry && !r.secure);
        let r = AppRequest::from_options(&json!({
            "url": "https://a.test", "type": "post", "headers": {"X-N": 3, "X-Skip": null},
            "timeout": 1500, "autoRetry": false, "contentType": false,
            "jwt": {"algorithm": "HS256", "secret_key": "{{setting.k}}", "expiry": 60, "claims": {"a": 1}}
        }))
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.headers, vec![("X-N".to_string(), "3".to_string())]);
        assert_eq!(r.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(r.content_type, ContentTypeOption::Omit);
        assert_eq!(r.jwt.unwrap().expiry, Some(60));
    }

    #[test]
    fn refuses_bad_shapes() {
        for (options, code) in [
            (json!(3), RefusalCode::InvalidOption),
            (json!({}), RefusalCode::InvalidOption),
            (
                json!({"url": "https://a.test", "cors": true}),
                RefusalCode::InvalidOption,
            ),
            (
                json!({"url": "https://a.test", "type": "TRACE"}),
                RefusalCode::InvalidOption,
            ),
            (
                json!({"url": "https://a.test", "type": "GET\r\nX: y"}),
                RefusalCode::InvalidOption,
            ),
            (
                json!({"url": "https://a.test", "secure": "yes"}),
                RefusalCode::InvalidOption,
            ),
            (
                json!({"url": "https://a.test", "timeout": -1}),
                RefusalCode::InvalidOption,
            ),
            (
                json!({"url": "https://a.test", "headers": {"a": {"b": 1}}}),
                RefusalCode::InvalidHeader,
            ),
            (
                json!({"url": "https://a.test", "jwt": {"algorithm": "none", "secret_key": "x"}}),
                RefusalCode::InvalidJwt,
            ),
            (
                json!({"url": "https://a.test", "jwt": {"algorithm": "RS256", "secret_key": "x"}}),
                RefusalCode::InvalidJwt,
            ),
            (
                json!({"url": "https://a.test", "jwt": {"secret_key": "x", "expiry": -5}}),
                RefusalCode::InvalidJwt,
            ),
        ] {
            let err = AppRequest::from_options(&options).unwrap_err();
            assert_eq!(err.code, code, "{options}");
            assert_eq!(err.status, code.status());
        }
    }
}
