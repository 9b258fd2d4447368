//! A real SMTP server per test (aiosmtpd, tests/tools/smtp_sink.py) writing what it receives to
//! a directory under target/, and the mail routes of [`TestApp`].

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// How long a test waits for a mail before failing.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The Python of the venv `scripts/test` prepares (`AUTHD_TEST_PYTHON` overrides it).
fn tools_python() -> PathBuf {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/target/tools-venv/bin/python");
    let python: PathBuf =
        std::env::var_os("AUTHD_TEST_PYTHON").map_or_else(|| venv.into(), Into::into);
    assert!(
        python.exists(),
        "no {python:?}: run scripts/test, or: . scripts/lib.sh; ensure_tools_venv"
    );
    python
}

/// A port nothing listens on (as far as anyone can tell).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A delivered message: envelope recipients and the raw text.
#[derive(Debug, Clone)]
pub struct Delivered {
    #[allow(dead_code)]
    pub to: Vec<String>,
    pub data: String,
}

impl Delivered {
    /// The first `https?://...` link in the body, quoted-printable soft breaks undone.
    pub fn link(&self) -> String {
        let text = self
            .data
            .replace("=\r\n", "")
            .replace("=\n", "")
            .replace("=3D", "=");
        let start = text.find("http").expect("a link in the mail");
        text[start..].split_whitespace().next().unwrap().to_owned()
    }

    /// The `token` query parameter of the link.
    pub fn token(&self) -> String {
        let link = self.link();
        link.split_once("token=")
            .expect("a token in the link")
            .1
            .to_owned()
    }
}

/// An SMTP server on its own port, stopped when dropped.
pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// On `port` (e.g. one an app was already told to use).
    pub fn start_on(port: u16) -> Self {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-mail"))
            .join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/smtp_sink.py");
        let mut child = Command::new(tools_python())
            .args([script, "--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        // "ready" once it listens.
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Self { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything delivered so far to `recipient`.
    pub fn delivered_to(&self, recipient: &str) -> Vec<Delivered> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let record: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let to: Vec<String> = record["to"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect();
            if to.iter().any(|t| t.eq_ignore_ascii_case(recipient)) {
                out.push(Delivered {
                    to,
                    data: record["data"].as_str().unwrap().to_owned(),
                });
            }
        }
        out
    }

    /// Waits (bounded) until `count` mails reached `recipient`; returns them.
    pub async fn wait_for(&self, recipient: &str, count: usize) -> Vec<Delivered> {
        let start = Instant::now();
        loop {
            let mails = self.delivered_to(recipient);
            if mails.len() >= count {
                return mails;
            }
            assert!(
                start.elapsed() < DELIVERY_TIMEOUT,
                "{count} mail(s) to {recipient} not delivered within {DELIVERY_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The settings that make an app send mail to `smtp_url`.
pub fn mail_env(smtp_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AUTHD_SMTP_URL", smtp_url.to_owned()),
        ("AUTHD_MAIL_FROM", "authd <noreply@authd.test>".to_owned()),
        ("AUTHD_MAIL_RETRY", "1".to_owned()),
    ]
}

impl TestApp {
    pub async fn post_forgot_password(&self, body: &Value) -> Response {
        self.client
            .post(self.url("/api/auth/forgot-password"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_verify_request(&self, token: &str) -> Response {
        self.client
            .post(self.url("/api/auth/email/verify-request"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_verify_email(&self, token: &str) -> Response {
        self.client
            .post(self.url("/api/auth/email/verify"))
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap()
    }
}
