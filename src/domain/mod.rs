//! Plain data shown by the cockpit. Built by `sources`, read by `app`, `ui` and `analysis`.
//! Every string here that came from a remote service has already been through `sanitize::clean`.

use time::OffsetDateTime;

/// Where a piece of data came from; one poller per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

#[derive(Debug, Clone, PartialEq)]
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq)]
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
}

/// One configured metric of a service, read once from Prometheus.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricReading {
    pub name: String,
    pub canary: Option<f64>,
    pub baseline: Option<f64>,
    pub max: Option<f64>,
    pub min: Option<f64>,
    /// A query error for this metric, if any (the others still show).
    pub error: Option<String>,
}

impl MetricReading {
    /// Whether the canary value is outside the configured bounds. `None` when there is no value.
    pub fn breached(&self) -> Option<bool> {
        let v = self.canary.filter(|v| !v.is_nan())?;
        Some(self.max.is_some_and(|m| v > m) || self.min.is_some_and(|m| v < m))
    }
}

/// A service being rolled out, as last read from Prometheus.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRollout {
    pub name: String,
    pub environment: String,
    pub production: bool,
    pub slices: Vec<u8>,
    /// Current canary weight in percent, when the weight query answered.
    pub weight: Option<f64>,
    /// Why the weight query gave no value, when it was refused.
    pub weight_error: Option<String>,
    pub metrics: Vec<MetricReading>,
}

#[derive(Debug, Clone, PartialEq)]
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
}

/// One line of the AI tab: what the analyzer says about one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub kind: SummaryKind,
    pub subject: String,
    pub headline: String,
    pub analyzer: String,
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryKind {
    Pr,
    Run,
    Rollout,
    Incident,
}

impl SummaryKind {
    pub fn label(self) -> &'static str {
        match self {
            SummaryKind::Pr => "PR",
            SummaryKind::Run => "run",
            SummaryKind::Rollout => "rollout",
            SummaryKind::Incident => "incident",
        }
    }
}

/// What one poll of a source delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceData {
    GitHub {
        prs: Vec<PullRequest>,
        runs: Vec<WorkflowRun>,
        rate: Option<RateLimit>,
    },
    Prometheus(Vec<ServiceRollout>),
    Sentry(Vec<Incident>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    pub reset: i64,
}
