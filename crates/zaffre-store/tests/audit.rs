//! Conformance of the proxy audit log storage ([`AuditStore`]) on both
//! engines: SQLite always, PostgreSQL when `ZAFFRE_TEST_POSTGRES_URL` is set
//! (on a database created for the test and dropped after it).

use chrono::{Duration, Utc};
use zaffre_domain::*;
use zaffre_store::*;

mod common;

fn call(
    installation: i64,
    host: &str,
    status: Option<u16>,
    refusal: Option<&str>,
) -> NewProxyAudit {
    NewProxyAudit {
        installation_id: InstallationId(installation),
        app_id: AppId(installation * 10),
        user_id: UserId(7),
        method: "POST".into(),
        scheme: "https".into(),
        host: host.into(),
        port: 443,
        path: "/v1/things".into(),
        status,
        duration_ms: 12,
        request_bytes: 34,
        response_bytes: u64::from(u32::MAX) + 5,
        secure_settings_used: vec!["api_token".into(), "other".into()],
        refusal: refusal.map(str::to_owned),
        retries: 2,
    }
}

async fn list(
    store: &DynStore,
    account: AccountId,
    filter: &ProxyAuditFilter,
) -> Vec<ProxyAuditEntry> {
    store
        .list_proxy_audit(account, filter, None, 100)
        .await
        .expect("list")
        .items
}

fn ids(entries: &[ProxyAuditEntry]) -> Vec<ProxyAuditId> {
    entries.iter().map(|e| e.id).collect()
}

#[tokio::test]
async fn a_recorded_call_reads_back_exactly() {
    common::on_each_engine("zaffre_audit", |store| async move {
        let account = store.create_account("acme", "Acme").await.unwrap().id;
        let before = Utc::now() - Duration::seconds(1);
        let mut given = call(1, "API.Example.com", Some(201), None);
        let written = store.record_proxy_call(account, &given).await.unwrap();
        // Hosts are kept in lower case, as the filter compares them.
        given.host = "api.example.com".into();
        assert_eq!(written.call, given);
        assert_eq!(written.account_id, account);
        assert!(written.created_at >= before && written.created_at <= Utc::now());
        let read = list(&store, account, &ProxyAuditFilter::default()).await;
        assert_eq!(read, vec![written]);
    })
    .await;
}

#[tokio::test]
async fn rows_are_scoped_by_account() {
    common::on_each_engine("zaffre_audit", |store| async move {
        let acme = store.create_account("acme", "Acme").await.unwrap().id;
        let other = store.create_account("other", "Other").await.unwrap().id;
        store
            .record_proxy_call(acme, &call(1, "a.test", Some(200), None))
            .await
            .unwrap();
        let theirs = store
            .record_proxy_call(other, &call(1, "a.test", Some(200), None))
            .await
            .unwrap();
        let seen = list(&store, other, &ProxyAuditFilter::default()).await;
        assert_eq!(ids(&seen), vec![theirs.id]);
        let filtered = list(
            &store,
            other,
            &ProxyAuditFilter {
                installation_id: Some(InstallationId(1)),
                ..ProxyAuditFilter::default()
            },
        )
        .await;
        assert_eq!(ids(&filtered), vec![theirs.id]);
    })
    .await;
}

