//! Fixtures: a helpdesk described in a JSON or YAML file, loaded instead of
//! the demo data so that an app's tests see the same tickets every run
//! (`zaffre dev --fixtures FILE`, `zaffre test --fixtures FILE`).
//!
//! A fixture file has up to five lists, created in this order:
//! `organizations`, `groups`, `ticket_fields`, `users` and `tickets`. Records
//! refer to each other by a local `key` (`requester: alice`), never by
//! database ids, so a file reads the same on every machine. See
//! docs/developing-apps.md for the format and `examples/fixtures/` for a
//! complete file.
//!
//! Loading happens in two phases. [`parse`] checks the whole file (unknown
//! names, duplicate and dangling keys, bad enums, custom field values against
//! their field's type, the ticket rules the domain enforces) and reports every
//! problem at once with its path (`tickets[3].requester: no user with key
//! "bob"`). Only a file with no problem reaches [`load`]'s second phase, which
//! first checks the file against what the account already holds (names and
//! emails taken) and then writes. Tickets are written the way the API writes
//! them, through [`TicketPatch::parse`], [`build_new`] and [`apply_update`],
//! so fixture data obeys the same rules as real data. Records are created in
//! file order, so the same file loaded into a fresh database gives the same
//! ids.
//!
//! Timestamps (`created_at`, `updated_at`) cannot be set: the store stamps
//! every record when it is written, and the store has no way to backdate one.
//! A fixture that names them is refused with that explanation rather than
//! silently ignored.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Display;
use std::path::Path;

use anyhow::{bail, Context as _};
use serde_json::{json, Map, Value};
use zaffre_domain::search::Page;
use zaffre_domain::ticket::{
    apply_update, build_new, normalize_custom_value, TicketPatch, MAX_COMMENT_LEN, MAX_SUBJECT_LEN,
};
use zaffre_domain::{
    tags, AccountId, FieldOption, FieldOptionId, FieldType, GroupId, NewComment, NewGroup,
    NewOrganization, NewTicketField, NewUser, OrganizationId, Role, TicketField, TicketFieldId,
    TicketId, TicketPriority, TicketStatus, TicketType, UserId,
};
use zaffre_store::{Store, StoreError, TicketWrite};

/// What [`load`] created.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FixtureSummary {
    pub organizations: usize,
    pub groups: usize,
    pub ticket_fields: usize,
    /// Users created (users whose email already existed are reused, not counted).
    pub users: usize,
    pub tickets: usize,
    /// Comments after each ticket's first one.
    pub comments: usize,
    /// Every created ticket's id, in file order. The first is a good ticket to open.
    pub ticket_ids: Vec<TicketId>,
    /// The id of each ticket that has a `key`, by key.
    pub ticket_keys: BTreeMap<String, TicketId>,
}

/// Reads, checks and writes the fixture file at `path` into `account`.
///
/// The format follows the extension: `.json`, `.yaml` or `.yml`. On any
/// problem nothing is written and the error lists every problem found. The
/// account's system ticket fields must exist ([`Store::ensure_system_fields`]).
pub async fn load(
    store: &dyn Store,
    account: AccountId,
    path: &Path,
) -> anyhow::Result<FixtureSummary> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the fixture file {}", path.display()))?;
    let format = Format::from_path(path)?;
    let fixture = parse(&text, format)
        .with_context(|| format!("the fixture file {} is not valid", path.display()))?;
    write(store, account, &fixture)
        .await
        .with_context(|| format!("could not load the fixture file {}", path.display()))
}

/// The syntax of a fixture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// The format named by a file's extension.
    pub fn from_path(path: &Path) -> anyhow::Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("json") => Ok(Format::Json),
            Some("yaml" | "yml") => Ok(Format::Yaml),
            _ => bail!(
                "the fixture file {} must end in .json, .yaml or .yml",
                path.display()
            ),
        }
    }
}

/// A fixture file that passed every check that does not need the database.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    organizations: Vec<OrgSpec>,
    groups: Vec<GroupSpec>,
    fields: Vec<FieldSpec>,
    users: Vec<UserSpec>,
    tickets: Vec<TicketSpec>,
}

impl Fixture {
    /// How many tickets the file describes.
    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }
}

#[derive(Debug, Clone, PartialEq)]
struct OrgSpec {
    key: String,
    new: NewOrganization,
}

#[derive(Debug, Clone, PartialEq)]
struct GroupSpec {
    key: String,
    new: NewGroup,
}

#[derive(Debug, Clone, PartialEq)]
struct FieldSpec {
    key: String,
    new: NewTicketField,
}

#[derive(Debug, Clone, PartialEq)]
struct UserSpec {
    key: String,
    name: String,
    email: String,
    role: Role,
    /// Index into `organizations`.
    organization: Option<usize>,
    time_zone: String,
    locale: String,
}

