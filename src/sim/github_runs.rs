//! Workflow runs as timelines: their jobs, steps, check runs and held deployments, and what the
//! operator's actions (approve or reject a held deployment, re-run failed jobs, cancel, dispatch a
//! workflow) do to them and to the canaries.
//!
//! A run's jobs and steps are planned from its scripted phases ([`RunSpec::phases`]); an action
//! rewrites the plan from the moment it happens. A run is evaluated at its own time: the story
//! clock until the first action on it, then the last action's time plus the wall seconds since,
//! scaled by [`super::Clock::action_rate`] (the world's speed, or 1 when it is frozen). So with
//! `speed = 0` an approved deployment still finishes [`APPROVE_SECS`] wall seconds later.
//!
//! Timings after an action at scenario second `a`:
//! - approve: run `in_progress` at `a`, `completed`/`success` at `a + 5`;
//! - reject: run `completed`/`failure` at `a` (the gated job fails without running);
//! - re-run failed jobs: `run_attempt` + 1, `queued` at `a`, `in_progress` at `a + 1`,
//!   `completed`/`success` at `a + 6` (a re-run production deploy job waits for approval again);
//! - cancel: `completed`/`cancelled` at `a`; unfinished jobs are cancelled.
//! - workflow dispatch (`rollback.yml`): a new run, `queued` at `a`, `in_progress` at `a + 1`,
//!   `completed`/`success` at `a + 6` ([`DISPATCHED_PHASES`]); a rollback also rolls the
//!   service's canary back at `a` (see [`Actions::rollbacks`]).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::github_data::{
    DISPATCHED_PHASES, OPERATOR, PRS, RunSpec, Workflow, head_message, pr_id, repo_id, repo_json,
    sha, user,
};
use super::scenario::story;
use super::util::{hex_id, iso};

/// Scenario seconds from an approval to the finished deployment.
pub const APPROVE_SECS: f64 = 5.0;
/// Scenario seconds a re-run stays queued.
pub const RERUN_QUEUED_SECS: f64 = 1.0;
/// Scenario seconds from a re-run request to its completion.
pub const RERUN_SECS: f64 = 6.0;
/// Duration assumed for a run whose script does not say when it ends.
const NOMINAL_SECS: f64 = 300.0;

/// What a job does (drives its steps and its log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Lint,
    /// `npm test` on the given Node.js major version.
    Test(&'static str),
    Build,
    CodeQl,
    Image,
    Deploy,
    WebLint,
    WebUnit,
    WebE2e,
    /// `rollback.yml`: back to the last good image.
    Rollback,
}

/// One job of a workflow.
#[derive(Debug)]
pub struct JobTemplate {
    pub name: &'static str,
    pub kind: JobKind,
    /// Start and end as fractions of the run's nominal duration.
    pub window: (f64, f64),
    /// The job that fails when the run fails.
    pub fails: bool,
    /// Needs the jobs before it: skipped when one fails, re-run after them.
    pub needs: bool,
    /// Deployment environment of the job.
    pub environment: Option<&'static str>,
}

const fn job(name: &'static str, kind: JobKind, window: (f64, f64)) -> JobTemplate {
    JobTemplate {
        name,
        kind,
        window,
        fails: false,
        needs: false,
        environment: None,
    }
}

const CHECKOUT_CI: [JobTemplate; 4] = [
    job("lint", JobKind::Lint, (0.0, 0.25)),
    job("test (node 18)", JobKind::Test("18"), (0.0, 0.8)),
    JobTemplate {
        fails: true,
        ..job("test (node 20)", JobKind::Test("20"), (0.0, 0.85))
    },
    JobTemplate {
        needs: true,
        ..job("build", JobKind::Build, (0.86, 1.0))
    },
];

const CHECKOUT_CODEQL: [JobTemplate; 1] = [job(
    "Analyze (javascript-typescript)",
    JobKind::CodeQl,
    (0.0, 1.0),
)];

const CHECKOUT_DEPLOY: [JobTemplate; 2] = [
    job("build-image", JobKind::Image, (0.0, 0.2)),
    JobTemplate {
        needs: true,
        environment: Some("production"),
        ..job("deploy (production)", JobKind::Deploy, (0.2, 1.0))
    },
];

const WEB_CI: [JobTemplate; 3] = [
    job("lint", JobKind::WebLint, (0.0, 0.3)),
    JobTemplate {
        fails: true,
        ..job("unit", JobKind::WebUnit, (0.0, 0.6))
    },
    job("e2e (chromium)", JobKind::WebE2e, (0.05, 1.0)),
];

const WEB_DEPLOY: [JobTemplate; 2] = [
    job("build-image", JobKind::Image, (0.0, 0.2)),
    JobTemplate {
        needs: true,
        environment: Some("staging"),
        ..job("deploy (staging)", JobKind::Deploy, (0.2, 1.0))
    },
];

const ROLLBACK: [JobTemplate; 1] = [job("rollback", JobKind::Rollback, (0.0, 1.0))];

/// The jobs of workflow `file` in `repo`.
pub fn templates(repo: &str, file: &str) -> &'static [JobTemplate] {
    match (repo, file) {
        (_, "rollback.yml") => &ROLLBACK,
        ("acme/checkout", "ci.yml") => &CHECKOUT_CI,
        ("acme/checkout", "codeql.yml") => &CHECKOUT_CODEQL,
        ("acme/checkout", "deploy.yml") => &CHECKOUT_DEPLOY,
        ("acme/web", "deploy.yml") => &WEB_DEPLOY,
        _ => &WEB_CI,
    }
}

