//! Ticket fields: everyone signed in reads them (the ticket form needs them),
//! admins create, change and delete custom ones.
//!
//! The rules, Zendesk's where it has them:
//! - custom fields are `text`, `textarea`, `checkbox`, `date`, `integer`,
//!   `decimal` and `tagger` (a dropdown; `dropdown` is accepted as an alias);
//!   the seven system fields exist in every account and cannot be created,
//!   deleted, or have their type changed;
//! - a field's type never changes (values already on tickets would no longer
//!   fit it);
//! - a dropdown has at least one option; option values are tags (one word,
//!   stored lowercase) and unique within the field;
//! - subject, description and status cannot be deactivated: every ticket has them;
//! - end-users see only active fields; an inactive one is a 404 to them.
//!
//! These endpoints read the store directly; ticket reads and writes use
//! [`crate::cache::FieldCache`], which every write here invalidates.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use zaffre_domain::validation::{ErrorKind, ValidationErrors};
use zaffre_domain::{
    tags, FieldType, NewTicketField, TicketField, TicketFieldId, TicketFieldPatch,
};

use super::IdPath;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// Longest field title accepted, in characters.
const MAX_TITLE_LEN: usize = 255;
/// Longest field description accepted, in characters.
const MAX_DESCRIPTION_LEN: usize = 4096;
/// Most options a dropdown may have; far above real forms, low enough that
/// one request cannot make every ticket read drag a huge list along.
const MAX_OPTIONS: usize = 2000;

/// A `{"ticket_field": {…}}` body.
#[derive(Debug, Deserialize)]
pub struct FieldBody {
    ticket_field: Map<String, Value>,
}

/// `GET /api/v2/ticket_fields.json`.
#[utoipa::path(
    get, path = "/api/v2/ticket_fields.json", tag = "Ticket fields",
    responses(
        (status = 200, description = "`{ticket_fields: [...], count}`, by position; end-users see active fields only"),
        (status = 401, description = "Not authenticated"),
    )
)]
pub async fn list_ticket_fields(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
) -> ApiResult<Json<Value>> {
    let fields = state.store.list_ticket_fields(caller.account).await?;
    let shaped: Vec<Value> = fields
        .iter()
        .filter(|f| f.active || caller.user.role.is_staff())
        .map(|f| shapes::ticket_field(&base, f))
        .collect();
    Ok(Json(json!({
        "count": shaped.len(),
        "ticket_fields": shaped,
        "next_page": null,
        "previous_page": null,
    })))
}

/// `GET /api/v2/ticket_fields/{id}.json`.
#[utoipa::path(
    get, path = "/api/v2/ticket_fields/{id}.json", tag = "Ticket fields",
    params(("id" = i64, Path, description = "Ticket field id")),
    responses(
        (status = 200, description = "`{ticket_field: {...}}`"),
        (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such field (or an inactive one, for end-users)"),
    )
)]
pub async fn show_ticket_field(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    let field = state
        .store
        .get_ticket_field(caller.account, TicketFieldId(id))
        .await?;
    if !field.active && !caller.user.role.is_staff() {
        return Err(ApiError::NotFound);
    }
    Ok(Json(
        json!({"ticket_field": shapes::ticket_field(&base, &field)}),
    ))
}

/// `POST /api/v2/ticket_fields.json` (admins).
#[utoipa::path(
    post, path = "/api/v2/ticket_fields.json", tag = "Ticket fields",
    request_body(content = Object, description = "`{ticket_field: {type, title, description, active, required, position, custom_field_options: [{name, value}]}}`", content_type = "application/json"),
    responses(
        (status = 201, description = "`{ticket_field: {...}}`"),
        (status = 400, description = "The body is not JSON or not `{ticket_field: {...}}`"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Only admins manage fields"),
        (status = 422, description = "RecordInvalid, with `details` per attribute"),
    )
)]
pub async fn create_ticket_field(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    ApiJson(body): ApiJson<FieldBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin()?;
    let existing = state.store.list_ticket_fields(caller.account).await?;
    let new = parse_new_field(&body.ticket_field, &existing)?;
    let field = state.store.create_ticket_field(caller.account, &new).await;
    // Ticket reads and writes on this node use the new fields from now on.
    state.field_cache.invalidate(caller.account);
    let field = field?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"ticket_field": shapes::ticket_field(&base, &field)})),
    ))
}

