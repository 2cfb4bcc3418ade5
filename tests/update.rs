//! `update()` unit tests: message in, state and effects out.

mod common;
use common::*;
use crossterm::event::KeyCode;
use flightdeck::app::keymap::{Action, Keymap};
use flightdeck::app::{
    Effect, Input, Level, Mode, Msg, PollEffect, Signal, Tab, TabStatus, TerminalEffect, update,
};
use flightdeck::domain::SourceId;

#[test]
fn number_keys_and_tab_switch_tabs() {
    let mut s = loaded_state(120, 40);
    assert_eq!(s.tab, Tab::Prs);
    assert_eq!(
        update(&mut s, key('2')),
        vec![Effect::Poll(PollEffect::VisibleTab(Tab::Runs))]
    );
    assert_eq!(s.tab, Tab::Runs);
    update(&mut s, key('5'));
    assert_eq!(s.tab, Tab::Ai);
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.tab, Tab::Prs, "tab wraps around");
    update(&mut s, code(KeyCode::BackTab));
    assert_eq!(s.tab, Tab::Ai);
    assert!(update(&mut s, key('5')).is_empty(), "same tab: no effect");
}

#[test]
fn selection_moves_and_clamps() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    assert_eq!(s.prs.list.selected, 2);
    update(&mut s, key('G'));
    assert_eq!(s.prs.list.selected, 3);
    update(&mut s, key('j'));
    assert_eq!(s.prs.list.selected, 3);
    update(&mut s, key('g'));
    assert_eq!(s.prs.list.selected, 0);
    update(&mut s, key('k'));
    assert_eq!(s.prs.list.selected, 0);
}

#[test]
fn filter_narrows_highlights_and_restores() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key('/'));
    assert!(matches!(s.mode, Mode::Filter { .. }));
    type_text(&mut s, "chk");
    assert_eq!(s.prs.list.filter, "chk");
    // acme/checkout rows (2) and the web PR titled "Checkout button…".
    assert_eq!(s.prs.list.view.len(), 3);
    type_text(&mut s, " alice");
    assert_eq!(s.prs.list.view.len(), 1);
    update(&mut s, code(KeyCode::Backspace));
    assert_eq!(s.prs.list.filter, "chk alic");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.prs.list.view.len(), 1, "enter keeps the filter");
    // A second filter session cancelled with Esc restores the kept one.
    update(&mut s, key('/'));
    type_text(&mut s, "zzz");
    assert!(s.prs.list.view.is_empty());
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.prs.list.filter, "chk alic");
    // Esc in normal mode clears it.
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.prs.list.filter, "");
    assert_eq!(s.prs.list.view.len(), 4);
}

#[test]
fn filter_is_per_tab_and_survives_polls() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key('2'));
    update(&mut s, key('/'));
    type_text(&mut s, "failure");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.runs.list.view.len(), 1);
    load(&mut s, SourceId::GitHub, github_data());
    assert_eq!(s.runs.list.view.len(), 1);
    assert_eq!(s.prs.list.filter, "");
}

#[test]
fn selection_follows_the_item_across_polls() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key('j'));
    let id = s.prs.selected().unwrap().number;
    let mut data = github_data();
    if let flightdeck::domain::SourceData::GitHub { prs, .. } = &mut data {
        prs.insert(0, pr("acme/api", 7, "New PR on top", "dave").into());
    }
    load(&mut s, SourceId::GitHub, data);
    assert_eq!(s.prs.selected().unwrap().number, id);
}

#[test]
fn palette_lists_fuzzy_and_runs_actions() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key(':'));
    assert!(matches!(s.mode, Mode::Palette { .. }));
    type_text(&mut s, "incid");
    let Mode::Palette { input, .. } = &s.mode else {
        panic!()
    };
    assert_eq!(
        flightdeck::app::palette_entries(input)[0],
        Action::TabIncidents
    );
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::Poll(PollEffect::VisibleTab(Tab::Incidents))]
    );
    assert_eq!(s.mode, Mode::Normal);
    // Theme cycling is reachable only from the palette.
    update(&mut s, key(':'));
    type_text(&mut s, "next theme");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.theme_name(), "light");
    // Esc closes without running anything.
    update(&mut s, key(':'));
    type_text(&mut s, "quit");
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(!s.quit);
}

#[test]
fn palette_lists_every_action_but_itself() {
    let all = flightdeck::app::palette_entries("");
    assert_eq!(all.len(), Action::ALL.len() - 1);
    assert!(!all.contains(&Action::Palette));
}

#[test]
fn help_opens_and_closes() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key('?'));
    assert_eq!(s.mode, Mode::Help { scroll: 0 });
    update(&mut s, key('j'));
    assert_eq!(s.mode, Mode::Help { scroll: 1 });
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.mode, Mode::Normal);
    // q inside help closes help rather than quitting.
    update(&mut s, key('?'));
    assert!(update(&mut s, key('q')).is_empty());
    assert!(!s.quit);
}

#[test]
fn quit_by_key_ctrl_c_and_signal() {
    let mut s = loaded_state(120, 40);
    assert_eq!(update(&mut s, key('q')), vec![Effect::Quit]);
    assert!(s.quit);
    let mut s = loaded_state(120, 40);
    let ctrl_c = Msg::key(crossterm::event::KeyEvent::new(
        KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    ));
    assert_eq!(update(&mut s, ctrl_c), vec![Effect::Quit]);
    let mut s = loaded_state(120, 40);
    assert_eq!(
        update(&mut s, Msg::Terminate(Signal::Terminate)),
        vec![Effect::Quit]
    );
}

#[test]
fn remapped_keys_drive_update() {
    let mut s = loaded_state(120, 40);
    s.keymap = Keymap::build([("quit", vec!["Q"]), ("down", vec!["n", "down"])]).unwrap();
    assert!(update(&mut s, key('q')).is_empty());
    update(&mut s, key('n'));
    assert_eq!(s.prs.list.selected, 1);
    update(&mut s, key('j'));
    assert_eq!(s.prs.list.selected, 1, "j no longer moves");
    assert_eq!(update(&mut s, key('Q')), vec![Effect::Quit]);
}

