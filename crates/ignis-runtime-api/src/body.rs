//! Bounded reading of request bodies posted by the (untrusted) runtime.
//!
//! Bodies are always read to the end when that is affordable, because hyper closes a keep-alive
//! connection whose request body was left unread; bodies over the limit are still drained (and
//! discarded) up to a cap ([`DRAIN_CAP`] for responses) so that a runtime posting a slightly
//! oversized response keeps its connection. Past the cap the connection is given up.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Incoming};

/// Most bytes read from one response or error body, kept or discarded ([`read_limited`]'s
/// `drain_cap` for those); beyond it the rest is left unread and hyper closes the connection
/// after answering.
pub(crate) const DRAIN_CAP: usize = 16 * 1024 * 1024;

/// Result of reading a body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadBody {
    /// The whole body, at most `limit` bytes.
    Full(Bytes),
    /// The body was over `limit` bytes (drained if at most `drain_cap` bytes).
    TooLarge,
    /// The connection failed or the body was malformed before its end.
    Failed,
}

/// Reads `body` to its end, keeping at most `limit` bytes and reading at most `drain_cap`.
///
/// A body that arrives in one frame (the common case for small bodies) is returned without a
/// copy; otherwise the frames are gathered into one buffer sized from `Content-Length`.
pub(crate) async fn read_limited(mut body: Incoming, limit: usize, drain_cap: usize) -> ReadBody {
    if body.is_end_stream() {
        return ReadBody::Full(Bytes::new());
    }
    let hint = body.size_hint();
    if hint.lower() > drain_cap as u64 {
        // Announced as far too large: do not even drain it.
        return ReadBody::TooLarge;
    }
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return ReadBody::Failed;
        };
        // Trailers (and unknown frame kinds) carry nothing we use.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > limit {
            first = None;
            joined = None;
            if total > drain_cap {
                return ReadBody::TooLarge;
            }
            continue;
        }
        match (&mut first, &mut joined) {
            (_, Some(buf)) => buf.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (Some(f), None) => {
                let expect = usize::try_from(hint.lower()).unwrap_or(limit).min(limit);
                let mut buf = BytesMut::with_capacity(expect.max(total));
                buf.extend_from_slice(f);
                buf.extend_from_slice(&data);
                first = None;
                joined = Some(buf);
            }
        }
    }
    if total > limit {
        return ReadBody::TooLarge;
    }
    ReadBody::Full(match (first, joined) {
        (_, Some(buf)) => buf.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}
