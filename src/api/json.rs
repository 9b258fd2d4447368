//! How bad input is answered: problem+json with the right status, never a 500.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};

use super::error::ApiError;

/// Bodies above this are refused with 413 before they are parsed.
pub const JSON_LIMIT: usize = 64 * 1024;

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .content_type_required(true)
        .error_handler(|err, _req| {
            let api = match &err {
                JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ApiError::PayloadTooLarge,
                JsonPayloadError::Deserialize(e) if e.is_data() => {
                    ApiError::InvalidRequest(format!("the JSON body has the wrong shape: {e}"))
                }
                JsonPayloadError::Deserialize(_) => {
                    ApiError::InvalidRequest("the body is not valid JSON".into())
                }
                _ => ApiError::InvalidRequest("the request body could not be read".into()),
            };
            api.into()
        })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        let _ = err;
        ApiError::NotFound.into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        ApiError::InvalidRequest(format!("invalid query string: {err}")).into()
    })
}

/// What a request no route of this face took gets: `404 not_found`, or `405` with `Allow` when
/// the path is known (see `crate::methods`).
pub fn no_route(_req: &HttpRequest, allow: Option<String>) -> HttpResponse {
    let error = match allow {
        Some(allow) => ApiError::MethodNotAllowed { allow },
        None => ApiError::NotFound,
    };
    actix_web::ResponseError::error_response(&error)
}
