//! authd: a JSON Web Token authentication service with a server-rendered admin dashboard.

pub mod access;
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod connections;
pub mod dashboard;
pub mod db;
pub mod domain;
pub mod identity;
pub mod logging;
pub mod methods;
pub mod request_id;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use startup::Application;
