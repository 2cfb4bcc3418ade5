//! Overlays: help, the command palette, the error history, the confirmation of remote changes and
//! the failed-log view.

pub mod confirm;
pub mod draft;
pub mod errors;
pub mod help;
pub mod log;
pub mod palette;
pub mod preview;

use super::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders};

/// A centred rectangle `width_pct` of the screen wide (at least 40 columns, never more than the
/// screen) and `height` rows high (within the screen).
pub fn popup_area(area: Rect, width_pct: u16, height: u16) -> Rect {
    let w = (area.width * width_pct / 100).max(40).min(area.width);
    let h = height
        .min(area.height.saturating_sub(2))
        .max(3)
        .min(area.height);
    centered(area, w, h)
}

/// A `width` × `height` rectangle centred in `area` (shrunk to fit).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn popup_block<'a>(theme: &Theme, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.accent())
        .title(Span::styled(format!(" {title} "), theme.header()))
        .style(theme.base())
}

/// A wrapped, scrollable popup of `lines` under `title`, `width_pct` of the screen wide and as
/// tall as it allows; its extent, for the scroll bounds (the error history, the prompt preview).
pub fn draw_scrolled_popup(
    theme: &Theme,
    frame: &mut ratatui::Frame,
    area: Rect,
    title: &str,
    lines: Vec<ratatui::text::Line<'_>>,
    width_pct: u16,
    scroll: u16,
) -> crate::app::layout::Extent {
    use ratatui::text::{Line, Span};
    let rect = popup_area(area, width_pct, area.height.saturating_sub(4));
    let inner = crate::app::layout::inset(rect);
    let (p, content) = crate::ui::wrapped(lines, inner.width);
    let extent = crate::app::layout::Extent {
        content,
        viewport: inner.height,
    };
    let mut block = popup_block(theme, title);
    if let Some(hint) = crate::ui::scroll_hint(extent, scroll, "j/k pgdn/pgup") {
        block = block.title_bottom(Line::from(Span::styled(hint, theme.accent())).right_aligned());
    }
    frame.render_widget(ratatui::widgets::Clear, rect);
    frame.render_widget(block, rect);
    crate::ui::draw_scrolled(frame, inner, p, extent, scroll);
    extent
}
