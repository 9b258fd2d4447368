//! Mail: forgot-password and email verification. A request only queues an intent in the outbox
//! (one INSERT in its own short transaction, never SMTP); the worker (`worker.rs`) mints the link
//! and sends it, with retries, so a slow or dead SMTP server never slows or fails a request and
//! nothing queued is lost across a restart.

mod message;
mod transport;
pub mod worker;

use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::Error;
use super::audit::{self, event};
use crate::auth::secrets::hash_secret;
use crate::db::models::email_verification::EmailVerification;
use crate::db::models::mail_outbox::{
    KIND_EMAIL_VERIFICATION, KIND_PASSWORD_RESET, NewOutboxMail, OutboxMail,
};
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, Email, Principal, Username};
use crate::state::AppState;

/// How long a verification link works.
pub const VERIFICATION_TTL_SECS: i64 = 24 * 3600;

/// Whom a forgot-password request names: exactly one of the two.
#[derive(Debug, Clone)]
pub enum Lookup {
    Email(Email),
    Username(Username),
}

impl Lookup {
    /// `{email}` or `{username}`, exactly one, each as the usual rules allow.
    pub fn parse(email: Option<String>, username: Option<String>) -> Result<Self, Error> {
        match (email, username) {
            (Some(email), None) => Email::parse(&email)
                .map(Self::Email)
                .map_err(Error::Invalid),
            (None, Some(name)) => Username::parse(&name)
                .map(Self::Username)
                .map_err(Error::Invalid),
            _ => Err(Error::Invalid(
                "give exactly one of email and username".into(),
            )),
        }
    }
}

/// Queues a verification mail for `email` of `user_id` in the caller's transaction.
pub fn queue_verification_in(
    conn: &mut PgConnection,
    user_id: Uuid,
    email: &str,
) -> QueryResult<()> {
    OutboxMail::insert(
        conn,
        &NewOutboxMail {
            id: Uuid::now_v7(),
            kind: KIND_EMAIL_VERIFICATION,
            user_id: Some(user_id),
            email: Some(email),
            username: None,
        },
    )
}

/// `POST /api/auth/forgot-password`. Whether or not the account exists, the request does the
/// same: one INSERT of what was typed (or, without mail, nothing), no lookup, no hashing. The
/// worker finds the account when it sends.
pub async fn forgot_password(state: &AppState, lookup: Lookup) -> Result<(), Error> {
    if state.config.mail.is_none() {
        return Ok(());
    }
    db::run(&state.pool, move |conn| {
        let (email, username) = match &lookup {
            Lookup::Email(e) => (Some(e.as_str()), None),
            Lookup::Username(u) => (None, Some(u.as_str())),
        };
        OutboxMail::insert(
            conn,
            &NewOutboxMail {
                id: Uuid::now_v7(),
                kind: KIND_PASSWORD_RESET,
                user_id: None,
                email,
                username,
            },
        )
        .map_err(Error::from)
    })
    .await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// `POST /api/auth/email/verify-request`: a verification mail to the caller's current address.
pub async fn request_verification(state: &AppState, principal: &Principal) -> Result<(), Error> {
    if state.config.mail.is_none() {
        return Err(Error::MailNotConfigured);
    }
    let user_id = principal.user_id;
    db::run(&state.pool, move |conn| {
        let user = User::find(conn, user_id)?.ok_or(Error::NotFound)?;
        let email = user
            .email
            .ok_or_else(|| Error::Invalid("this account has no email address to verify".into()))?;
        queue_verification_in(conn, user_id, &email).map_err(Error::from)
    })
    .await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// `POST /api/auth/email/verify`: uses a verification link. Unknown, used or expired, or for an
/// address the account no longer has: `InvalidGrant`.
pub async fn verify_email(state: &AppState, token: &str, client: &ClientInfo) -> Result<(), Error> {
    let hash = hash_secret(token);
    let client = client.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let link = EmailVerification::consume(conn, &hash)?.ok_or(Error::InvalidGrant)?;
            if !User::mark_email_verified(conn, link.user_id, &link.email)? {
                return Err(Error::InvalidGrant);
            }
            EmailVerification::delete_of_user(conn, link.user_id)?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::EMAIL_VERIFIED,
                    actor_id: Some(link.user_id),
                    subject_id: Some(link.user_id),
                    client: &client,
                    detail: json!({ "email": link.email }),
                },
            )?;
            Ok(())
        })
    })
    .await
}
