//! Reading an app package from a folder or a zip, safely.
//!
//! A package is read whole into memory ([`Package::files`]) so that
//! validation, packaging and the server all look at exactly the same bytes,
//! and so that nothing from an upload ever touches the file system. Every
//! read is bounded by [`Limits`]; every zip entry name is checked before it is
//! used; declared sizes in a zip are never trusted (we count what we inflate).
//!
//! Which files a package has follows Zendesk's tools: paths with a component
//! starting with `.` and everything under `tmp/` are not part of an app, and
//! neither is `zcli.apps.config.json` (it may hold plain-text settings). A
//! folder also honours its `.zcliignore`, so validating a folder checks
//! exactly what packaging it would ship.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use crate::ignore::IgnoreRules;

/// zcli's per-app configuration; never part of a package (zcli issue #183:
/// it can hold setting values in plain text).
pub const ZCLI_CONFIG: &str = "zcli.apps.config.json";

/// Bounds on what a package may contain. The defaults are generous for real
/// apps (the largest public ZAF apps are a few MiB) and small enough that a
/// hostile upload cannot exhaust a server's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest zip file accepted, in bytes (compressed).
    pub max_zip_bytes: u64,
    /// Most entries a zip may list (files, folders and links together).
    pub max_entries: usize,
    /// Most files a package may have.
    pub max_files: usize,
    /// Largest total size of all files, uncompressed.
    pub max_total_bytes: u64,
    /// Largest single file, uncompressed.
    pub max_file_bytes: u64,
    /// Highest uncompressed/compressed ratio allowed for an entry larger than
    /// [`Limits::ratio_floor_bytes`]. Text compresses 3–15×; a zip bomb 1000×.
    pub max_compression_ratio: u64,
    /// Entries smaller than this are not ratio-checked (a small file of
    /// spaces legitimately compresses very well, and is harmless).
    pub ratio_floor_bytes: u64,
    /// Deepest folder nesting read from a directory.
    pub max_depth: usize,
    /// Largest manifest.json parsed (a finding, not a load error).
    pub max_manifest_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_zip_bytes: 32 * MIB,
            max_entries: 4000,
            max_files: 2000,
            max_total_bytes: 64 * MIB,
            max_file_bytes: 16 * MIB,
            max_compression_ratio: 100,
            ratio_floor_bytes: MIB,
            max_depth: 32,
            max_manifest_bytes: 256 * 1024,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// Why a package could not be read at all. Each variant has a stable
/// [`key`](PackageError::key) so that callers can report it like a finding.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("could not read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a folder")]
    NotADirectory(PathBuf),
    #[error("not a readable zip file: {0}")]
    NotAZip(String),
    #[error("the package is {size} bytes; the limit is {max}")]
    ZipTooLarge { size: u64, max: u64 },
    #[error("the package has more than {max} entries")]
    TooManyEntries { max: usize },
    #[error("the package has more than {max} files")]
    TooManyFiles { max: usize },
    #[error("the package's files add up to more than {max} bytes")]
    TotalTooLarge { max: u64 },
    #[error("{path} is larger than {max} bytes")]
    FileTooLarge { path: String, max: u64 },
    #[error("{path} is nested more than {max} folders deep")]
    TooDeep { path: String, max: usize },
    #[error("the entry name {name:?} could escape the package (absolute path, `..`, `.`, empty part, drive letter or backslash)")]
    UnsafePath { name: String },
    #[error("the entry name {name:?} is not valid UTF-8 or contains control characters")]
    InvalidName { name: String },
    #[error("{path} inflates more than {max}× its compressed size (zip bomb?)")]
    CompressionRatio { path: String, max: u64 },
    #[error("{path} appears twice in the zip")]
    DuplicateEntry { path: String },
    #[error("{path} is encrypted; encrypted packages are not supported")]
    Encrypted { path: String },
    #[error("{path} could not be inflated: {reason}")]
    CorruptEntry { path: String, reason: String },
}

impl PackageError {
    /// A stable key for reporting, in the same namespace as finding keys.
    pub fn key(&self) -> &'static str {
        match self {
            PackageError::Io { .. } | PackageError::NotADirectory(_) => "package_unreadable",
            PackageError::NotAZip(_) | PackageError::CorruptEntry { .. } => "zip_invalid",
            PackageError::Encrypted { .. } => "zip_encrypted",
            PackageError::ZipTooLarge { .. } | PackageError::TotalTooLarge { .. } => {
                "package_too_large"
            }
            PackageError::TooManyEntries { .. } | PackageError::TooManyFiles { .. } => {
                "too_many_files"
            }
            PackageError::FileTooLarge { .. } => "file_too_large",
            PackageError::TooDeep { .. } => "folder_too_deep",
            PackageError::UnsafePath { .. } => "zip_unsafe_path",
            PackageError::InvalidName { .. } => "invalid_file_name",
            PackageError::CompressionRatio { .. } => "zip_bomb",
            PackageError::DuplicateEntry { .. } => "zip_duplicate_entry",
        }
    }

    /// This error as an error finding (for printing next to validation findings).
    pub fn to_finding(&self) -> crate::Finding {
        let f = crate::Finding::error(self.key(), self.to_string());
        match self {
            PackageError::FileTooLarge { path, .. }
            | PackageError::TooDeep { path, .. }
            | PackageError::CompressionRatio { path, .. }
            | PackageError::DuplicateEntry { path, .. }
            | PackageError::Encrypted { path }
            | PackageError::CorruptEntry { path, .. } => f.in_file(path.clone()),
            _ => f,
        }
    }
}

