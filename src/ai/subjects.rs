//! What the LLM is told about each kind of subject ([`super::prompt::Subject`]), built from the
//! domain's data — the same for the cockpit's `s` and for `flightdeck explain --llm`.

use super::prompt::{IncidentSubject, LogLine, PrSubject, RolloutSubject, RunSubject, Subject};
use super::triage::FailureReport;
use crate::analysis::canary::Judgement;
use crate::domain::{
    Incident, IncidentEvent, Job, PrFile, PullRequest, RunState, ServiceRollout, Summary, Suspect,
    WorkflowRun,
};

/// A PR, its changed files when read, and the builtin summary's risk lines (`+25 migrations: …`).
pub fn pr(pr: &PullRequest, files: Option<&[PrFile]>, builtin: &Summary) -> Subject {
    Subject::Pr(PrSubject {
        repo: pr.repo.clone(),
        number: pr.number,
        title: pr.title.clone(),
        body: pr.body.clone(),
        author: pr.author.clone(),
        labels: pr.labels.clone(),
        changed_paths: files
            .unwrap_or_default()
            .iter()
            .map(|f| f.filename.clone())
            .collect(),
        risk_reasons: builtin
            .detail
            .iter()
            .filter(|l| l.trim_start().starts_with('+'))
            .map(|l| l.trim().to_string())
            .collect(),
    })
}

/// A failed run: its failed job's failing step, and the log's analysis when read.
pub fn run(
    run: &WorkflowRun,
    jobs: Option<&[Job]>,
    analysis: Option<(&str, &FailureReport)>,
) -> Subject {
    let step = jobs
        .unwrap_or_default()
        .iter()
        .filter(|j| j.state == RunState::Failure)
        .flat_map(|j| j.steps.iter())
        .find(|s| s.state == RunState::Failure)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    Subject::Run(RunSubject {
        repo: run.repo.clone(),
        workflow: run.workflow.clone(),
        job: analysis.map(|(j, _)| j.to_string()).unwrap_or_default(),
        failing_step: step,
        category: analysis.map(|(_, r)| r.label.clone()).unwrap_or_default(),
        log_lines: analysis
            .map(|(_, r)| {
                r.root_cause
                    .iter()
                    .map(|(n, t)| LogLine {
                        number: *n,
                        text: t.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// An incident, its latest event (exception, frames innermost first, tags) and its best suspect.
pub fn incident(i: &Incident, event: Option<&IncidentEvent>, suspect: Option<&Suspect>) -> Subject {
    let raised = event.and_then(|e| e.raised());
    Subject::Incident(IncidentSubject {
        title: i.title.clone(),
        culprit: i.culprit.clone(),
        exception_type: raised.map(|x| x.kind.clone()).unwrap_or_default(),
        exception_value: raised.map(|x| x.value.clone()).unwrap_or_default(),
        frames: raised
            .map(|x| {
                x.frames
                    .iter()
                    .rev()
                    .map(|f| {
                        format!(
                            "{}:{} in {}",
                            f.filename.as_deref().unwrap_or("?"),
                            f.line.map_or("?".into(), |l| l.to_string()),
                            f.function.as_deref().unwrap_or("?")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        tags: event.map(|e| e.tags.clone()).unwrap_or_default(),
        suspected_change: suspect
            .map(|s| {
                format!(
                    "{} (score {:.2}): {}",
                    s.title,
                    s.score,
                    s.evidence.join("; ")
                )
            })
            .unwrap_or_default(),
    })
}

/// A rollout and the judge's verdict.
pub fn rollout(name: &str, r: Option<&ServiceRollout>, j: Option<&Judgement>) -> Subject {
    Subject::Rollout(RolloutSubject {
        service: name.to_string(),
        weight: r
            .and_then(|r| r.weight)
            .map(|w| format!("{w:.0} %"))
            .unwrap_or_default(),
        verdict: j.map(|j| j.verdict.label().to_string()).unwrap_or_default(),
        reasons: j.map(|j| j.reasons.clone()).unwrap_or_default(),
    })
}