#[tokio::test]
async fn every_filter_narrows_the_list() {
    common::on_each_engine("zaffre_audit", |store| async move {
        let account = store.create_account("acme", "Acme").await.unwrap().id;
        let ok = store
            .record_proxy_call(account, &call(1, "a.test", Some(200), None))
            .await
            .unwrap();
        let not_found = store
            .record_proxy_call(account, &call(2, "b.test", Some(404), None))
            .await
            .unwrap();
        let refused = store
            .record_proxy_call(
                account,
                &call(1, "10.0.0.1", Some(403), Some("private address")),
            )
            .await
            .unwrap();
        let mut by_other_user = call(2, "a.test", Some(200), None);
        by_other_user.user_id = UserId(8);
        let other_user = store
            .record_proxy_call(account, &by_other_user)
            .await
            .unwrap();

        let cases: Vec<(ProxyAuditFilter, Vec<ProxyAuditId>)> = vec![
            (
                ProxyAuditFilter::default(),
                vec![other_user.id, refused.id, not_found.id, ok.id],
            ),
            (
                ProxyAuditFilter {
                    installation_id: Some(InstallationId(1)),
                    ..Default::default()
                },
                vec![refused.id, ok.id],
            ),
            (
                ProxyAuditFilter {
                    app_id: Some(AppId(20)),
                    ..Default::default()
                },
                vec![other_user.id, not_found.id],
            ),
            (
                ProxyAuditFilter {
                    user_id: Some(UserId(8)),
                    ..Default::default()
                },
                vec![other_user.id],
            ),
            (
                ProxyAuditFilter {
                    status: Some(404),
                    ..Default::default()
                },
                vec![not_found.id],
            ),
            (
                ProxyAuditFilter {
                    refused: Some(true),
                    ..Default::default()
                },
                vec![refused.id],
            ),
            (
                ProxyAuditFilter {
                    refused: Some(false),
                    ..Default::default()
                },
                vec![other_user.id, not_found.id, ok.id],
            ),
            (
                ProxyAuditFilter {
                    host: Some("A.TEST".into()),
                    ..Default::default()
                },
                vec![other_user.id, ok.id],
            ),
            (
                ProxyAuditFilter {
                    host: Some("a.test".into()),
                    installation_id: Some(InstallationId(2)),
                    ..Default::default()
                },
                vec![other_user.id],
            ),
            (
                ProxyAuditFilter {
                    since: Some(Utc::now() + Duration::hours(1)),
                    ..Default::default()
                },
                vec![],
            ),
            (
                ProxyAuditFilter {
                    until: Some(Utc::now() - Duration::hours(1)),
                    ..Default::default()
                },
                vec![],
            ),
            (
                ProxyAuditFilter {
                    since: Some(Utc::now() - Duration::hours(1)),
                    until: Some(Utc::now() + Duration::hours(1)),
                    ..Default::default()
                },
                vec![other_user.id, refused.id, not_found.id, ok.id],
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                ids(&list(&store, account, &filter).await),
                expected,
                "{filter:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn since_is_inclusive_and_until_exclusive_at_the_row_time() {
    common::on_each_engine("zaffre_audit", |store| async move {
        let account = store.create_account("acme", "Acme").await.unwrap().id;
        let row = store
            .record_proxy_call(account, &call(1, "a.test", Some(200), None))
            .await
            .unwrap();
        let at = row.created_at;
        let since = ProxyAuditFilter {
            since: Some(at),
            ..Default::default()
        };
        assert_eq!(ids(&list(&store, account, &since).await), vec![row.id]);
        let until = ProxyAuditFilter {
            until: Some(at),
            ..Default::default()
        };
        assert!(list(&store, account, &until).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn pages_go_from_newest_to_oldest_without_gaps() {
    common::on_each_engine("zaffre_audit", |store| async move {
        let account = store.create_account("acme", "Acme").await.unwrap().id;
        let mut written = Vec::new();
        for i in 0..5 {
            let row = store
                .record_proxy_call(account, &call(1, &format!("h{i}.test"), Some(200), None))
                .await
                .unwrap();
            written.push(row.id);
        }
        written.reverse();
        let filter = ProxyAuditFilter::default();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store
                .list_proxy_audit(account, &filter, before, 2)
                .await
                .unwrap();
            assert!(page.items.len() <= 2);
            seen.extend(ids(&page.items));
            if !page.has_more {
                break;
            }
            before = page.items.last().map(|e| e.id);
        }
        assert_eq!(seen, written);
        let empty = store
            .list_proxy_audit(account, &filter, Some(written[4]), 2)
            .await
            .unwrap();
        assert!(empty.items.is_empty() && !empty.has_more);
    })
    .await;
}

#[tokio::test]
async fn a_refusal_without_a_status_and_with_no_settings_round_trips() {
    common::on_each_engine("zaffre_audit", |store| async move {
        let account = store.create_account("acme", "Acme").await.unwrap().id;
        let mut given = call(3, "", None, Some("the URL could not be parsed"));
        given.secure_settings_used.clear();
        given.port = 0;
        given.response_bytes = 0;
        let row = store.record_proxy_call(account, &given).await.unwrap();
        assert_eq!(row.call, given);
        let refused = list(
            &store,
            account,
            &ProxyAuditFilter {
                refused: Some(true),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(ids(&refused), vec![row.id]);
    })
    .await;
}

#[tokio::test]
async fn a_batch_is_written_whole_in_order_and_per_account() {
    common::on_each_engine("zaffre_audit", |store| async move {
        let acme = store.create_account("acme", "Acme").await.unwrap().id;
        let other = store.create_account("other", "Other").await.unwrap().id;
        store.record_proxy_calls(&[]).await.unwrap();
        let mut refused = call(2, "b.test", Some(403), Some("forbidden_target: no"));
        refused.secure_settings_used.clear();
        let batch = vec![
            (acme, call(1, "A.test", Some(200), None)),
            (other, call(1, "theirs.test", Some(200), None)),
            (acme, refused.clone()),
        ];
        store.record_proxy_calls(&batch).await.unwrap();
        let mine = list(&store, acme, &ProxyAuditFilter::default()).await;
        let mut first = batch[0].1.clone();
        first.host = "a.test".into();
        // Newest first: the refusal, then the first row.
        assert_eq!(
            mine.iter().map(|e| e.call.clone()).collect::<Vec<_>>(),
            vec![refused, first]
        );
        assert!(mine.iter().all(|e| e.account_id == acme));
        let theirs = list(&store, other, &ProxyAuditFilter::default()).await;
        assert_eq!(theirs.len(), 1);
        assert_eq!(theirs[0].call.host, "theirs.test");

        // More rows than one statement takes: several statements, one transaction, order kept.
        let many: Vec<_> = (0..BATCH_ROWS * 2 + 7)
            .map(|i| (other, call(9, &format!("h{i}.test"), Some(200), None)))
            .collect();
        store.record_proxy_calls(&many).await.unwrap();
        let nine = ProxyAuditFilter {
            installation_id: Some(InstallationId(9)),
            ..Default::default()
        };
        let mut hosts = Vec::new();
        let mut before = None;
        loop {
            let page = store
                .list_proxy_audit(other, &nine, before, 100)
                .await
                .unwrap();
            hosts.extend(page.items.iter().map(|e| e.call.host.clone()));
            if !page.has_more {
                break;
            }
            before = page.items.last().map(|e| e.id);
        }
        hosts.reverse();
        let expected: Vec<String> = (0..BATCH_ROWS * 2 + 7)
            .map(|i| format!("h{i}.test"))
            .collect();
        assert_eq!(hosts, expected);
    })
    .await;
}
