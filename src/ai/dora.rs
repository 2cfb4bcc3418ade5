//! The four DORA metrics of one environment over a window: deployment frequency, lead time for
//! changes, change failure rate and time to restore. Pure arithmetic: the deployments, merged
//! changes and incidents come in, `now` and the window are parameters (no clock is read), and every
//! metric says how it was computed, which records it counted, what it left out and why, its
//! performance band, and its value per bucket of the window (for a sparkline).
//!
//! No data is not zero: a window without deployments says "no deployments in the window" and has
//! no value and no band.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DeployStatus {
    Success,
    Failure,
    /// It shipped and was later put back (by a rollback deployment or otherwise).
    RolledBack,
    InProgress,
}

impl DeployStatus {
    /// Reached production (a rolled-back deploy did, for a while).
    fn shipped(self) -> bool {
        matches!(self, DeployStatus::Success | DeployStatus::RolledBack)
    }
}

/// Marks as a rollback each deployment that ships a sha its repository already shipped to the
/// same environment before the last shipped deployment: going back to an earlier release.
/// Deploying what runs now again (a retry, a redeploy) is not a rollback, and failed deployments
/// never ran, so they are not "what runs". Only the deployments given are known: a sha deployed
/// before them is not recognised. Returns how many it marked (ones already marked not counted).
pub fn mark_redeploys_as_rollbacks(deployments: &mut [Deployment]) -> usize {
    let mut order: Vec<usize> = (0..deployments.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&deployments[a], &deployments[b]);
        (a.created_at, &a.id).cmp(&(b.created_at, &b.id))
    });
    let mut marked = 0;
    for (k, &i) in order.iter().enumerate() {
        let d = &deployments[i];
        if d.sha.is_empty() || d.is_rollback {
            continue;
        }
        // The releases that ran before it, oldest first.
        let shipped: Vec<&str> = order[..k]
            .iter()
            .map(|&j| &deployments[j])
            .filter(|e| e.repo == d.repo && e.environment == d.environment && e.status.shipped())
            .map(|e| e.sha.as_str())
            .collect();
        let Some((&running, before)) = shipped.split_last() else {
            continue;
        };
        if running != d.sha && before.contains(&d.sha.as_str()) {
            deployments[i].is_rollback = true;
            marked += 1;
        }
    }
    marked
}

/// One deployment to an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub id: String,
    /// The repository it deploys (`owner/name`); empty when there is only one.
    pub repo: String,
    pub environment: String,
    pub sha: String,
    pub created_at: OffsetDateTime,
    /// When it succeeded or failed; `None` in progress or when unknown (then `created_at` counts).
    pub finished_at: Option<OffsetDateTime>,
    pub status: DeployStatus,
    /// This deployment puts an earlier version back.
    pub is_rollback: bool,
}

impl Deployment {
    /// When the deployment counts: when it finished, else when it started.
    pub fn at(&self) -> OffsetDateTime {
        self.finished_at.unwrap_or(self.created_at)
    }
}

/// A merged (or open) pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub number: u64,
    /// The repository (`owner/name`): a change ships only with a deployment of its repository
    /// (an empty repo on either side matches any).
    pub repo: String,
    /// The PR's first commit; `None` when unknown (then the PR's opening counts).
    pub first_commit_at: Option<OffsetDateTime>,
    /// When the PR was opened.
    pub created_at: OffsetDateTime,
    /// `None` while not merged (such changes are ignored).
    pub merged_at: Option<OffsetDateTime>,
    pub merge_sha: Option<String>,
    /// When the successful deployment that contains it finished, when the caller knows it (from
    /// the compare of deployments); otherwise it is found here (see [`dora`]).
    pub deployed_at: Option<OffsetDateTime>,
}

/// An incident (a Sentry issue, a page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentRecord {
    pub id: String,
    pub first_seen: OffsetDateTime,
    pub resolved_at: Option<OffsetDateTime>,
    /// The id of the deployment it is attributed to, if any.
    pub deployment: Option<String>,
}

/// The window `[now - length, now]` and its trend buckets (the last bucket ends at `now`; the
/// first is cut at the window's start when `length` is not a multiple of `bucket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub now: OffsetDateTime,
    pub length: Duration,
    pub bucket: Duration,
}

impl Window {
    /// Daily buckets for a window of up to two weeks, weekly beyond.
    pub fn new(now: OffsetDateTime, length: Duration) -> Window {
        let bucket = if length <= Duration::days(14) {
            Duration::days(1)
        } else {
            Duration::weeks(1)
        };
        Window {
            now,
            length,
            bucket,
        }
    }

    pub fn start(&self) -> OffsetDateTime {
        self.now - self.length
    }

    pub fn contains(&self, t: OffsetDateTime) -> bool {
        t >= self.start() && t <= self.now
    }

    /// How many buckets cover the window (at least one).
    pub fn buckets(&self) -> usize {
        if self.bucket <= Duration::ZERO || self.length <= Duration::ZERO {
            return 1;
        }
        let n = (self.length.as_seconds_f64() / self.bucket.as_seconds_f64()).ceil();
        (n as usize).max(1)
    }

    /// The bucket of a moment in the window.
    pub fn bucket_of(&self, t: OffsetDateTime) -> Option<usize> {
        if !self.contains(t) {
            return None;
        }
        let n = self.buckets();
        if n == 1 {
            return Some(0);
        }
        let back =
            ((self.now - t).as_seconds_f64() / self.bucket.as_seconds_f64()).floor() as usize;
        Some(n - 1 - back.min(n - 1))
    }

