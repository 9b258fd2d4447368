//! One-shot messages after a POST: set on the 303, shown and cleared by the next page. The cookie
//! is `Secure` with the `__Host-` prefix whenever the session cookie is (`AUTHD_COOKIE_SECURE`).

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::{HttpRequest, HttpResponse, http::header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The cookie's name: the `__Host-` prefix (Secure, Path=/, no Domain) whenever it is Secure.
fn name(secure: bool) -> &'static str {
    if secure {
        "__Host-authd_flash"
    } else {
        "authd_flash"
    }
}

#[derive(Debug, Clone)]
pub struct Flash {
    pub ok: bool,
    pub message: String,
    /// How the cookie it came in was set, so it is cleared the same way.
    secure: bool,
}

impl Flash {
    pub fn secure(&self) -> bool {
        self.secure
    }
}

pub fn read(req: &HttpRequest, secure: bool) -> Option<Flash> {
    let raw = URL_SAFE_NO_PAD
        .decode(req.cookie(name(secure))?.value())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (kind, message) = text.split_once('\n')?;
    Some(Flash {
        ok: kind == "ok",
        message: message.chars().take(300).collect(),
        secure,
    })
}

fn cookie(value: String, max_age: Duration, secure: bool) -> Cookie<'static> {
    Cookie::build(name(secure), value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish()
}

/// 303 to `location`, carrying a message for the page there.
pub fn redirect(location: &str, ok: bool, message: &str, secure: bool) -> HttpResponse {
    let value = URL_SAFE_NO_PAD.encode(format!("{}\n{message}", if ok { "ok" } else { "error" }));
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .cookie(cookie(value, Duration::seconds(60), secure))
        .finish()
}

/// Clears a shown message so a reload does not show it again.
pub fn clear(res: &mut HttpResponse, secure: bool) {
    let _ = res.add_cookie(&cookie(String::new(), Duration::ZERO, secure));
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn set_cookie(res: &HttpResponse) -> String {
        res.headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn the_flash_cookie_is_secure_with_the_host_prefix_like_the_session_cookie() {
        let secure = set_cookie(&redirect("/admin/roles", true, "Role created.", true));
        assert!(secure.starts_with("__Host-authd_flash="), "{secure}");
        for attribute in ["Secure", "HttpOnly", "Path=/", "SameSite=Strict"] {
            assert!(secure.contains(attribute), "{attribute} missing: {secure}");
        }
        // Local plain HTTP (AUTHD_COOKIE_SECURE=false): a Secure cookie would never come back.
        let plain = set_cookie(&redirect("/admin/roles", true, "Role created.", false));
        assert!(
            plain.starts_with("authd_flash=") && !plain.contains("Secure"),
            "{plain}"
        );
    }

    #[test]
    fn a_flash_is_read_from_the_cookie_of_its_mode_and_cleared_the_same_way() {
        let value = URL_SAFE_NO_PAD.encode("ok\nSaved.");
        let req = TestRequest::default()
            .cookie(Cookie::new("__Host-authd_flash", value.clone()))
            .to_http_request();
        let flash = read(&req, true).unwrap();
        assert!(flash.ok && flash.message == "Saved." && flash.secure());
        assert!(read(&req, false).is_none());
        let mut res = HttpResponse::Ok().finish();
        clear(&mut res, flash.secure());
        assert!(set_cookie(&res).starts_with("__Host-authd_flash=;"));
    }
}
