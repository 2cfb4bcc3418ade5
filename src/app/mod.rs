//! The cockpit's state and the one function that changes it.
//!
//! `update(&mut State, Msg) -> Vec<Effect>` does no I/O: keystrokes, poll results and timer ticks come
//! in as messages; requests, clipboard writes and quitting go out as effects for the runtime to run.

pub mod filter;
pub mod keymap;
pub mod ops;
pub mod rows;

use crate::analysis;
use crate::analysis::canary::{Band, Judgement, Verdict as JudgeVerdict};
use crate::analysis::ci_log::Triage;
use crate::domain::{
    Incident, Job, PrFile, PullRequest, RateLimit, RunState, ServiceRollout, SourceData, SourceId,
    Summary, WorkflowRun,
};
use crate::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use filter::Query;
use keymap::{Action, Keymap};
use ops::{Confirm, Focus, Op, RollbackTarget, Verdict};
use rows::Row;
use std::collections::BTreeMap;
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub level: Level,
    pub text: String,
    pub at: OffsetDateTime,
    pub expires: OffsetDateTime,
}

/// Messages in.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    Tick(OffsetDateTime),
    PollStarted(SourceId),
    Loaded {
        source: SourceId,
        result: Result<SourceData, String>,
        fetched_at: OffsetDateTime,
    },
    Notice(Level, String),
    /// A run's jobs, fetched on demand.
    JobsLoaded {
        repo: String,
        run_id: u64,
        result: Result<Vec<Job>, String>,
    },
    /// A PR's files, fetched on demand.
    FilesLoaded {
        repo: String,
        number: u64,
        result: Result<Vec<PrFile>, String>,
    },
    /// A job's log, triaged off the UI task.
    LogLoaded {
        job_id: u64,
        result: Result<Triage, String>,
    },
    /// The revisions a rollback goes from and to: (current sha, last good sha, last good ref).
    RollbackPrepared {
        service: String,
        auto: bool,
        result: Result<Revisions, String>,
    },
    /// A remote change finished (or was refused before it was sent).
    OpFinished {
        id: u64,
        op: Op,
        result: Result<String, String>,
    },
    /// SIGTERM, SIGHUP or SIGINT.
    Terminate,
}

/// Effects out, run by the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Poll now: one source, or every source.
    Refresh(Option<SourceId>),
    /// The visible tab changed; its source polls faster.
    VisibleTab(Tab),
    OpenUrl(String),
    Copy(String),
    SetMouse(bool),
    FetchJobs {
        repo: String,
        run_id: u64,
    },
    FetchPrFiles {
        repo: String,
        number: u64,
    },
    FetchLog {
        repo: String,
        job_id: u64,
    },
    /// Look up what a service runs now and its last good revision, before a rollback.
    PrepareRollback {
        service: String,
        repo: Option<String>,
        environment: String,
        auto: bool,
    },
    /// Send a confirmed remote change. The runtime audits it before and after.
    Execute {
        id: u64,
        op: Op,
        comment: String,
    },
}

/// What an environment runs and last ran while healthy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Revisions {
    pub current: Option<String>,
    pub last_good: Option<String>,
    pub last_good_ref: Option<String>,
}

/// Data fetched on demand.
#[derive(Debug, Clone, PartialEq)]
pub enum Loadable<T> {
    Loading,
    Ready(T),
    Failed(String),
}

/// The failed-log view of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct LogView {
    pub repo: String,
    pub run_id: u64,
    pub title: String,
    /// The job shown, once the run's jobs are known.
    pub job: Option<(u64, String)>,
    pub content: Loadable<Triage>,
    pub scroll: usize,
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
    Errors {
        scroll: u16,
    },
    Confirm(Box<Confirm>),
    /// The failed-log view (`state.log`).
    Log,
}

/// Filter, selection and scroll of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListState {
    keys: Vec<String>,
    /// Indices of the items that pass the filter, in table order.
    pub view: Vec<u32>,
    pub filter: String,
    pub selected: usize,
    pub offset: usize,
    /// Sorted by (column, descending); `None` keeps the source's order.
    pub sort: Option<(usize, bool)>,
    pub grouped: bool,
}

impl ListState {
    fn set_keys(&mut self, keys: Vec<String>) {
        self.keys = keys;
        self.refilter(None);
    }

    /// Re-apply the filter. When `narrowing_from` is a prefix of the new filter, only rows that matched
    /// before can match now, so only they are checked.
    fn refilter(&mut self, narrowing_from: Option<&str>) {
        let q = Query::new(&self.filter);
        if q.is_empty() {
            self.view = (0..self.keys.len() as u32).collect();
        } else if narrowing_from.is_some_and(|old| !old.is_empty() && self.filter.starts_with(old))
        {
            let keys = &self.keys;
            self.view.retain(|&i| q.matches(&keys[i as usize]));
        } else {
            self.view = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| q.matches(k))
                .map(|(i, _)| i as u32)
                .collect();
        }
        self.clamp();
    }

    pub fn set_filter(&mut self, filter: String) {
        let old = std::mem::replace(&mut self.filter, filter);
        self.refilter(Some(&old));
    }

    pub fn selected_item(&self) -> Option<usize> {
        self.view.get(self.selected).map(|&i| i as usize)
    }

    fn clamp(&mut self) {
        if self.view.is_empty() {
            self.selected = 0;
            self.offset = 0;
        } else if self.selected >= self.view.len() {
            self.selected = self.view.len() - 1;
        }
    }

    fn move_to(&mut self, target: isize, height: usize) {
        if self.view.is_empty() {
            return;
        }
        self.selected = target.clamp(0, self.view.len() as isize - 1) as usize;
        self.scroll_into_view(height);
    }

    fn scroll_into_view(&mut self, height: usize) {
        let h = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        let max_offset = self.view.len().saturating_sub(h);
        self.offset = self.offset.min(max_offset);
    }
}

/// One table: its items and its list state.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<T> {
    pub items: Vec<T>,
    pub list: ListState,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            list: ListState::default(),
        }
    }
}

impl<T: Row + PartialEq> Table<T> {
    /// Replace the items, keeping the selection on the same item. Returns false when nothing changed.
    pub fn replace(&mut self, items: Vec<T>, height: usize) -> bool {
        if items == self.items {
            return false;
        }
        let keep = self.list.selected_item().map(|i| self.items.swap_remove(i));
        self.list.set_keys(items.iter().map(Row::key).collect());
        self.items = items;
        self.sort_view();
        if let Some(old) = keep
            && let Some(pos) = self
                .list
                .view
                .iter()
                .position(|&i| self.items[i as usize].same_as(&old))
        {
            self.list.selected = pos;
        }
        self.list.clamp();
        self.list.scroll_into_view(height);
        true
    }

    pub fn selected(&self) -> Option<&T> {
        self.list.selected_item().and_then(|i| self.items.get(i))
    }

