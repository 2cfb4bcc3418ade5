//! The built-in analyzer for the AI tab: for each subject that needs the operator, worst first, a
//! deterministic headline and a detail — what it is, the evidence, what to do next. No I/O: an
//! OpenAI-compatible endpoint, when configured, is asked on demand and its answer shown beside this.

use crate::analysis::canary::{Judgement, Verdict};
use std::collections::HashMap;

use super::risk::{PrFacts, RiskRules, Tier, assess};
use super::triage::FailureReport;
use crate::analysis::canary::MetricResult;
use crate::domain::{
    Incident, PrFile, PullRequest, RunState, ServiceRollout, Summary, SummaryKind, WorkflowRun,
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
/// The lists, then what the cockpit fetched on demand about their rows (a PR's files, a run's
/// log analysis, an incident's event and suspects).
#[allow(clippy::too_many_arguments)]
pub fn headlines<'a>(
    prs: &[std::sync::Arc<PullRequest>],
    runs: &[WorkflowRun],
    rollouts: &[ServiceRollout],
    judgements: &HashMap<String, Judgement>,
    previous: &HashMap<String, Judgement>,
    incidents: &[Incident],
    files: &dyn Fn(&PullRequest) -> Option<Vec<PrFile>>,
    analysis: &dyn Fn(&WorkflowRun) -> Option<(FailureReport, String)>,
    context: &dyn Fn(&Incident) -> IncidentContext<'a>,
    rules: &RiskRules,
) -> Vec<Summary> {
    let mut out = Vec::new();
    for r in rollouts {
        let j = judgements.get(&r.name);
        let rank = match j.map(|j| j.verdict) {
            Some(Verdict::Rollback) => 0,
            Some(Verdict::Hold) => 2,
            Some(Verdict::Proceed) => 3,
            None if r.metrics.iter().any(|m| m.breached() == Some(true)) => 0,
            None => 3,
        };
        let mut sum = rollout(r, j);
        if let (Some(j), Some(p)) = (j, previous.get(&r.name)) {
            let at = sum
                .detail
                .iter()
                .position(|l| l.starts_with("Next:"))
                .unwrap_or(sum.detail.len());
            sum.detail.insert(at, moved(p, j));
        }
        out.push((rank, sum));
    }
    // The newest first; a list of thousands is no summary, so each kind is capped.
    let attention = runs
        .iter()
        .filter(|r| matches!(r.state, RunState::Failure | RunState::Waiting))
        .take(MAX_PER_KIND);
    for r in attention {
        let a = analysis(r);
        out.push((1, run(r, a.as_ref().map(|(f, g)| (f, g.as_str())))));
    }
    for i in incidents.iter().take(MAX_PER_KIND) {
        out.push((2, incident(i, context(i))));
    }
    // PRs: the risky ones (medium and up) and the release-labelled, heaviest first.
    let mut risky = Vec::new();
    for p in prs.iter().filter(|p| !p.draft).take(MAX_PER_KIND * 10) {
        let known = files(p);
        let (summary, risk) = pr(p, known.as_deref(), rules);
        if risk.tier == Tier::Low && !release(p) {
            continue;
        }
        risky.push((u32::MAX - risk.score, summary));
    }
    risky.sort_by_key(|(k, _)| *k);
    out.extend(risky.into_iter().take(MAX_PER_KIND).map(|(_, s)| (4, s)));
    out.sort_by_key(|(rank, _)| *rank);
    out.into_iter().map(|(_, s)| s).collect()
}

fn release(pr: &PullRequest) -> bool {
    pr.labels
        .iter()
        .any(|l| l.eq_ignore_ascii_case("release") || l.eq_ignore_ascii_case("hotfix"))
}

/// A rollout: the judge's verdict in prose when there is one, else its metrics against the bounds.
pub fn rollout(r: &ServiceRollout, j: Option<&Judgement>) -> Summary {
    let weight = r
        .weight
        .map(|w| format!("{w:.0} %"))
        .unwrap_or_else(|| "unknown weight".into());
    let subject = rollout_subject(r);
    if let Some(j) = j {
        return Summary {
            kind: SummaryKind::Rollout,
            subject,
            headline: format!(
                "{} at {weight}: {}",
                j.verdict.label(),
                j.reasons.first().cloned().unwrap_or_default()
            ),
            analyzer: ANALYZER.into(),
            url: String::new(),
            detail: rollout_detail(r, j, &weight),
        };
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
            "Canary at {weight}: {} within bounds",
            match r.metrics.len() {
                1 => "its one metric".to_string(),
                2 => "both metrics".to_string(),
                n => format!("all {n} metrics"),
            }
        )
    };
    Summary {
        kind: SummaryKind::Rollout,
        subject,
        headline,
        analyzer: ANALYZER.into(),
        url: String::new(),
        detail: vec![
            "Not judged yet: the metrics against their bounds only.".into(),
            "Next: wait for the judge's first verdict (a window of data in this slice).".into(),
        ],
    }
}

