//! Zendesk's JSON shapes for zaffre's records.
//!
//! Existing Zendesk API clients and app code read these bodies, so field names
//! and types follow Zendesk's documented resources; fields zaffre has no data
//! for are present with Zendesk's empty values rather than missing.

use chrono::SecondsFormat;
use serde_json::{json, Value};
use zaffre_domain::{
    Account, Audit, AuditEvent, Comment, CommentId, FieldType, Group, NewComment, Organization,
    Ticket, TicketField, TicketPriority, TicketType, Timestamp, User, UserId,
};

/// The base URL for `url` fields: the configured public URL or `http://<Host>`.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

/// A timestamp as Zendesk writes it: ISO 8601 in UTC, whole seconds, `Z`
/// (`2024-05-01T10:00:00Z`). Every shape uses this so clients that parse
/// Zendesk's dates with a strict format keep working.
pub fn timestamp(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A user, as `GET /api/v2/users/{id}.json` shows it. Attributes zaffre has
/// no data for (aliases, signatures, custom roles, …) carry Zendesk's values
/// for a plain account, so clients that read them find what they expect.
pub fn user(base: &BaseUrl, u: &User) -> Value {
    json!({
        "id": u.id,
        "url": format!("{}/api/v2/users/{}.json", base.0, u.id),
        "name": u.name,
        "email": u.email,
        "role": u.role.as_str(),
        "organization_id": u.organization_id,
        "time_zone": u.time_zone,
        "iana_time_zone": u.time_zone,
        "locale": u.locale,
        "active": u.active,
        "verified": true,
        "suspended": false,
        "shared": false,
        "moderator": u.role.is_staff(),
        "ticket_restriction": if u.role.is_staff() { Value::Null } else { json!("requested") },
        "phone": null,
        "photo": null,
        "tags": [],
        "user_fields": {},
        "details": "",
        "notes": "",
        "external_id": null,
        "alias": "",
        "signature": null,
        "locale_id": 1,
        "role_type": null,
        "custom_role_id": null,
        "default_group_id": null,
        "restricted_agent": false,
        "only_private_comments": false,
        "shared_agent": false,
        "shared_phone_number": null,
        "two_factor_auth_enabled": false,
        "report_csv": u.role == zaffre_domain::Role::Admin,
        "last_login_at": null,
        "created_at": timestamp(&u.created_at),
        "updated_at": timestamp(&u.updated_at),
    })
}

/// The account, as the workspace and apps see it.
pub fn account(a: &Account) -> Value {
    json!({"subdomain": a.subdomain, "name": a.name})
}

// ---------------------------------------------------------------------------
// People: organizations and groups (the people API's section).
// ---------------------------------------------------------------------------

/// An organization, as `GET /api/v2/organizations/{id}.json` shows it. zaffre
/// has no shared tickets, external ids or organization fields, so those carry
/// Zendesk's empty values.
pub fn organization(base: &BaseUrl, o: &Organization) -> Value {
    json!({
        "id": o.id,
        "url": format!("{}/api/v2/organizations/{}.json", base.0, o.id),
        "name": o.name,
        "shared_tickets": false,
        "shared_comments": false,
        "external_id": null,
        "created_at": timestamp(&o.created_at),
        "updated_at": timestamp(&o.updated_at),
        "domain_names": o.domain_names,
        "details": o.details,
        "notes": o.notes,
        "group_id": null,
        "tags": o.tags,
        "organization_fields": {},
    })
}

/// A group, as `GET /api/v2/groups/{id}.json` shows it. Groups are never
/// deleted or made private in zaffre, so those flags are constant.
pub fn group(base: &BaseUrl, g: &Group) -> Value {
    json!({
        "id": g.id,
        "url": format!("{}/api/v2/groups/{}.json", base.0, g.id),
        "name": g.name,
        "description": g.description,
        "default": false,
        "deleted": false,
        "is_public": true,
        "created_at": timestamp(&g.created_at),
        "updated_at": timestamp(&g.updated_at),
    })
}

// ---------------------------------------------------------------------------
// (end of the people section)
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Tickets: tickets, comments, audits and ticket fields (the tickets API's section).
// ---------------------------------------------------------------------------

/// How a record arrived, in Zendesk's `via` shape. zaffre does not record the
/// channel, and every write reaches it through the API, so it says `api`.
fn via_api() -> Value {
    json!({"channel": "api", "source": {"from": {}, "to": {}, "rel": null}})
}

/// The value a ticket shows for a custom field it holds nothing for: Zendesk
/// shows an unchecked checkbox as `false` and every other empty field as `null`.
fn empty_custom_value(field: &TicketField) -> Value {
    match field.field_type {
        FieldType::Checkbox => Value::Bool(false),
        _ => Value::Null,
    }
}

/// A ticket, as `GET /api/v2/tickets/{id}.json` shows it. `fields` are the
/// account's ticket fields: like Zendesk, `custom_fields` lists every active
/// custom field, with `null` (or `false`) for those the ticket leaves empty.
pub fn ticket(base: &BaseUrl, t: &Ticket, fields: &[TicketField]) -> Value {
    let custom: Vec<Value> = fields
        .iter()
        .filter(|f| f.active && !f.field_type.is_system())
        .map(|f| {
            let value = t
                .custom_fields
                .iter()
                .find(|c| c.id == f.id)
                .map_or_else(|| empty_custom_value(f), |c| c.value.clone());
            json!({"id": f.id, "value": value})
        })
        .collect();
    json!({
        "id": t.id,
        "url": format!("{}/api/v2/tickets/{}.json", base.0, t.id),
        "external_id": null,
        "via": via_api(),
        "created_at": timestamp(&t.created_at),
        "updated_at": timestamp(&t.updated_at),
        "generated_timestamp": t.updated_at.timestamp(),
        "type": t.ticket_type.map(TicketType::as_str),
        "subject": t.subject,
        "raw_subject": t.subject,
        "description": t.description,
        "priority": t.priority.map(TicketPriority::as_str),
        "status": t.status.as_str(),
        "recipient": null,
        "requester_id": t.requester_id,
        "submitter_id": t.submitter_id,
        "assignee_id": t.assignee_id,
        "organization_id": t.organization_id,
        "group_id": t.group_id,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": null,
        "problem_id": null,
        "has_incidents": false,
        "is_public": true,
        "due_at": null,
        "tags": t.tags,
        "custom_fields": custom,
        "fields": custom,
        "satisfaction_rating": null,
        "sharing_agreement_ids": [],
        "custom_status_id": null,
        "ticket_form_id": null,
        "brand_id": null,
        "allow_channelback": false,
        "allow_attachments": true,
        "from_messaging_channel": false,
    })
}

/// A comment's HTML: what was submitted, or the plain body escaped into
/// paragraphs, so `html_body` is always something a client can render.
pub fn comment_html(c: &Comment) -> String {
    if !c.html_body.is_empty() {
        return c.html_body.clone();
    }
    let mut html = String::from("<div class=\"zd-comment\" dir=\"auto\">");
    for paragraph in c.body.split("\n\n").filter(|p| !p.trim().is_empty()) {
        html.push_str("<p>");
        html.push_str(&escape_html(paragraph.trim()).replace('\n', "<br>"));
        html.push_str("</p>");
    }
    html.push_str("</div>");
    html
}

/// Escapes the five characters that matter in HTML text and attributes.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A comment, as `GET /api/v2/tickets/{id}/comments.json` lists it.
pub fn comment(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "type": "Comment",
        "author_id": c.author_id,
        "body": c.body,
        "html_body": comment_html(c),
        "plain_body": c.body,
        "public": c.public,
        "attachments": [],
        "via": via_api(),
        "metadata": {"system": {}, "custom": {}},
        "created_at": timestamp(&c.created_at),
    })
}

