//! One integration-test binary: a module per area of the contract.

mod auth;
mod helpers;
