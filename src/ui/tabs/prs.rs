//! The PRs tab: checks, review decision, mergeability and size per PR; the detail shows checks with
//! links, reviews, files with churn (fetched when shown) and the description.

use super::{Col, TabView, not_ready};
use crate::app::{Loadable, State};
use crate::domain::{CheckState, PullRequest, ReviewDecision};
use crate::ui::text::{age, ago_text, kv, section};
use crate::ui::theme::Theme;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub struct Prs;

impl TabView for Prs {
    fn columns(&self) -> &'static [Col] {
        // Repo, #, Title, Author, Age, Checks, Review, Merge, Size, Labels.
        const C: &[Col] = &[
            Col::new(Length(14), 6).highlighted(),
            Col::new(Length(6), 9),
            Col::new(Fill(4), 9).highlighted().at_least(24),
            Col::new(Length(12), 4).highlighted(),
            Col::new(Length(4), 5),
            Col::new(Length(9), 8),
            Col::new(Length(9), 7),
            Col::new(Length(8), 3),
            Col::new(Length(11), 2),
            Col::new(Fill(1), 1),
        ];
        C
    }

    fn cells(&self, state: &State, t: &Theme, item: usize) -> Vec<(String, Style)> {
        state
            .prs
            .items
            .get(item)
            .map(|p| cells_pr(state, t, p))
            .unwrap_or_default()
    }

    fn detail(&self, state: &State, t: &Theme, width: u16) -> Option<Vec<Line<'static>>> {
        state.prs.selected().map(|p| pr_detail(state, t, p, width))
    }
}

fn cells_pr(state: &State, t: &Theme, p: &PullRequest) -> Vec<(String, Style)> {
    let checks = match p.checks {
        Some(c) => {
            let style = match c.worst() {
                Some(CheckState::Failed) => t.danger(),
                Some(CheckState::Pending) => t.warn(),
                Some(CheckState::Passed) => t.ok(),
                _ => t.muted(),
            };
            (c.label(), style)
        }
        None => ("…".into(), t.muted()),
    };
    let review = match p.review {
        Some(r) => {
            let style = match r {
                ReviewDecision::Approved => t.ok(),
                ReviewDecision::ChangesRequested => t.danger(),
                _ => t.muted(),
            };
            (r.label().to_string(), style)
        }
        None => ("…".into(), t.muted()),
    };
    let merge = match p.mergeable.as_deref() {
        Some(m @ ("clean" | "has_hooks")) => (m.to_string(), t.ok()),
        Some(m @ ("dirty" | "blocked")) => (m.to_string(), t.danger()),
        Some(m) => (m.to_string(), t.warn()),
        None => ("…".into(), t.muted()),
    };
    let size = match (p.additions, p.deletions) {
        (Some(a), Some(d)) => format!("+{a} −{d}"),
        _ => "…".into(),
    };
    vec![
        (p.repo.clone(), t.muted()),
        (format!("#{}", p.number), t.accent()),
        if p.draft {
            (format!("(draft) {}", p.title), t.muted())
        } else {
            (p.title.clone(), Style::default())
        },
        (p.author.clone(), Style::default()),
        (age(state.now, p.created_at), t.muted()),
        checks,
        review,
        merge,
        (size, t.muted()),
        (p.labels.join(","), t.warn()),
    ]
}

