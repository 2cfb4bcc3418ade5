//! The demo world: in-process HTTP servers on 127.0.0.1 speaking the GitHub REST (and, for the PR
//! list, GraphQL), Prometheus HTTP, Sentry and OpenAI chat-completions APIs, driven by a
//! deterministic scenario clock (see [`scenario`] for the timeline). `flightdeck demo` points the
//! ordinary clients at them.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub mod canary_lab;
mod chaos;
mod github;
mod github_data;
mod github_deploys;
mod github_graphql;
mod github_logs;
mod github_runs;
mod github_scale;
mod llm;
mod prometheus;
mod promql;
pub mod scenario;
mod sentry;
mod sentry_data;
mod util;

#[cfg(test)]
mod chaos_tests;
#[cfg(test)]
mod scale_tests;
#[cfg(test)]
mod tests;

pub use chaos::{ChaosOptions, LoggedRequest, Phase, PhaseSpan};
pub use github_scale::Scale;
pub use promql::BIG_SERVICES;
pub use sentry_data::BIG_ISSUES;

/// How the demo world runs.
#[derive(Clone, Debug, PartialEq)]
pub struct SimOptions {
    /// Scenario seconds per wall-clock second (0 freezes the scenario).
    pub speed: f64,
    /// Scenario time at start (tests jump ahead).
    pub start_at_secs: f64,
    /// Put scenario second 0 at the wall-clock time of start (the interactive demo), so ages read
    /// naturally. Off by default: payload timestamps then start at 2026-11-23T09:00:00Z, fixed.
    /// Set at most once per process; later worlds keep the first anchor.
    pub anchor_now: bool,
    /// How big the world is: the demo's, or ([`Scale::Big`], to measure the cockpit at scale) five
    /// repositories with 2,000 open pull requests and 2,000 workflow runs each, 500 unresolved
    /// Sentry issues over five projects and 20 services.
    pub scale: Scale,
    /// Faults on a schedule (`demo --chaos`, see [`chaos`]); `None`: always healthy.
    pub chaos: Option<ChaosOptions>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            speed: 1.0,
            start_at_secs: 0.0,
            anchor_now: false,
            scale: Scale::Demo,
            chaos: None,
        }
    }
}

/// Request counters of the simulated APIs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Every request to the GitHub server, 304s included.
    pub github: u64,
    /// GitHub requests answered `304 Not Modified`.
    pub github_not_modified: u64,
    pub prometheus: u64,
    pub sentry: u64,
    pub llm: u64,
}

impl SimStats {
    /// Requests over all four APIs.
    pub fn total(&self) -> u64 {
        self.github + self.prometheus + self.sentry + self.llm
    }
}

/// Maps wall-clock time to scenario time.
#[derive(Clone, Debug)]
pub(crate) struct Clock {
    origin: Instant,
    origin_unix: f64,
    start_at: f64,
    speed: f64,
}

impl Clock {
    fn new(opts: &SimOptions) -> Self {
        let origin_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Self {
            origin: Instant::now(),
            origin_unix,
            start_at: opts.start_at_secs,
            speed: opts.speed,
        }
    }

    /// Current scenario seconds.
    pub(crate) fn now(&self) -> f64 {
        self.start_at + self.origin.elapsed().as_secs_f64() * self.speed
    }

    /// Current wall-clock time, unix seconds (monotonic since start).
    pub(crate) fn unix_now(&self) -> f64 {
        self.origin_unix + self.origin.elapsed().as_secs_f64()
    }

    /// Scenario seconds at wall-clock `unix` seconds.
    pub(crate) fn at_unix(&self, unix: f64) -> f64 {
        self.start_at + (unix - self.origin_unix) * self.speed
    }

    /// Scenario seconds per wall second for the consequences of operator actions (an approved
    /// deployment finishing, a re-run completing): the world's speed, or 1 when it is frozen, so
    /// that actions still play out in a paused demo.
    pub(crate) fn action_rate(&self) -> f64 {
        if self.speed > 0.0 { self.speed } else { 1.0 }
    }
}

