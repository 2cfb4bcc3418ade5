//! The suspected change of an incident, end to end: the GitHub reads behind it pinned to the
//! shared API fixtures in `../shared/fixtures` (when that folder is absent, the fixture tests say
//! so on stderr and pass), and `GitHub::suspects` against the demo world on loopback, which holds
//! acme/checkout's deployments, its history between the last good release and the held one, and
//! the repositories' files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use flightdeck::analysis::suspect::DeployOutcome;
use flightdeck::config::Config;
use flightdeck::domain::{ExceptionInfo, Frame, Incident, IncidentEvent, SuspectKind};
use flightdeck::sim::{SimOptions, SimWorld};
use flightdeck::sources::github::changes::{
    ApiCommit, ApiCommitPull, ApiComparison, ApiContent, ApiGitRef, SUSPECT_REQUESTS, outcome,
};
use flightdeck::sources::github::{ApiDeployment, ApiDeploymentStatus, GitHub};
use flightdeck::sources::http::Http;
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration as Span, OffsetDateTime};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures");

/// The fixtures folder, or `None` after saying plainly that it is absent.
fn fixtures(what: &str) -> Option<PathBuf> {
    let dir = Path::new(FIXTURES);
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        eprintln!("../shared/fixtures is absent: skipping {what}");
        None
    }
}

