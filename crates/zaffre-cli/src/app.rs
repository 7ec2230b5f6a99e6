//! `zaffre app validate|package|new`: work on a ZAF app offline.
//!
//! All the rules live in `zaffre-manifest`, which the server's upload
//! endpoint uses too; this module only reads arguments, prints findings the
//! way a compiler does, and writes files.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use zaffre_manifest::{validate, Finding, Limits, PackError, Package, Report, Severity};

use crate::args::{AppCommand, AppNewArgs, AppPackageArgs, AppValidateArgs};

/// Runs one `zaffre app` command. Validation errors become an `Err`, so the
/// process exits with status 1; warnings alone exit 0.
pub fn run(command: AppCommand) -> Result<()> {
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = stdout.lock();
    match command {
        AppCommand::Validate(args) => validate_command(&args, &mut out, color),
        AppCommand::Package(args) => package_command(&args, &mut out, color),
        AppCommand::New(args) => new_command(&args, &mut out),
    }
}

/// Reads a folder, or a zip file, into a package.
fn load(path: &Path) -> Result<std::result::Result<Package, zaffre_manifest::PackageError>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        return Ok(Package::from_dir(path));
    }
    let limits = Limits::default();
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // Read one byte past the limit so an oversized file is refused without reading all of it.
    let mut bytes = Vec::new();
    file.take(limits.max_zip_bytes + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Package::from_zip_with(&bytes, limits))
}

/// `zaffre app validate DIR|ZIP [--json]`.
pub fn validate_command(args: &AppValidateArgs, out: &mut dyn Write, color: bool) -> Result<()> {
    let report = match load(&args.path)? {
        Ok(package) => validate(&package),
        // A package that cannot be read is reported like any other finding.
        Err(e) => Report {
            findings: vec![e.to_finding()],
        },
    };
    if args.json {
        let errors = report.errors().count();
        let doc = serde_json::json!({
            "path": args.path.display().to_string(),
            "valid": errors == 0,
            "errors": errors,
            "warnings": report.warnings().count(),
            "findings": report.findings,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        print_findings(&report, out, color)?;
        print_summary(&report, out, color)?;
    }
    if report.has_errors() {
        bail!("{} is not a valid app", args.path.display());
    }
    Ok(())
}

/// `zaffre app package DIR [--output FILE]`.
pub fn package_command(args: &AppPackageArgs, out: &mut dyn Write, color: bool) -> Result<()> {
    let (bytes, report) = match zaffre_manifest::package_dir(&args.dir) {
        Ok(done) => done,
        Err(PackError::Invalid(report)) => {
            print_findings(&report, out, color)?;
            print_summary(&report, out, color)?;
            bail!("not packaged: fix the errors above first");
        }
        Err(PackError::Read(e)) => {
            print_findings(
                &Report {
                    findings: vec![e.to_finding()],
                },
                out,
                color,
            )?;
            bail!("not packaged: {} could not be read", args.dir.display());
        }
        Err(e) => return Err(e.into()),
    };
    print_findings(&report, out, color)?;
    let output = match &args.output {
        Some(path) => path.clone(),
        // zcli's layout: <app>/tmp/app-<UTC timestamp digits>.zip; tmp/ is never packaged.
        None => args.dir.join("tmp").join(format!(
            "app-{}.zip",
            chrono::Utc::now().format("%Y%m%d%H%M%S%3f")
        )),
    };
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&output, &bytes)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let files = Package::from_zip(&bytes)
        .map(|p| p.files.len())
        .unwrap_or_default();
    writeln!(
        out,
        "Package created at {} ({files} files, {} bytes)",
        output.display(),
        bytes.len()
    )?;
    Ok(())
}

/// `zaffre app new NAME [--dir DIR]`.
pub fn new_command(args: &AppNewArgs, out: &mut dyn Write) -> Result<()> {
    let name = args.name.trim();
    if name.is_empty() {
        bail!("the app needs a name");
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(slug(name)));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} already exists and is not empty; choose another --dir",
            dir.display()
        );
    }
    for (path, bytes) in zaffre_manifest::scaffold::new_app(name) {
        let full = dir.join(&path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&full, bytes).with_context(|| format!("cannot write {}", full.display()))?;
    }
    writeln!(out, "Created the app {name:?} in {}", dir.display())?;
    writeln!(
        out,
        "Next: edit {}, then run",
        dir.join("assets/main.js").display()
    )?;
    writeln!(out, "  zaffre app validate {}", dir.display())?;
    writeln!(out, "  zaffre app package {}", dir.display())?;
    Ok(())
}

/// A folder name from an app name: lowercase letters, digits and dashes.
fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s = s.trim_end_matches('-').to_owned();
    if s.is_empty() {
        "zaf-app".to_owned()
    } else {
        s
    }
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// One line per finding: `file:json_path: error[key]: message`.
pub(crate) fn print_findings(report: &Report, out: &mut dyn Write, color: bool) -> Result<()> {
    for f in &report.findings {
        writeln!(out, "{}", render(f, color))?;
    }
    Ok(())
}