/// A deployment environment of the demo (only `production` needs an approval).
pub struct Environment {
    pub repo: &'static str,
    pub name: &'static str,
    pub id: u64,
    pub protected: bool,
}

pub const ENVIRONMENTS: [Environment; 2] = [
    Environment {
        repo: "acme/checkout",
        name: "production",
        id: 161_088_101,
        protected: true,
    },
    Environment {
        repo: "acme/web",
        name: "staging",
        id: 161_088_202,
        protected: false,
    },
];

pub fn environment(repo: &str, name: &str) -> Option<&'static Environment> {
    ENVIRONMENTS
        .iter()
        .find(|e| e.repo == repo && e.name == name)
}

/// Where a step sits in its job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Before the main step (always runs).
    Pre,
    /// The step that fails when the job fails.
    Main,
    /// After the main step: skipped when the job fails.
    After,
    /// Post steps and `Complete job` (always run).
    Post,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub name: String,
    pub number: u32,
    pub start: f64,
    pub end: f64,
    pub conclusion: &'static str,
}

impl Step {
    /// (status, conclusion) at `t`.
    pub fn status(&self, t: f64) -> (&'static str, Option<&'static str>) {
        if self.end <= t {
            ("completed", Some(self.conclusion))
        } else if self.start <= t {
            ("in_progress", None)
        } else {
            ("queued", None)
        }
    }
}

/// Step names, relative durations and roles of a job.
pub fn step_defs(kind: JobKind) -> Vec<(String, f64, Role)> {
    let s = |n: &str, w: f64, r: Role| (n.to_string(), w, r);
    let node = |v: &str| -> Vec<(String, f64, Role)> {
        vec![
            s("Set up job", 2.0, Role::Pre),
            s("Run actions/checkout@v4", 2.0, Role::Pre),
            (format!("Set up Node.js {v}"), 3.0, Role::Pre),
            s("Run npm ci", 16.0, Role::Pre),
        ]
    };
    let post_node = || {
        vec![
            s("Post Set up Node.js", 1.0, Role::Post),
            s("Post Run actions/checkout@v4", 1.0, Role::Post),
            s("Complete job", 1.0, Role::Post),
        ]
    };
    let mut v = match kind {
        JobKind::Lint | JobKind::WebLint => {
            let mut v = node("20");
            v.push(s("Run npm run lint", 10.0, Role::Main));
            v
        }
        JobKind::Test(ver) => {
            let mut v = node(ver);
            v.push(s("Run npm test", 40.0, Role::Main));
            v.push(s("Upload coverage", 3.0, Role::After));
            v
        }
        JobKind::Build => {
            let mut v = node("20");
            v.push(s("Run npm run build", 12.0, Role::Main));
            v.push(s("Upload build artifact", 3.0, Role::After));
            v
        }
        JobKind::WebUnit => {
            let mut v = node("20");
            v.push(s("Run npm run test:unit", 20.0, Role::Main));
            v
        }
        JobKind::WebE2e => {
            let mut v = node("20");
            v.push(s("Install Playwright browsers", 10.0, Role::Pre));
            v.push(s(
                "Run npx playwright test --project=chromium",
                40.0,
                Role::Main,
            ));
            v.push(s("Upload Playwright report", 2.0, Role::After));
            v
        }
        JobKind::CodeQl => vec![
            s("Set up job", 2.0, Role::Pre),
            s("Run actions/checkout@v4", 2.0, Role::Pre),
            s("Initialize CodeQL", 10.0, Role::Pre),
            s("Autobuild", 8.0, Role::Pre),
            s("Perform CodeQL Analysis", 60.0, Role::Main),
            s("Post Perform CodeQL Analysis", 1.0, Role::Post),
            s("Post Initialize CodeQL", 1.0, Role::Post),
            s("Post Run actions/checkout@v4", 1.0, Role::Post),
            s("Complete job", 1.0, Role::Post),
        ],
        JobKind::Image => vec![
            s("Set up job", 2.0, Role::Pre),
            s("Run actions/checkout@v4", 2.0, Role::Pre),
            s("Log in to ghcr.io", 2.0, Role::Pre),
            s("Build and push image", 30.0, Role::Main),
            s("Post Log in to ghcr.io", 1.0, Role::Post),
            s("Post Run actions/checkout@v4", 1.0, Role::Post),
            s("Complete job", 1.0, Role::Post),
        ],
        JobKind::Deploy => vec![
            s("Set up job", 2.0, Role::Pre),
            s("Set up kubectl", 3.0, Role::Pre),
            s("Roll out the image", 20.0, Role::Main),
            s("Wait for the canary", 10.0, Role::After),
            s("Complete job", 1.0, Role::Post),
        ],
        JobKind::Rollback => vec![
            s("Set up job", 2.0, Role::Pre),
            s("Set up kubectl", 3.0, Role::Pre),
            s("Open the rollback gate", 6.0, Role::Main),
            s("Verify the primary", 6.0, Role::After),
            s("Complete job", 1.0, Role::Post),
        ],
    };
    if !matches!(
        kind,
        JobKind::CodeQl | JobKind::Image | JobKind::Deploy | JobKind::Rollback
    ) {
        v.extend(post_node());
    }
    v
}

