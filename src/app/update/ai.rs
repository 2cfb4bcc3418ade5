//! The AI tab's LLM: `s` asks the configured OpenAI-compatible endpoint about the selected
//! subject (the builtin summary stays until the answer arrives, streamed in), `p` previews the
//! exact request body, `esc` stops an answer in flight. The prompt is built here from the state
//! (`ai::prompt`: fenced, redacted, bounded); the request is an effect like every other.

use std::collections::HashMap;

use crate::ai::prompt::{self, Subject};
use crate::app::msg::{Effect, LlmEffect, LlmEvent};
use crate::app::state::{Level, LlmAnswer, LlmState, Loadable, Mode, State};
use crate::domain::{Summary, SummaryKind};

/// The most of an answer kept (a runaway stream is cut here).
pub const MAX_ANSWER_CHARS: usize = 64 * 1024;

use crate::ai::summaries::answer_key;

/// The prompt for `s`, from what the cockpit holds about its subject (`None`: the DORA metrics
/// are computed, not asked about).
pub fn prompt_for(state: &State, s: &Summary) -> Option<prompt::Prompt> {
    let builtin = std::iter::once(s.headline.clone())
        .chain(s.detail.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n");
    Some(prompt::build(
        &subject_of(state, s)?,
        &builtin,
        &state.llm_redact,
    ))
}

/// The request body for `s`: what `p` shows and `s` sends. Structured output (`json_object`)
/// is asked for until the server refuses it; the prompt asks for the JSON either way and the
/// answer is parsed tolerantly.
pub fn body_for(state: &State, s: &Summary, model: &str) -> Option<String> {
    let mut body = prompt::request_body(&prompt_for(state, s)?, model, true);
    if state.llm_json_object
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert(
            "response_format".into(),
            serde_json::json!({"type": "json_object"}),
        );
    }
    Some(body.to_string())
}

