//! Findings of a black-box attack run: ambiguous credentials, cross-origin forms, what a failed
//! login leaves in the audit log, caching, invisible characters.

use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::{Method, StatusCode};

use crate::dashboard::{Browser, csrf_in};
use crate::helpers::{ADMIN, Count, PASSWORD, TestApp, assert_problem, spawn_admin_app, spawn_app};

#[tokio::test]
async fn two_authorization_headers_are_refused_whichever_comes_first() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let bob = app.signed_in_user("bob").await;
    let alice_header = format!("Bearer {}", alice.access_token);
    let bob_header = format!("Bearer {}", bob.access_token);
    for second in [bob_header.as_str(), "Bearer garbage", alice_header.as_str()] {
        for path in ["/api/auth/me", "/auth/verify"] {
            let res = app
                .send(
                    Method::GET,
                    path,
                    &[("authorization", &alice_header), ("authorization", second)],
                )
                .await;
            assert_problem(res, 401, "invalid_token").await;
        }
    }
}

#[tokio::test]
async fn two_dashboard_session_cookies_of_the_same_name_are_no_session() {
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    let res = b.try_login(ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let pair = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.contains("authd_session="))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("session cookie");
    let name = pair.split('=').next().unwrap();
    let one = app.send(Method::GET, "/admin", &[("cookie", &pair)]).await;
    assert_eq!(one.status(), StatusCode::OK);
    for cookies in [
        format!("{pair}; {name}=planted"),
        format!("{name}=planted; {pair}"),
        format!("{pair}; {pair}"),
    ] {
        let res = app
            .send(Method::GET, "/admin", &[("cookie", &cookies)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{cookies}");
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/admin/login")
        );
    }
}

#[tokio::test]
async fn verify_refuses_unknown_repeated_and_empty_parameters() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let bearer = format!("Bearer {}", alice.access_token);
    for query in [
        "role=",
        "roles=admin",
        "ROLE=admin",
        "role[]=admin",
        "role%5B%5D=admin",
        "role=user&role=admin",
        "role=user&x=1",
    ] {
        let res = app
            .send(
                Method::GET,
                &format!("/auth/verify?{query}"),
                &[("authorization", &bearer)],
            )
            .await;
        assert_problem(res, 400, "invalid_request").await;
    }
    let res = app
        .send(
            Method::GET,
            "/auth/verify?role=user",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn dashboard_forms_refuse_origin_null_even_with_the_right_token() {
    let app = spawn_admin_app().await;
    let alice = app.signed_in_user("alice").await;
    let b = Browser::new(&app);
    // The login form, with the token it was just given.
    let token = csrf_in(&b.html("/admin/login").await);
    let res = b
        .client
        .post(app.url("/admin/login"))
        .header("origin", "null")
        .form(&[
            ("username", ADMIN),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    b.login(ADMIN, PASSWORD).await;
    let path = format!("/admin/users/{}/disable", alice.id);
    let good = b.csrf().await;
    let null_origin = b
        .client
        .post(app.url(&path))
        .header("origin", "null")
        .form(&[("csrf_token", good.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(null_origin.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count("user_disabled"), 0);
    // The same form from this site's own origin goes through.
    let own = app.address.clone();
    let same_origin = b
        .client
        .post(app.url(&path))
        .header("origin", own)
        .form(&[("csrf_token", good.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("user_disabled"), 1);
}

/// `login_failed` events whose recorded username is exactly `name`.
fn failed_logins_recorded_as(app: &TestApp, name: &str) -> i64 {
    diesel::sql_query(
        "SELECT count(*) AS n FROM audit_events \
         WHERE event = 'login_failed' AND detail->>'username' = $1",
    )
    .bind::<Text, _>(name)
    .get_result::<Count>(&mut app.db.connect())
    .unwrap()
    .n
}

#[tokio::test]
async fn a_failed_login_records_only_a_name_that_could_be_a_username() {
    let app = spawn_app().await;
    let long = "x".repeat(65_000);
    for typed in ["my secret password!", long.as_str(), "al\u{202e}ice"] {
        let res = app.login(typed, "whatever-it-is-123").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(failed_logins_recorded_as(&app, typed), 0);
    }
    assert_eq!(failed_logins_recorded_as(&app, "(not a valid username)"), 3);
    let res = app.login("nobody.here", "whatever-it-is-123").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(failed_logins_recorded_as(&app, "nobody.here"), 1);
    let longest = diesel::sql_query(
        "SELECT coalesce(max(length(detail::text)), 0)::bigint AS n FROM audit_events",
    )
    .get_result::<Count>(&mut app.db.connect())
    .unwrap()
    .n;
    assert!(longest < 200, "an audit detail of {longest} characters");
}

#[tokio::test]
async fn emails_and_usernames_with_invisible_format_characters_are_refused() {
    let app = spawn_app().await;
    for email in [
        "alice\u{202e}gro.elpmaxe@x.org",
        "ali\u{200b}ce@example.org",
        "alice@example.org\u{feff}",
        "alice@exa\u{2066}mple.org",
    ] {
        let res = app
            .post_register(&serde_json::json!({
                "username": "alice", "password": PASSWORD, "email": email,
            }))
            .await;
        assert_problem(res, 400, "invalid_request").await;
    }
    let res = app
        .post_register(&serde_json::json!({ "username": "ali\u{202e}ce", "password": PASSWORD }))
        .await;
    assert_problem(res, 400, "invalid_request").await;
    let res = app
        .post_register(&serde_json::json!({
            "username": "alice", "password": PASSWORD, "email": "alice@example.org",
        }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn authenticated_json_is_never_stored_by_a_cache() {
    let app = spawn_admin_app().await;
    let alice = app.signed_in_user("alice").await;
    let admin = app.signed_in_admin().await;
    let answers = [
        app.get_me(&alice.access_token).await,
        app.get_sessions(&alice.access_token).await,
        app.get_admin_users(&admin.access_token, "").await,
        app.get_admin_user(&admin.access_token, &alice.id).await,
        app.get_admin_roles(&admin.access_token).await,
        app.get_me("not-a-token").await,
    ];
    for res in answers {
        let url = res.url().clone();
        assert_eq!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{url}"
        );
    }
}

#[tokio::test]
async fn static_assets_are_cached_for_a_year_but_their_errors_are_not() {
    let app = spawn_app().await;
    let res = app.get("/static/admin.css").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    for missing in ["/static/nope.css", "/static/sub/missing.svg"] {
        let res = app.get(missing).await;
        assert!(res.status().is_client_error(), "{missing}");
        assert_eq!(res.headers()["cache-control"], "no-store", "{missing}");
    }
}

/// A sign-in POST with `token` both as the CSRF cookie and as the field.
async fn sign_in_with_pair(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/admin/login"))
        .header("cookie", format!("authd_login_csrf={token}"))
        .form(&[
            ("username", ADMIN),
            ("password", PASSWORD),
            ("csrf_token", token),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sign_in_form_takes_only_csrf_tokens_authd_signed_on_any_instance() {
    let app = spawn_admin_app().await;
    // A cookie and field pair of the attacker's own making matches, but authd never issued it.
    for made_up in ["forged", "AAAAAAAAAAAAAAAAAAAAAA.99999999999.AAAA", "a.b.c"] {
        let res = sign_in_with_pair(&app, made_up).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{made_up}");
    }
    // A form served by another instance on the same database signs in here (a load balancer).
    let other = app.second_instance().await;
    let html = other.get("/admin/login").await.text().await.unwrap();
    let token = csrf_in(&html);
    let res = sign_in_with_pair(&app, &token).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/admin");
    // Its signature covers the whole token: altering the expiry breaks it.
    let (nonce, rest) = token.split_once('.').unwrap();
    let (_, tag) = rest.split_once('.').unwrap();
    let altered = format!("{nonce}.99999999999.{tag}");
    assert_eq!(
        sign_in_with_pair(&app, &altered).await.status(),
        StatusCode::FORBIDDEN
    );
}
