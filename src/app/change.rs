//! Remote changes as data: what the operator asked for ([`Change`]), the confirmation that names
//! its exact target ([`Confirm`]), the key that stops the same change from being sent twice, and
//! why a change failed ([`ChangeError`]).

use crate::domain::{SourceError, WorkflowRun};
use ratatui_textarea::TextArea;
use std::collections::BTreeMap;

/// Where a rollback goes.
#[derive(Debug, Clone, PartialEq)]
pub enum RollbackTarget {
    /// A `workflow_dispatch` of a workflow in the service's repo, with inputs (placeholders filled).
    Workflow {
        repo: String,
        workflow: String,
        git_ref: String,
        inputs: BTreeMap<String, String>,
    },
    /// A local command, run without a shell.
    Command { argv: Vec<String> },
}

/// A deployment review's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    Approve,
    Reject,
}

impl Review {
    /// "Approve" or "Reject".
    pub fn verb(self) -> &'static str {
        match self {
            Review::Approve => "Approve",
            Review::Reject => "Reject",
        }
    }
}

/// What to do with a Sentry issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueStatus {
    Resolve,
    Ignore,
}

impl IssueStatus {
    /// Sentry's status value.
    pub fn api(self) -> &'static str {
        match self {
            IssueStatus::Resolve => "resolved",
            IssueStatus::Ignore => "ignored",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            IssueStatus::Resolve => "Resolve",
            IssueStatus::Ignore => "Ignore",
        }
    }
}

/// A change to something remote.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Approve or reject the deployments a run waits for.
    ReviewDeployment {
        repo: String,
        run_id: u64,
        run_number: u64,
        workflow: String,
        sha: String,
        branch: String,
        environment_ids: Vec<u64>,
        environments: Vec<String>,
        production: bool,
        can_approve: bool,
        review: Review,
        /// An approval against the judge: the verdicts it overrides (typed `override` in the
        /// cockpit, `--override` headless). Recorded in the audit entry's target.
        overriding: Option<String>,
    },
    RerunFailedJobs {
        repo: String,
        run_id: u64,
        run_number: u64,
        workflow: String,
        branch: String,
    },
    CancelRun {
        repo: String,
        run_id: u64,
        run_number: u64,
        workflow: String,
        branch: String,
    },
    /// Roll a service back to its last good revision.
    Rollback {
        service: String,
        environment: String,
        production: bool,
        /// The revision now deployed (the canary's), and the one rolled back to.
        from: String,
        to: String,
        target: RollbackTarget,
        /// Why (the judge's reasons), for the audit log.
        reason: String,
    },
    /// Resolve or ignore a Sentry issue.
    IncidentStatus {
        project: String,
        issue_id: String,
        short_id: String,
        title: String,
        status: IssueStatus,
    },
    /// Open (or bring up to date) the draft PR that adds an incident's regression test: branch,
    /// file, PR, label — each step only when not already done.
    TestPr {
        repo: String,
        /// The Sentry issue's short id and page.
        short_id: String,
        issue_url: String,
        branch: String,
        path: String,
        contents: String,
        title: String,
        body: String,
        /// A PR from the branch is known to exist: this run updates it.
        update: bool,
    },
}

