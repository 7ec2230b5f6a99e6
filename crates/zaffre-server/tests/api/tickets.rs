//! Tickets, comments, audits and tags: round trips, validation, the role
//! matrix, pagination, sorting, concurrency and live events.
//!
//! The helpers at the top are shared with the search, field and bad-input tests.

use reqwest::Method;
use serde_json::{json, Value};
use zaffre_domain::{
    AccountId, GroupId, NewGroup, NewOrganization, NewUser, OrganizationId, Role, TicketId, UserId,
};

use crate::common::{for_each_engine, send, Actor, TestApp};

/// Creates a ticket as `who` and returns its JSON, failing the test on anything but 201.
pub async fn new_ticket(app: &TestApp, who: &Actor, ticket: Value) -> Value {
    let (status, body) = app
        .write(
            who,
            Method::POST,
            "/api/v2/tickets.json",
            &json!({ "ticket": ticket }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["ticket"].clone()
}

/// A minimal ticket requested by `requester`, created by the agent.
pub async fn ticket_for(app: &TestApp, requester: &Actor, subject: &str) -> i64 {
    let t = new_ticket(
        app,
        &app.agent,
        json!({"subject": subject, "comment": {"body": format!("About {subject}")}, "requester_id": requester.user.id}),
    )
    .await;
    t["id"].as_i64().expect("ticket id")
}

/// How many audits and comments a ticket has, read from the store.
pub async fn history(app: &TestApp, id: i64) -> (usize, usize) {
    let audits = app
        .store
        .list_audits(app.account, TicketId(id))
        .await
        .expect("audits");
    let comments = app
        .store
        .list_comments(app.account, TicketId(id))
        .await
        .expect("comments");
    (audits.len(), comments.len())
}

/// A group in `account`.
pub async fn group(app: &TestApp, account: AccountId, name: &str) -> GroupId {
    app.store
        .create_group(
            account,
            &NewGroup {
                name: name.into(),
                description: String::new(),
            },
        )
        .await
        .expect("group")
        .id
}

/// An organization in `account`.
pub async fn organization(app: &TestApp, account: AccountId, name: &str) -> OrganizationId {
    app.store
        .create_organization(
            account,
            &NewOrganization {
                name: name.into(),
                ..NewOrganization::default()
            },
        )
        .await
        .expect("organization")
        .id
}

/// A user with no credentials.
pub async fn user(app: &TestApp, email: &str, role: Role, org: Option<OrganizationId>) -> UserId {
    app.store
        .create_user(
            app.account,
            &NewUser {
                name: email.split('@').next().unwrap_or("x").into(),
                email: email.into(),
                role,
                organization_id: org,
                time_zone: "UTC".into(),
                locale: "en-US".into(),
                password_hash: None,
            },
        )
        .await
        .expect("user")
        .id
}

/// One custom field of each type, created by the admin through the API.
pub struct CustomFields {
    pub text: i64,
    pub textarea: i64,
    pub checkbox: i64,
    pub date: i64,
    pub integer: i64,
    pub decimal: i64,
    pub tagger: i64,
}

pub async fn custom_fields(app: &TestApp) -> CustomFields {
    let mut ids = Vec::new();
    for (kind, title) in [
        ("text", "Order number"),
        ("textarea", "Steps"),
        ("checkbox", "Escalated"),
        ("date", "Renewal"),
        ("integer", "Seats"),
        ("decimal", "Refund"),
        ("tagger", "Plan"),
    ] {
        let mut field = json!({"type": kind, "title": title});
        if kind == "tagger" {
            field["custom_field_options"] = json!([{"name": "Gold", "value": "plan_gold"}, {"name": "Free", "value": "plan_free"}]);
        }
        let (status, body) = app
            .write(
                &app.admin,
                Method::POST,
                "/api/v2/ticket_fields.json",
                &json!({ "ticket_field": field }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["ticket_field"]["id"].as_i64().expect("field id"));
    }
    CustomFields {
        text: ids[0],
        textarea: ids[1],
        checkbox: ids[2],
        date: ids[3],
        integer: ids[4],
        decimal: ids[5],
        tagger: ids[6],
    }
}

/// The value a ticket JSON shows for a custom field.
pub fn field_value(ticket: &Value, id: i64) -> Value {
    ticket["custom_fields"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["id"] == id))
        .map(|f| f["value"].clone())
        .unwrap_or_else(|| panic!("field {id} is not listed in {ticket}"))
}

fn is_zendesk_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 20
        && s.ends_with('Z')
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
        && !s.contains('.')
}

#[tokio::test]
async fn create_show_update_round_trip_with_every_field_type_and_tags() {
    for_each_engine(|app: TestApp| async move {
        let f = custom_fields(&app).await;
        let g = group(&app, app.account, "Billing").await;
        let org = organization(&app, app.account, "Acme").await;
        let created = new_ticket(
            &app,
            &app.agent,
            json!({
                "subject": "Printer on fire",
                "comment": {"body": "It is on fire.\n\nReally.", "public": true},
                "requester_id": app.end_user.user.id,
                "priority": "high",
                "type": "incident",
                "assignee_id": app.agent.user.id,
                "group_id": g,
                "organization_id": org,
                "tags": ["VIP", "printer"],
                "custom_fields": [
                    {"id": f.text, "value": "A-1"},
                    {"id": f.textarea, "value": "one\ntwo"},
                    {"id": f.checkbox, "value": true},
                    {"id": f.date, "value": "2024-05-01"},
                    {"id": f.integer, "value": 42},
                    {"id": f.decimal, "value": "3.5"},
                    {"id": f.tagger, "value": "plan_gold"},
                ],
            }),
        )
        .await;
        let id = created["id"].as_i64().unwrap();
        assert_eq!(created["subject"], "Printer on fire");
        assert_eq!(created["description"], "It is on fire.\n\nReally.");
        assert_eq!(created["status"], "open", "assigned tickets start open");
        assert_eq!(created["priority"], "high");
        assert_eq!(created["type"], "incident");
        assert_eq!(created["requester_id"], app.end_user.user.id.get());
        assert_eq!(created["submitter_id"], app.agent.user.id.get());
        assert_eq!(created["group_id"], g.get());
        assert_eq!(created["organization_id"], org.get());
        assert_eq!(created["tags"], json!(["vip", "printer"]));
        assert_eq!(field_value(&created, f.integer), "42");
        assert_eq!(field_value(&created, f.checkbox), true);
        assert_eq!(field_value(&created, f.tagger), "plan_gold");
        assert_eq!(created["fields"], created["custom_fields"]);
        assert!(is_zendesk_timestamp(&created["created_at"]), "{}", created["created_at"]);
        assert_eq!(created["url"], format!("{}/api/v2/tickets/{id}.json", app.base));
        assert_eq!(created["generated_timestamp"].as_i64().map(|t| t > 0), Some(true));

        let (status, shown) = app.get(&app.agent, &format!("/api/v2/tickets/{id}.json")).await;
        assert_eq!(status, 200);
        assert_eq!(shown["ticket"], created);
        // Without the suffix too.
        let (status, _) = app.get(&app.agent, &format!("/api/v2/tickets/{id}")).await;
        assert_eq!(status, 200);

        let (status, updated) = app
            .write(
                &app.agent,
                Method::PUT,
                &format!("/api/v2/tickets/{id}.json"),
                &json!({"ticket": {
                    "status": "pending",
                    "priority": null,
                    "additional_tags": ["urgent"],
                    "custom_fields": [{"id": f.integer, "value": "7"}, {"id": f.checkbox, "value": false}, {"id": f.text, "value": null}],
                    "comment": {"body": "Internal: checking", "public": false},
                }}),
            )
            .await;
        assert_eq!(status, 200, "{updated}");
        let t = &updated["ticket"];
        assert_eq!(t["status"], "pending");
        assert_eq!(t["priority"], Value::Null);
        assert_eq!(t["tags"], json!(["vip", "printer", "urgent"]));
        assert_eq!(field_value(t, f.integer), "7");
        assert_eq!(field_value(t, f.checkbox), false);
        assert_eq!(field_value(t, f.text), Value::Null);
        assert_eq!(field_value(t, f.date), "2024-05-01");
        let events = updated["audit"]["events"].as_array().unwrap();
        assert!(events.iter().any(|e| e["type"] == "Comment" && e["public"] == false && e["body"] == "Internal: checking"));

        // It survived: read straight from the store.
        let stored = app.store.get_ticket(app.account, TicketId(id)).await.unwrap();
        assert_eq!(stored.status.as_str(), "pending");
        assert_eq!(stored.priority, None);
        assert!(stored.tags.contains(&"urgent".to_owned()));
        assert_eq!(history(&app, id).await, (2, 2));
    })
    .await;
}

#[tokio::test]
async fn audits_record_each_field_with_old_and_new_values() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Audit me").await;
        let (status, _) = app
            .write(
                &app.agent,
                Method::PUT,
                &format!("/api/v2/tickets/{id}.json"),
                &json!({"ticket": {"status": "open", "subject": "Audited", "comment": {"body": "Done"}}}),
            )
            .await;
        assert_eq!(status, 200);
        // A no-op update records nothing.
        let (status, body) = app
            .write(&app.agent, Method::PUT, &format!("/api/v2/tickets/{id}.json"), &json!({"ticket": {"subject": "Audited"}}))
            .await;
        assert_eq!((status, body["audit"].clone()), (200, Value::Null));

        let (status, body) = app.get(&app.agent, &format!("/api/v2/tickets/{id}/audits.json")).await;
        assert_eq!(status, 200, "{body}");
        let audits = body["audits"].as_array().unwrap();
        assert_eq!(audits.len(), 2);
        let create = &audits[0];
        assert_eq!(create["ticket_id"], id);
        assert_eq!(create["author_id"], app.agent.user.id.get());
        assert!(create["events"].as_array().unwrap().iter().any(|e| e["type"] == "Create" && e["field_name"] == "subject" && e["value"] == "Audit me"));
        let change = &audits[1]["events"];
        let find = |name: &str| change.as_array().unwrap().iter().find(|e| e["field_name"] == name).cloned();
        assert_eq!(find("status").map(|e| (e["previous_value"].clone(), e["value"].clone())), Some((json!("new"), json!("open"))));
        assert_eq!(find("subject").map(|e| (e["type"].clone(), e["previous_value"].clone())), Some((json!("Change"), json!("Audit me"))));
        assert!(change.as_array().unwrap().iter().any(|e| e["type"] == "Comment" && e["body"] == "Done" && e["audit_id"] == audits[1]["id"]));
        assert!(is_zendesk_timestamp(&audits[1]["created_at"]));
        // Newest first on request.
        let (_, desc) = app.get(&app.agent, &format!("/api/v2/tickets/{id}/audits.json?sort_order=desc")).await;
        assert_eq!(desc["audits"][0]["id"], audits[1]["id"]);
    })
    .await;
}

