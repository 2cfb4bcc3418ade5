//! Rollouts end to end: the judge's verdict from the demo world's Prometheus, approving a held
//! deployment from the Rollouts tab (with an override against the verdict), rolling back through a
//! workflow dispatch or a local command, the autopilot, and read-only.

mod common;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flightdeck::analysis::canary::Verdict as JudgeVerdict;
use flightdeck::app::{Effect, Fetch, Fetched, Mode, Msg, State, Tab, update};
use flightdeck::config::Config;
use flightdeck::domain::{SourceData, SourceId};
use flightdeck::ops::audit::AuditLog;
use flightdeck::sim::SimWorld;
use flightdeck::sources::github::GitHub;
use flightdeck::sources::http::Http;
use flightdeck::sources::prometheus::Prometheus;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

struct Rig {
    world: SimWorld,
    config: Config,
    state: State,
    runner: common::Runner,
    rx: mpsc::UnboundedReceiver<Msg>,
    audit: std::path::PathBuf,
    dir: tempfile::TempDir,
}

async fn poll_prometheus(config: &Config) -> SourceData {
    let http = Http::new(Duration::from_secs(10)).unwrap();
    let mut p =
        Prometheus::new(http, config.prometheus.as_ref().unwrap(), &config.services).unwrap();
    p.poll().await.expect("poll Prometheus")
}

async fn rig(at: f64, read_only: bool, autopilot: bool) -> Rig {
    let (world, config, http) = common::demo_world(at).await;
    let gh_cfg = config.github.clone().unwrap();
    let mut poller = GitHub::new(http.clone(), &gh_cfg, None);
    let github = poller.poll().await.expect("poll GitHub");
    let prometheus = poll_prometheus(&config).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("state/audit.jsonl");
    let (runner, rx) = common::Runner::new(
        Some(Arc::new(GitHub::new(http, &gh_cfg, None))),
        audit.clone(),
        read_only,
    );
    let mut state = common::new_state(160, 40);
    state.read_only = read_only;
    state.services = flightdeck::runtime::service_plans(&config);
    state.policy = (&config.policy).into();
    let mut rig = Rig {
        world,
        config,
        state,
        runner,
        rx,
        audit,
        dir,
    };
    rig.feed(Msg::loaded(SourceId::GitHub, Ok(github), common::NOW));
    rig.state.autopilot = autopilot;
    rig.feed(Msg::loaded(
        SourceId::Prometheus,
        Ok(prometheus),
        common::NOW,
    ));
    rig
}

impl Rig {
    /// Apply a message and hand its effects to the executor.
    fn feed(&mut self, msg: Msg) -> Vec<Effect> {
        let fx = update(&mut self.state, msg);
        self.runner.run(&fx);
        fx
    }

