//! The story of one release, as pure functions of scenario seconds `t`.
//!
//! Timeline (t in seconds, payload time = 2026-11-23T09:00:00Z + t):
//! - t = 0: canaries of `checkout` (production) and `web` (staging) at 10 %. The `Deploy` run of
//!   acme/checkout waits for approval of environment `production` (and keeps waiting until the
//!   operator approves or rejects it; see `sim/github_runs.rs`). CI of acme/checkout#418 has
//!   failed ("test (node 20)").
//! - t = 20: CI for acme/web#88 is queued (in progress at 25, succeeds at 70); its CircleCI
//!   status is pending from 20, green at 70.
//! - t = 40: both canaries at 25 %.
//! - t = 60: the in-progress CI run of acme/checkout#415 completes with success; its
//!   `codecov/patch` status (failure) appears at 61.
//! - t = 80: both canaries at 50 %. From here checkout's canary error rate climbs to 2-4 % (max is
//!   0.5 %) and its p99 rises from ~190 ms to ~265 ms.
//! - t = 83: Sentry incident CHECKOUT-3F "TypeError: cannot read property 'amount' of undefined"
//!   is first seen; its count then grows (2 events/s, 4/s once the canary is at 100 %).
//! - t = 120: both canaries at 100 %.
//! - t = 125: the web staging `Deploy` run completes with success.
//! - t = 140: hotfix PR acme/checkout#422 opens; its CI is queued, in progress at 146, green at
//!   176. Its mergeability is `unknown` until 150, then `blocked` (review required) until
//!   devon-r approves at 165, `unstable` while CI runs, `clean` from 176.
//! - t >= 180: final state (metrics keep their deterministic noise around the final levels).
//!
//! The operator can change the story: dispatching `rollback.yml` on a service's repository rolls
//! its canary back at that moment (see `sim/github.rs`). From then on `flagger_canary_weight` is 0
//! and the baseline (`track="stable"`) takes all the traffic, its error rate and latency as
//! before. The canary gets no traffic: for [`IDLE_SECS`] its pods still report flat counters, so
//! `sum(rate(...))` is 0, the 5xx ratio `0 / 0` is `NaN` and `histogram_quantile` over empty
//! buckets is `NaN`; after that its series are gone and every canary query returns an empty
//! vector ([`Canary`]). The rollback's clock runs at the world's speed, or 1 s per wall second in
//! a frozen world (like the consequences of the other operator actions).

use super::util::noise;

/// Scenario seconds after which GitHub and Sentry payloads stop changing.
pub const END: f64 = 180.0;
/// When the checkout canary's regression (and the Sentry incident) starts.
pub const REGRESSION_AT: f64 = 80.0;
/// First event of the incident.
pub const INCIDENT_AT: f64 = 83.0;
/// (scenario second, canary weight %) steps, shared by both services.
pub const STEPS: [(f64, f64); 4] = [(0.0, 10.0), (40.0, 25.0), (80.0, 50.0), (120.0, 100.0)];
/// Services with a canary in the demo.
pub const APPS: [&str; 2] = ["checkout", "web"];
/// Seconds a rolled-back canary's idle pods keep reporting (one `[1m]` rate window of flat
/// counters) before its series are gone.
pub const IDLE_SECS: f64 = 60.0;

/// An app's canary at one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Canary {
    /// Following the story.
    Live,
    /// Rolled back: weight 0 and no traffic; its counters are flat (`rate()` = 0).
    Idle,
    /// Rolled back [`IDLE_SECS`] or more ago: scaled to zero, its series are gone.
    Gone,
}

impl Canary {
    /// The canary `since` seconds after its rollback (`None`: not rolled back).
    pub fn after_rollback(since: Option<f64>) -> Self {
        match since {
            None => Canary::Live,
            Some(s) if s < IDLE_SECS => Canary::Idle,
            Some(_) => Canary::Gone,
        }
    }
}

/// Clamps `t` into the story (GitHub and Sentry freeze at `END`).
pub fn story(t: f64) -> f64 {
    t.min(END)
}

/// Flagger canary weight (0 before the rollout starts).
pub fn canary_weight(t: f64) -> f64 {
    STEPS
        .iter()
        .rev()
        .find(|(at, _)| t >= *at)
        .map_or(0.0, |(_, w)| *w)
}

