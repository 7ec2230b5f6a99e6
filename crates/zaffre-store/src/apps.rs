//! Storage for apps: uploaded packages, apps with their files, installations
//! with their (encrypted) secret settings and requirements, and job statuses.
//!
//! [`AppStore`] is a trait of its own, grouped apart from the helpdesk's
//! [`Store`](crate::Store) methods, and a supertrait of it: the server keeps
//! holding one `Arc<dyn Store>` and calls these methods on it directly.
//! `impl_app_store!` instantiates the one SQL implementation for both engines,
//! as `sql.rs` does for the rest.
//!
//! The store never sees a secret in plain text: secure settings arrive as
//! [`SealedSecret`]s. Creating an installation takes a sealing callback
//! because the ciphertext is bound to the installation's id, which the
//! database assigns inside the same transaction.
//!
//! Every query filters on `account_id`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use zaffre_domain::apps::{
    App, Installation, InstallationPatch, InstalledRequirement, JobState, JobStatus, NewApp,
    NewInstallation, RequiredTicketField, SealedSecret,
};
use zaffre_domain::{AccountId, AppId, InstallationId, JobId, UploadId};

use crate::sql::{from_json, now, to_json, write_error, PgStore, SqliteStore};
use crate::{StoreError, StoreResult};

/// Seals an installation's secrets once its id is known (see the module docs).
pub type Sealer<'a> = &'a (dyn Fn(InstallationId) -> StoreResult<Vec<SealedSecret>> + Send + Sync);

/// Apps, installations and their secrets; every method scoped by account.
#[async_trait]
pub trait AppStore: Send + Sync {
    // --- uploads ---
    /// Keeps an uploaded (already validated) package until an app is made from it.
    async fn create_upload(&self, account: AccountId, bytes: &[u8]) -> StoreResult<UploadId>;
    async fn get_upload(&self, account: AccountId, id: UploadId) -> StoreResult<Vec<u8>>;
    async fn delete_upload(&self, account: AccountId, id: UploadId) -> StoreResult<()>;

    // --- apps ---
    /// Inserts an app and all its files in one transaction.
    async fn create_app(&self, account: AccountId, app: &NewApp) -> StoreResult<App>;
    /// A new version: replaces the app's fields and all its files in one
    /// transaction. Installations and their settings stay.
    async fn update_app(&self, account: AccountId, id: AppId, app: &NewApp) -> StoreResult<App>;
    async fn get_app(&self, account: AccountId, id: AppId) -> StoreResult<App>;
    /// Every app of the account, in id order.
    async fn list_apps(&self, account: AccountId) -> StoreResult<Vec<App>>;
    /// Deletes an app with its files and installations (and their secrets).
    async fn delete_app(&self, account: AccountId, id: AppId) -> StoreResult<()>;
    /// One file of an app's package, by its path in the package (`assets/iframe.html`).
    async fn get_app_file(
        &self,
        account: AccountId,
        app: AppId,
        path: &str,
    ) -> StoreResult<Vec<u8>>;
    /// The paths of an app's files with their sizes, sorted by path.
    async fn list_app_files(
        &self,
        account: AccountId,
        app: AppId,
    ) -> StoreResult<Vec<(String, u64)>>;

