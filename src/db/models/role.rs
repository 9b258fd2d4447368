use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::roles;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roles)]
pub struct Role {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}
