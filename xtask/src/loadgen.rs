//! An HTTP/1.1 load generator on hyper 1, written for `cargo xtask bench`.
//!
//! Each of N connections is kept alive for the whole run. Two ways to load it:
//!
//! - **closed loop**: every connection sends its next request as soon as the
//!   previous answer is read. This finds the maximum throughput; its latencies
//!   are those of a saturated server (mostly queueing), so they are reported
//!   but not the latency figure to quote.
//! - **open loop**: a pacer thread schedules requests at a fixed rate,
//!   round-robin over the connections, and latency is measured from the
//!   *scheduled* send time, not from when the request actually left. A server
//!   stall therefore shows up in the latency of every request it delayed, as it
//!   would for real clients, instead of silently slowing the generator down
//!   ("coordinated omission", as wrk2 and the Envoy benchmarking notes describe).
//!
//! The first `warmup` of every run is load without measurement. Every sample is
//! kept in memory and sorted for the percentiles: a few hundred thousand u64s.
//! Any answer other than 2xx, and any transport error or timeout, is counted as
//! an error by kind and never as a latency sample.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// A request that takes longer than this is counted as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long after the end of an open-loop run queued requests may still finish.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// The server under load and how to authenticate to it.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The full `Authorization` header value; empty sends none.
    pub authorization: String,
}

/// What each request does.
#[derive(Debug, Clone)]
pub enum Workload {
    /// `GET path`.
    Get { path: String },
    /// `PUT /api/v2/tickets/{id}.json`: connection *i* updates
    /// `ticket_ids[i % len]`, alternating its priority between high and low so
    /// that every request is a real change (and writes an audit entry).
    UpdatePriority { ticket_ids: Vec<u64> },
    /// Any request, the same every time: `method path` with these extra
    /// headers and this body (sent with `Content-Type: application/json`
    /// when not empty). Used by `cargo xtask bench proxy` for its POSTs to
    /// zaffre's proxy endpoint and for GETs carrying a secret header.
    Fixed {
        method: Method,
        path: String,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Bytes,
    },
}

#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Closed,
    /// Requests per second, spread evenly over time and round-robin over connections.
    Open {
        rate: f64,
    },
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub mode: Mode,
    /// Load generator threads; the server shares the machine's cores with them.
    pub threads: usize,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// 2xx answers to requests started (closed loop) or scheduled (open loop)
    /// inside the measured window.
    pub ok: u64,
    /// Error kind → count, for requests inside the measured window.
    pub errors: BTreeMap<String, u64>,
    /// Error kind → the start of the first answer of that kind.
    pub examples: BTreeMap<String, String>,
    pub duration: Duration,
    pub latency: Option<Latency>,
    /// CPU time the generator itself used over the whole run (warm-up
    /// included), from /proc: the server had the rest of the machine.
    pub generator_cpu: Option<Duration>,
    /// Wall time of the whole run, warm-up included, to put `generator_cpu` against.
    pub wall: Duration,
    /// The server's CPU time over the run, when the caller measured it.
    pub server_cpu: Option<Duration>,
}

impl Report {
    /// The generator's CPU use as a share of one core.
    pub fn generator_share(&self) -> Option<f64> {
        let cpu = self.generator_cpu?;
        (self.wall > Duration::ZERO).then(|| cpu.as_secs_f64() / self.wall.as_secs_f64())
    }

