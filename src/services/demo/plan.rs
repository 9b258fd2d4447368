//! The demo organisation's history, planned in memory before anything is written: accounts,
//! sessions and two weeks of audit events, from a fixed seed, so that the same day gives the same
//! data (and the same screenshots). Nothing here touches the database.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use serde_json::{Value, json};
use uuid::Uuid;

use super::org::{self, Device, PEOPLE, Place};

mod stories;
use crate::db::models::session::Session;
use crate::services::audit::event;

/// Days of activity (today included): the overview chart's span.
pub const WINDOW_DAYS: i64 = 14;

const SEED: u64 = 0x0a07_4d00_2026_0011;

/// SplitMix64: small, fast, and the same numbers on every machine.
struct Rng(u64);

impl Rng {
    /// A stream of its own for one piece of the history (an account, a person's day, a story),
    /// so that what one piece draws or skips never shifts another.
    fn keyed(parts: &[i64]) -> Self {
        let mut rng = Rng(SEED);
        for part in parts {
            rng.0 ^= *part as u64;
            rng.0 = rng.next();
        }
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0 to n - 1.
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n.max(1) as u64) as i64
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < i64::from(percent)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as i64) as usize]
    }
}

/// An account: its row's id and history. `person` is its index in `PEOPLE`.
pub struct PlannedUser {
    pub id: Uuid,
    pub person: usize,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

pub struct PlannedSession {
    pub id: Uuid,
    pub person: usize,
    pub kind: &'static str,
    pub user_agent: &'static str,
    pub ip: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: Option<(DateTime<Utc>, &'static str)>,
}

impl PlannedSession {
    /// Opened by `at`, and neither expired nor revoked then.
    pub fn live_at(&self, at: DateTime<Utc>) -> bool {
        self.created_at <= at && self.expires_at > at && self.revoked.is_none_or(|(r, _)| r > at)
    }
}

pub struct PlannedEvent {
    pub at: DateTime<Utc>,
    pub event: &'static str,
    pub actor: Option<usize>,
    pub subject: Option<usize>,
    pub ip: String,
    pub user_agent: &'static str,
    pub detail: Value,
}

pub struct Plan {
    /// The instant the history leads up to.
    pub now: DateTime<Utc>,
    pub users: Vec<PlannedUser>,
    pub sessions: Vec<PlannedSession>,
    pub events: Vec<PlannedEvent>,
}

/// Lifetimes of new sessions, as the service is configured.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub api: Duration,
    pub dashboard: Duration,
}

/// The reasons a session ends, as the services record them.
mod reason {
    pub const LOGOUT: &str = "logout";
    pub const BY_USER: &str = "revoked_by_user";
    pub const BY_ADMIN: &str = "revoked_by_admin";
    pub const DISABLED: &str = "user_disabled";
    pub const PASSWORD: &str = "password_changed";
    pub const REUSE: &str = "refresh_reuse";
}

/// A uuid v7 that carries `at`, as if it had been made then.
fn id_at(at: DateTime<Utc>) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp().max(0) as u64,
        at.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(ts)
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Where `person` is with `device` at `at`: the office during working hours, else elsewhere.
fn client_of(person: usize, device: Device, at: DateTime<Utc>) -> (String, &'static str) {
    let day = at.timestamp().div_euclid(86_400);
    let at_office = !is_weekend(at.date_naive()) && (7..18).contains(&at.hour());
    (
        org::address(person, device, day, at_office),
        device.user_agent(),
    )
}

struct Planner {
    rng: Rng,
    now: DateTime<Utc>,
    today: NaiveDate,
    life: Lifetimes,
    plan: Plan,
}

/// The whole history, as of `now`: nothing in it is later.
pub fn plan(now: DateTime<Utc>, life: Lifetimes) -> Plan {
    let mut p = Planner {
        rng: Rng::keyed(&[]),
        now,
        today: now.date_naive(),
        life,
        plan: Plan {
            now,
            users: Vec::new(),
            sessions: Vec::new(),
            events: Vec::new(),
        },
    };
    p.accounts();
    p.long_lived_sessions();
    for back in (0..WINDOW_DAYS).rev() {
        p.ordinary_day(p.today - Duration::days(back));
    }
    p.stories();
    p.finish();
    p.plan
}

impl Planner {
    /// `days` days ago at `hour`:`minute` UTC, plus a few seconds so that nothing is round.
    fn at(&mut self, days: i64, hour: i64, minute: i64) -> DateTime<Utc> {
        midnight(self.today - Duration::days(days))
            + Duration::minutes(hour * 60 + minute)
            + Duration::seconds(self.rng.below(60))
    }