    /// Order the filtered view by the sort column (and by group first when grouped). Stable, so
    /// equal keys keep the source's order.
    fn sort_view(&mut self) {
        let l = &mut self.list;
        if l.sort.is_none() && !l.grouped {
            l.view.sort_unstable();
            return;
        }
        let items = &self.items;
        let mut keyed: Vec<(Option<&str>, Option<rows::SortKey>, u32)> = l
            .view
            .iter()
            .map(|&i| {
                let it = &items[i as usize];
                (
                    l.grouped.then(|| it.group()),
                    l.sort.map(|(c, _)| it.sort_key(c)),
                    i,
                )
            })
            .collect();
        let desc = l.sort.is_some_and(|(_, d)| d);
        keyed.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let o = match (&a.1, &b.1) {
                    (Some(x), Some(y)) => x.compare(y),
                    _ => std::cmp::Ordering::Equal,
                };
                if desc { o.reverse() } else { o }
            })
        });
        l.view = keyed.into_iter().map(|(_, _, i)| i).collect();
    }
}

/// What `update` does to any table, whatever its row type.
pub trait TableOps {
    fn list(&self) -> &ListState;
    fn list_mut(&mut self) -> &mut ListState;
    fn set_filter(&mut self, filter: String);
    fn set_sort(&mut self, sort: Option<(usize, bool)>, grouped: bool);
    fn columns(&self) -> &'static [&'static str];
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn selected_link(&self) -> Option<(&str, bool)>;
}

impl<T: Row + PartialEq> TableOps for Table<T> {
    fn list(&self) -> &ListState {
        &self.list
    }
    fn list_mut(&mut self) -> &mut ListState {
        &mut self.list
    }
    fn set_filter(&mut self, filter: String) {
        let keep = self.list.selected_item();
        let narrowing = !self.list.filter.is_empty() && filter.starts_with(&self.list.filter);
        self.list.set_filter(filter);
        if !narrowing {
            self.sort_view();
        }
        if let Some(k) = keep
            && let Some(pos) = self.list.view.iter().position(|&i| i as usize == k)
        {
            self.list.selected = pos;
        }
        self.list.clamp();
    }
    fn set_sort(&mut self, sort: Option<(usize, bool)>, grouped: bool) {
        let keep = self.list.selected_item();
        self.list.sort = sort;
        self.list.grouped = grouped;
        self.sort_view();
        if let Some(k) = keep
            && let Some(pos) = self.list.view.iter().position(|&i| i as usize == k)
        {
            self.list.selected = pos;
        }
    }
    fn columns(&self) -> &'static [&'static str] {
        T::COLUMNS
    }
    fn len(&self) -> usize {
        self.items.len()
    }
    fn selected_link(&self) -> Option<(&str, bool)> {
        self.selected().map(|r| (r.url(), r.production()))
    }
}

/// What a source has delivered so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    pub configured: bool,
    pub in_flight: bool,
    pub loaded: bool,
    pub last_ok: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub last_error_at: Option<OffsetDateTime>,
}

/// How a tab's table should look right now.
#[derive(Debug, Clone, PartialEq)]
pub enum TabStatus {
    NotConfigured(&'static str),
    Loading,
    Error(String),
    Ready,
}

/// Everything the cockpit shows.
#[derive(Debug, Clone)]
pub struct State {
    pub tab: Tab,
    pub prs: Table<PullRequest>,
    pub runs: Table<WorkflowRun>,
    pub rollouts: Table<ServiceRollout>,
    pub incidents: Table<Incident>,
    pub summaries: Table<Summary>,
    pub sources: [SourceStatus; 3],
    pub rate: Option<RateLimit>,
    pub mode: Mode,
    pub detail: bool,
    pub messages: Vec<Message>,
    pub keymap: Keymap,
    pub themes: Vec<Theme>,
    pub theme: usize,
    pub read_only: bool,
    pub mouse: bool,
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
    pub log: Option<LogView>,
    /// Targets with a remote change in flight: the same change is never sent twice.
    pub ops_in_flight: BTreeSet<String>,
    pub next_op_id: u64,
    /// The configured services (rollback targets, autopilot).
    pub services: Vec<crate::config::ServiceConfig>,
    /// Autopilot for every service (`--autopilot`).
    pub autopilot: bool,
    pub policy: crate::config::PolicyConfig,
    /// The judge's verdict per service, from the last Prometheus poll.
    pub judgements: HashMap<String, Judgement>,
    /// What the autopilot already did (so that it acts once per situation), and its decisions.
    pub autopilot_done: BTreeSet<String>,
    pub autopilot_log: Vec<(OffsetDateTime, String)>,
}

const MESSAGE_HISTORY: usize = 200;

impl State {
    pub fn new(keymap: Keymap, themes: Vec<Theme>, now: OffsetDateTime) -> State {
        State {
            tab: Tab::Prs,
            prs: Table::default(),
            runs: Table::default(),
            rollouts: Table::default(),
            incidents: Table::default(),
            summaries: Table::default(),
            sources: Default::default(),
            rate: None,
            mode: Mode::Normal,
            detail: false,
            messages: Vec::new(),
            keymap,
            themes: if themes.is_empty() {
                vec![Theme::default()]
            } else {
                themes
            },
            theme: 0,
            read_only: false,
            mouse: false,
            refresh_secs: 15,
            size: (80, 24),
            now,
            quit: false,
            dirty: true,
            jobs: HashMap::new(),
            pr_files: HashMap::new(),
            log: None,
            ops_in_flight: BTreeSet::new(),
            next_op_id: 1,
            services: Vec::new(),
            autopilot: false,
            policy: crate::config::PolicyConfig::default(),
            judgements: HashMap::new(),
            autopilot_done: BTreeSet::new(),
            autopilot_log: Vec::new(),
        }
    }

