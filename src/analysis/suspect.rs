//! The suspected change of an incident: which deploy, merged PR or commit most likely caused it,
//! ranked from the deployments of the incident's environment, what each deploy changed against the
//! last good one, the commits that touched the in-app frames' files, the release named on the
//! event and Sentry's own suspect commits. Pure: no I/O and no clock (`now` is passed in).
//!
//! Every suspect carries its evidence as facts with numbers; when nothing fits (no deploy shortly
//! before the incident, no change to a frame's file, no release match) the list is empty and the
//! screen says "none found" — never a guess dressed as a finding.

use time::{Duration, OffsetDateTime};

use crate::domain::{Frame, Incident, IncidentEvent, Suspect, SuspectKind};

/// How far back a deploy may lie before the first event and still be a suspect.
pub const WINDOW: Duration = Duration::days(30);
/// A deploy further than this before the first event needs more than timing (a changed frame
/// file or the event's release) to be a suspect.
pub const TIMING_ALONE: Duration = Duration::hours(24);

/// How a deployment ended, from its latest status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployOutcome {
    /// `success` (or `inactive` after a success: superseded).
    Succeeded,
    /// `failure` or `error`: it may never have shipped.
    Failed,
    /// `queued`, `pending`, `in_progress`: still going.
    InProgress,
    /// No status read.
    Unknown,
}

impl DeployOutcome {
    /// From a deployment's statuses, newest first (GitHub's order).
    pub fn from_statuses<'a>(states: impl IntoIterator<Item = &'a str>) -> DeployOutcome {
        let states: Vec<&str> = states.into_iter().collect();
        let succeeded = states.contains(&"success");
        match states.first().copied() {
            None => DeployOutcome::Unknown,
            Some("success") => DeployOutcome::Succeeded,
            Some("inactive") if succeeded => DeployOutcome::Succeeded,
            Some("failure" | "error") => DeployOutcome::Failed,
            Some("queued" | "pending" | "in_progress" | "waiting") => DeployOutcome::InProgress,
            Some(_) => DeployOutcome::Unknown,
        }
    }

    /// A deploy that is a good base to compare the next one against.
    pub fn is_good(self) -> bool {
        self == DeployOutcome::Succeeded
    }
}

/// One deployment of a repository to an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Deploy {
    pub repo: String,
    pub environment: String,
    /// GitHub's deployment id.
    pub id: u64,
    pub sha: String,
    /// The release it ships (`2.14.0`) when known: from the deployment's payload or description,
    /// a tag ref, or the tag that points at its sha.
    pub version: Option<String>,
    /// The ref it was made from (`main`, `v2.14.0`).
    pub git_ref: Option<String>,
    pub created_at: Option<OffsetDateTime>,
    /// When its latest status said `success`.
    pub finished_at: Option<OffsetDateTime>,
    pub outcome: DeployOutcome,
    pub url: Option<String>,
}

impl Deploy {
    /// "deploy 2.14.0 of checkout to production (sha abc1234)".
    pub fn title(&self) -> String {
        let what = match &self.version {
            Some(v) => format!("deploy {v}"),
            None => format!("deploy #{}", self.id),
        };
        format!(
            "{what} of {} to {} (sha {})",
            short_repo(&self.repo),
            self.environment,
            short_sha(&self.sha)
        )
    }

    /// When it went out: its creation (what GitHub stamps when the deploy starts).
    pub fn at(&self) -> Option<OffsetDateTime> {
        self.created_at.or(self.finished_at)
    }
}

/// A commit, as the compare and commit-list endpoints give it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Commit {
    pub sha: String,
    /// The first line of the message.
    pub message: String,
    pub author: String,
    pub at: Option<OffsetDateTime>,
    /// The PRs it belongs to (from the message, `(#417)` / `Merge pull request #417`, or
    /// GitHub's commit → pulls answer).
    pub prs: Vec<u64>,
    pub url: Option<String>,
}

/// A merged pull request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MergedPr {
    pub number: u64,
    pub title: String,
    pub url: String,
    pub merged_at: Option<OffsetDateTime>,
}

/// What a deploy changed against the last good deploy before it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeployChanges {
    /// The deployment (`Deploy::id`) these are the changes of.
    pub deploy_id: u64,
    /// The last good deploy's sha it was compared against.
    pub base_sha: String,
    /// Commits in the deploy and not in the base, oldest first.
    pub commits: Vec<Commit>,
    /// Files the deploy changed (repository paths).
    pub files: Vec<String>,
    /// The PRs the commits belong to, where known.
    pub prs: Vec<MergedPr>,
}

/// The commits that touched one repository file (one of the in-app frames' files).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathCommits {
    /// The repository path.
    pub path: String,
    pub commits: Vec<Commit>,
}