/// A workflow run; with its failed log's analysis (`triage`) and what it was compared with, when
/// it was read.
pub fn run(r: &WorkflowRun, triage: Option<(&FailureReport, &str)>) -> Summary {
    let headline = match (r.state, triage.map(|t| t.0)) {
        (RunState::Failure, Some(t)) => format!(
            "{} failed on {}: {} — {}",
            r.workflow,
            r.branch,
            t.label,
            t.root_cause
                .first()
                .map(|(n, l)| format!("line {n}: {l}"))
                .unwrap_or_else(|| t.summary.clone())
        ),
        (RunState::Failure, None) => format!(
            "{} failed on {} ({}, attempt {}) — open the run for the failing step",
            r.workflow, r.branch, r.event, r.attempt
        ),
        (RunState::Waiting, _) => format!(
            "{} on {} waits for approval of a protected environment",
            r.workflow, r.branch
        ),
        _ => format!("{} on {}: {:?}", r.workflow, r.branch, r.state),
    };
    let detail = match triage {
        Some((t, against)) => triage_detail(r, t, against),
        None => run_detail(r),
    };
    Summary {
        kind: SummaryKind::Run,
        subject: run_subject(r),
        headline,
        analyzer: ANALYZER.into(),
        url: r.url.clone(),
        detail,
    }
}

/// What the cockpit knows about an incident beyond the issue: its latest event, its suspected
/// changes (best first; `Some(empty)`: none found) and the last deploy of its project.
#[derive(Debug, Clone, Copy, Default)]
pub struct IncidentContext<'a> {
    pub event: Option<&'a crate::domain::IncidentEvent>,
    pub suspects: Option<&'a [crate::domain::Suspect]>,
    pub last_deploy: Option<time::OffsetDateTime>,
}

/// An incident from Sentry: the exception and its crash frame, first seen against the last
/// deploy, the suspected change, and where its regression test belongs.
pub fn incident(i: &Incident, cx: IncidentContext<'_>) -> Summary {
    let mut headline = format!(
        "{} — {} events, {} users, in {}",
        i.title, i.count, i.user_count, i.culprit
    );
    // A moment beside another: its clock time when both fall on the same UTC day, else its date
    // too (40 days apart at the same minute would read as the same moment).
    let at = |t: time::OffsetDateTime, beside: Option<time::OffsetDateTime>| {
        let t = t.to_offset(time::UtcOffset::UTC);
        if beside.is_some_and(|b| b.to_offset(time::UtcOffset::UTC).date() == t.date()) {
            format!("{:02}:{:02} UTC", t.hour(), t.minute())
        } else {
            super::dora::stamp(t)
        }
    };
    let mut d = vec![
        format!("{} ({}) in {}", i.title, i.level, i.culprit),
        format!(
            "{} events from {} users; status {}.",
            i.count, i.user_count, i.status
        ),
    ];
    let raised = cx.event.and_then(|e| e.raised());
    let crash = raised.and_then(|x| {
        x.frames
            .iter()
            .rev()
            .find(|f| f.in_app)
            .or_else(|| x.frames.last())
    });
    if let Some(x) = raised {
        d.push(format!("Exception: {}: {}", x.kind, x.value));
    }
    if let Some(f) = crash {
        d.push(format!(
            "Crash frame: {}:{} in {}",
            f.filename.as_deref().unwrap_or("?"),
            f.line.map_or("?".into(), |l| l.to_string()),
            f.function.as_deref().unwrap_or("?")
        ));
    }
    match (i.first_seen, cx.last_deploy) {
        (Some(first), Some(dep)) => {
            let gap = (first - dep).whole_seconds();
            d.push(if gap >= 0 {
                format!(
                    "First seen {} after the last deploy of {} (deploy {}, first seen {}): the deploy may have caused it.",
                    crate::fmt::fmt_age(gap),
                    i.project,
                    at(dep, Some(first)),
                    at(first, Some(dep))
                )
            } else {
                format!(
                    "First seen {} before the last deploy of {} (first seen {}, deploy {}): not that deploy.",
                    crate::fmt::fmt_age(-gap),
                    i.project,
                    at(first, Some(dep)),
                    at(dep, Some(first))
                )
            });
        }
        (Some(first), None) => d.push(format!(
            "First seen {}; no deploy of {} known to the cockpit.",
            at(first, None),
            i.project
        )),
        _ => {}
    }
    match cx.suspects {
        Some([best, ..]) => {
            d.push(format!(
                "Suspected change: {} (score {:.2}): {}",
                best.title,
                best.score,
                best.evidence.join("; ")
            ));
            headline = format!("{headline} — suspect: {}", best.title);
        }
        Some([]) => d.push("Suspected change: none found among the recent deploys and PRs.".into()),
        None => d.push(
            "Suspected change: not looked up yet (select it with the detail pane open).".into(),
        ),
    }
    if let Some(f) = crash.and_then(|f| f.filename.as_deref()) {
        let s = super::suggest::suggest(&[f.to_string()], None);
        if let Some(t) = s.tests.first() {
            d.push(format!(
                "A regression test belongs in {} ({}).",
                t.test, t.reason
            ));
        }
    }
    d.push(
        "Next: check the suspected change; `T` drafts a regression-test PR from the latest event."
            .into(),
    );
    Summary {
        kind: SummaryKind::Incident,
        subject: incident_subject(i),
        headline,
        analyzer: ANALYZER.into(),
        url: i.url.clone(),
        detail: d,
    }
}

