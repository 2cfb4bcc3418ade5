//! The glue between a service as read from Prometheus and the canary judge.

use super::canary::{Direction, Judgement, MetricSamples, MetricSpec, Policy, judge};
use crate::domain::ServiceRollout;

/// Judge one service from its readings under the configured policy (whose traffic floor is the
/// service's own). Metrics with a query error count as having no data.
pub fn judge_service(r: &ServiceRollout, policy: &Policy) -> Judgement {
    let metrics: Vec<(MetricSpec, MetricSamples)> = r
        .metrics
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
            spec.max = m.max;
            spec.min = m.min;
            if m.critical {
                spec = spec.critical();
            }
            let tail = |v: &[f64], n: Option<usize>| -> Vec<f64> {
                let n = n.unwrap_or(v.len()).min(v.len());
                v[v.len() - n..].to_vec()
            };
            let samples = if m.error.is_some() {
                MetricSamples::default()
            } else {
                // Counts carry across the rollout's slices; the slice's own tail is looked at
                // too (the late-onset guard).
                let counts = {
                    let n = m.in_rollout.unwrap_or(m.counts.len()).min(m.counts.len());
                    m.counts[m.counts.len() - n..].to_vec()
                };
                MetricSamples {
                    slice_steps: m.in_slice.map(|(c, _)| c.min(counts.len())),
                    window_steps: m.window_steps,
                    counts,
                    ..MetricSamples::new(
                        tail(&m.canary_samples, m.in_slice.map(|(c, _)| c)),
                        tail(&m.baseline_samples, m.in_slice.map(|(_, b)| b)),
                        m.windows.clone(),
                    )
                }
            };
            (spec, samples)
        })
        .collect();
    let policy = Policy {
        min_traffic: r.min_traffic,
        ..*policy
    };
    let mut j = judge(&metrics, &policy, r.traffic);
    stage(r, &mut j);
    j
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
