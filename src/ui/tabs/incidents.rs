//! The Incidents tab: Sentry's unresolved issues with their counts and ages, and in the detail
//! pane the selected issue's latest event: its exception chain, the stack trace of the raised
//! exception (crash last, in-app frames highlighted with their source lines, library frames
//! collapsed), the crash frame's variables and the tags.

use super::{Col, TabView, not_ready};
use crate::app::State;
use crate::app::state::Loadable;
use crate::domain::{ExceptionInfo, Frame, Incident, IncidentEvent, Suspect};
use crate::sanitize::truncate;
use crate::ui::text::{age, kv, section, time_and_age};
use crate::ui::theme::Theme;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::style::{Modifier, Style};
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

    fn detail(&self, state: &State, t: &Theme, width: u16) -> Option<Vec<Line<'static>>> {
        state
            .incidents
            .selected()
            .map(|i| detail_lines(state, t, i, width))
    }
}

/// Characters of a variable's value shown (the client keeps up to 1 KB).
const VAR_CHARS: usize = 160;

fn detail_lines(state: &State, t: &Theme, i: &Incident, width: u16) -> Vec<Line<'static>> {
    let now = state.now;
    let event = state.incident_events.get(&i.id).map(|(_, l)| l);
    let ready = match event {
        Some(Loadable::Ready(e)) => Some(e),
        _ => None,
    };
    let mut l = vec![Line::from(Span::styled(
        format!("{} {}", i.short_id, i.title),
        t.header(),
    ))];
    let level_style = level_style(t, &i.level);
    let mut counts = vec![
        Span::styled(i.level.clone(), level_style),
        Span::raw(format!(
            " · {} · {}",
            crate::fmt::plural(i.count as usize, "event"),
            crate::fmt::plural(i.user_count as usize, "user")
        )),
    ];
    if let Some(n) = i.events_last_hour(now) {
        counts.push(Span::raw(format!(" · {n} in the last hour")));
    }
    l.push(Line::from(counts));
    l.push(kv(t, "project", i.project.clone()));
    l.push(kv(t, "culprit", i.culprit.clone()));
    l.push(kv(t, "first seen", time_and_age(now, i.first_seen)));
    l.push(kv(t, "last seen", time_and_age(now, i.last_seen)));
    let dash = || "—".to_string();
    l.push(kv(
        t,
        "release",
        ready.and_then(|e| e.release.clone()).unwrap_or_else(dash),
    ));
    l.push(kv(
        t,
        "environment",
        ready
            .and_then(|e| e.environment.clone())
            .unwrap_or_else(dash),
    ));
    l.push(kv(t, "link", i.url.clone()));
    l.push(Line::default());
    if let Some((_, suspects)) = state.incident_suspects.get(&i.id) {
        suspect_lines(&mut l, t, suspects);
        l.push(Line::default());
    }
    match (event, ready) {
        (_, Some(e)) => event_lines(&mut l, t, e, width),
        (other, None) => {
            l.push(section(t, "Latest event"));
            l.push(not_ready(t, other));
        }
    }
    l
}

/// The suspected change: the best candidate with its evidence, then the others, or "none found".
fn suspect_lines(l: &mut Vec<Line<'static>>, t: &Theme, s: &Loadable<Vec<Suspect>>) {
    l.push(section(t, "Suspected change"));
    let list = match s {
        Loadable::Ready(list) => list,
        Loadable::Loading => {
            l.push(Line::from(Span::styled(
                " looking through deploys and changes…",
                t.muted(),
            )));
            return;
        }
        Loadable::Failed(e) => {
            l.push(Line::from(Span::styled(
                format!(" could not look it up: {e}"),
                t.danger(),
            )));
            return;
        }
    };
    let Some((best, others)) = list.split_first() else {
        l.push(Line::from(Span::styled(
            " none found: no deploy, release or change fits the first sighting and the crash frames",
            t.muted(),
        )));
        return;
    };
    l.push(Line::from(vec![
        Span::styled(" ▶ ", t.warn()),
        Span::styled(best.title.clone(), t.header()),
        Span::styled(
            best.sha
                .as_deref()
                .map(|s| format!("  {}", s.get(..7).unwrap_or(s)))
                .unwrap_or_default(),
            t.muted(),
        ),
    ]));
    for e in &best.evidence {
        l.push(Line::from(format!("   · {e}")));
    }
    if !others.is_empty() {
        l.push(Line::from(Span::styled(" also possible:", t.muted())));
        for o in others.iter().take(4) {
            l.push(Line::from(vec![
                Span::raw(format!("   {}", o.title)),
                Span::styled(
                    o.evidence
                        .first()
                        .map(|e| format!(" — {e}"))
                        .unwrap_or_default(),
                    t.muted(),
                ),
            ]));
        }
    }
}

