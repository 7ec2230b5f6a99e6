//! `cargo xtask bench api`: ticket reads and updates through the REST API of a
//! release build, on SQLite and (when a URL is given) PostgreSQL.
//!
//! For each engine it starts `zaffre serve --demo` on a fresh data directory
//! (and, for PostgreSQL, a fresh database), gets an API token from
//! `zaffre token create`, and measures with [`crate::loadgen`]:
//!
//! 1. `GET /api/v2/tickets/{id}.json`, closed loop: the maximum throughput;
//! 2. the same, open loop at half that rate: the latency to quote;
//! 3. `PUT /api/v2/tickets/{id}.json`, closed loop: update throughput.
//!
//! A benchmark, not a test: nothing here passes or fails on the figures, but a
//! run with any failed request says so loudly and exits non-zero.
//!
//! The load generator must not be a debug build (it would eat the CPU the
//! server needs), so a debug xtask builds its release self and hands over.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use clap::{Args, ValueEnum};
use hyper::Method;

use crate::loadgen::{self, Mode, Plan, Report, Target, Workload};
use crate::{pg, proc, record};

const ADMIN_EMAIL: &str = "bench@example.com";
/// Demo seeding and migrations run before the server listens.
const START_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Seconds measured per scenario, after the warm-up.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before each measurement starts.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Persistent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Storage engines to measure. `both` measures PostgreSQL only when
    /// ZAFFRE_BENCH_POSTGRES_URL or ZAFFRE_TEST_POSTGRES_URL is set.
    #[arg(long, value_enum, default_value_t = EngineChoice::Both)]
    engine: EngineChoice,
    /// Load generator threads; the server has the rest of the machine.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Write the figures and the machine's facts to docs/benchmarks.md.
    #[arg(long)]
    record: bool,
    /// Measure this zaffre binary instead of building target/release/zaffre
    /// (to compare two builds, say).
    #[arg(long, value_name = "PATH")]
    server_bin: Option<PathBuf>,
    /// Use the release binaries as they are (set when a debug xtask hands over).
    #[arg(long, hide = true)]
    prebuilt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

/// Everything measured on one engine.
#[derive(Debug)]
pub struct EngineResult {
    pub engine: Engine,
    pub reads_max: Report,
    pub reads_open: Report,
    pub open_rate: f64,
    pub writes: Report,
    pub tickets_updated: usize,
    /// How the load authenticated: "API token" or the slow password fallback.
    pub auth: &'static str,
    pub server_version: Option<String>,
    /// /proc/loadavg's 1-minute figure just before measuring: anything well
    /// above 0 means something else was using the CPU the server needed.
    pub load_before: Option<f64>,
}

impl EngineResult {
    fn errors(&self) -> u64 {
        self.reads_max.error_count() + self.reads_open.error_count() + self.writes.error_count()
    }
}

/// The settings a run used, for the record.
#[derive(Debug, Clone)]
pub struct Settings {
    pub duration: Duration,
    pub warmup: Duration,
    pub connections: usize,
    pub threads: usize,
    /// The zaffre binary measured, when it is not this checkout's release build.
    pub server_bin: Option<PathBuf>,
}

pub fn run_api(args: &ApiArgs) -> Result<()> {
    if args.duration == 0 || args.connections == 0 || args.threads == 0 {
        bail!("--duration, --connections and --threads must be at least 1");
    }
    let root = proc::workspace_root();
    let Some(zaffre) = release_programs(args.prebuilt, args.server_bin.as_deref(), true)? else {
        // A release build of ourselves ran the benchmark and printed its results or error.
        return Ok(());
    };

    let pg_url = ["ZAFFRE_BENCH_POSTGRES_URL", "ZAFFRE_TEST_POSTGRES_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
    let mut engines = Vec::new();
    if args.engine != EngineChoice::Postgres {
        engines.push(Engine::Sqlite);
    }
    if args.engine != EngineChoice::Sqlite {
        if pg_url.is_some() {
            engines.push(Engine::Postgres);
        } else if args.engine == EngineChoice::Postgres {
            bail!("--engine postgres needs ZAFFRE_BENCH_POSTGRES_URL or ZAFFRE_TEST_POSTGRES_URL");
        } else {
            println!(
                "note: PostgreSQL is not measured: set ZAFFRE_BENCH_POSTGRES_URL or \
                 ZAFFRE_TEST_POSTGRES_URL to a server where a database may be created"
            );
        }
    }

    let settings = Settings {
        duration: Duration::from_secs(args.duration),
        warmup: Duration::from_secs(args.warmup),
        connections: args.connections,
        threads: args.threads,
        server_bin: args.server_bin.as_ref().map(|_| zaffre.clone()),
    };
    let mut results = Vec::new();
    for engine in engines {
        let url = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => pg_url.as_deref(),
        };
        results.push(bench_engine(engine, &zaffre, url, &settings)?);
    }

    let table = record::table(&results, &settings);
    let targets = record::targets(&results);
    println!("\n==== Results ====\n\n{table}\n{targets}");
    let errors: u64 = results.iter().map(EngineResult::errors).sum();
    if errors > 0 {
        eprintln!("\n!!!! {errors} REQUESTS FAILED during the measurements: !!!!");
        for r in &results {
            for (what, report) in [
                ("reads, closed loop", &r.reads_max),
                ("reads, open loop", &r.reads_open),
                ("updates", &r.writes),
            ] {
                for (kind, n) in &report.errors {
                    eprintln!("  {} {what}: {n} × {kind}", r.engine.name());
                    if let Some(example) = report.examples.get(kind) {
                        eprintln!("    first answer: {example}");
                    }
                }
            }
        }
        bail!("{errors} requests failed; the figures were not recorded");
    }
    if args.record {
        let path = root.join("docs").join("benchmarks.md");
        record::write(&path, &results, &settings, &table, &targets)?;
        println!("recorded in {}", path.display());
    }
    Ok(())
}