#[test]
fn poll_errors_keep_last_good_data_and_recover() {
    let mut s = loaded_state(120, 40);
    fail(
        &mut s,
        SourceId::Sentry,
        "HTTP 502: the server answered with an HTML error page",
    );
    assert_eq!(s.incidents.items.len(), 3, "last good data kept");
    assert_eq!(s.tab_status(Tab::Incidents), TabStatus::Ready);
    assert!(s.freshness(SourceId::Sentry).contains("502"));
    let m = s.current_message().unwrap();
    assert_eq!(m.level, Level::Error);
    assert!(m.text.contains("last good data"));
    // The same error again is not repeated in the history.
    let n = s.messages.len();
    fail(
        &mut s,
        SourceId::Sentry,
        "HTTP 502: the server answered with an HTML error page",
    );
    assert_eq!(s.messages.len(), n);
    load(&mut s, SourceId::Sentry, sentry_data());
    assert!(s.source(SourceId::Sentry).last_error.is_none());
    assert!(s.current_message().unwrap().text.contains("recovered"));
}

#[test]
fn first_poll_failure_is_an_error_state() {
    let mut s = new_state(120, 40);
    assert_eq!(s.tab_status(Tab::Prs), TabStatus::Loading);
    fail(
        &mut s,
        SourceId::GitHub,
        "cannot connect to 127.0.0.1:9: connection refused",
    );
    assert!(matches!(s.tab_status(Tab::Prs), TabStatus::Error(_)));
}

#[test]
fn identical_poll_is_not_a_redraw() {
    let mut s = loaded_state(120, 40);
    s.dirty = false;
    load(&mut s, SourceId::GitHub, github_data());
    assert!(!s.dirty, "unchanged data must not trigger a redraw");
    load(&mut s, SourceId::Prometheus, prometheus_data());
    assert!(!s.dirty);
}

#[test]
fn ticks_redraw_only_when_something_visible_changes() {
    let mut s = loaded_state(120, 40);
    s.messages.clear();
    s.dirty = false;
    update(&mut s, Msg::Tick(NOW + time::Duration::seconds(5)));
    assert!(!s.dirty);
    // Far later: GitHub goes stale, which the status bar shows.
    update(&mut s, Msg::Tick(NOW + time::Duration::minutes(10)));
    assert!(s.dirty);
    assert!(s.freshness(SourceId::GitHub).contains("stale 10m"));
}

#[test]
fn messages_expire() {
    let mut s = loaded_state(120, 40);
    update(&mut s, Msg::Notice(Level::Info, "hello".into()));
    assert!(s.current_message().is_some());
    update(&mut s, Msg::Tick(NOW + time::Duration::seconds(30)));
    assert!(s.current_message().is_none());
    // History keeps warnings and errors for the error view.
    update(&mut s, key('!'));
    assert!(matches!(s.mode, Mode::Errors { .. }));
}

#[test]
fn untrusted_paste_is_sanitized() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key('/'));
    update(
        &mut s,
        Msg::Input(Input::Paste("\u{1b}[31mchk\u{7}".into())),
    );
    assert_eq!(s.prs.list.filter, "chk");
}

#[test]
fn copy_and_open_need_a_link() {
    let mut s = loaded_state(120, 40);
    let fx = update(&mut s, key('y'));
    assert_eq!(
        fx,
        vec![Effect::Terminal(TerminalEffect::Copy(
            "https://github.com/acme/checkout/pull/101".into()
        ))]
    );
    let fx = update(&mut s, key('o'));
    assert_eq!(
        fx,
        vec![Effect::Terminal(TerminalEffect::OpenUrl(
            "https://github.com/acme/checkout/pull/101".into()
        ))]
    );
    update(&mut s, key('3'));
    assert!(update(&mut s, key('y')).is_empty(), "rollouts have no link");
}

#[test]
fn production_focus_follows_selection() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key('3'));
    assert!(s.production_focus(), "checkout is production");
    update(&mut s, key('j'));
    assert!(!s.production_focus(), "web is staging");
}

#[test]
fn ai_tab_summarises_what_needs_attention() {
    let s = loaded_state(120, 40);
    let kinds: Vec<_> = s.summaries.items.iter().map(|x| x.kind.label()).collect();
    assert_eq!(
        kinds.first(),
        Some(&"rollout"),
        "breaching canary first: {kinds:?}"
    );
    assert!(s.summaries.items[0].headline.contains("error_rate"));
    assert!(kinds.contains(&"run") && kinds.contains(&"incident"));
}

#[test]
fn mouse_only_when_enabled() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let click = |col, row| {
        Msg::Input(Input::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row,
            modifiers: KeyModifiers::NONE,
        }))
    };
    let mut s = loaded_state(120, 40);
    let runs_x = flightdeck::app::layout::tab_title_spans(120, Tab::Prs)[1].2 + 1;
    assert!(update(&mut s, click(runs_x, 0)).is_empty());
    assert_eq!(s.tab, Tab::Prs);
    s.mouse = true;
    assert_eq!(
        update(&mut s, click(runs_x, 0)),
        vec![Effect::Poll(PollEffect::VisibleTab(Tab::Runs))]
    );
    update(&mut s, click(10, 5));
    assert_eq!(s.runs.list.selected, 2);
    // A narrow terminal draws short titles: a click finds the tab where it is drawn.
    let mut s = loaded_state(50, 20);
    s.mouse = true;
    let spans = flightdeck::app::layout::tab_title_spans(50 - 7, Tab::Prs);
    assert_eq!(spans[4].1.trim(), "5 AI");
    update(&mut s, click(spans[4].2 + 1, 0));
    assert_eq!(s.tab, Tab::Ai);
}

#[test]
fn resize_changes_detail_placement() {
    let mut s = loaded_state(80, 24);
    update(&mut s, code(KeyCode::Enter));
    assert!(s.detail);
    assert!(!s.detail_at_right());
    update(&mut s, Msg::Input(Input::Resize(200, 50)));
    assert!(s.detail_at_right());
}

#[test]
fn slice_strip_marks_the_current_weight() {
    use flightdeck::ui::tabs::slice_strip;
    let mut r = rollout("checkout", true, 50.0, 0.001);
    assert_eq!(slice_strip(&r), "10›25›[50]›100");
    r.weight = Some(0.0);
    assert_eq!(slice_strip(&r), "[0]›10›25›50›100", "rolled back");
    r.weight = None;
    assert_eq!(slice_strip(&r), "10›25›50›100");
}

// ---- The approval guard: every path to approving a held deployment asks the judge ----

