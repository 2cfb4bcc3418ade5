//! The demo repositories' files and history, and the writes a regression-test PR needs: the
//! trees and contents of acme/checkout and acme/web (the Python refunds worker and the
//! JavaScript payment routes whose lines the Sentry frames quote; the TypeScript web app), the
//! commits between acme/checkout's releases with the PRs they merged, tags `v<version>` on the
//! release commits, and branches, files, pull requests and labels created through the API.
//!
//! acme/checkout's history, oldest first (scenario seconds; the releases are the commits the
//! deployments of `github_deploys.rs` ship):
//! - 2.11.0, 2.13.1;
//! - #408 "Retry gateway timeouts once" and #410 "Name the customer in order emails", two weeks
//!   and twelve days before (shipped with 2.13.2);
//! - 2.13.2 (the last good production release, ten days before);
//! - #416 "Refund only open shipments" (`worker/refunds.py`'s `refund_order`), six days before;
//! - #414 "Describe the refunds worker" (docs only), five days before;
//! - 2.13.3 (the failed deploy), a day before;
//! - #417 "Skip the payment form for saved cards" (`checkout/payment.js`,
//!   `checkout/routes/pay.js`), 20 hours before;
//! - 2.14.0, `main`'s head (the held production deploy, the canary's release).
//!
//! Merged PRs are not open PRs: the PR lists (REST and GraphQL) show only the open ones, and
//! `GET .../pulls?state=closed` lists the merged ones ([`merged_pulls`]).
//! A ref, a file or a PR created here is seen by later reads of this server; the writes are
//! recorded with the other mutations ([`super::super::SimWorld::github_mutations`]). Trees of any
//! known commit list `main`'s files (the demo keeps one snapshot of the files).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::super::github_data::{OPERATOR, pr_json, sha, user};
use super::super::github_deploys::past_sha;
use super::super::sentry_data::{APP_PY, REFUNDS_PY};
use super::super::util::{hex_id, iso, param, parse_pairs};
use super::{Reply, Shared, finish, known};

const DOCS_CONTENTS: &str =
    "https://docs.github.com/rest/repos/contents#create-or-update-file-contents";
const DOCS_REFS: &str = "https://docs.github.com/rest/git/refs#create-a-reference";
const DOCS_PULLS: &str = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";
const DOCS_LABELS: &str = "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue";
const DOCS: &str = "https://docs.github.com/rest";
const DAY: f64 = 86_400.0;
/// The first number of a PR created here (above the demo's PRs, open and merged).
const FIRST_CREATED_PR: u64 = 423;

/// A PR merged before the demo.
pub struct Merged {
    pub number: u64,
    pub title: &'static str,
    pub branch: &'static str,
    pub author: &'static str,
    /// Scenario seconds it was opened.
    pub opened: f64,
    pub body: &'static str,
}

/// One commit of a repository's history: (path, status, additions, deletions) per file.
pub struct Commit {
    pub sha: String,
    pub message: String,
    pub author: &'static str,
    /// Scenario seconds.
    pub at: f64,
    pub files: &'static [(&'static str, &'static str, u32, u32)],
    pub pr: Option<&'static Merged>,
    /// The release this commit is (`2.14.0`), tagged `v2.14.0`.
    pub release: Option<&'static str>,
}

const PR_416: Merged = Merged {
    number: 416,
    title: "Refund only open shipments",
    branch: "refunds/open-shipments",
    author: "li-wei",
    opened: -7.0 * DAY,
    body: "Refunds split over the shipments not delivered yet, one part per open shipment.",
};
const PR_414: Merged = Merged {
    number: 414,
    title: "Describe the refunds worker",
    branch: "docs/refunds",
    author: "li-wei",
    opened: -5.5 * DAY,
    body: "What the refunds worker does, for the on-call runbook.",
};
const PR_408: Merged = Merged {
    number: 408,
    title: "Retry gateway timeouts once",
    branch: "gateways/retry-timeouts",
    author: "devon-r",
    opened: -15.5 * DAY,
    body: "A payment gateway timeout is retried once before the order fails.",
};
const PR_410: Merged = Merged {
    number: 410,
    title: "Name the customer in order emails",
    branch: "orders/customer-name",
    author: "mara-k",
    opened: -13.0 * DAY,
    body: "Order confirmation emails greet the customer by name.",
};
const PR_417: Merged = Merged {
    number: 417,
    title: "Skip the payment form for saved cards",
    branch: "feat/saved-cards",
    author: "devon-r",
    opened: -2.0 * DAY,
    body: "Customers with a saved card go straight to the charge.",
};

fn release(repo: &str, version: &'static str, at: f64, head: bool) -> Commit {
    let app = repo.rsplit('/').next().unwrap_or(repo);
    Commit {
        sha: if head {
            sha(repo, "main")
        } else {
            past_sha(repo, version)
        },
        message: format!("Release {app} {version}"),
        author: "mara-k",
        at,
        files: if repo == "acme/checkout" {
            &[("CHANGELOG.md", "modified", 3, 0)]
        } else {
            &[("package.json", "modified", 1, 1)]
        },
        pr: None,
        release: Some(version),
    }
}

fn merged(
    repo: &str,
    pr: &'static Merged,
    at: f64,
    files: &'static [(&'static str, &'static str, u32, u32)],
) -> Commit {
    Commit {
        sha: hex_id(&format!("sha/{repo}/pr/{}", pr.number), 40),
        message: format!("{} (#{})", pr.title, pr.number),
        author: pr.author,
        at,
        files,
        pr: Some(pr),
        release: None,
    }
}

/// A repository's history, oldest first (`main`'s head last); empty for other repositories.
pub fn history(repo: &str) -> Vec<Commit> {
    match repo {
        "acme/checkout" => vec![
            release(repo, "2.11.0", -41.0 * DAY + 2_900.0, false),
            release(repo, "2.13.1", -17.0 * DAY - 2_100.0, false),
            merged(
                repo,
                &PR_408,
                -14.0 * DAY,
                &[("checkout/gateways.js", "modified", 9, 2)],
            ),
            merged(
                repo,
                &PR_410,
                -12.0 * DAY,
                &[
                    ("checkout/orders.js", "modified", 4, 1),
                    ("checkout/customers.js", "modified", 3, 0),
                ],
            ),
            release(repo, "2.13.2", -10.0 * DAY + 5_200.0, false),
            merged(
                repo,
                &PR_416,
                -6.0 * DAY,
                &[("worker/refunds.py", "modified", 6, 0)],
            ),
            merged(
                repo,
                &PR_414,
                -5.0 * DAY,
                &[
                    ("README.md", "modified", 2, 1),
                    ("docs/refunds.md", "added", 5, 0),
                ],
            ),
            release(repo, "2.13.3", -DAY - 2_800.0, false),
            merged(
                repo,
                &PR_417,
                -72_000.0,
                &[
                    ("checkout/payment.js", "modified", 12, 3),
                    ("checkout/routes/pay.js", "modified", 1, 1),
                ],
            ),
            release(repo, "2.14.0", -1_560.0, true),
        ],
        "acme/web" => vec![
            release(repo, "2026.10.30", -26.0 * DAY + 1_000.0, false),
            release(repo, "2026.11.16", -7.0 * DAY + 700.0, false),
            release(repo, "2026.11.23", -600.0, true),
        ],
        _ => Vec::new(),
    }
}

/// The files of a repository on `main`.
pub fn files(repo: &str) -> &'static [(&'static str, &'static str)] {
    match repo {
        "acme/checkout" => CHECKOUT_FILES,
        "acme/web" => WEB_FILES,
        _ => &[],
    }
}

/// A branch created through the API, with the files committed to it.
#[derive(Debug, Clone)]
struct Branch {
    repo: String,
    name: String,
    /// Its head commit.
    sha: String,
    /// Files committed on it (path, contents), over `main`'s.
    files: Vec<(String, Vec<u8>)>,
}

/// A pull request created through the API.
#[derive(Debug, Clone)]
struct Created {
    repo: String,
    number: u64,
    title: String,
    body: String,
    head: String,
    base: String,
    draft: bool,
    /// Unix seconds.
    at: i64,
}

/// What was created through the API (shared by every request of a world).
#[derive(Debug, Default)]
pub struct Writes {
    branches: Vec<Branch>,
    pulls: Vec<Created>,
    /// (repo, issue number) → labels added.
    labels: Vec<(String, u64, Vec<String>)>,
}

fn writes(s: &Shared) -> std::sync::MutexGuard<'_, Writes> {
    s.repo_writes.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a ref names in a repository.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// A commit of the history (its index).
    Commit(usize),
    /// A branch created here (its name).
    Branch(String),
}

fn resolve(s: &Shared, repo: &str, hist: &[Commit], reference: &str) -> Option<Target> {
    let r = reference.strip_prefix("refs/").unwrap_or(reference);
    let (kind, name) = match r.split_once('/') {
        Some(("heads", n)) => ("heads", n),
        Some(("tags", n)) => ("tags", n),
        _ => ("", r),
    };
    if kind != "tags" && name == "main" && !hist.is_empty() {
        return Some(Target::Commit(hist.len() - 1));
    }
    if kind != "heads" {
        let version = name.strip_prefix('v').unwrap_or(name);
        if let Some(i) = hist.iter().position(|c| c.release == Some(version)) {
            return Some(Target::Commit(i));
        }
    }
    if kind != "tags"
        && writes(s)
            .branches
            .iter()
            .any(|b| b.repo == repo && b.name == name)
    {
        return Some(Target::Branch(name.to_string()));
    }
    if kind.is_empty() && name.len() >= 7 && name.chars().all(|c| c.is_ascii_hexdigit()) {
        if let Some(i) = hist.iter().position(|c| c.sha.starts_with(name)) {
            return Some(Target::Commit(i));
        }
        let w = writes(s);
        if let Some(b) = w
            .branches
            .iter()
            .find(|b| b.repo == repo && b.sha.starts_with(name))
        {
            return Some(Target::Branch(b.name.clone()));
        }
    }
    None
}