/// The row of the lists an AI summary is about.
enum Row<'a> {
    Pr(&'a crate::domain::PullRequest),
    Run(&'a crate::domain::WorkflowRun),
    Incident(&'a crate::domain::Incident),
    Rollout(&'a crate::domain::ServiceRollout),
}

/// The row `s` is about; `None` for the DORA metrics (no row) or a subject no longer listed.
fn row_of<'a>(state: &'a State, s: &Summary) -> Option<Row<'a>> {
    use crate::ai::summaries as subjects_of;
    Some(match s.kind {
        SummaryKind::Dora => return None,
        SummaryKind::Pr => Row::Pr(
            state
                .prs
                .items
                .iter()
                .find(|p| subjects_of::pr_subject(p) == s.subject)?,
        ),
        SummaryKind::Run => Row::Run(
            state
                .runs
                .items
                .iter()
                .find(|r| subjects_of::run_subject(r) == s.subject)?,
        ),
        SummaryKind::Incident => Row::Incident(
            state
                .incidents
                .items
                .iter()
                .find(|i| subjects_of::incident_subject(i) == s.subject)?,
        ),
        SummaryKind::Rollout => Row::Rollout(
            state
                .rollouts
                .items
                .iter()
                .find(|r| subjects_of::rollout_subject(r) == s.subject)?,
        ),
    })
}

fn subject_of(state: &State, s: &Summary) -> Option<Subject> {
    use crate::ai::subjects;
    Some(match row_of(state, s)? {
        Row::Pr(pr) => {
            let files = match state.pr_files.get(&s.subject) {
                Some((_, Loadable::Ready(f))) => Some(f.as_slice()),
                _ => None,
            };
            subjects::pr(pr, files, s)
        }
        Row::Run(run) => {
            let jobs = match state.jobs.get(&run.id).map(|(_, l)| l) {
                Some(Loadable::Ready(j)) => Some(j.as_slice()),
                _ => None,
            };
            let analysis = match state.run_analysis.get(&run.id) {
                Some(Loadable::Ready(a)) => Some((a.job.as_str(), &a.report)),
                _ => None,
            };
            subjects::run(run, jobs, analysis)
        }
        Row::Incident(inc) => {
            let event = match state.incident_events.get(&inc.id) {
                Some((_, Loadable::Ready(e))) => Some(e),
                _ => None,
            };
            let suspect = match state.incident_suspects.get(&inc.id) {
                Some((_, Loadable::Ready(list))) => list.first(),
                _ => None,
            };
            subjects::incident(inc, event, suspect)
        }
        Row::Rollout(r) => subjects::rollout(&r.name, Some(r), state.judgements.get(&r.name)),
    })
}

fn nothing_to_ask(s: &Summary) -> String {
    if s.kind == SummaryKind::Dora {
        "The DORA metrics are computed from the records: there is no prompt for them".into()
    } else {
        format!(
            "{} is no longer in the lists: nothing to ask about",
            s.subject
        )
    }
}

/// `s`: ask the LLM about the selected subject. What the answer rests on that the detail reads on
/// demand (an incident's latest event and suspects, a failed run's jobs and log) is read first:
/// an answer without it would be stale the moment it came in.
pub(super) fn ask(state: &mut State) -> Vec<Effect> {
    let Some(sel) = state.summaries.selected().cloned() else {
        return Vec::new();
    };
    let Some(model) = state.llm_model.clone() else {
        state.push_message(
            Level::Info,
            "No LLM configured: the builtin analyzer answers ([ai] provider = \"openai\", url, model to ask one)",
        );
        return Vec::new();
    };
    let key = answer_key(&sel);
    if state
        .llm_answers
        .get(&key)
        .is_some_and(|a| a.state == LlmState::Streaming)
        || state.llm_after_reading.as_ref() == Some(&key)
    {
        state.push_message(
            Level::Info,
            format!("Already asking {model} about {}", sel.subject),
        );
        return Vec::new();
    }
    state.detail = true;
    let mut fx = super::detail::effects(state);
    if let Some(what) = still_reading(state, &sel) {
        state.push_message(
            Level::Info,
            format!(
                "Reading {what} of {} first; asking {model} once it is in (esc stops)",
                sel.subject
            ),
        );
        state.llm_after_reading = Some(key);
        return fx;
    }
    fx.extend(send(state, &sel, model, key));
    fx
}

/// After a fetch: the ask that waited for its subject's reads, once they are in (answered or
/// failed: an answer is no better for waiting on a read that failed).
pub(super) fn resume(state: &mut State) -> Vec<Effect> {
    let Some(key) = state.llm_after_reading.clone() else {
        return Vec::new();
    };
    let Some(sel) = state
        .summaries
        .items
        .iter()
        .find(|s| answer_key(s) == key)
        .cloned()
    else {
        state.llm_after_reading = None;
        return Vec::new();
    };
    if still_reading(state, &sel).is_some() {
        return Vec::new();
    }
    state.llm_after_reading = None;
    let Some(model) = state.llm_model.clone() else {
        return Vec::new();
    };
    send(state, &sel, model, key)
}

fn send(state: &mut State, sel: &Summary, model: String, key: String) -> Vec<Effect> {
    let Some(body) = body_for(state, sel, &model) else {
        state.push_message(Level::Info, nothing_to_ask(sel));
        return Vec::new();
    };
    state.llm_answers.insert(
        key.clone(),
        LlmAnswer {
            text: String::new(),
            state: LlmState::Streaming,
            model: model.clone(),
            asked_at: state.now,
            basis: basis_of(state, sel),
        },
    );
    state.detail = true;
    state.push_message(
        Level::Info,
        format!("Asking {model} about {} (esc stops)", sel.subject),
    );
    vec![Effect::Llm(LlmEffect::Ask { key, body })]
}

/// What of `s`'s subject is still being read for the detail (and the prompt), in words.
fn still_reading(state: &State, s: &Summary) -> Option<&'static str> {
    fn loading<T>(l: Option<&Loadable<T>>) -> bool {
        matches!(l, Some(Loadable::Loading))
    }
    match row_of(state, s)? {
        Row::Incident(inc) => {
            if loading(state.incident_events.get(&inc.id).map(|(_, l)| l)) {
                Some("the latest event")
            } else if loading(state.incident_suspects.get(&inc.id).map(|(_, l)| l)) {
                Some("the changes that may have caused it")
            } else {
                None
            }
        }
        Row::Run(run) => {
            if loading(state.jobs.get(&run.id).map(|(_, l)| l)) {
                Some("the jobs")
            } else if loading(state.run_analysis.get(&run.id)) {
                Some("the failed job's log")
            } else {
                None
            }
        }
        Row::Pr(_) | Row::Rollout(_) => None,
    }
}

