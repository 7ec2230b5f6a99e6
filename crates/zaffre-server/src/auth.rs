//! Who is calling, and may they?
//!
//! The [`authenticate`] middleware runs once per request. It resolves the
//! account from the Host header, then accepts, in order:
//! - HTTP Basic `email/token:TOKEN` (API tokens, looked up by SHA-256 digest;
//!   the token's user is remembered for a few seconds by
//!   [`crate::cache::TokenCache`], and a user update on this node forgets it),
//! - HTTP Basic `email:password` (argon2id; successful checks are remembered
//!   briefly in memory so API clients that send a password on every request do
//!   not pay for argon2 each time),
//! - the `zaffre_session` cookie, for the browser.
//!
//! A cookie-authenticated write must also carry the host's own `Origin` and
//! the session's `X-CSRF-Token`: app iframes live on sibling origins
//! (`app-N.localhost`) that are same-site with the host, so `SameSite=Lax`
//! alone would let them write with the agent's cookie.
//!
//! The authenticated [`Caller`] is put in the request's extensions; handlers
//! take it as an extractor, which answers 401 when there is none. Role checks
//! are methods on `Caller`, so every handler states its rule in one line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zaffre_domain::{AccountId, Role, Session, User};
use zaffre_store::StoreError;

use crate::error::ApiError;
use crate::rate_limit::RateDecision;
use crate::state::AppState;

/// The name of the browser session cookie.
pub const SESSION_COOKIE: &str = "zaffre_session";
/// The header a browser page sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// The browser session cookie; carries the session's CSRF token.
    Session {
        csrf_token: String,
    },
    ApiToken,
    Password,
}

/// An authenticated person in an account.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    pub user: User,
    pub method: AuthMethod,
}

impl Caller {
    /// Agents and admins.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.user.role.is_staff() {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Admins only.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthenticated)
    }
}

/// The account a request addresses, resolved by [`authenticate`] even for
/// anonymous requests (the login page needs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestAccount(pub AccountId);

impl<S: Send + Sync> FromRequestParts<S> for RequestAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestAccount>()
            .copied()
            .ok_or(ApiError::NotFound)
    }
}

/// Middleware: authenticates, enforces CSRF for cookie writes and the per-user
/// rate limit, and adds the rate limit headers to the response.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let account = match state.accounts.resolve(&state, host_of(req.headers())).await {
        Ok(Some(account)) => account,
        Ok(None) => return next.run(req).await,
        Err(e) => return e.into_response(),
    };
    req.extensions_mut().insert(RequestAccount(account));
    let caller = match identify(&state, account, req.method(), req.headers()).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    let Some(caller) = caller else {
        return next.run(req).await;
    };

    let decision = state.limiter.check(&format!("user:{}", caller.user.id));
    if let RateDecision::Limited { retry_after_secs } = decision {
        let mut response = ApiError::RateLimited { retry_after_secs }.into_response();
        state.limiter.add_headers(response.headers_mut(), decision);
        return response;
    }
    req.extensions_mut().insert(caller);
    let mut response = next.run(req).await;
    state.limiter.add_headers(response.headers_mut(), decision);
    response
}

fn host_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(HOST).and_then(|v| v.to_str().ok())
}

/// Finds the caller from the request's credentials; `Ok(None)` when it carries none.
async fn identify(
    state: &AppState,
    account: AccountId,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let (login, secret) = parse_basic(value).ok_or(ApiError::Unauthenticated)?;
        let caller = if let Some(email) = login.strip_suffix("/token") {
            // Cached for a few seconds; user changes on this node drop the
            // entry at once (see crate::cache for the bound elsewhere).
            let user = lookup(
                state
                    .token_cache
                    .user(&state.store, account, sha256_hex(&secret))
                    .await,
            )?;
            if !user.email.eq_ignore_ascii_case(email) {
                return Err(ApiError::Unauthenticated);
            }
            Caller {
                account,
                user,
                method: AuthMethod::ApiToken,
            }
        } else {
            let user = verify_login(state, account, &login, &secret).await?;
            Caller {
                account,
                user,
                method: AuthMethod::Password,
            }
        };
        return Ok(Some(caller));
    }
    let Some(cookie) = session_cookie_value(headers) else {
        return Ok(None);
    };
    let (session, user) = match state.store.get_session(&sha256_hex(&cookie)).await {
        Ok(found) => found,
        // A stale or forged cookie is the same as none: the page shows the login form.
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if session.account_id != account {
        return Ok(None);
    }
    if !is_safe(method) {
        check_csrf(state, headers, &session)?;
    }
    Ok(Some(Caller {
        account,
        user,
        method: AuthMethod::Session {
            csrf_token: session.csrf_token,
        },
    }))
}

