//! Apps and their installations: the records, and the rules for settings.
//!
//! An [`App`] is a validated ZAF package stored in an account (its files live
//! in the database, so every server node can serve them). An
//! [`Installation`] is one use of an app with its settings. Settings come in
//! two kinds, decided by the manifest's parameters:
//!
//! - plain settings, stored as a JSON object and shown by the API;
//! - secret settings (`secure: true` parameters and `oauth` tokens), which the
//!   server encrypts before they reach the store ([`SealedSecret`]) and never
//!   shows again. In memory they travel as [`SecretValue`], whose `Debug` and
//!   `Display` print `[redacted]`, so no log line or error can carry one.
//!
//! [`check_settings`] is the one place settings are validated against the
//! manifest: types, required values, defaults, unknown names and sizes. Its
//! messages name settings and types, never values.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zaffre_manifest::{Parameter, ParameterType};

use crate::ids::{AccountId, AppId, InstallationId, JobId, TicketFieldId, UploadId};
use crate::model::{FieldType, NewTicketField, Timestamp};
use crate::validation::{ErrorKind, ValidationErrors};

/// The largest secret setting value accepted, in bytes of UTF-8. Zendesk caps
/// secure settings at 1,024 characters, which is too small for a PEM private
/// key or a service account JSON; zaffre takes 64 KiB.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

/// The largest plain setting value accepted, in bytes (text, URL, multiline).
pub const MAX_PLAIN_BYTES: usize = 64 * 1024;

/// The settings every installation has whatever the manifest says: its name
/// (shown in the apps list) and Zendesk's `title`, which mirrors it.
pub const BUILT_IN_SETTINGS: [&str; 2] = ["name", "title"];

/// A secret setting's value. It never prints: `Debug` and `Display` show
/// `[redacted]`, and it has no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: String) -> Self {
        SecretValue(value)
    }

    /// The value itself: call only where it is used (encryption, the proxy).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A secret setting as stored: encrypted, with what is needed to decrypt it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The parameter's name.
    pub name: String,
    /// Which key encrypted it (a short digest of the key), so a node with a
    /// different key can say so instead of failing obscurely.
    pub key_id: String,
    pub nonce: Vec<u8>,
    /// Ciphertext with its authentication tag.
    pub ciphertext: Vec<u8>,
}

/// An app stored in an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub id: AppId,
    pub account_id: AccountId,
    pub name: String,
    pub short_description: String,
    /// The manifest's `version`, if any.
    pub version: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    /// `manifest.json` as uploaded (validated); parse it with `zaffre_manifest`.
    pub manifest: String,
    pub private: bool,
    pub single_install: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What the store needs to create an app or a new version of one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApp {
    pub name: String,
    pub short_description: String,
    pub version: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub manifest: String,
    pub private: bool,
    pub single_install: bool,
    /// Every file of the package by path (manifest, translations, assets).
    pub files: Vec<(String, Vec<u8>)>,
}

/// An installation of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Installation {
    pub id: InstallationId,
    pub account_id: AccountId,
    pub app_id: AppId,
    pub enabled: bool,
    /// Plain settings only (including `name` and `title`).
    pub settings: Map<String, Value>,
    /// Names of the secret settings that have a value, sorted.
    pub secrets_set: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new installation as the store writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInstallation {
    pub app_id: AppId,
    pub enabled: bool,
    pub settings: Map<String, Value>,
    /// Refuse the write if the app already has an installation (`singleInstall`).
    pub single_install: bool,
}

/// A change to an installation. Secrets are sealed by the caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstallationPatch {
    pub enabled: Option<bool>,
    /// Replaces the plain settings when set.
    pub settings: Option<Map<String, Value>>,
    /// Secrets to write (replacing any with the same name).
    pub secrets: Vec<SealedSecret>,
    /// Secrets to remove.
    pub clear_secrets: Vec<String>,
}

