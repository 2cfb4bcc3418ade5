//! Property tests: `update` over arbitrary message sequences (it never panics and keeps the
//! invariants the code promises), the `/` filter (the view depends on the text only, not on how it
//! was typed), and the keymap (a remap either errors naming the conflict or binds exactly what it
//! says).

mod common;
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use flightdeck::analysis::ci_log::triage;
use flightdeck::app::change::{Change, ChangeError, Focus};
use flightdeck::app::filter::Query;
use flightdeck::app::keymap::{Action, KeyBinding, Keymap};
use flightdeck::app::layout::{Drawn, Extent};
use flightdeck::app::plan::{RollbackVia, ServicePlan};
use flightdeck::app::rows::Row;
use flightdeck::app::{
    Effect, Fetch, Fetched, Input, Level, Mode, Msg, SourceEvent, State, Tab, Table,
    palette_entries, update,
};
use flightdeck::domain::*;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A modest number of cases (the file runs in seconds); `FD_PROP_SCALE=30` multiplies them for a
/// longer hunt. No failure files are written into the repo.
fn config(cases: u32) -> ProptestConfig {
    let scale: u32 = std::env::var("FD_PROP_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    ProptestConfig {
        cases: cases * scale,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// a. update over arbitrary message sequences
// ---------------------------------------------------------------------------------------------

/// One thing that can happen to the cockpit. Fetch answers and change results refer to the
/// effects the cockpit asked for earlier in the same sequence (by index, modulo what is pending).
#[derive(Debug, Clone)]
enum Op {
    Char(char),
    Ctrl(char),
    Special(KeyCode),
    Paste(String),
    Resize(u16, u16),
    /// Seconds after the common clock.
    Tick(i64),
    Drawn(Option<(u16, u16)>, Option<(u16, u16)>),
    /// Draw and feed back what the frame measured, as the runtime does.
    Render,
    Poll(Poll),
    PollErr(SourceId, SourceError),
    Started(SourceId),
    Notice(Level, String),
    Mouse(MouseEventKind, u16, u16),
    /// Answer a fetch the cockpit asked for: Ok or Err.
    Answer(usize, bool),
    /// A change the cockpit sent finishes: Ok or Err.
    Done(usize, bool),
    /// Several keys: a tab, then an action on its selected row.
    Keys(&'static str),
    /// The operator says yes to an open confirmation, key by key: types the required word when
    /// asked, leaves the comment, moves to Yes, presses Enter.
    ConfirmYes,
}

#[derive(Debug, Clone)]
enum Poll {
    GitHub(Vec<PullRequest>, Vec<WorkflowRun>, Option<RateLimit>),
    Prometheus(Vec<ServiceRollout>),
    Sentry(Vec<Incident>),
}

impl Poll {
    fn msg(self, at: time::OffsetDateTime) -> Msg {
        let (id, data) = match self {
            Poll::GitHub(prs, runs, rate) => (
                SourceId::GitHub,
                SourceData::GitHub {
                    prs: prs.into_iter().map(std::sync::Arc::new).collect(),
                    runs,
                    rate,
                    graphql_rate: None,
                    failed: Vec::new(),
                    slowed: None,
                },
            ),
            Poll::Prometheus(r) => (SourceId::Prometheus, SourceData::Prometheus(r)),
            Poll::Sentry(i) => (SourceId::Sentry, SourceData::Sentry(i)),
        };
        Msg::loaded(id, Ok(data), at)
    }
}

/// Every default binding's character (except `q`, drawn separately and rarely), and letters
/// that confirmations and filters take.
const KEY_CHARS: &str = "12345jkgGJK/:?roy!sSblaxFcRhnveiTzZp -";

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 /#._-]{0,16}",
        1 => "[a-zé日本ßİ ✓-]{0,10}",
        1 => Just("checkout".to_string()),
    ]
}

fn source_id() -> impl Strategy<Value = SourceId> {
    prop::sample::select(SourceId::ALL.to_vec())
}

fn source_error() -> impl Strategy<Value = SourceError> {
    prop_oneof![
        // Up to ~4 months. (31 700 years panics, see
        // `a_rate_limit_far_in_the_future_does_not_panic`.)
        (0u64..=10_000_000).prop_map(|s| SourceError::RateLimited {
            retry_after_secs: s
        }),
        (100u16..600, text()).prop_map(|(status, message)| SourceError::Status { status, message }),
        text().prop_map(|detail| SourceError::Connect {
            host: "api.github.com".into(),
            detail
        }),
        (0.0f64..100.0).prop_map(|secs| SourceError::Timeout {
            host: "sentry.io".into(),
            secs
        }),
        text().prop_map(|hint| SourceError::Auth { status: 401, hint }),
        text().prop_map(SourceError::Decode),
        text().prop_map(SourceError::Config),
    ]
}

fn run_state() -> impl Strategy<Value = RunState> {
    prop::sample::select(vec![
        RunState::Queued,
        RunState::InProgress,
        RunState::Waiting,
        RunState::Success,
        RunState::Failure,
        RunState::Cancelled,
        RunState::Skipped,
        RunState::Other,
    ])
}

const REPOS: [&str; 3] = ["acme/checkout", "acme/web", "acme/search"];
const SERVICES: [&str; 3] = ["checkout", "web", "search"];

fn poll() -> impl Strategy<Value = Poll> {
    let prs =
        prop::collection::vec((0..3usize, 1..60u64, text(), "[a-z]{1,8}"), 0..25).prop_map(|v| {
            v.into_iter()
                .map(|(r, n, title, author)| pr(REPOS[r], n, &title, &author))
                .collect::<Vec<_>>()
        });
    let runs = prop::collection::vec(
        (
            0..3usize,
            9000..9030u64,
            prop::sample::select(vec!["CI", "Deploy"]),
            run_state(),
        ),
        0..15,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(r, id, wf, st)| run(REPOS[r], id, wf, st))
            .collect::<Vec<_>>()
    });
    let rate = prop::option::of((0u64..5000).prop_map(|remaining| RateLimit {
        limit: 5000,
        remaining,
        reset: 0,
    }));
    let rollouts = prop::collection::vec(
        (0..3usize, any::<bool>(), 0.0f64..100.0, 0.0f64..0.05),
        0..4,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(s, prod, w, err)| rollout(SERVICES[s], prod, w, err))
            .collect::<Vec<_>>()
    });
    let incidents = prop::collection::vec((0..3usize, 1..40u64, text()), 0..20).prop_map(|v| {
        v.into_iter()
            .map(|(p, n, title)| incident(SERVICES[p], n, &title))
            .collect::<Vec<_>>()
    });
    prop_oneof![
        (prs, runs, rate).prop_map(|(p, r, l)| Poll::GitHub(p, r, l)),
        rollouts.prop_map(Poll::Prometheus),
        incidents.prop_map(Poll::Sentry),
        Just(Poll::GitHub(
            match github_data() {
                SourceData::GitHub { prs, .. } => prs
                    .into_iter()
                    .map(std::sync::Arc::unwrap_or_clone)
                    .collect(),
                _ => Vec::new(),
            },
            match github_data() {
                SourceData::GitHub { runs, .. } => runs,
                _ => Vec::new(),
            },
            None
        )),
    ]
}

