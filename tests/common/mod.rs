//! Shared test data: a cockpit state with deterministic rows and a fixed clock.
#![allow(dead_code)]

use flightdeck::app::keymap::Keymap;
use flightdeck::app::{Effect, Msg, State, update};
use flightdeck::config::Config;
use flightdeck::domain::*;
use flightdeck::ops::audit::AuditLog;
use flightdeck::ops::exec::{Executor, Fetcher};
use flightdeck::sim::{SimOptions, SimWorld};
use flightdeck::sources::github::GitHub;
use flightdeck::sources::http::Http;
use flightdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::sync::mpsc;

// The rows and the clock, shared with the unit tests of `src/ui/tabs` (which include the same file).
include!("data.rs");

/// The themes the cockpit cycles through in these tests.
pub fn themes() -> Vec<Theme> {
    vec![
        Theme::builtin("default").unwrap(),
        Theme::builtin("light").unwrap(),
        Theme::builtin("mono").unwrap(),
    ]
}

/// Draw the state with its theme into a test terminal of the state's size.
pub fn draw(state: &State) -> Terminal<TestBackend> {
    let themes = themes();
    let theme = &themes[state.theme.min(themes.len() - 1)];
    let mut t = Terminal::new(TestBackend::new(state.size.0, state.size.1)).unwrap();
    t.draw(|f| {
        flightdeck::ui::render(state, theme, f);
    })
    .unwrap();
    t
}

/// Draw, and feed back what the frame measured (as the runtime does).
pub fn draw_and_measure(state: &mut State) -> Terminal<TestBackend> {
    let themes = themes();
    let theme = &themes[state.theme.min(themes.len() - 1)];
    let mut t = Terminal::new(TestBackend::new(state.size.0, state.size.1)).unwrap();
    let mut drawn = state.drawn;
    t.draw(|f| drawn = flightdeck::ui::render(state, theme, f))
        .unwrap();
    update(state, Msg::Drawn(drawn));
    t
}

/// The screen's text, row by row.
pub fn screen_text(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

pub fn new_state(w: u16, h: u16) -> State {
    let names = themes().into_iter().map(|t| t.name).collect();
    let mut s = State::new(Keymap::default(), names, NOW);
    s.size = (w, h);
    for src in &mut s.sources {
        src.configured = true;
    }
    s
}

pub fn load(state: &mut State, source: SourceId, data: SourceData) {
    update(state, Msg::loaded(source, Ok(data), NOW));
}

pub fn fail(state: &mut State, source: SourceId, err: &str) {
    update(
        state,
        Msg::loaded(source, Err(SourceError::Config(err.into())), NOW),
    );
}

pub fn loaded_state(w: u16, h: u16) -> State {
    let mut s = new_state(w, h);
    load(&mut s, SourceId::GitHub, github_data());
    load(&mut s, SourceId::Prometheus, prometheus_data());
    load(&mut s, SourceId::Sentry, sentry_data());
    s
}

pub fn key(c: char) -> Msg {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Msg::key(KeyEvent::new(KeyCode::Char(c), mods))
}

pub fn code(k: crossterm::event::KeyCode) -> Msg {
    Msg::key(crossterm::event::KeyEvent::new(
        k,
        crossterm::event::KeyModifiers::NONE,
    ))
}

pub fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        update(state, key(c));
    }
}

/// Runs the effects that reach the network, as the runtime does: fetches and remote changes.
pub struct Runner {
    pub fetcher: Fetcher,
    pub exec: Executor,
    pub tx: mpsc::UnboundedSender<Msg>,
}

impl Runner {
    /// A runner whose audit log names the operator "tester".
    pub fn new(
        github: Option<Arc<GitHub>>,
        audit: std::path::PathBuf,
        read_only: bool,
    ) -> (Runner, mpsc::UnboundedReceiver<Msg>) {
        Runner::with_sentry(github, None, Default::default(), audit, read_only)
    }

    /// A runner that also fetches from and changes Sentry, and drafts regression tests.
    pub fn with_sentry(
        github: Option<Arc<GitHub>>,
        sentry: Option<Arc<flightdeck::sources::sentry::Sentry>>,
        drafts: flightdeck::ops::draft::DraftSetup,
        audit: std::path::PathBuf,
        read_only: bool,
    ) -> (Runner, mpsc::UnboundedReceiver<Msg>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let runner = Runner {
            fetcher: Fetcher {
                github: github.clone(),
                sentry: sentry.clone(),
                drafts: Arc::new(drafts),
                tx: tx.clone(),
            },
            exec: Executor::new(github, AuditLog::new(audit), read_only)
                .with_sentry(sentry)
                .with_operator("tester"),
            tx,
        };
        (runner, rx)
    }

    pub fn run(&mut self, effects: &[Effect]) {
        for e in effects {
            match e.clone() {
                Effect::Fetch(f) => self.fetcher.spawn(f),
                Effect::Change {
                    id,
                    change,
                    comment,
                } => self.exec.spawn(id, change, comment, self.tx.clone()),
                _ => {}
            }
        }
    }
}

/// The demo world frozen `at` seconds into its scenario, its config, and an HTTP client.
pub async fn demo_world(at: f64) -> (SimWorld, Config, Http) {
    let world = flightdeck::sim::start(SimOptions {
        speed: 0.0,
        start_at_secs: at,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let config = Config::parse(&world.config_toml(), "demo").unwrap();
    let http = Http::new(Duration::from_secs(10)).unwrap();
    (world, config, http)
}
