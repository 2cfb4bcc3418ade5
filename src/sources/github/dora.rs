//! What the DORA metrics read from GitHub: a repository's deployments to an environment with
//! their outcomes (the deployments list, then each one's statuses), and the pull requests merged
//! since a moment (the closed PRs, most recently updated first, until one was last updated before
//! that moment). Every GET goes through the token's budget and the ETag cache like the other REST
//! reads; the lists stop at [`MAX_PAGES`] pages.
//!
//! A deployment is a rollback when its task, description or payload says so (see
//! [`marks_rollback`]), or when it ships a release that ran before the one running then
//! ([`crate::ai::dora::mark_redeploys_as_rollbacks`]).

use futures::StreamExt;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::changes::{encode, outcome};
use super::{ApiDeployment, ApiDeploymentStatus, ApiRef, GitHub, SourceError, parse_time};
use crate::ai::dora::{Change, DeployStatus, Deployment, mark_redeploys_as_rollbacks};
use crate::analysis::suspect::DeployOutcome;
use crate::sanitize::clean;

/// The most pages (of 100) read of one repository's deployments, and of its closed PRs.
pub const MAX_PAGES: usize = 5;

/// Statuses read at once.
const STATUS_READS_IN_FLIGHT: usize = 4;

/// Deployments created this long before the window's start still have their statuses read: one
/// that started before the window may have finished in it.
const MARGIN: Duration = Duration::days(1);

/// The members of a closed pull request the metrics read.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiClosedPull {
    pub number: u64,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub merged_at: Option<String>,
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    #[serde(default)]
    pub base: Option<ApiRef>,
}

/// A repository's deployments to one environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoDeployments {
    /// Those created since the window's start (less [`MARGIN`]), with their outcomes; oldest first.
    pub deployments: Vec<Deployment>,
    /// The branch most of them were made from (`main`), when they name one.
    pub branch: Option<String>,
    /// How many had no final status (no status, or only an `inactive` one): not counted.
    pub unknown: usize,
    /// How many are rollbacks because they ship an earlier release (the others said so).
    pub redeploys: usize,
    /// The list was cut at [`MAX_PAGES`] while still inside the window.
    pub truncated: bool,
}

/// A repository's pull requests merged since a moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergedPulls {
    pub changes: Vec<Change>,
    /// Merged into another branch than the deployed one: not counted.
    pub other_branch: usize,
    /// The list was cut at [`MAX_PAGES`] while still inside the window.
    pub truncated: bool,
}

/// Whether a deployment says it is a rollback: its task (`deploy:rollback`), its payload
/// (`"rollback": true`, or `"type"`/`"kind"`/`"action"`/`"task"` of `rollback`), or its description
/// ("Rollback to 2.13.2", "roll back …").
pub fn marks_rollback(d: &ApiDeployment) -> bool {
    let says = |s: &str| {
        let s = s.to_ascii_lowercase();
        [
            "rollback",
            "roll back",
            "roll-back",
            "roll_back",
            "rolling back",
        ]
        .iter()
        .any(|w| s.contains(w))
    };
    let task = d.task.as_deref().is_some_and(says);
    let description = d.description.as_deref().is_some_and(says);
    let payload = d
        .payload
        .as_ref()
        .and_then(|p| p.as_object())
        .is_some_and(|p| {
            let flag = match p.get("rollback") {
                Some(serde_json::Value::Bool(b)) => *b,
                Some(serde_json::Value::String(s)) => !s.is_empty() && s != "false",
                _ => false,
            };
            flag || ["type", "kind", "action", "task"]
                .iter()
                .any(|k| p.get(*k).and_then(|v| v.as_str()).is_some_and(says))
        });
    task || description || payload
}

/// A deployment's status and end from its statuses (newest first, as GitHub lists them): a
/// failure ends at its status, a success at its (first) `success`.
pub fn status_of(statuses: &[ApiDeploymentStatus]) -> (DeployStatus, Option<OffsetDateTime>, bool) {
    match outcome(statuses) {
        DeployOutcome::Succeeded => {
            let at = statuses
                .iter()
                .rev()
                .find(|s| s.state.as_deref() == Some("success"))
                .and_then(|s| parse_time(s.created_at.as_deref()));
            (DeployStatus::Success, at, true)
        }
        DeployOutcome::Failed => {
            let at = statuses
                .first()
                .and_then(|s| parse_time(s.created_at.as_deref()));
            (DeployStatus::Failure, at, true)
        }
        DeployOutcome::InProgress => (DeployStatus::InProgress, None, true),
        DeployOutcome::Unknown => (DeployStatus::InProgress, None, false),
    }
}

