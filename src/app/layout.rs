//! Screen geometry, in one place: `update` (list heights, mouse hits, page sizes) and `ui::render`
//! (where each part is drawn) both ask [`screen`], so the two cannot drift apart. Pure arithmetic
//! on the terminal size.

use super::tab::Tab;
use ratatui::layout::Rect;

/// Where each part of the cockpit goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    pub area: Rect,
    pub tab_bar: Rect,
    /// Between the tab bar and the message bar: the table and the detail pane, or the log view.
    pub body: Rect,
    pub message_bar: Rect,
    pub status_bar: Rect,
    /// The table with its border.
    pub table: Rect,
    /// The table's rows: inside the border, below the header.
    pub rows: Rect,
    /// The detail pane with its border, when open.
    pub detail: Option<Rect>,
    /// The log view's text: the body inside its border.
    pub log_text: Rect,
}

/// Terminals narrower than this put the detail pane below the table instead of beside it.
pub const DETAIL_RIGHT_MIN_WIDTH: u16 = 140;

/// The geometry of a `width` × `height` terminal, with or without the detail pane.
pub fn screen(width: u16, height: u16, detail: bool) -> Screen {
    let area = Rect::new(0, 0, width, height);
    let tab_bar = Rect::new(0, 0, width, height.min(1));
    let body_h = height.saturating_sub(3);
    let body = Rect::new(0, tab_bar.height, width, body_h);
    let message_bar = Rect::new(
        0,
        body.bottom(),
        width,
        height.saturating_sub(body.bottom()).min(1),
    );
    let status_bar = Rect::new(
        0,
        message_bar.bottom(),
        width,
        height.saturating_sub(message_bar.bottom()).min(1),
    );
    let (table, detail) = if !detail {
        (body, None)
    } else if width >= DETAIL_RIGHT_MIN_WIDTH {
        let left = width * 60 / 100;
        (
            Rect::new(0, body.y, left, body.height),
            Some(Rect::new(left, body.y, width - left, body.height)),
        )
    } else {
        let top = body.height - body.height / 2;
        (
            Rect::new(0, body.y, width, top),
            Some(Rect::new(0, body.y + top, width, body.height - top)),
        )
    };
    let inner = inset(table);
    let rows = Rect::new(
        inner.x,
        inner.y.saturating_add(1).min(inner.bottom()),
        inner.width,
        inner.height.saturating_sub(1),
    );
    Screen {
        area,
        tab_bar,
        body,
        message_bar,
        status_bar,
        table,
        rows,
        detail,
        log_text: inset(body),
    }
}

/// A rectangle inside a one-cell border.
pub fn inset(r: Rect) -> Rect {
    r.inner(ratatui::layout::Margin::new(1, 1))
}

/// Column ranges `[start, end)` of the tab titles in the tab bar, for drawing and mouse hits.
pub fn tab_title_spans() -> Vec<(Tab, u16, u16)> {
    let mut x = 1u16;
    Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let w = (format!(" {} {} ", i + 1, t.title()).chars().count()) as u16;
            let span = (t, x, x + w);
            x += w + 1;
            span
        })
        .collect()
}

/// How much of a scrollable pane's content fits: measured by the renderer on the last frame and
/// reported back ([`super::Msg::Drawn`]) so that scrolling stops at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extent {
    /// Rows of content (after wrapping).
    pub content: u16,
    /// Rows that are visible at once.
    pub viewport: u16,
}

impl Extent {
    /// The largest useful scroll offset.
    pub fn max_scroll(self) -> u16 {
        self.content.saturating_sub(self.viewport)
    }
}

/// What the last frame measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drawn {
    /// The detail pane, when open.
    pub detail: Option<Extent>,
    /// The scrollable popup (help, error history), when open.
    pub popup: Option<Extent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_tile_the_screen() {
        for (w, h) in [(80, 24), (40, 10), (200, 50), (20, 5), (0, 0), (1, 1)] {
            for detail in [false, true] {
                let s = screen(w, h, detail);
                assert_eq!(
                    s.tab_bar.height + s.body.height + s.message_bar.height + s.status_bar.height,
                    h,
                    "{w}x{h}"
                );
                if let Some(d) = s.detail {
                    assert!(d.bottom() <= s.body.bottom() && d.right() <= w);
                    assert!(
                        s.table.height + d.height == s.body.height || s.table.width + d.width == w
                    );
                }
                assert!(s.rows.height == 0 || s.rows.bottom() <= s.table.bottom());
            }
        }
    }

    #[test]
    fn rows_start_below_the_tab_bar_border_and_header() {
        let s = screen(80, 24, false);
        assert_eq!(s.rows.y, 3);
        assert_eq!(s.rows.height, 24 - 3 - 3);
        let d = screen(80, 24, true);
        assert_eq!(d.rows.height, 21 - 21 / 2 - 3);
        assert_eq!(screen(140, 24, true).rows.height, s.rows.height);
        assert_eq!(s.log_text.height, 24 - 3 - 2);
    }
}
