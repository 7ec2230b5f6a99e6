//! `requirements.json`: the ticket fields, targets, webhooks… an app asks
//! to have created when it is installed.
//!
//! Covered: presence for requirements-only apps, support for the app's
//! kind, JSON syntax and duplicate keys, known types, size limits, one
//! channel integration, the fields each entry needs, and `custom_objects_v2`
//! in Zendesk's five stages (shape, size, limits and schema, no setting
//! placeholders, object references).

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
    let before = report.findings.len();
    for (key, finding_key) in collections {
        if cov2.get(key).is_some_and(|v| v.as_array().is_none()) {
            report.push(at(Finding::error(
                finding_key,
                format!("custom_objects_v2.{key} must be an array"),
            )));
        }
    }
    // Each stage runs only when the ones before it found nothing, as on Zendesk.
    if report.findings.len() > before {
        return;
    }
    let size = cov2.to_value().to_string().len();
    if size > MAX_COV2_BYTES {
        return report.push(at(Finding::error(
            "excessive_cov2_payload_size",
            format!("custom_objects_v2 is {size} bytes of JSON; the limit is {MAX_COV2_BYTES}"),
        )));
    }
    let list_of = |key: &str| cov2.get(key).and_then(Json::as_array).unwrap_or_default();
    let (objects, fields, triggers) = (
        list_of("objects"),
        list_of("object_fields"),
        list_of("object_triggers"),
    );
    cov2_limits_and_schema(objects, fields, triggers, report);
    if report.findings.len() > before {
        return;
    }
    if has_setting_placeholder(cov2) {
        return report.push(at(Finding::error(
            "setting_placeholders_not_allowed_in_cov2_requirements",
            "custom_objects_v2 cannot use {{setting.…}} placeholders: objects are created once per account, not per installation",
        )));
    }
    let keys: Vec<&str> = objects
        .iter()
        .filter_map(|o| o.get("key").and_then(Json::as_str))
        .collect();
    let groups = [
        (
            "object_fields",
            fields,
            "invalid_cov2_object_reference_in_fields_v2",
            "field",
        ),
        (
            "object_triggers",
            triggers,
            "invalid_cov2_object_reference_in_triggers_v2",
            "trigger",
        ),
    ];
    for (group, items, finding_key, noun) in groups {
        for (i, item) in items.iter().enumerate() {
            let target = item
                .get("object_key")
                .and_then(Json::as_str)
                .unwrap_or_default();
            if !keys.contains(&target) {
                report.push(
                    Finding::error(
                        finding_key,
                        format!("the {noun} {} refers to the object {target:?}, which objects does not define", identifier(item)),
                    )
                    .in_file(REQUIREMENTS)
                    .with_path(format!("$.custom_objects_v2.{group}[{i}].object_key")),
                );
            }
        }
    }
}

const MAX_COV2_BYTES: usize = 1_048_576;
const MAX_COV2_OBJECTS: usize = 50;
const MAX_COV2_FIELDS_PER_OBJECT: usize = 20;
const MAX_COV2_SELECTION_FIELDS: usize = 5;
const MAX_COV2_OPTIONS: usize = 10;
const MAX_COV2_FILTER_CONDITIONS: usize = 20;
const MAX_COV2_TRIGGERS_PER_OBJECT: usize = 10;
const MAX_COV2_TRIGGER_CONDITIONS: usize = 50;
const MAX_COV2_TRIGGER_ACTIONS: usize = 25;

/// How an item is named in messages: its key, or `(undefined)` as Zendesk prints it.
fn identifier(item: &Json) -> String {
    item.get("key")
        .and_then(Json::as_str)
        .map_or_else(|| "(undefined)".to_owned(), |k| format!("{k:?}"))
}

fn count(v: Option<&Json>) -> usize {
    v.and_then(Json::as_array).map_or(0, <[Json]>::len)
}

