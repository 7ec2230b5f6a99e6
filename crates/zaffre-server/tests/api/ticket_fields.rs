//! Ticket fields: everyone reads, admins manage, system fields are protected.

use reqwest::Method;
use serde_json::{json, Value};
use zaffre_domain::TicketId;

use crate::common::{for_each_engine, send, TestApp};
use crate::tickets::{custom_fields, field_value, new_ticket};

async fn fields(app: &TestApp, who: &crate::common::Actor) -> Vec<Value> {
    let (status, body) = app.get(who, "/api/v2/ticket_fields.json").await;
    assert_eq!(status, 200, "{body}");
    body["ticket_fields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn every_account_lists_the_seven_system_fields_in_zendesk_shape() {
    for_each_engine(|app: TestApp| async move {
        let all = fields(&app, &app.agent).await;
        let mut types: Vec<&str> = all.iter().map(|f| f["type"].as_str().unwrap()).collect();
        types.sort();
        assert_eq!(
            types,
            [
                "assignee",
                "description",
                "group",
                "priority",
                "status",
                "subject",
                "tickettype"
            ]
        );
        let subject = all.iter().find(|f| f["type"] == "subject").unwrap();
        assert_eq!(subject["removable"], false);
        assert_eq!(subject["visible_in_portal"], true);
        assert_eq!(subject["collapsed_for_agents"], false);
        assert_eq!(subject["regexp_for_validation"], Value::Null);
        assert!(subject["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/v2/ticket_fields/{}.json", subject["id"])));
        assert_eq!(subject["raw_title"], subject["title"]);
    })
    .await;
}

