//! Zendesk's JSON shapes for zaffre's records.
//!
//! Existing Zendesk API clients and app code read these bodies, so field names
//! and types follow Zendesk's documented resources; fields zaffre has no data
//! for are present with Zendesk's empty values rather than missing.

use serde_json::{json, Value};
use zaffre_domain::{Account, User};

/// The base URL for `url` fields: the configured public URL or `http://<Host>`.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

/// A user, as `GET /api/v2/users/{id}.json` shows it.
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
        "created_at": u.created_at,
        "updated_at": u.updated_at,
    })
}

/// The account, as the workspace and apps see it.
pub fn account(a: &Account) -> Value {
    json!({"subdomain": a.subdomain, "name": a.name})
}
