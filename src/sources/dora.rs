//! The records behind `flightdeck dora`, read through the ordinary clients: each repository's
//! deployments to the environment (with their statuses) and the PRs merged in the window from
//! GitHub, and the issues first seen in the window from Sentry. The arithmetic is
//! [`crate::ai::dora`]'s; this only gathers, counts requests, and says what it could not read.

use time::OffsetDateTime;

use super::github::GitHub;
use super::sentry::Sentry;
use crate::ai::dora::{Change, Deployment, Dora, IncidentRecord, Window, dora};
use crate::domain::Incident;
use crate::fmt::plural;

/// What was read for the metrics.
#[derive(Debug, Clone, Default)]
pub struct DoraInputs {
    pub deployments: Vec<Deployment>,
    pub changes: Vec<Change>,
    pub incidents: Vec<IncidentRecord>,
    /// Requests sent to GitHub and to Sentry.
    pub github_requests: u64,
    pub sentry_requests: u64,
    /// What the reads left out, for every metric.
    pub notes: Vec<String>,
    /// For lead time only.
    pub change_notes: Vec<String>,
    /// For deployment frequency and change failure rate.
    pub deployment_notes: Vec<String>,
    /// Reads that failed: "acme/web: 404 Not Found".
    pub errors: Vec<String>,
}

/// Where to read.
pub struct DoraScope<'a> {
    pub repos: &'a [String],
    pub projects: &'a [String],
    pub environment: &'a str,
    /// Sentry's name of the environment (`None`: every environment).
    pub sentry_environment: Option<&'a str>,
    pub window: Window,
}

/// An incident as the metrics count it: from its first event to its resolution, which the issue
/// list does not date: a resolved issue's last event stands for it.
pub fn incident_record(i: &Incident) -> Option<IncidentRecord> {
    let first_seen = i.first_seen?;
    let resolved_at = if i.status == "resolved" {
        i.last_seen.map(|t| t.max(first_seen))
    } else {
        None
    };
    Some(IncidentRecord {
        id: if i.short_id.is_empty() {
            i.id.clone()
        } else {
            i.short_id.clone()
        },
        first_seen,
        resolved_at,
        deployment: None,
    })
}

/// Read everything the metrics need. A failed read is an error in the result, not a stop: the
/// other repositories and projects are still read.
pub async fn collect(
    github: Option<&GitHub>,
    sentry: Option<&Sentry>,
    scope: &DoraScope<'_>,
) -> DoraInputs {
    let mut out = DoraInputs::default();
    let since = scope.window.start();
    if let Some(gh) = github {
        let before = gh.requests();
        read_github(gh, scope, since, &mut out).await;
        out.github_requests = gh.requests().saturating_sub(before);
    } else {
        out.notes
            .push("no [github] in the config: no deployments or changes read".to_string());
    }
    match sentry {
        Some(s) => read_sentry(s, scope, &mut out).await,
        None => out
            .notes
            .push("no [sentry] in the config: no incidents read".to_string()),
    }
    out
}

