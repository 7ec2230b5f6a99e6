//! Handlers for tickets, their comments, audits and tags.
//!
//! Each one extracts, authorises, calls the store or [`service`] once, and
//! shapes the answer; the rules live in [`service`] and the domain crate.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use zaffre_domain::search::{TicketFilter, TicketSort};
use zaffre_domain::ticket::TicketPatch;
use zaffre_domain::{TicketId, UserId};

use super::service::{self, Includes};
use super::{parse_order, IdPath};
use crate::api::paging::PageRequest;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// The most ids `show_many` accepts, as in Zendesk.
pub const MAX_SHOW_MANY: usize = 100;
/// The most tags `GET /api/v2/tags.json` lists.
const MAX_TAGS_LISTED: u32 = 1000;

/// Query parameters of ticket lists.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    sort_by: Option<String>,
    sort_order: Option<String>,
    include: Option<String>,
}

/// Query parameters of single-ticket reads.
#[derive(Debug, Default, Deserialize)]
pub struct IncludeParams {
    include: Option<String>,
    sort_order: Option<String>,
}

/// `show_many`'s parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ShowManyParams {
    ids: Option<String>,
    include: Option<String>,
}

/// A `{"ticket": {…}}` body. The object is parsed by the domain's rules, which
/// report every bad attribute at once; only its being an object is checked here.
#[derive(Debug, Deserialize)]
pub struct TicketBody {
    ticket: Map<String, Value>,
}

/// A `{"tags": […]}` body.
#[derive(Debug, Deserialize)]
pub struct TagsBody {
    tags: Value,
}

/// `GET /api/v2/tickets.json`: staff see every ticket of the account,
/// end-users the tickets they requested.
#[utoipa::path(
    get, path = "/api/v2/tickets.json", tag = "Tickets",
    params(
        ("sort_by" = Option<String>, Query, description = "id (default), created_at, updated_at, status, priority, subject, ticket_type"),
        ("sort_order" = Option<String>, Query, description = "asc (default) or desc"),
        ("page" = Option<u64>, Query, description = "Offset pagination: page number"),
        ("per_page" = Option<u32>, Query, description = "Offset pagination: page size, at most 100"),
        ("page[size]" = Option<u32>, Query, description = "Cursor pagination: page size, at most 100"),
        ("page[after]" = Option<String>, Query, description = "Cursor pagination: the previous page's after_cursor"),
        ("include" = Option<String>, Query, description = "Sideloads: users, groups, organizations"),
    ),
    responses(
        (status = 200, description = "`{tickets: [...]}` with Zendesk's pagination fields"),
        (status = 400, description = "InvalidParams: a bad sort or page parameter"),
        (status = 401, description = "Not authenticated"),
    )
)]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    uri: Uri,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Value>> {
    let sort = match params.sort_by.as_deref() {
        None | Some("") => TicketSort::Id,
        Some(s) => TicketSort::parse(s).ok_or_else(|| {
            ApiError::bad_param(format!("sort_by: '{s}' is not a sortable column"))
        })?,
    };
    let descending = parse_order(params.sort_order.as_deref(), false)?;
    let page = PageRequest::from_query(uri.query())?;
    let filter = TicketFilter {
        visible_to_requester: (!caller.user.role.is_staff()).then_some(caller.user.id),
        ..TicketFilter::default()
    };
    let listing = state
        .store
        .list_tickets(
            caller.account,
            &filter,
            sort,
            descending,
            page.store_page(descending),
        )
        .await?;
    let fields = service::ticket_fields(&state, caller.account).await?;
    let mut body = Map::new();
    let shaped = listing
        .items
        .iter()
        .map(|t| shapes::ticket(&base, t, &fields))
        .collect();
    body.insert("tickets".into(), Value::Array(shaped));
    let inc = Includes::parse(params.include.as_deref());
    service::sideload(
        &state,
        caller.account,
        &base,
        inc,
        &listing.items,
        &[],
        &mut body,
    )
    .await?;
    let last = listing.items.last().map(|t| t.id.get());
    page.decorate(
        &mut body,
        &base,
        &uri,
        listing.total,
        listing.has_more,
        last,
    );
    Ok(Json(Value::Object(body)))
}

