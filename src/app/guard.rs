//! The approval guard: the one place that decides whether approving a held deployment goes with
//! the judge or against it. Every path to an approval asks it — `a` on the Runs tab, `a` on the
//! Rollouts tab, the palette's `approve` (the same action), the autopilot, and the headless
//! `flightdeck approve`.
//!
//! A held deployment belongs to every judged service whose environment is one the run waits for
//! (case-insensitively) and whose repo is unset or the run's. Each such service gives a
//! [`ServiceVerdict`]; a service with no live verdict (its metrics not loaded yet, no judgement,
//! or only the on-disk cache's data) counts as not PROCEED. The approval goes with the judge only
//! when every service says PROCEED; otherwise the cockpit asks for `override` typed, the autopilot
//! does not approve, and `flightdeck approve` refuses without `--override`. Rejecting is never
//! guarded.
//!
//! In the cockpit a service whose judge called ROLLBACK earlier in its current rollout
//! ([`State::rollbacks_called`]) does not go with the judge either, whatever it says now: a
//! regression whose proof thinned for a poll is still the one that was found. The call is kept
//! in the audit log's verdict records with when its rollout began: a restarted cockpit restores
//! it, and the headless command, which judges once, reads it there, each while the poll shows the
//! same rollout.

use crate::analysis::canary::{Judgement, Verdict};
use crate::app::state::{RollbackCalled, State};
use crate::domain::{SourceId, WorkflowRun};

/// A service the held deployment may belong to, as the guard sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub environment: &'a str,
    pub repo: Option<&'a str>,
    /// The judge's verdict, when there is one.
    pub judgement: Option<&'a Judgement>,
    /// Whether the judgement comes from a live poll (not the on-disk cache).
    pub live: bool,
    /// The ROLLBACK the judge called earlier in the service's current rollout, if any.
    pub rollback_called: Option<&'a RollbackCalled>,
}

/// One service's say on the approval.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceVerdict {
    pub service: String,
    /// `None`: the judge has no live verdict for the service (counts as not PROCEED).
    pub verdict: Option<Verdict>,
    pub score: Option<f64>,
    /// "HOLD (score 0.50)", or "no verdict yet".
    pub label: String,
    /// The judgement's one line (verdict, score, band, first reason), or why there is none.
    pub text: String,
    /// "ROLLBACK at 14:05 UTC at 25 %": the judge called ROLLBACK earlier in this rollout.
    pub called: Option<String>,
}

impl ServiceVerdict {
    /// Whether the service goes with approving: PROCEED, and no ROLLBACK called earlier in its
    /// rollout.
    pub fn proceed(&self) -> bool {
        self.verdict == Some(Verdict::Proceed) && self.called.is_none()
    }

    /// Worst first: ROLLBACK, no verdict, HOLD, PROCEED.
    fn rank(&self) -> u8 {
        match self.verdict {
            Some(Verdict::Rollback) => 0,
            None => 1,
            Some(Verdict::Hold) => 2,
            Some(Verdict::Proceed) => 3,
        }
    }
}

/// The judge's say on approving one held deployment: a verdict per service it belongs to, worst
/// first. No service: the judge has nothing to say (nothing to override).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApprovalGuard {
    pub verdicts: Vec<ServiceVerdict>,
}

impl ApprovalGuard {
    /// Whether approving goes with the judge: every service the deployment belongs to says PROCEED.
    pub fn approvable(&self) -> bool {
        self.verdicts.iter().all(ServiceVerdict::proceed)
    }

    /// Why approving needs an override ("The judge says HOLD for checkout (score 0.50)"), or
    /// `None` when it does not.
    pub fn override_reason(&self) -> Option<String> {
        let against: Vec<String> = self
            .verdicts
            .iter()
            .filter(|v| !v.proceed())
            .map(|v| {
                let now = match v.verdict {
                    Some(_) => format!("the judge says {} for {}", v.label, v.service),
                    None => v.text.clone(),
                };
                match &v.called {
                    Some(called) => format!("{now}; it called {called} in this rollout"),
                    None => now,
                }
            })
            .collect();
        if against.is_empty() {
            return None;
        }
        let mut reason = against.join("; ");
        if let Some(first) = reason.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        Some(reason)
    }

    /// The review's default comment: "Approved from flightdeck; judge: HOLD (score 0.50)".
    pub fn default_comment(&self, approving: bool) -> String {
        format!(
            "{} from flightdeck{}",
            if approving { "Approved" } else { "Rejected" },
            self.comment_note()
                .map(|n| format!("; judge: {n}"))
                .unwrap_or_default()
        )
    }

