//! The failed-log view as rows: the triage's excerpts (the lines that matter) first, then the
//! whole log. `update` scrolls over these rows and `ui` draws them, so both count the same rows.

use super::state::Loadable;
use crate::analysis::ci_log::Triage;

/// The failed-log view of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct LogView {
    pub repo: String,
    pub run_id: u64,
    pub title: String,
    /// The job shown, once the run's jobs are known.
    pub job: Option<(u64, String)>,
    pub content: Loadable<Triage>,
    /// The first row shown.
    pub scroll: usize,
}

/// One row of the view, before the full log: a heading, a log line (index, whether it is the
/// excerpt's anchor) or a blank.
#[derive(Debug, Clone, PartialEq)]
pub enum LogRow {
    Header(String),
    Line(usize, bool),
    Blank,
}

/// The rows above the full log.
pub fn excerpt_rows(tr: &Triage) -> Vec<LogRow> {
    let mut rows = Vec::new();
    if let Some(s) = &tr.summary {
        rows.push(LogRow::Header(format!("First failure: {s}")));
        rows.push(LogRow::Blank);
    }
    if tr.excerpts.is_empty() {
        rows.push(LogRow::Header(
            "No failure lines found; the whole log follows.".into(),
        ));
    }
    for e in &tr.excerpts {
        let again = match e.repeats {
            0 => String::new(),
            1 => " (and once more later)".into(),
            n => format!(" (and {n} more times later)"),
        };
        rows.push(LogRow::Header(format!(
            "▶ {} at line {}{again}",
            e.reason,
            e.anchor + 1
        )));
        for i in e.start..e.end.min(tr.lines.len()) {
            rows.push(LogRow::Line(i, i == e.anchor));
        }
        rows.push(LogRow::Blank);
    }
    rows.push(LogRow::Header(format!(
        "Full log ({})",
        crate::fmt::plural(tr.lines.len(), "line")
    )));
    rows
}

impl LogView {
    /// Every row the view can show: the excerpts, then each line of the log.
    pub fn total_rows(&self) -> usize {
        match &self.content {
            Loadable::Ready(tr) => excerpt_rows(tr).len() + tr.lines.len(),
            _ => 0,
        }
    }

    /// The largest scroll at which a page of `page` rows is still full: the last row is reachable.
    pub fn max_scroll(&self, page: usize) -> usize {
        self.total_rows().saturating_sub(page)
    }
}
