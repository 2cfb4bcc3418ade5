//! The cockpit's state and the one function that changes it.
//!
//! `update(&mut State, Msg) -> Vec<Effect>` does no I/O: keystrokes, poll results and timer ticks come
//! in as messages; requests, clipboard writes and quitting go out as effects for the runtime to run.

pub mod filter;
pub mod keymap;
pub mod rows;

use crate::analysis;
use crate::domain::{
    Incident, PullRequest, RateLimit, ServiceRollout, SourceData, SourceId, Summary, WorkflowRun,
};
use crate::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use filter::Query;
use keymap::{Action, Keymap};
use rows::Row;
use time::OffsetDateTime;

/// The five tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Prs,
    Runs,
    Rollouts,
    Incidents,
    Ai,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Prs, Tab::Runs, Tab::Rollouts, Tab::Incidents, Tab::Ai];
    pub fn title(self) -> &'static str {
        match self {
            Tab::Prs => "PRs",
            Tab::Runs => "Runs",
            Tab::Rollouts => "Rollouts",
            Tab::Incidents => "Incidents",
            Tab::Ai => "AI",
        }
    }
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|&t| t == self).unwrap_or(0)
    }
    /// The source that feeds this tab (the AI tab is derived from all of them).
    pub fn source(self) -> Option<SourceId> {
        match self {
            Tab::Prs | Tab::Runs => Some(SourceId::GitHub),
            Tab::Rollouts => Some(SourceId::Prometheus),
            Tab::Incidents => Some(SourceId::Sentry),
            Tab::Ai => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub level: Level,
    pub text: String,
    pub at: OffsetDateTime,
    pub expires: OffsetDateTime,
}

/// Messages in.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    Tick(OffsetDateTime),
    PollStarted(SourceId),
    Loaded {
        source: SourceId,
        result: Result<SourceData, String>,
        fetched_at: OffsetDateTime,
    },
    Notice(Level, String),
    /// SIGTERM, SIGHUP or SIGINT.
    Terminate,
}

/// Effects out, run by the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Poll now: one source, or every source.
    Refresh(Option<SourceId>),
    /// The visible tab changed; its source polls faster.
    VisibleTab(Tab),
    OpenUrl(String),
    Copy(String),
    SetMouse(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    /// Typing a `/` filter; `before` is restored on Esc.
    Filter {
        before: String,
    },
    Palette {
        input: String,
        selected: usize,
    },
    Help {
        scroll: u16,
    },
    Errors {
        scroll: u16,
    },
}

/// Filter, selection and scroll of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListState {
    keys: Vec<String>,
    /// Indices of the items that pass the filter, in table order.
    pub view: Vec<u32>,
    pub filter: String,
    pub selected: usize,
    pub offset: usize,
}

impl ListState {
    fn set_keys(&mut self, keys: Vec<String>) {
        self.keys = keys;
        self.refilter(None);
    }

    /// Re-apply the filter. When `narrowing_from` is a prefix of the new filter, only rows that matched
    /// before can match now, so only they are checked.
    fn refilter(&mut self, narrowing_from: Option<&str>) {
        let q = Query::new(&self.filter);
        if q.is_empty() {
            self.view = (0..self.keys.len() as u32).collect();
        } else if narrowing_from.is_some_and(|old| !old.is_empty() && self.filter.starts_with(old))
        {
            let keys = &self.keys;
            self.view.retain(|&i| q.matches(&keys[i as usize]));
        } else {
            self.view = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| q.matches(k))
                .map(|(i, _)| i as u32)
                .collect();
        }
        self.clamp();
    }

    pub fn set_filter(&mut self, filter: String) {
        let old = std::mem::replace(&mut self.filter, filter);
        self.refilter(Some(&old));
    }

    pub fn selected_item(&self) -> Option<usize> {
        self.view.get(self.selected).map(|&i| i as usize)
    }

    fn clamp(&mut self) {
        if self.view.is_empty() {
            self.selected = 0;
            self.offset = 0;
        } else if self.selected >= self.view.len() {
            self.selected = self.view.len() - 1;
        }
    }

    fn move_to(&mut self, target: isize, height: usize) {
        if self.view.is_empty() {
            return;
        }
        self.selected = target.clamp(0, self.view.len() as isize - 1) as usize;
        self.scroll_into_view(height);
    }

    fn scroll_into_view(&mut self, height: usize) {
        let h = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        let max_offset = self.view.len().saturating_sub(h);
        self.offset = self.offset.min(max_offset);
    }
}

