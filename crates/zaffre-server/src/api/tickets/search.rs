//! `GET /api/v2/search.json` and `GET /api/v2/search/count.json`: Zendesk's
//! query syntax over tickets, users, organizations and groups.
//!
//! Zendesk mixes every record type in one result list when the query has no
//! `type:`. zaffre searches tickets then: that is what almost every query
//! (and the workspace's ticket views) asks for, and it keeps `count` and
//! paging exact. `type:user`, `type:organization` and `type:group` search
//! those instead, for agents and admins only. End-users search only tickets
//! they requested, and their free-text words match only what they may read
//! (not internal notes). Results are sorted by `sort_by` (default `updated_at`)
//! in `sort_order` (default `desc`, as in Zendesk); there is no relevance
//! ranking. Search pages by `page`/`per_page`; cursors are refused.

use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use zaffre_domain::search::{
    Op, Page, ResultType, SearchQuery, Term, TicketFilter, TicketSort, UserFilter,
};
use zaffre_domain::{Group, Ticket};
use zaffre_store::StoreError;

use super::parse_order;
use super::service::page_in_memory;
use crate::api::paging::PageRequest;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// Search's query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    query: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

/// What a search resolved to, before running it.
struct Plan {
    query: SearchQuery,
    kind: ResultType,
}

/// Parses the query and checks the caller may search that kind of record.
fn plan(caller: &Caller, raw: Option<&str>) -> ApiResult<Plan> {
    let query = SearchQuery::parse(raw.unwrap_or(""))?;
    let kind = query.result_type.unwrap_or(ResultType::Ticket);
    if kind != ResultType::Ticket {
        caller.require_staff()?;
    }
    Ok(Plan { query, kind })
}

/// The ticket filter for a query, restricted to the caller's own tickets
/// for end-users.
fn ticket_filter(caller: &Caller, query: &SearchQuery) -> ApiResult<TicketFilter> {
    let mut filter = TicketFilter::from_query(query, caller.user.id)?;
    if !caller.user.role.is_staff() {
        filter.visible_to_requester = Some(caller.user.id);
    }
    Ok(filter)
}

/// The free-text words of an organization or group search; `name:` counts as
/// text, other keywords are refused so a typo does not silently match everything.
fn plain_text(query: &SearchQuery, what: &str) -> ApiResult<Vec<String>> {
    let mut words = Vec::new();
    for (negated, term) in &query.terms {
        match term {
            Term::Text(t) if !negated => words.push(t.to_lowercase()),
            Term::Field {
                key,
                op: Op::Eq,
                value,
            } if !negated && key == "name" => words.push(value.to_lowercase()),
            _ => {
                return Err(ApiError::BadRequest(
                    "InvalidSearch",
                    format!("{what} searches support only words and name:"),
                ))
            }
        }
    }
    Ok(words)
}

/// The most of their own tickets an end-user's text search examines. The
/// store matches words in every comment, internal notes included, so an
/// end-user's text search is re-checked against what they may read; this
/// bounds that work (an end-user rarely has more than a handful of tickets).
const END_USER_TEXT_SEARCH_LIMIT: u32 = 1000;

/// Whether a ticket search must be re-checked so that words found only in
/// internal notes do not reveal those notes to an end-user.
fn needs_public_text_check(caller: &Caller, filter: &TicketFilter) -> bool {
    !caller.user.role.is_staff() && !filter.text.is_empty()
}

