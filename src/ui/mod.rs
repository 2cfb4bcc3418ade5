//! Drawing. `render(&State, &Theme, &mut Frame) -> Drawn` is pure: no I/O, no locks, work
//! proportional to what is on screen, not to the size of the data. It reports what it measured
//! (scrollable content heights) so that `update` can stop scrolling at the end.
//!
//! - `table`: the generic table (columns dropped by priority on narrow terminals)
//! - `tabs/`: one view per tab (columns, cells, detail) behind [`tabs::TabView`]
//! - `popups/`: help, palette, error history, confirmation, log view · `bars`: tab, message and
//!   status bars · `text`: small line builders · `theme`: colours

pub mod bars;
pub mod popups;
pub mod table;
pub mod tabs;
pub mod text;
pub mod theme;

use crate::app::layout::{Drawn, Extent};
use crate::app::{Mode, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};
use theme::Theme;

/// Draw the whole cockpit with `theme`, and report the scrollable panes' extents.
pub fn render(state: &State, theme: &Theme, frame: &mut Frame) -> Drawn {
    let area = frame.area();
    frame.render_widget(Block::default().style(theme.base()), area);
    if area.height < 5 || area.width < 20 {
        frame.render_widget(Paragraph::new("flightdeck: terminal too small"), area);
        return Drawn::default();
    }
    let screen = crate::app::layout::screen(area.width, area.height, state.detail);
    let mut drawn = Drawn::default();
    bars::draw_tab_bar(state, theme, frame, screen.tab_bar);
    table::draw_table(state, theme, frame, screen.table, screen.rows);
    if let Some(d) = screen.detail {
        drawn.detail = Some(tabs::draw_detail(state, theme, frame, d));
    }
    bars::draw_message_bar(state, theme, frame, screen.message_bar);
    bars::draw_status_bar(state, theme, frame, screen.status_bar);
    match &state.mode {
        Mode::Help { scroll } => {
            drawn.popup = Some(popups::help::draw(state, theme, frame, area, *scroll));
        }
        Mode::Palette { input, selected } => {
            popups::palette::draw(state, theme, frame, area, input, *selected)
        }
        Mode::Errors { scroll } => {
            drawn.popup = Some(popups::errors::draw(state, theme, frame, area, *scroll));
        }
        Mode::Preview { scroll } => {
            drawn.popup = Some(popups::preview::draw(state, theme, frame, area, *scroll));
        }
        Mode::Confirm(c) => popups::confirm::draw(theme, frame, area, c),
        Mode::Log => {
            if let Some(log) = &state.log {
                popups::log::draw(theme, frame, screen.body, log);
            }
        }
        Mode::Draft => {
            if let Some(e) = &state.draft {
                popups::draft::draw(theme, frame, screen.body, e);
            }
        }
        Mode::Normal | Mode::Filter { .. } => {}
    }
    drawn
}

/// A wrapped paragraph of `lines`, its height at `width`, ready to draw scrolled.
pub fn wrapped(lines: Vec<Line<'_>>, width: u16) -> (Paragraph<'_>, u16) {
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let content = p.line_count(width).min(u16::MAX as usize) as u16;
    (p, content)
}

/// Draw a wrapped paragraph from row `scroll`, clamped so that its end stays reachable.
pub fn draw_scrolled(frame: &mut Frame, area: Rect, p: Paragraph<'_>, extent: Extent, scroll: u16) {
    frame.render_widget(p.scroll((scroll.min(extent.max_scroll()), 0)), area);
}

/// The hint on a scrollable pane's bottom border: how much is above and below, and the keys.
pub fn scroll_hint(extent: Extent, scroll: u16, keys: &str) -> Option<String> {
    if extent.content <= extent.viewport {
        return None;
    }
    let scroll = scroll.min(extent.max_scroll());
    let below = extent.max_scroll() - scroll;
    let pos = match (scroll, below) {
        (0, b) => format!("↓ {b} more"),
        (s, 0) => format!("↑ {s} above"),
        (s, b) => format!("↑ {s} · ↓ {b} more"),
    };
    Some(format!(" {pos} · {keys} "))
}
