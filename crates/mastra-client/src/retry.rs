//! How resumable streams reconnect: exponential backoff, a bounded number of failures in a row.

use std::time::Duration;

/// Reconnection settings of the resumable streams.
///
/// `max_retries` bounds the failures *in a row*: a reconnect that delivers an event resets
/// the count, so a long stream survives any number of separate disconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Reconnects tried after consecutive failures before giving up (0: never reconnect).
    pub max_retries: u32,
    /// The wait before the first reconnect.
    pub initial_backoff: Duration,
    /// The longest wait between two reconnects (the backoff doubles up to it).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 8 retries, 100 ms doubling up to 5 s (about 20 s of outage in total).
    fn default() -> Self {
        Self {
            max_retries: 8,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Never reconnect: the first failure ends the stream.
    pub fn never() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The wait before retry number `attempt` (1 for the first retry).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }

    /// Whether retry number `attempt` (1 for the first) may still be tried.
    pub fn allows(&self, attempt: u32) -> bool {
        attempt <= self.max_retries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        let waits: Vec<_> = (1..=4).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 350, 350]);
        assert_eq!(policy.backoff(200), Duration::from_millis(350));
        assert!(policy.allows(3) && !policy.allows(4));
        assert!(!RetryPolicy::never().allows(1));
    }
}