use flightdeck::analysis::canary::Verdict;
use flightdeck::app::SourceEvent;
use flightdeck::app::State;
use flightdeck::app::change::{Change, Confirm};
use flightdeck::app::plan::ServicePlan;
use flightdeck::domain::{ServiceRollout, SourceData};

/// Go to the Runs tab and select the run that waits for a deployment approval.
fn select_held_run(s: &mut State) {
    update(s, key('2'));
    update(s, key('g'));
    for _ in 0..s.runs.items.len() {
        if s.runs.selected().is_some_and(|r| !r.pending.is_empty()) {
            return;
        }
        update(s, key('j'));
    }
    panic!("no held run in {:?}", s.runs.items);
}

fn confirming(s: &State) -> &Confirm {
    match &s.mode {
        Mode::Confirm(c) => c,
        other => panic!("expected a confirmation, got {other:?}"),
    }
}

fn required(s: &State) -> Option<(String, String)> {
    confirming(s).require.clone()
}

/// The loaded state, with the judge saying HOLD for checkout (whose production deployment waits).
fn checkout_holds() -> State {
    let mut s = loaded_state(120, 40);
    let j = s
        .judgements
        .get_mut("checkout")
        .expect("checkout is judged");
    j.verdict = Verdict::Hold;
    s
}

#[test]
fn runs_tab_approve_of_a_held_deployment_asks_its_services_judge() {
    let mut s = checkout_holds();
    select_held_run(&mut s);
    assert!(update(&mut s, key('a')).is_empty());
    let (word, why) = required(&s).expect("approving against HOLD takes an override");
    assert_eq!(word, "override");
    assert!(why.contains("HOLD") && why.contains("checkout"), "{why}");
    let c = confirming(&s);
    assert!(
        c.comment_text()
            .starts_with("Approved from flightdeck; judge: HOLD"),
        "{}",
        c.comment_text()
    );
    // Yes is not armed until the word is typed; then the override is in the audited target.
    assert!(!c.armed());
    type_text(&mut s, "override");
    update(&mut s, code(KeyCode::Enter));
    let fx = update(&mut s, code(KeyCode::Enter));
    let [Effect::Change { change, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert!(
        change.target_json()["override"]
            .as_str()
            .is_some_and(|w| w.contains("HOLD")),
        "{}",
        change.target_json()
    );
}

#[test]
fn rollouts_tab_approve_still_needs_the_override() {
    let mut s = loaded_state(120, 40);
    update(&mut s, key('3'));
    update(&mut s, key('g'));
    while s.rollouts.selected().unwrap().name != "checkout" {
        update(&mut s, key('j'));
    }
    update(&mut s, key('a'));
    let (word, why) = required(&s).expect("the judge says ROLLBACK for checkout");
    assert_eq!(word, "override");
    assert!(
        why.contains("ROLLBACK") && why.contains("checkout"),
        "{why}"
    );
    assert!(confirming(&s).comment_text().contains("ROLLBACK"));
}

#[test]
fn palette_approve_goes_through_the_same_guard() {
    let mut s = checkout_holds();
    select_held_run(&mut s);
    update(&mut s, key(':'));
    type_text(&mut s, "approve");
    let Mode::Palette { input, .. } = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert_eq!(flightdeck::app::palette_entries(input)[0], Action::Approve);
    update(&mut s, code(KeyCode::Enter));
    let (word, why) = required(&s).expect("the palette's approve needs the override too");
    assert_eq!(word, "override");
    assert!(why.contains("HOLD") && why.contains("checkout"), "{why}");
}

#[test]
fn rejecting_a_held_deployment_needs_no_override() {
    let mut s = checkout_holds();
    select_held_run(&mut s);
    update(&mut s, key('x'));
    assert_eq!(required(&s), None);
    assert!(
        confirming(&s)
            .comment_text()
            .starts_with("Rejected from flightdeck; judge: HOLD"),
        "{}",
        confirming(&s).comment_text()
    );
}

#[test]
fn a_deployment_no_service_runs_in_needs_no_override() {
    let mut s = checkout_holds();
    for run in &mut s.runs.items {
        for p in &mut run.pending {
            p.environment = "qa".into();
        }
    }
    select_held_run(&mut s);
    update(&mut s, key('a'));
    assert_eq!(required(&s), None);
    assert_eq!(confirming(&s).comment_text(), "Approved from flightdeck");
}

#[test]
fn another_service_in_the_environment_is_asked_too() {
    // checkout says PROCEED; a second production service without a repo (so any repo's
    // deployment to production is its) says HOLD.
    let mut s = loaded_state(120, 40);
    s.judgements.get_mut("checkout").unwrap().verdict = Verdict::Proceed;
    // (As if the polls had said PROCEED all along: no ROLLBACK called in this rollout.)
    s.rollbacks_called.clear();
    select_held_run(&mut s);
    update(&mut s, key('a'));
    assert_eq!(required(&s), None, "every service says PROCEED");
    update(&mut s, code(KeyCode::Esc));
    let mut payments = rollout("payments", true, 50.0, 0.001);
    payments.repo = None;
    s.rollouts.items.push(payments);
    let mut j = s.judgements["checkout"].clone();
    j.verdict = Verdict::Hold;
    s.judgements.insert("payments".into(), j);
    update(&mut s, key('a'));
    let (_, why) = required(&s).expect("payments holds");
    assert!(why.contains("payments") && why.contains("HOLD"), "{why}");
    assert!(!why.contains("checkout"), "{why}");
    assert!(
        confirming(&s).comment_text().contains("payments HOLD"),
        "{}",
        confirming(&s).comment_text()
    );
}

#[test]
fn a_configured_service_without_a_verdict_or_with_cached_metrics_needs_the_override() {
    // A configured service Prometheus has not answered for yet.
    let mut s = loaded_state(120, 40);
    s.judgements.get_mut("checkout").unwrap().verdict = Verdict::Proceed;
    // (As if the polls had said PROCEED all along: no ROLLBACK called in this rollout.)
    s.rollbacks_called.clear();
    s.services.push(ServicePlan {
        name: "ledger".into(),
        repo: Some("acme/checkout".into()),
        environment: "Production".into(),
        production: true,
        rollback: None,
    });
    select_held_run(&mut s);
    update(&mut s, key('a'));
    let (_, why) = required(&s).expect("ledger has no verdict");
    assert!(why.contains("no verdict for ledger yet"), "{why}");

    // Metrics from the on-disk store, even healthy ones, are no verdict to approve on.
    let mut s = new_state(120, 40);
    let healthy = SourceData::Prometheus(vec![rollout("checkout", true, 50.0, 0.001)]);
    update(
        &mut s,
        Msg::Source(SourceEvent::Restored {
            source: SourceId::Prometheus,
            data: healthy.clone(),
            fetched_at: NOW - time::Duration::minutes(4),
        }),
    );
    load(&mut s, SourceId::GitHub, github_data());
    assert!(s.cached(SourceId::Prometheus));
    assert_eq!(s.judgement("checkout").unwrap().verdict, Verdict::Proceed);
    select_held_run(&mut s);
    update(&mut s, key('a'));
    let (_, why) = required(&s).expect("cached metrics need the override");
    assert!(why.contains("checkout") && why.contains("cache"), "{why}");
    update(&mut s, code(KeyCode::Esc));
    // Once Prometheus answers, the same verdict is live: no override.
    load(&mut s, SourceId::Prometheus, healthy);
    update(&mut s, key('a'));
    assert_eq!(required(&s), None);
}

/// A state whose checkout has the autopilot and says PROCEED, with `extra` rollouts beside it;
/// returns the effects of the Prometheus poll that wakes the autopilot.
fn autopilot_after(s: &mut State, extra: Vec<ServiceRollout>) -> Vec<Effect> {
    load(s, SourceId::GitHub, github_data());
    let mut checkout = rollout("checkout", true, 50.0, 0.001);
    checkout.autopilot = true;
    let mut list = vec![checkout];
    list.extend(extra);
    update(
        s,
        Msg::loaded(SourceId::Prometheus, Ok(SourceData::Prometheus(list)), NOW),
    )
}

fn approvals(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Change {
                    change: Change::ReviewDeployment { .. },
                    ..
                }
            )
        })
        .count()
}

