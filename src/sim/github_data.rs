//! The demo's GitHub content (pull requests and workflow runs) and its JSON in the REST API's
//! shapes.
//! API links (`url`, `jobs_url`, ...) point at the simulator; `html_url`s at github.com.

use serde_json::{Value, json};

use super::scenario::story;
use super::util::{hex_id, iso};

/// Repositories the simulated GitHub knows.
pub const REPOS: [&str; 2] = ["acme/checkout", "acme/web"];

/// The user the anonymous demo acts as (`GET /user`).
pub const OPERATOR: &str = "demo-operator";

const PEOPLE: [(&str, u64, &str); 10] = [
    ("mara-k", 5_120_331, "User"),
    ("devon-r", 5_120_332, "User"),
    ("li-wei", 5_120_333, "User"),
    ("sam-o", 5_120_334, "User"),
    ("dependabot[bot]", 49_699_333, "Bot"),
    ("jpatel", 5_120_335, "User"),
    ("ana-lima", 5_120_336, "User"),
    ("release-bot", 5_120_337, "Bot"),
    ("acme", 5_120_000, "Organization"),
    (OPERATOR, 5_120_999, "User"),
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
    /// (commits, additions, deletions, changed_files)
    pub size: (u64, u64, u64, u64),
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
        size: (1, 6, 6, 2),
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
    },
];

/// One workflow run; `phases` is (scenario second, status, conclusion), the first is creation.
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

pub const RUNS: [RunSpec; 9] = [
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
        phases: &[(-1_150.0, "waiting", None)],
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

/// Commit SHA of `branch` in `repo`.
pub fn sha(repo: &str, branch: &str) -> String {
    hex_id(&format!("sha/{repo}/{branch}"), 40)
}

fn repo_id(repo: &str) -> u64 {
    match repo {
        "acme/checkout" => 718_200_101,
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

fn pr_id(p: &PrSpec) -> u64 {
    2_300_000_000 + repo_id(p.repo) % 1000 * 10_000 + p.number
}

/// Pull requests of `repo` that exist at `t`, newest first.
pub fn open_prs(repo: &str, t: f64) -> Vec<&'static PrSpec> {
    let t = story(t);
    let mut v: Vec<_> = PRS
        .iter()
        .filter(|p| p.repo == repo && p.created <= t)
        .collect();
    v.sort_by(|a, b| b.created.total_cmp(&a.created));
    v
}

/// A pull request; `detail` adds the members of `GET /pulls/{n}`.
pub fn pr_json(api: &str, p: &PrSpec, detail: bool) -> Value {
    let repo = p.repo;
    let n = p.number;
    let u = format!("{api}/repos/{repo}/pulls/{n}");
    let issue = format!("{api}/repos/{repo}/issues/{n}");
    let html = format!("https://github.com/{repo}/pull/{n}");
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
        "requested_reviewers": [],
        "requested_teams": [],
        "head": branch_json(api, repo, p.branch),
        "base": branch_json(api, repo, "main"),
        "_links": links,
        "author_association": association,
        "auto_merge": null,
        "draft": p.draft
    });
    if detail && let Some(obj) = v.as_object_mut() {
        let (commits, additions, deletions, changed) = p.size;
        let extra = json!({
            "merged": false,
            "mergeable": !p.draft,
            "rebaseable": !p.draft,
            "mergeable_state": if p.draft { "draft" } else { "clean" },
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

/// The run's (status, conclusion, updated_at scenario second) at `t`.
pub fn run_state(r: &RunSpec, t: f64) -> (&'static str, Option<&'static str>, f64) {
    let t = story(t);
    r.phases
        .iter()
        .rev()
        .find(|p| p.0 <= t)
        .or(r.phases.first())
        .map_or(("queued", None, t), |p| (p.1, p.2, p.0))
}

/// A workflow run as in `GET /repos/{owner}/{repo}/actions/runs/{run_id}`.
pub fn run_json(api: &str, r: &RunSpec, t: f64) -> Value {
    let repo = r.repo;
    let (status, conclusion, updated) = run_state(r, t);
    let created = r.phases.first().map_or(0.0, |p| p.0);
    let head_sha = sha(repo, r.branch);
    let u = format!("{api}/repos/{repo}/actions/runs/{}", r.id);
    let suite = r.id + 1_000_000_000;
    let prs: Vec<Value> =
        r.pr.map(|n| {
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
                "id": PRS.iter().find(|p| p.repo == repo && p.number == n).map_or(0, pr_id),
                "number": n,
                "head": short(r.branch),
                "base": short("main")
            })
        })
        .into_iter()
        .collect();
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
        "pull_requests": prs,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "actor": user(api, r.actor),
        "run_attempt": 1,
        "referenced_workflows": [],
        "run_started_at": iso(created),
        "triggering_actor": user(api, r.actor),
        "jobs_url": format!("{u}/jobs"),
        "logs_url": format!("{u}/logs"),
        "check_suite_url": format!("{api}/repos/{repo}/check-suites/{suite}"),
        "artifacts_url": format!("{u}/artifacts"),
        "cancel_url": format!("{u}/cancel"),
        "rerun_url": format!("{u}/rerun"),
        "previous_attempt_url": null,
        "workflow_url": format!("{api}/repos/{repo}/actions/workflows/{}", r.workflow_id),
        "head_commit": {
            "id": head_sha,
            "tree_id": hex_id(&format!("tree/{repo}/{}", r.branch), 40),
            "message": r.title,
            "timestamp": iso(created - 60.0),
            "author": {"name": author, "email": format!("{author}@users.noreply.github.com")},
            "committer": {"name": "GitHub", "email": "noreply@github.com"}
        },
        "repository": repo_json(api, repo, false),
        "head_repository": repo_json(api, repo, false)
    })
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