/// What an answer about `s` rests on: the facts that make the subject what it is (a rollout's
/// verdict and slice, a run's state and attempt, an incident's status and the event and suspects
/// read, a PR's head and its checks' and reviews' state), not the numbers every poll moves (a
/// rollout's counts, an incident's events so far). An answer whose basis differs from the
/// subject's now is stale.
pub fn basis_of(state: &State, s: &Summary) -> String {
    let ready = |ok: bool| if ok { "read" } else { "not read" };
    let Some(row) = row_of(state, s) else {
        return String::new();
    };
    match row {
        Row::Rollout(r) => format!(
            "{} at {:?} since {:?}",
            state
                .judgements
                .get(&r.name)
                .map_or("unjudged", |j| j.verdict.label()),
            r.weight,
            r.slice_since
        ),
        Row::Run(r) => {
            let mut b = format!(
                "{:?} attempt {} waiting for [{}]",
                r.state,
                r.attempt,
                r.pending
                    .iter()
                    .map(|p| p.environment.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            // A failed run's answer rests on its log too (the ask waits for it); another run's
            // jobs, read when its detail is opened elsewhere, change nothing it said.
            if r.state == crate::domain::RunState::Failure {
                b.push_str(&format!(
                    "; jobs {}; log {}",
                    ready(matches!(
                        state.jobs.get(&r.id),
                        Some((_, Loadable::Ready(_)))
                    )),
                    ready(matches!(
                        state.run_analysis.get(&r.id),
                        Some(Loadable::Ready(_))
                    )),
                ));
            }
            b
        }
        Row::Incident(i) => format!(
            "{} {} {}; event {}; suspects {}",
            i.status,
            i.level,
            i.title,
            match state.incident_events.get(&i.id) {
                Some((_, Loadable::Ready(e))) => e.event_id.clone(),
                _ => ready(false).into(),
            },
            match state.incident_suspects.get(&i.id) {
                Some((_, Loadable::Ready(list))) => list
                    .first()
                    .map_or_else(|| "none".to_string(), |x| x.title.clone()),
                _ => ready(false).into(),
            }
        ),
        Row::Pr(p) => {
            let checks = p.checks.as_ref().map(|c| {
                if c.failed > 0 {
                    "failing"
                } else if c.pending > 0 {
                    "pending"
                } else {
                    "passing"
                }
            });
            format!(
                "{} {:?} {:?} {:?} draft {}; files {}",
                p.head_sha,
                checks,
                p.review,
                p.mergeable,
                p.draft,
                ready(matches!(
                    state.pr_files.get(&s.subject),
                    Some((_, Loadable::Ready(_)))
                ))
            )
        }
    }
}

/// `p`: show the request body `s` would send.
pub(super) fn preview(state: &mut State) -> Vec<Effect> {
    let Some(sel) = state.summaries.selected().cloned() else {
        return Vec::new();
    };
    let model = state.llm_model.clone().unwrap_or_default();
    let Some(body) = body_for(state, &sel, &model) else {
        state.push_message(Level::Info, nothing_to_ask(&sel));
        return Vec::new();
    };
    state.preview = Some(body);
    state.mode = Mode::Preview { scroll: 0 };
    Vec::new()
}

/// `esc` on the AI tab with an answer in flight for the selection: stop it. `None` when there is
/// none (esc does what it always does).
pub(super) fn cancel(state: &mut State) -> Option<Vec<Effect>> {
    let sel = state.summaries.selected()?;
    let key = answer_key(sel);
    if state.llm_after_reading.as_ref() == Some(&key) {
        state.llm_after_reading = None;
        state.push_message(Level::Info, "Not asking the LLM: stopped while reading");
        return Some(Vec::new());
    }
    let a = state.llm_answers.get_mut(&key)?;
    if a.state != LlmState::Streaming {
        return None;
    }
    a.state = LlmState::Cancelled;
    state.push_message(Level::Info, "Stopped the LLM's answer");
    Some(vec![Effect::Llm(LlmEffect::Cancel { key })])
}

pub(super) fn on_event(state: &mut State, ev: LlmEvent) -> Vec<Effect> {
    let key = match &ev {
        LlmEvent::Delta { key, .. } | LlmEvent::Done { key, .. } | LlmEvent::Failed { key, .. } => {
            key.clone()
        }
    };
    // A server that refuses structured output is asked again without it (the body changes, and
    // `p` shows the new one).
    if let LlmEvent::Failed {
        format_refused: true,
        ..
    } = &ev
        && state.llm_json_object
        && state
            .llm_answers
            .get(&key)
            .is_some_and(|a| a.state == LlmState::Streaming)
    {
        state.llm_json_object = false;
        let summary = state
            .summaries
            .items
            .iter()
            .find(|s| answer_key(s) == key)
            .cloned();
        let model = state.llm_answers.get(&key).map(|a| a.model.clone());
        if let (Some(s), Some(model)) = (summary, model)
            && let Some(body) = body_for(state, &s, &model)
        {
            state.push_message(
                Level::Info,
                format!(
                    "{model} refused response_format: asking again with the JSON in the prompt only"
                ),
            );
            return vec![Effect::Llm(LlmEffect::Ask { key, body })];
        }
    }
    let Some(a) = state.llm_answers.get_mut(&key) else {
        return Vec::new();
    };
    // Only an answer in flight takes pieces: a stopped or finished one is left as it is.
    if a.state != LlmState::Streaming {
        return Vec::new();
    }
    match ev {
        LlmEvent::Delta { text, .. } => {
            if a.text.len() < MAX_ANSWER_CHARS {
                a.text.push_str(&text);
            }
        }
        LlmEvent::Done { cached, .. } => a.state = LlmState::Done { cached },
        LlmEvent::Failed { error, .. } => {
            a.state = LlmState::Failed(crate::sanitize::clean(&error));
        }
    }
    if a.state != LlmState::Streaming {
        state.recompute_summaries();
    }
    state.dirty = true;
    Vec::new()
}

/// The summaries with the LLM's finished answers laid over the builtin ones: the model's
/// headline and its name as the source, its summary and next steps first in the detail, the
/// builtin's below. An answer about a subject that changed since is stale: the builtin stays.
pub fn overlay(
    summaries: &mut [Summary],
    answers: &HashMap<String, LlmAnswer>,
    bases: &HashMap<String, String>,
    now: time::OffsetDateTime,
) {
    for s in summaries.iter_mut() {
        let key = answer_key(s);
        let Some(a) = answers.get(&key) else {
            continue;
        };
        let age = crate::fmt::fmt_age((now - a.asked_at).whole_seconds());
        if bases.get(&key) != Some(&a.basis) {
            s.detail.insert(
                0,
                format!(
                    "{}'s answer ({age} ago) is stale: the subject changed since — s asks again.",
                    a.model
                ),
            );
            continue;
        }
        let LlmState::Done { cached } = a.state else {
            continue;
        };
        match prompt::parse_answer(&a.text) {
            Ok(ans) => {
                let builtin = std::mem::take(&mut s.detail);
                let old = std::mem::replace(&mut s.headline, ans.headline.clone());
                s.analyzer = format!("{} {age}", a.model);
                s.detail.push(format!(
                    "{} ({}, {age} ago{}) — {} confidence; text to read, it acts on nothing:",
                    a.model,
                    "LLM",
                    if cached { ", from the cache" } else { "" },
                    ans.confidence.as_str()
                ));
                s.detail.push(ans.summary.clone());
                s.detail
                    .extend(ans.next_steps.iter().map(|n| format!("Next (model): {n}")));
                s.detail.push(String::new());
                s.detail.push(format!("builtin: {old}"));
                s.detail.extend(builtin);
            }
            Err(e) => {
                s.detail.insert(
                    0,
                    format!(
                        "{}'s answer could not be read ({e}); the builtin summary stands.",
                        a.model
                    ),
                );
            }
        }
    }
}