/// A symbolic link found while reading, which is never followed into the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedLink {
    /// The link's path relative to the package root.
    pub path: String,
    /// `true` for a link entry inside a zip; `false` for a link in a folder
    /// that does not resolve to a regular file inside that folder.
    pub in_zip: bool,
}

/// An app package held in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    /// Every file of the app, by its `/`-separated path relative to the root.
    /// Sorted, so iteration and packaging are deterministic.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Links that were not read; validation reports them.
    pub refused_links: Vec<RefusedLink>,
    /// The limits the package was read with (validation checks the manifest size against them).
    pub limits: Limits,
}

impl Package {
    /// Reads an app folder with the default [`Limits`].
    pub fn from_dir(path: impl AsRef<Path>) -> Result<Package, PackageError> {
        Package::from_dir_with(path.as_ref(), Limits::default())
    }

    /// Reads an app folder. Links that resolve to a regular file inside the
    /// folder are read as that file (as Zendesk's older tool did when
    /// packaging); any other link is refused and reported by validation.
    pub fn from_dir_with(root: &Path, limits: Limits) -> Result<Package, PackageError> {
        let meta = std::fs::metadata(root).map_err(|source| PackageError::Io {
            path: root.to_owned(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(PackageError::NotADirectory(root.to_owned()));
        }
        let canonical_root = root.canonicalize().map_err(|source| PackageError::Io {
            path: root.to_owned(),
            source,
        })?;
        let ignore = match std::fs::read(root.join(".zcliignore")) {
            Ok(bytes) => IgnoreRules::parse(&String::from_utf8_lossy(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => IgnoreRules::default(),
            Err(source) => {
                return Err(PackageError::Io {
                    path: root.join(".zcliignore"),
                    source,
                })
            }
        };
        let mut walker = DirWalker {
            root: canonical_root,
            limits,
            ignore,
            package: Package {
                limits,
                ..Package::default()
            },
            total: 0,
        };
        walker.walk(root, "", 0)?;
        Ok(walker.package)
    }

    /// Reads a zip with the default [`Limits`].
    pub fn from_zip(bytes: &[u8]) -> Result<Package, PackageError> {
        Package::from_zip_with(bytes, Limits::default())
    }

    /// Reads a zip held in memory. Refuses (rather than skips) anything
    /// unsafe: a hostile archive should fail loudly, not half-load.
    pub fn from_zip_with(bytes: &[u8], limits: Limits) -> Result<Package, PackageError> {
        let size = bytes.len() as u64;
        if size > limits.max_zip_bytes {
            return Err(PackageError::ZipTooLarge {
                size,
                max: limits.max_zip_bytes,
            });
        }
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| PackageError::NotAZip(e.to_string()))?;
        if archive.len() > limits.max_entries {
            return Err(PackageError::TooManyEntries {
                max: limits.max_entries,
            });
        }
        // Tools disagree on ambiguous zips, so refuse them. The library keeps
        // only one of two entries with the same name, silently; compare with
        // the count the end-of-central-directory record declares.
        if archive.has_duplicate_names()
            || central_directory_count(bytes).is_some_and(|declared| declared > archive.len())
        {
            return Err(PackageError::DuplicateEntry {
                path: "(a name used by two entries)".to_owned(),
            });
        }
        // Local headers that contradict the central directory (zip cloaking),
        // overlapping entries (the non-recursive zip bomb) and unlisted entries.
        if let Err(e) = archive.validate_header_consistency() {
            return Err(PackageError::NotAZip(e.to_string()));
        }
        let mut package = Package {
            limits,
            ..Package::default()
        };
        let mut total: u64 = 0;
        let mut seen = std::collections::BTreeSet::new();
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).map_err(|e| {
                let reason = e.to_string();
                if reason.to_ascii_lowercase().contains("password")
                    || reason.to_ascii_lowercase().contains("encrypt")
                {
                    PackageError::Encrypted {
                        path: format!("entry #{index}"),
                    }
                } else {
                    PackageError::NotAZip(reason)
                }
            })?;
            let (name, is_dir) = check_entry_name(entry.name_raw())?;
            if !seen.insert(name.clone()) {
                return Err(PackageError::DuplicateEntry { path: name });
            }
            if name.split('/').count() > limits.max_depth {
                return Err(PackageError::TooDeep {
                    path: name,
                    max: limits.max_depth,
                });
            }
            if is_dir || entry.is_dir() {
                continue;
            }
            if entry.encrypted() {
                return Err(PackageError::Encrypted { path: name });
            }
            if entry.is_symlink() {
                if !is_hidden(&name) {
                    package.refused_links.push(RefusedLink {
                        path: name,
                        in_zip: true,
                    });
                }
                continue;
            }
            if package.files.len() >= limits.max_files {
                return Err(PackageError::TooManyFiles {
                    max: limits.max_files,
                });
            }
            // Never trust the declared size: read at most one byte more than
            // any limit allows, so an oversized entry is detected without
            // inflating all of it.
            let compressed = entry.compressed_size().max(1);
            let by_ratio = compressed
                .saturating_mul(limits.max_compression_ratio)
                .max(limits.ratio_floor_bytes);
            let remaining = limits.max_total_bytes.saturating_sub(total);
            let cap = limits.max_file_bytes.min(remaining).min(by_ratio);
            let mut data = Vec::new();
            (&mut entry)
                .take(cap.saturating_add(1))
                .read_to_end(&mut data)
                .map_err(|e| PackageError::CorruptEntry {
                    path: name.clone(),
                    reason: e.to_string(),
                })?;
            let len = data.len() as u64;
            if len > cap {
                return Err(if len > limits.max_file_bytes {
                    PackageError::FileTooLarge {
                        path: name,
                        max: limits.max_file_bytes,
                    }
                } else if len > remaining {
                    PackageError::TotalTooLarge {
                        max: limits.max_total_bytes,
                    }
                } else {
                    PackageError::CompressionRatio {
                        path: name,
                        max: limits.max_compression_ratio,
                    }
                });
            }
            total += len;
            if !is_hidden(&name) && name != ZCLI_CONFIG {
                package.files.insert(name, data);
            }
        }
        Ok(package)
    }

    /// A package from files already in memory (paths relative, `/`-separated),
    /// leaving out what a folder or zip would leave out (dotfiles, `tmp/`,
    /// `zcli.apps.config.json`). Paths are not otherwise checked: this is for
    /// trusted input such as a scaffold or a test.
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Package {
        Package {
            files: files
                .into_iter()
                .filter(|(path, _)| !is_hidden(path) && path != ZCLI_CONFIG)
                .collect(),
            ..Package::default()
        }
    }

    /// The bytes of `manifest.json` at the root, if any.
    pub fn manifest_bytes(&self) -> Option<&[u8]> {
        self.files.get(crate::MANIFEST).map(Vec::as_slice)
    }

    /// Parses the manifest into the typed model, or `None` when there is no
    /// manifest or it is not a JSON object. Run [`crate::validate`] first:
    /// the model is lenient and leaves out fields whose type is wrong.
    pub fn manifest(&self) -> Option<crate::Manifest> {
        let parsed = crate::json::parse_bytes(self.manifest_bytes()?).ok()?;
        crate::Manifest::from_json(&parsed.value)
    }
}

/// Whether Zendesk's validator would see this path: dotfiles, dot-folders
/// and `tmp/` are invisible to it (Ruby's `Dir` glob skips them).
pub(crate) fn is_hidden(path: &str) -> bool {
    path.starts_with("tmp/") || path.split('/').any(|part| part.starts_with('.'))
}

/// The total entry count declared by the end-of-central-directory record
/// (`None` when it cannot be found, or for zip64, whose count is elsewhere).
fn central_directory_count(bytes: &[u8]) -> Option<usize> {
    const EOCD: &[u8] = b"PK\x05\x06";
    // The record is 22 bytes plus a comment of at most 65,535.
    let from = bytes.len().saturating_sub(22 + 65_535);
    let at = bytes[from..].windows(4).rposition(|w| w == EOCD)? + from;
    let record = bytes.get(at..at + 22)?;
    let count = u16::from_le_bytes([record[10], record[11]]);
    (count != u16::MAX).then_some(usize::from(count))
}

/// Checks a raw zip entry name and returns it as a relative path, plus
/// whether it names a folder (trailing `/`).
fn check_entry_name(raw: &[u8]) -> Result<(String, bool), PackageError> {
    let lossy = || String::from_utf8_lossy(raw).into_owned();
    let name = std::str::from_utf8(raw).map_err(|_| PackageError::InvalidName { name: lossy() })?;
    if name.chars().any(char::is_control) {
        return Err(PackageError::InvalidName { name: lossy() });
    }
    let unsafe_path = || PackageError::UnsafePath {
        name: name.to_owned(),
    };
    // Backslashes are path separators on Windows, so `..\..\x` escapes there;
    // a legitimate app never needs one in a file name.
    if name.is_empty() || name.starts_with('/') || name.contains('\\') {
        return Err(unsafe_path());
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' {
        return Err(unsafe_path());
    }
    let (trimmed, is_dir) = match name.strip_suffix('/') {
        Some(t) => (t, true),
        None => (name, false),
    };
    if trimmed
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(unsafe_path());
    }
    Ok((trimmed.to_owned(), is_dir))
}

