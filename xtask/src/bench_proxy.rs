//! `cargo xtask bench proxy`: what zaffre's egress proxy costs, against a
//! direct call and against nginx, on loopback with a release build.
//!
//! Three paths to the same small upstream, loaded by the same generator
//! ([`crate::loadgen`]) over the same number of keep-alive connections:
//!
//! - **direct**: `GET` straight to the upstream, the client itself sending
//!   the secret header (what an app could do if it were allowed to hold the
//!   secret);
//! - **nginx**: `GET` through Debian's nginx, `proxy_pass` to an upstream
//!   block with `keepalive`, nginx adding the secret header
//!   (`proxy_set_header`): the known reference for a forwarding hop;
//! - **zaffre**: `POST /api/zaffre/installations/{id}/proxy` with an API
//!   token, options asking for a secure request whose header interpolates a
//!   secure setting and whose `Authorization` carries a JWT zaffre signs with
//!   another secure setting: the whole path an app's `client.request()` takes
//!   on the server.
//!
//! The upstream (a hyper server run as a child process of this binary, so
//! its CPU is not the generator's) answers a small fixed JSON body only when
//! the secret header is right and, on the zaffre path, when the JWT's HS256
//! signature checks out; anything else is counted as a rejection, and one
//! rejection fails the benchmark. It also counts the connections it accepts,
//! so the figures show whether a proxy reused its upstream connections.
//!
//! Throughput is closed loop; latency is open loop at half zaffre's measured
//! peak (see the loadgen module about coordinated omission). Every
//! measurement is repeated `--rounds` times with the paths interleaved, and
//! the median is reported. On a machine with two CPUs or more the proxies get
//! the last CPU to themselves and the generator and upstream share the rest
//! (`taskset`), so nginx and zaffre are compared on equal terms.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use clap::{Args, ValueEnum};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::bench::{self, Server, ServerEnv, TempDir};
use crate::loadgen::{self, Mode, Plan, Report, Target, Workload};
use crate::{proc, record};

/// The upstream's answer: small, fixed, JSON.
const UPSTREAM_BODY: &str = r#"{"ok":true,"items":[{"id":1,"name":"one"},{"id":2,"name":"two"}]}"#;
/// Environment variables that hand the secrets to the upstream process
/// (not its command line, which any user can read).
const API_KEY_VAR: &str = "XTASK_BENCH_PROXY_API_KEY";
const JWT_SECRET_VAR: &str = "XTASK_BENCH_PROXY_JWT_SECRET";
/// The aims of issue 6.
const NGINX_RATIO_AIM: f64 = 0.7;
const ADDED_P99_AIM: Duration = Duration::from_millis(1);

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Seconds measured per run, after the warm-up.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of load before each measurement starts.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Runs of each measurement, paths interleaved; the median is reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Persistent keep-alive connections, the same for every path.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Load generator threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The paths to measure (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "direct,nginx,zaffre"
    )]
    paths: Vec<PathKind>,
    /// Don't pin the proxies to a CPU of their own (see the module doc).
    #[arg(long)]
    no_pin: bool,
    /// Write the figures and the machine's facts to docs/benchmarks.md.
    #[arg(long)]
    record: bool,
    /// Measure this zaffre binary instead of target/release/zaffre.
    #[arg(long, value_name = "PATH")]
    server_bin: Option<PathBuf>,
    /// Use the release binaries as they are (set when a debug xtask hands over).
    #[arg(long, hide = true)]
    prebuilt: bool,
    /// Run only the benchmark's upstream (the child process this command starts).
    #[arg(long, hide = true)]
    serve_upstream: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum PathKind {
    Direct,
    Nginx,
    Zaffre,
}

impl PathKind {
    fn name(self) -> &'static str {
        match self {
            PathKind::Direct => "direct",
            PathKind::Nginx => "nginx",
            PathKind::Zaffre => "zaffre",
        }
    }
}

