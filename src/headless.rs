//! The headless faces: `flightdeck status --json` (one poll of every configured source, for scripts)
//! and `flightdeck approve` (the headless `a`, behind the same guard as the cockpit).

use crate::config::Config;
use crate::domain::SourceError;
use crate::domain::{Incident, PullRequest, ServiceRollout, SourceData, SourceId, WorkflowRun};
use crate::fmt::plural;
use crate::runtime;
use crate::store::Store;
use serde_json::{Value, json};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Exit code when a source failed.
pub const EXIT_SOURCE_FAILED: i32 = 3;

fn ts(t: Option<OffsetDateTime>) -> Value {
    t.and_then(|t| t.format(&Rfc3339).ok())
        .map(Value::String)
        .unwrap_or(Value::Null)
}

pub fn pr_json(p: &PullRequest) -> Value {
    json!({
        "repo": p.repo, "number": p.number, "title": p.title, "author": p.author, "draft": p.draft,
        "labels": p.labels, "head": p.head_ref, "base": p.base_ref, "head_sha": p.head_sha,
        "created_at": ts(p.created_at), "updated_at": ts(p.updated_at), "url": p.url,
        "checks": p.checks.map(|c| json!({
            "failed": c.failed, "pending": c.pending, "passed": c.passed, "skipped": c.skipped,
        })),
        "check_runs": p.check_list.iter().map(|c| json!({
            "name": c.name, "state": format!("{:?}", c.state).to_lowercase(), "detail": c.detail, "url": c.url,
        })).collect::<Vec<_>>(),
        "review_decision": p.review.map(|r| r.label()),
        "mergeable_state": p.mergeable, "additions": p.additions, "deletions": p.deletions,
        "changed_files": p.changed_files,
    })
}

pub fn run_json(r: &WorkflowRun) -> Value {
    json!({
        "repo": r.repo, "id": r.id, "run_number": r.run_number, "workflow": r.workflow,
        "title": r.title, "branch": r.branch, "sha": r.sha, "event": r.event, "actor": r.actor,
        "status": r.state.label(), "attempt": r.attempt, "started_at": ts(r.started_at),
        "updated_at": ts(r.updated_at), "url": r.url,
    })
}

fn pending_json(r: &WorkflowRun) -> Vec<Value> {
    r.pending
        .iter()
        .map(|p| {
            json!({
                "repo": r.repo, "run_id": r.id, "run_number": r.run_number, "workflow": r.workflow,
                "sha": r.sha, "environment": p.environment, "environment_id": p.environment_id,
                "wait_timer_minutes": p.wait_timer_minutes, "waiting_since": ts(p.wait_started_at),
                "current_user_can_approve": p.can_approve, "reviewers": p.reviewers,
            })
        })
        .collect()
}

/// The ROLLBACK called in `r`'s rollout, among those the audit log keeps: the service's, from a
/// rollout that began when this one did (a poll that cannot say when it began matches none).
pub fn rollback_called_in(
    calls: &[crate::domain::RollbackCall],
    r: &ServiceRollout,
) -> Option<crate::app::state::RollbackCalled> {
    calls
        .iter()
        .rev()
        .find(|c| c.service == r.name && Some(c.rollout_began) == r.rollout_began)
        .map(crate::app::state::RollbackCalled::from_record)
}

pub fn rollout_json(r: &ServiceRollout) -> Value {
    json!({
        "service": r.name, "environment": r.environment, "production": r.production,
        "slices": r.slices, "weight": r.weight, "weight_error": r.weight_error,
        "in_slice_since": ts(r.slice_since), "rollout_began": ts(r.rollout_began),
        "traffic": r.traffic, "warnings": r.warnings,
        "metrics": r.metrics.iter().map(|m| json!({
            "name": m.name, "canary": m.canary.filter(|v| v.is_finite()),
            "baseline": m.baseline.filter(|v| v.is_finite()), "max": m.max, "min": m.min,
            "breached": m.breached(), "error": m.error,
        })).collect::<Vec<_>>(),
    })
}

/// One summary of the builtin analyzer (or the model's, `analyzer` names which).
pub fn summary_json(s: &crate::domain::Summary) -> Value {
    json!({
        "kind": s.kind.label(),
        "subject": s.subject,
        "headline": s.headline,
        "analyzer": s.analyzer,
        "detail": s.detail,
        "url": s.url,
    })
}

pub fn incident_json(i: &Incident) -> Value {
    json!({
        "project": i.project, "id": i.id, "short_id": i.short_id, "title": i.title,
        "culprit": i.culprit, "level": i.level, "status": i.status, "count": i.count,
        "user_count": i.user_count, "first_seen": ts(i.first_seen), "last_seen": ts(i.last_seen),
        "url": i.url,
    })
}

