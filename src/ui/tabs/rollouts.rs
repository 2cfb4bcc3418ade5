//! The Rollouts tab: each service's slice, weight, verdict and promotion score with its metrics;
//! the detail shows the verdict's reasons, every metric against its bound and the baseline with
//! sparklines, the held deployment and the autopilot's decisions.

use super::{Col, TabView};
use crate::analysis::canary::{Band, MetricOutcome, Verdict};
use crate::app::State;
use crate::domain::ServiceRollout;
use crate::fmt::fmt_age;
use crate::ui::text::{kv, section};
use crate::ui::theme::Theme;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use time::OffsetDateTime;

pub struct Rollouts;

impl TabView for Rollouts {
    fn columns(&self) -> &'static [Col] {
        // Service, Env, Slices, Weight, In slice, Verdict, Score, Metrics.
        const C: &[Col] = &[
            Col::new(Length(12), 9).highlighted(),
            Col::new(Length(13), 7).highlighted(),
            Col::new(Length(16), 4),
            Col::new(Length(6), 6),
            Col::new(Length(8), 2),
            Col::new(Length(9), 9),
            Col::new(Length(13), 5),
            Col::new(Fill(1), 3),
        ];
        C
    }

    fn group_column(&self) -> usize {
        1
    }

    fn cells(&self, state: &State, t: &Theme, item: usize) -> Vec<(String, Style)> {
        state
            .rollouts
            .items
            .get(item)
            .map(|r| cells_rollout(state, t, r))
            .unwrap_or_default()
    }

    fn detail(&self, state: &State, t: &Theme, width: u16) -> Option<Vec<Line<'static>>> {
        state
            .rollouts
            .selected()
            .map(|r| rollout_detail(state, t, r, width))
    }
}

/// "10›25›[50]›100": the slice plan with the current weight marked.
pub fn slice_strip(r: &ServiceRollout) -> String {
    let current = r.weight.map(|w| w.round() as i64);
    let mut parts = Vec::new();
    // No canary traffic: not started yet, or rolled back.
    if current == Some(0) {
        parts.push("[0]".to_string());
    }
    for &s in &r.slices {
        if current == Some(s as i64) {
            parts.push(format!("[{s}]"));
        } else {
            parts.push(s.to_string());
        }
    }
    parts.join("›")
}

fn fmt_metric(name: &str, v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v.is_nan() => "NaN".into(),
        Some(v) if name.contains("rate") || name.contains("ratio") => format!("{:.2}%", v * 100.0),
        Some(v) => {
            if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        }
    }
}

/// The baseline value to show beside the canary's: the live baseline's latest, or at 100 % — the
/// stable track serving nothing, its latest value NaN or absent — the median of the stable's own
/// samples before it lost its traffic (its history, the baseline the judge uses then), marked as
/// such (`true`).
fn shown_baseline(r: &ServiceRollout, m: &crate::domain::MetricReading) -> (Option<f64>, bool) {
    let live = m.baseline.filter(|v| v.is_finite());
    if live.is_some() || r.baseline_history.is_none() {
        return (m.baseline, false);
    }
    match crate::analysis::rollout::finite_median(&m.baseline_samples) {
        Some(median) => (Some(median), true),
        None => (m.baseline, false),
    }
}

fn verdict_style(t: &Theme, v: Verdict) -> Style {
    match v {
        Verdict::Proceed => t.ok(),
        Verdict::Hold => t.warn(),
        Verdict::Rollback => t.danger(),
    }
}

fn band_style(t: &Theme, b: Band) -> Style {
    match b {
        Band::Promote => t.ok(),
        Band::Review => t.warn(),
        Band::Block => t.danger(),
    }
}

