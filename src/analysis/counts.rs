//! Count-based, anytime-valid evidence for ratio metrics (errors / requests).
//!
//! A ratio of rare events is judged on the counts behind it, not on samples of the ratio: how many
//! requests the canary and the baseline served and how many of them failed (per step of the
//! range query: the per-second rates times the step, so overlapping `rate()[1m]` points are not
//! counted six times). Three tests, each an e-process — a mixture of likelihood ratios over a
//! small grid of alternatives, which under its null hypothesis is a nonnegative (super)martingale,
//! so by Ville's inequality the chance that it *ever* reaches `1/α` is at most `α`. The cockpit
//! reads the verdict every poll; these tests stay valid however often they are looked at, which a
//! fixed-sample test read every 15 s does not (the approach of Netflix's sequential testing for
//! counting processes, KDD 2022; here the binomial form, exact for requests that each fail or not):
//!
//! - **over the bound** — H0: the canary's event probability `p ≤ max`; alternatives
//!   `p = max · {1.25, 1.5, 2, 3, 5, 10}`: `E = mean_k (p_k/max)^X ((1−p_k)/(1−max))^(N−X)`.
//! - **under the bound** — H0: `p ≥ max`; alternatives `max · {0.8, 0.6, 0.4, 0.2, 0.05}`. Reaching
//!   `1/α` *shows* the canary under the bound; not reaching it with few requests is "not enough
//!   evidence" — decided from the counts themselves, no user-set traffic floor.
//! - **worse than the baseline** — conditional on the events of a step, the canary's share of them
//!   is binomial with `θ = ρa/(ρa+b)` (`a`, `b` the requests of each side, `ρ` the ratio of their
//!   event rates). H0: `ρ ≤ 1 + tolerance`; alternatives `ρ0 · {1.25, 1.5, 2, 3, 5, 10}`. Shared
//!   problems (both sides degrade) leave `ρ` alone, so they do not count against the canary.
//!
//! Pure: no I/O, no clock.

use crate::domain::CountStep;
use serde::{Deserialize, Serialize};

const OVER_GRID: [f64; 6] = [1.25, 1.5, 2.0, 3.0, 5.0, 10.0];
const UNDER_GRID: [f64; 5] = [0.8, 0.6, 0.4, 0.2, 0.05];

/// Totals over a span of steps.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Totals {
    pub canary_requests: f64,
    pub canary_events: f64,
    pub baseline_requests: f64,
    pub baseline_events: f64,
}

impl Totals {
    pub fn of(steps: &[CountStep]) -> Totals {
        let mut t = Totals::default();
        for s in steps {
            t.canary_requests += s.canary_requests;
            t.canary_events += s.canary_events;
            t.baseline_requests += s.baseline_requests;
            t.baseline_events += s.baseline_events;
        }
        t
    }

    /// These totals less `part`'s (a span of the steps they were taken over).
    pub fn without(&self, part: &Totals) -> Totals {
        Totals {
            canary_requests: self.canary_requests - part.canary_requests,
            canary_events: self.canary_events - part.canary_events,
            baseline_requests: self.baseline_requests - part.baseline_requests,
            baseline_events: self.baseline_events - part.baseline_events,
        }
    }

    /// The canary's event ratio, when it served anything.
    pub fn canary_ratio(&self) -> Option<f64> {
        (self.canary_requests > 0.0).then(|| self.canary_events / self.canary_requests)
    }

    /// The baseline's event ratio, when it served anything.
    pub fn baseline_ratio(&self) -> Option<f64> {
        (self.baseline_requests > 0.0).then(|| self.baseline_events / self.baseline_requests)
    }

    /// Canary rate / baseline rate (per request), when both are known and the baseline's is > 0.
    pub fn rate_ratio(&self) -> Option<f64> {
        match (self.canary_ratio(), self.baseline_ratio()) {
            (Some(c), Some(b)) if b > 0.0 => Some(c / b),
            _ => None,
        }
    }
}

/// ln Σ exp(l_k) (−∞ for none): e-values given as logarithms, summed.
pub fn log_sum_exp(ls: &[f64]) -> f64 {
    let max = ls.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + ls.iter().map(|l| (l - max).exp()).sum::<f64>().ln()
}

/// ln(Σ exp(l_k) / K).
fn log_mean_exp(ls: &[f64]) -> f64 {
    log_sum_exp(ls) - (ls.len() as f64).ln()
}

