//! Remote changes as data: what the operator asked for, the confirmation that names its exact target,
//! and the key that stops the same change from being sent twice.

use ratatui_textarea::TextArea;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

/// A change to something remote.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
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
        verdict: Verdict,
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
}

impl Op {
    /// The audit log's name for the action.
    pub fn action(&self) -> &'static str {
        match self {
            Op::ReviewDeployment {
                verdict: Verdict::Approve,
                ..
            } => "approve-deployment",
            Op::ReviewDeployment {
                verdict: Verdict::Reject,
                ..
            } => "reject-deployment",
            Op::RerunFailedJobs { .. } => "rerun-failed-jobs",
            Op::CancelRun { .. } => "cancel-run",
        }
    }

    /// What the change acts on; one change per target at a time.
    pub fn target_key(&self) -> String {
        match self {
            Op::ReviewDeployment { repo, run_id, .. }
            | Op::RerunFailedJobs { repo, run_id, .. }
            | Op::CancelRun { repo, run_id, .. } => format!("{repo}/runs/{run_id}"),
        }
    }

    pub fn production(&self) -> bool {
        matches!(
            self,
            Op::ReviewDeployment {
                production: true,
                ..
            }
        )
    }

    /// The confirmation's title.
    pub fn title(&self) -> String {
        match self {
            Op::ReviewDeployment {
                verdict,
                environments,
                ..
            } => format!(
                "{} deployment to {}",
                if *verdict == Verdict::Approve {
                    "Approve"
                } else {
                    "Reject"
                },
                environments.join(", ")
            ),
            Op::RerunFailedJobs { .. } => "Re-run the failed jobs".into(),
            Op::CancelRun { .. } => "Cancel the run".into(),
        }
    }

    /// The label of the button that sends.
    pub fn yes_label(&self) -> &'static str {
        match self {
            Op::ReviewDeployment {
                verdict: Verdict::Approve,
                ..
            } => "Yes, approve",
            Op::ReviewDeployment {
                verdict: Verdict::Reject,
                ..
            } => "Yes, reject",
            Op::RerunFailedJobs { .. } => "Yes, re-run",
            Op::CancelRun { .. } => "Yes, cancel it",
        }
    }

    /// The exact target, as (label, value) rows.
    pub fn target_rows(&self) -> Vec<(&'static str, String)> {
        match self {
            Op::ReviewDeployment {
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
            Op::RerunFailedJobs {
                repo,
                run_id,
                run_number,
                workflow,
                branch,
            }
            | Op::CancelRun {
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
        }
    }

    /// The audit log's description of the target.
    pub fn target_json(&self) -> serde_json::Value {
        match self {
            Op::ReviewDeployment {
                repo,
                run_id,
                run_number,
                sha,
                environment_ids,
                environments,
                ..
            } => serde_json::json!({
                "repo": repo, "run_id": run_id, "run_number": run_number, "sha": sha,
                "environment_ids": environment_ids, "environments": environments,
            }),
            Op::RerunFailedJobs {
                repo,
                run_id,
                run_number,
                ..
            }
            | Op::CancelRun {
                repo,
                run_id,
                run_number,
                ..
            } => serde_json::json!({ "repo": repo, "run_id": run_id, "run_number": run_number }),
        }
    }

    /// Whether the change takes a comment.
    pub fn takes_comment(&self) -> bool {
        matches!(self, Op::ReviewDeployment { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    No,
    Yes,
    Comment,
}

/// The confirmation modal. Focus starts on "No".
#[derive(Debug, Clone)]
pub struct Confirm {
    pub op: Op,
    pub focus: Focus,
    pub comment: Option<TextArea<'static>>,
}

impl PartialEq for Confirm {
    fn eq(&self, other: &Self) -> bool {
        self.op == other.op
            && self.focus == other.focus
            && self.comment_text() == other.comment_text()
    }
}

impl Confirm {
    pub fn new(op: Op, default_comment: &str) -> Confirm {
        let comment = op.takes_comment().then(|| {
            let mut t = TextArea::new(vec![default_comment.to_string()]);
            t.move_cursor(ratatui_textarea::CursorMove::End);
            t
        });
        Confirm {
            op,
            focus: Focus::No,
            comment,
        }
    }

    pub fn comment_text(&self) -> String {
        self.comment
            .as_ref()
            .map(|t| t.lines().join("\n"))
            .unwrap_or_default()
    }

    /// Tab order: No → Yes → Comment (when there is one) → No.
    pub fn next_focus(&mut self) {
        self.focus = match (self.focus, self.comment.is_some()) {
            (Focus::No, _) => Focus::Yes,
            (Focus::Yes, true) => Focus::Comment,
            (Focus::Yes, false) | (Focus::Comment, _) => Focus::No,
        };
    }

    pub fn prev_focus(&mut self) {
        self.focus = match (self.focus, self.comment.is_some()) {
            (Focus::No, true) => Focus::Comment,
            (Focus::No, false) | (Focus::Comment, _) => Focus::Yes,
            (Focus::Yes, _) => Focus::No,
        };
    }
}