/// The branch most deployments were made from, when it is a branch (not a tag or a sha).
fn deployed_branch(items: &[ApiDeployment]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for d in items {
        let Some(r) = d.git_ref.as_deref() else {
            continue;
        };
        let r = r.strip_prefix("refs/heads/").unwrap_or(r);
        let sha_like = r.len() >= 7 && r.chars().all(|c| c.is_ascii_hexdigit());
        if r.is_empty() || r.starts_with("refs/") || sha_like || r == d.sha {
            continue;
        }
        match counts.iter_mut().find(|(b, _)| b == r) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.to_string(), 1)),
        }
    }
    // A version-like ref (`v2.14.0`, `2.14.0`) is a tag.
    counts.retain(|(b, _)| {
        !b.trim_start_matches('v')
            .starts_with(|c: char| c.is_ascii_digit())
    });
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.into_iter().next().map(|(b, _)| clean(&b))
}

impl GitHub {
    /// The deployments of `repo` to `environment` since `since` (and a day before it), each with
    /// its outcome from its statuses (one request each), rollbacks marked.
    pub async fn dora_deployments(
        &self,
        repo: &str,
        environment: &str,
        since: OffsetDateTime,
    ) -> Result<RepoDeployments, SourceError> {
        let from = since - MARGIN;
        let mut url = Some(format!(
            "{}/repos/{repo}/deployments?environment={}&per_page=100",
            self.api,
            encode(environment, false)
        ));
        let mut items: Vec<ApiDeployment> = Vec::new();
        let mut pages = 0;
        let mut truncated = false;
        while let Some(u) = url.take() {
            let (page, next) = self
                .get_parsed(
                    &u,
                    &format!("deployments of {repo} to {environment}"),
                    |b| serde_json::from_slice::<Vec<ApiDeployment>>(b),
                )
                .await?;
            pages += 1;
            // Newest first: once one was created before `from`, the rest are older.
            let older = page
                .iter()
                .any(|d| parse_time(d.created_at.as_deref()).is_some_and(|t| t < from));
            items.extend(page);
            if older || next.is_none() {
                break;
            }
            if pages >= MAX_PAGES {
                truncated = true;
                break;
            }
            url = next;
        }
        let branch = deployed_branch(&items);
        // Each deployment in the window's statuses, a few at a time (the budget caps them too).
        let wanted: Vec<u64> = items
            .iter()
            .filter(|d| parse_time(d.created_at.as_deref()).is_some_and(|t| t >= from))
            .map(|d| d.id)
            .collect();
        let read: Vec<Result<Vec<ApiDeploymentStatus>, SourceError>> =
            futures::stream::iter(wanted.clone().into_iter().map(|id| async move {
                self.get_parsed(
                    &self.statuses_url(repo, id),
                    &format!("statuses of deployment {id}"),
                    |b| serde_json::from_slice::<Vec<ApiDeploymentStatus>>(b),
                )
                .await
                .map(|(statuses, _)| statuses)
            }))
            .buffered(STATUS_READS_IN_FLIGHT)
            .collect()
            .await;
        let mut statuses = std::collections::HashMap::new();
        for (id, r) in wanted.into_iter().zip(read) {
            statuses.insert(id, r?);
        }
        let mut all: Vec<(Deployment, bool)> = Vec::new();
        let mut unknown = 0;
        for d in items {
            let Some(created) = parse_time(d.created_at.as_deref()) else {
                continue;
            };
            let said = marks_rollback(&d);
            let mut deployment = Deployment {
                id: d.id.to_string(),
                repo: repo.to_string(),
                environment: d
                    .environment
                    .as_deref()
                    .map(clean)
                    .unwrap_or_else(|| environment.to_string()),
                sha: clean(&d.sha),
                created_at: created,
                finished_at: None,
                // Before the window: read for its sha only (what ran before), taken as shipped.
                status: DeployStatus::Success,
                is_rollback: said,
            };
            let in_window = match statuses.get(&d.id) {
                Some(list) => {
                    let (status, finished, known) = status_of(list);
                    deployment.status = status;
                    deployment.finished_at = finished;
                    if !known {
                        unknown += 1;
                    }
                    true
                }
                None => false,
            };
            all.push((deployment, in_window));
        }
        let (mut list, context): (Vec<Deployment>, Vec<bool>) = all.into_iter().unzip();
        let redeploys = mark_redeploys_as_rollbacks(&mut list);
        let mut deployments: Vec<Deployment> = list
            .into_iter()
            .zip(context)
            .filter_map(|(d, keep)| keep.then_some(d))
            .collect();
        deployments.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(RepoDeployments {
            deployments,
            branch,
            unknown,
            redeploys,
            truncated,
        })
    }

