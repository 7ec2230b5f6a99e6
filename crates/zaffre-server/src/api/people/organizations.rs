//! `/api/v2/organizations`: listing, showing, creating, changing and deleting
//! organizations, and their users and tickets.
//!
//! Staff read every organization of the account; end-users read only their
//! own (the list shows just it; any other id is 403 without a lookup). Writes
//! are admin-only: Zendesk lets agents create organizations when given an
//! extra permission, which zaffre does not have. Deleting an organization
//! keeps its members and tickets; they simply lose the organization.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::Json;
use serde_json::Value;
use zaffre_domain::search::{NamedRef, TicketFilter, TicketSort, UserFilter};
use zaffre_domain::OrganizationId;
use zaffre_store::{Listing, StoreError};

use super::rules::{self, OrganizationInput};
use super::{duplicate, list_body, one, root_object, Admin, IdPath, Staff};
use crate::api::paging::PageRequest;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// Lists organizations.
#[utoipa::path(
    get,
    path = "/api/v2/organizations.json",
    tag = "Organizations",
    description = "Staff: every organization of the account, in id order, with offset or cursor \
                   pagination. End-users: only their own organization (an empty list if they have none).",
    params(crate::api::openapi::PagingParams),
    responses(
        (status = 200, description = "A page of organizations", body = crate::api::openapi::schemas::OrganizationsResponse),
        (status = 400, description = "A bad page parameter", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_organizations(
    State(state): State<AppState>,
    base: BaseUrl,
    caller: Caller,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let paging = PageRequest::from_query(uri.query())?;
    let listing = if caller.user.role.is_staff() {
        state
            .store
            .list_organizations(caller.account, &[], paging.store_page(false))
            .await?
    } else {
        let own = match caller.user.organization_id {
            Some(id) => match state.store.get_organization(caller.account, id).await {
                Ok(org) => vec![org],
                Err(StoreError::NotFound) => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            None => Vec::new(),
        };
        super::page_in_memory(own, &paging, |o| o.id.get())
    };
    Ok(Json(render_list(&listing, &paging, &base, &uri)))
}

/// One organization.
#[utoipa::path(
    get,
    path = "/api/v2/organizations/{id}.json",
    tag = "Organizations",
    description = "Staff: any organization of the account. End-users: only their own (403 otherwise).",
    params(("id" = i64, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The organization", body = crate::api::openapi::schemas::OrganizationResponse),
        (status = 403, description = "An end-user asking for another organization", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such organization in this account", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn show_organization(
    State(state): State<AppState>,
    base: BaseUrl,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    let id = OrganizationId(id);
    rules::may_view_organization(&caller.user, id)?;
    let org = state.store.get_organization(caller.account, id).await?;
    Ok(Json(one("organization", shapes::organization(&base, &org))))
}

/// Creates an organization.
#[utoipa::path(
    post,
    path = "/api/v2/organizations.json",
    tag = "Organizations",
    description = "Admins only. `name` is required and unique in the account (a taken name is a \
                   422 with `details.name[0].error = DuplicateValue`). `domain_names` and `tags` \
                   take arrays or space-separated text.",
    request_body = crate::api::openapi::schemas::OrganizationRequest,
    responses(
        (status = 201, description = "The new organization", body = crate::api::openapi::schemas::OrganizationResponse),
        (status = 400, description = "Malformed JSON", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "Invalid or duplicate values", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn create_organization(
    State(state): State<AppState>,
    base: BaseUrl,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = OrganizationInput::parse(root_object(&body, "organization")?)?.into_new()?;
    let org = state
        .store
        .create_organization(caller.account, &new)
        .await
        .map_err(|e| name_conflict(e, &new.name))?;
    tracing::info!(organization.id = %org.id, by = %caller.user.id, "organization created");
    Ok((
        StatusCode::CREATED,
        Json(one("organization", shapes::organization(&base, &org))),
    ))
}

/// Changes an organization.
#[utoipa::path(
    put,
    path = "/api/v2/organizations/{id}.json",
    tag = "Organizations",
    description = "Admins only. Attributes left out keep their values.",
    params(("id" = i64, Path, description = "The organization's id")),
    request_body = crate::api::openapi::schemas::OrganizationRequest,
    responses(
        (status = 200, description = "The changed organization", body = crate::api::openapi::schemas::OrganizationResponse),
        (status = 400, description = "Malformed JSON", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such organization in this account", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "Invalid or duplicate values", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn update_organization(
    State(state): State<AppState>,
    base: BaseUrl,
    Admin(caller): Admin,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let id = OrganizationId(id);
    let patch = OrganizationInput::parse(root_object(&body, "organization")?)?.into_patch();
    let name = patch.name.clone().unwrap_or_default();
    let org = state
        .store
        .update_organization(caller.account, id, &patch)
        .await
        .map_err(|e| name_conflict(e, &name))?;
    tracing::info!(organization.id = %id, by = %caller.user.id, "organization updated");
    Ok(Json(one("organization", shapes::organization(&base, &org))))
}

/// Deletes an organization.
#[utoipa::path(
    delete,
    path = "/api/v2/organizations/{id}.json",
    tag = "Organizations",
    description = "Admins only. Members and tickets stay and lose the organization.",
    params(("id" = i64, Path, description = "The organization's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such organization in this account", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn delete_organization(
    State(state): State<AppState>,
    Admin(caller): Admin,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    let id = OrganizationId(id);
    let deleted = state.store.delete_organization(caller.account, id).await;
    // Its members lose their organization: callers remembered by their API
    // token must show that from the next request on (crate::cache).
    state.token_cache.invalidate_account(caller.account);
    deleted?;
    tracing::info!(organization.id = %id, by = %caller.user.id, "organization deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// An organization's members.
#[utoipa::path(
    get,
    path = "/api/v2/organizations/{id}/users.json",
    tag = "Organizations",
    description = "Staff only. Paginated like the user list.",
    params(("id" = i64, Path, description = "The organization's id"), crate::api::openapi::PagingParams),
    responses(
        (status = 200, description = "A page of users", body = crate::api::openapi::schemas::UsersResponse),
        (status = 403, description = "Not staff", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such organization in this account", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_organization_users(
    State(state): State<AppState>,
    base: BaseUrl,
    Staff(caller): Staff,
    IdPath(id): IdPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let id = OrganizationId(id);
    let paging = PageRequest::from_query(uri.query())?;
    state.store.get_organization(caller.account, id).await?;
    let filter = UserFilter {
        organization_id: Some(id),
        ..UserFilter::default()
    };
    let listing = state
        .store
        .list_users(caller.account, &filter, paging.store_page(false))
        .await?;
    Ok(Json(list_body(
        "users",
        &listing,
        |u| shapes::user(&base, u),
        |u| u.id.get(),
        &paging,
        &base,
        &uri,
    )))
}

/// An organization's tickets.
#[utoipa::path(
    get,
    path = "/api/v2/organizations/{id}/tickets.json",
    tag = "Organizations",
    description = "Staff only (zaffre organizations never share tickets with their members). \
                   Paginated like the ticket list.",
    params(("id" = i64, Path, description = "The organization's id"), crate::api::openapi::PagingParams),
    responses(
        (status = 200, description = "A page of tickets", body = crate::api::openapi::schemas::TicketsResponse),
        (status = 403, description = "Not staff", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such organization in this account", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_organization_tickets(
    State(state): State<AppState>,
    base: BaseUrl,
    Staff(caller): Staff,
    IdPath(id): IdPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let id = OrganizationId(id);
    let paging = PageRequest::from_query(uri.query())?;
    state.store.get_organization(caller.account, id).await?;
    let filter = TicketFilter {
        organization: Some(NamedRef::Id(id)),
        ..TicketFilter::default()
    };
    let listing = state
        .store
        .list_tickets(
            caller.account,
            &filter,
            TicketSort::Id,
            false,
            paging.store_page(false),
        )
        .await?;
    let fields = state.field_cache.get(&state.store, caller.account).await?;
    Ok(Json(list_body(
        "tickets",
        &listing,
        |t| shapes::ticket(&base, t, &fields),
        |t| t.id.get(),
        &paging,
        &base,
        &uri,
    )))
}

fn render_list(
    listing: &Listing<zaffre_domain::Organization>,
    paging: &PageRequest,
    base: &BaseUrl,
    uri: &Uri,
) -> Value {
    list_body(
        "organizations",
        listing,
        |o| shapes::organization(base, o),
        |o| o.id.get(),
        paging,
        base,
        uri,
    )
}

/// Organization names are unique in an account; the store reports a taken one as a conflict.
fn name_conflict(e: StoreError, name: &str) -> ApiError {
    match e {
        StoreError::Conflict(_) => {
            duplicate("name", format!("Name: {name} has already been taken"))
        }
        other => other.into(),
    }
}
