//! The authentication and role matrix: every endpoint of the API × every
//! kind of caller → the status it must answer.
//!
//! Callers, in column order: anonymous, an end-user (Ann, who requested one
//! ticket and belongs to one organization), an agent, an admin, and the admin
//! of another account (who addresses their own account's host with this
//! account's ids). Rows are run in order with the admin last, so a write that
//! only the admin may do has happened exactly once when the row ends.
//!
//! Beyond the status, the other account's admin must never see this
//! account's rows: every answer they get is checked for this account's
//! marker word and email domain, and their searches must count nothing.
//!
//! [`ROWS`] is also the list of endpoints the OpenAPI test compares with the
//! document, so an endpoint added to the router and to the document but not
//! here fails that test.

use reqwest::Method;
use serde_json::Value;
use zaffre_domain::ticket::NewTicket;
use zaffre_domain::{
    FieldType, NewComment, NewGroup, NewOrganization, NewTicketField, TicketStatus, UserId,
    UserPatch,
};

use crate::common::{for_each_engine, send, Actor, TestApp};

/// A word every fixture of this account carries (ticket subjects and tags,
/// organization, group and field names), so a leak to the other account is
/// easy to spot.
const MARKER: &str = "homemarker";

/// Anonymous, end-user, agent, admin, other account's admin.
type Expect = [u16; 5];

/// One endpoint called one way. Placeholders in `path` and `body`:
/// `{ann_ticket}` (requested by the end-user), `{bob_ticket}` (someone
/// else's), `{ann}`, `{bob}`, `{agent}`, `{org}` (the end-user's),
/// `{other_org}`, `{group}`, `{field}`; `{new_ticket}`, `{new_org}`,
/// `{new_field}` create a fresh record for each call (for deletes); `{app}`,
/// `{installation}` and `{job}` are a stored app, its installation and a job
/// status, and `{new_app}`, `{new_installation}` fresh ones; `{n}` is a
/// number unique to each call (for unique names).
pub struct Row {
    pub method: &'static str,
    pub path: &'static str,
    pub body: Option<&'static str>,
    pub expect: Expect,
}

const fn row(
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: Expect,
) -> Row {
    Row {
        method,
        path,
        body,
        expect,
    }
}

const A: u16 = 401; // anonymous: always refused
const X: u16 = 403; // authenticated, not allowed
const N: u16 = 404; // not found (another account's id, or a ticket the end-user may not see)

