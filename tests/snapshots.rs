//! Render snapshots of the whole shell (insta over ratatui's TestBackend).

mod common;
use common::*;
use crossterm::event::KeyCode;
use flightdeck::app::{Fetched, Input, Msg, State, Tab, update};
use flightdeck::domain::{SourceData, SourceId};

fn go(state: &mut State, tab: Tab) {
    let c = char::from(b'1' + tab.index() as u8);
    update(state, key(c));
    state.messages.clear();
}

fn empty_data(source: SourceId) -> SourceData {
    match source {
        SourceId::GitHub => SourceData::GitHub {
            prs: vec![],
            runs: vec![],
            rate: None,
            graphql_rate: None,
            failed: Vec::new(),
            slowed: None,
        },
        SourceId::Prometheus => SourceData::Prometheus(vec![]),
        SourceId::Sentry => SourceData::Sentry(vec![]),
    }
}

fn states_for(tab: Tab, w: u16, h: u16) -> Vec<(&'static str, State)> {
    let mut loading = new_state(w, h);
    go(&mut loading, tab);

    let mut empty = new_state(w, h);
    for id in SourceId::ALL {
        load(&mut empty, id, empty_data(id));
    }
    go(&mut empty, tab);

    let mut error = new_state(w, h);
    for id in SourceId::ALL {
        fail(
            &mut error,
            id,
            "cannot connect to 127.0.0.1:9: Connection refused (os error 111)",
        );
    }
    go(&mut error, tab);

    let mut full = loaded_state(w, h);
    go(&mut full, tab);
    vec![
        ("loading", loading),
        ("empty", empty),
        ("error", error),
        ("populated", full),
    ]
}

#[test]
fn every_tab_every_state_two_sizes() {
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        for tab in Tab::ALL {
            for (name, state) in states_for(tab, w, h) {
                let snap = format!("{}_{}_{w}x{h}", tab.title().to_lowercase(), name);
                insta::assert_snapshot!(snap, draw(&state).backend());
            }
        }
    }
}

