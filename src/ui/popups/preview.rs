//! The LLM prompt's preview: the request body exactly as `s` sends it (redacted, fenced), so the
//! operator reads what would leave the machine. Shown as JSON text, wrapped, scrollable.

use super::{popup_area, popup_block};
use crate::app::State;
use crate::app::layout::{Extent, inset};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

pub fn draw(state: &State, theme: &Theme, frame: &mut Frame, area: Rect, scroll: u16) -> Extent {
    let body = state.preview.as_deref().unwrap_or("");
    let mut lines: Vec<Line> = vec![Line::from(Span::styled(
        format!(
            "{} bytes to {} — exactly what `s` sends:",
            crate::fmt::thousands(body.len() as u64),
            state
                .llm_model
                .as_deref()
                .unwrap_or("no model (nothing is sent)")
        ),
        theme.muted(),
    ))];
    // The body is JSON: its strings hold the prompt's newlines as `\n`; shown as sent. Control
    // characters cannot be in it (JSON escapes them), and it passes the cleaner for the screen.
    lines.push(Line::raw(crate::sanitize::clean(body)));
    let rect = popup_area(area, 100, area.height.saturating_sub(4));
    let inner = inset(rect);
    let (p, content) = crate::ui::wrapped(lines, inner.width);
    let extent = Extent {
        content,
        viewport: inner.height,
    };
    let mut block = popup_block(theme, "Prompt preview — esc closes");
    if let Some(hint) = crate::ui::scroll_hint(extent, scroll, "j/k pgdn/pgup") {
        block = block.title_bottom(Line::from(Span::styled(hint, theme.accent())).right_aligned());
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    crate::ui::draw_scrolled(frame, inner, p, extent, scroll);
    extent
}