/// One audit event. Zendesk numbers events; zaffre stores them inside their
/// audit, so an event's id is derived from the audit's id and its position
/// (unique as long as an audit holds fewer than 10,000 events). A `Comment`
/// event carries the comment itself when `comments` holds it.
fn audit_event(audit: &Audit, index: usize, event: &AuditEvent, comments: &[Comment]) -> Value {
    let id = audit.id.get().saturating_mul(10_000) + index as i64;
    match event {
        AuditEvent::Create { field_name, value } => json!({
            "id": id, "type": "Create", "field_name": field_name, "value": value,
        }),
        AuditEvent::Change {
            field_name,
            value,
            previous_value,
        } => json!({
            "id": id, "type": "Change", "field_name": field_name,
            "value": value, "previous_value": previous_value,
        }),
        AuditEvent::Comment { comment_id, public } => {
            let mut shape = match comments.iter().find(|c| c.id == *comment_id) {
                Some(c) => comment(c),
                None => json!({"type": "Comment", "public": public}),
            };
            if let Some(obj) = shape.as_object_mut() {
                obj.insert("id".into(), json!(comment_id));
                obj.insert("audit_id".into(), json!(audit.id));
            }
            shape
        }
    }
}

/// An audit, as `GET /api/v2/tickets/{id}/audits.json` lists it. `comments`
/// are the ticket's comments, so that `Comment` events show their text.
pub fn audit(a: &Audit, comments: &[Comment]) -> Value {
    let events: Vec<Value> = a
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| audit_event(a, i, e, comments))
        .collect();
    json!({
        "id": a.id,
        "ticket_id": a.ticket_id,
        "author_id": a.author_id,
        "created_at": timestamp(&a.created_at),
        "metadata": {"system": {}, "custom": {}},
        "via": via_api(),
        "events": events,
    })
}

