//! Fixture files load into a real (SQLite) store: the example file creates
//! what it describes, YAML and JSON give the same helpdesk with the same ids,
//! and every class of bad input is refused with its path before anything is
//! written.

use std::path::{Path, PathBuf};

use zaffre_cli::fixtures::{self, FixtureSummary};
use zaffre_domain::search::{Page, UserFilter};
use zaffre_domain::{
    Account, FieldType, NewGroup, Role, Ticket, TicketPriority, TicketStatus, TicketType, User,
};
use zaffre_store::DynStore;

mod common;

/// A new SQLite database with an account, its system fields and an admin, as first start makes it.
async fn fresh_account(dir: &Path) -> (DynStore, Account, User) {
    common::fresh_account(dir, "fx").await
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/fixtures")
        .join(name)
}

async fn all_users(store: &DynStore, account: &Account) -> Vec<User> {
    store
        .list_users(
            account.id,
            &UserFilter::default(),
            Page::Offset {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .items
}

async fn load_example(name: &str) -> (tempfile::TempDir, DynStore, Account, FixtureSummary) {
    let dir = tempfile::tempdir().unwrap();
    let (store, account, _) = fresh_account(dir.path()).await;
    let summary = fixtures::load(store.as_ref(), account.id, &example(name))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    (dir, store, account, summary)
}

#[tokio::test]
async fn the_example_file_creates_what_it_describes() {
    let (_dir, store, account, summary) = load_example("helpdesk.yaml").await;
    assert_eq!(summary.organizations, 1);
    assert_eq!(summary.groups, 2);
    assert_eq!(summary.ticket_fields, 4);
    assert_eq!(summary.users, 3);
    assert_eq!(summary.tickets, 3);
    assert_eq!(summary.comments, 4);
    assert_eq!(summary.ticket_ids.len(), 3);
    assert_eq!(
        summary.ticket_keys.keys().collect::<Vec<_>>(),
        ["broken-rocket", "done", "invoice"]
    );

    let tickets = common::all_tickets(&store, &account).await;
    assert_eq!(
        tickets.iter().map(|t| t.id).collect::<Vec<_>>(),
        summary.ticket_ids
    );
    let users = all_users(&store, &account).await;
    let by_email = |e: &str| users.iter().find(|u| u.email == e).unwrap().clone();
    let alice = by_email("alice@helpdesk.example");
    let bob = by_email("bob@acme-rockets.example");
    let carol = by_email("carol@mail.example");
    assert_eq!(alice.role, Role::Agent);
    assert_eq!(alice.time_zone, "Europe/Paris");
    assert_eq!(carol.role, Role::EndUser, "the default role");
    assert_eq!(carol.time_zone, "UTC");
    let acme = store
        .get_organization(account.id, bob.organization_id.expect("bob is in acme"))
        .await
        .unwrap();
    assert_eq!(acme.name, "Acme Rockets");
    assert_eq!(acme.domain_names, ["acme-rockets.example"]);

    let groups = store.list_groups(account.id).await.unwrap();
    let support = groups.iter().find(|g| g.name == "Support").unwrap();

    let rocket = &tickets[0];
    assert_eq!(rocket.id, summary.ticket_keys["broken-rocket"]);
    assert_eq!(rocket.subject, "The rocket will not launch");
    assert_eq!(
        rocket.description,
        "Countdown reaches zero and nothing happens."
    );
    assert_eq!(rocket.status, TicketStatus::Open);
    assert_eq!(rocket.priority, Some(TicketPriority::High));
    assert_eq!(rocket.ticket_type, Some(TicketType::Incident));
    assert_eq!(rocket.requester_id, bob.id);
    assert_eq!(rocket.submitter_id, bob.id);
    assert_eq!(rocket.assignee_id, Some(alice.id));
    assert_eq!(rocket.group_id, Some(support.id));
    assert_eq!(
        rocket.organization_id, bob.organization_id,
        "the requester's organization"
    );
    // Tags: the file's plus the dropdown option's value, as Zendesk adds it.
    for tag in ["launch", "urgent-ish"] {
        assert!(rocket.tags.iter().any(|t| t == tag), "{:?}", rocket.tags);
    }

    // Custom field values by field, in their stored form.
    let fields = store.list_ticket_fields(account.id).await.unwrap();
    let field = |title: &str| fields.iter().find(|f| f.title == title).unwrap();
    assert_eq!(field("Product").field_type, FieldType::Tagger);
    assert_eq!(field("Product").options.len(), 2);
    let value = |title: &str| {
        rocket
            .custom_fields
            .iter()
            .find(|c| c.id == field(title).id)
            .map(|c| c.value.clone())
    };
    assert_eq!(value("Order number"), Some("ORD-1001".into()));
    assert_eq!(value("Product"), Some("product_rockets".into()));
    assert_eq!(value("VIP customer"), Some(true.into()));
    assert_eq!(value("Seats"), Some("40".into()));

    // Comments: the description, then the file's, with authors and visibility.
    let comments = store.list_comments(account.id, rocket.id).await.unwrap();
    let shape: Vec<(_, bool, &str)> = comments
        .iter()
        .map(|c| (c.author_id, c.public, c.body.as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            (bob.id, true, "Countdown reaches zero and nothing happens."),
            (alice.id, true, "Could you send us the launch log?"),
            (alice.id, false, "Probably the igniter firmware again."),
            (bob.id, true, "Attached. Thanks!"),
        ]
    );
    assert_eq!(
        comments[1].html_body,
        "<p>Could you send us the launch log?</p>"
    );

    // Unassigned and no status: new. Closed: solved first, closed last.
    assert_eq!(tickets[1].status, TicketStatus::New);
    assert_eq!(tickets[1].requester_id, carol.id);
    assert_eq!(tickets[1].organization_id, None);
    assert_eq!(tickets[2].status, TicketStatus::Closed);
    assert_eq!(
        store
            .list_comments(account.id, tickets[2].id)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn yaml_and_json_give_the_same_helpdesk_with_the_same_ids() {
    let (_a, store_a, account_a, summary_a) = load_example("helpdesk.yaml").await;
    let (_b, store_b, account_b, summary_b) = load_example("helpdesk.json").await;
    assert_eq!(summary_a, summary_b);

    // Timestamps differ between runs; everything else must not.
    let strip = |mut t: Ticket| {
        t.created_at = Default::default();
        t.updated_at = Default::default();
        t.account_id = zaffre_domain::AccountId(0);
        t
    };
    let a: Vec<Ticket> = common::all_tickets(&store_a, &account_a)
        .await
        .into_iter()
        .map(strip)
        .collect();
    let b: Vec<Ticket> = common::all_tickets(&store_b, &account_b)
        .await
        .into_iter()
        .map(strip)
        .collect();
    assert_eq!(a, b);
    let people = |users: Vec<User>| {
        users
            .into_iter()
            .map(|u| (u.id, u.email, u.role, u.organization_id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        people(all_users(&store_a, &account_a).await),
        people(all_users(&store_b, &account_b).await)
    );
    for t in &a {
        let ca = store_a.list_comments(account_a.id, t.id).await.unwrap();
        let cb = store_b.list_comments(account_b.id, t.id).await.unwrap();
        let key = |c: &zaffre_domain::Comment| (c.id, c.author_id, c.public, c.body.clone());
        assert_eq!(
            ca.iter().map(key).collect::<Vec<_>>(),
            cb.iter().map(key).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn an_existing_user_is_reused_by_email() {
    let dir = tempfile::tempdir().unwrap();
    let (store, account, admin) = fresh_account(dir.path()).await;
    let file = dir.path().join("f.yml");
    std::fs::write(
        &file,
        "users:\n  - {key: me, name: Me, email: ADMIN@example.com, role: admin}\n  - {key: c, name: C, email: c@x.example}\ntickets:\n  - {subject: S, description: D, requester: c, assignee: me}\n",
    )
    .unwrap();
    let summary = fixtures::load(store.as_ref(), account.id, &file)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(summary.users, 1, "only c is new");
    let ticket = store
        .get_ticket(account.id, summary.ticket_ids[0])
        .await
        .unwrap();
    assert_eq!(ticket.assignee_id, Some(admin.id));
    assert_eq!(
        ticket.status,
        TicketStatus::Open,
        "assigned without a status: open"
    );
}

/// Loads `text` (as `name`) into a fresh account, expects an error mentioning
/// every one of `wanted`, and checks that nothing was written.
async fn refused(name: &str, text: &str, wanted: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (store, account, _) = fresh_account(dir.path()).await;
    // Something the account already has, for the conflict checks.
    store
        .create_group(
            account.id,
            &NewGroup {
                name: "Existing".into(),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    let fields_before = store.list_ticket_fields(account.id).await.unwrap().len();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let err = fixtures::load(store.as_ref(), account.id, &file)
        .await
        .expect_err("the file must be refused");
    let message = format!("{err:#}");
    for w in wanted {
        assert!(message.contains(w), "{w:?} is not in:\n{message}");
    }
    assert!(message.contains(name), "names the file: {message}");

    assert!(
        common::all_tickets(&store, &account).await.is_empty(),
        "{message}"
    );
    assert_eq!(all_users(&store, &account).await.len(), 1, "{message}");
    assert_eq!(store.list_groups(account.id).await.unwrap().len(), 1);
    assert_eq!(
        store.list_ticket_fields(account.id).await.unwrap().len(),
        fields_before
    );
    let orgs = store
        .list_organizations(
            account.id,
            &[],
            Page::Offset {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert!(orgs.items.is_empty(), "{message}");
}

/// A valid prefix that bad records below can refer to.
const BASE: &str = r#"
organizations:
  - {key: acme, name: Acme}
ticket_fields:
  - {key: product, type: tagger, title: Product, options: [{name: A, value: a}]}
  - {key: n, type: integer, title: N, required: true}
users:
  - {key: alice, name: Alice, email: alice@x.example, role: agent}
  - {key: bob, name: Bob, email: bob@x.example}
"#;

#[tokio::test]
async fn unknown_sections_and_names_are_refused() {
    refused(
        "f.yaml",
        &format!("{BASE}tags: []\ntickets:\n  - {{subject: S, description: D, requester: bob, colour: red}}\n"),
        &[
            "tags: unknown section (expected one of: organizations, groups, ticket_fields, users, tickets)",
            "tickets[0].colour: unknown name",
        ],
    )
    .await;
}

#[tokio::test]
async fn duplicate_keys_names_and_emails_are_refused() {
    refused(
        "f.yaml",
        r#"
organizations:
  - {key: acme, name: Acme}
  - {key: acme, name: ACME}
users:
  - {key: a, name: A, email: a@x.example}
  - {key: b, name: B, email: A@x.example}
tickets:
  - {key: t, subject: S, description: D, requester: a}
  - {key: t, subject: S, description: D, requester: a}
"#,
        &[
            "organizations[1].key: the organization key \"acme\" is already used by organizations[0]",
            "organizations[1].name: organizations[0] has the same name",
            "users[1].email: users[0] has the same email",
            "tickets[1].key: the ticket key \"t\" is already used by tickets[0]",
        ],
    )
    .await;
}

#[tokio::test]
async fn dangling_references_are_refused() {
    refused(
        "f.yaml",
        &format!(
            "{BASE}  - {{key: c, name: C, email: c@x.example, organization: nope}}\ntickets:\n  - subject: S\n    description: D\n    requester: carl\n    group: helpers\n    custom_fields: {{colour: red}}\n    comments: [{{author: zed, body: hi}}]\n"
        ),
        &[
            "users[2].organization: no organization with key \"nope\"",
            "tickets[0].requester: no user with key \"carl\"",
            "tickets[0].group: no group with key \"helpers\"",
            "tickets[0].custom_fields.colour: no ticket field with key \"colour\"",
            "tickets[0].comments[0].author: no user with key \"zed\"",
        ],
    )
    .await;
}

#[tokio::test]
async fn bad_enums_values_and_roles_are_refused() {
    refused(
        "f.yaml",
        &format!(
            r#"{BASE}  - {{key: x, name: X, email: x@x.example, role: pilot}}
tickets:
  - subject: S
    description: D
    requester: bob
    assignee: bob
    status: later
    priority: meh
    type: chore
    custom_fields: {{product: b, n: many}}
    comments: [{{author: bob, public: false, body: secret}}]
  - {{subject: S, description: D, requester: bob, status: solved}}
"#
        ),
        &[
            "users[2].role: \"pilot\" is not one of: end-user, agent, admin",
            "tickets[0].status: \"later\" is not one of: new, open, pending, hold, solved, closed",
            "tickets[0].priority: \"meh\" is not one of: low, normal, high, urgent",
            "tickets[0].type: \"chore\" is not one of: problem, incident, question, task",
            "tickets[0].assignee: \"bob\" is an end-user",
            "tickets[0].custom_fields.product: b is not one of the options",
            "tickets[0].custom_fields.n: many is not a whole number",
            "tickets[0].comments[0].public: \"bob\" is an end-user",
            "tickets[1].custom_fields: the required field \"n\" needs a value to be solved",
        ],
    )
    .await;
}

#[tokio::test]
async fn missing_fields_wrong_types_and_timestamps_are_refused() {
    refused(
        "f.json",
        r#"{"users": [{"key": "a", "email": "a@x.example"}],
            "ticket_fields": [{"key": "f", "type": "subject", "title": "T"},
                              {"key": "g", "type": "tagger", "title": "G"}],
            "tickets": [{"subject": 3, "requester": "a", "created_at": "2024-01-01T00:00:00Z"}],
            "groups": {"key": "g"}}"#,
        &[
            "users[0].name: is required",
            "ticket_fields[0].type: \"subject\" is not one of: text, textarea, checkbox, date, integer, decimal, tagger",
            "ticket_fields[1].options: a tagger (dropdown) field needs options",
            "tickets[0].subject: must be text, not a number",
            "tickets[0].description: is required",
            "tickets[0].created_at: timestamps cannot be set",
            "groups: must be a list, not an object",
        ],
    )
    .await;
}

#[tokio::test]
async fn names_the_account_already_uses_are_refused() {
    refused(
        "f.yaml",
        r#"
groups:
  - {key: e, name: existing}
ticket_fields:
  - {key: s, type: text, title: Subject}
users:
  - {key: me, name: Me, email: admin@example.com, role: agent}
"#,
        &[
            "users[0].role: admin@example.com already exists as admin, not agent",
            "groups[0].name: a group named \"existing\" already exists in the account",
            "ticket_fields[0].title: a field titled \"Subject\" already exists in the account",
        ],
    )
    .await;
}

#[tokio::test]
async fn unreadable_syntax_and_extensions_are_refused() {
    refused("f.yaml", "tickets: [ {subject: S", &["is not valid YAML"]).await;
    refused("f.json", "{\"tickets\": [}", &["is not valid JSON"]).await;
    refused("f.txt", "{}", &["must end in .json, .yaml or .yml"]).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, account, _) = fresh_account(dir.path()).await;
    let err = fixtures::load(store.as_ref(), account.id, &dir.path().join("missing.json"))
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("could not read the fixture file"),
        "{err:#}"
    );
}
