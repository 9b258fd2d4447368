//! Test harness: every test gets its own database, cloned from a migrated template, and its own
//! server on a random port. Black-box: tests speak HTTP, and read the database only to check what
//! a user could not see from outside (audit rows, stored hashes).

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use authd::Application;
use authd::config::Config;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reqwest::{Client, Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// The `authd` binary with a clean environment, run from a directory without a `.env` file.
pub fn authd_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authd"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.current_dir(std::env::temp_dir());
    cmd
}

/// A password that passes the default policy.
pub const PASSWORD: &str = "correct horse battery staple";

fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The server URL with another database name in the path (query string kept).
pub fn url_for_database(name: &str) -> String {
    let url = server_url();
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (url.clone(), String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

fn maintenance() -> PgConnection {
    PgConnection::establish(&url_for_database("postgres"))
        .expect("the test PostgreSQL is not reachable: run the tests through scripts/test")
}

/// Name of a template database for exactly this set of migrations.
fn template_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let mut files: Vec<_> = walk(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations"
        )));
        files.sort();
        let mut h = DefaultHasher::new();
        for f in files {
            f.hash(&mut h);
            std::fs::read(&f).expect("migration file").hash(&mut h);
        }
        let name = format!("authd_tpl_{:016x}", h.finish());
        create_template(&name);
        name
    })
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("migrations dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Creates the template once across concurrent test processes: an advisory lock serialises the
/// creators, and the template only gets its final name when fully migrated.
fn create_template(name: &str) {
    let mut conn = maintenance();
    diesel::sql_query("SELECT pg_advisory_lock(727274)")
        .execute(&mut conn)
        .unwrap();
    let exists = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
        > 0;
    if !exists {
        let building = format!("{name}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .unwrap();
        {
            let mut tpl = PgConnection::establish(&url_for_database(&building)).unwrap();
            authd::db::run_migrations(&mut tpl).unwrap();
        }
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut conn)
            .unwrap();
    }
    diesel::sql_query("SELECT pg_advisory_unlock(727274)")
        .execute(&mut conn)
        .unwrap();
}

/// A fresh database, dropped (even with connections open) when the test ends.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn new() -> Self {
        let template = template_name();
        let name = format!("authd_test_{}", uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut maintenance())
            .unwrap();
        Self { name }
    }

    pub fn url(&self) -> String {
        url_for_database(&self.name)
    }

    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url()).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut maintenance());
    }
}

/// A running server on its own database, with a method per endpoint the tests call.
pub struct TestApp {
    pub address: String,
    pub client: Client,
    handle: ServerHandle,
    // Dropped after the server is told to stop; shared with second instances on the same database.
    pub db: Arc<TestDb>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the future only waits for it to finish.
        drop(self.handle.stop(false));
    }
}

/// The administrator that [`spawn_admin_app`] bootstraps (password [`PASSWORD`]).
pub const ADMIN: &str = "root";

/// An app with a bootstrap administrator.
pub async fn spawn_admin_app() -> TestApp {
    spawn_app_with(&[("AUTHD_BOOTSTRAP_ADMIN", &format!("{ADMIN}:{PASSWORD}"))]).await
}

/// Throttling limits no ordinary test reaches.
const GENEROUS_LIMITS: &[(&str, &str)] = &[
    ("AUTHD_RATE_IP_PER_MINUTE", "1000000"),
    ("AUTHD_RATE_IP_BURST", "1000000"),
    ("AUTHD_LOGIN_MAX_FAILURES", "1000000"),
];

/// The contract's default throttling limits (an empty value is the default).
pub const CONTRACT_LIMITS: &[(&str, &str)] = &[
    ("AUTHD_RATE_IP_PER_MINUTE", ""),
    ("AUTHD_RATE_IP_BURST", ""),
    ("AUTHD_LOGIN_MAX_FAILURES", ""),
];

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app on its own database with extra environment settings.
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    start(Arc::new(TestDb::new()), env).await
}

