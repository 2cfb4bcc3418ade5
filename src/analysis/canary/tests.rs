use super::*;
use proptest::prelude::*;

/// xorshift64*: a deterministic generator for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn draw(&mut self, n: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
        (0..n).map(|_| f(self.unit())).collect()
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// U by counting pairs, half a point per tie.
fn brute_u(a: &[f64], b: &[f64]) -> f64 {
    let mut u = 0.0;
    for &x in a {
        for &y in b {
            if x > y {
                u += 1.0;
            } else if x == y {
                u += 0.5;
            }
        }
    }
    u
}

fn one(spec: MetricSpec, samples: MetricSamples) -> Judgement {
    judge(&[(spec, samples)], &Policy::default(), None)
}

/// Error rates around 0.16 % (baseline) and `canary_level` (canary), 60 samples each.
fn error_rate_case(seed: u64, canary_level: f64) -> MetricSamples {
    let mut rng = Rng::new(seed);
    let baseline = rng.draw(60, |u| 0.0012 + 0.0008 * u);
    let canary = rng.draw(60, |u| canary_level * (0.9 + 0.2 * u));
    let windows = canary[56..].to_vec();
    MetricSamples::new(canary, baseline, windows)
}

// ---------------------------------------------------------------- counts

/// An error ratio judged on counts: `steps` steps of (canary requests, errors, baseline
/// requests, errors), the last `slice` of them the current slice.
#[test]
fn at_100_percent_a_cumulative_proof_is_not_a_sustained_finding() {
    // Clean slices before; then a minute at 100 % in each of five states, against the
    // history's 0.1 %: errors ×10 on and off. Proven since the rollout began at the end of
    // each of the last windows, but one of the last four alone shows nothing: an outage that
    // comes and goes on every track looks the same. Not a finding yet.
    let last = |windows: [bool; 5]| {
        let mut steps: Vec<_> = std::iter::repeat_n((500.0, 0.5, 500.0, 0.5), 40).collect();
        for bad in windows {
            let e = if bad { 15.0 } else { 1.5 };
            steps.extend(std::iter::repeat_n((1500.0, e, 1500.0, 1.5), 4));
        }
        judge_counted(MetricSamples {
            against_history: true,
            prior: Some((60_000.0, 60.0)),
            ..counted(&steps, Some(20))
        })
    };
    let j = last([false, true, true, false, true]);
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // Its reason says it is proven and what a finding at 100 % waits for.
    held_back(
        &j,
        "the stable's past",
        "at 100 % the slices before do not point to it",
    );
    // Each of the last four windows on its own (longer than a shared spike of two minutes
    // and its smear fill): the canary's. ROLLBACK.
    let j = last([false, true, true, true, true]);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn at_100_percent_the_stables_history_is_one_reference_with_the_whole_alpha() {
    // Slices before at 1.6× the stable beside them (they point to a finding), then a minute
    // at 100 % at 0.27 % against the stable's past of 0.1 % (80,000 requests): ln E ≈ 3.9 —
    // over ln 40 (α whole), under ln 80 (α shared with the history's steps, the same
    // reference read twice). ROLLBACK.
    let j = at_full(
        (500.0, 0.8, 500.0, 0.5),
        (1500.0, 4.0, 1500.0, 1.5),
        Some((60_000.0, 60.0)),
    );
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

/// Forty steps of `before` (the slices before), then a minute (four steps) of `last` at
/// 100 %, judged against the history with the stable's `prior` counts from before the
/// rollout.
fn at_full(
    before: (f64, f64, f64, f64),
    last: (f64, f64, f64, f64),
    prior: Option<(f64, f64)>,
) -> Judgement {
    let steps: Vec<_> = std::iter::repeat_n(before, 40)
        .chain(std::iter::repeat_n(last, 4))
        .collect();
    judge_counted(MetricSamples {
        against_history: true,
        prior,
        ..counted(&steps, Some(4))
    })
}

#[test]
fn the_stables_past_serves_only_where_the_stable_beside_could_show_a_move() {
    // The canary at 0.5 % on 2,000 requests against the stable's 0.14 % before the rollout
    // (60,000 requests): proven worse than that past (see the test above) — but the
    // baseline beside it served only 1,000 requests, 1.4 errors' worth, and had 2: it could
    // not show a shared problem lifting both tracks ×3.6 (its log likelihood ratio against
    // that lift is 1.1, short of the 1.8 that PRIOR_POWER_EVENTS give at ×2), so the past is
    // no reference there.
    let steps = [(50.0, 0.25, 25.0, 0.05); 40];
    let j = judge_counted(MetricSamples {
        prior: Some((60_000.0, 84.0)),
        ..counted(&steps, None)
    });
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    assert_ne!(j.metrics[0].outcome, MetricOutcome::Worse);
}

#[test]
fn a_stable_with_few_events_vouches_against_a_canary_lifted_far_beyond_them() {
    // The canary at 0.4 % on 3,000 requests, ×5 the stable's 0.08 % before the rollout
    // (60,000 requests). The stable beside it served 1,500 requests: 1.2 errors' worth, short
    // of PRIOR_POWER_EVENTS — but lifted ×5 it would have had 6, and it had 1.2: its counts
    // show it was not lifted as the canary was. The past serves: ROLLBACK (the live baseline
    // alone cannot prove it: 12 errors against 1.2).
    let steps = |stable_errors: f64| [(75.0, 0.3, 37.5, stable_errors / 40.0); 40];
    let past = Some((60_000.0, 48.0));
    let j = judge_counted(MetricSamples {
        prior: past,
        ..counted(&steps(1.2), None)
    });
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    assert!(
        j.metrics[0].reason.contains("before the rollout began"),
        "{}",
        j.metrics[0].reason
    );
    let j = judge_counted(counted(&steps(1.2), None));
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // The stable at 3 errors (×2.5 its past, not yet a lean of a move): as likely lifted as
    // the canary as not. No reference.
    let j = judge_counted(MetricSamples {
        prior: past,
        ..counted(&steps(3.0), None)
    });
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn a_canary_lifted_only_in_a_bursts_stretch_is_not_vouched_against_by_few_stable_events() {
    // A clean rollout at the stable's 0.11 %, then a slice of four steps whose last three
    // carry 7 errors in 450 canary requests (a spike, ×14), the stable beside it 1 error in
    // 600 (0.66 errors' worth at its past). Against the past it is proven; but outside its
    // worst stretch (a burst's length) the canary is not lifted at all, so the stable's few
    // events do not vouch for the past there, and the live baseline cannot prove it alone.
    let mut steps: Vec<_> = std::iter::repeat_n((50.0, 0.055, 100.0, 0.11), 36).collect();
    steps.push((150.0, 0.0, 150.0, 0.25));
    steps.extend(std::iter::repeat_n((150.0, 7.0 / 3.0, 150.0, 0.25), 3));
    // (A failing window tolerated, as the config's default: a burst's stretch is then a
    // window and a half, six steps.)
    let spec = MetricSpec::max("error_rate", 0.005)
        .critical()
        .failure_limit(1);
    let samples = MetricSamples {
        prior: Some((60_000.0, 66.0)),
        ..counted(&steps, Some(4))
    };
    let j = judge(&[(spec, samples)], &Policy::default(), None);
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // The reason says the past proves it and what holds it back, not "not proven" beside an
    // evidence over the goal.
    held_back(
        &j,
        "the stable's past",
        "the stable beside it served too few requests",
    );
}

/// The first metric's reason says it is proven against `against` and held back by `why`.
fn held_back(j: &Judgement, against: &str, why: &str) {
    let reason = &j.metrics[0].reason;
    assert!(
        reason.contains(&format!("proven against {against} (evidence "))
            && reason.contains(why)
            && !reason.contains("not proven"),
        "{reason}"
    );
}

#[test]
fn a_live_finding_needs_a_lean_against_the_stables_past_too() {
    // The canary at 0.4 % on 4,000 requests; the baseline beside it at 0.05 % on 20,000: ×8,
    // proven. The stable's past says 0.4 % is its usual rate: the baseline's quiet stretch,
    // not the canary, is what changed. Not ROLLBACK with the past, ROLLBACK without it.
    rollback_without_the_past_only(&[(100.0, 0.4, 500.0, 0.25); 40], (100_000.0, 400.0));
}

/// `steps` judged alone are ROLLBACK; with the stable's `past` beside them they are not.
fn rollback_without_the_past_only(steps: &[(f64, f64, f64, f64)], past: (f64, f64)) {
    let j = judge_counted(counted(steps, None));
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    let j = judge_counted(MetricSamples {
        prior: Some(past),
        ..counted(steps, None)
    });
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn over_the_bound_a_canary_is_blamed_by_its_estimate_only_while_the_stable_has_not_moved() {
    // 40,000 requests a side: the canary at 0.62 % (proven over 0.5 %), the baseline at
    // 0.49 % (under it; the canary ×1.27, not proven worse): ROLLBACK. With the stable at
    // 0.14 % before the rollout both tracks are up (a shared problem), and the canary's few
    // more errors are no finding of their own.
    rollback_without_the_past_only(&[(1000.0, 6.2, 1000.0, 4.9); 40], (60_000.0, 84.0));
}

fn counted(steps: &[(f64, f64, f64, f64)], slice: Option<usize>) -> MetricSamples {
    let counts: Vec<CountStep> = steps
        .iter()
        .map(|&(cr, ce, br, be)| CountStep {
            canary_requests: cr,
            canary_events: ce,
            baseline_requests: br,
            baseline_events: be,
        })
        .collect();
    let ratio = |r: f64, e: f64| if r > 0.0 { e / r } else { f64::NAN };
    MetricSamples {
        canary: steps.iter().map(|s| ratio(s.0, s.1)).collect(),
        baseline: steps.iter().map(|s| ratio(s.2, s.3)).collect(),
        windows: vec![],
        counts,
        slice_steps: slice,
        window_steps: 4,
        slice: None,
        slice_points: None,
        against_history: false,
        baseline_rose: false,
        prior: None,
        prior_lookbacks: None,
    }
}

#[test]
fn one_burst_is_not_a_regression_while_the_failure_limit_tolerates_a_window() {
    // Forty steps at 0.1 % a side (600 requests each); the canary errs ×10 over six of them
    // (a 30 s burst smeared by `rate()[1m]`) in one case, and by the same 32 errors spread
    // over all forty in the other (×2.3). Both are proven worse than the baseline.
    let burst = |at: usize| -> Vec<(f64, f64, f64, f64)> {
        (0..40)
            .map(|i| {
                let e = if (at..at + 6).contains(&i) { 6.0 } else { 0.6 };
                (600.0, e, 600.0, 0.6)
            })
            .collect()
    };
    let spread = vec![(600.0, 0.6 + 32.4 / 40.0, 600.0, 0.6); 40];
    let limit = |n: usize, steps: &[(f64, f64, f64, f64)]| {
        judge(
            &[(
                MetricSpec::max("error_rate", 0.005)
                    .critical()
                    .failure_limit(n),
                counted(steps, None),
            )],
            &Policy::default(),
            None,
        )
    };
    // Failure limit 1 (the config's default): a burst in the latest window is watched (one
    // that has passed already is, by the latest window's counts).
    for at in [32, 34] {
        says(&limit(1, &burst(at)), Verdict::Hold, "rests on one burst");
        // Failure limit 0: no window may fail, and the proof is a ROLLBACK.
        assert_eq!(limit(0, &burst(at)).verdict, Verdict::Rollback);
    }
    says(
        &limit(1, &burst(10)),
        Verdict::Hold,
        "the latest window is back",
    );
    // The same excess throughout: the rest of the span leans the same way. ROLLBACK.
    let j = limit(1, &spread);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);

    // A new slice of five steps after forty clean ones, errors ×10 in its last `bad`: from
    // its first step, the rise came with the slice (a late onset, as a new weight's load
    // brings): ROLLBACK. Two steps into it, a burst: watched.
    let slice = |bad: usize| {
        let mut steps = vec![(600.0, 0.6, 600.0, 0.6); 45];
        for s in &mut steps[45 - bad..] {
            s.1 = 6.0;
        }
        judge(
            &[(
                MetricSpec::max("error_rate", 0.005)
                    .critical()
                    .failure_limit(1),
                counted(&steps, Some(5)),
            )],
            &Policy::default(),
            None,
        )
    };
    let j = slice(5);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    says(&slice(3), Verdict::Hold, "rests on one burst");
    // The slice's first step holds only a sliver of the change (its `[1m]` window mostly
    // before it): still a rise that came with the slice.
    let j = slice(4);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn a_burst_stands_only_when_the_finding_is_proven_without_its_excess() {
    // Forty steps of 600 requests a side, the baseline at 0.1 %. A burst (×10 over six steps)
    // with the rest of the canary at ×1.5 by chance: the rest leans the canary's way, but with
    // the burst's stretch at the rest's ratio nothing is proven. Watched, not ROLLBACK.
    let judged = |steps: &[(f64, f64, f64, f64)]| {
        judge(
            &[(
                MetricSpec::max("error_rate", 0.005)
                    .critical()
                    .failure_limit(1),
                counted(steps, None),
            )],
            &Policy::default(),
            None,
        )
    };
    let burst: Vec<_> = (0..40)
        .map(|i| {
            let e = if (32..38).contains(&i) { 6.0 } else { 0.9 };
            (600.0, e, 600.0, 0.6)
        })
        .collect();
    says(&judged(&burst), Verdict::Hold, "rests on one burst");
    // A ramp (×1 → ×5 over forty steps of 200 requests): its worst stretch is its latest
    // steps, and the steps beside them are nearly as high. Without the stretch's excess over
    // *them* it is still proven: ROLLBACK. (Held to the rest's ratio, which the ramp's early steps
    // pull down, it would not be.)
    let ramp: Vec<_> = (0..40)
        .map(|i| (200.0, 0.2 * (1.0 + 4.0 * f64::from(i) / 39.0), 200.0, 0.2))
        .collect();
    let j = judged(&ramp);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // The same events as the burst's, spread evenly (×2.8 throughout): ROLLBACK.
    let total: f64 = burst.iter().map(|s| s.1).sum();
    let spread = vec![(600.0, total / 40.0, 600.0, 0.6); 40];
    let j = judged(&spread);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn with_detect_a_proceed_waits_until_the_counts_could_show_that_excess() {
    // 0.1 % a side. Forty steps of 600 requests: 24 errors due, far under the bound (PROCEED
    // by default), but a +25 % regression would be lost in the noise of 24 errors a side.
    let judge_with = |steps: usize, detect: Option<f64>, prior: Option<(f64, f64)>| {
        let spec = MetricSpec {
            detect,
            ..MetricSpec::max("error_rate", 0.005).critical()
        };
        let samples = MetricSamples {
            prior,
            ..counted(&vec![(600.0, 0.6, 600.0, 0.6); steps], None)
        };
        judge(&[(spec, samples)], &Policy::default(), None)
    };
    let j = judge_with(40, None, None);
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
    let j = judge_with(40, Some(0.25), None);
    says(&j, Verdict::Hold, "not yet able to show +25 % (detect)");
    says(&j, Verdict::Hold, "24 errors due at that rate");
    // A doubling takes far fewer: 49 a side below 100 %, where `detect` asks for 80 % power
    // (30 are enough on average).
    let j = judge_with(50, Some(1.0), None);
    says(&j, Verdict::Hold, "not yet able to show +100 % (detect)");
    let j = judge_with(85, Some(1.0), None);
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
    // 600 steps beside the stable's 2,000 errors before the rollout: 360 due against 2,360,
    // enough to have shown +25 % (400 steps, 240 due, are enough on average only). PROCEED.
    let j = judge_with(400, Some(0.25), Some((2_000_000.0, 2_000.0)));
    says(&j, Verdict::Hold, "not yet able to show +25 % (detect)");
    let j = judge_with(600, Some(0.25), Some((2_000_000.0, 2_000.0)));
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
}

#[test]
fn unset_detect_holds_a_busy_service_to_plus_25_percent() {
    // The same canary as above (24 errors due, a side at 0.1 %), `detect` unset.
    let judge_with = |steps: usize, detect: Option<f64>, prior: (f64, f64)| {
        let spec = MetricSpec {
            detect,
            ..MetricSpec::max("error_rate", 0.005).critical()
        };
        let samples = MetricSamples {
            prior: Some(prior),
            ..counted(&vec![(600.0, 0.6, 600.0, 0.6); steps], None)
        };
        judge(&[(spec, samples)], &Policy::default(), None)
    };
    // A busy service: 600 errors in the stable's lookback before the rollout. +25 % takes
    // a few hundred to show: HOLD, saying why.
    let busy = (600_000.0, 600.0);
    let j = judge_with(40, None, busy);
    says(
        &j,
        Verdict::Hold,
        "not yet able to show +25 % (detect, by default on a service this busy)",
    );
    // Busy: twice the 1 / s² errors, s = ln 1.25 / √(2 ln 20): 241 at α = 0.05.
    assert!(detect_by_default(242.0, 0.05) && !detect_by_default(240.0, 0.05));
    assert!(!detect_by_default(f64::NAN, 0.05) && !detect_by_default(600.0, 1.0));
    // Turned off (0): PROCEED as before.
    let j = judge_with(40, Some(0.0), busy);
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
    // A quiet service (60 errors in its lookback) is not held to +25 %; below 100 % it is held
    // to a doubling unless its canary, shown under half its bound, could have been shown a
    // quarter of the bound above its rate, as 24 errors in 24,000 requests (0.10 %) are: PROCEED
    // (see the next test for one that is held).
    let j = judge_with(40, None, (600_000.0, 60.0));
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
    // The busy service's canary once its counts could have shown it (with 80 % power, below
    // 100 %): PROCEED.
    let j = judge_with(600, None, busy);
    says(
        &j,
        Verdict::Hold,
        "about 380,384 requests at its rate are needed",
    );
    let j = judge_with(700, None, busy);
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
}

#[test]
fn below_100_percent_a_canary_proceeds_once_its_counts_could_have_shown_a_doubling() {
    // A canary at its stable's 0.2 % (the stable's past: 120 errors in 60,000 requests), under
    // its 0.5 % bound: a gradual regression's first minutes look the same. With a few errors'
    // worth of requests it could not have been caught at twice that rate: HOLD, saying so.
    let slices = |steps: usize| {
        judge_counted(MetricSamples {
            prior: Some((60_000.0, 120.0)),
            ..counted(&vec![(250.0, 0.5, 250.0, 0.5); steps], None)
        })
    };
    let few = slices(12);
    says(
        &few,
        Verdict::Hold,
        "not yet able to show +100 % (a doubling, by default before 100 %): 6 in 3,000 requests",
    );
    says(
        &few,
        Verdict::Hold,
        "6 errors due at that rate; about 18,194 requests at its rate are needed, 6.1× those",
    );
    // A clean service (the stable's past: 6 errors in 60,000 requests, 0.01 %) would wait hours
    // for the errors a doubling takes; once its canary, shown under half its bound, could have
    // been shown a quarter of the bound above that rate (many doublings), it PROCEEDs: on 5,000
    // requests without an error.
    let clean = |steps: usize| {
        judge_counted(MetricSamples {
            prior: Some((60_000.0, 6.0)),
            ..counted(&vec![(250.0, 0.0, 250.0, 0.025); steps], None)
        })
    };
    says(
        &clean(12),
        Verdict::Hold,
        "(or about 4,071 to show it 25 % of its bound above it, once shown under half the bound)",
    );
    says(&clean(20), Verdict::Proceed, "shown under max 0.50 %");
    // At the stable's 0.1 %, a canary shown under half its bound on 3,000 requests (1 error) is
    // no such clean case: a gradual regression's first minutes look the same. HOLD until its
    // counts could have shown it a quarter of its bound above that rate.
    let tenth = |steps: usize| {
        judge_counted(MetricSamples {
            prior: Some((60_000.0, 60.0)),
            ..counted(&vec![(250.0, 1.0 / 12.0, 250.0, 0.25); steps], None)
        })
    };
    says(&tenth(12), Verdict::Hold, "not yet able to show +100 %");
    says(
        &tenth(12),
        Verdict::Hold,
        "(or about 16,026 to show it 25 % of its bound above it, once shown under half the bound)",
    );
    says(&tenth(68), Verdict::Proceed, "shown under max 0.50 %");
    // Some thirty-five errors' worth (twenty would do on average; below 100 % the test asks for
    // 80 % power): PROCEED.
    says(&slices(60), Verdict::Hold, "not yet able to show +100 %");
    says(&slices(72), Verdict::Proceed, "baseline 0.20 %");
    // At 100 % the bound and the stable's history decide, as before: the same canary with
    // as few requests of its own at full traffic is not held for a doubling.
    let full = at_full(
        (250.0, 0.5, 250.0, 0.5),
        (1000.0, 2.0, 1000.0, 2.0),
        Some((60_000.0, 120.0)),
    );
    assert!(
        !full.metrics[0].reason.contains("a doubling"),
        "{}",
        full.metrics[0].reason
    );
}

/// `j` says `verdict`, and its (first) metric's reason says `text`.
fn says(j: &Judgement, verdict: Verdict, text: &str) {
    assert_eq!(j.verdict, verdict, "{}", j.metrics[0].reason);
    assert!(
        j.metrics[0].reason.contains(text),
        "{}",
        j.metrics[0].reason
    );
}
fn judge_counted(samples: MetricSamples) -> Judgement {
    judge(
        &[(MetricSpec::max("error_rate", 0.005).critical(), samples)],
        &Policy::default(),
        None,
    )
}

#[test]
fn zero_errors_in_200_requests_against_half_a_percent_is_hold() {
    // 200 requests over 20 steps, no error on either side.
    let j = judge_counted(counted(&[(10.0, 0.0, 10.0, 0.0); 20], None));
    assert_eq!(j.verdict, Verdict::Hold, "{j:#?}");
    let m = &j.metrics[0];
    assert_eq!(m.outcome, MetricOutcome::NoData);
    assert!(
        m.reason
            .contains("not enough evidence yet: 0 in 200 requests"),
        "{}",
        m.reason
    );
    assert!(
        m.reason.contains("requests at this ratio are needed"),
        "{}",
        m.reason
    );
    // Enough requests without an error: shown under the bound, PROCEED.
    let j = judge_counted(counted(&[(100.0, 0.0, 100.0, 0.0); 20], None));
    says(&j, Verdict::Proceed, "shown under max 0.50 %");
}

#[test]
fn thirty_errors_in_200_requests_is_rollback() {
    let j = judge_counted(counted(&[(10.0, 1.5, 10.0, 0.0); 20], None));
    assert_eq!(j.verdict, Verdict::Rollback, "{j:#?}");
    assert_eq!(j.metrics[0].outcome, MetricOutcome::Breach);
    assert!(
        j.metrics[0].reason.contains("30 in 200 requests"),
        "{}",
        j.metrics[0].reason
    );
}

#[test]
fn a_shared_breach_is_not_the_canarys() {
    let j = judge_counted(counted(&[(100.0, 3.0, 100.0, 3.0); 20], None));
    assert_eq!(
        j.metrics[0].outcome,
        MetricOutcome::SharedBreach,
        "{}",
        j.metrics[0].reason
    );
    assert_eq!(j.verdict, Verdict::Hold);
}

#[test]
fn a_subtle_regression_under_the_bound_is_never_proceed() {
    // +40 % under the bound at 6,000 requests a minute: HOLD while the estimate is beyond the
    // tolerance and unproven, ROLLBACK once proven (critical metric).
    let step = (1500.0, 6.3, 1500.0, 4.5);
    let early = judge_counted(counted(&[step; 20], None));
    assert_eq!(early.verdict, Verdict::Hold, "{}", early.metrics[0].reason);
    assert!(
        early.metrics[0].reason.contains("not proven"),
        "{}",
        early.metrics[0].reason
    );
    let late = judge_counted(counted(&[step; 80], None));
    assert_eq!(
        late.verdict,
        Verdict::Rollback,
        "{}",
        late.metrics[0].reason
    );
    assert_eq!(late.metrics[0].outcome, MetricOutcome::Worse);
}

#[test]
fn the_stables_counts_before_the_rollout_prove_a_regression_the_small_baseline_cannot() {
    // A canary of 2,000 requests and 10 errors (0.5 %, 3.6 times the stable's 0.14 %) beside
    // a baseline of 4,400 requests with its 6.2 errors: too few to prove it.
    let steps = [(50.0, 0.25, 110.0, 0.154); 40];
    let alone = judge_counted(counted(&steps, None));
    assert_ne!(
        alone.verdict,
        Verdict::Rollback,
        "{}",
        alone.metrics[0].reason
    );
    // With the stable's 60,000 requests and 84 errors from before the rollout: proven worse.
    let with_prior = |steps: &[(f64, f64, f64, f64)]| {
        judge_counted(MetricSamples {
            prior: Some((60_000.0, 84.0)),
            ..counted(steps, None)
        })
    };
    let j = with_prior(&steps);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    assert_eq!(j.metrics[0].outcome, MetricOutcome::Worse);
    assert!(
        j.metrics[0]
            .reason
            .contains("against the stable's 0.14 % before the rollout began"),
        "{}",
        j.metrics[0].reason
    );
    // The live baseline erring as much as the canary: the stable is not where it was (a
    // shared problem), so its past is no reference and nothing is held against the canary.
    let shared = with_prior(&[(50.0, 0.25, 110.0, 0.55); 40]);
    assert_ne!(
        shared.verdict,
        Verdict::Rollback,
        "{}",
        shared.metrics[0].reason
    );
    assert_ne!(shared.metrics[0].outcome, MetricOutcome::Worse);
}

#[test]
fn a_slice_vouched_for_by_the_slices_before_needs_requests_of_its_own_and_no_rise() {
    // 6,000 requests at 0.1 % before this slice: the rollout is shown under 0.5 %.
    let before = [(100.0, 0.1, 100.0, 0.1); 60];
    let judged = |slice: &[(f64, f64, f64, f64)]| {
        let steps: Vec<_> = before.iter().chain(slice).copied().collect();
        judge_counted(counted(&steps, Some(slice.len())))
    };
    // 1,500 requests of its own at the same ratio: too few to show it under the bound alone,
    // enough that a jump over it would show; no hint of a rise: PROCEED.
    let j = judged(&[(100.0, 0.1, 100.0, 0.1); 15]);
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
    let slice_e = j.metrics[0].counts.as_ref().map(|c| c.slice.log_e_under);
    assert!(slice_e.is_some_and(|e| e < j.metrics[0].counts.as_ref().unwrap().goal));
    // 400 requests of its own: a jump would not show yet. HOLD.
    let j = judged(&[(100.0, 0.1, 100.0, 0.1); 4]);
    says(&j, Verdict::Hold, "in this slice");
    // The slice's errors four times the slices' before (the baseline's too, so no
    // comparison holds it): the carried evidence cannot vouch for it. HOLD.
    let j = judged(&[(100.0, 0.4, 100.0, 0.4); 15]);
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.metrics[0].reason);
    assert_eq!(j.metrics[0].outcome, MetricOutcome::NoData);
}

#[test]
fn a_canary_at_70_percent_of_its_bound_is_taken_under_it_on_enough_requests_not_on_few() {
    // 0.35 % on both sides: hundreds of thousands of requests would be needed to *prove* it
    // under 0.5 %.
    let steps = |n: usize| vec![(100.0, 0.35, 100.0, 0.35); n];
    // 1,000 requests: five events' worth at the bound. Not enough evidence: HOLD.
    let j = judge_counted(counted(&steps(10), None));
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.metrics[0].reason);
    assert!(j.metrics[0].reason.contains("not enough evidence yet"));
    // 6,000 requests: thirty events' worth, under the bound by its estimate, no worse than
    // its baseline: PROCEED, saying it is not proven.
    let j = judge_counted(counted(&steps(60), None));
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
    assert!(
        j.metrics[0].reason.contains("by its estimate")
            && j.metrics[0].reason.contains("not proven"),
        "{}",
        j.metrics[0].reason
    );
    let e = j.metrics[0]
        .counts
        .as_ref()
        .map(|c| (c.slice.log_e_under, c.goal));
    assert!(e.is_some_and(|(e, goal)| e < goal), "{e:?}");
    // The same requests at 0.45 % on the canary with the baseline at 0.35 %: within
    // tolerance? No — ×1.29 of the baseline holds it, whatever the bound says.
    let j = judge_counted(counted(&vec![(100.0, 0.45, 100.0, 0.35); 60], None));
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.metrics[0].reason);
    // At 0.55 %, over the bound by its estimate: not taken under it.
    let j = judge_counted(counted(&vec![(100.0, 0.55, 100.0, 0.55); 60], None));
    assert_ne!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
}

#[test]
fn at_100_percent_a_canary_at_the_stables_own_rate_is_not_held_by_its_few_live_events() {
    // Before the last slice the stable served beside the canary and erred half as often by
    // chance (20 errors in 40,000 requests); the last slice's steps carry the history's
    // mean. Against those the canary's 100 errors are 2× (four standard errors, proven, but
    // not pointed to by the slices before nor held four windows: HOLD). Its
    // own million requests before the rollout, at 0.1 %, say the canary's 0.1 % is its rate.
    let steps: Vec<_> = std::iter::repeat_n((1000.0, 1.0, 1000.0, 0.5), 40)
        .chain(std::iter::repeat_n((3000.0, 3.0, 3000.0, 1.5), 20))
        .collect();
    let judged = |prior: Option<(f64, f64)>| {
        judge_counted(MetricSamples {
            against_history: true,
            prior,
            ..counted(&steps, Some(20))
        })
    };
    let without = judged(None);
    assert_eq!(
        without.verdict,
        Verdict::Hold,
        "{}",
        without.metrics[0].reason
    );
    assert!(
        without.metrics[0]
            .reason
            .contains("proven against the history (evidence 1089.6, needed 40), but at 100 %"),
        "{}",
        without.metrics[0].reason
    );
    // A service of a thousand errors in its lookback is held to +25 % by default: its
    // canary's 100 errors cannot show that yet. With that off, PROCEED.
    let prior = Some((1_000_000.0, 1000.0));
    says(&judged(prior), Verdict::Hold, "not yet able to show +25 %");
    let with = judge(
        &[(
            MetricSpec {
                detect: Some(0.0),
                ..MetricSpec::max("error_rate", 0.005).critical()
            },
            MetricSamples {
                against_history: true,
                prior,
                ..counted(&steps, Some(20))
            },
        )],
        &Policy::default(),
        None,
    );
    assert_eq!(with.verdict, Verdict::Proceed, "{}", with.metrics[0].reason);
}

#[test]
fn at_100_percent_what_the_slices_before_showed_against_the_stables_past_counts() {
    // Before the last slice: the canary at 0.4 % beside a stable track with 2 errors in 2,000
    // requests (too few to prove a difference); the last slice, a minute at 100 %, against
    // the history's mean step (0.1 %).
    let judged = |prior| at_full((50.0, 0.2, 50.0, 0.05), (1500.0, 6.0, 1500.0, 1.5), prior);
    let without = judged(None);
    assert_ne!(
        without.verdict,
        Verdict::Rollback,
        "{}",
        without.metrics[0].reason
    );
    // The stable's 60,000 requests at 0.1 % before the rollout: the slices before pointed to
    // it, and the last slice proves it.
    let with = judged(Some((60_000.0, 60.0)));
    assert_eq!(
        with.verdict,
        Verdict::Rollback,
        "{}",
        with.metrics[0].reason
    );
    // A stable that erred as much as the canary before the last slice (a shared problem
    // then): its past points nowhere.
    let j = at_full(
        (50.0, 0.2, 50.0, 0.2),
        (1500.0, 6.0, 1500.0, 1.5),
        Some((60_000.0, 60.0)),
    );
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn worse_is_proven_against_the_baseline_itself_and_needs_an_estimate_beyond_the_tolerance() {
    // +30 %: 520 errors against 400 in 200,000 requests a side — beyond ×1.10 by its
    // estimate, and proven worse than ×1 (against ×1.10 itself it would not be: that test
    // sees only +18 %). ROLLBACK.
    let j = judge_counted(counted(&[(1000.0, 2.6, 1000.0, 2.0); 200], None));
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    assert!(
        crate::analysis::counts::log_e_worse(&j_steps(&[(1000.0, 2.6, 1000.0, 2.0); 200]), 1.1)
            < (20f64).ln(),
        "the test against ×1.10 would have proven it too"
    );
}

fn j_steps(steps: &[(f64, f64, f64, f64)]) -> Vec<CountStep> {
    counted(steps, None).counts
}

#[test]
fn below_100_percent_an_excess_over_the_live_baseline_holds_even_when_the_past_hides_it() {
    // The stable's 100,000 requests before the rollout at 0.2 %; beside the canary now it
    // erred 28 times in 20,000 requests (0.14 %), the canary 40 (0.20 %). Pooled with the
    // past the reference is 0.19 % (×1.05, within tolerance); the live baseline alone says
    // ×1.4. HOLD, naming the live baseline.
    let judged = |canary: f64| {
        judge_counted(MetricSamples {
            prior: Some((100_000.0, 200.0)),
            ..counted(&vec![(250.0, canary, 250.0, 0.35); 80], None)
        })
    };
    let j = judged(0.5);
    says(&j, Verdict::Hold, "the live baseline's 0.14 %");
    // The canary at the live baseline's rate: PROCEED.
    let j = judged(0.35);
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
}

#[test]
fn at_100_percent_an_excess_within_the_noise_holds_only_a_canary_that_is_rising() {
    // 17 canary errors in 13,600 requests in all, 1.3× the stable's past (its 100,000
    // requests before the rollout at 0.1 % and 5 errors in the 10,000 beside the slices
    // before): about one standard error beyond parity, within the noise of few errors.
    let judged = |before: f64, last: f64| {
        let steps: Vec<_> = std::iter::repeat_n((250.0, before, 250.0, 0.125), 40)
            .chain(std::iter::repeat_n((300.0, last, 300.0, 0.3), 12))
            .collect();
        judge_counted(MetricSamples {
            against_history: true,
            prior: Some((100_000.0, 100.0)),
            ..counted(&steps, Some(12))
        })
    };
    // Spread evenly over the rollout: PROCEED, saying it is within the noise.
    let j = judged(12.5 / 40.0, 4.5 / 12.0);
    says(
        &j,
        Verdict::Proceed,
        "(the stable's (before the rollout and beside the slices before) 0.10 %: 1.3",
    );
    says(&j, Verdict::Proceed, "× it, within the noise: ");
    // The same errors leaning on the canary beside the stable before (10 to 5) and rising
    // with full traffic (7 in the last slice's 3,600 requests): a regression growing with
    // its traffic. HOLD.
    let j = judged(10.0 / 40.0, 7.0 / 12.0);
    says(&j, Verdict::Hold, "not proven");
}

#[test]
fn at_100_percent_an_excess_that_rests_on_one_burst_that_has_passed_does_not_hold_the_promotion() {
    // The stable's past and the live baseline at 0.1 %. The canary at 0.1 % but for six steps
    // of 2 errors each in 250 requests (0.8 %) at steps 10–15: 24 errors in 13,600 requests in
    // all, 1.77× the reference, 2.5 standard errors beyond parity — beyond the noise bar.
    let judged = |burst: bool| {
        let extra = |i: usize| match (burst, i) {
            (true, 10..16) => 1.75,
            (true, _) => 0.0,
            (false, _) => 10.5 / 52.0,
        };
        let steps: Vec<_> = (0..52)
            .map(|i| {
                let (r, e) = if i < 40 { (250.0, 0.25) } else { (300.0, 0.3) };
                (r, e + extra(i), r, e)
            })
            .collect();
        // A failing window tolerated (as the config's default): the burst rule's stretch is a
        // window and a half, six steps.
        let spec = MetricSpec {
            failure_limit: 1,
            ..MetricSpec::max("error_rate", 0.005).critical()
        };
        let samples = MetricSamples {
            against_history: true,
            prior: Some((100_000.0, 100.0)),
            ..counted(&steps, Some(12))
        };
        judge(&[(spec, samples)], &Policy::default(), None)
    };
    // One burst, long passed (the steps since shown under half its rate, outside it the canary
    // at the reference's rate): PROCEED, saying so.
    says(
        &judged(true),
        Verdict::Proceed,
        "resting on one burst that has passed: outside its worst 6 steps 12 in 12,100 requests",
    );
    // The same excess spread over the rollout: held, as before.
    says(&judged(false), Verdict::Hold, "beyond ×1.10 but not proven");
}

#[test]
fn at_100_percent_a_stable_above_its_own_past_when_it_lost_its_traffic_shares_the_problem() {
    // The slices before at 3× the stable beside them; in their last window both tracks at
    // 0.77 % (11 errors in 1,424 requests each: an incident on every track); then a minute
    // at 100 %, the canary at 0.8 % against a history whose newest minutes carry the
    // incident's start (0.37 %). Next to that history the stable's last window is only a
    // lean (ln E < 1), but next to its own 0.19 % before the rollout it is plainly up: the
    // canary's errors are the incident's, not its own. Not a ROLLBACK, and said so.
    let prior = Some((27_466.0, 51.0));
    let judged = |stable_last: f64| {
        let steps: Vec<_> = std::iter::repeat_n((500.0, 1.5, 500.0, 0.5), 36)
            .chain(std::iter::repeat_n((356.0, 2.75, 356.0, stable_last), 4))
            .chain(std::iter::repeat_n((1500.0, 12.0, 1500.0, 5.55), 4))
            .collect();
        judge_counted(MetricSamples {
            against_history: true,
            prior,
            ..counted(&steps, Some(4))
        })
    };
    let j = judged(2.75);
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    says(
        &j,
        Verdict::Hold,
        "when it lost its traffic: a shared problem",
    );
    // The stable calm in its last window (0.19 %, its usual): the canary's doing. ROLLBACK.
    let j = judged(0.66);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

/// At 100 %: the stable's past — 10,000 requests at 0.1 % before the rollout and 5,000 beside
/// the slices before (15 errors) — and the canary at `x` times it, evenly over the rollout (not
/// rising): 2,000 requests in the slices before, then `stage` steps of 100 at full traffic.
fn at_full_evenly(x: f64, stage: usize) -> Judgement {
    let c = 0.1 * x; // errors in a step's 100 requests
    let steps: Vec<_> = std::iter::repeat_n((100.0, c, 250.0, 0.25), 20)
        .chain(std::iter::repeat_n((100.0, c, 100.0, 0.1), stage))
        .collect();
    judge_counted(MetricSamples {
        against_history: true,
        prior: Some((10_000.0, 10.0)),
        ..counted(&steps, Some(stage))
    })
}

#[test]
fn at_100_percent_twice_the_stables_past_holds_the_promotion_even_within_the_noise() {
    // A stage of 2,600 requests (13 events' worth at the 0.5 % bound): 4,600 in all, under the
    // bound by its estimate.
    // ×1.6 on 7 errors: within the noise. PROCEED.
    says(
        &at_full_evenly(1.6, 26),
        Verdict::Proceed,
        "within the noise",
    );
    // ×2.2 on 10 errors: still within two standard errors of parity (few events on either
    // side), but twice the past. HOLD.
    says(&at_full_evenly(2.2, 26), Verdict::Hold, "not proven");
}

#[test]
fn at_100_percent_a_canary_beyond_tolerance_needs_a_stage_of_a_whole_rollouts_events() {
    // A stage of 1,400 requests: 7 events' worth at the 0.5 % bound, more than a slice's 6
    // (SLICE_EVENTS_AT_BOUND), fewer than a rollout's 12 (ROLLOUT_EVENTS_AT_BOUND).
    // The canary at the stable's own rate: the rollout vouches for the stage. PROCEED.
    says(&at_full_evenly(1.0, 14), Verdict::Proceed, "");
    // ×1.6, within the noise of its 5 errors but beyond tolerance: a ramp diluted by the slices
    // before looks like this a minute into the bake. HOLD until the stage has served 2,400
    // requests of its own.
    let j = at_full_evenly(1.6, 14);
    says(&j, Verdict::Hold, "not enough evidence yet");
    says(
        &j,
        Verdict::Hold,
        "once this slice has served about 2,400 requests: 12 events' worth at the bound",
    );
    // Ten steps more (2,400 requests): PROCEED, within the noise.
    says(
        &at_full_evenly(1.6, 24),
        Verdict::Proceed,
        "within the noise",
    );
}

#[test]
fn at_100_percent_a_busy_service_proceeds_only_once_its_counts_show_it_within_detect() {
    // A busy service (the stable's 2,000 errors in 1,000,000 requests before the rollout: it is
    // held to +25 % by default) at 0.2 %; the canary at `x` times that over 20,000 requests in
    // the slices before and 70,000 at 100 %, evenly. Its counts could have shown +25 % on average.
    let judged = |x: f64| {
        let steps: Vec<_> = std::iter::repeat_n((2_000.0, 4.0 * x, 2_000.0, 4.0), 10)
            .chain(std::iter::repeat_n((3_500.0, 7.0 * x, 100.0, 0.2), 20))
            .collect();
        judge_counted(MetricSamples {
            against_history: true,
            prior: Some((1_000_000.0, 2_000.0)),
            ..counted(&steps, Some(20))
        })
    };
    // ×1.15 on 207 errors: within the noise (1.9 standard errors beyond parity), but only 1.1
    // under +25 %: not shown within it. HOLD.
    says(
        &judged(1.15),
        Verdict::Hold,
        "not yet shown within +25 % of it",
    );
    // At the stable's rate: PROCEED.
    says(&judged(1.0), Verdict::Proceed, "");
}

#[test]
fn a_ratio_is_taken_under_its_bound_by_its_estimate_on_twelve_events_worth() {
    // The canary and its baseline at 0.3 % (60 % of the 0.5 % bound): too close to prove
    // under it on a few thousand requests. On 2,400 (12 errors' worth at the bound) the
    // estimate decides: PROCEED. On 2,000 (10): not enough evidence yet.
    let judged =
        |steps: usize| judge_counted(counted(&vec![(50.0, 0.15, 50.0, 0.15); steps], None));
    says(&judged(48), Verdict::Proceed, "");
    says(&judged(40), Verdict::Hold, "not enough evidence yet");
}

#[test]
fn at_100_percent_a_lift_that_lasts_four_windows_against_the_stables_past_is_the_canarys() {
    // Clean slices before (the canary as the stable beside it, 0.1 %: they point nowhere);
    // then four minutes at 100 %, the history's mean step (0.1 %) copied beside each, and the
    // stable's 60,000 requests at 0.1 % before the rollout. The canary at 0.2 % in the
    // windows marked: 12 errors where 6 were due in each, too few for a window against the
    // copy of the history's step, enough against the stable's past.
    let judged = |lifted: [bool; 4]| {
        let mut steps: Vec<_> = std::iter::repeat_n((500.0, 0.5, 500.0, 0.5), 40).collect();
        for lift in lifted {
            let e = if lift { 3.0 } else { 1.5 };
            steps.extend(std::iter::repeat_n((1500.0, e, 1500.0, 1.5), 4));
        }
        judge_counted(MetricSamples {
            against_history: true,
            prior: Some((60_000.0, 60.0)),
            ..counted(&steps, Some(16))
        })
    };
    // Lifted in each of the last four windows: longer than a shared spike and its smear
    // fill. ROLLBACK.
    let j = judged([true; 4]);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // In the last three only (a spike of two minutes smeared over three): not the canary's
    // by that yet.
    let j = judged([false, true, true, true]);
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn at_100_percent_a_jump_the_slices_before_did_not_point_to_waits_for_its_windows() {
    // The last slice, a minute at 100 %: the canary at 1 % against the history's 0.1 %, and
    // against the stable's 60,000 requests before the rollout.
    let jump = (1500.0, 15.0, 1500.0, 1.5);
    let prior = Some((60_000.0, 60.0));
    let with_before = |c: f64| at_full((500.0, c, 500.0, 0.5), jump, prior);
    // Clean slices before (the canary as the stable beside it): with nothing beside the
    // canary now, a jump that came with full traffic may be everyone's outage. Not yet.
    let j = with_before(0.5);
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // The slices before at 1.6× the stable, both beside it and against its past (each a
    // hint, neither a proof): the jump is the canary's. ROLLBACK.
    let j = with_before(0.8);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // The stable beside them at 1.6× too: its past points nowhere (a shared problem then).
    let j = at_full((500.0, 0.8, 500.0, 0.8), jump, prior);
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn a_breach_not_proven_worse_is_blamed_only_while_it_goes_on() {
    // Both windows beyond the 330 ms bound; the canary's median beyond the baseline's by
    // more than the tolerance but the two not significantly apart (half its points far
    // below the baseline's, half far above).
    let spec = MetricSpec::max("latency_p99_ms", 330.0).failure_limit(1);
    let baseline: Vec<f64> = (0..20).map(|i| 165.0 + i as f64).collect();
    let judged = |last: f64| {
        let mut canary: Vec<f64> = (0..19)
            .map(|i| if i % 2 == 0 { 400.0 } else { 150.0 })
            .collect();
        canary.push(last);
        let samples = MetricSamples {
            window_steps: 4,
            ..MetricSamples::new(canary, baseline.clone(), vec![400.0, 400.0])
        };
        judge(&[(spec.clone(), samples)], &Policy::default(), None)
    };
    let going_on = judged(400.0);
    assert_eq!(
        going_on.metrics[0].outcome,
        MetricOutcome::Breach,
        "{}",
        going_on.metrics[0].reason
    );
    assert_eq!(going_on.verdict, Verdict::Rollback);
    // The newest point back inside: a spike that passed, for a human to look at.
    let passed = judged(150.0);
    assert_eq!(
        passed.metrics[0].outcome,
        MetricOutcome::Borderline,
        "{}",
        passed.metrics[0].reason
    );
    assert_eq!(passed.verdict, Verdict::Hold);
}

proptest! {
    /// The burst rule only ever holds back a ROLLBACK: whatever the counts, a counted metric
    /// that is ROLLBACK with `failure_limit = 1` is ROLLBACK with 0, and its verdict differs
    /// only as HOLD for ROLLBACK.
    #[test]
    fn the_burst_rule_only_holds_back_a_rollback(
        steps in proptest::collection::vec((0u32..8, 0u32..8), 10..60),
        slice in 1usize..30,
        at_full in proptest::bool::ANY,
    ) {
        let steps: Vec<_> = steps
            .iter()
            .map(|&(c, b)| (400.0, c as f64 * 0.5, 400.0, b as f64 * 0.25))
            .collect();
        let verdict = |limit: usize| {
            judge(
                &[(
                    MetricSpec::max("error_rate", 0.005).critical().failure_limit(limit),
                    MetricSamples {
                        against_history: at_full,
                        prior: Some((40_000.0, 40.0)),
                        ..counted(&steps, Some(slice.min(steps.len())))
                    },
                )],
                &Policy::default(),
                None,
            )
            .verdict
        };
        let (strict, tolerant) = (verdict(0), verdict(1));
        prop_assert!(
            strict == tolerant || (strict == Verdict::Rollback && tolerant == Verdict::Hold),
            "failure limit 0: {:?}, 1: {:?}", strict, tolerant
        );
    }

    /// The selection a counted metric uses gives the sorted median, odd and even lengths,
    /// ties included.
    #[test]
    fn the_median_by_selection_is_the_sorted_median(v in proptest::collection::vec(-50i32..50, 0..40)) {
        let mut a: Vec<f64> = v.iter().map(|x| *x as f64 / 4.0).collect();
        let (sorted, _) = clean_sorted(&a);
        prop_assert_eq!(median_unsorted(&mut a), median_sorted(&sorted));
    }
}

#[test]
fn a_breach_too_young_for_the_comparison_is_rollback_and_a_passed_spike_is_not() {
    // A slice 75 s old (points every 15 s, the first before its traffic): every point beyond
    // the 330 ms bound, both windows failing, the baseline at 170 ms: ROLLBACK before the
    // ten samples the comparison needs.
    let spec = MetricSpec::max("latency_p99_ms", 330.0).failure_limit(1);
    let baseline: Vec<f64> = (0..20).map(|i| 165.0 + i as f64).collect();
    let judged = |canary: Vec<f64>, windows: Vec<f64>| {
        let samples = MetricSamples {
            window_steps: 4,
            ..MetricSamples::new(canary, baseline.clone(), windows)
        };
        judge(&[(spec.clone(), samples)], &Policy::default(), None)
    };
    // Young and breaching throughout; then the same windows failing but the last points
    // back inside: a spike that passed.
    let cases = [
        (
            vec![f64::NAN, 400.0, 410.0, 405.0, 420.0, 415.0],
            vec![405.0, 413.0],
            MetricOutcome::Breach,
            Verdict::Rollback,
        ),
        (
            vec![f64::NAN, 400.0, 410.0, 405.0, 300.0, 180.0],
            vec![405.0, 340.0],
            MetricOutcome::NoData,
            Verdict::Hold,
        ),
        // The first point, a rate over a few requests, inside; the seven since beyond (more
        // than a passing spike fills): ROLLBACK without waiting for it to leave the windows.
        (
            vec![
                f64::NAN,
                300.0,
                400.0,
                410.0,
                405.0,
                420.0,
                415.0,
                430.0,
                425.0,
            ],
            vec![379.0, 418.0],
            MetricOutcome::Breach,
            Verdict::Rollback,
        ),
        // Six beyond after it: a spike of half a window can fill that many. Not yet.
        (
            vec![f64::NAN, 300.0, 400.0, 410.0, 405.0, 420.0, 415.0, 430.0],
            vec![379.0, 420.0],
            MetricOutcome::NoData,
            Verdict::Hold,
        ),
    ];
    for (canary, windows, outcome, verdict) in cases {
        let j = judged(canary, windows);
        assert_eq!(j.metrics[0].outcome, outcome, "{}", j.metrics[0].reason);
        assert_eq!(j.verdict, verdict);
    }
    // With `failure_limit = 0` no breaching window is tolerated, a spike's neither: a window of
    // points beyond (four) is ROLLBACK, where the default waits for more than a spike fills.
    let window_beyond = vec![f64::NAN, 300.0, 300.0, 410.0, 405.0, 420.0, 415.0];
    let strict = MetricSamples {
        window_steps: 4,
        ..MetricSamples::new(window_beyond.clone(), baseline.clone(), vec![360.0, 417.5])
    };
    for (limit, outcome, verdict) in [
        (0, MetricOutcome::Breach, Verdict::Rollback),
        (1, MetricOutcome::NoData, Verdict::Hold),
    ] {
        let spec = MetricSpec::max("latency_p99_ms", 330.0).failure_limit(limit);
        let j = judge(&[(spec, strict.clone())], &Policy::default(), None);
        assert_eq!(
            j.metrics[0].outcome, outcome,
            "{limit}: {}",
            j.metrics[0].reason
        );
        assert_eq!(j.verdict, verdict, "{limit}");
    }
    // Three beyond is not a window's worth: HOLD even then.
    let three = MetricSamples {
        window_steps: 4,
        ..MetricSamples::new(
            window_beyond[..6].to_vec(),
            baseline.clone(),
            vec![360.0, 411.7],
        )
    };
    let spec = MetricSpec::max("latency_p99_ms", 330.0).failure_limit(0);
    let j = judge(&[(spec, three)], &Policy::default(), None);
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.metrics[0].reason);
}

#[test]
fn evidence_carries_across_slices_and_a_late_onset_is_still_seen() {
    // 10 % then 25 %: healthy throughout. The current slice's 50 requests do not show the
    // canary under the bound on their own: HOLD, saying what the rollout's counts show and
    // what this slice still needs (a change that came with this slice would be in no
    // earlier step). Once its own requests show it, PROCEED on both.
    let mut steps = vec![(40.0, 0.0, 40.0, 0.1); 30];
    steps.extend([(10.0, 0.0, 10.0, 0.0); 5]);
    let j = judge_counted(counted(&steps, Some(5)));
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.metrics[0].reason);
    assert!(
        j.metrics[0]
            .reason
            .contains("in this slice (0 in 1,250 requests")
            && j.metrics[0].reason.contains("since the rollout began"),
        "{}",
        j.metrics[0].reason
    );
    steps.extend([(100.0, 0.0, 100.0, 0.0); 15]);
    let j = judge_counted(counted(&steps, Some(20)));
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
    assert!(j.metrics[0].reason.contains("since the rollout began"));
    // Healthy for 30 steps, then the current slice breaks: seen in the slice alone.
    let mut steps = vec![(100.0, 0.0, 100.0, 0.1); 30];
    steps.extend([(100.0, 5.0, 100.0, 0.1); 8]);
    let j = judge_counted(counted(&steps, Some(8)));
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // The reason tells the finding by the span that proves it: the slice's counts, not the
    // rollout's, where the slices before dilute it.
    assert!(
        j.metrics[0]
            .reason
            .contains("40 in 800 requests (5.00 %) in this slice > max"),
        "{}",
        j.metrics[0].reason
    );
}

#[test]
fn a_finding_the_slice_proves_is_told_by_the_slices_counts() {
    // Healthy at 0.1 % for 30 steps, then the current slice at 0.4 % (under the 0.5 % bound),
    // the stable's past at 0.1 % too: proven in the slice. The rollout's counts (0.27 %) dilute
    // it; the reason gives the slice's.
    let mut steps = vec![(100.0, 0.1, 900.0, 0.9); 30];
    steps.extend([(500.0, 2.0, 500.0, 0.5); 8]);
    let j = judge_counted(MetricSamples {
        prior: Some((60_000.0, 60.0)),
        ..counted(&steps, Some(8))
    });
    let reason = &j.metrics[0].reason;
    assert_eq!(j.verdict, Verdict::Rollback, "{reason}");
    assert!(
        reason.contains("16 in 4,000 requests (0.40 %) in this slice"),
        "{reason}"
    );
}

#[test]
fn a_late_onset_in_the_current_slice_is_seen_alone() {
    let mut rng = Rng::new(11);
    let baseline = rng.draw(340, |u| 170.0 + 20.0 * u);
    let mut canary = rng.draw(300, |u| 170.0 + 20.0 * u);
    canary.extend(rng.draw(40, |u| 250.0 + 20.0 * u));
    let samples = MetricSamples {
        slice: Some((40, 40)),
        ..MetricSamples::new(canary.clone(), baseline.clone(), vec![])
    };
    let spec = MetricSpec::new("p99_ms");
    let j = judge(&[(spec.clone(), samples)], &Policy::default(), None);
    let m = &j.metrics[0];
    assert_eq!(m.outcome, MetricOutcome::Worse, "{}", m.reason);
    assert!(
        m.reason.starts_with("in this slice alone: "),
        "{}",
        m.reason
    );
    // Without the slice marked, the whole span hides it.
    let whole = judge(
        &[(spec, MetricSamples::new(canary, baseline, vec![]))],
        &Policy::default(),
        None,
    );
    assert_eq!(
        whole.metrics[0].outcome,
        MetricOutcome::Pass,
        "{}",
        whole.metrics[0].reason
    );
}

#[test]
fn a_spike_that_has_stopped_holds_and_does_not_roll_back() {
    let mut steps = vec![(100.0, 0.0, 100.0, 0.1); 10];
    steps.extend([(100.0, 20.0, 100.0, 0.1); 3]);
    steps.extend([(100.0, 0.0, 100.0, 0.1); 10]);
    let j = judge_counted(counted(&steps, None));
    assert_eq!(
        j.metrics[0].outcome,
        MetricOutcome::Borderline,
        "{}",
        j.metrics[0].reason
    );
    assert_eq!(j.verdict, Verdict::Hold);
    assert!(
        j.metrics[0].reason.contains("back to"),
        "{}",
        j.metrics[0].reason
    );
}

// ---------------------------------------------------------------- Mann–Whitney

#[test]
fn mann_whitney_textbook_example() {
    // Classic example: U = min(17, 3) = 3.
    let a = [19.0, 22.0, 16.0, 29.0, 24.0];
    let b = [20.0, 11.0, 17.0, 12.0];
    let mw = mann_whitney_u(&a, &b).expect("non-empty samples");
    assert_eq!(mw.u, 17.0);
    assert_eq!(mw.u_min(), 3.0);
    assert_eq!((mw.n_a, mw.n_b), (5, 4));
    // σ = sqrt(5·4·10/12); z = (17 − 10 − 0.5)/σ = 1.5922; R: wilcox.test(exact=FALSE) p = 0.1113.
    assert!(close(mw.z, 1.592_168, 1e-5), "z = {}", mw.z);
    assert!(close(mw.p_value, 0.111_37, 1e-4), "p = {}", mw.p_value);
    assert!(close(mw.rank_biserial, 0.7, 1e-12));
}

#[test]
fn mann_whitney_ties_use_average_ranks_and_tie_correction() {
    let a = [1.0, 2.0, 2.0, 3.0];
    let b = [2.0, 3.0, 3.0, 4.0];
    let mw = mann_whitney_u(&a, &b).expect("non-empty samples");
    assert_eq!(mw.u, brute_u(&a, &b));
    assert_eq!(mw.u, 3.0);
    // Ties: two runs of 3 → Σ(t³−t) = 48; var = 16/12·(9 − 48/56); z = −4.5/σ.
    let sigma = (16.0_f64 / 12.0 * (9.0 - 48.0 / 56.0)).sqrt();
    assert!(close(mw.z, -4.5 / sigma, 1e-12), "z = {}", mw.z);
    assert!(close(mw.p_value, 0.172_05, 1e-4), "p = {}", mw.p_value);
}

#[test]
fn mann_whitney_all_tied_is_no_evidence() {
    let mw = mann_whitney_u(&[5.0; 12], &[5.0; 7]).expect("non-empty samples");
    assert_eq!(mw.u, 42.0);
    assert_eq!(mw.z, 0.0);
    assert_eq!(mw.p_value, 1.0);
    assert_eq!(mw.rank_biserial, 0.0);
}

#[test]
fn mann_whitney_complete_separation_is_significant() {
    let a: Vec<f64> = (0..20).map(|i| 100.0 + i as f64).collect();
    let b: Vec<f64> = (0..20).map(|i| i as f64).collect();
    let mw = mann_whitney_u(&a, &b).expect("non-empty samples");
    assert_eq!(mw.u, 400.0);
    assert_eq!(mw.rank_biserial, 1.0);
    assert!(mw.p_value < 1e-6, "p = {}", mw.p_value);
    // Two groups each of one distinct value still separate (no Kayenta noise hack needed).
    let mw = mann_whitney_u(&[3.0; 10], &[1.0; 10]).expect("non-empty samples");
    assert!(mw.p_value < 1e-4, "p = {}", mw.p_value);
}

#[test]
fn mann_whitney_ignores_non_finite_and_needs_data() {
    assert!(mann_whitney_u(&[], &[1.0]).is_none());
    assert!(mann_whitney_u(&[f64::NAN, f64::INFINITY], &[1.0]).is_none());
    let mw = mann_whitney_u(&[1.0, f64::NAN, 3.0], &[2.0, f64::NEG_INFINITY])
        .expect("finite values left");
    assert_eq!((mw.n_a, mw.n_b), (2, 1));
    assert_eq!(mw.u, 1.0);
}

#[test]
fn normal_helpers_match_known_values() {
    assert!(close(norm_quantile(0.975), 1.959_963_985, 1e-8));
    assert!(close(norm_quantile(0.5), 0.0, 1e-12));
    assert!(close(norm_quantile(0.001), -3.090_232_306, 1e-7));
    assert!(close(two_sided_p(1.959_963_985), 0.05, 1e-6));
    assert!(close(two_sided_p(0.0), 1.0, 1e-6));
    assert!(close(two_sided_p(-3.290_526_731), 0.001, 1e-6));
}

// ---------------------------------------------------------------- Hodges–Lehmann

fn brute_hl(a: &[f64], b: &[f64], confidence: f64) -> (f64, f64, f64) {
    let mut d: Vec<f64> = a
        .iter()
        .flat_map(|x| b.iter().map(move |y| x - y))
        .collect();
    d.sort_by(f64::total_cmp);
    let n = d.len();
    let est = if n % 2 == 1 {
        d[n / 2]
    } else {
        d[n / 2 - 1] / 2.0 + d[n / 2] / 2.0
    };
    let (sa, _) = clean_sorted(a);
    let (sb, _) = clean_sorted(b);
    let (_, sigma) = mann_whitney_sorted(&sa, &sb).expect("non-empty samples");
    let k = ci_rank(a.len(), b.len(), sigma, confidence).min(n.div_ceil(2));
    (est, d[k - 1], d[n - k])
}

#[test]
fn hodges_lehmann_known_shift() {
    let b: Vec<f64> = (0..30).map(|i| i as f64).collect();
    let a: Vec<f64> = b.iter().map(|x| x + 10.0).collect();
    let s = hodges_lehmann(&a, &b, 0.95).expect("non-empty samples");
    assert_eq!(s.estimate, 10.0);
    assert!(s.lower < 10.0 && s.upper > 10.0);
    assert!(
        close(s.lower - 10.0, 10.0 - s.upper, 1e-12),
        "symmetric: {s:?}"
    );
    let (e, lo, hi) = brute_hl(&a, &b, 0.95);
    assert_eq!((s.estimate, s.lower, s.upper), (e, lo, hi));
}

#[test]
fn hodges_lehmann_large_samples_match_brute_force() {
    let mut rng = Rng::new(7);
    let a = rng.draw(360, |u| 200.0 + 40.0 * u * u);
    let b = rng.draw(300, |u| 195.0 + 50.0 * u);
    let s = hodges_lehmann(&a, &b, 0.95).expect("non-empty samples");
    let (e, lo, hi) = brute_hl(&a, &b, 0.95);
    assert_eq!((s.estimate, s.lower, s.upper), (e, lo, hi));
    // Heavy ties: error rates that are mostly exactly 0.
    let a = rng.draw(360, |u| if u < 0.7 { 0.0 } else { 0.01 });
    let b = rng.draw(360, |u| if u < 0.8 { 0.0 } else { 0.01 });
    let s = hodges_lehmann(&a, &b, 0.95).expect("non-empty samples");
    let (e, lo, hi) = brute_hl(&a, &b, 0.95);
    assert_eq!((s.estimate, s.lower, s.upper), (e, lo, hi));
}

#[test]
fn hodges_lehmann_large_awkward_samples_match_brute_force() {
    let mut rng = Rng::new(21);
    let cases: Vec<(Vec<f64>, Vec<f64>)> = vec![
        // Skewed (exponential) with a scale change.
        (
            rng.draw(400, |u| -300.0 * (1.0 - u).ln()),
            rng.draw(350, |u| -100.0 * (1.0 - u).ln()),
        ),
        // Bimodal canary against a unimodal baseline.
        (
            rng.draw(360, |u| if u < 0.3 { 900.0 + u } else { 100.0 * u }),
            rng.draw(360, |u| 50.0 + 10.0 * u),
        ),
        // Complete separation.
        (rng.draw(300, |u| 1e6 + u), rng.draw(300, |u| u)),
        // Lopsided sizes and coarse ties.
        (
            rng.draw(2, |u| (u * 4.0).floor()),
            rng.draw(500, |u| (u * 4.0).floor()),
        ),
        (
            rng.draw(500, |u| (u * 8.0).floor() / 8.0),
            rng.draw(3, |u| u),
        ),
        // Tiny values (error rates), mostly equal.
        (
            rng.draw(360, |u| {
                if u < 0.5 {
                    0.0
                } else {
                    0.0001 * (u * 3.0).floor()
                }
            }),
            rng.draw(360, |u| {
                if u < 0.6 {
                    0.0
                } else {
                    0.0001 * (u * 3.0).floor()
                }
            }),
        ),
    ];
    for (i, (a, b)) in cases.iter().enumerate() {
        for conf in [0.9, 0.95, 0.999] {
            let s = hodges_lehmann(a, b, conf).expect("non-empty samples");
            let (e, lo, hi) = brute_hl(a, b, conf);
            assert_eq!(
                (s.estimate, s.lower, s.upper),
                (e, lo, hi),
                "case {i}, {conf}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Larger samples, where the bracket search (not just the final selection) does the work.
    #[test]
    fn prop_hodges_lehmann_large_matches_brute_force(
        seed in any::<u64>(),
        na in 60usize..300,
        nb in 60usize..300,
        shift in -50.0f64..50.0,
        skew in any::<bool>(),
    ) {
        let mut rng = Rng::new(seed);
        let f = |u: f64| if skew { -20.0 * (1.0 - u).ln() } else { 40.0 * u };
        let a: Vec<f64> = rng.draw(na, f).iter().map(|v| v + shift).collect();
        let b = rng.draw(nb, f);
        let s = hodges_lehmann(&a, &b, 0.95).expect("non-empty");
        let (e, lo, hi) = brute_hl(&a, &b, 0.95);
        prop_assert_eq!((s.estimate, s.lower, s.upper), (e, lo, hi));
    }
}

proptest! {
    #[test]
    fn prop_mann_whitney_symmetric_and_bounded(
        a in proptest::collection::vec(0u8..20, 1..40),
        b in proptest::collection::vec(0u8..20, 1..40),
    ) {
        let a: Vec<f64> = a.into_iter().map(f64::from).collect();
        let b: Vec<f64> = b.into_iter().map(f64::from).collect();
        let ab = mann_whitney_u(&a, &b).expect("non-empty");
        let ba = mann_whitney_u(&b, &a).expect("non-empty");
        prop_assert_eq!(ab.u, brute_u(&a, &b));
        prop_assert_eq!(ab.u + ba.u, (a.len() * b.len()) as f64);
        prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
        prop_assert!((ab.z + ba.z).abs() < 1e-12);
        prop_assert!((ab.rank_biserial + ba.rank_biserial).abs() < 1e-12);
        prop_assert!((0.0..=1.0).contains(&ab.p_value));
        prop_assert!((-1.0..=1.0).contains(&ab.rank_biserial));
    }

    #[test]
    fn prop_hodges_lehmann_matches_brute_force(
        a in proptest::collection::vec(-50i16..50, 1..60),
        b in proptest::collection::vec(-50i16..50, 1..60),
        conf in prop_oneof![Just(0.8), Just(0.95), Just(0.99)],
    ) {
        let a: Vec<f64> = a.into_iter().map(|v| f64::from(v) / 4.0).collect();
        let b: Vec<f64> = b.into_iter().map(|v| f64::from(v) / 4.0).collect();
        let s = hodges_lehmann(&a, &b, conf).expect("non-empty");
        let (e, lo, hi) = brute_hl(&a, &b, conf);
        prop_assert_eq!((s.estimate, s.lower, s.upper), (e, lo, hi));
        prop_assert!(s.lower <= s.estimate && s.estimate <= s.upper);
    }
}

// ---------------------------------------------------------------- verdicts

proptest! {
    /// Two samples from one distribution never roll back. The noise (9 % of the level) stays inside the
    /// 10 % tolerance, so no shift can be practically significant; bounds are either absent, clear of
    /// the distribution, or crossed by both groups (degraded baseline → HOLD).
    #[test]
    fn prop_identical_distributions_never_roll_back(
        seed in any::<u64>(),
        n in 10usize..200,
        level in prop_oneof![Just(0.002), Just(0.3), Just(250.0), Just(0.995)],
        lower_is_worse in any::<bool>(),
        bound in 0u8..3,
    ) {
        let mut rng = Rng::new(seed);
        let canary = rng.draw(n, |u| level * (1.0 + 0.09 * u));
        let baseline = rng.draw(n, |u| level * (1.0 + 0.09 * u));
        let windows = rng.draw(5, |u| level * (1.0 + 0.09 * u));
        let spec = match (lower_is_worse, bound) {
            (false, 0) | (true, 0) => MetricSpec::new("metric_ms"),
            (false, 1) => MetricSpec::max("metric_ms", level * 2.0),
            (false, _) => MetricSpec::max("metric_ms", level * 0.5),
            (true, 1) => MetricSpec::min("metric_ms", level * 0.5),
            (true, _) => MetricSpec::min("metric_ms", level * 2.0),
        }
        .direction(if lower_is_worse { Direction::LowerIsWorse } else { Direction::HigherIsWorse });
        let j = one(spec, MetricSamples::new(canary, baseline, windows));
        prop_assert_ne!(j.verdict, Verdict::Rollback, "{}", j.summary);
        if bound == 2 {
            prop_assert_eq!(j.verdict, Verdict::Hold, "{}", j.summary);
            prop_assert!(j.reasons.iter().any(|r| r.contains("baseline also breaches")), "{:?}", j.reasons);
        } else {
            prop_assert_eq!(j.verdict, Verdict::Proceed, "{}", j.summary);
        }
    }

    /// The same samples on both sides: p = 1, no shift, PROCEED.
    #[test]
    fn prop_same_samples_proceed(seed in any::<u64>(), n in 10usize..200) {
        let mut rng = Rng::new(seed);
        let values = rng.draw(n, |u| 0.001 + 0.01 * u * u);
        let spec = MetricSpec::max("error_rate", 0.05);
        let j = one(spec, MetricSamples::new(values.clone(), values.clone(), values[..4].to_vec()));
        prop_assert_eq!(j.verdict, Verdict::Proceed, "{}", j.summary);
        prop_assert_eq!(j.metrics[0].p_value, Some(1.0));
        prop_assert_eq!(j.metrics[0].shift, None);
        prop_assert!(j.metrics[0].reason.contains("p = 1.00 (n"), "{}", j.metrics[0].reason);
        prop_assert!(
            j.metrics[0].reason.contains("no significant difference at α = 0.0500"),
            "{}",
            j.metrics[0].reason
        );
    }

    /// canary = 3 × baseline + offset, above max: always ROLLBACK.
    #[test]
    fn prop_large_shift_rolls_back(
        seed in any::<u64>(),
        n in 10usize..200,
        latency in any::<bool>(),
    ) {
        let mut rng = Rng::new(seed);
        let (spec, base, spread, offset) = if latency {
            (MetricSpec::max("p99_ms", 400.0), 150.0, 100.0, 200.0)
        } else {
            (MetricSpec::max("error_rate", 0.005), 0.001, 0.002, 0.01)
        };
        let baseline = rng.draw(n, |u| base + spread * u);
        let canary: Vec<f64> = rng.draw(n, |u| base + spread * u).iter().map(|b| 3.0 * b + offset).collect();
        let windows = canary[canary.len() - 4..].to_vec();
        let j = one(spec.failure_limit(1), MetricSamples::new(canary, baseline, windows));
        prop_assert_eq!(j.verdict, Verdict::Rollback, "{}", j.summary);
        prop_assert_eq!(j.metrics[0].outcome, MetricOutcome::Breach);
        prop_assert_eq!(j.metrics[0].result, MetricResult::High);
        prop_assert_eq!(j.score, 0.0);
    }
}

/// With noise far wider than the tolerance, significance by chance is possible; requiring the whole
/// interval beyond the tolerance keeps false rollbacks well under α.
#[test]
fn heavy_noise_false_rollbacks_stay_rare() {
    let mut rollbacks = 0;
    for seed in 0..300u64 {
        let mut rng = Rng::new(seed);
        let n = 20 + (seed as usize % 7) * 30;
        let draw = |rng: &mut Rng| rng.draw(n, |u| 200.0 * -(1.0 - u).ln());
        let (canary, baseline) = (draw(&mut rng), draw(&mut rng));
        let j = one(
            MetricSpec::new("latency_ms"),
            MetricSamples::new(canary, baseline, vec![]),
        );
        if j.verdict == Verdict::Rollback {
            rollbacks += 1;
        }
    }
    assert!(
        rollbacks <= 15,
        "{rollbacks} false rollbacks out of 300 (α = 5 %)"
    );
}

#[test]
fn nan_only_canary_holds_with_no_data() {
    let spec = MetricSpec::max("error_rate", 0.005);
    let samples = MetricSamples::new(vec![f64::NAN; 30], vec![0.001; 30], vec![f64::NAN; 4]);
    let j = one(spec, samples);
    assert_eq!(j.verdict, Verdict::Hold);
    assert_eq!(j.score, 0.0);
    let m = &j.metrics[0];
    assert_eq!(m.outcome, MetricOutcome::NoData);
    assert_eq!(m.result, MetricResult::NoData);
    assert_eq!(m.samples, (0, 30));
    assert_eq!(m.dropped_nan, (30, 0));
    assert_eq!(m.inconclusive_windows, 4);
    assert_eq!(m.threshold_breaches, 0);
    assert!(j.reasons[0].contains("no data"), "{:?}", j.reasons);
    assert!(j.reasons[0].contains("30 NaN dropped"), "{:?}", j.reasons);
    assert!(j.summary.starts_with("HOLD"), "{}", j.summary);
}

#[test]
fn empty_metrics_hold() {
    let j = judge(&[], &Policy::default(), Some(1000.0));
    assert_eq!(j.verdict, Verdict::Hold);
    assert_eq!(j.score, 0.0);
    assert_eq!(j.band, Band::Block);
    assert_eq!(j.reasons, vec!["no metrics to judge".to_string()]);
}

#[test]
fn too_few_samples_hold_even_when_windows_breach() {
    let spec = MetricSpec::max("error_rate", 0.005);
    let samples = MetricSamples::new(vec![0.05; 5], vec![0.001; 5], vec![0.05; 4]);
    let j = one(spec, samples);
    assert_eq!(j.verdict, Verdict::Hold);
    assert_eq!(j.metrics[0].outcome, MetricOutcome::NoData);
    assert!(
        j.reasons[0].contains("need at least 10 each"),
        "{:?}",
        j.reasons
    );
    assert!(
        j.reasons[0].contains("4 of the last 4 windows"),
        "{:?}",
        j.reasons
    );
}

#[test]
fn degraded_baseline_holds_not_rollback() {
    // A shared incident: both groups at ~2.5 % errors against a 0.5 % max.
    let mut rng = Rng::new(11);
    let baseline = rng.draw(60, |u| 0.024 + 0.002 * u);
    let canary = rng.draw(60, |u| 0.024 + 0.002 * u);
    let windows = canary[..4].to_vec();
    let j = one(
        MetricSpec::max("error_rate", 0.005),
        MetricSamples::new(canary, baseline, windows),
    );
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.summary);
    let m = &j.metrics[0];
    assert!(m.threshold_failed && m.baseline_breaches);
    assert_eq!(m.outcome, MetricOutcome::SharedBreach);
    assert!(
        j.reasons[0].contains("baseline also breaches (median 2."),
        "{:?}",
        j.reasons
    );
    assert!(j.reasons[0].contains("> max 0.50 %"), "{:?}", j.reasons);
}

#[test]
fn degraded_baseline_with_a_much_worse_canary_rolls_back() {
    let mut rng = Rng::new(12);
    let baseline = rng.draw(60, |u| 0.010 + 0.002 * u);
    let canary = rng.draw(60, |u| 0.060 + 0.010 * u);
    let windows = canary[..4].to_vec();
    let j = one(
        MetricSpec::max("error_rate", 0.005),
        MetricSamples::new(canary, baseline, windows),
    );
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.summary);
    assert_eq!(j.metrics[0].outcome, MetricOutcome::Breach);
    assert!(
        j.reasons[0].contains("baseline breaches too"),
        "{:?}",
        j.reasons
    );
}

#[test]
fn failure_limit_is_strictly_greater() {
    let mut rng = Rng::new(3);
    let baseline = rng.draw(40, |u| 0.001 + 0.001 * u);
    let canary = rng.draw(40, |u| 0.0015 + 0.001 * u);
    // Two breaching windows out of five.
    let windows = vec![0.002, 0.009, 0.001, 0.008, 0.002];
    let samples = MetricSamples::new(canary, baseline, windows);
    let within = one(
        MetricSpec::max("error_rate", 0.005).failure_limit(2),
        samples.clone(),
    );
    let m = &within.metrics[0];
    assert_eq!((m.threshold_breaches, m.windows), (2, 5));
    assert!(!m.threshold_failed);
    assert_eq!(within.verdict, Verdict::Proceed, "{}", within.summary);
    assert!(m.reason.contains("within failure limit 2"), "{}", m.reason);

    let over = one(
        MetricSpec::max("error_rate", 0.005).failure_limit(1),
        samples,
    );
    let m = &over.metrics[0];
    assert!(m.threshold_failed);
    // The score line stays among the reasons.
    assert!(
        over.reasons
            .iter()
            .any(|r| r.starts_with("score 0.00 (its one metric with data does not pass")),
        "{:?}",
        over.reasons
    );
    assert_eq!(m.worst_window, Some(0.009));
    // Two spiky windows while the canary's median stays within tolerance of its baseline's:
    // borderline, for a human, not a rollback.
    assert_eq!(m.outcome, MetricOutcome::Borderline);
    assert_eq!(over.verdict, Verdict::Hold, "{}", over.summary);
    assert!(
        m.reason.starts_with(
            "error_rate 0.90 % > max 0.50 % in 2 of the last 5 windows (failure limit 1)"
        ),
        "{}",
        m.reason
    );
}

#[test]
fn one_window_is_worded_as_one() {
    // A threshold checked on one window says so, within its bound or beyond it: not "all 1
    // conclusive windows", nor "1 of the last 1 windows".
    let mut rng = Rng::new(5);
    let baseline = rng.draw(40, |u| 180.0 + 10.0 * u);
    let canary = rng.draw(40, |u| 180.0 + 10.0 * u);
    let within = one(
        MetricSpec::max("p99_ms", 500.0),
        MetricSamples::new(canary.clone(), baseline.clone(), vec![185.0]),
    );
    assert!(
        within.metrics[0]
            .reason
            .starts_with("p99_ms within max 500 ms in its one conclusive window;"),
        "{}",
        within.metrics[0].reason
    );
    let beyond = one(
        MetricSpec::max("p99_ms", 500.0),
        MetricSamples::new(canary, baseline, vec![620.0]),
    );
    assert!(
        beyond.metrics[0].reason.contains("in the last window ("),
        "{}",
        beyond.metrics[0].reason
    );
    assert!(!beyond.metrics[0].reason.contains("of the last 1"));
    // …and so does the score over one metric with data.
    assert!(
        beyond
            .reasons
            .iter()
            .any(|r| r.contains("(its one metric with data does not pass, weighted;")),
        "{:?}",
        beyond.reasons
    );
}

#[test]
fn inconclusive_windows_are_not_breaches() {
    let mut rng = Rng::new(4);
    let baseline = rng.draw(40, |u| 0.001 + 0.001 * u);
    let canary = rng.draw(40, |u| 0.001 + 0.001 * u);
    let windows = vec![f64::NAN, 0.001, f64::INFINITY, 0.002];
    let j = one(
        MetricSpec::max("error_rate", 0.005),
        MetricSamples::new(canary.clone(), baseline.clone(), windows),
    );
    let m = &j.metrics[0];
    assert_eq!((m.threshold_breaches, m.inconclusive_windows), (0, 2));
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.summary);
    assert!(
        m.reason
            .contains("in all 2 conclusive windows (2 inconclusive)"),
        "{}",
        m.reason
    );

    // Only inconclusive windows: the threshold cannot be checked → no data → HOLD.
    let j = one(
        MetricSpec::max("error_rate", 0.005),
        MetricSamples::new(canary, baseline, vec![f64::NAN; 3]),
    );
    assert_eq!(j.metrics[0].outcome, MetricOutcome::NoData);
    assert_eq!(j.verdict, Verdict::Hold);
    assert!(
        j.reasons[0].contains("no conclusive window to check max 0.50 %"),
        "{:?}",
        j.reasons
    );
}

#[test]
fn min_bound_lower_is_worse() {
    let mut rng = Rng::new(5);
    let baseline = rng.draw(60, |u| 0.998 + 0.002 * u);
    let bad = rng.draw(60, |u| 0.94 + 0.02 * u);
    let spec = MetricSpec::min("success_rate", 0.99).tolerance(0.002);
    assert_eq!(spec.direction, Direction::LowerIsWorse);
    let j = one(
        spec.clone(),
        MetricSamples::new(bad.clone(), baseline.clone(), bad[..4].to_vec()),
    );
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.summary);
    let m = &j.metrics[0];
    assert_eq!(m.result, MetricResult::Low);
    assert!(m.is_worse());
    assert!(
        m.reason
            .contains("< min 99.00 % in 4 of the last 4 windows"),
        "{}",
        m.reason
    );

    let good = rng.draw(60, |u| 0.998 + 0.002 * u);
    let j = one(
        spec,
        MetricSamples::new(good.clone(), baseline, good[..4].to_vec()),
    );
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.summary);
}

#[test]
fn borderline_threshold_failure_holds() {
    // Baseline just inside max, canary's windows just over it, canary median no worse: a human's call.
    let baseline: Vec<f64> = (0..40).map(|i| 0.0046 + 0.0001 * (i % 5) as f64).collect();
    let canary: Vec<f64> = (0..40).map(|i| 0.0045 + 0.0001 * (i % 5) as f64).collect();
    let windows = vec![0.0051, 0.0052, 0.0049];
    let j = one(
        MetricSpec::max("error_rate", 0.005),
        MetricSamples::new(canary, baseline, windows),
    );
    assert_eq!(j.metrics[0].outcome, MetricOutcome::Borderline);
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.summary);
    assert!(
        j.reasons[0].contains("no worse than baseline 0.48 %"),
        "{:?}",
        j.reasons
    );
}

#[test]
fn better_than_baseline_passes() {
    let mut rng = Rng::new(6);
    let baseline = rng.draw(60, |u| 300.0 + 20.0 * u);
    let canary = rng.draw(60, |u| 200.0 + 20.0 * u);
    let j = one(
        MetricSpec::max("latency_ms", 500.0),
        MetricSamples::new(canary.clone(), baseline, canary[..4].to_vec()),
    );
    let m = &j.metrics[0];
    assert_eq!(m.result, MetricResult::Low);
    assert!(!m.is_worse());
    assert_eq!(m.outcome, MetricOutcome::Pass);
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.summary);
    assert!(m.reason.contains("significantly better"), "{}", m.reason);
}