    /// The server's CPU time per request, extrapolating the measured rate
    /// over the warm-up too. Unlike req/s, this hardly depends on what else
    /// the machine is doing, so it says what two idle cores could reach.
    pub fn server_cpu_per_request(&self) -> Option<Duration> {
        let cpu = self.server_cpu?;
        let requests = (self.ok + self.error_count()) as f64 * self.wall.as_secs_f64()
            / self.duration.as_secs_f64();
        (requests >= 1.0).then(|| Duration::from_secs_f64(cpu.as_secs_f64() / requests))
    }

    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.duration.as_secs_f64()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latency {
    /// Nearest-rank percentiles of `samples` (nanoseconds), which it sorts.
    pub fn from_samples(samples: &mut [u64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let at = |p: f64| {
            let rank = (p * samples.len() as f64).ceil() as usize;
            Duration::from_nanos(samples[rank.clamp(1, samples.len()) - 1])
        };
        Some(Self {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: at(1.0),
        })
    }
}

/// Runs one measurement and blocks until it is over.
pub fn run(target: &Target, workload: &Workload, plan: &Plan) -> Result<Report> {
    if plan.connections == 0 {
        bail!("at least one connection is needed");
    }
    if let Mode::Open { rate } = plan.mode {
        if !(rate.is_finite() && rate > 0.0) {
            bail!("the open-loop rate must be positive, not {rate}");
        }
    }
    if let Workload::UpdatePriority { ticket_ids } = workload {
        if ticket_ids.is_empty() {
            bail!("no ticket to update");
        }
    }
    let runtime = runtime(plan.threads)?;
    runtime.block_on(run_async(target, workload, plan))
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    builder
        .enable_all()
        .build()
        .context("starting the load generator's runtime")
}

/// Request parts prepared once, so the hot loop only clones cheap handles.
struct Shared {
    target: Target,
    host: HeaderValue,
    authorization: Option<HeaderValue>,
    json: HeaderValue,
    workload: Workload,
}

impl Shared {
    fn request(&self, connection: usize, n: u64) -> Result<Request<Full<Bytes>>> {
        let mut extra: &[(HeaderName, HeaderValue)] = &[];
        let (method, uri, body) = match &self.workload {
            Workload::Get { path } => (Method::GET, path.clone(), Bytes::new()),
            Workload::Fixed {
                method,
                path,
                headers,
                body,
            } => {
                extra = headers;
                // Bytes clones are reference counts, not copies.
                (method.clone(), path.clone(), body.clone())
            }
            Workload::UpdatePriority { ticket_ids } => {
                let id = ticket_ids[connection % ticket_ids.len()];
                // Connections start on different values so neighbours sharing a
                // ticket (more connections than tickets) still change it.
                let high = (n + connection as u64) & 1 == 0;
                let body: &'static [u8] = if high {
                    br#"{"ticket":{"priority":"high"}}"#
                } else {
                    br#"{"ticket":{"priority":"low"}}"#
                };
                (
                    Method::PUT,
                    format!("/api/v2/tickets/{id}.json"),
                    Bytes::from_static(body),
                )
            }
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, self.host.clone())
            .header(ACCEPT, self.json.clone());
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        for (name, value) in extra {
            builder = builder.header(name.clone(), value.clone());
        }
        if !body.is_empty() {
            builder = builder.header(CONTENT_TYPE, self.json.clone());
        }
        builder.body(Full::new(body)).context("building a request")
    }
}

/// One worker's tally.
#[derive(Default)]
struct Tally {
    ok: u64,
    samples: Vec<u64>,
    errors: BTreeMap<String, u64>,
    examples: BTreeMap<String, String>,
}

impl Tally {
    fn record(&mut self, outcome: Result<(u16, Bytes), String>, latency: Duration) {
        match outcome {
            Ok((status, _)) if (200..300).contains(&status) => {
                self.ok += 1;
                self.samples
                    .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
            }
            Ok((status, body)) => {
                let kind = format!("HTTP {status}");
                // The first body of each kind says why; the rest would repeat it.
                self.examples.entry(kind.clone()).or_insert_with(|| {
                    let text = String::from_utf8_lossy(&body);
                    text.chars().take(300).collect()
                });
                *self.errors.entry(kind).or_default() += 1;
            }
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.samples.extend(other.samples);
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
        for (kind, example) in other.examples {
            self.examples.entry(kind).or_insert(example);
        }
    }
}

type Sender = SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // Requests are small and answered one at a time: don't let Nagle hold them.
    stream
        .set_nodelay(true)
        .map_err(|e| format!("connect: {e}"))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        // Errors surface on the sender side as well, where they are counted.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one request on `conn` (reconnecting first if it was lost) and reads
/// the whole answer, which keep-alive needs before the next request.
async fn exchange(
    conn: &mut Option<Sender>,
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<(u16, Bytes), String> {
    let attempt = async {
        if conn.is_none() {
            *conn = Some(connect(addr).await?);
        }
        let Some(sender) = conn.as_mut() else {
            return Err("no connection".to_owned());
        };
        sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading body: {e}"))?
            .to_bytes();
        Ok((status, body))
    };
    let outcome = match tokio::time::timeout(REQUEST_TIMEOUT, attempt).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("timeout (> {} s)", REQUEST_TIMEOUT.as_secs())),
    };
    if outcome.is_err() {
        // The connection's state is unknown after a failure: start afresh.
        *conn = None;
    }
    outcome
}

async fn run_async(target: &Target, workload: &Workload, plan: &Plan) -> Result<Report> {
    let shared = Arc::new(Shared {
        target: target.clone(),
        host: HeaderValue::from_str(&target.addr.to_string()).context("Host header")?,
        authorization: if target.authorization.is_empty() {
            None
        } else {
            Some(
                HeaderValue::from_str(&target.authorization)
                    .context("the Authorization header value is not valid")?,
            )
        },
        json: HeaderValue::from_static("application/json"),
        workload: workload.clone(),
    });
    // Connect everything before the clock starts, so connection set-up is
    // not part of any latency.
    let mut conns = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections {
        let sender = connect(target.addr)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("opening a connection to {}", target.addr))?;
        conns.push(Some(sender));
    }
    let cpu_before = process_cpu();
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let end = measure_from + plan.duration;

