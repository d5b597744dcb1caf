//! `portico token create|list|revoke`: token administration for operators, on the
//! same database as the server (which may be running).

use std::process::ExitCode;

use portico_core::identity::{ApiToken, IdentityError, NewToken, Role};
use portico_core::storage::sql::display_millis;
use portico_core::Portal;

use crate::cli::TokenCommand;
use crate::config::Config;
use crate::startup::StartupError;

/// The audit log names command-line actions this way.
const ACTOR: &str = "cli";

pub async fn run(config: &Config, command: TokenCommand) -> Result<ExitCode, StartupError> {
    let portal =
        Portal::open(config.database_url.expose())?.with_settings(config.portal_settings());
    portal.db().migrate().await?;
    let identity = portal.identity();
    let outcome = match command {
        TokenCommand::Create(args) => {
            let role = match args.role.parse::<Role>() {
                Ok(role) => role,
                Err(e) => {
                    eprintln!("portico: --role: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let new = NewToken {
                name: args.name,
                role,
                expires_in_days: args.expires,
            };
            identity
                .create_token(&new, ACTOR)
                .await
                .map(|(token, secret)| {
                    eprintln!(
                    "Created token {} ({}, {}). Its secret is printed once, below; store it now.",
                    token.name,
                    token.role,
                    expiry(&token)
                );
                    println!("{secret}");
                })
        }
        TokenCommand::List => identity.tokens().await.map(|tokens| {
            println!(
                "{:<36}  {:<24}  {:<9}  {:<20}  STATE",
                "ID", "NAME", "ROLE", "LAST USED"
            );
            for token in tokens {
                println!(
                    "{:<36}  {:<24}  {:<9}  {:<20}  {}",
                    token.id,
                    token.name,
                    token.role,
                    token.last_used_at.map_or("never".into(), display_millis),
                    state(&token)
                );
            }
        }),
        TokenCommand::Revoke { id } => identity
            .revoke_token(&id, ACTOR)
            .await
            .map(|token| eprintln!("Revoked token {} ({}).", token.name, token.id)),
    };
    portal.db().close().await;
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(
            e @ (IdentityError::Invalid { .. }
            | IdentityError::Conflict(_)
            | IdentityError::NotFound(_)),
        ) => {
            eprintln!("portico: {e}");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

fn expiry(token: &ApiToken) -> String {
    match token.expires_at {
        Some(at) => format!("expires {}", display_millis(at)),
        None => "never expires".into(),
    }
}

fn state(token: &ApiToken) -> String {
    match (
        token.state_at(portico_core::storage::sql::now_millis()),
        token.revoked_at,
    ) {
        ("revoked", Some(at)) => format!("revoked {}", display_millis(at)),
        ("live", _) => expiry(token),
        (other, _) => other.to_owned(),
    }
}
