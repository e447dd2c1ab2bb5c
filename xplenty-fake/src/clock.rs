use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// The fake's time. Manual by default, so tests move it with [`Clock::advance`] instead
/// of sleeping; scaled runs it faster than real time, for demos.
#[derive(Debug, Clone)]
pub struct Clock(Arc<Mutex<Inner>>);

#[derive(Debug)]
enum Inner {
    Manual { elapsed: Duration },
    Scaled { started: Instant, factor: f64 },
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

    /// Runs `factor` times faster than real time.
    pub fn scaled(factor: f64) -> Self {
        Clock(Arc::new(Mutex::new(Inner::Scaled { started: Instant::now(), factor: factor.max(0.0) })))
    }

    /// Moves a manual clock forward (a scaled clock ignores this).
    pub fn advance(&self, by: Duration) {
        if let Inner::Manual { elapsed } = &mut *self.lock() {
            *elapsed += by;
        }
    }

    /// Time since the fake started, by this clock.
    pub fn elapsed(&self) -> Duration {
        match &*self.lock() {
            Inner::Manual { elapsed } => *elapsed,
            Inner::Scaled { started, factor } => started.elapsed().mul_f64(*factor),
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
