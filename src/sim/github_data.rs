//! The demo's GitHub content (pull requests with their reviews, files and legacy commit statuses;
//! workflow runs) and its JSON in the REST API's shapes. Jobs, check runs and the operator's
//! actions on runs live in [`super::github_runs`].
//! API links (`url`, `jobs_url`, ...) point at the simulator; `html_url`s at github.com.

use serde_json::{Value, json};

use super::github_scale::Scale;
use super::scenario::story;
use super::util::{hex_id, iso, pick};

/// Repositories the simulated GitHub knows.
pub const REPOS: [&str; 2] = ["acme/checkout", "acme/web"];

/// The user the anonymous demo acts as (`GET /user`).
pub const OPERATOR: &str = "demo-operator";

const PEOPLE: [(&str, u64, &str); 12] = [
    ("mara-k", 5_120_331, "User"),
    ("devon-r", 5_120_332, "User"),
    ("li-wei", 5_120_333, "User"),
    ("sam-o", 5_120_334, "User"),
    ("dependabot[bot]", 49_699_333, "Bot"),
    ("jpatel", 5_120_335, "User"),
    ("ana-lima", 5_120_336, "User"),
    ("release-bot", 5_120_337, "Bot"),
    ("acme", 5_120_000, "Organization"),
    ("github", 9_919, "Organization"),
    (OPERATOR, 5_120_999, "User"),
    ("github-actions[bot]", 41_898_282, "Bot"),
];

const LABELS: [(&str, u64, &str, &str, bool); 7] = [
    ("bug", 6_100_001, "d73a4a", "Something isn't working", true),
    (
        "enhancement",
        6_100_002,
        "a2eeef",
        "New feature or request",
        true,
    ),
    (
        "documentation",
        6_100_003,
        "0075ca",
        "Improvements or additions to documentation",
        true,
    ),
    (
        "release",
        6_100_004,
        "5319e7",
        "Ships in the next release",
        false,
    ),
    (
        "dependencies",
        6_100_005,
        "0366d6",
        "Pull requests that update a dependency file",
        false,
    ),
    ("wip", 6_100_006, "fbca04", "Work in progress", false),
    (
        "hotfix",
        6_100_007,
        "b60205",
        "Urgent production fix",
        false,
    ),
];

/// One open pull request of the story.
#[derive(Debug)]
pub struct PrSpec {
    pub repo: &'static str,
    pub number: u64,
    pub title: &'static str,
    pub author: &'static str,
    pub labels: &'static [&'static str],
    pub draft: bool,
    pub branch: &'static str,
    /// Scenario seconds when it was opened (negative: before the demo starts).
    pub created: f64,
    pub updated: f64,
    pub body: &'static str,
    /// (commits, additions, deletions, changed_files); additions, deletions and changed files
    /// agree with [`pr_files`].
    pub size: (u64, u64, u64, u64),
    /// Conflicts with the base branch (`mergeable: false`, `dirty`).
    pub conflicts: bool,
    /// Behind the base branch, which must be up to date (`behind`).
    pub behind: bool,
    /// Requested reviewers, each until the scenario second they review.
    pub requested: &'static [(&'static str, f64)],
}

pub const PRS: [PrSpec; 9] = [
    PrSpec {
        repo: "acme/checkout",
        number: 412,
        title: "Retry payment capture on gateway timeout",
        author: "mara-k",
        labels: &["bug", "release"],
        draft: false,
        branch: "fix/capture-retry",
        created: -3.0 * 86_400.0,
        updated: -5_400.0,
        body: "Retries `capture()` twice with jitter when the gateway times out.\n\nFixes #398.",
        size: (3, 84, 12, 4),
        conflicts: false,
        behind: false,
        requested: &[],
    },
    PrSpec {
        repo: "acme/checkout",
        number: 415,
        title: "feat: split payment.js into provider adapters",
        author: "devon-r",
        labels: &["enhancement"],
        draft: false,
        branch: "feat/provider-adapters",
        created: -2.0 * 86_400.0,
        updated: -200.0,
        body: "Moves Stripe and Adyen specifics behind a `PaymentProvider` interface.",
        size: (7, 612, 455, 14),
        conflicts: false,
        behind: false,
        requested: &[],
    },
    PrSpec {
        repo: "acme/checkout",
        number: 418,
        title: "\u{1b}[31mfix\u{1b}[0m: colour bleed in receipt emails",
        author: "li-wei",
        labels: &["bug"],
        draft: false,
        branch: "fix/colour-bleed",
        created: -86_400.0,
        updated: -2_700.0,
        body: "Receipt emails inherited the terminal colour codes from the template renderer.",
        size: (1, 9, 3, 2),
        conflicts: false,
        behind: false,
        requested: &[],
    },
    PrSpec {
        repo: "acme/checkout",
        number: 419,
        title: "WIP: migrate cart totals to integer cents",
        author: "sam-o",
        labels: &["wip"],
        draft: true,
        branch: "wip/integer-cents",
        created: -20_000.0,
        updated: -7_200.0,
        body: "",
        size: (4, 230, 198, 9),
        conflicts: false,
        behind: false,
        requested: &[],
    },
    PrSpec {
        repo: "acme/checkout",
        number: 421,
        title: "chore(deps): bump axios from 1.7.2 to 1.7.9",
        author: "dependabot[bot]",
        labels: &["dependencies"],
        draft: false,
        branch: "dependabot/npm_and_yarn/axios-1.7.9",
        created: -9_000.0,
        updated: -9_000.0,
        body: "Bumps [axios](https://github.com/axios/axios) from 1.7.2 to 1.7.9.",
        size: (1, 5, 5, 2),
        conflicts: true,
        behind: false,
        requested: &[],
    },
    PrSpec {
        repo: "acme/checkout",
        number: 422,
        title: "fix(payment): guard against undefined amount in chargeCard",
        author: "mara-k",
        labels: &["bug", "hotfix"],
        draft: false,
        branch: "hotfix/guard-undefined-amount",
        created: 140.0,
        updated: 140.0,
        body: "Sentry CHECKOUT-3F: `order.payment` is undefined for saved-card checkouts.\n\nAdds a guard and a regression test.",
        size: (2, 31, 2, 2),
        conflicts: false,
        behind: false,
        requested: &[("devon-r", 165.0)],
    },
    PrSpec {
        repo: "acme/web",
        number: 88,
        title: "Checkout button loses focus ring on Safari",
        author: "jpatel",
        labels: &["bug"],
        draft: false,
        branch: "fix/safari-focus",
        created: -30_000.0,
        updated: 20.0,
        body: "`:focus-visible` is not applied after a programmatic focus on Safari 17.",
        size: (2, 18, 4, 3),
        conflicts: false,
        behind: true,
        requested: &[],
    },
    PrSpec {
        repo: "acme/web",
        number: 90,
        title: "Release 2026.11.23",
        author: "release-bot",
        labels: &["release"],
        draft: false,
        branch: "release/2026.11.23",
        created: -4_000.0,
        updated: -3_600.0,
        body: "Automated release PR.\n\n- #84 new header\n- #86 lazy images",
        size: (12, 540, 210, 31),
        conflicts: false,
        behind: false,
        requested: &[],
    },
    PrSpec {
        repo: "acme/web",
        number: 91,
        title: "docs: explain the canary dashboard",
        author: "ana-lima",
        labels: &["documentation"],
        draft: true,
        branch: "docs/canary-dashboard",
        created: -1_800.0,
        updated: -1_700.0,
        body: "Draft; screenshots to follow.",
        size: (1, 75, 0, 1),
        conflicts: false,
        behind: false,
        requested: &[],
    },
];

/// One workflow run; `phases` is (scenario second, status, conclusion), the first is creation
/// (for a dispatched run: seconds after the dispatch).
#[derive(Clone, Copy, Debug)]
pub struct RunSpec {
    pub id: u64,
    pub repo: &'static str,
    pub name: &'static str,
    pub file: &'static str,
    pub workflow_id: u64,
    pub event: &'static str,
    pub branch: &'static str,
    pub title: &'static str,
    pub run_number: u64,
    pub actor: &'static str,
    pub pr: Option<u64>,
    pub phases: &'static [(f64, &'static str, Option<&'static str>)],
}

