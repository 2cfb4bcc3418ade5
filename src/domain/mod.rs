//! Plain data shown by the cockpit. Built by `sources`, read by `app`, `ui` and `analysis`.
//! Every string here that came from a remote service has already been through `sanitize::clean`.

mod error;
mod incident;
mod nonfinite;

pub use error::SourceError;
pub use incident::{ExceptionInfo, Frame, IncidentEvent, Suspect, SuspectKind};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a piece of data came from; one poller per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SourceId {
    GitHub,
    Prometheus,
    Sentry,
}

impl SourceId {
    pub const ALL: [SourceId; 3] = [SourceId::GitHub, SourceId::Prometheus, SourceId::Sentry];
    pub fn label(self) -> &'static str {
        match self {
            SourceId::GitHub => "GitHub",
            SourceId::Prometheus => "Prometheus",
            SourceId::Sentry => "Sentry",
        }
    }
}

/// The state of one check run or commit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CheckState {
    Failed,
    Pending,
    Passed,
    Skipped,
}

impl CheckState {
    /// From a check run's `status` + `conclusion`.
    pub fn from_check_run(status: &str, conclusion: Option<&str>) -> CheckState {
        match (status, conclusion) {
            ("completed", Some("success")) => CheckState::Passed,
            ("completed", Some("neutral" | "skipped" | "stale")) => CheckState::Skipped,
            ("completed", Some(_)) => CheckState::Failed,
            ("completed", None) => CheckState::Skipped,
            _ => CheckState::Pending,
        }
    }
    /// From a commit status's `state`.
    pub fn from_status(state: &str) -> CheckState {
        match state {
            "success" => CheckState::Passed,
            "failure" | "error" => CheckState::Failed,
            _ => CheckState::Pending,
        }
    }
    pub fn glyph(self) -> &'static str {
        match self {
            CheckState::Failed => "✗",
            CheckState::Pending => "●",
            CheckState::Passed => "✓",
            CheckState::Skipped => "–",
        }
    }
}

/// One check run or commit status of a PR's head commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub state: CheckState,
    /// GitHub's own word: "success", "failure", "in_progress", "pending", …
    pub detail: String,
    pub url: String,
}

/// Counts of a PR's checks (check runs + commit statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChecksRollup {
    pub failed: u32,
    pub pending: u32,
    pub passed: u32,
    pub skipped: u32,
}

impl ChecksRollup {
    pub fn of(checks: &[Check]) -> ChecksRollup {
        let mut r = ChecksRollup::default();
        for c in checks {
            match c.state {
                CheckState::Failed => r.failed += 1,
                CheckState::Pending => r.pending += 1,
                CheckState::Passed => r.passed += 1,
                CheckState::Skipped => r.skipped += 1,
            }
        }
        r
    }
    /// The worst state present, or `None` without checks.
    pub fn worst(&self) -> Option<CheckState> {
        if self.failed > 0 {
            Some(CheckState::Failed)
        } else if self.pending > 0 {
            Some(CheckState::Pending)
        } else if self.passed > 0 {
            Some(CheckState::Passed)
        } else if self.skipped > 0 {
            Some(CheckState::Skipped)
        } else {
            None
        }
    }
    /// "✗1 ●2 ✓5", worst first; "—" without checks.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if self.failed > 0 {
            parts.push(format!("✗{}", self.failed));
        }
        if self.pending > 0 {
            parts.push(format!("●{}", self.pending));
        }
        if self.passed > 0 {
            parts.push(format!("✓{}", self.passed));
        }
        if parts.is_empty() && self.skipped > 0 {
            parts.push(format!("–{}", self.skipped));
        }
        if parts.is_empty() {
            "—".into()
        } else {
            parts.join(" ")
        }
    }
}

/// A PR's review decision, from the latest review of each reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReviewDecision {
    ChangesRequested,
    ReviewRequired,
    Commented,
    Approved,
}

impl ReviewDecision {
    pub fn label(self) -> &'static str {
        match self {
            ReviewDecision::ChangesRequested => "changes",
            ReviewDecision::ReviewRequired => "required",
            ReviewDecision::Commented => "commented",
            ReviewDecision::Approved => "approved",
        }
    }
}

/// One reviewer's latest word on a PR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub reviewer: String,
    /// APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    pub state: String,
    pub submitted_at: Option<OffsetDateTime>,
}