/// Something `requirements.json` made on install, removed on uninstall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstalledRequirement {
    pub installation_id: InstallationId,
    /// The key in `requirements.json` (e.g. `support_level`).
    pub identifier: String,
    /// Zendesk's name for the kind: `ticket_fields`.
    pub requirement_type: String,
    /// The record made: for ticket fields, the field's id.
    pub requirement_id: i64,
    pub created_at: Timestamp,
}

/// The state of an app creation job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Completed,
    Failed,
}

impl JobState {
    /// Zendesk's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Completed => "completed",
            JobState::Failed => "failed",
        }
    }
}

/// A job status record (`GET /api/v2/apps/job_statuses/{id}.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    pub id: JobId,
    pub account_id: AccountId,
    pub status: JobState,
    pub message: String,
    pub app_id: Option<AppId>,
    pub upload_id: Option<UploadId>,
    pub created_at: Timestamp,
}

/// Whether a parameter's value is kept encrypted and never shown: secure
/// parameters, and oauth tokens (which Zendesk also keeps server-side).
pub fn is_secret(p: &Parameter) -> bool {
    p.secure || p.kind == ParameterType::OAuth
}

/// Settings checked against the manifest, split by kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckedSettings {
    /// The complete plain settings to store (on update: merged with the old ones).
    pub plain: Map<String, Value>,
    /// Secret values to encrypt and store.
    pub secrets: Vec<(String, SecretValue)>,
    /// Secret settings to clear.
    pub clear_secrets: Vec<String>,
}

/// What an update starts from.
#[derive(Debug, Clone, Copy)]
pub struct Existing<'a> {
    pub plain: &'a Map<String, Value>,
    pub secrets_set: &'a [String],
}

