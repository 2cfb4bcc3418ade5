//! GitHub at a real team's size (`flightdeck demo --scale big`): five repositories with 2,000 open
//! pull requests and 2,000 workflow runs each. The demo's own pull requests and runs (on
//! acme/checkout and acme/web, where the story plays) stay; the rest is generated from each pull
//! request's number and each run's index, deterministically, once per process (a few MB; the JSON
//! is only built for the page a request asks for).
//!
//! Generated pull requests are numbered from [`GEN_PR_BASE`], were opened over the last 60 days
//! before the story starts and never change; their reviews, mergeability and check outcomes are
//! derived from the number. Generated runs are completed, with ids below every scripted run (so
//! they list after them, newest first).

use std::sync::OnceLock;

use super::github_data::{self as data, PrSpec, ReviewSpec, RunSpec};
use super::util::mix;

/// The repositories of a Big world (the demo's two first).
pub const BIG_REPOS: [&str; 5] = [
    "acme/checkout",
    "acme/web",
    "acme/search",
    "acme/ledger",
    "acme/mobile",
];
/// Open pull requests per repository of a Big world (the demo's included).
pub const PRS_PER_REPO: usize = 2_000;
/// Workflow runs per repository of a Big world (the demo's scripted ones included).
pub const RUNS_PER_REPO: usize = 2_000;
/// Number of the first generated pull request (above every scripted one).
pub const GEN_PR_BASE: u64 = 1_000;
const GEN_RUN_BASE: u64 = 9_100_000_000;
const DAY: f64 = 86_400.0;

/// How big the demo world's GitHub is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scale {
    /// The demo's two repositories and their handful of pull requests and runs.
    #[default]
    Demo,
    /// Five repositories × 2,000 open pull requests and 2,000 workflow runs.
    Big,
}

impl Scale {
    /// The repositories the simulated GitHub knows at this scale.
    pub fn repos(self) -> &'static [&'static str] {
        match self {
            Scale::Demo => &data::REPOS,
            Scale::Big => &BIG_REPOS,
        }
    }
}

/// One repository's generated content.
struct RepoGen {
    repo: &'static str,
    /// Numbered `GEN_PR_BASE + index`.
    prs: Vec<PrSpec>,
    /// Reviews of `prs[i]`, oldest first.
    reviews: Vec<Vec<ReviewSpec>>,
    /// Newest first.
    runs: Vec<RunSpec>,
}

fn generated() -> &'static [RepoGen] {
    static GEN: OnceLock<Vec<RepoGen>> = OnceLock::new();
    GEN.get_or_init(|| {
        BIG_REPOS
            .iter()
            .enumerate()
            .map(|(i, r)| repo_gen(i, r))
            .collect()
    })
}

fn repo_gen(idx: usize, repo: &'static str) -> RepoGen {
    let demo_prs = data::PRS.iter().filter(|p| p.repo == repo).count();
    let demo_runs = data::RUNS.iter().filter(|r| r.repo == repo).count();
    let n_prs = PRS_PER_REPO - demo_prs;
    let prs: Vec<PrSpec> = (0..n_prs).map(|i| gen_pr(idx, repo, i, n_prs)).collect();
    let reviews = prs.iter().map(|p| gen_reviews(idx, p)).collect();
    let n_runs = RUNS_PER_REPO - demo_runs;
    let runs = (0..n_runs)
        .map(|j| gen_run(idx, repo, j, n_runs, &prs))
        .collect();
    RepoGen {
        repo,
        prs,
        reviews,
        runs,
    }
}

fn repo_of(repo: &str) -> Option<&'static RepoGen> {
    generated().iter().find(|g| g.repo == repo)
}

fn hash(idx: usize, n: u64, salt: u64) -> u64 {
    mix(mix(idx as u64 ^ (salt << 32)) ^ n)
}

fn leak(s: String) -> &'static str {
    // Once per process (the generated world is built once and shared by every Big world).
    Box::leak(s.into_boxed_str())
}

const AUTHORS: [&str; 7] = [
    "mara-k",
    "devon-r",
    "li-wei",
    "sam-o",
    "jpatel",
    "ana-lima",
    "dependabot[bot]",
];
const REVIEWERS: [&str; 4] = ["li-wei", "mara-k", "jpatel", "ana-lima"];
const VERBS: [&str; 8] = [
    "Fix", "Add", "Refactor", "Speed up", "Remove", "Document", "Test", "Harden",
];
const NOUNS: [&str; 10] = [
    "retry budget",
    "cache keys",
    "pagination",
    "error reporting",
    "feature flags",
    "timeouts",
    "request logging",
    "config loading",
    "auth tokens",
    "metrics labels",
];
const AREAS: [&str; 6] = ["api", "worker", "ui", "db", "ci", "sdk"];
const KINDS: [&str; 4] = ["fix", "feat", "chore", "refactor"];
const LABEL_SETS: [&[&str]; 7] = [
    &[],
    &["bug"],
    &["enhancement"],
    &["documentation"],
    &["dependencies"],
    &["bug", "release"],
    &["enhancement", "wip"],
];
const BODIES: [&str; 3] = [
    "",
    "Small, self-contained change; see the commits for details.",
    "Part of the quarterly cleanup. No behaviour change intended.",
];
const COMMITS: [&str; 4] = [
    "Merge pull request from acme/main-sync",
    "Bump version",
    "Update dependencies",
    "Tidy up CI configuration",
];

