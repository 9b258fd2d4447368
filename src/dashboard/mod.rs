//! The HTML face: the landing page and the admin dashboard under `/admin`. Handlers stay thin:
//! their extractors identify the admin and check the form's CSRF token; they call a service and
//! render a page or redirect with a flash message.

mod audit;
mod csrf;
mod error;
mod extract;
mod filters;
mod flash;
mod form;
pub mod home;
mod layout;
mod login;
mod overview;
mod pager;
mod roles;
mod sessions;
mod throttle;
mod users;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use crate::methods;
use layout::ShownFlash;

pub use error::PageError;

/// Appended to asset URLs so a new release is fetched despite year-long cache headers.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Mounts `/admin`. Only this face's extractors accept the session cookie as a credential.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .service(login::show)
            .service(login::submit)
            .service(login::logout)
            .service(overview::page)
            .service(users::list)
            .service(users::detail)
            .service(users::set_roles)
            .service(users::revoke_sessions)
            .service(users::set_disabled)
            .service(throttle::clear)
            .service(sessions::list)
            .service(sessions::revoke)
            .service(audit::page)
            .service(roles::list)
            .service(roles::create)
            // Last: an unknown path is a 404 page, a known one with another method a 405 page.
            .service(methods::fallback(no_route)),
    );
}

fn no_route(_req: &HttpRequest, allow: Option<String>) -> HttpResponse {
    match allow {
        Some(allow) => PageError::MethodNotAllowed { allow },
        None => PageError::NotFound,
    }
    .error_response()
}

/// Renders a page; `shown_flash` (from `Chrome::shown_flash`: the page shows a flash message)
/// clears that message's cookie so a reload does not repeat it.
pub fn render(page: &impl Template, shown_flash: ShownFlash) -> Result<HttpResponse, PageError> {
    let body = page.render()?;
    let mut res = HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body);
    if let ShownFlash(Some(secure)) = shown_flash {
        flash::clear(&mut res, secure);
    }
    Ok(res)
}
