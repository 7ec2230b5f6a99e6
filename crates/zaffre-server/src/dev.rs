//! Development mode (`zaffre dev`): what the server knows about the app
//! folders a developer is working on, and the three routes that only exist
//! in that mode.
//!
//! - [`DevState`] (in [`AppState::dev`], `None` under `zaffre serve`) holds
//!   each dev app's folder, validation status and findings, a version
//!   counter bumped on every successful reload, the [`DevEvent`] broadcast,
//!   and one-time sign-in links.
//! - `GET /api/zaffre/dev` (staff): the dev apps, for the workspace's banner
//!   (`{"dev": false}` outside dev mode).
//! - `GET /api/zaffre/dev/events` (staff, SSE): `app.reloaded`,
//!   `app.invalid`, `app.valid`.
//! - `GET /auth/dev-link?token=T&next=/path`: redeems a one-time link minted
//!   by [`DevState::mint_sign_in_link`] into a session, then redirects.
//!
//! The other two routes answer 404 outside dev mode. Installing and reloading a
//! folder go through the same functions as the Apps API
//! ([`crate::api::apps`]): same validator, same settings checks, secure
//! values sealed the same way. Findings and events never carry setting values.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;
use zaffre_domain::apps::{App, Installation};
use zaffre_domain::{AccountId, AppId, InstallationId, Session, UserId};
use zaffre_manifest::{Finding, Package, Severity};
use zaffre_store::StoreError;

use crate::api::apps as apps_api;
use crate::api::people::Staff;
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a sign-in link stays valid.
pub const LINK_TTL: Duration = Duration::from_secs(10 * 60);

/// Whether a dev app's folder currently validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DevStatus {
    Ok,
    Invalid,
}

/// A validator finding as the dev API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DevFinding {
    /// `error` or `warning`.
    pub level: Severity,
    pub key: String,
    pub message: String,
    pub file: Option<String>,
}

impl From<&Finding> for DevFinding {
    fn from(f: &Finding) -> Self {
        DevFinding {
            level: f.severity,
            key: f.key.to_owned(),
            message: f.message.clone(),
            file: f.file.clone(),
        }
    }
}

/// One app folder being developed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DevApp {
    pub app_id: AppId,
    pub installation_id: InstallationId,
    pub name: String,
    pub path: PathBuf,
    pub status: DevStatus,
    /// Bumped on every successful reload (starts at 1).
    pub version: u64,
    /// The findings of the latest validation (warnings only when `ok`).
    pub findings: Vec<DevFinding>,
}

/// What the dev event stream announces.
#[derive(Debug, Clone, PartialEq)]
pub enum DevEvent {
    /// New files are live: the app's iframes should reload.
    Reloaded {
        app_id: AppId,
        version: u64,
        changed: Vec<String>,
    },
    /// The folder stopped validating; the last good version keeps running.
    Invalid {
        app_id: AppId,
        findings: Vec<DevFinding>,
    },
    /// The folder validates again (sent before the `Reloaded` that follows).
    Valid { app_id: AppId },
}

impl DevEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            DevEvent::Reloaded { .. } => "app.reloaded",
            DevEvent::Invalid { .. } => "app.invalid",
            DevEvent::Valid { .. } => "app.valid",
        }
    }

    /// The SSE data.
    pub fn data(&self) -> Value {
        match self {
            DevEvent::Reloaded {
                app_id,
                version,
                changed,
            } => json!({"app_id": app_id, "version": version, "changed": changed}),
            DevEvent::Invalid { app_id, findings } => {
                json!({"app_id": app_id, "findings": findings})
            }
            DevEvent::Valid { app_id } => json!({"app_id": app_id}),
        }
    }
}