#[tokio::test]
async fn invalid_writes_answer_422_with_details_and_write_nothing() {
    for_each_engine(|app: TestApp| async move {
        let f = custom_fields(&app).await;
        let foreign_group = group(&app, app.other_account, "Theirs").await;
        let id = ticket_for(&app, &app.end_user, "Keep me").await;
        let before = app
            .store
            .get_ticket(app.account, TicketId(id))
            .await
            .unwrap();
        let path = format!("/api/v2/tickets/{id}.json");

        let cases: Vec<(Value, &str, &str)> = vec![
            (json!({"status": "bogus"}), "status", "InvalidValue"),
            (json!({"status": 5}), "status", "InvalidValue"),
            (
                json!({"custom_fields": [{"id": f.integer, "value": "abc"}]}),
                "base",
                "InvalidValue",
            ),
            (
                json!({"assignee_id": app.other_end_user.user.id}),
                "assignee_id",
                "InvalidValue",
            ),
            (
                json!({"group_id": foreign_group}),
                "group_id",
                "InvalidValue",
            ),
            (
                json!({"requester_id": app.foreign_admin.user.id}),
                "requester_id",
                "InvalidValue",
            ),
            (
                json!({"organization_id": 999_999}),
                "organization_id",
                "InvalidValue",
            ),
            (json!({"priority": "meh"}), "priority", "InvalidValue"),
            (json!({"subject": ""}), "subject", "BlankValue"),
            (json!({"tags": [5]}), "tags", "InvalidValue"),
        ];
        for (change, attribute, kind) in cases {
            let mut ticket = change.clone();
            ticket["comment"] = json!({"body": "must not be saved"});
            let (status, body) = app
                .write(&app.agent, Method::PUT, &path, &json!({ "ticket": ticket }))
                .await;
            assert_eq!(status, 422, "{change}: {body}");
            assert_eq!(body["error"], "RecordInvalid");
            let detail = &body["details"][attribute][0];
            assert_eq!(detail["error"], kind, "{change}: {body}");
            assert!(
                detail["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{change}: {body}"
            );
            if attribute == "base" {
                assert_eq!(detail["field_key"], f.integer, "{body}");
            }
            // Another account's group is described like a missing one.
            if attribute == "group_id" {
                assert!(!body.to_string().contains("Theirs"), "{body}");
            }
        }
        // Several problems are reported together.
        let (status, body) = app
            .write(
                &app.agent,
                Method::PUT,
                &path,
                &json!({"ticket": {"status": "bogus", "priority": "meh"}}),
            )
            .await;
        assert_eq!(status, 422);
        assert!(
            body["details"]["status"].is_array() && body["details"]["priority"].is_array(),
            "{body}"
        );

        let after = app
            .store
            .get_ticket(app.account, TicketId(id))
            .await
            .unwrap();
        assert_eq!(after, before, "nothing was written");
        assert_eq!(history(&app, id).await, (1, 1));

        // A create without a comment has no description.
        let (status, body) = app
            .write(
                &app.agent,
                Method::POST,
                "/api/v2/tickets.json",
                &json!({"ticket": {"subject": "No body"}}),
            )
            .await;
        assert_eq!(status, 422);
        assert!(body["details"]["description"].is_array(), "{body}");
        let (_, list) = app.get(&app.admin, "/api/v2/tickets.json").await;
        assert_eq!(list["count"], 1, "no ticket was created");
    })
    .await;
}

#[tokio::test]
async fn assignee_must_be_an_active_agent_and_details_name_the_problem() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Assign me").await;
        let path = format!("/api/v2/tickets/{id}.json");
        let (status, body) = app
            .write(
                &app.agent,
                Method::PUT,
                &path,
                &json!({"ticket": {"assignee_id": app.end_user.user.id}}),
            )
            .await;
        assert_eq!(status, 422);
        assert_eq!(body["details"]["assignee_id"][0]["error"], "InvalidValue");
        assert!(
            body["details"]["assignee_id"][0]["description"]
                .as_str()
                .unwrap()
                .contains("end-user"),
            "{body}"
        );
        let (status, body) = app
            .write(
                &app.agent,
                Method::PUT,
                &path,
                &json!({"ticket": {"assignee_id": app.admin.user.id}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ticket"]["assignee_id"], app.admin.user.id.get());
        assert_eq!(
            body["ticket"]["status"], "open",
            "assigning a new ticket opens it"
        );
    })
    .await;
}

#[tokio::test]
async fn organization_follows_the_requester() {
    for_each_engine(|app: TestApp| async move {
        let acme = organization(&app, app.account, "Acme").await;
        let globex = organization(&app, app.account, "Globex").await;
        let carol = user(&app, "carol@acme.test", Role::EndUser, Some(acme)).await;
        let dave = user(&app, "dave@globex.test", Role::EndUser, Some(globex)).await;
        let t = new_ticket(
            &app,
            &app.agent,
            json!({"comment": {"body": "Hello\nsecond line"}, "requester_id": carol}),
        )
        .await;
        assert_eq!(t["organization_id"], acme.get());
        assert_eq!(
            t["subject"], "Hello",
            "a missing subject comes from the first line"
        );
        let id = t["id"].as_i64().unwrap();
        let (status, body) = app
            .write(
                &app.agent,
                Method::PUT,
                &format!("/api/v2/tickets/{id}.json"),
                // Zendesk's requester object, resolved by email.
                &json!({"ticket": {"requester": {"email": "Dave@globex.test", "name": "Dave"}}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ticket"]["requester_id"], dave.get());
        assert_eq!(body["ticket"]["organization_id"], globex.get());
        // An unknown email is refused rather than filed under someone else.
        let (status, body) = app
            .write(
                &app.agent,
                Method::POST,
                "/api/v2/tickets.json",
                &json!({"ticket": {"requester": {"email": "nobody@nowhere.test"}, "comment": {"body": "x"}}}),
            )
            .await;
        assert_eq!(status, 422);
        assert!(body["details"]["requester"].is_array(), "{body}");
    })
    .await;
}

#[tokio::test]
async fn end_users_create_as_themselves_and_see_only_their_own_tickets() {
    for_each_engine(|app: TestApp| async move {
        let eu = &app.end_user;
        // Requester is forced to the caller.
        let mine = new_ticket(&app, eu, json!({"subject": "Help", "comment": {"body": "Please"}, "priority": "low"})).await;
        assert_eq!(mine["requester_id"], eu.user.id.get());
        assert_eq!(mine["submitter_id"], eu.user.id.get());
        assert_eq!(mine["status"], "new");
        let mine = mine["id"].as_i64().unwrap();

        // Agent-only attributes are refused, each named.
        let (status, body) = app
            .write(
                eu,
                Method::POST,
                "/api/v2/tickets.json",
                &json!({"ticket": {"comment": {"body": "x", "public": false}, "requester_id": app.other_end_user.user.id,
                    "assignee_id": app.agent.user.id, "group_id": 1, "status": "solved", "tags": ["a"]}}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        for attr in ["comment", "requester_id", "assignee_id", "group_id", "status", "tags"] {
            assert!(body["details"][attr].is_array(), "{attr}: {body}");
        }

        let theirs = ticket_for(&app, &app.other_end_user, "Bob's").await;
        let (_, list) = app.get(eu, "/api/v2/tickets.json").await;
        let ids: Vec<i64> = list["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [mine]);
        assert_eq!(list["count"], 1);
        let (_, count) = app.get(eu, "/api/v2/tickets/count.json").await;
        assert_eq!(count["count"]["value"], 1);
        let (_, count) = app.get(&app.agent, "/api/v2/tickets/count.json").await;
        assert_eq!(count["count"]["value"], 2);
        for path in [
            format!("/api/v2/tickets/{theirs}.json"),
            format!("/api/v2/tickets/{theirs}/comments.json"),
            format!("/api/v2/tickets/{}.json", theirs + 1000),
        ] {
            let (status, body) = app.get(eu, &path).await;
            assert_eq!((status, body["error"].as_str()), (404, Some("RecordNotFound")), "{path}");
        }
        let (status, _) = app
            .write(eu, Method::PUT, &format!("/api/v2/tickets/{theirs}.json"), &json!({"ticket": {"comment": {"body": "hi"}}}))
            .await;
        assert_eq!(status, 404);
        assert_eq!(history(&app, theirs).await, (1, 1));
        let (_, many) = app.get(eu, &format!("/api/v2/tickets/show_many.json?ids={mine},{theirs}")).await;
        assert_eq!(many["tickets"].as_array().map(Vec::len), Some(1));

        // Staff-only endpoints are 403 whether or not the ticket is theirs.
        for (method, path) in [
            (Method::DELETE, format!("/api/v2/tickets/{mine}.json")),
            (Method::GET, format!("/api/v2/tickets/{mine}/audits.json")),
            (Method::GET, format!("/api/v2/tickets/{mine}/tags.json")),
            (Method::GET, "/api/v2/tags.json".to_owned()),
        ] {
            let (status, _) = send(app.request(eu, method.clone(), &path)).await;
            assert_eq!(status, 403, "{method} {path}");
        }
        let (status, _) = app
            .write(eu, Method::PUT, &format!("/api/v2/tickets/{mine}/tags.json"), &json!({"tags": ["x"]}))
            .await;
        assert_eq!(status, 403);
    })
    .await;
}

#[tokio::test]
async fn end_users_reply_publicly_mark_solved_and_never_see_internal_notes() {
    for_each_engine(|app: TestApp| async move {
        let eu = &app.end_user;
        let id = ticket_for(&app, eu, "Notes").await;
        let path = format!("/api/v2/tickets/{id}.json");
        let (status, _) = app
            .write(&app.agent, Method::PUT, &path, &json!({"ticket": {"status": "pending", "comment": {"body": "secret note", "public": false}}}))
            .await;
        assert_eq!(status, 200);
        let (status, _) = app
            .write(&app.agent, Method::PUT, &path, &json!({"ticket": {"comment": {"body": "public answer"}}}))
            .await;
        assert_eq!(status, 200);

        let (status, body) = app.get(eu, &format!("/api/v2/tickets/{id}/comments.json")).await;
        assert_eq!(status, 200);
        let bodies: Vec<&str> = body["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
        assert_eq!(bodies, ["About Notes", "public answer"]);
        assert_eq!(body["count"], 2);
        let (_, staff) = app.get(&app.agent, &format!("/api/v2/tickets/{id}/comments.json?include=users")).await;
        assert_eq!(staff["comments"].as_array().map(Vec::len), Some(3));
        assert_eq!(staff["comments"][1]["public"], false);
        assert_eq!(staff["comments"][0]["type"], "Comment");
        assert!(staff["comments"][0]["html_body"].as_str().unwrap().contains("<p>About Notes</p>"));
        assert_eq!(staff["users"].as_array().map(Vec::len), Some(1), "one author: the agent");

        // End-users may not change routing or add notes…
        for change in [json!({"priority": "urgent"}), json!({"status": "open"}), json!({"comment": {"body": "n", "public": false}}), json!({"subject": "mine now"})] {
            let (status, body) = app.write(eu, Method::PUT, &path, &json!({ "ticket": change })).await;
            assert_eq!(status, 422, "{change}: {body}");
        }
        assert_eq!(history(&app, id).await, (3, 3));
        // …but a reply reopens a pending ticket…
        let (status, body) = app.write(eu, Method::PUT, &path, &json!({"ticket": {"comment": {"body": "still broken"}}})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ticket"]["status"], "open");
        // …and they may mark it solved.
        let (status, body) = app.write(eu, Method::PUT, &path, &json!({"ticket": {"status": "solved"}})).await;
        assert_eq!((status, body["ticket"]["status"].clone()), (200, json!("solved")));
    })
    .await;
}

#[tokio::test]
async fn a_private_first_comment_never_reaches_the_requester() {
    for_each_engine(|app: TestApp| async move {
        let note = json!({"body": "Requester is difficult", "public": false});
        let (status, body) = app
            .write(
                &app.agent,
                Method::POST,
                "/api/v2/tickets.json",
                &json!({"ticket": {"comment": note, "requester_id": app.end_user.user.id}}),
            )
            .await;
        assert_eq!(status, 422, "a subject would come from the note: {body}");
        assert!(body["details"]["subject"].is_array());
        let t = new_ticket(
            &app,
            &app.agent,
            json!({"subject": "Proactive", "comment": note, "requester_id": app.end_user.user.id}),
        )
        .await;
        assert_eq!(t["description"], "");
        let id = t["id"].as_i64().unwrap();
        let (_, seen) = app
            .get(&app.end_user, &format!("/api/v2/tickets/{id}.json"))
            .await;
        assert!(!seen.to_string().contains("difficult"), "{seen}");
        let (_, comments) = app
            .get(
                &app.end_user,
                &format!("/api/v2/tickets/{id}/comments.json"),
            )
            .await;
        assert_eq!(comments["comments"], json!([]));
        let (_, staff) = app
            .get(&app.agent, &format!("/api/v2/tickets/{id}/comments.json"))
            .await;
        assert_eq!(staff["comments"][0]["body"], "Requester is difficult");
    })
    .await;
}

#[tokio::test]
async fn every_ticket_endpoint_refuses_anonymous_and_other_accounts() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Private").await;
        let body = json!({"ticket": {"comment": {"body": "x"}}, "tags": ["x"]});
        let endpoints: Vec<(Method, String)> = vec![
            (Method::GET, "/api/v2/tickets.json".into()),
            (Method::POST, "/api/v2/tickets.json".into()),
            (Method::GET, format!("/api/v2/tickets/{id}.json")),
            (Method::PUT, format!("/api/v2/tickets/{id}.json")),
            (Method::DELETE, format!("/api/v2/tickets/{id}.json")),
            (
                Method::GET,
                format!("/api/v2/tickets/show_many.json?ids={id}"),
            ),
            (Method::GET, format!("/api/v2/tickets/{id}/comments.json")),
            (Method::GET, format!("/api/v2/tickets/{id}/audits.json")),
            (Method::GET, format!("/api/v2/tickets/{id}/tags.json")),
            (Method::PUT, format!("/api/v2/tickets/{id}/tags.json")),
            (Method::POST, format!("/api/v2/tickets/{id}/tags.json")),
            (Method::DELETE, format!("/api/v2/tickets/{id}/tags.json")),
            (Method::GET, "/api/v2/tags.json".into()),
            (Method::GET, "/api/v2/ticket_fields.json".into()),
            (Method::GET, "/api/v2/search.json?query=Private".into()),
            (
                Method::GET,
                "/api/v2/search/count.json?query=Private".into(),
            ),
        ];
        for (method, path) in &endpoints {
            let (status, answer) = send(app.anonymous(method.clone(), path).json(&body)).await;
            assert_eq!(status, 401, "{method} {path}: {answer}");
            assert_eq!(answer["error"], "Couldn't authenticate you");
        }
        // The other account's admin: this account's ticket does not exist for them.
        let other = &app.foreign_admin;
        for (method, path) in endpoints
            .iter()
            .filter(|(_, p)| p.contains(&format!("/{id}")))
        {
            let (status, answer) = send(app.request(other, method.clone(), path).json(&body)).await;
            assert_eq!(status, 404, "{method} {path}: {answer}");
        }
        let (_, list) = app.get(other, "/api/v2/tickets.json").await;
        assert_eq!(list["count"], 0);
        let (_, many) = app
            .get(other, &format!("/api/v2/tickets/show_many.json?ids={id}"))
            .await;
        assert_eq!(many["tickets"], json!([]));
        let (_, found) = app.get(other, "/api/v2/search.json?query=Private").await;
        assert_eq!(found["count"], 0);
        let (_, tags) = app.get(other, "/api/v2/tags.json").await;
        assert_eq!(tags["tags"], json!([]));
        assert_eq!(history(&app, id).await, (1, 1), "nothing was written");
        assert!(
            app.store
                .get_ticket(app.account, TicketId(id))
                .await
                .is_ok(),
            "not deleted"
        );
    })
    .await;
}

#[tokio::test]
async fn staff_delete_tickets_and_deleted_tickets_are_gone() {
    for_each_engine(|app: TestApp| async move {
        let a = ticket_for(&app, &app.end_user, "Delete by agent").await;
        let b = ticket_for(&app, &app.end_user, "Delete by admin").await;
        for (who, id) in [(&app.agent, a), (&app.admin, b)] {
            let (status, _) =
                send(app.request(who, Method::DELETE, &format!("/api/v2/tickets/{id}.json"))).await;
            assert_eq!(status, 204);
            let (status, _) = app.get(who, &format!("/api/v2/tickets/{id}.json")).await;
            assert_eq!(status, 404);
            let (status, _) =
                send(app.request(who, Method::DELETE, &format!("/api/v2/tickets/{id}.json"))).await;
            assert_eq!(status, 404);
        }
    })
    .await;
}

#[tokio::test]
async fn closed_tickets_refuse_updates() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Closing").await;
        let path = format!("/api/v2/tickets/{id}.json");
        let (status, _) = app
            .write(
                &app.agent,
                Method::PUT,
                &path,
                &json!({"ticket": {"status": "closed"}}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, body) = app
            .write(
                &app.agent,
                Method::PUT,
                &path,
                &json!({"ticket": {"comment": {"body": "late"}}}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body["details"]["status"][0]["description"]
            .as_str()
            .unwrap()
            .contains("closed"));
        assert_eq!(history(&app, id).await, (2, 1));
    })
    .await;
}

#[tokio::test]
async fn safe_update_refuses_a_stale_stamp_with_409() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Safe").await;
        let path = format!("/api/v2/tickets/{id}.json");
        let (_, shown) = app.get(&app.agent, &path).await;
        let stamp = shown["ticket"]["updated_at"].clone();
        let (status, _) = app
            .write(&app.agent, Method::PUT, &path, &json!({"ticket": {"safe_update": true, "updated_stamp": stamp, "priority": "low"}}))
            .await;
        assert_eq!(status, 200, "a current stamp is accepted");
        // Make sure the next change lands in a later second than the stamp.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (status, _) = app.write(&app.admin, Method::PUT, &path, &json!({"ticket": {"priority": "high"}})).await;
        assert_eq!(status, 200);
        let (status, body) = app
            .write(&app.agent, Method::PUT, &path, &json!({"ticket": {"safe_update": true, "updated_stamp": stamp, "priority": "normal"}}))
            .await;
        assert_eq!((status, body["error"].as_str()), (409, Some("UpdateConflict")), "{body}");
        let (status, _) = app
            .write(&app.agent, Method::PUT, &path, &json!({"ticket": {"safe_update": true, "priority": "normal"}}))
            .await;
        assert_eq!(status, 422, "safe_update needs a stamp");
        let stored = app.store.get_ticket(app.account, TicketId(id)).await.unwrap();
        assert_eq!(stored.priority.map(|p| p.as_str()), Some("high"));
    })
    .await;
}

#[tokio::test]
async fn concurrent_updates_are_retried_and_none_is_lost() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Busy").await;
        let path = format!("/api/v2/tickets/{id}.json");
        let bodies: Vec<Value> = (0..8)
            .map(|n| json!({"ticket": {"additional_tags": [format!("t{n}")], "comment": {"body": format!("c{n}")}}}))
            .collect();
        let writes = bodies.iter().enumerate().map(|(n, body)| {
            let who = if n % 2 == 0 { &app.agent } else { &app.admin };
            app.write(who, Method::PUT, &path, body)
        });
        let results = futures_util::future::join_all(writes).await;
        for (status, body) in &results {
            assert_eq!(*status, 200, "{body}");
        }
        let stored = app.store.get_ticket(app.account, TicketId(id)).await.unwrap();
        let mut tags = stored.tags.clone();
        tags.sort();
        assert_eq!(tags, (0..8).map(|n| format!("t{n}")).collect::<Vec<_>>());
        assert_eq!(history(&app, id).await, (9, 9));
    })
    .await;
}