/// One table: its items and its list state.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<T> {
    pub items: Vec<T>,
    pub list: ListState,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            list: ListState::default(),
        }
    }
}

impl<T: Row + PartialEq> Table<T> {
    /// Replace the items, keeping the selection on the same item. Returns false when nothing changed.
    pub fn replace(&mut self, items: Vec<T>, height: usize) -> bool {
        if items == self.items {
            return false;
        }
        let keep = self.list.selected_item().map(|i| self.items.swap_remove(i));
        self.list.set_keys(items.iter().map(Row::key).collect());
        self.items = items;
        if let Some(old) = keep
            && let Some(pos) = self
                .list
                .view
                .iter()
                .position(|&i| self.items[i as usize].same_as(&old))
        {
            self.list.selected = pos;
        }
        self.list.clamp();
        self.list.scroll_into_view(height);
        true
    }

    pub fn selected(&self) -> Option<&T> {
        self.list.selected_item().and_then(|i| self.items.get(i))
    }
}

/// What a source has delivered so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    pub configured: bool,
    pub in_flight: bool,
    pub loaded: bool,
    pub last_ok: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub last_error_at: Option<OffsetDateTime>,
}

/// How a tab's table should look right now.
#[derive(Debug, Clone, PartialEq)]
pub enum TabStatus {
    NotConfigured(&'static str),
    Loading,
    Error(String),
    Ready,
}

/// Everything the cockpit shows.
#[derive(Debug, Clone)]
pub struct State {
    pub tab: Tab,
    pub prs: Table<PullRequest>,
    pub runs: Table<WorkflowRun>,
    pub rollouts: Table<ServiceRollout>,
    pub incidents: Table<Incident>,
    pub summaries: Table<Summary>,
    pub sources: [SourceStatus; 3],
    pub rate: Option<RateLimit>,
    pub mode: Mode,
    pub detail: bool,
    pub messages: Vec<Message>,
    pub keymap: Keymap,
    pub themes: Vec<Theme>,
    pub theme: usize,
    pub read_only: bool,
    pub mouse: bool,
    pub refresh_secs: u64,
    pub size: (u16, u16),
    pub now: OffsetDateTime,
    pub quit: bool,
    /// Something visible changed since the last draw.
    pub dirty: bool,
}

const MESSAGE_HISTORY: usize = 200;

impl State {
    pub fn new(keymap: Keymap, themes: Vec<Theme>, now: OffsetDateTime) -> State {
        State {
            tab: Tab::Prs,
            prs: Table::default(),
            runs: Table::default(),
            rollouts: Table::default(),
            incidents: Table::default(),
            summaries: Table::default(),
            sources: Default::default(),
            rate: None,
            mode: Mode::Normal,
            detail: false,
            messages: Vec::new(),
            keymap,
            themes: if themes.is_empty() {
                vec![Theme::default()]
            } else {
                themes
            },
            theme: 0,
            read_only: false,
            mouse: false,
            refresh_secs: 15,
            size: (80, 24),
            now,
            quit: false,
            dirty: true,
        }
    }

    pub fn theme(&self) -> &Theme {
        &self.themes[self.theme.min(self.themes.len() - 1)]
    }

    pub fn source(&self, id: SourceId) -> &SourceStatus {
        &self.sources[id as usize]
    }

    fn source_mut(&mut self, id: SourceId) -> &mut SourceStatus {
        &mut self.sources[id as usize]
    }

    pub fn list(&self, tab: Tab) -> &ListState {
        match tab {
            Tab::Prs => &self.prs.list,
            Tab::Runs => &self.runs.list,
            Tab::Rollouts => &self.rollouts.list,
            Tab::Incidents => &self.incidents.list,
            Tab::Ai => &self.summaries.list,
        }
    }

