//! The SQL implementation of [`Store`], shared by SQLite and PostgreSQL.
//!
//! The queries are written once, in the dialect both engines accept: `$N`
//! placeholders (sqlx's SQLite driver understands them), `RETURNING`,
//! `ON CONFLICT DO NOTHING`, and JSON kept as TEXT that serde reads and
//! writes. `impl_store!` stamps the implementation out for each engine's sqlx
//! types; the engine-specific inputs are few and named in its arguments: the
//! migrations, the collation used to sort text, how a write transaction
//! begins, and how text is matched case-insensitively.
//!
//! Every query that touches tenant data filters on `account_id`, so a row of
//! another account is indistinguishable from a missing one (`NotFound`).
//!
//! Case-insensitive text matching is the one place where the SQL differs by
//! more than a word: SQLite's `LOWER` and `LIKE` fold ASCII letters only, so
//! there the pattern spells out each letter's cases for `GLOB` instead (see
//! [`push_glob_match`]), and a search for `école` finds `École` on both engines.
//!
//! Each store holds a read pool and a write pool. On PostgreSQL they are the
//! same pool; on SQLite the write pool has a single connection so writers
//! queue in the pool instead of contending for the database lock (see
//! `connect.rs`). A method must therefore never acquire a second write
//! connection while it holds one: it would wait for itself.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zaffre_domain::search::{NamedRef, Page, TicketFilter, TicketSort, UserFilter, UserRef};
use zaffre_domain::ticket::NewTicket;
use zaffre_domain::*;

use crate::{Engine, Listing, PasswordLogin, Store, StoreError, StoreResult, TicketWrite};

/// Embedded migrations, one directory per engine.
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The current time at the precision both engines store (microseconds), so a
/// value read back compares equal to the one written.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Escapes `%`, `_` and the escape character itself so user text matches
/// literally inside a `LIKE … ESCAPE '\'` pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Where user text must match within a column, for [`push_like_match`] and
/// [`push_glob_match`].
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Anywhere in the column.
    Contains,
    /// The whole column.
    Exact,
    /// At the start of the column.
    Prefix,
    /// At the start of a word other than the first (after a space).
    WordPrefix,
}

impl Shape {
    /// Surrounds a pattern body with the engine's "anything" wildcard.
    fn wrap(self, body: &str, any: char) -> String {
        match self {
            Shape::Contains => format!("{any}{body}{any}"),
            Shape::Exact => body.to_owned(),
            Shape::Prefix => format!("{body}{any}"),
            Shape::WordPrefix => format!("{any} {body}{any}"),
        }
    }
}

/// Appends a case-insensitive match of `column` against `text` as
/// `LOWER(column) LIKE pattern ESCAPE '\'`. Used on PostgreSQL, whose `LOWER`
/// folds every letter.
fn push_like_match<'a, DB>(
    qb: &mut sqlx::QueryBuilder<'a, DB>,
    column: &str,
    text: &str,
    shape: Shape,
) where
    DB: sqlx::Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let body = like_escape(&text.to_lowercase());
    qb.push(format!("LOWER({column}) LIKE "))
        .push_bind(shape.wrap(&body, '%'))
        .push(" ESCAPE '\\'");
}

/// Appends a case-insensitive match of `column` against `text` as
/// `column GLOB pattern`, each letter of the pattern a class of its cases
/// (`école` becomes `*[éÉ][cC][oO][lL][eE]*`). Used on SQLite, whose `LOWER`
/// and `LIKE` fold ASCII letters only: this way both engines find `École`.
fn push_glob_match<'a, DB>(
    qb: &mut sqlx::QueryBuilder<'a, DB>,
    column: &str,
    text: &str,
    shape: Shape,
) where
    DB: sqlx::Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push(format!("{column} GLOB "))
        .push_bind(shape.wrap(&glob_body(text), '*'));
}

/// A GLOB pattern matching `text` literally and in any letter case.
fn glob_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 4);
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[') {
            // GLOB has no escape character; a one-character class is literal.
            out.extend(['[', c, ']']);
            continue;
        }
        let mut cases = vec![c];
        // Only one-to-one mappings fit in a class ('ß' uppercases to "SS").
        for other in [
            c.to_lowercase().collect::<Vec<_>>(),
            c.to_uppercase().collect(),
        ] {
            if let [single] = other[..] {
                if !cases.contains(&single) {
                    cases.push(single);
                }
            }
        }
        if cases.len() == 1 {
            out.push(c);
        } else {
            out.push('[');
            out.extend(cases);
            out.push(']');
        }
    }
    out
}

/// An error for data in the database that the domain cannot represent.
pub(crate) fn corrupt(what: &str, text: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("unexpected {what} {text:?} in the database").into(),
    ))
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Serializing plain domain data (strings, numbers, JSON values) cannot fail.
    serde_json::to_string(value).expect("domain data serializes to JSON")
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|_| corrupt(what, text))
}

/// Maps a failed write: a broken uniqueness rule becomes [`StoreError::Conflict`]
/// with `unique` as its text, and a reference to a row that is not in the
/// account (the composite foreign keys) a conflict naming that.
pub(crate) fn write_error(unique: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(unique.to_owned())
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Conflict(
            "a referenced user, group, organization or ticket does not exist in this account"
                .into(),
        ),
        _ => StoreError::Database(e),
    }
}

/// Like [`write_error`] for rows owned by a user: a user outside the account is `NotFound`.
fn owned_write_error(unique: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
        _ => write_error(unique)(e),
    }
}

fn listing<T>(mut items: Vec<T>, page: Page, total: Option<u64>) -> Listing<T> {
    match page {
        Page::Offset { .. } => Listing {
            items,
            total,
            has_more: false,
        },
        Page::Cursor { limit, .. } => {
            // One extra row was fetched to learn whether another page follows.
            let has_more = items.len() > limit as usize;
            items.truncate(limit as usize);
            Listing {
                items,
                total: None,
                has_more,
            }
        }
    }
}

// --- rows as the database returns them, and their domain forms ---

