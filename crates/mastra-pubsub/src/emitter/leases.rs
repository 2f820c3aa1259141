//! In-process leases: enough to fence executors that share one process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::hub::lock;
use crate::{Lease, LeaseProvider, PubSubError};

/// Leases kept in this process's memory (time is tokio's, so tests may pause it).
#[derive(Debug, Default)]
pub struct InProcessLeases {
    state: Mutex<HashMap<String, Slot>>,
}

/// One key: its current holder, if any, and the last generation handed out (kept after
/// release so generations never go back).
#[derive(Debug, Default)]
struct Slot {
    holder: Option<Holder>,
    generation: u64,
}

#[derive(Debug)]
struct Holder {
    owner: String,
    expires_at: Instant,
}

impl Slot {
    fn live_holder(&self, now: Instant) -> Option<&Holder> {
        self.holder
            .as_ref()
            .filter(|holder| holder.expires_at > now)
    }
}

impl InProcessLeases {
    /// An empty lease table.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl LeaseProvider for InProcessLeases {
    async fn acquire(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, PubSubError> {
        let now = Instant::now();
        let mut state = lock(&self.state);
        let slot = state.entry(key.to_owned()).or_default();
        match slot.live_holder(now) {
            Some(holder) if holder.owner != owner => return Ok(None),
            Some(_) => {}
            None => slot.generation += 1,
        }
        slot.holder = Some(Holder {
            owner: owner.to_owned(),
            expires_at: now + ttl,
        });
        Ok(Some(Lease::new(key, owner, slot.generation, ttl)))
    }

    async fn renew(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, PubSubError> {
        let now = Instant::now();
        let mut state = lock(&self.state);
        let Some(slot) = state.get_mut(key) else {
            return Ok(false);
        };
        match slot.holder.as_mut() {
            Some(holder) if holder.owner == owner && holder.expires_at > now => {
                holder.expires_at = now + ttl;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(&self, key: &str, owner: &str) -> Result<bool, PubSubError> {
        let now = Instant::now();
        let mut state = lock(&self.state);
        let Some(slot) = state.get_mut(key) else {
            return Ok(false);
        };
        let held = slot
            .live_holder(now)
            .is_some_and(|holder| holder.owner == owner);
        if held {
            slot.holder = None;
        }
        Ok(held)
    }

    async fn owner(&self, key: &str) -> Result<Option<String>, PubSubError> {
        let now = Instant::now();
        let state = lock(&self.state);
        Ok(state
            .get(key)
            .and_then(|slot| slot.live_holder(now))
            .map(|holder| holder.owner.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_owner_at_a_time_with_rising_generations() {
        let leases = InProcessLeases::new();
        let ttl = Duration::from_secs(10);
        let first = leases.acquire("run-1", "a", ttl).await.unwrap().unwrap();
        assert_eq!(first.generation, 1);
        assert!(leases.acquire("run-1", "b", ttl).await.unwrap().is_none());
        // Re-acquiring by the holder extends, keeping the generation.
        let again = leases.acquire("run-1", "a", ttl).await.unwrap().unwrap();
        assert_eq!(again.generation, 1);
        assert_eq!(leases.owner("run-1").await.unwrap().as_deref(), Some("a"));

        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(leases.owner("run-1").await.unwrap(), None);
        assert!(!leases.renew("run-1", "a", ttl).await.unwrap());
        let taken = leases.acquire("run-1", "b", ttl).await.unwrap().unwrap();
        assert_eq!(taken.generation, 2);
        assert!(!leases.release("run-1", "a").await.unwrap());
        assert!(leases.release("run-1", "b").await.unwrap());
        let third = leases.acquire("run-1", "a", ttl).await.unwrap().unwrap();
        assert_eq!(
            third.generation, 3,
            "generations never go back after a release"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn renew_keeps_the_lease_alive() {
        let leases = InProcessLeases::new();
        let ttl = Duration::from_secs(10);
        leases.acquire("k", "a", ttl).await.unwrap().unwrap();
        tokio::time::advance(Duration::from_secs(8)).await;
        assert!(leases.renew("k", "a", ttl).await.unwrap());
        tokio::time::advance(Duration::from_secs(8)).await;
        assert_eq!(leases.owner("k").await.unwrap().as_deref(), Some("a"));
        assert!(leases.acquire("k", "b", ttl).await.unwrap().is_none());
    }
}
