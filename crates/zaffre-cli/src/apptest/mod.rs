//! `zaffre test APP_DIR --script FILE`: headless app tests for an app's own CI.
//!
//! Starts a dev host (the same as `zaffre dev`, on a throwaway database in a
//! temporary folder, with the demo helpdesk or `--fixtures`), arms the
//! server's test hook (`zaffre_server::apptest`) for the app, and opens a
//! one-time sign-in link to the page where the location lives in headless
//! Chromium. The runner inside the app's iframe runs the script's tests and
//! reports each one back over HTTP; this module prints them as TAP and
//! decides the exit code: 0 when every test passed, 1 when one failed (or the
//! page threw), 2 when the tests could not run at all (no browser, a bad app
//! folder or script, no iframe at the location, a timeout before the plan).

mod chromium;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::sync::mpsc::UnboundedReceiver;
use zaffre_server::apptest::{AppTest, TestEvent};

use crate::args::{CommonArgs, TestArgs};
use crate::dev::{self, DevHost, DevOptions};

/// The locations `--location` accepts: those the workspace can open a page for.
pub const LOCATIONS: &[&str] = &[
    "ticket_sidebar",
    "new_ticket_sidebar",
    "user_sidebar",
    "organization_sidebar",
    "top_bar",
    "nav_bar",
    "background",
];

/// How `zaffre test` ended, as its exit code says.
#[derive(Debug)]
pub struct TestExit {
    /// 1: a test failed; 2: the tests could not run.
    pub code: u8,
    message: String,
}

impl std::fmt::Display for TestExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TestExit {}

/// The tally of one run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub passed: u32,
    pub failed: u32,
    /// Uncaught errors and rejections in the app's page while the tests ran.
    pub page_errors: u32,
}

/// `zaffre test` on the command line. TAP goes to stdout, the dev host's
/// own messages to stderr.
pub async fn run(args: TestArgs) -> anyhow::Result<()> {
    let out: dev::Printer = Arc::new(|line: &str| eprintln!("# {line}"));
    let tap: dev::Printer = Arc::new(|line: &str| println!("{line}"));
    run_with(args, out, tap).await
}

/// [`run`] with the dev host's messages going to `out` and the TAP lines to
/// `tap`. A failed run is an error whose [`exit_code`] is 1 (tests failed)
/// or 2 (the tests could not run).
pub async fn run_with(args: TestArgs, out: dev::Printer, tap: dev::Printer) -> anyhow::Result<()> {
    match run_tests(args, out, tap).await {
        Ok(o) if o.failed == 0 && o.page_errors == 0 => Ok(()),
        Ok(o) => Err(TestExit {
            code: 1,
            message: format!(
                "{} of {} tests failed{}",
                o.failed,
                o.passed + o.failed,
                if o.page_errors > 0 {
                    format!(", and the page had {} uncaught errors", o.page_errors)
                } else {
                    String::new()
                }
            ),
        }
        .into()),
        Err(e) => Err(TestExit {
            code: 2,
            message: format!("the tests could not run: {e:#}"),
        }
        .into()),
    }
}

/// Runs the tests and prints TAP; errors are setup errors.
async fn run_tests(
    args: TestArgs,
    out: dev::Printer,
    tap: dev::Printer,
) -> anyhow::Result<Outcome> {
    if !LOCATIONS.contains(&args.location.as_str()) {
        bail!(
            "--location {}: not a location zaffre test can open (one of: {})",
            args.location,
            LOCATIONS.join(", ")
        );
    }
    let script = std::fs::read_to_string(&args.script)
        .with_context(|| format!("could not read the test script {}", args.script.display()))?;
    let browser = chromium::find(
        args.chromium.as_deref(),
        &crate::settings::process_env,
        std::env::var_os("PATH"),
    )?;

    let scratch = tempfile::Builder::new()
        .prefix("zaffre-test-")
        .tempdir()
        .context("could not create a temporary folder")?;
    let options = DevOptions {
        common: CommonArgs {
            data_dir: Some(scratch.path().join("data")),
            ..CommonArgs::default()
        },
        listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        fixtures: args.fixtures.clone(),
        settings: args.settings.clone(),
        interactive: false,
        watch: false,
        out: out.clone(),
        ..DevOptions::new(vec![args.app.clone()])
    };
    let host = dev::start(options).await?;
    let result = drive(&host, &args, script, &browser, scratch.path(), &out, &tap).await;
    if let Err(e) = host.shutdown().await {
        out(&format!("stopping the dev host failed: {e:#}"));
    }
    result
}

