//! Browser sign-in: `POST /auth/login`, `GET /auth/session`, `POST /auth/logout`.
//!
//! A session is a random cookie value (only its digest is stored) plus a CSRF
//! token the page keeps in memory and sends with every write. The cookie is
//! HttpOnly and SameSite=Lax, and Secure when zaffre is served over https.

use axum::extract::State;
use axum::http::header::{HeaderMap, HeaderValue, SET_COOKIE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use zaffre_domain::{AccountId, Session, User};

use crate::auth::{self, AuthMethod, Caller, RequestAccount, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::rate_limit::RateDecision;
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// The login form's body.
#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// `POST /auth/login`: checks the password and starts a session.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "Sessions",
    security(()),
    description = "Checks an email and password and sets the HttpOnly `zaffre_session` cookie. \
                   Rate-limited per email. A request carrying another site's Origin is refused.",
    request_body = crate::api::openapi::schemas::LoginRequest,
    responses(
        (status = 200, description = "Signed in; the body carries the CSRF token for writes", body = crate::api::openapi::schemas::SessionResponse),
        (status = 401, description = "Wrong email or password", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "Posted from another origin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 429, description = "Too many attempts for this email", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    RequestAccount(account): RequestAccount,
    base: BaseUrl,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    // A login posted from another site would sign the victim into the attacker's account.
    if headers.contains_key(axum::http::header::ORIGIN) && !auth::origin_allowed(&state, &headers) {
        return Err(ApiError::CsrfRejected);
    }
    let email = body.email.trim().to_lowercase();
    if let RateDecision::Limited { retry_after_secs } =
        state.login_limiter.check(&format!("login:{email}"))
    {
        return Err(ApiError::RateLimited { retry_after_secs });
    }
    let user = auth::verify_login(&state, account, &email, &body.password).await?;

    let cookie_value = auth::random_token();
    let now = Utc::now();
    let session = Session {
        account_id: account,
        user_id: user.id,
        csrf_token: auth::random_token(),
        created_at: now,
        expires_at: now + Duration::hours(i64::from(state.config.session_hours)),
    };
    state
        .store
        .create_session(&auth::sha256_hex(&cookie_value), &session)
        .await?;
    tracing::info!(user.id = %user.id, "signed in");

    let body = session_body(&state, &base, account, &user, &session.csrf_token).await?;
    let max_age = i64::from(state.config.session_hours) * 3600;
    let cookie = session_cookie(&state, &cookie_value, max_age);
    Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `GET /auth/session`: who is signed in, with the CSRF token for writes.
#[utoipa::path(
    get,
    path = "/auth/session",
    tag = "Sessions",
    security(("session" = [])),
    responses(
        (status = 200, description = "The session's user, account and CSRF token", body = crate::api::openapi::schemas::SessionResponse),
        (status = 401, description = "No session (API credentials have none either)", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn current(
    State(state): State<AppState>,
    base: BaseUrl,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let AuthMethod::Session { csrf_token } = &caller.method else {
        // API clients have no session; this endpoint is for the browser.
        return Err(ApiError::Unauthenticated);
    };
    Ok(Json(
        session_body(&state, &base, caller.account, &caller.user, csrf_token).await?,
    ))
}

/// `POST /auth/logout`: ends the session (CSRF-checked like every cookie write).
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "Sessions",
    security(("session" = [])),
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 401, description = "Not signed in", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "Missing Origin or X-CSRF-Token", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
) -> ApiResult<Response> {
    if let (AuthMethod::Session { .. }, Some(value)) =
        (&caller.method, auth::session_cookie_value(&headers))
    {
        state
            .store
            .delete_session(&auth::sha256_hex(&value))
            .await?;
    }
    let cleared = session_cookie(&state, "", 0);
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cleared)]).into_response())
}

async fn session_body(
    state: &AppState,
    base: &BaseUrl,
    account: AccountId,
    user: &User,
    csrf: &str,
) -> ApiResult<Value> {
    let account = state.store.get_account(account).await?;
    Ok(json!({
        "user": shapes::user(base, user),
        "csrf_token": csrf,
        "account": shapes::account(&account),
    }))
}

pub(crate) fn session_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.https() { "; Secure" } else { "" };
    let text = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    // The value is URL-safe base64 and the rest is fixed text, so this cannot fail.
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("zaffre_session=; Max-Age=0"))
}