pub fn run(args: &ProxyArgs) -> Result<()> {
    if args.serve_upstream {
        return serve_upstream();
    }
    if args.seconds == 0 || args.connections == 0 || args.threads == 0 || args.rounds == 0 {
        bail!("--seconds, --rounds, --connections and --threads must be at least 1");
    }
    let mut paths = args.paths.clone();
    paths.sort();
    paths.dedup();
    let wants_zaffre = paths.contains(&PathKind::Zaffre);
    let Some(zaffre) =
        bench::release_programs(args.prebuilt, args.server_bin.as_deref(), wants_zaffre)?
    else {
        // A release build of ourselves ran the benchmark and printed its results or error.
        return Ok(());
    };
    let nginx = if paths.contains(&PathKind::Nginx) {
        Some(ensure_nginx()?)
    } else {
        None
    };

    // Before pinning, which narrows what this process sees as the machine's CPUs.
    let machine = record::machine();
    let pinning = Pinning::plan(!args.no_pin)?;
    if let Some(p) = &pinning {
        // Threads started later inherit this: the generator's runtime too.
        proc::output(Command::new("taskset").args([
            "-a",
            "-p",
            "-c",
            &p.client,
            &std::process::id().to_string(),
        ]))
        .context("pinning the load generator with taskset")?;
        println!(
            "pinned: load generator and upstream on CPU {}, the proxy under test on CPU {}",
            p.client, p.proxy
        );
    }

    let secrets = Secrets::new()?;
    let upstream = Upstream::start(&secrets, pinning.as_ref().map(|p| p.client.as_str()))?;
    println!("upstream listening on {}", upstream.addr);

    let scratch = TempDir::new(&format!("zaffre-bench-proxy-{}", std::process::id()))?;
    let mut subjects = Vec::new();
    for kind in &paths {
        let subject = match kind {
            PathKind::Direct => Subject::direct(&upstream, &secrets)?,
            PathKind::Nginx => Subject::nginx(
                nginx.as_deref().context("nginx")?,
                &scratch.path,
                &upstream,
                &secrets,
                pinning.as_ref(),
            )?,
            PathKind::Zaffre => Subject::zaffre(
                &zaffre,
                &scratch.path,
                &upstream,
                &secrets,
                pinning.as_ref(),
            )?,
        };
        subject.probe(&upstream, args.threads)?;
        subjects.push(subject);
    }

    let settings = Settings {
        seconds: args.seconds,
        warmup: args.warmup,
        rounds: args.rounds,
        connections: args.connections,
        threads: args.threads,
        pinning,
    };
    let plan = |mode| Plan {
        connections: settings.connections,
        warmup: Duration::from_secs(settings.warmup),
        duration: Duration::from_secs(settings.seconds),
        mode,
        threads: settings.threads,
    };

    let mut loads = Vec::new();
    let mut closed: Vec<Vec<Measured>> = subjects.iter().map(|_| Vec::new()).collect();
    for round in 1..=settings.rounds {
        for (i, subject) in subjects.iter_mut().enumerate() {
            println!(
                "\n---- round {round}/{}: {}, closed loop, {} connections, {} s + {} s warm-up",
                settings.rounds,
                subject.kind.name(),
                settings.connections,
                settings.seconds,
                settings.warmup
            );
            loads.extend(bench::load_average());
            let m = subject.measure(&upstream, &plan(Mode::Closed))?;
            m.print();
            closed[i].push(m);
        }
    }
    let peak_of = |kind| {
        subjects
            .iter()
            .position(|s| s.kind == kind)
            .map(|i| median(closed[i].iter().map(|m| m.report.rps())))
    };
    // Half zaffre's peak, the issue's latency point; without zaffre, half the
    // slowest measured path's, so every path can sustain it.
    let (open_rate, rate_basis) = match peak_of(PathKind::Zaffre) {
        Some(peak) => (peak / 2.0, "half zaffre's peak"),
        None => (
            closed
                .iter()
                .map(|ms| median(ms.iter().map(|m| m.report.rps())))
                .fold(f64::INFINITY, f64::min)
                / 2.0,
            "half the slowest path's peak (zaffre not measured)",
        ),
    };
    let open_rate = open_rate.max(1.0);
    let mut open: Vec<Vec<Measured>> = subjects.iter().map(|_| Vec::new()).collect();
    for round in 1..=settings.rounds {
        for (i, subject) in subjects.iter_mut().enumerate() {
            println!(
                "\n---- round {round}/{}: {}, open loop at {open_rate:.0}/s ({rate_basis})",
                settings.rounds,
                subject.kind.name(),
            );
            loads.extend(bench::load_average());
            let m = subject.measure(&upstream, &plan(Mode::Open { rate: open_rate }))?;
            m.print();
            open[i].push(m);
        }
    }
    for subject in &mut subjects {
        subject.ensure_alive()?;
    }

    let results: Vec<PathResult> = subjects
        .iter()
        .zip(closed)
        .zip(open)
        .map(|((s, closed), open)| PathResult {
            kind: s.kind,
            closed,
            open,
        })
        .collect();
    let errors: u64 = results
        .iter()
        .flat_map(|r| r.closed.iter().chain(&r.open))
        .map(|m| m.report.error_count())
        .sum();
    let table = table(&results, &settings, open_rate, rate_basis);
    let aims = aims(&results);
    println!("\n==== Results ====\n\n{table}\n{aims}");
    if errors > 0 {
        bail!("{errors} requests failed (see above); the figures were not recorded");
    }
    let versions = Versions {
        nginx: nginx.as_deref().and_then(nginx_version),
        load: loads,
        machine,
    };
    for subject in subjects {
        subject.stop()?;
    }
    if args.record {
        let path = proc::workspace_root().join("docs").join("benchmarks.md");
        write_record(&path, &settings, &table, &aims, &versions)?;
        println!("recorded in {}", path.display());
    }
    Ok(())
}

// ---------------------------------------------------------------- set-up

/// Which CPUs the proxies and the client side run on.
#[derive(Debug, Clone)]
struct Pinning {
    /// A `taskset -c` list for the load generator and the upstream.
    client: String,
    /// The same for the proxy under test (nginx or zaffre).
    proxy: String,
}

impl Pinning {
    fn plan(wanted: bool) -> Result<Option<Self>> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if !wanted {
            return Ok(None);
        }
        if cpus < 2 {
            println!("note: one CPU only: nothing is pinned");
            return Ok(None);
        }
        if proc::find_on_path("taskset").is_none() {
            bail!("pinning needs `taskset` (Debian: util-linux); or pass --no-pin");
        }
        // CPU numbers as the affinity mask has them, which may not be 0..n.
        let allowed = proc::output(Command::new("taskset").args([
            "-c",
            "-p",
            &std::process::id().to_string(),
        ]))?;
        let list = allowed.rsplit(':').next().unwrap_or("").trim().to_owned();
        let ids =
            parse_cpu_list(&list).with_context(|| format!("reading `taskset -p`: {allowed}"))?;
        let Some((&proxy, client)) = ids.split_last() else {
            bail!("no CPU in the affinity list {list:?}");
        };
        if client.is_empty() {
            return Ok(None);
        }
        let client: Vec<String> = client.iter().map(u32::to_string).collect();
        Ok(Some(Self {
            client: client.join(","),
            proxy: proxy.to_string(),
        }))
    }
}

/// `0-2,5` → [0, 1, 2, 5].
fn parse_cpu_list(list: &str) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse()?, b.parse()?);
                out.extend(a..=b);
            }
            None => out.push(part.parse()?),
        }
    }
    Ok(out)
}