#[test]
fn zero_baseline_uses_the_absolute_floor() {
    // Baseline error rate exactly 0; canary 0.02 %: significant, but below the 0.1 pp floor.
    let baseline = vec![0.0; 60];
    let canary: Vec<f64> = (0..60).map(|i| 0.0002 + 0.00001 * (i % 3) as f64).collect();
    let j = one(
        MetricSpec::max("error_rate", 0.005),
        MetricSamples::new(canary.clone(), baseline.clone(), canary[..4].to_vec()),
    );
    let m = &j.metrics[0];
    assert_eq!(m.ratio, None);
    assert_eq!(m.allowed_shift, Some(0.001));
    assert!(m.p_value.is_some_and(|p| p < 0.001));
    assert_eq!(m.result, MetricResult::Pass);
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.summary);
    assert!(
        m.reason.contains("canary 0.02 % vs baseline 0.00 %"),
        "{}",
        m.reason
    );

    // Beyond the floor it is High, and with one metric the score falls to 0: ROLLBACK.
    let canary: Vec<f64> = (0..60).map(|i| 0.003 + 0.0001 * (i % 3) as f64).collect();
    let j = one(
        MetricSpec::max("error_rate", 0.005),
        MetricSamples::new(canary.clone(), baseline, canary[..4].to_vec()),
    );
    assert_eq!(j.metrics[0].outcome, MetricOutcome::Worse);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.summary);
}