/// Checks settings given for a new installation (`existing` is `None`) or
/// an update, against the app's parameters.
///
/// Rules (documented in `docs/apps.md`):
/// - `name` (and `title`) are always allowed; on create `name` defaults to
///   `app_name`, and `title` always mirrors `name`.
/// - Other names must be parameters of the manifest.
/// - Types: text, multiline, hidden: strings; url: an absolute http(s) URL;
///   number: a number (or a string holding one, as HTML forms send);
///   checkbox: a boolean (or `"true"`/`"false"`).
/// - Plain settings: `null` removes the value. On create, parameters with a
///   default get it when not given.
/// - Secret settings are write-only: a string sets the value, `""` clears it,
///   and `null` or leaving it out keeps it (so a client that sends back what
///   it read, where secrets show as `null`, changes nothing).
/// - Required parameters must end up with a non-empty value.
pub fn check_settings(
    params: &[Parameter],
    app_name: &str,
    given: &Map<String, Value>,
    existing: Option<Existing<'_>>,
) -> Result<CheckedSettings, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut out = CheckedSettings {
        plain: existing.map(|e| e.plain.clone()).unwrap_or_default(),
        ..CheckedSettings::default()
    };
    let mut secret_will_be_set: BTreeMap<&str, bool> = BTreeMap::new();
    if let Some(e) = existing {
        for name in e.secrets_set {
            secret_will_be_set.insert(name, true);
        }
    }

    for (name, value) in given {
        let attribute = format!("settings.{name}");
        if name == "name" || name == "title" {
            match value {
                Value::String(s) if s.trim().is_empty() && name == "name" => {
                    errors.add(&attribute, ErrorKind::BlankValue, "Name: cannot be blank")
                }
                Value::String(s) if s.len() > 255 => errors.add(
                    &attribute,
                    ErrorKind::TooLong,
                    format!("{name}: is longer than 255 bytes"),
                ),
                Value::String(s) if name == "name" => {
                    out.plain
                        .insert("name".into(), Value::String(s.trim().to_owned()));
                }
                Value::String(_) | Value::Null => {}
                _ => errors.add(
                    &attribute,
                    ErrorKind::InvalidValue,
                    format!("{name}: must be a string, not {}", kind_of(value)),
                ),
            }
            continue;
        }
        let Some(param) = params.iter().find(|p| p.name == *name) else {
            errors.add(
                &attribute,
                ErrorKind::InvalidValue,
                format!("{}: is not a setting of this app", shown_name(name)),
            );
            continue;
        };
        if is_secret(param) {
            match value {
                Value::Null => {}
                Value::String(s) if s.is_empty() => {
                    out.clear_secrets.push(name.clone());
                    secret_will_be_set.insert(&param.name, false);
                }
                _ => match coerce(param, value) {
                    Ok(v) => {
                        let text = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        if text.len() > MAX_SECRET_BYTES {
                            errors.add(
                                &attribute,
                                ErrorKind::TooLong,
                                format!(
                                    "{name}: a secure setting may be at most {MAX_SECRET_BYTES} bytes long"
                                ),
                            );
                        } else {
                            out.secrets.push((name.clone(), SecretValue::new(text)));
                            secret_will_be_set.insert(&param.name, true);
                        }
                    }
                    Err(e) => errors.add(&attribute, ErrorKind::InvalidValue, e),
                },
            }
            continue;
        }
        if value.is_null() {
            out.plain.remove(name);
            continue;
        }
        match coerce(param, value) {
            Ok(Value::String(s)) if s.len() > MAX_PLAIN_BYTES => errors.add(
                &attribute,
                ErrorKind::TooLong,
                format!("{name}: may be at most {MAX_PLAIN_BYTES} bytes long"),
            ),
            Ok(v) => {
                out.plain.insert(name.clone(), v);
            }
            Err(e) => errors.add(&attribute, ErrorKind::InvalidValue, e),
        }
    }

    if existing.is_none() {
        if !out.plain.contains_key("name") {
            out.plain
                .insert("name".into(), Value::String(app_name.to_owned()));
        }
        for p in params.iter().filter(|p| !is_secret(p)) {
            if !out.plain.contains_key(&p.name) {
                if let Some(default) = &p.default {
                    // A default of the wrong type is the manifest's problem, not
                    // the admin's: store it as the manifest says.
                    let v = coerce(p, default).unwrap_or_else(|_| default.clone());
                    out.plain.insert(p.name.clone(), v);
                }
            }
        }
    }
    if let Some(name) = out.plain.get("name").cloned() {
        out.plain.insert("title".into(), name);
    }

    for p in params.iter().filter(|p| p.required) {
        let present = if is_secret(p) {
            secret_will_be_set.get(p.name.as_str()).copied() == Some(true)
        } else {
            match out.plain.get(&p.name) {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.trim().is_empty(),
                Some(_) => true,
            }
        };
        if !present {
            errors.add(
                &format!("settings.{}", p.name),
                ErrorKind::BlankValue,
                format!("{}: is required", p.name),
            );
        }
    }
    errors.into_result(out)
}

/// A name as it may appear in a message: names come from the request, so a
/// long one is cut (a message is no place for a pasted secret either).
fn shown_name(name: &str) -> String {
    let mut shown: String = name.chars().take(64).collect();
    if shown.len() < name.len() {
        shown.push('…');
    }
    shown
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Converts a value to its parameter's type, or says why it cannot (without
/// quoting the value: it may be secret).
fn coerce(p: &Parameter, value: &Value) -> Result<Value, String> {
    let name = &p.name;
    match &p.kind {
        ParameterType::Checkbox => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            _ => Err(format!(
                "{name}: must be true or false, not {}",
                kind_of(value)
            )),
        },
        ParameterType::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => {
                let t = s.trim();
                if let Ok(i) = t.parse::<i64>() {
                    Ok(Value::from(i))
                } else {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                        .ok_or_else(|| format!("{name}: must be a number"))
                }
            }
            _ => Err(format!("{name}: must be a number, not {}", kind_of(value))),
        },
        ParameterType::Url => match value {
            Value::String(s) if valid_url(s) => Ok(Value::String(s.trim().to_owned())),
            Value::String(_) => Err(format!(
                "{name}: must be an absolute http:// or https:// URL"
            )),
            _ => Err(format!(
                "{name}: must be a URL string, not {}",
                kind_of(value)
            )),
        },
        // text, multiline, hidden, oauth and anything else the validator let
        // through: strings.
        _ => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err(format!("{name}: must be a string, not {}", kind_of(value))),
        },
    }
}