    pub fn judgement(&self, service: &str) -> Option<&Judgement> {
        self.judgements.get(service)
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

    fn table_mut(&mut self, tab: Tab) -> &mut dyn TableOps {
        match tab {
            Tab::Prs => &mut self.prs,
            Tab::Runs => &mut self.runs,
            Tab::Rollouts => &mut self.rollouts,
            Tab::Incidents => &mut self.incidents,
            Tab::Ai => &mut self.summaries,
        }
    }

    pub fn theme(&self) -> &Theme {
        &self.themes[self.theme.min(self.themes.len() - 1)]
    }

    pub fn source(&self, id: SourceId) -> &SourceStatus {
        &self.sources[id as usize]
    }

    fn source_mut(&mut self, id: SourceId) -> &mut SourceStatus {
        &mut self.sources[id as usize]
    }

    pub fn list(&self, tab: Tab) -> &ListState {
        self.table(tab).list()
    }

    fn list_mut(&mut self, tab: Tab) -> &mut ListState {
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
                } else if let Some(e) = &s.last_error {
                    TabStatus::Error(e.clone())
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

    /// Whether the detail pane sits at the right (wide terminals) or at the bottom.
    pub fn detail_at_right(&self) -> bool {
        self.size.0 >= 140
    }

    /// Rows of the table body that fit on screen, with the same geometry `ui::render` uses.
    pub fn list_height(&self) -> usize {
        let (_, h) = self.size;
        // tab bar, message bar, status bar, table border (2) and header.
        let mut body = h.saturating_sub(3);
        if self.detail && !self.detail_at_right() {
            body -= body / 2;
        }
        body.saturating_sub(3) as usize
    }

    /// Whether a source's data is older than three poll intervals.
    pub fn stale(&self, id: SourceId) -> bool {
        let s = self.source(id);
        s.last_ok.is_some_and(|t| {
            (self.now - t).whole_seconds() > 3 * self.refresh_secs.max(1) as i64 + 5
        })
    }

    /// Status-bar text of one source: "GitHub ✓", "Sentry stale 4m: HTTP 502".
    pub fn freshness(&self, id: SourceId) -> String {
        let s = self.source(id);
        let name = id.label();
        if !s.configured {
            return format!("{name} off");
        }
        let err = s.last_error.as_deref();
        match (s.last_ok, err) {
            (None, None) => format!("{name} …"),
            (None, Some(e)) => format!("{name} ✗ {e}"),
            (Some(t), e) => {
                let age = (self.now - t).whole_seconds().max(0);
                let stale = self.stale(id);
                match (stale, e) {
                    (false, None) => format!("{name} ✓"),
                    (false, Some(e)) => format!("{name} ! {e}"),
                    (true, None) => format!("{name} stale {}", crate::ui::fmt_age(age)),
                    (true, Some(e)) => format!("{name} stale {}: {e}", crate::ui::fmt_age(age)),
                }
            }
        }
    }

    fn recompute_summaries(&mut self) {
        let h = self.list_height();
        let s = analysis::summaries::headlines(
            &self.prs.items,
            &self.runs.items,
            &self.rollouts.items,
            &self.judgements,
            &self.incidents.items,
        );
        self.summaries.replace(s, h);
    }
}

/// Apply one message. The only code that mutates [`State`].
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let wants_detail = matches!(
        msg,
        Msg::Key(_) | Msg::Mouse(_) | Msg::Loaded { .. } | Msg::Resize(..)
    );
    let mut effects = apply(state, msg);
    if wants_detail && !state.quit {
        effects.extend(detail_effects(state));
    }
    effects
}

/// "approve deployment of acme/checkout Deploy #412 to production"
fn describe_op(op: &Op) -> String {
    match op {
        Op::ReviewDeployment {
            repo,
            workflow,
            run_number,
            environments,
            verdict,
            ..
        } => format!(
            "{} deployment of {repo} {workflow} #{run_number} to {}",
            if *verdict == Verdict::Approve {
                "Approve"
            } else {
                "Reject"
            },
            environments.join(", ")
        ),
        Op::RerunFailedJobs {
            repo,
            workflow,
            run_number,
            ..
        } => format!("Re-run failed jobs of {repo} {workflow} #{run_number}"),
        Op::CancelRun {
            repo,
            workflow,
            run_number,
            ..
        } => format!("Cancel {repo} {workflow} #{run_number}"),
        Op::Rollback {
            service,
            environment,
            to,
            ..
        } => format!("Roll back {service} in {environment} to {to}"),
    }
}

/// Fetch what the visible detail pane needs and does not have yet.
fn detail_effects(state: &mut State) -> Vec<Effect> {
    if !state.detail || state.mode != Mode::Normal {
        return Vec::new();
    }
    match state.tab {
        Tab::Runs => {
            let Some(run) = state.runs.selected() else {
                return Vec::new();
            };
            let (repo, id, updated) = (run.repo.clone(), run.id, run.updated_at);
            request_jobs(state, repo, id, updated)
        }
        Tab::Prs => {
            let Some(pr) = state.prs.selected() else {
                return Vec::new();
            };
            let key = format!("{}#{}", pr.repo, pr.number);
            let (repo, number, updated) = (pr.repo.clone(), pr.number, pr.updated_at);
            let fresh = state
                .pr_files
                .get(&key)
                .is_some_and(|(u, l)| *u == updated && !matches!(l, Loadable::Failed(_)));
            if fresh {
                return Vec::new();
            }
            state.pr_files.insert(key, (updated, Loadable::Loading));
            vec![Effect::FetchPrFiles { repo, number }]
        }
        _ => Vec::new(),
    }
}

/// Ask for a run's jobs unless they are known for the run's current state.
fn request_jobs(
    state: &mut State,
    repo: String,
    run_id: u64,
    updated: Option<OffsetDateTime>,
) -> Vec<Effect> {
    let fresh = state
        .jobs
        .get(&run_id)
        .is_some_and(|(u, l)| *u == updated && !matches!(l, Loadable::Failed(_)));
    if fresh {
        return Vec::new();
    }
    state.jobs.insert(run_id, (updated, Loadable::Loading));
    vec![Effect::FetchJobs { repo, run_id }]
}

fn on_jobs(state: &mut State, run_id: u64, result: Result<Vec<Job>, String>) -> Vec<Effect> {
    let Some(entry) = state.jobs.get_mut(&run_id) else {
        return Vec::new();
    };
    entry.1 = match result {
        Ok(j) => Loadable::Ready(j),
        Err(e) => Loadable::Failed(crate::sanitize::clean(&e)),
    };
    state.dirty = true;
    // A log view waiting for this run's jobs can now ask for the log.
    let waiting = state
        .log
        .as_ref()
        .is_some_and(|l| l.run_id == run_id && l.job.is_none());
    if waiting {
        return pick_log_job(state);
    }
    Vec::new()
}

/// Choose the job whose log to show (the first failed one, else the first), and fetch its log.
fn pick_log_job(state: &mut State) -> Vec<Effect> {
    let Some(log) = &mut state.log else {
        return Vec::new();
    };
    match state.jobs.get(&log.run_id).map(|(_, l)| l) {
        Some(Loadable::Ready(jobs)) => {
            let job = jobs
                .iter()
                .find(|j| j.state == RunState::Failure)
                .or_else(|| jobs.first());
            match job {
                Some(j) => {
                    log.job = Some((j.id, j.name.clone()));
                    log.content = Loadable::Loading;
                    vec![Effect::FetchLog {
                        repo: log.repo.clone(),
                        job_id: j.id,
                    }]
                }
                None => {
                    log.content = Loadable::Failed("this run has no jobs".into());
                    Vec::new()
                }
            }
        }
        Some(Loadable::Failed(e)) => {
            log.content = Loadable::Failed(format!("could not list the jobs: {e}"));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn apply(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Vec::new();
            }
            state.dirty = true;
            on_key(state, key)
        }
        Msg::Paste(text) => {
            let clean = crate::sanitize::clean(&text);
            match &mut state.mode {
                Mode::Filter { .. } => {
                    let f = format!("{}{}", state.list(state.tab).filter, clean);
                    let tab = state.tab;
                    state.table_mut(tab).set_filter(f);
                }
                Mode::Palette { input, selected } => {
                    input.push_str(&clean);
                    *selected = 0;
                }
                _ => {}
            }
            state.dirty = true;
            Vec::new()
        }
        Msg::Mouse(ev) => on_mouse(state, ev),
        Msg::Resize(w, h) => {
            state.size = (w, h);
            let height = state.list_height();
            for tab in Tab::ALL {
                state.list_mut(tab).scroll_into_view(height);
            }
            state.dirty = true;
            Vec::new()
        }
        Msg::Tick(now) => {
            let before: Vec<String> = SourceId::ALL.iter().map(|&s| state.freshness(s)).collect();
            let had_message = state.current_message().is_some();
            let old_minute = state.now.unix_timestamp() / 60;
            state.now = now;
            let after: Vec<String> = SourceId::ALL.iter().map(|&s| state.freshness(s)).collect();
            if before != after
                || had_message != state.current_message().is_some()
                || old_minute != now.unix_timestamp() / 60
            {
                state.dirty = true;
            }
            Vec::new()
        }
        Msg::PollStarted(id) => {
            state.source_mut(id).in_flight = true;
            Vec::new()
        }
        Msg::Loaded {
            source,
            result,
            fetched_at,
        } => {
            on_loaded(state, source, result, fetched_at);
            autopilot(state)
        }
        Msg::Notice(level, text) => {
            state.push_message(level, text);
            Vec::new()
        }
        Msg::JobsLoaded {
            repo: _,
            run_id,
            result,
        } => on_jobs(state, run_id, result),
        Msg::FilesLoaded {
            repo,
            number,
            result,
        } => {
            let key = format!("{repo}#{number}");
            if let Some(entry) = state.pr_files.get_mut(&key) {
                entry.1 = match result {
                    Ok(f) => Loadable::Ready(f),
                    Err(e) => Loadable::Failed(crate::sanitize::clean(&e)),
                };
                state.dirty = true;
            }
            Vec::new()
        }
        Msg::LogLoaded { job_id, result } => {
            if let Some(log) = &mut state.log
                && log.job.as_ref().is_some_and(|(id, _)| *id == job_id)
            {
                log.content = match result {
                    Ok(t) => Loadable::Ready(t),
                    Err(e) => Loadable::Failed(crate::sanitize::clean(&e)),
                };
                // Start at the lines that matter.
                log.scroll = 0;
                state.dirty = true;
            }
            Vec::new()
        }
        Msg::RollbackPrepared {
            service,
            auto,
            result,
        } => on_rollback_prepared(state, &service, auto, result),
        Msg::OpFinished { id: _, op, result } => {
            state.ops_in_flight.remove(&op.target_key());
            match result {
                Ok(detail) => state.push_message(
                    Level::Info,
                    format!("{}: done ({detail})", describe_op(&op)),
                ),
                Err(e) => state.push_message(
                    Level::Error,
                    format!("{}: {}", describe_op(&op), crate::sanitize::clean(&e)),
                ),
            }
            vec![Effect::Refresh(Some(SourceId::GitHub))]
        }
        Msg::Terminate => {
            state.quit = true;
            vec![Effect::Quit]
        }
    }
}

fn on_loaded(
    state: &mut State,
    source: SourceId,
    result: Result<SourceData, String>,
    fetched_at: OffsetDateTime,
) {
    if fetched_at > state.now {
        state.now = fetched_at;
    }
    let height = state.list_height();
    let before = state.source(source).clone();
    match result {
        Ok(data) => {
            let changed = match data {
                SourceData::GitHub { prs, runs, rate } => {
                    let a = state.prs.replace(prs, height);
                    let b = state.runs.replace(runs, height);
                    let c = state.rate != rate;
                    state.rate = rate;
                    a || b || c
                }
                SourceData::Prometheus(r) => {
                    let changed = state.rollouts.replace(r, height);
                    if changed {
                        state.judgements = state
                            .rollouts
                            .items
                            .iter()
                            .map(|r| {
                                (
                                    r.name.clone(),
                                    analysis::rollout::judge_service(r, &state.policy),
                                )
                            })
                            .collect();
                    }
                    changed
                }
                SourceData::Sentry(i) => state.incidents.replace(i, height),
            };
            let s = state.source_mut(source);
            s.in_flight = false;
            s.loaded = true;
            s.last_ok = Some(fetched_at);
            s.last_error = None;
            if before.last_error.is_some() {
                state.push_message(Level::Info, format!("{} recovered", source.label()));
            }
            if changed {
                state.recompute_summaries();
            }
            let label_changed = !before.loaded || before.last_error.is_some();
            if changed || label_changed {
                state.dirty = true;
            }
        }
        Err(e) => {
            let e = crate::sanitize::clean(&e);
            let s = state.source_mut(source);
            s.in_flight = false;
            s.last_error_at = Some(fetched_at);
            let new_error = s.last_error.as_deref() != Some(e.as_str());
            s.last_error = Some(e.clone());
            if new_error {
                let kept = if before.loaded {
                    " (showing the last good data)"
                } else {
                    ""
                };
                state.push_message(Level::Error, format!("{}: {e}{kept}", source.label()));
            }
        }
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    match state.mode.clone() {
        Mode::Filter { before } => on_filter_key(state, key, before),
        Mode::Palette { input, selected } => on_palette_key(state, key, input, selected),
        Mode::Help { scroll } => {
            let action = state.keymap.action_for(&key);
            match action {
                Some(Action::Down) => state.mode = Mode::Help { scroll: scroll + 1 },
                Some(Action::Up) => {
                    state.mode = Mode::Help {
                        scroll: scroll.saturating_sub(1),
                    }
                }
                Some(Action::Quit) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    return run_action(state, Action::Quit);
                }
                _ => state.mode = Mode::Normal,
            }
            Vec::new()
        }
        Mode::Errors { scroll } => {
            match state.keymap.action_for(&key) {
                Some(Action::Down) => state.mode = Mode::Errors { scroll: scroll + 1 },
                Some(Action::Up) => {
                    state.mode = Mode::Errors {
                        scroll: scroll.saturating_sub(1),
                    }
                }
                Some(Action::Quit) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    return run_action(state, Action::Quit);
                }
                _ => state.mode = Mode::Normal,
            }
            Vec::new()
        }
        Mode::Confirm(c) => on_confirm_key(state, key, *c),
        Mode::Log => on_log_key(state, key),
        Mode::Normal => match state.keymap.action_for(&key) {
            Some(a) => run_action(state, a),
            None => Vec::new(),
        },
    }
}

fn on_filter_key(state: &mut State, key: KeyEvent, before: String) -> Vec<Effect> {
    let tab = state.tab;
    match key.code {
        KeyCode::Esc => {
            state.table_mut(tab).set_filter(before);
            state.mode = Mode::Normal;
        }
        KeyCode::Enter => state.mode = Mode::Normal,
        KeyCode::Backspace => {
            let mut f = state.list(tab).filter.clone();
            f.pop();
            state.table_mut(tab).set_filter(f);
        }
        KeyCode::Down => {
            let h = state.list_height();
            let l = state.list_mut(tab);
            l.move_to(l.selected as isize + 1, h);
        }
        KeyCode::Up => {
            let h = state.list_height();
            let l = state.list_mut(tab);
            l.move_to(l.selected as isize - 1, h);
        }
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            return run_action(state, Action::Quit);
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            state.table_mut(tab).set_filter(String::new());
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            let mut f = state.list(tab).filter.clone();
            f.push(c);
            state.table_mut(tab).set_filter(f);
        }
        _ => {}
    }
    Vec::new()
}

