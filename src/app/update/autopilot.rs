//! The autopilot: for services that have it, approve the held deployment on PROCEED in the promote
//! band (and only when the approval guard says PROCEED for every service the deployment belongs
//! to), and roll back on ROLLBACK. Once per situation; never in read-only. Every decision is logged
//! and goes through the same path (guards, audit) as the operator's changes.

use super::changes::{execute, review_change};
use crate::analysis::canary::{Band, Verdict};
use crate::app::change::{Confirm, Review};
use crate::app::guard::approval_guard;
use crate::app::msg::Effect;
use crate::app::state::{Level, State};
use crate::domain::{ServiceRollout, SourceId};

pub(super) fn run(state: &mut State) -> Vec<Effect> {
    // Never on data from the on-disk store: the judge's verdicts must be live.
    if state.read_only || state.cached(SourceId::Prometheus) {
        return Vec::new();
    }
    let mut fx = Vec::new();
    let services: Vec<ServiceRollout> = state
        .rollouts
        .items
        .iter()
        .filter(|r| state.autopilot || r.autopilot)
        .cloned()
        .collect();
    for r in services {
        let Some(j) = state.judgement(&r.name).cloned() else {
            continue;
        };
        match j.verdict {
            // An approval also needs the held run as GitHub says it is now.
            Verdict::Proceed if j.band == Band::Promote && !state.cached(SourceId::GitHub) => {
                let Some(run) = state.held_run(&r).cloned() else {
                    continue;
                };
                let key = format!("approve:{}:{}", run.repo, run.id);
                if state.autopilot_done.contains(&key)
                    || state
                        .changes_in_flight
                        .contains(&format!("{}/runs/{}", run.repo, run.id))
                {
                    continue;
                }
                // Every service the deployment belongs to must say PROCEED, live (app::guard).
                let guard = approval_guard(state, &run);
                if let Some(why) = guard.override_reason() {
                    // Logged once per run and set of verdicts (not per score).
                    let against: Vec<String> = guard
                        .verdicts
                        .iter()
                        .filter(|v| !v.proceed())
                        .map(|v| format!("{}={:?}", v.service, v.verdict))
                        .collect();
                    let held = format!("held:{}:{}:{}", run.repo, run.id, against.join(","));
                    if state.autopilot_done.insert(held) {
                        let note = format!(
                            "autopilot does not approve {} to {}: {why}",
                            r.name, r.environment
                        );
                        state.autopilot_log.push((state.now, note.clone()));
                        state.push_message(Level::Warn, note);
                    }
                    continue;
                }
                state.autopilot_done.insert(key);
                let note = format!(
                    "autopilot approves {} to {}: PROCEED, score {:.2} ({})",
                    r.name, r.environment, j.score, j.summary
                );
                state.autopilot_log.push((state.now, note.clone()));
                state.push_message(Level::Info, note.clone());
                let change = review_change(state, &run, Review::Approve);
                fx.extend(execute(
                    state,
                    Confirm::new(change, &format!("flightdeck {note}")),
                ));
            }
            Verdict::Rollback => {
                let key = format!(
                    "rollback:{}:{}",
                    r.name,
                    r.slice_since.map(|t| t.unix_timestamp()).unwrap_or(0)
                );
                if state.autopilot_done.contains(&key) {
                    continue;
                }
                state.autopilot_done.insert(key);
                let note = format!(
                    "autopilot rolls back {} in {}: ROLLBACK ({})",
                    r.name, r.environment, j.summary
                );
                state.autopilot_log.push((state.now, note.clone()));
                state.push_message(Level::Warn, note);
                fx.extend(super::rollback::rollback_service(state, &r.name, true));
            }
            _ => {}
        }
    }
    fx
}
