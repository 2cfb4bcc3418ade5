//! The tab bar (with PROD and READ-ONLY badges), the message bar (filter input, the current
//! message, or the current tab's keys) and the status bar (each source's freshness, the API budget).

use super::text::first_key;
use super::theme::Theme;
use crate::app::keymap::Action;
use crate::app::layout::{badge_width, tab_title_spans};
use crate::app::{Level, Mode, State};
use crate::domain::SourceId;
use crate::fmt::{fmt_age, plural_with};
use crate::sanitize::{truncate, width};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

pub fn draw_tab_bar(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let production = state.rollouts.items.iter().any(|r| r.production);
    let mut badges: Vec<Span> = Vec::new();
    if production {
        badges.push(Span::styled(
            " PROD ",
            theme.production().add_modifier(Modifier::REVERSED),
        ));
        badges.push(Span::raw(" "));
    }
    if state.read_only {
        badges.push(Span::styled(
            " READ-ONLY ",
            theme.warn().add_modifier(Modifier::REVERSED),
        ));
        badges.push(Span::raw(" "));
    }
    let badge_width = badge_width(production, state.read_only);
    let [left, right] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(badge_width)]).areas(area);
    // A service the judge says ROLLBACK marks the Rollouts tab from any other tab.
    let rollback = state
        .judgements
        .values()
        .any(|j| j.verdict == crate::analysis::canary::Verdict::Rollback);
    let mut spans = vec![Span::raw(" ")];
    for (i, (tab, text, _, _)) in tab_title_spans(left.width, state.tab)
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            spans.push(Span::styled("│", theme.muted()));
        }
        let style = if tab == state.tab {
            theme.selected()
        } else if tab == crate::app::Tab::Rollouts && rollback {
            theme.danger().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Line::from(spans), left);
    frame.render_widget(Line::from(badges), right);
}

/// A short label for the hint bar.
fn hint_label(a: Action) -> &'static str {
    match a {
        Action::RerunFailed => "re-run",
        Action::CancelRun => "cancel",
        Action::GroupByRepo => "group",
        other => other.name(),
    }
}

/// The current tab's keys, then the ones that work everywhere, as many as fit in `room` columns;
/// help's key always ends the line (it lists everything else).
pub fn hint_text(state: &State, room: usize) -> String {
    let item = |a: Action| {
        let key = first_key(&state.keymap, a);
        (!key.is_empty()).then(|| format!("{key} {}", hint_label(a)))
    };
    let help = item(Action::Help).unwrap_or_default();
    let room = room.saturating_sub(width(&help) + 3);
    let mut out = String::new();
    let always = [Action::Filter, Action::Palette, Action::Quit];
    for text in state
        .tab
        .actions()
        .iter()
        .chain(always.iter())
        .filter_map(|&a| item(a))
    {
        if width(&out) + 3 + width(&text) > room {
            break;
        }
        out.push_str(if out.is_empty() { " " } else { " · " });
        out.push_str(&text);
    }
    if !help.is_empty() {
        out.push_str(if out.is_empty() { " " } else { " · " });
        out.push_str(&help);
    }
    out
}

pub fn draw_message_bar(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let line = if let Mode::Filter { .. } = state.mode {
        let l = state.list(state.tab);
        Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::raw(l.filter.clone()),
            Span::styled("▏", theme.accent()),
            Span::styled(
                format!(
                    "  {}  ·  enter keep  ·  esc cancel",
                    plural_with(l.view.len(), "match", "matches")
                ),
                theme.muted(),
            ),
        ])
    } else if let Some(m) = state.current_message() {
        let (tag, style) = match m.level {
            Level::Info => ("info", theme.ok()),
            Level::Warn => ("warn", theme.warn()),
            Level::Error => ("error", theme.danger()),
        };
        Line::from(vec![
            Span::styled(format!(" {tag} "), style.add_modifier(Modifier::REVERSED)),
            Span::raw(" "),
            Span::raw(m.text.clone()),
        ])
    } else {
        Line::from(Span::styled(
            hint_text(state, area.width as usize),
            theme.muted(),
        ))
    };
    frame.render_widget(line, area);
}

