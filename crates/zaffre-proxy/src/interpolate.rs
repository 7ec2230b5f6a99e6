//! Stage 2, **interpolate**: `{{setting.NAME}}` and `{{jwt.token}}` placeholders replaced in the positions the app
//! used them.
//!
//! Rules (see docs/proxy.md, "Secure settings"):
//! - Only when the request has `secure: true`; otherwise every placeholder stays literal.
//! - Only **secure** settings are interpolated; a placeholder naming a non-secure setting stays literal (the
//!   browser already knows non-secure values, so the app can put them in itself). A name that is no setting of the
//!   installation at all is refused with 422, naming the setting.
//! - One pass: substituted text is never scanned again, so a value holding `{{setting.other}}` or `{{jwt.token}}`
//!   is sent literally.
//! - A secure value goes only into a position its `scopes` allow ([`Scope`]); anything else is refused (400).
//! - In a URL, a value inside the authority (`https://{{setting.sub}}.example.com`) may hold only host-name
//!   characters (letters, digits, `-`, `.`), so it can never add userinfo, a port, a path or a fragment; a value
//!   in the path, query or fragment is percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`), so it can never
//!   add a segment, a parameter or a dot-segment (`%2e%2e` arrives as `%252e%252e`).
//! - Header values, string bodies and JWT claims get values verbatim; the header stage then refuses CR, LF and NUL.
//!
//! The same templates are also rendered with markers (`[secure:NAME]`, `[jwt]`) for messages and the audit log,
//! and a [`Masker`] replaces any secure value that still shows up in text we write anywhere.

use crate::context::{InstallationContext, Scope};
use crate::outcome::{Refusal, RefusalCode};

/// How a value is inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// As is (header values, bodies, JWT claims and secret).
    Verbatim,
    /// Inside a URL's authority: host-name characters only, anything else refused.
    UrlAuthority,
    /// Inside a URL's path, query or fragment: percent-encoded.
    UrlComponent,
}

enum Placeholder<'t> {
    Setting(&'t str),
    JwtToken,
}

/// Finds the placeholder starting at `text[0..]` (which begins with `{{`); returns it and its length.
fn placeholder_at(text: &str) -> Option<(Placeholder<'_>, usize)> {
    let inner = text.strip_prefix("{{")?;
    if let Some(rest) = inner.strip_prefix("setting.") {
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
            .count();
        if len > 0 && rest[len..].starts_with("}}") {
            return Some((
                Placeholder::Setting(&rest[..len]),
                2 + "setting.".len() + len + 2,
            ));
        }
    } else if inner.starts_with("jwt.token}}") {
        return Some((Placeholder::JwtToken, "{{jwt.token}}".len()));
    }
    None
}

/// Interpolates templates for one request and remembers which secure settings were used.
pub struct Interpolator<'a> {
    installation: &'a InstallationContext,
    secure: bool,
    jwt_token: Option<String>,
    used: Vec<String>,
}

impl<'a> Interpolator<'a> {
    pub fn new(installation: &'a InstallationContext, secure: bool) -> Self {
        Interpolator {
            installation,
            secure,
            jwt_token: None,
            used: Vec::new(),
        }
    }

    pub fn set_jwt_token(&mut self, token: String) {
        self.jwt_token = Some(token);
    }

    /// Names of the secure settings interpolated so far, in first-use order.
    pub fn used(&self) -> &[String] {
        &self.used
    }

    pub fn jwt_token(&self) -> Option<&str> {
        self.jwt_token.as_deref()
    }

