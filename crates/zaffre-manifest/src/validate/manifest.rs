//! The manifest's own checks, in Zendesk's order: required keys, types,
//! oauth, default locale, URLs, parameters, locations and framework version,
//! then zaffre's additions (domainWhitelist entries).

use super::Options;
use super::{list, present};
use crate::finding::{Finding, Report};
use crate::json::Json;
use crate::model::{Product, SCOPES};
use crate::package::Package;

/// The framework versions zaffre serves. Zendesk serves only 2.0 too.
pub const FRAMEWORK_VERSIONS: [&str; 1] = ["2.0"];

/// Experiments a marketplace app may switch on.
const EXPERIMENTS: [&str; 2] = ["hashParams", "newCssCompiler"];

pub(super) fn check(root: &Json, package: &Package, options: Options, report: &mut Report) {
    missing_keys(root, report);
    types(root, report);
    oauth(root, report);
    default_locale(root, package, report);
    urls(root, report);
    parameters(root, options, report);
    kind_and_locations(root, package, options, report);
    no_template_ban(root, report);
    domain_whitelist_entries(root, report);
}

fn missing_keys(root: &Json, report: &mut Report) {
    let missing: Vec<String> = ["author", "defaultLocale"]
        .into_iter()
        .filter(|k| present(root.get(k)).is_none())
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        let noun = if missing.len() == 1 {
            "field"
        } else {
            "fields"
        };
        report.push(
            Finding::error(
                "manifest_keys.missing",
                format!("the manifest lacks the required {noun} {}", list(&missing)),
            )
            .at("$"),
        );
    }
}

fn types(root: &Json, report: &mut Report) {
    for key in [
        "requirementsOnly",
        "marketingOnly",
        "singleInstall",
        "signedUrls",
        "private",
    ] {
        // `private: null` fails too: Zendesk applies the default only when the key is absent.
        let value = if key == "private" {
            root.get(key)
        } else {
            present(root.get(key))
        };
        if let Some(v) = value.filter(|v| v.as_bool().is_none()) {
            report.push(not_boolean(&format!("$.{key}"), key, v));
        }
    }
    for key in [
        "name",
        "defaultLocale",
        "version",
        "frameworkVersion",
        "remoteInstallationURL",
        "termsConditionsURL",
        "gaID",
    ] {
        if let Some(v) = present(root.get(key)).filter(|v| v.as_str().is_none()) {
            report.push(not_string(&format!("$.{key}"), key, v));
        }
    }
    if let Some(author) = present(root.get("author")) {
        if author.as_object().is_none() {
            report.push(not_object("$.author", "author", author));
        } else {
            for key in ["name", "email", "url"] {
                if let Some(v) = present(author.get(key)).filter(|v| v.as_str().is_none()) {
                    report.push(not_string(
                        &format!("$.author.{key}"),
                        &format!("author.{key}"),
                        v,
                    ));
                }
            }
        }
    }
    if let Some(v) = present(root.get("noTemplate")) {
        let ok = match v {
            Json::Bool(_) => true,
            Json::Array(items) => items.iter().all(|i| {
                i.as_str()
                    .is_some_and(|name| Product::Support.has_location(name))
            }),
            _ => false,
        };
        if !ok {
            report.push(
                Finding::error(
                    "invalid_no_template",
                    "noTemplate must be true, false, or an array of location names",
                )
                .at("$.noTemplate"),
            );
        }
    }
    if let Some(v) = present(root.get("experiments")).filter(|v| v.as_object().is_none()) {
        report.push(not_object("$.experiments", "experiments", v));
    }
    if let Some(v) = present(root.get("domainWhitelist")) {
        let ok = v
            .as_array()
            .is_some_and(|items| items.iter().all(|i| i.as_str().is_some()));
        if !ok {
            report.push(
                Finding::error(
                    "unacceptable_array_of_strings",
                    format!(
                        "domainWhitelist must be an array of host names (strings), but it is {}",
                        describe(v)
                    ),
                )
                .at("$.domainWhitelist"),
            );
        }
    }
    if let Some(v) = present(root.get("parameters")).filter(|v| v.as_array().is_none()) {
        report.push(not_array("$.parameters", "parameters", v));
    }
    // Zendesk's validator crashes on these; we say what is wrong instead.
    if let Some(v) = present(root.get("location"))
        .filter(|v| !matches!(v, Json::Object(_) | Json::String(_) | Json::Array(_)))
    {
        report.push(not_object("$.location", "location", v));
    }
    if let Some(v) = present(root.get("oauth")).filter(|v| v.as_object().is_none()) {
        report.push(not_object("$.oauth", "oauth", v));
    }
}

