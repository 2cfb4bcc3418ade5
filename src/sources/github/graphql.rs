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
use crate::domain::{Check, ChecksRollup, PullRequest, RateLimit, ReviewDecision, SourceError};
use crate::sanitize::{clean, clean_multiline};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The PR list query, as sent (`pulls.graphql` with the shared fields).
pub const PULLS_QUERY: &str = concat!(
    include_str!("pulls.graphql"),
    "\n",
    include_str!("pull_request_fields.graphql")
);
/// PRs by node id, as sent (`pulls_by_id.graphql` with the shared fields).
pub const PULLS_BY_ID_QUERY: &str = concat!(
    include_str!("pulls_by_id.graphql"),
    "\n",
    include_str!("pull_request_fields.graphql")
);

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
    #[serde(default)]
    pub data: Option<Data>,
    #[serde(default)]
    pub errors: Vec<GqlError>,
}

#[derive(Debug, Deserialize)]
pub struct GqlError {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub struct Data {
    #[serde(default, rename = "rateLimit")]
    pub rate_limit: Option<GqlRate>,
    #[serde(default)]
    pub repository: Option<Repository>,
    /// The answer to a by-id query: one PR (or null) per id asked.
    #[serde(default)]
    pub nodes: Vec<Option<Node>>,
}

#[derive(Debug, Deserialize)]
pub struct GqlRate {
    pub limit: u64,
    pub remaining: u64,
    #[serde(rename = "resetAt")]
    pub reset_at: String,
}

#[derive(Debug, Deserialize)]
pub struct Repository {
    #[serde(rename = "pullRequests")]
    pub pull_requests: Connection<Node>,
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

/// What an answer means: its data, or the error GitHub put in `errors`. Data that came with
/// errors is kept when it holds what was asked (a repository or nodes).
pub fn read_answer(
    answer: Answer,
    what: &str,
    wait_secs: impl Fn() -> u64,
) -> Result<Data, SourceError> {
    let first = answer.errors.first();
    if let Some(e) = first
        && e.kind.as_deref() == Some("RATE_LIMITED")
    {
        return Err(SourceError::RateLimited {
            retry_after_secs: wait_secs(),
        });
    }
    match (answer.data, first) {
        (Some(data), e) if data.repository.is_some() || !data.nodes.is_empty() => {
            if let Some(e) = e {
                // Partial data: keep it, and say what was missing.
                tracing::warn!(what, error = %clean(&e.message), "GitHub GraphQL answered with errors");
            }
            Ok(data)
        }
        // GitHub's message names the repository.
        (_, Some(e)) if e.kind.as_deref() == Some("NOT_FOUND") => Err(SourceError::Status {
            status: 404,
            message: clean(&e.message),
        }),
        (_, Some(e)) => Err(SourceError::Query {
            error_type: clean(e.kind.as_deref().unwrap_or("GraphQL")),
            error: clean(&e.message),
        }),
        (Some(data), None) => Ok(data),
        (None, None) => Err(SourceError::Decode(format!(
            "{what}: an answer without data"
        ))),
    }
}

/// How often a repository's PR list is read whole even when reading only what changed would do
/// (catches anything an incremental read cannot see, such as a status from an outside CI).
pub const FULL_READ_EVERY: Duration = Duration::from_secs(10 * 60);
/// The page size of an incremental read: most polls find nothing new and stop at the first page.
const CHANGES_PAGE: usize = 25;

/// What the client keeps of one repository's PRs between polls.
#[derive(Debug, Default)]
pub struct RepoPrs {
    /// Open PRs by number, with their node ids.
    open: HashMap<u64, (Option<String>, PullRequest)>,
    /// The newest `updatedAt` seen: a read of what changed stops below it.
    newest: Option<OffsetDateTime>,
    /// When the list was last read whole.
    full_at: Option<Instant>,
    /// The newest run activity seen (a run's `updated_at`): runs newer than this mark the PRs of
    /// their head commits for a re-read, since check activity does not move a PR's `updatedAt`.
    runs_seen: Option<OffsetDateTime>,
}

impl RepoPrs {
    /// The open PRs, newest activity first, at most `cap`.
    fn list(&self, cap: usize) -> Vec<PullRequest> {
        let mut v: Vec<PullRequest> = self.open.values().map(|(_, p)| p.clone()).collect();
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
            self.open.insert(pr.number, (id, pr));
        } else {
            self.open.remove(&pr.number);
        }
    }
}

impl GitHub {
    /// One page of the PR list.
    async fn pulls_page(
        &self,
        repo: &str,
        states: &[&str],
        first: usize,
        after: Option<&str>,
    ) -> Result<Connection<Node>, SourceError> {
        let (owner, name) = repo.split_once('/').ok_or_else(|| {
            SourceError::Config(format!("github.repos: \"{repo}\" is not OWNER/NAME"))
        })?;
        let body = serde_json::json!({
            "query": PULLS_QUERY,
            "variables": {
                "owner": owner, "name": name, "states": states, "first": first.clamp(1, 100),
                "after": after,
            },
        });
        let data = self
            .graphql(&body, &format!("pull requests of {repo}"))
            .await?;
        data.repository
            .map(|r| r.pull_requests)
            .ok_or_else(|| SourceError::Decode(format!("pull requests of {repo}: no repository")))
    }

