//! Deployments and their statuses, as `GET /repos/{owner}/{repo}/deployments` and
//! `.../deployments/{id}/statuses` serve them: a history from before the demo, then one deployment
//! per execution of a job with an `environment`, created when the job starts waiting for approval
//! (or starts running), its statuses following the job on its run's clock.
//!
//! acme/checkout `production`, newest first (the story's view at t = 0):
//! - the held `Deploy` run's deployment (sha = `main`'s head, the canary's release 2.14.0):
//!   `queued` since t = -1150 (waiting for approval); `in_progress` on approval, `success` when
//!   the run completes ([`super::github_runs::APPROVE_SECS`] later), `failure` on rejection;
//! - 2.13.3, a day earlier: `failure` (never reached the primary);
//! - 2.13.2, ten days earlier: `success`, the last good release and the rollback target (what the
//!   primary runs; Sentry's CHECKOUT-2A was first seen in it);
//! - 2.13.1 (17 days earlier) and 2.11.0: `success`; 2.13.1 was rolled back to 2.11.0 three and
//!   a half hours after it shipped (a `deploy:rollback` deployment of the tag `v2.11.0`, `success`).
//!
//! acme/web `staging`: 2026.10.30 and 2026.11.16 (`success`, then `inactive` once a newer one
//! succeeds, as GitHub marks prior non-production deployments), and the `Deploy` run's deployment
//! of 2026.11.23 (`in_progress` since t = -455, `success` at t = 125).

use serde_json::{Value, json};

use super::github_data::{sha, user};
use super::github_runs::{Actions, Job, Now, RunView, environment};
use super::scenario::story;
use super::util::{hex_id, iso};

/// Who creates the statuses of deployments made by GitHub Actions.
const ACTIONS_BOT: &str = "github-actions[bot]";

/// A deployment before the demo.
struct Past {
    repo: &'static str,
    environment: &'static str,
    version: &'static str,
    /// The `Deploy` run that made it (for its id and links).
    run_id: u64,
    creator: &'static str,
    /// Scenario second it was created (waiting for approval in production).
    created: f64,
    /// Seconds until it started (the approval).
    waited: f64,
    /// Seconds it ran.
    ran: f64,
    outcome: &'static str,
    /// A rollback deployment (`task: deploy:rollback`, made from the release's tag).
    rollback: bool,
}

const DAY: f64 = 86_400.0;

const PAST: [Past; 7] = [
    Past {
        repo: "acme/checkout",
        environment: "production",
        version: "2.11.0",
        run_id: 9_200_000_031,
        creator: "devon-r",
        created: -41.0 * DAY + 3_100.0,
        waited: 420.0,
        ran: 610.0,
        outcome: "success",
        rollback: false,
    },
    Past {
        repo: "acme/checkout",
        environment: "production",
        version: "2.13.1",
        run_id: 9_200_000_047,
        creator: "mara-k",
        created: -17.0 * DAY - 1_900.0,
        waited: 180.0,
        ran: 580.0,
        outcome: "success",
        rollback: false,
    },
    Past {
        repo: "acme/checkout",
        environment: "production",
        version: "2.11.0",
        run_id: 9_200_000_049,
        creator: "mara-k",
        created: -17.0 * DAY + 12_600.0,
        waited: 0.0,
        ran: 300.0,
        outcome: "success",
        rollback: true,
    },
    Past {
        repo: "acme/checkout",
        environment: "production",
        version: "2.13.2",
        run_id: 9_200_000_062,
        creator: "mara-k",
        created: -10.0 * DAY + 5_400.0,
        waited: 240.0,
        ran: 640.0,
        outcome: "success",
        rollback: false,
    },
    Past {
        repo: "acme/checkout",
        environment: "production",
        version: "2.13.3",
        run_id: 9_200_000_078,
        creator: "devon-r",
        created: -DAY - 2_600.0,
        waited: 300.0,
        ran: 350.0,
        outcome: "failure",
        rollback: false,
    },
    Past {
        repo: "acme/web",
        environment: "staging",
        version: "2026.10.30",
        run_id: 9_200_000_171,
        creator: "release-bot",
        created: -26.0 * DAY + 1_200.0,
        waited: 0.0,
        ran: 720.0,
        outcome: "success",
        rollback: false,
    },
    Past {
        repo: "acme/web",
        environment: "staging",
        version: "2026.11.16",
        run_id: 9_200_000_185,
        creator: "release-bot",
        created: -7.0 * DAY + 900.0,
        waited: 0.0,
        ran: 700.0,
        outcome: "success",
        rollback: false,
    },
];

/// The release commit of a deployment before the demo.
pub fn past_sha(repo: &str, version: &str) -> String {
    hex_id(&format!("sha/{repo}/release/{version}"), 40)
}