fn bench_engine(
    engine: Engine,
    zaffre: &Path,
    admin_url: Option<&str>,
    settings: &Settings,
) -> Result<EngineResult> {
    println!("\n==== {}: starting zaffre ====", engine.name());
    let data_dir = TempDir::new(&format!("zaffre-bench-{}", std::process::id()))?;
    let database = match admin_url {
        Some(url) => Some(BenchDatabase::create(url)?),
        None => None,
    };
    let db_url = database.as_ref().map(|d| d.url.as_str());
    let password = random_password()?;
    let env = ServerEnv {
        data_dir: data_dir.path.clone(),
        database_url: db_url.map(str::to_owned),
        password,
        config: None,
    };
    let mut server = Server::start(zaffre, &env)?;
    println!("zaffre is listening on {}", server.addr);

    let target = authenticate(zaffre, &env, server.addr)?;
    let (status, body) =
        loadgen::request_json(&target, Method::GET, "/api/v2/tickets.json?per_page=100")?;
    if status != 200 {
        bail!("GET /api/v2/tickets.json answered {status}: {body}");
    }
    let tickets = body["tickets"].as_array().cloned().unwrap_or_default();
    let ids: Vec<u64> = tickets.iter().filter_map(|t| t["id"].as_u64()).collect();
    // Closed tickets refuse updates (422, as in Zendesk), so writes go to the others.
    let writable: Vec<u64> = tickets
        .iter()
        .filter(|t| t["status"].as_str() != Some("closed"))
        .filter_map(|t| t["id"].as_u64())
        .collect();
    let Some(&read_id) = ids.first() else {
        bail!("GET /api/v2/tickets.json listed no ticket (is --demo seeding?): {body}");
    };
    let read_path = format!("/api/v2/tickets/{read_id}.json");
    let (status, body) = loadgen::request_json(&target, Method::GET, &read_path)?;
    if status != 200 {
        bail!("GET {read_path} answered {status}: {body}");
    }

    let load_before = load_average();
    if let Some(load) = load_before.filter(|l| *l > 0.5) {
        eprintln!(
            "WARNING: the machine is busy before measuring (1-minute load average {load:.2}): \
             the figures will be lower than on an idle machine"
        );
    }
    let closed = |mode| Plan {
        connections: settings.connections,
        warmup: settings.warmup,
        duration: settings.duration,
        mode,
        threads: settings.threads,
    };
    let reads = Workload::Get { path: read_path };

    println!(
        "\n---- {}: GET /api/v2/tickets/{{id}}.json, closed loop, {} connections, {} s + {} s warm-up",
        engine.name(),
        settings.connections,
        settings.duration.as_secs(),
        settings.warmup.as_secs()
    );
    let reads_max = server.measure(&target, &reads, &closed(Mode::Closed))?;
    print_report(&reads_max);
    server.ensure_alive()?;
    if reads_max.ok == 0 {
        bail!("no read succeeded: {:?}", reads_max.errors);
    }

    let open_rate = (reads_max.rps() / 2.0).max(1.0);
    println!(
        "\n---- {}: GET /api/v2/tickets/{{id}}.json, open loop at {open_rate:.0}/s",
        engine.name()
    );
    let reads_open = server.measure(&target, &reads, &closed(Mode::Open { rate: open_rate }))?;
    print_report(&reads_open);
    server.ensure_alive()?;

    let ticket_ids: Vec<u64> = writable
        .iter()
        .copied()
        .take(settings.connections)
        .collect();
    if ticket_ids.is_empty() {
        bail!("every listed ticket is closed: nothing to update");
    }
    println!(
        "\n---- {}: PUT /api/v2/tickets/{{id}}.json (priority high/low over {} tickets), closed loop",
        engine.name(),
        ticket_ids.len()
    );
    let writes = server.measure(
        &target,
        &Workload::UpdatePriority {
            ticket_ids: ticket_ids.clone(),
        },
        &closed(Mode::Closed),
    )?;
    print_report(&writes);
    server.ensure_alive()?;

    let server_version = db_url.and_then(pg::server_version);
    server.stop()?;
    if let Some(db) = database {
        db.drop_now()?;
    }
    Ok(EngineResult {
        engine,
        reads_max,
        reads_open,
        open_rate,
        writes,
        tickets_updated: ticket_ids.len(),
        auth: if target.authorization == password_header(&env.password) {
            "email and password (argon2 on every request: NOT comparable)"
        } else {
            "API token"
        },
        server_version,
        load_before,
    })
}

