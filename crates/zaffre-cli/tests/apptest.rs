//! `zaffre test` end to end: the `zaffre app new` scaffold, a real dev host,
//! headless Chromium (/usr/bin/chromium, or $CHROMIUM), and the example
//! script in examples/scaffold-test. The passing script exits 0; a script
//! with a failing assertion exits 1 and names the failing test; a location
//! the app does not have exits 2 before any browser starts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clap::Parser;
use zaffre_cli::apptest;
use zaffre_cli::args::{Cli, Command, TestArgs};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The scaffold app, written where `zaffre app new` would write it.
fn scaffold(dir: &Path) -> PathBuf {
    let app = dir.join("my-app");
    for (path, bytes) in zaffre_manifest::scaffold::new_app("My App") {
        let target = app.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    app
}

/// `zaffre test …` parsed as the command line parses it.
fn test_args(argv: &[&str]) -> TestArgs {
    let mut full = vec!["zaffre", "test"];
    full.extend_from_slice(argv);
    match Cli::try_parse_from(full).unwrap().command {
        Command::Test(args) => args,
        other => panic!("parsed as {other:?}"),
    }
}

/// Runs `zaffre test` and returns its exit code and TAP lines.
async fn run(args: TestArgs) -> (u8, Vec<String>, String) {
    let tap = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = Arc::new(Mutex::new(String::new()));
    let (t, l) = (tap.clone(), log.clone());
    let result = apptest::run_with(
        args,
        Arc::new(move |line: &str| {
            let mut l = l.lock().unwrap();
            l.push_str(line);
            l.push('\n');
        }),
        Arc::new(move |line: &str| t.lock().unwrap().push(line.to_owned())),
    )
    .await;
    let code = match &result {
        Ok(()) => 0,
        Err(e) => apptest::exit_code(e),
    };
    let mut log = log.lock().unwrap().clone();
    if let Err(e) = result {
        log.push_str(&format!("error: {e:#}\n"));
    }
    let tap = tap.lock().unwrap().clone();
    (code, tap, log)
}

fn base_args<'a>(app: &'a str, script: &'a str, fixtures: &'a str) -> Vec<&'a str> {
    vec![
        app,
        "--script",
        script,
        "--fixtures",
        fixtures,
        "--setting",
        "greeting=Hi",
        "--timeout",
        "90",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_script_passes_on_the_scaffold() {
    let dir = tempfile::tempdir().unwrap();
    let app = scaffold(dir.path());
    let script = repo().join("examples/scaffold-test/app.test.js");
    let fixtures = repo().join("examples/fixtures/helpdesk.yaml");
    let (app, script, fixtures) = (
        app.display().to_string(),
        script.display().to_string(),
        fixtures.display().to_string(),
    );
    let (code, tap, log) = run(test_args(&base_args(&app, &script, &fixtures))).await;
    let text = tap.join("\n");
    assert_eq!(code, 0, "TAP:\n{text}\nlog:\n{log}");
    assert_eq!(tap.first().map(String::as_str), Some("TAP version 13"));
    assert!(tap.contains(&"1..6".to_owned()), "{text}");
    assert!(
        tap.contains(&"ok 4 - it sets a tag and the ticket shows it".to_owned()),
        "{text}"
    );
    assert!(!text.contains("not ok"), "{text}");
    assert_eq!(tap.last().map(String::as_str), Some("# 6 passed, 0 failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_assertion_exits_1_and_names_the_test() {
    let dir = tempfile::tempdir().unwrap();
    let app = scaffold(dir.path());
    let script = dir.path().join("failing.test.js");
    std::fs::write(
        &script,
        r#"
test('reads the subject', async () => {
  const data = await client.get('ticket.subject');
  expect(data['ticket.subject']).toBe('The rocket will not launch');
});
test('expects the wrong subject', async () => {
  const data = await client.get('ticket.subject');
  assert.equal(data['ticket.subject'], 'Something else entirely');
});
test('still runs after a failure', () => {});
"#,
    )
    .unwrap();
    let fixtures = repo().join("examples/fixtures/helpdesk.yaml");
    let (app, script, fixtures) = (
        app.display().to_string(),
        script.display().to_string(),
        fixtures.display().to_string(),
    );
    let (code, tap, log) = run(test_args(&base_args(&app, &script, &fixtures))).await;
    let text = tap.join("\n");
    assert_eq!(code, 1, "TAP:\n{text}\nlog:\n{log}");
    assert!(
        tap.contains(&"ok 1 - reads the subject".to_owned()),
        "{text}"
    );
    assert!(
        tap.contains(&"not ok 2 - expects the wrong subject".to_owned()),
        "{text}"
    );
    assert!(
        text.contains(
            r#"message: "AssertionError: expected \"Something else entirely\", got \"The rocket will not launch\"""#
        ),
        "{text}"
    );
    assert!(
        tap.contains(&"ok 3 - still runs after a failure".to_owned()),
        "{text}"
    );
    assert!(log.contains("1 of 3 tests failed"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_problems_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let app = scaffold(dir.path());
    let app = app.display().to_string();
    let script = repo()
        .join("examples/scaffold-test/app.test.js")
        .display()
        .to_string();

    // A location the scaffold does not declare.
    let (code, _, log) = run(test_args(&[
        &app,
        "--script",
        &script,
        "--location",
        "user_sidebar",
    ]))
    .await;
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains(
            "the app does not declare the location user_sidebar (it declares: ticket_sidebar)"
        ),
        "{log}"
    );

    // A location zaffre test does not know.
    let (code, _, log) = run(test_args(&[
        &app,
        "--script",
        &script,
        "--location",
        "sidebar",
    ]))
    .await;
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("--location sidebar: not a location"), "{log}");

    // A browser that is not there.
    let (code, _, log) = run(test_args(&[
        &app,
        "--script",
        &script,
        "--chromium",
        "/no/such/chromium",
    ]))
    .await;
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("--chromium names /no/such/chromium, which is not an executable file"),
        "{log}"
    );

    // A script that is not there.
    let (code, _, log) = run(test_args(&[&app, "--script", "/no/such/script.js"])).await;
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("could not read the test script"), "{log}");
}
