//! Stage 2 (continued): the outgoing request's headers and body, built from the app's options with placeholders
//! interpolated per position.
//!
//! Headers: names must be HTTP tokens without `_` (Zendesk's proxy rule: `client-id` yes, `client_id` no); values
//! may not hold CR, LF or NUL after interpolation. Hop-by-hop headers (`Connection`, `Keep-Alive`, `TE`,
//! `Trailer`, `Transfer-Encoding`, `Upgrade`, `Proxy-*`), `Host`, `Content-Length`, `Expect`, `User-Agent`,
//! `Accept-Encoding` and forwarding headers (`Via`, `Forwarded`, `X-Forwarded-*`, `X-Real-IP`) are dropped, as a
//! browser drops forbidden headers from `XMLHttpRequest`: the proxy sets `Host` and `Content-Length` from the
//! checked request, a fixed `User-Agent`, and `Accept-Encoding: identity` (no compressed bodies, so no
//! decompression bombs). `Authorization` and `Cookie` set explicitly by the app are sent (that is how apps send
//! tokens); the browser's own cookies and credentials never reach the proxy.
//!
//! Bodies follow jQuery: a `data` string is sent as is; an object is JSON when the content type mentions `json`,
//! otherwise form-encoded (jQuery's `$.param`, default content type
//! `application/x-www-form-urlencoded; charset=UTF-8`); for GET and HEAD, `data` goes into the query string.
//! `username`/`password` become `Authorization: Basic` (scopes `basic_auth_username` / `basic_auth_password`).

use base64::Engine;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use serde_json::Value;

use crate::config::ProxyConfig;
use crate::context::{InstallationContext, Scope};
use crate::interpolate::{interpolate_url, Encoding, Interpolator, Masker};
use crate::jwt;
use crate::outcome::{Refusal, RefusalCode};
use crate::request::{AppRequest, ContentTypeOption};

const FORM: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// The request after interpolation, before the target is checked.
pub struct Outgoing {
    pub method: Method,
    /// The interpolated absolute URL (not yet parsed).
    pub url: String,
    /// The URL with `[secure:NAME]` markers instead of values, for messages.
    pub display_url: String,
    /// Query string built from `data` for GET/HEAD, appended after parsing.
    pub extra_query: Option<String>,
    /// Headers without `Host`, which the send stage adds.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    pub secure_settings_used: Vec<String>,
    pub masker: Masker,
}

/// Interpolates and builds the outgoing request. `masker` is filled as soon as values are known, so the caller can
/// mask even the refusals of later steps.
pub fn build(
    request: &AppRequest,
    installation: &InstallationContext,
    config: &ProxyConfig,
    masker: &mut Masker,
    display_url: &mut String,
) -> Result<Outgoing, Refusal> {
    let mut interp = Interpolator::new(installation, request.secure);
    *display_url = interp.render_masked(&request.url);
    if let Some(options) = &request.jwt {
        if !request.secure {
            return Err(Refusal::new(
                RefusalCode::InvalidJwt,
                "the jwt option needs secure: true",
            ));
        }
        let token = jwt::mint(options, &mut interp, installation, config);
        *masker = interp.masker();
        interp.set_jwt_token(token?);
        *masker = interp.masker();
        *display_url = interp.render_masked(&request.url);
    }
    let result = build_inner(request, config, &mut interp);
    *masker = interp.masker();
    result
}

