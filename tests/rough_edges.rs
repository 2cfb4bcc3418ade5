//! What a new user hit first (issue 7), one test each: scrolling the detail pane and help, the hint
//! bar, typed confirmations, narrow terminals, the log view's end, typed errors, the filter's
//! counts, quitting with changes in flight, and messages that name the right tab.

mod common;
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flightdeck::app::change::Focus;
use flightdeck::app::keymap::Keymap;
use flightdeck::app::plan::{RollbackVia, ServicePlan};
use flightdeck::app::{Effect, Fetch, Fetched, Level, Mode, Msg, Tab, TabStatus, update};
use flightdeck::domain::{DeployedRevisions, Job, RunState, SourceData, SourceError, SourceId};

fn ctrl(c: char) -> Msg {
    Msg::key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn go(s: &mut flightdeck::app::State, tab: Tab) {
    update(s, key(char::from(b'1' + tab.index() as u8)));
}

fn text(s: &mut flightdeck::app::State) -> String {
    screen_text(&draw_and_measure(s)).join("\n")
}

#[test]
fn detail_pane_scrolls_to_its_end_with_the_preview_keys_and_says_more_is_below() {
    let mut s = loaded_state(80, 24);
    go(&mut s, Tab::Rollouts);
    update(&mut s, code(KeyCode::Enter));
    let first = text(&mut s);
    let extent = s.drawn.detail.expect("the detail pane was measured");
    assert!(
        extent.content > extent.viewport,
        "the rollout detail is longer than the pane at 80x24: {extent:?}"
    );
    assert!(
        first.contains("more ·"),
        "the pane says more is below:\n{first}"
    );
    let selected = s.rollouts.list.selected;
    // ctrl-d scrolls the pane, not the list, and stops at the end.
    for _ in 0..40 {
        update(&mut s, ctrl('d'));
        text(&mut s);
    }
    assert_eq!(s.rollouts.list.selected, selected, "the list did not move");
    assert_eq!(s.detail_scroll, extent.max_scroll(), "scrolled to the end");
    let end = text(&mut s);
    assert!(end.contains("above"), "the pane says what is above:\n{end}");
    assert!(
        end.contains("baseline") && end.contains("judge"),
        "the metrics' sparklines and reasons are reachable:\n{end}"
    );
    // One line back up with K, then pgup goes further.
    update(&mut s, key('K'));
    assert_eq!(s.detail_scroll, extent.max_scroll() - 1);
    update(&mut s, code(KeyCode::PageUp));
    assert!(s.detail_scroll < extent.max_scroll() - 1);
    // Another row starts at its top.
    update(&mut s, key('j'));
    assert_eq!(s.detail_scroll, 0);
}

#[test]
fn help_scrolls_by_page_shows_more_below_and_lists_this_tabs_keys_first() {
    let mut s = loaded_state(80, 24);
    go(&mut s, Tab::Runs);
    update(&mut s, key('?'));
    let t = text(&mut s);
    assert!(t.contains("On the Runs tab"), "{t}");
    let here = t.find("On the Runs tab").unwrap();
    let logs = t.find(" logs ").expect("l logs is listed");
    let quit = t.find(" quit ");
    assert!(logs > here && quit.is_none_or(|q| q > logs), "{t}");
    assert!(t.contains("↓"), "help says more is below:\n{t}");
    let max = s.drawn.popup.unwrap().max_scroll();
    assert!(max > 0);
    update(&mut s, code(KeyCode::PageDown));
    let Mode::Help { scroll } = s.mode else {
        panic!("pgdown keeps help open: {:?}", s.mode)
    };
    assert!(scroll > 1, "pgdown moves more than a line");
    update(&mut s, key('G'));
    assert_eq!(s.mode, Mode::Help { scroll: max });
    update(&mut s, key('j'));
    assert_eq!(s.mode, Mode::Help { scroll: max }, "stops at the end");
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn the_hint_bar_shows_the_current_tabs_actions() {
    let mut s = loaded_state(100, 24);
    let bottom = |s: &mut flightdeck::app::State| {
        s.messages.clear();
        let lines = screen_text(&draw_and_measure(s));
        lines[lines.len() - 2].clone()
    };
    let prs = bottom(&mut s);
    assert!(
        prs.contains("enter detail") && !prs.contains("rollback"),
        "{prs}"
    );
    go(&mut s, Tab::Runs);
    let runs = bottom(&mut s);
    assert!(
        runs.contains("l logs") && runs.contains("a approve") && runs.contains("? help"),
        "{runs}"
    );
    go(&mut s, Tab::Rollouts);
    let rollouts = bottom(&mut s);
    assert!(rollouts.contains("R rollback"), "{rollouts}");
    // Remapped keys show as remapped.
    s.keymap = Keymap::build([("rollback", vec!["ctrl-r"])]).unwrap();
    let remapped = bottom(&mut s);
    assert!(remapped.contains("ctrl-r rollback"), "{remapped}");
}

fn with_inventory() -> flightdeck::app::State {
    let mut s = loaded_state(120, 40);
    load(
        &mut s,
        SourceId::Prometheus,
        SourceData::Prometheus(vec![rollout("inventory", true, 25.0, 0.001)]),
    );
    s.services = vec![ServicePlan {
        name: "inventory".into(),
        repo: Some("acme/inventory".into()),
        environment: "production".into(),
        production: true,
        rollback: Some(RollbackVia::Command {
            argv: vec!["true".into(), "{last_good_sha}".into()],
        }),
    }];
    go(&mut s, Tab::Rollouts);
    s
}

#[test]
fn a_typed_confirmation_takes_letters_that_are_also_commands() {
    let mut s = with_inventory();
    let fx = update(&mut s, key('R'));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Fetch(Fetch::Revisions { .. })]
    ));
    update(
        &mut s,
        Msg::Fetched(Fetched::Revisions {
            service: "inventory".into(),
            auto: false,
            result: Ok(DeployedRevisions {
                current: Some("c0ffee".into()),
                last_good: Some("abc123".into()),
                last_good_ref: None,
            }),
        }),
    );
    let Mode::Confirm(c) = &s.mode else {
        panic!("R opens the confirmation: {:?}", s.mode)
    };
    assert_eq!(c.focus, Focus::Typed, "the field has the focus");
    // `n` cancelled and `h`/`l` toggled the buttons before; now they are letters.
    type_text(&mut s, "inventory");
    let Mode::Confirm(c) = &s.mode else {
        panic!("typing the name does not cancel: {:?}", s.mode)
    };
    assert_eq!(c.typed, "inventory");
    assert!(c.armed());
    let t = text(&mut s);
    assert!(
        t.contains("enter or tab moves on"),
        "the dialog says how to move:\n{t}"
    );
    update(&mut s, code(KeyCode::Enter));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::Change { .. }]), "{fx:?}");
}

