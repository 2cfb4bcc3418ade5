//! The Incidents tab: Sentry's unresolved issues with their counts and ages.

use super::{Col, TabView};
use crate::app::State;
use crate::domain::Incident;
use crate::ui::text::{age, kv, time_and_age};
use crate::ui::theme::Theme;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub struct Incidents;

impl TabView for Incidents {
    fn columns(&self) -> &'static [Col] {
        // Project, Id, Title, Culprit, Level, Events, Users, First, Last.
        const C: &[Col] = &[
            Col::new(Length(10), 6).highlighted(),
            Col::new(Length(14), 9).highlighted(),
            Col::new(Fill(3), 9).highlighted(),
            Col::new(Fill(2), 4).highlighted(),
            Col::new(Length(7), 7),
            Col::new(Length(7), 8),
            Col::new(Length(5), 5),
            Col::new(Length(5), 3),
            Col::new(Length(5), 6),
        ];
        C
    }

    fn cells(&self, state: &State, t: &Theme, item: usize) -> Vec<(String, Style)> {
        state
            .incidents
            .items
            .get(item)
            .map(|i| cells_incident(state, t, i))
            .unwrap_or_default()
    }

    fn detail(&self, state: &State, t: &Theme, _width: u16) -> Option<Vec<Line<'static>>> {
        let now = state.now;
        state.incidents.selected().map(|i| {
            vec![
                Line::from(Span::styled(
                    format!("{} {}", i.short_id, i.title),
                    t.header(),
                )),
                kv(t, "project", i.project.clone()),
                kv(t, "culprit", i.culprit.clone()),
                kv(t, "level", i.level.clone()),
                kv(t, "status", i.status.clone()),
                kv(t, "events", i.count.to_string()),
                kv(t, "users", i.user_count.to_string()),
                kv(t, "first seen", time_and_age(now, i.first_seen)),
                kv(t, "last seen", time_and_age(now, i.last_seen)),
                kv(t, "link", i.url.clone()),
            ]
        })
    }
}

fn cells_incident(state: &State, t: &Theme, i: &Incident) -> Vec<(String, Style)> {
    let level_style = match i.level.as_str() {
        "fatal" | "error" => t.danger(),
        "warning" => t.warn(),
        _ => t.muted(),
    };
    vec![
        (i.project.clone(), t.muted()),
        (i.short_id.clone(), t.accent()),
        (i.title.clone(), Style::default()),
        (i.culprit.clone(), t.muted()),
        (i.level.clone(), level_style),
        (i.count.to_string(), Style::default()),
        (i.user_count.to_string(), Style::default()),
        (age(state.now, i.first_seen), t.muted()),
        (age(state.now, i.last_seen), t.muted()),
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

    crate::view_snapshots!(Tab::Incidents);

    #[test]
    fn errors_use_the_themes_danger_colour() {
        let s = loaded(Tab::Incidents, 120, 30);
        let t = draw_with(&s, &loud_theme());
        let style = style_of(&t, "error ").expect("an error-level incident");
        assert_eq!(style.fg, Some(ratatui::style::Color::Rgb(255, 0, 255)));
    }

    #[test]
    fn remapped_keys_show_in_the_hint_bar() {
        let mut s = loaded(Tab::Incidents, 120, 30);
        s.keymap = Keymap::build([("open", vec!["O"])]).unwrap();
        let hint = hint_bar(&draw_with(&s, &Theme::builtin("default").unwrap()));
        assert!(hint.contains("O open"), "{hint}");
    }
}