#[derive(Debug, Clone, PartialEq)]
struct CommentSpec {
    /// Index into `users`.
    author: usize,
    body: String,
    html_body: Option<String>,
    public: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct TicketSpec {
    key: Option<String>,
    subject: String,
    description: String,
    description_html: Option<String>,
    /// `None` lets the domain choose: new, or open when assigned.
    status: Option<TicketStatus>,
    priority: Option<TicketPriority>,
    ticket_type: Option<TicketType>,
    /// Indexes into `users`.
    requester: usize,
    submitter: usize,
    assignee: Option<usize>,
    /// Index into `groups`.
    group: Option<usize>,
    /// Index into `organizations`; defaults to the requester's.
    organization: Option<usize>,
    tags: Vec<String>,
    /// (index into `fields`, value as written in the file).
    custom_fields: Vec<(usize, Value)>,
    comments: Vec<CommentSpec>,
}

/// The five lists a fixture file may have.
const SECTIONS: &[&str] = &[
    "organizations",
    "groups",
    "ticket_fields",
    "users",
    "tickets",
];

/// Every problem found, one per line, each starting with its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureErrors(pub Vec<String>);

impl Display for FixtureErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} (nothing was loaded):",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FixtureErrors {}

/// Parses and checks a fixture file's text. Every problem is reported in one
/// [`FixtureErrors`].
pub fn parse(text: &str, format: Format) -> anyhow::Result<Fixture> {
    let root: Value = match format {
        Format::Json => serde_json::from_str(text).context("it is not valid JSON")?,
        Format::Yaml => serde_norway::from_str(text).context("it is not valid YAML")?,
    };
    let mut c = Checker::default();
    let fixture = check(&root, &mut c);
    if c.problems.is_empty() {
        Ok(fixture)
    } else {
        Err(FixtureErrors(c.problems).into())
    }
}

// ---------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------

/// Collects problems while walking the file.
#[derive(Default)]
struct Checker {
    problems: Vec<String>,
}

impl Checker {
    fn err(&mut self, path: &str, message: impl Display) {
        self.problems.push(format!("{path}: {message}"));
    }

    /// `value` as an object whose names are all in `allowed`; unknown names are reported.
    fn object<'a>(
        &mut self,
        value: &'a Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'a Map<String, Value>> {
        let Some(obj) = value.as_object() else {
            self.err(path, format!("must be an object, not {}", kind(value)));
            return None;
        };
        for name in obj.keys() {
            if name == "created_at" || name == "updated_at" {
                self.err(
                    &format!("{path}.{name}"),
                    "timestamps cannot be set: the store stamps every record when it is written",
                );
            } else if !allowed.contains(&name.as_str()) {
                self.err(
                    &format!("{path}.{name}"),
                    format!("unknown name (expected one of: {})", allowed.join(", ")),
                );
            }
        }
        Some(obj)
    }

    /// The list `name` of `obj`, empty when absent.
    fn list<'a>(&mut self, obj: &'a Map<String, Value>, path: &str, name: &str) -> &'a [Value] {
        match obj.get(name) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.err(
                    &join(path, name),
                    format!("must be a list, not {}", kind(other)),
                );
                &[]
            }
        }
    }

    /// A text value; `None` when absent (reported when `required`) or not text.
    fn text(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        name: &str,
        required: bool,
    ) -> Option<String> {
        match obj.get(name) {
            None | Some(Value::Null) => {
                if required {
                    self.err(&join(path, name), "is required");
                }
                None
            }
            Some(Value::String(s)) if required && s.trim().is_empty() => {
                self.err(&join(path, name), "cannot be blank");
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.err(
                    &join(path, name),
                    format!("must be text, not {}", kind(other)),
                );
                None
            }
        }
    }

    fn boolean(&mut self, obj: &Map<String, Value>, path: &str, name: &str) -> Option<bool> {
        match obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.err(
                    &join(path, name),
                    format!("must be true or false, not {}", kind(other)),
                );
                None
            }
        }
    }

    /// A list of strings (a single string counts as a list of one).
    fn strings(&mut self, obj: &Map<String, Value>, path: &str, name: &str) -> Vec<String> {
        match obj.get(name) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => out.push(s.to_owned()),
                        None => self.err(
                            &format!("{}[{i}]", join(path, name)),
                            format!("must be text, not {}", kind(item)),
                        ),
                    }
                }
                out
            }
            Some(other) => {
                self.err(
                    &join(path, name),
                    format!("must be a list of text, not {}", kind(other)),
                );
                Vec::new()
            }
        }
    }

    /// Normalized tags, reporting a bad one.
    fn tags(&mut self, obj: &Map<String, Value>, path: &str, name: &str) -> Vec<String> {
        let raw = self.strings(obj, path, name);
        match tags::normalize(raw.iter().map(String::as_str)) {
            Ok(tags) => tags,
            Err(bad) => {
                self.err(
                    &join(path, name),
                    format!(
                        "{bad:?} is not a valid tag (at most {} characters, no control characters)",
                        tags::MAX_TAG_LEN
                    ),
                );
                Vec::new()
            }
        }
    }

    /// A record's `key`: required, non-blank, unique within its list.
    fn key(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        seen: &mut HashMap<String, usize>,
        index: usize,
        what: &str,
        required: bool,
    ) -> Option<String> {
        let key = self.text(obj, path, "key", required)?;
        if let Some(first) = seen.get(&key) {
            self.err(
                &join(path, "key"),
                format!("the {what} key {key:?} is already used by {what}s[{first}]"),
            );
        } else {
            seen.insert(key.clone(), index);
        }
        Some(key)
    }

    /// Resolves a reference by key: `None` when absent; reports a dangling one.
    fn reference(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        name: &str,
        keys: &HashMap<String, usize>,
        what: &str,
    ) -> Option<usize> {
        let key = self.text(obj, path, name, false)?;
        match keys.get(&key) {
            Some(i) => Some(*i),
            None => {
                self.err(&join(path, name), format!("no {what} with key {key:?}"));
                None
            }
        }
    }

    /// Parses an enum spelled as Zendesk does, listing the accepted values on error.
    fn enumeration<T: Copy>(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        name: &str,
        parse: fn(&str) -> Option<T>,
        all: &[T],
        spell: fn(T) -> &'static str,
    ) -> Option<T> {
        let text = self.text(obj, path, name, false)?;
        match parse(&text) {
            Some(v) => Some(v),
            None => {
                let accepted: Vec<&str> = all.iter().map(|v| spell(*v)).collect();
                self.err(
                    &join(path, name),
                    format!("{text:?} is not one of: {}", accepted.join(", ")),
                );
                None
            }
        }
    }
}

