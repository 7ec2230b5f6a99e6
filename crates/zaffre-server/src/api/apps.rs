//! Apps and installations: Zendesk's Apps API under `/api/v2/apps`, plus
//! `/api/zaffre/apps/installed.json` for the workspace's app host.
//!
//! The flow is Zendesk's: upload a zip (`POST /apps/uploads`, multipart
//! `uploaded_data`), create an app from the upload (`POST /apps` → a job id;
//! zaffre does the work before answering, so the job is already
//! `completed`), then install it with settings (`POST /apps/installations`).
//!
//! Rules:
//! - Admins only, except `installed.json` (any staff member; it carries no
//!   secure values).
//! - An upload is validated with `zaffre-manifest`, the same checks as
//!   `zaffre app validate`; a package with errors is a 422 listing every
//!   finding and nothing is stored. Package files are kept in the database.
//! - Settings are checked against the manifest's parameters
//!   ([`zaffre_domain::apps::check_settings`]); secure values are sealed
//!   ([`crate::secrets`]) before they reach the store and are write-only: reads
//!   show `null` and `secure_settings: {name: true|false}`.
//! - `requirements.json` ticket fields are created with the installation (in
//!   the same transaction) and deleted with it.
//! - A rejected write writes nothing: every check runs before the one store
//!   call that writes.
//!
//! Logs name ids and setting names, never values.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use zaffre_domain::apps::{
    check_settings, required_ticket_fields, Existing, InstallationPatch, NewApp, NewInstallation,
};
use zaffre_domain::validation::{ErrorKind, ValidationErrors};
use zaffre_domain::{AppId, InstallationId, JobId, UploadId};
use zaffre_manifest::{Manifest, Package};
use zaffre_store::StoreError;

use crate::api::people::{Admin, Staff};
use crate::api::tickets::IdPath;
use crate::error::{ApiError, ApiResult};
use crate::extract::{read_body, ApiJson};
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// Every apps route, each with and without the `.json` suffix.
pub fn routes() -> Router<AppState> {
    let router = Router::new();
    // The upload reads its own body with `max_upload_bytes`; axum's default
    // limit for multipart would otherwise cut it at 2 MB.
    let router = both(
        router,
        "/api/v2/apps/uploads",
        post(upload_app).layer(DefaultBodyLimit::disable()),
    );
    let router = both(router, "/api/v2/apps", get(list_apps).post(create_app));
    let router = both(router, "/api/v2/apps/owned", get(list_owned_apps));
    let router = router.route("/api/v2/apps/job_statuses/{id}", get(show_job_status));
    let router = both(
        router,
        "/api/v2/apps/installations",
        get(list_installations).post(create_installation),
    );
    let router = router.route(
        "/api/v2/apps/installations/{id}",
        get(show_installation)
            .put(update_installation)
            .delete(delete_installation),
    );
    let router = both(
        router,
        "/api/v2/apps/installations/{id}/requirements",
        get(list_installation_requirements),
    );
    let router = router.route(
        "/api/v2/apps/{id}",
        get(show_app).put(update_app).delete(delete_app),
    );
    both(router, "/api/zaffre/apps/installed", get(list_installed))
}

/// Registers `path` and `path.json`.
fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    router
        .route(&format!("{path}.json"), handler.clone())
        .route(path, handler)
}

/// The typed manifest of a stored app (validated on upload, so it parses).
pub fn manifest_of(app: &zaffre_domain::apps::App) -> Option<Manifest> {
    let parsed = zaffre_manifest::json::parse(&app.manifest).ok()?;
    Manifest::from_json(&parsed.value)
}

// ---------------------------------------------------------------- uploads

