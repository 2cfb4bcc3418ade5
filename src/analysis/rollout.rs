//! The glue between a service as read from Prometheus and the canary judge.

use super::canary::{
    DEFAULT_MIN_SAMPLES, Direction, Judgement, MetricSamples, MetricSpec, Policy, Unit, Verdict,
    judge, median_unsorted,
};
use super::counts::{Totals, log_e_over};
use crate::domain::ServiceRollout;

/// Judge one service from its readings under the configured policy (whose traffic floor is the
/// service's own). Metrics with a query error count as having no data.
pub fn judge_service(r: &ServiceRollout, policy: &Policy) -> Judgement {
    let policy = Policy {
        min_traffic: r.min_traffic,
        ..*policy
    };
    let thin: Vec<Option<(f64, f64)>> = r.metrics.iter().map(|m| thin_quantile(r, m)).collect();
    let rose: Vec<Option<Rise>> = rises(r)
        .into_iter()
        .zip(&thin)
        .map(|(rose, thin)| rose.filter(|_| thin.is_none()))
        .collect();
    let mut j = judge(&metrics(r, &rose, &thin), &policy, r.traffic);
    for (m, thin) in r.metrics.iter().zip(&thin) {
        if let (Some((full, need)), Some(q)) = (thin, m.quantile) {
            j.reasons.push(thin_reason(m, q, *full, *need));
        }
    }
    dwell(r, &mut j);
    idle(r, &mut j);
    latest(r, &mut j);
    stage(r, &rose, &mut j);
    j
}

/// A slice younger than the time a finding that came with it takes to show has no say of its own
/// yet: what was carried from the slices before it cannot PROCEED (the autopilot would promote
/// again at once, and a regression that began with this slice is not yet in the windows that
/// would show it). That time is `failure_limit + 1` judging windows of each metric: a metric
/// fails on more breaching windows than its failure limit, and a finding on counts that rests on
/// its worst `failure_limit` windows waits for the rest to lean its way. ROLLBACK stands.
fn dwell(r: &ServiceRollout, j: &mut Judgement) {
    if j.verdict != Verdict::Proceed {
        return;
    }
    let young = r
        .metrics
        .iter()
        .filter(|m| m.error.is_none())
        .filter_map(|m| {
            let windows = m.failure_limit.saturating_add(1);
            let need = m.window_steps.max(1).saturating_mul(windows);
            m.in_slice.map(|(c, _)| (c, need, windows))
        })
        .filter(|(c, need, _)| c < need)
        .max_by_key(|(c, need, _)| need - c);
    let Some((points, need, windows)) = young else {
        return;
    };
    let weight = r
        .weight
        .map(|w| format!("the {w:.0} % slice"))
        .unwrap_or_else(|| "this slice".into());
    let line = format!(
        "{weight} began {points} of {need} steps ago: PROCEED waits for {} of its own (failure limit + 1)",
        if windows == 1 {
            "one window".to_string()
        } else {
            format!("{windows} windows")
        }
    );
    hold(j, line);
}

/// No canary traffic (weight 0: rolled back, or the rollout not begun): nothing to judge. The HOLD
/// says so first, rather than only that every metric lacks samples.
fn idle(r: &ServiceRollout, j: &mut Judgement) {
    if j.verdict == Verdict::Rollback || !r.weight.is_some_and(|w| w <= 0.0) {
        return;
    }
    hold(
        j,
        "no canary traffic (weight 0 %): rolled back, or the rollout has not begun — nothing to judge"
            .into(),
    );
}

/// A PROCEED the rollout's stage does not allow: HOLD, with why first.
fn hold(j: &mut Judgement, line: String) {
    j.verdict = Verdict::Hold;
    j.summary = format!("HOLD · score {:.2} · {line}", j.score);
    j.reasons.insert(0, line);
}

/// How far (a factor) the stable's last two windows must sit from its history's median, in the
/// worse direction, for the last slice to be compared with them rather than with the history.
const TAIL_MOVED: f64 = 1.25;

/// How far (a factor) the stable's newest point before it lost its traffic, and the canary's
/// beside it, must each sit above their own medians before then for a problem both met in that
/// last minute to be taken as shared: a p99 rises in full with a few seconds of a problem in its
/// window, so a shared incident that began 15 s before the promotion shows in one point (1.16–1.4×
/// in the lab) long before two windows' mean moves by [`TAIL_MOVED`]. Both tracks at once: a
/// healthy stable's newest point alone is past 1.15× its median a few times in a hundred.
const NEWEST_ROSE: f64 = 1.2;

/// The canary's windows before the change its median is taken over in [`rose_with_canary`]: a
/// problem that began up to 45 s before the promotion is in at most three of its twelve points.
const ROSE_SPAN_WINDOWS: usize = 3;

/// What [`rose_with_canary`] found: the stable's level it judged by against its history's median
/// before it, and over what.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rise {
    stable: f64,
    median: f64,
    /// The last two windows' mean (both tracks were already above the service's past), not the
    /// newest point (both rose in the last minute).
    windows: bool,
}

