//! The built-in analyzer's headlines for the AI tab: one deterministic line per subject that needs the
//! operator's attention, worst first. Later analyzers (an OpenAI-compatible endpoint) add detail on demand.

use super::canary::{Judgement, Verdict};
use std::collections::HashMap;

use crate::domain::{
    Incident, PullRequest, RunState, ServiceRollout, Summary, SummaryKind, WorkflowRun,
};

const ANALYZER: &str = "builtin";

/// At most this many headlines of each kind (runs, incidents), newest first.
const MAX_PER_KIND: usize = 100;

fn pct(v: f64) -> String {
    format!("{:.2} %", v * 100.0)
}

fn fmt_value(name: &str, v: f64) -> String {
    if name.contains("rate") || name.contains("ratio") {
        pct(v)
    } else {
        format!("{v:.1}")
    }
}

/// Headlines, ordered: rollouts breaching, failed runs, runs waiting for approval, incidents, PRs.
pub fn headlines(
    prs: &[std::sync::Arc<PullRequest>],
    runs: &[WorkflowRun],
    rollouts: &[ServiceRollout],
    judgements: &HashMap<String, Judgement>,
    incidents: &[Incident],
) -> Vec<Summary> {
    let mut out = Vec::new();
    for r in rollouts {
        // The judge's verdict, when there is one, is the headline.
        if let Some(j) = judgements.get(&r.name) {
            let weight = r
                .weight
                .map(|w| format!("{w:.0} %"))
                .unwrap_or_else(|| "unknown weight".into());
            let rank = match j.verdict {
                Verdict::Rollback => 0,
                Verdict::Hold => 2,
                Verdict::Proceed => 3,
            };
            out.push((
                rank,
                Summary {
                    kind: SummaryKind::Rollout,
                    subject: format!("{} ({})", r.name, r.environment),
                    headline: format!(
                        "Canary at {weight}: {} (score {:.2}) — {}",
                        j.verdict.label(),
                        j.score,
                        j.reasons.first().cloned().unwrap_or_default()
                    ),
                    analyzer: ANALYZER.into(),
                    url: String::new(),
                },
            ));
            continue;
        }
        let breaches: Vec<String> = r
            .metrics
            .iter()
            .filter(|m| m.breached() == Some(true))
            .map(|m| {
                let v = m.canary.unwrap_or(f64::NAN);
                let bound = match (m.max, m.min) {
                    (Some(max), _) if v > max => format!("> max {}", fmt_value(&m.name, max)),
                    (_, Some(min)) => format!("< min {}", fmt_value(&m.name, min)),
                    _ => String::new(),
                };
                let base = m
                    .baseline
                    .filter(|b| *b > 0.0 && !b.is_nan())
                    .map(|b| format!(", {:.1}× baseline", v / b))
                    .unwrap_or_default();
                format!("{} {} {bound}{base}", m.name, fmt_value(&m.name, v))
            })
            .collect();
        let weight = r
            .weight
            .map(|w| format!("{w:.0} %"))
            .unwrap_or_else(|| "unknown weight".into());
        let missing = r.metrics.iter().filter(|m| m.canary.is_none()).count();
        let headline = if !breaches.is_empty() {
            format!("Canary at {weight} breaches: {}", breaches.join("; "))
        } else if missing > 0 {
            format!(
                "Canary at {weight}: {} without data",
                crate::fmt::plural(missing, "metric")
            )
        } else {
            format!(
                "Canary at {weight}: all {} metrics within bounds",
                r.metrics.len()
            )
        };
        out.push((
            if breaches.is_empty() { 3 } else { 0 },
            Summary {
                kind: SummaryKind::Rollout,
                subject: format!("{} ({})", r.name, r.environment),
                headline,
                analyzer: ANALYZER.into(),
                url: String::new(),
            },
        ));
    }
    // The newest first; a list of thousands is no summary, so each kind is capped.
    let attention = runs
        .iter()
        .filter(|r| matches!(r.state, RunState::Failure | RunState::Waiting))
        .take(MAX_PER_KIND);
    for run in attention {
        let (rank, headline) = match run.state {
            RunState::Failure => (
                1,
                format!(
                    "{} failed on {} ({}, attempt {}) — open the run for the failing step",
                    run.workflow, run.branch, run.event, run.attempt
                ),
            ),
            RunState::Waiting => (
                1,
                format!(
                    "{} on {} waits for approval of a protected environment",
                    run.workflow, run.branch
                ),
            ),
            _ => continue,
        };
        out.push((
            rank,
            Summary {
                kind: SummaryKind::Run,
                subject: format!("{} #{}", run.repo, run.run_number),
                headline,
                analyzer: ANALYZER.into(),
                url: run.url.clone(),
            },
        ));
    }
    for i in incidents.iter().take(MAX_PER_KIND) {
        out.push((
            2,
            Summary {
                kind: SummaryKind::Incident,
                subject: format!("{} {}", i.project, i.short_id),
                headline: format!(
                    "{} — {} events, {} users, in {}",
                    i.title, i.count, i.user_count, i.culprit
                ),
                analyzer: ANALYZER.into(),
                url: i.url.clone(),
            },
        ));
    }
    for pr in prs.iter().filter(|p| !p.draft).take(MAX_PER_KIND * 10) {
        let release = pr
            .labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case("release") || l.eq_ignore_ascii_case("hotfix"));
        if !release {
            continue;
        }
        out.push((
            4,
            Summary {
                kind: SummaryKind::Pr,
                subject: format!("{}#{}", pr.repo, pr.number),
                headline: format!("Release-labelled PR by {}: {}", pr.author, pr.title),
                analyzer: ANALYZER.into(),
                url: pr.url.clone(),
            },
        ));
    }
    out.sort_by_key(|(rank, _)| *rank);
    out.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MetricReading;

    #[test]
    fn breaching_rollout_comes_first_with_numbers() {
        let r = ServiceRollout {
            name: "checkout".into(),
            environment: "production".into(),
            production: true,
            slices: vec![10, 25, 50, 100],
            weight: Some(50.0),
            weight_error: None,
            metrics: vec![MetricReading {
                name: "error_rate".into(),
                canary: Some(0.03),
                baseline: Some(0.002),
                max: Some(0.005),
                min: None,
                error: None,
                ..MetricReading::default()
            }],
            ..ServiceRollout::default()
        };
        let h = headlines(&[], &[], &[r], &HashMap::new(), &[]);
        assert_eq!(h.len(), 1);
        assert!(h[0].headline.contains("3.00 %"), "{}", h[0].headline);
        assert!(
            h[0].headline.contains("15.0× baseline"),
            "{}",
            h[0].headline
        );
    }
}
