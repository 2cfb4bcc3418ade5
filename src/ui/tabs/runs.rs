//! The Runs tab: runs with their state, attempt and duration, and the deployments they wait for;
//! the detail shows its jobs, failed ones first with their steps and the failing step marked, and
//! those that succeeded or are under way folded to a line (the latter with the step they are at).

use super::{Col, TabView, not_ready};
use crate::analysis::canary::Verdict;
use crate::app::rows::Row as _;
use crate::app::{Loadable, State};
use crate::domain::{RunState, WorkflowRun};
use crate::fmt::{fmt_age, fmt_age_coarse};
use crate::ui::text::{age, ago_text, duration, kv, section};
use crate::ui::theme::Theme;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub struct Runs;

impl TabView for Runs {
    fn columns(&self) -> &'static [Col] {
        // Repo, Workflow, Branch, Event, Actor, Status, Attempt, Started, Took.
        const C: &[Col] = &[
            Col::new(Length(16), 8).highlighted(),
            Col::new(Fill(2), 9).highlighted(),
            Col::new(Fill(2), 7).highlighted(),
            Col::new(Length(12), 2),
            Col::new(Length(12), 3).highlighted(),
            Col::new(Length(20), 9),
            Col::new(Length(3), 1),
            Col::new(Length(7), 5),
            Col::new(Length(7), 4),
        ];
        C
    }

    fn cells(&self, state: &State, t: &Theme, item: usize) -> Vec<(String, Style)> {
        state
            .runs
            .items
            .get(item)
            .map(|r| cells_run(state, t, r))
            .unwrap_or_default()
    }

    fn detail(&self, state: &State, t: &Theme, _width: u16) -> Option<Vec<Line<'static>>> {
        state.runs.selected().map(|r| run_detail(state, t, r))
    }
}

pub(super) fn run_style(theme: &Theme, s: RunState) -> Style {
    match s {
        RunState::Success => theme.ok(),
        RunState::Failure => theme.danger(),
        RunState::Waiting => theme.warn(),
        RunState::InProgress | RunState::Queued => theme.accent(),
        _ => theme.muted(),
    }
}

fn cells_run(state: &State, t: &Theme, r: &WorkflowRun) -> Vec<(String, Style)> {
    let took = match (r.started_at, r.updated_at, r.state) {
        (Some(s), _, RunState::InProgress | RunState::Queued | RunState::Waiting) => {
            fmt_age_coarse((state.now - s).whole_seconds())
        }
        (Some(s), Some(u), _) => duration((u - s).whole_seconds().max(0)),
        _ => "—".into(),
    };
    vec![
        (r.repo.clone(), t.muted()),
        (r.workflow.clone(), Style::default()),
        (r.branch.clone(), Style::default()),
        (r.event.clone(), t.muted()),
        (r.actor.clone(), Style::default()),
        if r.pending.is_empty() {
            (r.state.label().into(), run_style(t, r.state))
        } else {
            let envs: Vec<&str> = r.pending.iter().map(|p| p.environment.as_str()).collect();
            let style = if r.production() {
                t.production()
            } else {
                t.warn()
            };
            (format!("waiting: {}", envs.join(",")), style)
        },
        (r.attempt.to_string(), t.muted()),
        (age(state.now, r.started_at), t.muted()),
        (took, t.muted()),
    ]
}