/// A file a PR changes.
#[derive(Debug, Clone, PartialEq)]
pub struct PrFile {
    pub filename: String,
    pub status: String,
    pub additions: u64,
    pub deletions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub author: String,
    pub draft: bool,
    pub labels: Vec<String>,
    pub head_ref: String,
    pub base_ref: String,
    pub created_at: Option<OffsetDateTime>,
    pub updated_at: Option<OffsetDateTime>,
    pub url: String,
    pub body: String,
    pub head_sha: String,
    /// Filled by the per-PR requests (detail, checks, statuses, reviews); `None` until they answered.
    pub checks: Option<ChecksRollup>,
    pub check_list: Vec<Check>,
    pub review: Option<ReviewDecision>,
    pub reviews: Vec<Review>,
    /// GitHub's `mergeable_state`: clean, dirty, blocked, behind, unstable, draft, unknown.
    pub mergeable: Option<String>,
    pub additions: Option<u64>,
    pub deletions: Option<u64>,
    pub changed_files: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunState {
    Queued,
    InProgress,
    Waiting,
    Success,
    Failure,
    Cancelled,
    Skipped,
    Other,
}

impl RunState {
    pub fn from_api(status: &str, conclusion: Option<&str>) -> RunState {
        match (status, conclusion) {
            ("completed", Some("success")) => RunState::Success,
            ("completed", Some("failure" | "timed_out" | "startup_failure")) => RunState::Failure,
            ("completed", Some("cancelled")) => RunState::Cancelled,
            ("completed", Some("skipped" | "neutral")) => RunState::Skipped,
            ("waiting", _) => RunState::Waiting,
            ("in_progress", _) => RunState::InProgress,
            ("queued" | "requested" | "pending", _) => RunState::Queued,
            _ => RunState::Other,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::InProgress => "running",
            RunState::Waiting => "waiting",
            RunState::Success => "success",
            RunState::Failure => "failure",
            RunState::Cancelled => "cancelled",
            RunState::Skipped => "skipped",
            RunState::Other => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRun {
    pub repo: String,
    pub id: u64,
    pub run_number: u64,
    pub workflow: String,
    pub title: String,
    pub branch: String,
    pub sha: String,
    pub event: String,
    pub actor: String,
    pub state: RunState,
    pub attempt: u32,
    pub started_at: Option<OffsetDateTime>,
    pub updated_at: Option<OffsetDateTime>,
    pub url: String,
    /// Deployments this run waits for (status `waiting`), with the environments named.
    pub pending: Vec<PendingDeployment>,
}

/// A deployment of a run that waits for approval in a protected environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingDeployment {
    pub environment_id: u64,
    pub environment: String,
    pub wait_timer_minutes: u64,
    pub wait_started_at: Option<OffsetDateTime>,
    pub can_approve: bool,
    pub reviewers: Vec<String>,
}

/// A job of a workflow run, with its steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: u64,
    pub name: String,
    pub state: RunState,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub url: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub number: u64,
    pub name: String,
    pub state: RunState,
}

/// One configured metric of a service, read from Prometheus over the lookback window.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricReading {
    pub name: String,
    /// The latest values.
    #[serde(with = "nonfinite::option")]
    pub canary: Option<f64>,
    #[serde(with = "nonfinite::option")]
    pub baseline: Option<f64>,
    #[serde(with = "nonfinite::option")]
    pub max: Option<f64>,
    #[serde(with = "nonfinite::option")]
    pub min: Option<f64>,
    /// A query error for this metric, if any (the others still show).
    pub error: Option<String>,
    /// Samples over the lookback window, oldest first (NaN where Prometheus said NaN).
    #[serde(with = "nonfinite::vec")]
    pub canary_samples: Vec<f64>,
    #[serde(with = "nonfinite::vec")]
    pub baseline_samples: Vec<f64>,
    /// How many of the trailing samples belong to the current slice (the judge looks only at
    /// those: each traffic step starts a new analysis); `None` when the slice start is unknown.
    pub in_slice: Option<(usize, usize)>,
    /// The canary's mean per threshold window of the current slice, oldest first.
    #[serde(with = "nonfinite::vec")]
    pub windows: Vec<f64>,
    /// Requests and events (errors) per step over the lookback window, oldest first, when the
    /// metric is a ratio judged on its counts (`errors`/`requests` queries, or the ratio times
    /// `traffic`); empty otherwise.
    #[serde(default)]
    pub counts: Vec<CountStep>,
    /// The stable version's requests and events over `reference_secs` before the rollout began
    /// (read once per rollout; at 100 %, if that read fails, the history's first part): a second
    /// reference for a counted ratio beside the live baseline. `None` without a rollout start or
    /// without counts.
    #[serde(default)]
    pub prior: Option<(f64, f64)>,
    /// How many lookbacks `prior` spans (the points it was summed from): a service's errors a
    /// lookback, which decide whether it is busy enough for `detect` by default, are its events
    /// over this. `None`: one.
    #[serde(default)]
    pub prior_lookbacks: Option<f64>,
    /// How many trailing canary samples belong to the rollout (since the canary's weight was
    /// last 0); `None` when it began before the lookback window. `counts` hold only the
    /// rollout's steps.
    #[serde(default)]
    pub in_rollout: Option<usize>,
    /// Samples needed per side to compare with the baseline (0: the judge's default, 10).
    #[serde(default)]
    pub min_samples: usize,
    /// Samples per rate window (the query's longest range over the step; 0 or 1: independent).
    #[serde(default)]
    pub overlap: f64,
    /// Steps per threshold window (the span of "the latest window").
    #[serde(default)]
    pub window_steps: usize,
    /// The rate window in seconds (`window_steps` steps).
    #[serde(default)]
    pub window_secs: u64,
    /// `q` when the canary's query is `histogram_quantile(q, …)`: with the service's traffic, a
    /// quantile of too few requests a window is no evidence (`analysis::rollout`).
    #[serde(default)]
    pub quantile: Option<f64>,
    /// How the judge reads this metric (from the config).
    pub lower_is_worse: bool,
    pub critical: bool,
    #[serde(with = "nonfinite")]
    pub weight: f64,
    pub failure_limit: usize,
    #[serde(with = "nonfinite")]
    pub tolerance: f64,
    /// PROCEED on the counts only once they could have shown the canary this much worse (0: off;
    /// unset: +25 % on a busy service, see `analysis::canary::detect_by_default`, and a doubling
    /// before 100 % elsewhere, `DEFAULT_DETECT_SLICES`).
    #[serde(default)]
    pub detect: Option<f64>,
}

/// What Sentry says about the commits behind an event, when the org records them: its suspect
/// commits, and the commits of the event's release (shas or prefixes of 7 or more).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SentryCommits {
    pub suspects: Vec<String>,
    pub release: Vec<String>,
}

