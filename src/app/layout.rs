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

/// The width of the tab bar's badges on its right (` PROD `, ` READ-ONLY `, each and a space).
pub fn badge_width(production: bool, read_only: bool) -> u16 {
    u16::from(production) * 7 + u16::from(read_only) * 12
}

/// The tab titles in a bar `room` columns wide (the badges' width taken off), for drawing and
/// mouse hits: each tab's text and its column range `[start, end)`. Every tab stays in view at
/// any width: titles in full when they fit, else short ("Roll", "Inc"), else the numbers alone
/// with the current tab's title.
pub fn tab_title_spans(room: u16, current: Tab) -> Vec<(Tab, String, u16, u16)> {
    let short = |t: Tab| match t {
        Tab::Rollouts => "Roll",
        Tab::Incidents => "Inc",
        other => other.title(),
    };
    let texts = |title: &dyn Fn(Tab) -> Option<&'static str>| -> Vec<(Tab, String)> {
        Tab::ALL
            .iter()
            .enumerate()
            .map(|(i, &t)| match title(t) {
                Some(name) => (t, format!(" {} {name} ", i + 1)),
                None => (t, format!(" {} ", i + 1)),
            })
            .collect()
    };
    // One leading space, a separator between titles.
    let width = |v: &[(Tab, String)]| -> usize {
        1 + v.iter().map(|(_, s)| s.chars().count()).sum::<usize>() + v.len().saturating_sub(1)
    };
    let mut v = texts(&|t| Some(t.title()));
    if width(&v) > usize::from(room) {
        v = texts(&|t| Some(short(t)));
    }
    if width(&v) > usize::from(room) {
        v = texts(&|t| (t == current).then(|| short(t)));
    }
    let mut x = 1u16;
    v.into_iter()
        .map(|(t, text)| {
            let w = text.chars().count() as u16;
            let span = (t, text, x, x + w);
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

    #[test]
    fn every_tab_stays_in_the_bar_at_any_width() {
        let texts = |room: u16, current: Tab| -> Vec<String> {
            tab_title_spans(room, current)
                .into_iter()
                .map(|(_, t, ..)| t.trim().to_string())
                .collect()
        };
        assert_eq!(
            texts(120, Tab::Prs),
            ["1 PRs", "2 Runs", "3 Rollouts", "4 Incidents", "5 AI"]
        );
        // 50 columns less the PROD badge: short titles.
        assert_eq!(
            texts(43, Tab::Prs),
            ["1 PRs", "2 Runs", "3 Roll", "4 Inc", "5 AI"]
        );
        // Narrower still: the numbers, and the current tab's title.
        assert_eq!(texts(30, Tab::Rollouts), ["1", "2", "3 Roll", "4", "5"]);
        for room in [20u16, 30, 43, 51, 120] {
            let spans = tab_title_spans(room, Tab::Ai);
            assert_eq!(spans.len(), Tab::ALL.len());
            let mut end = 0;
            for (_, text, a, b) in &spans {
                assert!(*a > end || end == 0, "{spans:?}");
                assert_eq!(usize::from(b - a), text.chars().count());
                end = *b;
            }
            if room >= 30 {
                assert!(end <= room, "{room}: {spans:?}");
            }
        }
    }
}