/// Reads the `uploaded_data` (or `file`) part of a multipart body, within
/// `max_upload_bytes`.
async fn uploaded_zip(state: &AppState, req: Request) -> ApiResult<Vec<u8>> {
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::BadRequest(
            "InvalidContentType",
            "Upload the package as multipart/form-data with the zip in the uploaded_data field"
                .into(),
        ));
    }
    let (parts, body) = req.into_parts();
    let bytes = read_body(body, state.config.max_upload_bytes).await?;
    let req = Request::from_parts(parts, Body::from(bytes));
    let bad = |_| {
        ApiError::BadRequest(
            "InvalidMultipart",
            "The multipart body could not be read".into(),
        )
    };
    let mut form = Multipart::from_request(req, state).await.map_err(|_| {
        ApiError::BadRequest(
            "InvalidMultipart",
            "The multipart body has no valid boundary".into(),
        )
    })?;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        if matches!(field.name(), Some("uploaded_data" | "file")) {
            return Ok(field.bytes().await.map_err(bad)?.to_vec());
        }
    }
    Err(ApiError::BadRequest(
        "InvalidMultipart",
        "The multipart body has no uploaded_data field".into(),
    ))
}

/// Reads and validates a package; errors become a 422 with every finding.
fn checked_package(bytes: &[u8]) -> ApiResult<(Package, Vec<zaffre_manifest::Finding>)> {
    let package =
        Package::from_zip(bytes).map_err(|e| ApiError::InvalidPackage(vec![e.to_finding()]))?;
    let report = zaffre_manifest::validate(&package);
    if report.has_errors() {
        return Err(ApiError::InvalidPackage(report.findings));
    }
    Ok((package, report.findings))
}

/// `POST /api/v2/apps/uploads.json`: stores a validated package.
#[utoipa::path(
    post,
    path = "/api/v2/apps/uploads.json",
    tag = "Apps",
    description = "Admins only. Multipart form with the zip in `uploaded_data`, at most `max_upload_bytes` \
                   (30 MiB by default). The package is validated like `zaffre app validate`; with errors \
                   it is a 422 `InvalidPackage` listing every finding (`key`, `severity`, `message`, \
                   `file`, `json_path`) and nothing is stored. Answers `{id}` plus the warnings.",
    responses(
        (status = 201, description = "`{id, findings}`: the upload's id and any warnings"),
        (status = 400, description = "Not multipart, or no `uploaded_data`", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 413, description = "Larger than `max_upload_bytes`", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "`{error: InvalidPackage, description, findings}`"),
    )
)]
pub async fn upload_app(
    State(state): State<AppState>,
    Admin(caller): Admin,
    req: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let bytes = uploaded_zip(&state, req).await?;
    let (_, findings) = checked_package(&bytes)?;
    let id = state.store.create_upload(caller.account, &bytes).await?;
    tracing::info!(upload.id = %id, bytes = bytes.len(), by = %caller.user.id, "app package uploaded");
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "findings": findings})),
    ))
}

// ---------------------------------------------------------------- apps

/// A numeric id given as a number or a string of digits.
fn id_value(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

/// An optional string attribute, or a 422 naming it.
fn opt_string(body: &Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= 255 => Ok(Some(s.trim().to_owned())),
        Some(Value::String(_)) => Err(ApiError::Invalid(ValidationErrors::single(
            key,
            ErrorKind::TooLong,
            format!("{key}: is longer than 255 characters"),
        ))),
        Some(_) => Err(ApiError::invalid(key, format!("{key}: must be a string"))),
    }
}

/// The body's object: `{"app": {…}}`/`{"installation": {…}}` or the bare object.
fn body_object<'a>(body: &'a Value, wrapper: &str) -> ApiResult<&'a Map<String, Value>> {
    let obj = body.as_object().ok_or_else(|| {
        ApiError::BadRequest("InvalidJSON", "The body must be a JSON object".into())
    })?;
    match obj.get(wrapper) {
        Some(Value::Object(inner)) => Ok(inner),
        _ => Ok(obj),
    }
}

/// A translation string from the package's default locale file.
fn translation(package: &Package, manifest: &Manifest, key: &str) -> Option<String> {
    let locale = manifest.default_locale.as_deref().unwrap_or("en");
    let bytes = package.files.get(&format!("translations/{locale}.json"))?;
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let leaf = value.get("app")?.get(key)?;
    // A leaf may be Zendesk's `{title, value}` pair.
    leaf.as_str()
        .or_else(|| leaf.get("value").and_then(Value::as_str))
        .map(str::to_owned)
}