fn render(f: &Finding, color: bool) -> String {
    if !color {
        return f.to_string();
    }
    let tint = if f.severity == Severity::Error {
        RED
    } else {
        YELLOW
    };
    format!(
        "{BOLD}{}{RESET}: {tint}{}[{}]{RESET}: {}",
        f.location(),
        f.severity,
        f.key,
        f.message
    )
}

pub(crate) fn print_summary(report: &Report, out: &mut dyn Write, color: bool) -> Result<()> {
    let (errors, warnings) = (report.errors().count(), report.warnings().count());
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let line = match (errors, warnings) {
        (0, 0) => "no problems found".to_owned(),
        _ => format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    };
    if color {
        let tint = if errors > 0 {
            RED
        } else if warnings > 0 {
            YELLOW
        } else {
            BOLD
        };
        writeln!(out, "{tint}{line}{RESET}")?;
    } else {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_validate_package_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        let mut out = Vec::new();
        new_command(
            &AppNewArgs {
                name: "Ticket Helper".into(),
                dir: Some(dir.clone()),
            },
            &mut out,
        )
        .unwrap();
        assert!(dir.join("assets/logo-small.png").is_file());

        let mut out = Vec::new();
        validate_command(
            &AppValidateArgs {
                path: dir.clone(),
                json: false,
            },
            &mut out,
            false,
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "no problems found\n");

        let zip = tmp.path().join("out/app.zip");
        let mut out = Vec::new();
        package_command(
            &AppPackageArgs {
                dir: dir.clone(),
                output: Some(zip.clone()),
            },
            &mut out,
            false,
        )
        .unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .starts_with("Package created at"));

        // The zip validates too, and JSON output is machine-readable.
        let mut out = Vec::new();
        validate_command(
            &AppValidateArgs {
                path: zip,
                json: true,
            },
            &mut out,
            false,
        )
        .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["valid"], true);
        assert_eq!(doc["findings"], serde_json::json!([]));

        // A second `new` into the same folder is refused.
        assert!(new_command(
            &AppNewArgs {
                name: "Again".into(),
                dir: Some(dir)
            },
            &mut Vec::new()
        )
        .is_err());
    }

    #[test]
    fn errors_fail_and_print_like_a_compiler() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        new_command(
            &AppNewArgs {
                name: "Broken".into(),
                dir: Some(dir.clone()),
            },
            &mut Vec::new(),
        )
        .unwrap();
        let manifest = std::fs::read_to_string(dir.join("manifest.json"))
            .unwrap()
            .replace("\"2.0\"", "\"1.0\"");
        std::fs::write(dir.join("manifest.json"), manifest).unwrap();

        let mut out = Vec::new();
        let result = validate_command(
            &AppValidateArgs {
                path: dir.clone(),
                json: false,
            },
            &mut out,
            false,
        );
        assert!(result.is_err());
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("manifest.json:$.frameworkVersion: error[invalid_version]: "),
            "{text}"
        );
        assert!(text.ends_with("1 error, 0 warnings\n"), "{text}");

        let mut out = Vec::new();
        let _ = validate_command(
            &AppValidateArgs {
                path: dir.clone(),
                json: false,
            },
            &mut out,
            true,
        );
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("\x1b[1;31merror[invalid_version]"));

        assert!(package_command(
            &AppPackageArgs {
                dir: dir.clone(),
                output: None
            },
            &mut Vec::new(),
            false
        )
        .is_err());
        assert!(
            !dir.join("tmp").exists(),
            "nothing is written for an invalid app"
        );
    }

    #[test]
    fn warnings_alone_succeed_and_unreadable_zips_are_findings() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        new_command(
            &AppNewArgs {
                name: "Warned".into(),
                dir: Some(dir.clone()),
            },
            &mut Vec::new(),
        )
        .unwrap();
        std::fs::remove_file(dir.join("assets/logo.png")).unwrap();
        let mut out = Vec::new();
        validate_command(
            &AppValidateArgs {
                path: dir,
                json: false,
            },
            &mut out,
            false,
        )
        .unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("warning[missing_logo]"));

        let bogus = tmp.path().join("bogus.zip");
        std::fs::write(&bogus, b"not a zip").unwrap();
        let mut out = Vec::new();
        assert!(validate_command(
            &AppValidateArgs {
                path: bogus,
                json: false
            },
            &mut out,
            false
        )
        .is_err());
        assert!(String::from_utf8(out)
            .unwrap()
            .starts_with("<package>: error[zip_invalid]"));
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("My Great App!"), "my-great-app");
        assert_eq!(slug("  ---  "), "zaf-app");
        assert_eq!(slug("Ünïcode app"), "n-code-app");
    }
}
