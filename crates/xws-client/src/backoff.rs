//! Delays between reconnection attempts.

use std::time::Duration;

/// Exponential backoff with jitter: attempt `n` waits
/// `min(max, min_delay * factor^(n-1))`, minus a random share up to
/// `jitter` of it, so that clients dropped together do not return together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub min: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Growth per attempt.
    pub factor: f64,
    /// Share of each delay drawn at random, 0 to 1.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            min: Duration::from_millis(250),
            max: Duration::from_secs(10),
            factor: 2.0,
            jitter: 0.5,
        }
    }
}

impl Backoff {
    /// The delay before attempt `attempt` (1-based), given `random` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let full = self
            .min
            .as_secs_f64()
            .mul_add(self.factor.powi(exponent), 0.0)
            .min(self.max.as_secs_f64());
        let share = 1.0 - self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        Duration::from_secs_f64((full * share).max(0.0))
    }
}

/// A number in `[0, 1)` from the OS's randomness (0.5 if it has none).
pub(crate) fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let backoff = Backoff {
            jitter: 0.0,
            ..Backoff::default()
        };
        assert_eq!(backoff.delay(1, 0.9), Duration::from_millis(250));
        assert_eq!(backoff.delay(2, 0.9), Duration::from_millis(500));
        assert_eq!(backoff.delay(4, 0.9), Duration::from_secs(2));
        assert_eq!(backoff.delay(30, 0.9), Duration::from_secs(10));
        assert_eq!(backoff.delay(u32::MAX, 0.9), Duration::from_secs(10));
    }

    #[test]
    fn jitter_takes_a_random_share_off() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(3, 0.0), Duration::from_secs(1));
        assert_eq!(backoff.delay(3, 0.5), Duration::from_millis(750));
        let random = random_unit();
        assert!((0.0..1.0).contains(&random));
    }
}
