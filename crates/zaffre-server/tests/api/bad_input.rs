//! Bad input to the ticket endpoints: each is refused with a Zendesk-shaped
//! error and the right status, nothing is written, and nothing answers 5xx.

use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::{json, Value};
use zaffre_domain::{Ticket, TicketId};

use crate::common::{for_each_engine, send, Actor, TestApp};
use crate::tickets::{history, ticket_for};

/// A ticket's full state: the row, its audits and comments, and how many
/// tickets the account has. Equal snapshots mean nothing was written.
async fn snapshot(app: &TestApp, id: i64) -> (Ticket, (usize, usize), Value) {
    let ticket = app
        .store
        .get_ticket(app.account, TicketId(id))
        .await
        .expect("ticket");
    let (_, list) = app.get(&app.admin, "/api/v2/tickets.json").await;
    (ticket, history(app, id).await, list["count"].clone())
}

/// Sends `body` as-is with a content type.
async fn raw(
    app: &TestApp,
    who: &Actor,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    send(
        app.request(who, method, path)
            .header(CONTENT_TYPE, content_type)
            .body(body),
    )
    .await
}

#[tokio::test]
async fn malformed_bodies_are_400_and_write_nothing() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Untouched").await;
        let before = snapshot(&app, id).await;
        let put = format!("/api/v2/tickets/{id}.json");
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "application/json",
                b"{\"ticket\": {".to_vec(),
                "InvalidJSON",
            ),
            ("application/json", b"".to_vec(), "InvalidJSON"),
            ("application/json", b"[1, 2]".to_vec(), "InvalidJSON"),
            (
                "application/json",
                b"{\"ticket\": \"x\"}".to_vec(),
                "InvalidJSON",
            ),
            (
                "application/json",
                b"{\"ticket\": null}".to_vec(),
                "InvalidJSON",
            ),
            (
                "application/json",
                b"{\"tickets\": {}}".to_vec(),
                "InvalidJSON",
            ),
            (
                "application/json",
                b"{\"ticket\": {\"subject\": \"\xff\xfe\"}}".to_vec(),
                "InvalidJSON",
            ),
            (
                "application/json; charset=utf-8",
                b"{\"ticket\": {\"subject\": 1e999999}}".to_vec(),
                "InvalidJSON",
            ),
            (
                "text/plain",
                br#"{"ticket": {"subject": "x"}}"#.to_vec(),
                "InvalidContentType",
            ),
            (
                "application/x-www-form-urlencoded",
                b"ticket[subject]=x".to_vec(),
                "InvalidContentType",
            ),
        ];
        for (method, path) in [
            (Method::PUT, put.as_str()),
            (Method::POST, "/api/v2/tickets.json"),
        ] {
            for (content_type, body, code) in &cases {
                let (status, answer) = raw(
                    &app,
                    &app.agent,
                    method.clone(),
                    path,
                    content_type,
                    body.clone(),
                )
                .await;
                assert_eq!(
                    status,
                    400,
                    "{method} {content_type} {:?}: {answer}",
                    String::from_utf8_lossy(body)
                );
                assert_eq!(answer["error"], *code, "{answer}");
                assert!(answer["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()));
            }
        }
        assert_eq!(snapshot(&app, id).await, before);
    })
    .await;
}

