//! The JSON face's identity extractors: a Bearer access token only, failures as problem+json.

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::domain::Principal;
use crate::identity::{self, Accept, RequireRole, RoleMarker};

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(identity::identify(&req, Accept::Bearer).await?) })
    }
}

/// `403 insufficient_role` unless the token carries role `R`.
impl<R: RoleMarker + 'static> FromRequest for RequireRole<R> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(RequireRole::identify(&req, Accept::Bearer).await?) })
    }
}
