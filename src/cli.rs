//! The command line: `authd serve | migrate | create-admin | keys | purge | demo-seed`.

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
    /// Manage the keys that sign access tokens (EdDSA, ES256, RS256). Changes reach every
    /// running instance within a few seconds.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Delete sessions and refresh tokens expired for more than a day, and audit events older
    /// than AUTHD_AUDIT_RETENTION_DAYS (default 90), in small batches; print what was removed.
    /// `serve` does the same at start and then every AUTHD_PURGE_INTERVAL seconds (default
    /// 3600); if an instance is purging right now, this waits for it to finish first.
    Purge,
    /// Fill an empty database with a demo organisation (about 30 people, roles, sessions, two
    /// weeks of audit events) and print its administrator and the one password of every demo
    /// account. Refuses a database that holds any account other than an administrator.
    DemoSeed,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List every key: kid, algorithm, state (pending, signing, verifying, retired), dates, and
    /// whether its private half is stored encrypted.
    List,
    /// Add a new key. Running instances publish it in the JWKS at once and sign with it within
    /// 30 s; the previous key keeps verifying until its last token expires, then retires.
    Rotate {
        /// Publish the new key this many seconds before it starts signing. The default gives
        /// every instance time to learn the key before any signs with it; raise it to the JWKS
        /// cache time of services that verify our tokens.
        #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=604_800))]
        publish_ahead: u32,
    },
    /// Emergency: tokens signed with this key stop working on every instance within 30 s. If it
    /// was the signing key, a new key takes over at once.
    Retire {
        /// The key's id, as `authd keys list` shows it.
        kid: String,
    },
    /// Encrypt every stored private key that is still plain with AUTHD_KEY_ENCRYPTION_KEY
    /// (a one-off after setting that variable; `rotate` does the same on the way).
    Encrypt,
}