fn parse<T: serde::de::DeserializeOwned>(dir: &Path, rel: &str) -> T {
    let path = dir.join(rel);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("fixture {} cannot be read: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "fixture {rel} does not parse as {}: {e}",
            std::any::type_name::<T>()
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Contract: the fixtures

#[test]
fn deployments_and_their_statuses_parse() {
    let Some(dir) = fixtures("deployment contract tests") else {
        return;
    };
    let list: Vec<ApiDeployment> = parse(&dir, "github/repos__list-deployments.json");
    assert!(!list.is_empty());
    let d = list[0].clone().into_deploy("PyGithub/PyGithub", "fallback");
    assert_eq!(d.id, 263_877_258);
    assert_eq!(d.sha, "743f5a58b0bce91c4eab744ff7e39dfca9e6e8a5");
    assert_eq!(d.environment, "test");
    assert_eq!(
        d.git_ref.as_deref(),
        Some("743f5a58b0bce91c4eab744ff7e39dfca9e6e8a5")
    );
    assert_eq!(d.created_at, Some(datetime!(2020-08-26 11:44:53 UTC)));
    // A sha ref, a free-text description and a payload without a version name no release.
    assert_eq!(d.version, None);
    assert_eq!(d.outcome, DeployOutcome::Unknown);

    let statuses: Vec<ApiDeploymentStatus> =
        parse(&dir, "github/repos__list-deployment-statuses.json");
    assert!(!statuses.is_empty());
    let states: Vec<&str> = statuses.iter().filter_map(|s| s.state.as_deref()).collect();
    assert_eq!(states, ["queued", "queued", "queued"]);
    // Queued, newest first: still going, and no base to compare against.
    assert_eq!(outcome(&statuses), DeployOutcome::InProgress);
    assert!(!outcome(&statuses).is_good());
    assert_eq!(
        statuses[0].created_at.as_deref(),
        Some("2020-08-26T14:32:51Z")
    );
}

#[test]
fn a_comparison_parses_into_commits_files_and_authors() {
    let Some(dir) = fixtures("compare contract tests") else {
        return;
    };
    let api: ApiComparison = parse(&dir, "github/repos__compare-commits.json");
    let c = api.into_comparison("https://github.com/PyGithub/PyGithub");
    assert_eq!(c.total_commits, 4);
    assert_eq!(c.commits.len(), 4);
    let first = &c.commits[0];
    assert_eq!(first.sha, "5bb654d26dd014d36794acd1e6ecf3736f12aad7");
    assert_eq!(first.message, "Implement the three authentication schemes");
    assert_eq!(first.author, "jacquev6");
    assert_eq!(first.at, Some(datetime!(2012-05-25 12:10:54 UTC)));
    assert_eq!(
        first.url.as_deref(),
        Some(
            "https://github.com/PyGithub/PyGithub/commit/5bb654d26dd014d36794acd1e6ecf3736f12aad7"
        )
    );
    // Merges of branches are not PRs: none is named.
    assert!(c.commits.iter().all(|k| k.prs.is_empty()));
    assert!(c.prs.is_empty());
    assert_eq!(
        c.files,
        [
            "ReferenceOfClasses.md",
            "github/Github.py",
            "github/Requester.py",
            "setup.py"
        ]
    );
}

#[test]
fn commits_touching_a_path_parse() {
    let Some(dir) = fixtures("list-commits contract tests") else {
        return;
    };
    let list: Vec<ApiCommit> = parse(&dir, "github/repos__list-commits.path.json");
    assert_eq!(list.len(), 7);
    let commits: Vec<_> = list.into_iter().map(ApiCommit::into_commit).collect();
    assert_eq!(commits[0].sha, "de386d5dc9cf103c90c4128eeca0e6abdd382065");
    assert_eq!(commits[0].message, "Rename");
    assert_eq!(commits[0].author, "jacquev6");
    // The recorded date carries an offset (-07:00).
    assert_eq!(commits[0].at, Some(datetime!(2012-05-28 17:21:42 UTC)));
    assert!(commits.iter().all(|c| c.sha.len() == 40 && c.at.is_some()));
}

#[test]
fn refs_files_and_pulls_parse() {
    let Some(dir) = fixtures("ref, contents and pull contract tests") else {
        return;
    };
    let r: ApiGitRef = parse(&dir, "github/git__get-ref.json");
    assert_eq!(r.name.as_deref(), Some("refs/heads/master"));
    let o = r.object.expect("object");
    assert_eq!(o.kind.as_deref(), Some("commit"));
    assert_eq!(
        o.sha.as_deref(),
        Some("31110327ec45f3138e58ed247b2cf420fee481ec")
    );
    let created: ApiGitRef = parse(&dir, "github/git__create-ref.json");
    assert_eq!(created.name.as_deref(), Some("refs/heads/test"));

    // The `content` of a contents write is the file's entry without its bytes.
    let written: Value = parse(&dir, "github/repos__create-or-update-file-contents.json");
    let entry: ApiContent =
        serde_json::from_value(written["content"].clone()).expect("content entry parses");
    assert_eq!(entry.kind.as_deref(), Some("file"));
    assert_eq!(entry.path.as_deref(), Some("test.txt"));
    assert_eq!(
        entry.sha.as_deref(),
        Some("3f3f005b29247e51a4f4d6b8ce07b67646cd6074")
    );
    assert!(
        entry.clone().into_file("test.txt").is_err(),
        "no bytes to decode"
    );
    // With the bytes the read answer carries (the request's `content`), it is the file.
    let request: Value = parse(
        &dir,
        "github/repos__create-or-update-file-contents.request.json",
    );
    let mut read = written["content"].clone();
    read["content"] = request["content"].clone();
    read["encoding"] = json!("base64");
    let file = serde_json::from_value::<ApiContent>(read)
        .expect("parses")
        .into_file("test.txt")
        .expect("a file");
    assert_eq!(file.text(), "Test content");
    assert_eq!(file.sha, "3f3f005b29247e51a4f4d6b8ce07b67646cd6074");

    let pull: ApiCommitPull = parse(&dir, "github/pulls__create.json");
    let merged = pull.into_merged();
    assert_eq!(merged.number, 31);
    assert_eq!(merged.title, "Pull request created by PyGithub");
    assert_eq!(merged.url, "https://github.com/PyGithub/PyGithub/pull/31");
    assert_eq!(merged.merged_at, None, "a new PR is not merged");
}

// ---------------------------------------------------------------------------------------------
// The demo world

/// Scenario second 0 of the demo's payloads (an unanchored world).
const T0: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);

async fn frozen(t: f64) -> SimWorld {
    flightdeck::sim::start(SimOptions {
        speed: 0.0,
        start_at_secs: t,
        anchor_now: false,
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts")
}

fn github(world: &SimWorld) -> GitHub {
    let cfg = Config::parse(&world.config_toml(), "demo").expect("the demo config parses");
    let http = Http::new(Duration::from_secs(10)).expect("HTTP client");
    GitHub::new(http, &cfg.github.expect("[github]"), None).for_details()
}

fn incident(short_id: &str, first_seen: OffsetDateTime) -> Incident {
    Incident {
        project: "checkout".into(),
        id: "6120007".into(),
        short_id: short_id.into(),
        title: "ZeroDivisionError: integer division or modulo by zero".into(),
        culprit: "worker.refunds in split_refund".into(),
        level: "error".into(),
        status: "unresolved".into(),
        count: 12,
        user_count: 3,
        first_seen: Some(first_seen),
        last_seen: Some(first_seen),
        url: String::new(),
        stats: Vec::new(),
    }
}

fn py_frame(module: &str, function: &str, line: u32) -> Frame {
    let file = format!("{}.py", module.replace('.', "/"));
    Frame {
        filename: Some(file.clone()),
        abs_path: Some(format!("/srv/checkout/{file}")),
        module: Some(module.into()),
        function: Some(function.into()),
        line: Some(line),
        in_app: true,
        ..Frame::default()
    }
}

/// CHECKOUT-4C's latest event as the Sentry client stores it (the frames the brief gives).
fn refunds_event(release: Option<&str>) -> IncidentEvent {
    IncidentEvent {
        event_id: "4c".into(),
        issue_id: "6120007".into(),
        short_id: "CHECKOUT-4C".into(),
        platform: "python".into(),
        release: release.map(Into::into),
        environment: Some("production".into()),
        exceptions: vec![ExceptionInfo {
            kind: "ZeroDivisionError".into(),
            value: "integer division or modulo by zero".into(),
            module: Some("builtins".into()),
            frames: vec![
                Frame {
                    filename: Some("kombu/messaging.py".into()),
                    abs_path: Some("/usr/lib/python3.11/site-packages/kombu/messaging.py".into()),
                    module: Some("kombu.messaging".into()),
                    function: Some("_receive_callback".into()),
                    line: Some(654),
                    in_app: false,
                    ..Frame::default()
                },
                py_frame("worker.app", "handle_refund", 8),
                py_frame("worker.refunds", "refund_order", 14),
                py_frame("worker.refunds", "split_refund", 6),
            ],
            ..ExceptionInfo::default()
        }],
        ..IncidentEvent::default()
    }
}

/// CHECKOUT-3F's frames (JavaScript: relative filenames, no vars).
fn payment_event() -> IncidentEvent {
    let js = |file: &str, function: &str, line: u32, in_app: bool| Frame {
        filename: Some(file.into()),
        abs_path: Some(format!("/app/{file}")),
        function: Some(function.into()),
        line: Some(line),
        in_app,
        ..Frame::default()
    };
    IncidentEvent {
        short_id: "CHECKOUT-3F".into(),
        platform: "node".into(),
        release: Some("checkout@2.14.0".into()),
        exceptions: vec![ExceptionInfo {
            kind: "TypeError".into(),
            value: "cannot read property 'amount' of undefined".into(),
            frames: vec![
                js(
                    "node_modules/express/lib/router/layer.js",
                    "Layer.handle [as handle_request]",
                    95,
                    false,
                ),
                js("checkout/routes/pay.js", "submitPayment", 42, true),
                js("checkout/payment.js", "chargeCard", 118, true),
            ],
            ..ExceptionInfo::default()
        }],
        ..IncidentEvent::default()
    }
}

#[tokio::test]
async fn the_refunds_crash_points_at_pr_416_in_the_held_deploy() {
    let world = frozen(120.0).await;
    let gh = github(&world);
    let first_seen = T0 + Span::seconds(86);
    let inc = incident("CHECKOUT-4C", first_seen);
    let ev = refunds_event(Some("checkout@2.14.0"));
    let out = gh
        .suspects(
            &inc,
            Some(&ev),
            "acme/checkout",
            "production",
            T0 + Span::seconds(120),
        )
        .await
        .expect("suspects");
    assert!(
        gh.requests() as usize <= SUSPECT_REQUESTS,
        "{} requests",
        gh.requests()
    );
    assert!(!out.is_empty());
    let top = &out[0];
    assert_eq!(top.kind, SuspectKind::PullRequest, "{out:#?}");
    assert_eq!(top.pr, Some(416));
    assert_eq!(top.title, "PR #416 Refund only open shipments");
    assert_eq!(top.repo.as_deref(), Some("acme/checkout"));
    assert!(
        top.url
            .as_deref()
            .is_some_and(|u| u.ends_with("/acme/checkout/pull/416"))
    );
    assert_eq!(
        top.evidence[0],
        "PR #416 in that deploy changed `worker/refunds.py`, which holds 2 of the 3 in-app \
         frames, the crash frame among them"
    );
    let head = world_head(&world).await;
    let deploy_line = format!(
        "first seen 20 min after deploy 2.14.0 of checkout to production (sha {})",
        &head[..7]
    );
    assert!(top.evidence.contains(&deploy_line), "{:#?}", top.evidence);
    assert!(
        top.evidence
            .iter()
            .any(|e| e == "the event names release checkout@2.14.0, which this deploy shipped")
    );
    // The held deploy follows; #417 (other files) and #414 (docs) are no suspects; neither is
    // the failed 2.13.3 or the ten-day-old 2.13.2.
    let deploy = out
        .iter()
        .find(|s| s.kind == SuspectKind::Deploy)
        .expect("the deploy");
    assert_eq!(deploy.sha.as_deref(), Some(head.as_str()));
    assert!(
        deploy
            .title
            .starts_with("deploy 2.14.0 of checkout to production")
    );
    assert!(out.iter().all(|s| s.pr != Some(417) && s.pr != Some(414)));
    assert!(out.iter().all(|s| !s.title.contains("2.13.")), "{out:#?}");
    assert!(out.windows(2).all(|w| w[0].score >= w[1].score));
}

/// `main`'s head sha of acme/checkout, as the demo's deployments name it.
async fn world_head(world: &SimWorld) -> String {
    let url = format!(
        "{}/repos/acme/checkout/git/ref/heads/main",
        world.github_url
    );
    let v: Value = reqwest::get(&url)
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    v["object"]["sha"].as_str().expect("sha").to_string()
}

#[tokio::test]
async fn the_payment_crash_points_at_pr_417_which_changed_both_frames() {
    let world = frozen(120.0).await;
    let gh = github(&world);
    let first_seen = T0 + Span::seconds(83);
    let inc = incident("CHECKOUT-3F", first_seen);
    let ev = payment_event();
    let out = gh
        .suspects(&inc, Some(&ev), "acme/checkout", "production", first_seen)
        .await
        .expect("suspects");
    let top = &out[0];
    assert_eq!(top.pr, Some(417), "{out:#?}");
    assert_eq!(top.title, "PR #417 Skip the payment form for saved cards");
    assert_eq!(
        top.evidence[0],
        "PR #417 in that deploy changed `checkout/payment.js` and `checkout/routes/pay.js`, \
         which hold both in-app frames"
    );
    assert!(out.iter().all(|s| s.pr != Some(416)));
}

#[tokio::test]
async fn none_found_when_no_deploy_fits() {
    let world = frozen(120.0).await;
    let gh = github(&world);
    // First seen twelve days ago, five days after 2.13.1: no release on the event, and that
    // deploy changed no file of the frames.
    let first_seen = T0 - Span::days(12);
    let inc = incident("CHECKOUT-4C", first_seen);
    let ev = refunds_event(None);
    let out = gh
        .suspects(&inc, Some(&ev), "acme/checkout", "production", T0)
        .await
        .expect("suspects");
    assert!(out.is_empty(), "{out:#?}");
    // Before any deploy of the window: nothing, whatever the event says.
    let inc = incident("CHECKOUT-4C", T0 - Span::days(60));
    let ev = refunds_event(Some("checkout@2.14.0"));
    let out = gh
        .suspects(&inc, Some(&ev), "acme/checkout", "production", T0)
        .await
        .expect("suspects");
    assert!(out.is_empty(), "{out:#?}");
    // An environment without deployments.
    let inc = incident("CHECKOUT-4C", T0 + Span::seconds(86));
    let out = gh
        .suspects(
            &inc,
            Some(&ev),
            "acme/checkout",
            "qa",
            T0 + Span::seconds(90),
        )
        .await
        .expect("suspects");
    assert!(out.is_empty(), "{out:#?}");
}

#[tokio::test]
async fn without_the_event_the_deploy_is_a_suspect_on_timing_alone() {
    let world = frozen(120.0).await;
    let gh = github(&world);
    let inc = incident("CHECKOUT-4C", T0 + Span::seconds(86));
    let out = gh
        .suspects(
            &inc,
            None,
            "acme/checkout",
            "production",
            T0 + Span::seconds(90),
        )
        .await
        .expect("suspects");
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].kind, SuspectKind::Deploy);
    assert!(out[0].evidence[0].starts_with("first seen 20 min after deploy"));
}

#[tokio::test]
async fn trees_and_files_are_read_from_the_repository() {
    let world = frozen(120.0).await;
    let gh = github(&world);
    let tree = gh.tree("acme/checkout", "main").await.expect("tree");
    assert!(!tree.truncated);
    for p in [
        "worker/refunds.py",
        "checkout/payment.js",
        "pyproject.toml",
        "package.json",
    ] {
        assert!(tree.paths.iter().any(|x| x == p), "{p}");
    }
    assert!(
        tree.paths
            .iter()
            .all(|p| p != "worker" && p != "worker/tests"),
        "blobs only"
    );
    let file = gh
        .file("acme/checkout", "worker/refunds.py", Some("main"))
        .await
        .expect("read")
        .expect("present");
    let text = file.text();
    assert_eq!(text.lines().count(), 14);
    assert_eq!(
        text.lines().nth(5),
        Some("    share = total_cents // parts")
    );
    assert_eq!(file.sha.len(), 40);
    let package = gh
        .file("acme/checkout", "package.json", None)
        .await
        .expect("read")
        .expect("present");
    let v: Value = serde_json::from_slice(&package.content).expect("package.json is JSON");
    assert_eq!(v["scripts"]["test"], "jest");
    assert_eq!(
        gh.file("acme/checkout", "worker/missing.py", None)
            .await
            .expect("a 404 is an answer"),
        None
    );
    // A directory is not a file.
    assert!(gh.file("acme/checkout", "worker", None).await.is_err());
    let web = gh.tree("acme/web", "main").await.expect("tree");
    assert!(web.paths.iter().any(|p| p == "web/src/router.ts"));
}

#[tokio::test]
async fn tags_and_commit_pulls_resolve() {
    let world = frozen(120.0).await;
    let gh = github(&world);
    let head = world_head(&world).await;
    assert_eq!(
        gh.tag_commit("acme/checkout", "v2.14.0")
            .await
            .expect("tag"),
        Some(head.clone())
    );
    assert_eq!(
        gh.tag_commit("acme/checkout", "v9.9.9").await.expect("tag"),
        None
    );
    let cmp = gh
        .compare("acme/checkout", "v2.13.2", &head)
        .await
        .expect("compare");
    let numbers: Vec<u64> = cmp.prs.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [416, 414, 417]);
    let commit_416 = cmp
        .commits
        .iter()
        .find(|c| c.prs == [416])
        .expect("the commit of #416");
    let pulls = gh
        .commit_pulls("acme/checkout", &commit_416.sha)
        .await
        .expect("pulls");
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].title, "Refund only open shipments");
    assert!(pulls[0].merged_at.is_some());
    let touching = gh
        .path_commits(
            "acme/checkout",
            "checkout/payment.js",
            Some(&head),
            Some(T0 - Span::days(10)),
        )
        .await
        .expect("commits");
    assert_eq!(touching.len(), 1);
    assert_eq!(touching[0].prs, [417]);
}

