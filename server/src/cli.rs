use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::LogFormat;

/// Portico: an internal developer portal in one binary.
///
/// Settings come from portico.toml (or --config), then PORTICO_* environment
/// variables, then these flags, each overriding the one before.
#[derive(Debug, Parser)]
#[command(name = "portico", version, about, long_about)]
pub struct Cli {
    /// Configuration file [env: PORTICO_CONFIG] [default: portico.toml, if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log output format [env: PORTICO_LOG_FORMAT] [default: text]
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (the default command).
    Serve(ServeArgs),
    /// Apply database migrations, then exit.
    Migrate,
    /// Read catalog files (Backstage YAML) into the catalog, following Location targets.
    ///
    /// Each path (a file, or a directory of .yaml/.yml files) becomes a registered
    /// location. Prints a summary per path; exits 1 if any document was rejected.
    Import(ImportArgs),
    /// Manage API tokens for CI/CD and scripts.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret once on stdout.
    Create(TokenCreateArgs),
    /// List tokens (never their secrets).
    List,
    /// Revoke a token at once.
    Revoke {
        /// The token's id (from `portico token list`)
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// What the token is for (letters, digits, '-', '_', '.'; unique among live tokens)
    #[arg(long)]
    pub name: String,
    /// viewer, developer, sre or admin
    #[arg(long)]
    pub role: String,
    /// Days until it expires [default: never]
    #[arg(long, value_name = "DAYS")]
    pub expires: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Catalog files or directories
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,
}

impl Default for Command {
    fn default() -> Self {
        Self::Serve(ServeArgs::default())
    }
}

#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: PORTICO_ADDR] [default: 127.0.0.1:3000]
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<SocketAddr>,

    /// Seed the demo data set into an empty database [env: PORTICO_DEMO]
    #[arg(long)]
    pub demo: bool,

    /// Directory of the web UI's files [env: LEPTOS_SITE_ROOT] [default: target/site]
    #[arg(long, value_name = "DIR")]
    pub site_root: Option<PathBuf>,
}

impl Cli {
    pub fn serve_args(&self) -> Option<&ServeArgs> {
        match &self.command {
            None => None,
            Some(Command::Serve(args)) => Some(args),
            Some(Command::Migrate | Command::Import(_) | Command::Token(_)) => None,
        }
    }
}
