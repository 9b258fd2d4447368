//! What every dashboard page hands its layout: the signed-in admin, the CSRF token for its forms,
//! the flash message, which nav entry is current.

use actix_web::HttpRequest;

use super::flash::{self, Flash};
use crate::auth::Principal;

pub struct Chrome {
    pub admin: Option<String>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
    pub section: &'static str,
}

impl Chrome {
    pub fn new(req: &HttpRequest, principal: &Principal, section: &'static str) -> Self {
        Self {
            admin: Some(principal.username.clone()),
            csrf_token: principal.csrf_token.clone().unwrap_or_default(),
            flash: flash::read(req),
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

    pub fn is(&self, section: &str) -> bool {
        self.section == section
    }
}
