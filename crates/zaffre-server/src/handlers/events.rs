//! `GET /api/zaffre/events`: server-sent events for open workspace pages.
//!
//! Each event names a ticket that changed and who changed it; the page then
//! refetches the ticket through the normal API, so authorization of the
//! content stays in one place. End-users only hear about their own tickets.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

use crate::auth::Caller;
use crate::state::AppState;

/// Streams the caller's account's ticket events until the client goes away.
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let staff = caller.user.role.is_staff();
    let shutdown = state.shutdown.clone().cancelled_owned();
    let events = BroadcastStream::new(state.hub.subscribe()).filter_map(move |item| match item {
        Ok(e) if e.account_id == caller.account && (staff || e.requester_id == caller.user.id) => {
            let data = serde_json::to_string(&e).unwrap_or_default();
            Some(Ok(Event::default().event(e.kind.as_str()).data(data)))
        }
        Ok(_) => None,
        // The subscriber fell behind and missed events: tell the page to refetch what it shows.
        Err(BroadcastStreamRecvError::Lagged(_)) => {
            Some(Ok(Event::default().event("resync").data("{}")))
        }
    });
    Sse::new(futures_util::StreamExt::take_until(events, shutdown))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
