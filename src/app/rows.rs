//! How each kind of row is searched, identified, sorted and linked.

use super::filter::search_key;
use crate::domain::{Incident, PullRequest, ServiceRollout, Summary, WorkflowRun};
use std::cmp::Ordering;
use time::OffsetDateTime;

/// A value a column sorts by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Text(String),
    Num(f64),
    Time(Option<OffsetDateTime>),
}

impl SortKey {
    pub fn compare(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Time(a), SortKey::Time(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
    fn text(s: &str) -> SortKey {
        SortKey::Text(s.to_lowercase())
    }
}

/// A table row: its search text, its identity, its columns and its link.
pub trait Row {
    /// Column titles, in display order.
    const COLUMNS: &'static [&'static str];
    fn key(&self) -> String;
    /// Whether `other` is the same item (possibly changed), without allocating.
    fn same_as(&self, other: &Self) -> bool;
    fn sort_key(&self, column: usize) -> SortKey;
    /// The value rows are grouped by (repo, project, kind).
    fn group(&self) -> &str;
    fn url(&self) -> &str;
    /// Whether acting on this row touches a production environment.
    fn production(&self) -> bool {
        false
    }
}

/// A shared row is the row it points to.
impl<T: Row> Row for std::sync::Arc<T> {
    const COLUMNS: &'static [&'static str] = T::COLUMNS;
    fn key(&self) -> String {
        T::key(self)
    }
    fn same_as(&self, other: &Self) -> bool {
        T::same_as(self, other)
    }
    fn sort_key(&self, column: usize) -> SortKey {
        T::sort_key(self, column)
    }
    fn group(&self) -> &str {
        T::group(self)
    }
    fn url(&self) -> &str {
        T::url(self)
    }
    fn production(&self) -> bool {
        T::production(self)
    }
}

impl Row for PullRequest {
    const COLUMNS: &'static [&'static str] = &[
        "Repo", "#", "Title", "Author", "Age", "Checks", "Review", "Merge", "Size", "Labels",
    ];
    fn key(&self) -> String {
        let n = format!("#{}", self.number);
        let labels = self.labels.join(" ");
        let review = self.review.map(|r| r.label()).unwrap_or("");
        let merge = self.mergeable.as_deref().unwrap_or("");
        search_key(&[
            &self.repo,
            &n,
            &self.title,
            &self.author,
            &labels,
            &self.head_ref,
            review,
            merge,
        ])
    }
    fn same_as(&self, o: &Self) -> bool {
        self.number == o.number && self.repo == o.repo
    }
    fn sort_key(&self, column: usize) -> SortKey {
        match column {
            0 => SortKey::text(&self.repo),
            1 => SortKey::Num(self.number as f64),
            2 => SortKey::text(&self.title),
            3 => SortKey::text(&self.author),
            // Age: oldest first reads "ascending".
            4 => SortKey::Time(self.created_at),
            5 => SortKey::Num(
                self.checks
                    .and_then(|c| c.worst())
                    .map(|w| w as u8 as f64)
                    .unwrap_or(9.0),
            ),
            6 => SortKey::Num(self.review.map(|r| r as u8 as f64).unwrap_or(9.0)),
            7 => SortKey::text(self.mergeable.as_deref().unwrap_or("~")),
            8 => SortKey::Num((self.additions.unwrap_or(0) + self.deletions.unwrap_or(0)) as f64),
            _ => SortKey::text(&self.labels.join(",")),
        }
    }
    fn group(&self) -> &str {
        &self.repo
    }
    fn url(&self) -> &str {
        &self.url
    }
}

impl Row for WorkflowRun {
    const COLUMNS: &'static [&'static str] = &[
        "Repo", "Workflow", "Branch", "Event", "Actor", "Status", "Try", "Started", "Took",
    ];
    fn key(&self) -> String {
        let envs: Vec<&str> = self
            .pending
            .iter()
            .map(|p| p.environment.as_str())
            .collect();
        search_key(&[
            &self.repo,
            &self.workflow,
            &self.title,
            &self.branch,
            &self.event,
            &self.actor,
            self.state.label(),
            &envs.join(" "),
        ])
    }
    fn same_as(&self, o: &Self) -> bool {
        self.id == o.id && self.repo == o.repo
    }
    fn sort_key(&self, column: usize) -> SortKey {
        match column {
            0 => SortKey::text(&self.repo),
            1 => SortKey::text(&self.workflow),
            2 => SortKey::text(&self.branch),
            3 => SortKey::text(&self.event),
            4 => SortKey::text(&self.actor),
            5 => SortKey::text(self.state.label()),
            6 => SortKey::Num(self.attempt as f64),
            7 => SortKey::Time(self.started_at),
            _ => SortKey::Num(match (self.started_at, self.updated_at) {
                (Some(s), Some(u)) => (u - s).whole_seconds() as f64,
                _ => 0.0,
            }),
        }
    }
    fn group(&self) -> &str {
        &self.repo
    }
    fn url(&self) -> &str {
        &self.url
    }
    fn production(&self) -> bool {
        self.pending
            .iter()
            .any(|p| p.environment.eq_ignore_ascii_case("production"))
    }
}