#[test]
fn autopilot_approves_only_when_every_service_of_the_deployment_says_proceed() {
    // Alone, checkout's PROCEED approves (the control: this data does approve).
    let mut s = new_state(120, 40);
    let fx = autopilot_after(&mut s, Vec::new());
    assert_eq!(
        s.judgement("checkout").unwrap().band,
        flightdeck::analysis::canary::Band::Promote
    );
    assert_eq!(approvals(&fx), 1, "{fx:?}");

    // Another production service with no repo says ROLLBACK: no approval, and the log says why.
    let mut s = new_state(120, 40);
    let mut payments = rollout("payments", true, 50.0, 0.031);
    payments.repo = None;
    let fx = autopilot_after(&mut s, vec![payments]);
    assert_ne!(s.judgement("payments").unwrap().verdict, Verdict::Proceed);
    assert_eq!(approvals(&fx), 0, "{fx:?}");
    assert!(
        s.autopilot_log
            .iter()
            .any(|(_, n)| n.contains("does not approve") && n.contains("payments")),
        "{:?}",
        s.autopilot_log
    );

    // A configured service Prometheus has not answered for: no verdict, no approval.
    let mut s = new_state(120, 40);
    s.services.push(ServicePlan {
        name: "ledger".into(),
        repo: None,
        environment: "production".into(),
        production: true,
        rollback: None,
    });
    let fx = autopilot_after(&mut s, Vec::new());
    assert_eq!(approvals(&fx), 0, "{fx:?}");
}

#[test]
fn autopilot_does_not_approve_on_cached_metrics() {
    let mut s = new_state(120, 40);
    let mut checkout = rollout("checkout", true, 50.0, 0.001);
    checkout.autopilot = true;
    update(
        &mut s,
        Msg::Source(SourceEvent::Restored {
            source: SourceId::Prometheus,
            data: SourceData::Prometheus(vec![checkout]),
            fetched_at: NOW,
        }),
    );
    assert_eq!(s.judgement("checkout").unwrap().verdict, Verdict::Proceed);
    let fx = update(
        &mut s,
        Msg::loaded(SourceId::GitHub, Ok(github_data()), NOW),
    );
    assert_eq!(approvals(&fx), 0, "{fx:?}");
}

/// A ROLLBACK the judge called stays in view for the rest of the rollout: the verdict that moves
/// on (a proof that thinned) is marked ⚑ on the Rollouts tab and explained in the detail, and
/// approving the held deployment takes the override even at PROCEED. A new rollout forgets it.
#[test]
fn a_rollback_called_earlier_in_the_rollout_stays_in_view_and_guards_approval() {
    let mut s = loaded_state(160, 40);
    let poll = |s: &mut State, weight: f64, err: f64| {
        update(
            s,
            Msg::loaded(
                SourceId::Prometheus,
                Ok(SourceData::Prometheus(vec![rollout(
                    "checkout", true, weight, err,
                )])),
                NOW,
            ),
        );
    };
    let on_screen = |s: &mut State, text: &str| {
        update(s, key('3'));
        let screen = screen_text(&draw(s)).join("\n");
        screen.contains(text)
    };
    poll(&mut s, 25.0, 0.001);
    assert_eq!(s.judgements["checkout"].verdict, Verdict::Proceed);
    assert!(s.rollbacks_called.is_empty());
    // ROLLBACK at 25 %, then PROCEED again.
    poll(&mut s, 25.0, 0.03);
    assert_eq!(s.judgements["checkout"].verdict, Verdict::Rollback);
    poll(&mut s, 25.0, 0.001);
    assert_eq!(s.judgements["checkout"].verdict, Verdict::Proceed);
    assert_eq!(s.rollbacks_called["checkout"].weight, Some(25.0));
    assert!(on_screen(&mut s, "PROCEED ⚑"));
    update(&mut s, key('3'));
    update(&mut s, code(KeyCode::Enter));
    let detail = screen_text(&draw(&s)).join("\n");
    assert!(
        detail.contains("⚑ ROLLBACK called at 09:30 UTC at 25 % (0s ago)"),
        "{detail}"
    );
    update(&mut s, code(KeyCode::Esc));
    select_held_run(&mut s);
    update(&mut s, key('a'));
    let (word, why) = required(&s).expect("a ROLLBACK called in this rollout takes the override");
    assert_eq!(word, "override");
    assert!(
        why.contains("PROCEED") && why.contains("called ROLLBACK at") && why.contains("at 25 %"),
        "{why}"
    );
    update(&mut s, code(KeyCode::Esc));
    // Promoted on by hand: still the same rollout.
    poll(&mut s, 50.0, 0.001);
    assert!(s.rollbacks_called.contains_key("checkout"));
    // Rolled back (no canary traffic), then a new rollout: forgotten, PROCEED goes with the judge.
    poll(&mut s, 0.0, 0.001);
    assert!(s.rollbacks_called.is_empty());
    poll(&mut s, 10.0, 0.001);
    assert!(!on_screen(&mut s, "⚑"));
    select_held_run(&mut s);
    update(&mut s, key('a'));
    assert_eq!(
        required(&s),
        None,
        "PROCEED in a new rollout needs no override"
    );
}