#[test]
fn a_comment_takes_letters_and_enter_leaves_it_for_no() {
    let mut s = loaded_state(120, 40);
    go(&mut s, Tab::Runs);
    update(&mut s, key('j'));
    update(&mut s, key('x'));
    type_text(&mut s, " now");
    let Mode::Confirm(c) = &s.mode else {
        panic!("`n` in the comment does not cancel: {:?}", s.mode)
    };
    assert!(c.comment_text().ends_with(" now"), "{}", c.comment_text());
    update(&mut s, code(KeyCode::Enter));
    let Mode::Confirm(c) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert_eq!(c.focus, Focus::No);
    assert!(
        update(&mut s, code(KeyCode::Enter)).is_empty(),
        "enter on No sends nothing"
    );
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn narrow_status_bar_keeps_every_source() {
    let mut s = loaded_state(60, 20);
    fail(
        &mut s,
        SourceId::Sentry,
        "HTTP 502: bad gateway from the upstream proxy",
    );
    s.messages.clear();
    let lines = screen_text(&draw(&s));
    let status = lines.last().unwrap();
    for name in ["GitHub", "Prom", "Sentry"] {
        assert!(
            status.contains(name),
            "{name} is on the status bar: {status:?}"
        );
    }
}

#[test]
fn narrow_runs_keep_the_repo_and_rollouts_keep_whole_verdicts() {
    let mut s = loaded_state(80, 24);
    go(&mut s, Tab::Runs);
    let t = screen_text(&draw(&s)).join("\n");
    assert!(
        t.contains("acme/checkout") && t.contains("acme/web"),
        "two `CI main` rows are told apart by their repo:\n{t}"
    );
    for w in [40, 50, 60] {
        let mut s = loaded_state(w, 20);
        go(&mut s, Tab::Rollouts);
        let t = screen_text(&draw(&s)).join("\n");
        assert!(t.contains("ROLLBACK"), "{w} columns: verdict whole:\n{t}");
        assert!(t.contains("PROCEED"), "{w} columns: verdict whole:\n{t}");
    }
}

#[test]
fn dialogs_fit_narrow_screens() {
    for w in [40, 60] {
        let mut s = loaded_state(w, 30);
        go(&mut s, Tab::Runs);
        update(&mut s, key('j'));
        update(&mut s, key('a'));
        let lines = screen_text(&draw(&s));
        let t = lines.join("\n");
        assert!(t.contains("[ No ]"), "{w}: the buttons are shown:\n{t}");
        assert!(t.contains("production"), "{w}: the target is shown:\n{t}");
        // The dialog is inside the screen: the table's frame stays visible on both sides.
        let row: Vec<char> = lines
            .iter()
            .find(|l| l.contains("[ No ]"))
            .unwrap()
            .chars()
            .collect();
        let border = |c: char| matches!(c, '│' | '┃');
        assert!(
            border(row[0]) && border(row[1]) && border(row[row.len() - 2]),
            "{w}: dialog inside the frame: {row:?}"
        );
    }
}

fn two_failures_log() -> String {
    let mut log = String::new();
    for i in 0..60 {
        log.push_str(&format!("2026-11-23T09:00:{:02}.0Z step {i} ok\n", i % 60));
    }
    log.push_str("2026-11-23T09:01:00.0Z error[E0425]: cannot find value `amount` in this scope\n");
    for i in 0..60 {
        log.push_str(&format!(
            "2026-11-23T09:02:{:02}.0Z more output {i}\n",
            i % 60
        ));
    }
    log.push_str("2026-11-23T09:03:00.0Z FAIL src/payment.test.js\n");
    log.push_str("2026-11-23T09:03:00.1Z     TypeError: Cannot read properties of undefined\n");
    for i in 0..30 {
        log.push_str(&format!("2026-11-23T09:04:{:02}.0Z tail {i}\n", i % 60));
    }
    log.push_str("2026-11-23T09:05:00.0Z the very last line\n");
    log.push_str("2026-11-23T09:05:01.0Z ##[error]Process completed with exit code 1.\n");
    log
}

#[test]
fn the_log_views_last_line_is_reachable_at_80x24() {
    let mut s = loaded_state(80, 24);
    go(&mut s, Tab::Runs);
    let id = s.runs.selected().unwrap().id;
    update(&mut s, key('l'));
    update(
        &mut s,
        Msg::Fetched(Fetched::Jobs {
            repo: "acme/checkout".into(),
            run_id: id,
            result: Ok(vec![Job {
                id: 77,
                name: "test".into(),
                state: RunState::Failure,
                started_at: None,
                completed_at: None,
                url: String::new(),
                steps: vec![],
            }]),
        }),
    );
    let triage = flightdeck::analysis::ci_log::triage(&two_failures_log());
    assert!(triage.excerpts.len() >= 2, "{:?}", triage.excerpts.len());
    update(
        &mut s,
        Msg::Fetched(Fetched::Log {
            job_id: 77,
            result: Ok(triage),
        }),
    );
    update(&mut s, key('G'));
    let t = text(&mut s);
    assert!(t.contains("exit code 1"), "G shows the end:\n{t}");
    for _ in 0..5 {
        update(&mut s, code(KeyCode::PageDown));
    }
    let again = text(&mut s);
    assert_eq!(t, again, "nothing below the end");
    update(&mut s, key('k'));
    let up = text(&mut s);
    assert_ne!(t, up, "one line up moves at once");
}

#[test]
fn a_rate_limit_says_until_when_and_an_auth_failure_says_so() {
    let mut s = new_state(120, 40);
    update(
        &mut s,
        Msg::loaded(
            SourceId::GitHub,
            Err(SourceError::RateLimited {
                retry_after_secs: 300,
            }),
            NOW,
        ),
    );
    let TabStatus::Error(e) = s.tab_status(Tab::Prs) else {
        panic!("{:?}", s.tab_status(Tab::Prs))
    };
    assert_eq!(e, "rate limited until 09:35 UTC");
    assert!(s.freshness(SourceId::GitHub).contains("until 09:35"));
    update(
        &mut s,
        Msg::loaded(
            SourceId::Sentry,
            Err(SourceError::Auth {
                status: 401,
                hint: "set SENTRY_AUTH_TOKEN".into(),
            }),
            NOW,
        ),
    );
    assert!(
        s.freshness(SourceId::Sentry).contains("token rejected"),
        "{}",
        s.freshness(SourceId::Sentry)
    );
}

#[test]
fn the_filter_counts_the_same_however_the_text_was_reached() {
    let mut s = new_state(120, 40);
    load(
        &mut s,
        SourceId::GitHub,
        SourceData::GitHub {
            prs: vec![pr("acme/x", 1, "q000000xz", "bo").into()],
            runs: vec![],
            rate: None,
            graphql_rate: None,
            failed: Vec::new(),
            slowed: None,
        },
    );
    update(&mut s, key('/'));
    type_text(&mut s, "qxz");
    let typed = s.prs.list.view.len();
    type_text(&mut s, "w");
    update(&mut s, code(KeyCode::Backspace));
    let backspaced = s.prs.list.view.len();
    assert_eq!(typed, backspaced, "same text, same count");
    assert_eq!(typed, 1, "`qxz` spans 9 ≤ 3 letters + 6");
    let lines = screen_text(&draw(&s));
    assert!(
        lines.iter().any(|l| l.contains("1 match ")),
        "one match, singular"
    );
}

#[test]
fn run_actions_off_the_runs_tab_name_the_runs_tab() {
    let mut s = loaded_state(120, 40);
    for k in ['F', 'c'] {
        update(&mut s, key(k));
        let m = s.current_message().unwrap();
        assert_eq!(m.level, Level::Warn);
        assert!(m.text.contains("Runs (2)"), "{}", m.text);
        assert!(!m.text.contains("held deployment"), "{}", m.text);
    }
}

#[test]
fn quitting_with_a_change_in_flight_says_it_waits() {
    let mut s = loaded_state(120, 40);
    go(&mut s, Tab::Runs);
    let failed = s
        .runs
        .items
        .iter()
        .position(|r| r.state == RunState::Failure)
        .unwrap();
    while s.runs.list.selected_item() != Some(failed) {
        update(&mut s, key('j'));
    }
    update(&mut s, key('F'));
    update(&mut s, code(KeyCode::Tab));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::Change { .. }]), "{fx:?}");
    assert_eq!(update(&mut s, key('q')), vec![Effect::Quit]);
    let m = s.current_message().unwrap();
    assert!(m.text.contains("1 remote change in flight"), "{}", m.text);
}

