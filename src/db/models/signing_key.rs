use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::signing_keys;

/// A signing key row. The private key never leaves the process: no `Serialize`, no `Debug` of it.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: String,
    pub public_key: Vec<u8>,
    pub private_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = signing_keys)]
pub struct NewSigningKey<'a> {
    pub kid: &'a str,
    pub alg: &'a str,
    pub public_key: &'a [u8],
    pub private_key: &'a [u8],
    pub activated_at: Option<DateTime<Utc>>,
}

impl SigningKeyRow {
    /// Keys of `alg` that can still verify tokens, newest activation first.
    pub fn live(conn: &mut PgConnection, alg: &str) -> QueryResult<Vec<SigningKeyRow>> {
        signing_keys::table
            .filter(signing_keys::alg.eq(alg))
            .filter(signing_keys::retired_at.is_null())
            .filter(signing_keys::activated_at.is_not_null())
            .order(signing_keys::activated_at.desc())
            .select(SigningKeyRow::as_select())
            .load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewSigningKey<'_>) -> QueryResult<usize> {
        diesel::insert_into(signing_keys::table)
            .values(new)
            .execute(conn)
    }
}