#[tokio::test]
async fn wrong_types_and_unknown_statuses_are_422_and_write_nothing() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Untouched").await;
        let before = snapshot(&app, id).await;
        let put = format!("/api/v2/tickets/{id}.json");
        for ticket in [
            json!({"status": 5}),
            json!({"status": "resolved"}),
            json!({"status": "OPEN"}),
            json!({"status": null}),
            json!({"priority": ["high"]}),
            json!({"type": "bug"}),
            json!({"subject": {"text": "x"}}),
            json!({"subject": "x".repeat(2000)}),
            json!({"assignee_id": "me"}),
            json!({"assignee_id": -4}),
            json!({"assignee_id": 1.5}),
            json!({"group_id": 99_999_999_999_i64}),
            json!({"requester_id": null}),
            json!({"tags": {"a": 1}}),
            json!({"custom_fields": "x"}),
            json!({"custom_fields": [{"value": 1}]}),
            json!({"custom_fields": [{"id": 999_999, "value": 1}]}),
            json!({"comment": "just text"}),
            json!({"comment": {"body": 5}}),
            json!({"comment": {"body": "x", "public": "yes"}}),
            json!({"safe_update": "yes"}),
        ] {
            for (method, path) in [
                (Method::PUT, put.as_str()),
                (Method::POST, "/api/v2/tickets.json"),
            ] {
                // safe_update only means something to an update; creates ignore it, as Zendesk's do.
                if method == Method::POST && ticket.get("safe_update").is_some() {
                    continue;
                }
                let mut body = ticket.clone();
                if body.get("comment").is_none() {
                    body["comment"] = json!({"body": "must not be saved"});
                }
                let (status, answer) = app
                    .write(&app.agent, method.clone(), path, &json!({ "ticket": body }))
                    .await;
                assert_eq!(status, 422, "{method} {ticket}: {answer}");
                assert_eq!(answer["error"], "RecordInvalid");
                assert!(
                    answer["details"].as_object().is_some_and(|d| !d.is_empty()),
                    "{answer}"
                );
            }
        }
        assert_eq!(snapshot(&app, id).await, before);
    })
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_413_and_write_nothing() {
    let mut apps = vec![TestApp::sqlite(|c| c.max_body_bytes = 2048).await];
    if std::env::var("ZAFFRE_TEST_POSTGRES_URL").is_ok() {
        apps.push(TestApp::postgres(|c| c.max_body_bytes = 2048).await);
    }
    for app in apps {
        let id = ticket_for(&app, &app.end_user, "Small").await;
        let before = snapshot(&app, id).await;
        let big = json!({"ticket": {"comment": {"body": "x".repeat(4096)}}});
        for (method, path) in [
            (Method::PUT, format!("/api/v2/tickets/{id}.json")),
            (Method::POST, "/api/v2/tickets.json".to_owned()),
            (Method::PUT, format!("/api/v2/tickets/{id}/tags.json")),
            (Method::POST, "/api/v2/ticket_fields.json".to_owned()),
        ] {
            let (status, answer) = app.write(&app.admin, method.clone(), &path, &big).await;
            assert_eq!(status, 413, "{} {method} {path}: {answer}", app.engine);
            assert_eq!(answer["error"], "PayloadTooLarge");
        }
        // Just under the limit is fine.
        let fits = json!({"ticket": {"comment": {"body": "x".repeat(1800)}}});
        let (status, _) = app
            .write(
                &app.admin,
                Method::PUT,
                &format!("/api/v2/tickets/{id}.json"),
                &fits,
            )
            .await;
        assert_eq!(status, 200);
        let after = snapshot(&app, id).await;
        assert_eq!(
            after.1,
            (before.1 .0 + 1, before.1 .1 + 1),
            "only the fitting update was written"
        );
        assert_eq!(after.2, before.2);
    }
}

#[tokio::test]
async fn ids_that_name_nothing_are_404_and_junk_id_lists_400() {
    for_each_engine(|app: TestApp| async move {
        let id = ticket_for(&app, &app.end_user, "Real").await;
        let before = snapshot(&app, id).await;
        for bad in ["99999999999999999999", "-1", "0", "abc", "1.5", "%FF", "1e3", "9223372036854775807", " 1", "1.json.json"] {
            for (method, path) in [
                (Method::GET, format!("/api/v2/tickets/{bad}.json")),
                (Method::PUT, format!("/api/v2/tickets/{bad}.json")),
                (Method::DELETE, format!("/api/v2/tickets/{bad}")),
                (Method::GET, format!("/api/v2/tickets/{bad}/comments.json")),
                (Method::GET, format!("/api/v2/tickets/{bad}/audits.json")),
                (Method::GET, format!("/api/v2/tickets/{bad}/tags.json")),
                (Method::PUT, format!("/api/v2/tickets/{bad}/tags.json")),
                (Method::GET, format!("/api/v2/ticket_fields/{bad}.json")),
                (Method::PUT, format!("/api/v2/ticket_fields/{bad}.json")),
                (Method::DELETE, format!("/api/v2/ticket_fields/{bad}.json")),
            ] {
                let request = app
                    .request(&app.admin, method.clone(), &path)
                    .json(&json!({"ticket": {"comment": {"body": "x"}}, "tags": ["x"], "ticket_field": {"title": "x"}}));
                let (status, answer) = send(request).await;
                assert_eq!(status, 404, "{method} {path}: {answer}");
                assert_eq!(answer["error"], "RecordNotFound", "{method} {path}");
            }
        }
        for junk in ["", "x", "1,x", "1,,2", "-5", "1;2", "99999999999999999999", "%FF"] {
            let (status, answer) = app.get(&app.agent, &format!("/api/v2/tickets/show_many.json?ids={junk}")).await;
            assert_eq!((status, answer["error"].as_str()), (400, Some("InvalidParams")), "ids={junk}: {answer}");
        }
        let (status, _) = app.get(&app.agent, "/api/v2/tickets/show_many.json").await;
        assert_eq!(status, 400);
        let many: Vec<String> = (1..=101).map(|n| n.to_string()).collect();
        let (status, _) = app.get(&app.agent, &format!("/api/v2/tickets/show_many.json?ids={}", many.join(","))).await;
        assert_eq!(status, 400, "more than 100 ids");
        assert_eq!(snapshot(&app, id).await, before);
    })
    .await;
}

