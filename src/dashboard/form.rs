//! Reading an urlencoded form body, where a repeated key (`roles=a&roles=b`) fills a `Vec`.

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::error::PageError;

/// Forms here are small; anything larger is not one of ours.
const LIMIT: usize = 16 * 1024;

/// The raw body of a form submission, checked for its content type and size.
pub struct FormBody(web::Bytes);

impl FormBody {
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, PageError> {
        serde_html_form::from_bytes(&self.0)
            .map_err(|e| PageError::BadRequest(format!("The form is incomplete: {e}")))
    }

    /// The CSRF token every form carries; empty when it is missing.
    pub fn csrf_token(&self) -> String {
        self.parse::<CsrfField>()
            .map(|f| f.csrf_token)
            .unwrap_or_default()
    }
}

impl FromRequest for FormBody {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_form {
                return Err(PageError::BadRequest("Expected a form submission.".into()));
            }
            let bytes = body
                .await
                .map_err(|_| PageError::BadRequest("The form could not be read.".into()))?;
            if bytes.len() > LIMIT {
                return Err(PageError::BadRequest("The form is too large.".into()));
            }
            Ok(Self(bytes))
        })
    }
}

/// The token every form carries; other fields are left to the form's own type.
#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

/// A form with no fields but its token.
#[derive(serde::Deserialize)]
pub struct NoFields {}
