//! Hostile and broken input: zip slip, zip bombs, huge manifests, invalid
//! UTF-8, duplicate keys, wrong types. Each must give a clear error or
//! finding with a stable key, and nothing may panic.

use std::io::{Cursor, Write};

use zaffre_manifest::{validate, Limits, Package, PackageError};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const MANIFEST: &str = r#"{"author": {"name": "a", "email": "a@example.com"}, "defaultLocale": "en",
 "location": {"support": {"ticket_sidebar": "assets/iframe.html"}}, "frameworkVersion": "2.0"}"#;

/// Builds a zip from (name, bytes) pairs, names used verbatim.
fn zip_of(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, data) in entries {
        // The writer wants a str; build odd names by patching bytes afterwards.
        let name = String::from_utf8_lossy(name).into_owned();
        w.start_file(name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn minimal_app() -> Vec<(&'static [u8], &'static [u8])> {
    vec![
        (b"manifest.json", MANIFEST.as_bytes()),
        (b"translations/en.json", br#"{"app": {"name": "A"}}"#),
        (b"assets/iframe.html", b"<!doctype html><p>hi</p>"),
    ]
}

#[test]
fn a_plain_zip_reads_and_validates() {
    let package = Package::from_zip(&zip_of(&minimal_app())).unwrap();
    assert_eq!(package.files.len(), 3);
    let report = validate(&package);
    assert!(!report.has_errors(), "{report:#?}");
}

#[test]
fn zip_slip_is_refused() {
    for name in [
        &b"../evil.js"[..],
        b"/etc/passwd",
        b"assets/../../evil",
        b"..\\evil.js",
        b"assets\\..\\..\\evil",
        b"C:/evil",
        b"a//b",
        b"./manifest.json",
    ] {
        let mut entries = minimal_app();
        entries.push((name, b"x"));
        let err = Package::from_zip(&zip_of(&entries)).unwrap_err();
        assert_eq!(
            err.key(),
            "zip_unsafe_path",
            "{}: {err}",
            String::from_utf8_lossy(name)
        );
    }
}

#[test]
fn invalid_utf8_names_are_refused() {
    let mut bytes = zip_of(&[(b"assets/AAAA.js", b"x")]);
    // Patch the name in both the local header and the central directory.
    let at: Vec<usize> = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"AAAA")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 2);
    for i in at {
        bytes[i] = 0xff;
        bytes[i + 1] = 0xfe;
    }
    let err = Package::from_zip(&bytes).unwrap_err();
    assert_eq!(err.key(), "invalid_file_name", "{err}");
}

#[test]
fn zip_bombs_are_refused() {
    // 4 MiB of zeros deflates to ~4 KiB: a ratio of ~1000.
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let mut entries = minimal_app();
    entries.push((b"assets/bomb.js", &zeros));
    let err = Package::from_zip(&zip_of(&entries)).unwrap_err();
    assert!(
        matches!(err, PackageError::CompressionRatio { .. }),
        "{err}"
    );
    assert_eq!(err.key(), "zip_bomb");

    // Many entries that stay under the ratio still hit the total.
    let limits = Limits {
        max_total_bytes: 1024,
        ..Limits::default()
    };
    let chunk = vec![b'a'; 600];
    let entries: Vec<(&[u8], &[u8])> = vec![(b"a.txt", &chunk), (b"b.txt", &chunk)];
    let err = Package::from_zip_with(&zip_of(&entries), limits).unwrap_err();
    assert_eq!(err.key(), "package_too_large", "{err}");
}

#[test]
fn entry_and_size_limits() {
    let names: Vec<String> = (0..20).map(|i| format!("assets/f{i}.txt")).collect();
    let entries: Vec<(&[u8], &[u8])> = names.iter().map(|n| (n.as_bytes(), &b"x"[..])).collect();
    let zip = zip_of(&entries);
    let few = Limits {
        max_files: 10,
        ..Limits::default()
    };
    assert_eq!(
        Package::from_zip_with(&zip, few).unwrap_err().key(),
        "too_many_files"
    );
    let tiny = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    assert_eq!(
        Package::from_zip_with(&zip, tiny).unwrap_err().key(),
        "too_many_files"
    );
    let small = Limits {
        max_zip_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        Package::from_zip_with(&zip, small).unwrap_err().key(),
        "package_too_large"
    );
    let one = Limits {
        max_file_bytes: 10,
        ..Limits::default()
    };
    let big = vec![b'b'; 11];
    assert_eq!(
        Package::from_zip_with(&zip_of(&[(b"a.txt", &big)]), one)
            .unwrap_err()
            .key(),
        "file_too_large"
    );
}

#[test]
fn duplicate_entries_symlinks_and_hidden_files() {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default();
    for (name, data) in minimal_app() {
        w.start_file(String::from_utf8_lossy(name), opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.add_symlink("assets/link.html", "/etc/passwd", opts)
        .unwrap();
    w.start_file(".git/config", opts).unwrap();
    w.start_file("__MACOSX/._manifest.json", opts).unwrap();
    w.start_file("zcli.apps.config.json", opts).unwrap();
    w.add_directory("assets/empty/", opts).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let package = Package::from_zip(&bytes).unwrap();
    assert_eq!(
        package.files.len(),
        3,
        "{:?}",
        package.files.keys().collect::<Vec<_>>()
    );
    let report = validate(&package);
    assert_eq!(
        report.errors().map(|f| f.key).collect::<Vec<_>>(),
        ["symlink_in_zip"]
    );

    // The writer refuses duplicate names, so make one by renaming bytes.
    let mut bytes = zip_of(&[(b"a.txt", b"1"), (b"b.txt", b"2")]);
    for i in 0..bytes.len() - 5 {
        if &bytes[i..i + 5] == b"b.txt" {
            bytes[i] = b'a';
        }
    }
    assert_eq!(
        Package::from_zip(&bytes).unwrap_err().key(),
        "zip_duplicate_entry"
    );
}

#[test]
fn garbage_is_not_a_zip() {
    for bytes in [&b""[..], b"PK", b"not a zip at all", &[0u8; 100]] {
        assert_eq!(Package::from_zip(bytes).unwrap_err().key(), "zip_invalid");
    }
    // A valid zip cut short.
    let zip = zip_of(&minimal_app());
    for cut in [10, zip.len() / 2, zip.len() - 1] {
        assert!(Package::from_zip(&zip[..cut]).is_err());
    }
}

fn manifest_keys(manifest: &[u8]) -> Vec<&'static str> {
    let package = Package::from_files([
        ("manifest.json".to_owned(), manifest.to_vec()),
        (
            "translations/en.json".to_owned(),
            br#"{"app": {"name": "A"}}"#.to_vec(),
        ),
        ("assets/iframe.html".to_owned(), b"<p>".to_vec()),
        (
            "assets/logo.png".to_owned(),
            zaffre_manifest::scaffold::logo_png(320),
        ),
        (
            "assets/logo-small.png".to_owned(),
            zaffre_manifest::scaffold::logo_png(128),
        ),
    ]);
    validate(&package).keys()
}

#[test]
fn huge_and_odd_manifests() {
    let huge = format!(r#"{{"name": "{}"}}"#, "a".repeat(300 * 1024));
    assert_eq!(manifest_keys(huge.as_bytes()), ["manifest_too_large"]);
    let deep = "[".repeat(100_000);
    assert_eq!(manifest_keys(deep.as_bytes()), ["manifest_not_json"]);
    assert_eq!(manifest_keys(b"\xef\xbb\xbf\xff"), ["manifest_not_json"]);
    assert_eq!(manifest_keys(b""), ["manifest_not_json"]);
    assert_eq!(manifest_keys(b"null"), ["manifest_not_json"]);
    assert_eq!(manifest_keys(b"{} {}"), ["manifest_not_json"]);
    // A byte-order mark is tolerated.
    let with_bom = [&b"\xef\xbb\xbf"[..], MANIFEST.as_bytes()].concat();
    assert!(manifest_keys(&with_bom).is_empty());
    // Duplicates deep down, one finding each.
    let dup = br#"{"a": {"b": {"c": 1, "c": 2}}, "a": 3, "defaultLocale": "en"}"#;
    assert_eq!(
        manifest_keys(dup),
        ["duplicate_manifest_keys", "duplicate_manifest_keys"]
    );
}

/// Every top-level field with every JSON type: findings, never a panic.
#[test]
fn wrong_types_everywhere_never_panic() {
    let values = [
        "null",
        "true",
        "0",
        "-1.5e300",
        "\"\"",
        "\"x\"",
        "[]",
        "[1, null, {}]",
        "{}",
        r#"{"url": 1, "support": []}"#,
    ];
    let fields = [
        "name",
        "author",
        "defaultLocale",
        "private",
        "location",
        "frameworkVersion",
        "parameters",
        "domainWhitelist",
        "oauth",
        "signedUrls",
        "requirementsOnly",
        "marketingOnly",
        "singleInstall",
        "version",
        "experiments",
        "noTemplate",
        "termsConditionsURL",
        "remoteInstallationURL",
        "gaID",
    ];
    for field in fields {
        for value in values {
            let manifest = MANIFEST.replacen('{', &format!("{{\"{field}\": {value}, "), 1);
            // Duplicates of the base keys are fine here: they are findings too.
            let _ = manifest_keys(manifest.as_bytes());
        }
    }
    // Inside parameters and locations too.
    for value in values {
        let params = format!(
            r#"{{"defaultLocale": "en", "parameters": [{value}, {{"name": {value}, "type": {value}, "secure": {value}, "required": {value}, "scopes": {value}, "default": {value}}}]}}"#
        );
        let _ = manifest_keys(params.as_bytes());
        let locs = format!(
            r#"{{"location": {{"support": {{"ticket_sidebar": {value}, "nav_bar": {{"url": {value}, "flexible": {value}, "autoLoad": {value}, "size": {value}}}}}, "zendesk": {value}}}}}"#
        );
        let _ = manifest_keys(locs.as_bytes());
    }
}
