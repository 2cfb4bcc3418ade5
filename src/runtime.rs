//! The interactive face: wires the terminal, the pollers and `app::update` together and runs effects.
//!
//! One task owns the state. Input, signals and poll results arrive as messages on one channel; every
//! burst of messages is applied before one draw, and only when something visible changed.

use crate::app::keymap::Keymap;
use crate::app::plan::{RollbackVia, ServicePlan};
use crate::app::{
    Effect, Input, Level, Msg, PollEffect, Signal, SourceEvent, State, Tab, TerminalEffect, update,
};
use crate::config::{self, Config};
use crate::domain::{SourceData, SourceId};
use crate::ops::audit::AuditLog;
use crate::ops::exec::{Executor, Fetcher};
use crate::sources::github::GitHub;
use crate::sources::http::Http;
use crate::sources::poller::{self, AnySource, PollEvent, Poller};
use crate::sources::prometheus::Prometheus;
use crate::sources::sentry::Sentry;
use crate::store::{Loaded, Saver, Store};
use crate::ui::theme::Theme;
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

/// How long the first frame waits for the on-disk store when it is small (up to
/// [`STORE_WAIT_BYTES`]): then its rows are on the first frame. A bigger one (thousands of PRs:
/// 10,000 with their checks are 24 MB and 50–100 ms to parse) follows the first frame.
const STORE_WAIT: Duration = Duration::from_millis(40);
const STORE_WAIT_BYTES: u64 = 2_000_000;

/// How long quitting may take to save what the store does not have yet.
const FINAL_SAVE_WAIT: Duration = Duration::from_secs(3);

impl From<PollEvent> for Msg {
    fn from(ev: PollEvent) -> Msg {
        Msg::Source(match ev {
            PollEvent::Started(id) => SourceEvent::Started(id),
            PollEvent::Finished {
                source,
                result,
                fetched_at,
            } => SourceEvent::Loaded {
                source,
                result,
                fetched_at,
            },
        })
    }
}

/// The configured services as the cockpit acts on them.
pub fn service_plans(config: &Config) -> Vec<ServicePlan> {
    config
        .services
        .iter()
        .map(|s| ServicePlan {
            name: s.name.clone(),
            repo: s.repo.clone(),
            environment: s.environment.clone(),
            production: s.production,
            rollback: s
                .rollback
                .as_ref()
                .and_then(|rb| match (&rb.workflow, &rb.command) {
                    (Some(workflow), _) => Some(RollbackVia::Workflow {
                        workflow: workflow.clone(),
                        git_ref: rb.git_ref.clone().unwrap_or_else(|| "main".into()),
                        inputs: rb.inputs.clone(),
                    }),
                    (None, Some(argv)) => Some(RollbackVia::Command { argv: argv.clone() }),
                    (None, None) => None,
                }),
        })
        .collect()
}

/// The configured sources, with problems found while connecting them (missing tokens and the like).
pub struct Sources {
    pub list: Vec<AnySource>,
    /// A second GitHub client for on-demand fetches and remote changes (the poller owns the first).
    pub github_ops: Option<Arc<GitHub>>,
    /// A second Sentry client for incidents' latest events (the poller owns the first).
    pub sentry_ops: Option<Arc<Sentry>>,
    /// The OpenAI-compatible endpoint, when `[ai] provider = "openai"` (the cockpit's, see
    /// `connect_llm`).
    pub llm: Option<Arc<crate::sources::llm::LlmClient>>,
    pub notes: Vec<(Level, String)>,
}