    /// The verdicts as the confirmation's default comment names them: "ROLLBACK (score 0.12)" for
    /// one service, "checkout ROLLBACK (score 0.12), web PROCEED (score 0.97)" for several.
    pub fn comment_note(&self) -> Option<String> {
        match self.verdicts.as_slice() {
            [] => None,
            [one] if one.verdict.is_some() => Some(one.label.clone()),
            many => Some(
                many.iter()
                    .map(|v| format!("{} {}", v.service, v.label))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
    }
}

/// Whether a service (its environment and repo) is one that `run`'s held deployment belongs to.
pub fn belongs(run: &WorkflowRun, environment: &str, repo: Option<&str>) -> bool {
    repo.is_none_or(|r| r == run.repo)
        && run
            .pending
            .iter()
            .any(|p| p.environment.eq_ignore_ascii_case(environment))
}

/// The guard over any list of candidate services (the cockpit's state, or the headless command's
/// configured services and their fresh judgements). A service named twice counts once (its first
/// entry).
pub fn judge_deployment<'a>(
    run: &WorkflowRun,
    candidates: impl IntoIterator<Item = Candidate<'a>>,
) -> ApprovalGuard {
    let mut verdicts: Vec<ServiceVerdict> = Vec::new();
    for c in candidates {
        if !belongs(run, c.environment, c.repo) || verdicts.iter().any(|v| v.service == c.name) {
            continue;
        }
        let called = c
            .rollback_called
            .map(|r| format!("ROLLBACK at {}", r.when()));
        let mut v = match c.judgement {
            Some(j) if c.live => ServiceVerdict {
                service: c.name.to_string(),
                verdict: Some(j.verdict),
                score: Some(j.score),
                label: format!("{} (score {:.2})", j.verdict.label(), j.score),
                text: j.summary.clone(),
                called: None,
            },
            Some(_) => ServiceVerdict {
                service: c.name.to_string(),
                verdict: None,
                score: None,
                label: "no live verdict".into(),
                text: format!(
                    "the judge has no verdict for {} yet (its metrics are from the cache)",
                    c.name
                ),
                called: None,
            },
            None => ServiceVerdict {
                service: c.name.to_string(),
                verdict: None,
                score: None,
                label: "no verdict yet".into(),
                text: format!("the judge has no verdict for {} yet", c.name),
                called: None,
            },
        };
        // (Still ROLLBACK: the verdict says it all.)
        v.called = called.filter(|_| v.verdict != Some(Verdict::Rollback));
        verdicts.push(v);
    }
    verdicts.sort_by_key(ServiceVerdict::rank);
    ApprovalGuard { verdicts }
}

/// The guard for `run` in the cockpit: the services read from Prometheus (their judgements live
/// unless the metrics are the cache's), then the configured services Prometheus has not answered
/// for yet (no verdict).
pub fn approval_guard(state: &State, run: &WorkflowRun) -> ApprovalGuard {
    let live = !state.cached(SourceId::Prometheus);
    let rollouts = state.rollouts.items.iter().map(|r| Candidate {
        name: &r.name,
        environment: &r.environment,
        repo: r.repo.as_deref(),
        judgement: state.judgement(&r.name),
        live,
        rollback_called: state.rollbacks_called.get(&r.name),
    });
    let configured = state.services.iter().map(|s| Candidate {
        name: &s.name,
        environment: &s.environment,
        repo: s.repo.as_deref(),
        judgement: None,
        live,
        rollback_called: None,
    });
    judge_deployment(run, rollouts.chain(configured))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::canary::{Policy, judge};
    use crate::domain::{PendingDeployment, RunState};

    fn run(repo: &str, environments: &[&str]) -> WorkflowRun {
        WorkflowRun {
            repo: repo.into(),
            id: 7,
            run_number: 7,
            workflow: "Deploy".into(),
            title: String::new(),
            branch: "main".into(),
            sha: "abc".into(),
            event: "push".into(),
            actor: "octocat".into(),
            state: RunState::Waiting,
            attempt: 1,
            started_at: None,
            updated_at: None,
            url: String::new(),
            pending: environments
                .iter()
                .map(|e| PendingDeployment {
                    environment_id: 1,
                    environment: (*e).into(),
                    wait_timer_minutes: 0,
                    wait_started_at: None,
                    can_approve: true,
                    reviewers: Vec::new(),
                })
                .collect(),
        }
    }

    fn judgement(verdict: Verdict) -> Judgement {
        let mut j = judge(&[], &Policy::default(), None);
        j.verdict = verdict;
        j.score = 0.5;
        j
    }

    fn candidate<'a>(
        name: &'a str,
        environment: &'a str,
        repo: Option<&'a str>,
        judgement: Option<&'a Judgement>,
    ) -> Candidate<'a> {
        Candidate {
            name,
            environment,
            repo,
            judgement,
            live: true,
            rollback_called: None,
        }
    }

    #[test]
    fn a_rollback_called_earlier_in_the_rollout_needs_the_override_whatever_the_verdict_now() {
        let (p, h) = (judgement(Verdict::Proceed), judgement(Verdict::Hold));
        let called = RollbackCalled {
            at: time::macros::datetime!(2026-12-02 14:05 UTC),
            weight: Some(25.0),
            summary: "ROLLBACK: error_rate".into(),
            began: None,
            restored: false,
        };
        let r = run("acme/checkout", &["production"]);
        // PROCEED now, ROLLBACK called at 25 %: not with the judge.
        let g = judge_deployment(
            &r,
            [Candidate {
                rollback_called: Some(&called),
                ..candidate("checkout", "production", None, Some(&p))
            }],
        );
        assert!(!g.approvable());
        assert_eq!(
            g.override_reason().as_deref(),
            Some(
                "The judge says PROCEED (score 0.50) for checkout; it called ROLLBACK at 14:05 UTC at 25 % in this rollout"
            )
        );
        // HOLD now: the override names both.
        let g = judge_deployment(
            &r,
            [Candidate {
                rollback_called: Some(&called),
                ..candidate("checkout", "production", None, Some(&h))
            }],
        );
        assert!(
            g.override_reason()
                .is_some_and(|w| w.contains("HOLD") && w.contains("called ROLLBACK at 14:05 UTC")),
            "{:?}",
            g.override_reason()
        );
        // Without it, PROCEED goes with the judge.
        let g = judge_deployment(&r, [candidate("checkout", "production", None, Some(&p))]);
        assert!(g.approvable() && g.override_reason().is_none());
    }

    #[test]
    fn matches_environment_case_insensitively_and_repo_when_set() {
        let r = run("acme/checkout", &["Production"]);
        assert!(belongs(&r, "production", None));
        assert!(belongs(&r, "PRODUCTION", Some("acme/checkout")));
        assert!(!belongs(&r, "production", Some("acme/web")));
        assert!(!belongs(&r, "staging", None));
    }

    #[test]
    fn verdicts_come_worst_first_and_any_not_proceed_needs_the_override() {
        let (p, h, rb) = (
            judgement(Verdict::Proceed),
            judgement(Verdict::Hold),
            judgement(Verdict::Rollback),
        );
        let r = run("acme/checkout", &["production"]);
        let g = judge_deployment(
            &r,
            [
                candidate("a", "production", None, Some(&p)),
                candidate("b", "production", Some("acme/checkout"), Some(&h)),
                candidate("c", "production", None, Some(&rb)),
                candidate("d", "production", None, None),
                candidate("e", "staging", None, Some(&rb)),
                candidate("f", "production", Some("acme/web"), Some(&rb)),
                candidate("a", "production", None, Some(&rb)),
            ],
        );
        let names: Vec<&str> = g.verdicts.iter().map(|v| v.service.as_str()).collect();
        assert_eq!(names, ["c", "d", "b", "a"]);
        assert!(!g.approvable());
        let why = g.override_reason().unwrap();
        assert!(
            why.starts_with("The judge says ROLLBACK (score 0.50) for c"),
            "{why}"
        );
        assert!(why.contains("no verdict for d yet"), "{why}");
        assert!(!why.contains(" a"), "PROCEED is not overridden: {why}");

        let only = judge_deployment(&r, [candidate("a", "production", None, Some(&p))]);
        assert!(only.approvable());
        assert_eq!(only.override_reason(), None);
        assert_eq!(
            only.default_comment(true),
            "Approved from flightdeck; judge: PROCEED (score 0.50)"
        );
        let none = judge_deployment(&r, []);
        assert!(none.approvable());
        assert_eq!(none.default_comment(false), "Rejected from flightdeck");
    }

    #[test]
    fn a_cached_judgement_is_no_verdict() {
        let p = judgement(Verdict::Proceed);
        let r = run("acme/checkout", &["production"]);
        let mut c = candidate("a", "production", None, Some(&p));
        c.live = false;
        let g = judge_deployment(&r, [c]);
        assert!(!g.approvable());
        assert!(g.override_reason().unwrap().contains("cache"));
    }
}
