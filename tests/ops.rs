//! Remote changes end to end: keystrokes through `update()`, the real executor and GitHub client, to
//! the demo world's GitHub, which records every POST. Also: read-only, double presses, the audit log,
//! and the log download that must not carry the token.

mod common;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flightdeck::app::{Effect, Fetch, Mode, Msg, State, Tab, update};
use flightdeck::config::{Config, Secret};
use flightdeck::domain::{RunState, SourceId};
use flightdeck::ops::audit::{AuditLog, Phase};
use flightdeck::sim::{SimOptions, SimWorld};
use flightdeck::sources::github::GitHub;
use flightdeck::sources::http::Http;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

struct Rig {
    world: SimWorld,
    state: State,
    runner: common::Runner,
    rx: mpsc::UnboundedReceiver<Msg>,
    audit: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn rig(read_only: bool) -> Rig {
    let (world, config, http) = common::demo_world(30.0).await;
    let gh_cfg = config.github.clone().unwrap();
    let mut poller = GitHub::new(http.clone(), &gh_cfg, None);
    let data = poller.poll().await.expect("poll the demo world");
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("state/audit.jsonl");
    let (runner, rx) = common::Runner::new(
        Some(Arc::new(GitHub::new(http, &gh_cfg, None))),
        audit.clone(),
        read_only,
    );
    let mut state = common::new_state(120, 40);
    state.read_only = read_only;
    update(
        &mut state,
        Msg::loaded(SourceId::GitHub, Ok(data), common::NOW),
    );
    update(&mut state, common::key('2'));
    Rig {
        world,
        state,
        runner,
        rx,
        audit,
        _dir: dir,
    }
}

impl Rig {
    fn select_run(&mut self, pred: impl Fn(&flightdeck::domain::WorkflowRun) -> bool) -> u64 {
        update(&mut self.state, common::key('g'));
        for _ in 0..self.state.runs.items.len() {
            if let Some(r) = self.state.runs.selected()
                && pred(r)
            {
                return r.id;
            }
            update(&mut self.state, common::key('j'));
        }
        panic!("no such run in {:?}", self.state.runs.items);
    }

    /// Feed a key; run the effects through the executor; return them.
    fn press(&mut self, msg: Msg) -> Vec<Effect> {
        let fx = update(&mut self.state, msg);
        self.runner.run(&fx);
        fx
    }

    /// Wait for the result of a remote change and apply it.
    async fn finish(&mut self) {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
                .await
                .expect("an answer within 10 s")
                .expect("channel open");
            let done = matches!(msg, Msg::ChangeDone { .. });
            update(&mut self.state, msg);
            if done {
                return;
            }
        }
    }
}

fn code(c: KeyCode) -> Msg {
    Msg::key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn posts(world: &SimWorld) -> Vec<flightdeck::sim::RecordedRequest> {
    world
        .github_mutations()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect()
}

#[tokio::test]
async fn approve_sends_exactly_one_correct_post_and_is_audited() {
    let mut r = rig(false).await;
    let run_id = r.select_run(|run| run.state == RunState::Waiting && !run.pending.is_empty());
    let env_id = r.state.runs.selected().unwrap().pending[0].environment_id;
    assert!(r.press(common::key('a')).is_empty());
    let Mode::Confirm(c) = &r.state.mode else {
        panic!("a opens a confirmation, got {:?}", r.state.mode)
    };
    assert_eq!(
        c.focus,
        flightdeck::app::change::Focus::Comment,
        "focus starts in the comment field, never on Yes"
    );
    // Enter leaves the comment for "No"; Enter on "No" sends nothing.
    r.press(code(KeyCode::Enter));
    let Mode::Confirm(c) = &r.state.mode else {
        panic!("still confirming: {:?}", r.state.mode)
    };
    assert_eq!(c.focus, flightdeck::app::change::Focus::No);
    r.press(code(KeyCode::Enter));
    assert_eq!(r.state.mode, Mode::Normal);
    assert!(posts(&r.world).is_empty());
    // Again, this time Yes: comment → No → Yes.
    r.press(common::key('a'));
    r.press(code(KeyCode::Tab));
    r.press(code(KeyCode::Tab));
    let fx = r.press(code(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::Change { .. }]), "{fx:?}");
    // A second press while the first is in flight never sends twice.
    assert!(r.press(common::key('a')).is_empty());
    assert_eq!(r.state.mode, Mode::Normal);
    r.finish().await;
    let p = posts(&r.world);
    assert_eq!(p.len(), 1, "exactly one POST: {p:?}");
    assert_eq!(
        p[0].path,
        format!("/repos/acme/checkout/actions/runs/{run_id}/pending_deployments")
    );
    let body: serde_json::Value = serde_json::from_str(&p[0].body).unwrap();
    assert_eq!(body["state"], "approved");
    assert_eq!(body["environment_ids"], serde_json::json!([env_id]));
    assert_eq!(body["comment"], "Approved from flightdeck");
    let msg = r.state.current_message().unwrap();
    assert!(msg.text.contains("done"), "{}", msg.text);

    let (entries, problems) = AuditLog::new(r.audit.clone()).read_all().unwrap();
    assert!(problems.is_empty());
    assert_eq!(entries.len(), 2, "intent and outcome");
    assert_eq!(entries[0].phase, Phase::Intent);
    assert_eq!(entries[1].phase, Phase::Outcome);
    assert_eq!(entries[0].id, entries[1].id);
    assert_eq!(entries[0].action, "approve-deployment");
    assert_eq!(entries[0].who, "tester");
    assert!(entries[1].outcome.as_ref().unwrap().ok);
    assert_eq!(entries[0].target["run_id"], run_id);
}

