//! The glue between a service as read from Prometheus and the canary judge.

use super::canary::{Direction, Judgement, MetricSamples, MetricSpec, Policy, judge};
use crate::domain::ServiceRollout;

/// Judge one service from its readings under the configured policy (whose traffic floor is the
/// service's own). Metrics with a query error count as having no data.
pub fn judge_service(r: &ServiceRollout, policy: &Policy) -> Judgement {
    let policy = Policy {
        min_traffic: r.min_traffic,
        ..*policy
    };
    let mut j = judge(&metrics(r), &policy, r.traffic);
    stage(r, &mut j);
    j
}

/// Each metric's samples since the rollout began (evidence carried across slices), with the
/// current slice's share marked so the judge compares it alone too (the late-onset guard).
fn metrics(r: &ServiceRollout) -> Vec<(MetricSpec, MetricSamples)> {
    r.metrics
        .iter()
        .map(|m| {
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
            let samples = if m.error.is_some() {
                MetricSamples::default()
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
                    window_steps: m.window_steps,
                    counts: m.counts.clone(),
                    slice,
                    ..MetricSamples::new(canary, baseline, m.windows.clone())
                }
            };
            (spec, samples)
        })
        .collect()
}

/// The last slice: the baseline is the service's history (say so), and PROCEED held for the
/// bake time completes the promotion.
fn stage(r: &ServiceRollout, j: &mut Judgement) {
    if !r.weight.is_some_and(|w| w >= 100.0) {
        return;
    }
    let fmt = |t: time::OffsetDateTime| format!("{:02}:{:02} UTC", t.hour(), t.minute());
    match r.baseline_history {
        Some((from, to)) => j.reasons.push(format!(
            "at 100 % the baseline is the service's own history before the rollout began ({} to {})",
            fmt(from),
            fmt(to)
        )),
        None => j.reasons.push(
            "at 100 % with no history before the rollout within reach: judged on the bounds alone"
                .into(),
        ),
    }
    if j.verdict != crate::analysis::canary::Verdict::Proceed || r.bake_secs == 0 {
        return;
    }
    let held = match (r.read_at, r.slice_since) {
        (Some(at), Some(since)) => (at - since).whole_seconds().max(0) as u64,
        _ => return,
    };
    let mins = |s: u64| crate::fmt::fmt_age(s as i64);
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
        j.reasons.insert(
            0,
            format!(
                "baking at 100 %: {} of {} before the promotion is complete",
                mins(held),
                mins(r.bake_secs)
            ),
        );
    }
}