/// A ROLLBACK called before a restart (restored from the audit log) is shown and guards approval
/// while a live poll shows the same rollout; a poll of another rollout forgets it.
#[test]
fn a_rollback_called_before_a_restart_is_kept_for_the_same_rollout_only() {
    let began = NOW - time::Duration::minutes(20);
    let restored = |s: &mut State, rollout_began| {
        update(
            s,
            Msg::RollbacksCalled(vec![flightdeck::domain::RollbackCall {
                service: "checkout".into(),
                at: NOW - time::Duration::minutes(5),
                weight: Some(25.0),
                summary: "ROLLBACK — error_rate\u{1b}[31m".into(),
                rollout_began,
            }]),
        );
    };
    let poll_of = |s: &mut State, rollout_began| {
        let mut r = rollout("checkout", true, 25.0, 0.001);
        r.rollout_began = rollout_began;
        update(
            s,
            Msg::loaded(
                SourceId::Prometheus,
                Ok(SourceData::Prometheus(vec![r])),
                NOW,
            ),
        );
    };
    // A cockpit just started: GitHub's held deployment, no poll of Prometheus yet.
    let started = || {
        let mut s = new_state(160, 40);
        load(&mut s, SourceId::GitHub, github_data());
        s
    };
    // The same rollout: kept, on screen, and the approval takes the override (the newest of the
    // service's restored calls: the one before is from an older rollout).
    let mut s = started();
    restored(&mut s, began - time::Duration::hours(3));
    restored(&mut s, began);
    poll_of(&mut s, Some(began));
    assert_eq!(s.judgements["checkout"].verdict, Verdict::Proceed);
    assert_eq!(
        s.rollbacks_called["checkout"].summary, "ROLLBACK — error_rate",
        "cleaned as it is restored"
    );
    update(&mut s, key('3'));
    let screen = screen_text(&draw(&s)).join("\n");
    assert!(screen.contains("PROCEED ⚑"), "{screen}");
    select_held_run(&mut s);
    update(&mut s, key('a'));
    let (word, why) = required(&s).expect("a ROLLBACK called in this rollout takes the override");
    assert_eq!(word, "override");
    assert!(why.contains("at 25 %"), "{why}");
    // Another rollout (it began an hour before this one): forgotten, PROCEED needs no override.
    let mut s = started();
    restored(&mut s, began - time::Duration::hours(1));
    poll_of(&mut s, Some(began));
    assert!(s.rollbacks_called.is_empty());
    select_held_run(&mut s);
    update(&mut s, key('a'));
    assert_eq!(required(&s), None);
    // A poll that cannot say when its rollout began: not shown to be the same one, forgotten.
    let mut s = started();
    restored(&mut s, began);
    poll_of(&mut s, None);
    assert!(s.rollbacks_called.is_empty());
    // Seen once in the same rollout, the call is this run's: a later poll that cannot say when
    // the rollout began keeps it (the weight decides, as for a call made live).
    let mut s = started();
    restored(&mut s, began);
    poll_of(&mut s, Some(began));
    poll_of(&mut s, None);
    assert!(s.rollbacks_called.contains_key("checkout"));
}

/// A live poll of checkout (production) at 50 % with error ratio `err`.
fn poll_checkout(s: &mut State, err: f64) -> Vec<Effect> {
    update(
        s,
        Msg::loaded(
            SourceId::Prometheus,
            Ok(SourceData::Prometheus(vec![rollout(
                "checkout", true, 50.0, err,
            )])),
            NOW,
        ),
    )
}

/// A deployment that starts waiting for approval is said on every tab; the ones already waiting
/// at the first poll are not (the Runs tab lists them), nor the same one again.
#[test]
fn a_deployment_that_starts_waiting_for_approval_is_said_once() {
    let waits = |s: &State| {
        s.messages
            .iter()
            .filter(|m| m.text.contains("waits for approval in"))
            .map(|m| m.text.clone())
            .collect::<Vec<_>>()
    };
    let without_pending = || {
        let mut d = github_data();
        if let SourceData::GitHub { runs, .. } = &mut d {
            for r in runs {
                r.pending.clear();
            }
        }
        d
    };
    let mut s = new_state(120, 40);
    update(&mut s, key('4'));
    load(&mut s, SourceId::GitHub, github_data());
    assert!(waits(&s).is_empty(), "{:?}", waits(&s));
    load(&mut s, SourceId::GitHub, without_pending());
    assert!(waits(&s).is_empty());
    load(&mut s, SourceId::GitHub, github_data());
    let said = waits(&s);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("acme/checkout Deploy #") && said[0].contains("in production"),
        "{said:?}"
    );
    load(&mut s, SourceId::GitHub, github_data());
    assert_eq!(waits(&s).len(), 1, "not said again");
}

/// A service that turns ROLLBACK is said in the message bar on every tab and rings the bell once
/// (not at every poll it stays ROLLBACK); `bell = false` keeps the message and drops the bell.
#[test]
fn a_turn_to_rollback_is_said_on_every_tab_and_rings_the_bell_once() {
    use flightdeck::app::msg::TerminalEffect;
    let bells = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::Terminal(TerminalEffect::Bell)))
            .count()
    };
    let poll = poll_checkout;
    for bell in [true, false] {
        let mut s = new_state(120, 40);
        s.bell = bell;
        update(&mut s, key('4'));
        assert_eq!(bells(&poll(&mut s, 0.001)), 0);
        let fx = poll(&mut s, 0.03);
        assert_eq!(bells(&fx), usize::from(bell), "{fx:?}");
        let said = s
            .messages
            .iter()
            .find(|m| {
                m.text
                    .starts_with("checkout (production) at 50 %: ROLLBACK")
            })
            .unwrap_or_else(|| panic!("{:?}", s.messages));
        assert!(said.text.ends_with("— 3 shows it"), "{}", said.text);
        assert_eq!(said.level, flightdeck::app::Level::Error);
        // Still ROLLBACK at the next poll: no second bell.
        assert_eq!(bells(&poll(&mut s, 0.031)), 0);
    }
}

