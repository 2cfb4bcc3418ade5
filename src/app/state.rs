//! Everything the cockpit shows, and the read-only questions `ui` asks of it. Only `update`
//! changes a [`State`].

use super::change::Confirm;
use super::keymap::Keymap;
use super::layout::{self, Drawn, Screen};
use super::logview::LogView;
use super::plan::ServicePlan;
use super::tab::Tab;
use super::table::{ListState, Table, TableOps};
use crate::analysis::canary::{Judgement, Policy};
use crate::domain::{
    Incident, IncidentEvent, Job, PrFile, PullRequest, RateLimit, RepoError, ServiceRollout,
    SourceError, SourceId, Summary, WorkflowRun,
};
use crate::fmt::fmt_age;
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// A line of the message bar (and of the error history).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub level: Level,
    pub text: String,
    pub at: OffsetDateTime,
    pub expires: OffsetDateTime,
}

/// Data fetched on demand.
#[derive(Debug, Clone, PartialEq)]
pub enum Loadable<T> {
    Loading,
    Ready(T),
    Failed(String),
}

/// Data fetched per Sentry issue (its latest event, its suspected change), by issue id, each with
/// the issue's `last_seen` it was fetched for; the [`IssueCache::CAPACITY`] most recently asked
/// for are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueCache<T> {
    /// Oldest request first.
    entries: std::collections::VecDeque<(String, Option<OffsetDateTime>, Loadable<T>)>,
}

/// Latest events of Sentry issues.
pub type EventCache = IssueCache<IncidentEvent>;

impl<T> Default for IssueCache<T> {
    fn default() -> Self {
        IssueCache {
            entries: Default::default(),
        }
    }
}

impl<T> IssueCache<T> {
    pub const CAPACITY: usize = 50;

    /// The issue's event, with the `last_seen` it was asked for.
    pub fn get(&self, issue_id: &str) -> Option<(Option<OffsetDateTime>, &Loadable<T>)> {
        self.entries
            .iter()
            .find(|e| e.0 == issue_id)
            .map(|e| (e.1, &e.2))
    }

    /// Record a request (or an answer): the entry moves to the newest place; the oldest goes when
    /// more than [`Self::CAPACITY`] are held.
    pub fn insert(
        &mut self,
        issue_id: String,
        last_seen: Option<OffsetDateTime>,
        value: Loadable<T>,
    ) {
        self.entries.retain(|e| e.0 != issue_id);
        self.entries.push_back((issue_id, last_seen, value));
        while self.entries.len() > Self::CAPACITY {
            self.entries.pop_front();
        }
    }

    /// Put an answer in place of its request, keeping its position; false when the issue is no
    /// longer held.
    pub fn answer(&mut self, issue_id: &str, value: Loadable<T>) -> bool {
        match self.entries.iter_mut().find(|e| e.0 == issue_id) {
            Some(e) => {
                e.2 = value;
                true
            }
            None => false,
        }
    }

    /// Forget an issue's entry.
    pub fn remove(&mut self, issue_id: &str) {
        self.entries.retain(|e| e.0 != issue_id);
    }

    /// Drop the answers that failed, so that the next look asks again (`r`).
    pub fn forget_failed(&mut self) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !matches!(e.2, Loadable::Failed(_)));
        before - self.entries.len()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    /// Typing a `/` filter; `before` is restored on Esc.
    Filter {
        before: String,
    },
    Palette {
        input: String,
        selected: usize,
    },
    Help {
        scroll: u16,
    },
    /// The LLM prompt's preview (`state.preview`): the exact request body.
    Preview {
        scroll: u16,
    },
    Errors {
        scroll: u16,
    },
    Confirm(Box<Confirm>),
    /// The regression-test editor over `state.draft`.
    Draft,
    /// The failed-log view (`state.log`).
    Log,
}

/// What a source has delivered so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    pub configured: bool,
    pub in_flight: bool,
    pub loaded: bool,
    pub last_ok: Option<OffsetDateTime>,
    pub last_error: Option<SourceError>,
    pub last_error_at: Option<OffsetDateTime>,
    /// When the data restored from the on-disk store at start was read from the service; while
    /// `last_ok` is still that time, what is shown is the cache's.
    pub cached_at: Option<OffsetDateTime>,
}

