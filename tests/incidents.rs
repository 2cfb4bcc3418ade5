//! Incidents end to end: keystrokes through `update()`, the real executor, GitHub and Sentry
//! clients, to the demo world, which records every change. Resolving and ignoring an incident
//! in Sentry; `T`: the regression test drafted, reviewed, the draft PR opened, a second `T` that
//! updates instead of duplicating.

mod common;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flightdeck::app::{Effect, Mode, Msg, State, update};
use flightdeck::domain::{SourceData, SourceId};
use flightdeck::ops::audit::{AuditLog, Phase};
use flightdeck::ops::draft::DraftSetup;
use flightdeck::sim::SimWorld;
use flightdeck::sources::github::GitHub;
use flightdeck::sources::sentry::Sentry;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

struct Rig {
    world: SimWorld,
    state: State,
    runner: common::Runner,
    rx: mpsc::UnboundedReceiver<Msg>,
    audit: std::path::PathBuf,
    sentry: Arc<Sentry>,
    _dir: tempfile::TempDir,
}

/// The demo world at the story's end, GitHub and Sentry polled, the Incidents tab shown.
async fn rig(read_only: bool) -> Rig {
    let (world, config, http) = common::demo_world(180.0).await;
    let gh_cfg = config.github.clone().unwrap();
    let sentry_cfg = config.sentry.clone().unwrap();
    let mut gh_poller = GitHub::new(http.clone(), &gh_cfg, None);
    let gh_data = gh_poller.poll().await.expect("poll GitHub");
    let mut sentry_poller = Sentry::new(http.clone(), &sentry_cfg, None);
    let sentry_data = sentry_poller.poll().await.expect("poll Sentry");
    let sentry = Arc::new(Sentry::new(http.clone(), &sentry_cfg, None));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("state/audit.jsonl");
    let (runner, rx) = common::Runner::with_sentry(
        Some(Arc::new(GitHub::new(http, &gh_cfg, None).for_details())),
        Some(sentry.clone()),
        DraftSetup::from_config(&config),
        audit.clone(),
        read_only,
    );
    let mut state = common::new_state(160, 48);
    state.read_only = read_only;
    update(
        &mut state,
        Msg::loaded(SourceId::GitHub, Ok(gh_data), common::NOW),
    );
    update(
        &mut state,
        Msg::loaded(SourceId::Sentry, Ok(sentry_data), common::NOW),
    );
    update(&mut state, common::key('4'));
    Rig {
        world,
        state,
        runner,
        rx,
        audit,
        sentry,
        _dir: dir,
    }
}

