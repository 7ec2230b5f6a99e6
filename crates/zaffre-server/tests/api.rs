//! Integration tests of the HTTP API, in one binary (faster to link), split
//! by resource. Each test runs on SQLite and, when configured, PostgreSQL.

mod common;

mod basics;
