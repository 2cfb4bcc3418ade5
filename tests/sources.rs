//! The real source clients against the demo world (and a few tiny misbehaving servers) over
//! loopback HTTP: what the runtime builds, end to end. No fixtures needed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flightdeck::config::{Config, GitHubConfig, PrometheusConfig};
use flightdeck::domain::{
    Incident, PullRequest, RunState, ServiceRollout, SourceData, SourceId, WorkflowRun,
};
use flightdeck::sim::{SimOptions, SimWorld};
use flightdeck::sources::SourceError;
use flightdeck::sources::github::GitHub;
use flightdeck::sources::http::Http;
use flightdeck::sources::poller::{self, AnySource, PollEvent};
use flightdeck::sources::prometheus::Prometheus;
use flightdeck::sources::sentry::Sentry;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Every network wait in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Helpers

/// A demo world frozen at scenario second `t`.
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

fn config(world: &SimWorld) -> Config {
    Config::parse(&world.config_toml(), "demo").expect("the demo config parses")
}

fn http() -> Http {
    Http::new(Duration::from_secs(10)).expect("HTTP client")
}

fn github_config(world: &SimWorld) -> GitHubConfig {
    config(world).github.expect("demo config has [github]")
}

fn github(world: &SimWorld) -> GitHub {
    GitHub::new(http(), &github_config(world), None)
}

fn prometheus(world: &SimWorld) -> Prometheus {
    let cfg = config(world);
    Prometheus::new(
        http(),
        cfg.prometheus
            .as_ref()
            .expect("demo config has [prometheus]"),
        &cfg.services,
    )
    .expect("Prometheus client")
}

fn sentry(world: &SimWorld) -> Sentry {
    let cfg = config(world);
    Sentry::new(
        http(),
        cfg.sentry.as_ref().expect("demo config has [sentry]"),
        None,
    )
}

async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    timeout(LIMIT, f)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {LIMIT:?}"))
}

fn github_data(d: SourceData) -> (Vec<PullRequest>, Vec<WorkflowRun>) {
    match d {
        SourceData::GitHub { prs, runs, .. } => (
            prs.into_iter()
                .map(std::sync::Arc::unwrap_or_clone)
                .collect(),
            runs,
        ),
        other => panic!("expected GitHub data, got {other:?}"),
    }
}

fn rollouts(d: SourceData) -> Vec<ServiceRollout> {
    match d {
        SourceData::Prometheus(r) => r,
        other => panic!("expected Prometheus data, got {other:?}"),
    }
}

fn incidents(d: SourceData) -> Vec<Incident> {
    match d {
        SourceData::Sentry(i) => i,
        other => panic!("expected Sentry data, got {other:?}"),
    }
}

fn service<'a>(r: &'a [ServiceRollout], name: &str) -> &'a ServiceRollout {
    r.iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name} in {r:?}"))
}

/// Serve `router` on 127.0.0.1 (ephemeral port); returns its base URL.
async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    serve_on(listener, router)
}