/// Build a client for every configured source. Missing tokens are notes, not failures.
pub async fn connect(config: &Config) -> Sources {
    let mut list = Vec::new();
    let mut notes = Vec::new();
    let mut github_ops = None;
    let mut sentry_ops = None;
    let http = match Http::new(Duration::from_secs(15)) {
        Ok(h) => h,
        Err(e) => {
            notes.push((Level::Error, e.to_string()));
            return Sources {
                list,
                github_ops,
                sentry_ops,
                llm: None,
                notes,
            };
        }
    };
    if let Some(gh) = &config.github {
        let token = match config::github_token(gh).await {
            Ok(Some((t, _))) => Some(t),
            Ok(None) => {
                if !gh.anonymous {
                    notes.push((
                        Level::Warn,
                        format!(
                            "GitHub: no token found, polling anonymously (60 requests/hour); {}",
                            crate::sources::github::TOKEN_HINT
                        ),
                    ));
                }
                None
            }
            Err(e) => {
                notes.push((Level::Warn, format!("GitHub token: {e}")));
                None
            }
        };
        // One budget per token: the poller's reads, the operator's details and changes.
        let poller = GitHub::new(http.clone(), gh, token.clone());
        let budget = poller.budget().clone();
        github_ops = Some(Arc::new(
            GitHub::new(http.clone(), gh, token)
                .sharing(budget)
                .for_details(),
        ));
        list.push(AnySource::GitHub(Box::new(poller)));
    }
    if let Some(p) = &config.prometheus {
        match Prometheus::new(http.clone(), p, &config.services) {
            Ok(s) => list.push(AnySource::Prometheus(Box::new(s))),
            Err(e) => notes.push((Level::Error, format!("Prometheus: {e}"))),
        }
    }
    if let Some(s) = &config.sentry {
        let token = match config::sentry_token(s).await {
            Ok(t) => t.map(|(t, _)| t),
            Err(e) => {
                notes.push((Level::Warn, format!("Sentry token: {e}")));
                None
            }
        };
        if token.is_none() && !s.anonymous {
            notes.push((
                Level::Warn,
                format!("Sentry: no token; {}", crate::sources::sentry::TOKEN_HINT),
            ));
        }
        // The poller's client and one for the detail pane's events (on demand, off the poll).
        sentry_ops = Some(Arc::new(Sentry::new(http.clone(), s, token.clone())));
        list.push(AnySource::Sentry(Box::new(Sentry::new(
            http.clone(),
            s,
            token,
        ))));
    }
    Sources {
        list,
        github_ops,
        sentry_ops,
        llm: None,
        notes,
    }
}

/// The cockpit's LLM client when `[ai] provider = "openai"` (its key command run here, in the
/// background, and only for the cockpit: the headless commands that never ask it do not run it).
async fn connect_llm(config: &Config, sources: &mut Sources) {
    if config.ai.provider != "openai" {
        return;
    }
    let key = match config::ai_key(&config.ai).await {
        Ok(k) => k.map(|(k, _)| k),
        Err(e) => {
            sources.notes.push((Level::Warn, format!("LLM key: {e}")));
            None
        }
    };
    match crate::sources::llm::LlmClient::from_config(&config.ai, key, Default::default()) {
        Ok(c) => sources.llm = Some(Arc::new(c)),
        Err(e) => sources.notes.push((Level::Error, format!("LLM: {e}"))),
    }
}

fn poll_interval(config: &Config, id: SourceId) -> Duration {
    let base = Duration::from_secs(config.refresh_secs);
    match id {
        // A canary moves fast; read it at least every 10 s.
        SourceId::Prometheus => base.min(Duration::from_secs(10)),
        _ => base,
    }
}

/// Options from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub read_only: bool,
    pub mouse: bool,
    /// Where remote changes are recorded.
    pub audit_file: std::path::PathBuf,
    /// Autopilot for every service.
    pub autopilot: bool,
    /// Problems found before start that do not stop the cockpit (a broken theme file, a config
    /// file others can read): shown as warnings.
    pub warnings: Vec<String>,
    /// The on-disk store (`None`: `--no-cache` or `cache = false`).
    pub store: Option<Store>,
}