fn latency(seed: u64, level: f64) -> MetricSamples {
    let mut rng = Rng::new(seed);
    let baseline = rng.draw(60, |u| 200.0 + 10.0 * u);
    let canary = rng.draw(60, |u| level + 10.0 * u);
    let windows = canary[..4].to_vec();
    MetricSamples::new(canary, baseline, windows)
}

#[test]
fn bands_have_inclusive_lower_edges() {
    let p = Policy::default();
    assert_eq!(p.band(1.0), Band::Promote);
    assert_eq!(p.band(0.92), Band::Promote);
    assert_eq!(p.band(0.919_999), Band::Review);
    assert_eq!(p.band(0.75), Band::Review);
    assert_eq!(p.band(0.749_999), Band::Block);
    assert_eq!(p.band(0.0), Band::Block);
    let custom = Policy {
        promote_at: 0.8,
        review_at: 0.5,
        ..Policy::default()
    };
    assert_eq!(custom.band(0.8), Band::Promote);
    assert_eq!(custom.band(0.5), Band::Review);
}

#[test]
fn score_review_band_holds_and_block_band_rolls_back() {
    let spec = |i: usize| MetricSpec::max(format!("m{i}_latency_ms"), 1000.0);
    // 4 metrics, one significantly worse: score 0.75 → review → HOLD.
    let mut metrics: Vec<(MetricSpec, MetricSamples)> = (0..3)
        .map(|i| (spec(i), latency(i as u64, 200.0)))
        .collect();
    metrics.push((spec(3), latency(3, 300.0)));
    let j = judge(&metrics, &Policy::default(), None);
    assert_eq!(j.metrics[3].outcome, MetricOutcome::Worse);
    assert_eq!(j.score, 0.75);
    assert_eq!(j.band, Band::Review);
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.summary);
    assert!(
        j.reasons.iter().any(|r| r.contains("score 0.75 (3 of 4")),
        "{:?}",
        j.reasons
    );

    // Weight the worse metric less: 3 / 3.25 = 0.923 → promote band, but a worse metric still holds.
    metrics[3].0.weight = 0.25;
    let j = judge(&metrics, &Policy::default(), None);
    assert!(close(j.score, 3.0 / 3.25, 1e-12));
    assert_eq!(j.band, Band::Promote);
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.summary);

    // 3 metrics, one worse: 0.67 → block → ROLLBACK.
    metrics.remove(0);
    metrics[2].0.weight = 1.0;
    let j = judge(&metrics, &Policy::default(), None);
    assert!(close(j.score, 2.0 / 3.0, 1e-12));
    assert_eq!(j.band, Band::Block);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.summary);
}

