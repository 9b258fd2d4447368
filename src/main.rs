use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Parser;

use authd::Application;
use authd::auth::secrets::random_password;
use authd::cli::{Cli, Command, KeysCommand};
use authd::config::Config;
use authd::logging;
use authd::services::accounts::{self, IfAdminExists};
use authd::services::housekeeping::{self, IfRunning};
use authd::services::{demo, keys};
use authd::startup::{StartupError, build_state, prepare_database};

fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is reported like any other configuration error.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("authd: invalid configuration: .env: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("authd: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => {
            prepare_database(&config).map(|_| println!("migrations are up to date"))
        }
        Command::CreateAdmin {
            username,
            if_none,
            generate_password,
        } => create_admin(config, &username, if_none, generate_password),
        Command::Keys(command) => manage_keys(config, command),
        Command::Purge => purge(config),
        Command::DemoSeed => demo_seed(config),
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

/// From AUTHD_ADMIN_PASSWORD, else the first line of standard input.
fn read_password(username: &str) -> Result<String, StartupError> {
    if let Ok(p) = std::env::var("AUTHD_ADMIN_PASSWORD")
        && !p.is_empty()
    {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        eprintln!("password for {username} (input is visible; or set AUTHD_ADMIN_PASSWORD):");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| StartupError::Other(format!("reading the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Characters of a generated password (6 random bits each), unless the policy asks for more.
const GENERATED_PASSWORD_LEN: usize = 20;

fn create_admin(
    config: Config,
    username: &str,
    if_none: bool,
    generate_password: bool,
) -> Result<(), StartupError> {
    let password = if generate_password {
        random_password(
            config
                .password_policy
                .min_length
                .max(GENERATED_PASSWORD_LEN),
        )
        .map_err(|e| StartupError::Other(e.to_string()))?
    } else {
        read_password(username)?
    };
    let if_exists = if if_none {
        IfAdminExists::DoNothing
    } else {
        IfAdminExists::CreateAnyway
    };
    let shown = password.clone();
    actix_web::rt::System::new().block_on(async move {
        let state = build_state(config).await?;
        let created = accounts::create_admin(&state, username, password, if_exists)
            .await
            .map_err(|e| StartupError::Other(format!("create-admin: {e}")))?;
        match created {
            Some(admin) => {
                println!("created administrator {} ({})", admin.username, admin.id);
                if generate_password {
                    println!("password: {shown}");
                }
            }
            None => println!("an administrator exists already; nothing to do"),
        }
        Ok(())
    })
}

fn manage_keys(config: Config, command: KeysCommand) -> Result<(), StartupError> {
    let fail = |e: authd::services::Error| StartupError::Other(format!("keys: {e}"));
    actix_web::rt::System::new().block_on(async move {
        let state = build_state(config).await?;
        match command {
            KeysCommand::List => {
                let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map_or_else(
                        || "-".to_owned(),
                        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    )
                };
                println!(
                    "{:<18} {:<6} {:<9} {:<20} {:<20} {:<20} encrypted",
                    "kid", "alg", "state", "created", "activated", "retired"
                );
                for key in keys::list(&state).await.map_err(fail)? {
                    println!(
                        "{:<18} {:<6} {:<9} {:<20} {:<20} {:<20} {}",
                        key.kid,
                        key.alg,
                        key.state.as_str(),
                        when(Some(key.created_at)),
                        when(key.activated_at),
                        when(key.retired_at),
                        if key.sealed { "yes" } else { "no" }
                    );
                }
            }
            KeysCommand::Rotate { publish_ahead } => {
                let ahead = chrono::Duration::seconds(i64::from(publish_ahead));
                let (kid, from) = keys::rotate(&state, ahead).await.map_err(fail)?;
                let from = from.format("%Y-%m-%dT%H:%M:%SZ");
                println!("new signing key {kid}, published now, signing from {from}");
            }
            KeysCommand::Retire { kid } => {
                let replacement = keys::retire(&state, kid.clone()).await.map_err(fail)?;
                println!("retired key {kid}");
                if let Some(new) = replacement {
                    println!("it was signing: new signing key {new}");
                }
            }
            KeysCommand::Encrypt => {
                let n = keys::seal_stored(&state).await.map_err(fail)?;
                println!("encrypted {n} stored private key(s)");
            }
        }
        Ok(())
    })
}

fn purge(config: Config) -> Result<(), StartupError> {
    let days = config.audit_retention_days;
    actix_web::rt::System::new().block_on(async move {
        let state = build_state(config).await?;
        let purged = housekeeping::purge(&state, IfRunning::Wait)
            .await
            .map_err(|e| StartupError::Other(format!("purge: {e}")))?
            .unwrap_or_default();
        println!("removed {} expired refresh tokens", purged.refresh_tokens);
        println!("removed {} expired sessions", purged.sessions);
        println!(
            "removed {} audit events older than {days} days",
            purged.audit_events
        );
        Ok(())
    })
}

fn demo_seed(config: Config) -> Result<(), StartupError> {
    actix_web::rt::System::new().block_on(async move {
        let state = build_state(config).await?;
        let seeded = demo::seed(&state)
            .await
            .map_err(|e| StartupError::Other(format!("demo-seed: {e}")))?;
        println!(
            "seeded a demo organisation: {} users, {} roles, {} sessions ({} active), {} audit events",
            seeded.users, seeded.roles, seeded.sessions, seeded.live_sessions, seeded.events
        );
        println!("every demo account has the password below (shown once); sign in as the administrator");
        println!("admin: {}", seeded.admin);
        println!("password: {}", seeded.password);
        Ok(())
    })
}