/// One step of a ratio metric's counts: the requests each side served in the step and how many
/// of them were events (errors). Always finite and ≥ 0 (a step Prometheus had no value for is 0
/// requests: no exposure, no evidence).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CountStep {
    pub canary_requests: f64,
    pub canary_events: f64,
    pub baseline_requests: f64,
    pub baseline_events: f64,
}

impl CountStep {
    /// A step from per-second rates over `step_secs`; anything not finite or negative is 0, and
    /// events never exceed requests.
    pub fn from_rates(
        canary: (Option<f64>, Option<f64>),
        baseline: (Option<f64>, Option<f64>),
        step_secs: f64,
    ) -> CountStep {
        let side = |(req, ev): (Option<f64>, Option<f64>)| match (req, ev) {
            (Some(r), Some(e)) if r.is_finite() && e.is_finite() && r > 0.0 => {
                let r = r * step_secs;
                (r, (e * step_secs).clamp(0.0, r))
            }
            _ => (0.0, 0.0),
        };
        let (canary_requests, canary_events) = side(canary);
        let (baseline_requests, baseline_events) = side(baseline);
        CountStep {
            canary_requests,
            canary_events,
            baseline_requests,
            baseline_events,
        }
    }
}

impl MetricReading {
    /// Whether the canary value is outside the configured bounds. `None` when there is no value.
    pub fn breached(&self) -> Option<bool> {
        let v = self.canary.filter(|v| !v.is_nan())?;
        Some(self.max.is_some_and(|m| v > m) || self.min.is_some_and(|m| v < m))
    }
}

/// A service being rolled out, as last read from Prometheus.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceRollout {
    pub name: String,
    pub environment: String,
    pub production: bool,
    pub slices: Vec<u8>,
    /// Current canary weight in percent, when the weight query answered.
    #[serde(with = "nonfinite::option")]
    pub weight: Option<f64>,
    /// Why the weight query gave no value, when it was refused.
    pub weight_error: Option<String>,
    pub metrics: Vec<MetricReading>,
    /// Since when the canary has had its current weight (within the lookback window).
    pub slice_since: Option<OffsetDateTime>,
    /// The canary's traffic (requests per second), when a traffic query is configured.
    #[serde(with = "nonfinite::option")]
    pub traffic: Option<f64>,
    #[serde(with = "nonfinite::option")]
    pub min_traffic: Option<f64>,
    /// The GitHub repo that deploys it, and whether the judge may act on its own.
    pub repo: Option<String>,
    pub autopilot: bool,
    /// Prometheus's warnings about the queries.
    pub warnings: Vec<String>,
    /// At 100 % (the baseline serves nothing): the span of the service's history, before the
    /// rollout began, that the baseline's values were read over.
    #[serde(default)]
    pub baseline_history: Option<(OffsetDateTime, OffsetDateTime)>,
    /// The moment the readings are as of (the end of the range queries).
    #[serde(default)]
    pub read_at: Option<OffsetDateTime>,
    /// Seconds at 100 % with PROCEED before the promotion is complete (0: not configured).
    #[serde(default)]
    pub bake_secs: u64,
    /// When this rollout began (the canary's first point after a weight of 0), when the poll
    /// knows it: what tells one rollout of a service from the next.
    #[serde(default)]
    pub rollout_began: Option<OffsetDateTime>,
}

