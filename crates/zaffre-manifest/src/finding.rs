//! What validation reports: findings with a stable key, a severity, our own
//! message, and where the problem is.

use std::fmt;

use serde::Serialize;

/// How serious a finding is. Errors block packaging and installation;
/// warnings are advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem found in a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable identifier. Where Zendesk has a check for the same thing this
    /// is Zendesk's key (from `zendesk_apps_support`'s `en.yml`, e.g.
    /// `invalid_location_uri`), so people can search for it; zaffre's own
    /// checks have keys of their own (listed in the crate README).
    pub key: &'static str,
    pub severity: Severity,
    /// A sentence for people, written by us.
    pub message: String,
    /// The file the finding is about, relative to the package root, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Where in that file's JSON, e.g. `$.parameters[1].scopes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
}

impl Finding {
    pub fn error(key: &'static str, message: impl Into<String>) -> Self {
        Finding {
            key,
            severity: Severity::Error,
            message: message.into(),
            file: None,
            json_path: None,
        }
    }

    pub fn warning(key: &'static str, message: impl Into<String>) -> Self {
        Finding {
            key,
            severity: Severity::Warning,
            message: message.into(),
            file: None,
            json_path: None,
        }
    }

    /// Sets the file.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Sets the file to `manifest.json` and the JSON path.
    pub fn at(mut self, json_path: impl Into<String>) -> Self {
        self.file = Some(crate::MANIFEST.to_owned());
        self.json_path = Some(json_path.into());
        self
    }

    /// Sets the JSON path inside the file already set.
    pub fn with_path(mut self, json_path: impl Into<String>) -> Self {
        self.json_path = Some(json_path.into());
        self
    }

    /// Where the finding points, as `file:json_path`, `file`, or `<package>`.
    pub fn location(&self) -> String {
        match (&self.file, &self.json_path) {
            (Some(f), Some(p)) => format!("{f}:{p}"),
            (Some(f), None) => f.clone(),
            (None, _) => "<package>".to_owned(),
        }
    }
}

impl fmt::Display for Finding {
    /// Compiler style: `manifest.json:$.location: error[invalid_host]: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}[{}]: {}",
            self.location(),
            self.severity,
            self.key,
            self.message
        )
    }
}

/// Everything validation found, in the order the checks ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
    }

    /// The keys of all findings, in order (handy in tests).
    pub fn keys(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.key).collect()
    }

    pub(crate) fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
}
