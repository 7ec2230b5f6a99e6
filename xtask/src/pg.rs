//! PostgreSQL chores shared by `test` and `bench`: reading a connection URL's
//! host, port and database, checking the server answers, starting this
//! machine's cluster when it is down, and making or dropping a throw-away
//! database with `psql`.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::proc;

/// The parts of a `postgres://` URL that xtask needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// Everything up to the end of the authority: `postgres://user@host:port`.
    prefix: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    /// The query string with its `?`, or empty.
    query: String,
}

impl PgUrl {
    /// Parses `postgres://[user[:password]@]host[:port][/database][?query]`.
    /// Deliberately small: only what a test or bench URL uses.
    pub fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .with_context(|| {
                format!(
                    "{:?} is not a postgres:// URL",
                    redact(url).unwrap_or_else(|| "<url>".into())
                )
            })?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (path, query) = match tail.find('?') {
            Some(q) => tail.split_at(q),
            None => (tail, ""),
        };
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .context("unclosed '[' in the PostgreSQL URL's host")?;
            (host, after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        let port = match port {
            Some(port) if !port.is_empty() => port
                .parse()
                .with_context(|| format!("bad port {port:?} in the PostgreSQL URL"))?,
            _ => 5432,
        };
        let host = if host.is_empty() { "localhost" } else { host };
        Ok(Self {
            prefix: format!(
                "{}{}",
                &url[..url.len() - rest.len()],
                &rest[..authority_end]
            ),
            host: host.to_owned(),
            port,
            database: path.trim_start_matches('/').to_owned(),
            query: query.to_owned(),
        })
    }

    /// The same server, another database.
    pub fn with_database(&self, database: &str) -> String {
        format!("{}/{database}{}", self.prefix, self.query)
    }

    pub fn is_local(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1")
    }

    /// Whether something accepts TCP connections at the URL's host and port.
    pub fn reachable(&self) -> bool {
        let Ok(addrs) = (self.host.as_str(), self.port).to_socket_addrs() else {
            return false;
        };
        addrs
            .into_iter()
            .any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_ok())
    }
}

/// The URL with any password replaced, for messages.
pub fn redact(url: &str) -> Option<String> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            Some(format!(
                "{}{user}:***@{host}{}",
                &url[..scheme_end],
                &rest[authority_end..]
            ))
        }
        _ => Some(url.to_owned()),
    }
}

/// Makes sure the server behind `url` answers, starting this machine's
/// cluster(s) with `pg_ctlcluster` when it is local, down, and we are root.
pub fn ensure_running(url: &str) -> Result<()> {
    let shown = redact(url).unwrap_or_default();
    let pg = PgUrl::parse(url)?;
    if pg.reachable() {
        println!(
            "ok: PostgreSQL answers at {}:{} ({shown})",
            pg.host, pg.port
        );
        return Ok(());
    }
    if !pg.is_local() {
        bail!(
            "PostgreSQL at {}:{} ({shown}) does not answer; start it or change ZAFFRE_TEST_POSTGRES_URL",
            pg.host,
            pg.port
        );
    }
    if !proc::is_root() {
        bail!(
            "PostgreSQL at {}:{} does not answer and we are not root, so it cannot be started here: \
             start it (e.g. `sudo pg_ctlcluster <version> main start`) or unset ZAFFRE_TEST_POSTGRES_URL",
            pg.host,
            pg.port
        );
    }
    println!(
        "PostgreSQL at {}:{} does not answer; starting the local cluster",
        pg.host, pg.port
    );
    let versions = std::fs::read_dir("/etc/postgresql")
        .context("PostgreSQL is down and /etc/postgresql is missing: is the postgresql package installed?")?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("main").is_dir())
        .map(|entry| entry.file_name())
        .collect::<Vec<_>>();
    if versions.is_empty() {
        bail!("PostgreSQL is down and /etc/postgresql holds no `main` cluster to start");
    }
    for version in versions {
        proc::run(
            Command::new("pg_ctlcluster")
                .arg("--skip-systemctl-redirect")
                .arg(&version)
                .args(["main", "start"]),
        )
        .context("starting the PostgreSQL cluster")?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if pg.reachable() {
            println!("ok: PostgreSQL answers at {}:{}", pg.host, pg.port);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!(
        "started the PostgreSQL cluster, but {}:{} still does not answer after 30 s",
        pg.host,
        pg.port
    )
}

fn psql(url: &str, sql: &str) -> Command {
    let mut cmd = Command::new("psql");
    cmd.args([
        "--no-psqlrc",
        "--quiet",
        "-v",
        "ON_ERROR_STOP=1",
        "-tAc",
        sql,
    ])
    .arg(url)
    // psql would otherwise wait for a password on a terminal that CI lacks.
    .arg("--no-password");
    cmd
}

/// Creates database `name` on the server of `url` and returns its URL.
pub fn create_database(url: &str, name: &str) -> Result<String> {
    if proc::find_on_path("psql").is_none() && !Path::new("/usr/bin/psql").exists() {
        bail!("psql is needed to create the benchmark database; install postgresql-client");
    }
    let pg = PgUrl::parse(url)?;
    proc::output(&mut psql(url, &format!("CREATE DATABASE {name}")))
        .with_context(|| format!("creating database {name}"))?;
    Ok(pg.with_database(name))
}

/// Drops database `name` (closing any sessions still connected to it).
pub fn drop_database(url: &str, name: &str) -> Result<()> {
    proc::output(&mut psql(
        url,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    ))
    .with_context(|| format!("dropping database {name}"))?;
    Ok(())
}

/// The server's version, for the benchmark record.
pub fn server_version(url: &str) -> Option<String> {
    proc::output(&mut psql(url, "SHOW server_version")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed() {
        let pg = PgUrl::parse("postgres://postgres@127.0.0.1:5432/test").unwrap();
        assert_eq!(
            (pg.host.as_str(), pg.port, pg.database.as_str()),
            ("127.0.0.1", 5432, "test")
        );
        assert!(pg.is_local());
        assert_eq!(
            pg.with_database("zaffre_bench_1"),
            "postgres://postgres@127.0.0.1:5432/zaffre_bench_1"
        );

        let pg = PgUrl::parse("postgresql://u:p@db.example:6000/app?sslmode=disable").unwrap();
        assert_eq!((pg.host.as_str(), pg.port), ("db.example", 6000));
        assert_eq!(
            pg.with_database("other"),
            "postgresql://u:p@db.example:6000/other?sslmode=disable"
        );
        assert!(!pg.is_local());

        let pg = PgUrl::parse("postgres://[::1]/x").unwrap();
        assert_eq!((pg.host.as_str(), pg.port), ("::1", 5432));

        let pg = PgUrl::parse("postgres://localhost").unwrap();
        assert_eq!(pg.database, "");
        assert_eq!(pg.with_database("d"), "postgres://localhost/d");

        assert!(PgUrl::parse("mysql://x").is_err());
        assert!(PgUrl::parse("postgres://h:notaport/x").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:1/db").as_deref(),
            Some("postgres://u:***@h:1/db")
        );
        assert_eq!(
            redact("postgres://u@h/db").as_deref(),
            Some("postgres://u@h/db")
        );
    }
}
