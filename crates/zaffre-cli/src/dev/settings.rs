//! A dev app's installation settings, from (lowest to highest precedence):
//! the manifest's defaults (applied by the server's settings check), the app
//! folder's `zcli.apps.config.json` (its `parameters` object, as zcli reads
//! it), `ZAFFRE_SETTING_<NAME>` environment variables and `--setting
//! name=value` flags. A required setting still missing is asked for on the
//! terminal (hidden input when secure) or reported with how to supply it.
//!
//! Secure values are only passed on to the server, which seals them; what is
//! printed says `[secure, set]`, never the value.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use zaffre_manifest::Parameter;

/// zcli's per-app settings file.
pub const CONFIG_FILE: &str = "zcli.apps.config.json";

/// Where a setting's value came from (for the banner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    File,
    Env,
    Flag,
    Prompt,
}

/// The settings resolved for one app.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Name → value, to install with.
    pub values: Map<String, Value>,
    /// Name → where its value came from.
    pub sources: BTreeMap<String, Source>,
    /// Names in the settings file that the manifest does not declare (dropped).
    pub unknown_in_file: Vec<String>,
    /// Required parameters with no value from any source, and none stored.
    pub missing: Vec<String>,
}

/// The environment variable for a setting: `ZAFFRE_SETTING_` and the name
/// upper-cased, other characters than letters, digits and `_` becoming `_`.
pub fn env_name(setting: &str) -> String {
    let mut out = String::from("ZAFFRE_SETTING_");
    for c in setting.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push('_');
        }
    }
    out
}

/// Parses `--setting name=value` flags.
pub fn parse_flags(flags: &[String]) -> Result<Vec<(String, String)>> {
    flags
        .iter()
        .map(|f| match f.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), value.to_owned()))
            }
            // The flag is not echoed: without its `=` it may be a secure value.
            _ => bail!(
                "a --setting flag is not name=value (the flag is not shown: it may hold a secret)"
            ),
        })
        .collect()
}

/// Reads the `parameters` object of `<folder>/zcli.apps.config.json`; an
/// absent file is no settings.
pub fn read_config_file(folder: &Path) -> Result<Map<String, Value>> {
    let path = folder.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => {
            return Err(e).with_context(|| format!("could not read {}", path.display()));
        }
    };
    let doc: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    match doc.get("parameters") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => bail!(
            "{}: \"parameters\" must be an object of setting names and values",
            path.display()
        ),
    }
}

/// Merges the sources over each other for `params`. `stored` says which
/// settings already have a value in the database (a persistent dev database
/// keeps them between runs), so they are not reported missing.
pub fn resolve(
    params: &[Parameter],
    file: &Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &[(String, String)],
    stored: &dyn Fn(&str) -> bool,
) -> Resolved {
    let mut out = Resolved::default();
    let known = |name: &str| params.iter().any(|p| p.name == name) || name == "name";
    for (name, value) in file {
        if known(name) {
            out.values.insert(name.clone(), value.clone());
            out.sources.insert(name.clone(), Source::File);
        } else {
            out.unknown_in_file.push(name.clone());
        }
    }
    for p in params {
        if let Some(value) = env(&env_name(&p.name)) {
            out.values.insert(p.name.clone(), Value::String(value));
            out.sources.insert(p.name.clone(), Source::Env);
        }
    }
    for (name, value) in flags {
        if known(name) {
            out.values
                .insert(name.clone(), Value::String(value.clone()));
            out.sources.insert(name.clone(), Source::Flag);
        }
    }
    for p in params.iter().filter(|p| p.required) {
        let given = out
            .values
            .get(&p.name)
            .is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
        let defaulted = p.default.as_ref().is_some_and(|d| !d.is_null());
        if !given && !defaulted && !stored(&p.name) {
            out.missing.push(p.name.clone());
        }
    }
    out
}

/// The error for required settings that cannot be asked for.
pub fn missing_error(app: &str, params: &[Parameter], missing: &[String]) -> anyhow::Error {
    let mut text = format!("the app {app} needs these required settings:");
    for name in missing {
        let secure = params.iter().any(|p| &p.name == name && p.secure);
        text.push_str(&format!(
            "\n  {name}{}",
            if secure { " (secure)" } else { "" }
        ));
    }
    let example = &missing[0];
    text.push_str(&format!(
        "\nSupply them with --setting {example}=VALUE, the environment variable {}=VALUE, \
         or the \"parameters\" object of {CONFIG_FILE} in the app folder \
         (stdin is not a terminal, so zaffre cannot ask)",
        env_name(example)
    ));
    anyhow::anyhow!(text)
}

/// Asks for each missing setting on the terminal; secure ones are read
/// without echo.
pub fn prompt_missing(app: &str, params: &[Parameter], resolved: &mut Resolved) -> Result<()> {
    for name in std::mem::take(&mut resolved.missing) {
        let secure = params.iter().any(|p| p.name == name && p.secure);
        let value = loop {
            let value = if secure {
                rpassword::prompt_password(format!("{app}: {name} (secure, hidden): "))
                    .context("could not read from the terminal")?
            } else {
                use std::io::Write;
                print!("{app}: {name}: ");
                std::io::stdout().flush().ok();
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("could not read from the terminal")?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            };
            if !value.is_empty() {
                break value;
            }
            println!("{name} is required");
        };
        resolved.values.insert(name.clone(), Value::String(value));
        resolved.sources.insert(name, Source::Prompt);
    }
    Ok(())
}

/// One line per setting for the banner; secure values are never shown.
pub fn describe(
    params: &[Parameter],
    resolved: &Resolved,
    stored_secret: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    for p in params {
        let source = resolved.sources.get(&p.name).map(|s| match s {
            Source::File => CONFIG_FILE.to_owned(),
            Source::Env => env_name(&p.name),
            Source::Flag => "--setting".to_owned(),
            Source::Prompt => "typed in".to_owned(),
        });
        let line = if zaffre_domain::apps::is_secret(p) {
            let set = resolved
                .values
                .get(&p.name)
                .is_some_and(|v| v.as_str() != Some(""))
                || stored_secret(&p.name);
            format!(
                "{} = [secure, {}]",
                p.name,
                if set { "set" } else { "not set" }
            )
        } else {
            match resolved.values.get(&p.name).or(p.default.as_ref()) {
                Some(v) => format!("{} = {v}", p.name),
                None => format!("{} (not set)", p.name),
            }
        };
        lines.push(match source {
            Some(s) => format!("{line}  (from {s})"),
            None => line,
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_split_at_the_first_equals_sign() {
        let flags = vec!["token=a=b".to_owned(), " subdomain =acme".to_owned()];
        assert_eq!(
            parse_flags(&flags).unwrap(),
            vec![
                ("token".to_owned(), "a=b".to_owned()),
                ("subdomain".to_owned(), "acme".to_owned())
            ]
        );
    }

    #[test]
    fn a_malformed_flag_is_refused_without_echoing_it() {
        for flag in ["api_key:hunter2-secret", "=hunter2-secret"] {
            let e = parse_flags(&[flag.to_owned()]).unwrap_err().to_string();
            assert!(e.contains("name=value"), "{e}");
            assert!(!e.contains("hunter2"), "the error repeats the flag: {e}");
        }
    }
}
