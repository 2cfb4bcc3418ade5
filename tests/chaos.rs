//! The cockpit through a whole chaos cycle (`flightdeck demo --chaos`): the real clients, connected
//! as the cockpit connects them, polled by the real pollers, their results applied to a `State` by
//! `app::update` and drawn by `ui::render`, while every simulated service goes through health, the
//! nine faults and health again (aligned, 1.5 s a phase, about 20 s in all). What is measured comes
//! from the demo world's own request log and from the state:
//!
//! - the cockpit never quits and answers a key within a frame;
//! - once a table had rows it keeps them through every fault (the last good data, marked);
//! - after a failed poll the bars name the fault (`HTTP 500`, `rate limited until`, …);
//! - at most one poll per source per backoff step during a fault, and a poll that starts during a
//!   fault stops at its first failing request (one request per backoff step);
//! - every source is healthy again within one poll interval (plus the last backoff step, capped at
//!   the interval) of health returning.
//!
//! The cycle runs once per process and both tests read its measurements.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use flightdeck::app::{Effect, Msg, PollEffect, SourceEvent, State, update};
use flightdeck::config::Config;
use flightdeck::domain::SourceId;
use flightdeck::sim::{Api, ChaosOptions, LoggedRequest, Phase, PhaseSpan, SimOptions};
use flightdeck::sources::poller::{self, Poller};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Wall seconds of one phase.
const PHASE: f64 = 1.5;
/// The pollers' interval (the cockpit's `refresh_secs`).
const INTERVAL: f64 = 2.0;
/// The poller's first backoff step, less its jitter (2 s ± 20 %).
const MIN_BACKOFF: f64 = 1.6;
/// A frame: a key must be answered (update and draw) within it. 100 ms is what a person takes for
/// instant; this is a debug build on a shared machine (it measures about 25 ms).
const FRAME: Duration = Duration::from_millis(100);
/// Longest the cycle runs after the world starts.
const DEADLINE: f64 = 32.0;

fn api_of(id: SourceId) -> Api {
    match id {
        SourceId::GitHub => Api::Github,
        SourceId::Prometheus => Api::Prometheus,
        SourceId::Sentry => Api::Sentry,
    }
}

/// One poll as the test saw it (the world's clock).
#[derive(Debug, Clone)]
struct Poll {
    started: f64,
    finished: f64,
    error: Option<String>,
    /// After a failed poll: the message and status bars as drawn (the last two lines).
    bars: Option<String>,
}

/// Whether `id`'s table has rows.
fn has_rows(state: &State, id: SourceId) -> bool {
    match id {
        SourceId::GitHub => !state.prs.items.is_empty() && !state.runs.items.is_empty(),
        SourceId::Prometheus => !state.rollouts.items.is_empty(),
        SourceId::Sentry => !state.incidents.items.is_empty(),
    }
}

fn phase_of(name: &str) -> Phase {
    [Phase::Health]
        .iter()
        .chain(Phase::FAULTS.iter())
        .copied()
        .find(|p| p.name() == name)
        .unwrap_or(Phase::Health)
}

/// What the bars say after a poll that met fault `phase` (the error's words).
fn said(phase: &str) -> &'static str {
    match phase {
        "500" => "HTTP 500",
        "html-502" => "HTTP 502: the server answered with an HTML error page",
        // hyper's words for a body shorter than its content-length ("… before message length
        // reached"; the status bar cuts the rest).
        "cut-body" => "cut off before its end",
        "malformed-json" => "unexpected response",
        "401" => "token rejected (HTTP 401)",
        // GitHub's secondary limit is its own error: "secondary rate limit (too many requests at
        // once): next try in 2s" when its wait is short, "rate limited until 10:35" when long.
        "secondary-limit" => "rate limit",
        _ => "rate limited until",
    }
}

/// Everything the cycle measured.
struct Run {
    log: Vec<LoggedRequest>,
    spans: Vec<PhaseSpan>,
    polls: BTreeMap<SourceId, Vec<Poll>>,
    /// Tables that lost their rows after having had them: (source, seconds into the run).
    lost_rows: Vec<(SourceId, f64)>,
    slowest_key: Duration,
    keys: usize,
    quit: bool,
    /// At the end: no error, and rows.
    ends_healthy: BTreeMap<SourceId, bool>,
}

impl Run {
    fn faults(&self) -> Vec<&PhaseSpan> {
        self.spans.iter().filter(|s| s.phase.fails()).collect()
    }

    /// When health returned after the faults.
    fn health_back(&self) -> f64 {
        self.faults().last().map_or(0.0, |s| s.end_unix)
    }

    fn origin(&self) -> f64 {
        self.spans.first().map_or(0.0, |s| s.start_unix)
    }

