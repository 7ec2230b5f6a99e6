//! Running every check over a package, in Zendesk's order.
//!
//! The order matters because Zendesk's tools show only the *first* error;
//! keeping it means our first error is the one a developer would see there.
//! The stages (from `zendesk_apps_support`'s `Package#validate`):
//!
//! 1. the manifest ([`manifest`]): presence, JSON syntax, duplicate keys, and
//!    then every field; a syntax or duplicate-key error stops here;
//! 2. only when stage 1 found no error: experiments, source files for
//!    requirements-only and marketing-only apps, translations
//!    ([`translations`]), `requirements.json` ([`requirements`]), and the
//!    secure-settings and insecure-request warnings;
//! 3. always: links, the banner, SVG icons, forbidden file types ([`files`]);
//! 4. always: the possible-secrets warning.
//!
//! zaffre's own checks (keys not in Zendesk's list) sit next to the Zendesk
//! check they extend; the README lists them.

mod files;
mod manifest;
mod requirements;
mod translations;

#[cfg(test)]
pub(crate) use files::png_size;
pub use manifest::{check_whitelist_entry, FRAMEWORK_VERSIONS};

use crate::finding::{Finding, Report};
use crate::json::{self, Json};
use crate::package::Package;
use crate::MANIFEST;

/// Switches for checks Zendesk runs only on request. Both are off by
/// default, as on Zendesk: then `mtls` is an unknown parameter type and
/// `custom_object_record_sidebar` an unknown location.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Accept `mtls` parameters and check their `allowed_domain`
    /// (Zendesk's `validate_mtls_param`).
    pub mtls_parameters: bool,
    /// Accept the `custom_object_record_sidebar` location and check
    /// `objectTypes` (Zendesk's `validate_custom_object_record_sidebar_location`).
    pub custom_object_record_sidebar: bool,
}

/// Validates a package with the default [`Options`] and returns every
/// finding, in check order.
pub fn validate(package: &Package) -> Report {
    validate_with(package, Options::default())
}

/// Validates a package with the given [`Options`].
pub fn validate_with(package: &Package, options: Options) -> Report {
    let mut report = Report::default();
    let root = read_manifest(package, &mut report);
    let manifest_valid = match &root {
        Some(root) => {
            manifest::check(root, package, options, &mut report);
            !report.has_errors()
        }
        None => false,
    };
    if let (Some(root), true) = (&root, manifest_valid) {
        manifest::check_experiments(root, &mut report);
        files::check_source_for_kind(root, package, &mut report);
        translations::check(root, package, &mut report);
        requirements::check(root, package, &mut report);
        manifest::secure_settings_warnings(root, &mut report);
        files::insecure_requests(package, &mut report);
    }
    files::check_links(package, &mut report);
    files::check_banner(package, &mut report);
    files::check_svgs(package, &mut report);
    files::check_file_types(package, &mut report);
    files::check_logos(root.as_ref(), package, &mut report);
    files::secrets(package, &mut report);
    files::application_secrets(package, &mut report);
    report
}

/// Stage 1's first half: find, size-check and parse `manifest.json`.
/// Returns the root object when the rest of the manifest checks can run.
fn read_manifest(package: &Package, report: &mut Report) -> Option<Json> {
    let Some(bytes) = package.manifest_bytes() else {
        // A zip made from the parent folder has the manifest one level down.
        let nested = package
            .files
            .keys()
            .find(|p| p.matches('/').count() == 1 && p.ends_with("/manifest.json"));
        report.push(match nested {
            Some(found) => Finding::error(
                "nested_manifest",
                format!(
                    "there is no manifest.json at the root of the package, but there is {found}; \
                     package the app's own folder rather than the folder above it"
                ),
            )
            .in_file(found.clone()),
            None => Finding::error(
                "missing_manifest",
                "the package has no manifest.json at its root",
            ),
        });
        return None;
    };
    let max = package.limits.max_manifest_bytes;
    if bytes.len() as u64 > max {
        report.push(
            Finding::error(
                "manifest_too_large",
                format!(
                    "manifest.json is {} bytes; a manifest may have at most {max}",
                    bytes.len()
                ),
            )
            .in_file(MANIFEST),
        );
        return None;
    }
    let parsed = match json::parse_bytes(bytes) {
        Ok(p) => p,
        Err(e) => {
            report.push(
                Finding::error(
                    "manifest_not_json",
                    format!("manifest.json is not valid JSON: {e}"),
                )
                .in_file(MANIFEST),
            );
            return None;
        }
    };
    if !parsed.duplicates.is_empty() {
        for d in &parsed.duplicates {
            report.push(
                Finding::error(
                    "duplicate_manifest_keys",
                    format!(
                        "the key {:?} appears more than once in the same object (first {}, then {}); \
                         JSON readers disagree on which one wins, so keep only one",
                        d.key, d.original, d.attempted
                    ),
                )
                .at(json::join_path(&d.object_path, &d.key)),
            );
        }
        return None;
    }
    if parsed.value.as_object().is_none() {
        report.push(
            Finding::error(
                "manifest_not_json",
                format!(
                    "manifest.json must hold a JSON object, but it holds {}",
                    parsed.value.kind()
                ),
            )
            .at("$"),
        );
        return None;
    }
    Some(parsed.value)
}

/// Joins names the way the messages list them.
fn list(items: &[String]) -> String {
    items.join(", ")
}

/// `true` for JSON values Ruby would treat as set: anything but absent and `null`.
fn present(v: Option<&Json>) -> Option<&Json> {
    v.filter(|v| !matches!(v, Json::Null))
}