fn serve_on(listener: TcpListener, router: Router) -> String {
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

/// A GitHub config for `api_url` and `repos`, otherwise the demo's.
fn github_at(api_url: &str, repos: &[&str], max_items: usize) -> GitHubConfig {
    GitHubConfig {
        api_url: api_url.to_string(),
        repos: repos.iter().map(|r| r.to_string()).collect(),
        token_command: None,
        anonymous: true,
        max_items,
    }
}

async fn github_poll_err(cfg: &GitHubConfig, http: Http) -> SourceError {
    let mut gh = GitHub::new(http, cfg, None);
    match bounded("GitHub poll", gh.poll()).await {
        Ok(d) => panic!("expected an error, got {d:?}"),
        Err(e) => e,
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

// ---------------------------------------------------------------------------------------------
// GitHub

/// Requests of one GitHub poll of the demo world at t=0: per repo the PR list (GraphQL, one page)
/// and the runs list (REST), and the held run's pending deployments.
const DEMO_POLL_REQUESTS: u64 = 1 + 2 + 1;
/// Of those, the REST ones: a conditional request each, a 304 when nothing moved.
const DEMO_POLL_REST: u64 = 2 + 1;

#[tokio::test]
async fn github_poll_reads_the_demo_prs_and_runs() {
    let world = frozen(0.0).await;
    let mut gh = github(&world);
    let (prs, runs) = github_data(bounded("GitHub poll", gh.poll()).await.expect("poll"));

    let mut numbers: Vec<(String, u64)> = prs.iter().map(|p| (p.repo.clone(), p.number)).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        [
            ("acme/checkout".to_string(), 412),
            ("acme/checkout".to_string(), 415),
            ("acme/checkout".to_string(), 418),
            ("acme/checkout".to_string(), 419),
            ("acme/checkout".to_string(), 421),
            ("acme/web".to_string(), 88),
            ("acme/web".to_string(), 90),
            ("acme/web".to_string(), 91),
        ]
    );
    assert!(runs.len() >= 7, "{} runs", runs.len());
    // Newest first.
    assert!(runs.windows(2).all(|w| w[0].started_at >= w[1].started_at));

    // The title of #418 carries raw ANSI colour codes on the wire.
    let pr418 = prs.iter().find(|p| p.number == 418).expect("#418");
    assert_eq!(pr418.title, "fix: colour bleed in receipt emails");
    for p in &prs {
        assert!(!p.title.contains('\x1b'), "unsanitised title {:?}", p.title);
        assert!(!p.body.contains('\x1b'), "unsanitised body {:?}", p.body);
    }
    let draft: Vec<u64> = prs.iter().filter(|p| p.draft).map(|p| p.number).collect();
    assert_eq!(draft.len(), 2, "#419 and #91 are drafts: {draft:?}");
    assert!(draft.contains(&419) && draft.contains(&91));

    let deploy = runs
        .iter()
        .find(|r| r.repo == "acme/checkout" && r.workflow == "Deploy")
        .expect("checkout Deploy run");
    assert_eq!(deploy.state, RunState::Waiting);
    let failed = runs
        .iter()
        .find(|r| r.branch == "fix/colour-bleed")
        .expect("CI of #418");
    assert_eq!(failed.state, RunState::Failure);
    assert!(runs.iter().all(|r| r.started_at.is_some()));
    // One GraphQL request for both repos' PR lists, a runs list per repo and the held run's
    // pending deployments: nothing per PR.
    assert_eq!(world.requests().github, DEMO_POLL_REQUESTS);
    assert_eq!(
        world.graphql_requests().len(),
        1,
        "one GraphQL request for every repo"
    );
    assert_eq!(gh.requests(), DEMO_POLL_REQUESTS);
    let held = runs
        .iter()
        .find(|r| r.state == RunState::Waiting)
        .expect("the held deployment");
    assert_eq!(held.pending.len(), 1);
    assert_eq!(held.pending[0].environment, "production");
    assert!(held.pending[0].can_approve);
    // Per-PR facts, from the GraphQL page.
    let pr = |n: u64| prs.iter().find(|p| p.number == n).unwrap();
    assert_eq!(pr(418).checks.unwrap().failed, 1, "#418's CI failed");
    assert_eq!(pr(418).mergeable.as_deref(), Some("unstable"));
    assert_eq!(
        pr(418).review,
        Some(flightdeck::domain::ReviewDecision::Approved),
        "mara-k's later approval replaces her earlier request for changes"
    );
    assert_eq!(
        pr(415).review,
        Some(flightdeck::domain::ReviewDecision::ChangesRequested)
    );
    assert_eq!(pr(421).mergeable.as_deref(), Some("dirty"));
    assert!(pr(412).checks.unwrap().failed == 0 && pr(412).checks.unwrap().passed > 0);
    assert!(
        prs.iter()
            .all(|p| p.additions.is_some() && p.review.is_some())
    );
}

#[tokio::test]
async fn github_second_poll_is_answered_by_304s() {
    let world = frozen(0.0).await;
    let mut gh = github(&world);
    let first = bounded("first poll", gh.poll()).await.expect("first poll");
    let before = world.requests();
    let cached_before = gh.not_modified();
    assert_eq!(before.github_not_modified, 0);
    assert_eq!(cached_before, 0);

    let second = bounded("second poll", gh.poll())
        .await
        .expect("second poll");
    let after = world.requests();
    let sent = after.github - before.github;
    let not_modified = after.github_not_modified - before.github_not_modified;
    assert_eq!(sent, DEMO_POLL_REQUESTS);
    assert_eq!(
        not_modified, DEMO_POLL_REST,
        "every REST request of the second poll is a 304"
    );
    assert_eq!(gh.not_modified() - cached_before, DEMO_POLL_REST);
    assert_eq!(
        github_data(second.clone()),
        github_data(first),
        "the second poll returns the same PRs and runs (only GraphQL's points moved)"
    );

    // The rate limit is not charged for 304s: the remaining count did not move.
    let SourceData::GitHub { rate, .. } = &second else {
        unreachable!()
    };
    let rate = rate.expect("x-ratelimit-* read");
    assert_eq!(rate.limit, 5000);
    assert_eq!(
        rate.remaining,
        5000 - DEMO_POLL_REST,
        "GraphQL spends its own points"
    );
}

#[tokio::test]
async fn github_max_items_caps_each_list_against_the_demo() {
    let world = frozen(0.0).await;
    let mut cfg = github_config(&world);
    cfg.max_items = 3;
    let mut gh = GitHub::new(http(), &cfg, None);
    let (prs, runs) = github_data(bounded("GitHub poll", gh.poll()).await.expect("poll"));
    let of = |repo: &str| -> Vec<u64> {
        prs.iter()
            .filter(|p| p.repo == repo)
            .map(|p| p.number)
            .collect()
    };
    // first/per_page=3: the first page already holds 3 (newest activity first), so no second page
    // is fetched.
    assert_eq!(of("acme/checkout"), [415, 418, 412]);
    assert_eq!(of("acme/web"), [88, 91, 90]);
    assert_eq!(runs.iter().filter(|r| r.repo == "acme/checkout").count(), 3);
    assert_eq!(runs.iter().filter(|r| r.repo == "acme/web").count(), 2);
    // One GraphQL page for both repos, a runs page per repo and the held run's pending
    // deployments.
    assert_eq!(world.requests().github, 1 + 2 + 1, "one page per list");
}

/// A GitHub stand-in that pages 2 items at a time whatever `per_page` says, linking pages with
/// an opaque `cursor` the client can only learn from `Link`.
#[derive(Clone)]
struct Pager {
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

fn page_of(
    p: &Pager,
    path: &str,
    query: Option<String>,
    items: Vec<Value>,
) -> (Vec<Value>, HeaderMap) {
    let query = query.unwrap_or_default();
    p.log.lock().unwrap().push(format!("{path}?{query}"));
    let page: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("cursor=c"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let last = items.len().div_ceil(2);
    let slice = items.into_iter().skip((page - 1) * 2).take(2).collect();
    let mut h = HeaderMap::new();
    if page < last {
        let link = format!(
            "<{base}{path}?cursor=c{next}>; rel=\"next\", <{base}{path}?cursor=c{last}>; rel=\"last\"",
            base = p.base,
            next = page + 1
        );
        h.insert("link", link.parse().unwrap());
    }
    (slice, h)
}

/// The PR list in GraphQL pages of 2 whatever `first` says; `endCursor` "cN" means "after page N".
async fn pager_graphql(State(p): State<Pager>, axum::Json(body): axum::Json<Value>) -> Response {
    let vars = &body["variables"];
    let after = vars["after0"].as_str().map(str::to_string);
    p.log.lock().unwrap().push(format!(
        "/graphql first={} after={}",
        vars["first"],
        after.as_deref().unwrap_or("-")
    ));
    let page: usize = after
        .as_deref()
        .and_then(|c| c.strip_prefix('c'))
        .and_then(|n| n.parse().ok())
        .map_or(1, |n: usize| n + 1);
    let nodes: Vec<Value> = (1..=5u64)
        .skip((page - 1) * 2)
        .take(2)
        .map(|n| {
            // #1 is the newest activity, as GitHub orders the list.
            json!({"number": n, "title": format!("PR {n}"), "author": {"login": "x"},
                   "updatedAt": format!("2026-11-23T09:{:02}:00Z", 59 - n)})
        })
        .collect();
    let more = page < 3;
    axum::Json(json!({"data": {
        "rateLimit": {"cost": 1, "limit": 5000, "remaining": 4999, "resetAt": "2026-11-23T10:00:00Z"},
        "r0": {"pullRequests": {
            "totalCount": 5,
            "pageInfo": {"hasNextPage": more, "endCursor": if more { Value::from(format!("c{page}")) } else { Value::Null }},
            "nodes": nodes,
        }}
    }}))
    .into_response()
}

async fn pager_runs(State(p): State<Pager>, RawQuery(q): RawQuery) -> Response {
    let items = (1..=5)
        .map(|n| json!({"id": 100 + n, "run_number": n, "status": "completed", "conclusion": "success", "name": "CI"}))
        .collect();
    let (slice, h) = page_of(&p, "/repos/o/r/actions/runs", q, items);
    (
        h,
        axum::Json(json!({"total_count": 5, "workflow_runs": slice})),
    )
        .into_response()
}

async fn pager() -> Pager {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let p = Pager {
        base,
        log: Arc::default(),
    };
    let router = Router::new()
        .route("/graphql", axum::routing::post(pager_graphql))
        .route("/repos/o/r/actions/runs", get(pager_runs))
        .with_state(p.clone());
    serve_on(listener, router);
    p
}

#[tokio::test]
async fn github_follows_link_next_until_max_items() {
    let p = pager().await;

    // Enough room: every page is fetched by following rel="next".
    let mut gh = GitHub::new(http(), &github_at(&p.base, &["o/r"], 30), None);
    let (prs, runs) = github_data(bounded("GitHub poll", gh.poll()).await.expect("poll"));
    assert_eq!(
        prs.iter().map(|p| p.number).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(runs.len(), 5);
    // The PR list and the run list are fetched side by side; each follows its own links in order.
    let of = |log: &[String], prefix: &str| -> Vec<String> {
        log.iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    };
    let log = p.log.lock().unwrap().clone();
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(
        of(&log, "/graphql"),
        [
            "/graphql first=30 after=-",
            "/graphql first=28 after=c1",
            "/graphql first=26 after=c2",
        ]
    );
    assert_eq!(
        of(&log, "/repos/o/r/actions"),
        [
            "/repos/o/r/actions/runs?per_page=30",
            "/repos/o/r/actions/runs?cursor=c2",
            "/repos/o/r/actions/runs?cursor=c3",
        ]
    );

    // max_items = 3: page 1 (2 items) is not enough, page 2 makes 4, so it stops and keeps 3.
    p.log.lock().unwrap().clear();
    let mut gh = GitHub::new(http(), &github_at(&p.base, &["o/r"], 3), None);
    let (prs, runs) = github_data(bounded("GitHub poll", gh.poll()).await.expect("poll"));
    assert_eq!(prs.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        runs.iter().map(|r| r.run_number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let log = p.log.lock().unwrap().clone();
    assert_eq!(
        of(&log, "/graphql"),
        ["/graphql first=3 after=-", "/graphql first=1 after=c1"]
    );
    assert_eq!(
        of(&log, "/repos/o/r/actions"),
        [
            "/repos/o/r/actions/runs?per_page=3",
            "/repos/o/r/actions/runs?cursor=c2",
        ]
    );
    // 4 list pages and nothing per PR: the GraphQL page carries checks, reviews and mergeability.
    assert_eq!(gh.requests(), 4);
}

// ---------------------------------------------------------------------------------------------
// Prometheus and Sentry

/// The demo running (not frozen: its minutes before the rollout are the stable version alone):
/// below 100 % the error ratio comes with the stable's own counts from before the rollout began,
/// the judge's second reference, through the real client.
#[tokio::test]
async fn prometheus_reads_the_stables_counts_before_the_rollout_in_the_running_demo() {
    let world = flightdeck::sim::start(SimOptions {
        speed: 1.0,
        start_at_secs: 10.0,
        anchor_now: false,
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts");
    let mut prom = prometheus(&world);
    let r = rollouts(bounded("Prometheus poll", prom.poll()).await.expect("poll"));
    let checkout = service(&r, "checkout");
    assert_eq!(checkout.weight, Some(10.0));
    let err = checkout
        .metrics
        .iter()
        .find(|m| m.name == "error_rate")
        .expect("error_rate");
    assert!(
        err.in_rollout.is_some(),
        "the rollout's start is in the lookback"
    );
    let (requests, errors) = err.prior.expect("the stable's counts before the rollout");
    assert!(
        requests > 0.0 && (0.0..=requests).contains(&errors),
        "{:?}",
        err.prior
    );
}

#[tokio::test]
async fn prometheus_reads_the_rollout_before_and_after_the_regression() {
    let world = frozen(10.0).await;
    let mut prom = prometheus(&world);
    let r = rollouts(bounded("Prometheus poll", prom.poll()).await.expect("poll"));
    assert_eq!(r.len(), 2);
    let checkout = service(&r, "checkout");
    assert_eq!(checkout.weight, Some(10.0));
    assert!(checkout.production);
    assert_eq!(checkout.slices, [10, 25, 50, 100]);
    let err = checkout
        .metrics
        .iter()
        .find(|m| m.name == "error_rate")
        .expect("error_rate");
    assert_eq!(err.error, None);
    let canary = err.canary.expect("canary value");
    assert!(canary < 0.005, "canary error rate {canary} at t=10");
    assert_eq!(err.breached(), Some(false));
    assert!(checkout.metrics.iter().all(|m| m.error.is_none()));
    assert_eq!(service(&r, "web").weight, Some(10.0));
    drop(world);

    let world = frozen(100.0).await;
    let mut prom = prometheus(&world);
    let r = rollouts(bounded("Prometheus poll", prom.poll()).await.expect("poll"));
    let checkout = service(&r, "checkout");
    assert_eq!(checkout.weight, Some(50.0));
    let err = checkout
        .metrics
        .iter()
        .find(|m| m.name == "error_rate")
        .expect("error_rate");
    let canary = err.canary.expect("canary value");
    let baseline = err.baseline.expect("baseline value");
    assert!(canary > 0.005, "canary error rate {canary} at t=100");
    assert!(baseline < 0.005, "baseline error rate {baseline} at t=100");
    assert_eq!(err.breached(), Some(true));
    let p99 = checkout
        .metrics
        .iter()
        .find(|m| m.name == "p99_ms")
        .expect("p99_ms");
    assert!(
        p99.canary.is_some_and(|v| v > 200.0 && v < 500.0),
        "{p99:?}"
    );
}

#[tokio::test]
async fn sentry_incident_appears_after_t83() {
    let amount = |i: &Incident| i.title.contains("'amount'") && i.title.starts_with("TypeError");

    let world = frozen(60.0).await;
    let mut s = sentry(&world);
    let before = incidents(bounded("Sentry poll", s.poll()).await.expect("poll"));
    assert!(!before.is_empty(), "older incidents exist before t=83");
    assert!(!before.iter().any(amount), "{before:?}");
    drop(world);

    let world = frozen(100.0).await;
    let mut s = sentry(&world);
    let after = incidents(bounded("Sentry poll", s.poll()).await.expect("poll"));
    let incident = after
        .iter()
        .find(|i| amount(i))
        .expect("the TypeError incident");
    assert_eq!(incident.short_id, "CHECKOUT-3F");
    assert_eq!(incident.project, "checkout");
    assert!(incident.count > 0);
    assert!(incident.first_seen.is_some() && incident.last_seen >= incident.first_seen);
    assert!(world.requests().sentry >= 2, "one list per project");
}

// ---------------------------------------------------------------------------------------------
// Errors

#[tokio::test]
async fn closed_port_is_a_connect_error_naming_the_host() {
    let err = github_poll_err(
        &github_at("http://127.0.0.1:9", &["acme/checkout"], 30),
        http(),
    )
    .await;
    assert!(matches!(err, SourceError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
}

#[tokio::test]
async fn unknown_repo_is_http_404_not_found() {
    let world = frozen(0.0).await;
    let err = github_poll_err(&github_at(&world.github_url, &["acme/nope"], 30), http()).await;
    assert_eq!(
        err,
        SourceError::Status {
            status: 404,
            message: "Could not resolve to a Repository with the name 'acme/nope'.".into()
        }
    );
    assert!(err.to_string().starts_with("HTTP 404: "), "{err}");
}

#[tokio::test]
async fn html_502_page_is_described_as_such() {
    let url = serve(Router::new().fallback(|| async {
        (
            StatusCode::BAD_GATEWAY,
            [("content-type", "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
        )
    }))
    .await;
    let err = github_poll_err(&github_at(&url, &["o/r"], 30), http()).await;
    assert!(
        matches!(err, SourceError::Status { status: 502, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("HTML error page"), "{err}");
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let url = serve(Router::new().fallback(|| async {
        (
            [("content-type", "application/json")],
            r#"[{"number": 1, "title": "#,
        )
    }))
    .await;
    let err = github_poll_err(&github_at(&url, &["o/r"], 30), http()).await;
    let SourceError::Decode(text) = &err else {
        panic!("expected Decode, got {err:?}");
    };
    assert!(text.contains("pull requests of o/r"), "{text}");
}

#[tokio::test]
async fn slow_server_is_a_timeout() {
    let url = serve(Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "[]"
    }))
    .await;
    let quick = Http::new(Duration::from_millis(300)).expect("HTTP client");
    let started = std::time::Instant::now();
    let err = github_poll_err(&github_at(&url, &["o/r"], 30), quick).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let SourceError::Timeout { host, .. } = &err else {
        panic!("expected Timeout, got {err:?}");
    };
    assert_eq!(format!("http://{host}"), url);
    assert!(
        err.to_string().starts_with("no answer from 127.0.0.1:"),
        "{err}"
    );
}

/// A Prometheus that answers the weight and baseline queries but rejects every canary query
/// with 400 bad_data.
async fn picky_prometheus(Query(q): Query<HashMap<String, String>>) -> Response {
    let query = q.get("query").cloned().unwrap_or_default();
    let value = |v: &str| {
        axum::Json(json!({
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1_795_424_400.0, v]}]}
        }))
    };
    if query.contains("flagger_canary_weight") {
        value("25").into_response()
    } else if query.contains(r#"track="canary""#) {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "status": "error",
                "errorType": "bad_data",
                "error": "invalid parameter \"query\": 1:1: parse error: unexpected character"
            })),
        )
            .into_response()
    } else {
        value("0.002").into_response()
    }
}

#[tokio::test]
async fn prometheus_bad_query_fails_only_its_metric() {
    let world = frozen(0.0).await;
    let services = config(&world).services;
    let url = serve(
        Router::new()
            .route("/api/v1/query", get(picky_prometheus))
            .route("/api/v1/query_range", get(picky_prometheus)),
    )
    .await;
    let cfg = PrometheusConfig {
        url,
        auth: None,
        headers: Default::default(),
    };
    let mut prom = Prometheus::new(http(), &cfg, &services).expect("client");
    let r = rollouts(
        bounded("Prometheus poll", prom.poll())
            .await
            .expect("the poll as a whole is Ok"),
    );
    assert_eq!(r.len(), 2);
    for svc in &r {
        assert_eq!(svc.weight, Some(25.0), "{}", svc.name);
        assert_eq!(svc.metrics.len(), 2);
        for m in &svc.metrics {
            let e = m
                .error
                .as_deref()
                .unwrap_or_else(|| panic!("{}: no error", m.name));
            assert!(e.contains("bad_data"), "{e}");
            assert!(e.contains("parse error"), "{e}");
            assert_eq!(m.canary, None, "{}", m.name);
            // The other query of the metric still shows.
            assert_eq!(m.baseline, Some(0.002), "{}", m.name);
            assert_eq!(m.breached(), None);
        }
    }
}

/// A Prometheus whose canary weight has been 25 % for as long as anyone can see (every answer a
/// single point), counting the weight's queries.
async fn steady_prometheus(
    State(weight_reads): State<Arc<AtomicUsize>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let query = q.get("query").cloned().unwrap_or_default();
    let v = if query.contains("flagger_canary_weight") {
        weight_reads.fetch_add(1, Ordering::SeqCst);
        "25"
    } else {
        "0.002"
    };
    axum::Json(json!({
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1_795_424_400.0, v]}]}
    }))
    .into_response()
}

/// Below 100 %, a rollout older than the lookback has its start looked up on the longer series
/// (for the stable's counts before it); found or not there, it is not looked up again at the
/// next poll.
#[tokio::test]
async fn prometheus_looks_for_an_old_rollouts_start_once() {
    let world = frozen(0.0).await;
    let services = config(&world).services;
    let reads = Arc::new(AtomicUsize::new(0));
    let url = serve(
        Router::new()
            .route("/api/v1/query", get(steady_prometheus))
            .route("/api/v1/query_range", get(steady_prometheus))
            .with_state(reads.clone()),
    )
    .await;
    let cfg = PrometheusConfig {
        url,
        auth: None,
        headers: Default::default(),
    };
    let prom = Prometheus::new(http(), &cfg, &services).expect("client");
    let counted = services
        .iter()
        .filter(|s| s.metrics.values().any(|m| m.counted()))
        .count();
    assert!(
        counted > 0,
        "the demo's services judge a ratio on its counts"
    );
    let mut per_poll = Vec::new();
    for k in 0..3 {
        let before = reads.load(Ordering::SeqCst);
        let now = 1_795_424_400.0 + 5.0 * k as f64;
        let r = rollouts(
            bounded("Prometheus poll", prom.poll_at(now))
                .await
                .expect("a poll"),
        );
        assert!(r.iter().all(|s| s.weight == Some(25.0)));
        per_poll.push(reads.load(Ordering::SeqCst) - before);
    }
    // The first poll reads the lookback and the longer series; the next ones the lookback only.
    assert_eq!(per_poll[0], services.len() + counted, "{per_poll:?}");
    assert_eq!(per_poll[1], services.len(), "{per_poll:?}");
    assert_eq!(per_poll[2], services.len(), "{per_poll:?}");
}

// ---------------------------------------------------------------------------------------------
// Rate limits

#[tokio::test]
async fn rate_limit_reset_and_retry_after_are_honoured() {
    let url = serve(Router::new().fallback(|| async {
        let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 7;
        (
            StatusCode::FORBIDDEN,
            [
                ("content-type", "application/json".to_string()),
                ("x-ratelimit-limit", "60".to_string()),
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-reset", reset.to_string()),
            ],
            r#"{"message":"API rate limit exceeded for 127.0.0.1."}"#,
        )
    }))
    .await;
    let before = unix_now();
    let err = github_poll_err(&github_at(&url, &["o/r"], 30), http()).await;
    let SourceError::RateLimited { retry_after_secs } = err else {
        panic!("expected RateLimited, got {err:?}");
    };
    assert!(
        (6..=8).contains(&retry_after_secs),
        "{retry_after_secs} s (started at {before})"
    );
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(retry_after_secs))
    );

    let url = serve(Router::new().fallback(|| async {
        (
            StatusCode::FORBIDDEN,
            [("retry-after", "3")],
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
        )
    }))
    .await;
    let err = github_poll_err(&github_at(&url, &["o/r"], 30), http()).await;
    assert_eq!(
        err,
        SourceError::SecondaryLimit {
            retry_after_secs: 3
        }
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(err.to_string(), "secondary rate limit; next try in 3 s");
}

