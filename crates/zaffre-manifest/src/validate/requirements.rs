//! `requirements.json`: the ticket fields, targets, webhooks… an app asks
//! to have created when it is installed.
//!
//! Covered: presence for requirements-only apps, support for the app's
//! kind, JSON syntax and duplicate keys, known types, size limits, one
//! channel integration, the fields each entry needs, and the overall shape
//! of `custom_objects_v2`. The detailed custom objects v2 limits and schema
//! checks are not implemented yet (see the crate README).

use super::list;
use crate::finding::{Finding, Report};
use crate::json::{self, Json};
use crate::model::Product;
use crate::package::Package;

pub const REQUIREMENTS: &str = "requirements.json";

const TYPES: [&str; 12] = [
    "automations",
    "channel_integrations",
    "custom_objects",
    "macros",
    "targets",
    "views",
    "ticket_fields",
    "triggers",
    "user_fields",
    "organization_fields",
    "webhooks",
    "custom_objects_v2",
];
const MAX_REQUIREMENTS: usize = 5000;
const MAX_CUSTOM_OBJECTS: usize = 50;

pub(super) fn check(root: &Json, package: &Package, report: &mut Report) {
    let is_true = |key: &str| root.get(key).and_then(Json::as_bool) == Some(true);
    let Some(bytes) = package.files.get(REQUIREMENTS) else {
        if is_true("requirementsOnly") {
            report.push(
                Finding::error(
                    "missing_requirements",
                    "a requirements-only app must have a requirements.json",
                )
                .at("$.requirementsOnly"),
            );
        }
        return;
    };
    let file = |f: Finding| f.in_file(REQUIREMENTS);
    let hosts: Vec<Product> = root
        .get("location")
        .and_then(Json::as_object)
        .map(|h| {
            h.iter()
                .filter_map(|(k, _)| Product::from_host_key(k))
                .collect()
        })
        .unwrap_or_default();
    if is_true("marketingOnly") || hosts == [Product::Chat] {
        report.push(file(Finding::error(
            "requirements_not_supported",
            "marketing-only and Chat-only apps cannot have requirements",
        )));
        return;
    }
    let parsed = match json::parse_bytes(bytes) {
        Ok(p) => p,
        Err(e) => {
            return report.push(file(Finding::error(
                "requirements_not_json",
                format!("not valid JSON: {e}"),
            )))
        }
    };
    if !parsed.duplicates.is_empty() {
        let keys: Vec<String> = parsed
            .duplicates
            .iter()
            .map(|d| json::join_path(&d.object_path, &d.key))
            .collect();
        return report.push(file(Finding::error(
            "duplicate_requirements",
            format!("keys repeated in the same object: {}", list(&keys)),
        )));
    }
    let Some(types) = parsed.value.as_object() else {
        return report.push(file(Finding::error(
            "requirements_not_json",
            format!(
                "requirements.json must hold an object, not {}",
                parsed.value.kind()
            ),
        )));
    };

    let mut invalid: Vec<String> = types
        .iter()
        .filter(|(t, _)| !TYPES.contains(&t.as_str()))
        .map(|(t, _)| t.clone())
        .collect();
    if let Some(targets) = parsed.value.get("targets").and_then(Json::as_object) {
        for (_, target) in targets {
            if let Some(kind @ ("http_target" | "url_target_v2")) =
                target.get("type").and_then(Json::as_str)
            {
                invalid.push(format!("targets -> {kind}"));
            }
        }
    }
    if !invalid.is_empty() {
        report.push(file(Finding::error(
            "invalid_requirements_types",
            format!(
                "unsupported requirement types {}; supported: {}",
                list(&invalid),
                TYPES.join(", ")
            ),
        )));
        return;
    }

    let count: usize = types
        .iter()
        .filter_map(|(_, v)| v.as_object())
        .map(<[_]>::len)
        .sum();
    if count > MAX_REQUIREMENTS {
        report.push(file(Finding::error(
            "excessive_requirements",
            format!("{count} requirements is more than the limit of {MAX_REQUIREMENTS}"),
        )));
    }
    if let Some(co) = parsed.value.get("custom_objects").and_then(Json::as_object) {
        let n: usize = co
            .iter()
            .filter_map(|(_, v)| v.as_array())
            .map(<[_]>::len)
            .sum();
        if n > MAX_CUSTOM_OBJECTS {
            report.push(file(Finding::error(
                "excessive_custom_objects_requirements",
                format!(
                    "{n} custom object requirements is more than the limit of {MAX_CUSTOM_OBJECTS}"
                ),
            )));
        }
    }
    if parsed
        .value
        .get("channel_integrations")
        .and_then(Json::as_object)
        .is_some_and(|c| c.len() > 1)
    {
        report.push(
            file(Finding::error(
                "multiple_channel_integrations",
                "an app may declare at most one channel integration",
            ))
            .with_path("$.channel_integrations"),
        );
    }
    missing_fields(&parsed.value, report);
    custom_objects_v2(&parsed.value, report);
}

