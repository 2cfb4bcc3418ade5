//! Resolving or ignoring the selected incident in Sentry: confirmed (focus on No), refused in
//! read-only, one change per issue at a time, audited by the executor like every remote change.

use crate::app::change::{Change, Confirm, IssueStatus};
use crate::app::msg::Effect;
use crate::app::state::{Level, Mode, State};
use crate::app::tab::Tab;

pub(super) fn start_status(state: &mut State, status: IssueStatus) -> Vec<Effect> {
    if state.tab != Tab::Incidents {
        state.push_message(
            Level::Warn,
            format!(
                "{} works on an incident: select one on the Incidents tab",
                status.verb()
            ),
        );
        return Vec::new();
    }
    let Some(inc) = state.incidents.selected().cloned() else {
        state.push_message(Level::Warn, "No incident selected");
        return Vec::new();
    };
    if state.read_only {
        state.push_message(
            Level::Warn,
            format!("Read-only: {} cannot be changed in Sentry", inc.short_id),
        );
        return Vec::new();
    }
    let change = Change::IncidentStatus {
        project: inc.project.clone(),
        issue_id: inc.id.clone(),
        short_id: inc.short_id.clone(),
        title: inc.title.clone(),
        status,
    };
    if state.changes_in_flight.contains(&change.target_key()) {
        state.push_message(
            Level::Warn,
            format!(
                "A change to {} is already being sent; wait for its result",
                inc.short_id
            ),
        );
        return Vec::new();
    }
    state.mode = Mode::Confirm(Box::new(Confirm::new(change, "")));
    Vec::new()
}
