//! Arbitrary bytes as manifest.json: parsing, every check and the typed
//! model must return findings, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zaffre_manifest::{json, validate, Package};

fuzz_target!(|data: &[u8]| {
    let _ = json::parse_bytes(data);
    let package = Package::from_files([
        ("manifest.json".to_owned(), data.to_vec()),
        ("translations/en.json".to_owned(), br#"{"app": {"name": "Fuzz"}}"#.to_vec()),
        ("assets/iframe.html".to_owned(), b"<p>fuzz</p>".to_vec()),
        // The same bytes as requirements and as a translation reach those parsers too.
        ("requirements.json".to_owned(), data.to_vec()),
        ("translations/fr.json".to_owned(), data.to_vec()),
    ]);
    let report = validate(&package);
    let _ = package.manifest();
    for finding in &report.findings {
        let _ = finding.to_string();
    }
});
