//! Every route of the server, in one place.
//!
//! Three groups: the workspace's files (no authentication: they are the same
//! for everyone), the authenticated surface (`/api/v2`, `/api/zaffre`,
//! `/auth`) behind the [`authenticate`](crate::auth::authenticate) middleware,
//! and `/healthz`.

use axum::extract::{MatchedPath, Request};
use axum::http::header::{HeaderValue, CACHE_CONTROL, X_CONTENT_TYPE_OPTIONS};
use axum::routing::{get, post};
use axum::{middleware, Router};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::handlers::{events, health, session};
use crate::state::AppState;
use crate::{api, apps_host, auth, dev, web};

/// Builds the complete router for a state. Tests call this directly.
pub fn build_router(state: AppState) -> Router {
    let authenticated = Router::new()
        .merge(api::routes())
        .merge(apps_host::routes())
        .merge(dev::routes())
        .route("/api/zaffre/events", get(events::stream))
        .route("/auth/login", post(session::login))
        .route("/auth/session", get(session::current))
        .route("/auth/logout", post(session::logout))
        // Unknown API paths answer in the API's shape, not with the workspace page.
        .route("/api/{*rest}", axum::routing::any(not_found))
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));

    Router::new()
        .merge(authenticated)
        .route("/healthz", get(health::healthz))
        .route("/assets/{*path}", get(web::asset))
        .fallback(get(web::workspace_page).fallback(not_found))
        // Requests to an app origin (`app-<id>.…`) never reach the routes above.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            apps_host::app_origin_gate,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // The route template, not the raw path, keeps span cardinality low and ids out of logs.
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("", MatchedPath::as_str);
            let request_id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), route, request_id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound
}
