//! `users` and `user_roles`: accounts, their roles, and every query on them.

mod email;
mod lifecycle;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::clock::statement_timestamp;
use crate::db::schema::{roles, user_roles, users};
use crate::domain::{RoleName, Username};

/// A user row. `password_hash` is deliberately not `Serialize`: nothing here is.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub username_lower: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub tokens_valid_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The latest "end every session" (database time): a login opens its session only if this
    /// is still what it read when it checked the password.
    pub sessions_valid_after: DateTime<Utc>,
    /// When the current address was verified. Cleared by the database whenever `email` changes
    /// (trigger `users_email_changed`, migration `2026-12-04-000003_mail`): no writer of the
    /// address can forget it.
    pub email_verified_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub username_lower: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
}

/// Stored as the password hash of an account created without a password. Not a PHC string, so
/// nothing verifies against it; logins check the dummy hash instead (`User::checkable_hash`) and
/// answer like a wrong password, after the same work.
pub const NO_PASSWORD: &str = "!no-password";

/// Serialises every change that could leave the service without an administrator.
const ADMIN_CHANGES_LOCK: i64 = 4_242_001;

impl User {
    /// The hash a password is checked against; `None` for an account without a password.
    pub fn checkable_hash(&self) -> Option<String> {
        (self.password_hash != NO_PASSWORD).then(|| self.password_hash.clone())
    }

    pub fn insert(conn: &mut PgConnection, new: &NewUser<'_>) -> QueryResult<User> {
        diesel::insert_into(users::table)
            .values(new)
            .returning(User::as_returning())
            .get_result(conn)
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// By name as typed, compared case-insensitively.
    /// The account a typed name names. A name that cannot be a username names nobody, and is not
    /// sent to the database at all (PostgreSQL text cannot even hold some of what is typed: NUL).
    pub fn find_by_username(conn: &mut PgConnection, name: &str) -> QueryResult<Option<User>> {
        if Username::parse(name).is_err() {
            return Ok(None);
        }
        users::table
            .filter(users::username_lower.eq(Username::lookup_key(name)))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// The user row, locked `FOR SHARE` until the transaction ends: what a token is signed from
    /// cannot change meanwhile, and every change that voids tokens (`lock_for_update`) waits for
    /// the transaction to commit, so it takes its cutoff after it.
    pub fn lock_for_share(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .for_share()
            .first(conn)
            .optional()
    }

    /// The user row, locked for a transaction that also writes it (a login records
    /// `last_login_at`): like `lock_for_share` against every change that voids tokens, but
    /// logins of one user queue instead of deadlocking on upgrading shared locks.
    pub fn lock_for_login(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .for_no_key_update()
            .first(conn)
            .optional()
    }

    /// The user row, locked `FOR UPDATE` until the transaction ends, by every change that voids
    /// sessions or tokens (password, disable, roles, ending every session). It waits for the
    /// logins and refreshes holding the row; those that come later wait for this change and see
    /// it. A cutoff stamped after this lock is held postdates every token signed before it.
    pub fn lock_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .for_update()
            .first(conn)
            .optional()
    }

    /// Ends the sessions of logins still in flight: a login that read the account before this
    /// finds `sessions_valid_after` changed and opens none. Database time, like the watermark.
    pub fn raise_sessions_cutoff(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<()> {
        diesel::update(users::table.find(user_id))
            .set(users::sessions_valid_after.eq(statement_timestamp()))
            .execute(conn)
            .map(|_| ())
    }

    pub fn count(conn: &mut PgConnection) -> QueryResult<i64> {
        users::table.count().get_result(conn)
    }

    /// Usernames of the given users that still exist.
    pub fn names_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, String>> {
        Ok(users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::username))
            .load::<(Uuid, String)>(conn)?
            .into_iter()
            .collect())
    }

