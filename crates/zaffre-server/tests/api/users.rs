//! `/api/v2/users`: me, list, show, show_many, create, update, a user's
//! tickets; validation and bad input, each rejected write checked to have
//! written nothing.

use reqwest::Method;
use serde_json::{json, Value};
use zaffre_domain::search::{Page, UserFilter};
use zaffre_domain::ticket::NewTicket;
use zaffre_domain::{NewComment, NewOrganization, TicketStatus, UserId, UserPatch};

use crate::common::{for_each_engine, send, Actor, TestApp};

/// Everything the people API can write, as one comparable value: users
/// (with whether they have a password), organizations and groups.
pub async fn snapshot(app: &TestApp) -> String {
    let mut out = Vec::new();
    for account in [app.account, app.other_account] {
        let users = app
            .store
            .list_users(
                account,
                &UserFilter::default(),
                Page::Offset {
                    offset: 0,
                    limit: 1000,
                },
            )
            .await
            .expect("list users");
        for u in users.items {
            let login = app
                .store
                .password_login(account, &u.email)
                .await
                .expect("login");
            out.push(format!("{u:?} hash={:?}", login.password_hash));
        }
        let orgs = app
            .store
            .list_organizations(
                account,
                &[],
                Page::Offset {
                    offset: 0,
                    limit: 1000,
                },
            )
            .await
            .expect("list organizations");
        out.push(format!("{:?}", orgs.items));
        out.push(format!(
            "{:?}",
            app.store.list_groups(account).await.expect("groups")
        ));
    }
    out.join("\n")
}

/// True when `body` mentions a password or a hash anywhere.
pub fn leaks_secret(body: &Value) -> bool {
    let text = body.to_string();
    text.contains("password") || text.contains("$argon2")
}

/// Asserts a Zendesk-shaped timestamp: `2024-05-01T10:00:00Z`.
pub fn assert_timestamp(v: &Value) {
    let s = v.as_str().unwrap_or_default();
    let ok = s.len() == 20
        && s.ends_with('Z')
        && chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok();
    assert!(ok, "not a Zendesk timestamp: {v}");
}

async fn org(app: &TestApp, name: &str) -> i64 {
    app.store
        .create_organization(
            app.account,
            &NewOrganization {
                name: name.into(),
                ..NewOrganization::default()
            },
        )
        .await
        .expect("organization")
        .id
        .get()
}

async fn create(app: &TestApp, who: &Actor, user: Value) -> (u16, Value) {
    app.write(
        who,
        Method::POST,
        "/api/v2/users.json",
        &json!({ "user": user }),
    )
    .await
}

#[tokio::test]
async fn me_shows_the_caller_in_zendesk_s_shape() {
    for_each_engine(|app: TestApp| async move {
        for (who, role) in [
            (&app.admin, "admin"),
            (&app.agent, "agent"),
            (&app.end_user, "end-user"),
        ] {
            let (status, body) = app.get(who, "/api/v2/users/me.json").await;
            assert_eq!(status, 200, "{body}");
            let user = &body["user"];
            assert_eq!(user["role"], role);
            assert_eq!(user["id"], who.user.id.get());
            assert_eq!(user["email"], who.user.email);
            assert_eq!(
                user["url"],
                format!("{}/api/v2/users/{}.json", app.base, who.user.id)
            );
            assert_eq!(user["moderator"], role != "end-user");
            assert_timestamp(&user["created_at"]);
            assert_timestamp(&user["updated_at"]);
            assert!(!leaks_secret(&body), "{body}");
        }
        // Without the suffix too.
        let (status, _) = app.get(&app.agent, "/api/v2/users/me").await;
        assert_eq!(status, 200);
        let (status, body) = send(app.anonymous(Method::GET, "/api/v2/users/me.json")).await;
        assert_eq!(
            (status, &body),
            (401, &json!({"error": "Couldn't authenticate you"}))
        );
    })
    .await;
}