fn oauth(root: &Json, report: &mut Report) {
    let Some(block) = present(root.get("oauth")).filter(|o| o.as_object().is_some()) else {
        return;
    };
    let missing: Vec<String> = [
        "client_id",
        "client_secret",
        "authorize_uri",
        "access_token_uri",
    ]
    .into_iter()
    .filter(|k| {
        block
            .get(k)
            .and_then(Json::as_str)
            .is_none_or(str::is_empty)
    })
    .map(str::to_owned)
    .collect();
    if !missing.is_empty() {
        report.push(
            Finding::error(
                "oauth_keys.missing",
                format!("the oauth block needs non-empty {}", list(&missing)),
            )
            .at("$.oauth"),
        );
    }
    let has_oauth_param = root
        .get("parameters")
        .and_then(Json::as_array)
        .is_some_and(|ps| {
            ps.iter()
                .any(|p| p.get("type").and_then(Json::as_str) == Some("oauth"))
        });
    if !has_oauth_param {
        report.push(
            Finding::error(
                "oauth_parameter_required",
                "an app with an oauth block needs exactly one parameter of type \"oauth\" to hold the token",
            )
            .at("$.parameters"),
        );
    }
}

/// Zendesk's locale pattern: `^[a-z]{2,3}(-\w{2,3})?$`.
pub(crate) fn valid_locale(s: &str) -> bool {
    let (lang, region) = match s.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (s, None),
    };
    let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok = region.is_none_or(|r| {
        (2..=3).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    lang_ok && region_ok
}

fn default_locale(root: &Json, package: &Package, report: &mut Report) {
    let Some(locale) = root.get("defaultLocale").and_then(Json::as_str) else {
        return;
    };
    if !valid_locale(locale) {
        report.push(
            Finding::error(
                "invalid_default_locale",
                format!("{locale:?} is not a locale code like \"en\", \"pt-br\" or \"es-419\""),
            )
            .at("$.defaultLocale"),
        );
    } else if !package
        .files
        .contains_key(&format!("translations/{locale}.json"))
    {
        report.push(
            Finding::error(
                "missing_translation_file",
                format!(
                    "the default locale is {locale:?}, so translations/{locale}.json must exist"
                ),
            )
            .at("$.defaultLocale"),
        );
    }
}

/// An http or https URL with a host.
fn is_web_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    })
}

fn urls(root: &Json, report: &mut Report) {
    let fields = [
        (
            "$.termsConditionsURL",
            "termsConditionsURL",
            root.get("termsConditionsURL"),
        ),
        (
            "$.author.url",
            "author.url",
            root.get("author").and_then(|a| a.get("url")),
        ),
    ];
    for (path, field, value) in fields {
        if let Some(s) = value.and_then(Json::as_str) {
            if !is_web_url(s) {
                report.push(
                    Finding::error(
                        "invalid_url",
                        format!("{field} must be an http or https URL with a host, not {s:?}"),
                    )
                    .at(path),
                );
            }
        }
    }
}

/// How a parameter is named in messages and paths: by name when it has one.
fn param_label(p: &Json, index: usize) -> (String, String) {
    match p.get("name").and_then(Json::as_str) {
        Some(name) => (
            format!("parameters[name={name:?}]"),
            format!("$.parameters[{index}]"),
        ),
        None => (
            format!("parameters[{index}]"),
            format!("$.parameters[{index}]"),
        ),
    }
}

