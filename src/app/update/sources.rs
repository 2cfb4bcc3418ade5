//! Poll results and the clock: tables replaced in place (selection kept), the judge run on every
//! new Prometheus reading, freshness labels, errors kept typed.

use crate::analysis;
use crate::analysis::canary::Verdict;
use crate::app::Effect;
use crate::app::keymap::Action;
use crate::app::msg::SourceEvent;
use crate::app::state::{Level, RollbackCalled, State, describe_error};
use crate::domain::{SourceData, SourceError, SourceId};
use std::collections::HashMap;
use time::OffsetDateTime;

pub(super) fn on_tick(state: &mut State, now: OffsetDateTime) -> Vec<crate::app::Effect> {
    let before: Vec<String> = SourceId::ALL.iter().map(|&s| state.freshness(s)).collect();
    let had_message = state.current_message().is_some();
    let old_minute = state.now.unix_timestamp() / 60;
    state.now = now;
    let after: Vec<String> = SourceId::ALL.iter().map(|&s| state.freshness(s)).collect();
    if before != after
        || had_message != state.current_message().is_some()
        || old_minute != now.unix_timestamp() / 60
    {
        state.dirty = true;
    }
    Vec::new()
}

pub(super) fn on_source(state: &mut State, ev: SourceEvent) {
    match ev {
        SourceEvent::Started(id) => state.source_mut(id).in_flight = true,
        SourceEvent::Loaded {
            source,
            result,
            fetched_at,
        } => on_loaded(state, source, result, fetched_at),
        SourceEvent::Restored {
            source,
            data,
            fetched_at,
        } => on_restored(state, source, data, fetched_at),
    }
}

/// Every verdict that changed on live data since the last poll (or is the first), kept for the
/// audit log with its reasons.
fn note_verdict_changes(state: &mut State) {
    let mut changes = Vec::new();
    for r in &state.rollouts.items {
        let Some(j) = state.judgements.get(&r.name) else {
            continue;
        };
        // The rollout the ROLLBACK was called in is over once the canary's weight drops, or once
        // the poll shows a rollout that began at another moment (a new rollout that reached the
        // old one's weight between two polls); a call restored from the audit log stays only
        // when the first live poll shows the same rollout.
        if let Some(called) = state.rollbacks_called.get_mut(&r.name) {
            let over = r
                .weight
                .is_some_and(|w| w <= 0.0 || called.weight.is_some_and(|then| w < then - 0.5))
                || matches!((called.began, r.rollout_began), (Some(then), Some(now)) if then != now)
                || (called.restored && r.rollout_began != called.began);
            if over {
                state.rollbacks_called.remove(&r.name);
            } else {
                called.restored = false;
            }
        }
        if j.verdict == Verdict::Rollback && r.weight.is_none_or(|w| w > 0.0) {
            state
                .rollbacks_called
                .entry(r.name.clone())
                .or_insert_with(|| RollbackCalled {
                    at: r.read_at.unwrap_or(state.now),
                    weight: r.weight,
                    // Kept for display: cleaned as it is stored.
                    summary: crate::sanitize::clean(&j.summary),
                    began: r.rollout_began,
                    restored: false,
                });
        }
        let before = state.live_verdicts.insert(r.name.clone(), j.verdict);
        if before != Some(j.verdict) {
            changes.push(crate::app::msg::VerdictChange {
                service: r.name.clone(),
                environment: r.environment.clone(),
                from: before,
                to: j.verdict,
                score: j.score,
                weight: r.weight,
                reasons: j.reasons.clone(),
                summary: j.summary.clone(),
                rollout_began: r.rollout_began,
            });
        }
    }
    state.verdict_changes.extend(changes);
}