const DONE_OK: Option<&str> = Some("success");

pub const RUNS: [RunSpec; 12] = [
    RunSpec {
        id: 9_200_000_093,
        repo: "acme/checkout",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_001,
        event: "pull_request",
        branch: "dependabot/npm_and_yarn/axios-1.7.9",
        title: "chore(deps): bump axios from 1.7.2 to 1.7.9",
        run_number: 1279,
        actor: "dependabot[bot]",
        pr: Some(421),
        phases: &[
            (-8_990.0, "queued", None),
            (-8_980.0, "in_progress", None),
            (-8_700.0, "completed", DONE_OK),
        ],
    },
    RunSpec {
        id: 9_200_000_094,
        repo: "acme/checkout",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_001,
        event: "pull_request",
        branch: "wip/integer-cents",
        title: "WIP: migrate cart totals to integer cents",
        run_number: 1281,
        actor: "sam-o",
        pr: Some(419),
        phases: &[
            (-7_300.0, "in_progress", None),
            (-7_200.0, "completed", Some("cancelled")),
        ],
    },
    RunSpec {
        id: 9_200_000_095,
        repo: "acme/checkout",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_001,
        event: "pull_request",
        branch: "fix/capture-retry",
        title: "Retry payment capture on gateway timeout",
        run_number: 1282,
        actor: "mara-k",
        pr: Some(412),
        phases: &[
            (-5_700.0, "in_progress", None),
            (-5_420.0, "completed", DONE_OK),
        ],
    },
    RunSpec {
        id: 9_200_000_101,
        repo: "acme/checkout",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_001,
        event: "push",
        branch: "main",
        title: "Release checkout 2.14.0",
        run_number: 1287,
        actor: "mara-k",
        pr: None,
        phases: &[
            (-1_500.0, "in_progress", None),
            (-1_200.0, "completed", DONE_OK),
        ],
    },
    RunSpec {
        id: 9_200_000_102,
        repo: "acme/checkout",
        name: "CodeQL",
        file: "codeql.yml",
        workflow_id: 61_000_002,
        event: "push",
        branch: "main",
        title: "Release checkout 2.14.0",
        run_number: 640,
        actor: "mara-k",
        pr: None,
        phases: &[
            (-1_500.0, "in_progress", None),
            (-900.0, "completed", DONE_OK),
        ],
    },
    RunSpec {
        id: 9_200_000_103,
        repo: "acme/checkout",
        name: "Deploy",
        file: "deploy.yml",
        workflow_id: 61_000_003,
        event: "push",
        branch: "main",
        title: "Release checkout 2.14.0",
        run_number: 412,
        actor: "mara-k",
        pr: None,
        phases: &[(-1_250.0, "in_progress", None), (-1_150.0, "waiting", None)],
    },
    RunSpec {
        id: 9_200_000_104,
        repo: "acme/checkout",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_001,
        event: "pull_request",
        branch: "fix/colour-bleed",
        title: "fix: colour bleed in receipt emails",
        run_number: 1284,
        actor: "li-wei",
        pr: Some(418),
        phases: &[
            (-3_000.0, "in_progress", None),
            (-2_700.0, "completed", Some("failure")),
        ],
    },
    RunSpec {
        id: 9_200_000_105,
        repo: "acme/checkout",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_001,
        event: "pull_request",
        branch: "feat/provider-adapters",
        title: "feat: split payment.js into provider adapters",
        run_number: 1288,
        actor: "devon-r",
        pr: Some(415),
        phases: &[(-200.0, "in_progress", None), (60.0, "completed", DONE_OK)],
    },
    RunSpec {
        id: 9_200_000_106,
        repo: "acme/checkout",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_001,
        event: "pull_request",
        branch: "hotfix/guard-undefined-amount",
        title: "fix(payment): guard against undefined amount in chargeCard",
        run_number: 1289,
        actor: "mara-k",
        pr: Some(422),
        phases: &[
            (140.0, "queued", None),
            (146.0, "in_progress", None),
            (176.0, "completed", DONE_OK),
        ],
    },
    RunSpec {
        id: 9_200_000_201,
        repo: "acme/web",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_011,
        event: "push",
        branch: "main",
        title: "Release 2026.11.23",
        run_number: 3310,
        actor: "release-bot",
        pr: None,
        phases: &[
            (-2_400.0, "in_progress", None),
            (-2_100.0, "completed", DONE_OK),
        ],
    },
    RunSpec {
        id: 9_200_000_202,
        repo: "acme/web",
        name: "Deploy",
        file: "deploy.yml",
        workflow_id: 61_000_013,
        event: "push",
        branch: "main",
        title: "Release 2026.11.23",
        run_number: 977,
        actor: "release-bot",
        pr: None,
        phases: &[(-600.0, "in_progress", None), (125.0, "completed", DONE_OK)],
    },
    RunSpec {
        id: 9_200_000_203,
        repo: "acme/web",
        name: "CI",
        file: "ci.yml",
        workflow_id: 61_000_011,
        event: "pull_request",
        branch: "fix/safari-focus",
        title: "Checkout button loses focus ring on Safari",
        run_number: 3311,
        actor: "jpatel",
        pr: Some(88),
        phases: &[
            (20.0, "queued", None),
            (25.0, "in_progress", None),
            (70.0, "completed", DONE_OK),
        ],
    },
];

/// An input of a `workflow_dispatch` trigger.
#[derive(Debug)]
pub struct DispatchInput {
    pub name: &'static str,
    pub required: bool,
}

/// A workflow file of a repository.
#[derive(Debug)]
pub struct Workflow {
    pub repo: &'static str,
    pub id: u64,
    pub name: &'static str,
    pub file: &'static str,
    /// The inputs of its `workflow_dispatch` trigger; `None` when it has none.
    pub dispatch: Option<&'static [DispatchInput]>,
    /// `run_number` of its latest run before the demo.
    pub runs_before: u64,
}

/// `on: workflow_dispatch: inputs:` of `rollback.yml`.
const ROLLBACK_INPUTS: [DispatchInput; 3] = [
    DispatchInput {
        name: "service",
        required: true,
    },
    DispatchInput {
        name: "to",
        required: true,
    },
    DispatchInput {
        name: "environment",
        required: false,
    },
];

pub const WORKFLOWS: [Workflow; 7] = [
    Workflow {
        repo: "acme/checkout",
        id: 61_000_001,
        name: "CI",
        file: "ci.yml",
        dispatch: None,
        runs_before: 1289,
    },
    Workflow {
        repo: "acme/checkout",
        id: 61_000_002,
        name: "CodeQL",
        file: "codeql.yml",
        dispatch: None,
        runs_before: 640,
    },
    Workflow {
        repo: "acme/checkout",
        id: 61_000_003,
        name: "Deploy",
        file: "deploy.yml",
        dispatch: None,
        runs_before: 412,
    },
    Workflow {
        repo: "acme/checkout",
        id: 61_000_004,
        name: "Rollback",
        file: "rollback.yml",
        dispatch: Some(&ROLLBACK_INPUTS),
        runs_before: 37,
    },
    Workflow {
        repo: "acme/web",
        id: 61_000_011,
        name: "CI",
        file: "ci.yml",
        dispatch: None,
        runs_before: 3311,
    },
    Workflow {
        repo: "acme/web",
        id: 61_000_013,
        name: "Deploy",
        file: "deploy.yml",
        dispatch: None,
        runs_before: 977,
    },
    Workflow {
        repo: "acme/web",
        id: 61_000_014,
        name: "Rollback",
        file: "rollback.yml",
        dispatch: Some(&ROLLBACK_INPUTS),
        runs_before: 12,
    },
];