fn parameters(root: &Json, options: Options, report: &mut Report) {
    let Some(value) = present(root.get("parameters")) else {
        return;
    };
    let Some(items) = value.as_array() else {
        report.push(
            Finding::error(
                "parameters_not_an_array",
                "parameters must be an array of setting objects",
            )
            .at("$.parameters"),
        );
        return;
    };
    // zaffre: each item must be an object with a non-empty string name.
    let mut objects = Vec::new();
    for (i, p) in items.iter().enumerate() {
        let path = format!("$.parameters[{i}]");
        if p.as_object().is_none() {
            report.push(not_object(&path, &format!("parameters[{i}]"), p));
            continue;
        }
        match p.get("name") {
            Some(Json::String(n)) if !n.trim().is_empty() => {}
            other => report.push(
                Finding::error(
                    "invalid_parameter_name",
                    format!(
                        "every parameter needs a non-empty string name; this one has {}",
                        other.map_or("none".to_owned(), describe)
                    ),
                )
                .at(format!("{path}.name")),
            ),
        }
        objects.push((i, p));
    }

    let mut names: Vec<&str> = Vec::new();
    let mut duplicates: Vec<String> = Vec::new();
    for (_, p) in &objects {
        if let Some(name) = p.get("name").and_then(Json::as_str) {
            if names.contains(&name) {
                if !duplicates.iter().any(|d| d == name) {
                    duplicates.push(name.to_owned());
                }
            } else {
                names.push(name);
            }
        }
    }
    if duplicates.is_empty() {
        for (i, p) in &objects {
            let (label, path) = param_label(p, *i);
            for key in ["required", "secure"] {
                if let Some(v) = present(p.get(key)).filter(|v| v.as_bool().is_none()) {
                    report.push(not_boolean(
                        &format!("{path}.{key}"),
                        &format!("{label}.{key}"),
                        v,
                    ));
                }
            }
        }
    } else {
        report.push(
            Finding::error(
                "duplicate_parameters",
                format!("more than one parameter is named {}", list(&duplicates)),
            )
            .at("$.parameters"),
        );
    }

    let kind = |p: &Json| -> Result<String, String> {
        match present(p.get("type")) {
            None => Ok("text".to_owned()),
            Some(Json::String(s)) => Ok(s.clone()),
            Some(other) => Err(other.to_compact()),
        }
    };
    let is_true = |p: &Json, key: &str| p.get(key).and_then(Json::as_bool) == Some(true);

    let hidden_required: Vec<String> = objects
        .iter()
        .filter(|(_, p)| kind(p).as_deref() == Ok("hidden") && is_true(p, "required"))
        .map(|(i, p)| param_label(p, *i).0)
        .collect();
    if !hidden_required.is_empty() {
        report.push(
            Finding::error(
                "invalid_hidden_parameter",
                format!(
                    "{}: a hidden parameter cannot be required, since nobody can fill it in",
                    list(&hidden_required)
                ),
            )
            .at("$.parameters"),
        );
    }

    const TYPES: [&str; 7] = [
        "text",
        "checkbox",
        "url",
        "number",
        "multiline",
        "hidden",
        "oauth",
    ];
    let mut bad_types: Vec<String> = Vec::new();
    for (_, p) in &objects {
        match kind(p) {
            Ok(t) if TYPES.contains(&t.as_str()) => {}
            Ok(t) if t == "mtls" && options.mtls_parameters => {}
            Ok(t) => bad_types.push(format!("{t:?}")),
            Err(raw) => bad_types.push(raw),
        }
    }
    if !bad_types.is_empty() {
        let hint = if bad_types.iter().any(|t| t == "\"password\"") {
            " (the password type was removed; use a text parameter with \"secure\": true)"
        } else {
            ""
        };
        report.push(
            Finding::error(
                "invalid_type_parameter",
                format!(
                    "unknown parameter type {}; use one of {}{hint}",
                    list(&bad_types),
                    TYPES.join(", ")
                ),
            )
            .at("$.parameters"),
        );
    }

    let oauth_params: Vec<&(usize, &Json)> = objects
        .iter()
        .filter(|(_, p)| kind(p).as_deref() == Ok("oauth"))
        .collect();
    if oauth_params.len() > 1 {
        report.push(
            Finding::error(
                "too_many_oauth_parameters",
                "only one parameter may have the type \"oauth\"",
            )
            .at("$.parameters"),
        );
    }
    if let Some((i, _)) = oauth_params.iter().find(|(_, p)| is_true(p, "secure")) {
        report.push(
            Finding::error(
                "oauth_parameter_cannot_be_secure",
                "an oauth parameter cannot be secure: zaffre manages the token it holds",
            )
            .at(format!("$.parameters[{i}].secure")),
        );
    }
    if let Some((i, _)) = objects
        .iter()
        .find(|(_, p)| p.get("name").and_then(Json::as_str) == Some("name"))
    {
        report.push(
            Finding::error(
                "name_as_parameter_name",
                "a parameter cannot be called \"name\": every installation already has a name setting",
            )
            .at(format!("$.parameters[{i}].name")),
        );
    }

    if options.mtls_parameters {
        mtls(&objects, report);
    }

    for (i, p) in &objects {
        let (label, path) = param_label(p, *i);
        let Some(scopes) = p.get("scopes") else {
            continue;
        };
        let path = format!("{path}.scopes");
        let Some(items) = scopes.as_array() else {
            report.push(not_array(&path, &format!("{label}.scopes"), scopes));
            continue;
        };
        if !is_true(p, "secure") {
            report.push(
                Finding::error(
                    "field_requires_secure_parameter",
                    format!("{label}.scopes only applies to secure parameters; add \"secure\": true or remove scopes"),
                )
                .at(path),
            );
        } else if items.is_empty() {
            report.push(
                Finding::error(
                    "field_cannot_be_empty",
                    format!("{label}.scopes is empty; list where the value may be used"),
                )
                .at(path),
            );
        } else {
            let invalid: Vec<String> = items
                .iter()
                .filter(|s| s.as_str().is_none_or(|s| !SCOPES.contains(&s)))
                .map(|s| s.as_str().map_or_else(|| s.to_compact(), str::to_owned))
                .collect();
            if !invalid.is_empty() {
                report.push(
                    Finding::error(
                        "field_contains_invalid_values",
                        format!(
                            "{label}.scopes has unknown values {}; allowed: {}",
                            list(&invalid),
                            SCOPES.join(", ")
                        ),
                    )
                    .at(path),
                );
            }
        }
    }

    // zaffre: a default value of a secure setting would be stored in the
    // package, in plain text, for anyone with the zip to read.
    for (i, p) in &objects {
        if is_true(p, "secure") && p.get("default").is_some() {
            let (label, path) = param_label(p, *i);
            report.push(
                Finding::error(
                    "secure_parameter_with_default",
                    format!(
                        "{label} is secure but has a default; a default ships in the package in plain text, \
                         so a secret must be entered at installation instead"
                    ),
                )
                .at(format!("{path}.default")),
            );
        }
    }
}