#[tokio::test]
async fn tag_endpoints_add_set_and_remove_through_audited_updates() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Tags").await;
        let other = ticket_for(&app, &app.end_user, "More tags").await;
        let path = format!("/api/v2/tickets/{id}/tags.json");
        let (status, body) = app
            .write(&app.agent, Method::PUT, &path, &json!({"tags": ["b", "A"]}))
            .await;
        assert_eq!((status, body), (200, json!({"tags": ["b", "a"]})));
        let (status, body) = app
            .write(
                &app.agent,
                Method::POST,
                &path,
                &json!({"tags": ["c", "a"]}),
            )
            .await;
        assert_eq!((status, body), (201, json!({"tags": ["c", "a"]})));
        let (status, _) = app
            .write(&app.agent, Method::DELETE, &path, &json!({"tags": ["c"]}))
            .await;
        assert_eq!(status, 204);
        let (status, body) = app.get(&app.agent, &path).await;
        assert_eq!((status, body), (200, json!({"tags": ["a"]})));
        let (status, _) = app
            .write(
                &app.agent,
                Method::PUT,
                &path,
                &json!({"tags": ["bad\u{7}tag"]}),
            )
            .await;
        assert_eq!(status, 422);
        let (status, _) = app
            .write(&app.agent, Method::PUT, &path, &json!({"labels": ["x"]}))
            .await;
        assert_eq!(status, 400);
        assert_eq!(history(&app, id).await.0, 4, "create + three tag changes");

        app.write(
            &app.agent,
            Method::PUT,
            &format!("/api/v2/tickets/{other}/tags.json"),
            &json!({"tags": ["a", "z"]}),
        )
        .await;
        let (status, body) = app.get(&app.agent, "/api/v2/tags.json").await;
        assert_eq!(status, 200);
        assert_eq!(
            body["tags"],
            json!([{"name": "a", "count": 2}, {"name": "z", "count": 1}])
        );
    })
    .await;
}

