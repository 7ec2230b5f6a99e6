//! The storage conformance suite: one set of tests that every engine must pass.
//!
//! Each test is an `async fn(Db)` listed once in `conformance!`, which
//! generates `sqlite::<name>` (always run, on a temp file in a fresh
//! directory) and `postgres::<name>` (run when `ZAFFRE_TEST_POSTGRES_URL` is
//! set, on a database created for that test and dropped after it). If the
//! variable is set but PostgreSQL cannot be reached the tests fail: a suite
//! that quietly skips an engine proves nothing about it.

use std::future::Future;
use std::ops::Deref;

use chrono::{Duration, SubsecRound, Utc};
use serde_json::json;
use zaffre_domain::search::*;
use zaffre_domain::ticket::NewTicket;
use zaffre_domain::*;
use zaffre_store::*;

// ---------------------------------------------------------------- harness

/// What a test gets: a fresh, migrated store and the URL it was opened from.
struct Db {
    store: DynStore,
    url: String,
}

impl Deref for Db {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

mod harness {
    use super::*;
    use sqlx::{Connection, Executor, PgConnection};

    const POSTGRES_ENV: &str = "ZAFFRE_TEST_POSTGRES_URL";

    /// Runs `test` against a new SQLite file in its own temp directory.
    pub async fn on_sqlite<F, Fut>(test: F)
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("zaffre.db").display());
        let store = connect(&url).await.expect("open SQLite");
        run(test(Db { store, url })).await;
        drop(dir);
    }

    /// Runs `test` against a new PostgreSQL database, when one is configured.
    pub async fn on_postgres<F, Fut>(test: F)
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Ok(base) = std::env::var(POSTGRES_ENV) else {
            eprintln!("{POSTGRES_ENV} is not set: PostgreSQL conformance not run");
            return;
        };
        let mut admin = PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable: {e}"));
        let name = format!("zaffre_t_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        let mut url = url::Url::parse(&base).expect("a URL");
        url.set_path(&name);
        let url = url.to_string();
        let store = connect(&url).await.expect("open PostgreSQL");
        let outcome = tokio::spawn(test(Db { store, url })).await;
        // Best effort: a database left behind by a crash is only clutter.
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    async fn run(test: impl Future<Output = ()> + Send + 'static) {
        // A spawned task turns a panic into a JoinError, so cleanup still runs.
        if let Err(e) = tokio::spawn(test).await {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// Generates one test per engine for every listed `async fn(Db)`.
macro_rules! conformance {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    crate::harness::on_sqlite(crate::$test).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    crate::harness::on_postgres(crate::$test).await
                }
            )+
        }
    };
}

conformance!(
    accounts,
    migrations_are_idempotent,
    users,
    user_listing,
    passwords_tokens_and_sessions,
    organizations,
    groups,
    system_fields,
    custom_fields,
    ticket_round_trip,
    ticket_updates,
    no_op_update_changes_nothing,
    ticket_filters,
    ticket_text_and_people_filters,
    ticket_sorting,
    ticket_pages,
    cross_account_isolation,
    delete_ticket_cascades,
    tag_counts,
    concurrent_updates,
    two_stores_on_one_database,
    case_insensitive_beyond_ascii,
);

// ---------------------------------------------------------------- fixtures

fn new_user(name: &str, email: &str, role: Role) -> NewUser {
    NewUser {
        name: name.into(),
        email: email.into(),
        role,
        organization_id: None,
        time_zone: "Europe/Paris".into(),
        locale: "en-US".into(),
        password_hash: None,
    }
}

/// One account with an admin, an agent and an end-user.
struct Fx {
    account: AccountId,
    admin: User,
    agent: User,
    customer: User,
}

async fn fixture(db: &Db, subdomain: &str) -> Fx {
    let account = db
        .create_account(subdomain, "Acme Support")
        .await
        .unwrap()
        .id;
    db.ensure_system_fields(account).await.unwrap();
    let admin = db
        .create_user(
            account,
            &new_user("Ada Admin", "ada@example.com", Role::Admin),
        )
        .await
        .unwrap();
    let agent = db
        .create_user(
            account,
            &new_user("Bob Agent", "bob@example.com", Role::Agent),
        )
        .await
        .unwrap();
    let customer = db
        .create_user(
            account,
            &new_user("Carla Customer", "carla@example.org", Role::EndUser),
        )
        .await
        .unwrap();
    Fx {
        account,
        admin,
        agent,
        customer,
    }
}

fn new_ticket(subject: &str, requester: UserId) -> NewTicket {
    NewTicket {
        subject: subject.into(),
        description: format!("About {subject}"),
        status: TicketStatus::New,
        priority: None,
        ticket_type: None,
        requester_id: requester,
        submitter_id: requester,
        assignee_id: None,
        group_id: None,
        organization_id: None,
        tags: vec![],
        custom_fields: vec![],
    }
}

fn comment(author: UserId, body: &str) -> NewComment {
    NewComment {
        author_id: author,
        public: true,
        body: body.into(),
        html_body: format!("<p>{body}</p>"),
    }
}

async fn create(db: &Db, account: AccountId, t: NewTicket) -> Ticket {
    let first = comment(t.submitter_id, &t.description.clone());
    db.create_ticket(account, &t, &first, &[]).await.unwrap()
}

fn change(field: &str, value: serde_json::Value, previous: serde_json::Value) -> AuditEvent {
    AuditEvent::Change {
        field_name: field.into(),
        value,
        previous_value: previous,
    }
}

async fn update(db: &Db, account: AccountId, next: &Ticket, author: UserId) -> Ticket {
    let events = [change("subject", json!(next.subject), json!("(changed)"))];
    db.update_ticket(
        account,
        TicketWrite {
            ticket: next,
            author_id: author,
            events: &events,
            comment: None,
        },
    )
    .await
    .unwrap()
}

const ALL: Page = Page::Offset {
    offset: 0,
    limit: 100,
};

async fn ids(db: &Db, account: AccountId, filter: TicketFilter) -> Vec<TicketId> {
    let listing = db
        .list_tickets(account, &filter, TicketSort::Id, false, ALL)
        .await
        .unwrap();
    assert_eq!(
        listing.total,
        Some(listing.items.len() as u64),
        "total counts the same rows"
    );
    listing.items.iter().map(|t| t.id).collect()
}

fn assert_not_found<T: std::fmt::Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>) -> String {
    match result {
        Err(StoreError::Conflict(text)) => text,
        other => panic!("expected Conflict, got {other:?}"),
    }
}

// ---------------------------------------------------------------- tests

async fn accounts(db: Db) {
    assert_eq!(db.default_account().await.unwrap(), None);
    let first = db.create_account("Acme", "Acme Inc").await.unwrap();
    assert_eq!(first.subdomain, "acme", "subdomains are stored lowercase");
    let second = db.create_account("globex", "Globex").await.unwrap();
    assert_eq!(
        db.default_account().await.unwrap(),
        Some(first.clone()),
        "the oldest account"
    );
    assert_eq!(db.get_account(first.id).await.unwrap(), first);
    assert_eq!(db.get_account_by_subdomain("ACME").await.unwrap(), first);
    assert_eq!(db.get_account_by_subdomain("globex").await.unwrap(), second);
    assert_not_found(db.get_account(AccountId(second.id.0 + 100)).await);
    assert_not_found(db.get_account_by_subdomain("initech").await);
    let text = assert_conflict(db.create_account("acme", "Again").await);
    assert!(text.contains("acme"), "{text}");
    db.ping().await.unwrap();
    assert_eq!(
        db.engine().to_string(),
        if db.url.starts_with("sqlite") {
            "sqlite"
        } else {
            "postgres"
        }
    );
}

async fn migrations_are_idempotent(db: Db) {
    let account = db.create_account("acme", "Acme").await.unwrap();
    // Opening again runs the migrator again: nothing to apply, data intact.
    migrate(&db.url).await.unwrap();
    let again = connect(&db.url).await.unwrap();
    assert_eq!(again.get_account(account.id).await.unwrap(), account);
}

