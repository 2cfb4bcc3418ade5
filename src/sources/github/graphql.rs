//! The PR list through GitHub's GraphQL API: one request per repository and 100 PRs, carrying
//! what the PRs tab shows (checks with their links, review decision and latest reviews,
//! mergeability, size, labels), instead of four REST requests per PR.
//!
//! GitHub answers GraphQL errors with HTTP 200 and an `errors` array (`RATE_LIMITED`,
//! `NOT_FOUND`, …): they are errors here too; `data` that came with them is kept when it holds the
//! repository. GraphQL has its own rate limit (`x-ratelimit-resource: graphql`, points per hour),
//! kept apart from REST's.

use super::{
    ApiCheckRun, ApiReview, ApiStatus, ApiUser, GitHub, parse_time, review_decision, text,
};
use crate::domain::{
    Check, ChecksRollup, PullRequest, RateLimit, ReviewDecision, SourceError, WorkflowRun,
};
use crate::sanitize::{clean, clean_multiline};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use time::OffsetDateTime;

/// The fields of a pull request the PRs tab shows (a fragment appended to the queries that read
/// whole pull requests).
pub const PULL_REQUEST_FIELDS: &str = include_str!("pull_request_fields.graphql");
/// PRs by node id, as sent (`pulls_by_id.graphql` with the shared fields).
pub const PULLS_BY_ID_QUERY: &str = concat!(
    include_str!("pulls_by_id.graphql"),
    "\n",
    include_str!("pull_request_fields.graphql")
);

/// What a batched list query reads of each pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Everything the PRs tab shows ([`PULL_REQUEST_FIELDS`]): a full read.
    Full,
    /// Only what says whether a pull request changed (id, number, state, `updatedAt`): the
    /// probe of an incremental read, about a point for every repository at once.
    Stamp,
}

/// The PR list of `repos` repositories in one request: repository `i` is the field aliased `r{i}`
/// with variables `$owner{i}`, `$name{i}` and `$after{i}`; `$states` and `$first` are shared.
/// Newest activity first (`UPDATED_AT` descending), so a read of what changed stops at the first
/// pull request older than the last poll. Validated against GitHub's schema by the tests.
pub fn pulls_query(repos: usize, selection: Selection) -> String {
    use std::fmt::Write;
    let (name, nodes) = match selection {
        Selection::Full => ("PullRequestPages", "...PullRequestFields"),
        Selection::Stamp => (
            "PullRequestChanges",
            "id\n        number\n        state\n        updatedAt",
        ),
    };
    let mut vars = String::from("$states: [PullRequestState!], $first: Int!");
    for i in 0..repos {
        let _ = write!(
            vars,
            ", $owner{i}: String!, $name{i}: String!, $after{i}: String"
        );
    }
    let mut q = format!(
        "query {name}({vars}) {{\n  rateLimit {{\n    cost\n    limit\n    remaining\n    resetAt\n  }}\n"
    );
    for i in 0..repos {
        let _ = write!(
            q,
            "  r{i}: repository(owner: $owner{i}, name: $name{i}) {{\n    pullRequests(states: $states, first: $first, after: $after{i}, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{\n      totalCount\n      pageInfo {{\n        hasNextPage\n        endCursor\n      }}\n      nodes {{\n        {nodes}\n      }}\n    }}\n  }}\n"
        );
    }
    q.push_str("}\n");
    if selection == Selection::Full {
        q.push('\n');
        q.push_str(PULL_REQUEST_FIELDS);
    }
    q
}

/// The GraphQL endpoint of a REST API root: `https://api.github.com` → `…/graphql`;
/// GitHub Enterprise `https://HOST/api/v3` → `https://HOST/api/graphql`.
pub fn graphql_url(api: &str) -> String {
    let api = api.trim_end_matches('/');
    match api.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{api}/graphql"),
    }
}

#[derive(Debug, Deserialize)]
pub struct Answer {
    /// Each field of `data` as its JSON text, read into its type only when asked for: a page of
    /// five repositories is never held as a tree of `Value`s.
    #[serde(default)]
    pub data: Option<HashMap<String, Box<serde_json::value::RawValue>>>,
    #[serde(default)]
    pub errors: Vec<GqlError>,
}

#[derive(Debug, Deserialize)]
pub struct GqlError {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: String,
    /// Where in `data` the error belongs (`["r2"]` for the third repository of a batch).
    #[serde(default)]
    pub path: Vec<serde_json::Value>,
}

