//! The dashboard's extractors, over the same `identity::identify` as the JSON API: a session
//! cookie (or a Bearer token) is accepted, and failures become a redirect to the login form or a
//! 403 page. `CsrfForm<T>` and `LoginForm<T>` check a form's origin and token before its fields are
//! read, so no handler checks CSRF by hand.

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::csrf;
use super::error::PageError;
use super::flash::{self, Flash};
use super::form::FormBody;
use super::layout::Chrome;
use crate::domain::Principal;
use crate::identity::{self, Accept, Admin, RequireRole};
use crate::state::AppState;

/// Anyone with a live dashboard session (signing out needs no role).
pub struct SignedIn(pub Principal);

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            Ok(Self(
                identity::identify(&req, Accept::BearerOrCookie).await?,
            ))
        })
    }
}

/// An administrator viewing or changing a page, with the flash message the last POST left.
pub struct AdminPage {
    pub principal: Principal,
    flash: Option<Flash>,
}

impl AdminPage {
    /// What the layout shows around a page of `section`.
    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome::new(&self.principal, self.flash.clone(), section)
    }
}

impl FromRequest for AdminPage {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let admin = RequireRole::<Admin>::identify(&req, Accept::BearerOrCookie).await?;
            // Without the app state (a wiring mistake) the cookie is looked for as Secure.
            let secure = req
                .app_data::<web::Data<AppState>>()
                .is_none_or(|s| s.config.cookie_secure);
            Ok(Self {
                principal: admin.principal,
                flash: flash::read(&req, secure),
            })
        })
    }
}

/// A signed-in form submission whose origin and session CSRF token were checked; then its fields.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = FormBody::from_request(&req, payload);
        Box::pin(async move {
            let principal = identity::identify(&req, Accept::BearerOrCookie).await?;
            let body = body.await?;
            csrf::verify(&req, &principal, &body.csrf_token())?;
            body.parse().map(Self)
        })
    }
}

/// The login form: origin and double-submit cookie checked, then its fields.
pub struct LoginForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for LoginForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = FormBody::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            csrf::verify_login(&req, &body.csrf_token())?;
            body.parse().map(Self)
        })
    }
}