/// The palette's entries for an input, best first.
pub fn palette_entries(input: &str) -> Vec<Action> {
    let q = Query::new(input);
    let mut scored: Vec<(i64, usize, Action)> = Action::ALL
        .iter()
        .enumerate()
        .filter(|(_, a)| **a != Action::Palette)
        .filter_map(|(i, &a)| {
            if q.is_empty() {
                return Some((0, i, a));
            }
            let by_name = q.score(a.name()).map(|s| s + 50);
            let by_desc = q.score(a.description());
            by_name.max(by_desc).map(|s| (s, i, a))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, a)| a).collect()
}

fn on_palette_key(
    state: &mut State,
    key: KeyEvent,
    mut input: String,
    mut selected: usize,
) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            return Vec::new();
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            return match palette_entries(&input).get(selected) {
                Some(&a) => run_action(state, a),
                None => Vec::new(),
            };
        }
        KeyCode::Down | KeyCode::Tab => selected += 1,
        KeyCode::Up | KeyCode::BackTab => selected = selected.saturating_sub(1),
        KeyCode::Backspace => {
            input.pop();
            selected = 0;
        }
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            return run_action(state, Action::Quit);
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.push(c);
            selected = 0;
        }
        _ => {}
    }
    let n = palette_entries(&input).len();
    selected = selected.min(n.saturating_sub(1));
    state.mode = Mode::Palette { input, selected };
    Vec::new()
}