fn build_inner(
    request: &AppRequest,
    config: &ProxyConfig,
    interp: &mut Interpolator<'_>,
) -> Result<Outgoing, Refusal> {
    let method = Method::from_bytes(request.method.as_bytes())
        .map_err(|_| Refusal::new(RefusalCode::InvalidOption, "type is not an HTTP method"))?;
    let (url, display_url) = interpolate_url(&request.url, interp)?;

    let in_query = method == Method::GET || method == Method::HEAD;
    let content_type_header = request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    let content_type: Option<String> = match (content_type_header, &request.content_type) {
        (Some((_, v)), _) => Some(v.clone()),
        (None, ContentTypeOption::Given(ct)) => Some(ct.clone()),
        (None, ContentTypeOption::Default) => Some(FORM.to_string()),
        (None, ContentTypeOption::Omit) => None,
    };
    let is_json = content_type
        .as_deref()
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));

    let mut extra_query = None;
    let mut body = Bytes::new();
    match &request.data {
        None => {}
        Some(Value::String(s)) if in_query && s.is_empty() => {}
        Some(Value::String(s)) if in_query => {
            extra_query = Some(interp.apply(s, Scope::Url, Encoding::UrlComponent)?);
        }
        Some(data) if in_query => {
            let pairs = form_pairs(data, interp, Scope::Url)?;
            if !pairs.is_empty() {
                extra_query = Some(encode_form(&pairs)?);
            }
        }
        Some(Value::String(s)) => {
            body = Bytes::from(interp.apply(s, Scope::Body, Encoding::Verbatim)?)
        }
        Some(data) if is_json => {
            let value = interpolate_json(data, interp, Scope::Body)?;
            body = Bytes::from(serde_json::to_vec(&value).map_err(|_| invalid_data())?);
        }
        Some(data) => body = Bytes::from(encode_form(&form_pairs(data, interp, Scope::Body)?)?),
    }
    if body.len() > config.max_request_body_bytes {
        return Err(Refusal::new(
            RefusalCode::RequestTooLarge,
            format!(
                "the request body is larger than {} bytes",
                config.max_request_body_bytes
            ),
        ));
    }

    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(request.headers.len() + 5);
    let mut has_accept = false;
    let mut has_authorization = false;
    for (name, value) in &request.headers {
        let header_name = header_name(name)?;
        if dropped(&header_name) {
            tracing::debug!(header = %header_name, "app header dropped");
            continue;
        }
        if header_name == hyper::header::CONTENT_TYPE {
            continue; // added below, once
        }
        has_accept |= header_name == hyper::header::ACCEPT;
        has_authorization |= header_name == hyper::header::AUTHORIZATION;
        let value = interp.apply(value, Scope::Header, Encoding::Verbatim)?;
        headers.push((header_name.clone(), header_value(&header_name, &value)?));
    }

    if request.username.is_some() || request.password.is_some() {
        if has_authorization {
            return Err(Refusal::new(
                RefusalCode::InvalidOption,
                "give either username/password or an Authorization header, not both",
            ));
        }
        let user = interp.apply(
            request.username.as_deref().unwrap_or(""),
            Scope::BasicAuthUsername,
            Encoding::Verbatim,
        )?;
        if user.contains(':') {
            return Err(Refusal::new(
                RefusalCode::InvalidOption,
                "username must not contain ':' (RFC 7617)",
            ));
        }
        let password = interp.apply(
            request.password.as_deref().unwrap_or(""),
            Scope::BasicAuthPassword,
            Encoding::Verbatim,
        )?;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.push((
            hyper::header::AUTHORIZATION,
            header_value(&hyper::header::AUTHORIZATION, &format!("Basic {encoded}"))?,
        ));
    }

    if let Some(ct) = content_type.filter(|_| !body.is_empty() || content_type_header.is_some()) {
        let ct = interp.apply(&ct, Scope::Header, Encoding::Verbatim)?;
        headers.push((
            hyper::header::CONTENT_TYPE,
            header_value(&hyper::header::CONTENT_TYPE, &ct)?,
        ));
    }
    if !has_accept {
        let accept = match request.data_type.as_deref() {
            Some("json") => "application/json, text/javascript, */*; q=0.01",
            Some("text") => "text/plain, */*; q=0.01",
            Some("xml") => "application/xml, text/xml, */*; q=0.01",
            Some("html") => "text/html, */*; q=0.01",
            _ => "*/*",
        };
        headers.push((hyper::header::ACCEPT, HeaderValue::from_static(accept)));
    }
    let user_agent = HeaderValue::from_str(&config.user_agent)
        .unwrap_or(HeaderValue::from_static("zaffre-proxy"));
    headers.push((hyper::header::USER_AGENT, user_agent));
    headers.push((
        hyper::header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    ));

    Ok(Outgoing {
        method,
        url,
        display_url,
        extra_query,
        headers,
        body,
        secure_settings_used: interp.used().to_vec(),
        masker: interp.masker(),
    })
}