    /// Days in bucket `k` (the first may be cut short by the window's start).
    fn bucket_days(&self, k: usize) -> f64 {
        let n = self.buckets();
        if n == 1 {
            return days(self.length);
        }
        let end = self.now - self.bucket * ((n - 1 - k) as u32);
        let start = (end - self.bucket).max(self.start());
        days(end - start)
    }
}

fn days(d: Duration) -> f64 {
    d.as_seconds_f64() / 86_400.0
}

fn hours(d: Duration) -> f64 {
    (d.as_seconds_f64() / 3_600.0).max(0.0)
}

/// Which metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MetricKind {
    DeploymentFrequency,
    LeadTime,
    ChangeFailureRate,
    TimeToRestore,
}

impl MetricKind {
    /// The metric's name, as DORA says it.
    pub fn label(self) -> &'static str {
        match self {
            MetricKind::DeploymentFrequency => "Deployment frequency",
            MetricKind::LeadTime => "Lead time for changes",
            MetricKind::ChangeFailureRate => "Change failure rate",
            MetricKind::TimeToRestore => "Time to restore",
        }
    }
}

/// DORA's performance clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn label(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }
}

/// A band's boundary: the value must be above / at least / below / at most it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Bound {
    Above(f64),
    AtLeast(f64),
    Below(f64),
    AtMost(f64),
}

impl Bound {
    fn holds(self, v: f64) -> bool {
        match self {
            Bound::Above(b) => v > b,
            Bound::AtLeast(b) => v >= b,
            Bound::Below(b) => v < b,
            Bound::AtMost(b) => v <= b,
        }
    }
}

/// The boundaries of Elite, High and Medium for one metric; anything else is Low.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    pub metric: MetricKind,
    pub elite: Bound,
    pub high: Bound,
    pub medium: Bound,
}

/// The performance bands, in one table. Units: deployments per day, hours, a ratio.
///
/// Source: DORA, *Accelerate State of DevOps Report* 2019 ("How do we compare?", the table of
/// the four key metrics), read as half-open intervals so that every value has exactly one band:
///
/// - Deployment frequency — elite: on demand, multiple deploys per day (here: more than one a
///   day on average); high: between once per day and once per week; medium: between once per
///   week and once per month (30 days); low: less often.
/// - Lead time for changes (median) — elite: less than one day; high: one day to one week;
///   medium: one week to one month (30 days); low: longer.
/// - Time to restore service (median) — elite: less than one hour; high: less than one day;
///   medium: one day to one week (the 2021 report's medium; 2019 printed "less than one day" for
///   both high and medium); low: longer.
/// - Change failure rate — elite: 0–15 % (2019 gives 0–15 % to elite, high and medium alike);
///   high: 16–30 % (the 2021 report's high and medium); medium: up to 45 % (our interpolation:
///   no report publishes this boundary); low: above 45 % (2019's low was 46–60 %).
pub const THRESHOLDS: [Thresholds; 4] = [
    Thresholds {
        metric: MetricKind::DeploymentFrequency,
        elite: Bound::Above(1.0),
        high: Bound::AtLeast(1.0 / 7.0),
        medium: Bound::AtLeast(1.0 / 30.0),
    },
    Thresholds {
        metric: MetricKind::LeadTime,
        elite: Bound::Below(24.0),
        high: Bound::Below(7.0 * 24.0),
        medium: Bound::Below(30.0 * 24.0),
    },
    Thresholds {
        metric: MetricKind::ChangeFailureRate,
        elite: Bound::AtMost(0.15),
        high: Bound::AtMost(0.30),
        medium: Bound::AtMost(0.45),
    },
    Thresholds {
        metric: MetricKind::TimeToRestore,
        elite: Bound::Below(1.0),
        high: Bound::Below(24.0),
        medium: Bound::Below(7.0 * 24.0),
    },
];

/// The band of a value of a metric, from [`THRESHOLDS`].
pub fn band(metric: MetricKind, value: f64) -> Band {
    let Some(t) = THRESHOLDS.iter().find(|t| t.metric == metric) else {
        return Band::Low;
    };
    if t.elite.holds(value) {
        Band::Elite
    } else if t.high.holds(value) {
        Band::High
    } else if t.medium.holds(value) {
        Band::Medium
    } else {
        Band::Low
    }
}

/// One record behind a metric: its id and what it contributed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Datum {
    /// A deployment id, `#123` for a PR, an incident id.
    pub id: String,
    pub detail: String,
}

/// One metric over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub kind: MetricKind,
    /// Deployments per day, hours (the median) or a ratio (0..=1); `None` when there is no data.
    pub value: Option<f64>,
    /// The 90th percentile (nearest rank), for the two durations.
    pub p90: Option<f64>,
    /// One line: "2.1 a day (15 in 7 days)", "no deployments in the window".
    pub summary: String,
    /// How it is computed, in a sentence or two.
    pub how: String,
    /// `None` without a value.
    pub band: Option<Band>,
    /// The records counted.
    pub counted: Vec<Datum>,
    /// What was left out, with counts and why.
    pub notes: Vec<String>,
    /// The metric per bucket of the window, oldest first; `None` for a bucket without data.
    pub trend: Vec<Option<f64>>,
}

/// The four metrics of one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dora {
    pub environment: String,
    pub window: Window,
    pub deployment_frequency: Metric,
    pub lead_time: Metric,
    pub change_failure_rate: Metric,
    pub time_to_restore: Metric,
}

impl Dora {
    /// The four metrics in DORA's order.
    pub fn metrics(&self) -> [&Metric; 4] {
        [
            &self.deployment_frequency,
            &self.lead_time,
            &self.change_failure_rate,
            &self.time_to_restore,
        ]
    }
}

