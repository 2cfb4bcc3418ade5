//! Help: the live key bindings, the current tab's first, scrollable, with a hint that says so.

use super::{popup_area, popup_block};
use crate::app::State;
use crate::app::keymap::Action;
use crate::app::layout::{Extent, inset};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// Help's lines: the current tab's actions, then every other action.
pub fn lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let width = Action::ALL
        .iter()
        .map(|a| state.keymap.describe(*a).chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let entry = |a: Action| {
        let keys = state.keymap.describe(a);
        let keys = if keys.is_empty() {
            "—".to_string()
        } else {
            keys
        };
        Line::from(vec![
            Span::styled(format!(" {keys:<width$} "), theme.accent()),
            Span::styled(format!("{:<14}", a.name()), theme.header()),
            Span::raw(a.description()),
        ])
    };
    let here = state.tab.actions();
    let mut lines = vec![Line::from(Span::styled(
        format!("On the {} tab", state.tab.title()),
        theme.header(),
    ))];
    lines.extend(here.iter().map(|&a| entry(a)));
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "Everywhere (live bindings; remap any under [keys] in the config)",
        theme.header(),
    )));
    lines.extend(
        Action::ALL
            .iter()
            .filter(|a| !here.contains(a))
            .map(|&a| entry(a)),
    );
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " In filter mode: type to narrow, enter keeps the filter, esc restores it.",
        theme.muted(),
    )));
    lines
}

pub fn draw(state: &State, theme: &Theme, frame: &mut Frame, area: Rect, scroll: u16) -> Extent {
    let lines = lines(state, theme);
    let rect = popup_area(area, 80, lines.len() as u16 + 2);
    let extent = Extent {
        content: lines.len() as u16,
        viewport: inset(rect).height,
    };
    let scroll = scroll.min(extent.max_scroll());
    let mut block = popup_block(theme, "Help — esc closes");
    if let Some(hint) = crate::ui::scroll_hint(extent, scroll, "j/k pgdn/pgup") {
        block = block.title_bottom(Line::from(Span::styled(hint, theme.accent())).right_aligned());
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
    extent
}
