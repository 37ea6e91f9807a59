//! The environment's Runtime API state machine, shared by the HTTP handlers and the handle.
//!
//! At most one invocation exists at a time ([`Current`]). It is created by `invoke`, waits as
//! "pending" until a `/next` call takes it ("delivered"), and is removed when the runtime posts its
//! outcome, when `/init/error` fails the environment, when the `invoke` future is dropped, or at
//! shutdown. All transitions happen under one short, never-contended-for-long mutex; nothing
//! awaits while holding it.

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use hyper::header::HeaderValue;
use tokio::sync::{oneshot, watch, Notify};

use crate::model::{Invocation, Outcome, RuntimeApiError};

/// Where the environment is in its life, published to [`RuntimeApi::ready`](crate::RuntimeApi::ready) waiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The runtime has not called `/next` yet.
    Init,
    /// The runtime called `/next` at least once.
    Ready,
    /// The runtime posted `/init/error`.
    Failed,
    /// The server was shut down.
    Closed,
}

/// An invocation rendered into header values, ready to be written as a `/next` response.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: HeaderValue,
    /// `Lambda-Runtime-Deadline-Ms`.
    pub deadline_ms: HeaderValue,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: HeaderValue,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: HeaderValue,
    /// `Lambda-Runtime-Client-Context`, if any.
    pub client_context: Option<HeaderValue>,
    /// `Lambda-Runtime-Cognito-Identity`, if any.
    pub cognito_identity: Option<HeaderValue>,
    /// The event payload.
    pub payload: Bytes,
}

/// Converts an owned string into a header value without copying it.
fn header_value(s: String, field: &'static str) -> Result<HeaderValue, RuntimeApiError> {
    HeaderValue::try_from(s).map_err(|_| RuntimeApiError::InvalidHeaderValue(field))
}

impl Prepared {
    /// Validates and converts an invocation (done by the caller, outside the lock).
    pub(crate) fn new(inv: Invocation) -> Result<Self, RuntimeApiError> {
        Ok(Self {
            request_id: header_value(inv.request_id, "request_id")?,
            deadline_ms: HeaderValue::from(inv.deadline_ms),
            invoked_function_arn: header_value(inv.invoked_function_arn, "invoked_function_arn")?,
            trace_id: header_value(inv.trace_id, "trace_id")?,
            client_context: inv
                .client_context
                .map(|v| header_value(v, "client_context"))
                .transpose()?,
            cognito_identity: inv
                .cognito_identity
                .map(|v| header_value(v, "cognito_identity"))
                .transpose()?,
            payload: inv.payload,
        })
    }
}

/// The invocation owned by the running `invoke` call.
struct Current {
    /// Identifies the `invoke` call (so a late drop guard cannot remove a newer invocation).
    seq: u64,
    /// The request id, to match `/response` and `/error` paths against.
    request_id: HeaderValue,
    /// `Some` until a `/next` call takes it.
    pending: Option<Prepared>,
    /// Where the outcome goes.
    tx: oneshot::Sender<Outcome>,
}

/// What `/init/error` recorded.
struct InitFailure {
    error_type: Option<String>,
    body: Bytes,
}

impl InitFailure {
    fn outcome(&self) -> Outcome {
        Outcome::InitError {
            error_type: self.error_type.clone(),
            body: self.body.clone(),
        }
    }
}

/// The mutable part of [`Shared`].
#[derive(Default)]
struct State {
    closed: bool,
    ready: bool,
    failure: Option<InitFailure>,
    current: Option<Current>,
    /// Request id of the last invocation whose `invoke` future was dropped after the runtime had
    /// received it: its late outcome is accepted (`202`) and discarded.
    abandoned: Option<HeaderValue>,
    seq: u64,
}

/// Everything the server tasks and the handles share.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Wakes parked `/next` calls: one for a new invocation, all for failure or shutdown.
    pub next_notify: Notify,
    /// Published phase, for `ready()`.
    pub phase: watch::Sender<Phase>,
    /// Flips to `true` once at shutdown; the accept loop and connections watch it.
    pub shutdown: watch::Sender<bool>,
    /// Connections accepted so far (including ones closed at once for being over the cap).
    pub accepted: AtomicU64,
    /// Connections being served now.
    pub active: AtomicUsize,
}

/// Answer to a `/next` poll.
// A short-lived return value: boxing `Prepared` would cost an allocation per invocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum NextPoll {
    /// Deliver this invocation.
    Deliver(Prepared),
    /// Nothing queued: park until notified.
    Wait,
    /// The environment failed at init: `/next` is refused.
    Failed,
    /// The server is shutting down.
    Closed,
}

/// Answer to a posted outcome (`/response` or `/error`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Posted {
    /// It completed the current invocation.
    Accepted,
    /// It was for an abandoned invocation: accepted and discarded.
    Discarded,
    /// No delivered invocation has this id.
    UnknownId,
}