/// The binomial log likelihood ratio of `p` against `p0` for `x` events in `n` trials.
pub fn llr(x: f64, n: f64, p: f64, p0: f64) -> f64 {
    let fail = (n - x).max(0.0);
    let a = if x > 0.0 { x * (p / p0).ln() } else { 0.0 };
    let b = if fail > 0.0 {
        fail * ((1.0 - p) / (1.0 - p0)).ln()
    } else {
        0.0
    };
    a + b
}

/// ln E of "the canary's event probability is above `bound`" for `x` events in `n` requests.
pub fn log_e_over(x: f64, n: f64, bound: f64) -> f64 {
    if !(bound > 0.0 && bound < 1.0) || n <= 0.0 {
        return 0.0;
    }
    let ls: Vec<f64> = OVER_GRID
        .iter()
        .map(|m| (bound * m).min(0.999))
        .filter(|p| *p > bound)
        .map(|p| llr(x, n, p, bound))
        .collect();
    if ls.is_empty() {
        return 0.0;
    }
    log_mean_exp(&ls)
}

/// ln E of "the canary's event probability is below `bound`" for `x` events in `n` requests.
pub fn log_e_under(x: f64, n: f64, bound: f64) -> f64 {
    if !(bound > 0.0 && bound < 1.0) || n <= 0.0 {
        return 0.0;
    }
    let ls: Vec<f64> = UNDER_GRID
        .iter()
        .map(|m| llr(x, n, bound * m, bound))
        .collect();
    log_mean_exp(&ls)
}

/// ln E of "the canary's event rate is more than `rho0` times the baseline's", step by step. With
/// `θ = ρa/(ρa+b)` the log likelihood ratio of a step is `x·ln(ρ/ρ0) + n·ln((ρ0·a+b)/(ρ·a+b))` (x
/// the canary's events, n both sides'): one logarithm per step and alternative.
pub fn log_e_worse(steps: &[CountStep], rho0: f64) -> f64 {
    Prefixes::of(steps, rho0).log_e_worse(0, steps.len())
}

/// [`log_e_worse`] of two totals taken as one step: `(requests, events)` of the side judged
/// against those of its reference (a span of the canary against the stable's history, or
/// against itself earlier).
pub fn log_e_worse_totals(side: (f64, f64), reference: (f64, f64), rho0: f64) -> f64 {
    let step = CountStep {
        canary_requests: side.0,
        canary_events: side.1,
        baseline_requests: reference.0,
        baseline_events: reference.1,
    };
    log_e_worse(&[step], rho0)
}

/// The comparison's log likelihood ratios summed per alternative over `steps[..i]`, for every `i`
/// in `0..=steps.len()` (one pass: the evidence of any run of steps is then a difference of two
/// prefixes, see [`Prefixes::span`]).
#[derive(Debug, Clone, Default)]
pub struct Prefixes {
    sums: Vec<[f64; OVER_GRID.len()]>,
    rho0: f64,
}

impl Prefixes {
    pub fn of(steps: &[CountStep], rho0: f64) -> Prefixes {
        let mut sums = Vec::with_capacity(steps.len() + 1);
        let mut acc = [0.0f64; OVER_GRID.len()];
        sums.push(acc);
        let valid = rho0 > 0.0 && rho0.is_finite();
        let ln_m = OVER_GRID.map(f64::ln);
        for s in steps {
            let (a, b) = (s.canary_requests, s.baseline_requests);
            let n = s.canary_events + s.baseline_events;
            if valid && a > 0.0 && b > 0.0 && n > 0.0 {
                let base = rho0 * a + b;
                for (k, m) in OVER_GRID.iter().enumerate() {
                    acc[k] += s.canary_events * ln_m[k] + n * (base / (rho0 * m * a + b)).ln();
                }
            }
            sums.push(acc);
        }
        Prefixes { sums, rho0 }
    }

    /// ln E of "worse than the baseline beyond `rho0`" over `steps[from..to]`.
    pub fn log_e_worse(&self, from: usize, to: usize) -> f64 {
        if !(self.rho0 > 0.0 && self.rho0.is_finite()) {
            return 0.0;
        }
        let last = self.sums.len().saturating_sub(1);
        let (from, to) = (from.min(last), to.min(last));
        if from >= to {
            return 0.0;
        }
        let (a, b) = (&self.sums[from], &self.sums[to]);
        let mut d = [0.0f64; OVER_GRID.len()];
        for k in 0..d.len() {
            d[k] = b[k] - a[k];
        }
        log_mean_exp(&d)
    }