    // --- installations ---
    /// Creates an installation, the ticket fields its requirements ask for
    /// (recorded for removal) and its sealed secrets, in one transaction.
    /// With `new.single_install`, refuses ([`StoreError::Conflict`]) when the
    /// app already has an installation.
    async fn create_installation(
        &self,
        account: AccountId,
        new: &NewInstallation,
        fields: &[RequiredTicketField],
        seal: Sealer<'_>,
    ) -> StoreResult<Installation>;
    async fn get_installation(
        &self,
        account: AccountId,
        id: InstallationId,
    ) -> StoreResult<Installation>;
    /// Installations of the account (of one app when given), in id order.
    async fn list_installations(
        &self,
        account: AccountId,
        app: Option<AppId>,
    ) -> StoreResult<Vec<Installation>>;
    async fn update_installation(
        &self,
        account: AccountId,
        id: InstallationId,
        patch: &InstallationPatch,
    ) -> StoreResult<Installation>;
    /// Deletes an installation with its secrets and requirement records (the
    /// caller removes the ticket fields those name first).
    async fn delete_installation(&self, account: AccountId, id: InstallationId) -> StoreResult<()>;
    /// The sealed secrets of an installation, by name.
    async fn get_installation_secrets(
        &self,
        account: AccountId,
        id: InstallationId,
    ) -> StoreResult<Vec<SealedSecret>>;
    /// What the installation's requirements made.
    async fn list_installation_requirements(
        &self,
        account: AccountId,
        id: InstallationId,
    ) -> StoreResult<Vec<InstalledRequirement>>;

    // --- jobs ---
    async fn create_job_status(
        &self,
        account: AccountId,
        status: JobState,
        message: &str,
        app: Option<AppId>,
        upload: Option<UploadId>,
    ) -> StoreResult<JobStatus>;
    async fn get_job_status(&self, account: AccountId, id: JobId) -> StoreResult<JobStatus>;
}

macro_rules! app_cols {
    () => {
        "id, account_id, name, short_description, version, author_name, author_email, author_url, \
         manifest, private, single_install, created_at, updated_at"
    };
}
macro_rules! installation_cols {
    () => {
        "id, account_id, app_id, enabled, settings, created_at, updated_at"
    };
}
macro_rules! job_cols {
    () => {
        "id, account_id, status, message, app_id, upload_id, created_at"
    };
}

