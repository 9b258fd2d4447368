//! `sessions`: API sessions (refresh-token families) and dashboard cookie sessions, and every query
//! on them. "Live" means not revoked and not expired; it is spelled once, in `live()`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::{Eq, Filter, Gt, IsNull};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use uuid::Uuid;

use crate::db::clock::statement_timestamp;
use crate::db::schema::{sessions, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: &'a str,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    /// Dashboard sessions only: SHA-256 of the cookie secret, and the CSRF token of its forms.
    pub cookie_hash: Option<&'a [u8]>,
    pub csrf_token: Option<&'a str>,
}

/// A dashboard session found by its cookie, with what the caller needs to know of its user.
pub struct CookieSession {
    pub session: Session,
    pub csrf_token: Option<String>,
    pub username: String,
    pub user_disabled: bool,
}

type Live = Filter<
    Filter<sessions::table, IsNull<sessions::revoked_at>>,
    Gt<sessions::expires_at, DateTime<Utc>>,
>;
type OfUser = Eq<sessions::user_id, Uuid>;

impl Session {
    pub const KIND_API: &'static str = "api";
    pub const KIND_DASHBOARD: &'static str = "dashboard";

    /// Sessions that still let someone in: not revoked, not expired.
    fn live(now: DateTime<Utc>) -> Live {
        sessions::table
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
    }