    fn list_mut(&mut self, tab: Tab) -> &mut ListState {
        match tab {
            Tab::Prs => &mut self.prs.list,
            Tab::Runs => &mut self.runs.list,
            Tab::Rollouts => &mut self.rollouts.list,
            Tab::Incidents => &mut self.incidents.list,
            Tab::Ai => &mut self.summaries.list,
        }
    }

    /// The selected row's URL and whether it is a production target.
    pub fn selected_row(&self) -> Option<(&str, bool)> {
        fn pick<T: Row>(t: &Table<T>) -> Option<(&str, bool)> {
            t.list
                .selected_item()
                .and_then(|i| t.items.get(i))
                .map(|r| (r.url(), r.production()))
        }
        match self.tab {
            Tab::Prs => pick(&self.prs),
            Tab::Runs => pick(&self.runs),
            Tab::Rollouts => pick(&self.rollouts),
            Tab::Incidents => pick(&self.incidents),
            Tab::Ai => pick(&self.summaries),
        }
    }

    /// Draw the loud production frame: the selected row acts on a production environment.
    pub fn production_focus(&self) -> bool {
        self.selected_row().is_some_and(|(_, p)| p)
    }

    pub fn tab_status(&self, tab: Tab) -> TabStatus {
        match tab.source() {
            Some(id) => {
                let s = self.source(id);
                if !s.configured {
                    TabStatus::NotConfigured(match id {
                        SourceId::GitHub => "[github] with repos",
                        SourceId::Prometheus => "[prometheus] and [[service]]",
                        SourceId::Sentry => "[sentry] with org and projects",
                    })
                } else if s.loaded {
                    TabStatus::Ready
                } else if let Some(e) = &s.last_error {
                    TabStatus::Error(e.clone())
                } else {
                    TabStatus::Loading
                }
            }
            None => {
                let any_loaded = self.sources.iter().any(|s| s.loaded);
                let any_configured = self.sources.iter().any(|s| s.configured);
                if !any_configured {
                    TabStatus::NotConfigured("a source to analyse")
                } else if any_loaded {
                    TabStatus::Ready
                } else {
                    TabStatus::Loading
                }
            }
        }
    }

    /// The message shown in the message bar, if one is current.
    pub fn current_message(&self) -> Option<&Message> {
        self.messages.last().filter(|m| m.expires > self.now)
    }

    /// When the message bar next changes on its own (for the runtime's timer).
    pub fn next_expiry(&self) -> Option<OffsetDateTime> {
        self.current_message().map(|m| m.expires)
    }

    pub fn push_message(&mut self, level: Level, text: impl Into<String>) {
        let secs = match level {
            Level::Info => 4,
            Level::Warn => 8,
            Level::Error => 12,
        };
        self.messages.push(Message {
            level,
            text: text.into(),
            at: self.now,
            expires: self.now + time::Duration::seconds(secs),
        });
        if self.messages.len() > MESSAGE_HISTORY {
            let cut = self.messages.len() - MESSAGE_HISTORY;
            self.messages.drain(..cut);
        }
        self.dirty = true;
    }

    /// Whether the detail pane sits at the right (wide terminals) or at the bottom.
    pub fn detail_at_right(&self) -> bool {
        self.size.0 >= 140
    }

    /// Rows of the table body that fit on screen, with the same geometry `ui::render` uses.
    pub fn list_height(&self) -> usize {
        let (_, h) = self.size;
        // tab bar, message bar, status bar, table border (2) and header.
        let mut body = h.saturating_sub(3);
        if self.detail && !self.detail_at_right() {
            body -= body / 2;
        }
        body.saturating_sub(3) as usize
    }

    /// Whether a source's data is older than three poll intervals.
    pub fn stale(&self, id: SourceId) -> bool {
        let s = self.source(id);
        s.last_ok.is_some_and(|t| {
            (self.now - t).whole_seconds() > 3 * self.refresh_secs.max(1) as i64 + 5
        })
    }