/// Plans the steps of a job running over `[start, end]`.
fn plan_steps(kind: JobKind, start: f64, end: f64, conclusion: &'static str) -> Vec<Step> {
    let failing = conclusion == "failure";
    let defs = step_defs(kind);
    let weight = |w: f64, r: Role| if failing && r == Role::After { 0.0 } else { w };
    let total: f64 = defs.iter().map(|(_, w, r)| weight(*w, *r)).sum();
    let mut at = start;
    let mut steps = Vec::with_capacity(defs.len());
    for (i, (name, w, role)) in defs.into_iter().enumerate() {
        let len = if total > 0.0 {
            (end - start) * weight(w, role) / total
        } else {
            0.0
        };
        let conclusion = match (failing, role) {
            (true, Role::Main) => "failure",
            (true, Role::After) => "skipped",
            _ => "success",
        };
        steps.push(Step {
            name,
            number: i as u32 + 1,
            start: at,
            end: (at + len).min(end),
            conclusion,
        });
        at += len;
    }
    if let Some(last) = steps.last_mut() {
        last.end = end;
    }
    steps
}

/// One execution of a job (a re-run adds another with the next `attempt`).
#[derive(Clone, Debug)]
pub struct Job {
    pub id: u64,
    /// Index of the template in the workflow.
    pub idx: usize,
    pub tpl: &'static JobTemplate,
    pub attempt: u32,
    pub created: f64,
    /// Since when it waits for a deployment approval.
    pub gate: Option<f64>,
    pub start: Option<f64>,
    pub end: Option<f64>,
    /// Conclusion once `end` is reached.
    pub conclusion: &'static str,
    pub steps: Vec<Step>,
}

impl Job {
    /// (status, conclusion) at `t`.
    pub fn status(&self, t: f64) -> (&'static str, Option<&'static str>) {
        if self.end.is_some_and(|e| e <= t) {
            ("completed", Some(self.conclusion))
        } else if self.start.is_some_and(|s| s <= t) {
            ("in_progress", None)
        } else if self.gate.is_some_and(|g| g <= t) {
            ("waiting", None)
        } else {
            ("queued", None)
        }
    }

    /// Whether a log exists at `t`: the job completed after running at least one step.
    pub fn has_log(&self, t: f64) -> bool {
        self.end.is_some_and(|e| e <= t) && !self.steps.is_empty()
    }
}

/// Job (and check run) id of template `idx` in attempt `attempt` of run `run_id`.
pub fn job_id(run_id: u64, attempt: u32, idx: usize) -> u64 {
    33_000_000_000 + (run_id % 100_000) * 1_000 + u64::from(attempt) * 10 + idx as u64
}

/// A run's timeline: run phases `(scenario second, status, conclusion)` and every job execution.
#[derive(Clone, Debug)]
pub struct Plan {
    pub spec: RunSpec,
    /// The inputs of a dispatched run (empty otherwise).
    pub inputs: Vec<(String, String)>,
    pub phases: Vec<(f64, &'static str, Option<&'static str>)>,
    pub attempt: u32,
    /// `run_started_at` of the latest attempt.
    pub started: f64,
    pub jobs: Vec<Job>,
}

/// The plan the script implies, before any action; a dispatched run's phases count from
/// `origin`.
fn base_plan(spec: &RunSpec, origin: f64) -> Plan {
    let phases: Vec<_> = spec
        .phases
        .iter()
        .map(|(at, status, conclusion)| (at + origin, *status, *conclusion))
        .collect();
    let created = phases.first().map_or(0.0, |p| p.0);
    let start = phases.iter().find(|p| p.1 != "queued").map(|p| p.0);
    let gate = phases.iter().find(|p| p.1 == "waiting").map(|p| p.0);
    let done = phases
        .iter()
        .find(|p| p.1 == "completed")
        .map(|p| (p.0, p.2.unwrap_or("success")));
    let tpls = templates(spec.repo, spec.file);
    let mut plan = Plan {
        spec: *spec,
        inputs: Vec::new(),
        phases,
        attempt: 1,
        started: created,
        jobs: Vec::with_capacity(tpls.len()),
    };
    let Some(s) = start else {
        // Never started: every job stays queued.
        for (idx, tpl) in tpls.iter().enumerate() {
            plan.jobs.push(Job {
                id: job_id(spec.id, 1, idx),
                idx,
                tpl,
                attempt: 1,
                created,
                gate: None,
                start: None,
                end: None,
                conclusion: "success",
                steps: Vec::new(),
            });
        }
        return plan;
    };
    let gated = |tpl: &JobTemplate| {
        gate.is_some()
            && tpl
                .environment
                .and_then(|e| environment(spec.repo, e))
                .is_some_and(|e| e.protected)
    };
    let failed = matches!(done, Some((_, "failure")));
    let duration = match (gate, done) {
        (Some(w), _) => {
            let f = tpls
                .iter()
                .find(|t| gated(t))
                .map_or(1.0, |t| t.window.0.max(0.05));
            (w - s) / f
        }
        (None, Some((e, "success"))) => e - s,
        (None, Some((e, "failure"))) => {
            let f = tpls.iter().find(|t| t.fails).map_or(1.0, |t| t.window.1);
            (e - s) / f
        }
        _ => NOMINAL_SECS,
    };
    let fail_end = done.map_or(s + duration, |d| d.0);
    for (idx, tpl) in tpls.iter().enumerate() {
        let id = job_id(spec.id, 1, idx);
        let mut j = Job {
            id,
            idx,
            tpl,
            attempt: 1,
            created,
            gate: None,
            start: None,
            end: None,
            conclusion: "success",
            steps: Vec::new(),
        };
        if gated(tpl) {
            let w = gate.unwrap_or(s);
            j.created = w;
            j.gate = Some(w);
        } else if failed && tpl.needs {
            j.start = Some(fail_end);
            j.end = Some(fail_end);
            j.conclusion = "skipped";
        } else {
            let js = s + tpl.window.0 * duration;
            let mut je = s + tpl.window.1 * duration;
            if failed {
                je = je.min(fail_end);
            }
            j.conclusion = if failed && tpl.fails {
                "failure"
            } else {
                "success"
            };
            j.start = Some(js);
            j.end = Some(je);
            j.steps = plan_steps(tpl.kind, js, je, j.conclusion);
        }
        plan.jobs.push(j);
    }
    if let Some((e, c)) = done
        && !matches!(c, "success" | "failure")
    {
        cancel(&mut plan, e, c);
    }
    plan
}