// ---------------------------------------------------------------------------------------------
// Poller

async fn next_event(rx: &mut mpsc::UnboundedReceiver<PollEvent>, within: Duration) -> PollEvent {
    timeout(within, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no poll event within {within:?}"))
        .expect("poller channel open")
}

#[tokio::test]
async fn poller_polls_and_refresh_polls_again_promptly() {
    let world = frozen(0.0).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<PollEvent>();
    let p = poller::spawn(
        AnySource::GitHub(Box::new(github(&world))),
        Duration::from_secs(60),
        true,
        tx,
        None,
    );
    assert_eq!(p.source, SourceId::GitHub);

    let ev = next_event(&mut rx, LIMIT).await;
    assert!(matches!(ev, PollEvent::Started(SourceId::GitHub)), "{ev:?}");
    let ev = next_event(&mut rx, LIMIT).await;
    let PollEvent::Finished { source, result, .. } = ev else {
        panic!("expected Finished, got {ev:?}");
    };
    assert_eq!(source, SourceId::GitHub);
    let (prs, _) = github_data(result.expect("first poll Ok"));
    assert_eq!(prs.len(), 8);
    let requests = world.requests().github;

    // Visible cadence is 20 s; refresh must not wait for it.
    let asked = std::time::Instant::now();
    p.refresh();
    let ev = next_event(&mut rx, Duration::from_secs(5)).await;
    assert!(matches!(ev, PollEvent::Started(SourceId::GitHub)), "{ev:?}");
    let ev = next_event(&mut rx, LIMIT).await;
    assert!(
        matches!(&ev, PollEvent::Finished { result: Ok(_), .. }),
        "{ev:?}"
    );
    assert!(asked.elapsed() < Duration::from_secs(5));
    // The refreshed poll was served by 304s.
    let now = world.requests();
    assert_eq!(now.github - requests, DEMO_POLL_REQUESTS);
    assert_eq!(now.github_not_modified, DEMO_POLL_REST);

    // Nothing more until the cadence (or another refresh).
    assert!(
        timeout(Duration::from_millis(500), rx.recv())
            .await
            .is_err(),
        "unexpected poll without refresh"
    );
    p.stop();
}

/// A GitHub stand-in whose every answer takes 150 ms, counting requests in flight at once.
#[derive(Clone, Default)]
struct Slow {
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Slow {
    async fn answer(&self, body: Value) -> Response {
        let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        axum::Json(body).into_response()
    }
}

async fn slow_pulls(State(s): State<Slow>) -> Response {
    s.answer(json!({"data": {"r0": {"pullRequests": {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": false, "endCursor": null},
        "nodes": [],
    }}}}))
    .await
}

async fn slow_runs(State(s): State<Slow>) -> Response {
    s.answer(json!({"total_count": 0, "workflow_runs": []}))
        .await
}

#[tokio::test]
async fn poller_is_single_flight_under_refresh_storms() {
    let slow = Slow::default();
    let url = serve(
        Router::new()
            .route("/graphql", axum::routing::post(slow_pulls))
            .route("/repos/o/r/actions/runs", get(slow_runs))
            .with_state(slow.clone()),
    )
    .await;
    let gh = GitHub::new(http(), &github_at(&url, &["o/r"], 30), None);
    let (tx, mut rx) = mpsc::unbounded_channel::<PollEvent>();
    let p = poller::spawn(
        AnySource::GitHub(Box::new(gh)),
        Duration::from_secs(60),
        false,
        tx,
        None,
    );

    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    // Refresh hard while polls are in flight, for a few rounds.
    let mut storms = 0;
    while storms < 3 {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("poll events keep coming")
            .expect("channel open");
        if matches!(ev, PollEvent::Started(_)) {
            for _ in 0..5 {
                p.refresh();
            }
            storms += 1;
        }
        events.push(ev);
    }
    // Drain until quiet.
    while let Ok(Some(ev)) = timeout(Duration::from_millis(800), rx.recv()).await {
        events.push(ev);
        assert!(
            tokio::time::Instant::now() < deadline,
            "polls never settle: {events:?}"
        );
    }
    p.stop();

    let mut open = false;
    let mut started = 0;
    for ev in &events {
        match ev {
            PollEvent::Started(_) => {
                assert!(!open, "two Started without a Finished between: {events:?}");
                open = true;
                started += 1;
            }
            PollEvent::Finished { result, .. } => {
                assert!(open, "Finished without Started: {events:?}");
                assert!(result.is_ok(), "{result:?}");
                open = false;
            }
        }
    }
    assert!(!open, "last poll never finished: {events:?}");
    // Five refreshes during a poll collapse into one more poll: 1 + 3 storms = 4 polls (up to 7
    // if the test thread lags so far behind that a storm lands between polls); never 1 + 3 * 5.
    assert!((4..=7).contains(&started), "{started} polls: {events:?}");
    // Within one poll the PR and run lists are fetched together; two polls never overlap.
    assert!(
        slow.max_in_flight.load(Ordering::SeqCst) <= 2,
        "requests of two polls overlapped"
    );
}

/// A Prometheus behind a path prefix that insists on a tenant header and a bearer token.
async fn guarded_prometheus(
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let tenant = headers.get("x-scope-orgid").and_then(|v| v.to_str().ok());
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if tenant != Some("tenant-1") || auth != Some("Bearer prom-secret-token") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"status": "error", "errorType": "unauthorized", "error": "no"})),
        )
            .into_response();
    }
    let v = if q.get("query").is_some_and(|q| q.contains("weight")) {
        "50"
    } else {
        "0.001"
    };
    axum::Json(json!({
        "status": "success",
        "warnings": ["PromQL info: metric might not be a counter"],
        "data": {"resultType": "matrix", "result": [
            {"metric": {}, "values": [[1_795_424_400.0, v], [1_795_424_402.0, v]]}
        ]}
    }))
    .into_response()
}