fn valid_url(s: &str) -> bool {
    let s = s.trim();
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
        && !host.is_empty()
        && !s.chars().any(char::is_whitespace)
}

/// A ticket field `requirements.json` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RequiredTicketField {
    pub identifier: String,
    pub field: NewTicketField,
}

/// The ticket fields of a `requirements.json` (already validated by
/// `zaffre_manifest`): `{"ticket_fields": {"<identifier>": {"type", "title",
/// "description"?, "required"?, "custom_field_options"?: [{"name","value"}]}}}`.
/// Types zaffre has no field for are refused with a message naming them.
pub fn required_ticket_fields(
    requirements: &Value,
) -> Result<Vec<RequiredTicketField>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut out = Vec::new();
    let Some(fields) = requirements.get("ticket_fields").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (identifier, spec) in fields {
        let kind = spec.get("type").and_then(Value::as_str).unwrap_or("text");
        let field_type = match kind {
            "text" | "regexp" | "partialcreditcard" => Some(FieldType::Text),
            "textarea" => Some(FieldType::Textarea),
            "checkbox" => Some(FieldType::Checkbox),
            "date" => Some(FieldType::Date),
            "integer" => Some(FieldType::Integer),
            "decimal" => Some(FieldType::Decimal),
            "tagger" | "dropdown" => Some(FieldType::Tagger),
            _ => None,
        };
        let Some(field_type) = field_type else {
            errors.add(
                "requirements",
                ErrorKind::InvalidValue,
                format!(
                    "ticket field {}: the type {} is not supported",
                    shown_name(identifier),
                    shown_name(kind)
                ),
            );
            continue;
        };
        let title = spec
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(identifier)
            .to_owned();
        let options = spec
            .get("custom_field_options")
            .and_then(Value::as_array)
            .map(|opts| {
                opts.iter()
                    .filter_map(|o| {
                        let name = o.get("name")?.as_str()?;
                        let value = o.get("value")?.as_str()?;
                        Some((name.to_owned(), value.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(RequiredTicketField {
            identifier: identifier.clone(),
            field: NewTicketField {
                field_type,
                title,
                description: spec
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                active: spec.get("active").and_then(Value::as_bool).unwrap_or(true),
                required: spec
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                position: 9999,
                options,
            },
        });
    }
    errors.into_result(out)
}

/// Whether `id` is a ticket field an installation made (for removal).
pub fn requirement_field_ids(reqs: &[InstalledRequirement]) -> Vec<TicketFieldId> {
    reqs.iter()
        .filter(|r| r.requirement_type == "ticket_fields")
        .map(|r| TicketFieldId(r.requirement_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(
        name: &str,
        kind: &str,
        required: bool,
        secure: bool,
        default: Option<Value>,
    ) -> Parameter {
        Parameter {
            name: name.into(),
            kind: ParameterType::parse(kind),
            required,
            secure,
            default,
            scopes: vec![],
        }
    }

    fn params() -> Vec<Parameter> {
        vec![
            param("subdomain", "text", true, false, None),
            param("token", "text", true, true, None),
            param("limit", "number", false, false, Some(json!(10))),
            param("verbose", "checkbox", false, false, Some(json!(false))),
            param("endpoint", "url", false, false, None),
            param("notes", "multiline", false, false, None),
            param("hint", "hidden", false, false, Some(json!("h"))),
        ]
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn create_fills_defaults_name_and_title_and_splits_secrets() {
        let out = check_settings(
            &params(),
            "My App",
            &map(json!({"subdomain": "acme", "token": "s3cr3t", "limit": "25"})),
            None,
        )
        .unwrap();
        assert_eq!(
            Value::Object(out.plain.clone()),
            json!({"name": "My App", "title": "My App", "subdomain": "acme", "limit": 25, "verbose": false, "hint": "h"})
        );
        assert_eq!(out.secrets.len(), 1);
        assert_eq!(out.secrets[0].0, "token");
        assert_eq!(out.secrets[0].1.expose(), "s3cr3t");
    }

    #[test]
    fn required_unknown_and_wrong_types_are_all_reported() {
        let err = check_settings(
            &params(),
            "A",
            &map(json!({"nope": 1, "limit": "many", "verbose": 3, "endpoint": "ftp://x", "notes": 5})),
            None,
        )
        .unwrap_err();
        let attrs: Vec<&str> = err.errors.iter().map(|e| e.attribute.as_str()).collect();
        for a in [
            "settings.nope",
            "settings.limit",
            "settings.verbose",
            "settings.endpoint",
            "settings.notes",
            "settings.subdomain",
            "settings.token",
        ] {
            assert!(attrs.contains(&a), "{a} missing from {attrs:?}");
        }
    }

    #[test]
    fn messages_never_quote_values() {
        let secret = "hunter2-very-secret";
        let long = "x".repeat(MAX_SECRET_BYTES + 1);
        for given in [
            json!({"token": [secret]}),
            json!({"limit": secret}),
            json!({"endpoint": secret}),
            json!({"token": format!("{secret}{long}")}),
        ] {
            let err = check_settings(&params(), "A", &map(given), None).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn secrets_have_a_larger_limit_than_zendesk() {
        let big = "k".repeat(10_000);
        let out = check_settings(
            &params(),
            "A",
            &map(json!({"subdomain": "a", "token": big})),
            None,
        )
        .unwrap();
        assert_eq!(out.secrets[0].1.expose().len(), 10_000);
        let too_big = "k".repeat(MAX_SECRET_BYTES + 1);
        let err = check_settings(
            &params(),
            "A",
            &map(json!({"subdomain": "a", "token": too_big})),
            None,
        )
        .unwrap_err();
        assert_eq!(err.errors[0].error, ErrorKind::TooLong);
    }

    #[test]
    fn update_keeps_secrets_on_null_and_clears_on_empty() {
        let plain = map(json!({"name": "A", "title": "A", "subdomain": "acme"}));
        let set = vec!["token".to_owned()];
        let existing = Existing {
            plain: &plain,
            secrets_set: &set,
        };
        let out = check_settings(
            &params(),
            "A",
            &map(json!({"token": null, "subdomain": "beta", "name": "Renamed"})),
            Some(existing),
        )
        .unwrap();
        assert!(out.secrets.is_empty() && out.clear_secrets.is_empty());
        assert_eq!(out.plain["subdomain"], "beta");
        assert_eq!(out.plain["title"], "Renamed");
        // The token is required, so clearing it is refused.
        let err =
            check_settings(&params(), "A", &map(json!({"token": ""})), Some(existing)).unwrap_err();
        assert_eq!(err.errors[0].attribute, "settings.token");
    }

    #[test]
    fn the_secret_wrapper_never_prints() {
        let s = SecretValue::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
    }

    #[test]
    fn requirements_ticket_fields_are_read() {
        let reqs = json!({"ticket_fields": {
            "level": {"type": "tagger", "title": "Level", "custom_field_options": [{"name": "Gold", "value": "gold"}]},
            "ref": {"type": "text", "title": "Reference"}
        }, "targets": {}});
        let fields = required_ticket_fields(&reqs).unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].field.field_type, FieldType::Tagger);
        assert_eq!(
            fields[0].field.options,
            vec![("Gold".into(), "gold".into())]
        );
        let bad = json!({"ticket_fields": {"x": {"type": "lookup", "title": "X"}}});
        assert!(required_ticket_fields(&bad).is_err());
    }
}
