//! Host uid leases: every live env runs as a host uid of its own.
//!
//! The kernel keeps some per-user budgets in the initial user namespace, keyed by the host uid of
//! whoever created a user namespace: inotify instances (`fs.inotify.max_user_instances`, 128 by
//! default) and watches, pending signals, POSIX message queue bytes. Were all envs mapped to one
//! host uid, one function could exhaust such a budget for every other function (measured: an env
//! holding 128 inotify instances made `inotify_init` fail with `EMFILE` in every other env). So
//! each env leases a distinct host uid from a range, returned when the env is gone; the uid inside
//! stays 993 for every env.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::SandboxError;

/// A range of host uids handed out to live envs, one each.
#[derive(Debug)]
pub(crate) struct UidPool {
    first: u32,
    count: u32,
    state: Mutex<PoolState>,
}

#[derive(Debug, Default)]
struct PoolState {
    /// Offsets never handed out yet start here.
    next: u32,
    /// Returned offsets, reused oldest first (so a uid rests as long as possible before reuse).
    free: VecDeque<u32>,
}

impl UidPool {
    pub(crate) fn new(first: u32, count: u32) -> Arc<Self> {
        Arc::new(UidPool {
            first,
            count,
            state: Mutex::new(PoolState::default()),
        })
    }

    /// Lease a uid, or fail when `count` envs are alive.
    pub(crate) fn lease(self: &Arc<Self>) -> Result<UidLease, SandboxError> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let offset = match st.free.pop_front() {
            Some(o) => o,
            None if st.next < self.count => {
                st.next += 1;
                st.next - 1
            }
            None => {
                return Err(SandboxError::Unsupported(format!(
                    "all {} host uids of the sandbox are in use by live environments",
                    self.count
                )))
            }
        };
        Ok(UidLease {
            pool: Some(self.clone()),
            uid: self.first + offset,
        })
    }
}

/// One env's host uid; returned to the pool when dropped.
#[derive(Debug)]
pub(crate) struct UidLease {
    pool: Option<Arc<UidPool>>,
    uid: u32,
}

impl UidLease {
    pub(crate) fn uid(&self) -> u32 {
        self.uid
    }

    /// Never return this uid (a process of the env may still be running as it).
    pub(crate) fn retire(&mut self) {
        self.pool = None;
    }
}

impl Drop for UidLease {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let mut st = pool.state.lock().unwrap_or_else(|p| p.into_inner());
            st.free.push_back(self.uid - pool.first);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_distinct_bounded_and_reused_oldest_first() {
        let pool = UidPool::new(1000, 3);
        let a = pool.lease().unwrap();
        let b = pool.lease().unwrap();
        let c = pool.lease().unwrap();
        assert_eq!([a.uid(), b.uid(), c.uid()], [1000, 1001, 1002]);
        assert!(pool.lease().is_err());
        drop(b);
        drop(a);
        let e = pool.lease().unwrap();
        assert_eq!(e.uid(), 1001);
        let mut d = pool.lease().unwrap();
        assert_eq!(d.uid(), 1000);
        d.retire();
        drop(d);
        drop(c);
        let f = pool.lease().unwrap();
        assert_eq!(f.uid(), 1002);
        assert!(
            pool.lease().is_err(),
            "a retired uid is never handed out again"
        );
        drop((e, f));
    }
}