#[derive(Debug, Default)]
struct Counters {
    github: AtomicU64,
    github_not_modified: AtomicU64,
    prometheus: AtomicU64,
    sentry: AtomicU64,
    llm: AtomicU64,
}

/// GitHub's primary rate-limit window.
#[derive(Debug)]
pub(crate) struct RateWindow {
    pub used: u64,
    pub reset: i64,
}

/// The simulated GitHub's two rate-limit windows as they stand (see [`SimWorld::rate_windows`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateWindows {
    /// REST requests charged to the core window (5,000 an hour).
    pub core_used: u64,
    /// Unix second the core window resets (a new window starts at 0).
    pub core_reset: i64,
    /// GraphQL points spent in the `graphql` window (5,000 an hour).
    pub graphql_used: u64,
    pub graphql_reset: i64,
}

/// One request as the simulated GitHub received it (see [`SimWorld::github_mutations`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path without the query string, e.g. `/repos/acme/checkout/actions/runs/9200000104/cancel`.
    pub path: String,
    /// Request body as text (lossy UTF-8); empty when there was none.
    pub body: String,
    /// Whether the request carried an `Authorization` header.
    pub authorization: bool,
}

/// Requests kept for tests.
#[derive(Debug, Default)]
pub(crate) struct Records {
    pub mutations: Vec<RecordedRequest>,
    pub blobs: Vec<RecordedRequest>,
    /// `POST /graphql` (queries: reads, not mutations).
    pub graphql: Vec<RecordedRequest>,
    /// Sentry's issue updates (`PUT /api/0/organizations/{org}/issues/{id}/`).
    pub sentry: Vec<RecordedRequest>,
    /// Failures tests asked for: the next GitHub change of this method whose path starts with
    /// this prefix is answered with this status instead (once).
    pub fail_next: Vec<(String, String, u16)>,
}

/// State shared by the four servers.
#[derive(Debug)]
pub(crate) struct Shared {
    pub clock: Clock,
    /// How big the simulated GitHub is.
    pub scale: Scale,
    counters: Counters,
    pub rate: Mutex<RateWindow>,
    /// GraphQL's own window (points; GitHub's `graphql` resource).
    pub graphql_rate: Mutex<RateWindow>,
    /// What the operator did to the world: approvals, re-runs, cancels, dispatched runs, and the
    /// canaries those rolled back (which the Prometheus server reads).
    pub github: Mutex<github_runs::Actions>,
    pub records: Mutex<Records>,
    /// Refs, files, PRs and labels created through the GitHub API.
    pub repo_writes: Mutex<github::repo::Writes>,
    pub github_url: String,
    pub sentry_url: String,
    /// The fault schedule and the request log.
    pub chaos: chaos::ChaosState,
    /// Sentry issues the operator resolved or ignored, by id: their status.
    pub sentry_status: Mutex<std::collections::BTreeMap<String, String>>,
}

