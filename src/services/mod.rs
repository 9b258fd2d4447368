//! The rules of the data, one home each. Only services talk to the database.

pub mod audit;
pub mod roles;
pub mod sessions;
pub mod users;
