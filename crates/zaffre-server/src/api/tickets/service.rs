//! The multi-step rules behind the ticket endpoints.
//!
//! Handlers stay thin by calling one function here per write. A write is:
//! parse the client's `ticket` object with the domain's rules, apply the
//! caller's role rules (end-users may do much less than agents), fill in what
//! Zendesk fills in (the requester's organization), let the domain compute the
//! new ticket and its audit events, check that every id the change introduces
//! names a row of the caller's account, store it, and announce it on the event
//! hub. Updates are computed from a revision and retried when another write
//! landed in between, so concurrent agents never lose each other's changes.
//!
//! # What end-users may do
//! - **See** only tickets they requested; anyone else's ticket is a 404, never
//!   a 403, so ids do not reveal which tickets exist. They never see internal
//!   notes.
//! - **Create** tickets as themselves with a subject, a public first comment,
//!   priority, type and custom field values. Naming another requester, an
//!   assignee, group, organization, status or tags is refused with a 422 that
//!   names each attribute.
//! - **Update** their tickets only by adding a public comment and/or marking
//!   them solved (`status: "solved"`), as Zendesk's requests API allows. A reply
//!   to a pending or solved ticket reopens it, as Zendesk does. Anything else
//!   is a 422 naming the attribute.
//! - Delete, audits, tags and the account's tag list are for agents and admins.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};
use zaffre_domain::ticket::{apply_update, build_new, CommentInput, NewTicket, TicketPatch};
use zaffre_domain::validation::{ErrorKind, ValidationErrors};
use zaffre_domain::*;
use zaffre_store::{StoreError, TicketWrite};

use crate::api::paging::PageRequest;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::events::{TicketEvent, TicketEventKind};
use crate::shapes::{self, BaseUrl};
use crate::state::AppState;

/// How many times an update is recomputed when another write lands between
/// our read and our write. Each round of contention lets one writer through,
/// so this many tries (with a short random pause between them) absorbs a
/// burst of about as many simultaneous writers on one ticket; beyond that the
/// client gets a 409 and retries itself.
const MAX_UPDATE_ATTEMPTS: u32 = 12;

/// A committed ticket write and what the response needs to show it.
pub struct Written {
    pub ticket: Ticket,
    /// The audit of this write (`null` when an update changed nothing).
    pub audit: Value,
    /// The account's ticket fields, for the ticket's `custom_fields`.
    pub fields: Arc<Vec<TicketField>>,
}

/// Whether `caller` may see `ticket`: staff see every ticket of their
/// account, end-users the tickets they requested.
pub fn can_see(caller: &Caller, ticket: &Ticket) -> bool {
    caller.user.role.is_staff() || ticket.requester_id == caller.user.id
}