fn gen_pr(idx: usize, repo: &'static str, i: usize, count: usize) -> PrSpec {
    let number = GEN_PR_BASE + i as u64;
    let h = hash(idx, number, 1);
    let pick = |shift: u32, n: usize| ((h >> shift) as usize) % n;
    // Opened from 60 days to 4 days before the story, in number order.
    let created = (-60.0 * DAY + i as f64 * (56.0 * DAY / count as f64)).round();
    // Last activity somewhere between opening and an hour before the story.
    let frac = ((h >> 40) % 1000) as f64 / 1000.0;
    let updated = (created + frac * (-3_600.0 - created)).round();
    let author = AUTHORS[pick(0, AUTHORS.len())];
    let noun = NOUNS[pick(8, NOUNS.len())];
    let title = if author == "dependabot[bot]" {
        format!(
            "chore(deps): bump lib-{} from 1.{} to 1.{}",
            i % 97,
            i % 7,
            i % 7 + 1
        )
    } else {
        format!(
            "{} {noun} in {}",
            VERBS[pick(4, VERBS.len())],
            AREAS[pick(12, AREAS.len())]
        )
    };
    let branch = format!(
        "{}/{}-{number}",
        KINDS[pick(16, KINDS.len())],
        noun.replace(' ', "-")
    );
    let files = 1 + (h >> 20) % 30;
    PrSpec {
        repo,
        number,
        title: leak(title),
        author,
        labels: LABEL_SETS[pick(24, LABEL_SETS.len())],
        draft: pick(28, 10) == 0,
        branch: leak(branch),
        created,
        updated,
        body: BODIES[pick(32, BODIES.len())],
        size: (
            1 + (h >> 36) % 9,
            5 + (h >> 44) % 800,
            (h >> 52) % 300,
            files,
        ),
        conflicts: pick(48, 13) == 0,
        behind: pick(56, 11) == 0,
        requested: &[],
    }
}

/// 0: none; 1: approved; 2: changes requested; 3: a comment.
fn gen_reviews(idx: usize, p: &PrSpec) -> Vec<ReviewSpec> {
    let h = hash(idx, p.number, 2);
    let kind = h % 4;
    if kind == 0 {
        return Vec::new();
    }
    let user = REVIEWERS
        .iter()
        .copied()
        .cycle()
        .skip((h >> 8) as usize % REVIEWERS.len())
        .find(|u| *u != p.author)
        .unwrap_or("li-wei");
    let (state, body) = match kind {
        1 => ("APPROVED", ""),
        2 => (
            "CHANGES_REQUESTED",
            "Please add a test for the failure path.",
        ),
        _ => ("COMMENTED", "A few nits inline."),
    };
    vec![ReviewSpec {
        repo: p.repo,
        pr: p.number,
        id: 2_800_000_000 + idx as u64 * 10_000_000 + p.number * 10,
        user,
        state,
        body,
        at: (p.updated - 60.0).max(p.created),
        on_head: true,
    }]
}

fn gen_run(idx: usize, repo: &'static str, j: usize, count: usize, prs: &[PrSpec]) -> RunSpec {
    let h = hash(idx, j as u64, 3);
    // Newest first: from before the story's earliest scripted run back over 60 days.
    let created = (-10_000.0 - j as f64 * (59.0 * DAY / count as f64)).round();
    let duration = 60.0 + ((h >> 8) % 900) as f64;
    let conclusion = match h % 20 {
        0..=15 => "success",
        16 | 17 => "failure",
        18 => "cancelled",
        _ => "skipped",
    };
    let phases: &'static [(f64, &'static str, Option<&'static str>)] = Box::leak(Box::new([
        (created, "queued", None),
        (created + 5.0, "in_progress", None),
        (created + duration, "completed", Some(conclusion)),
    ]));
    let (name, file, workflow_id) = match repo {
        "acme/checkout" => ("CI", "ci.yml", 61_000_001),
        "acme/web" => ("CI", "ci.yml", 61_000_011),
        _ => ("CI", "ci.yml", 61_000_101 + idx as u64 * 10),
    };
    let pr =
        (!j.is_multiple_of(3) && !prs.is_empty()).then(|| &prs[(h >> 24) as usize % prs.len()]);
    let (event, branch, title, actor) = match pr {
        Some(p) => ("pull_request", p.branch, p.title, p.author),
        None => (
            "push",
            "main",
            COMMITS[(h >> 32) as usize % COMMITS.len()],
            AUTHORS[(h >> 40) as usize % (AUTHORS.len() - 1)],
        ),
    };
    RunSpec {
        // Job ids follow `run id % 100_000` (see `job_id`): 10,001 and up, 2,000 per
        // repository, clear of the scripted and dispatched runs' and of each other's.
        id: GEN_RUN_BASE
            + idx as u64 * 10_000_000
            + 10_000
            + idx as u64 * 2_000
            + (count - j) as u64,
        repo,
        name,
        file,
        workflow_id,
        event,
        branch,
        title,
        run_number: 1_000 + (count - j) as u64,
        actor,
        pr: pr.map(|p| p.number),
        phases,
    }
}

