//! How each kind of row is searched, identified and linked.

use super::filter::search_key;
use crate::domain::{Incident, PullRequest, ServiceRollout, Summary, WorkflowRun};

/// A table row: its search text, a stable identity (to keep the selection across polls) and its link.
pub trait Row {
    fn key(&self) -> String;
    fn id(&self) -> String;
    fn url(&self) -> &str;
    /// Whether acting on this row touches a production environment.
    fn production(&self) -> bool {
        false
    }
}

impl Row for PullRequest {
    fn key(&self) -> String {
        let n = format!("#{}", self.number);
        let labels = self.labels.join(" ");
        search_key(&[
            &self.repo,
            &n,
            &self.title,
            &self.author,
            &labels,
            &self.head_ref,
        ])
    }
    fn id(&self) -> String {
        format!("{}#{}", self.repo, self.number)
    }
    fn url(&self) -> &str {
        &self.url
    }
}

impl Row for WorkflowRun {
    fn key(&self) -> String {
        search_key(&[
            &self.repo,
            &self.workflow,
            &self.title,
            &self.branch,
            &self.event,
            &self.actor,
            self.state.label(),
        ])
    }
    fn id(&self) -> String {
        format!("{}/{}", self.repo, self.id)
    }
    fn url(&self) -> &str {
        &self.url
    }
}

impl Row for ServiceRollout {
    fn key(&self) -> String {
        let metrics: Vec<&str> = self.metrics.iter().map(|m| m.name.as_str()).collect();
        search_key(&[&self.name, &self.environment, &metrics.join(" ")])
    }
    fn id(&self) -> String {
        self.name.clone()
    }
    fn url(&self) -> &str {
        ""
    }
    fn production(&self) -> bool {
        self.production
    }
}

impl Row for Incident {
    fn key(&self) -> String {
        search_key(&[
            &self.project,
            &self.short_id,
            &self.title,
            &self.culprit,
            &self.level,
        ])
    }
    fn id(&self) -> String {
        format!("{}/{}", self.project, self.id)
    }
    fn url(&self) -> &str {
        &self.url
    }
}

impl Row for Summary {
    fn key(&self) -> String {
        search_key(&[self.kind.label(), &self.subject, &self.headline])
    }
    fn id(&self) -> String {
        format!("{}:{}", self.kind.label(), self.subject)
    }
    fn url(&self) -> &str {
        &self.url
    }
}