    fn of_user(user_id: Uuid) -> OfUser {
        sessions::user_id.eq(user_id)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewSession<'_>) -> QueryResult<Session> {
        diesel::insert_into(sessions::table)
            .values(new)
            .returning(Session::as_returning())
            .get_result(conn)
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Session>> {
        sessions::table
            .find(id)
            .select(Session::as_select())
            .first(conn)
            .optional()
    }

    /// The dashboard session whose cookie secret hashes to `cookie_hash`, live or not.
    pub fn find_by_cookie(
        conn: &mut PgConnection,
        cookie_hash: &[u8],
    ) -> QueryResult<Option<CookieSession>> {
        type Row = (Session, Option<String>, String, Option<DateTime<Utc>>);
        let row: Option<Row> = sessions::table
            .inner_join(users::table)
            .filter(sessions::cookie_hash.eq(cookie_hash))
            .filter(sessions::kind.eq(Self::KIND_DASHBOARD))
            .select((
                Session::as_select(),
                sessions::csrf_token,
                users::username,
                users::disabled_at,
            ))
            .first(conn)
            .optional()?;
        Ok(row.map(
            |(session, csrf_token, username, disabled_at)| CookieSession {
                session,
                csrf_token,
                username,
                user_disabled: disabled_at.is_some(),
            },
        ))
    }

    /// Records the session's last use and where it came from.
    pub fn touch(
        conn: &mut PgConnection,
        id: Uuid,
        now: DateTime<Utc>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> QueryResult<usize> {
        diesel::update(sessions::table.find(id))
            .set((
                sessions::last_used_at.eq(now),
                ip.map(|ip| sessions::ip.eq(ip.to_owned())),
                user_agent.map(|ua| sessions::user_agent.eq(ua.to_owned())),
            ))
            .execute(conn)
    }

    /// Revokes the unrevoked sessions `which` selects; returns the ids revoked, each with the
    /// instant stored as its `revoked_at`. That instant is the database's clock at the statement,
    /// never an app server's: other instances find the revocation by it (`revoked_since`), and the
    /// in-memory state of the instance that revoked must hold the very same instant.
    fn revoke_where(
        conn: &mut PgConnection,
        which: Box<dyn BoxableExpression<sessions::table, Pg, SqlType = Bool>>,
        reason: &str,
    ) -> QueryResult<Vec<(Uuid, DateTime<Utc>)>> {
        diesel::update(sessions::table)
            .filter(which)
            .filter(sessions::revoked_at.is_null())
            .set((
                sessions::revoked_at.eq(statement_timestamp().nullable()),
                sessions::revoked_reason.eq(reason),
            ))
            .returning((sessions::id, sessions::revoked_at.assume_not_null()))
            .get_results(conn)
    }

    /// Revokes one session if it is not revoked yet; returns it (with when) if this call did.
    pub fn revoke(
        conn: &mut PgConnection,
        id: Uuid,
        reason: &str,
    ) -> QueryResult<Vec<(Uuid, DateTime<Utc>)>> {
        Self::revoke_where(conn, Box::new(sessions::id.eq(id)), reason)
    }

    /// Revokes every unrevoked session of a user but `keep`; returns those revoked, with when.
    pub fn revoke_all_of_user(
        conn: &mut PgConnection,
        user_id: Uuid,
        keep: Option<Uuid>,
        reason: &str,
    ) -> QueryResult<Vec<(Uuid, DateTime<Utc>)>> {
        let keep = keep.unwrap_or_else(Uuid::nil);
        let which = Self::of_user(user_id).and(sessions::id.ne(keep));
        Self::revoke_where(conn, Box::new(which), reason)
    }

    /// A user's sessions that have not expired, newest first: live ones and revoked ones.
    pub fn unexpired_of_user(
        conn: &mut PgConnection,
        user_id: Uuid,
        now: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<Session>> {
        sessions::table
            .filter(Self::of_user(user_id))
            .filter(sessions::expires_at.gt(now))
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .limit(limit)
            .select(Session::as_select())
            .load(conn)
    }

    /// Live sessions per user, for the given users.
    pub fn live_counts(
        conn: &mut PgConnection,
        user_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> QueryResult<HashMap<Uuid, i64>> {
        let rows: Vec<(Uuid, i64)> = Self::live(now)
            .filter(sessions::user_id.eq_any(user_ids))
            .group_by(sessions::user_id)
            .select((sessions::user_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(rows.into_iter().collect())
    }

    /// Whether the user opened a session from `ip` since `since` (a login that succeeded there).
    pub fn opened_from(
        conn: &mut PgConnection,
        user_id: Uuid,
        ip: &str,
        since: DateTime<Utc>,
    ) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::created_at.gt(since))
                .filter(sessions::ip.eq(ip)),
        ))
        .get_result(conn)
    }

    pub fn count_live(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<i64> {
        Self::live(now).count().get_result(conn)
    }

    /// One page of every user's live sessions, newest first, with the owner's name; fetches one
    /// row more than `limit` so the caller can tell whether another page follows.
    pub fn live_page(
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<(Session, String)>> {
        Self::live(now)
            .inner_join(users::table)
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .limit(limit + 1)
            .offset(offset)
            .select((Session::as_select(), users::username))
            .load(conn)
    }

    /// Sessions revoked after `since` (database time; any instance may have revoked them), with
    /// when.
    pub fn revoked_since(
        conn: &mut PgConnection,
        since: DateTime<Utc>,
    ) -> QueryResult<Vec<(Uuid, DateTime<Utc>)>> {
        sessions::table
            .filter(sessions::revoked_at.gt(since))
            .select((sessions::id, sessions::revoked_at.assume_not_null()))
            .load(conn)
    }

    /// Whether the session is revoked; a session that no longer exists counts as revoked.
    pub fn is_revoked(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
        Ok(sessions::table
            .find(id)
            .select(sessions::revoked_at.is_not_null())
            .first::<bool>(conn)
            .optional()?
            .unwrap_or(true))
    }

    /// Deletes up to `limit` sessions (live or revoked) that expired before `cutoff`, with their
    /// refresh tokens; returns how many. Rows another transaction holds are skipped.
    pub fn delete_expired(
        conn: &mut PgConnection,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<usize> {
        super::delete_expired_batch(conn, "sessions", cutoff, limit)
    }
}

/// When things happened to a session inserted after the fact (demo data): opened, last used, and
/// revoked (with why), by the times given rather than the clock.
#[derive(Debug, Clone, Copy)]
pub struct SessionHistory<'a> {
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub revoked: Option<(DateTime<Utc>, &'a str)>,
}

impl Session {
    pub fn insert_with_history(
        conn: &mut PgConnection,
        new: &NewSession<'_>,
        history: &SessionHistory<'_>,
    ) -> QueryResult<Session> {
        diesel::insert_into(sessions::table)
            .values((
                new,
                sessions::created_at.eq(history.created_at),
                sessions::last_used_at.eq(history.last_used_at),
                sessions::revoked_at.eq(history.revoked.map(|(at, _)| at)),
                sessions::revoked_reason.eq(history.revoked.map(|(_, why)| why)),
            ))
            .returning(Session::as_returning())
            .get_result(conn)
    }
}