/// The files at a target: `main`'s, with a created branch's over them.
fn files_at(s: &Shared, repo: &str, target: &Target) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = files(repo)
        .iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect();
    if let Target::Branch(name) = target {
        let w = writes(s);
        if let Some(b) = w
            .branches
            .iter()
            .find(|b| b.repo == repo && &b.name == name)
        {
            for (p, c) in &b.files {
                match out.iter_mut().find(|(q, _)| q == p) {
                    Some(slot) => slot.1 = c.clone(),
                    None => out.push((p.clone(), c.clone())),
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn target_sha(s: &Shared, repo: &str, hist: &[Commit], target: &Target) -> String {
    match target {
        Target::Commit(i) => hist[*i].sha.clone(),
        Target::Branch(name) => writes(s)
            .branches
            .iter()
            .find(|b| b.repo == repo && &b.name == name)
            .map(|b| b.sha.clone())
            .unwrap_or_default(),
    }
}

/// A blob's sha (stands in for git's: the same contents, the same sha).
fn blob_sha(content: &[u8]) -> String {
    hex_id(&format!("blob/{}", String::from_utf8_lossy(content)), 40)
}

/// Base64 with a line break every 60 characters, as the contents API sends it.
pub fn base64_lines(data: &[u8]) -> String {
    use base64::Engine;
    let flat = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(flat.len() + flat.len() / 60 + 1);
    for (i, c) in flat.chars().enumerate() {
        if i > 0 && i % 60 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Strict base64 (line breaks allowed), as GitHub checks a PUT's `content`.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

fn commit_json(api: &str, repo: &str, c: &Commit, parent: Option<&Commit>) -> Value {
    let u = format!("{api}/repos/{repo}/commits/{}", c.sha);
    let person = json!({
        "name": c.author,
        "email": format!("{}@acme.example", c.author),
        "date": iso(c.at)
    });
    let parents: Vec<Value> = parent
        .map(|p| {
            json!({
                "sha": p.sha,
                "url": format!("{api}/repos/{repo}/commits/{}", p.sha),
                "html_url": format!("https://github.com/{repo}/commit/{}", p.sha)
            })
        })
        .into_iter()
        .collect();
    let tree = hex_id(&format!("tree/{repo}/{}", c.sha), 40);
    json!({
        "sha": c.sha,
        "node_id": format!("C_kwDO{}", hex_id(&u, 12)),
        "commit": {
            "author": person,
            "committer": person,
            "message": c.message,
            "tree": {"sha": tree, "url": format!("{api}/repos/{repo}/git/trees/{tree}")},
            "url": format!("{api}/repos/{repo}/git/commits/{}", c.sha),
            "comment_count": 0,
            "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null}
        },
        "url": u,
        "html_url": format!("https://github.com/{repo}/commit/{}", c.sha),
        "comments_url": format!("{u}/comments"),
        "author": user(api, c.author),
        "committer": user(api, "web-flow"),
        "parents": parents
    })
}

/// The merged PRs of `repo` as `GET /repos/{owner}/{repo}/pulls?state=closed` lists them: by
/// `sort` (`created`, the default, or `updated`) and `direction` (`desc` by default).
pub fn merged_pulls(api: &str, repo: &str, sort: &str, ascending: bool) -> Vec<Value> {
    let hist = history(repo);
    let mut merged: Vec<(&Merged, &Commit)> =
        hist.iter().filter_map(|c| c.pr.map(|pr| (pr, c))).collect();
    // Merged PRs are not updated after their merge here.
    let key = |(pr, c): &(&Merged, &Commit)| if sort == "updated" { c.at } else { pr.opened };
    merged.sort_by(|a, b| key(b).total_cmp(&key(a)));
    if ascending {
        merged.reverse();
    }
    merged
        .into_iter()
        .map(|(pr, c)| merged_pr_json(api, repo, pr, c))
        .collect()
}

fn merged_pr_json(api: &str, repo: &str, pr: &Merged, c: &Commit) -> Value {
    let n = pr.number;
    let u = format!("{api}/repos/{repo}/pulls/{n}");
    json!({
        "url": u,
        "id": 2_100_000_000u64 + n,
        "node_id": format!("PR_kwDO{}", hex_id(&u, 12)),
        "html_url": format!("https://github.com/{repo}/pull/{n}"),
        "issue_url": format!("{api}/repos/{repo}/issues/{n}"),
        "number": n,
        "state": "closed",
        "locked": false,
        "title": pr.title,
        "user": user(api, pr.author),
        "body": pr.body,
        "labels": [],
        "created_at": iso(pr.opened),
        "updated_at": iso(c.at),
        "closed_at": iso(c.at),
        "merged_at": iso(c.at),
        "merge_commit_sha": c.sha,
        "draft": false,
        "head": {"label": format!("acme:{}", pr.branch), "ref": pr.branch, "sha": hex_id(&format!("sha/{repo}/{}", pr.branch), 40)},
        "base": {"label": "acme:main", "ref": "main", "sha": c.sha},
        "author_association": "MEMBER"
    })
}

fn created_pr_json(api: &str, p: &Created, head_sha: &str, labels: &[String]) -> Value {
    let repo = &p.repo;
    let n = p.number;
    let u = format!("{api}/repos/{repo}/pulls/{n}");
    let owner = repo.split('/').next().unwrap_or("acme");
    let at = super::super::util::iso_unix(p.at);
    let labels: Vec<Value> = labels.iter().map(|l| label_json(api, repo, l)).collect();
    json!({
        "url": u,
        "id": 2_100_000_000u64 + n,
        "node_id": format!("PR_kwDO{}", hex_id(&u, 12)),
        "html_url": format!("https://github.com/{repo}/pull/{n}"),
        "diff_url": format!("https://github.com/{repo}/pull/{n}.diff"),
        "patch_url": format!("https://github.com/{repo}/pull/{n}.patch"),
        "issue_url": format!("{api}/repos/{repo}/issues/{n}"),
        "number": n,
        "state": "open",
        "locked": false,
        "title": p.title,
        "user": user(api, OPERATOR),
        "body": p.body,
        "created_at": at,
        "updated_at": at,
        "closed_at": null,
        "merged_at": null,
        "merge_commit_sha": null,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": labels,
        "milestone": null,
        "draft": p.draft,
        "commits_url": format!("{u}/commits"),
        "review_comments_url": format!("{u}/comments"),
        "comments_url": format!("{api}/repos/{repo}/issues/{n}/comments"),
        "statuses_url": format!("{api}/repos/{repo}/statuses/{head_sha}"),
        "head": {"label": format!("{owner}:{}", p.head), "ref": p.head, "sha": head_sha, "user": user(api, owner)},
        "base": {"label": format!("{owner}:{}", p.base), "ref": p.base, "sha": sha(repo, "main"), "user": user(api, owner)},
        "author_association": "MEMBER",
        "auto_merge": null,
        "active_lock_reason": null,
        "merged": false,
        "mergeable": null,
        "rebaseable": null,
        "mergeable_state": "unknown",
        "merged_by": null,
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": true,
        "commits": 1,
        "additions": 0,
        "deletions": 0,
        "changed_files": 1
    })
}

fn label_json(api: &str, repo: &str, name: &str) -> Value {
    json!({
        "id": 6_200_000 + (super::super::util::fnv64(name.as_bytes()) % 100_000),
        "node_id": format!("LA_kwDO{}", hex_id(name, 8)),
        "url": format!("{api}/repos/{repo}/labels/{name}"),
        "name": name,
        "color": "ededed",
        "default": false,
        "description": null
    })
}

fn content_json(
    api: &str,
    repo: &str,
    path: &str,
    reference: &str,
    content: &[u8],
    with_content: bool,
) -> Value {
    let blob = blob_sha(content);
    let name = path.rsplit('/').next().unwrap_or(path);
    let self_url = format!("{api}/repos/{repo}/contents/{path}?ref={reference}");
    let git_url = format!("{api}/repos/{repo}/git/blobs/{blob}");
    let html_url = format!("https://github.com/{repo}/blob/{reference}/{path}");
    let mut v = json!({
        "name": name,
        "path": path,
        "sha": blob,
        "size": content.len(),
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": format!("https://raw.githubusercontent.com/{repo}/{reference}/{path}"),
        "type": "file",
        "_links": {"self": self_url, "git": git_url, "html": html_url}
    });
    if with_content && let Some(o) = v.as_object_mut() {
        o.insert("content".into(), Value::from(base64_lines(content)));
        o.insert("encoding".into(), Value::from("base64"));
    }
    v
}

fn dir_json(api: &str, repo: &str, path: &str, reference: &str) -> Value {
    let u = format!("{api}/repos/{repo}/contents/{path}?ref={reference}");
    let tree = hex_id(&format!("dir/{repo}/{path}"), 40);
    json!({
        "name": path.rsplit('/').next().unwrap_or(path),
        "path": path,
        "sha": tree,
        "size": 0,
        "url": u,
        "html_url": format!("https://github.com/{repo}/tree/{reference}/{path}"),
        "git_url": format!("{api}/repos/{repo}/git/trees/{tree}"),
        "download_url": null,
        "type": "dir",
        "_links": {"self": u}
    })
}

fn not_found_message(message: &str, docs: &str) -> Reply {
    Reply::message(StatusCode::NOT_FOUND, message, docs)
}

/// `GET /repos/{owner}/{repo}`.
pub async fn get_repo(
    State(s): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = match known(&s, &owner, &repo) {
        None => Reply::not_found(),
        Some(full) => {
            let api = &s.github_url;
            let id = super::super::github_data::repo_id(full);
            Reply::ok(json!({
                "id": id,
                "node_id": format!("R_kgDO{}", hex_id(full, 8)),
                "name": repo,
                "full_name": full,
                "private": true,
                "owner": user(api, &owner),
                "html_url": format!("https://github.com/{full}"),
                "description": null,
                "fork": false,
                "url": format!("{api}/repos/{full}"),
                "default_branch": "main",
                "visibility": "private",
                "archived": false,
                "disabled": false,
                "has_issues": true,
                "permissions": {"admin": false, "maintain": true, "push": true, "triage": true, "pull": true}
            }))
        }
    };
    finish(&s, &headers, reply, true)
}

/// `GET /repos/{owner}/{repo}/git/trees/{ref}` (`recursive=1` lists every path).
pub async fn get_tree(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = tree_reply(&s, &owner, &repo, &reference, q.as_deref().unwrap_or(""));
    finish(&s, &headers, reply, true)
}

fn tree_reply(s: &Shared, owner: &str, repo: &str, reference: &str, query: &str) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let hist = history(full);
    let Some(target) = resolve(s, full, &hist, reference) else {
        return Reply::not_found();
    };
    let recursive = param(&parse_pairs(query), "recursive")
        .is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    let api = &s.github_url;
    let all = files_at(s, full, &target);
    let mut dirs: Vec<String> = Vec::new();
    for (p, _) in &all {
        let parts: Vec<&str> = p.split('/').collect();
        for i in 1..parts.len() {
            let d = parts[..i].join("/");
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    let mut entries: Vec<(String, Value)> = dirs
        .iter()
        .map(|d| {
            let sha = hex_id(&format!("dir/{full}/{d}"), 40);
            (d.clone(), json!({"path": d, "mode": "040000", "type": "tree", "sha": sha, "url": format!("{api}/repos/{full}/git/trees/{sha}")}))
        })
        .collect();
    entries.extend(all.iter().map(|(p, c)| {
        let sha = blob_sha(c);
        (p.clone(), json!({"path": p, "mode": "100644", "type": "blob", "sha": sha, "size": c.len(), "url": format!("{api}/repos/{full}/git/blobs/{sha}")}))
    }));
    entries.retain(|(p, _)| recursive || !p.contains('/'));
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let sha = hex_id(
        &format!("tree/{full}/{}", target_sha(s, full, &hist, &target)),
        40,
    );
    Reply::ok(json!({
        "sha": sha,
        "url": format!("{api}/repos/{full}/git/trees/{sha}"),
        "tree": entries.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "truncated": false
    }))
}

/// `GET /repos/{owner}/{repo}/contents/{path}` (`ref` defaults to `main`): a file with its
/// base64 content, or a directory's listing.
pub async fn get_contents(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = contents_reply(&s, &owner, &repo, &path, q.as_deref().unwrap_or(""));
    finish(&s, &headers, reply, true)
}

fn contents_reply(s: &Shared, owner: &str, repo: &str, path: &str, query: &str) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let pairs = parse_pairs(query);
    let reference = param(&pairs, "ref")
        .filter(|r| !r.is_empty())
        .unwrap_or("main");
    let hist = history(full);
    let Some(target) = resolve(s, full, &hist, reference) else {
        return not_found_message(
            &format!("No commit found for the ref {reference}"),
            DOCS_CONTENTS,
        );
    };
    let path = path.trim_matches('/');
    let all = files_at(s, full, &target);
    let api = &s.github_url;
    if let Some((p, c)) = all.iter().find(|(p, _)| p == path) {
        return Reply::ok(content_json(api, full, p, reference, c, true));
    }
    // A directory: its files and subdirectories.
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut listed: Vec<(String, Value)> = Vec::new();
    for (p, c) in all.iter().filter(|(p, _)| p.starts_with(&prefix)) {
        let rest = &p[prefix.len()..];
        match rest.split_once('/') {
            None => listed.push((p.clone(), content_json(api, full, p, reference, c, false))),
            Some((dir, _)) => {
                let d = format!("{prefix}{dir}");
                if !listed.iter().any(|(q, _)| *q == d) {
                    listed.push((d.clone(), dir_json(api, full, &d, reference)));
                }
            }
        }
    }
    if listed.is_empty() {
        return not_found_message("Not Found", DOCS_CONTENTS);
    }
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    Reply::ok(Value::Array(listed.into_iter().map(|(_, v)| v).collect()))
}

/// `PUT /repos/{owner}/{repo}/contents/{path}`: create a file on a branch, or update it with
/// the blob `sha` it replaces (`main` is protected: changes go through a PR).
pub async fn put_contents(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = put_reply(&s, &owner, &repo, &path, &body);
    finish(&s, &headers, reply, true)
}

fn put_reply(s: &Shared, owner: &str, repo: &str, path: &str, body: &[u8]) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let Ok(b) = serde_json::from_slice::<Value>(body) else {
        return Reply::bad_json(DOCS_CONTENTS);
    };
    let text = |k: &str| b.get(k).and_then(Value::as_str);
    let Some(message) = text("message").filter(|m| !m.trim().is_empty()) else {
        return Reply::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"message\" wasn't supplied.",
            DOCS_CONTENTS,
        );
    };
    let Some(content) = text("content").and_then(unbase64) else {
        return Reply::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "content is not valid Base64",
            DOCS_CONTENTS,
        );
    };
    let path = path.trim_matches('/').to_string();
    if path.is_empty()
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Reply::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "path is not valid",
            DOCS_CONTENTS,
        );
    }
    let branch = text("branch").unwrap_or("main");
    let branch = branch
        .strip_prefix("refs/heads/")
        .unwrap_or(branch)
        .to_string();
    if branch == "main" {
        return Reply::message(
            StatusCode::CONFLICT,
            "Repository rule violations found\n\nChanges must be made through a pull request.",
            DOCS_CONTENTS,
        );
    }
    // One lock from the check of the sha to the write: concurrent updates with the same sha
    // see one succeed and the other conflict, as on GitHub.
    let mut w = writes(s);
    let Some(br) = w
        .branches
        .iter_mut()
        .find(|x| x.repo == full && x.name == branch)
    else {
        return not_found_message(&format!("Branch {branch} not found"), DOCS_CONTENTS);
    };
    let current = br
        .files
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, c)| blob_sha(c))
        .or_else(|| {
            files(full)
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, c)| blob_sha(c.as_bytes()))
        });
    let given = text("sha");
    match (&current, given) {
        (Some(_), None) => {
            return Reply::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid request.\n\n\"sha\" wasn't supplied.",
                DOCS_CONTENTS,
            );
        }
        (Some(cur), Some(g)) if cur != g => {
            return Reply::message(
                StatusCode::CONFLICT,
                &format!("{path} does not match {g}"),
                DOCS_CONTENTS,
            );
        }
        (None, Some(g)) => {
            return Reply::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Invalid request.\n\n\"sha\" {g} is not a file on {branch}."),
                DOCS_CONTENTS,
            );
        }
        _ => {}
    }
    let created = current.is_none();
    let parent = br.sha.clone();
    let commit_sha = hex_id(
        &format!("commit/{parent}/{path}/{}", blob_sha(&content)),
        40,
    );
    match br.files.iter_mut().find(|(p, _)| *p == path) {
        Some(slot) => slot.1 = content.clone(),
        None => br.files.push((path.clone(), content.clone())),
    }
    br.sha = commit_sha.clone();
    drop(w);
    let api = &s.github_url;
    let now = iso(s.clock.now());
    let person =
        json!({"name": "Demo Operator", "email": "demo-operator@acme.example", "date": now});
    let tree = hex_id(&format!("tree/{full}/{commit_sha}"), 40);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Reply::done(
        status,
        json!({
            "content": content_json(api, full, &path, &branch, &content, false),
            "commit": {
                "sha": commit_sha,
                "node_id": format!("C_kwDO{}", hex_id(&commit_sha, 12)),
                "url": format!("{api}/repos/{full}/git/commits/{commit_sha}"),
                "html_url": format!("https://github.com/{full}/commit/{commit_sha}"),
                "author": person,
                "committer": person,
                "tree": {"sha": tree, "url": format!("{api}/repos/{full}/git/trees/{tree}")},
                "message": message,
                "parents": [{"url": format!("{api}/repos/{full}/git/commits/{parent}"), "html_url": format!("https://github.com/{full}/commit/{parent}"), "sha": parent}],
                "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null}
            }
        }),
    )
}

