//! How each kind of row is searched, identified and linked.

use super::filter::search_key;
use crate::domain::{Incident, PullRequest, ServiceRollout, Summary, WorkflowRun};

/// A table row: its search text, its identity (to keep the selection across polls) and its link.
pub trait Row {
    fn key(&self) -> String;
    /// Whether `other` is the same item (possibly changed), without allocating.
    fn same_as(&self, other: &Self) -> bool;
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
    fn same_as(&self, o: &Self) -> bool {
        self.number == o.number && self.repo == o.repo
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
    fn same_as(&self, o: &Self) -> bool {
        self.id == o.id && self.repo == o.repo
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
    fn same_as(&self, o: &Self) -> bool {
        self.name == o.name
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
    fn same_as(&self, o: &Self) -> bool {
        self.id == o.id && self.project == o.project
    }
    fn url(&self) -> &str {
        &self.url
    }
}

impl Row for Summary {
    fn key(&self) -> String {
        search_key(&[self.kind.label(), &self.subject, &self.headline])
    }
    fn same_as(&self, o: &Self) -> bool {
        self.kind == o.kind && self.subject == o.subject
    }
    fn url(&self) -> &str {
        &self.url
    }
}
