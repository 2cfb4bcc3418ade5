//! The AI tab: one headline per thing that needs a human, from the analyzer.

use super::{Col, TabView};
use crate::app::State;
use crate::domain::Summary;
use crate::ui::text::kv;
use crate::ui::theme::Theme;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub struct Ai;

impl TabView for Ai {
    fn columns(&self) -> &'static [Col] {
        // Kind, Subject, Headline, Analyzer.
        const C: &[Col] = &[
            Col::new(Length(8), 9),
            Col::new(Length(26), 8).highlighted(),
            Col::new(Fill(1), 9).highlighted(),
            Col::new(Length(8), 2),
        ];
        C
    }

    fn cells(&self, state: &State, t: &Theme, item: usize) -> Vec<(String, Style)> {
        state
            .summaries
            .items
            .get(item)
            .map(|s| cells_summary(t, s))
            .unwrap_or_default()
    }

    fn detail(&self, state: &State, t: &Theme, _width: u16) -> Option<Vec<Line<'static>>> {
        state.summaries.selected().map(|s| {
            vec![
                Line::from(Span::styled(
                    format!("{} {}", s.kind.label(), s.subject),
                    t.header(),
                )),
                kv(t, "analyzer", s.analyzer.clone()),
                Line::raw(""),
                Line::raw(s.headline.clone()),
                Line::raw(""),
            ]
            .into_iter()
            .chain(s.detail.iter().map(|l| {
                if l.starts_with("Next:") {
                    Line::from(Span::styled(l.clone(), t.accent()))
                } else {
                    Line::raw(l.clone())
                }
            }))
            .collect()
        })
    }
}

fn cells_summary(t: &Theme, s: &Summary) -> Vec<(String, Style)> {
    vec![
        (s.kind.label().into(), t.accent()),
        (s.subject.clone(), Style::default()),
        (s.headline.clone(), Style::default()),
        (s.analyzer.clone(), t.muted()),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    #[allow(unused_imports)]
    use super::*;
    use crate::app::Tab;
    use crate::app::keymap::Keymap;
    use crate::ui::theme::Theme;

    crate::view_snapshots!(Tab::Ai);

    #[test]
    fn remapped_keys_show_in_the_hint_bar() {
        let mut s = loaded(Tab::Ai, 120, 30);
        s.keymap = Keymap::build([("group", vec!["B"])]).unwrap();
        let hint = hint_bar(&draw_with(&s, &Theme::builtin("default").unwrap()));
        assert!(hint.contains("B group"), "{hint}");
    }
}
