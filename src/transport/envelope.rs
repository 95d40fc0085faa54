//! The envelope on hyper's own answers.
//!
//! hyper answers a request it cannot parse by itself, before any service runs: `400` for a
//! malformed request line or header (raw non-ASCII bytes in the URI), `414` for a URI it
//! cannot hold, `431` for too many headers or too large a head, each with an empty body, and
//! then closes the connection. hyper has no hook for these answers, so the connection's
//! writer recognizes them (a 4xx head with `content-length: 0`, which the router never
//! sends: its errors always have a body) and sends the error envelope instead, with the
//! status and code of the catalogue.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{MAX_HEAD_BYTES, MAX_HEADERS, MAX_URI_BYTES};
use crate::api::raw_error_response;
use crate::error::ApiError;

/// A connection whose automatic error answers are rewritten.
pub struct Enveloped<IO> {
    inner: IO,
    /// The address the client connected to (the envelope's `HostId`: the request's `Host`
    /// header was not read).
    host: Arc<str>,
    replacement: Option<Replacement>,
}

/// An answer being written in place of hyper's.
struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    /// How many of hyper's bytes it stands for.
    replaces: usize,
}

impl<IO> Enveloped<IO> {
    pub fn new(inner: IO, host: Arc<str>) -> Self {
        Enveloped {
            inner,
            host,
            replacement: None,
        }
    }
}

/// The error an automatic answer stands for, if `head` is one.
fn automatic_answer(head: &[u8]) -> Option<ApiError> {
    let status = head.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let error = match status {
        b"400" => ApiError::malformed_request(),
        b"414" => ApiError::uri_too_long(MAX_URI_BYTES),
        b"431" => ApiError::head_too_large(MAX_HEADERS, MAX_HEAD_BYTES),
        _ => return None,
    };
    let empty = head
        .windows(b"\r\ncontent-length: 0\r\n".len())
        .any(|window| window.eq_ignore_ascii_case(b"\r\ncontent-length: 0\r\n"));
    empty.then_some(error)
}

impl<IO: AsyncWrite + Unpin> Enveloped<IO> {
    /// Writes `buf`, or the envelope in its place when it is an automatic answer. hyper's
    /// bytes are reported written only once the whole replacement is, so hyper retries
    /// with the same buffer while the replacement is under way.
    fn write_first(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacement.is_none()
            && let Some(error) = automatic_answer(buf)
        {
            self.replacement = Some(Replacement {
                bytes: raw_error_response(&error, &self.host),
                written: 0,
                replaces: buf.len(),
            });
        }
        let Some(replacement) = self.replacement.as_mut() else {
            return Pin::new(&mut self.inner).poll_write(cx, buf);
        };
        while replacement.written < replacement.bytes.len() {
            let rest = &replacement.bytes[replacement.written..];
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, rest))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            replacement.written += written;
        }
        let replaces = replacement.replaces;
        self.replacement = None;
        Poll::Ready(Ok(replaces))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Enveloped<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Enveloped<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_first(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // An automatic answer is a head alone, so it comes first in a write of its own.
        match bufs.iter().find(|buf| !buf.is_empty()) {
            Some(first) if self.replacement.is_some() || automatic_answer(first).is_some() => {
                self.write_first(cx, first)
            }
            _ => Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_empty_4xx_heads_of_the_parse_errors_are_automatic() {
        let head = |status: &str, length: &str| {
            format!("HTTP/1.1 {status}\r\ncontent-length: {length}\r\ndate: now\r\n\r\n")
        };
        let code = |text: String| automatic_answer(text.as_bytes()).map(|e| e.code);
        use crate::error::ErrorCode::*;
        assert_eq!(code(head("400 Bad Request", "0")), Some(InvalidArgument));
        assert_eq!(code(head("414 URI Too Long", "0")), Some(EntityTooLarge));
        assert_eq!(
            code(head("431 Request Header Fields Too Large", "0")),
            Some(EntityTooLarge)
        );
        // The router's errors have bodies; other statuses are never automatic.
        assert_eq!(code(head("400 Bad Request", "182")), None);
        assert_eq!(code(head("404 Not Found", "0")), None);
        assert_eq!(code(head("200 OK", "0")), None);
        assert_eq!(code("HTTP/1.1 4".into()), None);
    }
}