    /// Send a GraphQL request; errors in the answer become errors, the points budget is noted.
    async fn graphql(&self, body: &serde_json::Value, what: &str) -> Result<Data, SourceError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let url = graphql_url(&self.api);
        let req = self.authed(self.http.client().post(&url)).json(body);
        let resp = self.http.send(req).await?;
        if resp.status != 200 {
            return Err(super::classify(&resp, super::now_unix()));
        }
        let answer: Answer = serde_json::from_slice(&resp.body)
            .map_err(|e| SourceError::Decode(format!("{what}: {e}")))?;
        let wait =
            || crate::sources::http::wait_for_reset(&resp, "x-ratelimit-reset", super::now_unix());
        let data = read_answer(answer, what, wait)?;
        if let Some(r) = &data.rate_limit
            && let Ok(mut g) = self.graphql_rate.lock()
        {
            *g = Some(RateLimit {
                limit: r.limit,
                remaining: r.remaining,
                reset: parse_time(Some(&r.reset_at)).map_or(0, |t| t.unix_timestamp()),
            });
        }
        Ok(data)
    }

    /// Every open PR of `repo` (up to `max_items`), newest activity first. The list is read whole
    /// (one GraphQL request per 100) the first time and every [`FULL_READ_EVERY`]; in between only
    /// what changed since the last poll is read, newest first, stopping at the first page that
    /// reaches back past it — usually one small request.
    pub async fn pulls(&self, repo: &str) -> Result<Vec<PullRequest>, SourceError> {
        let since = self.known_prs(repo, |k| match (k.full_at, k.newest) {
            (Some(at), Some(newest)) if at.elapsed() < FULL_READ_EVERY => Some(newest),
            _ => None,
        });
        match since.flatten() {
            Some(newest) => self.pulls_changed(repo, newest).await,
            None => self.pulls_full(repo).await,
        }
    }

    /// Read access to what is kept of a repository's PRs.
    fn known_prs<T>(&self, repo: &str, f: impl FnOnce(&mut RepoPrs) -> T) -> Option<T> {
        let mut known = self.known.lock().ok()?;
        Some(f(known.entry(repo.to_string()).or_default()))
    }

    async fn pulls_full(&self, repo: &str) -> Result<Vec<PullRequest>, SourceError> {
        let mut fresh = RepoPrs {
            full_at: Some(Instant::now()),
            ..RepoPrs::default()
        };
        let mut after: Option<String> = None;
        loop {
            let first = (self.max_items - fresh.open.len()).clamp(1, 100);
            let page = self
                .pulls_page(repo, &["OPEN"], first, after.as_deref())
                .await?;
            for node in page.nodes.into_iter().flatten() {
                fresh.apply(repo, node);
            }
            match page.page_info {
                Some(p) if p.has_next_page && fresh.open.len() < self.max_items => {
                    after = p.end_cursor;
                    if after.is_none() {
                        break;
                    }
                }
                _ => break,
            }
        }
        let list = fresh.list(self.max_items);
        self.known_prs(repo, |k| {
            // Run activity already seen stays seen.
            fresh.runs_seen = k.runs_seen;
            *k = fresh;
        });
        Ok(list)
    }

    async fn pulls_changed(
        &self,
        repo: &str,
        newest: OffsetDateTime,
    ) -> Result<Vec<PullRequest>, SourceError> {
        // A second of overlap: PRs updated in the same second as the newest seen are read again.
        let stop = newest - time::Duration::seconds(1);
        let mut after: Option<String> = None;
        let mut nodes = Vec::new();
        loop {
            let page = self
                .pulls_page(
                    repo,
                    &["OPEN", "CLOSED", "MERGED"],
                    CHANGES_PAGE,
                    after.as_deref(),
                )
                .await?;
            let mut reached = false;
            for node in page.nodes.into_iter().flatten() {
                let updated = parse_time(node.updated_at.as_deref());
                if updated.is_none_or(|u| u < stop) {
                    reached = true;
                    break;
                }
                nodes.push(node);
            }
            match page.page_info {
                Some(p) if p.has_next_page && !reached => {
                    after = p.end_cursor;
                    if after.is_none() {
                        break;
                    }
                }
                _ => break,
            }
        }
        let cap = self.max_items;
        Ok(self
            .known_prs(repo, |k| {
                for node in nodes {
                    k.apply(repo, node);
                }
                k.list(cap)
            })
            .unwrap_or_default())
    }

    /// Re-read the open PRs of `repo` whose head commit had run activity since the last poll
    /// (checks change without moving a PR's `updatedAt`), 100 ids a request. Returns the list
    /// when something was re-read.
    pub async fn recheck(
        &self,
        repo: &str,
        runs: &[crate::domain::WorkflowRun],
    ) -> Result<Option<Vec<PullRequest>>, SourceError> {
        let newest_run = runs.iter().filter_map(|r| r.updated_at).max();
        let ids: Vec<String> = self
            .known_prs(repo, |k| {
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
            .unwrap_or_default();
        if ids.is_empty() {
            return Ok(None);
        }
        let mut nodes = Vec::new();
        for chunk in ids.chunks(100) {
            let body = serde_json::json!({
                "query": PULLS_BY_ID_QUERY,
                "variables": { "ids": chunk },
            });
            let data = self
                .graphql(&body, &format!("pull requests of {repo} by id"))
                .await?;
            nodes.extend(data.nodes.into_iter().flatten());
        }
        let cap = self.max_items;
        Ok(self.known_prs(repo, |k| {
            for node in nodes {
                k.apply(repo, node);
            }
            k.list(cap)
        }))
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
        let not_found = answer(serde_json::json!({
            "data": {"repository": null},
            "errors": [{"type": "NOT_FOUND", "path": ["repository"], "message": "Could not resolve to a Repository with the name 'acme/nope'."}]
        }));
        assert!(matches!(
            read_answer(not_found, "acme/nope", || 1),
            Err(SourceError::Status { status: 404, .. })
        ));
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
        let data = read_answer(partial, "acme/checkout", || 1).unwrap();
        assert_eq!(data.rate_limit.as_ref().unwrap().remaining, 4990);
        let repo = data.repository.unwrap();
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