/// `PUT /api/v2/ticket_fields/{id}.json` (admins).
#[utoipa::path(
    put, path = "/api/v2/ticket_fields/{id}.json", tag = "Ticket fields",
    params(("id" = i64, Path, description = "Ticket field id")),
    request_body(content = Object, description = "`{ticket_field: {...changed properties...}}`; `custom_field_options` replaces all options", content_type = "application/json"),
    responses(
        (status = 200, description = "`{ticket_field: {...}}`"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Only admins manage fields"),
        (status = 404, description = "No such field"),
        (status = 422, description = "RecordInvalid (e.g. a type change)"),
    )
)]
pub async fn update_ticket_field(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<FieldBody>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let id = TicketFieldId(id);
    let current = state.store.get_ticket_field(caller.account, id).await?;
    let patch = parse_field_patch(&body.ticket_field, &current)?;
    let field = state
        .store
        .update_ticket_field(caller.account, id, &patch)
        .await;
    state.field_cache.invalidate(caller.account);
    let field = field?;
    Ok(Json(
        json!({"ticket_field": shapes::ticket_field(&base, &field)}),
    ))
}

/// `DELETE /api/v2/ticket_fields/{id}.json` (admins; custom fields only).
#[utoipa::path(
    delete, path = "/api/v2/ticket_fields/{id}.json", tag = "Ticket fields",
    params(("id" = i64, Path, description = "Ticket field id")),
    responses(
        (status = 204, description = "Deleted, with its values on tickets"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Only admins manage fields"),
        (status = 404, description = "No such field"),
        (status = 422, description = "System fields cannot be deleted"),
    )
)]
pub async fn delete_ticket_field(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let id = TicketFieldId(id);
    let field = state.store.get_ticket_field(caller.account, id).await?;
    if field.field_type.is_system() {
        return Err(ApiError::invalid(
            "base",
            format!("{}: system fields cannot be deleted", field.title),
        ));
    }
    let deleted = state.store.delete_ticket_field(caller.account, id).await;
    state.field_cache.invalidate(caller.account);
    deleted?;
    Ok(StatusCode::NO_CONTENT)
}

/// Validates a new custom field, collecting every problem.
fn parse_new_field(
    input: &Map<String, Value>,
    existing: &[TicketField],
) -> Result<NewTicketField, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let field_type = match input.get("type") {
        None | Some(Value::Null) => {
            errors.add("type", ErrorKind::BlankValue, "Type: cannot be blank");
            None
        }
        Some(v) => parse_type(v, &mut errors),
    };
    if field_type.is_some_and(FieldType::is_system) {
        errors.add(
            "type",
            ErrorKind::InvalidValue,
            "Type: system fields exist in every account and cannot be created",
        );
    }
    let title = text(input, "title", "Title", MAX_TITLE_LEN, &mut errors);
    if title.as_deref().is_none_or(str::is_empty) {
        errors.add("title", ErrorKind::BlankValue, "Title: cannot be blank");
    }
    let description = text(
        input,
        "description",
        "Description",
        MAX_DESCRIPTION_LEN,
        &mut errors,
    );
    let active = flag(input, "active", "Active", &mut errors);
    let required = flag(input, "required", "Required", &mut errors);
    let position = position(input, &mut errors);
    let options = options(input, &mut errors);
    match (field_type, &options) {
        (Some(FieldType::Tagger), None) => errors.add(
            "custom_field_options",
            ErrorKind::BlankValue,
            "Options: a dropdown needs at least one option",
        ),
        (Some(t), Some(_)) if t != FieldType::Tagger => errors.add(
            "custom_field_options",
            ErrorKind::InvalidValue,
            "Options: only dropdown fields have options",
        ),
        _ => {}
    }
    let next_position = existing.iter().map(|f| f.position).max().unwrap_or(0) + 1;
    errors.into_result(())?;
    Ok(NewTicketField {
        field_type: field_type.unwrap_or(FieldType::Text),
        title: title.unwrap_or_default(),
        description: description.unwrap_or_default(),
        active: active.unwrap_or(true),
        required: required.unwrap_or(false),
        position: position.unwrap_or(next_position),
        options: options.unwrap_or_default(),
    })
}

