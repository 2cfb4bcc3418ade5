//! The interactive face: wires the terminal, the pollers and `app::update` together and runs effects.
//!
//! One task owns the state. Input, signals and poll results arrive as messages on one channel; every
//! burst of messages is applied before one draw, and only when something visible changed.

use crate::app::keymap::Keymap;
use crate::app::{Effect, Level, Msg, State, Tab, update};
use crate::config::{self, Config};
use crate::domain::SourceId;
use crate::ops::audit::AuditLog;
use crate::ops::exec::Executor;
use crate::sources::github::GitHub;
use crate::sources::http::Http;
use crate::sources::poller::{self, AnySource, PollEvent, Poller};
use crate::sources::prometheus::Prometheus;
use crate::sources::sentry::Sentry;
use crate::ui::theme::Theme;
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;

impl From<PollEvent> for Msg {
    fn from(ev: PollEvent) -> Msg {
        match ev {
            PollEvent::Started(id) => Msg::PollStarted(id),
            PollEvent::Finished {
                source,
                result,
                fetched_at,
            } => Msg::Loaded {
                source,
                result,
                fetched_at,
            },
        }
    }
}

/// The configured sources, with problems found while connecting them (missing tokens and the like).
pub struct Sources {
    pub list: Vec<AnySource>,
    /// A second GitHub client for on-demand fetches and remote changes (the poller owns the first).
    pub github_ops: Option<Arc<GitHub>>,
    pub notes: Vec<(Level, String)>,
}

/// Build a client for every configured source. Missing tokens are notes, not failures.
pub async fn connect(config: &Config) -> Sources {
    let mut list = Vec::new();
    let mut notes = Vec::new();
    let mut github_ops = None;
    let http = match Http::new(Duration::from_secs(15)) {
        Ok(h) => h,
        Err(e) => {
            notes.push((Level::Error, e.to_string()));
            return Sources {
                list,
                github_ops,
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
        github_ops = Some(Arc::new(GitHub::new(http.clone(), gh, token.clone())));
        list.push(AnySource::GitHub(Box::new(GitHub::new(
            http.clone(),
            gh,
            token,
        ))));
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
        list.push(AnySource::Sentry(Box::new(Sentry::new(
            http.clone(),
            s,
            token,
        ))));
    }
    Sources {
        list,
        github_ops,
        notes,
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
}

/// Run the cockpit until the operator quits or a signal arrives.
pub async fn run(
    config: Config,
    themes: (Vec<Theme>, usize),
    keymap: Keymap,
    opts: Options,
) -> color_eyre::Result<()> {
    let sources = connect(&config).await;
    let now = OffsetDateTime::now_utc();
    let mut state = State::new(keymap, themes.0, now);
    state.theme = themes.1;
    state.read_only = opts.read_only || config.read_only;
    state.mouse = opts.mouse || config.mouse;
    state.refresh_secs = config.refresh_secs;
    state.services = config.services.clone();
    state.policy = config.policy;
    state.autopilot = opts.autopilot && !state.read_only;
    for s in &sources.list {
        state.sources[s.id() as usize].configured = true;
    }
    for (level, text) in sources.notes {
        state.push_message(level, text);
    }

    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let who = match &sources.github_ops {
        Some(gh) => gh.current_user().await,
        None => None,
    }
    .unwrap_or_else(crate::ops::exec::local_user);
    let executor = Executor {
        github: sources.github_ops.clone(),
        audit: Arc::new(AuditLog::new(opts.audit_file.clone())),
        who,
        read_only: state.read_only,
        tx: tx.clone(),
    };
    let mut terminal = crate::terminal::enter(state.mouse)?;
    let size = terminal.size()?;
    state.size = (size.width, size.height);

    let visible_source = state.tab.source();
    let pollers: Vec<Poller> = sources
        .list
        .into_iter()
        .map(|s| {
            let id = s.id();
            poller::spawn(
                s,
                poll_interval(&config, id),
                visible_source == Some(id),
                tx.clone(),
            )
        })
        .collect();

    let input_tx = tx.clone();
    let input = tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(ev) = events.next().await {
            let msg = match ev {
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Mouse(m)) => Msg::Mouse(m),
                Ok(Event::Paste(p)) => Msg::Paste(p),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
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
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
        let _ = signal_tx.send(Msg::Terminate);
    });
    drop(tx);

    let result = event_loop(&mut state, &mut terminal, &mut rx, &pollers, &executor).await;
    input.abort();
    signals.abort();
    for p in &pollers {
        p.stop();
    }
    drop(terminal);
    crate::terminal::restore();
    result
}

async fn event_loop(
    state: &mut State,
    terminal: &mut crate::terminal::Term,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    pollers: &[Poller],
    executor: &Executor,
) -> color_eyre::Result<()> {
    loop {
        if state.dirty {
            terminal.draw(|f| crate::ui::render(state, f))?;
            state.dirty = false;
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
            for effect in update(state, msg) {
                if executor.spawn(&effect) {
                    continue;
                }
                if run_effect(state, terminal, pollers, effect) {
                    return Ok(());
                }
            }
        }
    }
}

/// Run one effect. Returns true to quit.
fn run_effect(
    state: &mut State,
    terminal: &mut crate::terminal::Term,
    pollers: &[Poller],
    effect: Effect,
) -> bool {
    match effect {
        Effect::Quit => return true,
        Effect::Refresh(which) => {
            for p in pollers
                .iter()
                .filter(|p| which.is_none_or(|w| w == p.source))
            {
                p.refresh();
            }
        }
        Effect::VisibleTab(tab) => {
            for p in pollers {
                p.set_visible(visible(tab, p.source));
            }
        }
        Effect::Copy(text) => {
            if let Err(e) = terminal.backend_mut().write_raw(osc52(&text).as_bytes()) {
                update(
                    state,
                    Msg::Notice(Level::Error, format!("copy failed: {e}")),
                );
            }
        }
        Effect::OpenUrl(url) => {
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
        Effect::SetMouse(on) => {
            if let Err(e) = crate::terminal::set_mouse(on) {
                update(state, Msg::Notice(Level::Error, format!("mouse: {e}")));
            }
        }
        // Run by the executor.
        Effect::FetchJobs { .. }
        | Effect::FetchPrFiles { .. }
        | Effect::FetchLog { .. }
        | Effect::PrepareRollback { .. }
        | Effect::Execute { .. } => {}
    }
    false
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
