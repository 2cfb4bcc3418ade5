//! The judge lab's harness (issue 10), on a small set (2 seeds per kind): every scenario's config
//! parses as a user's file would, the fake Prometheus answers the real client with the scenario's
//! series as of the time it was set to, every poll of every scenario gets a verdict, and the
//! report renders. The judge's accuracy is not asserted here: `cargo bench --bench judge_lab`
//! reports it next to the targets.

use std::time::Duration;

use flightdeck::config::Config;
use flightdeck::sim::canary_lab::{
    self, Kind, LabConfig, Label, STEP_SECS, SeriesId, Side, report, server::FakePrometheus,
};
use flightdeck::sources::http::Http;
use flightdeck::sources::prometheus::Prometheus;

/// The lab's config with the counts (as the README's config gives them).
fn counting() -> LabConfig {
    LabConfig {
        counts: true,
        ..LabConfig::default()
    }
}

fn client(url: &str, s: &canary_lab::Scenario) -> Prometheus {
    client_with(url, s, LabConfig::default())
}

/// The client of `s`'s config as the lab writes it with `cfg` (`counts`: the error ratio's
/// request and error counts too).
fn client_with(url: &str, s: &canary_lab::Scenario, cfg: LabConfig) -> Prometheus {
    let config = Config::parse(&canary_lab::config_toml(url, s, cfg), "lab.toml")
        .expect("the lab's config parses");
    let http = Http::new(Duration::from_secs(10)).expect("an HTTP client");
    Prometheus::new(
        http,
        config.prometheus.as_ref().expect("[prometheus]"),
        &config.services,
    )
    .expect("a client")
}

/// The error ratio's reading of a poll as of scenario second `t`.
async fn error_rate_at(
    prom: &Prometheus,
    fake: &FakePrometheus,
    t: i64,
) -> flightdeck::domain::MetricReading {
    let rs = match prom.poll_at(fake.wall_time(t)).await.expect("a poll") {
        flightdeck::domain::SourceData::Prometheus(rs) => rs,
        other => panic!("not a Prometheus reading: {other:?}"),
    };
    rs[0]
        .metrics
        .iter()
        .find(|m| m.name == "error_rate")
        .expect("the error ratio")
        .clone()
}

/// Every scenario judged by `cfg` at every poll, every query the client asked known to the fake.
async fn judged(
    fake: &FakePrometheus,
    scenarios: &[canary_lab::Scenario],
    cfg: LabConfig,
) -> Vec<report::ScenarioResult> {
    let results = report::run_suite(fake, scenarios, cfg, |_| {})
        .await
        .expect("the suite runs");
    assert!(
        fake.unknown_queries().is_empty(),
        "{:?}",
        fake.unknown_queries()
    );
    results
}

