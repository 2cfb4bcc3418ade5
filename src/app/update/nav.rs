//! Moving around: keys by mode, the `/` filter, the command palette, help and the error history,
//! tabs, the detail pane's scroll, and the mouse. Actions that change something remote are handed
//! to `changes` and `rollback`.

use crate::app::change::IssueStatus;
use crate::app::filter::Query;
use crate::app::keymap::Action;
use crate::app::layout::{Drawn, badge_width, tab_title_spans};
use crate::app::msg::{Effect, Input, PollEffect, TerminalEffect};
use crate::app::state::{Level, Mode, State};
use crate::app::tab::Tab;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

pub(super) fn on_input(state: &mut State, input: Input) -> Vec<Effect> {
    match input {
        Input::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Vec::new();
            }
            state.dirty = true;
            on_key(state, key)
        }
        Input::Paste(text) => {
            let clean = crate::sanitize::clean(&text);
            match &mut state.mode {
                Mode::Filter { .. } => {
                    let f = format!("{}{}", state.list(state.tab).filter, clean);
                    let tab = state.tab;
                    state.table_mut(tab).set_filter(f);
                }
                Mode::Palette { input, selected } => {
                    input.push_str(&clean);
                    *selected = 0;
                }
                Mode::Confirm(c) => super::changes::paste(c, &clean),
                _ => {}
            }
            state.dirty = true;
            Vec::new()
        }
        Input::Mouse(ev) => on_mouse(state, ev),
        Input::Resize(w, h) => {
            state.size = (w, h);
            let height = state.list_height();
            for tab in Tab::ALL {
                state.list_mut(tab).scroll_into_view(height);
            }
            state.dirty = true;
            Vec::new()
        }
    }
}

/// The renderer measured the scrollable panes: keep their scroll within the content.
pub(super) fn on_drawn(state: &mut State, d: Drawn) -> Vec<Effect> {
    state.drawn = d;
    if let Some(e) = d.detail
        && state.detail_scroll > e.max_scroll()
    {
        state.detail_scroll = e.max_scroll();
        state.dirty = true;
    }
    if let (Some(e), Mode::Help { scroll } | Mode::Errors { scroll } | Mode::Preview { scroll }) =
        (d.popup, &mut state.mode)
        && *scroll > e.max_scroll()
    {
        *scroll = e.max_scroll();
        state.dirty = true;
    }
    Vec::new()
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    match state.mode.clone() {
        Mode::Filter { before } => on_filter_key(state, key, before),
        Mode::Palette { input, selected } => on_palette_key(state, key, input, selected),
        Mode::Help { scroll } | Mode::Errors { scroll } | Mode::Preview { scroll } => {
            on_popup_key(state, key, scroll)
        }
        Mode::Confirm(c) => super::changes::on_confirm_key(state, key, *c),
        Mode::Log => super::detail::on_log_key(state, key),
        Mode::Draft => super::testpr::on_key(state, key),
        Mode::Normal => match state.keymap.action_in(&key, state.tab) {
            Some(a) => run_action(state, a),
            None => Vec::new(),
        },
    }
}

/// Scroll a pane by an action; `None` when the action is not a scroll.
fn scrolled(action: Action, scroll: u16, page: u16, max: Option<u16>) -> Option<u16> {
    let half = (page / 2).max(1);
    let next = match action {
        Action::Down | Action::ScrollDown => scroll.saturating_add(1),
        Action::Up | Action::ScrollUp => scroll.saturating_sub(1),
        Action::PageDown => scroll.saturating_add(half),
        Action::PageUp => scroll.saturating_sub(half),
        Action::Top => 0,
        Action::Bottom => u16::MAX,
        _ => return None,
    };
    Some(max.map_or(next, |m| next.min(m)))
}

/// Help and the error history: scroll with the list keys, any other key closes.
fn on_popup_key(state: &mut State, key: KeyEvent, scroll: u16) -> Vec<Effect> {
    let action = state.keymap.action_for(&key);
    if action == Some(Action::Quit) && key.modifiers.contains(KeyModifiers::CONTROL) {
        return run_action(state, Action::Quit);
    }
    let extent = state.drawn.popup;
    let page = extent.map_or(state.size.1.saturating_sub(4), |e| e.viewport);
    match action.and_then(|a| scrolled(a, scroll, page, extent.map(|e| e.max_scroll()))) {
        Some(s) => match &mut state.mode {
            Mode::Help { scroll } | Mode::Errors { scroll } | Mode::Preview { scroll } => {
                *scroll = s
            }
            _ => {}
        },
        None => state.mode = Mode::Normal,
    }
    Vec::new()
}