#[tokio::test]
async fn prometheus_prefix_bearer_and_extra_headers() {
    let world = frozen(0.0).await;
    let services = config(&world).services;
    let url = serve(
        Router::new()
            .route("/prom/api/v1/query_range", get(guarded_prometheus))
            .route("/prom/api/v1/query", get(guarded_prometheus)),
    )
    .await;
    // SAFETY: set once, read by the client below; no other test reads this variable.
    unsafe { std::env::set_var("FLIGHTDECK_TEST_PROM_TOKEN", "prom-secret-token") };
    let mut headers = std::collections::BTreeMap::new();
    headers.insert("X-Scope-OrgID".to_string(), "tenant-1".to_string());
    let cfg = PrometheusConfig {
        url: format!("{url}/prom/"),
        auth: Some(flightdeck::config::PrometheusAuth {
            bearer_env: Some("FLIGHTDECK_TEST_PROM_TOKEN".into()),
            basic_user: None,
            basic_password_env: None,
        }),
        headers,
    };
    let mut prom = Prometheus::new(http(), &cfg, &services).expect("client");
    let r = rollouts(bounded("Prometheus poll", prom.poll()).await.expect("poll"));
    let checkout = r.iter().find(|s| s.name == "checkout").unwrap();
    assert_eq!(checkout.weight, Some(50.0));
    assert!(
        checkout
            .metrics
            .iter()
            .all(|m| m.error.is_none() && m.canary == Some(0.001))
    );
    assert_eq!(
        checkout.warnings,
        vec!["PromQL info: metric might not be a counter"]
    );
    // Without the header the same server refuses: the error names the auth problem.
    let cfg = PrometheusConfig {
        headers: Default::default(),
        ..cfg
    };
    let mut prom = Prometheus::new(http(), &cfg, &services).expect("client");
    let err = bounded("Prometheus poll", prom.poll()).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

/// A 200 whose body does not parse is never cached: its ETag is dropped, so the next poll asks for
/// the body again instead of being answered "not modified" with the same broken bytes.
#[tokio::test]
async fn github_never_replays_a_body_that_did_not_parse() {
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<Option<String>>>>);
    async fn runs(State(seen): State<Seen>, headers: HeaderMap) -> Response {
        let inm = headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let first = {
            let mut s = seen.0.lock().unwrap();
            s.push(inm.clone());
            s.len() == 1
        };
        if inm.as_deref() == Some("\"broken\"") {
            return StatusCode::NOT_MODIFIED.into_response();
        }
        if first {
            (
                [("etag", "\"broken\"")],
                "{\"total_count\": 1, \"workflow_runs\": [",
            )
                .into_response()
        } else {
            (
                [("etag", "\"good\"")],
                axum::Json(json!({"total_count": 0, "workflow_runs": []})),
            )
                .into_response()
        }
    }
    let seen = Seen::default();
    let url = serve(
        Router::new()
            .route("/repos/o/r/actions/runs", get(runs))
            .route("/graphql", axum::routing::post(empty_graphql))
            .with_state(seen.clone()),
    )
    .await;
    let mut gh = GitHub::new(http(), &github_at(&url, &["o/r"], 30), None);
    let first = bounded("first poll", gh.poll()).await;
    assert!(
        matches!(first, Err(SourceError::Decode(_))),
        "a cut body is a decode error: {first:?}"
    );
    let second = bounded("second poll", gh.poll()).await;
    assert!(second.is_ok(), "the next poll recovers: {second:?}");
    let seen = seen.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1], None, "the broken body's ETag was not sent again");
}

