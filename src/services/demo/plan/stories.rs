//! The moments of the demo history worth a line in the audit log: role changes, a lost phone, a
//! stolen refresh token, someone leaving, a night of password guessing, a password change, a
//! session ended by its owner.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{PlannedSession, Planner, Rng, client_of, reason};
use crate::db::models::session::Session;
use crate::services::audit::event;
use crate::services::demo::org::{self, Device, PEOPLE};

impl Planner {
    /// An administrator signs in to the dashboard `minutes` before `at`; returns the client.
    fn admin_at_desk(
        &mut self,
        admin: &str,
        at: DateTime<Utc>,
        minutes: i64,
    ) -> (String, &'static str) {
        let person = org::index_of(admin);
        let device = PEOPLE[person].devices[0];
        let opened = at - Duration::minutes(minutes);
        let s = self.login(person, device, Session::KIND_DASHBOARD, opened, None);
        let s = &self.plan.sessions[s];
        (s.ip.clone(), s.user_agent)
    }

    /// Ends the sessions of `person` that `which` picks among those live at `at`; their ids.
    fn end_sessions(
        &mut self,
        person: usize,
        at: DateTime<Utc>,
        why: &'static str,
        which: impl Fn(&PlannedSession) -> bool,
    ) -> Vec<Uuid> {
        let mut ended = Vec::new();
        for s in self.plan.sessions.iter_mut() {
            if s.person == person && s.live_at(at) && which(s) {
                s.revoked = Some((at, why));
                s.last_used_at = s.last_used_at.min(at);
                ended.push(s.id);
            }
        }
        // A logout that the plan had for later never happened.
        self.plan.events.retain(|e| {
            e.event != event::LOGOUT
                || !e.detail["sessions"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|id| ended.iter().any(|e| json!(e) == *id)))
        });
        ended
    }

    /// The moments worth a line in the audit log.
    pub(super) fn stories(&mut self) {
        let who = |a: &str, s: &str| (Some(org::index_of(a)), Some(org::index_of(s)));

        // Kofi joins support.
        self.rng = Rng::keyed(&[4, 1]);
        let at = self.at(10, 9, 12);
        let client = self.admin_at_desk("mgarcia", at, 6);
        let detail = json!({ "before": ["user"], "after": ["support", "user"] });
        self.event(
            at,
            event::ROLES_CHANGED,
            who("mgarcia", "kmensah"),
            client,
            detail,
        );

        // Priya lost her phone: the support lead ends that session.
        self.rng = Rng::keyed(&[4, 2]);
        let at = self.at(9, 8, 47);
        let client = self.admin_at_desk("mgarcia", at, 4);
        let praman = org::index_of("praman");
        let ended = self.end_sessions(praman, at, reason::BY_ADMIN, |s| {
            s.user_agent == Device::SafariIphone.user_agent()
        });
        let detail = json!({ "sessions": ended, "reason": reason::BY_ADMIN });
        self.event(
            at,
            event::SESSIONS_REVOKED,
            who("mgarcia", "praman"),
            client,
            detail,
        );

        // A copied refresh token of Noah's phone app comes back from elsewhere.
        self.rng = Rng::keyed(&[4, 3]);
        let at = self.at(8, 22, 13);
        let nwilliams = org::index_of("nwilliams");
        let ended = self.end_sessions(nwilliams, at, reason::REUSE, |s| {
            s.user_agent == Device::AndroidApp.user_agent()
        });
        if let Some(id) = ended.first() {
            let client = ("203.0.113.199".to_owned(), Device::AndroidApp.user_agent());
            let detail = json!({ "session_id": id });
            self.event(
                at,
                event::REFRESH_REUSE_DETECTED,
                (None, Some(nwilliams)),
                client,
                detail,
            );
        }

        // Hannah joins the auditors.
        self.rng = Rng::keyed(&[4, 4]);
        let at = self.at(7, 13, 30);
        let client = self.admin_at_desk("mgarcia", at, 9);
        let detail = json!({ "before": ["user"], "after": ["auditor", "user"] });
        self.event(
            at,
            event::ROLES_CHANGED,
            who("mgarcia", "hschmidt"),
            client,
            detail,
        );

        // Ethan leaves the company.
        self.rng = Rng::keyed(&[4, 5]);
        let ebrown = org::index_of("ebrown");
        let at = self.user(ebrown).disabled_at.unwrap_or(self.now);
        let client = self.admin_at_desk("jokafor", at, 3);
        let ended = self.end_sessions(ebrown, at, reason::DISABLED, |_| true);
        let detail = json!({ "sessions_revoked": ended.len() });
        self.event(
            at,
            event::USER_DISABLED,
            who("jokafor", "ebrown"),
            client,
            detail,
        );

        // Someone tries common names and passwords, at night, from one address.
        self.rng = Rng::keyed(&[4, 6]);
        let names = [
            "admin",
            "root",
            "administrator",
            "test",
            "mgarcia",
            "admin",
            "jokafor",
            "support",
            "billing",
            "guest",
            "praman",
            "admin",
        ];
        let mut at = self.at(5, 3, 12);
        for name in names {
            let known = PEOPLE.iter().position(|p| p.username == name);
            let client = ("192.0.2.200".to_owned(), "python-requests/2.31.0");
            let detail = json!({ "username": name, "reason": "invalid_credentials" });
            self.event(at, event::LOGIN_FAILED, (known, known), client, detail);
            at += Duration::seconds(40 + self.rng.below(140));
        }

        // Ethan's phone still tries to sign in.
        self.rng = Rng::keyed(&[4, 7]);
        let at = self.at(4, 7, 55);
        let client = client_of(ebrown, Device::SafariIphone, at);
        let detail = json!({ "reason": "account_disabled" });
        self.event(
            at,
            event::LOGIN_FAILED,
            (Some(ebrown), Some(ebrown)),
            client,
            detail,
        );

        // The last three happened in the hours before the demo was seeded, so that the top of
        // the audit log shows more than logins.
        // Olga takes over the invoices.
        self.rng = Rng::keyed(&[4, 8]);
        let at = self.ago(160);
        let client = self.admin_at_desk("jokafor", at, 12);
        let detail = json!({ "before": ["user"], "after": ["billing", "user"] });
        self.event(
            at,
            event::ROLES_CHANGED,
            who("jokafor", "onowak"),
            client,
            detail,
        );

        // Tom changes his password: his other sessions end.
        self.rng = Rng::keyed(&[4, 9]);
        let tbecker = org::index_of("tbecker");
        let at = self.ago(85);
        let kept = self.login(
            tbecker,
            Device::FirefoxLinux,
            Session::KIND_API,
            at - Duration::minutes(15),
            None,
        );
        let kept_id = self.plan.sessions[kept].id;
        let ended = self.end_sessions(tbecker, at, reason::PASSWORD, |s| s.id != kept_id);
        let s = &self.plan.sessions[kept];
        let client = (s.ip.clone(), s.user_agent);
        let detail = json!({ "sessions_revoked": ended.len() });
        self.event(
            at,
            event::PASSWORD_CHANGED,
            who("tbecker", "tbecker"),
            client,
            detail,
        );

        // Zoe ends the session of a phone she no longer uses.
        self.rng = Rng::keyed(&[4, 10]);
        let zmartin = org::index_of("zmartin");
        let at = self.ago(35);
        let current = self.login(
            zmartin,
            Device::SafariMac,
            Session::KIND_API,
            at - Duration::minutes(2),
            None,
        );
        let current_id = self.plan.sessions[current].id;
        let ended = self.end_sessions(zmartin, at, reason::BY_USER, |s| {
            s.id != current_id && s.user_agent == Device::SafariIphone.user_agent()
        });
        let s = &self.plan.sessions[current];
        let client = (s.ip.clone(), s.user_agent);
        let detail = json!({ "sessions": ended, "reason": reason::BY_USER });
        self.event(
            at,
            event::SESSIONS_REVOKED,
            who("zmartin", "zmartin"),
            client,
            detail,
        );
    }
}
