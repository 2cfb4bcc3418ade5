//! `update(&mut State, Msg) -> Vec<Effect>`: the only code that changes [`State`]. No I/O: requests,
//! clipboard writes and quitting go out as effects. One file per family of reactions:
//! `nav` (keys, filter, palette, popups, mouse), `sources` (polls and the clock), `detail`
//! (on-demand data and the log view), `changes` (building, confirming and sending remote changes),
//! `rollback` and `autopilot`.

pub(crate) mod ai;
mod autopilot;
mod changes;
mod detail;
mod incident;
mod nav;
mod rollback;
mod sources;
mod testpr;

use super::msg::{Effect, Msg, SourceEvent};
use super::state::State;

pub use nav::palette_entries;
pub use rollback::{rollback_service, start_rollback};

/// Apply one message. The only code that mutates [`State`].
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let wants_detail = matches!(msg, Msg::Input(_) | Msg::Source(SourceEvent::Loaded { .. }));
    let before = (
        state.tab,
        state.list(state.tab).selected_item(),
        state.detail,
    );
    let mut effects = match msg {
        Msg::Input(input) => nav::on_input(state, input),
        Msg::Tick(now) => sources::on_tick(state, now),
        Msg::Source(ev) => {
            let loaded = matches!(ev, SourceEvent::Loaded { .. });
            sources::on_source(state, ev);
            let changes: Vec<_> = state.verdict_changes.drain(..).collect();
            let mut fx = sources::alert_rollbacks(state, &changes);
            fx.extend(changes.into_iter().map(Effect::Record));
            if loaded {
                fx.extend(autopilot::run(state));
            }
            fx
        }
        Msg::Fetched(f) => {
            let mut fx = detail::on_fetched(state, f);
            fx.extend(ai::resume(state));
            fx
        }
        Msg::ChangeDone {
            id: _,
            change,
            result,
        } => changes::on_done(state, change, result),
        Msg::Notice(level, text) => {
            state.push_message(level, text);
            Vec::new()
        }
        Msg::Drawn(d) => nav::on_drawn(state, d),
        Msg::Llm(ev) => ai::on_event(state, ev),
        Msg::RollbacksCalled(calls) => {
            sources::on_rollbacks_called(state, calls);
            Vec::new()
        }
        Msg::Terminate(_) => {
            state.quit = true;
            vec![Effect::Quit]
        }
    };
    // Another row (or tab) in the detail pane starts at its top.
    if (
        state.tab,
        state.list(state.tab).selected_item(),
        state.detail,
    ) != before
    {
        state.detail_scroll = 0;
    }
    if wants_detail && !state.quit {
        effects.extend(detail::effects(state));
    }
    effects
}