/// At 100 %: a problem both tracks had when the stable version lost its traffic, in the worse
/// direction of a sampled metric, either
/// - **rose in the last minute:** the stable's newest point and the canary's at the same step (the
///   last before the slice), each against its own median before then, both beyond
///   [`NEWEST_ROSE`]; or
/// - **already on:** the stable's last two windows' mean beyond [`TAIL_MOVED`] of its history's
///   median before them, and the canary's last two windows before the change beyond the same
///   factor of that median (an incident that began well before the promotion: the canary's own
///   points before the change hold it too, so it shows no rise of its own at the change).
fn rose_with_canary(m: &crate::domain::MetricReading) -> Option<Rise> {
    if m.error.is_some() || !m.counts.is_empty() {
        return None;
    }
    let c = m.in_slice.map(|(c, _)| c)?;
    let canary = &m.canary_samples;
    let at = canary.len().checked_sub(c + 1)?;
    let w = m.window_steps.max(1);
    // The canary's points since the rollout began, up to the change.
    let rollout_from = m.in_rollout.map_or(0, |n| canary.len().saturating_sub(n));
    let worse = |v: f64, median: f64, x: f64| beyond(m.lower_is_worse, v, median, x);
    let stable = &m.baseline_samples;
    let newest = stable.iter().rposition(|v| v.is_finite())?;
    // Already on: two windows of each track against the stable's history before them.
    let two = 2 * w;
    let mean = |v: &[f64]| {
        let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        (f.len() * 2 >= v.len() && !f.is_empty()).then(|| f.iter().sum::<f64>() / f.len() as f64)
    };
    let tail_from = (newest + 1).saturating_sub(two);
    let on = (|| {
        let median = finite_median(&stable[..tail_from])?;
        let stable_tail = mean(&stable[tail_from..=newest])?;
        let canary_tail = mean(&canary[rollout_from.max((at + 1).saturating_sub(two))..=at])?;
        (worse(stable_tail, median, TAIL_MOVED) && worse(canary_tail, median, TAIL_MOVED))
            .then_some(Rise {
                stable: stable_tail,
                median,
                windows: true,
            })
    })();
    if on.is_some() {
        return on;
    }
    // Rose in the last minute. The canary's median over the same points at every poll of the
    // stage: its last [`ROSE_SPAN_WINDOWS`] windows before the change (a median over all its
    // points in the lookback would slide with the clock and lose the rise partway through the
    // bake).
    let from = rollout_from.max(at.saturating_sub(ROSE_SPAN_WINDOWS * w));
    // The stable's newest point may be the step before the slice's first or that step itself:
    // either of the canary's two beside the change.
    let canary_rose = finite_median(&canary[from.min(at)..at]).is_some_and(|med| {
        canary[at..(at + 2).min(canary.len())]
            .iter()
            .any(|v| v.is_finite() && worse(*v, med, NEWEST_ROSE))
    });
    if !canary_rose {
        return None;
    }
    let median = finite_median(&stable[..newest])?;
    worse(stable[newest], median, NEWEST_ROSE).then_some(Rise {
        stable: stable[newest],
        median,
        windows: false,
    })
}

/// Requests beyond a quantile that a window must hold at the service's full traffic for the
/// quantile to be a measure at all. With fewer, a p99 is a window's largest request or next to
/// it and grows with the number of requests: the canary's and the stable's, on different shares
/// of the traffic, or the canary at 100 % against the stable's history at smaller shares, are not
/// the same measure.
const QUANTILE_TAIL: f64 = 2.0;

/// A sampled quantile (`histogram_quantile(q, …)`) the service's traffic is too thin for: the
/// requests a window holds at full traffic (the canary's latest rate over its weight) and the
/// `QUANTILE_TAIL / (1 − q)` it needs. `None` without the service's traffic.
fn thin_quantile(r: &ServiceRollout, m: &crate::domain::MetricReading) -> Option<(f64, f64)> {
    let q = m.quantile?;
    if m.error.is_some() || !m.counts.is_empty() || m.window_secs == 0 {
        return None;
    }
    let weight = r.weight.filter(|w| *w > 0.0)?.min(100.0);
    let canary = r.traffic.filter(|t| t.is_finite() && *t >= 0.0)?;
    let full = canary * 100.0 / weight * m.window_secs as f64;
    let need = quantile_needs(q);
    (full < need).then_some((full, need))
}

/// Why a [`thin_quantile`] metric is no evidence, in words.
fn thin_reason(m: &crate::domain::MetricReading, q: f64, full: f64, need: f64) -> String {
    let pct = q * 100.0;
    let name = if (pct - pct.round()).abs() < 1e-9 {
        format!("p{pct:.0}")
    } else {
        format!("p{}", (pct * 1000.0).round() / 1000.0)
    };
    format!(
        "{}: too few requests for a {name}: about {full:.0} a {}-second window at full traffic, where a {name} needs {need:.0} (two beyond it): no evidence either way",
        crate::sanitize::clean(&m.name),
        m.window_secs
    )
}

/// The requests a window must hold at full traffic for the `q` quantile to be judged
/// ([`QUANTILE_TAIL`] beyond it).
pub fn quantile_needs(q: f64) -> f64 {
    QUANTILE_TAIL / (1.0 - q)
}

/// `v` beyond `factor` times `reference` in the worse direction (under it over `factor` when
/// lower is worse).
fn beyond(lower_is_worse: bool, v: f64, reference: f64, factor: f64) -> bool {
    if lower_is_worse {
        v < reference / factor
    } else {
        v > reference * factor
    }
}

/// The median of `v`'s finite values, if it has any.
pub(crate) fn finite_median(v: &[f64]) -> Option<f64> {
    let mut finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    median_unsorted(&mut finite)
}

/// At 100 %, each metric's [`rose_with_canary`] (judged on samples only: a p99 shows a problem's
/// first seconds in full; a ratio's counts, the `rate()` of a few errors in one step of four,
/// cannot); below 100 %, none.
fn rises(r: &ServiceRollout) -> Vec<Option<Rise>> {
    r.metrics
        .iter()
        .map(|m| r.baseline_history.and_then(|_| rose_with_canary(m)))
        .collect()
}

