#![doc = include_str!("../README.md")]

pub mod finding;
mod ignore;
pub mod json;
pub mod model;
pub mod package;
pub mod scaffold;
mod validate;
mod write;

pub use finding::{Finding, Report, Severity};
pub use ignore::IgnoreRules;
pub use model::{
    Author, Location, LocationSize, Manifest, OAuth, Parameter, ParameterType, Product,
};
pub use package::{Limits, Package, PackageError, RefusedLink};
pub use validate::{validate, validate_with, Options};
pub use write::{package_dir, write_zip, PackError};

/// The manifest's file name, at the package root.
pub const MANIFEST: &str = "manifest.json";

/// The framework versions zaffre serves.
pub use validate::FRAMEWORK_VERSIONS;

/// Checks one `domainWhitelist` entry (exposed for the proxy, which applies
/// the same rule to entries after `{{setting.x}}` substitution).
pub use validate::check_whitelist_entry;
