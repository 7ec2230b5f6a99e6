//! `cargo xtask bench sdk`: the ZAF SDK's round trips in headless Chromium
//! against a release build.
//!
//! The measuring happens in the browser, so this module only builds
//! `target/release/zaffre`, runs `node tests/browser/bench-sdk.mjs` with it
//! (the script starts its own server, installs the conformance app and
//! measures from inside the app iframe), reads the figures the script writes
//! as JSON, prints them, and with `--record` writes them into
//! `docs/benchmarks.md` beside the machine's facts, replacing that day's SDK
//! section. A benchmark, not a test: the issue's aims are stated, never
//! enforced.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value;

use crate::{bench, proc, record};

/// The issue's aims: ratios to the bare round trip, and milliseconds.
const GET_AIM: f64 = 1.2;
const BULK_AIM: f64 = 2.0;
const REGISTRATION_AIM_MS: f64 = 30.0;

#[derive(Debug, Args)]
pub struct SdkArgs {
    /// Round trips measured for the bare message and the single get (a bulk
    /// get every fifth round).
    #[arg(long, default_value_t = 1000)]
    rounds: u32,
    /// Iframes created (after a warm-up one) to time registration.
    #[arg(long, default_value_t = 30)]
    registrations: u32,
    /// Write the figures and the machine's facts to docs/benchmarks.md.
    #[arg(long)]
    record: bool,
    /// Measure this zaffre binary instead of building target/release/zaffre.
    #[arg(long, value_name = "PATH")]
    server_bin: Option<PathBuf>,
}

pub fn run(args: &SdkArgs) -> Result<()> {
    if args.rounds == 0 || args.registrations == 0 {
        bail!("--rounds and --registrations must be at least 1");
    }
    let root = proc::workspace_root();
    let zaffre = match &args.server_bin {
        Some(bin) => {
            std::path::absolute(bin).with_context(|| format!("resolving {}", bin.display()))?
        }
        None => {
            println!("==== Building the release binary ====");
            proc::run(proc::cargo().current_dir(&root).args([
                "build",
                "--release",
                "-p",
                "zaffre",
            ]))?;
            proc::target_dir(&root).join("release").join("zaffre")
        }
    };
    if !zaffre.is_file() {
        bail!("{} is missing", zaffre.display());
    }
    let json_path =
        std::env::temp_dir().join(format!("zaffre-bench-sdk-{}.json", std::process::id()));
    let load_before = bench::load_average();
    println!("\n==== Measuring in headless Chromium ====");
    let mut cmd = Command::new("node");
    cmd.current_dir(&root)
        .arg("tests/browser/bench-sdk.mjs")
        .env("ZAFFRE_BIN", &zaffre)
        .env("ROUNDS", args.rounds.to_string())
        .env("REGISTRATIONS", args.registrations.to_string())
        .env("BENCH_SDK_JSON", &json_path);
    proc::run(&mut cmd)?;
    let text = std::fs::read_to_string(&json_path)
        .with_context(|| format!("reading the figures from {}", json_path.display()))?;
    let _ = std::fs::remove_file(&json_path);
    let figures: Value = serde_json::from_str(&text).context("parsing the benchmark's JSON")?;
    let report = Figures::from_json(&figures)?;
    let table = report.table();
    let aims = report.aims();
    println!("\n==== Results ====\n\n{table}\n{aims}");
    if args.record {
        let path = root.join("docs").join("benchmarks.md");
        write(&path, &report, &table, &aims, load_before, &args.server_bin)?;
        println!("recorded in {}", path.display());
    }
    Ok(())
}

/// One latency distribution from the script, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Dist {
    samples: u64,
    p50: f64,
    p99: f64,
}

impl Dist {
    fn from_json(v: &Value, name: &str) -> Result<Self> {
        let field = |f: &str| {
            v[name][f]
                .as_f64()
                .with_context(|| format!("the benchmark's JSON lacks {name}.{f}"))
        };
        Ok(Dist {
            samples: field("samples")? as u64,
            p50: field("p50")?,
            p99: field("p99")?,
        })
    }
}

