//! The builtin analyzer in the cockpit against the demo world: a failed run's summary on the AI
//! tab is explained from its failed job's log, compared with the job's last green log on the
//! default branch (read through the real GitHub client).

mod common;

use std::sync::Arc;
use std::time::Duration;

use flightdeck::app::{Fetched, Loadable, Msg, update};
use flightdeck::domain::{SourceId, SummaryKind};
use flightdeck::sources::github::GitHub;

#[tokio::test]
async fn the_last_green_log_of_a_failed_job_is_found_on_the_default_branch() {
    let (_world, config, http) = common::demo_world(30.0).await;
    let gh = GitHub::new(http, config.github.as_ref().unwrap(), None);
    let jobs = gh.jobs("acme/checkout", 9_200_000_104).await.unwrap();
    let failed = jobs
        .iter()
        .find(|j| j.state == flightdeck::domain::RunState::Failure)
        .expect("the demo's failed CI run has a failed job");
    let green = gh
        .last_green_log("acme/checkout", "CI", &failed.name)
        .await
        .unwrap()
        .expect("a green run of CI on main");
    assert_eq!(green.branch, "main");
    assert_eq!(
        green.run_number, 1287,
        "the newest successful CI run on main"
    );
    assert!(!green.log.is_empty());
    let none = gh
        .last_green_log("acme/checkout", "No such workflow", &failed.name)
        .await
        .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn the_ai_tab_explains_a_failed_run_against_its_green_log() {
    let (_world, config, http) = common::demo_world(30.0).await;
    let gh_cfg = config.github.clone().unwrap();
    let mut poller = GitHub::new(http.clone(), &gh_cfg, None);
    let data = poller.poll().await.expect("poll the demo world");
    let dir = tempfile::tempdir().unwrap();
    let (mut runner, mut rx) = common::Runner::new(
        Some(Arc::new(GitHub::new(http, &gh_cfg, None).for_details())),
        dir.path().join("audit.jsonl"),
        false,
    );
    let mut s = common::new_state(160, 40);
    update(&mut s, Msg::loaded(SourceId::GitHub, Ok(data), common::NOW));
    update(&mut s, common::key('5'));
    // Select the failed run's summary; the detail pane asks for its jobs, then the analysis.
    let idx = s
        .summaries
        .items
        .iter()
        .position(|x| x.kind == SummaryKind::Run && x.subject == "acme/checkout #1284")
        .expect("the failed run is on the AI tab");
    let run_id = 9_200_000_104;
    let mut fx = Vec::new();
    for _ in 0..idx {
        fx.extend(update(&mut s, common::key('j')));
    }
    if !s.detail {
        fx.extend(update(
            &mut s,
            common::code(crossterm::event::KeyCode::Enter),
        ));
    }
    assert!(s.detail, "the detail pane is open");
    runner.run(&fx);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !matches!(s.run_analysis.get(&run_id), Some(Loadable::Ready(_))) {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the analysis arrives within 20 s")
            .expect("the runner is alive");
        if let Msg::Fetched(Fetched::Analyzed { result: Err(e), .. }) = &msg {
            panic!("the analysis failed: {e}");
        }
        let more = update(&mut s, msg);
        runner.run(&more);
    }
    let sum = s
        .summaries
        .items
        .iter()
        .find(|x| x.subject == "acme/checkout #1284")
        .unwrap();
    assert!(
        sum.headline.contains("failed on fix/colour-bleed:"),
        "{}",
        sum.headline
    );
    let detail = sum.detail.join("\n");
    assert!(detail.contains("Category: "), "{detail}");
    assert!(detail.contains("Root cause:"), "{detail}");
    assert!(
        detail.contains("Compared with the last green run of job")
            && detail.contains("on main (#1287)"),
        "{detail}"
    );
    assert!(
        detail.contains("New against the last green log of the job"),
        "{detail}"
    );
    assert!(
        detail.contains("CI passes on main (#1287): the failure comes with this change"),
        "{detail}"
    );
    assert!(detail.contains("Next: "), "{detail}");
}

#[tokio::test]
async fn the_ai_tab_reads_the_dora_metrics_when_their_row_is_selected() {
    let (_world, config, http) = common::demo_world(30.0).await;
    let gh_cfg = config.github.clone().unwrap();
    let sentry_cfg = config.sentry.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut runner, mut rx) = common::Runner::with_sentry(
        Some(Arc::new(
            GitHub::new(http.clone(), &gh_cfg, None).for_details(),
        )),
        Some(Arc::new(flightdeck::sources::sentry::Sentry::new(
            http,
            &sentry_cfg,
            None,
        ))),
        Default::default(),
        dir.path().join("audit.jsonl"),
        false,
    );
    let mut s = common::new_state(160, 40);
    s.now = time::OffsetDateTime::now_utc();
    s.dora_scope = Some(flightdeck::app::DoraScope {
        repos: gh_cfg.repos.clone(),
        projects: sentry_cfg.projects.clone(),
        environment: "production".into(),
        sentry_environment: Some("production".into()),
        days: 30,
    });
    s.recompute_summaries();
    update(&mut s, common::key('5'));
    let idx = s
        .summaries
        .items
        .iter()
        .position(|x| x.kind == SummaryKind::Dora)
        .expect("a DORA row");
    // Read on demand: nothing is under way until the row is selected.
    assert!(
        s.summaries.items[idx].headline.contains("not read yet"),
        "{}",
        s.summaries.items[idx].headline
    );
    let mut fx = Vec::new();
    for _ in 0..idx {
        fx.extend(update(&mut s, common::key('j')));
    }
    if !s.detail {
        fx.extend(update(
            &mut s,
            common::code(crossterm::event::KeyCode::Enter),
        ));
    }
    assert!(
        fx.iter().any(|e| matches!(
            e,
            flightdeck::app::Effect::Fetch(flightdeck::app::Fetch::Dora(_))
        )),
        "{fx:?}"
    );
    // Asked for: now it is being read.
    let row = s
        .summaries
        .items
        .iter()
        .find(|x| x.kind == SummaryKind::Dora)
        .expect("a DORA row");
    assert!(row.headline.contains("reading"), "{}", row.headline);
    runner.run(&fx);
    let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("the metrics within 30 s")
        .unwrap();
    update(&mut s, msg);
    let row = s
        .summaries
        .items
        .iter()
        .find(|x| x.kind == SummaryKind::Dora)
        .unwrap();
    assert_eq!(row.subject, "production, 30 days");
    assert!(row.headline.starts_with("deploys "), "{}", row.headline);
    let detail = row.detail.join("\n");
    for name in [
        "Deployment frequency:",
        "Lead time for changes:",
        "Change failure rate:",
        "Time to restore:",
    ] {
        assert!(detail.contains(name), "{name}: {detail}");
    }
    assert!(detail.contains("  how: "), "{detail}");
    assert!(detail.contains("requests to GitHub"), "{detail}");
    // Selecting it again within ten minutes reads nothing again.
    let again = update(&mut s, common::key('k'));
    let again2 = update(&mut s, common::key('j'));
    assert!(
        !again.iter().chain(again2.iter()).any(|e| matches!(
            e,
            flightdeck::app::Effect::Fetch(flightdeck::app::Fetch::Dora(_))
        )),
        "fresh metrics are not read again"
    );
}