/// A PR's risk (its changed files when they were read) and the tests it should run.
pub fn pr(
    pr: &PullRequest,
    files: Option<&[PrFile]>,
    rules: &RiskRules,
) -> (Summary, super::risk::Risk) {
    let risk = assess(&PrFacts::from_pull_request(pr, files), rules);
    let release = release(pr);
    let why: Vec<String> = risk
        .reasons
        .iter()
        .take(3)
        .map(|r| r.detail.clone())
        .collect();
    let headline = format!(
        "{} risk ({}){}: {}",
        risk.tier.label(),
        risk.score,
        if release { ", release-labelled" } else { "" },
        if why.is_empty() {
            "nothing stands out".to_string()
        } else {
            why.join("; ")
        }
    );
    let mut detail = vec![
        format!("{} by {}: {}", pr_subject(pr), pr.author, pr.title),
        format!(
            "Risk {} — score {} of 100 (low < 25 ≤ medium ≤ 55 < high):",
            risk.tier.label(),
            risk.score
        ),
    ];
    detail.extend(
        risk.reasons
            .iter()
            .map(|r| format!("  +{:<3} {}: {}", r.weight, r.rule, r.detail)),
    );
    if let Some(f) = files {
        let paths: Vec<String> = f.iter().map(|f| f.filename.clone()).collect();
        let s = super::suggest::suggest(&paths, None);
        if s.no_test_touched {
            detail.push("Code changed, no test touched.".into());
        }
        if !s.tests.is_empty() {
            detail.push("Suggested tests:".into());
            detail.extend(
                s.tests
                    .iter()
                    .take(8)
                    .map(|t| format!("  {} — {}", t.test, t.reason)),
            );
        }
        detail.extend(s.commands.iter().take(4).map(|c| format!("  run: {c}")));
    } else {
        detail.push(
            "  The changed files are not read yet: open the PR's detail (enter) to score its paths."
                .into(),
        );
    }
    detail.push(match risk.tier {
        Tier::High => {
            "Next: a second reviewer on the risky paths, and a staged rollout after merge.".into()
        }
        Tier::Medium => "Next: review the paths above; check the suggested tests ran.".into(),
        Tier::Low => "Next: the usual review.".into(),
    });
    (
        Summary {
            kind: SummaryKind::Pr,
            subject: pr_subject(pr),
            headline,
            analyzer: ANALYZER.into(),
            url: pr.url.clone(),
            detail,
        },
        risk,
    )
}

