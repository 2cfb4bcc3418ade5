//! GitHub REST: open pull requests (with checks, reviews, mergeability and size), workflow runs (with
//! the deployments they wait for), jobs, job logs, and the actions on runs. Every GET is conditional
//! (a 304 costs no rate limit) and paginated by `Link`.

mod graphql;
pub use graphql::{PULLS_BY_ID_QUERY, PULLS_QUERY, graphql_url};

use super::http::{
    EtagCache, Http, Response, SourceError, error_summary, next_link, rate_limit_wait,
};
use crate::config::{GitHubConfig, Secret};
use crate::domain::{
    Check, CheckState, DeployedRevisions, Job, PendingDeployment, PrFile, PullRequest, RateLimit,
    RepoError, Review, ReviewDecision, RunState, SourceData, Step, WorkflowRun,
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
    rate: Mutex<Option<RateLimit>>,
    /// GraphQL's own points budget (`x-ratelimit-resource: graphql`), apart from REST's.
    graphql_rate: Mutex<Option<RateLimit>>,
    /// Each repository's open PRs as of the last poll, so that a poll reads only what changed.
    known: Mutex<std::collections::HashMap<String, graphql::RepoPrs>>,
    requests: AtomicU64,
}

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
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiDeploymentStatus {
    #[serde(default)]
    pub state: Option<String>,
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
        403 | 429 => match rate_limit_wait(resp, now_unix) {
            Some(secs) => SourceError::RateLimited {
                retry_after_secs: secs,
            },
            None => SourceError::Status {
                status: resp.status,
                message: msg,
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
            rate: Mutex::new(None),
            graphql_rate: Mutex::new(None),
            known: Mutex::new(std::collections::HashMap::new()),
            requests: AtomicU64::new(0),
        }
    }

    /// What is worth keeping across a restart: the ETags with the values they stand for, and the
    /// PRs known per repository (for the on-disk store). `None` when nothing is known yet.
    pub fn memo(&self) -> Option<serde_json::Value> {
        None
    }

    /// Take back a [`GitHub::memo`]; a memo of another shape is ignored.
    pub fn restore(&mut self, memo: serde_json::Value) {
        let _ = memo;
    }

    /// 304 answers served from the cache so far.
    pub fn not_modified(&self) -> u64 {
        self.cache.lock().map(|c| c.hits).unwrap_or(0)
    }

    /// GraphQL's points budget as of the last answer.
    pub fn graphql_rate(&self) -> Option<RateLimit> {
        self.graphql_rate.lock().ok().and_then(|r| *r)
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

    fn note(&self, resp: &Response) {
        if let Some(r) = rate_from(resp)
            && let Ok(mut rate) = self.rate.lock()
        {
            *rate = Some(r);
        }
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
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self.http.send(self.request(url)).await?;
        self.note(&resp);
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
            return Err(classify(&resp, now_unix()));
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

    async fn get_json<T: DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        url: &str,
        what: &str,
    ) -> Result<T, SourceError> {
        self.get_parsed(url, what, |b| serde_json::from_slice::<T>(b))
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

    /// The recent runs of `repo`: at most [`RUNS_PER_REPO`] (one conditional request, a 304 when
    /// nothing moved); older runs are history, not release state.
    pub async fn runs(&self, repo: &str) -> Result<Vec<WorkflowRun>, SourceError> {
        let cap = self.max_items.min(RUNS_PER_REPO);
        let url = format!("{}/repos/{repo}/actions/runs?per_page={cap}", self.api);
        let list = self
            .get_pages(url, cap, &format!("workflow runs of {repo}"), |b| {
                serde_json::from_slice::<ApiRunList>(b).map(|l| l.workflow_runs)
            })
            .await?;
        Ok(list.into_iter().map(|r| r.into_domain(repo)).collect())
    }

    pub async fn pending_deployments(
        &self,
        repo: &str,
        run_id: u64,
    ) -> Result<Vec<PendingDeployment>, SourceError> {
        let url = format!(
            "{}/repos/{repo}/actions/runs/{run_id}/pending_deployments",
            self.api
        );
        let list: Vec<ApiPending> = self
            .get_json(&url, &format!("pending deployments of run {run_id}"))
            .await?;
        Ok(list
            .into_iter()
            .filter_map(ApiPending::into_domain)
            .collect())
    }

    /// One poll: every repo's open PRs (one GraphQL request per 100) and recent runs (one REST
    /// list per repo, 304 when nothing moved; pending deployments of the runs that wait).
    pub async fn poll(&mut self) -> Result<SourceData, SourceError> {
        let mut prs = Vec::new();
        let mut runs = Vec::new();
        let mut failed = Vec::new();
        for repo in &self.repos {
            let read = async {
                let (p, r) = futures::join!(self.pulls(repo), self.runs(repo));
                let (p, r) = (p?, r?);
                // PRs whose head had run activity are re-read: checks do not move `updatedAt`.
                let p = self.recheck(repo, &r).await?.unwrap_or(p);
                Ok::<_, SourceError>((p, r))
            };
            match read.await {
                Ok((p, r)) => {
                    prs.extend(p);
                    runs.extend(r);
                }
                Err(e) => {
                    // Unreachable, refused token or a rate limit: every further request would
                    // fail too, so the poll stops here. Otherwise this repository is marked and
                    // the others are shown.
                    if e.stops_the_poll() {
                        return Err(e);
                    }
                    failed.push(RepoError {
                        repo: repo.clone(),
                        error: e,
                    });
                }
            }
        }
        if let Some(first) = failed.first()
            && failed.len() == self.repos.len()
        {
            return Err(first.error.clone());
        }
        for run in runs.iter_mut().filter(|r| r.state == RunState::Waiting) {
            match self.pending_deployments(&run.repo, run.id).await {
                Ok(p) => run.pending = p,
                Err(e) if optional(&e) => {}
                Err(e) => return Err(e),
            }
        }
        runs.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        let rate = self.rate.lock().ok().and_then(|r| *r);
        Ok(SourceData::GitHub {
            prs,
            runs,
            rate,
            graphql_rate: self.graphql_rate(),
            failed,
        })
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

    /// A job's log. GitHub answers 302 to a short-lived URL that is fetched without credentials.
    pub async fn job_log(&self, repo: &str, job_id: u64) -> Result<String, SourceError> {
        let url = format!("{}/repos/{repo}/actions/jobs/{job_id}/logs", self.api);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self
            .http
            .send(self.authed(self.http.client().get(&url)))
            .await?;
        self.note(&resp);
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
            _ => return Err(classify(&resp, now_unix())),
        };
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    async fn post(
        &self,
        url: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, SourceError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = self.authed(self.http.client().post(url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = self.http.send(req).await?;
        self.note(&resp);
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(classify(&resp, now_unix()))
        }
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
        let url = format!(
            "{}/repos/{repo}/deployments?environment={environment}&per_page=30",
            self.api
        );
        let deployments: Vec<ApiDeployment> = self
            .get_json(&url, &format!("deployments of {repo} to {environment}"))
            .await?;
        let current = deployments.first().map(|d| clean(&d.sha));
        let mut last_good = None;
        for d in deployments.iter().take(30) {
            let url = format!(
                "{}/repos/{repo}/deployments/{}/statuses?per_page=10",
                self.api, d.id
            );
            let statuses: Vec<ApiDeploymentStatus> = self
                .get_json(&url, &format!("statuses of deployment {}", d.id))
                .await?;
            // Good: its latest status is success, or it succeeded and was later superseded
            // (GitHub marks older non-production deployments inactive).
            let latest = statuses.first().and_then(|s| s.state.as_deref());
            let succeeded = statuses
                .iter()
                .any(|s| s.state.as_deref() == Some("success"));
            let ok = latest == Some("success") || (latest == Some("inactive") && succeeded);
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
        self.get_json::<ApiUser>(&url, "user")
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