#[tokio::test]
async fn reject_sends_the_typed_comment() {
    let mut r = rig(false).await;
    let run_id = r.select_run(|run| !run.pending.is_empty());
    r.press(common::key('x'));
    // The comment field has the focus: clear the default text and type ours.
    for _ in 0.."Rejected from flightdeck".len() {
        r.press(code(KeyCode::Backspace));
    }
    for c in "error rate 3x baseline".chars() {
        r.press(Msg::key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    // Back from the comment wraps to Yes.
    r.press(code(KeyCode::BackTab));
    let fx = r.press(code(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::Change { .. }]), "{fx:?}");
    r.finish().await;
    let p = posts(&r.world);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].path
            .ends_with(&format!("/runs/{run_id}/pending_deployments"))
    );
    let body: serde_json::Value = serde_json::from_str(&p[0].body).unwrap();
    assert_eq!(body["state"], "rejected");
    assert_eq!(body["comment"], "error rate 3x baseline");
}

#[tokio::test]
async fn rerun_failed_and_cancel() {
    let mut r = rig(false).await;
    let failed = r.select_run(|run| run.state == RunState::Failure);
    r.press(common::key('F'));
    assert!(matches!(r.state.mode, Mode::Confirm(_)));
    r.press(code(KeyCode::Tab));
    r.press(code(KeyCode::Enter));
    r.finish().await;
    let running = r.select_run(|run| matches!(run.state, RunState::InProgress | RunState::Queued));
    r.press(common::key('c'));
    r.press(code(KeyCode::Tab));
    r.press(code(KeyCode::Enter));
    r.finish().await;
    let p = posts(&r.world);
    let paths: Vec<&str> = p.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            format!("/repos/acme/checkout/actions/runs/{failed}/rerun-failed-jobs").as_str(),
            format!(
                "/repos/{}/actions/runs/{running}/cancel",
                repo_of(&r, running)
            )
            .as_str(),
        ]
    );
    let (entries, _) = AuditLog::new(r.audit.clone()).read_all().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "rerun-failed-jobs",
            "rerun-failed-jobs",
            "cancel-run",
            "cancel-run"
        ]
    );
}

fn repo_of(r: &Rig, run_id: u64) -> String {
    r.state
        .runs
        .items
        .iter()
        .find(|x| x.id == run_id)
        .map(|x| x.repo.clone())
        .unwrap()
}

#[tokio::test]
async fn read_only_blocks_all_four() {
    let mut r = rig(true).await;
    for (key, pred) in [
        ('a', RunState::Waiting),
        ('x', RunState::Waiting),
        ('F', RunState::Failure),
        ('c', RunState::Waiting),
    ] {
        r.select_run(|run| run.state == pred);
        let fx = r.press(common::key(key));
        assert!(fx.is_empty(), "{key}: {fx:?}");
        assert_eq!(
            r.state.mode,
            Mode::Normal,
            "{key}: no confirmation in read-only"
        );
        assert!(
            r.state
                .current_message()
                .unwrap()
                .text
                .contains("Read-only"),
            "{key}"
        );
    }
    // Even a change that reached the executor is refused there.
    let op = flightdeck::app::change::Change::CancelRun {
        repo: "acme/checkout".into(),
        run_id: 1,
        run_number: 1,
        workflow: "CI".into(),
        branch: "main".into(),
    };
    let err = r.runner.exec.execute(&op, "").await.unwrap_err();
    assert!(err.to_string().contains("read-only"));
    assert!(posts(&r.world).is_empty());
    assert!(!r.audit.exists(), "nothing to audit when nothing is sent");
}

#[tokio::test]
async fn approval_refused_by_github_is_shown_and_audited() {
    let mut r = rig(false).await;
    r.select_run(|run| !run.pending.is_empty());
    // Approve once (accepted), then force a second approval of the same, no longer pending, run.
    r.press(common::key('a'));
    r.press(code(KeyCode::Tab));
    r.press(code(KeyCode::Tab));
    r.press(code(KeyCode::Enter));
    r.finish().await;
    r.press(common::key('a'));
    r.press(code(KeyCode::Tab));
    r.press(code(KeyCode::Tab));
    r.press(code(KeyCode::Enter));
    r.finish().await;
    let m = r.state.current_message().unwrap();
    assert_eq!(m.level, flightdeck::app::Level::Error, "{}", m.text);
    assert!(
        m.text.contains("422"),
        "GitHub's error is shown: {}",
        m.text
    );
    let (entries, _) = AuditLog::new(r.audit.clone()).read_all().unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.phase, Phase::Outcome);
    assert!(!last.outcome.as_ref().unwrap().ok);
}