#[test]
fn critical_metric_failing_zeroes_the_score() {
    let spec = |i: usize| MetricSpec::max(format!("m{i}_latency_ms"), 1000.0);
    let mut metrics: Vec<(MetricSpec, MetricSamples)> = (0..9)
        .map(|i| (spec(i), latency(i as u64, 200.0)))
        .collect();
    metrics.push((spec(9).critical(), latency(9, 300.0)));
    let j = judge(&metrics, &Policy::default(), None);
    assert_eq!(j.score, 0.0);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.summary);
    assert!(j.reasons[0].starts_with("critical: "), "{:?}", j.reasons);
    assert!(
        j.reasons
            .iter()
            .any(|r| r.contains("score 0: critical m9_latency_ms (worse"))
    );

    // A critical metric without data also zeroes the score, but only holds.
    metrics[9].1 = MetricSamples::new(vec![], vec![200.0; 30], vec![]);
    let j = judge(&metrics, &Policy::default(), None);
    assert_eq!(j.score, 0.0);
    assert_eq!(j.verdict, Verdict::Hold, "{}", j.summary);
}

#[test]
fn half_no_data_zeroes_the_score() {
    let spec = |i: usize| MetricSpec::max(format!("m{i}_latency_ms"), 1000.0);
    let metrics = vec![
        (spec(0), latency(0, 200.0)),
        (spec(1), MetricSamples::new(vec![], vec![], vec![])),
    ];
    let j = judge(&metrics, &Policy::default(), None);
    assert_eq!(j.score, 0.0);
    assert_eq!(j.verdict, Verdict::Hold);
}