/// Prepares a benchmark's programs: unless `prebuilt`, builds the release
/// `zaffre` (when `need_zaffre` and no `server_bin` is given) and, in a debug
/// xtask, hands the whole command over to a release build of xtask with
/// `--prebuilt` (a debug load generator or upstream would eat the CPU being
/// measured), answering `None` once that run has ended well. Otherwise
/// answers the `zaffre` binary to start, checked to exist when `need_zaffre`.
pub(crate) fn release_programs(
    prebuilt: bool,
    server_bin: Option<&Path>,
    need_zaffre: bool,
) -> Result<Option<PathBuf>> {
    let root = proc::workspace_root();
    let release = proc::target_dir(&root).join("release");
    if !prebuilt {
        println!("==== Building release binaries ====");
        if need_zaffre && server_bin.is_none() {
            proc::run(proc::cargo().current_dir(&root).args([
                "build",
                "--release",
                "-p",
                "zaffre",
            ]))?;
        }
        if cfg!(debug_assertions) {
            proc::run(proc::cargo().current_dir(&root).args([
                "build",
                "--release",
                "-p",
                "xtask",
            ]))?;
            let mut cmd = Command::new(release.join("xtask"));
            cmd.args(std::env::args_os().skip(1)).arg("--prebuilt");
            println!("$ {}", proc::display(&cmd));
            let status = cmd
                .status()
                .with_context(|| format!("starting {}", release.join("xtask").display()))?;
            // The release build has printed its own results or error.
            return if status.success() {
                Ok(None)
            } else {
                Err(proc::Reported.into())
            };
        }
    }
    let zaffre = match server_bin {
        Some(bin) => {
            std::path::absolute(bin).with_context(|| format!("resolving {}", bin.display()))?
        }
        None => release.join("zaffre"),
    };
    if need_zaffre && !zaffre.is_file() {
        bail!(
            "{} is missing: build it with `cargo build --release -p zaffre`",
            zaffre.display()
        );
    }
    Ok(Some(zaffre))
}

/// The 1-minute load average.
pub(crate) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

pub(crate) fn print_report(report: &Report) {
    let latency = report.latency.map_or_else(
        || "no successful request".to_owned(),
        |l| {
            format!(
                "p50 {}  p90 {}  p99 {}  max {}",
                record::ms(l.p50),
                record::ms(l.p90),
                record::ms(l.p99),
                record::ms(l.max)
            )
        },
    );
    let generator = report.generator_share().map_or_else(String::new, |share| {
        format!(", load generator CPU {:.0}% of a core", share * 100.0)
    });
    let server = report
        .server_cpu_per_request()
        .map_or_else(String::new, |cpu| {
            format!(", server CPU {:.0} µs per request", cpu.as_secs_f64() * 1e6)
        });
    println!(
        "{:.0} req/s ({} ok in {} s), {latency}, errors: {}{generator}{server}",
        report.rps(),
        report.ok,
        report.duration.as_secs(),
        report.error_count()
    );
    for (kind, n) in &report.errors {
        println!("  ERROR {n} × {kind}");
        if let Some(example) = report.examples.get(kind) {
            println!("    first answer: {example}");
        }
    }
}

/// What the server and the CLI are started with.
pub(crate) struct ServerEnv {
    pub(crate) data_dir: PathBuf,
    pub(crate) database_url: Option<String>,
    pub(crate) password: String,
    /// A TOML config file (`--config`), for settings with no flag or variable.
    pub(crate) config: Option<PathBuf>,
}