/// Everything the ranking looks at.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub incident: Option<&'a Incident>,
    pub event: Option<&'a IncidentEvent>,
    /// Deployments of the incident's repository and environment, any order.
    pub deploys: Vec<Deploy>,
    /// What (some of) the deploys changed.
    pub changes: Vec<DeployChanges>,
    /// Commits touching the in-app frames' files.
    pub path_commits: Vec<PathCommits>,
    /// Sentry's own suspect commits (shas), when the org has them.
    pub sentry_commits: Vec<String>,
    /// The commits Sentry lists for the event's release (shas), when the org records them.
    pub release_commits: Vec<String>,
}

/// Whether `sha` is one of the release's commits (full shas or their prefixes of 7 or more).
fn in_release(release_commits: &[String], sha: &str) -> bool {
    release_commits
        .iter()
        .any(|s| s.len() >= 7 && (sha.starts_with(s.as_str()) || s.starts_with(sha)))
}

/// `owner/repo` → `repo`.
pub fn short_repo(repo: &str) -> &str {
    repo.rsplit('/').next().unwrap_or(repo)
}

/// The first 7 characters of a sha.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// A path as a list of components, without a URL scheme (`app:///`, `webpack://`), `./` and
/// leading slashes.
fn components(path: &str) -> Vec<&str> {
    let path = match path.find("://") {
        Some(i) => &path[i + 3..],
        None => path,
    };
    path.split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// Whether a frame's path and a repository path name the same file: the shorter is a suffix of
/// the longer, whole components only (`/srv/checkout/worker/refunds.py` and `worker/refunds.py`).
pub fn paths_match(frame_path: &str, repo_path: &str) -> bool {
    let a = components(frame_path);
    let b = components(repo_path);
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.ends_with(&short)
}

/// Whether `frame` lives in the repository file `repo_path` (by its `abs_path` or `filename`).
pub fn frame_in(frame: &Frame, repo_path: &str) -> bool {
    [frame.abs_path.as_deref(), frame.filename.as_deref()]
        .into_iter()
        .flatten()
        .any(|p| paths_match(p, repo_path))
}

/// The event's release without its package (`checkout@2.14.0` → `2.14.0`, `v2.14.0` → `2.14.0`).
pub fn release_version(release: &str) -> &str {
    let v = release.rsplit_once('@').map_or(release, |(_, v)| v);
    v.strip_prefix('v').unwrap_or(v)
}

/// Whether the event's release is what `deploy` shipped: its version, or its sha (Sentry
/// releases are often commit shas).
pub fn release_matches(release: &str, deploy: &Deploy) -> bool {
    let version = release_version(release);
    if version.is_empty() {
        return false;
    }
    let by_version = deploy
        .version
        .as_deref()
        .is_some_and(|v| v.strip_prefix('v').unwrap_or(v) == version);
    let by_sha = version.len() >= 7
        && version.chars().all(|c| c.is_ascii_hexdigit())
        && deploy.sha.starts_with(version);
    by_version || by_sha
}

/// "2 min", "3 h 10 min", "4 days".
pub fn gap_text(d: Duration) -> String {
    let secs = d.whole_seconds().max(0);
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 3_600 {
        format!("{} min", secs / 60)
    } else if secs < 86_400 {
        let m = (secs % 3_600) / 60;
        if m == 0 {
            format!("{} h", secs / 3_600)
        } else {
            format!("{} h {m} min", secs / 3_600)
        }
    } else {
        crate::fmt::plural((secs / 86_400) as usize, "day")
    }
}

/// How much the time between a deploy and the first event says: near 1 within minutes, 0.5 at
/// half an hour, under 0.05 after a day.
fn timing_score(gap: Duration) -> f64 {
    let minutes = gap.whole_seconds().max(0) as f64 / 60.0;
    1.0 / (1.0 + minutes / 30.0)
}

/// The in-app frames of the event (all its frames when none is marked in-app), and the crash
/// frame.
fn frames_of(event: Option<&IncidentEvent>) -> (Vec<&Frame>, Option<&Frame>) {
    let Some(e) = event else {
        return (Vec::new(), None);
    };
    let in_app: Vec<&Frame> = e.in_app_frames().collect();
    (in_app, e.crash_frame())
}

/// What a set of changed files says about the frames: (the files that hold in-app frames, how
/// many in-app frames they hold, whether the crash frame is among them).
fn overlap<'f>(
    files: impl IntoIterator<Item = &'f str>,
    frames: &[&Frame],
    crash: Option<&Frame>,
) -> (Vec<String>, usize, bool) {
    let files: Vec<&str> = files.into_iter().collect();
    let mut hit_files: Vec<String> = Vec::new();
    for f in &files {
        if frames.iter().any(|fr| frame_in(fr, f)) && !hit_files.iter().any(|h| h == f) {
            hit_files.push((*f).to_string());
        }
    }
    let held = frames
        .iter()
        .filter(|fr| hit_files.iter().any(|f| frame_in(fr, f)))
        .count();
    let crash_hit = crash.is_some_and(|c| c.in_app && hit_files.iter().any(|f| frame_in(c, f)));
    (hit_files, held, crash_hit)
}