#[test]
fn traffic_gates_the_verdict() {
    let policy = Policy {
        min_traffic: Some(50.0),
        ..Policy::default()
    };
    let healthy = vec![(MetricSpec::max("p99_ms", 500.0), latency(1, 200.0))];
    let j = judge(&healthy, &policy, Some(12.0));
    assert_eq!(j.verdict, Verdict::Hold);
    assert_eq!(j.reasons[0], "not enough traffic: 12.0 < min 50.0");
    let j = judge(&healthy, &policy, None);
    assert_eq!(j.verdict, Verdict::Hold);
    assert!(j.reasons[0].starts_with("traffic unknown"));
    let j = judge(&healthy, &policy, Some(f64::NAN));
    assert_eq!(j.verdict, Verdict::Hold);
    let j = judge(&healthy, &policy, Some(80.0));
    assert_eq!(j.verdict, Verdict::Proceed, "{}", j.summary);
    assert!(j.reasons.iter().any(|r| r == "traffic 80.0 ≥ min 50.0"));

    // A clear regression on a trickle of traffic is still HOLD, with the evidence listed.
    let bad = vec![(
        MetricSpec::max("error_rate", 0.005).failure_limit(1),
        error_rate_case(2, 0.026),
    )];
    let j = judge(&bad, &policy, Some(12.0));
    assert_eq!(j.verdict, Verdict::Hold);
    assert!(
        j.reasons
            .iter()
            .any(|r| r.starts_with("would roll back: error_rate"))
    );
}