/// Poll every configured source once. Returns the JSON document and whether any source failed.
///
/// With a `store`, each client first takes back its memo from the last run (GitHub's ETags: what
/// did not change costs no rate limit), and each good poll is saved for the next run and the
/// cockpit. The store's data is not shown: every source is polled.
pub async fn status(config: &Config, store: Option<&Store>) -> (Value, bool) {
    let (sources, loaded) = tokio::join!(runtime::connect(config), async {
        let store = store.cloned()?;
        tokio::task::spawn_blocking(move || store.load()).await.ok()
    });
    let mut loaded = loaded.unwrap_or_default();
    let mut memos = loaded.take_memos();
    let mut notes: Vec<String> = sources.notes.iter().map(|(_, n)| n.clone()).collect();
    notes.append(&mut loaded.warnings);
    let mut doc = json!({
        "generated_at": ts(Some(OffsetDateTime::now_utc())),
        "sources": {},
        "prs": [], "runs": [], "pending_deployments": [], "rollouts": [], "incidents": [],
        "notes": notes,
    });
    let mut failed = false;
    let mut incidents: Vec<Incident> = Vec::new();
    // What the AI tab would say: the builtin analyzer's summaries of what needs a human.
    let mut all_prs = Vec::new();
    let mut all_runs = Vec::new();
    let mut all_rollouts = Vec::new();
    let mut judgements = std::collections::HashMap::new();
    for mut s in sources.list {
        let id = s.id();
        if let Some(i) = memos.iter().position(|(m, _, _)| *m == id) {
            let (_, memo, data) = memos.swap_remove(i);
            s.restore(memo, &data);
        }
        let name = id.label().to_lowercase();
        let result = tokio::time::timeout(Duration::from_secs(60), s.poll()).await;
        if let (Some(store), Ok(Ok(data))) = (store, &result)
            && let Err(e) = store.save(id, OffsetDateTime::now_utc(), data, s.memo().as_ref())
        {
            tracing::warn!(source = id.label(), error = %e, "cannot save the cache");
        }
        let (ok, error) = match result {
            Ok(Ok(data)) => {
                // Repositories a GitHub poll could not read: the source failed in part.
                let mut partial: Vec<String> = Vec::new();
                match data {
                    SourceData::GitHub {
                        prs,
                        runs,
                        rate,
                        graphql_rate,
                        failed,
                        slowed,
                    } => {
                        doc["prs"] = prs.iter().map(|p| pr_json(p)).collect();
                        doc["runs"] = runs.iter().map(run_json).collect();
                        all_prs = prs.clone();
                        all_runs = runs.clone();
                        doc["pending_deployments"] = runs.iter().flat_map(pending_json).collect();
                        let rate_json = |r: Option<crate::domain::RateLimit>| {
                            r.map_or(Value::Null, |r| {
                                json!({"limit": r.limit, "remaining": r.remaining, "reset": r.reset})
                            })
                        };
                        doc["rate_limit"] = rate_json(rate);
                        doc["graphql_rate_limit"] = rate_json(graphql_rate);
                        doc["slowed"] = slowed.map_or(Value::Null, |s| {
                            json!({"poll_every_secs": s.every_secs, "until": s.until,
                                   "resource": if s.graphql { "graphql" } else { "core" }})
                        });
                        partial = failed
                            .iter()
                            .map(|f| format!("{}: {}", f.repo, f.error))
                            .collect();
                    }
                    SourceData::Prometheus(r) => {
                        doc["rollouts"] = r
                            .iter()
                            .map(|r| {
                                let j = crate::analysis::rollout::judge_service(
                                    r,
                                    &(&config.policy).into(),
                                );
                                let mut v = rollout_json(r);
                                v["verdict"] = json!(j.verdict.label());
                                v["score"] = json!(j.score);
                                v["band"] = json!(j.band.label());
                                v["reasons"] = json!(j.reasons);
                                judgements.insert(r.name.clone(), j);
                                v
                            })
                            .collect();
                        all_rollouts = r.clone();
                    }
                    SourceData::Sentry(i) => {
                        doc["incidents"] = i.iter().map(incident_json).collect();
                        incidents = i.clone();
                    }
                }
                if partial.is_empty() {
                    (true, Value::Null)
                } else {
                    (false, Value::String(partial.join("; ")))
                }
            }
            Ok(Err(e)) => (false, Value::String(e.to_string())),
            Err(_) => (false, Value::String("no answer within 60 s".into())),
        };
        failed |= !ok;
        doc["sources"][name] = json!({ "ok": ok, "error": error });
    }
    doc["summaries"] = crate::ai::summaries::headlines(
        &all_prs,
        &all_runs,
        &all_rollouts,
        &judgements,
        &std::collections::HashMap::new(),
        &incidents,
        &|_| None,
        &|_| None,
        &|_| Default::default(),
        &config.ai.risk,
    )
    .iter()
    .map(summary_json)
    .collect();
    if let (Some(gh), Some(sentry)) = (&sources.github_ops, &sources.sentry_ops) {
        let setup = crate::ops::draft::DraftSetup::from_config(config);
        suspected_changes(&mut doc, &incidents, gh, sentry, &setup, store).await;
    }
    (doc, failed)
}

/// Ask on the terminal (`prompt` on stderr, a line from stdin): only `y` or `yes` is yes; the
/// default, an empty line and a closed input are no.
pub fn ask_yes(prompt: &str) -> bool {
    eprint!("{prompt}");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).is_ok()
        && matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// How many incidents `status` looks up the suspected change of: the newest first seen (each
/// lookup is the event and up to 8 GitHub reads; answers are kept in the store's directory by
/// issue and `last_seen`, so a second run asks nothing again).
pub const STATUS_SUSPECTS: usize = 3;