/// An end-user's text search: the store's matches, kept only when every word
/// appears in the subject, the description or a public comment, in the
/// store's order.
async fn end_user_text_matches(
    state: &AppState,
    caller: &Caller,
    filter: &TicketFilter,
    sort: TicketSort,
    descending: bool,
) -> ApiResult<Vec<Ticket>> {
    let all = Page::Offset {
        offset: 0,
        limit: END_USER_TEXT_SEARCH_LIMIT,
    };
    let candidates = state
        .store
        .list_tickets(caller.account, filter, sort, descending, all)
        .await?
        .items;
    let mut kept = Vec::with_capacity(candidates.len());
    for ticket in candidates {
        let comments = match state.store.list_comments(caller.account, ticket.id).await {
            Ok(comments) => comments,
            // Deleted since the list was read: it is simply not a result.
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut readable = format!("{}\n{}", ticket.subject, ticket.description).to_lowercase();
        for c in comments.iter().filter(|c| c.public) {
            readable.push('\n');
            readable.push_str(&c.body.to_lowercase());
        }
        if filter
            .text
            .iter()
            .all(|word| readable.contains(word.as_str()))
        {
            kept.push(ticket);
        }
    }
    Ok(kept)
}

fn group_matches(g: &Group, words: &[String]) -> bool {
    let name = g.name.to_lowercase();
    let description = g.description.to_lowercase();
    words
        .iter()
        .all(|w| name.contains(w.as_str()) || description.contains(w.as_str()))
}

/// `GET /api/v2/search.json?query=…`.
#[utoipa::path(
    get, path = "/api/v2/search.json", tag = "Search",
    params(
        ("query" = String, Query, description = "Zendesk search syntax, e.g. `status<solved tags:vip requester:ann@example.com \"refund\"`; `type:user|organization|group` searches those (staff only); no type searches tickets"),
        ("sort_by" = Option<String>, Query, description = "updated_at (default), created_at, priority, status, ticket_type"),
        ("sort_order" = Option<String>, Query, description = "desc (default) or asc"),
        ("page" = Option<u64>, Query, description = "Page number"),
        ("per_page" = Option<u32>, Query, description = "Page size, at most 100"),
    ),
    responses(
        (status = 200, description = "`{results: [... each with result_type], count, next_page, previous_page, facets: null}`"),
        (status = 400, description = "InvalidSearch: the query cannot be understood; InvalidParams: bad sort or paging"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "End-users can search tickets only"),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    base: BaseUrl,
    uri: Uri,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<Value>> {
    let plan = plan(&caller, params.query.as_deref())?;
    let page = PageRequest::from_query(uri.query())?;
    if matches!(page, PageRequest::Cursor { .. }) {
        return Err(ApiError::bad_param(
            "search pages with page and per_page, not cursors",
        ));
    }
    let descending = parse_order(params.sort_order.as_deref(), true)?;
    let store_page = page.store_page(descending);
    let account = caller.account;
    let (results, total): (Vec<Value>, Option<u64>) = match plan.kind {
        ResultType::Ticket => {
            let filter = ticket_filter(&caller, &plan.query)?;
            let sort = match params.sort_by.as_deref() {
                None | Some("") => TicketSort::UpdatedAt,
                Some(s) => TicketSort::parse(s).ok_or_else(|| {
                    ApiError::bad_param(format!("sort_by: '{s}' is not a sortable column"))
                })?,
            };
            let (tickets, total) = if needs_public_text_check(&caller, &filter) {
                let matching =
                    end_user_text_matches(&state, &caller, &filter, sort, descending).await?;
                let (shown, total, _) = page_in_memory(matching, |t| t.id.get(), &page, false);
                (shown, total)
            } else {
                let listing = state
                    .store
                    .list_tickets(account, &filter, sort, descending, store_page)
                    .await?;
                (listing.items, listing.total)
            };
            let fields = super::service::ticket_fields(&state, account).await?;
            let shaped = tickets
                .iter()
                .map(|t| tagged(shapes::ticket(&base, t, &fields), "ticket"))
                .collect();
            (shaped, total)
        }
        ResultType::User => {
            let filter = UserFilter::from_query(&plan.query)?;
            let listing = state.store.list_users(account, &filter, store_page).await?;
            let shaped = listing
                .items
                .iter()
                .map(|u| tagged(shapes::user(&base, u), "user"))
                .collect();
            (shaped, listing.total)
        }
        ResultType::Organization => {
            let words = plain_text(&plan.query, "Organization")?;
            let listing = state
                .store
                .list_organizations(account, &words, store_page)
                .await?;
            let shaped = listing
                .items
                .iter()
                .map(|o| tagged(shapes::organization(&base, o), "organization"))
                .collect();
            (shaped, listing.total)
        }
        ResultType::Group => {
            let words = plain_text(&plan.query, "Group")?;
            let groups: Vec<Group> = state
                .store
                .list_groups(account)
                .await?
                .into_iter()
                .filter(|g| group_matches(g, &words))
                .collect();
            let (shown, total, _) = page_in_memory(groups, |g| g.id.get(), &page, false);
            let shaped = shown
                .iter()
                .map(|g| tagged(shapes::group(&base, g), "group"))
                .collect();
            (shaped, total)
        }
    };
    let mut body = Map::new();
    body.insert("results".into(), Value::Array(results));
    body.insert("facets".into(), Value::Null);
    page.decorate(&mut body, &base, &uri, total, false, None);
    Ok(Json(Value::Object(body)))
}

/// `GET /api/v2/search/count.json?query=…`.
#[utoipa::path(
    get, path = "/api/v2/search/count.json", tag = "Search",
    params(("query" = String, Query, description = "As for search.json")),
    responses(
        (status = 200, description = "`{count: N}`"),
        (status = 400, description = "InvalidSearch: the query cannot be understood"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "End-users can search tickets only"),
    )
)]
pub async fn search_count(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<Value>> {
    let plan = plan(&caller, params.query.as_deref())?;
    let account = caller.account;
    // One row is the least a page may ask for; only the total matters here.
    let probe = Page::Offset {
        offset: 0,
        limit: 1,
    };
    let count = match plan.kind {
        ResultType::Ticket => {
            let filter = ticket_filter(&caller, &plan.query)?;
            if needs_public_text_check(&caller, &filter) {
                let matching =
                    end_user_text_matches(&state, &caller, &filter, TicketSort::Id, false).await?;
                Some(matching.len() as u64)
            } else {
                state
                    .store
                    .list_tickets(account, &filter, TicketSort::Id, false, probe)
                    .await?
                    .total
            }
        }
        ResultType::User => {
            let filter = UserFilter::from_query(&plan.query)?;
            state.store.list_users(account, &filter, probe).await?.total
        }
        ResultType::Organization => {
            let words = plain_text(&plan.query, "Organization")?;
            state
                .store
                .list_organizations(account, &words, probe)
                .await?
                .total
        }
        ResultType::Group => {
            let words = plain_text(&plan.query, "Group")?;
            let groups = state.store.list_groups(account).await?;
            Some(groups.iter().filter(|g| group_matches(g, &words)).count() as u64)
        }
    };
    Ok(Json(json!({"count": count.unwrap_or(0)})))
}

/// Adds Zendesk's `result_type` to a search result.
fn tagged(mut shape: Value, kind: &str) -> Value {
    if let Some(obj) = shape.as_object_mut() {
        obj.insert("result_type".into(), Value::String(kind.to_owned()));
    }
    shape
}