/// The ticket, if it exists in the caller's account and the caller may see it;
/// otherwise 404 either way.
pub async fn visible_ticket(state: &AppState, caller: &Caller, id: TicketId) -> ApiResult<Ticket> {
    let ticket = state.store.get_ticket(caller.account, id).await?;
    if can_see(caller, &ticket) {
        Ok(ticket)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The account's ticket fields, which every ticket shape needs: from the
/// field cache, so at most [`crate::cache::FIELDS_TTL`] old when they were
/// changed on another node, and current after a change through this node.
pub async fn ticket_fields(
    state: &AppState,
    account: AccountId,
) -> ApiResult<Arc<Vec<TicketField>>> {
    Ok(state.field_cache.get(&state.store, account).await?)
}

/// Parses a client's `ticket` object against the account's fields. A parse
/// that fails against cached fields is tried again against the store's, so a
/// field or option just added on another node is never refused for being
/// unknown here.
async fn parse_patch(
    state: &AppState,
    account: AccountId,
    input: &Map<String, Value>,
) -> ApiResult<(TicketPatch, Arc<Vec<TicketField>>)> {
    let fields = ticket_fields(state, account).await?;
    if let Ok(patch) = TicketPatch::parse(input, &fields) {
        return Ok((patch, fields));
    }
    let fields = state.field_cache.fresh(&state.store, account).await?;
    let patch = TicketPatch::parse(input, &fields)?;
    Ok((patch, fields))
}

/// Creates a ticket from a client's `ticket` object.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: &Map<String, Value>,
) -> ApiResult<Written> {
    let (mut patch, fields) = parse_patch(state, caller.account, input).await?;
    let mut errors = ValidationErrors::default();
    resolve_requester(state, caller.account, input, &mut patch, &mut errors).await?;
    if !caller.user.role.is_staff() {
        restrict_end_user_create(caller, &mut patch, &mut errors);
    }
    let requester_id = patch.requester_id.unwrap_or(caller.user.id);
    let requester = if requester_id == caller.user.id {
        Some(caller.user.clone())
    } else {
        find_user(state, caller.account, requester_id).await?
    };
    // Zendesk files a ticket under its requester's organization unless told otherwise.
    if patch.organization_id.is_none() {
        patch.organization_id = Some(requester.as_ref().and_then(|u| u.organization_id));
    }
    let (mut new, events) = match build_new(&patch, caller.user.id, &fields) {
        Ok(built) => built,
        Err(e) => {
            errors.errors.extend(e.errors);
            return Err(errors.into());
        }
    };
    // The description (and a subject derived from it) is shown to the
    // requester; an internal note must not become either.
    if patch.comment.as_ref().is_some_and(|c| !c.public) {
        new.description = String::new();
        if patch.subject.as_deref().is_none_or(str::is_empty) {
            errors.add(
                "subject",
                ErrorKind::BlankValue,
                "Subject: cannot be blank when the first comment is an internal note",
            );
        }
    }
    check_references(
        state,
        caller.account,
        None,
        &Refs::of_new(&new),
        requester.as_ref(),
        &mut errors,
    )
    .await?;
    // `build_new` refuses a create without a comment, so this is always there.
    let Some(first) = patch.comment.as_ref() else {
        errors.add(
            "description",
            ErrorKind::BlankValue,
            "Description: cannot be blank",
        );
        return Err(errors.into());
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let first = new_comment(caller.user.id, first);
    let ticket = state
        .store
        .create_ticket(caller.account, &new, &first, &events)
        .await?;
    publish(state, caller, TicketEventKind::Created, &ticket);
    let audit = shapes::unsaved_audit(&ticket, caller.user.id, &events, Some(&first));
    Ok(Written {
        ticket,
        audit,
        fields,
    })
}

/// Updates a ticket from a client's `ticket` object, honouring Zendesk's
/// `safe_update` and `updated_stamp`.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: TicketId,
    input: &Map<String, Value>,
) -> ApiResult<Written> {
    let stamp = parse_safe_update(input)?;
    let (mut patch, fields) = parse_patch(state, caller.account, input).await?;
    let mut errors = ValidationErrors::default();
    resolve_requester(state, caller.account, input, &mut patch, &mut errors).await?;
    errors.into_result(())?;
    update_with_patch(state, caller, id, &patch, stamp, fields).await
}

/// Applies a parsed patch, re-reading and re-applying it when the ticket
/// changed between read and write. With a safe-update stamp, any change since
/// the stamp (or during the request) is a 409 instead.
pub async fn update_with_patch(
    state: &AppState,
    caller: &Caller,
    id: TicketId,
    requested: &TicketPatch,
    stamp: Option<Timestamp>,
    fields: Arc<Vec<TicketField>>,
) -> ApiResult<Written> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = visible_ticket(state, caller, id).await?;
        if stamp.is_some_and(|s| changed_since(&current, s)) {
            return Err(ApiError::UpdateConflict);
        }
        let mut patch = requested.clone();
        let mut errors = ValidationErrors::default();
        if !caller.user.role.is_staff() {
            restrict_end_user_update(&current, &mut patch, &mut errors);
        }
        // A new requester brings their organization along, as in Zendesk.
        let mut requester = None;
        if let Some(r) = patch.requester_id.filter(|r| *r != current.requester_id) {
            requester = find_user(state, caller.account, r).await?;
            if patch.organization_id.is_none() {
                patch.organization_id = Some(requester.as_ref().and_then(|u| u.organization_id));
            }
        }
        let applied = match apply_update(&current, &patch, &fields) {
            Ok(applied) => applied,
            Err(e) => {
                errors.errors.extend(e.errors);
                return Err(errors.into());
            }
        };
        check_references(
            state,
            caller.account,
            Some(&Refs::of(&current)),
            &Refs::of(&applied.ticket),
            requester.as_ref(),
            &mut errors,
        )
        .await?;
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let comment = patch
            .comment
            .as_ref()
            .map(|c| new_comment(caller.user.id, c));
        let write = TicketWrite {
            ticket: &applied.ticket,
            author_id: caller.user.id,
            events: &applied.events,
            comment: comment.as_ref(),
        };
        match state.store.update_ticket(caller.account, write).await {
            Ok(ticket) => {
                let changed = !applied.events.is_empty() || comment.is_some();
                let audit = if changed {
                    publish(state, caller, TicketEventKind::Updated, &ticket);
                    shapes::unsaved_audit(
                        &ticket,
                        caller.user.id,
                        &applied.events,
                        comment.as_ref(),
                    )
                } else {
                    Value::Null
                };
                return Ok(Written {
                    ticket,
                    audit,
                    fields,
                });
            }
            Err(StoreError::StaleRevision) if stamp.is_none() && attempt < MAX_UPDATE_ATTEMPTS => {
                tracing::debug!(ticket = %id, attempt, "ticket changed underneath an update; retrying");
                // A random pause keeps the losers of one round from colliding again in the next.
                let pause_ms =
                    rand::Rng::gen_range(&mut rand::thread_rng(), 0..=u64::from(attempt) * 2);
                tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Deletes a ticket (staff only, checked by the handler) and announces it.
pub async fn delete(state: &AppState, caller: &Caller, id: TicketId) -> ApiResult<()> {
    // Read first: the event names the requester so their pages hear of it.
    let ticket = state.store.get_ticket(caller.account, id).await?;
    state.store.delete_ticket(caller.account, id).await?;
    state.hub.publish(TicketEvent {
        account_id: caller.account,
        kind: TicketEventKind::Deleted,
        ticket_id: id,
        requester_id: ticket.requester_id,
        updated_at: Utc::now(),
        actor_id: caller.user.id,
    });
    Ok(())
}

fn publish(state: &AppState, caller: &Caller, kind: TicketEventKind, ticket: &Ticket) {
    state.hub.publish(TicketEvent {
        account_id: caller.account,
        kind,
        ticket_id: ticket.id,
        requester_id: ticket.requester_id,
        updated_at: ticket.updated_at,
        actor_id: caller.user.id,
    });
}

fn new_comment(author: UserId, c: &CommentInput) -> NewComment {
    NewComment {
        author_id: author,
        public: c.public,
        body: c.body.clone(),
        html_body: c.html_body.clone().unwrap_or_default(),
    }
}

/// Zendesk lets a write name the requester as `requester: {email, name}`
/// instead of `requester_id`. zaffre resolves the email to an existing user of
/// the account (creating people is the users API's job); an unknown email is
/// a 422 rather than a ticket silently filed under the submitter.
/// `requester_id` wins when both are given.
async fn resolve_requester(
    state: &AppState,
    account: AccountId,
    input: &Map<String, Value>,
    patch: &mut TicketPatch,
    errors: &mut ValidationErrors,
) -> ApiResult<()> {
    let Some(requester) = input.get("requester") else {
        return Ok(());
    };
    if patch.requester_id.is_some() {
        return Ok(());
    }
    let Some(email) = requester.get("email").and_then(Value::as_str) else {
        errors.add(
            "requester",
            ErrorKind::InvalidValue,
            "Requester: give requester_id, or requester with the email of an existing user",
        );
        return Ok(());
    };
    match state.store.get_user_by_email(account, email.trim()).await {
        Ok(user) => patch.requester_id = Some(user.id),
        Err(StoreError::NotFound) => {
            let shown: String = email.chars().take(80).collect();
            errors.add(
                "requester",
                ErrorKind::InvalidValue,
                format!("Requester: there is no user with email {shown}; create the user first"),
            );
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Reads Zendesk's `safe_update: true` + `updated_stamp` pair; the stamp is
/// the `updated_at` the client last saw.
fn parse_safe_update(input: &Map<String, Value>) -> ApiResult<Option<Timestamp>> {
    match input.get("safe_update") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => {
            let stamp = input
                .get("updated_stamp")
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc));
            stamp.map(Some).ok_or_else(|| {
                ApiError::invalid(
                    "updated_stamp",
                    "Updated stamp: safe_update needs the ticket's updated_at as updated_stamp",
                )
            })
        }
        Some(_) => Err(ApiError::invalid(
            "safe_update",
            "Safe update: must be true or false",
        )),
    }
}

/// Whether the ticket changed after `stamp`. Shapes show whole seconds, so a
/// whole-second stamp is compared at that precision; two changes within the
/// second the client read are told apart by the revision check instead, for
/// writes racing this one.
fn changed_since(ticket: &Ticket, stamp: Timestamp) -> bool {
    if stamp.timestamp_subsec_nanos() == 0 {
        ticket.updated_at.trunc_subsecs(0) > stamp
    } else {
        ticket.updated_at > stamp
    }
}

/// An end-user creates tickets as themselves, with a public comment, and
/// without the attributes agents use to route work.
fn restrict_end_user_create(
    caller: &Caller,
    patch: &mut TicketPatch,
    errors: &mut ValidationErrors,
) {
    if patch.requester_id.is_some_and(|r| r != caller.user.id) {
        errors.add(
            "requester_id",
            ErrorKind::InvalidValue,
            "Requester: end-users can only ask for themselves",
        );
    }
    patch.requester_id = Some(caller.user.id);
    refuse_routing(patch, errors);
    if patch.status.take().is_some() {
        errors.add("status", ErrorKind::InvalidValue, agents_only("Status"));
    }
    refuse_private_comment(patch, errors);
}

/// An end-user updates their ticket only by replying publicly or marking it
/// solved; a reply reopens a pending or solved ticket.
fn restrict_end_user_update(
    current: &Ticket,
    patch: &mut TicketPatch,
    errors: &mut ValidationErrors,
) {
    if patch.subject.take().is_some() {
        errors.add("subject", ErrorKind::InvalidValue, agents_only("Subject"));
    }
    if patch.priority.take().is_some() {
        errors.add("priority", ErrorKind::InvalidValue, agents_only("Priority"));
    }
    if patch.ticket_type.take().is_some() {
        errors.add("type", ErrorKind::InvalidValue, agents_only("Type"));
    }
    if patch
        .requester_id
        .take()
        .is_some_and(|r| r != current.requester_id)
    {
        errors.add(
            "requester_id",
            ErrorKind::InvalidValue,
            agents_only("Requester"),
        );
    }
    if !patch.custom_fields.is_empty() {
        patch.custom_fields.clear();
        errors.add(
            "custom_fields",
            ErrorKind::InvalidValue,
            agents_only("Custom fields"),
        );
    }
    refuse_routing(patch, errors);
    match patch.status {
        None | Some(TicketStatus::Solved) => {}
        Some(_) => {
            patch.status = None;
            errors.add(
                "status",
                ErrorKind::InvalidValue,
                "Status: end-users can only mark their tickets solved",
            );
        }
    }
    refuse_private_comment(patch, errors);
    if patch.comment.is_some()
        && patch.status.is_none()
        && matches!(current.status, TicketStatus::Pending | TicketStatus::Solved)
    {
        patch.status = Some(TicketStatus::Open);
    }
}

fn agents_only(title: &str) -> String {
    format!("{title}: only agents can set this")
}

/// Assignee, group, organization and tags route work; only agents set them.
/// Each refused attribute is cleared so later checks do not report it twice.
fn refuse_routing(patch: &mut TicketPatch, errors: &mut ValidationErrors) {
    if patch.assignee_id.take().is_some() {
        errors.add(
            "assignee_id",
            ErrorKind::InvalidValue,
            agents_only("Assignee"),
        );
    }
    if patch.group_id.take().is_some() {
        errors.add("group_id", ErrorKind::InvalidValue, agents_only("Group"));
    }
    if patch.organization_id.take().is_some() {
        errors.add(
            "organization_id",
            ErrorKind::InvalidValue,
            agents_only("Organization"),
        );
    }
    let tagged = patch.tags.take().is_some()
        || !std::mem::take(&mut patch.additional_tags).is_empty()
        || !std::mem::take(&mut patch.remove_tags).is_empty();
    if tagged {
        errors.add("tags", ErrorKind::InvalidValue, agents_only("Tags"));
    }
}

fn refuse_private_comment(patch: &mut TicketPatch, errors: &mut ValidationErrors) {
    if patch.comment.as_ref().is_some_and(|c| !c.public) {
        errors.add(
            "comment",
            ErrorKind::InvalidValue,
            "Comment: end-users can only add public replies",
        );
    }
}

/// The ids a ticket refers to, compared before and after a write so that
/// only ids the write introduces are checked: a ticket whose assignee was
/// deactivated can still have its other fields changed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Refs {
    requester: UserId,
    assignee: Option<UserId>,
    group: Option<GroupId>,
    organization: Option<OrganizationId>,
}

impl Refs {
    fn of(t: &Ticket) -> Self {
        Refs {
            requester: t.requester_id,
            assignee: t.assignee_id,
            group: t.group_id,
            organization: t.organization_id,
        }
    }

    fn of_new(t: &NewTicket) -> Self {
        Refs {
            requester: t.requester_id,
            assignee: t.assignee_id,
            group: t.group_id,
            organization: t.organization_id,
        }
    }
}

/// Records a 422 detail for every id in `after` (and not in `before`) that
/// does not name a suitable row of `account`. Rows of other accounts are
/// indistinguishable from missing ones: the store scopes every lookup.
async fn check_references(
    state: &AppState,
    account: AccountId,
    before: Option<&Refs>,
    after: &Refs,
    loaded_requester: Option<&User>,
    errors: &mut ValidationErrors,
) -> ApiResult<()> {
    let is_new = |changed: bool| before.is_none() || changed;
    if is_new(before.is_some_and(|b| b.requester != after.requester)) {
        let found = match loaded_requester {
            Some(u) if u.id == after.requester => true,
            _ => find_user(state, account, after.requester).await?.is_some(),
        };
        if !found {
            errors.add(
                "requester_id",
                ErrorKind::InvalidValue,
                format!("Requester: there is no user {}", after.requester),
            );
        }
    }
    if let Some(a) = after.assignee {
        if is_new(before.is_some_and(|b| b.assignee != Some(a))) {
            let problem = match find_user(state, account, a).await? {
                Some(u) if u.role.is_staff() && u.active => None,
                Some(u) if u.role.is_staff() => Some(format!("Assignee: {} is not active", u.name)),
                Some(u) => Some(format!(
                    "Assignee: {} is an end-user; only agents can be assigned",
                    u.name
                )),
                None => Some(format!("Assignee: there is no agent {a}")),
            };
            if let Some(p) = problem {
                errors.add("assignee_id", ErrorKind::InvalidValue, p);
            }
        }
    }
    if let Some(g) = after.group {
        if is_new(before.is_some_and(|b| b.group != Some(g))) {
            match state.store.get_group(account, g).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.add(
                    "group_id",
                    ErrorKind::InvalidValue,
                    format!("Group: there is no group {g}"),
                ),
                Err(e) => return Err(e.into()),
            }
        }
    }
    if let Some(o) = after.organization {
        if is_new(before.is_some_and(|b| b.organization != Some(o))) {
            match state.store.get_organization(account, o).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.add(
                    "organization_id",
                    ErrorKind::InvalidValue,
                    format!("Organization: there is no organization {o}"),
                ),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// A user of the account, or `None` when there is none with that id.
async fn find_user(state: &AppState, account: AccountId, id: UserId) -> ApiResult<Option<User>> {
    match state.store.get_user(account, id).await {
        Ok(u) => Ok(Some(u)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Which related records a response sideloads (`?include=users,groups,organizations`).
/// Unknown names are ignored, as Zendesk ignores them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Includes {
    pub users: bool,
    pub groups: bool,
    pub organizations: bool,
}

impl Includes {
    /// Parses the comma-separated `include` parameter.
    pub fn parse(raw: Option<&str>) -> Self {
        let mut inc = Includes::default();
        for name in raw.unwrap_or("").split(',').map(str::trim) {
            match name {
                "users" => inc.users = true,
                "groups" => inc.groups = true,
                "organizations" => inc.organizations = true,
                _ => {}
            }
        }
        inc
    }
}

/// Adds the requested sideloads for `tickets` (and any `extra_users`, such as
/// comment authors) to a response body.
pub async fn sideload(
    state: &AppState,
    account: AccountId,
    base: &BaseUrl,
    inc: Includes,
    tickets: &[Ticket],
    extra_users: &[UserId],
    body: &mut Map<String, Value>,
) -> ApiResult<()> {
    if inc.users {
        let mut ids: Vec<UserId> = tickets
            .iter()
            .flat_map(|t| [Some(t.requester_id), Some(t.submitter_id), t.assignee_id])
            .flatten()
            .chain(extra_users.iter().copied())
            .collect();
        ids.sort();
        ids.dedup();
        let users = state.store.get_users(account, &ids).await?;
        let shaped = users.iter().map(|u| shapes::user(base, u)).collect();
        body.insert("users".into(), Value::Array(shaped));
    }
    if inc.groups {
        let mut ids: Vec<GroupId> = tickets.iter().filter_map(|t| t.group_id).collect();
        ids.sort();
        ids.dedup();
        let mut shaped = Vec::with_capacity(ids.len());
        for id in ids {
            match state.store.get_group(account, id).await {
                Ok(g) => shaped.push(shapes::group(base, &g)),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        body.insert("groups".into(), Value::Array(shaped));
    }
    if inc.organizations {
        let mut ids: Vec<OrganizationId> =
            tickets.iter().filter_map(|t| t.organization_id).collect();
        ids.sort();
        ids.dedup();
        let mut shaped = Vec::with_capacity(ids.len());
        for id in ids {
            match state.store.get_organization(account, id).await {
                Ok(o) => shaped.push(shapes::organization(base, &o)),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        body.insert("organizations".into(), Value::Array(shaped));
    }
    Ok(())
}

/// One page of rows the store returns whole (a ticket's comments or audits),
/// in `(items, total, has_more)` form for [`PageRequest::decorate`]. `items`
/// come oldest first; cursors follow ids in the requested direction.
pub fn page_in_memory<T>(
    mut items: Vec<T>,
    id_of: impl Fn(&T) -> i64,
    req: &PageRequest,
    descending: bool,
) -> (Vec<T>, Option<u64>, bool) {
    if descending {
        items.reverse();
    }
    match *req {
        PageRequest::Offset { page, per_page } => {
            let total = items.len() as u64;
            let skip = (page - 1).saturating_mul(u64::from(per_page));
            let skip = usize::try_from(skip).unwrap_or(usize::MAX);
            let shown = items
                .into_iter()
                .skip(skip)
                .take(per_page as usize)
                .collect();
            (shown, Some(total), false)
        }
        PageRequest::Cursor { size, after } => {
            let rest: Vec<T> = items
                .into_iter()
                .filter(|item| match after {
                    None => true,
                    Some(a) if descending => id_of(item) < a,
                    Some(a) => id_of(item) > a,
                })
                .collect();
            let has_more = rest.len() > size as usize;
            let shown = rest.into_iter().take(size as usize).collect();
            (shown, None, has_more)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(status: TicketStatus) -> Ticket {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        Ticket {
            id: TicketId(1),
            account_id: AccountId(1),
            subject: "s".into(),
            description: "d".into(),
            status,
            priority: None,
            ticket_type: None,
            requester_id: UserId(7),
            submitter_id: UserId(7),
            assignee_id: None,
            group_id: None,
            organization_id: None,
            tags: vec![],
            custom_fields: vec![],
            created_at: epoch,
            updated_at: epoch,
            revision: 1,
        }
    }

    fn reply(public: bool) -> Option<CommentInput> {
        Some(CommentInput {
            body: "hi".into(),
            html_body: None,
            public,
        })
    }

    #[test]
    fn an_end_user_reply_reopens_pending_and_solved_tickets_only() {
        for (status, expected) in [
            (TicketStatus::Pending, Some(TicketStatus::Open)),
            (TicketStatus::Solved, Some(TicketStatus::Open)),
            (TicketStatus::Hold, None),
            (TicketStatus::New, None),
        ] {
            let mut patch = TicketPatch {
                comment: reply(true),
                ..TicketPatch::default()
            };
            let mut errors = ValidationErrors::default();
            restrict_end_user_update(&ticket(status), &mut patch, &mut errors);
            assert!(errors.is_empty());
            assert_eq!(patch.status, expected, "{status}");
        }
    }

    #[test]
    fn end_user_updates_name_and_drop_every_agent_only_attribute() {
        let mut patch = TicketPatch {
            subject: Some("x".into()),
            status: Some(TicketStatus::Open),
            assignee_id: Some(Some(UserId(2))),
            additional_tags: vec!["a".into()],
            comment: reply(false),
            ..TicketPatch::default()
        };
        let mut errors = ValidationErrors::default();
        restrict_end_user_update(&ticket(TicketStatus::Open), &mut patch, &mut errors);
        let attrs: Vec<&str> = errors.errors.iter().map(|e| e.attribute.as_str()).collect();
        assert_eq!(
            attrs,
            ["subject", "assignee_id", "tags", "status", "comment"]
        );
        assert_eq!(patch.subject, None);
        assert_eq!(patch.assignee_id, None);
        assert!(patch.additional_tags.is_empty());
    }

    #[test]
    fn safe_update_stamps_compare_at_their_own_precision() {
        let mut t = ticket(TicketStatus::Open);
        let stamp = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(100);
        t.updated_at = stamp + chrono::Duration::milliseconds(400);
        assert!(
            !changed_since(&t, stamp),
            "same second as a whole-second stamp"
        );
        t.updated_at = stamp + chrono::Duration::seconds(1);
        assert!(changed_since(&t, stamp));
        let precise = stamp + chrono::Duration::milliseconds(100);
        t.updated_at = stamp + chrono::Duration::milliseconds(400);
        assert!(changed_since(&t, precise));
    }

    #[test]
    fn in_memory_pages_by_offset_and_cursor() {
        let items: Vec<i64> = (1..=5).collect();
        let offset = PageRequest::Offset {
            page: 2,
            per_page: 2,
        };
        assert_eq!(
            page_in_memory(items.clone(), |i| *i, &offset, false),
            (vec![3, 4], Some(5), false)
        );
        let cursor = PageRequest::Cursor {
            size: 2,
            after: Some(4),
        };
        assert_eq!(
            page_in_memory(items.clone(), |i| *i, &cursor, true),
            (vec![3, 2], None, true)
        );
        let last = PageRequest::Cursor {
            size: 2,
            after: Some(3),
        };
        assert_eq!(
            page_in_memory(items, |i| *i, &last, false),
            (vec![4, 5], None, false)
        );
    }

    #[test]
    fn includes_ignore_unknown_names() {
        let inc = Includes::parse(Some("users, organizations,comments"));
        assert!(inc.users && inc.organizations && !inc.groups);
        assert_eq!(Includes::parse(None), Includes::default());
    }
}