    /// Status-bar text of one source: "GitHub ✓", "Sentry stale 4m: HTTP 502".
    pub fn freshness(&self, id: SourceId) -> String {
        let s = self.source(id);
        let name = id.label();
        if !s.configured {
            return format!("{name} off");
        }
        let err = s.last_error.as_deref();
        match (s.last_ok, err) {
            (None, None) => format!("{name} …"),
            (None, Some(e)) => format!("{name} ✗ {e}"),
            (Some(t), e) => {
                let age = (self.now - t).whole_seconds().max(0);
                let stale = self.stale(id);
                match (stale, e) {
                    (false, None) => format!("{name} ✓"),
                    (false, Some(e)) => format!("{name} ! {e}"),
                    (true, None) => format!("{name} stale {}", crate::ui::fmt_age(age)),
                    (true, Some(e)) => format!("{name} stale {}: {e}", crate::ui::fmt_age(age)),
                }
            }
        }
    }

    fn recompute_summaries(&mut self) {
        let h = self.list_height();
        let s = analysis::summaries::headlines(
            &self.prs.items,
            &self.runs.items,
            &self.rollouts.items,
            &self.incidents.items,
        );
        self.summaries.replace(s, h);
    }
}

/// Apply one message. The only code that mutates [`State`].
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Vec::new();
            }
            state.dirty = true;
            on_key(state, key)
        }
        Msg::Paste(text) => {
            let clean = crate::sanitize::clean(&text);
            match &mut state.mode {
                Mode::Filter { .. } => {
                    let f = format!("{}{}", state.list(state.tab).filter, clean);
                    let tab = state.tab;
                    state.list_mut(tab).set_filter(f);
                }
                Mode::Palette { input, selected } => {
                    input.push_str(&clean);
                    *selected = 0;
                }
                _ => {}
            }
            state.dirty = true;
            Vec::new()
        }
        Msg::Mouse(ev) => on_mouse(state, ev),
        Msg::Resize(w, h) => {
            state.size = (w, h);
            let height = state.list_height();
            for tab in Tab::ALL {
                state.list_mut(tab).scroll_into_view(height);
            }
            state.dirty = true;
            Vec::new()
        }
        Msg::Tick(now) => {
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
        Msg::PollStarted(id) => {
            state.source_mut(id).in_flight = true;
            Vec::new()
        }
        Msg::Loaded {
            source,
            result,
            fetched_at,
        } => {
            on_loaded(state, source, result, fetched_at);
            Vec::new()
        }
        Msg::Notice(level, text) => {
            state.push_message(level, text);
            Vec::new()
        }
        Msg::Terminate => {
            state.quit = true;
            vec![Effect::Quit]
        }
    }
}

fn on_loaded(
    state: &mut State,
    source: SourceId,
    result: Result<SourceData, String>,
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
                SourceData::GitHub { prs, runs, rate } => {
                    let a = state.prs.replace(prs, height);
                    let b = state.runs.replace(runs, height);
                    let c = state.rate != rate;
                    state.rate = rate;
                    a || b || c
                }
                SourceData::Prometheus(r) => state.rollouts.replace(r, height),
                SourceData::Sentry(i) => state.incidents.replace(i, height),
            };
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
            let e = crate::sanitize::clean(&e);
            let s = state.source_mut(source);
            s.in_flight = false;
            s.last_error_at = Some(fetched_at);
            let new_error = s.last_error.as_deref() != Some(e.as_str());
            s.last_error = Some(e.clone());
            if new_error {
                let kept = if before.loaded {
                    " (showing the last good data)"
                } else {
                    ""
                };
                state.push_message(Level::Error, format!("{}: {e}{kept}", source.label()));
            }
        }
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    match state.mode.clone() {
        Mode::Filter { before } => on_filter_key(state, key, before),
        Mode::Palette { input, selected } => on_palette_key(state, key, input, selected),
        Mode::Help { scroll } => {
            let action = state.keymap.action_for(&key);
            match action {
                Some(Action::Down) => state.mode = Mode::Help { scroll: scroll + 1 },
                Some(Action::Up) => {
                    state.mode = Mode::Help {
                        scroll: scroll.saturating_sub(1),
                    }
                }
                Some(Action::Quit) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    return run_action(state, Action::Quit);
                }
                _ => state.mode = Mode::Normal,
            }
            Vec::new()
        }
        Mode::Errors { scroll } => {
            match state.keymap.action_for(&key) {
                Some(Action::Down) => state.mode = Mode::Errors { scroll: scroll + 1 },
                Some(Action::Up) => {
                    state.mode = Mode::Errors {
                        scroll: scroll.saturating_sub(1),
                    }
                }
                Some(Action::Quit) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    return run_action(state, Action::Quit);
                }
                _ => state.mode = Mode::Normal,
            }
            Vec::new()
        }
        Mode::Normal => match state.keymap.action_for(&key) {
            Some(a) => run_action(state, a),
            None => Vec::new(),
        },
    }
}

