//! The rules for people: what a user, organization or group write may
//! contain, and who may see or change whom.
//!
//! Like the ticket rules in `zaffre_domain::ticket`, parsing works on the JSON
//! object the client sent (any types) and collects every problem into one 422
//! with `details` keyed by attribute, so a form can show all of them at once.
//! Nothing here does I/O: the handlers check what needs the store (does the
//! organization exist, is the email taken) and call these for the rest, which
//! is what lets the rules be unit-tested exhaustively.
//!
//! Access decisions (documented in the OpenAPI document too):
//! - Staff (agents and admins) see every user, organization and group of
//!   their account. End-users see themselves and their own organization; any
//!   other id answers 403 *before* it is looked up, so the answer does not
//!   reveal whether the id exists.
//! - Admins create and change anyone. Agents create and change end-users, but
//!   never roles or passwords. Everybody may change their own name, locale and
//!   time zone. An admin cannot change their own role (nobody can lock the
//!   account out of administration by accident).
//! - Organization and group writes are admin-only. Zendesk lets agents with
//!   an extra permission create organizations; zaffre has no such permission
//!   and keeps it simple.

use serde_json::{Map, Value};
use zaffre_domain::validation::{ErrorKind, ValidationErrors};
use zaffre_domain::{
    tags, NewGroup, NewOrganization, OrganizationId, OrganizationPatch, Role, User, UserPatch,
};

use crate::error::ApiError;

/// Longest name of a user, organization or group, in characters.
pub const MAX_NAME_LEN: usize = 255;
/// Longest email accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest free text (organization details and notes, group descriptions), in characters.
pub const MAX_TEXT_LEN: usize = 65_536;
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted, in bytes: argon2 cost grows with input and an
/// unbounded password would be a cheap way to burn CPU.
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Longest time zone name (IANA names are at most about 30 characters).
pub const MAX_TIME_ZONE_LEN: usize = 64;
/// Longest locale tag.
pub const MAX_LOCALE_LEN: usize = 35;
/// Most domain names an organization may list.
pub const MAX_DOMAIN_NAMES: usize = 100;

/// A user write as the client sent it, typed and checked. `None` means "not
/// mentioned"; `organization_id: Some(None)` means "remove from the organization".
#[derive(Clone, Default, PartialEq)]
pub struct UserInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub organization_id: Option<Option<OrganizationId>>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    /// Plain text until hashed; kept out of `Debug` so it never reaches a log.
    pub password: Option<String>,
}

impl std::fmt::Debug for UserInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserInput")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("organization_id", &self.organization_id)
            .field("time_zone", &self.time_zone)
            .field("locale", &self.locale)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What a new user needs besides the password hash, which the handler computes.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDraft {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub organization_id: Option<OrganizationId>,
    pub time_zone: String,
    pub locale: String,
}