impl GqlError {
    fn to_source_error(&self) -> SourceError {
        match self.kind.as_deref() {
            // GitHub's message names the repository.
            Some("NOT_FOUND") => SourceError::Status {
                status: 404,
                message: clean(&self.message),
            },
            kind => SourceError::Query {
                error_type: clean(kind.unwrap_or("GraphQL")),
                error: clean(&self.message),
            },
        }
    }

    /// Whether the error is about the field `key` of `data` (or something under it).
    fn about(&self, key: &str) -> bool {
        self.path.first().and_then(|p| p.as_str()) == Some(key)
    }
}

/// An answer's `data` with the errors that belong to parts of it.
#[derive(Debug)]
pub struct Data {
    pub rate_limit: Option<GqlRate>,
    fields: HashMap<String, Box<serde_json::value::RawValue>>,
    errors: Vec<GqlError>,
}

impl Data {
    /// The field `key` (a repository's alias, `repository`, `nodes`), read as `T`; the error
    /// GitHub gave for it when it is null or missing.
    pub fn field<T: serde::de::DeserializeOwned>(&mut self, key: &str) -> Result<T, SourceError> {
        match self.fields.remove(key) {
            Some(v) if v.get().trim() != "null" => serde_json::from_str(v.get())
                .map_err(|e| SourceError::Decode(format!("GraphQL `{key}`: {e}"))),
            _ => Err(self
                .errors
                .iter()
                .find(|e| e.about(key))
                .or(self.errors.first())
                .map(GqlError::to_source_error)
                .unwrap_or_else(|| SourceError::Decode(format!("GraphQL answer without `{key}`")))),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct GqlRate {
    /// The points this query cost.
    #[serde(default)]
    pub cost: Option<u64>,
    pub limit: u64,
    pub remaining: u64,
    #[serde(rename = "resetAt")]
    pub reset_at: String,
}

#[derive(Debug, Deserialize)]
pub struct Repository<T> {
    #[serde(rename = "pullRequests")]
    pub pull_requests: Connection<T>,
}

/// What the change probe reads of a pull request.
#[derive(Debug, Deserialize)]
pub struct Stamp {
    #[serde(default)]
    pub id: Option<String>,
    pub number: u64,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default, rename = "updatedAt")]
    pub updated_at: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Connection<T> {
    #[serde(default = "Vec::new")]
    pub nodes: Vec<Option<T>>,
    #[serde(default, rename = "pageInfo")]
    pub page_info: Option<PageInfo>,
}

#[derive(Debug, Deserialize)]
pub struct PageInfo {
    #[serde(rename = "hasNextPage")]
    pub has_next_page: bool,
    #[serde(default, rename = "endCursor")]
    pub end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Named {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct GqlReview {
    #[serde(default)]
    pub author: Option<ApiUser>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default, rename = "submittedAt")]
    pub submitted_at: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Rollup {
    #[serde(default)]
    pub contexts: Option<Connection<Context>>,
}

/// `StatusCheckRollupContext = CheckRun | StatusContext`.
#[derive(Debug, Deserialize)]
#[serde(tag = "__typename")]
pub enum Context {
    CheckRun {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        status: Option<String>,
        #[serde(default)]
        conclusion: Option<String>,
        #[serde(default, rename = "detailsUrl")]
        details_url: Option<String>,
    },
    StatusContext {
        #[serde(default)]
        context: Option<String>,
        #[serde(default)]
        state: Option<String>,
        #[serde(default, rename = "targetUrl")]
        target_url: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
pub struct Node {
    /// The global node id (for re-reading by id).
    #[serde(default)]
    pub id: Option<String>,
    /// OPEN, CLOSED or MERGED.
    #[serde(default)]
    pub state: Option<String>,
    pub number: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default, rename = "isDraft")]
    pub is_draft: bool,
    #[serde(default, rename = "createdAt")]
    pub created_at: Option<String>,
    #[serde(default, rename = "updatedAt")]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub author: Option<ApiUser>,
    #[serde(default, rename = "headRefName")]
    pub head_ref_name: Option<String>,
    #[serde(default, rename = "baseRefName")]
    pub base_ref_name: Option<String>,
    #[serde(default, rename = "headRefOid")]
    pub head_ref_oid: Option<String>,
    #[serde(default)]
    pub additions: Option<u64>,
    #[serde(default)]
    pub deletions: Option<u64>,
    #[serde(default, rename = "changedFiles")]
    pub changed_files: Option<u64>,
    #[serde(default, rename = "mergeStateStatus")]
    pub merge_state_status: Option<String>,
    #[serde(default, rename = "reviewDecision")]
    pub review_decision: Option<String>,
    #[serde(default)]
    pub labels: Option<Connection<Named>>,
    #[serde(default, rename = "latestReviews")]
    pub latest_reviews: Option<Connection<GqlReview>>,
    #[serde(default, rename = "statusCheckRollup")]
    pub status_check_rollup: Option<Rollup>,
}

fn lower(s: Option<&str>) -> Option<String> {
    s.map(str::to_ascii_lowercase)
}

impl Node {
    /// The PR as the cockpit shows it; checks and statuses map exactly as their REST forms do.
    pub fn into_domain(self, repo: &str) -> PullRequest {
        let mut checks: Vec<Check> = self
            .status_check_rollup
            .and_then(|r| r.contexts)
            .map(|c| c.nodes.into_iter().flatten().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|c| match c {
                Context::CheckRun {
                    name,
                    status,
                    conclusion,
                    details_url,
                } => ApiCheckRun {
                    name,
                    status: lower(status.as_deref()),
                    conclusion: lower(conclusion.as_deref()),
                    html_url: None,
                    details_url,
                }
                .into_domain(),
                Context::StatusContext {
                    context,
                    state,
                    target_url,
                } => ApiStatus {
                    context,
                    state: lower(state.as_deref()),
                    description: None,
                    target_url,
                }
                .into_domain(),
            })
            .collect();
        checks.sort_by(|a, b| a.state.cmp(&b.state).then_with(|| a.name.cmp(&b.name)));
        let reviews: Vec<ApiReview> = self
            .latest_reviews
            .map(|c| c.nodes.into_iter().flatten().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|r| ApiReview {
                user: r.author,
                state: r.state,
                submitted_at: r.submitted_at,
            })
            .collect();
        let (computed, review_list) = review_decision(&reviews);
        let review = match self.review_decision.as_deref() {
            Some("APPROVED") => ReviewDecision::Approved,
            Some("CHANGES_REQUESTED") => ReviewDecision::ChangesRequested,
            Some("REVIEW_REQUIRED") => ReviewDecision::ReviewRequired,
            // No review policy on the branch: what the latest reviews say.
            _ => computed,
        };
        PullRequest {
            repo: repo.to_string(),
            number: self.number,
            title: text(self.title.as_deref()),
            author: text(self.author.as_ref().and_then(|u| u.login.as_deref())),
            draft: self.is_draft,
            labels: self
                .labels
                .map(|c| c.nodes.into_iter().flatten().collect::<Vec<_>>())
                .unwrap_or_default()
                .iter()
                .filter_map(|l| l.name.as_deref().map(clean))
                .collect(),
            head_ref: text(self.head_ref_name.as_deref()),
            head_sha: text(self.head_ref_oid.as_deref()),
            base_ref: text(self.base_ref_name.as_deref()),
            created_at: parse_time(self.created_at.as_deref()),
            updated_at: parse_time(self.updated_at.as_deref()),
            url: text(self.url.as_deref()),
            body: self
                .body
                .as_deref()
                .map(clean_multiline)
                .unwrap_or_default(),
            checks: Some(ChecksRollup::of(&checks)),
            check_list: checks,
            review: Some(review),
            reviews: review_list,
            mergeable: lower(self.merge_state_status.as_deref()).map(|m| clean(&m)),
            additions: self.additions,
            deletions: self.deletions,
            changed_files: self.changed_files,
        }
    }
}

/// What an answer means: its data (with the errors that belong to parts of it), or the error
/// that spoils all of it — `RATE_LIMITED`, or errors without any data.
pub fn read_answer(
    answer: Answer,
    what: &str,
    wait_secs: impl Fn() -> u64,
) -> Result<Data, SourceError> {
    if answer
        .errors
        .iter()
        .any(|e| e.kind.as_deref() == Some("RATE_LIMITED"))
    {
        return Err(SourceError::RateLimited {
            retry_after_secs: wait_secs(),
        });
    }
    let Some(mut fields) = answer.data else {
        return Err(match answer.errors.first() {
            Some(e) => e.to_source_error(),
            None => SourceError::Decode(format!("{what}: an answer without data")),
        });
    };
    if let Some(e) = answer.errors.first() {
        // Partial data: kept; each part that is missing answers with its own error.
        tracing::warn!(what, error = %clean(&e.message), "GitHub GraphQL answered with errors");
    }
    let rate_limit = fields
        .remove("rateLimit")
        .and_then(|v| serde_json::from_str(v.get()).ok());
    Ok(Data {
        rate_limit,
        fields,
        errors: answer.errors,
    })
}

/// How often the PR lists are read whole at least (catches anything an incremental read cannot
/// see, such as a status from an outside CI). At scale a whole read costs hundreds of points:
/// then it is spaced so that whole reads spend at most [`FULL_READ_SHARE`] of the hour's points.
pub const FULL_READ_EVERY: Duration = Duration::from_secs(10 * 60);
/// The share of the GraphQL points per hour that whole re-reads may spend.
pub const FULL_READ_SHARE: f64 = 0.08;
/// The page size of the change probe: most polls find nothing new in the first page.
const PROBE_PAGE: usize = 20;
/// Every state: a probe sees PRs that were closed or merged since the last poll.
const ALL_STATES: [&str; 3] = ["OPEN", "CLOSED", "MERGED"];

/// What the client keeps of one repository's PRs between polls.
#[derive(Debug, Default)]
pub struct RepoPrs {
    /// Open PRs by number, with their node ids.
    open: HashMap<u64, (Option<String>, Arc<PullRequest>)>,
    /// The newest `updatedAt` seen: a read of what changed stops below it.
    newest: Option<OffsetDateTime>,
    /// When the list was last read whole.
    full_at: Option<OffsetDateTime>,
    /// The newest run activity seen (a run's `updated_at`): runs newer than this mark the PRs of
    /// their head commits for a re-read, since check activity does not move a PR's `updatedAt`.
    runs_seen: Option<OffsetDateTime>,
}

impl RepoPrs {
    /// The open PRs, newest activity first, at most `cap`.
    fn list(&self, cap: usize) -> Vec<Arc<PullRequest>> {
        let mut v: Vec<Arc<PullRequest>> = self.open.values().map(|(_, p)| p.clone()).collect();
        v.sort_by(|a, b| {
            b.updated_at
                .cmp(&a.updated_at)
                .then_with(|| b.number.cmp(&a.number))
        });
        v.truncate(cap);
        v
    }

    /// Take a PR as read now: kept when open, dropped when closed or merged.
    fn apply(&mut self, repo: &str, node: Node) {
        let id = node.id.clone();
        let open = node.state.as_deref().is_none_or(|s| s == "OPEN");
        let pr = node.into_domain(repo);
        if pr.updated_at > self.newest {
            self.newest = pr.updated_at;
        }
        if open {
            self.open.insert(pr.number, (id, Arc::new(pr)));
        } else {
            self.open.remove(&pr.number);
        }
    }

    /// Whether a probed PR needs reading: new, or changed since it was read.
    fn changed(&self, stamp: &Stamp) -> bool {
        match self.open.get(&stamp.number) {
            Some((_, known)) => known.updated_at != parse_time(stamp.updated_at.as_deref()),
            None => true,
        }
    }

    /// What is worth keeping across a restart (the PRs themselves come back from the stored
    /// poll): node ids by number and the marks.
    pub fn memo(&self) -> serde_json::Value {
        let ids: serde_json::Map<String, serde_json::Value> = self
            .open
            .iter()
            .filter_map(|(n, (id, _))| Some((n.to_string(), id.clone()?.into())))
            .collect();
        let unix = |t: Option<OffsetDateTime>| t.map(|t| t.unix_timestamp());
        serde_json::json!({
            "ids": ids,
            "newest": unix(self.newest),
            "full_at": unix(self.full_at),
            "runs_seen": unix(self.runs_seen),
        })
    }

    /// A repository's PRs as a memo and the stored poll's PRs of that repository describe them.
    /// `None` when the memo does not fit.
    pub fn restore(memo: &serde_json::Value, prs: Vec<Arc<PullRequest>>) -> Option<RepoPrs> {
        let ids = memo.get("ids")?.as_object()?;
        let time = |k: &str| {
            memo.get(k)
                .and_then(serde_json::Value::as_i64)
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        };
        let open = prs
            .into_iter()
            .map(|p| {
                let id = ids
                    .get(&p.number.to_string())
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                (p.number, (id, p))
            })
            .collect();
        Some(RepoPrs {
            open,
            newest: time("newest"),
            full_at: time("full_at"),
            runs_seen: time("runs_seen"),
        })
    }
}

/// A repository being read whole, page by page.
struct WholeRead {
    repo: String,
    fresh: RepoPrs,
    after: Option<String>,
}

/// A repository being probed for changes, page by page.
struct Probe {
    repo: String,
    stop: OffsetDateTime,
    after: Option<String>,
}

fn owner_name(repo: &str) -> Result<(&str, &str), SourceError> {
    repo.split_once('/')
        .ok_or_else(|| SourceError::Config(format!("github.repos: \"{repo}\" is not OWNER/NAME")))
}

impl GitHub {
    /// One batched list request: page `after` of each repository's list.
    async fn pulls_batch(
        &self,
        repos: &[(&str, Option<&str>)],
        selection: Selection,
        states: &[&str],
        first: usize,
    ) -> Result<Data, SourceError> {
        let mut vars = serde_json::Map::new();
        vars.insert("states".into(), states.into());
        vars.insert("first".into(), first.clamp(1, 100).into());
        for (i, (repo, after)) in repos.iter().enumerate() {
            let (owner, name) = owner_name(repo)?;
            vars.insert(format!("owner{i}"), owner.into());
            vars.insert(format!("name{i}"), name.into());
            vars.insert(format!("after{i}"), (*after).into());
        }
        let body = serde_json::json!({
            "query": pulls_query(repos.len(), selection),
            "variables": vars,
        });
        let what = match repos {
            [(one, _)] => format!("pull requests of {one}"),
            _ => format!("pull requests of {} repositories", repos.len()),
        };
        self.graphql(&body, &what).await
    }

    /// Send a GraphQL request; errors in the answer become errors, the points budget is noted.
    async fn graphql(&self, body: &serde_json::Value, what: &str) -> Result<Data, SourceError> {
        let url = graphql_url(&self.api);
        let req = self.authed(self.http.client().post(&url)).json(body);
        let resp = self
            .send(req, self.role, crate::sources::budget::Resource::Graphql)
            .await?;
        if resp.status != 200 {
            return Err(self.refused(&resp));
        }
        let answer: Answer = serde_json::from_slice(&resp.body)
            .map_err(|e| SourceError::Decode(format!("{what}: {e}")))?;
        let wait =
            || crate::sources::http::wait_for_reset(&resp, "x-ratelimit-reset", super::now_unix());
        let data = match read_answer(answer, what, wait) {
            Err(e @ SourceError::RateLimited { retry_after_secs }) => {
                self.budget.block(retry_after_secs);
                return Err(e);
            }
            other => other?,
        };
        if let Some(r) = &data.rate_limit {
            let rate = RateLimit {
                limit: r.limit,
                remaining: r.remaining,
                reset: parse_time(Some(&r.reset_at)).map_or(0, |t| t.unix_timestamp()),
            };
            self.budget
                .note(crate::sources::budget::Resource::Graphql, rate);
            self.spent_points
                .fetch_add(r.cost.unwrap_or(1), Ordering::Relaxed);
        }
        Ok(data)
    }

    /// Read access to what is kept of a repository's PRs.
    fn known_prs<T>(&self, repo: &str, f: impl FnOnce(&mut RepoPrs) -> T) -> Option<T> {
        let mut known = self.known.lock().ok()?;
        Some(f(known.entry(repo.to_string()).or_default()))
    }

    /// Whether `repo`'s list is due a whole read: never read, or its last whole read is older
    /// than the interval whole reads are allowed at (see [`FULL_READ_EVERY`]).
    pub(super) fn due_whole(&self, repo: &str, now: OffsetDateTime) -> bool {
        let every = self.whole_read_every();
        self.known_prs(repo, |k| match (k.full_at, k.newest) {
            (Some(at), Some(_)) => now - at >= every,
            _ => true,
        })
        .unwrap_or(true)
    }

    /// How often whole reads may come: [`FULL_READ_EVERY`], or rarer when the last one cost more
    /// than [`FULL_READ_SHARE`] of the hour's points allows.
    pub fn whole_read_every(&self) -> time::Duration {
        let limit = self
            .budget
            .rate(crate::sources::budget::Resource::Graphql)
            .map_or(5000, |r| r.limit)
            .max(1);
        let cost = self.whole_read_cost.load(Ordering::Relaxed) as f64;
        let secs =
            (cost / (FULL_READ_SHARE * limit as f64) * 3600.0).max(FULL_READ_EVERY.as_secs_f64());
        time::Duration::seconds_f64(secs.min(24.0 * 3600.0))
    }

    /// Read the lists of `repos` whole, their pages batched into one request at a time. Returns
    /// the repositories that failed with their error (the others are replaced by what was read).
    pub(super) async fn read_whole(
        &self,
        repos: &[String],
        now: OffsetDateTime,
    ) -> Result<Vec<(String, SourceError)>, SourceError> {
        let points_before = self.spent_points.load(Ordering::Relaxed);
        let mut failed = Vec::new();
        let mut active: Vec<WholeRead> = repos
            .iter()
            .map(|r| WholeRead {
                repo: r.clone(),
                fresh: RepoPrs {
                    full_at: Some(now),
                    ..RepoPrs::default()
                },
                after: None,
            })
            .collect();
        let mut done = Vec::new();
        while !active.is_empty() {
            let first = active
                .iter()
                .map(|w| self.max_items.saturating_sub(w.fresh.open.len()))
                .max()
                .unwrap_or(1)
                .clamp(1, 100);
            let asked: Vec<(&str, Option<&str>)> = active
                .iter()
                .map(|w| (w.repo.as_str(), w.after.as_deref()))
                .collect();
            let mut data = self
                .pulls_batch(&asked, Selection::Full, &["OPEN"], first)
                .await?;
            let mut next = Vec::new();
            for (i, mut w) in active.into_iter().enumerate() {
                let page: Result<Repository<Node>, _> = data.field(&format!("r{i}"));
                let page = match page {
                    Ok(p) => p.pull_requests,
                    Err(e) => {
                        failed.push((w.repo, e));
                        continue;
                    }
                };
                for node in page.nodes.into_iter().flatten() {
                    w.fresh.apply(&w.repo, node);
                }
                let more = page
                    .page_info
                    .filter(|p| p.has_next_page && w.fresh.open.len() < self.max_items)
                    .and_then(|p| p.end_cursor);
                match more {
                    Some(cursor) => {
                        w.after = Some(cursor);
                        next.push(w);
                    }
                    None => done.push(w),
                }
            }
            active = next;
        }
        for mut w in done {
            self.known_prs(&w.repo, |k| {
                // Run activity already seen stays seen.
                w.fresh.runs_seen = k.runs_seen;
                *k = w.fresh;
            });
        }
        let spent = self.spent_points.load(Ordering::Relaxed) - points_before;
        if repos.len() == self.repos.len() {
            self.whole_read_cost.store(spent, Ordering::Relaxed);
        }
        Ok(failed)
    }

    /// Probe `repos` for what changed since the last poll (one batched request of a point or
    /// so; more pages only for a repository with more changes than a page holds). Closed and
    /// merged PRs leave the list at once; returns the node ids of the open PRs to read again,
    /// and the repositories whose probe failed.
    pub(super) async fn probe(
        &self,
        repos: &[String],
    ) -> Result<(Vec<(String, String)>, Vec<(String, SourceError)>), SourceError> {
        let mut ids = Vec::new();
        let mut failed = Vec::new();
        let mut active: Vec<Probe> = repos
            .iter()
            .filter_map(|r| {
                let newest = self.known_prs(r, |k| k.newest).flatten()?;
                Some(Probe {
                    repo: r.clone(),
                    // A second of overlap: PRs updated in the newest one's second are looked
                    // at again (and read only if they differ from what is known).
                    stop: newest - time::Duration::seconds(1),
                    after: None,
                })
            })
            .collect();
        while !active.is_empty() {
            let asked: Vec<(&str, Option<&str>)> = active
                .iter()
                .map(|p| (p.repo.as_str(), p.after.as_deref()))
                .collect();
            let mut data = self
                .pulls_batch(&asked, Selection::Stamp, &ALL_STATES, PROBE_PAGE)
                .await?;
            let mut next = Vec::new();
            for (i, mut p) in active.into_iter().enumerate() {
                let page: Result<Repository<Stamp>, _> = data.field(&format!("r{i}"));
                let page = match page {
                    Ok(page) => page.pull_requests,
                    Err(e) => {
                        failed.push((p.repo, e));
                        continue;
                    }
                };
                let mut reached = false;
                let repo = p.repo.clone();
                self.known_prs(&repo, |k| {
                    for stamp in page.nodes.into_iter().flatten() {
                        let updated = parse_time(stamp.updated_at.as_deref());
                        if updated.is_none_or(|u| u < p.stop) {
                            reached = true;
                            break;
                        }
                        if stamp.state.as_deref().is_some_and(|s| s != "OPEN") {
                            k.open.remove(&stamp.number);
                            k.newest = k.newest.max(updated);
                        } else if k.changed(&stamp)
                            && let Some(id) = stamp.id
                        {
                            ids.push((repo.clone(), id));
                        }
                    }
                });
                let more = page
                    .page_info
                    .filter(|i| i.has_next_page && !reached)
                    .and_then(|i| i.end_cursor);
                if let Some(cursor) = more {
                    p.after = Some(cursor);
                    next.push(p);
                }
            }
            active = next;
        }
        Ok((ids, failed))
    }

    /// The node ids of the open PRs of `repo` whose head commit had run activity since the
    /// last poll (checks change without moving a PR's `updatedAt`).
    pub(super) fn run_activity(&self, repo: &str, runs: &[WorkflowRun]) -> Vec<String> {
        let newest_run = runs.iter().filter_map(|r| r.updated_at).max();
        self.known_prs(repo, |k| {
            let seen = k.runs_seen;
            k.runs_seen = newest_run.max(seen);
            // The first poll read everything: nothing to re-read.
            let Some(seen) = seen else {
                return Vec::new();
            };
            let heads: std::collections::HashSet<&str> = runs
                .iter()
                .filter(|r| r.updated_at.is_some_and(|u| u > seen))
                .map(|r| r.sha.as_str())
                .collect();
            k.open
                .values()
                .filter(|(_, p)| heads.contains(p.head_sha.as_str()))
                .filter_map(|(id, _)| id.clone())
                .collect()
        })
        .unwrap_or_default()
    }

    /// Read PRs by node id, 100 a request, into what is known of their repositories.
    pub(super) async fn read_by_id(&self, ids: &[(String, String)]) -> Result<(), SourceError> {
        for chunk in ids.chunks(100) {
            let list: Vec<&str> = chunk.iter().map(|(_, id)| id.as_str()).collect();
            let body = serde_json::json!({
                "query": PULLS_BY_ID_QUERY,
                "variables": { "ids": list },
            });
            let mut data = self.graphql(&body, "pull requests by id").await?;
            let nodes: Vec<Option<Node>> = data.field("nodes")?;
            for ((repo, _), node) in chunk.iter().zip(nodes) {
                if let Some(node) = node {
                    self.known_prs(repo, |k| k.apply(repo, node));
                }
            }
        }
        Ok(())
    }

    /// The open PRs known of `repo`, newest activity first.
    pub(super) fn known_list(&self, repo: &str) -> Vec<Arc<PullRequest>> {
        let cap = self.max_items;
        self.known_prs(repo, |k| k.list(cap)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CheckState;

    /// One node shaped by the query's selection over the schema.
    fn node() -> serde_json::Value {
        serde_json::json!({
            "number": 422, "title": "Retry payment capture \u{1b}[31mnow", "url": "https://github.com/acme/checkout/pull/422",
            "body": "Fixes CHECKOUT-3F\r\nsecond line", "isDraft": false,
            "createdAt": "2026-11-23T08:00:00Z", "updatedAt": "2026-11-23T09:00:00Z",
            "author": {"login": "alice"}, "headRefName": "fix/retry", "baseRefName": "main",
            "headRefOid": "abc123", "additions": 40, "deletions": 12, "changedFiles": 3,
            "mergeStateStatus": "BLOCKED", "reviewDecision": null,
            "labels": {"nodes": [{"name": "payments"}, null]},
            "latestReviews": {"nodes": [
                {"author": {"login": "rita"}, "state": "APPROVED", "submittedAt": "2026-11-23T08:30:00Z"},
                {"author": null, "state": "COMMENTED", "submittedAt": null}
            ]},
            "statusCheckRollup": {"state": "FAILURE", "contexts": {"nodes": [
                {"__typename": "CheckRun", "name": "test", "status": "COMPLETED", "conclusion": "FAILURE", "detailsUrl": "https://github.com/acme/checkout/runs/1"},
                {"__typename": "CheckRun", "name": "lint", "status": "IN_PROGRESS", "conclusion": null, "detailsUrl": null},
                {"__typename": "StatusContext", "context": "ci/legacy", "state": "SUCCESS", "targetUrl": "https://ci.example.com/1"}
            ]}}
        })
    }

    fn answer(v: serde_json::Value) -> Answer {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_node_maps_like_its_rest_forms() {
        let n: Node = serde_json::from_value(node()).unwrap();
        let pr = n.into_domain("acme/checkout");
        assert_eq!(pr.number, 422);
        assert_eq!(
            pr.title, "Retry payment capture now",
            "escape sequences are cleaned"
        );
        assert_eq!(pr.body, "Fixes CHECKOUT-3F\nsecond line");
        assert_eq!(pr.mergeable.as_deref(), Some("blocked"));
        assert_eq!(pr.labels, vec!["payments"]);
        assert_eq!(
            (pr.additions, pr.deletions, pr.changed_files),
            (Some(40), Some(12), Some(3))
        );
        // No review policy: the latest reviews decide.
        assert_eq!(pr.review, Some(ReviewDecision::Approved));
        assert_eq!(pr.reviews.len(), 2);
        let states: Vec<(String, CheckState)> = pr
            .check_list
            .iter()
            .map(|c| (c.name.clone(), c.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("test".to_string(), CheckState::Failed),
                ("lint".to_string(), CheckState::Pending),
                ("ci/legacy".to_string(), CheckState::Passed),
            ]
        );
        assert_eq!(
            pr.check_list[0].url,
            "https://github.com/acme/checkout/runs/1"
        );
        let rollup = pr.checks.unwrap();
        assert_eq!((rollup.failed, rollup.pending, rollup.passed), (1, 1, 1));
    }

    #[test]
    fn a_review_decision_wins_over_the_reviews_and_nulls_are_allowed() {
        let mut v = node();
        v["reviewDecision"] = "CHANGES_REQUESTED".into();
        v["statusCheckRollup"] = serde_json::Value::Null;
        v["author"] = serde_json::Value::Null;
        v["labels"] = serde_json::Value::Null;
        let pr = serde_json::from_value::<Node>(v)
            .unwrap()
            .into_domain("acme/checkout");
        assert_eq!(pr.review, Some(ReviewDecision::ChangesRequested));
        assert!(pr.check_list.is_empty());
        assert_eq!(pr.author, "");
    }

    fn page(nodes: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "rateLimit": {"cost": 1, "limit": 5000, "remaining": 4990, "resetAt": "2026-11-23T10:00:00Z"},
            "repository": {"pullRequests": {"totalCount": 1, "pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": nodes}}
        })
    }

    #[test]
    fn errors_in_a_200_are_errors_and_partial_data_is_kept() {
        let rate_limited = answer(serde_json::json!({
            "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]
        }));
        assert_eq!(
            read_answer(rate_limited, "acme/checkout", || 120).unwrap_err(),
            SourceError::RateLimited {
                retry_after_secs: 120
            }
        );
        // A batch where one repository is unknown: the others are kept, the unknown one answers
        // with its own error.
        let not_found = answer(serde_json::json!({
            "data": {"r0": page(serde_json::json!([node()]))["repository"].clone(), "r1": null},
            "errors": [{"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve to a Repository with the name 'acme/nope'."}]
        }));
        let mut data = read_answer(not_found, "two repositories", || 1).unwrap();
        assert!(matches!(
            data.field::<Repository<Node>>("r1"),
            Err(SourceError::Status { status: 404, .. })
        ));
        let r0: Repository<Node> = data.field("r0").unwrap();
        assert_eq!(r0.pull_requests.nodes.len(), 1);
        let no_data = answer(serde_json::json!({
            "errors": [{"message": "Variable $owner of type String! was provided invalid value"}]
        }));
        assert!(matches!(
            read_answer(no_data, "acme/checkout", || 1),
            Err(SourceError::Query { .. })
        ));
        let partial = answer(serde_json::json!({
            "data": page(serde_json::json!([node(), null])),
            "errors": [{"type": "FORBIDDEN", "path": ["repository", "pullRequests", "nodes", 1], "message": "Resource not accessible"}]
        }));
        let mut data = read_answer(partial, "acme/checkout", || 1).unwrap();
        assert_eq!(data.rate_limit.as_ref().unwrap().remaining, 4990);
        let repo: Repository<Node> = data.field("repository").unwrap();
        assert_eq!(repo.pull_requests.nodes.into_iter().flatten().count(), 1);
    }

    #[test]
    fn changes_are_merged_into_what_is_known() {
        let mut k = RepoPrs::default();
        let node = |n: u64, state: &str, updated: &str| {
            let mut v = node();
            v["number"] = n.into();
            v["state"] = state.into();
            v["id"] = format!("PR_{n}").into();
            v["updatedAt"] = updated.into();
            serde_json::from_value::<Node>(v).unwrap()
        };
        k.apply("acme/checkout", node(1, "OPEN", "2026-11-23T08:00:00Z"));
        k.apply("acme/checkout", node(2, "OPEN", "2026-11-23T09:00:00Z"));
        k.apply("acme/checkout", node(3, "OPEN", "2026-11-23T07:00:00Z"));
        let numbers = |k: &RepoPrs, cap| k.list(cap).iter().map(|p| p.number).collect::<Vec<_>>();
        assert_eq!(numbers(&k, 10), [2, 1, 3], "newest activity first");
        assert_eq!(numbers(&k, 2), [2, 1], "capped");
        // #1 merged, #3 updated: the merged one leaves, the updated one moves up.
        k.apply("acme/checkout", node(1, "MERGED", "2026-11-23T09:30:00Z"));
        k.apply("acme/checkout", node(3, "OPEN", "2026-11-23T09:40:00Z"));
        assert_eq!(numbers(&k, 10), [3, 2]);
        assert_eq!(
            k.newest,
            parse_time(Some("2026-11-23T09:40:00Z")),
            "the newest activity seen"
        );
    }

    #[test]
    fn graphql_endpoints() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            graphql_url("http://127.0.0.1:9/"),
            "http://127.0.0.1:9/graphql"
        );
    }
}