/// The DORA metrics of `environment` over `window`.
///
/// - A deployment counts at [`Deployment::at`]; deployments in progress count for nothing.
/// - A change's deployment is `deployed_at` when given; otherwise the first shipped, non-rollback
///   deployment of the environment whose sha is the merge sha, else the first one started at or
///   after the merge (deployments are assumed to ship the default branch's head).
/// - A deployment failed when it failed, was rolled back (its status, or a rollback deployment
///   before the next deployment), or has an incident attributed to it.
/// - Time to restore runs from an incident's first event to its resolution, and from a failed
///   deployment without an incident to the next successful deployment (a rollback included).
pub fn dora(
    deployments: &[Deployment],
    changes: &[Change],
    incidents: &[IncidentRecord],
    environment: &str,
    window: Window,
) -> Dora {
    let mut env: Vec<&Deployment> = deployments
        .iter()
        .filter(|d| d.environment == environment)
        .collect();
    env.sort_by(|a, b| (a.at(), &a.id).cmp(&(b.at(), &b.id)));
    Dora {
        environment: environment.to_string(),
        window,
        deployment_frequency: deployment_frequency(&env, &window),
        lead_time: lead_time(&env, changes, &window),
        change_failure_rate: change_failure_rate(&env, incidents, &window),
        time_to_restore: time_to_restore(&env, incidents, &window),
    }
}

fn no_data(kind: MetricKind, summary: &str, how: String, window: &Window) -> Metric {
    Metric {
        kind,
        value: None,
        p90: None,
        summary: summary.to_string(),
        how,
        band: None,
        counted: Vec::new(),
        notes: Vec::new(),
        trend: vec![None; window.buckets()],
    }
}

fn deployment_frequency(env: &[&Deployment], window: &Window) -> Metric {
    let how = "Successful deployments to the environment (rollbacks and failed deployments not \
               counted) divided by the window's days; the band reads the average per day."
        .to_string();
    let in_window: Vec<&Deployment> = env
        .iter()
        .copied()
        .filter(|d| window.contains(d.at()))
        .collect();
    if in_window.is_empty() {
        return no_data(
            MetricKind::DeploymentFrequency,
            "no deployments in the window",
            how,
            window,
        );
    }
    let shipped: Vec<&Deployment> = in_window
        .iter()
        .copied()
        .filter(|d| d.status.shipped() && !d.is_rollback)
        .collect();
    let mut notes = Vec::new();
    let count = |f: &dyn Fn(&Deployment) -> bool| in_window.iter().filter(|d| f(d)).count();
    let failed = count(&|d| d.status == DeployStatus::Failure && !d.is_rollback);
    let rollbacks = count(&|d| d.is_rollback);
    let running = count(&|d| d.status == DeployStatus::InProgress && !d.is_rollback);
    if failed > 0 {
        notes.push(format!(
            "{} not counted",
            crate::fmt::plural(failed, "failed deployment")
        ));
    }
    if rollbacks > 0 {
        notes.push(format!(
            "{} not counted",
            crate::fmt::plural(rollbacks, "rollback deployment")
        ));
    }
    if running > 0 {
        notes.push(format!("{running} in progress, not counted"));
    }
    let window_days = days(window.length);
    let per_day = if window_days > 0.0 {
        shipped.len() as f64 / window_days
    } else {
        0.0
    };
    let mut per_bucket = vec![0usize; window.buckets()];
    for d in &shipped {
        if let Some(k) = window.bucket_of(d.at()) {
            per_bucket[k] += 1;
        }
    }
    let trend = per_bucket
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let d = window.bucket_days(k);
            (d > 0.0).then(|| n as f64 / d)
        })
        .collect();
    let rate = if per_day >= 1.0 {
        format!("{} a day", num(per_day))
    } else {
        format!("{} a week", num(per_day * 7.0))
    };
    Metric {
        kind: MetricKind::DeploymentFrequency,
        value: Some(per_day),
        p90: None,
        summary: format!("{rate} ({} in {} days)", shipped.len(), num(window_days)),
        how,
        band: Some(band(MetricKind::DeploymentFrequency, per_day)),
        counted: shipped
            .iter()
            .map(|d| Datum {
                id: d.id.clone(),
                detail: format!("{} at {}", short_sha(&d.sha), stamp(d.at())),
            })
            .collect(),
        notes,
        trend,
    }
}

/// The deployment that shipped a merged change, and when.
fn shipped_at(
    env: &[&Deployment],
    change: &Change,
    merged: OffsetDateTime,
) -> Option<OffsetDateTime> {
    if change.deployed_at.is_some() {
        return change.deployed_at;
    }
    let good = || {
        env.iter().filter(|d| {
            d.status.shipped()
                && !d.is_rollback
                && (d.repo.is_empty() || change.repo.is_empty() || d.repo == change.repo)
        })
    };
    if let Some(sha) = &change.merge_sha
        && let Some(d) = good().find(|d| &d.sha == sha)
    {
        return Some(d.at());
    }
    good().find(|d| d.created_at >= merged).map(|d| d.at())
}