#[test]
fn filter_with_highlight_and_count() {
    let mut s = loaded_state(80, 24);
    s.messages.clear();
    update(&mut s, key('/'));
    type_text(&mut s, "chk");
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn help_overlay_shows_live_bindings() {
    let mut s = loaded_state(100, 40);
    s.messages.clear();
    update(&mut s, key('?'));
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn palette_fuzzy_matches() {
    let mut s = loaded_state(100, 30);
    s.messages.clear();
    update(&mut s, key(':'));
    type_text(&mut s, "tab");
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn detail_bottom_when_narrow_right_when_wide() {
    let mut s = loaded_state(80, 24);
    s.messages.clear();
    update(&mut s, code(KeyCode::Enter));
    insta::assert_snapshot!("detail_narrow", draw(&s).backend());
    update(&mut s, Msg::Input(Input::Resize(200, 50)));
    go(&mut s, Tab::Rollouts);
    insta::assert_snapshot!("detail_wide_production", draw(&s).backend());
}

#[test]
fn error_history_and_read_only_badge() {
    let mut s = loaded_state(100, 24);
    s.read_only = true;
    fail(
        &mut s,
        SourceId::Sentry,
        "HTTP 502: the server answered with an HTML error page",
    );
    update(&mut s, key('!'));
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn not_configured_explains_what_to_add() {
    let mut s = new_state(80, 24);
    s.sources[SourceId::Sentry as usize].configured = false;
    go(&mut s, Tab::Incidents);
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn hostile_text_cannot_break_the_table() {
    use flightdeck::sanitize::clean;
    let mut s = new_state(80, 24);
    let mut p = pr(
        "acme/web",
        1,
        &clean("\u{1b}[31mred\u{1b}[0m\u{1b}]0;pwned\u{7} 世界 e\u{301} tab\there"),
        "eve",
    );
    p.labels = vec![clean("\u{202E}evil")];
    let long = "x".repeat(10_000);
    load(
        &mut s,
        SourceId::GitHub,
        SourceData::GitHub {
            prs: vec![p.into(), pr("acme/web", 2, &long, "mallory").into()],
            runs: vec![],
            rate: None,
            graphql_rate: None,
            failed: Vec::new(),
            slowed: None,
        },
    );
    let t = draw(&s);
    let text = format!("{}", t.backend());
    assert!(!text.contains('\u{1b}'));
    insta::assert_snapshot!(text);
}

fn failed_log() -> &'static str {
    "2026-11-23T09:00:01.0000000Z ##[group]Run npm ci\n\
     2026-11-23T09:00:02.0000000Z added 812 packages in 9s\n\
     2026-11-23T09:00:03.0000000Z ##[endgroup]\n\
     2026-11-23T09:00:04.0000000Z ##[group]Run npm test\n\
     2026-11-23T09:00:05.0000000Z \u{1b}[31mFAIL\u{1b}[39m src/payment.test.js\n\
     2026-11-23T09:00:05.1000000Z   ● charge › rejects a card without amount\n\
     2026-11-23T09:00:05.2000000Z     TypeError: Cannot read properties of undefined (reading 'amount')\n\
     2026-11-23T09:00:05.3000000Z       at chargeCard (src/payment.js:118:23)\n\
     2026-11-23T09:00:05.4000000Z Tests: 1 failed, 41 passed, 42 total\n\
     2026-11-23T09:00:06.0000000Z ##[error]Process completed with exit code 1.\n"
}

#[test]
fn runs_detail_with_jobs_and_pending_deployment() {
    use flightdeck::domain::{Job, RunState, Step};
    let mut s = loaded_state(200, 50);
    go(&mut s, Tab::Runs);
    update(&mut s, key('j'));
    let id = s.runs.selected().unwrap().id;
    update(&mut s, code(KeyCode::Enter));
    let jobs = vec![
        Job {
            id: 1,
            name: "deploy (production)".into(),
            state: RunState::Waiting,
            started_at: None,
            completed_at: None,
            url: String::new(),
            steps: vec![],
        },
        Job {
            id: 2,
            name: "build".into(),
            state: RunState::Success,
            started_at: None,
            completed_at: None,
            url: String::new(),
            steps: vec![
                Step {
                    number: 1,
                    name: "Set up job".into(),
                    state: RunState::Success,
                },
                Step {
                    number: 2,
                    name: "Run npm test".into(),
                    state: RunState::Failure,
                },
            ],
        },
    ];
    update(
        &mut s,
        Msg::Fetched(Fetched::Jobs {
            repo: "acme/checkout".into(),
            run_id: id,
            result: Ok(jobs),
        }),
    );
    s.messages.clear();
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn pr_detail_with_checks_reviews_and_files() {
    use flightdeck::domain::PrFile;
    let mut s = loaded_state(200, 50);
    update(&mut s, code(KeyCode::Enter));
    let files = vec![
        PrFile {
            filename: "src/payment.js".into(),
            status: "modified".into(),
            additions: 40,
            deletions: 12,
        },
        PrFile {
            filename: "src/payment.test.js".into(),
            status: "added".into(),
            additions: 88,
            deletions: 0,
        },
    ];
    update(
        &mut s,
        Msg::Fetched(Fetched::PrFiles {
            repo: "acme/checkout".into(),
            number: 101,
            result: Ok(files),
        }),
    );
    s.messages.clear();
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn failed_log_view() {
    let mut s = loaded_state(100, 30);
    go(&mut s, Tab::Runs);
    let id = s.runs.selected().unwrap().id;
    update(&mut s, key('l'));
    update(
        &mut s,
        Msg::Fetched(Fetched::Jobs {
            repo: "acme/checkout".into(),
            run_id: id,
            result: Ok(vec![flightdeck::domain::Job {
                id: 77,
                name: "test (node 20)".into(),
                state: flightdeck::domain::RunState::Failure,
                started_at: None,
                completed_at: None,
                url: String::new(),
                steps: vec![],
            }]),
        }),
    );
    let triage = flightdeck::analysis::ci_log::triage(failed_log());
    update(
        &mut s,
        Msg::Fetched(Fetched::Log {
            job_id: 77,
            result: Ok(triage),
        }),
    );
    s.messages.clear();
    let text = format!("{}", draw(&s).backend());
    assert!(!text.contains('\u{1b}'));
    insta::assert_snapshot!(text);
}

#[test]
fn approve_confirmation_names_the_target_loudly() {
    let mut s = loaded_state(100, 30);
    go(&mut s, Tab::Runs);
    update(&mut s, key('j'));
    update(&mut s, key('a'));
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn sorted_and_grouped() {
    let mut s = loaded_state(120, 20);
    update(&mut s, key('b'));
    update(&mut s, key('s'));
    update(&mut s, key('s'));
    update(&mut s, key('S'));
    s.messages.clear();
    insta::assert_snapshot!(draw(&s).backend());
}
