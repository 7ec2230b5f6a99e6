//! `/api/v2/users`: who is calling, listing, showing, creating and changing
//! people, and the tickets a person requested or is assigned.
//!
//! Access rules are in [`super::rules`]; in short, staff see everyone, an
//! end-user sees only themselves (403 for any other id, decided before the id
//! is looked up), admins change anyone, agents change end-users (not roles or
//! passwords), and everyone may change their own name, locale and time zone.
//! A password is accepted on create (anyone allowed to create) and on update
//! (admins only), hashed with argon2id, and never returned.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::Json;
use serde_json::Value;
use zaffre_domain::search::{TicketFilter, TicketSort, UserFilter, UserRef};
use zaffre_domain::validation::{ErrorKind, ValidationErrors};
use zaffre_domain::{AccountId, NewUser, OrganizationId, Role, UserId};
use zaffre_store::StoreError;

use super::rules::{self, UserInput};
use super::{duplicate, list_body, one, root_object, IdPath, Staff};
use crate::api::paging::PageRequest;
use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// Most ids `show_many` accepts, as Zendesk.
pub const MAX_SHOW_MANY: usize = 100;

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/api/v2/users/me.json",
    tag = "Users",
    description = "The authenticated user, any role. Anonymous requests answer 401 (Zendesk answers \
                   an anonymous placeholder user; zaffre's API has no anonymous access).",
    responses(
        (status = 200, description = "The caller", body = crate::api::openapi::schemas::UserResponse),
        (status = 401, description = "No valid credentials", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn show_me(base: BaseUrl, caller: Caller) -> Json<Value> {
    Json(one("user", shapes::user(&base, &caller.user)))
}

/// Lists the account's users.
#[utoipa::path(
    get,
    path = "/api/v2/users.json",
    tag = "Users",
    description = "Staff only. Filter by `role=agent` or `role[]=agent&role[]=admin`. Offset \
                   (`page`, `per_page`) or cursor (`page[size]`, `page[after]`) pagination, in id order.",
    params(
        ("role" = Option<String>, Query, description = "end-user, agent or admin"),
        ("role[]" = Option<Vec<String>>, Query, description = "Several roles"),
        crate::api::openapi::PagingParams,
    ),
    responses(
        (status = 200, description = "A page of users", body = crate::api::openapi::schemas::UsersResponse),
        (status = 400, description = "A bad role or page parameter", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "End-users may not list users", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    base: BaseUrl,
    Staff(caller): Staff,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let filter = UserFilter {
        roles: roles_from_query(uri.query())?,
        ..UserFilter::default()
    };
    let paging = PageRequest::from_query(uri.query())?;
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

/// Several users by id.
#[utoipa::path(
    get,
    path = "/api/v2/users/show_many.json",
    tag = "Users",
    description = "Staff only. `ids` is a comma-separated list of up to 100 ids; ids that do not \
                   exist in the account are left out.",
    params(("ids" = String, Query, description = "Comma-separated user ids", example = "1,2,3")),
    responses(
        (status = 200, description = "The users found", body = crate::api::openapi::schemas::UsersResponse),
        (status = 400, description = "Missing or malformed ids", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "End-users may not look up users", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn show_many_users(
    State(state): State<AppState>,
    base: BaseUrl,
    Staff(caller): Staff,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let ids = ids_from_query(uri.query())?;
    let users = state.store.get_users(caller.account, &ids).await?;
    let rendered: Vec<Value> = users.iter().map(|u| shapes::user(&base, u)).collect();
    Ok(Json(
        serde_json::json!({ "users": rendered, "count": rendered.len() }),
    ))
}

/// One user.
#[utoipa::path(
    get,
    path = "/api/v2/users/{id}.json",
    tag = "Users",
    description = "Staff: any user of the account. End-users: only themselves; any other id \
                   answers 403 whether or not it exists.",
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = crate::api::openapi::schemas::UserResponse),
        (status = 403, description = "An end-user asking for someone else", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such user in this account", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn show_user(
    State(state): State<AppState>,
    base: BaseUrl,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    let id = UserId(id);
    rules::may_view_user(&caller.user, id)?;
    let user = state.store.get_user(caller.account, id).await?;
    Ok(Json(one("user", shapes::user(&base, &user))))
}

/// Creates a user.
#[utoipa::path(
    post,
    path = "/api/v2/users.json",
    tag = "Users",
    description = "Staff only. Agents may create end-users; admins any role. `name` and `email` \
                   are required; the role defaults to end-user, the time zone to UTC, the locale \
                   to en-US. An email already used in the account is a 422 with \
                   `details.email[0].error = DuplicateValue`. A `password` (8 characters or more) \
                   lets the user sign in; it is stored as an argon2id hash and never returned.",
    request_body = crate::api::openapi::schemas::UserRequest,
    responses(
        (status = 201, description = "The new user", body = crate::api::openapi::schemas::UserResponse),
        (status = 400, description = "Malformed JSON", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "An end-user, or an agent creating staff", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "Invalid or duplicate values", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    base: BaseUrl,
    Staff(caller): Staff,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = UserInput::parse(root_object(&body, "user")?)?;
    let draft = input.draft()?;
    rules::may_create_user(&caller.user, draft.role)?;

    // Checks that need the store, reported together like the rest.
    let mut errors = ValidationErrors::default();
    check_organization(&state, caller.account, draft.organization_id, &mut errors).await?;
    if email_owner(&state, caller.account, &draft.email)
        .await?
        .is_some()
    {
        errors.add(
            "email",
            ErrorKind::DuplicateValue,
            email_taken(&draft.email),
        );
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }

    let password_hash = match &input.password {
        Some(password) => Some(hash(password.clone()).await?),
        None => None,
    };
    let new = NewUser {
        name: draft.name,
        email: draft.email.clone(),
        role: draft.role,
        organization_id: draft.organization_id,
        time_zone: draft.time_zone,
        locale: draft.locale,
        password_hash,
    };
    let user = match state.store.create_user(caller.account, &new).await {
        Ok(user) => user,
        Err(e) => return Err(write_failure(&state, caller.account, &draft.email, None, e).await),
    };
    tracing::info!(user.id = %user.id, role = %user.role, by = %caller.user.id, "user created");
    Ok((
        StatusCode::CREATED,
        Json(one("user", shapes::user(&base, &user))),
    ))
}

/// Changes a user.
#[utoipa::path(
    put,
    path = "/api/v2/users/{id}.json",
    tag = "Users",
    description = "Admins change anyone (but not their own role). Agents change end-users' name, \
                   email, organization, time zone and locale, never roles or passwords. Everyone \
                   may change their own name, time zone and locale. Attributes sent with their \
                   current value are not changes. A forbidden change answers 403 and writes nothing.",
    params(("id" = i64, Path, description = "The user's id")),
    request_body = crate::api::openapi::schemas::UserRequest,
    responses(
        (status = 200, description = "The changed user", body = crate::api::openapi::schemas::UserResponse),
        (status = 400, description = "Malformed JSON", body = crate::api::openapi::schemas::ErrorBody),
        (status = 403, description = "A change the caller may not make", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such user in this account", body = crate::api::openapi::schemas::ErrorBody),
        (status = 422, description = "Invalid or duplicate values", body = crate::api::openapi::schemas::InvalidBody),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    base: BaseUrl,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let id = UserId(id);
    // End-users learn nothing about other ids, not even whether they exist.
    rules::may_view_user(&caller.user, id)?;
    let input = UserInput::parse(root_object(&body, "user")?)?;
    let target = state.store.get_user(caller.account, id).await?;
    let changes = input.changes(&target);
    rules::may_update_user(&caller.user, &target, &changes)?;
    if changes.is_empty() {
        return Ok(Json(one("user", shapes::user(&base, &target))));
    }

    let mut errors = ValidationErrors::default();
    if changes.contains(&"organization_id") {
        let org = input.organization_id.flatten();
        check_organization(&state, caller.account, org, &mut errors).await?;
    }
    let new_email = input
        .email
        .as_deref()
        .filter(|_| changes.contains(&"email"));
    if let Some(email) = new_email {
        if email_owner(&state, caller.account, email)
            .await?
            .is_some_and(|owner| owner != id)
        {
            errors.add("email", ErrorKind::DuplicateValue, email_taken(email));
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }

    // Hash before writing anything, so a hashing failure leaves the user untouched.
    let password_hash = match &input.password {
        Some(password) => Some(hash(password.clone()).await?),
        None => None,
    };
    let updated = state
        .store
        .update_user(caller.account, id, &input.patch())
        .await;
    // The user's API tokens must answer with the new role or activity from
    // the next request on (crate::cache); forgetting is cheap, so always do it.
    state.token_cache.invalidate_user(caller.account, id);
    let user = match updated {
        Ok(user) => user,
        Err(e) => {
            let email = new_email.unwrap_or_default();
            return Err(write_failure(&state, caller.account, email, Some(id), e).await);
        }
    };
    if let Some(hash) = password_hash {
        state
            .store
            .set_password_hash(caller.account, id, &hash)
            .await?;
    }
    tracing::info!(user.id = %id, by = %caller.user.id, changed = ?changes, "user updated");
    Ok(Json(one("user", shapes::user(&base, &user))))
}

/// Tickets a user requested.
#[utoipa::path(
    get,
    path = "/api/v2/users/{id}/tickets/requested.json",
    tag = "Users",
    description = "Staff: any user's. End-users: only their own (403 otherwise). Paginated like \
                   the ticket list.",
    params(("id" = i64, Path, description = "The user's id"), crate::api::openapi::PagingParams),
    responses(
        (status = 200, description = "A page of tickets", body = crate::api::openapi::schemas::TicketsResponse),
        (status = 403, description = "An end-user asking about someone else", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such user in this account", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_requested_tickets(
    State(state): State<AppState>,
    base: BaseUrl,
    caller: Caller,
    IdPath(id): IdPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let id = UserId(id);
    let filter = TicketFilter {
        requester: Some(UserRef::Id(id)),
        ..TicketFilter::default()
    };
    user_tickets(&state, &base, &caller, id, filter, &uri).await
}

/// Tickets assigned to a user.
#[utoipa::path(
    get,
    path = "/api/v2/users/{id}/tickets/assigned.json",
    tag = "Users",
    description = "Staff: any user's. End-users: only their own, which is always empty since \
                   end-users are never assignees (403 for anyone else's).",
    params(("id" = i64, Path, description = "The user's id"), crate::api::openapi::PagingParams),
    responses(
        (status = 200, description = "A page of tickets", body = crate::api::openapi::schemas::TicketsResponse),
        (status = 403, description = "An end-user asking about someone else", body = crate::api::openapi::schemas::ErrorBody),
        (status = 404, description = "No such user in this account", body = crate::api::openapi::schemas::ErrorBody),
    )
)]
pub async fn list_assigned_tickets(
    State(state): State<AppState>,
    base: BaseUrl,
    caller: Caller,
    IdPath(id): IdPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let id = UserId(id);
    let filter = TicketFilter {
        assignee: Some(UserRef::Id(id)),
        ..TicketFilter::default()
    };
    user_tickets(&state, &base, &caller, id, filter, &uri).await
}

/// The shared part of the two ticket lists: access, existence, paging, shapes.
async fn user_tickets(
    state: &AppState,
    base: &BaseUrl,
    caller: &Caller,
    id: UserId,
    mut filter: TicketFilter,
    uri: &Uri,
) -> ApiResult<Json<Value>> {
    rules::may_view_user(&caller.user, id)?;
    let paging = PageRequest::from_query(uri.query())?;
    // A list for an id that is not in the account is 404, not an empty list.
    state.store.get_user(caller.account, id).await?;
    if !caller.user.role.is_staff() {
        filter.visible_to_requester = Some(caller.user.id);
    }
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
        |t| shapes::ticket(base, t, &fields),
        |t| t.id.get(),
        &paging,
        base,
        uri,
    )))
}

/// `role=…` or `role[]=…&role[]=…` from a query string; `None` when absent.
fn roles_from_query(query: Option<&str>) -> ApiResult<Option<Vec<Role>>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad_param(format!("Invalid query parameters: {e}")))?;
    let mut roles = Vec::new();
    for (key, value) in pairs {
        if key != "role" && key != "role[]" {
            continue;
        }
        let role = Role::parse(value.trim())
            .ok_or_else(|| ApiError::bad_param("role must be end-user, agent or admin"))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok((!roles.is_empty()).then_some(roles))
}

/// `ids=1,2,3` from a query string: required, at most [`MAX_SHOW_MANY`], each a positive integer.
fn ids_from_query(query: Option<&str>) -> ApiResult<Vec<UserId>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad_param(format!("Invalid query parameters: {e}")))?;
    let raw = pairs
        .iter()
        .find(|(k, _)| k == "ids")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_param("ids is required: a comma-separated list of user ids")
        })?;
    let mut ids = Vec::new();
    for part in raw.split(',') {
        let id = part
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| ApiError::bad_param("ids must be a comma-separated list of user ids"))?;
        if !ids.contains(&UserId(id)) {
            ids.push(UserId(id));
        }
    }
    if ids.len() > MAX_SHOW_MANY {
        return Err(ApiError::bad_param(format!(
            "ids may list at most {MAX_SHOW_MANY} users"
        )));
    }
    Ok(ids)
}