#[tokio::test]
async fn the_fake_answers_range_and_instant_queries_as_of_its_clock() {
    let s = canary_lab::generate(Kind::ClearRegression, 2);
    let fake = FakePrometheus::start().await.expect("fake");
    fake.load(&s);
    let prom = client(&fake.url, &s);
    let q = canary_lab::query(&s, SeriesId::Weight);
    let t = s.slice_start(2) + 30; // in the 50 % slice
    fake.set_now(t);
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    let env = prom
        .query_range(&q, now - 600.0, now, STEP_SECS)
        .await
        .expect("range answer");
    let points = env.points().expect("points");
    assert_eq!(points.len(), 41, "600 s at 15 s, both ends included");
    assert_eq!(points.last().map(|p| p.1), Some(50.0));
    assert_eq!(points.first().map(|p| p.1), Some(0.0), "before the rollout");
    assert!(
        points.windows(2).all(|w| w[1].0 - w[0].0 == 15.0),
        "points at step multiples"
    );
    // The canary's error ratio as the scenario has it, point for point.
    let q = canary_lab::query(&s, SeriesId::ErrorRatio(Side::Canary));
    let env = prom
        .query_range(&q, now - 120.0, now, STEP_SECS)
        .await
        .expect("range answer");
    let got: Vec<f64> = env.points().expect("points").iter().map(|p| p.1).collect();
    let want: Vec<f64> = (0..=8)
        .map(|k| {
            s.value_at(
                SeriesId::ErrorRatio(Side::Canary),
                (t - 120 + 15 * k) as f64,
            )
            .expect("a point")
        })
        .collect();
    let same = |a: f64, b: f64| (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-9;
    assert!(
        got.len() == want.len() && got.iter().zip(&want).all(|(a, b)| same(*a, *b)),
        "{got:?} vs {want:?}"
    );
    // An instant query, and a query no series answers (empty, not an error).
    let env = prom
        .query(&canary_lab::query(&s, SeriesId::Weight))
        .await
        .expect("instant");
    assert_eq!(env.single_value().expect("a value"), Some(50.0));
    let env = prom.query("up{job=\"nothing\"}").await.expect("instant");
    assert_eq!(env.single_value().expect("no data"), None);
    assert_eq!(
        fake.unknown_queries(),
        vec!["up{job=\"nothing\"}".to_string()]
    );
    // Before the rollout the canary has no series.
    fake.set_now(-300);
    let q = canary_lab::query(&s, SeriesId::P99(Side::Canary));
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    let env = prom
        .query_range(&q, now - 120.0, now, STEP_SECS)
        .await
        .expect("range answer");
    assert!(env.points().expect("points").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_is_judged_at_every_poll_and_the_report_renders() {
    let scenarios = canary_lab::suite(2);
    assert_eq!(scenarios.len(), 2 * Kind::ALL.len());
    let fake = FakePrometheus::start().await.expect("fake");
    let results = judged(&fake, &scenarios, LabConfig::default()).await;
    assert_eq!(results.len(), scenarios.len());
    for (s, r) in scenarios.iter().zip(&results) {
        let polls = (s.end_secs() / STEP_SECS as i64 + 1) as usize;
        assert_eq!(r.timeline.len(), polls, "{}", s.name);
        assert_eq!(r.poll_errors, 0, "{}: {:?}", s.name, r.timeline);
        assert!(r.timeline.iter().all(|p| p.verdict.is_some()), "{}", s.name);
        assert!(r.final_verdict.is_some());
        // The client read the weight the scenario has at each poll.
        for p in &r.timeline {
            let want = canary_lab::weight_at(p.t, s.slice_secs) as f64;
            assert_eq!(p.weight, Some(want), "{} at {} s", s.name, p.t);
        }
        if s.label == Label::Regression {
            assert!(r.onset_secs.is_some());
            // The metric it worsens, as its description says.
            let latency = s.description.contains("p99");
            assert_eq!(
                r.regressed,
                Some(if latency {
                    canary_lab::Regressed::Latency
                } else {
                    canary_lab::Regressed::Errors
                }),
                "{}",
                s.name
            );
        } else {
            assert_eq!(r.regressed, None, "{}", s.name);
        }
    }
    let table = report::render_table(&results);
    for kind in Kind::ALL {
        assert!(table.contains(kind.name()), "{kind:?} in\n{table}");
    }
    for figure in [
        "final verdicts correct",
        "PROCEED on a regression",
        "of them once an oracle could tell",
        "false alarms per 50 healthy canaries",
        "HOLD on no-evidence scenarios",
        "median detection after onset",
    ] {
        assert!(table.contains(figure), "{figure} in\n{table}");
    }
    // The figures by seed block: the seeds the judge was tuned on, and the held-out ones.
    let blocks = report::render_seed_blocks(&results);
    assert!(blocks.contains("seeds 1–15 (tuned on)"), "{blocks}");
    assert!(!blocks.contains("held out"), "{blocks}");
    let mut later = results.clone();
    for r in later.iter_mut().filter(|r| r.seed == 2) {
        r.seed = report::TUNED_SEEDS + 1;
    }
    let blocks = report::render_seed_blocks(&later);
    let n = Kind::ALL.len();
    // Each block over its own scenarios, one of each kind.
    assert_eq!(
        blocks.matches(&format!("/{n}), PROCEED")).count(),
        2,
        "{blocks}"
    );
    assert!(blocks.contains("seeds 16+ (held out)"), "{blocks}");
    // Detection by the metric a regression worsens: two seeds give an errors and a latency one
    // of the clear and late-onset kinds each.
    let by_metric = report::render_detection_by_metric(&results);
    assert!(by_metric.contains("errors "), "{by_metric}");
    assert!(by_metric.contains("latency "), "{by_metric}");
    assert!(by_metric.contains(" of 6 detected)"), "{by_metric}");
    assert!(by_metric.contains(" of 2 detected)"), "{by_metric}");
    // The oracle's bound beside the judge's detection, over all 8 regressions: no judge reading
    // the points detects a regression before the oracle's expected evidence says it could.
    let oracle = report::render_oracle_detection(&results);
    assert!(oracle.contains("over all 8 regressions"), "{oracle}");
    for (s, r) in scenarios.iter().zip(&results) {
        assert_eq!(
            r.oracle_detection_secs.is_some(),
            s.label == Label::Regression,
            "{}",
            s.name
        );
    }
    assert!(json_has_oracle(&report::results_json(&results)));
    let json = report::results_json(&results);
    assert_eq!(
        json["scenarios"].as_array().map(Vec::len),
        Some(scenarios.len())
    );
    assert_eq!(
        json["summary"]["stats"]["scenarios"].as_u64(),
        Some(scenarios.len() as u64)
    );
    // `FLIGHTDECK_LAB_JSON=path` keeps the small set's results, as the bench does.
    if let Some(path) = std::env::var_os("FLIGHTDECK_LAB_JSON") {
        std::fs::write(path, json.to_string()).expect("the JSON file");
    }
    println!("{table}");
}

/// At 100 % of a rollout that began before the lookback (its start found on the longer, coarser
/// series), the counts reach back to its start, and the history is read on the canary's grid of
/// steps: the steps the stable track served keep its own counts beside the canary's, and only the
/// last slice's steps are filled from the history. Off the grid, every step would get the history's mean and a problem the stable had
/// in its last minutes could not be told from the canary's.
#[tokio::test]
async fn at_100_percent_the_stable_tracks_steps_keep_their_own_counts() {
    let s = canary_lab::generate(Kind::HealthyNoise, 3);
    let fake = FakePrometheus::start().await.expect("fake");
    fake.load(&s);
    let prom = client_with(&fake.url, &s, counting());
    // Two minutes into the 100 % slice, more than the 10-minute lookback after the first slice.
    let t = s.slice_start(3) + 120;
    assert!(
        t > canary_lab::LOOKBACK_SECS as i64,
        "the rollout began before the lookback"
    );
    let m = error_rate_at(&prom, &fake, t).await;
    // The counts reach back to the rollout's start, beyond the lookback: every slice's evidence.
    let lookback_steps = (canary_lab::LOOKBACK_SECS / STEP_SECS) as usize + 1;
    assert!(
        m.counts.len() >= (t as u64 / STEP_SECS) as usize,
        "{} count steps at {t} s (the lookback holds {lookback_steps})",
        m.counts.len()
    );
    assert!(m.counts.len() > lookback_steps);
    let (in_slice, _) = m.in_slice.expect("the slice's share");
    let earlier = &m.counts[..m.counts.len() - in_slice];
    assert!(
        earlier.len() >= 8,
        "{} steps before the last slice",
        earlier.len()
    );
    // The stable's live counts, as its traffic grew with the weight; the history's mean fills
    // every step alike.
    let live: Vec<f64> = earlier.iter().map(|c| c.baseline_requests).collect();
    assert!(live.windows(2).any(|w| w[0] != w[1]), "{live:?}");
}

/// Below 100 %, a counted ratio comes with the stable version's own counts over `reference_secs`
/// (30 minutes by default) before the rollout began (the judge's second reference beside the
/// small live baseline): they are the scenario's counts of those minutes, they span three
/// lookbacks, and they are read once — later polls do not ask for them again, not even once the
/// rollout's start has left the lookback (the start is kept from poll to poll instead of being
/// looked up on the longer series). At 100 % the judge has the same counts.
#[tokio::test]
async fn below_100_percent_the_stables_counts_before_the_rollout_are_read_once() {
    // A rollout still below 100 % a minute after the lookback has lost sight of its start.
    let lookback = canary_lab::LOOKBACK_SECS as i64;
    let s = (1..100)
        .map(|seed| canary_lab::generate(Kind::HealthyNoise, seed))
        .find(|s| s.slice_start(3) > lookback + 60)
        .expect("a scenario with long slices");
    let fake = FakePrometheus::start().await.expect("fake");
    fake.load(&s);
    let prom = client_with(&fake.url, &s, counting());
    let poll_at = async |t: i64| {
        let before = fake.requests();
        let m = error_rate_at(&prom, &fake, t).await;
        (m, fake.requests() - before)
    };
    let t1 = s.slice_start(1) + 60;
    let (first, n1) = poll_at(t1).await;
    let (r, e) = first.prior.expect("the stable's counts before the rollout");
    let reference = flightdeck::config::REFERENCE_SECS;
    // (The range's points, both ends included: one step more than the span.)
    let lookbacks = first.prior_lookbacks.expect("their span");
    let want = reference as f64 / lookback as f64;
    let one_step = STEP_SECS as f64 / lookback as f64;
    assert!(
        lookbacks >= want && lookbacks <= want + one_step,
        "{lookbacks} lookbacks"
    );
    // The scenario's own counts of the stable's steps over the reference span before the first
    // slice (step j ends at t0 − 45 + 15 j; the rate windows reach a minute further back).
    let per_window = (canary_lab::WINDOW_SECS / STEP_SECS) as i64;
    let ends = |j: usize| s.t0 - (per_window - 1) * STEP_SECS as i64 + j as i64 * STEP_SECS as i64;
    let (mut req, mut err) = (0.0, 0.0);
    for j in 0..s.baseline.step_requests.len() {
        let end = ends(j);
        if end > -(reference as i64) && end <= 0 {
            req += s.baseline.step_requests[j] as f64;
            err += s.baseline.step_errors[j] as f64;
        }
    }
    assert!((r - req).abs() <= 0.05 * req, "requests {r} against {req}");
    assert!(
        (e - err).abs() <= 3.0 + 0.1 * err,
        "errors {e} against {err}"
    );
    // Read once: the next poll asks for the two ranges no more.
    let (again, n2) = poll_at(t1 + 15).await;
    assert_eq!(again.prior, first.prior);
    assert_eq!(n2 + 2, n1, "{n1} requests, then {n2}");
    // Past the lookback, polled every 15 s meanwhile: the same counts, no extra request.
    let mut t = t1 + 30;
    let late = lookback + 45;
    let mut last = n2;
    while t <= late {
        let (m, n) = poll_at(t).await;
        assert_eq!(m.prior, first.prior, "at {t} s");
        last = n;
        t += 15;
    }
    assert!(late < s.slice_start(3));
    assert_eq!(last, n2, "requests of a poll at {late} s");
    // At 100 %, against the history: the same counts from before the rollout.
    let (full, _) = poll_at(s.slice_start(3) + 60).await;
    assert_eq!(full.prior, first.prior);
    assert_eq!(full.prior_lookbacks, first.prior_lookbacks);
}

/// At 100 %, a rollout older than the lookback has its start found on the longer, coarser
/// series and then on the canary's own grid of steps: the counts begin at its first step at every
/// poll. (Found to within the coarse step only, their start moved with the coarse grid from poll
/// to poll, taking in or leaving out minutes of the stable serving alone.)
#[tokio::test]
async fn at_100_percent_the_counts_begin_where_the_rollout_did_at_every_poll() {
    let s = canary_lab::generate(Kind::HealthyNoise, 3);
    let fake = FakePrometheus::start().await.expect("fake");
    fake.load(&s);
    // The counts given, and (`kind = "ratio"`) the ratio times the traffic.
    let ratio_traffic = LabConfig {
        ratio_traffic: true,
        ..LabConfig::default()
    };
    let first = s.slice_start(3) + 60;
    assert!(first > canary_lab::LOOKBACK_SECS as i64);
    for (cfg, k) in [counting(), ratio_traffic]
        .into_iter()
        .flat_map(|cfg| (0..6).map(move |k| (cfg, k)))
    {
        let prom = client_with(&fake.url, &s, cfg);
        let t = first + k * STEP_SECS as i64;
        let m = error_rate_at(&prom, &fake, t).await;
        // Points at 0, 15, …, t: the rollout's steps (the canary's traffic from the second),
        // and none of the stable's before it.
        assert_eq!(
            m.counts.len(),
            (t as u64 / STEP_SECS) as usize + 1,
            "count steps at {t} s"
        );
        assert!(
            m.counts[1].canary_requests > 0.0,
            "at {t} s: {:?}",
            m.counts[1]
        );
    }
}

/// The lab's figures repeat from run to run: a scenario is read at the same offset from the
/// clock's whole steps (its own phase) whatever second the run starts at, so the client's ranges,
/// on whole steps of the clock, take the same points. (Read at the wall clock's own second, a
/// stable's counts before the rollout came out 0.12 % in one run and 0.13 % in the next, and a
/// false alarm came and went.)
#[tokio::test]
async fn a_scenario_is_judged_alike_in_every_run() {
    let s = canary_lab::generate(Kind::HealthyNoise, 15);
    let fake = FakePrometheus::start().await.expect("fake");
    let cfg = counting();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let r = report::run_suite(&fake, std::slice::from_ref(&s), cfg, |_| {})
            .await
            .expect("the suite runs");
        // Where scenario second 0 falls within a step of the clock.
        runs.push((
            fake.wall_time(0).rem_euclid(STEP_SECS as f64),
            r[0].timeline.clone(),
        ));
        // The next run starts in a later second of the clock.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(runs[0].0, runs[1].0, "the same phase in both runs");
    assert_eq!(runs[0].1.len(), runs[1].1.len());
    for (a, b) in runs[0].1.iter().zip(&runs[1].1) {
        assert_eq!(a.verdict, b.verdict, "at {} s", a.t);
        let reasons = |p: &report::Poll| {
            p.reasons
                .iter()
                .map(|r| without_clock(r))
                .collect::<Vec<_>>()
        };
        assert_eq!(reasons(a), reasons(b), "at {} s", a.t);
    }
}

/// `s` with every clock time ("20:02 UTC") blanked: the wall clock, which such a line names,
/// moves on between runs.
fn without_clock(s: &str) -> String {
    let mut out = s.to_string();
    let mut from = 0;
    while let Some(i) = out[from..].find(" UTC").map(|i| i + from) {
        if i >= 5 && out.is_char_boundary(i - 5) && out.as_bytes()[i - 3] == b':' {
            out.replace_range(i - 5..i, "--:--");
        }
        from = i + 4;
    }
    out
}

#[test]
fn a_clock_time_is_blanked() {
    assert_eq!(
        without_clock("history (20:02 UTC to 20:18 UTC), 0.12 %"),
        "history (--:-- UTC to --:-- UTC), 0.12 %"
    );
}

fn json_has_oracle(json: &serde_json::Value) -> bool {
    json["summary"]["oracle_median_detection_secs"].is_number()
}

#[tokio::test]
async fn an_error_ratio_given_only_as_its_query_is_judged_on_the_same_counts() {
    // A config that writes the error ratio the way dashboards do (`errors / requests`, no count
    // keys): the judge reads the counts from its numerator and denominator and says, poll for
    // poll, what it says when the counts are given, on a regression of each metric, a healthy
    // canary, a shared spike and a quiet service.
    let scenarios: Vec<_> = [
        (Kind::ClearRegression, 2),
        (Kind::LateOnset, 1),
        (Kind::HealthyNoise, 3),
        (Kind::SharedSpike, 1),
        (Kind::LowTraffic, 2),
    ]
    .into_iter()
    .map(|(k, seed)| canary_lab::generate(k, seed))
    .collect();
    let s = &scenarios[0];
    let ratio_only = LabConfig {
        ratio_only: true,
        ..LabConfig::default()
    };
    let text = canary_lab::config_toml("http://127.0.0.1:9", s, ratio_only);
    assert!(
        !text.contains("errors =") && !text.contains("kind ="),
        "{text}"
    );
    let parsed = Config::parse(&text, "lab.toml").expect("the lab's config parses");
    let m = &parsed.services[0].metrics["error_rate"];
    assert!(m.counts_from_ratio, "{m:?}");
    assert_eq!(
        m.errors.as_deref(),
        Some(canary_lab::query(s, SeriesId::Errors(Side::Canary)).as_str())
    );
    let fake = FakePrometheus::start().await.expect("fake");
    let given = judged(&fake, &scenarios, counting()).await;
    let read = judged(&fake, &scenarios, ratio_only).await;
    for (g, r) in given.iter().zip(&read) {
        assert_eq!(g.poll_errors, 0, "{}", g.name);
        // (The history's clock times name the wall clock, which moves on between the runs.)
        let verdicts = |x: &report::ScenarioResult| {
            x.timeline
                .iter()
                .map(|p| {
                    let reasons: Vec<String> = p.reasons.iter().map(|r| without_clock(r)).collect();
                    (p.t, p.verdict, reasons)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(verdicts(g), verdicts(r), "{}", g.name);
    }
    // The regressions are caught, the quiet service held: the counts were there to judge.
    assert_eq!(
        read[0].final_verdict,
        Some(flightdeck::analysis::canary::Verdict::Rollback)
    );
    assert_eq!(
        read[4].final_verdict,
        Some(flightdeck::analysis::canary::Verdict::Hold)
    );
    // `kind = "ratio"` (the ratio times the service's traffic, what a ratio whose halves are not
    // answered falls back to): the same verdict at every poll (its counts are the same up to
    // rounding, so its reasons' last digits may differ).
    let ratio_traffic = LabConfig {
        ratio_traffic: true,
        ..LabConfig::default()
    };
    let counted = judged(&fake, &scenarios, ratio_traffic).await;
    for (g, c) in given.iter().zip(&counted) {
        assert_eq!(c.poll_errors, 0, "{}", c.name);
        let verdicts = |x: &report::ScenarioResult| {
            x.timeline
                .iter()
                .map(|p| (p.t, p.verdict))
                .collect::<Vec<_>>()
        };
        assert_eq!(verdicts(g), verdicts(c), "{}", g.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_into_a_long_bake_the_canarys_points_before_the_change_are_still_read() {
    // A 100 % stage of 15 minutes, polled 10 minutes into it: the lookback (10 minutes) no longer
    // reaches the change, and the canary's p99 must still hold four windows before it (what both
    // tracks showed when the stable lost its traffic is judged at every poll of the bake).
    let s = canary_lab::generate_baked(Kind::SharedIncident, 1, 900);
    let fake = FakePrometheus::start().await.expect("fake");
    fake.load(&s);
    // The config's bake as long as the stage.
    let text = canary_lab::config_toml(&fake.url, &s, counting()).replace(
        &format!("bake_secs = {}\n", canary_lab::BAKE_SECS),
        "bake_secs = 900\n",
    );
    assert!(text.contains("bake_secs = 900\n"), "{text}");
    let config = Config::parse(&text, "lab.toml").expect("the lab's config parses");
    let prom = Prometheus::new(
        Http::new(Duration::from_secs(10)).expect("an HTTP client"),
        config.prometheus.as_ref().expect("[prometheus]"),
        &config.services,
    )
    .expect("a client");
    let change = s.slice_start(3);
    let t = change + 600;
    fake.set_now(t);
    let rs = match prom.poll_at(fake.wall_time(t)).await.expect("a poll") {
        flightdeck::domain::SourceData::Prometheus(rs) => rs,
        other => panic!("not a Prometheus reading: {other:?}"),
    };
    let r = &rs[0];
    assert!(r.baseline_history.is_some(), "at 100 % against the history");
    // When the rollout began (the canary's first point at 10 %), found in the longer series: what
    // tells this rollout from the next one (a ROLLBACK called in it is kept across a restart).
    let began = r
        .rollout_began
        .expect("when the rollout began")
        .unix_timestamp() as f64;
    assert!(
        (began - fake.wall_time(0)).abs() <= canary_lab::STEP_SECS as f64,
        "began {began}, the first slice at {}",
        fake.wall_time(0)
    );
    let p99 = r
        .metrics
        .iter()
        .find(|m| m.name == "latency_p99_ms")
        .expect("the p99");
    let (c, _) = p99.in_slice.expect("a slice");
    assert_eq!(c, 41, "the slice's points over the lookback");
    let before = p99.canary_samples.len() - c;
    assert!(before >= 16, "{before} points before the change");
    // …and they are the scenario's, up to the step before the change.
    let at = |k: usize| {
        s.value_at(SeriesId::P99(Side::Canary), (change - 15 * k as i64) as f64)
            .expect("a point")
    };
    for k in 1..=16 {
        let got = p99.canary_samples[before - k];
        let want = at(k);
        assert!(
            (got.is_nan() && want.is_nan()) || (got - want).abs() < 1e-9,
            "{k} steps before the change: {got} vs {want}"
        );
    }
    // Past the bake (the lab's own, 5 minutes), a promoted service is read over the lookback
    // alone: 41 points.
    let after = client_with(&fake.url, &s, counting());
    let rs = match after.poll_at(fake.wall_time(t)).await.expect("a poll") {
        flightdeck::domain::SourceData::Prometheus(rs) => rs,
        other => panic!("not a Prometheus reading: {other:?}"),
    };
    let p99 = rs[0]
        .metrics
        .iter()
        .find(|m| m.name == "latency_p99_ms")
        .expect("the p99");
    assert_eq!(p99.canary_samples.len(), 41);
}
