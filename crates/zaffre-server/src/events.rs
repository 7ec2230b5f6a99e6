//! Live updates: who changed which ticket, fanned out to open pages.
//!
//! Handlers publish a [`TicketEvent`] after every committed ticket write; the
//! server-sent events endpoint subscribes and forwards the events of the
//! caller's account. The hub is in-process: with several nodes, a write on one
//! node reaches browsers connected to that node only, until a cross-node
//! transport (PostgreSQL LISTEN/NOTIFY) is added behind this same interface.

use serde::Serialize;
use tokio::sync::broadcast;
use zaffre_domain::{AccountId, TicketId, Timestamp, UserId};

/// What happened to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TicketEventKind {
    #[serde(rename = "ticket.created")]
    Created,
    #[serde(rename = "ticket.updated")]
    Updated,
    #[serde(rename = "ticket.deleted")]
    Deleted,
}

impl TicketEventKind {
    /// The SSE event name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketEventKind::Created => "ticket.created",
            TicketEventKind::Updated => "ticket.updated",
            TicketEventKind::Deleted => "ticket.deleted",
        }
    }
}

/// One committed change to a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketEvent {
    #[serde(skip)]
    pub account_id: AccountId,
    #[serde(skip)]
    pub kind: TicketEventKind,
    pub ticket_id: TicketId,
    /// The ticket's requester, so end-users receive only their own tickets' events.
    #[serde(skip)]
    pub requester_id: UserId,
    pub updated_at: Timestamp,
    pub actor_id: UserId,
}

/// The fan-out point for ticket events.
#[derive(Debug, Clone)]
pub struct EventHub {
    sender: broadcast::Sender<TicketEvent>,
}

impl Default for EventHub {
    fn default() -> Self {
        // Slow subscribers that fall this far behind skip events and refetch.
        let (sender, _) = broadcast::channel(1024);
        EventHub { sender }
    }
}

impl EventHub {
    /// Announces a committed change; having no listeners is fine.
    pub fn publish(&self, event: TicketEvent) {
        let _ = self.sender.send(event);
    }

    /// A new subscription to every later event.
    pub fn subscribe(&self) -> broadcast::Receiver<TicketEvent> {
        self.sender.subscribe()
    }
}
