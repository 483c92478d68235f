//! A socket whose writes fail when they make no progress for too long.
//!
//! A client that stops reading fills the kernel's buffers, and every write
//! to it then waits forever: the task, its queue and the write buffer stay
//! pinned. Wrapped in [`WriteDeadline`], such a write fails with
//! [`io::ErrorKind::TimedOut`] once no byte could be written for the
//! timeout, so the connection ends and frees its memory. A reader that is
//! merely slow makes progress and is never cut off.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};

/// `io`, whose writes fail after `timeout` without progress.
#[derive(Debug)]
pub(crate) struct WriteDeadline<T> {
    io: T,
    timeout: Duration,
    /// Created the first time a write waits, then re-armed: a socket that
    /// never blocks costs no timer.
    stalled: Option<Pin<Box<Sleep>>>,
    /// Whether `stalled` runs for the write now waiting.
    waiting: bool,
}

/// Whether `error` is a [`WriteDeadline`] giving up on a reader.
pub(crate) fn is_stalled(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::TimedOut
}

impl<T> WriteDeadline<T> {
    pub(crate) fn new(io: T, timeout: Duration) -> Self {
        Self {
            io,
            timeout,
            stalled: None,
            waiting: false,
        }
    }

    /// Passes a finished write through and stops the clock; on a waiting one
    /// starts the clock, or fails once it ran out.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.waiting = false;
            return poll;
        }
        let deadline = Instant::now() + self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.waiting {
            stalled.as_mut().reset(deadline);
            self.waiting = true;
        }
        ready!(stalled.as_mut().poll(cx));
        self.waiting = false;
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "no byte could be written for {:?}: the client is not reading",
                self.timeout
            ),
        )))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_write_nobody_reads_fails_after_the_timeout_and_a_read_one_does_not() {
        let (client, server) = tokio::io::duplex(1024);
        let mut server = WriteDeadline::new(server, Duration::from_secs(5));
        let chunk = vec![0u8; 4096];
        let started = Instant::now();
        let error = server.write_all(&chunk).await.unwrap_err();
        assert!(is_stalled(&error), "{error}");
        assert_eq!(started.elapsed(), Duration::from_secs(5));

        // A reader taking 1 KiB every 4 s (what is left, then all of this
        // write) makes progress each time: no error.
        let mut client = client;
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 1024];
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                client.read_exact(&mut buf).await.unwrap();
            }
        });
        server.write_all(&chunk).await.unwrap();
        reader.await.unwrap();
    }
}