/// Every verdict that changes on live data becomes a record for the audit log, with its reasons;
/// the same verdict again is not a change, and data from the store is no verdict at all.
#[test]
fn verdict_changes_are_recorded_with_their_evidence() {
    let records = |fx: &[Effect]| -> Vec<flightdeck::app::msg::VerdictChange> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Record(v) => Some(v.clone()),
                _ => None,
            })
            .collect()
    };
    let poll = poll_checkout;
    let mut s = new_state(120, 40);
    // From the store: nothing recorded.
    let fx = update(
        &mut s,
        Msg::Source(SourceEvent::Restored {
            source: SourceId::Prometheus,
            data: SourceData::Prometheus(vec![rollout("checkout", true, 50.0, 0.001)]),
            fetched_at: NOW - time::Duration::minutes(4),
        }),
    );
    assert!(records(&fx).is_empty(), "{fx:?}");
    // The first live verdict.
    let first = records(&poll(&mut s, 0.001));
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].service, "checkout");
    assert_eq!(first[0].from, None);
    assert_eq!(first[0].to, Verdict::Proceed);
    // The same again: no record.
    assert!(records(&poll(&mut s, 0.0011)).is_empty());
    // Broken: PROCEED → ROLLBACK with the reason naming the metric and its numbers.
    let broken = records(&poll(&mut s, 0.03));
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0].from, Some(Verdict::Proceed));
    assert_eq!(broken[0].to, Verdict::Rollback);
    assert!(
        broken[0]
            .reasons
            .iter()
            .any(|r| r.contains("error_rate") && r.contains('%')),
        "{:?}",
        broken[0].reasons
    );
    assert_eq!(broken[0].weight, Some(50.0));
    // As the audit log keeps it.
    let line = flightdeck::ops::exec::verdict_record(&broken[0]);
    assert_eq!(line.action, "verdict");
    assert_eq!(line.target["previous"], "PROCEED");
    assert_eq!(line.target["verdict"], "ROLLBACK");
    let text = flightdeck::ops::audit::format_entries(&[line]);
    assert!(
        text.contains("record") && text.contains("PROCEED → ROLLBACK"),
        "{text}"
    );
}

/// `r` asks again for an incident's event or suspected change that failed to load (once per
/// `last_seen` otherwise).
#[test]
fn refresh_asks_again_for_what_failed_to_load_in_the_incident_detail() {
    use flightdeck::app::{Fetch, Fetched};
    use flightdeck::domain::{SourceData, SourceError};
    let fetches = |fx: &[Effect]| -> Vec<&'static str> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Fetch(Fetch::IncidentEvent { .. }) => Some("event"),
                Effect::Fetch(Fetch::Suspects { .. }) => Some("suspects"),
                _ => None,
            })
            .collect()
    };
    let mut s = new_state(160, 40);
    let SourceData::Sentry(mut rows) = sentry_data() else {
        unreachable!()
    };
    rows.insert(0, incident_4c());
    load(&mut s, SourceId::Sentry, SourceData::Sentry(rows));
    update(&mut s, key('4'));
    update(&mut s, key('g'));
    let id = s.incidents.selected().unwrap().id.clone();
    assert_eq!(fetches(&update(&mut s, code(KeyCode::Enter))), ["event"]);
    let down = || Err(SourceError::Config("Sentry is down".into()));
    update(
        &mut s,
        Msg::Fetched(Fetched::IncidentEvent {
            issue_id: id.clone(),
            result: down(),
        }),
    );
    // Scrolling does not ask again for the same `last_seen`; `r` does.
    assert!(fetches(&update(&mut s, key('J'))).is_empty());
    assert_eq!(fetches(&update(&mut s, key('r'))), ["event"]);
    let fx = update(
        &mut s,
        Msg::Fetched(Fetched::IncidentEvent {
            issue_id: id.clone(),
            result: Ok(Box::new(event_4c())),
        }),
    );
    assert_eq!(fetches(&fx), ["suspects"]);
    update(
        &mut s,
        Msg::Fetched(Fetched::Suspects {
            issue_id: id.clone(),
            result: Err(SourceError::Config("GitHub is down".into())),
        }),
    );
    assert!(fetches(&update(&mut s, key('J'))).is_empty());
    assert_eq!(fetches(&update(&mut s, key('r'))), ["suspects"]);
}

#[test]
fn ai_tab_asks_the_llm_with_the_previewed_body_streams_and_cancels() {
    use flightdeck::app::{Effect, LlmEffect, LlmEvent};
    let mut s = loaded_state(160, 40);
    // A rollout: nothing to read first (a failed run's log is read before it is asked about).
    select_summary(&mut s, "rollout", "checkout");
    // Without a model nothing is sent.
    assert!(update(&mut s, key('s')).is_empty());
    assert!(
        s.messages
            .iter()
            .any(|m| m.text.contains("No LLM configured"))
    );
    s.llm_model = Some("sim-analyst".into());
    update(&mut s, key('p'));
    let preview = s.preview.clone().expect("a preview");
    assert!(matches!(s.mode, flightdeck::app::Mode::Preview { .. }));
    update(&mut s, code(KeyCode::Esc));
    let fx = update(&mut s, key('s'));
    let asks: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Llm(LlmEffect::Ask { key, body }) => Some((key.clone(), body.clone())),
            _ => None,
        })
        .collect();
    let [(k, body)] = asks.as_slice() else {
        panic!("one ask: {fx:?}");
    };
    let (k, body) = (k.clone(), body.clone());
    assert_eq!(body, preview, "what is sent is what was previewed");
    // esc stops it; a late piece of the answer changes nothing.
    let fx = update(&mut s, code(KeyCode::Esc));
    assert!(
        fx.contains(&Effect::Llm(LlmEffect::Cancel { key: k.clone() })),
        "{fx:?}"
    );
    update(
        &mut s,
        Msg::Llm(LlmEvent::Delta {
            key: k.clone(),
            text: "late".into(),
        }),
    );
    assert!(s.llm_answers[&k].text.is_empty());
    // Asked again, the answer streams in and becomes the summary, the builtin kept below it.
    update(&mut s, key('s'));
    let answer = r#"{"headline":"Roll back checkout now","summary":"The error ratio is 6x the baseline.","next_steps":["Press R"],"confidence":"high"}"#;
    for piece in answer.split_inclusive(',') {
        update(
            &mut s,
            Msg::Llm(LlmEvent::Delta {
                key: k.clone(),
                text: piece.into(),
            }),
        );
    }
    update(
        &mut s,
        Msg::Llm(LlmEvent::Done {
            key: k.clone(),
            cached: false,
        }),
    );
    let sel = s.summaries.selected().unwrap();
    assert_eq!(sel.headline, "Roll back checkout now");
    assert!(sel.analyzer.starts_with("sim-analyst"), "{}", sel.analyzer);
    assert!(
        sel.detail.iter().any(|l| l == "Next (model): Press R"),
        "{:?}",
        sel.detail
    );
    assert!(
        sel.detail.iter().any(|l| l.starts_with("builtin: ")),
        "{:?}",
        sel.detail
    );
}