/// The audit of a write just committed, for the `audit` of a create or update
/// response. The store does not hand back the ids it assigned, so `id` and
/// the events' ids are `null`; `GET …/audits.json` shows the stored audit.
pub fn unsaved_audit(
    t: &Ticket,
    author: UserId,
    events: &[AuditEvent],
    new_comment: Option<&NewComment>,
) -> Value {
    let mut shaped: Vec<Value> = events
        .iter()
        .map(|e| match e {
            AuditEvent::Create { field_name, value } => json!({
                "id": null, "type": "Create", "field_name": field_name, "value": value,
            }),
            AuditEvent::Change {
                field_name,
                value,
                previous_value,
            } => json!({
                "id": null, "type": "Change", "field_name": field_name,
                "value": value, "previous_value": previous_value,
            }),
            AuditEvent::Comment { comment_id, public } => {
                json!({"id": comment_id, "type": "Comment", "public": public})
            }
        })
        .collect();
    if let Some(c) = new_comment {
        let stored = Comment {
            id: CommentId(0),
            account_id: t.account_id,
            ticket_id: t.id,
            author_id: c.author_id,
            public: c.public,
            body: c.body.clone(),
            html_body: c.html_body.clone(),
            created_at: t.updated_at,
        };
        let mut shape = comment(&stored);
        if let Some(obj) = shape.as_object_mut() {
            obj.insert("id".into(), Value::Null);
        }
        shaped.push(shape);
    }
    json!({
        "id": null,
        "ticket_id": t.id,
        "author_id": author,
        "created_at": timestamp(&t.updated_at),
        "metadata": {"system": {}, "custom": {}},
        "via": via_api(),
        "events": shaped,
    })
}