fn missing_fields(value: &Json, report: &mut Report) {
    let Some(types) = value.as_object() else {
        return;
    };
    for (kind, entries) in types {
        let needed: &[&str] = match kind.as_str() {
            "channel_integrations" => &["manifest_url"],
            "webhooks" => &[
                "name",
                "status",
                "endpoint",
                "http_method",
                "request_format",
            ],
            "user_fields" | "organization_fields" => &["title", "key"],
            "custom_objects" | "custom_objects_v2" => continue,
            _ => &["title"],
        };
        let Some(entries) = entries.as_object() else {
            continue;
        };
        for (identifier, entry) in entries {
            for field in needed {
                if entry.get(field).is_none() {
                    report.push(
                        Finding::error(
                            "missing_required_fields",
                            format!("{identifier:?} needs a {field:?} field"),
                        )
                        .in_file(REQUIREMENTS)
                        .with_path(json::join_path(
                            &json::join_path(&format!("$.{kind}"), identifier),
                            field,
                        )),
                    );
                }
            }
        }
    }
    if let Some(co) = value.get("custom_objects") {
        let Some(types) = co.get("custom_object_types").and_then(Json::as_array) else {
            report.push(
                Finding::error(
                    "missing_required_fields",
                    "custom_objects needs a \"custom_object_types\" field",
                )
                .in_file(REQUIREMENTS)
                .with_path("$.custom_objects"),
            );
            return;
        };
        let relationships = co
            .get("custom_object_relationship_types")
            .and_then(Json::as_array)
            .unwrap_or_default();
        let groups: [(&str, &[Json], &[&str]); 2] = [
            ("custom_object_types", types, &["key", "schema"]),
            (
                "custom_object_relationship_types",
                relationships,
                &["key", "source", "target"],
            ),
        ];
        for (group, items, needed) in groups {
            for (i, item) in items.iter().enumerate() {
                for field in needed {
                    if item.get(field).is_none() {
                        let id = item.get("key").and_then(Json::as_str).unwrap_or("(no key)");
                        report.push(
                            Finding::error(
                                "missing_required_fields",
                                format!("{id:?} needs a {field:?} field"),
                            )
                            .in_file(REQUIREMENTS)
                            .with_path(format!("$.custom_objects.{group}[{i}]")),
                        );
                    }
                }
            }
        }
    }
}

/// The shape checks of `custom_objects_v2` (stage 1 of Zendesk's checks).
fn custom_objects_v2(value: &Json, report: &mut Report) {
    let Some(cov2) = value.get("custom_objects_v2") else {
        return;
    };
    let at = |f: Finding| f.in_file(REQUIREMENTS).with_path("$.custom_objects_v2");
    let Some(_) = cov2.as_object() else {
        return report.push(at(Finding::error(
            "invalid_cov2_requirements_structure_v2",
            "custom_objects_v2 must be an object",
        )));
    };
    let collections = [
        (
            "objects",
            "invalid_objects_structure_in_cov2_requirements_v2",
        ),
        (
            "object_fields",
            "invalid_object_fields_structure_in_cov2_requirements_v2",
        ),
        (
            "object_triggers",
            "invalid_object_triggers_structure_in_cov2_requirements_v2",
        ),
    ];
    let all_empty = collections.iter().all(|(k, _)| {
        cov2.get(k)
            .and_then(Json::as_array)
            .is_none_or(<[Json]>::is_empty)
    });
    let all_arrays_or_absent = collections
        .iter()
        .all(|(k, _)| cov2.get(k).is_none_or(|v| v.as_array().is_some()));
    if all_empty && all_arrays_or_absent {
        return report.push(at(Finding::error(
            "empty_cov2_requirements",
            "custom_objects_v2 declares nothing",
        )));
    }
    for (key, finding_key) in collections {
        if cov2.get(key).is_some_and(|v| v.as_array().is_none()) {
            report.push(at(Finding::error(
                finding_key,
                format!("custom_objects_v2.{key} must be an array"),
            )));
        }
    }
}
