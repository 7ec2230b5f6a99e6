//! `zaffre dev [APP_DIR …]`: a complete helpdesk on the developer's machine
//! with their app folders installed, for building ZAF apps offline.
//!
//! [`start`] is the library entry point (`zaffre test` and the tests use it):
//! it opens a development database (SQLite under the first app folder's
//! `.zaffre/` unless told otherwise), seeds the demo helpdesk or a fixtures
//! file on first start, validates and installs every app folder through the
//! same functions as the Apps API with settings from [`settings`], serves
//! (over TLS with `--https`, see [`tls`]), and watches the folders for live
//! reload ([`watch`]). The server's side is `zaffre_server::dev`.
//!
//! Dev mode allows the proxy to reach loopback upstreams (a developer's mock
//! API); every other proxy rule stays as in production.

pub mod settings;
pub mod tls;
pub mod watch;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use zaffre_domain::search::{Page, TicketFilter, TicketSort};
use zaffre_domain::{AppId, InstallationId, TicketId};
use zaffre_manifest::Report;
use zaffre_server::dev::{DevApp, DevFinding, DevState, DevStatus};
use zaffre_server::{AppState, Config};
use zaffre_store::DynStore;

use crate::args::{CommonArgs, DevArgs};
use crate::{bootstrap, demo};

/// Where terminal output goes (one call per line or block).
pub type Printer = Arc<dyn Fn(&str) + Send + Sync>;

/// An environment lookup (the real one, or a map in tests).
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The dev data folder inside an app folder.
pub const DEV_DIR: &str = ".zaffre";

/// Which app folder is which app in the dev database.
const APPS_FILE: &str = "dev-apps.json";

/// Everything `zaffre dev` can be told.
#[derive(Clone)]
pub struct DevOptions {
    /// App folders; empty means the current folder.
    pub apps: Vec<PathBuf>,
    pub common: CommonArgs,
    /// Default 127.0.0.1:4567.
    pub listen: Option<SocketAddr>,
    pub fresh: bool,
    pub open: bool,
    pub https: bool,
    pub fixtures: Option<PathBuf>,
    /// `name=value` settings from flags.
    pub settings: Vec<String>,
    /// Environment lookup (config, `ZAFFRE_SETTING_*`, the CA folder).
    pub env: Env,
    /// Whether missing required settings may be asked for on the terminal.
    pub interactive: bool,
    /// Watch the folders for live reload.
    pub watch: bool,
    pub out: Printer,
}

impl Default for DevOptions {
    fn default() -> Self {
        DevOptions::new(Vec::new())
    }
}

impl DevOptions {
    /// Options for `apps` with everything else as the command line defaults,
    /// the process environment, and output to stdout.
    pub fn new(apps: Vec<PathBuf>) -> Self {
        DevOptions {
            apps,
            common: CommonArgs::default(),
            listen: None,
            fresh: false,
            open: false,
            https: false,
            fixtures: None,
            settings: Vec::new(),
            env: Arc::new(crate::settings::process_env),
            interactive: std::io::stdin().is_terminal(),
            watch: true,
            out: Arc::new(|line: &str| println!("{line}")),
        }
    }

    /// The command line's options.
    pub fn from_args(args: DevArgs) -> Self {
        DevOptions {
            common: args.common,
            listen: args.listen,
            fresh: args.fresh,
            open: args.open,
            https: args.https,
            fixtures: args.fixtures,
            settings: args.settings,
            ..DevOptions::new(args.apps)
        }
    }
}

/// A running dev host.
pub struct DevHost {
    /// The base URL (`http://localhost:4567`, or https).
    pub url: String,
    /// The address actually listened on.
    pub addr: SocketAddr,
    /// Each app folder's app and installation.
    pub apps: Vec<(AppId, InstallationId, PathBuf)>,
    /// A ticket to open with the app visible (the first of the seeded data).
    pub ticket_id: Option<TicketId>,
    /// The server state (store, dev state), for embedders and tests.
    pub state: AppState,
    /// With `--https`, the local CA's certificate (PEM) to trust.
    pub ca_pem: Option<String>,
    /// The dev state `state.dev` was given at start (held here too, so
    /// [`DevHost::dev`] needs no "always set" assumption).
    dev: Arc<DevState>,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    watcher: Option<(Vec<notify::RecommendedWatcher>, tokio::task::JoinHandle<()>)>,
}

impl DevHost {
    /// The dev state (apps, events, sign-in links).
    pub fn dev(&self) -> &Arc<DevState> {
        &self.dev
    }