/// "`a.js`", "`a.js` and `b.js`", "`a.js`, `b.js` and 2 more files".
fn file_list(files: &[String]) -> String {
    let q: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        2 => format!("{} and {}", q[0], q[1]),
        n => format!(
            "{}, {} and {}",
            q[0],
            q[1],
            crate::fmt::plural(n - 2, "more file")
        ),
    }
}

/// "which holds 2 of the 3 in-app frames, the crash frame among them".
fn holds_text(hit: &[String], held: usize, total: usize, crash: bool) -> String {
    let verb = if hit.len() == 1 { "holds" } else { "hold" };
    let frames = match (held, total) {
        (_, 1) => "the only in-app frame".to_string(),
        (2, 2) => "both in-app frames".to_string(),
        (h, t) if h == t => format!("all {t} in-app frames"),
        (h, t) => format!("{h} of the {t} in-app frames"),
    };
    let crash = if crash && held < total {
        ", the crash frame among them"
    } else {
        ""
    };
    format!("which {verb} {frames}{crash}")
}

/// A deploy considered, with what was found about it.
struct Considered<'a> {
    deploy: &'a Deploy,
    gap: Duration,
    /// Whether this is the newest deploy before the first event that did not fail (the one
    /// that was live).
    live: bool,
    release: bool,
    changes: Option<&'a DeployChanges>,
}