/// What a failed run's log was compared with, and whether its workflow fails on the default
/// branch too: `job`'s last green run (`green`: run number and branch) or why there is none, and the
/// newest completed run of the workflow there (`on_default`).
pub fn comparison(
    r: &WorkflowRun,
    job: &str,
    green: Option<(u64, &str)>,
    note: Option<&str>,
    on_default: Option<(u64, RunState, &str)>,
) -> String {
    let mut out = match (green, note) {
        (Some((n, branch)), _) => format!("the last green run of job {job} on {branch} (#{n})"),
        (None, Some(note)) => format!("nothing: {note}"),
        (None, None) => String::new(),
    };
    if let Some((n, state, branch)) = on_default {
        let verdict = if r.branch == branch {
            format!("this run is on {branch}: {branch} is broken (or the job is flaky)")
        } else {
            match state {
                RunState::Failure => format!(
                    "{} fails on {branch} too (#{n}): broken {branch} or a flaky job, not only this change",
                    r.workflow
                ),
                RunState::Success => format!(
                    "{} passes on {branch} (#{n}): the failure comes with this change",
                    r.workflow
                ),
                other => format!("{} on {branch} (#{n}) ended {other:?}", r.workflow),
            }
        };
        out = if out.is_empty() {
            verdict
        } else {
            format!("{out}. {verdict}")
        };
    }
    out
}

/// A failed run explained from its log: the category, the root-cause lines, the failing tests, and
/// what is new against the last green log of the same job when it was read.
fn triage_detail(r: &WorkflowRun, t: &FailureReport, against: &str) -> Vec<String> {
    let mut d = vec![
        format!(
            "{} failed on {} ({}, attempt {}), commit {}.",
            r.workflow,
            r.branch,
            r.event,
            r.attempt,
            r.sha.get(..7).unwrap_or(&r.sha)
        ),
        format!("Category: {} ({:?} confidence).", t.label, t.confidence),
        "Root cause:".into(),
    ];
    d.extend(
        t.root_cause
            .iter()
            .take(8)
            .map(|(n, l)| format!("  {n:>6}: {l}")),
    );
    if !t.failing_tests.is_empty() {
        d.push(format!("Failing tests: {}", t.failing_tests.join(", ")));
    }
    if !against.is_empty() {
        d.push(format!("Compared with {against}."));
    }
    match &t.new_lines {
        Some(diff) if diff.hunks.is_empty() => {
            d.push("Against the last green log of the job: nothing new.".into())
        }
        Some(diff) => {
            d.push(format!(
                "New against the last green log of the job ({} lines):",
                diff.new_count
            ));
            for h in diff.hunks.iter().take(3) {
                d.extend(
                    h.lines
                        .iter()
                        .take(6)
                        .map(|(n, l)| format!("  {n:>6}: {l}")),
                );
            }
        }
        None => {}
    }
    d.push(match &t.category {
        super::triage::Category::Network | super::triage::Category::Infrastructure => {
            "Next: looks like the environment, not the change — re-run (`r`).".into()
        }
        super::triage::Category::Timeout | super::triage::Category::OutOfMemory => {
            "Next: check what grew (a test, a build step, memory); re-run only if it is known flaky."
                .into()
        }
        _ => "Next: fix the change — the root cause above is in the code or its tests.".into(),
    });
    d
}

/// A DORA metrics row for the view and the detail: `read` is the metrics (with what it took to
/// read them), `Ok(None)` before they are read (`loading`: a read is under way; else none was
/// asked for yet: they are read on demand), `Err` when reading failed.
pub fn dora(
    environment: &str,
    days: i64,
    read: Result<Option<&super::dora::DoraView>, &str>,
    loading: bool,
) -> Summary {
    let subject = format!("{environment}, {days} days");
    let (headline, detail) = match read {
        Err(e) => (
            format!("DORA metrics could not be read: {e}"),
            vec!["Next: r asks again (selecting the row reads them).".into()],
        ),
        Ok(None) if loading => (
            "DORA metrics: reading deployments, merged PRs and incidents…".into(),
            vec!["`flightdeck dora` prints them too.".into()],
        ),
        Ok(None) => (
            "DORA metrics: not read yet — read on demand, when this row is selected with the detail open (enter)".into(),
            vec!["`flightdeck dora` prints them too.".into()],
        ),
        Ok(Some(v)) => {
            let (d, gh, sentry) = (&v.dora, v.github_requests, v.sentry_requests);
            let (notes, errors) = (&v.notes, &v.errors);
            let short = |m: &super::dora::Metric| {
                format!(
                    "{} {}",
                    m.summary.split(" (").next().unwrap_or(&m.summary),
                    m.band.map_or("—".into(), |b| format!("({})", b.label()))
                )
            };
            let [df, lt, cfr, mttr] = d.metrics();
            let headline = format!(
                "deploys {} · lead time {} · failures {} · restore {}",
                short(df),
                short(lt),
                short(cfr),
                short(mttr)
            );
            let mut detail = Vec::new();
            for m in d.metrics() {
                detail.push(format!(
                    "{}: {} — {} [{}]",
                    m.kind.label(),
                    m.summary,
                    m.band.map_or("no band", |b| b.label()),
                    crate::fmt::sparkline(&m.trend)
                ));
                detail.push(format!("  how: {}", m.how));
                if !m.counted.is_empty() {
                    let ids: Vec<&str> = m.counted.iter().take(6).map(|c| c.id.as_str()).collect();
                    detail.push(format!(
                        "  counted {}: {}{}",
                        m.counted.len(),
                        ids.join(", "),
                        if m.counted.len() > ids.len() { ", …" } else { "" }
                    ));
                }
                detail.extend(m.notes.iter().map(|n| format!("  note: {n}")));
            }
            detail.extend(notes.iter().map(|n| format!("note: {n}")));
            detail.extend(errors.iter().map(|e| format!("could not read: {e}")));
            detail.push(format!(
                "Read with {gh} requests to GitHub and {sentry} to Sentry; bands from DORA's State of DevOps reports."
            ));
            (headline, detail)
        }
    };
    Summary {
        kind: SummaryKind::Dora,
        subject,
        headline,
        analyzer: ANALYZER.into(),
        url: String::new(),
        detail,
    }
}

