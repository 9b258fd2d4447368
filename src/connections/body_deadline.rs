//! A request body must arrive in full within `AUTHD_BODY_TIMEOUT` seconds of its head: a client
//! that announces 2000 bytes and sends one would otherwise hold its connection (and a file
//! descriptor) for as long as it likes. Past the deadline the body reads as an error, the handler
//! gives up, and the answer becomes `408` with `Connection: close`.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};
use futures_util::Stream;
use tokio::time::Sleep;

use crate::api::ApiError;
use crate::dashboard::PageError;
use crate::state::AppState;

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(secs) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.body_timeout_secs)
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !has_body(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let expired = Rc::new(Cell::new(false));
    let stream: Pin<Box<dyn Stream<Item = Result<web::Bytes, PayloadError>>>> =
        Box::pin(Deadline {
            inner: req.take_payload(),
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(secs))),
            expired: expired.clone(),
        });
    req.set_payload(Payload::from(stream));
    let is_page = is_page(req.path());
    let res = next.call(req).await?;
    if !expired.get() {
        return Ok(res.map_into_boxed_body());
    }
    let mut answer = if is_page {
        PageError::TimedOut.error_response()
    } else {
        ApiError::BodyTimeout { secs }.error_response()
    };
    answer.head_mut().set_connection_type(ConnectionType::Close);
    Ok(res.into_response(answer))
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.trim() != "0")
            && headers.contains_key(header::CONTENT_LENGTH)
}

/// The dashboard's pages answer a browser with HTML, never problem+json.
fn is_page(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/") || path.starts_with("/reset-password")
}

struct Deadline {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "request body deadline",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
