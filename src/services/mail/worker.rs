//! The outbox worker, one per instance: claims due mail (several instances share the table:
//! `FOR UPDATE SKIP LOCKED` and a lease), mints the link in a short transaction, sends it over
//! SMTP outside any transaction, then records the outcome. A failure is retried with exponential
//! backoff (`AUTHD_MAIL_RETRY` doubling, at most 1 h) and given up after `MAX_ATTEMPTS` or a
//! refusal for good (5xx), audited as `mail_failed`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::message::Letter;
use super::transport::{SMTP_TIMEOUT, SendError, Transport};
use super::{Error, VERIFICATION_TTL_SECS};
use crate::auth::secrets::new_secret;
use crate::config::Config;
use crate::db::models::email_verification::EmailVerification;
use crate::db::models::mail_outbox::{KIND_EMAIL_VERIFICATION, KIND_PASSWORD_RESET, OutboxMail};
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::ClientInfo;
use crate::services::audit::{self, event};
use crate::services::password_reset;
use crate::state::AppState;

/// Attempts before a mail is given up.
pub const MAX_ATTEMPTS: i32 = 10;

/// The longest wait between two attempts.
pub const MAX_BACKOFF_SECS: u64 = 3_600;

/// How often the outbox is read without a wake-up (mail queued by other instances, retries).
pub const POLL: Duration = Duration::from_secs(10);

/// A claimed row is hidden from the other workers this long: longer than any send takes.
const LEASE_SECS: f64 = SMTP_TIMEOUT.as_secs_f64() * 3.0 + 30.0;

/// The wait before attempt `attempts + 1`.
pub fn backoff_secs(first_retry_secs: u64, attempts: i32) -> u64 {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    first_retry_secs
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF_SECS)
}

/// Works the outbox until the app state is gone. Does nothing without mail configured.
pub async fn run(state: Weak<AppState>) {
    let Some((transport, wake)) = state.upgrade().and_then(|s| {
        let mail = s.config.mail.as_ref()?;
        match Transport::new(mail) {
            Ok(t) => Some((t, s.mail_wake.clone())),
            Err(e) => {
                log::error!("mail is off: {e}");
                None
            }
        }
    }) else {
        return;
    };
    loop {
        let Some(app) = state.upgrade() else { break };
        let wait = match drain(&app, &transport).await {
            Ok(wait) => wait,
            Err(e) => {
                log::warn!("mail outbox: {e}");
                POLL
            }
        };
        drop(app);
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Sends every mail due now; how long until the next one falls due (at most `POLL`).
async fn drain(state: &Arc<AppState>, transport: &Transport) -> Result<Duration, Error> {
    loop {
        let claimed = db::run(&state.pool, |conn| {
            OutboxMail::claim_due(conn, LEASE_SECS).map_err(Error::from)
        })
        .await?;
        let Some(mail) = claimed else { break };
        deliver(state, transport, mail).await?;
    }
    let next = db::run(&state.pool, |conn| {
        OutboxMail::next_due(conn).map_err(Error::from)
    })
    .await?;
    Ok(next.map_or(POLL, |at| {
        (at - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(POLL)
    }))
}

/// What was minted for one attempt, to void should the mail not go.
enum Minted {
    Reset,
    Verification(Uuid),
}

async fn deliver(state: &AppState, transport: &Transport, mail: OutboxMail) -> Result<(), Error> {
    let config = state.config.clone();
    let row = mail.clone();
    let prepared = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| prepare(conn, &config, &row))
    })
    .await?;
    let Some((letter, minted, user_id)) = prepared else {
        return Ok(());
    };
    let recipient = letter.to.clone();
    let from = state
        .config
        .mail
        .as_ref()
        .map(|m| m.from.clone())
        .unwrap_or_default();
    let outcome = match letter.build(&from) {
        Ok(message) => transport.send(message).await,
        Err(message) => Err(SendError {
            message,
            permanent: true,
        }),
    };
    let retry_secs = state.config.mail_retry_secs;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| match outcome {
            Ok(()) => {
                log::info!("mail {} ({}) sent", mail.id, mail.kind);
                OutboxMail::mark_sent(conn, mail.id, &recipient).map_err(Error::from)
            }
            Err(failure) => {
                if let Minted::Verification(id) = minted {
                    EmailVerification::delete(conn, id)?;
                }
                if failure.permanent || mail.attempts >= MAX_ATTEMPTS {
                    give_up(conn, &mail, user_id, &failure.message)
                } else {
                    let wait = backoff_secs(retry_secs, mail.attempts);
                    log::warn!(
                        "mail {} ({}) attempt {} failed, retrying in {wait} s: {}",
                        mail.id,
                        mail.kind,
                        mail.attempts,
                        failure.message
                    );
                    OutboxMail::retry_later(conn, mail.id, &failure.message, wait as f64)
                        .map_err(Error::from)
                }
            }
        })
    })
    .await
}