fn pr_detail(state: &State, t: &Theme, p: &PullRequest, width: u16) -> Vec<Line<'static>> {
    let now = state.now;
    let ago = |x| ago_text(now, x);
    let mut l = vec![
        Line::from(Span::styled(
            format!("{}#{} {}", p.repo, p.number, p.title),
            t.header(),
        )),
        kv(t, "author", p.author.clone()),
        kv(t, "branch", format!("{} → {}", p.head_ref, p.base_ref)),
        kv(t, "draft", if p.draft { "yes".into() } else { "no".into() }),
        kv(
            t,
            "checks",
            p.checks
                .map(|c| c.label())
                .unwrap_or_else(|| "loading…".into()),
        ),
        kv(
            t,
            "review",
            p.review
                .map(|r| r.label().to_string())
                .unwrap_or_else(|| "loading…".into()),
        ),
        kv(
            t,
            "mergeable",
            p.mergeable.clone().unwrap_or_else(|| "unknown".into()),
        ),
        kv(
            t,
            "size",
            match (p.additions, p.deletions, p.changed_files) {
                (Some(a), Some(d), Some(f)) => {
                    format!("+{a} −{d} in {}", crate::fmt::plural(f as usize, "file"))
                }
                _ => "loading…".into(),
            },
        ),
        kv(t, "labels", p.labels.join(", ")),
        kv(t, "opened", ago(p.created_at)),
        kv(t, "updated", ago(p.updated_at)),
        kv(t, "link", p.url.clone()),
    ];
    if !p.check_list.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Checks"));
        for c in &p.check_list {
            let head = format!(" {} {:<24} {:<10}", c.state.glyph(), c.name, c.detail);
            let room = (width as usize).saturating_sub(crate::sanitize::width(&head) + 2);
            l.push(Line::from(vec![
                Span::styled(head, check_style(t, c.state)),
                Span::styled(
                    format!("  {}", crate::sanitize::truncate(&c.url, room)),
                    t.muted(),
                ),
            ]));
        }
    }
    if !p.reviews.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Reviews (latest per reviewer)"));
        for r in &p.reviews {
            let style = match r.state.as_str() {
                "APPROVED" => t.ok(),
                "CHANGES_REQUESTED" => t.danger(),
                _ => t.muted(),
            };
            l.push(Line::from(vec![
                Span::raw(format!(" {:<20} ", r.reviewer)),
                Span::styled(r.state.to_lowercase().replace('_', " "), style),
                Span::styled(format!("  {}", ago(r.submitted_at)), t.muted()),
            ]));
        }
    }
    l.push(Line::raw(""));
    l.push(section(t, "Files"));
    let key = format!("{}#{}", p.repo, p.number);
    match state.pr_files.get(&key).map(|(_, f)| f) {
        Some(Loadable::Ready(files)) => {
            let max = files
                .iter()
                .map(|f| f.additions + f.deletions)
                .max()
                .unwrap_or(1)
                .max(1);
            for f in files.iter().take(300) {
                let churn = f.additions + f.deletions;
                let bar = ((churn * 12).div_ceil(max)).min(12) as usize;
                let plus = (bar as u64 * f.additions).checked_div(churn).unwrap_or(0) as usize;
                l.push(Line::from(vec![
                    Span::styled(format!(" {:>5} ", format!("+{}", f.additions)), t.ok()),
                    Span::styled(format!("{:>5} ", format!("−{}", f.deletions)), t.danger()),
                    Span::styled("■".repeat(plus), t.ok()),
                    Span::styled("■".repeat(bar - plus), t.danger()),
                    Span::raw(" ".repeat(13 - bar)),
                    Span::raw(f.filename.clone()),
                    Span::styled(
                        if f.status == "modified" {
                            String::new()
                        } else {
                            format!("  ({})", f.status)
                        },
                        t.muted(),
                    ),
                ]));
            }
        }
        other => l.push(not_ready(t, other)),
    }
    if !p.body.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Description"));
        l.extend(p.body.lines().take(200).map(|s| Line::raw(s.to_string())));
    }
    l
}

fn check_style(t: &Theme, s: CheckState) -> Style {
    match s {
        CheckState::Failed => t.danger(),
        CheckState::Pending => t.warn(),
        CheckState::Passed => t.ok(),
        CheckState::Skipped => t.muted(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    #[allow(unused_imports)]
    use super::*;
    use crate::app::Tab;
    use crate::app::keymap::Keymap;
    use crate::ui::theme::Theme;

    crate::view_snapshots!(Tab::Prs);

    #[test]
    fn pending_checks_use_the_themes_warn_colour() {
        let s = loaded(Tab::Prs, 120, 30);
        let t = draw_with(&s, &loud_theme());
        let style = style_of(&t, "●1 ✓2").expect("PR #101's pending check");
        assert_eq!(style.fg, Some(ratatui::style::Color::Rgb(255, 255, 1)));
    }

    #[test]
    fn remapped_keys_show_in_the_hint_bar() {
        let mut s = loaded(Tab::Prs, 120, 30);
        s.keymap = Keymap::build([("open", vec!["O"]), ("detail", vec!["ctrl-o"])]).unwrap();
        let hint = hint_bar(&draw_with(&s, &Theme::builtin("default").unwrap()));
        assert!(
            hint.contains("ctrl-o detail") && hint.contains("O open"),
            "{hint}"
        );
    }
}
