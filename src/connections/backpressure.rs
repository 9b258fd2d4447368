//! Pipelining without reading the answers must not grow memory. actix-http's h1 dispatcher reads
//! up to 128 KiB of a connection's input at a time and decodes *every* request in it into its
//! queue (its 16-message pipeline limit is checked only before a decode round, not inside it);
//! when the client reads none of the answers, the write side stalls and those thousands of
//! decoded requests wait in memory (~19 MiB a connection was measured). actix has no setting for
//! it, so each connection's stream is wrapped: it hands the dispatcher at most `READ_BUDGET`
//! bytes until the dispatcher's answers have all been written out again. Then the client's
//! surplus waits in TCP flow control (the kernel's buffers), not in ours.
//!
//! "All written out" is the dispatcher flushing the stream: actix-http flushes only once its
//! write buffer is empty. A refused read leaves no waker with the socket, so the flush that
//! restores the budget wakes the task itself.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes of input a connection may hand over while its answers have not all been written: a
/// few dozen small requests, or part of a body (a body's reading produces no answer, so its
/// budget comes back at every turn of the dispatcher).
pub const READ_BUDGET: usize = 4 * 1024;

pub struct Backpressured<T> {
    io: T,
    budget: usize,
    refused: bool,
}

impl<T> Backpressured<T> {
    pub fn new(io: T) -> Self {
        Self {
            io,
            budget: READ_BUDGET,
            refused: false,
        }
    }

    pub fn get_ref(&self) -> &T {
        &self.io
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Backpressured<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.budget == 0 {
            this.refused = true;
            return Poll::Pending;
        }
        if buf.remaining() <= this.budget {
            let before = buf.filled().len();
            let polled = Pin::new(&mut this.io).poll_read(cx, buf);
            this.budget -= buf.filled().len() - before;
            return polled;
        }
        // Read no more than the budget (a copy through the stack: no unsafe buffer juggling).
        let mut chunk = [0u8; READ_BUDGET];
        let mut small = ReadBuf::new(&mut chunk[..this.budget]);
        let polled = Pin::new(&mut this.io).poll_read(cx, &mut small);
        let got = small.filled();
        this.budget -= got.len();
        buf.put_slice(got);
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Backpressured<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.budget = READ_BUDGET;
        if std::mem::take(&mut this.refused) {
            cx.waker().wake_by_ref();
        }
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
