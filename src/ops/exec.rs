//! Runs the effects that reach the network on demand: fetching a run's jobs, a PR's files and a job's
//! log, and sending confirmed remote changes. Every change is written to the audit log before it is
//! sent (intent) and after (outcome); a change that cannot be audited is not sent.

use super::audit::{AuditEntry, AuditLog, Outcome, Phase, new_id, now_rfc3339};
use crate::app::ops::{Op, RollbackTarget, Verdict};
use crate::app::{Effect, Msg, Revisions};
use crate::sources::github::{DeploymentReview, GitHub};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Executes I/O effects off the UI task; results come back as messages.
#[derive(Clone)]
pub struct Executor {
    pub github: Option<Arc<GitHub>>,
    pub audit: Arc<AuditLog>,
    /// Who the audit log names: the GitHub login when known, else $USER.
    pub who: String,
    pub read_only: bool,
    pub tx: UnboundedSender<Msg>,
}

/// The operator's name for the audit log when GitHub does not say.
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| crate::sanitize::clean(&u))
        .unwrap_or_else(|| "unknown".into())
}

impl Executor {
    /// Start the effect if it is one of ours. Returns false for effects the caller handles.
    pub fn spawn(&self, effect: &Effect) -> bool {
        let this = self.clone();
        match effect.clone() {
            Effect::FetchJobs { repo, run_id } => {
                tokio::spawn(async move {
                    let result = match &this.github {
                        Some(gh) => gh.jobs(&repo, run_id).await.map_err(|e| e.to_string()),
                        None => Err("GitHub is not configured".into()),
                    };
                    let _ = this.tx.send(Msg::JobsLoaded {
                        repo,
                        run_id,
                        result,
                    });
                });
            }
            Effect::FetchPrFiles { repo, number } => {
                tokio::spawn(async move {
                    let result = match &this.github {
                        Some(gh) => gh.pr_files(&repo, number).await.map_err(|e| e.to_string()),
                        None => Err("GitHub is not configured".into()),
                    };
                    let _ = this.tx.send(Msg::FilesLoaded {
                        repo,
                        number,
                        result,
                    });
                });
            }
            Effect::FetchLog { repo, job_id } => {
                tokio::spawn(async move {
                    let result = match &this.github {
                        Some(gh) => match gh.job_log(&repo, job_id).await {
                            // Triage is CPU work: keep it off the async workers' hot path.
                            Ok(raw) => tokio::task::spawn_blocking(move || {
                                crate::analysis::ci_log::triage(&raw)
                            })
                            .await
                            .map_err(|e| format!("log triage failed: {e}")),
                            Err(e) => Err(e.to_string()),
                        },
                        None => Err("GitHub is not configured".into()),
                    };
                    let _ = this.tx.send(Msg::LogLoaded { job_id, result });
                });
            }
            Effect::PrepareRollback {
                service,
                repo,
                environment,
                auto,
            } => {
                tokio::spawn(async move {
                    let result = match (&this.github, repo) {
                        (Some(gh), Some(repo)) => gh
                            .deployed_revisions(&repo, &environment)
                            .await
                            .map(|r| Revisions {
                                current: r.current,
                                last_good_ref: r.last_good.as_ref().and_then(|(_, g)| g.clone()),
                                last_good: r.last_good.map(|(s, _)| s),
                            })
                            .map_err(|e| e.to_string()),
                        // Without GitHub the placeholders that need a deployment stay unknown.
                        _ => Ok(Revisions::default()),
                    };
                    let _ = this.tx.send(Msg::RollbackPrepared {
                        service,
                        auto,
                        result,
                    });
                });
            }
            Effect::Execute { id, op, comment } => {
                tokio::spawn(async move {
                    let result = this.execute(&op, &comment).await;
                    let _ = this.tx.send(Msg::OpFinished { id, op, result });
                });
            }
            _ => return false,
        }
        true
    }

