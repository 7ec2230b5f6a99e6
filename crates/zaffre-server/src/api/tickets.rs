//! Tickets, their comments, audits and tags, ticket fields, and search:
//! Zendesk's ticket API under `/api/v2`.
//!
//! - [`handlers`]: tickets, comments, audits and tags;
//! - [`fields`]: ticket fields (read by everyone, managed by admins);
//! - [`search`]: `search.json` and `search/count.json`;
//! - [`service`]: the multi-step rules (role rules, reference checks,
//!   update-with-retry, sideloads) the handlers call, including what
//!   end-users may do.
//!
//! Every path accepts Zendesk's `.json` suffix and also works without it.
//! [`TicketsApi`] collects the handlers' OpenAPI descriptions so the
//! document at `/api/openapi.json` can merge them.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::routing::get;
use axum::Router;

use crate::error::{ApiError, ApiResult};
use crate::extract::parse_path_id;
use crate::state::AppState;

pub mod fields;
pub mod handlers;
pub mod search;
pub mod service;

/// Every ticket route, each with and without the `.json` suffix.
pub fn routes() -> Router<AppState> {
    use fields::*;
    use handlers::*;
    use search::*;
    let tickets = get(list_tickets).post(create_ticket);
    let ticket = get(show_ticket).put(update_ticket).delete(delete_ticket);
    let tags = get(show_ticket_tags)
        .put(add_ticket_tags)
        .post(set_ticket_tags)
        .delete(remove_ticket_tags);
    let ticket_fields = get(list_ticket_fields).post(create_ticket_field);
    let ticket_field = get(show_ticket_field)
        .put(update_ticket_field)
        .delete(delete_ticket_field);
    Router::new()
        .route("/api/v2/tickets.json", tickets.clone())
        .route("/api/v2/tickets", tickets)
        .route("/api/v2/tickets/show_many.json", get(show_many_tickets))
        .route("/api/v2/tickets/show_many", get(show_many_tickets))
        .route("/api/v2/tickets/count.json", get(count_tickets))
        .route("/api/v2/tickets/count", get(count_tickets))
        // `{id}` also matches `5.json`; `IdPath` strips the suffix.
        .route("/api/v2/tickets/{id}", ticket)
        .route("/api/v2/tickets/{id}/comments.json", get(list_comments))
        .route("/api/v2/tickets/{id}/comments", get(list_comments))
        .route("/api/v2/tickets/{id}/audits.json", get(list_audits))
        .route("/api/v2/tickets/{id}/audits", get(list_audits))
        .route("/api/v2/tickets/{id}/tags.json", tags.clone())
        .route("/api/v2/tickets/{id}/tags", tags)
        .route("/api/v2/tags.json", get(list_tags))
        .route("/api/v2/tags", get(list_tags))
        .route("/api/v2/ticket_fields.json", ticket_fields.clone())
        .route("/api/v2/ticket_fields", ticket_fields)
        .route("/api/v2/ticket_fields/{id}", ticket_field)
        .route("/api/v2/search.json", get(search))
        .route("/api/v2/search", get(search))
        .route("/api/v2/search/count.json", get(search_count))
        .route("/api/v2/search/count", get(search_count))
}

/// The OpenAPI description of every handler in this module, merged into
/// the document served at `/api/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::list_tickets,
    handlers::show_ticket,
    handlers::show_many_tickets,
    handlers::count_tickets,
    handlers::create_ticket,
    handlers::update_ticket,
    handlers::delete_ticket,
    handlers::list_comments,
    handlers::list_audits,
    handlers::list_tags,
    handlers::show_ticket_tags,
    handlers::add_ticket_tags,
    handlers::set_ticket_tags,
    handlers::remove_ticket_tags,
    fields::list_ticket_fields,
    fields::show_ticket_field,
    fields::create_ticket_field,
    fields::update_ticket_field,
    fields::delete_ticket_field,
    search::search,
    search::search_count,
))]
pub struct TicketsApi;

/// The record id in a `/…/{id}` path, with or without `.json`. Anything that
/// is not a positive 64-bit number (including undecodable bytes) names no
/// record, so it is a 404 like any other missing id.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        parse_path_id(&raw).map(IdPath)
    }
}

/// Parses `sort_order` (`asc` or `desc`); `true` means descending.
pub fn parse_order(raw: Option<&str>, default_descending: bool) -> ApiResult<bool> {
    match raw {
        None | Some("") => Ok(default_descending),
        Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(other) => {
            let shown: String = other.chars().take(20).collect();
            Err(ApiError::bad_param(format!(
                "sort_order: '{shown}' is neither asc nor desc"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::*;

    #[test]
    fn the_openapi_description_lists_every_ticket_path_and_method() {
        let doc = TicketsApi::openapi();
        let json = serde_json::to_value(&doc).unwrap_or_default();
        let paths = &json["paths"];
        for (path, methods) in [
            ("/api/v2/tickets.json", &["get", "post"][..]),
            ("/api/v2/tickets/{id}.json", &["get", "put", "delete"]),
            ("/api/v2/tickets/show_many.json", &["get"]),
            ("/api/v2/tickets/count.json", &["get"]),
            ("/api/v2/tickets/{id}/comments.json", &["get"]),
            ("/api/v2/tickets/{id}/audits.json", &["get"]),
            (
                "/api/v2/tickets/{id}/tags.json",
                &["get", "put", "post", "delete"],
            ),
            ("/api/v2/tags.json", &["get"]),
            ("/api/v2/ticket_fields.json", &["get", "post"]),
            ("/api/v2/ticket_fields/{id}.json", &["get", "put", "delete"]),
            ("/api/v2/search.json", &["get"]),
            ("/api/v2/search/count.json", &["get"]),
        ] {
            for method in methods {
                let op = &paths[path][method];
                assert!(op["responses"].is_object(), "{method} {path}: {op}");
            }
        }
        assert!(paths["/api/v2/tickets/{id}.json"]["put"]["requestBody"].is_object());
    }

    #[test]
    fn sort_orders_are_asc_or_desc() {
        assert_eq!(parse_order(None, true).ok(), Some(true));
        assert_eq!(parse_order(Some("asc"), true).ok(), Some(false));
        assert_eq!(parse_order(Some("desc"), false).ok(), Some(true));
        assert!(parse_order(Some("DESC"), false).is_err());
    }
}
