//! The Zendesk-compatible REST API under `/api/v2`, plus its OpenAPI document.
//!
//! Submodules own their resources and their routes; this module only
//! composes them. Shapes follow Zendesk's documented resources (see
//! [`crate::shapes`]), errors follow [`crate::error`].

use axum::Router;

use crate::state::AppState;

pub mod apps;
pub mod audit;
pub mod openapi;
pub mod paging;
pub mod people;
pub mod proxy;
pub mod tickets;

/// Every `/api/v2` route and `/api/openapi.json`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(tickets::routes())
        .merge(apps::routes())
        .merge(proxy::routes())
        .merge(audit::routes())
        .merge(people::routes())
        .merge(openapi::routes())
}