    /// `minutes` before now, give or take a few seconds.
    fn ago(&mut self, minutes: i64) -> DateTime<Utc> {
        self.now - Duration::minutes(minutes) - Duration::seconds(self.rng.below(60))
    }

    fn user(&self, person: usize) -> &PlannedUser {
        &self.plan.users[person]
    }

    /// Active at `at`: created before, not disabled yet.
    fn can_sign_in(&self, person: usize, at: DateTime<Utc>) -> bool {
        let u = self.user(person);
        u.created_at < at && u.disabled_at.is_none_or(|d| d > at)
    }

    fn event(
        &mut self,
        at: DateTime<Utc>,
        event: &'static str,
        (actor, subject): (Option<usize>, Option<usize>),
        (ip, user_agent): (String, &'static str),
        detail: Value,
    ) {
        self.plan.events.push(PlannedEvent {
            at,
            event,
            actor,
            subject,
            ip,
            user_agent,
            detail,
        });
    }

    fn accounts(&mut self) {
        for (person, p) in PEOPLE.iter().enumerate() {
            self.rng = Rng::keyed(&[1, person as i64]);
            let (hour, minute) = (9 + self.rng.below(6), self.rng.below(60));
            let created_at = self.at(p.joined, hour, minute);
            let disabled_at = match p.username {
                "cdubois" => Some(self.at(40, 16, 5)),
                "ebrown" => Some(self.at(6, 14, 21)),
                _ => None,
            };
            self.plan.users.push(PlannedUser {
                id: id_at(created_at),
                person,
                created_at,
                disabled_at,
                last_login_at: None,
            });
            let who = (Some(person), Some(person));
            if person == 0 {
                let detail = json!({ "username": p.username });
                self.event(
                    created_at,
                    event::ADMIN_BOOTSTRAPPED,
                    (None, who.1),
                    (String::new(), ""),
                    detail,
                );
            } else if p.joined < WINDOW_DAYS {
                let client = client_of(person, p.devices[0], created_at);
                let detail = json!({ "username": p.username });
                self.event(created_at, event::REGISTERED, who, client, detail);
            }
        }
    }

    /// Opens a session with its login event; `end` is when and why it ended, if it did.
    fn login(
        &mut self,
        person: usize,
        device: Device,
        kind: &'static str,
        at: DateTime<Utc>,
        end: Option<(DateTime<Utc>, &'static str)>,
    ) -> usize {
        let (ip, user_agent) = client_of(person, device, at);
        let ttl = if kind == Session::KIND_DASHBOARD {
            self.life.dashboard
        } else {
            self.life.api
        };
        let expires_at = at + ttl;
        let end = end.map(|(e, why)| (e.min(expires_at), why));
        let last_used_at = match end {
            Some((e, _)) => e,
            None => {
                let until = self.now.min(expires_at);
                let span = (until - at).num_minutes().max(1);
                // Clients that keep refreshing were used lately; left browsers stopped early.
                if kind == Session::KIND_API {
                    until - Duration::minutes(self.rng.below(span.min(600)))
                } else {
                    at + Duration::minutes(self.rng.below(span.min(45)))
                }
            }
        };
        let id = id_at(at);
        let client = (ip.clone(), user_agent);
        let who = (Some(person), Some(person));
        self.event(
            at,
            event::LOGIN_SUCCEEDED,
            who,
            client.clone(),
            json!({ "session_id": id, "kind": kind }),
        );
        if let Some((e, reason::LOGOUT)) = end {
            self.event(
                e,
                event::LOGOUT,
                who,
                client,
                json!({ "sessions": [id], "reason": reason::LOGOUT }),
            );
        }
        self.plan.sessions.push(PlannedSession {
            id,
            person,
            kind,
            user_agent,
            ip,
            created_at: at,
            last_used_at: last_used_at.max(at),
            expires_at,
            revoked: end,
        });
        self.plan.sessions.len() - 1
    }

    /// A wrong password, or the name part of the mail address typed as the username, just
    /// before `at`.
    fn typo(&mut self, person: usize, device: Device, at: DateTime<Utc>) {
        let p = &PEOPLE[person];
        let at = at - Duration::seconds(20 + self.rng.below(100));
        let client = client_of(person, device, at);
        let (typed, subject) = match p.email {
            Some(email) if self.rng.chance(25) => (email.split('@').next().unwrap_or(email), None),
            _ => (p.username, Some(person)),
        };
        let detail = json!({ "username": typed, "reason": "invalid_credentials" });
        self.event(at, event::LOGIN_FAILED, (subject, subject), client, detail);
    }

    /// Phones and scripts stay signed in: one session each from before the window, in use still.
    fn long_lived_sessions(&mut self) {
        for (person, p) in PEOPLE.iter().enumerate() {
            for (n, &device) in p.devices.iter().enumerate() {
                if device.place() == Place::Desk || device == Device::Curl {
                    continue; // browsers sign out; a deploy job signs in for each run
                }
                self.rng = Rng::keyed(&[2, person as i64, n as i64]);
                let back = (15 + self.rng.below(12)).min(p.joined);
                let minute = 20 + self.rng.below(40);
                let at = self.at(back, p.hour as i64, minute);
                if self.can_sign_in(person, at) {
                    self.login(person, device, Session::KIND_API, at, None);
                }
            }
        }
    }

    /// Who signs in on `day`, from what, and whether they sign out again.
    fn ordinary_day(&mut self, day: NaiveDate) {
        let back = (self.today - day).num_days();
        let weekend = is_weekend(day);
        for (person, p) in PEOPLE.iter().enumerate() {
            // Keyed by the date: a day looks the same whenever the demo is seeded.
            self.rng = Rng::keyed(&[3, i64::from(day.num_days_from_ce()), person as i64]);
            let first_device = p.devices[0];
            let chance = if weekend { p.activity / 6 } else { p.activity };
            let active = self.rng.chance(chance);
            let minute = self.rng.below(100);
            let device = if self.rng.chance(70) {
                first_device
            } else {
                self.rng.pick(p.devices)
            };
            let typo = self.rng.chance(12);
            let signs_out = self.rng.chance(75);
            let day_len = 6 * 60 + self.rng.below(4 * 60);
            let dashboard = self.rng.chance(55) && !weekend;
            let dash_len = 10 + self.rng.below(50);
            let at = self.at(back, p.hour as i64, minute);

            if p.username == "ci-deploy" {
                // The nightly deploy job: sign in, deploy, sign out.
                let at = self.at(back, 2, 5);
                if at < self.now - Duration::minutes(10) {
                    let out = (at + Duration::minutes(3), reason::LOGOUT);
                    self.login(person, Device::Curl, Session::KIND_API, at, Some(out));
                }
                continue;
            }
            if !active || at > self.now - Duration::minutes(5) || !self.can_sign_in(person, at) {
                continue;
            }
            if typo {
                self.typo(person, device, at);
            }
            let end =
                (back > 0 && signs_out).then(|| (at + Duration::minutes(day_len), reason::LOGOUT));
            self.login(person, device, Session::KIND_API, at, end);
            if p.roles.contains(&"admin") && dashboard {
                let at = at + Duration::minutes(30 + minute);
                if at < self.now - Duration::minutes(5) {
                    let end =
                        (back > 0).then(|| (at + Duration::minutes(dash_len), reason::LOGOUT));
                    self.login(person, first_device, Session::KIND_DASHBOARD, at, end);
                }
            }
        }
    }

    /// Drops what lies in the future; sets each account's last login.
    fn finish(&mut self) {
        let now = self.now;
        self.plan.events.retain(|e| e.at <= now);
        self.plan.sessions.retain(|s| s.created_at <= now);
        for s in &mut self.plan.sessions {
            s.last_used_at = s.last_used_at.min(now);
            if s.revoked.is_some_and(|(at, _)| at > now) {
                s.revoked = None;
            }
        }
        let mut last: HashMap<usize, DateTime<Utc>> = HashMap::new();
        for e in self
            .plan
            .events
            .iter()
            .filter(|e| e.event == event::LOGIN_SUCCEEDED)
        {
            if let Some(person) = e.subject {
                let t = last.entry(person).or_insert(e.at);
                *t = (*t).max(e.at);
            }
        }
        for u in &mut self.plan.users {
            u.last_login_at = last.get(&u.person).copied();
        }
    }
}
