//! The in-process caches (`zaffre_server::cache`): ticket fields and API
//! token users. Each test first warms the cache with a request, then changes
//! the data and checks that the very next request sees the change, through the
//! invalidation path (a write through this node's API) or, for writes the node
//! cannot see, through the re-check zaffre does before refusing.

use reqwest::Method;
use serde_json::{json, Value};
use zaffre_domain::{FieldType, NewTicketField, Role};

use crate::common::{for_each_engine, Actor, TestApp};
use crate::tickets::{field_value, new_ticket};

fn field_ids(ticket: &Value) -> Vec<i64> {
    ticket["custom_fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no custom_fields in {ticket}"))
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect()
}

async fn read_ticket(app: &TestApp, who: &Actor, id: &Value) -> Value {
    let (status, body) = app.get(who, &format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(status, 200, "{body}");
    body["ticket"].clone()
}

#[tokio::test]
async fn field_writes_through_the_api_show_in_the_next_ticket_read() {
    for_each_engine(|app: TestApp| async move {
        let t = new_ticket(&app, &app.agent, json!({"subject": "s", "comment": {"body": "x"}})).await;
        let id = &t["id"];
        // Warm the cache: the account's fields are now remembered.
        assert!(field_ids(&read_ticket(&app, &app.agent, id).await).is_empty());

        let (status, body) = app
            .write(
                &app.admin,
                Method::POST,
                "/api/v2/ticket_fields.json",
                &json!({"ticket_field": {"type": "tagger", "title": "Plan",
                    "custom_field_options": [{"name": "Gold", "value": "gold"}]}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let field = body["ticket_field"]["id"].as_i64().unwrap();
        let path = format!("/api/v2/tickets/{id}.json");

        // Created: listed at once, and writable at once.
        assert_eq!(field_ids(&read_ticket(&app, &app.agent, id).await), [field]);
        let (status, body) = app
            .write(&app.agent, Method::PUT, &path,
                &json!({"ticket": {"custom_fields": [{"id": field, "value": "gold"}]}}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(field_value(&body["ticket"], field), "gold");

        // Changed: a new option is accepted at once, and a removed one refused at once.
        let (status, body) = app
            .write(&app.admin, Method::PUT, &format!("/api/v2/ticket_fields/{field}.json"),
                &json!({"ticket_field": {"custom_field_options": [{"name": "Silver", "value": "silver"}]}}))
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app
            .write(&app.agent, Method::PUT, &path,
                &json!({"ticket": {"custom_fields": [{"id": field, "value": "silver"}]}}))
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app
            .write(&app.agent, Method::PUT, &path,
                &json!({"ticket": {"custom_fields": [{"id": field, "value": "gold"}]}}))
            .await;
        assert_eq!(status, 422, "a removed option must be refused at once: {body}");

        // Deleted: gone from the next read.
        let (status, body) = app
            .write(&app.admin, Method::DELETE, &format!("/api/v2/ticket_fields/{field}.json"), &json!({}))
            .await;
        assert_eq!(status, 204, "{body}");
        assert!(field_ids(&read_ticket(&app, &app.agent, id).await).is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_field_made_elsewhere_is_not_refused_as_unknown_while_cached() {
    for_each_engine(|app: TestApp| async move {
        let t = new_ticket(
            &app,
            &app.agent,
            json!({"subject": "s", "comment": {"body": "x"}}),
        )
        .await;
        let id = &t["id"];
        assert!(field_ids(&read_ticket(&app, &app.agent, id).await).is_empty());
        // Another node (or the CLI) adds a field: this node is not told.
        let field = app
            .store
            .create_ticket_field(
                app.account,
                &NewTicketField {
                    field_type: FieldType::Text,
                    title: "Order".into(),
                    description: String::new(),
                    active: true,
                    required: false,
                    position: 100,
                    options: vec![],
                },
            )
            .await
            .unwrap();
        // A write naming it is checked again against the store before any refusal.
        let (status, body) = app
            .write(
                &app.agent,
                Method::PUT,
                &format!("/api/v2/tickets/{id}.json"),
                &json!({"ticket": {"custom_fields": [{"id": field.id.get(), "value": "A-17"}]}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(field_value(&body["ticket"], field.id.get()), "A-17");
        // That fresh read replaced the cached list, so reads show the field too.
        assert_eq!(
            field_ids(&read_ticket(&app, &app.agent, id).await),
            [field.id.get()]
        );
    })
    .await;
}

#[tokio::test]
async fn a_role_change_through_the_api_applies_to_the_next_token_request() {
    for_each_engine(|app: TestApp| async move {
        // Warm the cache with the agent's token.
        let (status, body) = app.get(&app.agent, "/api/v2/tags.json").await;
        assert_eq!(status, 200, "{body}");

        let (status, body) = app
            .write(
                &app.admin,
                Method::PUT,
                &format!("/api/v2/users/{}.json", app.agent.user.id),
                &json!({"user": {"role": "end-user"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app.get(&app.agent, "/api/v2/tags.json").await;
        assert_eq!(
            status, 403,
            "the demoted agent's token still acts as staff: {body}"
        );
        let (status, body) = app.get(&app.agent, "/api/v2/users/me.json").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["role"], "end-user");

        // And back: a promotion applies at once too.
        let (status, body) = app
            .write(
                &app.admin,
                Method::PUT,
                &format!("/api/v2/users/{}.json", app.agent.user.id),
                &json!({"user": {"role": "agent"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app.get(&app.agent, "/api/v2/tags.json").await;
        assert_eq!(status, 200, "{body}");
    })
    .await;
}

#[tokio::test]
async fn unknown_tokens_are_not_remembered_and_tokens_stay_in_their_account() {
    for_each_engine(|app: TestApp| async move {
        let late = Actor {
            token: zaffre_server::auth::random_token(),
            ..app.agent.clone()
        };
        let (status, _) = app.get(&late, "/api/v2/tags.json").await;
        assert_eq!(status, 401);
        // The token is issued now (by the CLI, say): its first use must not
        // meet a remembered refusal.
        app.store
            .create_api_token(
                app.account,
                app.agent.user.id,
                &zaffre_server::auth::sha256_hex(&late.token),
                "late",
            )
            .await
            .unwrap();
        let (status, body) = app.get(&late, "/api/v2/tags.json").await;
        assert_eq!(status, 200, "{body}");

        // A cached token of one account does not open another account, and
        // the email must still match the token's user.
        let elsewhere = Actor {
            host: app.foreign_admin.host.clone(),
            ..late.clone()
        };
        let (status, _) = app.get(&elsewhere, "/api/v2/tags.json").await;
        assert_eq!(status, 401);
        let mut wrong_email = late.clone();
        wrong_email.user.email = app.admin.user.email.clone();
        let (status, _) = app.get(&wrong_email, "/api/v2/tags.json").await;
        assert_eq!(status, 401);
        assert_eq!(late.user.role, Role::Agent);
    })
    .await;
}