    /// A one-time sign-in URL landing on `next` (a path such as `/tickets/1`).
    pub fn sign_in_url(&self, next: &str) -> String {
        format!("{}{}", self.url, self.dev().mint_sign_in_link(next))
    }

    /// The path of the ticket to open, or the workspace's home.
    pub fn landing_path(&self) -> String {
        self.ticket_id
            .map_or_else(|| "/".to_owned(), |id| format!("/tickets/{id}"))
    }

    /// Stops watching and serving; in-flight requests finish first.
    pub async fn shutdown(self) -> Result<()> {
        self.stop.cancel();
        if let Some((watchers, task)) = self.watcher {
            drop(watchers);
            let _ = task.await;
        }
        self.server
            .await
            .context("the server task failed")?
            .context("the server failed")
    }

    /// Waits for the server to end on its own (it only does on an error).
    async fn wait(&mut self) -> Result<()> {
        (&mut self.server)
            .await
            .context("the server task failed")?
            .context("the server failed")
    }
}

/// `zaffre dev` on the command line: start, print how to sign in, run until Ctrl-C.
pub async fn run(args: DevArgs) -> Result<()> {
    let options = DevOptions::from_args(args);
    let open = options.open;
    let out = options.out.clone();
    let mut host = start(options).await?;
    let link = host.sign_in_url(&host.landing_path());
    out("Sign in with this one-time link (valid 10 minutes):");
    // Tests and scripts look for this exact prefix.
    out(&format!("sign-in link: {link}"));
    if open {
        open_browser(&link, &out);
    }
    out("Watching the app folders for changes. Ctrl-C stops.");
    tokio::select! {
        () = crate::commands::shutdown_signal() => {}
        result = host.wait() => return result,
    }
    out("stopping");
    host.shutdown().await
}