/// The status bar's parts, fitted to `room` columns: each source's label is shortened so that all
/// three fit; the API budget and the theme hint are dropped before a source is.
pub fn status_parts(state: &State, room: usize) -> (Vec<String>, Option<String>, Option<String>) {
    let budget = |name: &str, r: crate::domain::RateLimit| {
        let low = r.remaining < r.limit / 10;
        let reset = if low {
            let secs = r.reset - state.now.unix_timestamp();
            format!(", resets in {}", fmt_age(secs.max(0)))
        } else {
            String::new()
        };
        format!(" · {name} {}/{}{reset}", r.remaining, r.limit)
    };
    // REST's budget always; GraphQL's (the PR list's points) when it runs low.
    let api = match (state.rate, state.graphql_rate) {
        (r, Some(g)) if g.remaining < g.limit / 10 => Some(format!(
            "{}{}",
            r.map(|r| budget("API", r)).unwrap_or_default(),
            budget("GraphQL", g)
        )),
        (Some(r), _) => Some(budget("API", r)),
        (None, _) => None,
    };
    // Polls spaced out ahead of the wall: say so, with the reset.
    let api = match (api, state.slowed) {
        (api, Some(s)) => {
            let f = time::macros::format_description!("[hour]:[minute]");
            let until = time::OffsetDateTime::from_unix_timestamp(s.until)
                .ok()
                .and_then(|t| t.format(&f).ok())
                .unwrap_or_else(|| "its reset".into());
            Some(format!(
                "{} · GitHub slowed to a poll every {} until {until} UTC ({} running low)",
                api.unwrap_or_default(),
                fmt_age(i64::try_from(s.every_secs).unwrap_or(i64::MAX)),
                if s.graphql {
                    "GraphQL points"
                } else {
                    "API requests"
                },
            ))
        }
        (api, None) => api,
    };
    let right = format!("{} · ? help ", state.theme_name());
    let labels: Vec<String> = SourceId::ALL
        .iter()
        .map(|&id| state.freshness(id))
        .collect();
    let natural: usize = 1 + labels.iter().map(|l| width(l)).sum::<usize>() + 3 * 2;
    let mut budget = room;
    let right = (natural + width(&right) < budget).then_some(right);
    budget -= right.as_ref().map_or(0, |r| width(r));
    let api = api.filter(|a| natural + width(a) <= budget);
    budget -= api.as_ref().map_or(0, |a| width(a));
    let per_source = budget.saturating_sub(1 + 3 * 2) / 3;
    let labels = labels
        .into_iter()
        .map(|l| truncate(&l, per_source.max(1)))
        .collect();
    (labels, api, right)
}

pub fn draw_status_bar(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (labels, api, right) = status_parts(state, area.width as usize);
    let mut spans = vec![Span::raw(" ")];
    for (i, (id, label)) in SourceId::ALL.iter().zip(labels).enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.muted()));
        }
        let s = state.source(*id);
        // Data from the on-disk store is a warning until a poll answers, not an error.
        let style = if state.source_error(*id).is_some() {
            theme.danger()
        } else if state.cached(*id) {
            theme.warn()
        } else if state.stale(*id) {
            theme.danger()
        } else if s.loaded {
            theme.ok()
        } else {
            theme.muted()
        };
        spans.push(Span::styled(label, style));
    }
    if let Some(api) = api {
        let low = state.slowed.is_some()
            || [state.rate, state.graphql_rate]
                .iter()
                .flatten()
                .any(|r| r.remaining < r.limit / 10);
        spans.push(Span::styled(
            api,
            if low { theme.warn() } else { theme.muted() },
        ));
    }
    let right = right.unwrap_or_default();
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(width(&right) as u16)])
        .areas(area);
    frame.render_widget(Line::from(spans), l);
    frame.render_widget(Line::from(Span::styled(right, theme.muted())), r);
}