/// What moved the promotion confidence from `before` to `now`: the score, and each metric whose
/// finding changed.
pub fn moved(before: &Judgement, now: &Judgement) -> String {
    let state = |r: MetricResult| match r {
        MetricResult::Pass => "passes",
        MetricResult::High => "worse (higher)",
        MetricResult::Low => "worse (lower)",
        MetricResult::NoData => "no data",
    };
    let changes: Vec<String> = now
        .metrics
        .iter()
        .filter_map(|m| {
            let old = before.metrics.iter().find(|o| o.name == m.name)?;
            (old.result != m.result)
                .then(|| format!("{} {} → {}", m.name, state(old.result), state(m.result)))
        })
        .collect();
    format!(
        "What moved it: {} {:.2} → {} {:.2}{}",
        before.verdict.label(),
        before.score,
        now.verdict.label(),
        now.score,
        if changes.is_empty() {
            " (the same findings, other numbers)".to_string()
        } else {
            format!(": {}", changes.join("; "))
        }
    )
}

/// The key of a row's LLM answer: its kind and subject.
pub fn answer_key(s: &Summary) -> String {
    format!("{} {}", s.kind.label(), s.subject)
}

/// The subject of a PR's row: `owner/name#N`.
pub fn pr_subject(pr: &PullRequest) -> String {
    format!("{}#{}", pr.repo, pr.number)
}

/// The subject of a run's row: `owner/name #run_number`.
pub fn run_subject(r: &WorkflowRun) -> String {
    format!("{} #{}", r.repo, r.run_number)
}

/// The subject of an incident's row: `project SHORT-ID`.
pub fn incident_subject(i: &Incident) -> String {
    format!("{} {}", i.project, i.short_id)
}

/// The subject of a rollout's row: `service (environment)`.
pub fn rollout_subject(r: &ServiceRollout) -> String {
    format!("{} ({})", r.name, r.environment)
}

/// The judge's verdict in prose: why, how confident and from what, and the next action.
fn rollout_detail(r: &ServiceRollout, j: &Judgement, weight: &str) -> Vec<String> {
    let mut d = vec![format!(
        "{} in {}: the canary serves {weight} of the traffic; the judge says {}.",
        r.name,
        r.environment,
        j.verdict.label()
    )];
    d.push("Why:".into());
    d.extend(j.reasons.iter().map(|x| format!("  - {x}")));
    // Promotion confidence: which signals, which weights, what moved it.
    let total: f64 = j.metrics.iter().map(|m| m.weight).sum();
    d.push(format!(
        "Promotion confidence {:.2} (band {:?}): the weighted share of metrics that pass{}",
        j.score,
        j.band,
        if total > 0.0 { ":" } else { "." }
    ));
    for m in &j.metrics {
        let state = match m.result {
            MetricResult::Pass => "passes",
            MetricResult::High => "worse (higher)",
            MetricResult::Low => "worse (lower)",
            MetricResult::NoData => "no data — counts as not passing",
        };
        d.push(format!(
            "  {} — weight {:.1}{}: {state}",
            m.name,
            m.weight,
            if m.critical { ", critical" } else { "" }
        ));
    }
    d.push(match j.verdict {
        Verdict::Rollback => "Next: roll back — `R` on the Rollouts tab (asks to confirm); the autopilot does it when enabled for this service.".into(),
        Verdict::Hold if j.baking => "Next: wait for the bake to complete — the judge says PROCEED (promotion complete) once it has, if every metric still passes; approving before then takes an override.".into(),
        Verdict::Hold => "Next: wait for evidence; approving the held deployment now takes an override.".into(),
        Verdict::Proceed if j.complete => "Next: nothing — the promotion is complete.".into(),
        Verdict::Proceed => "Next: approve the held deployment to move to the next slice (`a` on the Rollouts or Runs tab).".into(),
    });
    d
}

