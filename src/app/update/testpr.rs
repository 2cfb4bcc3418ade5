//! `T` on an incident: draft its regression test (fetched and drafted off the UI task), review
//! and edit it in the editor, then confirm the PR like every remote change. Drafting only reads,
//! so it works in read-only mode too; sending is refused there, by the same guard as every change.

use crate::app::change::Confirm;
use crate::app::draft::{DraftEditor, DraftFailure, PreparedDraft};
use crate::app::keymap::Action;
use crate::app::msg::{Effect, Fetch};
use crate::app::state::{Level, Loadable, Mode, State};
use crate::app::tab::Tab;
use crate::domain::Incident;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// `T`: reopen the draft of the selected incident when one is kept, else ask for a new one.
pub(super) fn start(state: &mut State) -> Vec<Effect> {
    if state.tab != Tab::Incidents {
        state.push_message(
            Level::Warn,
            "T drafts a regression test for an incident: select one on the Incidents tab",
        );
        return Vec::new();
    }
    let Some(inc) = state.incidents.selected().cloned() else {
        state.push_message(Level::Warn, "No incident selected");
        return Vec::new();
    };
    if let Some(kept) = &state.draft
        && kept.draft.issue_id == inc.id
    {
        state.mode = Mode::Draft;
        state.push_message(
            Level::Info,
            format!("Your draft for {} (ctrl-r drafts it anew)", inc.short_id),
        );
        return Vec::new();
    }
    redraft(state, inc)
}

fn redraft(state: &mut State, inc: Incident) -> Vec<Effect> {
    let (issue_id, short_id) = (inc.id.clone(), inc.short_id.clone());
    if state.drafting.as_deref() == Some(issue_id.as_str()) {
        state.push_message(
            Level::Info,
            format!("Still drafting the test for {short_id}…"),
        );
        return Vec::new();
    }
    state.drafting = Some(issue_id.clone());
    state.push_message(
        Level::Info,
        format!("Drafting a regression test for {short_id}: reading the event and the repository…"),
    );
    // The event the detail pane shows, when it is the latest one (same `last_seen`).
    let event = match state.incident_events.get(&issue_id) {
        Some((seen, Loadable::Ready(ev))) if seen == inc.last_seen => Some(Box::new(ev.clone())),
        _ => None,
    };
    vec![Effect::Fetch(Fetch::TestDraft {
        incident: Box::new(inc),
        event,
    })]
}

/// The draft came back: open the editor over it, or say why there is none.
pub(super) fn on_prepared(
    state: &mut State,
    issue_id: String,
    result: Result<Box<PreparedDraft>, DraftFailure>,
) -> Vec<Effect> {
    if state.drafting.as_deref() == Some(issue_id.as_str()) {
        state.drafting = None;
    }
    match result {
        Ok(draft) => {
            let what = if draft.reproduces {
                "reproduces the crash with the event's values"
            } else {
                "a skipped skeleton: the event has no arguments to rebuild"
            };
            state.push_message(
                Level::Info,
                format!(
                    "Drafted {} ({what}); review it, tab between fields, ctrl-s to open the PR",
                    draft.path
                ),
            );
            state.draft = Some(Box::new(DraftEditor::new(*draft)));
            // Only take over the screen if the operator has not moved on to another popup.
            if state.mode == Mode::Normal {
                state.mode = Mode::Draft;
            }
        }
        Err(e) => {
            let level = match e {
                DraftFailure::Source(_) => Level::Error,
                _ => Level::Warn,
            };
            state.push_message(
                level,
                format!(
                    "No regression test drafted: {}",
                    crate::sanitize::clean(&e.to_string())
                ),
            );
        }
    }
    Vec::new()
}

/// Keys in the editor: they go to the focused field but for tab / shift-tab (next / previous
/// field), ctrl-s (review the PR), ctrl-r (draft anew), esc (close; the draft is kept for `T`).
pub(super) fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let Some(editor) = state.draft.as_mut() else {
        state.mode = Mode::Normal;
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            let short = editor.draft.short_id.clone();
            state.push_message(Level::Info, format!("Draft for {short} kept: T reopens it"));
        }
        KeyCode::Char('c') if ctrl => {
            state.mode = Mode::Normal;
            return super::nav::run_action(state, Action::Quit);
        }
        KeyCode::Tab => editor.next_focus(),
        KeyCode::BackTab => editor.prev_focus(),
        KeyCode::Char('r') if ctrl => {
            let id = editor.draft.issue_id.clone();
            let Some(inc) = state.incidents.items.iter().find(|i| i.id == id).cloned() else {
                state.push_message(Level::Warn, "The incident is no longer listed");
                return Vec::new();
            };
            state.draft = None;
            state.mode = Mode::Normal;
            return redraft(state, inc);
        }
        KeyCode::Char('s') if ctrl => return review(state),
        // The title is one line.
        KeyCode::Enter if editor.focus == crate::app::draft::DraftFocus::Title => {
            editor.next_focus();
        }
        _ => {
            editor.focused().input(key);
        }
    }
    Vec::new()
}

/// Ctrl-s: the confirmation of the PR, behind the same guards as every change.
fn review(state: &mut State) -> Vec<Effect> {
    let Some(editor) = state.draft.as_ref() else {
        return Vec::new();
    };
    if state.read_only {
        state.push_message(
            Level::Warn,
            "Read-only: the PR cannot be opened (the draft stays here; esc closes it)",
        );
        return Vec::new();
    }
    if editor.contents().trim().is_empty() || editor.pr_title().is_empty() {
        state.push_message(Level::Warn, "The file and the PR title cannot be empty");
        return Vec::new();
    }
    let change = editor.change();
    if state.changes_in_flight.contains(&change.target_key()) {
        state.push_message(
            Level::Warn,
            "This PR is already being sent; wait for its result",
        );
        return Vec::new();
    }
    state.mode = Mode::Confirm(Box::new(Confirm::new(change, "")));
    Vec::new()
}