async fn users(db: Db) {
    let fx = fixture(&db, "acme").await;
    let other = fixture(&db, "globex").await;
    let a = fx.account;

    let mut new = new_user("Dan Doe", " Dan.Doe@Example.COM ", Role::EndUser);
    new.password_hash = Some("$argon2id$v=19$secret".into());
    let dan = db.create_user(a, &new).await.unwrap();
    assert_eq!(
        dan.email, "dan.doe@example.com",
        "emails are stored trimmed and lowercase"
    );
    assert!(dan.active);
    assert_eq!(dan.created_at, dan.updated_at);
    assert_eq!(db.get_user(a, dan.id).await.unwrap(), dan);
    assert_eq!(
        db.get_user_by_email(a, "DAN.doe@example.com")
            .await
            .unwrap(),
        dan
    );
    assert_eq!(db.count_users(a).await.unwrap(), 4);

    // Unique per account, whatever the case; free in another account.
    let text = assert_conflict(
        db.create_user(a, &new_user("Dup", "dan.doe@EXAMPLE.com", Role::Agent))
            .await,
    );
    assert!(text.contains("dan.doe@example.com"), "{text}");
    assert!(
        !format!("{text:?}").contains("argon2"),
        "no secret in the error"
    );
    let elsewhere = db
        .create_user(
            other.account,
            &new_user("Dan", "dan.doe@example.com", Role::Agent),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.account_id, other.account);

    // get_users keeps only this account's ids, in id order.
    let got = db
        .get_users(a, &[dan.id, elsewhere.id, fx.admin.id, UserId(999_999)])
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![fx.admin.id, dan.id]
    );
    assert_eq!(db.get_users(a, &[]).await.unwrap(), vec![]);

    // Updates.
    let org = db
        .create_organization(
            a,
            &NewOrganization {
                name: "Initech".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let patch = UserPatch {
        name: Some("Daniel Doe".into()),
        email: Some("Daniel@Example.com".into()),
        role: Some(Role::Agent),
        organization_id: Some(Some(org.id)),
        time_zone: Some("America/New_York".into()),
        locale: Some("fr".into()),
        active: Some(false),
    };
    let updated = db.update_user(a, dan.id, &patch).await.unwrap();
    assert_eq!(updated.name, "Daniel Doe");
    assert_eq!(updated.email, "daniel@example.com");
    assert_eq!(updated.role, Role::Agent);
    assert_eq!(updated.organization_id, Some(org.id));
    assert_eq!(updated.time_zone, "America/New_York");
    assert_eq!(updated.locale, "fr");
    assert!(!updated.active);
    assert!(updated.updated_at >= dan.updated_at);
    assert_eq!(updated.created_at, dan.created_at);
    assert_eq!(db.get_user(a, dan.id).await.unwrap(), updated);
    let cleared = db
        .update_user(
            a,
            dan.id,
            &UserPatch {
                organization_id: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.organization_id, None);
    assert_eq!(
        db.update_user(a, dan.id, &UserPatch::default())
            .await
            .unwrap(),
        cleared
    );
    assert_conflict(
        db.update_user(
            a,
            dan.id,
            &UserPatch {
                email: Some("ADA@example.com".into()),
                ..Default::default()
            },
        )
        .await,
    );
    // An organization of another account cannot be referenced.
    let foreign_org = db
        .create_organization(
            other.account,
            &NewOrganization {
                name: "Foreign".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_conflict(
        db.update_user(
            a,
            dan.id,
            &UserPatch {
                organization_id: Some(Some(foreign_org.id)),
                ..Default::default()
            },
        )
        .await,
    );

    // Another account's user is not there.
    assert_not_found(db.get_user(a, elsewhere.id).await);
    assert_eq!(
        db.get_user_by_email(other.account, "ada@example.com")
            .await
            .unwrap(),
        other.admin
    );
    assert_not_found(
        db.update_user(
            a,
            elsewhere.id,
            &UserPatch {
                name: Some("x".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_not_found(db.set_password_hash(a, elsewhere.id, "h").await);
    assert_not_found(db.get_user(a, UserId(999_999)).await);
}

async fn user_listing(db: Db) {
    let fx = fixture(&db, "acme").await;
    let other = fixture(&db, "globex").await;
    let a = fx.account;
    let org = db
        .create_organization(
            a,
            &NewOrganization {
                name: "Initech".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut in_org = new_user("Peter Gibbons", "peter@initech.com", Role::EndUser);
    in_org.organization_id = Some(org.id);
    let peter = db.create_user(a, &in_org).await.unwrap();
    let percent = db
        .create_user(a, &new_user("100% Pure", "pure@example.com", Role::EndUser))
        .await
        .unwrap();

    let list = |filter: UserFilter| {
        let db = &db;
        async move {
            let l = db.list_users(a, &filter, ALL).await.unwrap();
            assert_eq!(l.total, Some(l.items.len() as u64));
            l.items.into_iter().map(|u| u.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(UserFilter::default()).await,
        vec![
            fx.admin.id,
            fx.agent.id,
            fx.customer.id,
            peter.id,
            percent.id
        ]
    );
    assert_eq!(
        list(UserFilter {
            roles: Some(vec![Role::Admin, Role::Agent]),
            ..Default::default()
        })
        .await,
        vec![fx.admin.id, fx.agent.id]
    );
    assert_eq!(
        list(UserFilter {
            roles: Some(vec![]),
            ..Default::default()
        })
        .await,
        vec![]
    );
    assert_eq!(
        list(UserFilter {
            organization_id: Some(org.id),
            ..Default::default()
        })
        .await,
        vec![peter.id]
    );
    assert_eq!(
        list(UserFilter {
            text: vec!["GIBBONS".into()],
            ..Default::default()
        })
        .await,
        vec![peter.id]
    );
    assert_eq!(
        list(UserFilter {
            text: vec!["initech.com".into()],
            ..Default::default()
        })
        .await,
        vec![peter.id]
    );
    assert_eq!(
        list(UserFilter {
            text: vec!["example".into(), "agent".into()],
            ..Default::default()
        })
        .await,
        vec![fx.agent.id]
    );
    // LIKE wildcards in the text match literally.
    assert_eq!(
        list(UserFilter {
            text: vec!["100%".into()],
            ..Default::default()
        })
        .await,
        vec![percent.id]
    );
    assert_eq!(
        list(UserFilter {
            text: vec!["_".into()],
            ..Default::default()
        })
        .await,
        vec![]
    );

    // Offset pages count everything; cursor pages know whether more follow.
    let page = db
        .list_users(
            a,
            &UserFilter::default(),
            Page::Offset {
                offset: 2,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![fx.customer.id, peter.id]
    );
    assert_eq!(page.total, Some(5));
    let first = db
        .list_users(
            a,
            &UserFilter::default(),
            Page::Cursor {
                after: None,
                limit: 3,
                descending: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(first.items.len(), 3);
    assert!(first.has_more);
    assert_eq!(first.total, None);
    let rest = db
        .list_users(
            a,
            &UserFilter::default(),
            Page::Cursor {
                after: Some(first.items[2].id.0),
                limit: 3,
                descending: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![peter.id, percent.id]
    );
    assert!(!rest.has_more);

    let theirs = db
        .list_users(other.account, &UserFilter::default(), ALL)
        .await
        .unwrap();
    assert!(theirs.items.iter().all(|u| u.account_id == other.account));
    assert_eq!(theirs.total, Some(3));
}

async fn passwords_tokens_and_sessions(db: Db) {
    let fx = fixture(&db, "acme").await;
    let other = fixture(&db, "globex").await;
    let a = fx.account;

    // Passwords.
    let login = db.password_login(a, "ADA@example.com").await.unwrap();
    assert_eq!(login.user, fx.admin);
    assert_eq!(login.password_hash, None);
    db.set_password_hash(a, fx.admin.id, "$argon2id$v=19$m=19456$abc")
        .await
        .unwrap();
    let login = db.password_login(a, "ada@example.com").await.unwrap();
    assert_eq!(
        login.password_hash.as_deref(),
        Some("$argon2id$v=19$m=19456$abc")
    );
    assert!(
        !format!("{login:?}").contains("argon2"),
        "Debug hides the hash"
    );
    assert_not_found(db.password_login(a, "nobody@example.com").await);
    // The same email in another account is another person, without this hash.
    let theirs = db
        .password_login(other.account, "ada@example.com")
        .await
        .unwrap();
    assert_eq!(
        (theirs.user.id, theirs.password_hash),
        (other.admin.id, None)
    );

    // API tokens: found by digest, only in their account, only for active users.
    let digest = "a".repeat(64);
    let token = db
        .create_api_token(a, fx.agent.id, &digest, "CI")
        .await
        .unwrap();
    assert_eq!(
        (token.account_id, token.user_id, token.description.as_str()),
        (a, fx.agent.id, "CI")
    );
    assert_eq!(db.user_for_api_token(a, &digest).await.unwrap(), fx.agent);
    assert_not_found(db.user_for_api_token(a, &"b".repeat(64)).await);
    assert_not_found(db.user_for_api_token(other.account, &digest).await);
    let dup = assert_conflict(db.create_api_token(a, fx.admin.id, &digest, "again").await);
    assert!(
        !dup.contains(&digest),
        "the digest never appears in errors: {dup}"
    );
    assert_not_found(
        db.create_api_token(a, other.agent.id, &"c".repeat(64), "foreign user")
            .await,
    );

    // Sessions: found by digest with their user; expired ones are not.
    let now = Utc::now();
    let session = Session {
        account_id: a,
        user_id: fx.agent.id,
        csrf_token: "csrf-123".into(),
        created_at: now,
        expires_at: now + Duration::hours(12),
    };
    let sid = "d".repeat(64);
    db.create_session(&sid, &session).await.unwrap();
    let (got, user) = db.get_session(&sid).await.unwrap();
    assert_eq!(user, fx.agent);
    assert_eq!(
        got,
        Session {
            created_at: now.trunc_subsecs(6),
            expires_at: (now + Duration::hours(12)).trunc_subsecs(6),
            ..session.clone()
        }
    );
    assert_not_found(db.get_session(&"e".repeat(64)).await);
    let expired_sid = "f".repeat(64);
    let expired = Session {
        expires_at: now - Duration::seconds(1),
        ..session.clone()
    };
    db.create_session(&expired_sid, &expired).await.unwrap();
    assert_not_found(db.get_session(&expired_sid).await);
    assert_eq!(db.purge_expired_sessions().await.unwrap(), 1);
    assert_eq!(db.purge_expired_sessions().await.unwrap(), 0);
    assert!(
        db.get_session(&sid).await.is_ok(),
        "live sessions survive the purge"
    );
    let foreign = Session {
        user_id: other.agent.id,
        ..session.clone()
    };
    assert_not_found(db.create_session(&"0".repeat(64), &foreign).await);

    // A deactivated user keeps neither token nor session access.
    db.update_user(
        a,
        fx.agent.id,
        &UserPatch {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_not_found(db.user_for_api_token(a, &digest).await);
    assert_not_found(db.get_session(&sid).await);
    let login = db.password_login(a, "bob@example.com").await.unwrap();
    assert!(
        !login.user.active,
        "password_login reports inactive users for the caller to refuse"
    );
    db.update_user(
        a,
        fx.agent.id,
        &UserPatch {
            active: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(db.get_session(&sid).await.is_ok());

    db.delete_session(&sid).await.unwrap();
    assert_not_found(db.get_session(&sid).await);
    db.delete_session(&sid).await.unwrap();
}

async fn organizations(db: Db) {
    let fx = fixture(&db, "acme").await;
    let other = fixture(&db, "globex").await;
    let a = fx.account;
    let new = NewOrganization {
        name: "Initech".into(),
        details: "Printers".into(),
        notes: "Difficult".into(),
        domain_names: vec!["initech.com".into(), "initech.org".into()],
        tags: vec!["vip".into()],
    };
    let org = db.create_organization(a, &new).await.unwrap();
    assert_eq!(
        (org.name.as_str(), org.domain_names.len(), org.tags.clone()),
        ("Initech", 2, vec!["vip".to_owned()])
    );
    assert_eq!(db.get_organization(a, org.id).await.unwrap(), org);
    assert_conflict(
        db.create_organization(
            a,
            &NewOrganization {
                name: "INITECH".into(),
                ..Default::default()
            },
        )
        .await,
    );
    db.create_organization(other.account, &new).await.unwrap();
    let globex = db
        .create_organization(
            a,
            &NewOrganization {
                name: "Globex 50%".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let names = |l: Listing<Organization>| l.items.into_iter().map(|o| o.name).collect::<Vec<_>>();
    assert_eq!(
        names(db.list_organizations(a, &[], ALL).await.unwrap()),
        ["Initech", "Globex 50%"]
    );
    assert_eq!(
        names(
            db.list_organizations(a, &["itec".into()], ALL)
                .await
                .unwrap()
        ),
        ["Initech"]
    );
    assert_eq!(
        names(
            db.list_organizations(a, &["50%".into()], ALL)
                .await
                .unwrap()
        ),
        ["Globex 50%"]
    );
    assert_eq!(
        db.list_organizations(a, &[], ALL).await.unwrap().total,
        Some(2)
    );
    let cursor = db
        .list_organizations(
            a,
            &[],
            Page::Cursor {
                after: None,
                limit: 1,
                descending: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(names(cursor.clone()), ["Globex 50%"]);
    assert!(cursor.has_more);

    let patch = OrganizationPatch {
        name: Some("Initech LLC".into()),
        details: Some("More printers".into()),
        notes: Some("".into()),
        domain_names: Some(vec![]),
        tags: Some(vec!["gold".into(), "vip".into()]),
    };
    let updated = db.update_organization(a, org.id, &patch).await.unwrap();
    assert_eq!(updated.name, "Initech LLC");
    assert_eq!(updated.domain_names, Vec::<String>::new());
    assert_eq!(updated.tags, ["gold", "vip"]);
    assert_eq!(db.get_organization(a, org.id).await.unwrap(), updated);
    assert_conflict(
        db.update_organization(
            a,
            globex.id,
            &OrganizationPatch {
                name: Some("initech llc".into()),
                ..Default::default()
            },
        )
        .await,
    );

    // Deleting an organization detaches its members and tickets.
    let mut member = new_user("Peter", "peter@initech.com", Role::EndUser);
    member.organization_id = Some(org.id);
    let peter = db.create_user(a, &member).await.unwrap();
    let mut nt = new_ticket("Printer on fire", peter.id);
    nt.organization_id = Some(org.id);
    let ticket = create(&db, a, nt).await;
    assert_not_found(db.delete_organization(other.account, org.id).await);
    db.delete_organization(a, org.id).await.unwrap();
    assert_not_found(db.get_organization(a, org.id).await);
    assert_eq!(
        db.get_user(a, peter.id).await.unwrap().organization_id,
        None
    );
    let after = db.get_ticket(a, ticket.id).await.unwrap();
    assert_eq!(after.organization_id, None);
    assert!(
        after.revision > ticket.revision,
        "a ticket that lost its organization changed"
    );
    assert_not_found(db.delete_organization(a, org.id).await);

    // Another account's organization is not there.
    assert_not_found(db.get_organization(other.account, globex.id).await);
    assert_not_found(
        db.update_organization(
            other.account,
            globex.id,
            &OrganizationPatch {
                name: Some("x".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert!(db
        .list_organizations(other.account, &[], ALL)
        .await
        .unwrap()
        .items
        .iter()
        .all(|o| o.account_id == other.account));
}

async fn groups(db: Db) {
    let fx = fixture(&db, "acme").await;
    let other = fixture(&db, "globex").await;
    let a = fx.account;
    let support = db
        .create_group(
            a,
            &NewGroup {
                name: "Support".into(),
                description: "First line".into(),
            },
        )
        .await
        .unwrap();
    let billing = db
        .create_group(
            a,
            &NewGroup {
                name: "Billing".into(),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(support.description, "First line");
    assert_eq!(db.get_group(a, support.id).await.unwrap(), support);
    assert_eq!(
        db.list_groups(a).await.unwrap(),
        vec![support.clone(), billing]
    );
    assert_conflict(
        db.create_group(
            a,
            &NewGroup {
                name: "support".into(),
                description: String::new(),
            },
        )
        .await,
    );
    let theirs = db
        .create_group(
            other.account,
            &NewGroup {
                name: "Support".into(),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    assert_not_found(db.get_group(a, theirs.id).await);
    assert_eq!(db.list_groups(other.account).await.unwrap(), vec![theirs]);
}

async fn system_fields(db: Db) {
    let fx = fixture(&db, "acme").await;
    db.ensure_system_fields(fx.account).await.unwrap();
    db.ensure_system_fields(fx.account).await.unwrap();
    let fields = db.list_ticket_fields(fx.account).await.unwrap();
    let titles: Vec<_> = fields.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Subject",
            "Description",
            "Status",
            "Priority",
            "Type",
            "Group",
            "Assignee"
        ]
    );
    assert!(fields
        .iter()
        .all(|f| f.field_type.is_system() && f.active && f.account_id == fx.account));
    assert_eq!(fields[4].field_type, FieldType::TicketType);
    // A second account gets its own.
    let other = db.create_account("globex", "Globex").await.unwrap();
    assert_eq!(db.list_ticket_fields(other.id).await.unwrap(), vec![]);
    db.ensure_system_fields(other.id).await.unwrap();
    let theirs = db.list_ticket_fields(other.id).await.unwrap();
    assert_eq!(theirs.len(), 7);
    assert!(theirs.iter().all(|f| !fields.iter().any(|g| g.id == f.id)));
}

fn dropdown(title: &str, position: i64, options: &[(&str, &str)]) -> NewTicketField {
    NewTicketField {
        field_type: FieldType::Tagger,
        title: title.into(),
        description: "Pick one".into(),
        active: true,
        required: false,
        position,
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

async fn custom_fields(db: Db) {
    let fx = fixture(&db, "acme").await;
    let other = fixture(&db, "globex").await;
    let a = fx.account;

    let plan = db
        .create_ticket_field(
            a,
            &dropdown(
                "Plan",
                100,
                &[
                    ("Free", "plan_free"),
                    ("Pro", "plan_pro"),
                    ("Team", "plan_team"),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!(plan.field_type, FieldType::Tagger);
    assert_eq!(
        plan.options
            .iter()
            .map(|o| o.value.as_str())
            .collect::<Vec<_>>(),
        ["plan_free", "plan_pro", "plan_team"]
    );
    let mut option_ids: Vec<_> = plan.options.iter().map(|o| o.id).collect();
    option_ids.dedup();
    assert_eq!(option_ids.len(), 3, "option ids are distinct");
    assert_eq!(db.get_ticket_field(a, plan.id).await.unwrap(), plan);

    let serial = db
        .create_ticket_field(
            a,
            &NewTicketField {
                field_type: FieldType::Text,
                title: "Serial".into(),
                description: String::new(),
                active: true,
                required: true,
                position: 50,
                options: vec![],
            },
        )
        .await
        .unwrap();
    let region = db
        .create_ticket_field(a, &dropdown("Region", 100, &[("EU", "eu"), ("US", "us")]))
        .await
        .unwrap();
    // Option ids are unique across fields too.
    assert!(region
        .options
        .iter()
        .all(|o| !plan.options.iter().any(|p| p.id == o.id)));

    // Ordered by position, then id.
    let titles: Vec<_> = db
        .list_ticket_fields(a)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.title)
        .collect();
    assert_eq!(&titles[7..], ["Serial", "Plan", "Region"]);

    // Editing options keeps the ids of surviving values.
    let patch = TicketFieldPatch {
        title: Some("Plan tier".into()),
        description: Some(String::new()),
        active: Some(false),
        required: Some(true),
        position: Some(10),
        options: Some(vec![
            ("Enterprise".into(), "plan_enterprise".into()),
            ("Professional".into(), "plan_pro".into()),
            ("Free".into(), "plan_free".into()),
        ]),
    };
    let edited = db.update_ticket_field(a, plan.id, &patch).await.unwrap();
    assert_eq!(
        (
            edited.title.as_str(),
            edited.active,
            edited.required,
            edited.position
        ),
        ("Plan tier", false, true, 10)
    );
    assert_eq!(edited.options.len(), 3);
    let by_value = |f: &TicketField, v: &str| f.options.iter().find(|o| o.value == v).cloned();
    assert_eq!(
        edited.options[0].value, "plan_enterprise",
        "options keep the given order"
    );
    assert_eq!(
        by_value(&edited, "plan_pro").unwrap().id,
        by_value(&plan, "plan_pro").unwrap().id
    );
    assert_eq!(by_value(&edited, "plan_pro").unwrap().name, "Professional");
    assert_eq!(
        by_value(&edited, "plan_free").unwrap().id,
        by_value(&plan, "plan_free").unwrap().id
    );
    assert!(by_value(&edited, "plan_team").is_none());
    let enterprise = by_value(&edited, "plan_enterprise").unwrap().id;
    assert!(
        !plan.options.iter().any(|o| o.id == enterprise),
        "a new value gets a new id"
    );
    assert_eq!(db.get_ticket_field(a, plan.id).await.unwrap(), edited);
    let untouched = db
        .update_ticket_field(
            a,
            plan.id,
            &TicketFieldPatch {
                title: Some("Plan".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        untouched.options, edited.options,
        "options are kept when the patch has none"
    );

    // Two options cannot share a value.
    assert_conflict(
        db.create_ticket_field(a, &dropdown("Bad", 1, &[("A", "x"), ("B", "x")]))
            .await,
    );
    assert_conflict(
        db.update_ticket_field(
            a,
            plan.id,
            &TicketFieldPatch {
                options: Some(vec![("A".into(), "x".into()), ("B".into(), "x".into())]),
                ..Default::default()
            },
        )
        .await,
    );

    // Deleting a field removes its values from tickets.
    let mut nt = new_ticket("Upgrade", fx.customer.id);
    nt.custom_fields = vec![
        CustomFieldValue {
            id: serial.id,
            value: json!("SN-1"),
        },
        CustomFieldValue {
            id: plan.id,
            value: json!("plan_pro"),
        },
    ];
    let ticket = create(&db, a, nt).await;
    assert_eq!(
        db.get_ticket(a, ticket.id)
            .await
            .unwrap()
            .custom_fields
            .len(),
        2
    );
    db.delete_ticket_field(a, serial.id).await.unwrap();
    assert_not_found(db.get_ticket_field(a, serial.id).await);
    let after = db.get_ticket(a, ticket.id).await.unwrap();
    assert_eq!(
        after.custom_fields,
        vec![CustomFieldValue {
            id: plan.id,
            value: json!("plan_pro")
        }]
    );
    assert!(after.revision > ticket.revision);
    assert_not_found(db.delete_ticket_field(a, serial.id).await);

    // Another account's fields are not there.
    assert_not_found(db.get_ticket_field(other.account, plan.id).await);
    assert_not_found(
        db.update_ticket_field(other.account, plan.id, &TicketFieldPatch::default())
            .await,
    );
    assert_not_found(db.delete_ticket_field(other.account, plan.id).await);
    assert!(db
        .list_ticket_fields(other.account)
        .await
        .unwrap()
        .iter()
        .all(|f| f.account_id == other.account));
    assert_eq!(db.get_ticket_field(a, plan.id).await.unwrap(), untouched);
}

async fn ticket_round_trip(db: Db) {
    let fx = fixture(&db, "acme").await;
    let a = fx.account;
    let group = db
        .create_group(
            a,
            &NewGroup {
                name: "Support".into(),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    let org = db
        .create_organization(
            a,
            &NewOrganization {
                name: "Initech".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let field = db
        .create_ticket_field(a, &dropdown("Plan", 1, &[("Pro", "plan_pro")]))
        .await
        .unwrap();
    let new = NewTicket {
        subject: "Printer on fire".into(),
        description: "It is on fire.".into(),
        status: TicketStatus::Open,
        priority: Some(TicketPriority::Urgent),
        ticket_type: Some(TicketType::Incident),
        requester_id: fx.customer.id,
        submitter_id: fx.agent.id,
        assignee_id: Some(fx.agent.id),
        group_id: Some(group.id),
        organization_id: Some(org.id),
        tags: vec!["fire".into(), "vip".into()],
        custom_fields: vec![CustomFieldValue {
            id: field.id,
            value: json!("plan_pro"),
        }],
    };
    let first = NewComment {
        author_id: fx.agent.id,
        public: false,
        body: "It is on fire.".into(),
        html_body: "<b>It is on fire.</b>".into(),
    };
    let events = vec![
        AuditEvent::Create {
            field_name: "subject".into(),
            value: json!("Printer on fire"),
        },
        AuditEvent::Create {
            field_name: "status".into(),
            value: json!("open"),
        },
    ];
    let before = Utc::now().trunc_subsecs(6);
    let ticket = db.create_ticket(a, &new, &first, &events).await.unwrap();
    assert_eq!(ticket.account_id, a);
    assert_eq!(ticket.subject, new.subject);
    assert_eq!(ticket.tags, new.tags);
    assert_eq!(ticket.custom_fields, new.custom_fields);
    assert_eq!(ticket.created_at, ticket.updated_at);
    assert!(ticket.created_at >= before);
    // What is read back is exactly what was returned, timestamps included.
    assert_eq!(db.get_ticket(a, ticket.id).await.unwrap(), ticket);
    assert_eq!(
        db.get_tickets(a, &[ticket.id, TicketId(ticket.id.0 + 1000)])
            .await
            .unwrap(),
        vec![ticket.clone()]
    );

    let comments = db.list_comments(a, ticket.id).await.unwrap();
    assert_eq!(comments.len(), 1);
    let c = &comments[0];
    assert_eq!(
        (c.ticket_id, c.author_id, c.public),
        (ticket.id, fx.agent.id, false)
    );
    assert_eq!(
        (c.body.as_str(), c.html_body.as_str()),
        ("It is on fire.", "<b>It is on fire.</b>")
    );
    assert_eq!(c.created_at, ticket.created_at);

    let audits = db.list_audits(a, ticket.id).await.unwrap();
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].author_id, fx.agent.id);
    assert_eq!(audits[0].created_at, ticket.created_at);
    let mut expected = events.clone();
    expected.push(AuditEvent::Comment {
        comment_id: c.id,
        public: false,
    });
    assert_eq!(audits[0].events, expected);

    // References must exist in the account.
    let other = fixture(&db, "globex").await;
    let mut foreign = new_ticket("Foreign assignee", fx.customer.id);
    foreign.assignee_id = Some(other.agent.id);
    assert_conflict(
        db.create_ticket(a, &foreign, &comment(fx.customer.id, "x"), &[])
            .await,
    );
    assert_eq!(
        db.list_tickets(a, &TicketFilter::default(), TicketSort::Id, false, ALL)
            .await
            .unwrap()
            .total,
        Some(1)
    );
}

async fn ticket_updates(db: Db) {
    let fx = fixture(&db, "acme").await;
    let a = fx.account;
    let ticket = create(&db, a, new_ticket("Printer", fx.customer.id)).await;

    let mut next = ticket.clone();
    next.status = TicketStatus::Open;
    next.assignee_id = Some(fx.agent.id);
    next.tags = vec!["printer".into()];
    let events = vec![
        change("status", json!("open"), json!("new")),
        change("assignee_id", json!(fx.agent.id), json!(null)),
        change("tags", json!(["printer"]), json!([])),
    ];
    let reply = NewComment {
        author_id: fx.agent.id,
        public: true,
        body: "On it".into(),
        html_body: "<p>On it</p>".into(),
    };
    let updated = db
        .update_ticket(
            a,
            TicketWrite {
                ticket: &next,
                author_id: fx.agent.id,
                events: &events,
                comment: Some(&reply),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.revision, ticket.revision + 1);
    assert!(updated.updated_at >= ticket.updated_at);
    assert_eq!(updated.created_at, ticket.created_at);
    assert_eq!(
        (updated.status, updated.assignee_id),
        (TicketStatus::Open, Some(fx.agent.id))
    );
    assert_eq!(db.get_ticket(a, ticket.id).await.unwrap(), updated);

    let comments = db.list_comments(a, ticket.id).await.unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[1].body, "On it");
    assert_eq!(comments[1].created_at, updated.updated_at);
    let audits = db.list_audits(a, ticket.id).await.unwrap();
    assert_eq!(audits.len(), 2);
    let mut expected = events.clone();
    expected.push(AuditEvent::Comment {
        comment_id: comments[1].id,
        public: true,
    });
    assert_eq!(audits[1].events, expected);
    assert_eq!(audits[1].author_id, fx.agent.id);
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_all: vec!["printer".into()],
                ..Default::default()
            }
        )
        .await,
        vec![ticket.id]
    );

    // An update computed from the old revision is refused and writes nothing.
    let mut stale = ticket.clone();
    stale.subject = "Stale".into();
    let refused = db
        .update_ticket(
            a,
            TicketWrite {
                ticket: &stale,
                author_id: fx.admin.id,
                events: &events,
                comment: Some(&reply),
            },
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::StaleRevision)),
        "{refused:?}"
    );
    assert_eq!(db.get_ticket(a, ticket.id).await.unwrap(), updated);
    assert_eq!(db.list_comments(a, ticket.id).await.unwrap().len(), 2);
    assert_eq!(db.list_audits(a, ticket.id).await.unwrap().len(), 2);

    // A comment alone is a change: new revision, one audit with the comment.
    let note = NewComment {
        author_id: fx.admin.id,
        public: false,
        body: "Internal".into(),
        html_body: String::new(),
    };
    let commented = db
        .update_ticket(
            a,
            TicketWrite {
                ticket: &updated,
                author_id: fx.admin.id,
                events: &[],
                comment: Some(&note),
            },
        )
        .await
        .unwrap();
    assert_eq!(commented.revision, updated.revision + 1);
    let audits = db.list_audits(a, ticket.id).await.unwrap();
    assert_eq!(audits.len(), 3);
    assert!(matches!(
        audits[2].events.as_slice(),
        [AuditEvent::Comment { public: false, .. }]
    ));

    // Tags removed by an update leave the tag index too.
    let mut untagged = commented.clone();
    untagged.tags = vec!["hardware".into()];
    let untagged = update(&db, a, &untagged, fx.agent.id).await;
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_all: vec!["printer".into()],
                ..Default::default()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_all: vec!["hardware".into()],
                ..Default::default()
            }
        )
        .await,
        vec![ticket.id]
    );
    assert_eq!(untagged.revision, commented.revision + 1);

    // Missing tickets and other accounts' tickets are NotFound, not stale.
    let other = fixture(&db, "globex").await;
    let mut missing = untagged.clone();
    missing.id = TicketId(untagged.id.0 + 1000);
    let r = db
        .update_ticket(
            a,
            TicketWrite {
                ticket: &missing,
                author_id: fx.agent.id,
                events: &events,
                comment: None,
            },
        )
        .await;
    assert_not_found(r);
    let r = db
        .update_ticket(
            other.account,
            TicketWrite {
                ticket: &untagged,
                author_id: other.agent.id,
                events: &events,
                comment: None,
            },
        )
        .await;
    assert_not_found(r);
}

async fn no_op_update_changes_nothing(db: Db) {
    let fx = fixture(&db, "acme").await;
    let a = fx.account;
    let ticket = create(&db, a, new_ticket("Quiet", fx.customer.id)).await;
    let same = db
        .update_ticket(
            a,
            TicketWrite {
                ticket: &ticket,
                author_id: fx.agent.id,
                events: &[],
                comment: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(same, ticket, "no revision bump, no new updated_at");
    assert_eq!(db.get_ticket(a, ticket.id).await.unwrap(), ticket);
    assert_eq!(
        db.list_audits(a, ticket.id).await.unwrap().len(),
        1,
        "no empty audit"
    );
}

/// A small helpdesk for the filter, sort and page tests.
struct Desk {
    fx: Fx,
    support: Group,
    initech: Organization,
    /// Ticket ids in creation order.
    t: Vec<TicketId>,
}

/// Subject, status, priority, type and tags of one desk ticket.
type Spec = (
    &'static str,
    TicketStatus,
    Option<TicketPriority>,
    Option<TicketType>,
    &'static [&'static str],
);

async fn desk(db: &Db) -> Desk {
    let fx = fixture(db, "acme").await;
    let a = fx.account;
    let support = db
        .create_group(
            a,
            &NewGroup {
                name: "Support".into(),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    let initech = db
        .create_organization(
            a,
            &NewOrganization {
                name: "Initech".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let specs: [Spec; 5] = [
        (
            "Printer jam",
            TicketStatus::New,
            None,
            None,
            &["printer", "vip"],
        ),
        (
            "billing question",
            TicketStatus::Open,
            Some(TicketPriority::Low),
            Some(TicketType::Question),
            &["billing"],
        ),
        (
            "Refund 100% please",
            TicketStatus::Pending,
            Some(TicketPriority::High),
            Some(TicketType::Task),
            &["billing", "vip"],
        ),
        (
            "App crash",
            TicketStatus::Solved,
            Some(TicketPriority::Urgent),
            Some(TicketType::Incident),
            &[],
        ),
        (
            "archive",
            TicketStatus::Closed,
            Some(TicketPriority::Normal),
            Some(TicketType::Problem),
            &["spam"],
        ),
    ];
    let mut t = Vec::new();
    for (i, (subject, status, priority, kind, tags)) in specs.into_iter().enumerate() {
        let mut nt = new_ticket(
            subject,
            if i % 2 == 0 {
                fx.customer.id
            } else {
                fx.admin.id
            },
        );
        nt.status = status;
        nt.priority = priority;
        nt.ticket_type = kind;
        nt.tags = tags.iter().map(|s| s.to_string()).collect();
        if i == 1 || i == 2 {
            nt.assignee_id = Some(fx.agent.id);
            nt.group_id = Some(support.id);
        }
        if i == 2 {
            nt.organization_id = Some(initech.id);
            nt.submitter_id = fx.agent.id;
        }
        t.push(create(db, a, nt).await.id);
    }
    Desk {
        fx,
        support,
        initech,
        t,
    }
}

async fn ticket_filters(db: Db) {
    let d = desk(&db).await;
    let a = d.fx.account;
    let t = &d.t;
    let f = TicketFilter::default;

    assert_eq!(ids(&db, a, f()).await, *t);
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                statuses: Some(vec![TicketStatus::New, TicketStatus::Pending]),
                ..f()
            }
        )
        .await,
        vec![t[0], t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                statuses: Some(vec![]),
                ..f()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                priorities: Some(vec![Some(TicketPriority::High), None]),
                ..f()
            }
        )
        .await,
        vec![t[0], t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                priorities: Some(vec![None]),
                ..f()
            }
        )
        .await,
        vec![t[0]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                priorities: Some(vec![Some(TicketPriority::Low)]),
                ..f()
            }
        )
        .await,
        vec![t[1]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                priorities: Some(vec![]),
                ..f()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                types: Some(vec![Some(TicketType::Incident), Some(TicketType::Task)]),
                ..f()
            }
        )
        .await,
        vec![t[2], t[3]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                types: Some(vec![None]),
                ..f()
            }
        )
        .await,
        vec![t[0]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_all: vec!["vip".into()],
                ..f()
            }
        )
        .await,
        vec![t[0], t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_all: vec!["vip".into(), "billing".into()],
                ..f()
            }
        )
        .await,
        vec![t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_all: vec!["VIP".into()],
                ..f()
            }
        )
        .await,
        vec![t[0], t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_none: vec!["vip".into(), "spam".into()],
                ..f()
            }
        )
        .await,
        vec![t[1], t[3]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_all: vec!["billing".into()],
                tags_none: vec!["vip".into()],
                ..f()
            }
        )
        .await,
        vec![t[1]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                ids: Some(vec![t[4], t[1], TicketId(0)]),
                ..f()
            }
        )
        .await,
        vec![t[1], t[4]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                ids: Some(vec![]),
                ..f()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                visible_to_requester: Some(d.fx.customer.id),
                ..f()
            }
        )
        .await,
        vec![t[0], t[2], t[4]]
    );

    // Groups and organizations by id, by name (any case) or none.
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                group: Some(NamedRef::Id(d.support.id)),
                ..f()
            }
        )
        .await,
        vec![t[1], t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                group: Some(NamedRef::Name("support".into())),
                ..f()
            }
        )
        .await,
        vec![t[1], t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                group: Some(NamedRef::Name("nobody".into())),
                ..f()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                group: Some(NamedRef::None),
                ..f()
            }
        )
        .await,
        vec![t[0], t[3], t[4]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                organization: Some(NamedRef::Id(d.initech.id)),
                ..f()
            }
        )
        .await,
        vec![t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                organization: Some(NamedRef::Name("INITECH".into())),
                ..f()
            }
        )
        .await,
        vec![t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                organization: Some(NamedRef::None),
                ..f()
            }
        )
        .await
        .len(),
        4
    );

    // Date bounds: inclusive after, exclusive before.
    let all = db.get_tickets(a, t).await.unwrap();
    let c2 = all[2].created_at;
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                created_after: Some(c2),
                ..f()
            }
        )
        .await,
        t[2..].to_vec()
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                created_before: Some(c2),
                ..f()
            }
        )
        .await,
        t[..2].to_vec()
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                created_after: Some(all[1].created_at),
                created_before: Some(all[3].created_at),
                ..f()
            }
        )
        .await,
        vec![t[1], t[2]]
    );
    let later = Utc::now() + Duration::days(1);
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                created_after: Some(later),
                ..f()
            }
        )
        .await,
        vec![]
    );
    // Touch ticket 0 so its updated_at is the newest.
    let touched = update(
        &db,
        a,
        &Ticket {
            subject: "Printer jam!".into(),
            ..all[0].clone()
        },
        d.fx.agent.id,
    )
    .await;
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                updated_after: Some(touched.updated_at),
                ..f()
            }
        )
        .await,
        vec![t[0]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                updated_before: Some(touched.updated_at),
                ..f()
            }
        )
        .await,
        t[1..].to_vec()
    );

    // Conditions combine.
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                statuses: Some(vec![TicketStatus::Open, TicketStatus::Pending]),
                tags_all: vec!["billing".into()],
                assignee: Some(UserRef::Id(d.fx.agent.id)),
                organization: Some(NamedRef::Id(d.initech.id)),
                ..f()
            }
        )
        .await,
        vec![t[2]]
    );
}

