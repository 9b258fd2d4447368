//! `authd demo-seed`: fills an empty database with a small, realistic organisation for
//! demonstrations and screenshots: about thirty people, three roles besides `admin` and `user`,
//! sessions from phones, laptops and scripts, a few disabled accounts and revoked sessions, and two
//! weeks of audit events (logins, failed logins, role changes, revocations).
//!
//! It refuses any database that holds an account other than an administrator, so it cannot mix
//! made-up people into real ones. Everything is written in one transaction, through the models'
//! own inserts (backdated: the history is planned first, in `plan`). Every demo account gets the
//! same password, hashed once by the service's hasher and returned to be shown once; demo API
//! sessions have no refresh token (nobody could present one), demo dashboard sessions a cookie
//! digest of a secret that is thrown away.

use chrono::Duration;
use diesel::prelude::*;
use uuid::Uuid;

use super::Error;
use super::audit;
use crate::auth::passwords::Requester;
use crate::auth::secrets::{new_secret, random_password};
use crate::db::models::role::Role;
use crate::db::models::session::{NewSession, Session, SessionHistory};
use crate::db::models::user::{NewUser, User, UserHistory};
use crate::db::{self, clock};
use crate::domain::{ClientInfo, Email, Password, RoleName, Username};
use crate::state::AppState;

mod org;
mod plan;
#[cfg(test)]
mod tests;

pub use org::ADMIN;
use org::PEOPLE;
use plan::{Lifetimes, Plan};

/// What `seed` wrote, for the operator.
#[derive(Debug)]
pub struct Seeded {
    pub users: usize,
    pub roles: usize,
    pub sessions: usize,
    pub live_sessions: usize,
    pub events: usize,
    /// The administrator to sign in as.
    pub admin: &'static str,
    /// Every demo account's password: shown once, stored nowhere but as its hash.
    pub password: String,
}

/// How long the generated password is (unless the policy asks for more).
const PASSWORD_LEN: usize = 20;

/// Fills an empty database (none but administrators in it) with the demo organisation.
pub async fn seed(state: &AppState) -> Result<Seeded, Error> {
    let len = state.config.password_policy.min_length.max(PASSWORD_LEN);
    let password = random_password(len)?;
    let first = Username::parse(ADMIN).map_err(Error::Invalid)?;
    let checked = Password::parse(password.clone(), &first, state.config.password_policy)
        .map_err(Error::Invalid)?;
    let hash = state
        .hasher
        .hash(checked.expose().to_owned(), Requester::Operator)
        .await?;
    let life = Lifetimes {
        api: Duration::seconds(state.config.refresh_ttl_secs),
        dashboard: Duration::seconds(state.config.dashboard_absolute_secs),
    };
    let mut seeded = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            User::lock_admin_changes(conn)?;
            refuse_unless_empty(conn)?;
            let now = clock::now(conn)?;
            write(conn, &plan::plan(now, life), &hash)
        })
    })
    .await?;
    seeded.password = password;
    Ok(seeded)
}

fn refuse_unless_empty(conn: &mut PgConnection) -> Result<(), Error> {
    let others = User::count_without_role(conn, RoleName::ADMIN)?;
    if others > 0 {
        return Err(Error::Invalid(format!(
            "refusing to seed demo data: the database holds {others} account(s) that are not \
             administrators; demo-seed only fills an empty database"
        )));
    }
    for p in PEOPLE {
        if User::find_by_username(conn, p.username)?.is_some() {
            return Err(Error::Invalid(format!(
                "refusing to seed demo data: an account named {} exists already",
                p.username
            )));
        }
    }
    let taken = Role::named(
        conn,
        &org::ROLES.iter().map(|r| r.0.into()).collect::<Vec<_>>(),
    )?;
    if let Some(role) = taken.first() {
        return Err(Error::Invalid(format!(
            "refusing to seed demo data: the role {} exists already",
            role.name
        )));
    }
    Ok(())
}

fn client(ip: &str, user_agent: &str) -> ClientInfo {
    let ip = Some(ip.to_owned()).filter(|s| !s.is_empty());
    ClientInfo::new(ip, Some(user_agent).filter(|s| !s.is_empty()))
}

fn write(conn: &mut PgConnection, plan: &Plan, hash: &str) -> Result<Seeded, Error> {
    // The roles were made the day before the first account.
    let oldest = plan.users.iter().map(|u| u.created_at).min();
    let roles_at = oldest.unwrap_or(plan.now) - Duration::days(1);
    for (name, description) in org::ROLES {
        let name = RoleName::parse(name).map_err(Error::Invalid)?;
        Role::insert_at(conn, name.as_str(), description, roles_at)?;
    }

    let ids: Vec<Uuid> = plan.users.iter().map(|u| u.id).collect();
    let id = |person: Option<usize>| person.map(|p| ids[p]);
    for u in &plan.users {
        let p = &PEOPLE[u.person];
        let username = Username::parse(p.username).map_err(Error::Invalid)?;
        let email = p
            .email
            .map(Email::parse)
            .transpose()
            .map_err(Error::Invalid)?;
        let lower = username.lower();
        let new = NewUser {
            id: u.id,
            username: username.as_str(),
            username_lower: &lower,
            email: email.as_ref().map(Email::as_str),
            password_hash: hash,
        };
        let history = UserHistory {
            created_at: u.created_at,
            last_login_at: u.last_login_at,
            disabled_at: u.disabled_at,
        };
        User::insert_with_history(conn, &new, &history)?;
        let mut roles = vec![RoleName::USER];
        roles.extend_from_slice(p.roles);
        let granted_by = (u.person != 0).then_some(ids[0]);
        User::grant_roles(conn, u.id, &roles, granted_by)?;
    }

    for s in &plan.sessions {
        let dashboard = s.kind == Session::KIND_DASHBOARD;
        let (_, cookie_hash) = new_secret()?;
        let (csrf_token, _) = new_secret()?;
        let new = NewSession {
            id: s.id,
            user_id: ids[s.person],
            kind: s.kind,
            expires_at: s.expires_at,
            user_agent: Some(s.user_agent),
            ip: Some(&s.ip),
            cookie_hash: dashboard.then_some(&cookie_hash[..]),
            csrf_token: dashboard.then_some(&csrf_token[..]),
        };
        let history = SessionHistory {
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            revoked: s.revoked,
        };
        Session::insert_with_history(conn, &new, &history)?;
    }

    for e in &plan.events {
        let entry = audit::Entry {
            event: e.event,
            actor_id: id(e.actor),
            subject_id: id(e.subject),
            client: &client(&e.ip, e.user_agent),
            detail: e.detail.clone(),
        };
        audit::record_at(conn, entry, e.at)?;
    }

    Ok(Seeded {
        users: plan.users.len(),
        roles: org::ROLES.len(),
        sessions: plan.sessions.len(),
        live_sessions: plan.sessions.iter().filter(|s| s.live_at(plan.now)).count(),
        events: plan.events.len(),
        admin: ADMIN,
        password: String::new(),
    })
}