fn ref_json(api: &str, repo: &str, name: &str, sha: &str) -> Value {
    json!({
        "ref": name,
        "node_id": format!("REF_kwDO{}", hex_id(&format!("{repo}/{name}"), 12)),
        "url": format!("{api}/repos/{repo}/git/{name}"),
        "object": {"sha": sha, "type": "commit", "url": format!("{api}/repos/{repo}/git/commits/{sha}")}
    })
}

/// `GET /repos/{owner}/{repo}/git/ref/{ref}` (`heads/<branch>`, `tags/<tag>`); 404 when absent.
pub async fn get_ref(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = get_ref_reply(&s, &owner, &repo, &reference);
    finish(&s, &headers, reply, true)
}

fn get_ref_reply(s: &Shared, owner: &str, repo: &str, reference: &str) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    if !(reference.starts_with("heads/") || reference.starts_with("tags/")) {
        return Reply::not_found();
    }
    let hist = history(full);
    match resolve(s, full, &hist, reference) {
        None => Reply::not_found(),
        Some(t) => Reply::ok(ref_json(
            &s.github_url,
            full,
            &format!("refs/{reference}"),
            &target_sha(s, full, &hist, &t),
        )),
    }
}

/// `POST /repos/{owner}/{repo}/git/refs` (`{"ref": "refs/heads/…", "sha": …}`).
pub async fn create_ref(
    State(s): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = create_ref_reply(&s, &owner, &repo, &body);
    finish(&s, &headers, reply, true)
}