fn cells_rollout(state: &State, t: &Theme, r: &ServiceRollout) -> Vec<(String, Style)> {
    let j = state.judgement(&r.name);
    let metrics: Vec<String> = r
        .metrics
        .iter()
        .map(|m| {
            let glyph = j
                .and_then(|j| j.metrics.iter().find(|x| x.name == m.name))
                .map(|x| outcome_glyph(x.outcome))
                .unwrap_or(match m.breached() {
                    Some(true) => "✗",
                    Some(false) => "✓",
                    None => "?",
                });
            let bound = match (m.max, m.min) {
                (Some(max), _) => format!("≤{}", fmt_metric(&m.name, Some(max))),
                (None, Some(min)) => format!("≥{}", fmt_metric(&m.name, Some(min))),
                _ => String::new(),
            };
            let (baseline, past) = shown_baseline(r, m);
            format!(
                "{glyph} {} {}/{}{} {bound}",
                m.name,
                fmt_metric(&m.name, m.canary),
                if past { "past " } else { "" },
                fmt_metric(&m.name, baseline)
            )
        })
        .collect();
    let held = state.held_run(r).is_some();
    let env_style = if r.production {
        t.production()
    } else {
        Style::default()
    };
    let (verdict, score) = match j {
        Some(j) => (
            // A ROLLBACK the judge called earlier in this rollout stays marked (⚑) once the
            // verdict moves on.
            if j.verdict != Verdict::Rollback && state.rollbacks_called.contains_key(&r.name) {
                (format!("{} ⚑", j.verdict.label()), t.danger())
            } else {
                (j.verdict.label().to_string(), verdict_style(t, j.verdict))
            },
            (
                format!("{:.2} {}", j.score, j.band.label()),
                band_style(t, j.band),
            ),
        ),
        None => (("…".into(), t.muted()), ("…".into(), t.muted())),
    };
    let in_slice = r
        .slice_since
        .map(|s| fmt_age((state.now - s).whole_seconds()))
        .unwrap_or_else(|| "—".into());
    vec![
        (r.name.clone(), t.accent()),
        (
            format!("{}{}", r.environment, if held { " ⏸" } else { "" }),
            env_style,
        ),
        (slice_strip(r), Style::default()),
        (
            r.weight
                .map(|w| format!("{w:.0}%"))
                .unwrap_or_else(|| "—".into()),
            Style::default(),
        ),
        (in_slice, t.muted()),
        verdict,
        score,
        (metrics.join("  "), Style::default()),
    ]
}

fn outcome_glyph(o: MetricOutcome) -> &'static str {
    match o {
        MetricOutcome::Pass => "✓",
        MetricOutcome::NoData => "?",
        MetricOutcome::SharedBreach | MetricOutcome::Borderline => "~",
        MetricOutcome::Worse | MetricOutcome::Breach => "✗",
    }
}

/// A sparkline of `values` on the scale `[lo, hi]` (NaN as a gap), at most `width` cells (the newest).
pub fn spark(values: &[f64], lo: f64, hi: f64, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let start = values.len().saturating_sub(width);
    values[start..]
        .iter()
        .map(|v| {
            if !v.is_finite() {
                ' '
            } else if hi - lo <= f64::EPSILON {
                BARS[0]
            } else {
                let i = ((v - lo) / (hi - lo) * 7.0).round().clamp(0.0, 7.0) as usize;
                BARS[i]
            }
        })
        .collect()
}

