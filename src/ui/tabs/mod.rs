//! One view per tab behind [`TabView`]: its columns (with the priority that decides which go
//! first on narrow terminals), the cells of a row, and the detail pane's lines. A new tab is a new
//! file here and an arm in [`view`].

mod ai;
mod incidents;
mod prs;
mod rollouts;
mod runs;

pub use rollouts::{slice_strip, spark};

use super::table::frame_block;
use super::theme::Theme;
use crate::app::layout::{Extent, inset};
use crate::app::{Loadable, State, Tab};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// A table column: its width, how long it stays as the terminal narrows (higher stays longer),
/// and whether filter matches are highlighted in it.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub width: Constraint,
    pub keep: u8,
    pub highlight: bool,
    /// The narrowest a `Fill` column may get before lower-priority columns are dropped for it.
    pub min: u16,
}

impl Col {
    pub const fn new(width: Constraint, keep: u8) -> Col {
        Col {
            width,
            keep,
            highlight: false,
            min: 10,
        }
    }

    pub const fn at_least(mut self, min: u16) -> Col {
        self.min = min;
        self
    }

    pub const fn highlighted(mut self) -> Col {
        self.highlight = true;
        self
    }
}

/// What the generic table and the detail pane need of a tab.
pub trait TabView {
    /// One per entry of the row type's `COLUMNS`, in the same order.
    fn columns(&self) -> &'static [Col];
    /// The column that shows the group (left blank on repeated rows when grouped).
    fn group_column(&self) -> usize {
        0
    }
    /// The cells of item `item` (an index into the tab's items).
    fn cells(&self, state: &State, t: &Theme, item: usize) -> Vec<(String, Style)>;
    /// The detail pane's lines for the selected item, if one is selected.
    fn detail(&self, state: &State, t: &Theme, width: u16) -> Option<Vec<Line<'static>>>;
}

pub fn view(tab: Tab) -> &'static dyn TabView {
    match tab {
        Tab::Prs => &prs::Prs,
        Tab::Runs => &runs::Runs,
        Tab::Rollouts => &rollouts::Rollouts,
        Tab::Incidents => &incidents::Incidents,
        Tab::Ai => &ai::Ai,
    }
}

/// The detail pane of the selected row, scrolled by `state.detail_scroll`; returns its extent.
pub fn draw_detail(state: &State, t: &Theme, frame: &mut Frame, area: Rect) -> Extent {
    let inner = inset(area);
    let mut lines = view(state.tab)
        .detail(state, t, inner.width)
        .unwrap_or_else(|| vec![Line::from(Span::styled("Nothing selected.", t.muted()))]);
    // The subject's summary from the AI tab, under the detail's title.
    if let Some(h) = ai_headline(state) {
        let at = lines.len().min(1);
        lines.insert(
            at,
            Line::from(vec![Span::styled("AI  ", t.accent()), Span::raw(h)]),
        );
    }
    let (p, content) = super::wrapped(lines, inner.width);
    let extent = Extent {
        content,
        viewport: inner.height,
    };
    let mut block = frame_block(state, t, Line::from(Span::styled(" Detail ", t.header())));
    let keys = format!(
        "{}/{} {}/{}",
        super::text::first_key(&state.keymap, crate::app::keymap::Action::ScrollDown),
        super::text::first_key(&state.keymap, crate::app::keymap::Action::ScrollUp),
        super::text::first_key(&state.keymap, crate::app::keymap::Action::PageDown),
        super::text::first_key(&state.keymap, crate::app::keymap::Action::PageUp),
    );
    if let Some(hint) = super::scroll_hint(extent, state.detail_scroll, &keys) {
        block = block.title_bottom(Line::from(Span::styled(hint, t.accent())).right_aligned());
    }
    frame.render_widget(block, area);
    super::draw_scrolled(frame, inner, p, extent, state.detail_scroll);
    extent
}

/// The AI tab's headline for the selected row of the other tabs, with its source: the summary
/// when the row needs attention, else (a PR) its risk from what is known.
fn ai_headline(state: &State) -> Option<String> {
    use crate::ai::summaries;
    use crate::domain::SummaryKind;
    let (kind, subject) = match state.tab {
        Tab::Ai => return None,
        Tab::Prs => {
            let p = state.prs.selected()?;
            (SummaryKind::Pr, summaries::pr_subject(p))
        }
        Tab::Runs => {
            let r = state.runs.selected()?;
            (SummaryKind::Run, summaries::run_subject(r))
        }
        Tab::Rollouts => {
            let r = state.rollouts.selected()?;
            (SummaryKind::Rollout, summaries::rollout_subject(r))
        }
        Tab::Incidents => {
            let i = state.incidents.selected()?;
            (SummaryKind::Incident, summaries::incident_subject(i))
        }
    };
    if let Some(s) = state
        .summaries
        .items
        .iter()
        .find(|s| s.kind == kind && s.subject == subject)
    {
        return Some(format!("{} ({})", s.headline, s.analyzer));
    }
    if kind == SummaryKind::Pr {
        let p = state.prs.selected()?;
        let files = match state.pr_files.get(&subject) {
            Some((_, Loadable::Ready(f))) => Some(f.as_slice()),
            _ => None,
        };
        let (s, _) = summaries::pr(p, files, &state.risk_rules);
        return Some(format!("{} ({})", s.headline, s.analyzer));
    }
    None
}