    /// The pull requests of `repo` merged since `since` (into `branch` when given), newest
    /// update first; the PR's opening stands for its first commit (no request per PR).
    pub async fn merged_pulls(
        &self,
        repo: &str,
        since: OffsetDateTime,
        branch: Option<&str>,
    ) -> Result<MergedPulls, SourceError> {
        let mut url = Some(format!(
            "{}/repos/{repo}/pulls?state=closed&sort=updated&direction=desc&per_page=100",
            self.api
        ));
        let mut out = MergedPulls::default();
        let mut pages = 0;
        while let Some(u) = url.take() {
            let (page, next) = self
                .get_parsed(&u, &format!("closed pull requests of {repo}"), |b| {
                    serde_json::from_slice::<Vec<ApiClosedPull>>(b)
                })
                .await?;
            pages += 1;
            let mut older = false;
            for p in page {
                let updated = parse_time(p.updated_at.as_deref());
                if updated.is_some_and(|t| t < since) {
                    // Sorted by update: a PR merged since `since` was updated since then too.
                    older = true;
                    continue;
                }
                let Some(merged) = parse_time(p.merged_at.as_deref()) else {
                    continue;
                };
                if merged < since {
                    continue;
                }
                let base = p.base.as_ref().and_then(|b| b.ref_name.as_deref());
                if let (Some(want), Some(base)) = (branch, base)
                    && want != base
                {
                    out.other_branch += 1;
                    continue;
                }
                let Some(created) = parse_time(p.created_at.as_deref()) else {
                    continue;
                };
                out.changes.push(Change {
                    number: p.number,
                    repo: repo.to_string(),
                    first_commit_at: None,
                    created_at: created,
                    merged_at: Some(merged),
                    merge_sha: p.merge_commit_sha.as_deref().map(clean),
                    deployed_at: None,
                });
            }
            if older || next.is_none() {
                break;
            }
            if pages >= MAX_PAGES {
                out.truncated = true;
                break;
            }
            url = next;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(
        task: &str,
        description: Option<&str>,
        payload: serde_json::Value,
    ) -> ApiDeployment {
        ApiDeployment {
            id: 1,
            sha: "abc1234".into(),
            git_ref: Some("main".into()),
            environment: Some("production".into()),
            description: description.map(Into::into),
            payload: Some(payload),
            task: Some(task.into()),
            created_at: Some("2026-11-20T10:00:00Z".into()),
        }
    }

    #[test]
    fn a_rollback_is_what_the_task_description_or_payload_says() {
        assert!(!marks_rollback(&deployment("deploy", None, json!({}))));
        assert!(!marks_rollback(&deployment(
            "deploy",
            Some("2.14.0"),
            json!({"version": "2.14.0"})
        )));
        assert!(marks_rollback(&deployment(
            "deploy:rollback",
            None,
            json!({})
        )));
        assert!(marks_rollback(&deployment(
            "deploy",
            Some("Roll back to 2.13.2"),
            json!({})
        )));
        assert!(marks_rollback(&deployment(
            "deploy",
            None,
            json!({"rollback": true})
        )));
        assert!(!marks_rollback(&deployment(
            "deploy",
            None,
            json!({"rollback": false})
        )));
        assert!(marks_rollback(&deployment(
            "deploy",
            None,
            json!({"type": "Rollback"})
        )));
        // A payload that is not an object says nothing.
        assert!(!marks_rollback(&deployment(
            "deploy",
            None,
            json!("rollback")
        )));
    }

    #[test]
    fn statuses_give_the_outcome_and_its_time() {
        let s = |state: &str, at: &str| ApiDeploymentStatus {
            state: Some(state.into()),
            created_at: Some(at.into()),
        };
        let (status, at, known) = status_of(&[
            s("inactive", "2026-11-21T00:00:00Z"),
            s("success", "2026-11-20T10:10:00Z"),
            s("in_progress", "2026-11-20T10:01:00Z"),
        ]);
        assert_eq!(status, DeployStatus::Success);
        assert_eq!(at, parse_time(Some("2026-11-20T10:10:00Z")));
        assert!(known);
        let (status, at, _) = status_of(&[
            s("failure", "2026-11-20T10:05:00Z"),
            s("queued", "2026-11-20T10:00:00Z"),
        ]);
        assert_eq!(status, DeployStatus::Failure);
        assert_eq!(at, parse_time(Some("2026-11-20T10:05:00Z")));
        assert!(!status_of(&[]).2);
        assert_eq!(
            status_of(&[s("queued", "2026-11-20T10:00:00Z")]).0,
            DeployStatus::InProgress
        );
    }

    #[test]
    fn the_deployed_branch_is_the_common_branch_ref() {
        let with_ref = |r: &str| ApiDeployment {
            git_ref: Some(r.into()),
            ..deployment("deploy", None, json!({}))
        };
        let items = [
            with_ref("main"),
            with_ref("v2.14.0"),
            with_ref("main"),
            with_ref("hotfix"),
        ];
        assert_eq!(deployed_branch(&items).as_deref(), Some("main"));
        assert_eq!(deployed_branch(&[with_ref("v2.14.0")]), None);
        assert_eq!(deployed_branch(&[with_ref("abc1234")]), None);
        assert_eq!(deployed_branch(&[with_ref("refs/tags/x")]), None);
    }
}