fn kind_and_locations(root: &Json, package: &Package, options: Options, report: &mut Report) {
    let requirements_only = root.get("requirementsOnly").and_then(Json::as_bool) == Some(true);
    let marketing_only = root.get("marketingOnly").and_then(Json::as_bool) == Some(true);
    if requirements_only || marketing_only {
        let kind = if requirements_only {
            "requirements-only"
        } else {
            "marketing-only"
        };
        if present(root.get("location")).is_some() {
            report.push(
                Finding::error(
                    "no_location_required",
                    format!("a {kind} app cannot have locations"),
                )
                .at("$.location"),
            );
        }
        if present(root.get("frameworkVersion")).is_some() {
            report.push(
                Finding::error(
                    "no_framework_version_required",
                    format!("a {kind} app cannot set frameworkVersion"),
                )
                .at("$.frameworkVersion"),
            );
        }
        if marketing_only {
            if present(root.get("parameters"))
                .is_some_and(|p| p.as_array().is_none_or(|a| !a.is_empty()))
            {
                report.push(
                    Finding::error(
                        "no_parameters_required",
                        "a marketing-only app cannot have parameters",
                    )
                    .at("$.parameters"),
                );
            }
            // `private` defaults to true, so leaving it out is an error here.
            if root.get("private").and_then(Json::as_bool) != Some(false) {
                report.push(
                    Finding::error(
                        "marketing_only_app_cant_be_private",
                        "a marketing-only app must set \"private\": false (private defaults to true)",
                    )
                    .at("$.private"),
                );
            }
        }
        return;
    }

    locations(root, package, options, report);

    match present(root.get("frameworkVersion")) {
        None => {
            report.push(
                Finding::error(
                    "manifest_keys.missing",
                    "the manifest lacks the required field frameworkVersion",
                )
                .at("$"),
            );
            report.push(
                Finding::error(
                    "invalid_version",
                    format!(
                        "no framework version is set; zaffre serves {}",
                        FRAMEWORK_VERSIONS.join(", ")
                    ),
                )
                .at("$.frameworkVersion"),
            );
        }
        Some(Json::String(v)) if !FRAMEWORK_VERSIONS.contains(&v.as_str()) => report.push(
            Finding::error(
                "invalid_version",
                format!(
                    "framework version {v:?} is not served; use {}",
                    FRAMEWORK_VERSIONS.join(", ")
                ),
            )
            .at("$.frameworkVersion"),
        ),
        // Right version, or a non-string already reported as such.
        Some(_) => {}
    }
}