/// Each incident gains `suspected_change`: the candidates best first (`[]`: none found), or
/// `null` when it was not looked up (beyond the [`STATUS_SUSPECTS`] newest, or no repository).
async fn suspected_changes(
    doc: &mut Value,
    incidents: &[Incident],
    gh: &crate::sources::github::GitHub,
    sentry: &crate::sources::sentry::Sentry,
    setup: &crate::ops::draft::DraftSetup,
    store: Option<&Store>,
) {
    let now = OffsetDateTime::now_utc();
    let cache_file = store.and_then(|s| s.side_path(SourceId::Sentry, "suspects"));
    let mut cache: serde_json::Map<String, Value> = cache_file
        .as_ref()
        .and_then(|f| std::fs::read(f).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut recent: Vec<&Incident> = incidents
        .iter()
        .filter(|i| setup.repo_for(&i.project).is_some())
        .collect();
    recent.sort_by_key(|i| std::cmp::Reverse(i.first_seen));
    let mut found: Vec<(String, Value)> = Vec::new();
    let mut changed = false;
    for inc in recent.into_iter().take(STATUS_SUSPECTS) {
        let key = format!(
            "{}@{}",
            inc.id,
            inc.last_seen.map_or(0, |t| t.unix_timestamp())
        );
        if let Some(v) = cache.get(&key) {
            found.push((inc.id.clone(), v.clone()));
            continue;
        }
        let Some(repo) = setup.repo_for(&inc.project) else {
            continue;
        };
        let event = sentry.latest_event(&inc.id).await.ok();
        let env = setup.environment_for(repo);
        let hints = sentry.commit_hints(event.as_ref()).await;
        match gh
            .suspects_with(inc, event.as_ref(), repo, env, &hints, now)
            .await
        {
            Ok(list) => {
                let v = serde_json::to_value(&list).unwrap_or(Value::Null);
                cache.insert(key, v.clone());
                changed = true;
                found.push((inc.id.clone(), v));
            }
            Err(e) => tracing::warn!(incident = %inc.short_id, error = %e, "no suspected change"),
        }
    }
    if let Some(list) = doc["incidents"].as_array_mut() {
        for i in list {
            let id = i["id"].as_str().unwrap_or_default().to_string();
            i["suspected_change"] = found
                .iter()
                .find(|(f, _)| *f == id)
                .map_or(Value::Null, |(_, v)| v.clone());
        }
    }
    if changed && let Some(f) = cache_file {
        // At most 50 answers: the file stays small.
        while cache.len() > 50 {
            let Some(k) = cache.keys().next().cloned() else {
                break;
            };
            cache.remove(&k);
        }
        let bytes = serde_json::to_vec(&Value::Object(cache)).unwrap_or_default();
        if let Err(e) = crate::store::write_atomic(&f, &bytes) {
            tracing::warn!(error = %e, "cannot keep the suspected changes");
        }
    }
}

/// The human face of `flightdeck status`: one line per source, the judge's verdict per service
/// (ROLLBACK first), then the counts.
pub fn status_text(doc: &Value) -> String {
    let mut text = String::new();
    if let Some(sources) = doc["sources"].as_object() {
        for (name, s) in sources {
            match s["error"].as_str() {
                None => text.push_str(&format!("{name:<11} ok\n")),
                Some(e) => text.push_str(&format!("{name:<11} FAILED: {e}\n")),
            }
        }
    }
    text.push_str(&verdict_lines(doc));
    let count = |k: &str| doc[k].as_array().map_or(0, Vec::len);
    text.push_str(&format!(
        "{}, {}, {}, {}, {}\n",
        plural(count("prs"), "open PR"),
        plural(count("runs"), "run"),
        plural(count("pending_deployments"), "pending deployment"),
        plural(count("rollouts"), "rollout"),
        plural(count("incidents"), "incident"),
    ));
    text
}

/// One line per rollout with the judge's verdict and its first reason, the most urgent first:
/// ROLLBACK, then HOLD, then PROCEED.
fn verdict_lines(doc: &Value) -> String {
    let Some(rollouts) = doc["rollouts"].as_array() else {
        return String::new();
    };
    let rank = |r: &Value| match r["verdict"].as_str() {
        Some("ROLLBACK") => 0,
        Some("HOLD") => 1,
        Some("PROCEED") => 2,
        _ => 3,
    };
    let mut sorted: Vec<&Value> = rollouts.iter().collect();
    sorted.sort_by_key(|r| rank(r));
    let mut text = String::new();
    for r in sorted {
        let verdict = r["verdict"].as_str().unwrap_or("?");
        let service = r["service"].as_str().unwrap_or("?");
        let environment = r["environment"].as_str().unwrap_or("?");
        let score = r["score"]
            .as_f64()
            .map_or_else(|| "?".to_string(), |s| format!("{s:.2}"));
        let band = r["band"].as_str().unwrap_or("?");
        let reason = r["reasons"][0].as_str().unwrap_or("no reason given");
        text.push_str(&format!(
            "{verdict:<8}    {service} in {environment}, score {score} ({band}): {reason}\n"
        ));
    }
    text
}

/// What `flightdeck approve` was asked.
#[derive(Debug, Clone, Default)]
pub struct ApproveArgs {
    pub repo: String,
    pub run_id: u64,
    pub reject: bool,
    /// The review's comment (default: the cockpit's, naming the judge's verdicts).
    pub comment: Option<String>,
    /// Approve even when the judge does not say PROCEED for every service (recorded in the audit).
    pub force: bool,
    /// Do not ask for confirmation.
    pub yes: bool,
    pub read_only: bool,
}

/// `flightdeck approve`: the headless `a` (or `x` with `reject`). Reads the run and the
/// deployments it waits for from GitHub, judges once (through Prometheus) each configured
/// `[[service]]` the held deployment belongs to, and asks the same guard as the cockpit
/// ([`crate::app::guard`]): approving against a verdict other than PROCEED, or without one, is
/// refused unless `force` (`--override`). Then it confirms (a terminal, or `yes`) and sends through
/// the audited executor. Returns the exit code (0 sent, 1 refused / not confirmed / read-only,
/// 2 configuration, 3 a source failed) and a JSON report; problems are told on stderr.
pub async fn approve(
    config: &Config,
    audit_file: std::path::PathBuf,
    args: &ApproveArgs,
) -> (i32, Value) {
    use crate::app::change::{Change, ChangeError, Review};
    use crate::app::guard::{Candidate, belongs, judge_deployment};
    let verb = if args.reject { "reject" } else { "approve" };
    let mut doc = json!({
        "repo": args.repo, "run_id": args.run_id, "review": verb,
        "verdicts": [], "override": null, "sent": null, "refused": null,
    });
    let refuse = |doc: &mut Value, code: i32, why: String| {
        eprintln!(
            "flightdeck: {verb} {} run {}: {why}",
            args.repo, args.run_id
        );
        doc["refused"] = Value::String(why);
        code
    };
    if args.read_only {
        let code = refuse(
            &mut doc,
            1,
            "read-only: nothing was sent (started with --readonly or read_only = true)".into(),
        );
        return (code, doc);
    }
    let sources = runtime::connect(config).await;
    for (_, note) in &sources.notes {
        eprintln!("flightdeck: {note}");
    }
    let Some(gh) = sources.github_ops.clone() else {
        let code = refuse(&mut doc, 2, "no [github] in the config".into());
        return (code, doc);
    };
    let run = match tokio::time::timeout(
        Duration::from_secs(60),
        gh.run_with_pending(&args.repo, args.run_id),
    )
    .await
    {
        Ok(Ok(run)) => run,
        Ok(Err(e)) => {
            let code = refuse(&mut doc, EXIT_SOURCE_FAILED, format!("GitHub: {e}"));
            return (code, doc);
        }
        Err(_) => {
            let code = refuse(
                &mut doc,
                EXIT_SOURCE_FAILED,
                "GitHub did not answer within 60 s".into(),
            );
            return (code, doc);
        }
    };
    doc["run_number"] = json!(run.run_number);
    doc["workflow"] = json!(run.workflow);
    doc["sha"] = json!(run.sha);
    doc["environments"] = run.pending.iter().map(|p| json!(p.environment)).collect();
    if run.pending.is_empty() {
        let code = refuse(
            &mut doc,
            1,
            format!(
                "it waits for no deployment approval (the run is {})",
                run.state.label()
            ),
        );
        return (code, doc);
    }
    // The configured services the held deployment belongs to, each judged once, now.
    let services: Vec<crate::config::ServiceConfig> = config
        .services
        .iter()
        .filter(|s| belongs(&run, &s.environment, s.repo.as_deref()))
        .cloned()
        .collect();
    let policy: crate::analysis::canary::Policy = (&config.policy).into();
    let mut judged: Vec<(String, crate::analysis::canary::Judgement)> = Vec::new();
    // A ROLLBACK the judge called in the same rollout, by a cockpit or an earlier command (the
    // audit log's verdict records): the approval does not go with the judge either.
    let mut called: Vec<(String, crate::app::state::RollbackCalled)> = Vec::new();
    let mut prometheus_failed = None;
    if !services.is_empty() {
        match judge_now(config, &services).await {
            Ok(rollouts) => {
                let log = crate::ops::audit::AuditLog::new(audit_file.clone());
                let calls = log.rollbacks_called(crate::ops::audit::ROLLBACKS_TAIL_BYTES);
                for r in &rollouts {
                    judged.push((
                        r.name.clone(),
                        crate::analysis::rollout::judge_service(r, &policy),
                    ));
                    if let Some(c) = rollback_called_in(&calls, r) {
                        called.push((r.name.clone(), c));
                    }
                }
            }
            Err(e) => {
                eprintln!("flightdeck: Prometheus: {e}");
                prometheus_failed = Some(e);
            }
        }
    }
    let guard = judge_deployment(
        &run,
        services.iter().map(|s| Candidate {
            name: &s.name,
            environment: &s.environment,
            repo: s.repo.as_deref(),
            judgement: judged.iter().find(|(n, _)| *n == s.name).map(|(_, j)| j),
            live: true,
            rollback_called: called.iter().find(|(n, _)| *n == s.name).map(|(_, c)| c),
        }),
    );
    doc["verdicts"] = guard
        .verdicts
        .iter()
        .map(|v| {
            json!({
                "service": v.service, "verdict": v.verdict.map(|v| v.label()),
                "score": v.score, "text": v.text,
            })
        })
        .collect();
    let production = run.pending.iter().any(|p| {
        services
            .iter()
            .any(|s| s.production && s.environment.eq_ignore_ascii_case(&p.environment))
    });
    let review = if args.reject {
        Review::Reject
    } else {
        Review::Approve
    };
    let mut change = Change::review(&run, review, production);
    let against = if args.reject {
        None
    } else {
        guard.override_reason()
    };
    if let Some(why) = &against {
        if !args.force {
            let code = if prometheus_failed.is_some() {
                EXIT_SOURCE_FAILED
            } else {
                1
            };
            let code = refuse(
                &mut doc,
                code,
                format!("{why}; pass --override to approve anyway"),
            );
            return (code, doc);
        }
        doc["override"] = Value::String(why.clone());
        if let Change::ReviewDeployment { overriding, .. } = &mut change {
            *overriding = Some(why.clone());
        }
    }
    let comment = args
        .comment
        .as_deref()
        .map(|c| crate::sanitize::clean_multiline(c.trim()))
        .unwrap_or_else(|| guard.default_comment(!args.reject));
    if !args.yes {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            let code = refuse(
                &mut doc,
                1,
                "not confirmed: standard input is not a terminal; pass --yes to send without asking"
                    .into(),
            );
            return (code, doc);
        }
        eprintln!("{}: {}?", change.title(), change.summary());
        for v in &guard.verdicts {
            eprintln!("  judge: {} {} — {}", v.service, v.label, v.text);
        }
        if let Some(why) = &against {
            eprintln!("  OVERRIDE: {why}");
        }
        if !ask_yes(&format!("  comment: {comment}\nSend it? [y/N] ")) {
            let code = refuse(&mut doc, 1, "not confirmed: nothing was sent".into());
            return (code, doc);
        }
    }
    let exec = crate::ops::exec::Executor::new(
        Some(gh),
        crate::ops::audit::AuditLog::new(audit_file),
        args.read_only,
    );
    match exec.execute(&change, &comment).await {
        Ok(detail) => {
            doc["sent"] = json!({ "ok": true, "detail": detail, "comment": comment });
            (0, doc)
        }
        Err(e) => {
            doc["sent"] = json!({ "ok": false, "detail": e.to_string(), "comment": comment });
            let code = if matches!(e, ChangeError::ReadOnly) {
                1
            } else {
                EXIT_SOURCE_FAILED
            };
            eprintln!("flightdeck: {}: {e}", change.summary());
            (code, doc)
        }
    }
}