/// Maps "no such credential" to 401 and keeps real failures as they are.
fn lookup(result: Result<User, StoreError>) -> Result<User, ApiError> {
    match result {
        Ok(user) => Ok(user),
        Err(StoreError::NotFound) => Err(ApiError::Unauthenticated),
        Err(e) => Err(e.into()),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses a cookie-authenticated write unless it comes from the host's own
/// origin and carries the session's CSRF token.
fn check_csrf(state: &AppState, headers: &HeaderMap, session: &Session) -> Result<(), ApiError> {
    if !origin_allowed(state, headers) {
        return Err(ApiError::CsrfRejected);
    }
    let sent = headers
        .get(CSRF_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if bool::from(sent.ct_eq(session.csrf_token.as_bytes())) && !sent.is_empty() {
        Ok(())
    } else {
        Err(ApiError::CsrfRejected)
    }
}

/// True when the request's `Origin` is the host's own: the configured public
/// origin, or else `http://<Host>`. A missing Origin is refused: every browser
/// sends one on cross-origin and same-origin POST/PUT/DELETE fetches.
pub fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    match state.config.public_origin() {
        Some(expected) => origin == expected,
        None => host_of(headers).is_some_and(|host| origin == format!("http://{host}")),
    }
}

fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let encoded = value.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, secret) = text.split_once(':')?;
    Some((login.to_owned(), secret.to_owned()))
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_owned())
        })
}

/// Checks an email and password, using the verification cache. Any failure
/// (unknown email, no password, wrong password, inactive user) is the same 401
/// so the answer does not reveal which emails exist.
pub async fn verify_login(
    state: &AppState,
    account: AccountId,
    email: &str,
    password: &str,
) -> Result<User, ApiError> {
    let login = match state.store.password_login(account, email).await {
        Ok(login) => login,
        Err(StoreError::NotFound) => return Err(ApiError::Unauthenticated),
        Err(e) => return Err(e.into()),
    };
    let Some(hash) = login.password_hash else {
        return Err(ApiError::Unauthenticated);
    };
    if !login.user.active {
        return Err(ApiError::Unauthenticated);
    }
    let key = sha256_hex(&format!("{}\n{hash}\n{password}", login.user.id));
    if state.password_cache.contains(&key) {
        return Ok(login.user);
    }
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|e| ApiError::Internal(format!("password check panicked: {e}")))?;
    if ok {
        state.password_cache.insert(key);
        Ok(login.user)
    } else {
        Err(ApiError::Unauthenticated)
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a password failed: {e}")))
}

/// Checks a password against a PHC string; a malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The lowercase hex SHA-256 of a credential, which is all zaffre stores of it.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A new random credential: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Remembers recent successful password checks, so repeated Basic auth does
/// not run argon2 on every request. Keys are digests of (user, stored hash,
/// password): a password change or a different password misses the cache.
#[derive(Debug, Default, Clone)]
pub struct PasswordCache {
    entries: Arc<Mutex<HashMap<String, Instant>>>,
}

impl PasswordCache {
    const TTL: Duration = Duration::from_secs(300);
    const MAX_ENTRIES: usize = 10_000;

    fn contains(&self, key: &str) -> bool {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(key).is_some_and(|at| at.elapsed() < Self::TTL)
    }

    fn insert(&self, key: String) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, at| at.elapsed() < Self::TTL);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_bad_hashes_never_match() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong"));
        assert!(!verify_password("not a hash", "correct horse"));
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        let value = HeaderValue::from_str(&format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("a@b.c/token:x:y")
        ))
        .unwrap();
        assert_eq!(
            parse_basic(&value),
            Some(("a@b.c/token".into(), "x:y".into()))
        );
        assert_eq!(parse_basic(&HeaderValue::from_static("Bearer x")), None);
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; zaffre_session=abc; b=2"),
        );
        assert_eq!(session_cookie_value(&headers).as_deref(), Some("abc"));
    }
}
