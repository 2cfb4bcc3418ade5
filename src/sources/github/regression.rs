//! The GitHub side of "incident → regression-test PR": a branch from the default branch's head,
//! the drafted test committed with the contents API, a **draft** PR, the `regression-test` label.
//!
//! Idempotent and resumable: every step first reads whether it is already done (the branch
//! exists, the file on the branch already holds these bytes, an open PR from the branch exists,
//! the label is on it), so a second run never duplicates anything and a run that failed part-way
//! carries on from where it stopped. Every request is part of a change the operator confirmed:
//! reads may spend the token's reserve ([`Use::ActionRead`]), writes are spaced like every change
//! ([`Use::Action`]).

use super::GitHub;
use crate::domain::SourceError;
use crate::sanitize::clean;
use crate::sources::budget::{Resource, Use};
use serde::{Deserialize, Serialize};

/// The label every regression-test PR carries.
pub const LABEL: &str = "regression-test";

/// The branch a regression test for `short_id` goes on: `flightdeck/regression-checkout-4c`.
pub fn branch_for(short_id: &str) -> String {
    let slug: String = short_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-');
    format!(
        "flightdeck/regression-{}",
        if slug.is_empty() { "incident" } else { slug }
    )
}

/// What to open.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPr {
    /// `owner/name`.
    pub repo: String,
    pub branch: String,
    /// The test file's path in the repository.
    pub path: String,
    pub contents: String,
    pub commit_message: String,
    pub title: String,
    pub body: String,
}

/// How a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Not reached (an earlier step failed).
    #[default]
    NotDone,
    /// Made by this run.
    Created,
    /// Changed by this run (the file's bytes, the PR's text).
    Updated,
    /// Already as wanted: nothing sent.
    Already,
}

/// Where a run got to: what exists on GitHub after it, step by step.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Progress {
    /// The repository's default branch (the PR's base).
    pub base: Option<String>,
    /// The sha the branch was created from (when this run created it).
    pub from_sha: Option<String>,
    pub branch: Step,
    pub file: Step,
    /// The commit that wrote the file (when this run wrote it).
    pub commit: Option<String>,
    pub pr: Step,
    pub pr_number: Option<u64>,
    pub pr_url: Option<String>,
    pub label: Step,
}

impl Progress {
    /// One line per step reached: "branch flightdeck/regression-checkout-4c created from main".
    pub fn lines(&self, req: &TestPr) -> Vec<String> {
        let mut out = Vec::new();
        let base = self.base.as_deref().unwrap_or("the default branch");
        match self.branch {
            Step::Created => out.push(format!(
                "branch {} created from {base}{}",
                req.branch,
                self.from_sha
                    .as_deref()
                    .map(|s| format!(" ({})", short(s)))
                    .unwrap_or_default()
            )),
            Step::Already | Step::Updated => out.push(format!("branch {} exists", req.branch)),
            Step::NotDone => out.push(format!("branch {} not created", req.branch)),
        }
        if self.branch == Step::NotDone {
            return out;
        }
        out.push(match self.file {
            Step::Created | Step::Updated => format!(
                "{} {}{}",
                req.path,
                if self.file == Step::Created {
                    "committed"
                } else {
                    "updated"
                },
                self.commit
                    .as_deref()
                    .map(|s| format!(" ({})", short(s)))
                    .unwrap_or_default()
            ),
            Step::Already => format!("{} already holds this test", req.path),
            Step::NotDone => format!("{} not committed", req.path),
        });
        if self.file == Step::NotDone {
            return out;
        }
        let pr = self
            .pr_number
            .map(|n| format!("PR #{n}"))
            .unwrap_or_else(|| "PR".into());
        out.push(match self.pr {
            Step::Created => format!("draft {pr} opened"),
            Step::Updated => format!("{pr} exists; its text updated"),
            Step::Already => format!("{pr} exists"),
            Step::NotDone => "no PR opened".into(),
        });
        if self.pr != Step::NotDone {
            out.push(match self.label {
                Step::Created | Step::Updated => format!("labelled {LABEL}"),
                Step::Already => format!("already labelled {LABEL}"),
                Step::NotDone => format!("not labelled {LABEL}"),
            });
        }
        out
    }
}