fn locations(root: &Json, package: &Package, options: Options, report: &mut Report) {
    let missing = || {
        Finding::error(
            "manifest_keys.missing",
            "the manifest lacks the required field location",
        )
        .at("$")
    };
    let hosts = match present(root.get("location")) {
        None => return report.push(missing()),
        Some(Json::String(_)) => {
            return report.push(
                Finding::error(
                    "locations_must_be_urls",
                    "framework 2 locations map products to locations to URLs, e.g. {\"support\": {\"ticket_sidebar\": \"assets/iframe.html\"}}",
                )
                .at("$.location"),
            )
        }
        Some(Json::Array(names)) => {
            for (i, n) in names.iter().enumerate() {
                if names[..i].contains(n) {
                    report.push(
                        Finding::error("duplicate_manifest_keys", format!("the location {} is listed twice", n.to_compact()))
                            .at(format!("$.location[{i}]")),
                    );
                }
            }
            return report.push(
                Finding::error(
                    "locations_must_be_urls",
                    "framework 2 locations map products to locations to URLs, not a list of names",
                )
                .at("$.location"),
            );
        }
        Some(Json::Object(hosts)) => hosts,
        // Wrong type: already reported by the type checks.
        Some(_) => return,
    };

    let mut any_location = false;
    for (host, locs) in hosts {
        let host_path = crate::json::join_path("$.location", host);
        let Some(product) = Product::from_host_key(host) else {
            report.push(
                Finding::error(
                    "invalid_host",
                    format!(
                        "{host:?} is not a product; use support, chat, standalone_chat or sell"
                    ),
                )
                .at(host_path),
            );
            continue;
        };
        let Some(locs) = locs.as_object() else {
            if !matches!(locs, Json::Null) {
                report.push(not_object(&host_path, &format!("location.{host}"), locs));
            }
            continue;
        };
        let unknown: Vec<String> = locs
            .iter()
            .filter(|(n, _)| !known_location(product, n, options))
            .map(|(n, _)| n.clone())
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = product.locations().iter().map(|(n, _)| *n).collect();
            report.push(
                Finding::error(
                    "invalid_location",
                    format!(
                        "{} {} not a location of {}; known: {}",
                        list(&unknown),
                        if unknown.len() == 1 { "is" } else { "are" },
                        product.name(),
                        known.join(", ")
                    ),
                )
                .at(host_path.clone()),
            );
        }
        for (name, spec) in locs {
            if !known_location(product, name, options) {
                continue;
            }
            any_location = true;
            let path = crate::json::join_path(&host_path, name);
            location(name, spec, &path, package, report);
        }
    }
    if options.custom_object_record_sidebar {
        object_types(hosts, report);
    }
    if !any_location
        && !hosts
            .iter()
            .any(|(h, _)| Product::from_host_key(h).is_none())
    {
        report.push(missing());
    }
}

fn location(name: &str, spec: &Json, path: &str, package: &Package, report: &mut Report) {
    let (url, url_path, auto_load) = match spec {
        Json::String(s) => (Some(s.as_str()), path.to_owned(), true),
        Json::Object(_) => {
            for key in ["autoLoad", "autoHide", "signed"] {
                if let Some(v) = present(spec.get(key)).filter(|v| v.as_bool().is_none()) {
                    report.push(not_boolean(
                        &format!("{path}.{key}"),
                        &format!("{name}.{key}"),
                        v,
                    ));
                }
            }
            if let Some(v) = present(spec.get("flexible")).filter(|v| v.as_bool().is_none()) {
                report.push(
                    Finding::error(
                        "invalid_location_flexible_type",
                        format!("flexible must be true or false, not {}", v.to_compact()),
                    )
                    .at(format!("{path}.flexible")),
                );
            }
            if let Some(v) = present(spec.get("size")).filter(|v| v.as_object().is_none()) {
                report.push(not_object(
                    &format!("{path}.size"),
                    &format!("{name}.size"),
                    v,
                ));
            }
            let auto_load = spec.get("autoLoad").and_then(Json::as_bool) != Some(false);
            (
                spec.get("url").and_then(Json::as_str),
                format!("{path}.url"),
                auto_load,
            )
        }
        _ => (None, path.to_owned(), true),
    };
    match url {
        None | Some("") => {
            if auto_load {
                report.push(
                    Finding::error(
                        "blank_location_uri",
                        format!("the {name} location has no URL; give it \"assets/…\" or an https URL, or set autoLoad to false"),
                    )
                    .at(url_path),
                );
            }
        }
        Some(u) => {
            if !location_url_ok(u, package) {
                report.push(
                    Finding::error(
                        "invalid_location_uri",
                        format!("{u:?} must be a file under assets/ that is in the package, or an https URL"),
                    )
                    .at(url_path),
                );
            }
        }
    }
}