/// How a tab's table should look right now.
#[derive(Debug, Clone, PartialEq)]
pub enum TabStatus {
    NotConfigured(&'static str),
    Loading,
    Error(String),
    Ready,
}

/// An error in the operator's words, with its time: a rate limit says until when.
pub fn describe_error(e: &SourceError, at: OffsetDateTime) -> String {
    match e {
        SourceError::RateLimited { retry_after_secs } => {
            let f = time::macros::format_description!("[hour]:[minute]");
            let until = i64::try_from(*retry_after_secs)
                .ok()
                .filter(|&s| s <= 86_400)
                .and_then(|s| at.checked_add(time::Duration::seconds(s)))
                .and_then(|t| t.format(&f).ok());
            match until {
                Some(t) => format!("rate limited until {t} UTC"),
                // A server asking for more than a day: say so without a clock time.
                None => format!(
                    "rate limited for {}",
                    crate::fmt::fmt_age(i64::try_from(*retry_after_secs).unwrap_or(i64::MAX))
                ),
            }
        }
        SourceError::SecondaryLimit { retry_after_secs } => format!(
            "secondary rate limit (too many requests at once): next try in {}",
            crate::fmt::fmt_age(i64::try_from(*retry_after_secs).unwrap_or(i64::MAX))
        ),
        other => crate::sanitize::clean(&other.to_string()),
    }
}

/// Everything the cockpit shows.
#[derive(Debug, Clone)]
pub struct State {
    pub tab: Tab,
    pub prs: Table<std::sync::Arc<PullRequest>>,
    pub runs: Table<WorkflowRun>,
    pub rollouts: Table<ServiceRollout>,
    pub incidents: Table<Incident>,
    pub summaries: Table<Summary>,
    pub sources: [SourceStatus; 3],
    pub rate: Option<RateLimit>,
    /// GraphQL's points budget (the PR list), apart from REST's.
    pub graphql_rate: Option<RateLimit>,
    /// GitHub's polls are spaced out ahead of a rate limit's wall.
    pub slowed: Option<crate::domain::Slowdown>,
    /// Repositories the last GitHub poll could not read (their last good rows stay shown).
    pub failed_repos: Vec<RepoError>,
    pub mode: Mode,
    pub detail: bool,
    /// Rows the detail pane is scrolled down by.
    pub detail_scroll: u16,
    /// What the last frame measured of the scrollable panes.
    pub drawn: Drawn,
    pub messages: Vec<Message>,
    pub keymap: Keymap,
    /// The colour themes' names (`ui` owns the themes) and the one in use.
    pub theme_names: Vec<String>,
    pub theme: usize,
    pub read_only: bool,
    pub mouse: bool,
    /// Ring the terminal's bell when a service turns ROLLBACK (`bell` in the config).
    pub bell: bool,
    pub refresh_secs: u64,
    pub size: (u16, u16),
    pub now: OffsetDateTime,
    pub quit: bool,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// Jobs of runs, fetched when a run's detail or log is shown (keyed by run id, with the run's
    /// `updated_at` they were fetched for).
    pub jobs: HashMap<u64, (Option<OffsetDateTime>, Loadable<Vec<Job>>)>,
    /// Files of PRs ("repo#n"), fetched when a PR's detail is shown.
    pub pr_files: HashMap<String, (Option<OffsetDateTime>, Loadable<Vec<PrFile>>)>,
    /// Failed runs' logs analysed (against the job's last green log), by run id; the newest
    /// [`MAX_RUN_ANALYSES`] are kept.
    pub run_analysis: std::collections::BTreeMap<u64, Loadable<Box<super::RunAnalysis>>>,
    /// The configured OpenAI-compatible model (`None`: the builtin analyzer only, nothing is
    /// sent anywhere).
    pub llm_model: Option<String>,
    /// Redaction patterns of the config's `[ai] redact`, applied to every prompt.
    pub llm_redact: Vec<String>,
    /// The LLM's answers by subject key (`kind subject`).
    pub llm_answers: HashMap<String, LlmAnswer>,
    /// An ask waiting for its subject's reads (`s` on an incident whose event is being read):
    /// its answer key; sent once they are in ([`super::update::ai::resume`]).
    pub llm_after_reading: Option<String>,
    /// Ask the LLM for a JSON object (`response_format: json_object`) until the server refuses it.
    pub llm_json_object: bool,
    /// The PR risk rules (`[ai.risk]`).
    pub risk_rules: crate::ai::risk::RiskRules,
    /// The prompt preview (`p`): exactly the request body that `s` sends.
    pub preview: Option<String>,
    /// Where the DORA metrics are read (`None`: nothing to read them from).
    pub dora_scope: Option<super::DoraScope>,
    /// The DORA metrics, read on demand (when their row on the AI tab is selected), with when.
    pub dora: Option<(OffsetDateTime, Loadable<Box<super::DoraView>>)>,
    /// Latest events of Sentry issues, fetched when an incident's detail is shown.
    pub incident_events: EventCache,
    /// The suspected change of Sentry issues, best first, looked up once their event is known.
    pub incident_suspects: IssueCache<Vec<crate::domain::Suspect>>,
    pub log: Option<LogView>,
    /// Targets with a remote change in flight: the same change is never sent twice.
    pub changes_in_flight: BTreeSet<String>,
    /// The last regression-test draft, kept (with the operator's edits) when the editor closes.
    pub draft: Option<Box<crate::app::draft::DraftEditor>>,
    /// The incident whose test is being drafted (one at a time).
    pub drafting: Option<String>,
    pub next_change_id: u64,
    /// The configured services (rollback targets, autopilot).
    pub services: Vec<ServicePlan>,
    /// Autopilot for every service (`--autopilot`).
    pub autopilot: bool,
    /// The judge's policy (each service brings its own traffic floor).
    pub policy: Policy,
    /// The judge's verdict per service, from the last Prometheus poll.
    pub judgements: HashMap<String, Judgement>,
    /// Each service's judgement before its score or verdict last changed (what moved it).
    pub previous_judgements: HashMap<String, Judgement>,
    /// The last verdict per service given on live data (cached data is not a verdict change).
    pub live_verdicts: HashMap<String, crate::analysis::canary::Verdict>,
    /// Verdict changes not yet handed to the runtime as records.
    pub verdict_changes: Vec<crate::app::msg::VerdictChange>,
    /// Per service, the first ROLLBACK the judge called in its current rollout on live data (or
    /// restored from the audit log at start), kept while the verdict moves on (a proof that
    /// thins, a burst held, a quiet window) until the canary's weight drops or a poll shows
    /// another rollout (rolled back, or a new rollout).
    pub rollbacks_called: HashMap<String, RollbackCalled>,
    /// What the autopilot already did (so that it acts once per situation), and its decisions.
    pub autopilot_done: BTreeSet<String>,
    pub autopilot_log: Vec<(OffsetDateTime, String)>,
}

/// A ROLLBACK the judge called for a service in its current rollout ([`State::rollbacks_called`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackCalled {
    pub at: OffsetDateTime,
    /// The canary's weight then, %.
    pub weight: Option<f64>,
    /// The judgement's one line then.
    pub summary: String,
    /// When the rollout it was called in began, when the poll knew it: the call is forgotten
    /// once a live poll shows a rollout that began at another moment.
    pub began: Option<OffsetDateTime>,
    /// Restored from the audit log at start and not yet seen by a live poll: the first live poll
    /// keeps it only when it shows the same rollout (one that cannot say when it began is not).
    pub restored: bool,
}

