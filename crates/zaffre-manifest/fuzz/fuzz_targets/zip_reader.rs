//! Arbitrary bytes as an uploaded zip: reading must refuse or succeed within
//! the limits, never panic, and a package that reads must validate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zaffre_manifest::{validate, write_zip, Limits, Package};

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast and exercise the limit paths.
    let limits = Limits { max_total_bytes: 1 << 20, max_file_bytes: 1 << 19, ratio_floor_bytes: 1 << 12, ..Limits::default() };
    if let Ok(package) = Package::from_zip_with(data, limits) {
        assert!(package.files.values().map(Vec::len).sum::<usize>() as u64 <= limits.max_total_bytes);
        let _ = validate(&package);
        // What we read, we can write and read back identically.
        let bytes = write_zip(&package).expect("writing a read package");
        let again = Package::from_zip_with(&bytes, Limits::default()).expect("reading our own zip");
        assert_eq!(again.files, package.files);
    }
});