/// Whether `p` is a generated pull request.
pub fn is_generated(p: &PrSpec) -> bool {
    p.number >= GEN_PR_BASE
}

/// Generated open pull requests of `repo` (none at the demo's scale), in number order.
pub fn prs(scale: Scale, repo: &str) -> &'static [PrSpec] {
    match (scale, repo_of(repo)) {
        (Scale::Big, Some(g)) => &g.prs,
        _ => &[],
    }
}

/// Reviews of a generated pull request, oldest first (empty for any other).
pub fn reviews(p: &PrSpec) -> &'static [ReviewSpec] {
    if !is_generated(p) {
        return &[];
    }
    repo_of(p.repo)
        .and_then(|g| g.reviews.get((p.number - GEN_PR_BASE) as usize))
        .map_or(&[], Vec::as_slice)
}

/// Generated workflow runs of `repo` (none at the demo's scale), newest first.
pub fn runs(scale: Scale, repo: &str) -> &'static [RunSpec] {
    match (scale, repo_of(repo)) {
        (Scale::Big, Some(g)) => &g.runs,
        _ => &[],
    }
}

/// Generated run `id` of `repo`.
pub fn find_run(scale: Scale, repo: &str, id: u64) -> Option<RunSpec> {
    let runs = runs(scale, repo);
    let first = runs.first()?.id;
    let at = first.checked_sub(id)?;
    runs.get(usize::try_from(at).ok()?).copied()
}

/// The generated run of `repo` whose jobs carry `job_id`.
pub fn run_of_job(scale: Scale, repo: &str, job_id: u64) -> Option<RunSpec> {
    let residue = job_id.checked_sub(33_000_000_000)? / 1_000;
    runs(scale, repo)
        .iter()
        .find(|r| r.id % 100_000 == residue)
        .copied()
}

/// Files of a generated pull request: `changed_files` distinct names from the demo's pool, all
/// modified (their lines split as the pull request's size says).
pub fn file_names(p: &PrSpec, pool: &[&'static str]) -> Vec<&'static str> {
    if pool.is_empty() {
        return Vec::new();
    }
    let (_, _, _, changed) = p.size;
    let start = (hash(0, p.number, 5) % pool.len() as u64) as usize;
    (0..(changed as usize).min(pool.len()))
        .map(|k| pool[(start + 7 * k) % pool.len()])
        .collect()
}

/// Check runs on a generated pull request's head: (name, status, conclusion, details URL);
/// empty for a head without checks.
pub fn checks(p: &PrSpec) -> Vec<(&'static str, &'static str, Option<&'static str>, String)> {
    let h = hash(0, p.number, 4) ^ super::util::fnv64(p.repo.as_bytes());
    let (status, conclusion) = match h % 10 {
        0..=5 => ("completed", Some("success")),
        6 => ("completed", Some("failure")),
        7 => ("completed", Some("cancelled")),
        8 => ("in_progress", None),
        _ => return Vec::new(),
    };
    let run = 9_000_000_000 + (h >> 8) % 100_000_000;
    ["build", "test"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let (s, c) = if k == 0 && status == "completed" {
                ("completed", Some("success"))
            } else {
                (status, conclusion)
            };
            let url = format!(
                "https://github.com/{}/actions/runs/{run}/job/{}",
                p.repo,
                run * 10 + k as u64
            );
            (*name, s, c, url)
        })
        .collect()
}

/// The repositories' generated content in memory, bytes (approximate; for tests and reports).
pub fn approx_bytes() -> usize {
    generated()
        .iter()
        .map(|g| {
            let prs: usize = g
                .prs
                .iter()
                .map(|p| std::mem::size_of::<PrSpec>() + p.title.len() + p.branch.len())
                .sum();
            let reviews: usize = g
                .reviews
                .iter()
                .map(|r| {
                    std::mem::size_of::<Vec<ReviewSpec>>()
                        + r.len() * std::mem::size_of::<ReviewSpec>()
                })
                .sum();
            let runs = g.runs.len() * (std::mem::size_of::<RunSpec>() + 3 * 32);
            prs + reviews + runs
        })
        .sum()
}
