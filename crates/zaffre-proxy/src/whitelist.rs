//! The app's `domainWhitelist`, resolved for one installation, and host matching against it.
//!
//! Entries may hold `{{setting.NAME}}` templates (any setting of the installation, secure or not). Each entry is
//! resolved at request time and must then be a bare host name: no `/ @ : ? # \ %`, whitespace or control
//! characters, not an IP literal; it is mapped IDNA → ASCII and lower-cased the way the URL parser maps hosts.
//! An entry that does not resolve to a bare host name (unknown setting, bad characters) is skipped, never
//! loosened. A leading `*.` means subdomains only; a bare entry matches itself and its subdomains on a dot
//! boundary (`example.com` matches `api.example.com`, never `evilexample.com` or `example.com.evil.net`). One
//! trailing dot is ignored on both sides (`good.test.` is the same name as `good.test`). Ports never matter.

use url::Host;

use crate::context::InstallationContext;

/// One resolved entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhitelistEntry {
    /// Lower-case ASCII, no trailing dot.
    pub host: String,
    /// `*.host`: subdomains only.
    pub subdomains_only: bool,
}

/// Resolves every entry of the installation's whitelist; invalid entries are dropped (and logged by index only).
pub fn resolve_whitelist(installation: &InstallationContext) -> Vec<WhitelistEntry> {
    installation
        .domain_whitelist
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| {
            let resolved = resolve_entry(entry, installation);
            if resolved.is_none() {
                tracing::debug!(
                    index,
                    "domainWhitelist entry skipped: it does not resolve to a bare host name"
                );
            }
            resolved
        })
        .collect()
}

fn resolve_entry(template: &str, installation: &InstallationContext) -> Option<WhitelistEntry> {
    // Single pass, like request interpolation: substituted text is not scanned again.
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        let name = after[..end].strip_prefix("setting.")?;
        out.push_str(&installation.setting(name)?.value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    let (subdomains_only, host) = match out.strip_prefix("*.") {
        Some(host) => (true, host),
        None => (false, out.as_str()),
    };
    Some(WhitelistEntry {
        host: bare_host(host)?,
        subdomains_only,
    })
}

/// `host` as a lower-case ASCII domain without trailing dot, or `None` when it is not a bare host name.
pub fn bare_host(host: &str) -> Option<String> {
    if host.is_empty()
        || host.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '/' | '@' | ':' | '?' | '#' | '\\' | '%' | '[' | ']' | '*'
                )
        })
    {
        return None;
    }
    match Host::parse(host).ok()? {
        Host::Domain(domain) => {
            let domain = domain
                .strip_suffix('.')
                .unwrap_or(&domain)
                .to_ascii_lowercase();
            // After IDNA mapping only LDH characters (and '_', which real DNS names carry) remain in a host name;
            // WHATWG would let through `{`, `}`, `!`, `$`, … which no registrable name has.
            if domain.is_empty()
                || domain.split('.').any(str::is_empty)
                || !domain.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
                })
            {
                return None;
            }
            Some(domain)
        }
        Host::Ipv4(_) | Host::Ipv6(_) => None,
    }
}

/// Whether `host` (lower-case ASCII, trailing dot already removed) is allowed by one of `entries`.
pub fn host_allowed(host: &str, entries: &[WhitelistEntry]) -> bool {
    entries.iter().any(|entry| {
        let sub = host.len() > entry.host.len()
            && host.ends_with(entry.host.as_str())
            && host.as_bytes()[host.len() - entry.host.len() - 1] == b'.';
        sub || (!entry.subdomains_only && host == entry.host)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::SettingValue;

    fn ctx(whitelist: &[&str]) -> InstallationContext {
        InstallationContext {
            account_id: 1,
            account_subdomain: "acme".into(),
            installation_id: 2,
            app_id: 3,
            user_id: 4,
            settings: vec![
                SettingValue {
                    name: "sub".into(),
                    value: "Tenant".into(),
                    secure: false,
                    scopes: vec![],
                },
                SettingValue {
                    name: "evil".into(),
                    value: "evil.test/x".into(),
                    secure: true,
                    scopes: vec![],
                },
                SettingValue {
                    name: "nested".into(),
                    value: "{{setting.sub}}".into(),
                    secure: false,
                    scopes: vec![],
                },
            ],
            domain_whitelist: whitelist.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn resolves_templates_and_drops_bad_entries() {
        let entries = resolve_whitelist(&ctx(&[
            "Good.TEST.",
            "{{setting.sub}}.herokuapp.com",
            "*.wild.test",
            "{{setting.evil}}",
            "{{setting.missing}}.test",
            "{{setting.nested}}.test",
            "https://x.test",
            "127.0.0.1",
            "a b.test",
            "BÜCHER.test",
            "",
        ]));
        let hosts: Vec<&str> = entries.iter().map(|e| e.host.as_str()).collect();
        assert_eq!(
            hosts,
            [
                "good.test",
                "tenant.herokuapp.com",
                "wild.test",
                "xn--bcher-kva.test"
            ]
        );
        assert!(entries[2].subdomains_only);
    }

    #[test]
    fn matches_on_dot_boundaries() {
        let entries = resolve_whitelist(&ctx(&["good.test", "*.wild.test"]));
        assert!(host_allowed("good.test", &entries));
        assert!(host_allowed("api.good.test", &entries));
        assert!(!host_allowed("evilgood.test", &entries));
        assert!(!host_allowed("good.test.evil.test", &entries));
        assert!(!host_allowed("wild.test", &entries));
        assert!(host_allowed("a.wild.test", &entries));
        assert!(!host_allowed("test", &entries));
    }
}
