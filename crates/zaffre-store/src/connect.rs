//! Choosing and opening a database from its URL.
//!
//! The engine is picked at run time from the URL scheme, so one binary serves
//! both a laptop (`sqlite://zaffre.db`, the default) and a larger install
//! (`postgres://…`). Anything else is refused with a message naming what is
//! accepted: guessing would risk writing data somewhere nobody looks.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection;

use crate::sql::{PgStore, SqliteStore};
use crate::{DynStore, StoreError, StoreResult};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        })
    }
}

/// What `--database-url` accepts, quoted in every refusal.
const ACCEPTED: &str =
    "expected sqlite://<path> (or sqlite:<path>) or postgres://user:password@host:port/database";

/// A parsed database URL.
///
/// `Debug` and `Display` never show a Postgres password, so the URL can be
/// logged as it is.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, kept verbatim for the driver.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses and checks a URL without touching the database.
    pub fn parse(url: &str) -> StoreResult<Self> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(StoreError::BadUrl(format!(
                "the database URL {:?} has no scheme; {ACCEPTED}",
                redact(url)
            )));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                // `sqlite:///abs/path` and `sqlite://rel/path` both strip the
                // two slashes; `sqlite:path` is accepted as sqlx spells it.
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(StoreError::BadUrl(format!(
                        "the database URL {url:?} names no file; {ACCEPTED}"
                    )));
                }
                if path == ":memory:" || path.starts_with(":memory:") {
                    // Every pooled connection would get its own empty database.
                    return Err(StoreError::BadUrl(
                        "in-memory SQLite databases are not supported; use a file (sqlite://<path>)".into(),
                    ));
                }
                if path.contains('?') {
                    // sqlx-style `?mode=…` options would otherwise become part
                    // of the file name; zaffre sets the options itself.
                    return Err(StoreError::BadUrl(format!(
                        "the database URL {url:?} has query parameters, which SQLite URLs do not take; {ACCEPTED}"
                    )));
                }
                Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => {
                // Let the driver validate the rest now rather than at first use.
                PgConnectOptions::from_str(url).map_err(|e| {
                    StoreError::BadUrl(format!(
                        "the PostgreSQL URL {:?} is not valid ({e}); {ACCEPTED}",
                        redact(url)
                    ))
                })?;
                Ok(DatabaseUrl::Postgres(url.to_owned()))
            }
            _ if scheme.contains('/') || scheme.contains('\\') || scheme.is_empty() => {
                // A colon later in a bare path (`./data:1/x.db`), not a scheme.
                Err(StoreError::BadUrl(format!(
                    "the database URL {:?} has no scheme; {ACCEPTED}",
                    redact(url)
                )))
            }
            other => Err(StoreError::BadUrl(format!(
                "unsupported database scheme {other:?}; {ACCEPTED}"
            ))),
        }
    }

    /// The engine this URL selects.
    pub fn engine(&self) -> Engine {
        match self {
            DatabaseUrl::Sqlite(_) => Engine::Sqlite,
            DatabaseUrl::Postgres(_) => Engine::Postgres,
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;
    fn from_str(s: &str) -> StoreResult<Self> {
        DatabaseUrl::parse(s)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The URL with any password replaced by `***`, for messages and logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Setting a password only fails for URLs that cannot have one.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        // Unparseable: still hide whatever sits between `:` and `@`.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                let userinfo = &url[start + 3..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => format!("{}{user}:***{}", &url[..start + 3], &url[at..]),
                    None => url.to_owned(),
                }
            }
            _ => url.to_owned(),
        },
    }
}

/// Opens the database named by `url`, applies pending migrations and returns the store.
pub async fn connect(url: &str) -> StoreResult<DynStore> {
    let parsed = DatabaseUrl::parse(url)?;
    tracing::info!(database = %parsed, "opening database");
    Ok(match parsed {
        DatabaseUrl::Sqlite(path) => {
            let store = open_sqlite(&path).await?;
            store.migrate().await?;
            Arc::new(store)
        }
        DatabaseUrl::Postgres(url) => {
            let store = open_postgres(&url).await?;
            store.migrate().await?;
            Arc::new(store)
        }
    })
}

