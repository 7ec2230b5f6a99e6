//! People: users, organizations and groups under `/api/v2`, in Zendesk's shapes.
//!
//! Handlers live in one file per resource and stay thin: extract, authorise,
//! parse with [`rules`], call the store, render with [`crate::shapes`]. What
//! they share is here: the role-gated caller extractors (so a handler's
//! signature states who may call it, and the check runs before the body is
//! even read), list rendering with Zendesk's
//! pagination, and the mapping of uniqueness conflicts to 422 `DuplicateValue`.
//!
//! Every path is served with and without Zendesk's `.json` suffix.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Uri;
use axum::routing::{get, MethodRouter};
use axum::Router;
use serde_json::{json, Map, Value};
use zaffre_domain::validation::{ErrorKind, ValidationErrors};
use zaffre_store::Listing;

use crate::api::paging::PageRequest;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::shapes::BaseUrl;
use crate::state::AppState;

/// Ids in paths are read like the tickets API's, `5` or `5.json`; anything
/// else is 404.
pub use crate::api::tickets::IdPath;

pub mod groups;
pub mod organizations;
pub mod rules;
pub mod users;

/// Every people route.
pub fn routes() -> Router<AppState> {
    let router = Router::new();
    // Static segments (`me`, `show_many`) take precedence over `{id}` in axum's
    // router, so they are not mistaken for ids.
    let router = both(router, "/api/v2/users/me", get(users::show_me));
    let router = both(
        router,
        "/api/v2/users/show_many",
        get(users::show_many_users),
    );
    let router = both(
        router,
        "/api/v2/users",
        get(users::list_users).post(users::create_user),
    );
    let router = router.route(
        "/api/v2/users/{id}",
        get(users::show_user).put(users::update_user),
    );
    let router = both(
        router,
        "/api/v2/users/{id}/tickets/requested",
        get(users::list_requested_tickets),
    );
    let router = both(
        router,
        "/api/v2/users/{id}/tickets/assigned",
        get(users::list_assigned_tickets),
    );

    let router = both(
        router,
        "/api/v2/organizations",
        get(organizations::list_organizations).post(organizations::create_organization),
    );
    let router = router.route(
        "/api/v2/organizations/{id}",
        get(organizations::show_organization)
            .put(organizations::update_organization)
            .delete(organizations::delete_organization),
    );
    let router = both(
        router,
        "/api/v2/organizations/{id}/users",
        get(organizations::list_organization_users),
    );
    let router = both(
        router,
        "/api/v2/organizations/{id}/tickets",
        get(organizations::list_organization_tickets),
    );

    let router = both(
        router,
        "/api/v2/groups",
        get(groups::list_groups).post(groups::create_group),
    );
    router.route("/api/v2/groups/{id}", get(groups::show_group))
}

/// Registers `path` and `path.json` (a `{id}` segment already matches `5.json`).
fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    router
        .route(&format!("{path}.json"), handler.clone())
        .route(path, handler)
}

/// A caller who is an agent or an admin; anyone else gets 403 (401 when anonymous).
pub struct Staff(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require_staff()?;
        Ok(Staff(caller))
    }
}

/// A caller who is an admin; anyone else gets 403 (401 when anonymous).
pub struct Admin(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require_admin()?;
        Ok(Admin(caller))
    }
}

/// A list response: `{key: [...]}` plus Zendesk's pagination fields for `paging`.
pub fn list_body<T>(
    key: &str,
    listing: &Listing<T>,
    render: impl Fn(&T) -> Value,
    id_of: impl Fn(&T) -> i64,
    paging: &PageRequest,
    base: &BaseUrl,
    uri: &Uri,
) -> Value {
    let mut body = Map::new();
    body.insert(
        key.to_owned(),
        Value::Array(listing.items.iter().map(render).collect()),
    );
    paging.decorate(
        &mut body,
        base,
        uri,
        listing.total,
        listing.has_more,
        listing.items.last().map(id_of),
    );
    Value::Object(body)
}

/// Pages a complete, id-ordered list in memory, for the few small resources
/// the store returns whole (an account has a handful of groups).
pub fn page_in_memory<T>(
    items: Vec<T>,
    paging: &PageRequest,
    id_of: impl Fn(&T) -> i64,
) -> Listing<T> {
    match *paging {
        PageRequest::Offset { page, per_page } => {
            let total = items.len() as u64;
            let skip = usize::try_from((page - 1).saturating_mul(u64::from(per_page)))
                .unwrap_or(usize::MAX);
            Listing {
                items: items
                    .into_iter()
                    .skip(skip)
                    .take(per_page as usize)
                    .collect(),
                total: Some(total),
                has_more: false,
            }
        }
        PageRequest::Cursor { size, after } => {
            let mut rest: Vec<T> = items
                .into_iter()
                .filter(|item| after.is_none_or(|a| id_of(item) > a))
                .collect();
            let has_more = rest.len() > size as usize;
            rest.truncate(size as usize);
            Listing {
                items: rest,
                total: None,
                has_more,
            }
        }
    }
}

/// A 422 saying another record already has this value.
pub fn duplicate(attribute: &str, description: impl Into<String>) -> ApiError {
    ApiError::Invalid(ValidationErrors::single(
        attribute,
        ErrorKind::DuplicateValue,
        description,
    ))
}

/// The `{"user": {...}}`-style wrapper of a write body: the named object, or a
/// 400 saying what was expected.
pub fn root_object<'a>(body: &'a Value, key: &str) -> Result<&'a Map<String, Value>, ApiError> {
    body.get(key).and_then(Value::as_object).ok_or_else(|| {
        ApiError::BadRequest(
            "InvalidJSON",
            format!("The body must be a JSON object with a \"{key}\" object"),
        )
    })
}

/// The single-record body: `{key: record}`.
pub fn one(key: &str, record: Value) -> Value {
    json!({ key: record })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_pages_match_the_store_s_semantics() {
        let items: Vec<i64> = (1..=5).collect();
        let offset = page_in_memory(
            items.clone(),
            &PageRequest::Offset {
                page: 2,
                per_page: 2,
            },
            |i| *i,
        );
        assert_eq!((offset.items, offset.total), (vec![3, 4], Some(5)));
        let cursor = page_in_memory(
            items.clone(),
            &PageRequest::Cursor {
                size: 2,
                after: Some(3),
            },
            |i| *i,
        );
        assert_eq!((cursor.items, cursor.has_more), (vec![4, 5], false));
        let first = page_in_memory(
            items,
            &PageRequest::Cursor {
                size: 2,
                after: None,
            },
            |i| *i,
        );
        assert_eq!((first.items, first.has_more), (vec![1, 2], true));
    }
}