/// The cockpit's state before any source has answered: everything the config says.
pub fn initial_state(
    config: &Config,
    theme_names: Vec<String>,
    theme: usize,
    keymap: Keymap,
    opts: &Options,
) -> State {
    let mut state = State::new(keymap, theme_names, OffsetDateTime::now_utc());
    state.theme = theme;
    state.read_only = opts.read_only || config.read_only;
    state.mouse = opts.mouse || config.mouse;
    state.bell = config.bell;
    state.refresh_secs = config.refresh_secs;
    state.services = service_plans(config);
    state.policy = (&config.policy).into();
    state.autopilot = opts.autopilot && !state.read_only;
    if config.ai.provider == "openai" {
        state.llm_model = Some(config.ai.model.clone());
    }
    state.llm_redact = config.ai.redact.clone();
    state.risk_rules = config.ai.risk.clone();
    if config.github.is_some() {
        let mut repos: Vec<String> = config
            .github
            .as_ref()
            .map(|g| g.repos.clone())
            .unwrap_or_default();
        for r in config.services.iter().filter_map(|s| s.repo.as_ref()) {
            if !repos.contains(r) {
                repos.push(r.clone());
            }
        }
        let environment = config
            .services
            .iter()
            .find(|s| s.production)
            .or_else(|| config.services.first())
            .map(|s| s.environment.clone())
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "production".to_string());
        state.dora_scope = Some(crate::app::DoraScope {
            repos,
            projects: config
                .sentry
                .as_ref()
                .map(|s| s.projects.clone())
                .unwrap_or_default(),
            sentry_environment: config
                .sentry
                .as_ref()
                .and_then(|s| s.environment.clone())
                .filter(|e| !e.is_empty())
                .or_else(|| Some(environment.clone())),
            environment,
            days: i64::from(config.ai.dora_days.clamp(1, 365)),
        });
    }
    state.sources[SourceId::GitHub as usize].configured = config.github.is_some();
    state.sources[SourceId::Prometheus as usize].configured = config.prometheus.is_some();
    state.sources[SourceId::Sentry as usize].configured = config.sentry.is_some();
    for w in &opts.warnings {
        state.push_message(Level::Warn, w.clone());
    }
    state
}

/// What exists once the sources are connected (token commands run, clients built).
struct Connected {
    pollers: Vec<Poller>,
    saver: Option<Saver>,
    fetcher: Fetcher,
    executor: Executor,
    llm: LlmRunner,
}

/// Runs the LLM's requests: one stream per subject, cancelled by `esc`; answers cached on disk by
/// a hash of the request body (no key in it).
struct LlmRunner {
    client: Option<Arc<crate::sources::llm::LlmClient>>,
    cache: Option<crate::sources::llm::LlmCache>,
    inflight: std::collections::HashMap<String, crate::sources::llm::CancelToken>,
}

impl LlmRunner {
    fn run(&mut self, effect: crate::app::LlmEffect, tx: &mpsc::UnboundedSender<Msg>) {
        use crate::app::{LlmEffect, LlmEvent};
        use crate::sources::llm::StreamEvent;
        match effect {
            LlmEffect::Cancel { key } => {
                if let Some(t) = self.inflight.remove(&key) {
                    t.cancel();
                }
            }
            LlmEffect::Ask { key, body } => {
                let Some(client) = self.client.clone() else {
                    let _ = tx.send(Msg::Llm(LlmEvent::Failed {
                        key,
                        error: "no LLM configured".into(),
                        format_refused: false,
                    }));
                    return;
                };
                self.inflight.retain(|_, t| !t.is_cancelled());
                let token = crate::sources::llm::CancelToken::new();
                if let Some(old) = self.inflight.insert(key.clone(), token.clone()) {
                    old.cancel();
                }
                let cache = self.cache.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let ckey = client.cache_key_raw(&body);
                    // The cache is files (written with fsync): off the async workers.
                    let hit = match cache.clone() {
                        Some(c) => {
                            let k = ckey.clone();
                            tokio::task::spawn_blocking(move || c.get(&k))
                                .await
                                .ok()
                                .flatten()
                        }
                        None => None,
                    };
                    if let Some(text) = hit {
                        let _ = tx.send(Msg::Llm(LlmEvent::Delta {
                            key: key.clone(),
                            text,
                        }));
                        let _ = tx.send(Msg::Llm(LlmEvent::Done { key, cached: true }));
                        return;
                    }
                    let sink_tx = tx.clone();
                    let sink_key = key.clone();
                    let result = client
                        .stream_raw(body, &token, move |ev| {
                            if let StreamEvent::Delta(text) = ev {
                                let _ = sink_tx.send(Msg::Llm(LlmEvent::Delta {
                                    key: sink_key.clone(),
                                    text,
                                }));
                            }
                        })
                        .await;
                    let done = match result {
                        Ok(c) => {
                            if !c.is_truncated()
                                && let Some(cache) = cache
                            {
                                tokio::task::spawn_blocking(move || {
                                    if let Err(e) = cache.put(&ckey, &c.text) {
                                        tracing::warn!(error = %e, "cannot keep the LLM answer");
                                    }
                                });
                            }
                            LlmEvent::Done { key, cached: false }
                        }
                        Err(e) => LlmEvent::Failed {
                            key,
                            format_refused: crate::sources::llm::rejects_format(&e),
                            error: e.to_string(),
                        },
                    };
                    let _ = tx.send(Msg::Llm(done));
                });
            }
        }
    }
}

