//! Runs the effects that reach the network on demand. [`Fetcher`]: a run's jobs, a PR's files, a
//! job's log, a service's deployed revisions (reads; results come back as messages).
//! [`Executor`]: confirmed remote changes. Every change is written to the audit log before it is
//! sent (intent) and after (outcome); a change that cannot be audited is not sent. Changes in
//! flight are tracked: quitting waits for them (bounded) and writes "abandoned at exit" for any
//! that did not finish, so an intent never stays without an outcome.

use super::audit::{AuditEntry, AuditLog, operator};
use super::draft::DraftSetup;
use crate::app::change::{Change, ChangeError, Review, RollbackTarget};
use crate::app::draft::DraftFailure;
use crate::app::{Fetch, Fetched, Msg};
use crate::domain::{DeployedRevisions, SourceError};
use crate::sources::github::regression::TestPr;
use crate::sources::github::{DeploymentReview, GitHub};
use crate::sources::sentry::Sentry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

fn not_configured() -> SourceError {
    SourceError::Config("GitHub is not configured".into())
}

/// Fetches data on demand off the UI task.
#[derive(Clone)]
pub struct Fetcher {
    pub github: Option<Arc<GitHub>>,
    /// The Sentry client for incidents' latest events (its own, not the poller's).
    pub sentry: Option<Arc<Sentry>>,
    /// What drafting a regression test needs from the configuration.
    pub drafts: Arc<DraftSetup>,
    pub tx: UnboundedSender<Msg>,
}

impl Fetcher {
    pub fn spawn(&self, fetch: Fetch) {
        let gh = self.github.clone();
        let sentry = self.sentry.clone();
        let drafts = self.drafts.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let msg = fetch_one(gh.as_deref(), sentry.as_deref(), &drafts, fetch).await;
            let _ = tx.send(Msg::Fetched(msg));
        });
    }
}