/// Sentry's spent window (403 or 429 with `X-Sentry-Rate-Limit-Remaining: 0`) is a wait until its
/// reset, not a bad token; a proxy's 429 in front of Prometheus stops the poll at its first query.
#[tokio::test]
async fn sentry_and_prometheus_rate_limits_are_waits_until_their_reset() {
    let reset = unix_now() + 120;
    let url = serve(Router::new().fallback(move || async move {
        (
            StatusCode::FORBIDDEN,
            [
                ("x-sentry-rate-limit-remaining", "0".to_string()),
                ("x-sentry-rate-limit-reset", reset.to_string()),
            ],
            "{\"detail\": \"You do not have permission\"}",
        )
    }))
    .await;
    let cfg = flightdeck::config::SentryConfig {
        url,
        org: "acme".into(),
        projects: vec!["checkout".into()],
        token_command: None,
        anonymous: true,
        environment: None,
        stats_period: "24h".into(),
        repos: Default::default(),
        path_map: Default::default(),
    };
    let mut sentry = Sentry::new(http(), &cfg, None);
    let err = bounded("Sentry poll", sentry.poll()).await.unwrap_err();
    match err {
        SourceError::RateLimited { retry_after_secs } => {
            assert!(
                (110..=121).contains(&retry_after_secs),
                "{retry_after_secs}"
            )
        }
        other => panic!("a spent window is a wait, not {other:?}"),
    }

    let world = frozen(0.0).await;
    let services = config(&world).services;
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let url = serve(Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "30")],
                "slow down",
            )
        }
    }))
    .await;
    let cfg = PrometheusConfig {
        url,
        auth: None,
        headers: Default::default(),
    };
    let mut prom = Prometheus::new(http(), &cfg, &services).expect("client");
    let err = bounded("Prometheus poll", prom.poll()).await.unwrap_err();
    assert_eq!(
        err,
        SourceError::RateLimited {
            retry_after_secs: 30
        }
    );
    let sent = hits.load(Ordering::SeqCst);
    assert!(
        sent <= services.len() * 2,
        "the poll stops at the limit instead of sending every query: {sent}"
    );
}