fn on_filter_key(state: &mut State, key: KeyEvent, before: String) -> Vec<Effect> {
    let tab = state.tab;
    match key.code {
        KeyCode::Esc => {
            state.table_mut(tab).set_filter(before);
            state.mode = Mode::Normal;
        }
        KeyCode::Enter => state.mode = Mode::Normal,
        KeyCode::Backspace => {
            let mut f = state.list(tab).filter.clone();
            f.pop();
            state.table_mut(tab).set_filter(f);
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
            state.table_mut(tab).set_filter(String::new());
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            let mut f = state.list(tab).filter.clone();
            f.push(c);
            state.table_mut(tab).set_filter(f);
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
    vec![Effect::Poll(PollEffect::VisibleTab(tab))]
}

/// Quit; remote changes still in flight are waited for (bounded) by the runtime.
fn quit(state: &mut State) -> Vec<Effect> {
    state.quit = true;
    let n = state.changes_in_flight.len();
    if n > 0 {
        state.push_message(
            Level::Warn,
            format!(
                "Waiting up to {} s for {} in flight; one that does not finish is logged as abandoned",
                crate::app::QUIT_WAIT_SECS,
                crate::fmt::plural(n, "remote change")
            ),
        );
    }
    vec![Effect::Quit]
}

/// Run a named action (from a key, the palette or the mouse).
pub(super) fn run_action(state: &mut State, action: Action) -> Vec<Effect> {
    state.dirty = true;
    let height = state.list_height();
    let tab = state.tab;
    match action {
        Action::Quit => quit(state),
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
        // With the detail pane open, page keys scroll it (as in gh-dash and lazygit's preview).
        Action::PageDown | Action::PageUp | Action::ScrollDown | Action::ScrollUp
            if state.detail =>
        {
            scroll_detail(state, action);
            Vec::new()
        }
        Action::ScrollDown | Action::ScrollUp => {
            state.push_message(Level::Info, "Open the detail pane (enter) to scroll it");
            Vec::new()
        }
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
            if tab == Tab::Ai
                && let Some(fx) = super::ai::cancel(state)
            {
                return fx;
            }
            if state.detail {
                state.detail = false;
            } else if !state.list(tab).filter.is_empty() {
                state.table_mut(tab).set_filter(String::new());
            }
            Vec::new()
        }
        Action::AskLlm => super::ai::ask(state),
        Action::PreviewPrompt => super::ai::preview(state),
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
            // An incident's event or suspected change that failed to load is asked again.
            state.incident_events.forget_failed();
            state.incident_suspects.forget_failed();
            state.push_message(Level::Info, "Refreshing every source");
            vec![Effect::Poll(PollEffect::Refresh(None))]
        }
        // On the AI tab `y` copies the summary itself: the headline, its evidence, the next step.
        Action::Copy if tab == Tab::Ai => match state.summaries.selected() {
            Some(s) => {
                let text =
                    std::iter::once(format!("{} {}: {}", s.kind.label(), s.subject, s.headline))
                        .chain(s.detail.iter().cloned())
                        .collect::<Vec<_>>()
                        .join("\n");
                state.push_message(Level::Info, format!("Copied the summary of {}", s.subject));
                vec![Effect::Terminal(TerminalEffect::Copy(text))]
            }
            None => Vec::new(),
        },
        Action::Open | Action::Copy => match state.selected_row().map(|(u, _)| u.to_string()) {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                if action == Action::Open {
                    vec![Effect::Terminal(TerminalEffect::OpenUrl(url))]
                } else {
                    state.push_message(Level::Info, format!("Copied {url}"));
                    vec![Effect::Terminal(TerminalEffect::Copy(url))]
                }
            }
            _ => {
                state.push_message(Level::Warn, "The selected row has no link");
                Vec::new()
            }
        },
        Action::Sort | Action::SortReverse | Action::GroupByRepo => sort(state, action),
        Action::Logs => super::detail::open_log(state),
        Action::Approve | Action::Reject | Action::RerunFailed | Action::CancelRun => {
            super::changes::start(state, action)
        }
        Action::Rollback => super::rollback::start_rollback(state, false),
        Action::TestPr => super::testpr::start(state),
        Action::Resolve => super::incident::start_status(state, IssueStatus::Resolve),
        Action::Ignore => super::incident::start_status(state, IssueStatus::Ignore),
        Action::NextTheme => {
            state.theme = (state.theme + 1) % state.theme_names.len().max(1);
            let name = state.theme_name().to_string();
            state.push_message(Level::Info, format!("Theme: {name}"));
            Vec::new()
        }
        Action::ToggleMouse => {
            state.mouse = !state.mouse;
            let on = if state.mouse { "on" } else { "off" };
            state.push_message(Level::Info, format!("Mouse {on}"));
            vec![Effect::Terminal(TerminalEffect::SetMouse(state.mouse))]
        }
    }
}