/// One Prometheus poll of `services`.
async fn judge_now(
    config: &Config,
    services: &[crate::config::ServiceConfig],
) -> Result<Vec<ServiceRollout>, String> {
    let Some(prom) = &config.prometheus else {
        return Err("no [prometheus] in the config".into());
    };
    let http =
        crate::sources::http::Http::new(Duration::from_secs(20)).map_err(|e| e.to_string())?;
    let mut source = crate::sources::prometheus::Prometheus::new(http, prom, services)
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(60), source.poll()).await {
        Ok(Ok(SourceData::Prometheus(r))) => Ok(r),
        Ok(Ok(_)) => Err("Prometheus returned no rollouts".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("Prometheus did not answer within 60 s".into()),
    }
}

/// The human face of `flightdeck approve`: the judge's verdicts, then what was sent.
pub fn approve_text(doc: &Value) -> String {
    let mut text = String::new();
    if let Some(list) = doc["verdicts"].as_array() {
        for v in list {
            text.push_str(&format!(
                "{:<8}    {}: {}\n",
                v["verdict"].as_str().unwrap_or("NONE"),
                v["service"].as_str().unwrap_or("?"),
                v["text"].as_str().unwrap_or("")
            ));
        }
    }
    if let Some(why) = doc["override"].as_str() {
        text.push_str(&format!("override: {why}\n"));
    }
    if doc["sent"]["ok"] == json!(true) {
        text.push_str(&format!(
            "sent: {}\n",
            doc["sent"]["detail"].as_str().unwrap_or("")
        ));
    }
    text
}