fn size() -> impl Strategy<Value = (u16, u16)> {
    prop_oneof![
        Just((1u16, 1u16)),
        Just((20, 5)),
        Just((80, 24)),
        Just((140, 40)),
        (1u16..=260, 1u16..=90),
    ]
}

fn special() -> impl Strategy<Value = KeyCode> {
    prop::sample::select(vec![
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Backspace,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Delete,
        KeyCode::F(1),
    ])
}

fn extent() -> impl Strategy<Value = Option<(u16, u16)>> {
    prop::option::of((0u16..300, 0u16..80))
}

fn op() -> impl Strategy<Value = Op> {
    let chars: Vec<char> = KEY_CHARS.chars().collect();
    prop_oneof![
        30 => prop::sample::select(chars).prop_map(Op::Char),
        1 => Just(Op::Char('q')),
        3 => prop::sample::select(vec!['d', 'u', 'd', 'u', 'c', 's', 'r']).prop_map(Op::Ctrl),
        12 => special().prop_map(Op::Special),
        2 => text().prop_map(Op::Paste),
        3 => size().prop_map(|(w, h)| Op::Resize(w, h)),
        2 => (0i64..40_000).prop_map(Op::Tick),
        3 => (extent(), extent()).prop_map(|(d, p)| Op::Drawn(d, p)),
        3 => Just(Op::Render),
        5 => poll().prop_map(Op::Poll),
        2 => (source_id(), source_error()).prop_map(|(s, e)| Op::PollErr(s, e)),
        1 => source_id().prop_map(Op::Started),
        1 => (prop::sample::select(vec![Level::Info, Level::Warn, Level::Error]), text())
            .prop_map(|(l, t)| Op::Notice(l, t)),
        3 => (
            prop::sample::select(vec![
                MouseEventKind::ScrollDown,
                MouseEventKind::ScrollUp,
                MouseEventKind::Down(MouseButton::Left),
                MouseEventKind::Up(MouseButton::Left),
                MouseEventKind::Moved,
            ]),
            0u16..260,
            0u16..90
        )
            .prop_map(|(k, c, r)| Op::Mouse(k, c, r)),
        5 => (any::<usize>(), any::<bool>()).prop_map(|(i, ok)| Op::Answer(i, ok)),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(i, ok)| Op::Done(i, ok)),
        6 => prop::sample::select(vec!["2a", "2x", "2F", "2c", "2jc", "2Gc", "3a", "3R", "3jR"])
            .prop_map(Op::Keys),
        8 => Just(Op::ConfirmYes),
    ]
}