impl Row for ServiceRollout {
    const COLUMNS: &'static [&'static str] = &[
        "Service",
        "Environment",
        "Slices",
        "Weight",
        "In slice",
        "Verdict",
        "Score",
        "Metrics (canary / baseline, bound)",
    ];
    fn key(&self) -> String {
        let metrics: Vec<&str> = self.metrics.iter().map(|m| m.name.as_str()).collect();
        search_key(&[&self.name, &self.environment, &metrics.join(" ")])
    }
    fn same_as(&self, o: &Self) -> bool {
        self.name == o.name
    }
    fn sort_key(&self, column: usize) -> SortKey {
        match column {
            0 => SortKey::text(&self.name),
            1 => SortKey::text(&self.environment),
            2 | 3 => SortKey::Num(self.weight.unwrap_or(-1.0)),
            4 => SortKey::Time(self.slice_since),
            _ => SortKey::Num(
                self.metrics
                    .iter()
                    .filter(|m| m.breached() == Some(true))
                    .count() as f64,
            ),
        }
    }
    fn group(&self) -> &str {
        &self.environment
    }
    fn url(&self) -> &str {
        ""
    }
    fn production(&self) -> bool {
        self.production
    }
}

/// New since the last deploy, events in the last hour, last seen.
type AttentionKey = (bool, u64, Option<OffsetDateTime>);

/// Incidents in the order that needs attention first: new since the last deploy of their project
/// (first seen after `last_deploy(project)`), then by events in the hour before `now` (from the
/// `stats` series; none counts as 0), then by last seen, newest first; the issue id settles ties.
pub fn by_attention(
    items: Vec<Incident>,
    last_deploy: impl Fn(&str) -> Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Vec<Incident> {
    let mut keyed: Vec<(AttentionKey, Incident)> = items
        .into_iter()
        .map(|i| {
            let new = match (last_deploy(&i.project), i.first_seen) {
                (Some(d), Some(f)) => f >= d,
                _ => false,
            };
            ((new, i.events_last_hour(now).unwrap_or(0), i.last_seen), i)
        })
        .collect();
    // Every key descending: new first, busier first, seen later first.
    keyed.sort_by(|(ka, a), (kb, b)| kb.cmp(ka).then_with(|| a.id.cmp(&b.id)));
    keyed.into_iter().map(|(_, i)| i).collect()
}

impl Row for Incident {
    const COLUMNS: &'static [&'static str] = &[
        "Project", "Issue", "Title", "Culprit", "Level", "Events", "Users", "First", "Last",
    ];
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
    fn sort_key(&self, column: usize) -> SortKey {
        match column {
            0 => SortKey::text(&self.project),
            1 => SortKey::text(&self.short_id),
            2 => SortKey::text(&self.title),
            3 => SortKey::text(&self.culprit),
            4 => SortKey::Num(match self.level.as_str() {
                "fatal" => 0.0,
                "error" => 1.0,
                "warning" => 2.0,
                _ => 3.0,
            }),
            5 => SortKey::Num(self.count as f64),
            6 => SortKey::Num(self.user_count as f64),
            7 => SortKey::Time(self.first_seen),
            _ => SortKey::Time(self.last_seen),
        }
    }
    fn group(&self) -> &str {
        &self.project
    }
    fn url(&self) -> &str {
        &self.url
    }
}

impl Row for Summary {
    const COLUMNS: &'static [&'static str] = &["Kind", "Subject", "Summary", "By"];
    fn key(&self) -> String {
        search_key(&[self.kind.label(), &self.subject, &self.headline])
    }
    fn same_as(&self, o: &Self) -> bool {
        self.kind == o.kind && self.subject == o.subject
    }
    fn sort_key(&self, column: usize) -> SortKey {
        match column {
            0 => SortKey::text(self.kind.label()),
            1 => SortKey::text(&self.subject),
            2 => SortKey::text(&self.headline),
            _ => SortKey::text(&self.analyzer),
        }
    }
    fn group(&self) -> &str {
        self.kind.label()
    }
    fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod attention_tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 09:30:00 UTC);

    fn inc(id: &str, project: &str, first_min: i64, last_min: i64, last_hour: u64) -> Incident {
        let hour = NOW.unix_timestamp() - NOW.unix_timestamp().rem_euclid(3600);
        Incident {
            project: project.into(),
            id: id.into(),
            short_id: id.into(),
            title: String::new(),
            culprit: String::new(),
            level: "error".into(),
            status: "unresolved".into(),
            count: 1,
            user_count: 1,
            first_seen: Some(NOW - Duration::minutes(first_min)),
            last_seen: Some(NOW - Duration::minutes(last_min)),
            url: String::new(),
            stats: vec![(hour - 3600, 0), (hour, last_hour)],
        }
    }

    fn ids(v: &[Incident]) -> Vec<&str> {
        v.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn new_since_the_deploy_first_then_the_busiest_then_the_latest() {
        let deploy = |p: &str| (p == "checkout").then(|| NOW - Duration::minutes(10));
        let items = vec![
            inc("old-busy", "checkout", 600, 1, 900),
            inc("old-quiet", "checkout", 600, 0, 2),
            inc("new-quiet", "checkout", 5, 3, 1),
            inc("new-busy", "checkout", 8, 2, 40),
            // Web has no known deploy: never "new since".
            inc("web-fresh", "web", 1, 1, 3),
            inc("old-quiet-later", "checkout", 600, 0, 2),
        ];
        let sorted = by_attention(items, deploy, NOW);
        assert_eq!(
            ids(&sorted),
            [
                "new-busy",
                "new-quiet",
                "old-busy",
                "web-fresh",
                "old-quiet",
                "old-quiet-later"
            ]
        );
        // Without stats the last seen decides among the old.
        let mut a = inc("a", "checkout", 600, 9, 0);
        let mut b = inc("b", "checkout", 600, 1, 0);
        a.stats.clear();
        b.stats.clear();
        assert_eq!(ids(&by_attention(vec![a, b], |_| None, NOW)), ["b", "a"]);
    }
}
