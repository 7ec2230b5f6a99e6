//! The demo helpdesk seeds into a real (SQLite) store through the domain rules,
//! and covers what it promises: every custom field type, every status, public
//! replies and internal notes.

use std::collections::{BTreeSet, HashMap};

use zaffre_cli::demo;
use zaffre_domain::{Account, AuditEvent, FieldType, TicketStatus, User};
use zaffre_store::DynStore;

mod common;

/// A new SQLite database with an account, its system fields and an admin.
async fn fresh_account() -> (tempfile::TempDir, DynStore, Account, User) {
    let dir = tempfile::tempdir().unwrap();
    let (store, account, admin) = common::fresh_account(dir.path(), "demo").await;
    (dir, store, account, admin)
}

#[tokio::test]
async fn seeds_a_believable_helpdesk() {
    let (_dir, store, account, admin) = fresh_account().await;

    let summary = demo::seed(store.as_ref(), account.id, admin.id)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(summary.organizations >= 3, "{summary:?}");
    assert!(summary.agents >= 3, "{summary:?}");
    assert!(summary.end_users >= 10, "{summary:?}");
    assert!(summary.tickets >= 25, "{summary:?}");

    let tickets = common::all_tickets(&store, &account).await;
    assert_eq!(tickets.len(), summary.tickets);

    let statuses: BTreeSet<TicketStatus> = tickets.iter().map(|t| t.status).collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        TicketStatus::ALL.to_vec()
    );

    // Every custom field type exists and some ticket holds a value for it.
    let fields = store.list_ticket_fields(account.id).await.unwrap();
    let type_of: HashMap<_, _> = fields.iter().map(|f| (f.id, f.field_type)).collect();
    let used: BTreeSet<FieldType> = tickets
        .iter()
        .flat_map(|t| t.custom_fields.iter())
        .filter_map(|c| type_of.get(&c.id).copied())
        .collect();
    for ty in FieldType::ALL.iter().filter(|t| !t.is_system()) {
        assert!(
            fields.iter().any(|f| f.field_type == *ty && !f.required),
            "no optional {ty} field"
        );
        assert!(used.contains(ty), "no ticket uses a {ty} field");
    }

    let mut public = 0;
    let mut private = 0;
    let mut html = 0;
    for ticket in &tickets {
        let comments = store.list_comments(account.id, ticket.id).await.unwrap();
        assert!(
            (1..=6).contains(&comments.len()),
            "{}: {} comments",
            ticket.subject,
            comments.len()
        );
        assert_eq!(comments[0].body, ticket.description, "{}", ticket.subject);
        public += comments.iter().filter(|c| c.public).count();
        private += comments.iter().filter(|c| !c.public).count();
        html += comments
            .iter()
            .filter(|c| c.html_body.contains("<strong>"))
            .count();
    }
    // Closed tickets were solved first and closed by their last update.
    for ticket in tickets.iter().filter(|t| t.status == TicketStatus::Closed) {
        let audits = store.list_audits(account.id, ticket.id).await.unwrap();
        let last = audits.last().map(|a| a.events.clone()).unwrap_or_default();
        assert!(
            last.contains(&AuditEvent::Change {
                field_name: "status".into(),
                value: "closed".into(),
                previous_value: "solved".into(),
            }),
            "{}: {last:?}",
            ticket.subject
        );
    }
    assert!(
        public > 0 && private > 0,
        "{public} public, {private} private"
    );
    assert!(html > 0, "no comment with formatted HTML");
    assert!(tickets.iter().filter(|t| !t.tags.is_empty()).count() >= 25);
    assert!(tickets.iter().any(|t| t.assignee_id == Some(admin.id)));
    assert!(tickets.iter().any(|t| t.submitter_id != t.requester_id));
}

#[tokio::test]
async fn seeding_again_reuses_people_groups_and_fields() {
    let (_dir, store, account, admin) = fresh_account().await;
    let first = demo::seed(store.as_ref(), account.id, admin.id)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let users = store.count_users(account.id).await.unwrap();
    let fields = store.list_ticket_fields(account.id).await.unwrap().len();
    let groups = store.list_groups(account.id).await.unwrap().len();

    let second = demo::seed(store.as_ref(), account.id, admin.id)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(first, second);
    assert_eq!(store.count_users(account.id).await.unwrap(), users);
    assert_eq!(
        store.list_ticket_fields(account.id).await.unwrap().len(),
        fields
    );
    assert_eq!(store.list_groups(account.id).await.unwrap().len(), groups);
}