/// `GET /api/v2/tickets/count.json`: how many tickets the caller may see, in
/// Zendesk's `{count: {value, refreshed_at}}` shape (zaffre's count is exact
/// and current, so `refreshed_at` is now).
#[utoipa::path(
    get, path = "/api/v2/tickets/count.json", tag = "Tickets",
    responses(
        (status = 200, description = "`{count: {value, refreshed_at}}`"),
        (status = 401, description = "Not authenticated"),
    )
)]
pub async fn count_tickets(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let filter = TicketFilter {
        visible_to_requester: (!caller.user.role.is_staff()).then_some(caller.user.id),
        ..TicketFilter::default()
    };
    // One row is the least a page may ask for; only the total matters here.
    let probe = zaffre_domain::search::Page::Offset {
        offset: 0,
        limit: 1,
    };
    let total = state
        .store
        .list_tickets(caller.account, &filter, TicketSort::Id, false, probe)
        .await?
        .total
        .unwrap_or(0);
    let now = shapes::timestamp(&chrono::Utc::now());
    Ok(Json(
        json!({"count": {"value": total, "refreshed_at": now}}),
    ))
}

/// `GET /api/v2/tickets/{id}.json`.
#[utoipa::path(
    get, path = "/api/v2/tickets/{id}.json", tag = "Tickets",
    params(
        ("id" = i64, Path, description = "Ticket id"),
        ("include" = Option<String>, Query, description = "Sideloads: users, groups, organizations"),
    ),
    responses(
        (status = 200, description = "`{ticket: {...}}`"),
        (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such ticket, or not one the caller may see"),
    )
)]
pub async fn show_ticket(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    IdPath(id): IdPath,
    ApiQuery(params): ApiQuery<IncludeParams>,
) -> ApiResult<Json<Value>> {
    // The two reads are independent; running them together halves the latency.
    let (ticket, fields) = tokio::try_join!(
        service::visible_ticket(&state, &caller, TicketId(id)),
        service::ticket_fields(&state, caller.account),
    )?;
    let mut body = Map::new();
    body.insert("ticket".into(), shapes::ticket(&base, &ticket, &fields));
    let inc = Includes::parse(params.include.as_deref());
    service::sideload(
        &state,
        caller.account,
        &base,
        inc,
        &[ticket],
        &[],
        &mut body,
    )
    .await?;
    Ok(Json(Value::Object(body)))
}

/// `GET /api/v2/tickets/show_many.json?ids=1,2,3`: the listed tickets the
/// caller may see, in id order; ids that name nothing are left out.
#[utoipa::path(
    get, path = "/api/v2/tickets/show_many.json", tag = "Tickets",
    params(
        ("ids" = String, Query, description = "Comma-separated ticket ids, at most 100"),
        ("include" = Option<String>, Query, description = "Sideloads: users, groups, organizations"),
    ),
    responses(
        (status = 200, description = "`{tickets: [...]}`"),
        (status = 400, description = "InvalidParams: missing, malformed or too many ids"),
        (status = 401, description = "Not authenticated"),
    )
)]
pub async fn show_many_tickets(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    ApiQuery(params): ApiQuery<ShowManyParams>,
) -> ApiResult<Json<Value>> {
    let ids = parse_id_list(params.ids.as_deref())?;
    let tickets: Vec<_> = state
        .store
        .get_tickets(caller.account, &ids)
        .await?
        .into_iter()
        .filter(|t| service::can_see(&caller, t))
        .collect();
    let fields = service::ticket_fields(&state, caller.account).await?;
    let mut body = Map::new();
    let shaped = tickets
        .iter()
        .map(|t| shapes::ticket(&base, t, &fields))
        .collect();
    body.insert("tickets".into(), Value::Array(shaped));
    let inc = Includes::parse(params.include.as_deref());
    service::sideload(&state, caller.account, &base, inc, &tickets, &[], &mut body).await?;
    Ok(Json(Value::Object(body)))
}