impl RollbackCalled {
    /// A call the audit log kept (restored: see [`RollbackCalled::restored`]), its line cleaned.
    pub fn from_record(c: &crate::domain::RollbackCall) -> RollbackCalled {
        RollbackCalled {
            at: c.at,
            weight: c.weight,
            summary: crate::sanitize::clean(&c.summary),
            began: Some(c.rollout_began),
            restored: true,
        }
    }

    /// "14:05 UTC at 25 %": when, and at which weight.
    pub fn when(&self) -> String {
        let f = time::macros::format_description!("[hour]:[minute] UTC");
        format!(
            "{}{}",
            self.at.format(&f).unwrap_or_default(),
            self.weight
                .map(|w| format!(" at {w:.0} %"))
                .unwrap_or_default()
        )
    }
}

const MESSAGE_HISTORY: usize = 200;
/// The LLM's answer about one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmAnswer {
    /// The model's text so far (raw; shown cleaned, parsed when whole).
    pub text: String,
    pub state: LlmState,
    pub model: String,
    /// When it was asked.
    pub asked_at: OffsetDateTime,
    /// What the answer rests on when it was asked ([`super::update::ai::basis_of`]): a
    /// different basis now means the subject changed.
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LlmState {
    Streaming,
    Done { cached: bool },
    Failed(String),
    Cancelled,
}

