//! What each command does. Every command opens the store the same way and
//! reports failures as an error chain to `main`.

use std::io::Write;

use anyhow::{bail, Context, Result};
use zaffre_domain::search::{Page, TicketFilter, TicketSort};
use zaffre_domain::NewUser;
use zaffre_server::{AppState, Config};
use zaffre_store::{DynStore, StoreError};

use crate::args::*;
use crate::settings::{self, Overrides};
use crate::{bootstrap, demo, logging};

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Db {
            command: DbCommand::Migrate(common),
        } => {
            let config = load(common, None)?;
            zaffre_store::migrate(&config.effective_database_url())
                .await
                .context("migration failed")?;
            println!("migrations applied");
            Ok(())
        }
        Command::User {
            command: UserCommand::Create(args),
        } => create_user(args).await,
        Command::Token {
            command: TokenCommand::Create(args),
        } => create_token(args).await,
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", settings::EXAMPLE);
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Show(common),
        } => {
            let config = load(common, None)?;
            println!("{config:#?}");
            Ok(())
        }
        Command::App { command } => crate::app::run(command),
        Command::Dev(args) => crate::dev::run(args).await,
        Command::Test(args) => crate::apptest::run(args).await,
    }
}

fn load(common: CommonArgs, listen: Option<std::net::SocketAddr>) -> Result<Config> {
    settings::load(&Overrides { common, listen }, &settings::process_env)
}

/// Opens (and migrates) the configured database, creating the data directory
/// for the default SQLite file.
async fn open_store(config: &Config) -> Result<DynStore> {
    if config.database_url.expose().is_empty() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "could not create the data directory {}",
                config.data_dir.display()
            )
        })?;
    }
    zaffre_store::connect(&config.effective_database_url())
        .await
        .context("could not open the database")
}

async fn serve(args: ServeArgs) -> Result<()> {
    let mut config = load(args.common, args.listen)?;
    logging::init(config.log_format);
    bootstrap::ensure_secret_key(&mut config)?;
    let store = open_store(&config).await?;
    let first = bootstrap::ensure_ready(store.as_ref(), &settings::process_env).await?;
    if let Some((email, password)) = &first.admin {
        match password {
            Some(p) => {
                println!("Created the admin {email} with the password {p}\n(shown only this once)")
            }
            None => {
                println!("Created the admin {email} with the password from ZAFFRE_ADMIN_PASSWORD")
            }
        }
    }
    if args.demo {
        let existing = store
            .list_tickets(
                first.account.id,
                &TicketFilter::default(),
                TicketSort::Id,
                false,
                Page::Offset {
                    offset: 0,
                    limit: 1,
                },
            )
            .await?;
        if existing.items.is_empty() {
            let admin = store
                .get_user_by_email(first.account.id, &admin_email(&first))
                .await?;
            let summary = demo::seed(store.as_ref(), first.account.id, admin.id)
                .await
                .context("seeding the demo data failed")?;
            println!(
                "Seeded the demo helpdesk: {} organizations, {} agents, {} end-users, {} tickets",
                summary.organizations, summary.agents, summary.end_users, summary.tickets
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "could not listen on {} (is another server using it?)",
                config.listen
            )
        })?;
    let addr = listener
        .local_addr()
        .context("could not read the listening address")?;
    let engine = store.engine();
    // The proxy refuses zaffre's own listen address: give it the port actually bound, not 0.
    config.listen = addr;
    // Built before announcing readiness: a bad proxy_ca_file stops the start with its message.
    let state = AppState::new(store, config).map_err(anyhow::Error::msg)?;
    tracing::info!(database = %engine, %addr, "zaffre is ready");
    // Tests and scripts wait for this exact line.
    println!("listening on http://{addr}");
    std::io::stdout().flush().ok();

    let shutdown = async {
        shutdown_signal().await;
        tracing::info!("shutting down");
    };
    zaffre_server::serve(listener, state, shutdown)
        .await
        .context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// The admin to attribute demo data to: the one just created, or the configured one.
fn admin_email(first: &bootstrap::FirstStart) -> String {
    first
        .admin
        .as_ref()
        .map(|(email, _)| email.clone())
        .or_else(|| settings::process_env("ZAFFRE_ADMIN_EMAIL"))
        .unwrap_or_else(|| bootstrap::DEFAULT_ADMIN_EMAIL.to_owned())
        .to_lowercase()
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM: the end of `zaffre serve` and
/// `zaffre dev`.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn create_user(args: UserCreateArgs) -> Result<()> {
    let config = load(args.common, None)?;
    let store = open_store(&config).await?;
    let first = bootstrap::ensure_ready(store.as_ref(), &settings::process_env).await?;
    let email = args.email.trim().to_lowercase();
    if !email.contains('@') {
        bail!("{email:?} is not an email address");
    }
    let (password, generated) = match args.password {
        Some(p) if p.len() >= 8 => (p, false),
        Some(_) => bail!("the password must have at least 8 characters"),
        None => (zaffre_server::auth::random_token(), true),
    };
    let hash = zaffre_server::auth::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let user = NewUser {
        name: args.name.trim().to_owned(),
        email: email.clone(),
        role: args.role.into(),
        organization_id: None,
        time_zone: "UTC".into(),
        locale: "en-US".into(),
        password_hash: Some(hash),
    };
    let created = match store.create_user(first.account.id, &user).await {
        Ok(u) => u,
        Err(StoreError::Conflict(_)) => bail!("a user with the email {email} already exists"),
        Err(e) => return Err(e).context("could not create the user"),
    };
    println!(
        "created {} {} (id {})",
        created.role, created.email, created.id
    );
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

async fn create_token(args: TokenCreateArgs) -> Result<()> {
    let config = load(args.common, None)?;
    let store = open_store(&config).await?;
    let first = bootstrap::ensure_ready(store.as_ref(), &settings::process_env).await?;
    let email = args.email.trim().to_lowercase();
    let user = match store.get_user_by_email(first.account.id, &email).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => bail!("no user has the email {email}"),
        Err(e) => return Err(e).context("could not look up the user"),
    };
    let token = zaffre_server::auth::random_token();
    store
        .create_api_token(
            first.account.id,
            user.id,
            &zaffre_server::auth::sha256_hex(&token),
            &args.description,
        )
        .await
        .context("could not store the token")?;
    // The token alone on stdout, so scripts can capture it.
    println!("{token}");
    Ok(())
}
