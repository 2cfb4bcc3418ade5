//! On-demand data: a run's jobs, a PR's files and an incident's latest event when the detail pane
//! shows them, a job's log in the log view; and the log view's keys.

use crate::app::keymap::Action;
use crate::app::logview::LogView;
use crate::app::msg::{Effect, Fetch, Fetched};
use crate::app::state::{Loadable, Mode, State};
use crate::app::tab::Tab;
use crate::domain::{Job, RunState, SourceError};
use crossterm::event::{KeyCode, KeyEvent};
use time::OffsetDateTime;

fn failed<T>(e: &SourceError) -> Loadable<T> {
    Loadable::Failed(crate::sanitize::clean(&e.to_string()))
}

/// Fetch what the visible detail pane needs and does not have yet.
pub(super) fn effects(state: &mut State) -> Vec<Effect> {
    if !state.detail || state.mode != Mode::Normal {
        return Vec::new();
    }
    match state.tab {
        Tab::Runs => {
            let Some(run) = state.runs.selected() else {
                return Vec::new();
            };
            let (repo, id, updated) = (run.repo.clone(), run.id, run.updated_at);
            request_jobs(state, repo, id, updated)
        }
        Tab::Prs => {
            let Some(pr) = state.prs.selected() else {
                return Vec::new();
            };
            let key = format!("{}#{}", pr.repo, pr.number);
            let (repo, number, updated) = (pr.repo.clone(), pr.number, pr.updated_at);
            let fresh = state
                .pr_files
                .get(&key)
                .is_some_and(|(u, l)| *u == updated && !matches!(l, Loadable::Failed(_)));
            if fresh {
                return Vec::new();
            }
            state.pr_files.insert(key, (updated, Loadable::Loading));
            vec![Effect::Fetch(Fetch::PrFiles { repo, number })]
        }
        Tab::Incidents => {
            let Some(i) = state.incidents.selected().cloned() else {
                return Vec::new();
            };
            incident_effects(state, &i)
        }
        Tab::Ai => {
            // A failed run's summary: analyse its failed job's log (against the last green one).
            let Some(sel) = state.summaries.selected() else {
                return Vec::new();
            };
            if sel.kind == crate::domain::SummaryKind::Dora {
                return request_dora(state);
            }
            if sel.kind == crate::domain::SummaryKind::Incident {
                let subject = sel.subject.clone();
                let Some(i) = state
                    .incidents
                    .items
                    .iter()
                    .find(|i| crate::ai::summaries::incident_subject(i) == subject)
                    .cloned()
                else {
                    return Vec::new();
                };
                return incident_effects(state, &i);
            }
            if sel.kind != crate::domain::SummaryKind::Run {
                return Vec::new();
            }
            let subject = sel.subject.clone();
            let Some(run) = state
                .runs
                .items
                .iter()
                .find(|r| crate::ai::summaries::run_subject(r) == subject)
                .cloned()
            else {
                return Vec::new();
            };
            if run.state != RunState::Failure {
                return Vec::new();
            }
            match state.jobs.get(&run.id).map(|(_, l)| l) {
                Some(Loadable::Ready(_)) => request_analysis(state, run.id),
                Some(Loadable::Loading) => Vec::new(),
                _ => request_jobs(state, run.repo.clone(), run.id, run.updated_at),
            }
        }
        _ => Vec::new(),
    }
}

/// How long the DORA metrics read stay fresh (they move by the day).
const DORA_FRESH_SECS: i64 = 600;

/// Read the DORA metrics unless a fresh read is known or one is in flight.
fn request_dora(state: &mut State) -> Vec<Effect> {
    let Some(scope) = state.dora_scope.clone() else {
        return Vec::new();
    };
    let fresh = match &state.dora {
        Some((_, Loadable::Loading)) => true,
        Some((at, Loadable::Ready(_))) => (state.now - *at).whole_seconds() < DORA_FRESH_SECS,
        Some((_, Loadable::Failed(_))) | None => false,
    };
    if fresh {
        return Vec::new();
    }
    state.dora = Some((state.now, Loadable::Loading));
    state.recompute_summaries();
    vec![Effect::Fetch(Fetch::Dora(scope))]
}