/// Stops the run at `a` with `conclusion` (`cancelled` for a cancel).
fn cancel(plan: &mut Plan, a: f64, conclusion: &'static str) {
    plan.phases.retain(|p| p.0 <= a);
    plan.phases.push((a, "completed", Some(conclusion)));
    for j in &mut plan.jobs {
        if j.end.is_some_and(|e| e <= a) {
            continue;
        }
        match j.start {
            Some(s) if s <= a => {
                j.end = Some(a);
                j.conclusion = "cancelled";
                for st in &mut j.steps {
                    if st.end <= a {
                        continue;
                    }
                    if st.start <= a {
                        st.end = a;
                        st.conclusion = "cancelled";
                    } else {
                        st.start = a;
                        st.end = a;
                        st.conclusion = "skipped";
                    }
                }
            }
            _ => {
                j.start = Some(a);
                j.end = Some(a);
                j.conclusion = "cancelled";
                j.steps.clear();
            }
        }
    }
}

/// The operator's actions on runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    Approve,
    Reject,
    Rerun,
    Cancel,
    /// The run was created by a workflow dispatch (starts the run's own clock).
    Dispatch,
}

/// One action: what, at which scenario second of the run, at which wall-clock second.
#[derive(Clone, Copy, Debug)]
pub struct Action {
    pub kind: ActionKind,
    pub at: f64,
    pub wall: f64,
}

fn apply(plan: &mut Plan, act: &Action) {
    let a = act.at;
    match act.kind {
        // The dispatched run's phases are already in its base plan.
        ActionKind::Dispatch => {}
        ActionKind::Cancel => cancel(plan, a, "cancelled"),
        ActionKind::Approve | ActionKind::Reject => {
            let approve = act.kind == ActionKind::Approve;
            for j in &mut plan.jobs {
                if j.gate.is_none() || j.start.is_some() {
                    continue;
                }
                j.start = Some(a);
                if approve {
                    j.end = Some(a + APPROVE_SECS);
                    j.conclusion = "success";
                    j.steps = plan_steps(j.tpl.kind, a, a + APPROVE_SECS, "success");
                } else {
                    j.end = Some(a);
                    j.conclusion = "failure";
                    j.steps.clear();
                }
            }
            if approve {
                plan.phases.push((a, "in_progress", None));
                plan.phases
                    .push((a + APPROVE_SECS, "completed", Some("success")));
            } else {
                plan.phases.push((a, "completed", Some("failure")));
            }
        }
        ActionKind::Rerun => {
            plan.attempt += 1;
            plan.started = a;
            let attempt = plan.attempt;
            let run_start = a + RERUN_QUEUED_SECS;
            let split = run_start + 0.8 * (RERUN_SECS - RERUN_QUEUED_SECS);
            let redo: Vec<Job> = latest(&plan.jobs, f64::INFINITY)
                .into_iter()
                .filter(|j| j.conclusion != "success")
                .cloned()
                .collect();
            let mut gated = false;
            for old in redo {
                let tpl = old.tpl;
                let mut j = Job {
                    id: job_id(plan.spec.id, attempt, old.idx),
                    attempt,
                    created: a,
                    gate: None,
                    start: None,
                    end: None,
                    conclusion: "success",
                    steps: Vec::new(),
                    ..old
                };
                let protected = tpl
                    .environment
                    .and_then(|e| environment(plan.spec.repo, e))
                    .is_some_and(|e| e.protected);
                if protected {
                    gated = true;
                    j.gate = Some(run_start);
                } else {
                    let (js, je) = if tpl.needs {
                        (split, a + RERUN_SECS)
                    } else {
                        (run_start, split)
                    };
                    j.start = Some(js);
                    j.end = Some(je);
                    j.steps = plan_steps(tpl.kind, js, je, "success");
                }
                plan.jobs.push(j);
            }
            plan.phases.push((a, "queued", None));
            if gated {
                plan.phases.push((run_start, "waiting", None));
            } else {
                plan.phases.push((run_start, "in_progress", None));
                plan.phases
                    .push((a + RERUN_SECS, "completed", Some("success")));
            }
        }
    }
}

/// The latest execution of each job created by `t`, in workflow order.
fn latest(jobs: &[Job], t: f64) -> Vec<&Job> {
    let mut best: Vec<&Job> = Vec::new();
    for j in jobs.iter().filter(|j| j.created <= t) {
        match best.iter_mut().find(|b| b.idx == j.idx) {
            Some(b) if b.attempt < j.attempt => *b = j,
            Some(_) => {}
            None => best.push(j),
        }
    }
    best.sort_by_key(|j| j.idx);
    best
}

/// The clocks a request sees.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    /// Scenario seconds (not clamped to the story).
    pub t: f64,
    /// Wall-clock unix seconds.
    pub wall: f64,
    /// Scenario seconds per wall second for action consequences.
    pub rate: f64,
}

/// A run's plan evaluated at the run's own time `t`.
#[derive(Clone, Debug)]
pub struct RunView {
    pub plan: Plan,
    pub t: f64,
}

impl RunView {
    pub fn spec(&self) -> &RunSpec {
        &self.plan.spec
    }

