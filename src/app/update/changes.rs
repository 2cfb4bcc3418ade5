//! Remote changes to runs and deployments: building the change from the selection (after the
//! read-only and in-flight guards), the confirmation's keys, sending once per target, and the
//! result. Every key and command that changes something remote comes through [`execute`].

use crate::app::change::{Change, ChangeError, Confirm, Focus, Review};
use crate::app::guard::{ApprovalGuard, approval_guard};
use crate::app::keymap::Action;
use crate::app::msg::{Effect, PollEffect};
use crate::app::state::{Level, Mode, State};
use crate::app::tab::Tab;
use crate::domain::{RunState, SourceId, WorkflowRun};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub(super) fn on_done(
    state: &mut State,
    change: Change,
    result: Result<String, ChangeError>,
) -> Vec<Effect> {
    state.changes_in_flight.remove(&change.target_key());
    // A regression-test PR that went through leaves nothing to resume: the next `T` drafts anew
    // (and finds the PR). One that stopped part-way keeps the edited draft for `T` to send again.
    if let (Change::TestPr { short_id, .. }, Ok(_)) = (&change, &result)
        && state
            .draft
            .as_ref()
            .is_some_and(|d| &d.draft.short_id == short_id)
    {
        state.draft = None;
    }
    match result {
        Ok(detail) => state.push_message(
            Level::Info,
            format!("{}: done ({detail})", change.summary()),
        ),
        Err(e) => state.push_message(
            Level::Error,
            format!(
                "{}: {}",
                change.summary(),
                crate::sanitize::clean(&e.to_string())
            ),
        ),
    }
    let source = match change {
        Change::IncidentStatus { .. } => SourceId::Sentry,
        _ => SourceId::GitHub,
    };
    vec![Effect::Poll(PollEffect::Refresh(Some(source)))]
}

/// The approval or rejection of everything a run waits for.
pub(super) fn review_change(state: &State, run: &WorkflowRun, review: Review) -> Change {
    let production = run.pending.iter().any(|p| {
        state
            .rollouts
            .items
            .iter()
            .any(|r| r.production && r.environment.eq_ignore_ascii_case(&p.environment))
    });
    Change::review(run, review, production)
}

/// Build the change an action asks for on the selected run (or the selected service's held
/// deployment), after the read-only and in-flight checks, and open its confirmation.
pub(super) fn start(state: &mut State, action: Action) -> Vec<Effect> {
    let verb = action.name();
    if state.read_only {
        state.push_message(
            Level::Warn,
            format!("Read-only: {verb} is disabled (started with --readonly or read_only = true)"),
        );
        return Vec::new();
    }
    let reviewing = matches!(action, Action::Approve | Action::Reject);
    let on_rollouts = state.tab == Tab::Rollouts && reviewing;
    if state.tab != Tab::Runs && !on_rollouts {
        let where_ = if reviewing {
            "a run's held deployment (Runs, 2) or a service's (Rollouts, 3)"
        } else {
            "a run: switch to Runs (2)"
        };
        state.push_message(Level::Warn, format!("{verb} acts on {where_}"));
        return Vec::new();
    }
    // On the Rollouts tab: the run whose deployment to the service's environment waits.
    let service = if on_rollouts {
        state.rollouts.selected().cloned()
    } else {
        None
    };
    let run = match &service {
        Some(svc) => match state.held_run(svc) {
            Some(r) => Some(r.clone()),
            None => {
                state.push_message(
                    Level::Warn,
                    format!(
                        "No deployment of {} to {} waits for approval",
                        svc.name, svc.environment
                    ),
                );
                return Vec::new();
            }
        },
        None => state.runs.selected().cloned(),
    };
    let Some(run) = run else {
        state.push_message(Level::Warn, "No run selected");
        return Vec::new();
    };
    let label = format!("{} {} #{}", run.repo, run.workflow, run.run_number);
    // The judge's say on the held deployment, whichever tab (or the palette) asked: every service
    // the deployment belongs to (see `app::guard`).
    let guard = if reviewing {
        approval_guard(state, &run)
    } else {
        ApprovalGuard::default()
    };
    let mut change = match action {
        Action::Approve | Action::Reject => {
            if run.pending.is_empty() {
                let why = if run.state == RunState::Waiting {
                    "its pending deployments are not loaded yet; try again after the next poll"
                } else {
                    "it is not waiting for approval"
                };
                state.push_message(Level::Warn, format!("Cannot {verb} {label}: {why}"));
                return Vec::new();
            }
            let review = if action == Action::Approve {
                Review::Approve
            } else {
                Review::Reject
            };
            review_change(state, &run, review)
        }
        Action::RerunFailed => {
            if !matches!(run.state, RunState::Failure | RunState::Cancelled) {
                state.push_message(
                    Level::Warn,
                    format!(
                        "Cannot re-run {label}: it has no failed jobs ({})",
                        run.state.label()
                    ),
                );
                return Vec::new();
            }
            Change::RerunFailedJobs {
                repo: run.repo,
                run_id: run.id,
                run_number: run.run_number,
                workflow: run.workflow,
                branch: run.branch,
            }
        }
        _ => {
            if !matches!(
                run.state,
                RunState::Queued | RunState::InProgress | RunState::Waiting
            ) {
                state.push_message(
                    Level::Warn,
                    format!("Cannot cancel {label}: it is {}", run.state.label()),
                );
                return Vec::new();
            }
            Change::CancelRun {
                repo: run.repo,
                run_id: run.id,
                run_number: run.run_number,
                workflow: run.workflow,
                branch: run.branch,
            }
        }
    };
    if state.changes_in_flight.contains(&change.target_key()) {
        state.push_message(
            Level::Warn,
            format!("A change to {label} is already being sent; wait for its result"),
        );
        return Vec::new();
    }
    let approving = matches!(
        change,
        Change::ReviewDeployment {
            review: Review::Approve,
            ..
        }
    );
    let default_comment = match &change {
        Change::ReviewDeployment { .. } => guard.default_comment(approving),
        _ => String::new(),
    };
    // Approving against the judge (or without its verdict) takes an explicit override, which the
    // audit entry records; rejecting never does.
    let reason = if approving {
        guard.override_reason()
    } else {
        None
    };
    if let (Change::ReviewDeployment { overriding, .. }, Some(why)) = (&mut change, &reason) {
        *overriding = Some(why.clone());
    }
    let mut c = Confirm::new(change, &default_comment);
    if let Some(why) = reason {
        c = c.requiring("override", &why);
    }
    state.mode = Mode::Confirm(Box::new(c));
    Vec::new()
}

