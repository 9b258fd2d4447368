//! One integration-test binary: a module per area of the contract.

mod admin;
mod bootstrap;
mod cli;
mod connections;
mod cors;
mod dashboard;
mod demo;
mod hardening;
mod health;
mod helpers;
mod housekeeping;
mod jwks;
mod keys;
mod login;
mod logs;
mod methods;
mod metrics;
mod openapi;
mod races;
mod readme;
mod refresh;
mod register;
mod sessions;
mod shutdown;
mod tokens;
mod verify;