/// Builds the app record from a stored upload and the request's attributes.
async fn app_from_upload(
    state: &AppState,
    caller: &crate::auth::Caller,
    body: &Map<String, Value>,
) -> ApiResult<(UploadId, NewApp)> {
    let upload = id_value(body.get("upload_id")).ok_or_else(|| {
        ApiError::Invalid(ValidationErrors::single(
            "upload_id",
            ErrorKind::BlankValue,
            "upload_id: give the id from POST /api/v2/apps/uploads",
        ))
    })?;
    let upload = UploadId(upload);
    let bytes = match state.store.get_upload(caller.account, upload).await {
        Ok(b) => b,
        Err(StoreError::NotFound) => {
            return Err(ApiError::invalid(
                "upload_id",
                format!("upload_id: there is no upload {upload}"),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let (package, _) = checked_package(&bytes)?;
    let name = opt_string(body, "name")?;
    let short_description = opt_string(body, "short_description")?;
    Ok((
        upload,
        new_app_from_package(package, name, short_description)?,
    ))
}

/// The app record for a validated package: `name` and `short_description`
/// default to the manifest's and the default locale's translations. Shared
/// by the Apps API and `zaffre dev` (which installs folders directly).
pub fn new_app_from_package(
    package: Package,
    name: Option<String>,
    short_description: Option<String>,
) -> ApiResult<NewApp> {
    let manifest = package
        .manifest()
        .ok_or_else(|| ApiError::Internal("a validated package has no manifest".into()))?;
    let manifest_text = package
        .manifest_bytes()
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or_else(|| ApiError::Internal("a validated manifest is not UTF-8".into()))?
        .to_owned();
    let name = name
        .filter(|n| !n.is_empty())
        .or_else(|| manifest.name.clone())
        .or_else(|| translation(&package, &manifest, "name"))
        .ok_or_else(|| {
            ApiError::Invalid(ValidationErrors::single(
                "name",
                ErrorKind::BlankValue,
                "name: give the app a name (the manifest has none)",
            ))
        })?;
    let short_description = short_description
        .or_else(|| translation(&package, &manifest, "short_description"))
        .unwrap_or_default();
    let author = manifest.author.clone().unwrap_or_default();
    Ok(NewApp {
        name: name.chars().take(255).collect(),
        short_description: short_description.chars().take(1000).collect(),
        version: manifest.version.clone(),
        author_name: author.name,
        author_email: author.email,
        author_url: author.url,
        manifest: manifest_text,
        private: manifest.private,
        single_install: manifest.single_install,
        files: package.files.into_iter().collect(),
    })
}

/// `POST /api/v2/apps.json`: creates an app from an upload.
#[utoipa::path(
    post,
    path = "/api/v2/apps.json",
    tag = "Apps",
    description = "Admins only. `{upload_id, name?, short_description?}` (name defaults to the manifest's). \
                   The app is created before the answer, so the job is already `completed`; the upload \
                   is consumed.",
    responses(
        (status = 202, description = "`{job_id}`"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "No such upload, or a missing name", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn create_app(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = body_object(&body, "app")?;
    let (upload, new) = app_from_upload(&state, &caller, body).await?;
    let app = state.store.create_app(caller.account, &new).await?;
    // The upload has served its purpose; failing to remove it only leaves clutter.
    if let Err(e) = state.store.delete_upload(caller.account, upload).await {
        tracing::warn!(upload.id = %upload, error = %e, "could not remove a used upload");
    }
    let job = state
        .store
        .create_job_status(
            caller.account,
            zaffre_domain::apps::JobState::Completed,
            "The app was created",
            Some(app.id),
            Some(upload),
        )
        .await?;
    tracing::info!(app.id = %app.id, by = %caller.user.id, "app created");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"job_id": job.id.to_string()})),
    ))
}

/// `PUT /api/v2/apps/{id}.json`: a new version of an app from an upload.
#[utoipa::path(
    put,
    path = "/api/v2/apps/{id}.json",
    tag = "Apps",
    description = "Admins only. `{upload_id, name?, short_description?}`: replaces the app's package; \
                   installations keep their settings.",
    params(("id" = i64, Path, description = "The app's id")),
    responses(
        (status = 202, description = "`{job_id}`"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such app", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "No such upload", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn update_app(
    State(state): State<AppState>,
    Admin(caller): Admin,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = AppId(id);
    state.store.get_app(caller.account, id).await?;
    let body = body_object(&body, "app")?;
    let (upload, new) = app_from_upload(&state, &caller, body).await?;
    let app = state.store.update_app(caller.account, id, &new).await;
    // The proxy's cached contexts hold the manifest (whitelist, scopes).
    state.proxy_contexts.invalidate_account(caller.account);
    let app = app?;
    if let Err(e) = state.store.delete_upload(caller.account, upload).await {
        tracing::warn!(upload.id = %upload, error = %e, "could not remove a used upload");
    }
    let job = state
        .store
        .create_job_status(
            caller.account,
            zaffre_domain::apps::JobState::Completed,
            "The app was updated",
            Some(app.id),
            Some(upload),
        )
        .await?;
    tracing::info!(app.id = %app.id, by = %caller.user.id, "app updated");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"job_id": job.id.to_string()})),
    ))
}