fn run_detail(run: &WorkflowRun) -> Vec<String> {
    match run.state {
        RunState::Failure => vec![
            format!(
                "{} failed on {} ({}, attempt {}), commit {}.",
                run.workflow,
                run.branch,
                run.event,
                run.attempt,
                run.sha.get(..7).unwrap_or(&run.sha)
            ),
            "The failing step and its root-cause lines: open the run (enter) and its log (l); the log view \
             ranks the lines that matter."
                .into(),
            "Outside the cockpit: `flightdeck triage FAILED.log --against GREEN.log` gives the category and \
             what is new against the last green log of the same job."
                .into(),
            "Next: read the root cause; re-run (`r`) only if it looks flaky (network, runner lost)."
                .into(),
        ],
        _ => vec![
            format!(
                "{} on {} waits for approval of a protected environment.",
                run.workflow, run.branch
            ),
            "Next: approve or reject (`a`/`x`); a judged service's verdict decides whether it takes an override."
                .into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MetricReading;

    #[test]
    fn a_dora_row_says_whether_it_is_being_read_or_waits_to_be_asked_for() {
        let idle = dora("production", 30, Ok(None), false);
        assert!(idle.headline.contains("not read yet"), "{}", idle.headline);
        assert!(idle.headline.contains("on demand"), "{}", idle.headline);
        let reading = dora("production", 30, Ok(None), true);
        assert!(reading.headline.contains("reading"), "{}", reading.headline);
        let failed = dora("production", 30, Err("HTTP 502"), false);
        assert!(failed.headline.contains("HTTP 502"), "{}", failed.headline);
    }

    #[test]
    fn a_baking_hold_says_to_wait_for_the_bake_not_for_evidence() {
        let r = ServiceRollout {
            name: "web".into(),
            environment: "production".into(),
            production: true,
            slices: vec![10, 25, 50, 100],
            weight: Some(100.0),
            metrics: vec![MetricReading {
                name: "error_rate".into(),
                canary: Some(0.001),
                max: Some(0.005),
                ..MetricReading::default()
            }],
            ..ServiceRollout::default()
        };
        let mut j = crate::analysis::rollout::judge_service(&r, &Default::default());
        j.verdict = Verdict::Hold;
        j.baking = true;
        let next = |j: &Judgement| rollout_detail(&r, j, "100 %").pop().unwrap();
        assert!(
            next(&j).starts_with("Next: wait for the bake to complete"),
            "{}",
            next(&j)
        );
        j.baking = false;
        assert!(
            next(&j).starts_with("Next: wait for evidence"),
            "{}",
            next(&j)
        );
    }

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
        let h = headlines(
            &[],
            &[],
            &[r],
            &HashMap::new(),
            &HashMap::new(),
            &[],
            &|_| None,
            &|_| None,
            &|_| Default::default(),
            &RiskRules::default(),
        );
        assert_eq!(h.len(), 1);
        assert!(h[0].headline.contains("3.00 %"), "{}", h[0].headline);
        assert!(
            h[0].headline.contains("15.0× baseline"),
            "{}",
            h[0].headline
        );
    }

    fn pr(additions: u64, files: u64, labels: &[&str]) -> std::sync::Arc<PullRequest> {
        std::sync::Arc::new(PullRequest {
            repo: "acme/shop".into(),
            number: 7,
            title: "Rework checkout".into(),
            author: "alice".into(),
            draft: false,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            head_ref: "rework".into(),
            base_ref: "main".into(),
            created_at: None,
            updated_at: None,
            url: String::new(),
            body: String::new(),
            head_sha: "abc1234".into(),
            checks: None,
            check_list: Vec::new(),
            review: None,
            reviews: Vec::new(),
            mergeable: None,
            additions: Some(additions),
            deletions: Some(0),
            changed_files: Some(files),
        })
    }

    /// The headlines of `prs` alone, their files as `files` says.
    fn of_prs(
        prs: &[std::sync::Arc<PullRequest>],
        files: &dyn Fn(&PullRequest) -> Option<Vec<PrFile>>,
    ) -> Vec<Summary> {
        headlines(
            prs,
            &[],
            &[],
            &HashMap::new(),
            &HashMap::new(),
            &[],
            files,
            &|_| None,
            &|_| Default::default(),
            &RiskRules::default(),
        )
    }

    #[test]
    fn a_small_pr_is_not_listed_and_a_big_one_says_why_and_what_next() {
        let none = of_prs(&[pr(20, 2, &[])], &|_| None);
        assert!(none.is_empty(), "{none:?}");
        let big = of_prs(&[pr(900, 30, &[])], &|_| None);
        assert_eq!(big.len(), 1, "{big:?}");
        let h = &big[0];
        assert!(h.headline.starts_with("medium risk (30)"), "{}", h.headline);
        assert!(
            h.headline.contains("file list not fetched"),
            "{}",
            h.headline
        );
        assert!(
            h.detail.iter().any(|l| l.starts_with("Next:")),
            "{:?}",
            h.detail
        );
    }

    #[test]
    fn the_changed_files_score_their_paths_and_suggest_tests() {
        let files = vec![
            PrFile {
                filename: "db/migrate/20261201_add_index.sql".into(),
                status: "added".into(),
                additions: 10,
                deletions: 0,
            },
            PrFile {
                filename: "app/payment.py".into(),
                status: "modified".into(),
                additions: 30,
                deletions: 5,
            },
        ];
        let h = of_prs(&[pr(45, 2, &["release"])], &|_| Some(files.clone()));
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(
            h[0].headline.contains("release-labelled"),
            "{}",
            h[0].headline
        );
        let detail = h[0].detail.join("\n");
        assert!(
            detail.contains("db/migrate/20261201_add_index.sql"),
            "{detail}"
        );
        assert!(
            detail.contains("Code changed, no test touched."),
            "{detail}"
        );
        assert!(detail.contains("test_payment.py"), "{detail}");
    }

    #[test]
    fn a_verdict_reads_as_prose_with_its_confidence_and_next_action() {
        use crate::analysis::canary::{MetricSamples, MetricSpec, Policy, judge};
        let r = ServiceRollout {
            name: "checkout".into(),
            environment: "production".into(),
            weight: Some(50.0),
            ..ServiceRollout::default()
        };
        let bad = MetricSamples::new(vec![900.0; 30], vec![200.0; 30], vec![900.0; 3]);
        let good = MetricSamples::new(vec![200.0; 30], vec![200.0; 30], vec![200.0; 3]);
        let spec = MetricSpec::max("p99_ms", 500.0);
        let j = judge(&[(spec.clone(), bad)], &Policy::default(), None);
        let before = judge(&[(spec, good)], &Policy::default(), None);
        assert_eq!(j.verdict, Verdict::Rollback);
        assert_eq!(before.verdict, Verdict::Proceed);
        let mut js = HashMap::new();
        js.insert("checkout".to_string(), j);
        let mut prev = HashMap::new();
        prev.insert("checkout".to_string(), before);
        let h = headlines(
            &[],
            &[],
            &[r],
            &js,
            &prev,
            &[],
            &|_| None,
            &|_| None,
            &|_| Default::default(),
            &RiskRules::default(),
        );
        let d = h[0].detail.join("\n");
        assert!(
            d.contains("What moved it: PROCEED 1.00 → ROLLBACK")
                && d.contains("p99_ms passes → worse (higher)"),
            "{d}"
        );
        assert!(
            h[0].headline.starts_with("ROLLBACK at 50 %"),
            "{}",
            h[0].headline
        );
        assert!(d.contains("Promotion confidence"), "{d}");
        assert!(d.contains("p99_ms — weight 1.0: worse (higher)"), "{d}");
        assert!(d.contains("Next: roll back"), "{d}");
    }

    #[test]
    fn an_incident_says_its_crash_frame_its_deploy_its_suspect_and_where_its_test_goes() {
        use crate::domain::{ExceptionInfo, Frame, IncidentEvent, Suspect, SuspectKind};
        use time::macros::datetime;
        let i = Incident {
            project: "checkout".into(),
            id: "7".into(),
            short_id: "CHECKOUT-7".into(),
            title: "ZeroDivisionError: division by zero".into(),
            culprit: "worker/totals.py in split".into(),
            level: "error".into(),
            status: "unresolved".into(),
            count: 12,
            user_count: 4,
            first_seen: Some(datetime!(2026-12-01 14:14 UTC)),
            last_seen: Some(datetime!(2026-12-01 14:20 UTC)),
            url: String::new(),
            stats: Vec::new(),
        };
        let bare = incident(&i, IncidentContext::default());
        assert!(
            bare.detail.iter().any(|l| l.contains("not looked up yet")),
            "{:?}",
            bare.detail
        );
        let event = IncidentEvent {
            exceptions: vec![ExceptionInfo {
                kind: "ZeroDivisionError".into(),
                value: "division by zero".into(),
                frames: vec![
                    Frame {
                        filename: Some("worker/totals.py".into()),
                        function: Some("split".into()),
                        line: Some(42),
                        in_app: true,
                        ..Frame::default()
                    },
                    Frame {
                        filename: Some("site-packages/celery/app.py".into()),
                        function: Some("run".into()),
                        line: Some(9),
                        in_app: false,
                        ..Frame::default()
                    },
                ],
                ..ExceptionInfo::default()
            }],
            ..IncidentEvent::default()
        };
        let suspect = Suspect {
            kind: SuspectKind::Deploy,
            title: "deploy #412 of checkout to production".into(),
            repo: Some("acme/checkout".into()),
            sha: None,
            pr: None,
            url: None,
            score: 0.9,
            evidence: vec!["first seen 12 min after the deploy".into()],
        };
        let cx = IncidentContext {
            event: Some(&event),
            suspects: Some(std::slice::from_ref(&suspect)),
            last_deploy: Some(datetime!(2026-12-01 14:02 UTC)),
        };
        let s = incident(&i, cx);
        let d = s.detail.join("\n");
        assert!(
            d.contains("Crash frame: worker/totals.py:42 in split"),
            "{d}"
        );
        assert!(
            d.contains(
                "First seen 12m after the last deploy of checkout (deploy 14:02 UTC, first seen 14:14 UTC)"
            ),
            "{d}"
        );
        // Forty days apart at the same minute: the dates are named.
        let old = Incident {
            first_seen: Some(datetime!(2026-10-22 14:02 UTC)),
            ..i.clone()
        };
        let d = incident(&old, cx).detail.join("\n");
        assert!(
            d.contains("First seen 40d before the last deploy of checkout (first seen 2026-10-22 14:02 UTC, deploy 2026-12-01 14:02 UTC)"),
            "{d}"
        );
        assert!(d.contains("Suspected change: deploy #412"), "{d}");
        assert!(
            d.contains("A regression test belongs in tests/test_totals.py"),
            "{d}"
        );
        assert!(
            s.headline.contains("suspect: deploy #412"),
            "{}",
            s.headline
        );
    }

    #[test]
    fn a_failed_run_says_whether_its_workflow_fails_on_the_default_branch_too() {
        let run = WorkflowRun {
            repo: "acme/shop".into(),
            id: 1,
            run_number: 12,
            workflow: "CI".into(),
            title: "t".into(),
            branch: "fix/x".into(),
            sha: "abc".into(),
            event: "pull_request".into(),
            actor: "a".into(),
            state: RunState::Failure,
            attempt: 1,
            started_at: None,
            updated_at: None,
            url: String::new(),
            pending: Vec::new(),
        };
        let here = comparison(
            &run,
            "test",
            Some((9, "main")),
            None,
            Some((10, RunState::Success, "main")),
        );
        assert_eq!(
            here,
            "the last green run of job test on main (#9). CI passes on main (#10): the failure comes with this change"
        );
        let main_too = comparison(
            &run,
            "test",
            None,
            None,
            Some((10, RunState::Failure, "main")),
        );
        assert!(
            main_too.contains("CI fails on main too (#10): broken main or a flaky job"),
            "{main_too}"
        );
        let on_main = WorkflowRun {
            branch: "main".into(),
            ..run
        };
        let broken = comparison(
            &on_main,
            "test",
            None,
            None,
            Some((12, RunState::Failure, "main")),
        );
        assert!(
            broken.contains("this run is on main: main is broken"),
            "{broken}"
        );
    }
}