    /// Requests of `api` that arrived in `[from, to]`.
    fn requests_in(&self, api: Api, from: f64, to: f64) -> Vec<&LoggedRequest> {
        self.log
            .iter()
            .filter(|r| r.api == api && r.at_unix >= from && r.at_unix <= to)
            .collect()
    }

    /// The requests of a poll.
    fn requests_of(&self, id: SourceId, p: &Poll) -> Vec<&LoggedRequest> {
        self.requests_in(api_of(id), p.started - 0.05, p.finished + 0.05)
    }

    /// Polls of `id` that started in `span`.
    fn polls_in(&self, id: SourceId, span: &PhaseSpan) -> Vec<&Poll> {
        self.polls[&id]
            .iter()
            .filter(|p| p.started >= span.start_unix && p.started < span.end_unix)
            .collect()
    }
}

/// The cycle, run once per process on its own runtime.
fn measured() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(run_cycle())
        })
        .join()
        .expect("the chaos cycle ran")
    })
}

async fn run_cycle() -> Run {
    let world = flightdeck::sim::start(SimOptions {
        speed: 0.0,
        start_at_secs: 100.0,
        chaos: Some(ChaosOptions {
            phase_secs: PHASE,
            // 12 phases of health a cycle, starting 2 before their end: 3 s of health to read good
            // data, the 9 faults (13.5 s), then 18 s of health before the next cycle.
            health_phases: 12,
            start_phase: 10.0,
            stagger_phases: 0.0,
            slow_secs: 0.2,
        }),
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts");
    let origin = world.unix_now();
    let spans = world.chaos_spans(Api::Github, origin + DEADLINE);
    let health_back = spans
        .iter()
        .find(|s| s.phase == Phase::TooManyRequests)
        .map(|s| s.end_unix)
        .expect("a 429 phase");
    let mut config = Config::parse(&world.config_toml(), "chaos").expect("config");
    config.refresh_secs = INTERVAL as u64;

    // As the cockpit does: connect every configured source, one poller each.
    let sources = flightdeck::runtime::connect(&config).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut state = common::new_state(240, 40);
    state.refresh_secs = config.refresh_secs;
    state.now = OffsetDateTime::now_utc();
    let visible = state.tab.source();
    let pollers: Vec<Poller> = sources
        .list
        .into_iter()
        .map(|s| {
            let id = s.id();
            let every = Duration::from_secs_f64(INTERVAL);
            poller::spawn(s, every, visible == Some(id), tx.clone(), None)
        })
        .collect();
    assert_eq!(pollers.len(), 3, "GitHub, Prometheus and Sentry are polled");
    let run_effects = |fx: Vec<Effect>, pollers: &[Poller]| {
        for e in fx {
            if let Effect::Poll(PollEffect::VisibleTab(tab)) = e {
                for p in pollers {
                    p.set_visible(tab.source() == Some(p.source));
                }
            }
        }
    };

    let mut polls: BTreeMap<SourceId, Vec<Poll>> = BTreeMap::new();
    let mut started: BTreeMap<SourceId, f64> = BTreeMap::new();
    let mut had_rows: BTreeMap<SourceId, bool> = BTreeMap::new();
    let mut lost_rows = Vec::new();
    let mut slowest_key = Duration::ZERO;
    let mut keys = 0;
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        let now = world.unix_now();
        // Done: every source recovered after health returned, and a little more to see it stay.
        let recovered = SourceId::ALL.iter().all(|id| {
            polls.get(id).is_some_and(|ps| {
                ps.iter()
                    .any(|p| p.started >= health_back && p.error.is_none())
            })
        });
        if now > origin + DEADLINE || (recovered && now > health_back + 2.0 * INTERVAL) {
            break;
        }
        tokio::select! {
            Some(msg) = rx.recv() => {
                let at = world.unix_now();
                let loaded = match &msg {
                    Msg::Source(SourceEvent::Started(id)) => {
                        started.insert(*id, at);
                        None
                    }
                    Msg::Source(SourceEvent::Loaded { source, result, .. }) => {
                        Some((*source, result.as_ref().err().map(|e| e.to_string())))
                    }
                    _ => None,
                };
                let fx = update(&mut state, msg);
                run_effects(fx, &pollers);
                if let Some((id, error)) = loaded {
                    let bars = error.is_some().then(|| {
                        let screen = common::screen_text(&common::draw(&state));
                        screen[screen.len().saturating_sub(2)..].join("\n")
                    });
                    polls.entry(id).or_default().push(Poll {
                        started: started.get(&id).copied().unwrap_or(at),
                        finished: at,
                        error,
                        bars,
                    });
                    if has_rows(&state, id) {
                        had_rows.insert(id, true);
                    } else if had_rows.get(&id).copied().unwrap_or(false) {
                        lost_rows.push((id, at - origin));
                    }
                }
            }
            _ = ticker.tick() => {
                update(&mut state, Msg::Tick(OffsetDateTime::now_utc()));
                // The operator keeps moving: next tab, down a row; each answered within a frame.
                let key = if keys % 3 == 0 { common::code(KeyCode::Tab) } else { common::key('j') };
                let t0 = Instant::now();
                let fx = update(&mut state, key);
                let _ = common::draw_and_measure(&mut state);
                slowest_key = slowest_key.max(t0.elapsed());
                keys += 1;
                run_effects(fx, &pollers);
            }
        }
    }
    for p in &pollers {
        p.stop();
    }
    let ends_healthy = SourceId::ALL
        .iter()
        .map(|&id| (id, state.source_error(id).is_none() && has_rows(&state, id)))
        .collect();
    Run {
        log: world.request_log(),
        spans,
        polls,
        lost_rows,
        slowest_key,
        keys,
        quit: state.quit,
        ends_healthy,
    }
}

/// Polls of `id` that started during a fault and sent more than their first (failing) request:
/// one line each. (A poll already running when a fault began may have a request of each of its
/// concurrent reads in flight; a poll that starts during a fault has no excuse.)
fn piled_on(run: &Run, id: SourceId) -> Vec<String> {
    let mut out = Vec::new();
    for span in run.faults() {
        for p in run.polls_in(id, span) {
            let reqs = run.requests_of(id, p);
            if p.error.is_some() && reqs.len() > 1 {
                out.push(format!(
                    "{id:?}: a poll at +{:.2} s in the {} phase failed ({}) after {} requests: {:?}",
                    p.started - run.origin(),
                    span.phase.name(),
                    p.error.as_deref().unwrap_or(""),
                    reqs.len(),
                    reqs.iter()
                        .map(|r| (r.phase, r.status, r.path.as_str()))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    out
}

/// Fault phases in which the polls of `id` that started there sent more than one request per
/// backoff step.
fn too_many_requests(run: &Run, id: SourceId) -> Vec<String> {
    let allowed = (PHASE / MIN_BACKOFF).floor() as usize + 1;
    run.faults()
        .into_iter()
        .filter_map(|span| {
            let sent: usize = run
                .polls_in(id, span)
                .iter()
                .map(|p| run.requests_of(id, p).len())
                .sum();
            (sent > allowed).then(|| {
                format!(
                    "{id:?}: {sent} requests in the {} phase ({PHASE} s; one per backoff step allows {allowed})",
                    span.phase.name()
                )
            })
        })
        .collect()
}

#[test]
fn the_cockpit_rides_out_a_chaos_cycle_and_recovers_by_itself() {
    let run = measured();
    let faults = run.faults();
    let health_back = run.health_back();
    let mut report = Vec::new();

    // Never quits; answers keys within a frame.
    assert!(!run.quit, "the cockpit never exits");
    assert!(
        run.keys > 100,
        "keys were pressed throughout ({})",
        run.keys
    );
    assert!(
        run.slowest_key < FRAME,
        "a key is answered (update + draw) within a frame: slowest {:?}",
        run.slowest_key
    );

    // Good data first, and kept through every fault.
    for id in SourceId::ALL {
        let polls = &run.polls[&id];
        let first_ok = polls.iter().find(|p| p.error.is_none());
        assert!(
            first_ok.is_some_and(|p| p.finished < faults[0].start_unix),
            "{id:?} read good data before the faults: {polls:?}"
        );
    }
    assert!(
        run.lost_rows.is_empty(),
        "tables keep their last good rows: lost {:?}",
        run.lost_rows
    );

    // A failing source says why, in words, marked on the status bar: after each failed poll the
    // bars name a fault the poll met (its first, or a later one when the poll ran across phases).
    for id in SourceId::ALL {
        let failed: Vec<&Poll> = run.polls[&id]
            .iter()
            .filter(|p| p.error.is_some())
            .collect();
        assert!(
            failed.len() >= 2,
            "{id:?} failed during the faults: {failed:?}"
        );
        let mut met = Vec::new();
        for p in failed {
            let reqs = run.requests_of(id, p);
            let faults: Vec<&str> = reqs
                .iter()
                .filter(|r| phase_of(r.phase).fails())
                .map(|r| r.phase)
                .collect();
            let Some(first) = faults.first() else {
                continue;
            };
            met.push(*first);
            let bars = p.bars.as_deref().unwrap_or("");
            let label = format!("{} ", id.label());
            let marked =
                bars.contains(&format!("{label}!")) || bars.contains(&format!("{label}stale"));
            let words: Vec<&str> = faults.iter().map(|f| said(f)).collect();
            assert!(
                marked && words.iter().any(|w| bars.contains(w)),
                "{id:?}: after a poll that met {faults:?}, the bars say one of {words:?} (marked: {marked}):\n{bars}"
            );
        }
        report.push(format!(
            "{:<10} failed polls met {}",
            id.label(),
            met.join(", ")
        ));
    }

    // At most one poll per backoff step in each fault phase.
    let allowed = (PHASE / MIN_BACKOFF).floor() as usize + 1;
    for id in SourceId::ALL {
        for span in &faults {
            let polls = run.polls_in(id, span).len();
            let reqs = run.requests_in(api_of(id), span.start_unix, span.end_unix);
            report.push(format!(
                "{:<10} {:<17} polls {polls} requests {}",
                id.label(),
                span.phase.name(),
                reqs.len()
            ));
            assert!(
                polls <= allowed,
                "{id:?} polled {polls} times in the {} phase ({PHASE} s; at most {allowed} with backoff from {MIN_BACKOFF} s)",
                span.phase.name()
            );
        }
    }
    // Prometheus and Sentry: a poll that starts during a fault stops at its first failing
    // request, so a fault phase sees one request per backoff step (GitHub: the test below).
    for id in [SourceId::Prometheus, SourceId::Sentry] {
        let problems = [piled_on(run, id), too_many_requests(run, id)].concat();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    // Healthy again by itself: the first poll after health returns succeeds (no state left over
    // from the faults), and the source ends healthy with its rows. How soon that poll comes is the
    // poller's backoff: see the test below.
    for id in SourceId::ALL {
        let polls = &run.polls[&id];
        // A poll that started within 50 ms of the flip may have met either phase: one that
        // succeeded there is the first healthy poll (the run stops two intervals after it, as
        // `run` does), one that failed there is the faults' last.
        let after: Vec<&Poll> = polls
            .iter()
            .filter(|p| {
                p.started >= health_back + 0.05
                    || (p.started >= health_back - 0.05 && p.error.is_none())
            })
            .collect();
        let ok = after
            .first()
            .unwrap_or_else(|| panic!("{id:?} polled again: {polls:?}"));
        assert!(
            ok.error.is_none(),
            "{id:?}: the first poll after health returned failed: {ok:?}"
        );
        let took = ok.finished - health_back;
        let last_failure = polls
            .iter()
            .rev()
            .find(|p| p.started < health_back && p.error.is_some());
        let last_wait = last_failure.map_or(0.0, |f| ok.started - f.finished);
        report.push(format!(
            "{:<10} healthy {took:.2} s after health returned (waited {last_wait:.2} s after its last failure)",
            id.label()
        ));
        assert!(run.ends_healthy[&id], "{id:?} ends healthy, with rows");
    }
    eprintln!(
        "chaos cycle: phase {PHASE} s, interval {INTERVAL} s; slowest key {:?} of {}; {} requests\n  {}",
        run.slowest_key,
        run.keys,
        run.log.len(),
        report.join("\n  ")
    );
}

/// The poller's backoff after a failure is capped at the poll interval (2, 4, 8 s … never more
/// than the interval), so every source is healthy again within one interval plus that capped step
/// of health returning. Measured on every wait the poller chose itself (not a server's
/// `Retry-After` or reset).
#[test]
fn every_source_recovers_within_an_interval_and_a_capped_backoff() {
    let run = measured();
    let health_back = run.health_back();
    let mut problems = Vec::new();
    for id in SourceId::ALL {
        let polls = &run.polls[&id];
        for pair in polls.windows(2) {
            let (failed, next) = (&pair[0], &pair[1]);
            let Some(error) = &failed.error else { continue };
            let gap = next.started - failed.finished;
            // The poller's own wait: 2 s ± 20 % jitter at most, once capped at the interval.
            if !error.starts_with("rate limited") && gap > INTERVAL * 1.2 + 0.2 {
                problems.push(format!(
                    "{id:?}: waited {gap:.2} s after a failure at +{:.2} s ({error})",
                    failed.finished - run.origin()
                ));
            }
        }
        let bound = INTERVAL + INTERVAL * 1.2 + 1.0;
        let ok = polls
            .iter()
            .find(|p| p.started >= health_back - 0.05 && p.error.is_none());
        match ok {
            Some(ok) if ok.finished - health_back <= bound => {}
            Some(ok) => problems.push(format!(
                "{id:?}: healthy {:.2} s after health returned (bound {bound:.1} s)",
                ok.finished - health_back
            )),
            None => problems.push(format!("{id:?} never recovered")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// GitHub does what Prometheus and Sentry do above: a poll that starts during a fault stops at its
/// first failing request (the PR lists of every repository go first, in one GraphQL request), so a
/// fault phase sees one request per backoff step.
#[test]
fn github_polls_stop_at_their_first_failing_request() {
    let run = measured();
    let problems = [
        piled_on(run, SourceId::GitHub),
        too_many_requests(run, SourceId::GitHub),
    ]
    .concat();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
