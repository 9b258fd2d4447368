//! `POST /admin/users/{id}/unthrottle`: an administrator clears an account's failed-login
//! throttling (on every instance), back to the user's page with a flash message.

use actix_web::{HttpResponse, post, web};

use super::error::PageError;
use super::extract::{AdminPage, CsrfForm};
use super::form::NoFields;
use super::users::{outcome, parse_id};
use crate::domain::ClientInfo;
use crate::services::throttle;
use crate::state::AppState;

#[post("/users/{id}/unthrottle")]
pub async fn clear(
    state: web::Data<AppState>,
    admin: AdminPage,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    let result = throttle::clear(&state, &admin.principal, id, &client).await;
    outcome(&state, id, result, |()| {
        "Failed-login throttling cleared: the account can be signed in to again from every address."
            .to_owned()
    })
}
