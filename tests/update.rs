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
    let runs_x = flightdeck::app::layout::tab_title_spans()[1].1 + 1;
    assert!(update(&mut s, click(runs_x, 0)).is_empty());
    assert_eq!(s.tab, Tab::Prs);
    s.mouse = true;
    assert_eq!(
        update(&mut s, click(runs_x, 0)),
        vec![Effect::Poll(PollEffect::VisibleTab(Tab::Runs))]
    );
    update(&mut s, click(10, 5));
    assert_eq!(s.runs.list.selected, 2);
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