    fn key(&mut self, code: KeyCode) -> Vec<Effect> {
        self.feed(Msg::key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn chars(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Apply messages from the executor until `done` says so.
    async fn until(&mut self, done: impl Fn(&Msg) -> bool) {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
                .await
                .expect("an answer within 10 s")
                .expect("channel open");
            let stop = done(&msg);
            self.feed(msg);
            if stop {
                return;
            }
        }
    }

    fn select_service(&mut self, name: &str) {
        self.feed(common::key('3'));
        self.feed(common::key('g'));
        while self.state.rollouts.selected().unwrap().name != name {
            self.feed(common::key('j'));
        }
    }

    fn posts(&self) -> Vec<flightdeck::sim::RecordedRequest> {
        self.world
            .github_mutations()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect()
    }
}

fn done_op(m: &Msg) -> bool {
    matches!(m, Msg::ChangeDone { .. })
}

fn prepared(m: &Msg) -> bool {
    matches!(m, Msg::Fetched(Fetched::Revisions { .. }))
}

#[tokio::test]
async fn the_judge_sees_the_regression_of_the_demo() {
    let healthy = rig(45.0, false, false).await;
    assert_eq!(
        healthy.state.judgement("checkout").unwrap().verdict,
        JudgeVerdict::Proceed,
        "{:?}",
        healthy.state.judgement("checkout")
    );
    let broken = rig(100.0, false, false).await;
    let j = broken.state.judgement("checkout").unwrap();
    assert_eq!(j.verdict, JudgeVerdict::Rollback);
    assert!(
        j.reasons.iter().any(|r| r.contains("error_rate")),
        "{:?}",
        j.reasons
    );
}

/// At 100 % the stable track serves nothing: the judge compares with the service's history from
/// before the rollout began, so a fully promoted bad canary still reaches ROLLBACK and a healthy
/// one is judged (baking, then complete), never "no data".
#[tokio::test]
async fn the_last_slice_is_judged_against_the_history_before_the_rollout() {
    // A world whose clock runs (a frozen one has no past to read).
    let running = |at: f64| async move {
        let world = flightdeck::sim::start(flightdeck::sim::SimOptions {
            speed: 1.0,
            start_at_secs: at,
            ..Default::default()
        })
        .await
        .unwrap();
        let config = Config::parse(&world.config_toml(), "demo").unwrap();
        (world, config)
    };
    let (world, config) = running(170.0).await;
    let SourceData::Prometheus(rollouts) = poll_prometheus(&config).await else {
        panic!("Prometheus data")
    };
    let policy = (&config.policy).into();
    for r in &rollouts {
        assert_eq!(r.weight, Some(100.0), "{}", r.name);
        assert!(
            r.baseline_history.is_some(),
            "{}: {:?}",
            r.name,
            r.baseline_history
        );
    }
    let judge = |name: &str| {
        let r = rollouts.iter().find(|r| r.name == name).unwrap();
        flightdeck::analysis::rollout::judge_service(r, &policy)
    };
    let checkout = judge("checkout");
    assert_eq!(
        checkout.verdict,
        JudgeVerdict::Rollback,
        "{:#?}",
        checkout.reasons
    );
    assert!(
        checkout
            .reasons
            .iter()
            .any(|r| r.contains("history until it lost its traffic")),
        "{:?}",
        checkout.reasons
    );
    // Healthy, but the bake has not passed: HOLD, baking (no go before the bake's time).
    let web = judge("web");
    assert_eq!(web.verdict, JudgeVerdict::Hold, "{:#?}", web.reasons);
    assert!(!web.complete);
    assert!(
        web.reasons[0].starts_with("baking at 100 %: "),
        "{:?}",
        web.reasons
    );
    world.shutdown();
    // Past the bake time: complete.
    let (world, config) = running(430.0).await;
    let SourceData::Prometheus(rollouts) = poll_prometheus(&config).await else {
        panic!("Prometheus data")
    };
    let r = rollouts.iter().find(|r| r.name == "web").unwrap();
    let web = flightdeck::analysis::rollout::judge_service(r, &policy);
    assert_eq!(web.verdict, JudgeVerdict::Proceed, "{:#?}", web.reasons);
    assert!(web.complete, "{:#?}", web.reasons);
    assert!(
        web.reasons[0].starts_with("promotion complete: 100 % for 5m"),
        "{:?}",
        web.reasons
    );
    world.shutdown();
}

#[tokio::test]
async fn rollback_dispatches_the_workflow_with_the_right_inputs() {
    let mut r = rig(100.0, false, false).await;
    r.select_service("checkout");
    let fx = r.feed(common::key('R'));
    assert!(
        matches!(fx.as_slice(), [Effect::Fetch(Fetch::Revisions { .. })]),
        "{fx:?}"
    );
    r.until(prepared).await;
    let Mode::Confirm(c) = &r.state.mode else {
        panic!("R opens a confirmation: {:?}", r.state.mode)
    };
    assert_eq!(
        c.require.as_ref().map(|(w, _)| w.as_str()),
        Some("checkout"),
        "production: type the service name"
    );
    // The field has the focus; Enter does nothing until the name is typed.
    assert!(r.key(KeyCode::Enter).is_empty());
    assert!(r.posts().is_empty());
    r.chars("checkout");
    r.key(KeyCode::Enter); // back to Yes
    let fx = r.key(KeyCode::Enter);
    assert!(matches!(fx.as_slice(), [Effect::Change { .. }]), "{fx:?}");
    r.until(done_op).await;
    let posts = r.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(
        posts[0].path,
        "/repos/acme/checkout/actions/workflows/rollback.yml/dispatches"
    );
    let body: serde_json::Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(body["ref"], "main");
    assert_eq!(body["inputs"]["service"], "checkout");
    assert_eq!(body["inputs"]["environment"], "production");
    let to = body["inputs"]["to"].as_str().unwrap();
    assert!(
        to.len() >= 7 && to.chars().all(|c| c.is_ascii_hexdigit()),
        "{to}"
    );
    // The canary is gone from Prometheus afterwards: weight 0.
    let SourceData::Prometheus(after) = poll_prometheus(&r.config).await else {
        unreachable!()
    };
    let checkout = after.iter().find(|s| s.name == "checkout").unwrap();
    assert_eq!(checkout.weight, Some(0.0));
    let (entries, _) = AuditLog::new(r.audit.clone()).read_all().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].action, "rollback");
    assert_eq!(entries[0].target["service"], "checkout");
    assert!(
        entries[0]
            .comment
            .as_deref()
            .unwrap_or("")
            .contains("ROLLBACK")
            || entries[0]
                .comment
                .as_deref()
                .unwrap_or("")
                .contains("error_rate"),
        "the verdict's reasons are audited: {:?}",
        entries[0].comment
    );
}