/// Services with a rollback, so that `R`, the autopilot and their confirmations are reachable.
fn services() -> Vec<ServicePlan> {
    vec![
        ServicePlan {
            name: "checkout".into(),
            repo: Some("acme/checkout".into()),
            environment: "production".into(),
            production: true,
            rollback: Some(RollbackVia::Workflow {
                workflow: "rollback.yml".into(),
                git_ref: "main".into(),
                inputs: [("sha".to_string(), "{last_good_sha}".to_string())].into(),
            }),
        },
        ServicePlan {
            name: "web".into(),
            repo: Some("acme/web".into()),
            environment: "staging".into(),
            production: false,
            rollback: Some(RollbackVia::Command {
                argv: vec!["deploy".into(), "{service}".into(), "{current_sha}".into()],
            }),
        },
        ServicePlan {
            name: "search".into(),
            repo: None,
            environment: "staging".into(),
            production: false,
            rollback: None,
        },
    ]
}

/// How a sequence starts.
#[derive(Debug, Clone)]
struct Start {
    size: (u16, u16),
    read_only: bool,
    autopilot: bool,
    with_services: bool,
}

fn start(read_only: impl Strategy<Value = bool>) -> impl Strategy<Value = Start> {
    (size(), read_only, any::<bool>(), any::<bool>()).prop_map(
        |(size, read_only, autopilot, with_services)| Start {
            size,
            read_only,
            autopilot,
            with_services,
        },
    )
}

/// The answer to a fetch, as the runtime's `Fetcher` would send it.
fn answer(f: Fetch, ok: bool) -> Msg {
    let err = || SourceError::Status {
        status: 502,
        message: "bad gateway".into(),
    };
    Msg::Fetched(match f {
        Fetch::Jobs { repo, run_id } => Fetched::Jobs {
            repo,
            run_id,
            result: if ok {
                Ok(vec![Job {
                    id: run_id * 10 + 1,
                    name: "test".into(),
                    state: RunState::Failure,
                    started_at: Some(NOW),
                    completed_at: Some(NOW),
                    url: format!("https://github.com/x/actions/runs/{run_id}/job/1"),
                    steps: vec![Step {
                        number: 1,
                        name: "cargo test".into(),
                        state: RunState::Failure,
                    }],
                }])
            } else {
                Err(err())
            },
        },
        Fetch::PrFiles { repo, number } => Fetched::PrFiles {
            repo,
            number,
            result: if ok {
                Ok(vec![PrFile {
                    filename: "src/lib.rs".into(),
                    status: "modified".into(),
                    additions: 3,
                    deletions: 1,
                }])
            } else {
                Err(err())
            },
        },
        Fetch::Log { job_id, .. } => Fetched::Log {
            job_id,
            result: if ok {
                Ok(triage(
                    "##[group]Run cargo test\nrunning 3 tests\ntest a ... ok\n\
                     thread 'b' panicked at src/lib.rs:4:5:\nboom\ntest b ... FAILED\n\
                     ##[error]Process completed with exit code 101.\n",
                ))
            } else {
                Err(err())
            },
        },
        Fetch::Dora(scope) => Fetched::Dora {
            result: if ok {
                let now = NOW;
                Ok(Box::new(flightdeck::app::DoraView {
                    dora: flightdeck::ai::dora::dora(
                        &[],
                        &[],
                        &[],
                        &scope.environment,
                        flightdeck::ai::dora::Window::new(now, time::Duration::days(scope.days)),
                    ),
                    github_requests: 3,
                    sentry_requests: 1,
                    notes: Vec::new(),
                    errors: Vec::new(),
                }))
            } else {
                Err(err())
            },
        },
        Fetch::Analyze { run_id, job, .. } => Fetched::Analyzed {
            run_id,
            result: if ok {
                Ok(Box::new(flightdeck::app::RunAnalysis {
                    job,
                    report: flightdeck::ai::triage::analyze(
                        "test b ... FAILED\n##[error]Process completed with exit code 101.\n",
                        Some("test b ... ok\n"),
                    ),
                    green: Some((7, "main".into())),
                    green_note: None,
                    on_default: Some((8, RunState::Success, "main".into())),
                }))
            } else {
                Err(err())
            },
        },
        Fetch::Revisions { service, auto, .. } => Fetched::Revisions {
            service,
            auto,
            result: if ok {
                Ok(DeployedRevisions {
                    current: Some(format!("{:040x}", 0xbeef)),
                    last_good: Some(format!("{:040x}", 0xcafe)),
                    last_good_ref: Some("v1.2.3".into()),
                })
            } else {
                Err(err())
            },
        },
        Fetch::IncidentEvent { issue_id, .. } => Fetched::IncidentEvent {
            result: if ok {
                Ok(Box::new(IncidentEvent {
                    issue_id: issue_id.clone(),
                    ..event_4c()
                }))
            } else {
                Err(err())
            },
            issue_id,
        },
        Fetch::Suspects { incident, .. } => Fetched::Suspects {
            issue_id: incident.id.clone(),
            result: if ok { Ok(Vec::new()) } else { Err(err()) },
        },
        Fetch::TestDraft { incident, .. } => Fetched::TestDraft {
            issue_id: incident.id.clone(),
            result: if ok {
                Ok(Box::new(flightdeck::app::draft::PreparedDraft {
                    issue_id: incident.id.clone(),
                    short_id: incident.short_id.clone(),
                    issue_url: incident.url.clone(),
                    repo: "acme/checkout".into(),
                    branch: "flightdeck/regression-x".into(),
                    path: "worker/tests/test_regression_x.py".into(),
                    contents: "import pytest\n".into(),
                    title: "Regression test".into(),
                    body: "Body".into(),
                    language: "python".into(),
                    reproduces: true,
                    branch_exists: false,
                    existing_pr: None,
                    notes: vec![],
                }))
            } else {
                Err(flightdeck::app::draft::DraftFailure::Source(err()))
            },
        },
    })
}

