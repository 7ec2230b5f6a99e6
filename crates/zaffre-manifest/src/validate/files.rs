//! Checks over the package's files rather than the manifest: links, the
//! banner, SVG icons, forbidden file types, logos, plain-http requests and
//! possible secrets.

use super::list;
use crate::finding::{Finding, Report};
use crate::json::Json;
use crate::model::Product;
use crate::package::Package;

/// Requirements-only and marketing-only apps have no code to run.
pub(super) fn check_source_for_kind(root: &Json, package: &Package, report: &mut Report) {
    let is_true = |key: &str| root.get(key).and_then(Json::as_bool) == Some(true);
    if !is_true("requirementsOnly") && !is_true("marketingOnly") {
        return;
    }
    let source = package.files.iter().find(|(path, bytes)| {
        path.ends_with(".js")
            || path.ends_with(".jsx")
            || (path.starts_with("templates/") && path.ends_with(".hdbs"))
            || (matches!(path.as_str(), "app.css" | "app.scss") && !bytes.is_empty())
    });
    if let Some((path, _)) = source {
        report.push(
            Finding::error(
                "no_source_required_apps",
                "requirements-only and marketing-only apps cannot contain scripts, stylesheets or templates",
            )
            .in_file(path.clone()),
        );
    }
}

/// Zendesk warns about `http:` URLs in scripts and pages; one warning per file.
pub(super) fn insecure_requests(package: &Package, report: &mut Report) {
    for (path, bytes) in &package.files {
        if ![".js", ".jsx", ".html", ".htm"]
            .iter()
            .any(|ext| path.ends_with(ext))
        {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let mut hosts: Vec<String> = Vec::new();
        for (at, _) in text.match_indices("http://") {
            let rest = &text[at + "http://".len()..];
            let host: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
                .collect();
            if !host.is_empty() && !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        if !hosts.is_empty() {
            report.push(
                Finding::warning(
                    "insecure_http_request",
                    format!("plain http:// URL(s) to {}; requests to them are unencrypted, use https://", list(&hosts)),
                )
                .in_file(path.clone()),
            );
        }
    }
}

/// Links are never followed into a package: a zip link could point anywhere
/// on the server that unpacks it, a folder link outside the app folder.
pub(super) fn check_links(package: &Package, report: &mut Report) {
    for link in &package.refused_links {
        report.push(if link.in_zip {
            Finding::error("symlink_in_zip", "symbolic links are not allowed in an app package").in_file(link.path.clone())
        } else {
            Finding::error(
                "symlink_escapes_package",
                "this symbolic link does not lead to a file inside the app folder (links to folders, to missing \
                 files and to anything outside the app are refused)",
            )
            .in_file(link.path.clone())
        });
    }
}

const BANNER: &str = "assets/banner.png";

/// Width and height of a PNG, read from its IHDR chunk.
pub(crate) fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) || bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((width, height))
}

pub(super) fn check_banner(package: &Package, report: &mut Report) {
    let Some(bytes) = package.files.get(BANNER) else {
        return;
    };
    match png_size(bytes) {
        None => report.push(
            Finding::error("banner.invalid_format", "the banner must be a PNG image")
                .in_file(BANNER),
        ),
        Some((830, 200) | (1660, 400)) => {}
        Some((w, h)) => report.push(
            Finding::error(
                "banner.invalid_size",
                format!("the banner is {w}×{h} pixels; it must be 830×200 (or 1660×400)"),
            )
            .in_file(BANNER),
        ),
    }
}

/// Zendesk rewrites unsafe SVG markup; zaffre does not rewrite packages, so
/// it reports the one case that Zendesk replaces outright: embedded bitmaps.
pub(super) fn check_svgs(package: &Package, report: &mut Report) {
    for (path, bytes) in &package.files {
        if !(path.starts_with("assets/") && path.ends_with(".svg")) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        if text.contains("<image") {
            report.push(
                Finding::warning(
                    "bitmap_in_svg",
                    "this SVG embeds a bitmap (<image>), which cannot be used as an app icon",
                )
                .in_file(path.clone()),
            );
        }
        // zaffre: Zendesk strips active content from SVGs; zaffre serves
        // packages unchanged, so it says what Zendesk would have removed.
        if let Some(what) = svg_active_content(&text) {
            report.push(
                Finding::warning(
                    "unsafe_svg",
                    format!("this SVG contains {what}; icons are shown as images, so remove it"),
                )
                .in_file(path.clone()),
            );
        }
    }
}

/// The first kind of active content in lowercased SVG markup, if any.
fn svg_active_content(text: &str) -> Option<&'static str> {
    if text.contains("<script") {
        return Some("a <script> element");
    }
    if text.contains("<foreignobject") {
        return Some("a <foreignObject> element (embedded HTML)");
    }
    if text.contains("javascript:") {
        return Some("a javascript: URL");
    }
    // An attribute like ` onload=` or `\tonclick =`.
    let handler = text.match_indices("on").any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let name: String = text[at..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        let after = text[at + name.len()..].trim_start();
        before.is_some_and(char::is_whitespace) && name.len() > 2 && after.starts_with('=')
    });
    handler.then_some("an event handler attribute (on…=)")
}