/// Adds an `organization_id` error when the organization is not in the account.
async fn check_organization(
    state: &AppState,
    account: AccountId,
    org: Option<OrganizationId>,
    errors: &mut ValidationErrors,
) -> ApiResult<()> {
    let Some(org) = org else { return Ok(()) };
    match state.store.get_organization(account, org).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => {
            errors.add(
                "organization_id",
                ErrorKind::InvalidValue,
                format!("Organization: {org} does not exist"),
            );
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Who in the account has this email, if anyone.
async fn email_owner(
    state: &AppState,
    account: AccountId,
    email: &str,
) -> ApiResult<Option<UserId>> {
    match state.store.get_user_by_email(account, email).await {
        Ok(user) => Ok(Some(user.id)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn email_taken(email: &str) -> String {
    format!("Email: {email} is already being used by another user")
}

/// Explains a failed user write. The checks above run before writing, but a
/// concurrent request can take the email in between: the store then reports a
/// conflict, which is a duplicate email if someone else now has it.
async fn write_failure(
    state: &AppState,
    account: AccountId,
    email: &str,
    me: Option<UserId>,
    e: StoreError,
) -> ApiError {
    let StoreError::Conflict(_) = &e else {
        return e.into();
    };
    match email_owner(state, account, email).await {
        Ok(Some(owner)) if Some(owner) != me => duplicate("email", email_taken(email)),
        _ => e.into(),
    }
}

/// Hashes a password off the async threads: argon2id takes tens of milliseconds by design.
async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing panicked: {e}")))?
}
