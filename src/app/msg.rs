//! What comes into `update` ([`Msg`]) and what goes out ([`Effect`]), as nested enums by family so
//! that the runtime hands each family of effects to one handler:
//! terminal ([`TerminalEffect`]), pollers ([`PollEffect`]), on-demand fetches ([`Fetch`]) and
//! remote changes ([`Effect::Change`]).

use super::change::{Change, ChangeError};
use super::draft::{DraftFailure, PreparedDraft};
use super::layout::Drawn;
use super::state::Level;
use super::tab::Tab;
use crate::analysis::ci_log::Triage;
use crate::domain::{
    DeployedRevisions, Incident, IncidentEvent, Job, PrFile, SourceData, SourceError, SourceId,
    Suspect,
};
use crossterm::event::{KeyEvent, MouseEvent};
use time::OffsetDateTime;

/// Messages in.
#[derive(Debug, Clone)]
pub enum Msg {
    /// The operator: keys, mouse, paste, terminal size.
    Input(Input),
    /// The clock (message expiry, freshness labels).
    Tick(OffsetDateTime),
    /// A poller started or finished a poll.
    Source(SourceEvent),
    /// Data fetched on demand came back.
    Fetched(Fetched),
    /// A remote change finished (or was refused before it was sent).
    ChangeDone {
        id: u64,
        change: Change,
        result: Result<String, ChangeError>,
    },
    /// A note from the runtime for the message bar.
    Notice(Level, String),
    /// What the last frame measured (scrollable content heights).
    Drawn(Drawn),
    /// SIGTERM, SIGHUP or SIGINT.
    Terminate(Signal),
    /// The configured LLM's answer, as it streams in.
    Llm(LlmEvent),
    /// ROLLBACKs the judge called in earlier runs, from the audit log (at start).
    RollbacksCalled(Vec<crate::domain::RollbackCall>),
}

/// The LLM's answer to [`LlmEffect::Ask`], in pieces; `key` names the subject asked about.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmEvent {
    Delta {
        key: String,
        text: String,
    },
    /// The answer is whole (`cached`: it came from the disk, nothing was sent).
    Done {
        key: String,
        cached: bool,
    },
    /// `format_refused`: the server refused the request's `response_format` (asked again
    /// without it).
    Failed {
        key: String,
        error: String,
        format_refused: bool,
    },
}

impl Msg {
    pub fn key(k: KeyEvent) -> Msg {
        Msg::Input(Input::Key(k))
    }

    pub fn loaded(
        source: SourceId,
        result: Result<SourceData, SourceError>,
        fetched_at: OffsetDateTime,
    ) -> Msg {
        Msg::Source(SourceEvent::Loaded {
            source,
            result,
            fetched_at,
        })
    }
}

#[derive(Debug, Clone)]
pub enum Input {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
}

#[derive(Debug, Clone)]
pub enum SourceEvent {
    Started(SourceId),
    Loaded {
        source: SourceId,
        result: Result<SourceData, SourceError>,
        fetched_at: OffsetDateTime,
    },
    /// A source's data from the on-disk store at start, read from the service at `fetched_at`:
    /// shown as a finished poll would be, marked as cached until a poll answers; ignored once one
    /// has. The autopilot never acts on it.
    Restored {
        source: SourceId,
        data: SourceData,
        fetched_at: OffsetDateTime,
    },
}

/// Answers to [`Fetch`] effects.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// An incident's suspected change, best first (empty: none found).
    Suspects {
        issue_id: String,
        result: Result<Vec<Suspect>, SourceError>,
    },
    /// An incident's regression test, drafted and ready for review (or why not).
    TestDraft {
        issue_id: String,
        result: Result<Box<PreparedDraft>, DraftFailure>,
    },
    /// A run's jobs.
    Jobs {
        repo: String,
        run_id: u64,
        result: Result<Vec<Job>, SourceError>,
    },
    /// A PR's files.
    PrFiles {
        repo: String,
        number: u64,
        result: Result<Vec<PrFile>, SourceError>,
    },
    /// A job's log, triaged off the UI task.
    Log {
        job_id: u64,
        result: Result<Triage, SourceError>,
    },
    /// What a service's environment runs now and last ran while healthy, before a rollback.
    Revisions {
        service: String,
        auto: bool,
        result: Result<DeployedRevisions, SourceError>,
    },
    /// A Sentry issue's latest event.
    IncidentEvent {
        issue_id: String,
        result: Result<Box<IncidentEvent>, SourceError>,
    },
    /// The DORA metrics read.
    Dora {
        result: Result<Box<DoraView>, SourceError>,
    },
    /// A failed job's log analysed (category, root cause, failing tests), against the job's last
    /// green log on the default branch when there is one.
    Analyzed {
        run_id: u64,
        result: Result<Box<RunAnalysis>, SourceError>,
    },
}