/// What the harness remembers between messages.
#[derive(Default)]
struct Harness {
    pending: Vec<Fetch>,
    /// Changes sent and not finished yet, with their ids.
    sent: Vec<(u64, Change)>,
    last_change_id: u64,
}

/// Turn an op into messages (drawing first, for `Render`).
fn to_msgs(state: &mut State, h: &mut Harness, op: Op) -> Vec<Msg> {
    let ctrl = |c: char| Msg::key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    vec![match op {
        Op::Char(c) => key(c),
        Op::Ctrl(c) => ctrl(c),
        Op::Special(k) => code(k),
        Op::Paste(t) => Msg::Input(Input::Paste(t)),
        Op::Resize(w, hh) => Msg::Input(Input::Resize(w, hh)),
        Op::Tick(s) => Msg::Tick(NOW + time::Duration::seconds(s)),
        Op::Drawn(d, p) => {
            let e =
                |x: Option<(u16, u16)>| x.map(|(content, viewport)| Extent { content, viewport });
            Msg::Drawn(Drawn {
                detail: e(d),
                popup: e(p),
            })
        }
        Op::Render => {
            let mut drawn = state.drawn;
            let themes = themes();
            let theme = &themes[state.theme.min(themes.len() - 1)];
            let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(
                state.size.0,
                state.size.1,
            ))
            .unwrap();
            t.draw(|f| drawn = flightdeck::ui::render(state, theme, f))
                .unwrap();
            Msg::Drawn(drawn)
        }
        Op::Poll(p) => p.msg(state.now),
        Op::PollErr(s, e) => Msg::loaded(s, Err(e), state.now),
        Op::Started(s) => Msg::Source(SourceEvent::Started(s)),
        Op::Notice(l, t) => Msg::Notice(l, t),
        Op::Mouse(kind, column, row) => Msg::Input(Input::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })),
        Op::Answer(i, ok) => {
            if h.pending.is_empty() {
                return Vec::new();
            }
            let f = h.pending.remove(i % h.pending.len());
            answer(f, ok)
        }
        Op::Done(i, ok) => {
            if h.sent.is_empty() {
                return Vec::new();
            }
            let (id, change) = h.sent.remove(i % h.sent.len());
            Msg::ChangeDone {
                id,
                change,
                result: if ok {
                    Ok("sent".into())
                } else {
                    Err(ChangeError::Remote(SourceError::Status {
                        status: 409,
                        message: "conflict".into(),
                    }))
                },
            }
        }
        Op::Keys(keys) => return keys.chars().map(key).collect(),
        Op::ConfirmYes => {
            let Mode::Confirm(c) = &state.mode else {
                return Vec::new();
            };
            let (enter, right) = (code(KeyCode::Enter), code(KeyCode::Right));
            return match (c.focus, &c.require) {
                (Focus::Typed, Some((word, _))) => {
                    let mut v: Vec<Msg> = word.chars().map(key).collect();
                    v.extend([enter.clone(), enter]);
                    v
                }
                (Focus::Typed, None) => vec![enter.clone(), enter],
                (Focus::Comment, _) => vec![enter.clone(), right, enter],
                (Focus::No, _) => vec![right, enter],
                (Focus::Yes, _) => vec![enter],
            };
        }
    }]
}