#[derive(sqlx::FromRow)]
struct AppRow {
    id: i64,
    account_id: i64,
    name: String,
    short_description: String,
    version: Option<String>,
    author_name: Option<String>,
    author_email: Option<String>,
    author_url: Option<String>,
    manifest: String,
    private: bool,
    single_install: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<AppRow> for App {
    fn from(r: AppRow) -> Self {
        App {
            id: AppId(r.id),
            account_id: AccountId(r.account_id),
            name: r.name,
            short_description: r.short_description,
            version: r.version,
            author_name: r.author_name,
            author_email: r.author_email,
            author_url: r.author_url,
            manifest: r.manifest,
            private: r.private,
            single_install: r.single_install,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct InstallationRow {
    id: i64,
    account_id: i64,
    app_id: i64,
    enabled: bool,
    settings: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl InstallationRow {
    fn into_installation(self, secrets_set: Vec<String>) -> StoreResult<Installation> {
        let settings: Map<String, Value> = from_json(&self.settings, "installation settings")?;
        Ok(Installation {
            id: InstallationId(self.id),
            account_id: AccountId(self.account_id),
            app_id: AppId(self.app_id),
            enabled: self.enabled,
            settings,
            secrets_set,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    account_id: i64,
    status: String,
    message: String,
    app_id: Option<i64>,
    upload_id: Option<i64>,
    created_at: DateTime<Utc>,
}

impl TryFrom<JobRow> for JobStatus {
    type Error = StoreError;
    fn try_from(r: JobRow) -> StoreResult<Self> {
        let status = match r.status.as_str() {
            "completed" => JobState::Completed,
            "failed" => JobState::Failed,
            other => return Err(crate::sql::corrupt("job status", other)),
        };
        Ok(JobStatus {
            id: JobId(r.id),
            account_id: AccountId(r.account_id),
            status,
            message: r.message,
            app_id: r.app_id.map(AppId),
            upload_id: r.upload_id.map(UploadId),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SecretRow {
    name: String,
    key_id: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct RequirementRow {
    installation_id: i64,
    identifier: String,
    requirement_type: String,
    requirement_id: i64,
    created_at: DateTime<Utc>,
}

/// Groups `(installation_id, name)` rows into each installation's sorted names.
fn secret_names(rows: Vec<(i64, String)>, id: i64) -> Vec<String> {
    let mut names: Vec<String> = rows
        .into_iter()
        .filter(|(i, _)| *i == id)
        .map(|(_, n)| n)
        .collect();
    names.sort();
    names
}

macro_rules! impl_app_store {
    ($name:ident, $db:ty) => {
        impl $name {
            async fn insert_files(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                app: AppId,
                files: &[(String, Vec<u8>)],
            ) -> StoreResult<()> {
                for (path, bytes) in files {
                    sqlx::query(
                        "INSERT INTO app_files (account_id, app_id, path, bytes) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(account.0)
                    .bind(app.0)
                    .bind(path)
                    .bind(bytes)
                    .execute(&mut **tx)
                    .await
                    .map_err(write_error("a file appears twice in the package"))?;
                }
                Ok(())
            }

            async fn secrets_of(
                exec: impl sqlx::Executor<'_, Database = $db>,
                account: AccountId,
                installation: Option<InstallationId>,
            ) -> StoreResult<Vec<(i64, String)>> {
                Ok(match installation {
                    Some(id) => {
                        sqlx::query_as(
                            "SELECT installation_id, name FROM installation_secrets \
                             WHERE account_id = $1 AND installation_id = $2",
                        )
                        .bind(account.0)
                        .bind(id.0)
                        .fetch_all(exec)
                        .await?
                    }
                    None => {
                        sqlx::query_as(
                            "SELECT installation_id, name FROM installation_secrets WHERE account_id = $1",
                        )
                        .bind(account.0)
                        .fetch_all(exec)
                        .await?
                    }
                })
            }

            async fn installation_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                id: InstallationId,
            ) -> StoreResult<Installation> {
                let row: InstallationRow = sqlx::query_as(concat!(
                    "SELECT ",
                    installation_cols!(),
                    " FROM installations WHERE account_id = $1 AND id = $2"
                ))
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let names = Self::secrets_of(&mut **tx, account, Some(id)).await?;
                row.into_installation(secret_names(names, id.0))
            }

            async fn upsert_secrets(
                tx: &mut sqlx::Transaction<'_, $db>,
                account: AccountId,
                id: InstallationId,
                secrets: &[SealedSecret],
            ) -> StoreResult<()> {
                for s in secrets {
                    sqlx::query(
                        "INSERT INTO installation_secrets (account_id, installation_id, name, key_id, nonce, ciphertext) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (installation_id, name) DO UPDATE SET \
                         key_id = excluded.key_id, nonce = excluded.nonce, ciphertext = excluded.ciphertext",
                    )
                    .bind(account.0)
                    .bind(id.0)
                    .bind(&s.name)
                    .bind(&s.key_id)
                    .bind(&s.nonce)
                    .bind(&s.ciphertext)
                    .execute(&mut **tx)
                    .await
                    .map_err(write_error("the secure setting already exists"))?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl AppStore for $name {
            async fn create_upload(&self, account: AccountId, bytes: &[u8]) -> StoreResult<UploadId> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO app_uploads (account_id, bytes, created_at) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(account.0)
                .bind(bytes)
                .bind(now())
                .fetch_one(&self.write)
                .await
                .map_err(write_error("the upload already exists"))?;
                Ok(UploadId(id))
            }

            async fn get_upload(&self, account: AccountId, id: UploadId) -> StoreResult<Vec<u8>> {
                sqlx::query_scalar("SELECT bytes FROM app_uploads WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound)
            }

            async fn delete_upload(&self, account: AccountId, id: UploadId) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM app_uploads WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn create_app(&self, account: AccountId, app: &NewApp) -> StoreResult<App> {
                let at = now();
                let mut tx = self.begin_write().await?;
                let row: AppRow = sqlx::query_as(concat!(
                    "INSERT INTO apps (account_id, name, short_description, version, author_name, author_email, \
                     author_url, manifest, private, single_install, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING ",
                    app_cols!()
                ))
                .bind(account.0)
                .bind(&app.name)
                .bind(&app.short_description)
                .bind(&app.version)
                .bind(&app.author_name)
                .bind(&app.author_email)
                .bind(&app.author_url)
                .bind(&app.manifest)
                .bind(app.private)
                .bind(app.single_install)
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(write_error("the app already exists"))?;
                Self::insert_files(&mut tx, account, AppId(row.id), &app.files).await?;
                tx.commit().await?;
                Ok(row.into())
            }

            async fn update_app(&self, account: AccountId, id: AppId, app: &NewApp) -> StoreResult<App> {
                let mut tx = self.begin_write().await?;
                let row: AppRow = sqlx::query_as(concat!(
                    "UPDATE apps SET name = $3, short_description = $4, version = $5, author_name = $6, \
                     author_email = $7, author_url = $8, manifest = $9, private = $10, single_install = $11, \
                     updated_at = $12 WHERE account_id = $1 AND id = $2 RETURNING ",
                    app_cols!()
                ))
                .bind(account.0)
                .bind(id.0)
                .bind(&app.name)
                .bind(&app.short_description)
                .bind(&app.version)
                .bind(&app.author_name)
                .bind(&app.author_email)
                .bind(&app.author_url)
                .bind(&app.manifest)
                .bind(app.private)
                .bind(app.single_install)
                .bind(now())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                sqlx::query("DELETE FROM app_files WHERE account_id = $1 AND app_id = $2")
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                Self::insert_files(&mut tx, account, id, &app.files).await?;
                tx.commit().await?;
                Ok(row.into())
            }

            async fn get_app(&self, account: AccountId, id: AppId) -> StoreResult<App> {
                let row: AppRow = sqlx::query_as(concat!(
                    "SELECT ",
                    app_cols!(),
                    " FROM apps WHERE account_id = $1 AND id = $2"
                ))
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound)?;
                Ok(row.into())
            }

            async fn list_apps(&self, account: AccountId) -> StoreResult<Vec<App>> {
                let rows: Vec<AppRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    app_cols!(),
                    " FROM apps WHERE account_id = $1 ORDER BY id"
                ))
                .bind(account.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(App::from).collect())
            }

            async fn delete_app(&self, account: AccountId, id: AppId) -> StoreResult<()> {
                // Children go by ON DELETE CASCADE (files, installations and,
                // through them, secrets and requirement records).
                let done = sqlx::query("DELETE FROM apps WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn get_app_file(&self, account: AccountId, app: AppId, path: &str) -> StoreResult<Vec<u8>> {
                sqlx::query_scalar(
                    "SELECT bytes FROM app_files WHERE account_id = $1 AND app_id = $2 AND path = $3",
                )
                .bind(account.0)
                .bind(app.0)
                .bind(path)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound)
            }

            async fn list_app_files(&self, account: AccountId, app: AppId) -> StoreResult<Vec<(String, u64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT path, CAST(LENGTH(bytes) AS BIGINT) FROM app_files WHERE account_id = $1 AND app_id = $2 ORDER BY path",
                )
                .bind(account.0)
                .bind(app.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(|(p, n)| (p, n.max(0) as u64)).collect())
            }

            async fn create_installation(
                &self,
                account: AccountId,
                new: &NewInstallation,
                fields: &[RequiredTicketField],
                seal: Sealer<'_>,
            ) -> StoreResult<Installation> {
                let at = now();
                let mut tx = self.begin_write().await?;
                // The app must be in this account (the composite foreign key
                // would refuse it too, but NotFound is the clearer answer).
                let app: Option<i64> = sqlx::query_scalar("SELECT id FROM apps WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(new.app_id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                if app.is_none() {
                    return Err(StoreError::NotFound);
                }
                if new.single_install {
                    // Checked inside the write transaction, so two concurrent
                    // installs cannot both pass.
                    let existing: Option<i64> = sqlx::query_scalar(
                        "SELECT id FROM installations WHERE account_id = $1 AND app_id = $2 LIMIT 1",
                    )
                    .bind(account.0)
                    .bind(new.app_id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if existing.is_some() {
                        return Err(StoreError::Conflict(
                            "this app allows a single installation and is already installed".into(),
                        ));
                    }
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO installations (account_id, app_id, enabled, settings, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(account.0)
                .bind(new.app_id.0)
                .bind(new.enabled)
                .bind(to_json(&new.settings))
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(write_error("the installation already exists"))?;
                let id = InstallationId(id);
                let sealed = seal(id)?;
                Self::upsert_secrets(&mut tx, account, id, &sealed).await?;

                if !fields.is_empty() {
                    let mut position: i64 = sqlx::query_scalar(
                        "SELECT COALESCE(MAX(position), 0) FROM ticket_fields WHERE account_id = $1",
                    )
                    .bind(account.0)
                    .fetch_one(&mut *tx)
                    .await?;
                    for required in fields {
                        position += 1;
                        let f = &required.field;
                        let field_id: i64 = sqlx::query_scalar(
                            "INSERT INTO ticket_fields (account_id, field_type, title, description, active, required, \
                             position, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                        )
                        .bind(account.0)
                        .bind(f.field_type.as_str())
                        .bind(&f.title)
                        .bind(&f.description)
                        .bind(f.active)
                        .bind(f.required)
                        .bind(position)
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(write_error("the ticket field already exists"))?;
                        for (i, (name, value)) in f.options.iter().enumerate() {
                            sqlx::query(
                                "INSERT INTO ticket_field_options (account_id, field_id, position, name, value) \
                                 VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(account.0)
                            .bind(field_id)
                            .bind(i as i64)
                            .bind(name)
                            .bind(value)
                            .execute(&mut *tx)
                            .await
                            .map_err(write_error("requirements.json: each option of a ticket field needs its own value"))?;
                        }
                        sqlx::query(
                            "INSERT INTO installation_requirements (account_id, installation_id, identifier, \
                             requirement_type, requirement_id, created_at) VALUES ($1, $2, $3, 'ticket_fields', $4, $5)",
                        )
                        .bind(account.0)
                        .bind(id.0)
                        .bind(&required.identifier)
                        .bind(field_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(write_error("requirements.json names a ticket field twice"))?;
                    }
                }
                let installation = Self::installation_in(&mut tx, account, id).await?;
                tx.commit().await?;
                Ok(installation)
            }

            async fn get_installation(&self, account: AccountId, id: InstallationId) -> StoreResult<Installation> {
                let row: InstallationRow = sqlx::query_as(concat!(
                    "SELECT ",
                    installation_cols!(),
                    " FROM installations WHERE account_id = $1 AND id = $2"
                ))
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound)?;
                let names = Self::secrets_of(&self.read, account, Some(id)).await?;
                row.into_installation(secret_names(names, id.0))
            }

            async fn list_installations(&self, account: AccountId, app: Option<AppId>) -> StoreResult<Vec<Installation>> {
                let rows: Vec<InstallationRow> = match app {
                    Some(app) => sqlx::query_as(concat!(
                        "SELECT ",
                        installation_cols!(),
                        " FROM installations WHERE account_id = $1 AND app_id = $2 ORDER BY id"
                    ))
                    .bind(account.0)
                    .bind(app.0)
                    .fetch_all(&self.read)
                    .await?,
                    None => sqlx::query_as(concat!(
                        "SELECT ",
                        installation_cols!(),
                        " FROM installations WHERE account_id = $1 ORDER BY id"
                    ))
                    .bind(account.0)
                    .fetch_all(&self.read)
                    .await?,
                };
                let names = Self::secrets_of(&self.read, account, None).await?;
                rows.into_iter()
                    .map(|r| {
                        let id = r.id;
                        r.into_installation(secret_names(names.clone(), id))
                    })
                    .collect()
            }

            async fn update_installation(
                &self,
                account: AccountId,
                id: InstallationId,
                patch: &InstallationPatch,
            ) -> StoreResult<Installation> {
                let mut tx = self.begin_write().await?;
                let current = Self::installation_in(&mut tx, account, id).await?;
                let enabled = patch.enabled.unwrap_or(current.enabled);
                let settings = patch.settings.as_ref().unwrap_or(&current.settings);
                sqlx::query(
                    "UPDATE installations SET enabled = $3, settings = $4, updated_at = $5 \
                     WHERE account_id = $1 AND id = $2",
                )
                .bind(account.0)
                .bind(id.0)
                .bind(enabled)
                .bind(to_json(settings))
                .bind(now())
                .execute(&mut *tx)
                .await?;
                for name in &patch.clear_secrets {
                    sqlx::query(
                        "DELETE FROM installation_secrets WHERE account_id = $1 AND installation_id = $2 AND name = $3",
                    )
                    .bind(account.0)
                    .bind(id.0)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                }
                Self::upsert_secrets(&mut tx, account, id, &patch.secrets).await?;
                let updated = Self::installation_in(&mut tx, account, id).await?;
                tx.commit().await?;
                Ok(updated)
            }

            async fn delete_installation(&self, account: AccountId, id: InstallationId) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM installations WHERE account_id = $1 AND id = $2")
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn get_installation_secrets(
                &self,
                account: AccountId,
                id: InstallationId,
            ) -> StoreResult<Vec<SealedSecret>> {
                let rows: Vec<SecretRow> = sqlx::query_as(
                    "SELECT name, key_id, nonce, ciphertext FROM installation_secrets \
                     WHERE account_id = $1 AND installation_id = $2 ORDER BY name",
                )
                .bind(account.0)
                .bind(id.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| SealedSecret {
                        name: r.name,
                        key_id: r.key_id,
                        nonce: r.nonce,
                        ciphertext: r.ciphertext,
                    })
                    .collect())
            }

            async fn list_installation_requirements(
                &self,
                account: AccountId,
                id: InstallationId,
            ) -> StoreResult<Vec<InstalledRequirement>> {
                let rows: Vec<RequirementRow> = sqlx::query_as(
                    "SELECT installation_id, identifier, requirement_type, requirement_id, created_at \
                     FROM installation_requirements WHERE account_id = $1 AND installation_id = $2 \
                     ORDER BY requirement_type, identifier",
                )
                .bind(account.0)
                .bind(id.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| InstalledRequirement {
                        installation_id: InstallationId(r.installation_id),
                        identifier: r.identifier,
                        requirement_type: r.requirement_type,
                        requirement_id: r.requirement_id,
                        created_at: r.created_at,
                    })
                    .collect())
            }

            async fn create_job_status(
                &self,
                account: AccountId,
                status: JobState,
                message: &str,
                app: Option<AppId>,
                upload: Option<UploadId>,
            ) -> StoreResult<JobStatus> {
                let row: JobRow = sqlx::query_as(concat!(
                    "INSERT INTO app_job_statuses (account_id, status, message, app_id, upload_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
                    job_cols!()
                ))
                .bind(account.0)
                .bind(status.as_str())
                .bind(message)
                .bind(app.map(|a| a.0))
                .bind(upload.map(|u| u.0))
                .bind(now())
                .fetch_one(&self.write)
                .await
                .map_err(write_error("the job already exists"))?;
                row.try_into()
            }

            async fn get_job_status(&self, account: AccountId, id: JobId) -> StoreResult<JobStatus> {
                let row: JobRow = sqlx::query_as(concat!(
                    "SELECT ",
                    job_cols!(),
                    " FROM app_job_statuses WHERE account_id = $1 AND id = $2"
                ))
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound)?;
                row.try_into()
            }
        }
    };
}

impl_app_store!(SqliteStore, sqlx::Sqlite);
impl_app_store!(PgStore, sqlx::Postgres);
