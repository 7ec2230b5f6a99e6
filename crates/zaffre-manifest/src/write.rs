//! Writing a package as a reproducible zip.
//!
//! The same folder always gives the same bytes: entries are sorted by path,
//! every entry has the same timestamp (1980-01-01, the zip format's epoch)
//! and the same permissions (0644), and there are no folder entries or extra
//! fields that would carry the packer's clock or user. Reproducible packages
//! can be compared by hash, and re-uploading an unchanged app changes nothing.

use std::io::{Cursor, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::finding::Report;
use crate::package::{Limits, Package, PackageError};

/// Why packaging failed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The folder could not be read.
    #[error(transparent)]
    Read(#[from] PackageError),
    /// The app has validation errors; the report has them all.
    #[error("the app has {} validation error(s)", .0.errors().count())]
    Invalid(Report),
    /// The zip library failed (only on I/O into memory, so practically never).
    #[error("could not write the zip: {0}")]
    Zip(String),
}

/// Reads, validates and zips an app folder. Refuses an app with validation
/// errors and returns the report (warnings included) with the bytes.
pub fn package_dir(path: impl AsRef<Path>) -> Result<(Vec<u8>, Report), PackError> {
    let package = Package::from_dir_with(path.as_ref(), Limits::default())?;
    let report = crate::validate(&package);
    if report.has_errors() {
        return Err(PackError::Invalid(report));
    }
    let bytes = write_zip(&package)?;
    Ok((bytes, report))
}

/// Zips a package's files deterministically (see the module docs). Does not validate.
pub fn write_zip(package: &Package) -> Result<Vec<u8>, PackError> {
    let zip_err = |e: zip::result::ZipError| PackError::Zip(e.to_string());
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644);
    // BTreeMap iteration is already sorted by path.
    for (path, bytes) in &package.files {
        // Everything is deflated, even PNGs: one method for every entry keeps
        // the output simple, and deflate costs next to nothing on compressed files.
        writer.start_file(path.as_str(), options).map_err(zip_err)?;
        writer
            .write_all(bytes)
            .map_err(|e| PackError::Zip(e.to_string()))?;
    }
    let cursor = writer.finish().map_err(zip_err)?;
    Ok(cursor.into_inner())
}
