//! `audit_events`: one row per security-relevant action.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::audit_events;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub event: String,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: serde_json::Value,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub event: &'a str,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub detail: serde_json::Value,
}

/// Which events a listing shows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event: Option<String>,
    /// Events where this user acted or was acted upon.
    pub user_id: Option<Uuid>,
}

/// Logins and failed logins of one UTC day.
#[derive(Debug, Clone, QueryableByName)]
pub struct LoginDay {
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub ok: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub failed: i64,
}

impl AuditEvent {
    pub fn insert(conn: &mut PgConnection, new: &NewAuditEvent<'_>) -> QueryResult<usize> {
        diesel::insert_into(audit_events::table)
            .values(new)
            .execute(conn)
    }

    /// An event that happened at `at` rather than now (demo data, imports).
    pub fn insert_at(
        conn: &mut PgConnection,
        new: &NewAuditEvent<'_>,
        at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::insert_into(audit_events::table)
            .values((new, audit_events::at.eq(at)))
            .execute(conn)
    }

    /// Newest first; fetches one row more than `limit` so the caller can tell whether another
    /// page follows.
    pub fn page(
        conn: &mut PgConnection,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<AuditEvent>> {
        use audit_events as a;
        let mut q = a::table.into_boxed();
        if let Some(e) = &filter.event {
            q = q.filter(a::event.eq(e.clone()));
        }
        if let Some(id) = filter.user_id {
            q = q.filter(a::subject_id.eq(id).or(a::actor_id.eq(id)));
        }
        q.order((a::at.desc(), a::id.desc()))
            .limit(limit + 1)
            .offset(offset)
            .select(AuditEvent::as_select())
            .load(conn)
    }

    /// Events `ok` and `failed` per UTC day, oldest first, for the last `days` days (today
    /// included), days without any as zeros.
    pub fn per_day(
        conn: &mut PgConnection,
        ok: &str,
        failed: &str,
        days: i32,
    ) -> QueryResult<Vec<LoginDay>> {
        use diesel::sql_types::{Integer, Text};
        diesel::sql_query(
            "SELECT d::date AS day, \
                    count(e.id) FILTER (WHERE e.event = $2) AS ok, \
                    count(e.id) FILTER (WHERE e.event = $3) AS failed \
             FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($1 - 1), (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d \
             LEFT JOIN audit_events e \
               ON e.event IN ($2, $3) \
              AND e.at >= d AT TIME ZONE 'UTC' AND e.at < (d + interval '1 day') AT TIME ZONE 'UTC' \
             GROUP BY d ORDER BY d",
        )
        .bind::<Integer, _>(days)
        .bind::<Text, _>(ok)
        .bind::<Text, _>(failed)
        .load(conn)
    }

    /// Deletes up to `limit` events recorded before `cutoff`, oldest first; returns how many.
    pub fn delete_older_than(
        conn: &mut PgConnection,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<usize> {
        diesel::sql_query(
            "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 ORDER BY at \
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .execute(conn)
    }
}