/// Rank the suspects of an incident, best first; empty when nothing fits.
pub fn rank(inputs: &Inputs<'_>, now: OffsetDateTime) -> Vec<Suspect> {
    let first_seen = inputs
        .incident
        .and_then(|i| i.first_seen)
        .or_else(|| inputs.event.and_then(|e| e.date))
        .unwrap_or(now)
        .min(now);
    let release = inputs.event.and_then(|e| e.release.as_deref());
    let (frames, crash) = frames_of(inputs.event);

    // Deploys that went out before the first event, within the window, newest first.
    let mut before: Vec<(&Deploy, OffsetDateTime)> = inputs
        .deploys
        .iter()
        .filter_map(|d| Some((d, d.at()?)))
        .filter(|(_, at)| *at <= first_seen && first_seen - *at <= WINDOW)
        .collect();
    before.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.id.cmp(&a.0.id)));
    // The deploy that was live: the newest one that did not fail.
    let live_id = before
        .iter()
        .find(|(d, _)| d.outcome != DeployOutcome::Failed)
        .map(|(d, _)| d.id);
    let considered: Vec<Considered> = before
        .iter()
        .map(|(d, at)| Considered {
            deploy: d,
            gap: first_seen - *at,
            live: Some(d.id) == live_id,
            release: release.is_some_and(|r| release_matches(r, d)),
            changes: inputs.changes.iter().find(|c| c.deploy_id == d.id),
        })
        .collect();
    let newest_version = considered
        .iter()
        .find(|c| c.live)
        .and_then(|c| c.deploy.version.clone())
        .unwrap_or_else(|| "a newer one".into());

    let mut out: Vec<Suspect> = Vec::new();
    for c in &considered {
        let d = c.deploy;
        let mut evidence = vec![format!(
            "first seen {} after {}",
            gap_text(c.gap),
            d.title()
        )];
        let mut score = timing_score(c.gap);
        if !c.live && d.outcome != DeployOutcome::Failed {
            evidence.push(format!(
                "superseded by {newest_version} before the first event"
            ));
            score *= 0.5;
        }
        if c.release {
            score += 1.0;
            if let Some(r) = release {
                evidence.push(format!(
                    "the event names release {r}, which this deploy shipped"
                ));
            }
        } else if let (Some(r), Some(v)) = (release, d.version.as_deref()) {
            evidence.push(format!(
                "the event names release {r}; this deploy shipped {v}"
            ));
            score *= 0.6;
        }
        let changed_files = c
            .changes
            .map(|ch| ch.files.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        let (hit, held, crash_hit) = overlap(changed_files, &frames, crash);
        if !hit.is_empty() {
            score += 0.5 * held as f64 / frames.len().max(1) as f64;
            evidence.push(format!(
                "it changed {}, {}",
                file_list(&hit),
                holds_text(&hit, held, frames.len(), crash_hit)
            ));
        }
        let sentry_hit = c.changes.into_iter().flat_map(|ch| &ch.commits).find(|k| {
            inputs
                .sentry_commits
                .iter()
                .any(|s| !s.is_empty() && k.sha.starts_with(s.as_str()))
        });
        if let Some(k) = sentry_hit {
            score += 0.5;
            evidence.push(format!(
                "it contains commit {}, which Sentry names as a suspect",
                short_sha(&k.sha)
            ));
        }
        let listed = c
            .changes
            .into_iter()
            .flat_map(|ch| &ch.commits)
            .find(|k| in_release(&inputs.release_commits, &k.sha));
        if let (Some(k), Some(r)) = (listed, release) {
            score += 0.25;
            evidence.push(format!(
                "Sentry's release {r} lists its commit {}",
                short_sha(&k.sha)
            ));
        }
        if d.outcome == DeployOutcome::Failed {
            score *= 0.5;
            evidence.push("its latest status is a failure: it may not have shipped".into());
        }
        // Timing alone counts only when close; otherwise the deploy needs a changed frame file,
        // the release or Sentry's word.
        let fits = c.gap <= TIMING_ALONE || c.release || !hit.is_empty() || sentry_hit.is_some();
        if !fits {
            continue;
        }
        out.push(Suspect {
            kind: SuspectKind::Deploy,
            title: d.title(),
            repo: Some(d.repo.clone()),
            sha: Some(d.sha.clone()),
            pr: None,
            url: d.url.clone(),
            score,
            evidence,
        });

        // The PRs and commits of this deploy that changed a frame's file.
        let Some(ch) = c.changes else {
            continue;
        };
        let base_score = timing_score(c.gap)
            * if c.live || d.outcome == DeployOutcome::Failed {
                1.0
            } else {
                0.5
            }
            + if c.release { 1.0 } else { 0.0 };
        let in_deploy = |sha: &str| ch.commits.iter().any(|k| k.sha == sha);
        // Files each commit of the deploy touched, from the per-path commit lists.
        let mut touched: Vec<(&Commit, Vec<String>)> = Vec::new();
        for pc in &inputs.path_commits {
            for k in pc.commits.iter().filter(|k| in_deploy(&k.sha)) {
                match touched.iter_mut().find(|(t, _)| t.sha == k.sha) {
                    Some((_, files)) => {
                        if !files.contains(&pc.path) {
                            files.push(pc.path.clone())
                        }
                    }
                    None => touched.push((k, vec![pc.path.clone()])),
                }
            }
        }
        // Group by PR (a commit without a PR stands alone).
        let mut groups: Vec<(Option<u64>, Vec<&Commit>, Vec<String>)> = Vec::new();
        for (k, files) in &touched {
            let key = k.prs.first().copied().or_else(|| {
                ch.commits
                    .iter()
                    .find(|x| x.sha == k.sha)
                    .and_then(|x| x.prs.first().copied())
            });
            let slot = match key {
                Some(n) => groups.iter_mut().position(|g| g.0 == Some(n)),
                None => None,
            };
            let g = match slot {
                Some(i) => &mut groups[i],
                None => {
                    groups.push((key, Vec::new(), Vec::new()));
                    let last = groups.len() - 1;
                    &mut groups[last]
                }
            };
            g.1.push(k);
            for f in files {
                if !g.2.contains(f) {
                    g.2.push(f.clone());
                }
            }
        }
        for (pr, commits, files) in groups {
            let (hit, held, crash_hit) = overlap(files.iter().map(String::as_str), &frames, crash);
            if hit.is_empty() {
                continue;
            }
            let mut score = base_score + 1.5 * held as f64 / frames.len().max(1) as f64;
            if crash_hit {
                score += 0.25;
            }
            let sentry = commits.iter().any(|k| {
                inputs
                    .sentry_commits
                    .iter()
                    .any(|s| !s.is_empty() && k.sha.starts_with(s.as_str()))
            });
            if sentry {
                score += 0.5;
            }
            let listed = commits
                .iter()
                .any(|k| in_release(&inputs.release_commits, &k.sha));
            if listed {
                score += 0.25;
            }
            if d.outcome == DeployOutcome::Failed {
                score *= 0.5;
            }
            let holds = holds_text(&hit, held, frames.len(), crash_hit);
            let timing = format!("first seen {} after {}", gap_text(c.gap), d.title());
            let first = commits.first().copied();
            let suspect = match pr {
                Some(n) => {
                    let known = ch.prs.iter().find(|p| p.number == n);
                    let title = match known.map(|p| p.title.as_str()).filter(|t| !t.is_empty()) {
                        Some(t) => format!("PR #{n} {t}"),
                        None => format!("PR #{n}"),
                    };
                    let mut evidence = vec![
                        format!(
                            "PR #{n} in that deploy changed {}, {holds}",
                            file_list(&hit)
                        ),
                        timing,
                    ];
                    if c.release
                        && let Some(r) = release
                    {
                        evidence.push(format!(
                            "the event names release {r}, which this deploy shipped"
                        ));
                    }
                    if sentry {
                        evidence.push("Sentry names one of its commits as a suspect".into());
                    }
                    if listed && let Some(r) = release {
                        evidence.push(format!("Sentry's release {r} lists its commits"));
                    }
                    Suspect {
                        kind: SuspectKind::PullRequest,
                        title,
                        repo: Some(d.repo.clone()),
                        sha: first.map(|k| k.sha.clone()),
                        pr: Some(n),
                        url: known.map(|p| p.url.clone()).filter(|u| !u.is_empty()),
                        score,
                        evidence,
                    }
                }
                None => {
                    let k = first.map_or("", |k| k.sha.as_str());
                    let msg = first.map_or("", |k| k.message.as_str());
                    let mut evidence = vec![
                        format!(
                            "commit {} in that deploy changed {}, {holds}",
                            short_sha(k),
                            file_list(&hit)
                        ),
                        timing,
                    ];
                    if sentry {
                        evidence.push("Sentry names it as a suspect".into());
                    }
                    if listed && let Some(r) = release {
                        evidence.push(format!("Sentry's release {r} lists it"));
                    }
                    Suspect {
                        kind: SuspectKind::Commit,
                        title: format!("commit {} {msg}", short_sha(k))
                            .trim_end()
                            .to_string(),
                        repo: Some(d.repo.clone()),
                        sha: Some(k.to_string()),
                        pr: None,
                        url: first.and_then(|k| k.url.clone()),
                        score,
                        evidence,
                    }
                }
            };
            out.push(suspect);
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ExceptionInfo;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);

    fn frame(path: &str, function: &str, line: u32, in_app: bool) -> Frame {
        Frame {
            filename: Some(path.into()),
            abs_path: Some(format!("/srv/checkout/{path}")),
            function: Some(function.into()),
            line: Some(line),
            in_app,
            ..Frame::default()
        }
    }

    /// The Python incident: worker/app.py (1 frame), worker/refunds.py (2, the crash among them).
    fn event(release: Option<&str>) -> IncidentEvent {
        IncidentEvent {
            short_id: "CHECKOUT-4C".into(),
            release: release.map(Into::into),
            exceptions: vec![ExceptionInfo {
                kind: "ZeroDivisionError".into(),
                value: "integer division or modulo by zero".into(),
                module: Some("builtins".into()),
                frames: vec![
                    Frame {
                        filename: Some("kombu/messaging.py".into()),
                        abs_path: Some(
                            "/usr/lib/python3.11/site-packages/kombu/messaging.py".into(),
                        ),
                        ..Frame::default()
                    },
                    frame("worker/app.py", "handle_refund", 8, true),
                    frame("worker/refunds.py", "refund_order", 14, true),
                    frame("worker/refunds.py", "split_refund", 6, true),
                ],
                ..ExceptionInfo::default()
            }],
            ..IncidentEvent::default()
        }
    }

    fn incident(first_seen: OffsetDateTime) -> Incident {
        Incident {
            project: "checkout".into(),
            id: "6120007".into(),
            short_id: "CHECKOUT-4C".into(),
            title: "ZeroDivisionError".into(),
            culprit: "worker.refunds in split_refund".into(),
            level: "error".into(),
            status: "unresolved".into(),
            count: 1,
            user_count: 1,
            first_seen: Some(first_seen),
            last_seen: Some(first_seen),
            url: String::new(),
            stats: Vec::new(),
        }
    }

    fn deploy(id: u64, version: &str, at: OffsetDateTime, outcome: DeployOutcome) -> Deploy {
        Deploy {
            repo: "acme/checkout".into(),
            environment: "production".into(),
            id,
            sha: format!("{id:0>7}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            version: Some(version.into()),
            git_ref: Some("main".into()),
            created_at: Some(at),
            finished_at: None,
            outcome,
            url: None,
        }
    }

    fn commit(sha: &str, pr: Option<u64>) -> Commit {
        Commit {
            sha: sha.into(),
            message: format!("commit {sha}"),
            prs: pr.into_iter().collect(),
            ..Commit::default()
        }
    }

    fn touching(path: &str, commits: &[Commit]) -> PathCommits {
        PathCommits {
            path: path.into(),
            commits: commits.to_vec(),
        }
    }

    fn pr(number: u64, title: &str) -> MergedPr {
        MergedPr {
            number,
            title: title.into(),
            url: format!("https://github.com/acme/checkout/pull/{number}"),
            merged_at: None,
        }
    }

    /// The demo's story with decoys: an older good deploy, a deploy after the first event, a
    /// PR touching docs only.
    fn story() -> (Incident, IncidentEvent, Inputs<'static>) {
        let first = T0 + Duration::seconds(86);
        let inc = incident(first);
        let ev = event(Some("checkout@2.14.0"));
        let refunds = commit("c416", Some(416));
        let docs = commit("c414", Some(414));
        let pay = commit("c417", Some(417));
        let changes = DeployChanges {
            deploy_id: 3,
            base_sha: "base".into(),
            commits: vec![refunds.clone(), docs.clone(), pay.clone()],
            files: vec![
                "worker/refunds.py".into(),
                "docs/refunds.md".into(),
                "checkout/payment.js".into(),
            ],
            prs: vec![
                pr(414, "Describe the refunds worker"),
                pr(416, "Refund only open shipments"),
                pr(417, "Skip the payment form for saved cards"),
            ],
        };
        let inputs = Inputs {
            incident: None,
            event: None,
            deploys: vec![
                deploy(
                    1,
                    "2.13.2",
                    T0 - Duration::days(10),
                    DeployOutcome::Succeeded,
                ),
                deploy(
                    3,
                    "2.14.0",
                    T0 - Duration::minutes(19),
                    DeployOutcome::InProgress,
                ),
                deploy(
                    4,
                    "2.14.1",
                    T0 + Duration::minutes(5),
                    DeployOutcome::Succeeded,
                ),
            ],
            changes: vec![changes],
            path_commits: vec![
                touching("worker/refunds.py", &[refunds, commit("old", None)]),
                touching("docs/refunds.md", &[docs]),
                touching("checkout/payment.js", &[pay]),
            ],
            sentry_commits: vec![],
            release_commits: vec![],
        };
        (inc, ev, inputs)
    }

    #[test]
    fn the_pr_that_changed_the_crashing_file_comes_first_among_decoys() {
        let (inc, ev, mut inputs) = story();
        inputs.incident = Some(&inc);
        inputs.event = Some(&ev);
        let out = rank(&inputs, T0 + Duration::minutes(10));
        assert!(!out.is_empty());
        let top = &out[0];
        assert_eq!(top.kind, SuspectKind::PullRequest);
        assert_eq!(top.pr, Some(416), "{out:#?}");
        assert_eq!(top.title, "PR #416 Refund only open shipments");
        assert_eq!(
            top.evidence[0],
            "PR #416 in that deploy changed `worker/refunds.py`, which holds 2 of the 3 in-app \
             frames, the crash frame among them"
        );
        assert!(
            top.evidence.iter().any(|e| e
                == "first seen 20 min after deploy 2.14.0 of checkout to production (sha 0000003)"),
            "{:?}",
            top.evidence
        );
        // The deploy itself is second; the docs PR and the PR of other files are not suspects.
        assert_eq!(out[1].kind, SuspectKind::Deploy);
        assert!(out[1].title.starts_with("deploy 2.14.0"));
        assert!(
            out[1]
                .evidence
                .iter()
                .any(|e| e == "the event names release checkout@2.14.0, which this deploy shipped")
        );
        assert!(out.iter().all(|s| s.pr != Some(414) && s.pr != Some(417)));
        // The deploy after the first event is excluded; the 10-day-old one is not a suspect on
        // timing alone.
        assert!(out.iter().all(|s| !s.title.contains("2.14.1")));
        assert!(out.iter().all(|s| !s.title.contains("2.13.2")));
        assert!(out.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn the_release_on_the_event_breaks_a_tie_of_timing() {
        let first = T0 + Duration::minutes(30);
        let inc = incident(first);
        // Two deploys ten minutes apart, both shortly before the first event; the event names
        // the older one's release (the newer deploy went to other hosts).
        let ev = event(Some("checkout@2.14.0"));
        let inputs = Inputs {
            incident: Some(&inc),
            event: Some(&ev),
            deploys: vec![
                deploy(7, "2.14.0", T0, DeployOutcome::Succeeded),
                deploy(
                    8,
                    "2.14.1",
                    T0 + Duration::minutes(10),
                    DeployOutcome::Succeeded,
                ),
            ],
            ..Inputs::default()
        };
        let out = rank(&inputs, first);
        assert_eq!(out.len(), 2);
        assert!(out[0].title.starts_with("deploy 2.14.0"), "{out:#?}");
        // Without a release, the newer (closer) deploy leads.
        let ev = event(None);
        let inputs = Inputs {
            event: Some(&ev),
            ..inputs
        };
        let out = rank(&inputs, first);
        assert!(out[0].title.starts_with("deploy 2.14.1"), "{out:#?}");
    }

    #[test]
    fn a_release_given_as_a_sha_matches_the_deploy_of_that_sha() {
        let d = deploy(5, "2.14.0", T0, DeployOutcome::Succeeded);
        assert!(release_matches("checkout@0000005aaaa", &d));
        assert!(release_matches("checkout@v2.14.0", &d));
        assert!(release_matches("2.14.0", &d));
        assert!(!release_matches("checkout@2.14", &d));
        assert!(!release_matches("checkout@00000", &d));
        assert!(!release_matches("", &d));
    }

    #[test]
    fn none_found_when_nothing_fits() {
        let first = T0;
        let inc = incident(first);
        let ev = event(Some("checkout@2.14.0"));
        // No deploys at all.
        let empty = Inputs {
            incident: Some(&inc),
            event: Some(&ev),
            ..Inputs::default()
        };
        assert!(rank(&empty, first).is_empty());
        // Only deploys after the first event.
        let after = Inputs {
            deploys: vec![deploy(
                9,
                "2.14.0",
                first + Duration::minutes(1),
                DeployOutcome::Succeeded,
            )],
            ..empty.clone()
        };
        assert!(rank(&after, first).is_empty());
        // A deploy three days before, of another release, that changed no frame's file.
        let stale = Inputs {
            deploys: vec![deploy(
                10,
                "2.13.9",
                first - Duration::days(3),
                DeployOutcome::Succeeded,
            )],
            changes: vec![DeployChanges {
                deploy_id: 10,
                files: vec!["docs/refunds.md".into()],
                commits: vec![commit("d1", Some(414))],
                ..DeployChanges::default()
            }],
            path_commits: vec![touching("docs/refunds.md", &[commit("d1", Some(414))])],
            ..empty.clone()
        };
        assert!(rank(&stale, first).is_empty(), "{:#?}", rank(&stale, first));
        // The same deploy older than the window, even with the release: nothing.
        let ancient = Inputs {
            deploys: vec![deploy(
                11,
                "2.14.0",
                first - Duration::days(40),
                DeployOutcome::Succeeded,
            )],
            ..empty.clone()
        };
        assert!(rank(&ancient, first).is_empty());
    }

    #[test]
    fn an_older_deploy_that_changed_the_frame_file_is_a_suspect_but_marked_superseded() {
        let first = T0;
        let inc = incident(first);
        let ev = event(None);
        let old = deploy(
            20,
            "2.13.0",
            first - Duration::days(3),
            DeployOutcome::Succeeded,
        );
        let new = deploy(
            21,
            "2.13.1",
            first - Duration::hours(2),
            DeployOutcome::Succeeded,
        );
        let inputs = Inputs {
            incident: Some(&inc),
            event: Some(&ev),
            deploys: vec![old, new],
            changes: vec![DeployChanges {
                deploy_id: 20,
                files: vec!["worker/refunds.py".into()],
                commits: vec![commit("e1", None)],
                ..DeployChanges::default()
            }],
            path_commits: vec![touching("worker/refunds.py", &[commit("e1", None)])],
            ..Inputs::default()
        };
        let out = rank(&inputs, first);
        let commit = out
            .iter()
            .find(|s| s.kind == SuspectKind::Commit)
            .expect("the commit that changed refunds.py");
        assert!(
            commit.evidence[0].starts_with("commit e1 in that deploy changed `worker/refunds.py`")
        );
        let old = out
            .iter()
            .find(|s| s.title.contains("2.13.0"))
            .expect("old deploy");
        assert!(
            old.evidence
                .iter()
                .any(|e| e.starts_with("superseded by 2.13.1"))
        );
        // The newer deploy is a suspect on timing (2 h) alone.
        assert!(out.iter().any(|s| s.title.contains("2.13.1")));
    }

    #[test]
    fn a_failed_deploy_ranks_below_the_good_one_it_did_not_replace() {
        let first = T0 + Duration::minutes(30);
        let inc = incident(first);
        let inputs = Inputs {
            incident: Some(&inc),
            deploys: vec![
                deploy(
                    30,
                    "2.14.1",
                    T0 + Duration::minutes(1),
                    DeployOutcome::Failed,
                ),
                deploy(31, "2.14.0", T0, DeployOutcome::Succeeded),
            ],
            ..Inputs::default()
        };
        let out = rank(&inputs, first);
        assert_eq!(out.len(), 2);
        assert!(out[0].title.contains("2.14.0"), "{out:#?}");
        assert!(out[1].title.contains("2.14.1"), "{out:#?}");
        assert!(
            out[1]
                .evidence
                .iter()
                .any(|e| e.contains("may not have shipped"))
        );
    }

    #[test]
    fn sentry_suspect_commits_add_to_the_score() {
        let (inc, ev, mut inputs) = story();
        inputs.incident = Some(&inc);
        inputs.event = Some(&ev);
        let plain = rank(&inputs, T0 + Duration::minutes(10));
        inputs.sentry_commits = vec!["c416".into()];
        let with = rank(&inputs, T0 + Duration::minutes(10));
        assert_eq!(with[0].pr, Some(416));
        assert!(with[0].score > plain[0].score);
        assert!(with[0].evidence.iter().any(|e| e.contains("Sentry")));
    }

    #[test]
    fn the_release_commits_sentry_lists_add_evidence_without_reordering_the_deploy() {
        let (inc, ev, mut inputs) = story();
        inputs.incident = Some(&inc);
        inputs.event = Some(&ev);
        let plain = rank(&inputs, T0 + Duration::minutes(10));
        // Sentry lists every commit of the release: each of its PRs gains the same.
        inputs.release_commits = inputs
            .changes
            .iter()
            .flat_map(|c| &c.commits)
            .map(|k| format!("{:0<12}", k.sha))
            .collect();
        // Shas shorter than 7 are no match.
        inputs.release_commits.push("c4".into());
        let with = rank(&inputs, T0 + Duration::minutes(10));
        assert_eq!(with[0].pr, plain[0].pr);
        assert!(with[0].score > plain[0].score);
        let release = ev.release.clone().unwrap();
        assert!(
            with[0]
                .evidence
                .iter()
                .any(|e| e.contains(&format!("Sentry's release {release} lists"))),
            "{:?}",
            with[0].evidence
        );
        assert!(in_release(&["abcdef1".into()], "abcdef1234"));
        assert!(!in_release(&["abc".into()], "abcdef1234"));
    }

    #[test]
    fn paths_match_by_whole_component_suffix() {
        assert!(paths_match(
            "/srv/checkout/worker/refunds.py",
            "worker/refunds.py"
        ));
        assert!(paths_match(
            "checkout/payment.js",
            "services/checkout/payment.js"
        ));
        assert!(paths_match(
            "app:///checkout/payment.js",
            "checkout/payment.js"
        ));
        assert!(paths_match("./worker/app.py", "worker/app.py"));
        assert!(!paths_match(
            "/srv/checkout/myworker/refunds.py",
            "worker/refunds.py"
        ));
        assert!(!paths_match("worker/refunds.py", "worker/refunds.pyc"));
        assert!(!paths_match("", "worker/app.py"));
    }

    #[test]
    fn frames_held_are_counted_in_words() {
        let one = ["a.py".to_string()];
        let two = ["a.py".to_string(), "b.py".to_string()];
        assert_eq!(
            holds_text(&one, 2, 3, true),
            "which holds 2 of the 3 in-app frames, the crash frame among them"
        );
        assert_eq!(
            holds_text(&one, 1, 3, false),
            "which holds 1 of the 3 in-app frames"
        );
        assert_eq!(
            holds_text(&two, 2, 2, true),
            "which hold both in-app frames"
        );
        assert_eq!(
            holds_text(&two, 3, 3, true),
            "which hold all 3 in-app frames"
        );
        assert_eq!(
            holds_text(&one, 1, 1, true),
            "which holds the only in-app frame"
        );
        assert_eq!(file_list(&two), "`a.py` and `b.py`");
        let four: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        assert_eq!(file_list(&four), "`a`, `b` and 2 more files");
    }

    #[test]
    fn gaps_read_in_minutes_hours_and_days() {
        assert_eq!(gap_text(Duration::seconds(45)), "45 s");
        assert_eq!(gap_text(Duration::seconds(125)), "2 min");
        assert_eq!(gap_text(Duration::minutes(190)), "3 h 10 min");
        assert_eq!(gap_text(Duration::hours(2)), "2 h");
        assert_eq!(gap_text(Duration::days(4)), "4 days");
    }

    #[test]
    fn outcomes_from_statuses_newest_first() {
        use DeployOutcome::*;
        assert_eq!(
            DeployOutcome::from_statuses(["success", "in_progress"]),
            Succeeded
        );
        assert_eq!(
            DeployOutcome::from_statuses(["inactive", "success"]),
            Succeeded
        );
        assert_eq!(DeployOutcome::from_statuses(["inactive"]), Unknown);
        assert_eq!(
            DeployOutcome::from_statuses(["failure", "in_progress"]),
            Failed
        );
        assert_eq!(DeployOutcome::from_statuses(["queued"]), InProgress);
        assert_eq!(DeployOutcome::from_statuses([]), Unknown);
    }
}