/// Parses `1,2,3`: every entry a positive id, at least one, at most [`MAX_SHOW_MANY`].
fn parse_id_list(raw: Option<&str>) -> ApiResult<Vec<TicketId>> {
    let raw = raw.unwrap_or("").trim();
    if raw.is_empty() {
        return Err(ApiError::bad_param(
            "ids: give a comma-separated list of ticket ids",
        ));
    }
    let mut ids = Vec::new();
    for part in raw.split(',') {
        let part = part.trim();
        match part.parse::<i64>() {
            Ok(id) if id > 0 => ids.push(TicketId(id)),
            _ => {
                let shown: String = part.chars().take(20).collect();
                return Err(ApiError::bad_param(format!(
                    "ids: '{shown}' is not a ticket id"
                )));
            }
        }
    }
    if ids.len() > MAX_SHOW_MANY {
        return Err(ApiError::bad_param(format!(
            "ids: at most {MAX_SHOW_MANY} ids at a time"
        )));
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// `POST /api/v2/tickets.json`: creates a ticket with its first comment.
#[utoipa::path(
    post, path = "/api/v2/tickets.json", tag = "Tickets",
    request_body(content = Object, description = "`{ticket: {subject, comment: {body | html_body, public}, requester_id, status, priority, type, assignee_id, group_id, organization_id, tags, custom_fields: [{id, value}]}}`", content_type = "application/json"),
    responses(
        (status = 201, description = "`{ticket: {...}, audit: {...}}`"),
        (status = 400, description = "The body is not JSON, not UTF-8 or not `{ticket: {...}}`"),
        (status = 401, description = "Not authenticated"),
        (status = 413, description = "The body is larger than the configured limit"),
        (status = 422, description = "RecordInvalid, with `details` per attribute"),
    )
)]
pub async fn create_ticket(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    ApiJson(body): ApiJson<TicketBody>,
) -> ApiResult<impl IntoResponse> {
    let written = service::create(&state, &caller, &body.ticket).await?;
    let shaped = shapes::ticket(&base, &written.ticket, &written.fields);
    let location = format!("{}/api/v2/tickets/{}.json", base.0, written.ticket.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(json!({"ticket": shaped, "audit": written.audit})),
    ))
}

/// `PUT /api/v2/tickets/{id}.json`: changes the given properties and/or adds a comment.
#[utoipa::path(
    put, path = "/api/v2/tickets/{id}.json", tag = "Tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body(content = Object, description = "`{ticket: {...changed properties..., comment: {...}, safe_update, updated_stamp}}`", content_type = "application/json"),
    responses(
        (status = 200, description = "`{ticket: {...}, audit: {...} | null}`"),
        (status = 400, description = "The body is not JSON, not UTF-8 or not `{ticket: {...}}`"),
        (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such ticket, or not one the caller may see"),
        (status = 409, description = "UpdateConflict: safe_update and the ticket changed since updated_stamp"),
        (status = 413, description = "The body is larger than the configured limit"),
        (status = 422, description = "RecordInvalid, with `details` per attribute (also: the ticket is closed)"),
    )
)]
pub async fn update_ticket(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TicketBody>,
) -> ApiResult<Json<Value>> {
    let written = service::update(&state, &caller, TicketId(id), &body.ticket).await?;
    let shaped = shapes::ticket(&base, &written.ticket, &written.fields);
    Ok(Json(json!({"ticket": shaped, "audit": written.audit})))
}