fn lead_time(env: &[&Deployment], changes: &[Change], window: &Window) -> Metric {
    let how = "For each change deployed in the window: from its first commit (or the PR's opening \
               when that is unknown) to the end of the successful deployment that shipped it; \
               the median and 90th percentile, in hours."
        .to_string();
    let mut samples: Vec<(OffsetDateTime, f64, &Change)> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut from_opening = 0usize;
    for c in changes {
        let Some(merged) = c.merged_at else { continue };
        match shipped_at(env, c, merged) {
            Some(at) if window.contains(at) => {
                let start = c.first_commit_at.unwrap_or(c.created_at);
                if c.first_commit_at.is_none() {
                    from_opening += 1;
                }
                samples.push((at, hours(at - start), c));
            }
            Some(_) => {}
            None if window.contains(merged) => pending.push(change_id(c)),
            None => {}
        }
    }
    samples.sort_by_key(|s| (s.0, s.2.number));
    let mut notes = Vec::new();
    if !pending.is_empty() {
        notes.push(format!(
            "{} merged but not deployed yet, not counted: {}",
            crate::fmt::plural(pending.len(), "change"),
            pending.join(", ")
        ));
    }
    if from_opening > 0 {
        notes.push(format!(
            "{} without a first-commit time: measured from the PR's opening",
            crate::fmt::plural(from_opening, "change")
        ));
    }
    if samples.is_empty() {
        let mut m = no_data(
            MetricKind::LeadTime,
            "no changes deployed in the window",
            how,
            window,
        );
        m.notes = notes;
        return m;
    }
    let values: Vec<f64> = samples.iter().map(|s| s.1).collect();
    let median = median(&values).unwrap_or(0.0);
    let p90 = p90(&values);
    Metric {
        kind: MetricKind::LeadTime,
        value: Some(median),
        p90,
        summary: format!(
            "median {}, p90 {} ({})",
            duration_text(median),
            p90.map_or_else(|| "-".to_string(), duration_text),
            crate::fmt::plural(values.len(), "change")
        ),
        how,
        band: Some(band(MetricKind::LeadTime, median)),
        counted: samples
            .iter()
            .map(|(_, h, c)| Datum {
                id: change_id(c),
                detail: duration_text(*h),
            })
            .collect(),
        notes,
        trend: bucket_medians(window, samples.iter().map(|(t, v, _)| (*t, *v))),
    }
}

/// Why a deployment counts as failed, if it does.
fn failure_of(env: &[&Deployment], i: usize, incidents: &[IncidentRecord]) -> Option<String> {
    let d = env[i];
    if d.status == DeployStatus::Failure {
        return Some("failed".to_string());
    }
    if d.status == DeployStatus::RolledBack {
        return Some("rolled back".to_string());
    }
    let rollback = env[i + 1..]
        .iter()
        .filter(|n| n.repo == d.repo)
        .take_while(|n| n.is_rollback)
        .find(|n| n.status != DeployStatus::Failure);
    if let Some(r) = rollback {
        return Some(format!("rolled back by {}", r.id));
    }
    let attributed: Vec<&str> = incidents
        .iter()
        .filter(|x| x.deployment.as_deref() == Some(d.id.as_str()))
        .map(|x| x.id.as_str())
        .collect();
    if !attributed.is_empty() {
        return Some(format!("incident {}", attributed.join(", ")));
    }
    None
}

fn change_failure_rate(
    env: &[&Deployment],
    incidents: &[IncidentRecord],
    window: &Window,
) -> Metric {
    let how = "Deployments in the window that failed, were rolled back (by status or by a \
               rollback deployment before the next one) or have an incident attributed to them, \
               divided by all deployments in the window (rollbacks and deployments in progress \
               not counted)."
        .to_string();
    let mut counted = Vec::new();
    let mut samples: Vec<(OffsetDateTime, f64)> = Vec::new();
    let mut failed = 0usize;
    for (i, d) in env.iter().enumerate() {
        if d.is_rollback || d.status == DeployStatus::InProgress || !window.contains(d.at()) {
            continue;
        }
        let failure = failure_of(env, i, incidents);
        if failure.is_some() {
            failed += 1;
        }
        samples.push((d.at(), if failure.is_some() { 1.0 } else { 0.0 }));
        counted.push(Datum {
            id: d.id.clone(),
            detail: failure.unwrap_or_else(|| "ok".to_string()),
        });
    }
    let unattributed = incidents
        .iter()
        .filter(|x| x.deployment.is_none() && window.contains(x.first_seen))
        .count();
    let mut notes = Vec::new();
    if unattributed > 0 {
        notes.push(format!(
            "{} not attributed to a deployment: not counted here (counted in time to restore)",
            crate::fmt::plural(unattributed, "incident")
        ));
    }
    if counted.is_empty() {
        let mut m = no_data(
            MetricKind::ChangeFailureRate,
            "no deployments in the window",
            how,
            window,
        );
        m.notes = notes;
        return m;
    }
    let rate = failed as f64 / counted.len() as f64;
    let mut sums = vec![(0.0, 0usize); window.buckets()];
    for (t, v) in &samples {
        if let Some(k) = window.bucket_of(*t) {
            sums[k].0 += v;
            sums[k].1 += 1;
        }
    }
    Metric {
        kind: MetricKind::ChangeFailureRate,
        value: Some(rate),
        p90: None,
        summary: format!(
            "{} % ({failed} of {})",
            num(rate * 100.0),
            crate::fmt::plural(counted.len(), "deployment")
        ),
        how,
        band: Some(band(MetricKind::ChangeFailureRate, rate)),
        counted,
        notes,
        trend: sums
            .into_iter()
            .map(|(s, n)| (n > 0).then(|| s / n as f64))
            .collect(),
    }
}

