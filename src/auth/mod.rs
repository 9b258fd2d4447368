//! Primitives without business rules: password hashing, access tokens, signing keys, opaque
//! secrets, signed form tokens, and the in-memory revocation state.

pub mod form_tokens;
pub mod keys;
pub mod passwords;
pub mod revocation;
pub mod secrets;
pub mod tokens;
