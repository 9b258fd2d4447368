//! Where a request came from, as sessions and audit events record it.

#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// User agents longer than this are cut: they are shown, never parsed.
    pub const MAX_USER_AGENT: usize = 512;

    pub fn new(ip: Option<String>, user_agent: Option<&str>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(Self::MAX_USER_AGENT).collect()),
        }
    }
}