async fn ticket_text_and_people_filters(db: Db) {
    let d = desk(&db).await;
    let a = d.fx.account;
    let t = &d.t;
    let f = TicketFilter::default;
    let text = |words: &[&str]| TicketFilter {
        text: words.iter().map(|w| w.to_string()).collect(),
        ..f()
    };

    // Free text: subject, description or any comment, case-insensitively.
    assert_eq!(ids(&db, a, text(&["printer"])).await, vec![t[0]]);
    assert_eq!(ids(&db, a, text(&["BILLING"])).await, vec![t[1]]);
    assert_eq!(
        ids(&db, a, text(&["about app"])).await,
        vec![t[3]],
        "the description"
    );
    assert_eq!(
        ids(&db, a, text(&["100%"])).await,
        vec![t[2]],
        "wildcards match literally"
    );
    assert_eq!(ids(&db, a, text(&["_"])).await, vec![]);
    assert_eq!(
        ids(&db, a, text(&["printer", "crash"])).await,
        vec![],
        "every word must match"
    );
    let ticket = db.get_ticket(a, t[3]).await.unwrap();
    let reply = NewComment {
        author_id: d.fx.agent.id,
        public: true,
        body: "Try the FLUX capacitor".into(),
        html_body: String::new(),
    };
    db.update_ticket(
        a,
        TicketWrite {
            ticket: &ticket,
            author_id: d.fx.agent.id,
            events: &[],
            comment: Some(&reply),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        ids(&db, a, text(&["flux capacitor"])).await,
        vec![t[3]],
        "comment bodies"
    );

    // People by id, email (any case), name, or nobody.
    let customer = &d.fx.customer;
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Id(customer.id)),
                ..f()
            }
        )
        .await,
        vec![t[0], t[2], t[4]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Email("CARLA@example.org".into())),
                ..f()
            }
        )
        .await,
        vec![t[0], t[2], t[4]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Email("nobody@example.org".into())),
                ..f()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Name("carla customer".into())),
                ..f()
            }
        )
        .await,
        vec![t[0], t[2], t[4]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Name("carla".into())),
                ..f()
            }
        )
        .await
        .len(),
        3
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Name("customer".into())),
                ..f()
            }
        )
        .await
        .len(),
        3
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Name("arla".into())),
                ..f()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                assignee: Some(UserRef::None),
                ..f()
            }
        )
        .await,
        vec![t[0], t[3], t[4]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                assignee: Some(UserRef::Email("bob@example.com".into())),
                ..f()
            }
        )
        .await,
        vec![t[1], t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                submitter: Some(UserRef::Id(d.fx.agent.id)),
                ..f()
            }
        )
        .await,
        vec![t[2]]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::None),
                ..f()
            }
        )
        .await,
        vec![]
    );

    // A user of another account with the same email matches nothing here.
    let other = fixture(&db, "globex").await;
    let theirs = create(&db, other.account, new_ticket("Theirs", other.customer.id)).await;
    assert_eq!(
        ids(
            &db,
            other.account,
            TicketFilter {
                requester: Some(UserRef::Email("carla@example.org".into())),
                ..f()
            }
        )
        .await,
        vec![theirs.id]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Id(other.customer.id)),
                ..f()
            }
        )
        .await,
        vec![]
    );
}

