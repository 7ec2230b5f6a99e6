//! Headless app tests (`zaffre test`): the server side.
//!
//! `zaffre test` starts a dev host, puts an [`AppTest`] into
//! [`AppState::apptest`] and points headless Chromium at a ticket. While a test
//! is set, and only for the app under test:
//!
//! - the app's HTML pages get one extra script, [`RUNNER_PATH`], inserted
//!   first in `<head>` ([`inject`]). It notes the client the app creates with
//!   `ZAFClient.init()`, loads the developer's test script ([`SCRIPT_PATH`])
//!   once the page has loaded, and runs its `test(…)` cases in the iframe, with
//!   the app's own client (web/sdk/zaf_test_runner.js);
//! - `POST /__zaffre/test/claim` lets exactly one iframe, the first at the
//!   requested location, run the tests;
//! - `POST /__zaffre/test/report` takes the runner's events ([`TestEvent`]),
//!   which the CLI receives from [`AppTest::new`]'s channel and prints.
//!
//! Everything is on the app's own origin, so the runner needs no special
//! rights and the browser needs no remote control: Chromium only opens a
//! sign-in link. Under `zaffre serve` and `zaffre dev` no test is set, these
//! paths are 404 like any other unknown path, and pages are served unchanged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;
use zaffre_domain::AppId;

use crate::state::AppState;

/// Where every test path lives on an app origin.
pub const PREFIX: &str = "/__zaffre/test/";
/// The runner, inserted into the app's pages.
pub const RUNNER_PATH: &str = "/__zaffre/test/runner.js";
/// The developer's test script.
pub const SCRIPT_PATH: &str = "/__zaffre/test/script.js";

/// The runner's source (a classic script, type-checked with the workspace's JS).
const RUNNER_JS: &str = include_str!("../../../web/sdk/zaf_test_runner.js");

/// The largest report accepted (a failure message with a stack is far smaller).
const MAX_REPORT_BYTES: usize = 256 * 1024;

/// One test run: which app, where, what script, and where reports go.
pub struct AppTest {
    /// The app whose pages run the tests.
    pub app_id: AppId,
    /// The location (`ticket_sidebar`, …) whose iframe runs them.
    pub location: String,
    /// How long one test may take before the runner fails it, in milliseconds.
    pub test_timeout_ms: u64,
    script: String,
    claimed: AtomicBool,
    reports: mpsc::UnboundedSender<TestEvent>,
}

impl std::fmt::Debug for AppTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppTest")
            .field("app_id", &self.app_id)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// What the runner reports, in order: `plan`, then one `result` per test,
/// then `done`; `error` whenever the page hits an uncaught error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum TestEvent {
    /// The script loaded and declared `count` tests.
    Plan { count: u32 },
    /// One test finished.
    Result {
        name: String,
        ok: bool,
        /// Why it failed.
        #[serde(default)]
        error: Option<String>,
    },
    /// An uncaught error or rejection in the page, or a script that did not load.
    Error { message: String },
    /// Every test ran.
    Done,
}

impl AppTest {
    /// A test run of `script` in `app_id`'s iframe at `location`, and the
    /// receiving end of its reports.
    pub fn new(
        app_id: AppId,
        location: &str,
        script: String,
        test_timeout_ms: u64,
    ) -> (Arc<AppTest>, mpsc::UnboundedReceiver<TestEvent>) {
        let (reports, rx) = mpsc::unbounded_channel();
        let test = AppTest {
            app_id,
            location: location.to_owned(),
            test_timeout_ms,
            script,
            claimed: AtomicBool::new(false),
            reports,
        };
        (Arc::new(test), rx)
    }
}

/// The test set for `app_id`, if any.
pub fn for_app(state: &AppState, app_id: i64) -> Option<Arc<AppTest>> {
    state
        .apptest
        .get()
        .filter(|t| t.app_id.get() == app_id)
        .cloned()
}

/// `html` with the runner inserted as the first script, so it sees the app
/// call `ZAFClient.init()`: right after `<head …>`, else at the very start.
pub fn inject(html: &str) -> String {
    let tag = format!("<script src=\"{RUNNER_PATH}\"></script>");
    let lower = html.to_ascii_lowercase();
    let head_end = lower
        .find("<head")
        .filter(|&i| {
            // `<header>` is not `<head>`.
            matches!(
                lower.as_bytes().get(i + 5),
                Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')
            )
        })
        .and_then(|i| lower[i..].find('>').map(|j| i + j + 1));
    match head_end {
        Some(at) => format!("{}{tag}{}", &html[..at], &html[at..]),
        None => format!("{tag}{html}"),
    }
}

/// Answers a request under [`PREFIX`] on the app origin of the app under test.
pub async fn serve(test: &AppTest, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    match (req.method().clone(), path.as_str()) {
        (Method::GET, RUNNER_PATH) => {
            let config = serde_json::json!({
                "location": test.location,
                "timeout": test.test_timeout_ms,
                "script": SCRIPT_PATH,
            });
            javascript(format!("window.__zaffreTest = {config};\n{RUNNER_JS}"))
        }
        (Method::GET, SCRIPT_PATH) => javascript(test.script.clone()),
        (Method::POST, "/__zaffre/test/claim") => {
            let first = !test.claimed.swap(true, Ordering::SeqCst);
            json_response(serde_json::json!({ "run": first }))
        }
        (Method::POST, "/__zaffre/test/report") => {
            let Ok(bytes) = axum::body::to_bytes(req.into_body(), MAX_REPORT_BYTES).await else {
                return plain(StatusCode::PAYLOAD_TOO_LARGE, "report too large");
            };
            match serde_json::from_slice::<TestEvent>(&bytes) {
                Ok(event) => {
                    // The CLI may have stopped listening (timed out): nothing to do then.
                    let _ = test.reports.send(event);
                    StatusCode::NO_CONTENT.into_response()
                }
                Err(e) => plain(StatusCode::BAD_REQUEST, &format!("bad report: {e}")),
            }
        }
        _ => plain(StatusCode::NOT_FOUND, "Not found"),
    }
}

fn javascript(source: String) -> Response {
    let mut r = Response::new(Body::from(source));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r
}

fn json_response(value: serde_json::Value) -> Response {
    let mut r = Response::new(Body::from(value.to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runner_goes_first_in_head() {
        let tag = format!("<script src=\"{RUNNER_PATH}\"></script>");
        assert_eq!(
            inject("<html><HEAD lang=x><title>t</title></head></html>"),
            format!("<html><HEAD lang=x>{tag}<title>t</title></head></html>")
        );
        assert_eq!(
            inject("<header>x</header><p>"),
            format!("{tag}<header>x</header><p>")
        );
        assert_eq!(inject(""), tag);
    }

    #[test]
    fn reports_parse_and_unknown_events_do_not() {
        let e: TestEvent =
            serde_json::from_str(r#"{"event":"result","name":"a","ok":false,"error":"x"}"#)
                .unwrap();
        assert_eq!(
            e,
            TestEvent::Result {
                name: "a".into(),
                ok: false,
                error: Some("x".into())
            }
        );
        assert!(serde_json::from_str::<TestEvent>(r#"{"event":"boom"}"#).is_err());
    }
}
