//! Integration tests of the HTTP API, in one binary (faster to link), split
//! by resource. Each test runs on SQLite and, when configured, PostgreSQL.
//!
//! This file is the crate root, so its modules would be looked up next to it
//! (`tests/basics.rs`); the `#[path]` attributes keep them under `tests/api/`.

mod common;

#[path = "api/apps.rs"]
mod apps;
#[path = "api/apps_host.rs"]
mod apps_host;
#[path = "api/bad_input.rs"]
mod bad_input;
#[path = "api/basics.rs"]
mod basics;
#[path = "api/caches.rs"]
mod caches;
#[path = "api/dev.rs"]
mod dev;
#[path = "api/groups.rs"]
mod groups;
#[path = "api/openapi.rs"]
mod openapi;
#[path = "api/organizations.rs"]
mod organizations;
#[path = "api/proxy.rs"]
mod proxy;
#[path = "api/role_matrix.rs"]
mod role_matrix;
#[path = "api/search.rs"]
mod search;
#[path = "api/ticket_fields.rs"]
mod ticket_fields;
#[path = "api/tickets.rs"]
mod tickets;
#[path = "api/users.rs"]
mod users;