fn time_to_restore(env: &[&Deployment], incidents: &[IncidentRecord], window: &Window) -> Metric {
    let how = "For each incident that began in the window: from its first event to its \
               resolution; for each failed or rolled-back deployment in the window without an \
               incident: from its end to the next successful deployment. The median and 90th \
               percentile, in hours."
        .to_string();
    let mut samples: Vec<(OffsetDateTime, f64, Datum)> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    for x in incidents {
        if !window.contains(x.first_seen) {
            continue;
        }
        match x.resolved_at {
            Some(r) if r <= window.now => samples.push((
                x.first_seen,
                hours(r - x.first_seen),
                Datum {
                    id: x.id.clone(),
                    detail: format!(
                        "incident resolved after {}",
                        duration_text(hours(r - x.first_seen))
                    ),
                },
            )),
            _ => open.push(x.id.clone()),
        }
    }
    for (i, d) in env.iter().enumerate() {
        if d.is_rollback || d.status == DeployStatus::InProgress || !window.contains(d.at()) {
            continue;
        }
        let attributed = incidents
            .iter()
            .any(|x| x.deployment.as_deref() == Some(d.id.as_str()));
        if attributed {
            continue;
        }
        let Some(why) = failure_of(env, i, incidents) else {
            continue;
        };
        let next_good = env[i + 1..].iter().find(|n| {
            n.repo == d.repo && n.status == DeployStatus::Success && n.at() <= window.now
        });
        match next_good {
            Some(n) => {
                let h = hours(n.at() - d.at());
                samples.push((
                    d.at(),
                    h,
                    Datum {
                        id: d.id.clone(),
                        detail: format!("{why}, restored by {} after {}", n.id, duration_text(h)),
                    },
                ));
            }
            None => open.push(d.id.clone()),
        }
    }
    samples.sort_by(|a, b| (a.0, &a.2.id).cmp(&(b.0, &b.2.id)));
    let mut notes = Vec::new();
    if !open.is_empty() {
        notes.push(format!(
            "{} not restored yet, not counted: {}",
            open.len(),
            open.join(", ")
        ));
    }
    if samples.is_empty() {
        let mut m = no_data(
            MetricKind::TimeToRestore,
            "no restored failures in the window",
            how,
            window,
        );
        m.notes = notes;
        return m;
    }
    let values: Vec<f64> = samples.iter().map(|s| s.1).collect();
    let median = median(&values).unwrap_or(0.0);
    let p90 = p90(&values);
    Metric {
        kind: MetricKind::TimeToRestore,
        value: Some(median),
        p90,
        summary: format!(
            "median {}, p90 {} ({})",
            duration_text(median),
            p90.map_or_else(|| "-".to_string(), duration_text),
            crate::fmt::plural(values.len(), "failure")
        ),
        how,
        band: Some(band(MetricKind::TimeToRestore, median)),
        trend: bucket_medians(window, samples.iter().map(|(t, v, _)| (*t, *v))),
        counted: samples.into_iter().map(|(_, _, d)| d).collect(),
        notes,
    }
}

fn bucket_medians(
    window: &Window,
    samples: impl Iterator<Item = (OffsetDateTime, f64)>,
) -> Vec<Option<f64>> {
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); window.buckets()];
    for (t, v) in samples {
        if let Some(k) = window.bucket_of(t) {
            buckets[k].push(v);
        }
    }
    buckets.iter().map(|b| median(b)).collect()
}

/// The median; the mean of the two middle values for an even count.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The 90th percentile by nearest rank: the smallest value with at least 90 % of the values at
/// or below it.
pub fn p90(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = (0.9 * v.len() as f64).ceil() as usize;
    v.get(rank.max(1) - 1).copied()
}

