//! The HTML face. For now the landing page; the admin dashboard grows here.

pub mod home;

/// Appended to asset URLs so a new release is fetched despite year-long cache headers.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");
