//! Per-user API rate limits, Zendesk style.
//!
//! Each key (a user, or a login email) gets `limit` requests per fixed
//! one-minute window. Responses carry `X-Rate-Limit` and
//! `X-Rate-Limit-Remaining`; a refusal is 429 with `Retry-After` (seconds until
//! the window resets). The counters are in memory, per node: with several
//! nodes behind a balancer a user may get up to `limit` per node, which is the
//! documented trade-off for keeping nodes stateless and the hot path free of a
//! database round trip.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};

const WINDOW: Duration = Duration::from_secs(60);

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Limits are off.
    Unlimited,
    Allowed {
        limit: u32,
        remaining: u32,
    },
    Limited {
        retry_after_secs: u64,
    },
}

/// Fixed-window counters keyed by caller.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per key; 0 disables it.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Arc::default(),
        }
    }

    /// Counts a request for `key` and says whether it may proceed.
    pub fn check(&self, key: &str) -> RateDecision {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> RateDecision {
        if self.per_minute == 0 {
            return RateDecision::Unlimited;
        }
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 100_000 {
            // Bound memory under a flood of distinct keys: expired windows carry no information.
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let reset = WINDOW.saturating_sub(now.duration_since(entry.0));
            return RateDecision::Limited {
                retry_after_secs: reset.as_secs().max(1),
            };
        }
        entry.1 += 1;
        RateDecision::Allowed {
            limit: self.per_minute,
            remaining: self.per_minute - entry.1,
        }
    }

    /// Adds Zendesk's rate limit headers for a decision.
    pub fn add_headers(&self, headers: &mut HeaderMap, decision: RateDecision) {
        let remaining = match decision {
            RateDecision::Unlimited => return,
            RateDecision::Allowed { remaining, .. } => remaining,
            RateDecision::Limited { .. } => 0,
        };
        headers.insert("x-rate-limit", HeaderValue::from(self.per_minute));
        headers.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_resets_after_a_minute() {
        let limiter = RateLimiter::new(2);
        let t0 = Instant::now();
        assert_eq!(
            limiter.check_at("a", t0),
            RateDecision::Allowed {
                limit: 2,
                remaining: 1
            }
        );
        assert_eq!(
            limiter.check_at("a", t0),
            RateDecision::Allowed {
                limit: 2,
                remaining: 0
            }
        );
        assert!(matches!(
            limiter.check_at("a", t0),
            RateDecision::Limited {
                retry_after_secs: 60
            }
        ));
        assert!(matches!(
            limiter.check_at("b", t0),
            RateDecision::Allowed { .. }
        ));
        assert!(matches!(
            limiter.check_at("a", t0 + WINDOW),
            RateDecision::Allowed { remaining: 1, .. }
        ));
    }

    #[test]
    fn zero_disables() {
        assert_eq!(RateLimiter::new(0).check("a"), RateDecision::Unlimited);
    }
}