fn switch_tab(state: &mut State, tab: Tab) -> Vec<Effect> {
    if state.tab == tab {
        return Vec::new();
    }
    state.tab = tab;
    vec![Effect::VisibleTab(tab)]
}

/// Run a named action (from a key, the palette or the mouse).
pub fn run_action(state: &mut State, action: Action) -> Vec<Effect> {
    state.dirty = true;
    let height = state.list_height();
    let tab = state.tab;
    match action {
        Action::Quit => {
            state.quit = true;
            vec![Effect::Quit]
        }
        Action::NextTab => switch_tab(state, Tab::ALL[(tab.index() + 1) % Tab::ALL.len()]),
        Action::PrevTab => switch_tab(
            state,
            Tab::ALL[(tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()],
        ),
        Action::TabPrs => switch_tab(state, Tab::Prs),
        Action::TabRuns => switch_tab(state, Tab::Runs),
        Action::TabRollouts => switch_tab(state, Tab::Rollouts),
        Action::TabIncidents => switch_tab(state, Tab::Incidents),
        Action::TabAi => switch_tab(state, Tab::Ai),
        Action::Down
        | Action::Up
        | Action::Top
        | Action::Bottom
        | Action::PageDown
        | Action::PageUp => {
            let l = state.list_mut(tab);
            let cur = l.selected as isize;
            let page = height.max(1) as isize;
            let target = match action {
                Action::Down => cur + 1,
                Action::Up => cur - 1,
                Action::Top => 0,
                Action::Bottom => isize::MAX / 2,
                Action::PageDown => cur + page,
                _ => cur - page,
            };
            l.move_to(target, height);
            Vec::new()
        }
        Action::Detail => {
            state.detail = !state.detail;
            let h = state.list_height();
            state.list_mut(tab).scroll_into_view(h);
            Vec::new()
        }
        Action::Back => {
            if state.detail {
                state.detail = false;
            } else if !state.list(tab).filter.is_empty() {
                state.table_mut(tab).set_filter(String::new());
            }
            Vec::new()
        }
        Action::Filter => {
            let before = state.list(tab).filter.clone();
            state.mode = Mode::Filter { before };
            Vec::new()
        }
        Action::Palette => {
            state.mode = Mode::Palette {
                input: String::new(),
                selected: 0,
            };
            Vec::new()
        }
        Action::Help => {
            state.mode = Mode::Help { scroll: 0 };
            Vec::new()
        }
        Action::Errors => {
            state.mode = Mode::Errors { scroll: 0 };
            Vec::new()
        }
        Action::Refresh => {
            state.push_message(Level::Info, "Refreshing every source");
            vec![Effect::Refresh(None)]
        }
        Action::Open | Action::Copy => match state.selected_row().map(|(u, _)| u.to_string()) {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                if action == Action::Open {
                    vec![Effect::OpenUrl(url)]
                } else {
                    state.push_message(Level::Info, format!("Copied {url}"));
                    vec![Effect::Copy(url)]
                }
            }
            _ => {
                state.push_message(Level::Warn, "The selected row has no link");
                Vec::new()
            }
        },
        Action::Sort | Action::SortReverse | Action::GroupByRepo => {
            let cols = state.table(tab).columns().len();
            let l = state.list(tab);
            let (mut sort, mut grouped) = (l.sort, l.grouped);
            match action {
                Action::Sort => {
                    sort = match sort {
                        None => Some((0, false)),
                        Some((c, d)) if c + 1 < cols => Some((c + 1, d)),
                        Some(_) => None,
                    }
                }
                Action::SortReverse => {
                    sort = Some(sort.map_or((0, true), |(c, d)| (c, !d)));
                }
                _ => grouped = !grouped,
            }
            state.table_mut(tab).set_sort(sort, grouped);
            let h = state.list_height();
            state.list_mut(tab).scroll_into_view(h);
            let what = match sort {
                Some((c, d)) => format!(
                    "Sorted by {} {}",
                    state.table(tab).columns()[c],
                    if d { "▼" } else { "▲" }
                ),
                None => "Unsorted (source order)".into(),
            };
            let group = if grouped { ", grouped" } else { "" };
            state.push_message(Level::Info, format!("{what}{group}"));
            Vec::new()
        }
        Action::Logs => {
            if tab != Tab::Runs {
                state.push_message(Level::Warn, "Logs are on the Runs tab (2)");
                return Vec::new();
            }
            let Some(run) = state.runs.selected() else {
                return Vec::new();
            };
            let (repo, id, updated) = (run.repo.clone(), run.id, run.updated_at);
            state.log = Some(LogView {
                repo: repo.clone(),
                run_id: id,
                title: format!("{} · {} #{}", run.repo, run.workflow, run.run_number),
                job: None,
                content: Loadable::Loading,
                scroll: 0,
            });
            state.mode = Mode::Log;
            let mut fx = request_jobs(state, repo, id, updated);
            if fx.is_empty() {
                fx = pick_log_job(state);
            }
            fx
        }
        Action::Approve | Action::Reject | Action::RerunFailed | Action::CancelRun => {
            start_op(state, action)
        }
        Action::Rollback => start_rollback(state, false),
        Action::NextTheme => {
            state.theme = (state.theme + 1) % state.themes.len();
            let name = state.theme().name.clone();
            state.push_message(Level::Info, format!("Theme: {name}"));
            Vec::new()
        }
        Action::ToggleMouse => {
            state.mouse = !state.mouse;
            let on = if state.mouse { "on" } else { "off" };
            state.push_message(Level::Info, format!("Mouse {on}"));
            vec![Effect::SetMouse(state.mouse)]
        }
    }
}

