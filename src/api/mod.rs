//! The JSON face: thin handlers that parse, call a service and answer; `ApiError` at the edge.

pub mod admin;
pub mod auth;
mod cache;
mod cors;
mod docs;
mod error;
mod extract;
pub mod health;
mod json;
pub mod lifecycle;
mod mail;
pub mod metrics;
pub mod openapi;
pub mod verify;
pub mod well_known;

pub use error::ApiError;
pub use json::{json_config, no_route, path_config, query_config};
pub use openapi::configure;