/// `flightdeck dora`: the environment the metrics are of when `--env` is not given: the first
/// production `[[service]]`'s, else the first service's, else `production`.
pub fn dora_environment(config: &Config) -> String {
    config
        .services
        .iter()
        .find(|s| s.production)
        .or_else(|| config.services.first())
        .map(|s| s.environment.clone())
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "production".to_string())
}

/// The repositories `dora` reads: `[github] repos`, then the services' repos not among them.
fn dora_repos(config: &Config) -> Vec<String> {
    let mut repos: Vec<String> = config
        .github
        .as_ref()
        .map(|g| g.repos.clone())
        .unwrap_or_default();
    for r in config.services.iter().filter_map(|s| s.repo.as_ref()) {
        if !repos.contains(r) {
            repos.push(r.clone());
        }
    }
    repos
}

/// What `flightdeck dora` computed and read.
pub struct DoraReport {
    pub dora: crate::ai::dora::Dora,
    pub repos: Vec<String>,
    pub projects: Vec<String>,
    pub github_requests: u64,
    pub sentry_requests: u64,
    pub notes: Vec<String>,
    /// Reads that failed (exit 3).
    pub errors: Vec<String>,
}

/// The DORA metrics of `environment` (or [`dora_environment`]) over the `length` up to now.
/// With `environment` given, Sentry is asked for that environment's issues; otherwise for the
/// configured `[sentry] environment`, else the metrics' environment.
pub async fn dora(
    config: &Config,
    length: time::Duration,
    environment: Option<&str>,
) -> DoraReport {
    use crate::ai::dora::{Window, dora};
    let env = environment
        .map(str::to_string)
        .unwrap_or_else(|| dora_environment(config));
    let sentry_env = match environment {
        Some(e) => Some(e.to_string()),
        None => config
            .sentry
            .as_ref()
            .and_then(|s| s.environment.clone())
            .filter(|e| !e.is_empty())
            .or_else(|| Some(env.clone())),
    };
    let repos = dora_repos(config);
    let projects = config
        .sentry
        .as_ref()
        .map(|s| s.projects.clone())
        .unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let window = Window::new(now.replace_nanosecond(0).unwrap_or(now), length);
    let sources = runtime::connect(config).await;
    let mut notes: Vec<String> = sources.notes.iter().map(|(_, n)| n.clone()).collect();
    let scope = crate::sources::dora::DoraScope {
        repos: &repos,
        projects: &projects,
        environment: &env,
        sentry_environment: sentry_env.as_deref(),
        window,
    };
    let read = tokio::time::timeout(
        Duration::from_secs(120),
        crate::sources::dora::metrics(
            sources.github_ops.as_deref(),
            sources.sentry_ops.as_deref(),
            &scope,
        ),
    )
    .await;
    let (d, inputs, mut errors) = match read {
        Ok((d, inputs)) => (d, inputs, Vec::new()),
        Err(_) => {
            let inputs = crate::sources::dora::DoraInputs::default();
            let d = dora(&[], &[], &[], &env, window);
            (
                d,
                inputs,
                vec!["GitHub and Sentry did not answer within 120 s".to_string()],
            )
        }
    };
    errors.extend(inputs.errors.iter().cloned());
    notes.extend(inputs.notes.iter().cloned());
    DoraReport {
        dora: d,
        repos,
        projects,
        github_requests: inputs.github_requests,
        sentry_requests: inputs.sentry_requests,
        notes,
        errors,
    }
}

