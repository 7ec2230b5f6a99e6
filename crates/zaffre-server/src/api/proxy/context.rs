//! Building the proxy's [`InstallationContext`] from what the server stores:
//! the installation's plain settings, its sealed secure settings (opened
//! here, with the server's key), the app manifest's parameters (which of
//! them are secure and their `scopes`) and `domainWhitelist`, the account's
//! subdomain, and the signed-in user.
//!
//! The rules, kept in pure functions so they are unit-tested without a
//! database:
//! - A secure value is passed only for a parameter the current manifest
//!   declares `secure: true`; a sealed value left over from an older version
//!   (the parameter was removed, or is no longer secure) is not used.
//! - Scopes narrow, never widen: a scope name the proxy does not know makes
//!   the setting unusable rather than dropping the name (an empty list would
//!   mean "every position").
//! - Plain settings are passed as text (numbers and booleans as JSON writes
//!   them); `null` values are left out. The proxy uses them only to resolve
//!   `domainWhitelist` templates: in a request they stay literal.

use serde_json::{Map, Value};
use zaffre_domain::apps::SecretValue;
use zaffre_manifest::Manifest;
use zaffre_proxy::{InstallationContext, Scope, SettingValue};

/// Who and what a proxied call is for; everything comes from the server.
pub struct ContextParts<'a> {
    pub account_id: i64,
    pub account_subdomain: &'a str,
    pub installation_id: i64,
    pub app_id: i64,
    pub user_id: i64,
    pub manifest: &'a Manifest,
    pub plain_settings: &'a Map<String, Value>,
    /// Opened secure values by setting name.
    pub secrets: Vec<(String, SecretValue)>,
}

/// Builds the context; see the module docs for the rules.
pub fn installation_context(parts: ContextParts<'_>) -> InstallationContext {
    let mut settings: Vec<SettingValue> = Vec::new();
    for (name, value) in parts.plain_settings {
        let declared_secure = parts
            .manifest
            .parameters
            .iter()
            .any(|p| &p.name == name && p.secure);
        // A secure parameter's value never lives in the plain map; if one did, it is not trusted as plain either.
        if declared_secure {
            continue;
        }
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        settings.push(SettingValue {
            name: name.clone(),
            value: text,
            secure: false,
            scopes: Vec::new(),
        });
    }
    for (name, value) in parts.secrets {
        let Some(param) = parts
            .manifest
            .parameters
            .iter()
            .find(|p| p.name == name && p.secure)
        else {
            tracing::debug!(setting = %name, "a stored secure setting the manifest no longer declares is not used");
            continue;
        };
        let Some(scopes) = parse_scopes(&param.scopes) else {
            tracing::warn!(setting = %name, "a secure setting with an unknown scope is not used");
            continue;
        };
        settings.push(SettingValue {
            name,
            value: value.expose().to_owned(),
            secure: true,
            scopes,
        });
    }
    InstallationContext {
        account_id: parts.account_id,
        account_subdomain: parts.account_subdomain.to_owned(),
        installation_id: parts.installation_id,
        app_id: parts.app_id,
        user_id: parts.user_id,
        settings,
        domain_whitelist: parts.manifest.domain_whitelist.clone(),
    }
}

/// Every scope parsed, or `None` if any is unknown.
fn parse_scopes(names: &[String]) -> Option<Vec<Scope>> {
    names.iter().map(|n| n.parse::<Scope>().ok()).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn manifest(parameters: Value) -> Manifest {
        let value = json!({
            "name": "t",
            "author": {"name": "a", "email": "a@example.com"},
            "defaultLocale": "en",
            "location": {"support": {"ticket_sidebar": {"url": "assets/iframe.html"}}},
            "frameworkVersion": "2.0",
            "version": "1.0.0",
            "domainWhitelist": ["api.example.com", "{{setting.subdomain}}.example.net"],
            "parameters": parameters,
        });
        let parsed = zaffre_manifest::json::parse(&value.to_string()).expect("json");
        Manifest::from_json(&parsed.value).expect("manifest")
    }

    fn build(manifest: &Manifest, plain: Value, secrets: &[(&str, &str)]) -> InstallationContext {
        let plain = plain.as_object().cloned().unwrap();
        installation_context(ContextParts {
            account_id: 1,
            account_subdomain: "support",
            installation_id: 2,
            app_id: 3,
            user_id: 4,
            manifest,
            plain_settings: &plain,
            secrets: secrets
                .iter()
                .map(|(n, v)| ((*n).to_owned(), SecretValue::new((*v).to_owned())))
                .collect(),
        })
    }

    #[test]
    fn identity_whitelist_and_plain_settings_come_through() {
        let m = manifest(json!([
            {"name": "subdomain", "type": "text"},
            {"name": "limit", "type": "number"},
            {"name": "verbose", "type": "checkbox"},
            {"name": "empty", "type": "text"}
        ]));
        let ctx = build(
            &m,
            json!({"subdomain": "acme", "limit": 10, "verbose": true, "empty": null}),
            &[],
        );
        assert_eq!(
            (ctx.account_id, ctx.installation_id, ctx.app_id, ctx.user_id),
            (1, 2, 3, 4)
        );
        assert_eq!(ctx.account_subdomain, "support");
        assert_eq!(
            ctx.domain_whitelist,
            vec!["api.example.com", "{{setting.subdomain}}.example.net"]
        );
        assert_eq!(ctx.setting("subdomain").unwrap().value, "acme");
        assert_eq!(ctx.setting("limit").unwrap().value, "10");
        assert_eq!(ctx.setting("verbose").unwrap().value, "true");
        assert!(ctx.setting("empty").is_none());
        assert!(ctx.settings.iter().all(|s| !s.secure));
    }

    #[test]
    fn secure_values_carry_their_scopes() {
        let m = manifest(json!([
            {"name": "token", "type": "text", "secure": true, "scopes": ["header", "jwt_secret_key"]},
            {"name": "anywhere", "type": "text", "secure": true}
        ]));
        let ctx = build(&m, json!({}), &[("token", "t0k"), ("anywhere", "a11")]);
        let token = ctx.setting("token").unwrap();
        assert!(token.secure);
        assert_eq!(token.value, "t0k");
        assert_eq!(token.scopes, vec![Scope::Header, Scope::JwtSecretKey]);
        let anywhere = ctx.setting("anywhere").unwrap();
        assert!(anywhere.secure && anywhere.scopes.is_empty());
    }

    #[test]
    fn stale_or_unknown_secure_values_are_left_out() {
        let m = manifest(json!([
            {"name": "now_plain", "type": "text"},
            {"name": "odd", "type": "text", "secure": true, "scopes": ["header", "url_host"]}
        ]));
        let ctx = build(
            &m,
            json!({"now_plain": "visible"}),
            &[("removed", "r"), ("now_plain", "old-secret"), ("odd", "o")],
        );
        assert!(ctx.setting("removed").is_none());
        assert!(
            ctx.setting("odd").is_none(),
            "an unknown scope never widens to all"
        );
        let plain = ctx.setting("now_plain").unwrap();
        assert!(!plain.secure);
        assert_eq!(plain.value, "visible");
        assert_eq!(ctx.settings.len(), 1);
    }

    #[test]
    fn a_plain_value_under_a_secure_name_is_not_used() {
        let m = manifest(json!([
            {"name": "token", "type": "text", "secure": true, "scopes": ["header"]}
        ]));
        let ctx = build(&m, json!({"token": "leaked-into-plain"}), &[]);
        assert!(ctx.setting("token").is_none());
    }
}