#[tokio::test]
async fn sentry_suspect_commits_raise_the_pr_that_holds_them() {
    let world = frozen(120.0).await;
    let gh = github(&world);
    let first_seen = T0 + Span::seconds(86);
    let inc = incident("CHECKOUT-4C", first_seen);
    let ev = refunds_event(Some("checkout@2.14.0"));
    let plain = gh
        .suspects(&inc, Some(&ev), "acme/checkout", "production", first_seen)
        .await
        .expect("suspects");
    let head = world_head(&world).await;
    let cmp = gh
        .compare("acme/checkout", "v2.13.2", &head)
        .await
        .expect("compare");
    let sha416 = cmp
        .commits
        .iter()
        .find(|c| c.prs == [416])
        .map(|c| c.sha[..12].to_string())
        .expect("the commit of #416");
    let with = gh
        .suspects_with(
            &inc,
            Some(&ev),
            "acme/checkout",
            "production",
            &flightdeck::domain::SentryCommits {
                suspects: vec![sha416, "short".into()],
                release: Vec::new(),
            },
            first_seen,
        )
        .await
        .expect("suspects");
    assert_eq!(with[0].pr, Some(416));
    assert!(with[0].score > plain[0].score);
    assert!(
        with[0].evidence.iter().any(|e| e.contains("Sentry")),
        "{with:#?}"
    );
}

