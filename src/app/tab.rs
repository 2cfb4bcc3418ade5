//! The five tabs: their order, titles, the source that feeds each, and the actions that act on
//! each tab's rows (for the hint bar and the top of the help overlay).

use super::keymap::Action;
use crate::domain::SourceId;

/// The five tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Prs,
    Runs,
    Rollouts,
    Incidents,
    Ai,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Prs, Tab::Runs, Tab::Rollouts, Tab::Incidents, Tab::Ai];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Prs => "PRs",
            Tab::Runs => "Runs",
            Tab::Rollouts => "Rollouts",
            Tab::Incidents => "Incidents",
            Tab::Ai => "AI",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|&t| t == self).unwrap_or(0)
    }

    /// The source that feeds this tab (the AI tab is derived from all of them).
    pub fn source(self) -> Option<SourceId> {
        match self {
            Tab::Prs | Tab::Runs => Some(SourceId::GitHub),
            Tab::Rollouts => Some(SourceId::Prometheus),
            Tab::Incidents => Some(SourceId::Sentry),
            Tab::Ai => None,
        }
    }

    /// What the rows are called ("No open pull requests.").
    pub fn noun(self) -> &'static str {
        match self {
            Tab::Prs => "open pull requests",
            Tab::Runs => "workflow runs",
            Tab::Rollouts => "services",
            Tab::Incidents => "unresolved incidents",
            Tab::Ai => "summaries",
        }
    }

    /// The actions that do something on this tab beyond moving around, most important first: the
    /// hint bar shows them and help lists them before everything else.
    pub fn actions(self) -> &'static [Action] {
        match self {
            Tab::Prs => &[
                Action::Detail,
                Action::Open,
                Action::Sort,
                Action::GroupByRepo,
            ],
            Tab::Runs => &[
                Action::Logs,
                Action::Approve,
                Action::Reject,
                Action::RerunFailed,
                Action::CancelRun,
                Action::Detail,
                Action::Open,
            ],
            Tab::Rollouts => &[
                Action::Detail,
                Action::Approve,
                Action::Reject,
                Action::Rollback,
            ],
            Tab::Incidents => &[
                Action::Detail,
                Action::TestPr,
                Action::Resolve,
                Action::Ignore,
                Action::Open,
                Action::Sort,
            ],
            Tab::Ai => &[
                Action::Detail,
                Action::AskLlm,
                Action::PreviewPrompt,
                Action::Copy,
                Action::GroupByRepo,
            ],
        }
    }
}