/// The two secure values the proxy injects, random for each run.
struct Secrets {
    api_key: String,
    jwt_secret: String,
}

impl Secrets {
    fn new() -> Result<Self> {
        Ok(Self {
            api_key: format!("bench-key-{}", bench::random_password()?),
            jwt_secret: bench::random_password()?,
        })
    }
}

/// Debian's nginx, installed with apt-get (as root) when missing.
fn ensure_nginx() -> Result<PathBuf> {
    let find = || {
        proc::find_on_path("nginx").or_else(|| {
            let p = PathBuf::from("/usr/sbin/nginx");
            p.is_file().then_some(p)
        })
    };
    if let Some(path) = find() {
        return Ok(path);
    }
    if !proc::is_root() {
        bail!(
            "the proxy benchmark compares with Debian's nginx, which is missing and we are not \
             root: run `sudo apt-get install -y nginx`, or pass --paths direct,zaffre"
        );
    }
    println!("nginx is missing: installing Debian's package");
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        proc::run(&mut cmd)
    };
    apt(&["update"]).context("apt-get update, before installing nginx")?;
    apt(&["install", "-y", "nginx"]).context("installing nginx with apt-get")?;
    find().context("apt-get installed nginx, but there is no nginx binary")
}

fn nginx_version(nginx: &Path) -> Option<String> {
    // `nginx -v` writes to stderr.
    let out = Command::new(nginx).arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find_map(|l| l.strip_prefix("nginx version: nginx/"))
        .map(|v| v.trim().to_owned())
}

