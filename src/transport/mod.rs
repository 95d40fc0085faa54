//! Serving HTTP/1.1 connections: the accept loop, its limits and its timeouts.
//!
//! * At most `max_connections` connections are open at once; past that the loop stops
//!   accepting until one closes, and clients wait in the listen backlog.
//! * A request's head must arrive within the header-read timeout, counted from the opening
//!   of the connection or from the end of the previous answer (hyper's timer), so a client
//!   that sends nothing, dribbles its head or idles between requests is disconnected. The
//!   body has a timeout of its own (the gateway reads it). Nothing times out while the
//!   server itself works on a request, so long polls are unaffected.
//! * When the process runs out of file descriptors, accepting pauses briefly and resumes;
//!   connections already open keep being served.
//! * An answer the client does not read for the write timeout ends its connection
//!   ([`write_stall`]).
//! * The answers hyper writes itself for requests it cannot parse carry the error envelope
//!   like every other answer ([`envelope`]).

mod envelope;
mod write_stall;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot};

use envelope::Enveloped;
use write_stall::WriteStallGuard;

use crate::metrics::Metrics;

/// Most headers in a request head; more is answered `EntityTooLarge`.
pub const MAX_HEADERS: usize = 100;
/// Most bytes in a request head (request line and headers).
pub const MAX_HEAD_BYTES: usize = 400 * 1024;
/// Longest request URI hyper accepts (the `http` crate cannot hold a longer one).
pub const MAX_URI_BYTES: usize = u16::MAX as usize - 1;

/// The transport's limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub write_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` fires, then stops accepting and lets open
/// connections finish their current request (the caller bounds how long it waits).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    shutdown: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let host: Arc<str> = listener
        .local_addr()
        .map_or_else(|_| "".into(), |addr| addr.to_string().into());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut backoff = AcceptBackoff::default();
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let (stream, slot) = match accepted {
            Ok(accepted) => {
                backoff.reset();
                accepted
            }
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                // Out of descriptors (EMFILE/ENFILE) or memory: pause, keep serving the
                // connections that are open, and try again.
                backoff.pause(&error).await;
                continue;
            }
        };
        let stream = WriteStallGuard::new(stream, limits.write_timeout);
        let io = TokioIo::new(Enveloped::new(stream, host.clone()));
        let connection = http.serve_connection(io, TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        let metrics = metrics.clone();
        metrics.connections.inc();
        tokio::spawn(async move {
            // Errors here are the client's (reset, timed out, unparseable): only counted.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
                if let Some(phase) = timed_out_phase(&error) {
                    metrics.timeouts.with_label_values(&[phase]).inc();
                }
            }
            metrics.connections.dec();
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Waits for a free connection slot, then for a client.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> io::Result<(TcpStream, tokio::sync::OwnedSemaphorePermit)> {
    let slot = slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| io::Error::other("the connection slots are closed"))?;
    let (stream, _peer) = listener.accept().await?;
    Ok((stream, slot))
}

/// Which timeout ended a connection, if one did: hyper's own for the head, the stall guard's
/// (an I/O error of kind `TimedOut`) for an answer.
fn timed_out_phase(error: &hyper::Error) -> Option<&'static str> {
    if error.is_timeout() {
        return Some("head");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
        {
            return Some("write");
        }
        source = cause.source();
    }
    None
}

/// Errors of one client's connection attempt, not of the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Growing pauses between failed accepts (10 ms doubling up to 1 s), logged once per run.
#[derive(Default)]
struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const LONGEST: Duration = Duration::from_secs(1);

    fn reset(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accepting connections again");
        }
        self.failures = 0;
    }

    async fn pause(&mut self, error: &io::Error) {
        if self.failures == 0 {
            tracing::warn!(%error, "cannot accept connections; pausing");
        }
        let pause = Self::FIRST
            .saturating_mul(1 << self.failures.min(7))
            .min(Self::LONGEST);
        self.failures = self.failures.saturating_add(1);
        tokio::time::sleep(pause).await;
    }
}