impl UserInput {
    /// Parses a `user` object. Unknown and read-only attributes (`id`, `url`,
    /// `created_at`, …) are ignored, as Zendesk does, so a client may send
    /// back an object it read; every malformed known attribute is reported.
    pub fn parse(input: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut parsed = UserInput {
            name: name(input, "name", "Name", &mut errors),
            ..UserInput::default()
        };
        if let Some(v) = input.get("email") {
            match v.as_str().map(|s| s.trim().to_lowercase()) {
                Some(email) if email.is_empty() => {
                    errors.add("email", ErrorKind::BlankValue, "Email: cannot be blank")
                }
                Some(email) if email.chars().count() > MAX_EMAIL_LEN => errors.add(
                    "email",
                    ErrorKind::TooLong,
                    format!("Email: is too long (maximum is {MAX_EMAIL_LEN} characters)"),
                ),
                Some(email) if !is_valid_email(&email) => errors.add(
                    "email",
                    ErrorKind::InvalidValue,
                    format!("Email: {email} is not properly formatted"),
                ),
                Some(email) => parsed.email = Some(email),
                None => errors.add("email", ErrorKind::InvalidValue, "Email: must be text"),
            }
        }
        if let Some(v) = input.get("role") {
            match v
                .as_str()
                .and_then(|s| Role::parse(&s.trim().to_lowercase()))
            {
                Some(role) => parsed.role = Some(role),
                None => errors.add(
                    "role",
                    ErrorKind::InvalidValue,
                    format!(
                        "Role: {} is not valid (use end-user, agent or admin)",
                        describe(v)
                    ),
                ),
            }
        }
        if let Some(v) = input.get("organization_id") {
            match v {
                Value::Null => parsed.organization_id = Some(None),
                v => match v.as_i64().filter(|id| *id > 0) {
                    Some(id) => parsed.organization_id = Some(Some(OrganizationId(id))),
                    None => errors.add(
                        "organization_id",
                        ErrorKind::InvalidValue,
                        "Organization: must be an organization id or null",
                    ),
                },
            }
        }
        parsed.time_zone = token(
            input,
            "time_zone",
            "Time zone",
            MAX_TIME_ZONE_LEN,
            // IANA names: `UTC`, `Europe/Paris`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`.
            |c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'),
            &mut errors,
        );
        parsed.locale = token(
            input,
            "locale",
            "Locale",
            MAX_LOCALE_LEN,
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
            &mut errors,
        );
        if let Some(v) = input.get("password") {
            match v.as_str() {
                Some(p) if p.chars().count() < MIN_PASSWORD_LEN => errors.add(
                    "password",
                    ErrorKind::InvalidValue,
                    format!("Password: is too short (minimum is {MIN_PASSWORD_LEN} characters)"),
                ),
                Some(p) if p.len() > MAX_PASSWORD_LEN => errors.add(
                    "password",
                    ErrorKind::TooLong,
                    format!("Password: is too long (maximum is {MAX_PASSWORD_LEN} bytes)"),
                ),
                Some(p) => parsed.password = Some(p.to_owned()),
                None => errors.add(
                    "password",
                    ErrorKind::InvalidValue,
                    "Password: must be text",
                ),
            }
        }
        errors.into_result(parsed)
    }

    /// The attributes needed to create a user, with Zendesk's defaults for the
    /// rest (an end-user in UTC speaking `en-US`). Name and email are required.
    pub fn draft(&self) -> Result<UserDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.name.is_none() {
            errors.add("name", ErrorKind::BlankValue, "Name: cannot be blank");
        }
        if self.email.is_none() {
            errors.add("email", ErrorKind::BlankValue, "Email: cannot be blank");
        }
        let draft = UserDraft {
            name: self.name.clone().unwrap_or_default(),
            email: self.email.clone().unwrap_or_default(),
            role: self.role.unwrap_or(Role::EndUser),
            organization_id: self.organization_id.flatten(),
            time_zone: self.time_zone.clone().unwrap_or_else(|| "UTC".into()),
            locale: self.locale.clone().unwrap_or_else(|| "en-US".into()),
        };
        errors.into_result(draft)
    }

    /// The attributes whose requested value differs from `current`'s, by API
    /// name. Sending back an unchanged value is not a change, so a client
    /// that PUTs a whole object it read is judged only on what it changes.
    pub fn changes(&self, current: &User) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut check = |name: &'static str, differs: bool| {
            if differs {
                changed.push(name);
            }
        };
        check(
            "name",
            self.name.as_ref().is_some_and(|v| *v != current.name),
        );
        check(
            "email",
            self.email.as_ref().is_some_and(|v| *v != current.email),
        );
        check("role", self.role.is_some_and(|v| v != current.role));
        check(
            "organization_id",
            self.organization_id
                .is_some_and(|v| v != current.organization_id),
        );
        check(
            "time_zone",
            self.time_zone
                .as_ref()
                .is_some_and(|v| *v != current.time_zone),
        );
        check(
            "locale",
            self.locale.as_ref().is_some_and(|v| *v != current.locale),
        );
        // A password is never compared (only its hash is stored): sending one is a change.
        check("password", self.password.is_some());
        changed
    }

    /// The store's patch for this input (the password is set separately, hashed).
    pub fn patch(&self) -> UserPatch {
        UserPatch {
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
            organization_id: self.organization_id,
            time_zone: self.time_zone.clone(),
            locale: self.locale.clone(),
            active: None,
        }
    }
}

