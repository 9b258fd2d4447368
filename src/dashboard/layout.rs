//! What every dashboard page hands its layout: the signed-in admin, the CSRF token for its forms,
//! the flash message, which nav entry is current.

use super::flash::Flash;
use crate::domain::Principal;

pub struct Chrome {
    pub admin: Option<String>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
    pub section: &'static str,
}

impl Chrome {
    pub fn new(principal: &Principal, flash: Option<Flash>, section: &'static str) -> Self {
        Self {
            admin: Some(principal.username.clone()),
            csrf_token: principal.csrf_token().unwrap_or_default().to_owned(),
            flash,
            section,
        }
    }

    /// For pages shown without a signed-in admin (login, errors).
    pub fn bare() -> Self {
        Self {
            admin: None,
            csrf_token: String::new(),
            flash: None,
            section: "",
        }
    }

    /// Whether this page shows a flash message, and how its cookie was set (to clear it).
    pub fn shown_flash(&self) -> ShownFlash {
        ShownFlash(self.flash.as_ref().map(Flash::secure))
    }

    pub fn is(&self, section: &str) -> bool {
        self.section == section
    }
}

/// A page's shown flash message, for `render` to clear: `Some(secure)` when there is one.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShownFlash(pub Option<bool>);