/// Run the cockpit until the operator quits or a signal arrives. Returns the exit code: 0, or
/// 128 + the signal's number after SIGHUP, SIGINT or SIGTERM.
pub async fn run(
    config: Config,
    themes: (Vec<Theme>, usize),
    keymap: Keymap,
    opts: Options,
) -> color_eyre::Result<i32> {
    let names = themes.0.iter().map(|t| t.name.clone()).collect();
    let mut state = initial_state(&config, names, themes.1, keymap, &opts);
    let themes = if themes.0.is_empty() {
        vec![Theme::default()]
    } else {
        themes.0
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    // The ROLLBACKs the judge called in earlier runs, from the audit log's tail, read on a
    // blocking thread: a restart does not forget one while its rollout goes on.
    {
        let tx = tx.clone();
        let log = AuditLog::new(opts.audit_file.clone());
        tokio::task::spawn_blocking(move || {
            let calls = log.rollbacks_called(crate::ops::audit::ROLLBACKS_TAIL_BYTES);
            if !calls.is_empty() {
                let _ = tx.send(Msg::RollbacksCalled(calls));
            }
        });
    }
    // The store is read on a blocking thread while the terminal is set up: its data goes to the
    // screen, its memos to the clients before their pollers start.
    let (memo_tx, memo_rx) = oneshot::channel::<Vec<(SourceId, serde_json::Value, SourceData)>>();
    let store_wait = match &opts.store {
        Some(s) if s.bytes_on_disk() <= STORE_WAIT_BYTES => STORE_WAIT,
        _ => Duration::ZERO,
    };
    let mut restoring = opts.store.clone().map(move |store| {
        tokio::task::spawn_blocking(move || {
            let mut loaded = store.load();
            let _ = memo_tx.send(loaded.take_memos());
            loaded
        })
    });
    let mut terminal = crate::terminal::enter(state.mouse)?;
    let size = terminal.size()?;
    state.size = (size.width, size.height);

    // The first frame is drawn before anything waits for the network: token commands and clients
    // are set up in the background and the pollers start when they are ready.
    let connect_config = config.clone();
    let mut connecting = Some(tokio::spawn(async move {
        let mut sources = connect(&connect_config).await;
        connect_llm(&connect_config, &mut sources).await;
        if let Ok(memos) = memo_rx.await {
            restore_memos(&mut sources, memos);
        }
        sources
    }));
    if let Some(handle) = restoring.as_mut().filter(|_| !store_wait.is_zero())
        && let Ok(joined) = tokio::time::timeout(store_wait, handle).await
    {
        restoring = None;
        restored(&mut state, joined);
    }

    let input_tx = tx.clone();
    let input = tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(ev) = events.next().await {
            let msg = match ev {
                Ok(Event::Key(k)) => Msg::Input(Input::Key(k)),
                Ok(Event::Mouse(m)) => Msg::Input(Input::Mouse(m)),
                Ok(Event::Paste(p)) => Msg::Input(Input::Paste(p)),
                Ok(Event::Resize(w, h)) => Msg::Input(Input::Resize(w, h)),
                Ok(_) => continue,
                Err(e) => Msg::Notice(Level::Error, format!("terminal input: {e}")),
            };
            if input_tx.send(msg).is_err() {
                break;
            }
        }
    });
    let signal_tx = tx.clone();
    let signals = tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        let sig = tokio::select! {
            _ = term.recv() => Signal::Terminate,
            _ = hup.recv() => Signal::Hangup,
            _ = int.recv() => Signal::Interrupt,
        };
        let _ = signal_tx.send(Msg::Terminate(sig));
    });

    let mut connected: Option<Connected> = None;
    // Effects that need the clients, held until they are connected.
    let mut waiting: Vec<Effect> = Vec::new();
    let mut exit_code = 0;
    let theme_of = |state: &State| -> &Theme { &themes[state.theme.min(themes.len() - 1)] };
    let result: color_eyre::Result<()> = async {
        loop {
            if state.dirty {
                let theme = theme_of(&state);
                let mut drawn = state.drawn;
                terminal.draw(|f| drawn = crate::ui::render(&state, theme, f))?;
                state.dirty = false;
                if drawn != state.drawn {
                    update(&mut state, Msg::Drawn(drawn));
                    if state.dirty {
                        continue;
                    }
                }
            }
            let now = OffsetDateTime::now_utc();
            // Wake for message expiry, else every 5 s for freshness labels; nothing else runs when idle.
            let mut wake = Duration::from_secs(5);
            if let Some(exp) = state.next_expiry() {
                let until = (exp - now).whole_milliseconds().max(0) as u64;
                wake = wake.min(Duration::from_millis(until + 10));
            }
            let first = tokio::select! {
                m = rx.recv() => m,
                joined = async {
                    match restoring.as_mut() {
                        Some(handle) => handle.await,
                        None => std::future::pending().await,
                    }
                }, if restoring.is_some() => {
                    restoring = None;
                    restored(&mut state, joined);
                    continue;
                }
                joined = async {
                    match connecting.as_mut() {
                        Some(handle) => handle.await,
                        None => std::future::pending().await,
                    }
                }, if connecting.is_some() => {
                    connecting = None;
                    let sources = match joined {
                        Ok(s) => s,
                        Err(e) => Sources { list: Vec::new(), github_ops: None, sentry_ops: None, llm: None, notes: vec![(Level::Error, format!("connecting the sources failed: {e}"))] },
                    };
                    let c = start_sources(sources, &config, &state, &opts, tx.clone());
                    for note in c.1 {
                        update(&mut state, Msg::Notice(note.0, note.1));
                    }
                    connected = Some(c.0);
                    let held = std::mem::take(&mut waiting);
                    for effect in held {
                        if let Some(c) = connected.as_mut() {
                            run_connected(c, effect, &tx);
                        }
                    }
                    continue;
                }
                _ = tokio::time::sleep(wake) => Some(Msg::Tick(OffsetDateTime::now_utc())),
            };
            let Some(first) = first else {
                return Ok(());
            };
            let mut batch = vec![first];
            while let Ok(m) = rx.try_recv() {
                batch.push(m);
            }
            for msg in batch {
                if let Msg::Terminate(sig) = &msg {
                    exit_code = sig.exit_code();
                }
                for effect in update(&mut state, msg) {
                    match effect {
                        Effect::Quit => return Ok(()),
                        Effect::Terminal(t) => run_terminal(&mut state, &mut terminal, t),
                        other => match connected.as_mut() {
                            Some(c) => run_connected(c, other, &tx),
                            None => waiting.push(other),
                        },
                    }
                }
            }
        }
    }
    .await;
    input.abort();
    signals.abort();
    if let Some(c) = connecting.take() {
        c.abort();
    }
    if let Some(r) = restoring.take() {
        r.abort();
    }
    let mut final_save = None;
    if let Some(mut c) = connected {
        for p in &c.pollers {
            p.stop();
        }
        final_save = c.saver.take().map(|saver| save_at_quit(saver, &state));
        if c.executor.in_flight() > 0 {
            // Show the waiting message before waiting.
            let theme = theme_of(&state);
            let _ = terminal.draw(|f| {
                crate::ui::render(&state, theme, f);
            });
            let abandoned = c
                .executor
                .shutdown(Duration::from_secs(crate::app::QUIT_WAIT_SECS))
                .await;
            if abandoned > 0 {
                tracing::warn!(abandoned, "remote changes abandoned at exit");
            }
        }
    }
    drop(terminal);
    crate::terminal::restore();
    if let Some(save) = final_save
        && tokio::time::timeout(FINAL_SAVE_WAIT, save).await.is_err()
    {
        tracing::warn!("the cache was not saved within {FINAL_SAVE_WAIT:?} at quit");
    }
    result.map(|()| exit_code)
}