async fn read_github(
    gh: &GitHub,
    scope: &DoraScope<'_>,
    since: OffsetDateTime,
    out: &mut DoraInputs,
) {
    let env = scope.environment;
    let mut without: Vec<&str> = Vec::new();
    let mut redeploys = 0;
    let mut unknown = 0;
    let mut other_branch = 0;
    for repo in scope.repos {
        let deployed = match gh.dora_deployments(repo, env, since).await {
            Ok(d) => d,
            Err(e) => {
                out.errors.push(format!("{repo}: deployments: {e}"));
                continue;
            }
        };
        if deployed.truncated {
            out.deployment_notes.push(format!(
                "{repo}: only the newest {} pages of deployments read",
                super::github::dora::MAX_PAGES
            ));
        }
        redeploys += deployed.redeploys;
        unknown += deployed.unknown;
        if deployed.deployments.is_empty() {
            // Nothing of it reached the environment: its PRs would all be "not deployed".
            without.push(repo);
            continue;
        }
        match gh
            .merged_pulls(repo, since, deployed.branch.as_deref())
            .await
        {
            Ok(m) => {
                other_branch += m.other_branch;
                if m.truncated {
                    out.change_notes.push(format!(
                        "{repo}: only the newest {} pages of closed PRs read",
                        super::github::dora::MAX_PAGES
                    ));
                }
                out.changes.extend(m.changes);
            }
            Err(e) => out.errors.push(format!("{repo}: merged PRs: {e}")),
        }
        out.deployments.extend(deployed.deployments);
    }
    if !without.is_empty() {
        out.notes.push(format!(
            "no deployments to {env} in the window: {} (their PRs not read)",
            without.join(", ")
        ));
    }
    if redeploys > 0 {
        out.deployment_notes.push(format!(
            "{} of an earlier release counted as {}",
            plural(redeploys, "deployment"),
            if redeploys == 1 {
                "a rollback"
            } else {
                "rollbacks"
            }
        ));
    }
    if unknown > 0 {
        out.deployment_notes.push(format!(
            "{} without a final status, taken as in progress: not counted",
            plural(unknown, "deployment")
        ));
    }
    if other_branch > 0 {
        out.change_notes.push(format!(
            "{} merged into another branch than the deployed one, not counted",
            plural(other_branch, "PR")
        ));
    }
    out.change_notes.push(
        "only PRs merged in the window are read: one merged before it and deployed in it is not \
         counted"
            .to_string(),
    );
}

async fn read_sentry(sentry: &Sentry, scope: &DoraScope<'_>, out: &mut DoraInputs) {
    let hours = (scope.window.length.whole_seconds().max(0) as u64).div_ceil(3600);
    for project in scope.projects {
        match sentry
            .issues_since(project, hours, scope.sentry_environment)
            .await
        {
            Ok((issues, requests)) => {
                out.sentry_requests += requests;
                out.incidents
                    .extend(issues.iter().filter_map(incident_record));
            }
            Err(e) => {
                out.sentry_requests += 1;
                out.errors.push(format!("Sentry {project}: {e}"));
            }
        }
    }
}

/// Sentry's restore time, said in the metric: the issue list does not date a resolution.
pub const RESTORE_FROM_LAST_SEEN: &str = " Sentry's issue list gives no resolution time: a resolved \
     issue's last event (lastSeen) stands for it; an incident is an issue first seen in the \
     window in the environment.";

/// Read the records ([`collect`]) and compute the four metrics, each with what its reads left
/// out. The reads' errors are in the inputs.
pub async fn metrics(
    github: Option<&GitHub>,
    sentry: Option<&Sentry>,
    scope: &DoraScope<'_>,
) -> (Dora, DoraInputs) {
    let inputs = collect(github, sentry, scope).await;
    let mut d = dora(
        &inputs.deployments,
        &inputs.changes,
        &inputs.incidents,
        scope.environment,
        scope.window,
    );
    d.time_to_restore.how.push_str(RESTORE_FROM_LAST_SEEN);
    d.deployment_frequency
        .notes
        .extend(inputs.deployment_notes.iter().cloned());
    d.change_failure_rate
        .notes
        .extend(inputs.deployment_notes.iter().cloned());
    d.lead_time
        .notes
        .extend(inputs.change_notes.iter().cloned());
    (d, inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_resolved_issue_is_restored_at_its_last_event() {
        let mut i = Incident {
            id: "42".into(),
            short_id: "CHECKOUT-2A".into(),
            status: "resolved".into(),
            first_seen: Some(datetime!(2026-11-20 10:00 UTC)),
            last_seen: Some(datetime!(2026-11-20 12:30 UTC)),
            project: "checkout".into(),
            title: String::new(),
            culprit: String::new(),
            level: "error".into(),
            count: 3,
            user_count: 1,
            url: String::new(),
            stats: Vec::new(),
        };
        let r = incident_record(&i).unwrap();
        assert_eq!(r.id, "CHECKOUT-2A");
        assert_eq!(r.resolved_at, Some(datetime!(2026-11-20 12:30 UTC)));
        i.status = "unresolved".into();
        assert_eq!(incident_record(&i).unwrap().resolved_at, None);
        i.first_seen = None;
        assert!(incident_record(&i).is_none());
    }
}