fn cancel(state: &mut State) -> Vec<Effect> {
    state.mode = Mode::Normal;
    state.push_message(Level::Info, "Cancelled: nothing was sent");
    Vec::new()
}

/// Pasted text goes into the focused field, if any.
pub(super) fn paste(c: &mut Confirm, text: &str) {
    match c.focus {
        Focus::Typed => c.typed.extend(text.chars().take(100)),
        Focus::Comment => {
            if let Some(t) = &mut c.comment {
                t.insert_str(text);
            }
        }
        Focus::No | Focus::Yes => {}
    }
}

/// The confirmation's keys. A focused text field takes letters (so a service called `inventory`
/// can be typed); tab and shift-tab move between the fields and the buttons; esc cancels anywhere.
pub(super) fn on_confirm_key(state: &mut State, key: KeyEvent, mut c: Confirm) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Esc => return cancel(state),
        KeyCode::Char('c') if ctrl => {
            state.mode = Mode::Normal;
            return super::nav::run_action(state, Action::Quit);
        }
        KeyCode::Tab => c.next_focus(),
        KeyCode::BackTab => c.prev_focus(),
        // Enter leaves the comment for the buttons (on No); alt-enter starts a new line.
        KeyCode::Enter if c.focus == Focus::Comment && !alt => c.focus = Focus::No,
        _ if c.focus == Focus::Comment => {
            if let Some(t) = &mut c.comment {
                if key.code == KeyCode::Enter {
                    t.insert_newline();
                } else {
                    t.input(key);
                }
            }
        }
        KeyCode::Backspace if c.focus == Focus::Typed => {
            c.typed.pop();
        }
        KeyCode::Char(ch) if c.focus == Focus::Typed && !ctrl && c.typed.chars().count() < 100 => {
            c.typed.push(ch);
        }
        KeyCode::Enter if c.focus == Focus::Typed && c.armed() => c.focus = Focus::Yes,
        KeyCode::Enter if c.focus == Focus::Typed => {
            if let Some((word, _)) = &c.require {
                state.push_message(Level::Warn, format!("Type \"{word}\" first"));
            }
        }
        _ if c.focus == Focus::Typed => {}
        KeyCode::Left | KeyCode::Right | KeyCode::Char('h') | KeyCode::Char('l') => {
            c.focus = if c.focus == Focus::No {
                Focus::Yes
            } else {
                Focus::No
            };
        }
        KeyCode::Char('n') | KeyCode::Char('q') => return cancel(state),
        KeyCode::Enter if c.focus == Focus::Yes && !c.armed() => {
            if let Some((word, _)) = &c.require {
                state.push_message(Level::Warn, format!("Type \"{word}\" in the field first"));
            }
            c.focus = Focus::Typed;
        }
        KeyCode::Enter if c.focus == Focus::Yes => {
            state.mode = Mode::Normal;
            return execute(state, c);
        }
        KeyCode::Enter => return cancel(state),
        _ => {}
    }
    state.mode = Mode::Confirm(Box::new(c));
    Vec::new()
}

/// Send a confirmed change: once per target at a time, never in read-only.
pub(super) fn execute(state: &mut State, c: Confirm) -> Vec<Effect> {
    if state.read_only {
        state.push_message(Level::Warn, "Read-only: nothing was sent");
        return Vec::new();
    }
    let key = c.change.target_key();
    if !state.changes_in_flight.insert(key) {
        state.push_message(Level::Warn, "That change is already being sent");
        return Vec::new();
    }
    let id = state.next_change_id;
    state.next_change_id += 1;
    let comment = crate::sanitize::clean_multiline(c.comment_text().trim());
    state.push_message(Level::Info, format!("Sending: {}…", c.change.summary()));
    vec![Effect::Change {
        id,
        change: c.change,
        comment,
    }]
}
