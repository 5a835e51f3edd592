//! A scan-wide cap on the bytes of large replies held at once.
//!
//! Per-endpoint caps (8 MiB for an HTTP listing, 16 MiB for a MongoDB message) bound one
//! endpoint; with hundreds of endpoints in flight they would still multiply. Replies up to
//! [`Budget::FREE`] bytes (banners, handshakes, errors: nearly all of them) need nothing;
//! a reply that grows past it reserves its whole cap from the budget first, waiting while
//! others hold it. A holder never waits for anything but its own network deadline, so
//! waiting cannot deadlock, and the memory of a scan is bounded by the budget plus
//! `FREE` per concurrency slot, whatever the servers send.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Accounting unit: reservations are rounded up to whole KiB.
const UNIT: usize = 1024;

/// The shared budget; cheap to clone.
#[derive(Debug, Clone)]
pub struct Budget {
    permits: Arc<Semaphore>,
    total_units: usize,
}

/// Bytes reserved from a [`Budget`], given back when dropped. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Reservation(Option<Arc<OwnedSemaphorePermit>>);

/// Reservations are accounting, not content: two replies with equal bytes are equal
/// whatever share of the budget each holds.
impl PartialEq for Reservation {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Reservation {
    /// Whether nothing is reserved.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl Budget {
    /// Replies up to this many bytes are read without a reservation.
    pub const FREE: usize = 64 << 10;

    /// A budget of `total` bytes (at least one 16 MiB reply, so any capped reply fits).
    pub fn new(total: usize) -> Budget {
        let total_units = (total.max(16 << 20) / UNIT).min(Semaphore::MAX_PERMITS);
        Budget {
            permits: Arc::new(Semaphore::new(total_units)),
            total_units,
        }
    }

    /// Reserves `bytes`, waiting until that much of the budget is free. Callers bound the
    /// wait with their own deadline.
    pub async fn reserve(&self, bytes: usize) -> Reservation {
        let units = bytes.div_ceil(UNIT).clamp(1, self.total_units);
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        match self.permits.clone().acquire_many_owned(units).await {
            Ok(permit) => Reservation(Some(Arc::new(permit))),
            // The semaphore is never closed; should it be, reads go on unaccounted.
            Err(_) => Reservation(None),
        }
    }

    /// Bytes currently free, for tests.
    pub fn available(&self) -> usize {
        self.permits.available_permits().saturating_mul(UNIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn reservations_wait_for_room_and_give_it_back() {
        let budget = Budget::new(16 << 20);
        let first = budget.reserve(12 << 20).await;
        assert_eq!(budget.available(), 4 << 20);
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.reserve(8 << 20));
        assert!(waiting.await.is_err(), "no room for a second big reply");
        drop(first);
        let second = budget.reserve(8 << 20).await;
        assert_eq!(budget.available(), 8 << 20);
        drop(second);
        // A reservation larger than the whole budget takes all of it rather than hanging.
        let all = budget.reserve(1 << 30).await;
        assert_eq!(budget.available(), 0);
        drop(all);
        assert_eq!(budget.available(), 16 << 20);
    }
}
