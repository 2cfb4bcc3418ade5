//! A sampled metric's reason in words, with every number the judge used, and the formatting of
//! values, ratios and p-values in them.

use super::*;

/// Three significant digits; scientific notation outside 0.001 ≤ |v| < 1,000,000.
pub(super) fn sig3(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{v:.2e}");
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 5) as usize;
    format!("{v:.decimals$}")
}

/// A ratio such as "16.6×" (no decimals from 100×).
pub(super) fn fmt_ratio(r: f64) -> String {
    if r.abs() >= 100.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

/// A p-value: "p < 0.001", "p = 0.004", "p = 0.03".
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else if p < 0.01 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2}")
    }
}

/// The bound crossed, e.g. "> max 0.50 %".
pub(super) fn bound_text(spec: &MetricSpec, over_max: bool) -> String {
    match (over_max, spec.max, spec.min) {
        (true, Some(max), _) => format!("> max {}", spec.fmt(max)),
        (_, _, Some(min)) => format!("< min {}", spec.fmt(min)),
        (_, Some(max), None) => format!("> max {}", spec.fmt(max)),
        (_, None, None) => String::new(),
    }
}

/// The configured bounds, e.g. "max 0.50 %" or "min 99.00 % / max 100.00 %".
pub(super) fn bounds_text(spec: &MetricSpec) -> String {
    match (spec.min, spec.max) {
        (Some(min), Some(max)) => format!("min {} / max {}", spec.fmt(min), spec.fmt(max)),
        (None, Some(max)) => format!("max {}", spec.fmt(max)),
        (Some(min), None) => format!("min {}", spec.fmt(min)),
        (None, None) => String::new(),
    }
}

pub(super) fn threshold_text(
    spec: &MetricSpec,
    m: &MetricJudgement,
    th: &Threshold,
) -> Option<String> {
    if spec.max.is_none() && spec.min.is_none() {
        return None;
    }
    let inconclusive = if m.inconclusive_windows > 0 {
        format!(", {} inconclusive", m.inconclusive_windows)
    } else {
        String::new()
    };
    let conclusive = m.windows - m.inconclusive_windows;
    Some(if conclusive == 0 {
        format!(
            "{}: no conclusive window to check {} ({} windows{inconclusive})",
            spec.name,
            bounds_text(spec),
            m.windows
        )
    } else if th.breaches > 0 {
        let worst = th.worst.map(|w| spec.fmt(w)).unwrap_or_default();
        let verdict = if th.failed {
            format!("failure limit {}", spec.failure_limit)
        } else {
            format!("within failure limit {}", spec.failure_limit)
        };
        format!(
            "{} {worst} {} in {} ({verdict}{inconclusive})",
            spec.name,
            bound_text(spec, th.over_max),
            if m.windows == 1 {
                "the last window".to_string()
            } else {
                format!("{} of the last {} windows", th.breaches, m.windows)
            },
        )
    } else {
        format!(
            "{} within {} in {}{}",
            spec.name,
            bounds_text(spec),
            if conclusive == 1 {
                "its one conclusive window".to_string()
            } else {
                format!("all {conclusive} conclusive windows")
            },
            if m.inconclusive_windows > 0 {
                format!(" ({} inconclusive)", m.inconclusive_windows)
            } else {
                String::new()
            }
        )
    })
}

pub(super) fn comparison_text(spec: &MetricSpec, m: &MetricJudgement) -> Option<String> {
    let (c, b) = (m.canary_median?, m.baseline_median?);
    let mut s = match m.ratio {
        Some(r) => format!(
            "canary {} = {} baseline {}",
            spec.fmt(c),
            fmt_ratio(r),
            spec.fmt(b)
        ),
        None => format!("canary {} vs baseline {}", spec.fmt(c), spec.fmt(b)),
    };
    if let (Some(shift), Some((lo, hi)), Some(allowed)) = (m.shift, m.ci, m.allowed_shift) {
        let beyond = matches!(m.result, MetricResult::High | MetricResult::Low);
        s.push_str(&format!(
            ", shift {} ({:.0} % CI {} to {}) {} tolerance ±{}",
            spec.unit.format_signed(shift),
            (1.0 - m.alpha) * 100.0,
            spec.unit.format_signed(lo),
            spec.unit.format_signed(hi),
            if beyond { "beyond" } else { "within" },
            spec.fmt(allowed)
        ));
    }
    if let Some(p) = m.p_value {
        s.push_str(&format!(", Mann-Whitney {}", format_p(p)));
        if let Some(e) = m.effect_size {
            s.push_str(&format!(
                " (n {}/{}, effect {e:+.2})",
                m.samples.0, m.samples.1
            ));
        }
        if p >= m.alpha {
            s.push_str(&format!(
                ": no significant difference at α = {}",
                sig3(m.alpha)
            ));
        }
    }
    Some(s)
}

pub(super) fn metric_reason(spec: &MetricSpec, m: &MetricJudgement, th: &Threshold) -> String {
    let threshold = threshold_text(spec, m, th);
    let comparison = comparison_text(spec, m);
    let join = |parts: &[Option<String>]| {
        parts
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    };
    match m.outcome {
        MetricOutcome::NoData if m.samples.0 < m.min_samples || m.samples.1 < m.min_samples => {
            let dropped = |d: usize| {
                if d > 0 {
                    format!(" ({d} NaN dropped)")
                } else {
                    String::new()
                }
            };
            let mut s = format!(
                "{}: no data: canary {} samples{}, baseline {}{}; need at least {} each",
                spec.name,
                m.samples.0,
                dropped(m.dropped_nan.0),
                m.samples.1,
                dropped(m.dropped_nan.1),
                m.min_samples
            );
            if let Some(t) = threshold.filter(|_| th.breaches > 0) {
                s.push_str("; ");
                s.push_str(&t);
            }
            s
        }
        MetricOutcome::NoData => join(&[threshold, comparison]),
        MetricOutcome::SharedBreach => {
            let base = m.baseline_median.map(|b| spec.fmt(b)).unwrap_or_default();
            join(&[
                threshold,
                Some(format!(
                    "baseline also breaches (median {base} {}): shared problem, not the canary's",
                    bound_text(spec, th.over_max)
                )),
                comparison,
            ])
        }
        MetricOutcome::Borderline => {
            let (c, b) = (
                m.canary_median.map(|v| spec.fmt(v)).unwrap_or_default(),
                m.baseline_median.map(|v| spec.fmt(v)).unwrap_or_default(),
            );
            join(&[
                threshold,
                Some(format!(
                    "but canary median {c} is no worse than baseline {b}, which is within the bound"
                )),
                comparison,
            ])
        }
        MetricOutcome::Breach => {
            let also = if m.baseline_breaches {
                Some("baseline breaches too, but the canary is significantly worse".to_string())
            } else {
                None
            };
            join(&[threshold, also, comparison])
        }
        MetricOutcome::Worse => join(&[
            Some(format!(
                "{} significantly {} than baseline",
                spec.name,
                if m.result == MetricResult::High {
                    "higher"
                } else {
                    "lower"
                }
            )),
            comparison,
            threshold,
        ]),
        MetricOutcome::Pass => {
            let better = if matches!(m.result, MetricResult::High | MetricResult::Low) {
                Some(format!("{} significantly better than baseline", spec.name))
            } else {
                None
            };
            match threshold {
                Some(t) => join(&[Some(t), better, comparison]),
                None => join(&[Some(format!("{} passes", spec.name)), better, comparison]),
            }
        }
    }
}