/// The line that stands in for on-demand data that is not ready.
fn not_ready<'a, T>(t: &Theme, l: Option<&Loadable<T>>) -> Line<'a> {
    match l {
        Some(Loadable::Failed(e)) => {
            Line::from(Span::styled(format!(" could not load: {e}"), t.danger()))
        }
        Some(Loadable::Loading) | Some(Loadable::Ready(_)) | None => {
            Line::from(Span::styled(" loading…", t.muted()))
        }
    }
}

/// The snapshots every tab view keeps: 80×24 and 200×50 with the detail pane, and 40 columns.
#[cfg(test)]
#[macro_export]
macro_rules! view_snapshots {
    ($tab:expr) => {
        #[test]
        fn populated_80x24_with_detail() {
            let mut s = loaded($tab, 80, 24);
            s.detail = true;
            insta::assert_snapshot!(draw(&s));
        }

        #[test]
        fn wide_200x50_with_detail() {
            let mut s = loaded($tab, 200, 50);
            s.detail = true;
            insta::assert_snapshot!(draw(&s));
        }

        #[test]
        fn narrow_40x20() {
            let s = loaded($tab, 40, 20);
            insta::assert_snapshot!(draw(&s));
        }
    };
}

/// What the tab views' tests share: the integration tests' rows (one file for both), a loaded
/// cockpit, and drawing with a chosen theme.
#[cfg(test)]
pub(crate) mod testkit {
    #![allow(dead_code)]
    use crate::app::keymap::Keymap;
    use crate::app::{Msg, State, Tab, update};
    use crate::domain::*;
    use crate::ui::theme::Theme;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use time::OffsetDateTime;
    use time::macros::datetime;

    include!("../../../tests/common/data.rs");

    /// Every source loaded, on `tab`, at `w` × `h`.
    pub fn loaded(tab: Tab, w: u16, h: u16) -> State {
        let mut s = State::new(Keymap::default(), vec!["default".into()], NOW);
        s.size = (w, h);
        for src in &mut s.sources {
            src.configured = true;
        }
        for (id, data) in [
            (SourceId::GitHub, github_data()),
            (SourceId::Prometheus, prometheus_data()),
            (SourceId::Sentry, sentry_data()),
        ] {
            update(&mut s, Msg::loaded(id, Ok(data), NOW));
        }
        s.tab = tab;
        s.messages.clear();
        s
    }

    pub fn draw_with(state: &State, theme: &Theme) -> Terminal<TestBackend> {
        let mut t = Terminal::new(TestBackend::new(state.size.0, state.size.1)).unwrap();
        t.draw(|f| {
            crate::ui::render(state, theme, f);
        })
        .unwrap();
        t
    }

    pub fn draw(state: &State) -> String {
        let theme = Theme::builtin("default").unwrap();
        format!("{}", draw_with(state, &theme).backend())
    }

    /// A theme whose danger, warn and ok colours are unmistakable.
    pub fn loud_theme() -> Theme {
        let base = Theme::builtin("default").unwrap();
        Theme::from_toml(
            "loud",
            "danger = \"#ff00ff\"\nok = \"#00ff01\"\nwarn = \"#ffff01\"\n",
            Some(&base),
        )
        .unwrap()
    }

    /// The style of the first cell of the first occurrence of `needle` on screen.
    pub fn style_of(t: &Terminal<TestBackend>, needle: &str) -> Option<ratatui::style::Style> {
        let buf = t.backend().buffer();
        for y in 0..buf.area.height {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            if let Some(byte) = row.find(needle) {
                let x = row[..byte].chars().count() as u16;
                return Some(buf[(x, y)].style());
            }
        }
        None
    }

    /// The hint bar (the screen's second-to-last row).
    pub fn hint_bar(t: &Terminal<TestBackend>) -> String {
        let buf = t.backend().buffer();
        let y = buf.area.height - 2;
        (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
    }
}