    let tally = match plan.mode {
        Mode::Closed => {
            let mut handles = Vec::new();
            for (i, conn) in conns.into_iter().enumerate() {
                let shared = Arc::clone(&shared);
                handles.push(tokio::spawn(closed_worker(
                    shared,
                    i,
                    conn,
                    measure_from,
                    end,
                )));
            }
            join(handles).await?
        }
        Mode::Open { rate } => {
            let mut handles = Vec::new();
            let mut queues = Vec::new();
            for (i, conn) in conns.into_iter().enumerate() {
                let (tx, rx) = mpsc::unbounded_channel();
                queues.push(tx);
                let shared = Arc::clone(&shared);
                handles.push(tokio::spawn(open_worker(
                    shared,
                    i,
                    conn,
                    rx,
                    measure_from,
                    end + DRAIN_GRACE,
                )));
            }
            let pacer = std::thread::Builder::new()
                .name("pacer".into())
                .spawn(move || pace(queues, rate, start, measure_from, end))
                .context("starting the pacer thread")?;
            let mut tally = join(handles).await?;
            let scheduled = pacer
                .join()
                .map_err(|_| anyhow::anyhow!("the pacer thread panicked"))?;
            let answered = tally.ok + tally.errors.values().sum::<u64>();
            if scheduled > answered {
                *tally
                    .errors
                    .entry("not answered before the end of the run".into())
                    .or_default() += scheduled - answered;
            }
            tally
        }
    };
    let Tally {
        ok,
        mut samples,
        errors,
        examples,
    } = tally;
    Ok(Report {
        ok,
        errors,
        examples,
        duration: plan.duration,
        latency: Latency::from_samples(&mut samples),
        generator_cpu: process_cpu()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before)),
        wall: start.elapsed(),
        server_cpu: None,
    })
}

async fn join(handles: Vec<tokio::task::JoinHandle<Tally>>) -> Result<Tally> {
    let mut total = Tally::default();
    for handle in handles {
        total.merge(handle.await.context("a load generator task failed")?);
    }
    Ok(total)
}

async fn closed_worker(
    shared: Arc<Shared>,
    index: usize,
    mut conn: Option<Sender>,
    measure_from: Instant,
    end: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut n = 0u64;
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let outcome = match shared.request(index, n) {
            Ok(request) => exchange(&mut conn, shared.target.addr, request).await,
            Err(e) => Err(format!("{e:#}")),
        };
        n += 1;
        let failed = outcome.is_err();
        if started >= measure_from {
            tally.record(outcome, started.elapsed());
        }
        if failed {
            // Don't spin on a server that refuses connections.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tally
}

async fn open_worker(
    shared: Arc<Shared>,
    index: usize,
    mut conn: Option<Sender>,
    mut queue: mpsc::UnboundedReceiver<Instant>,
    measure_from: Instant,
    give_up_at: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut n = 0u64;
    while let Some(scheduled) = queue.recv().await {
        if Instant::now() >= give_up_at {
            // Left unanswered: the caller counts these from the pacer's total.
            continue;
        }
        let outcome = match shared.request(index, n) {
            Ok(request) => exchange(&mut conn, shared.target.addr, request).await,
            Err(e) => Err(format!("{e:#}")),
        };
        n += 1;
        if scheduled >= measure_from {
            // From the scheduled time: waiting for a busy connection counts.
            tally.record(outcome, scheduled.elapsed());
        }
    }
    tally
}

/// Hands out send times at a fixed rate until `end`, round-robin over the
/// connections. Runs on its own thread: `std::thread::sleep` is precise to
/// tens of microseconds, where tokio's timer rounds to whole milliseconds.
/// Returns how many sends were scheduled inside the measured window.
fn pace(
    queues: Vec<mpsc::UnboundedSender<Instant>>,
    rate: f64,
    start: Instant,
    measure_from: Instant,
    end: Instant,
) -> u64 {
    let mut in_window = 0;
    let mut k: u64 = 0;
    loop {
        let due = start + Duration::from_secs_f64(k as f64 / rate);
        if due >= end {
            break;
        }
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let queue = &queues[(k % queues.len() as u64) as usize];
        if queue.send(due).is_err() {
            break;
        }
        if due >= measure_from {
            in_window += 1;
        }
        k += 1;
    }
    in_window
}

/// This process's user and system CPU time so far.
fn process_cpu() -> Option<Duration> {
    cpu_of("self")
}

/// A process's user and system CPU time so far (all its threads), from
/// `/proc/<pid>/stat`; `pid` may be `self`.
pub fn cpu_of(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: count from after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) are utime and stime; field 3 is fields[0] here.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in USER_HZ, which is 100 on every platform it runs.
    Some(Duration::from_millis(ticks * 10))
}

