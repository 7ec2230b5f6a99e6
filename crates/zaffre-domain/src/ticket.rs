//! The rules for creating and changing tickets.
//!
//! A write goes through two steps. [`TicketPatch::parse`] turns the JSON object a
//! client sent (Zendesk's attribute names, any types) into typed values,
//! collecting every problem; it needs only the account's ticket fields. The
//! server then checks that referenced users, groups and organizations exist in
//! the account (that needs the store), and [`apply_update`] or [`build_new`]
//! computes the resulting ticket and the audit events that describe the change.
//! Keeping I/O out of these steps is what lets them be tested exhaustively.

use serde_json::{Map, Value};

use crate::ids::*;
use crate::model::*;
use crate::tags;
use crate::validation::{ErrorKind, ValidationErrors};

/// Longest subject accepted, in characters.
pub const MAX_SUBJECT_LEN: usize = 1024;
/// Longest comment body accepted, in bytes (Zendesk's limit is 64 KB of text).
pub const MAX_COMMENT_LEN: usize = 65_536;
/// Longest custom text value accepted, in characters.
pub const MAX_TEXT_VALUE_LEN: usize = 65_536;

/// A comment as submitted with a ticket write.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentInput {
    pub body: String,
    pub html_body: Option<String>,
    pub public: bool,
}

/// A typed, validated set of requested changes. `None` means "not mentioned";
/// for nullable attributes `Some(None)` means "clear it".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketPatch {
    pub subject: Option<String>,
    pub status: Option<TicketStatus>,
    pub priority: Option<Option<TicketPriority>>,
    pub ticket_type: Option<Option<TicketType>>,
    pub requester_id: Option<UserId>,
    pub assignee_id: Option<Option<UserId>>,
    pub group_id: Option<Option<GroupId>>,
    pub organization_id: Option<Option<OrganizationId>>,
    /// Replaces all tags.
    pub tags: Option<Vec<String>>,
    pub additional_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    /// Custom field values, already normalized to their stored form.
    pub custom_fields: Vec<CustomFieldValue>,
    pub comment: Option<CommentInput>,
}

/// A ticket ready to be inserted: everything but what the store assigns.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub subject: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: Option<TicketPriority>,
    pub ticket_type: Option<TicketType>,
    pub requester_id: UserId,
    pub submitter_id: UserId,
    pub assignee_id: Option<UserId>,
    pub group_id: Option<GroupId>,
    pub organization_id: Option<OrganizationId>,
    pub tags: Vec<String>,
    pub custom_fields: Vec<CustomFieldValue>,
}

impl TicketPatch {
    /// Parses a client's `ticket` object. Unknown and read-only attributes are
    /// ignored, as Zendesk does; every malformed one is reported.
    pub fn parse(
        input: &Map<String, Value>,
        fields: &[TicketField],
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut patch = TicketPatch::default();

        if let Some(v) = input.get("subject") {
            match v.as_str() {
                Some(s) if s.chars().count() > MAX_SUBJECT_LEN => errors.add(
                    "subject",
                    ErrorKind::TooLong,
                    format!("Subject: is too long (maximum is {MAX_SUBJECT_LEN} characters)"),
                ),
                Some(s) => patch.subject = Some(s.trim().to_owned()),
                None if v.is_null() => patch.subject = Some(String::new()),
                None => errors.add("subject", ErrorKind::InvalidValue, "Subject: must be text"),
            }
        }
        if let Some(v) = input.get("status") {
            match v.as_str().and_then(TicketStatus::parse) {
                Some(s) => patch.status = Some(s),
                None => errors.add(
                    "status",
                    ErrorKind::InvalidValue,
                    format!("Status: {} is not valid", describe(v)),
                ),
            }
        }
        patch.priority = parse_nullable_enum(
            input,
            "priority",
            "Priority",
            TicketPriority::parse,
            &mut errors,
        );
        patch.ticket_type =
            parse_nullable_enum(input, "type", "Type", TicketType::parse, &mut errors);
        if let Some(v) = input.get("requester_id") {
            match parse_id(v) {
                Some(Some(id)) => patch.requester_id = Some(UserId(id)),
                _ => errors.add(
                    "requester_id",
                    ErrorKind::InvalidValue,
                    "Requester: must be a user id",
                ),
            }
        }
        patch.assignee_id =
            parse_nullable_id(input, "assignee_id", "Assignee", &mut errors).map(|o| o.map(UserId));
        patch.group_id =
            parse_nullable_id(input, "group_id", "Group", &mut errors).map(|o| o.map(GroupId));
        patch.organization_id =
            parse_nullable_id(input, "organization_id", "Organization", &mut errors)
                .map(|o| o.map(OrganizationId));

        patch.tags = parse_tags(input, "tags", &mut errors);
        patch.additional_tags =
            parse_tags(input, "additional_tags", &mut errors).unwrap_or_default();
        patch.remove_tags = parse_tags(input, "remove_tags", &mut errors).unwrap_or_default();

        // Zendesk accepts custom field values under either name.
        for key in ["custom_fields", "fields"] {
            if let Some(v) = input.get(key) {
                parse_custom_fields(v, fields, &mut patch.custom_fields, &mut errors);
            }
        }

        if let Some(v) = input.get("comment") {
            patch.comment = parse_comment(v, &mut errors);
        }

        errors.into_result(patch)
    }
}

