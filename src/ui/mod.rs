//! Drawing. `render(&State, &mut Frame)` is pure: no I/O, no locks, and work proportional to what is
//! on screen, not to the size of the data.

pub mod ops;
pub mod tabs;
pub mod theme;

use crate::app::keymap::Action;
use crate::app::{Level, Mode, State, palette_entries, tab_title_spans};
use crate::domain::SourceId;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

/// "45s", "12m", "3h", "5d".
pub fn fmt_age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// Like [`fmt_age`] but without seconds ("now" under a minute), so that tables do not change every second.
pub fn fmt_age_coarse(secs: i64) -> String {
    if secs < 60 {
        "now".into()
    } else {
        fmt_age(secs)
    }
}

/// Draw the whole cockpit.
pub fn render(state: &State, frame: &mut Frame) {
    let area = frame.area();
    let theme = state.theme();
    frame.render_widget(Block::default().style(theme.base()), area);
    if area.height < 5 || area.width < 20 {
        frame.render_widget(Paragraph::new("flightdeck: terminal too small"), area);
        return;
    }
    let [tab_bar, body, message_bar, status_bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tab_bar(state, frame, tab_bar);
    tabs::draw_body(state, frame, body);
    draw_message_bar(state, frame, message_bar);
    draw_status_bar(state, frame, status_bar);
    match &state.mode {
        Mode::Help { scroll } => draw_help(state, frame, area, *scroll),
        Mode::Palette { input, selected } => draw_palette(state, frame, area, input, *selected),
        Mode::Errors { scroll } => draw_errors(state, frame, area, *scroll),
        Mode::Confirm(c) => ops::draw_confirm(state, frame, area, c),
        Mode::Log => {
            if let Some(log) = &state.log {
                ops::draw_log(state, frame, body, log);
            }
        }
        Mode::Normal | Mode::Filter { .. } => {}
    }
}

fn draw_tab_bar(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme();
    let mut spans = vec![Span::raw(" ")];
    for (i, (tab, _, _)) in tab_title_spans().into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("│", theme.muted()));
        }
        let text = format!(" {} {} ", i + 1, tab.title());
        let style = if tab == state.tab {
            theme.selected()
        } else {
            Style::default()
        };
        spans.push(Span::styled(text, style));
    }
    let mut badges: Vec<Span> = Vec::new();
    if state.rollouts.items.iter().any(|r| r.production) {
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
    let badge_width: u16 = badges.iter().map(|s| s.width() as u16).sum();
    let [left, right] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(badge_width)]).areas(area);
    frame.render_widget(Line::from(spans), left);
    frame.render_widget(Line::from(badges), right);
}

fn draw_message_bar(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme();
    let line = if let Mode::Filter { .. } = state.mode {
        let l = state.list(state.tab);
        Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::raw(l.filter.clone()),
            Span::styled("▏", theme.accent()),
            Span::styled(
                format!("  {} match  ·  enter keep  ·  esc cancel", l.view.len()),
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
        let k = |a: Action| state.keymap.describe(a);
        Line::from(Span::styled(
            format!(
                " {} filter · {} commands · {} help · {} detail · {} quit",
                k(Action::Filter),
                k(Action::Palette),
                k(Action::Help),
                k(Action::Detail),
                k(Action::Quit)
            ),
            theme.muted(),
        ))
    };
    frame.render_widget(line, area);
}

fn draw_status_bar(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme();
    let mut spans = vec![Span::raw(" ")];
    let per_source = ((area.width as usize).saturating_sub(30) / 3).clamp(12, 60);
    for (i, id) in SourceId::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.muted()));
        }
        let s = state.source(*id);
        let style = if s.last_error.is_some() || state.stale(*id) {
            theme.danger()
        } else if s.loaded {
            theme.ok()
        } else {
            theme.muted()
        };
        spans.push(Span::styled(
            crate::sanitize::truncate(&state.freshness(*id), per_source),
            style,
        ));
    }
    if let Some(r) = state.rate {
        let low = r.remaining < r.limit / 10;
        let style = if low { theme.warn() } else { theme.muted() };
        let reset = if low {
            let secs = r.reset - state.now.unix_timestamp();
            format!(", resets in {}", fmt_age(secs.max(0)))
        } else {
            String::new()
        };
        spans.push(Span::styled(
            format!(" · API {}/{}{reset}", r.remaining, r.limit),
            style,
        ));
    }
    let right = format!("{} · ? help ", state.theme().name);
    let [l, r] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(Line::from(spans), l);
    frame.render_widget(Line::from(Span::styled(right, theme.muted())), r);
}