fn join(path: &str, name: &str) -> String {
    format!("{path}.{name}")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Walks the whole file. The result is meaningful only when no problem was recorded.
fn check(root: &Value, c: &mut Checker) -> Fixture {
    let mut fixture = Fixture {
        organizations: Vec::new(),
        groups: Vec::new(),
        fields: Vec::new(),
        users: Vec::new(),
        tickets: Vec::new(),
    };
    let Some(root) = root.as_object() else {
        c.err(
            "(file)",
            format!(
                "must be an object with the lists {}, not {}",
                SECTIONS.join(", "),
                kind(root)
            ),
        );
        return fixture;
    };
    for name in root.keys() {
        if !SECTIONS.contains(&name.as_str()) {
            c.err(
                name,
                format!("unknown section (expected one of: {})", SECTIONS.join(", ")),
            );
        }
    }
    let list = |c: &mut Checker, name: &str| -> Vec<Value> {
        match root.get(name) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(other) => {
                c.err(name, format!("must be a list, not {}", kind(other)));
                Vec::new()
            }
        }
    };

    // Organizations.
    let mut org_keys = HashMap::new();
    let mut org_names: HashMap<String, usize> = HashMap::new();
    for (i, v) in list(c, "organizations").iter().enumerate() {
        let path = format!("organizations[{i}]");
        let Some(obj) = c.object(
            v,
            &path,
            &["key", "name", "details", "notes", "domain_names", "tags"],
        ) else {
            continue;
        };
        let key = c.key(obj, &path, &mut org_keys, i, "organization", true);
        let name = c.text(obj, &path, "name", true);
        if let Some(name) = &name {
            if let Some(first) = org_names.insert(name.to_lowercase(), i) {
                c.err(
                    &join(&path, "name"),
                    format!("organizations[{first}] has the same name"),
                );
            }
        }
        let new = NewOrganization {
            name: name.unwrap_or_default().trim().to_owned(),
            details: c.text(obj, &path, "details", false).unwrap_or_default(),
            notes: c.text(obj, &path, "notes", false).unwrap_or_default(),
            domain_names: c.strings(obj, &path, "domain_names"),
            tags: c.tags(obj, &path, "tags"),
        };
        fixture.organizations.push(OrgSpec {
            key: key.unwrap_or_default(),
            new,
        });
    }

    // Groups.
    let mut group_keys = HashMap::new();
    let mut group_names: HashMap<String, usize> = HashMap::new();
    for (i, v) in list(c, "groups").iter().enumerate() {
        let path = format!("groups[{i}]");
        let Some(obj) = c.object(v, &path, &["key", "name", "description"]) else {
            continue;
        };
        let key = c.key(obj, &path, &mut group_keys, i, "group", true);
        let name = c.text(obj, &path, "name", true);
        if let Some(name) = &name {
            if let Some(first) = group_names.insert(name.to_lowercase(), i) {
                c.err(
                    &join(&path, "name"),
                    format!("groups[{first}] has the same name"),
                );
            }
        }
        fixture.groups.push(GroupSpec {
            key: key.unwrap_or_default(),
            new: NewGroup {
                name: name.unwrap_or_default().trim().to_owned(),
                description: c.text(obj, &path, "description", false).unwrap_or_default(),
            },
        });
    }

    // Custom ticket fields.
    let custom_types: Vec<FieldType> = FieldType::ALL
        .iter()
        .copied()
        .filter(|t| !t.is_system())
        .collect();
    let mut field_keys = HashMap::new();
    for (i, v) in list(c, "ticket_fields").iter().enumerate() {
        let path = format!("ticket_fields[{i}]");
        let Some(obj) = c.object(
            v,
            &path,
            &[
                "key",
                "type",
                "title",
                "description",
                "required",
                "active",
                "options",
            ],
        ) else {
            continue;
        };
        let key = c.key(obj, &path, &mut field_keys, i, "ticket_field", true);
        let field_type = match obj.get("type") {
            None | Some(Value::Null) => {
                c.err(&join(&path, "type"), "is required");
                None
            }
            _ => c.enumeration(
                obj,
                &path,
                "type",
                |s| FieldType::parse(s).filter(|t| !t.is_system()),
                &custom_types,
                FieldType::as_str,
            ),
        };
        let title = c.text(obj, &path, "title", true);
        let mut options = Vec::new();
        let raw_options = c.list(obj, &path, "options");
        if field_type.is_some_and(|t| t != FieldType::Tagger) && !raw_options.is_empty() {
            c.err(
                &join(&path, "options"),
                "only tagger (dropdown) fields have options",
            );
        }
        if field_type == Some(FieldType::Tagger) && raw_options.is_empty() {
            c.err(
                &join(&path, "options"),
                "a tagger (dropdown) field needs options",
            );
        }
        let mut values = HashSet::new();
        for (j, o) in raw_options.iter().enumerate() {
            let opath = format!("{path}.options[{j}]");
            let Some(oobj) = c.object(o, &opath, &["name", "value"]) else {
                continue;
            };
            let name = c.text(oobj, &opath, "name", true);
            let value = c.text(oobj, &opath, "value", true);
            if let Some(value) = &value {
                if value.chars().any(char::is_whitespace) {
                    c.err(
                        &join(&opath, "value"),
                        format!("{value:?} must be a tag: no spaces"),
                    );
                } else if !values.insert(value.clone()) {
                    c.err(
                        &join(&opath, "value"),
                        format!("{value:?} is already the value of another option"),
                    );
                }
            }
            if let (Some(name), Some(value)) = (name, value) {
                options.push((name, value));
            }
        }
        fixture.fields.push(FieldSpec {
            key: key.unwrap_or_default(),
            new: NewTicketField {
                field_type: field_type.unwrap_or(FieldType::Text),
                title: title.unwrap_or_default().trim().to_owned(),
                description: c.text(obj, &path, "description", false).unwrap_or_default(),
                active: c.boolean(obj, &path, "active").unwrap_or(true),
                required: c.boolean(obj, &path, "required").unwrap_or(false),
                // Assigned after the account's existing fields when loading.
                position: i as i64,
                options,
            },
        });
    }

    // Users.
    let mut user_keys = HashMap::new();
    let mut emails: HashMap<String, usize> = HashMap::new();
    for (i, v) in list(c, "users").iter().enumerate() {
        let path = format!("users[{i}]");
        let Some(obj) = c.object(
            v,
            &path,
            &[
                "key",
                "name",
                "email",
                "role",
                "organization",
                "time_zone",
                "locale",
            ],
        ) else {
            continue;
        };
        let key = c.key(obj, &path, &mut user_keys, i, "user", true);
        let name = c.text(obj, &path, "name", true);
        let email = c
            .text(obj, &path, "email", true)
            .map(|e| e.trim().to_lowercase());
        if let Some(email) = &email {
            let at = email.find('@');
            if !matches!(at, Some(n) if n > 0 && n + 1 < email.len()) || email.contains(' ') {
                c.err(
                    &join(&path, "email"),
                    format!("{email:?} is not an email address"),
                );
            } else if let Some(first) = emails.insert(email.clone(), i) {
                c.err(
                    &join(&path, "email"),
                    format!("users[{first}] has the same email"),
                );
            }
        }
        let role = match obj.get("role") {
            None | Some(Value::Null) => Some(Role::EndUser),
            _ => c.enumeration(obj, &path, "role", Role::parse, Role::ALL, Role::as_str),
        };
        let organization = c.reference(obj, &path, "organization", &org_keys, "organization");
        fixture.users.push(UserSpec {
            key: key.unwrap_or_default(),
            name: name.unwrap_or_default().trim().to_owned(),
            email: email.unwrap_or_default(),
            role: role.unwrap_or(Role::EndUser),
            organization,
            time_zone: c
                .text(obj, &path, "time_zone", false)
                .unwrap_or_else(|| "UTC".into()),
            locale: c
                .text(obj, &path, "locale", false)
                .unwrap_or_else(|| "en-US".into()),
        });
    }

    // Tickets.
    let mut ticket_keys = HashMap::new();
    for (i, v) in list(c, "tickets").iter().enumerate() {
        let path = format!("tickets[{i}]");
        if let Some(t) = check_ticket(
            c,
            v,
            &path,
            i,
            &mut ticket_keys,
            &fixture,
            [&user_keys, &group_keys, &org_keys, &field_keys],
        ) {
            fixture.tickets.push(t);
        }
    }
    fixture
}