/// A deployment that started waiting for approval since the last poll is said on every tab
/// (not on the first poll: the Runs tab lists those already waiting). The operator may be the
/// one to approve it; `a` on the Runs tab does, behind the judge.
fn say_new_approvals(state: &mut State, before: &std::collections::HashSet<(u64, u64)>) {
    let (show, approve) = (
        key_of(state, Action::TabRuns),
        key_of(state, Action::Approve),
    );
    let new: Vec<String> = state
        .runs
        .items
        .iter()
        .flat_map(|r| r.pending.iter().map(move |p| (r, p)))
        .filter(|(r, p)| !before.contains(&(r.id, p.environment_id)))
        .map(|(r, p)| {
            format!(
                "{} {} #{} waits for approval in {}{}",
                r.repo,
                r.workflow,
                r.run_number,
                p.environment,
                if p.can_approve {
                    format!(" — {show} shows it, {approve} approves")
                } else {
                    " (not yours to approve)".to_string()
                }
            )
        })
        .collect();
    for text in new {
        state.push_message(Level::Warn, crate::sanitize::clean(&text));
    }
}

/// The first key bound to `a` (as the help shows it), or its name when none is.
fn key_of(state: &State, a: Action) -> String {
    state
        .keymap
        .first_key(a)
        .unwrap_or_else(|| format!(":{}", a.name()))
}

/// A service that turned ROLLBACK in this poll is said on every tab (the message bar, with the
/// judgement's one line) and rings the terminal's bell unless `bell = false`: an operator on
/// another tab, or in another window, hears of it the poll it happens.
pub(super) fn alert_rollbacks(
    state: &mut State,
    changes: &[crate::app::msg::VerdictChange],
) -> Vec<Effect> {
    let turned: Vec<&crate::app::msg::VerdictChange> = changes
        .iter()
        .filter(|c| c.to == Verdict::Rollback && c.from != Some(Verdict::Rollback))
        .collect();
    let show = key_of(state, Action::TabRollouts);
    for c in &turned {
        let weight = c
            .weight
            .map(|w| format!(" at {w:.0} %"))
            .unwrap_or_default();
        state.push_message(
            Level::Error,
            crate::sanitize::clean(&format!(
                "{} ({}){weight}: {} — {show} shows it",
                c.service, c.environment, c.summary
            )),
        );
    }
    if !turned.is_empty() && state.bell {
        vec![Effect::Terminal(crate::app::msg::TerminalEffect::Bell)]
    } else {
        Vec::new()
    }
}

/// ROLLBACKs called in earlier runs, from the audit log (oldest first): the newest of each
/// service kept as its call unless this run has one of its own, until a live poll shows the
/// rollout over or another one.
pub(super) fn on_rollbacks_called(state: &mut State, calls: Vec<crate::domain::RollbackCall>) {
    for c in calls {
        if state
            .rollbacks_called
            .get(&c.service)
            .is_some_and(|own| !own.restored)
        {
            continue;
        }
        let called = RollbackCalled::from_record(&c);
        state.rollbacks_called.insert(c.service, called);
    }
}

/// Data from the on-disk store: as a poll that answered at `fetched_at`, unless a poll already
/// did (then the cache is older than what is shown). An error a poll already reported stays.
fn on_restored(state: &mut State, source: SourceId, data: SourceData, fetched_at: OffsetDateTime) {
    let s = state.source(source);
    if !s.configured || s.last_ok.is_some() {
        return;
    }
    let data = match data {
        // The repositories that failed back then are not news now.
        SourceData::GitHub {
            prs,
            runs,
            rate,
            graphql_rate,
            failed: _,
            slowed: _,
        } => SourceData::GitHub {
            prs,
            runs,
            rate,
            graphql_rate,
            failed: Vec::new(),
            slowed: None,
        },
        other => other,
    };
    let s = state.source_mut(source);
    let error = (s.last_error.take(), s.last_error_at);
    let in_flight = s.in_flight;
    on_loaded(state, source, Ok(data), fetched_at);
    // Verdicts on cached data are not verdict changes: the first live poll gives them.
    if source == SourceId::Prometheus {
        state.verdict_changes.clear();
        state.live_verdicts.clear();
    }
    let s = state.source_mut(source);
    s.in_flight = in_flight;
    (s.last_error, s.last_error_at) = error;
    s.cached_at = Some(fetched_at);
    state.dirty = true;
}