    /// (status, conclusion, updated_at scenario second).
    pub fn state(&self) -> (&'static str, Option<&'static str>, f64) {
        self.plan
            .phases
            .iter()
            .rev()
            .find(|p| p.0 <= self.t)
            .or(self.plan.phases.first())
            .map_or(("queued", None, self.t), |p| (p.1, p.2, p.0))
    }

    /// The latest execution of each job (`filter=latest`).
    pub fn latest_jobs(&self) -> Vec<&Job> {
        latest(&self.plan.jobs, self.t)
    }

    /// Every job execution of every attempt (`filter=all`), by id.
    pub fn all_jobs(&self) -> Vec<&Job> {
        let mut v: Vec<&Job> = self
            .plan
            .jobs
            .iter()
            .filter(|j| j.created <= self.t)
            .collect();
        v.sort_by_key(|j| j.id);
        v
    }

    /// The job waiting for a deployment approval, if the run waits.
    pub fn pending(&self) -> Option<&Job> {
        if self.state().0 != "waiting" {
            return None;
        }
        self.latest_jobs()
            .into_iter()
            .find(|j| j.status(self.t).0 == "waiting")
    }
}

/// A run created by a workflow dispatch.
#[derive(Clone, Debug)]
pub struct Dispatched {
    pub spec: RunSpec,
    pub inputs: Vec<(String, String)>,
    /// Scenario second of the dispatch.
    pub at: f64,
}

/// The operator rolled back an app's canary (a `rollback.yml` dispatch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rollback {
    pub app: &'static str,
    /// Scenario second of the rollback.
    pub at: f64,
    /// Wall-clock unix second of the rollback.
    pub wall: f64,
}

/// First id of dispatched runs (above every scripted run, so they list first).
const DISPATCHED_BASE_ID: u64 = 9_200_000_300;

/// The operator's actions: on runs (by run id), the runs they dispatched, the canaries they
/// rolled back.
#[derive(Debug, Default)]
pub struct Actions {
    runs: HashMap<u64, Vec<Action>>,
    dispatched: Vec<Dispatched>,
    rollbacks: Vec<Rollback>,
}

impl Actions {
    fn of(&self, id: u64) -> &[Action] {
        self.runs.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The run's own time: the story clock, or the last action's time plus elapsed wall time.
    fn time(&self, id: u64, now: &Now) -> f64 {
        match self.of(id).last() {
            None => story(now.t),
            Some(a) => a.at + (now.wall - a.wall).max(0.0) * now.rate,
        }
    }

    pub fn view(&self, spec: &RunSpec, now: &Now) -> RunView {
        let dispatched = self.dispatched.iter().find(|d| d.spec.id == spec.id);
        let mut plan = base_plan(spec, dispatched.map_or(0.0, |d| d.at));
        if let Some(d) = dispatched {
            plan.inputs.clone_from(&d.inputs);
        }
        for a in self.of(spec.id) {
            apply(&mut plan, a);
        }
        RunView {
            plan,
            t: self.time(spec.id, now),
        }
    }

    /// Records `kind` on the run now; returns its scenario second.
    pub fn record(&mut self, spec: &RunSpec, kind: ActionKind, now: &Now) -> f64 {
        let at = now.t.max(self.time(spec.id, now));
        self.runs.entry(spec.id).or_default().push(Action {
            kind,
            at,
            wall: now.wall,
        });
        at
    }

    /// Runs of `repo` that exist at `t`: the scripted ones and the dispatched ones, newest first.
    pub fn runs(&self, repo: &str, t: f64) -> Vec<RunSpec> {
        let mut v: Vec<RunSpec> = super::github_data::runs(repo, t)
            .into_iter()
            .copied()
            .chain(
                self.dispatched
                    .iter()
                    .filter(|d| d.spec.repo == repo)
                    .map(|d| d.spec),
            )
            .collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.id));
        v
    }

    /// Run `id` of `repo`, if it exists at `t`.
    pub fn find(&self, repo: &str, id: u64, t: f64) -> Option<RunSpec> {
        self.runs(repo, t).into_iter().find(|r| r.id == id)
    }

    /// Creates a run of `workflow` on `branch` now, as a `workflow_dispatch` by the operator.
    pub fn dispatch(
        &mut self,
        workflow: &'static Workflow,
        branch: &'static str,
        inputs: Vec<(String, String)>,
        now: &Now,
    ) -> RunSpec {
        let earlier = self
            .dispatched
            .iter()
            .filter(|d| d.spec.workflow_id == workflow.id)
            .count() as u64;
        let spec = RunSpec {
            id: DISPATCHED_BASE_ID + self.dispatched.len() as u64 + 1,
            repo: workflow.repo,
            name: workflow.name,
            file: workflow.file,
            workflow_id: workflow.id,
            event: "workflow_dispatch",
            branch,
            // Without `run-name`, a dispatched run is titled by its workflow's name.
            title: workflow.name,
            run_number: workflow.runs_before + earlier + 1,
            actor: OPERATOR,
            pr: None,
            phases: &DISPATCHED_PHASES,
        };
        let at = now.t;
        self.dispatched.push(Dispatched { spec, inputs, at });
        self.runs.entry(spec.id).or_default().push(Action {
            kind: ActionKind::Dispatch,
            at,
            wall: now.wall,
        });
        spec
    }

    /// Rolls `app`'s canary back now (a later rollback of the same app changes nothing).
    pub fn roll_back(&mut self, app: &'static str, now: &Now) {
        if self.rollbacks.iter().any(|r| r.app == app) {
            return;
        }
        self.rollbacks.push(Rollback {
            app,
            at: now.t,
            wall: now.wall,
        });
    }

    /// The canaries rolled back so far.
    pub fn rollbacks(&self) -> &[Rollback] {
        &self.rollbacks
    }
}