fn give_up(
    conn: &mut PgConnection,
    mail: &OutboxMail,
    user_id: Uuid,
    error: &str,
) -> Result<(), Error> {
    log::warn!(
        "mail {} ({}) given up after {} attempts: {error}",
        mail.id,
        mail.kind,
        mail.attempts
    );
    OutboxMail::mark_failed(conn, mail.id, error)?;
    audit::record(
        conn,
        audit::Entry {
            event: event::MAIL_FAILED,
            actor_id: None,
            subject_id: Some(user_id),
            client: &ClientInfo::default(),
            detail: json!({ "kind": mail.kind, "attempts": mail.attempts, "error": error }),
        },
    )?;
    Ok(())
}

/// The letter to send and its freshly minted link, in the caller's transaction; `None` (and the
/// row deleted) when there is nothing to send: no such account, no address, a disabled account,
/// an address changed since.
fn prepare(
    conn: &mut PgConnection,
    config: &Config,
    mail: &OutboxMail,
) -> Result<Option<(Letter, Minted, Uuid)>, Error> {
    let prepared = match mail.kind.as_str() {
        KIND_PASSWORD_RESET => prepare_reset(conn, config, mail)?,
        KIND_EMAIL_VERIFICATION => prepare_verification(conn, config, mail)?,
        _ => None,
    };
    if prepared.is_none() {
        OutboxMail::delete(conn, mail.id)?;
    }
    Ok(prepared)
}

fn prepare_reset(
    conn: &mut PgConnection,
    config: &Config,
    mail: &OutboxMail,
) -> Result<Option<(Letter, Minted, Uuid)>, Error> {
    let user = match (&mail.email, &mail.username) {
        (Some(email), _) => User::find_by_email(conn, email)?,
        (None, Some(name)) => User::find_by_username(conn, name)?,
        (None, None) => None,
    };
    // A disabled account gets no link: it could not log in with the new password anyway.
    let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
        return Ok(None);
    };
    let Some(to) = user.email.clone() else {
        return Ok(None);
    };
    let issued = password_reset::issue_in(conn, config, None, user.id, &ClientInfo::default())?;
    let minutes = (config.reset_ttl_secs / 60).max(1);
    let letter = Letter::password_reset(&to, &user.username, &issued.url, minutes);
    Ok(Some((letter, Minted::Reset, user.id)))
}

fn prepare_verification(
    conn: &mut PgConnection,
    config: &Config,
    mail: &OutboxMail,
) -> Result<Option<(Letter, Minted, Uuid)>, Error> {
    let Some(user_id) = mail.user_id else {
        return Ok(None);
    };
    let Some(user) = User::find(conn, user_id)? else {
        return Ok(None);
    };
    let (Some(current), Some(asked)) = (&user.email, &mail.email) else {
        return Ok(None);
    };
    if current != asked {
        return Ok(None);
    }
    let (token, hash) = new_secret()?;
    let id = EmailVerification::insert(conn, user.id, current, &hash, VERIFICATION_TTL_SECS)?;
    let link = format!("{}/verify-email?token={token}", config.public_url);
    let letter = Letter::email_verification(current, &user.username, &link);
    Ok(Some((letter, Minted::Verification(id), user.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(backoff_secs(30, 1), 30);
        assert_eq!(backoff_secs(30, 2), 60);
        assert_eq!(backoff_secs(30, 4), 240);
        assert_eq!(backoff_secs(30, 9), 3_600);
        assert_eq!(backoff_secs(30, i32::MAX), 3_600);
    }
}