fn ctrl(c: char) -> Msg {
    Msg::key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

impl Rig {
    fn select(&mut self, short_id: &str) {
        update(&mut self.state, common::key('g'));
        for _ in 0..self.state.incidents.items.len() {
            if self
                .state
                .incidents
                .selected()
                .is_some_and(|i| i.short_id == short_id)
            {
                return;
            }
            update(&mut self.state, common::key('j'));
        }
        panic!("{short_id} is not listed");
    }

    /// Feed a message, run the effects it asks for, and wait for what comes back until `done`.
    async fn drive(&mut self, msg: Msg, done: impl Fn(&Msg) -> bool) {
        let effects = update(&mut self.state, msg);
        self.runner.run(&effects);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .expect("an answer in time")
                .expect("the channel is open");
            let stop = done(&msg);
            let effects = update(&mut self.state, msg);
            self.runner.run(&effects);
            if stop {
                return;
            }
        }
    }

    /// Move to "Yes" in a confirmation and press Enter; wait for the change's result.
    async fn confirm_yes(&mut self) {
        assert!(
            matches!(self.state.mode, Mode::Confirm(_)),
            "a confirmation: {:?}",
            self.state.mode
        );
        update(&mut self.state, common::code(KeyCode::Right));
        self.drive(common::code(KeyCode::Enter), |m| {
            matches!(m, Msg::ChangeDone { .. })
        })
        .await;
    }

    async fn listed(&self) -> Vec<String> {
        let SourceData::Sentry(list) = Sentry::new(
            flightdeck::sources::http::Http::new(Duration::from_secs(10)).unwrap(),
            &flightdeck::config::Config::parse(&self.world.config_toml(), "demo")
                .unwrap()
                .sentry
                .unwrap(),
            None,
        )
        .poll()
        .await
        .expect("poll Sentry") else {
            panic!("Sentry data");
        };
        let _ = &self.sentry;
        list.into_iter().map(|i| i.short_id).collect()
    }

    fn last_message(&self) -> String {
        self.state
            .messages
            .last()
            .map(|m| m.text.clone())
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_and_ignore_are_confirmed_sent_to_sentry_and_audited() {
    let mut r = rig(false).await;
    assert!(r.listed().await.contains(&"CHECKOUT-4C".to_string()));
    r.select("CHECKOUT-4C");
    update(&mut r.state, common::key('z'));
    // Nothing is sent on the key: a confirmation, focused on No.
    let Mode::Confirm(c) = &r.state.mode else {
        panic!("expected a confirmation, got {:?}", r.state.mode);
    };
    assert_eq!(c.focus, flightdeck::app::change::Focus::No);
    assert!(r.world.sentry_updates().is_empty());
    r.confirm_yes().await;
    let sent = r.world.sentry_updates();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].method, "PUT");
    assert!(
        sent[0].path.ends_with("/issues/6120007/"),
        "{}",
        sent[0].path
    );
    let body: serde_json::Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body, serde_json::json!({"status": "resolved"}));
    assert!(r.last_message().contains("done"), "{}", r.last_message());
    assert!(!r.listed().await.contains(&"CHECKOUT-4C".to_string()));

    // Ignore another one.
    r.select("CHECKOUT-3F");
    update(&mut r.state, common::key('Z'));
    r.confirm_yes().await;
    let sent = r.world.sentry_updates();
    assert_eq!(sent.len(), 2);
    assert!(sent[1].body.contains("\"ignored\""), "{}", sent[1].body);

    let (entries, problems) = AuditLog::new(r.audit.clone()).read_all().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let actions: Vec<(&str, Phase)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.phase))
        .collect();
    assert_eq!(
        actions,
        [
            ("resolve-incident", Phase::Intent),
            ("resolve-incident", Phase::Outcome),
            ("ignore-incident", Phase::Intent),
            ("ignore-incident", Phase::Outcome),
        ]
    );
    assert!(entries.iter().all(|e| e.who == "tester"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_resolves_nothing_and_escape_sends_nothing() {
    let mut r = rig(true).await;
    r.select("CHECKOUT-4C");
    let effects = update(&mut r.state, common::key('z'));
    assert!(effects.is_empty());
    assert_eq!(r.state.mode, Mode::Normal);
    assert!(
        r.last_message().contains("Read-only"),
        "{}",
        r.last_message()
    );

    let mut r = rig(false).await;
    r.select("CHECKOUT-4C");
    update(&mut r.state, common::key('z'));
    let effects = update(&mut r.state, common::code(KeyCode::Esc));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Change { .. })),
        "{effects:?}"
    );
    // Enter on the focused "No" sends nothing either.
    update(&mut r.state, common::key('z'));
    let effects = update(&mut r.state, common::code(KeyCode::Enter));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Change { .. })));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(r.world.sentry_updates().is_empty());
}

