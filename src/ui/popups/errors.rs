//! The error history: warnings and errors, newest first, scrollable.

use super::{popup_area, popup_block};
use crate::app::layout::{Extent, inset};
use crate::app::{Level, State};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

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
    let rect = popup_area(area, 90, area.height.saturating_sub(4));
    let inner = inset(rect);
    let (p, content) = crate::ui::wrapped(lines, inner.width);
    let extent = Extent {
        content,
        viewport: inner.height,
    };
    let mut block = popup_block(theme, "Error history — newest first, esc closes");
    if let Some(hint) = crate::ui::scroll_hint(extent, scroll, "j/k pgdn/pgup") {
        block = block.title_bottom(Line::from(Span::styled(hint, theme.accent())).right_aligned());
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    crate::ui::draw_scrolled(frame, inner, p, extent, scroll);
    extent
}