impl ServerEnv {
    fn apply(&self, cmd: &mut Command) {
        // Whatever the caller's shell sets for zaffre (a config file, another
        // database) is not part of the benchmark's set-up.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ZAFFRE_") {
                cmd.env_remove(name);
            }
        }
        cmd.arg("--data-dir").arg(&self.data_dir);
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.env("ZAFFRE_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ZAFFRE_ADMIN_PASSWORD", &self.password)
            // 0 turns the per-user rate limit off: the benchmark is one user.
            .env("ZAFFRE_RATE_LIMIT_PER_MINUTE", "0")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
    }
}

/// A token from `zaffre token create`; HTTP Basic with the password only if
/// that fails, with a loud warning, since password checks are slow on purpose.
pub(crate) fn authenticate(zaffre: &Path, env: &ServerEnv, addr: SocketAddr) -> Result<Target> {
    let mut cmd = Command::new(zaffre);
    cmd.args(["token", "create", "--email", ADMIN_EMAIL]);
    env.apply(&mut cmd);
    let token = proc::output(&mut cmd).and_then(|out| {
        let token = out
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("");
        if token.is_empty() || token.contains(char::is_whitespace) {
            bail!("`zaffre token create` printed no token: {out:?}");
        }
        Ok(token.to_owned())
    });
    if let Ok(token) = &token {
        let target = Target {
            addr,
            authorization: basic(&format!("{ADMIN_EMAIL}/token:{token}")),
        };
        let (status, body) = loadgen::request_json(&target, Method::GET, "/api/v2/users/me.json")?;
        if status == 200 {
            println!("authenticating with an API token");
            return Ok(target);
        }
        eprintln!("WARNING: the API token was refused ({status}: {body})");
    } else if let Err(err) = &token {
        eprintln!("WARNING: could not create an API token: {err:#}");
    }
    eprintln!(
        "WARNING: falling back to HTTP Basic email:password, which verifies an argon2 hash on \
         every request: these figures are NOT comparable with token-authenticated ones"
    );
    let target = Target {
        addr,
        authorization: password_header(&env.password),
    };
    let (status, body) = loadgen::request_json(&target, Method::GET, "/api/v2/users/me.json")?;
    if status != 200 {
        bail!("password authentication was refused too ({status}: {body})");
    }
    Ok(target)
}