/// Failed runs whose log analysis the cockpit keeps.
pub const MAX_RUN_ANALYSES: usize = 16;

impl State {
    pub fn new(keymap: Keymap, theme_names: Vec<String>, now: OffsetDateTime) -> State {
        State {
            tab: Tab::Prs,
            prs: Table::default(),
            runs: Table::default(),
            rollouts: Table::default(),
            incidents: Table::default(),
            summaries: Table::default(),
            sources: Default::default(),
            rate: None,
            graphql_rate: None,
            slowed: None,
            failed_repos: Vec::new(),
            mode: Mode::Normal,
            detail: false,
            detail_scroll: 0,
            drawn: Drawn::default(),
            messages: Vec::new(),
            keymap,
            theme_names: if theme_names.is_empty() {
                vec!["default".into()]
            } else {
                theme_names
            },
            theme: 0,
            read_only: false,
            mouse: false,
            bell: false,
            refresh_secs: 15,
            size: (80, 24),
            now,
            quit: false,
            dirty: true,
            jobs: HashMap::new(),
            pr_files: HashMap::new(),
            run_analysis: std::collections::BTreeMap::new(),
            llm_model: None,
            llm_redact: Vec::new(),
            llm_answers: HashMap::new(),
            llm_after_reading: None,
            llm_json_object: true,
            risk_rules: Default::default(),
            preview: None,
            dora_scope: None,
            dora: None,
            incident_events: EventCache::default(),
            incident_suspects: IssueCache::default(),
            log: None,
            changes_in_flight: BTreeSet::new(),
            draft: None,
            drafting: None,
            next_change_id: 1,
            services: Vec::new(),
            autopilot: false,
            policy: Policy::default(),
            judgements: HashMap::new(),
            previous_judgements: HashMap::new(),
            live_verdicts: HashMap::new(),
            verdict_changes: Vec::new(),
            rollbacks_called: HashMap::new(),
            autopilot_done: BTreeSet::new(),
            autopilot_log: Vec::new(),
        }
    }

    /// The screen's geometry now.
    pub fn screen(&self) -> Screen {
        layout::screen(self.size.0, self.size.1, self.detail)
    }

    /// Rows of the table body that fit on screen.
    pub fn list_height(&self) -> usize {
        self.screen().rows.height as usize
    }

    /// Whether the detail pane sits at the right (wide terminals) or at the bottom.
    pub fn detail_at_right(&self) -> bool {
        self.size.0 >= layout::DETAIL_RIGHT_MIN_WIDTH
    }

    pub fn judgement(&self, service: &str) -> Option<&Judgement> {
        self.judgements.get(service)
    }

    pub fn theme_name(&self) -> &str {
        self.theme_names
            .get(self.theme)
            .map(String::as_str)
            .unwrap_or("default")
    }

    /// The run whose deployment to the service's environment waits for approval, if any.
    pub fn held_run(&self, service: &ServiceRollout) -> Option<&WorkflowRun> {
        self.runs.items.iter().find(|run| {
            service.repo.as_deref().is_none_or(|r| r == run.repo)
                && run
                    .pending
                    .iter()
                    .any(|p| p.environment.eq_ignore_ascii_case(&service.environment))
        })
    }