/// Select the AI tab's row whose kind and subject start as given.
fn select_summary(s: &mut State, kind: &str, subject: &str) {
    update(s, key('5'));
    update(s, key('g'));
    for _ in 0..s.summaries.items.len() {
        let sel = s.summaries.selected().unwrap();
        if sel.kind.label() == kind && sel.subject.starts_with(subject) {
            return;
        }
        update(s, key('j'));
    }
    panic!("no {kind} {subject} row");
}

/// Stream a whole answer for `k` and finish it.
fn answer(s: &mut State, k: &str, text: &str) {
    use flightdeck::app::LlmEvent;
    update(
        s,
        Msg::Llm(LlmEvent::Delta {
            key: k.into(),
            text: text.into(),
        }),
    );
    update(
        s,
        Msg::Llm(LlmEvent::Done {
            key: k.into(),
            cached: false,
        }),
    );
}

fn asked(fx: &[Effect]) -> Option<String> {
    use flightdeck::app::LlmEffect;
    fx.iter().find_map(|e| match e {
        Effect::Llm(LlmEffect::Ask { key, .. }) => Some(key.clone()),
        _ => None,
    })
}

/// An answer about a rollout rests on its verdict and slice: the counts every poll moves (the
/// builtin headline with them) leave it standing; a new verdict makes it stale.
#[test]
fn an_llm_answer_about_a_rollout_outlives_new_counts_not_a_new_verdict() {
    let mut s = loaded_state(160, 40);
    s.llm_model = Some("sim-analyst".into());
    select_summary(&mut s, "rollout", "checkout");
    let k = asked(&update(&mut s, key('s'))).expect("asked at once: nothing to read first");
    answer(
        &mut s,
        &k,
        r#"{"headline":"Hold checkout","summary":"Too few errors yet.","next_steps":["Wait"],"confidence":"medium"}"#,
    );
    let headline = |s: &State| s.summaries.selected().unwrap().headline.clone();
    assert_eq!(headline(&s), "Hold checkout");
    // The next poll: new counts in the judge's words, the same verdict at the same weight.
    let j = s.judgements.get_mut("checkout").unwrap();
    j.reasons[0].push_str(" (12 more requests)");
    s.recompute_summaries();
    assert_eq!(
        headline(&s),
        "Hold checkout",
        "new counts are no new subject"
    );
    // A new verdict: the answer is stale, the builtin shows.
    let j = s.judgements.get_mut("checkout").unwrap();
    j.verdict = if j.verdict == Verdict::Rollback {
        Verdict::Hold
    } else {
        Verdict::Rollback
    };
    s.recompute_summaries();
    let sel = s.summaries.selected().unwrap();
    assert_ne!(sel.headline, "Hold checkout");
    assert!(
        sel.detail[0].contains("is stale: the subject changed since"),
        "{:?}",
        sel.detail
    );
}

/// An answer about a run waiting for approval is not stale because its jobs were read since (its
/// detail opened on the Runs tab); a new attempt makes it so.
#[test]
fn an_llm_answer_about_a_waiting_run_outlives_its_jobs_being_read() {
    use flightdeck::domain::RunState;
    let mut s = loaded_state(160, 40);
    s.llm_model = Some("sim-analyst".into());
    let run = s
        .runs
        .items
        .iter()
        .find(|r| r.state == RunState::Waiting)
        .cloned()
        .unwrap();
    select_summary(&mut s, "run", &format!("{} #{}", run.repo, run.run_number));
    let k = asked(&update(&mut s, key('s'))).expect("nothing to read first for a waiting run");
    answer(
        &mut s,
        &k,
        r#"{"headline":"Approve after the canary","summary":"It waits.","next_steps":["Wait"],"confidence":"low"}"#,
    );
    let headline = |s: &State| {
        s.summaries
            .items
            .iter()
            .find(|x| flightdeck::ai::summaries::answer_key(x) == k)
            .unwrap()
            .headline
            .clone()
    };
    assert_eq!(headline(&s), "Approve after the canary");
    s.jobs.insert(
        run.id,
        (run.updated_at, flightdeck::app::Loadable::Ready(Vec::new())),
    );
    s.recompute_summaries();
    assert_eq!(headline(&s), "Approve after the canary");
    let r = s.runs.items.iter_mut().find(|r| r.id == run.id).unwrap();
    r.attempt += 1;
    s.recompute_summaries();
    assert_ne!(headline(&s), "Approve after the canary");
}

/// Every source loaded with CHECKOUT-4C among the incidents, an LLM configured, and the AI tab on
/// 4C's row (its event not read yet).
fn asking_about_4c() -> (State, flightdeck::domain::Incident) {
    let mut s = new_state(160, 40);
    load(&mut s, SourceId::GitHub, github_data());
    load(&mut s, SourceId::Prometheus, prometheus_data());
    let SourceData::Sentry(mut rows) = sentry_data() else {
        unreachable!()
    };
    rows.insert(0, incident_4c());
    load(&mut s, SourceId::Sentry, SourceData::Sentry(rows));
    s.llm_model = Some("sim-analyst".into());
    let inc = incident_4c();
    select_summary(
        &mut s,
        "incident",
        &format!("{} {}", inc.project, inc.short_id),
    );
    (s, inc)
}

