//! Storage for the egress proxy's audit log: one row per call an app made
//! through `POST /api/zaffre/installations/{id}/proxy`, refusals included.
//!
//! [`AuditStore`] is a group of methods of its own and a supertrait of
//! [`Store`](crate::Store), like [`AppStore`](crate::AppStore);
//! `impl_audit_store!` instantiates the one SQL implementation for both
//! engines.
//!
//! What a row holds is chosen so that the log can be shown to any admin and
//! exported without care: the path never has its query string, and secure
//! settings appear by name only. The server builds rows from the proxy's own
//! audit record, which masks secure values; this module stores what it is
//! given and adds nothing.
//!
//! Rows name their installation, app and user by id without foreign keys: the
//! log must outlive an uninstall. Every query filters on `account_id`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use zaffre_domain::{AccountId, AppId, InstallationId, ProxyAuditId, UserId};

use crate::sql::{from_json, now, to_json, write_error, PgStore, SqliteStore};
use crate::{Listing, StoreResult};

/// A proxied call to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProxyAudit {
    pub installation_id: InstallationId,
    pub app_id: AppId,
    /// Who made the call (the signed-in agent whose browser ran the app).
    pub user_id: UserId,
    pub method: String,
    pub scheme: String,
    /// Lower-case; empty when the URL could not be parsed.
    pub host: String,
    pub port: u16,
    /// Without the query string.
    pub path: String,
    /// What the app was answered: the upstream's status, or the refusal's.
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// Names of the secure settings interpolated into the request.
    pub secure_settings_used: Vec<String>,
    /// Why the call was refused (by the proxy or a per-installation limit).
    pub refusal: Option<String>,
    /// How many times an upstream 429 was retried.
    pub retries: u32,
}

/// A recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAuditEntry {
    pub id: ProxyAuditId,
    pub account_id: AccountId,
    pub created_at: DateTime<Utc>,
    pub call: NewProxyAudit,
}

/// Which rows to list; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyAuditFilter {
    pub installation_id: Option<InstallationId>,
    pub app_id: Option<AppId>,
    pub user_id: Option<UserId>,
    pub status: Option<u16>,
    /// `Some(true)`: refusals only; `Some(false)`: calls that were made only.
    pub refused: Option<bool>,
    /// Exact host, compared in lower case.
    pub host: Option<String>,
    /// Rows at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Rows strictly before this time.
    pub until: Option<DateTime<Utc>>,
}

/// The audit log; every method scoped by account.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends a row, stamped with the current time.
    async fn record_proxy_call(
        &self,
        account: AccountId,
        call: &NewProxyAudit,
    ) -> StoreResult<ProxyAuditEntry>;

    /// Appends many rows at once, each stamped with the current time, in one
    /// statement per [`BATCH_ROWS`] rows inside one transaction: all of them
    /// are written or none. The server's audit writer batches rows this way
    /// so that a busy proxy costs the database one write per batch, not one
    /// per call. Rows keep their order (ids increase along `calls`).
    async fn record_proxy_calls(&self, calls: &[(AccountId, NewProxyAudit)]) -> StoreResult<()> {
        for (account, call) in calls {
            self.record_proxy_call(*account, call).await?;
        }
        Ok(())
    }

    /// Rows matching `filter`, newest first: at most `limit` rows with ids
    /// below `before` (all when `None`). `has_more` says whether older rows
    /// follow; the next page starts before the last row's id.
    async fn list_proxy_audit(
        &self,
        account: AccountId,
        filter: &ProxyAuditFilter,
        before: Option<ProxyAuditId>,
        limit: u32,
    ) -> StoreResult<Listing<ProxyAuditEntry>>;
}

macro_rules! audit_cols {
    () => {
        "id, account_id, created_at, installation_id, app_id, user_id, method, scheme, host, port, path, \
         status, duration_ms, request_bytes, response_bytes, secure_settings_used, refusal, retries"
    };
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    account_id: i64,
    created_at: DateTime<Utc>,
    installation_id: i64,
    app_id: i64,
    user_id: i64,
    method: String,
    scheme: String,
    host: String,
    port: i32,
    path: String,
    status: Option<i32>,
    duration_ms: i64,
    request_bytes: i64,
    response_bytes: i64,
    secure_settings_used: String,
    refusal: Option<String>,
    retries: i32,
}

impl AuditRow {
    fn into_entry(self) -> StoreResult<ProxyAuditEntry> {
        // The columns are written from u16/u32/u64 values (capped at i64::MAX), so they convert back.
        let unsigned = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(ProxyAuditEntry {
            id: ProxyAuditId(self.id),
            account_id: AccountId(self.account_id),
            created_at: self.created_at,
            call: NewProxyAudit {
                installation_id: InstallationId(self.installation_id),
                app_id: AppId(self.app_id),
                user_id: UserId(self.user_id),
                method: self.method,
                scheme: self.scheme,
                host: self.host,
                port: u16::try_from(self.port).unwrap_or(0),
                path: self.path,
                status: self.status.and_then(|s| u16::try_from(s).ok()),
                duration_ms: unsigned(self.duration_ms),
                request_bytes: unsigned(self.request_bytes),
                response_bytes: unsigned(self.response_bytes),
                secure_settings_used: from_json(
                    &self.secure_settings_used,
                    "audit secure setting names",
                )?,
                refusal: self.refusal,
                retries: u32::try_from(self.retries).unwrap_or(0),
            },
        })
    }
}

/// Most rows in one `INSERT` of [`AuditStore::record_proxy_calls`]: 17
/// parameters a row stays well under SQLite's 32,766 and PostgreSQL's 65,535
/// bound parameters per statement.
pub const BATCH_ROWS: usize = 500;

