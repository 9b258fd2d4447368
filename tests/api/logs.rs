//! The log of a real `authd serve` process, at debug level, after a run through the whole API
//! with known secrets: none of them may appear in it, in either format; access lines are there,
//! one per request, and in JSON every line is an object.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestDb, authd_command};

const ADMIN_PASSWORD: &str = "admin-passphrase-Kq81-zzTop";
const ALICE_PASSWORD: &str = "alice-passphrase-Wv27-hush";
const ALICE_NEW_PASSWORD: &str = "alice-passphrase-Pn55-fresh";
const WRONG_PASSWORD: &str = "not-alice-passphrase-Jx09";
const BOB_PASSWORD: &str = "bob-passphrase-Hr63-quiet";

/// `authd serve` on a free port and its own database, its standard error collected line by line.
struct LoggedServer {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
    address: String,
    db: TestDb,
}

impl LoggedServer {
    fn start(format: &str) -> Self {
        let db = TestDb::new();
        let mut child = authd_command()
            .arg("serve")
            .env("DATABASE_URL", db.url())
            .env("AUTHD_BIND", "127.0.0.1:0")
            .env("AUTHD_LOG_FORMAT", format)
            .env("RUST_LOG", "debug")
            .env("AUTHD_COOKIE_SECURE", "false")
            .env("AUTHD_BOOTSTRAP_ADMIN", format!("root:{ADMIN_PASSWORD}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let collected = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("authd listening on http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = port_tx.send(port);
                }
                collected.lock().unwrap().push(line);
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("authd did not start: {:?}", lines.lock().unwrap()));
        Self {
            child,
            lines,
            reader: Some(reader),
            address: format!("http://127.0.0.1:{port}"),
            db,
        }
    }

    /// Stops the process and returns every line it wrote.
    fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.lines.lock().unwrap().clone()
    }

    /// A stored password hash, straight from the table.
    fn password_hash(&self, username: &str) -> String {
        #[derive(QueryableByName)]
        struct Hash {
            #[diesel(sql_type = Text)]
            password_hash: String,
        }
        diesel::sql_query("SELECT password_hash FROM users WHERE username = $1")
            .bind::<Text, _>(username)
            .get_result::<Hash>(&mut self.db.connect())
            .unwrap()
            .password_hash
    }
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client of the server that remembers every secret it is given or sends.
struct Script<'a> {
    server: &'a LoggedServer,
    client: Client,
    secrets: Vec<String>,
}

