//! `search.json` and `search/count.json`: Zendesk's query syntax, scoped to
//! the caller's account and, for end-users, to their own tickets.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{for_each_engine, Actor, TestApp};
use crate::tickets::{new_ticket, organization};

/// Subjects of the tickets a search returns, sorted.
async fn subjects(app: &TestApp, who: &Actor, query: &str) -> Vec<String> {
    let path = format!("/api/v2/search.json?query={}", urlencode(query));
    let (status, body) = app.get(who, &path).await;
    assert_eq!(status, 200, "{query}: {body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(
        body["count"].as_u64(),
        Some(results.len() as u64),
        "{query}: one page"
    );
    let mut out: Vec<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r["result_type"], "ticket");
            r["subject"].as_str().unwrap().to_owned()
        })
        .collect();
    out.sort();
    out
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Four tickets with distinct statuses, tags, assignees and requesters.
async fn seed(app: &TestApp) {
    let agent = app.agent.user.id;
    for (subject, requester, status, tags, assignee) in [
        (
            "Printer jam",
            &app.end_user,
            "open",
            json!(["hardware", "vip"]),
            Some(agent),
        ),
        (
            "Refund request",
            &app.end_user,
            "pending",
            json!(["billing"]),
            None,
        ),
        (
            "Login broken",
            &app.other_end_user,
            "solved",
            json!(["vip"]),
            Some(app.admin.user.id),
        ),
        (
            "Printer ink",
            &app.other_end_user,
            "new",
            json!(["hardware", "spam"]),
            None,
        ),
    ] {
        let mut t = json!({"subject": subject, "comment": {"body": format!("{subject}: details")}, "requester_id": requester.user.id, "tags": tags, "status": status});
        if let Some(a) = assignee {
            t["assignee_id"] = json!(a);
        }
        new_ticket(app, &app.agent, t).await;
    }
}

