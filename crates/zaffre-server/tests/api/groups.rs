//! `/api/v2/groups`: list, show, create; who may; bad input.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{for_each_engine, send, TestApp};
use crate::users::{assert_timestamp, snapshot};

#[tokio::test]
async fn admins_create_groups_and_staff_read_them() {
    for_each_engine(|app: TestApp| async move {
        let mut ids = Vec::new();
        for name in ["Tier 1", "Tier 2", "Billing"] {
            let (status, body) = app
                .write(
                    &app.admin,
                    Method::POST,
                    "/api/v2/groups.json",
                    &json!({"group": {"name": name, "description": format!("{name} agents")}}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            let group = &body["group"];
            assert_eq!(group["name"], name);
            for (key, value) in [
                ("default", json!(false)),
                ("deleted", json!(false)),
                ("is_public", json!(true)),
            ] {
                assert_eq!(group[key], value, "{key}");
            }
            assert_timestamp(&group["updated_at"]);
            ids.push(group["id"].as_i64().unwrap());
        }

        let (status, body) = app.get(&app.agent, "/api/v2/groups.json").await;
        assert_eq!((status, &body["count"]), (200, &json!(3)), "{body}");
        let (_, body) = app
            .get(&app.agent, "/api/v2/groups.json?per_page=2&page=2")
            .await;
        assert_eq!(body["groups"][0]["name"], "Billing");
        assert!(body["next_page"].is_null() && body["previous_page"].is_string());
        let (_, body) = app.get(&app.agent, "/api/v2/groups?page[size]=2").await;
        assert_eq!(body["meta"]["has_more"], true);
        let next = body["links"]["next"].as_str().unwrap();
        let (_, body) = app
            .get(&app.agent, next.strip_prefix(&app.base).unwrap())
            .await;
        assert_eq!(
            (&body["groups"][0]["name"], &body["meta"]["has_more"]),
            (&json!("Billing"), &json!(false))
        );

        let (status, body) = app
            .get(&app.agent, &format!("/api/v2/groups/{}.json", ids[1]))
            .await;
        assert_eq!(
            (status, &body["group"]["description"]),
            (200, &json!("Tier 2 agents"))
        );

        let (status, _) = app.get(&app.end_user, "/api/v2/groups.json").await;
        assert_eq!(status, 403);
        let (status, _) = app
            .get(&app.end_user, &format!("/api/v2/groups/{}.json", ids[0]))
            .await;
        assert_eq!(status, 403);
        let (status, body) = app.get(&app.foreign_admin, "/api/v2/groups.json").await;
        assert_eq!((status, &body["groups"]), (200, &json!([])));
        let (status, _) = app
            .get(
                &app.foreign_admin,
                &format!("/api/v2/groups/{}.json", ids[0]),
            )
            .await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn only_admins_create_groups_with_valid_unique_names() {
    for_each_engine(|app: TestApp| async move {
        let (status, _) = app
            .write(
                &app.admin,
                Method::POST,
                "/api/v2/groups.json",
                &json!({"group": {"name": "Tier 1"}}),
            )
            .await;
        assert_eq!(status, 201);
        let before = snapshot(&app).await;
        for who in [&app.agent, &app.end_user] {
            let (status, body) = app
                .write(
                    who,
                    Method::POST,
                    "/api/v2/groups.json",
                    &json!({"group": {"name": "Mine"}}),
                )
                .await;
            assert_eq!((status, body["error"].as_str()), (403, Some("Forbidden")));
        }
        let cases: Vec<(Value, u16, &str)> = vec![
            (json!({"group": {"name": "tier 1"}}), 422, "name"),
            (json!({"group": {"name": ""}}), 422, "name"),
            (json!({"group": {"description": "no name"}}), 422, "name"),
            (json!({"group": {"name": 7}}), 422, "name"),
            (json!({"group": {"name": "x".repeat(256)}}), 422, "name"),
            (
                json!({"group": {"name": "Ok", "description": ["x"]}}),
                422,
                "description",
            ),
        ];
        for (body, status, attribute) in cases {
            let (got, answer) = app
                .write(&app.admin, Method::POST, "/api/v2/groups.json", &body)
                .await;
            assert_eq!(got, status, "{body}: {answer}");
            assert!(answer["details"][attribute].is_array(), "{body}: {answer}");
        }
        let (status, body) = send(
            app.request(&app.admin, Method::POST, "/api/v2/groups.json")
                .header("content-type", "application/json")
                .body("{\"group\": nope}"),
        )
        .await;
        assert_eq!((status, body["error"].as_str()), (400, Some("InvalidJSON")));
        assert_eq!(snapshot(&app).await, before);
    })
    .await;
}