fn create_ref_reply(s: &Shared, owner: &str, repo: &str, body: &[u8]) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let Ok(b) = serde_json::from_slice::<Value>(body) else {
        return Reply::bad_json(DOCS_REFS);
    };
    let (Some(name), Some(sha)) = (
        b.get("ref").and_then(Value::as_str),
        b.get("sha").and_then(Value::as_str),
    ) else {
        return Reply::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"ref\" and \"sha\" are required.",
            DOCS_REFS,
        );
    };
    let Some(branch) = name
        .strip_prefix("refs/heads/")
        .filter(|b| !b.is_empty() && !b.contains("..") && !b.ends_with('/') && !b.contains(' '))
    else {
        return Reply::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Reference name is invalid",
            DOCS_REFS,
        );
    };
    let hist = history(full);
    let mut w = writes(s);
    if branch == "main"
        || w.branches
            .iter()
            .any(|x| x.repo == full && x.name == branch)
    {
        return Reply::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Reference already exists",
            DOCS_REFS,
        );
    }
    // A branch from another created branch starts with its files.
    let from_branch = w
        .branches
        .iter()
        .find(|x| x.repo == full && x.sha == sha)
        .map(|x| x.files.clone());
    if from_branch.is_none() && !hist.iter().any(|c| c.sha == sha) {
        return Reply::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Object does not exist",
            DOCS_REFS,
        );
    }
    w.branches.push(Branch {
        repo: full.to_string(),
        name: branch.to_string(),
        sha: sha.to_string(),
        files: from_branch.unwrap_or_default(),
    });
    drop(w);
    Reply::done(
        StatusCode::CREATED,
        ref_json(&s.github_url, full, name, sha),
    )
}

/// `GET /repos/{owner}/{repo}/pulls?head=owner:branch` (the list's `head` filter): the open PRs
/// (the demo's and those created here) from that branch.
pub(super) fn pulls_with_head(s: &Shared, full: &str, head: &str, state: &str, t: f64) -> Reply {
    let branch = head.split_once(':').map_or(head, |(_, b)| b);
    let api = &s.github_url;
    let mut items: Vec<Value> = Vec::new();
    if matches!(state, "open" | "all" | "") {
        let w = writes(s);
        for p in w
            .pulls
            .iter()
            .rev()
            .filter(|p| p.repo == full && p.head == branch)
        {
            let head_sha = w
                .branches
                .iter()
                .find(|b| b.repo == full && b.name == p.head)
                .map(|b| b.sha.clone())
                .unwrap_or_default();
            let labels = labels_of(&w, full, p.number);
            items.push(created_pr_json(api, p, &head_sha, &labels));
        }
        drop(w);
        items.extend(
            super::super::github_data::open_prs(s.scale, full, t)
                .into_iter()
                .filter(|p| p.branch == branch)
                .map(|p| pr_json(api, p, t, None)),
        );
    }
    Reply::ok(Value::Array(items))
}

fn labels_of(w: &Writes, repo: &str, number: u64) -> Vec<String> {
    w.labels
        .iter()
        .find(|(r, n, _)| r == repo && *n == number)
        .map(|(_, _, l)| l.clone())
        .unwrap_or_default()
}

/// `POST /repos/{owner}/{repo}/pulls`: a PR from a branch created here.
pub async fn create_pull(
    State(s): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = create_pull_reply(&s, &owner, &repo, &body);
    finish(&s, &headers, reply, true)
}

fn create_pull_reply(s: &Shared, owner: &str, repo: &str, body: &[u8]) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let Ok(b) = serde_json::from_slice::<Value>(body) else {
        return Reply::bad_json(DOCS_PULLS);
    };
    let text = |k: &str| b.get(k).and_then(Value::as_str);
    let mut missing = Vec::new();
    for k in ["title", "head", "base"] {
        if text(k).is_none_or(|v| v.trim().is_empty()) {
            missing.push(("missing_field", k));
        }
    }
    if !missing.is_empty() {
        return Reply::failed("PullRequest", &missing, DOCS_PULLS);
    }
    let head = text("head").unwrap_or_default();
    let (head_owner, branch) = head.split_once(':').unwrap_or((owner, head));
    let base = text("base").unwrap_or_default();
    let hist = history(full);
    let branch_exists = head_owner == owner
        && matches!(
            resolve(s, full, &hist, &format!("heads/{branch}")),
            Some(Target::Branch(_))
        );
    if !branch_exists {
        return Reply::failed("PullRequest", &[("invalid", "head")], DOCS_PULLS);
    }
    if resolve(s, full, &hist, &format!("heads/{base}")).is_none() {
        return Reply::failed("PullRequest", &[("invalid", "base")], DOCS_PULLS);
    }
    let mut w = writes(s);
    if w.pulls.iter().any(|p| p.repo == full && p.head == branch) {
        let message = format!("A pull request already exists for {owner}:{branch}.");
        return Reply::done(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "message": "Validation Failed",
                "errors": [{"resource": "PullRequest", "code": "custom", "message": message}],
                "documentation_url": DOCS_PULLS
            }),
        );
    }
    let number = FIRST_CREATED_PR + w.pulls.iter().filter(|p| p.repo == full).count() as u64;
    let created = Created {
        repo: full.to_string(),
        number,
        title: text("title").unwrap_or_default().to_string(),
        body: text("body").unwrap_or_default().to_string(),
        head: branch.to_string(),
        base: base.to_string(),
        draft: b.get("draft").and_then(Value::as_bool).unwrap_or(false),
        at: s.clock.unix_now() as i64,
    };
    let head_sha = w
        .branches
        .iter()
        .find(|x| x.repo == full && x.name == branch)
        .map(|x| x.sha.clone())
        .unwrap_or_default();
    let json = created_pr_json(&s.github_url, &created, &head_sha, &[]);
    w.pulls.push(created);
    Reply::done(StatusCode::CREATED, json)
}

/// `PATCH /repos/{owner}/{repo}/pulls/{number}` (`title`, `body`) of a PR created here.
pub async fn update_pull(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, number)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = update_pull_reply(&s, &owner, &repo, &number, &body);
    finish(&s, &headers, reply, true)
}

fn update_pull_reply(s: &Shared, owner: &str, repo: &str, number: &str, body: &[u8]) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let Ok(n) = number.parse::<u64>() else {
        return Reply::not_found();
    };
    let Ok(b) = serde_json::from_slice::<Value>(body) else {
        return Reply::bad_json(DOCS_PULLS);
    };
    let mut w = writes(s);
    let Some(i) = w.pulls.iter().position(|p| p.repo == full && p.number == n) else {
        // The demo's own PRs are not edited through the API.
        return Reply::not_found();
    };
    for (key, slot) in [("title", 0), ("body", 1)] {
        match b.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(v)) => {
                let p = &mut w.pulls[i];
                if slot == 0 {
                    p.title = v.clone();
                } else {
                    p.body = v.clone();
                }
            }
            Some(_) => return Reply::failed("PullRequest", &[("invalid", key)], DOCS_PULLS),
        }
    }
    let p = w.pulls[i].clone();
    let head_sha = w
        .branches
        .iter()
        .find(|x| x.repo == full && x.name == p.head)
        .map(|x| x.sha.clone())
        .unwrap_or_default();
    let labels = labels_of(&w, full, n);
    Reply::done(
        StatusCode::OK,
        created_pr_json(&s.github_url, &p, &head_sha, &labels),
    )
}

/// `POST /repos/{owner}/{repo}/issues/{number}/labels` (`{"labels": [...]}` or a list): the
/// issue's labels after adding.
pub async fn add_labels(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, number)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = add_labels_reply(&s, &owner, &repo, &number, &body);
    finish(&s, &headers, reply, true)
}

fn add_labels_reply(s: &Shared, owner: &str, repo: &str, number: &str, body: &[u8]) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let Ok(n) = number.parse::<u64>() else {
        return Reply::not_found();
    };
    let Ok(b) = serde_json::from_slice::<Value>(body) else {
        return Reply::bad_json(DOCS_LABELS);
    };
    let list = match &b {
        Value::Array(a) => Some(a),
        Value::Object(o) => o.get("labels").and_then(Value::as_array),
        _ => None,
    };
    let Some(names) = list.and_then(|a| {
        a.iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
    }) else {
        return Reply::failed("Label", &[("invalid", "labels")], DOCS_LABELS);
    };
    let t = s.clock.now();
    let demo = super::super::github_data::open_prs(s.scale, full, t)
        .into_iter()
        .find(|p| p.number == n)
        .map(|p| p.labels.iter().map(|l| l.to_string()).collect::<Vec<_>>());
    let mut w = writes(s);
    let exists = demo.is_some() || w.pulls.iter().any(|p| p.repo == full && p.number == n);
    if !exists {
        return Reply::not_found();
    }
    let idx = match w.labels.iter().position(|(r, k, _)| r == full && *k == n) {
        Some(i) => i,
        None => {
            w.labels
                .push((full.to_string(), n, demo.unwrap_or_default()));
            w.labels.len() - 1
        }
    };
    let labels = &mut w.labels[idx].2;
    for name in names {
        if !labels.iter().any(|l| l.eq_ignore_ascii_case(&name)) {
            labels.push(name);
        }
    }
    let api = &s.github_url;
    Reply::done(
        StatusCode::OK,
        Value::Array(labels.iter().map(|l| label_json(api, full, l)).collect()),
    )
}