#[tokio::test]
async fn ticket_search_syntax() {
    for_each_engine(|app: TestApp| async move {
        seed(&app).await;
        let s = |q: &'static str| {
            let app = &app;
            async move { subjects(app, &app.agent, q).await }
        };
        assert_eq!(
            s("status<solved").await,
            ["Printer ink", "Printer jam", "Refund request"]
        );
        assert_eq!(s("status:open").await, ["Printer jam"]);
        assert_eq!(
            s("status>=pending").await,
            ["Login broken", "Refund request"]
        );
        assert_eq!(s("tags:vip").await, ["Login broken", "Printer jam"]);
        assert_eq!(s("tags:hardware -tags:spam").await, ["Printer jam"]);
        assert_eq!(s("assignee:me").await, ["Printer jam"]);
        assert_eq!(s("assignee:none").await, ["Printer ink", "Refund request"]);
        assert_eq!(
            s("requester:ann@example.com").await,
            ["Printer jam", "Refund request"]
        );
        assert_eq!(
            s("requester:BOB@example.com status:solved").await,
            ["Login broken"]
        );
        assert_eq!(s("printer").await, ["Printer ink", "Printer jam"]);
        assert_eq!(s("\"refund request\"").await, ["Refund request"]);
        assert_eq!(
            s("type:ticket details").await.len(),
            4,
            "text matches the description too"
        );
        assert!(s("nothing-matches-this").await.is_empty());
        assert_eq!(s("").await.len(), 4);

        let (status, body) = app
            .get(&app.agent, "/api/v2/search/count.json?query=tags%3Avip")
            .await;
        assert_eq!((status, body), (200, json!({"count": 2})));

        // Sorting and paging.
        let (_, page) = app
            .get(
                &app.agent,
                "/api/v2/search.json?query=&sort_by=created_at&sort_order=asc&per_page=3",
            )
            .await;
        assert_eq!(page["count"], 4);
        assert_eq!(page["results"][0]["subject"], "Printer jam");
        assert_eq!(page["facets"], Value::Null);
        assert!(page["next_page"].as_str().unwrap().contains("page=2"));
        let (_, last) = app
            .get(
                &app.agent,
                "/api/v2/search.json?query=&sort_by=created_at&sort_order=asc&per_page=3&page=2",
            )
            .await;
        assert_eq!(last["results"][0]["subject"], "Printer ink");
        assert_eq!(last["next_page"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn end_users_find_only_their_own_tickets_and_other_accounts_nothing() {
    for_each_engine(|app: TestApp| async move {
        seed(&app).await;
        assert_eq!(
            subjects(&app, &app.end_user, "printer").await,
            ["Printer jam"]
        );
        // Words only in an internal note do not find the ticket for its requester.
        let (_, mine) = app
            .get(&app.end_user, "/api/v2/search.json?query=jam")
            .await;
        let jam = mine["results"][0]["id"].as_i64().unwrap();
        let note =
            json!({"ticket": {"comment": {"body": "customer is xylophonic", "public": false}}});
        let (status, _) = app
            .write(
                &app.agent,
                Method::PUT,
                &format!("/api/v2/tickets/{jam}.json"),
                &note,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            subjects(&app, &app.agent, "xylophonic").await,
            ["Printer jam"]
        );
        assert!(subjects(&app, &app.end_user, "xylophonic").await.is_empty());
        let (_, count) = app
            .get(&app.end_user, "/api/v2/search/count.json?query=xylophonic")
            .await;
        assert_eq!(count["count"], 0);
        let reply = json!({"ticket": {"comment": {"body": "xylophonic indeed"}}});
        app.write(
            &app.agent,
            Method::PUT,
            &format!("/api/v2/tickets/{jam}.json"),
            &reply,
        )
        .await;
        assert_eq!(
            subjects(&app, &app.end_user, "xylophonic").await,
            ["Printer jam"]
        );
        assert_eq!(
            subjects(&app, &app.end_user, "requester:bob@example.com").await,
            Vec::<String>::new()
        );
        let (_, count) = app
            .get(&app.end_user, "/api/v2/search/count.json?query=")
            .await;
        assert_eq!(count["count"], 2);
        for q in ["type:user", "type:organization", "type:group"] {
            let (status, _) = app
                .get(
                    &app.end_user,
                    &format!("/api/v2/search.json?query={}", urlencode(q)),
                )
                .await;
            assert_eq!(status, 403, "{q}");
        }
        assert!(subjects(&app, &app.foreign_admin, "printer")
            .await
            .is_empty());
        let (_, users) = app
            .get(
                &app.foreign_admin,
                "/api/v2/search.json?query=type%3Auser%20example.com",
            )
            .await;
        assert_eq!(users["count"], 0, "{users}");
    })
    .await;
}

#[tokio::test]
async fn users_organizations_and_groups_are_searchable_by_staff() {
    for_each_engine(|app: TestApp| async move {
        organization(&app, app.account, "Acme Rockets").await;
        organization(&app, app.account, "Globex").await;
        crate::tickets::group(&app, app.account, "Billing team").await;
        let (status, body) = app
            .get(
                &app.agent,
                "/api/v2/search.json?query=type%3Auser%20role%3Aend-user",
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let mut emails: Vec<&str> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        emails.sort();
        assert_eq!(emails, ["ann@example.com", "bob@example.com"]);
        assert!(body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["result_type"] == "user"));
        let (_, orgs) = app
            .get(
                &app.agent,
                "/api/v2/search.json?query=type%3Aorganization%20acme",
            )
            .await;
        assert_eq!(orgs["results"].as_array().map(Vec::len), Some(1));
        assert_eq!(orgs["results"][0]["result_type"], "organization");
        assert_eq!(orgs["results"][0]["name"], "Acme Rockets");
        let (_, groups) = app
            .get(
                &app.agent,
                "/api/v2/search.json?query=type%3Agroup%20billing",
            )
            .await;
        assert_eq!(groups["results"][0]["result_type"], "group");
        assert_eq!(groups["count"], 1);
        let (_, count) = app
            .get(&app.admin, "/api/v2/search/count.json?query=type%3Auser")
            .await;
        assert_eq!(count["count"], 4, "admin, agent and two end-users");
    })
    .await;
}

#[tokio::test]
async fn bad_queries_are_400_invalid_search() {
    for_each_engine(|app: TestApp| async move {
        for q in [
            "status:bogus",
            "\"unclosed",
            "frobnicate:1",
            "type:widget",
            "created:yesterday",
            "-assignee:me",
            "type:group role:x",
        ] {
            for path in ["/api/v2/search.json", "/api/v2/search/count.json"] {
                let (status, body) = app
                    .get(&app.agent, &format!("{path}?query={}", urlencode(q)))
                    .await;
                assert_eq!(
                    (status, body["error"].as_str()),
                    (400, Some("InvalidSearch")),
                    "{q}: {body}"
                );
                assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
            }
        }
        let long = "a".repeat(5000);
        let (status, _) = app
            .get(&app.agent, &format!("/api/v2/search.json?query={long}"))
            .await;
        assert_eq!(status, 400);
        for bad in [
            "sort_by=nonsense",
            "sort_order=up",
            "per_page=1000",
            "page%5Bsize%5D=5",
        ] {
            let (status, body) = app
                .get(&app.agent, &format!("/api/v2/search.json?query=x&{bad}"))
                .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("InvalidParams")),
                "{bad}"
            );
        }
        let (status, _) = app.get(&app.agent, "/api/v2/search.json").await;
        assert_eq!(status, 200, "no query lists every ticket");
    })
    .await;
}