    pub fn role_names(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<String>> {
        user_roles::table
            .inner_join(roles::table)
            .filter(user_roles::user_id.eq(user_id))
            .select(roles::name)
            .order(roles::name)
            .load(conn)
    }

    /// The roles of many users in one query, each list sorted by name.
    pub fn role_names_of(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, Vec<String>>> {
        let pairs: Vec<(Uuid, String)> = user_roles::table
            .inner_join(roles::table)
            .filter(user_roles::user_id.eq_any(ids))
            .select((user_roles::user_id, roles::name))
            .order(roles::name)
            .load(conn)?;
        let mut map: HashMap<Uuid, Vec<String>> = HashMap::new();
        for (id, name) in pairs {
            map.entry(id).or_default().push(name);
        }
        Ok(map)
    }

    /// Replaces the user's roles with `role_ids`.
    pub fn replace_roles(
        conn: &mut PgConnection,
        user_id: Uuid,
        role_ids: &[i32],
        granted_by: Option<Uuid>,
    ) -> QueryResult<()> {
        diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
        Self::grant_role_ids(conn, user_id, role_ids, granted_by).map(|_| ())
    }

    fn grant_role_ids(
        conn: &mut PgConnection,
        user_id: Uuid,
        role_ids: &[i32],
        granted_by: Option<Uuid>,
    ) -> QueryResult<usize> {
        let rows: Vec<_> = role_ids
            .iter()
            .map(|role_id| {
                (
                    user_roles::user_id.eq(user_id),
                    user_roles::role_id.eq(*role_id),
                    user_roles::granted_by.eq(granted_by),
                )
            })
            .collect();
        diesel::insert_into(user_roles::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(conn)
    }

    pub fn grant_roles(
        conn: &mut PgConnection,
        user_id: Uuid,
        names: &[&str],
        granted_by: Option<Uuid>,
    ) -> QueryResult<usize> {
        let role_ids: Vec<i32> = roles::table
            .filter(roles::name.eq_any(names))
            .select(roles::id)
            .load(conn)?;
        Self::grant_role_ids(conn, user_id, &role_ids, granted_by)
    }

    pub fn record_login(
        conn: &mut PgConnection,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(user_id))
            .set(users::last_login_at.eq(at))
            .execute(conn)
    }

    pub fn set_password_hash(
        conn: &mut PgConnection,
        user_id: Uuid,
        hash: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(user_id))
            .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
            .execute(conn)
    }

    /// Disables the account (keeping the first instant if it already is) or enables it.
    pub fn set_disabled(
        conn: &mut PgConnection,
        user_id: Uuid,
        disabled_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> QueryResult<User> {
        diesel::update(users::table.find(user_id))
            .set((
                users::disabled_at.eq(disabled_at),
                users::updated_at.eq(now),
            ))
            .returning(User::as_returning())
            .get_result(conn)
    }

    /// Voids every access token of the user issued until now, by the database's clock at the
    /// statement (never an app server's: other instances find the mark by it). The returned user's
    /// `tokens_valid_after` is the instant stored, for the in-memory state to hold the same.
    pub fn raise_watermark(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<User> {
        diesel::update(users::table.find(user_id))
            .set((
                users::tokens_valid_after.eq(statement_timestamp()),
                users::updated_at.eq(statement_timestamp()),
            ))
            .returning(User::as_returning())
            .get_result(conn)
    }

    /// Watermarks raised after `since` (database time), by any instance.
    pub fn watermarks_since(
        conn: &mut PgConnection,
        since: DateTime<Utc>,
    ) -> QueryResult<Vec<(Uuid, DateTime<Utc>)>> {
        users::table
            .filter(users::tokens_valid_after.gt(since))
            .select((users::id, users::tokens_valid_after))
            .load(conn)
    }

    /// The user's watermark; `None` when the user no longer exists.
    pub fn watermark(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Option<DateTime<Utc>>> {
        users::table
            .find(user_id)
            .select(users::tokens_valid_after)
            .first(conn)
            .optional()
    }

    /// When an administrator last cleared the account's login throttling (database time).
    pub fn throttle_cleared_at(
        conn: &mut PgConnection,
        user_id: Uuid,
    ) -> QueryResult<Option<DateTime<Utc>>> {
        users::table
            .find(user_id)
            .select(users::throttle_cleared_at)
            .first::<Option<DateTime<Utc>>>(conn)
            .optional()
            .map(Option::flatten)
    }

    /// Stamps "throttling cleared now" with the database's clock; `None`: no such user.
    pub fn stamp_throttle_cleared(
        conn: &mut PgConnection,
        user_id: Uuid,
    ) -> QueryResult<Option<(String, DateTime<Utc>)>> {
        diesel::update(users::table.find(user_id))
            .set(users::throttle_cleared_at.eq(statement_timestamp().nullable()))
            .returning((
                users::username,
                users::throttle_cleared_at.assume_not_null(),
            ))
            .get_result(conn)
            .optional()
    }

    pub fn count_with_role(conn: &mut PgConnection, role: &str) -> QueryResult<i64> {
        user_roles::table
            .inner_join(roles::table)
            .filter(roles::name.eq(role))
            .count()
            .get_result(conn)
    }

    /// Administrators who can still sign in.
    pub fn count_enabled_admins(conn: &mut PgConnection) -> QueryResult<i64> {
        user_roles::table
            .inner_join(roles::table)
            .inner_join(users::table.on(users::id.eq(user_roles::user_id)))
            .filter(roles::name.eq(RoleName::ADMIN))
            .filter(users::disabled_at.is_null())
            .count()
            .get_result(conn)
    }

    /// Taken (until the transaction ends) by every change that could remove the last
    /// administrator, so two such changes cannot both pass the check.
    pub fn lock_admin_changes(conn: &mut PgConnection) -> QueryResult<()> {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(ADMIN_CHANGES_LOCK)
            .execute(conn)
            .map(|_| ())
    }
}

/// What the admin user list filters on: a substring of the username or email (already
/// lower-cased), and a role by id.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub term: Option<String>,
    pub role_id: Option<i32>,
}

diesel::define_sql_function! {
    /// SQL `lower()`, for the expression index on email.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// `%term%` for LIKE, with the pattern characters of the term escaped.
fn like_pattern(term: &str) -> String {
    let escaped = term
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl UserFilter {
    fn query<'a>(&self) -> users::BoxedQuery<'a, diesel::pg::Pg> {
        let mut q = users::table.into_boxed();
        if let Some(term) = &self.term {
            let pattern = like_pattern(term);
            q = q.filter(
                users::username_lower
                    .like(pattern.clone())
                    .or(lower(users::email).like(pattern).assume_not_null()),
            );
        }
        if let Some(role_id) = self.role_id {
            q = q.filter(diesel::dsl::exists(
                user_roles::table
                    .filter(user_roles::user_id.eq(users::id))
                    .filter(user_roles::role_id.eq(role_id)),
            ));
        }
        q
    }
}

impl User {
    /// Runs `f` in a transaction whose queries are planned for their actual values. diesel
    /// prepares and caches statements; after five runs PostgreSQL may switch one to a generic
    /// plan, which cannot see a search pattern's selectivity and walks 100,000 users by date
    /// instead of using the trigram indexes (measured: 4 ms -> 100 ms). Other queries keep their
    /// cached plans.
    pub fn with_custom_plans<T, E>(
        conn: &mut PgConnection,
        f: impl FnOnce(&mut PgConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        conn.transaction(|conn| {
            diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
            f(conn)
        })
    }

    /// How many users match.
    pub fn count_matching(conn: &mut PgConnection, filter: &UserFilter) -> QueryResult<i64> {
        match (&filter.term, filter.role_id) {
            // Every holder of a role is a user (foreign key): counting the role's rows is enough,
            // an index-only scan instead of a join over every user.
            (None, Some(role_id)) => user_roles::table
                .filter(user_roles::role_id.eq(role_id))
                .count()
                .get_result(conn),
            _ => filter.query().count().get_result(conn),
        }
    }

    /// One page of matching users, newest first.
    pub fn matching_page(
        conn: &mut PgConnection,
        filter: &UserFilter,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<User>> {
        filter
            .query()
            .order((users::created_at.desc(), users::id.desc()))
            .limit(limit)
            .offset(offset)
            .select(User::as_select())
            .load(conn)
    }
}

/// When things happened to an account inserted after the fact: demo data, imports.
#[derive(Debug, Clone, Copy)]
pub struct UserHistory {
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    /// Inserts a user whose history began before now (`updated_at` is the latest instant given).
    pub fn insert_with_history(
        conn: &mut PgConnection,
        new: &NewUser<'_>,
        history: &UserHistory,
    ) -> QueryResult<User> {
        let updated_at = history.disabled_at.unwrap_or(history.created_at);
        diesel::insert_into(users::table)
            .values((
                new,
                users::created_at.eq(history.created_at),
                users::updated_at.eq(updated_at.max(history.created_at)),
                users::last_login_at.eq(history.last_login_at),
                users::disabled_at.eq(history.disabled_at),
            ))
            .returning(User::as_returning())
            .get_result(conn)
    }

    /// Users who do not hold `role`.
    pub fn count_without_role(conn: &mut PgConnection, role: &str) -> QueryResult<i64> {
        users::table
            .filter(diesel::dsl::not(diesel::dsl::exists(
                user_roles::table
                    .inner_join(roles::table)
                    .filter(user_roles::user_id.eq(users::id))
                    .filter(roles::name.eq(role)),
            )))
            .count()
            .get_result(conn)
    }
}