/// Arms the test hook, opens the page, and collects the reports.
async fn drive(
    host: &DevHost,
    args: &TestArgs,
    script: String,
    browser: &Path,
    scratch: &Path,
    out: &dev::Printer,
    tap: &dev::Printer,
) -> anyhow::Result<Outcome> {
    let Some((app_id, _, _)) = host.apps.first() else {
        bail!("the dev host installed no app");
    };
    check_location(host, *app_id, &args.location).await?;
    let (test, reports) = AppTest::new(
        *app_id,
        &args.location,
        script,
        args.test_timeout.saturating_mul(1000),
    );
    if host.state.apptest.set(test).is_err() {
        bail!("a test is already running on this host");
    }
    let page = page_for(host, &args.location).await?;
    let link = host.sign_in_url(&page);
    out(&format!("opening {page} in {}", browser.display()));
    let log = scratch.join("chromium.log");
    let mut child = chromium::launch(browser, &link, &scratch.join("profile"), &log)?;

    let outcome = tokio::select! {
        result = collect(reports, Duration::from_secs(args.timeout), &args.location, tap) => result,
        status = child.wait() => {
            let status = status.context("could not wait for the browser")?;
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            bail!(
                "the browser exited ({status}) before the tests finished; its last output:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        }
    };
    let _ = child.kill().await;
    outcome
}

/// Refuses a location the app does not declare: no iframe would ever appear.
async fn check_location(
    host: &DevHost,
    app_id: zaffre_domain::AppId,
    location: &str,
) -> anyhow::Result<()> {
    let account = host.dev().account;
    let app = host
        .state
        .store
        .get_app(account, app_id)
        .await
        .context("could not read the installed app")?;
    let declared: Vec<String> = zaffre_server::api::apps::manifest_of(&app)
        .map(|m| m.locations.into_iter().map(|l| l.name).collect())
        .unwrap_or_default();
    if !declared.iter().any(|l| l == location) {
        bail!(
            "the app does not declare the location {location} (it declares: {}); pass --location",
            if declared.is_empty() {
                "none".to_owned()
            } else {
                declared.join(", ")
            }
        );
    }
    Ok(())
}

/// The workspace page where `location`'s iframe is: the seeded ticket, or
/// its requester or organization for those sidebars.
async fn page_for(host: &DevHost, location: &str) -> anyhow::Result<String> {
    if location == "new_ticket_sidebar" {
        return Ok("/tickets/new".to_owned());
    }
    let Some(ticket_id) = host.ticket_id else {
        bail!("the dev database has no ticket to open; give --fixtures a file with tickets");
    };
    let account = host.dev().account;
    let store = &host.state.store;
    match location {
        "user_sidebar" => {
            let ticket = store.get_ticket(account, ticket_id).await?;
            Ok(format!("/users/{}", ticket.requester_id))
        }
        "organization_sidebar" => {
            let ticket = store.get_ticket(account, ticket_id).await?;
            match ticket.organization_id {
                Some(org) => Ok(format!("/organizations/{org}")),
                None => bail!(
                    "the first ticket ({ticket_id}) has no organization, so there is no organization page to open"
                ),
            }
        }
        _ => Ok(format!("/tickets/{ticket_id}")),
    }
}

/// Reads reports until `done`, printing TAP. The plan must come within
/// `timeout`; the whole run too.
async fn collect(
    mut reports: UnboundedReceiver<TestEvent>,
    timeout: Duration,
    location: &str,
    tap: &dev::Printer,
) -> anyhow::Result<Outcome> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut outcome = Outcome::default();
    let mut planned: Option<u32> = None;
    let mut n = 0u32;
    // Errors before the plan: the script did not load, or threw before declaring tests.
    let mut early: Vec<String> = Vec::new();
    tap("TAP version 13");
    loop {
        let event = match tokio::time::timeout_at(deadline, reports.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => bail!("the test hook closed unexpectedly"),
            Err(_) if planned.is_none() && n == 0 => bail!(
                "no iframe at {location} started the tests within {} s: is the app shown there, \
                 and does its page load (see the browser log)?",
                timeout.as_secs()
            ),
            Err(_) => {
                let count = planned.unwrap_or(n);
                tap(&format!("# timed out after {} s", timeout.as_secs()));
                for k in n + 1..=count {
                    tap(&format!("not ok {k} - (did not finish: the run timed out)"));
                    outcome.failed += 1;
                }
                break;
            }
        };
        match event {
            TestEvent::Plan { count } => {
                planned = Some(count);
                tap(&format!("1..{count}"));
                if count == 0 {
                    bail!("the test script declared no tests: call test(name, fn)");
                }
            }
            TestEvent::Result { name, ok, error } => {
                n += 1;
                let name = one_line(&name);
                if ok {
                    outcome.passed += 1;
                    tap(&format!("ok {n} - {name}"));
                } else {
                    outcome.failed += 1;
                    tap(&format!("not ok {n} - {name}"));
                    tap("  ---");
                    tap(&format!(
                        "  message: {}",
                        serde_json::Value::String(error.unwrap_or_default())
                    ));
                    tap("  ...");
                }
            }
            TestEvent::Error { message } => {
                outcome.page_errors += 1;
                tap(&format!(
                    "# uncaught in the app's page: {}",
                    one_line(&message)
                ));
                if planned.is_none() {
                    early.push(message);
                }
            }
            TestEvent::Done => break,
        }
    }
    if planned.is_none() {
        bail!(
            "the test script did not run: {}",
            if early.is_empty() {
                "no reason given".to_owned()
            } else {
                early.join("; ")
            }
        );
    }
    tap(&format!(
        "# {} passed, {} failed{}",
        outcome.passed,
        outcome.failed,
        if outcome.page_errors > 0 {
            format!(", {} page errors", outcome.page_errors)
        } else {
            String::new()
        }
    ));
    Ok(outcome)
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// The exit code for an error `main` got from a command: [`TestExit`]'s own, else 1.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    error.downcast_ref::<TestExit>().map_or(1, |e| e.code)
}
