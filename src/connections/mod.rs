//! What one client connection may hold: a request body must arrive within a deadline, and one
//! directly connected address may keep only so many connections open. (The total per instance is
//! actix's `max_connections`, set in `startup`.)

mod backpressure;
mod body_deadline;
mod per_address;
mod server;

pub use body_deadline::middleware as body_deadline;
pub use per_address::{PerAddress, middleware as per_address};
pub use server::{Settings, serve};