fn level_style(t: &Theme, level: &str) -> Style {
    match level {
        "fatal" | "error" => t.danger(),
        "warning" => t.warn(),
        _ => t.muted(),
    }
}

/// The chain, the raised exception's stack trace, the crash frame's vars and the tags.
fn event_lines(l: &mut Vec<Line<'static>>, t: &Theme, e: &IncidentEvent, width: u16) {
    let python = e.platform == "python";
    if e.exceptions.is_empty() {
        l.push(section(t, "Exception"));
        let text = if e.message.is_empty() {
            &e.title
        } else {
            &e.message
        };
        l.push(Line::from(format!(" {text}")));
        l.push(Line::from(Span::styled(
            " (the event has no stack trace)",
            t.muted(),
        )));
    } else {
        let chained = e.exceptions.len() > 1;
        l.push(section(
            t,
            if chained {
                "Exception chain (cause first)"
            } else {
                "Exception"
            },
        ));
        for (n, x) in e.exceptions.iter().enumerate() {
            // How the one before leads to this one, when the SDK said.
            let lead = match n
                .checked_sub(1)
                .map(|p| e.exceptions[p].chained_as.as_deref())
            {
                None => " ",
                Some(Some("__cause__" | "cause")) => " ↳ caused: ",
                Some(Some("__context__")) => " ↳ during handling: ",
                Some(_) => " ↳ then: ",
            };
            let mut spans = vec![
                Span::styled(lead, t.muted()),
                Span::styled(x.kind.clone(), t.danger()),
            ];
            if !x.value.is_empty() {
                spans.push(Span::raw(format!(": {}", x.value)));
            }
            if chained && n + 1 == e.exceptions.len() {
                spans.push(Span::styled(" (raised)", t.muted()));
            }
            l.push(Line::from(spans));
        }
    }
    if let Some(raised) = e.raised() {
        stack_lines(l, t, raised, width);
    }
    if let Some(crash) = e.crash_frame().filter(|f| !f.vars.is_empty()) {
        l.push(Line::default());
        l.push(section(
            t,
            &format!(
                "Variables in {}",
                crash.function.as_deref().unwrap_or("the crash frame")
            ),
        ));
        let room = (width as usize).saturating_sub(4).clamp(20, VAR_CHARS);
        for (name, value) in &crash.vars {
            let v = render_value(value, python);
            l.push(Line::from(vec![
                Span::styled(format!(" {name}"), t.accent()),
                Span::styled(" = ", t.muted()),
                Span::raw(truncate(&v, room.saturating_sub(name.len() + 4).max(8))),
            ]));
        }
    }
    if !e.tags.is_empty() {
        l.push(Line::default());
        l.push(section(t, "Tags"));
        let w = e
            .tags
            .iter()
            .map(|(k, _)| crate::sanitize::width(k))
            .max()
            .unwrap_or(0)
            .min(24);
        for (k, v) in &e.tags {
            l.push(Line::from(vec![
                Span::styled(format!(" {k:<w$}  "), t.muted()),
                Span::raw(v.clone()),
            ]));
        }
    }
}