/// The report as JSON: the [`crate::ai::dora::Dora`] struct's fields (its window with RFC 3339
/// times and lengths in days), then what was read.
pub fn dora_json(r: &DoraReport) -> Value {
    let mut doc = serde_json::to_value(&r.dora).unwrap_or(Value::Null);
    let w = &r.dora.window;
    let days = |d: time::Duration| d.as_seconds_f64() / 86_400.0;
    doc["window"] = json!({
        "start": ts(Some(w.start())), "end": ts(Some(w.now)),
        "days": days(w.length), "bucket_days": days(w.bucket), "buckets": w.buckets(),
    });
    doc["repos"] = json!(r.repos);
    doc["sentry_projects"] = json!(r.projects);
    doc["requests"] = json!({ "github": r.github_requests, "sentry": r.sentry_requests });
    doc["notes"] = json!(r.notes);
    doc["errors"] = json!(r.errors);
    doc
}

pub use crate::fmt::sparkline;

/// The report for people: a block per metric (name, value, band, trend; how; what it counted;
/// its notes), then what was read.
pub fn dora_text(r: &DoraReport) -> String {
    use crate::ai::dora::MetricKind;
    let d = &r.dora;
    let w = &d.window;
    let days = w.length.as_seconds_f64() / 86_400.0;
    let bucket = if w.bucket == time::Duration::days(1) {
        "a day"
    } else {
        "a week"
    };
    let mut text = format!(
        "DORA metrics of {} over the {} days to {} (trend: a bar {bucket}, oldest first)\n",
        d.environment,
        if days.fract() == 0.0 {
            format!("{days:.0}")
        } else {
            format!("{days:.1}")
        },
        w.now
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .unwrap_or_else(|_| w.now.unix_timestamp().to_string()),
    );
    text.push_str(&format!(
        "repositories: {}; Sentry projects: {}\n",
        if r.repos.is_empty() {
            "none".to_string()
        } else {
            r.repos.join(", ")
        },
        if r.projects.is_empty() {
            "none".to_string()
        } else {
            r.projects.join(", ")
        }
    ));
    for e in &r.errors {
        text.push_str(&format!("FAILED: {e} (left out of the metrics)\n"));
    }
    for m in d.metrics() {
        let (name, record) = match m.kind {
            MetricKind::DeploymentFrequency => ("Deployment frequency", "deployment"),
            MetricKind::LeadTime => ("Lead time for changes", "change"),
            MetricKind::ChangeFailureRate => ("Change failure rate", "deployment"),
            MetricKind::TimeToRestore => ("Time to restore", "failure"),
        };
        let band = m.band.map_or("no band", |b| b.label());
        text.push_str(&format!(
            "\n{name:<22} {:<40} {band:<8} [{}]\n",
            m.summary,
            sparkline(&m.trend)
        ));
        text.push_str(&format!("  how: {}\n", m.how));
        text.push_str(&format!("  counted {}", plural(m.counted.len(), record)));
        let ids: Vec<&str> = m.counted.iter().take(8).map(|c| c.id.as_str()).collect();
        if !ids.is_empty() {
            let more = m.counted.len().saturating_sub(ids.len());
            text.push_str(&format!(": {}", ids.join(", ")));
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
        }
        text.push('\n');
        for n in &m.notes {
            text.push_str(&format!("  note: {n}\n"));
        }
    }
    text.push('\n');
    for n in &r.notes {
        text.push_str(&format!("note: {n}\n"));
    }
    text.push_str(&format!(
        "{} to GitHub, {} to Sentry\n",
        plural(r.github_requests as usize, "request"),
        r.sentry_requests
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approve_holds_to_a_rollback_called_in_the_same_rollout_only() {
        let began = time::macros::datetime!(2026-12-02 09:10 UTC);
        let call = |service: &str, rollout_began| crate::domain::RollbackCall {
            service: service.into(),
            at: time::macros::datetime!(2026-12-02 09:30 UTC),
            weight: Some(25.0),
            summary: "ROLLBACK · error_rate\u{7}".into(),
            rollout_began,
        };
        let r = |rollout_began| ServiceRollout {
            name: "checkout".into(),
            rollout_began,
            ..ServiceRollout::default()
        };
        let calls = [
            call("payments", began),
            call("checkout", began - time::Duration::hours(1)),
            call("checkout", began),
        ];
        // The same rollout: the call, cleaned (the guard then asks for the override whatever
        // the judge says now: `guard::tests`).
        let c = rollback_called_in(&calls, &r(Some(began))).expect("called in this rollout");
        assert_eq!(
            (c.weight, c.summary.as_str(), c.began),
            (Some(25.0), "ROLLBACK · error_rate", Some(began))
        );
        // Another rollout, or one whose start the poll does not know: none.
        assert!(rollback_called_in(&calls, &r(Some(began + time::Duration::hours(2)))).is_none());
        assert!(rollback_called_in(&calls, &r(None)).is_none());
    }

    #[test]
    fn status_text_counts_in_good_english() {
        let doc = json!({
            "sources": { "github": { "ok": true, "error": null } },
            "prs": [{}], "runs": [{}, {}], "pending_deployments": [{}], "rollouts": [],
            "incidents": [{}],
        });
        let text = status_text(&doc);
        assert!(text.starts_with("github      ok\n"), "{text}");
        assert!(
            !text.contains("PROCEED"),
            "no rollouts, no verdicts: {text}"
        );
        assert!(
            text.ends_with("1 open PR, 2 runs, 1 pending deployment, 0 rollouts, 1 incident\n"),
            "{text}"
        );
    }

    #[test]
    fn status_text_shows_each_verdict_rollback_first() {
        let doc = json!({
            "sources": { "prometheus": { "ok": true, "error": null } },
            "rollouts": [
                { "service": "web", "environment": "staging", "verdict": "PROCEED", "score": 0.97,
                  "band": "promote", "reasons": ["every metric passes"] },
                { "service": "search", "environment": "production", "verdict": "HOLD", "score": 0.5,
                  "band": "review", "reasons": ["too little traffic", "second"] },
                { "service": "checkout", "environment": "production", "verdict": "ROLLBACK",
                  "score": 0.1, "band": "block", "reasons": ["error_rate breached max 0.005"] },
            ],
        });
        let text = status_text(&doc);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "prometheus  ok");
        assert_eq!(
            lines[1],
            "ROLLBACK    checkout in production, score 0.10 (block): error_rate breached max 0.005"
        );
        assert!(
            lines[2].starts_with("HOLD        search in production"),
            "{text}"
        );
        assert!(lines[2].ends_with(": too little traffic"), "{text}");
        assert!(lines[3].starts_with("PROCEED     web in staging"), "{text}");
        assert!(lines[4].starts_with("0 open PRs, 0 runs"), "{text}");
        assert!(!text.contains("second"), "one reason per service: {text}");
    }

    #[test]
    fn sparklines_scale_from_zero_and_leave_gaps() {
        assert_eq!(sparkline(&[Some(0.0), Some(1.0), None, Some(0.5)]), "▁█ ▅");
        assert_eq!(sparkline(&[Some(0.0), Some(0.0)]), "▁▁");
        assert_eq!(sparkline(&[None, Some(f64::NAN)]), "  ");
        assert_eq!(sparkline(&[]), "");
    }
}

/// What `flightdeck explain` explains: `pr:owner/name#N`, `run:ID`, `incident:SHORT-ID`,
/// `rollout:SERVICE`.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Pr { repo: String, number: u64 },
    Run { id: u64 },
    Incident { short_id: String },
    Rollout { service: String },
}