/// Everything one run measured.
#[derive(Debug)]
struct Figures {
    rounds: u64,
    chromium: String,
    bare: Dist,
    get: Dist,
    bulk: Dist,
    registration: Dist,
    /// p50 of each stage of a registration, ms after the iframe was inserted.
    stages: Vec<(String, Option<f64>)>,
    /// Bytes over the network per registration, by file (0: served from cache).
    transfer: Vec<(String, u64)>,
    sdk_raw: u64,
    sdk_gzip: u64,
    official_raw: u64,
    official_gzip: u64,
}

impl Figures {
    fn from_json(v: &Value) -> Result<Self> {
        let size = |who: &str, what: &str| {
            v["sizes"][who][what]
                .as_u64()
                .with_context(|| format!("the benchmark's JSON lacks sizes.{who}.{what}"))
        };
        let stages = v["stages"]
            .as_object()
            .map(|o| o.iter().map(|(k, x)| (k.clone(), x.as_f64())).collect())
            .unwrap_or_default();
        let transfer = v["transfer"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, x)| (k.clone(), x.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Figures {
            rounds: v["rounds"].as_u64().unwrap_or(0),
            chromium: v["chromium"].as_str().unwrap_or("unknown").to_owned(),
            bare: Dist::from_json(v, "bare")?,
            get: Dist::from_json(v, "get")?,
            bulk: Dist::from_json(v, "bulk50")?,
            registration: Dist::from_json(v, "registration")?,
            stages,
            transfer,
            sdk_raw: size("zaffre", "raw")?,
            sdk_gzip: size("zaffre", "gzip")?,
            official_raw: size("official", "raw")?,
            official_gzip: size("official", "gzip")?,
        })
    }

    fn table(&self) -> String {
        let mut out = String::from(
            "| measurement | samples | p50 | p99 | p50 ÷ bare p50 |\n|---|--:|--:|--:|--:|\n",
        );
        let bare = self.bare.p50;
        let mut row = |name: &str, d: Dist, ratio: bool| {
            let r = if ratio && bare > 0.0 {
                format!("{:.2}×", d.p50 / bare)
            } else {
                "–".into()
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {r} |",
                d.samples,
                fmt_ms(d.p50),
                fmt_ms(d.p99)
            );
        };
        row(
            "bare `postMessage` round trip (app frame → workspace page → app frame)",
            self.bare,
            false,
        );
        row("`client.get('ticket.subject')`", self.get, true);
        row("`client.get` of 50 paths", self.bulk, true);
        row(
            "iframe inserted → `app.registered` (cached assets)",
            self.registration,
            false,
        );
        out
    }

    fn aims(&self) -> String {
        let verdict = |met: bool| if met { "met" } else { "**not met**" };
        // Judged as printed (two decimals): the browser's timer has 0.1 ms steps, so 0.6 / 0.5
        // must read as the 1.20× it is, not as 1.2000000000000002.
        let ratio = |x: f64| (x / self.bare.p50 * 100.0).round() / 100.0;
        let get = ratio(self.get.p50);
        let bulk = ratio(self.bulk.p50);
        let reg = self.registration.p50;
        format!(
            "Aims (issue 5):\n\
             - single get within 1.2× the bare round trip (p50): {get:.2}×, {}\n\
             - bulk get of 50 paths within 2× (p50): {bulk:.2}×, {}\n\
             - registration under 30 ms (p50): {}, {}\n\
             - SDK gzipped (gzip -9, as served): zaffre {} bytes ({} raw), Zendesk's npm SDK \
             bundled and minified by esbuild {} bytes ({} raw); aim ≤ 4,096: {}\n",
            verdict(get <= GET_AIM),
            verdict(bulk <= BULK_AIM),
            fmt_ms(reg),
            verdict(reg < REGISTRATION_AIM_MS),
            record::thousands(self.sdk_gzip as f64),
            record::thousands(self.sdk_raw as f64),
            record::thousands(self.official_gzip as f64),
            record::thousands(self.official_raw as f64),
            verdict(self.sdk_gzip <= 4096),
        )
    }

    /// Where a registration's time goes, in one line.
    fn stages_line(&self) -> String {
        let names = [
            ("navigationStart", "the frame's document starts"),
            ("htmlLoaded", "its HTML is in"),
            ("sdkLoaded", "the SDK is in"),
            ("scriptsRun", "its scripts have run"),
            ("registered", "`app.registered` handled"),
        ];
        let parts: Vec<String> = names
            .iter()
            .filter_map(|(key, label)| {
                let v = self.stages.iter().find(|(k, _)| k == key)?.1?;
                Some(format!("{label} at {}", fmt_ms(v)))
            })
            .collect();
        parts.join(", ")
    }
}

