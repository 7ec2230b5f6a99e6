//! The command line's shape, declared with clap.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use zaffre_domain::Role;

/// A self-hostable host for Zendesk Apps Framework v2 apps inside a helpdesk.
#[derive(Debug, Parser)]
#[command(name = "zaffre", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Manage people.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Validate, package and create Zendesk apps, offline.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Develop apps: a local helpdesk with the app folders installed, live reload and secure settings.
    Dev(DevArgs),
    /// Run an app's tests headless: a dev host, Chromium, and a script of test(name, fn) cases
    /// run in the app's iframe. Prints TAP; exits 0 (all passed), 1 (a test failed), 2 (could not run).
    Test(TestArgs),
}

/// Options every command that opens the database accepts.
#[derive(Debug, Clone, Default, Args)]
pub struct CommonArgs {
    /// A TOML configuration file (also ZAFFRE_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…` (also ZAFFRE_DATABASE_URL); default: SQLite under the data directory.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Where zaffre keeps its SQLite database and keys (also ZAFFRE_DATA_DIR); default: ./zaffre-data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `zaffre serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address to listen on (also ZAFFRE_LISTEN); default 127.0.0.1:4567. Port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Seed a demo helpdesk (organizations, people, ~30 tickets) on first start.
    #[arg(long)]
    pub demo: bool,
}

/// `zaffre dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// App folders to install and watch; default: the current folder.
    #[arg(value_name = "APP_DIR")]
    pub apps: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address to listen on (also ZAFFRE_LISTEN); default 127.0.0.1:4567. Port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Start with a new development database instead of the one under APP_DIR/.zaffre/.
    #[arg(long)]
    pub fresh: bool,
    /// Open the sign-in link in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Serve the workspace and the app origins over https with a local CA (created once).
    #[arg(long)]
    pub https: bool,
    /// Seed tickets, people and fields from a JSON or YAML file instead of the demo helpdesk.
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// An app setting, overriding zcli.apps.config.json and ZAFFRE_SETTING_<NAME>; repeatable.
    #[arg(long = "setting", value_name = "NAME=VALUE")]
    pub settings: Vec<String>,
}

/// `zaffre test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The app folder to test.
    #[arg(value_name = "APP_DIR")]
    pub app: PathBuf,
    /// The test script (JavaScript calling test(name, fn); see docs/developing-apps.md).
    #[arg(long, value_name = "FILE")]
    pub script: PathBuf,
    /// Where the app runs for the tests.
    #[arg(long, default_value = "ticket_sidebar")]
    pub location: String,
    /// Seed tickets, people and fields from a JSON or YAML file instead of the demo helpdesk.
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// An app setting, overriding zcli.apps.config.json and ZAFFRE_SETTING_<NAME>; repeatable.
    #[arg(long = "setting", value_name = "NAME=VALUE")]
    pub settings: Vec<String>,
    /// The Chromium (or Chrome) to run; default: $CHROMIUM, $CHROME, then chromium on PATH.
    #[arg(long, value_name = "PATH")]
    pub chromium: Option<PathBuf>,
    /// Seconds the whole run may take.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// Seconds one test may take.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub test_timeout: u64,
}

/// `zaffre db …`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations and exit.
    Migrate(CommonArgs),
}

/// The roles `user create` accepts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    #[value(name = "end-user")]
    EndUser,
    Agent,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::EndUser => Role::EndUser,
            RoleArg::Agent => Role::Agent,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// `zaffre user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a person in the default account.
    Create(UserCreateArgs),
}

/// `zaffre user create`.
#[derive(Debug, Args)]
pub struct UserCreateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, value_enum, default_value = "agent")]
    pub role: RoleArg,
    /// The password; when omitted one is generated and printed once.
    #[arg(long)]
    pub password: Option<String>,
}

/// `zaffre token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a person and print it (shown only once).
    Create(TokenCreateArgs),
}

/// `zaffre token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[arg(long)]
    pub email: String,
    /// What the token is for.
    #[arg(long, default_value = "created with zaffre token create")]
    pub description: String,
}

/// `zaffre config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print an annotated example configuration file.
    Example,
    /// Print the effective configuration (secrets redacted).
    Show(CommonArgs),
}

/// `zaffre app …`.
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Check an app folder or zip; exits 1 when there are errors, 0 with warnings only.
    Validate(AppValidateArgs),
    /// Validate an app folder and write a reproducible zip to upload.
    Package(AppPackageArgs),
    /// Create a working ticket sidebar app to start from.
    New(AppNewArgs),
}

/// `zaffre app validate`.
#[derive(Debug, Args)]
pub struct AppValidateArgs {
    /// The app's folder, or a zip of it.
    #[arg(value_name = "DIR|ZIP")]
    pub path: PathBuf,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `zaffre app package`.
#[derive(Debug, Args)]
pub struct AppPackageArgs {
    /// The app's folder.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to write the zip; default: DIR/tmp/app-<timestamp>.zip.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `zaffre app new`.
#[derive(Debug, Args)]
pub struct AppNewArgs {
    /// The app's name, as shown to agents.
    pub name: String,
    /// The folder to create; default: the name in lowercase with dashes.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
