//! `/api/v2/organizations`: CRUD, members and tickets, who may do what, and
//! bad input that must write nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{for_each_engine, send, TestApp};
use crate::users::{assert_timestamp, snapshot};

async fn create(app: &TestApp, org: Value) -> (u16, Value) {
    app.write(
        &app.admin,
        Method::POST,
        "/api/v2/organizations.json",
        &json!({ "organization": org }),
    )
    .await
}

#[tokio::test]
async fn admins_create_change_and_delete_organizations() {
    for_each_engine(|app: TestApp| async move {
        let (status, body) = create(
            &app,
            json!({"name": "Acme", "details": "Rockets", "notes": "Pays late",
                   "domain_names": ["acme.com", "Acme.io"], "tags": ["vip", "gold"]}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let org = &body["organization"];
        let id = org["id"].as_i64().unwrap();
        assert_eq!(org["name"], "Acme");
        assert_eq!(org["domain_names"], json!(["acme.com", "acme.io"]));
        assert_eq!(org["tags"], json!(["vip", "gold"]));
        assert_eq!(
            org["url"],
            format!("{}/api/v2/organizations/{id}.json", app.base)
        );
        for (key, value) in [
            ("shared_tickets", json!(false)),
            ("shared_comments", json!(false)),
            ("external_id", Value::Null),
            ("group_id", Value::Null),
            ("organization_fields", json!({})),
        ] {
            assert_eq!(org[key], value, "{key}");
        }
        assert_timestamp(&org["created_at"]);

        let path = format!("/api/v2/organizations/{id}.json");
        let (status, body) = app
            .write(
                &app.admin,
                Method::PUT,
                &path,
                &json!({"organization": {"notes": "Pays on time", "tags": "vip"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (
                &body["organization"]["notes"],
                &body["organization"]["tags"]
            ),
            (&json!("Pays on time"), &json!(["vip"]))
        );
        assert_eq!(body["organization"]["details"], "Rockets", "untouched");

        let (status, body) = app
            .get(&app.agent, &format!("/api/v2/organizations/{id}"))
            .await;
        assert_eq!(
            (status, &body["organization"]["name"]),
            (200, &json!("Acme"))
        );
        let (_, body) = app.get(&app.agent, "/api/v2/organizations.json").await;
        assert_eq!(body["count"], 1);

        let (status, _) = send(app.request(&app.admin, Method::DELETE, &path)).await;
        assert_eq!(status, 204);
        let (status, _) = app.get(&app.admin, &path).await;
        assert_eq!(status, 404);
        let (status, _) = send(app.request(&app.admin, Method::DELETE, &path)).await;
        assert_eq!(status, 404, "deleting twice");
    })
    .await;
}

#[tokio::test]
async fn names_are_unique_per_account() {
    for_each_engine(|app: TestApp| async move {
        let (status, _) = create(&app, json!({"name": "Acme"})).await;
        assert_eq!(status, 201);
        let before = snapshot(&app).await;
        let (status, body) = create(&app, json!({"name": "ACME"})).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["details"]["name"][0]["error"], "DuplicateValue");
        assert_eq!(snapshot(&app).await, before);

        let (status, _) = app
            .write(
                &app.foreign_admin,
                Method::POST,
                "/api/v2/organizations.json",
                &json!({"organization": {"name": "Acme"}}),
            )
            .await;
        assert_eq!(status, 201, "the other account has its own names");
    })
    .await;
}

#[tokio::test]
async fn agents_read_and_end_users_see_only_their_own_organization() {
    for_each_engine(|app: TestApp| async move {
        let (_, body) = create(&app, json!({"name": "Ann's company"})).await;
        let own = body["organization"]["id"].as_i64().unwrap();
        let (_, body) = create(&app, json!({"name": "Someone else's"})).await;
        let other = body["organization"]["id"].as_i64().unwrap();

        // Without an organization an end-user lists nothing.
        let (status, body) = app.get(&app.end_user, "/api/v2/organizations.json").await;
        assert_eq!(
            (status, &body["organizations"], &body["count"]),
            (200, &json!([]), &json!(0))
        );

        // Through the API: the end-user's token is cached now, and a write on
        // this node applies to its next request (a write the node does not see
        // applies within zaffre_server::cache::TOKENS_TTL).
        let (status, body) = app
            .write(
                &app.admin,
                Method::PUT,
                &format!("/api/v2/users/{}.json", app.end_user.user.id),
                &json!({"user": {"organization_id": own}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app.get(&app.end_user, "/api/v2/organizations.json").await;
        assert_eq!(status, 200);
        let ids: Vec<i64> = body["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [own]);
        let (status, _) = app
            .get(&app.end_user, &format!("/api/v2/organizations/{own}.json"))
            .await;
        assert_eq!(status, 200);
        for id in [other, 999_999] {
            let (status, _) = app
                .get(&app.end_user, &format!("/api/v2/organizations/{id}.json"))
                .await;
            assert_eq!(status, 403, "organization {id}");
        }
        for sub in ["users", "tickets"] {
            let (status, _) = app
                .get(
                    &app.end_user,
                    &format!("/api/v2/organizations/{own}/{sub}.json"),
                )
                .await;
            assert_eq!(status, 403, "{sub}");
        }

        // Members, for staff.
        let (status, body) = app
            .get(
                &app.agent,
                &format!("/api/v2/organizations/{own}/users.json"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["users"][0]["email"], "ann@example.com");
        assert_eq!(body["count"], 1);
        let (status, body) = app
            .get(
                &app.agent,
                &format!("/api/v2/organizations/{own}/tickets.json"),
            )
            .await;
        assert_eq!((status, &body["tickets"]), (200, &json!([])));
        let (status, _) = app
            .get(&app.agent, "/api/v2/organizations/999999/users.json")
            .await;
        assert_eq!(status, 404);

        // Writes are for admins.
        let before = snapshot(&app).await;
        for who in [&app.agent, &app.end_user] {
            let (status, _) = app
                .write(
                    who,
                    Method::POST,
                    "/api/v2/organizations.json",
                    &json!({"organization": {"name": "X"}}),
                )
                .await;
            assert_eq!(status, 403);
            let (status, _) = app
                .write(
                    who,
                    Method::PUT,
                    &format!("/api/v2/organizations/{own}.json"),
                    &json!({"organization": {"name": "X"}}),
                )
                .await;
            assert_eq!(status, 403);
            let (status, _) = send(app.request(
                who,
                Method::DELETE,
                &format!("/api/v2/organizations/{own}.json"),
            ))
            .await;
            assert_eq!(status, 403);
        }
        let (status, _) = send(app.request(
            &app.foreign_admin,
            Method::DELETE,
            &format!("/api/v2/organizations/{own}.json"),
        ))
        .await;
        assert_eq!(status, 404);
        assert_eq!(snapshot(&app).await, before);
    })
    .await;
}

#[tokio::test]
async fn bad_organization_input_is_a_clear_4xx_and_writes_nothing() {
    for_each_engine(|app: TestApp| async move {
        let (_, body) = create(&app, json!({"name": "Acme"})).await;
        let id = body["organization"]["id"].as_i64().unwrap();
        let target = format!("/api/v2/organizations/{id}.json");
        let before = snapshot(&app).await;
        let long = "y".repeat(70_000);
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            (
                "malformed JSON",
                b"{\"organization\":".to_vec(),
                400,
                "InvalidJSON",
            ),
            (
                "invalid UTF-8",
                b"{\"organization\": {\"name\": \"\xc3\x28\"}}".to_vec(),
                400,
                "InvalidJSON",
            ),
            (
                "wrong root",
                br#"{"org": {"name": "x"}}"#.to_vec(),
                400,
                "InvalidJSON",
            ),
            (
                "name is a list",
                br#"{"organization": {"name": ["x"]}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "blank name",
                br#"{"organization": {"name": ""}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "bad domain",
                br#"{"organization": {"name": "B", "domain_names": ["not a domain"]}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "tags of numbers",
                br#"{"organization": {"name": "B", "tags": [1, 2]}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "huge details",
                format!(r#"{{"organization": {{"name": "B", "details": "{long}"}}}}"#).into_bytes(),
                422,
                "RecordInvalid",
            ),
        ];
        for (what, bytes, status, code) in &cases {
            for (method, path) in [
                (Method::POST, "/api/v2/organizations.json"),
                (Method::PUT, target.as_str()),
            ] {
                let (got, body) = send(
                    app.request(&app.admin, method.clone(), path)
                        .header("content-type", "application/json")
                        .body(bytes.clone()),
                )
                .await;
                assert_eq!(
                    (got, body["error"].as_str()),
                    (*status, Some(*code)),
                    "{what} on {method}: {body}"
                );
            }
        }
        for junk in ["abc", "0.json", "-5", "1e3.json", "999999.json"] {
            let (status, body) = app
                .get(&app.admin, &format!("/api/v2/organizations/{junk}"))
                .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (404, Some("RecordNotFound")),
                "{junk}"
            );
        }
        assert_eq!(snapshot(&app).await, before);
    })
    .await;
}
