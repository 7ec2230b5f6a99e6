//! The corpus: app folders written for these tests, each with an
//! `expected.json` listing exactly the finding keys validation must report,
//! in order; an optional `options.json` lists optional checks to switch on
//! (`["mtls_parameters", "custom_object_record_sidebar"]`). `good/` apps have no errors (a few expect a warning, e.g. an
//! oauth block's `client_secret` trips the possible-secrets scan, as it does
//! on Zendesk); each `bad/<key>/` app is built to trip one check.

use std::path::{Path, PathBuf};

use zaffre_manifest::{validate, validate_with, Options, Package};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The keys validating `dir` reports; a package that cannot be read at all
/// reports its error's key.
fn keys_for(dir: &Path) -> Vec<String> {
    match Package::from_dir(dir) {
        Ok(mut package) => {
            // The test's own files are not part of the app.
            package.files.remove("expected.json");
            let options =
                package
                    .files
                    .remove("options.json")
                    .map_or_else(Options::default, |bytes| {
                        let flags: Vec<String> = serde_json::from_slice(&bytes).unwrap();
                        Options {
                            mtls_parameters: flags.iter().any(|f| f == "mtls_parameters"),
                            custom_object_record_sidebar: flags
                                .iter()
                                .any(|f| f == "custom_object_record_sidebar"),
                        }
                    });
            validate_with(&package, options)
                .keys()
                .into_iter()
                .map(str::to_owned)
                .collect()
        }
        Err(e) => vec![e.key().to_owned()],
    }
}

fn check_kind(kind: &str) -> usize {
    let mut entries: Vec<_> = std::fs::read_dir(corpus().join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut failures = Vec::new();
    for dir in &entries {
        let expected: Vec<String> =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let actual = keys_for(dir);
        if actual != expected {
            let report = Package::from_dir(dir).map(|p| validate(&p));
            failures.push(format!(
                "{}: expected {expected:?}, got {actual:?}\n{report:#?}",
                dir.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus app(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    entries.len()
}

#[test]
fn good_apps_have_no_errors() {
    assert!(check_kind("good") >= 5);
    for entry in std::fs::read_dir(corpus().join("good")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("options.json").exists() {
            continue; // checked with its options by check_kind
        }
        let package = Package::from_dir(dir).unwrap();
        assert!(!validate(&package).has_errors());
    }
}

#[test]
fn bad_apps_have_exactly_the_expected_findings() {
    assert!(check_kind("bad") >= 70);
}

/// Every bad app named after a key expects that key, so the corpus cannot
/// drift away from what its folder names promise.
#[test]
fn bad_apps_are_named_after_a_key_they_expect() {
    for entry in std::fs::read_dir(corpus().join("bad")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let expected: Vec<String> =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        assert!(!expected.is_empty(), "{name} expects nothing");
        let descriptive = [
            "manifest_not_object",
            "manifest_invalid_utf8",
            "missing_location",
            "missing_framework_version",
            "wrong_types_everywhere",
            "duplicate_legacy_locations",
            "mtls_without_the_option",
        ];
        assert!(
            descriptive.contains(&name.as_str()) || expected.contains(&name),
            "{name} does not expect its own key: {expected:?}"
        );
    }
}

#[test]
fn findings_point_at_the_problem() {
    let package = Package::from_dir(corpus().join("bad/invalid_location_flexible_type")).unwrap();
    let report = validate(&package);
    let f = &report.findings[0];
    assert_eq!(f.file.as_deref(), Some("manifest.json"));
    assert_eq!(
        f.json_path.as_deref(),
        Some("$.location.support.ticket_sidebar.flexible")
    );
    assert_eq!(
        f.to_string().split(": ").next(),
        Some("manifest.json:$.location.support.ticket_sidebar.flexible")
    );

    let package = Package::from_dir(corpus().join("bad/duplicate_manifest_keys")).unwrap();
    let report = validate(&package);
    assert_eq!(
        report.findings[0].json_path.as_deref(),
        Some("$.location.support.ticket_sidebar.url")
    );
}

#[test]
fn the_typed_model_reads_every_field() {
    let package = Package::from_dir(corpus().join("good/full_featured")).unwrap();
    let m = package.manifest().unwrap();
    assert_eq!(m.name.as_deref(), Some("Corpus App"));
    assert_eq!(
        m.author.as_ref().and_then(|a| a.email.as_deref()),
        Some("tests@example.com")
    );
    assert!(m.private && m.single_install && !m.signed_urls);
    assert_eq!(m.locations.len(), 5);
    let sidebar = &m.locations[0];
    assert_eq!(
        (sidebar.product, sidebar.name.as_str(), sidebar.flexible),
        (
            zaffre_manifest::Product::Support,
            "ticket_sidebar",
            Some(true)
        )
    );
    assert_eq!(
        sidebar.size.as_ref().and_then(|s| s.height.as_deref()),
        Some("200px")
    );
    let modal = m.locations.iter().find(|l| l.name == "modal").unwrap();
    assert!(!modal.auto_load && modal.url.is_none());
    let token = m.parameter("api_token").unwrap();
    assert!(token.secure && token.scopes == ["header", "jwt_secret_key"]);
    assert_eq!(
        m.parameter("limit").unwrap().default,
        Some(serde_json::json!(5))
    );
    assert_eq!(
        m.parameter("connection").unwrap().kind,
        zaffre_manifest::ParameterType::OAuth
    );
    assert_eq!(
        m.domain_whitelist,
        ["api.example.com", "{{setting.subdomain}}.example.com"]
    );
    assert_eq!(
        m.oauth.as_ref().and_then(|o| o.scope.as_deref()),
        Some("read")
    );
    assert_eq!(
        m.products(),
        [
            zaffre_manifest::Product::Support,
            zaffre_manifest::Product::Sell
        ]
    );
    // Excluded: dotfiles, tmp/, zcli's config and what .zcliignore names.
    for path in package.files.keys() {
        assert!(
            !path.starts_with("tmp/")
                && !path.starts_with(".")
                && !path.starts_with("notes/")
                && path != "zcli.apps.config.json",
            "{path}"
        );
    }
}
