//! Values parsed at the boundary: past `parse`, an invalid one cannot exist.

mod client;
mod email;
mod invisible;
mod origin;
mod password;
mod principal;
mod role_name;
mod username;

pub use client::ClientInfo;
pub use email::Email;
pub use origin::Origin;
pub use password::{Password, PasswordPolicy};
pub use principal::{Credential, Principal};
pub use role_name::RoleName;
pub use username::Username;
