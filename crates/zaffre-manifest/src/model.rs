//! The typed manifest: every field zaffre understands, with Zendesk's defaults applied.
//!
//! [`Manifest::from_json`] is deliberately lenient: a field of the wrong type
//! is left out (or defaulted) rather than failing, because reporting wrong
//! types is the validator's job and it reports all of them at once. Code that
//! installs or serves an app should only use a manifest whose package
//! validated without errors.

use serde::Serialize;

use crate::json::Json;

/// A Zendesk product an app can run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    Support,
    Chat,
    StandaloneChat,
    Sell,
}

impl Product {
    pub const ALL: [Product; 4] = [
        Product::Support,
        Product::Chat,
        Product::StandaloneChat,
        Product::Sell,
    ];

    /// Reads a `location` host key; legacy aliases (`zendesk`, `zopim`,
    /// `lotus_box`) are accepted as Zendesk does.
    pub fn from_host_key(key: &str) -> Option<Product> {
        match key {
            "support" | "zendesk" => Some(Product::Support),
            "chat" | "zopim" => Some(Product::Chat),
            "standalone_chat" | "lotus_box" => Some(Product::StandaloneChat),
            "sell" => Some(Product::Sell),
            _ => None,
        }
    }

    /// The current host key.
    pub fn name(self) -> &'static str {
        match self {
            Product::Support => "support",
            Product::Chat => "chat",
            Product::StandaloneChat => "standalone_chat",
            Product::Sell => "sell",
        }
    }

    /// The locations this product offers, with Zendesk's numeric ids.
    pub fn locations(self) -> &'static [(&'static str, u32)] {
        match self {
            Product::Support => &[
                ("top_bar", 1),
                ("nav_bar", 2),
                ("ticket_sidebar", 3),
                ("new_ticket_sidebar", 4),
                ("user_sidebar", 5),
                ("organization_sidebar", 6),
                ("background", 7),
                ("modal", 9),
                ("ticket_editor", 10),
                ("system_top_bar", 12),
            ],
            Product::Chat => &[("chat_sidebar", 8), ("background", 14)],
            Product::StandaloneChat => &[("nav_bar", 11), ("system_top_bar", 13)],
            Product::Sell => &[
                ("deal_card", 15),
                ("person_card", 16),
                ("company_card", 17),
                ("lead_card", 18),
                ("background", 19),
                ("modal", 20),
                ("dashboard", 21),
                ("note_editor", 22),
                ("call_log_editor", 23),
                ("email_editor", 24),
                ("top_bar", 25),
                ("visit_editor", 26),
            ],
        }
    }

    /// Whether `location` exists in this product.
    pub fn has_location(self, location: &str) -> bool {
        self.locations().iter().any(|(name, _)| *name == location)
    }

    /// Whether the location shows an icon (`assets/icon_<location>.svg`).
    pub fn location_has_icon(self, location: &str) -> bool {
        matches!(
            (self, location),
            (
                Product::Support,
                "top_bar" | "nav_bar" | "system_top_bar" | "ticket_editor"
            ) | (Product::Sell, "top_bar")
        )
    }
}

/// Who made the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Author {
    pub name: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
}

/// How big an iframe location starts (the docs give CSS sizes as strings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LocationSize {
    pub width: Option<String>,
    pub height: Option<String>,
}

/// One location an app renders in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub product: Product,
    /// e.g. `ticket_sidebar`.
    pub name: String,
    /// `assets/…` inside the package or an absolute https URL; `None` for a
    /// location that does not load (`autoLoad: false`).
    pub url: Option<String>,
    /// Resizable by the agent (sidebar locations).
    pub flexible: Option<bool>,
    /// Load the iframe as soon as the location appears (default `true`).
    pub auto_load: bool,
    /// Start hidden (default `false`).
    pub auto_hide: bool,
    /// Send a signed JWT with the iframe request (defaults to `signedUrls`).
    pub signed: bool,
    pub size: Option<LocationSize>,
}

/// The kind of an installation setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterType {
    Text,
    Checkbox,
    Url,
    Number,
    Multiline,
    Hidden,
    #[serde(rename = "oauth")]
    OAuth,
    /// Anything else (the validator reports it).
    #[serde(untagged)]
    Other(String),
}

impl ParameterType {
    pub fn parse(s: &str) -> ParameterType {
        match s {
            "text" => ParameterType::Text,
            "checkbox" => ParameterType::Checkbox,
            "url" => ParameterType::Url,
            "number" => ParameterType::Number,
            "multiline" => ParameterType::Multiline,
            "hidden" => ParameterType::Hidden,
            "oauth" => ParameterType::OAuth,
            other => ParameterType::Other(other.to_owned()),
        }
    }
}

/// Where a secure setting may be substituted into a proxied request.
pub const SCOPES: [&str; 7] = [
    "header",
    "body",
    "url",
    "jwt_secret_key",
    "jwt_claim",
    "basic_auth_username",
    "basic_auth_password",
];

/// One installation setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParameterType,
    pub required: bool,
    /// Kept on the server only; the browser never sees the value.
    pub secure: bool,
    pub default: Option<serde_json::Value>,
    /// For secure settings: where the value may be substituted (see [`SCOPES`]).
    pub scopes: Vec<String>,
}

/// The `oauth` block for apps that sign in to a third party.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OAuth {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub authorize_uri: Option<String>,
    pub access_token_uri: Option<String>,
    pub scope: Option<String>,
}

