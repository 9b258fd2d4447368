//! The admin JSON API: gated by the admin role, with the guard rails around the last admin.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN, PASSWORD, TestApp, assert_problem, spawn_admin_app};

/// One page of `GET /api/admin/users?{query}`, which must succeed.
async fn users_page(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app.get_admin_users(token, query).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_non_admin_gets_403_insufficient_role_on_every_admin_route() {
    let app = spawn_admin_app().await;
    let alice = app.signed_in_user("alice").await;
    let token = &alice.access_token;
    let id = &alice.id;
    let grant_admin = json!({ "roles": ["admin"] });
    let new_role = json!({ "name": "x", "description": "" });
    // Every admin route with alice's token, beside the same request without any token.
    let anonymous = |method: Method, path: &str| app.client.request(method, app.url(path));
    let routes = [
        (
            app.get_admin_users(token, "").await,
            anonymous(Method::GET, "/api/admin/users"),
        ),
        (
            app.get_admin_user(token, id).await,
            anonymous(Method::GET, &format!("/api/admin/users/{id}")),
        ),
        (
            app.put_admin_user_roles(token, id, &grant_admin).await,
            anonymous(Method::PUT, &format!("/api/admin/users/{id}/roles")).json(&grant_admin),
        ),
        (
            app.post_admin_disable(token, id).await,
            anonymous(Method::POST, &format!("/api/admin/users/{id}/disable")),
        ),
        (
            app.post_admin_enable(token, id).await,
            anonymous(Method::POST, &format!("/api/admin/users/{id}/enable")),
        ),
        (
            app.delete_admin_user_sessions(token, id).await,
            anonymous(Method::DELETE, &format!("/api/admin/users/{id}/sessions")),
        ),
        (
            app.delete_admin_session(token, &alice.session_id).await,
            anonymous(
                Method::DELETE,
                &format!("/api/admin/sessions/{}", alice.session_id),
            ),
        ),
        (
            app.get_admin_roles(token).await,
            anonymous(Method::GET, "/api/admin/roles"),
        ),
        (
            app.post_admin_roles(token, &new_role).await,
            anonymous(Method::POST, "/api/admin/roles").json(&new_role),
        ),
    ];
    for (as_alice, without_token) in routes {
        assert_problem(as_alice, 403, "insufficient_role").await;
        // Without any token: 401.
        assert_problem(without_token.send().await.unwrap(), 401, "invalid_token").await;
    }
    // None of it happened.
    let me: Value = app.get_me(token).await.json().await.unwrap();
    assert_eq!(me["roles"], json!(["user"]));
}

#[tokio::test]
async fn users_can_be_searched_filtered_and_paged_without_overlap() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    for i in 0..25 {
        let body = json!({ "username": format!("member{i:02}"), "password": PASSWORD, "email": format!("m{i}@corp.example") });
        assert_eq!(app.post_register(&body).await.status(), StatusCode::CREATED);
    }
    app.register("outsider", PASSWORD).await;
    let page = |query: &'static str| users_page(&app, &admin.access_token, query);

    let all = page("").await;
    assert_eq!(all["total"], 27);
    assert_eq!(all["page"], 1);
    assert_eq!(all["per_page"], 20);
    assert_eq!(all["users"].as_array().unwrap().len(), 20);
    // Newest first.
    assert_eq!(all["users"][0]["username"], "outsider");

    let mut seen = std::collections::HashSet::new();
    for n in 1..=3 {
        let query = format!("q=MEMBER&per_page=10&page={n}");
        let p = users_page(&app, &admin.access_token, &query).await;
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
    assert_eq!(page("q=corp.example").await["total"], 25);
    assert_eq!(page("q=m1%40").await["total"], 1);
    assert_eq!(page("q=%25").await["total"], 0);
    assert_eq!(page("q=_").await["total"], 0);
    assert_eq!(page("role=admin").await["total"], 1);
    assert_eq!(page("role=admin").await["users"][0]["username"], ADMIN);
    assert_eq!(page("role=user&q=outsider").await["total"], 1);
    // per_page is capped, page starts at 1.
    let capped = page("per_page=1000&page=0").await;
    assert_eq!(capped["per_page"], 100);
    assert_eq!(capped["page"], 1);
    assert_eq!(page("page=99").await["users"], json!([]));
    assert_problem(
        app.get_admin_users(&admin.access_token, "page=abc").await,
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn user_detail_includes_sessions_and_unknown_ids_are_404() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let alice = app.signed_in_user("alice").await;
    let res = app.get_admin_user(&admin.access_token, &alice.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["username"], "alice");
    assert_eq!(detail["roles"], json!(["user"]));
    assert_eq!(detail["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(detail["sessions"][0]["id"], alice.session_id);
    assert_problem(
        app.get_admin_user(&admin.access_token, uuid::Uuid::now_v7())
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_role_change_voids_old_tokens_and_the_refreshed_token_carries_the_new_role() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let created: Value = app
        .post_admin_roles(
            &admin.access_token,
            &json!({ "name": "billing", "description": "Sees invoices" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["name"], "billing");
    let alice = app.signed_in_user("alice").await;

    let res = app
        .put_admin_user_roles(
            &admin.access_token,
            &alice.id,
            &json!({ "roles": ["user", "billing"] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["roles"], json!(["billing", "user"]));

    // The token issued before the change is refused on the very next request...
    assert_problem(app.get_me(&alice.access_token).await, 401, "invalid_token").await;
    // ...the session lives on, and a refresh gives a token with the new role.
    let next = app.refreshed(&alice.refresh_token).await;
    let me: Value = app.get_me(&next.access_token).await.json().await.unwrap();
    assert_eq!(me["roles"], json!(["billing", "user"]));
    let claims = next.access_token.split('.').nth(1).unwrap().to_owned();
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
    let admin = app.signed_in_admin().await;
    let alice = app.signed_in_user("alice").await;
    for roles in [json!(["user", "wizard"]), json!(["Admin"]), json!([""])] {
        let res = app
            .put_admin_user_roles(&admin.access_token, &alice.id, &json!({ "roles": roles }))
            .await;
        assert_problem(res, 400, "invalid_request").await;
    }
    assert_problem(
        app.put_admin_user_roles(&admin.access_token, &alice.id, &json!({ "roles": "admin" }))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(app.me_status(&alice.access_token).await, StatusCode::OK);
    assert_problem(
        app.put_admin_user_roles(
            &admin.access_token,
            uuid::Uuid::now_v7(),
            &json!({ "roles": ["user"] }),
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
    let admin = app.signed_in_admin().await;
    let demote = app
        .put_admin_user_roles(
            &admin.access_token,
            &admin.id,
            &json!({ "roles": ["user"] }),
        )
        .await;
    let body = assert_problem(demote, 400, "invalid_request").await;
    assert!(body["detail"].as_str().unwrap().contains("own admin role"));
    let disable = app.post_admin_disable(&admin.access_token, &admin.id).await;
    assert_problem(disable, 400, "invalid_request").await;
    assert_eq!(app.me_status(&admin.access_token).await, StatusCode::OK);

    // A second admin; each demotes the other at the same moment: one must stay admin.
    let deputy = app.signed_in_user("deputy").await;
    let grant = app
        .put_admin_user_roles(
            &admin.access_token,
            &deputy.id,
            &json!({ "roles": ["admin", "user"] }),
        )
        .await;
    assert_eq!(grant.status(), StatusCode::OK);
    let deputy = deputy.another_session(&app).await;
    let demote = json!({ "roles": ["user"] });
    let results = join_all([
        app.put_admin_user_roles(&admin.access_token, &deputy.id, &demote),
        app.put_admin_user_roles(&deputy.access_token, &admin.id, &demote),
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
    let admin = app.signed_in_admin().await;
    let alice = app.signed_in_user("alice").await;

    let res = app.post_admin_disable(&admin.access_token, &alice.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["disabled"], true);
    assert_problem(app.get_me(&alice.access_token).await, 401, "invalid_token").await;
    assert_problem(
        app.refresh(&alice.refresh_token).await,
        401,
        "invalid_grant",
    )
    .await;
    // The right password now says "disabled"; a wrong one still says nothing.
    assert_problem(app.login("alice", PASSWORD).await, 403, "account_disabled").await;
    assert_problem(
        app.login("alice", "not the password").await,
        401,
        "invalid_credentials",
    )
    .await;

    let res = app.post_admin_enable(&admin.access_token, &alice.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["disabled"], false);
    let back = alice.another_session(&app).await;
    assert_eq!(app.me_status(&back.access_token).await, StatusCode::OK);
    assert_eq!(app.audit_count("user_disabled"), 1);
    assert_eq!(app.audit_count("user_enabled"), 1);
}

#[tokio::test]
async fn an_admin_can_revoke_one_session_or_all_of_a_users() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let a = app.signed_in_user("alice").await;
    let b = a.another_session(&app).await;
    let c = a.another_session(&app).await;

    assert_eq!(
        app.delete_admin_session(&admin.access_token, &a.session_id)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.me_status(&a.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me_status(&b.access_token).await, StatusCode::OK);

    assert_eq!(
        app.delete_admin_user_sessions(&admin.access_token, &a.id)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    for session in [&b, &c] {
        assert_eq!(
            app.me_status(&session.access_token).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.refresh_status(&session.refresh_token).await,
            StatusCode::UNAUTHORIZED
        );
    }
    // The admin's own session is untouched.
    assert_eq!(app.me_status(&admin.access_token).await, StatusCode::OK);
    assert_problem(
        app.delete_admin_session(&admin.access_token, uuid::Uuid::now_v7())
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete_admin_user_sessions(&admin.access_token, uuid::Uuid::now_v7())
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.audit_count("sessions_revoked"), 2);
}

#[tokio::test]
async fn roles_can_be_listed_and_created_with_valid_names_only() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let res = app.get_admin_roles(&admin.access_token).await;
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
        let body = json!({ "name": name, "description": "<b>d</b>" });
        let app = &app;
        let token = &admin.access_token;
        async move { app.post_admin_roles(token, &body).await }
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
    let admin = app.signed_in_admin().await;
    for query in [
        "page=9223372036854775807&per_page=100",
        "page=-5&per_page=-1",
        "per_page=0",
    ] {
        let res = app.get_admin_users(&admin.access_token, query).await;
        assert_eq!(res.status(), StatusCode::OK, "?{query}");
    }
    let res = app
        .get_admin_users(&admin.access_token, "page=99999999999999999999")
        .await;
    assert_problem(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn filtering_by_a_role_nobody_has_or_that_does_not_exist_finds_nobody() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    app.post_admin_roles(
        &admin.access_token,
        &json!({ "name": "empty", "description": "" }),
    )
    .await;
    for role in ["empty", "no-such-role"] {
        let res = app
            .get_admin_users(&admin.access_token, &format!("role={role}"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["total"], 0, "{role}");
        assert_eq!(body["users"], json!([]));
    }
}

#[tokio::test]
async fn role_names_are_trimmed_by_the_api_as_by_the_dashboard() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let alice = app.signed_in_user("alice").await;
    let body = json!({ "name": "  billing\t", "description": "" });
    let res = app.post_admin_roles(&admin.access_token, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let role: Value = res.json().await.unwrap();
    assert_eq!(role["name"], "billing");
    let roles = json!({ "roles": [" billing ", "user"] });
    let res = app
        .put_admin_user_roles(&admin.access_token, &alice.id, &roles)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["roles"], json!(["billing", "user"]));
}

/// Found by the contract fuzzer: NUL in a search term or a role filter reached PostgreSQL (a
/// 500), and a role description could carry it (and other control characters) into the table.
#[tokio::test]
async fn nul_characters_find_nobody_and_are_no_role_description() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let token = &admin.access_token;
    for query in ["q=ro%00ot", "role=ad%00min", "q=%00&role=user"] {
        let page = users_page(&app, token, query).await;
        assert_eq!(page["total"], 0, "{query}");
        assert_eq!(page["users"], json!([]), "{query}");
    }
    for description in ["a\u{0}b", "two\nlines", "bell\u{7}"] {
        let res = app
            .post_admin_roles(
                token,
                &json!({ "name": "billing", "description": description }),
            )
            .await;
        let body = assert_problem(res, 400, "invalid_request").await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("control characters")
        );
    }
    let res = app
        .post_admin_roles(
            token,
            &json!({ "name": "billing", "description": "  Reads invoices " }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}