/// The workflow of `repo` named by its file name (`rollback.yml`) or its id.
pub fn workflow(repo: &str, id_or_file: &str) -> Option<&'static Workflow> {
    WORKFLOWS
        .iter()
        .find(|w| w.repo == repo && (w.file == id_or_file || w.id.to_string() == id_or_file))
}

/// A dispatched run's phases, in seconds after the dispatch: queued, running, done.
pub const DISPATCHED_PHASES: [(f64, &str, Option<&str>); 3] = [
    (0.0, "queued", None),
    (1.0, "in_progress", None),
    (6.0, "completed", DONE_OK),
];

/// The branch a `ref` of a workflow dispatch names (`main` or `refs/heads/main`; tags and SHAs are
/// not accepted).
pub fn dispatch_branch(repo: &str, reference: &str) -> Option<&'static str> {
    let name = reference.strip_prefix("refs/heads/").unwrap_or(reference);
    branches(repo).into_iter().find(|b| *b == name)
}

/// The message of `branch`'s head commit in `repo` (the title of a push run on it).
pub fn head_message(repo: &str, branch: &str) -> Option<&'static str> {
    RUNS.iter()
        .find(|r| r.repo == repo && r.branch == branch && r.event == "push")
        .map(|r| r.title)
}

/// Commit SHA of `branch` in `repo`.
pub fn sha(repo: &str, branch: &str) -> String {
    hex_id(&format!("sha/{repo}/{branch}"), 40)
}

pub fn repo_id(repo: &str) -> u64 {
    match repo {
        "acme/checkout" => 718_200_101,
        "acme/search" => 718_200_103,
        "acme/ledger" => 718_200_104,
        "acme/mobile" => 718_200_105,
        _ => 718_200_102,
    }
}

/// A user object (`simple-user`).
pub fn user(api: &str, login: &str) -> Value {
    let (id, kind) = PEOPLE
        .iter()
        .find(|(l, _, _)| *l == login)
        .map_or((5_000_000, "User"), |(_, id, k)| (*id, *k));
    let u = format!("{api}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_kgDO{}", hex_id(login, 8)),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": u,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{u}/followers"),
        "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"),
        "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"),
        "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false
    })
}

/// `<key>_url` members of a repository object, relative to its API URL (GitHub's order).
const REPO_LINKS: [(&str, &str); 36] = [
    ("forks", "/forks"),
    ("keys", "/keys{/key_id}"),
    ("collaborators", "/collaborators{/collaborator}"),
    ("teams", "/teams"),
    ("hooks", "/hooks"),
    ("issue_events", "/issues/events{/number}"),
    ("events", "/events"),
    ("assignees", "/assignees{/user}"),
    ("branches", "/branches{/branch}"),
    ("tags", "/tags"),
    ("blobs", "/git/blobs{/sha}"),
    ("git_tags", "/git/tags{/sha}"),
    ("git_refs", "/git/refs{/sha}"),
    ("trees", "/git/trees{/sha}"),
    ("statuses", "/statuses/{sha}"),
    ("languages", "/languages"),
    ("stargazers", "/stargazers"),
    ("contributors", "/contributors"),
    ("subscribers", "/subscribers"),
    ("subscription", "/subscription"),
    ("commits", "/commits{/sha}"),
    ("git_commits", "/git/commits{/sha}"),
    ("comments", "/comments{/number}"),
    ("issue_comment", "/issues/comments{/number}"),
    ("contents", "/contents/{+path}"),
    ("compare", "/compare/{base}...{head}"),
    ("merges", "/merges"),
    ("archive", "/{archive_format}{/ref}"),
    ("downloads", "/downloads"),
    ("issues", "/issues{/number}"),
    ("pulls", "/pulls{/number}"),
    ("milestones", "/milestones{/number}"),
    ("notifications", "/notifications{?since,all,participating}"),
    ("labels", "/labels{/name}"),
    ("releases", "/releases{/id}"),
    ("deployments", "/deployments"),
];

/// A repository object; `full` adds the counters and dates of a `repository` (vs the
/// `minimal-repository` of workflow runs).
pub fn repo_json(api: &str, full_name: &str, full: bool) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or(("acme", full_name));
    let u = format!("{api}/repos/{full_name}");
    let mut r = json!({
        "id": repo_id(full_name),
        "node_id": format!("R_kgDO{}", hex_id(full_name, 8)),
        "name": name,
        "full_name": full_name,
        "private": true,
        "owner": user(api, owner),
        "html_url": format!("https://github.com/{full_name}"),
        "description": format!("The {name} service"),
        "fork": false,
        "url": u
    });
    if let Some(obj) = r.as_object_mut() {
        for (key, suffix) in REPO_LINKS {
            obj.insert(format!("{key}_url"), Value::from(format!("{u}{suffix}")));
        }
    }
    if full && let Some(obj) = r.as_object_mut() {
        let open = PRS.iter().filter(|p| p.repo == full_name).count();
        let extra = json!({
            "created_at": "2021-03-02T10:00:00Z",
            "updated_at": iso(-86_400.0),
            "pushed_at": iso(-1_500.0),
            "git_url": format!("git://github.com/{full_name}.git"),
            "ssh_url": format!("git@github.com:{full_name}.git"),
            "clone_url": format!("https://github.com/{full_name}.git"),
            "svn_url": format!("https://github.com/{full_name}"),
            "homepage": null,
            "size": 20_480,
            "stargazers_count": 12,
            "watchers_count": 12,
            "language": if name == "web" { "TypeScript" } else { "JavaScript" },
            "has_issues": true,
            "has_projects": false,
            "has_downloads": true,
            "has_wiki": false,
            "has_pages": false,
            "has_discussions": false,
            "forks_count": 0,
            "mirror_url": null,
            "archived": false,
            "disabled": false,
            "open_issues_count": open,
            "license": null,
            "allow_forking": false,
            "is_template": false,
            "web_commit_signoff_required": false,
            "topics": [],
            "visibility": "private",
            "forks": 0,
            "open_issues": open,
            "watchers": 12,
            "default_branch": "main"
        });
        if let Some(e) = extra.as_object() {
            obj.extend(e.clone());
        }
    }
    r
}

fn label_json(api: &str, repo: &str, name: &str) -> Value {
    let (id, color, description, default) = LABELS
        .iter()
        .find(|l| l.0 == name)
        .map_or((6_100_000, "ededed", "", false), |l| (l.1, l.2, l.3, l.4));
    json!({
        "id": id,
        "node_id": format!("LA_kwDO{}", hex_id(name, 8)),
        "url": format!("{api}/repos/{repo}/labels/{name}"),
        "name": name,
        "color": color,
        "default": default,
        "description": description
    })
}

fn branch_json(api: &str, repo: &str, branch: &str) -> Value {
    let owner = repo.split('/').next().unwrap_or("acme");
    json!({
        "label": format!("{owner}:{branch}"),
        "ref": branch,
        "sha": sha(repo, branch),
        "user": user(api, owner),
        "repo": repo_json(api, repo, true)
    })
}

pub fn pr_id(p: &PrSpec) -> u64 {
    2_300_000_000 + repo_id(p.repo) % 1000 * 10_000 + p.number
}

/// Pull requests of `repo` that exist at `t` (the generated ones too at [`Scale::Big`]), newest
/// first.
pub fn open_prs(scale: Scale, repo: &str, t: f64) -> Vec<&'static PrSpec> {
    let t = story(t);
    let mut v: Vec<_> = PRS
        .iter()
        .chain(super::github_scale::prs(scale, repo))
        .filter(|p| p.repo == repo && p.created <= t)
        .collect();
    v.sort_by(|a, b| b.created.total_cmp(&a.created));
    v
}

/// A pull request's page on github.com (REST `html_url`, GraphQL `url`).
pub fn pr_html_url(p: &PrSpec) -> String {
    format!("https://github.com/{}/pull/{}", p.repo, p.number)
}