/// Start the pollers and the effect runners once the sources are connected.
fn start_sources(
    sources: Sources,
    config: &Config,
    state: &State,
    opts: &Options,
    tx: mpsc::UnboundedSender<Msg>,
) -> (Connected, Vec<(Level, String)>) {
    let visible_source = state.tab.source();
    let saver = opts.store.as_ref().map(Store::saver);
    let pollers = sources
        .list
        .into_iter()
        .map(|s| {
            let id = s.id();
            poller::spawn(
                s,
                poll_interval(config, id),
                visible_source == Some(id),
                tx.clone(),
                saver.clone(),
            )
        })
        .collect();
    let connected = Connected {
        pollers,
        saver,
        fetcher: Fetcher {
            github: sources.github_ops.clone(),
            sentry: sources.sentry_ops.clone(),
            drafts: Arc::new(crate::ops::draft::DraftSetup::from_config(config)),
            tx,
        },
        executor: Executor::new(
            sources.github_ops,
            AuditLog::new(opts.audit_file.clone()),
            state.read_only,
        )
        .with_sentry(sources.sentry_ops),
        llm: LlmRunner {
            client: sources.llm,
            cache: opts
                .store
                .as_ref()
                .map(|s| crate::sources::llm::LlmCache::new(s.dir().join("llm"))),
            inflight: Default::default(),
        },
    };
    (connected, sources.notes)
}

