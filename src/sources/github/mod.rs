//! GitHub REST: open pull requests (with checks, reviews, mergeability and size), workflow runs (with
//! the deployments they wait for), jobs, job logs, and the actions on runs. Every GET is conditional
//! (a 304 costs no rate limit) and paginated by `Link`.

pub mod changes;
pub mod dora;
mod graphql;
pub mod regression;
pub use graphql::{
    FULL_READ_EVERY, PULL_REQUEST_FIELDS, PULLS_BY_ID_QUERY, Selection, graphql_url, pulls_query,
};

use super::budget::{Budget, Resource, Use};
use std::sync::Arc;
use std::time::Duration;

use super::http::{
    EtagCache, Http, Response, SourceError, error_summary, next_link, rate_limit_wait,
};
use crate::config::{GitHubConfig, Secret};
use crate::domain::{
    Check, CheckState, DeployedRevisions, Job, PendingDeployment, PrFile, PullRequest, RateLimit,
    RepoError, Review, ReviewDecision, RunState, Slowdown, SourceData, Step, WorkflowRun,
};
use crate::sanitize::{clean, clean_multiline};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub const TOKEN_HINT: &str = "set GH_TOKEN or GITHUB_TOKEN, or github.token_command (default `gh auth token`), or github.anonymous = true for public repositories";

/// At most this many runs per repository are read each poll: one page.
pub const RUNS_PER_REPO: usize = 100;

pub struct GitHub {
    http: Http,
    api: String,
    repos: Vec<String>,
    token: Option<Secret>,
    max_items: usize,
    cache: Mutex<EtagCache>,
    /// The token's budget, shared with the other clients of the token; it keeps the REST
    /// (`core`) and GraphQL (`graphql`) windows apart.
    budget: Arc<Budget>,
    /// What this client's reads are for (the poller's, or the operator's details).
    role: Use,
    /// Each repository's open PRs as of the last poll, so that a poll reads only what changed.
    known: Mutex<std::collections::HashMap<String, graphql::RepoPrs>>,
    requests: AtomicU64,
    /// GraphQL points spent so far (each answer's `rateLimit.cost`).
    spent_points: AtomicU64,
    /// REST answers that cost a request of the window (not 304s) so far.
    spent_core: AtomicU64,
    /// Points the last whole read of every list cost.
    whole_read_cost: AtomicU64,
    /// What the last poll spent: (requests, REST requests counted, GraphQL points).
    last_poll: Mutex<(u64, u64, u64)>,
}

/// The most requests a minute the poller may send for one token; a poll's cadence is stretched
/// to fit (the detail fetches and the operator's changes have the rest of GitHub's allowance).
pub const POLL_REQUESTS_PER_MINUTE: u64 = 24;