fn on_filter_key(state: &mut State, key: KeyEvent, before: String) -> Vec<Effect> {
    let tab = state.tab;
    match key.code {
        KeyCode::Esc => {
            state.list_mut(tab).set_filter(before);
            state.mode = Mode::Normal;
        }
        KeyCode::Enter => state.mode = Mode::Normal,
        KeyCode::Backspace => {
            let mut f = state.list(tab).filter.clone();
            f.pop();
            state.list_mut(tab).set_filter(f);
        }
        KeyCode::Down => {
            let h = state.list_height();
            let l = state.list_mut(tab);
            l.move_to(l.selected as isize + 1, h);
        }
        KeyCode::Up => {
            let h = state.list_height();
            let l = state.list_mut(tab);
            l.move_to(l.selected as isize - 1, h);
        }
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            return run_action(state, Action::Quit);
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            state.list_mut(tab).set_filter(String::new());
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            let mut f = state.list(tab).filter.clone();
            f.push(c);
            state.list_mut(tab).set_filter(f);
        }
        _ => {}
    }
    Vec::new()
}

/// The palette's entries for an input, best first.
pub fn palette_entries(input: &str) -> Vec<Action> {
    let q = Query::new(input);
    let mut scored: Vec<(i64, usize, Action)> = Action::ALL
        .iter()
        .enumerate()
        .filter(|(_, a)| **a != Action::Palette)
        .filter_map(|(i, &a)| {
            if q.is_empty() {
                return Some((0, i, a));
            }
            let by_name = q.score(a.name()).map(|s| s + 50);
            let by_desc = q.score(a.description());
            by_name.max(by_desc).map(|s| (s, i, a))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, a)| a).collect()
}

fn on_palette_key(
    state: &mut State,
    key: KeyEvent,
    mut input: String,
    mut selected: usize,
) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            return Vec::new();
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            return match palette_entries(&input).get(selected) {
                Some(&a) => run_action(state, a),
                None => Vec::new(),
            };
        }
        KeyCode::Down | KeyCode::Tab => selected += 1,
        KeyCode::Up | KeyCode::BackTab => selected = selected.saturating_sub(1),
        KeyCode::Backspace => {
            input.pop();
            selected = 0;
        }
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            return run_action(state, Action::Quit);
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.push(c);
            selected = 0;
        }
        _ => {}
    }
    let n = palette_entries(&input).len();
    selected = selected.min(n.saturating_sub(1));
    state.mode = Mode::Palette { input, selected };
    Vec::new()
}

fn switch_tab(state: &mut State, tab: Tab) -> Vec<Effect> {
    if state.tab == tab {
        return Vec::new();
    }
    state.tab = tab;
    vec![Effect::VisibleTab(tab)]
}