/// What `T` drafted and the PR it opened, in the demo world.
fn draft_of(state: &State) -> &flightdeck::app::draft::DraftEditor {
    state.draft.as_deref().expect("a draft in the editor")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t_drafts_the_test_opens_the_draft_pr_and_a_second_t_duplicates_nothing() {
    let mut r = rig(false).await;
    r.select("CHECKOUT-4C");
    r.drive(common::key('T'), |m| {
        matches!(m, Msg::Fetched(flightdeck::app::Fetched::TestDraft { .. }))
    })
    .await;
    assert_eq!(r.state.mode, Mode::Draft, "{}", r.last_message());
    let d = draft_of(&r.state);
    assert_eq!(d.draft.repo, "acme/checkout");
    assert_eq!(d.draft.branch, "flightdeck/regression-checkout-4c");
    assert!(
        d.draft.path.starts_with("worker/tests/"),
        "{}",
        d.draft.path
    );
    assert!(d.draft.reproduces);
    let contents = d.contents();
    assert!(contents.contains("xfail(strict=True"), "{contents}");
    assert!(contents.contains("refund_order("), "{contents}");
    // The PR text links the issue and names the suspected change.
    let body = d.pr_body();
    assert!(body.contains("CHECKOUT-4C"), "{body}");
    assert!(body.contains("PR #416"), "{body}");
    assert!(r.world.github_mutations().is_empty(), "drafting only reads");

    // Ctrl-s asks first; Yes opens the PR.
    update(&mut r.state, ctrl('s'));
    r.confirm_yes().await;
    assert!(r.last_message().contains("done"), "{}", r.last_message());
    let writes: Vec<(String, String)> = r
        .world
        .github_mutations()
        .into_iter()
        .map(|m| (m.method, m.path))
        .collect();
    let path = format!("/repos/acme/checkout/contents/{}", d_path(&r));
    assert_eq!(
        writes[0],
        ("POST".into(), "/repos/acme/checkout/git/refs".into())
    );
    assert_eq!(writes[1], ("PUT".into(), path.clone()));
    assert_eq!(
        writes[2],
        ("POST".into(), "/repos/acme/checkout/pulls".into())
    );
    assert!(writes[3].1.ends_with("/labels"), "{writes:?}");
    assert_eq!(writes.len(), 4, "{writes:?}");
    let muts = r.world.github_mutations();
    let pr: serde_json::Value = serde_json::from_str(&muts[2].body).unwrap();
    assert_eq!(pr["draft"], true);
    assert_eq!(pr["head"], "flightdeck/regression-checkout-4c");
    assert!(muts[3].body.contains("regression-test"), "{}", muts[3].body);
    assert!(
        r.state.draft.is_none(),
        "a PR that went through leaves no draft"
    );

    // The committed test, in a checkout of the demo repo, reproduces the crash under pytest.
    pytest_xfails(&r).await;

    // A second `T` finds the branch and the PR: confirming writes nothing new.
    r.drive(common::key('T'), |m| {
        matches!(m, Msg::Fetched(flightdeck::app::Fetched::TestDraft { .. }))
    })
    .await;
    let d = draft_of(&r.state);
    assert!(d.draft.existing_pr.is_some(), "{:?}", d.draft.notes);
    update(&mut r.state, ctrl('s'));
    let Mode::Confirm(c) = &r.state.mode else {
        panic!("a confirmation");
    };
    assert!(
        c.change.title().starts_with("Update"),
        "{}",
        c.change.title()
    );
    r.confirm_yes().await;
    assert_eq!(r.world.github_mutations().len(), 4, "nothing duplicated");
    assert!(
        r.last_message().contains("already holds this test"),
        "{}",
        r.last_message()
    );
}

fn d_path(r: &Rig) -> String {
    let muts = r.world.github_mutations();
    muts.iter()
        .find(|m| m.method == "PUT")
        .and_then(|m| m.path.strip_prefix("/repos/acme/checkout/contents/"))
        .unwrap_or_default()
        .to_string()
}

/// Write the demo repo's worker and the committed test (read back from the branch) into a
/// temporary checkout and run pytest there: the test must be reported as an expected failure.
async fn pytest_xfails(r: &Rig) {
    let ok = std::process::Command::new("python3")
        .args(["-m", "pytest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pytest is needed under CI=true (.ci/run installs it)"
        );
        eprintln!("pytest is not installed: the drafted test was not run (CI installs it)");
        return;
    }
    let config = flightdeck::config::Config::parse(&r.world.config_toml(), "demo").unwrap();
    let gh = GitHub::new(
        flightdeck::sources::http::Http::new(Duration::from_secs(10)).unwrap(),
        config.github.as_ref().unwrap(),
        None,
    )
    .for_details();
    let dir = tempfile::tempdir().unwrap();
    let test_path = d_path(r);
    let mut files: Vec<(String, Option<&str>)> = [
        "pyproject.toml",
        "worker/__init__.py",
        "worker/app.py",
        "worker/refunds.py",
        "worker/tests/__init__.py",
        "worker/tests/test_refunds.py",
    ]
    .iter()
    .map(|p| (p.to_string(), None))
    .collect();
    files.push((test_path.clone(), Some("flightdeck/regression-checkout-4c")));
    for (path, git_ref) in &files {
        let f = gh
            .file("acme/checkout", path, *git_ref)
            .await
            .expect("read the file")
            .unwrap_or_else(|| panic!("{path} is in the repo"));
        let to = dir.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(&to, &f.content).unwrap();
    }
    let out = std::process::Command::new("python3")
        .args(["-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"])
        .current_dir(dir.path())
        .output()
        .expect("run pytest");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 xfailed"), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_that_fails_after_the_branch_exists_resumes_with_t() {
    let mut r = rig(false).await;
    r.select("CHECKOUT-4C");
    r.drive(common::key('T'), |m| {
        matches!(m, Msg::Fetched(flightdeck::app::Fetched::TestDraft { .. }))
    })
    .await;
    // The operator's edit must survive the failure.
    update(&mut r.state, common::code(KeyCode::Tab));
    update(&mut r.state, common::code(KeyCode::End));
    common::type_text(&mut r.state, " (edited)");
    r.world
        .fail_next_github("PUT", "/repos/acme/checkout/contents/", 502);
    update(&mut r.state, ctrl('s'));
    r.confirm_yes().await;
    let msg = r.last_message();
    assert!(msg.contains("created from main"), "{msg}");
    assert!(msg.contains("not committed"), "{msg}");
    assert!(msg.contains("run it again to resume"), "{msg}");
    let kept = draft_of(&r.state);
    assert!(kept.pr_title().ends_with("(edited)"), "{}", kept.pr_title());

    // T reopens the edited draft; sending it again carries on from the branch.
    update(&mut r.state, common::key('T'));
    assert_eq!(r.state.mode, Mode::Draft);
    update(&mut r.state, ctrl('s'));
    r.confirm_yes().await;
    let msg = r.last_message();
    assert!(msg.contains("exists"), "{msg}");
    assert!(msg.contains("opened"), "{msg}");
    let writes = r.world.github_mutations();
    let refs = writes
        .iter()
        .filter(|m| m.path.ends_with("/git/refs"))
        .count();
    let pulls = writes.iter().filter(|m| m.path.ends_with("/pulls")).count();
    assert_eq!((refs, pulls), (1, 1), "one branch, one PR");
    let pr: serde_json::Value = serde_json::from_str(
        &writes
            .iter()
            .find(|m| m.path.ends_with("/pulls"))
            .unwrap()
            .body,
    )
    .unwrap();
    assert!(pr["title"].as_str().unwrap().ends_with("(edited)"), "{pr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_that_maps_nowhere_says_which_path_it_tried() {
    let mut r = rig(false).await;
    // CHECKOUT-2A's crash frame quotes `checkout/gateway.js`, which the demo repo does not hold.
    r.select("CHECKOUT-2A");
    r.drive(common::key('T'), |m| {
        matches!(m, Msg::Fetched(flightdeck::app::Fetched::TestDraft { .. }))
    })
    .await;
    assert_eq!(r.state.mode, Mode::Normal);
    let msg = r.last_message();
    assert!(msg.contains("No regression test drafted"), "{msg}");
    assert!(msg.contains("checkout/gateway.js"), "{msg}");
    assert!(r.world.github_mutations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_an_incident_fetches_its_event_then_its_suspected_change() {
    let mut r = rig(false).await;
    r.select("CHECKOUT-4C");
    r.drive(common::code(KeyCode::Enter), |m| {
        matches!(m, Msg::Fetched(flightdeck::app::Fetched::Suspects { .. }))
    })
    .await;
    let Some((_, flightdeck::app::state::Loadable::Ready(list))) =
        r.state.incident_suspects.get("6120007")
    else {
        panic!(
            "suspects: {:?}",
            r.state.incident_suspects.get("6120007").map(|x| x.1)
        );
    };
    let best = list.first().expect("a suspect");
    assert_eq!(best.pr, Some(416), "{list:?}");
    assert!(
        best.evidence
            .iter()
            .any(|e| e.contains("worker/refunds.py")),
        "{:?}",
        best.evidence
    );
    // Shown in the detail pane, before the stack trace.
    let mut screen = String::new();
    let theme = flightdeck::ui::theme::Theme::builtin("default").unwrap();
    let backend = ratatui::backend::TestBackend::new(160, 60);
    let mut term = ratatui::Terminal::new(backend).unwrap();
    r.state.size = (160, 60);
    term.draw(|f| {
        flightdeck::ui::render(&r.state, &theme, f);
    })
    .unwrap();
    for y in 0..60 {
        for x in 0..160 {
            screen.push_str(term.backend().buffer()[(x, y)].symbol());
        }
        screen.push('\n');
    }
    assert!(screen.contains("Suspected change"), "{screen}");
    assert!(screen.contains("PR #416"), "{screen}");
}
