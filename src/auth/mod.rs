//! Primitives without business rules: password hashing, access tokens, signing keys, opaque
//! secrets, signed form tokens, the in-memory revocation state and throttling buckets.

pub mod form_tokens;
pub mod keys;
pub mod passwords;
pub mod revocation;
pub mod secrets;
pub mod throttle;
pub mod tokens;