#[tokio::test]
async fn rollback_command_runs_the_argv_without_a_shell() {
    let mut r = rig(100.0, false, false).await;
    let marker = r.dir.path().join("rolled-back");
    // web (staging): a command target with placeholders; `touch` proves the argv ran.
    let web = r
        .state
        .services
        .iter_mut()
        .find(|s| s.name == "web")
        .unwrap();
    web.rollback = Some(flightdeck::app::plan::RollbackVia::Command {
        argv: vec![
            "touch".into(),
            format!("{}-{{service}}-{{environment}}", marker.display()),
        ],
    });
    r.select_service("web");
    r.feed(common::key('R'));
    r.until(prepared).await;
    assert!(matches!(r.state.mode, Mode::Confirm(_)));
    r.key(KeyCode::Tab);
    r.key(KeyCode::Enter);
    r.until(done_op).await;
    let expected = format!("{}-web-staging", marker.display());
    assert!(std::path::Path::new(&expected).exists(), "{expected}");
    assert!(
        r.posts().is_empty(),
        "a command rollback sends nothing to GitHub"
    );
    let msg = r.state.current_message().unwrap();
    assert!(msg.text.contains("succeeded"), "{}", msg.text);
}

#[tokio::test]
async fn approving_against_the_verdict_needs_an_override() {
    let mut r = rig(100.0, false, false).await;
    r.select_service("checkout");
    r.feed(common::key('a'));
    let Mode::Confirm(c) = &r.state.mode else {
        panic!("{:?}", r.state.mode)
    };
    assert_eq!(
        c.require.as_ref().map(|(w, _)| w.as_str()),
        Some("override")
    );
    assert!(
        c.comment_text().contains("ROLLBACK"),
        "{}",
        c.comment_text()
    );
    // The override field has the focus.
    r.chars("override");
    r.key(KeyCode::Enter);
    let fx = r.key(KeyCode::Enter);
    assert!(matches!(fx.as_slice(), [Effect::Change { .. }]), "{fx:?}");
    r.until(done_op).await;
    let posts = r.posts();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].path.ends_with("/pending_deployments"));
}