/// `GET /repos/{owner}/{repo}/commits` (`sha`, `path`, `since`, `until`; newest first).
pub async fn list_commits(
    State(s): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = commits_reply(&s, &owner, &repo, q.as_deref().unwrap_or(""));
    finish(&s, &headers, reply, true)
}

fn commits_reply(s: &Shared, owner: &str, repo: &str, query: &str) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let pairs = parse_pairs(query);
    let hist = history(full);
    let from = param(&pairs, "sha")
        .filter(|v| !v.is_empty())
        .unwrap_or("main");
    let head = match resolve(s, full, &hist, from) {
        Some(Target::Commit(i)) => i,
        // A created branch: its commits are not listed, only what it was made from.
        Some(Target::Branch(_)) => hist.len().saturating_sub(1),
        None => return not_found_message(&format!("No commit found for SHA: {from}"), DOCS),
    };
    let time = |k: &str| {
        param(&pairs, k)
            .filter(|v| !v.is_empty())
            .map(|v| time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339))
    };
    let (since, until) = match (time("since"), time("until")) {
        (Some(Err(_)), _) => return Reply::invalid("Commit", "since"),
        (_, Some(Err(_))) => return Reply::invalid("Commit", "until"),
        (a, b) => (a.and_then(Result::ok), b.and_then(Result::ok)),
    };
    let path = param(&pairs, "path")
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty());
    let at = |c: &Commit| {
        time::OffsetDateTime::from_unix_timestamp(super::super::util::unix_of(c.at)).ok()
    };
    let api = &s.github_url;
    let items: Vec<Value> = (0..=head.min(hist.len().saturating_sub(1)))
        .rev()
        .filter(|i| !hist.is_empty() && *i < hist.len())
        .map(|i| (i, &hist[i]))
        .filter(|(_, c)| {
            path.is_none_or(|p| {
                c.files
                    .iter()
                    .any(|(f, _, _, _)| *f == p || f.starts_with(&format!("{p}/")))
            })
        })
        .filter(|(_, c)| since.is_none_or(|t| at(c).is_some_and(|a| a >= t)))
        .filter(|(_, c)| until.is_none_or(|t| at(c).is_some_and(|a| a <= t)))
        .map(|(i, c)| commit_json(api, full, c, i.checked_sub(1).map(|p| &hist[p])))
        .collect();
    super::page_of(
        s,
        &format!("/repos/{full}/commits"),
        &pairs,
        "Commit",
        items,
    )
}

/// `GET /repos/{owner}/{repo}/commits/{sha}/pulls`: the merged PR of a commit.
pub async fn commit_pulls(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = match known(&s, &owner, &repo) {
        None => Reply::not_found(),
        Some(full) => {
            let hist = history(full);
            match resolve(&s, full, &hist, &reference) {
                Some(Target::Commit(i)) => {
                    let c = &hist[i];
                    let items: Vec<Value> =
                        c.pr.map(|pr| merged_pr_json(&s.github_url, full, pr, c))
                            .into_iter()
                            .collect();
                    Reply::ok(Value::Array(items))
                }
                Some(Target::Branch(_)) => Reply::ok(Value::Array(Vec::new())),
                None => Reply::no_commit(&reference, DOCS),
            }
        }
    };
    finish(&s, &headers, reply, true)
}

/// `GET /repos/{owner}/{repo}/compare/{base}...{head}`.
pub async fn compare(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, basehead)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = compare_reply(&s, &owner, &repo, &basehead);
    finish(&s, &headers, reply, true)
}

fn compare_reply(s: &Shared, owner: &str, repo: &str, basehead: &str) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let Some((base, head)) = basehead
        .split_once("...")
        .or_else(|| basehead.split_once(".."))
    else {
        return Reply::not_found();
    };
    let hist = history(full);
    let (Some(Target::Commit(b)), Some(Target::Commit(h))) =
        (resolve(s, full, &hist, base), resolve(s, full, &hist, head))
    else {
        return Reply::not_found();
    };
    let api = &s.github_url;
    let range: Vec<usize> = if b < h {
        (b + 1..=h).collect()
    } else {
        Vec::new()
    };
    let commits: Vec<Value> = range
        .iter()
        .map(|i| commit_json(api, full, &hist[*i], Some(&hist[*i - 1])))
        .collect();
    let mut files: Vec<(&str, &str, u32, u32)> = Vec::new();
    for i in &range {
        for f in hist[*i].files {
            match files.iter_mut().find(|x| x.0 == f.0) {
                Some(x) => {
                    x.2 += f.2;
                    x.3 += f.3;
                }
                None => files.push(*f),
            }
        }
    }
    let head_sha = &hist[h].sha;
    let on_main: Vec<(&str, &str)> = files_of(full);
    let files: Vec<Value> = files
        .iter()
        .map(|(f, status, add, del)| {
            let blob = on_main
                .iter()
                .find(|(p, _)| p == f)
                .map_or_else(|| hex_id(f, 40), |(_, c)| blob_sha(c.as_bytes()));
            json!({
                "sha": blob,
                "filename": f,
                "status": status,
                "additions": add,
                "deletions": del,
                "changes": add + del,
                "blob_url": format!("https://github.com/{full}/blob/{head_sha}/{f}"),
                "raw_url": format!("https://github.com/{full}/raw/{head_sha}/{f}"),
                "contents_url": format!("{api}/repos/{full}/contents/{f}?ref={head_sha}")
            })
        })
        .collect();
    let status = match b.cmp(&h) {
        std::cmp::Ordering::Less => "ahead",
        std::cmp::Ordering::Equal => "identical",
        std::cmp::Ordering::Greater => "behind",
    };
    let (ahead, behind) = (h.saturating_sub(b), b.saturating_sub(h));
    let merge_base = b.min(h);
    Reply::ok(json!({
        "url": format!("{api}/repos/{full}/compare/{base}...{head}"),
        "html_url": format!("https://github.com/{full}/compare/{base}...{head}"),
        "permalink_url": format!(
            "https://github.com/{full}/compare/{}...{}",
            hist[b].sha.get(..7).unwrap_or_default(),
            hist[h].sha.get(..7).unwrap_or_default()
        ),
        "diff_url": format!("https://github.com/{full}/compare/{base}...{head}.diff"),
        "patch_url": format!("https://github.com/{full}/compare/{base}...{head}.patch"),
        "base_commit": commit_json(api, full, &hist[b], b.checked_sub(1).map(|p| &hist[p])),
        "merge_base_commit": commit_json(api, full, &hist[merge_base], merge_base.checked_sub(1).map(|p| &hist[p])),
        "status": status,
        "ahead_by": ahead,
        "behind_by": behind,
        "total_commits": commits.len(),
        "commits": commits,
        "files": files
    }))
}