pub use crate::ai::dora::DoraView;

/// Where the DORA metrics are read (from the config).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DoraScope {
    pub repos: Vec<String>,
    pub projects: Vec<String>,
    pub environment: String,
    pub sentry_environment: Option<String>,
    pub days: i64,
}

/// Why a run failed, from its failed job's log (see `ai::triage`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunAnalysis {
    pub job: String,
    pub report: crate::ai::triage::FailureReport,
    /// The green run compared with: (run number, branch); `None` with `green_note` saying why.
    pub green: Option<(u64, String)>,
    pub green_note: Option<String>,
    /// The newest completed run of the same workflow on the default branch: (run number, state,
    /// branch) — failing there too means broken main or flaky, not this change.
    pub on_default: Option<(u64, crate::domain::RunState, String)>,
}

/// The signal that ended the cockpit; the process exits with 128 + its number, as shells expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Hangup,
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn exit_code(self) -> i32 {
        128 + match self {
            Signal::Hangup => 1,
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }
}

/// Effects out, run by the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Stop: the runtime waits (bounded) for remote changes still in flight, then exits.
    Quit,
    Terminal(TerminalEffect),
    Poll(PollEffect),
    Fetch(Fetch),
    /// Send a confirmed remote change. The runtime audits it before and after.
    Change {
        id: u64,
        change: Change,
        comment: String,
    },
    /// Keep a record in the audit log (nothing remote changes): a verdict of the judge that
    /// changed, with its evidence.
    Record(VerdictChange),
    /// Ask the configured LLM, or stop asking.
    Llm(LlmEffect),
}

/// The LLM's request and its cancellation. `body` is the request body, byte for byte what `p`
/// previewed; nothing is sent without a configured endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmEffect {
    Ask { key: String, body: String },
    Cancel { key: String },
}

/// The judge's verdict on a service changed (or was first given) on live data.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictChange {
    pub service: String,
    pub environment: String,
    /// `None`: the first verdict this cockpit saw.
    pub from: Option<crate::analysis::canary::Verdict>,
    pub to: crate::analysis::canary::Verdict,
    pub score: f64,
    /// The canary's weight, %.
    pub weight: Option<f64>,
    /// Why, most important first (the judge's reasons, with their numbers).
    pub reasons: Vec<String>,
    /// The judgement's one line.
    pub summary: String,
    /// When the rollout began, when the poll knew it.
    pub rollout_began: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TerminalEffect {
    OpenUrl(String),
    Copy(String),
    SetMouse(bool),
    /// The terminal's bell (BEL): a service turned ROLLBACK.
    Bell,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PollEffect {
    /// Poll now: one source, or every source.
    Refresh(Option<SourceId>),
    /// The visible tab changed; its source polls faster.
    VisibleTab(Tab),
}

/// Data the visible pane needs, fetched on demand.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetch {
    /// The suspected change of an incident (GitHub deployments, compare, commits of its frames).
    Suspects {
        incident: Box<Incident>,
        event: Option<Box<IncidentEvent>>,
    },
    /// Draft a regression test for an incident: its latest event, the crash frame mapped to the
    /// project's repository, the test in the repo's language, the PR's text, and what of it
    /// already exists on GitHub.
    TestDraft {
        incident: Box<Incident>,
        /// The latest event when the cockpit holds it (else it is fetched).
        event: Option<Box<IncidentEvent>>,
    },
    Jobs {
        repo: String,
        run_id: u64,
    },
    PrFiles {
        repo: String,
        number: u64,
    },
    Log {
        repo: String,
        job_id: u64,
    },
    /// Look up what a service runs now and its last good revision, before a rollback.
    Revisions {
        service: String,
        repo: Option<String>,
        environment: String,
        auto: bool,
    },
    /// The latest event of a Sentry issue (the Incidents tab's detail); `short_id` and `url` are
    /// the issue's, put on the event.
    IncidentEvent {
        issue_id: String,
        short_id: String,
        url: String,
    },
    /// Read the DORA metrics (deployments, merged PRs, incidents) over the scope's window.
    Dora(DoraScope),
    /// Analyse a failed job's log, and compare it with the job's last green log.
    Analyze {
        repo: String,
        run_id: u64,
        workflow: String,
        job_id: u64,
        job: String,
    },
}
