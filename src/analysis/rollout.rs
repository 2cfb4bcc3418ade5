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
    judge(&metrics, &policy, r.traffic)
}
