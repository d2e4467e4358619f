//! Per-connection control: how a handler closes or resets the TCP connection its request came
//! on.
//!
//! The accept loop wraps every accepted [`TcpStream`] in a [`ConnIo`] and inserts the
//! connection's [`ConnControl`] into every request it serves, so a handler (or middleware) can:
//!
//! * [`ConnControl::close_after`]: doom the connection once the current response is out. It is
//!   then kept open until the client writes the next request's bytes onto it, and closed
//!   without reading or answering them: the kernel answers them with a reset (`RST`). This is
//!   the worst case of what uvicorn does after an unhandled exception (it closes the transport
//!   right after the 500, with no `Connection: close` header): a client quick enough to reuse
//!   the connection before it notices the `FIN` has its request reset. Here every client meets
//!   that case, deterministically. A client that half-closes (`EOF`) instead gets a plain
//!   close.
//! * [`ConnControl::reset`]: abort the connection now with a reset (`SO_LINGER` 0), without any
//!   response (the exactly-once faults of [`crate::faults`]).
//!
//! Every connection still ends when the listener stops (the accept loop's kill switch).

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, ready},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_util::sync::CancellationToken;

/// The control of one connection, shared by its [`ConnIo`] and the requests served on it
/// (inserted as a request extension by the accept loop).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnControl(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    /// Set once a response asked for the connection to close after it.
    doomed: AtomicBool,
    /// Cancelled to reset the connection now.
    reset: CancellationToken,
}

impl ConnControl {
    /// Dooms the connection: the next bytes the client sends on it are answered by a reset,
    /// unread (an `EOF` closes it normally). Call once the response that closes it is out.
    pub fn close_after(&self) {
        self.0.doomed.store(true, Ordering::SeqCst);
    }

    /// Resets the connection now, without a response: the accept loop drops it with
    /// `SO_LINGER` 0.
    pub fn reset(&self) {
        self.0.reset.cancel();
    }

    /// Resolves once [`ConnControl::reset`] was called.
    pub async fn reset_requested(&self) {
        self.0.reset.cancelled().await
    }

    fn is_doomed(&self) -> bool {
        self.0.doomed.load(Ordering::SeqCst)
    }

    fn is_reset(&self) -> bool {
        self.0.reset.is_cancelled()
    }
}

/// A [`TcpStream`] that obeys its connection's [`ConnControl`].
#[derive(Debug)]
pub(crate) struct ConnIo {
    stream: TcpStream,
    control: ConnControl,
    /// Set when a doomed connection met the client's next bytes: it must end with RST, so no
    /// `FIN` (hyper shuts the write side down when a connection ends) may go first.
    resetting: bool,
}

impl ConnIo {
    /// Wraps `stream`, controlled by `control`.
    pub fn new(stream: TcpStream, control: ConnControl) -> ConnIo {
        ConnIo {
            stream,
            control,
            resetting: false,
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.control.is_doomed() {
            // Look without taking: the bytes must stay unread so closing answers them with RST.
            let mut probe = [0u8; 1];
            let mut probe = ReadBuf::new(&mut probe);
            let n = ready!(self.stream.poll_peek(cx, &mut probe))?;
            if n == 0 {
                return Poll::Ready(Ok(()));
            }
            let _ = self.stream.set_zero_linger();
            self.resetting = true;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "the connection was closed after an unhandled error",
            )));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.resetting || self.control.is_reset() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.resetting || self.control.is_reset() {
            // Closing with a zero linger sends RST instead of FIN.
            let _ = self.stream.set_zero_linger();
        }
    }
}
