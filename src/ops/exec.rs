//! Runs the effects that reach the network on demand: fetching a run's jobs, a PR's files and a job's
//! log, and sending confirmed remote changes. Every change is written to the audit log before it is
//! sent (intent) and after (outcome); a change that cannot be audited is not sent.

use super::audit::{AuditEntry, AuditLog, Outcome, Phase, new_id, now_rfc3339};
use crate::app::ops::{Op, Verdict};
use crate::app::{Effect, Msg};
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
        let Some(gh) = &self.github else {
            return Err("GitHub is not configured".into());
        };
        let id = new_id();
        let comment_field = op.takes_comment().then(|| comment.to_string());
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
        let result = match op {
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
                gh.review_deployments(repo, *run_id, environment_ids, review, comment)
                    .await
            }
            Op::RerunFailedJobs { repo, run_id, .. } => gh.rerun_failed_jobs(repo, *run_id).await,
            Op::CancelRun { repo, run_id, .. } => gh.cancel_run(repo, *run_id).await,
        };
        let result = result.map_err(|e| e.to_string());
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
