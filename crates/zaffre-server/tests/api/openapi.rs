//! `/api/openapi.json`: public, OpenAPI 3.1, and in step with the API.
//!
//! "In step" is checked three ways: the document's `/api/v2` operations are
//! exactly the endpoints of the role matrix (which calls every one of them,
//! so each exists); every documented path parameter is declared; and the
//! hand-written response schemas list exactly the fields real responses have.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::common::{for_each_engine, send, TestApp};
use crate::role_matrix::ROWS;

/// The role matrix's endpoints as OpenAPI path templates: query strings
/// dropped, every placeholder an `{id}`.
fn matrix_operations() -> BTreeSet<(String, String)> {
    ROWS.iter()
        .filter(|row| row.path.starts_with("/api/v2/"))
        .map(|row| {
            let path = row.path.split('?').next().unwrap_or_default();
            let mut template = String::new();
            let mut rest = path;
            while let Some(open) = rest.find('{') {
                template.push_str(&rest[..open]);
                template.push_str("{id}");
                let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
                rest = &rest[close..];
            }
            template.push_str(rest);
            (row.method.to_lowercase(), template)
        })
        .collect()
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                out.insert((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

async fn fetch(app: &TestApp) -> Value {
    let (status, doc) = send(app.anonymous(Method::GET, "/api/openapi.json")).await;
    assert_eq!(status, 200, "the document is public");
    doc
}

#[tokio::test]
async fn the_document_is_public_openapi_3_1_with_the_key_paths_and_schemes() {
    let app = TestApp::sqlite(|_| {}).await;
    let doc = fetch(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "zaffre");
    for path in [
        "/api/v2/users/me.json",
        "/api/v2/users.json",
        "/api/v2/users/{id}.json",
        "/api/v2/organizations.json",
        "/api/v2/groups.json",
        "/api/v2/tickets.json",
        "/api/v2/tickets/{id}.json",
        "/api/v2/search.json",
        "/auth/login",
        "/auth/session",
        "/auth/logout",
        "/healthz",
        "/api/openapi.json",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["api_token"]["scheme"], "basic");
    assert_eq!(schemes["password"]["scheme"], "basic");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "zaffre_session");
    // Public endpoints say so; the rest inherit the document's requirement.
    assert_eq!(
        doc["paths"]["/healthz"]["get"]["security"],
        serde_json::json!([{}])
    );
    assert!(doc["security"].as_array().is_some_and(|s| s.len() == 3));
}

#[tokio::test]
async fn every_api_endpoint_is_documented_and_every_documented_one_exists() {
    let app = TestApp::sqlite(|_| {}).await;
    let doc = fetch(&app).await;
    let documented: BTreeSet<_> = documented_operations(&doc)
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/v2/"))
        .collect();
    let called = matrix_operations();
    let undocumented: Vec<_> = called.difference(&documented).collect();
    let untested: Vec<_> = documented.difference(&called).collect();
    assert!(
        undocumented.is_empty() && untested.is_empty(),
        "called by the role matrix but not documented (add a #[utoipa::path] and list it in \
         its module's OpenApi): {undocumented:?}\n\
         documented but not in the role matrix (add rows to ROWS in tests/api/role_matrix.rs, \
         one per caller outcome): {untested:?}"
    );
}

#[tokio::test]
async fn every_operation_declares_its_path_parameters_and_responses() {
    let app = TestApp::sqlite(|_| {}).await;
    let doc = fetch(&app).await;
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !matches!(method.as_str(), "get" | "put" | "post" | "delete") {
                continue;
            }
            if op["responses"].as_object().is_none_or(|r| r.is_empty()) {
                problems.push(format!("{method} {path}: no responses"));
            }
            if path.contains("{id}") {
                let declared = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(item["parameters"].as_array().into_iter().flatten())
                    .any(|p| p["name"] == "id" && p["in"] == "path");
                if !declared {
                    problems.push(format!("{method} {path}: {{id}} is not declared"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The property names of a component schema.
fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn response_schemas_list_exactly_the_fields_responses_have() {
    for_each_engine(|app: TestApp| async move {
        let doc = fetch(&app).await;
        let (_, me) = app.get(&app.admin, "/api/v2/users/me.json").await;
        assert_eq!(properties(&doc, "User"), keys(&me["user"]), "User");

        let (status, org) = app
            .write(
                &app.admin,
                Method::POST,
                "/api/v2/organizations.json",
                &serde_json::json!({"organization": {"name": "Schema"}}),
            )
            .await;
        assert_eq!(status, 201);
        assert_eq!(
            properties(&doc, "Organization"),
            keys(&org["organization"]),
            "Organization"
        );

        let (status, group) = app
            .write(
                &app.admin,
                Method::POST,
                "/api/v2/groups.json",
                &serde_json::json!({"group": {"name": "Schema"}}),
            )
            .await;
        assert_eq!(status, 201);
        assert_eq!(properties(&doc, "Group"), keys(&group["group"]), "Group");

        // Pagination fields: offset lists carry the offset ones, cursor lists `meta` and `links`.
        let paging = properties(&doc, "Paging");
        let (_, offset) = app.get(&app.admin, "/api/v2/users.json").await;
        let (_, cursor) = app.get(&app.admin, "/api/v2/users.json?page[size]=2").await;
        for list in [&offset, &cursor] {
            let mut fields = keys(list);
            fields.remove("users");
            assert!(fields.is_subset(&paging), "{fields:?} not in {paging:?}");
        }
    })
    .await;
}
