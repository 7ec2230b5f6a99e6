//! Presenting benchmark figures: the markdown table and the check against the
//! foundation issue's targets that `cargo xtask bench api` prints, the facts
//! about the machine that make figures comparable, and the dated section that
//! `--record` writes into `docs/benchmarks.md` (replacing that day's section if
//! there is one, leaving the rest of the file alone).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::bench::{Engine, EngineResult, Settings};
use crate::loadgen::Report;
use crate::proc;

/// The targets from the foundation issue, on this 2-core machine, SQLite.
const READS_TARGET: f64 = 15_000.0;
const READ_P99_TARGET: Duration = Duration::from_millis(5);
const WRITES_TARGET: f64 = 1_500.0;

/// Written when docs/benchmarks.md does not exist yet.
const INTRO: &str = "# Benchmarks

Figures measured by `cargo xtask bench api --record`; each run replaces the section of its day.
See the end of this file for how they are taken.
";

/// A latency in milliseconds, with precision where it matters.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A whole number with thousands separators: 15,000.
pub(crate) fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row(out: &mut String, engine: Engine, request: &str, load: &str, r: &Report) {
    let l = r.latency;
    let cell = |f: fn(&crate::loadgen::Latency) -> Duration| {
        l.as_ref().map_or_else(|| "–".to_owned(), |l| ms(f(l)))
    };
    let generator = r
        .generator_share()
        .map_or_else(|| "–".to_owned(), |share| format!("{:.0}%", share * 100.0));
    let server = r.server_cpu_per_request().map_or_else(
        || "–".to_owned(),
        |cpu| format!("{:.0} µs", cpu.as_secs_f64() * 1e6),
    );
    let errors = match r.error_count() {
        0 => "0".to_owned(),
        n => format!("**{n}**"),
    };
    let _ = writeln!(
        out,
        "| {} | {request} | {load} | {} | {} | {} | {} | {} | {errors} | {generator} | {server} |",
        engine.name(),
        thousands(r.rps()),
        cell(|l| l.p50),
        cell(|l| l.p90),
        cell(|l| l.p99),
        cell(|l| l.max),
    );
}

/// The results as a markdown table.
pub fn table(results: &[EngineResult], settings: &Settings) -> String {
    let mut out = String::from(
        "| engine | request | load | req/s | p50 | p90 | p99 | max | errors | generator CPU | server CPU per request |\n\
         |---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    let c = settings.connections;
    for r in results {
        row(
            &mut out,
            r.engine,
            "`GET /api/v2/tickets/{id}.json`",
            &format!("closed loop, {c} connections"),
            &r.reads_max,
        );
        row(
            &mut out,
            r.engine,
            "`GET /api/v2/tickets/{id}.json`",
            &format!("open loop at {}/s (half the max)", thousands(r.open_rate)),
            &r.reads_open,
        );
        row(
            &mut out,
            r.engine,
            "`PUT /api/v2/tickets/{id}.json`",
            &format!(
                "closed loop, {c} connections, {} tickets",
                r.tickets_updated
            ),
            &r.writes,
        );
    }
    out
}

/// The figures against the targets; a plain statement either way.
pub fn targets(results: &[EngineResult]) -> String {
    let Some(r) = results.iter().find(|r| r.engine == Engine::Sqlite) else {
        return "Targets (SQLite): not measured in this run.\n".into();
    };
    let verdict = |met: bool| if met { "met" } else { "**not met**" };
    let reads = r.reads_max.rps();
    let p99 = r.reads_open.latency.map(|l| l.p99);
    let writes = r.writes.rps();
    format!(
        "Targets on SQLite (foundation issue):\n\
         - ticket reads ≥ 15,000 req/s: {} req/s, {}\n\
         - read p99 < 5 ms at half that rate: {}, {}\n\
         - updates ≥ 1,500/s: {}/s, {}\n",
        thousands(reads),
        verdict(reads >= READS_TARGET),
        p99.map_or_else(|| "no sample".into(), ms),
        verdict(p99.is_some_and(|p| p < READ_P99_TARGET)),
        thousands(writes),
        verdict(writes >= WRITES_TARGET),
    )
}

/// Facts that decide whether two sets of figures can be compared.
pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) memory: String,
    pub(crate) kernel: String,
    pub(crate) rustc: String,
    pub(crate) commit: String,
}

pub(crate) fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".into(), |(_, m)| m.trim().to_owned());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let kb: f64 = m
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".into(), |k| k.trim().to_owned());
    let rustc =
        proc::output(Command::new("rustc").arg("--version")).unwrap_or_else(|_| "unknown".into());
    let root = proc::workspace_root();
    let commit =
        proc::output(
            Command::new("git")
                .current_dir(&root)
                .args(["rev-parse", "--short", "HEAD"]),
        )
        .map(|sha| {
            let dirty = proc::output(Command::new("git").current_dir(&root).args([
                "status",
                "--porcelain",
                "--untracked-files=no",
            ]))
            .map(|s| !s.is_empty())
            .unwrap_or(false);
            if dirty {
                format!("{sha} with uncommitted changes")
            } else {
                sha
            }
        })
        .unwrap_or_else(|_| "unknown".into());
    Machine {
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model,
        memory,
        kernel,
        rustc,
        commit,
    }
}

