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
    // Since the rollout began (evidence carried across slices), and the current slice alone
    // (the late-onset guard) when it is shorter and holds enough samples: the worse verdict.
    let carried = judge(&metrics(r, Span::Rollout), &policy, r.traffic);
    let slice_is_shorter = r.metrics.iter().any(|m| match (m.in_slice, m.in_rollout) {
        (Some((s, _)), Some(ro)) => s < ro,
        (Some((s, _)), None) => s < m.canary_samples.len(),
        _ => false,
    });
    let mut j = if slice_is_shorter {
        let alone = judge(&metrics(r, Span::Slice), &policy, r.traffic);
        let enough = alone
            .metrics
            .iter()
            .all(|m| m.outcome != crate::analysis::canary::MetricOutcome::NoData);
        if enough && severity(alone.verdict) > severity(carried.verdict) {
            alone
        } else {
            carried
        }
    } else {
        carried
    };
    stage(r, &mut j);
    j
}

fn severity(v: crate::analysis::canary::Verdict) -> u8 {
    match v {
        crate::analysis::canary::Verdict::Proceed => 0,
        crate::analysis::canary::Verdict::Hold => 1,
        crate::analysis::canary::Verdict::Rollback => 2,
    }
}

/// Which samples of a continuous metric are compared.
#[derive(Clone, Copy, PartialEq)]
enum Span {
    /// Since the rollout began (or the whole lookback when it began before).
    Rollout,
    /// The current slice.
    Slice,
}

fn metrics(r: &ServiceRollout, span: Span) -> Vec<(MetricSpec, MetricSamples)> {
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
            let (canary_n, baseline_n) = match span {
                Span::Slice => (m.in_slice.map(|(c, _)| c), m.in_slice.map(|(_, b)| b)),
                // The baseline of the last slice is the history: all of it.
                Span::Rollout => (
                    m.in_rollout,
                    match (m.in_slice, r.baseline_history) {
                        (Some((_, b)), Some(_)) => Some(b),
                        _ => m.in_rollout,
                    },
                ),
            };
            let samples = if m.error.is_some() {
                MetricSamples::default()
            } else {
                // Counts carry across the rollout's slices, and look at the slice's own tail
                // too (the late-onset guard).
                MetricSamples {
                    slice_steps: m.in_slice.map(|(c, _)| c.min(m.counts.len())),
                    window_steps: m.window_steps,
                    counts: m.counts.clone(),
                    ..MetricSamples::new(
                        tail(&m.canary_samples, canary_n),
                        tail(&m.baseline_samples, baseline_n),
                        m.windows.clone(),
                    )
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