async fn ticket_sorting(db: Db) {
    let d = desk(&db).await;
    let a = d.fx.account;
    let t = &d.t;
    let sorted = |sort: TicketSort, descending: bool| {
        let db = &db;
        async move {
            db.list_tickets(a, &TicketFilter::default(), sort, descending, ALL)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
        }
    };
    let rev = |v: &[TicketId]| v.iter().rev().copied().collect::<Vec<_>>();
    assert_eq!(sorted(TicketSort::Id, false).await, *t);
    assert_eq!(sorted(TicketSort::Id, true).await, rev(t));
    assert_eq!(sorted(TicketSort::CreatedAt, false).await, *t);
    // Statuses in Zendesk's order, not alphabetical: new, open, pending, hold, solved, closed.
    assert_eq!(sorted(TicketSort::Status, false).await, *t);
    assert_eq!(sorted(TicketSort::Status, true).await, rev(t));
    // Priorities low..urgent with no priority first.
    assert_eq!(
        sorted(TicketSort::Priority, false).await,
        vec![t[0], t[1], t[4], t[2], t[3]]
    );
    // Types in the domain's order (problem, incident, question, task), none first.
    assert_eq!(
        sorted(TicketSort::TicketType, false).await,
        vec![t[0], t[4], t[3], t[1], t[2]]
    );
    // Subjects case-insensitively.
    assert_eq!(
        sorted(TicketSort::Subject, false).await,
        vec![t[3], t[4], t[1], t[0], t[2]]
    );
    assert_eq!(
        sorted(TicketSort::Subject, true).await,
        vec![t[2], t[0], t[1], t[4], t[3]]
    );
    // Updated: the touched ticket moves last.
    let first = db.get_ticket(a, t[1]).await.unwrap();
    update(
        &db,
        a,
        &Ticket {
            subject: "Billing question".into(),
            ..first
        },
        d.fx.agent.id,
    )
    .await;
    assert_eq!(
        sorted(TicketSort::UpdatedAt, false).await,
        vec![t[0], t[2], t[3], t[4], t[1]]
    );
}