/// The list invariants of one table: the view is exactly the items the filter matches, each once,
/// in table order (or in sort order when sorted); the selection is a visible row of the view.
fn check_table<T: Row + PartialEq>(
    name: &str,
    t: &Table<T>,
    height: usize,
) -> Result<(), TestCaseError> {
    let l = &t.list;
    let n = t.items.len();
    for &i in &l.view {
        prop_assert!((i as usize) < n, "{name}: view index {i} of {n} items");
    }
    let set: BTreeSet<u32> = l.view.iter().copied().collect();
    prop_assert_eq!(
        set.len(),
        l.view.len(),
        "{}: duplicate in view {:?}",
        name,
        &l.view
    );
    let q = Query::new(&l.filter);
    let want: BTreeSet<u32> = (0..n as u32)
        .filter(|&i| q.matches(&t.items[i as usize].key()))
        .collect();
    prop_assert_eq!(&set, &want, "{}: view vs filter {:?}", name, &l.filter);
    if l.sort.is_none() && !l.grouped {
        prop_assert!(
            l.view.windows(2).all(|w| w[0] < w[1]),
            "{name}: unsorted view out of table order: {:?}",
            l.view
        );
    } else {
        let desc = l.sort.is_some_and(|(_, d)| d);
        for w in l.view.windows(2) {
            let (a, b) = (&t.items[w[0] as usize], &t.items[w[1] as usize]);
            let mut o = std::cmp::Ordering::Equal;
            if l.grouped {
                o = a.group().cmp(b.group());
            }
            if o.is_eq()
                && let Some((c, _)) = l.sort
            {
                let s = a.sort_key(c).compare(&b.sort_key(c));
                o = if desc { s.reverse() } else { s };
            }
            prop_assert!(o.is_le(), "{name}: view not in sort order {:?}", l.sort);
        }
    }
    if l.view.is_empty() {
        prop_assert_eq!(l.selected, 0, "{}: selection in an empty view", name);
        prop_assert_eq!(l.offset, 0, "{}: offset in an empty view", name);
        prop_assert!(t.selected().is_none());
    } else {
        prop_assert!(
            l.selected < l.view.len(),
            "{name}: selected {} of {}",
            l.selected,
            l.view.len()
        );
        prop_assert!(t.selected().is_some());
        let off = l.visible_offset(height);
        prop_assert!(off <= l.selected && l.selected < off + height.max(1));
    }
    Ok(())
}

fn check_invariants(
    state: &State,
    h: &mut Harness,
    msg_was_done: Option<&Change>,
    in_flight_before: &BTreeSet<String>,
    mode_before: &Mode,
    effects: &[Effect],
) -> Result<(), TestCaseError> {
    let height = state.list_height();
    check_table("prs", &state.prs, height)?;
    check_table("runs", &state.runs, height)?;
    check_table("rollouts", &state.rollouts, height)?;
    check_table("incidents", &state.incidents, height)?;
    check_table("summaries", &state.summaries, height)?;

    // Changes: each one sent is new (its target was not in flight), and in flight from now on;
    // a target leaves only when its change finishes. Never in read-only.
    let mut expected = in_flight_before.clone();
    if let Some(c) = msg_was_done {
        expected.remove(&c.target_key());
    }
    for e in effects {
        match e {
            Effect::Change { id, change, .. } => {
                prop_assert!(
                    !state.read_only,
                    "a change was sent in read-only: {change:?}"
                );
                let target = change.target_key();
                prop_assert!(
                    !in_flight_before.contains(&target),
                    "{target} sent twice while in flight"
                );
                prop_assert!(
                    expected.insert(target.clone()),
                    "{target} twice in one batch"
                );
                prop_assert!(*id > h.last_change_id, "change ids go up");
                h.last_change_id = *id;
                h.sent.push((*id, change.clone()));
            }
            Effect::Fetch(f) => h.pending.push(f.clone()),
            Effect::Quit => prop_assert!(state.quit, "Quit without state.quit"),
            _ => {}
        }
    }
    prop_assert_eq!(&state.changes_in_flight, &expected);
    if state.read_only {
        prop_assert!(state.changes_in_flight.is_empty());
    }

    // Scrolling stops at the end of what the last frame measured.
    if let Some(e) = state.drawn.detail {
        prop_assert!(
            state.detail_scroll <= e.max_scroll(),
            "detail scroll {} past {:?}",
            state.detail_scroll,
            e
        );
    }
    if let (Some(e), Mode::Help { scroll } | Mode::Errors { scroll }) =
        (state.drawn.popup, &state.mode)
    {
        prop_assert!(
            *scroll <= e.max_scroll(),
            "popup scroll {scroll} past {e:?}"
        );
    }
    match &state.mode {
        Mode::Palette { input, selected } => {
            let n = palette_entries(input).len();
            prop_assert!(*selected < n.max(1), "palette selection {selected} of {n}");
        }
        // A confirmation never opens with the focus on Yes.
        Mode::Confirm(c) if !matches!(mode_before, Mode::Confirm(b) if b.change == c.change) => {
            prop_assert!(c.focus != Focus::Yes, "a confirmation opened on Yes");
        }
        _ => {}
    }
    prop_assert!(state.messages.len() <= 200);
    Ok(())
}