fn popup_area(area: Rect, width_pct: u16, height: u16) -> Rect {
    let w = (area.width * width_pct / 100).max(40).min(area.width);
    let h = height.min(area.height.saturating_sub(2)).max(3);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    }
}

fn popup_block<'a>(state: &State, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(state.theme().accent())
        .title(Span::styled(format!(" {title} "), state.theme().header()))
        .style(state.theme().base())
}

fn draw_help(state: &State, frame: &mut Frame, area: Rect, scroll: u16) {
    let theme = state.theme();
    let mut lines = vec![Line::from(Span::styled(
        "Keys (live bindings; remap any of them under [keys] in the config)",
        theme.muted(),
    ))];
    let width = Action::ALL
        .iter()
        .map(|a| state.keymap.describe(*a).chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    for &a in Action::ALL {
        let keys = state.keymap.describe(a);
        let keys = if keys.is_empty() {
            "—".to_string()
        } else {
            keys
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {keys:<width$} "), theme.accent()),
            Span::styled(format!("{:<14}", a.name()), theme.header()),
            Span::raw(a.description()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " In filter mode: type to narrow, enter keeps the filter, esc restores it.",
        theme.muted(),
    )));
    let rect = popup_area(area, 80, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(popup_block(state, "Help — esc closes"))
            .scroll((scroll, 0)),
        rect,
    );
}

fn draw_palette(state: &State, frame: &mut Frame, area: Rect, input: &str, selected: usize) {
    let theme = state.theme();
    let entries = palette_entries(input);
    let q = crate::app::filter::Query::new(input);
    let h = (entries.len() as u16 + 4).min(area.height.saturating_sub(2));
    let mut rect = popup_area(area, 60, h);
    rect.y = area.y + 2.min(area.height.saturating_sub(rect.height));
    frame.render_widget(Clear, rect);
    let block = popup_block(state, "Commands — enter runs, esc closes");
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [input_area, list_area] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Line::from(vec![
            Span::styled(": ", theme.accent()),
            Span::raw(input.to_string()),
            Span::styled("▏", theme.accent()),
        ]),
        input_area,
    );
    let visible = list_area.height as usize;
    let start = selected.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = entries
        .iter()
        .enumerate()
        .skip(start)
        .take(visible)
        .map(|(i, &a)| {
            let style = if i == selected {
                theme.selected()
            } else {
                Style::default()
            };
            let mut spans = tabs::highlighted(a.name(), &q, style, theme.matched());
            spans.insert(0, Span::styled(" ", style));
            let keys = state.keymap.describe(a);
            let pad = 16usize.saturating_sub(a.name().chars().count());
            spans.push(Span::styled(" ".repeat(pad), style));
            spans.push(Span::styled(
                a.description().to_string(),
                style.patch(theme.muted()),
            ));
            if !keys.is_empty() {
                spans.push(Span::styled(
                    format!("  [{keys}]"),
                    style.patch(theme.muted()),
                ));
            }
            Line::from(spans)
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(" no command matches", theme.muted())),
            list_area,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), list_area);
    }
}

fn draw_errors(state: &State, frame: &mut Frame, area: Rect, scroll: u16) {
    let theme = state.theme();
    let fmt = time::macros::format_description!("[hour]:[minute]:[second]");
    let mut lines: Vec<Line> = state
        .messages
        .iter()
        .rev()
        .filter(|m| m.level >= Level::Warn)
        .map(|m| {
            let style = if m.level == Level::Error {
                theme.danger()
            } else {
                theme.warn()
            };
            Line::from(vec![
                Span::styled(m.at.format(&fmt).unwrap_or_default(), theme.muted()),
                Span::raw(" "),
                Span::styled(
                    if m.level == Level::Error {
                        "error "
                    } else {
                        "warn  "
                    },
                    style,
                ),
                Span::raw(m.text.clone()),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("No errors so far.", theme.muted())));
    }
    let rect = popup_area(area, 90, area.height.saturating_sub(4));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(popup_block(
                state,
                "Error history — newest first, esc closes",
            ))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        rect,
    );
}
