//! One integration-test binary: a module per area of the contract.

mod admin;
mod bootstrap;
mod cli;
mod dashboard;
mod demo;
mod health;
mod helpers;
mod jwks;
mod keys;
mod login;
mod readme;
mod refresh;
mod register;
mod sessions;
mod tokens;
mod verify;