fn run_detail(state: &State, t: &Theme, r: &WorkflowRun) -> Vec<Line<'static>> {
    let now = state.now;
    let ago = |x| ago_text(now, x);
    let mut l = vec![
        Line::from(Span::styled(
            format!("{} · {} #{}", r.repo, r.workflow, r.run_number),
            t.header(),
        )),
        kv(t, "title", r.title.clone()),
        Line::from(vec![
            Span::styled(format!("{:<12}", "status"), t.muted()),
            Span::styled(r.state.label().to_string(), run_style(t, r.state)),
        ]),
        kv(t, "branch", r.branch.clone()),
        kv(t, "commit", r.sha.chars().take(12).collect()),
        kv(t, "event", r.event.clone()),
        kv(t, "actor", r.actor.clone()),
        kv(t, "attempt", r.attempt.to_string()),
        kv(t, "started", ago(r.started_at)),
        kv(t, "updated", ago(r.updated_at)),
        kv(t, "link", r.url.clone()),
    ];
    if !r.pending.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Waiting for approval"));
        for p in &r.pending {
            let env_style = if p.environment.eq_ignore_ascii_case("production") {
                t.production()
            } else {
                t.warn()
            };
            let timer = if p.wait_timer_minutes > 0 {
                format!(", wait timer {} min", p.wait_timer_minutes)
            } else {
                String::new()
            };
            l.push(Line::from(vec![
                Span::styled(format!(" {}", p.environment), env_style),
                Span::styled(
                    format!(
                        "  waiting {}{timer}",
                        p.wait_started_at
                            .map(|w| fmt_age((now - w).whole_seconds()))
                            .unwrap_or_else(|| "—".into())
                    ),
                    t.muted(),
                ),
            ]));
            l.push(kv(
                t,
                "  you",
                if p.can_approve {
                    "can approve (a) or reject (x)".into()
                } else {
                    "cannot approve: not a required reviewer".into()
                },
            ));
            if !p.reviewers.is_empty() {
                l.push(kv(t, "  reviewers", p.reviewers.join(", ")));
            }
        }
        // The judge's say on approving it, before `a` is pressed: the same guard every path to
        // an approval asks (each judged service the deployment belongs to, worst first).
        let guard = crate::app::guard::approval_guard(state, r);
        for v in &guard.verdicts {
            let style = if v.proceed() {
                t.ok()
            } else if v.called.is_some() || v.verdict == Some(Verdict::Rollback) {
                t.danger()
            } else {
                t.warn()
            };
            let called = v
                .called
                .as_ref()
                .map(|c| format!(" · called {c} in this rollout"))
                .unwrap_or_default();
            l.push(Line::from(vec![
                Span::styled(format!("{:<12}", "  judge"), t.muted()),
                Span::styled(
                    crate::sanitize::clean(&format!("{}: {}{called}", v.service, v.label)),
                    style,
                ),
            ]));
        }
        if !guard.approvable() {
            l.push(kv(
                t,
                "  approving",
                "takes `override` typed: the judge does not say PROCEED for it".into(),
            ));
        }
    }
    l.push(Line::raw(""));
    l.push(section(t, "Jobs"));
    match state.jobs.get(&r.id).map(|(_, j)| j) {
        Some(Loadable::Ready(jobs)) if jobs.is_empty() => {
            l.push(Line::from(Span::styled(" no jobs", t.muted())))
        }
        Some(Loadable::Ready(jobs)) => {
            // What an on-call reader looks for comes first: failed jobs, then stopped ones, then
            // those under way, each with its steps; a job that succeeded or was skipped, no step
            // of it failed, is one line with its step count (GitHub's order within each group).
            let rank = |s: RunState| match s {
                RunState::Failure => 0,
                RunState::Cancelled | RunState::Other => 1,
                RunState::InProgress | RunState::Waiting | RunState::Queued => 2,
                RunState::Success | RunState::Skipped => 3,
            };
            let mut order: Vec<_> = jobs.iter().collect();
            order.sort_by_key(|j| rank(j.state));
            for j in order {
                // (A job with a failed step keeps its steps: one that passed under
                // `continue-on-error`, or one still running that will fail.)
                let step_failed = j.steps.iter().any(|st| st.state == RunState::Failure);
                let done = matches!(j.state, RunState::Success | RunState::Skipped);
                let under_way = matches!(
                    j.state,
                    RunState::InProgress | RunState::Waiting | RunState::Queued
                );
                let folded = (done || under_way) && !step_failed;
                let mut note = Vec::new();
                if done && folded && !j.steps.is_empty() {
                    note.push(crate::fmt::plural(j.steps.len(), "step"));
                }
                // A job under way is one line too: the step it is at, of how many (a matrix of
                // many jobs would otherwise list every step of each).
                // (GitHub gives a queued job a start time too: the time it has waited.)
                let running = j.state == RunState::InProgress;
                if running
                    && folded
                    && let Some(st) = j.steps.iter().find(|st| st.state == RunState::InProgress)
                {
                    note.push(format!(
                        "step {} of {}: {}",
                        st.number,
                        j.steps.len(),
                        st.name
                    ));
                }
                if let (Some(s), Some(c)) = (j.started_at, j.completed_at) {
                    note.push(duration((c - s).whole_seconds().max(0)));
                } else if let (true, Some(s)) = (under_way, j.started_at) {
                    let d = duration((state.now - s).whole_seconds().max(0));
                    note.push(if running {
                        format!("{d} so far")
                    } else {
                        format!("for {d}")
                    });
                }
                l.push(Line::from(vec![
                    Span::styled(format!(" {:<9} ", j.state.label()), run_style(t, j.state)),
                    Span::raw(j.name.clone()),
                    Span::styled(
                        if note.is_empty() {
                            String::new()
                        } else {
                            format!(" · {}", note.join(" · "))
                        },
                        t.muted(),
                    ),
                ]));
                if folded {
                    continue;
                }
                for st in &j.steps {
                    let failed = st.state == RunState::Failure;
                    let marker = if failed { "  ✗ " } else { "    " };
                    let style = if failed {
                        t.danger()
                    } else {
                        run_style(t, st.state)
                    };
                    l.push(Line::from(vec![
                        Span::styled(marker.to_string(), t.danger()),
                        Span::styled(format!("{:>2}. {}", st.number, st.name), style),
                        Span::styled(
                            if failed {
                                "  ← failed: l shows the log".to_string()
                            } else {
                                String::new()
                            },
                            t.danger(),
                        ),
                    ]));
                }
            }
        }
        other => l.push(not_ready(t, other)),
    }
    l
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    #[allow(unused_imports)]
    use super::*;
    use crate::app::Tab;
    use crate::app::keymap::Keymap;
    use crate::ui::theme::Theme;

    crate::view_snapshots!(Tab::Runs);

    #[test]
    fn a_held_deployment_shows_the_judges_say_before_it_is_approved() {
        let mut s = loaded(Tab::Runs, 200, 50);
        s.detail = true;
        let i = s
            .runs
            .items
            .iter()
            .position(|r| !r.pending.is_empty())
            .expect("a held deployment");
        let r = s.runs.items[i].clone();
        let guard = crate::app::guard::approval_guard(&s, &r);
        assert!(!guard.verdicts.is_empty(), "checkout is judged");
        // checkout breaches its error bound in the test data: approving takes an override.
        assert!(!guard.approvable(), "{guard:?}");
        let lines: Vec<String> = run_detail(&s, &Theme::builtin("default").unwrap(), &r)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        let judge: Vec<&String> = lines.iter().filter(|l| l.contains("  judge")).collect();
        assert_eq!(judge.len(), guard.verdicts.len(), "{lines:#?}");
        assert!(
            judge[0].contains(&format!(
                "{}: {}",
                guard.verdicts[0].service, guard.verdicts[0].label
            )),
            "{lines:#?}"
        );
        assert_eq!(
            lines.iter().any(|l| l.contains("takes `override` typed")),
            !guard.approvable(),
            "{lines:#?}"
        );
    }

    /// Step `number` of a job.
    fn step(number: u64, name: &str, state: RunState) -> crate::domain::Step {
        crate::domain::Step {
            number,
            name: name.into(),
            state,
        }
    }

    /// The run's detail as text, a line each.
    fn detail_lines(s: &State, r: &WorkflowRun) -> Vec<String> {
        run_detail(s, &Theme::builtin("default").unwrap(), r)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    /// The first line holding `needle`.
    fn line_of(lines: &[String], needle: &str) -> usize {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not in {lines:#?}"))
    }

    #[test]
    fn a_failed_job_and_its_failing_step_come_first_and_succeeded_jobs_are_one_line() {
        use crate::domain::{Job, Step};
        use time::macros::datetime;
        let mut s = loaded(Tab::Runs, 200, 50);
        let r = s.runs.items[0].clone();
        let job = |id: u64, name: &str, state: RunState, steps: Vec<Step>| Job {
            id,
            name: name.into(),
            state,
            started_at: Some(datetime!(2026-12-01 12:00 UTC)),
            completed_at: Some(datetime!(2026-12-01 12:01:40 UTC)),
            url: String::new(),
            steps,
        };
        let ok = RunState::Success;
        let jobs = vec![
            job(
                1,
                "lint",
                ok,
                vec![step(1, "Set up job", ok), step(2, "Run lint", ok)],
            ),
            job(2, "test (node 18)", ok, vec![step(1, "Run tests", ok)]),
            // Passed with a failed step (`continue-on-error`): its steps stay in view.
            job(
                4,
                "audit",
                ok,
                vec![
                    step(1, "npm audit", RunState::Failure),
                    step(2, "Report", ok),
                ],
            ),
            job(
                3,
                "test (node 20)",
                RunState::Failure,
                vec![
                    step(1, "Set up job", ok),
                    step(2, "Run npm test", RunState::Failure),
                    step(3, "Upload coverage", RunState::Skipped),
                ],
            ),
        ];
        s.jobs.insert(r.id, (None, Loadable::Ready(jobs)));
        let lines = detail_lines(&s, &r);
        let at = |needle: &str| line_of(&lines, needle);
        // The failed job first, its steps under it with the failing one marked.
        assert!(
            at("failure   test (node 20) · 1m40s") < at("success   lint"),
            "{lines:#?}"
        );
        assert!(lines[at("Run npm test")].contains("✗"), "{lines:#?}");
        assert!(
            lines[at("Run npm test")].contains("l shows the log"),
            "{lines:#?}"
        );
        assert!(at("Run npm test") < at("success   lint"), "{lines:#?}");
        // Succeeded jobs: one line each, with their step count and time, in GitHub's order.
        assert!(
            lines[at("success   lint")].ends_with("lint · 2 steps · 1m40s"),
            "{lines:#?}"
        );
        assert!(
            at("success   lint") < at("success   test (node 18)"),
            "{lines:#?}"
        );
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("Run lint") || l.contains("Run tests"))
        );
        assert!(lines[at("npm audit")].contains("✗"), "{lines:#?}");
        assert!(
            at("success   audit · 1m40s") < at("npm audit"),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_job_under_way_is_one_line_with_the_step_it_is_at() {
        use crate::domain::{Job, Step};
        let mut s = loaded(Tab::Runs, 200, 50);
        let r = s.runs.items[0].clone();
        let running = |id: u64, name: &str, steps: Vec<Step>| Job {
            id,
            name: name.into(),
            state: RunState::InProgress,
            started_at: Some(s.now - time::Duration::seconds(130)),
            completed_at: None,
            url: String::new(),
            steps,
        };
        let (ok, on, q) = (RunState::Success, RunState::InProgress, RunState::Queued);
        let jobs = vec![
            running(
                1,
                "test (3.11)",
                vec![
                    step(1, "Set up job", ok),
                    step(2, "Install", ok),
                    step(3, "Run tests", on),
                    step(4, "Upload", q),
                ],
            ),
            // A step failed and the job runs on: it will fail, so its steps stay in view.
            running(
                2,
                "test (3.12)",
                vec![
                    step(1, "Set up job", ok),
                    step(2, "Lint", RunState::Failure),
                    step(3, "Typecheck", on),
                ],
            ),
            Job {
                state: q,
                ..running(3, "deploy", vec![step(1, "Set up job", q)])
            },
            Job {
                state: q,
                started_at: None,
                ..running(4, "notify", vec![])
            },
        ];
        s.jobs.insert(r.id, (None, Loadable::Ready(jobs)));
        let lines = detail_lines(&s, &r);
        let at = |needle: &str| line_of(&lines, needle);
        assert!(
            lines[at("test (3.11)")]
                .ends_with("test (3.11) · step 3 of 4: Run tests · 2m10s so far"),
            "{lines:#?}"
        );
        assert!(!lines.iter().any(|l| l.contains("Install")), "{lines:#?}");
        assert!(lines[at("Lint")].contains("✗"), "{lines:#?}");
        assert!(at("test (3.12)") < at("Typecheck"), "{lines:#?}");
        // Queued: how long it has waited, no step.
        assert!(
            lines[at("deploy")].ends_with("queued    deploy · for 2m10s"),
            "{lines:#?}"
        );
        assert!(
            lines[at("notify")].trim_end().ends_with("notify"),
            "{lines:#?}"
        );
    }

    #[test]
    fn failed_runs_use_the_themes_danger_colour() {
        let s = loaded(Tab::Runs, 120, 30);
        let t = draw_with(&s, &loud_theme());
        let style = style_of(&t, "failure").expect("run 9001 failed");
        assert_eq!(style.fg, Some(ratatui::style::Color::Rgb(255, 0, 255)));
    }

    #[test]
    fn a_rollback_marks_the_rollouts_tab_from_any_other() {
        // checkout is ROLLBACK in the test data.
        let s = loaded(Tab::Runs, 120, 30);
        let t = draw_with(&s, &loud_theme());
        let style = style_of(&t, "3 Rollouts").expect("the tab bar");
        assert_eq!(style.fg, Some(ratatui::style::Color::Rgb(255, 0, 255)));
        // Not on the Rollouts tab itself (it is the selected one), nor without a ROLLBACK.
        let mut quiet = loaded(Tab::Runs, 120, 30);
        quiet.judgements.clear();
        let style = style_of(&draw_with(&quiet, &loud_theme()), "3 Rollouts").unwrap();
        assert_ne!(style.fg, Some(ratatui::style::Color::Rgb(255, 0, 255)));
    }

    #[test]
    fn remapped_keys_show_in_the_hint_bar() {
        let mut s = loaded(Tab::Runs, 120, 30);
        s.keymap = Keymap::build([("logs", vec!["L"])]).unwrap();
        let hint = hint_bar(&draw_with(&s, &Theme::builtin("default").unwrap()));
        assert!(
            hint.contains("L logs") && !hint.contains("l logs"),
            "{hint}"
        );
    }
}