/// Sorts pull requests by last activity, newest first (`sort=updated` in REST, `orderBy:
/// {field: UPDATED_AT, direction: DESC}` in GraphQL); equal times by number, highest first.
pub fn sort_by_updated(prs: &mut [&PrSpec]) {
    prs.sort_by(|a, b| {
        b.updated
            .total_cmp(&a.updated)
            .then(b.number.cmp(&a.number))
    });
}

/// Mergeability of a pull request (`GET /pulls/{n}` only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Merge {
    /// `null` while GitHub computes it.
    pub mergeable: Option<bool>,
    pub state: &'static str,
}

/// Requested reviewers of `p` at `t` (a reviewer leaves the list on reviewing).
fn requested(p: &PrSpec, t: f64) -> impl Iterator<Item = &'static str> {
    let t = story(t);
    p.requested
        .iter()
        .filter(move |(_, until)| *until > t)
        .map(|(login, _)| *login)
}

/// A pull request at `t`; `detail` adds the members of `GET /pulls/{n}`.
pub fn pr_json(api: &str, p: &PrSpec, t: f64, detail: Option<Merge>) -> Value {
    let repo = p.repo;
    let n = p.number;
    let u = format!("{api}/repos/{repo}/pulls/{n}");
    let issue = format!("{api}/repos/{repo}/issues/{n}");
    let html = pr_html_url(p);
    let head_sha = sha(repo, p.branch);
    let statuses = format!("{api}/repos/{repo}/statuses/{head_sha}");
    let labels: Vec<Value> = p.labels.iter().map(|l| label_json(api, repo, l)).collect();
    let association = if p.author.ends_with("[bot]") || p.author == "release-bot" {
        "NONE"
    } else {
        "MEMBER"
    };
    let links = json!({
        "self": {"href": u},
        "html": {"href": html},
        "issue": {"href": issue},
        "comments": {"href": format!("{issue}/comments")},
        "review_comments": {"href": format!("{u}/comments")},
        "review_comment": {"href": format!("{api}/repos/{repo}/pulls/comments{{/number}}")},
        "commits": {"href": format!("{u}/commits")},
        "statuses": {"href": statuses}
    });
    let mut v = json!({
        "url": u,
        "id": pr_id(p),
        "node_id": format!("PR_kwDO{}", hex_id(&u, 10)),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": issue,
        "commits_url": format!("{u}/commits"),
        "review_comments_url": format!("{u}/comments"),
        "review_comment_url": format!("{api}/repos/{repo}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue}/comments"),
        "statuses_url": statuses,
        "number": n,
        "state": "open",
        "locked": false,
        "title": p.title,
        "user": user(api, p.author),
        "body": if p.body.is_empty() { Value::Null } else { Value::from(p.body) },
        "labels": labels,
        "milestone": null,
        "active_lock_reason": null,
        "created_at": iso(p.created),
        "updated_at": iso(p.updated),
        "closed_at": null,
        "merged_at": null,
        "merge_commit_sha": hex_id(&format!("merge/{repo}/{n}"), 40),
        "assignee": null,
        "assignees": [],
        "requested_reviewers": requested(p, t).map(|l| user(api, l)).collect::<Vec<_>>(),
        "requested_teams": [],
        "head": branch_json(api, repo, p.branch),
        "base": branch_json(api, repo, "main"),
        "_links": links,
        "author_association": association,
        "auto_merge": null,
        "draft": p.draft
    });
    if let Some(merge) = detail
        && let Some(obj) = v.as_object_mut()
    {
        let (commits, additions, deletions, changed) = p.size;
        let extra = json!({
            "merged": false,
            "mergeable": merge.mergeable,
            "rebaseable": merge.mergeable,
            "mergeable_state": merge.state,
            "merged_by": null,
            "comments": n % 4,
            "review_comments": n % 3,
            "maintainer_can_modify": false,
            "commits": commits,
            "additions": additions,
            "deletions": deletions,
            "changed_files": changed
        });
        if let Some(e) = extra.as_object() {
            obj.extend(e.clone());
        }
    }
    v
}

/// Workflow runs of `repo` that exist at `t`, newest first.
pub fn runs(repo: &str, t: f64) -> Vec<&'static RunSpec> {
    let t = story(t);
    let mut v: Vec<_> = RUNS
        .iter()
        .filter(|r| r.repo == repo && r.phases.first().is_some_and(|p| p.0 <= t))
        .collect();
    v.sort_by_key(|r| std::cmp::Reverse(r.id));
    v
}

/// `GET /user`.
pub fn operator_json(api: &str) -> Value {
    let mut u = user(api, OPERATOR);
    if let Some(obj) = u.as_object_mut() {
        obj.insert("name".into(), Value::from("Demo Operator"));
        obj.insert("company".into(), Value::from("Acme"));
        obj.insert("blog".into(), Value::from(""));
        obj.insert("location".into(), Value::Null);
        obj.insert("email".into(), Value::Null);
        obj.insert("hireable".into(), Value::Null);
        obj.insert("bio".into(), Value::Null);
        obj.insert("twitter_username".into(), Value::Null);
        obj.insert("public_repos".into(), Value::from(0));
        obj.insert("public_gists".into(), Value::from(0));
        obj.insert("followers".into(), Value::from(0));
        obj.insert("following".into(), Value::from(0));
        obj.insert("created_at".into(), Value::from("2020-01-01T00:00:00Z"));
        obj.insert("updated_at".into(), Value::from(iso(-86_400.0)));
    }
    u
}

/// One submitted pull-request review.
pub struct ReviewSpec {
    pub repo: &'static str,
    pub pr: u64,
    pub id: u64,
    pub user: &'static str,
    /// APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED.
    pub state: &'static str,
    pub body: &'static str,
    /// Scenario second of submission.
    pub at: f64,
    /// Reviewed the current head commit (else an earlier commit of the branch).
    pub on_head: bool,
}

/// Reviews, chronological per pull request. #412 is approved by two; on #418 mara-k first
/// requested changes, then approved (devon-r's early approval was dismissed); #415 has changes
/// requested; #422 is approved at t = 165; #419, #421 and #91 have none.
pub const REVIEWS: [ReviewSpec; 12] = [
    ReviewSpec {
        repo: "acme/checkout",
        pr: 412,
        id: 2_745_100_001,
        user: "sam-o",
        state: "COMMENTED",
        body: "Could we cap the jitter at 250 ms? The gateway rate-limits bursts.",
        at: -7_000.0,
        on_head: false,
    },
    ReviewSpec {
        repo: "acme/checkout",
        pr: 412,
        id: 2_745_100_002,
        user: "devon-r",
        state: "APPROVED",
        body: "",
        at: -5_300.0,
        on_head: true,
    },
    ReviewSpec {
        repo: "acme/checkout",
        pr: 412,
        id: 2_745_100_003,
        user: "li-wei",
        state: "APPROVED",
        body: "LGTM once the changelog entry lands.",
        at: -5_000.0,
        on_head: true,
    },
    ReviewSpec {
        repo: "acme/checkout",
        pr: 415,
        id: 2_745_100_011,
        user: "li-wei",
        state: "COMMENTED",
        body: "Nice split. Left a few nits on naming.",
        at: -90_000.0,
        on_head: false,
    },
    ReviewSpec {
        repo: "acme/checkout",
        pr: 415,
        id: 2_745_100_012,
        user: "mara-k",
        state: "CHANGES_REQUESTED",
        body: "The Adyen adapter swallows refusal reasons; please surface them before we merge.",
        at: -3_600.0,
        on_head: true,
    },
    ReviewSpec {
        repo: "acme/checkout",
        pr: 418,
        id: 2_745_100_021,
        user: "devon-r",
        state: "DISMISSED",
        body: "",
        at: -80_000.0,
        on_head: false,
    },
    ReviewSpec {
        repo: "acme/checkout",
        pr: 418,
        id: 2_745_100_022,
        user: "mara-k",
        state: "CHANGES_REQUESTED",
        body: "Please add a test that renders a receipt from a coloured template.",
        at: -70_000.0,
        on_head: false,
    },
    ReviewSpec {
        repo: "acme/checkout",
        pr: 418,
        id: 2_745_100_023,
        user: "mara-k",
        state: "APPROVED",
        body: "Thanks, the test covers it.",
        at: -2_900.0,
        on_head: true,
    },
    ReviewSpec {
        repo: "acme/checkout",
        pr: 422,
        id: 2_745_100_031,
        user: "devon-r",
        state: "APPROVED",
        body: "Guard and regression test look right. Ship it.",
        at: 165.0,
        on_head: true,
    },
    ReviewSpec {
        repo: "acme/web",
        pr: 88,
        id: 2_745_100_041,
        user: "ana-lima",
        state: "COMMENTED",
        body: "Does this also cover the mobile drawer?",
        at: -20_000.0,
        on_head: false,
    },
    ReviewSpec {
        repo: "acme/web",
        pr: 90,
        id: 2_745_100_051,
        user: "jpatel",
        state: "APPROVED",
        body: "Release notes look right.",
        at: -3_500.0,
        on_head: true,
    },
    ReviewSpec {
        repo: "acme/web",
        pr: 90,
        id: 2_745_100_052,
        user: "ana-lima",
        state: "COMMENTED",
        body: "Ship it once the staging canary is green.",
        at: -3_400.0,
        on_head: true,
    },
];