/// Everything dev mode keeps in memory.
pub struct DevState {
    /// The account dev apps live in and links sign into.
    pub account: AccountId,
    /// The developer that sign-in links sign in (the account's admin).
    pub user: UserId,
    /// Whether the host and the app origins are served over TLS.
    pub https: bool,
    apps: Mutex<Vec<DevApp>>,
    events: broadcast::Sender<DevEvent>,
    /// SHA-256 of each unused link token → when it expires.
    links: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for DevState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevState")
            .field("account", &self.account)
            .field("user", &self.user)
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

impl DevState {
    /// Dev state for `account`, signing links in as `user`.
    pub fn new(account: AccountId, user: UserId, https: bool) -> Self {
        let (events, _) = broadcast::channel(256);
        DevState {
            account,
            user,
            https,
            apps: Mutex::new(Vec::new()),
            events,
            links: Mutex::new(HashMap::new()),
        }
    }

    /// Mints a one-time sign-in link: a path (`/auth/dev-link?token=…&next=…`)
    /// to append to the host's base URL. Single use, valid for [`LINK_TTL`].
    /// `next` must be a path on this host; anything else becomes `/`.
    pub fn mint_sign_in_link(&self, next: &str) -> String {
        let token = auth::random_token();
        let mut links = self.links.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        links.retain(|_, expires| *expires > now);
        links.insert(auth::sha256_hex(&token), now + LINK_TTL);
        let next = safe_next(next);
        format!(
            "/auth/dev-link?{}",
            serde_urlencoded::to_string([("token", token.as_str()), ("next", next)])
                .unwrap_or_default()
        )
    }

    /// Uses up a link token; `true` when it was valid.
    fn redeem(&self, token: &str) -> bool {
        let mut links = self.links.lock().unwrap_or_else(PoisonError::into_inner);
        matches!(links.remove(&auth::sha256_hex(token)), Some(expires) if expires > Instant::now())
    }

    /// Every dev app, in the order they were added.
    pub fn apps(&self) -> Vec<DevApp> {
        self.apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// One dev app.
    pub fn app(&self, id: AppId) -> Option<DevApp> {
        self.apps().into_iter().find(|a| a.app_id == id)
    }

    /// Adds (or replaces, by app id) a dev app.
    pub fn register(&self, app: DevApp) {
        let mut apps = self.apps.lock().unwrap_or_else(PoisonError::into_inner);
        match apps.iter_mut().find(|a| a.app_id == app.app_id) {
            Some(slot) => *slot = app,
            None => apps.push(app),
        }
    }

    fn update<T>(&self, id: AppId, f: impl FnOnce(&mut DevApp) -> T) -> Option<T> {
        let mut apps = self.apps.lock().unwrap_or_else(PoisonError::into_inner);
        apps.iter_mut().find(|a| a.app_id == id).map(f)
    }

    /// A new subscription to later dev events.
    pub fn subscribe(&self) -> broadcast::Receiver<DevEvent> {
        self.events.subscribe()
    }

    fn publish(&self, event: DevEvent) {
        // No listener (no open workspace) is fine.
        let _ = self.events.send(event);
    }
}

/// `next` if it is a path on this host, else `/` (no open redirects).
fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next
    } else {
        "/"
    }
}

/// The dev routes; each answers 404 outside dev mode.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/zaffre/dev", get(show))
        .route("/api/zaffre/dev/events", get(stream))
        .route("/auth/dev-link", get(dev_link))
}

fn dev_of(state: &AppState) -> ApiResult<&Arc<DevState>> {
    state.dev.as_ref().ok_or(ApiError::NotFound)
}

/// `GET /api/zaffre/dev`. Outside dev mode (or for another account) it
/// answers `{"dev": false}` rather than 404: the workspace asks on every
/// sign-in, and a 404 would be a console error on every production page.
async fn show(State(state): State<AppState>, Staff(caller): Staff) -> ApiResult<Json<Value>> {
    let Some(dev) = state.dev.as_ref().filter(|d| d.account == caller.account) else {
        return Ok(Json(json!({"dev": false})));
    };
    Ok(Json(json!({
        "dev": true,
        "loopback_upstreams": state.config.proxy_allow_loopback,
        "https": dev.https,
        "apps": dev.apps(),
    })))
}