fn files_of(repo: &str) -> Vec<(&'static str, &'static str)> {
    files(repo).to_vec()
}
/// The files of acme/checkout on `main` (path, contents).
pub const CHECKOUT_FILES: &[(&str, &str)] = &[
    (
        "CHANGELOG.md",
        r#"# Changelog

## 2.14.0
- Saved cards skip the payment form (#417).

## 2.13.3
- Refunds cover only the shipments not delivered yet (#416).
- The refunds worker is documented (#414).

## 2.13.2
- Payment capture retries on a gateway timeout.
"#,
    ),
    (
        "README.md",
        r#"# checkout

The checkout service: the payment routes (`checkout/`, Node.js) and the refunds worker
(`worker/`, Python). `npm test` runs the JavaScript tests, `pytest` the worker's.
"#,
    ),
    (
        "checkout/__tests__/gateway.test.js",
        r#"const { retryable } = require('../gateways');

describe('retryable', () => {
  test('a timeout is retried', () => {
    expect(retryable({ name: 'AbortError' })).toBe(true);
  });

  test('a declined card is not', () => {
    expect(retryable({ name: 'Error', status: 402 })).toBe(false);
  });
});
"#,
    ),
    (
        "checkout/customers.js",
        r#"'use strict';

// Customers and their saved cards (a store in memory; production reads the accounts service).

const saved = new Map();

const customers = {
  async load(id) {
    return saved.get(id) || null;
  },
  async save(customer) {
    saved.set(customer.id, customer);
    return customer;
  },
};

module.exports = { customers };
"#,
    ),
    (
        "checkout/gateways.js",
        r#"'use strict';

// The payment gateways, one per region, each with its own fee, over the gateway's HTTP API.

const BASE = process.env.GATEWAY_URL || 'https://gateway.invalid/v1';

const GATEWAYS = {
  eu: { name: 'adyen-eu', percent: 1.4 },
  us: { name: 'stripe-us', percent: 2.9 },
};

async function fetchWithTimeout(url, { timeout, ...options }) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  try {
    return await fetch(url, { ...options, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function capture(intent) {
  const res = await fetchWithTimeout(`${BASE}/capture`, {
    method: 'POST',
    timeout: 30000,
    body: JSON.stringify(intent),
  });
  return res.json();
}

// Worth another try: a timeout or the gateway's own failure.
function retryable(err) {
  return err.name === 'AbortError' || (err.status >= 500 && err.status !== 501);
}

function of(region) {
  const g = GATEWAYS[region] || GATEWAYS.eu;
  return {
    name: g.name,
    fee: (total) => Math.round(total * g.percent) / 100,
    charge: (intent) => capture({ ...intent, gateway: g.name }),
  };
}

module.exports = { for: of, capture, retryable };
"#,
    ),
    (
        "checkout/orders.js",
        r#"'use strict';

// Orders as the payment routes need them (the orders service's client).

const store = new Map();

async function load(id) {
  return store.get(id) || null;
}

async function markPaid(id, receipt) {
  const order = store.get(id);
  if (order) {
    store.set(id, { ...order, paid: true, receipt });
  }
}

async function receipt(id) {
  const order = store.get(id);
  return order && order.paid ? order.receipt : null;
}

module.exports = { load, markPaid, receipt, store };
"#,
    ),
    (
        "checkout/payment.js",
        r#"'use strict';

// Card payments: build the charge for an order and send it through the order's gateway.

const { customers } = require('./customers');

class PaymentError extends Error {
  constructor(message, code = 'payment_failed') {
    super(message);
    this.name = 'PaymentError';
    this.code = code;
  }
}

// Gateways take amounts in minor units (cents);
// currencies without minor units are charged as they are.
const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'VND', 'CLP', 'ISK']);

// Cards the gateways accept, by the first digits of the number.
const NETWORKS = [
  { name: 'visa', prefixes: ['4'] },
  { name: 'mastercard', prefixes: ['51', '52', '53', '54', '55', '22'] },
  { name: 'amex', prefixes: ['34', '37'] },
];

function networkOf(number) {
  const digits = String(number).replace(/\D/g, '');
  for (const network of NETWORKS) {
    if (network.prefixes.some((p) => digits.startsWith(p))) {
      return network.name;
    }
  }
  return null;
}

function luhnValid(number) {
  const digits = String(number).replace(/\D/g, '');
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = Number(digits[i]);
    if (double) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
    double = !double;
  }
  return digits.length >= 12 && sum % 10 === 0;
}

function minorUnits(amount, currency) {
  if (ZERO_DECIMAL.has(currency)) {
    return Math.round(amount);
  }
  return Math.round(amount * 100);
}

function describe(order) {
  const items = order.items || [];
  const count = items.reduce((n, item) => n + (item.quantity || 1), 0);
  return `Order ${order.id} (${count} item${count === 1 ? '' : 's'})`;
}

function validateCard(card) {
  if (!card) {
    throw new PaymentError('no card given', 'card_missing');
  }
  if (!luhnValid(card.number)) {
    throw new PaymentError('card number is not valid', 'card_invalid');
  }
  if (!networkOf(card.number)) {
    throw new PaymentError('card network is not accepted', 'card_network');
  }
  const now = new Date();
  const expires = new Date(card.expYear, card.expMonth, 1);
  if (expires <= now) {
    throw new PaymentError('card has expired', 'card_expired');
  }
  return card;
}

// A charge from the payment form: the card the customer typed in.
async function chargeNewCard(order, gateway) {
  const card = validateCard(order.payment.card);
  const amount = minorUnits(order.payment.amount, order.currency);
  return gateway.charge({
    card,
    amount,
    currency: order.currency,
    description: describe(order),
    idempotencyKey: `order-${order.id}`,
  });
}

function savedCardFor(customer) {
  if (!customer || !customer.defaultCard) {
    return null;
  }
  return customer.defaultCard;
}

// A charge for an order. Customers with a saved card skip the payment form.
async function chargeCard(order, gateway) {
  const customer = await customers.load(order.customerId);
  if (!savedCardFor(customer)) {
    if (order.payment && order.payment.card) {
      return chargeNewCard(order, gateway);
    }
    if (order.total === 0) {
      return { status: 'free', order: order.id };
    }
    throw new PaymentError('no card on file');
  }
  // saved cards skip the payment form, so order.payment may be unset
  const cents = Math.round(order.payment.amount * 100);
  return gateway.charge({
    card: customer.defaultCard,
    amount: cents,
    currency: order.currency,
    description: describe(order),
    idempotencyKey: `order-${order.id}`,
  });
}

module.exports = { chargeCard, PaymentError, luhnValid, minorUnits };
"#,
    ),
    (
        "checkout/routes/pay.js",
        r#"'use strict';

// Payment routes: the checkout page posts here once the customer confirms the order.

const express = require('express');
const { chargeCard, PaymentError } = require('../payment');
const orders = require('../orders');
const gateways = require('../gateways');

const router = express.Router();

function paymentFailed(res, err) {
  if (err instanceof PaymentError) {
    return res.status(402).json({ error: err.code, message: err.message });
  }
  throw err;
}

router.get('/pay/:orderId', async (req, res) => {
  const order = await orders.load(req.params.orderId);
  if (!order) {
    return res.status(404).json({ error: 'order_not_found' });
  }
  res.json({ order: order.id, total: order.total, currency: order.currency });
});

router.post('/pay/quote', async (req, res) => {
  const order = await orders.load(req.body.orderId);
  const gateway = gateways.for(order.region);
  res.json({ gateway: gateway.name, fee: gateway.fee(order.total) });
});

// The order was paid already: answer with the receipt we keep.
router.post('/pay/retry', async (req, res) => {
  const receipt = await orders.receipt(req.body.orderId);
  res.status(receipt ? 200 : 404).json(receipt || { error: 'no_receipt' });
});

router.post('/pay', async (req, res) => {
  const order = await orders.load(req.body.orderId);
  const gateway = gateways.for(order.region);
  const receipt = await chargeCard(order, gateway);
  await orders.markPaid(order.id, receipt);
  res.status(201).json(receipt);
});

router.use((err, req, res, next) => paymentFailed(res, err) || next(err));

module.exports = router;
"#,
    ),
    (
        "docs/refunds.md",
        r#"# Refunds

Refund requests arrive on the `refunds` queue. The worker refunds what has not been delivered
yet, split evenly over the open shipments; the remainder of the split goes on the first part.
"#,
    ),
    (
        "package.json",
        r#"{"name": "checkout", "private": true, "scripts": {"test": "jest"}, "devDependencies": {"jest": "^29.7.0"}}
"#,
    ),
    (
        "pyproject.toml",
        r#"[tool.pytest.ini_options]
testpaths = ["worker/tests"]
pythonpath = ["."]
"#,
    ),
    ("worker/__init__.py", ""),
    ("worker/app.py", APP_PY),
    ("worker/refunds.py", REFUNDS_PY),
    ("worker/tests/__init__.py", ""),
    (
        "worker/tests/test_refunds.py",
        r#"from worker.refunds import split_refund


def test_split_refund_puts_the_remainder_first():
    assert split_refund(1000, 3) == [334, 333, 333]
"#,
    ),
];
/// The files of acme/web on `main` (path, contents).
pub const WEB_FILES: &[(&str, &str)] = &[
    (
        "package.json",
        r#"{
  "name": "web",
  "private": true,
  "type": "module",
  "scripts": {
    "dev": "vite",
    "build": "tsc && vite build",
    "test": "vitest run"
  },
  "dependencies": {
    "react": "^18.3.1",
    "react-dom": "^18.3.1"
  },
  "devDependencies": {
    "typescript": "^5.6.3",
    "vite": "^5.4.11",
    "vitest": "^2.1.5"
  }
}
"#,
    ),
    (
        "tsconfig.json",
        r#"{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "jsx": "react-jsx",
    "strict": true,
    "noEmit": true
  },
  "include": ["web/src"]
}
"#,
    ),
    (
        "web/src/components/Carousel.tsx",
        r#"// A carousel of product images: swipe, arrow keys, dots, and autoplay that pauses on hover.

import { useCallback, useEffect, useRef, useState } from 'react';

export interface Slide {
  src: string;
  alt: string;
}

export interface CarouselProps {
  slides: Slide[];
  /** Width over height of every slide. */
  ratio?: number;
  /** Milliseconds between slides; 0 turns autoplay off. */
  interval?: number;
  onChange?: (index: number) => void;
}
const SWIPE_PX = 40;

function wrap(index: number, count: number): number {
  return ((index % count) + count) % count;
}

function Dots({
  count,
  current,
  go,
}: {
  count: number;
  current: number;
  go: (i: number) => void;
}) {
  return (
    <div className="carousel-dots" role="tablist">
      {Array.from({ length: count }, (_, i) => (
        <button
          key={i}
          role="tab"
          aria-selected={i === current}
          aria-label={`Slide ${i + 1}`}
          onClick={() => go(i)}
        />
      ))}
    </div>
  );
}

export function Carousel({ slides, ratio = 4 / 3, interval = 5000, onChange }: CarouselProps) {
  const [index, setIndex] = useState(0);
  const [width, setWidth] = useState(0);
  const [paused, setPaused] = useState(false);
  const el = useRef<HTMLDivElement>(null);
  const touchStart = useRef<number | null>(null);
  const count = slides.length;

  const go = useCallback(
    (next: number) => {
      const i = wrap(next, count);
      setIndex(i);
      onChange?.(i);
    },
    [count, onChange],
  );

  useEffect(() => {
    if (!interval || paused || count < 2) {
      return undefined;
    }
    const timer = setInterval(() => go(index + 1), interval);
    return () => clearInterval(timer);
  }, [go, index, interval, paused, count]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'ArrowLeft') go(index - 1);
    if (e.key === 'ArrowRight') go(index + 1);
  };

  const onTouchEnd = (e: React.TouchEvent) => {
    const start = touchStart.current;
    const dx = start === null ? 0 : e.changedTouches[0].clientX - start;
    if (Math.abs(dx) > SWIPE_PX) go(dx < 0 ? index + 1 : index - 1);
    touchStart.current = null;
  };

  const onResize = useCallback((entries) => {
    for (const entry of entries) {
      setWidth(entry.contentRect.width);
      el.current.style.height = `${entry.contentRect.width / ratio}px`;
    }
  }, [ratio]);

  useEffect(() => {
    const observer = new ResizeObserver(onResize);
    if (el.current) observer.observe(el.current);
    return () => observer.disconnect();
  }, [onResize]);

  return (
    <div
      ref={el}
      className="carousel"
      tabIndex={0}
      onKeyDown={onKeyDown}
      onMouseEnter={() => setPaused(true)}
      onMouseLeave={() => setPaused(false)}
      onTouchStart={(e) => (touchStart.current = e.touches[0].clientX)}
      onTouchEnd={onTouchEnd}
    >
      <div className="carousel-track" style={{ transform: `translateX(${-index * width}px)` }}>
        {slides.map((s) => (
          <img key={s.src} src={s.src} alt={s.alt} width={width} />
        ))}
      </div>
      <Dots count={count} current={index} go={go} />
    </div>
  );
}
"#,
    ),
    (
        "web/src/pages/Home.tsx",
        r#"export default function Home() {
  return <h1>Acme</h1>;
}
"#,
    ),
    (
        "web/src/router.test.ts",
        r#"import { describe, expect, it } from 'vitest';
import { match, routes } from './router';

describe('routes', () => {
  it('has a route per page', () => {
    expect(routes().map((r) => r.path)).toEqual(['/', '/cart', '/orders']);
  });

  it('matches a known path only', () => {
    expect(match('/cart')?.path).toBe('/cart');
    expect(match('/nowhere')).toBeUndefined();
  });
});
"#,
    ),
    (
        "web/src/router.ts",
        r#"// Client-side routes: each page is its own chunk, loaded when it is first visited.

export interface Route {
  path: string;
  load: () => Promise<unknown>;
}

const PAGES: Record<string, string> = {
  '/': 'Home',
  '/cart': 'Cart',
  '/orders': 'Orders',
};

function lazyRoute(name: string) {
  return async () => {
    const mod = await import(`./pages/${name}`);
    return mod.default;
  };
}

export function routes(): Route[] {
  return Object.entries(PAGES).map(([path, page]) => ({ path, load: lazyRoute(page) }));
}

export function match(path: string): Route | undefined {
  return routes().find((r) => r.path === path);
}
"#,
    ),
];