#[test]
fn a_repository_that_failed_keeps_its_rows_and_is_named() {
    let mut s = loaded_state(120, 30);
    let web_prs = s.prs.items.iter().filter(|p| p.repo == "acme/web").count();
    assert!(web_prs > 0);
    let SourceData::GitHub { prs, runs, .. } = github_data() else {
        unreachable!()
    };
    load(
        &mut s,
        SourceId::GitHub,
        SourceData::GitHub {
            prs: prs.into_iter().filter(|p| p.repo != "acme/web").collect(),
            runs: runs.into_iter().filter(|r| r.repo != "acme/web").collect(),
            rate: None,
            graphql_rate: None,
            failed: vec![flightdeck::domain::RepoError {
                repo: "acme/web".into(),
                error: SourceError::Status {
                    status: 404,
                    message: "Could not resolve to a Repository".into(),
                },
            }],
            slowed: None,
        },
    );
    assert_eq!(
        s.prs.items.iter().filter(|p| p.repo == "acme/web").count(),
        web_prs,
        "its last good rows stay"
    );
    assert_eq!(s.tab_status(Tab::Prs), TabStatus::Ready);
    assert!(
        s.freshness(SourceId::GitHub).contains("acme/web: HTTP 404"),
        "{}",
        s.freshness(SourceId::GitHub)
    );
    let m = s.current_message().unwrap();
    assert_eq!(m.level, Level::Warn);
    assert!(m.text.contains("acme/web"), "{}", m.text);
}