/// `GET /api/zaffre/dev/events`.
async fn stream(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let dev = dev_of(&state)?;
    if caller.account != dev.account {
        return Err(ApiError::NotFound);
    }
    let shutdown = state.shutdown.clone().cancelled_owned();
    let events = BroadcastStream::new(dev.subscribe()).map(|item| match item {
        Ok(e) => Ok(Event::default().event(e.name()).data(e.data().to_string())),
        // Fell behind: the page refetches /api/zaffre/dev.
        Err(BroadcastStreamRecvError::Lagged(_)) => Ok(Event::default().event("resync").data("{}")),
    });
    Ok(
        Sse::new(futures_util::StreamExt::take_until(events, shutdown))
            .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
    )
}

/// The query of a sign-in link.
#[derive(Deserialize)]
struct LinkQuery {
    token: String,
    next: Option<String>,
}

/// `GET /auth/dev-link`: a valid, unused token starts a session (as
/// `/auth/login` does) and redirects to `next`.
async fn dev_link(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> ApiResult<Response> {
    let dev = dev_of(&state)?;
    if !dev.redeem(&query.token) {
        return Err(ApiError::BadRequest(
            "InvalidDevLink",
            "This sign-in link was already used or has expired; restart `zaffre dev` for a new one"
                .into(),
        ));
    }
    let user = state.store.get_user(dev.account, dev.user).await?;
    let cookie_value = auth::random_token();
    let now = chrono::Utc::now();
    let session = Session {
        account_id: dev.account,
        user_id: user.id,
        csrf_token: auth::random_token(),
        created_at: now,
        expires_at: now + chrono::Duration::hours(i64::from(state.config.session_hours)),
    };
    state
        .store
        .create_session(&auth::sha256_hex(&cookie_value), &session)
        .await?;
    tracing::info!(user.id = %user.id, "signed in by a dev link");
    let max_age = i64::from(state.config.session_hours) * 3600;
    let cookie = crate::handlers::session::session_cookie(&state, &cookie_value, max_age);
    let next = safe_next(query.next.as_deref().unwrap_or("/")).to_owned();
    Ok((
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, cookie)],
        [(LOCATION, next)],
    )
        .into_response())
}

// ---------------------------------------------------------------- installing and reloading

/// Validates a package read from a folder; the findings, and the package when
/// it has no errors. An unreadable folder is one error finding.
pub fn check_folder(folder: &Path) -> (Option<Package>, Vec<Finding>) {
    match Package::from_dir(folder) {
        Ok(package) => {
            let report = zaffre_manifest::validate(&package);
            let ok = !report.has_errors();
            (ok.then_some(package), report.findings)
        }
        Err(e) => (None, vec![e.to_finding()]),
    }
}

