//! A sans-IO token bucket: the adapter passes the clock in.

use serde::{Deserialize, Serialize};

use crate::RateLimit;

/// What to do with an incoming message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    /// Within the limit: handle it.
    Allow,
    /// Over the limit: drop it and tell the peer (the `error` hook).
    Refuse,
    /// A sustained flood: close the peer with 1008.
    Close,
}

/// Tracks one peer's message rate.
///
/// Written by hand rather than with `governor` because it must be sans-IO
/// (no clock of its own, so it runs on wasm32) and must count refusals to
/// tell a burst from a sustained flood.
///
/// ```
/// use xws::{RateLimit, adapter::{RateDecision, RateLimiter}};
/// let mut limiter = RateLimiter::new(RateLimit { messages_per_second: 10, burst: 2, tolerance: 1 }, 0);
/// assert_eq!(limiter.check(0), RateDecision::Allow);
/// assert_eq!(limiter.check(0), RateDecision::Allow);
/// assert_eq!(limiter.check(0), RateDecision::Refuse);
/// assert_eq!(limiter.check(0), RateDecision::Close);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimiter {
    limit: RateLimit,
    tokens: f64,
    last_ms: u64,
    refusals: u32,
}

impl RateLimiter {
    /// A full bucket at time `now_ms` (milliseconds on any monotonic clock).
    pub fn new(limit: RateLimit, now_ms: u64) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst.max(1)),
            last_ms: now_ms,
            refusals: 0,
        }
    }

    /// Accounts for one incoming message at `now_ms`.
    pub fn check(&mut self, now_ms: u64) -> RateDecision {
        let capacity = f64::from(self.limit.burst.max(1));
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.last_ms = self.last_ms.max(now_ms);
        self.tokens =
            (self.tokens + elapsed * f64::from(self.limit.messages_per_second)).min(capacity);
        if self.tokens >= capacity {
            self.refusals = 0;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return RateDecision::Allow;
        }
        self.refusals += 1;
        if self.refusals > self.limit.tolerance {
            RateDecision::Close
        } else {
            RateDecision::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sustained_rate_within_limit_is_allowed() {
        let mut limiter = RateLimiter::new(RateLimit::per_second(100), 0);
        for i in 0..1_000u64 {
            assert_eq!(limiter.check(i * 10), RateDecision::Allow, "message {i}");
        }
    }

    #[test]
    fn flood_at_twice_the_rate_is_closed() {
        let mut limiter = RateLimiter::new(RateLimit::per_second(100), 0);
        let mut decisions = Vec::new();
        for i in 0..1_000u64 {
            decisions.push(limiter.check(i * 5));
        }
        assert!(decisions.contains(&RateDecision::Refuse));
        assert_eq!(decisions.last(), Some(&RateDecision::Close));
    }

    #[test]
    fn refusals_are_forgiven_after_a_quiet_period() {
        let limit = RateLimit {
            messages_per_second: 10,
            burst: 1,
            tolerance: 1,
        };
        let mut limiter = RateLimiter::new(limit, 0);
        assert_eq!(limiter.check(0), RateDecision::Allow);
        assert_eq!(limiter.check(0), RateDecision::Refuse);
        assert_eq!(limiter.check(1_000), RateDecision::Allow);
        assert_eq!(limiter.check(1_000), RateDecision::Refuse);
    }

    #[test]
    fn clock_going_backwards_does_not_mint_tokens() {
        let limit = RateLimit {
            messages_per_second: 1,
            burst: 1,
            tolerance: 10,
        };
        let mut limiter = RateLimiter::new(limit, 10_000);
        assert_eq!(limiter.check(10_000), RateDecision::Allow);
        assert_eq!(limiter.check(0), RateDecision::Refuse);
    }
}