/// One status of a deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub state: &'static str,
    /// Scenario second.
    pub at: f64,
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub id: u64,
    pub repo: &'static str,
    pub sha: String,
    pub reference: &'static str,
    pub environment: &'static str,
    pub creator: &'static str,
    pub created: f64,
    /// `deploy`, or `deploy:rollback` for a rollback.
    pub task: &'static str,
    pub description: Option<String>,
    /// Oldest first.
    pub statuses: Vec<Status>,
    /// The job's page (`target_url`, `log_url`).
    pub log_url: String,
}

impl Deployment {
    /// Scenario second of the latest status (or of the creation).
    pub fn updated(&self) -> f64 {
        self.statuses.last().map_or(self.created, |s| s.at)
    }

    /// Whether a status of this deployment is `success`.
    pub fn succeeded(&self) -> Option<f64> {
        self.statuses
            .iter()
            .find(|s| s.state == "success")
            .map(|s| s.at)
    }
}

/// The tag a rollback deploys (the demo's rollbacks go back to 2.11.0 only).
fn rollback_ref(version: &str) -> &'static str {
    match version {
        "2.11.0" => "v2.11.0",
        _ => "main",
    }
}

/// Id of the deployment made by attempt `attempt` of run `run_id`.
pub fn deployment_id(run_id: u64, attempt: u32) -> u64 {
    1_800_000_000 + (run_id % 100_000) * 10 + u64::from(attempt)
}

fn job_page(repo: &str, run_id: u64, job_id: u64) -> String {
    format!("https://github.com/{repo}/actions/runs/{run_id}/job/{job_id}")
}

fn past(p: &Past) -> Deployment {
    let started = p.created + p.waited;
    let ended = started + p.ran;
    let job_id = 33_000_000_000 + (p.run_id % 100_000) * 1_000 + 11;
    Deployment {
        id: deployment_id(p.run_id, 1),
        repo: p.repo,
        sha: past_sha(p.repo, p.version),
        reference: if p.rollback {
            rollback_ref(p.version)
        } else {
            "main"
        },
        environment: p.environment,
        creator: p.creator,
        created: p.created,
        task: if p.rollback {
            "deploy:rollback"
        } else {
            "deploy"
        },
        description: p.rollback.then(|| format!("Roll back to {}", p.version)),
        statuses: vec![
            Status {
                state: "queued",
                at: p.created,
            },
            Status {
                state: "in_progress",
                at: started,
            },
            Status {
                state: p.outcome,
                at: ended,
            },
        ],
        log_url: job_page(p.repo, p.run_id, job_id),
    }
}

/// The deployment a job with an environment makes, as of its run's time `v.t`; `None` before it
/// waits or runs, and for jobs that never deploy (skipped, or without an environment).
pub fn of_job(v: &RunView, j: &Job) -> Option<Deployment> {
    let r = v.spec();
    let env = environment(r.repo, j.tpl.environment?)?;
    let t = v.t;
    let created = j.gate.or(j.start).filter(|c| *c <= t)?;
    if j.end.is_some_and(|e| e <= t) && j.conclusion == "skipped" {
        return None;
    }
    let mut statuses = vec![Status {
        state: "queued",
        at: created,
    }];
    // A rejected or cancelled job that never ran has no steps.
    if let Some(s) = j.start.filter(|s| *s <= t && !j.steps.is_empty()) {
        statuses.push(Status {
            state: "in_progress",
            at: s,
        });
    }
    if let Some(e) = j.end.filter(|e| *e <= t) {
        let state = match j.conclusion {
            "success" => "success",
            "cancelled" => "error",
            _ => "failure",
        };
        statuses.push(Status { state, at: e });
    }
    Some(Deployment {
        id: deployment_id(r.id, j.attempt),
        repo: r.repo,
        sha: sha(r.repo, r.branch),
        reference: r.branch,
        environment: env.name,
        creator: r.actor,
        created,
        task: "deploy",
        description: None,
        statuses,
        log_url: job_page(r.repo, r.id, j.id),
    })
}

/// Every deployment of `repo` now, newest first.
pub fn deployments(acts: &Actions, now: &Now, repo: &str) -> Vec<Deployment> {
    let t = story(now.t);
    let mut all: Vec<Deployment> = PAST
        .iter()
        .filter(|p| p.repo == repo && p.created <= t)
        .map(past)
        .map(|mut d| {
            d.statuses.retain(|s| s.at <= t);
            d
        })
        .collect();
    for spec in acts.runs(repo, now.t) {
        let v = acts.view(&spec, now);
        all.extend(v.all_jobs().into_iter().filter_map(|j| of_job(&v, j)));
    }
    // GitHub marks earlier deployments to the same non-production environment `inactive` when
    // a newer one succeeds (`auto_inactive`).
    all.sort_by(|a, b| a.created.total_cmp(&b.created).then(a.id.cmp(&b.id)));
    for i in 0..all.len() {
        let env = all[i].environment;
        let Some(at) = all[i].succeeded() else {
            continue;
        };
        if env == "production" {
            continue;
        }
        for older in all[..i].iter_mut().filter(|d| d.environment == env) {
            if older.succeeded().is_some() && older.statuses.iter().all(|s| s.state != "inactive") {
                older.statuses.push(Status {
                    state: "inactive",
                    at: at.max(older.updated()),
                });
            }
        }
    }
    all.reverse();
    all
}