/// A readable rendering of a bad value for an error message; long values are
/// cut so an error never echoes a large payload back.
fn describe(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

fn parse_nullable_enum<T>(
    input: &Map<String, Value>,
    key: &str,
    title: &str,
    parse: fn(&str) -> Option<T>,
    errors: &mut ValidationErrors,
) -> Option<Option<T>> {
    let v = input.get(key)?;
    if v.is_null() || v.as_str() == Some("") {
        return Some(None);
    }
    match v.as_str().and_then(parse) {
        Some(t) => Some(Some(t)),
        None => {
            errors.add(
                key,
                ErrorKind::InvalidValue,
                format!("{title}: {} is not valid", describe(v)),
            );
            None
        }
    }
}

/// `Some(None)` for null, `Some(Some(n))` for a positive integer (or its
/// decimal string), `None` for anything else.
fn parse_id(v: &Value) -> Option<Option<i64>> {
    match v {
        Value::Null => Some(None),
        Value::Number(n) => n.as_i64().filter(|n| *n > 0).map(Some),
        Value::String(s) => s.parse::<i64>().ok().filter(|n| *n > 0).map(Some),
        _ => None,
    }
}

fn parse_nullable_id(
    input: &Map<String, Value>,
    key: &str,
    title: &str,
    errors: &mut ValidationErrors,
) -> Option<Option<i64>> {
    let v = input.get(key)?;
    let parsed = parse_id(v);
    if parsed.is_none() {
        errors.add(
            key,
            ErrorKind::InvalidValue,
            format!("{title}: {} is not a valid id", describe(v)),
        );
    }
    parsed
}

fn parse_tags(
    input: &Map<String, Value>,
    key: &str,
    errors: &mut ValidationErrors,
) -> Option<Vec<String>> {
    let v = input.get(key)?;
    let raw: Option<Vec<&str>> = match v {
        Value::Null => Some(Vec::new()),
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    };
    let Some(raw) = raw else {
        errors.add(key, ErrorKind::InvalidValue, "Tags: must be a list of text");
        return None;
    };
    match tags::normalize(raw) {
        Ok(tags) => Some(tags),
        Err(bad) => {
            errors.add(
                key,
                ErrorKind::InvalidValue,
                format!("Tags: {} is not a valid tag", describe(&Value::String(bad))),
            );
            None
        }
    }
}

fn parse_comment(v: &Value, errors: &mut ValidationErrors) -> Option<CommentInput> {
    let Some(obj) = v.as_object() else {
        errors.add(
            "comment",
            ErrorKind::InvalidValue,
            "Comment: must be an object with a body",
        );
        return None;
    };
    let text = |key: &str, errors: &mut ValidationErrors| -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() > MAX_COMMENT_LEN => {
                errors.add(
                    "comment",
                    ErrorKind::TooLong,
                    format!("Comment: is too long (maximum is {MAX_COMMENT_LEN} bytes)"),
                );
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errors.add(
                    "comment",
                    ErrorKind::InvalidValue,
                    format!("Comment: {key} must be text"),
                );
                None
            }
        }
    };
    let body = text("body", errors);
    let html_body = text("html_body", errors);
    let public = match obj.get("public") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.add(
                "comment",
                ErrorKind::InvalidValue,
                "Comment: public must be true or false",
            );
            true
        }
    };
    // An HTML-only comment still needs a plain body for search, notifications and `description`.
    let body = match (body, &html_body) {
        (Some(b), _) => b,
        (None, Some(html)) => strip_tags(html),
        (None, None) => String::new(),
    };
    if body.trim().is_empty() {
        // An empty comment is "no comment", as Zendesk treats it; a create
        // that needs a description reports it there.
        return None;
    }
    Some(CommentInput {
        body,
        html_body,
        public,
    })
}

