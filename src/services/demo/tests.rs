//! The planned history: deterministic, never in the future, consistent, and with a shape worth
//! a chart.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use ipnet::IpNet;

use super::org::{self, PEOPLE};
use super::plan::{Lifetimes, Plan, WINDOW_DAYS, plan};
use crate::services::audit::{EVENTS, event};

const LIFE: Lifetimes = Lifetimes {
    api: Duration::days(30),
    dashboard: Duration::hours(12),
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 15, 42, 7).unwrap()
}

fn per_day(plan: &Plan, name: &str) -> HashMap<NaiveDate, usize> {
    let mut days = HashMap::new();
    for e in plan.events.iter().filter(|e| e.event == name) {
        *days.entry(e.at.date_naive()).or_default() += 1;
    }
    days
}

#[test]
fn the_same_instant_gives_the_same_history() {
    let shape = |p: &Plan| {
        p.events
            .iter()
            .map(|e| (e.at, e.event, e.actor, e.subject, e.ip.clone()))
            .collect::<Vec<_>>()
    };
    let (a, b) = (plan(now(), LIFE), plan(now(), LIFE));
    assert_eq!(shape(&a), shape(&b));
    assert_eq!(a.sessions.len(), b.sessions.len());
    // An hour later, the days before today are still the same.
    let later = plan(now() + Duration::hours(1), LIFE);
    let before_today = |p: &Plan| {
        let mut s = shape(p);
        s.retain(|e| e.0.date_naive() < now().date_naive() - Duration::days(1));
        s
    };
    assert_eq!(before_today(&a), before_today(&later));
}

#[test]
fn nothing_happens_after_now_and_every_session_is_in_order() {
    for hour in [0, 3, 9, 23] {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, hour, 30, 0).unwrap();
        let p = plan(now, LIFE);
        assert!(p.events.iter().all(|e| e.at <= now));
        for s in &p.sessions {
            assert!(
                s.created_at <= s.last_used_at && s.last_used_at <= now,
                "{}",
                s.id
            );
            assert!(s.expires_at > s.created_at);
            if let Some((at, _)) = s.revoked {
                assert!(s.created_at <= at && at <= now && s.last_used_at <= at);
            }
            let user = &p.users[s.person];
            assert!(
                user.created_at <= s.created_at,
                "{}",
                PEOPLE[s.person].username
            );
            assert!(user.disabled_at.is_none_or(|d| s.created_at < d));
            if let Some(disabled) = user.disabled_at {
                assert!(s.revoked.is_some() || s.expires_at <= disabled);
            }
        }
        for u in &p.users {
            assert!(
                u.last_login_at
                    .is_none_or(|l| l <= now && l >= u.created_at)
            );
        }
    }
}

#[test]
fn the_overview_chart_has_a_shape() {
    let p = plan(now(), LIFE);
    let ok = per_day(&p, event::LOGIN_SUCCEEDED);
    let failed = per_day(&p, event::LOGIN_FAILED);
    let days: Vec<NaiveDate> = (0..WINDOW_DAYS)
        .map(|back| now().date_naive() - Duration::days(back))
        .collect();
    assert!(
        days.iter().all(|d| ok.get(d).copied().unwrap_or(0) > 0),
        "{ok:?}"
    );
    let weekend = |d: &&NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let mean = |days: Vec<&NaiveDate>| {
        days.iter()
            .map(|d| ok.get(*d).copied().unwrap_or(0))
            .sum::<usize>()
            / days.len().max(1)
    };
    let (weekends, workdays): (Vec<_>, Vec<_>) = days[1..].iter().partition(weekend);
    assert!(mean(workdays) > 2 * mean(weekends).max(1), "{ok:?}");
    // The night of guessing stands out among the failed logins.
    let worst = failed.values().max().copied().unwrap_or(0);
    assert!(worst >= 10 && failed.values().filter(|n| **n >= 10).count() == 1);
    assert!(
        failed.len() >= 7,
        "failed logins on several days: {failed:?}"
    );
}

#[test]
fn the_organisation_is_realistic_and_valid() {
    use crate::domain::{Email, RoleName, Username};
    assert!((25..=40).contains(&PEOPLE.len()));
    assert_eq!(PEOPLE[0].username, org::ADMIN);
    for p in PEOPLE {
        Username::parse(p.username).unwrap();
        if let Some(e) = p.email {
            assert!(Email::parse(e).unwrap().as_str().ends_with("@example.org"));
        }
        for r in p.roles {
            assert!(*r == RoleName::ADMIN || org::ROLES.iter().any(|(n, _)| n == r));
        }
    }
    for (name, description) in org::ROLES {
        assert_eq!(RoleName::parse(name).unwrap().as_str(), *name);
        assert!(!description.is_empty() && description.len() <= 200);
    }
    let p = plan(now(), LIFE);
    assert!(p.users.iter().filter(|u| u.disabled_at.is_some()).count() >= 2);
    assert!(p.sessions.iter().filter(|s| s.revoked.is_some()).count() >= 10);
    assert!(p.sessions.iter().filter(|s| s.live_at(now())).count() >= 20);
    let agents: std::collections::HashSet<_> = p.sessions.iter().map(|s| s.user_agent).collect();
    assert!(agents.len() >= 8, "{agents:?}");
    for e in &p.events {
        assert!(EVENTS.contains(&e.event), "{}", e.event);
    }
    for name in [
        event::ROLES_CHANGED,
        event::SESSIONS_REVOKED,
        event::USER_DISABLED,
    ] {
        assert!(p.events.iter().any(|e| e.event == name), "{name}");
    }
}

#[test]
fn every_address_is_in_a_documentation_range() {
    let ranges: Vec<IpNet> = [
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "2001:db8::/32",
    ]
    .iter()
    .map(|r| r.parse().unwrap())
    .collect();
    let p = plan(now(), LIFE);
    let addresses = p
        .sessions
        .iter()
        .map(|s| s.ip.as_str())
        .chain(p.events.iter().map(|e| e.ip.as_str()))
        .filter(|ip| !ip.is_empty());
    for ip in addresses {
        let ip: IpAddr = ip
            .parse()
            .unwrap_or_else(|_| panic!("{ip:?} is not an address"));
        assert!(ranges.iter().any(|r| r.contains(&ip)), "{ip}");
    }
}