/// One decimal, without a trailing `.0`.
fn num(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// "42 min", "5.2 h", "3.5 d".
fn duration_text(h: f64) -> String {
    if h < 1.0 {
        format!("{} min", (h * 60.0).round() as i64)
    } else if h < 48.0 {
        format!("{} h", num(h))
    } else {
        format!("{} d", num(h / 24.0))
    }
}

/// `2026-03-28 12:00 UTC`.
pub(super) fn stamp(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// `#416`, or `acme/checkout#416` when the change names its repository.
fn change_id(c: &Change) -> String {
    if c.repo.is_empty() {
        format!("#{}", c.number)
    } else {
        format!("{}#{}", c.repo, c.number)
    }
}

fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// The DORA metrics and what reading them took.
#[derive(Debug, Clone, PartialEq)]
pub struct DoraView {
    pub dora: Dora,
    pub github_requests: u64,
    pub sentry_requests: u64,
    /// What the reads left out, and reads that failed.
    pub notes: Vec<String>,
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-29 12:00 UTC);

    fn at(days_ago: f64) -> OffsetDateTime {
        NOW - Duration::seconds_f64(days_ago * 86_400.0)
    }

    fn deploy(id: &str, days_ago: f64, status: DeployStatus) -> Deployment {
        Deployment {
            id: id.to_string(),
            repo: String::new(),
            environment: "production".to_string(),
            sha: format!("{id}0000000000"),
            created_at: at(days_ago) - Duration::minutes(10),
            finished_at: Some(at(days_ago)),
            status,
            is_rollback: false,
        }
    }

    fn rollback(id: &str, days_ago: f64) -> Deployment {
        Deployment {
            is_rollback: true,
            ..deploy(id, days_ago, DeployStatus::Success)
        }
    }

    fn incident(
        id: &str,
        seen_days_ago: f64,
        hours_open: Option<f64>,
        deploy: Option<&str>,
    ) -> IncidentRecord {
        IncidentRecord {
            id: id.to_string(),
            first_seen: at(seen_days_ago),
            resolved_at: hours_open.map(|h| at(seen_days_ago) + Duration::seconds_f64(h * 3600.0)),
            deployment: deploy.map(str::to_string),
        }
    }

    fn week() -> Window {
        Window::new(NOW, Duration::days(7))
    }

    fn run(d: &[Deployment], c: &[Change], i: &[IncidentRecord]) -> Dora {
        dora(d, c, i, "production", week())
    }

    #[test]
    fn empty_window_is_no_data_not_zero() {
        let old = [deploy("d0", 20.0, DeployStatus::Success)];
        let r = run(&old, &[], &[]);
        for m in r.metrics() {
            assert_eq!(m.value, None, "{m:?}");
            assert_eq!(m.band, None);
            assert_eq!(m.trend, vec![None; 7]);
        }
        assert_eq!(
            r.deployment_frequency.summary,
            "no deployments in the window"
        );
        assert_eq!(
            r.change_failure_rate.summary,
            "no deployments in the window"
        );
        assert!(!r.deployment_frequency.how.is_empty());
    }

    #[test]
    fn other_environments_are_ignored() {
        let mut d = deploy("s1", 1.0, DeployStatus::Success);
        d.environment = "staging".to_string();
        let r = run(&[d], &[], &[]);
        assert_eq!(r.deployment_frequency.value, None);
    }

    #[test]
    fn deployment_frequency_counts_successes_only() {
        let d = [
            deploy("d1", 6.5, DeployStatus::Success),
            deploy("d2", 5.5, DeployStatus::Failure),
            deploy("d3", 5.0, DeployStatus::Success),
            rollback("r1", 4.9),
            deploy("d4", 3.0, DeployStatus::RolledBack),
            deploy("d5", 0.5, DeployStatus::Success),
            deploy("d6", 0.1, DeployStatus::InProgress),
        ];
        let m = run(&d, &[], &[]).deployment_frequency;
        let ids: Vec<&str> = m.counted.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, vec!["d1", "d3", "d4", "d5"]);
        assert_eq!(m.value, Some(4.0 / 7.0));
        assert_eq!(m.summary, "4 a week (4 in 7 days)");
        assert_eq!(m.band, Some(Band::High));
        assert_eq!(m.notes.len(), 3, "{:?}", m.notes);
        // Daily buckets, oldest first: d1 in the first day, d3 the second, d4 the fourth, d5 the last.
        assert_eq!(
            m.trend,
            vec![
                Some(1.0),
                Some(1.0),
                Some(0.0),
                Some(1.0),
                Some(0.0),
                Some(0.0),
                Some(1.0)
            ]
        );
    }

    #[test]
    fn a_deploy_with_no_incident_is_not_a_failure() {
        let d = [deploy("d1", 2.0, DeployStatus::Success)];
        let r = run(&d, &[], &[]);
        let cfr = &r.change_failure_rate;
        assert_eq!(cfr.value, Some(0.0));
        assert_eq!(cfr.band, Some(Band::Elite));
        assert_eq!(cfr.counted[0].detail, "ok");
        assert_eq!(cfr.summary, "0 % (0 of 1 deployment)");
        assert_eq!(r.time_to_restore.value, None);
        assert_eq!(
            r.time_to_restore.summary,
            "no restored failures in the window"
        );
    }

    #[test]
    fn a_rollback_fails_the_deploy_before_it_and_restores_service() {
        let d = [
            deploy("d1", 3.0, DeployStatus::Success),
            rollback("r1", 3.0 - 0.5 / 24.0),
            deploy("d2", 1.0, DeployStatus::Success),
        ];
        let r = run(&d, &[], &[]);
        let cfr = &r.change_failure_rate;
        assert_eq!(cfr.value, Some(0.5));
        assert_eq!(cfr.counted[0].detail, "rolled back by r1");
        assert_eq!(cfr.counted[1].detail, "ok");
        assert_eq!(cfr.band, Some(Band::Low));
        let ttr = &r.time_to_restore;
        assert!((ttr.value.unwrap_or(0.0) - 0.5).abs() < 1e-9, "{ttr:?}");
        assert_eq!(ttr.band, Some(Band::Elite));
        assert_eq!(ttr.counted[0].id, "d1");
        assert!(ttr.counted[0].detail.contains("restored by r1"));
        // The rollback is not a deployment of a change.
        assert_eq!(r.deployment_frequency.counted.len(), 2);
    }

    #[test]
    fn failed_and_rolled_back_statuses_count_as_failures() {
        let d = [
            deploy("d1", 6.0, DeployStatus::Failure),
            deploy("d2", 5.0, DeployStatus::Success),
            deploy("d3", 4.0, DeployStatus::RolledBack),
            deploy("d4", 3.0, DeployStatus::Success),
        ];
        let r = run(&d, &[], &[]);
        assert_eq!(r.change_failure_rate.value, Some(0.5));
        let ttr = &r.time_to_restore;
        assert_eq!(ttr.counted.len(), 2);
        assert_eq!(ttr.value, Some(24.0));
        assert_eq!(ttr.band, Some(Band::Medium));
    }

    #[test]
    fn an_attributed_incident_fails_its_deploy_and_times_restore() {
        let d = [
            deploy("d1", 4.0, DeployStatus::Success),
            deploy("d2", 2.0, DeployStatus::Success),
        ];
        let i = [incident("INC-1", 3.9, Some(2.0), Some("d1"))];
        let r = run(&d, &[], &i);
        let cfr = &r.change_failure_rate;
        assert_eq!(cfr.value, Some(0.5));
        assert_eq!(cfr.counted[0].detail, "incident INC-1");
        let ttr = &r.time_to_restore;
        assert_eq!(
            ttr.counted.len(),
            1,
            "the deploy's failure is the incident: {ttr:?}"
        );
        assert_eq!(ttr.counted[0].id, "INC-1");
        assert!((ttr.value.unwrap_or(0.0) - 2.0).abs() < 1e-9);
        assert_eq!(ttr.band, Some(Band::High));
    }

    #[test]
    fn an_incident_with_no_deploy_counts_for_restore_not_failure_rate() {
        let d = [deploy("d1", 5.0, DeployStatus::Success)];
        let i = [
            incident("INC-2", 2.0, Some(0.25), None),
            incident("INC-3", 1.0, None, None),
        ];
        let r = run(&d, &[], &i);
        assert_eq!(r.change_failure_rate.value, Some(0.0));
        assert!(r.change_failure_rate.notes[0].starts_with("2 incidents not attributed"));
        let ttr = &r.time_to_restore;
        assert_eq!(ttr.value, Some(0.25));
        assert_eq!(ttr.band, Some(Band::Elite));
        assert_eq!(
            ttr.notes,
            vec!["1 not restored yet, not counted: INC-3".to_string()]
        );

        // Incidents alone, no deployments: restore time still measured.
        let r = run(&[], &[], &i);
        assert_eq!(r.time_to_restore.value, Some(0.25));
        assert_eq!(r.change_failure_rate.value, None);
    }

    #[test]
    fn lead_time_from_first_commit_or_opening_to_deploy() {
        let d = [
            deploy("d1", 5.0, DeployStatus::Success),
            deploy("d2", 2.0, DeployStatus::Success),
        ];
        let change = |n: u64, first: Option<f64>, opened: f64, merged: f64| Change {
            number: n,
            repo: String::new(),
            first_commit_at: first.map(at),
            created_at: at(opened),
            merged_at: Some(at(merged)),
            merge_sha: None,
            deployed_at: None,
        };
        let c = [
            // Merged 5.5 days ago: shipped by d1 (started after the merge), 1 day after its first commit.
            change(1, Some(6.0), 5.9, 5.5),
            // No first commit time: from opening (3 days before d2).
            change(2, None, 5.0, 2.5),
            // Merged after the last deploy: not deployed yet.
            change(3, Some(1.0), 1.0, 0.5),
            // Not merged: ignored.
            Change {
                merged_at: None,
                ..change(4, Some(1.0), 1.0, 0.5)
            },
            // Caller knows the deploy time.
            Change {
                deployed_at: Some(at(1.0)),
                ..change(5, Some(3.0), 3.0, 2.0)
            },
        ];
        let lt = run(&d, &c, &[]).lead_time;
        let ids: Vec<&str> = lt.counted.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, vec!["#1", "#2", "#5"]);
        // 24 h, 72 h, 48 h.
        assert_eq!(lt.value, Some(48.0));
        assert_eq!(lt.p90, Some(72.0));
        assert_eq!(lt.band, Some(Band::High));
        assert!(
            lt.notes[0].contains("1 change merged but not deployed yet"),
            "{:?}",
            lt.notes
        );
        assert!(lt.notes[0].contains("#3"));
        assert!(lt.notes[1].contains("from the PR's opening"));
        assert_eq!(lt.summary, "median 2 d, p90 3 d (3 changes)");
    }

    #[test]
    fn lead_time_prefers_the_deploy_of_the_merge_sha() {
        let mut d2 = deploy("d2", 1.0, DeployStatus::Success);
        d2.sha = "abc".to_string();
        let d = [deploy("d1", 3.0, DeployStatus::Success), d2];
        let c = [Change {
            number: 9,
            repo: String::new(),
            first_commit_at: Some(at(4.0)),
            created_at: at(4.0),
            merged_at: Some(at(3.5)),
            merge_sha: Some("abc".to_string()),
            deployed_at: None,
        }];
        let lt = run(&d, &c, &[]).lead_time;
        assert_eq!(lt.value, Some(72.0));
    }

    #[test]
    fn band_boundaries() {
        use Band::*;
        use MetricKind::*;
        let cases = [
            (DeploymentFrequency, 1.5, Elite),
            (DeploymentFrequency, 1.0, High),
            (DeploymentFrequency, 1.0 / 7.0, High),
            (DeploymentFrequency, 0.1, Medium),
            (DeploymentFrequency, 1.0 / 30.0, Medium),
            (DeploymentFrequency, 0.03, Low),
            (LeadTime, 23.9, Elite),
            (LeadTime, 24.0, High),
            (LeadTime, 167.9, High),
            (LeadTime, 168.0, Medium),
            (LeadTime, 719.0, Medium),
            (LeadTime, 720.0, Low),
            (ChangeFailureRate, 0.0, Elite),
            (ChangeFailureRate, 0.15, Elite),
            (ChangeFailureRate, 0.16, High),
            (ChangeFailureRate, 0.30, High),
            (ChangeFailureRate, 0.45, Medium),
            (ChangeFailureRate, 0.46, Low),
            (TimeToRestore, 0.99, Elite),
            (TimeToRestore, 1.0, High),
            (TimeToRestore, 23.9, High),
            (TimeToRestore, 24.0, Medium),
            (TimeToRestore, 168.0, Low),
        ];
        for (kind, value, expected) in cases {
            assert_eq!(band(kind, value), expected, "{kind:?} {value}");
        }
    }

    #[test]
    fn trend_buckets() {
        let w = Window::new(NOW, Duration::days(7));
        assert_eq!(w.bucket, Duration::days(1));
        assert_eq!(w.buckets(), 7);
        assert_eq!(w.bucket_of(NOW), Some(6));
        assert_eq!(w.bucket_of(at(0.99)), Some(6));
        assert_eq!(w.bucket_of(at(1.0)), Some(5));
        assert_eq!(w.bucket_of(at(7.0)), Some(0));
        assert_eq!(w.bucket_of(at(7.01)), None);
        assert_eq!(w.bucket_of(NOW + Duration::seconds(1)), None);

        let month = Window::new(NOW, Duration::days(30));
        assert_eq!(month.bucket, Duration::weeks(1));
        assert_eq!(month.buckets(), 5);
        // The first bucket is cut to 2 days by the window's start.
        assert!((month.bucket_days(0) - 2.0).abs() < 1e-9);
        assert!((month.bucket_days(4) - 7.0).abs() < 1e-9);
        assert_eq!(month.bucket_of(at(29.0)), Some(0));
        assert_eq!(month.bucket_of(at(27.9)), Some(1));

        // Weekly lead time medians: one bucket with two changes, one with none.
        let d = [
            deploy("d1", 20.0, DeployStatus::Success),
            deploy("d2", 3.0, DeployStatus::Success),
        ];
        let change = |n: u64, hours_before: f64, deployed: f64| Change {
            number: n,
            repo: String::new(),
            first_commit_at: Some(at(deployed) - Duration::seconds_f64(hours_before * 3600.0)),
            created_at: at(deployed),
            merged_at: Some(at(deployed + 0.01)),
            merge_sha: None,
            deployed_at: Some(at(deployed)),
        };
        let c = [
            change(1, 10.0, 20.0),
            change(2, 30.0, 20.0),
            change(3, 4.0, 3.0),
        ];
        let r = dora(&d, &c, &[], "production", month);
        // 20 days ago is in the third bucket ([21, 14) days ago), 3 days ago in the last.
        assert_eq!(
            r.lead_time.trend,
            vec![None, None, Some(20.0), None, Some(4.0)]
        );
        assert_eq!(
            r.change_failure_rate.trend,
            vec![None, None, Some(0.0), None, Some(0.0)]
        );
        let df = &r.deployment_frequency.trend;
        assert_eq!(df[0], Some(0.0));
        assert!((df[2].unwrap_or(0.0) - 1.0 / 7.0).abs() < 1e-9);
        assert!((df[4].unwrap_or(0.0) - 1.0 / 7.0).abs() < 1e-9);
    }

    #[test]
    fn median_and_p90() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(
            p90(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]),
            Some(9.0)
        );
        assert_eq!(p90(&[5.0]), Some(5.0));
        assert_eq!(p90(&[]), None);
    }

    #[test]
    fn formatting() {
        assert_eq!(duration_text(0.5), "30 min");
        assert_eq!(duration_text(5.25), "5.2 h");
        assert_eq!(duration_text(72.0), "3 d");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.571), "0.6");
        assert_eq!(stamp(NOW), "2026-03-29 12:00 UTC");
    }

    #[test]
    fn a_change_ships_only_with_its_own_repository() {
        let mut web = deploy("w1", 1.0, DeployStatus::Success);
        web.repo = "acme/web".to_string();
        let c = [Change {
            number: 7,
            repo: "acme/checkout".to_string(),
            first_commit_at: None,
            created_at: at(3.0),
            merged_at: Some(at(2.0)),
            merge_sha: None,
            deployed_at: None,
        }];
        let lt = run(&[web.clone()], &c, &[]).lead_time;
        assert_eq!(lt.value, None);
        assert!(lt.notes[0].contains("#7"), "{:?}", lt.notes);
        let mut checkout = deploy("c1", 1.0, DeployStatus::Success);
        checkout.repo = "acme/checkout".to_string();
        let lt = run(&[web, checkout], &c, &[]).lead_time;
        assert_eq!(lt.counted.len(), 1);
    }

    #[test]
    fn a_redeploy_of_an_earlier_release_is_a_rollback() {
        let release = |id: &str, days_ago: f64, sha: &str, status: DeployStatus| Deployment {
            sha: sha.to_string(),
            ..deploy(id, days_ago, status)
        };
        let mut d = vec![
            release("d1", 9.0, "aaa", DeployStatus::Success),
            release("d2", 8.0, "bbb", DeployStatus::Success),
            // Back to aaa: a rollback.
            release("d3", 7.0, "aaa", DeployStatus::Success),
            // aaa again, what runs: a redeploy, not a rollback.
            release("d4", 6.0, "aaa", DeployStatus::Success),
            release("d5", 5.0, "ccc", DeployStatus::Failure),
            // ccc failed and never ran: aaa still runs, so deploying it again is no rollback.
            release("d6", 4.0, "aaa", DeployStatus::Success),
            // Another environment's history is its own.
            Deployment {
                environment: "staging".to_string(),
                ..release("s1", 3.0, "bbb", DeployStatus::Success)
            },
        ];
        // Given newest first, as GitHub lists them.
        d.reverse();
        assert_eq!(mark_redeploys_as_rollbacks(&mut d), 1);
        let rollbacks: Vec<&str> = d
            .iter()
            .filter(|x| x.is_rollback)
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(rollbacks, vec!["d3"]);
        // Marked ones are not counted twice.
        assert_eq!(mark_redeploys_as_rollbacks(&mut d), 0);
        // And the metrics read it: d2 was rolled back.
        let cfr = dora(
            &d,
            &[],
            &[],
            "production",
            Window::new(NOW, Duration::days(30)),
        )
        .change_failure_rate;
        assert!(
            cfr.counted
                .iter()
                .any(|x| x.id == "d2" && x.detail.contains("rolled back")),
            "{:?}",
            cfr.counted
        );
    }
}