/// A crude HTML-to-text conversion for HTML-only comments: drops tags, keeps
/// text. Rendering never relies on it; it only feeds search and `description`.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

fn parse_custom_fields(
    v: &Value,
    fields: &[TicketField],
    out: &mut Vec<CustomFieldValue>,
    errors: &mut ValidationErrors,
) {
    let Some(items) = v.as_array() else {
        errors.add(
            "custom_fields",
            ErrorKind::InvalidValue,
            "Custom fields: must be a list of {id, value}",
        );
        return;
    };
    for item in items {
        let id = item.get("id").and_then(parse_id).flatten();
        let Some(id) = id.map(TicketFieldId) else {
            errors.add(
                "custom_fields",
                ErrorKind::InvalidValue,
                "Custom fields: every entry needs a numeric id",
            );
            continue;
        };
        let Some(field) = fields
            .iter()
            .find(|f| f.id == id && !f.field_type.is_system())
        else {
            errors.add_custom(
                id,
                ErrorKind::InvalidValue,
                format!("Field {id}: no such custom field"),
            );
            continue;
        };
        let raw = item.get("value").unwrap_or(&Value::Null);
        match normalize_custom_value(field, raw) {
            Ok(value) => {
                out.retain(|c| c.id != id);
                out.push(CustomFieldValue { id, value });
            }
            Err(message) => errors.add_custom(
                id,
                ErrorKind::InvalidValue,
                format!("{}: {message}", field.title),
            ),
        }
    }
}

/// Turns a submitted custom field value into its stored form, or says why it
/// cannot be. Integers and decimals are stored as their decimal text, as
/// Zendesk returns them; empty text clears a field.
pub fn normalize_custom_value(field: &TicketField, raw: &Value) -> Result<Value, String> {
    if raw.is_null() || raw.as_str() == Some("") {
        return Ok(match field.field_type {
            FieldType::Checkbox => Value::Bool(false),
            _ => Value::Null,
        });
    }
    match field.field_type {
        FieldType::Text | FieldType::Textarea => match raw {
            Value::String(s) if s.chars().count() > MAX_TEXT_VALUE_LEN => Err("is too long".into()),
            Value::String(s) => Ok(Value::String(s.clone())),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            _ => Err(format!("{} is not text", describe(raw))),
        },
        FieldType::Checkbox => match raw {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) if s == "true" || s == "1" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" || s == "0" => Ok(Value::Bool(false)),
            _ => Err(format!("{} is not true or false", describe(raw))),
        },
        FieldType::Integer => {
            let text = match raw {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_owned(),
                _ => String::new(),
            };
            text.parse::<i64>()
                .map(|n| Value::String(n.to_string()))
                .map_err(|_| format!("{} is not a whole number", describe(raw)))
        }
        FieldType::Decimal => {
            let text = match raw {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_owned(),
                _ => String::new(),
            };
            match text.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Value::String(text)),
                _ => Err(format!("{} is not a number", describe(raw))),
            }
        }
        FieldType::Date => match raw.as_str() {
            Some(s) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
                Ok(Value::String(s.to_owned()))
            }
            _ => Err(format!("{} is not a date (YYYY-MM-DD)", describe(raw))),
        },
        FieldType::Tagger => match raw.as_str() {
            Some(s) if field.options.iter().any(|o| o.value == s) => {
                Ok(Value::String(s.to_owned()))
            }
            _ => Err(format!("{} is not one of the options", describe(raw))),
        },
        _ => Err("is a system field".into()),
    }
}

/// What an accepted update produces: the ticket as it will be stored and the
/// audit events describing each changed property.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedUpdate {
    pub ticket: Ticket,
    pub events: Vec<AuditEvent>,
}

