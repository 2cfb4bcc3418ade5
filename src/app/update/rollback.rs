//! Rollback: `R` (or the autopilot) asks for the service's deployed revisions, then fills the
//! rollback's template and opens the confirmation (a production service takes its typed name).

use super::changes::execute;
use crate::app::change::{Change, Confirm, RollbackTarget};
use crate::app::msg::{Effect, Fetch};
use crate::app::plan::{RollbackVia, ServicePlan};
use crate::app::state::{Level, Mode, State};
use crate::app::tab::Tab;
use crate::domain::{DeployedRevisions, SourceError};
use std::collections::BTreeMap;

/// `R`: ask for the revisions of the selected service; the confirmation opens when they are known.
pub fn start_rollback(state: &mut State, auto: bool) -> Vec<Effect> {
    if state.read_only {
        state.push_message(
            Level::Warn,
            "Read-only: rollback is disabled (started with --readonly or read_only = true)",
        );
        return Vec::new();
    }
    if state.tab != Tab::Rollouts && !auto {
        state.push_message(
            Level::Warn,
            "rollback acts on a service: switch to Rollouts (3)",
        );
        return Vec::new();
    }
    let Some(r) = state.rollouts.selected().cloned() else {
        state.push_message(Level::Warn, "No service selected");
        return Vec::new();
    };
    rollback_service(state, &r.name, auto)
}

/// Start the rollback of a named service (from `R` or the autopilot).
pub fn rollback_service(state: &mut State, name: &str, auto: bool) -> Vec<Effect> {
    let Some(svc) = state.services.iter().find(|s| s.name == name).cloned() else {
        return Vec::new();
    };
    if svc.rollback.is_none() {
        state.push_message(
            Level::Warn,
            format!(
                "{name} has no rollback target: add [service.rollback] with workflow = \"…\" or command = [\"…\"]"
            ),
        );
        return Vec::new();
    }
    let key = format!("service/{name}");
    if state.changes_in_flight.contains(&key) {
        state.push_message(
            Level::Warn,
            format!("A change to {name} is already being sent; wait for its result"),
        );
        return Vec::new();
    }
    state.push_message(
        Level::Info,
        format!("Looking up the last good deployment of {name}…"),
    );
    vec![Effect::Fetch(Fetch::Revisions {
        service: name.to_string(),
        repo: svc.repo.clone(),
        environment: svc.environment.clone(),
        auto,
    })]
}

/// Fill `{service}`, `{environment}`, `{last_good_sha}`, `{last_good_ref}` and `{current_sha}`.
fn fill(template: &str, svc: &ServicePlan, rev: &DeployedRevisions) -> Result<String, String> {
    let mut out = template
        .replace("{service}", &svc.name)
        .replace("{environment}", &svc.environment);
    for (key, value) in [
        ("{last_good_sha}", &rev.last_good),
        ("{last_good_ref}", &rev.last_good_ref),
        ("{current_sha}", &rev.current),
    ] {
        if out.contains(key) {
            match value {
                Some(v) => out = out.replace(key, v),
                None => {
                    return Err(format!(
                        "{key} is unknown: no successful deployment of {} to {} was found",
                        svc.name, svc.environment
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Where the rollback goes, with its placeholders filled.
fn target(svc: &ServicePlan, rev: &DeployedRevisions) -> Result<RollbackTarget, String> {
    match (&svc.rollback, &svc.repo) {
        (
            Some(RollbackVia::Workflow {
                workflow,
                git_ref,
                inputs,
            }),
            Some(repo),
        ) => {
            let inputs = inputs
                .iter()
                .map(|(k, v)| Ok((k.clone(), fill(v, svc, rev)?)))
                .collect::<Result<BTreeMap<_, _>, String>>()?;
            Ok(RollbackTarget::Workflow {
                repo: repo.clone(),
                workflow: workflow.clone(),
                git_ref: git_ref.clone(),
                inputs,
            })
        }
        (Some(RollbackVia::Workflow { .. }), None) => {
            Err("a workflow rollback needs `repo` on the service".into())
        }
        (Some(RollbackVia::Command { argv }), _) => Ok(RollbackTarget::Command {
            argv: argv
                .iter()
                .map(|a| fill(a, svc, rev))
                .collect::<Result<_, _>>()?,
        }),
        (None, _) => Err("no rollback is configured".into()),
    }
}

pub(super) fn on_revisions(
    state: &mut State,
    name: &str,
    auto: bool,
    result: Result<DeployedRevisions, SourceError>,
) -> Vec<Effect> {
    let Some(svc) = state.services.iter().find(|s| s.name == name).cloned() else {
        return Vec::new();
    };
    let rev = match result {
        Ok(r) => r,
        Err(e) => {
            state.push_message(
                Level::Error,
                format!("Rollback of {name}: cannot read its deployments: {e}"),
            );
            return Vec::new();
        }
    };
    let target = match target(&svc, &rev) {
        Ok(t) => t,
        Err(e) => {
            state.push_message(Level::Error, format!("Rollback of {name}: {e}"));
            return Vec::new();
        }
    };
    let weight = state
        .rollouts
        .items
        .iter()
        .find(|r| r.name == name)
        .and_then(|r| r.weight);
    let short = |s: &str| s.chars().take(12).collect::<String>();
    let from = match (&rev.current, weight) {
        (Some(sha), Some(w)) => format!("{} (canary at {w:.0} %)", short(sha)),
        (Some(sha), None) => short(sha),
        (None, Some(w)) => format!("the canary at {w:.0} %"),
        (None, None) => "the current revision".into(),
    };
    let to = rev
        .last_good
        .as_deref()
        .map(|s| format!("{} (last successful deployment)", short(s)))
        .unwrap_or_else(|| "the stable revision".into());
    let change = Change::Rollback {
        service: name.to_string(),
        environment: svc.environment.clone(),
        production: svc.production,
        from,
        to,
        target,
        reason: state
            .judgement(name)
            .map(|j| j.summary.clone())
            .unwrap_or_default(),
    };
    if auto {
        return execute(state, Confirm::new(change, ""));
    }
    let mut c = Confirm::new(change, "");
    if svc.production {
        c = c.requiring(name, "Production rollback");
    }
    state.mode = Mode::Confirm(Box::new(c));
    Vec::new()
}
