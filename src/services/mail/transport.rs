//! The SMTP connection. Errors are reported as text fit to store (`last_error`) and log: never the
//! URL, and the password scrubbed should a server echo it.

use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;

/// How long one SMTP conversation may take, connecting included.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a mail did not go.
pub struct SendError {
    pub message: String,
    /// The server refused it for good (5xx): retrying cannot help.
    pub permanent: bool,
}

pub struct Transport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    password: Option<String>,
}

impl Transport {
    /// From the checked configuration (`Config` parsed the URL already).
    pub fn new(config: &MailConfig) -> Result<Self, String> {
        let url = config.smtp_url.expose();
        let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("AUTHD_SMTP_URL: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self {
            smtp,
            password: password_of(url),
        })
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self.smtp.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError {
                permanent: e.is_permanent(),
                message: self.scrub(&e.to_string()),
            }),
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut text: String = text.chars().take(500).collect();
        if let Some(password) = self.password.as_deref().filter(|p| !p.is_empty()) {
            text = text.replace(password, "***");
        }
        text
    }
}

/// The password part of `scheme://user:password@host`, as written and percent-decoded.
fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    let raw = userinfo.split_once(':')?.1;
    Some(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_of_the_url_never_reaches_an_error_text() {
        let config = MailConfig {
            smtp_url: crate::config::Secret::new("smtp://mailer:hunter2secret@127.0.0.1:2525"),
            from: "authd@example.org".into(),
        };
        let transport = Transport::new(&config).unwrap();
        assert_eq!(
            transport.scrub("535 auth failed for mailer:hunter2secret"),
            "535 auth failed for mailer:***"
        );
    }
}
