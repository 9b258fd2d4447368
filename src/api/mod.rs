//! The JSON face: thin handlers that parse, call a service and answer.

pub mod admin;
pub mod auth;
pub mod health;
mod json;
pub mod verify;
pub mod well_known;

pub use json::{json_config, not_found, path_config, query_config};