/// Checks one ticket; `None` when it is too broken to describe.
fn check_ticket(
    c: &mut Checker,
    v: &Value,
    path: &str,
    index: usize,
    ticket_keys: &mut HashMap<String, usize>,
    fixture: &Fixture,
    [user_keys, group_keys, org_keys, field_keys]: [&HashMap<String, usize>; 4],
) -> Option<TicketSpec> {
    let obj = c.object(
        v,
        path,
        &[
            "key",
            "subject",
            "description",
            "description_html",
            "status",
            "priority",
            "type",
            "requester",
            "submitter",
            "assignee",
            "group",
            "organization",
            "tags",
            "custom_fields",
            "comments",
        ],
    )?;
    let key = c.key(obj, path, ticket_keys, index, "ticket", false);
    let subject = c.text(obj, path, "subject", true).unwrap_or_default();
    if subject.chars().count() > MAX_SUBJECT_LEN {
        c.err(
            &join(path, "subject"),
            format!("is too long (at most {MAX_SUBJECT_LEN} characters)"),
        );
    }
    let description = c.text(obj, path, "description", true).unwrap_or_default();
    if description.len() > MAX_COMMENT_LEN {
        c.err(
            &join(path, "description"),
            format!("is too long (at most {MAX_COMMENT_LEN} bytes)"),
        );
    }
    let description_html = c.text(obj, path, "description_html", false);
    let status = c.enumeration(
        obj,
        path,
        "status",
        TicketStatus::parse,
        TicketStatus::ALL,
        TicketStatus::as_str,
    );
    let priority = c.enumeration(
        obj,
        path,
        "priority",
        TicketPriority::parse,
        TicketPriority::ALL,
        TicketPriority::as_str,
    );
    let ticket_type = c.enumeration(
        obj,
        path,
        "type",
        TicketType::parse,
        TicketType::ALL,
        TicketType::as_str,
    );
    let requester = c.reference(obj, path, "requester", user_keys, "user");
    if requester.is_none() && !obj.contains_key("requester") {
        c.err(&join(path, "requester"), "is required");
    }
    let submitter = c.reference(obj, path, "submitter", user_keys, "user");
    let assignee = c.reference(obj, path, "assignee", user_keys, "user");
    if let Some(a) = assignee {
        let user = &fixture.users[a];
        if !user.role.is_staff() {
            c.err(
                &join(path, "assignee"),
                format!(
                    "{:?} is an end-user; only agents and admins can be assignees",
                    user.key
                ),
            );
        }
    }
    let group = c.reference(obj, path, "group", group_keys, "group");
    let organization = c.reference(obj, path, "organization", org_keys, "organization");
    let tags = c.tags(obj, path, "tags");

    // Custom field values, by field key, checked against the field's type.
    let mut custom_fields = Vec::new();
    match obj.get("custom_fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(values)) => {
            for (fkey, raw) in values {
                let fpath = format!("{path}.custom_fields.{fkey}");
                let Some(&fi) = field_keys.get(fkey) else {
                    c.err(&fpath, format!("no ticket field with key {fkey:?}"));
                    continue;
                };
                let probe = probe_field(&fixture.fields[fi].new);
                match normalize_custom_value(&probe, raw) {
                    Ok(_) => custom_fields.push((fi, raw.clone())),
                    Err(why) => c.err(&fpath, why),
                }
            }
        }
        Some(other) => c.err(
            &join(path, "custom_fields"),
            format!(
                "must be an object of field key to value, not {}",
                kind(other)
            ),
        ),
    }
    if let Some(status @ (TicketStatus::Solved | TicketStatus::Closed)) = status {
        for (fi, field) in fixture.fields.iter().enumerate() {
            let set = custom_fields
                .iter()
                .any(|(i, v)| *i == fi && !v.is_null() && v.as_str() != Some(""));
            if field.new.required && field.new.active && !set {
                c.err(
                    &join(path, "custom_fields"),
                    format!(
                        "the required field {:?} needs a value to be {status}",
                        field.key
                    ),
                );
            }
        }
    }

    // Comments after the first, in order.
    let mut comments = Vec::new();
    for (j, cv) in c.list(obj, path, "comments").iter().enumerate() {
        let cpath = format!("{path}.comments[{j}]");
        let Some(cobj) = c.object(cv, &cpath, &["author", "body", "html_body", "public"]) else {
            continue;
        };
        let author = c.reference(cobj, &cpath, "author", user_keys, "user");
        if author.is_none() && !cobj.contains_key("author") {
            c.err(&join(&cpath, "author"), "is required");
        }
        let body = c.text(cobj, &cpath, "body", true).unwrap_or_default();
        if body.len() > MAX_COMMENT_LEN {
            c.err(
                &join(&cpath, "body"),
                format!("is too long (at most {MAX_COMMENT_LEN} bytes)"),
            );
        }
        let html_body = c.text(cobj, &cpath, "html_body", false);
        let public = c.boolean(cobj, &cpath, "public").unwrap_or(true);
        if let Some(a) = author {
            if !public && !fixture.users[a].role.is_staff() {
                c.err(
                    &join(&cpath, "public"),
                    format!(
                        "{:?} is an end-user; only agents and admins write internal notes",
                        fixture.users[a].key
                    ),
                );
            }
            comments.push(CommentSpec {
                author: a,
                body,
                html_body,
                public,
            });
        }
    }

    let requester = requester?;
    Some(TicketSpec {
        key,
        subject: subject.trim().to_owned(),
        description,
        description_html,
        status,
        priority,
        ticket_type,
        requester,
        submitter: submitter.unwrap_or(requester),
        assignee,
        group,
        organization,
        tags,
        custom_fields,
        comments,
    })
}