fn ms(t: f64) -> String {
    let whole = iso(t);
    let millis = ((t - t.floor()) * 1000.0).floor() as u32;
    format!("{}.{millis:03}Z", whole.trim_end_matches('Z'))
}

fn opt_iso(t: Option<f64>) -> Value {
    t.map_or(Value::Null, |t| Value::from(iso(t)))
}

/// `pull_requests` of a run or check run.
fn run_prs(api: &str, spec: &RunSpec) -> Vec<Value> {
    let repo = spec.repo;
    spec.pr
        .map(|n| {
            let short = |branch: &str| {
                json!({
                    "ref": branch,
                    "sha": sha(repo, branch),
                    "repo": {
                        "id": repo_id(repo),
                        "url": format!("{api}/repos/{repo}"),
                        "name": repo.split('/').nth(1).unwrap_or(repo)
                    }
                })
            };
            json!({
                "url": format!("{api}/repos/{repo}/pulls/{n}"),
                "id": PRS.iter().find(|p| p.repo == repo && p.number == n).map_or_else(
                    || generated_pr_id(repo, n),
                    pr_id,
                ),
                "number": n,
                "head": short(spec.branch),
                "base": short("main")
            })
        })
        .into_iter()
        .collect()
}

/// The id of a generated pull request (0 for a scripted number that is not open).
fn generated_pr_id(repo: &str, n: u64) -> u64 {
    if n >= super::github_scale::GEN_PR_BASE {
        2_300_000_000 + repo_id(repo) % 1000 * 10_000 + n
    } else {
        0
    }
}

/// The head commit's message: a dispatched run runs on the branch head, not on a commit of its own.
fn commit_message(r: &RunSpec) -> &'static str {
    if r.event == "workflow_dispatch" {
        head_message(r.repo, r.branch).unwrap_or(r.title)
    } else {
        r.title
    }
}

fn suite_id(spec: &RunSpec) -> u64 {
    spec.id + 1_000_000_000
}

/// A workflow run as in `GET /repos/{owner}/{repo}/actions/runs/{run_id}`.
pub fn run_json(api: &str, v: &RunView) -> Value {
    let r = v.spec();
    let repo = r.repo;
    let (status, conclusion, updated) = v.state();
    let created = v.plan.phases.first().map_or(0.0, |p| p.0);
    let head_sha = sha(repo, r.branch);
    let u = format!("{api}/repos/{repo}/actions/runs/{}", r.id);
    let suite = suite_id(r);
    let attempt = v.plan.attempt;
    let previous = if attempt > 1 {
        Value::from(format!("{u}/attempts/{}", attempt - 1))
    } else {
        Value::Null
    };
    let author = r.actor;
    json!({
        "id": r.id,
        "name": r.name,
        "node_id": format!("WFR_kwLO{}", hex_id(&u, 10)),
        "head_branch": r.branch,
        "head_sha": head_sha,
        "path": format!(".github/workflows/{}", r.file),
        "display_title": r.title,
        "run_number": r.run_number,
        "event": r.event,
        "status": status,
        "conclusion": conclusion,
        "workflow_id": r.workflow_id,
        "check_suite_id": suite,
        "check_suite_node_id": format!("CS_kwDO{}", hex_id(&format!("suite/{suite}"), 12)),
        "url": u,
        "html_url": format!("https://github.com/{repo}/actions/runs/{}", r.id),
        "pull_requests": run_prs(api, r),
        "created_at": iso(created),
        "updated_at": iso(updated),
        "actor": user(api, r.actor),
        "run_attempt": attempt,
        "referenced_workflows": [],
        "run_started_at": iso(v.plan.started),
        "triggering_actor": user(api, if attempt > 1 { super::github_data::OPERATOR } else { r.actor }),
        "jobs_url": format!("{u}/jobs"),
        "logs_url": format!("{u}/logs"),
        "check_suite_url": format!("{api}/repos/{repo}/check-suites/{suite}"),
        "artifacts_url": format!("{u}/artifacts"),
        "cancel_url": format!("{u}/cancel"),
        "rerun_url": format!("{u}/rerun"),
        "previous_attempt_url": previous,
        "workflow_url": format!("{api}/repos/{repo}/actions/workflows/{}", r.workflow_id),
        "head_commit": {
            "id": head_sha,
            "tree_id": hex_id(&format!("tree/{repo}/{}", r.branch), 40),
            "message": commit_message(r),
            "timestamp": iso(created - 60.0),
            "author": {"name": author, "email": format!("{author}@users.noreply.github.com")},
            "committer": {"name": "GitHub", "email": "noreply@github.com"}
        },
        "repository": repo_json(api, repo, false),
        "head_repository": repo_json(api, repo, false)
    })
}

fn runner(j: &Job) -> (Value, Value, Value, Value) {
    let n = 1 + hex_id(&format!("runner/{}", j.id), 2)
        .bytes()
        .map(u64::from)
        .sum::<u64>()
        % 20;
    (
        Value::from(n),
        Value::from(format!("GitHub Actions {n}")),
        Value::from(2),
        Value::from("GitHub Actions"),
    )
}

