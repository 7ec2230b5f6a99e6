//! The integration test harness: a real zaffre server on a loopback port, over
//! a fresh database, with a cast of users in two accounts.
//!
//! Every test gets its own database: a temp-file SQLite always, and a fresh
//! PostgreSQL database too when `ZAFFRE_TEST_POSTGRES_URL` is set (CI sets
//! it), via [`for_each_engine`]. Requests go over real HTTP with reqwest.

#![allow(dead_code)] // Each test file uses a different part of the harness.

use std::future::Future;

use reqwest::header::HOST;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use zaffre_domain::{AccountId, NewUser, Role, User};
use zaffre_server::{auth, AppState, Config};
use zaffre_store::DynStore;

/// One person the tests act as.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub token: String,
    pub password: String,
    /// The Host header that addresses their account.
    pub host: String,
}

/// A running server and its cast.
pub struct TestApp {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub store: DynStore,
    pub account: AccountId,
    pub other_account: AccountId,
    pub admin: Actor,
    pub agent: Actor,
    pub end_user: Actor,
    /// A second end-user of the same account.
    pub other_end_user: Actor,
    /// An admin of another account.
    pub foreign_admin: Actor,
    pub engine: &'static str,
    /// The database the server uses (tests that inspect its storage read it).
    pub database_url: String,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Runs `test` against a fresh app on SQLite, then on PostgreSQL when configured.
pub async fn for_each_engine<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    test(TestApp::sqlite(|_| {}).await).await;
    if std::env::var("ZAFFRE_TEST_POSTGRES_URL").is_ok() {
        test(TestApp::postgres(|_| {}).await).await;
    }
}

impl TestApp {
    /// An app on a temp-file SQLite database; `tweak` adjusts the configuration.
    pub async fn sqlite(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("zaffre.db").display());
        Self::start(url, dir, None, "sqlite", tweak, None).await
    }

    /// Like [`TestApp::sqlite`] with the app proxy's resolver and extra
    /// trusted roots injected; on PostgreSQL too when `postgres` is set.
    pub async fn with_proxy(
        postgres: bool,
        tweak: impl FnOnce(&mut Config),
        setup: zaffre_server::api::proxy::ProxySetup,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        if postgres {
            let base = std::env::var("ZAFFRE_TEST_POSTGRES_URL").expect("ZAFFRE_TEST_POSTGRES_URL");
            let pg = PgDatabase::create(&base).await;
            let url = pg.url.clone();
            return Self::start(url, dir, Some(pg), "postgres", tweak, Some(setup)).await;
        }
        let url = format!("sqlite://{}", dir.path().join("zaffre.db").display());
        Self::start(url, dir, None, "sqlite", tweak, Some(setup)).await
    }

    /// An app on a fresh PostgreSQL database; panics when the server is unreachable.
    pub async fn postgres(tweak: impl FnOnce(&mut Config)) -> Self {
        let base = std::env::var("ZAFFRE_TEST_POSTGRES_URL").expect("ZAFFRE_TEST_POSTGRES_URL");
        let pg = PgDatabase::create(&base).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let url = pg.url.clone();
        Self::start(url, dir, Some(pg), "postgres", tweak, None).await
    }

    async fn start(
        url: String,
        dir: tempfile::TempDir,
        pg: Option<PgDatabase>,
        engine: &'static str,
        tweak: impl FnOnce(&mut Config),
        proxy: Option<zaffre_server::api::proxy::ProxySetup>,
    ) -> Self {
        let store = zaffre_store::connect(&url).await.expect("connect");
        let database_url = url.clone();
        let account = store
            .create_account("support", "Support")
            .await
            .expect("account");
        let other = store
            .create_account("other", "Other")
            .await
            .expect("other account");
        store
            .ensure_system_fields(account.id)
            .await
            .expect("fields");
        store.ensure_system_fields(other.id).await.expect("fields");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let host = format!("127.0.0.1:{}", addr.port());
        let other_host = format!("other.localhost:{}", addr.port());
        let admin = actor(&store, account.id, "admin@example.com", Role::Admin, &host).await;
        let agent = actor(&store, account.id, "agent@example.com", Role::Agent, &host).await;
        let end_user = actor(&store, account.id, "ann@example.com", Role::EndUser, &host).await;
        let other_end_user =
            actor(&store, account.id, "bob@example.com", Role::EndUser, &host).await;
        let foreign_admin = actor(
            &store,
            other.id,
            "admin@other.example",
            Role::Admin,
            &other_host,
        )
        .await;

        let mut config = Config {
            rate_limit_per_minute: 0,
            ..Config::default()
        };
        tweak(&mut config);
        let state = match proxy {
            Some(setup) => AppState::with_proxy_setup(store.clone(), config, setup)
                .expect("the app proxy builds"),
            None => AppState::new(store.clone(), config).expect("the app proxy builds"),
        };
        let stop = CancellationToken::new();
        let signal = stop.clone();
        tokio::spawn(async move {
            let _ = zaffre_server::serve(listener, state, async move { signal.cancelled().await })
                .await;
        });
        TestApp {
            base: format!("http://{host}"),
            addr,
            client: reqwest::Client::builder().build().expect("client"),
            store,
            account: account.id,
            other_account: other.id,
            admin,
            agent,
            end_user,
            other_end_user,
            foreign_admin,
            engine,
            database_url,
            stop,
            _dir: dir,
            _pg: pg,
        }
    }

    /// A request as `who`, authenticated with their API token.
    pub fn request(&self, who: &Actor, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header(HOST, &who.host)
            .basic_auth(format!("{}/token", who.user.email), Some(&who.token))
    }

    /// An unauthenticated request.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// GET as `who`; returns status and JSON body (`Null` when the body is not JSON).
    pub async fn get(&self, who: &Actor, path: &str) -> (u16, Value) {
        send(self.request(who, Method::GET, path)).await
    }

    /// A write as `who` with a JSON body.
    pub async fn write(
        &self,
        who: &Actor,
        method: Method,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        send(self.request(who, method, path).json(body)).await
    }
}

/// Sends a request and decodes the answer.
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let response: Response = request.send().await.expect("request failed to send");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn actor(store: &DynStore, account: AccountId, email: &str, role: Role, host: &str) -> Actor {
    let password = format!("pw-{email}-secret");
    let user = store
        .create_user(
            account,
            &NewUser {
                name: email.split('@').next().unwrap_or("someone").to_owned(),
                email: email.to_owned(),
                role,
                organization_id: None,
                time_zone: "UTC".into(),
                locale: "en-US".into(),
                password_hash: Some(auth::hash_password(&password).expect("hash")),
            },
        )
        .await
        .expect("create user");
    let token = auth::random_token();
    store
        .create_api_token(account, user.id, &auth::sha256_hex(&token), "test")
        .await
        .expect("token");
    Actor {
        user,
        token,
        password,
        host: host.to_owned(),
    }
}

/// A throwaway PostgreSQL database, dropped (best effort) with the test.
struct PgDatabase {
    url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    async fn create(base: &str) -> Self {
        use sqlx::Connection;
        let name = format!("zaffre_api_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(base)
            .await
            .expect("PostgreSQL is not reachable at ZAFFRE_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let mut url = url::Url::parse(base).expect("postgres url");
        url.set_path(&name);
        PgDatabase {
            url: url.to_string(),
            admin_url: base.to_owned(),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Dropping needs async I/O; a short-lived thread keeps Drop synchronous.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}
