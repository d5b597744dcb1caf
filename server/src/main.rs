use std::process::ExitCode;

use clap::Parser;
use portico_server::cli::{Cli, Command};
use portico_server::config::Config;
use portico_server::{catalog, identity, startup, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("portico: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("starting the async runtime");
    let result = runtime.block_on(async {
        match cli.command.unwrap_or_default() {
            Command::Serve(_) => startup::serve(config).await.map(|()| ExitCode::SUCCESS),
            Command::Migrate => startup::migrate(&config).await.map(|()| ExitCode::SUCCESS),
            Command::Import(args) => catalog::import::run(&config, &args.paths).await,
            Command::Token(command) => identity::tokens_cli::run(&config, command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = &e as &dyn std::error::Error, "portico stopped");
            eprintln!("portico: {}", telemetry::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
