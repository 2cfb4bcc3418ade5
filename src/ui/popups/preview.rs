//! The LLM prompt's preview: the request body exactly as `s` sends it (redacted, fenced), so the
//! operator reads what would leave the machine. Shown as JSON text, wrapped, scrollable.

use crate::app::State;
use crate::app::layout::Extent;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

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
    super::draw_scrolled_popup(
        theme,
        frame,
        area,
        "Prompt preview — esc closes",
        lines,
        100,
        scroll,
    )
}