struct DirWalker {
    root: PathBuf,
    limits: Limits,
    ignore: IgnoreRules,
    package: Package,
    total: u64,
}

impl DirWalker {
    fn walk(&mut self, dir: &Path, prefix: &str, depth: usize) -> Result<(), PackageError> {
        if depth >= self.limits.max_depth {
            return Err(PackageError::TooDeep {
                path: prefix.trim_end_matches('/').to_owned(),
                max: self.limits.max_depth,
            });
        }
        let io = |source| PackageError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            entries.push(entry.map_err(io)?);
        }
        // Sorted so that limits trip on the same file every time.
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let os_name = entry.file_name();
            let Some(name) = os_name.to_str() else {
                return Err(PackageError::InvalidName {
                    name: format!("{prefix}{}", os_name.to_string_lossy()),
                });
            };
            if name.chars().any(char::is_control) || name.contains('\\') {
                return Err(PackageError::InvalidName {
                    name: format!("{prefix}{name}"),
                });
            }
            let rel = format!("{prefix}{name}");
            if name.starts_with('.') || rel == "tmp" || rel == ZCLI_CONFIG {
                continue;
            }
            let path = entry.path();
            let file_type = entry.file_type().map_err(|source| PackageError::Io {
                path: path.clone(),
                source,
            })?;
            if file_type.is_dir() {
                self.walk(&path, &format!("{rel}/"), depth + 1)?;
            } else if self.ignore.is_ignored(&rel) {
                continue;
            } else if file_type.is_symlink() {
                match self.resolve_link(&path) {
                    Some(target) => self.read_file(&target, rel)?,
                    None => self.package.refused_links.push(RefusedLink {
                        path: rel,
                        in_zip: false,
                    }),
                }
            } else if file_type.is_file() {
                self.read_file(&path, rel)?;
            }
            // Sockets, FIFOs and devices are skipped: reading a FIFO would block forever.
        }
        Ok(())
    }

    /// The target of a link when it is a regular file inside the root.
    fn resolve_link(&self, link: &Path) -> Option<PathBuf> {
        let target = link.canonicalize().ok()?;
        let meta = std::fs::metadata(&target).ok()?;
        (meta.is_file() && target.starts_with(&self.root)).then_some(target)
    }

    fn read_file(&mut self, path: &Path, rel: String) -> Result<(), PackageError> {
        if self.package.files.len() >= self.limits.max_files {
            return Err(PackageError::TooManyFiles {
                max: self.limits.max_files,
            });
        }
        let io = |source| PackageError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let remaining = self.limits.max_total_bytes.saturating_sub(self.total);
        let cap = self.limits.max_file_bytes.min(remaining);
        let mut data = Vec::new();
        file.take(cap.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(io)?;
        let len = data.len() as u64;
        if len > cap {
            return Err(if len > self.limits.max_file_bytes {
                PackageError::FileTooLarge {
                    path: rel,
                    max: self.limits.max_file_bytes,
                }
            } else {
                PackageError::TotalTooLarge {
                    max: self.limits.max_total_bytes,
                }
            });
        }
        self.total += len;
        self.package.files.insert(rel, data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        assert_eq!(
            check_entry_name(b"assets/a.html").unwrap(),
            ("assets/a.html".to_owned(), false)
        );
        assert_eq!(
            check_entry_name(b"assets/").unwrap(),
            ("assets".to_owned(), true)
        );
        for bad in [
            &b"../x"[..],
            b"/etc/passwd",
            b"a/../../b",
            b"a\\..\\b",
            b"C:/x",
            b"a//b",
            b"./a",
            b"",
            b"a/./b",
        ] {
            assert!(
                matches!(check_entry_name(bad), Err(PackageError::UnsafePath { .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            check_entry_name(b"\xff.js"),
            Err(PackageError::InvalidName { .. })
        ));
        assert!(matches!(
            check_entry_name(b"a\nb"),
            Err(PackageError::InvalidName { .. })
        ));
    }

    #[test]
    fn hidden_paths() {
        assert!(is_hidden(".git/config"));
        assert!(is_hidden("assets/.DS_Store"));
        assert!(is_hidden("tmp/app.zip"));
        assert!(!is_hidden("assets/tmp/x"));
    }
}
