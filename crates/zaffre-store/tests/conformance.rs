use zaffre_domain::search::*;
use zaffre_domain::ticket::NewTicket;
use zaffre_domain::*;
use zaffre_store::*;

#[tokio::test]
async fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("z.db").display());
    let s = connect(&url).await.unwrap();
    let s2 = connect(&url).await.unwrap();
    drop(s2);
    let a = s.create_account("acme", "Acme").await.unwrap();
    s.ensure_system_fields(a.id).await.unwrap();
    s.ensure_system_fields(a.id).await.unwrap();
    assert_eq!(s.list_ticket_fields(a.id).await.unwrap().len(), 7);
    let u = s
        .create_user(
            a.id,
            &NewUser {
                name: "Ann".into(),
                email: "Ann@x.com".into(),
                role: Role::Admin,
                organization_id: None,
                time_zone: "UTC".into(),
                locale: "en-US".into(),
                password_hash: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(u.email, "ann@x.com");
    let nt = NewTicket {
        subject: "Hi".into(),
        description: "d".into(),
        status: TicketStatus::New,
        priority: None,
        ticket_type: None,
        requester_id: u.id,
        submitter_id: u.id,
        assignee_id: None,
        group_id: None,
        organization_id: None,
        tags: vec!["vip".into()],
        custom_fields: vec![],
    };
    let c = NewComment {
        author_id: u.id,
        public: true,
        body: "d".into(),
        html_body: "<p>d</p>".into(),
    };
    let t = s.create_ticket(a.id, &nt, &c, &[]).await.unwrap();
    assert_eq!(s.get_ticket(a.id, t.id).await.unwrap(), t);
    let mut t2 = t.clone();
    t2.status = TicketStatus::Open;
    let ev = [AuditEvent::Change {
        field_name: "status".into(),
        value: "open".into(),
        previous_value: "new".into(),
    }];
    let t3 = s
        .update_ticket(
            a.id,
            TicketWrite {
                ticket: &t2,
                author_id: u.id,
                events: &ev,
                comment: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(t3.revision, 2);
    assert_eq!(s.get_ticket(a.id, t.id).await.unwrap(), t3);
    assert!(matches!(
        s.update_ticket(
            a.id,
            TicketWrite {
                ticket: &t2,
                author_id: u.id,
                events: &ev,
                comment: None
            }
        )
        .await,
        Err(StoreError::StaleRevision)
    ));
    let l = s
        .list_tickets(
            a.id,
            &TicketFilter {
                tags_all: vec!["vip".into()],
                text: vec!["hi".into()],
                ..Default::default()
            },
            TicketSort::Status,
            true,
            Page::Offset {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(l.total, Some(1));
    assert_eq!(
        s.ticket_tag_counts(a.id, 10).await.unwrap(),
        vec![("vip".to_string(), 1)]
    );
}