/// A ticket field, as `GET /api/v2/ticket_fields/{id}.json` shows it.
pub fn ticket_field(base: &BaseUrl, f: &TicketField) -> Value {
    let mut shape = json!({
        "id": f.id,
        "url": format!("{}/api/v2/ticket_fields/{}.json", base.0, f.id),
        "type": f.field_type.as_str(),
        "title": f.title,
        "raw_title": f.title,
        "description": f.description,
        "raw_description": f.description,
        "position": f.position,
        "active": f.active,
        "required": f.required,
        "collapsed_for_agents": false,
        "regexp_for_validation": null,
        "title_in_portal": f.title,
        "raw_title_in_portal": f.title,
        "visible_in_portal": true,
        "editable_in_portal": !matches!(
            f.field_type,
            FieldType::Status | FieldType::Group | FieldType::Assignee
        ),
        "required_in_portal": false,
        "tag": null,
        "removable": !f.field_type.is_system(),
        "agent_description": null,
        "created_at": timestamp(&f.created_at),
        "updated_at": timestamp(&f.updated_at),
    });
    if f.field_type == FieldType::Tagger {
        let options: Vec<Value> = f
            .options
            .iter()
            .map(|o| {
                json!({"id": o.id, "name": o.name, "raw_name": o.name, "value": o.value, "default": false})
            })
            .collect();
        if let Some(obj) = shape.as_object_mut() {
            obj.insert("custom_field_options".into(), Value::Array(options));
        }
    }
    shape
}

// ---------------------------------------------------------------------------
// (end of the tickets section)
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Apps: apps, installations and job statuses (the apps API's section).
// ---------------------------------------------------------------------------

/// Zendesk's `updated` field of an installation: `YYYYMMDDhhmmss`.
fn compact_time(t: &Timestamp) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

/// An app, in Zendesk's App shape (`GET /api/v2/apps/{id}.json`, not wrapped).
/// Marketplace fields zaffre has no data for carry Zendesk's empty values.
/// Parameters get ids by position (1, 2, …): zaffre keeps them in the
/// manifest rather than in rows of their own.
pub fn app(
    base: &BaseUrl,
    a: &zaffre_domain::apps::App,
    manifest: Option<&zaffre_manifest::Manifest>,
    installation_count: usize,
) -> Value {
    let created = timestamp(&a.created_at);
    let updated = timestamp(&a.updated_at);
    let (locations, products, parameters, framework_version, default_locale) = match manifest {
        Some(m) => (
            m.locations
                .iter()
                .filter_map(|l| {
                    l.product
                        .locations()
                        .iter()
                        .find(|(name, _)| *name == l.name)
                        .map(|(_, id)| *id)
                })
                .collect::<Vec<u32>>(),
            m.products()
                .iter()
                .map(|p| p.name())
                .collect::<Vec<&str>>(),
            m.parameters
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    json!({
                        "id": i + 1,
                        "app_id": a.id,
                        "name": p.name,
                        "kind": p.kind,
                        "required": p.required,
                        "secure": p.secure,
                        // A secure parameter's default is never shown (the
                        // validator refuses one anyway).
                        "default_value": if p.secure { Value::Null } else { p.default.clone().unwrap_or(Value::Null) },
                        "position": i,
                        "created_at": created,
                        "updated_at": updated,
                    })
                })
                .collect::<Vec<Value>>(),
            m.framework_version.clone(),
            m.default_locale.clone(),
        ),
        None => (vec![], vec![], vec![], None, None),
    };
    let mut shape = json!({
        "id": a.id,
        "url": format!("{}/api/v2/apps/{}.json", base.0, a.id),
        "created_at": created,
        "updated_at": updated,
        "name": a.name,
        "short_description": a.short_description,
        "long_description": "",
        "raw_long_description": "",
        "installation_instructions": "",
        "raw_installation_instructions": "",
        "author_name": a.author_name,
        "author_email": a.author_email,
        "author_url": a.author_url,
        "version": a.version,
        "framework_version": framework_version,
        "default_locale": default_locale,
        "visibility": if a.private { "private" } else { "public" },
        "single_install": a.single_install,
        "marketing_only": false,
        "installable": true,
        "installation_count": installation_count,
        "locations": locations,
        "products": products,
        "parameters": parameters,
    });
    // Marketplace fields zaffre has no data for, in a second literal (one
    // literal this long exceeds `json!`'s recursion limit).
    let empty = json!({
        "large_icon": format!("{}/api/v2/apps/{}/assets/logo.png", base.0, a.id),
        "small_icon": format!("{}/api/v2/apps/{}/assets/logo-small.png", base.0, a.id),
        "categories": [],
        "collections": [],
        "screenshots": [],
        "plans": [],
        "paid": false,
        "featured": false,
        "promoted": false,
        "deprecated": false,
        "obsolete": false,
        "state": "published",
        "owner_id": a.account_id,
        "remote_installation_url": null,
        "terms_conditions_url": null,
        "google_analytics_code": null,
        "date_published": null,
        "rating": {"average": 0, "total_count": 0, "count": {}},
    });
    if let (Value::Object(out), Value::Object(more)) = (&mut shape, empty) {
        out.extend(more);
    }
    shape
}

