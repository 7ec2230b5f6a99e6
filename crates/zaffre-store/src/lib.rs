//! zaffre's storage.
//!
//! [`Store`] is the one seam between the server and a database: async methods
//! over domain types, every one scoped by [`AccountId`] so that no query can
//! reach another tenant's rows. [`connect`] picks the engine from the URL
//! (`sqlite://…` or `postgres://…`), runs the embedded migrations and returns
//! the store behind an `Arc<dyn Store>`.
//!
//! Both engines share one implementation (`sql.rs`): the SQL is written once in
//! the subset both understand (`$1` placeholders, `RETURNING`, `ON CONFLICT`),
//! and instantiated per engine by a macro. Each engine keeps its own migrations
//! because DDL is where they genuinely differ.

use std::sync::Arc;

use async_trait::async_trait;
use zaffre_domain::search::{Page, TicketFilter, TicketSort, UserFilter};
use zaffre_domain::ticket::NewTicket;
use zaffre_domain::*;

pub mod apps;
pub mod audit;
mod connect;
mod sql;

pub use apps::AppStore;
pub use audit::{AuditStore, NewProxyAudit, ProxyAuditEntry, ProxyAuditFilter, BATCH_ROWS};

pub use connect::{connect, migrate, DatabaseUrl, Engine};

/// What can go wrong in storage, named for what the caller must do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row in this account.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e.g. a user email already taken); the text names it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row changed since it was read; re-read and retry.
    #[error("the record was changed by someone else")]
    StaleRevision,
    /// The URL given does not name a supported database.
    #[error("{0}")]
    BadUrl(String),
    /// Anything else: the database is unreachable, a query failed, a migration failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// A list of rows and, for offset pages, how many rows the filter matches in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// The rows of this page, in the requested order.
    pub items: Vec<T>,
    /// Set for offset pages; `None` for cursor pages.
    pub total: Option<u64>,
    /// For cursor pages: whether more rows follow the last one returned.
    pub has_more: bool,
}

/// Credentials looked up for an email, for password login.
///
/// `Debug` hides the hash, so a login can be logged without it.
#[derive(Clone, PartialEq)]
pub struct PasswordLogin {
    pub user: User,
    /// The argon2id PHC string; `None` when the user has no password.
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for PasswordLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordLogin")
            .field("user", &self.user)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A change to a ticket as the store records it: the new state (whose
/// `revision` is the revision it was computed from), the audit events, and an
/// optional comment, written in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketWrite<'a> {
    pub ticket: &'a Ticket,
    pub author_id: UserId,
    pub events: &'a [AuditEvent],
    pub comment: Option<&'a NewComment>,
}

/// The storage seam. Implementations must be cheap to clone behind an `Arc`
/// and safe to share between request handlers.
///
/// Apps and installations are a separate group of methods, [`AppStore`], a
/// supertrait: every `Store` is an `AppStore`, so a `DynStore` reaches both.
/// The egress proxy's audit log, [`AuditStore`], is another such group.
#[async_trait]
pub trait Store: AppStore + AuditStore + Send + Sync + 'static {
    /// Which engine this is, for logs and `/healthz`.
    fn engine(&self) -> Engine;
    /// A trivial round trip to the database.
    async fn ping(&self) -> StoreResult<()>;

    // --- accounts ---
    async fn create_account(&self, subdomain: &str, name: &str) -> StoreResult<Account>;
    async fn get_account(&self, id: AccountId) -> StoreResult<Account>;
    async fn get_account_by_subdomain(&self, subdomain: &str) -> StoreResult<Account>;
    /// The oldest account: single-tenant installations have exactly one.
    async fn default_account(&self) -> StoreResult<Option<Account>>;

    // --- users and credentials ---
    async fn create_user(&self, account: AccountId, user: &NewUser) -> StoreResult<User>;
    async fn get_user(&self, account: AccountId, id: UserId) -> StoreResult<User>;
    async fn get_users(&self, account: AccountId, ids: &[UserId]) -> StoreResult<Vec<User>>;
    async fn get_user_by_email(&self, account: AccountId, email: &str) -> StoreResult<User>;
    async fn list_users(
        &self,
        account: AccountId,
        filter: &UserFilter,
        page: Page,
    ) -> StoreResult<Listing<User>>;
    async fn update_user(
        &self,
        account: AccountId,
        id: UserId,
        patch: &UserPatch,
    ) -> StoreResult<User>;
    async fn set_password_hash(
        &self,
        account: AccountId,
        id: UserId,
        hash: &str,
    ) -> StoreResult<()>;
    /// The user with this email (any case) and their password hash. Inactive
    /// users are returned too: the caller refuses them like a wrong password.
    async fn password_login(&self, account: AccountId, email: &str) -> StoreResult<PasswordLogin>;
    async fn count_users(&self, account: AccountId) -> StoreResult<u64>;