/// Result of starting an invocation.
pub(crate) enum Begin {
    /// The invocation is pending; its drop guard needs this sequence number.
    Started(u64),
    /// The environment failed at init: this is the outcome, nothing was queued.
    Failed(Outcome),
}

impl Shared {
    /// A fresh state in the `Init` phase.
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            next_notify: Notify::new(),
            phase: watch::Sender::new(Phase::Init),
            shutdown: watch::Sender::new(false),
            accepted: AtomicU64::new(0),
            active: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock, but never turn poisoning into a panic either.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an invocation for the next `/next` call (the caller then notifies `next_notify`).
    pub(crate) fn begin_invoke(
        &self,
        prepared: Prepared,
        tx: oneshot::Sender<Outcome>,
    ) -> Result<Begin, RuntimeApiError> {
        let mut st = self.lock();
        if st.closed {
            return Err(RuntimeApiError::Closed);
        }
        if let Some(f) = &st.failure {
            return Ok(Begin::Failed(f.outcome()));
        }
        if st.current.is_some() {
            return Err(RuntimeApiError::Busy);
        }
        st.seq += 1;
        let seq = st.seq;
        st.current = Some(Current {
            seq,
            request_id: prepared.request_id.clone(),
            pending: Some(prepared),
            tx,
        });
        Ok(Begin::Started(seq))
    }

    /// The `invoke` future with this sequence number went away without an outcome.
    pub(crate) fn abandon(&self, seq: u64) {
        let mut st = self.lock();
        if st.current.as_ref().is_some_and(|c| c.seq == seq) {
            if let Some(cur) = st.current.take() {
                if cur.pending.is_none() {
                    // The runtime is working on it: accept its late outcome quietly.
                    st.abandoned = Some(cur.request_id);
                }
            }
        }
    }

    /// A `/next` call asks for work; also marks the runtime ready on its first call.
    pub(crate) fn poll_next(&self) -> NextPoll {
        let mut st = self.lock();
        if st.closed {
            return NextPoll::Closed;
        }
        if st.failure.is_some() {
            return NextPoll::Failed;
        }
        if !st.ready {
            st.ready = true;
            self.phase.send_replace(Phase::Ready);
        }
        match st.current.as_mut().and_then(|c| c.pending.take()) {
            Some(p) => NextPoll::Deliver(p),
            None => NextPoll::Wait,
        }
    }

    /// The runtime posted an outcome for `request_id`.
    pub(crate) fn post(&self, request_id: &str, outcome: Outcome) -> Posted {
        let mut st = self.lock();
        let matches = st.current.as_ref().is_some_and(|c| {
            c.pending.is_none() && c.request_id.as_bytes() == request_id.as_bytes()
        });
        if matches {
            if let Some(cur) = st.current.take() {
                drop(st);
                // The receiver may be gone only if `invoke` is being dropped right now; then the
                // outcome is simply discarded.
                let _ = cur.tx.send(outcome);
                return Posted::Accepted;
            }
        }
        if st
            .abandoned
            .as_ref()
            .is_some_and(|a| a.as_bytes() == request_id.as_bytes())
        {
            st.abandoned = None;
            return Posted::Discarded;
        }
        Posted::UnknownId
    }

    /// The runtime posted `/init/error`: fail the environment and any invocation in it.
    /// Returns `false` if the server is already closed.
    pub(crate) fn init_error(&self, error_type: Option<String>, body: Bytes) -> bool {
        let mut st = self.lock();
        if st.closed {
            return false;
        }
        if st.failure.is_none() {
            st.failure = Some(InitFailure { error_type, body });
        }
        let current = st.current.take();
        let outcome = st.failure.as_ref().map(InitFailure::outcome);
        drop(st);
        self.phase.send_replace(Phase::Failed);
        if let (Some(cur), Some(outcome)) = (current, outcome) {
            let _ = cur.tx.send(outcome);
        }
        self.next_notify.notify_waiters();
        true
    }

    /// The outcome `ready()` reports for the current phase: the recorded init failure if there
    /// is one (even after shutdown), an empty `InitError` if closed without one.
    pub(crate) fn ready_result(&self, phase: Phase) -> Result<(), Outcome> {
        match phase {
            Phase::Ready | Phase::Init => Ok(()),
            Phase::Failed | Phase::Closed => {
                let st = self.lock();
                Err(st.failure.as_ref().map_or(
                    Outcome::InitError {
                        error_type: None,
                        body: Bytes::new(),
                    },
                    InitFailure::outcome,
                ))
            }
        }
    }

