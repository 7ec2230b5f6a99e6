//! The Zendesk-compatible REST API under `/api/v2`. (Being written.)

use axum::Router;

use crate::state::AppState;

/// Every `/api/v2` route.
pub fn routes() -> Router<AppState> {
    Router::new()
}