/// Zendesk's rules for a location URL, plus refusing `..` in asset paths.
fn location_url_ok(u: &str, package: &Package) -> bool {
    // Templated URLs are only known at install time.
    if u == "_legacy" || u.contains("{{setting.") {
        return true;
    }
    match url::Url::parse(u) {
        Ok(parsed) => parsed.scheme() == "https" || parsed.host_str() == Some("localhost"),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let file = u.split(['?', '#']).next().unwrap_or_default();
            file.starts_with("assets/")
                && !file
                    .split('/')
                    .any(|part| part == ".." || part == "." || part.is_empty())
                && package.files.contains_key(file)
        }
        Err(_) => false,
    }
}

fn no_template_ban(root: &Json, report: &mut Report) {
    let used = match root.get("noTemplate") {
        Some(Json::Bool(true)) => true,
        Some(Json::Array(a)) => !a.is_empty(),
        _ => false,
    };
    if used {
        report.push(
            Finding::error(
                "no_template_deprecated_in_v2",
                "noTemplate belongs to framework 1; in framework 2 set autoLoad or autoHide on each location",
            )
            .at("$.noTemplate"),
        );
    }
}

/// zaffre: every domainWhitelist entry is a bare host name, optionally built
/// from `{{setting.x}}` templates, so the proxy can compare hosts exactly.
/// Schemes, paths, ports, wildcards and IP addresses are refused.
fn domain_whitelist_entries(root: &Json, report: &mut Report) {
    let Some(items) = root.get("domainWhitelist").and_then(Json::as_array) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(entry) = item.as_str() else { continue };
        if let Err(why) = check_whitelist_entry(entry) {
            report.push(
                Finding::error(
                    "invalid_domain_whitelist_entry",
                    format!("{entry:?} is not a bare host name: {why}"),
                )
                .at(format!("$.domainWhitelist[{i}]")),
            );
        }
    }
}

/// Checks one whitelist entry; `Err` says why it is refused.
pub fn check_whitelist_entry(entry: &str) -> Result<(), &'static str> {
    if entry.contains("://") {
        return Err("leave out the scheme (https://)");
    }
    if entry.contains(['/', '?', '#']) {
        return Err("leave out any path or query");
    }
    if entry.contains('@') {
        return Err("user names are not allowed");
    }
    if entry.contains('*') {
        return Err("wildcards are not supported; list each host");
    }
    // Replace each template with a plain label so the rest can be checked as a host name.
    let mut host = String::new();
    let mut rest = entry;
    while let Some(start) = rest.find("{{") {
        host.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            return Err("an unclosed {{ template");
        };
        let inner = rest[start + 2..start + end].trim();
        let name = inner
            .strip_prefix("setting.")
            .ok_or("only {{setting.NAME}} templates are allowed")?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err("only {{setting.NAME}} templates are allowed");
        }
        host.push_str("setting");
        rest = &rest[start + end + 2..];
    }
    host.push_str(rest);
    if host.contains(':') {
        return Err("leave out the port");
    }
    if host.is_empty() || host.len() > 253 {
        return Err("a host name has 1 to 253 characters");
    }
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("IP addresses are not allowed, only host names");
    }
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err("each dot-separated part has 1 to 63 letters, digits or inner hyphens");
        }
    }
    Ok(())
}

pub(super) fn check_experiments(root: &Json, report: &mut Report) {
    let Some(pairs) = root.get("experiments").and_then(Json::as_object) else {
        return;
    };
    for (name, value) in pairs {
        let enabled = !matches!(value, Json::Null | Json::Bool(false));
        if enabled && !EXPERIMENTS.contains(&name.as_str()) {
            report.push(
                Finding::error(
                    "invalid_experiment",
                    format!(
                        "{name:?} is not an available experiment; available: {}",
                        EXPERIMENTS.join(", ")
                    ),
                )
                .at(crate::json::join_path("$.experiments", name)),
            );
        }
    }
}