/// Creates (or, with `existing`, updates) the app from a validated package
/// and its one installation with `settings` (checked and sealed as the Apps
/// API does; settings already stored and not given are kept).
pub async fn install_package(
    state: &AppState,
    account: AccountId,
    existing: Option<AppId>,
    package: Package,
    settings: &Map<String, Value>,
) -> ApiResult<(App, Installation)> {
    let new = apps_api::new_app_from_package(package, None, None)?;
    let app = match existing {
        Some(id) => match state.store.update_app(account, id, &new).await {
            Ok(app) => Some(app),
            // The database was reset or the app deleted: install afresh.
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let app = match app {
        Some(app) => app,
        None => state.store.create_app(account, &new).await?,
    };
    let current = state
        .store
        .list_installations(account, Some(app.id))
        .await?
        .into_iter()
        .next();
    let installation = match current {
        Some(current) => {
            let params = apps_api::manifest_of(&app)
                .map(|m| m.parameters)
                .unwrap_or_default();
            let mut given = new_defaults(&params, &current);
            given.extend(settings.clone());
            apps_api::change_installation(
                state,
                account,
                &current,
                &params,
                &app.name,
                Some(&given),
                Some(true),
            )
            .await?
            .0
        }
        None => {
            apps_api::install_app(state, account, &app, settings, true)
                .await?
                .0
        }
    };
    Ok((app, installation))
}

/// Defaults of plain parameters the installation has no value for (a
/// parameter added to the manifest during a session gets its default).
fn new_defaults(
    params: &[zaffre_manifest::Parameter],
    current: &Installation,
) -> Map<String, Value> {
    params
        .iter()
        .filter(|p| !zaffre_domain::apps::is_secret(p) && !current.settings.contains_key(&p.name))
        .filter_map(|p| Some((p.name.clone(), p.default.clone()?)))
        .collect()
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReloadOutcome {
    /// The new files are live.
    Reloaded { version: u64 },
    /// The folder does not validate; the last good version stays.
    Invalid { findings: Vec<Finding> },
}

/// Re-reads a dev app's folder after `changed` files changed: valid → the
/// app's files, manifest and new parameter defaults are updated, the version
/// bumped and `app.reloaded` published (after `app.valid` if it was
/// invalid); invalid → `app.invalid` with the findings, and nothing stored.
pub async fn reload(
    state: &AppState,
    app_id: AppId,
    changed: Vec<String>,
) -> ApiResult<ReloadOutcome> {
    let dev = dev_of(state)?.clone();
    let app = dev.app(app_id).ok_or(ApiError::NotFound)?;
    let folder = app.path.clone();
    let (package, findings) = tokio::task::spawn_blocking(move || check_folder(&folder))
        .await
        .map_err(|e| ApiError::Internal(format!("reading the app folder failed: {e}")))?;
    let shown: Vec<DevFinding> = findings.iter().map(DevFinding::from).collect();
    let Some(package) = package else {
        return Ok(mark_invalid(&dev, app_id, findings));
    };
    let stored = match install_package(state, dev.account, Some(app_id), package, &Map::new()).await
    {
        Ok((stored, _)) => stored,
        // The new manifest's parameters refuse the stored settings (a new required
        // parameter without a default): report it like a validation error.
        Err(ApiError::Invalid(errors)) => {
            let findings = errors
                .errors
                .iter()
                .map(|e| {
                    Finding::error(
                        "dev_settings",
                        format!(
                            "{} (supply it with --setting and restart zaffre dev)",
                            e.description
                        ),
                    )
                    .in_file(zaffre_manifest::MANIFEST)
                })
                .collect();
            return Ok(mark_invalid(&dev, app_id, findings));
        }
        Err(e) => return Err(e),
    };
    if stored.id != app_id {
        // The app vanished from the database meanwhile and was created anew.
        return Err(ApiError::Internal(format!(
            "app {app_id} no longer exists; restart zaffre dev"
        )));
    }
    let (was_invalid, version) = dev
        .update(app_id, |a| {
            let was = a.status == DevStatus::Invalid;
            a.status = DevStatus::Ok;
            a.findings.clone_from(&shown);
            a.version += 1;
            a.name.clone_from(&stored.name);
            (was, a.version)
        })
        .ok_or(ApiError::NotFound)?;
    if was_invalid {
        dev.publish(DevEvent::Valid { app_id });
    }
    dev.publish(DevEvent::Reloaded {
        app_id,
        version,
        changed,
    });
    Ok(ReloadOutcome::Reloaded { version })
}

fn mark_invalid(dev: &DevState, app_id: AppId, findings: Vec<Finding>) -> ReloadOutcome {
    let shown: Vec<DevFinding> = findings.iter().map(DevFinding::from).collect();
    dev.update(app_id, |a| {
        a.status = DevStatus::Invalid;
        a.findings.clone_from(&shown);
    });
    dev.publish(DevEvent::Invalid {
        app_id,
        findings: shown,
    });
    ReloadOutcome::Invalid { findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_host() {
        assert_eq!(safe_next("/tickets/1"), "/tickets/1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }

    #[test]
    fn links_are_single_use() {
        let dev = DevState::new(AccountId(1), UserId(1), false);
        let link = dev.mint_sign_in_link("/tickets/3");
        let query = link.strip_prefix("/auth/dev-link?").unwrap();
        let pairs: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap();
        assert_eq!(pairs["next"], "/tickets/3");
        assert!(dev.redeem(&pairs["token"]));
        assert!(!dev.redeem(&pairs["token"]));
        assert!(!dev.redeem("made-up"));
    }
}