/// The column lists, as macros so they can be `concat!`ed into static SQL
/// (static strings are what lets sqlx cache prepared statements).
macro_rules! account_cols {
    () => {
        "id, subdomain, name, created_at"
    };
}
macro_rules! user_cols {
    () => {
        "id, account_id, name, email, role, organization_id, time_zone, locale, active, created_at, updated_at"
    };
}
macro_rules! org_cols {
    () => {
        "id, account_id, name, details, notes, domain_names, tags, created_at, updated_at"
    };
}
macro_rules! group_cols {
    () => {
        "id, account_id, name, description, created_at, updated_at"
    };
}
macro_rules! field_cols {
    () => {
        "id, account_id, field_type, title, description, active, required, position, created_at, updated_at"
    };
}
macro_rules! ticket_cols {
    () => {
        "id, account_id, subject, description, status, priority, ticket_type, requester_id, submitter_id, \
         assignee_id, group_id, organization_id, tags, custom_fields, created_at, updated_at, revision"
    };
}
macro_rules! comment_cols {
    () => {
        "id, account_id, ticket_id, author_id, public, body, html_body, created_at"
    };
}
macro_rules! audit_cols {
    () => {
        "id, account_id, ticket_id, author_id, created_at, events"
    };
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    subdomain: String,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: AccountId(r.id),
            subdomain: r.subdomain,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    account_id: i64,
    name: String,
    email: String,
    role: String,
    organization_id: Option<i64>,
    time_zone: String,
    locale: String,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> StoreResult<Self> {
        Ok(User {
            id: UserId(r.id),
            account_id: AccountId(r.account_id),
            role: Role::parse(&r.role).ok_or_else(|| corrupt("role", &r.role))?,
            name: r.name,
            email: r.email,
            organization_id: r.organization_id.map(OrganizationId),
            time_zone: r.time_zone,
            locale: r.locale,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A user with the password hash, which only `password_login` reads.
#[derive(sqlx::FromRow)]
struct LoginRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    account_id: i64,
    user_id: i64,
    description: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    account_id: i64,
    user_id: i64,
    csrf_token: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: i64,
    account_id: i64,
    name: String,
    details: String,
    notes: String,
    domain_names: String,
    tags: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Organization {
    type Error = StoreError;
    fn try_from(r: OrgRow) -> StoreResult<Self> {
        Ok(Organization {
            id: OrganizationId(r.id),
            account_id: AccountId(r.account_id),
            name: r.name,
            details: r.details,
            notes: r.notes,
            domain_names: from_json(&r.domain_names, "organization domain names")?,
            tags: from_json(&r.tags, "organization tags")?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: i64,
    account_id: i64,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<GroupRow> for Group {
    fn from(r: GroupRow) -> Self {
        Group {
            id: GroupId(r.id),
            account_id: AccountId(r.account_id),
            name: r.name,
            description: r.description,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: i64,
    account_id: i64,
    field_type: String,
    title: String,
    description: String,
    active: bool,
    required: bool,
    position: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl FieldRow {
    fn into_field(self, options: Vec<FieldOption>) -> StoreResult<TicketField> {
        Ok(TicketField {
            id: TicketFieldId(self.id),
            account_id: AccountId(self.account_id),
            field_type: FieldType::parse(&self.field_type)
                .ok_or_else(|| corrupt("field type", &self.field_type))?,
            title: self.title,
            description: self.description,
            active: self.active,
            required: self.required,
            position: self.position,
            options,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct OptionRow {
    id: i64,
    field_id: i64,
    name: String,
    value: String,
}

impl OptionRow {
    fn into_option(self) -> FieldOption {
        FieldOption {
            id: FieldOptionId(self.id),
            name: self.name,
            value: self.value,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TicketRow {
    id: i64,
    account_id: i64,
    subject: String,
    description: String,
    status: String,
    priority: Option<String>,
    ticket_type: Option<String>,
    requester_id: i64,
    submitter_id: i64,
    assignee_id: Option<i64>,
    group_id: Option<i64>,
    organization_id: Option<i64>,
    tags: String,
    custom_fields: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl TryFrom<TicketRow> for Ticket {
    type Error = StoreError;
    fn try_from(r: TicketRow) -> StoreResult<Self> {
        Ok(Ticket {
            id: TicketId(r.id),
            account_id: AccountId(r.account_id),
            status: TicketStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            priority: match &r.priority {
                Some(p) => Some(TicketPriority::parse(p).ok_or_else(|| corrupt("priority", p))?),
                None => None,
            },
            ticket_type: match &r.ticket_type {
                Some(t) => Some(TicketType::parse(t).ok_or_else(|| corrupt("ticket type", t))?),
                None => None,
            },
            subject: r.subject,
            description: r.description,
            requester_id: UserId(r.requester_id),
            submitter_id: UserId(r.submitter_id),
            assignee_id: r.assignee_id.map(UserId),
            group_id: r.group_id.map(GroupId),
            organization_id: r.organization_id.map(OrganizationId),
            tags: from_json(&r.tags, "ticket tags")?,
            custom_fields: from_json(&r.custom_fields, "ticket custom fields")?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revision: r.revision,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: i64,
    account_id: i64,
    ticket_id: i64,
    author_id: i64,
    public: bool,
    body: String,
    html_body: String,
    created_at: DateTime<Utc>,
}

impl From<CommentRow> for Comment {
    fn from(r: CommentRow) -> Self {
        Comment {
            id: CommentId(r.id),
            account_id: AccountId(r.account_id),
            ticket_id: TicketId(r.ticket_id),
            author_id: UserId(r.author_id),
            public: r.public,
            body: r.body,
            html_body: r.html_body,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    account_id: i64,
    ticket_id: i64,
    author_id: i64,
    created_at: DateTime<Utc>,
    events: String,
}

impl TryFrom<AuditRow> for Audit {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> StoreResult<Self> {
        Ok(Audit {
            id: AuditId(r.id),
            account_id: AccountId(r.account_id),
            ticket_id: TicketId(r.ticket_id),
            author_id: UserId(r.author_id),
            created_at: r.created_at,
            events: from_json(&r.events, "audit events")?,
        })
    }
}

fn collect<R, T>(rows: Vec<R>) -> StoreResult<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// The system fields every account has: type, title, position.
const SYSTEM_FIELDS: [(FieldType, &str); 7] = [
    (FieldType::Subject, "Subject"),
    (FieldType::Description, "Description"),
    (FieldType::Status, "Status"),
    (FieldType::Priority, "Priority"),
    (FieldType::TicketType, "Type"),
    (FieldType::Group, "Group"),
    (FieldType::Assignee, "Assignee"),
];

/// Refuses option lists where two options share a value: the value is what
/// tickets store, so it must name one option.
fn check_options(options: &[(String, String)]) -> StoreResult<()> {
    for (i, (_, value)) in options.iter().enumerate() {
        if options[..i].iter().any(|(_, v)| v == value) {
            return Err(StoreError::Conflict(format!(
                "Options: the value {value:?} is used by more than one option"
            )));
        }
    }
    Ok(())
}

/// `CASE col WHEN 'a' THEN 0 … ELSE -1 END`: sorts an enum column in the
/// domain's order (Zendesk's), with NULL first, instead of alphabetically.
fn enum_order(column: &str, spellings: impl Iterator<Item = &'static str>) -> String {
    let mut sql = format!("CASE {column}");
    for (i, s) in spellings.enumerate() {
        sql.push_str(&format!(" WHEN '{s}' THEN {i}"));
    }
    sql.push_str(" ELSE -1 END");
    sql
}

/// Removes the value of field `field` from a ticket's custom field JSON.
fn without_field(custom_fields: &str, field: TicketFieldId) -> StoreResult<Option<String>> {
    let mut values: Vec<CustomFieldValue> = from_json(custom_fields, "ticket custom fields")?;
    let before = values.len();
    values.retain(|v| v.id != field);
    Ok((values.len() != before).then(|| to_json(&values)))
}

/// Instantiates the store for one sqlx database type.
///
/// `$collate` is appended to text sort keys so both engines order text by
/// code point (SQLite's BINARY; PostgreSQL's "C" instead of the locale's), and
/// `$begin_write` is the statement that opens a write transaction, and
/// `$text_match` how text is matched case-insensitively.
macro_rules! impl_store {
    ($name:ident, $db:ty, $engine:expr, $migrator:expr, $collate:literal, $begin_write:literal, $text_match:ident) => {
        /// The store on this engine; see the module docs.
        pub(crate) struct $name {
            // Crate-visible so that `apps.rs` can implement `AppStore` on the same pools.
            pub(crate) read: sqlx::Pool<$db>,
            pub(crate) write: sqlx::Pool<$db>,
        }

        impl $name {
            /// Wraps a read pool and a write pool (which may be the same pool).
            pub(crate) fn new(read: sqlx::Pool<$db>, write: sqlx::Pool<$db>) -> Self {
                $name { read, write }
            }

            /// Applies pending migrations; already applied ones are skipped.
            pub(crate) async fn migrate(&self) -> StoreResult<()> {
                $migrator.run(&self.write).await?;
                Ok(())
            }

            /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`,
            /// taking the write lock up front: a deferred transaction that
            /// reads first and then writes cannot wait for the lock and fails
            /// with SQLITE_BUSY when another process (the CLI) wrote meanwhile.
            pub(crate) async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, $db>> {
                Ok(self.write.begin_with($begin_write).await?)
            }

            /// Closes both pools, waiting for connections to be returned.
            pub(crate) async fn close(&self) {
                self.read.close().await;
                self.write.close().await;
            }

            async fn field_options(
                exec: impl sqlx::Executor<'_, Database = $db>,
                account: AccountId,
                field: Option<TicketFieldId>,
            ) -> StoreResult<HashMap<i64, Vec<FieldOption>>> {
                let rows: Vec<OptionRow> = match field {
                    Some(f) => {
                        sqlx::query_as(
                            "SELECT id, field_id, name, value FROM ticket_field_options \
                             WHERE account_id = $1 AND field_id = $2 ORDER BY position, id",
                        )
                        .bind(account.0)
                        .bind(f.0)
                        .fetch_all(exec)
                        .await?
                    }
                    None => {
                        sqlx::query_as(
                            "SELECT id, field_id, name, value FROM ticket_field_options \
                             WHERE account_id = $1 ORDER BY field_id, position, id",
                        )
                        .bind(account.0)
                        .fetch_all(exec)
                        .await?
                    }
                };
                let mut by_field: HashMap<i64, Vec<FieldOption>> = HashMap::new();
                for row in rows {
                    by_field.entry(row.field_id).or_default().push(row.into_option());
                }
                Ok(by_field)
            }

            /// Replaces a field's options, keeping the id of every option
            /// whose value survives (tickets and apps refer to option ids).
            async fn replace_options(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                field: TicketFieldId,
                options: &[(String, String)],
            ) -> StoreResult<()> {
                check_options(options)?;
                let existing: Vec<OptionRow> = sqlx::query_as(
                    "SELECT id, field_id, name, value FROM ticket_field_options WHERE account_id = $1 AND field_id = $2",
                )
                .bind(account.0)
                .bind(field.0)
                .fetch_all(&mut **tx)
                .await?;
                for old in &existing {
                    if !options.iter().any(|(_, v)| *v == old.value) {
                        sqlx::query("DELETE FROM ticket_field_options WHERE id = $1")
                            .bind(old.id)
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                for (position, (name, value)) in options.iter().enumerate() {
                    match existing.iter().find(|o| o.value == *value) {
                        Some(old) => {
                            sqlx::query("UPDATE ticket_field_options SET name = $1, position = $2 WHERE id = $3")
                                .bind(name)
                                .bind(position as i64)
                                .bind(old.id)
                                .execute(&mut **tx)
                                .await?;
                        }
                        None => {
                            sqlx::query(
                                "INSERT INTO ticket_field_options (account_id, field_id, position, name, value) \
                                 VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(account.0)
                            .bind(field.0)
                            .bind(position as i64)
                            .bind(name)
                            .bind(value)
                            .execute(&mut **tx)
                            .await
                            .map_err(write_error("Options: each option needs its own value"))?;
                        }
                    }
                }
                Ok(())
            }

            /// Brings `ticket_tags` in line with a ticket's new tags.
            async fn sync_tags(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                ticket: TicketId,
                old: &[String],
                new: &[String],
            ) -> StoreResult<()> {
                for tag in old.iter().filter(|t| !new.contains(t)) {
                    sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1 AND tag = $2")
                        .bind(ticket.0)
                        .bind(tag)
                        .execute(&mut **tx)
                        .await?;
                }
                for tag in new.iter().filter(|t| !old.contains(t)) {
                    sqlx::query(
                        "INSERT INTO ticket_tags (ticket_id, account_id, tag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(ticket.0)
                    .bind(account.0)
                    .bind(tag)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Inserts a comment and returns its id.
            async fn insert_comment(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                ticket: TicketId,
                comment: &NewComment,
                at: DateTime<Utc>,
            ) -> StoreResult<CommentId> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO comments (account_id, ticket_id, author_id, public, body, html_body, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(account.0)
                .bind(ticket.0)
                .bind(comment.author_id.0)
                .bind(comment.public)
                .bind(&comment.body)
                .bind(&comment.html_body)
                .bind(at)
                .fetch_one(&mut **tx)
                .await
                .map_err(write_error("the comment already exists"))?;
                Ok(CommentId(id))
            }

            async fn insert_audit(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                ticket: TicketId,
                author: UserId,
                events: &[AuditEvent],
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO audits (account_id, ticket_id, author_id, created_at, events) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(account.0)
                .bind(ticket.0)
                .bind(author.0)
                .bind(at)
                .bind(to_json(events))
                .execute(&mut **tx)
                .await
                .map_err(write_error("the audit already exists"))?;
                Ok(())
            }

            /// Appends `column` matching a person reference, resolving emails
            /// and names against users of the same account in the query itself.
            fn push_user_ref(qb: &mut sqlx::QueryBuilder<'_, $db>, account: AccountId, column: &str, r: &UserRef) {
                match r {
                    UserRef::None => {
                        qb.push(format!(" AND {column} IS NULL"));
                    }
                    UserRef::Id(id) => {
                        qb.push(format!(" AND {column} = ")).push_bind(id.0);
                    }
                    UserRef::Email(email) => {
                        qb.push(format!(" AND {column} IN (SELECT id FROM users WHERE account_id = "))
                            .push_bind(account.0)
                            .push(" AND email = ")
                            .push_bind(email.to_lowercase())
                            .push(")");
                    }
                    UserRef::Name(name) => {
                        // A name whose words start with it: `requester:ann`
                        // finds "Ann Lee" and "Mary Ann", so does "ann lee".
                        qb.push(format!(" AND {column} IN (SELECT id FROM users WHERE account_id = "))
                            .push_bind(account.0)
                            .push(" AND (");
                        $text_match(qb, "name", name, Shape::Prefix);
                        qb.push(" OR ");
                        $text_match(qb, "name", name, Shape::WordPrefix);
                        qb.push("))");
                    }
                }
            }

            /// Appends a group or organization reference, names resolved in `table`.
            fn push_named_ref<Id: Copy>(
                qb: &mut sqlx::QueryBuilder<'_, $db>,
                account: AccountId,
                column: &str,
                table: &str,
                r: &NamedRef<Id>,
                raw: fn(Id) -> i64,
            ) {
                match r {
                    NamedRef::None => {
                        qb.push(format!(" AND {column} IS NULL"));
                    }
                    NamedRef::Id(id) => {
                        qb.push(format!(" AND {column} = ")).push_bind(raw(*id));
                    }
                    NamedRef::Name(name) => {
                        qb.push(format!(" AND {column} IN (SELECT id FROM {table} WHERE account_id = "))
                            .push_bind(account.0)
                            .push(" AND ");
                        $text_match(qb, "name", name, Shape::Exact);
                        qb.push(")");
                    }
                }
            }

            /// Appends `… FROM tickets WHERE <every condition of the filter>`.
            fn push_ticket_filter(qb: &mut sqlx::QueryBuilder<'_, $db>, account: AccountId, f: &TicketFilter) {
                qb.push(" FROM tickets WHERE account_id = ").push_bind(account.0);
                if let Some(statuses) = &f.statuses {
                    qb.push(" AND ");
                    Self::push_in(qb, "status", statuses.iter().map(|s| s.as_str()));
                }
                Self::push_optional_enum(qb, "priority", f.priorities.as_deref().map(|v| {
                    v.iter().map(|p| p.map(TicketPriority::as_str)).collect::<Vec<_>>()
                }));
                Self::push_optional_enum(qb, "ticket_type", f.types.as_deref().map(|v| {
                    v.iter().map(|t| t.map(TicketType::as_str)).collect::<Vec<_>>()
                }));
                for tag in &f.tags_all {
                    qb.push(" AND EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = tickets.id AND tt.tag = ")
                        .push_bind(tag.to_lowercase())
                        .push(")");
                }
                if !f.tags_none.is_empty() {
                    qb.push(" AND NOT EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = tickets.id AND ");
                    Self::push_in(qb, "tt.tag", f.tags_none.iter().map(|tag| tag.to_lowercase()));
                    qb.push(")");
                }
                if let Some(r) = &f.requester {
                    Self::push_user_ref(qb, account, "requester_id", r);
                }
                if let Some(r) = &f.assignee {
                    Self::push_user_ref(qb, account, "assignee_id", r);
                }
                if let Some(r) = &f.submitter {
                    Self::push_user_ref(qb, account, "submitter_id", r);
                }
                if let Some(r) = &f.group {
                    Self::push_named_ref(qb, account, "group_id", "groups", r, GroupId::get);
                }
                if let Some(r) = &f.organization {
                    Self::push_named_ref(qb, account, "organization_id", "organizations", r, OrganizationId::get);
                }
                // Bounds are inclusive-after, exclusive-before, as the parser builds them.
                if let Some(t) = f.created_after {
                    qb.push(" AND created_at >= ").push_bind(t);
                }
                if let Some(t) = f.created_before {
                    qb.push(" AND created_at < ").push_bind(t);
                }
                if let Some(t) = f.updated_after {
                    qb.push(" AND updated_at >= ").push_bind(t);
                }
                if let Some(t) = f.updated_before {
                    qb.push(" AND updated_at < ").push_bind(t);
                }
                for text in &f.text {
                    qb.push(" AND (");
                    $text_match(qb, "subject", text, Shape::Contains);
                    qb.push(" OR ");
                    $text_match(qb, "description", text, Shape::Contains);
                    qb.push(" OR EXISTS (SELECT 1 FROM comments c WHERE c.ticket_id = tickets.id AND ");
                    $text_match(qb, "c.body", text, Shape::Contains);
                    qb.push("))");
                }
                if let Some(ids) = &f.ids {
                    qb.push(" AND ");
                    Self::push_in(qb, "id", ids.iter().map(|id| id.0));
                }
                if let Some(requester) = f.visible_to_requester {
                    qb.push(" AND requester_id = ").push_bind(requester.0);
                }
            }

            /// Appends `column IN (…)` with one bound value each, or `1 = 0`
            /// when there are none: an empty `IN ()` is a syntax error, and
            /// an empty list matches nothing.
            fn push_in<'args, T>(
                qb: &mut sqlx::QueryBuilder<'args, $db>,
                column: &str,
                values: impl IntoIterator<Item = T>,
            ) where
                T: 'args + sqlx::Encode<'args, $db> + sqlx::Type<$db>,
            {
                let mut values = values.into_iter().peekable();
                if values.peek().is_none() {
                    qb.push("1 = 0");
                    return;
                }
                qb.push(format!("{column} IN ("));
                let mut list = qb.separated(", ");
                for v in values {
                    list.push_bind(v);
                }
                qb.push(")");
            }

            /// Appends `column IN (…)` for a nullable enum, `None` meaning NULL.
            fn push_optional_enum(
                qb: &mut sqlx::QueryBuilder<'_, $db>,
                column: &str,
                allowed: Option<Vec<Option<&'static str>>>,
            ) {
                let Some(allowed) = allowed else { return };
                let with_null = allowed.iter().any(Option::is_none);
                qb.push(" AND (");
                Self::push_in(qb, column, allowed.into_iter().flatten());
                if with_null {
                    qb.push(format!(" OR {column} IS NULL"));
                }
                qb.push(")");
            }

            /// Appends a users filter (`… FROM users WHERE …`).
            fn push_user_filter(qb: &mut sqlx::QueryBuilder<'_, $db>, account: AccountId, f: &UserFilter) {
                qb.push(" FROM users WHERE account_id = ").push_bind(account.0);
                if let Some(roles) = &f.roles {
                    qb.push(" AND ");
                    Self::push_in(qb, "role", roles.iter().map(|r| r.as_str()));
                }
                if let Some(org) = f.organization_id {
                    qb.push(" AND organization_id = ").push_bind(org.0);
                }
                for text in &f.text {
                    qb.push(" AND (");
                    $text_match(qb, "name", text, Shape::Contains);
                    qb.push(" OR ");
                    $text_match(qb, "email", text, Shape::Contains);
                    qb.push(")");
                }
            }

            /// Appends `ORDER BY … LIMIT …` for an id-ordered list and the page.
            fn push_page(qb: &mut sqlx::QueryBuilder<'_, $db>, order: &str, descending: bool, page: Page) {
                match page {
                    Page::Offset { offset, limit } => {
                        let dir = if descending { "DESC" } else { "ASC" };
                        qb.push(format!(" ORDER BY {order} {dir}, id {dir} LIMIT "))
                            .push_bind(i64::from(limit))
                            .push(" OFFSET ")
                            .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
                    }
                    Page::Cursor { after, limit, descending } => {
                        // Cursor pages follow ids only, whatever the sort.
                        if let Some(after) = after {
                            qb.push(if descending { " AND id < " } else { " AND id > " }).push_bind(after);
                        }
                        qb.push(if descending { " ORDER BY id DESC" } else { " ORDER BY id ASC" })
                            .push(" LIMIT ")
                            .push_bind(i64::from(limit) + 1);
                    }
                }
            }
        }

        #[async_trait::async_trait]
        impl Store for $name {
            fn engine(&self) -> Engine {
                $engine
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.read).await?;
                Ok(())
            }

            // --- accounts ---

            #[tracing::instrument(level = "debug", skip_all)]
            async fn create_account(&self, subdomain: &str, name: &str) -> StoreResult<Account> {
                let subdomain = subdomain.trim().to_lowercase();
                let row: AccountRow = sqlx::query_as(concat!(
                    "INSERT INTO accounts (subdomain, name, created_at) VALUES ($1, $2, $3) RETURNING ",
                    account_cols!()
                ))
                .bind(&subdomain)
                .bind(name)
                .bind(now())
                .fetch_one(&self.write)
                .await
                .map_err(write_error(&format!("Subdomain: {subdomain} is already taken")))?;
                Ok(row.into())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %id))]
            async fn get_account(&self, id: AccountId) -> StoreResult<Account> {
                let row: Option<AccountRow> =
                    sqlx::query_as(concat!("SELECT ", account_cols!(), " FROM accounts WHERE id = $1"))
                        .bind(id.0)
                        .fetch_optional(&self.read)
                        .await?;
                row.map(Account::from).ok_or(StoreError::NotFound)
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn get_account_by_subdomain(&self, subdomain: &str) -> StoreResult<Account> {
                let row: Option<AccountRow> =
                    sqlx::query_as(concat!("SELECT ", account_cols!(), " FROM accounts WHERE subdomain = $1"))
                        .bind(subdomain.trim().to_lowercase())
                        .fetch_optional(&self.read)
                        .await?;
                row.map(Account::from).ok_or(StoreError::NotFound)
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn default_account(&self) -> StoreResult<Option<Account>> {
                let row: Option<AccountRow> =
                    sqlx::query_as(concat!("SELECT ", account_cols!(), " FROM accounts ORDER BY id LIMIT 1"))
                        .fetch_optional(&self.read)
                        .await?;
                Ok(row.map(Account::from))
            }

            // --- users and credentials ---

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn create_user(&self, account: AccountId, user: &NewUser) -> StoreResult<User> {
                let email = user.email.trim().to_lowercase();
                let at = now();
                let row: UserRow = sqlx::query_as(concat!(
                    "INSERT INTO users (account_id, name, email, role, organization_id, time_zone, locale, \
                     password_hash, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ",
                    user_cols!()
                ))
                .bind(account.0)
                .bind(&user.name)
                .bind(&email)
                .bind(user.role.as_str())
                .bind(user.organization_id.map(|o| o.0))
                .bind(&user.time_zone)
                .bind(&user.locale)
                .bind(user.password_hash.as_deref())
                .bind(true)
                .bind(at)
                .fetch_one(&self.write)
                .await
                .map_err(write_error(&format!("Email: {email} is already being used by another user")))?;
                row.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, user = %id))]
            async fn get_user(&self, account: AccountId, id: UserId) -> StoreResult<User> {
                let row: Option<UserRow> =
                    sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users WHERE account_id = $1 AND id = $2"))
                        .bind(account.0)
                        .bind(id.0)
                        .fetch_optional(&self.read)
                        .await?;
                row.ok_or(StoreError::NotFound)?.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, count = ids.len()))]
            async fn get_users(&self, account: AccountId, ids: &[UserId]) -> StoreResult<Vec<User>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", user_cols!(), " FROM users WHERE account_id = "));
                qb.push_bind(account.0).push(" AND ");
                Self::push_in(&mut qb, "id", ids.iter().map(|id| id.0));
                qb.push(" ORDER BY id");
                let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.read).await?;
                collect(rows)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn get_user_by_email(&self, account: AccountId, email: &str) -> StoreResult<User> {
                let row: Option<UserRow> =
                    sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users WHERE account_id = $1 AND email = $2"))
                        .bind(account.0)
                        .bind(email.trim().to_lowercase())
                        .fetch_optional(&self.read)
                        .await?;
                row.ok_or(StoreError::NotFound)?.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn list_users(&self, account: AccountId, filter: &UserFilter, page: Page) -> StoreResult<Listing<User>> {
                let total = match page {
                    Page::Offset { .. } => {
                        let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*)");
                        Self::push_user_filter(&mut qb, account, filter);
                        let n: i64 = qb.build_query_scalar().fetch_one(&self.read).await?;
                        Some(n as u64)
                    }
                    Page::Cursor { .. } => None,
                };
                let mut qb = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", user_cols!()));
                Self::push_user_filter(&mut qb, account, filter);
                Self::push_page(&mut qb, "id", false, page);
                let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.read).await?;
                Ok(listing(collect(rows)?, page, total))
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, user = %id))]
            async fn update_user(&self, account: AccountId, id: UserId, patch: &UserPatch) -> StoreResult<User> {
                if *patch == UserPatch::default() {
                    return self.get_user(account, id).await;
                }
                let email = patch.email.as_ref().map(|e| e.trim().to_lowercase());
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE users SET updated_at = ");
                qb.push_bind(now());
                if let Some(name) = &patch.name {
                    qb.push(", name = ").push_bind(name.clone());
                }
                if let Some(email) = &email {
                    qb.push(", email = ").push_bind(email.clone());
                }
                if let Some(role) = patch.role {
                    qb.push(", role = ").push_bind(role.as_str());
                }
                if let Some(org) = patch.organization_id {
                    qb.push(", organization_id = ").push_bind(org.map(|o| o.0));
                }
                if let Some(tz) = &patch.time_zone {
                    qb.push(", time_zone = ").push_bind(tz.clone());
                }
                if let Some(locale) = &patch.locale {
                    qb.push(", locale = ").push_bind(locale.clone());
                }
                if let Some(active) = patch.active {
                    qb.push(", active = ").push_bind(active);
                }
                qb.push(" WHERE account_id = ")
                    .push_bind(account.0)
                    .push(" AND id = ")
                    .push_bind(id.0)
                    .push(concat!(" RETURNING ", user_cols!()));
                let conflict = format!("Email: {} is already being used by another user", email.as_deref().unwrap_or(""));
                let row: Option<UserRow> = qb
                    .build_query_as()
                    .fetch_optional(&self.write)
                    .await
                    .map_err(write_error(&conflict))?;
                row.ok_or(StoreError::NotFound)?.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, user = %id))]
            async fn set_password_hash(&self, account: AccountId, id: UserId, hash: &str) -> StoreResult<()> {
                let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE account_id = $3 AND id = $4")
                    .bind(hash)
                    .bind(now())
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn password_login(&self, account: AccountId, email: &str) -> StoreResult<PasswordLogin> {
                // Inactive users are returned too: the caller refuses them
                // after the same work as a wrong password, revealing nothing.
                let row: Option<LoginRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    user_cols!(),
                    ", password_hash FROM users WHERE account_id = $1 AND email = $2"
                ))
                .bind(account.0)
                .bind(email.trim().to_lowercase())
                .fetch_optional(&self.read)
                .await?;
                let row = row.ok_or(StoreError::NotFound)?;
                Ok(PasswordLogin { user: row.user.try_into()?, password_hash: row.password_hash })
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn count_users(&self, account: AccountId) -> StoreResult<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE account_id = $1")
                    .bind(account.0)
                    .fetch_one(&self.read)
                    .await?;
                Ok(n as u64)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, user = %user))]
            async fn create_api_token(
                &self,
                account: AccountId,
                user: UserId,
                token_sha256: &str,
                description: &str,
            ) -> StoreResult<ApiToken> {
                let row: TokenRow = sqlx::query_as(
                    "INSERT INTO api_tokens (account_id, user_id, token_sha256, description, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id, account_id, user_id, description, created_at",
                )
                .bind(account.0)
                .bind(user.0)
                .bind(token_sha256)
                .bind(description)
                .bind(now())
                .fetch_one(&self.write)
                .await
                .map_err(owned_write_error("this API token already exists"))?;
                Ok(ApiToken {
                    id: ApiTokenId(row.id),
                    account_id: AccountId(row.account_id),
                    user_id: UserId(row.user_id),
                    description: row.description,
                    created_at: row.created_at,
                })
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn user_for_api_token(&self, account: AccountId, token_sha256: &str) -> StoreResult<User> {
                let row: Option<UserRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    user_cols!(),
                    " FROM users WHERE account_id = $1 AND active = $2 AND id = \
                     (SELECT user_id FROM api_tokens WHERE account_id = $1 AND token_sha256 = $3)"
                ))
                .bind(account.0)
                .bind(true)
                .bind(token_sha256)
                .fetch_optional(&self.read)
                .await?;
                row.ok_or(StoreError::NotFound)?.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %session.account_id))]
            async fn create_session(&self, session_sha256: &str, session: &Session) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (session_sha256, account_id, user_id, csrf_token, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(session_sha256)
                .bind(session.account_id.0)
                .bind(session.user_id.0)
                .bind(&session.csrf_token)
                .bind(session.created_at.trunc_subsecs(6))
                .bind(session.expires_at.trunc_subsecs(6))
                .execute(&self.write)
                .await
                .map_err(owned_write_error("this session already exists"))?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn get_session(&self, session_sha256: &str) -> StoreResult<(Session, User)> {
                let row: Option<SessionRow> = sqlx::query_as(
                    "SELECT account_id, user_id, csrf_token, created_at, expires_at FROM sessions \
                     WHERE session_sha256 = $1 AND expires_at > $2",
                )
                .bind(session_sha256)
                .bind(now())
                .fetch_optional(&self.read)
                .await?;
                let row = row.ok_or(StoreError::NotFound)?;
                let session = Session {
                    account_id: AccountId(row.account_id),
                    user_id: UserId(row.user_id),
                    csrf_token: row.csrf_token,
                    created_at: row.created_at,
                    expires_at: row.expires_at,
                };
                let user = self.get_user(session.account_id, session.user_id).await?;
                if !user.active {
                    return Err(StoreError::NotFound);
                }
                Ok((session, user))
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn delete_session(&self, session_sha256: &str) -> StoreResult<()> {
                // Deleting a session that is already gone is not an error: logging out twice is fine.
                sqlx::query("DELETE FROM sessions WHERE session_sha256 = $1")
                    .bind(session_sha256)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn purge_expired_sessions(&self) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now())
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected())
            }

            // --- organizations and groups ---

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn create_organization(&self, account: AccountId, org: &NewOrganization) -> StoreResult<Organization> {
                let row: OrgRow = sqlx::query_as(concat!(
                    "INSERT INTO organizations (account_id, name, details, notes, domain_names, tags, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
                    org_cols!()
                ))
                .bind(account.0)
                .bind(&org.name)
                .bind(&org.details)
                .bind(&org.notes)
                .bind(to_json(&org.domain_names))
                .bind(to_json(&org.tags))
                .bind(now())
                .fetch_one(&self.write)
                .await
                .map_err(write_error("Name: has already been taken"))?;
                row.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, organization = %id))]
            async fn get_organization(&self, account: AccountId, id: OrganizationId) -> StoreResult<Organization> {
                let row: Option<OrgRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    org_cols!(),
                    " FROM organizations WHERE account_id = $1 AND id = $2"
                ))
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.read)
                .await?;
                row.ok_or(StoreError::NotFound)?.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn list_organizations(
                &self,
                account: AccountId,
                text: &[String],
                page: Page,
            ) -> StoreResult<Listing<Organization>> {
                let push_filter = |qb: &mut sqlx::QueryBuilder<'_, $db>| {
                    qb.push(" FROM organizations WHERE account_id = ").push_bind(account.0);
                    for t in text {
                        qb.push(" AND ");
                        $text_match(qb, "name", t, Shape::Contains);
                    }
                };
                let total = match page {
                    Page::Offset { .. } => {
                        let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*)");
                        push_filter(&mut qb);
                        let n: i64 = qb.build_query_scalar().fetch_one(&self.read).await?;
                        Some(n as u64)
                    }
                    Page::Cursor { .. } => None,
                };
                let mut qb = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", org_cols!()));
                push_filter(&mut qb);
                Self::push_page(&mut qb, "id", false, page);
                let rows: Vec<OrgRow> = qb.build_query_as().fetch_all(&self.read).await?;
                Ok(listing(collect(rows)?, page, total))
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, organization = %id))]
            async fn update_organization(
                &self,
                account: AccountId,
                id: OrganizationId,
                patch: &OrganizationPatch,
            ) -> StoreResult<Organization> {
                if *patch == OrganizationPatch::default() {
                    return self.get_organization(account, id).await;
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE organizations SET updated_at = ");
                qb.push_bind(now());
                if let Some(name) = &patch.name {
                    qb.push(", name = ").push_bind(name.clone());
                }
                if let Some(details) = &patch.details {
                    qb.push(", details = ").push_bind(details.clone());
                }
                if let Some(notes) = &patch.notes {
                    qb.push(", notes = ").push_bind(notes.clone());
                }
                if let Some(domains) = &patch.domain_names {
                    qb.push(", domain_names = ").push_bind(to_json(domains));
                }
                if let Some(tags) = &patch.tags {
                    qb.push(", tags = ").push_bind(to_json(tags));
                }
                qb.push(" WHERE account_id = ")
                    .push_bind(account.0)
                    .push(" AND id = ")
                    .push_bind(id.0)
                    .push(concat!(" RETURNING ", org_cols!()));
                let row: Option<OrgRow> = qb
                    .build_query_as()
                    .fetch_optional(&self.write)
                    .await
                    .map_err(write_error("Name: has already been taken"))?;
                row.ok_or(StoreError::NotFound)?.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, organization = %id))]
            async fn delete_organization(&self, account: AccountId, id: OrganizationId) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                // Members and tickets lose the organization rather than
                // blocking the delete. Done here, not with ON DELETE SET NULL,
                // because the composite key would null account_id as well.
                sqlx::query("UPDATE users SET organization_id = NULL, updated_at = $1 WHERE account_id = $2 AND organization_id = $3")
                    .bind(now())
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                // A changed ticket gets a new revision so an update computed
                // before this cannot put the deleted organization back.
                sqlx::query(
                    "UPDATE tickets SET organization_id = NULL, revision = revision + 1 \
                     WHERE account_id = $1 AND organization_id = $2",
                )
                .bind(account.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
                let done = sqlx::query("DELETE FROM organizations WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn create_group(&self, account: AccountId, group: &NewGroup) -> StoreResult<Group> {
                let row: GroupRow = sqlx::query_as(concat!(
                    "INSERT INTO groups (account_id, name, description, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $4) RETURNING ",
                    group_cols!()
                ))
                .bind(account.0)
                .bind(&group.name)
                .bind(&group.description)
                .bind(now())
                .fetch_one(&self.write)
                .await
                .map_err(write_error("Name: has already been taken"))?;
                Ok(row.into())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, group = %id))]
            async fn get_group(&self, account: AccountId, id: GroupId) -> StoreResult<Group> {
                let row: Option<GroupRow> =
                    sqlx::query_as(concat!("SELECT ", group_cols!(), " FROM groups WHERE account_id = $1 AND id = $2"))
                        .bind(account.0)
                        .bind(id.0)
                        .fetch_optional(&self.read)
                        .await?;
                row.map(Group::from).ok_or(StoreError::NotFound)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn list_groups(&self, account: AccountId) -> StoreResult<Vec<Group>> {
                let rows: Vec<GroupRow> =
                    sqlx::query_as(concat!("SELECT ", group_cols!(), " FROM groups WHERE account_id = $1 ORDER BY id"))
                        .bind(account.0)
                        .fetch_all(&self.read)
                        .await?;
                Ok(rows.into_iter().map(Group::from).collect())
            }

            // --- ticket fields ---

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn ensure_system_fields(&self, account: AccountId) -> StoreResult<()> {
                let at = now();
                let mut tx = self.begin_write().await?;
                for (position, (kind, title)) in SYSTEM_FIELDS.iter().enumerate() {
                    // The partial unique index on (account_id, field_type)
                    // makes a second call, even a concurrent one, a no-op.
                    sqlx::query(
                        "INSERT INTO ticket_fields (account_id, field_type, title, description, active, required, \
                         position, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(account.0)
                    .bind(kind.as_str())
                    .bind(*title)
                    .bind("")
                    .bind(true)
                    .bind(false)
                    .bind(position as i64)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(write_error("the system fields already exist"))?;
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn create_ticket_field(&self, account: AccountId, field: &NewTicketField) -> StoreResult<TicketField> {
                check_options(&field.options)?;
                let at = now();
                let mut tx = self.begin_write().await?;
                let row: FieldRow = sqlx::query_as(concat!(
                    "INSERT INTO ticket_fields (account_id, field_type, title, description, active, required, \
                     position, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
                    field_cols!()
                ))
                .bind(account.0)
                .bind(field.field_type.as_str())
                .bind(&field.title)
                .bind(&field.description)
                .bind(field.active)
                .bind(field.required)
                .bind(field.position)
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(write_error("Type: this system field already exists"))?;
                let id = TicketFieldId(row.id);
                Self::replace_options(&mut tx, account, id, &field.options).await?;
                let mut options = Self::field_options(&mut *tx, account, Some(id)).await?;
                tx.commit().await?;
                row.into_field(options.remove(&id.0).unwrap_or_default())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, field = %id))]
            async fn get_ticket_field(&self, account: AccountId, id: TicketFieldId) -> StoreResult<TicketField> {
                let row: Option<FieldRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    field_cols!(),
                    " FROM ticket_fields WHERE account_id = $1 AND id = $2"
                ))
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.read)
                .await?;
                let row = row.ok_or(StoreError::NotFound)?;
                let mut options = Self::field_options(&self.read, account, Some(id)).await?;
                row.into_field(options.remove(&id.0).unwrap_or_default())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn list_ticket_fields(&self, account: AccountId) -> StoreResult<Vec<TicketField>> {
                let rows: Vec<FieldRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    field_cols!(),
                    " FROM ticket_fields WHERE account_id = $1 ORDER BY position, id"
                ))
                .bind(account.0)
                .fetch_all(&self.read)
                .await?;
                let mut options = Self::field_options(&self.read, account, None).await?;
                rows.into_iter()
                    .map(|row| {
                        let opts = options.remove(&row.id).unwrap_or_default();
                        row.into_field(opts)
                    })
                    .collect()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, field = %id))]
            async fn update_ticket_field(
                &self,
                account: AccountId,
                id: TicketFieldId,
                patch: &TicketFieldPatch,
            ) -> StoreResult<TicketField> {
                if let Some(options) = &patch.options {
                    check_options(options)?;
                }
                let mut tx = self.begin_write().await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE ticket_fields SET updated_at = ");
                qb.push_bind(now());
                if let Some(title) = &patch.title {
                    qb.push(", title = ").push_bind(title.clone());
                }
                if let Some(description) = &patch.description {
                    qb.push(", description = ").push_bind(description.clone());
                }
                if let Some(active) = patch.active {
                    qb.push(", active = ").push_bind(active);
                }
                if let Some(required) = patch.required {
                    qb.push(", required = ").push_bind(required);
                }
                if let Some(position) = patch.position {
                    qb.push(", position = ").push_bind(position);
                }
                qb.push(" WHERE account_id = ")
                    .push_bind(account.0)
                    .push(" AND id = ")
                    .push_bind(id.0)
                    .push(concat!(" RETURNING ", field_cols!()));
                let row: Option<FieldRow> = qb.build_query_as().fetch_optional(&mut *tx).await?;
                let row = row.ok_or(StoreError::NotFound)?;
                if let Some(options) = &patch.options {
                    Self::replace_options(&mut tx, account, id, options).await?;
                }
                let mut options = Self::field_options(&mut *tx, account, Some(id)).await?;
                tx.commit().await?;
                row.into_field(options.remove(&id.0).unwrap_or_default())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, field = %id))]
            async fn delete_ticket_field(&self, account: AccountId, id: TicketFieldId) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM ticket_fields WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                // Drop the field's values from tickets. The LIKE narrows the
                // scan to tickets whose JSON mentions the id (serde writes
                // `{"id":N,"value":…}`); the JSON is then edited in Rust.
                let rows: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT id, custom_fields FROM tickets WHERE account_id = $1 AND custom_fields LIKE $2",
                )
                .bind(account.0)
                .bind(format!("%\"id\":{},%", id.0))
                .fetch_all(&mut *tx)
                .await?;
                for (ticket, custom_fields) in rows {
                    if let Some(rewritten) = without_field(&custom_fields, id)? {
                        sqlx::query("UPDATE tickets SET custom_fields = $1, revision = revision + 1 WHERE id = $2")
                            .bind(rewritten)
                            .bind(ticket)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            // --- tickets ---

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn create_ticket(
                &self,
                account: AccountId,
                ticket: &NewTicket,
                first_comment: &NewComment,
                events: &[AuditEvent],
            ) -> StoreResult<Ticket> {
                let at = now();
                let tags = to_json(&ticket.tags);
                let custom_fields = to_json(&ticket.custom_fields);
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO tickets (account_id, subject, description, status, priority, ticket_type, \
                     requester_id, submitter_id, assignee_id, group_id, organization_id, tags, custom_fields, \
                     created_at, updated_at, revision) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, 1) RETURNING id",
                )
                .bind(account.0)
                .bind(&ticket.subject)
                .bind(&ticket.description)
                .bind(ticket.status.as_str())
                .bind(ticket.priority.map(TicketPriority::as_str))
                .bind(ticket.ticket_type.map(TicketType::as_str))
                .bind(ticket.requester_id.0)
                .bind(ticket.submitter_id.0)
                .bind(ticket.assignee_id.map(|u| u.0))
                .bind(ticket.group_id.map(|g| g.0))
                .bind(ticket.organization_id.map(|o| o.0))
                .bind(&tags)
                .bind(&custom_fields)
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(write_error("the ticket already exists"))?;
                let id = TicketId(id);
                Self::sync_tags(&mut tx, account, id, &[], &ticket.tags).await?;
                let comment_id = Self::insert_comment(&mut tx, account, id, first_comment, at).await?;
                let mut all_events = events.to_vec();
                all_events.push(AuditEvent::Comment { comment_id, public: first_comment.public });
                Self::insert_audit(&mut tx, account, id, first_comment.author_id, &all_events, at).await?;
                tx.commit().await?;
                Ok(Ticket {
                    id,
                    account_id: account,
                    subject: ticket.subject.clone(),
                    description: ticket.description.clone(),
                    status: ticket.status,
                    priority: ticket.priority,
                    ticket_type: ticket.ticket_type,
                    requester_id: ticket.requester_id,
                    submitter_id: ticket.submitter_id,
                    assignee_id: ticket.assignee_id,
                    group_id: ticket.group_id,
                    organization_id: ticket.organization_id,
                    tags: ticket.tags.clone(),
                    custom_fields: ticket.custom_fields.clone(),
                    created_at: at,
                    updated_at: at,
                    revision: 1,
                })
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, ticket = %id))]
            async fn get_ticket(&self, account: AccountId, id: TicketId) -> StoreResult<Ticket> {
                let row: Option<TicketRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    ticket_cols!(),
                    " FROM tickets WHERE account_id = $1 AND id = $2"
                ))
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.read)
                .await?;
                row.ok_or(StoreError::NotFound)?.try_into()
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, count = ids.len()))]
            async fn get_tickets(&self, account: AccountId, ids: &[TicketId]) -> StoreResult<Vec<Ticket>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE account_id = "));
                qb.push_bind(account.0).push(" AND ");
                Self::push_in(&mut qb, "id", ids.iter().map(|id| id.0));
                qb.push(" ORDER BY id");
                let rows: Vec<TicketRow> = qb.build_query_as().fetch_all(&self.read).await?;
                collect(rows)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn list_tickets(
                &self,
                account: AccountId,
                filter: &TicketFilter,
                sort: TicketSort,
                descending: bool,
                page: Page,
            ) -> StoreResult<Listing<Ticket>> {
                let total = match page {
                    Page::Offset { .. } => {
                        let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*)");
                        Self::push_ticket_filter(&mut qb, account, filter);
                        let n: i64 = qb.build_query_scalar().fetch_one(&self.read).await?;
                        Some(n as u64)
                    }
                    Page::Cursor { .. } => None,
                };
                let order = match sort {
                    TicketSort::Id => "id".to_owned(),
                    TicketSort::CreatedAt => "created_at".to_owned(),
                    TicketSort::UpdatedAt => "updated_at".to_owned(),
                    TicketSort::Status => enum_order("status", TicketStatus::ALL.iter().map(|s| s.as_str())),
                    TicketSort::Priority => enum_order("priority", TicketPriority::ALL.iter().map(|p| p.as_str())),
                    TicketSort::TicketType => enum_order("ticket_type", TicketType::ALL.iter().map(|t| t.as_str())),
                    TicketSort::Subject => concat!("LOWER(subject)", $collate).to_owned(),
                };
                let mut qb = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", ticket_cols!()));
                Self::push_ticket_filter(&mut qb, account, filter);
                Self::push_page(&mut qb, &order, descending, page);
                let rows: Vec<TicketRow> = qb.build_query_as().fetch_all(&self.read).await?;
                Ok(listing(collect(rows)?, page, total))
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, ticket = %write.ticket.id))]
            async fn update_ticket(&self, account: AccountId, write: TicketWrite<'_>) -> StoreResult<Ticket> {
                let ticket = write.ticket;
                if write.events.is_empty() && write.comment.is_none() {
                    // Nothing changed: no audit, and revision and updated_at stay
                    // as they are so clients polling for changes see none.
                    return self.get_ticket(account, ticket.id).await;
                }
                let at = now();
                let tags = to_json(&ticket.tags);
                let mut tx = self.begin_write().await?;
                // Read the current tags (to sync ticket_tags only when they
                // change) and tell a missing ticket from a stale one.
                let current: Option<(i64, String)> =
                    sqlx::query_as("SELECT revision, tags FROM tickets WHERE account_id = $1 AND id = $2")
                        .bind(account.0)
                        .bind(ticket.id.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                let (revision, old_tags) = current.ok_or(StoreError::NotFound)?;
                if revision != ticket.revision {
                    return Err(StoreError::StaleRevision);
                }
                // The revision guard in the WHERE clause is what protects
                // concurrent writers on PostgreSQL, where the read above does
                // not lock the row.
                let done = sqlx::query(
                    "UPDATE tickets SET subject = $1, description = $2, status = $3, priority = $4, ticket_type = $5, \
                     requester_id = $6, submitter_id = $7, assignee_id = $8, group_id = $9, organization_id = $10, \
                     tags = $11, custom_fields = $12, updated_at = $13, revision = revision + 1 \
                     WHERE account_id = $14 AND id = $15 AND revision = $16",
                )
                .bind(&ticket.subject)
                .bind(&ticket.description)
                .bind(ticket.status.as_str())
                .bind(ticket.priority.map(TicketPriority::as_str))
                .bind(ticket.ticket_type.map(TicketType::as_str))
                .bind(ticket.requester_id.0)
                .bind(ticket.submitter_id.0)
                .bind(ticket.assignee_id.map(|u| u.0))
                .bind(ticket.group_id.map(|g| g.0))
                .bind(ticket.organization_id.map(|o| o.0))
                .bind(&tags)
                .bind(to_json(&ticket.custom_fields))
                .bind(at)
                .bind(account.0)
                .bind(ticket.id.0)
                .bind(ticket.revision)
                .execute(&mut *tx)
                .await
                .map_err(write_error("the ticket could not be updated"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::StaleRevision);
                }
                if old_tags != tags {
                    let old: Vec<String> = from_json(&old_tags, "ticket tags")?;
                    Self::sync_tags(&mut tx, account, ticket.id, &old, &ticket.tags).await?;
                }
                let mut events = write.events.to_vec();
                if let Some(comment) = write.comment {
                    let comment_id = Self::insert_comment(&mut tx, account, ticket.id, comment, at).await?;
                    events.push(AuditEvent::Comment { comment_id, public: comment.public });
                }
                Self::insert_audit(&mut tx, account, ticket.id, write.author_id, &events, at).await?;
                tx.commit().await?;
                Ok(Ticket { updated_at: at, revision: ticket.revision + 1, account_id: account, ..ticket.clone() })
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, ticket = %id))]
            async fn delete_ticket(&self, account: AccountId, id: TicketId) -> StoreResult<()> {
                // Comments, audits and tag rows go with it (ON DELETE CASCADE).
                let done = sqlx::query("DELETE FROM tickets WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, ticket = %ticket))]
            async fn list_comments(&self, account: AccountId, ticket: TicketId) -> StoreResult<Vec<Comment>> {
                self.ensure_ticket(account, ticket).await?;
                let rows: Vec<CommentRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    comment_cols!(),
                    " FROM comments WHERE account_id = $1 AND ticket_id = $2 ORDER BY id"
                ))
                .bind(account.0)
                .bind(ticket.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(Comment::from).collect())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account, ticket = %ticket))]
            async fn list_audits(&self, account: AccountId, ticket: TicketId) -> StoreResult<Vec<Audit>> {
                self.ensure_ticket(account, ticket).await?;
                let rows: Vec<AuditRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    audit_cols!(),
                    " FROM audits WHERE account_id = $1 AND ticket_id = $2 ORDER BY id"
                ))
                .bind(account.0)
                .bind(ticket.0)
                .fetch_all(&self.read)
                .await?;
                collect(rows)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
            async fn ticket_tag_counts(&self, account: AccountId, limit: u32) -> StoreResult<Vec<(String, u64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(concat!(
                    "SELECT tag, COUNT(*) AS n FROM ticket_tags WHERE account_id = $1 \
                     GROUP BY tag ORDER BY n DESC, tag",
                    $collate,
                    " LIMIT $2"
                ))
                .bind(account.0)
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(|(tag, n)| (tag, n as u64)).collect())
            }
        }

        impl $name {
            /// `NotFound` unless the ticket exists in the account, so listing
            /// the comments of another account's ticket is not an empty list.
            async fn ensure_ticket(&self, account: AccountId, ticket: TicketId) -> StoreResult<()> {
                let found: Option<i64> = sqlx::query_scalar("SELECT id FROM tickets WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(ticket.0)
                    .fetch_optional(&self.read)
                    .await?;
                found.map(|_| ()).ok_or(StoreError::NotFound)
            }
        }
    };
}

impl_store!(
    SqliteStore,
    sqlx::Sqlite,
    Engine::Sqlite,
    SQLITE_MIGRATOR,
    "",
    "BEGIN IMMEDIATE",
    push_glob_match
);
impl_store!(
    PgStore,
    sqlx::Postgres,
    Engine::Postgres,
    POSTGRES_MIGRATOR,
    " COLLATE \"C\"",
    "BEGIN",
    push_like_match
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_escape(r"50%_off\"), r"50\%\_off\\");
        assert_eq!(
            Shape::Contains.wrap(&like_escape("refund"), '%'),
            "%refund%"
        );
        assert_eq!(glob_body("École*"), "[Éé][cC][oO][lL][eE][*]");
        assert_eq!(glob_body("straße 1?"), "[sS][tT][rR][aA]ß[eE] 1[?]");
    }

    #[test]
    fn duplicate_option_values_are_refused() {
        let opts = vec![
            ("A".to_owned(), "a".to_owned()),
            ("B".to_owned(), "a".to_owned()),
        ];
        assert!(matches!(check_options(&opts), Err(StoreError::Conflict(_))));
    }

    #[test]
    fn removes_one_custom_field_value() {
        let json = r#"[{"id":1,"value":"x"},{"id":12,"value":2}]"#;
        let out = without_field(json, TicketFieldId(1)).unwrap().unwrap();
        assert_eq!(out, r#"[{"id":12,"value":2}]"#);
        assert_eq!(without_field(&out, TicketFieldId(1)).unwrap(), None);
    }
}