/// The raised exception's frames, outermost first and the crash last: in-app frames in the
/// accent colour with their source lines (the frame's line emphasised), runs of library frames
/// on one line each.
fn stack_lines(l: &mut Vec<Line<'static>>, t: &Theme, x: &ExceptionInfo, width: u16) {
    l.push(Line::default());
    l.push(section(t, "Stack trace (most recent call last)"));
    if x.frames.is_empty() {
        l.push(Line::from(Span::styled(" no frames were sent", t.muted())));
        return;
    }
    // The crash frame: the last in-app frame, else the last (as `IncidentEvent::crash_frame`).
    let crash = x
        .frames
        .iter()
        .rposition(|f| f.in_app)
        .unwrap_or(x.frames.len() - 1);
    let text_room = (width as usize).saturating_sub(10).max(10);
    let mut library: Vec<&Frame> = Vec::new();
    let flush = |l: &mut Vec<Line<'static>>, library: &mut Vec<&Frame>| {
        match library.as_slice() {
            [] => {}
            [one] => l.push(Line::from(Span::styled(
                format!(" ⋯ {}", frame_title(one)),
                t.muted(),
            ))),
            many => l.push(Line::from(Span::styled(
                format!(" ⋯ {} library frames", many.len()),
                t.muted(),
            ))),
        }
        library.clear();
    };
    for (n, f) in x.frames.iter().enumerate() {
        if x.frames_omitted > 0 && n == x.omitted_at {
            flush(l, &mut library);
            l.push(Line::from(Span::styled(
                format!(
                    " ⋯ {} not kept",
                    crate::fmt::plural(x.frames_omitted, "frame")
                ),
                t.warn(),
            )));
        }
        let is_crash = n == crash;
        if !f.in_app && !is_crash {
            library.push(f);
            continue;
        }
        flush(l, &mut library);
        let (mark, style) = if is_crash {
            ("▶ ", t.danger())
        } else {
            ("  ", t.accent())
        };
        let mut spans = vec![
            Span::styled(mark, style),
            Span::styled(frame_title(f), style),
        ];
        if is_crash {
            spans.push(Span::styled("  ← crash", t.danger()));
        }
        l.push(Line::from(spans));
        let digits = f
            .context
            .iter()
            .map(|(n, _)| n.to_string().len())
            .max()
            .unwrap_or(1);
        for (n, text) in &f.context {
            let here = Some(*n) == f.line;
            let number = format!("   {}{n:>digits$} │ ", if here { "→" } else { " " });
            let text = truncate(text, text_room);
            if here {
                let em = Style::default().add_modifier(Modifier::BOLD);
                l.push(Line::from(vec![
                    Span::styled(number, t.accent()),
                    Span::styled(text, em),
                ]));
            } else {
                l.push(Line::from(vec![
                    Span::styled(number, t.muted()),
                    Span::styled(text, t.muted()),
                ]));
            }
        }
    }
    flush(l, &mut library);
    if x.frames_omitted > 0 && x.omitted_at >= x.frames.len() {
        l.push(Line::from(Span::styled(
            format!(
                " ⋯ {} not kept",
                crate::fmt::plural(x.frames_omitted, "frame")
            ),
            t.warn(),
        )));
    }
}

/// "worker/refunds.py in split_refund at line 6".
fn frame_title(f: &Frame) -> String {
    let file = f
        .filename
        .as_deref()
        .or(f.abs_path.as_deref())
        .or(f.module.as_deref())
        .unwrap_or("?");
    let mut s = file.to_string();
    if let Some(func) = &f.function {
        s.push_str(&format!(" in {func}"));
    }
    match (f.line, f.column) {
        (Some(n), Some(c)) => s.push_str(&format!(" at line {n}:{c}")),
        (Some(n), None) => s.push_str(&format!(" at line {n}")),
        _ => {}
    }
    s
}

