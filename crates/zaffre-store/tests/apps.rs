//! Conformance of the apps storage ([`AppStore`]) on both engines: SQLite
//! always, PostgreSQL when `ZAFFRE_TEST_POSTGRES_URL` is set (on a database
//! created for the test and dropped after it), as in `conformance.rs`.

use serde_json::{json, Map, Value};
use zaffre_domain::apps::*;
use zaffre_domain::*;
use zaffre_store::*;

mod common;

fn new_app(name: &str, single_install: bool, files: &[(&str, &[u8])]) -> NewApp {
    NewApp {
        name: name.into(),
        short_description: "short".into(),
        version: Some("1.0".into()),
        author_name: Some("A".into()),
        author_email: Some("a@example.com".into()),
        author_url: None,
        manifest: r#"{"name": "x"}"#.into(),
        private: true,
        single_install,
        files: files
            .iter()
            .map(|(p, b)| ((*p).to_owned(), b.to_vec()))
            .collect(),
    }
}

fn settings(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn sealed(name: &str, bytes: &[u8]) -> SealedSecret {
    SealedSecret {
        name: name.into(),
        key_id: "k1".into(),
        nonce: vec![7; 24],
        ciphertext: bytes.to_vec(),
    }
}

fn assert_not_found<T: std::fmt::Debug>(r: StoreResult<T>) {
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
}

async fn accounts(store: &DynStore) -> (AccountId, AccountId) {
    let a = store.create_account("one", "One").await.unwrap().id;
    let b = store.create_account("two", "Two").await.unwrap().id;
    store.ensure_system_fields(a).await.unwrap();
    (a, b)
}

#[tokio::test]
async fn uploads_apps_and_files() {
    common::on_each_engine("zaffre_apps", |store: DynStore| async move {
        let (a, b) = accounts(&store).await;
        let up = store.create_upload(a, b"PK\x03\x04zip").await.unwrap();
        assert_eq!(store.get_upload(a, up).await.unwrap(), b"PK\x03\x04zip");
        assert_not_found(store.get_upload(b, up).await);
        assert_not_found(store.delete_upload(b, up).await);
        store.delete_upload(a, up).await.unwrap();
        assert_not_found(store.get_upload(a, up).await);

        let app = store
            .create_app(
                a,
                &new_app(
                    "First",
                    false,
                    &[
                        ("manifest.json", b"{}"),
                        ("assets/iframe.html", b"<p>hi</p>"),
                    ],
                ),
            )
            .await
            .unwrap();
        assert_eq!(app.name, "First");
        assert_eq!(app.version.as_deref(), Some("1.0"));
        assert_eq!(store.get_app(a, app.id).await.unwrap(), app);
        assert_eq!(store.list_apps(a).await.unwrap(), vec![app.clone()]);
        assert_eq!(
            store
                .get_app_file(a, app.id, "assets/iframe.html")
                .await
                .unwrap(),
            b"<p>hi</p>"
        );
        assert_eq!(
            store.list_app_files(a, app.id).await.unwrap(),
            vec![
                ("assets/iframe.html".to_owned(), 9),
                ("manifest.json".to_owned(), 2)
            ]
        );
        // Another account sees nothing.
        assert_not_found(store.get_app(b, app.id).await);
        assert_not_found(store.get_app_file(b, app.id, "assets/iframe.html").await);
        assert!(store.list_apps(b).await.unwrap().is_empty());
        assert!(store.list_app_files(b, app.id).await.unwrap().is_empty());
        assert_not_found(store.update_app(b, app.id, &new_app("X", false, &[])).await);
        assert_not_found(store.delete_app(b, app.id).await);

        // A new version replaces the files.
        let v2 = store
            .update_app(
                a,
                app.id,
                &new_app("First v2", true, &[("manifest.json", b"{\"v\":2}")]),
            )
            .await
            .unwrap();
        assert_eq!((v2.name.as_str(), v2.single_install), ("First v2", true));
        assert!(v2.updated_at >= app.updated_at);
        assert_not_found(store.get_app_file(a, app.id, "assets/iframe.html").await);
        assert_eq!(
            store
                .get_app_file(a, app.id, "manifest.json")
                .await
                .unwrap(),
            b"{\"v\":2}"
        );

        store.delete_app(a, app.id).await.unwrap();
        assert_not_found(store.get_app(a, app.id).await);
        assert_not_found(store.get_app_file(a, app.id, "manifest.json").await);

        // Jobs.
        let job = store
            .create_job_status(a, JobState::Completed, "done", Some(app.id), Some(up))
            .await
            .unwrap();
        assert_eq!(store.get_job_status(a, job.id).await.unwrap(), job);
        assert_eq!(job.status, JobState::Completed);
        assert_not_found(store.get_job_status(b, job.id).await);
    })
    .await;
}

#[tokio::test]
async fn installations_secrets_and_requirements() {
    common::on_each_engine("zaffre_apps", |store: DynStore| async move {
        let (a, b) = accounts(&store).await;
        let app = store
            .create_app(a, &new_app("App", false, &[("manifest.json", b"{}")]))
            .await
            .unwrap();
        let fields_before = store.list_ticket_fields(a).await.unwrap().len();
        let required = vec![RequiredTicketField {
            identifier: "level".into(),
            field: NewTicketField {
                field_type: FieldType::Tagger,
                title: "Level".into(),
                description: String::new(),
                active: true,
                required: false,
                position: 0,
                options: vec![
                    ("Gold".into(), "gold".into()),
                    ("Silver".into(), "silver".into()),
                ],
            },
        }];
        let new = NewInstallation {
            app_id: app.id,
            enabled: true,
            settings: settings(json!({"name": "Mine", "title": "Mine", "subdomain": "acme"})),
            single_install: false,
        };
        let seen_id = std::sync::Mutex::new(None);
        let inst = store
            .create_installation(a, &new, &required, &|id| {
                *seen_id.lock().unwrap() = Some(id);
                Ok(vec![sealed("token", b"ciphertext-1")])
            })
            .await
            .unwrap();
        assert_eq!(
            *seen_id.lock().unwrap(),
            Some(inst.id),
            "sealed for its own id"
        );
        assert_eq!(inst.settings["subdomain"], "acme");
        assert_eq!(inst.secrets_set, vec!["token".to_owned()]);
        assert_eq!(store.get_installation(a, inst.id).await.unwrap(), inst);
        assert_eq!(
            store.list_installations(a, None).await.unwrap(),
            vec![inst.clone()]
        );
        assert_eq!(
            store
                .list_installations(a, Some(app.id))
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.get_installation_secrets(a, inst.id).await.unwrap(),
            vec![sealed("token", b"ciphertext-1")]
        );
        // The requirement's ticket field exists, with its options, and is recorded.
        let fields = store.list_ticket_fields(a).await.unwrap();
        assert_eq!(fields.len(), fields_before + 1);
        let reqs = store
            .list_installation_requirements(a, inst.id)
            .await
            .unwrap();
        assert_eq!(reqs.len(), 1);
        assert_eq!(
            (
                reqs[0].identifier.as_str(),
                reqs[0].requirement_type.as_str()
            ),
            ("level", "ticket_fields")
        );
        let field = store
            .get_ticket_field(a, TicketFieldId(reqs[0].requirement_id))
            .await
            .unwrap();
        assert_eq!(field.title, "Level");
        assert_eq!(field.options.len(), 2);

        // Another account.
        assert_not_found(store.get_installation(b, inst.id).await);
        assert!(store.list_installations(b, None).await.unwrap().is_empty());
        assert!(store
            .get_installation_secrets(b, inst.id)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .list_installation_requirements(b, inst.id)
            .await
            .unwrap()
            .is_empty());
        assert_not_found(
            store
                .update_installation(b, inst.id, &InstallationPatch::default())
                .await,
        );
        assert_not_found(store.delete_installation(b, inst.id).await);
        let foreign = NewInstallation {
            app_id: app.id,
            ..new.clone()
        };
        assert_not_found(
            store
                .create_installation(b, &foreign, &[], &|_| Ok(vec![]))
                .await,
        );

        // Updates: settings, enabled, replace one secret, add one, clear one.
        let updated = store
            .update_installation(
                a,
                inst.id,
                &InstallationPatch {
                    enabled: Some(false),
                    settings: Some(settings(
                        json!({"name": "Mine", "title": "Mine", "subdomain": "beta"}),
                    )),
                    secrets: vec![sealed("token", b"ciphertext-2"), sealed("other", b"c3")],
                    clear_secrets: vec![],
                },
            )
            .await
            .unwrap();
        assert!(!updated.enabled);
        assert_eq!(updated.settings["subdomain"], "beta");
        assert_eq!(
            updated.secrets_set,
            vec!["other".to_owned(), "token".to_owned()]
        );
        assert_eq!(
            store.get_installation_secrets(a, inst.id).await.unwrap(),
            vec![sealed("other", b"c3"), sealed("token", b"ciphertext-2")]
        );
        let cleared = store
            .update_installation(
                a,
                inst.id,
                &InstallationPatch {
                    clear_secrets: vec!["other".into()],
                    ..InstallationPatch::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(cleared.secrets_set, vec!["token".to_owned()]);
        assert_eq!(
            cleared.settings, updated.settings,
            "settings unchanged when not given"
        );

        // A failing sealer writes nothing.
        let before = store.list_installations(a, None).await.unwrap().len();
        let fields_now = store.list_ticket_fields(a).await.unwrap().len();
        let r = store
            .create_installation(a, &new, &required, &|_| {
                Err(StoreError::Conflict("no".into()))
            })
            .await;
        assert!(matches!(r, Err(StoreError::Conflict(_))));
        assert_eq!(
            store.list_installations(a, None).await.unwrap().len(),
            before
        );
        assert_eq!(store.list_ticket_fields(a).await.unwrap().len(), fields_now);

        // singleInstall: the second one is refused.
        let once = store
            .create_app(a, &new_app("Once", true, &[]))
            .await
            .unwrap();
        let single = NewInstallation {
            app_id: once.id,
            single_install: true,
            ..new.clone()
        };
        store
            .create_installation(a, &single, &[], &|_| Ok(vec![]))
            .await
            .unwrap();
        assert!(matches!(
            store
                .create_installation(a, &single, &[], &|_| Ok(vec![]))
                .await,
            Err(StoreError::Conflict(_))
        ));

        // Deleting an installation takes its secrets and records (not the field: the server does that).
        store.delete_installation(a, inst.id).await.unwrap();
        assert_not_found(store.get_installation(a, inst.id).await);
        assert!(store
            .get_installation_secrets(a, inst.id)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .list_installation_requirements(a, inst.id)
            .await
            .unwrap()
            .is_empty());
        // Deleting an app takes its installations.
        store.delete_app(a, once.id).await.unwrap();
        assert!(store
            .list_installations(a, Some(once.id))
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}