/// A run that stopped part-way: what exists, and why it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    pub progress: Progress,
    pub error: SourceError,
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[derive(Debug, Clone, Deserialize)]
struct ApiRepo {
    default_branch: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ApiRef {
    object: ApiRefObject,
}

#[derive(Debug, Clone, Deserialize)]
struct ApiRefObject {
    sha: String,
}

#[derive(Debug, Clone, Deserialize)]
struct ApiContent {
    sha: String,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ApiLabel {
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct ApiPull {
    number: u64,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    labels: Vec<ApiLabel>,
}

#[derive(Debug, Clone, Deserialize)]
struct ApiPutContent {
    #[serde(default)]
    commit: Option<ApiRefObject>,
}

fn is_status(e: &SourceError, status: u16) -> bool {
    matches!(e, SourceError::Status { status: s, .. } if *s == status)
}

/// A path for a URL: each segment percent-encoded, the slashes kept.
fn url_path(path: &str) -> String {
    super::changes::encode(path, true)
}

impl GitHub {
    /// A read that is part of the change, never served from the ETag cache (a branch made a
    /// second ago must be seen). 404 is `Ok(None)`.
    async fn read_for_change<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
    ) -> Result<Option<T>, SourceError> {
        let req = self.authed(self.http.client().get(url));
        let resp = self.send(req, Use::ActionRead, Resource::Core).await?;
        match resp.status {
            200 => serde_json::from_slice(&resp.body)
                .map(Some)
                .map_err(|e| SourceError::Decode(format!("{what}: {e}"))),
            404 => Ok(None),
            _ => Err(self.refused(&resp)),
        }
    }

    /// A write (`PUT`, `PATCH`, `POST`) with a JSON body; the answer's body parsed.
    async fn write_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: serde_json::Value,
        what: &str,
    ) -> Result<T, SourceError> {
        let req = self
            .authed(self.http.client().request(method, url))
            .json(&body);
        let resp = self.send(req, Use::Action, Resource::Core).await?;
        if !(200..300).contains(&resp.status) {
            return Err(self.refused(&resp));
        }
        serde_json::from_slice(&resp.body).map_err(|e| SourceError::Decode(format!("{what}: {e}")))
    }

    /// The repository's default branch.
    pub async fn default_branch(&self, repo: &str) -> Result<String, SourceError> {
        let url = format!("{}/repos/{repo}", self.api);
        let r: Option<ApiRepo> = self.read_for_change(&url, "repository").await?;
        r.and_then(|r| r.default_branch)
            .map(|b| clean(&b))
            .filter(|b| !b.is_empty())
            .ok_or_else(|| SourceError::Status {
                status: 404,
                message: format!("{repo} not found, or the token cannot read it"),
            })
    }

    /// The head sha of `branch`, `None` when there is no such branch.
    pub async fn branch_head(
        &self,
        repo: &str,
        branch: &str,
    ) -> Result<Option<String>, SourceError> {
        let url = format!(
            "{}/repos/{repo}/git/ref/heads/{}",
            self.api,
            url_path(branch)
        );
        let r: Option<ApiRef> = self.read_for_change(&url, "branch").await?;
        Ok(r.map(|r| clean(&r.object.sha)))
    }

    async fn open_pulls_of(&self, repo: &str, branch: &str) -> Result<Vec<ApiPull>, SourceError> {
        let owner = repo.split('/').next().unwrap_or(repo);
        let list = format!(
            "{}/repos/{repo}/pulls?head={owner}:{}&state=open&per_page=5",
            self.api,
            url_path(branch)
        );
        Ok(self
            .read_for_change(&list, "open PRs of the branch")
            .await?
            .unwrap_or_default())
    }

    /// The number of the open PR from `branch`, if there is one.
    pub async fn open_pr_of(&self, repo: &str, branch: &str) -> Result<Option<u64>, SourceError> {
        Ok(self
            .open_pulls_of(repo, branch)
            .await?
            .first()
            .map(|p| p.number))
    }

    /// Open (or bring up to date) the regression-test PR. Each step is read first and only done
    /// when needed; the first failure stops the run and says what exists.
    pub async fn open_test_pr(&self, req: &TestPr) -> Result<Progress, Stopped> {
        let mut p = Progress::default();
        match self.test_pr_steps(req, &mut p).await {
            Ok(()) => Ok(p),
            Err(error) => Err(Stopped { progress: p, error }),
        }
    }