fn on_loaded(
    state: &mut State,
    source: SourceId,
    result: Result<SourceData, SourceError>,
    fetched_at: OffsetDateTime,
) {
    if fetched_at > state.now {
        state.now = fetched_at;
    }
    let height = state.list_height();
    let before = state.source(source).clone();
    match result {
        Ok(data) => {
            let changed = match data {
                SourceData::GitHub {
                    mut prs,
                    mut runs,
                    rate,
                    graphql_rate,
                    failed,
                    slowed,
                } => {
                    // A repository this poll could not read keeps its last good rows.
                    for f in &failed {
                        prs.extend(state.prs.items.iter().filter(|p| p.repo == f.repo).cloned());
                        runs.extend(
                            state
                                .runs
                                .items
                                .iter()
                                .filter(|r| r.repo == f.repo)
                                .cloned(),
                        );
                    }
                    if !failed.is_empty() {
                        runs.sort_by_key(|r| std::cmp::Reverse(r.started_at));
                    }
                    let newly: Vec<String> = failed
                        .iter()
                        .filter(|f| !state.failed_repos.contains(f))
                        .map(|f| format!("{}: {}", f.repo, describe_error(&f.error, fetched_at)))
                        .collect();
                    for text in newly {
                        state.push_message(
                            Level::Warn,
                            format!("GitHub: {text} (showing its last good data)"),
                        );
                    }
                    let waiting_before: std::collections::HashSet<(u64, u64)> = state
                        .runs
                        .items
                        .iter()
                        .flat_map(|r| r.pending.iter().map(move |p| (r.id, p.environment_id)))
                        .collect();
                    let first_load = !before.loaded;
                    let a = state.prs.replace(prs, height);
                    let b = state.runs.replace(runs, height);
                    if !first_load {
                        say_new_approvals(state, &waiting_before);
                    }
                    let c = state.rate != rate
                        || state.graphql_rate != graphql_rate
                        || state.failed_repos != failed
                        || state.slowed != slowed;
                    state.rate = rate;
                    state.graphql_rate = graphql_rate;
                    state.slowed = slowed;
                    state.failed_repos = failed;
                    a || b || c
                }
                SourceData::Prometheus(r) => {
                    let changed = state.rollouts.replace(r, height);
                    if changed {
                        let policy = state.policy;
                        let new: HashMap<String, analysis::canary::Judgement> = state
                            .rollouts
                            .items
                            .iter()
                            .map(|r| (r.name.clone(), analysis::rollout::judge_service(r, &policy)))
                            .collect();
                        // What moved the confidence: the judgement before the last change.
                        for (name, j) in &new {
                            if let Some(old) = state.judgements.get(name)
                                && (old.score != j.score || old.verdict != j.verdict)
                            {
                                state.previous_judgements.insert(name.clone(), old.clone());
                            }
                        }
                        state.judgements = new;
                    }
                    note_verdict_changes(state);
                    changed
                }
                SourceData::Sentry(i) => state.incidents.replace(i, height),
            };
            let changed = state.order_incidents(height) || changed;
            let s = state.source_mut(source);
            s.in_flight = false;
            s.loaded = true;
            s.last_ok = Some(fetched_at);
            s.last_error = None;
            if before.last_error.is_some() {
                state.push_message(Level::Info, format!("{} recovered", source.label()));
            }
            if changed {
                state.recompute_summaries();
            }
            let label_changed = !before.loaded || before.last_error.is_some();
            if changed || label_changed {
                state.dirty = true;
            }
        }
        Err(e) => {
            let text = describe_error(&e, fetched_at);
            let s = state.source_mut(source);
            s.in_flight = false;
            s.last_error_at = Some(fetched_at);
            let new_error = s.last_error.as_ref() != Some(&e);
            s.last_error = Some(e);
            if new_error {
                let kept = if before.loaded {
                    " (showing the last good data)"
                } else {
                    ""
                };
                state.push_message(Level::Error, format!("{}: {text}{kept}", source.label()));
            }
        }
    }
}