#[tokio::test]
async fn log_redirect_is_fetched_without_the_token() {
    let world = flightdeck::sim::start(SimOptions {
        speed: 0.0,
        start_at_secs: 30.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let config = Config::parse(&world.config_toml(), "demo").unwrap();
    let mut gh_cfg = config.github.unwrap();
    gh_cfg.anonymous = false;
    let http = Http::new(Duration::from_secs(10)).unwrap();
    let gh = GitHub::new(
        http,
        &gh_cfg,
        Some(Secret::new("ghp_test_token_never_leaves")),
    );
    let runs = gh.runs("acme/checkout").await.unwrap();
    let failed = runs.iter().find(|r| r.state == RunState::Failure).unwrap();
    let jobs = gh.jobs("acme/checkout", failed.id).await.unwrap();
    let job = jobs.iter().find(|j| j.state == RunState::Failure).unwrap();
    let log = gh.job_log("acme/checkout", job.id).await.unwrap();
    assert!(log.contains("TypeError"), "the failed job's log");
    let blobs = world.blob_requests();
    assert!(!blobs.is_empty(), "the log came from the redirect target");
    assert!(
        blobs.iter().all(|b| !b.authorization),
        "no Authorization on the blob: {blobs:?}"
    );
    let t = flightdeck::analysis::ci_log::triage(&log);
    assert!(t.summary.unwrap_or_default().contains("TypeError"));
}

#[tokio::test]
async fn logs_key_opens_the_failed_jobs_triaged_log() {
    let mut r = rig(false).await;
    r.select_run(|run| run.state == RunState::Failure);
    let fx = r.press(common::key('l'));
    assert_eq!(r.state.mode, Mode::Log);
    assert!(
        matches!(fx.as_slice(), [Effect::Fetch(Fetch::Jobs { .. })]),
        "{fx:?}"
    );
    // Jobs arrive, then the log is fetched and triaged.
    for _ in 0..2 {
        let msg = tokio::time::timeout(Duration::from_secs(10), r.rx.recv())
            .await
            .unwrap()
            .unwrap();
        let fx = update(&mut r.state, msg);
        r.runner.run(&fx);
    }
    let log = r.state.log.as_ref().unwrap();
    let flightdeck::app::Loadable::Ready(t) = &log.content else {
        panic!("log loaded: {:?}", log.content)
    };
    assert!(!t.excerpts.is_empty());
    assert!(log.job.as_ref().unwrap().1.contains("test"));
    r.press(code(KeyCode::Esc));
    assert_eq!(r.state.mode, Mode::Normal);
    assert_eq!(r.state.tab, Tab::Runs);
}

#[tokio::test]
async fn a_change_still_in_flight_at_quit_is_recorded_as_abandoned() {
    // A GitHub that accepts the connection and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            open.push(sock);
        }
    });
    let cfg = flightdeck::config::GitHubConfig {
        api_url: format!("http://{addr}"),
        repos: vec!["acme/checkout".into()],
        token_command: None,
        anonymous: true,
        max_items: 100,
    };
    let gh = GitHub::new(Http::new(Duration::from_secs(30)).unwrap(), &cfg, None);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (mut runner, mut rx) = common::Runner::new(Some(Arc::new(gh)), audit.clone(), false);
    let change = flightdeck::app::change::Change::CancelRun {
        repo: "acme/checkout".into(),
        run_id: 7,
        run_number: 7,
        workflow: "CI".into(),
        branch: "main".into(),
    };
    runner.run(&[Effect::Change {
        id: 1,
        change,
        comment: String::new(),
    }]);
    // The intent is on disk before the request goes out.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while AuditLog::new(audit.clone())
        .read_all()
        .unwrap()
        .0
        .is_empty()
    {
        assert!(std::time::Instant::now() < deadline, "no intent line");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(runner.exec.in_flight(), 1);
    let abandoned = runner.exec.shutdown(Duration::from_millis(300)).await;
    assert_eq!(abandoned, 1);
    let (entries, problems) = AuditLog::new(audit).read_all().unwrap();
    assert!(problems.is_empty());
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0].phase, Phase::Intent);
    assert_eq!(entries[1].phase, Phase::Outcome);
    assert_eq!(entries[0].id, entries[1].id);
    let outcome = entries[1].outcome.as_ref().unwrap();
    assert!(!outcome.ok);
    assert!(
        outcome.detail.contains("abandoned at exit"),
        "{}",
        outcome.detail
    );
    assert!(rx.try_recv().is_err(), "no result was reported for it");
    hold.abort();
}
