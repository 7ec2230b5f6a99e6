//! zaffre's data model and the rules over it.
//!
//! This crate holds no I/O: the types every other crate speaks (typed ids,
//! tickets, users, organizations, groups, ticket fields, comments, audits), the
//! validation rules that decide whether a ticket change is acceptable, and the
//! parser for Zendesk's search syntax. The store persists these types; the
//! server maps them to Zendesk's JSON shapes.

pub mod apps;
pub mod ids;
pub mod model;
pub mod search;
pub mod tags;
pub mod ticket;
pub mod validation;

pub use ids::*;
pub use model::*;