/// Column ranges of the tab titles in the tab bar, shared with the renderer for mouse hits.
pub fn tab_title_spans() -> Vec<(Tab, u16, u16)> {
    let mut x = 1u16;
    Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let w = (format!(" {} {} ", i + 1, t.title()).chars().count()) as u16;
            let span = (t, x, x + w);
            x += w + 1;
            span
        })
        .collect()
}

fn on_mouse(state: &mut State, ev: MouseEvent) -> Vec<Effect> {
    if !state.mouse || state.mode != Mode::Normal {
        return Vec::new();
    }
    match ev.kind {
        MouseEventKind::ScrollDown => run_action(state, Action::Down),
        MouseEventKind::ScrollUp => run_action(state, Action::Up),
        MouseEventKind::Down(_) if ev.row == 0 => {
            match tab_title_spans()
                .into_iter()
                .find(|&(_, a, b)| ev.column >= a && ev.column < b)
            {
                Some((tab, _, _)) => {
                    state.dirty = true;
                    switch_tab(state, tab)
                }
                None => Vec::new(),
            }
        }
        MouseEventKind::Down(_) => {
            // Rows start below the tab bar, the table border and the header.
            let first_row = 3u16;
            let height = state.list_height();
            if ev.row >= first_row && ((ev.row - first_row) as usize) < height {
                let tab = state.tab;
                let l = state.list_mut(tab);
                let target = l.offset + (ev.row - first_row) as usize;
                if target < l.view.len() {
                    l.move_to(target as isize, height);
                    state.dirty = true;
                }
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Build the change an action asks for on the selected run, after the read-only and in-flight checks,
/// and open its confirmation.
fn start_op(state: &mut State, action: Action) -> Vec<Effect> {
    let verb = action.name();
    if state.read_only {
        state.push_message(
            Level::Warn,
            format!("Read-only: {verb} is disabled (started with --readonly or read_only = true)"),
        );
        return Vec::new();
    }
    let on_rollouts =
        state.tab == Tab::Rollouts && matches!(action, Action::Approve | Action::Reject);
    if state.tab != Tab::Runs && !on_rollouts {
        state.push_message(
            Level::Warn,
            format!(
                "{verb} acts on a run (Runs, 2) or on a service's held deployment (Rollouts, 3)"
            ),
        );
        return Vec::new();
    }
    // On the Rollouts tab: the run whose deployment to the service's environment waits.
    let service = if on_rollouts {
        state.rollouts.selected().cloned()
    } else {
        None
    };
    let run = match &service {
        Some(svc) => match state.held_run(svc) {
            Some(r) => Some(r.clone()),
            None => {
                state.push_message(
                    Level::Warn,
                    format!(
                        "No deployment of {} to {} waits for approval",
                        svc.name, svc.environment
                    ),
                );
                return Vec::new();
            }
        },
        None => state.runs.selected().cloned(),
    };
    let Some(run) = run else {
        state.push_message(Level::Warn, "No run selected");
        return Vec::new();
    };
    let label = format!("{} {} #{}", run.repo, run.workflow, run.run_number);
    let op = match action {
        Action::Approve | Action::Reject => {
            if run.pending.is_empty() {
                let why = if run.state == RunState::Waiting {
                    "its pending deployments are not loaded yet; try again after the next poll"
                } else {
                    "it is not waiting for approval"
                };
                state.push_message(Level::Warn, format!("Cannot {verb} {label}: {why}"));
                return Vec::new();
            }
            review_op(
                state,
                &run,
                if action == Action::Approve {
                    Verdict::Approve
                } else {
                    Verdict::Reject
                },
            )
        }
        Action::RerunFailed => {
            if !matches!(run.state, RunState::Failure | RunState::Cancelled) {
                state.push_message(
                    Level::Warn,
                    format!(
                        "Cannot re-run {label}: it has no failed jobs ({})",
                        run.state.label()
                    ),
                );
                return Vec::new();
            }
            Op::RerunFailedJobs {
                repo: run.repo,
                run_id: run.id,
                run_number: run.run_number,
                workflow: run.workflow,
                branch: run.branch,
            }
        }
        _ => {
            if !matches!(
                run.state,
                RunState::Queued | RunState::InProgress | RunState::Waiting
            ) {
                state.push_message(
                    Level::Warn,
                    format!("Cannot cancel {label}: it is {}", run.state.label()),
                );
                return Vec::new();
            }
            Op::CancelRun {
                repo: run.repo,
                run_id: run.id,
                run_number: run.run_number,
                workflow: run.workflow,
                branch: run.branch,
            }
        }
    };
    if state.ops_in_flight.contains(&op.target_key()) {
        state.push_message(
            Level::Warn,
            format!("A change to {label} is already being sent; wait for its result"),
        );
        return Vec::new();
    }
    let verdict = service
        .as_ref()
        .and_then(|svc| state.judgement(&svc.name))
        .map(|j| {
            (
                j.verdict,
                format!("{} (score {:.2})", j.verdict.label(), j.score),
            )
        });
    let approving = matches!(
        op,
        Op::ReviewDeployment {
            verdict: Verdict::Approve,
            ..
        }
    );
    let default_comment = match (&op, approving, &verdict) {
        (Op::ReviewDeployment { .. }, true, Some((_, v))) => {
            format!("Approved from flightdeck; judge: {v}")
        }
        (Op::ReviewDeployment { .. }, true, None) => "Approved from flightdeck".into(),
        (Op::ReviewDeployment { .. }, false, Some((_, v))) => {
            format!("Rejected from flightdeck; judge: {v}")
        }
        (Op::ReviewDeployment { .. }, false, None) => "Rejected from flightdeck".into(),
        _ => String::new(),
    };
    let mut c = Confirm::new(op, &default_comment);
    // Approving against the judge takes an explicit override.
    if approving
        && let Some((v, _)) = verdict
        && v != JudgeVerdict::Proceed
    {
        c = c.requiring("override", &format!("The judge says {}", v.label()));
    }
    state.mode = Mode::Confirm(Box::new(c));
    Vec::new()
}

/// The approval or rejection of everything a run waits for.
fn review_op(state: &State, run: &WorkflowRun, verdict: Verdict) -> Op {
    let environments: Vec<String> = run.pending.iter().map(|p| p.environment.clone()).collect();
    let production = environments.iter().any(|e| {
        e.eq_ignore_ascii_case("production")
            || state
                .rollouts
                .items
                .iter()
                .any(|r| r.production && r.environment.eq_ignore_ascii_case(e))
    });
    Op::ReviewDeployment {
        production,
        can_approve: run.pending.iter().all(|p| p.can_approve),
        environment_ids: run.pending.iter().map(|p| p.environment_id).collect(),
        environments,
        repo: run.repo.clone(),
        run_id: run.id,
        run_number: run.run_number,
        workflow: run.workflow.clone(),
        sha: run.sha.clone(),
        branch: run.branch.clone(),
        verdict,
    }
}

/// The autopilot: for services that have it, approve the held deployment on PROCEED in the promote
/// band, and roll back on ROLLBACK. Once per situation; never in read-only. Every decision is logged
/// and audited (through the same path as the operator's changes).
fn autopilot(state: &mut State) -> Vec<Effect> {
    if state.read_only {
        return Vec::new();
    }
    let mut fx = Vec::new();
    let services: Vec<ServiceRollout> = state
        .rollouts
        .items
        .iter()
        .filter(|r| state.autopilot || r.autopilot)
        .cloned()
        .collect();
    for r in services {
        let Some(j) = state.judgement(&r.name).cloned() else {
            continue;
        };
        match j.verdict {
            JudgeVerdict::Proceed if j.band == Band::Promote => {
                let Some(run) = state.held_run(&r).cloned() else {
                    continue;
                };
                let key = format!("approve:{}:{}", run.repo, run.id);
                if state.autopilot_done.contains(&key)
                    || state
                        .ops_in_flight
                        .contains(&format!("{}/runs/{}", run.repo, run.id))
                {
                    continue;
                }
                state.autopilot_done.insert(key);
                let note = format!(
                    "autopilot approves {} to {}: PROCEED, score {:.2} ({})",
                    r.name, r.environment, j.score, j.summary
                );
                state.autopilot_log.push((state.now, note.clone()));
                state.push_message(Level::Info, note.clone());
                let op = review_op(state, &run, Verdict::Approve);
                fx.extend(execute(
                    state,
                    Confirm::new(op, &format!("flightdeck {note}")),
                ));
            }
            JudgeVerdict::Rollback => {
                let key = format!(
                    "rollback:{}:{}",
                    r.name,
                    r.slice_since.map(|t| t.unix_timestamp()).unwrap_or(0)
                );
                if state.autopilot_done.contains(&key) {
                    continue;
                }
                state.autopilot_done.insert(key);
                let note = format!(
                    "autopilot rolls back {} in {}: ROLLBACK ({})",
                    r.name, r.environment, j.summary
                );
                state.autopilot_log.push((state.now, note.clone()));
                state.push_message(Level::Warn, note);
                fx.extend(rollback_service(state, &r.name, true));
            }
            _ => {}
        }
    }
    fx
}

fn on_confirm_key(state: &mut State, key: KeyEvent, mut c: Confirm) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            state.push_message(Level::Info, "Cancelled: nothing was sent");
            return Vec::new();
        }
        KeyCode::Tab => c.next_focus(),
        KeyCode::BackTab => c.prev_focus(),
        _ if c.focus == Focus::Comment => {
            if let Some(t) = &mut c.comment {
                t.input(key);
            }
        }
        KeyCode::Backspace if c.focus == Focus::Typed => {
            c.typed.pop();
        }
        KeyCode::Char(ch) if c.focus == Focus::Typed && !ctrl && c.typed.chars().count() < 100 => {
            c.typed.push(ch);
        }
        KeyCode::Enter if c.focus == Focus::Typed && c.armed() => c.focus = Focus::Yes,
        KeyCode::Enter | KeyCode::Char(_) if c.focus == Focus::Typed => {}
        KeyCode::Left | KeyCode::Right | KeyCode::Char('h') | KeyCode::Char('l') => {
            c.focus = if c.focus == Focus::No {
                Focus::Yes
            } else {
                Focus::No
            };
        }
        KeyCode::Char('n') | KeyCode::Char('q') => {
            state.mode = Mode::Normal;
            state.push_message(Level::Info, "Cancelled: nothing was sent");
            return Vec::new();
        }
        KeyCode::Char('c') if ctrl => {
            state.mode = Mode::Normal;
            return run_action(state, Action::Quit);
        }
        KeyCode::Enter if c.focus == Focus::Yes && !c.armed() => {
            if let Some((word, _)) = &c.require {
                state.push_message(
                    Level::Warn,
                    format!("Type \"{word}\" in the confirmation first (tab to the field)"),
                );
            }
            c.focus = Focus::Typed;
        }
        KeyCode::Enter if c.focus == Focus::Yes => {
            state.mode = Mode::Normal;
            return execute(state, c);
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            state.push_message(Level::Info, "Cancelled: nothing was sent");
            return Vec::new();
        }
        _ => {}
    }
    state.mode = Mode::Confirm(Box::new(c));
    Vec::new()
}

/// Send a confirmed change: once per target at a time, never in read-only.
fn execute(state: &mut State, c: Confirm) -> Vec<Effect> {
    if state.read_only {
        state.push_message(Level::Warn, "Read-only: nothing was sent");
        return Vec::new();
    }
    let key = c.op.target_key();
    if !state.ops_in_flight.insert(key) {
        state.push_message(Level::Warn, "That change is already being sent");
        return Vec::new();
    }
    let id = state.next_op_id;
    state.next_op_id += 1;
    let comment = crate::sanitize::clean_multiline(c.comment_text().trim());
    state.push_message(Level::Info, format!("Sending: {}…", describe_op(&c.op)));
    vec![Effect::Execute {
        id,
        op: c.op,
        comment,
    }]
}

fn on_log_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(log) = &mut state.log else {
        state.mode = Mode::Normal;
        return Vec::new();
    };
    let page = state.size.1.saturating_sub(6).max(1) as usize;
    let len = match &log.content {
        Loadable::Ready(t) => t.lines.len(),
        _ => 0,
    };
    let action = state.keymap.action_for(&key);
    match (key.code, action) {
        (KeyCode::Esc, _) | (_, Some(Action::Back)) | (KeyCode::Char('q'), _) => {
            state.mode = Mode::Normal;
            state.log = None;
        }
        (_, Some(Action::Quit)) => return run_action(state, Action::Quit),
        (_, Some(Action::Down)) => log.scroll = (log.scroll + 1).min(len),
        (_, Some(Action::Up)) => log.scroll = log.scroll.saturating_sub(1),
        (_, Some(Action::PageDown)) => log.scroll = (log.scroll + page).min(len),
        (_, Some(Action::PageUp)) => log.scroll = log.scroll.saturating_sub(page),
        (_, Some(Action::Top)) => log.scroll = 0,
        (_, Some(Action::Bottom)) => log.scroll = len,
        (_, Some(Action::Refresh)) => {
            if let Some((job_id, _)) = log.job {
                log.content = Loadable::Loading;
                return vec![Effect::FetchLog {
                    repo: log.repo.clone(),
                    job_id,
                }];
            }
        }
        _ => {}
    }
    Vec::new()
}