/// Analyse the first failed job of run `run_id` (its jobs known), once.
fn request_analysis(state: &mut State, run_id: u64) -> Vec<Effect> {
    if state
        .run_analysis
        .get(&run_id)
        .is_some_and(|l| !matches!(l, Loadable::Failed(_)))
    {
        return Vec::new();
    }
    let Some(run) = state.runs.items.iter().find(|r| r.id == run_id) else {
        return Vec::new();
    };
    let Some(Loadable::Ready(jobs)) = state.jobs.get(&run_id).map(|(_, l)| l) else {
        return Vec::new();
    };
    let Some(job) = jobs.iter().find(|j| j.state == RunState::Failure) else {
        return Vec::new();
    };
    let fetch = Fetch::Analyze {
        repo: run.repo.clone(),
        run_id,
        workflow: run.workflow.clone(),
        job_id: job.id,
        job: job.name.clone(),
    };
    state.run_analysis.insert(run_id, Loadable::Loading);
    while state.run_analysis.len() > crate::app::state::MAX_RUN_ANALYSES {
        state.run_analysis.pop_first();
    }
    vec![Effect::Fetch(fetch)]
}

/// An incident's latest event, then its suspected change, once per `last_seen`.
fn incident_effects(state: &mut State, i: &crate::domain::Incident) -> Vec<Effect> {
    // Once per `last_seen`: a newer event can only exist when the issue was seen again
    // (a failure is retried then too).
    if let Some((seen, known)) = state.incident_events.get(&i.id)
        && seen == i.last_seen
    {
        // The event is known: its suspected change may still be wanted (after `r`);
        // nothing is copied on the keys that find it known.
        let Loadable::Ready(e) = known else {
            return Vec::new();
        };
        if state
            .incident_suspects
            .get(&i.id)
            .is_some_and(|(seen, _)| seen == i.last_seen)
        {
            return Vec::new();
        }
        let event = Some(Box::new(e.clone()));
        let inc = i.clone();
        return request_suspects(state, &inc, event);
    }
    let fetch = Fetch::IncidentEvent {
        issue_id: i.id.clone(),
        short_id: i.short_id.clone(),
        url: i.url.clone(),
    };
    let (id, seen) = (i.id.clone(), i.last_seen);
    // The suspected change is looked up again with this event's frames.
    state.incident_suspects.remove(&id);
    state.incident_events.insert(id, seen, Loadable::Loading);
    vec![Effect::Fetch(fetch)]
}

/// Ask for the suspected change of `inc` (its latest `event` when known), once per `last_seen`.
fn request_suspects(
    state: &mut State,
    inc: &crate::domain::Incident,
    event: Option<Box<crate::domain::IncidentEvent>>,
) -> Vec<Effect> {
    if state
        .incident_suspects
        .get(&inc.id)
        .is_some_and(|(seen, _)| seen == inc.last_seen)
    {
        return Vec::new();
    }
    state
        .incident_suspects
        .insert(inc.id.clone(), inc.last_seen, Loadable::Loading);
    vec![Effect::Fetch(Fetch::Suspects {
        incident: Box::new(inc.clone()),
        event,
    })]
}

/// Ask for a run's jobs unless they are known for the run's current state.
fn request_jobs(
    state: &mut State,
    repo: String,
    run_id: u64,
    updated: Option<OffsetDateTime>,
) -> Vec<Effect> {
    let fresh = state
        .jobs
        .get(&run_id)
        .is_some_and(|(u, l)| *u == updated && !matches!(l, Loadable::Failed(_)));
    if fresh {
        return Vec::new();
    }
    state.jobs.insert(run_id, (updated, Loadable::Loading));
    vec![Effect::Fetch(Fetch::Jobs { repo, run_id })]
}

