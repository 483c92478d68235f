//! Connection limits checked before an upgrade: total and per IP.

use parking_lot::Mutex;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};
use xws::{Limits, Reject};

/// Counts open connections.
#[derive(Debug)]
pub(crate) struct Admission {
    max: usize,
    max_per_ip: Option<usize>,
    open: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct Permit {
    admission: Arc<Admission>,
    ip: Option<IpAddr>,
}

impl Admission {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            max: limits.max_connections,
            max_per_ip: limits.max_connections_per_ip,
            open: AtomicUsize::new(0),
            per_ip: Mutex::default(),
        }
    }

    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Takes a slot, or answers 503 (server full) / 429 (this IP is full).
    pub(crate) fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<Permit, Reject> {
        let admitted = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max).then_some(open + 1)
            });
        if admitted.is_err() {
            return Err(Reject::unavailable("too many connections").header("retry-after", "5"));
        }
        let counted_ip = match (self.max_per_ip, ip) {
            (Some(max), Some(ip)) => {
                let mut per_ip = self.per_ip.lock();
                let count = per_ip.entry(ip).or_default();
                if *count >= max {
                    drop(per_ip);
                    self.open.fetch_sub(1, Ordering::AcqRel);
                    return Err(Reject::too_many_requests(
                        "too many connections from this address",
                    ));
                }
                *count += 1;
                Some(ip)
            }
            _ => None,
        };
        Ok(Permit {
            admission: Arc::clone(self),
            ip: counted_ip,
        })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.admission.open.fetch_sub(1, Ordering::AcqRel);
        if let Some(ip) = self.ip {
            let mut per_ip = self.admission.per_ip.lock();
            if let Some(count) = per_ip.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_total_and_per_ip_and_frees_on_drop() {
        let limits = Limits {
            max_connections: 3,
            max_connections_per_ip: Some(2),
            ..Limits::default()
        };
        let admission = Arc::new(Admission::new(&limits));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let p1 = admission.admit(Some(a)).unwrap();
        let _p2 = admission.admit(Some(a)).unwrap();
        assert_eq!(admission.admit(Some(a)).unwrap_err().status, 429);
        let _p3 = admission.admit(Some(b)).unwrap();
        assert_eq!(admission.admit(Some(b)).unwrap_err().status, 503);
        drop(p1);
        assert_eq!(admission.open(), 2);
        assert!(admission.admit(Some(a)).is_ok());
    }
}