/// Bodies are asked for gzip-compressed (bastion links are slow) and read either way.
#[tokio::test]
async fn github_asks_for_gzip_and_reads_it() {
    const RUNS_GZ: &[u8] = &[
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 42, 201, 47, 73, 204, 137, 79, 206, 47, 205, 43,
        81, 178, 82, 48, 208, 81, 80, 42, 207, 47, 202, 78, 203, 201, 47, 143, 47, 42, 205, 43, 6,
        138, 69, 199, 214, 2, 0, 225, 171, 62, 231, 39, 0, 0, 0,
    ];
    async fn runs(headers: HeaderMap) -> Response {
        let gzip = headers
            .get("accept-encoding")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("gzip"));
        if !gzip {
            return (StatusCode::BAD_REQUEST, "ask for gzip").into_response();
        }
        (
            [
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            RUNS_GZ,
        )
            .into_response()
    }
    let url = serve(
        Router::new()
            .route("/graphql", axum::routing::post(empty_graphql))
            .route("/repos/o/r/actions/runs", get(runs)),
    )
    .await;
    let mut gh = GitHub::new(http(), &github_at(&url, &["o/r"], 30), None);
    let data = bounded("GitHub poll", gh.poll()).await;
    assert!(data.is_ok(), "{data:?}");
}

/// A GraphQL endpoint whose repository has no open PR.
async fn empty_graphql() -> Response {
    axum::Json(json!({"data": {
        "rateLimit": {"cost": 1, "limit": 5000, "remaining": 4999, "resetAt": "2026-11-23T10:00:00Z"},
        "r0": {"pullRequests": {
            "totalCount": 0,
            "pageInfo": {"hasNextPage": false, "endCursor": null},
            "nodes": [],
        }}
    }}))
    .into_response()
}

/// A poll that could read one repository of two shows that one and names the other with its
/// error; a rate limit stops the whole poll instead (every further request would be refused).
#[tokio::test]
async fn a_poll_that_reads_some_repositories_shows_them_and_names_the_rest() {
    async fn graphql(axum::Json(body): axum::Json<Value>) -> Response {
        // Repository `i` of the batch is `$name{i}`, answered under `r{i}`.
        let vars = &body["variables"];
        let names: Vec<&str> = (0..)
            .map_while(|i| vars[format!("name{i}")].as_str())
            .collect();
        if names.contains(&"limited") {
            return axum::Json(json!({
                "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]
            }))
            .into_response();
        }
        let mut data = serde_json::Map::new();
        let mut errors = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let key = format!("r{i}");
            if *name == "ok" {
                data.insert(
                    key,
                    json!({"pullRequests": {
                        "totalCount": 1,
                        "pageInfo": {"hasNextPage": false, "endCursor": null},
                        "nodes": [{"number": 7, "title": "still here", "author": {"login": "x"}}],
                    }}),
                );
            } else {
                data.insert(key.clone(), Value::Null);
                errors.push(json!({"type": "NOT_FOUND", "path": [key], "message": format!("Could not resolve to a Repository with the name 'o/{name}'.")}));
            }
        }
        let mut answer = json!({ "data": data });
        if !errors.is_empty() {
            answer["errors"] = Value::from(errors);
        }
        axum::Json(answer).into_response()
    }
    async fn runs() -> Response {
        axum::Json(json!({"total_count": 0, "workflow_runs": []})).into_response()
    }
    let url = serve(
        Router::new()
            .route("/graphql", axum::routing::post(graphql))
            .route("/repos/{owner}/{repo}/actions/runs", get(runs)),
    )
    .await;
    let mut gh = GitHub::new(http(), &github_at(&url, &["o/ok", "o/gone"], 30), None);
    let data = bounded("GitHub poll", gh.poll())
        .await
        .expect("a partial poll is a result");
    let SourceData::GitHub { prs, failed, .. } = data else {
        unreachable!()
    };
    assert_eq!(prs.iter().map(|p| p.number).collect::<Vec<_>>(), [7]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].repo, "o/gone");
    assert!(matches!(
        failed[0].error,
        SourceError::Status { status: 404, .. }
    ));

    let mut gh = GitHub::new(http(), &github_at(&url, &["o/gone"], 30), None);
    let err = bounded("GitHub poll", gh.poll()).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Status { status: 404, .. }),
        "nothing read: {err:?}"
    );

    let mut gh = GitHub::new(http(), &github_at(&url, &["o/limited", "o/ok"], 30), None);
    let before = gh.requests();
    let err = bounded("GitHub poll", gh.poll()).await.unwrap_err();
    assert!(matches!(err, SourceError::RateLimited { .. }), "{err:?}");
    assert_eq!(
        gh.requests() - before,
        1,
        "the PR lists of both repositories in one request, nothing after"
    );
}