#[rustfmt::skip]
pub const ROWS: &[Row] = &[
    // --- tickets ---            anonymous, end-user, agent, admin, other account
    // First, while the other account has no tickets: its admin must count none of these.
    row("GET", "/api/v2/tickets/count.json", None, [A, 200, 200, 200, 200]),
    row("GET", "/api/v2/tickets.json", None, [A, 200, 200, 200, 200]),
    row("POST", "/api/v2/tickets.json", Some(r#"{"ticket": {"subject": "Matrix {n}", "comment": {"body": "Hello"}}}"#), [A, 201, 201, 201, 201]),
    row("GET", "/api/v2/tickets/show_many.json?ids={ann_ticket},{bob_ticket}", None, [A, 200, 200, 200, 200]),
    row("GET", "/api/v2/tickets/{ann_ticket}.json", None, [A, 200, 200, 200, N]),
    row("GET", "/api/v2/tickets/{bob_ticket}.json", None, [A, N, 200, 200, N]),
    row("PUT", "/api/v2/tickets/{ann_ticket}.json", Some(r#"{"ticket": {"comment": {"body": "Reply {n}"}}}"#), [A, 200, 200, 200, N]),
    row("PUT", "/api/v2/tickets/{bob_ticket}.json", Some(r#"{"ticket": {"comment": {"body": "Reply {n}"}}}"#), [A, N, 200, 200, N]),
    row("DELETE", "/api/v2/tickets/{new_ticket}.json", None, [A, X, 204, 204, N]),
    row("GET", "/api/v2/tickets/{ann_ticket}/comments.json", None, [A, 200, 200, 200, N]),
    row("GET", "/api/v2/tickets/{bob_ticket}/comments.json", None, [A, N, 200, 200, N]),
    row("GET", "/api/v2/tickets/{ann_ticket}/audits.json", None, [A, X, 200, 200, N]),
    // --- tags ---
    row("GET", "/api/v2/tags.json", None, [A, X, 200, 200, 200]),
    row("GET", "/api/v2/tickets/{ann_ticket}/tags.json", None, [A, X, 200, 200, N]),
    row("PUT", "/api/v2/tickets/{ann_ticket}/tags.json", Some(r#"{"tags": ["matrix"]}"#), [A, X, 200, 200, N]),
    row("POST", "/api/v2/tickets/{ann_ticket}/tags.json", Some(r#"{"tags": ["matrix", "homemarker"]}"#), [A, X, 201, 201, N]),
    row("DELETE", "/api/v2/tickets/{ann_ticket}/tags.json", Some(r#"{"tags": ["matrix"]}"#), [A, X, 204, 204, N]),
    // --- ticket fields ---
    row("GET", "/api/v2/ticket_fields.json", None, [A, 200, 200, 200, 200]),
    row("GET", "/api/v2/ticket_fields/{field}.json", None, [A, 200, 200, 200, N]),
    row("POST", "/api/v2/ticket_fields.json", Some(r#"{"ticket_field": {"type": "text", "title": "Matrix {n}"}}"#), [A, X, X, 201, 201]),
    row("PUT", "/api/v2/ticket_fields/{field}.json", Some(r#"{"ticket_field": {"description": "Changed {n}"}}"#), [A, X, X, 200, N]),
    row("DELETE", "/api/v2/ticket_fields/{new_field}.json", None, [A, X, X, 204, N]),
    // --- search ---
    row("GET", "/api/v2/search.json?query=homemarker", None, [A, 200, 200, 200, 200]),
    row("GET", "/api/v2/search/count.json?query=homemarker", None, [A, 200, 200, 200, 200]),
    row("GET", "/api/v2/search.json?query=type:user%20example.com", None, [A, X, 200, 200, 200]),
    // --- users ---
    row("GET", "/api/v2/users/me.json", None, [A, 200, 200, 200, 200]),
    row("GET", "/api/v2/users.json", None, [A, X, 200, 200, 200]),
    row("GET", "/api/v2/users/show_many.json?ids={ann},{agent}", None, [A, X, 200, 200, 200]),
    row("GET", "/api/v2/users/{ann}.json", None, [A, 200, 200, 200, N]),
    row("GET", "/api/v2/users/{bob}.json", None, [A, X, 200, 200, N]),
    row("POST", "/api/v2/users.json", Some(r#"{"user": {"name": "Matrix {n}", "email": "m{n}@matrix.test"}}"#), [A, X, 201, 201, 201]),
    row("POST", "/api/v2/users.json", Some(r#"{"user": {"name": "Matrix {n}", "email": "m{n}@matrix.test", "role": "agent"}}"#), [A, X, X, 201, 201]),
    row("PUT", "/api/v2/users/{ann}.json", Some(r#"{"user": {"name": "Ann {n}"}}"#), [A, 200, 200, 200, N]),
    row("PUT", "/api/v2/users/{bob}.json", Some(r#"{"user": {"name": "Bob {n}"}}"#), [A, X, 200, 200, N]),
    row("PUT", "/api/v2/users/{agent}.json", Some(r#"{"user": {"name": "Agent {n}"}}"#), [A, X, 200, 200, N]),
    row("GET", "/api/v2/users/{ann}/tickets/requested.json", None, [A, 200, 200, 200, N]),
    row("GET", "/api/v2/users/{bob}/tickets/requested.json", None, [A, X, 200, 200, N]),
    row("GET", "/api/v2/users/{agent}/tickets/assigned.json", None, [A, X, 200, 200, N]),
    // Last of the user rows: it makes Bob an agent.
    row("PUT", "/api/v2/users/{bob}.json", Some(r#"{"user": {"role": "agent"}}"#), [A, X, X, 200, N]),
    // --- organizations ---
    row("GET", "/api/v2/organizations.json", None, [A, 200, 200, 200, 200]),
    row("GET", "/api/v2/organizations/{org}.json", None, [A, 200, 200, 200, N]),
    row("GET", "/api/v2/organizations/{other_org}.json", None, [A, X, 200, 200, N]),
    row("POST", "/api/v2/organizations.json", Some(r#"{"organization": {"name": "Matrix {n}"}}"#), [A, X, X, 201, 201]),
    row("PUT", "/api/v2/organizations/{org}.json", Some(r#"{"organization": {"notes": "Changed {n}"}}"#), [A, X, X, 200, N]),
    row("DELETE", "/api/v2/organizations/{new_org}.json", None, [A, X, X, 204, N]),
    row("GET", "/api/v2/organizations/{org}/users.json", None, [A, X, 200, 200, N]),
    row("GET", "/api/v2/organizations/{org}/tickets.json", None, [A, X, 200, 200, N]),
    // --- groups ---
    row("GET", "/api/v2/groups.json", None, [A, X, 200, 200, 200]),
    row("GET", "/api/v2/groups/{group}.json", None, [A, X, 200, 200, N]),
    row("POST", "/api/v2/groups.json", Some(r#"{"group": {"name": "Matrix {n}"}}"#), [A, X, X, 201, 201]),
    // --- apps and installations (admins; the installed list for staff) ---
    row("GET", "/api/v2/apps.json", None, [A, X, X, 200, 200]),
    row("GET", "/api/v2/apps/owned.json", None, [A, X, X, 200, 200]),
    row("GET", "/api/v2/apps/{app}.json", None, [A, X, X, 200, N]),
    row("PUT", "/api/v2/apps/{app}.json", Some(r#"{"upload_id": 999999999}"#), [A, X, X, 422, N]),
    row("DELETE", "/api/v2/apps/{new_app}.json", None, [A, X, X, 204, N]),
    row("POST", "/api/v2/apps.json", Some(r#"{"upload_id": 999999999}"#), [A, X, X, 422, 422]),
    // JSON instead of multipart: authorised callers get as far as the 400.
    row("POST", "/api/v2/apps/uploads.json", Some(r#"{"uploaded_data": "x"}"#), [A, X, X, 400, 400]),
    row("GET", "/api/v2/apps/job_statuses/{job}.json", None, [A, X, X, 200, N]),
    row("GET", "/api/v2/apps/installations.json", None, [A, X, X, 200, 200]),
    row("POST", "/api/v2/apps/installations.json", Some(r#"{"app_id": {app}, "settings": {"name": "Matrix {n}"}}"#), [A, X, X, 201, 422]),
    row("GET", "/api/v2/apps/installations/{installation}.json", None, [A, X, X, 200, N]),
    row("PUT", "/api/v2/apps/installations/{installation}.json", Some(r#"{"enabled": true}"#), [A, X, X, 200, N]),
    row("DELETE", "/api/v2/apps/installations/{new_installation}.json", None, [A, X, X, 204, N]),
    row("GET", "/api/v2/apps/installations/{installation}/requirements.json", None, [A, X, X, 200, N]),
    row("GET", "/api/zaffre/apps/installed.json", None, [A, X, 200, 200, 200]),
    // --- the document (public) ---
    row("GET", "/api/openapi.json", None, [200, 200, 200, 200, 200]),
];

/// The ids the placeholders stand for.
struct Fixtures {
    ann_ticket: i64,
    bob_ticket: i64,
    org: i64,
    other_org: i64,
    group: i64,
    field: i64,
    app: i64,
    installation: i64,
    job: i64,
}

async fn ticket(app: &TestApp, subject: &str, requester: UserId) -> i64 {
    app.store
        .create_ticket(
            app.account,
            &NewTicket {
                subject: subject.into(),
                description: "Details".into(),
                status: TicketStatus::Open,
                priority: None,
                ticket_type: None,
                requester_id: requester,
                submitter_id: requester,
                assignee_id: Some(app.agent.user.id),
                group_id: None,
                organization_id: None,
                tags: vec![MARKER.into()],
                custom_fields: vec![],
            },
            &NewComment {
                author_id: requester,
                public: true,
                body: "Details".into(),
                html_body: String::new(),
            },
            &[],
        )
        .await
        .expect("ticket")
        .id
        .get()
}

async fn organization(app: &TestApp, name: &str) -> i64 {
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

async fn field(app: &TestApp, title: &str) -> i64 {
    app.store
        .create_ticket_field(
            app.account,
            &NewTicketField {
                field_type: FieldType::Text,
                title: title.into(),
                description: String::new(),
                active: true,
                required: false,
                position: 100,
                options: vec![],
            },
        )
        .await
        .expect("field")
        .id
        .get()
}

/// A stored app (straight through the store: the upload path has its own tests).
async fn zaf_app(app: &TestApp, name: &str) -> i64 {
    let manifest = serde_json::json!({
        "name": name,
        "author": {"name": "Matrix", "email": "matrix@example.com"},
        "defaultLocale": "en",
        "location": {"support": {"ticket_sidebar": "assets/iframe.html"}},
        "frameworkVersion": "2.0",
        "parameters": [{"name": "greeting", "type": "text"}]
    })
    .to_string();
    app.store
        .create_app(
            app.account,
            &zaffre_domain::apps::NewApp {
                name: name.into(),
                short_description: String::new(),
                version: Some("1.0".into()),
                author_name: None,
                author_email: None,
                author_url: None,
                manifest: manifest.clone(),
                private: true,
                single_install: false,
                files: vec![("manifest.json".into(), manifest.into_bytes())],
            },
        )
        .await
        .expect("app")
        .id
        .get()
}

async fn installation(app: &TestApp, app_id: i64) -> i64 {
    let mut settings = serde_json::Map::new();
    settings.insert("name".into(), Value::String("Homemarker install".into()));
    app.store
        .create_installation(
            app.account,
            &zaffre_domain::apps::NewInstallation {
                app_id: zaffre_domain::AppId(app_id),
                enabled: true,
                settings,
                single_install: false,
            },
            &[],
            &|_| Ok(vec![]),
        )
        .await
        .expect("installation")
        .id
        .get()
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let org = organization(app, "Homemarker Ann's company").await;
    app.store
        .update_user(
            app.account,
            app.end_user.user.id,
            &UserPatch {
                organization_id: Some(Some(zaffre_domain::OrganizationId(org))),
                ..UserPatch::default()
            },
        )
        .await
        .expect("join organization");
    let mut f = Fixtures {
        ann_ticket: ticket(app, "Homemarker: Ann's printer", app.end_user.user.id).await,
        bob_ticket: ticket(app, "Homemarker: Bob's refund", app.other_end_user.user.id).await,
        org,
        other_org: organization(app, "Homemarker Other company").await,
        group: app
            .store
            .create_group(
                app.account,
                &NewGroup {
                    name: "Homemarker Tier 1".into(),
                    description: String::new(),
                },
            )
            .await
            .expect("group")
            .id
            .get(),
        field: field(app, "Homemarker field").await,
        app: zaf_app(app, "Homemarker app").await,
        installation: 0,
        job: 0,
    };
    f.installation = installation(app, f.app).await;
    f.job = app
        .store
        .create_job_status(
            app.account,
            zaffre_domain::apps::JobState::Completed,
            "Homemarker job",
            Some(zaffre_domain::AppId(f.app)),
            None,
        )
        .await
        .expect("job")
        .id
        .get();
    f
}

/// Replaces the placeholders, creating fresh records where asked.
async fn fill(app: &TestApp, f: &Fixtures, text: &str, n: usize) -> String {
    let mut out = text
        .replace("{ann_ticket}", &f.ann_ticket.to_string())
        .replace("{bob_ticket}", &f.bob_ticket.to_string())
        .replace("{ann}", &app.end_user.user.id.to_string())
        .replace("{bob}", &app.other_end_user.user.id.to_string())
        .replace("{agent}", &app.agent.user.id.to_string())
        .replace("{other_org}", &f.other_org.to_string())
        .replace("{org}", &f.org.to_string())
        .replace("{group}", &f.group.to_string())
        .replace("{field}", &f.field.to_string())
        .replace("{app}", &f.app.to_string())
        .replace("{installation}", &f.installation.to_string())
        .replace("{job}", &f.job.to_string())
        .replace("{n}", &n.to_string());
    if out.contains("{new_ticket}") {
        let id = ticket(
            app,
            &format!("Homemarker: doomed {n}"),
            app.end_user.user.id,
        )
        .await;
        out = out.replace("{new_ticket}", &id.to_string());
    }
    if out.contains("{new_org}") {
        let id = organization(app, &format!("Homemarker doomed {n}")).await;
        out = out.replace("{new_org}", &id.to_string());
    }
    if out.contains("{new_app}") {
        let id = zaf_app(app, &format!("Homemarker doomed {n}")).await;
        out = out.replace("{new_app}", &id.to_string());
    }
    if out.contains("{new_installation}") {
        let id = installation(app, f.app).await;
        out = out.replace("{new_installation}", &id.to_string());
    }
    if out.contains("{new_field}") {
        let id = field(app, &format!("Homemarker doomed {n}")).await;
        out = out.replace("{new_field}", &id.to_string());
    }
    out
}

/// Why an answer to the other account's admin leaks this account's data, if it does.
fn leak(path: &str, body: &Value) -> Option<String> {
    let text = body.to_string().to_lowercase();
    if text.contains(MARKER) {
        return Some(format!("mentions '{MARKER}'"));
    }
    if text.contains("@example.com") {
        return Some("mentions an @example.com user".into());
    }
    // Counts carry no rows to spot the marker in: the other account's admin
    // must count nothing (searches are for the marker; the ticket count runs
    // before that account has tickets of its own).
    if path.contains("count") {
        let count = body["count"].get("value").unwrap_or(&body["count"]);
        if count != 0 {
            return Some(format!("counts {count}"));
        }
    }
    None
}

#[tokio::test]
async fn every_endpoint_answers_every_caller_as_the_table_says() {
    for_each_engine(|app: TestApp| async move {
        let f = fixtures(&app).await;
        let actors: [(&str, Option<&Actor>); 5] = [
            ("anonymous", None),
            ("end-user", Some(&app.end_user)),
            ("agent", Some(&app.agent)),
            ("other account's admin", Some(&app.foreign_admin)),
            ("admin", Some(&app.admin)),
        ];
        // Column of each actor in `Row::expect` (the admin runs last, see the module doc).
        let column = |name: &str| match name {
            "anonymous" => 0,
            "end-user" => 1,
            "agent" => 2,
            "admin" => 3,
            _ => 4,
        };
        let mut failures = Vec::new();
        let mut n = 0;
        for row in ROWS {
            for (name, actor) in actors {
                n += 1;
                let path = fill(&app, &f, row.path, n).await;
                let method = Method::from_bytes(row.method.as_bytes()).expect("method");
                let mut request = match actor {
                    Some(who) => app.request(who, method, &path),
                    None => app.anonymous(method, &path),
                };
                if let Some(body) = row.body {
                    request = request
                        .header("content-type", "application/json")
                        .body(fill(&app, &f, body, n).await);
                }
                let (status, body) = send(request).await;
                let expected = row.expect[column(name)];
                if status != expected {
                    failures.push(format!(
                        "{} {} as {name}: expected {expected}, got {status} {body}",
                        row.method, row.path
                    ));
                }
                if status >= 500 {
                    failures.push(format!(
                        "{} {} as {name}: a server error",
                        row.method, row.path
                    ));
                }
                // The document is the same public text for everyone.
                if name == "other account's admin" && row.path != "/api/openapi.json" {
                    if let Some(why) = leak(&path, &body) {
                        failures.push(format!(
                            "{} {} as {name}: leaks this account's data: {why}",
                            row.method, row.path
                        ));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "[{}] {} of {} calls disagree with the table:\n{}",
            app.engine,
            failures.len(),
            n,
            failures.join("\n")
        );
    })
    .await;
}

#[tokio::test]
async fn credentials_that_do_not_check_out_are_401_everywhere() {
    // A wrong token, a right token for another account, and a password on the
    // wrong host: none of them authenticate, on any endpoint.
    for_each_engine(|app: TestApp| async move {
        let f = fixtures(&app).await;
        let mut failures = Vec::new();
        for (i, row) in ROWS.iter().enumerate() {
            if row.expect[0] != A {
                continue;
            }
            let path = fill(&app, &f, row.path, 10_000 + i).await;
            let method = Method::from_bytes(row.method.as_bytes()).expect("method");
            let attempts = [
                (
                    "wrong token",
                    app.anonymous(method.clone(), &path).basic_auth(
                        format!("{}/token", app.admin.user.email),
                        Some("not-the-token"),
                    ),
                ),
                // The other account's admin token sent to this account's host.
                (
                    "foreign token",
                    app.anonymous(method.clone(), &path).basic_auth(
                        format!("{}/token", app.foreign_admin.user.email),
                        Some(&app.foreign_admin.token),
                    ),
                ),
                (
                    "wrong password",
                    app.anonymous(method.clone(), &path)
                        .basic_auth(&app.admin.user.email, Some("wrong password")),
                ),
            ];
            for (what, request) in attempts {
                let (status, _) = send(request).await;
                if status != 401 {
                    failures.push(format!(
                        "{} {} with a {what}: got {status}",
                        row.method, row.path
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    })
    .await;
}