/// Run a named action (from a key, the palette or the mouse).
pub fn run_action(state: &mut State, action: Action) -> Vec<Effect> {
    state.dirty = true;
    let height = state.list_height();
    let tab = state.tab;
    match action {
        Action::Quit => {
            state.quit = true;
            vec![Effect::Quit]
        }
        Action::NextTab => switch_tab(state, Tab::ALL[(tab.index() + 1) % Tab::ALL.len()]),
        Action::PrevTab => switch_tab(
            state,
            Tab::ALL[(tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()],
        ),
        Action::TabPrs => switch_tab(state, Tab::Prs),
        Action::TabRuns => switch_tab(state, Tab::Runs),
        Action::TabRollouts => switch_tab(state, Tab::Rollouts),
        Action::TabIncidents => switch_tab(state, Tab::Incidents),
        Action::TabAi => switch_tab(state, Tab::Ai),
        Action::Down
        | Action::Up
        | Action::Top
        | Action::Bottom
        | Action::PageDown
        | Action::PageUp => {
            let l = state.list_mut(tab);
            let cur = l.selected as isize;
            let page = height.max(1) as isize;
            let target = match action {
                Action::Down => cur + 1,
                Action::Up => cur - 1,
                Action::Top => 0,
                Action::Bottom => isize::MAX / 2,
                Action::PageDown => cur + page,
                _ => cur - page,
            };
            l.move_to(target, height);
            Vec::new()
        }
        Action::Detail => {
            state.detail = !state.detail;
            let h = state.list_height();
            state.list_mut(tab).scroll_into_view(h);
            Vec::new()
        }
        Action::Back => {
            if state.detail {
                state.detail = false;
            } else if !state.list(tab).filter.is_empty() {
                state.list_mut(tab).set_filter(String::new());
            }
            Vec::new()
        }
        Action::Filter => {
            let before = state.list(tab).filter.clone();
            state.mode = Mode::Filter { before };
            Vec::new()
        }
        Action::Palette => {
            state.mode = Mode::Palette {
                input: String::new(),
                selected: 0,
            };
            Vec::new()
        }
        Action::Help => {
            state.mode = Mode::Help { scroll: 0 };
            Vec::new()
        }
        Action::Errors => {
            state.mode = Mode::Errors { scroll: 0 };
            Vec::new()
        }
        Action::Refresh => {
            state.push_message(Level::Info, "Refreshing every source");
            vec![Effect::Refresh(None)]
        }
        Action::Open | Action::Copy => match state.selected_row().map(|(u, _)| u.to_string()) {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                if action == Action::Open {
                    vec![Effect::OpenUrl(url)]
                } else {
                    state.push_message(Level::Info, format!("Copied {url}"));
                    vec![Effect::Copy(url)]
                }
            }
            _ => {
                state.push_message(Level::Warn, "The selected row has no link");
                Vec::new()
            }
        },
        Action::NextTheme => {
            state.theme = (state.theme + 1) % state.themes.len();
            let name = state.theme().name.clone();
            state.push_message(Level::Info, format!("Theme: {name}"));
            Vec::new()
        }
        Action::ToggleMouse => {
            state.mouse = !state.mouse;
            let on = if state.mouse { "on" } else { "off" };
            state.push_message(Level::Info, format!("Mouse {on}"));
            vec![Effect::SetMouse(state.mouse)]
        }
    }
}

/// Column ranges of the tab titles in the tab bar, shared with the renderer for mouse hits.
pub fn tab_title_spans() -> Vec<(Tab, u16, u16)> {
    let mut x = 1u16;
    Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let w = (format!(" {} {} ", i + 1, t.title()).chars().count()) as u16;
            let span = (t, x, x + w);
            x += w + 1;
            span
        })
        .collect()
}

fn on_mouse(state: &mut State, ev: MouseEvent) -> Vec<Effect> {
    if !state.mouse || state.mode != Mode::Normal {
        return Vec::new();
    }
    match ev.kind {
        MouseEventKind::ScrollDown => run_action(state, Action::Down),
        MouseEventKind::ScrollUp => run_action(state, Action::Up),
        MouseEventKind::Down(_) if ev.row == 0 => {
            match tab_title_spans()
                .into_iter()
                .find(|&(_, a, b)| ev.column >= a && ev.column < b)
            {
                Some((tab, _, _)) => {
                    state.dirty = true;
                    switch_tab(state, tab)
                }
                None => Vec::new(),
            }
        }
        MouseEventKind::Down(_) => {
            // Rows start below the tab bar, the table border and the header.
            let first_row = 3u16;
            let height = state.list_height();
            if ev.row >= first_row && ((ev.row - first_row) as usize) < height {
                let tab = state.tab;
                let l = state.list_mut(tab);
                let target = l.offset + (ev.row - first_row) as usize;
                if target < l.view.len() {
                    l.move_to(target as isize, height);
                    state.dirty = true;
                }
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}
