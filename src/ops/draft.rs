//! Prepare an incident's regression test off the UI task: its latest event (from the cockpit's
//! cache when it has it), the crash frame mapped to a file of the project's repository (git
//! trees API, then `[sentry] path_map`), the repository's layout from its manifests, the test
//! drafted in its language, the suspected change, and what of the PR already exists (branch,
//! open PR) — so `T` and `flightdeck draft-test` offer the same draft. Only reads.

use crate::analysis::drafter::{self, Layout};
use crate::analysis::test_pr::{self, PrText};
use crate::app::draft::{DraftFailure, PreparedDraft};
use crate::domain::{Incident, IncidentEvent, Suspect};
use crate::sources::github::GitHub;
use crate::sources::github::regression::branch_for;
use crate::sources::sentry::Sentry;
use std::collections::BTreeMap;

/// What drafting needs from the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DraftSetup {
    /// Sentry project → `owner/name` (config `[sentry] repos`, then services named like the
    /// project, then the only configured repository).
    pub repos: BTreeMap<String, String>,
    /// The only configured repository, when there is one.
    pub only_repo: Option<String>,
    /// Frame path prefix → repository path prefix (`[sentry] path_map`).
    pub path_map: BTreeMap<String, String>,
    /// The environment deploys are looked up in, per repository (a service's environment), else
    /// `production`.
    pub environments: BTreeMap<String, String>,
    /// A local checkout of the repository (`draft-test --write DIR`): the crashing file and the
    /// manifests are read from it when present there.
    pub local: Option<std::path::PathBuf>,
}

impl DraftSetup {
    /// From the configuration: `[sentry] repos` first, then each service's repository under the
    /// service's name (a Sentry project named like the service), then the only GitHub repository.
    pub fn from_config(config: &crate::config::Config) -> DraftSetup {
        let mut setup = DraftSetup::default();
        for svc in &config.services {
            if let Some(repo) = &svc.repo {
                setup.repos.entry(svc.name.clone()).or_insert(repo.clone());
                setup
                    .environments
                    .entry(repo.clone())
                    .or_insert(svc.environment.clone());
            }
        }
        if let Some(s) = &config.sentry {
            for (project, repo) in &s.repos {
                setup.repos.insert(project.clone(), repo.clone());
            }
            setup.path_map = s.path_map.clone();
        }
        if let Some(gh) = &config.github
            && let [only] = gh.repos.as_slice()
        {
            setup.only_repo = Some(only.clone());
        }
        setup
    }

    pub fn repo_for(&self, project: &str) -> Option<&str> {
        self.repos
            .get(project)
            .map(String::as_str)
            .or(self.only_repo.as_deref())
    }

    pub fn environment_for(&self, repo: &str) -> &str {
        self.environments
            .get(repo)
            .map(String::as_str)
            .unwrap_or("production")
    }
}

/// A prepared draft with what it was made from (for `draft-test --json`).
pub struct Prepared {
    pub draft: PreparedDraft,
    pub event: IncidentEvent,
    pub suspects: Vec<Suspect>,
    pub layout: Layout,
}