fn run_sequence(start: Start, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut state = loaded_state(start.size.0, start.size.1);
    state.read_only = start.read_only;
    state.autopilot = start.autopilot;
    state.mouse = true;
    if start.with_services {
        state.services = services();
    }
    let mut h = Harness::default();
    for op in ops {
        for msg in to_msgs(&mut state, &mut h, op) {
            let done = match &msg {
                Msg::ChangeDone { change, .. } => Some(change.clone()),
                _ => None,
            };
            let in_flight_before = state.changes_in_flight.clone();
            let mode_before = state.mode.clone();
            let effects = update(&mut state, msg);
            check_invariants(
                &state,
                &mut h,
                done.as_ref(),
                &in_flight_before,
                &mode_before,
                &effects,
            )?;
            // Rendering never panics, whatever the size.
            draw(&state);
            if state.quit {
                // The runtime stops here.
                return Ok(());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn update_never_panics_and_keeps_its_invariants(
        start in start(prop::bool::weighted(0.2)),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        run_sequence(start, ops)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Read-only, with the autopilot on and every service rollbackable: nothing is ever sent.
    #[test]
    fn read_only_never_sends_a_change(
        start in start(Just(true)).prop_map(|s| Start { autopilot: true, with_services: true, ..s }),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        run_sequence(start, ops)?;
    }
}

/// A server answering `Retry-After: 1000000000000` (31 700 years): the clients pass any `u64`
/// through, and adding it to the poll's time overflowed `OffsetDateTime` (a panic, found by the
/// sequence property). It now reads "rate limited for …".
#[test]
fn a_rate_limit_far_in_the_future_does_not_panic() {
    let mut state = loaded_state(80, 24);
    update(
        &mut state,
        Msg::loaded(
            SourceId::GitHub,
            Err(SourceError::RateLimited {
                retry_after_secs: 1_000_000_000_000,
            }),
            NOW,
        ),
    );
    draw(&state);
}

// ---------------------------------------------------------------------------------------------
// b. the filter depends on its text only
// ---------------------------------------------------------------------------------------------

fn filter_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 /#._-]{0,10}",
        1 => "[a-cé日ßİ \u{a0}-]{0,8}",
        1 => prop::sample::select(vec!["chk alice", "chk alic", "ac ch", "re 2", "#10", "é"])
            .prop_map(str::to_string),
    ]
}

fn rows() -> impl Strategy<Value = Vec<PullRequest>> {
    prop::collection::vec(
        (
            0..3usize,
            1..200u64,
            prop_oneof![
                "[a-zA-Z0-9 /#._-]{0,24}",
                "[a-zé日本ßİ -]{0,12}",
                prop::sample::select(vec![
                    "Add retry to payment capture",
                    "Checkout button colour bleed",
                    "Release 2.14.0",
                    "Résumé été",
                ])
                .prop_map(str::to_string),
            ],
            prop::sample::select(vec!["alice", "bob", "dependabot", "zoë"]),
        ),
        0..14,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(r, n, title, author)| pr(REPOS[r], n, &title, author))
            .collect()
    })
}

fn with_rows(prs: &[PullRequest], sort_presses: usize, grouped: bool) -> State {
    let mut s = new_state(100, 30);
    load(
        &mut s,
        SourceId::GitHub,
        SourceData::GitHub {
            prs: prs.iter().cloned().map(std::sync::Arc::new).collect(),
            runs: Vec::new(),
            rate: None,
            graphql_rate: None,
            failed: Vec::new(),
            slowed: None,
        },
    );
    for _ in 0..sort_presses {
        update(&mut s, key('s'));
    }
    if grouped {
        update(&mut s, key('b'));
    }
    s
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn the_filter_depends_on_its_text_only(
        prs in rows(),
        text in filter_text(),
        extra in filter_text(),
        sort_presses in 0..3usize,
        grouped in any::<bool>(),
    ) {
        // Typed character by character.
        let mut typed = with_rows(&prs, sort_presses, grouped);
        update(&mut typed, key('/'));
        type_text(&mut typed, &text);
        prop_assert_eq!(&typed.prs.list.filter, &text);

        // Typed with more, then the extra deleted with Backspace.
        let mut back = with_rows(&prs, sort_presses, grouped);
        update(&mut back, key('/'));
        type_text(&mut back, &text);
        type_text(&mut back, &extra);
        for _ in extra.chars() {
            update(&mut back, code(KeyCode::Backspace));
        }
        prop_assert_eq!(&back.prs.list.filter, &text);

        // Pasted at once.
        let mut pasted = with_rows(&prs, sort_presses, grouped);
        update(&mut pasted, key('/'));
        update(&mut pasted, Msg::Input(Input::Paste(text.clone())));
        prop_assert_eq!(&pasted.prs.list.filter, &text);

        // The same rows, whatever the path. In the same order too, unless the sort was changed
        // twice: then rows with equal keys keep the previous sort's order until the filter is
        // recomputed (see `equal_sort_keys_keep_the_source_order_after_a_second_sort`).
        let as_set = |s: &State| s.prs.list.view.iter().copied().collect::<BTreeSet<u32>>();
        prop_assert_eq!(as_set(&typed), as_set(&back), "typed vs backspaced {:?}", text);
        prop_assert_eq!(as_set(&typed), as_set(&pasted), "typed vs pasted {:?}", text);
        if sort_presses + usize::from(grouped) <= 1 {
            prop_assert_eq!(&typed.prs.list.view, &back.prs.list.view, "typed vs backspaced {:?}", text);
            prop_assert_eq!(&typed.prs.list.view, &pasted.prs.list.view, "typed vs pasted {:?}", text);
        }

        // Set at once on a fresh, unsorted list; and the truth, row by row.
        let mut fresh = with_rows(&prs, 0, false);
        fresh.prs.list.set_filter(text.clone());
        let q = Query::new(&text);
        let truth: Vec<u32> = (0..prs.len() as u32)
            .filter(|&i| q.matches(&fresh.prs.items[i as usize].key()))
            .collect();
        prop_assert_eq!(&fresh.prs.list.view, &truth, "set_filter vs the matcher");
        let mut sorted_typed = typed.prs.list.view.clone();
        sorted_typed.sort_unstable();
        prop_assert_eq!(&sorted_typed, &truth, "typed vs the matcher");
        prop_assert_eq!(typed.table(flightdeck::app::Tab::Prs).list().view.len(), truth.len());
    }
}