    /// Stops everything: pending `invoke` calls resolve `Closed`, tasks end. Idempotent.
    pub(crate) fn shutdown(&self) {
        let mut st = self.lock();
        st.closed = true;
        let current = st.current.take();
        drop(st);
        // Dropping the sender makes the waiting `invoke` return `RuntimeApiError::Closed`.
        drop(current);
        self.phase.send_replace(Phase::Closed);
        self.shutdown.send_replace(true);
        self.next_notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(id: &str) -> Invocation {
        Invocation {
            request_id: id.to_owned(),
            deadline_ms: 1,
            invoked_function_arn: "arn".into(),
            trace_id: String::new(),
            client_context: None,
            cognito_identity: None,
            payload: Bytes::from_static(b"{}"),
        }
    }

    fn start(s: &Shared, id: &str) -> (u64, oneshot::Receiver<Outcome>) {
        let (tx, rx) = oneshot::channel();
        match s.begin_invoke(Prepared::new(inv(id)).unwrap(), tx).unwrap() {
            Begin::Started(seq) => (seq, rx),
            Begin::Failed(_) => panic!("failed"),
        }
    }

    #[test]
    fn bad_header_values_are_rejected() {
        let mut i = inv("a\nb");
        assert_eq!(
            Prepared::new(i.clone()).unwrap_err(),
            RuntimeApiError::InvalidHeaderValue("request_id")
        );
        i.request_id = "ok".into();
        i.client_context = Some("\r".into());
        assert_eq!(
            Prepared::new(i).unwrap_err(),
            RuntimeApiError::InvalidHeaderValue("client_context")
        );
    }

    #[test]
    fn one_at_a_time_and_ids_must_be_delivered() {
        let s = Shared::new();
        let (_seq, mut rx) = start(&s, "r1");
        let (tx2, _rx2) = oneshot::channel();
        assert_eq!(
            s.begin_invoke(Prepared::new(inv("r2")).unwrap(), tx2).err(),
            Some(RuntimeApiError::Busy)
        );
        // Not delivered yet: the id is unknown to the runtime.
        assert_eq!(s.post("r1", Outcome::ResponseTooLarge), Posted::UnknownId);
        assert!(matches!(s.poll_next(), NextPoll::Deliver(_)));
        assert!(matches!(s.poll_next(), NextPoll::Wait));
        assert_eq!(s.post("r9", Outcome::ResponseTooLarge), Posted::UnknownId);
        assert_eq!(s.post("r1", Outcome::ResponseTooLarge), Posted::Accepted);
        assert_eq!(rx.try_recv().unwrap(), Outcome::ResponseTooLarge);
        assert_eq!(s.post("r1", Outcome::ResponseTooLarge), Posted::UnknownId);
    }

    #[test]
    fn abandoned_delivered_invocation_is_discarded_once() {
        let s = Shared::new();
        let (seq, _rx) = start(&s, "r1");
        assert!(matches!(s.poll_next(), NextPoll::Deliver(_)));
        s.abandon(seq);
        let (_seq2, _rx2) = start(&s, "r2");
        assert_eq!(s.post("r1", Outcome::ResponseTooLarge), Posted::Discarded);
        assert_eq!(s.post("r1", Outcome::ResponseTooLarge), Posted::UnknownId);
        // A stale guard does not remove the newer invocation.
        s.abandon(seq);
        assert!(matches!(s.poll_next(), NextPoll::Deliver(p) if p.request_id == "r2"));
    }

    #[test]
    fn abandoned_pending_invocation_is_never_delivered() {
        let s = Shared::new();
        let (seq, _rx) = start(&s, "r1");
        s.abandon(seq);
        assert!(matches!(s.poll_next(), NextPoll::Wait));
        assert_eq!(s.post("r1", Outcome::ResponseTooLarge), Posted::UnknownId);
    }

    #[test]
    fn init_error_fails_current_and_later_invocations() {
        let s = Shared::new();
        let (_seq, mut rx) = start(&s, "r1");
        assert!(s.init_error(Some("T".into()), Bytes::from_static(b"x")));
        let want = Outcome::InitError {
            error_type: Some("T".into()),
            body: Bytes::from_static(b"x"),
        };
        assert_eq!(rx.try_recv().unwrap(), want);
        assert!(matches!(s.poll_next(), NextPoll::Failed));
        assert_eq!(s.ready_result(*s.phase.borrow()), Err(want.clone()));
        let (tx, _rx) = oneshot::channel();
        assert!(
            matches!(s.begin_invoke(Prepared::new(inv("r2")).unwrap(), tx), Ok(Begin::Failed(o)) if o == want)
        );
    }

    #[test]
    fn shutdown_closes_current() {
        let s = Shared::new();
        let (_seq, mut rx) = start(&s, "r1");
        s.shutdown();
        assert!(rx.try_recv().is_err());
        let (tx, _rx) = oneshot::channel();
        assert_eq!(
            s.begin_invoke(Prepared::new(inv("r2")).unwrap(), tx).err(),
            Some(RuntimeApiError::Closed)
        );
        assert!(matches!(s.poll_next(), NextPoll::Closed));
    }
}