/// Zendesk's refused types, by extension (case-sensitive, as there).
const REFUSED_EXTENSIONS: [&str; 23] = [
    "vnd.rar", "rar", "zip", "gzip", "pdf", "doc", "docx", "avi", "bin", "bz", "bz2", "csh", "sh",
    "jar", "mp3", "mpeg", "odt", "pptx", "ppt", "xls", "xlsx", "7z", "gz",
];

/// zaffre's additions: programs and installers have no place in a web app.
const BANNED_EXTENSIONS: [&str; 16] = [
    "exe", "dll", "so", "dylib", "msi", "bat", "cmd", "com", "ps1", "scr", "apk", "dmg", "deb",
    "rpm", "class", "app",
];

/// The refused type a file's first bytes reveal, whatever its name says.
fn sniff_refused(bytes: &[u8]) -> Option<&'static str> {
    let magic: [(&[u8], &str); 6] = [
        (b"PK\x03\x04", "zip"),
        (b"PK\x05\x06", "zip"),
        (b"\x1f\x8b", "gzip"),
        (b"%PDF-", "pdf"),
        (b"Rar!\x1a\x07", "rar"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
    ];
    magic
        .iter()
        .find(|(m, _)| bytes.starts_with(m))
        .map(|(_, t)| *t)
}

/// Executables, recognised by their headers.
fn sniff_executable(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
        || bytes.starts_with(b"MZ")
        || [
            b"\xfe\xed\xfa\xce",
            b"\xfe\xed\xfa\xcf",
            b"\xce\xfa\xed\xfe",
            b"\xcf\xfa\xed\xfe",
            b"\xca\xfe\xba\xbe",
        ]
        .iter()
        .any(|m| bytes.starts_with(*m))
}

fn extension(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next()?;
    name.rsplit_once('.').map(|(_, ext)| ext)
}

pub(super) fn check_file_types(package: &Package, report: &mut Report) {
    let mut refused = Vec::new();
    let mut banned = Vec::new();
    for (path, bytes) in &package.files {
        let ext = extension(path);
        if ext.is_some_and(|e| REFUSED_EXTENSIONS.contains(&e)) || sniff_refused(bytes).is_some() {
            refused.push(path.clone());
        } else if ext.is_some_and(|e| {
            let lower = e.to_ascii_lowercase();
            BANNED_EXTENSIONS.contains(&lower.as_str())
                || REFUSED_EXTENSIONS.contains(&lower.as_str())
        }) || sniff_executable(bytes)
        {
            banned.push(path.clone());
        }
    }
    if !refused.is_empty() {
        report.push(
            Finding::error(
                "unsupported_mime_type_detected",
                format!("archives, documents, media and scripts of these kinds cannot be part of an app: {}", list(&refused)),
            )
            .in_file(refused[0].clone()),
        );
    }
    for path in banned {
        report.push(
            Finding::error(
                "banned_file_type",
                "programs, libraries and installers cannot be part of an app",
            )
            .in_file(path),
        );
    }
}

/// zaffre: the docs list both logos as required and the app list shows
/// them; Zendesk's validator does not check, so this is only a warning.
pub(super) fn check_logos(root: Option<&Json>, package: &Package, report: &mut Report) {
    let Some(root) = root else { return };
    let manifest = crate::Manifest::from_json(root);
    let products = manifest
        .as_ref()
        .map(crate::Manifest::products)
        .unwrap_or_default();
    for logo in ["logo.png", "logo-small.png"] {
        let found = package.files.contains_key(&format!("assets/{logo}"))
            || products.iter().any(|p| {
                package
                    .files
                    .contains_key(&format!("assets/{}/{logo}", p.name()))
            });
        if !found {
            report.push(
                Finding::warning(
                    "missing_logo",
                    format!("assets/{logo} is missing; the app list shows a placeholder instead"),
                )
                .in_file(format!("assets/{logo}")),
            );
        }
    }
    let Some(manifest) = manifest else { return };
    let multi = products.len() > 1;
    for l in &manifest.locations {
        if !l.product.location_has_icon(&l.name) {
            continue;
        }
        let icon = if multi {
            format!("assets/{}/icon_{}.svg", l.product.name(), l.name)
        } else {
            format!("assets/icon_{}.svg", l.name)
        };
        if !package.files.contains_key(&icon) && l.product != Product::StandaloneChat {
            report.push(
                Finding::warning(
                    "missing_location_icon",
                    format!(
                        "the {} location shows an icon, but {icon} is missing",
                        l.name
                    ),
                )
                .in_file(icon),
            );
        }
    }
}