#[tokio::test]
async fn staff_list_users_with_role_filters_and_both_paginations() {
    for_each_engine(|app: TestApp| async move {
        let (status, body) = app.get(&app.agent, "/api/v2/users.json").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["count"], 4, "the other account's admin is not listed");
        assert!(!body.to_string().contains("other.example"));

        let (_, body) = app.get(&app.admin, "/api/v2/users.json?role=agent").await;
        let emails: Vec<&str> = body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, ["agent@example.com"]);
        let (_, body) = app
            .get(
                &app.admin,
                "/api/v2/users.json?role[]=agent&role%5B%5D=admin",
            )
            .await;
        assert_eq!(body["count"], 2);
        let (status, body) = app.get(&app.admin, "/api/v2/users.json?role=owner").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("InvalidParams"))
        );

        // Offset pages.
        let (_, body) = app.get(&app.admin, "/api/v2/users.json?per_page=3").await;
        assert_eq!(body["users"].as_array().unwrap().len(), 3);
        assert_eq!(body["count"], 4);
        let next = body["next_page"].as_str().unwrap().to_owned();
        let path = next.strip_prefix(&app.base).unwrap();
        let (_, body) = app.get(&app.admin, path).await;
        assert_eq!(body["users"].as_array().unwrap().len(), 1);
        assert!(body["next_page"].is_null());

        // Cursor pages visit everyone once, in id order.
        let mut seen = Vec::new();
        let mut path = "/api/v2/users.json?page[size]=3".to_owned();
        loop {
            let (status, body) = app.get(&app.admin, &path).await;
            assert_eq!(status, 200, "{body}");
            for u in body["users"].as_array().unwrap() {
                seen.push(u["id"].as_i64().unwrap());
            }
            match body["links"]["next"].as_str() {
                Some(next) => path = next.strip_prefix(&app.base).unwrap().to_owned(),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!((seen.len(), &seen), (4, &sorted));

        let (status, body) = app.get(&app.end_user, "/api/v2/users.json").await;
        assert_eq!((status, body["error"].as_str()), (403, Some("Forbidden")));
    })
    .await;
}