/// Validates a change to an existing field, collecting every problem.
fn parse_field_patch(
    input: &Map<String, Value>,
    current: &TicketField,
) -> Result<TicketFieldPatch, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if let Some(v) = input.get("type") {
        if parse_type(v, &mut errors).is_some_and(|t| t != current.field_type) {
            errors.add(
                "type",
                ErrorKind::InvalidValue,
                "Type: a field's type cannot change",
            );
        }
    }
    let title = text(input, "title", "Title", MAX_TITLE_LEN, &mut errors);
    if title.as_deref() == Some("") {
        errors.add("title", ErrorKind::BlankValue, "Title: cannot be blank");
    }
    let description = text(
        input,
        "description",
        "Description",
        MAX_DESCRIPTION_LEN,
        &mut errors,
    );
    let active = flag(input, "active", "Active", &mut errors);
    let essential = matches!(
        current.field_type,
        FieldType::Subject | FieldType::Description | FieldType::Status
    );
    if essential && active == Some(false) {
        errors.add(
            "active",
            ErrorKind::InvalidValue,
            format!(
                "Active: every ticket has a {}; it cannot be deactivated",
                current.field_type
            ),
        );
    }
    let required = flag(input, "required", "Required", &mut errors);
    let position = position(input, &mut errors);
    let options = options(input, &mut errors);
    if options.is_some() && current.field_type != FieldType::Tagger {
        errors.add(
            "custom_field_options",
            ErrorKind::InvalidValue,
            "Options: only dropdown fields have options",
        );
    }
    errors.into_result(TicketFieldPatch {
        title,
        description,
        active,
        required,
        position,
        options,
    })
}

/// A field type from its Zendesk name; `dropdown` is an alias of `tagger`.
fn parse_type(v: &Value, errors: &mut ValidationErrors) -> Option<FieldType> {
    let parsed = v.as_str().and_then(|s| match s {
        "dropdown" => Some(FieldType::Tagger),
        other => FieldType::parse(other),
    });
    if parsed.is_none() {
        errors.add(
            "type",
            ErrorKind::InvalidValue,
            format!("Type: {} is not a supported field type", short(v)),
        );
    }
    parsed
}

/// A bad value, cut short, for an error message.
fn short(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().take(40).collect()
}

/// An optional text attribute, trimmed; `null` means empty.
fn text(
    input: &Map<String, Value>,
    key: &str,
    title: &str,
    max: usize,
    errors: &mut ValidationErrors,
) -> Option<String> {
    match input.get(key)? {
        Value::Null => Some(String::new()),
        Value::String(s) if s.chars().count() > max => {
            errors.add(
                key,
                ErrorKind::TooLong,
                format!("{title}: is too long (maximum is {max} characters)"),
            );
            None
        }
        Value::String(s) => Some(s.trim().to_owned()),
        _ => {
            errors.add(
                key,
                ErrorKind::InvalidValue,
                format!("{title}: must be text"),
            );
            None
        }
    }
}

fn flag(
    input: &Map<String, Value>,
    key: &str,
    title: &str,
    errors: &mut ValidationErrors,
) -> Option<bool> {
    match input.get(key)? {
        Value::Bool(b) => Some(*b),
        _ => {
            errors.add(
                key,
                ErrorKind::InvalidValue,
                format!("{title}: must be true or false"),
            );
            None
        }
    }
}

