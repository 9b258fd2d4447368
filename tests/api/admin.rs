//! The admin JSON API: gated by the admin role, with the guard rails around the last admin.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN, PASSWORD, TestApp, access, assert_problem, refresh_of, spawn_admin_app,
};

async fn user_id(app: &TestApp, token: &str) -> String {
    let me: Value = app.me(token).await.json().await.unwrap();
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_non_admin_gets_403_insufficient_role_on_every_admin_route() {
    let app = spawn_admin_app().await;
    let pair = app.user_with_tokens("alice").await;
    let token = access(&pair);
    let id = user_id(&app, token).await;
    let routes = [
        (Method::GET, "/api/admin/users".to_owned(), None),
        (Method::GET, format!("/api/admin/users/{id}"), None),
        (
            Method::PUT,
            format!("/api/admin/users/{id}/roles"),
            Some(json!({ "roles": ["admin"] })),
        ),
        (Method::POST, format!("/api/admin/users/{id}/disable"), None),
        (Method::POST, format!("/api/admin/users/{id}/enable"), None),
        (
            Method::DELETE,
            format!("/api/admin/users/{id}/sessions"),
            None,
        ),
        (
            Method::DELETE,
            format!(
                "/api/admin/sessions/{}",
                pair["session_id"].as_str().unwrap()
            ),
            None,
        ),
        (Method::GET, "/api/admin/roles".to_owned(), None),
        (
            Method::POST,
            "/api/admin/roles".to_owned(),
            Some(json!({ "name": "x", "description": "" })),
        ),
    ];
    for (method, path, body) in routes {
        let res = app.call(method.clone(), &path, token, body.clone()).await;
        assert_problem(res, 403, "insufficient_role").await;
        // Without any token: 401.
        let mut anonymous = app.client.request(method, app.url(&path));
        if let Some(body) = body {
            anonymous = anonymous.json(&body);
        }
        assert_problem(anonymous.send().await.unwrap(), 401, "invalid_token").await;
    }
    // None of it happened.
    let me: Value = app.me(token).await.json().await.unwrap();
    assert_eq!(me["roles"], json!(["user"]));
}

#[tokio::test]
async fn users_can_be_searched_filtered_and_paged_without_overlap() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    for i in 0..25 {
        let body = json!({ "username": format!("member{i:02}"), "password": PASSWORD, "email": format!("m{i}@corp.example") });
        assert_eq!(
            app.post_json("/api/auth/register", &body).await.status(),
            StatusCode::CREATED
        );
    }
    app.register("outsider", PASSWORD).await;

    let page = |query: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let res = app
                .call(
                    Method::GET,
                    &format!("/api/admin/users{query}"),
                    &admin,
                    None,
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };

    let all = page(String::new()).await;
    assert_eq!(all["total"], 27);
    assert_eq!(all["page"], 1);
    assert_eq!(all["per_page"], 20);
    assert_eq!(all["users"].as_array().unwrap().len(), 20);
    // Newest first.
    assert_eq!(all["users"][0]["username"], "outsider");

    let mut seen = std::collections::HashSet::new();
    for n in 1..=3 {
        let p = page(format!("?q=MEMBER&per_page=10&page={n}")).await;
        assert_eq!(p["total"], 25);
        for u in p["users"].as_array().unwrap() {
            assert!(
                seen.insert(u["id"].as_str().unwrap().to_owned()),
                "{} on two pages",
                u["username"]
            );
        }
    }
    assert_eq!(seen.len(), 25);

    // Substring of the email; LIKE wildcards are literal.
    assert_eq!(page("?q=corp.example".into()).await["total"], 25);
    assert_eq!(page("?q=m1%40".into()).await["total"], 1);
    assert_eq!(page("?q=%25".into()).await["total"], 0);
    assert_eq!(page("?q=_".into()).await["total"], 0);
    assert_eq!(page("?role=admin".into()).await["total"], 1);
    assert_eq!(
        page("?role=admin".into()).await["users"][0]["username"],
        ADMIN
    );
    assert_eq!(page("?role=user&q=outsider".into()).await["total"], 1);
    // per_page is capped, page starts at 1.
    let capped = page("?per_page=1000&page=0".into()).await;
    assert_eq!(capped["per_page"], 100);
    assert_eq!(capped["page"], 1);
    assert_eq!(page("?page=99".into()).await["users"], json!([]));
    assert_problem(
        app.call(Method::GET, "/api/admin/users?page=abc", &admin, None)
            .await,
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn user_detail_includes_sessions_and_unknown_ids_are_404() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    let pair = app.user_with_tokens("alice").await;
    let id = user_id(&app, access(&pair)).await;
    let res = app
        .call(Method::GET, &format!("/api/admin/users/{id}"), &admin, None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["username"], "alice");
    assert_eq!(detail["roles"], json!(["user"]));
    assert_eq!(detail["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(detail["sessions"][0]["id"], pair["session_id"]);
    let missing = format!("/api/admin/users/{}", uuid::Uuid::now_v7());
    assert_problem(
        app.call(Method::GET, &missing, &admin, None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_role_change_voids_old_tokens_and_the_refreshed_token_carries_the_new_role() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    let created: Value = app
        .call(
            Method::POST,
            "/api/admin/roles",
            &admin,
            Some(json!({ "name": "billing", "description": "Sees invoices" })),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["name"], "billing");
    let pair = app.user_with_tokens("alice").await;
    let id = user_id(&app, access(&pair)).await;

    let res = app
        .call(
            Method::PUT,
            &format!("/api/admin/users/{id}/roles"),
            &admin,
            Some(json!({ "roles": ["user", "billing"] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["roles"], json!(["billing", "user"]));

    // The token issued before the change is refused on the very next request...
    assert_problem(app.me(access(&pair)).await, 401, "invalid_token").await;
    // ...the session lives on, and a refresh gives a token with the new role.
    let next: Value = app.refresh(refresh_of(&pair)).await.json().await.unwrap();
    let me: Value = app.me(access(&next)).await.json().await.unwrap();
    assert_eq!(me["roles"], json!(["billing", "user"]));
    let claims = access(&next).split('.').nth(1).unwrap().to_owned();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["roles"], json!(["billing", "user"]));
    assert_eq!(app.audit_count("roles_changed"), 1);
}

#[tokio::test]
async fn unknown_or_malformed_roles_are_refused_and_change_nothing() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    let pair = app.user_with_tokens("alice").await;
    let id = user_id(&app, access(&pair)).await;
    let path = format!("/api/admin/users/{id}/roles");
    for roles in [json!(["user", "wizard"]), json!(["Admin"]), json!([""])] {
        let res = app
            .call(Method::PUT, &path, &admin, Some(json!({ "roles": roles })))
            .await;
        assert_problem(res, 400, "invalid_request").await;
    }
    assert_problem(
        app.call(
            Method::PUT,
            &path,
            &admin,
            Some(json!({ "roles": "admin" })),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(app.me(access(&pair)).await.status(), StatusCode::OK);
    let missing = format!("/api/admin/users/{}/roles", uuid::Uuid::now_v7());
    assert_problem(
        app.call(
            Method::PUT,
            &missing,
            &admin,
            Some(json!({ "roles": ["user"] })),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_admin_cannot_demote_or_disable_themselves_and_the_last_admin_stays() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    let me = user_id(&app, &admin).await;
    let demote = app
        .call(
            Method::PUT,
            &format!("/api/admin/users/{me}/roles"),
            &admin,
            Some(json!({ "roles": ["user"] })),
        )
        .await;
    let body = assert_problem(demote, 400, "invalid_request").await;
    assert!(body["detail"].as_str().unwrap().contains("own admin role"));
    let disable = app
        .call(
            Method::POST,
            &format!("/api/admin/users/{me}/disable"),
            &admin,
            None,
        )
        .await;
    assert_problem(disable, 400, "invalid_request").await;
    assert_eq!(app.me(&admin).await.status(), StatusCode::OK);

    // A second admin; each demotes the other at the same moment: one must stay admin.
    let pair = app.user_with_tokens("deputy").await;
    let deputy_id = user_id(&app, access(&pair)).await;
    let grant = app
        .call(
            Method::PUT,
            &format!("/api/admin/users/{deputy_id}/roles"),
            &admin,
            Some(json!({ "roles": ["admin", "user"] })),
        )
        .await;
    assert_eq!(grant.status(), StatusCode::OK);
    let deputy: Value = app.login("deputy", PASSWORD).await.json().await.unwrap();
    let results = join_all([
        app.call(
            Method::PUT,
            &format!("/api/admin/users/{deputy_id}/roles"),
            &admin,
            Some(json!({ "roles": ["user"] })),
        ),
        app.call(
            Method::PUT,
            &format!("/api/admin/users/{me}/roles"),
            access(&deputy),
            Some(json!({ "roles": ["user"] })),
        ),
    ])
    .await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(ok, 1, "exactly one demotion may win");
    use diesel::prelude::*;
    let admins = diesel::sql_query(
        "SELECT count(*) AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.name = 'admin'",
    )
    .get_result::<crate::helpers::Count>(&mut app.db.connect())
    .unwrap()
    .n;
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn disabling_revokes_everything_and_enabling_lets_the_user_back_in() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    let pair = app.user_with_tokens("alice").await;
    let id = user_id(&app, access(&pair)).await;

    let res = app
        .call(
            Method::POST,
            &format!("/api/admin/users/{id}/disable"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["disabled"], true);
    assert_problem(app.me(access(&pair)).await, 401, "invalid_token").await;
    assert_problem(app.refresh(refresh_of(&pair)).await, 401, "invalid_grant").await;
    // The right password now says "disabled"; a wrong one still says nothing.
    assert_problem(app.login("alice", PASSWORD).await, 403, "account_disabled").await;
    assert_problem(
        app.login("alice", "not the password").await,
        401,
        "invalid_credentials",
    )
    .await;

    let res = app
        .call(
            Method::POST,
            &format!("/api/admin/users/{id}/enable"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["disabled"], false);
    let back: Value = app.login("alice", PASSWORD).await.json().await.unwrap();
    assert_eq!(app.me(access(&back)).await.status(), StatusCode::OK);
    assert_eq!(app.audit_count("user_disabled"), 1);
    assert_eq!(app.audit_count("user_enabled"), 1);
}

#[tokio::test]
async fn an_admin_can_revoke_one_session_or_all_of_a_users() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    let a = app.user_with_tokens("alice").await;
    let b: Value = app.login("alice", PASSWORD).await.json().await.unwrap();
    let c: Value = app.login("alice", PASSWORD).await.json().await.unwrap();
    let id = user_id(&app, access(&a)).await;

    let one = format!("/api/admin/sessions/{}", a["session_id"].as_str().unwrap());
    assert_eq!(
        app.call(Method::DELETE, &one, &admin, None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.me(access(&a)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(access(&b)).await.status(), StatusCode::OK);

    let all = format!("/api/admin/users/{id}/sessions");
    assert_eq!(
        app.call(Method::DELETE, &all, &admin, None).await.status(),
        StatusCode::NO_CONTENT
    );
    for pair in [&b, &c] {
        assert_eq!(
            app.me(access(pair)).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.refresh(refresh_of(pair)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The admin's own session is untouched.
    assert_eq!(app.me(&admin).await.status(), StatusCode::OK);
    let unknown = format!("/api/admin/sessions/{}", uuid::Uuid::now_v7());
    assert_problem(
        app.call(Method::DELETE, &unknown, &admin, None).await,
        404,
        "not_found",
    )
    .await;
    let unknown_user = format!("/api/admin/users/{}/sessions", uuid::Uuid::now_v7());
    assert_problem(
        app.call(Method::DELETE, &unknown_user, &admin, None).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.audit_count("sessions_revoked"), 2);
}

#[tokio::test]
async fn roles_can_be_listed_and_created_with_valid_names_only() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    let res = app
        .call(Method::GET, "/api/admin/roles", &admin, None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let names: Vec<&str> = body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "user"]);
    assert_eq!(body["roles"][0]["members"], 1);

    let create = |name: &str| {
        app.call(
            Method::POST,
            "/api/admin/roles",
            &admin,
            Some(json!({ "name": name, "description": "<b>d</b>" })),
        )
    };
    let res = create("support-l2").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let role: Value = res.json().await.unwrap();
    assert_eq!(role["name"], "support-l2");
    assert_eq!(role["description"], "<b>d</b>");
    for bad in ["Support", "", "has space", &"x".repeat(33), "dots.no"] {
        assert_problem(create(bad).await, 400, "invalid_request").await;
    }
    assert_problem(create("support-l2").await, 409, "role_exists").await;
    assert_eq!(app.audit_count("role_created"), 1);
}

#[tokio::test]
async fn absurd_page_numbers_are_bounded_not_fatal() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    for query in [
        "?page=9223372036854775807&per_page=100",
        "?page=-5&per_page=-1",
        "?per_page=0",
    ] {
        let res = app
            .call(
                Method::GET,
                &format!("/api/admin/users{query}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{query}");
    }
    let res = app
        .call(
            Method::GET,
            "/api/admin/users?page=99999999999999999999",
            &admin,
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn filtering_by_a_role_nobody_has_or_that_does_not_exist_finds_nobody() {
    let app = spawn_admin_app().await;
    let admin = app.admin_token().await;
    app.call(
        Method::POST,
        "/api/admin/roles",
        &admin,
        Some(json!({ "name": "empty", "description": "" })),
    )
    .await;
    for role in ["empty", "no-such-role"] {
        let res = app
            .call(
                Method::GET,
                &format!("/api/admin/users?role={role}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["total"], 0, "{role}");
        assert_eq!(body["users"], json!([]));
    }
}
