//! The error history: warnings and errors, newest first, scrollable.

use crate::app::layout::Extent;
use crate::app::{Level, State};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(state: &State, theme: &Theme, frame: &mut Frame, area: Rect, scroll: u16) -> Extent {
    let fmt = time::macros::format_description!("[hour]:[minute]:[second]");
    let mut lines: Vec<Line> = state
        .messages
        .iter()
        .rev()
        .filter(|m| m.level >= Level::Warn)
        .map(|m| {
            let (tag, style) = if m.level == Level::Error {
                ("error ", theme.danger())
            } else {
                ("warn  ", theme.warn())
            };
            Line::from(vec![
                Span::styled(m.at.format(&fmt).unwrap_or_default(), theme.muted()),
                Span::raw(" "),
                Span::styled(tag, style),
                Span::raw(m.text.clone()),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("No errors so far.", theme.muted())));
    }
    super::draw_scrolled_popup(
        theme,
        frame,
        area,
        "Error history — newest first, esc closes",
        lines,
        90,
        scroll,
    )
}