fn rollout_detail(state: &State, t: &Theme, r: &ServiceRollout, width: u16) -> Vec<Line<'static>> {
    let now = state.now;
    let mut l = vec![Line::from(Span::styled(
        format!("{} in {}", r.name, r.environment),
        if r.production {
            t.production()
        } else {
            t.header()
        },
    ))];
    l.push(kv(t, "slices", slice_strip(r)));
    l.push(kv(
        t,
        "weight",
        r.weight
            .map(|w| format!("{w:.1} %"))
            .unwrap_or_else(|| "no data".into()),
    ));
    if let Some(e) = &r.weight_error {
        l.push(Line::from(Span::styled(
            format!("weight query: {e}"),
            t.danger(),
        )));
    }
    l.push(kv(
        t,
        "in slice",
        r.slice_since
            .map(|s| {
                format!(
                    "{} (within the lookback window)",
                    fmt_age((now - s).whole_seconds())
                )
            })
            .unwrap_or_else(|| "—".into()),
    ));
    if let Some(tr) = r.traffic {
        l.push(kv(t, "traffic", format!("{tr:.1} req/s")));
    }
    match state.held_run(r) {
        Some(run) => l.push(Line::from(vec![
            Span::styled(format!("{:<12}", "approval"), t.muted()),
            Span::styled(
                format!(
                    "{} #{} waits for {} — a approves, x rejects",
                    run.workflow, run.run_number, r.environment
                ),
                t.warn(),
            ),
        ])),
        None => l.push(kv(t, "approval", "nothing waits".into())),
    }
    let auto = state.autopilot || r.autopilot;
    l.push(kv(
        t,
        "autopilot",
        if auto && !state.read_only {
            "on: approves on PROCEED (promote band), rolls back on ROLLBACK".into()
        } else if auto {
            "off in read-only".into()
        } else {
            "off".into()
        },
    ));
    for w in &r.warnings {
        l.push(Line::from(Span::styled(
            format!("Prometheus warning: {w}"),
            t.warn(),
        )));
    }
    l.push(Line::raw(""));
    let j = state.judgement(&r.name);
    if let Some(j) = j {
        l.push(Line::from(vec![
            Span::styled(
                format!(" {} ", j.verdict.label()),
                verdict_style(t, j.verdict).add_modifier(ratatui::style::Modifier::REVERSED),
            ),
            Span::raw("  "),
            Span::styled(
                format!(
                    "promotion confidence {:.2} — {} (promote ≥ {:.2}, review ≥ {:.2})",
                    j.score,
                    j.band.label(),
                    j.policy.promote_at,
                    j.policy.review_at
                ),
                band_style(t, j.band),
            ),
        ]));
        if let Some(c) = state
            .rollbacks_called
            .get(&r.name)
            .filter(|_| j.verdict != Verdict::Rollback)
        {
            l.push(Line::from(Span::styled(
                format!(
                    " ⚑ ROLLBACK called at {} ({} ago) in this rollout: {}",
                    c.when(),
                    fmt_age((now - c.at).whole_seconds()),
                    c.summary
                ),
                t.danger(),
            )));
        }
        for reason in &j.reasons {
            l.push(Line::from(vec![
                Span::styled(" • ", t.muted()),
                Span::raw(reason.clone()),
            ]));
        }
        l.push(Line::raw(""));
    }
    let spark_w = (width as usize).saturating_sub(16).clamp(8, 60);
    for m in &r.metrics {
        let mj = j.and_then(|j| j.metrics.iter().find(|x| x.name == m.name));
        let style = match mj.map(|x| x.outcome) {
            Some(MetricOutcome::Pass) => t.ok(),
            Some(MetricOutcome::Worse | MetricOutcome::Breach) => t.danger(),
            Some(_) => t.warn(),
            None => t.muted(),
        };
        let glyph = mj.map(|x| outcome_glyph(x.outcome)).unwrap_or("?");
        l.push(Line::from(vec![
            Span::styled(
                format!("{glyph} {}", m.name),
                style.add_modifier(ratatui::style::Modifier::BOLD),
            ),
            Span::styled(
                mj.map(|x| format!("  {}", x.outcome.label()))
                    .unwrap_or_default(),
                style,
            ),
        ]));
        let bound = match (m.min, m.max) {
            (Some(lo), Some(hi)) => format!(
                "between {} and {}",
                fmt_metric(&m.name, Some(lo)),
                fmt_metric(&m.name, Some(hi))
            ),
            (None, Some(hi)) => format!("max {}", fmt_metric(&m.name, Some(hi))),
            (Some(lo), None) => format!("min {}", fmt_metric(&m.name, Some(lo))),
            (None, None) => "no bound".into(),
        };
        l.push(kv(t, "  values", {
            let (baseline, past) = shown_baseline(r, m);
            format!(
                "canary {} · {} {} · {bound}",
                fmt_metric(&m.name, m.canary),
                if past {
                    "baseline (the stable's past, median)"
                } else {
                    "baseline"
                },
                fmt_metric(&m.name, baseline)
            )
        }));
        let finite = m
            .canary_samples
            .iter()
            .chain(m.baseline_samples.iter())
            .copied()
            .filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if lo.is_finite() {
            l.push(Line::from(vec![
                Span::styled(format!("{:<12}", "  canary"), t.muted()),
                Span::styled(spark(&m.canary_samples, lo, hi, spark_w), style),
            ]));
            l.push(Line::from(vec![
                Span::styled(format!("{:<12}", "  baseline"), t.muted()),
                Span::styled(spark(&m.baseline_samples, lo, hi, spark_w), t.muted()),
            ]));
        }
        // The metric's reason, unless it is already among the verdict's reasons above.
        if let Some(x) = mj
            && !j.is_some_and(|j| j.reasons.contains(&x.reason))
        {
            l.push(Line::from(vec![
                Span::styled(format!("{:<12}", "  judge"), t.muted()),
                Span::raw(x.reason.clone()),
            ]));
        }
        if let Some(e) = &m.error {
            l.push(Line::from(Span::styled(
                format!("  error: {e}"),
                t.danger(),
            )));
        }
    }
    let log: Vec<&(OffsetDateTime, String)> = state
        .autopilot_log
        .iter()
        .filter(|(_, n)| n.contains(&format!(" {} ", r.name)))
        .collect();
    if !log.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Autopilot decisions"));
        for (at, n) in log.iter().rev().take(10) {
            l.push(Line::from(vec![
                Span::styled(
                    format!(" {} ago  ", fmt_age((now - *at).whole_seconds())),
                    t.muted(),
                ),
                Span::raw(n.clone()),
            ]));
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    #[allow(unused_imports)]
    use super::*;
    use crate::app::Tab;
    use crate::app::keymap::Keymap;
    use crate::ui::theme::Theme;

    crate::view_snapshots!(Tab::Rollouts);

    #[test]
    fn verdicts_use_the_themes_colours() {
        let s = loaded(Tab::Rollouts, 120, 30);
        let t = draw_with(&s, &loud_theme());
        let rollback = style_of(&t, "ROLLBACK").expect("checkout rolls back");
        assert_eq!(rollback.fg, Some(ratatui::style::Color::Rgb(255, 0, 255)));
        let proceed = style_of(&t, "PROCEED").expect("web proceeds");
        assert_eq!(proceed.fg, Some(ratatui::style::Color::Rgb(0, 255, 1)));
    }

    #[test]
    fn remapped_keys_show_in_the_hint_bar() {
        let mut s = loaded(Tab::Rollouts, 120, 30);
        s.keymap = Keymap::build([("rollback", vec!["ctrl-b"])]).unwrap();
        let hint = hint_bar(&draw_with(&s, &Theme::builtin("default").unwrap()));
        assert!(hint.contains("ctrl-b rollback"), "{hint}");
    }

    #[test]
    fn at_100_percent_the_baseline_shown_is_the_stables_past_not_nan() {
        let mut s = loaded(Tab::Rollouts, 200, 50);
        s.detail = true;
        let r = &mut s.rollouts.items[0];
        r.weight = Some(100.0);
        let now = OffsetDateTime::now_utc();
        r.baseline_history = Some((now - time::Duration::minutes(20), now));
        for m in &mut r.metrics {
            m.baseline = Some(f64::NAN);
            m.baseline_samples.extend([f64::NAN; 4]);
        }
        let m = &s.rollouts.items[0].metrics[0];
        let (shown, past) = shown_baseline(&s.rollouts.items[0], m);
        assert!(past && shown.is_some_and(f64::is_finite), "{shown:?}");
        let screen = draw(&s);
        assert!(!screen.contains("NaN"), "{screen}");
        assert!(screen.contains("/past "), "{screen}");
        assert!(
            screen.contains("baseline (the stable's past, median)"),
            "{screen}"
        );
        // Before 100 % (no history as the baseline) the live value shows as it is.
        let r = &mut s.rollouts.items[0];
        r.baseline_history = None;
        let (shown, past) = shown_baseline(r, &r.metrics[0]);
        assert!(!past && shown.is_some_and(f64::is_nan));
    }

    #[test]
    fn the_slice_strip_marks_the_weight() {
        let s = loaded(Tab::Rollouts, 120, 30);
        assert_eq!(slice_strip(&s.rollouts.items[0]), "10›25›[50]›100");
    }
}