/// Equal sort keys keep the source's order: two PRs with the same number, in source order web
/// then search; `s` (by repo: search, web) then `s` (by #: a tie) must show web, search, as a
/// recomputed view does (a second sort used to start from the first sort's order).
#[test]
fn equal_sort_keys_keep_the_source_order_after_a_second_sort() {
    let prs = vec![
        pr("acme/web", 129, "a", "alice"),
        pr("acme/search", 129, "b", "alice"),
    ];
    let mut s = with_rows(&prs, 2, false);
    assert_eq!(s.prs.list.sort, Some((1, false)));
    let shown = s.prs.list.view.clone();
    update(&mut s, key('/'));
    type_text(&mut s, "x");
    update(&mut s, code(KeyCode::Backspace));
    assert_eq!(s.prs.list.filter, "");
    assert_eq!(
        s.prs.list.view, shown,
        "same filter, same sort, rows swapped"
    );
    assert_eq!(shown, vec![0, 1], "equal keys in the source's order");
}

// ---------------------------------------------------------------------------------------------
// c. the keymap
// ---------------------------------------------------------------------------------------------

fn key_pool() -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for c in 'a'..='z' {
        v.push(c.to_string());
        v.push(c.to_ascii_uppercase().to_string());
    }
    for c in ['a', 'd', 'r', 'u', 'x', 'c'] {
        v.push(format!("ctrl-{c}"));
    }
    for n in [1, 2, 5, 12] {
        v.push(format!("f{n}"));
    }
    for k in [
        "0",
        "1",
        "5",
        "?",
        "/",
        ":",
        "!",
        "enter",
        "esc",
        "tab",
        "backtab",
        "shift-tab",
        "up",
        "down",
        "home",
        "end",
        "pgup",
        "pgdown",
        "pagedown",
        "space",
        "backspace",
        "delete",
        "alt-x",
        "shift-g",
    ] {
        v.push(k.to_string());
    }
    v
}