/// Each metric's samples since the rollout began (evidence carried across slices), with the
/// current slice's share marked so the judge compares it alone too (the late-onset guard).
fn metrics(
    r: &ServiceRollout,
    rose: &[Option<Rise>],
    thin: &[Option<(f64, f64)>],
) -> Vec<(MetricSpec, MetricSamples)> {
    // A problem both tracks met just before the promotion is the service's: a ratio counted at
    // 100 % is held to the stable's last minutes too.
    let service_rose = rose.iter().any(Option::is_some);
    r.metrics
        .iter()
        .zip(rose)
        .zip(thin)
        .map(|((m, rose), thin)| {
            let mut spec = MetricSpec::new(m.name.clone())
                .direction(if m.lower_is_worse {
                    Direction::LowerIsWorse
                } else {
                    Direction::HigherIsWorse
                })
                .weight(m.weight)
                .failure_limit(m.failure_limit)
                .tolerance(m.tolerance);
            if m.min_samples > 0 {
                spec = spec.min_samples(m.min_samples);
            }
            spec.overlap = m.overlap.max(1.0);
            spec.detect = m.detect;
            spec.max = m.max;
            spec.min = m.min;
            if m.critical {
                spec = spec.critical();
            }
            let tail = |v: &[f64], n: Option<usize>| -> Vec<f64> {
                let n = n.unwrap_or(v.len()).min(v.len());
                v[v.len() - n..].to_vec()
            };
            // The baseline of the last slice is the history: all of it.
            let baseline_n = match (m.in_slice, r.baseline_history) {
                (Some((_, b)), Some(_)) => Some(b),
                _ => m.in_rollout,
            };
            let against_history = r.baseline_history.is_some();
            let samples = if m.error.is_some() || thin.is_some() {
                MetricSamples::default()
            } else if against_history {
                // The last slice against the history. Counts: carried since the rollout began —
                // each earlier step keeps the stable track beside it, the last slice's steps are
                // compared with the history — with the slice alone as the late-onset guard.
                // Samples: the slice alone (since the rollout began while the slice is too young
                // to compare: the history is the stable version's, which the earlier slices'
                // samples are measured against too); against the stable's last minutes when they
                // breached a bound (a problem it had too is not the canary's), else the whole
                // history.
                let min = if m.min_samples > 0 {
                    m.min_samples
                } else {
                    DEFAULT_MIN_SAMPLES
                };
                let c = match m.in_slice.map(|(c, _)| c) {
                    Some(c) if c < min => m.in_rollout,
                    c => c,
                };
                let w = m.window_steps.max(1);
                let stable_tail = tail(&m.baseline_samples, Some(2 * w));
                let finite: Vec<f64> = stable_tail
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                let mean =
                    (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64);
                // …or moved well away from the history (a quarter past the history's median
                // in the worse direction: more than a p99's noise over two windows).
                let history = &m.baseline_samples[..m.baseline_samples.len() - stable_tail.len()];
                let median = finite_median(history);
                let moved = matches!((mean, median), (Some(v), Some(h)) if beyond(m.lower_is_worse, v, h, TAIL_MOVED));
                // …or both tracks rose together in the last minute before the promotion.
                let rose = rose.is_some();
                let counted_rose = !m.counts.is_empty() && service_rose;
                let breached = moved
                    || rose
                    || mean.is_some_and(|v| {
                        m.max.is_some_and(|max| v > max) || m.min.is_some_and(|min| v < min)
                    });
                MetricSamples {
                    window_steps: m.window_steps,
                    counts: m.counts.clone(),
                    prior: m.prior,
                    prior_lookbacks: m.prior_lookbacks,
                    slice_steps: m.in_slice.map(|(c, _)| c.min(m.counts.len())),
                    slice_points: m.in_slice.map(|(c, _)| c),
                    against_history: true,
                    baseline_rose: rose || counted_rose,
                    ..MetricSamples::new(
                        tail(&m.canary_samples, c),
                        if breached {
                            stable_tail
                        } else {
                            m.baseline_samples.clone()
                        },
                        m.windows.clone(),
                    )
                }
            } else {
                let canary = tail(&m.canary_samples, m.in_rollout);
                let baseline = tail(&m.baseline_samples, baseline_n);
                let slice = m.in_slice.map(|(c, b)| {
                    let b = if r.baseline_history.is_some() {
                        baseline.len()
                    } else {
                        b
                    };
                    (c.min(canary.len()), b.min(baseline.len()))
                });
                MetricSamples {
                    slice_steps: m.in_slice.map(|(c, _)| c.min(m.counts.len())),
                    slice_points: m.in_slice.map(|(c, _)| c),
                    window_steps: m.window_steps,
                    counts: m.counts.clone(),
                    prior: m.prior,
                    prior_lookbacks: m.prior_lookbacks,
                    slice,
                    ..MetricSamples::new(canary, baseline, m.windows.clone())
                }
            };
            (spec, samples)
        })
        .collect()
}

/// The newest point beyond a bound (and beyond tolerance of the baseline's newest) is a change
/// the windows have not caught up with yet: no PROCEED on it. A ratio judged on its counts is
/// read from the counts of its latest window instead, beyond the bound only with a hint of it (an
/// e-value of e): at a few requests a second a window holds a handful of errors, and one more
/// puts a service at 70 % of its bound over it.
fn latest(r: &ServiceRollout, j: &mut Judgement) {
    if j.verdict != Verdict::Proceed {
        return;
    }
    let last = |v: &[f64]| v.last().copied().filter(|x| x.is_finite());
    let beyond = r.metrics.iter().filter(|m| m.error.is_none()).find_map(|m| {
        let tol = 1.0 + m.tolerance.max(0.0);
        // In the metric's unit, as the judge's reasons are ("0.62 %", "412 ms").
        let unit = Unit::guess(&m.name);
        if let (false, Some(max)) = (m.counts.is_empty(), m.max) {
            let n = m.window_steps.max(1).min(m.counts.len());
            let t = Totals::of(&m.counts[m.counts.len() - n..]);
            let c = t.canary_ratio()?;
            let hint = log_e_over(t.canary_events, t.canary_requests, max) >= 1.0;
            if !(hint && t.baseline_ratio().is_none_or(|b| c > b * tol)) {
                return None;
            }
            return Some(format!(
                "{}: the latest window's {:.0} errors in {:.0} requests ({}) point beyond max {} (the rollout's counts have not caught up yet): watching",
                m.name,
                t.canary_events,
                t.canary_requests,
                unit.format(c),
                unit.format(max)
            ));
        }
        let c = last(&m.canary_samples)?;
        let base = last(&m.baseline_samples);
        let (bound, word) = match (m.max, m.min) {
            (Some(max), _) if c > max && base.is_none_or(|b| c > b * tol) => (max, "max"),
            (_, Some(min)) if c < min && base.is_none_or(|b| c * tol < b) => (min, "min"),
            _ => return None,
        };
        Some(format!(
            "{}: the newest point {} is beyond {word} {} (the windows have not caught up yet): watching",
            m.name,
            unit.format(c),
            unit.format(bound)
        ))
    });
    if let Some(line) = beyond {
        hold(j, line);
    }
}

