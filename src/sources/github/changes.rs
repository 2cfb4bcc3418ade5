//! What changed in a repository, read on demand for an incident: the deployments of an
//! environment and their outcomes, the comparison between two deploys (commits and files), the
//! commits that touched a path, the PRs of a commit, a tag's commit, the repository's tree and a
//! file's contents; and [`GitHub::suspects`], which reads the few of those an incident needs and
//! ranks them ([`crate::analysis::suspect`]). Every GET goes through the token's budget and the
//! ETag cache like the other REST reads.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{
    ApiDeployment, ApiDeploymentStatus, ApiUser, GitHub, SourceError, optional, parse_time,
};
use crate::analysis::suspect::{
    self, Commit, Deploy, DeployChanges, DeployOutcome, Inputs, MergedPr, PathCommits,
};
use crate::domain::{Incident, IncidentEvent, SentryCommits, Suspect};
use crate::sanitize::clean;

/// The most requests [`GitHub::suspects`] sends for one incident.
pub const SUSPECT_REQUESTS: usize = 8;
/// Frame files whose commits are read (the crash frame's first).
const PATHS_READ: usize = 2;

#[derive(Debug, Clone, Deserialize)]
pub struct ApiGitPerson {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiGitCommit {
    #[serde(default)]
    pub author: Option<ApiGitPerson>,
    #[serde(default)]
    pub committer: Option<ApiGitPerson>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A commit as the compare and list-commits answers give it.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiCommit {
    pub sha: String,
    #[serde(default)]
    pub commit: Option<ApiGitCommit>,
    #[serde(default)]
    pub author: Option<ApiUser>,
    #[serde(default)]
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiCompareFile {
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub previous_filename: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /repos/{o}/{r}/compare/{base}...{head}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiComparison {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub total_commits: Option<u64>,
    #[serde(default)]
    pub commits: Vec<ApiCommit>,
    #[serde(default)]
    pub files: Option<Vec<ApiCompareFile>>,
}

/// A pull request of a commit (`GET .../commits/{sha}/pulls`).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiCommitPull {
    pub number: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub merged_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiGitObject {
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `GET /repos/{o}/{r}/git/ref/{ref}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiGitRef {
    #[serde(default, rename = "ref")]
    pub name: Option<String>,
    #[serde(default)]
    pub object: Option<ApiGitObject>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiTreeEntry {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `GET /repos/{o}/{r}/git/trees/{ref}?recursive=1`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiTree {
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub tree: Vec<ApiTreeEntry>,
    #[serde(default)]
    pub truncated: Option<bool>,
}

/// `GET /repos/{o}/{r}/contents/{path}` for a file.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiContent {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
}

/// A repository's files at a ref.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RepoTree {
    pub sha: String,
    /// Paths of the blobs (files), in GitHub's order.
    pub paths: Vec<String>,
    /// GitHub cut the listing short (over 100,000 entries or 7 MB).
    pub truncated: bool,
}

/// A file read through the contents API.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RepoFile {
    pub path: String,
    /// The blob sha (what an update must name).
    pub sha: String,
    pub content: Vec<u8>,
}

impl RepoFile {
    /// The contents as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.content).into_owned()
    }
}

/// What the compare answer holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// Oldest first, as GitHub lists them.
    pub commits: Vec<Commit>,
    pub files: Vec<String>,
    /// PRs named in the commit messages (squash `Title (#417)`, `Merge pull request #417`).
    pub prs: Vec<MergedPr>,
    pub total_commits: u64,
}

/// Percent-encode `s` for a URL path (keeping `/` when `keep_slash`) or a query value.
pub fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decode GitHub's base64 `content` (with its line breaks); `None` when it is not base64.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// The PR a commit message names, with its title: `Title (#417)` (a squash merge) or
/// `Merge pull request #417 from owner/branch` followed by the title.
pub fn pr_of_message(message: &str) -> Option<(u64, String)> {
    let mut lines = message.lines();
    let first = lines.next()?.trim();
    if let Some(rest) = first.strip_prefix("Merge pull request #") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let n = digits.parse().ok()?;
        let title = lines.map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        return Some((n, title.to_string()));
    }
    let open = first.rfind("(#")?;
    let inner = first[open + 2..].strip_suffix(')')?;
    let n = inner.parse().ok()?;
    Some((n, first[..open].trim_end().to_string()))
}

/// A version-like string (`2.14.0`, `v2.14.0`, `2026.11.23`): digits with dots.
fn version_like(s: &str) -> Option<&str> {
    let v = s.trim();
    let bare = v.strip_prefix('v').unwrap_or(v);
    let ok = bare.contains('.')
        && bare.starts_with(|c: char| c.is_ascii_digit())
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    ok.then_some(v)
}

impl ApiDeployment {
    /// The release the deployment names: `payload.version` / `payload.release`, a version-like
    /// description, or a tag-like ref.
    pub fn version(&self) -> Option<String> {
        let from_payload = ["version", "release"].iter().find_map(|k| {
            self.payload
                .as_ref()?
                .get(k)?
                .as_str()
                .and_then(version_like)
        });
        from_payload
            .or_else(|| self.description.as_deref().and_then(version_like))
            .or_else(|| {
                self.git_ref
                    .as_deref()
                    .map(|r| r.strip_prefix("refs/tags/").unwrap_or(r))
                    .and_then(version_like)
            })
            .map(clean)
    }

    pub fn into_deploy(self, repo: &str, environment: &str) -> Deploy {
        Deploy {
            repo: repo.to_string(),
            environment: self
                .environment
                .as_deref()
                .map(clean)
                .unwrap_or_else(|| environment.to_string()),
            id: self.id,
            version: self.version(),
            sha: clean(&self.sha),
            git_ref: self.git_ref.as_deref().map(clean),
            created_at: parse_time(self.created_at.as_deref()),
            finished_at: None,
            outcome: DeployOutcome::Unknown,
            url: None,
        }
    }
}

impl ApiCommit {
    pub fn into_commit(self) -> Commit {
        let git = self.commit.as_ref();
        let message = git.and_then(|c| c.message.as_deref()).unwrap_or("");
        let author = self
            .author
            .as_ref()
            .and_then(|u| u.login.as_deref())
            .or_else(|| git.and_then(|c| c.author.as_ref()?.name.as_deref()))
            .unwrap_or("");
        let at = git.and_then(|c| {
            parse_time(c.author.as_ref()?.date.as_deref())
                .or_else(|| parse_time(c.committer.as_ref()?.date.as_deref()))
        });
        Commit {
            sha: clean(&self.sha),
            message: clean(message.lines().next().unwrap_or("")),
            author: clean(author),
            at,
            prs: pr_of_message(message).map(|(n, _)| n).into_iter().collect(),
            url: self.html_url.as_deref().map(clean),
        }
    }
}

impl ApiComparison {
    /// The comparison as the ranking reads it; `repo_url` (`https://github.com/o/r`) makes the
    /// PRs' links.
    pub fn into_comparison(self, repo_url: &str) -> Comparison {
        let mut prs: Vec<MergedPr> = Vec::new();
        for c in &self.commits {
            let message = c
                .commit
                .as_ref()
                .and_then(|g| g.message.as_deref())
                .unwrap_or("");
            if let Some((number, title)) = pr_of_message(message)
                && !prs.iter().any(|p| p.number == number)
            {
                prs.push(MergedPr {
                    number,
                    title: clean(&title),
                    url: format!("{repo_url}/pull/{number}"),
                    merged_at: None,
                });
            }
        }
        let total = self.total_commits.unwrap_or(self.commits.len() as u64);
        Comparison {
            commits: self
                .commits
                .into_iter()
                .map(ApiCommit::into_commit)
                .collect(),
            files: self
                .files
                .unwrap_or_default()
                .iter()
                .filter_map(|f| f.filename.as_deref().map(clean))
                .collect(),
            prs,
            total_commits: total,
        }
    }
}

impl ApiCommitPull {
    pub fn into_merged(self) -> MergedPr {
        MergedPr {
            number: self.number,
            title: self.title.as_deref().map(clean).unwrap_or_default(),
            url: self.html_url.as_deref().map(clean).unwrap_or_default(),
            merged_at: parse_time(self.merged_at.as_deref()),
        }
    }
}

impl ApiTree {
    pub fn into_tree(self) -> RepoTree {
        RepoTree {
            sha: self.sha.as_deref().map(clean).unwrap_or_default(),
            paths: self
                .tree
                .iter()
                .filter(|e| e.kind.as_deref() == Some("blob"))
                .filter_map(|e| e.path.as_deref().map(clean))
                .collect(),
            truncated: self.truncated.unwrap_or(false),
        }
    }
}

impl ApiContent {
    /// The file; a directory, a symlink or a file too big for the contents API (`encoding:
    /// none`) is a decode error naming it.
    pub fn into_file(self, path: &str) -> Result<RepoFile, SourceError> {
        if self.kind.as_deref().is_some_and(|k| k != "file") {
            return Err(SourceError::Decode(format!(
                "{path} is a {}, not a file",
                clean(self.kind.as_deref().unwrap_or(""))
            )));
        }
        let content = match (self.encoding.as_deref(), self.content.as_deref()) {
            (Some("base64") | None, Some(c)) => decode_base64(c)
                .ok_or_else(|| SourceError::Decode(format!("{path}: content is not base64")))?,
            (Some("none"), _) | (_, None) => {
                return Err(SourceError::Decode(format!(
                    "{path}: too big for the contents API ({} bytes)",
                    self.size.unwrap_or(0)
                )));
            }
            (Some(other), _) => {
                return Err(SourceError::Decode(format!(
                    "{path}: unknown encoding {}",
                    clean(other)
                )));
            }
        };
        Ok(RepoFile {
            path: self
                .path
                .as_deref()
                .map(clean)
                .unwrap_or_else(|| path.to_string()),
            sha: self.sha.as_deref().map(clean).unwrap_or_default(),
            content,
        })
    }
}

/// A deployment's outcome from its statuses (newest first, as GitHub lists them).
pub fn outcome(statuses: &[ApiDeploymentStatus]) -> DeployOutcome {
    DeployOutcome::from_statuses(statuses.iter().filter_map(|s| s.state.as_deref()))
}

/// `https://api.github.com` → `https://github.com`; an enterprise `https://ghe/api/v3` →
/// `https://ghe`; anything else (a test server) as it is.
fn web_root(api: &str) -> String {
    if let Some(rest) = api.strip_prefix("https://api.") {
        return format!("https://{rest}");
    }
    api.strip_suffix("/api/v3").unwrap_or(api).to_string()
}

impl GitHub {
    pub(super) fn statuses_url(&self, repo: &str, id: u64) -> String {
        format!(
            "{}/repos/{repo}/deployments/{id}/statuses?per_page=10",
            self.api
        )
    }

    pub(super) fn deployments_url(&self, repo: &str, environment: &str) -> String {
        format!(
            "{}/repos/{repo}/deployments?environment={}&per_page=30",
            self.api,
            encode(environment, false)
        )
    }

    /// The newest deployments (up to 30) of `repo` to `environment`, newest first, without
    /// their statuses (outcome `Unknown`).
    pub async fn deployments(
        &self,
        repo: &str,
        environment: &str,
    ) -> Result<Vec<Deploy>, SourceError> {
        let url = self.deployments_url(repo, environment);
        let (items, _) = self
            .get_parsed(
                &url,
                &format!("deployments of {repo} to {environment}"),
                |b| serde_json::from_slice::<Vec<ApiDeployment>>(b),
            )
            .await?;
        let web = web_root(&self.api);
        Ok(items
            .into_iter()
            .map(|d| {
                let mut deploy = d.into_deploy(repo, environment);
                deploy.url = Some(format!(
                    "{web}/{repo}/deployments/{}",
                    encode(environment, false)
                ));
                deploy
            })
            .collect())
    }

    /// A deployment's outcome from its statuses, and when it succeeded.
    pub async fn deployment_outcome(
        &self,
        repo: &str,
        id: u64,
    ) -> Result<(DeployOutcome, Option<OffsetDateTime>), SourceError> {
        let url = self.statuses_url(repo, id);
        let (statuses, _) = self
            .get_parsed(&url, &format!("statuses of deployment {id}"), |b| {
                serde_json::from_slice::<Vec<ApiDeploymentStatus>>(b)
            })
            .await?;
        let outcome = outcome(&statuses);
        let finished = statuses
            .iter()
            .find(|s| s.state.as_deref() == Some("success"))
            .and_then(|s| parse_time(s.created_at.as_deref()));
        Ok((outcome, finished))
    }

    /// What `head` has that `base` has not: commits (oldest first) and changed files.
    pub async fn compare(
        &self,
        repo: &str,
        base: &str,
        head: &str,
    ) -> Result<Comparison, SourceError> {
        let url = format!(
            "{}/repos/{repo}/compare/{}...{}?per_page=100",
            self.api,
            encode(base, true),
            encode(head, true)
        );
        let (c, _) = self
            .get_parsed(
                &url,
                &format!(
                    "comparison of {repo} {}...{}",
                    suspect::short_sha(base),
                    suspect::short_sha(head)
                ),
                |b| serde_json::from_slice::<ApiComparison>(b),
            )
            .await?;
        Ok(c.into_comparison(&format!("{}/{repo}", web_root(&self.api))))
    }

    /// The pull requests a commit belongs to.
    pub async fn commit_pulls(&self, repo: &str, sha: &str) -> Result<Vec<MergedPr>, SourceError> {
        let url = format!(
            "{}/repos/{repo}/commits/{}/pulls",
            self.api,
            encode(sha, false)
        );
        let (pulls, _) = self
            .get_parsed(
                &url,
                &format!("pull requests of {}", suspect::short_sha(sha)),
                |b| serde_json::from_slice::<Vec<ApiCommitPull>>(b),
            )
            .await?;
        Ok(pulls.into_iter().map(ApiCommitPull::into_merged).collect())
    }

    /// The commits reachable from `from` (a sha or branch; the default branch when `None`) that
    /// touched `path`, newest first, since `since` when given (one page of 100).
    pub async fn path_commits(
        &self,
        repo: &str,
        path: &str,
        from: Option<&str>,
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<Commit>, SourceError> {
        let mut url = format!(
            "{}/repos/{repo}/commits?path={}&per_page=100",
            self.api,
            encode(path, false)
        );
        if let Some(f) = from {
            url.push_str(&format!("&sha={}", encode(f, false)));
        }
        if let Some(s) = since.and_then(|s| {
            s.format(&time::format_description::well_known::Rfc3339)
                .ok()
        }) {
            url.push_str(&format!("&since={}", encode(&s, false)));
        }
        let (commits, _) = self
            .get_parsed(&url, &format!("commits of {repo} touching {path}"), |b| {
                serde_json::from_slice::<Vec<ApiCommit>>(b)
            })
            .await?;
        Ok(commits.into_iter().map(ApiCommit::into_commit).collect())
    }

    /// The commit a tag points at (`None` when there is no such tag, or it is an annotated tag
    /// whose object is not a commit).
    pub async fn tag_commit(&self, repo: &str, tag: &str) -> Result<Option<String>, SourceError> {
        let url = format!(
            "{}/repos/{repo}/git/ref/tags/{}",
            self.api,
            encode(tag, true)
        );
        match self
            .get_parsed(&url, &format!("tag {tag} of {repo}"), |b| {
                serde_json::from_slice::<ApiGitRef>(b)
            })
            .await
        {
            Ok((r, _)) => Ok(r
                .object
                .filter(|o| o.kind.as_deref().is_none_or(|k| k == "commit"))
                .and_then(|o| o.sha)
                .map(|s| clean(&s))),
            Err(SourceError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The repository's files at `git_ref` (a branch, tag or sha), read recursively.
    pub async fn tree(&self, repo: &str, git_ref: &str) -> Result<RepoTree, SourceError> {
        let url = format!(
            "{}/repos/{repo}/git/trees/{}?recursive=1",
            self.api,
            encode(git_ref, true)
        );
        let (tree, _) = self
            .get_parsed(&url, &format!("tree of {repo} at {git_ref}"), |b| {
                serde_json::from_slice::<ApiTree>(b)
            })
            .await?;
        Ok(tree.into_tree())
    }

    /// A file's contents at `git_ref` (the default branch when `None`); `None` when it does not
    /// exist (404).
    pub async fn file(
        &self,
        repo: &str,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Option<RepoFile>, SourceError> {
        let mut url = format!(
            "{}/repos/{repo}/contents/{}",
            self.api,
            encode(path.trim_start_matches('/'), true)
        );
        if let Some(r) = git_ref {
            url.push_str(&format!("?ref={}", encode(r, false)));
        }
        match self
            .get_parsed(&url, &format!("{path} in {repo}"), |b| {
                serde_json::from_slice::<ApiContent>(b)
            })
            .await
        {
            Ok((c, _)) => c.into_file(path).map(Some),
            Err(SourceError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The suspected changes of `incident` (its latest `event` when fetched) in `repo`'s
    /// deployments to `environment`, best first; empty when nothing fits. At most
    /// [`SUSPECT_REQUESTS`] requests: the deployments, the statuses of the newest ones down to
    /// the last good deploy, the event's release tag when no deployment names its version, the
    /// comparison of the live deploy with the last good one, the commits that touched the
    /// in-app frames' files in between, and the PRs of those commits when their messages do not
    /// name them. A refused optional read (403, 404, 422) leaves its part out; a rate limit or an
    /// unreachable GitHub is the error.
    pub async fn suspects(
        &self,
        incident: &Incident,
        event: Option<&IncidentEvent>,
        repo: &str,
        environment: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<Suspect>, SourceError> {
        self.suspects_with(
            incident,
            event,
            repo,
            environment,
            &SentryCommits::default(),
            now,
        )
        .await
    }

    /// [`GitHub::suspects`] with what Sentry says of the commits: its suspect commits and the
    /// commits of the event's release (shas or their prefixes), which add to the score of the
    /// deploy and the PR that hold them.
    pub async fn suspects_with(
        &self,
        incident: &Incident,
        event: Option<&IncidentEvent>,
        repo: &str,
        environment: &str,
        sentry: &SentryCommits,
        now: OffsetDateTime,
    ) -> Result<Vec<Suspect>, SourceError> {
        let mut left = SUSPECT_REQUESTS;
        let first_seen = incident
            .first_seen
            .or_else(|| event.and_then(|e| e.date))
            .unwrap_or(now)
            .min(now);
        let mut deploys = self.deployments(repo, environment).await?;
        left -= 1;
        deploys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let before: Vec<usize> = deploys
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.created_at
                    .is_some_and(|at| at <= first_seen && first_seen - at <= suspect::WINDOW)
            })
            .map(|(i, _)| i)
            .collect();

        // Statuses, newest first: the live deploy (the newest that did not fail) and the last
        // good one before it. Three reads at most, keeping enough for the comparison.
        let mut head: Option<usize> = None;
        let mut base: Option<usize> = None;
        for &i in &before {
            if left <= 4 {
                break;
            }
            let id = deploys[i].id;
            left -= 1;
            match self.deployment_outcome(repo, id).await {
                Ok((outcome, finished)) => {
                    deploys[i].outcome = outcome;
                    deploys[i].finished_at = finished;
                }
                Err(e) if optional(&e) => {}
                Err(e) => return Err(e),
            }
            let outcome = deploys[i].outcome;
            match head {
                None if outcome != DeployOutcome::Failed => head = Some(i),
                None => {}
                Some(_) if outcome.is_good() => {
                    base = Some(i);
                    break;
                }
                Some(_) => {}
            }
        }

        // The event's release: named by a deployment, or by a tag on its commit.
        let release = event.and_then(|e| e.release.as_deref());
        if let Some(r) = release
            && !deploys.iter().any(|d| suspect::release_matches(r, d))
            && !before.is_empty()
            && left > 2
        {
            let version = suspect::release_version(r);
            for tag in [format!("v{version}"), version.to_string()] {
                if version.is_empty() || left <= 2 {
                    break;
                }
                left -= 1;
                match self.tag_commit(repo, &tag).await {
                    Ok(Some(sha)) => {
                        for d in deploys.iter_mut().filter(|d| d.sha == sha) {
                            d.version.get_or_insert_with(|| clean(version));
                        }
                        break;
                    }
                    Ok(None) => {}
                    Err(e) if optional(&e) => break,
                    Err(e) => return Err(e),
                }
            }
        }

        // What the live deploy changed against the last good one.
        let mut changes = Vec::new();
        let mut path_commits = Vec::new();
        if let (Some(h), Some(b)) = (head, base)
            && left > 0
        {
            let (head_d, base_d) = (&deploys[h], &deploys[b]);
            left -= 1;
            let cmp = match self.compare(repo, &base_d.sha, &head_d.sha).await {
                Ok(c) => Some(c),
                Err(e) if optional(&e) => None,
                Err(e) => return Err(e),
            };
            if let Some(mut cmp) = cmp {
                // The changed files that hold in-app frames, the crash frame's first.
                let frames: Vec<&crate::domain::Frame> = event
                    .map(|e| {
                        let mut v: Vec<_> = e.in_app_frames().collect();
                        v.reverse();
                        v
                    })
                    .unwrap_or_default();
                let mut paths: Vec<&String> = Vec::new();
                for f in &frames {
                    for p in cmp.files.iter().filter(|p| suspect::frame_in(f, p)) {
                        if !paths.contains(&p) {
                            paths.push(p);
                        }
                    }
                }
                let since = base_d.created_at;
                for p in paths.into_iter().take(PATHS_READ) {
                    if left == 0 {
                        break;
                    }
                    left -= 1;
                    match self.path_commits(repo, p, Some(&head_d.sha), since).await {
                        Ok(commits) => path_commits.push(PathCommits {
                            path: p.clone(),
                            commits,
                        }),
                        Err(e) if optional(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
                // Commits of the deploy that touched a frame file without a PR in their message.
                let unnamed: Vec<String> = path_commits
                    .iter()
                    .flat_map(|pc| &pc.commits)
                    .filter(|k| k.prs.is_empty() && cmp.commits.iter().any(|c| c.sha == k.sha))
                    .map(|k| k.sha.clone())
                    .collect();
                for sha in unnamed {
                    if left == 0 {
                        break;
                    }
                    left -= 1;
                    let pulls = match self.commit_pulls(repo, &sha).await {
                        Ok(p) => p,
                        Err(e) if optional(&e) => continue,
                        Err(e) => return Err(e),
                    };
                    let numbers: Vec<u64> = pulls.iter().map(|p| p.number).collect();
                    for pc in &mut path_commits {
                        for k in pc.commits.iter_mut().filter(|k| k.sha == sha) {
                            k.prs = numbers.clone();
                        }
                    }
                    for p in pulls {
                        match cmp.prs.iter_mut().find(|x| x.number == p.number) {
                            Some(known) => *known = p,
                            None => cmp.prs.push(p),
                        }
                    }
                }
                changes.push(DeployChanges {
                    deploy_id: head_d.id,
                    base_sha: base_d.sha.clone(),
                    commits: cmp.commits,
                    files: cmp.files,
                    prs: cmp.prs,
                });
            }
        }
        let inputs = Inputs {
            incident: Some(incident),
            event,
            deploys,
            changes,
            path_commits,
            sentry_commits: shas(&sentry.suspects),
            release_commits: shas(&sentry.release),
        };
        Ok(suspect::rank(&inputs, now))
    }
}

/// Cleaned shas of 7 characters or more.
fn shas(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|c| clean(c.trim()))
        .filter(|c| c.len() >= 7)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_githubs_wrapped_content() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(
            decode_base64("aGVs\nbG8h\n").as_deref(),
            Some(&b"hello!"[..])
        );
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64("aGk=").as_deref(), Some(&b"hi"[..]));
        assert!(decode_base64("a").is_none());
        assert!(decode_base64("a*==").is_none());
        assert!(decode_base64("aG=k").is_none());
    }

    #[test]
    fn pr_numbers_from_squash_and_merge_messages() {
        assert_eq!(
            pr_of_message("Skip the payment form for saved cards (#417)"),
            Some((417, "Skip the payment form for saved cards".into()))
        );
        assert_eq!(
            pr_of_message(
                "Merge pull request #416 from acme/refunds\n\nRefund only open shipments"
            ),
            Some((416, "Refund only open shipments".into()))
        );
        assert_eq!(pr_of_message("Release checkout 2.14.0"), None);
        assert_eq!(pr_of_message("fix (#abc)"), None);
    }

    #[test]
    fn versions_from_payload_description_or_tag_ref() {
        let item = |payload: serde_json::Value, description: Option<&str>, r: &str| {
            ApiDeployment {
                id: 1,
                sha: "abc".into(),
                git_ref: Some(r.into()),
                environment: None,
                description: description.map(Into::into),
                payload: Some(payload),
                task: None,
                created_at: None,
            }
            .version()
        };
        assert_eq!(
            item(serde_json::json!({"version": "2.14.0"}), None, "main").as_deref(),
            Some("2.14.0")
        );
        assert_eq!(
            item(serde_json::json!({}), Some("2.13.2"), "main").as_deref(),
            Some("2.13.2")
        );
        assert_eq!(
            item(serde_json::json!({}), None, "v2.14.0").as_deref(),
            Some("v2.14.0")
        );
        assert_eq!(
            item(serde_json::json!({}), Some("Test deployment"), "main"),
            None
        );
        assert_eq!(
            item(
                serde_json::json!({}),
                None,
                "743f5a58b0bce91c4eab744ff7e39dfca9e6e8a5"
            ),
            None
        );
    }

    #[test]
    fn paths_and_query_values_are_encoded() {
        assert_eq!(encode("worker/refunds.py", true), "worker/refunds.py");
        assert_eq!(encode("worker/refunds.py", false), "worker%2Frefunds.py");
        assert_eq!(encode("a b#?.js", true), "a%20b%23%3F.js");
        assert_eq!(web_root("https://api.github.com"), "https://github.com");
        assert_eq!(
            web_root("https://ghe.example/api/v3"),
            "https://ghe.example"
        );
    }
}
