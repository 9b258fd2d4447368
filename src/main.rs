use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Parser;

use authd::Application;
use authd::auth::passwords::hash_blocking;
use authd::cli::{Cli, Command};
use authd::config::Config;
use authd::services::users;
use authd::startup::{StartupError, prepare_database};

fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is reported like any other configuration error.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("authd: invalid configuration: .env: {e}");
        return ExitCode::from(2);
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("authd: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => {
            prepare_database(&config).map(|_| println!("migrations are up to date"))
        }
        Command::CreateAdmin { username } => create_admin(&config, &username),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authd: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> Result<(), StartupError> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).await?;
        app.run_until_stopped()
            .await
            .map_err(|e| StartupError::Other(format!("server stopped: {e}")))
    })
}

fn create_admin(config: &Config, username: &str) -> Result<(), StartupError> {
    let password = match std::env::var("AUTHD_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            if std::io::stdin().is_terminal() {
                eprintln!(
                    "password for {username} (input is visible; or set AUTHD_ADMIN_PASSWORD):"
                );
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                StartupError::Other(format!("reading the password from stdin: {e}"))
            })?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let pool = prepare_database(config)?;
    let mut conn = pool
        .get()
        .map_err(|e| StartupError::Other(format!("database unavailable: {e}")))?;
    let admin = users::create_admin(
        &mut conn,
        username,
        password,
        config.password_policy,
        |pw| hash_blocking(pw.expose()),
    )
    .map_err(|e| StartupError::Other(format!("create-admin: {e}")))?;
    println!("created administrator {} ({})", admin.username, admin.id);
    Ok(())
}