#[tokio::test]
async fn admins_create_update_and_delete_custom_fields() {
    for_each_engine(|app: TestApp| async move {
        let (status, body) = app
            .write(
                &app.admin,
                Method::POST,
                "/api/v2/ticket_fields.json",
                &json!({"ticket_field": {"type": "dropdown", "title": "Plan", "description": "Which plan",
                    "custom_field_options": [{"name": "Gold", "value": "Gold"}, {"name": "Free", "value": "free"}]}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let field = &body["ticket_field"];
        let id = field["id"].as_i64().unwrap();
        assert_eq!(field["type"], "tagger");
        assert_eq!(field["removable"], true);
        assert_eq!(field["active"], true);
        let options = field["custom_field_options"].as_array().unwrap();
        assert_eq!(options.len(), 2);
        assert_eq!((options[0]["name"].clone(), options[0]["value"].clone()), (json!("Gold"), json!("gold")));
        assert!(options[0]["id"].as_i64().is_some());
        let (_, shown) = app.get(&app.end_user, &format!("/api/v2/ticket_fields/{id}.json")).await;
        assert_eq!(shown["ticket_field"], *field);

        let path = format!("/api/v2/ticket_fields/{id}.json");
        let (status, body) = app
            .write(&app.admin, Method::PUT, &path, &json!({"ticket_field": {"title": "Plan tier", "required": true,
                "custom_field_options": [{"name": "Gold", "value": "gold"}, {"name": "Silver", "value": "silver"}]}}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ticket_field"]["title"], "Plan tier");
        assert_eq!(body["ticket_field"]["required"], true);
        let values: Vec<&str> = body["ticket_field"]["custom_field_options"].as_array().unwrap().iter().map(|o| o["value"].as_str().unwrap()).collect();
        assert_eq!(values, ["gold", "silver"]);

        // A field's value leaves every ticket with the field.
        let t = new_ticket(&app, &app.agent, json!({"comment": {"body": "x"}, "custom_fields": [{"id": id, "value": "gold"}]})).await;
        assert_eq!(field_value(&t, id), "gold");
        let (status, _) = send(app.request(&app.admin, Method::DELETE, &path)).await;
        assert_eq!(status, 204);
        let (status, _) = app.get(&app.admin, &path).await;
        assert_eq!(status, 404);
        let (_, after) = app.get(&app.agent, &format!("/api/v2/tickets/{}.json", t["id"])).await;
        assert!(!after["ticket"]["custom_fields"].as_array().unwrap().iter().any(|f| f["id"] == id));
        let stored = app.store.get_ticket(app.account, TicketId(t["id"].as_i64().unwrap())).await.unwrap();
        assert!(stored.custom_fields.is_empty());
    })
    .await;
}

#[tokio::test]
async fn only_admins_manage_fields_and_end_users_see_active_ones() {
    for_each_engine(|app: TestApp| async move {
        let f = custom_fields(&app).await;
        let path = format!("/api/v2/ticket_fields/{}.json", f.text);
        let (status, _) = app
            .write(
                &app.admin,
                Method::PUT,
                &path,
                &json!({"ticket_field": {"active": false}}),
            )
            .await;
        assert_eq!(status, 200);
        let body = json!({"ticket_field": {"type": "text", "title": "Nope"}});
        for who in [&app.agent, &app.end_user] {
            let (status, answer) = app
                .write(who, Method::POST, "/api/v2/ticket_fields.json", &body)
                .await;
            assert_eq!((status, answer["error"].as_str()), (403, Some("Forbidden")));
            let (status, _) = app.write(who, Method::PUT, &path, &body).await;
            assert_eq!(status, 403);
            let (status, _) = send(app.request(who, Method::DELETE, &path)).await;
            assert_eq!(status, 403);
        }
        let (status, _) = send(app.anonymous(Method::GET, &path)).await;
        assert_eq!(status, 401);
        // The other account cannot see or touch this account's field.
        let (status, _) = app.get(&app.foreign_admin, &path).await;
        assert_eq!(status, 404);
        let (status, _) = app
            .write(
                &app.foreign_admin,
                Method::PUT,
                &path,
                &json!({"ticket_field": {"title": "Mine"}}),
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = send(app.request(&app.foreign_admin, Method::DELETE, &path)).await;
        assert_eq!(status, 404);
        assert!(!fields(&app, &app.foreign_admin)
            .await
            .iter()
            .any(|x| x["id"] == f.text));

        let staff = fields(&app, &app.agent).await;
        let public = fields(&app, &app.end_user).await;
        assert_eq!(staff.len(), public.len() + 1);
        assert!(!public.iter().any(|x| x["id"] == f.text));
        let (status, _) = app.get(&app.end_user, &path).await;
        assert_eq!(
            status, 404,
            "an inactive field does not exist for end-users"
        );
        let (_, title) = app.get(&app.admin, &path).await;
        assert_eq!(
            title["ticket_field"]["title"], "Order number",
            "nothing changed"
        );
        // Inactive fields leave the tickets' custom_fields list.
        let t = new_ticket(&app, &app.agent, json!({"comment": {"body": "x"}})).await;
        assert!(!t["custom_fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == f.text));
    })
    .await;
}

#[tokio::test]
async fn system_fields_and_types_are_protected() {
    for_each_engine(|app: TestApp| async move {
        let all = fields(&app, &app.admin).await;
        let id_of = |kind: &str| all.iter().find(|f| f["type"] == kind).unwrap()["id"].as_i64().unwrap();
        let subject = format!("/api/v2/ticket_fields/{}.json", id_of("subject"));
        let (status, body) = send(app.request(&app.admin, Method::DELETE, &subject)).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["details"]["base"][0]["description"].as_str().unwrap().contains("system"));
        let (status, body) = app.write(&app.admin, Method::PUT, &subject, &json!({"ticket_field": {"type": "text"}})).await;
        assert_eq!(status, 422);
        assert!(body["details"]["type"].is_array());
        let (status, body) = app.write(&app.admin, Method::PUT, &subject, &json!({"ticket_field": {"active": false}})).await;
        assert_eq!(status, 422, "{body}");
        // Renaming a system field is fine.
        let (status, body) = app.write(&app.admin, Method::PUT, &subject, &json!({"ticket_field": {"title": "Topic"}})).await;
        assert_eq!((status, body["ticket_field"]["title"].clone()), (200, json!("Topic")));

        let f = custom_fields(&app).await;
        let integer = format!("/api/v2/ticket_fields/{}.json", f.integer);
        let (status, _) = app.write(&app.admin, Method::PUT, &integer, &json!({"ticket_field": {"type": "decimal"}})).await;
        assert_eq!(status, 422);
        let (status, _) = app.write(&app.admin, Method::PUT, &integer, &json!({"ticket_field": {"custom_field_options": [{"name": "a", "value": "a"}]}})).await;
        assert_eq!(status, 422);

        let count = fields(&app, &app.admin).await.len();
        for bad in [
            json!({"type": "status", "title": "Second status"}),
            json!({"type": "multiselect", "title": "Nope"}),
            json!({"title": "No type"}),
            json!({"type": "text"}),
            json!({"type": "text", "title": "  "}),
            json!({"type": "text", "title": "x".repeat(300)}),
            json!({"type": "text", "title": "T", "active": "yes"}),
            json!({"type": "text", "title": "T", "position": -1}),
            json!({"type": "tagger", "title": "No options"}),
            json!({"type": "tagger", "title": "T", "custom_field_options": [{"name": "A", "value": "a b"}]}),
            json!({"type": "tagger", "title": "T", "custom_field_options": [{"name": "A", "value": "a"}, {"name": "B", "value": "A"}]}),
            json!({"type": "text", "title": "T", "custom_field_options": [{"name": "A", "value": "a"}]}),
        ] {
            let (status, body) = app.write(&app.admin, Method::POST, "/api/v2/ticket_fields.json", &json!({ "ticket_field": bad })).await;
            assert_eq!((status, body["error"].as_str()), (422, Some("RecordInvalid")), "{bad}: {body}");
        }
        assert_eq!(fields(&app, &app.admin).await.len(), count, "nothing was created");
    })
    .await;
}