/// An override: an action's name (rarely an unknown one) and 1–2 key names (rarely a bad one).
fn remaps() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
    let names: Vec<String> = Action::ALL.iter().map(|a| a.name().to_string()).collect();
    let name = prop_oneof![
        20 => prop::sample::select(names),
        1 => Just("launch-missiles".to_string()),
    ];
    let k = prop_oneof![
        40 => prop::sample::select(key_pool()),
        1 => prop::sample::select(vec!["hyper-x".to_string(), "f25".into(), "".into(), "ab".into()]),
    ];
    prop::collection::vec((name, prop::collection::vec(k, 1..=2)), 0..6)
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn a_remap_binds_what_it_says_or_names_the_conflict(overrides in remaps()) {
        let defaults = Keymap::default();
        let built = Keymap::build(
            overrides
                .iter()
                .map(|(a, ks)| (a.as_str(), ks.iter().map(String::as_str).collect::<Vec<_>>())),
        );

        // The model: unknown names and keys fail first, in order; then the last override of each
        // action replaces its defaults; then any key held twice is a conflict.
        let mut bound: BTreeMap<Action, Vec<KeyBinding>> =
            Action::ALL.iter().map(|&a| (a, defaults.keys_for(a).to_vec())).collect();
        for (name, keys) in &overrides {
            let Some(action) = Action::from_name(name) else {
                let e = built.as_ref().err().cloned().unwrap_or_default();
                prop_assert!(e.contains(&format!("keys.{name}: unknown action")), "{e:?}");
                return Ok(());
            };
            let mut parsed = Vec::new();
            for k in keys {
                match KeyBinding::parse(k) {
                    Ok(b) => parsed.push(b),
                    Err(_) => {
                        let e = built.as_ref().err().cloned().unwrap_or_default();
                        prop_assert!(
                            e.contains(&format!("keys.{name}:")) && e.contains(&format!("\"{k}\"")),
                            "{e:?}"
                        );
                        return Ok(());
                    }
                }
            }
            bound.insert(action, parsed);
        }
        let mut owners: HashMap<KeyBinding, Vec<Action>> = HashMap::new();
        for (&a, keys) in &bound {
            for &k in keys {
                owners.entry(k).or_default().push(a);
            }
        }
        // Two actions may share a key when both belong to tabs and no tab offers both.
        let tabs_of = |a: Action| -> Vec<Tab> {
            Tab::ALL
                .iter()
                .copied()
                .filter(|t| t.actions().contains(&a))
                .collect()
        };
        let may_share = |a: Action, b: Action| {
            let (x, y) = (tabs_of(a), tabs_of(b));
            !x.is_empty() && !y.is_empty() && !x.iter().any(|t| y.contains(t))
        };
        let conflicts: Vec<(&KeyBinding, &Vec<Action>)> = owners
            .iter()
            .filter(|(_, o)| {
                o.iter()
                    .enumerate()
                    .any(|(i, &a)| o[i + 1..].iter().any(|&b| !may_share(a, b)))
            })
            .collect();

        match built {
            Err(e) => {
                prop_assert!(!conflicts.is_empty(), "refused without a conflict: {e}");
                prop_assert!(
                    conflicts.iter().any(|(k, o)| e.contains(&format!("\"{k}\""))
                        && o.iter().filter(|a| e.contains(a.name())).count() >= 2),
                    "{e:?} names none of {conflicts:?}"
                );
            }
            Ok(km) => {
                prop_assert!(conflicts.is_empty(), "accepted conflicts {conflicts:?}");
                for &a in Action::ALL {
                    let want = &bound[&a];
                    prop_assert_eq!(km.keys_for(a), want.as_slice(), "keys of {}", a.name());
                    for k in want {
                        let ev = KeyEvent::new(k.code, k.mods);
                        if owners[k].len() == 1 {
                            prop_assert_eq!(km.action_for(&ev), Some(a), "{} → {}", k, a.name());
                        } else {
                            for t in tabs_of(a) {
                                prop_assert_eq!(
                                    km.action_in(&ev, t),
                                    Some(a),
                                    "{} → {} on {:?}",
                                    k,
                                    a.name(),
                                    t
                                );
                            }
                        }
                    }
                    let described: Vec<String> = want.iter().map(ToString::to_string).collect();
                    prop_assert_eq!(km.describe(a), described.join(", "));
                }
                // No other key does anything, and none does two things.
                for name in key_pool() {
                    let b = KeyBinding::parse(&name).unwrap();
                    let ev = KeyEvent::new(b.code, b.mods);
                    prop_assert_eq!(
                        km.action_for(&ev),
                        owners.get(&b).map(|o| o[0]),
                        "{}",
                        name
                    );
                }
            }
        }
    }
}

/// ctrl with shift: "ctrl-shift-x" used to parse to `X` + ctrl while the event became `x` + ctrl,
/// so the binding never fired and was no conflict with "ctrl-x". Now both are ctrl-x.
#[test]
fn ctrl_shift_letters_bind_consistently() {
    let b = KeyBinding::parse("ctrl-shift-x").unwrap();
    assert_eq!(KeyBinding::from_event(&KeyEvent::new(b.code, b.mods)), b);
    // Terminals send ctrl-x and ctrl-shift-x alike: binding both is a conflict, named.
    let err =
        Keymap::build([("quit", vec!["ctrl-x"]), ("refresh", vec!["ctrl-shift-x"])]).unwrap_err();
    assert!(err.contains("\"ctrl-x\""), "{err}");
    let km = Keymap::build([("refresh", vec!["ctrl-shift-x"])]).unwrap();
    let ev = KeyEvent::new(
        KeyCode::Char('X'),
        KeyModifiers::CONTROL | KeyModifiers::SHIFT,
    );
    assert_eq!(km.action_for(&ev), Some(Action::Refresh));
}

/// Help shows prev-tab's key as "shift-tab"; "shift-tab" in `[keys]` used to parse to Tab +
/// shift, which no terminal sends (crossterm reports `BackTab`).
#[test]
fn shift_tab_as_help_shows_it_can_be_remapped() {
    let km = Keymap::default();
    assert_eq!(km.describe(Action::PrevTab), "shift-tab");
    let km = Keymap::build([("prev-tab", vec!["shift-tab"])]).unwrap();
    let ev = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(km.action_for(&ev), Some(Action::PrevTab));
}

#[test]
fn the_pools_cover_every_default_binding() {
    // The sequence test presses every default key: characters, specials and ctrl keys.
    let km = Keymap::default();
    for &a in Action::ALL {
        for k in km.keys_for(a) {
            let covered = match (k.code, k.mods) {
                (KeyCode::Char(c), m) if m.is_empty() => KEY_CHARS.contains(c) || c == 'q',
                (KeyCode::Char(c), KeyModifiers::CONTROL) => "duc".contains(c),
                (KeyCode::BackTab | KeyCode::Tab | KeyCode::Enter | KeyCode::Esc, _) => true,
                (
                    KeyCode::Up
                    | KeyCode::Down
                    | KeyCode::Home
                    | KeyCode::End
                    | KeyCode::PageUp
                    | KeyCode::PageDown,
                    _,
                ) => true,
                _ => false,
            };
            assert!(covered, "{k} ({}) is never pressed", a.name());
        }
    }
}
