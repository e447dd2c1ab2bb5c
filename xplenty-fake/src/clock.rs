use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// The fake's time. By default ([`Clock::real`]) it runs at real speed and
/// [`Clock::advance`] jumps it forward, so a client's wait always ends (a cluster is
/// available after 10 s, a job done after about 24 s); [`Clock::manual`] stands still
/// until advanced, for tests that assert every step; [`Clock::scaled`] runs faster.
#[derive(Debug, Clone)]
pub struct Clock(Arc<Mutex<Inner>>);

#[derive(Debug)]
enum Inner {
    Manual { elapsed: Duration },
    Scaled { started: Instant, factor: f64, advanced: Duration },
}

impl Default for Clock {
    fn default() -> Self {
        Clock::real()
    }
}

/// Where the fake's time starts.
fn epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-05-02T08:00:00Z").expect("a valid date").to_utc()
}

impl Clock {
    /// Stands still until advanced.
    pub fn manual() -> Self {
        Clock(Arc::new(Mutex::new(Inner::Manual { elapsed: Duration::ZERO })))
    }

    /// Runs at real speed (the default of [`FakeXplenty::start`](crate::FakeXplenty::start)).
    pub fn real() -> Self {
        Clock::scaled(1.0)
    }

    /// Runs `factor` times faster than real time (a factor that is not a finite,
    /// non-negative number stands still).
    pub fn scaled(factor: f64) -> Self {
        let factor = if factor.is_finite() { factor.max(0.0) } else { 0.0 };
        Clock(Arc::new(Mutex::new(Inner::Scaled { started: Instant::now(), factor, advanced: Duration::ZERO })))
    }

    /// Moves the clock forward by `by`, whatever its kind (saturating).
    pub fn advance(&self, by: Duration) {
        match &mut *self.lock() {
            Inner::Manual { elapsed } => *elapsed = elapsed.saturating_add(by),
            Inner::Scaled { advanced, .. } => *advanced = advanced.saturating_add(by),
        }
    }

    /// Whether the clock stands still until advanced.
    pub fn is_manual(&self) -> bool {
        matches!(&*self.lock(), Inner::Manual { .. })
    }

    /// Time since the fake started, by this clock.
    pub fn elapsed(&self) -> Duration {
        match &*self.lock() {
            Inner::Manual { elapsed } => *elapsed,
            Inner::Scaled { started, factor, advanced } => {
                let run =
                    Duration::try_from_secs_f64(started.elapsed().as_secs_f64() * factor).unwrap_or(Duration::MAX);
                run.saturating_add(*advanced)
            }
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        epoch() + chrono::Duration::from_std(self.elapsed()).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