/// Words that often sit next to a hard-coded credential.
const SECRET_WORDS: [&str; 12] = [
    "password",
    "secret",
    "secretToken",
    "secret_token",
    "auth_key",
    "authKey",
    "auth_pass",
    "authPass",
    "auth_user",
    "AuthUser",
    "api_key",
    "apiKey",
];

/// Zendesk's keyword scan over text files; one warning naming every file.
pub(super) fn secrets(package: &Package, report: &mut Report) {
    let mut hits = Vec::new();
    for (path, bytes) in &package.files {
        if !["htm", "html", "xml", "js", "jso", "json"]
            .iter()
            .any(|ext| path.ends_with(ext))
        {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        // Leftmost match wins, as in Zendesk's alternation.
        if let Some((_, word)) = SECRET_WORDS
            .iter()
            .filter_map(|w| text.find(w).map(|at| (at, *w)))
            .min()
        {
            hits.push(format!("{path} ('{word}...')"));
        }
    }
    if !hits.is_empty() {
        report.push(Finding::warning(
            "generic_secrets",
            format!(
                "possible credentials in {}; make sure no real secret ships in the package",
                list(&hits)
            ),
        ));
    }
}

/// Well-known credential formats, recognised by their fixed prefixes and
/// lengths (our own short list, not Zendesk's 35 patterns): one warning per
/// file and kind.
pub(super) fn application_secrets(package: &Package, report: &mut Report) {
    for (path, bytes) in &package.files {
        if !["htm", "html", "xml", "js", "jso", "json"]
            .iter()
            .any(|ext| path.ends_with(ext))
        {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        for kind in secret_kinds(&text) {
            report.push(
                Finding::warning(
                    "application_secret",
                    format!(
                        "this file seems to contain a {kind}; anyone with the package can read it"
                    ),
                )
                .in_file(path.clone()),
            );
        }
    }
}

/// A token recognised by a fixed prefix followed by `len` characters that `allowed` accepts.
struct TokenFormat {
    prefix: &'static str,
    allowed: fn(char) -> bool,
    len: usize,
    kind: &'static str,
}

const TOKENS: [TokenFormat; 5] = [
    TokenFormat {
        prefix: "AKIA",
        allowed: |c| c.is_ascii_uppercase() || c.is_ascii_digit(),
        len: 16,
        kind: "AWS access key id",
    },
    TokenFormat {
        prefix: "AIza",
        allowed: |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
        len: 35,
        kind: "Google API key",
    },
    TokenFormat {
        prefix: "ghp_",
        allowed: |c| c.is_ascii_alphanumeric(),
        len: 36,
        kind: "GitHub token",
    },
    TokenFormat {
        prefix: "xoxb-",
        allowed: |c| c.is_ascii_digit(),
        len: 10,
        kind: "Slack token",
    },
    TokenFormat {
        prefix: "xoxp-",
        allowed: |c| c.is_ascii_digit(),
        len: 10,
        kind: "Slack token",
    },
];

/// The kinds of credential found in `text`, each once, in a fixed order.
pub(crate) fn secret_kinds(text: &str) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for key in ["RSA", "OPENSSH", "DSA", "EC", "PGP"] {
        if text.contains(&format!("-----BEGIN {key} PRIVATE KEY")) {
            kinds.push("private key");
            break;
        }
    }
    for TokenFormat {
        prefix,
        allowed,
        len,
        kind,
    } in TOKENS
    {
        let found = text.match_indices(prefix).any(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            rest.chars().take(len).filter(|c| allowed(*c)).count() == len
        });
        if found && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_content() {
        assert_eq!(svg_active_content("<svg><circle r=\"1\"/></svg>"), None);
        assert_eq!(svg_active_content("<svg><text>one =</text></svg>"), None);
        assert!(svg_active_content("<svg onload=\"x()\">").is_some());
        assert!(svg_active_content("<svg>\n  <g\tonclick = \"x()\">").is_some());
        assert!(svg_active_content("<svg><script>x()</script></svg>").is_some());
        assert!(svg_active_content("<svg><a href=\"javascript:x()\">").is_some());
    }

    #[test]
    fn secret_formats() {
        assert_eq!(
            secret_kinds("const k = 'AKIAIOSFODNN7EXAMPLE';"),
            ["AWS access key id"]
        );
        assert_eq!(
            secret_kinds("-----BEGIN OPENSSH PRIVATE KEY-----\nxoxb-1234567890-abc"),
            ["private key", "Slack token"]
        );
        assert!(secret_kinds("AKIA is a prefix; AIza too short; ghp_ alone").is_empty());
        assert_eq!(
            png_size(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x03\x3e\0\0\0\xc8"),
            Some((830, 200))
        );
        assert_eq!(png_size(b"GIF89a"), None);
    }
}