#[test]
fn reason_carries_the_numbers() {
    let mut samples = error_rate_case(1, 0.026);
    samples.windows = vec![0.004, 0.026, 0.028, 0.025];
    let j = one(
        MetricSpec::max("error_rate", 0.005).failure_limit(1),
        samples,
    );
    assert_eq!(j.verdict, Verdict::Rollback);
    let m = &j.metrics[0];
    let r = &j.reasons[0];
    assert_eq!(r, &m.reason);
    assert!(
        r.starts_with(
            "error_rate 2.80 % > max 0.50 % in 3 of the last 4 windows (failure limit 1); canary "
        ),
        "{r}"
    );
    let ratio = m.ratio.expect("baseline median is not 0");
    let base = m.baseline_median.expect("baseline has data");
    let (lo, hi) = m.ci.expect("enough samples");
    let canary = m.canary_median.expect("canary has data");
    for needle in [
        format!(
            "canary {:.2} % = {ratio:.1}× baseline {:.2} %",
            canary * 100.0,
            base * 100.0
        ),
        format!("shift +{:.2} %", m.shift.expect("enough samples") * 100.0),
        format!("(95 % CI +{:.2} % to +{:.2} %)", lo * 100.0, hi * 100.0),
        "beyond tolerance ±0.10 %".to_string(),
        "Mann-Whitney p < 0.001".to_string(),
        "(n 60/60, effect +1.00)".to_string(),
    ] {
        assert!(r.contains(&needle), "missing {needle:?} in {r}");
    }
    assert!(
        j.summary
            .starts_with("ROLLBACK · score 0.00 (block) · error_rate 2.80 %"),
        "{}",
        j.summary
    );
}