/// A deployment as in `GET /repos/{owner}/{repo}/deployments`.
pub fn deployment_json(api: &str, d: &Deployment) -> Value {
    let repo = d.repo;
    let u = format!("{api}/repos/{repo}/deployments/{}", d.id);
    json!({
        "url": u,
        "id": d.id,
        "node_id": format!("DE_kwDO{}", hex_id(&u, 12)),
        "sha": d.sha,
        "ref": d.reference,
        "task": d.task,
        "payload": {},
        "original_environment": d.environment,
        "environment": d.environment,
        "description": d.description,
        "creator": user(api, d.creator),
        "created_at": iso(d.created),
        "updated_at": iso(d.updated()),
        "statuses_url": format!("{u}/statuses"),
        "repository_url": format!("{api}/repos/{repo}"),
        "transient_environment": false,
        "production_environment": d.environment == "production",
        "performed_via_github_app": null
    })
}

/// The statuses of `d` as in `GET .../deployments/{id}/statuses`, newest first.
pub fn statuses_json(api: &str, d: &Deployment) -> Vec<Value> {
    let repo = d.repo;
    let du = format!("{api}/repos/{repo}/deployments/{}", d.id);
    d.statuses
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| {
            let id = d.id * 10 + i as u64;
            let u = format!("{du}/statuses/{id}");
            json!({
                "url": u,
                "id": id,
                "node_id": format!("DES_kwDO{}", hex_id(&u, 14)),
                "state": s.state,
                "creator": user(api, ACTIONS_BOT),
                "description": "",
                "environment": d.environment,
                "target_url": d.log_url,
                "created_at": iso(s.at),
                "updated_at": iso(s.at),
                "deployment_url": du,
                "repository_url": format!("{api}/repos/{repo}"),
                "environment_url": "",
                "log_url": d.log_url,
                "performed_via_github_app": null
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now(t: f64) -> Now {
        Now {
            t,
            wall: 0.0,
            rate: 1.0,
        }
    }

    #[test]
    fn production_history_has_a_last_good_release_before_the_canary() {
        let acts = Actions::default();
        let all = deployments(&acts, &now(10.0), "acme/checkout");
        assert_eq!(all.len(), 6);
        assert!(all.windows(2).all(|w| w[0].created >= w[1].created));
        let current = &all[0];
        assert_eq!(current.sha, sha("acme/checkout", "main"));
        assert_eq!(current.statuses.last().map(|s| s.state), Some("queued"));
        assert_eq!(all[1].statuses.last().map(|s| s.state), Some("failure"));
        let good = all.iter().find(|d| d.succeeded().is_some()).expect("good");
        assert_eq!(good.sha, past_sha("acme/checkout", "2.13.2"));
        assert_ne!(good.sha, current.sha);
    }

    #[test]
    fn checkout_was_once_rolled_back_to_an_earlier_release() {
        let acts = Actions::default();
        let all = deployments(&acts, &now(10.0), "acme/checkout");
        let rollbacks: Vec<&Deployment> =
            all.iter().filter(|d| d.task == "deploy:rollback").collect();
        assert_eq!(rollbacks.len(), 1);
        let r = rollbacks[0];
        assert_eq!(r.sha, past_sha("acme/checkout", "2.11.0"));
        assert_eq!(r.reference, "v2.11.0");
        assert!(r.succeeded().is_some());
        let json = deployment_json("http://gh", r);
        assert_eq!(json["task"], "deploy:rollback");
        assert_eq!(json["description"], "Roll back to 2.11.0");
    }

    #[test]
    fn staging_marks_older_deployments_inactive() {
        let acts = Actions::default();
        let before = deployments(&acts, &now(100.0), "acme/web");
        assert_eq!(before.len(), 3);
        let latest = |d: &Deployment| d.statuses.last().map(|s| s.state);
        assert_eq!(latest(&before[0]), Some("in_progress"));
        assert_eq!(latest(&before[1]), Some("success"));
        assert_eq!(latest(&before[2]), Some("inactive"));
        let after = deployments(&acts, &now(130.0), "acme/web");
        assert_eq!(latest(&after[0]), Some("success"));
        assert_eq!(latest(&after[1]), Some("inactive"));
        assert_eq!(after[1].statuses.last().map(|s| s.at), Some(125.0));
    }
}