#[tokio::test]
async fn lists_paginate_by_offset_and_cursor_and_sort() {
    for_each_engine(|app: TestApp| async move {
        let subjects = ["delta", "alpha", "echo", "charlie", "bravo"];
        let mut ids = Vec::new();
        for s in subjects {
            ids.push(ticket_for(&app, &app.end_user, s).await);
        }
        let (status, page1) = app.get(&app.agent, "/api/v2/tickets.json?per_page=2").await;
        assert_eq!(status, 200);
        assert_eq!(page1["count"], 5);
        assert_eq!(page1["previous_page"], Value::Null);
        let got: Vec<i64> = page1["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        assert_eq!(got, ids[..2]);
        let next = page1["next_page"].as_str().expect("a next page").to_owned();
        assert!(
            next.contains("page=2") && next.contains("per_page=2"),
            "{next}"
        );
        let (_, page3) = app
            .get(&app.agent, "/api/v2/tickets.json?per_page=2&page=3")
            .await;
        assert_eq!(page3["tickets"].as_array().map(Vec::len), Some(1));
        assert_eq!(page3["next_page"], Value::Null);
        assert!(page3["previous_page"].as_str().unwrap().contains("page=2"));

        // Cursor pages, following the links.
        let mut seen = Vec::new();
        let mut url = "/api/v2/tickets.json?page%5Bsize%5D=2".to_owned();
        for _ in 0..5 {
            let (status, body) = app.get(&app.agent, &url).await;
            assert_eq!(status, 200, "{body}");
            seen.extend(
                body["tickets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["id"].as_i64().unwrap()),
            );
            if body["meta"]["has_more"] == false {
                assert_eq!(body["links"]["next"], Value::Null);
                break;
            }
            let next = body["links"]["next"].as_str().unwrap();
            url = next.strip_prefix(&app.base).unwrap().to_owned();
        }
        assert_eq!(seen, ids);

        let (_, sorted) = app
            .get(
                &app.agent,
                "/api/v2/tickets.json?sort_by=subject&sort_order=desc",
            )
            .await;
        let got: Vec<&str> = sorted["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["subject"].as_str().unwrap())
            .collect();
        assert_eq!(got, ["echo", "delta", "charlie", "bravo", "alpha"]);
        let (_, by_id) = app
            .get(&app.agent, "/api/v2/tickets.json?sort_order=desc")
            .await;
        assert_eq!(by_id["tickets"][0]["id"], ids[4]);
        for bad in [
            "sort_by=colour",
            "sort_order=sideways",
            "per_page=0",
            "per_page=500",
            "page=-1",
            "page%5Bafter%5D=zz&page%5Bsize%5D=2",
        ] {
            let (status, body) = app
                .get(&app.agent, &format!("/api/v2/tickets.json?{bad}"))
                .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("InvalidParams")),
                "{bad}: {body}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn show_and_show_many_sideload_users_groups_and_organizations() {
    for_each_engine(|app: TestApp| async move {
        let g = group(&app, app.account, "Tier 2").await;
        let org = organization(&app, app.account, "Initech").await;
        let t = new_ticket(
            &app,
            &app.agent,
            json!({"comment": {"body": "x"}, "requester_id": app.end_user.user.id, "assignee_id": app.admin.user.id, "group_id": g, "organization_id": org}),
        )
        .await;
        let id = t["id"].as_i64().unwrap();
        let (status, body) = app.get(&app.agent, &format!("/api/v2/tickets/{id}.json?include=users,groups,organizations")).await;
        assert_eq!(status, 200);
        let mut user_ids: Vec<i64> = body["users"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
        user_ids.sort();
        let mut expected = vec![app.end_user.user.id.get(), app.agent.user.id.get(), app.admin.user.id.get()];
        expected.sort();
        assert_eq!(user_ids, expected);
        assert_eq!(body["groups"][0]["name"], "Tier 2");
        assert_eq!(body["organizations"][0]["name"], "Initech");
        let (_, plain) = app.get(&app.agent, &format!("/api/v2/tickets/{id}.json")).await;
        assert!(plain.get("users").is_none());

        let other = ticket_for(&app, &app.other_end_user, "Other").await;
        let (status, many) = app.get(&app.agent, &format!("/api/v2/tickets/show_many.json?ids={other},{id},999999&include=users")).await;
        assert_eq!(status, 200);
        let got: Vec<i64> = many["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
        assert_eq!(got, [id, other]);
        assert!(many["users"].as_array().unwrap().iter().any(|u| u["id"] == app.other_end_user.user.id.get()));
    })
    .await;
}

#[tokio::test]
async fn comments_page_and_sort() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Chatty").await;
        for n in 1..=3 {
            app.write(
                &app.agent,
                Method::PUT,
                &format!("/api/v2/tickets/{id}.json"),
                &json!({"ticket": {"comment": {"body": format!("reply {n}")}}}),
            )
            .await;
        }
        let (_, page) = app
            .get(
                &app.agent,
                &format!("/api/v2/tickets/{id}/comments.json?per_page=3&sort_order=desc"),
            )
            .await;
        let bodies: Vec<&str> = page["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["reply 3", "reply 2", "reply 1"]);
        assert_eq!(page["count"], 4);
        assert!(page["next_page"].as_str().is_some());
        let (_, cursor) = app
            .get(
                &app.agent,
                &format!("/api/v2/tickets/{id}/comments.json?page%5Bsize%5D=3"),
            )
            .await;
        assert_eq!(cursor["meta"]["has_more"], true);
        let next = cursor["links"]["next"]
            .as_str()
            .unwrap()
            .strip_prefix(&app.base)
            .unwrap()
            .to_owned();
        let (_, rest) = app.get(&app.agent, &next).await;
        assert_eq!(rest["comments"][0]["body"], "reply 3");
        assert_eq!(rest["meta"]["has_more"], false);
    })
    .await;
}

#[tokio::test]
async fn writes_are_announced_on_the_event_stream() {
    let app = TestApp::sqlite(|_| {}).await;
    let mut stream = app
        .request(&app.agent, Method::GET, "/api/zaffre/events")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let id = ticket_for(&app, &app.end_user, "Live").await;
    app.write(
        &app.agent,
        Method::PUT,
        &format!("/api/v2/tickets/{id}.json"),
        &json!({"ticket": {"priority": "low"}}),
    )
    .await;
    send(app.request(
        &app.agent,
        Method::DELETE,
        &format!("/api/v2/tickets/{id}.json"),
    ))
    .await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains("ticket.deleted") && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    for kind in ["ticket.created", "ticket.updated", "ticket.deleted"] {
        assert!(
            seen.contains(&format!("event: {kind}")),
            "{kind} missing from {seen}"
        );
    }
    assert!(seen.contains(&format!("\"ticket_id\":{id}")), "{seen}");
}