/// Between full reads a poll reads only what changed: a small page of the PR list (newest
/// activity first, every state: a merged PR leaves), and, by node id, the PRs whose head commit
/// had run activity — checks change without moving a PR's `updatedAt`.
#[tokio::test]
async fn a_poll_reads_only_what_changed_and_rereads_prs_with_run_activity() {
    #[derive(Clone, Default)]
    struct World {
        /// 0 before the second poll, 1 after.
        phase: Arc<AtomicUsize>,
        log: Arc<Mutex<Vec<Value>>>,
    }
    fn node(n: u64, state: &str, updated: &str, check: &str) -> Value {
        json!({"id": format!("PR_{n}"), "state": state, "number": n, "title": format!("PR {n}"),
        "author": {"login": "x"}, "updatedAt": updated, "headRefOid": format!("sha{n}"),
        "statusCheckRollup": {"state": "PENDING", "contexts": {"nodes": [
            {"__typename": "CheckRun", "name": "test", "status": check, "conclusion":
             if check == "COMPLETED" { Value::from("FAILURE") } else { Value::Null }}
        ]}}})
    }
    async fn graphql(State(w): State<World>, axum::Json(body): axum::Json<Value>) -> Response {
        w.log.lock().unwrap().push(body["variables"].clone());
        let second = w.phase.load(Ordering::SeqCst) == 1;
        if body["query"].as_str().unwrap_or("").contains("nodes(ids:") {
            // #2's head finished its test run: the check failed, `updatedAt` did not move.
            let nodes: Vec<Value> = body["variables"]["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| match id.as_str() {
                    Some("PR_2") => {
                        let mut n = node(2, "OPEN", "2026-11-23T08:00:00Z", "COMPLETED");
                        n["__typename"] = "PullRequest".into();
                        n
                    }
                    _ => Value::Null,
                })
                .collect();
            return axum::Json(json!({"data": {"nodes": nodes}})).into_response();
        }
        let nodes = if second {
            // #1 was merged since; the rest is older than the last poll.
            vec![
                node(1, "MERGED", "2026-11-23T09:30:00Z", "IN_PROGRESS"),
                node(3, "OPEN", "2026-11-23T09:00:00Z", "IN_PROGRESS"),
                node(2, "OPEN", "2026-11-23T08:00:00Z", "IN_PROGRESS"),
            ]
        } else {
            vec![
                node(3, "OPEN", "2026-11-23T09:00:00Z", "IN_PROGRESS"),
                node(1, "OPEN", "2026-11-23T08:30:00Z", "IN_PROGRESS"),
                node(2, "OPEN", "2026-11-23T08:00:00Z", "IN_PROGRESS"),
            ]
        };
        axum::Json(json!({"data": {"r0": {"pullRequests": {
            "totalCount": 3, "pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": nodes,
        }}}}))
        .into_response()
    }
    async fn runs(State(w): State<World>) -> Response {
        let updated = if w.phase.load(Ordering::SeqCst) == 1 {
            "2026-11-23T09:40:00Z"
        } else {
            "2026-11-23T08:05:00Z"
        };
        axum::Json(json!({"total_count": 1, "workflow_runs": [
            {"id": 9, "run_number": 9, "name": "CI", "status": "completed", "conclusion": "failure",
             "head_sha": "sha2", "updated_at": updated, "run_started_at": "2026-11-23T08:01:00Z"}
        ]}))
        .into_response()
    }
    let w = World::default();
    let url = serve(
        Router::new()
            .route("/graphql", axum::routing::post(graphql))
            .route("/repos/o/r/actions/runs", get(runs))
            .with_state(w.clone()),
    )
    .await;
    let mut gh = GitHub::new(http(), &github_at(&url, &["o/r"], 100), None);
    let (prs, _) = github_data(bounded("first poll", gh.poll()).await.expect("first poll"));
    assert_eq!(prs.iter().map(|p| p.number).collect::<Vec<_>>(), [3, 1, 2]);
    w.phase.store(1, Ordering::SeqCst);
    let (prs, _) = github_data(
        bounded("second poll", gh.poll())
            .await
            .expect("second poll"),
    );
    assert_eq!(
        prs.iter().map(|p| p.number).collect::<Vec<_>>(),
        [3, 2],
        "the merged PR left"
    );
    let two = prs.iter().find(|p| p.number == 2).unwrap();
    assert_eq!(two.checks.unwrap().failed, 1, "#2's checks were re-read");
    let log = w.log.lock().unwrap().clone();
    assert_eq!(log.len(), 3, "full list, changes, by id: {log:?}");
    assert_eq!(log[0]["states"], json!(["OPEN"]));
    assert_eq!(log[0]["first"], json!(100));
    assert_eq!(log[1]["states"], json!(["OPEN", "CLOSED", "MERGED"]));
    assert_eq!(log[2]["ids"], json!(["PR_2"]));
}

/// A GitHub whose core window is described by `Limit`: `remaining` left, a reset a minute
/// ahead; with `remaining == 0` every REST request is refused as GitHub refuses a spent window.
/// Counts every request it receives.
#[derive(Clone, Default)]
struct Limit {
    remaining: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    posts: Arc<AtomicUsize>,
}

fn limit_headers(l: &Limit) -> HeaderMap {
    let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 60;
    let mut h = HeaderMap::new();
    h.insert("x-ratelimit-limit", "5000".parse().unwrap());
    let left = l.remaining.load(Ordering::SeqCst).to_string();
    h.insert("x-ratelimit-remaining", left.parse().unwrap());
    h.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
    h.insert("x-ratelimit-resource", "core".parse().unwrap());
    h
}

