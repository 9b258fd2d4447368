//! Races between requests in flight and the change that should end what they obtain: logins
//! against a password change and against disabling the account, refreshes against removing a
//! role. Each test keeps `IN_FLIGHT` requests going around the change, `ROUNDS` times, and then
//! checks that nothing those requests obtained outlives the change.

use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Barrier;

use crate::helpers::{PASSWORD, TestApp, TokenPair, spawn_admin_app, spawn_app};

const IN_FLIGHT: usize = 8;
const ROUNDS: usize = 3;

/// What one loop got back: every token pair a request in flight was granted.
type Won = Vec<TokenPair>;

/// Keeps a request in flight from each of `IN_FLIGHT` loops until the change has been answered:
/// each loop sends one request, meets the others and the change at a barrier, then sends request
/// after request, and stops after the first one it sent once the change was answered. `attempt`
/// is one request of loop `i`; it returns the pair a success granted.
async fn around_change<A, AF, C, CF>(attempt: A, change: C) -> Won
where
    A: Fn(usize) -> AF,
    AF: Future<Output = Option<TokenPair>>,
    C: FnOnce() -> CF,
    CF: Future<Output = ()>,
{
    let barrier = Barrier::new(IN_FLIGHT + 1);
    let changed = AtomicBool::new(false);
    let (barrier, changed, attempt) = (&barrier, &changed, &attempt);
    let loops = join_all((0..IN_FLIGHT).map(|i| async move {
        let mut won = Vec::new();
        let mut first = true;
        loop {
            let last = changed.load(Ordering::SeqCst);
            won.extend(attempt(i).await);
            if first {
                barrier.wait().await;
                first = false;
            } else if last {
                return won;
            }
        }
    }));
    let change = async move {
        barrier.wait().await;
        change().await;
        changed.store(true, Ordering::SeqCst);
    };
    let (won, ()) = tokio::join!(loops, change);
    won.into_iter().flatten().collect()
}

/// A login's pair on `200`; `None` for a refusal the change explains.
async fn try_login(app: &TestApp, username: &str, password: &str) -> Option<TokenPair> {
    // The logins in flight come from the attacker's address, the changes from the owner's: one
    // address holds only a share of the hashing queue.
    let res = app
        .login_from_address("192.0.2.66", username, password)
        .await;
    match res.status() {
        StatusCode::OK => Some(res.json().await.unwrap()),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => None,
        other => panic!("login answered {other}"),
    }
}

/// How many of these sessions still let someone in: the access token passes, or the refresh token
/// is still accepted.
async fn survivors(app: &TestApp, won: &[TokenPair]) -> usize {
    let mut alive = 0;
    for pair in won {
        let access = app.me_status(&pair.access_token).await == StatusCode::OK;
        let refresh = app.refresh_status(&pair.refresh_token).await == StatusCode::OK;
        alive += usize::from(access || refresh);
    }
    alive
}

#[tokio::test]
async fn no_session_of_a_login_in_flight_with_the_old_password_outlives_a_password_change() {
    let app = spawn_app().await;
    let owner = app.signed_in_user("alice").await;
    let (mut total, mut alive) = (0, 0);
    let mut password = PASSWORD.to_owned();
    for round in 0..ROUNDS {
        let next = format!("{PASSWORD} round {round}");
        let won = around_change(
            |_| try_login(&app, "alice", &password),
            || async {
                let body = json!({ "current_password": password, "new_password": next });
                let res = app.post_password(&owner.access_token, &body).await;
                assert_eq!(res.status(), StatusCode::NO_CONTENT);
            },
        )
        .await;
        total += won.len();
        alive += survivors(&app, &won).await;
        password = next;
    }
    eprintln!("login vs password change: {alive} of {total} sessions survived");
    assert_eq!(alive, 0, "{alive} of {total} sessions survived the change");
    // The owner's own session lives on.
    assert_eq!(app.me_status(&owner.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn no_session_of_a_login_in_flight_outlives_disabling_the_account_even_after_enabling() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let alice = app.signed_in_user("alice").await;
    let (mut total, mut alive, mut alive_after_enable) = (0, 0, 0);
    for _ in 0..ROUNDS {
        let won = around_change(
            |_| try_login(&app, "alice", PASSWORD),
            || async {
                let res = app.post_admin_disable(&admin.access_token, &alice.id).await;
                assert_eq!(res.status(), StatusCode::OK);
            },
        )
        .await;
        total += won.len();
        alive += survivors(&app, &won).await;
        let res = app.post_admin_enable(&admin.access_token, &alice.id).await;
        assert_eq!(res.status(), StatusCode::OK);
        alive_after_enable += survivors(&app, &won).await;
    }
    eprintln!(
        "login vs disable: {alive} of {total} sessions survived, {alive_after_enable} after enable"
    );
    assert_eq!(alive, 0, "{alive} of {total} sessions survived the disable");
    assert_eq!(
        alive_after_enable, 0,
        "{alive_after_enable} of {total} sessions came back with the enable"
    );
}

#[tokio::test]
async fn no_token_of_a_refresh_in_flight_keeps_a_removed_role() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let bob = app.signed_in_user("bob").await;
    let grant = |roles: &[&str]| {
        let body = json!({ "roles": roles });
        let (token, id) = (admin.access_token.clone(), bob.id.clone());
        let app = &app;
        async move {
            let res = app.put_admin_user_roles(&token, &id, &body).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
    };
    grant(&["admin", "user"]).await;
    // One session per loop; each loop refreshes its own, rotation after rotation.
    let mut chains = Vec::new();
    for _ in 0..IN_FLIGHT {
        chains.push(std::sync::Mutex::new(
            app.log_in_as("bob").await.refresh_token,
        ));
    }
    let (chains, app) = (&chains, &app);
    let (mut total, mut kept_admin) = (0, 0);
    for _ in 0..ROUNDS {
        let won = around_change(
            |i| async move {
                let current = chains[i].lock().unwrap().clone();
                let res = app.refresh(&current).await;
                assert_eq!(
                    res.status(),
                    StatusCode::OK,
                    "a role change ends no session"
                );
                let pair: TokenPair = res.json().await.unwrap();
                pair.refresh_token
                    .clone_into(&mut chains[i].lock().unwrap());
                Some(pair)
            },
            || grant(&["user"]),
        )
        .await;
        total += won.len();
        for pair in &won {
            let res = app.get_admin_users(&pair.access_token, "").await;
            kept_admin += usize::from(res.status() == StatusCode::OK);
        }
        grant(&["admin", "user"]).await;
    }
    eprintln!("refresh vs role removal: {kept_admin} of {total} tokens kept admin");
    assert_eq!(kept_admin, 0, "{kept_admin} of {total} tokens kept admin");
}