    /// Stores an API token by its SHA-256 hex digest.
    async fn create_api_token(
        &self,
        account: AccountId,
        user: UserId,
        token_sha256: &str,
        description: &str,
    ) -> StoreResult<ApiToken>;
    /// The active user owning the token with this digest, in this account.
    async fn user_for_api_token(&self, account: AccountId, token_sha256: &str)
        -> StoreResult<User>;

    /// Stores a session by the SHA-256 hex digest of its cookie value.
    async fn create_session(&self, session_sha256: &str, session: &Session) -> StoreResult<()>;
    /// The unexpired session with this digest and its active user.
    async fn get_session(&self, session_sha256: &str) -> StoreResult<(Session, User)>;
    async fn delete_session(&self, session_sha256: &str) -> StoreResult<()>;
    /// Removes expired sessions; returns how many.
    async fn purge_expired_sessions(&self) -> StoreResult<u64>;

    // --- organizations and groups ---
    async fn create_organization(
        &self,
        account: AccountId,
        org: &NewOrganization,
    ) -> StoreResult<Organization>;
    async fn get_organization(
        &self,
        account: AccountId,
        id: OrganizationId,
    ) -> StoreResult<Organization>;
    async fn list_organizations(
        &self,
        account: AccountId,
        text: &[String],
        page: Page,
    ) -> StoreResult<Listing<Organization>>;
    async fn update_organization(
        &self,
        account: AccountId,
        id: OrganizationId,
        patch: &OrganizationPatch,
    ) -> StoreResult<Organization>;
    async fn delete_organization(&self, account: AccountId, id: OrganizationId) -> StoreResult<()>;

    async fn create_group(&self, account: AccountId, group: &NewGroup) -> StoreResult<Group>;
    async fn get_group(&self, account: AccountId, id: GroupId) -> StoreResult<Group>;
    async fn list_groups(&self, account: AccountId) -> StoreResult<Vec<Group>>;

    // --- ticket fields ---
    /// Creates the seven system fields of a new account; idempotent.
    async fn ensure_system_fields(&self, account: AccountId) -> StoreResult<()>;
    async fn create_ticket_field(
        &self,
        account: AccountId,
        field: &NewTicketField,
    ) -> StoreResult<TicketField>;
    async fn get_ticket_field(
        &self,
        account: AccountId,
        id: TicketFieldId,
    ) -> StoreResult<TicketField>;
    /// Every field of the account, ordered by position then id.
    async fn list_ticket_fields(&self, account: AccountId) -> StoreResult<Vec<TicketField>>;
    async fn update_ticket_field(
        &self,
        account: AccountId,
        id: TicketFieldId,
        patch: &TicketFieldPatch,
    ) -> StoreResult<TicketField>;
    /// Deletes a custom field (system fields are refused by the server) and its values on tickets.
    async fn delete_ticket_field(&self, account: AccountId, id: TicketFieldId) -> StoreResult<()>;

    // --- tickets ---
    /// Inserts a ticket, its first comment and its creation audit in one transaction.
    async fn create_ticket(
        &self,
        account: AccountId,
        ticket: &NewTicket,
        first_comment: &NewComment,
        events: &[AuditEvent],
    ) -> StoreResult<Ticket>;
    async fn get_ticket(&self, account: AccountId, id: TicketId) -> StoreResult<Ticket>;
    /// The tickets among `ids` that exist in the account, in id order.
    async fn get_tickets(&self, account: AccountId, ids: &[TicketId]) -> StoreResult<Vec<Ticket>>;
    async fn list_tickets(
        &self,
        account: AccountId,
        filter: &TicketFilter,
        sort: TicketSort,
        descending: bool,
        page: Page,
    ) -> StoreResult<Listing<Ticket>>;
    /// Writes an update computed from `write.ticket.revision`; fails with
    /// [`StoreError::StaleRevision`] if the ticket changed since. Returns the
    /// stored ticket with its new revision and `updated_at`.
    async fn update_ticket(
        &self,
        account: AccountId,
        write: TicketWrite<'_>,
    ) -> StoreResult<Ticket>;
    /// Deletes a ticket with its comments and audits.
    async fn delete_ticket(&self, account: AccountId, id: TicketId) -> StoreResult<()>;
    /// Comments of a ticket, oldest first.
    async fn list_comments(
        &self,
        account: AccountId,
        ticket: TicketId,
    ) -> StoreResult<Vec<Comment>>;
    /// Audits of a ticket, oldest first.
    async fn list_audits(&self, account: AccountId, ticket: TicketId) -> StoreResult<Vec<Audit>>;
    /// Every distinct tag on the account's tickets with how many tickets carry it, most used first.
    async fn ticket_tag_counts(
        &self,
        account: AccountId,
        limit: u32,
    ) -> StoreResult<Vec<(String, u64)>>;
}

/// A shared handle to whichever store was configured.
pub type DynStore = Arc<dyn Store>;