#[tokio::test]
async fn end_users_see_only_themselves_and_junk_ids_are_404() {
    for_each_engine(|app: TestApp| async move {
        let own = format!("/api/v2/users/{}.json", app.end_user.user.id);
        let (status, body) = app.get(&app.end_user, &own).await;
        assert_eq!(
            (status, body["user"]["email"].as_str()),
            (200, Some("ann@example.com"))
        );
        // Someone else, existing or not: the same 403, so ids cannot be probed.
        for id in [
            app.other_end_user.user.id.get(),
            app.agent.user.id.get(),
            999_999,
        ] {
            let (status, _) = app
                .get(&app.end_user, &format!("/api/v2/users/{id}.json"))
                .await;
            assert_eq!(status, 403, "user {id}");
        }
        let (status, body) = app
            .get(
                &app.agent,
                &format!("/api/v2/users/{}", app.end_user.user.id),
            )
            .await;
        assert_eq!(
            (status, body["user"]["role"].as_str()),
            (200, Some("end-user"))
        );
        for junk in [
            "999999",
            "abc.json",
            "0.json",
            "-1.json",
            "99999999999999999999.json",
            "1.5.json",
            "%FF.json",
            "1%00.json",
        ] {
            let (status, body) = app.get(&app.admin, &format!("/api/v2/users/{junk}")).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (404, Some("RecordNotFound")),
                "{junk}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn show_many_returns_the_account_s_users_among_the_ids() {
    for_each_engine(|app: TestApp| async move {
        let ids = format!(
            "{},{},{},999999",
            app.agent.user.id, app.end_user.user.id, app.foreign_admin.user.id
        );
        let (status, body) = app
            .get(
                &app.agent,
                &format!("/api/v2/users/show_many.json?ids={ids}"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let got: Vec<i64> = body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_i64().unwrap())
            .collect();
        assert_eq!(got, [app.agent.user.id.get(), app.end_user.user.id.get()]);

        let many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
        for bad in [
            String::new(),
            "?ids=".into(),
            "?ids=1,x".into(),
            "?ids=-3".into(),
            format!("?ids={}", many.join(",")),
        ] {
            let (status, body) = app
                .get(&app.agent, &format!("/api/v2/users/show_many.json{bad}"))
                .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("InvalidParams")),
                "{bad}"
            );
        }
        let (status, _) = app
            .get(&app.end_user, "/api/v2/users/show_many.json?ids=1")
            .await;
        assert_eq!(status, 403);
    })
    .await;
}

#[tokio::test]
async fn admins_create_users_who_can_then_sign_in() {
    for_each_engine(|app: TestApp| async move {
        let org_id = org(&app, "Acme").await;
        let (status, body) = create(
            &app,
            &app.admin,
            json!({"name": "Cara Agent", "email": "Cara@Example.com", "role": "agent",
                   "organization_id": org_id, "time_zone": "Europe/Paris",
                   "locale": "fr-FR", "password": "a good password"}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let user = &body["user"];
        assert_eq!(user["email"], "cara@example.com");
        assert_eq!(user["role"], "agent");
        assert_eq!(user["organization_id"], org_id);
        assert_eq!(user["time_zone"], "Europe/Paris");
        assert_eq!(user["locale"], "fr-FR");
        assert!(!leaks_secret(&body), "{body}");

        let (status, me) = send(
            app.anonymous(Method::GET, "/api/v2/users/me.json")
                .basic_auth("cara@example.com", Some("a good password")),
        )
        .await;
        assert_eq!((status, me["user"]["role"].as_str()), (200, Some("agent")));

        // Defaults: an end-user in UTC speaking en-US, without a password.
        let (status, body) = create(
            &app,
            &app.admin,
            json!({"name": "Dan", "email": "dan@example.com"}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(
            (
                &body["user"]["role"],
                &body["user"]["time_zone"],
                &body["user"]["locale"]
            ),
            (&json!("end-user"), &json!("UTC"), &json!("en-US"))
        );
    })
    .await;
}

#[tokio::test]
async fn duplicate_emails_are_refused_per_account_only() {
    for_each_engine(|app: TestApp| async move {
        let before = snapshot(&app).await;
        let (status, body) = create(
            &app,
            &app.admin,
            json!({"name": "Copy", "email": " ANN@example.com "}),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"], "RecordInvalid");
        assert_eq!(body["details"]["email"][0]["error"], "DuplicateValue");
        assert_eq!(
            body["details"]["email"][0]["description"],
            "Email: ann@example.com is already being used by another user"
        );
        assert_eq!(snapshot(&app).await, before, "nothing was written");

        // The other account has its own people.
        let (status, body) = create(
            &app,
            &app.foreign_admin,
            json!({"name": "Ann Elsewhere", "email": "ann@example.com"}),
        )
        .await;
        assert_eq!(status, 201, "{body}");

        // Changing an email to a taken one is refused the same way.
        let path = format!("/api/v2/users/{}.json", app.other_end_user.user.id);
        let before = snapshot(&app).await;
        let (status, body) = app
            .write(
                &app.admin,
                Method::PUT,
                &path,
                &json!({"user": {"email": "ann@example.com"}}),
            )
            .await;
        assert_eq!(
            (status, &body["details"]["email"][0]["error"]),
            (422, &json!("DuplicateValue"))
        );
        assert_eq!(snapshot(&app).await, before);
    })
    .await;
}

#[tokio::test]
async fn agents_create_end_users_only_and_end_users_create_nobody() {
    for_each_engine(|app: TestApp| async move {
        let (status, body) = create(
            &app,
            &app.agent,
            json!({"name": "Eve", "email": "eve@example.com", "password": "long enough"}),
        )
        .await;
        assert_eq!(
            (status, &body["user"]["role"]),
            (201, &json!("end-user")),
            "{body}"
        );

        let before = snapshot(&app).await;
        for role in ["agent", "admin"] {
            let (status, body) = create(
                &app,
                &app.agent,
                json!({"name": "Mallory", "email": "m@example.com", "role": role}),
            )
            .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("Forbidden")),
                "{role}"
            );
        }
        let (status, _) = create(
            &app,
            &app.end_user,
            json!({"name": "Friend", "email": "friend@example.com"}),
        )
        .await;
        assert_eq!(status, 403);
        assert_eq!(snapshot(&app).await, before);
    })
    .await;
}

#[tokio::test]
async fn organizations_must_exist_in_the_account() {
    for_each_engine(|app: TestApp| async move {
        let foreign_org = app
            .store
            .create_organization(
                app.other_account,
                &NewOrganization {
                    name: "Theirs".into(),
                    ..NewOrganization::default()
                },
            )
            .await
            .unwrap()
            .id
            .get();
        let before = snapshot(&app).await;
        for org_id in [foreign_org, 999_999] {
            let (status, body) = create(
                &app,
                &app.admin,
                json!({"name": "Org Person", "email": "op@example.com", "organization_id": org_id}),
            )
            .await;
            assert_eq!(status, 422, "{body}");
            assert_eq!(
                body["details"]["organization_id"][0]["error"],
                "InvalidValue"
            );
            let path = format!("/api/v2/users/{}.json", app.end_user.user.id);
            let (status, _) = app
                .write(
                    &app.agent,
                    Method::PUT,
                    &path,
                    &json!({"user": {"organization_id": org_id}}),
                )
                .await;
            assert_eq!(status, 422);
        }
        assert_eq!(snapshot(&app).await, before);
    })
    .await;
}

#[tokio::test]
async fn who_may_change_whom() {
    for_each_engine(|app: TestApp| async move {
        let put = |who: &Actor, target: UserId, user: Value| {
            let path = format!("/api/v2/users/{target}.json");
            let body = json!({ "user": user });
            let who = who.clone();
            let app = &app;
            async move { app.write(&who, Method::PUT, &path, &body).await }
        };
        let ann = app.end_user.user.id;
        let org_id = org(&app, "Acme").await;

        // Self-service: name, locale, time zone; echoing unchanged values is fine.
        let (status, body) = put(
            &app.end_user,
            ann,
            json!({"name": "Ann B.", "locale": "de", "time_zone": "Europe/Berlin",
                   "email": "ann@example.com", "role": "end-user", "id": 1}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["name"], "Ann B.");

        // Everything else about oneself or others is refused and writes nothing.
        let before = snapshot(&app).await;
        let refused = [
            (&app.end_user, ann, json!({"role": "admin"})),
            (&app.end_user, ann, json!({"email": "new@example.com"})),
            (&app.end_user, ann, json!({"organization_id": org_id})),
            (&app.end_user, ann, json!({"password": "new password"})),
            (
                &app.end_user,
                app.other_end_user.user.id,
                json!({"name": "X"}),
            ),
            (&app.end_user, UserId(999_999), json!({"name": "X"})),
            (&app.agent, ann, json!({"role": "agent"})),
            (&app.agent, ann, json!({"password": "new password"})),
            (&app.agent, app.admin.user.id, json!({"name": "X"})),
            (&app.agent, app.agent.user.id, json!({"role": "admin"})),
            (
                &app.agent,
                app.agent.user.id,
                json!({"email": "me@example.com"}),
            ),
        ];
        for (who, target, change) in refused {
            let (status, body) = put(who, target, change.clone()).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("Forbidden")),
                "{} changing {target} with {change}",
                who.user.email
            );
        }
        assert_eq!(snapshot(&app).await, before);

        // Agents manage end-users' details.
        let (status, body) = put(
            &app.agent,
            ann,
            json!({"name": "Ann C.", "email": "ann.c@example.com", "organization_id": org_id}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["organization_id"], org_id);
        let (status, body) = put(&app.agent, ann, json!({"organization_id": null})).await;
        assert_eq!(
            (status, &body["user"]["organization_id"]),
            (200, &Value::Null)
        );

        // Admins change roles and passwords, but not their own role.
        let (status, body) = put(
            &app.admin,
            ann,
            json!({"role": "agent", "password": "fresh password"}),
        )
        .await;
        assert_eq!(
            (status, &body["user"]["role"]),
            (200, &json!("agent")),
            "{body}"
        );
        assert!(!leaks_secret(&body));
        let (status, _) = send(
            app.anonymous(Method::GET, "/api/v2/users/me.json")
                .basic_auth("ann.c@example.com", Some("fresh password")),
        )
        .await;
        assert_eq!(status, 200, "the new password works");
        let (status, body) = put(&app.admin, app.admin.user.id, json!({"role": "agent"})).await;
        assert_eq!(
            (status, &body["details"]["role"][0]["error"]),
            (422, &json!("InvalidValue"))
        );
        let (status, body) = app.get(&app.admin, "/api/v2/users/me.json").await;
        assert_eq!((status, &body["user"]["role"]), (200, &json!("admin")));

        // Another account's admin cannot reach this account's users.
        let (status, _) = put(&app.foreign_admin, ann, json!({"name": "Hijacked"})).await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn a_user_s_requested_and_assigned_tickets() {
    for_each_engine(|app: TestApp| async move {
        let mut ids = Vec::new();
        for (subject, requester) in [
            ("Printer on fire", app.end_user.user.id),
            ("Refund", app.end_user.user.id),
            ("Bob's question", app.other_end_user.user.id),
        ] {
            let ticket = app
                .store
                .create_ticket(
                    app.account,
                    &NewTicket {
                        subject: subject.into(),
                        description: "Help".into(),
                        status: TicketStatus::Open,
                        priority: None,
                        ticket_type: None,
                        requester_id: requester,
                        submitter_id: requester,
                        assignee_id: Some(app.agent.user.id),
                        group_id: None,
                        organization_id: None,
                        tags: vec![],
                        custom_fields: vec![],
                    },
                    &NewComment {
                        author_id: requester,
                        public: true,
                        body: "Help".into(),
                        html_body: String::new(),
                    },
                    &[],
                )
                .await
                .expect("ticket");
            ids.push(ticket.id.get());
        }
        let ann = app.end_user.user.id;
        let subjects = |body: &Value| -> Vec<String> {
            body["tickets"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .map(|t| t["subject"].as_str().unwrap_or("").to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let requested = format!("/api/v2/users/{ann}/tickets/requested.json");
        let (status, body) = app.get(&app.agent, &requested).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(subjects(&body), ["Printer on fire", "Refund"]);
        assert_eq!(body["count"], 2);
        let (status, body) = app.get(&app.end_user, &requested).await;
        assert_eq!((status, subjects(&body).len()), (200, 2));
        let (status, _) = app.get(&app.other_end_user, &requested).await;
        assert_eq!(status, 403);

        let assigned = format!(
            "/api/v2/users/{}/tickets/assigned.json?per_page=2",
            app.agent.user.id
        );
        let (status, body) = app.get(&app.admin, &assigned).await;
        assert_eq!(
            (status, subjects(&body).len(), &body["count"]),
            (200, 2, &json!(3))
        );
        assert!(body["next_page"].is_string());

        let (status, _) = app
            .get(&app.admin, "/api/v2/users/999999/tickets/requested.json")
            .await;
        assert_eq!(status, 404);
        let (status, _) = app.get(&app.foreign_admin, &requested).await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn bad_user_input_is_a_clear_4xx_and_writes_nothing() {
    for_each_engine(|app: TestApp| async move {
        let huge = "x".repeat(300);
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            (
                "malformed JSON",
                b"{\"user\": {".to_vec(),
                400,
                "InvalidJSON",
            ),
            ("not an object", b"[1,2]".to_vec(), 400, "InvalidJSON"),
            (
                "no user key",
                b"{\"name\": \"x\"}".to_vec(),
                400,
                "InvalidJSON",
            ),
            (
                "user is a string",
                b"{\"user\": \"x\"}".to_vec(),
                400,
                "InvalidJSON",
            ),
            (
                "invalid UTF-8",
                b"{\"user\": {\"name\": \"\xff\xfe\"}}".to_vec(),
                400,
                "InvalidJSON",
            ),
            (
                "name is a number",
                br#"{"user": {"name": 5, "email": "n@example.com"}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "unknown role",
                br#"{"user": {"name": "N", "email": "n@example.com", "role": "owner"}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "bad email",
                br#"{"user": {"name": "N", "email": "not-an-email"}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "email header injection",
                b"{\"user\": {\"name\": \"N\", \"email\": \"a@b.c\\r\\nBcc: x@y.z\"}}".to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "missing email",
                br#"{"user": {"name": "N"}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "blank name",
                br#"{"user": {"name": "  ", "email": "n@example.com"}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "huge name",
                format!(r#"{{"user": {{"name": "{huge}", "email": "n@example.com"}}}}"#)
                    .into_bytes(),
                422,
                "RecordInvalid",
            ),
            (
                "empty time zone",
                br#"{"user": {"name": "N", "email": "n@example.com", "time_zone": ""}}"#.to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "short password",
                br#"{"user": {"name": "N", "email": "n@example.com", "password": "short"}}"#
                    .to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "organization id is text",
                br#"{"user": {"name": "N", "email": "n@example.com", "organization_id": "1"}}"#
                    .to_vec(),
                422,
                "RecordInvalid",
            ),
            (
                "huge body",
                format!(r#"{{"user": {{"name": "{}"}}}}"#, "x".repeat(2 << 20)).into_bytes(),
                413,
                "PayloadTooLarge",
            ),
        ];
        let before = snapshot(&app).await;
        let target = format!("/api/v2/users/{}.json", app.end_user.user.id);
        for (what, bytes, status, code) in &cases {
            for (method, path) in [
                (Method::POST, "/api/v2/users.json"),
                (Method::PUT, target.as_str()),
            ] {
                // On update nothing is required: leaving the email out is a valid change.
                if method == Method::PUT && *what == "missing email" {
                    continue;
                }
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
                if *status == 422 {
                    assert!(body["details"].is_object(), "{what}: {body}");
                }
            }
        }
        let (status, body) = send(
            app.request(&app.admin, Method::POST, "/api/v2/users.json")
                .header("content-type", "text/plain")
                .body(r#"{"user": {"name": "N", "email": "n@example.com"}}"#),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("InvalidContentType"))
        );
        assert_eq!(
            snapshot(&app).await,
            before,
            "no rejected write changed anything"
        );
    })
    .await;
}

#[tokio::test]
async fn every_problem_is_reported_at_once_by_attribute() {
    for_each_engine(|app: TestApp| async move {
        let (status, body) = create(
            &app,
            &app.admin,
            json!({"name": 5, "email": "nope", "role": "boss", "locale": "en US"}),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        let mut keys: Vec<&str> = body["details"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["email", "locale", "name", "role"]);
        assert_eq!(body["details"]["role"][0]["error"], "InvalidValue");
        assert_eq!(
            body["details"]["name"][0]["description"],
            "Name: must be text"
        );
    })
    .await;
}

#[tokio::test]
async fn a_user_removed_from_an_organization_by_the_store_is_shown_without_it() {
    // Guards the PUT path that re-reads the user: patching through the store and
    // reading through the API agree.
    for_each_engine(|app: TestApp| async move {
        let org_id = org(&app, "Acme").await;
        app.store
            .update_user(
                app.account,
                app.end_user.user.id,
                &UserPatch {
                    organization_id: Some(Some(zaffre_domain::OrganizationId(org_id))),
                    ..UserPatch::default()
                },
            )
            .await
            .unwrap();
        let (_, body) = app.get(&app.end_user, "/api/v2/users/me.json").await;
        assert_eq!(body["user"]["organization_id"], org_id);
        let (status, _) = app
            .write(
                &app.admin,
                Method::DELETE,
                &format!("/api/v2/organizations/{org_id}.json"),
                &json!({}),
            )
            .await;
        assert_eq!(status, 204);
        let (_, body) = app.get(&app.end_user, "/api/v2/users/me.json").await;
        assert_eq!(body["user"]["organization_id"], Value::Null);
    })
    .await;
}