    /// What the counts say about `steps[from..to]` (the steps these prefixes were made of).
    pub fn span(
        &self,
        steps: &[CountStep],
        from: usize,
        to: usize,
        bound: Option<f64>,
    ) -> SpanEvidence {
        let to = to.min(steps.len());
        let from = from.min(to);
        SpanEvidence::with_worse(&steps[from..to], bound, self.log_e_worse(from, to))
    }
}

/// How many requests at event ratio `ratio` it takes to show a canary under `bound` at `alpha`;
/// `None` when that ratio is too close to the bound to show in any number of requests this
/// judge would wait for (ten million).
pub fn requests_to_show_under(ratio: f64, bound: f64, alpha: f64) -> Option<f64> {
    if !(bound > 0.0 && bound < 1.0 && ratio >= 0.0 && ratio < bound) {
        return None;
    }
    let goal = (1.0 / alpha).ln();
    let ok = |n: f64| log_e_under(ratio * n, n, bound) >= goal;
    let (mut lo, mut hi) = (1.0_f64, 16.0_f64);
    while !ok(hi) {
        lo = hi;
        hi *= 2.0;
        if hi > 1e7 {
            return None;
        }
    }
    while hi - lo > 1.0 + hi * 0.01 {
        let mid = (lo + hi) / 2.0;
        if ok(mid) { hi = mid } else { lo = mid }
    }
    Some(hi.ceil())
}

/// What the counts say about one span (the current slice, or the whole rollout).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SpanEvidence {
    pub totals: Totals,
    /// ln E over the bound (0 without a bound).
    pub log_e_over: f64,
    /// ln E under the bound (0 without a bound).
    pub log_e_under: f64,
    /// ln E worse than the baseline beyond the tolerance (0 without baseline counts).
    pub log_e_worse: f64,
    /// ln E of the baseline over the bound: a shared problem.
    pub log_e_baseline_over: f64,
}

impl SpanEvidence {
    pub(crate) fn with_worse(
        steps: &[CountStep],
        bound: Option<f64>,
        log_e_worse: f64,
    ) -> SpanEvidence {
        let totals = Totals::of(steps);
        let (over, under, base_over) = match bound {
            Some(b) => (
                log_e_over(totals.canary_events, totals.canary_requests, b),
                log_e_under(totals.canary_events, totals.canary_requests, b),
                log_e_over(totals.baseline_events, totals.baseline_requests, b),
            ),
            None => (0.0, 0.0, 0.0),
        };
        SpanEvidence {
            totals,
            log_e_over: over,
            log_e_under: under,
            log_e_worse,
            log_e_baseline_over: base_over,
        }
    }
}