    pub fn table(&self, tab: Tab) -> &dyn TableOps {
        match tab {
            Tab::Prs => &self.prs,
            Tab::Runs => &self.runs,
            Tab::Rollouts => &self.rollouts,
            Tab::Incidents => &self.incidents,
            Tab::Ai => &self.summaries,
        }
    }

    pub(crate) fn table_mut(&mut self, tab: Tab) -> &mut dyn TableOps {
        match tab {
            Tab::Prs => &mut self.prs,
            Tab::Runs => &mut self.runs,
            Tab::Rollouts => &mut self.rollouts,
            Tab::Incidents => &mut self.incidents,
            Tab::Ai => &mut self.summaries,
        }
    }

    pub fn source(&self, id: SourceId) -> &SourceStatus {
        &self.sources[id as usize]
    }

    pub(crate) fn source_mut(&mut self, id: SourceId) -> &mut SourceStatus {
        &mut self.sources[id as usize]
    }

    pub fn list(&self, tab: Tab) -> &ListState {
        self.table(tab).list()
    }

    pub(crate) fn list_mut(&mut self, tab: Tab) -> &mut ListState {
        self.table_mut(tab).list_mut()
    }

    /// The selected row's URL and whether it is a production target.
    pub fn selected_row(&self) -> Option<(&str, bool)> {
        self.table(self.tab).selected_link()
    }

    /// Draw the loud production frame: the selected row acts on a production environment.
    pub fn production_focus(&self) -> bool {
        self.selected_row().is_some_and(|(_, p)| p)
    }

