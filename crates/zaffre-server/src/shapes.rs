//! Zendesk's JSON shapes for zaffre's records.
//!
//! Existing Zendesk API clients and app code read these bodies, so field names
//! and types follow Zendesk's documented resources; fields zaffre has no data
//! for are present with Zendesk's empty values rather than missing.

use chrono::SecondsFormat;
use serde_json::{json, Value};
use zaffre_domain::{Account, Group, Organization, Timestamp, User};

/// The base URL for `url` fields: the configured public URL or `http://<Host>`.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

/// A timestamp as Zendesk writes it: ISO 8601 in UTC, whole seconds, `Z`
/// (`2024-05-01T10:00:00Z`). Every shape uses this so clients that parse
/// Zendesk's dates with a strict format keep working.
pub fn timestamp(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

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
