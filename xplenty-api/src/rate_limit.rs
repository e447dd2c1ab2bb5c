//! What the server says of the rate limit, and the optional client-side budget that
//! delays calls instead of earning 429s.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName};

/// The `X-RateLimit-*` figures of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Credits per hour (`X-RateLimit-Limit`).
    pub limit: u32,
    /// Credits left in the current hour (`X-RateLimit-Remaining`).
    pub remaining: u32,
}

impl RateLimit {
    /// Reads both headers; `None` unless both are present and numeric.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        // Names built once: a lookup by `&str` parses the name on every call.
        static LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
        static REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
        let number = |name: &HeaderName| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Some(RateLimit { limit: clamp(number(&LIMIT)?), remaining: clamp(number(&REMAINING)?) })
    }
}

/// The last figures seen, packed in one atomic so readers never see a torn pair.
#[derive(Debug)]
pub(crate) struct LastRateLimit(AtomicU64);

const NONE_SEEN: u64 = u64::MAX;

impl LastRateLimit {
    pub(crate) fn new() -> Self {
        Self(AtomicU64::new(NONE_SEEN))
    }

    pub(crate) fn store(&self, rate_limit: RateLimit) {
        let packed = (u64::from(rate_limit.limit) << 32) | u64::from(rate_limit.remaining);
        // u32::MAX in both halves is the sentinel; such a figure is not worth keeping.
        if packed != NONE_SEEN {
            self.0.store(packed, Ordering::Relaxed);
        }
    }

    pub(crate) fn load(&self) -> Option<RateLimit> {
        match self.0.load(Ordering::Relaxed) {
            NONE_SEEN => None,
            packed => Some(RateLimit { limit: (packed >> 32) as u32, remaining: packed as u32 }),
        }
    }
}

/// A client-side budget of calls: a token bucket refilled evenly over `per`. Calls
/// beyond it wait instead of being sent. Clones share one budget, as do clones of the
/// client that holds it.
#[derive(Clone)]
pub struct RateBudget {
    bucket: Arc<Mutex<Bucket>>,
    capacity: f64,
    per_second: f64,
}

struct Bucket {
    tokens: f64,
    updated: tokio::time::Instant,
}

impl RateBudget {
    /// `calls` calls per `per`, starting full.
    pub fn new(calls: u32, per: Duration) -> Self {
        let capacity = f64::from(calls.max(1));
        RateBudget {
            bucket: Arc::new(Mutex::new(Bucket { tokens: capacity, updated: tokio::time::Instant::now() })),
            capacity,
            per_second: capacity / per.as_secs_f64().max(f64::MIN_POSITIVE),
        }
    }

    /// The API's own allowance: 5,000 calls an hour.
    pub fn xplenty_default() -> Self {
        Self::new(5_000, Duration::from_secs(3_600))
    }

    /// Calls that could be made now without waiting.
    pub fn available(&self) -> u32 {
        let mut bucket = self.lock();
        self.refill(&mut bucket);
        bucket.tokens as u32
    }

    /// Waits until the budget allows one more call, then takes it.
    pub(crate) async fn acquire(&self) {
        self.acquire_by(None).await;
    }

    /// [`acquire`](Self::acquire), unless the wait would end after `by`: then `false` at
    /// once, nothing taken.
    pub(crate) async fn acquire_by(&self, by: Option<tokio::time::Instant>) -> bool {
        loop {
            let wait = {
                let mut bucket = self.lock();
                self.refill(&mut bucket);
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    return true;
                }
                // A budget of a few calls per century asks for more than a Duration holds.
                // At least a millisecond: a wait that rounds to zero would spin without
                // the clock moving.
                Duration::try_from_secs_f64((1.0 - bucket.tokens) / self.per_second)
                    .unwrap_or(Duration::MAX)
                    .max(Duration::from_millis(1))
            };
            if let Some(by) = by
                && tokio::time::Instant::now().checked_add(wait).is_none_or(|ready| ready > by)
            {
                return false;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// The server knows better: never hold more credits than it says are left.
    pub(crate) fn observe(&self, rate_limit: RateLimit) {
        let mut bucket = self.lock();
        bucket.tokens = bucket.tokens.min(f64::from(rate_limit.remaining));
    }

    fn refill(&self, bucket: &mut Bucket) {
        let now = tokio::time::Instant::now();
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        let refilled = bucket.tokens + elapsed * self.per_second;
        // `0 × ∞` (a budget over no time at all) is NaN: such a budget is always full.
        bucket.tokens = if refilled.is_nan() { self.capacity } else { refilled.min(self.capacity) };
        bucket.updated = now;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        // The bucket holds two numbers; one left by a panicking thread is still usable.
        self.bucket.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for RateBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateBudget")
            .field("capacity", &self.capacity)
            .field("per_second", &self.per_second)
            .field("available", &self.available())
            .finish()
    }
}
