//! `/api/v2/groups`: the groups tickets are routed to.
//!
//! Staff read; admins create; end-users get 403 (groups are internal to the
//! support team). zaffre groups are never deleted or made private.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::Json;
use serde_json::Value;
use zaffre_domain::GroupId;
use zaffre_store::StoreError;

use super::rules;
use super::{duplicate, list_body, one, page_in_memory, root_object, Admin, IdPath, Staff};
use crate::api::paging::PageRequest;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// Lists groups.
#[utoipa::path(
    get,
    path = "/api/v2/groups.json",
    tag = "Groups",
    description = "Staff only. In id order, with offset or cursor pagination.",
    params(crate::api::openapi::PagingParams),
    responses(
        (status = 200, description = "A page of groups", body = crate::api::openapi::schemas::GroupsResponse),
        (status = 403, description = "Not staff", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_groups(
    State(state): State<AppState>,
    base: BaseUrl,
    Staff(caller): Staff,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let paging = PageRequest::from_query(uri.query())?;
    let groups = state.store.list_groups(caller.account).await?;
    let listing = page_in_memory(groups, &paging, |g| g.id.get());
    Ok(Json(list_body(
        "groups",
        &listing,
        |g| shapes::group(&base, g),
        |g| g.id.get(),
        &paging,
        &base,
        &uri,
    )))
}

/// One group.
#[utoipa::path(
    get,
    path = "/api/v2/groups/{id}.json",
    tag = "Groups",
    description = "Staff only.",
    params(("id" = i64, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group", body = crate::api::openapi::schemas::GroupResponse),
        (status = 403, description = "Not staff", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such group in this account", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn show_group(
    State(state): State<AppState>,
    base: BaseUrl,
    Staff(caller): Staff,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    let group = state.store.get_group(caller.account, GroupId(id)).await?;
    Ok(Json(one("group", shapes::group(&base, &group))))
}

/// Creates a group.
#[utoipa::path(
    post,
    path = "/api/v2/groups.json",
    tag = "Groups",
    description = "Admins only. `name` is required and unique in the account (a taken name is a \
                   422 with `details.name[0].error = DuplicateValue`).",
    request_body = crate::api::openapi::schemas::GroupRequest,
    responses(
        (status = 201, description = "The new group", body = crate::api::openapi::schemas::GroupResponse),
        (status = 400, description = "Malformed JSON", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "Invalid or duplicate values", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn create_group(
    State(state): State<AppState>,
    base: BaseUrl,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = rules::parse_new_group(root_object(&body, "group")?)?;
    let group = state
        .store
        .create_group(caller.account, &new)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                duplicate("name", format!("Name: {} has already been taken", new.name))
            }
            other => other.into(),
        })?;
    tracing::info!(group.id = %group.id, by = %caller.user.id, "group created");
    Ok((
        StatusCode::CREATED,
        Json(one("group", shapes::group(&base, &group))),
    ))
}
