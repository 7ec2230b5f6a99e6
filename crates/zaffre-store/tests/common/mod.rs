//! The engine harness of the store's group tests (`apps.rs`, `audit.rs`):
//! SQLite always, PostgreSQL when `ZAFFRE_TEST_POSTGRES_URL` is set, on a
//! database created for the test and dropped after it. If the variable is
//! set but PostgreSQL cannot be reached the test fails rather than quietly
//! proving nothing about that engine. (`conformance.rs` has its own harness,
//! one generated test per engine.)

use std::future::Future;

use zaffre_store::{connect, DynStore};

const POSTGRES_ENV: &str = "ZAFFRE_TEST_POSTGRES_URL";

/// Runs `test` on a fresh SQLite file, then on a fresh PostgreSQL database
/// (named `<db_prefix>_<random>`) when configured.
pub async fn on_each_engine<F, Fut>(db_prefix: &str, test: F)
where
    F: Fn(DynStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("zaffre.db").display());
    test(connect(&url).await.expect("open SQLite")).await;

    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        eprintln!("{POSTGRES_ENV} is not set: PostgreSQL not run");
        return;
    };
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable: {e}"));
    let name = format!("{db_prefix}_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let mut url = url::Url::parse(&base).expect("url");
    url.set_path(&name);
    let store = connect(url.as_str()).await.expect("open PostgreSQL");
    test(store.clone()).await;
    drop(store);
    let _ = admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await;
}