/// Reviews of `p` submitted by `t`, oldest first.
pub fn reviews(p: &PrSpec, t: f64) -> Vec<&'static ReviewSpec> {
    let t = story(t);
    REVIEWS
        .iter()
        .chain(super::github_scale::reviews(p))
        .filter(|r| r.repo == p.repo && r.pr == p.number && r.at <= t)
        .collect()
}

/// The latest APPROVED / CHANGES_REQUESTED per reviewer decides; `None` when no one decided.
pub fn review_decision(p: &PrSpec, t: f64) -> Option<&'static str> {
    let mut latest: Vec<(&str, &str)> = Vec::new();
    for r in reviews(p, t) {
        let state = match r.state {
            "APPROVED" | "CHANGES_REQUESTED" => r.state,
            "DISMISSED" => "",
            _ => continue,
        };
        match latest.iter_mut().find(|(u, _)| *u == r.user) {
            Some(e) => e.1 = state,
            None => latest.push((r.user, state)),
        }
    }
    if latest.iter().any(|(_, s)| *s == "CHANGES_REQUESTED") {
        Some("CHANGES_REQUESTED")
    } else if latest.iter().any(|(_, s)| *s == "APPROVED") {
        Some("APPROVED")
    } else {
        None
    }
}

/// Whether merging into `repo`'s default branch needs an approving review.
pub fn requires_review(repo: &str) -> bool {
    repo == "acme/checkout"
}

/// A review as in `GET /pulls/{n}/reviews`.
pub fn review_json(api: &str, p: &PrSpec, r: &ReviewSpec) -> Value {
    let repo = p.repo;
    let n = p.number;
    let html = format!(
        "https://github.com/{repo}/pull/{n}#pullrequestreview-{}",
        r.id
    );
    let pr_url = format!("{api}/repos/{repo}/pulls/{n}");
    let commit = if r.on_head {
        sha(repo, p.branch)
    } else {
        hex_id(&format!("prev/{repo}/{}", p.branch), 40)
    };
    json!({
        "id": r.id,
        "node_id": format!("PRR_kwDO{}", hex_id(&format!("review/{}", r.id), 12)),
        "user": user(api, r.user),
        "body": r.body,
        "state": r.state,
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": "MEMBER",
        "_links": {
            "html": {"href": html},
            "pull_request": {"href": pr_url}
        },
        "submitted_at": iso(r.at),
        "commit_id": commit
    })
}

/// A legacy commit status (`POST /statuses/{sha}` by an external CI).
pub struct StatusSpec {
    pub repo: &'static str,
    pub branch: &'static str,
    pub context: &'static str,
    pub id: u64,
    pub at: f64,
    pub state: &'static str,
    pub description: &'static str,
    pub target_url: &'static str,
    /// A later update: (scenario second, state, description).
    pub then: Option<(f64, &'static str, &'static str)>,
}

/// #412 and #415 have Codecov statuses (#415's appears when its CI finishes, failing); #88's
/// CircleCI e2e is pending from t = 20 and green at 70; #90 has two green CircleCI statuses.
/// Every other head has none (combined state `pending`, no statuses, as on GitHub).
pub const STATUSES: [StatusSpec; 6] = [
    StatusSpec {
        repo: "acme/checkout",
        branch: "fix/capture-retry",
        context: "codecov/patch",
        id: 31_700_000_001,
        at: -5_400.0,
        state: "success",
        description: "84.21% of diff hit (target 80.00%)",
        target_url: "https://app.codecov.io/gh/acme/checkout/pull/412",
        then: None,
    },
    StatusSpec {
        repo: "acme/checkout",
        branch: "fix/capture-retry",
        context: "codecov/project",
        id: 31_700_000_002,
        at: -5_400.0,
        state: "success",
        description: "87.12% (+0.04%) compared to main",
        target_url: "https://app.codecov.io/gh/acme/checkout/pull/412",
        then: None,
    },
    StatusSpec {
        repo: "acme/checkout",
        branch: "feat/provider-adapters",
        context: "codecov/patch",
        id: 31_700_000_011,
        at: 61.0,
        state: "failure",
        description: "62.50% of diff hit (target 80.00%)",
        target_url: "https://app.codecov.io/gh/acme/checkout/pull/415",
        then: None,
    },
    StatusSpec {
        repo: "acme/web",
        branch: "fix/safari-focus",
        context: "ci/circleci: e2e",
        id: 31_700_000_021,
        at: 20.0,
        state: "pending",
        description: "CircleCI is running your tests",
        target_url: "https://app.circleci.com/pipelines/github/acme/web/5120/workflows/1",
        then: Some((70.0, "success", "Your tests passed on CircleCI!")),
    },
    StatusSpec {
        repo: "acme/web",
        branch: "release/2026.11.23",
        context: "ci/circleci: build",
        id: 31_700_000_031,
        at: -3_650.0,
        state: "success",
        description: "Your tests passed on CircleCI!",
        target_url: "https://app.circleci.com/pipelines/github/acme/web/5101/workflows/1",
        then: None,
    },
    StatusSpec {
        repo: "acme/web",
        branch: "release/2026.11.23",
        context: "ci/circleci: e2e",
        id: 31_700_000_032,
        at: -3_620.0,
        state: "success",
        description: "Your tests passed on CircleCI!",
        target_url: "https://app.circleci.com/pipelines/github/acme/web/5101/workflows/1",
        then: None,
    },
];

/// The latest status per context on `branch` at `t`: (spec, state, description, updated).
pub fn statuses(
    repo: &str,
    branch: &str,
    t: f64,
) -> Vec<(&'static StatusSpec, &'static str, &'static str, f64)> {
    let t = story(t);
    STATUSES
        .iter()
        .filter(|s| s.repo == repo && s.branch == branch && s.at <= t)
        .map(|s| match s.then {
            Some((at, state, desc)) if at <= t => (s, state, desc, at),
            _ => (s, s.state, s.description, s.at),
        })
        .collect()
}