async fn ticket_pages(db: Db) {
    let d = desk(&db).await;
    let a = d.fx.account;
    let t = &d.t;
    let filter = TicketFilter::default();
    let ids_of = |l: &Listing<Ticket>| l.items.iter().map(|t| t.id).collect::<Vec<_>>();

    let page = db
        .list_tickets(
            a,
            &filter,
            TicketSort::Id,
            false,
            Page::Offset {
                offset: 1,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids_of(&page), vec![t[1], t[2]]);
    assert_eq!(page.total, Some(5));
    let page = db
        .list_tickets(
            a,
            &filter,
            TicketSort::Id,
            true,
            Page::Offset {
                offset: 4,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids_of(&page), vec![t[0]]);
    let page = db
        .list_tickets(
            a,
            &filter,
            TicketSort::Id,
            false,
            Page::Offset {
                offset: 10,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (0, Some(5)));
    let vip = TicketFilter {
        tags_all: vec!["vip".into()],
        ..Default::default()
    };
    let page = db
        .list_tickets(
            a,
            &vip,
            TicketSort::Id,
            false,
            Page::Offset {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (ids_of(&page), page.total),
        (vec![t[0]], Some(2)),
        "total counts with the same filter"
    );

    // Cursor pages walk ids both ways; the last page says nothing follows.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .list_tickets(
                a,
                &filter,
                TicketSort::Subject,
                false,
                Page::Cursor {
                    after,
                    limit: 2,
                    descending: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, None);
        seen.extend(ids_of(&page));
        if !page.has_more {
            break;
        }
        after = page.items.last().map(|t| t.id.0);
    }
    assert_eq!(seen, *t);
    let back = db
        .list_tickets(
            a,
            &filter,
            TicketSort::Id,
            true,
            Page::Cursor {
                after: Some(t[3].0),
                limit: 2,
                descending: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids_of(&back), vec![t[2], t[1]]);
    assert!(back.has_more);
    let exact = db
        .list_tickets(
            a,
            &filter,
            TicketSort::Id,
            false,
            Page::Cursor {
                after: None,
                limit: 5,
                descending: false,
            },
        )
        .await
        .unwrap();
    assert_eq!((exact.items.len(), exact.has_more), (5, false));
    let filtered = db
        .list_tickets(
            a,
            &vip,
            TicketSort::Id,
            false,
            Page::Cursor {
                after: Some(t[0].0),
                limit: 5,
                descending: false,
            },
        )
        .await
        .unwrap();
    assert_eq!((ids_of(&filtered), filtered.has_more), (vec![t[2]], false));
}

async fn cross_account_isolation(db: Db) {
    let mine = desk(&db).await;
    let a = mine.fx.account;
    let other = fixture(&db, "globex").await;
    let b = other.account;
    let group = db
        .create_group(
            b,
            &NewGroup {
                name: "Support".into(),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    let org = db
        .create_organization(
            b,
            &NewOrganization {
                name: "Initech".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let field = db
        .create_ticket_field(b, &dropdown("Plan", 1, &[("Pro", "pro")]))
        .await
        .unwrap();
    let mut nt = new_ticket("Their secret", other.customer.id);
    nt.tags = vec!["vip".into(), "theirs".into()];
    let theirs = create(&db, b, nt).await;

    // Every getter of account A answers NotFound for B's ids.
    assert_not_found(db.get_ticket(a, theirs.id).await);
    assert_not_found(db.list_comments(a, theirs.id).await);
    assert_not_found(db.list_audits(a, theirs.id).await);
    assert_not_found(db.delete_ticket(a, theirs.id).await);
    assert_not_found(db.get_user(a, other.customer.id).await);
    assert_not_found(db.get_group(a, group.id).await);
    assert_not_found(db.get_organization(a, org.id).await);
    assert_not_found(db.get_ticket_field(a, field.id).await);
    assert_eq!(db.get_tickets(a, &[theirs.id]).await.unwrap(), vec![]);
    assert_eq!(db.get_users(a, &[other.customer.id]).await.unwrap(), vec![]);
    let write = TicketWrite {
        ticket: &theirs,
        author_id: mine.fx.agent.id,
        events: &[change("subject", json!("x"), json!("y"))],
        comment: None,
    };
    assert_not_found(db.update_ticket(a, write).await);

    // Lists never show B's rows, whatever the filter.
    let everything = db
        .list_tickets(a, &TicketFilter::default(), TicketSort::Id, false, ALL)
        .await
        .unwrap();
    assert_eq!(everything.total, Some(5));
    assert!(everything.items.iter().all(|t| t.account_id == a));
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                ids: Some(vec![theirs.id]),
                ..Default::default()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                text: vec!["secret".into()],
                ..Default::default()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                tags_all: vec!["theirs".into()],
                ..Default::default()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                group: Some(NamedRef::Id(group.id)),
                ..Default::default()
            }
        )
        .await,
        vec![]
    );
    let cursor = db
        .list_tickets(
            a,
            &TicketFilter::default(),
            TicketSort::Id,
            false,
            Page::Cursor {
                after: None,
                limit: 100,
                descending: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(cursor.items.len(), 5);
    assert!(db
        .list_users(a, &UserFilter::default(), ALL)
        .await
        .unwrap()
        .items
        .iter()
        .all(|u| u.account_id == a));
    assert!(db
        .list_organizations(a, &[], ALL)
        .await
        .unwrap()
        .items
        .iter()
        .all(|o| o.account_id == a));
    assert!(db
        .list_groups(a)
        .await
        .unwrap()
        .iter()
        .all(|g| g.account_id == a));
    assert!(db
        .list_ticket_fields(a)
        .await
        .unwrap()
        .iter()
        .all(|f| f.account_id == a));
    assert!(db
        .ticket_tag_counts(a, 100)
        .await
        .unwrap()
        .iter()
        .all(|(tag, _)| tag != "theirs"));
    assert_eq!(db.count_users(b).await.unwrap(), 3);
    // B's ticket is untouched.
    assert_eq!(db.get_ticket(b, theirs.id).await.unwrap(), theirs);
}

async fn delete_ticket_cascades(db: Db) {
    let fx = fixture(&db, "acme").await;
    let a = fx.account;
    let mut nt = new_ticket("Doomed", fx.customer.id);
    nt.tags = vec!["doomed".into()];
    let doomed = create(&db, a, nt).await;
    let keep = create(&db, a, new_ticket("Kept", fx.customer.id)).await;
    let reply = comment(fx.agent.id, "bye");
    db.update_ticket(
        a,
        TicketWrite {
            ticket: &doomed,
            author_id: fx.agent.id,
            events: &[],
            comment: Some(&reply),
        },
    )
    .await
    .unwrap();

    db.delete_ticket(a, doomed.id).await.unwrap();
    assert_not_found(db.get_ticket(a, doomed.id).await);
    assert_not_found(db.list_comments(a, doomed.id).await);
    assert_not_found(db.list_audits(a, doomed.id).await);
    assert_not_found(db.delete_ticket(a, doomed.id).await);
    assert_eq!(db.ticket_tag_counts(a, 10).await.unwrap(), vec![]);
    assert_eq!(db.list_comments(a, keep.id).await.unwrap().len(), 1);
    // Ids are never reused, even the highest one after a delete.
    db.delete_ticket(a, keep.id).await.unwrap();
    let next = create(&db, a, new_ticket("Fresh", fx.customer.id)).await;
    assert!(next.id > keep.id, "{:?} reused", next.id);
}

async fn tag_counts(db: Db) {
    let fx = fixture(&db, "acme").await;
    let other = fixture(&db, "globex").await;
    let a = fx.account;
    for tags in [
        &["vip", "billing"][..],
        &["vip"],
        &["billing", "zebra"],
        &["vip", "alpha"],
    ] {
        let mut nt = new_ticket("Tagged", fx.customer.id);
        nt.tags = tags.iter().map(|s| s.to_string()).collect();
        create(&db, a, nt).await;
    }
    let mut nt = new_ticket("Theirs", other.customer.id);
    nt.tags = vec!["vip".into()];
    create(&db, other.account, nt).await;
    let counts = db.ticket_tag_counts(a, 10).await.unwrap();
    let expected: Vec<(String, u64)> = [("vip", 3), ("billing", 2), ("alpha", 1), ("zebra", 1)]
        .into_iter()
        .map(|(t, n)| (t.to_owned(), n))
        .collect();
    assert_eq!(counts, expected, "most used first, then by name");
    assert_eq!(
        db.ticket_tag_counts(a, 2).await.unwrap(),
        expected[..2].to_vec()
    );
    assert_eq!(
        db.ticket_tag_counts(other.account, 10).await.unwrap(),
        vec![("vip".to_owned(), 1)]
    );
}

async fn concurrent_updates(db: Db) {
    let fx = fixture(&db, "acme").await;
    let a = fx.account;
    let store = db.store.clone();
    let contested = create(&db, a, new_ticket("Contested", fx.customer.id)).await;
    let mut separate = Vec::new();
    for i in 0..8 {
        separate.push(create(&db, a, new_ticket(&format!("Separate {i}"), fx.customer.id)).await);
    }

    // Many writers on one ticket from the same revision: exactly one wins,
    // the others are told their revision is stale (never a lock error).
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let next = Ticket {
            subject: format!("Writer {i}"),
            ..contested.clone()
        };
        let author = fx.agent.id;
        tasks.push(tokio::spawn(async move {
            let events = [change("subject", json!(next.subject), json!("Contested"))];
            store
                .update_ticket(
                    a,
                    TicketWrite {
                        ticket: &next,
                        author_id: author,
                        events: &events,
                        comment: None,
                    },
                )
                .await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(t) => {
                won += 1;
                assert_eq!(t.revision, contested.revision + 1);
            }
            Err(StoreError::StaleRevision) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(db.list_audits(a, contested.id).await.unwrap().len(), 2);

    // Writers on different tickets, each retrying on its own ticket, all succeed.
    let mut tasks = Vec::new();
    for ticket in separate.clone() {
        let store = store.clone();
        let author = fx.agent.id;
        tasks.push(tokio::spawn(async move {
            let mut current = ticket;
            for round in 0..10 {
                let next = Ticket {
                    subject: format!("Round {round}"),
                    ..current.clone()
                };
                let events = [change(
                    "subject",
                    json!(next.subject),
                    json!(current.subject),
                )];
                current = store
                    .update_ticket(
                        a,
                        TicketWrite {
                            ticket: &next,
                            author_id: author,
                            events: &events,
                            comment: None,
                        },
                    )
                    .await
                    .expect("independent updates succeed");
            }
            current
        }));
    }
    for task in tasks {
        let t = task.await.unwrap();
        assert_eq!(t.revision, 11);
        assert_eq!(db.get_ticket(a, t.id).await.unwrap(), t);
    }
}

/// Case-insensitive matching folds every letter, not only ASCII, and the same
/// way on both engines; GLOB and LIKE wildcards in user text stay literal.
async fn case_insensitive_beyond_ascii(db: Db) {
    let fx = fixture(&db, "acme").await;
    let a = fx.account;
    let zoe = db
        .create_user(
            a,
            &new_user("Zoë Ångström", "zoe@example.com", Role::EndUser),
        )
        .await
        .unwrap();
    let org = db
        .create_organization(
            a,
            &NewOrganization {
                name: "École Normale".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let group = db
        .create_group(
            a,
            &NewGroup {
                name: "Équipe Ü".into(),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    let mut nt = new_ticket("Ärger mit der ÉCOLE [urgent] *now*?", zoe.id);
    nt.organization_id = Some(org.id);
    nt.group_id = Some(group.id);
    let t = create(&db, a, nt).await;
    let plain = create(&db, a, new_ticket("Plain ascii", fx.customer.id)).await;
    let text = |w: &str| TicketFilter {
        text: vec![w.to_owned()],
        ..Default::default()
    };

    assert_eq!(ids(&db, a, text("ärger")).await, vec![t.id]);
    assert_eq!(ids(&db, a, text("école")).await, vec![t.id]);
    assert_eq!(
        ids(&db, a, text("[urgent]")).await,
        vec![t.id],
        "brackets are literal"
    );
    assert_eq!(
        ids(&db, a, text("*now*?")).await,
        vec![t.id],
        "GLOB wildcards are literal"
    );
    assert_eq!(ids(&db, a, text("[u]")).await, vec![]);
    assert_eq!(ids(&db, a, text("*")).await, vec![t.id]);
    assert_eq!(ids(&db, a, text("?")).await, vec![t.id]);
    assert_eq!(ids(&db, a, text("%")).await, vec![]);
    assert_eq!(ids(&db, a, text("ascii")).await, vec![plain.id]);
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Name("zoë".into())),
                ..Default::default()
            }
        )
        .await,
        vec![t.id]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                requester: Some(UserRef::Name("ångström".into())),
                ..Default::default()
            }
        )
        .await,
        vec![t.id]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                organization: Some(NamedRef::Name("école normale".into())),
                ..Default::default()
            }
        )
        .await,
        vec![t.id]
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                organization: Some(NamedRef::Name("école".into())),
                ..Default::default()
            }
        )
        .await,
        vec![],
        "organization names match whole"
    );
    assert_eq!(
        ids(
            &db,
            a,
            TicketFilter {
                group: Some(NamedRef::Name("équipe ü".into())),
                ..Default::default()
            }
        )
        .await,
        vec![t.id]
    );
    let users = db
        .list_users(
            a,
            &UserFilter {
                text: vec!["ångst".into()],
                ..Default::default()
            },
            ALL,
        )
        .await
        .unwrap();
    assert_eq!(
        users.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![zoe.id]
    );
    let orgs = db
        .list_organizations(a, &["ÉCOLE".to_lowercase()], ALL)
        .await
        .unwrap();
    assert_eq!(
        orgs.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![org.id]
    );
}

/// Two stores on the same database, as when `zaffre user create` runs next to
/// the server: their writes interleave without lock errors (on SQLite they
/// wait on each other through busy_timeout and `BEGIN IMMEDIATE`).
async fn two_stores_on_one_database(db: Db) {
    let fx = fixture(&db, "acme").await;
    let a = fx.account;
    let second = connect(&db.url).await.unwrap();
    let mut tasks = Vec::new();
    for (n, store) in [db.store.clone(), second.clone()].into_iter().enumerate() {
        let requester = fx.customer.id;
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let t = NewTicket {
                    tags: vec![format!("store{n}")],
                    ..new_ticket(&format!("From {n}: {i}"), requester)
                };
                let first = comment(requester, "hello");
                let created = store
                    .create_ticket(a, &t, &first, &[])
                    .await
                    .expect("create");
                let next = Ticket {
                    subject: format!("Edited {n}: {i}"),
                    ..created.clone()
                };
                let events = [change(
                    "subject",
                    json!(next.subject),
                    json!(created.subject),
                )];
                store
                    .update_ticket(
                        a,
                        TicketWrite {
                            ticket: &next,
                            author_id: requester,
                            events: &events,
                            comment: None,
                        },
                    )
                    .await
                    .expect("update");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let counts = second.ticket_tag_counts(a, 10).await.unwrap();
    assert_eq!(
        counts,
        vec![("store0".to_owned(), 25), ("store1".to_owned(), 25)]
    );
    let all = db
        .list_tickets(a, &TicketFilter::default(), TicketSort::Id, false, ALL)
        .await
        .unwrap();
    assert_eq!(all.total, Some(50));
    assert!(all
        .items
        .iter()
        .all(|t| t.revision == 2 && t.subject.starts_with("Edited")));
}

// ---------------------------------------------------------------- URLs (no database needed)

#[test]
fn schemeless_urls_are_refused_with_what_is_accepted() {
    for url in [
        "zaffre.db",
        "/var/lib/zaffre/zaffre.db",
        "localhost:5432/zaffre",
    ] {
        let err = DatabaseUrl::parse(url).unwrap_err();
        assert!(matches!(err, StoreError::BadUrl(_)), "{url}: {err:?}");
        let text = err.to_string();
        assert!(
            text.contains("sqlite://") && text.contains("postgres://"),
            "{url}: {text}"
        );
    }
}

#[test]
fn unknown_schemes_are_refused() {
    let text = DatabaseUrl::parse("mysql://root@localhost/zaffre")
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("mysql") && text.contains("sqlite://"),
        "{text}"
    );
}

#[test]
fn engines_come_from_the_scheme() {
    assert_eq!(
        DatabaseUrl::parse("sqlite://data/z.db").unwrap().engine(),
        Engine::Sqlite
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite:z.db").unwrap().engine(),
        Engine::Sqlite
    );
    assert_eq!(
        DatabaseUrl::parse("postgres://u@h/db").unwrap().engine(),
        Engine::Postgres
    );
    assert_eq!(
        DatabaseUrl::parse("postgresql://u@h/db").unwrap().engine(),
        Engine::Postgres
    );
    assert_eq!(Engine::Sqlite.to_string(), "sqlite");
    assert_eq!(Engine::Postgres.to_string(), "postgres");
}

#[test]
fn postgres_passwords_never_show() {
    let url = DatabaseUrl::parse("postgres://zaffre:s3cr3t@db.internal:5432/zaffre").unwrap();
    assert!(!format!("{url} {url:?}").contains("s3cr3t"));
    let err =
        DatabaseUrl::parse("postgres://zaffre:s3cr3t@db.internal:notaport/zaffre").unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cr3t"), "{err}");
}

#[tokio::test]
async fn sqlite_file_in_a_missing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("zaffre.db");
    let Err(err) = connect(&format!("sqlite://{}", missing.display())).await else {
        panic!("opened a database in a missing directory")
    };
    assert!(matches!(err, StoreError::BadUrl(_)), "{err:?}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!missing.parent().unwrap().exists(), "nothing was created");
    // In an existing directory the file is created.
    let fine = dir.path().join("zaffre.db");
    connect(&format!("sqlite:{}", fine.display()))
        .await
        .unwrap();
    assert!(fine.exists());
}

#[tokio::test]
async fn unreachable_postgres_is_an_error() {
    // Port 1 on loopback: nothing listens there.
    let result = connect("postgres://zaffre:pw@127.0.0.1:1/zaffre").await;
    match result {
        Err(StoreError::Database(e)) => assert!(!e.to_string().contains(":pw@")),
        Err(other) => panic!("expected a database error, got {other:?}"),
        Ok(_) => panic!("connected to nothing"),
    }
}

#[tokio::test]
async fn sqlite_databases_use_wal() {
    use sqlx::{Connection, SqliteConnection};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zaffre.db");
    let store = connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.ping().await.unwrap();
    // The journal mode is a property of the file, visible to any connection.
    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}