/// Zendesk's three secure-settings warnings.
pub(super) fn secure_settings_warnings(root: &Json, report: &mut Report) {
    let Some(params) = root.get("parameters").and_then(Json::as_array) else {
        return;
    };
    let is_true = |p: &Json, key: &str| p.get(key).and_then(Json::as_bool) == Some(true);
    let kind = |p: &Json| {
        present(p.get("type"))
            .and_then(Json::as_str)
            .unwrap_or("text")
            .to_owned()
    };

    let looks_secret = params.iter().enumerate().find(|(_, p)| {
        let name = p
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let secretish = ["token", "key", "pwd", "password"]
            .iter()
            .any(|w| name.contains(w));
        secretish && kind(p) == "text" && !is_true(p, "secure")
    });
    if let Some((i, _)) = looks_secret {
        report.push(
            Finding::warning(
                "translation.insecure_token_parameter_in_manifest",
                "this parameter's name suggests a credential; set \"secure\": true so its value stays on the server",
            )
            .at(format!("$.parameters[{i}]")),
        );
    }
    // Secure parameters with a default are already an error (secure_parameter_with_default).
    if let Some((i, _)) = params
        .iter()
        .enumerate()
        .find(|(_, p)| kind(p) == "hidden" && p.get("default").is_some())
    {
        report.push(
            Finding::warning(
                "translation.default_secure_or_hidden_parameter_in_manifest",
                "a hidden parameter's default is stored in plain text in the package; make sure it is not sensitive",
            )
            .at(format!("$.parameters[{i}].default")),
        );
    }
    let no_scopes: Vec<String> = params
        .iter()
        .filter(|p| {
            is_true(p, "secure")
                && p.get("scopes")
                    .and_then(Json::as_array)
                    .is_none_or(<[Json]>::is_empty)
        })
        .filter_map(|p| p.get("name").and_then(Json::as_str).map(str::to_owned))
        .collect();
    if !no_scopes.is_empty() {
        report.push(
            Finding::warning(
                "translation.secure_parameters_with_no_scopes_in_manifest",
                format!(
                    "secure parameter(s) {} have no scopes, so their value can be put anywhere in a request; \
                     list where it belongs (header, body, url, …)",
                    list(&no_scopes)
                ),
            )
            .at("$.parameters"),
        );
    }
}

fn describe(v: &Json) -> String {
    match v {
        Json::Null => "null".to_owned(),
        other => format!("{} ({})", other.kind(), other.to_compact()),
    }
}

fn not_boolean(path: &str, field: &str, v: &Json) -> Finding {
    Finding::error(
        "unacceptable_boolean",
        format!("{field} must be true or false, but it is {}", describe(v)),
    )
    .at(path)
}

fn not_string(path: &str, field: &str, v: &Json) -> Finding {
    Finding::error(
        "unacceptable_string",
        format!("{field} must be a string, but it is {}", describe(v)),
    )
    .at(path)
}

fn not_object(path: &str, field: &str, v: &Json) -> Finding {
    Finding::error(
        "unacceptable_hash",
        format!("{field} must be an object, but it is {}", describe(v)),
    )
    .at(path)
}

fn not_array(path: &str, field: &str, v: &Json) -> Finding {
    Finding::error(
        "unacceptable_array",
        format!("{field} must be an array, but it is {}", describe(v)),
    )
    .at(path)
}

/// Locations valid for `product`, including the custom object sidebar when enabled.
fn known_location(product: Product, name: &str, options: Options) -> bool {
    product.has_location(name)
        || (options.custom_object_record_sidebar
            && product == Product::Support
            && name == "custom_object_record_sidebar")
}

/// `objectTypes` (custom object sidebar option): required on, and only on,
/// `custom_object_record_sidebar`; a non-empty array of non-blank strings.
/// Like Zendesk, reports only the first problem.
fn object_types(hosts: &[(String, Json)], report: &mut Report) {
    for (host, locs) in hosts {
        let (Some(Product::Support), Some(locs)) = (Product::from_host_key(host), locs.as_object())
        else {
            continue;
        };
        for (name, spec) in locs {
            let path = crate::json::join_path(&crate::json::join_path("$.location", host), name);
            let types = spec.get("objectTypes");
            let finding = if name != "custom_object_record_sidebar" {
                types.map(|_| {
                    Finding::error(
                        "object_types_not_supported",
                        format!(
                            "objectTypes only applies to custom_object_record_sidebar, not {name}"
                        ),
                    )
                })
            } else {
                match types {
                    None => Some(Finding::error("object_types_required", "custom_object_record_sidebar needs objectTypes: the custom object types it shows for")),
                    Some(Json::Array(items)) if items.is_empty() => {
                        Some(Finding::error("object_types_empty", "objectTypes lists no object type"))
                    }
                    Some(Json::Array(items)) if items.iter().any(|i| i.as_str().is_none_or(|s| s.trim().is_empty())) => {
                        Some(Finding::error("object_types_invalid_entries", "objectTypes may only hold non-empty strings"))
                    }
                    Some(Json::Array(_)) => None,
                    Some(other) => Some(Finding::error(
                        "object_types_must_be_array",
                        format!("objectTypes must be an array of strings, but it is {}", describe(other)),
                    )),
                }
            };
            if let Some(f) = finding {
                return report.push(f.at(format!("{path}.objectTypes")));
            }
        }
    }
}