#[test]
fn proceed_reason_and_codes() {
    let j = one(MetricSpec::max("p99_ms", 500.0), latency(2, 200.0));
    assert_eq!(j.verdict, Verdict::Proceed);
    assert_eq!(j.score, 1.0);
    assert_eq!(j.band, Band::Promote);
    assert_eq!(
        j.reasons[0],
        "its one metric has data and passes; score 1.00 ≥ promote 0.92"
    );
    assert!(
        j.metrics[0]
            .reason
            .starts_with("p99_ms within max 500 ms in all 4 conclusive windows; canary 20")
    );
    assert_eq!(
        [Verdict::Proceed, Verdict::Hold, Verdict::Rollback].map(Verdict::exit_code),
        [0, 1, 2]
    );
    assert_eq!(
        [Verdict::Proceed, Verdict::Hold, Verdict::Rollback].map(Verdict::label),
        ["PROCEED", "HOLD", "ROLLBACK"]
    );
    let json = serde_json::to_value(&j).expect("serializable");
    assert_eq!(json["verdict"], "PROCEED");
    assert_eq!(json["band"], "promote");
}

#[test]
fn formatting_follows_unit_heuristics() {
    assert_eq!(Unit::guess("error_rate"), Unit::Percent);
    assert_eq!(Unit::guess("cache_hit_ratio"), Unit::Percent);
    assert_eq!(Unit::guess("CPU_percent"), Unit::Percent);
    assert_eq!(Unit::guess("p99_ms"), Unit::Millis);
    assert_eq!(Unit::guess("latency"), Unit::Millis);
    assert_eq!(Unit::guess("p95"), Unit::Millis);
    assert_eq!(Unit::guess("throughput"), Unit::Plain);
    assert_eq!(Unit::Percent.format(0.026), "2.60 %");
    assert_eq!(Unit::Millis.format(212.4), "212 ms");
    assert_eq!(Unit::Millis.format(8.54), "8.5 ms");
    assert_eq!(Unit::Plain.format(1234.5), "1234");
    assert_eq!(Unit::Plain.format(12.345), "12.3");
    assert_eq!(Unit::Plain.format(0.012345), "0.0123");
    assert_eq!(Unit::Plain.format(0.0), "0");
    assert_eq!(Unit::Plain.format(2.5e7), "2.50e7");
    assert_eq!(Unit::Percent.format_signed(0.0084), "+0.84 %");
    assert_eq!(Unit::Millis.format_signed(-12.0), "-12.0 ms");
    assert_eq!(format_p(0.0004), "p < 0.001");
    assert_eq!(format_p(0.004), "p = 0.004");
    assert_eq!(format_p(0.031), "p = 0.03");
    assert_eq!(fmt_ratio(16.6), "16.6×");
    assert_eq!(fmt_ratio(250.0), "250×");
}