/// An installation, in Zendesk's Installation shape.
///
/// Secure settings are write-only: each secret parameter appears in
/// `settings` and `settings_objects` with the value `null` whether or not it
/// is set, and zaffre's `secure_settings` map says which are set
/// (`{"api_token": true}`). The value itself never leaves the server.
pub fn installation(
    i: &zaffre_domain::apps::Installation,
    params: &[zaffre_manifest::Parameter],
) -> Value {
    let mut settings = i.settings.clone();
    let mut secure = serde_json::Map::new();
    for p in params.iter().filter(|p| zaffre_domain::apps::is_secret(p)) {
        settings.insert(p.name.clone(), Value::Null);
        secure.insert(p.name.clone(), Value::Bool(i.secrets_set.contains(&p.name)));
    }
    let objects: Vec<Value> = settings
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    json!({
        "id": i.id,
        "app_id": i.app_id,
        "product": "support",
        "enabled": i.enabled,
        "settings": settings,
        "settings_objects": objects,
        "secure_settings": secure,
        "collapsible": true,
        "group_restrictions": [],
        "role_restrictions": null,
        "paid": false,
        "has_unpaid_subscription": false,
        "has_incomplete_subscription": false,
        "pending_installation": false,
        "pending_job_id": null,
        "servable": true,
        "plan_information": {"name": null},
        "recurring_payment": false,
        "redirect_path": "/admin/apps",
        "stripe_account": null,
        "stripe_publishable_key": null,
        "stripe_subscription_id": null,
        "updated": compact_time(&i.updated_at),
        "created_at": timestamp(&i.created_at),
        "updated_at": timestamp(&i.updated_at),
    })
}

/// A job status (`GET /api/v2/apps/job_statuses/{id}.json`, not wrapped).
/// zaffre does the work before answering, so a job is already final.
pub fn job_status(base: &BaseUrl, j: &zaffre_domain::apps::JobStatus) -> Value {
    json!({
        "id": j.id.to_string(),
        "url": format!("{}/api/v2/apps/job_statuses/{}.json", base.0, j.id),
        "status": j.status.as_str(),
        "message": j.message,
        "app_id": j.app_id,
        "app_url": j.app_id.map(|id| format!("{}/api/v2/apps/{}.json", base.0, id)),
        "total": 1,
        "progress": 1,
        "retry_in": null,
    })
}

// ---------------------------------------------------------------------------
// (end of the apps section)
// ---------------------------------------------------------------------------

// Tests stay last in the file (clippy's `items_after_test_module`).
#[cfg(test)]
mod timestamp_tests {
    use chrono::TimeZone;

    #[test]
    fn timestamps_are_whole_seconds_in_utc_with_z() {
        let t = chrono::Utc
            .with_ymd_and_hms(2024, 5, 1, 10, 0, 0)
            .single()
            .map(|t| t + chrono::Duration::milliseconds(789));
        assert_eq!(
            t.map(|t| super::timestamp(&t)).as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
    }
}
