//! Who is acting: a plain value, so services can take it without knowing how it was proven.

use uuid::Uuid;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A verified `Authorization: Bearer` access token.
    Bearer,
    /// A dashboard session cookie; its forms must carry this session's CSRF token.
    DashboardCookie { csrf_token: String },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub roles: Vec<String>,
    pub session_id: Uuid,
    pub credential: Credential,
}

impl Principal {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The CSRF token the caller's forms carry; none for bearer tokens, which need no CSRF defence.
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.credential {
            Credential::DashboardCookie { csrf_token } => Some(csrf_token),
            Credential::Bearer => None,
        }
    }
}