impl Change {
    /// The audit log's name for the action.
    pub fn action(&self) -> &'static str {
        match self {
            Change::ReviewDeployment {
                review: Review::Approve,
                ..
            } => "approve-deployment",
            Change::ReviewDeployment {
                review: Review::Reject,
                ..
            } => "reject-deployment",
            Change::RerunFailedJobs { .. } => "rerun-failed-jobs",
            Change::CancelRun { .. } => "cancel-run",
            Change::Rollback { .. } => "rollback",
            Change::TestPr { .. } => "regression-test-pr",
            Change::IncidentStatus {
                status: IssueStatus::Resolve,
                ..
            } => "resolve-incident",
            Change::IncidentStatus {
                status: IssueStatus::Ignore,
                ..
            } => "ignore-incident",
        }
    }

    /// The approval or rejection of everything `run` waits for. `production`: a configured service
    /// in one of its environments is production (an environment named "production" always is).
    pub fn review(run: &WorkflowRun, review: Review, production: bool) -> Change {
        let environments: Vec<String> = run.pending.iter().map(|p| p.environment.clone()).collect();
        let production = production
            || environments
                .iter()
                .any(|e| e.eq_ignore_ascii_case("production"));
        Change::ReviewDeployment {
            production,
            can_approve: run.pending.iter().all(|p| p.can_approve),
            environment_ids: run.pending.iter().map(|p| p.environment_id).collect(),
            environments,
            repo: run.repo.clone(),
            run_id: run.id,
            run_number: run.run_number,
            workflow: run.workflow.clone(),
            sha: run.sha.clone(),
            branch: run.branch.clone(),
            review,
            overriding: None,
        }
    }

    /// What the change acts on; one change per target at a time.
    pub fn target_key(&self) -> String {
        match self {
            Change::ReviewDeployment { repo, run_id, .. }
            | Change::RerunFailedJobs { repo, run_id, .. }
            | Change::CancelRun { repo, run_id, .. } => format!("{repo}/runs/{run_id}"),
            Change::Rollback { service, .. } => format!("service/{service}"),
            Change::TestPr { repo, branch, .. } => format!("{repo}/branches/{branch}"),
            Change::IncidentStatus { issue_id, .. } => format!("sentry/issues/{issue_id}"),
        }
    }

    pub fn production(&self) -> bool {
        matches!(
            self,
            Change::ReviewDeployment {
                production: true,
                ..
            } | Change::Rollback {
                production: true,
                ..
            }
        )
    }

    /// What the change does, in one line: "Approve deployment of acme/checkout Deploy #412 to production"
    pub fn summary(&self) -> String {
        match self {
            Change::ReviewDeployment {
                repo,
                workflow,
                run_number,
                environments,
                review,
                ..
            } => format!(
                "{} deployment of {repo} {workflow} #{run_number} to {}",
                review.verb(),
                environments.join(", ")
            ),
            Change::RerunFailedJobs {
                repo,
                workflow,
                run_number,
                ..
            } => format!("Re-run failed jobs of {repo} {workflow} #{run_number}"),
            Change::CancelRun {
                repo,
                workflow,
                run_number,
                ..
            } => format!("Cancel {repo} {workflow} #{run_number}"),
            Change::Rollback {
                service,
                environment,
                to,
                ..
            } => format!("Roll back {service} in {environment} to {to}"),
            Change::TestPr {
                repo,
                short_id,
                update,
                ..
            } => format!(
                "{} the regression-test PR for {short_id} in {repo}",
                if *update { "Update" } else { "Open" }
            ),
            Change::IncidentStatus {
                short_id, status, ..
            } => format!("{} {short_id} in Sentry", status.verb()),
        }
    }

    /// The confirmation's title.
    pub fn title(&self) -> String {
        match self {
            Change::ReviewDeployment {
                review,
                environments,
                ..
            } => format!(
                "{} deployment to {}",
                review.verb(),
                environments.join(", ")
            ),
            Change::RerunFailedJobs { .. } => "Re-run the failed jobs".into(),
            Change::CancelRun { .. } => "Cancel the run".into(),
            Change::Rollback {
                service,
                environment,
                ..
            } => format!("Roll back {service} in {environment}"),
            Change::TestPr {
                short_id, update, ..
            } => format!(
                "{} a regression-test PR for {short_id}",
                if *update { "Update" } else { "Open" }
            ),
            Change::IncidentStatus {
                short_id, status, ..
            } => format!("{} {short_id}", status.verb()),
        }
    }

    /// The label of the button that sends.
    pub fn yes_label(&self) -> &'static str {
        match self {
            Change::ReviewDeployment {
                review: Review::Approve,
                ..
            } => "Yes, approve",
            Change::ReviewDeployment {
                review: Review::Reject,
                ..
            } => "Yes, reject",
            Change::RerunFailedJobs { .. } => "Yes, re-run",
            Change::CancelRun { .. } => "Yes, cancel it",
            Change::Rollback { .. } => "Yes, roll back",
            Change::TestPr { update: false, .. } => "Yes, open the draft PR",
            Change::TestPr { update: true, .. } => "Yes, update the PR",
            Change::IncidentStatus {
                status: IssueStatus::Resolve,
                ..
            } => "Yes, resolve",
            Change::IncidentStatus {
                status: IssueStatus::Ignore,
                ..
            } => "Yes, ignore",
        }
    }

    /// The exact target, as (label, value) rows.
    pub fn target_rows(&self) -> Vec<(&'static str, String)> {
        match self {
            Change::ReviewDeployment {
                repo,
                run_id,
                run_number,
                workflow,
                sha,
                branch,
                environments,
                production,
                can_approve,
                ..
            } => {
                let mut rows = vec![
                    ("repo", repo.clone()),
                    ("run", format!("{workflow} #{run_number} (id {run_id})")),
                    (
                        "environment",
                        format!(
                            "{}{}",
                            environments.join(", "),
                            if *production { "  — PRODUCTION" } else { "" }
                        ),
                    ),
                    (
                        "commit",
                        format!("{} on {branch}", sha.chars().take(12).collect::<String>()),
                    ),
                ];
                if !can_approve {
                    rows.push((
                        "note",
                        "GitHub says your token cannot approve here; it will likely refuse".into(),
                    ));
                }
                rows
            }
            Change::RerunFailedJobs {
                repo,
                run_id,
                run_number,
                workflow,
                branch,
            }
            | Change::CancelRun {
                repo,
                run_id,
                run_number,
                workflow,
                branch,
            } => vec![
                ("repo", repo.clone()),
                ("run", format!("{workflow} #{run_number} (id {run_id})")),
                ("branch", branch.clone()),
            ],
            Change::Rollback {
                service,
                environment,
                production,
                from,
                to,
                target,
                reason,
            } => {
                let mut rows = vec![
                    ("service", service.clone()),
                    (
                        "environment",
                        format!(
                            "{environment}{}",
                            if *production { "  — PRODUCTION" } else { "" }
                        ),
                    ),
                    ("from", from.clone()),
                    ("to", to.clone()),
                ];
                match target {
                    RollbackTarget::Workflow {
                        repo,
                        workflow,
                        git_ref,
                        inputs,
                    } => {
                        rows.push(("via", format!("workflow {workflow} on {repo}@{git_ref}")));
                        let ins: Vec<String> =
                            inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        rows.push(("inputs", ins.join(", ")));
                    }
                    RollbackTarget::Command { argv } => {
                        rows.push(("via", format!("command: {}", argv.join(" "))));
                    }
                }
                if !reason.is_empty() {
                    rows.push(("why", reason.clone()));
                }
                rows
            }
            Change::TestPr {
                repo,
                short_id,
                branch,
                path,
                contents,
                title,
                update,
                ..
            } => vec![
                ("repo", repo.clone()),
                ("incident", short_id.clone()),
                ("branch", format!("{branch} (from the default branch)")),
                (
                    "file",
                    format!(
                        "{path} ({})",
                        crate::fmt::plural(contents.lines().count(), "line")
                    ),
                ),
                (
                    "PR",
                    format!(
                        "{}{title}, draft, label regression-test",
                        if *update { "update: " } else { "" }
                    ),
                ),
            ],
            Change::IncidentStatus {
                project,
                issue_id,
                short_id,
                title,
                status,
            } => vec![
                ("issue", format!("{short_id} (id {issue_id}) in {project}")),
                ("title", title.clone()),
                ("becomes", status.api().to_string()),
            ],
        }
    }

    /// The audit log's description of the target.
    pub fn target_json(&self) -> serde_json::Value {
        match self {
            Change::ReviewDeployment {
                repo,
                run_id,
                run_number,
                sha,
                environment_ids,
                environments,
                overriding,
                ..
            } => {
                let mut target = serde_json::json!({
                    "repo": repo, "run_id": run_id, "run_number": run_number, "sha": sha,
                    "environment_ids": environment_ids, "environments": environments,
                });
                if let Some(why) = overriding {
                    target["override"] = serde_json::Value::String(why.clone());
                }
                target
            }
            Change::RerunFailedJobs {
                repo,
                run_id,
                run_number,
                ..
            }
            | Change::CancelRun {
                repo,
                run_id,
                run_number,
                ..
            } => serde_json::json!({ "repo": repo, "run_id": run_id, "run_number": run_number }),
            Change::Rollback {
                service,
                environment,
                from,
                to,
                target,
                reason,
                ..
            } => {
                let via = match target {
                    RollbackTarget::Workflow {
                        repo,
                        workflow,
                        git_ref,
                        inputs,
                    } => serde_json::json!({
                        "repo": repo, "workflow": workflow, "ref": git_ref, "inputs": inputs,
                    }),
                    RollbackTarget::Command { argv } => serde_json::json!({ "command": argv }),
                };
                serde_json::json!({
                    "service": service, "environment": environment, "from": from, "to": to,
                    "via": via, "reason": reason,
                })
            }
            Change::TestPr {
                repo,
                short_id,
                issue_url,
                branch,
                path,
                contents,
                title,
                update,
                ..
            } => serde_json::json!({
                "repo": repo, "incident": short_id, "incident_url": issue_url, "branch": branch,
                "path": path, "lines": contents.lines().count(), "title": title, "update": update,
            }),
            Change::IncidentStatus {
                project,
                issue_id,
                short_id,
                status,
                ..
            } => serde_json::json!({
                "project": project, "issue_id": issue_id, "short_id": short_id,
                "status": status.api(),
            }),
        }
    }

    /// Whether the change takes a comment.
    pub fn takes_comment(&self) -> bool {
        matches!(self, Change::ReviewDeployment { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    No,
    Yes,
    Comment,
    /// The field where the operator types the required word.
    Typed,
}

/// The confirmation modal. When it has a text field, the field has the focus (letters go into it);
/// otherwise "No" has it. "Yes" is never focused at first.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub change: Change,
    pub focus: Focus,
    pub comment: Option<TextArea<'static>>,
    /// A word the operator must type before "Yes" sends (and why): the service name for a
    /// production rollback, "override" to approve against the judge's verdict.
    pub require: Option<(String, String)>,
    pub typed: String,
}

impl PartialEq for Confirm {
    fn eq(&self, other: &Self) -> bool {
        self.change == other.change
            && self.focus == other.focus
            && self.comment_text() == other.comment_text()
            && self.require == other.require
            && self.typed == other.typed
    }
}

impl Confirm {
    pub fn new(change: Change, default_comment: &str) -> Confirm {
        let comment = change.takes_comment().then(|| {
            let mut t = TextArea::new(vec![default_comment.to_string()]);
            t.move_cursor(ratatui_textarea::CursorMove::End);
            t
        });
        Confirm {
            focus: if comment.is_some() {
                Focus::Comment
            } else {
                Focus::No
            },
            change,
            comment,
            require: None,
            typed: String::new(),
        }
    }

    /// Require the operator to type `word` (explained by `why`) before sending. The field takes the
    /// focus.
    pub fn requiring(mut self, word: &str, why: &str) -> Confirm {
        self.require = Some((word.to_string(), why.to_string()));
        self.focus = Focus::Typed;
        self
    }

    /// Whether "Yes" may send now.
    pub fn armed(&self) -> bool {
        self.require.as_ref().is_none_or(|(w, _)| self.typed == *w)
    }

    pub fn comment_text(&self) -> String {
        self.comment
            .as_ref()
            .map(|t| t.lines().join("\n"))
            .unwrap_or_default()
    }

    /// Whether a text field has the focus (then letters are text, not commands).
    pub fn typing(&self) -> bool {
        matches!(self.focus, Focus::Comment | Focus::Typed)
    }

    fn order(&self) -> Vec<Focus> {
        let mut v = Vec::new();
        if self.require.is_some() {
            v.push(Focus::Typed);
        }
        if self.comment.is_some() {
            v.push(Focus::Comment);
        }
        v.extend([Focus::No, Focus::Yes]);
        v
    }

    /// Tab order: Typed (when required) → Comment (when there is one) → No → Yes → back.
    pub fn next_focus(&mut self) {
        let o = self.order();
        let i = o.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = o[(i + 1) % o.len()];
    }

    pub fn prev_focus(&mut self) {
        let o = self.order();
        let i = o.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = o[(i + o.len() - 1) % o.len()];
    }
}

/// Why a remote change was not made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    #[error("read-only: nothing was sent")]
    ReadOnly,
    #[error("GitHub is not configured")]
    NotConfigured,
    #[error("Sentry is not configured")]
    SentryNotConfigured,
    #[error("not sent: cannot write the audit log {path}: {detail}")]
    Audit { path: String, detail: String },
    /// The service refused or could not be reached.
    #[error("{0}")]
    Remote(SourceError),
    /// A local rollback command failed or could not run.
    #[error("{0}")]
    Command(String),
    /// A change of several steps stopped part-way: what exists, and why it stopped. Sending it
    /// again resumes.
    #[error("{error} — so far: {done}; run it again to resume")]
    Partial { done: String, error: SourceError },
}
