//! Test harness: every test gets its own database, cloned from a migrated template, and its own
//! server on a random port. Black-box: tests speak HTTP, and read the database only to check what
//! a user could not see from outside (audit rows, stored hashes).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};

use actix_web::dev::ServerHandle;
use authd::Application;
use authd::config::Config;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

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

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/register",
            &json!({ "username": username, "password": password }),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/login",
            &json!({ "username": username, "password": password }),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json(
            "/api/auth/refresh",
            &json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    /// A request with a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// Logs in the bootstrap administrator of [`spawn_admin_app`]; returns the access token.
    pub async fn admin_token(&self) -> String {
        let pair: Value = self.login(ADMIN, PASSWORD).await.json().await.unwrap();
        pair["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn me(&self, token: &str) -> Response {
        self.get_with_token("/api/auth/me", token).await
    }

    /// Registers `username` with [`PASSWORD`] and logs in: returns the token pair.
    pub async fn user_with_tokens(&self, username: &str) -> Value {
        assert_eq!(
            self.register(username, PASSWORD).await.status(),
            StatusCode::CREATED
        );
        let res = self.login(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
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

/// Asserts a problem+json error with `status` and `code`; returns the body.
/// The `access_token` of a token pair.
pub fn access(pair: &Value) -> &str {
    pair["access_token"].as_str().unwrap()
}

/// The `refresh_token` of a token pair.
pub fn refresh_of(pair: &Value) -> &str {
    pair["refresh_token"].as_str().unwrap()
}

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