/// Every ticket endpoint, every role, a battery of malformed requests: the
/// answer may be any 4xx (or a success for harmless ones), never a 5xx.
#[tokio::test]
async fn no_malformed_request_makes_a_ticket_endpoint_fail_with_5xx() {
    let app = TestApp::sqlite(|c| c.max_body_bytes = 4096).await;
    let id = ticket_for(&app, &app.end_user, "Sweep").await;
    let paths = [
        "/api/v2/tickets.json".to_owned(),
        format!("/api/v2/tickets/{id}.json"),
        "/api/v2/tickets/show_many.json".to_owned(),
        format!("/api/v2/tickets/{id}/comments.json"),
        format!("/api/v2/tickets/{id}/audits.json"),
        format!("/api/v2/tickets/{id}/tags.json"),
        "/api/v2/tags.json".to_owned(),
        "/api/v2/ticket_fields.json".to_owned(),
        "/api/v2/ticket_fields/1.json".to_owned(),
        "/api/v2/search.json".to_owned(),
        "/api/v2/search/count.json".to_owned(),
    ];
    let queries = [
        "",
        "?page=0",
        "?page=99999999999999999999",
        "?per_page=-1",
        "?page%5Bsize%5D=2&page%5Bafter%5D=%FF",
        "?page%5Bsize%5D=2&page%5Bafter%5D=LTk5",
        "?sort_by=%00&sort_order=%FF",
        "?include=users,users,groups,organizations,nonsense",
        "?ids=1,2,%FF",
        "?ids=9223372036854775807",
        "?query=%22",
        "?query=%FF%FE",
        "?query=created%3E9999-99-99",
        "?query=status%3C%3Dsolved%20-tags%3A%20assignee%3A",
        "?query=-",
        "?query=%3A%3A%3A",
        "?page=2&page=3",
    ];
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"{".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"{\"ticket\":{\"custom_fields\":[{\"id\":1,\"value\":{}}]}}".to_vec()),
        ("application/json", b"{\"ticket\":{\"comment\":{\"html_body\":\"<b>\"}}}".to_vec()),
        ("application/json", b"{\"ticket\":{\"requester_id\":9223372036854775807,\"comment\":{\"body\":\"x\"}}}".to_vec()),
        ("application/json", b"{\"ticket\":{\"tags\":[\"\\u0000\"]},\"tags\":[\"\\u0000\"]}".to_vec()),
        ("application/json", b"{\"ticket_field\":{\"type\":\"tagger\",\"title\":\"x\",\"custom_field_options\":[{\"name\":\"a\",\"value\":\"\"}]}}".to_vec()),
        ("application/json", b"{\"ticket_field\":{\"position\":1e300,\"title\":\"x\",\"type\":\"text\"}}".to_vec()),
        ("application/json", b"{\"tags\":[1,2,3]}".to_vec()),
        ("application/json", format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes()),
        ("application/json", vec![b'x'; 5000]),
        ("application/json", vec![0xff; 16]),
        ("text/html", b"<ticket/>".to_vec()),
    ];
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ];
    let actors = [&app.end_user, &app.agent, &app.admin, &app.foreign_admin];
    let mut checked = 0;
    for path in &paths {
        for query in &queries {
            for who in actors {
                let url = format!("{path}{query}");
                let (status, answer) = send(app.request(who, Method::GET, &url)).await;
                assert!(
                    status < 500,
                    "GET {url} as {}: {status} {answer}",
                    who.user.email
                );
                checked += 1;
            }
        }
        for method in &methods {
            for (content_type, body) in &bodies {
                for who in [&app.end_user, &app.agent] {
                    let (status, answer) =
                        raw(&app, who, method.clone(), path, content_type, body.clone()).await;
                    assert!(
                        status < 500,
                        "{method} {path} as {}: {status} {answer}",
                        who.user.email
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// A random JSON value built from pieces that tend to hit edge cases: wrong
/// types, boundary numbers, control characters, plausible-but-wrong strings.
fn random_value(rng: &mut rand::rngs::StdRng, depth: u32) -> Value {
    use rand::Rng;
    const STRINGS: &[&str] = &[
        "",
        " ",
        "open",
        "solved",
        "closed",
        "new",
        "high",
        "incident",
        "x",
        "\u{0}",
        "\u{7}bell",
        "2024-02-30",
        "2024-01-01",
        "1",
        "-1",
        "1.5",
        "1e999",
        "a b",
        "VIP",
        "🦀",
        "<b>hi</b>",
        "9223372036854775808",
    ];
    match rng.gen_range(0..9) {
        0 => Value::Null,
        1 => Value::Bool(rng.gen()),
        2 => json!(rng.gen_range(-3..12)),
        3 => [
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e300),
            json!(-0.0),
            json!(0.5),
        ][rng.gen_range(0..6)]
        .clone(),
        4 | 5 => json!(STRINGS[rng.gen_range(0..STRINGS.len())]),
        6 if depth > 0 => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        7 if depth > 0 => {
            let mut obj = serde_json::Map::new();
            for key in ["id", "value", "body", "html_body", "public", "email"] {
                if rng.gen_bool(0.5) {
                    obj.insert(key.into(), random_value(rng, depth - 1));
                }
            }
            Value::Object(obj)
        }
        _ => json!("x".repeat(rng.gen_range(0..3000))),
    }
}

/// A seeded property test over ticket writes: random `ticket` objects never
/// cause a 5xx, and every rejected one leaves the ticket, its history and the
/// ticket count exactly as they were.
#[tokio::test]
async fn random_ticket_writes_never_fail_with_5xx_and_rejections_write_nothing() {
    use rand::{Rng, SeedableRng};
    let app = TestApp::sqlite(|_| {}).await;
    let fields = crate::tickets::custom_fields(&app).await;
    let id = ticket_for(&app, &app.end_user, "Fuzzed").await;
    let put = format!("/api/v2/tickets/{id}.json");
    let keys = [
        "subject",
        "status",
        "priority",
        "type",
        "requester_id",
        "assignee_id",
        "group_id",
        "organization_id",
        "tags",
        "additional_tags",
        "remove_tags",
        "custom_fields",
        "comment",
        "safe_update",
        "updated_stamp",
        "requester",
        "unknown",
    ];
    let field_ids = [
        fields.text,
        fields.checkbox,
        fields.date,
        fields.integer,
        fields.decimal,
        fields.tagger,
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x002a_ff4e);
    let mut outcomes = [0u32; 6];
    for round in 0..250 {
        let mut ticket = serde_json::Map::new();
        for _ in 0..rng.gen_range(1..4) {
            let key = keys[rng.gen_range(0..keys.len())];
            let value = if key == "custom_fields" {
                json!([{"id": field_ids[rng.gen_range(0..field_ids.len())], "value": random_value(&mut rng, 1)}])
            } else {
                random_value(&mut rng, 2)
            };
            ticket.insert(key.into(), value);
        }
        let who = [&app.agent, &app.end_user][rng.gen_range(0..2)];
        let (method, path) = if rng.gen_bool(0.3) {
            (Method::POST, "/api/v2/tickets.json")
        } else {
            (Method::PUT, put.as_str())
        };
        let before = snapshot(&app, id).await;
        let body = json!({ "ticket": ticket });
        let (status, answer) = app.write(who, method.clone(), path, &body).await;
        assert!(
            status < 500,
            "round {round}: {method} {body} as {}: {status} {answer}",
            who.user.email
        );
        outcomes[(status / 100) as usize] += 1;
        if status >= 400 {
            assert_eq!(
                snapshot(&app, id).await,
                before,
                "round {round}: {body} was refused ({status}) but wrote"
            );
            assert!(answer["error"].is_string(), "round {round}: {answer}");
        }
    }
    // The generator must exercise both paths, or the test proves little.
    assert!(outcomes[2] > 10 && outcomes[4] > 10, "{outcomes:?}");
}