/// `R`: ask for the revisions of the selected service; the confirmation opens when they are known.
pub fn start_rollback(state: &mut State, auto: bool) -> Vec<Effect> {
    if state.read_only {
        state.push_message(
            Level::Warn,
            "Read-only: rollback is disabled (started with --readonly or read_only = true)",
        );
        return Vec::new();
    }
    if state.tab != Tab::Rollouts && !auto {
        state.push_message(
            Level::Warn,
            "rollback acts on a service: switch to Rollouts (3)",
        );
        return Vec::new();
    }
    let Some(r) = state.rollouts.selected().cloned() else {
        state.push_message(Level::Warn, "No service selected");
        return Vec::new();
    };
    rollback_service(state, &r.name, auto)
}

/// Start the rollback of a named service (from `R` or the autopilot).
pub fn rollback_service(state: &mut State, name: &str, auto: bool) -> Vec<Effect> {
    let Some(svc) = state.services.iter().find(|s| s.name == name).cloned() else {
        return Vec::new();
    };
    if svc.rollback.is_none() {
        state.push_message(
            Level::Warn,
            format!(
                "{name} has no rollback target: add [service.rollback] with workflow = \"…\" or command = [\"…\"]"
            ),
        );
        return Vec::new();
    }
    let key = format!("service/{name}");
    if state.ops_in_flight.contains(&key) {
        state.push_message(
            Level::Warn,
            format!("A change to {name} is already being sent; wait for its result"),
        );
        return Vec::new();
    }
    state.push_message(
        Level::Info,
        format!("Looking up the last good deployment of {name}…"),
    );
    vec![Effect::PrepareRollback {
        service: name.to_string(),
        repo: svc.repo.clone(),
        environment: svc.environment.clone(),
        auto,
    }]
}