async fn start(db: Arc<TestDb>, env: &[(&str, &str)]) -> TestApp {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".to_owned(), db.url()),
        ("AUTHD_BIND".to_owned(), "127.0.0.1:0".to_owned()),
    ]);
    // Tests log in many times from one address; the throttling tests ask for the contract's
    // limits ([`CONTRACT_LIMITS`]).
    vars.extend(
        GENEROUS_LIMITS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration");
    let app = Application::build(config)
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        handle,
        db,
    }
}

impl TestApp {
    /// Another server on this app's database, as after a restart or beside it in a cluster.
    pub async fn second_instance_with(&self, env: &[(&str, &str)]) -> TestApp {
        start(self.db.clone(), env).await
    }

    pub async fn second_instance(&self) -> TestApp {
        self.second_instance_with(&[]).await
    }

    /// Runs the `authd` binary against this app's database, as an operator would beside the
    /// running service; `env` adds settings. Returns its output, whatever its exit status.
    pub async fn run_cli(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
        use std::io::Write;
        let mut cmd = authd_command();
        cmd.args(args)
            .env("DATABASE_URL", self.db.url())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap()
    }

    /// `run_cli` that must succeed: its standard output.
    pub async fn cli_ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run_cli(args, env, "").await;
        assert!(
            out.status.success(),
            "authd {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A GET without credentials: pages, static files, deliberately anonymous calls.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A request with `token` as its Bearer credential and, if given, a JSON body.
    async fn authorized(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    // /api/auth. One method per endpoint, named after it; each returns the response as it came,
    // for the test to assert on. Tests that send something odd on purpose use `client` directly.

    /// `POST /api/auth/register` with any JSON body.
    pub async fn post_register(&self, body: &Value) -> Response {
        self.post_json("/api/auth/register", body).await
    }

    /// `POST /api/auth/register` with just a username and a password.
    pub async fn register(&self, username: &str, password: &str) -> Response {
        self.post_register(&json!({ "username": username, "password": password }))
            .await
    }

    /// `POST /api/auth/login` with any JSON body.
    pub async fn post_login(&self, body: &Value) -> Response {
        self.post_json("/api/auth/login", body).await
    }

    /// `POST /api/auth/login` with a username and a password.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_login(&json!({ "username": username, "password": password }))
            .await
    }

    /// `POST /api/auth/refresh` with any JSON body.
    pub async fn post_refresh(&self, body: &Value) -> Response {
        self.post_json("/api/auth/refresh", body).await
    }

    /// `POST /api/auth/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_refresh(&json!({ "refresh_token": refresh_token }))
            .await
    }

    /// Refreshes `refresh_token`, which must succeed: the rotated pair.
    pub async fn refreshed(&self, refresh_token: &str) -> TokenPair {
        let res = self.refresh(refresh_token).await;
        assert_eq!(res.status(), StatusCode::OK, "refresh");
        res.json().await.unwrap()
    }

    pub async fn post_logout(&self, token: &str) -> Response {
        self.authorized(Method::POST, "/api/auth/logout", token, None)
            .await
    }

    pub async fn post_logout_all(&self, token: &str) -> Response {
        self.authorized(Method::POST, "/api/auth/logout-all", token, None)
            .await
    }

    pub async fn get_me(&self, token: &str) -> Response {
        self.authorized(Method::GET, "/api/auth/me", token, None)
            .await
    }

    /// The status `GET /api/auth/me` answers with this access token: whether it is accepted.
    pub async fn me_status(&self, token: &str) -> StatusCode {
        self.get_me(token).await.status()
    }

    /// The status a refresh with this refresh token answers.
    pub async fn refresh_status(&self, refresh_token: &str) -> StatusCode {
        self.refresh(refresh_token).await.status()
    }