pub(super) fn on_fetched(state: &mut State, f: Fetched) -> Vec<Effect> {
    match f {
        Fetched::Jobs { run_id, result, .. } => on_jobs(state, run_id, result),
        Fetched::TestDraft { issue_id, result } => {
            super::testpr::on_prepared(state, issue_id, result)
        }
        Fetched::PrFiles {
            repo,
            number,
            result,
        } => {
            let key = format!("{repo}#{number}");
            if let Some(entry) = state.pr_files.get_mut(&key) {
                entry.1 = match result {
                    Ok(f) => Loadable::Ready(f),
                    Err(e) => failed(&e),
                };
                // The PR's risk now scores its paths.
                state.recompute_summaries();
                state.dirty = true;
            }
            Vec::new()
        }
        Fetched::Log { job_id, result } => {
            if let Some(log) = &mut state.log
                && log.job.as_ref().is_some_and(|(id, _)| *id == job_id)
            {
                log.content = match result {
                    Ok(t) => Loadable::Ready(t),
                    Err(e) => failed(&e),
                };
                // Start at the lines that matter.
                log.scroll = 0;
                state.dirty = true;
            }
            Vec::new()
        }
        Fetched::Revisions {
            service,
            auto,
            result,
        } => super::rollback::on_revisions(state, &service, auto, result),
        Fetched::IncidentEvent { issue_id, result } => {
            let event = result.as_ref().ok().cloned();
            let value = match result {
                Ok(e) => Loadable::Ready(*e),
                Err(e) => failed(&e),
            };
            if !state.incident_events.answer(&issue_id, value) {
                return Vec::new();
            }
            state.recompute_summaries();
            state.dirty = true;
            // With the event's frames known, look for the change that caused it (once per
            // `last_seen`, like the event).
            let Some(inc) = state
                .incidents
                .items
                .iter()
                .find(|i| i.id == issue_id)
                .cloned()
            else {
                return Vec::new();
            };
            request_suspects(state, &inc, event)
        }
        Fetched::Dora { result } => {
            if let Some((_, slot)) = &mut state.dora {
                *slot = match result {
                    Ok(v) => Loadable::Ready(v),
                    Err(e) => failed(&e),
                };
                state.recompute_summaries();
                state.dirty = true;
            }
            Vec::new()
        }
        Fetched::Analyzed { run_id, result } => {
            if let Some(slot) = state.run_analysis.get_mut(&run_id) {
                *slot = match result {
                    Ok(a) => Loadable::Ready(a),
                    Err(e) => failed(&e),
                };
                state.recompute_summaries();
                state.dirty = true;
            }
            Vec::new()
        }
        Fetched::Suspects { issue_id, result } => {
            let value = match result {
                Ok(s) => Loadable::Ready(s),
                Err(e) => failed(&e),
            };
            if state.incident_suspects.answer(&issue_id, value) {
                state.recompute_summaries();
                state.dirty = true;
            }
            Vec::new()
        }
    }
}

fn on_jobs(state: &mut State, run_id: u64, result: Result<Vec<Job>, SourceError>) -> Vec<Effect> {
    let Some(entry) = state.jobs.get_mut(&run_id) else {
        return Vec::new();
    };
    entry.1 = match result {
        Ok(j) => Loadable::Ready(j),
        Err(e) => failed(&e),
    };
    state.dirty = true;
    // A log view waiting for this run's jobs can now ask for the log.
    let waiting = state
        .log
        .as_ref()
        .is_some_and(|l| l.run_id == run_id && l.job.is_none());
    if waiting {
        return pick_log_job(state);
    }
    // The AI tab waiting for this run's jobs to analyse its failure.
    effects(state)
}