/// GitHub's polls spaced out ahead of a rate limit's wall: the status bar says so, with the
/// reset time, and goes back to normal when a poll is no longer slowed.
#[test]
fn the_status_bar_says_when_github_polls_are_slowed_and_until_when() {
    let mut s = loaded_state(200, 30);
    let reset = s.now.unix_timestamp() + 25 * 60;
    let with = |slowed| SourceData::GitHub {
        prs: s.prs.items.clone(),
        runs: s.runs.items.clone(),
        rate: Some(flightdeck::domain::RateLimit {
            limit: 5000,
            remaining: 380,
            reset,
        }),
        graphql_rate: None,
        failed: Vec::new(),
        slowed,
    };
    let slowed = with(Some(flightdeck::domain::Slowdown {
        every_secs: 180,
        until: reset,
        graphql: false,
    }));
    let calm = with(None);
    load(&mut s, SourceId::GitHub, slowed);
    let f = time::macros::format_description!("[hour]:[minute]");
    let until = time::OffsetDateTime::from_unix_timestamp(reset)
        .unwrap()
        .format(&f)
        .unwrap();
    let screen = text(&mut s);
    let bar = screen.lines().last().unwrap_or_default().to_string();
    assert!(
        bar.contains(&format!(
            "GitHub slowed to a poll every 3m until {until} UTC (API requests running low)"
        )),
        "{bar}"
    );
    load(&mut s, SourceId::GitHub, calm);
    let screen = text(&mut s);
    assert!(!screen.contains("slowed"), "{screen}");
}