/// A stand-in for a field that does not exist yet, to check values against
/// its type and options with the domain's own rule.
fn probe_field(new: &NewTicketField) -> TicketField {
    let now = chrono::Utc::now();
    TicketField {
        id: TicketFieldId(0),
        account_id: AccountId(0),
        field_type: new.field_type,
        title: new.title.clone(),
        description: new.description.clone(),
        active: new.active,
        required: new.required,
        position: new.position,
        options: new
            .options
            .iter()
            .map(|(name, value)| FieldOption {
                id: FieldOptionId(0),
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        created_at: now,
        updated_at: now,
    }
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// Checks `fixture` against what the account holds, then writes it.
///
/// Users whose email already exists are reused (so a fixture can name the
/// signed-in admin as an assignee) when their role matches; organizations,
/// groups and fields whose name is taken are refused, since reusing them
/// would mix the fixture with data it does not describe.
pub async fn write(
    store: &dyn Store,
    account: AccountId,
    fixture: &Fixture,
) -> anyhow::Result<FixtureSummary> {
    let (existing_users, mut problems) = existing_users(store, account, fixture).await?;
    conflicts(store, account, fixture, &mut problems).await?;
    if !problems.is_empty() {
        return Err(FixtureErrors(problems).into());
    }

    let mut summary = FixtureSummary::default();
    let mut org_ids: Vec<OrganizationId> = Vec::with_capacity(fixture.organizations.len());
    for (i, org) in fixture.organizations.iter().enumerate() {
        let created = store
            .create_organization(account, &org.new)
            .await
            .with_context(|| format!("organizations[{i}]: could not create it"))?;
        org_ids.push(created.id);
    }
    summary.organizations = org_ids.len();

    let mut group_ids: Vec<GroupId> = Vec::with_capacity(fixture.groups.len());
    for (i, group) in fixture.groups.iter().enumerate() {
        let created = store
            .create_group(account, &group.new)
            .await
            .with_context(|| format!("groups[{i}]: could not create it"))?;
        group_ids.push(created.id);
    }
    summary.groups = group_ids.len();

    let before = store
        .list_ticket_fields(account)
        .await
        .context("could not list the ticket fields")?;
    // After the account's fields, in file order.
    let last = before.iter().map(|f| f.position).max().unwrap_or(0);
    let mut field_ids: Vec<TicketFieldId> = Vec::with_capacity(fixture.fields.len());
    for (i, field) in fixture.fields.iter().enumerate() {
        let new = NewTicketField {
            position: last + 1 + i as i64,
            ..field.new.clone()
        };
        let created = store
            .create_ticket_field(account, &new)
            .await
            .with_context(|| format!("ticket_fields[{i}]: could not create it"))?;
        field_ids.push(created.id);
    }
    summary.ticket_fields = field_ids.len();
    // Read them back: option ids come from the store.
    let fields = store
        .list_ticket_fields(account)
        .await
        .context("could not list the ticket fields")?;

    let mut user_ids: Vec<UserId> = Vec::with_capacity(fixture.users.len());
    for (i, user) in fixture.users.iter().enumerate() {
        if let Some(id) = existing_users.get(&i) {
            user_ids.push(*id);
            continue;
        }
        let new = NewUser {
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role,
            organization_id: user.organization.map(|o| org_ids[o]),
            time_zone: user.time_zone.clone(),
            locale: user.locale.clone(),
            password_hash: None,
        };
        let created = store
            .create_user(account, &new)
            .await
            .with_context(|| format!("users[{i}]: could not create it"))?;
        user_ids.push(created.id);
        summary.users += 1;
    }

    let ids = Ids {
        orgs: &org_ids,
        groups: &group_ids,
        fields: &field_ids,
        users: &user_ids,
    };
    for (i, spec) in fixture.tickets.iter().enumerate() {
        let id = write_ticket(store, account, fixture, spec, &ids, &fields)
            .await
            .with_context(|| format!("tickets[{i}]: could not create it"))?;
        summary.tickets += 1;
        summary.comments += spec.comments.len();
        summary.ticket_ids.push(id);
        if let Some(key) = &spec.key {
            summary.ticket_keys.insert(key.clone(), id);
        }
    }
    Ok(summary)
}

/// Fixture users (by index) whose email already exists in the account, with
/// their ids, and the problems with them (a role that differs).
async fn existing_users(
    store: &dyn Store,
    account: AccountId,
    fixture: &Fixture,
) -> anyhow::Result<(HashMap<usize, UserId>, Vec<String>)> {
    let mut found = HashMap::new();
    let mut problems = Vec::new();
    for (i, user) in fixture.users.iter().enumerate() {
        match store.get_user_by_email(account, &user.email).await {
            Ok(existing) if existing.role == user.role => {
                found.insert(i, existing.id);
            }
            Ok(existing) => problems.push(format!(
                "users[{i}].role: {} already exists as {}, not {}",
                user.email, existing.role, user.role
            )),
            Err(StoreError::NotFound) => {}
            Err(e) => {
                return Err(e).with_context(|| format!("could not look up the user {}", user.email))
            }
        }
    }
    Ok((found, problems))
}

/// Adds to `problems` the names the account already uses, so every clash is
/// reported before anything is written.
async fn conflicts(
    store: &dyn Store,
    account: AccountId,
    fixture: &Fixture,
    problems: &mut Vec<String>,
) -> anyhow::Result<()> {
    for (i, org) in fixture.organizations.iter().enumerate() {
        let listing = store
            .list_organizations(
                account,
                &[org.new.name.to_lowercase()],
                Page::Offset {
                    offset: 0,
                    limit: 100,
                },
            )
            .await
            .context("could not list the organizations")?;
        if listing
            .items
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&org.new.name))
        {
            problems.push(format!(
                "organizations[{i}].name: an organization named {:?} already exists in the account",
                org.new.name
            ));
        }
    }
    let groups = store
        .list_groups(account)
        .await
        .context("could not list the groups")?;
    for (i, group) in fixture.groups.iter().enumerate() {
        if groups
            .iter()
            .any(|g| g.name.eq_ignore_ascii_case(&group.new.name))
        {
            problems.push(format!(
                "groups[{i}].name: a group named {:?} already exists in the account",
                group.new.name
            ));
        }
    }
    let fields = store
        .list_ticket_fields(account)
        .await
        .context("could not list the ticket fields")?;
    for (i, field) in fixture.fields.iter().enumerate() {
        if fields
            .iter()
            .any(|f| f.title.eq_ignore_ascii_case(&field.new.title))
        {
            problems.push(format!(
                "ticket_fields[{i}].title: a field titled {:?} already exists in the account",
                field.new.title
            ));
        }
    }
    // Required fields the account already has must be filled on solved tickets too.
    for (i, ticket) in fixture.tickets.iter().enumerate() {
        let Some(status @ (TicketStatus::Solved | TicketStatus::Closed)) = ticket.status else {
            continue;
        };
        for f in fields
            .iter()
            .filter(|f| f.required && f.active && !f.field_type.is_system())
        {
            problems.push(format!(
                "tickets[{i}].status: the account's required field {:?} has no value in fixtures, so the ticket cannot be {status}",
                f.title
            ));
        }
    }
    Ok(())
}

/// Database ids of the fixture's records, by index in their list.
struct Ids<'a> {
    orgs: &'a [OrganizationId],
    groups: &'a [GroupId],
    fields: &'a [TicketFieldId],
    users: &'a [UserId],
}