/// Choose the job whose log to show (the first failed one, else the first), and fetch its log.
fn pick_log_job(state: &mut State) -> Vec<Effect> {
    let Some(log) = &mut state.log else {
        return Vec::new();
    };
    match state.jobs.get(&log.run_id).map(|(_, l)| l) {
        Some(Loadable::Ready(jobs)) => {
            let job = jobs
                .iter()
                .find(|j| j.state == RunState::Failure)
                .or_else(|| jobs.first());
            match job {
                Some(j) => {
                    log.job = Some((j.id, j.name.clone()));
                    log.content = Loadable::Loading;
                    let run_id = log.run_id;
                    let mut fx = vec![Effect::Fetch(Fetch::Log {
                        repo: log.repo.clone(),
                        job_id: j.id,
                    })];
                    // A failed job is analysed too (the AI tab shows why, against the green log).
                    if j.state == RunState::Failure {
                        fx.extend(request_analysis(state, run_id));
                    }
                    fx
                }
                None => {
                    log.content = Loadable::Failed("this run has no jobs".into());
                    Vec::new()
                }
            }
        }
        Some(Loadable::Failed(e)) => {
            log.content = Loadable::Failed(format!("could not list the jobs: {e}"));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// `l`: open the log view of the selected run.
pub(super) fn open_log(state: &mut State) -> Vec<Effect> {
    if state.tab != Tab::Runs {
        state.push_message(crate::app::Level::Warn, "Logs are on the Runs tab (2)");
        return Vec::new();
    }
    let Some(run) = state.runs.selected() else {
        return Vec::new();
    };
    let (repo, id, updated) = (run.repo.clone(), run.id, run.updated_at);
    state.log = Some(LogView {
        repo: repo.clone(),
        run_id: id,
        title: format!("{} · {} #{}", run.repo, run.workflow, run.run_number),
        job: None,
        content: Loadable::Loading,
        scroll: 0,
    });
    state.mode = Mode::Log;
    let mut fx = request_jobs(state, repo, id, updated);
    if fx.is_empty() {
        fx = pick_log_job(state);
    }
    fx
}

pub(super) fn on_log_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let page = state.screen().log_text.height.max(1) as usize;
    let Some(log) = &mut state.log else {
        state.mode = Mode::Normal;
        return Vec::new();
    };
    let max = log.max_scroll(page);
    let action = state.keymap.action_for(&key);
    match (key.code, action) {
        (KeyCode::Esc, _) | (_, Some(Action::Back)) | (KeyCode::Char('q'), _) => {
            state.mode = Mode::Normal;
            state.log = None;
        }
        (_, Some(Action::Quit)) => return super::nav::run_action(state, Action::Quit),
        (_, Some(Action::Down | Action::ScrollDown)) => log.scroll = (log.scroll + 1).min(max),
        (_, Some(Action::Up | Action::ScrollUp)) => log.scroll = log.scroll.saturating_sub(1),
        (_, Some(Action::PageDown)) => log.scroll = (log.scroll + page).min(max),
        (_, Some(Action::PageUp)) => log.scroll = log.scroll.saturating_sub(page),
        (_, Some(Action::Top)) => log.scroll = 0,
        (_, Some(Action::Bottom)) => log.scroll = max,
        (_, Some(Action::Refresh)) => {
            if let Some((job_id, _)) = log.job {
                log.content = Loadable::Loading;
                return vec![Effect::Fetch(Fetch::Log {
                    repo: log.repo.clone(),
                    job_id,
                })];
            }
        }
        _ => {}
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use crate::app::keymap::Keymap;
    use crate::app::msg::{Effect, Fetch, Fetched, Msg};
    use crate::app::state::{EventCache, Loadable, State};
    use crate::app::{Tab, update};
    use crate::domain::{Incident, IncidentEvent, SourceData, SourceError, SourceId};
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    const NOW: OffsetDateTime = datetime!(2026-11-23 09:30:00 UTC);

    fn incident(id: &str, last_seen: OffsetDateTime) -> Incident {
        Incident {
            project: "checkout".into(),
            id: id.into(),
            short_id: format!("CHECKOUT-{id}"),
            title: "ZeroDivisionError: integer division or modulo by zero".into(),
            culprit: "worker.refunds in split_refund".into(),
            level: "error".into(),
            status: "unresolved".into(),
            count: 3,
            user_count: 1,
            first_seen: Some(NOW - Duration::minutes(5)),
            last_seen: Some(last_seen),
            url: format!("https://acme.sentry.io/issues/{id}/"),
            stats: Vec::new(),
        }
    }

    fn polled(s: &mut State, rows: Vec<Incident>) -> Vec<Effect> {
        update(
            s,
            Msg::loaded(SourceId::Sentry, Ok(SourceData::Sentry(rows)), NOW),
        )
    }

    fn fetches(fx: &[Effect]) -> Vec<&Fetch> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Fetch(f @ Fetch::IncidentEvent { .. }) => Some(f),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_shown_incident_asks_for_its_latest_event_once_per_last_seen() {
        let mut s = State::new(Keymap::default(), Vec::new(), NOW);
        s.sources[SourceId::Sentry as usize].configured = true;
        s.tab = Tab::Incidents;
        s.detail = true;
        let first = polled(&mut s, vec![incident("7", NOW - Duration::seconds(30))]);
        assert_eq!(
            fetches(&first),
            vec![&Fetch::IncidentEvent {
                issue_id: "7".into(),
                short_id: "CHECKOUT-7".into(),
                url: "https://acme.sentry.io/issues/7/".into(),
            }]
        );
        assert!(matches!(
            s.incident_events.get("7"),
            Some((_, Loadable::Loading))
        ));
        // The same poll again: no second request while it loads or once it is there.
        assert!(
            fetches(&polled(
                &mut s,
                vec![incident("7", NOW - Duration::seconds(30))]
            ))
            .is_empty()
        );
        let event = IncidentEvent {
            issue_id: "7".into(),
            title: "ZeroDivisionError".into(),
            ..IncidentEvent::default()
        };
        update(
            &mut s,
            Msg::Fetched(Fetched::IncidentEvent {
                issue_id: "7".into(),
                result: Ok(Box::new(event.clone())),
            }),
        );
        assert_eq!(
            s.incident_events.get("7").map(|(_, l)| l),
            Some(&Loadable::Ready(event))
        );
        assert!(
            fetches(&polled(
                &mut s,
                vec![incident("7", NOW - Duration::seconds(30))]
            ))
            .is_empty()
        );
        // Seen again: a newer event exists, ask once more.
        assert_eq!(fetches(&polled(&mut s, vec![incident("7", NOW)])).len(), 1);
        // A failure is shown as the error, in the operator's words.
        update(
            &mut s,
            Msg::Fetched(Fetched::IncidentEvent {
                issue_id: "7".into(),
                result: Err(SourceError::Status {
                    status: 502,
                    message: "bad gateway".into(),
                }),
            }),
        );
        assert_eq!(
            s.incident_events.get("7").map(|(_, l)| l),
            Some(&Loadable::Failed("HTTP 502: bad gateway".into()))
        );
        // Without the detail pane nothing is fetched.
        s.detail = false;
        assert!(fetches(&polled(&mut s, vec![incident("8", NOW)])).is_empty());
    }

    #[test]
    fn the_event_cache_keeps_the_last_fifty_asked_for() {
        let mut c = EventCache::default();
        for n in 0..60 {
            c.insert(n.to_string(), None, Loadable::Loading);
        }
        assert_eq!(c.len(), EventCache::CAPACITY);
        assert!(c.get("9").is_none() && c.get("10").is_some() && c.get("59").is_some());
        // Asking again makes an entry the newest; an answer for a forgotten issue is dropped.
        c.insert("10".into(), None, Loadable::Loading);
        c.insert("60".into(), None, Loadable::Loading);
        assert!(c.get("10").is_some() && c.get("11").is_none());
        assert!(!c.answer("3", Loadable::Failed("late".into())));
        assert!(c.get("3").is_none());
    }
}
