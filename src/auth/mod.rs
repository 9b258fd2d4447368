//! Passwords, tokens, keys, sessions and the identity extractor.

pub mod client;
pub mod keys;
pub mod passwords;
pub mod principal;
pub mod revocation;
pub mod sessions;
pub mod token_cache;
pub mod tokens;

pub use client::ClientInfo;
pub use principal::{Admin, Principal, RequireRole, RoleMarker};