/// Fill `{service}`, `{environment}`, `{last_good_sha}`, `{last_good_ref}` and `{current_sha}`.
fn fill(
    template: &str,
    svc: &crate::config::ServiceConfig,
    rev: &Revisions,
) -> Result<String, String> {
    let mut out = template
        .replace("{service}", &svc.name)
        .replace("{environment}", &svc.environment);
    for (key, value) in [
        ("{last_good_sha}", &rev.last_good),
        ("{last_good_ref}", &rev.last_good_ref),
        ("{current_sha}", &rev.current),
    ] {
        if out.contains(key) {
            match value {
                Some(v) => out = out.replace(key, v),
                None => {
                    return Err(format!(
                        "{key} is unknown: no successful deployment of {} to {} was found",
                        svc.name, svc.environment
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn on_rollback_prepared(
    state: &mut State,
    name: &str,
    auto: bool,
    result: Result<Revisions, String>,
) -> Vec<Effect> {
    let Some(svc) = state.services.iter().find(|s| s.name == name).cloned() else {
        return Vec::new();
    };
    let Some(rb) = svc.rollback.clone() else {
        return Vec::new();
    };
    let rev = match result {
        Ok(r) => r,
        Err(e) => {
            state.push_message(
                Level::Error,
                format!("Rollback of {name}: cannot read its deployments: {e}"),
            );
            return Vec::new();
        }
    };
    let target = match (&rb.workflow, &rb.command, &svc.repo) {
        (Some(workflow), _, Some(repo)) => {
            let mut inputs = BTreeMap::new();
            for (k, v) in &rb.inputs {
                match fill(v, &svc, &rev) {
                    Ok(v) => {
                        inputs.insert(k.clone(), v);
                    }
                    Err(e) => {
                        state.push_message(Level::Error, format!("Rollback of {name}: {e}"));
                        return Vec::new();
                    }
                }
            }
            RollbackTarget::Workflow {
                repo: repo.clone(),
                workflow: workflow.clone(),
                git_ref: rb.git_ref.clone().unwrap_or_else(|| "main".into()),
                inputs,
            }
        }
        (Some(_), _, None) => {
            state.push_message(
                Level::Error,
                format!("Rollback of {name}: a workflow rollback needs `repo` on the service"),
            );
            return Vec::new();
        }
        (None, Some(argv), _) => {
            let mut filled = Vec::new();
            for a in argv {
                match fill(a, &svc, &rev) {
                    Ok(v) => filled.push(v),
                    Err(e) => {
                        state.push_message(Level::Error, format!("Rollback of {name}: {e}"));
                        return Vec::new();
                    }
                }
            }
            RollbackTarget::Command { argv: filled }
        }
        (None, None, _) => return Vec::new(),
    };
    let weight = state
        .rollouts
        .items
        .iter()
        .find(|r| r.name == name)
        .and_then(|r| r.weight);
    let short = |s: &str| s.chars().take(12).collect::<String>();
    let from = match (&rev.current, weight) {
        (Some(sha), Some(w)) => format!("{} (canary at {w:.0} %)", short(sha)),
        (Some(sha), None) => short(sha),
        (None, Some(w)) => format!("the canary at {w:.0} %"),
        (None, None) => "the current revision".into(),
    };
    let to = rev
        .last_good
        .as_deref()
        .map(|s| format!("{} (last successful deployment)", short(s)))
        .unwrap_or_else(|| "the stable revision".into());
    let op = Op::Rollback {
        service: name.to_string(),
        environment: svc.environment.clone(),
        production: svc.production,
        from,
        to,
        target,
        reason: state
            .judgement(name)
            .map(|j| j.summary.clone())
            .unwrap_or_default(),
    };
    if auto {
        if state.read_only {
            return Vec::new();
        }
        return execute(state, Confirm::new(op, ""));
    }
    let mut c = Confirm::new(op, "");
    if svc.production {
        c = c.requiring(name, "Production rollback");
    }
    state.mode = Mode::Confirm(Box::new(c));
    Vec::new()
}