    /// A source's last error in the operator's words; for GitHub, a repository the last poll could
    /// not read when the rest was read.
    pub fn source_error(&self, id: SourceId) -> Option<String> {
        let s = self.source(id);
        let at = s.last_error_at.unwrap_or(self.now);
        match (&s.last_error, id) {
            (Some(e), _) => Some(describe_error(e, at)),
            (None, SourceId::GitHub) => self.failed_repos.first().map(|f| {
                let more = match self.failed_repos.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", crate::fmt::plural(n - 1, "repo")),
                };
                format!("{}: {}{more}", f.repo, describe_error(&f.error, at))
            }),
            (None, _) => None,
        }
    }

    pub fn tab_status(&self, tab: Tab) -> TabStatus {
        match tab.source() {
            Some(id) => {
                let s = self.source(id);
                if !s.configured {
                    TabStatus::NotConfigured(match id {
                        SourceId::GitHub => "[github] with repos",
                        SourceId::Prometheus => "[prometheus] and [[service]]",
                        SourceId::Sentry => "[sentry] with org and projects",
                    })
                } else if s.loaded {
                    TabStatus::Ready
                } else if let Some(e) = self.source_error(id) {
                    TabStatus::Error(e)
                } else {
                    TabStatus::Loading
                }
            }
            None => {
                let any_loaded = self.sources.iter().any(|s| s.loaded);
                let any_configured = self.sources.iter().any(|s| s.configured);
                if !any_configured {
                    TabStatus::NotConfigured("a source to analyse")
                } else if any_loaded {
                    TabStatus::Ready
                } else {
                    TabStatus::Loading
                }
            }
        }
    }

    /// The message shown in the message bar, if one is current.
    pub fn current_message(&self) -> Option<&Message> {
        self.messages.last().filter(|m| m.expires > self.now)
    }

    /// When the message bar next changes on its own (for the runtime's timer).
    pub fn next_expiry(&self) -> Option<OffsetDateTime> {
        self.current_message().map(|m| m.expires)
    }

    pub fn push_message(&mut self, level: Level, text: impl Into<String>) {
        let secs = match level {
            Level::Info => 4,
            Level::Warn => 8,
            Level::Error => 12,
        };
        self.messages.push(Message {
            level,
            text: text.into(),
            at: self.now,
            expires: self.now + time::Duration::seconds(secs),
        });
        if self.messages.len() > MESSAGE_HISTORY {
            let cut = self.messages.len() - MESSAGE_HISTORY;
            self.messages.drain(..cut);
        }
        self.dirty = true;
    }

    /// Whether what is shown of a source came from the on-disk store (no poll has answered yet).
    pub fn cached(&self, id: SourceId) -> bool {
        let s = self.source(id);
        s.cached_at.is_some() && s.cached_at == s.last_ok
    }

    /// Whether a source's data is older than three poll intervals, or came from the on-disk store.
    pub fn stale(&self, id: SourceId) -> bool {
        let s = self.source(id);
        self.cached(id)
            || s.last_ok.is_some_and(|t| {
                (self.now - t).whole_seconds() > 3 * self.refresh_secs.max(1) as i64 + 5
            })
    }

    /// Status-bar text of one source: "GitHub ✓", "Sentry stale 4m: HTTP 502", and for data from
    /// the on-disk store "GitHub stale 4m (cached)".
    pub fn freshness(&self, id: SourceId) -> String {
        let s = self.source(id);
        let name = id.label();
        if !s.configured {
            return format!("{name} off");
        }
        let err = self.source_error(id);
        match (s.last_ok, err) {
            (None, None) => format!("{name} …"),
            (None, Some(e)) => format!("{name} ✗ {e}"),
            (Some(t), e) => {
                let age = (self.now - t).whole_seconds().max(0);
                let cached = if self.cached(id) { " (cached)" } else { "" };
                match (self.stale(id), e) {
                    (false, None) => format!("{name} ✓"),
                    (false, Some(e)) => format!("{name} ! {e}"),
                    (true, None) => format!("{name} stale {}{cached}", fmt_age(age)),
                    (true, Some(e)) => format!("{name} stale {}{cached}: {e}", fmt_age(age)),
                }
            }
        }
    }

    /// When the most recent deploy of `project` started, as far as the state knows: the canary
    /// step of the rollout named after it (`slice_since`), or the start of a deploy run (a
    /// workflow named like "deploy", or one waiting on an environment) in a repo named after it
    /// or deploying it.
    pub fn last_deploy(&self, project: &str) -> Option<OffsetDateTime> {
        let rollout_repos: Vec<&str> = self
            .rollouts
            .items
            .iter()
            .filter(|r| r.name == project)
            .filter_map(|r| r.repo.as_deref())
            .collect();
        let rollout = self
            .rollouts
            .items
            .iter()
            .filter(|r| r.name == project)
            .filter_map(|r| r.slice_since)
            .max();
        let run = self
            .runs
            .items
            .iter()
            .filter(|r| {
                let name = r.repo.rsplit('/').next().unwrap_or(&r.repo);
                (name == project || rollout_repos.contains(&r.repo.as_str()))
                    && (r.workflow.to_ascii_lowercase().contains("deploy")
                        || r.event == "deployment"
                        || !r.pending.is_empty())
            })
            .filter_map(|r| r.started_at)
            .max();
        rollout.max(run)
    }

    /// Put the incidents in the order that needs attention first ([`super::rows::by_attention`]);
    /// true when the order changed.
    pub(crate) fn order_incidents(&mut self, height: usize) -> bool {
        let items = super::rows::by_attention(
            self.incidents.items.clone(),
            |p| self.last_deploy(p),
            self.now,
        );
        self.incidents.replace(items, height)
    }

    pub fn recompute_summaries(&mut self) {
        let h = self.list_height();
        let s = crate::ai::summaries::headlines(
            &self.prs.items,
            &self.runs.items,
            &self.rollouts.items,
            &self.judgements,
            &self.previous_judgements,
            &self.incidents.items,
            &|pr| match self.pr_files.get(&format!("{}#{}", pr.repo, pr.number)) {
                Some((_, Loadable::Ready(f))) => Some(f.clone()),
                _ => None,
            },
            &|run| match self.run_analysis.get(&run.id) {
                Some(Loadable::Ready(a)) => Some((
                    a.report.clone(),
                    crate::ai::summaries::comparison(
                        run,
                        &a.job,
                        a.green.as_ref().map(|(n, b)| (*n, b.as_str())),
                        a.green_note.as_deref(),
                        a.on_default
                            .as_ref()
                            .map(|(n, st, b)| (*n, *st, b.as_str())),
                    ),
                )),
                _ => None,
            },
            &|i| crate::ai::summaries::IncidentContext {
                event: match self.incident_events.get(&i.id) {
                    Some((_, Loadable::Ready(e))) => Some(e),
                    _ => None,
                },
                suspects: match self.incident_suspects.get(&i.id) {
                    Some((_, Loadable::Ready(s))) => Some(s.as_slice()),
                    _ => None,
                },
                last_deploy: self.last_deploy(&i.project),
            },
            &self.risk_rules,
        );
        let mut s = s;
        if let Some(scope) = &self.dora_scope {
            s.push(crate::ai::summaries::dora(
                &scope.environment,
                scope.days,
                match &self.dora {
                    Some((_, Loadable::Ready(v))) => Ok(Some(v.as_ref())),
                    Some((_, Loadable::Failed(e))) => Err(e.as_str()),
                    _ => Ok(None),
                },
                matches!(self.dora, Some((_, Loadable::Loading))),
            ));
        }
        let bases: HashMap<String, String> = s
            .iter()
            .map(|x| (crate::ai::summaries::answer_key(x), x))
            .filter(|(k, _)| self.llm_answers.contains_key(k))
            .map(|(k, x)| (k, super::update::ai::basis_of(self, x)))
            .collect();
        super::update::ai::overlay(&mut s, &self.llm_answers, &bases, self.now);
        self.summaries.replace(s, h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn data_from_the_cache_is_stale_with_its_age_until_a_poll_answers() {
        let now = datetime!(2026-11-23 09:30:00 UTC);
        let mut s = State::new(Keymap::default(), Vec::new(), now);
        let cached = now - time::Duration::seconds(20);
        let gh = &mut s.sources[SourceId::GitHub as usize];
        gh.configured = true;
        gh.loaded = true;
        gh.last_ok = Some(cached);
        gh.cached_at = Some(cached);
        // Younger than three intervals, yet marked: it was not read in this session.
        assert!(s.cached(SourceId::GitHub) && s.stale(SourceId::GitHub));
        assert_eq!(s.freshness(SourceId::GitHub), "GitHub stale 20s (cached)");
        s.sources[SourceId::GitHub as usize].last_error = Some(SourceError::Status {
            status: 502,
            message: "bad gateway".into(),
        });
        assert_eq!(
            s.freshness(SourceId::GitHub),
            "GitHub stale 20s (cached): HTTP 502: bad gateway"
        );
        // A poll answered: the cache is history.
        let gh = &mut s.sources[SourceId::GitHub as usize];
        gh.last_error = None;
        gh.last_ok = Some(now);
        assert!(!s.cached(SourceId::GitHub) && !s.stale(SourceId::GitHub));
        assert_eq!(s.freshness(SourceId::GitHub), "GitHub ✓");
    }

    #[test]
    fn the_last_deploy_of_a_project_is_its_canary_step_or_deploy_run() {
        use crate::domain::{RunState, ServiceRollout};
        let now = datetime!(2026-11-23 09:30:00 UTC);
        let mut s = State::new(Keymap::default(), Vec::new(), now);
        assert_eq!(s.last_deploy("checkout"), None);
        let run = |workflow: &str, mins: i64| WorkflowRun {
            repo: "acme/checkout".into(),
            id: mins as u64,
            run_number: 1,
            workflow: workflow.into(),
            title: String::new(),
            branch: "main".into(),
            sha: "abc".into(),
            event: "push".into(),
            actor: "octocat".into(),
            state: RunState::Success,
            attempt: 1,
            started_at: Some(now - time::Duration::minutes(mins)),
            updated_at: None,
            url: String::new(),
            pending: Vec::new(),
        };
        s.runs.items = vec![run("CI", 1), run("Deploy", 20)];
        assert_eq!(
            s.last_deploy("checkout"),
            Some(now - time::Duration::minutes(20))
        );
        assert_eq!(s.last_deploy("web"), None);
        s.rollouts.items = vec![ServiceRollout {
            name: "checkout".into(),
            slice_since: Some(now - time::Duration::minutes(3)),
            ..ServiceRollout::default()
        }];
        assert_eq!(
            s.last_deploy("checkout"),
            Some(now - time::Duration::minutes(3))
        );
    }
}
