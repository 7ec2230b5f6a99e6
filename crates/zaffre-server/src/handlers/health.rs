//! `GET /healthz`: is this node able to serve? Checks the database too, so a
//! load balancer stops sending traffic to a node that lost it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

/// 200 with the engine name when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let engine = state.store.engine().to_string();
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ok", "database": engine})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": engine})),
            )
                .into_response()
        }
    }
}