#[cfg(test)]
mod tests {
    use super::super::super::sentry_data::ISSUES;
    use super::super::super::{SimOptions, SimWorld, start};
    use super::*;

    async fn frozen(t: f64) -> SimWorld {
        start(SimOptions {
            speed: 0.0,
            start_at_secs: t,
            ..SimOptions::default()
        })
        .await
        .expect("demo world starts")
    }

    async fn get(url: &str) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .get(url)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    }

    async fn send(method: reqwest::Method, url: &str, body: Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .request(method, url)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    }

    /// A file's text through the contents API.
    async fn file_text(w: &SimWorld, repo: &str, path: &str, reference: &str) -> String {
        let (status, v) = get(&format!(
            "{}/repos/{repo}/contents/{path}?ref={reference}",
            w.github_url
        ))
        .await;
        assert_eq!(status, 200, "{path}: {v}");
        assert_eq!(v["encoding"], "base64");
        let bytes = unbase64(v["content"].as_str().expect("content")).expect("base64");
        assert_eq!(v["sha"], blob_sha(&bytes));
        String::from_utf8(bytes).expect("utf-8")
    }

    /// Lines `from..` of `text` (1-based), as many as `n`.
    fn lines(text: &str, from: usize, n: usize) -> Vec<&str> {
        text.lines().skip(from - 1).take(n).collect()
    }

    #[test]
    fn base64_round_trips_and_refuses_what_github_refuses() {
        for data in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            b"def split_refund(total_cents, parts):\n",
        ] {
            let text = base64_lines(data);
            assert_eq!(unbase64(&text).as_deref(), Some(data));
        }
        assert_eq!(base64_lines(b"hello"), "aGVsbG8=\n");
        assert!(base64_lines(&[7u8; 100]).lines().all(|l| l.len() <= 60));
        assert!(unbase64("aGVsbG8").is_none());
        assert!(unbase64("aG=sbG8=").is_none());
        assert!(unbase64("aGVs*G8=").is_none());
    }

    #[tokio::test]
    async fn the_files_hold_the_lines_the_sentry_frames_quote() {
        let w = frozen(100.0).await;
        for spec in ISSUES.iter() {
            let repo = match spec.project {
                "checkout" => "acme/checkout",
                _ => "acme/web",
            };
            for (file, _, line, _, in_app, context) in spec.frames {
                // CHECKOUT-2A and CHECKOUT-1K quote files the demo repository does not keep.
                if !in_app || !files(repo).iter().any(|(p, _)| p == file) {
                    continue;
                }
                let text = file_text(&w, repo, file, "main").await;
                let from = (*line as usize).saturating_sub(3).max(1);
                assert_eq!(
                    lines(&text, from, context.len()),
                    context.to_vec(),
                    "{} {file}:{line}",
                    spec.short_id
                );
            }
        }
        // CHECKOUT-4C's frames carry their files' whole source: the same bytes.
        for spec in ISSUES.iter() {
            for f in spec
                .rich_frames
                .iter()
                .filter(|f| f.in_app && !f.source.is_empty())
            {
                let text = file_text(&w, "acme/checkout", f.filename, "main").await;
                assert_eq!(text, f.source, "{} {}", spec.short_id, f.filename);
            }
        }
        assert!(
            ISSUES
                .iter()
                .any(|i| i.short_id == "CHECKOUT-4C" && !i.rich_frames.is_empty())
        );
        // The frames the demo relies on are all there.
        for (repo, file) in [
            ("acme/checkout", "checkout/payment.js"),
            ("acme/checkout", "checkout/routes/pay.js"),
            ("acme/web", "web/src/router.ts"),
            ("acme/web", "web/src/components/Carousel.tsx"),
        ] {
            assert!(files(repo).iter().any(|(p, _)| *p == file), "{file}");
        }
        let refunds = file_text(&w, "acme/checkout", "worker/refunds.py", "main").await;
        assert_eq!(refunds.lines().count(), 14);
        assert_eq!(lines(&refunds, 6, 1), ["    share = total_cents // parts"]);
        let app = file_text(&w, "acme/checkout", "worker/app.py", "v2.14.0").await;
        assert_eq!(lines(&app, 8, 1), ["    parts = refund_order(order)"]);
        let payment = file_text(&w, "acme/checkout", "checkout/payment.js", "main").await;
        assert!(
            payment
                .trim_end()
                .ends_with("module.exports = { chargeCard, PaymentError, luhnValid, minorUnits };")
        );
        let (status, _) = get(&format!(
            "{}/repos/acme/checkout/contents/worker/nothing.py",
            w.github_url
        ))
        .await;
        assert_eq!(status, 404);
        let (status, dir) = get(&format!(
            "{}/repos/acme/checkout/contents/worker",
            w.github_url
        ))
        .await;
        assert_eq!(status, 200);
        let names: Vec<&str> = dir
            .as_array()
            .expect("listing")
            .iter()
            .filter_map(|e| e["path"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "worker/__init__.py",
                "worker/app.py",
                "worker/refunds.py",
                "worker/tests"
            ]
        );
    }

    #[tokio::test]
    async fn trees_list_every_file_recursively() {
        let w = frozen(100.0).await;
        let (status, tree) = get(&format!(
            "{}/repos/acme/checkout/git/trees/main?recursive=1",
            w.github_url
        ))
        .await;
        assert_eq!(status, 200);
        assert_eq!(tree["truncated"], false);
        let blobs: Vec<&str> = tree["tree"]
            .as_array()
            .expect("tree")
            .iter()
            .filter(|e| e["type"] == "blob")
            .filter_map(|e| e["path"].as_str())
            .collect();
        for f in [
            "package.json",
            "pyproject.toml",
            "worker/__init__.py",
            "worker/app.py",
            "worker/refunds.py",
            "worker/tests/__init__.py",
            "worker/tests/test_refunds.py",
            "checkout/payment.js",
            "checkout/routes/pay.js",
            "checkout/__tests__/gateway.test.js",
        ] {
            assert!(blobs.contains(&f), "{f} in {blobs:?}");
        }
        assert_eq!(blobs.len(), files("acme/checkout").len());
        // Without `recursive`, the top level only.
        let (_, top) = get(&format!(
            "{}/repos/acme/checkout/git/trees/main",
            w.github_url
        ))
        .await;
        assert!(
            top["tree"]
                .as_array()
                .expect("tree")
                .iter()
                .all(|e| !e["path"].as_str().unwrap_or("/").contains('/'))
        );
        let (_, web) = get(&format!(
            "{}/repos/acme/web/git/trees/main?recursive=1",
            w.github_url
        ))
        .await;
        assert!(
            web["tree"]
                .as_array()
                .expect("tree")
                .iter()
                .any(|e| e["path"] == "web/src/router.test.ts")
        );
        let (status, _) = get(&format!(
            "{}/repos/acme/checkout/git/trees/nope?recursive=1",
            w.github_url
        ))
        .await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn the_held_deploy_compares_with_the_last_good_one_to_the_merged_prs() {
        let w = frozen(100.0).await;
        let api = &w.github_url;
        let (_, deploys) = get(&format!(
            "{api}/repos/acme/checkout/deployments?environment=production"
        ))
        .await;
        let shas: Vec<&str> = deploys
            .as_array()
            .expect("deployments")
            .iter()
            .filter_map(|d| d["sha"].as_str())
            .collect();
        let (head, good) = (shas[0], past_sha("acme/checkout", "2.13.2"));
        assert!(shas.contains(&good.as_str()));
        let (status, cmp) = get(&format!(
            "{api}/repos/acme/checkout/compare/{good}...{head}"
        ))
        .await;
        assert_eq!(status, 200, "{cmp}");
        assert_eq!(cmp["status"], "ahead");
        let messages: Vec<&str> = cmp["commits"]
            .as_array()
            .expect("commits")
            .iter()
            .filter_map(|c| c["commit"]["message"].as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "Refund only open shipments (#416)",
                "Describe the refunds worker (#414)",
                "Release checkout 2.13.3",
                "Skip the payment form for saved cards (#417)",
                "Release checkout 2.14.0",
            ]
        );
        assert_eq!(cmp["total_commits"], 5);
        let files: Vec<&str> = cmp["files"]
            .as_array()
            .expect("files")
            .iter()
            .filter_map(|f| f["filename"].as_str())
            .collect();
        for f in [
            "worker/refunds.py",
            "checkout/payment.js",
            "checkout/routes/pay.js",
            "docs/refunds.md",
        ] {
            assert!(files.contains(&f), "{f}");
        }
        // The tags name the same commits.
        let (_, by_tag) = get(&format!(
            "{api}/repos/acme/checkout/compare/v2.13.2...v2.14.0"
        ))
        .await;
        assert_eq!(by_tag["commits"], cmp["commits"]);
        let (_, tag) = get(&format!("{api}/repos/acme/checkout/git/ref/tags/v2.14.0")).await;
        assert_eq!(tag["object"]["sha"], head);
        // The commits that touched the crashing file since the good release, and their PR.
        let (_, touched) = get(&format!(
            "{api}/repos/acme/checkout/commits?path=worker%2Frefunds.py&sha={head}&since={}",
            iso(-10.0 * DAY)
        ))
        .await;
        let touched = touched.as_array().expect("commits");
        assert_eq!(touched.len(), 1);
        assert_eq!(
            touched[0]["commit"]["message"],
            "Refund only open shipments (#416)"
        );
        let sha416 = touched[0]["sha"].as_str().expect("sha");
        let (_, pulls) = get(&format!("{api}/repos/acme/checkout/commits/{sha416}/pulls")).await;
        assert_eq!(pulls[0]["number"], 416);
        assert_eq!(pulls[0]["state"], "closed");
        assert!(pulls[0]["merged_at"].is_string());
        let (_, none) = get(&format!("{api}/repos/acme/checkout/commits/{head}/pulls")).await;
        assert_eq!(none, json!([]));
        // Merged PRs are not open PRs.
        let (_, open) = get(&format!("{api}/repos/acme/checkout/pulls?per_page=100")).await;
        let numbers: Vec<u64> = open
            .as_array()
            .expect("pulls")
            .iter()
            .filter_map(|p| p["number"].as_u64())
            .collect();
        assert!(!numbers.is_empty());
        assert!(
            numbers
                .iter()
                .all(|n| ![414, 416, 417].contains(n) && *n < FIRST_CREATED_PR)
        );
    }

    #[tokio::test]
    async fn a_branch_a_file_a_draft_pr_and_a_label_are_created_and_seen_by_later_reads() {
        use reqwest::Method;
        let w = frozen(100.0).await;
        let api = w.github_url.clone();
        let repo = format!("{api}/repos/acme/checkout");
        let (_, r) = get(&repo).await;
        assert_eq!(r["default_branch"], "main");
        let branch = "flightdeck/regression-checkout-4c";
        let (status, _) = get(&format!("{repo}/git/ref/heads/{branch}")).await;
        assert_eq!(status, 404);
        let (_, main) = get(&format!("{repo}/git/ref/heads/main")).await;
        let base = main["object"]["sha"].as_str().expect("sha").to_string();
        assert_eq!(base, sha("acme/checkout", "main"));

        let new_ref = json!({"ref": format!("refs/heads/{branch}"), "sha": base});
        let (status, created) =
            send(Method::POST, &format!("{repo}/git/refs"), new_ref.clone()).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["ref"], format!("refs/heads/{branch}"));
        assert_eq!(created["object"]["sha"], base.as_str());
        let (status, again) = send(Method::POST, &format!("{repo}/git/refs"), new_ref).await;
        assert_eq!(
            (status, again["message"].as_str()),
            (422, Some("Reference already exists"))
        );
        let (status, _) = send(
            Method::POST,
            &format!("{repo}/git/refs"),
            json!({"ref": "refs/heads/other", "sha": "0123456789012345678901234567890123456789"}),
        )
        .await;
        assert_eq!(status, 422);
        let (status, seen) = get(&format!("{repo}/git/ref/heads/{branch}")).await;
        assert_eq!((status, &seen["object"]["sha"]), (200, &json!(base)));

        // Create the test file on the branch.
        let path = "worker/tests/test_checkout_4c.py";
        let text = "import pytest\n";
        let file_url = format!("{repo}/contents/{path}");
        let put = |body: Value| send(Method::PUT, &file_url, body);
        let (status, made) = put(json!({
            "message": "Regression test for CHECKOUT-4C",
            "content": base64_lines(text.as_bytes()).replace('\n', ""),
            "branch": branch
        }))
        .await;
        assert_eq!(status, 201, "{made}");
        let file_sha = made["content"]["sha"].as_str().expect("sha").to_string();
        assert_eq!(made["commit"]["parents"][0]["sha"], base.as_str());
        assert_eq!(file_text(&w, "acme/checkout", path, branch).await, text);
        let (status, _) = get(&format!("{repo}/contents/{path}")).await;
        assert_eq!(status, 404, "not on main");
        let (_, tree) = get(&format!("{repo}/git/trees/{branch}?recursive=1")).await;
        assert!(
            tree["tree"]
                .as_array()
                .expect("tree")
                .iter()
                .any(|e| e["path"] == path)
        );
        // Updating needs the sha it replaces.
        let update = |sha: Option<&str>| {
            let mut b = json!({"message": "Update", "content": base64_lines(b"import pytest  # v2\n"), "branch": branch});
            if let Some(s) = sha {
                b["sha"] = json!(s);
            }
            put(b)
        };
        assert_eq!(update(None).await.0, 422);
        assert_eq!(
            update(Some("0000000000000000000000000000000000000000"))
                .await
                .0,
            409
        );
        let (status, updated) = update(Some(&file_sha)).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(
            file_text(&w, "acme/checkout", path, branch).await,
            "import pytest  # v2\n"
        );
        let (_, moved) = get(&format!("{repo}/git/ref/heads/{branch}")).await;
        assert_eq!(moved["object"]["sha"], updated["commit"]["sha"]);
        // `main` takes changes through PRs only; a branch that does not exist is 404.
        let (status, _) = put(json!({"message": "x", "content": "eA==", "branch": "main"})).await;
        assert_eq!(status, 409);
        let (status, _) = put(json!({"message": "x", "content": "eA==", "branch": "nope"})).await;
        assert_eq!(status, 404);
        let (status, _) =
            put(json!({"message": "x", "content": "not base64!", "branch": branch})).await;
        assert_eq!(status, 422);

        // The draft PR, found again by its head.
        let by_head = format!("{repo}/pulls?head=acme:{branch}&state=open");
        assert_eq!(get(&by_head).await.1, json!([]));
        let pr = json!({"title": "Regression test for CHECKOUT-4C", "head": branch, "base": "main", "body": "From Sentry", "draft": true});
        let (status, opened) = send(Method::POST, &format!("{repo}/pulls"), pr.clone()).await;
        assert_eq!(status, 201, "{opened}");
        assert_eq!(opened["number"], FIRST_CREATED_PR);
        assert_eq!(opened["draft"], true);
        assert_eq!(opened["head"]["ref"], branch);
        let (status, dup) = send(Method::POST, &format!("{repo}/pulls"), pr).await;
        assert_eq!(status, 422);
        assert!(
            dup["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("already exists")
        );
        let (_, found) = get(&by_head).await;
        assert_eq!(found[0]["number"], FIRST_CREATED_PR);
        // The demo's own PRs are found by their head too.
        let (_, demo) = get(&format!("{repo}/pulls?head=acme:fix/capture-retry")).await;
        assert_eq!(demo[0]["number"], 412);

        let (status, labels) = send(
            Method::POST,
            &format!("{repo}/issues/{FIRST_CREATED_PR}/labels"),
            json!({"labels": ["regression-test"]}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(labels[0]["name"], "regression-test");
        let (_, found) = get(&by_head).await;
        assert_eq!(found[0]["labels"][0]["name"], "regression-test");
        // Its text can be edited; the demo's own PRs cannot.
        let (status, edited) = send(
            Method::PATCH,
            &format!("{repo}/pulls/{FIRST_CREATED_PR}"),
            json!({"title": "Regression test for CHECKOUT-4C (v2)", "body": "Updated"}),
        )
        .await;
        assert_eq!(status, 200, "{edited}");
        assert_eq!(edited["labels"][0]["name"], "regression-test");
        let (_, found) = get(&by_head).await;
        assert_eq!(found[0]["title"], "Regression test for CHECKOUT-4C (v2)");
        assert_eq!(found[0]["body"], "Updated");
        let (status, _) = send(
            Method::PATCH,
            &format!("{repo}/pulls/412"),
            json!({"title": "x"}),
        )
        .await;
        assert_eq!(status, 404);
        let (status, _) = send(
            Method::POST,
            &format!("{repo}/issues/9999/labels"),
            json!({"labels": ["x"]}),
        )
        .await;
        assert_eq!(status, 404);

        // Every write was recorded, with its body.
        let m = w.github_mutations();
        let kinds: Vec<(String, String)> = m
            .iter()
            .map(|r| (r.method.clone(), r.path.clone()))
            .collect();
        assert!(kinds.contains(&("POST".into(), "/repos/acme/checkout/git/refs".into())));
        assert!(kinds.contains(&(
            "PUT".into(),
            format!("/repos/acme/checkout/contents/{path}")
        )));
        assert!(kinds.contains(&("POST".into(), "/repos/acme/checkout/pulls".into())));
        assert!(kinds.contains(&(
            "POST".into(),
            format!("/repos/acme/checkout/issues/{FIRST_CREATED_PR}/labels")
        )));
        assert!(
            m.iter()
                .any(|r| r.path.ends_with("/pulls") && r.body.contains("\"draft\":true"))
        );
    }
}
