//! Cheap, always-run property tests: random bytes through both parsers.
//! The cargo-fuzz targets in `fuzz/` do the same for much longer.

use proptest::prelude::*;
use zaffre_manifest::{validate, Package};

fn validate_manifest_bytes(bytes: Vec<u8>) {
    let package = Package::from_files([("manifest.json".to_owned(), bytes)]);
    let report = validate(&package);
    let _ = package.manifest();
    for f in &report.findings {
        assert!(!f.message.is_empty());
    }
}

/// JSON-ish text, so the generator reaches past the first byte of the parser.
fn jsonish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(",".to_owned()),
            Just(":".to_owned()),
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("1e999".to_owned()),
            Just("\"location\"".to_owned()),
            Just("\"support\"".to_owned()),
            Just("\"ticket_sidebar\"".to_owned()),
            Just("\"parameters\"".to_owned()),
            Just("\"name\"".to_owned()),
            Just("\"secure\"".to_owned()),
            Just("\"scopes\"".to_owned()),
            Just("\"url\"".to_owned()),
            Just("\"assets/x.html\"".to_owned()),
            Just("\"domainWhitelist\"".to_owned()),
            Just("\"{{setting.\"".to_owned()),
            "\"[a-z{}.:/ ]{0,12}\"",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn manifest_parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        validate_manifest_bytes(bytes);
    }

    #[test]
    fn manifest_parser_never_panics_on_jsonish_text(text in jsonish()) {
        validate_manifest_bytes(text.into_bytes());
    }

    #[test]
    fn zip_reader_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        if let Ok(package) = Package::from_zip(&bytes) {
            let _ = validate(&package);
        }
    }

    #[test]
    fn whitelist_and_ignore_rules_never_panic(text in "\\PC{0,40}") {
        let _ = zaffre_manifest::check_whitelist_entry(&text);
        let rules = zaffre_manifest::IgnoreRules::parse(&text);
        let _ = rules.is_ignored("assets/main.js");
    }

    #[test]
    fn whitelist_templates_never_panic(text in "[a-z{}.:*/ -]{0,30}", name in "[a-z_]{0,6}") {
        let _ = zaffre_manifest::check_whitelist_entry(&text);
        let templated = format!("{{{{setting.{name}}}}}.{text}");
        let _ = zaffre_manifest::check_whitelist_entry(&templated);
    }

    /// Mutating a real zip reaches the reader's deeper paths.
    #[test]
    fn zip_reader_never_panics_on_mutated_zips(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = zaffre_manifest::write_zip(&Package::from_files(zaffre_manifest::scaffold::new_app("Fuzz"))).unwrap();
        for (index, value) in flips {
            let i = index.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(package) = Package::from_zip(&bytes) {
            let _ = validate(&package);
        }
    }
}
