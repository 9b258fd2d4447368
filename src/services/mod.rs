//! The rules of the data, one home each. Only services talk to the database.

pub mod audit;
pub mod roles;
pub mod sessions;
pub mod users;

/// The furthest page any listing serves: beyond it page arithmetic could overflow, and no one
/// pages that far by hand.
pub const MAX_PAGE: i64 = 1_000_000;

/// A requested page number, 1-based and bounded.
pub fn page_number(requested: Option<i64>) -> i64 {
    requested.unwrap_or(1).clamp(1, MAX_PAGE)
}
