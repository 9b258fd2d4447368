//! Findings of a black-box attack run: ambiguous credentials, cross-origin forms, what a failed
//! login leaves in the audit log, caching, invisible characters.

use reqwest::{Method, StatusCode};

use crate::dashboard::Browser;
use crate::helpers::{ADMIN, PASSWORD, assert_problem, spawn_admin_app, spawn_app};

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