    /// `text` with its placeholders replaced for `position`.
    pub fn apply(
        &mut self,
        text: &str,
        position: Scope,
        encoding: Encoding,
    ) -> Result<String, Refusal> {
        if !self.secure || !text.contains("{{") {
            return Ok(text.to_string());
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let at = &rest[start..];
            match placeholder_at(at) {
                Some((Placeholder::Setting(name), len)) => {
                    let Some(setting) = self.installation.setting(name) else {
                        return Err(Refusal::new(
                            RefusalCode::UnknownSetting,
                            format!("{{{{setting.{name}}}}} names no setting of this installation"),
                        ));
                    };
                    if !setting.secure {
                        out.push_str(&at[..len]);
                    } else {
                        if !setting.allows(position) {
                            return Err(scope_refusal(name, position, &setting.scopes));
                        }
                        out.push_str(&encode(&setting.value, encoding, name)?);
                        if !self.used.iter().any(|u| u == name) {
                            self.used.push(name.to_string());
                        }
                    }
                    rest = &at[len..];
                }
                Some((Placeholder::JwtToken, len)) => {
                    match &self.jwt_token {
                        Some(token) => out.push_str(&encode(token, encoding, "jwt.token")?),
                        None => out.push_str(&at[..len]),
                    }
                    rest = &at[len..];
                }
                None => {
                    out.push('{');
                    rest = &at[1..];
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `text` as it would be interpolated, with `[secure:NAME]` and `[jwt]` markers instead of values. Never fails;
    /// used for messages and audit records.
    pub fn render_masked(&self, text: &str) -> String {
        if !self.secure || !text.contains("{{") {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let at = &rest[start..];
            match placeholder_at(at) {
                Some((Placeholder::Setting(name), len)) => {
                    match self.installation.setting(name) {
                        Some(s) if s.secure => out.push_str(&format!("[secure:{name}]")),
                        _ => out.push_str(&at[..len]),
                    }
                    rest = &at[len..];
                }
                Some((Placeholder::JwtToken, len)) => {
                    out.push_str(if self.jwt_token.is_some() {
                        "[jwt]"
                    } else {
                        &at[..len]
                    });
                    rest = &at[len..];
                }
                None => {
                    out.push('{');
                    rest = &at[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// A masker for every secure value used so far and the JWT.
    pub fn masker(&self) -> Masker {
        let mut masker = Masker::default();
        for name in &self.used {
            if let Some(setting) = self.installation.setting(name) {
                masker.add(&setting.value, &format!("[secure:{name}]"));
            }
        }
        if let Some(token) = &self.jwt_token {
            masker.add(token, "[jwt]");
        }
        masker
    }
}

fn scope_refusal(name: &str, position: Scope, scopes: &[Scope]) -> Refusal {
    let allowed: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    Refusal::new(
        RefusalCode::ScopeViolation,
        format!(
            "secure setting {name:?} may not be used in the {position} (its scopes allow: {})",
            allowed.join(", ")
        ),
    )
}

fn encode(value: &str, encoding: Encoding, name: &str) -> Result<String, Refusal> {
    match encoding {
        Encoding::Verbatim => Ok(value.to_string()),
        Encoding::UrlAuthority => {
            if value.is_empty()
                || !value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                Err(Refusal::new(
                    RefusalCode::ScopeViolation,
                    format!(
                        "{name} would change the URL's structure: a value in the host may hold only letters, digits, \
                         '-' and '.'"
                    ),
                ))
            } else {
                Ok(value.to_string())
            }
        }
        Encoding::UrlComponent => Ok(percent_encode(value)),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Replaces secure values (and their URL-encoded and lower-case forms) by markers in text we write: messages, audit
/// hosts and paths, log fields.
#[derive(Clone, Debug, Default)]
pub struct Masker {
    needles: Vec<(String, String)>,
}

impl Masker {
    pub fn add(&mut self, value: &str, marker: &str) {
        if value.is_empty() {
            return;
        }
        for form in [
            value.to_string(),
            percent_encode(value),
            value.to_ascii_lowercase(),
        ] {
            if !self.needles.iter().any(|(n, _)| *n == form) {
                self.needles.push((form, marker.to_string()));
            }
        }
        // Longest first, so a value containing another is masked whole.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (needle, marker) in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), marker);
            }
        }
        out
    }
}

/// Splits an absolute `scheme://authority rest` URL template and interpolates each part with its encoding. Returns
/// the interpolated URL and the masked rendering for messages.
pub fn interpolate_url(
    template: &str,
    interp: &mut Interpolator<'_>,
) -> Result<(String, String), Refusal> {
    let display = interp.render_masked(template);
    let invalid =
        |message: &str| Refusal::new(RefusalCode::InvalidUrl, format!("{display}: {message}"));
    if template.chars().any(|c| c.is_control()) {
        return Err(invalid("the URL contains control characters"));
    }
    let trimmed = template.trim_matches(' ');
    if trimmed.starts_with('/') || trimmed.starts_with('.') || trimmed.starts_with('?') {
        return Err(invalid(
            "relative URLs are requested by the host page, not by the proxy",
        ));
    }
    let Some((scheme, after)) = trimmed.split_once("://") else {
        return Err(match url::Url::parse(trimmed) {
            Ok(url) if url.scheme() != "http" && url.scheme() != "https" => not_proxyable(&display),
            _ => invalid("the URL must start with http:// or https://"),
        });
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(not_proxyable(&display));
    }
    let end = after.find(['/', '?', '#', '\\']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let path_end = rest.find(['?', '#']).unwrap_or(rest.len());
    if rest[..path_end].contains('\\') {
        return Err(invalid(
            "backslashes are not allowed in the URL's host or path",
        ));
    }
    let authority = interp.apply(authority, Scope::Url, Encoding::UrlAuthority)?;
    let rest = interp.apply(rest, Scope::Url, Encoding::UrlComponent)?;
    Ok((format!("{scheme}://{authority}{rest}"), display))
}

/// The refusal for a forbidden target, in Zendesk's words.
pub fn not_proxyable(display_url: &str) -> Refusal {
    Refusal::new(
        RefusalCode::ForbiddenTarget,
        format!("{display_url} is not a proxyable URI"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::SettingValue;

    fn ctx() -> InstallationContext {
        let s = |name: &str, value: &str, secure: bool, scopes: Vec<Scope>| SettingValue {
            name: name.into(),
            value: value.into(),
            secure,
            scopes,
        };
        InstallationContext {
            account_id: 1,
            account_subdomain: "acme".into(),
            installation_id: 2,
            app_id: 3,
            user_id: 4,
            settings: vec![
                s("token", "S3CR3T-tok", true, vec![]),
                s("hdr", "S3CR3T-hdr", true, vec![Scope::Header]),
                s("rec", "{{setting.token}}{{jwt.token}}", true, vec![]),
                s("plain", "visible", false, vec![]),
                s("sub", "evil.test/x?", true, vec![]),
            ],
            domain_whitelist: vec![],
        }
    }

    #[test]
    fn single_pass_and_literals() {
        let c = ctx();
        let mut i = Interpolator::new(&c, true);
        i.set_jwt_token("J.W.T".into());
        let out = i.apply("a {{setting.token}} {{setting.rec}} {{setting.plain}} {{jwt.token}} {{x}} {{{setting.token}}", Scope::Body, Encoding::Verbatim).unwrap();
        assert_eq!(
            out,
            "a S3CR3T-tok {{setting.token}}{{jwt.token}} {{setting.plain}} J.W.T {{x}} {S3CR3T-tok"
        );
        assert_eq!(i.used(), ["token", "rec"]);
        let masked = i.render_masked("{{setting.token}}/{{setting.plain}}/{{jwt.token}}");
        assert_eq!(masked, "[secure:token]/{{setting.plain}}/[jwt]");
    }

    #[test]
    fn non_secure_requests_stay_literal() {
        let c = ctx();
        let mut i = Interpolator::new(&c, false);
        assert_eq!(
            i.apply(
                "{{setting.token}} {{setting.nope}}",
                Scope::Body,
                Encoding::Verbatim
            )
            .unwrap(),
            "{{setting.token}} {{setting.nope}}"
        );
        assert!(i.used().is_empty());
    }

    #[test]
    fn unknown_settings_and_scopes() {
        let c = ctx();
        let mut i = Interpolator::new(&c, true);
        let err = i
            .apply("{{setting.nope}}", Scope::Body, Encoding::Verbatim)
            .unwrap_err();
        assert_eq!((err.status, err.code), (422, RefusalCode::UnknownSetting));
        assert!(err.message.contains("nope"));
        let err = i
            .apply("{{setting.hdr}}", Scope::Body, Encoding::Verbatim)
            .unwrap_err();
        assert_eq!(err.code, RefusalCode::ScopeViolation);
        assert!(!err.message.contains("S3CR3T"));
        assert!(i
            .apply("{{setting.hdr}}", Scope::Header, Encoding::Verbatim)
            .is_ok());
    }

    #[test]
    fn url_positions() {
        let c = ctx();
        let mut i = Interpolator::new(&c, true);
        let err = interpolate_url("https://{{setting.sub}}.good.test/", &mut i).unwrap_err();
        assert_eq!(err.code, RefusalCode::ScopeViolation);
        let (url, display) = interpolate_url(
            "https://good.test/{{setting.sub}}?q={{setting.token}}",
            &mut i,
        )
        .unwrap();
        assert_eq!(url, "https://good.test/evil.test%2Fx%3F?q=S3CR3T-tok");
        assert_eq!(display, "https://good.test/[secure:sub]?q=[secure:token]");
        for bad in [
            "/api/v2/x",
            "http:/\\evil.test/",
            "http:evil.test",
            "https://a.test\\@b.test/",
            "http://a.test/\n",
        ] {
            assert_eq!(
                interpolate_url(bad, &mut i).unwrap_err().code,
                RefusalCode::InvalidUrl,
                "{bad}"
            );
        }
        for bad in [
            "gopher://a.test/",
            "file:///etc/passwd",
            "data:text/plain,x",
            "ws://a.test/",
            "ftp://a.test",
        ] {
            assert_eq!(
                interpolate_url(bad, &mut i).unwrap_err().code,
                RefusalCode::ForbiddenTarget,
                "{bad}"
            );
        }
    }

    #[test]
    fn masker_masks_all_forms() {
        let mut m = Masker::default();
        m.add("Ab/C d", "[secure:x]");
        assert_eq!(
            m.mask("x Ab/C d y Ab%2FC%20d z ab/c d"),
            "x [secure:x] y [secure:x] z [secure:x]"
        );
    }
}