#[tokio::test]
async fn autopilot_approves_on_proceed() {
    let mut r = rig(45.0, false, true).await;
    // The Prometheus poll in rig() already gave the autopilot a PROCEED for checkout, which has a
    // held deployment: it sent the approval without asking.
    r.until(done_op).await;
    let posts = r.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].path.ends_with("/pending_deployments"));
    let body: serde_json::Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(body["state"], "approved");
    assert!(body["comment"].as_str().unwrap().contains("autopilot"));
    assert!(!r.state.autopilot_log.is_empty());
    let (entries, _) = AuditLog::new(r.audit.clone()).read_all().unwrap();
    assert_eq!(entries[0].action, "approve-deployment");
    assert!(entries[0].comment.as_deref().unwrap().contains("PROCEED"));
    // The same situation again does not approve twice.
    let again = poll_prometheus(&r.config).await;
    let mut changed = again.clone();
    if let SourceData::Prometheus(list) = &mut changed {
        list[0].warnings.push("force a change".into());
    }
    let fx = r.feed(Msg::loaded(SourceId::Prometheus, Ok(changed), common::NOW));
    assert!(fx.is_empty(), "{fx:?}");
}

#[tokio::test]
async fn autopilot_rolls_back_on_rollback() {
    let mut r = rig(100.0, false, true).await;
    r.until(prepared).await;
    r.until(done_op).await;
    let posts = r.posts();
    assert!(
        posts.iter().any(|p| p
            .path
            .ends_with("/actions/workflows/rollback.yml/dispatches")),
        "{posts:?}"
    );
    assert_eq!(
        r.state.mode,
        Mode::Normal,
        "no confirmation for the autopilot"
    );
}

#[tokio::test]
async fn read_only_blocks_rollback_approval_and_autopilot() {
    let mut r = rig(100.0, true, true).await;
    r.select_service("checkout");
    assert!(r.feed(common::key('R')).is_empty());
    assert!(r.feed(common::key('a')).is_empty());
    assert_eq!(r.state.mode, Mode::Normal);
    assert!(
        r.state
            .current_message()
            .unwrap()
            .text
            .contains("Read-only")
    );
    assert!(
        r.state.autopilot_log.is_empty(),
        "no autopilot in read-only"
    );
    assert_eq!(r.state.tab, Tab::Rollouts);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(r.rx.try_recv().is_err(), "nothing was started");
    assert!(r.posts().is_empty());
}

/// `flightdeck approve` (in process): the same guard as `a`, then the audited executor.
#[tokio::test]
async fn headless_approve_is_refused_against_the_judge_and_sent_with_override() {
    use flightdeck::headless::{ApproveArgs, approve};
    let r = rig(100.0, false, false).await;
    let run = r
        .state
        .runs
        .items
        .iter()
        .find(|run| !run.pending.is_empty())
        .expect("the demo's held deployment")
        .clone();
    let args = ApproveArgs {
        repo: run.repo.clone(),
        run_id: run.id,
        yes: true,
        ..ApproveArgs::default()
    };
    // The judge says ROLLBACK for checkout: refused, nothing sent or audited.
    let (code, doc) = approve(&r.config, r.audit.clone(), &args).await;
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["verdicts"][0]["service"], "checkout", "{doc:#}");
    assert_eq!(doc["verdicts"][0]["verdict"], "ROLLBACK", "{doc:#}");
    let refused = doc["refused"].as_str().unwrap();
    assert!(
        refused.contains("ROLLBACK") && refused.contains("--override"),
        "{refused}"
    );
    assert!(r.posts().is_empty());
    assert!(!r.audit.exists());
    // Read-only refuses even with --override.
    let ro = ApproveArgs {
        force: true,
        read_only: true,
        ..args.clone()
    };
    assert_eq!(approve(&r.config, r.audit.clone(), &ro).await.0, 1);
    assert!(r.posts().is_empty());
    // With --override: sent, and the override is in the audit entry.
    let forced = ApproveArgs {
        force: true,
        ..args.clone()
    };
    let (code, doc) = approve(&r.config, r.audit.clone(), &forced).await;
    assert_eq!(code, 0, "{doc:#}");
    let posts = r.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(
        posts[0].path,
        format!(
            "/repos/{}/actions/runs/{}/pending_deployments",
            run.repo, run.id
        )
    );
    let body: serde_json::Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(body["state"], "approved");
    assert!(
        body["comment"]
            .as_str()
            .unwrap()
            .starts_with("Approved from flightdeck; judge: ROLLBACK"),
        "{body}"
    );
    let (entries, _) = AuditLog::new(r.audit.clone()).read_all().unwrap();
    assert_eq!(entries.len(), 2, "intent and outcome");
    assert_eq!(entries[0].action, "approve-deployment");
    assert!(
        entries[0].target["override"]
            .as_str()
            .is_some_and(|w| w.contains("ROLLBACK") && w.contains("checkout")),
        "{:?}",
        entries[0].target
    );
    assert!(entries[1].outcome.as_ref().unwrap().ok);
    // The run no longer waits: a second approval finds nothing to approve.
    let (code, doc) = approve(&r.config, r.audit.clone(), &forced).await;
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(r.posts().len(), 1);
}

