//! One integration-test binary: a module per area of the contract.

mod admin;
mod bootstrap;
mod cli;
mod cors;
mod dashboard;
mod health;
mod helpers;
mod jwks;
mod keys;
mod login;
mod methods;
mod openapi;
mod refresh;
mod register;
mod sessions;
mod tokens;
mod verify;