/// Starts a dev host: database, data, apps, server, watchers.
pub async fn start(opts: DevOptions) -> Result<DevHost> {
    let out = opts.out.clone();
    let env = opts.env.clone();
    let folders: Vec<PathBuf> = if opts.apps.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.apps.clone()
    };
    for folder in &folders {
        check_is_app(folder)?;
    }
    let flag_settings = settings::parse_flags(&opts.settings)?;

    // Configuration: as `zaffre serve`, with dev defaults.
    let overrides = crate::settings::Overrides {
        common: opts.common.clone(),
        listen: opts.listen,
    };
    let mut config = crate::settings::load(&overrides, &|k| env(k))?;
    let defaults = Config::default();
    if config.data_dir == defaults.data_dir {
        config.data_dir = folders[0].join(DEV_DIR);
    }
    config.proxy_allow_loopback = true;
    if opts.fresh {
        fresh_start(&config)?;
    }
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "could not create the dev data folder {}",
            config.data_dir.display()
        )
    })?;
    if config.data_dir.ends_with(DEV_DIR) {
        // Keep the dev database out of the app's repository.
        let ignore = config.data_dir.join(".gitignore");
        if !ignore.exists() {
            let _ = std::fs::write(&ignore, "*\n");
        }
    }
    bootstrap::ensure_secret_key(&mut config)?;

    let listener = bind(config.listen).await?;
    let addr = listener
        .local_addr()
        .context("could not read the listening address")?;
    let host_name = if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        addr.ip().to_string()
    };
    // The proxy refuses zaffre's own address: the real one, also when port 0 was asked for.
    config.listen = addr;
    let scheme = if opts.https { "https" } else { "http" };
    let url = format!("{scheme}://{host_name}:{}", addr.port());
    if opts.https {
        // App origins and cookies follow the public URL's scheme.
        config.public_url = url.clone();
    }

    let store = zaffre_store::connect(&config.effective_database_url())
        .await
        .context("could not open the dev database")?;
    let first = bootstrap::ensure_ready(store.as_ref(), &|k| env(k)).await?;
    let admin_email = first
        .admin
        .as_ref()
        .map(|(email, _)| email.clone())
        .or_else(|| env("ZAFFRE_ADMIN_EMAIL"))
        .unwrap_or_else(|| bootstrap::DEFAULT_ADMIN_EMAIL.to_owned())
        .to_lowercase();
    if let Some((email, Some(password))) = &first.admin {
        // The sign-in link is the usual way in; the password is for a second browser later.
        out(&format!(
            "Created the developer admin {email} with the password {password} (dev database only)"
        ));
    }
    let admin = store
        .get_user_by_email(first.account.id, &admin_email)
        .await
        .with_context(|| format!("the dev database has no admin {admin_email}"))?;
    let ticket_id = seed(
        &store,
        first.account.id,
        admin.id,
        opts.fixtures.as_deref(),
        &out,
    )
    .await?;

    let database = describe_database(&config);
    let mut state = AppState::new(store, config).map_err(anyhow::Error::msg)?;
    if opts.https {
        // The public URL's host (`localhost`) would make the proxy refuse every
        // `localhost` upstream as "zaffre itself"; the dev host is already refused
        // by its address (`config.listen`), so a mock API on another port stays reachable.
        let mut proxy_config = (*state.config).clone();
        proxy_config.public_url.clear();
        let proxy = zaffre_server::api::proxy::build_proxy(
            &proxy_config,
            zaffre_server::api::proxy::ProxySetup::default(),
        )
        .map_err(anyhow::Error::msg)?;
        state.proxy = Arc::new(proxy);
    }
    let dev = Arc::new(DevState::new(first.account.id, admin.id, opts.https));
    state.dev = Some(dev.clone());

    // Apps.
    let mut known = read_apps_file(&state.config.data_dir);
    let mut apps = Vec::new();
    for folder in &folders {
        let installed = install_folder(
            &state,
            &dev,
            folder,
            known.get(&canonical_key(folder)).copied(),
            &flag_settings,
            &opts,
        )
        .await?;
        known.insert(canonical_key(folder), installed.0);
        apps.push(installed);
    }
    write_apps_file(&state.config.data_dir, &known);
    let mut declared = std::collections::BTreeSet::new();
    for (app_id, _, _) in &apps {
        if let Ok(app) = state.store.get_app(dev.account, *app_id).await {
            let params = zaffre_server::api::apps::manifest_of(&app)
                .map(|m| m.parameters)
                .unwrap_or_default();
            declared.extend(params.into_iter().map(|p| p.name));
        }
    }
    for (name, _) in &flag_settings {
        if name != "name" && !declared.contains(name) {
            out(&format!(
                "warning: --setting {name}: no app declares a parameter called {name}; ignored"
            ));
        }
    }

    // TLS.
    let mut ca_pem = None;
    let tls_config = if opts.https {
        let dir = tls::ca_dir(&|k| env(k))?;
        let extra: Vec<String> = apps
            .iter()
            .map(|(id, _, _)| format!("app-{id}.localhost"))
            .collect();
        let certs = tls::dev_certs(&dir, &extra)?;
        if certs.ca_created {
            out(&format!(
                "Created a local certificate authority in {}.",
                dir.display()
            ));
        }
        out(&tls::trust_instructions(&dir));
        ca_pem = Some(certs.ca_pem.clone());
        Some(tls::server_config(&certs).context("could not load the dev certificate")?)
    } else {
        None
    };

    // Serve.
    let stop = CancellationToken::new();
    let signal = {
        let stop = stop.clone();
        async move { stop.cancelled().await }
    };
    let server_state = state.clone();
    let server = match tls_config {
        Some(tls) => tokio::spawn(zaffre_server::serve_tls(
            listener,
            tls,
            server_state,
            signal,
        )),
        None => tokio::spawn(zaffre_server::serve(listener, server_state, signal)),
    };

    // Watch.
    let watcher = if opts.watch {
        let watched = apps.iter().map(|(id, _, p)| (*id, p.clone())).collect();
        Some(watch::start(
            state.clone(),
            watched,
            out.clone(),
            stop.clone(),
        )?)
    } else {
        None
    };

    // Banner.
    out(&format!("zaffre dev: {url}"));
    out(&format!("  database: {database}"));
    for app in dev.apps() {
        out(&format!(
            "  app: {} (app {}, installation {}) from {} [{}]",
            app.name,
            app.app_id,
            app.installation_id,
            app.path.display(),
            match app.status {
                DevStatus::Ok => "ok",
                DevStatus::Invalid => "invalid: fix the errors above",
            }
        ));
    }
    out("  proxy: loopback upstreams (127.0.0.1, ::1, localhost) are allowed in dev mode; every other rule is production's");
    if opts.https {
        out(&format!(
            "  https: the workspace and app origins (https://app-<id>.localhost:{}) use the local CA",
            addr.port()
        ));
    }
    // Tests and scripts wait for this exact line.
    out(&format!("listening on {scheme}://{addr}"));

    Ok(DevHost {
        url,
        addr,
        apps,
        ticket_id,
        state,
        ca_pem,
        dev,
        stop,
        server,
        watcher,
    })
}