/// Creates one ticket, adds its comments and closes it if asked, each step
/// through the domain rules as the API would apply it.
async fn write_ticket(
    store: &dyn Store,
    account: AccountId,
    fixture: &Fixture,
    spec: &TicketSpec,
    ids: &Ids<'_>,
    fields: &[TicketField],
) -> anyhow::Result<TicketId> {
    // Closed tickets cannot be created or changed: create solved, close last.
    let created_status = match spec.status {
        Some(TicketStatus::Closed) => Some(TicketStatus::Solved),
        s => s,
    };
    let requester = ids.users[spec.requester];
    let submitter = ids.users[spec.submitter];
    let organization = spec
        .organization
        .or(fixture.users[spec.requester].organization)
        .map(|o| ids.orgs[o]);

    let mut obj = Map::new();
    obj.insert("subject".into(), json!(spec.subject));
    obj.insert("requester_id".into(), json!(requester.get()));
    if let Some(status) = created_status {
        obj.insert("status".into(), json!(status.as_str()));
    }
    if let Some(org) = organization {
        obj.insert("organization_id".into(), json!(org.get()));
    }
    if let Some(p) = spec.priority {
        obj.insert("priority".into(), json!(p.as_str()));
    }
    if let Some(t) = spec.ticket_type {
        obj.insert("type".into(), json!(t.as_str()));
    }
    if let Some(a) = spec.assignee {
        obj.insert("assignee_id".into(), json!(ids.users[a].get()));
    }
    if let Some(g) = spec.group {
        obj.insert("group_id".into(), json!(ids.groups[g].get()));
    }
    if !spec.tags.is_empty() {
        obj.insert("tags".into(), json!(spec.tags));
    }
    if !spec.custom_fields.is_empty() {
        let values: Vec<Value> = spec
            .custom_fields
            .iter()
            .map(|(f, v)| json!({ "id": ids.fields[*f].get(), "value": v }))
            .collect();
        obj.insert("custom_fields".into(), Value::Array(values));
    }
    let mut comment = Map::new();
    comment.insert("body".into(), json!(spec.description));
    comment.insert("public".into(), json!(true));
    if let Some(html) = &spec.description_html {
        comment.insert("html_body".into(), json!(html));
    }
    obj.insert("comment".into(), Value::Object(comment));

    let patch = TicketPatch::parse(&obj, fields).context("the ticket is not valid")?;
    let (new, events) = build_new(&patch, submitter, fields).context("the ticket is not valid")?;
    let first = new_comment(&patch, submitter).context("the ticket has no description")?;
    let mut ticket = store
        .create_ticket(account, &new, &first, &events)
        .await
        .context("could not store the ticket")?;

    let mut updates: Vec<(UserId, Map<String, Value>)> = Vec::new();
    for c in &spec.comments {
        let mut comment = Map::new();
        comment.insert("body".into(), json!(c.body));
        comment.insert("public".into(), json!(c.public));
        if let Some(html) = &c.html_body {
            comment.insert("html_body".into(), json!(html));
        }
        let mut obj = Map::new();
        // Keep the status: an update without one would open an assigned new ticket.
        obj.insert("status".into(), json!(ticket.status.as_str()));
        obj.insert("comment".into(), Value::Object(comment));
        updates.push((ids.users[c.author], obj));
    }
    if spec.status == Some(TicketStatus::Closed) {
        let closer = spec.assignee.map_or(submitter, |a| ids.users[a]);
        let mut obj = Map::new();
        obj.insert("status".into(), json!("closed"));
        updates.push((closer, obj));
    }
    for (n, (author_id, obj)) in updates.iter().enumerate() {
        let patch =
            TicketPatch::parse(obj, fields).with_context(|| format!("update {n} is not valid"))?;
        let applied = apply_update(&ticket, &patch, fields)
            .with_context(|| format!("update {n} is not accepted"))?;
        let comment = new_comment(&patch, *author_id);
        ticket = store
            .update_ticket(
                account,
                TicketWrite {
                    ticket: &applied.ticket,
                    author_id: *author_id,
                    events: &applied.events,
                    comment: comment.as_ref(),
                },
            )
            .await
            .with_context(|| format!("could not store update {n}"))?;
    }
    Ok(ticket.id)
}

