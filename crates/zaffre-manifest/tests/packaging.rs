//! Packaging: reproducible bytes, zcli's inclusion rules, refusal of invalid
//! apps, and the scaffold validating clean.

use std::path::Path;

use zaffre_manifest::{package_dir, scaffold, validate, PackError, Package};

fn write_app(dir: &Path, files: &std::collections::BTreeMap<String, Vec<u8>>) {
    for (path, bytes) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, bytes).unwrap();
    }
}

#[test]
fn the_scaffold_validates_clean() {
    let package = Package::from_files(scaffold::new_app("My App"));
    let report = validate(&package);
    assert!(report.findings.is_empty(), "{report:#?}");
    let manifest = package.manifest().unwrap();
    assert!(manifest.parameter("api_token").unwrap().secure);
    assert!(!manifest.parameter("greeting").unwrap().secure);
    let js = String::from_utf8(package.files["assets/main.js"].clone()).unwrap();
    for call in [
        "ZAFClient.init()",
        "client.invoke('resize'",
        "client.get('ticket.subject')",
        "'ticket.subject.changed'",
        "client.set('ticket.status'",
    ] {
        assert!(js.contains(call), "main.js lacks {call}");
    }
    let html = String::from_utf8(package.files["assets/iframe.html"].clone()).unwrap();
    assert!(html.contains(scaffold::ZAF_SDK_URL));
}

#[test]
fn packaging_is_reproducible_and_follows_zcli_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = scaffold::new_app("Repro");
    files.insert(
        ".zcliignore".into(),
        b"# comment\r\nnotes/**\r\n*.md\r\n".to_vec(),
    );
    files.insert("notes/plan.txt".into(), b"ignored".to_vec());
    files.insert(
        "docs/guide.md".into(),
        b"kept: *.md is anchored at the root".to_vec(),
    );
    files.insert("tmp/app-1.zip".into(), b"old".to_vec());
    files.insert(
        "zcli.apps.config.json".into(),
        br#"{"parameters": {"api_token": "t0k3n"}}"#.to_vec(),
    );
    files.insert(".env".into(), b"SECRET=1".to_vec());
    files.insert("assets/.DS_Store".into(), b"x".to_vec());
    write_app(dir.path(), &files);

    let (first, report) = package_dir(dir.path()).unwrap();
    assert!(!report.has_errors());
    // Touch every file: timestamps must not matter.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write_app(dir.path(), &files);
    let (second, _) = package_dir(dir.path()).unwrap();
    assert_eq!(first, second, "packaging twice gives different bytes");

    let package = Package::from_zip(&first).unwrap();
    let names: Vec<&str> = package.files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "assets/iframe.html",
            "assets/logo-small.png",
            "assets/logo.png",
            "assets/main.js",
            "docs/guide.md",
            "manifest.json",
            "translations/en.json"
        ]
    );
    assert_eq!(package.files["assets/logo.png"], files["assets/logo.png"]);

    // Fixed timestamps and permissions in every entry.
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&first)).unwrap();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).unwrap();
        assert_eq!(entry.last_modified(), Some(zip::DateTime::DEFAULT));
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o644));
    }
}

#[test]
fn packaging_refuses_an_invalid_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = scaffold::new_app("Broken");
    files.insert(
        "manifest.json".into(),
        br#"{"defaultLocale": "en"}"#.to_vec(),
    );
    write_app(dir.path(), &files);
    match package_dir(dir.path()) {
        Err(PackError::Invalid(report)) => {
            assert!(report.keys().contains(&"manifest_keys.missing"))
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn folder_links_inside_are_followed_and_outside_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), &scaffold::new_app("Links"));
    std::os::unix::fs::symlink("iframe.html", dir.path().join("assets/alias.html")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("assets/outside.html")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("assets/up")).unwrap();
    let package = Package::from_dir(dir.path()).unwrap();
    assert_eq!(
        package.files["assets/alias.html"],
        package.files["assets/iframe.html"]
    );
    let report = validate(&package);
    assert_eq!(
        report.keys(),
        ["symlink_escapes_package", "symlink_escapes_package"]
    );
    assert!(matches!(
        package_dir(dir.path()),
        Err(PackError::Invalid(_))
    ));
}