/// The demo tells its story at any speed: judged as the cockpit would judge it a poll or two into
/// each slice (5 s polls: 10 s at `--speed 1`, 5 s at `--speed 4`), checkout PROCEEDs at 10 and 25
/// %, is ROLLBACK at 50 % and stays ROLLBACK at 100 %; web PROCEEDs throughout, 100 % included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_gives_a_verdict_a_poll_or_two_into_each_slice_at_any_speed() {
    use flightdeck::sim::scenario::STEPS;
    for (speed, wall_in) in [(1.0, 10.0), (4.0, 5.0)] {
        // The story is over; every slice is in the world's past.
        let start_at = 200.0;
        let world = flightdeck::sim::start(flightdeck::sim::SimOptions {
            speed,
            start_at_secs: start_at,
            ..Default::default()
        })
        .await
        .unwrap();
        let origin = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
        let config = Config::parse(&world.config_toml(), "demo").unwrap();
        let http = Http::new(Duration::from_secs(10)).unwrap();
        let p =
            Prometheus::new(http, config.prometheus.as_ref().unwrap(), &config.services).unwrap();
        let policy = (&config.policy).into();
        let mut seen = Vec::new();
        for (t, weight) in STEPS {
            let wall = origin + (t - start_at) / speed + wall_in;
            let SourceData::Prometheus(rollouts) = p.poll_at(wall).await.unwrap() else {
                panic!("Prometheus data")
            };
            for r in &rollouts {
                let j = flightdeck::analysis::rollout::judge_service(r, &policy);
                assert_eq!(r.weight, Some(weight), "{} at {t}", r.name);
                assert!(
                    !j.reasons.iter().any(|x| x.contains("no data")),
                    "speed {speed}, {} at {weight} %: {:?}",
                    r.name,
                    j.reasons
                );
                seen.push((r.name.clone(), weight, j.verdict, j.reasons.clone()));
            }
        }
        let verdict = |name: &str, w: f64| {
            seen.iter()
                .find(|(n, weight, _, _)| n == name && *weight == w)
                .map(|(_, _, v, r)| (*v, r.clone()))
                .unwrap()
        };
        for (w, want) in [
            (10.0, JudgeVerdict::Proceed),
            (25.0, JudgeVerdict::Proceed),
            (50.0, JudgeVerdict::Rollback),
            (100.0, JudgeVerdict::Rollback),
        ] {
            let (v, reasons) = verdict("checkout", w);
            assert_eq!(v, want, "speed {speed}, checkout at {w} %: {reasons:?}");
        }
        for w in [10.0, 25.0, 50.0] {
            let (v, reasons) = verdict("web", w);
            assert_eq!(
                v,
                JudgeVerdict::Proceed,
                "speed {speed}, web at {w} %: {reasons:?}"
            );
        }
        // A poll or two into 100 % the bake has only begun: the healthy canary
        // is judged (every metric passing) and held until the bake time is up.
        let (v, reasons) = verdict("web", 100.0);
        assert_eq!(
            v,
            JudgeVerdict::Hold,
            "speed {speed}, web at 100 %: {reasons:?}"
        );
        assert!(
            reasons[0].starts_with("baking at 100 %: ")
                && reasons[0].contains("every metric passing"),
            "speed {speed}, web at 100 %: {reasons:?}"
        );
        world.shutdown();
    }
}