/// Stage 3 of the custom objects v2 checks: limits and required keys together.
fn cov2_limits_and_schema(
    objects: &[Json],
    fields: &[Json],
    triggers: &[Json],
    report: &mut Report,
) {
    let mut push = |key: &'static str, message: String, path: String| {
        report.push(
            Finding::error(key, message)
                .in_file(REQUIREMENTS)
                .with_path(path),
        );
    };
    if objects.len() > MAX_COV2_OBJECTS {
        push(
            "excessive_custom_objects_v2_requirements",
            format!(
                "{} custom objects is more than the limit of {MAX_COV2_OBJECTS} per account",
                objects.len()
            ),
            "$.custom_objects_v2.objects".to_owned(),
        );
    }
    for (i, object) in objects.iter().enumerate() {
        for key in ["key", "title", "title_pluralized", "include_in_list_view"] {
            if object.get(key).is_none() {
                push(
                    "missing_cov2_object_schema_key",
                    format!("the object {} needs {key:?}", identifier(object)),
                    format!("$.custom_objects_v2.objects[{i}]"),
                );
            }
        }
        let Some(object_key) = object.get("key").and_then(Json::as_str) else {
            continue;
        };
        let of_object = |items: &'_ [Json]| -> Vec<usize> {
            (0..items.len())
                .filter(|&j| items[j].get("object_key").and_then(Json::as_str) == Some(object_key))
                .collect()
        };
        let own_fields = of_object(fields);
        if own_fields.len() > MAX_COV2_FIELDS_PER_OBJECT {
            push(
                "excessive_custom_objects_v2_fields",
                format!("the object {object_key:?} has {} fields; the limit is {MAX_COV2_FIELDS_PER_OBJECT}", own_fields.len()),
                format!("$.custom_objects_v2.objects[{i}]"),
            );
        }
        for kind in ["dropdown", "multiselect"] {
            let n = own_fields
                .iter()
                .filter(|&&j| fields[j].get("type").and_then(Json::as_str) == Some(kind))
                .count();
            if n > MAX_COV2_SELECTION_FIELDS {
                push(
                    "excessive_cov2_selection_fields_per_object",
                    format!("the object {object_key:?} has {n} {kind} fields; the limit is {MAX_COV2_SELECTION_FIELDS}"),
                    format!("$.custom_objects_v2.objects[{i}]"),
                );
            }
        }
        let own_triggers = of_object(triggers);
        if own_triggers.len() > MAX_COV2_TRIGGERS_PER_OBJECT {
            push(
                "excessive_custom_objects_v2_triggers",
                format!("the object {object_key:?} has {} triggers; the limit is {MAX_COV2_TRIGGERS_PER_OBJECT}", own_triggers.len()),
                format!("$.custom_objects_v2.objects[{i}]"),
            );
        }
    }
    for (i, field) in fields.iter().enumerate() {
        let path = format!("$.custom_objects_v2.object_fields[{i}]");
        for key in ["key", "title", "type", "object_key"] {
            if field.get(key).is_none() {
                push(
                    "missing_cov2_field_schema_key",
                    format!("the field {} needs {key:?}", identifier(field)),
                    path.clone(),
                );
            }
        }
        let options = count(field.get("custom_field_options"));
        if options > MAX_COV2_OPTIONS {
            push(
                "excessive_cov2_field_options",
                format!(
                    "the field {} has {options} options; the limit is {MAX_COV2_OPTIONS}",
                    identifier(field)
                ),
                format!("{path}.custom_field_options"),
            );
        }
        let filter = field.get("relationship_filter");
        let conditions =
            count(filter.and_then(|f| f.get("all"))) + count(filter.and_then(|f| f.get("any")));
        if conditions > MAX_COV2_FILTER_CONDITIONS {
            push(
                "excessive_cov2_relationship_filter_conditions",
                format!("the field {} filters on {conditions} conditions; the limit is {MAX_COV2_FILTER_CONDITIONS}", identifier(field)),
                format!("{path}.relationship_filter"),
            );
        }
    }
    for (i, trigger) in triggers.iter().enumerate() {
        let path = format!("$.custom_objects_v2.object_triggers[{i}]");
        for key in ["key", "object_key", "title", "actions", "conditions"] {
            if trigger.get(key).is_none() {
                push(
                    "missing_cov2_trigger_schema_key_v2",
                    format!("the trigger {} needs {key:?}", identifier(trigger)),
                    path.clone(),
                );
            }
        }
        if let Some(conditions) = trigger.get("conditions") {
            let pairs = conditions.as_object().unwrap_or_default();
            let well_formed = conditions.as_object().is_some()
                && pairs
                    .iter()
                    .all(|(k, v)| matches!(k.as_str(), "all" | "any") && v.as_array().is_some())
                && !pairs.is_empty();
            let total = count(conditions.get("all")) + count(conditions.get("any"));
            if !well_formed {
                push(
                    "invalid_cov2_trigger_conditions_structure_v2",
                    format!("the trigger {}'s conditions must be an object with \"all\" and/or \"any\" arrays", identifier(trigger)),
                    format!("{path}.conditions"),
                );
            } else if total == 0 {
                push(
                    "empty_cov2_trigger_conditions_v2",
                    format!("the trigger {} has no conditions", identifier(trigger)),
                    format!("{path}.conditions"),
                );
            } else if total > MAX_COV2_TRIGGER_CONDITIONS {
                push(
                    "excessive_custom_objects_v2_trigger_conditions_v2",
                    format!("the trigger {} has {total} conditions; the limit is {MAX_COV2_TRIGGER_CONDITIONS}", identifier(trigger)),
                    format!("{path}.conditions"),
                );
            }
        }
        if let Some(actions) = trigger.get("actions") {
            match actions.as_array() {
                None => push(
                    "invalid_cov2_trigger_actions_structure_v2",
                    format!(
                        "the trigger {}'s actions must be an array",
                        identifier(trigger)
                    ),
                    format!("{path}.actions"),
                ),
                Some([]) => push(
                    "empty_cov2_trigger_actions_v2",
                    format!("the trigger {} has no actions", identifier(trigger)),
                    format!("{path}.actions"),
                ),
                Some(list) if list.len() > MAX_COV2_TRIGGER_ACTIONS => push(
                    "excessive_custom_objects_v2_trigger_actions_v2",
                    format!(
                        "the trigger {} has {} actions; the limit is {MAX_COV2_TRIGGER_ACTIONS}",
                        identifier(trigger),
                        list.len()
                    ),
                    format!("{path}.actions"),
                ),
                Some(_) => {}
            }
        }
    }
}

/// Whether any string (key or value) holds a `{{ setting.x }}` placeholder.
fn has_setting_placeholder(value: &Json) -> bool {
    let placeholder = |s: &str| {
        s.match_indices("{{")
            .any(|(at, _)| s[at + 2..].trim_start().starts_with("setting."))
    };
    match value {
        Json::String(s) => placeholder(s),
        Json::Array(items) => items.iter().any(has_setting_placeholder),
        Json::Object(pairs) => pairs
            .iter()
            .any(|(k, v)| placeholder(k) || has_setting_placeholder(v)),
        _ => false,
    }
}
