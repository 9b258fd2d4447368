//! `signing_keys`: the keys that sign and verify access tokens. A key signs from `activated_at`
//! (which may lie ahead, to publish it first) until a newer key activates, verifies until
//! `retired_at`, and its private half may be sealed (`private_key_encryption`).

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
    pub private_key_encryption: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = signing_keys)]
pub struct NewSigningKey<'a> {
    pub kid: &'a str,
    pub alg: &'a str,
    pub public_key: &'a [u8],
    pub private_key: &'a [u8],
    pub activated_at: Option<DateTime<Utc>>,
    pub private_key_encryption: Option<&'a str>,
}

impl SigningKeyRow {
    /// Keys of `alg` that can still verify tokens, newest activation first (pending ones too).
    pub fn live(conn: &mut PgConnection, alg: &str) -> QueryResult<Vec<SigningKeyRow>> {
        signing_keys::table
            .filter(signing_keys::alg.eq(alg))
            .filter(signing_keys::retired_at.is_null())
            .filter(signing_keys::activated_at.is_not_null())
            .order(signing_keys::activated_at.desc())
            .select(SigningKeyRow::as_select())
            .load(conn)
    }

    /// Every key, newest first, for the operator's list.
    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<SigningKeyRow>> {
        signing_keys::table
            .order((signing_keys::created_at.desc(), signing_keys::kid))
            .select(SigningKeyRow::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut PgConnection, kid: &str) -> QueryResult<Option<SigningKeyRow>> {
        signing_keys::table
            .find(kid)
            .select(SigningKeyRow::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut PgConnection, new: &NewSigningKey<'_>) -> QueryResult<usize> {
        diesel::insert_into(signing_keys::table)
            .values(new)
            .execute(conn)
    }

    /// Retires the key if it is not retired yet; true when this call retired it.
    pub fn retire(conn: &mut PgConnection, kid: &str, at: DateTime<Utc>) -> QueryResult<bool> {
        let n = diesel::update(signing_keys::table.find(kid))
            .filter(signing_keys::retired_at.is_null())
            .set(signing_keys::retired_at.eq(at))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Keys whose private half is stored in plain form.
    pub fn unsealed(conn: &mut PgConnection) -> QueryResult<Vec<SigningKeyRow>> {
        signing_keys::table
            .filter(signing_keys::private_key_encryption.is_null())
            .select(SigningKeyRow::as_select())
            .load(conn)
    }

    pub fn store_sealed(
        conn: &mut PgConnection,
        kid: &str,
        sealed: &[u8],
        scheme: &str,
    ) -> QueryResult<usize> {
        diesel::update(signing_keys::table.find(kid))
            .set((
                signing_keys::private_key.eq(sealed),
                signing_keys::private_key_encryption.eq(scheme),
            ))
            .execute(conn)
    }

    /// Serialises key changes, so instances starting together agree on one first key and two
    /// rotations cannot interleave.
    pub fn lock_table(conn: &mut PgConnection) -> QueryResult<()> {
        diesel::sql_query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            .execute(conn)
            .map(|_| ())
    }
}