/// Combined state: failure/error wins, then pending (also when there are no statuses).
pub fn combined_state(states: &[&str]) -> &'static str {
    if states.iter().any(|s| matches!(*s, "failure" | "error")) {
        "failure"
    } else if states.is_empty() || states.contains(&"pending") {
        "pending"
    } else {
        "success"
    }
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/status` for `branch`'s head.
pub fn combined_status_json(api: &str, repo: &str, branch: &str, t: f64) -> Value {
    let head = sha(repo, branch);
    let list = statuses(repo, branch, t);
    let states: Vec<&str> = list.iter().map(|s| s.1).collect();
    let items: Vec<Value> = list
        .iter()
        .map(|(s, state, desc, updated)| {
            let avatar = if s.context.starts_with("codecov") {
                "https://avatars.githubusercontent.com/in/254?v=4"
            } else {
                "https://avatars.githubusercontent.com/oa/4808?v=4"
            };
            json!({
                "url": format!("{api}/repos/{repo}/statuses/{head}"),
                "avatar_url": avatar,
                "id": s.id,
                "node_id": format!("SC_kwDO{}", hex_id(&format!("status/{}", s.id), 12)),
                "state": state,
                "description": desc,
                "target_url": s.target_url,
                "context": s.context,
                "created_at": iso(s.at),
                "updated_at": iso(*updated)
            })
        })
        .collect();
    json!({
        "state": combined_state(&states),
        "statuses": items,
        "sha": head,
        "total_count": list.len(),
        "repository": repo_json(api, repo, false),
        "commit_url": format!("{api}/repos/{repo}/commits/{head}"),
        "url": format!("{api}/repos/{repo}/commits/{head}/status")
    })
}

/// One changed file of a pull request.
#[derive(Clone, Debug)]
pub struct FileSpec {
    pub filename: &'static str,
    /// added, removed, modified or renamed.
    pub status: &'static str,
    pub previous: Option<&'static str>,
    pub additions: u64,
    pub deletions: u64,
    pub patch: String,
}

/// A hand-written hunk: (old start line, function context, body lines prefixed ' ', '+', '-').
type Hunk = (u64, &'static str, &'static str);

const HAND_FILES: [(&str, u64, &str, &str, &[Hunk]); 6] = [
    (
        "acme/checkout",
        418,
        "src/email/receipt.js",
        "modified",
        &[
            (
                1,
                "",
                " const { formatMoney } = require('../money');\n+const stripAnsi = require('strip-ansi');\n const { wrapHtml } = require('./layout');\n",
            ),
            (
                38,
                "function renderReceipt(order, template) {",
                "   const lines = order.items.map(formatLine);\n   const total = formatMoney(order.totalCents, order.currency);\n-  const body = template.render({ lines, total });\n-  return wrapHtml(body);\n+  // The template renderer may leave terminal colour codes in its output.\n+  const body = stripAnsi(template.render({ lines, total }));\n+  return wrapHtml(body);\n }\n \n module.exports = { renderReceipt };\n",
            ),
        ],
    ),
    (
        "acme/checkout",
        418,
        "src/email/receipt.test.js",
        "modified",
        &[
            (
                1,
                "",
                " const { renderReceipt } = require('./receipt');\n-const { order, template } = require('./fixtures');\n+const { order, template, colouredTemplate } = require('./fixtures');\n \n describe('renderReceipt', () => {\n",
            ),
            (
                12,
                "describe('renderReceipt', () => {",
                "     expect(html).toContain('\u{20ac}12.50');\n   });\n+\n+  it('strips terminal colour codes', () => {\n+    expect(renderReceipt(order, colouredTemplate)).not.toMatch(/\\u001b\\[/);\n+  });\n });\n",
            ),
        ],
    ),
    (
        "acme/checkout",
        421,
        "package.json",
        "modified",
        &[(
            21,
            "",
            "   \"dependencies\": {\n     \"@adyen/api-library\": \"^20.0.0\",\n-    \"axios\": \"^1.7.2\",\n+    \"axios\": \"^1.7.9\",\n     \"express\": \"^4.21.1\",\n     \"pino\": \"^9.5.0\",\n     \"stripe\": \"^17.3.1\"\n",
        )],
    ),
    (
        "acme/checkout",
        421,
        "package-lock.json",
        "modified",
        &[
            (
                14,
                "",
                "       \"dependencies\": {\n         \"@adyen/api-library\": \"^20.0.0\",\n-        \"axios\": \"^1.7.2\",\n+        \"axios\": \"^1.7.9\",\n         \"express\": \"^4.21.1\",\n",
            ),
            (
                1480,
                "",
                "     \"node_modules/axios\": {\n-      \"version\": \"1.7.2\",\n-      \"resolved\": \"https://registry.npmjs.org/axios/-/axios-1.7.2.tgz\",\n-      \"integrity\": \"sha512-2A8QhOMrbomlDuiLeK9XibIBzuHeRcqqNOHp0Cyp5EoJ1IFDh+XZH3A6BkXtv0K4gFGCI0Y4BM7B1wOEi0Rmgw==\",\n+      \"version\": \"1.7.9\",\n+      \"resolved\": \"https://registry.npmjs.org/axios/-/axios-1.7.9.tgz\",\n+      \"integrity\": \"sha512-LhLcE7Hbiryz8oMDdDptSrWowmB4Bl6RCt6sIJKpRB4XtVf0iEgewX3au/pxRSFKsmZKj1Kf2ZmD3uzOnlJEsw==\",\n       \"license\": \"MIT\",\n       \"dependencies\": {\n",
            ),
        ],
    ),
    (
        "acme/checkout",
        422,
        "src/payment.js",
        "modified",
        &[(
            115,
            "async function chargeCard(order, providers) {",
            "   if (!order) throw new TypeError('order is required');\n   const provider = providers[order.provider];\n   if (!provider) throw new UnknownProvider(order.provider);\n-  const cents = order.payment.amount * 100;\n-  return provider.charge(cents, order.card);\n+  // Saved-card checkouts arrive without `order.payment` (Sentry CHECKOUT-3F).\n+  const amount = order.payment?.amount ?? order.totalCents / 100;\n+  if (!Number.isFinite(amount) || amount <= 0) {\n+    throw new PaymentError('missing amount', { orderId: order.id });\n+  }\n+  const cents = Math.round(amount * 100);\n+  return provider.charge(cents, order.card, {\n+    idempotencyKey: `charge-${order.id}`,\n+  });\n }\n \n module.exports = { chargeCard };\n",
        )],
    ),
    (
        "acme/checkout",
        422,
        "src/payment.test.js",
        "modified",
        &[(
            40,
            "describe('charge', () => {",
            "     await expect(chargeCard(order, providers)).rejects.toThrow(UnknownProvider);\n   });\n \n+  it('charges a saved card without order.payment', async () => {\n+    const order = savedCardOrder({ totalCents: 1250 });\n+    delete order.payment;\n+    await chargeCard(order, providers);\n+    expect(providers.stripe.charge).toHaveBeenCalledWith(\n+      1250,\n+      order.card,\n+      expect.objectContaining({ idempotencyKey: `charge-${order.id}` }),\n+    );\n+  });\n+\n+  it('rejects a card without amount', async () => {\n+    const order = savedCardOrder({ totalCents: undefined });\n+    delete order.payment;\n+    await expect(chargeCard(order, providers)).rejects.toThrow(PaymentError);\n+  });\n+\n+  it('keeps the amount of an explicit payment', async () => {\n+    await chargeCard(orderWith({ amount: 12.5 }), providers);\n+    expect(providers.stripe.charge.mock.calls[0][0]).toBe(1250);\n+  });\n+\n   it('refunds a captured charge', async () => {\n     const charge = await chargeCard(orderWith({ amount: 3 }), providers);\n     await refund(charge);\n",
        )],
    ),
];

/// Generated files: (repo, pr, filename, status, previous filename).
const GEN_FILES: [(&str, u64, &str, &str, Option<&str>); 62] = [
    (
        "acme/checkout",
        412,
        "src/payment/capture.js",
        "modified",
        None,
    ),
    ("acme/checkout", 412, "src/payment/retry.js", "added", None),
    (
        "acme/checkout",
        412,
        "src/payment/capture.test.js",
        "modified",
        None,
    ),
    ("acme/checkout", 412, "CHANGELOG.md", "modified", None),
    (
        "acme/checkout",
        415,
        "src/payment/index.js",
        "renamed",
        Some("src/payment.js"),
    ),
    (
        "acme/checkout",
        415,
        "src/payment/provider.js",
        "added",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/payment/providers/index.js",
        "added",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/payment/providers/stripe.js",
        "added",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/payment/providers/adyen.js",
        "added",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/payment/legacy-gateway.js",
        "removed",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/checkout/submit.js",
        "modified",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/checkout/refund.js",
        "modified",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/config/payment.js",
        "modified",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/payment/index.test.js",
        "modified",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/payment/providers/stripe.test.js",
        "added",
        None,
    ),
    (
        "acme/checkout",
        415,
        "src/payment/providers/adyen.test.js",
        "added",
        None,
    ),
    ("acme/checkout", 415, "docs/payments.md", "modified", None),
    ("acme/checkout", 415, "package.json", "modified", None),
    ("acme/checkout", 419, "src/cart/totals.js", "modified", None),
    (
        "acme/checkout",
        419,
        "src/cart/totals.test.js",
        "modified",
        None,
    ),
    ("acme/checkout", 419, "src/cart/money.js", "added", None),
    (
        "acme/checkout",
        419,
        "src/cart/discounts.js",
        "modified",
        None,
    ),
    ("acme/checkout", 419, "src/cart/tax.js", "modified", None),
    (
        "acme/checkout",
        419,
        "src/cart/shipping.js",
        "modified",
        None,
    ),
    ("acme/checkout", 419, "src/api/cart.js", "modified", None),
    (
        "acme/checkout",
        419,
        "migrations/20261120_integer_cents.sql",
        "added",
        None,
    ),
    ("acme/checkout", 419, "src/cart/format.js", "modified", None),
    (
        "acme/web",
        88,
        "src/components/CheckoutButton.tsx",
        "modified",
        None,
    ),
    (
        "acme/web",
        88,
        "src/components/CheckoutButton.module.css",
        "modified",
        None,
    ),
    (
        "acme/web",
        88,
        "src/components/CheckoutButton.test.tsx",
        "modified",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Header/Header.tsx",
        "modified",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Header/Header.module.css",
        "modified",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Header/Header.test.tsx",
        "modified",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Header/NavMenu.tsx",
        "added",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Header/NavMenu.test.tsx",
        "added",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Header/index.ts",
        "modified",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Image/LazyImage.tsx",
        "added",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Image/LazyImage.test.tsx",
        "added",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Image/useInView.ts",
        "added",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Image/index.ts",
        "added",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/ProductCard.tsx",
        "modified",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/ProductGrid.tsx",
        "modified",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/Footer.tsx",
        "modified",
        None,
    ),
    ("acme/web", 90, "src/pages/index.tsx", "modified", None),
    (
        "acme/web",
        90,
        "src/pages/product/[slug].tsx",
        "modified",
        None,
    ),
    ("acme/web", 90, "src/pages/cart.tsx", "modified", None),
    ("acme/web", 90, "src/pages/_app.tsx", "modified", None),
    ("acme/web", 90, "src/styles/globals.css", "modified", None),
    ("acme/web", 90, "src/styles/tokens.css", "modified", None),
    ("acme/web", 90, "src/lib/analytics.ts", "modified", None),
    ("acme/web", 90, "src/lib/images.ts", "modified", None),
    ("acme/web", 90, "src/lib/images.test.ts", "modified", None),
    ("acme/web", 90, "public/icons/menu.svg", "added", None),
    ("acme/web", 90, "public/icons/close.svg", "added", None),
    (
        "acme/web",
        90,
        "src/components/OldHeader.tsx",
        "removed",
        None,
    ),
    (
        "acme/web",
        90,
        "src/components/OldHeader.module.css",
        "removed",
        None,
    ),
    ("acme/web", 90, "package.json", "modified", None),
    ("acme/web", 90, "package-lock.json", "modified", None),
    ("acme/web", 90, "next.config.js", "modified", None),
    ("acme/web", 90, "CHANGELOG.md", "modified", None),
    ("acme/web", 90, "README.md", "modified", None),
    ("acme/web", 91, "docs/canary-dashboard.md", "added", None),
];

/// Builds a patch from hunks, computing the `@@ -a,b +c,d @@` headers; returns (patch,
/// additions, deletions).
fn patch_of(hunks: &[Hunk]) -> (String, u64, u64) {
    let mut out = Vec::new();
    let (mut adds, mut dels) = (0u64, 0u64);
    let mut shift: i64 = 0;
    for (start, func, body) in hunks {
        let lines: Vec<&str> = body.lines().collect();
        let a = lines.iter().filter(|l| l.starts_with('+')).count() as u64;
        let d = lines.iter().filter(|l| l.starts_with('-')).count() as u64;
        let ctx = lines.len() as u64 - a - d;
        let new_start = (*start as i64 + shift).max(1);
        let suffix = if func.is_empty() {
            String::new()
        } else {
            format!(" {func}")
        };
        out.push(format!(
            "@@ -{start},{} +{new_start},{} @@{suffix}",
            ctx + d,
            ctx + a
        ));
        out.extend(lines.iter().map(|l| (*l).to_string()));
        adds += a;
        dels += d;
        shift += a as i64 - d as i64;
    }
    (out.join("\n"), adds, dels)
}

/// Code-ish lines for a generated patch of `filename`.
fn vocabulary(filename: &str) -> &'static [&'static str] {
    let ext = filename.rsplit('.').next().unwrap_or("");
    match ext {
        "css" => &[
            ".button:focus-visible {",
            "  outline: 2px solid var(--focus-ring);",
            "  outline-offset: 2px;",
            "  border-radius: var(--radius-sm);",
            "  color: var(--text-muted);",
            "}",
        ],
        "md" => &[
            "## Payments",
            "",
            "The provider adapters live in `src/payment/providers`.",
            "- Retries are capped at two attempts.",
            "Run `npm test` before opening a pull request.",
            "See the canary dashboard for the error-rate budget.",
        ],
        "sql" => &[
            "ALTER TABLE carts ADD COLUMN total_cents bigint;",
            "UPDATE carts SET total_cents = round(total * 100);",
            "ALTER TABLE carts ALTER COLUMN total_cents SET NOT NULL;",
            "ALTER TABLE carts DROP COLUMN total;",
        ],
        "json" => &[
            "    \"lint\": \"eslint . --max-warnings=0\",",
            "    \"test\": \"jest --ci\",",
            "    \"build\": \"next build\",",
            "    \"next\": \"^15.0.3\",",
            "    \"react\": \"^19.0.0\",",
        ],
        "svg" => &[
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 24 24\" fill=\"none\">",
            "  <path d=\"M3 6h18M3 12h18M3 18h18\" stroke=\"currentColor\" stroke-width=\"2\"/>",
            "</svg>",
        ],
        _ => &[
            "  const result = await provider.charge(cents, card);",
            "  if (!order) throw new TypeError('order is required');",
            "export function formatMoney(cents, currency) {",
            "  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(cents / 100);",
            "import { logger } from '../logger';",
            "  logger.info({ orderId: order.id }, 'capture retried');",
            "}",
            "  retries: 2,",
            "    expect(result.status).toBe('captured');",
            "  const jitter = Math.floor(Math.random() * 250);",
            "    await sleep(backoff(attempt));",
            "  return { ...state, totalCents };",
            "describe('totals', () => {",
            "  it('rounds half up', () => {",
            "  });",
            "  const [open, setOpen] = useState(false);",
            "  return <nav className={styles.menu} aria-expanded={open}>{children}</nav>;",
        ],
    }
}

fn generated_patch(seed: &str, filename: &str, status: &str, a: u64, d: u64) -> String {
    let words = vocabulary(filename);
    let n = words.len() as u64;
    // Runs of consecutive vocabulary lines, each block starting somewhere else.
    let line = |k: u64| words[((pick(seed, (k / 1_000) as i64, n) + k % 1_000) % n) as usize];
    let mut out = Vec::new();
    match status {
        "added" => {
            out.push(format!("@@ -0,0 +1,{a} @@"));
            out.extend((0..a).map(|k| format!("+{}", line(k))));
        }
        "removed" => {
            out.push(format!("@@ -1,{d} +0,0 @@"));
            out.extend((0..d).map(|k| format!("-{}", line(1_000 + k))));
        }
        _ => {
            let start = 10 + pick(seed, -1, 200);
            out.push(format!("@@ -{start},{} +{start},{} @@", d + 6, a + 6));
            out.extend((0..3).map(|k| format!(" {}", line(2_000 + k))));
            out.extend((0..d).map(|k| format!("-{}", line(3_000 + k))));
            out.extend((0..a).map(|k| format!("+{}", line(4_000 + k))));
            out.extend((0..3).map(|k| format!(" {}", line(5_000 + k))));
        }
    }
    out.join("\n")
}

/// Splits `total` over the eligible slots: one each, the rest by deterministic weights.
fn split(total: u64, eligible: &[bool], seed: &str) -> Vec<u64> {
    let n = eligible.iter().filter(|e| **e).count() as u64;
    let mut out = vec![0; eligible.len()];
    if n == 0 {
        return out;
    }
    let base = u64::from(total >= n);
    let rest = total - base * n;
    let weights: Vec<u64> = eligible
        .iter()
        .enumerate()
        .map(|(i, e)| if *e { 1 + pick(seed, i as i64, 9) } else { 0 })
        .collect();
    let sum: u64 = weights.iter().sum();
    for (i, w) in weights.iter().enumerate() {
        if *w > 0 {
            out[i] = base + rest * w / sum;
        }
    }
    let given: u64 = out.iter().sum();
    if let Some(first) = eligible.iter().position(|e| *e) {
        out[first] += total - given;
    }
    out
}

/// The changed files of `p` (their additions, deletions and count agree with `p.size`).
pub fn pr_files(p: &PrSpec) -> Vec<FileSpec> {
    let hand: Vec<FileSpec> = HAND_FILES
        .iter()
        .filter(|f| f.0 == p.repo && f.1 == p.number)
        .map(|(_, _, name, status, hunks)| {
            let (patch, additions, deletions) = patch_of(hunks);
            FileSpec {
                filename: name,
                status,
                previous: None,
                additions,
                deletions,
                patch,
            }
        })
        .collect();
    if !hand.is_empty() {
        return hand;
    }
    let mut defs: Vec<_> = GEN_FILES
        .iter()
        .filter(|f| f.0 == p.repo && f.1 == p.number)
        .copied()
        .collect();
    if defs.is_empty() && super::github_scale::is_generated(p) {
        let mut pool: Vec<&'static str> = Vec::new();
        for f in &GEN_FILES {
            if !pool.contains(&f.2) {
                pool.push(f.2);
            }
        }
        defs = super::github_scale::file_names(p, &pool)
            .into_iter()
            .map(|name| (p.repo, p.number, name, "modified", None))
            .collect();
    }
    let seed = format!("files/{}/{}", p.repo, p.number);
    let (_, additions, deletions, _) = p.size;
    let adds = split(
        additions,
        &defs.iter().map(|f| f.3 != "removed").collect::<Vec<_>>(),
        &format!("{seed}/a"),
    );
    let dels = split(
        deletions,
        &defs.iter().map(|f| f.3 != "added").collect::<Vec<_>>(),
        &format!("{seed}/d"),
    );
    defs.iter()
        .zip(adds.into_iter().zip(dels))
        .map(|((_, _, name, status, previous), (a, d))| FileSpec {
            filename: name,
            status,
            previous: *previous,
            additions: a,
            deletions: d,
            patch: generated_patch(&format!("{seed}/{name}"), name, status, a, d),
        })
        .collect()
}

/// A file as in `GET /pulls/{n}/files`.
pub fn file_json(api: &str, p: &PrSpec, f: &FileSpec) -> Value {
    let repo = p.repo;
    let head = sha(repo, p.branch);
    let name = f.filename;
    let mut v = json!({
        "sha": hex_id(&format!("blob/{repo}/{}/{name}", p.number), 40),
        "filename": name,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.additions + f.deletions,
        "blob_url": format!("https://github.com/{repo}/blob/{head}/{name}"),
        "raw_url": format!("https://github.com/{repo}/raw/{head}/{name}"),
        "contents_url": format!("{api}/repos/{repo}/contents/{name}?ref={head}"),
        "patch": f.patch
    });
    if let Some(prev) = f.previous
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert("previous_filename".into(), Value::from(prev));
    }
    v
}

/// Branches whose head commit exists in `repo`: `main`, PR heads and run branches.
pub fn branches(repo: &str) -> Vec<&'static str> {
    let mut v = vec!["main"];
    for b in PRS
        .iter()
        .filter(|p| p.repo == repo)
        .map(|p| p.branch)
        .chain(RUNS.iter().filter(|r| r.repo == repo).map(|r| r.branch))
    {
        if !v.contains(&b) {
            v.push(b);
        }
    }
    v
}

/// The branch whose head `reference` names: a full or abbreviated (7+) SHA, a branch name, or
/// `heads/<branch>` / `refs/heads/<branch>`.
pub fn resolve_ref(repo: &str, reference: &str) -> Option<&'static str> {
    let name = reference
        .strip_prefix("refs/heads/")
        .or_else(|| reference.strip_prefix("heads/"))
        .unwrap_or(reference);
    let all = branches(repo);
    if let Some(b) = all.iter().find(|b| **b == name) {
        return Some(b);
    }
    let lower = reference.to_ascii_lowercase();
    if lower.len() >= 7 && lower.len() <= 40 && lower.bytes().all(|c| c.is_ascii_hexdigit()) {
        return all.into_iter().find(|b| sha(repo, b).starts_with(&lower));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_agree_with_the_pull_request_size() {
        for p in &PRS {
            let files = pr_files(p);
            let (_, additions, deletions, changed) = p.size;
            assert_eq!(files.len() as u64, changed, "#{}", p.number);
            assert_eq!(files.iter().map(|f| f.additions).sum::<u64>(), additions);
            assert_eq!(files.iter().map(|f| f.deletions).sum::<u64>(), deletions);
            for f in &files {
                assert!(f.additions + f.deletions > 0, "{} changes", f.filename);
                let lines = || f.patch.lines().filter(|l| !l.starts_with("@@"));
                assert_eq!(
                    lines().filter(|l| l.starts_with('+')).count() as u64,
                    f.additions
                );
                assert_eq!(
                    lines().filter(|l| l.starts_with('-')).count() as u64,
                    f.deletions
                );
                match f.status {
                    "added" => assert_eq!(f.deletions, 0),
                    "removed" => assert_eq!(f.additions, 0),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn review_decisions() {
        let pr = |n: u64| PRS.iter().find(|p| p.number == n).expect("pr");
        assert_eq!(review_decision(pr(412), 0.0), Some("APPROVED"));
        assert_eq!(review_decision(pr(418), 0.0), Some("APPROVED"));
        assert_eq!(review_decision(pr(415), 0.0), Some("CHANGES_REQUESTED"));
        assert_eq!(review_decision(pr(421), 0.0), None);
        assert_eq!(review_decision(pr(422), 160.0), None);
        assert_eq!(review_decision(pr(422), 170.0), Some("APPROVED"));
    }

    #[test]
    fn refs_resolve_to_branches() {
        let head = sha("acme/checkout", "fix/colour-bleed");
        assert_eq!(
            resolve_ref("acme/checkout", &head),
            Some("fix/colour-bleed")
        );
        assert_eq!(
            resolve_ref("acme/checkout", &head[..7]),
            Some("fix/colour-bleed")
        );
        assert_eq!(resolve_ref("acme/checkout", "heads/main"), Some("main"));
        assert_eq!(resolve_ref("acme/checkout", &head[..6]), None);
        assert_eq!(resolve_ref("acme/web", &head), None);
    }
}