    /// Audit, send, audit. Never sends in read-only mode or without an intent line on disk.
    pub async fn execute(&self, op: &Op, comment: &str) -> Result<String, String> {
        if self.read_only {
            return Err("read-only: nothing was sent".into());
        }
        let local = matches!(
            op,
            Op::Rollback {
                target: RollbackTarget::Command { .. },
                ..
            }
        );
        if !local && self.github.is_none() {
            return Err("GitHub is not configured".into());
        }
        let id = new_id();
        let comment_field = match op {
            Op::Rollback { reason, .. } if !reason.is_empty() => Some(reason.clone()),
            _ => op.takes_comment().then(|| comment.to_string()),
        };
        let intent = AuditEntry {
            at: now_rfc3339(),
            id: id.clone(),
            phase: Phase::Intent,
            action: op.action().to_string(),
            who: self.who.clone(),
            target: op.target_json(),
            comment: comment_field.clone(),
            outcome: None,
        };
        if let Err(e) = self.audit.append(&intent) {
            return Err(format!(
                "not sent: cannot write the audit log {}: {e}",
                self.audit.path().display()
            ));
        }
        let result = self.send(op, comment).await;
        self.finish(op, id, comment_field, result)
    }

    async fn send(&self, op: &Op, comment: &str) -> Result<String, String> {
        let gh = || {
            self.github
                .as_deref()
                .ok_or_else(|| "GitHub is not configured".to_string())
        };
        let result = match op {
            Op::Rollback {
                target: RollbackTarget::Command { argv },
                ..
            } => return run_command(argv).await,
            Op::Rollback {
                target:
                    RollbackTarget::Workflow {
                        repo,
                        workflow,
                        git_ref,
                        inputs,
                    },
                ..
            } => {
                gh()?
                    .dispatch_workflow(repo, workflow, git_ref, inputs)
                    .await
            }
            Op::ReviewDeployment {
                repo,
                run_id,
                environment_ids,
                verdict,
                ..
            } => {
                let review = match verdict {
                    Verdict::Approve => DeploymentReview::Approve,
                    Verdict::Reject => DeploymentReview::Reject,
                };
                gh()?
                    .review_deployments(repo, *run_id, environment_ids, review, comment)
                    .await
            }
            Op::RerunFailedJobs { repo, run_id, .. } => {
                gh()?.rerun_failed_jobs(repo, *run_id).await
            }
            Op::CancelRun { repo, run_id, .. } => gh()?.cancel_run(repo, *run_id).await,
        };
        result.map_err(|e| e.to_string())
    }

    /// Write the outcome line and hand back the result.
    fn finish(
        &self,
        op: &Op,
        id: String,
        comment_field: Option<String>,
        result: Result<String, String>,
    ) -> Result<String, String> {
        let outcome = AuditEntry {
            at: now_rfc3339(),
            id,
            phase: Phase::Outcome,
            action: op.action().to_string(),
            who: self.who.clone(),
            target: op.target_json(),
            comment: comment_field,
            outcome: Some(Outcome {
                ok: result.is_ok(),
                detail: match &result {
                    Ok(d) => d.clone(),
                    Err(e) => e.clone(),
                },
            }),
        };
        if let Err(e) = self.audit.append(&outcome) {
            tracing::error!(error = %e, "cannot write the audit outcome");
            return result
                .map(|d| format!("{d}; WARNING: the audit outcome could not be written: {e}"));
        }
        result
    }
}

/// Run a rollback command: no shell, stdin closed, bounded in time; its output (cleaned, shortened)
/// is the outcome's detail.
pub async fn run_command(argv: &[String]) -> Result<String, String> {
    let Some((prog, args)) = argv.split_first() else {
        return Err("the rollback command is empty".into());
    };
    let child = tokio::process::Command::new(prog)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(std::time::Duration::from_secs(300), child).await {
        Err(_) => {
            return Err(format!(
                "`{}` did not finish within 5 minutes",
                argv.join(" ")
            ));
        }
        Ok(Err(e)) => return Err(format!("`{prog}` could not run: {e}")),
        Ok(Ok(out)) => out,
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = crate::sanitize::truncate(&crate::sanitize::clean(text.trim()), 400);
    if out.status.success() {
        Ok(format!("`{}` succeeded: {text}", argv.join(" ")))
    } else {
        Err(format!(
            "`{}` failed ({}): {text}",
            argv.join(" "),
            out.status
        ))
    }
}