/// A job as in `GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs`.
pub fn job_json(api: &str, v: &RunView, j: &Job) -> Value {
    let r = v.spec();
    let repo = r.repo;
    let t = v.t;
    let (status, conclusion) = j.status(t);
    let started = j.start.filter(|s| *s <= t).unwrap_or(j.created);
    let completed = j.end.filter(|e| *e <= t);
    let steps: Vec<Value> = if status == "waiting" {
        Vec::new()
    } else {
        j.steps
            .iter()
            .map(|st| {
                let (s, c) = st.status(t);
                let start = (s != "queued").then(|| ms(st.start));
                let end = (s == "completed").then(|| ms(st.end));
                json!({
                    "name": st.name,
                    "status": s,
                    "conclusion": c,
                    "number": st.number,
                    "started_at": start,
                    "completed_at": end
                })
            })
            .collect()
    };
    let assigned = matches!(status, "in_progress" | "completed") && !j.steps.is_empty();
    let (rid, rname, gid, gname) = if assigned {
        runner(j)
    } else {
        (Value::Null, Value::Null, Value::Null, Value::Null)
    };
    json!({
        "id": j.id,
        "run_id": r.id,
        "workflow_name": r.name,
        "head_branch": r.branch,
        "run_url": format!("{api}/repos/{repo}/actions/runs/{}", r.id),
        "run_attempt": j.attempt,
        "node_id": format!("CR_kwDO{}", hex_id(&format!("job/{}", j.id), 14)),
        "head_sha": sha(repo, r.branch),
        "url": format!("{api}/repos/{repo}/actions/jobs/{}", j.id),
        "html_url": format!("https://github.com/{repo}/actions/runs/{}/job/{}", r.id, j.id),
        "status": status,
        "conclusion": conclusion,
        "created_at": iso(j.created),
        "started_at": iso(started),
        "completed_at": opt_iso(completed),
        "name": j.tpl.name,
        "steps": steps,
        "check_run_url": format!("{api}/repos/{repo}/check-runs/{}", j.id),
        "labels": ["ubuntu-latest"],
        "runner_id": rid,
        "runner_name": rname,
        "runner_group_id": gid,
        "runner_group_name": gname
    })
}

/// The GitHub Actions app, as in check runs.
fn actions_app(api: &str) -> Value {
    json!({
        "id": 15368,
        "slug": "github-actions",
        "node_id": "MDM6QXBwMTUzNjg=",
        "owner": user(api, "github"),
        "name": "GitHub Actions",
        "description": "Automate your workflow from idea to production",
        "external_url": "https://help.github.com/en/actions",
        "html_url": "https://github.com/apps/github-actions",
        "created_at": "2018-07-30T09:30:17Z",
        "updated_at": "2024-04-10T20:33:16Z",
        "permissions": {
            "actions": "write",
            "checks": "write",
            "contents": "write",
            "deployments": "write",
            "metadata": "read",
            "pull_requests": "write",
            "statuses": "write"
        },
        "events": ["check_run", "check_suite", "deployment", "pull_request", "push", "workflow_run"]
    })
}

/// A check run's `html_url` and `details_url`: the job's page.
pub fn check_details_url(r: &RunSpec, j: &Job) -> String {
    format!(
        "https://github.com/{}/actions/runs/{}/job/{}",
        r.repo, r.id, j.id
    )
}

/// A job as a check run (same id), as in `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`.
pub fn check_run_json(api: &str, v: &RunView, j: &Job) -> Value {
    let r = v.spec();
    let repo = r.repo;
    let t = v.t;
    let (status, conclusion) = j.status(t);
    let u = format!("{api}/repos/{repo}/check-runs/{}", j.id);
    let html = check_details_url(r, j);
    let failed_step = j
        .steps
        .iter()
        .find(|s| s.conclusion == "failure")
        .map(|s| s.name.clone());
    let (title, summary, annotations) = match conclusion {
        Some("failure") => (
            Value::from("Process completed with exit code 1."),
            Value::from(match failed_step {
                Some(step) => format!("The job failed in step \u{201c}{step}\u{201d}."),
                None => "The job failed before it started.".to_string(),
            }),
            1,
        ),
        Some("cancelled") => (Value::from("The operation was canceled."), Value::Null, 1),
        _ => (Value::Null, Value::Null, 0),
    };
    let ext = hex_id(&format!("ext/{}", j.id), 32);
    json!({
        "id": j.id,
        "name": j.tpl.name,
        "node_id": format!("CR_kwDO{}", hex_id(&format!("job/{}", j.id), 14)),
        "head_sha": sha(repo, r.branch),
        "external_id": format!("{}-{}-{}-{}-{}", &ext[..8], &ext[8..12], &ext[12..16], &ext[16..20], &ext[20..32]),
        "url": u,
        "html_url": html,
        "details_url": html,
        "status": status,
        "conclusion": conclusion,
        "started_at": iso(j.start.filter(|s| *s <= t).unwrap_or(j.created)),
        "completed_at": opt_iso(j.end.filter(|e| *e <= t)),
        "output": {
            "title": title,
            "summary": summary,
            "text": null,
            "annotations_count": annotations,
            "annotations_url": format!("{u}/annotations")
        },
        "check_suite": {"id": suite_id(r)},
        "app": actions_app(api),
        "pull_requests": run_prs(api, r)
    })
}

fn environment_json(api: &str, env: &Environment) -> Value {
    let repo = env.repo;
    let name = env.name;
    json!({
        "id": env.id,
        "node_id": format!("EN_kwDO{}", hex_id(&format!("env/{}", env.id), 12)),
        "name": name,
        "url": format!("{api}/repos/{repo}/environments/{name}"),
        "html_url": format!("https://github.com/{repo}/deployments/activity_log?environments_filter={name}")
    })
}