#[tokio::test]
async fn the_regression_test_pr_opens_in_the_demo_world_once() {
    use flightdeck::sources::github::regression::{Step, TestPr, branch_for};
    let world = frozen(120.0).await;
    let gh = github(&world);
    let req = TestPr {
        repo: "acme/checkout".into(),
        branch: branch_for("CHECKOUT-4C"),
        path: "worker/tests/test_regression_checkout_4c.py".into(),
        contents: "import pytest\n".into(),
        commit_message: "Regression test for CHECKOUT-4C".into(),
        title: "Regression test for CHECKOUT-4C".into(),
        body: "ZeroDivisionError in split_refund".into(),
    };
    let first = gh.open_test_pr(&req).await.expect("opened");
    assert_eq!(
        (first.branch, first.file, first.pr, first.label),
        (Step::Created, Step::Created, Step::Created, Step::Created)
    );
    assert_eq!(first.base.as_deref(), Some("main"));
    assert_eq!(first.pr_number, Some(423));
    let file = gh
        .file("acme/checkout", &req.path, Some(&req.branch))
        .await
        .expect("read")
        .expect("on the branch");
    assert_eq!(file.text(), req.contents);
    // The second run finds everything in place and sends no write.
    let writes = world.github_mutations().len();
    let again = gh.open_test_pr(&req).await.expect("found");
    assert_eq!(
        (again.branch, again.file, again.pr, again.label),
        (Step::Already, Step::Already, Step::Already, Step::Already)
    );
    assert_eq!(again.pr_number, Some(423));
    assert_eq!(world.github_mutations().len(), writes);
    // A changed test updates the file (with its sha) and the PR's text, nothing is duplicated.
    let changed = TestPr {
        contents: "import pytest  # v2\n".into(),
        body: "ZeroDivisionError in split_refund (v2)".into(),
        ..req.clone()
    };
    let third = gh.open_test_pr(&changed).await.expect("updated");
    assert_eq!(
        (third.branch, third.file, third.pr, third.label),
        (Step::Already, Step::Updated, Step::Updated, Step::Already)
    );
    assert_eq!(third.pr_number, Some(423));
    let m = world.github_mutations();
    let kinds: Vec<String> = m[writes..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        kinds,
        [
            "PUT /repos/acme/checkout/contents/worker/tests/test_regression_checkout_4c.py",
            "PATCH /repos/acme/checkout/pulls/423",
        ]
    );
    assert!(
        m[writes].body.contains("\"sha\""),
        "an update names the sha"
    );
}

