//! The command line: `authd serve | migrate | create-admin USERNAME [--if-none] [--generate-password]`.

use clap::{Parser, Subcommand};

/// authd: a JSON Web Token authentication service with an admin dashboard.
///
/// Configuration comes from the environment (and a `.env` file when present); see docs/api.md.
#[derive(Debug, Parser)]
#[command(name = "authd", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP on AUTHD_BIND (the default command).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator. The password is read from AUTHD_ADMIN_PASSWORD, else from the
    /// first line of standard input, unless --generate-password is given.
    CreateAdmin {
        /// 3 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'.
        username: String,
        /// Do nothing (and succeed) when an administrator already exists.
        #[arg(long)]
        if_none: bool,
        /// Generate a strong password and print it once on standard output, instead of reading
        /// one.
        #[arg(long)]
        generate_password: bool,
    },
}
