//! Per-user API rate limits, Zendesk style, and per-key concurrency caps.
//!
//! Each key (a user, a login email, an installation using the app proxy)
//! gets `limit` requests per fixed one-minute window. API responses carry
//! `X-Rate-Limit` and `X-Rate-Limit-Remaining`; the app proxy's carry the
//! IETF `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
//! instead. A refusal is 429 with `Retry-After` (seconds until the window
//! resets). [`ConcurrencyLimiter`] caps how many requests of one key are in
//! flight at once. The counters are in memory, per node: with several
//! nodes behind a balancer a user may get up to `limit` per node, which is the
//! documented trade-off for keeping nodes stateless and the hot path free of a
//! database round trip.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::header::RETRY_AFTER;
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
        /// Seconds until the window resets.
        reset_secs: u64,
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
            reset_secs: WINDOW
                .saturating_sub(now.duration_since(entry.0))
                .as_secs()
                .max(1),
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

    /// Adds the IETF `RateLimit-Limit`, `RateLimit-Remaining` and
    /// `RateLimit-Reset` headers for a decision (and `Retry-After` when limited).
    pub fn add_standard_headers(&self, headers: &mut HeaderMap, decision: RateDecision) {
        let (remaining, reset) = match decision {
            RateDecision::Unlimited => return,
            RateDecision::Allowed {
                remaining,
                reset_secs,
                ..
            } => (remaining, reset_secs),
            RateDecision::Limited { retry_after_secs } => {
                headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
                (0, retry_after_secs)
            }
        };
        headers.insert("ratelimit-limit", HeaderValue::from(self.per_minute));
        headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(reset));
    }
}

/// Caps the requests of one key that are in flight at once. A permit is
/// held for the request's duration and released when dropped, so an early
/// return or a cancelled request (the client went away) frees its place too.
#[derive(Debug, Clone)]
pub struct ConcurrencyLimiter {
    max: u32,
    in_flight: Arc<Mutex<HashMap<String, u32>>>,
}

/// One request's place under a [`ConcurrencyLimiter`]; released on drop.
#[derive(Debug)]
pub struct ConcurrencyPermit {
    key: String,
    in_flight: Arc<Mutex<HashMap<String, u32>>>,
}

impl ConcurrencyLimiter {
    /// A limiter allowing `max` requests per key at once.
    pub fn new(max: u32) -> Self {
        ConcurrencyLimiter {
            max,
            in_flight: Arc::default(),
        }
    }

    /// The cap.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// A permit for `key`, or `None` when `max` requests of it are in flight.
    pub fn try_acquire(&self, key: &str) -> Option<ConcurrencyPermit> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = in_flight.entry(key.to_owned()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ConcurrencyPermit {
            key: key.to_owned(),
            in_flight: Arc::clone(&self.in_flight),
        })
    }
}

impl Drop for ConcurrencyPermit {
    fn drop(&mut self) {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = in_flight.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            // Idle keys leave the map, so it holds only keys with requests in flight.
            if *count == 0 {
                in_flight.remove(&self.key);
            }
        }
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
                remaining: 1,
                reset_secs: 60
            }
        );
        assert_eq!(
            limiter.check_at("a", t0 + Duration::from_secs(15)),
            RateDecision::Allowed {
                limit: 2,
                remaining: 0,
                reset_secs: 45
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

    #[test]
    fn standard_headers_say_limit_remaining_and_reset() {
        let limiter = RateLimiter::new(5);
        let mut headers = HeaderMap::new();
        limiter.add_standard_headers(
            &mut headers,
            RateDecision::Allowed {
                limit: 5,
                remaining: 3,
                reset_secs: 20,
            },
        );
        assert_eq!(headers["ratelimit-limit"], "5");
        assert_eq!(headers["ratelimit-remaining"], "3");
        assert_eq!(headers["ratelimit-reset"], "20");
        assert!(headers.get(RETRY_AFTER).is_none());
        limiter.add_standard_headers(
            &mut headers,
            RateDecision::Limited {
                retry_after_secs: 7,
            },
        );
        assert_eq!(headers["ratelimit-remaining"], "0");
        assert_eq!(headers["ratelimit-reset"], "7");
        assert_eq!(headers[RETRY_AFTER], "7");
    }

    #[test]
    fn permits_are_capped_per_key_and_released_on_drop() {
        let limiter = ConcurrencyLimiter::new(2);
        let a1 = limiter.try_acquire("a").expect("first");
        let a2 = limiter.try_acquire("a").expect("second");
        assert!(limiter.try_acquire("a").is_none());
        let b = limiter.try_acquire("b");
        assert!(b.is_some(), "keys are independent");
        drop(a1);
        let a3 = limiter.try_acquire("a");
        assert!(a3.is_some());
        drop((a2, a3, b));
        assert!(limiter.in_flight.lock().unwrap().is_empty());
    }
}
