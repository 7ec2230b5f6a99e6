//! `translations/<locale>.json`: valid locale names, valid JSON objects,
//! Zendesk's `{title, value}` format when `app.package` is present,
//! parameter labels, and the keys the app listing needs in `en.json`.

use super::manifest::valid_locale;
use crate::finding::{Finding, Report};
use crate::json::{self, Json};
use crate::model::Product;
use crate::package::Package;

pub(super) fn check(root: &Json, package: &Package, report: &mut Report) {
    let private = root.get("private").and_then(Json::as_bool) != Some(false);
    let manifest_products: Vec<&str> = root
        .get("location")
        .and_then(Json::as_object)
        .map(|hosts| {
            hosts
                .iter()
                .filter_map(|(h, _)| Product::from_host_key(h))
                .map(Product::name)
                .collect()
        })
        .unwrap_or_default();

    for (path, bytes) in &package.files {
        let Some(locale) = path
            .strip_prefix("translations/")
            .and_then(|p| p.strip_suffix(".json"))
        else {
            continue;
        };
        if locale.contains('/') {
            continue;
        }
        if !valid_locale(locale) {
            report.push(
                Finding::error(
                    "translation.invalid_locale",
                    format!("{locale:?} is not a locale code like \"en\" or \"pt-br\""),
                )
                .in_file(path.clone()),
            );
            continue;
        }
        let value = match json::parse_bytes(bytes) {
            Ok(p) => p.value,
            Err(e) => {
                report.push(
                    Finding::error("translation.not_json", format!("not valid JSON: {e}"))
                        .in_file(path.clone()),
                );
                continue;
            }
        };
        if value.as_object().is_none() {
            report.push(
                Finding::error(
                    "translation.not_json_object",
                    format!("a translation file holds an object, not {}", value.kind()),
                )
                .in_file(path.clone()),
            );
            continue;
        }
        let app = value.get("app");
        if app.and_then(|a| a.get("package")).is_some() {
            if let Some((field, at)) = first_plain_value(&value, "$") {
                report.push(
                    Finding::error(
                        "translation.invalid_format",
                        format!("{field}: with app.package present, every value must be a {{\"title\", \"value\"}} pair"),
                    )
                    .in_file(path.clone())
                    .with_path(at),
                );
                continue;
            }
        }
        if let Some(params) = app
            .and_then(|a| a.get("parameters"))
            .and_then(Json::as_object)
        {
            for (name, entry) in params {
                if entry.get("label").is_none() {
                    report.push(
                        Finding::error(
                            "translation.missing_required_key_on_leaf",
                            format!("the parameter {name:?} needs a label for the settings form"),
                        )
                        .in_file(path.clone())
                        .with_path(json::join_path("$.app.parameters", name)),
                    );
                }
            }
        }
        // Zendesk checks the listing keys in en.json only, whatever the default locale.
        if locale == "en" {
            let mut required = vec!["name"];
            if !private {
                required.extend([
                    "short_description",
                    "installation_instructions",
                    "long_description",
                ]);
            }
            for key in required {
                let has = app.and_then(|a| a.get(key)).is_some()
                    || (key == "short_description"
                        && app.and_then(|a| a.get("description")).is_some());
                if !has {
                    report.push(
                        Finding::error(
                            "translation.missing_required_key",
                            format!("app.{key} is required"),
                        )
                        .in_file(path.clone())
                        .with_path("$.app"),
                    );
                }
            }
            let translated: Vec<&str> = app
                .and_then(Json::as_object)
                .map(|pairs| {
                    pairs
                        .iter()
                        .map(|(k, _)| k.as_str())
                        .filter(|k| Product::from_host_key(k).is_some())
                        .collect()
                })
                .unwrap_or_default();
            let extra: Vec<&str> = translated
                .iter()
                .copied()
                .filter(|p| {
                    Product::from_host_key(p)
                        .is_some_and(|p| !manifest_products.contains(&p.name()))
                })
                .collect();
            if !extra.is_empty() {
                report.push(
                    Finding::error(
                        "translation.products_do_not_match_manifest_products",
                        format!(
                            "the translations have text for {} but the manifest's locations are for {}",
                            extra.join(", "),
                            if manifest_products.is_empty() { "no product".to_owned() } else { manifest_products.join(", ") }
                        ),
                    )
                    .in_file(path.clone())
                    .with_path("$.app"),
                );
            }
        }
    }
}

/// The first value that is not an object, ignoring `app.package` and
/// treating `{title, value}` objects as leaves. Returns `'key': 'value'` and its path.
fn first_plain_value(value: &Json, path: &str) -> Option<(String, String)> {
    let pairs = value.as_object()?;
    if value.get("title").is_some() && value.get("value").is_some() {
        return None;
    }
    for (key, v) in pairs {
        let here = json::join_path(path, key);
        if here == "$.app.package" {
            continue;
        }
        match v {
            Json::Object(_) => {
                if let Some(found) = first_plain_value(v, &here) {
                    return Some(found);
                }
            }
            other => {
                return Some((
                    format!(
                        "'{key}': '{}'",
                        other
                            .as_str()
                            .map_or_else(|| other.to_compact(), str::to_owned)
                    ),
                    here,
                ))
            }
        }
    }
    None
}