/// The last slice: the baseline is the service's history (say so); until the bake time has
/// passed at 100 % a PROCEED is HOLD "baking", and PROCEED once it has completes the promotion.
fn stage(r: &ServiceRollout, rose: &[Option<Rise>], j: &mut Judgement) {
    if !r.weight.is_some_and(|w| w >= 100.0) {
        return;
    }
    let fmt = |t: time::OffsetDateTime| format!("{:02}:{:02} UTC", t.hour(), t.minute());
    match r.baseline_history {
        Some((from, to)) => j.reasons.push(format!(
            "at 100 % the baseline is the stable version's own history until it lost its traffic ({} to {})",
            fmt(from),
            fmt(to)
        )),
        None => j.reasons.push(
            "at 100 % with no history before the rollout within reach: judged on the bounds alone"
                .into(),
        ),
    }
    for (m, rose) in r.metrics.iter().zip(rose) {
        if let Some(rise) = *rose {
            let unit = Unit::guess(&m.name);
            let (what, when) = if rise.windows {
                (
                    "was above its past with the canary",
                    "in its last two windows",
                )
            } else {
                ("rose with the canary", "in its last minute")
            };
            j.reasons.push(format!(
                "{}: the stable version {what} {when} before it lost its traffic ({} against {} before, ×{:.2}): a problem both met, compared with those minutes rather than the history",
                crate::sanitize::clean(&m.name),
                unit.format(rise.stable),
                unit.format(rise.median),
                rise.stable / rise.median
            ));
        }
    }
    if j.verdict != Verdict::Proceed || r.bake_secs == 0 {
        return;
    }
    let mins = |s: u64| crate::fmt::fmt_age(s as i64);
    let held = match (r.read_at, r.slice_since) {
        (Some(at), Some(since)) => (at - since).whole_seconds().max(0) as u64,
        // A bake no one can time is not one that has passed: a PROCEED here would complete the
        // promotion unwatched. (The client knows when the weight reached 100 % whenever it reads
        // it at 100 %; a reading without that moment comes from elsewhere.)
        _ => {
            hold(
                j,
                format!(
                    "baking at 100 %: how long it has been at 100 % is not known (the weight series does not say when it got there), so the {} bake cannot be vouched for; every metric passing so far",
                    mins(r.bake_secs)
                ),
            );
            j.baking = true;
            return;
        }
    };
    if held >= r.bake_secs {
        j.complete = true;
        let line = format!(
            "promotion complete: 100 % for {} (bake time {}) with every metric passing",
            mins(held),
            mins(r.bake_secs)
        );
        j.summary = format!("{} — {line}", j.summary);
        j.reasons.insert(0, line);
    } else {
        // Not yet a PROCEED: the bake is the stage's least time watched, and a PROCEED partway
        // through it would be taken for the promotion's go (by an operator, the autopilot or a
        // `judge` gate) before that time is up. The judge lab's slow error ramps came out within
        // the noise for one poll or two a minute or two into the bake and worse after it.
        hold(
            j,
            format!(
                "baking at 100 %: {} of {}, every metric passing so far; PROCEED once the bake is complete",
                mins(held),
                mins(r.bake_secs)
            ),
        );
        j.baking = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::canary::MetricOutcome;
    use crate::domain::{CountStep, MetricReading};

    fn reading(canary: Vec<f64>, baseline: Vec<f64>, in_slice: usize) -> MetricReading {
        MetricReading {
            name: "p99_ms".into(),
            max: Some(300.0),
            in_slice: Some((in_slice, in_slice)),
            windows: canary
                .chunks(4)
                .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                .collect(),
            canary: canary.last().copied(),
            baseline: baseline.last().copied(),
            canary_samples: canary,
            baseline_samples: baseline,
            overlap: 1.0,
            window_steps: 4,
            weight: 1.0,
            failure_limit: 1,
            tolerance: 0.1,
            ..MetricReading::default()
        }
    }

    fn service(weight: f64, m: MetricReading) -> ServiceRollout {
        ServiceRollout {
            name: "checkout".into(),
            weight: Some(weight),
            metrics: vec![m],
            ..ServiceRollout::default()
        }
    }

    /// `m` judged at 100 % against a 20-minute history (with the service's `traffic`).
    fn at_full(m: MetricReading, traffic: Option<f64>) -> Judgement {
        let mut r = service(100.0, m);
        r.traffic = traffic;
        let t = time::OffsetDateTime::UNIX_EPOCH;
        r.baseline_history = Some((t, t + time::Duration::minutes(20)));
        judge_service(&r, &Policy::default())
    }

    /// `j` gives a reason starting with `prefix`.
    fn gives(j: &Judgement, prefix: &str) {
        assert!(
            j.reasons.iter().any(|r| r.starts_with(prefix)),
            "{prefix:?} in {:?}",
            j.reasons
        );
    }

    fn healthy(n: usize) -> Vec<f64> {
        (0..n).map(|i| 200.0 + (i % 5) as f64).collect()
    }

    #[test]
    fn at_weight_0_the_hold_says_there_is_no_canary_traffic() {
        // Rolled back: the canary's samples stop, the stable's go on.
        let mut canary = healthy(30);
        canary.extend([f64::NAN; 10]);
        let j = judge_service(
            &service(0.0, reading(canary, healthy(40), 10)),
            &Policy::default(),
        );
        assert_eq!(j.verdict, Verdict::Hold, "{:?}", j.reasons);
        assert!(
            j.reasons[0].starts_with("no canary traffic (weight 0 %)"),
            "{:?}",
            j.reasons
        );
        assert!(j.summary.contains("no canary traffic"), "{}", j.summary);
        // Any other weight: no such line.
        let j = judge_service(
            &service(25.0, reading(healthy(40), healthy(40), 12)),
            &Policy::default(),
        );
        assert!(
            !j.reasons.iter().any(|r| r.contains("no canary traffic")),
            "{:?}",
            j.reasons
        );
    }

    #[test]
    fn a_slice_younger_than_failure_limit_plus_one_windows_does_not_proceed_on_what_was_carried() {
        let policy = Policy::default();
        let settled = judge_service(
            &service(25.0, reading(healthy(40), healthy(40), 12)),
            &policy,
        );
        assert_eq!(settled.verdict, Verdict::Proceed, "{:?}", settled.reasons);
        // Failure limit 1, windows of 4 steps: 8 steps of its own.
        for (in_slice, line) in [
            (
                2,
                "the 25 % slice began 2 of 8 steps ago: PROCEED waits for 2 windows",
            ),
            (
                5,
                "the 25 % slice began 5 of 8 steps ago: PROCEED waits for 2 windows",
            ),
        ] {
            let young = judge_service(
                &service(25.0, reading(healthy(40), healthy(40), in_slice)),
                &policy,
            );
            assert_eq!(young.verdict, Verdict::Hold, "{:?}", young.reasons);
            assert!(young.reasons[0].contains(line), "{:?}", young.reasons);
        }
        let at = |in_slice: usize, failure_limit: usize| {
            let mut m = reading(healthy(40), healthy(40), in_slice);
            m.failure_limit = failure_limit;
            judge_service(&service(25.0, m), &policy)
        };
        assert_eq!(at(8, 1).verdict, Verdict::Proceed, "{:?}", at(8, 1).reasons);
        // Failure limit 0: one window.
        assert_eq!(at(4, 0).verdict, Verdict::Proceed, "{:?}", at(4, 0).reasons);
        let young = at(3, 0);
        assert_eq!(young.verdict, Verdict::Hold, "{:?}", young.reasons);
        assert!(
            young.reasons[0].contains("began 3 of 4 steps ago: PROCEED waits for one window"),
            "{:?}",
            young.reasons
        );
    }

    #[test]
    fn a_newest_point_beyond_the_bound_holds_a_proceed() {
        let policy = Policy::default();
        let mut canary = healthy(40);
        *canary.last_mut().unwrap() = 420.0;
        let j = judge_service(&service(25.0, reading(canary, healthy(40), 12)), &policy);
        assert_eq!(j.verdict, Verdict::Hold, "{:?}", j.reasons);
        // In the metric's unit, as every reason of the judge.
        assert!(
            j.reasons[0].contains("the newest point 420 ms is beyond max 300 ms"),
            "{:?}",
            j.reasons
        );
    }

    #[test]
    fn a_counted_ratios_latest_window_holds_a_proceed_only_with_a_hint_over_the_bound() {
        let policy = Policy::default();
        // 0.35 % on both sides at 100 requests a step over 800 steps (a service at 70 % of its
        // bound), then the last window's four steps.
        let with_last = |errors: f64| {
            let mut counts = vec![step(100.0, 0.35, 0.35); 800];
            for s in &mut counts[796..] {
                s.canary_events = errors;
            }
            let ratio: Vec<f64> = counts
                .iter()
                .map(|s| s.canary_events / s.canary_requests)
                .collect();
            let m = MetricReading {
                name: "error_rate".into(),
                max: Some(0.005),
                counts,
                in_rollout: Some(800),
                ..reading(ratio, vec![0.0035; 800], 800)
            };
            judge_service(&service(25.0, m), &policy)
        };
        // One error more in the last minute (0.6 % there, over the bound as a point): noise.
        let j = with_last(0.6);
        assert_eq!(j.verdict, Verdict::Proceed, "{:?}", j.reasons);
        // Ten times the errors in the last minute: the counts point over the bound. HOLD.
        let j = with_last(3.5);
        assert_eq!(j.verdict, Verdict::Hold, "{:?}", j.reasons);
        assert!(
            j.reasons
                .iter()
                .any(|r| r.contains("(3.50 %) point beyond max 0.50 %")),
            "{:?}",
            j.reasons
        );
    }

    /// Counts of one step: `n` requests a side, `c` and `b` errors.
    fn step(n: f64, c: f64, b: f64) -> CountStep {
        CountStep {
            canary_requests: n,
            canary_events: c,
            baseline_requests: n,
            baseline_events: b,
        }
    }

    /// `calm` steps of `n` requests a side with `b` errors each, then `bad` steps where the
    /// canary has `c`.
    fn calm_then(n: f64, b: f64, calm: usize, bad: usize, c: f64) -> Vec<CountStep> {
        let calm = std::iter::repeat_n(step(n, b, b), calm);
        calm.chain(std::iter::repeat_n(step(n, c, b), bad))
            .collect()
    }

    fn counted(mut counts: Vec<CountStep>, stable_tail: f64, in_slice: usize) -> ServiceRollout {
        let n = counts.len();
        // The stable's last window before the last slice, in its counts too.
        for s in &mut counts[(n - in_slice).saturating_sub(4)..n - in_slice] {
            s.baseline_events = stable_tail * s.baseline_requests;
        }
        let m = MetricReading {
            name: "error_rate".into(),
            max: Some(0.005),
            in_slice: Some((in_slice, 40)),
            canary_samples: counts
                .iter()
                .map(|s| s.canary_events / s.canary_requests)
                .collect(),
            // The history: calm, then the stable's last minutes at `stable_tail`.
            baseline_samples: (0..40)
                .map(|i| if i >= 32 { stable_tail } else { 0.001 })
                .collect(),
            counts,
            in_rollout: Some(n),
            overlap: 1.0,
            window_steps: 4,
            weight: 1.0,
            failure_limit: 1,
            tolerance: 0.1,
            ..MetricReading::default()
        };
        ServiceRollout {
            baseline_history: Some((
                time::OffsetDateTime::UNIX_EPOCH,
                time::OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1),
            )),
            ..service(100.0, m)
        }
    }

    #[test]
    fn at_100_percent_a_problem_the_stable_had_when_it_lost_traffic_is_shared() {
        let policy = Policy::default();
        // Earlier slices clean beside the stable; at 100 % (the last 20 steps) 1 % errors against
        // a 0.1 % history.
        let steps = calm_then(2000.0, 2.0, 20, 20, 20.0);
        let calm = judge_service(&counted(steps.clone(), 0.001, 20), &policy);
        assert_eq!(calm.verdict, Verdict::Rollback, "{:?}", calm.reasons);
        let shared = judge_service(&counted(steps, 0.011, 20), &policy);
        assert_ne!(shared.verdict, Verdict::Rollback, "{:?}", shared.reasons);
        assert!(
            shared.reasons.iter().any(|r| r.contains("shared problem")),
            "{:?}",
            shared.reasons
        );
    }

    #[test]
    fn at_100_percent_a_regression_every_window_points_to_is_rollback_before_the_proofs_last() {
        let policy = Policy::default();
        // Clean beside the stable, then four windows at full traffic, each with 3× the
        // history's errors: pointed to by each window alone.
        let steps = calm_then(1400.0, 1.4, 20, 16, 4.2);
        let j = judge_service(&counted(steps, 0.001, 16), &policy);
        assert_eq!(j.verdict, Verdict::Rollback, "{:?}", j.reasons);
        // The same excess in the last three windows only, after a calm one (a shared spike of
        // two minutes and its `[1m]` smear fill three): not yet.
        let calm = calm_then(1400.0, 1.4, 24, 12, 4.2);
        let j = judge_service(&counted(calm, 0.001, 16), &policy);
        assert_ne!(j.verdict, Verdict::Rollback, "{:?}", j.reasons);
    }

    #[test]
    fn at_100_percent_an_excess_within_the_noise_does_not_hold_the_promotion() {
        let policy = Policy::default();
        // 1.3× the history's rate in the last slice, 1.15× since the rollout began: on 43
        // errors that is Poisson noise (PROCEED, saying so); on forty times the traffic it is
        // not (HOLD: proven against the history, but at 100 % a finding waits for the slices
        // before to point to it or for four windows each to show it).
        let steps = |n: f64| calm_then(n, n / 1000.0, 20, 20, n * 1.3 / 1000.0);
        let few = judge_service(&counted(steps(500.0), 0.001, 20), &policy);
        assert_eq!(few.verdict, Verdict::Proceed, "{:?}", few.reasons);
        assert!(
            few.metrics[0].reason.contains("within the noise"),
            "{}",
            few.metrics[0].reason
        );
        let many = judge_service(&counted(steps(20_000.0), 0.001, 20), &policy);
        assert_eq!(many.verdict, Verdict::Hold, "{:?}", many.reasons);
        assert!(
            many.metrics[0]
                .reason
                .contains("proven against the history (evidence 401.6, needed 40), but at 100 %"),
            "{}",
            many.metrics[0].reason
        );
    }

    #[test]
    fn at_100_percent_a_passing_canary_holds_baking_until_the_bake_time_has_passed() {
        let policy = Policy::default();
        let t = time::OffsetDateTime::UNIX_EPOCH;
        let at = |held_secs: i64, bake_secs: u64, m: MetricReading| {
            let mut r = service(100.0, m);
            r.baseline_history = Some((t, t + time::Duration::minutes(20)));
            r.slice_since = Some(t + time::Duration::minutes(20));
            r.read_at = Some(t + time::Duration::minutes(20) + time::Duration::seconds(held_secs));
            r.bake_secs = bake_secs;
            judge_service(&r, &policy)
        };
        let passing = || reading(healthy(40), healthy(40), 20);
        // Two minutes into a five-minute bake, every metric passing: HOLD, saying why and when.
        let early = at(120, 300, passing());
        assert_eq!(early.verdict, Verdict::Hold, "{:?}", early.reasons);
        assert!(early.baking && !early.complete);
        assert!(
            early.reasons[0].starts_with("baking at 100 %: 2m of 5m, every metric passing so far"),
            "{:?}",
            early.reasons
        );
        assert!(early.summary.starts_with("HOLD"), "{}", early.summary);
        // The bake's time up: PROCEED, the promotion complete.
        let done = at(300, 300, passing());
        assert_eq!(done.verdict, Verdict::Proceed, "{:?}", done.reasons);
        assert!(done.complete && !done.baking);
        assert!(
            done.reasons[0].starts_with("promotion complete: 100 % for 5m"),
            "{:?}",
            done.reasons
        );
        // No bake configured: PROCEED at once, nothing said of baking.
        let none = at(120, 0, passing());
        assert_eq!(none.verdict, Verdict::Proceed, "{:?}", none.reasons);
        assert!(!none.reasons.iter().any(|r| r.contains("baking")));
        // When it reached 100 % not known: no bake can be vouched for, HOLD baking.
        let mut unknown = service(100.0, passing());
        unknown.baseline_history = Some((t, t + time::Duration::minutes(20)));
        unknown.read_at = Some(t + time::Duration::minutes(40));
        unknown.bake_secs = 300;
        let untimed = judge_service(&unknown, &policy);
        assert_eq!(untimed.verdict, Verdict::Hold, "{:?}", untimed.reasons);
        assert!(untimed.baking && !untimed.complete);
        assert!(
            untimed.reasons[0].contains("the 5m bake cannot be vouched for"),
            "{:?}",
            untimed.reasons
        );
        // A ROLLBACK during the bake stays one.
        let mut bad: Vec<f64> = healthy(20);
        bad.extend(vec![900.0; 20]);
        let broken = at(120, 300, reading(bad, healthy(40), 20));
        assert_eq!(broken.verdict, Verdict::Rollback, "{:?}", broken.reasons);
        assert!(!broken.baking && !broken.reasons.iter().any(|r| r.contains("baking")));
    }

    #[test]
    fn at_100_percent_against_history_a_spike_must_last_before_it_is_rollback() {
        let policy = Policy::default();
        // A 5-step spike at the end of the 100 % slice: not yet in each of the last three windows.
        let mut steps = calm_then(2000.0, 2.0, 35, 5, 40.0);
        let spike = judge_service(&counted(steps.clone(), 0.001, 20), &policy);
        assert_ne!(spike.verdict, Verdict::Rollback, "{:?}", spike.reasons);
        // The same errors for 17 steps (over three windows): ROLLBACK.
        steps.extend(calm_then(2000.0, 2.0, 0, 12, 40.0));
        let lasting = judge_service(&counted(steps, 0.001, 32), &policy);
        assert_eq!(lasting.verdict, Verdict::Rollback, "{:?}", lasting.reasons);
    }

    /// A p99 at 200 ms for 34 steps, then at 420 ms (max 300 ms) for its last eight: six at the
    /// end of the slice before and `in_slice` of the new one, whose windows Prometheus gives.
    fn across_the_change(weight: f64, tail: &[f64], baseline: Vec<f64>) -> Judgement {
        let mut canary = healthy(34);
        canary.extend_from_slice(tail);
        let mut m = reading(canary, baseline, 2);
        m.windows = vec![tail[tail.len() - 1]];
        m.in_rollout = Some(m.canary_samples.len());
        let mut r = service(weight, m);
        if weight >= 100.0 {
            let t = time::OffsetDateTime::UNIX_EPOCH;
            r.baseline_history = Some((t, t + time::Duration::minutes(20)));
        }
        judge_service(&r, &Policy::default())
    }

    /// A counted ratio's outcome beside a problem both tracks met (shared) and beside a calm
    /// stable (the canary's), `what` naming the case.
    fn shared_then_the_canarys(
        (shared, j): (MetricOutcome, Judgement),
        (alone, k): (MetricOutcome, Judgement),
        what: f64,
    ) {
        assert_eq!(
            shared,
            MetricOutcome::SharedBreach,
            "{what}: {:?}",
            j.reasons
        );
        assert!(
            matches!(alone, MetricOutcome::Breach | MetricOutcome::Worse),
            "{what}: {alone:?} {:?}",
            k.reasons
        );
    }

    #[test]
    fn at_100_percent_a_rise_both_tracks_met_just_before_the_promotion_is_not_the_canarys() {
        // 16 points at 100 % at 380 ms (max 300 ms) against a history at 200 ms; in the step
        // before the change the canary's p99 rose to 300 ms, and the stable's newest point with it
        // (a shared incident that began seconds before the promotion: one point of it already
        // lifts a p99). Compared with the stable's last minutes, not its calm history: no
        // ROLLBACK. Without the stable's rise the same canary is ROLLBACK.
        let judged = |stable_newest: f64| at_full(risen_latency(stable_newest), None);
        let shared = judged(280.0);
        assert_ne!(shared.verdict, Verdict::Rollback, "{:?}", shared.reasons);
        gives(
            &shared,
            "p99_ms: the stable version rose with the canary in its last minute before it lost its traffic (280 ms against 202 ms before, ×1.39)",
        );
        let alone = judged(203.0);
        assert_eq!(alone.verdict, Verdict::Rollback, "{:?}", alone.reasons);
        assert!(
            alone
                .reasons
                .iter()
                .all(|r| !r.contains("rose with the canary"))
        );
        // The service's error ratio, counted, at 100 % against a 0.1 % history: 0.3 % with the
        // stable's last window at 0.15 % (a problem's first seconds in a minute's `rate()`, no
        // hint of it on 12 errors), and 1 % with that window calm (proven worse than it). Beside
        // a p99 the stable rose with, a problem both tracks met, not the canary's (the slices
        // before, beside the live stable, did not point to it); alone, the canary's.
        for (errors_at_100, stable_tail) in [(6.0, 0.0015), (20.0, 0.001)] {
            let judged = |stable_newest: f64| {
                let steps = calm_then(2000.0, 2.0, 20, 20, errors_at_100);
                let mut r = counted(steps, stable_tail, 20);
                r.metrics.push(risen_latency(stable_newest));
                let j = judge_service(&r, &Policy::default());
                (j.metrics[0].outcome, j)
            };
            shared_then_the_canarys(judged(280.0), judged(203.0), errors_at_100);
        }
    }

    #[test]
    fn at_100_percent_a_problem_both_tracks_had_through_the_slice_before_is_the_services() {
        // A shared incident on through the 50 % slice: both tracks' p99 at 330 ms for the last
        // two windows before the change (the history at 202 ms), so neither rose *at* the change;
        // at 100 % the canary at 380 ms (max 300 ms).
        let latency = |stable_tail: f64| {
            let mut canary = healthy(30);
            canary.extend([330.0; 10]);
            canary.extend([380.0; 16]);
            let mut stable = healthy(52);
            stable.extend([stable_tail; 8]);
            let mut m = reading(canary, stable, 16);
            m.windows = vec![380.0; 4];
            m.in_rollout = Some(m.canary_samples.len());
            m
        };
        let shared = latency(330.0);
        assert_eq!(
            rose_with_canary(&shared),
            Some(Rise {
                stable: 330.0,
                median: 202.0,
                windows: true
            })
        );
        // The stable calm: the canary's alone.
        assert_eq!(rose_with_canary(&latency(203.0)), None);
        // The service's error ratio at 100 %, 1 % against a 0.1 % history, the stable's last
        // window calm in its counts (a few errors do not show an incident): beside a p99 both
        // tracks had above the service's past, a problem both met; beside a calm stable's, the
        // canary's.
        let judged = |stable_tail: f64| {
            let mut r = counted(calm_then(2000.0, 2.0, 20, 20, 20.0), 0.001, 20);
            r.metrics.push(latency(stable_tail));
            let j = judge_service(&r, &Policy::default());
            (j.metrics[0].outcome, j)
        };
        let (shared, alone) = (judged(330.0), judged(203.0));
        assert_ne!(
            shared.1.verdict,
            Verdict::Rollback,
            "{:?}",
            shared.1.reasons
        );
        gives(
            &shared.1,
            "p99_ms: the stable version was above its past with the canary in its last two windows before it lost its traffic (330 ms against 202 ms before, ×1.63)",
        );
        assert_eq!(alone.1.verdict, Verdict::Rollback, "{:?}", alone.1.reasons);
        shared_then_the_canarys(shared, alone, 20.0);
    }

    #[test]
    fn a_p99_of_too_few_requests_a_window_is_no_evidence() {
        // At 100 %, 16 points at 330 ms (max 300 ms) against a history at 200 ms: ROLLBACK, on
        // a service busy enough for a p99. At 1.6 requests a second a minute's window holds 96
        // requests, under the 200 a p99 needs (two beyond it): no evidence, HOLD, and why.
        let judged = |traffic: f64, quantile: Option<f64>| {
            let mut canary = healthy(25);
            canary.extend([330.0; 16]);
            let mut m = reading(canary, healthy(60), 16);
            m.windows = vec![330.0; 4];
            m.in_rollout = Some(m.canary_samples.len());
            m.window_secs = 60;
            m.quantile = quantile;
            at_full(m, Some(traffic))
        };
        let busy = judged(20.0, Some(0.99));
        assert_eq!(busy.verdict, Verdict::Rollback, "{:?}", busy.reasons);
        let thin = judged(1.6, Some(0.99));
        assert_eq!(thin.verdict, Verdict::Hold, "{:?}", thin.reasons);
        gives(
            &thin,
            "p99_ms: too few requests for a p99: about 96 a 60-second window at full traffic, where a p99 needs 200 (two beyond it)",
        );
        // Not a quantile (a mean, say): judged as it is.
        assert_eq!(judged(1.6, None).verdict, Verdict::Rollback);
        // A median needs 4 a window: 96 is plenty.
        assert_eq!(judged(1.6, Some(0.5)).verdict, Verdict::Rollback);
    }

    #[test]
    fn a_rise_both_tracks_met_is_found_at_every_poll_of_the_bake_as_the_lookback_slides() {
        // The lookback holds 41 points. Before the change: an earlier slice at 215 ms, then the
        // last 12 points at 200 ms, 250 ms beside the change (×1.25, and in the slice's first
        // point), then 380 ms; the stable's newest point rose too. As the stage goes on, the earlier slice's points leave the lookback: the
        // canary's median before the change must not move with them.
        for c in 1..=27 {
            let mut canary = vec![215.0; 41 - 13 - c];
            canary.extend([200.0; 12]);
            canary.extend([250.0; 2]);
            canary.extend(vec![380.0; c - 1]);
            let mut m = reading(canary, healthy(59), c);
            m.baseline_samples.push(280.0);
            m.in_rollout = Some(m.canary_samples.len());
            assert_eq!(
                rose_with_canary(&m),
                Some(Rise {
                    stable: 280.0,
                    median: 202.0,
                    windows: false
                }),
                "{c} points at 100 %"
            );
            gives(
                &at_full(m, None),
                "p99_ms: the stable version rose with the canary in its last minute",
            );
        }
    }

    /// A p99 at 200 ms through the slices before 100 %, 300 ms in the step before the change
    /// and 380 ms (max 300 ms) for the 16 steps at 100 %; the stable's history at 200 ms but for
    /// its newest point.
    fn risen_latency(stable_newest: f64) -> MetricReading {
        let mut canary = healthy(39);
        canary.push(300.0);
        canary.extend([380.0; 16]);
        let mut m = reading(canary, healthy(59), 16);
        m.baseline_samples.push(stable_newest);
        m.windows = vec![380.0; 4];
        m.in_rollout = Some(m.canary_samples.len());
        m
    }

    #[test]
    fn a_breach_that_runs_across_a_slice_change_stays_rollback_while_the_new_slice_fills() {
        // Six points of the slice before and two of this one, all over the bound, the baseline
        // at 200 ms: the breach goes on, at 50 % and at 100 % (against the stable's history).
        for weight in [50.0, 100.0] {
            let j = across_the_change(weight, &[420.0; 8], healthy(60));
            assert_eq!(j.verdict, Verdict::Rollback, "{weight}: {:?}", j.reasons);
            assert!(
                j.reasons[0].starts_with(
                    "across the change to this slice (2 of its points and the 6 before them): p99_ms 420 ms > max 300 ms in 2 of the last 2 windows"
                ),
                "{weight}: {:?}",
                j.reasons
            );
        }
        // One point back under the bound among them (a spike, or two, not a breach that goes
        // on): the young slice waits, as before.
        let mut tail = [420.0; 8];
        tail[3] = 210.0;
        let j = across_the_change(50.0, &tail, healthy(60));
        assert_eq!(j.verdict, Verdict::Hold, "{:?}", j.reasons);
        assert!(
            j.reasons
                .iter()
                .all(|r| !r.starts_with("across the change")),
            "{:?}",
            j.reasons
        );
        // The baseline over the bound in a window beside them: perhaps a shared problem, nothing
        // carried.
        let mut baseline = healthy(56);
        baseline.extend([330.0; 4]);
        let j = across_the_change(50.0, &[420.0; 8], baseline);
        assert_ne!(j.verdict, Verdict::Rollback, "{:?}", j.reasons);
    }
}