/// `s` on an incident whose event the detail has not read yet reads it (and its suspected
/// change) first, and asks once they are in: the answer is not stale on arrival.
#[test]
fn asking_about_an_incident_reads_its_event_and_suspects_first() {
    use flightdeck::app::{Fetch, Fetched};
    let (mut s, inc) = asking_about_4c();
    let fx = update(&mut s, key('s'));
    assert!(asked(&fx).is_none(), "{fx:?}");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Fetch(Fetch::IncidentEvent { .. }))),
        "{fx:?}"
    );
    assert!(
        s.messages
            .iter()
            .any(|m| m.text.starts_with("Reading the latest event of")),
        "{:?}",
        s.messages
    );
    // A second `s` while it reads sends nothing more.
    assert!(asked(&update(&mut s, key('s'))).is_none());
    let fx = update(
        &mut s,
        Msg::Fetched(Fetched::IncidentEvent {
            issue_id: inc.id.clone(),
            result: Ok(Box::new(event_4c())),
        }),
    );
    let k = match asked(&fx) {
        Some(k) => k,
        None => {
            // Its suspected change is being looked up: asked once that is in.
            assert!(
                fx.iter()
                    .any(|e| matches!(e, Effect::Fetch(Fetch::Suspects { .. }))),
                "{fx:?}"
            );
            let fx = update(
                &mut s,
                Msg::Fetched(Fetched::Suspects {
                    issue_id: inc.id.clone(),
                    result: Ok(Vec::new()),
                }),
            );
            asked(&fx).expect("asked once the reads are in")
        }
    };
    answer(
        &mut s,
        &k,
        r#"{"headline":"A null order total","summary":"The event's order has no total.","next_steps":["Add a guard"],"confidence":"high"}"#,
    );
    let sel = s.summaries.selected().unwrap();
    assert_eq!(sel.headline, "A null order total", "{:?}", sel.detail);
}

/// `s` on a failed run reads its jobs and its failed job's log first; a read that fails does not
/// hold the ask.
#[test]
fn asking_about_a_failed_run_reads_its_jobs_and_log_first() {
    use flightdeck::app::{Fetch, Fetched};
    use flightdeck::domain::{Job, RunState, SourceError, Step};
    let mut s = loaded_state(160, 40);
    s.llm_model = Some("sim-analyst".into());
    select_summary(&mut s, "run", "");
    let run = s
        .runs
        .items
        .iter()
        .find(|r| r.state == RunState::Failure)
        .cloned()
        .unwrap();
    assert!(
        s.summaries
            .selected()
            .unwrap()
            .subject
            .contains(&run.run_number.to_string())
    );
    let fx = update(&mut s, key('s'));
    assert!(asked(&fx).is_none(), "{fx:?}");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Fetch(Fetch::Jobs { .. }))),
        "{fx:?}"
    );
    let jobs = vec![Job {
        id: 77,
        name: "test".into(),
        state: RunState::Failure,
        started_at: None,
        completed_at: None,
        url: String::new(),
        steps: vec![Step {
            number: 1,
            name: "Run tests".into(),
            state: RunState::Failure,
        }],
    }];
    let fx = update(
        &mut s,
        Msg::Fetched(Fetched::Jobs {
            repo: run.repo.clone(),
            run_id: run.id,
            result: Ok(jobs),
        }),
    );
    assert!(asked(&fx).is_none(), "the log is read next: {fx:?}");
    assert!(
        s.messages
            .iter()
            .any(|m| m.text.starts_with("Reading the jobs of")),
        "{:?}",
        s.messages
    );
    let fx = update(
        &mut s,
        Msg::Fetched(Fetched::Analyzed {
            run_id: run.id,
            result: Err(SourceError::Config("the log is gone".into())),
        }),
    );
    assert!(asked(&fx).is_some(), "{fx:?}");
}

/// `esc` while an ask waits for its reads: nothing is asked when they come in.
#[test]
fn esc_stops_an_ask_that_waits_for_its_reads() {
    use flightdeck::app::Fetched;
    let (mut s, inc) = asking_about_4c();
    assert!(asked(&update(&mut s, key('s'))).is_none());
    update(&mut s, code(KeyCode::Esc));
    let fx = update(
        &mut s,
        Msg::Fetched(Fetched::IncidentEvent {
            issue_id: inc.id.clone(),
            result: Ok(Box::new(event_4c())),
        }),
    );
    assert!(asked(&fx).is_none(), "{fx:?}");
    assert!(s.llm_answers.is_empty());
}

#[test]
fn y_on_the_ai_tab_copies_the_summary_itself() {
    use flightdeck::app::{Effect, TerminalEffect};
    let mut s = loaded_state(160, 40);
    update(&mut s, key('5'));
    let fx = update(&mut s, key('y'));
    let text = match fx.as_slice() {
        [Effect::Terminal(TerminalEffect::Copy(t))] => t.clone(),
        other => panic!("one copy: {other:?}"),
    };
    let sel = s.summaries.selected().unwrap();
    assert!(text.starts_with(&format!(
        "{} {}: {}",
        sel.kind.label(),
        sel.subject,
        sel.headline
    )));
    assert!(text.contains("Next:"), "{text}");
}

#[test]
fn a_server_that_refuses_structured_output_is_asked_again_without_it() {
    use flightdeck::app::{Effect, LlmEffect, LlmEvent};
    let mut s = loaded_state(160, 40);
    select_summary(&mut s, "rollout", "checkout");
    s.llm_model = Some("llama".into());
    let ask = |fx: Vec<Effect>| {
        fx.into_iter()
            .find_map(|e| match e {
                Effect::Llm(LlmEffect::Ask { key, body }) => Some((key, body)),
                _ => None,
            })
            .expect("an ask")
    };
    let (k, first) = ask(update(&mut s, key('s')));
    assert!(
        first.contains(r#""response_format":{"type":"json_object"}"#),
        "{first}"
    );
    let (k2, second) = ask(update(
        &mut s,
        Msg::Llm(LlmEvent::Failed {
            key: k.clone(),
            error: "HTTP 400: response_format is not supported".into(),
            format_refused: true,
        }),
    ));
    assert_eq!(k2, k);
    assert!(!second.contains("response_format"), "{second}");
    // The preview shows what is sent now.
    update(&mut s, key('p'));
    assert_eq!(s.preview.as_deref(), Some(second.as_str()));
    // A second refusal is a failure, not a loop.
    let fx = update(
        &mut s,
        Msg::Llm(LlmEvent::Failed {
            key: k.clone(),
            error: "HTTP 400: response_format".into(),
            format_refused: true,
        }),
    );
    assert!(fx.iter().all(|e| !matches!(e, Effect::Llm(_))), "{fx:?}");
}
