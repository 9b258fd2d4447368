//! Values parsed at the boundary: past `parse`, an invalid one cannot exist.

mod email;
mod password;
mod role_name;
mod username;

pub use email::Email;
pub use password::{Password, PasswordPolicy};
pub use role_name::RoleName;
pub use username::Username;
