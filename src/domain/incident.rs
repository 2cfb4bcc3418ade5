//! An incident's latest event as the detail pane, the suspected-change ranking and the
//! regression-test drafter read it, and what the ranking concludes. Every string that came from
//! Sentry has been through `sanitize` (and secrets masked) before it is stored here.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The latest event of a Sentry issue (fetched on demand when the incident is opened).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IncidentEvent {
    pub event_id: String,
    /// The Sentry issue's id and short id (`CHECKOUT-3F`).
    pub issue_id: String,
    pub short_id: String,
    pub title: String,
    pub message: String,
    /// The SDK's platform: `python`, `javascript`, `node`, `go`, `rust`, …
    pub platform: String,
    pub release: Option<String>,
    pub environment: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub date: Option<OffsetDateTime>,
    /// Tags in the order Sentry lists them.
    pub tags: Vec<(String, String)>,
    /// The exception chain as Sentry sends it: the cause first, the exception that was raised
    /// last.
    pub exceptions: Vec<ExceptionInfo>,
    /// The issue's page on Sentry.
    pub url: String,
}

impl IncidentEvent {
    /// The exception that was raised (the last of the chain).
    pub fn raised(&self) -> Option<&ExceptionInfo> {
        self.exceptions.last()
    }

    /// The crash frame: the last in-app frame of the raised exception (the innermost call of the
    /// app's own code), else its last frame.
    pub fn crash_frame(&self) -> Option<&Frame> {
        let frames = &self.raised()?.frames;
        frames.iter().rev().find(|f| f.in_app).or(frames.last())
    }

    /// The in-app frames of the raised exception, outermost call first.
    pub fn in_app_frames(&self) -> impl Iterator<Item = &Frame> {
        self.raised()
            .into_iter()
            .flat_map(|e| e.frames.iter())
            .filter(|f| f.in_app)
    }
}

/// One exception of a chain.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExceptionInfo {
    /// `TypeError`, `ValueError`, …
    pub kind: String,
    pub value: String,
    pub module: Option<String>,
    /// Outermost call first, the frame that raised last (Sentry's order).
    pub frames: Vec<Frame>,
    /// Frames left out of `frames` to bound a very deep trace (never an in-app one while fewer
    /// than the cap are in-app), and where the first gap is: after the first `omitted_at` frames
    /// kept (in-app frames kept from the middle of a dropped run make further, smaller gaps).
    #[serde(default)]
    pub frames_omitted: usize,
    #[serde(default)]
    pub omitted_at: usize,
    /// How this exception leads to the next one of the chain, as the SDK says (its mechanism's
    /// `source`): `__cause__` or `cause` (the next was raised from it), `__context__` (the next
    /// was raised while handling it); `None` when not said.
    #[serde(default)]
    pub chained_as: Option<String>,
}

/// One stack frame.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Frame {
    /// The path as the SDK reports it (`checkout/payment.py`, `app:///src/payment.js`).
    pub filename: Option<String>,
    pub abs_path: Option<String>,
    pub module: Option<String>,
    pub function: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub in_app: bool,
    /// Source lines around the frame's line, with their numbers (Sentry's `context`).
    pub context: Vec<(u32, String)>,
    /// Local variables as the SDK sent them (already truncated and masked by the SDK and by
    /// flightdeck), by name.
    pub vars: Vec<(String, serde_json::Value)>,
}

impl Frame {
    /// The best path to find the frame's file by: `abs_path` when it looks like a path, else
    /// `filename`.
    pub fn path(&self) -> Option<&str> {
        self.abs_path
            .as_deref()
            .filter(|p| p.contains('/'))
            .or(self.filename.as_deref())
    }
}

/// What kind of change a suspect is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SuspectKind {
    /// A deployment to the incident's environment.
    Deploy,
    /// A pull request merged into a suspected deployment.
    PullRequest,
    /// A commit (Sentry's suspect commits, or one touching a crash frame's file).
    Commit,
    /// The release named on the event.
    Release,
}

/// One candidate for "the change that most likely caused it", with the evidence in numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspect {
    pub kind: SuspectKind,
    /// "deploy #412 of checkout to production", "PR #422 Retry payment capture".
    pub title: String,
    pub repo: Option<String>,
    pub sha: Option<String>,
    pub pr: Option<u64>,
    pub url: Option<String>,
    /// Higher is more likely; only the order is meaningful.
    pub score: f64,
    /// Each line a fact with its number: "first seen 2 min after the deploy", "changed
    /// `checkout/payment.js`, which holds 2 of the 3 in-app frames".
    pub evidence: Vec<String>,
}