fn basic(credentials: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

fn password_header(password: &str) -> String {
    basic(&format!("{ADMIN_EMAIL}:{password}"))
}

pub(crate) fn random_password() -> Result<String> {
    let mut bytes = [0u8; 18];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom for the admin password")?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The `zaffre serve` process. Dropping it kills the server, so an error
/// anywhere in the benchmark does not leave it running.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    pub(crate) fn start(zaffre: &Path, env: &ServerEnv) -> Result<Self> {
        Self::start_on(zaffre, env, None)
    }

    /// Starts the server, on the given CPUs (a `taskset -c` list) when some
    /// are named: pinned from its first instruction, so its runtime sizes
    /// itself to them.
    pub(crate) fn start_on(zaffre: &Path, env: &ServerEnv, cpus: Option<&str>) -> Result<Self> {
        let mut cmd = match cpus {
            // taskset execs the server, so the child's pid is the server's.
            Some(cpus) => {
                let mut cmd = Command::new("taskset");
                cmd.args(["-c", cpus]).arg(zaffre);
                cmd
            }
            None => Command::new(zaffre),
        };
        cmd.args(["serve", "--demo", "--listen", "127.0.0.1:0"]);
        env.apply(&mut cmd);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        println!("$ {}", proc::display(&cmd));
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", zaffre.display()))?;
        let (found_tx, found_rx) = mpsc::channel();
        let tail = Arc::new(Mutex::new(Vec::<String>::new()));
        // The address is looked for on both streams, in case the line comes
        // through the log; both are drained to the end, or the server would
        // block on a full pipe.
        let streams: [Option<Box<dyn Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for stream in streams.into_iter().flatten() {
            let found_tx = found_tx.clone();
            let tail = Arc::clone(&tail);
            std::thread::spawn(move || pump(stream, &found_tx, &tail));
        }
        drop(found_tx);
        let mut server = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        match found_rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => {
                server.addr = addr;
                Ok(server)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = server.child.wait().ok();
                let tail = tail.lock().map(|t| t.join("\n")).unwrap_or_default();
                bail!(
                    "zaffre stopped ({}) without printing `listening on http://…`; its last lines:\n{tail}",
                    status.map_or_else(|| "unknown status".into(), |s| s.to_string())
                )
            }
            Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                "zaffre printed no `listening on http://…` line within {} s",
                START_TIMEOUT.as_secs()
            ),
        }
    }

    /// Runs the load generator and adds the server's CPU time over the run.
    fn measure(&mut self, target: &Target, workload: &Workload, plan: &Plan) -> Result<Report> {
        let pid = self.child.id().to_string();
        let before = loadgen::cpu_of(&pid);
        let mut report = loadgen::run(target, workload, plan)?;
        report.server_cpu = loadgen::cpu_of(&pid)
            .zip(before)
            .map(|(after, before)| after.saturating_sub(before));
        Ok(report)
    }

    pub(crate) fn ensure_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait().context("checking on zaffre")? {
            bail!("zaffre exited during the benchmark ({status})");
        }
        Ok(())
    }

    /// Asks for a graceful shutdown (SIGTERM) and waits for it.
    pub(crate) fn stop(mut self) -> Result<()> {
        self.ensure_alive()?;
        // std can only SIGKILL; `kill` is on every machine this runs on.
        proc::output(Command::new("kill").args(["-TERM", &self.child.id().to_string()]))
            .context("sending SIGTERM to zaffre")?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    eprintln!("WARNING: zaffre exited with {status} after SIGTERM");
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("WARNING: zaffre did not stop within 15 s of SIGTERM; killing it");
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads a server stream line by line: reports the first `listening on`
/// address, echoes the first few lines, keeps the last ones for errors.
fn pump(stream: Box<dyn Read + Send>, found: &mpsc::Sender<SocketAddr>, tail: &Mutex<Vec<String>>) {
    const ECHO: usize = 20;
    let mut echoed = 0;
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        if let Some(addr) = listening_addr(&line) {
            let _ = found.send(addr);
            continue;
        }
        if echoed < ECHO {
            eprintln!("[zaffre] {line}");
            echoed += 1;
            if echoed == ECHO {
                eprintln!("[zaffre] … (further output not shown)");
            }
        }
        if let Ok(mut tail) = tail.lock() {
            if tail.len() >= 30 {
                tail.remove(0);
            }
            tail.push(line);
        }
    }
}

/// The address in a `listening on http://127.0.0.1:PORT` line.
pub(crate) fn listening_addr(line: &str) -> Option<SocketAddr> {
    let at = line.find("listening on http://")?;
    let rest = &line[at + "listening on http://".len()..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '\'')
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    authority
        .parse()
        .ok()
        .or_else(|| authority.to_socket_addrs().ok()?.next())
}

/// A folder under the system's temporary directory, removed when dropped.
pub(crate) struct TempDir {
    pub(crate) path: PathBuf,
}

impl TempDir {
    pub(crate) fn new(prefix: &str) -> Result<Self> {
        let mut n = 0u32;
        loop {
            let path = std::env::temp_dir().join(format!("{prefix}-{n}"));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(err) => {
                    return Err(err).with_context(|| format!("creating {}", path.display()))
                }
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A PostgreSQL database made for one run and dropped after it, also when
/// the run fails.
struct BenchDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl BenchDatabase {
    fn create(admin_url: &str) -> Result<Self> {
        pg::ensure_running(admin_url)?;
        let name = format!("zaffre_bench_{}", std::process::id());
        // A database left behind by an earlier run killed with this pid.
        pg::drop_database(admin_url, &name)?;
        let url = pg::create_database(admin_url, &name)?;
        println!("created database {name}");
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
            dropped: false,
        })
    }

    fn drop_now(mut self) -> Result<()> {
        self.dropped = true;
        pg::drop_database(&self.admin_url, &self.name)
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if !self.dropped {
            if let Err(err) = pg::drop_database(&self.admin_url, &self.name) {
                eprintln!("WARNING: {err:#}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_is_read() {
        assert_eq!(
            listening_addr("listening on http://127.0.0.1:4567"),
            Some(SocketAddr::from(([127, 0, 0, 1], 4567)))
        );
        assert_eq!(
            listening_addr(
                "2026-11-23T10:00:00Z  INFO zaffre: listening on http://127.0.0.1:39001/ demo=true"
            ),
            Some(SocketAddr::from(([127, 0, 0, 1], 39001)))
        );
        assert_eq!(listening_addr("listening soon"), None);
    }

    #[test]
    fn basic_credentials_are_encoded() {
        assert_eq!(basic("a@b.c/token:xyz"), "Basic YUBiLmMvdG9rZW46eHl6");
    }
}