impl Shared {
    pub(crate) fn count_github_304(&self) {
        self.counters
            .github_not_modified
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// The running demo world. Dropping it (or [`SimWorld::shutdown`]) stops the servers.
#[derive(Debug)]
pub struct SimWorld {
    pub github_url: String,
    pub prometheus_url: String,
    pub sentry_url: String,
    pub llm_url: String,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

/// One of the simulated services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    Github,
    Prometheus,
    Sentry,
    Llm,
}

impl Api {
    pub const ALL: [Api; 4] = [Api::Github, Api::Prometheus, Api::Sentry, Api::Llm];

    /// Its place in [`Api::ALL`] (the order chaos staggers them in).
    pub fn index(self) -> usize {
        self as usize
    }
}

async fn count(
    State((shared, api)): State<(Arc<Shared>, Api)>,
    req: Request,
    next: Next,
) -> Response {
    let c = &shared.counters;
    let counter = match api {
        Api::Github => &c.github,
        Api::Prometheus => &c.prometheus,
        Api::Sentry => &c.sentry,
        Api::Llm => &c.llm,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    next.run(req).await
}

fn serve(
    listener: TcpListener,
    router: Router,
    shared: &Arc<Shared>,
    api: Api,
    mut stop: watch::Receiver<bool>,
) {
    let app = router
        .layer(middleware::from_fn_with_state(
            (shared.clone(), api),
            chaos::layer,
        ))
        .layer(middleware::from_fn_with_state((shared.clone(), api), count));
    tokio::spawn(async move {
        let signal = async move {
            // Ends on `true` or when the sender is dropped.
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::warn!(error = %e, "demo server stopped");
        }
    });
}

/// Binds four listeners on 127.0.0.1 (ephemeral ports) and spawns the servers on the current
/// tokio runtime.
pub async fn start(opts: SimOptions) -> std::io::Result<SimWorld> {
    if !opts.speed.is_finite() || opts.speed < 0.0 || !opts.start_at_secs.is_finite() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "sim speed must be a finite number >= 0 and start_at_secs finite",
        ));
    }
    if let Some(c) = &opts.chaos {
        c.validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    }
    let gh = TcpListener::bind("127.0.0.1:0").await?;
    let prom = TcpListener::bind("127.0.0.1:0").await?;
    let sentry = TcpListener::bind("127.0.0.1:0").await?;
    let llm = TcpListener::bind("127.0.0.1:0").await?;
    let url = |l: &TcpListener| l.local_addr().map(|a| format!("http://{a}"));
    let github_url = url(&gh)?;
    let prometheus_url = url(&prom)?;
    let sentry_url = url(&sentry)?;
    let llm_root = url(&llm)?;

    let clock = Clock::new(&opts);
    if opts.anchor_now {
        util::anchor_base((clock.unix_now() - opts.start_at_secs).floor() as i64);
    }
    let reset = clock.unix_now() as i64 + 3600;
    let chaos = chaos::ChaosState::new(
        opts.chaos
            .clone()
            .map(|c| chaos::Chaos::new(c, clock.origin_unix)),
    );
    let shared = Arc::new(Shared {
        clock,
        scale: opts.scale,
        counters: Counters::default(),
        rate: Mutex::new(RateWindow { used: 0, reset }),
        graphql_rate: Mutex::new(RateWindow { used: 0, reset }),
        github: Mutex::new(github_runs::Actions::default()),
        records: Mutex::new(Records::default()),
        repo_writes: Mutex::new(Default::default()),
        github_url: github_url.clone(),
        sentry_url: sentry_url.clone(),
        chaos,
        sentry_status: Mutex::new(Default::default()),
    });
    let (tx, rx) = watch::channel(false);
    serve(
        gh,
        github::router(shared.clone()),
        &shared,
        Api::Github,
        rx.clone(),
    );
    serve(
        prom,
        prometheus::router(shared.clone()),
        &shared,
        Api::Prometheus,
        rx.clone(),
    );
    serve(
        sentry,
        sentry::router(shared.clone()),
        &shared,
        Api::Sentry,
        rx.clone(),
    );
    serve(llm, llm::router(shared.clone()), &shared, Api::Llm, rx);
    tracing::info!(%github_url, %prometheus_url, %sentry_url, llm_url = %llm_root, "demo world started");
    Ok(SimWorld {
        github_url,
        prometheus_url,
        sentry_url,
        llm_url: format!("{llm_root}/v1"),
        shared,
        shutdown: tx,
    })
}