async fn apps_body(
    state: &AppState,
    caller: &crate::auth::Caller,
    base: &BaseUrl,
) -> ApiResult<Value> {
    let apps = state.store.list_apps(caller.account).await?;
    let installations = state.store.list_installations(caller.account, None).await?;
    let mut counts: HashMap<AppId, usize> = HashMap::new();
    for i in &installations {
        *counts.entry(i.app_id).or_default() += 1;
    }
    let rendered: Vec<Value> = apps
        .iter()
        .map(|a| {
            shapes::app(
                base,
                a,
                manifest_of(a).as_ref(),
                counts.get(&a.id).copied().unwrap_or(0),
            )
        })
        .collect();
    Ok(json!({ "apps": rendered }))
}

/// `GET /api/v2/apps.json`: the account's apps.
#[utoipa::path(
    get,
    path = "/api/v2/apps.json",
    tag = "Apps",
    description = "Admins only. Every app of the account, in id order (zaffre has no marketplace).",
    responses(
        (status = 200, description = "`{apps: [App]}`"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_apps(
    State(state): State<AppState>,
    base: BaseUrl,
    Admin(caller): Admin,
) -> ApiResult<Json<Value>> {
    Ok(Json(apps_body(&state, &caller, &base).await?))
}

/// `GET /api/v2/apps/owned.json`: the same list (every app is the account's own).
#[utoipa::path(
    get,
    path = "/api/v2/apps/owned.json",
    tag = "Apps",
    description = "Admins only. The same as `GET /api/v2/apps.json`: every app in zaffre is the account's own.",
    responses(
        (status = 200, description = "`{apps: [App]}`"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_owned_apps(
    State(state): State<AppState>,
    base: BaseUrl,
    Admin(caller): Admin,
) -> ApiResult<Json<Value>> {
    Ok(Json(apps_body(&state, &caller, &base).await?))
}

/// `GET /api/v2/apps/{id}.json`.
#[utoipa::path(
    get,
    path = "/api/v2/apps/{id}.json",
    tag = "Apps",
    description = "Admins only. The App, not wrapped (as Zendesk answers).",
    params(("id" = i64, Path, description = "The app's id")),
    responses(
        (status = 200, description = "The App"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such app", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn show_app(
    State(state): State<AppState>,
    base: BaseUrl,
    Admin(caller): Admin,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    let app = state.store.get_app(caller.account, AppId(id)).await?;
    let count = state
        .store
        .list_installations(caller.account, Some(app.id))
        .await?
        .len();
    Ok(Json(shapes::app(
        &base,
        &app,
        manifest_of(&app).as_ref(),
        count,
    )))
}

/// Deletes the ticket fields an installation's requirements made; a field
/// already gone is fine (so an interrupted uninstall can be retried).
async fn remove_requirements(
    state: &AppState,
    caller: &crate::auth::Caller,
    id: InstallationId,
) -> ApiResult<()> {
    let reqs = state
        .store
        .list_installation_requirements(caller.account, id)
        .await?;
    for field in zaffre_domain::apps::requirement_field_ids(&reqs) {
        let deleted = state.store.delete_ticket_field(caller.account, field).await;
        // Ticket reads on this node stop showing the field at once.
        state.field_cache.invalidate(caller.account);
        match deleted {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `DELETE /api/v2/apps/{id}.json`: the app, its installations and what their requirements made.
#[utoipa::path(
    delete,
    path = "/api/v2/apps/{id}.json",
    tag = "Apps",
    description = "Admins only. Uninstalls every installation (removing requirement ticket fields) and \
                   deletes the app with its files.",
    params(("id" = i64, Path, description = "The app's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such app", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn delete_app(
    State(state): State<AppState>,
    Admin(caller): Admin,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    let id = AppId(id);
    state.store.get_app(caller.account, id).await?;
    for i in state
        .store
        .list_installations(caller.account, Some(id))
        .await?
    {
        remove_requirements(&state, &caller, i.id).await?;
    }
    let deleted = state.store.delete_app(caller.account, id).await;
    state.proxy_contexts.invalidate_account(caller.account);
    deleted?;
    tracing::info!(app.id = %id, by = %caller.user.id, "app deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v2/apps/job_statuses/{id}.json`.
#[utoipa::path(
    get,
    path = "/api/v2/apps/job_statuses/{id}.json",
    tag = "Apps",
    description = "Admins only. `{id, url, status, message, app_id, app_url, total, progress}`, not wrapped.",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job status"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such job", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn show_job_status(
    State(state): State<AppState>,
    base: BaseUrl,
    Admin(caller): Admin,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    let job = state
        .store
        .get_job_status(caller.account, JobId(id))
        .await?;
    Ok(Json(shapes::job_status(&base, &job)))
}

// ---------------------------------------------------------------- installations

/// The settings of a write: `settings` merged over `settings_objects`.
fn given_settings(body: &Map<String, Value>) -> ApiResult<Option<Map<String, Value>>> {
    let mut out: Option<Map<String, Value>> = None;
    match body.get("settings_objects") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let map = out.get_or_insert_with(Map::new);
            for item in items {
                let name = item.get("name").and_then(Value::as_str).ok_or_else(|| {
                    ApiError::invalid(
                        "settings_objects",
                        "settings_objects: each item needs a name and a value",
                    )
                })?;
                map.insert(
                    name.to_owned(),
                    item.get("value").cloned().unwrap_or(Value::Null),
                );
            }
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "settings_objects",
                "settings_objects: must be an array of {name, value}",
            ))
        }
    }
    match body.get("settings") {
        None | Some(Value::Null) => {}
        Some(Value::Object(settings)) => {
            let map = out.get_or_insert_with(Map::new);
            // `settings` wins over `settings_objects`, as on Zendesk.
            for (k, v) in settings {
                map.insert(k.clone(), v.clone());
            }
        }
        Some(_) => return Err(ApiError::invalid("settings", "settings: must be an object")),
    }
    Ok(out)
}

fn enabled_flag(body: &Map<String, Value>) -> ApiResult<Option<bool>> {
    match body.get("enabled") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid(
            "enabled",
            "enabled: must be true or false",
        )),
    }
}

/// `GET /api/v2/apps/installations.json`.
#[utoipa::path(
    get,
    path = "/api/v2/apps/installations.json",
    tag = "Apps",
    description = "Admins only. Every installation, in id order. Secure settings show as `null`, with \
                   `secure_settings` saying which are set.",
    responses(
        (status = 200, description = "`{installations: [Installation]}`"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_installations(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> ApiResult<Json<Value>> {
    let installations = state.store.list_installations(caller.account, None).await?;
    let apps = state.store.list_apps(caller.account).await?;
    let params: HashMap<AppId, Vec<zaffre_manifest::Parameter>> = apps
        .iter()
        .map(|a| {
            (
                a.id,
                manifest_of(a).map(|m| m.parameters).unwrap_or_default(),
            )
        })
        .collect();
    let rendered: Vec<Value> = installations
        .iter()
        .map(|i| shapes::installation(i, params.get(&i.app_id).map_or(&[][..], Vec::as_slice)))
        .collect();
    Ok(Json(json!({ "installations": rendered })))
}

async fn installation_body(
    state: &AppState,
    caller: &crate::auth::Caller,
    i: &zaffre_domain::apps::Installation,
) -> ApiResult<Value> {
    let app = state.store.get_app(caller.account, i.app_id).await?;
    let params = manifest_of(&app).map(|m| m.parameters).unwrap_or_default();
    Ok(shapes::installation(i, &params))
}

/// `GET /api/v2/apps/installations/{id}.json`.
#[utoipa::path(
    get,
    path = "/api/v2/apps/installations/{id}.json",
    tag = "Apps",
    description = "Admins only. The Installation, not wrapped.",
    params(("id" = i64, Path, description = "The installation's id")),
    responses(
        (status = 200, description = "The Installation"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such installation", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn show_installation(
    State(state): State<AppState>,
    Admin(caller): Admin,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    let i = state
        .store
        .get_installation(caller.account, InstallationId(id))
        .await?;
    Ok(Json(installation_body(&state, &caller, &i).await?))
}

/// `POST /api/v2/apps/installations.json`.
#[utoipa::path(
    post,
    path = "/api/v2/apps/installations.json",
    tag = "Apps",
    description = "Admins only. `{app_id, settings: {name?, …}, settings_objects?: [{name, value}], enabled?}` \
                   (also accepted wrapped in `installation`). Settings are checked against the manifest's \
                   parameters: known names only, types, required values; defaults fill the rest and `name` \
                   defaults to the app's name. Secure values may be up to 64 KiB and are never shown again. \
                   `singleInstall` apps install once. requirements.json ticket fields are created too.",
    responses(
        (status = 201, description = "The Installation"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "Invalid settings, an unknown app, or a second install of a singleInstall app", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn create_installation(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = body_object(&body, "installation")?;
    let app_id = id_value(body.get("app_id")).ok_or_else(|| {
        ApiError::Invalid(ValidationErrors::single(
            "app_id",
            ErrorKind::BlankValue,
            "app_id: give the id of the app to install",
        ))
    })?;
    let app = match state.store.get_app(caller.account, AppId(app_id)).await {
        Ok(app) => app,
        Err(StoreError::NotFound) => {
            return Err(ApiError::invalid(
                "app_id",
                format!("app_id: there is no app {app_id}"),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let enabled = enabled_flag(body)?.unwrap_or(true);
    let given = given_settings(body)?.unwrap_or_default();
    let (installation, manifest, fields) =
        install_app(&state, caller.account, &app, &given, enabled).await?;
    tracing::info!(
        installation.id = %installation.id,
        app.id = %app.id,
        secure_settings = installation.secrets_set.len(),
        ticket_fields = fields,
        by = %caller.user.id,
        "app installed"
    );
    Ok((
        StatusCode::CREATED,
        Json(shapes::installation(&installation, &manifest.parameters)),
    ))
}

/// Installs `app` with `given` settings: checks them against the manifest,
/// creates requirements.json ticket fields, seals secure values, all in one
/// store write. Returns the installation, the manifest and how many ticket
/// fields were made. Shared by the Apps API and `zaffre dev`.
pub async fn install_app(
    state: &AppState,
    account: zaffre_domain::AccountId,
    app: &zaffre_domain::apps::App,
    given: &Map<String, Value>,
    enabled: bool,
) -> ApiResult<(zaffre_domain::apps::Installation, Manifest, usize)> {
    let manifest = manifest_of(app)
        .ok_or_else(|| ApiError::Internal(format!("app {} has an unreadable manifest", app.id)))?;
    let checked = check_settings(&manifest.parameters, &app.name, given, None)?;
    let fields = match state
        .store
        .get_app_file(account, app.id, "requirements.json")
        .await
    {
        Ok(bytes) => {
            let reqs: Value = serde_json::from_slice(&bytes).map_err(|_| {
                ApiError::invalid("requirements", "requirements.json: is not valid JSON")
            })?;
            required_ticket_fields(&reqs)?
        }
        Err(StoreError::NotFound) => vec![],
        Err(e) => return Err(e.into()),
    };
    let secrets = state.secrets.clone();
    let to_seal = checked.secrets;
    let seal = move |id: InstallationId| {
        to_seal
            .iter()
            .map(|(name, value)| {
                secrets.seal(account, id, name, value).map_err(|e| {
                    tracing::error!(error = %e, "sealing a secure setting failed");
                    StoreError::Conflict(format!("{name}: could not be stored"))
                })
            })
            .collect()
    };
    let new = NewInstallation {
        app_id: app.id,
        enabled,
        settings: checked.plain,
        single_install: app.single_install,
    };
    let installation = state
        .store
        .create_installation(account, &new, &fields, &seal)
        .await;
    if !fields.is_empty() {
        // Ticket reads on this node show the requirements' fields at once.
        state.field_cache.invalidate(account);
    }
    state.proxy_contexts.invalidate_account(account);
    let installation = installation.map_err(|e| match e {
        StoreError::Conflict(text) => ApiError::invalid("app_id", format!("app_id: {text}")),
        other => other.into(),
    })?;
    Ok((installation, manifest, fields.len()))
}

/// `PUT /api/v2/apps/installations/{id}.json`.
#[utoipa::path(
    put,
    path = "/api/v2/apps/installations/{id}.json",
    tag = "Apps",
    description = "Admins only. `{settings?, settings_objects?, enabled?}`. Given settings are merged over the \
                   stored ones (`null` removes a plain value). Secure settings are write-only: a string sets \
                   one, `\"\"` clears it, `null` or leaving it out keeps it.",
    params(("id" = i64, Path, description = "The installation's id")),
    responses(
        (status = 200, description = "The Installation"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such installation", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "Invalid settings", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn update_installation(
    State(state): State<AppState>,
    Admin(caller): Admin,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let id = InstallationId(id);
    let current = state.store.get_installation(caller.account, id).await?;
    let app = state.store.get_app(caller.account, current.app_id).await?;
    let params = manifest_of(&app).map(|m| m.parameters).unwrap_or_default();
    let body = body_object(&body, "installation")?;
    let enabled = enabled_flag(body)?;
    let given = given_settings(body)?;
    let (updated, patch) = change_installation(
        &state,
        caller.account,
        &current,
        &params,
        &app.name,
        given.as_ref(),
        enabled,
    )
    .await?;
    tracing::info!(
        installation.id = %id,
        secure_settings_written = patch.secrets.len(),
        secure_settings_cleared = patch.clear_secrets.len(),
        by = %caller.user.id,
        "installation updated"
    );
    Ok(Json(shapes::installation(&updated, &params)))
}

/// Merges `given` settings over an installation's (secure values sealed,
/// write-only rules of [`check_settings`]) and sets `enabled`. Returns the
/// stored installation and the patch written. Shared by the Apps API and
/// `zaffre dev`.
pub async fn change_installation(
    state: &AppState,
    account: zaffre_domain::AccountId,
    current: &zaffre_domain::apps::Installation,
    params: &[zaffre_manifest::Parameter],
    app_name: &str,
    given: Option<&Map<String, Value>>,
    enabled: Option<bool>,
) -> ApiResult<(zaffre_domain::apps::Installation, InstallationPatch)> {
    let id = current.id;
    // `zaffre dev` writes the app just before calling this: its proxy
    // contexts go now, even if the settings below are refused.
    state.proxy_contexts.invalidate_account(account);
    let mut patch = InstallationPatch {
        enabled,
        ..InstallationPatch::default()
    };
    if let Some(given) = given {
        let existing = Existing {
            plain: &current.settings,
            secrets_set: &current.secrets_set,
        };
        let checked = check_settings(params, app_name, given, Some(existing))?;
        patch.settings = Some(checked.plain);
        patch.clear_secrets = checked.clear_secrets;
        patch.secrets = checked
            .secrets
            .iter()
            .map(|(name, value)| state.secrets.seal(account, id, name, value))
            .collect::<Result<_, _>>()?;
    }
    let updated = state.store.update_installation(account, id, &patch).await;
    // A disabled installation or a changed setting applies to the very next proxied call.
    state.proxy_contexts.invalidate_account(account);
    Ok((updated?, patch))
}

/// `DELETE /api/v2/apps/installations/{id}.json`: uninstalls.
#[utoipa::path(
    delete,
    path = "/api/v2/apps/installations/{id}.json",
    tag = "Apps",
    description = "Admins only. Removes the installation, its secure settings and the ticket fields its \
                   requirements made.",
    params(("id" = i64, Path, description = "The installation's id")),
    responses(
        (status = 204, description = "Uninstalled"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such installation", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn delete_installation(
    State(state): State<AppState>,
    Admin(caller): Admin,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    let id = InstallationId(id);
    state.store.get_installation(caller.account, id).await?;
    remove_requirements(&state, &caller, id).await?;
    let deleted = state.store.delete_installation(caller.account, id).await;
    state.proxy_contexts.invalidate_account(caller.account);
    deleted?;
    tracing::info!(installation.id = %id, by = %caller.user.id, "app uninstalled");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v2/apps/installations/{id}/requirements.json`.
#[utoipa::path(
    get,
    path = "/api/v2/apps/installations/{id}/requirements.json",
    tag = "Apps",
    description = "Admins only. What the installation's requirements.json made (ticket fields).",
    params(("id" = i64, Path, description = "The installation's id")),
    responses(
        (status = 200, description = "`{requirements: [{account_id, identifier, requirement_id, requirement_type, created_at, updated_at}]}`"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such installation", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_installation_requirements(
    State(state): State<AppState>,
    Admin(caller): Admin,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    let id = InstallationId(id);
    state.store.get_installation(caller.account, id).await?;
    let reqs = state
        .store
        .list_installation_requirements(caller.account, id)
        .await?;
    let rendered: Vec<Value> = reqs
        .iter()
        .map(|r| {
            json!({
                "account_id": caller.account,
                "identifier": r.identifier,
                "requirement_id": r.requirement_id,
                "requirement_type": r.requirement_type,
                "created_at": shapes::timestamp(&r.created_at),
                "updated_at": shapes::timestamp(&r.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "requirements": rendered })))
}

/// `GET /api/zaffre/apps/installed.json`: what the workspace's app host loads.
///
/// Any staff member. Enabled installations only, with their app's name,
/// version and locations, and plain settings only: secure settings are not
/// in it at all (the proxy adds them server-side).
pub async fn list_installed(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<Json<Value>> {
    let installations = state.store.list_installations(caller.account, None).await?;
    let apps: HashMap<AppId, zaffre_domain::apps::App> = state
        .store
        .list_apps(caller.account)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut out = Vec::new();
    for i in installations.iter().filter(|i| i.enabled) {
        let Some(app) = apps.get(&i.app_id) else {
            continue;
        };
        let manifest = manifest_of(app);
        let locations: Vec<Value> = manifest
            .as_ref()
            .map(|m| {
                m.locations
                    .iter()
                    .map(|l| {
                        json!({
                            "product": l.product.name(),
                            "location": l.name,
                            "url": l.url,
                            "auto_load": l.auto_load,
                            "auto_hide": l.auto_hide,
                            "flexible": l.flexible,
                            "signed": l.signed,
                            "size": l.size,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(json!({
            "id": i.id,
            "app_id": app.id,
            "name": i.settings.get("name").cloned().unwrap_or_else(|| Value::String(app.name.clone())),
            "app_name": app.name,
            "version": app.version,
            // Iframe URLs go under `/v/<assets_version>/` so that the app's files are cached.
            "assets_version": crate::apps_host::assets_version(app),
            "framework_version": manifest.as_ref().and_then(|m| m.framework_version.clone()),
            "locations": locations,
            // Plain settings only: secure values never leave the server.
            "settings": i.settings,
            "updated_at": shapes::timestamp(&i.updated_at),
        }));
    }
    Ok(Json(json!({ "installations": out })))
}

/// The OpenAPI description of every `/api/v2/apps` handler, merged into the
/// document served at `/api/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        upload_app,
        create_app,
        list_apps,
        list_owned_apps,
        show_app,
        update_app,
        delete_app,
        show_job_status,
        list_installations,
        create_installation,
        show_installation,
        update_installation,
        delete_installation,
        list_installation_requirements,
    ),
    tags((name = "Apps", description = "ZAF app packages and their installations"))
)]
pub struct AppsApi;