#[tokio::test]
async fn the_demos_checkout_4c_read_from_its_sentry_suspects_pr_416() {
    use flightdeck::domain::SourceData;
    use flightdeck::sources::sentry::Sentry;
    let world = frozen(120.0).await;
    let cfg = Config::parse(&world.config_toml(), "demo").expect("the demo config parses");
    let http = Http::new(Duration::from_secs(10)).expect("HTTP client");
    let mut sentry = Sentry::new(http, &cfg.sentry.expect("[sentry]"), None);
    let SourceData::Sentry(incidents) = sentry.poll().await.expect("a poll") else {
        panic!("Sentry data");
    };
    let inc = incidents
        .iter()
        .find(|i| i.short_id == "CHECKOUT-4C")
        .expect("the Python incident");
    assert_eq!(inc.first_seen, Some(T0 + Span::seconds(86)));
    let ev = sentry.latest_event(&inc.id).await.expect("latest event");
    let gh = github(&world);
    let out = gh
        .suspects(
            inc,
            Some(&ev),
            "acme/checkout",
            "production",
            T0 + Span::seconds(120),
        )
        .await
        .expect("suspects");
    assert_eq!(out[0].pr, Some(416), "{out:#?}");
    assert_eq!(
        out[0].evidence[0],
        "PR #416 in that deploy changed `worker/refunds.py`, which holds 2 of the 3 in-app \
         frames, the crash frame among them"
    );
    // The crash frame maps onto the repository's file, whose line is the one Sentry quotes.
    let crash = ev.crash_frame().expect("crash frame");
    let tree = gh.tree("acme/checkout", "main").await.expect("tree");
    let mapped: Vec<&String> = tree
        .paths
        .iter()
        .filter(|p| flightdeck::analysis::suspect::frame_in(crash, p))
        .collect();
    assert_eq!(mapped, ["worker/refunds.py"]);
    let file = gh
        .file("acme/checkout", mapped[0], None)
        .await
        .expect("read")
        .expect("present");
    let line = crash.line.expect("line") as usize;
    let quoted = crash
        .context
        .iter()
        .find(|(n, _)| *n as usize == line)
        .map(|(_, t)| t.as_str())
        .expect("the crash line in the context");
    assert_eq!(file.text().lines().nth(line - 1), Some(quoted));
}

