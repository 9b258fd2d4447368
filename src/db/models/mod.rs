//! One file per table: a read struct, a borrowed insert struct, and the queries on that table.

pub mod audit_event;
pub mod refresh_token;
pub mod role;
pub mod session;
pub mod signing_key;
pub mod user;