/// A variable's value as the SDK's language writes it: Python reprs (strings already are, `True`,
/// `None`, `{'k': v}`), else JSON with strings as sent.
fn render_value(v: &serde_json::Value, python: bool) -> String {
    use serde_json::Value;
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) if python => if *b { "True" } else { "False" }.into(),
        Value::Null if python => "None".into(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| render_value(i, python))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| {
                    let key = if python { format!("'{k}'") } else { k.clone() };
                    format!("{key}: {}", render_value(v, python))
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn cells_incident(state: &State, t: &Theme, i: &Incident) -> Vec<(String, Style)> {
    let level_style = level_style(t, &i.level);
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
    use crate::domain::{SourceData, SourceId};
    use crate::ui::theme::Theme;

    crate::view_snapshots!(Tab::Incidents);

    /// The Incidents tab at `w` × `h` with CHECKOUT-4C selected and its latest event loaded.
    fn with_event_4c(w: u16, h: u16) -> crate::app::State {
        let mut s = loaded(Tab::Incidents, w, h);
        let SourceData::Sentry(mut rows) = sentry_data() else {
            unreachable!("sentry_data is Sentry's")
        };
        rows.push(incident_4c());
        crate::app::update(
            &mut s,
            crate::app::Msg::loaded(SourceId::Sentry, Ok(SourceData::Sentry(rows)), NOW),
        );
        let at = s
            .incidents
            .list
            .view
            .iter()
            .position(|&i| s.incidents.items[i as usize].short_id == "CHECKOUT-4C")
            .expect("CHECKOUT-4C listed");
        s.incidents.list.selected = at;
        s.detail = true;
        let seen = incident_4c().last_seen;
        s.incident_events.insert(
            "6120007".into(),
            seen,
            crate::app::state::Loadable::Ready(event_4c()),
        );
        s
    }

    #[test]
    fn an_incident_new_since_the_deploy_is_listed_first() {
        // CHECKOUT-4C was first seen 4 minutes ago, when checkout's Deploy run started.
        let s = with_event_4c(120, 30);
        let first = s
            .incidents
            .list
            .view
            .first()
            .map(|&i| &s.incidents.items[i as usize]);
        assert_eq!(first.map(|i| i.short_id.as_str()), Some("CHECKOUT-4C"));
        let screen = draw(&s);
        let row = screen.lines().nth(3).unwrap_or_default();
        assert!(row.contains("CHECKOUT-4C"), "{screen}");
    }

    /// The suspected change, as `analysis::suspect` phrases it, best first.
    fn suspects_4c() -> Vec<Suspect> {
        vec![
            Suspect {
                kind: crate::domain::SuspectKind::PullRequest,
                title: "PR #416 Refund only open shipments".into(),
                repo: Some("acme/checkout".into()),
                sha: Some("4f1c2d9e0b".into()),
                pr: Some(416),
                url: None,
                score: 3.0,
                evidence: vec![
                    "first seen 20 min after deploy 2.14.0 of checkout to production".into(),
                    "PR #416 in that deploy changed `worker/refunds.py`, which holds 2 of the 3 \
                     in-app frames, the crash frame among them"
                        .into(),
                ],
            },
            Suspect {
                kind: crate::domain::SuspectKind::PullRequest,
                title: "PR #417 Skip the payment form for saved cards".into(),
                repo: Some("acme/checkout".into()),
                sha: None,
                pr: Some(417),
                url: None,
                score: 1.0,
                evidence: vec!["in the same deploy; changed none of the frames' files".into()],
            },
        ]
    }

    #[test]
    fn the_suspected_change_comes_first_with_its_evidence_or_none_found() {
        let mut s = with_event_4c(200, 60);
        let seen = incident_4c().last_seen;
        s.incident_suspects.insert(
            "6120007".into(),
            seen,
            crate::app::state::Loadable::Ready(suspects_4c()),
        );
        let screen = draw(&s);
        let at = |needle: &str| {
            screen
                .find(needle)
                .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{screen}"))
        };
        assert!(at("Suspected change") < at("▶ PR #416 Refund only open shipments"));
        assert!(at("PR #416 Refund only open shipments") < at("which holds 2 of the"));
        assert!(at("also possible:") < at("PR #417 Skip the payment form"));
        // Before the stack trace: it is the finding.
        assert!(at("PR #417") < at("Stack trace"));
        insta::assert_snapshot!(screen);

        s.incident_suspects.insert(
            "6120007".into(),
            seen,
            crate::app::state::Loadable::Ready(Vec::new()),
        );
        let screen = draw(&s);
        assert!(screen.contains("none found"), "{screen}");
        s.incident_suspects.insert(
            "6120007".into(),
            seen,
            crate::app::state::Loadable::Failed("rate limited".into()),
        );
        assert!(draw(&s).contains("could not look it up: rate limited"));
    }

    /// The regression-test editor over the tab: where the file goes, what the draft is, the
    /// file with the cursor, the PR's title and body, the keys.
    #[test]
    fn the_regression_test_editor_100x40() {
        let mut s = with_event_4c(100, 40);
        let contents = "# Regression test drafted by flightdeck from a Sentry incident.\n\
                        #\n# Sentry issue CHECKOUT-4C\n\
                        # ZeroDivisionError: integer division or modulo by zero\n\
                        import pytest\n\nfrom worker.refunds import refund_order\n\n\n\
                        @pytest.mark.xfail(strict=True, raises=ZeroDivisionError)\n\
                        def test_regression_checkout_4c():\n    \
                        refund_order({'id': 'ord_7Q2', 'total_cents': 4200}, [])\n";
        s.draft = Some(Box::new(crate::app::draft::DraftEditor::new(
            crate::app::draft::PreparedDraft {
                issue_id: "6120007".into(),
                short_id: "CHECKOUT-4C".into(),
                issue_url: "https://sentry.example/issues/6120007/".into(),
                repo: "acme/checkout".into(),
                branch: "flightdeck/regression-checkout-4c".into(),
                path: "worker/tests/test_regression_checkout_4c.py".into(),
                contents: contents.into(),
                title: "Regression test for CHECKOUT-4C: ZeroDivisionError in refund_order".into(),
                body: "Adds a regression test for Sentry issue CHECKOUT-4C.\n\nSuspected change: PR #416.".into(),
                language: "python".into(),
                reproduces: true,
                branch_exists: false,
                existing_pr: Some(423),
                notes: vec!["crash frame worker/refunds.py:6 split_refund".into()],
            },
        )));
        s.mode = crate::app::state::Mode::Draft;
        let screen = draw(&s);
        for needle in [
            " Regression test for CHECKOUT-4C ",
            "updates PR #423",
            "reproduces the crash with the event's values",
            "@pytest.mark.xfail(strict=True, raises=ZeroDivisionError)",
            "ZeroDivisionError in refund_order",
            "ctrl-s open the PR",
        ] {
            assert!(screen.contains(needle), "{needle:?}:\n{screen}");
        }
        insta::assert_snapshot!(screen);
    }

    #[test]
    fn checkout_4c_event_80x24() {
        let s = with_event_4c(80, 24);
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn checkout_4c_event_80x24_scrolled_to_the_trace() {
        let mut s = with_event_4c(80, 24);
        s.detail_scroll = 12;
        let screen = draw(&s);
        assert!(
            screen.contains("⋯ kombu/messaging.py in _receive_callback"),
            "{screen}"
        );
        insta::assert_snapshot!(screen);
    }

    #[test]
    fn checkout_4c_event_wide() {
        let s = with_event_4c(200, 60);
        let screen = draw(&s);
        // The crash frame is marked, its line emphasised, its vars shown as Python writes them.
        assert!(
            screen.contains("▶ worker/refunds.py in split_refund at line 6"),
            "{screen}"
        );
        assert!(
            screen.contains("→6 │     share = total_cents // parts"),
            "{screen}"
        );
        assert!(screen.contains("parts = 0"), "{screen}");
        insta::assert_snapshot!(screen);
    }

    #[test]
    fn the_crash_line_is_emphasised_and_in_app_frames_take_the_accent() {
        let s = with_event_4c(200, 60);
        let t = draw_with(&s, &loud_theme());
        let crash = style_of(&t, "▶ worker/refunds.py").expect("crash frame");
        assert_eq!(crash.fg, Some(ratatui::style::Color::Rgb(255, 0, 255)));
        let line = style_of(&t, "    share = total_cents").expect("crash line");
        assert!(line.add_modifier.contains(ratatui::style::Modifier::BOLD));
        let app = style_of(&t, "  worker/app.py in handle_refund").expect("in-app frame");
        assert_eq!(app.fg, Theme::builtin("default").unwrap().accent().fg);
        let library = style_of(&t, " ⋯ kombu").expect("library frame");
        assert_ne!(library.fg, app.fg);
    }

    #[test]
    fn while_the_event_loads_the_pane_says_so_and_an_error_shows() {
        let mut s = with_event_4c(200, 60);
        s.incident_events
            .insert("6120007".into(), None, crate::app::state::Loadable::Loading);
        assert!(draw(&s).contains("loading…"));
        s.incident_events.insert(
            "6120007".into(),
            None,
            crate::app::state::Loadable::Failed("HTTP 502: bad gateway".into()),
        );
        let screen = draw(&s);
        assert!(
            screen.contains("could not load: HTTP 502: bad gateway"),
            "{screen}"
        );
        assert!(!screen.contains("Stack trace"), "{screen}");
    }

    #[test]
    fn a_chain_says_how_each_exception_led_to_the_next() {
        let mut s = with_event_4c(200, 60);
        let mut e = event_4c();
        let cause = |kind: &str, how: Option<&str>| ExceptionInfo {
            kind: kind.into(),
            value: "x".into(),
            chained_as: how.map(String::from),
            ..ExceptionInfo::default()
        };
        e.exceptions
            .insert(0, cause("KeyError", Some("__context__")));
        e.exceptions.insert(0, cause("OSError", Some("__cause__")));
        s.incident_events.insert(
            "6120007".into(),
            None,
            crate::app::state::Loadable::Ready(e),
        );
        let screen = draw(&s);
        assert!(screen.contains("Exception chain (cause first)"), "{screen}");
        assert!(screen.contains(" OSError: x"), "{screen}");
        assert!(screen.contains(" ↳ caused: KeyError: x"), "{screen}");
        assert!(
            screen.contains(" ↳ during handling: ZeroDivisionError: integer division"),
            "{screen}"
        );
        assert!(screen.contains("(raised)"), "{screen}");
    }

    #[test]
    fn values_read_as_the_sdks_language_writes_them() {
        let order = serde_json::json!({"id": "'ord_1842'", "shipments": [
            {"id": "'shp_1'", "delivered": true}], "note": null});
        assert_eq!(
            render_value(&order, true),
            "{'id': 'ord_1842', 'note': None, 'shipments': [{'delivered': True, 'id': 'shp_1'}]}"
        );
        assert_eq!(
            render_value(&order, false),
            "{id: 'ord_1842', note: null, shipments: [{delivered: true, id: 'shp_1'}]}"
        );
        assert_eq!(render_value(&serde_json::json!([]), true), "[]");
    }

    #[test]
    fn long_runs_of_library_frames_collapse_and_dropped_frames_are_counted() {
        let mut s = with_event_4c(200, 60);
        let mut e = event_4c();
        let x = &mut e.exceptions[0];
        let lib = x.frames[0].clone();
        for _ in 0..11 {
            x.frames.insert(0, lib.clone());
        }
        x.frames_omitted = 300;
        x.omitted_at = 6;
        s.incident_events.insert(
            "6120007".into(),
            None,
            crate::app::state::Loadable::Ready(e),
        );
        let screen = draw(&s);
        assert!(screen.contains("⋯ 6 library frames"), "{screen}");
        assert!(screen.contains("⋯ 300 frames not kept"), "{screen}");
        assert!(!screen.contains("⋯ kombu/messaging.py"), "{screen}");
    }

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