/// The commits Sentry lists for the event's release ("List an Organization Release's Commits",
/// `[{dateCreated, id, message}]`): the demo's checkout@2.14.0 holds #417's commit and the
/// release's own; an unknown release is none (404). They add evidence to the PR that holds them.
#[tokio::test]
async fn the_release_commits_sentry_lists_add_their_evidence() {
    use flightdeck::sources::sentry::Sentry;
    let world = frozen(120.0).await;
    let cfg = Config::parse(&world.config_toml(), "demo").expect("the demo config parses");
    let http = Http::new(Duration::from_secs(10)).expect("HTTP client");
    let sentry = Sentry::new(http, &cfg.sentry.expect("[sentry]"), None);
    let listed = sentry
        .release_commits("checkout@2.14.0")
        .await
        .expect("release commits");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|s| s.len() == 40), "{listed:?}");
    assert!(
        sentry
            .release_commits("checkout@9.9.9")
            .await
            .expect("a 404 is no commits")
            .is_empty()
    );
    let gh = github(&world);
    let first_seen = T0 + Span::seconds(83);
    let inc = incident("CHECKOUT-3F", first_seen);
    let ev = payment_event();
    let hints = sentry.commit_hints(Some(&ev)).await;
    assert_eq!(hints.release, listed);
    let plain = gh
        .suspects(&inc, Some(&ev), "acme/checkout", "production", first_seen)
        .await
        .expect("suspects");
    let with = gh
        .suspects_with(
            &inc,
            Some(&ev),
            "acme/checkout",
            "production",
            &hints,
            first_seen,
        )
        .await
        .expect("suspects");
    assert_eq!(with[0].pr, Some(417), "{with:#?}");
    assert!(with[0].score > plain[0].score);
    assert!(
        with[0]
            .evidence
            .iter()
            .any(|e| e == "Sentry's release checkout@2.14.0 lists its commits"),
        "{:?}",
        with[0].evidence
    );
    world.shutdown();
}
