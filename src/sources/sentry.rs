//! Sentry REST: unresolved issues of the configured projects.

use super::http::{
    Http, Response, SourceError, error_summary, next_link, rate_limit_wait, wait_for_reset,
};
use crate::config::{Secret, SentryConfig};
use crate::domain::{Incident, SourceData};
use crate::sanitize::clean;
use serde::Deserialize;

/// At most this many unresolved issues per project: ten of Sentry's pages of 100 (a team with 500
/// open incidents in one project sees them all; pagination stays bounded).
const MAX_ISSUES: usize = 1_000;
pub const TOKEN_HINT: &str = "set SENTRY_AUTH_TOKEN or sentry.token_command";

pub struct Sentry {
    http: Http,
    base: String,
    org: String,
    projects: Vec<String>,
    token: Option<Secret>,
}

#[derive(Debug, Deserialize)]
pub struct ApiProject {
    #[serde(default)]
    pub slug: Option<String>,
}

/// The members of an issue this client reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiIssue {
    pub id: String,
    #[serde(default)]
    pub short_id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub culprit: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// A string in Sentry's API ("count": "1").
    #[serde(default)]
    pub count: Option<serde_json::Value>,
    #[serde(default)]
    pub user_count: Option<u64>,
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
    #[serde(default)]
    pub project: Option<ApiProject>,
}

impl ApiIssue {
    pub fn into_domain(self, project: &str) -> Incident {
        let count = match &self.count {
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0),
            _ => 0,
        };
        let t = |s: Option<&str>| s.map(clean).unwrap_or_default();
        Incident {
            project: self
                .project
                .as_ref()
                .and_then(|p| p.slug.as_deref())
                .map(clean)
                .unwrap_or_else(|| project.to_string()),
            short_id: t(self.short_id.as_deref()),
            title: t(self.title.as_deref()),
            culprit: t(self.culprit.as_deref()),
            level: t(self.level.as_deref()),
            status: t(self.status.as_deref()),
            count,
            user_count: self.user_count.unwrap_or(0),
            first_seen: super::github::parse_time(self.first_seen.as_deref()),
            last_seen: super::github::parse_time(self.last_seen.as_deref()),
            url: t(self.permalink.as_deref()),
            id: clean(&self.id),
        }
    }
}

impl Sentry {
    pub fn new(http: Http, cfg: &SentryConfig, token: Option<Secret>) -> Sentry {
        Sentry {
            http,
            base: cfg.url.trim_end_matches('/').to_string(),
            org: cfg.org.clone(),
            projects: cfg.projects.clone(),
            token,
        }
    }

    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        let r = self.http.client().get(url);
        match &self.token {
            Some(t) => r.bearer_auth(t.expose()),
            None => r,
        }
    }

    pub async fn issues(&self, project: &str) -> Result<Vec<Incident>, SourceError> {
        let mut url = Some(format!(
            "{}/api/0/projects/{}/{}/issues/?query=is%3Aunresolved&statsPeriod=24h",
            self.base, self.org, project
        ));
        let mut out = Vec::new();
        while let Some(u) = url.take() {
            let resp = self.http.send(self.get(&u)).await?;
            if let Some(secs) = rate_wait(&resp, now_unix()) {
                // A spent window (429, or 403 with no requests left) is a wait, not a bad token.
                return Err(SourceError::RateLimited {
                    retry_after_secs: secs,
                });
            }
            match resp.status {
                200 => {}
                401 | 403 => {
                    return Err(SourceError::Auth {
                        status: resp.status,
                        hint: format!("{}; {TOKEN_HINT}", error_summary(&resp.body)),
                    });
                }
                s => {
                    return Err(SourceError::Status {
                        status: s,
                        message: format!("{} (project {project})", error_summary(&resp.body)),
                    });
                }
            }
            let list: Vec<ApiIssue> = serde_json::from_slice(&resp.body)
                .map_err(|e| SourceError::Decode(format!("issues of {project}: {e}")))?;
            out.extend(list.into_iter().map(|i| i.into_domain(project)));
            url = next_link(&resp.headers).filter(|_| out.len() < MAX_ISSUES);
        }
        Ok(out)
    }

    pub async fn poll(&mut self) -> Result<SourceData, SourceError> {
        let mut all = Vec::new();
        for p in &self.projects {
            all.extend(self.issues(p).await?);
        }
        all.sort_by_key(|i| std::cmp::Reverse(i.last_seen));
        Ok(SourceData::Sentry(all))
    }

    /// `doctor`: can the first project's issues be listed?
    pub async fn check(&self) -> Result<String, SourceError> {
        match self.projects.first() {
            Some(p) => self
                .issues(p)
                .await
                .map(|i| format!("{} in {p}", crate::fmt::plural(i.len(), "unresolved issue"))),
            None => Err(SourceError::Config("sentry.projects is empty".into())),
        }
    }
}

/// How long a refused request says to wait. Sentry's API sends no `Retry-After` with a 429, only
/// its window's reset (`X-Sentry-Rate-Limit-Reset`), whether the window is spent or too many
/// requests are in flight at once (`X-Sentry-Rate-Limit-ConcurrentRemaining: 0`): a 429 waits for
/// that reset, not for a guessed minute. Otherwise the shared reading ([`rate_limit_wait`]).
fn rate_wait(resp: &Response, now_unix: i64) -> Option<u64> {
    if resp.status == 429
        && resp.header("retry-after").is_none()
        && resp.header("x-sentry-rate-limit-reset").is_some()
    {
        return Some(wait_for_reset(resp, "x-sentry-rate-limit-reset", now_unix));
    }
    rate_limit_wait(resp, now_unix)
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    fn answer(status: u16, headers: &[(&'static str, &str)]) -> Response {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Response {
            status,
            headers: h,
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn a_429_waits_for_sentrys_window_reset() {
        let spent = answer(
            429,
            &[
                ("x-sentry-rate-limit-remaining", "0"),
                ("x-sentry-rate-limit-reset", "1030"),
            ],
        );
        assert_eq!(rate_wait(&spent, 1000), Some(30));
        // Too many at once: requests are left in the window, the reset still says when.
        let concurrent = answer(
            429,
            &[
                ("x-sentry-rate-limit-remaining", "39"),
                ("x-sentry-rate-limit-concurrentremaining", "0"),
                ("x-sentry-rate-limit-reset", "1002"),
            ],
        );
        assert_eq!(rate_wait(&concurrent, 1000), Some(2));
        // Retry-After wins; a bare 429 is a minute; a 200 is no wait.
        let both = answer(
            429,
            &[("retry-after", "5"), ("x-sentry-rate-limit-reset", "1030")],
        );
        assert_eq!(rate_wait(&both, 1000), Some(5));
        assert_eq!(rate_wait(&answer(429, &[]), 1000), Some(60));
        assert_eq!(
            rate_wait(&answer(200, &[("x-sentry-rate-limit-reset", "1030")]), 1000),
            None
        );
    }
}
