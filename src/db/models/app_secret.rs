//! `app_secrets`: secrets all instances share, created once by whichever instance asks first.

use diesel::prelude::*;

use crate::db::schema::app_secrets;

pub struct AppSecret;

impl AppSecret {
    /// The secret called `name`; stores `candidate` under that name first if there is none yet.
    /// Instances starting together agree: the first insert wins, the others read it.
    pub fn get_or_create(
        conn: &mut PgConnection,
        name: &str,
        candidate: &[u8],
    ) -> QueryResult<Vec<u8>> {
        diesel::insert_into(app_secrets::table)
            .values((
                app_secrets::name.eq(name),
                app_secrets::secret.eq(candidate),
            ))
            .on_conflict(app_secrets::name)
            .do_nothing()
            .execute(conn)?;
        app_secrets::table
            .find(name)
            .select(app_secrets::secret)
            .first(conn)
    }
}
