//! One-shot messages after a POST: set on the 303, shown and cleared by the next page.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::{HttpRequest, HttpResponse, http::header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const COOKIE: &str = "authd_flash";

#[derive(Debug, Clone)]
pub struct Flash {
    pub ok: bool,
    pub message: String,
}

pub fn read(req: &HttpRequest) -> Option<Flash> {
    let raw = URL_SAFE_NO_PAD.decode(req.cookie(COOKIE)?.value()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (kind, message) = text.split_once('\n')?;
    Some(Flash {
        ok: kind == "ok",
        message: message.chars().take(300).collect(),
    })
}

fn cookie(value: String, max_age: Duration) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish()
}

/// 303 to `location`, carrying a message for the page there.
pub fn redirect(location: &str, ok: bool, message: &str) -> HttpResponse {
    let value = URL_SAFE_NO_PAD.encode(format!("{}\n{message}", if ok { "ok" } else { "error" }));
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .cookie(cookie(value, Duration::seconds(60)))
        .finish()
}

/// Clears a shown message so a reload does not show it again.
pub fn clear(res: &mut HttpResponse) {
    let _ = res.add_cookie(&cookie(String::new(), Duration::ZERO));
}
