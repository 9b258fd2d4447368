//! The mails: plain text, the link and nothing else secret.

use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;

/// What a mail says; the link is its only secret.
pub struct Letter {
    pub to: String,
    pub subject: &'static str,
    pub body: String,
}

impl Letter {
    pub fn password_reset(to: &str, username: &str, link: &str, ttl_minutes: i64) -> Self {
        Self {
            to: to.to_owned(),
            subject: "Reset your password",
            body: format!(
                "Hello {username},\n\n\
                 someone (hopefully you) asked to reset the password of this account.\n\
                 To choose a new password, open this link within {ttl_minutes} minutes:\n\n\
                 {link}\n\n\
                 If you did not ask for this, ignore this mail: your password stays as it is.\n"
            ),
        }
    }

    pub fn email_verification(to: &str, username: &str, link: &str) -> Self {
        Self {
            to: to.to_owned(),
            subject: "Confirm your email address",
            body: format!(
                "Hello {username},\n\n\
                 to confirm that this address belongs to your account, open this link within \
                 24 hours:\n\n\
                 {link}\n\n\
                 If you did not ask for this, ignore this mail.\n"
            ),
        }
    }

    /// The message; an address the mail library cannot take is a permanent failure.
    pub fn build(self, from: &str) -> Result<Message, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("AUTHD_MAIL_FROM: {e}"))?;
        let to: Mailbox = self
            .to
            .parse()
            .map_err(|e| format!("recipient address refused: {e}"))?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(self.body)
            .map_err(|e| format!("message: {e}"))
    }
}