/// Fetch, map, draft; then look up the suspected change and what exists of the PR.
pub async fn prepare(
    gh: &GitHub,
    sentry: Option<&Sentry>,
    setup: &DraftSetup,
    incident: &Incident,
    event: Option<IncidentEvent>,
    now: time::OffsetDateTime,
) -> Result<Prepared, DraftFailure> {
    let mut event = match event {
        Some(e) => e,
        None => match sentry {
            Some(s) => s
                .latest_event(&incident.id)
                .await
                .map_err(DraftFailure::Source)?,
            None => return Err(DraftFailure::Config("Sentry is not configured".into())),
        },
    };
    // The event names its issue by id only; the draft is named after the short id.
    if event.short_id.is_empty() {
        event.short_id = incident.short_id.clone();
    }
    let repo = setup
        .repo_for(&incident.project)
        .ok_or_else(|| {
            DraftFailure::Config(format!(
                "no repository for Sentry project {}: set [sentry] repos = {{ {} = \"owner/name\" }}",
                incident.project, incident.project
            ))
        })?
        .to_string();
    let crash = event.crash_frame().ok_or_else(|| {
        DraftFailure::NothingToDraft(format!(
            "the latest event of {} has no stack frames to draft from",
            incident.short_id
        ))
    })?;
    let base = gh
        .default_branch(&repo)
        .await
        .map_err(DraftFailure::Source)?;
    let tree = gh.tree(&repo, &base).await.map_err(DraftFailure::Source)?;
    let mut notes = Vec::new();
    if tree.truncated {
        notes.push(format!(
            "GitHub cut the tree of {repo} short ({} files read): the crash file may be missing from it",
            tree.paths.len()
        ));
    }
    let crash_path = drafter::map_frame(crash, &tree.paths, &setup.path_map)
        .map_err(|u| DraftFailure::Unmapped(format!("{u} (in {repo} at {base})")))?;
    notes.push(format!(
        "crash frame {}:{} {} is {crash_path} in {repo}",
        crash.path().unwrap_or("?"),
        crash
            .line
            .map(|l| l.to_string())
            .unwrap_or_else(|| "?".into()),
        crash.function.as_deref().unwrap_or("?"),
    ));
    let mut files = BTreeMap::new();
    for m in drafter::manifests(&tree.paths, &crash_path)
        .into_iter()
        .take(4)
    {
        if let Some(text) = read(gh, setup, &repo, &m, &base).await? {
            files.insert(m, text);
        }
    }
    let source = read(gh, setup, &repo, &crash_path, &base).await?;
    let layout = Layout::detect(&crash_path, &tree.paths, &files)
        .map_err(|e| DraftFailure::NothingToDraft(e.to_string()))?;
    let draft = drafter::draft(&event, &crash_path, &layout, source.as_deref())
        .map_err(|e| DraftFailure::NothingToDraft(e.to_string()))?;

    let environment = setup.environment_for(&repo).to_string();
    let hints = match sentry {
        Some(s) => s.commit_hints(Some(&event)).await,
        None => Default::default(),
    };
    let suspects = match gh
        .suspects_with(incident, Some(&event), &repo, &environment, &hints, now)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            notes.push(format!("the suspected change could not be looked up: {e}"));
            Vec::new()
        }
    };
    let branch = branch_for(&incident.short_id);
    let branch_exists = gh
        .branch_head(&repo, &branch)
        .await
        .map_err(DraftFailure::Source)?
        .is_some();
    let existing_pr = if branch_exists {
        gh.open_pr_of(&repo, &branch)
            .await
            .map_err(DraftFailure::Source)?
    } else {
        None
    };
    if let Some(n) = existing_pr {
        notes.push(format!(
            "PR #{n} from {branch} is open: confirming updates it"
        ));
    } else if branch_exists {
        notes.push(format!(
            "{branch} exists without a PR: confirming carries on from it"
        ));
    }
    let function = called_function(&event, &draft);
    let text = PrText {
        incident,
        event: Some(&event),
        suspects: &suspects,
        path: &draft.path,
        function: &function,
        derivation: &draft.derivation,
        reproduces: draft.reproduces,
    };
    let prepared = PreparedDraft {
        issue_id: incident.id.clone(),
        short_id: incident.short_id.clone(),
        issue_url: incident.url.clone(),
        repo,
        branch,
        path: draft.path.clone(),
        contents: draft.contents.clone(),
        title: test_pr::title(&text),
        body: test_pr::body(&text),
        language: draft.language.name().to_string(),
        reproduces: draft.reproduces,
        branch_exists,
        existing_pr,
        notes,
    };
    Ok(Prepared {
        draft: prepared,
        event,
        suspects,
        layout,
    })
}

/// A file of the repository: from the local checkout when it holds it, else from GitHub at `base`.
async fn read(
    gh: &GitHub,
    setup: &DraftSetup,
    repo: &str,
    path: &str,
    base: &str,
) -> Result<Option<String>, DraftFailure> {
    if let Some(dir) = &setup.local
        && let Ok(bytes) = std::fs::read(dir.join(path))
    {
        return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(gh
        .file(repo, path, Some(base))
        .await
        .map_err(DraftFailure::Source)?
        .map(|f| f.text()))
}

/// The app's function the test calls (the drafter's choice), else the crash frame's.
fn called_function(event: &IncidentEvent, draft: &drafter::Draft) -> String {
    draft
        .calls
        .clone()
        .or_else(|| event.crash_frame().and_then(|f| f.function.clone()))
        .unwrap_or_default()
}