/// Give each client its memo from the store, before its poller starts.
fn restore_memos(sources: &mut Sources, memos: Vec<(SourceId, serde_json::Value, SourceData)>) {
    for (id, memo, data) in memos {
        if let Some(s) = sources.list.iter_mut().find(|s| s.id() == id) {
            s.restore(memo, &data);
        }
    }
}

/// The store's data into the state, as finished polls marked as cached, and its warnings.
fn restored(state: &mut State, joined: Result<Loaded, tokio::task::JoinError>) {
    let loaded = match joined {
        Ok(l) => l,
        Err(e) => {
            update(
                state,
                Msg::Notice(Level::Warn, format!("reading the cache failed: {e}")),
            );
            return;
        }
    };
    tracing::info!(
        bytes = loaded.bytes,
        sources = loaded.entries.len(),
        took_ms = loaded.took.as_secs_f64() * 1000.0,
        "cache read"
    );
    for w in loaded.warnings {
        update(state, Msg::Notice(Level::Warn, w));
    }
    for (source, entry) in loaded.entries {
        update(
            state,
            Msg::Source(SourceEvent::Restored {
                source,
                data: entry.data,
                fetched_at: entry.fetched_at,
            }),
        );
    }
}

/// At quit, once the pollers have stopped: save each source whose newest poll the store does not
/// have yet (what the screen shows is that poll's data), on a blocking thread.
fn save_at_quit(saver: Saver, state: &State) -> tokio::task::JoinHandle<()> {
    let newest: Vec<(SourceId, OffsetDateTime, SourceData)> = SourceId::ALL
        .into_iter()
        .filter(|&id| saver.pending(id) && !state.cached(id))
        .filter_map(|id| {
            let at = state.source(id).last_ok?;
            let data = match id {
                SourceId::GitHub => SourceData::GitHub {
                    prs: state.prs.items.clone(),
                    runs: state.runs.items.clone(),
                    rate: state.rate,
                    graphql_rate: state.graphql_rate,
                    failed: state.failed_repos.clone(),
                    slowed: state.slowed,
                },
                SourceId::Prometheus => SourceData::Prometheus(state.rollouts.items.clone()),
                SourceId::Sentry => SourceData::Sentry(state.incidents.items.clone()),
            };
            Some((id, at, data))
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        for (id, at, data) in newest {
            if let Err(e) = saver.flush(id, at, &data) {
                tracing::warn!(source = id.label(), error = %e, "cannot save the cache at quit");
            }
        }
    })
}

