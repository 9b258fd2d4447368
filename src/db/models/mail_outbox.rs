//! `mail_outbox`: mail to send, as intents (which mail, for whom; never a token). Rows are claimed
//! with a lease so several instances share the work without holding a transaction over SMTP.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text, Timestamptz};
use uuid::Uuid;

use crate::db::clock::statement_timestamp;
use crate::db::schema::mail_outbox;

pub const KIND_PASSWORD_RESET: &str = "password_reset";
pub const KIND_EMAIL_VERIFICATION: &str = "email_verification";

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxMail {
    pub id: Uuid,
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct NewOutboxMail<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub user_id: Option<Uuid>,
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
}

impl OutboxMail {
    pub fn insert(conn: &mut PgConnection, new: &NewOutboxMail<'_>) -> QueryResult<()> {
        diesel::insert_into(mail_outbox::table)
            .values(new)
            .execute(conn)
            .map(|_| ())
    }

    /// Claims the most overdue pending mail: counts the attempt and hides the row from every
    /// worker for `lease_secs` (a worker that dies mid-send leaves it to be retried then). Rows
    /// another worker is claiming are skipped, never waited for.
    pub fn claim_due(conn: &mut PgConnection, lease_secs: f64) -> QueryResult<Option<Self>> {
        diesel::sql_query(
            "UPDATE mail_outbox SET attempts = attempts + 1, \
                 next_attempt_at = statement_timestamp() + make_interval(secs => $1) \
             WHERE id = (SELECT id FROM mail_outbox \
                 WHERE state = 'pending' AND next_attempt_at <= statement_timestamp() \
                 ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING *",
        )
        .bind::<Double, _>(lease_secs)
        .get_result(conn)
        .optional()
    }

    /// When the next pending mail falls due (database time), if any.
    pub fn next_due(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
        mail_outbox::table
            .filter(mail_outbox::state.eq("pending"))
            .select(diesel::dsl::min(mail_outbox::next_attempt_at))
            .first(conn)
    }

    /// Sent: the typed lookup goes (it may be anyone's address), the recipient stays for the
    /// record.
    pub fn mark_sent(conn: &mut PgConnection, id: Uuid, recipient: &str) -> QueryResult<()> {
        diesel::update(mail_outbox::table.find(id))
            .set((
                mail_outbox::state.eq("sent"),
                mail_outbox::email.eq(Some(recipient)),
                mail_outbox::username.eq(None::<String>),
                mail_outbox::last_error.eq(None::<String>),
                mail_outbox::finished_at.eq(statement_timestamp().nullable()),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Nothing to send (no such account, no address, a changed address): the row goes.
    pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
        diesel::delete(mail_outbox::table.find(id))
            .execute(conn)
            .map(|_| ())
    }

    /// A failed attempt, tried again `retry_secs` from now.
    pub fn retry_later(
        conn: &mut PgConnection,
        id: Uuid,
        error: &str,
        retry_secs: f64,
    ) -> QueryResult<()> {
        diesel::sql_query(
            "UPDATE mail_outbox SET last_error = $2, \
                 next_attempt_at = statement_timestamp() + make_interval(secs => $3) \
             WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<Text, _>(error)
        .bind::<Double, _>(retry_secs)
        .execute(conn)
        .map(|_| ())
    }

    /// Given up on: kept with its error for the record, without the typed lookup.
    pub fn mark_failed(conn: &mut PgConnection, id: Uuid, error: &str) -> QueryResult<()> {
        diesel::update(mail_outbox::table.find(id))
            .set((
                mail_outbox::state.eq("failed"),
                mail_outbox::username.eq(None::<String>),
                mail_outbox::last_error.eq(Some(error)),
                mail_outbox::finished_at.eq(statement_timestamp().nullable()),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Deletes up to `limit` finished rows older than `cutoff`; for housekeeping.
    pub fn delete_finished_before(
        conn: &mut PgConnection,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<usize> {
        diesel::sql_query(
            "DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox \
             WHERE state <> 'pending' AND finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Timestamptz, _>(cutoff)
        .bind::<BigInt, _>(limit)
        .execute(conn)
    }
}