fn invalid_data() -> Refusal {
    Refusal::new(
        RefusalCode::InvalidOption,
        "data must be a string, an object or an array of {name, value}",
    )
}

fn header_name(name: &str) -> Result<HeaderName, Refusal> {
    if name.contains('_') {
        return Err(Refusal::new(
            RefusalCode::InvalidHeader,
            format!("header name {name:?} contains an underscore, which the proxy does not forward (use '-')"),
        ));
    }
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Refusal::new(
            RefusalCode::InvalidHeader,
            format!("{name:?} is not a valid header name"),
        )
    })
}

fn header_value(name: &HeaderName, value: &str) -> Result<HeaderValue, Refusal> {
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(Refusal::new(
            RefusalCode::InvalidHeader,
            format!("header {name} contains CR, LF or NUL after interpolation"),
        ));
    }
    HeaderValue::from_str(value).map_err(|_| {
        Refusal::new(
            RefusalCode::InvalidHeader,
            format!("header {name} has a value that is not allowed"),
        )
    })
}

fn dropped(name: &HeaderName) -> bool {
    let n = name.as_str();
    matches!(
        n,
        "host"
            | "content-length"
            | "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "expect"
            | "user-agent"
            | "accept-encoding"
            | "via"
            | "forwarded"
            | "x-real-ip"
    ) || n.starts_with("proxy-")
        || n.starts_with("x-forwarded-")
}

fn interpolate_json(
    value: &Value,
    interp: &mut Interpolator<'_>,
    scope: Scope,
) -> Result<Value, Refusal> {
    Ok(match value {
        Value::String(s) => Value::String(interp.apply(s, scope, Encoding::Verbatim)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| interpolate_json(v, interp, scope))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), interpolate_json(v, interp, scope)?)))
                .collect::<Result<_, Refusal>>()?,
        ),
        other => other.clone(),
    })
}

/// jQuery's `$.param` (not `traditional`): `a[]=1&a[]=2`, `o[k]=v`, `list[0][k]=v`; a top-level array must hold
/// `{name, value}` objects (a serialised form).
fn form_pairs(
    data: &Value,
    interp: &mut Interpolator<'_>,
    scope: Scope,
) -> Result<Vec<(String, String)>, Refusal> {
    let mut pairs = Vec::new();
    match data {
        Value::Object(map) => {
            for (k, v) in map {
                add_pairs(k, v, interp, scope, &mut pairs)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                let (Some(Value::String(name)), value) = (item.get("name"), item.get("value"))
                else {
                    return Err(invalid_data());
                };
                let value = match value {
                    Some(v) => scalar(v, interp, scope)?,
                    None => String::new(),
                };
                pairs.push((name.clone(), value));
            }
        }
        _ => return Err(invalid_data()),
    }
    Ok(pairs)
}

fn add_pairs(
    prefix: &str,
    value: &Value,
    interp: &mut Interpolator<'_>,
    scope: Scope,
    pairs: &mut Vec<(String, String)>,
) -> Result<(), Refusal> {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_object() || item.is_array() {
                    add_pairs(&format!("{prefix}[{i}]"), item, interp, scope, pairs)?;
                } else {
                    add_pairs(&format!("{prefix}[]"), item, interp, scope, pairs)?;
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                add_pairs(&format!("{prefix}[{k}]"), v, interp, scope, pairs)?;
            }
        }
        other => pairs.push((prefix.to_string(), scalar(other, interp, scope)?)),
    }
    Ok(())
}

fn scalar(value: &Value, interp: &mut Interpolator<'_>, scope: Scope) -> Result<String, Refusal> {
    Ok(match value {
        Value::String(s) => interp.apply(s, scope, Encoding::Verbatim)?,
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(invalid_data()),
    })
}

fn encode_form(pairs: &[(String, String)]) -> Result<String, Refusal> {
    serde_urlencoded::to_string(pairs).map_err(|_| invalid_data())
}
