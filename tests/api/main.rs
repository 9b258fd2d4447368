//! One integration-test binary: a module per area of the contract.

mod bootstrap;
mod cli;
mod health;
mod helpers;
mod login;
mod register;
mod tokens;