/// Run an effect that needs the pollers or the clients.
fn run_connected(c: &mut Connected, effect: Effect, tx: &mpsc::UnboundedSender<Msg>) {
    match effect {
        Effect::Poll(PollEffect::Refresh(which)) => {
            for p in c
                .pollers
                .iter()
                .filter(|p| which.is_none_or(|w| w == p.source))
            {
                p.refresh();
            }
        }
        Effect::Poll(PollEffect::VisibleTab(tab)) => {
            for p in &c.pollers {
                p.set_visible(visible(tab, p.source));
            }
        }
        Effect::Fetch(f) => c.fetcher.spawn(f),
        Effect::Change {
            id,
            change,
            comment,
        } => c.executor.spawn(id, change, comment, tx.clone()),
        Effect::Record(v) => c.executor.record(v),
        Effect::Llm(e) => c.llm.run(e, tx),
        Effect::Quit | Effect::Terminal(_) => {}
    }
}

/// Run a terminal effect: open a URL, copy, switch mouse reporting.
fn run_terminal(state: &mut State, terminal: &mut crate::terminal::Term, effect: TerminalEffect) {
    match effect {
        TerminalEffect::Copy(text) => {
            if let Err(e) = terminal.backend_mut().write_raw(osc52(&text).as_bytes()) {
                update(
                    state,
                    Msg::Notice(Level::Error, format!("copy failed: {e}")),
                );
            }
        }
        TerminalEffect::OpenUrl(url) => {
            let remote = std::env::var_os("SSH_CONNECTION").is_some()
                || std::env::var_os("SSH_TTY").is_some()
                || (cfg!(target_os = "linux")
                    && std::env::var_os("DISPLAY").is_none()
                    && std::env::var_os("WAYLAND_DISPLAY").is_none());
            let opener = if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            };
            let spawned = !remote
                && std::process::Command::new(opener)
                    .arg(&url)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .is_ok();
            let note = if spawned {
                format!("Opened {url}")
            } else {
                let _ = terminal.backend_mut().write_raw(osc52(&url).as_bytes());
                format!("No local browser here: copied {url} to the clipboard (OSC 52)")
            };
            update(state, Msg::Notice(Level::Info, note));
        }
        TerminalEffect::SetMouse(on) => {
            if let Err(e) = crate::terminal::set_mouse(on) {
                update(state, Msg::Notice(Level::Error, format!("mouse: {e}")));
            }
        }
        // A bell that cannot be written is no error worth a message: the message bar has it.
        TerminalEffect::Bell => {
            let _ = terminal.backend_mut().write_raw(b"\x07");
        }
    }
}

fn visible(tab: Tab, source: SourceId) -> bool {
    tab.source() == Some(source)
}

/// An OSC 52 "set clipboard" sequence.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"https://x"), "aHR0cHM6Ly94");
    }
}
