//! One integration-test binary: a module per area of the contract.

mod admin;
mod bootstrap;
mod cli;
mod dashboard;
mod health;
mod helpers;
mod housekeeping;
mod jwks;
mod keys;
mod login;
mod logs;
mod metrics;
mod refresh;
mod register;
mod sessions;
mod tokens;
mod verify;