/// A folder must exist and hold a `manifest.json`.
fn check_is_app(folder: &Path) -> Result<()> {
    let meta = std::fs::metadata(folder)
        .with_context(|| format!("{} does not exist or cannot be read", folder.display()))?;
    if !meta.is_dir() {
        bail!(
            "{} is not a folder: give zaffre dev an app folder (one with manifest.json)",
            folder.display()
        );
    }
    if !folder.join(zaffre_manifest::MANIFEST).is_file() {
        bail!(
            "{} is not a ZAF app: it has no manifest.json (create an app with `zaffre app new NAME`)",
            folder.display()
        );
    }
    Ok(())
}

/// `--fresh`: removes the dev database files (and which folder is which app).
fn fresh_start(config: &Config) -> Result<()> {
    if !config.database_url.expose().is_empty() {
        bail!("--fresh starts a new SQLite database under the data folder; with --database-url, empty that database yourself");
    }
    for name in ["zaffre.db", "zaffre.db-wal", "zaffre.db-shm", APPS_FILE] {
        let path = config.data_dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("could not remove {}", path.display()))
            }
        }
    }
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let mut other = addr;
            other.set_port(addr.port().wrapping_add(1).max(1024));
            bail!(
                "port {} is in use (is another zaffre running?); choose another address with --listen {other}",
                addr.port()
            )
        }
        Err(e) => Err(e).with_context(|| format!("could not listen on {addr}")),
    }
}

fn describe_database(config: &Config) -> String {
    if config.database_url.expose().is_empty() {
        config.effective_database_url()
    } else {
        // A configured URL may carry a password.
        "the configured database".to_owned()
    }
}

/// Seeds an empty database: fixtures when given, else the demo helpdesk.
/// Returns the ticket to open (the lowest id).
async fn seed(
    store: &DynStore,
    account: zaffre_domain::AccountId,
    admin: zaffre_domain::UserId,
    fixtures: Option<&Path>,
    out: &Printer,
) -> Result<Option<TicketId>> {
    let first_ticket = || async {
        let page = store
            .list_tickets(
                account,
                &TicketFilter::default(),
                TicketSort::Id,
                false,
                Page::Offset {
                    offset: 0,
                    limit: 1,
                },
            )
            .await?;
        anyhow::Ok(page.items.first().map(|t| t.id))
    };
    if first_ticket().await?.is_none() {
        match fixtures {
            Some(path) => {
                let summary = crate::fixtures::load(store.as_ref(), account, path)
                    .await
                    .with_context(|| format!("loading the fixtures {} failed", path.display()))?;
                out(&format!(
                    "Loaded the fixtures {}: {} organizations, {} users, {} ticket fields, {} tickets",
                    path.display(),
                    summary.organizations,
                    summary.users,
                    summary.ticket_fields,
                    summary.tickets
                ));
                // The file's first ticket is the one to open.
                if let Some(first) = summary.ticket_ids.first() {
                    return Ok(Some(*first));
                }
            }
            None => {
                let summary = demo::seed(store.as_ref(), account, admin)
                    .await
                    .context("seeding the demo data failed")?;
                out(&format!(
                    "Seeded the demo helpdesk: {} organizations, {} agents, {} end-users, {} tickets",
                    summary.organizations, summary.agents, summary.end_users, summary.tickets
                ));
            }
        }
    } else if fixtures.is_some() {
        out("The dev database already has data, so --fixtures was not loaded; add --fresh to start over with them.");
    }
    first_ticket().await
}