/// A u64 as the signed column both engines have.
fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

macro_rules! impl_audit_store {
    ($name:ident, $db:ty) => {
        #[async_trait]
        impl AuditStore for $name {
            async fn record_proxy_call(
                &self,
                account: AccountId,
                call: &NewProxyAudit,
            ) -> StoreResult<ProxyAuditEntry> {
                let row: AuditRow = sqlx::query_as(concat!(
                    "INSERT INTO proxy_audit (account_id, created_at, installation_id, app_id, user_id, method, \
                     scheme, host, port, path, status, duration_ms, request_bytes, response_bytes, \
                     secure_settings_used, refusal, retries) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                     RETURNING ",
                    audit_cols!()
                ))
                .bind(account.0)
                .bind(now())
                .bind(call.installation_id.0)
                .bind(call.app_id.0)
                .bind(call.user_id.0)
                .bind(&call.method)
                .bind(&call.scheme)
                .bind(call.host.to_ascii_lowercase())
                .bind(i32::from(call.port))
                .bind(&call.path)
                .bind(call.status.map(i32::from))
                .bind(signed(call.duration_ms))
                .bind(signed(call.request_bytes))
                .bind(signed(call.response_bytes))
                .bind(to_json(&call.secure_settings_used))
                .bind(call.refusal.as_deref())
                .bind(i32::try_from(call.retries).unwrap_or(i32::MAX))
                .fetch_one(&self.write)
                .await
                .map_err(write_error("the audit row already exists"))?;
                row.into_entry()
            }

            async fn record_proxy_calls(
                &self,
                calls: &[(AccountId, NewProxyAudit)],
            ) -> StoreResult<()> {
                if calls.is_empty() {
                    return Ok(());
                }
                let created_at = now();
                let insert = |chunk: &[(AccountId, NewProxyAudit)]| {
                    let mut qb: sqlx::QueryBuilder<'static, $db> = sqlx::QueryBuilder::new(
                        "INSERT INTO proxy_audit (account_id, created_at, installation_id, app_id, user_id, \
                         method, scheme, host, port, path, status, duration_ms, request_bytes, response_bytes, \
                         secure_settings_used, refusal, retries) ",
                    );
                    qb.push_values(chunk, |mut row, (account, call)| {
                        row.push_bind(account.0)
                            .push_bind(created_at)
                            .push_bind(call.installation_id.0)
                            .push_bind(call.app_id.0)
                            .push_bind(call.user_id.0)
                            .push_bind(call.method.clone())
                            .push_bind(call.scheme.clone())
                            .push_bind(call.host.to_ascii_lowercase())
                            .push_bind(i32::from(call.port))
                            .push_bind(call.path.clone())
                            .push_bind(call.status.map(i32::from))
                            .push_bind(signed(call.duration_ms))
                            .push_bind(signed(call.request_bytes))
                            .push_bind(signed(call.response_bytes))
                            .push_bind(to_json(&call.secure_settings_used))
                            .push_bind(call.refusal.clone())
                            .push_bind(i32::try_from(call.retries).unwrap_or(i32::MAX));
                    });
                    qb
                };
                let unique = write_error("an audit row already exists");
                if calls.len() <= BATCH_ROWS {
                    // One statement is atomic by itself: no transaction needed.
                    insert(calls).build().execute(&self.write).await.map_err(unique)?;
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                for chunk in calls.chunks(BATCH_ROWS) {
                    insert(chunk)
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(write_error("an audit row already exists"))?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_proxy_audit(
                &self,
                account: AccountId,
                filter: &ProxyAuditFilter,
                before: Option<ProxyAuditId>,
                limit: u32,
            ) -> StoreResult<Listing<ProxyAuditEntry>> {
                let mut qb: sqlx::QueryBuilder<'_, $db> =
                    sqlx::QueryBuilder::new(concat!("SELECT ", audit_cols!(), " FROM proxy_audit WHERE account_id = "));
                qb.push_bind(account.0);
                if let Some(id) = filter.installation_id {
                    qb.push(" AND installation_id = ").push_bind(id.0);
                }
                if let Some(id) = filter.app_id {
                    qb.push(" AND app_id = ").push_bind(id.0);
                }
                if let Some(id) = filter.user_id {
                    qb.push(" AND user_id = ").push_bind(id.0);
                }
                if let Some(status) = filter.status {
                    qb.push(" AND status = ").push_bind(i32::from(status));
                }
                match filter.refused {
                    Some(true) => {
                        qb.push(" AND refusal IS NOT NULL");
                    }
                    Some(false) => {
                        qb.push(" AND refusal IS NULL");
                    }
                    None => {}
                }
                if let Some(host) = &filter.host {
                    qb.push(" AND host = ").push_bind(host.to_ascii_lowercase());
                }
                if let Some(t) = filter.since {
                    qb.push(" AND created_at >= ").push_bind(t);
                }
                if let Some(t) = filter.until {
                    qb.push(" AND created_at < ").push_bind(t);
                }
                if let Some(id) = before {
                    qb.push(" AND id < ").push_bind(id.0);
                }
                // One extra row says whether another page follows.
                qb.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit) + 1);
                let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(&self.read).await?;
                let mut items = rows
                    .into_iter()
                    .map(AuditRow::into_entry)
                    .collect::<StoreResult<Vec<_>>>()?;
                let has_more = items.len() > limit as usize;
                items.truncate(limit as usize);
                Ok(Listing {
                    items,
                    total: None,
                    has_more,
                })
            }
        }
    };
}

impl_audit_store!(SqliteStore, sqlx::Sqlite);
impl_audit_store!(PgStore, sqlx::Postgres);
