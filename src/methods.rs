//! HTTP method conventions for both faces: every GET route also answers HEAD, and a known path
//! asked with another method is `405 Method Not Allowed` with `Allow`, not `404`.
//!
//! Neither needs a table of routes that could drift from the real ones. HEAD is answered by
//! routing it as GET (the HTTP layer still knows the request was HEAD and sends no body). For
//! 405, actix's router notes every method guard it tried while looking for a route for the
//! path; a resource without routes answers with exactly those in `Allow`. [`fallback`] is such a
//! resource, registered after a face's routes: whatever it answers, `Allow` says whether the
//! path is known (405) or not (404), and the face renders that its own way.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpRequest, HttpResponse, Resource, web};

/// Routes HEAD as GET. Outermost middleware (the access log) still sees HEAD.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// The path pattern of [`fallback`]'s catch-all: no real route's pattern ends with it.
const CATCH_ALL: &str = "/{tail:.*}";

/// Whether a matched pattern is only [`fallback`] catching what no route took (registered at the
/// root, actix reports its pattern as empty).
pub fn is_catch_all(pattern: &str) -> bool {
    pattern.is_empty() || pattern.ends_with(CATCH_ALL)
}

/// How a face answers a request no route took: `allow` is `None` for an unknown path (404),
/// else the value of the `Allow` header for the 405.
pub type Answer = fn(&HttpRequest, Option<String>) -> HttpResponse;

/// A catch-all resource, to register last in a scope (or the app): answers `answer(req, allow)`.
pub fn fallback(
    answer: Answer,
) -> Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    web::resource(["", CATCH_ALL]).wrap(from_fn(
        move |req: ServiceRequest, next: Next<_>| async move {
            // No routes here: this is actix's own 405, with the methods its router saw.
            let seen = next.call(req).await?;
            let allow = seen
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .and_then(allow_header);
            let (req, _) = seen.into_parts();
            let res = answer(&req, allow);
            Ok::<_, Error>(ServiceResponse::new(req, res))
        },
    ))
}

/// The methods in conventional order, HEAD added wherever GET is; `None` when there are none.
fn allow_header(seen: &str) -> Option<String> {
    const ORDER: [&str; 8] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
    ];
    let seen: Vec<&str> = seen.split(',').map(str::trim).collect();
    let has = |m: &str| seen.contains(&m) || (m == "HEAD" && seen.contains(&"GET"));
    let allowed: Vec<&str> = ORDER.into_iter().filter(|m| has(m)).collect();
    (!allowed.is_empty()).then(|| allowed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::allow_header;

    #[test]
    fn allow_lists_each_method_once_in_order_with_head_beside_get() {
        assert_eq!(allow_header("POST, GET, POST").unwrap(), "GET, HEAD, POST");
        assert_eq!(allow_header("DELETE").unwrap(), "DELETE");
        assert_eq!(allow_header(""), None);
    }
}