impl Subject {
    pub fn parse(text: &str) -> Result<Subject, String> {
        let bad = || {
            format!(
                "{text:?}: expected pr:owner/name#N, run:ID, incident:SHORT-ID or rollout:SERVICE"
            )
        };
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let rest = rest.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        match kind {
            "pr" => {
                let (repo, n) = rest.rsplit_once('#').ok_or_else(bad)?;
                let number = n.parse().map_err(|_| bad())?;
                if repo.split('/').count() != 2 || repo.split('/').any(str::is_empty) {
                    return Err(bad());
                }
                Ok(Subject::Pr {
                    repo: repo.into(),
                    number,
                })
            }
            "run" => Ok(Subject::Run {
                id: rest.parse().map_err(|_| bad())?,
            }),
            "incident" => Ok(Subject::Incident {
                short_id: rest.into(),
            }),
            "rollout" => Ok(Subject::Rollout {
                service: rest.into(),
            }),
            _ => Err(bad()),
        }
    }
}

/// Why `explain` could not explain: the subject is unknown (exit 2) or a source failed (exit 3).
#[derive(Debug, Clone, PartialEq)]
pub enum ExplainError {
    NotFound(String),
    Source(String),
}

/// The builtin analyzer's summary of one subject, read fresh from its source: a PR's risk from
/// its files, a failed run from its failed job's log against the job's last green log, an
/// incident, a rollout's verdict in prose.
pub async fn explain(
    config: &Config,
    subject: &Subject,
) -> Result<(crate::domain::Summary, crate::ai::prompt::Subject), ExplainError> {
    use crate::ai::subjects;
    let sources = runtime::connect(config).await;
    let src = |e: SourceError| ExplainError::Source(e.to_string());
    let within = Duration::from_secs(120);
    let timed = |what: &str| ExplainError::Source(format!("{what}: no answer within 120 s"));
    match subject {
        Subject::Pr { repo, number } => {
            let gh = sources
                .github_ops
                .ok_or_else(|| ExplainError::Source("no [github] in the config".into()))?;
            let work = async {
                let pr = gh.pull_request(repo, *number).await?;
                let files = gh.pr_files(repo, *number).await?;
                Ok::<_, SourceError>((pr, files))
            };
            let (pr, files) = tokio::time::timeout(within, work)
                .await
                .map_err(|_| timed("GitHub"))?
                .map_err(|e| match e {
                    SourceError::Status { status: 404, .. } => {
                        ExplainError::NotFound(format!("{repo}#{number}: no such PR"))
                    }
                    e => src(e),
                })?;
            let sum = crate::ai::summaries::pr(&pr, Some(&files), &config.ai.risk).0;
            let subj = subjects::pr(&pr, Some(&files), &sum);
            Ok((sum, subj))
        }
        Subject::Run { id } => {
            let gh = sources
                .github_ops
                .ok_or_else(|| ExplainError::Source("no [github] in the config".into()))?;
            let repos = config
                .github
                .as_ref()
                .map(|g| g.repos.clone())
                .unwrap_or_default();
            for repo in &repos {
                let run = match gh.run_with_pending(repo, *id).await {
                    Ok(r) => r,
                    Err(SourceError::Status { status: 404, .. }) => continue,
                    Err(e) => return Err(src(e)),
                };
                if run.state != crate::domain::RunState::Failure {
                    let subj = subjects::run(&run, None, None);
                    return Ok((crate::ai::summaries::run(&run, None), subj));
                }
                let jobs = gh.jobs(repo, *id).await.map_err(src)?;
                let Some(job) = jobs
                    .iter()
                    .find(|j| j.state == crate::domain::RunState::Failure)
                else {
                    let subj = subjects::run(&run, Some(&jobs), None);
                    return Ok((crate::ai::summaries::run(&run, None), subj));
                };
                let work = crate::ops::exec::analyze_run(
                    &gh,
                    repo,
                    &run.workflow,
                    job.id,
                    job.name.clone(),
                );
                let a = tokio::time::timeout(within, work)
                    .await
                    .map_err(|_| timed("GitHub"))?
                    .map_err(src)?;
                let against = crate::ai::summaries::comparison(
                    &run,
                    &a.job,
                    a.green.as_ref().map(|(n, b)| (*n, b.as_str())),
                    a.green_note.as_deref(),
                    a.on_default
                        .as_ref()
                        .map(|(n, st, b)| (*n, *st, b.as_str())),
                );
                let subj = subjects::run(&run, Some(&jobs), Some((&a.job, &a.report)));
                return Ok((
                    crate::ai::summaries::run(&run, Some((&a.report, &against))),
                    subj,
                ));
            }
            Err(ExplainError::NotFound(format!(
                "run {id}: not in any configured repository ({})",
                repos.join(", ")
            )))
        }
        Subject::Incident { short_id } => {
            let sentry = sources
                .sentry_ops
                .ok_or_else(|| ExplainError::Source("no [sentry] in the config".into()))?;
            let projects = config
                .sentry
                .as_ref()
                .map(|s| s.projects.clone())
                .unwrap_or_default();
            for p in &projects {
                let issues = tokio::time::timeout(within, sentry.issues(p))
                    .await
                    .map_err(|_| timed("Sentry"))?
                    .map_err(src)?;
                if let Some(i) = issues
                    .iter()
                    .find(|i| i.short_id.eq_ignore_ascii_case(short_id) || i.id == *short_id)
                {
                    let event = sentry.latest_event(&i.id).await.ok();
                    // The suspected change, as the Incidents tab finds it (GitHub's deploys and
                    // PRs of the project's repository).
                    let setup = crate::ops::draft::DraftSetup::from_config(config);
                    let suspects = match (&sources.github_ops, setup.repo_for(&i.project)) {
                        (Some(gh), Some(repo)) => {
                            let hints = sentry.commit_hints(event.as_ref()).await;
                            gh.suspects_with(
                                i,
                                event.as_ref(),
                                repo,
                                setup.environment_for(repo),
                                &hints,
                                OffsetDateTime::now_utc(),
                            )
                            .await
                            .ok()
                        }
                        _ => None,
                    };
                    let subj = subjects::incident(
                        i,
                        event.as_ref(),
                        suspects.as_ref().and_then(|s| s.first()),
                    );
                    let cx = crate::ai::summaries::IncidentContext {
                        event: event.as_ref(),
                        suspects: suspects.as_deref(),
                        last_deploy: None,
                    };
                    return Ok((crate::ai::summaries::incident(i, cx), subj));
                }
            }
            Err(ExplainError::NotFound(format!(
                "{short_id}: no unresolved issue with that id in {}",
                projects.join(", ")
            )))
        }
        Subject::Rollout { service } => {
            let Some(svc) = config.services.iter().find(|s| s.name == *service) else {
                return Err(ExplainError::NotFound(format!(
                    "{service}: no [[service]] with that name"
                )));
            };
            let rollouts = judge_now(config, std::slice::from_ref(svc))
                .await
                .map_err(ExplainError::Source)?;
            let r = rollouts
                .iter()
                .find(|r| r.name == *service)
                .ok_or_else(|| ExplainError::Source(format!("{service}: not read")))?;
            let j = crate::analysis::rollout::judge_service(r, &(&config.policy).into());
            let subj = subjects::rollout(&r.name, Some(r), Some(&j));
            Ok((crate::ai::summaries::rollout(r, Some(&j)), subj))
        }
    }
}

