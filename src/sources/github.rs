//! GitHub REST: open pull requests and workflow runs of the configured repositories.
//! Every GET is conditional (a 304 costs no rate limit) and paginated by `Link`.

use super::http::{EtagCache, Http, Response, SourceError, error_summary, next_link};
use crate::config::{GitHubConfig, Secret};
use crate::domain::{PullRequest, RateLimit, RunState, SourceData, WorkflowRun};
use crate::sanitize::{clean, clean_multiline};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub const TOKEN_HINT: &str = "set GH_TOKEN or GITHUB_TOKEN, or github.token_command (default `gh auth token`), or github.anonymous = true for public repositories";

pub struct GitHub {
    http: Http,
    api: String,
    repos: Vec<String>,
    token: Option<Secret>,
    max_items: usize,
    cache: EtagCache,
    rate: Option<RateLimit>,
    /// Requests sent (for tests and `doctor`).
    pub requests: u64,
}

#[derive(Debug, Deserialize)]
pub struct ApiUser {
    #[serde(default)]
    pub login: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ApiLabel {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ApiRef {
    #[serde(default, rename = "ref")]
    pub ref_name: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
}

/// The members of a pull request this client reads; every other member is ignored.
#[derive(Debug, Deserialize)]
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
}

#[derive(Debug, Deserialize)]
pub struct ApiRunList {
    #[serde(default)]
    pub total_count: Option<u64>,
    pub workflow_runs: Vec<ApiRun>,
}

#[derive(Debug, Deserialize)]
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
            base_ref: text(self.base.as_ref().and_then(|h| h.ref_name.as_deref())),
            created_at: parse_time(self.created_at.as_deref()),
            updated_at: parse_time(self.updated_at.as_deref()),
            url: text(self.html_url.as_deref()),
            body: self
                .body
                .as_deref()
                .map(clean_multiline)
                .unwrap_or_default(),
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
        }
    }
}

/// Map a non-success GitHub response to an error, reading rate-limit headers.
pub fn classify(resp: &Response, now_unix: i64) -> SourceError {
    let msg = error_summary(&resp.body);
    let remaining = resp
        .header("x-ratelimit-remaining")
        .and_then(|v| v.parse::<u64>().ok());
    match resp.status {
        401 => SourceError::Auth {
            status: 401,
            hint: format!("{msg}; {TOKEN_HINT}"),
        },
        403 | 429 => {
            if let Some(secs) = resp
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                SourceError::RateLimited {
                    retry_after_secs: secs.max(1),
                }
            } else if remaining == Some(0) || resp.status == 429 {
                let reset = resp
                    .header("x-ratelimit-reset")
                    .and_then(|v| v.parse::<i64>().ok());
                SourceError::RateLimited {
                    retry_after_secs: reset.map(|r| (r - now_unix).max(1) as u64).unwrap_or(60),
                }
            } else {
                SourceError::Status {
                    status: resp.status,
                    message: msg,
                }
            }
        }
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

impl GitHub {
    pub fn new(http: Http, cfg: &GitHubConfig, token: Option<Secret>) -> GitHub {
        GitHub {
            http,
            api: cfg.api_url.trim_end_matches('/').to_string(),
            repos: cfg.repos.clone(),
            token,
            max_items: cfg.max_items,
            cache: EtagCache::default(),
            rate: None,
            requests: 0,
        }
    }

    /// 304 answers served from the cache so far.
    pub fn not_modified(&self) -> u64 {
        self.cache.hits
    }

    fn request(&self, url: &str) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .client()
            .get(url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(t) = &self.token {
            r = r.bearer_auth(t.expose());
        }
        if let Some(etag) = self.cache.if_none_match(url) {
            r = r.header("if-none-match", etag);
        }
        r
    }

    /// GET with ETag, following `Link: rel="next"` until `cap` items. Returns the JSON pages.
    async fn get_pages(
        &mut self,
        first: String,
        cap: usize,
    ) -> Result<Vec<bytes::Bytes>, SourceError> {
        let mut url = Some(first);
        let mut pages = Vec::new();
        let mut items = 0usize;
        while let Some(u) = url.take() {
            self.requests += 1;
            let resp = self.http.send(self.request(&u)).await?;
            let resp = self.cache.resolve(&u, resp);
            if let Some(r) = rate_from(&resp) {
                self.rate = Some(r);
            }
            if resp.status != 200 {
                return Err(classify(&resp, OffsetDateTime::now_utc().unix_timestamp()));
            }
            items += count_items(&resp.body);
            url = next_link(&resp.headers).filter(|_| items < cap);
            pages.push(resp.body);
        }
        Ok(pages)
    }

    pub async fn pulls(&mut self, repo: &str) -> Result<Vec<PullRequest>, SourceError> {
        let url = format!(
            "{}/repos/{repo}/pulls?state=open&per_page={}",
            self.api,
            self.max_items.min(100)
        );
        let pages = self.get_pages(url, self.max_items).await?;
        let mut out = Vec::new();
        for p in pages {
            let list: Vec<ApiPull> = serde_json::from_slice(&p)
                .map_err(|e| SourceError::Decode(format!("pull requests of {repo}: {e}")))?;
            out.extend(list.into_iter().map(|p| p.into_domain(repo)));
        }
        out.truncate(self.max_items);
        Ok(out)
    }

    pub async fn runs(&mut self, repo: &str) -> Result<Vec<WorkflowRun>, SourceError> {
        let url = format!(
            "{}/repos/{repo}/actions/runs?per_page={}",
            self.api,
            self.max_items.min(100)
        );
        let pages = self.get_pages(url, self.max_items).await?;
        let mut out = Vec::new();
        for p in pages {
            let list: ApiRunList = serde_json::from_slice(&p)
                .map_err(|e| SourceError::Decode(format!("workflow runs of {repo}: {e}")))?;
            out.extend(list.workflow_runs.into_iter().map(|r| r.into_domain(repo)));
        }
        out.truncate(self.max_items);
        Ok(out)
    }

    /// One poll: every repo's open PRs and recent runs.
    pub async fn poll(&mut self) -> Result<SourceData, SourceError> {
        let mut prs = Vec::new();
        let mut runs = Vec::new();
        for repo in self.repos.clone() {
            prs.extend(self.pulls(&repo).await?);
            runs.extend(self.runs(&repo).await?);
        }
        runs.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        Ok(SourceData::GitHub {
            prs,
            runs,
            rate: self.rate,
        })
    }

    /// `doctor`: is the API reachable, and is the token (if any) accepted?
    pub async fn check(&mut self) -> Result<String, SourceError> {
        let url = format!("{}/rate_limit", self.api);
        let resp = self.http.send(self.request(&url)).await?;
        if resp.status != 200 {
            return Err(classify(&resp, OffsetDateTime::now_utc().unix_timestamp()));
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

fn count_items(body: &[u8]) -> usize {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(a)) => a.len(),
        Ok(v) => v
            .get("workflow_runs")
            .and_then(|w| w.as_array())
            .map(|a| a.len())
            .unwrap_or(0),
        Err(_) => 0,
    }
}