/// Computes the result of applying `patch` to `current`. Properties equal to
/// their current value produce no event; an update that changes nothing and has
/// no comment is still accepted (Zendesk answers 200) and records nothing.
pub fn apply_update(
    current: &Ticket,
    patch: &TicketPatch,
    fields: &[TicketField],
) -> Result<AppliedUpdate, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if current.status == TicketStatus::Closed {
        return Err(ValidationErrors::single(
            "status",
            ErrorKind::InvalidValue,
            "Status: closed prevents ticket update",
        ));
    }
    let mut next = current.clone();
    let mut events = Vec::new();

    if let Some(subject) = &patch.subject {
        if subject.is_empty() {
            errors.add("subject", ErrorKind::BlankValue, "Subject: cannot be blank");
        }
        next.subject = subject.clone();
    }
    if let Some(status) = patch.status {
        if status == TicketStatus::New && current.status != TicketStatus::New {
            errors.add(
                "status",
                ErrorKind::InvalidValue,
                "Status: a ticket cannot go back to new",
            );
        }
        next.status = status;
    }
    if let Some(p) = patch.priority {
        next.priority = p;
    }
    if let Some(t) = patch.ticket_type {
        next.ticket_type = t;
    }
    if let Some(r) = patch.requester_id {
        next.requester_id = r;
    }
    if let Some(a) = patch.assignee_id {
        next.assignee_id = a;
    }
    if let Some(g) = patch.group_id {
        next.group_id = g;
    }
    if let Some(o) = patch.organization_id {
        next.organization_id = o;
    }
    next.tags = merged_tags(&current.tags, patch);
    next.custom_fields = merged_custom_fields(&current.custom_fields, &patch.custom_fields);
    // Zendesk opens a new ticket once an agent assigns it.
    if patch.status.is_none() && next.status == TicketStatus::New && next.assignee_id.is_some() {
        next.status = TicketStatus::Open;
    }
    check_required_to_solve(&next, fields, &mut errors);

    diff(current, &next, &mut events);
    errors.into_result(AppliedUpdate {
        ticket: next,
        events,
    })
}

/// Builds a new ticket from a create request by `submitter`. The first comment
/// is required and becomes the description.
pub fn build_new(
    patch: &TicketPatch,
    submitter: UserId,
    fields: &[TicketField],
) -> Result<(NewTicket, Vec<AuditEvent>), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let description = match &patch.comment {
        Some(c) => c.body.clone(),
        None => {
            errors.add(
                "description",
                ErrorKind::BlankValue,
                "Description: cannot be blank",
            );
            String::new()
        }
    };
    let subject = match &patch.subject {
        Some(s) if !s.is_empty() => s.clone(),
        // Zendesk derives a missing subject from the description's first line.
        _ => description
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(80)
            .collect(),
    };
    let assignee_id = patch.assignee_id.flatten();
    let status = match patch.status {
        Some(s) => s,
        None if assignee_id.is_some() => TicketStatus::Open,
        None => TicketStatus::New,
    };
    if status == TicketStatus::Closed {
        errors.add(
            "status",
            ErrorKind::InvalidValue,
            "Status: a ticket cannot be created closed",
        );
    }
    let ticket = NewTicket {
        subject,
        description,
        status,
        priority: patch.priority.flatten(),
        ticket_type: patch.ticket_type.flatten(),
        requester_id: patch.requester_id.unwrap_or(submitter),
        submitter_id: submitter,
        assignee_id,
        group_id: patch.group_id.flatten(),
        organization_id: patch.organization_id.flatten(),
        tags: merged_tags(&[], patch),
        custom_fields: merged_custom_fields(&[], &patch.custom_fields),
    };
    let mut events = vec![
        create_event("subject", Value::String(ticket.subject.clone())),
        create_event("status", Value::String(ticket.status.as_str().into())),
        create_event("requester_id", ticket.requester_id.get().into()),
    ];
    let optional = [
        (
            "priority",
            ticket.priority.map(|p| Value::String(p.as_str().into())),
        ),
        (
            "type",
            ticket.ticket_type.map(|t| Value::String(t.as_str().into())),
        ),
        ("assignee_id", ticket.assignee_id.map(|a| a.get().into())),
        ("group_id", ticket.group_id.map(|g| g.get().into())),
        (
            "organization_id",
            ticket.organization_id.map(|o| o.get().into()),
        ),
    ];
    events.extend(
        optional
            .into_iter()
            .filter_map(|(name, v)| v.map(|v| create_event(name, v))),
    );
    if !ticket.tags.is_empty() {
        events.push(create_event("tags", tags_value(&ticket.tags)));
    }
    for cf in &ticket.custom_fields {
        events.push(create_event(&cf.id.to_string(), cf.value.clone()));
    }
    if let Some(status) = patch.status {
        let probe = probe_ticket(&ticket, status);
        check_required_to_solve(&probe, fields, &mut errors);
    }
    errors.into_result((ticket, events))
}

fn create_event(field_name: &str, value: Value) -> AuditEvent {
    AuditEvent::Create {
        field_name: field_name.to_owned(),
        value,
    }
}

fn tags_value(tags: &[String]) -> Value {
    Value::Array(tags.iter().cloned().map(Value::String).collect())
}