/// `explain`'s text: the subject, the headline, the detail.
pub fn summary_text(s: &crate::domain::Summary) -> String {
    let mut out = format!(
        "{} {} ({})\n{}\n\n",
        s.kind.label(),
        s.subject,
        s.analyzer,
        s.headline
    );
    for l in &s.detail {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The configured LLM's answer about a subject (`explain --llm`): the prompt built as the
/// cockpit builds it (fenced, redacted), sent whole, the answer parsed and cleaned; cached under
/// `cache` by a hash of the body. `Err` says why (not configured, refused, unreadable).
pub async fn explain_llm(
    config: &Config,
    summary: &crate::domain::Summary,
    subject: &crate::ai::prompt::Subject,
    cache: Option<std::path::PathBuf>,
) -> Result<(String, crate::ai::prompt::Answer, bool), String> {
    use crate::sources::llm::{ChatRequest, LlmCache, LlmClient, Message};
    if config.ai.provider != "openai" {
        return Err(
            "no LLM configured: [ai] provider = \"openai\" with url and model (the builtin summary above stands)"
                .into(),
        );
    }
    let key = crate::config::ai_key(&config.ai)
        .await
        .map_err(|e| format!("LLM key: {e}"))?
        .map(|(k, _)| k);
    let client =
        LlmClient::from_config(&config.ai, key, Default::default()).map_err(|e| e.to_string())?;
    let builtin = std::iter::once(summary.headline.clone())
        .chain(summary.detail.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n");
    let prompt = crate::ai::prompt::build(subject, &builtin, &config.ai.redact);
    let req = ChatRequest::new(
        prompt
            .messages
            .iter()
            .map(|(role, text)| match role {
                crate::ai::prompt::Role::System => Message::system(text.clone()),
                crate::ai::prompt::Role::User => Message::user(text.clone()),
            })
            .collect(),
    );
    // Structured output where the server takes it (`json_schema`, then `json_object`, then the
    // prompt alone — the client remembers which), parsed tolerantly; cached by the request.
    let cache = cache.map(LlmCache::new);
    let key = client.cache_key(&req);
    if let Some(text) = cache.as_ref().and_then(|c| c.get(&key))
        && let Ok(answer) = crate::ai::prompt::parse_answer(&text)
    {
        return Ok((client.model().to_string(), answer, true));
    }
    let value = client
        .complete_json(&req, &crate::ai::prompt::answer_schema())
        .await
        .map_err(|e| e.to_string())?;
    let answer = crate::ai::prompt::answer_from_value(value.clone())?;
    if let Some(c) = &cache
        && let Err(e) = c.put(&key, &value.to_string())
    {
        tracing::warn!(error = %e, "cannot keep the LLM answer");
    }
    Ok((client.model().to_string(), answer, false))
}
