//! The command palette: every action by name, fuzzy-matched, with its keys.

use super::{popup_area, popup_block};
use crate::app::filter::Query;
use crate::app::{State, palette_entries};
use crate::ui::text::highlighted;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub fn draw(
    state: &State,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
    input: &str,
    selected: usize,
) {
    let entries = palette_entries(input);
    let q = Query::new(input);
    let h = (entries.len() as u16 + 4).min(area.height.saturating_sub(2));
    let mut rect = popup_area(area, 60, h);
    rect.y = area.y + 2.min(area.height.saturating_sub(rect.height));
    frame.render_widget(Clear, rect);
    let block = popup_block(theme, "Commands — enter runs, esc closes");
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
            let mut spans = highlighted(a.name(), &q, style, theme.matched());
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