/// One request outside any measurement (setup: listing tickets and such).
/// Returns the status and the body parsed as JSON (`Null` when empty).
pub fn request_json(
    target: &Target,
    method: Method,
    path: &str,
) -> Result<(u16, serde_json::Value)> {
    request_with_body(target, method, path, None)
}

/// Like [`request_json`], with a body and its content type.
pub fn request_with_body(
    target: &Target,
    method: Method,
    path: &str,
    body: Option<(&str, Bytes)>,
) -> Result<(u16, serde_json::Value)> {
    let runtime = runtime(1)?;
    runtime.block_on(async {
        let mut sender = connect(target.addr)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("connecting to {}", target.addr))?;
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, target.addr.to_string())
            .header(ACCEPT, "application/json");
        if !target.authorization.is_empty() {
            builder = builder.header(AUTHORIZATION, &target.authorization);
        }
        let content = match body {
            Some((content_type, bytes)) => {
                builder = builder.header(CONTENT_TYPE, content_type);
                bytes
            }
            None => Bytes::new(),
        };
        let request = builder
            .body(Full::new(content))
            .context("building a request")?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, sender.send_request(request))
            .await
            .with_context(|| format!("{path} timed out"))?
            .with_context(|| format!("requesting {path}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .with_context(|| format!("reading the answer to {path}"))?
            .to_bytes();
        let json = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&body).into_owned())
            })
        };
        Ok((status, json))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut samples: Vec<u64> = (1..=100).rev().collect();
        let l = Latency::from_samples(&mut samples).unwrap();
        assert_eq!(l.p50, Duration::from_nanos(50));
        assert_eq!(l.p90, Duration::from_nanos(90));
        assert_eq!(l.p99, Duration::from_nanos(99));
        assert_eq!(l.max, Duration::from_nanos(100));
        let l = Latency::from_samples(&mut [7]).unwrap();
        assert_eq!(
            (l.p50, l.max),
            (Duration::from_nanos(7), Duration::from_nanos(7))
        );
        assert!(Latency::from_samples(&mut []).is_none());
    }

    /// A tiny keep-alive HTTP server on a std thread, enough to exercise the
    /// generator end to end without the real server.
    fn toy_server(status_line: &'static str) -> SocketAddr {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    loop {
                        let mut length = 0usize;
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if let Some(v) =
                                line.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                length = v.trim().parse().unwrap_or(0);
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        let mut body = vec![0; length];
                        if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
                            return;
                        }
                        let answer = format!("{status_line}\r\ncontent-length: 2\r\n\r\n{{}}");
                        if writer.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn plan(mode: Mode) -> Plan {
        Plan {
            connections: 2,
            warmup: Duration::from_millis(50),
            duration: Duration::from_millis(300),
            mode,
            threads: 1,
        }
    }

    #[test]
    fn closed_and_open_loops_measure_a_server() {
        let target = Target {
            addr: toy_server("HTTP/1.1 200 OK"),
            authorization: "Basic eDp5".into(),
        };
        let get = Workload::Get {
            path: "/api/v2/tickets/1.json".into(),
        };
        let closed = run(&target, &get, &plan(Mode::Closed)).unwrap();
        assert!(closed.ok > 10, "{closed:?}");
        assert_eq!(closed.error_count(), 0, "{closed:?}");
        assert!(closed.latency.is_some());

        let open = run(&target, &get, &plan(Mode::Open { rate: 200.0 })).unwrap();
        // 200/s for 0.3 s: about 60 requests in the window.
        assert!((50..=70).contains(&open.ok), "{open:?}");
        assert_eq!(open.error_count(), 0, "{open:?}");

        let put = Workload::UpdatePriority {
            ticket_ids: vec![1, 2],
        };
        let writes = run(&target, &put, &plan(Mode::Closed)).unwrap();
        assert!(writes.ok > 10 && writes.error_count() == 0, "{writes:?}");
    }

    #[test]
    fn non_2xx_answers_are_errors() {
        let target = Target {
            addr: toy_server("HTTP/1.1 429 Too Many Requests"),
            authorization: "Basic eDp5".into(),
        };
        let get = Workload::Get { path: "/".into() };
        let report = run(&target, &get, &plan(Mode::Closed)).unwrap();
        assert_eq!(report.ok, 0);
        assert!(
            report.errors.get("HTTP 429").copied().unwrap_or(0) > 0,
            "{report:?}"
        );
        assert!(report.latency.is_none());
    }
}
