//! The admin dashboard over HTTP: sessions, CSRF, guard rails, escaping, timeouts. (The browser
//! tests in tests/e2e drive the same pages in Chromium.)

use diesel::prelude::*;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN, PASSWORD, TestApp, spawn_admin_app, spawn_app_with};

/// A browser: its own cookie jar, no redirects followed.
pub(crate) struct Browser<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) client: Client,
}

pub(crate) fn csrf_in(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf_token field")
        .to_owned()
}

fn location(res: &Response) -> &str {
    res.headers()["location"].to_str().unwrap()
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { app, client }
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client.get(self.app.url(path)).send().await.unwrap()
    }

    pub(crate) async fn html(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.text().await.unwrap()
    }

    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.app.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// The login form's POST, with the CSRF token it was given.
    pub(crate) async fn try_login(&self, username: &str, password: &str) -> Response {
        let token = csrf_in(&self.html("/admin/login").await);
        self.post(
            "/admin/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    pub(crate) async fn login(&self, username: &str, password: &str) {
        let res = self.try_login(username, password).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login of {username}");
        assert_eq!(location(&res), "/admin");
    }

    /// The CSRF token of the signed-in session, from any page's forms.
    pub(crate) async fn csrf(&self) -> String {
        csrf_in(&self.html("/admin/roles").await)
    }
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_login_form() {
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    for path in [
        "/admin",
        "/admin/users",
        "/admin/sessions",
        "/admin/audit",
        "/admin/roles",
        "/admin/users/x",
    ] {
        let res = b.get(path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&res), "/admin/login");
    }
    let res = b
        .post("/admin/roles", &[("name", "x"), ("csrf_token", "x")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = b.html("/admin/login").await;
    for field in [
        "name=\"username\"",
        "name=\"password\"",
        "name=\"csrf_token\"",
    ] {
        assert!(html.contains(field), "login form lacks {field}");
    }
}

#[tokio::test]
async fn every_refused_login_looks_the_same() {
    let app = spawn_admin_app().await;
    app.signed_in_user("alice").await;
    let dora = app.signed_in_user("dora").await;
    let admin = app.signed_in_admin().await;
    app.post_admin_disable(&admin.access_token, &dora.id).await;

    let b = Browser::new(&app);
    let mut messages = Vec::new();
    for (who, password) in [
        (ADMIN, "wrong password!!"),
        ("nobody", PASSWORD),
        ("alice", PASSWORD),
        ("dora", PASSWORD),
    ] {
        let res = b.try_login(who, password).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{who}");
        assert!(
            res.headers()
                .get("set-cookie")
                .is_none_or(|c| !c.to_str().unwrap().contains("authd_session="))
        );
        let html = res.text().await.unwrap();
        let message = html
            .split("role=\"alert\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        messages.push(message);
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");
    assert!(b.get("/admin").await.status() == StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_login_form_refuses_a_missing_or_foreign_csrf_token() {
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    b.html("/admin/login").await;
    let res = b
        .post(
            "/admin/login",
            &[("username", ADMIN), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = b
        .post(
            "/admin/login",
            &[
                ("username", ADMIN),
                ("password", PASSWORD),
                ("csrf_token", "guess"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A token from another browser's form does not match this browser's cookie.
    let other = Browser::new(&app);
    let foreign = csrf_in(&other.html("/admin/login").await);
    let res = b
        .post(
            "/admin/login",
            &[
                ("username", ADMIN),
                ("password", PASSWORD),
                ("csrf_token", &foreign),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(b.get("/admin").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_dashboard_session_is_a_revocable_server_side_session() {
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    let token = csrf_in(&b.html("/admin/login").await);
    let res = b
        .post(
            "/admin/login",
            &[
                ("username", ADMIN),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.contains("authd_session="))
        .expect("session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(b.html("/admin").await.contains("Overview"));

    // It is listed with the admin's sessions, as kind "dashboard"...
    let admin = app.signed_in_admin().await;
    let detail: Value = app
        .get_admin_user(&admin.access_token, &admin.id)
        .await
        .json()
        .await
        .unwrap();
    let dashboard = detail["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "dashboard" && s["revoked_at"].is_null())
        .expect("the dashboard session is listed")
        .clone();
    // ...and revoking it anywhere signs the browser out on its next request.
    let session_id = dashboard["id"].as_str().unwrap();
    assert_eq!(
        app.delete_admin_session(&admin.access_token, session_id)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let res = b.get("/admin").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/login");
}

#[tokio::test]
async fn with_secure_cookies_the_session_cookie_uses_the_host_prefix() {
    let app = spawn_app_with(&[
        ("AUTHD_BOOTSTRAP_ADMIN", &format!("{ADMIN}:{PASSWORD}")),
        ("AUTHD_COOKIE_SECURE", "true"),
    ])
    .await;
    let b = Browser::new(&app);
    let res = b.try_login(ADMIN, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-authd_session="))
        .expect("a __Host- cookie");
    assert!(
        cookie.contains("Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
    );
}

#[tokio::test]
async fn every_page_renders_with_the_security_headers() {
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let id = app.signed_in_admin().await.id;
    for path in [
        "/admin",
        "/admin/users",
        &format!("/admin/users/{id}"),
        "/admin/sessions",
        "/admin/audit",
        "/admin/roles",
        "/admin/login",
    ] {
        let res = b.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        let html = res.text().await.unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("style=\""),
            "{path} has inline script or style"
        );
    }
    for (path, status) in [
        ("/admin/nope", 404),
        (&format!("/admin/users/{}", uuid::Uuid::now_v7()), 404),
    ] {
        let res = b.get(path).await;
        assert_eq!(res.status().as_u16(), status, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(res.text().await.unwrap().contains("Not Found"));
    }
}

#[tokio::test]
async fn a_form_without_the_right_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_admin_app().await;
    let alice = app.signed_in_user("alice").await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let path = format!("/admin/users/{}/roles", alice.id);
    let good = b.csrf().await;
    for fields in [
        vec![("roles", "admin")],
        vec![("roles", "admin"), ("csrf_token", "forged")],
    ] {
        assert_eq!(b.post(&path, &fields).await.status(), StatusCode::FORBIDDEN);
    }
    // The right token, but the browser says the form came from another site.
    let cross = b
        .client
        .post(app.url(&path))
        .header("sec-fetch-site", "cross-site")
        .form(&[("roles", "admin"), ("csrf_token", good.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let evil_origin = b
        .client
        .post(app.url(&path))
        .header("origin", "https://evil.example")
        .form(&[("roles", "admin"), ("csrf_token", good.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(evil_origin.status(), StatusCode::FORBIDDEN);
    for form in [
        format!("/admin/users/{}/disable", alice.id),
        format!("/admin/users/{}/sessions/revoke", alice.id),
        "/admin/roles".into(),
        "/admin/logout".into(),
    ] {
        assert_eq!(
            b.post(&form, &[("name", "x")]).await.status(),
            StatusCode::FORBIDDEN,
            "{form}"
        );
    }
    // Nothing happened.
    let fresh = alice.another_session(&app).await;
    let me: Value = app.get_me(&fresh.access_token).await.json().await.unwrap();
    assert_eq!(me["roles"], json!(["user"]));
    assert_eq!(
        app.audit_count("roles_changed")
            + app.audit_count("user_disabled")
            + app.audit_count("role_created"),
        0
    );
    assert_eq!(
        b.get("/admin").await.status(),
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn granting_a_role_and_revoking_sessions_from_the_user_page() {
    let app = spawn_admin_app().await;
    let alice = app.signed_in_user("alice").await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let token = b.csrf().await;

    let res = b
        .post(
            "/admin/roles",
            &[
                ("name", "billing"),
                ("description", "Invoices"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        b.html("/admin/roles")
            .await
            .contains("Role billing created.")
    );
    // The flash is shown once.
    assert!(
        !b.html("/admin/roles")
            .await
            .contains("Role billing created.")
    );

    let path = format!("/admin/users/{}", alice.id);
    let res = b
        .post(
            &format!("{path}/roles"),
            &[
                ("roles", "user"),
                ("roles", "billing"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), path);
    let page = b.html(&path).await;
    assert!(page.contains("Roles saved: billing, user."));
    assert!(page.contains(r#"name="roles" value="billing" checked"#));
    assert_eq!(
        app.me_status(&alice.access_token).await,
        StatusCode::UNAUTHORIZED
    );

    let fresh = alice.another_session(&app).await;
    let res = b
        .post(
            &format!("{path}/sessions/revoke"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(b.html(&path).await.contains("Revoked"));
    assert_eq!(
        app.me_status(&fresh.access_token).await,
        StatusCode::UNAUTHORIZED
    );

    // Disable and enable.
    b.post(&format!("{path}/disable"), &[("csrf_token", &token)])
        .await;
    assert!(b.html(&path).await.contains("Account disabled"));
    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        StatusCode::FORBIDDEN
    );
    b.post(&format!("{path}/enable"), &[("csrf_token", &token)])
        .await;
    assert_eq!(app.login("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_guard_rails_hold_and_the_page_says_why() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let token = b.csrf().await;
    let path = format!("/admin/users/{}", admin.id);
    let page = b.html(&path).await;
    assert!(page.contains("You cannot remove your own admin role."));
    assert!(page.contains("You cannot disable your own account."));

    // A hand-made form without the admin role: refused, with the reason.
    let res = b
        .post(
            &format!("{path}/roles"),
            &[("roles", "user"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(location(&res), path);
    assert!(
        b.html(&path)
            .await
            .contains("you cannot remove your own admin role")
    );
    b.post(&format!("{path}/disable"), &[("csrf_token", &token)])
        .await;
    assert!(
        b.html(&path)
            .await
            .contains("you cannot disable your own account")
    );
    assert_eq!(
        b.get("/admin").await.status(),
        StatusCode::OK,
        "still an admin, still signed in"
    );
}

#[tokio::test]
async fn user_supplied_text_is_escaped() {
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let token = b.csrf().await;
    let attack = r#"<script>alert("x")</script>"#;
    b.post(
        "/admin/roles",
        &[
            ("name", "evil"),
            ("description", attack),
            ("csrf_token", &token),
        ],
    )
    .await;
    let roles = b.html("/admin/roles").await;
    assert!(!roles.contains(attack));
    assert!(
        roles.contains("&#60;script&#62;") || roles.contains("&lt;script&gt;"),
        "{roles}"
    );
    let search = b
        .html("/admin/users?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
        .await;
    assert!(!search.contains("<img src=x"));
    let audit = b.html("/admin/audit?user=%22%3E%3Cb%3E").await;
    assert!(!audit.contains("\"><b>"));
}

#[tokio::test]
async fn search_filter_and_pages_on_the_users_page() {
    let app = spawn_admin_app().await;
    for i in 0..30 {
        app.register(&format!("crew{i:02}"), PASSWORD).await;
    }
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let first = b.html("/admin/users?q=crew").await;
    assert!(first.contains("30 users matching"));
    assert!(
        first.contains("crew29") && !first.contains("crew04"),
        "newest first, 25 a page"
    );
    assert!(first.contains("rel=\"next\"") && first.contains("page=2"));
    let second = b.html("/admin/users?q=crew&page=2").await;
    assert!(second.contains("crew04") && !second.contains("crew29"));
    let admins = b.html("/admin/users?role=admin").await;
    assert!(admins.contains("1 user with role admin"));
}

#[tokio::test]
async fn overview_sessions_and_audit_pages_show_what_happened() {
    let app = spawn_admin_app().await;
    app.signed_in_user("alice").await;
    app.login("alice", "wrong password!!").await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let overview = b.html("/admin").await;
    assert!(overview.contains("<svg"), "the chart");
    assert!(
        overview.contains(">2</span><span class=\"label\">users"),
        "{overview}"
    );
    assert!(
        overview.contains("invalid_credentials"),
        "latest failed logins"
    );
    let sessions = b.html("/admin/sessions").await;
    assert!(sessions.contains("alice") && sessions.contains("this browser"));
    let audit = b.html("/admin/audit?event=login_failed").await;
    assert!(audit.contains("<td>login_failed</td>") && !audit.contains("<td>registered</td>"));
    let by_user = b.html("/admin/audit?user=alice").await;
    assert!(by_user.contains("<td>registered</td>"));
    assert!(
        b.html("/admin/audit?user=ghost")
            .await
            .contains("No user is called")
    );
}

#[tokio::test]
async fn a_non_admin_session_gets_403_once_the_role_is_gone() {
    let app = spawn_admin_app().await;
    let deputy = app.signed_in_user("deputy").await;
    let admin = app.signed_in_admin().await;
    app.put_admin_user_roles(
        &admin.access_token,
        &deputy.id,
        &json!({ "roles": ["admin", "user"] }),
    )
    .await;
    let b = Browser::new(&app);
    b.login("deputy", PASSWORD).await;
    app.put_admin_user_roles(
        &admin.access_token,
        &deputy.id,
        &json!({ "roles": ["user"] }),
    )
    .await;
    assert_eq!(b.get("/admin/users").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_a_dashboard_session() {
    use authd::db::schema::sessions;
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let mut conn = app.db.connect();
    let dashboard = sessions::table.filter(sessions::kind.eq("dashboard"));
    // 31 minutes without a request: past the 30-minute idle timeout.
    diesel::update(dashboard)
        .set(sessions::last_used_at.eq(chrono::Utc::now() - chrono::Duration::minutes(31)))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(location(&b.get("/admin").await), "/admin/login");

    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    diesel::update(
        sessions::table
            .filter(sessions::kind.eq("dashboard"))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::expires_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)))
    .execute(&mut conn)
    .unwrap();
    assert_eq!(location(&b.get("/admin").await), "/admin/login");
    // Activity keeps a session alive: a fresh one still works after a page view.
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    assert_eq!(b.get("/admin").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let token = b.csrf().await;
    let res = b.post("/admin/logout", &[("csrf_token", &token)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/login");
    assert_eq!(location(&b.get("/admin").await), "/admin/login");
    assert_eq!(app.audit_count("logout"), 1);
}

#[tokio::test]
async fn absurd_page_numbers_render_a_page() {
    let app = spawn_admin_app().await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    for path in [
        "/admin/users?page=9223372036854775807",
        "/admin/sessions?page=9223372036854775807",
        "/admin/audit?page=9223372036854775807&event=x",
    ] {
        assert_eq!(b.get(path).await.status(), StatusCode::OK, "{path}");
    }
}