    async fn test_pr_steps(&self, req: &TestPr, p: &mut Progress) -> Result<(), SourceError> {
        let repo = &req.repo;
        let base = self.default_branch(repo).await?;
        p.base = Some(base.clone());

        // 1. The branch, from the default branch's head.
        if self.branch_head(repo, &req.branch).await?.is_some() {
            p.branch = Step::Already;
        } else {
            let head = self
                .branch_head(repo, &base)
                .await?
                .ok_or_else(|| SourceError::Status {
                    status: 404,
                    message: format!("{repo} has no branch {base}"),
                })?;
            let url = format!("{}/repos/{repo}/git/refs", self.api);
            let body =
                serde_json::json!({ "ref": format!("refs/heads/{}", req.branch), "sha": head });
            match self
                .write_json::<serde_json::Value>(reqwest::Method::POST, &url, body, "new branch")
                .await
            {
                Ok(_) => {
                    p.branch = Step::Created;
                    p.from_sha = Some(head);
                }
                // Made meanwhile (another run): it exists, which is what was wanted.
                Err(e) if is_status(&e, 422) => p.branch = Step::Already,
                Err(e) => return Err(e),
            }
        }

        // 2. The file on the branch.
        let url = format!("{}/repos/{repo}/contents/{}", self.api, url_path(&req.path));
        let existing: Option<ApiContent> = self
            .read_for_change(
                &format!("{url}?ref={}", url_path(&req.branch)),
                "file on the branch",
            )
            .await?;
        let same = existing.as_ref().is_some_and(|c| {
            c.encoding.as_deref() == Some("base64")
                && c.content
                    .as_deref()
                    .and_then(super::changes::decode_base64)
                    .as_deref()
                    == Some(req.contents.as_bytes())
        });
        if same {
            p.file = Step::Already;
        } else {
            let mut body = serde_json::json!({
                "message": req.commit_message,
                "content": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, req.contents.as_bytes()),
                "branch": req.branch,
            });
            if let Some(c) = &existing {
                body["sha"] = serde_json::Value::String(c.sha.clone());
            }
            let put: ApiPutContent = self
                .write_json(reqwest::Method::PUT, &url, body, "committed file")
                .await?;
            p.commit = put.commit.map(|c| clean(&c.sha));
            p.file = if existing.is_some() {
                Step::Updated
            } else {
                Step::Created
            };
        }

        // 3. The draft PR.
        let pull = match self
            .open_pulls_of(repo, &req.branch)
            .await?
            .into_iter()
            .next()
        {
            Some(pr) => {
                let same_text = pr.title.as_deref() == Some(req.title.as_str())
                    && pr.body.as_deref() == Some(req.body.as_str());
                if same_text {
                    p.pr = Step::Already;
                    pr
                } else {
                    let url = format!("{}/repos/{repo}/pulls/{}", self.api, pr.number);
                    let body = serde_json::json!({ "title": req.title, "body": req.body });
                    let updated: ApiPull = self
                        .write_json(reqwest::Method::PATCH, &url, body, "updated PR")
                        .await?;
                    p.pr = Step::Updated;
                    ApiPull {
                        labels: pr.labels,
                        ..updated
                    }
                }
            }
            None => {
                let url = format!("{}/repos/{repo}/pulls", self.api);
                let body = serde_json::json!({
                    "title": req.title,
                    "head": req.branch,
                    "base": base,
                    "body": req.body,
                    "draft": true,
                    "maintainer_can_modify": true,
                });
                let pr: ApiPull = self
                    .write_json(reqwest::Method::POST, &url, body, "new PR")
                    .await?;
                p.pr = Step::Created;
                pr
            }
        };
        p.pr_number = Some(pull.number);
        p.pr_url = pull.html_url.as_deref().map(clean);

        // 4. The label.
        if pull.labels.iter().any(|l| l.name == LABEL) {
            p.label = Step::Already;
        } else {
            let url = format!("{}/repos/{repo}/issues/{}/labels", self.api, pull.number);
            let body = serde_json::json!({ "labels": [LABEL] });
            let _: serde_json::Value = self
                .write_json(reqwest::Method::POST, &url, body, "labels")
                .await?;
            p.label = Step::Created;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_slugs_of_the_short_id() {
        assert_eq!(
            branch_for("CHECKOUT-4C"),
            "flightdeck/regression-checkout-4c"
        );
        assert_eq!(
            branch_for("WEB 9C/../x"),
            "flightdeck/regression-web-9c----x"
        );
        assert_eq!(branch_for("--"), "flightdeck/regression-incident");
    }

    #[test]
    fn paths_are_encoded_per_segment() {
        assert_eq!(
            url_path("worker/tests/test a.py"),
            "worker/tests/test%20a.py"
        );
        assert_eq!(url_path("a?b#c"), "a%3Fb%23c");
    }

    #[test]
    fn progress_says_what_exists() {
        let req = TestPr {
            repo: "acme/checkout".into(),
            branch: "flightdeck/regression-checkout-4c".into(),
            path: "worker/tests/test_regression_checkout_4c.py".into(),
            contents: String::new(),
            commit_message: String::new(),
            title: String::new(),
            body: String::new(),
        };
        let p = Progress {
            base: Some("main".into()),
            from_sha: Some("0123456789abcdef".into()),
            branch: Step::Created,
            ..Progress::default()
        };
        assert_eq!(
            p.lines(&req),
            [
                "branch flightdeck/regression-checkout-4c created from main (0123456)",
                "worker/tests/test_regression_checkout_4c.py not committed",
            ]
        );
        let done = Progress {
            branch: Step::Already,
            file: Step::Already,
            pr: Step::Already,
            pr_number: Some(431),
            label: Step::Already,
            ..p
        };
        assert_eq!(
            done.lines(&req)[2..],
            ["PR #431 exists", "already labelled regression-test"]
        );
    }
}