async fn fetch_one(
    gh: Option<&GitHub>,
    sentry: Option<&Sentry>,
    drafts: &DraftSetup,
    fetch: Fetch,
) -> Fetched {
    match fetch {
        Fetch::Suspects { incident, event } => Fetched::Suspects {
            issue_id: incident.id.clone(),
            result: match (gh, drafts.repo_for(&incident.project)) {
                (Some(gh), Some(repo)) => {
                    let environment = drafts.environment_for(repo);
                    let hints = match sentry {
                        Some(s) => s.commit_hints(event.as_deref()).await,
                        None => Default::default(),
                    };
                    gh.suspects_with(
                        &incident,
                        event.as_deref(),
                        repo,
                        environment,
                        &hints,
                        time::OffsetDateTime::now_utc(),
                    )
                    .await
                }
                (None, _) => Err(not_configured()),
                (Some(_), None) => Err(SourceError::Config(format!(
                    "no repository for Sentry project {}: set [sentry] repos",
                    incident.project
                ))),
            },
        },
        Fetch::TestDraft { incident, event } => Fetched::TestDraft {
            issue_id: incident.id.clone(),
            result: match gh {
                Some(gh) => super::draft::prepare(
                    gh,
                    sentry,
                    drafts,
                    &incident,
                    event.map(|e| *e),
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .map(|p| Box::new(p.draft)),
                None => Err(DraftFailure::Config("GitHub is not configured".into())),
            },
        },
        Fetch::IncidentEvent {
            issue_id,
            short_id,
            url,
        } => Fetched::IncidentEvent {
            result: match sentry {
                Some(s) => s.latest_event(&issue_id).await.map(|mut e| {
                    // The issue's names, as the list has them (cleaned there).
                    e.short_id = short_id;
                    if !url.is_empty() {
                        e.url = url;
                    }
                    Box::new(e)
                }),
                None => Err(SourceError::Config("Sentry is not configured".into())),
            },
            issue_id,
        },
        Fetch::Jobs { repo, run_id } => Fetched::Jobs {
            result: match gh {
                Some(gh) => gh.jobs(&repo, run_id).await,
                None => Err(not_configured()),
            },
            repo,
            run_id,
        },
        Fetch::PrFiles { repo, number } => Fetched::PrFiles {
            result: match gh {
                Some(gh) => gh.pr_files(&repo, number).await,
                None => Err(not_configured()),
            },
            repo,
            number,
        },
        Fetch::Log { repo, job_id } => Fetched::Log {
            job_id,
            result: match gh {
                Some(gh) => match gh.job_log(&repo, job_id).await {
                    // Triage is CPU work: keep it off the async workers' hot path.
                    Ok(raw) => {
                        tokio::task::spawn_blocking(move || crate::analysis::ci_log::triage(&raw))
                            .await
                            .map_err(|e| SourceError::Decode(format!("log triage failed: {e}")))
                    }
                    Err(e) => Err(e),
                },
                None => Err(not_configured()),
            },
        },
        Fetch::Dora(scope) => Fetched::Dora {
            result: Ok(Box::new(dora(gh, sentry, scope).await)),
        },
        Fetch::Analyze {
            repo,
            run_id,
            workflow,
            job_id,
            job,
        } => Fetched::Analyzed {
            run_id,
            result: match gh {
                Some(gh) => analyze_run(gh, &repo, &workflow, job_id, job).await,
                None => Err(not_configured()),
            },
        },
        Fetch::Revisions {
            service,
            repo,
            environment,
            auto,
        } => Fetched::Revisions {
            service,
            auto,
            result: match (gh, repo) {
                (Some(gh), Some(repo)) => gh.deployed_revisions(&repo, &environment).await,
                // Without GitHub the placeholders that need a deployment stay unknown.
                _ => Ok(DeployedRevisions::default()),
            },
        },
    }
}

/// The audit line of a verdict change: action `verdict`, by `judge`, the service as target with
/// the verdict before and after, the judgement's one line and when the rollout began (what
/// [`crate::ops::audit::AuditLog::rollbacks_called`] restores a ROLLBACK from), and the reasons
/// as the comment.
pub fn verdict_record(v: &crate::app::msg::VerdictChange) -> AuditEntry {
    let began = v.rollout_began.and_then(|b| {
        b.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    AuditEntry::record(
        "verdict",
        "judge",
        serde_json::json!({
            "service": v.service,
            "environment": v.environment,
            "verdict": v.to.label(),
            "previous": v.from.map(|f| f.label()),
            "score": (v.score * 100.0).round() / 100.0,
            "weight": v.weight,
            "summary": v.summary,
            "rollout_began": began,
        }),
        Some(v.reasons.join("; ")),
    )
}

/// Sends confirmed remote changes, audited, and keeps track of the ones in flight.
pub struct Executor {
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
}

struct Shared {
    github: Option<Arc<GitHub>>,
    /// Resolving and ignoring incidents.
    sentry: Option<Arc<Sentry>>,
    audit: AuditLog,
    /// Who the audit log names: the GitHub login when known, else $USER; asked once, when the
    /// first change is sent (not at start: the first frame does not wait for the network).
    who: OnceCell<String>,
    read_only: bool,
    /// Intents written whose outcome is not, by audit id.
    open: Mutex<HashMap<String, AuditEntry>>,
}

impl Executor {
    pub fn new(github: Option<Arc<GitHub>>, audit: AuditLog, read_only: bool) -> Executor {
        Executor {
            shared: Arc::new(Shared {
                github,
                sentry: None,
                audit,
                who: OnceCell::new(),
                read_only,
                open: Mutex::new(HashMap::new()),
            }),
            tasks: JoinSet::new(),
        }
    }

    /// Send Sentry's changes (resolve, ignore) through `sentry`.
    pub fn with_sentry(mut self, sentry: Option<Arc<Sentry>>) -> Executor {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.sentry = sentry;
        }
        self
    }

    /// Name `who` as the operator in the audit log instead of asking GitHub.
    pub fn with_operator(self, who: &str) -> Executor {
        let _ = self.shared.who.set(who.to_string());
        self
    }

    /// Send a change in the background; its result comes back as [`Msg::ChangeDone`].
    pub fn spawn(&mut self, id: u64, change: Change, comment: String, tx: UnboundedSender<Msg>) {
        let shared = self.shared.clone();
        self.tasks.spawn(async move {
            let result = shared.execute(&change, &comment).await;
            let _ = tx.send(Msg::ChangeDone { id, change, result });
        });
        // Forget the tasks that are done.
        while self.tasks.try_join_next().is_some() {}
    }

    /// Keep a verdict change in the audit log (a `record` line: nothing remote changed), on a
    /// blocking thread; a failure is logged, never shown as a failed change.
    pub fn record(&self, v: crate::app::msg::VerdictChange) {
        let entry = verdict_record(&v);
        let audit = self.shared.audit.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = audit.append(&entry) {
                tracing::warn!(error = %e, "cannot record the verdict change in the audit log");
            }
        });
    }

    /// Send a change and wait for it (headless use and tests).
    pub async fn execute(&self, change: &Change, comment: &str) -> Result<String, ChangeError> {
        self.shared.execute(change, comment).await
    }

    /// How many changes are still being sent.
    pub fn in_flight(&mut self) -> usize {
        while self.tasks.try_join_next().is_some() {}
        self.tasks.len()
    }

    /// Wait up to `wait` for the changes in flight; stop the rest and record them as abandoned.
    /// Returns how many were abandoned.
    pub async fn shutdown(&mut self, wait: Duration) -> usize {
        let all_done = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(wait, all_done).await.is_err() {
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
        let open: Vec<AuditEntry> = match self.shared.open.lock() {
            Ok(mut m) => m.drain().map(|(_, e)| e).collect(),
            Err(_) => Vec::new(),
        };
        for intent in &open {
            let line = intent.outcome(
                false,
                format!(
                    "abandoned at exit: flightdeck quit after waiting {} s; the change may or may not have been made",
                    wait.as_secs()
                ),
            );
            if let Err(e) = self.shared.audit.append(&line) {
                tracing::error!(error = %e, "cannot write the audit outcome of an abandoned change");
            }
        }
        open.len()
    }
}

impl Shared {
    async fn who(&self) -> &str {
        self.who
            .get_or_init(|| async {
                let login = match &self.github {
                    Some(gh) => gh.current_user().await,
                    None => None,
                };
                operator(login.as_deref())
            })
            .await
    }

    /// Audit, send, audit. Never sends in read-only mode or without an intent line on disk.
    async fn execute(&self, change: &Change, comment: &str) -> Result<String, ChangeError> {
        if self.read_only {
            return Err(ChangeError::ReadOnly);
        }
        let local = matches!(
            change,
            Change::Rollback {
                target: RollbackTarget::Command { .. },
                ..
            }
        );
        let sentry = matches!(change, Change::IncidentStatus { .. });
        if sentry && self.sentry.is_none() {
            return Err(ChangeError::SentryNotConfigured);
        }
        if !local && !sentry && self.github.is_none() {
            return Err(ChangeError::NotConfigured);
        }
        let comment_field = match change {
            Change::Rollback { reason, .. } if !reason.is_empty() => Some(reason.clone()),
            _ => change.takes_comment().then(|| comment.to_string()),
        };
        let who = self.who().await.to_string();
        let intent = AuditEntry::intent(change.action(), who, change.target_json(), comment_field);
        if let Err(e) = self.audit.append(&intent) {
            return Err(ChangeError::Audit {
                path: self.audit.path().display().to_string(),
                detail: e.to_string(),
            });
        }
        if let Ok(mut open) = self.open.lock() {
            open.insert(intent.id.clone(), intent.clone());
        }
        let result = self.send(change, comment).await;
        let detail = match &result {
            Ok(d) => d.clone(),
            Err(e) => e.to_string(),
        };
        let written = self.audit.append(&intent.outcome(result.is_ok(), detail));
        if let Ok(mut open) = self.open.lock() {
            open.remove(&intent.id);
        }
        match written {
            Ok(()) => result,
            Err(e) => {
                tracing::error!(error = %e, "cannot write the audit outcome");
                result.map(|d| format!("{d}; WARNING: the audit outcome could not be written: {e}"))
            }
        }
    }

    async fn send(&self, change: &Change, comment: &str) -> Result<String, ChangeError> {
        let gh = || self.github.as_deref().ok_or(ChangeError::NotConfigured);
        let result = match change {
            Change::Rollback {
                target: RollbackTarget::Command { argv },
                ..
            } => return run_command(argv).await.map_err(ChangeError::Command),
            Change::Rollback {
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
            Change::ReviewDeployment {
                repo,
                run_id,
                environment_ids,
                review,
                ..
            } => {
                let review = match review {
                    Review::Approve => DeploymentReview::Approve,
                    Review::Reject => DeploymentReview::Reject,
                };
                gh()?
                    .review_deployments(repo, *run_id, environment_ids, review, comment)
                    .await
            }
            Change::RerunFailedJobs { repo, run_id, .. } => {
                gh()?.rerun_failed_jobs(repo, *run_id).await
            }
            Change::CancelRun { repo, run_id, .. } => gh()?.cancel_run(repo, *run_id).await,
            Change::IncidentStatus {
                issue_id, status, ..
            } => {
                let sentry = self
                    .sentry
                    .as_deref()
                    .ok_or(ChangeError::SentryNotConfigured)?;
                sentry
                    .set_status(issue_id, status.api())
                    .await
                    .map(|st| format!("Sentry says the issue is {st}"))
            }
            Change::TestPr {
                repo,
                branch,
                path,
                contents,
                title,
                body,
                short_id,
                ..
            } => {
                let req = TestPr {
                    repo: repo.clone(),
                    branch: branch.clone(),
                    path: path.clone(),
                    contents: contents.clone(),
                    commit_message: format!("Add a regression test for {short_id}"),
                    title: title.clone(),
                    body: body.clone(),
                };
                return match gh()?.open_test_pr(&req).await {
                    Ok(p) => Ok(p.lines(&req).join("; ")),
                    Err(stopped) => Err(ChangeError::Partial {
                        done: stopped.progress.lines(&req).join("; "),
                        error: stopped.error,
                    }),
                };
            }
        };
        result.map_err(ChangeError::Remote)
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
    let out = match tokio::time::timeout(Duration::from_secs(300), child).await {
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

/// A failed job's log against its last green log (a green log that cannot be read is said, and the
/// failed log is analysed alone). The analysis is CPU work: off the async workers.
pub async fn analyze_run(
    gh: &GitHub,
    repo: &str,
    workflow: &str,
    job_id: u64,
    job: String,
) -> Result<Box<crate::app::RunAnalysis>, SourceError> {
    let failed = gh.job_log(repo, job_id).await?;
    let (green, note) = match gh.last_green_log(repo, workflow, &job).await {
        Ok(Some(g)) => (Some(g), None),
        Ok(None) => (
            None,
            Some(format!(
                "no successful run of {workflow} with a job {job} on the default branch"
            )),
        ),
        Err(e) => (
            None,
            Some(format!("the last green log could not be read: {e}")),
        ),
    };
    // Does the same workflow fail on the default branch now? (Broken main or flaky, or this change.)
    let on_default = match green.as_ref().map(|g| g.branch.clone()) {
        Some(b) => Some(b),
        None => gh.default_branch(repo).await.ok(),
    };
    let on_default = match on_default {
        Some(branch) => gh
            .latest_completed(repo, &branch, workflow)
            .await
            .ok()
            .flatten()
            .map(|(n, st)| (n, st, branch)),
        None => None,
    };
    let green_text = green.as_ref().map(|g| g.log.clone());
    let report = tokio::task::spawn_blocking(move || {
        crate::ai::triage::analyze(&failed, green_text.as_deref())
    })
    .await
    .map_err(|e| SourceError::Decode(format!("log analysis failed: {e}")))?;
    Ok(Box::new(crate::app::RunAnalysis {
        job,
        report,
        green: green.map(|g| (g.run_number, g.branch)),
        green_note: note,
        on_default,
    }))
}

/// The DORA metrics over the scope's window, as `flightdeck dora` reads them.
async fn dora(
    gh: Option<&GitHub>,
    sentry: Option<&Sentry>,
    scope: crate::app::DoraScope,
) -> crate::app::DoraView {
    let now = time::OffsetDateTime::now_utc();
    let window = crate::ai::dora::Window::new(
        now.replace_nanosecond(0).unwrap_or(now),
        time::Duration::days(scope.days.max(1)),
    );
    let s = crate::sources::dora::DoraScope {
        repos: &scope.repos,
        projects: &scope.projects,
        environment: &scope.environment,
        sentry_environment: scope.sentry_environment.as_deref(),
        window,
    };
    let (d, inputs) = crate::sources::dora::metrics(gh, sentry, &s).await;
    crate::app::DoraView {
        dora: d,
        github_requests: inputs.github_requests,
        sentry_requests: inputs.sentry_requests,
        notes: inputs.notes,
        errors: inputs.errors,
    }
}
