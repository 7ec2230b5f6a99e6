//! HTTP handlers that are not part of the Zendesk-compatible API: health,
//! browser sign-in, and the live event stream. Each handler extracts,
//! authorises, calls one domain or store function and maps the result.

pub mod events;
pub mod health;
pub mod session;