/// The count evidence of a metric, kept on its judgement.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CountEvidence {
    /// The current slice alone (the late-onset guard).
    pub slice: SpanEvidence,
    /// Since the rollout began (evidence carried across slices), when that is longer.
    pub rollout: Option<SpanEvidence>,
    /// The last threshold window alone: whether a finding still holds.
    pub recent: Totals,
    /// ln(1/α) per look: the evidence needed (α split over the looks taken).
    pub goal: f64,
    /// Requests it would take at the current ratio to show the canary under the bound.
    pub requests_needed: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(cr: f64, ce: f64, br: f64, be: f64) -> CountStep {
        CountStep {
            canary_requests: cr,
            canary_events: ce,
            baseline_requests: br,
            baseline_events: be,
        }
    }

    const GOAL: f64 = 2.995_732_273_553_991; // ln 20

    #[test]
    fn zero_errors_in_200_requests_do_not_show_a_half_percent_bound() {
        assert!(log_e_under(0.0, 200.0, 0.005) < GOAL);
        assert!(log_e_over(0.0, 200.0, 0.005) < 0.0);
        // About a thousand requests without an error do.
        let n = requests_to_show_under(0.0, 0.005, 0.05).unwrap();
        assert!((500.0..1500.0).contains(&n), "{n}");
        assert!(log_e_under(0.0, n, 0.005) >= GOAL);
    }

    #[test]
    fn thirty_errors_in_200_requests_prove_a_breach() {
        assert!(log_e_over(30.0, 200.0, 0.005) > GOAL * 5.0);
        // One error in 200 is no proof either way.
        assert!(log_e_over(1.0, 200.0, 0.005) < GOAL);
    }

    #[test]
    fn the_rate_ratio_test_sees_a_persistent_regression_and_not_a_shared_one() {
        // The case: +40 % under the bound. 6,000 requests a minute on each side, 0.42 %
        // errors against 0.30 % (bound 0.5 %), 20 minutes at 15 s steps.
        let subtle: Vec<CountStep> = (0..80).map(|_| step(1500.0, 6.3, 1500.0, 4.5)).collect();
        assert!(
            log_e_worse(&subtle, 1.1) > GOAL,
            "{}",
            log_e_worse(&subtle, 1.1)
        );
        // Ten minutes of it is not yet proof; the judge holds on the estimate meanwhile.
        assert!(log_e_worse(&subtle[..40], 1.1) < GOAL);
        // Doubled errors at 3,000 a minute: ten minutes prove it.
        let worse: Vec<CountStep> = (0..40).map(|_| step(750.0, 3.0, 750.0, 1.5)).collect();
        assert!(
            log_e_worse(&worse, 1.1) > GOAL,
            "{}",
            log_e_worse(&worse, 1.1)
        );
        // Both sides at 2 %: a shared problem, nothing against the canary.
        let shared: Vec<CountStep> = (0..40).map(|_| step(750.0, 15.0, 750.0, 15.0)).collect();
        assert!(log_e_worse(&shared, 1.1) < 0.0);
        // Unequal sides are weighed by their requests: 10 % canary, same ratio.
        let split: Vec<CountStep> = (0..40).map(|_| step(150.0, 3.0, 1350.0, 27.0)).collect();
        assert!(log_e_worse(&split, 1.1) < 0.0);
    }

    #[test]
    fn a_span_from_prefixes_is_the_span_judged_alone() {
        let steps: Vec<CountStep> = (0..30)
            .map(|i| step(100.0 + i as f64, (i % 4) as f64, 120.0, (i % 3) as f64))
            .collect();
        let p = Prefixes::of(&steps, 1.1);
        for (from, to) in [(0, 30), (0, 12), (8, 30), (20, 24), (5, 5)] {
            let alone = log_e_worse(&steps[from..to], 1.1);
            let from_prefixes = p.log_e_worse(from, to);
            assert!(
                (alone - from_prefixes).abs() < 1e-9,
                "{from}..{to}: {alone} vs {from_prefixes}"
            );
            assert_eq!(
                p.span(&steps, from, to, Some(0.01)).totals,
                Totals::of(&steps[from..to])
            );
        }
    }

    #[test]
    fn a_ratio_at_the_bound_cannot_be_shown_under_it() {
        assert_eq!(requests_to_show_under(0.005, 0.005, 0.05), None);
        assert_eq!(requests_to_show_under(0.0049999, 0.005, 0.05), None);
    }

    #[test]
    fn no_requests_no_evidence() {
        assert_eq!(log_e_over(0.0, 0.0, 0.005), 0.0);
        assert_eq!(log_e_under(0.0, 0.0, 0.005), 0.0);
        assert_eq!(log_e_worse(&[step(0.0, 0.0, 100.0, 1.0)], 1.1), 0.0);
    }

    /// Peeking every step over many healthy canaries: the e-process reaches 1/α at most α of the
    /// time (Ville), here far less since the canary is well under the bound.
    #[test]
    fn peeking_at_every_step_keeps_false_alarms_under_alpha() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut alarms = 0;
        let runs = 400;
        for _ in 0..runs {
            // At the bound's edge: p = 0.5 %, the null's boundary, 20 requests a step, 120 steps.
            let mut steps = Vec::new();
            let mut fired = false;
            for _ in 0..120 {
                let mut e = 0.0;
                for _ in 0..20 {
                    if next() < 0.005 {
                        e += 1.0;
                    }
                }
                let mut b = 0.0;
                for _ in 0..20 {
                    if next() < 0.005 {
                        b += 1.0;
                    }
                }
                steps.push(step(20.0, e, 20.0, b));
                let t = Totals::of(&steps);
                if log_e_over(t.canary_events, t.canary_requests, 0.005) >= GOAL
                    || log_e_worse(&steps, 1.0) >= GOAL
                {
                    fired = true;
                    break;
                }
            }
            alarms += fired as usize;
        }
        // α = 5 % per test, two tests: at most 10 % even at the boundary; the binomial is
        // discrete, so in practice fewer.
        assert!(alarms * 10 <= runs, "{alarms} of {runs}");
    }
}