impl SimWorld {
    /// A complete flightdeck config pointing at this world.
    pub fn config_toml(&self) -> String {
        let mut out = format!(
            r#"# flightdeck demo world (generated by `flightdeck demo`)
refresh_secs = 5
theme = "default"
read_only = false

[github]
api_url = "{gh}"
repos = [{repos}]
anonymous = true{max_items}

[prometheus]
url = "{prom}"

[sentry]
url = "{sentry}"
org = "acme"
projects = [{projects}]
anonymous = true

[ai]
provider = "openai"
url = "{llm}"
model = "sim-analyst"
"#,
            gh = self.github_url,
            prom = self.prometheus_url,
            sentry = self.sentry_url,
            llm = self.llm_url,
            repos = self
                .shared
                .scale
                .repos()
                .iter()
                .map(|r| format!("{r:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            projects = sentry_data::projects(self.shared.scale)
                .iter()
                .map(|(slug, _, _)| format!("{slug:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            // The client reads every pull request and run of a Big world.
            max_items = match self.shared.scale {
                Scale::Demo => String::new(),
                Scale::Big => format!("\nmax_items = {}", github_scale::PRS_PER_REPO),
            },
        );
        out.push_str(&service_toml(
            "checkout",
            "acme/checkout",
            "production",
            true,
        ));
        out.push_str(&service_toml("web", "acme/web", "staging", false));
        if self.shared.scale == Scale::Big {
            for (i, (name, repo)) in BIG_SERVICES.iter().enumerate() {
                // Two in three run in production; none has a rollback (their repositories have
                // no rollback workflow of their own).
                let production = i % 3 != 2;
                let environment = if production { "production" } else { "staging" };
                out.push_str(&calm_service_toml(name, repo, environment, production));
            }
        }
        out
    }

    /// GitHub's rate-limit windows now: REST requests and GraphQL points spent (read without
    /// spending any; a window past its reset still shows what it spent).
    pub fn rate_windows(&self) -> RateWindows {
        let read = |m: &Mutex<RateWindow>| {
            let w = m.lock().unwrap_or_else(|e| e.into_inner());
            (w.used, w.reset)
        };
        let (core_used, core_reset) = read(&self.shared.rate);
        let (graphql_used, graphql_reset) = read(&self.shared.graphql_rate);
        RateWindows {
            core_used,
            core_reset,
            graphql_used,
            graphql_reset,
        }
    }

    /// How big the world's GitHub is.
    pub fn scale(&self) -> Scale {
        self.shared.scale
    }

    /// Bytes the generated GitHub content of a Big world holds (approximate; 0 at the demo's
    /// scale). Built once per process and shared by every Big world.
    pub fn generated_bytes(&self) -> usize {
        match self.shared.scale {
            Scale::Demo => 0,
            Scale::Big => github_scale::approx_bytes(),
        }
    }

    /// Current scenario time, seconds.
    pub fn scenario_secs(&self) -> f64 {
        self.shared.clock.now()
    }

    /// Request counters so far.
    pub fn requests(&self) -> SimStats {
        let c = &self.shared.counters;
        SimStats {
            github: c.github.load(Ordering::Relaxed),
            github_not_modified: c.github_not_modified.load(Ordering::Relaxed),
            prometheus: c.prometheus.load(Ordering::Relaxed),
            sentry: c.sentry.load(Ordering::Relaxed),
            llm: c.llm.load(Ordering::Relaxed),
        }
    }

    /// Every non-GET request the GitHub server received, in order (whatever it answered), except
    /// GraphQL queries (see [`SimWorld::graphql_requests`]).
    pub fn github_mutations(&self) -> Vec<RecordedRequest> {
        let r = self
            .shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        r.mutations.clone()
    }

    /// Every GraphQL request (`POST /graphql`) the GitHub server received, in order.
    pub fn graphql_requests(&self) -> Vec<RecordedRequest> {
        let r = self
            .shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        r.graphql.clone()
    }

    /// Answer the next GitHub change (`method`, a path starting with `path_prefix`) with
    /// `status` instead of handling it: a failure part-way through a multi-step change, for tests.
    pub fn fail_next_github(&self, method: &str, path_prefix: &str, status: u16) {
        let mut r = self
            .shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        r.fail_next
            .push((method.to_string(), path_prefix.to_string(), status));
    }

    /// Every issue update (`PUT …/issues/{id}/`) the Sentry server received, in order.
    pub fn sentry_updates(&self) -> Vec<RecordedRequest> {
        let r = self
            .shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        r.sentry.clone()
    }

    /// Every request to the log blob store (`/_blob/...`, where job-log redirects point), in
    /// order.
    pub fn blob_requests(&self) -> Vec<RecordedRequest> {
        let r = self
            .shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        r.blobs.clone()
    }

    /// Stops the servers (idle connections close; in-flight requests finish).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for SimWorld {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// PromQL of a service's canary weight.
pub fn weight_query(app: &str) -> String {
    format!(r#"flagger_canary_weight{{name="{app}"}}"#)
}

/// PromQL of the 5xx ratio of `track` ("canary" or "stable").
pub fn error_rate_query(app: &str, track: &str) -> String {
    format!(
        r#"sum(rate(http_requests_total{{app="{app}",track="{track}",code=~"5.."}}[1m])) / sum(rate(http_requests_total{{app="{app}",track="{track}"}}[1m]))"#
    )
}

/// PromQL of `track`'s requests per second.
pub fn requests_query(app: &str, track: &str) -> String {
    format!(r#"sum(rate(http_requests_total{{app="{app}",track="{track}"}}[1m]))"#)
}

/// PromQL of `track`'s 5xx responses per second.
pub fn errors_query(app: &str, track: &str) -> String {
    format!(r#"sum(rate(http_requests_total{{app="{app}",track="{track}",code=~"5.."}}[1m]))"#)
}

/// PromQL of the p99 latency of `track`, in milliseconds.
pub fn p99_query(app: &str, track: &str) -> String {
    format!(
        r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{app="{app}",track="{track}"}}[1m]))) * 1000"#
    )
}

/// A demo service: rolled back by dispatching `rollback.yml` on its repository.
fn service_toml(name: &str, repo: &str, environment: &str, production: bool) -> String {
    let rollback = r#"[service.rollback]
workflow = "rollback.yml"
inputs = { service = "{service}", to = "{last_good_sha}", environment = "{environment}" }
"#;
    service_toml_with(name, repo, environment, production, rollback)
}

/// A Big world's generated service: the same judge, no rollback.
fn calm_service_toml(name: &str, repo: &str, environment: &str, production: bool) -> String {
    service_toml_with(name, repo, environment, production, "")
}

fn service_toml_with(
    name: &str,
    repo: &str,
    environment: &str,
    production: bool,
    rollback: &str,
) -> String {
    format!(
        r#"
[[service]]
name = "{name}"
repo = "{repo}"
environment = "{environment}"
production = {production}
slices = [10, 25, 50, 100]
weight = '{weight}'
# The demo tells a release in three minutes: judge over the last two minutes at a 1 s step, in
# 2 s windows (a new slice PROCEEDs after its failure limit + 1 = 2 windows of its own, 4 s),
# and compare latency from 5 samples a side, so every slice has a verdict a poll or two in, even
# at --speed 4 (10 s slices).
lookback_secs = 120
step_secs = 1
window_secs = 2
{rollback}# The 5xx ratio, judged on the counts behind it.
[service.metrics.error_rate]
canary = '{err_canary}'
baseline = '{err_stable}'
errors = '{errors_canary}'
requests = '{requests_canary}'
baseline_errors = '{errors_stable}'
baseline_requests = '{requests_stable}'
max = 0.005
# A busy service's canary PROCEEDs by default only once its counts could show +25 % more errors:
# a few hundred of them, more than the demo's 40 s slices hold (a quieter one's, before 100 %, a
# doubling). The demo turns that off.
detect = 0
[service.metrics.p99_ms]
canary = '{p99_canary}'
baseline = '{p99_stable}'
max = 500
min_samples = 5
"#,
        weight = weight_query(name),
        err_canary = error_rate_query(name, "canary"),
        err_stable = error_rate_query(name, "stable"),
        errors_canary = errors_query(name, "canary"),
        requests_canary = requests_query(name, "canary"),
        errors_stable = errors_query(name, "stable"),
        requests_stable = requests_query(name, "stable"),
        p99_canary = p99_query(name, "canary"),
        p99_stable = p99_query(name, "stable"),
    )
}