/// A manifest, read leniently (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub name: Option<String>,
    pub author: Option<Author>,
    pub default_locale: Option<String>,
    /// Defaults to `true` when absent.
    pub private: bool,
    /// Every location, in manifest order.
    pub locations: Vec<Location>,
    pub framework_version: Option<String>,
    pub parameters: Vec<Parameter>,
    pub domain_whitelist: Vec<String>,
    pub oauth: Option<OAuth>,
    pub signed_urls: bool,
    pub requirements_only: bool,
    pub marketing_only: bool,
    pub single_install: bool,
    pub version: Option<String>,
    pub terms_conditions_url: Option<String>,
    pub remote_installation_url: Option<String>,
    pub ga_id: Option<String>,
}

fn string(v: Option<&Json>) -> Option<String> {
    v.and_then(Json::as_str).map(str::to_owned)
}

fn boolean(v: Option<&Json>, default: bool) -> bool {
    v.and_then(Json::as_bool).unwrap_or(default)
}

impl Manifest {
    /// Builds the model from a parsed manifest; `None` unless the root is an object.
    pub fn from_json(root: &Json) -> Option<Manifest> {
        root.as_object()?;
        let signed_urls = boolean(root.get("signedUrls"), false);
        let author = root.get("author").and_then(|a| {
            a.as_object()?;
            Some(Author {
                name: string(a.get("name")),
                email: string(a.get("email")),
                url: string(a.get("url")),
            })
        });
        let oauth = root.get("oauth").and_then(|o| {
            o.as_object()?;
            Some(OAuth {
                client_id: string(o.get("client_id")),
                client_secret: string(o.get("client_secret")),
                authorize_uri: string(o.get("authorize_uri")),
                access_token_uri: string(o.get("access_token_uri")),
                scope: string(o.get("scope")),
            })
        });
        Some(Manifest {
            name: string(root.get("name")),
            author,
            default_locale: string(root.get("defaultLocale")),
            private: boolean(root.get("private"), true),
            locations: locations(root.get("location"), signed_urls),
            framework_version: string(root.get("frameworkVersion")),
            parameters: root
                .get("parameters")
                .and_then(Json::as_array)
                .map(parameters)
                .unwrap_or_default(),
            domain_whitelist: root
                .get("domainWhitelist")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            oauth,
            signed_urls,
            requirements_only: boolean(root.get("requirementsOnly"), false),
            marketing_only: boolean(root.get("marketingOnly"), false),
            single_install: boolean(root.get("singleInstall"), false),
            version: string(root.get("version")),
            terms_conditions_url: string(root.get("termsConditionsURL")),
            remote_installation_url: string(root.get("remoteInstallationURL")),
            ga_id: string(root.get("gaID")),
        })
    }

    /// The products the app runs in, in manifest order, without repeats.
    pub fn products(&self) -> Vec<Product> {
        let mut out = Vec::new();
        for l in &self.locations {
            if !out.contains(&l.product) {
                out.push(l.product);
            }
        }
        out
    }

    /// The parameter called `name`.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

fn locations(value: Option<&Json>, signed_urls: bool) -> Vec<Location> {
    let Some(hosts) = value.and_then(Json::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (host, locs) in hosts {
        let Some(product) = Product::from_host_key(host) else {
            continue;
        };
        // When both a legacy and a current host key are present, the current one wins.
        if Product::from_host_key(host).is_some_and(|p| p.name() != host)
            && hosts.iter().any(|(k, _)| k == product.name())
        {
            continue;
        }
        let Some(locs) = locs.as_object() else {
            continue;
        };
        for (name, spec) in locs {
            let location = match spec {
                Json::String(url) => Location {
                    product,
                    name: name.clone(),
                    url: Some(url.clone()),
                    flexible: None,
                    auto_load: true,
                    auto_hide: false,
                    signed: signed_urls,
                    size: None,
                },
                Json::Object(_) => Location {
                    product,
                    name: name.clone(),
                    url: string(spec.get("url")).filter(|u| !u.is_empty()),
                    flexible: spec.get("flexible").and_then(Json::as_bool),
                    auto_load: boolean(spec.get("autoLoad"), true),
                    auto_hide: boolean(spec.get("autoHide"), false),
                    signed: boolean(spec.get("signed"), signed_urls),
                    size: spec.get("size").and_then(|s| {
                        s.as_object()?;
                        Some(LocationSize {
                            width: size_value(s.get("width")),
                            height: size_value(s.get("height")),
                        })
                    }),
                },
                _ => continue,
            };
            out.push(location);
        }
    }
    out
}

/// Sizes are strings in the docs (`"200px"`); a bare number is read as pixels.
fn size_value(v: Option<&Json>) -> Option<String> {
    match v? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(format!("{n}px")),
        _ => None,
    }
}

fn parameters(items: &[Json]) -> Vec<Parameter> {
    items
        .iter()
        .filter_map(|p| {
            p.as_object()?;
            Some(Parameter {
                name: string(p.get("name"))?,
                kind: p
                    .get_present("type")
                    .and_then(Json::as_str)
                    .map_or(ParameterType::Text, ParameterType::parse),
                required: boolean(p.get("required"), false),
                secure: boolean(p.get("secure"), false),
                default: p.get("default").map(Json::to_value),
                scopes: p
                    .get("scopes")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Json::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}