#[derive(Debug, Clone, Deserialize)]
pub struct ApiUser {
    #[serde(default)]
    pub login: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiLabel {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiRef {
    #[serde(default, rename = "ref")]
    pub ref_name: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
}

/// The members of a pull request this client reads; every other member is ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiPull {
    pub number: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub user: Option<ApiUser>,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub labels: Option<Vec<ApiLabel>>,
    #[serde(default)]
    pub head: Option<ApiRef>,
    #[serde(default)]
    pub base: Option<ApiRef>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// Only in the single-PR answer.
    #[serde(default)]
    pub mergeable_state: Option<String>,
    #[serde(default)]
    pub additions: Option<u64>,
    #[serde(default)]
    pub deletions: Option<u64>,
    #[serde(default)]
    pub changed_files: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiRunList {
    #[serde(default)]
    pub total_count: Option<u64>,
    pub workflow_runs: Vec<ApiRun>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiRun {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_title: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub run_number: Option<u64>,
    #[serde(default)]
    pub run_attempt: Option<u32>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub actor: Option<ApiUser>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub run_started_at: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiReview {
    #[serde(default)]
    pub user: Option<ApiUser>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub submitted_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiCheckRuns {
    #[serde(default)]
    pub check_runs: Vec<ApiCheckRun>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiCheckRun {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub details_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiCombinedStatus {
    #[serde(default)]
    pub statuses: Vec<ApiStatus>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiStatus {
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub target_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiFile {
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub additions: Option<u64>,
    #[serde(default)]
    pub deletions: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiJobs {
    #[serde(default)]
    pub jobs: Vec<ApiJob>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiJob {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub steps: Option<Vec<ApiStep>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiStep {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub number: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiPending {
    #[serde(default)]
    pub environment: Option<ApiEnvironment>,
    #[serde(default)]
    pub wait_timer: Option<u64>,
    #[serde(default)]
    pub wait_timer_started_at: Option<String>,
    #[serde(default)]
    pub current_user_can_approve: Option<bool>,
    #[serde(default)]
    pub reviewers: Vec<ApiReviewer>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiEnvironment {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiReviewer {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub reviewer: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiDeployment {
    pub id: u64,
    pub sha: String,
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
    /// `deploy` unless the creator named another (`deploy:migrations`).
    #[serde(default)]
    pub task: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiDeploymentStatus {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A job's last green log (see [`GitHub::last_green_log`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GreenLog {
    pub branch: String,
    pub run_id: u64,
    pub run_number: u64,
    pub job_id: u64,
    pub log: String,
}

pub fn parse_time(s: Option<&str>) -> Option<OffsetDateTime> {
    s.and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

fn text(s: Option<&str>) -> String {
    s.map(clean).unwrap_or_default()
}

impl ApiPull {
    pub fn into_domain(self, repo: &str) -> PullRequest {
        PullRequest {
            repo: repo.to_string(),
            number: self.number,
            title: text(self.title.as_deref()),
            author: text(self.user.as_ref().and_then(|u| u.login.as_deref())),
            draft: self.draft.unwrap_or(false),
            labels: self
                .labels
                .unwrap_or_default()
                .iter()
                .filter_map(|l| l.name.as_deref().map(clean))
                .collect(),
            head_ref: text(self.head.as_ref().and_then(|h| h.ref_name.as_deref())),
            head_sha: text(self.head.as_ref().and_then(|h| h.sha.as_deref())),
            base_ref: text(self.base.as_ref().and_then(|h| h.ref_name.as_deref())),
            created_at: parse_time(self.created_at.as_deref()),
            updated_at: parse_time(self.updated_at.as_deref()),
            url: text(self.html_url.as_deref()),
            body: self
                .body
                .as_deref()
                .map(clean_multiline)
                .unwrap_or_default(),
            checks: None,
            check_list: Vec::new(),
            review: None,
            reviews: Vec::new(),
            mergeable: self.mergeable_state.as_deref().map(clean),
            additions: self.additions,
            deletions: self.deletions,
            changed_files: self.changed_files,
        }
    }
}

impl ApiRun {
    pub fn into_domain(self, repo: &str) -> WorkflowRun {
        let workflow = self
            .name
            .as_deref()
            .or_else(|| self.path.as_deref().and_then(|p| p.rsplit('/').next()))
            .map(clean)
            .unwrap_or_else(|| "workflow".into());
        WorkflowRun {
            repo: repo.to_string(),
            id: self.id,
            run_number: self.run_number.unwrap_or(0),
            title: text(self.display_title.as_deref()),
            workflow,
            branch: text(self.head_branch.as_deref()),
            sha: text(self.head_sha.as_deref()),
            event: text(self.event.as_deref()),
            actor: text(self.actor.as_ref().and_then(|u| u.login.as_deref())),
            state: RunState::from_api(
                self.status.as_deref().unwrap_or(""),
                self.conclusion.as_deref(),
            ),
            attempt: self.run_attempt.unwrap_or(1),
            started_at: parse_time(
                self.run_started_at
                    .as_deref()
                    .or(self.created_at.as_deref()),
            ),
            updated_at: parse_time(self.updated_at.as_deref()),
            url: text(self.html_url.as_deref()),
            pending: Vec::new(),
        }
    }
}

impl ApiCheckRun {
    pub fn into_domain(self) -> Check {
        let status = self.status.as_deref().unwrap_or("");
        let detail = match (status, self.conclusion.as_deref()) {
            ("completed", Some(c)) => c.to_string(),
            (s, _) => s.to_string(),
        };
        Check {
            name: text(self.name.as_deref()),
            state: CheckState::from_check_run(status, self.conclusion.as_deref()),
            detail: clean(&detail),
            url: text(self.html_url.as_deref().or(self.details_url.as_deref())),
        }
    }
}

impl ApiStatus {
    pub fn into_domain(self) -> Check {
        let state = self.state.as_deref().unwrap_or("pending");
        let detail = match self.description.as_deref() {
            Some(d) if !d.is_empty() => format!("{state}: {d}"),
            _ => state.to_string(),
        };
        Check {
            name: text(self.context.as_deref()),
            state: CheckState::from_status(state),
            detail: clean(&detail),
            url: text(self.target_url.as_deref()),
        }
    }
}

impl ApiJob {
    pub fn into_domain(self) -> Job {
        Job {
            id: self.id,
            name: text(self.name.as_deref()),
            state: RunState::from_api(
                self.status.as_deref().unwrap_or(""),
                self.conclusion.as_deref(),
            ),
            started_at: parse_time(self.started_at.as_deref()),
            completed_at: parse_time(self.completed_at.as_deref()),
            url: text(self.html_url.as_deref()),
            steps: self
                .steps
                .unwrap_or_default()
                .into_iter()
                .map(|s| Step {
                    number: s.number.unwrap_or(0),
                    name: text(s.name.as_deref()),
                    state: RunState::from_api(
                        s.status.as_deref().unwrap_or(""),
                        s.conclusion.as_deref(),
                    ),
                })
                .collect(),
        }
    }
}

impl ApiPending {
    pub fn into_domain(self) -> Option<PendingDeployment> {
        let env = self.environment?;
        Some(PendingDeployment {
            environment_id: env.id,
            environment: text(env.name.as_deref()),
            wait_timer_minutes: self.wait_timer.unwrap_or(0),
            wait_started_at: parse_time(self.wait_timer_started_at.as_deref()),
            can_approve: self.current_user_can_approve.unwrap_or(false),
            reviewers: self
                .reviewers
                .iter()
                .filter_map(|r| {
                    let v = r.reviewer.as_ref()?;
                    let name = ["login", "slug", "name"]
                        .iter()
                        .find_map(|k| v.get(k).and_then(|x| x.as_str()))?;
                    let kind = r.kind.as_deref().unwrap_or("User");
                    Some(if kind == "Team" {
                        format!("team {}", clean(name))
                    } else {
                        clean(name)
                    })
                })
                .collect(),
        })
    }
}

/// The review decision from the latest review of each reviewer (comments do not override a verdict).
pub fn review_decision(reviews: &[ApiReview]) -> (ReviewDecision, Vec<Review>) {
    let mut latest: BTreeMap<String, (String, Option<OffsetDateTime>)> = BTreeMap::new();
    let mut commented = false;
    for r in reviews {
        let who = text(r.user.as_ref().and_then(|u| u.login.as_deref()));
        let state = r.state.as_deref().unwrap_or("").to_ascii_uppercase();
        let at = parse_time(r.submitted_at.as_deref());
        match state.as_str() {
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED" => {
                latest.insert(who, (state, at));
            }
            "COMMENTED" => {
                commented = true;
                // A comment is the reviewer's latest word only when they gave no verdict.
                let e = latest.entry(who).or_insert((state.clone(), at));
                if e.0 == "COMMENTED" {
                    *e = (state, at);
                }
            }
            _ => {}
        }
    }
    let verdicts: Vec<&str> = latest.values().map(|(s, _)| s.as_str()).collect();
    let decision = if verdicts.contains(&"CHANGES_REQUESTED") {
        ReviewDecision::ChangesRequested
    } else if verdicts.contains(&"APPROVED") {
        ReviewDecision::Approved
    } else if commented {
        ReviewDecision::Commented
    } else {
        ReviewDecision::ReviewRequired
    };
    let list = latest
        .into_iter()
        .map(|(reviewer, (state, submitted_at))| Review {
            reviewer,
            state,
            submitted_at,
        })
        .collect();
    (decision, list)
}

/// Map a non-success GitHub response to an error, reading rate-limit headers.
pub fn classify(resp: &Response, now_unix: i64) -> SourceError {
    let msg = error_summary(&resp.body);
    match resp.status {
        401 => SourceError::Auth {
            status: 401,
            hint: format!("{msg}; {TOKEN_HINT}"),
        },
        // A secondary limit: `Retry-After` when given, else at least a minute, as GitHub asks.
        403 | 429 if msg.to_ascii_lowercase().contains("secondary rate limit") => {
            SourceError::SecondaryLimit {
                retry_after_secs: rate_limit_wait(resp, now_unix)
                    .filter(|_| resp.header("retry-after").is_some())
                    .unwrap_or(60),
            }
        }
        403 | 429 => match rate_limit_wait(resp, now_unix) {
            Some(secs) => SourceError::RateLimited {
                retry_after_secs: secs,
            },
            None => SourceError::Status {
                status: resp.status,
                message: match resp.header("x-accepted-github-permissions") {
                    Some(p) if !p.trim().is_empty() => {
                        format!("{msg} (the token needs the permission {})", clean(p.trim()))
                    }
                    _ => msg,
                },
            },
        },
        s => SourceError::Status {
            status: s,
            message: msg,
        },
    }
}

fn rate_from(resp: &Response) -> Option<RateLimit> {
    Some(RateLimit {
        limit: resp.header("x-ratelimit-limit")?.parse().ok()?,
        remaining: resp.header("x-ratelimit-remaining")?.parse().ok()?,
        reset: resp.header("x-ratelimit-reset")?.parse().ok()?,
    })
}

fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether an error on an optional per-PR request should leave the field empty instead of failing the
/// poll (a token without access to checks answers 403 "Resource not accessible by integration").
fn optional(e: &SourceError) -> bool {
    matches!(
        e,
        SourceError::Status {
            status: 403 | 404 | 422,
            ..
        }
    )
}

/// What a remote change should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentReview {
    Approve,
    Reject,
}

impl GitHub {
    pub fn new(http: Http, cfg: &GitHubConfig, token: Option<Secret>) -> GitHub {
        GitHub {
            http,
            api: cfg.api_url.trim_end_matches('/').to_string(),
            repos: cfg.repos.clone(),
            token,
            max_items: cfg.max_items,
            cache: Mutex::new(EtagCache::default()),
            budget: Arc::new(Budget::default()),
            role: Use::Poll,
            known: Mutex::new(std::collections::HashMap::new()),
            requests: AtomicU64::new(0),
            spent_points: AtomicU64::new(0),
            spent_core: AtomicU64::new(0),
            whole_read_cost: AtomicU64::new(0),
            last_poll: Mutex::new((0, 0, 0)),
        }
    }

    /// This client shares `budget` (one per token) with the token's other clients.
    pub fn sharing(mut self, budget: Arc<Budget>) -> GitHub {
        self.budget = budget;
        self
    }

    /// This client reads for the operator's details (not for polls).
    pub fn for_details(mut self) -> GitHub {
        self.role = Use::Fetch;
        self
    }

    /// The token's budget.
    pub fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    /// Send one request within the token's budget: refused without sending while a rate limit
    /// holds (or, for reads, when only the reserve is left); the window's headers are noted and a
    /// rate-limit refusal blocks the token's other requests until its reset.
    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        what: Use,
        resource: Resource,
    ) -> Result<Response, SourceError> {
        let _admitted = self.budget.admit(what, resource).await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self.http.send(req).await?;
        if let Some(r) = rate_from(&resp) {
            let resource = match resp.header("x-ratelimit-resource") {
                Some("graphql") => Resource::Graphql,
                _ => resource,
            };
            self.budget.note(resource, r);
        }
        if resource == Resource::Core && resp.status != 304 {
            self.spent_core.fetch_add(1, Ordering::Relaxed);
        }
        if matches!(resp.status, 403 | 429)
            && let Some(wait) = classify(&resp, now_unix()).retry_after()
        {
            self.budget.block(wait.as_secs());
        }
        Ok(resp)
    }

    /// The error of a refused answer.
    fn refused(&self, resp: &Response) -> SourceError {
        classify(resp, now_unix())
    }

    /// How far apart polls must be, from what the last one cost: at most
    /// [`POLL_REQUESTS_PER_MINUTE`] requests a minute, and slow enough that the rest of each
    /// rate-limit window lasts until its reset. The second part is returned apart when it is
    /// what holds the polls back.
    pub fn pace(&self) -> (Option<Duration>, Option<Slowdown>) {
        let (requests, core, points) = self.last_poll.lock().map(|l| *l).unwrap_or_default();
        let floor =
            Duration::from_secs_f64(requests as f64 * 60.0 / POLL_REQUESTS_PER_MINUTE as f64);
        let now = now_unix();
        let walls = [(Resource::Core, core), (Resource::Graphql, points)]
            .into_iter()
            .filter_map(|(res, spent)| Some((res, self.budget.pace(res, spent, now)?)))
            .max_by_key(|(_, d)| *d);
        let slowdown = walls
            .filter(|(_, d)| *d > floor && *d > Duration::from_secs(30))
            .and_then(|(res, every)| {
                let r = self.budget.rate(res)?;
                Some(Slowdown {
                    every_secs: every.as_secs(),
                    until: r.reset,
                    graphql: res == Resource::Graphql,
                })
            });
        let pace = walls.map_or(floor, |(_, d)| d.max(floor));
        ((!pace.is_zero()).then_some(pace), slowdown)
    }

    /// Requests sent, core requests and GraphQL points spent so far.
    fn spent(&self) -> (u64, u64, u64) {
        (
            self.requests(),
            self.spent_core.load(Ordering::Relaxed),
            self.spent_points.load(Ordering::Relaxed),
        )
    }

    /// 304 answers served from the cache so far.
    pub fn not_modified(&self) -> u64 {
        self.cache.lock().map(|c| c.hits).unwrap_or(0)
    }

    /// GraphQL's points budget as of the last answer.
    pub fn graphql_rate(&self) -> Option<RateLimit> {
        self.budget.rate(Resource::Graphql)
    }

    /// GraphQL points spent so far.
    pub fn points_spent(&self) -> u64 {
        self.spent_points.load(Ordering::Relaxed)
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let r = req
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        match &self.token {
            Some(t) => r.bearer_auth(t.expose()),
            None => r,
        }
    }

    fn request(&self, url: &str) -> reqwest::RequestBuilder {
        let mut r = self.authed(self.http.client().get(url));
        if let Some(etag) = self.cache.lock().ok().and_then(|c| c.if_none_match(url)) {
            r = r.header("if-none-match", etag);
        }
        r
    }

    /// One conditional GET, parsed. A 304 is answered with the value parsed from the last 200 of
    /// the URL; only a 200 that parses updates the cache, and one that does not drops the URL's
    /// ETag, so the next request fetches the body again.
    async fn get_parsed<T: Clone + Send + Sync + 'static>(
        &self,
        url: &str,
        what: &str,
        parse: impl Fn(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Result<(T, Option<String>), SourceError> {
        self.get_parsed_for(url, what, parse, self.role).await
    }

    /// [`GitHub::get_parsed`] for a read that is part of `what_for` (a change's own reads may
    /// spend the operator's reserve).
    async fn get_parsed_for<T: Clone + Send + Sync + 'static>(
        &self,
        url: &str,
        what: &str,
        parse: impl Fn(&[u8]) -> Result<T, serde_json::Error>,
        what_for: Use,
    ) -> Result<(T, Option<String>), SourceError> {
        let resp = self
            .send(self.request(url), what_for, Resource::Core)
            .await?;
        let cache = |f: &mut dyn FnMut(&mut EtagCache)| {
            if let Ok(mut c) = self.cache.lock() {
                f(&mut c)
            }
        };
        if resp.status == 304 {
            let mut hit = None;
            cache(&mut |c| hit = c.hit::<T>(url));
            if let Some(hit) = hit {
                return Ok(hit);
            }
            // A 304 for a copy we do not hold: forget the ETag so the next request gets a body.
            cache(&mut |c| c.forget(url));
            return Err(SourceError::Decode(format!(
                "{what}: the server said \"not modified\" for a copy flightdeck does not hold"
            )));
        }
        if resp.status != 200 {
            return Err(self.refused(&resp));
        }
        let next = next_link(&resp.headers);
        match parse(&resp.body) {
            Ok(value) => {
                let etag = resp.headers.get("etag").cloned();
                cache(&mut |c| match &etag {
                    Some(e) => c.store(url, e.clone(), next.clone(), value.clone()),
                    None => c.forget(url),
                });
                Ok((value, next))
            }
            Err(e) => {
                cache(&mut |c| c.forget(url));
                Err(SourceError::Decode(format!("{what}: {e}")))
            }
        }
    }

    async fn get_json_for<T: DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        url: &str,
        what: &str,
        what_for: Use,
    ) -> Result<T, SourceError> {
        self.get_parsed_for(url, what, |b| serde_json::from_slice::<T>(b), what_for)
            .await
            .map(|(v, _)| v)
    }

    /// GET with ETag, following `Link: rel="next"` until `cap` items; `parse` turns a page into items.
    async fn get_pages<T: Clone + Send + Sync + 'static>(
        &self,
        first: String,
        cap: usize,
        what: &str,
        parse: impl Fn(&[u8]) -> Result<Vec<T>, serde_json::Error>,
    ) -> Result<Vec<T>, SourceError> {
        let mut url = Some(first);
        let mut out = Vec::new();
        while let Some(u) = url.take() {
            let (items, next) = self.get_parsed(&u, what, &parse).await?;
            out.extend(items);
            url = next.filter(|_| out.len() < cap);
        }
        out.truncate(cap);
        Ok(out)
    }

    fn runs_url(&self, repo: &str) -> String {
        let cap = self.max_items.min(RUNS_PER_REPO);
        format!("{}/repos/{repo}/actions/runs?per_page={cap}", self.api)
    }

    fn pending_url(&self, repo: &str, run_id: u64) -> String {
        format!(
            "{}/repos/{repo}/actions/runs/{run_id}/pending_deployments",
            self.api
        )
    }

    /// The recent runs of `repo`: at most [`RUNS_PER_REPO`] (one conditional request, a 304 when
    /// nothing moved); older runs are history, not release state.
    pub async fn runs(&self, repo: &str) -> Result<Vec<WorkflowRun>, SourceError> {
        let cap = self.max_items.min(RUNS_PER_REPO);
        self.get_pages(
            self.runs_url(repo),
            cap,
            &format!("workflow runs of {repo}"),
            |b| {
                serde_json::from_slice::<ApiRunList>(b).map(|l| {
                    l.workflow_runs
                        .into_iter()
                        .map(|r| r.into_domain(repo))
                        .collect()
                })
            },
        )
        .await
    }

    pub async fn pending_deployments(
        &self,
        repo: &str,
        run_id: u64,
    ) -> Result<Vec<PendingDeployment>, SourceError> {
        let url = self.pending_url(repo, run_id);
        self.get_parsed(&url, &format!("pending deployments of run {run_id}"), |b| {
            serde_json::from_slice::<Vec<ApiPending>>(b)
                .map(|l| l.into_iter().filter_map(ApiPending::into_domain).collect())
        })
        .await
        .map(|(v, _)| v)
    }

    /// One poll. The PR lists come first, from GraphQL, all repositories in one request: a
    /// probe of what changed since the last poll (whole reads when a list is new or due), so
    /// that a poll that cannot be had stops after one request. Then each repository's recent
    /// runs (REST, conditional: 304 when nothing moved), the PRs that changed or whose head had
    /// run activity (by node id, 100 a request), and the deployments the waiting runs wait for.
    /// A repository that fails is named in `failed` while the others are shown.
    pub async fn poll(&mut self) -> Result<SourceData, SourceError> {
        let requests_before = self.requests();
        let points_before = self.spent_points.load(Ordering::Relaxed);
        let core_before = self.spent_core.load(Ordering::Relaxed);
        let now = OffsetDateTime::now_utc();
        let mut failed: Vec<RepoError> = Vec::new();
        let mut fail = |repo: String, error: SourceError| {
            if !failed.iter().any(|f| f.repo == repo) {
                failed.push(RepoError { repo, error });
            }
        };
        let (whole, probed): (Vec<String>, Vec<String>) = self
            .repos
            .iter()
            .cloned()
            .partition(|r| self.due_whole(r, now));
        let mut reread = Vec::new();
        if !probed.is_empty() {
            let (ids, probe_failed) = self.probe(&probed).await?;
            reread = ids;
            for (repo, e) in probe_failed {
                fail(repo, e);
            }
        }
        // A whole read is paced by its own rule (`whole_read_every`): it is left out of the
        // cost that spaces the polls, or the poll after it would wait minutes.
        let mut whole_cost = (0, 0, 0);
        if !whole.is_empty() {
            let before = self.spent();
            for (repo, e) in self.read_whole(&whole, now).await? {
                fail(repo, e);
            }
            let after = self.spent();
            whole_cost = (after.0 - before.0, after.1 - before.1, after.2 - before.2);
        }
        let all_runs =
            futures::future::join_all(self.repos.iter().map(|repo| self.runs(repo))).await;
        let mut runs = Vec::new();
        for (repo, result) in self.repos.iter().zip(all_runs) {
            match result {
                Ok(r) => {
                    for id in self.run_activity(repo, &r) {
                        if !reread.iter().any(|(_, known)| *known == id) {
                            reread.push((repo.clone(), id));
                        }
                    }
                    runs.extend(r);
                }
                // Unreachable, refused token or a rate limit: every further request would fail
                // too, so the poll stops here.
                Err(e) if e.stops_the_poll() => return Err(e),
                Err(e) => fail(repo.clone(), e),
            }
        }
        if !reread.is_empty() {
            self.read_by_id(&reread).await?;
        }
        if let Some(first) = failed.first()
            && failed.len() == self.repos.len()
        {
            return Err(first.error.clone());
        }
        let ok = |repo: &str| !failed.iter().any(|f| f.repo == repo);
        runs.retain(|r| ok(&r.repo));
        for run in runs.iter_mut().filter(|r| r.state == RunState::Waiting) {
            match self.pending_deployments(&run.repo, run.id).await {
                Ok(p) => run.pending = p,
                Err(e) if optional(&e) => {}
                Err(e) => return Err(e),
            }
        }
        runs.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        let prs = self
            .repos
            .iter()
            .filter(|r| ok(r))
            .flat_map(|r| self.known_list(r))
            .collect();
        if let Ok(mut last) = self.last_poll.lock() {
            let now_spent = self.spent();
            *last = (
                (now_spent.0 - requests_before).saturating_sub(whole_cost.0),
                (now_spent.1 - core_before).saturating_sub(whole_cost.1),
                (now_spent.2 - points_before).saturating_sub(whole_cost.2),
            );
        }
        let (_, slowed) = self.pace();
        Ok(SourceData::GitHub {
            prs,
            runs,
            rate: self.budget.rate(Resource::Core),
            graphql_rate: self.graphql_rate(),
            failed,
            slowed,
        })
    }

    /// What is worth keeping across a restart: the PRs known per repository (node ids and the
    /// marks of incremental reads; the PRs themselves are in the stored poll) and the ETags of
    /// the runs lists and pending deployments, whose values the stored poll also holds.
    pub fn memo(&self) -> Option<serde_json::Value> {
        let known = self.known.lock().ok()?;
        if known.is_empty() {
            return None;
        }
        let repos: serde_json::Map<String, serde_json::Value> =
            known.iter().map(|(r, k)| (r.clone(), k.memo())).collect();
        let etags: serde_json::Map<String, serde_json::Value> = self
            .cache
            .lock()
            .ok()?
            .etags()
            .into_iter()
            .filter(|(url, _)| url.contains("/actions/runs"))
            .map(|(url, etag)| (url, etag.into()))
            .collect();
        Some(serde_json::json!({
            "version": 1,
            "api": self.api,
            "repos": repos,
            "etags": etags,
            "whole_read_cost": self.whole_read_cost.load(Ordering::Relaxed),
        }))
    }

    /// Take back a [`GitHub::memo`] with the poll it was saved with (`data`); a memo of another
    /// shape, version or API is ignored, and an ETag whose value the poll does not hold is
    /// dropped (its URL is then read whole).
    pub fn restore(&mut self, memo: serde_json::Value, data: &SourceData) {
        let SourceData::GitHub { prs, runs, .. } = data else {
            return;
        };
        if memo.get("version").and_then(|v| v.as_u64()) != Some(1)
            || memo.get("api").and_then(|v| v.as_str()) != Some(self.api.as_str())
        {
            return;
        }
        if let Some(cost) = memo.get("whole_read_cost").and_then(|v| v.as_u64()) {
            self.whole_read_cost.store(cost, Ordering::Relaxed);
        }
        let mut known = std::collections::HashMap::new();
        for repo in &self.repos {
            let Some(m) = memo.get("repos").and_then(|r| r.get(repo)) else {
                continue;
            };
            let of: Vec<Arc<PullRequest>> =
                prs.iter().filter(|p| &p.repo == repo).cloned().collect();
            if let Some(k) = graphql::RepoPrs::restore(m, of) {
                known.insert(repo.clone(), k);
            }
        }
        let mut cache = EtagCache::default();
        let etags = memo.get("etags").and_then(|e| e.as_object());
        for (url, etag) in etags.into_iter().flatten() {
            let Some(etag) = etag
                .as_str()
                .and_then(|e| reqwest::header::HeaderValue::from_str(e).ok())
            else {
                continue;
            };
            for repo in &self.repos {
                if *url == self.runs_url(repo) {
                    let mut of: Vec<WorkflowRun> =
                        runs.iter().filter(|r| &r.repo == repo).cloned().collect();
                    for r in &mut of {
                        r.pending.clear();
                    }
                    cache.store(url, etag.clone(), None, of);
                } else if let Some(run) = runs
                    .iter()
                    .find(|r| &r.repo == repo && *url == self.pending_url(repo, r.id))
                {
                    cache.store(url, etag.clone(), None, run.pending.clone());
                }
            }
        }
        if let Ok(mut k) = self.known.lock() {
            *k = known;
        }
        if let Ok(mut c) = self.cache.lock() {
            *c = cache;
        }
    }

    /// The files a PR changes (on demand, for the detail pane).
    pub async fn pr_files(&self, repo: &str, number: u64) -> Result<Vec<PrFile>, SourceError> {
        let url = format!(
            "{}/repos/{repo}/pulls/{number}/files?per_page=100",
            self.api
        );
        let files = self
            .get_pages(url, 3000, &format!("files of {repo}#{number}"), |b| {
                serde_json::from_slice::<Vec<ApiFile>>(b)
            })
            .await?;
        Ok(files
            .into_iter()
            .map(|f| PrFile {
                filename: text(f.filename.as_deref()),
                status: text(f.status.as_deref()),
                additions: f.additions.unwrap_or(0),
                deletions: f.deletions.unwrap_or(0),
            })
            .collect())
    }

    /// A run's jobs and their steps (on demand).
    pub async fn jobs(&self, repo: &str, run_id: u64) -> Result<Vec<Job>, SourceError> {
        let url = format!(
            "{}/repos/{repo}/actions/runs/{run_id}/jobs?per_page=100",
            self.api
        );
        let jobs = self
            .get_pages(url, 500, &format!("jobs of run {run_id}"), |b| {
                serde_json::from_slice::<ApiJobs>(b).map(|j| j.jobs)
            })
            .await?;
        Ok(jobs.into_iter().map(ApiJob::into_domain).collect())
    }

    /// One PR by number (REST), with its size; the reviews are not read here.
    pub async fn pull_request(&self, repo: &str, number: u64) -> Result<PullRequest, SourceError> {
        let url = format!("{}/repos/{repo}/pulls/{number}", self.api);
        let pr: ApiPull = self
            .get_json_for(&url, &format!("PR #{number} of {repo}"), Use::Fetch)
            .await?;
        Ok(pr.into_domain(repo))
    }

    /// The newest 30 runs of `repo` on `branch` with `status` (a status or a conclusion).
    async fn newest_runs(
        &self,
        repo: &str,
        branch: &str,
        status: &str,
    ) -> Result<Vec<WorkflowRun>, SourceError> {
        let mut url = reqwest::Url::parse(&format!("{}/repos/{repo}/actions/runs", self.api))
            .map_err(|e| SourceError::Decode(format!("runs URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("branch", branch)
            .append_pair("status", status)
            .append_pair("per_page", "30");
        let (runs, _) = self
            .get_parsed(
                url.as_str(),
                &format!("{status} runs on {branch}"),
                &|b: &[u8]| {
                    serde_json::from_slice::<ApiRunList>(b).map(|l| {
                        l.workflow_runs
                            .into_iter()
                            .map(|r| r.into_domain(repo))
                            .collect::<Vec<_>>()
                    })
                },
            )
            .await?;
        Ok(runs)
    }

    /// The newest completed run of `workflow` on `branch`: (run number, state), `None` without one.
    pub async fn latest_completed(
        &self,
        repo: &str,
        branch: &str,
        workflow: &str,
    ) -> Result<Option<(u64, RunState)>, SourceError> {
        let runs = self.newest_runs(repo, branch, "completed").await?;
        Ok(runs
            .into_iter()
            .find(|r| r.workflow == workflow)
            .map(|r| (r.run_number, r.state)))
    }

    /// The last green log of a job: the newest successful run of `workflow` on the repository's
    /// default branch, its job named `job`, and that job's log — what a failure is compared with.
    /// `None` when there is no such run or job. Four or five requests, on demand only.
    pub async fn last_green_log(
        &self,
        repo: &str,
        workflow: &str,
        job: &str,
    ) -> Result<Option<GreenLog>, SourceError> {
        let branch = self.default_branch(repo).await?;
        let runs = self.newest_runs(repo, &branch, "success").await?;
        let Some(run) = runs.into_iter().find(|r| r.workflow == workflow) else {
            return Ok(None);
        };
        let jobs = self.jobs(repo, run.id).await?;
        let Some(j) = jobs
            .into_iter()
            .find(|j| j.name == job && j.state == RunState::Success)
        else {
            return Ok(None);
        };
        let log = self.job_log(repo, j.id).await?;
        Ok(Some(GreenLog {
            branch,
            run_id: run.id,
            run_number: run.run_number,
            job_id: j.id,
            log,
        }))
    }

    /// A job's log. GitHub answers 302 to a short-lived URL that is fetched without credentials.
    pub async fn job_log(&self, repo: &str, job_id: u64) -> Result<String, SourceError> {
        let url = format!("{}/repos/{repo}/actions/jobs/{job_id}/logs", self.api);
        let resp = self
            .send(
                self.authed(self.http.client().get(&url)),
                Use::Fetch,
                Resource::Core,
            )
            .await?;
        let body = match resp.status {
            200 => resp.body,
            301 | 302 | 303 | 307 | 308 => {
                let location = resp.header("location").ok_or_else(|| {
                    SourceError::Decode("log redirect without a Location header".into())
                })?;
                let target = reqwest::Url::parse(&url)
                    .and_then(|base| base.join(location))
                    .map_err(|e| SourceError::Decode(format!("log redirect: {e}")))?;
                // A plain request: no Authorization, no GitHub headers.
                let blob = self.http.send(self.http.client().get(target)).await?;
                if blob.status != 200 {
                    return Err(SourceError::Status {
                        status: blob.status,
                        message: format!("log download: {}", error_summary(&blob.body)),
                    });
                }
                blob.body
            }
            _ => return Err(self.refused(&resp)),
        };
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    async fn post(
        &self,
        url: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, SourceError> {
        let mut req = self.authed(self.http.client().post(url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = self.send(req, Use::Action, Resource::Core).await?;
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(self.refused(&resp))
        }
    }

    /// One run and the deployments it waits for, read as part of a review (`flightdeck approve`):
    /// these reads may spend the operator's reserve.
    pub async fn run_with_pending(
        &self,
        repo: &str,
        run_id: u64,
    ) -> Result<WorkflowRun, SourceError> {
        let url = format!("{}/repos/{repo}/actions/runs/{run_id}", self.api);
        let run: ApiRun = self
            .get_json_for(&url, &format!("run {run_id} of {repo}"), Use::ActionRead)
            .await?;
        let mut run = run.into_domain(repo);
        let pending: Vec<ApiPending> = self
            .get_json_for(
                &self.pending_url(repo, run_id),
                &format!("pending deployments of run {run_id}"),
                Use::ActionRead,
            )
            .await?;
        run.pending = pending
            .into_iter()
            .filter_map(ApiPending::into_domain)
            .collect();
        Ok(run)
    }

    /// Approve or reject the deployments a run waits for.
    pub async fn review_deployments(
        &self,
        repo: &str,
        run_id: u64,
        environment_ids: &[u64],
        review: DeploymentReview,
        comment: &str,
    ) -> Result<String, SourceError> {
        let url = format!(
            "{}/repos/{repo}/actions/runs/{run_id}/pending_deployments",
            self.api
        );
        let state = match review {
            DeploymentReview::Approve => "approved",
            DeploymentReview::Reject => "rejected",
        };
        let body = serde_json::json!({
            "environment_ids": environment_ids,
            "state": state,
            "comment": comment,
        });
        let resp = self.post(&url, Some(body)).await?;
        Ok(format!("HTTP {}: deployment {state}", resp.status))
    }

    pub async fn rerun_failed_jobs(&self, repo: &str, run_id: u64) -> Result<String, SourceError> {
        let url = format!(
            "{}/repos/{repo}/actions/runs/{run_id}/rerun-failed-jobs",
            self.api
        );
        let resp = self.post(&url, None).await?;
        Ok(format!("HTTP {}: failed jobs re-run", resp.status))
    }

    pub async fn cancel_run(&self, repo: &str, run_id: u64) -> Result<String, SourceError> {
        let url = format!("{}/repos/{repo}/actions/runs/{run_id}/cancel", self.api);
        let resp = self.post(&url, None).await?;
        Ok(format!("HTTP {}: cancel requested", resp.status))
    }

    /// Start a `workflow_dispatch` run of `workflow` (a file name or id) on `git_ref` with inputs.
    pub async fn dispatch_workflow(
        &self,
        repo: &str,
        workflow: &str,
        git_ref: &str,
        inputs: &std::collections::BTreeMap<String, String>,
    ) -> Result<String, SourceError> {
        let url = format!(
            "{}/repos/{repo}/actions/workflows/{workflow}/dispatches",
            self.api
        );
        let body = serde_json::json!({ "ref": git_ref, "inputs": inputs });
        let resp = self.post(&url, Some(body)).await?;
        Ok(format!(
            "HTTP {}: {workflow} dispatched on {git_ref}",
            resp.status
        ))
    }

    /// The deployed revision of an environment and its last good one: the newest deployment's sha,
    /// and the sha of the newest deployment whose latest status is `success` (other than the newest).
    pub async fn deployed_revisions(
        &self,
        repo: &str,
        environment: &str,
    ) -> Result<DeployedRevisions, SourceError> {
        let url = self.deployments_url(repo, environment);
        // Part of a rollback: these reads may spend the operator's reserve.
        let deployments: Vec<ApiDeployment> = self
            .get_json_for(
                &url,
                &format!("deployments of {repo} to {environment}"),
                Use::ActionRead,
            )
            .await?;
        let current = deployments.first().map(|d| clean(&d.sha));
        let mut last_good = None;
        for d in deployments.iter().take(30) {
            let url = self.statuses_url(repo, d.id);
            let statuses: Vec<ApiDeploymentStatus> = self
                .get_json_for(
                    &url,
                    &format!("statuses of deployment {}", d.id),
                    Use::ActionRead,
                )
                .await?;
            // Good: its latest status is success, or it succeeded and was later superseded
            // (GitHub marks older non-production deployments inactive).
            let ok = changes::outcome(&statuses).is_good();
            if ok && Some(clean(&d.sha)) != current {
                last_good = Some((clean(&d.sha), d.git_ref.as_deref().map(clean)));
                break;
            }
        }
        Ok(DeployedRevisions {
            current,
            last_good_ref: last_good.as_ref().and_then(|(_, r)| r.clone()),
            last_good: last_good.map(|(s, _)| s),
        })
    }

    /// The login the token belongs to, for the audit log.
    pub async fn current_user(&self) -> Option<String> {
        self.token.as_ref()?;
        let url = format!("{}/user", self.api);
        // Asked for the audit log of a change: part of it.
        self.get_json_for::<ApiUser>(&url, "user", Use::ActionRead)
            .await
            .ok()
            .and_then(|u| u.login)
            .map(|l| clean(&l))
    }

    /// `doctor`: is the API reachable, and is the token (if any) accepted?
    pub async fn check(&mut self) -> Result<String, SourceError> {
        let url = format!("{}/rate_limit", self.api);
        let resp = self.http.send(self.request(&url)).await?;
        if resp.status != 200 {
            return Err(classify(&resp, now_unix()));
        }
        let auth = if self.token.is_some() {
            "token accepted"
        } else {
            "anonymous"
        };
        let rate = rate_from(&resp)
            .map(|r| format!(", {}/{} requests left", r.remaining, r.limit))
            .unwrap_or_default();
        let scopes = resp
            .header("x-oauth-scopes")
            .map(|s| format!(", scopes: {}", clean(s)))
            .unwrap_or_default();
        Ok(format!("{auth}{rate}{scopes}"))
    }
}