/// A ROLLBACK the judge called in a rollout, as the audit log keeps it: restored at start so
/// that the cockpit still shows it (and the approval guard still holds to it) after a restart,
/// for as long as the same rollout goes on.
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackCall {
    pub service: String,
    pub at: OffsetDateTime,
    /// The canary's weight then, %.
    pub weight: Option<f64>,
    /// The judgement's one line then.
    pub summary: String,
    /// When the rollout it was called in began.
    pub rollout_began: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub project: String,
    pub id: String,
    pub short_id: String,
    pub title: String,
    pub culprit: String,
    pub level: String,
    pub status: String,
    pub count: u64,
    pub user_count: u64,
    pub first_seen: Option<OffsetDateTime>,
    pub last_seen: Option<OffsetDateTime>,
    pub url: String,
    /// Events per bucket of Sentry's `stats` series for the list's `statsPeriod` (bucket start
    /// as a Unix second, events), oldest first; empty when Sentry sent none.
    #[serde(default)]
    pub stats: Vec<(i64, u64)>,
}

impl Incident {
    /// Events in the hour before `now`, from the `stats` series when its buckets are an hour or
    /// shorter (the buckets that end after `now - 1h`); `None` without such a series.
    pub fn events_last_hour(&self, now: OffsetDateTime) -> Option<u64> {
        let step = match self.stats.as_slice() {
            [.., (a, _), (b, _)] => b.saturating_sub(*a),
            _ => return None,
        };
        if !(1..=3600).contains(&step) {
            return None;
        }
        let since = now.unix_timestamp().saturating_sub(3600);
        Some(
            self.stats
                .iter()
                .filter(|(start, _)| start.saturating_add(step) > since)
                .map(|(_, n)| *n)
                .fold(0u64, u64::saturating_add),
        )
    }
}

/// One line of the AI tab: what the analyzer says about one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub kind: SummaryKind,
    pub subject: String,
    pub headline: String,
    pub analyzer: String,
    pub url: String,
    /// The full summary for the detail pane: what it is, the evidence, what to do.
    pub detail: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryKind {
    Pr,
    Run,
    Rollout,
    Incident,
    /// The DORA metrics of the configured repos and services.
    Dora,
}

impl SummaryKind {
    pub fn label(self) -> &'static str {
        match self {
            SummaryKind::Pr => "PR",
            SummaryKind::Run => "run",
            SummaryKind::Rollout => "rollout",
            SummaryKind::Incident => "incident",
            SummaryKind::Dora => "DORA",
        }
    }
}

/// What one poll of a source delivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SourceData {
    GitHub {
        /// Shared with the client that read them (it keeps them to read only what changed) and
        /// with the screen: one copy of each PR, however many hold it.
        prs: Vec<std::sync::Arc<PullRequest>>,
        runs: Vec<WorkflowRun>,
        /// The REST (core) budget.
        rate: Option<RateLimit>,
        /// GraphQL's points budget, apart from REST's.
        graphql_rate: Option<RateLimit>,
        /// Repositories this poll could not read; the others are in `prs` and `runs`.
        failed: Vec<RepoError>,
        /// Polls are spaced out so that a rate-limit window lasts until its reset.
        slowed: Option<Slowdown>,
    },
    Prometheus(Vec<ServiceRollout>),
    Sentry(Vec<Incident>),
}

/// A repository whose part of a poll failed, while the rest of the poll is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoError {
    pub repo: String,
    pub error: SourceError,
}

/// Polls slowed down ahead of a rate limit's wall: one every `every_secs` until `until` (unix
/// seconds, the window's reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slowdown {
    pub every_secs: u64,
    pub until: i64,
    /// Whether GraphQL's points (rather than REST's requests) are what runs short.
    pub graphql: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    pub reset: i64,
}

/// What an environment runs now, and what it ran last while healthy (the rollback's from and to).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeployedRevisions {
    /// The sha deployed now.
    pub current: Option<String>,
    /// The sha of the last successful deployment before the current one, and its ref.
    pub last_good: Option<String>,
    pub last_good_ref: Option<String>,
}