    /// Logs in from a client that names itself `user_agent`; the login must succeed.
    pub async fn log_in_from(&self, username: &str, user_agent: &str) -> TokenPair {
        let res = self
            .client
            .post(self.url("/api/auth/login"))
            .header("user-agent", user_agent)
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// `POST /api/auth/login` from the client address `ip` (through the trusted local proxy).
    pub async fn login_from_address(&self, ip: &str, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_password(&self, token: &str, body: &Value) -> Response {
        self.authorized(Method::POST, "/api/auth/password", token, Some(body))
            .await
    }

    pub async fn get_sessions(&self, token: &str) -> Response {
        self.authorized(Method::GET, "/api/auth/sessions", token, None)
            .await
    }

    pub async fn delete_session(&self, token: &str, session_id: impl Display) -> Response {
        let path = format!("/api/auth/sessions/{session_id}");
        self.authorized(Method::DELETE, &path, token, None).await
    }

    // /api/admin.

    /// `GET /api/admin/users`, with `query` (already encoded, without the `?`) if not empty.
    pub async fn get_admin_users(&self, token: &str, query: &str) -> Response {
        let path = if query.is_empty() {
            "/api/admin/users".to_owned()
        } else {
            format!("/api/admin/users?{query}")
        };
        self.authorized(Method::GET, &path, token, None).await
    }

    pub async fn get_admin_user(&self, token: &str, user_id: impl Display) -> Response {
        let path = format!("/api/admin/users/{user_id}");
        self.authorized(Method::GET, &path, token, None).await
    }

    pub async fn put_admin_user_roles(
        &self,
        token: &str,
        user_id: impl Display,
        body: &Value,
    ) -> Response {
        let path = format!("/api/admin/users/{user_id}/roles");
        self.authorized(Method::PUT, &path, token, Some(body)).await
    }

    pub async fn post_admin_disable(&self, token: &str, user_id: impl Display) -> Response {
        let path = format!("/api/admin/users/{user_id}/disable");
        self.authorized(Method::POST, &path, token, None).await
    }

    pub async fn post_admin_enable(&self, token: &str, user_id: impl Display) -> Response {
        let path = format!("/api/admin/users/{user_id}/enable");
        self.authorized(Method::POST, &path, token, None).await
    }

    pub async fn delete_admin_user_sessions(&self, token: &str, user_id: impl Display) -> Response {
        let path = format!("/api/admin/users/{user_id}/sessions");
        self.authorized(Method::DELETE, &path, token, None).await
    }

    pub async fn delete_admin_session(&self, token: &str, session_id: impl Display) -> Response {
        let path = format!("/api/admin/sessions/{session_id}");
        self.authorized(Method::DELETE, &path, token, None).await
    }

    pub async fn get_admin_roles(&self, token: &str) -> Response {
        self.authorized(Method::GET, "/api/admin/roles", token, None)
            .await
    }

    pub async fn post_admin_roles(&self, token: &str, body: &Value) -> Response {
        self.authorized(Method::POST, "/api/admin/roles", token, Some(body))
            .await
    }

    pub async fn post_admin_users(&self, token: &str, body: &Value) -> Response {
        self.authorized(Method::POST, "/api/admin/users", token, Some(body))
            .await
    }

    pub async fn patch_admin_user(
        &self,
        token: &str,
        user_id: impl Display,
        body: &Value,
    ) -> Response {
        let path = format!("/api/admin/users/{user_id}");
        self.authorized(Method::PATCH, &path, token, Some(body))
            .await
    }

    pub async fn delete_admin_user(&self, token: &str, user_id: impl Display) -> Response {
        let path = format!("/api/admin/users/{user_id}");
        self.authorized(Method::DELETE, &path, token, None).await
    }

    pub async fn post_admin_password_reset(&self, token: &str, user_id: impl Display) -> Response {
        let path = format!("/api/admin/users/{user_id}/password-reset");
        self.authorized(Method::POST, &path, token, None).await
    }

    /// `POST /api/auth/password-reset` with a link's token.
    pub async fn post_password_reset(&self, token: &str, new_password: &str) -> Response {
        let body = serde_json::json!({ "token": token, "new_password": new_password });
        self.post_json("/api/auth/password-reset", &body).await
    }

    // Verification, keys, health.

    /// `GET /auth/verify`, with `?role=` when a role is required.
    pub async fn get_verify(&self, token: &str, role: Option<&str>) -> Response {
        let path = match role {
            Some(role) => format!("/auth/verify?role={role}"),
            None => "/auth/verify".to_owned(),
        };
        self.authorized(Method::GET, &path, token, None).await
    }

    pub async fn get_jwks(&self) -> Response {
        self.get("/.well-known/jwks.json").await
    }

    pub async fn get_healthz(&self) -> Response {
        self.get("/healthz").await
    }

    pub async fn get_openapi(&self) -> Response {
        self.get("/api/openapi.json").await
    }

    pub async fn get_api_docs(&self) -> Response {
        self.get("/api/docs").await
    }

    /// Any method on `path`, without credentials or body, with extra `headers`: for the HTTP
    /// conventions (HEAD, 405, CORS) that hold whatever the route.
    pub async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    pub async fn get_readyz(&self) -> Response {
        self.get("/readyz").await
    }

    // Test users: the setup most tests start from.

    /// Registers `username` with [`PASSWORD`], logs in and asks `/api/auth/me` who that is.
    pub async fn signed_in_user(&self, username: &str) -> TestUser {
        assert_eq!(
            self.register(username, PASSWORD).await.status(),
            StatusCode::CREATED,
            "registration of {username}"
        );
        self.signed_in(username).await
    }

    /// The bootstrap administrator of [`spawn_admin_app`], logged in.
    pub async fn signed_in_admin(&self) -> TestUser {
        self.signed_in(ADMIN).await
    }

    pub async fn signed_in(&self, username: &str) -> TestUser {
        let tokens = self.log_in_as(username).await;
        let res = self.get_me(&tokens.access_token).await;
        assert_eq!(res.status(), StatusCode::OK, "/api/auth/me of {username}");
        let me: Value = res.json().await.unwrap();
        TestUser::new(username, me["id"].as_str().unwrap(), tokens)
    }

    /// Logs `username` in with [`PASSWORD`], which must succeed: a new session's tokens.
    pub async fn log_in_as(&self, username: &str) -> TokenPair {
        let res = self.login(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login of {username}");
        res.json().await.unwrap()
    }

    /// Counts audit events of one kind, straight from the table.
    pub fn audit_count(&self, event: &str) -> i64 {
        diesel::sql_query("SELECT count(*) AS n FROM audit_events WHERE event = $1")
            .bind::<Text, _>(event)
            .get_result::<Count>(&mut self.db.connect())
            .unwrap()
            .n
    }
}

/// The tokens that login and refresh answer with.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub session_id: String,
    pub refresh_expires_in: i64,
}

/// A registered user (password [`PASSWORD`]) and the tokens of one of their sessions.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub username: String,
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
    pub session_id: String,
}

impl TestUser {
    fn new(username: &str, id: &str, tokens: TokenPair) -> Self {
        Self {
            username: username.to_owned(),
            id: id.to_owned(),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            session_id: tokens.session_id,
        }
    }

    /// The same user logged in once more: another session, with its own tokens.
    pub async fn another_session(&self, app: &TestApp) -> TestUser {
        let tokens = app.log_in_as(&self.username).await;
        TestUser::new(&self.username, &self.id, tokens)
    }
}

/// Asserts a problem+json error with `status` and `code`; returns the body.
pub async fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let content_type = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

/// The real `authd` binary serving on a free port of its own database; killed when dropped.
pub struct BinaryServer {
    pub child: Child,
    pub port: u16,
    _db: TestDb,
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BinaryServer {
    pub fn start(env: &[(&str, &str)]) -> Self {
        let db = TestDb::new();
        let mut child = authd_command()
            .arg("serve")
            .env("DATABASE_URL", db.url())
            .env("AUTHD_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (port_tx, port_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("authd listening on http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = port_tx.send(port.parse::<u16>().unwrap());
                }
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("authd did not start");
        Self {
            child,
            port,
            _db: db,
        }
    }
}