#[test]
fn policy_confidence_is_clamped() {
    let p = Policy {
        confidence: f64::NAN,
        ..Policy::default()
    };
    assert!(close(p.alpha(), 0.05, 1e-12));
    let p = Policy {
        confidence: 1.5,
        ..Policy::default()
    };
    assert!(p.alpha() > 0.0);
    let hl = hodges_lehmann(&[1.0, 2.0, 3.0], &[1.0, 2.0], 7.0).expect("non-empty");
    assert!(hl.confidence < 1.0);
}

#[test]
fn the_stables_vouching_does_not_change_with_the_failure_limit() {
    // Found by the property above: 12 steps of 400 requests a side, 15 canary errors (0.31 %)
    // against the stable's 5.25 beside it and 0.10 % before the rollout (4.8 of its errors due
    // beside the canary, fewer than the 6 that vouch on their own). Outside the worst two steps
    // (the burst stretch at failure limit 0) the canary is ×2.25 its past, outside the worst six
    // (at 1) ×2.71, and the stable's counts vouched against the second lift only: ROLLBACK at
    // failure limit 1, HOLD at 0 — the burst rule made a ROLLBACK. The lift is now taken outside
    // a spike's stretch whatever the limit.
    let c = [4u32, 2, 0, 1, 1, 7, 5, 1, 0, 1, 3, 5];
    let b = [0u32, 0, 0, 0, 0, 3, 3, 0, 2, 6, 5, 2];
    let steps: Vec<_> = c
        .iter()
        .zip(b)
        .map(|(&c, b)| (400.0, c as f64 * 0.5, 400.0, b as f64 * 0.25))
        .collect();
    for limit in [0, 1] {
        let j = judge(
            &[(
                MetricSpec::max("error_rate", 0.005)
                    .critical()
                    .failure_limit(limit),
                MetricSamples {
                    prior: Some((40_000.0, 40.0)),
                    ..counted(&steps, Some(1))
                },
            )],
            &Policy::default(),
            None,
        );
        assert_eq!(j.verdict, Verdict::Rollback, "{limit}: {:?}", j.reasons);
        assert!(
            j.reasons[0].contains("against the stable's 0.10 % before the rollout began"),
            "{limit}: {:?}",
            j.reasons
        );
    }
}

#[test]
fn a_breach_beside_a_baseline_risen_near_its_bound_is_not_blamed_by_a_slightly_higher_median() {
    // A shared incident lifts both tracks to their 330 ms bound: the canary's p99, on its fewer
    // requests, a little higher (1.1×) and over it, the baseline's just under. Too young for the
    // comparison, the canary is not blamed by its median (it was before [`BLAME_LIFT`]); at
    // 1.4× the baseline's it is.
    let spec = MetricSpec::max("latency_p99_ms", 330.0).failure_limit(1);
    let baseline: Vec<f64> = (0..20).map(|i| 300.0 + (i % 5) as f64).collect();
    let judged = |canary: Vec<f64>| {
        let windows = vec![canary[1..5].iter().sum::<f64>() / 4.0, canary[5]];
        let samples = MetricSamples {
            window_steps: 4,
            ..MetricSamples::new(canary, baseline.clone(), windows)
        };
        judge(&[(spec.clone(), samples)], &Policy::default(), None)
    };
    let shared = judged(vec![f64::NAN, 335.0, 340.0, 338.0, 342.0, 336.0]);
    assert_eq!(shared.metrics[0].outcome, MetricOutcome::NoData);
    assert_eq!(shared.verdict, Verdict::Hold, "{:?}", shared.reasons);
    let regression = judged(vec![f64::NAN, 420.0, 425.0, 418.0, 430.0, 422.0]);
    assert_eq!(regression.metrics[0].outcome, MetricOutcome::Breach);
    assert_eq!(
        regression.verdict,
        Verdict::Rollback,
        "{:?}",
        regression.reasons
    );
}

#[test]
fn the_stables_past_does_not_serve_where_the_stable_spiked_beside_the_canarys_worst_stretch() {
    // 40 steps of 500 requests a side against the stable's 0.1 % before the rollout: the canary
    // at 0.14 % throughout and 0.7 % over six steps (its worst stretch), proven worse than the
    // past, not than the live baseline. With the stable calm beside those six steps: ROLLBACK.
    // With the stable at 0.3 % there (a shared spike the canary drew more of by chance, too
    // little to move the stable's whole span from its past): the past does not serve, HOLD.
    let judged = |stable_in_spike: f64| {
        let steps: Vec<_> = (0..40)
            .map(|i| {
                if (17..23).contains(&i) {
                    (500.0, 3.5, 500.0, stable_in_spike)
                } else {
                    (500.0, 0.7, 500.0, 0.45)
                }
            })
            .collect();
        judge_counted(MetricSamples {
            prior: Some((100_000.0, 100.0)),
            ..counted(&steps, None)
        })
    };
    for (stable_in_spike, rollback) in [(0.45, true), (1.5, false)] {
        let j = judged(stable_in_spike);
        assert_eq!(
            j.verdict == Verdict::Rollback,
            rollback,
            "{stable_in_spike}: {}",
            j.metrics[0].reason
        );
    }
}

#[test]
fn a_rise_that_came_with_the_slice_and_stayed_is_not_one_burst_at_any_age() {
    // Forty-five clean steps of 600 requests a side at 0.1 %, then a slice of `n` steps whose
    // canary errs ×5 from its first full step on (its first step's `[1m]` window holds a sliver
    // of the change): a late onset, as a new weight's load brings.
    let judged = |steps: &[(f64, f64, f64, f64)], slice: usize| {
        judge(
            &[(
                MetricSpec::max("error_rate", 0.005)
                    .critical()
                    .failure_limit(1),
                counted(steps, Some(slice)),
            )],
            &Policy::default(),
            None,
        )
    };
    let late = |n: usize, canary: &dyn Fn(usize) -> f64| {
        let mut steps = vec![(600.0, 0.6, 600.0, 0.6); 45];
        steps.extend((0..n).map(|i| (600.0, if i == 0 { 0.6 } else { canary(i) }, 600.0, 0.6)));
        steps
    };
    // Seven steps, one past the burst rule's stretch of six: every window of the slice since
    // its first step beyond tolerance, and every run of its steps from there. ROLLBACK. (Before,
    // the exemption ended with the stretch, and the slice's one step outside it was too little
    // to prove the rest: watched for two more polls.)
    let j = judged(&late(7, &|_| 3.0), 7);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // A spike of the same errors that came with the slice and passed (five steps, then the
    // reference's level for eight): not a rise that stayed. Watched, not ROLLBACK.
    let j = judged(&late(14, &|i| if i <= 5 { 6.0 } else { 0.6 }), 14);
    assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
}

#[test]
fn a_worst_stretch_that_does_not_stand_out_is_no_burst() {
    // Forty steps: the canary `requests` a step at `rest` errors (the baseline 0.2 % over
    // 18,000), its six steps 33–38 `lift` times that.
    let judged = |requests: f64, rest: f64, lift: f64| {
        let steps: Vec<_> = (0..40)
            .map(|i| {
                let e = if (33..39).contains(&i) {
                    rest * lift
                } else {
                    rest
                };
                (requests, e, 18000.0, 36.0)
            })
            .collect();
        judge(
            &[(
                MetricSpec::max("error_rate", 0.005)
                    .critical()
                    .failure_limit(1),
                counted(&steps, None),
            )],
            &Policy::default(),
            None,
        )
    };
    // 2,000 requests a step at 0.245 % (×1.2 of the baseline), the six steps ×1.3 of that by
    // chance — a subtle regression spread evenly, proven on the whole span (1.28×, evidence 30
    // of 20) but not with those six steps at the level around them. They hold 29 errors' worth
    // at the rest's ratio, enough for a burst to stand out, and stand out by a likelihood ratio
    // of e^1, not e^3: no burst, ROLLBACK (held as one burst before).
    let j = judged(2000.0, 4.9, 1.3);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    // The same errors with the six steps ×3 of the rest: they stand out, one burst, watched.
    let rest = 4.9 * (34.0 + 6.0 * 1.3) / (34.0 + 6.0 * 3.0);
    says(
        &judged(2000.0, rest, 3.0),
        Verdict::Hold,
        "rests on one burst",
    );
    // At a tenth of the traffic (×1.8, proven on the whole span) the six steps hold 4 errors'
    // worth at the rest's ratio: too few to stand out, so they are not asked to, and the burst
    // rule holds as before.
    says(
        &judged(200.0, 0.71, 1.3),
        Verdict::Hold,
        "rests on one burst",
    );
}

#[test]
fn the_evidence_against_the_live_baseline_and_the_stables_past_adds_up() {
    // Forty steps: the canary 500 requests a step at 0.178 %, the live stable 4,500 at 0.1 %,
    // and the stable's 200,000 requests before the rollout at 0.1 % too. Against either
    // reference alone the canary's excess is short of its share of α (an e-value of 40 each,
    // α split between the two); an average of e-values is an e-value, and their sum reaches
    // 40: ROLLBACK (it was HOLD, "not proven", when each had to reach its share alone).
    let steps: Vec<_> = (0..40).map(|_| (500.0, 0.89, 4500.0, 4.5)).collect();
    let samples = MetricSamples {
        prior: Some((200_000.0, 200.0)),
        ..counted(&steps, None)
    };
    let live = crate::analysis::counts::log_e_worse(&samples.counts, PROOF_RHO);
    let past = crate::analysis::counts::log_e_worse_totals(
        (20_000.0, 35.6),
        (200_000.0, 200.0),
        PROOF_RHO,
    );
    let share = 40f64.ln();
    assert!(live < share && past < share, "{live} {past}");
    assert!((live.exp() + past.exp()).ln() >= share, "{live} {past}");
    let j = judge_counted(samples);
    assert_eq!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
    assert!(
        j.metrics[0].reason.contains("needed 40"),
        "{}",
        j.metrics[0].reason
    );
    // A little less excess (0.17 %): the sum is short too, HOLD.
    let steps: Vec<_> = (0..40).map(|_| (500.0, 0.85, 4500.0, 4.5)).collect();
    let j = judge_counted(MetricSamples {
        prior: Some((200_000.0, 200.0)),
        ..counted(&steps, None)
    });
    says(&j, Verdict::Hold, "not proven");
}

#[test]
fn two_metrics_are_worded_as_both_or_neither() {
    let both = judge(
        &[
            (MetricSpec::max("p99_ms", 500.0), latency(2, 200.0)),
            (MetricSpec::max("p50_ms", 500.0), latency(3, 100.0)),
        ],
        &Policy::default(),
        None,
    );
    assert_eq!(both.verdict, Verdict::Proceed);
    assert_eq!(
        both.reasons[0],
        "both metrics have data and pass; score 1.00 ≥ promote 0.92"
    );
    let empty = || MetricSamples::new(Vec::new(), Vec::new(), Vec::new());
    let neither = judge(
        &[
            (MetricSpec::max("p99_ms", 500.0), empty()),
            (MetricSpec::max("p50_ms", 500.0), empty()),
        ],
        &Policy::default(),
        None,
    );
    assert_eq!(neither.verdict, Verdict::Hold);
    assert!(
        neither
            .reasons
            .contains(&"score 0: neither metric has data".to_string()),
        "{:?}",
        neither.reasons
    );
    // Nothing weighed: no "weighted" share.
    assert!(
        neither
            .reasons
            .iter()
            .any(|r| r
                == "score 0.00 (no metric has data; band block: promote ≥ 0.92, review ≥ 0.75)"),
        "{:?}",
        neither.reasons
    );
}