/// Validates, resolves settings for, and installs one app folder.
async fn install_folder(
    state: &AppState,
    dev: &Arc<DevState>,
    folder: &Path,
    known: Option<AppId>,
    flag_settings: &[(String, String)],
    opts: &DevOptions,
) -> Result<(AppId, InstallationId, PathBuf)> {
    let out = &opts.out;
    let path = folder
        .canonicalize()
        .with_context(|| format!("cannot read {}", folder.display()))?;
    let (package, findings) = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || zaffre_server::dev::check_folder(&path))
            .await
            .context("reading the app folder failed")?
    };
    let report = Report { findings };
    if !report.findings.is_empty() {
        out(render_findings(&report).trim_end());
    }
    let account = dev.account;
    let existing = match known {
        Some(id) => state.store.get_app(account, id).await.ok(),
        None => None,
    };
    let Some(package) = package else {
        // Invalid now: keep running the version installed by an earlier session, if any.
        if let Some(app) = existing {
            let installation = state
                .store
                .list_installations(account, Some(app.id))
                .await?
                .into_iter()
                .next()
                .context("the app's installation is gone; run with --fresh")?;
            out(&format!(
                "{} has errors; the version from the last session runs until they are fixed",
                folder.display()
            ));
            dev.register(DevApp {
                app_id: app.id,
                installation_id: installation.id,
                name: app.name,
                path: path.clone(),
                status: DevStatus::Invalid,
                version: 1,
                findings: report.findings.iter().map(DevFinding::from).collect(),
            });
            return Ok((app.id, installation.id, path));
        }
        bail!(
            "{} is not a valid app: fix the errors above",
            folder.display()
        );
    };
    let manifest = package
        .manifest()
        .context("a validated package has no manifest")?;
    let app_label = manifest
        .name
        .clone()
        .unwrap_or_else(|| folder.display().to_string());

    // Settings.
    let file = settings::read_config_file(folder)?;
    let stored = match &existing {
        Some(app) => state
            .store
            .list_installations(account, Some(app.id))
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    let has_stored = |name: &str| {
        stored.as_ref().is_some_and(|i| {
            i.secrets_set.iter().any(|s| s == name)
                || i.settings
                    .get(name)
                    .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
        })
    };
    let env = opts.env.clone();
    let mut resolved = settings::resolve(
        &manifest.parameters,
        &file,
        &|k| env(k),
        flag_settings,
        &has_stored,
    );
    if !resolved.unknown_in_file.is_empty() {
        out(&format!(
            "warning: {}: the manifest declares no parameters called {}; they are ignored",
            folder.join(settings::CONFIG_FILE).display(),
            resolved.unknown_in_file.join(", ")
        ));
    }
    if !resolved.missing.is_empty() {
        if opts.interactive {
            settings::prompt_missing(&app_label, &manifest.parameters, &mut resolved)?;
        } else {
            return Err(settings::missing_error(
                &app_label,
                &manifest.parameters,
                &resolved.missing,
            ));
        }
    }
    let (app, installation) = zaffre_server::dev::install_package(
        state,
        account,
        existing.map(|a| a.id),
        package,
        &resolved.values,
    )
    .await
    .map_err(|e| install_error(&app_label, e))?;
    let secret_set = |name: &str| installation.secrets_set.iter().any(|s| s == name);
    out(&format!("{} settings:", app.name));
    for line in settings::describe(&manifest.parameters, &resolved, &secret_set) {
        out(&format!("  {line}"));
    }
    dev.register(DevApp {
        app_id: app.id,
        installation_id: installation.id,
        name: app.name.clone(),
        path: path.clone(),
        status: DevStatus::Ok,
        version: 1,
        findings: report.findings.iter().map(DevFinding::from).collect(),
    });
    Ok((app.id, installation.id, path))
}

/// A readable error for a failed install (settings refused, mostly).
fn install_error(app: &str, e: zaffre_server::error::ApiError) -> anyhow::Error {
    match e {
        zaffre_server::error::ApiError::Invalid(errors) => {
            let lines: Vec<String> = errors
                .errors
                .iter()
                .map(|e| format!("  {}", e.description))
                .collect();
            anyhow::anyhow!("the settings of {app} were refused:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("could not install {app}: {other}"),
    }
}

/// Findings as `zaffre app validate` prints them, with a summary line.
pub fn render_findings(report: &Report) -> String {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut buf = Vec::new();
    let _ = crate::app::print_findings(report, &mut buf, color);
    let _ = crate::app::print_summary(report, &mut buf, color);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The key a folder is remembered by in the dev database.
fn canonical_key(folder: &Path) -> String {
    folder
        .canonicalize()
        .unwrap_or_else(|_| folder.to_owned())
        .display()
        .to_string()
}

fn read_apps_file(data_dir: &Path) -> BTreeMap<String, AppId> {
    std::fs::read(data_dir.join(APPS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<BTreeMap<String, i64>>(&b).ok())
        .map(|m| m.into_iter().map(|(k, v)| (k, AppId(v))).collect())
        .unwrap_or_default()
}

fn write_apps_file(data_dir: &Path, apps: &BTreeMap<String, AppId>) {
    let map: BTreeMap<&String, Value> = apps.iter().map(|(k, v)| (k, Value::from(v.0))).collect();
    if let Ok(text) = serde_json::to_string_pretty(&map) {
        // Losing it only means the next start installs the apps anew.
        let _ = std::fs::write(data_dir.join(APPS_FILE), text);
    }
}

/// Opens `url` with the desktop's opener when there is one.
fn open_browser(url: &str, out: &Printer) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(_) => out("Opened the link in your browser."),
        Err(_) => out(&format!(
            "--open: {opener} is not available; open the link yourself"
        )),
    }
}