/// A free port on loopback for nginx to listen on (released before nginx
/// binds it; nothing else on the machine races for loopback ports here).
fn free_port() -> Result<u16> {
    let listener = StdListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A child process killed (and reaped) when dropped, so that an error
/// anywhere leaves nothing running.
struct ChildGuard {
    child: Child,
    name: &'static str,
}

impl ChildGuard {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn ensure_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited during the benchmark ({status})", self.name);
        }
        Ok(())
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SIGTERM first (nginx's master then stops its workers), SIGKILL
            // if that is not enough.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .output();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------- the upstream

/// The upstream child process and its address.
struct Upstream {
    /// Dropping it stops the upstream; a dead one fails the next `stats`.
    _process: ChildGuard,
    addr: SocketAddr,
}

/// The upstream's counters (`GET /__stats`).
#[derive(Debug, Clone, Copy, Default)]
struct UpstreamStats {
    requests: u64,
    rejected: u64,
    connections: u64,
}

impl Upstream {
    fn start(secrets: &Secrets, cpus: Option<&str>) -> Result<Self> {
        let exe = std::env::current_exe().context("finding this program")?;
        let mut cmd = match cpus {
            Some(cpus) => {
                let mut cmd = Command::new("taskset");
                cmd.args(["-c", cpus]).arg(&exe);
                cmd
            }
            None => Command::new(&exe),
        };
        cmd.args(["bench", "proxy", "--prebuilt", "--serve-upstream"])
            .env(API_KEY_VAR, &secrets.api_key)
            .env(JWT_SECRET_VAR, &secrets.jwt_secret)
            // Its stdin closing (we exited, however) stops it.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = cmd.spawn().context("starting the upstream")?;
        let stdout = child.stdout.take().context("the upstream's stdout")?;
        let process = ChildGuard {
            child,
            name: "the upstream",
        };
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the upstream's address")?;
        let addr = bench::listening_addr(&line)
            .with_context(|| format!("the upstream printed {line:?}, not its address"))?;
        Ok(Self {
            _process: process,
            addr,
        })
    }

    fn stats(&self) -> Result<UpstreamStats> {
        let target = Target {
            addr: self.addr,
            authorization: String::new(),
        };
        let (status, body) = loadgen::request_json(&target, Method::GET, "/__stats")?;
        if status != 200 {
            bail!("the upstream's /__stats answered {status}: {body}");
        }
        let n = |k: &str| body[k].as_u64().unwrap_or(0);
        Ok(UpstreamStats {
            requests: n("requests"),
            rejected: n("rejected"),
            connections: n("connections"),
        })
    }

    /// Why the upstream last refused a request.
    fn last_rejection(&self) -> String {
        let target = Target {
            addr: self.addr,
            authorization: String::new(),
        };
        loadgen::request_json(&target, Method::GET, "/__stats")
            .ok()
            .and_then(|(_, body)| body["last_rejection"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into())
    }
}

/// What the upstream process shares between its connections.
struct UpstreamState {
    api_key: String,
    jwt_secret: Vec<u8>,
    requests: AtomicU64,
    rejected: AtomicU64,
    connections: AtomicU64,
    last_rejection: Mutex<String>,
}

/// The upstream process: one thread (it shares the generator's CPU), hyper
/// HTTP/1.1 with keep-alive, answering until its stdin closes.
fn serve_upstream() -> Result<()> {
    let api_key =
        std::env::var(API_KEY_VAR).with_context(|| format!("{API_KEY_VAR} is not set"))?;
    let jwt_secret =
        std::env::var(JWT_SECRET_VAR).with_context(|| format!("{JWT_SECRET_VAR} is not set"))?;
    std::thread::spawn(|| {
        // EOF on stdin: the benchmark is gone, and so are we.
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let state = Arc::new(UpstreamState {
        api_key,
        jwt_secret: jwt_secret.into_bytes(),
        requests: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        connections: AtomicU64::new(0),
        last_rejection: Mutex::new(String::new()),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on http://{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            state.connections.fetch_add(1, Ordering::Relaxed);
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let answer = upstream_answer(&state, &request);
                    async move { Ok::<_, Infallible>(answer) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

fn upstream_answer(state: &UpstreamState, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let respond = |status: u16, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
    };
    if request.uri().path() == "/__stats" {
        let last = state
            .last_rejection
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        return respond(
            200,
            json!({
                "requests": state.requests.load(Ordering::Relaxed),
                "rejected": state.rejected.load(Ordering::Relaxed),
                "connections": state.connections.load(Ordering::Relaxed),
                "last_rejection": last,
            })
            .to_string(),
        );
    }
    state.requests.fetch_add(1, Ordering::Relaxed);
    match check_request(state, request) {
        Ok(()) => respond(200, UPSTREAM_BODY.to_owned()),
        Err(why) => {
            state.rejected.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut last) = state.last_rejection.lock() {
                last.clone_from(&why);
            }
            respond(401, json!({ "error": why }).to_string())
        }
    }
}

/// The secret header on every request; on `/jwt/…`, also a valid JWT.
fn check_request(state: &UpstreamState, request: &Request<Incoming>) -> Result<(), String> {
    let headers = request.headers();
    match headers.get("x-api-key") {
        Some(v) if v.as_bytes() == state.api_key.as_bytes() => {}
        Some(_) => return Err("X-Api-Key has the wrong value".into()),
        None => return Err("no X-Api-Key header".into()),
    }
    if request.uri().path().starts_with("/jwt/") {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or("no `Authorization: Bearer` header")?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        verify_hs256(token, &state.jwt_secret, now)?;
    }
    Ok(())
}

/// Checks a compact JWT: HS256 header, signature with `secret`, and an
/// `exp` in the future.
fn verify_hs256(token: &str, secret: &[u8], now: u64) -> Result<(), String> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the JWT does not have three parts".into());
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| format!("the JWT's {what} is not base64url"))
    };
    let header: Value = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|_| "the JWT's header is not JSON".to_owned())?;
    if header["alg"] != "HS256" {
        return Err(format!("the JWT's alg is {}, not HS256", header["alg"]));
    }
    let signed = &token[..token.len() - signature.len() - 1];
    if decode(signature, "signature")? != hmac_sha256(secret, signed.as_bytes()) {
        return Err("the JWT's signature does not match the shared secret".into());
    }
    let claims: Value = serde_json::from_slice(&decode(payload, "payload")?)
        .map_err(|_| "the JWT's payload is not JSON".to_owned())?;
    match claims["exp"].as_u64() {
        Some(exp) if exp >= now => Ok(()),
        Some(_) => Err("the JWT has expired".into()),
        None => Err("the JWT has no exp claim".into()),
    }
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

// ---------------------------------------------------------------- the paths

/// The process a path's CPU is charged to.
enum Proxy {
    None,
    Nginx(ChildGuard),
    Zaffre(Box<Server>),
}

/// One path under measurement: where the load goes and what it sends.
struct Subject {
    kind: PathKind,
    target: Target,
    workload: Workload,
    proxy: Proxy,
    /// Kept until the subject is dropped (nginx's config, zaffre's data).
    _dir: Option<TempDir>,
}

impl Subject {
    fn direct(upstream: &Upstream, secrets: &Secrets) -> Result<Self> {
        Ok(Self {
            kind: PathKind::Direct,
            target: Target {
                addr: upstream.addr,
                authorization: String::new(),
            },
            workload: Workload::Fixed {
                method: Method::GET,
                path: "/direct/items".into(),
                headers: vec![(
                    HeaderName::from_static("x-api-key"),
                    HeaderValue::from_str(&secrets.api_key)?,
                )],
                body: Bytes::new(),
            },
            proxy: Proxy::None,
            _dir: None,
        })
    }

    fn nginx(
        nginx: &Path,
        scratch: &Path,
        upstream: &Upstream,
        secrets: &Secrets,
        pinning: Option<&Pinning>,
    ) -> Result<Self> {
        let dir = TempDir::new(&scratch.join("nginx").to_string_lossy())?;
        let port = free_port()?;
        // One worker on the proxy's one CPU: more would only take turns on
        // it. Unpinned, one per CPU (`auto`), nginx's usual setting.
        let workers = if pinning.is_some() { "1" } else { "auto" };
        let d = dir.path.display();
        let conf = format!(
            "worker_processes {workers};
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream bench_upstream {{
        server {upstream};
        keepalive 64;
        keepalive_requests 100000000;
        keepalive_timeout 600s;
    }}
    server {{
        listen 127.0.0.1:{port};
        # nginx closes a connection after 1,000 requests by default; the
        # generator's connections (like the proxies' upstream ones) live
        # for the whole run.
        keepalive_requests 100000000;
        keepalive_timeout 600s;
        location / {{
            proxy_pass http://bench_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header X-Api-Key \"{key}\";
        }}
    }}
}}
",
            upstream = upstream.addr,
            key = secrets.api_key,
        );
        let conf_path = dir.path.join("nginx.conf");
        std::fs::write(&conf_path, conf).context("writing nginx.conf")?;
        let mut cmd;
        if proc::is_root() {
            // Unprivileged: nginx's own files go in a folder `nobody` may write.
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o777))?;
            cmd = Command::new("setpriv");
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        } else {
            cmd = Command::new("env");
        }
        if let Some(p) = pinning {
            cmd.args(["taskset", "-c", &p.proxy]);
        }
        cmd.arg(nginx)
            .arg("-p")
            .arg(&dir.path)
            .arg("-e")
            .arg(dir.path.join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null());
        println!("$ {}", proc::display(&cmd));
        let child = cmd.spawn().context("starting nginx")?;
        let mut process = ChildGuard {
            child,
            name: "nginx",
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while StdStream::connect(addr).is_err() {
            if process.ensure_alive().is_err() || Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.path.join("error.log")).unwrap_or_default();
                bail!("nginx did not start listening on {addr}; its error log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        println!("nginx listening on {addr}, {workers} worker(s)");
        Ok(Self {
            kind: PathKind::Nginx,
            target: Target {
                addr,
                authorization: String::new(),
            },
            workload: Workload::Fixed {
                method: Method::GET,
                path: "/nginx/items".into(),
                headers: Vec::new(),
                body: Bytes::new(),
            },
            proxy: Proxy::Nginx(process),
            _dir: Some(dir),
        })
    }

    fn zaffre(
        zaffre: &Path,
        scratch: &Path,
        upstream: &Upstream,
        secrets: &Secrets,
        pinning: Option<&Pinning>,
    ) -> Result<Self> {
        let dir = TempDir::new(&scratch.join("zaffre").to_string_lossy())?;
        let config = dir.path.join("zaffre.toml");
        // Limits far above what the run sends: the benchmark is one user and
        // one installation, and must measure the proxy, not the throttle.
        std::fs::write(
            &config,
            "rate_limit_per_minute = 0\n\
             proxy_allow_loopback = true\n\
             proxy_rate_per_minute = 0\n\
             proxy_max_concurrent = 100000\n",
        )
        .context("writing zaffre.toml")?;
        let env = ServerEnv {
            data_dir: dir.path.join("data"),
            database_url: None,
            password: bench::random_password()?,
            config: Some(config),
        };
        std::fs::create_dir_all(&env.data_dir)?;
        let server = Server::start_on(zaffre, &env, pinning.map(|p| p.proxy.as_str()))?;
        println!("zaffre listening on {}", server.addr);
        let target = bench::authenticate(zaffre, &env, server.addr)?;
        let installation = install_app(zaffre, &dir.path, &target, secrets)?;
        let options = json!({
            // A name, as apps use: zaffre resolves it on every request
            // (to 127.0.0.1 from /etc/hosts), which nginx's literal address skips.
            "url": format!("http://localhost:{}/jwt/items", upstream.addr.port()),
            "type": "GET",
            "secure": true,
            "headers": {
                "X-Api-Key": "{{setting.api_key}}",
                "Authorization": "Bearer {{jwt.token}}",
            },
            "jwt": {
                "algorithm": "HS256",
                "secret_key": "{{setting.shared_secret}}",
                "claims": {"sub": "proxy-bench", "scope": "items:read"},
            },
        });
        let body = Bytes::from(json!({ "options": options }).to_string());
        Ok(Self {
            kind: PathKind::Zaffre,
            target,
            workload: Workload::Fixed {
                method: Method::POST,
                path: format!("/api/zaffre/installations/{installation}/proxy"),
                headers: Vec::new(),
                body,
            },
            proxy: Proxy::Zaffre(Box::new(server)),
            _dir: Some(dir),
        })
    }

    /// One short run, which must succeed end to end, before measuring.
    fn probe(&self, upstream: &Upstream, threads: usize) -> Result<()> {
        let before = upstream.stats()?;
        let report = loadgen::run(
            &self.target,
            &self.workload,
            &Plan {
                connections: 1,
                warmup: Duration::ZERO,
                duration: Duration::from_millis(300),
                mode: Mode::Closed,
                threads,
            },
        )?;
        let after = upstream.stats()?;
        if report.error_count() > 0 || report.ok == 0 {
            let examples: Vec<String> = report
                .errors
                .iter()
                .map(|(kind, n)| {
                    let example = report.examples.get(kind).map_or("", String::as_str);
                    format!("{n} × {kind}: {example}")
                })
                .collect();
            bail!(
                "the {} path does not work: {} ok, errors: {}",
                self.kind.name(),
                report.ok,
                examples.join("; ")
            );
        }
        if after.rejected > before.rejected {
            bail!(
                "the upstream refused requests on the {} path: {}",
                self.kind.name(),
                upstream.last_rejection()
            );
        }
        println!(
            "ok: the {} path answers ({} requests)",
            self.kind.name(),
            report.ok
        );
        Ok(())
    }

    /// The proxy's processes: nginx's master and workers, or zaffre.
    fn proxy_cpu(&self) -> Option<Duration> {
        match &self.proxy {
            Proxy::None => None,
            Proxy::Zaffre(server) => loadgen::cpu_of(&server.child.id().to_string()),
            Proxy::Nginx(master) => {
                let mut total = loadgen::cpu_of(&master.pid().to_string())?;
                for child in children_of(master.pid()) {
                    total += loadgen::cpu_of(&child.to_string()).unwrap_or_default();
                }
                Some(total)
            }
        }
    }

    fn measure(&mut self, upstream: &Upstream, plan: &Plan) -> Result<Measured> {
        let stats_before = upstream.stats()?;
        let cpu_before = self.proxy_cpu();
        let started = Instant::now();
        let mut report = loadgen::run(&self.target, &self.workload, plan)?;
        let wall = started.elapsed();
        report.server_cpu = self
            .proxy_cpu()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        let stats_after = upstream.stats()?;
        self.ensure_alive()?;
        let rejected = stats_after.rejected - stats_before.rejected;
        if rejected > 0 {
            *report
                .errors
                .entry("refused by the upstream (secret or JWT missing or wrong)".into())
                .or_default() += rejected;
            report.examples.insert(
                "refused by the upstream (secret or JWT missing or wrong)".into(),
                upstream.last_rejection(),
            );
        }
        let upstream_requests = stats_after.requests - stats_before.requests;
        let sent = (report.ok + report.error_count()) as f64 * wall.as_secs_f64()
            / plan.duration.as_secs_f64();
        if (upstream_requests as f64) < sent * 0.9 {
            // A 2xx from the proxy that never reached the upstream.
            *report
                .errors
                .entry("answered without reaching the upstream".into())
                .or_default() += 1;
        }
        Ok(Measured {
            kind: self.kind,
            report,
            wall,
            // Less the one `stats` just opened.
            upstream_connections: (stats_after.connections - stats_before.connections)
                .saturating_sub(1),
        })
    }

    fn ensure_alive(&mut self) -> Result<()> {
        match &mut self.proxy {
            Proxy::None => Ok(()),
            Proxy::Nginx(process) => process.ensure_alive(),
            Proxy::Zaffre(server) => server.ensure_alive(),
        }
    }

    fn stop(self) -> Result<()> {
        match self.proxy {
            Proxy::Zaffre(server) => server.stop(),
            // Dropping the guard stops it.
            Proxy::None | Proxy::Nginx(_) => Ok(()),
        }
    }
}

/// The pids whose parent is `pid` (nginx's workers).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = &stat[stat.rfind(')')? + 1..];
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// Creates, packages, uploads and installs the benchmark's app through the
/// Apps API: two secure settings (the API key, header scope; the JWT secret,
/// jwt_secret_key scope) and the upstream's host in its domainWhitelist.
/// Returns the installation id.
fn install_app(zaffre: &Path, dir: &Path, target: &Target, secrets: &Secrets) -> Result<i64> {
    let app_dir = dir.join("app");
    proc::output(
        Command::new(zaffre)
            .args(["app", "new", "Proxy bench", "--dir"])
            .arg(&app_dir),
    )?;
    let manifest_path = app_dir.join("manifest.json");
    let mut manifest: Value = serde_json::from_slice(
        &std::fs::read(&manifest_path).context("reading the scaffold's manifest.json")?,
    )?;
    // Host names only (the manifest refuses IP addresses), hence `localhost`.
    manifest["domainWhitelist"] = json!(["localhost"]);
    manifest["parameters"] = json!([
        {"name": "api_key", "type": "text", "secure": true, "required": true, "scopes": ["header"]},
        {"name": "shared_secret", "type": "text", "secure": true, "required": true, "scopes": ["jwt_secret_key"]},
    ]);
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)?;
    let zip = dir.join("app.zip");
    proc::output(
        Command::new(zaffre)
            .args(["app", "package"])
            .arg(&app_dir)
            .arg("--output")
            .arg(&zip),
    )?;

    let boundary = "zaffre-bench-boundary-7d1f";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"uploaded_data\"; filename=\"app.zip\"\r\n\
         Content-Type: application/zip\r\n\r\n"
    )
    .into_bytes();
    form.extend(std::fs::read(&zip).context("reading the packaged app")?);
    form.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let (status, body) = loadgen::request_with_body(
        target,
        Method::POST,
        "/api/v2/apps/uploads.json",
        Some((&content_type, Bytes::from(form))),
    )?;
    let Some(upload_id) = body["id"].as_i64().filter(|_| status == 201) else {
        bail!("uploading the app answered {status}: {body}");
    };
    let post = |path: &str, value: Value| {
        loadgen::request_with_body(
            target,
            Method::POST,
            path,
            Some(("application/json", Bytes::from(value.to_string()))),
        )
    };
    let (status, body) = post(
        "/api/v2/apps.json",
        json!({"name": "Proxy bench", "short_description": "cargo xtask bench proxy", "upload_id": upload_id}),
    )?;
    let Some(job) = body["job_id"].as_str().filter(|_| status == 202) else {
        bail!("creating the app answered {status}: {body}");
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let app_id = loop {
        let (status, body) = loadgen::request_json(
            target,
            Method::GET,
            &format!("/api/v2/apps/job_statuses/{job}.json"),
        )?;
        match (status, body["status"].as_str(), body["app_id"].as_i64()) {
            (200, Some("completed"), Some(id)) => break id,
            (200, Some("queued" | "working"), _) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            _ => bail!("the app's job status answered {status}: {body}"),
        }
    };
    let (status, body) = post(
        "/api/v2/apps/installations.json",
        json!({"app_id": app_id, "settings": {
            "name": "Proxy bench",
            "api_key": secrets.api_key,
            "shared_secret": secrets.jwt_secret,
        }}),
    )?;
    match (status, body["id"].as_i64()) {
        (200 | 201, Some(id)) => {
            println!("installed the benchmark's app: installation {id}");
            Ok(id)
        }
        // The body may echo settings, though never secure ones; still, keep it short.
        _ => bail!(
            "installing the app answered {status}: {}",
            body.to_string().chars().take(400).collect::<String>()
        ),
    }
}

// ---------------------------------------------------------------- figures

/// One run of one path.
struct Measured {
    kind: PathKind,
    report: Report,
    wall: Duration,
    upstream_connections: u64,
}

impl Measured {
    /// The proxy's CPU seconds per 1,000 requests answered.
    fn cpu_per_1k(&self) -> Option<f64> {
        self.report
            .server_cpu_per_request()
            .map(|d| d.as_secs_f64() * 1000.0)
    }

    /// The proxy's CPU use over the run, as a share of one core.
    fn proxy_busy(&self) -> Option<f64> {
        let cpu = self.report.server_cpu?;
        Some(cpu.as_secs_f64() / self.wall.as_secs_f64())
    }

    fn print(&self) {
        bench::print_report(&self.report);
        let cpu = self.cpu_per_1k().map_or_else(String::new, |c| {
            format!(
                "proxy CPU {c:.3} s per 1k requests, {:.0}% of a core; ",
                self.proxy_busy().unwrap_or(0.0) * 100.0
            )
        });
        println!(
            "{}{}: upstream connections opened: {}",
            cpu,
            self.kind.name(),
            self.upstream_connections
        );
    }
}

struct PathResult {
    kind: PathKind,
    closed: Vec<Measured>,
    open: Vec<Measured>,
}

impl PathResult {
    fn rps(&self) -> f64 {
        median(self.closed.iter().map(|m| m.report.rps()))
    }

    fn spread(&self) -> (f64, f64) {
        self.closed
            .iter()
            .map(|m| m.report.rps())
            .fold((f64::INFINITY, 0.0), |(lo, hi), x| (lo.min(x), hi.max(x)))
    }

    fn cpu_per_1k(&self) -> Option<f64> {
        let all: Vec<f64> = self
            .closed
            .iter()
            .filter_map(Measured::cpu_per_1k)
            .collect();
        (!all.is_empty()).then(|| median(all.into_iter()))
    }

    fn busy(&self) -> Option<f64> {
        let all: Vec<f64> = self
            .closed
            .iter()
            .filter_map(Measured::proxy_busy)
            .collect();
        (!all.is_empty()).then(|| median(all.into_iter()))
    }

    fn open_latency(&self, pick: fn(&loadgen::Latency) -> Duration) -> Option<Duration> {
        let all: Vec<f64> = self
            .open
            .iter()
            .filter_map(|m| m.report.latency.as_ref().map(|l| pick(l).as_secs_f64()))
            .collect();
        (!all.is_empty()).then(|| Duration::from_secs_f64(median(all.into_iter())))
    }

    fn errors(&self) -> u64 {
        self.closed
            .iter()
            .chain(&self.open)
            .map(|m| m.report.error_count())
            .sum()
    }

    fn upstream_connections(&self) -> u64 {
        self.closed
            .iter()
            .chain(&self.open)
            .map(|m| m.upstream_connections)
            .max()
            .unwrap_or(0)
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The settings a run used, for the record.
struct Settings {
    seconds: u64,
    warmup: u64,
    rounds: usize,
    connections: usize,
    threads: usize,
    pinning: Option<Pinning>,
}

fn table(results: &[PathResult], settings: &Settings, open_rate: f64, basis: &str) -> String {
    let find = |kind| results.iter().find(|r| r.kind == kind);
    let ratio = |r: &PathResult, to: Option<&PathResult>| {
        to.filter(|t| t.rps() > 0.0)
            .map_or_else(|| "–".to_owned(), |t| format!("{:.2}×", r.rps() / t.rps()))
    };
    let direct = find(PathKind::Direct);
    let nginx = find(PathKind::Nginx);
    let mut out = format!(
        "Throughput, closed loop, {} connections (median of {} runs of {} s):\n\n\
         | path | req/s | min–max | vs nginx | vs direct | proxy CPU s per 1k req | proxy busy | upstream conns | errors |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
        settings.connections, settings.rounds, settings.seconds
    );
    for r in results {
        let (lo, hi) = r.spread();
        let errors = match r.errors() {
            0 => "0".to_owned(),
            n => format!("**{n}**"),
        };
        out.push_str(&format!(
            "| {} | {} | {}–{} | {} | {} | {} | {} | {} | {errors} |\n",
            r.kind.name(),
            record::thousands(r.rps()),
            record::thousands(lo),
            record::thousands(hi),
            ratio(r, nginx),
            ratio(r, direct),
            r.cpu_per_1k()
                .map_or_else(|| "–".into(), |c| format!("{c:.3}")),
            r.busy()
                .map_or_else(|| "–".into(), |b| format!("{:.0}%", b * 100.0)),
            r.upstream_connections(),
        ));
    }
    out.push_str(&format!(
        "\nLatency, open loop at {}/s ({basis}), median of {} runs:\n\n\
         | path | p50 | p90 | p99 | added p50 vs direct | added p99 vs direct |\n\
         |---|--:|--:|--:|--:|--:|\n",
        record::thousands(open_rate),
        settings.rounds
    ));
    for r in results {
        let cell = |d: Option<Duration>| d.map_or_else(|| "–".into(), record::ms);
        let added = |pick: fn(&loadgen::Latency) -> Duration| match (
            r.open_latency(pick),
            direct.and_then(|d| d.open_latency(pick)),
        ) {
            (Some(a), Some(b)) if r.kind != PathKind::Direct => signed_ms(a, b),
            _ => "–".into(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.kind.name(),
            cell(r.open_latency(|l| l.p50)),
            cell(r.open_latency(|l| l.p90)),
            cell(r.open_latency(|l| l.p99)),
            added(|l| l.p50),
            added(|l| l.p99),
        ));
    }
    out
}

/// `a − b` in milliseconds, with its sign.
fn signed_ms(a: Duration, b: Duration) -> String {
    if a >= b {
        format!("+{}", record::ms(a - b))
    } else {
        format!("−{}", record::ms(b - a))
    }
}

/// The issue's aims, met or not, in plain words.
fn aims(results: &[PathResult]) -> String {
    let find = |kind| results.iter().find(|r| r.kind == kind);
    let verdict = |met: bool| if met { "met" } else { "**not met**" };
    let mut out = String::from("Aims (issue 6):\n");
    match (find(PathKind::Zaffre), find(PathKind::Nginx)) {
        (Some(z), Some(n)) if n.rps() > 0.0 => {
            let ratio = z.rps() / n.rps();
            out.push_str(&format!(
                "- zaffre ≥ 0.7× nginx's throughput: {ratio:.2}×, {}\n",
                verdict(ratio >= NGINX_RATIO_AIM)
            ));
        }
        _ => out.push_str("- zaffre ≥ 0.7× nginx's throughput: not measured in this run\n"),
    }
    if let Some((z, n)) = find(PathKind::Zaffre)
        .and_then(|z| z.cpu_per_1k())
        .zip(find(PathKind::Nginx).and_then(|n| n.cpu_per_1k()))
        .filter(|(z, _)| *z > 0.0)
    {
        // What the ratio would be with a CPU each to themselves: steadier
        // than req/s when other work shares the machine.
        let ratio = n / z;
        out.push_str(&format!(
            "- the same by CPU time per request ({:.0} µs for zaffre, {:.0} µs for nginx): {ratio:.2}×, {}\n",
            z * 1000.0,
            n * 1000.0,
            verdict(ratio >= NGINX_RATIO_AIM)
        ));
    }
    match (find(PathKind::Zaffre), find(PathKind::Direct)) {
        (Some(z), Some(d)) => match (z.open_latency(|l| l.p99), d.open_latency(|l| l.p99)) {
            (Some(zp), Some(dp)) => {
                let added = zp.saturating_sub(dp);
                out.push_str(&format!(
                    "- at most 1 ms added p99 over direct at half zaffre's peak: {}, {}\n",
                    signed_ms(zp, dp),
                    verdict(added <= ADDED_P99_AIM)
                ));
            }
            _ => out.push_str("- added p99: no latency sample\n"),
        },
        _ => out.push_str(
            "- at most 1 ms added p99 over direct at half zaffre's peak: not measured in this run\n",
        ),
    }
    out
}

struct Versions {
    machine: record::Machine,
    nginx: Option<String>,
    /// 1-minute load averages before each measurement.
    load: Vec<f64>,
}

/// Writes (or replaces) today's proxy section of `path`.
fn write_record(
    path: &Path,
    settings: &Settings,
    table: &str,
    aims: &str,
    versions: &Versions,
) -> Result<()> {
    use std::fmt::Write as _;
    let (date, time) = record::utc_now();
    let m = &versions.machine;
    let mut s = String::new();
    let _ = writeln!(s, "## Egress proxy ({date})\n");
    let _ = writeln!(
        s,
        "Measured {date} {time} UTC on commit {} by `cargo xtask bench proxy --record`, release \
         build, loopback, HTTP/1.1 keep-alive on both legs.\n",
        m.commit
    );
    let _ = writeln!(s, "{table}\n{aims}");
    let _ = writeln!(s, "Machine and settings:\n");
    let _ = writeln!(
        s,
        "- CPU: {} logical CPUs (nproc), {}; memory {}; kernel {}",
        m.cpus, m.cpu_model, m.memory, m.kernel
    );
    let _ = writeln!(s, "- {}", m.rustc);
    match &settings.pinning {
        Some(p) => {
            let _ = writeln!(
                s,
                "- pinning (taskset): the proxy under test (nginx with 1 worker, or zaffre) alone on \
                 CPU {}; the load generator and the upstream on CPU {}",
                p.proxy, p.client
            );
        }
        None => {
            let _ = writeln!(s, "- nothing pinned; nginx with one worker per CPU");
        }
    }
    if let Some(v) = &versions.nginx {
        let _ = writeln!(
            s,
            "- nginx {v} (Debian), `proxy_pass` to an upstream block with `keepalive 64`"
        );
    }
    if !versions.load.is_empty() {
        let lo = versions.load.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = versions.load.iter().copied().fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "- 1-minute load average before the measurements: {lo:.2} to {hi:.2}{}",
            if hi > 1.0 {
                " (other work was running on the machine: figures are noisy)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        s,
        "- each run: {} s after a {} s warm-up; {} runs per path and load, paths interleaved; \
         {} connection(s); {} load generator thread(s)",
        settings.seconds, settings.warmup, settings.rounds, settings.connections, settings.threads
    );
    let key = format!("bench-proxy:{date}");
    let section = format!("<!-- {key} -->\n{s}<!-- /{key} -->\n");
    let doc =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc = record::replace_section(&doc, &key, &section);
    std::fs::write(path, doc).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            STANDARD.encode(mac),
            STANDARD.encode([
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
                0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
                0x64, 0xec, 0x38, 0x43
            ])
        );
    }

    fn sign(header: &Value, claims: &Value, secret: &[u8]) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{h}.{p}");
        let s = URL_SAFE_NO_PAD.encode(hmac_sha256(secret, signed.as_bytes()));
        format!("{signed}.{s}")
    }

    #[test]
    fn jwts_are_checked() {
        let hs = json!({"alg": "HS256", "typ": "JWT"});
        let good = sign(&hs, &json!({"exp": 2000, "iat": 1000}), b"s3cret");
        assert_eq!(verify_hs256(&good, b"s3cret", 1500), Ok(()));
        assert!(verify_hs256(&good, b"other", 1500).is_err());
        assert!(verify_hs256(&good, b"s3cret", 2001).is_err());
        let none = sign(&json!({"alg": "none"}), &json!({"exp": 2000}), b"s3cret");
        assert!(verify_hs256(&none, b"s3cret", 1500).is_err());
        assert!(verify_hs256("a.b", b"s3cret", 1500).is_err());
        assert!(verify_hs256(&format!("{good}.x"), b"s3cret", 1500).is_err());
    }

    #[test]
    fn cpu_lists_and_medians() {
        assert_eq!(parse_cpu_list("0-2,5").unwrap(), vec![0, 1, 2, 5]);
        assert_eq!(parse_cpu_list("1").unwrap(), vec![1]);
        assert!(parse_cpu_list("x").is_err());
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), 2.5);
    }

    #[test]
    fn signed_differences() {
        assert_eq!(
            signed_ms(Duration::from_micros(900), Duration::from_micros(400)),
            "+0.50 ms"
        );
        assert_eq!(
            signed_ms(Duration::from_micros(400), Duration::from_micros(900)),
            "−0.50 ms"
        );
    }
}