fn position(input: &Map<String, Value>, errors: &mut ValidationErrors) -> Option<i64> {
    let v = input.get("position")?;
    match v.as_i64() {
        Some(n) if (0..=i64::from(i32::MAX)).contains(&n) => Some(n),
        _ => {
            errors.add(
                "position",
                ErrorKind::InvalidValue,
                format!("Position: {} is not a whole number from 0", short(v)),
            );
            None
        }
    }
}

/// `custom_field_options: [{name, value}]` as `(name, value)` pairs. Values are
/// tags: one word, lowercase, unique within the field.
fn options(
    input: &Map<String, Value>,
    errors: &mut ValidationErrors,
) -> Option<Vec<(String, String)>> {
    const KEY: &str = "custom_field_options";
    let v = input.get(KEY)?;
    let Some(items) = v.as_array() else {
        errors.add(
            KEY,
            ErrorKind::InvalidValue,
            "Options: must be a list of {name, value}",
        );
        return None;
    };
    if items.is_empty() {
        errors.add(
            KEY,
            ErrorKind::BlankValue,
            "Options: a dropdown needs at least one option",
        );
        return None;
    }
    if items.len() > MAX_OPTIONS {
        errors.add(
            KEY,
            ErrorKind::TooLong,
            format!("Options: at most {MAX_OPTIONS} options"),
        );
        return None;
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(items.len());
    let before = errors.errors.len();
    for item in items {
        let name = item.get("name").and_then(Value::as_str).map(str::trim);
        let raw_value = item.get("value").and_then(Value::as_str).map(str::trim);
        let (Some(name), Some(raw_value)) = (name, raw_value) else {
            errors.add(
                KEY,
                ErrorKind::InvalidValue,
                "Options: every option needs a name and a value, as text",
            );
            continue;
        };
        if name.is_empty() || name.chars().count() > MAX_TITLE_LEN {
            errors.add(
                KEY,
                ErrorKind::InvalidValue,
                "Options: a name must be 1 to 255 characters",
            );
            continue;
        }
        let value = match tags::normalize([raw_value]) {
            Ok(mut t) if t.len() == 1 && !raw_value.contains(',') => t.remove(0),
            _ => {
                errors.add(
                    KEY,
                    ErrorKind::InvalidValue,
                    format!(
                        "Options: '{}' is not a valid value (one word, used as a tag)",
                        short(&Value::String(raw_value.to_owned()))
                    ),
                );
                continue;
            }
        };
        if out.iter().any(|(_, v)| *v == value) {
            errors.add(
                KEY,
                ErrorKind::DuplicateValue,
                format!("Options: the value '{value}' is used twice"),
            );
            continue;
        }
        out.push((name.to_owned(), value));
    }
    (errors.errors.len() == before).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn new_fields_need_a_custom_type_and_a_title() {
        let errors = parse_new_field(&obj(json!({"type": "status"})), &[]).unwrap_err();
        let attrs: Vec<&str> = errors.errors.iter().map(|e| e.attribute.as_str()).collect();
        assert_eq!(attrs, ["type", "title"]);
        let field = parse_new_field(
            &obj(json!({"type": "dropdown", "title": " Plan ", "custom_field_options": [{"name": "Gold", "value": "Gold"}]})),
            &[],
        )
        .unwrap();
        assert_eq!(field.field_type, FieldType::Tagger);
        assert_eq!(field.title, "Plan");
        assert_eq!(field.options, [("Gold".to_owned(), "gold".to_owned())]);
    }

    #[test]
    fn option_values_are_single_unique_tags() {
        for bad in [
            json!([{"name": "A", "value": "two words"}]),
            json!([{"name": "A", "value": "a"}, {"name": "B", "value": "A"}]),
            json!([{"name": "", "value": "a"}]),
            json!([{"name": "A"}]),
            json!([]),
            json!("a"),
        ] {
            let input = obj(json!({"type": "tagger", "title": "T", "custom_field_options": bad}));
            assert!(parse_new_field(&input, &[]).is_err(), "{input:?}");
        }
    }
}
