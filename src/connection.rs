//! Closes connections that do nothing. A client that connects and never
//! sends a call, or keeps a connection open long after its last call, holds a
//! socket and an HTTP/2 session on the server; enough of them and nobody else
//! gets in. HTTP/2 keepalive pings only find peers that have gone away, not
//! peers that stay and idle, so idleness is counted in calls, not bytes: a
//! connection is idle while none of its calls is in flight, and one idle for
//! the configured time is closed. A call whose request never finishes arriving
//! (half-sent) is ended by the server's request timeout, after which the
//! connection is idle like any other.

use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Calls in flight on one connection, and when the last one ended.
#[derive(Debug)]
pub struct Activity {
    in_flight: AtomicUsize,
    last_call_ended: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last_call_ended: Mutex::new(Instant::now()),
        }
    }

    /// When the connection becomes idle too long, or `None` while a call runs.
    fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let ended = *self
            .last_call_ended
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Some(ended + idle)
    }

    /// Counts a call as in flight until the returned guard is dropped.
    pub fn call_started(self: &Arc<Self>) -> CallInFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        CallInFlight(self.clone())
    }
}

/// Marks one call in flight; dropping it ends the call.
#[derive(Debug)]
pub struct CallInFlight(Arc<Activity>);

impl Drop for CallInFlight {
    fn drop(&mut self) {
        *self
            .0
            .last_call_ended
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a call learns of its connection (a request extension).
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub tcp: TcpConnectInfo,
    pub activity: Arc<Activity>,
}

/// A TCP stream that fails its next read once the connection has been idle
/// for `idle`, which makes the HTTP/2 server close it.
pub struct IdleClosing {
    stream: TcpStream,
    /// Boxed so the stream stays `Unpin`, as the server requires.
    timer: Pin<Box<Sleep>>,
    idle: Duration,
    activity: Arc<Activity>,
}

impl IdleClosing {
    pub fn new(stream: TcpStream, idle: Duration) -> Self {
        Self {
            stream,
            timer: Box::pin(tokio::time::sleep(idle)),
            idle,
            activity: Arc::new(Activity::new()),
        }
    }
}

impl Connected for IdleClosing {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        ConnectionInfo {
            tcp: self.stream.connect_info(),
            activity: self.activity.clone(),
        }
    }
}

impl AsyncRead for IdleClosing {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        // The server always has a read pending, so the timer's wake-up lands
        // here; re-arm it for as long as the connection is not idle enough.
        while this.timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            match this.activity.idle_deadline(this.idle) {
                Some(deadline) if deadline <= now => {
                    tracing::debug!(idle = ?this.idle, "closing an idle connection");
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection idle too long",
                    )));
                }
                Some(deadline) => this.timer.as_mut().reset(deadline),
                None => this.timer.as_mut().reset(now + this.idle),
            }
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for IdleClosing {
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

/// Counts each call in flight on its connection (a tower layer for the
/// server), so that idleness is measured between calls.
#[derive(Debug, Clone, Default)]
pub struct TrackCalls;

impl<S> tower_layer::Layer<S> for TrackCalls {
    type Service = TrackedCalls<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TrackedCalls { inner }
    }
}

#[derive(Debug, Clone)]
pub struct TrackedCalls<S> {
    inner: S,
}

impl<S, B> tower_service::Service<http::Request<B>> for TrackedCalls<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Tracked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // Under TLS tonic inserts the connection's own info as well as its
        // TLS wrapper, so one lookup serves both (tested in tests/tls.rs).
        let call = request
            .extensions()
            .get::<ConnectionInfo>()
            .map(|info| info.activity.call_started());
        Tracked {
            inner: self.inner.call(request),
            _call: call,
        }
    }
}

pin_project! {
    /// A call's response future; the call counts as in flight until it ends.
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        _call: Option<CallInFlight>,
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}