/// Milliseconds with three decimals below 1 ms, two below 10, one above.
fn fmt_ms(x: f64) -> String {
    if x < 1.0 {
        format!("{x:.3} ms")
    } else if x < 10.0 {
        format!("{x:.2} ms")
    } else {
        format!("{x:.1} ms")
    }
}

fn write(
    path: &std::path::Path,
    f: &Figures,
    table: &str,
    aims: &str,
    load_before: Option<f64>,
    server_bin: &Option<PathBuf>,
) -> Result<()> {
    let (date, time) = record::utc_now();
    let m = record::machine();
    let mut s = String::new();
    let _ = writeln!(s, "## ZAF SDK round trips ({date})\n");
    let _ = writeln!(
        s,
        "Measured {date} {time} UTC on commit {} by `cargo xtask bench sdk`: a release build of \
         zaffre serving the conformance app in a ticket sidebar, headless Chromium {}. Every \
         figure is taken inside the app iframe with `performance.now()`; the bare round trip is \
         a `postMessage` to the workspace page answered by a plain echo listener, in the same \
         run and between the same two frames ({} rounds; a bulk get every fifth).\n",
        m.commit, f.chromium, f.rounds
    );
    let _ = writeln!(s, "{table}\n{aims}");
    let _ = writeln!(
        s,
        "Where a registration's time goes (p50, from the iframe's insertion): {}. Bytes fetched \
         per registration: {}.\n",
        f.stages_line(),
        f.transfer
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(bin) = server_bin {
        let _ = writeln!(s, "Server binary measured: `{}`.\n", bin.display());
    }
    let _ = writeln!(s, "Machine:\n");
    let _ = writeln!(
        s,
        "- CPU: {} logical CPUs (nproc), {}; the server, Chromium and node share them",
        m.cpus, m.cpu_model
    );
    let _ = writeln!(s, "- memory: {}; kernel {}", m.memory, m.kernel);
    let _ = writeln!(s, "- {}", m.rustc);
    if let Some(load) = load_before {
        let _ = writeln!(
            s,
            "- 1-minute load average just before measuring: {load:.2}{}",
            if load > 0.5 {
                " (other work was running)"
            } else {
                ""
            }
        );
    }
    let key = "bench-sdk";
    let section = format!("<!-- {key} -->\n{s}<!-- /{key} -->\n");
    let doc =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc = record::replace_section(&doc, key, &section);
    std::fs::write(path, doc).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_read_and_judged() {
        let v: Value = serde_json::from_str(
            r#"{"rounds": 10, "chromium": "1.0",
                "bare": {"samples": 10, "p50": 0.3, "p99": 0.5},
                "get": {"samples": 10, "p50": 0.33, "p99": 0.6},
                "bulk50": {"samples": 2, "p50": 0.7, "p99": 0.9},
                "registration": {"samples": 5, "p50": 25.0, "p99": 40.0},
                "stages": {"htmlLoaded": 5.5, "registered": 25.0},
                "transfer": {"html": 900, "sdk": 0},
                "sizes": {"zaffre": {"raw": 9000, "gzip": 3000}, "official": {"raw": 16000, "gzip": 5700}}}"#,
        )
        .unwrap();
        let f = Figures::from_json(&v).unwrap();
        let aims = f.aims();
        assert!(aims.contains("1.10×, met"), "{aims}");
        assert!(aims.contains("2.33×, **not met**"), "{aims}");
        assert!(aims.contains("25.0 ms, met"), "{aims}");
        assert!(aims.contains("zaffre 3,000 bytes"), "{aims}");
        assert!(f
            .table()
            .contains("| `client.get('ticket.subject')` | 10 | 0.330 ms | 0.600 ms | 1.10× |"));
        assert_eq!(
            f.stages_line(),
            "its HTML is in at 5.50 ms, `app.registered` handled at 25.0 ms"
        );
        assert!(Figures::from_json(&serde_json::json!({})).is_err());
        let mut edge = f;
        edge.bare.p50 = 0.5;
        edge.get.p50 = 0.6;
        assert!(edge.aims().contains("1.20×, met"), "{}", edge.aims());
    }
}