fn regression(app: &str, t: f64) -> f64 {
    if app == "checkout" {
        ((t - REGRESSION_AT) / 6.0).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn lerp(a: f64, b: f64, r: f64) -> f64 {
    a + (b - a) * r
}

/// Ratio of 5xx responses for `track` ("canary" or "stable"); `None` when the series does not
/// exist.
pub fn error_ratio(app: &str, track: &str, t: f64) -> Option<f64> {
    let n = |s: &str| noise(&format!("err/{app}/{track}/{s}"), t, 5.0);
    let v = match (app, track) {
        ("checkout", "stable") => 0.0020 + 0.0006 * n("a"),
        ("checkout", "canary") if t >= 0.0 => {
            // A healthy canary tracks its baseline closely (same traffic, same code paths).
            let healthy = error_ratio(app, "stable", t)? * (1.0 + 0.08 * n("a"));
            lerp(healthy, 0.030 + 0.008 * n("b"), regression(app, t))
        }
        ("web", "stable") => 0.0012 + 0.0004 * n("a"),
        ("web", "canary") if t >= 0.0 => error_ratio(app, "stable", t)? * (1.0 + 0.08 * n("a")),
        _ => return None,
    };
    Some(v.max(0.0))
}

/// p99 latency in milliseconds.
pub fn p99_ms(app: &str, track: &str, t: f64) -> Option<f64> {
    let n = |s: &str| noise(&format!("p99/{app}/{track}/{s}"), t, 5.0);
    let v = match (app, track) {
        ("checkout", "stable") => 180.0 + 8.0 * n("a"),
        ("checkout", "canary") if t >= 0.0 => lerp(
            p99_ms(app, "stable", t)? + 2.0 + 3.0 * n("a"),
            265.0 + 20.0 * n("b"),
            regression(app, t),
        ),
        ("web", "stable") => 118.0 + 6.0 * n("a"),
        ("web", "canary") if t >= 0.0 => p99_ms(app, "stable", t)? + 1.0 + 2.0 * n("a"),
        _ => return None,
    };
    Some(v)
}

/// Latency quantile `phi` in milliseconds, derived from the p99 by a fixed distribution shape.
pub fn quantile_ms(app: &str, track: &str, phi: f64, t: f64) -> Option<f64> {
    const SHAPE: [(f64, f64); 6] = [
        (0.0, 0.05),
        (0.5, 0.45),
        (0.9, 0.7),
        (0.95, 0.8),
        (0.99, 1.0),
        (1.0, 1.3),
    ];
    let p99 = p99_ms(app, track, t)?;
    let phi = phi.clamp(0.0, 1.0);
    let mut factor = 1.3;
    for w in SHAPE.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if phi <= x1 {
            factor = lerp(y0, y1, (phi - x0) / (x1 - x0));
            break;
        }
    }
    Some(p99 * factor)
}

/// Requests per second of `track` while the canary gets `weight` % of the traffic.
pub fn request_rate(app: &str, track: &str, t: f64, weight: f64) -> Option<f64> {
    let total = match app {
        // A busy shop: enough requests that a canary's error ratio is evidence within a poll
        // or two of each slice (the judge counts them).
        "checkout" => 4_000.0,
        "web" => 6_000.0,
        _ => return None,
    } * (1.0 + 0.05 * noise(&format!("rps/{app}"), t, 7.0));
    let share = weight / 100.0;
    match track {
        "canary" if t >= 0.0 => Some(total * share),
        "stable" => Some(total * (1.0 - share)),
        _ => None,
    }
}

/// Value of a "mixed" series (no `track` label): canary and stable blended by the canary's
/// `weight` %.
pub fn blended(weight: f64, f: impl Fn(&str) -> Option<f64>) -> Option<f64> {
    let stable = f("stable")?;
    if weight <= 0.0 {
        return Some(stable);
    }
    match f("canary") {
        Some(c) => Some(lerp(stable, c, weight / 100.0)),
        None => Some(stable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_step() {
        assert_eq!(canary_weight(-1.0), 0.0);
        assert_eq!(canary_weight(0.0), 10.0);
        assert_eq!(canary_weight(39.9), 10.0);
        assert_eq!(canary_weight(40.0), 25.0);
        assert_eq!(canary_weight(80.0), 50.0);
        assert_eq!(canary_weight(500.0), 100.0);
    }

    #[test]
    fn checkout_canary_breaches_only_after_half() {
        for i in 0..800 {
            let t = f64::from(i) * 0.1;
            let e = error_ratio("checkout", "canary", t).unwrap_or(1.0);
            assert!((0.001..=0.003).contains(&e), "t={t} e={e}");
            let s = error_ratio("checkout", "stable", t).unwrap_or(1.0);
            assert!(s < 0.005);
        }
        for i in 0..1000 {
            let t = 90.0 + f64::from(i) * 0.2;
            let e = error_ratio("checkout", "canary", t).unwrap_or(0.0);
            assert!((0.02..=0.04).contains(&e), "t={t} e={e}");
            let w = error_ratio("web", "canary", t).unwrap_or(1.0);
            assert!(w < 0.002);
            let p = p99_ms("checkout", "canary", t).unwrap_or(1e9);
            assert!(p < 500.0 && p > 200.0);
        }
        assert_eq!(error_ratio("checkout", "canary", -1.0), None);
        assert_eq!(error_ratio("nope", "stable", 1.0), None);
    }

    #[test]
    fn rollback_idles_then_removes_the_canary() {
        assert_eq!(Canary::after_rollback(None), Canary::Live);
        assert_eq!(Canary::after_rollback(Some(0.0)), Canary::Idle);
        assert_eq!(Canary::after_rollback(Some(IDLE_SECS)), Canary::Gone);
        assert_eq!(request_rate("checkout", "canary", 100.0, 0.0), Some(0.0));
        let all = request_rate("checkout", "stable", 100.0, 0.0).unwrap_or(0.0);
        let half = request_rate("checkout", "stable", 100.0, 50.0).unwrap_or(0.0);
        assert!((all - 2.0 * half).abs() < 1e-9);
        let stable = |tr: &str| (tr == "stable").then_some(1.0).or(Some(f64::NAN));
        assert_eq!(blended(0.0, stable), Some(1.0));
    }

    #[test]
    fn quantiles_are_monotonic() {
        let q = |phi| quantile_ms("web", "stable", phi, 10.0).unwrap_or(0.0);
        assert!(q(0.5) < q(0.9) && q(0.9) < q(0.95) && q(0.95) < q(0.99));
        assert!((q(0.99) - p99_ms("web", "stable", 10.0).unwrap_or(0.0)).abs() < 1e-9);
    }
}