/// `DELETE /api/v2/tickets/{id}.json` (agents and admins).
#[utoipa::path(
    delete, path = "/api/v2/tickets/{id}.json", tag = "Tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses(
        (status = 204, description = "Deleted, with its comments and audits"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "End-users cannot delete tickets"),
        (status = 404, description = "No such ticket"),
    )
)]
pub async fn delete_ticket(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    caller.require_staff()?;
    service::delete(&state, &caller, TicketId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v2/tickets/{id}/comments.json`: oldest first; end-users do not
/// see internal notes.
#[utoipa::path(
    get, path = "/api/v2/tickets/{id}/comments.json", tag = "Tickets",
    params(
        ("id" = i64, Path, description = "Ticket id"),
        ("sort_order" = Option<String>, Query, description = "asc (default) or desc"),
        ("include" = Option<String>, Query, description = "Sideloads: users"),
        ("page" = Option<u64>, Query, description = "Offset pagination: page number"),
        ("per_page" = Option<u32>, Query, description = "Offset pagination: page size, at most 100"),
        ("page[size]" = Option<u32>, Query, description = "Cursor pagination: page size"),
        ("page[after]" = Option<String>, Query, description = "Cursor pagination: the previous page's after_cursor"),
    ),
    responses(
        (status = 200, description = "`{comments: [...]}` with pagination fields"),
        (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such ticket, or not one the caller may see"),
    )
)]
pub async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    uri: Uri,
    IdPath(id): IdPath,
    ApiQuery(params): ApiQuery<IncludeParams>,
) -> ApiResult<Json<Value>> {
    let descending = parse_order(params.sort_order.as_deref(), false)?;
    let page = PageRequest::from_query(uri.query())?;
    let ticket = service::visible_ticket(&state, &caller, TicketId(id)).await?;
    let mut comments = state.store.list_comments(caller.account, ticket.id).await?;
    if !caller.user.role.is_staff() {
        comments.retain(|c| c.public);
    }
    let (shown, total, has_more) =
        service::page_in_memory(comments, |c| c.id.get(), &page, descending);
    let mut body = Map::new();
    body.insert(
        "comments".into(),
        Value::Array(shown.iter().map(shapes::comment).collect()),
    );
    let inc = Includes::parse(params.include.as_deref());
    if inc.users {
        let authors: Vec<UserId> = shown.iter().map(|c| c.author_id).collect();
        let only_users = Includes {
            users: true,
            ..Includes::default()
        };
        service::sideload(
            &state,
            caller.account,
            &base,
            only_users,
            &[],
            &authors,
            &mut body,
        )
        .await?;
    }
    let last = shown.last().map(|c| c.id.get());
    page.decorate(&mut body, &base, &uri, total, has_more, last);
    Ok(Json(Value::Object(body)))
}

/// `GET /api/v2/tickets/{id}/audits.json` (agents and admins): every change, oldest first.
#[utoipa::path(
    get, path = "/api/v2/tickets/{id}/audits.json", tag = "Tickets",
    params(
        ("id" = i64, Path, description = "Ticket id"),
        ("sort_order" = Option<String>, Query, description = "asc (default) or desc"),
        ("page[size]" = Option<u32>, Query, description = "Cursor pagination: page size"),
        ("page[after]" = Option<String>, Query, description = "Cursor pagination: the previous page's after_cursor"),
    ),
    responses(
        (status = 200, description = "`{audits: [...]}` with pagination fields"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "End-users cannot read audits"),
        (status = 404, description = "No such ticket"),
    )
)]
pub async fn list_audits(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    uri: Uri,
    IdPath(id): IdPath,
    ApiQuery(params): ApiQuery<IncludeParams>,
) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    let descending = parse_order(params.sort_order.as_deref(), false)?;
    let page = PageRequest::from_query(uri.query())?;
    let id = TicketId(id);
    let audits = state.store.list_audits(caller.account, id).await?;
    let comments = state.store.list_comments(caller.account, id).await?;
    let (shown, total, has_more) =
        service::page_in_memory(audits, |a| a.id.get(), &page, descending);
    let mut body = Map::new();
    body.insert(
        "audits".into(),
        Value::Array(shown.iter().map(|a| shapes::audit(a, &comments)).collect()),
    );
    let last = shown.last().map(|a| a.id.get());
    page.decorate(&mut body, &base, &uri, total, has_more, last);
    Ok(Json(Value::Object(body)))
}

/// `GET /api/v2/tags.json` (agents and admins): the account's ticket tags, most used first.
#[utoipa::path(
    get, path = "/api/v2/tags.json", tag = "Tags",
    responses(
        (status = 200, description = "`{tags: [{name, count}], count}`"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "End-users cannot list tags"),
    )
)]
pub async fn list_tags(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    let counts = state
        .store
        .ticket_tag_counts(caller.account, MAX_TAGS_LISTED)
        .await?;
    let tags: Vec<Value> = counts
        .iter()
        .map(|(name, count)| json!({"name": name, "count": count}))
        .collect();
    Ok(Json(json!({
        "count": tags.len(),
        "tags": tags,
        "next_page": null,
        "previous_page": null,
    })))
}

/// `GET /api/v2/tickets/{id}/tags.json` (agents and admins).
#[utoipa::path(
    get, path = "/api/v2/tickets/{id}/tags.json", tag = "Tags",
    params(("id" = i64, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "`{tags: [...]}`"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "End-users cannot manage tags"),
        (status = 404, description = "No such ticket"),
    )
)]
pub async fn show_ticket_tags(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<Json<Value>> {
    caller.require_staff()?;
    let ticket = state.store.get_ticket(caller.account, TicketId(id)).await?;
    Ok(Json(json!({"tags": ticket.tags})))
}

/// How a tags request changes the ticket's tags.
#[derive(Debug, Clone, Copy)]
enum TagChange {
    Add,
    Set,
    Remove,
}

/// Runs a tags request through the ticket update path, so it is validated,
/// audited, retried and announced like any other update.
async fn change_tags(
    state: &AppState,
    caller: &Caller,
    id: i64,
    body: TagsBody,
    change: TagChange,
) -> ApiResult<Vec<String>> {
    caller.require_staff()?;
    let key = match change {
        TagChange::Add => "additional_tags",
        TagChange::Set => "tags",
        TagChange::Remove => "remove_tags",
    };
    let mut input = Map::new();
    input.insert(key.into(), body.tags);
    let fields = service::ticket_fields(state, caller.account).await?;
    let patch = TicketPatch::parse(&input, &fields)?;
    let written =
        service::update_with_patch(state, caller, TicketId(id), &patch, None, fields).await?;
    Ok(written.ticket.tags)
}

/// `PUT /api/v2/tickets/{id}/tags.json`: adds tags.
#[utoipa::path(
    put, path = "/api/v2/tickets/{id}/tags.json", tag = "Tags",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body(content = Object, description = "`{tags: [...]}`", content_type = "application/json"),
    responses(
        (status = 200, description = "`{tags: [...]}`: the ticket's tags now"),
        (status = 403, description = "End-users cannot manage tags"),
        (status = 404, description = "No such ticket"),
        (status = 422, description = "A tag is invalid, or the ticket is closed"),
    )
)]
pub async fn add_ticket_tags(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TagsBody>,
) -> ApiResult<Json<Value>> {
    let tags = change_tags(&state, &caller, id, body, TagChange::Add).await?;
    Ok(Json(json!({"tags": tags})))
}

/// `POST /api/v2/tickets/{id}/tags.json`: replaces the tags.
#[utoipa::path(
    post, path = "/api/v2/tickets/{id}/tags.json", tag = "Tags",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body(content = Object, description = "`{tags: [...]}`", content_type = "application/json"),
    responses(
        (status = 201, description = "`{tags: [...]}`: the ticket's tags now"),
        (status = 403, description = "End-users cannot manage tags"),
        (status = 404, description = "No such ticket"),
        (status = 422, description = "A tag is invalid, or the ticket is closed"),
    )
)]
pub async fn set_ticket_tags(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TagsBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let tags = change_tags(&state, &caller, id, body, TagChange::Set).await?;
    Ok((StatusCode::CREATED, Json(json!({"tags": tags}))))
}

/// `DELETE /api/v2/tickets/{id}/tags.json`: removes the given tags.
#[utoipa::path(
    delete, path = "/api/v2/tickets/{id}/tags.json", tag = "Tags",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body(content = Object, description = "`{tags: [...]}`", content_type = "application/json"),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "End-users cannot manage tags"),
        (status = 404, description = "No such ticket"),
        (status = 422, description = "A tag is invalid, or the ticket is closed"),
    )
)]
pub async fn remove_ticket_tags(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TagsBody>,
) -> ApiResult<StatusCode> {
    change_tags(&state, &caller, id, body, TagChange::Remove).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_are_strict() {
        assert_eq!(
            parse_id_list(Some(" 3, 1,3 ")).unwrap(),
            [TicketId(1), TicketId(3)]
        );
        for bad in [
            None,
            Some(""),
            Some("1,,2"),
            Some("1,x"),
            Some("-1"),
            Some("0"),
            Some("99999999999999999999"),
        ] {
            assert!(parse_id_list(bad).is_err(), "{bad:?}");
        }
        let many = (1..=101)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_id_list(Some(&many)).is_err());
    }
}