/// Writes (or replaces) today's section of `path`.
pub fn write(
    path: &Path,
    results: &[EngineResult],
    settings: &Settings,
    table: &str,
    targets: &str,
) -> Result<()> {
    let (date, time) = utc_now();
    let m = machine();
    let mut s = String::new();
    let _ = writeln!(s, "## {date}\n");
    let _ = writeln!(
        s,
        "Measured {date} {time} UTC on commit {}, release build, loopback, HTTP/1.1 keep-alive.\n",
        m.commit
    );
    let _ = writeln!(s, "{table}\n{targets}");
    if let Some(bin) = &settings.server_bin {
        let _ = writeln!(s, "Server binary measured: `{}`.\n", bin.display());
    }
    let _ = writeln!(s, "Machine and settings:\n");
    let _ = writeln!(
        s,
        "- CPU: {} logical CPUs (nproc), {}; the server and the load generator share them",
        m.cpus, m.cpu_model
    );
    let _ = writeln!(s, "- memory: {}; kernel {}", m.memory, m.kernel);
    let _ = writeln!(s, "- {}", m.rustc);
    for r in results {
        if let Some(load) = r.load_before {
            let _ = writeln!(
                s,
                "- 1-minute load average just before the {} measurements: {load:.2}{}",
                r.engine.name(),
                if load > 0.5 {
                    " (other work was running: figures are low)"
                } else {
                    ""
                }
            );
        }
    }
    for r in results {
        if let Some(v) = &r.server_version {
            let _ = writeln!(s, "- {}: server {v}, on the same machine", r.engine.name());
        }
    }
    let _ = writeln!(
        s,
        "- each measurement: {} s after a {} s warm-up; {} connection(s); {} load generator thread(s)",
        settings.duration.as_secs(),
        settings.warmup.as_secs(),
        settings.connections,
        settings.threads
    );
    let auths: Vec<&str> = results.iter().map(|r| r.auth).collect();
    let _ = writeln!(s, "- authentication: {}", dedup(&auths).join(", "));

    let key = format!("bench:{date}");
    let section = format!("<!-- {key} -->\n{s}<!-- /{key} -->\n");
    let doc = match std::fs::read_to_string(path) {
        Ok(doc) => doc,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => INTRO.to_owned(),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let doc = replace_section(&doc, &key, &section);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, doc).with_context(|| format!("writing {}", path.display()))
}

fn dedup<'a>(items: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(item) {
            out.push(item);
        }
    }
    out
}

/// Replaces the section between `<!-- key -->` and `<!-- /key -->`, or, when
/// there is none, inserts it before the `<!-- bench:end -->` marker (which
/// keeps the method notes at the end of the file), or appends it.
pub(crate) fn replace_section(doc: &str, key: &str, section: &str) -> String {
    let open = format!("<!-- {key} -->");
    let close = format!("<!-- /{key} -->");
    if let (Some(start), Some(end)) = (doc.find(&open), doc.find(&close)) {
        if start < end {
            let mut end = end + close.len();
            if doc[end..].starts_with('\n') {
                end += 1;
            }
            return format!("{}{section}{}", &doc[..start], &doc[end..]);
        }
    }
    if let Some(at) = doc.find("<!-- bench:end -->") {
        return format!("{}{section}\n{}", &doc[..at], &doc[at..]);
    }
    let mut out = doc.to_owned();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    out.push_str(section);
    out
}

/// Today's date and the time, in UTC, without a date library.
pub(crate) fn utc_now() -> (String, String) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}", rest / 3600, rest % 3600 / 60),
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_computed() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
    }

    #[test]
    fn numbers_are_formatted() {
        assert_eq!(thousands(15_000.4), "15,000");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(ms(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(ms(Duration::from_micros(12_340)), "12.3 ms");
    }

    #[test]
    fn sections_are_replaced_or_inserted() {
        let doc = "# B\n\n<!-- bench:end -->\n## Method\n";
        let once = replace_section(
            doc,
            "bench:2026-01-01",
            "<!-- bench:2026-01-01 -->\nA\n<!-- /bench:2026-01-01 -->\n",
        );
        assert_eq!(
            once,
            "# B\n\n<!-- bench:2026-01-01 -->\nA\n<!-- /bench:2026-01-01 -->\n\n<!-- bench:end -->\n## Method\n"
        );
        let twice = replace_section(
            &once,
            "bench:2026-01-01",
            "<!-- bench:2026-01-01 -->\nB\n<!-- /bench:2026-01-01 -->\n",
        );
        assert_eq!(twice, once.replace("\nA\n", "\nB\n"));
        let appended = replace_section("# B", "k", "<!-- k -->\nC\n<!-- /k -->\n");
        assert_eq!(appended, "# B\n\n<!-- k -->\nC\n<!-- /k -->\n");
    }
}