/// mTLS client-certificate parameters: at most three, no default, secure or
/// scopes, and an `allowed_domain` that is a plain host name (an optional
/// leading `*.` wildcard, at least two labels).
fn mtls(objects: &[(usize, &Json)], report: &mut Report) {
    let params: Vec<&(usize, &Json)> = objects
        .iter()
        .filter(|(_, p)| p.get("type").and_then(Json::as_str) == Some("mtls"))
        .collect();
    if params.len() > 3 {
        report.push(
            Finding::error(
                "too_many_mtls_parameters",
                "at most three parameters may have the type \"mtls\"",
            )
            .at("$.parameters"),
        );
    }
    for (i, p) in params {
        let (label, path) = param_label(p, *i);
        if ["default", "secure", "scopes"]
            .iter()
            .any(|k| p.get(k).is_some())
        {
            report.push(
                Finding::error(
                    "mtls_parameter_cannot_have_certain_settings",
                    format!(
                        "{label} is an mtls parameter, which cannot have default, secure or scopes"
                    ),
                )
                .at(path.clone()),
            );
        }
        let field = format!("{label}.allowed_domain");
        let at = format!("{path}.allowed_domain");
        let domain = match p.get("allowed_domain") {
            Some(Json::String(d)) if !d.is_empty() => d,
            None | Some(Json::Null) | Some(Json::String(_)) => {
                report.push(
                    Finding::error(
                        "field_cannot_be_empty",
                        format!("{field} is required for an mtls parameter"),
                    )
                    .at(at),
                );
                continue;
            }
            Some(other) => {
                report.push(not_string(&at, &field, other));
                continue;
            }
        };
        let problem = if domain.contains("://") {
            Some((
                "mtls_allowed_domain_contains_scheme",
                format!("{field} must be a host name without a scheme"),
            ))
        } else if domain.len() > 253 {
            Some((
                "mtls_allowed_domain_too_long",
                format!("{field} is longer than 253 characters"),
            ))
        } else if domain.strip_prefix("*.").unwrap_or(domain).contains('*') {
            Some((
                "mtls_allowed_domain_invalid_wildcard",
                format!("{field} may only start with a *. wildcard"),
            ))
        } else {
            let host = domain.strip_prefix("*.").unwrap_or(domain);
            let labels: Vec<&str> = host.split('.').collect();
            let ok = labels.len() >= 2
                && labels.iter().all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                });
            (!ok).then(|| {
                (
                    "mtls_allowed_domain_invalid_format",
                    format!("{field} is not a valid domain name"),
                )
            })
        };
        if let Some((key, message)) = problem {
            report.push(Finding::error(key, message).at(at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales() {
        for ok in ["en", "pt-br", "pt-BR", "zh-cn", "es-419", "fil"] {
            assert!(valid_locale(ok), "{ok}");
        }
        for bad in ["zh_cn", "EN", "pt-BR-1", "e", "", "en-", "english"] {
            assert!(!valid_locale(bad), "{bad}");
        }
    }

    #[test]
    fn whitelist_entries() {
        for ok in [
            "example.com",
            "api.example.com",
            "{{setting.subdomain}}.zendesk.com",
            "{{setting.host}}",
            "localhost",
        ] {
            assert_eq!(check_whitelist_entry(ok), Ok(()), "{ok}");
        }
        for bad in [
            "https://example.com",
            "example.com/path",
            "*.example.com",
            "example.com:8443",
            "10.0.0.1",
            "user@example.com",
            "{{setting.x}",
            "{{ticket.id}}.example.com",
            "-bad.example.com",
            "",
            "exa mple.com",
        ] {
            assert!(check_whitelist_entry(bad).is_err(), "{bad}");
        }
    }
}