impl<'a> Script<'a> {
    fn new(server: &'a LoggedServer) -> Self {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let secrets = [
            ADMIN_PASSWORD,
            ALICE_PASSWORD,
            ALICE_NEW_PASSWORD,
            WRONG_PASSWORD,
            BOB_PASSWORD,
        ]
        .map(str::to_owned)
        .to_vec();
        Self {
            server,
            client,
            secrets,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.address)
    }

    async fn send(&mut self, request: RequestBuilder) -> Response {
        let res = request.send().await.unwrap();
        for cookie in res.headers().get_all("set-cookie") {
            let value = cookie.to_str().unwrap();
            let secret = value.split(';').next().unwrap().split_once('=').unwrap().1;
            if !secret.is_empty() {
                self.secrets.push(secret.to_owned());
            }
        }
        res
    }

    async fn json(&mut self, method: &str, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let res = self.send(request).await;
        assert!(
            res.status().as_u16() < 500,
            "{method} {path}: {}",
            res.status()
        );
        res.json().await.unwrap_or(Value::Null)
    }

    async fn get(&mut self, path: &str, token: &str) -> StatusCode {
        let request = self.client.get(self.url(path)).bearer_auth(token);
        self.send(request).await.status()
    }

    /// Logs in, which must succeed; remembers both tokens.
    async fn login(&mut self, username: &str, password: &str) -> (String, String) {
        let pair = self
            .json(
                "POST",
                "/api/auth/login",
                None,
                json!({ "username": username, "password": password }),
            )
            .await;
        self.pair(&pair)
    }

    fn pair(&mut self, pair: &Value) -> (String, String) {
        let access = pair["access_token"]
            .as_str()
            .expect("a token pair")
            .to_owned();
        let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
        self.secrets.extend([access.clone(), refresh.clone()]);
        (access, refresh)
    }

    fn csrf_in(&mut self, html: &str) -> String {
        let token = html
            .split("name=\"csrf_token\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a csrf_token field")
            .to_owned();
        self.secrets.push(token.clone());
        token
    }

    async fn page(&mut self, path: &str) -> String {
        let res = self.send(self.client.get(self.url(path))).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.text().await.unwrap()
    }

    async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> StatusCode {
        let request = self.client.post(self.url(path)).form(fields);
        self.send(request).await.status()
    }

    /// Everything the API offers, the way clients use it (and one the way they should not).
    async fn run(&mut self) {
        let registered = self
            .json(
                "POST",
                "/api/auth/register",
                None,
                json!({ "username": "alice", "password": ALICE_PASSWORD, "email": "alice@example.test" }),
            )
            .await;
        let alice_id = registered["id"].as_str().unwrap().to_owned();
        self.json(
            "POST",
            "/api/auth/register",
            None,
            json!({ "username": "bob", "password": BOB_PASSWORD }),
        )
        .await;
        let refused = self
            .json(
                "POST",
                "/api/auth/login",
                None,
                json!({ "username": "alice", "password": WRONG_PASSWORD }),
            )
            .await;
        assert_eq!(refused["code"], "invalid_credentials");
        let (_, refresh) = self.login("alice", ALICE_PASSWORD).await;
        let rotated = self
            .json(
                "POST",
                "/api/auth/refresh",
                None,
                json!({ "refresh_token": refresh }),
            )
            .await;
        let (access, refresh2) = self.pair(&rotated);
        // The old one again: refused (a race within the grace period).
        self.json(
            "POST",
            "/api/auth/refresh",
            None,
            json!({ "refresh_token": refresh }),
        )
        .await;
        assert_eq!(self.get("/api/auth/me", &access).await, StatusCode::OK);
        assert_eq!(
            self.get("/api/auth/sessions", &access).await,
            StatusCode::OK
        );
        assert_eq!(self.get("/auth/verify", &access).await, StatusCode::OK);
        // A client that puts its tokens in the query string (never read from there).
        let wrong = self
            .client
            .get(self.url(&format!(
                "/api/auth/me?access_token={access}&refresh_token={refresh2}"
            )))
            .header("x-forwarded-for", "203.0.113.9");
        assert_eq!(self.send(wrong).await.status(), StatusCode::UNAUTHORIZED);
        let wrong = self
            .client
            .get(self.url(&format!("/auth/verify?token={access}")));
        assert_eq!(self.send(wrong).await.status(), StatusCode::UNAUTHORIZED);
        self.json(
            "POST",
            "/api/auth/password",
            Some(&access),
            json!({ "current_password": ALICE_PASSWORD, "new_password": ALICE_NEW_PASSWORD }),
        )
        .await;
        let (alice_access, _) = self.login("alice", ALICE_NEW_PASSWORD).await;

        // Administration, over the API.
        let (admin, _) = self.login("root", ADMIN_PASSWORD).await;
        assert_eq!(
            self.get("/api/admin/users?q=ali", &admin).await,
            StatusCode::OK
        );
        let user = format!("/api/admin/users/{alice_id}");
        assert_eq!(self.get(&user, &admin).await, StatusCode::OK);
        self.json(
            "POST",
            "/api/admin/roles",
            Some(&admin),
            json!({ "name": "billing", "description": "invoices" }),
        )
        .await;
        self.json(
            "PUT",
            &format!("{user}/roles"),
            Some(&admin),
            json!({ "roles": ["user", "billing"] }),
        )
        .await;
        self.json("POST", &format!("{user}/disable"), Some(&admin), json!({}))
            .await;
        self.json("POST", &format!("{user}/enable"), Some(&admin), json!({}))
            .await;
        self.json(
            "DELETE",
            &format!("{user}/sessions"),
            Some(&admin),
            json!({}),
        )
        .await;
        assert_eq!(
            self.get("/api/auth/me", &alice_access).await,
            StatusCode::UNAUTHORIZED
        );

        // The dashboard: sign in with the password, use a form, sign out.
        let login_form = self.page("/admin/login").await;
        let csrf = self.csrf_in(&login_form);
        let signed_in = self
            .form(
                "/admin/login",
                &[
                    ("username", "root"),
                    ("password", ADMIN_PASSWORD),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(signed_in, StatusCode::SEE_OTHER);
        let roles_page = self.page("/admin/roles").await;
        let csrf = self.csrf_in(&roles_page);
        let created = self
            .form(
                "/admin/roles",
                &[
                    ("name", "support"),
                    ("description", "helpdesk"),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(created, StatusCode::SEE_OTHER);
        self.page(&format!("/admin/users/{alice_id}")).await;
        self.page("/admin/audit").await;
        self.form("/admin/logout", &[("csrf_token", &csrf)]).await;

        self.json("POST", "/api/auth/logout", Some(&admin), json!({}))
            .await;
    }

    /// The secrets, plus the stored password hashes (and their hash part alone).
    fn all_secrets(&self) -> Vec<String> {
        let mut all = self.secrets.clone();
        for user in ["root", "alice", "bob"] {
            let hash = self.server.password_hash(user);
            all.push(hash.rsplit('$').next().unwrap().to_owned());
            all.push(hash);
        }
        all.sort();
        all.dedup();
        all
    }
}

/// Runs the script against a fresh server logging in `format`; returns its log and the secrets.
async fn logged_run(format: &str) -> (Vec<String>, Vec<String>) {
    let server = LoggedServer::start(format);
    let mut script = Script::new(&server);
    script.run().await;
    let secrets = script.all_secrets();
    assert!(secrets.len() > 15, "{secrets:?}");
    // Let the last lines through the pipe before the process goes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    (server.stop(), secrets)
}

fn assert_no_secret_in(log: &[String], secrets: &[String]) {
    for line in log {
        for secret in secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a secret ({}…) is in the log: {line}",
                &secret[..secret.len().min(6)]
            );
        }
    }
}

#[tokio::test]
async fn no_password_token_cookie_csrf_token_or_hash_reaches_the_text_log() {
    let (log, secrets) = logged_run("text").await;
    assert_no_secret_in(&log, &secrets);
    let access: Vec<&String> = log.iter().filter(|l| l.contains("authd::access")).collect();
    assert!(access.len() >= 30, "{} access lines", access.len());
    let masked = access
        .iter()
        .find(|l| l.contains("path=/api/auth/me?"))
        .expect("the access line of the token in a query string");
    assert!(
        masked.contains("path=/api/auth/me?access_token=***&refresh_token=***"),
        "{masked}"
    );
    assert!(masked.contains("route=/api/auth/me"), "{masked}");
    assert!(masked.contains("client=203.0.113.9"), "{masked}");
    assert!(masked.contains("status=401"), "{masked}");
    assert!(masked.contains("request_id="), "{masked}");
    assert!(masked.contains("duration_ms="), "{masked}");
    assert!(
        log.iter()
            .any(|l| l.contains("path=/auth/verify?token=*** ")),
        "{access:?}"
    );
}

#[tokio::test]
async fn every_json_log_line_is_an_object_and_secrets_stay_out() {
    let (log, secrets) = logged_run("json").await;
    assert_no_secret_in(&log, &secrets);
    let mut access = 0;
    for line in log.iter().filter(|l| !l.trim().is_empty()) {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for field in ["ts", "level", "target", "msg"] {
            assert!(parsed[field].is_string(), "{field} missing: {line}");
        }
        if parsed["target"] == "authd::access" {
            access += 1;
            assert!(parsed["status"].is_u64(), "{line}");
            assert!(parsed["duration_ms"].is_number(), "{line}");
            for field in ["request_id", "client", "method", "path", "route"] {
                assert!(parsed[field].is_string(), "{field} missing: {line}");
            }
        }
    }
    assert!(access >= 30, "{access} access lines");
    let admin_user = log
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["route"] == "/api/admin/users/{id}/roles")
        .expect("an access line for the roles route");
    assert_eq!(admin_user["method"], "PUT");
    assert_eq!(admin_user["status"], 200);
    assert!(
        admin_user["path"]
            .as_str()
            .unwrap()
            .starts_with("/api/admin/users/")
    );
}
