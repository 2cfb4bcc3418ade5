//! An incident's regression test as the operator reviews it before the PR is opened: what the
//! fetcher prepared ([`PreparedDraft`]: the mapped file, the drafted test, the PR's text, what
//! already exists on GitHub), and the editor over it ([`DraftEditor`]: the file, the PR title
//! and body in `ratatui-textarea` fields). Confirming turns the edited text into a
//! [`Change::TestPr`](super::change::Change::TestPr), which goes through the same confirmation,
//! guards and audit as every remote change.

use super::change::Change;
use crate::domain::SourceError;
use ratatui_textarea::{CursorMove, TextArea};

/// A drafted regression test, ready for review.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedDraft {
    pub issue_id: String,
    pub short_id: String,
    pub issue_url: String,
    /// `owner/name`.
    pub repo: String,
    pub branch: String,
    /// The test file's path in the repository.
    pub path: String,
    pub contents: String,
    pub title: String,
    pub body: String,
    /// `python`, `javascript`, `typescript`, `go`, `rust`.
    pub language: String,
    /// The test calls the crashing code with the event's values (else: a skipped skeleton).
    pub reproduces: bool,
    /// The branch exists already (a previous run made it, or stopped part-way).
    pub branch_exists: bool,
    /// An open PR from the branch, by number: confirming updates it.
    pub existing_pr: Option<u64>,
    /// How the crash frame was mapped and what was found, one fact a line.
    pub notes: Vec<String>,
}

/// Why no draft could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DraftFailure {
    /// The crash frame's file is not in the repository (the message names the paths tried).
    #[error("{0}")]
    Unmapped(String),
    /// The event has nothing to draft from (no exception, no frames).
    #[error("{0}")]
    NothingToDraft(String),
    /// Sentry or GitHub failed.
    #[error("{0}")]
    Source(SourceError),
    /// Not configured: no GitHub, no Sentry, or no repository for the project.
    #[error("{0}")]
    Config(String),
}

/// Which field of the editor has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftFocus {
    File,
    Title,
    Body,
}

/// The editor over a prepared draft.
#[derive(Debug, Clone)]
pub struct DraftEditor {
    pub draft: PreparedDraft,
    pub file: TextArea<'static>,
    pub title: TextArea<'static>,
    pub body: TextArea<'static>,
    pub focus: DraftFocus,
}

impl PartialEq for DraftEditor {
    fn eq(&self, other: &Self) -> bool {
        self.draft == other.draft
            && self.focus == other.focus
            && self.contents() == other.contents()
            && self.pr_title() == other.pr_title()
            && self.pr_body() == other.pr_body()
    }
}

fn area(text: &str) -> TextArea<'static> {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut t = if lines.is_empty() {
        TextArea::default()
    } else {
        TextArea::new(lines)
    };
    t.move_cursor(CursorMove::Top);
    t
}

impl DraftEditor {
    pub fn new(draft: PreparedDraft) -> DraftEditor {
        DraftEditor {
            file: area(&draft.contents),
            title: area(&draft.title),
            body: area(&draft.body),
            focus: DraftFocus::File,
            draft,
        }
    }

    /// The file as it will be committed: the lines, each ending in a newline.
    pub fn contents(&self) -> String {
        let mut s = self.file.lines().join("\n");
        s.push('\n');
        s
    }

    /// The PR's title: one line, trimmed.
    pub fn pr_title(&self) -> String {
        self.title.lines().join(" ").trim().to_string()
    }

    pub fn pr_body(&self) -> String {
        self.body.lines().join("\n")
    }

    /// Whether the operator changed anything.
    pub fn edited(&self) -> bool {
        self.contents() != self.draft.contents
            || self.pr_title() != self.draft.title
            || self.pr_body() != self.draft.body
    }

    pub fn next_focus(&mut self) {
        self.focus = match self.focus {
            DraftFocus::File => DraftFocus::Title,
            DraftFocus::Title => DraftFocus::Body,
            DraftFocus::Body => DraftFocus::File,
        };
    }

    pub fn prev_focus(&mut self) {
        self.focus = match self.focus {
            DraftFocus::File => DraftFocus::Body,
            DraftFocus::Title => DraftFocus::File,
            DraftFocus::Body => DraftFocus::Title,
        };
    }

    pub fn focused(&mut self) -> &mut TextArea<'static> {
        match self.focus {
            DraftFocus::File => &mut self.file,
            DraftFocus::Title => &mut self.title,
            DraftFocus::Body => &mut self.body,
        }
    }

    /// The remote change the edited draft asks for.
    pub fn change(&self) -> Change {
        let d = &self.draft;
        Change::TestPr {
            repo: d.repo.clone(),
            short_id: d.short_id.clone(),
            issue_url: d.issue_url.clone(),
            branch: d.branch.clone(),
            path: d.path.clone(),
            contents: self.contents(),
            title: self.pr_title(),
            body: self.pr_body(),
            update: d.existing_pr.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn prepared() -> PreparedDraft {
        PreparedDraft {
            issue_id: "6120007".into(),
            short_id: "CHECKOUT-4C".into(),
            issue_url: "https://sentry.example/issues/6120007/".into(),
            repo: "acme/checkout".into(),
            branch: "flightdeck/regression-checkout-4c".into(),
            path: "worker/tests/test_regression_checkout_4c.py".into(),
            contents: "import pytest\n\n\ndef test_x():\n    pass\n".into(),
            title: "Regression test for CHECKOUT-4C".into(),
            body: "Adds a test.\n\nMore.".into(),
            language: "python".into(),
            reproduces: true,
            branch_exists: false,
            existing_pr: None,
            notes: vec![],
        }
    }

    #[test]
    fn an_unedited_draft_gives_back_its_text() {
        let e = DraftEditor::new(prepared());
        assert!(!e.edited());
        assert_eq!(e.contents(), prepared().contents);
        match e.change() {
            Change::TestPr {
                contents,
                title,
                body,
                update,
                ..
            } => {
                assert_eq!(contents, prepared().contents);
                assert_eq!(title, "Regression test for CHECKOUT-4C");
                assert_eq!(body, "Adds a test.\n\nMore.");
                assert!(!update);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn edits_reach_the_change() {
        let mut e = DraftEditor::new(PreparedDraft {
            existing_pr: Some(431),
            ..prepared()
        });
        e.next_focus();
        assert_eq!(e.focus, DraftFocus::Title);
        e.focused().move_cursor(CursorMove::End);
        e.focused().insert_str(" (edited)");
        assert!(e.edited());
        match e.change() {
            Change::TestPr { title, update, .. } => {
                assert_eq!(title, "Regression test for CHECKOUT-4C (edited)");
                assert!(update, "a PR exists: the change updates it");
            }
            other => panic!("{other:?}"),
        }
        e.prev_focus();
        e.prev_focus();
        assert_eq!(e.focus, DraftFocus::Body);
    }
}