/// A stand-in ticket for rules that look at a whole ticket before it exists.
fn probe_ticket(t: &NewTicket, status: TicketStatus) -> Ticket {
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    Ticket {
        id: TicketId(0),
        account_id: AccountId(0),
        subject: t.subject.clone(),
        description: t.description.clone(),
        status,
        priority: t.priority,
        ticket_type: t.ticket_type,
        requester_id: t.requester_id,
        submitter_id: t.submitter_id,
        assignee_id: t.assignee_id,
        group_id: t.group_id,
        organization_id: t.organization_id,
        tags: t.tags.clone(),
        custom_fields: t.custom_fields.clone(),
        created_at: epoch,
        updated_at: epoch,
        revision: 0,
    }
}

fn merged_tags(current: &[String], patch: &TicketPatch) -> Vec<String> {
    let mut tags: Vec<String> = patch.tags.clone().unwrap_or_else(|| current.to_vec());
    for t in &patch.additional_tags {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags.retain(|t| !patch.remove_tags.contains(t));
    tags
}

/// Applies custom field changes; cleared values (null or unchecked) are dropped
/// so that a ticket only lists fields that hold something, ordered by id.
fn merged_custom_fields(
    current: &[CustomFieldValue],
    changes: &[CustomFieldValue],
) -> Vec<CustomFieldValue> {
    let mut out: Vec<CustomFieldValue> = current.to_vec();
    for change in changes {
        out.retain(|c| c.id != change.id);
        if !change.value.is_null() && change.value != Value::Bool(false) {
            out.push(change.clone());
        }
    }
    out.sort_by_key(|c| c.id);
    out
}

/// Zendesk's "required to solve": a solved ticket must have every required
/// custom field filled in.
fn check_required_to_solve(ticket: &Ticket, fields: &[TicketField], errors: &mut ValidationErrors) {
    if !matches!(ticket.status, TicketStatus::Solved | TicketStatus::Closed) {
        return;
    }
    for field in fields
        .iter()
        .filter(|f| f.required && f.active && !f.field_type.is_system())
    {
        if !ticket.custom_fields.iter().any(|c| c.id == field.id) {
            errors.add_custom(
                field.id,
                ErrorKind::BlankValue,
                format!("{}: is required to solve the ticket", field.title),
            );
        }
    }
}

fn diff(before: &Ticket, after: &Ticket, events: &mut Vec<AuditEvent>) {
    let mut change = |name: &str, old: Value, new: Value| {
        if old != new {
            events.push(AuditEvent::Change {
                field_name: name.to_owned(),
                value: new,
                previous_value: old,
            });
        }
    };
    let opt_str = |v: Option<&'static str>| v.map_or(Value::Null, |s| Value::String(s.into()));
    let opt_id = |v: Option<i64>| v.map_or(Value::Null, Value::from);
    change(
        "subject",
        before.subject.clone().into(),
        after.subject.clone().into(),
    );
    change(
        "status",
        before.status.as_str().into(),
        after.status.as_str().into(),
    );
    change(
        "priority",
        opt_str(before.priority.map(TicketPriority::as_str)),
        opt_str(after.priority.map(TicketPriority::as_str)),
    );
    change(
        "type",
        opt_str(before.ticket_type.map(TicketType::as_str)),
        opt_str(after.ticket_type.map(TicketType::as_str)),
    );
    change(
        "requester_id",
        before.requester_id.get().into(),
        after.requester_id.get().into(),
    );
    change(
        "assignee_id",
        opt_id(before.assignee_id.map(UserId::get)),
        opt_id(after.assignee_id.map(UserId::get)),
    );
    change(
        "group_id",
        opt_id(before.group_id.map(GroupId::get)),
        opt_id(after.group_id.map(GroupId::get)),
    );
    change(
        "organization_id",
        opt_id(before.organization_id.map(OrganizationId::get)),
        opt_id(after.organization_id.map(OrganizationId::get)),
    );
    change("tags", tags_value(&before.tags), tags_value(&after.tags));
    let value_of = |t: &Ticket, id: TicketFieldId| {
        t.custom_fields
            .iter()
            .find(|c| c.id == id)
            .map_or(Value::Null, |c| c.value.clone())
    };
    let mut ids: Vec<TicketFieldId> = before
        .custom_fields
        .iter()
        .chain(after.custom_fields.iter())
        .map(|c| c.id)
        .collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        change(&id.to_string(), value_of(before, id), value_of(after, id));
    }
}

#[cfg(test)]
mod tests;
