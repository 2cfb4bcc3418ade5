//! The cockpit's state and the one function that changes it.
//!
//! `update(&mut State, Msg) -> Vec<Effect>` does no I/O: keystrokes, poll results and timer ticks
//! come in as messages; requests, clipboard writes and quitting go out as effects for the runtime.
//! Imports point down only: `app` uses `analysis`, `domain`, `fmt` and `sanitize`, never `ui`,
//! `sources`, `ops`, `config` or the runtime.
//!
//! - `state`: [`State`] and what `ui` asks of it · `msg`: [`Msg`] and [`Effect`] by family
//! - `table`: the generic list (filter, sort, selection) · `rows`: each row type's keys and columns
//! - `tab`: the five tabs and their actions · `keymap`: actions and bindings · `filter`: fuzzy match
//! - `layout`: the screen's geometry, shared with `ui` · `logview`: the failed-log view's rows
//! - `change`: remote changes and their confirmation · `plan`: configured services, app-owned
//! - `guard`: whether approving a held deployment goes with the judge (every approval path)
//! - `update/`: the reactions, one file per feature

pub mod change;
pub mod draft;
pub mod filter;
pub mod guard;
pub mod keymap;
pub mod layout;
pub mod logview;
pub mod msg;
pub mod plan;
pub mod rows;
pub mod state;
pub mod tab;
pub mod table;
mod update;

pub use logview::LogView;
pub use msg::{
    DoraScope, DoraView, Effect, Fetch, Fetched, Input, LlmEffect, LlmEvent, Msg, PollEffect,
    RunAnalysis, Signal, SourceEvent, TerminalEffect,
};
pub use state::{Level, Loadable, Message, Mode, SourceStatus, State, TabStatus};
pub use tab::Tab;
pub use table::{ListState, Table, TableOps};
pub use update::{palette_entries, rollback_service, start_rollback, update};

/// How long quitting waits for remote changes still in flight before it records them as abandoned.
pub const QUIT_WAIT_SECS: u64 = 10;