/// The comment a parsed write adds; plain text gets its HTML rendering, as the API stores it.
fn new_comment(patch: &TicketPatch, author_id: UserId) -> Option<NewComment> {
    patch.comment.as_ref().map(|c| NewComment {
        author_id,
        public: c.public,
        body: c.body.clone(),
        html_body: c
            .html_body
            .clone()
            .unwrap_or_else(|| crate::demo::text_to_html(&c.body)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str, format: Format) -> Vec<String> {
        let err = parse(text, format).unwrap_err();
        err.downcast::<FixtureErrors>().unwrap().0
    }

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(
            Format::from_path(Path::new("a.JSON")).unwrap(),
            Format::Json
        );
        assert_eq!(Format::from_path(Path::new("a.yml")).unwrap(), Format::Yaml);
        assert_eq!(
            Format::from_path(Path::new("a.yaml")).unwrap(),
            Format::Yaml
        );
        let err = Format::from_path(Path::new("a.toml")).unwrap_err();
        assert!(err.to_string().contains(".json, .yaml or .yml"), "{err}");
    }

    #[test]
    fn an_empty_file_is_an_empty_fixture() {
        let f = parse("{}", Format::Json).unwrap();
        assert_eq!(f.ticket_count(), 0);
    }

    #[test]
    fn a_root_that_is_not_an_object_is_refused() {
        let p = problems("[1]", Format::Json);
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("(file): must be an object"), "{p:?}");
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let p = problems(
            r#"
users:
  - {key: a, name: A, email: a@x.example, role: pilot}
  - {key: a, name: B, email: nope}
tickets:
  - {subject: S, description: D, requester: a, assignee: a, status: later, colour: red}
"#,
            Format::Yaml,
        );
        let want = [
            "users[0].role: \"pilot\" is not one of: end-user, agent, admin",
            "users[1].key: the user key \"a\" is already used by users[0]",
            "users[1].email: \"nope\" is not an email address",
            "tickets[0].colour: unknown name",
            "tickets[0].status: \"later\" is not one of: new, open, pending, hold, solved, closed",
        ];
        for w in want {
            assert!(
                p.iter().any(|x| x.starts_with(w)),
                "missing {w:?} in {p:#?}"
            );
        }
    }
}