async fn limit_runs(State(l): State<Limit>) -> Response {
    l.requests.fetch_add(1, Ordering::SeqCst);
    let h = limit_headers(&l);
    if l.remaining.load(Ordering::SeqCst) == 0 {
        return (
            StatusCode::FORBIDDEN,
            h,
            axum::Json(json!({"message": "API rate limit exceeded for user ID 1."})),
        )
            .into_response();
    }
    (
        h,
        axum::Json(json!({"total_count": 0, "workflow_runs": []})),
    )
        .into_response()
}

async fn limit_graphql(State(l): State<Limit>) -> Response {
    l.requests.fetch_add(1, Ordering::SeqCst);
    empty_graphql().await
}

async fn limit_rerun(State(l): State<Limit>) -> Response {
    l.requests.fetch_add(1, Ordering::SeqCst);
    l.posts.fetch_add(1, Ordering::SeqCst);
    (limit_headers(&l), StatusCode::CREATED).into_response()
}

async fn limit_world() -> (Limit, String) {
    let l = Limit::default();
    l.remaining.store(4000, Ordering::SeqCst);
    let url = serve(
        Router::new()
            .route("/graphql", axum::routing::post(limit_graphql))
            .route("/repos/{owner}/{repo}/actions/runs", get(limit_runs))
            .route("/repos/o/r/actions/jobs/{id}/logs", get(limit_runs))
            .route(
                "/repos/o/r/actions/runs/{id}/rerun-failed-jobs",
                axum::routing::post(limit_rerun),
            )
            .with_state(l.clone()),
    )
    .await;
    (l, url)
}

/// A spent window (403 with `x-ratelimit-remaining: 0`) stops every request of the token until
/// its reset — the rest of the poll, the next poll, the operator's details, from both clients of
/// the token — instead of sending more that would be refused.
#[tokio::test]
async fn no_request_after_a_rate_limit_until_its_reset() {
    let (l, url) = limit_world().await;
    let cfg = github_at(&url, &["o/r", "o/s", "o/t"], 30);
    let mut gh = GitHub::new(http(), &cfg, None);
    let ops = GitHub::new(http(), &cfg, None)
        .sharing(gh.budget().clone())
        .for_details();
    bounded("healthy poll", gh.poll()).await.expect("healthy");
    l.remaining.store(0, Ordering::SeqCst);
    let before = l.requests.load(Ordering::SeqCst);
    let err = bounded("spent poll", gh.poll()).await.unwrap_err();
    match err {
        SourceError::RateLimited { retry_after_secs } => {
            assert!((55..=61).contains(&retry_after_secs), "{retry_after_secs}")
        }
        other => panic!("{other:?}"),
    }
    let spent = l.requests.load(Ordering::SeqCst) - before;
    // The probe, then the three runs lists that were already on their way (they go out side by
    // side); nothing after the refusals.
    assert!(spent <= 4, "{spent} requests");
    let before = l.requests.load(Ordering::SeqCst);
    for _ in 0..3 {
        assert!(matches!(
            bounded("blocked poll", gh.poll()).await,
            Err(SourceError::RateLimited { .. })
        ));
    }
    assert!(matches!(
        bounded("blocked log", ops.job_log("o/r", 1)).await,
        Err(SourceError::RateLimited { .. })
    ));
    assert!(matches!(
        bounded("blocked re-run", ops.rerun_failed_jobs("o/r", 1)).await,
        Err(SourceError::RateLimited { .. })
    ));
    assert_eq!(
        l.requests.load(Ordering::SeqCst),
        before,
        "nothing is sent while the window is spent"
    );
}

/// The last requests of a window are the operator's: polls and details stop short of them,
/// while an approval, a re-run or a rollback still goes out.
#[tokio::test]
async fn the_action_reserve_holds_when_polls_have_spent_the_rest() {
    let (l, url) = limit_world().await;
    let cfg = github_at(&url, &["o/r"], 30);
    let mut gh = GitHub::new(http(), &cfg, None);
    let ops = GitHub::new(http(), &cfg, None)
        .sharing(gh.budget().clone())
        .for_details();
    l.remaining.store(
        flightdeck::sources::budget::reserve(5000) as usize,
        Ordering::SeqCst,
    );
    // This poll learns that only the reserve is left.
    bounded("poll", gh.poll()).await.expect("poll");
    let before = l.requests.load(Ordering::SeqCst);
    let err = bounded("poll at the reserve", gh.poll()).await.unwrap_err();
    assert!(matches!(err, SourceError::RateLimited { .. }), "{err:?}");
    assert!(matches!(
        bounded("log at the reserve", ops.job_log("o/r", 1)).await,
        Err(SourceError::RateLimited { .. })
    ));
    assert_eq!(
        l.requests.load(Ordering::SeqCst) - before,
        1,
        "only the PR probe, which spends GraphQL's own window; no REST read"
    );
    let done = bounded("re-run", ops.rerun_failed_jobs("o/r", 1))
        .await
        .expect("the re-run spends the reserve");
    assert!(done.contains("201"), "{done}");
    assert_eq!(l.posts.load(Ordering::SeqCst), 1);
}

/// What the client keeps across a restart: a new client given the memo and the poll it was
/// saved with reads only what changed — a probe and 304s, no list read whole.
#[tokio::test]
async fn a_restored_client_reads_only_what_changed() {
    let world = frozen(0.0).await;
    let mut gh = github(&world);
    let first = bounded("first poll", gh.poll()).await.expect("first poll");
    let memo = gh.memo().expect("a memo after a poll");
    // The memo goes to disk as JSON: it holds no token and survives a round trip.
    let text = serde_json::to_string(&memo).expect("memo serialises");
    let memo: Value = serde_json::from_str(&text).expect("memo parses");

    let mut restarted = github(&world);
    restarted.restore(memo.clone(), &first);
    let before = world.requests();
    let graphql_before = world.graphql_requests().len();
    let again = bounded("poll after restart", restarted.poll())
        .await
        .expect("poll after restart");
    let after = world.requests();
    assert_eq!(
        world.graphql_requests().len() - graphql_before,
        1,
        "one probe"
    );
    assert_eq!(
        after.github - before.github,
        after.github_not_modified - before.github_not_modified + 1,
        "every REST request is a 304"
    );
    assert_eq!(github_data(again), github_data(first.clone()));

    // A memo of another API is not taken: the next poll reads everything again.
    let mut other = github(&world);
    let mut foreign = memo;
    foreign["api"] = "https://ghe.example.com/api/v3".into();
    other.restore(foreign, &first);
    let before = world.requests();
    bounded("poll", other.poll()).await.expect("poll");
    assert_eq!(
        world.requests().github_not_modified - before.github_not_modified,
        0
    );
}

/// An answer whose connection closes before its end is "cut off", not "cannot connect": the
/// server was there.
#[tokio::test]
async fn a_cut_body_says_it_was_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        if let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"total_count\": 1, \"workflow_")
                .await;
            // Closed here: 370 bytes short.
        }
    });
    let err = http()
        .send(reqwest::Client::new().get(format!("http://{addr}/x")))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SourceError::Cut {
            host: addr.to_string()
        }
    );
    assert!(err.stops_the_poll());
    assert_eq!(
        err.to_string(),
        format!("the answer from {addr} was cut off before its end")
    );
}