/// Applies pending migrations and closes the database again (`zaffre db migrate`).
pub async fn migrate(url: &str) -> StoreResult<()> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => {
            let store = open_sqlite(&path).await?;
            store.migrate().await?;
            store.close().await;
        }
        DatabaseUrl::Postgres(url) => {
            let store = open_postgres(&url).await?;
            store.migrate().await?;
            store.close().await;
        }
    }
    Ok(())
}

/// How long a SQLite connection waits for a lock held by another process
/// (the CLI writing while the server runs) before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

async fn open_sqlite(path: &Path) -> StoreResult<SqliteStore> {
    // Create the file only inside a directory that exists: a typo in a
    // directory name must fail loudly, not start an empty helpdesk elsewhere.
    if !path.exists() {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(StoreError::BadUrl(format!(
                "cannot create the SQLite database {}: the directory {} does not exist",
                path.display(),
                parent.display()
            )));
        }
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        // WAL lets readers proceed while the one writer commits; NORMAL sync is
        // durable across application crashes and only risks the last
        // transactions on power loss, the usual trade-off for WAL.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);

    // SQLite allows one writer at a time. Funnelling every write transaction
    // through a single connection queues writers in the pool (a cheap async
    // wait) instead of letting them collide on the file lock, where they
    // would sleep in the busy handler or fail with SQLITE_BUSY. Reads get
    // their own pool and run in parallel thanks to WAL.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        // sqlx pings a connection on acquire by default. A SQLite connection
        // is a local file handle that cannot drop like a socket, and each ping
        // is one more round trip to the connection's worker thread (futex
        // wake-ups and context switches): on the single writer it lengthened
        // every write transaction. sqlx still pings on release.
        .test_before_acquire(false)
        // The writer is never recycled: while it is open the WAL and shared
        // memory files exist, which the read-only connections below rely on.
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.clone())
        .await?;
    let readers = std::thread::available_parallelism()
        .map_or(4, |n| n.get() as u32 * 2)
        .max(4);
    let reader = SqlitePoolOptions::new()
        .max_connections(readers)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        // Read-only, so a write sent to the wrong pool fails loudly instead
        // of contending with the writer for the lock.
        .connect_with(options.read_only(true))
        .await?;
    Ok(SqliteStore::new(reader, writer))
}

/// How long a PostgreSQL connection may sit idle in the pool before it is
/// pinged again on its next use.
const PG_IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

async fn open_postgres(url: &str) -> StoreResult<PgStore> {
    let options = PgConnectOptions::from_str(url)?;
    // One plain connection first: the pool would keep retrying an unreachable
    // server until its acquire timeout, while this fails at once with the
    // driver's own reason (refused, unknown database, bad password).
    PgConnection::connect_with(&options).await?.close().await?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        // sqlx pings every connection on acquire by default: a network round
        // trip before each query. It already pings on release, so only a
        // connection idle for a while (the server may have closed it since)
        // is checked before use.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PG_IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await?;
    Ok(PgStore::new(pool.clone(), pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_spellings() {
        for (url, path) in [
            ("sqlite://data/zaffre.db", "data/zaffre.db"),
            ("sqlite:///tmp/z.db", "/tmp/z.db"),
            ("sqlite:z.db", "z.db"),
        ] {
            assert_eq!(
                DatabaseUrl::parse(url).unwrap(),
                DatabaseUrl::Sqlite(path.into())
            );
        }
    }

    #[test]
    fn refuses_unknown_and_schemeless() {
        for url in [
            "zaffre.db",
            "/var/lib/zaffre.db",
            "mysql://x/y",
            "",
            "./a:b/c.db",
        ] {
            let err = DatabaseUrl::parse(url).unwrap_err().to_string();
            assert!(err.contains("sqlite://"), "{url}: {err}");
        }
    }

    #[test]
    fn redacts_postgres_passwords() {
        let url = DatabaseUrl::parse("postgres://zaffre:hunter2@db:5432/zaffre").unwrap();
        assert_eq!(url.engine(), Engine::Postgres);
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("zaffre:***@db"), "{shown}");
        }
    }
}
