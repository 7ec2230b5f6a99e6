//! The `jwt` option: an HS256 token minted by the proxy for the app, used as `{{jwt.token}}` (part of stage 2).
//!
//! The claims come from browser code, so a receiving server could otherwise trust nothing in them
//! (zendesk/zendesk_app_framework_sdk#206). zaffre therefore:
//! - signs with HS256 only (the option parser refuses any other `algorithm`);
//! - takes the key only from a secure setting: `secret_key` must be exactly one `{{setting.NAME}}` placeholder
//!   naming a secure setting whose scopes allow `jwt_secret_key`;
//! - interpolates secure settings into string claims (scope `jwt_claim`);
//! - sets `iat` and `exp` itself (expiry: the app's `expiry` seconds, default 300, capped by the server);
//! - adds `zaffre: {account, account_id, installation_id, app_id, user_id}`, which identifies who asked. Client
//!   claims called `iat`, `exp` or `zaffre` are replaced by ours.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};

use crate::config::ProxyConfig;
use crate::context::{InstallationContext, Scope};
use crate::interpolate::{Encoding, Interpolator};
use crate::outcome::{Refusal, RefusalCode};
use crate::request::JwtOptions;

/// The claims of the token (exposed for tests of the claim rules).
pub fn claims(
    options: &JwtOptions,
    interp: &mut Interpolator<'_>,
    installation: &InstallationContext,
    config: &ProxyConfig,
    now: u64,
) -> Result<Map<String, Value>, Refusal> {
    let mut claims = Map::new();
    for (name, value) in &options.claims {
        claims.insert(name.clone(), interpolate_value(value, interp)?);
    }
    let expiry = options
        .expiry
        .unwrap_or(config.jwt_default_expiry.as_secs())
        .min(config.jwt_max_expiry.as_secs())
        .max(1);
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + expiry));
    claims.insert(
        "zaffre".into(),
        json!({
            "account": installation.account_subdomain,
            "account_id": installation.account_id,
            "installation_id": installation.installation_id,
            "app_id": installation.app_id,
            "user_id": installation.user_id,
        }),
    );
    Ok(claims)
}

fn interpolate_value(value: &Value, interp: &mut Interpolator<'_>) -> Result<Value, Refusal> {
    Ok(match value {
        Value::String(s) => Value::String(interp.apply(s, Scope::JwtClaim, Encoding::Verbatim)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| interpolate_value(v, interp))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), interpolate_value(v, interp)?)))
                .collect::<Result<_, Refusal>>()?,
        ),
        other => other.clone(),
    })
}

/// Mints the token for a secure request.
pub fn mint(
    options: &JwtOptions,
    interp: &mut Interpolator<'_>,
    installation: &InstallationContext,
    config: &ProxyConfig,
) -> Result<String, Refusal> {
    let bad = |m: String| Refusal::new(RefusalCode::InvalidJwt, m);
    let name = options
        .secret_key
        .strip_prefix("{{setting.")
        .and_then(|rest| rest.strip_suffix("}}"))
        .filter(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .ok_or_else(|| {
            bad(
                "jwt.secret_key must be a single {{setting.NAME}} placeholder of a secure setting"
                    .into(),
            )
        })?;
    let setting = installation.setting(name).ok_or_else(|| {
        Refusal::new(
            RefusalCode::UnknownSetting,
            format!("{{{{setting.{name}}}}} names no setting of this installation"),
        )
    })?;
    if !setting.secure {
        return Err(bad(format!(
            "jwt.secret_key must name a secure setting; {name:?} is not secure"
        )));
    }
    if setting.value.is_empty() {
        return Err(bad(format!(
            "the secure setting {name:?} used as jwt.secret_key is empty"
        )));
    }
    // Goes through the interpolator so the scope check and the "used" bookkeeping are the same as everywhere.
    let key = interp.apply(&options.secret_key, Scope::JwtSecretKey, Encoding::Verbatim)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = claims(options, interp, installation, config, now)?;
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .map_err(|_| bad("the JWT could not be signed".into()))
}