fn scroll_detail(state: &mut State, action: Action) {
    let extent = state.drawn.detail;
    let page = extent.map_or_else(
        || {
            state
                .screen()
                .detail
                .map_or(1, |d| d.height.saturating_sub(2))
        },
        |e| e.viewport,
    );
    if let Some(s) = scrolled(
        action,
        state.detail_scroll,
        page,
        extent.map(|e| e.max_scroll()),
    ) {
        state.detail_scroll = s;
    }
}

fn sort(state: &mut State, action: Action) -> Vec<Effect> {
    let tab = state.tab;
    let cols = state.table(tab).columns().len();
    let l = state.list(tab);
    let (mut sort, mut grouped) = (l.sort, l.grouped);
    match action {
        Action::Sort => {
            sort = match sort {
                None => Some((0, false)),
                Some((c, d)) if c + 1 < cols => Some((c + 1, d)),
                Some(_) => None,
            }
        }
        Action::SortReverse => {
            sort = Some(sort.map_or((0, true), |(c, d)| (c, !d)));
        }
        _ => grouped = !grouped,
    }
    state.table_mut(tab).set_sort(sort, grouped);
    let h = state.list_height();
    state.list_mut(tab).scroll_into_view(h);
    let what = match sort {
        Some((c, d)) => format!(
            "Sorted by {} {}",
            state.table(tab).columns()[c],
            if d { "▼" } else { "▲" }
        ),
        None => "Unsorted (source order)".into(),
    };
    let group = if grouped { ", grouped" } else { "" };
    state.push_message(Level::Info, format!("{what}{group}"));
    Vec::new()
}

fn on_mouse(state: &mut State, ev: MouseEvent) -> Vec<Effect> {
    if !state.mouse || state.mode != Mode::Normal {
        return Vec::new();
    }
    let screen = state.screen();
    match ev.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp
            if screen
                .detail
                .is_some_and(|d| d.contains((ev.column, ev.row).into())) =>
        {
            let a = if ev.kind == MouseEventKind::ScrollDown {
                Action::ScrollDown
            } else {
                Action::ScrollUp
            };
            run_action(state, a)
        }
        MouseEventKind::ScrollDown => run_action(state, Action::Down),
        MouseEventKind::ScrollUp => run_action(state, Action::Up),
        MouseEventKind::Down(_) if ev.row == screen.tab_bar.y => {
            let production = state.rollouts.items.iter().any(|r| r.production);
            let room = screen
                .tab_bar
                .width
                .saturating_sub(badge_width(production, state.read_only));
            match tab_title_spans(room, state.tab)
                .into_iter()
                .find(|&(_, _, a, b)| ev.column >= a && ev.column < b)
            {
                Some((tab, ..)) => {
                    state.dirty = true;
                    switch_tab(state, tab)
                }
                None => Vec::new(),
            }
        }
        MouseEventKind::Down(_) => {
            let rows = screen.rows;
            if rows.contains((ev.column, ev.row).into()) {
                let height = rows.height as usize;
                let tab = state.tab;
                let l = state.list_mut(tab);
                let target = l.visible_offset(height) + (ev.row - rows.y) as usize;
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