fn team_json(api: &str) -> Value {
    let id = 9_100_042;
    json!({
        "id": id,
        "node_id": format!("T_kwDO{}", hex_id("team/release-managers", 8)),
        "url": format!("{api}/organizations/5120000/team/{id}"),
        "html_url": "https://github.com/orgs/acme/teams/release-managers",
        "name": "Release Managers",
        "slug": "release-managers",
        "description": "Approve production deployments",
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "push",
        "members_url": format!("{api}/organizations/5120000/team/{id}/members{{/member}}"),
        "repositories_url": format!("{api}/organizations/5120000/team/{id}/repos"),
        "parent": null
    })
}

/// `GET .../actions/runs/{run_id}/pending_deployments`: one item per held environment.
pub fn pending_json(api: &str, v: &RunView) -> Vec<Value> {
    let Some(j) = v.pending() else {
        return Vec::new();
    };
    let Some(env) = j
        .tpl
        .environment
        .and_then(|e| environment(v.spec().repo, e))
    else {
        return Vec::new();
    };
    vec![json!({
        "environment": environment_json(api, env),
        "wait_timer": 0,
        "wait_timer_started_at": opt_iso(j.gate),
        "current_user_can_approve": true,
        "reviewers": [
            {"type": "User", "reviewer": user(api, "mara-k")},
            {"type": "Team", "reviewer": team_json(api)}
        ]
    })]
}

/// The environment ids a run waits for.
pub fn pending_environment_ids(v: &RunView) -> Vec<u64> {
    v.pending()
        .and_then(|j| j.tpl.environment)
        .and_then(|e| environment(v.spec().repo, e))
        .map(|e| e.id)
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::github_data::RUNS;
    use super::*;

    fn now(t: f64) -> Now {
        Now {
            t,
            wall: 0.0,
            rate: 1.0,
        }
    }

    #[test]
    fn scripted_runs_and_their_jobs_agree() {
        let acts = Actions::default();
        let mut ids = Vec::new();
        for spec in &RUNS {
            let v = acts.view(spec, &now(179.0));
            let (status, conclusion, _) = v.state();
            let jobs = v.latest_jobs();
            assert_eq!(jobs.len(), templates(spec.repo, spec.file).len());
            ids.extend(jobs.iter().map(|j| j.id));
            let states: Vec<_> = jobs.iter().map(|j| j.status(v.t)).collect();
            match (status, conclusion) {
                ("completed", Some(c)) => {
                    assert!(states.iter().all(|s| s.0 == "completed"), "{}", spec.id);
                    let failed = states.iter().filter(|s| s.1 == Some("failure")).count();
                    assert_eq!(failed, usize::from(c == "failure"), "{}", spec.id);
                    if c == "cancelled" {
                        assert!(states.iter().any(|s| s.1 == Some("cancelled")));
                    }
                }
                ("waiting", _) => {
                    assert_eq!(v.pending().map(|j| j.tpl.name), Some("deploy (production)"));
                }
                _ => panic!("run {} still {status} at the end", spec.id),
            }
            for j in &jobs {
                if let (Some(s), Some(e)) = (j.start, j.end) {
                    assert!(s <= e);
                    assert!(
                        j.steps
                            .iter()
                            .all(|st| st.start >= s - 1e-9 && st.end <= e + 1e-9)
                    );
                    assert!(j.steps.windows(2).all(|w| w[0].end <= w[1].start + 1e-9));
                }
            }
        }
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "job ids are unique");
    }

    #[test]
    fn actions_play_out_on_the_run_clock() {
        let spec = RUNS
            .iter()
            .find(|r| r.id == 9_200_000_103)
            .expect("deploy run");
        let mut acts = Actions::default();
        let at = acts.record(spec, ActionKind::Approve, &now(30.0));
        assert_eq!(at, 30.0);
        let later = |wall: f64| Now {
            t: 30.0,
            wall,
            rate: 1.0,
        };
        assert_eq!(acts.view(spec, &later(1.0)).state().0, "in_progress");
        let done = acts.view(spec, &later(5.0));
        assert_eq!(done.state(), ("completed", Some("success"), 35.0));
        assert!(done.pending().is_none());
        // A frozen world: the next action happens on the run's own clock.
        assert_eq!(acts.record(spec, ActionKind::Cancel, &later(10.0)), 40.0);
    }

    #[test]
    fn dispatched_runs_list_first_and_play_out_on_their_clock() {
        use super::super::github_data::workflow;
        let mut acts = Actions::default();
        let wf = workflow("acme/checkout", "rollback.yml").expect("rollback.yml");
        let inputs = vec![("to".to_string(), "abc".to_string())];
        let a = acts.dispatch(wf, "main", inputs, &now(100.0));
        let b = acts.dispatch(wf, "main", Vec::new(), &now(100.0));
        assert_eq!((a.run_number, b.run_number), (38, 39));
        assert!(b.id > a.id);
        let runs = acts.runs("acme/checkout", 100.0);
        assert_eq!(runs[0].id, b.id);
        assert_eq!(runs[1].id, a.id);
        assert!(acts.runs("acme/web", 100.0).iter().all(|r| r.id != a.id));
        let at = |wall: f64| Now {
            t: 100.0,
            wall,
            rate: 1.0,
        };
        assert_eq!(acts.view(&a, &at(0.5)).state().0, "queued");
        assert_eq!(acts.view(&a, &at(2.0)).state().0, "in_progress");
        let done = acts.view(&a, &at(6.0));
        assert_eq!(done.state(), ("completed", Some("success"), 106.0));
        assert_eq!(done.plan.inputs.len(), 1);
        let jobs = done.latest_jobs();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].status(done.t), ("completed", Some("success")));
        acts.roll_back("checkout", &at(0.0));
        acts.roll_back("checkout", &at(9.0));
        assert_eq!(acts.rollbacks().len(), 1);
    }
}