/// May `caller` see the user with this id? Decided without looking the id up.
pub fn may_view_user(caller: &User, target: zaffre_domain::UserId) -> Result<(), ApiError> {
    if caller.role.is_staff() || caller.id == target {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// May `caller` create a user with `role`? Admins any role, agents end-users only.
pub fn may_create_user(caller: &User, role: Role) -> Result<(), ApiError> {
    match (caller.role, role) {
        (Role::Admin, _) | (Role::Agent, Role::EndUser) => Ok(()),
        _ => Err(ApiError::Forbidden),
    }
}

/// What a person may change about themselves without being an admin.
const SELF_SERVICE: &[&str] = &["name", "time_zone", "locale"];
/// What an agent may change about an end-user: everything but role and password.
const AGENT_ON_END_USER: &[&str] = &["name", "email", "organization_id", "time_zone", "locale"];

/// May `caller` make these `changes` (from [`UserInput::changes`]) to `target`?
/// A refusal is 403, except an admin changing their own role, which is a 422
/// on `role` because the request is allowed but the value is not.
pub fn may_update_user(caller: &User, target: &User, changes: &[&str]) -> Result<(), ApiError> {
    let allowed: &[&str] = match caller.role {
        Role::Admin => {
            if caller.id == target.id && changes.contains(&"role") {
                return Err(ApiError::invalid(
                    "role",
                    "Role: you cannot change your own role; ask another admin",
                ));
            }
            return Ok(());
        }
        _ if caller.id == target.id => SELF_SERVICE,
        Role::Agent if target.role == Role::EndUser => AGENT_ON_END_USER,
        _ => return Err(ApiError::Forbidden),
    };
    if changes.iter().all(|c| allowed.contains(c)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// May `caller` see the organization with this id? Staff any; end-users their own.
pub fn may_view_organization(caller: &User, id: OrganizationId) -> Result<(), ApiError> {
    if caller.role.is_staff() || caller.organization_id == Some(id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// An organization write as the client sent it, typed and checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationInput {
    pub name: Option<String>,
    pub details: Option<String>,
    pub notes: Option<String>,
    pub domain_names: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
}

impl OrganizationInput {
    /// Parses an `organization` object; unknown attributes are ignored.
    pub fn parse(input: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let parsed = OrganizationInput {
            name: name(input, "name", "Name", &mut errors),
            details: free_text(input, "details", "Details", &mut errors),
            notes: free_text(input, "notes", "Notes", &mut errors),
            domain_names: domain_names(input, &mut errors),
            tags: tag_list(input, &mut errors),
        };
        errors.into_result(parsed)
    }

    /// A new organization; the name is required.
    pub fn into_new(self) -> Result<NewOrganization, ValidationErrors> {
        let Some(name) = self.name else {
            return Err(ValidationErrors::single(
                "name",
                ErrorKind::BlankValue,
                "Name: cannot be blank",
            ));
        };
        Ok(NewOrganization {
            name,
            details: self.details.unwrap_or_default(),
            notes: self.notes.unwrap_or_default(),
            domain_names: self.domain_names.unwrap_or_default(),
            tags: self.tags.unwrap_or_default(),
        })
    }

    /// The store's patch for this input.
    pub fn into_patch(self) -> OrganizationPatch {
        OrganizationPatch {
            name: self.name,
            details: self.details,
            notes: self.notes,
            domain_names: self.domain_names,
            tags: self.tags,
        }
    }
}

/// Parses a `group` object into a new group; the name is required.
pub fn parse_new_group(input: &Map<String, Value>) -> Result<NewGroup, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let group_name = name(input, "name", "Name", &mut errors);
    let description = free_text(input, "description", "Description", &mut errors);
    if group_name.is_none() && !errors.errors.iter().any(|e| e.attribute == "name") {
        errors.add("name", ErrorKind::BlankValue, "Name: cannot be blank");
    }
    errors.into_result(NewGroup {
        name: group_name.unwrap_or_default(),
        description: description.unwrap_or_default(),
    })
}

/// A required-when-present display name: text, trimmed, not blank, no control
/// characters, at most [`MAX_NAME_LEN`] characters.
fn name(
    input: &Map<String, Value>,
    key: &str,
    label: &str,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let v = input.get(key)?;
    match v.as_str().map(str::trim) {
        Some("") => errors.add(
            key,
            ErrorKind::BlankValue,
            format!("{label}: cannot be blank"),
        ),
        Some(s) if s.chars().count() > MAX_NAME_LEN => errors.add(
            key,
            ErrorKind::TooLong,
            format!("{label}: is too long (maximum is {MAX_NAME_LEN} characters)"),
        ),
        Some(s) if s.chars().any(char::is_control) => errors.add(
            key,
            ErrorKind::InvalidValue,
            format!("{label}: cannot contain control characters"),
        ),
        Some(s) => return Some(s.to_owned()),
        None => errors.add(
            key,
            ErrorKind::InvalidValue,
            format!("{label}: must be text"),
        ),
    }
    None
}

/// Optional free text (null clears it); newlines and tabs are allowed.
fn free_text(
    input: &Map<String, Value>,
    key: &str,
    label: &str,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let v = input.get(key)?;
    match v {
        Value::Null => return Some(String::new()),
        Value::String(s) if s.chars().count() > MAX_TEXT_LEN => errors.add(
            key,
            ErrorKind::TooLong,
            format!("{label}: is too long (maximum is {MAX_TEXT_LEN} characters)"),
        ),
        Value::String(s)
            if s.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') =>
        {
            errors.add(
                key,
                ErrorKind::InvalidValue,
                format!("{label}: cannot contain control characters"),
            )
        }
        Value::String(s) => return Some(s.clone()),
        _ => errors.add(
            key,
            ErrorKind::InvalidValue,
            format!("{label}: must be text"),
        ),
    }
    None
}

/// A short identifier-like value (time zone, locale): non-empty, at most
/// `max` characters, every character accepted by `allowed`.
fn token(
    input: &Map<String, Value>,
    key: &str,
    label: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let v = input.get(key)?;
    let Value::String(raw) = v else {
        let (kind, text) = if v.is_null() {
            (ErrorKind::BlankValue, format!("{label}: cannot be blank"))
        } else {
            (ErrorKind::InvalidValue, format!("{label}: must be text"))
        };
        errors.add(key, kind, text);
        return None;
    };
    let s = raw.trim();
    if s.is_empty() {
        errors.add(
            key,
            ErrorKind::BlankValue,
            format!("{label}: cannot be blank"),
        );
    } else if s.chars().count() > max {
        errors.add(
            key,
            ErrorKind::TooLong,
            format!("{label}: is too long (maximum is {max} characters)"),
        );
    } else if !s.chars().all(allowed) {
        errors.add(
            key,
            ErrorKind::InvalidValue,
            format!("{label}: {} is not valid", describe(v)),
        );
    } else {
        return Some(s.to_owned());
    }
    None
}

fn domain_names(input: &Map<String, Value>, errors: &mut ValidationErrors) -> Option<Vec<String>> {
    let v = input.get("domain_names")?;
    let items: Vec<&str> = match v {
        Value::Null => return Some(Vec::new()),
        // Zendesk's API takes an array; its forms send space-separated text.
        Value::String(s) => s.split_whitespace().collect(),
        Value::Array(items) => match items.iter().map(Value::as_str).collect::<Option<_>>() {
            Some(items) => items,
            None => {
                errors.add(
                    "domain_names",
                    ErrorKind::InvalidValue,
                    "Domain names: must be a list of domain names",
                );
                return None;
            }
        },
        _ => {
            errors.add(
                "domain_names",
                ErrorKind::InvalidValue,
                "Domain names: must be a list of domain names",
            );
            return None;
        }
    };
    if items.len() > MAX_DOMAIN_NAMES {
        errors.add(
            "domain_names",
            ErrorKind::TooLong,
            format!("Domain names: at most {MAX_DOMAIN_NAMES} are allowed"),
        );
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let domain = item.trim().to_lowercase();
        if !is_valid_domain(&domain) {
            errors.add(
                "domain_names",
                ErrorKind::InvalidValue,
                format!(
                    "Domain names: {} is not a domain name",
                    describe(&Value::from(item))
                ),
            );
            return None;
        }
        if !out.contains(&domain) {
            out.push(domain);
        }
    }
    Some(out)
}

fn tag_list(input: &Map<String, Value>, errors: &mut ValidationErrors) -> Option<Vec<String>> {
    let v = input.get("tags")?;
    let raw: Vec<&str> = match v {
        Value::Null => return Some(Vec::new()),
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => match items.iter().map(Value::as_str).collect::<Option<_>>() {
            Some(items) => items,
            None => {
                errors.add(
                    "tags",
                    ErrorKind::InvalidValue,
                    "Tags: must be a list of tags",
                );
                return None;
            }
        },
        _ => {
            errors.add(
                "tags",
                ErrorKind::InvalidValue,
                "Tags: must be a list of tags",
            );
            return None;
        }
    };
    match tags::normalize(raw) {
        Ok(tags) => Some(tags),
        Err(bad) => {
            errors.add(
                "tags",
                ErrorKind::InvalidValue,
                format!("Tags: {} is not a valid tag", describe(&Value::from(bad))),
            );
            None
        }
    }
}

/// A deliberately plain check: one `@`, a non-empty local part without
/// spaces or characters that need quoting, and a domain name. Deliverability
/// is not zaffre's to judge; catching typos and header injection is.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && is_valid_domain(domain)
}

/// Labels of letters, digits and hyphens (not at either end), separated by
/// dots; internationalized names are accepted as Unicode letters.
fn is_valid_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// A value as quoted in an error message, shortened so a huge value cannot
/// make a huge error body.
fn describe(v: &Value) -> String {
    let text = match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        let short: String = text.chars().take(57).collect();
        format!("{short}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use zaffre_domain::{AccountId, UserId};

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn person(id: i64, role: Role) -> User {
        User {
            id: UserId(id),
            account_id: AccountId(1),
            name: format!("p{id}"),
            email: format!("p{id}@example.com"),
            role,
            organization_id: None,
            time_zone: "UTC".into(),
            locale: "en-US".into(),
            active: true,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn attributes(e: &ValidationErrors) -> Vec<&str> {
        e.errors.iter().map(|e| e.attribute.as_str()).collect()
    }

    #[test]
    fn a_complete_user_parses_with_normalized_email() {
        let input = UserInput::parse(&obj(json!({
            "name": "  Ann Smith ", "email": " Ann@Example.COM", "role": "agent",
            "organization_id": 7, "time_zone": "America/Argentina/Buenos_Aires",
            "locale": "pt-BR", "password": "long enough", "id": 99, "url": "ignored"
        })))
        .unwrap();
        let draft = input.draft().unwrap();
        assert_eq!(draft.name, "Ann Smith");
        assert_eq!(draft.email, "ann@example.com");
        assert_eq!(draft.role, Role::Agent);
        assert_eq!(draft.organization_id, Some(OrganizationId(7)));
        assert_eq!(input.password.as_deref(), Some("long enough"));
        assert!(!format!("{input:?}").contains("long enough"));
    }

    #[test]
    fn every_bad_user_attribute_is_reported_at_once() {
        let errors = UserInput::parse(&obj(json!({
            "name": 5, "email": "no-at-sign", "role": "superuser",
            "organization_id": "x", "time_zone": "", "locale": "en US",
            "password": "short"
        })))
        .unwrap_err();
        assert_eq!(
            attributes(&errors),
            [
                "name",
                "email",
                "role",
                "organization_id",
                "time_zone",
                "locale",
                "password"
            ]
        );
    }

    #[test]
    fn names_and_emails_have_limits() {
        let long = "x".repeat(MAX_NAME_LEN + 1);
        let e = UserInput::parse(&obj(json!({"name": long}))).unwrap_err();
        assert_eq!(e.errors[0].error, ErrorKind::TooLong);
        let e = UserInput::parse(&obj(json!({"name": "a\u{0}b"}))).unwrap_err();
        assert_eq!(e.errors[0].error, ErrorKind::InvalidValue);
        let e = UserInput::parse(&obj(json!({"name": "   "}))).unwrap_err();
        assert_eq!(e.errors[0].error, ErrorKind::BlankValue);
        for bad in [
            "a@",
            "@b.c",
            "a b@c.d",
            "a@b..c",
            "a@-b.c",
            "a\r\nBcc: x@y.z",
            "a@b@c",
            ".a@b.c",
        ] {
            assert!(!is_valid_email(bad), "{bad:?} should be refused");
        }
        for good in ["a@b", "ann.smith+tag@example.co.uk", "josé@exämple.de"] {
            assert!(is_valid_email(good), "{good:?} should be accepted");
        }
    }

    #[test]
    fn creating_needs_a_name_and_an_email_and_defaults_the_rest() {
        let e = UserInput::parse(&obj(json!({})))
            .unwrap()
            .draft()
            .unwrap_err();
        assert_eq!(attributes(&e), ["name", "email"]);
        let d = UserInput::parse(&obj(json!({"name": "A", "email": "a@b.c"})))
            .unwrap()
            .draft()
            .unwrap();
        assert_eq!(
            (d.role, d.time_zone.as_str(), d.locale.as_str()),
            (Role::EndUser, "UTC", "en-US")
        );
    }

    #[test]
    fn unchanged_values_are_not_changes() {
        let me = person(1, Role::EndUser);
        let input = UserInput::parse(&obj(json!({
            "name": "p1", "email": "p1@example.com", "role": "end-user", "locale": "fr"
        })))
        .unwrap();
        assert_eq!(input.changes(&me), ["locale"]);
    }

    #[test]
    fn who_may_change_whom() {
        let admin = person(1, Role::Admin);
        let agent = person(2, Role::Agent);
        let end_user = person(3, Role::EndUser);
        let other_agent = person(4, Role::Agent);
        let forbidden = |r: Result<(), ApiError>| matches!(r, Err(ApiError::Forbidden));

        assert!(may_update_user(&admin, &agent, &["role", "password", "email"]).is_ok());
        assert!(matches!(
            may_update_user(&admin, &admin, &["role"]),
            Err(ApiError::Invalid(_))
        ));
        assert!(may_update_user(&admin, &admin, &["name", "password"]).is_ok());

        assert!(may_update_user(&agent, &end_user, &["name", "email", "organization_id"]).is_ok());
        assert!(forbidden(may_update_user(&agent, &end_user, &["role"])));
        assert!(forbidden(may_update_user(&agent, &end_user, &["password"])));
        assert!(forbidden(may_update_user(&agent, &other_agent, &["name"])));
        assert!(forbidden(may_update_user(&agent, &admin, &["name"])));
        assert!(may_update_user(&agent, &agent, &["name", "locale", "time_zone"]).is_ok());
        assert!(forbidden(may_update_user(&agent, &agent, &["email"])));

        assert!(may_update_user(&end_user, &end_user, &["name", "time_zone"]).is_ok());
        assert!(forbidden(may_update_user(&end_user, &end_user, &["role"])));
        assert!(forbidden(may_update_user(
            &end_user,
            &end_user,
            &["organization_id"]
        )));
        assert!(forbidden(may_update_user(&end_user, &agent, &[])));

        assert!(may_create_user(&admin, Role::Admin).is_ok());
        assert!(may_create_user(&agent, Role::EndUser).is_ok());
        assert!(forbidden(may_create_user(&agent, Role::Agent)));
        assert!(forbidden(may_create_user(&agent, Role::Admin)));
        assert!(forbidden(may_create_user(&end_user, Role::EndUser)));

        assert!(may_view_user(&end_user, end_user.id).is_ok());
        assert!(forbidden(may_view_user(&end_user, agent.id)));
        assert!(may_view_user(&agent, UserId(12345)).is_ok());
    }

    #[test]
    fn organizations_parse_lists_and_refuse_junk() {
        let input = OrganizationInput::parse(&obj(json!({
            "name": "Acme", "domain_names": ["Acme.com", "acme.com", "acme.io"],
            "tags": "vip gold", "details": "line\nline", "notes": null
        })))
        .unwrap();
        let new = input.into_new().unwrap();
        assert_eq!(new.domain_names, ["acme.com", "acme.io"]);
        assert_eq!(new.tags, ["vip", "gold"]);
        assert_eq!(new.notes, "");

        let e = OrganizationInput::parse(&obj(json!({
            "name": ["x"], "domain_names": ["not a domain"], "tags": [1], "details": 5
        })))
        .unwrap_err();
        assert_eq!(attributes(&e), ["name", "details", "domain_names", "tags"]);
        assert!(OrganizationInput::default().into_new().is_err());
    }

    #[test]
    fn groups_need_a_name() {
        let e = parse_new_group(&obj(json!({"description": "x"}))).unwrap_err();
        assert_eq!(attributes(&e), ["name"]);
        let e = parse_new_group(&obj(json!({"name": 5}))).unwrap_err();
        assert_eq!(attributes(&e), ["name"]);
        let g = parse_new_group(&obj(json!({"name": " Tier 2 "}))).unwrap();
        assert_eq!((g.name.as_str(), g.description.as_str()), ("Tier 2", ""));
    }

    #[test]
    fn error_messages_quote_values_briefly() {
        let e = UserInput::parse(&obj(json!({"role": "x".repeat(10_000)}))).unwrap_err();
        assert!(e.errors[0].description.len() < 200);
    }
}
