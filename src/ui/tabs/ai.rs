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
            Col::new(Length(15), 2),
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
            .chain(llm_lines(state, t, s))
            .chain(s.detail.iter().map(|l| {
                if l.starts_with("Next") {
                    Line::from(Span::styled(l.clone(), t.accent()))
                } else {
                    Line::raw(l.clone())
                }
            }))
            .collect()
        })
    }
}

/// The LLM's answer while it streams (with its progress), or why there is none; a finished one
/// is already the summary's (see `update::ai::overlay`).
fn llm_lines(state: &State, t: &Theme, s: &Summary) -> Vec<Line<'static>> {
    use crate::app::state::LlmState;
    let Some(a) = state.llm_answers.get(&crate::ai::summaries::answer_key(s)) else {
        return Vec::new();
    };
    let secs = (state.now - a.asked_at).whole_seconds().max(0);
    let head = match &a.state {
        LlmState::Streaming => {
            const SPIN: [&str; 4] = ["⠋", "⠙", "⠸", "⠴"];
            format!(
                "{} {} answering… {} characters, {secs} s — esc stops",
                SPIN[(a.text.chars().count() / 8) % SPIN.len()],
                a.model,
                crate::fmt::thousands(a.text.chars().count() as u64)
            )
        }
        LlmState::Failed(e) => format!("{} failed: {e} — s asks again", a.model),
        LlmState::Cancelled => format!("{}: stopped — s asks again", a.model),
        LlmState::Done { .. } => return Vec::new(),
    };
    let mut out = vec![Line::from(Span::styled(head, t.accent()))];
    if a.state == LlmState::Streaming {
        out.extend(
            crate::sanitize::clean_multiline(&a.text)
                .lines()
                .map(|l| Line::from(Span::styled(l.to_string(), t.muted()))),
        );
    }
    out.push(Line::raw(""));
    out
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

    /// The DORA row once read: the four metrics with their bands and trends in the detail.
    #[test]
    fn dora_view_200x50() {
        use crate::ai::dora::{DeployStatus, Deployment, IncidentRecord, Window, dora};
        use crate::app::{DoraScope, DoraView, Loadable};
        let mut s = loaded(Tab::Ai, 200, 50);
        let now = s.now;
        let day = time::Duration::days(1);
        let deploys: Vec<Deployment> = (0..6)
            .map(|k| Deployment {
                id: format!("d{k}"),
                repo: "acme/checkout".into(),
                environment: "production".into(),
                sha: format!("{k:040x}"),
                created_at: now - day * (k * 4 + 1),
                finished_at: Some(now - day * (k * 4 + 1) + time::Duration::minutes(5)),
                status: if k == 2 {
                    DeployStatus::Failure
                } else {
                    DeployStatus::Success
                },
                is_rollback: false,
            })
            .collect();
        let incidents = vec![IncidentRecord {
            id: "CHECKOUT-3F".into(),
            first_seen: now - day * 3,
            resolved_at: Some(now - day * 3 + time::Duration::hours(2)),
            deployment: None,
        }];
        let d = dora(
            &deploys,
            &[],
            &incidents,
            "production",
            Window::new(now, day * 30),
        );
        s.dora_scope = Some(DoraScope {
            repos: vec!["acme/checkout".into()],
            projects: vec!["checkout".into()],
            environment: "production".into(),
            sentry_environment: None,
            days: 30,
        });
        s.dora = Some((
            now,
            Loadable::Ready(Box::new(DoraView {
                dora: d,
                github_requests: 8,
                sentry_requests: 2,
                notes: vec![],
                errors: vec![],
            })),
        ));
        s.recompute_summaries();
        let idx = s
            .summaries
            .items
            .iter()
            .position(|x| x.kind == crate::domain::SummaryKind::Dora)
            .unwrap();
        let h = s.list_height();
        s.list_mut(Tab::Ai).move_to(idx as isize, h);
        s.detail = true;
        insta::assert_snapshot!(draw(&s));
    }
}
