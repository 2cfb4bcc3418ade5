//! The canary judge: pure functions that turn canary and baseline samples into PROCEED / HOLD / ROLLBACK.
//!
//! No I/O, no clock, no randomness: the same input always gives the same [`Judgement`], and the judgement
//! carries every number it used (medians, ratio, U, z, p, effect size, Hodges–Lehmann shift and its
//! confidence interval, the allowed tolerance, window counts, bounds, score, bands, traffic), plus reasons in
//! words such as
//! `error_rate 2.80 % > max 0.50 % in 3 of the last 4 windows (failure limit 1); canary 2.53 % = 15.6× baseline
//! 0.16 %, shift +2.38 % (95 % CI +2.31 % to +2.44 %) beyond tolerance ±0.10 %, Mann-Whitney p < 0.001
//! (n 60/60, effect +1.00)` (the first value is the worst breaching window).
//!
//! # Rules, in the order they are applied
//!
//! **1. Cleaning.** NaN and ±∞ are removed from the canary and baseline samples before anything else; the
//! counts dropped are reported per group (`dropped_nan`). Missing evidence is never read as zero.
//!
//! **2. Absolute thresholds (Argo Rollouts).** Each value in `windows` (the canary's value per evaluation
//! window, oldest first) is compared with `max` (breach when `v > max`) and `min` (breach when `v < min`). A
//! non-finite window is *inconclusive*, not a breach. The metric fails its threshold when
//! `breaches > failure_limit` (strictly greater, as Argo's `failureLimit`; default 0). A metric with a bound but
//! no conclusive window has no data for its threshold.
//!
//! **3. Baseline comparison (Kayenta).** When both groups hold at least `min_samples` values (default 10), the
//! judge runs a two-sided Mann–Whitney U test (canary vs baseline, average ranks for ties, tie-corrected
//! variance, normal approximation with continuity correction; see [`mann_whitney_u`]) and a Hodges–Lehmann
//! estimate of the location shift `canary − baseline` with its distribution-free confidence interval at
//! `policy.confidence` (see [`hodges_lehmann`]); the interval is computed only when the test is significant,
//! since otherwise the metric passes whatever it says. The tolerance band is
//! `allowed = max(tolerance · |baseline median|, min_effect)`: relative to the baseline, with an absolute floor
//! so that a baseline of 0.0 does not make every difference "infinitely" large. The classification
//! ([`MetricResult`]) is
//! - `High` when `p < α` and the whole interval lies above `+allowed` (the canary is higher),
//! - `Low` when `p < α` and the whole interval lies below `−allowed` (the canary is lower),
//! - `Pass` otherwise, and `NoData` when a group has fewer than `min_samples` values.
//!
//! `α = 1 − confidence`. High/Low name the direction of the shift; whether that is *worse* depends on
//! [`Direction`]: High is worse for `HigherIsWorse` (error rate, latency), Low is worse for `LowerIsWorse`
//! (success rate, throughput). A shift in the better direction counts as a pass. Requiring the whole interval
//! beyond the tolerance (Kayenta's rule) demands practical as well as statistical significance.
//!
//! **4. Blame (per-metric [`MetricOutcome`]).**
//! - `NoData`: a group has fewer than `min_samples` values, or a bound is set and no window is conclusive
//!   (unless the comparison alone already proves the canary worse). Too few samples is still a `Breach` when
//!   the breach is too young for the comparison: the windows fail, every canary point of the slice's last
//!   windows (more than a window of them) is beyond the bound, the baseline is within it and the canary's
//!   median worse than the baseline's (a regression that came with the slice; a spike leaves points inside).
//! - `Breach`: the threshold failed and the canary is to blame: either it is significantly worse than its
//!   baseline, or the baseline's median is within the bound while the canary's median is worse than the
//!   baseline's and its newest point is still beyond the bound (a spike that passed leaves it inside).
//! - `SharedBreach` (degraded baseline): the threshold failed but the baseline's median is beyond the bound
//!   too and the canary is not significantly worse: a shared problem (database, dependency, traffic spike),
//!   not the canary's fault.
//! - `Borderline`: the threshold failed, the baseline is within the bound, but the canary's median is no
//!   worse than the baseline's: noise around the bound, for a human to look at.
//! - `Worse`: no threshold failure, but the canary is significantly worse than its baseline beyond tolerance.
//! - `Pass`: everything else.
//!
//! **5. Score (Kayenta's weighted sum).** The weighted fraction of metrics whose outcome is `Pass`, over the
//! metrics that have data (`NoData` is left out of the denominator but forces at least HOLD). Non-finite or
//! negative weights count as 0; when every scored weight is 0 the metrics weigh equally. Overrides, in
//! Kayenta's spirit: the score is 0 when no metric has data, when half or more of the metrics have no data,
//! or when a critical metric's outcome is anything but `Pass`. [`Band`]: `score ≥ promote_at` → Promote,
//! `score ≥ review_at` → Review, otherwise Block (defaults 0.92 and 0.75).
//!
//! **6. Verdict.**
//! - HOLD when there is no metric at all, or when `policy.min_traffic` is set and the traffic is unknown or
//!   below it: with too little traffic a ratio is a coin toss, so neither PROCEED nor ROLLBACK.
//! - Otherwise ROLLBACK when some metric is a `Breach`, a critical metric is `Worse`, or the score is below
//!   `review_at` while at least one metric is `Worse`.
//! - Otherwise HOLD when some metric is `NoData`, `SharedBreach`, `Borderline` or `Worse`, or the score is
//!   below `promote_at`.
//! - PROCEED only when every metric has data and passes and the score is at least `promote_at`.
//!
//! So no data, too little traffic and a degraded baseline are HOLD with that reason, never PROCEED, and a
//! canary that is neither significantly worse than its baseline nor worse by median is never rolled back.
//!
//! # Caveats for callers
//! - Samples should be independent: sample `rate(x[1m])` at a 1 m step, not every 10 s, or Mann–Whitney sees
//!   significance that is not there.
//! - `tolerance` is relative to the baseline median. For a success rate near 1.0 a relative 10 % is far too
//!   loose; set a small tolerance (e.g. `0.002`) or rely on `min`.
//! - Values are formatted by [`Unit`], guessed from the metric name: names containing `rate`, `ratio` or
//!   `percent` are fractions shown as percentages with 2 decimals, names containing `ms`, `latency`, `p99` or
//!   `p95` are milliseconds with 0–1 decimals, anything else gets 3 significant digits.

use super::counts::{
    CountEvidence, Prefixes, SpanEvidence, Totals, llr, log_e_over, log_e_worse_totals,
    log_sum_exp, requests_to_show_under,
};
use crate::domain::CountStep;
use serde::{Deserialize, Serialize};

mod counted;
mod rank;
mod reasons;
#[cfg(test)]
mod tests;

use counted::*;
pub(crate) use rank::median_unsorted;
use rank::*;
pub use rank::{MannWhitney, Shift, hodges_lehmann, mann_whitney_u};
pub use reasons::format_p;
use reasons::*;

/// Which way a metric gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Error rate, latency: a higher canary value is worse.
    HigherIsWorse,
    /// Success rate, throughput: a lower canary value is worse.
    LowerIsWorse,
}

/// How a metric's values are shown in reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A fraction shown as a percentage with 2 decimals (0.005 → "0.50 %").
    Percent,
    /// Milliseconds with 0–1 decimals ("212 ms", "8.5 ms").
    Millis,
    /// Anything else: 3 significant digits.
    Plain,
}

impl Unit {
    /// The unit a metric name suggests: `rate`/`ratio`/`percent` → Percent; `ms`/`latency`/`p99`/`p95` →
    /// Millis; otherwise Plain. Case-insensitive.
    pub fn guess(name: &str) -> Unit {
        let n = name.to_ascii_lowercase();
        if ["rate", "ratio", "percent"].iter().any(|k| n.contains(k)) {
            Unit::Percent
        } else if ["ms", "latency", "p99", "p95"]
            .iter()
            .any(|k| n.contains(k))
        {
            Unit::Millis
        } else {
            Unit::Plain
        }
    }

    /// The default absolute floor of the tolerance band: 0.1 percentage point, 1 ms, or 0.
    pub fn default_min_effect(self) -> f64 {
        match self {
            Unit::Percent => 0.001,
            Unit::Millis => 1.0,
            Unit::Plain => 0.0,
        }
    }

    /// Formats a value in this unit.
    pub fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return format!("{v}");
        }
        match self {
            Unit::Percent => format!("{:.2} %", v * 100.0),
            Unit::Millis if v.abs() >= 100.0 => format!("{v:.0} ms"),
            Unit::Millis => format!("{v:.1} ms"),
            Unit::Plain => sig3(v),
        }
    }

    /// Formats a difference with an explicit sign ("+0.84 %", "-12.0 ms").
    pub fn format_signed(self, v: f64) -> String {
        if v >= 0.0 {
            format!("+{}", self.format(v))
        } else {
            self.format(v)
        }
    }
}

/// One metric's configuration: absolute bounds (Argo), baseline comparison settings (Kayenta), and its part
/// in the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    /// Metric name, shown in reasons.
    pub name: String,
    /// How values are formatted (guessed from the name by the constructors).
    pub unit: Unit,
    /// A window fails when its value is above this.
    pub max: Option<f64>,
    /// A window fails when its value is below this.
    pub min: Option<f64>,
    /// Which way is worse.
    pub direction: Direction,
    /// A critical metric that does not pass sets the score to 0; one significantly worse than its baseline
    /// rolls back on its own.
    pub critical: bool,
    /// Weight in the score (default 1).
    pub weight: f64,
    /// Windows allowed to breach before the threshold fails (Argo `failureLimit`, default 0).
    pub failure_limit: usize,
    /// Relative tolerance: 0.1 lets the canary's location be 10 % of the baseline median worse (default 0.1).
    pub tolerance: f64,
    /// Absolute floor of the tolerance band, in the metric's unit (default by unit: 0.1 pp, 1 ms, 0).
    pub min_effect: f64,
    /// Samples needed in each group, after NaN removal, to compare at all (default 10).
    pub min_samples: usize,
    /// How many samples share one rate window (`rate(x[1m])` read every 15 s: 4). Overlapping
    /// samples are not independent: the comparison's variance is inflated by this factor (its
    /// effective sample size divided by it). Default 1.
    #[serde(default = "one")]
    pub overlap: f64,
    /// A ratio judged on its counts PROCEEDs only once they could have shown the canary this much
    /// worse than its reference (relative; 0 turns it off; unset, [`DEFAULT_DETECT`] on a busy
    /// service: see [`detect_by_default`] and [`judge_counts`]).
    #[serde(default)]
    pub detect: Option<f64>,
}

fn one() -> f64 {
    1.0
}

impl MetricSpec {
    /// A metric with no bounds, `HigherIsWorse`, weight 1, tolerance 10 %, 10 samples per group, the unit
    /// guessed from the name.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let unit = Unit::guess(&name);
        MetricSpec {
            name,
            unit,
            max: None,
            min: None,
            direction: Direction::HigherIsWorse,
            critical: false,
            weight: 1.0,
            failure_limit: 0,
            tolerance: 0.1,
            min_effect: unit.default_min_effect(),
            min_samples: DEFAULT_MIN_SAMPLES,
            overlap: 1.0,
            detect: None,
        }
    }

    /// A higher-is-worse metric with an upper bound (error rate, latency).
    pub fn max(name: impl Into<String>, max: f64) -> Self {
        MetricSpec {
            max: Some(max),
            ..MetricSpec::new(name)
        }
    }

    /// A lower-is-worse metric with a lower bound (success rate, throughput).
    pub fn min(name: impl Into<String>, min: f64) -> Self {
        MetricSpec {
            min: Some(min),
            direction: Direction::LowerIsWorse,
            ..MetricSpec::new(name)
        }
    }

    /// Marks the metric critical.
    pub fn critical(mut self) -> Self {
        self.critical = true;
        self
    }

    /// Sets the weight in the score.
    pub fn weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }

    /// Sets how many windows may breach before the threshold fails.
    pub fn failure_limit(mut self, limit: usize) -> Self {
        self.failure_limit = limit;
        self
    }

    /// Sets the relative tolerance.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets the absolute floor of the tolerance band.
    pub fn min_effect(mut self, min_effect: f64) -> Self {
        self.min_effect = min_effect;
        self
    }

    /// Sets the samples needed per group.
    pub fn min_samples(mut self, n: usize) -> Self {
        self.min_samples = n;
        self
    }

    /// Sets the display unit (and nothing else).
    pub fn unit(mut self, unit: Unit) -> Self {
        self.unit = unit;
        self
    }

    /// Sets the direction.
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    fn fmt(&self, v: f64) -> String {
        self.unit.format(v)
    }
}

/// The measurements for one metric. Non-finite values are allowed: they are dropped (samples) or counted as
/// inconclusive (windows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricSamples {
    /// Canary values over the analysis window, e.g. one per step of a range query.
    pub canary: Vec<f64>,
    /// Baseline values over the same window, ideally a fresh baseline of the canary's size and traffic.
    pub baseline: Vec<f64>,
    /// The canary's value per evaluation window, oldest first (e.g. one per minute), for the thresholds.
    pub windows: Vec<f64>,
    /// For a ratio of events to requests: the counts per step since the rollout began, oldest
    /// first. When present (and the metric is higher-is-worse) the metric is judged on them
    /// ([`super::counts`]) instead of on samples of the ratio.
    #[serde(default)]
    pub counts: Vec<CountStep>,
    /// How many trailing steps of `counts` are the current slice (`None`: all of them).
    #[serde(default)]
    pub slice_steps: Option<usize>,
    /// Steps per threshold window: the latest window says whether a finding still holds.
    #[serde(default)]
    pub window_steps: usize,
    /// The current slice's trailing (canary, baseline) samples when the samples reach further
    /// back (since the rollout began): the slice alone is compared too, and a metric worse there
    /// is worse (the late-onset guard).
    #[serde(default)]
    pub slice: Option<(usize, usize)>,
    /// How many of `canary`'s trailing points are the current slice's (at 100 % too, where
    /// `slice` is unset): a slice younger than its metric's failing windows judges the breach that
    /// runs across its change with the points before it ([`carried_breach`]).
    #[serde(default)]
    pub slice_points: Option<usize>,
    /// The last slice judged against the stable version's history (the baseline has no traffic):
    /// `baseline` is that history, its tail the stable's last minutes before promotion, and a
    /// finding from the counts stands only once each of the last [`HISTORY_SUSTAIN_WINDOWS`]
    /// windows alone points to it, or the slices before pointed to it beside the live stable track or against the stable's counts from
    /// before the rollout (with nothing beside the canary, a shared outage looks like a
    /// regression).
    #[serde(default)]
    pub against_history: bool,
    /// At 100 %: the stable version had a problem with the canary when it lost its traffic — both
    /// rose in the newest point, or both were above its history in the last two windows
    /// (`rollout::rose_with_canary`; `baseline` is then the stable's last minutes). The baseline
    /// is taken as beyond its bound: the canary is not blamed by its median or by a breach
    /// carried across the change, only proven worse than those minutes.
    #[serde(default)]
    pub baseline_rose: bool,
    /// The stable version's (requests, events) over `reference_secs` before the rollout began.
    /// While the canary shares the traffic a counted ratio is compared with it too, as long as
    /// the live baseline shows the stable still where it was (see [`PRIOR_MOVED`]); at 100 % it
    /// steadies the estimate that holds a PROCEED and says whether the slices before pointed to a
    /// finding.
    #[serde(default)]
    pub prior: Option<(f64, f64)>,
    /// How many lookbacks `prior` spans (`None`: one): its events over this are the service's
    /// errors a lookback, what [`detect_by_default`] weighs.
    #[serde(default)]
    pub prior_lookbacks: Option<f64>,
}

/// A slice vouched for by the slices before it (its own requests not yet enough to show it under
/// the bound) must have served this many events' worth of requests at the bound: enough that a
/// jump over the bound that came with it would show (no event in them at the bound: e⁻⁶, a
/// quarter of a percent).
pub const SLICE_EVENTS_AT_BOUND: f64 = 6.0;

/// A counted ratio not proven under its bound is taken as under it by its estimate once the
/// rollout's requests hold this many events' worth at the bound (and the slice's
/// [`SLICE_EVENTS_AT_BOUND`]): 0 errors in 200 requests against 0.5 % is one event's worth —
/// nothing; at twelve a canary at twice the bound estimates under it one time in two hundred
/// (Poisson(24) ≤ 12). (A canary near its bound is not told apart by any number of them; what
/// holds a canary under its bound but worse than its reference is the comparison, and at 100 %
/// [`HISTORY_NOISE_MAX_LIFT`].) At 100 %, where the canary's estimate since the rollout began is
/// beyond tolerance of its reference, the stage must hold this many of its own too before the
/// rollout vouches for it: its estimate dilutes what grows with time or with full traffic.
pub const ROLLOUT_EVENTS_AT_BOUND: f64 = 12.0;

/// The stable version's counts from before the rollout stop being a reference once the live
/// baseline's evidence of being above them (ln E) reaches this: an e-value of √e, a lean, far
/// from a proof — this only withholds evidence against the canary (a shared spike or incident
/// lifts the stable beside the canary too, often on a handful of its own events).
pub const PRIOR_MOVED: f64 = 0.5;

/// A hint (ln E, an e-value of e) that the stable track beside the canary's worst stretch was
/// above its own past: the canary's burst was one both tracks had, and the stable's past does
/// not serve as a reference over that span.
pub const STABLE_HINT: f64 = 1.0;

/// A counted finding's worst stretch is one burst only when it stands out from the rest of its
/// span (served as many requests): its ratio beyond the rest's by a likelihood ratio of e³ ≈ 20
/// at its maximum ([`counted::stands_out`]). The worst stretch of a regression spread evenly over
/// the span is the worst by chance, by less than that; a burst that fills the stretch (a
/// canary-only spike) stands out by far more.
pub const BURST_STANDS_OUT: f64 = 3.0;

/// …and it is asked to stand out only where it could: where its requests hold this many events
/// at the rest's ratio, enough that a doubling stands out on average (the expected log
/// likelihood ratio of a doubling is 2 ln 2 − 1 ≈ 0.39 an event due). Over fewer, a burst of a
/// handful of errors is held as before.
pub const BURST_DUE_EVENTS: f64 = BURST_STANDS_OUT / (2.0 * std::f64::consts::LN_2 - 1.0);

/// The stable version's counts from before the rollout serve as a reference over a span only
/// when the stable's own requests beside the canary in that span hold this many events' worth
/// at their rate: enough that a move of the stable (a shared problem) would show in them. Over a
/// span of a few of its events the stable cannot vouch that it is where it was.
pub const PRIOR_POWER_EVENTS: f64 = 6.0;

/// The lift of a shared problem [`PRIOR_POWER_EVENTS`] are sized for. Against a canary lifted
/// further (×x, outside a burst's stretch) fewer of the stable's events vouch that it was not
/// lifted too: the log likelihood ratio of its counts at its past rate against them lifted ×x,
/// expected·(x − 1) − observed·ln x, must reach what [`PRIOR_POWER_EVENTS`] give at this lift
/// with the stable where it was: 6 · (2 − 1 − ln 2) ≈ 1.84. A canary ×5 needs about 0.8 of the
/// stable's expected events (with those seen), not 6.
pub const PRIOR_POWER_LIFT: f64 = 2.0;

/// At 100 %, against the history, a counted ratio's excess over its tolerance holds a PROCEED
/// only when the estimate is at least this many standard errors (of the log rate ratio, both
/// sides' Poisson noise) beyond parity, or the canary is rising with its traffic: on a few
/// dozen errors a healthy canary is 1.3–2× its reference one time in several.
pub const HISTORY_NOISE_Z: f64 = 2.0;

/// …but an estimate beyond this many times the reference holds the promotion even within the
/// noise: with nothing beside the canary, PROCEED on twice its past's errors because a few events
/// cannot prove it is what let a ×5 late onset at 10 requests a second through. (The lift the
/// stable's power is sized for below 100 %, [`PRIOR_POWER_LIFT`].)
pub const HISTORY_NOISE_MAX_LIFT: f64 = PRIOR_POWER_LIFT;

/// Samples a side before two groups are compared, unless a metric sets its own.
pub const DEFAULT_MIN_SAMPLES: usize = 10;

/// A breach not proven by the comparison is blamed on the canary by its median only when that
/// median is beyond the baseline's by this share of it (or the tolerance, if wider): a shared
/// problem that lifts both tracks to their bound leaves the canary's p99, on its fewer requests,
/// a little higher than the baseline's (1.05–1.2× in the lab's shared incidents) — over the
/// bound while the baseline stays just under it. A regression that breaches a bound the
/// baseline keeps is further off than that (×2 in the lab).
pub const BLAME_LIFT: f64 = 0.25;

/// At 100 %, against the history: over how many judging windows, each on its own, a finding on
/// counts must have held when the slices before did not point to it. Four, as
/// [`HISTORY_PERSIST_WINDOWS`]: a shared spike of two minutes and its `[1m]` smear fill three
/// (with three, shared spikes that began at 100 % went over the bound in each and were ROLLBACK:
/// 14 → 12 false alarms of 405 on the lab's seeds 46–90, one gradual ramp found 15 s later).
pub const HISTORY_SUSTAIN_WINDOWS: usize = 4;

/// At 100 %, against the stable's past (its counts before the rollout pooled with its own beside
/// the slices before): over how many judging windows, each on its own, a lift must have lasted to
/// be the canary's when neither the slices before nor [`HISTORY_SUSTAIN_WINDOWS`] windows against
/// the history's mean step point to it. Four minutes at the default window: more than a shared
/// spike of two minutes and its one-minute `rate()` smear fill (three windows against the past
/// let shared spikes that began at 100 % through: 6 → 13 false alarms of 405 on the lab).
pub const HISTORY_PERSIST_WINDOWS: usize = 4;

/// The count test's null hypothesis for "worse than the reference": the canary's event rate no
/// higher than the reference's (ratio 1). The metric's tolerance is asked of the estimate
/// instead: a finding needs the proof *and* an estimate beyond ×(1 + tolerance). Testing against
/// ×(1 + tolerance) itself leaves a +25–40 % regression only a +15–25 % excess over its null,
/// which an anytime-valid test cannot prove within a rollout even at thousands of requests a
/// minute.
pub const PROOF_RHO: f64 = 1.0;

/// A counted ratio whose `detect` is unset PROCEEDs only once its counts could have shown the
/// canary +25 % worse than its reference — on a service busy enough ([`detect_by_default`]).
pub const DEFAULT_DETECT: f64 = 0.25;

/// Below 100 %, a counted ratio whose `detect` is unset on a service not busy enough for
/// [`DEFAULT_DETECT`] PROCEEDs only once its counts could have shown the canary at twice its
/// reference's rate (some twenty errors' worth at the stable's rate since the rollout began),
/// when the stable's own past makes a reference that can show it — or, on a clean service,
/// once they could have shown it [`SLICES_EXCESS_OF_BOUND`] of its bound above that rate and show
/// it under half its bound (a service at 0.01 % would otherwise wait hours at 10 % for the twenty
/// errors a doubling takes). A slice is there
/// to keep a canary's exposure small while evidence comes in: promoting it to more traffic on a
/// handful of errors let gradual regressions through at 25 % (PROCEED on 29 regressions of 540 on
/// the judge lab at any poll, 6 with this rule) before any judge could tell; holding it costs the
/// slices time, not the verdict at the end of the bake (at 100 % the bound and the stable's
/// history decide, as before).
pub const DEFAULT_DETECT_SLICES: f64 = 1.0;

/// Below 100 %, `detect` (set, or by default) asks that the counts could have shown the excess
/// with 80 % power — the convention of experiment design, z = 0.84 — not only on average (50 %):
/// a slice is there to gather evidence, and a regression just the size `detect` names got
/// through half the time (a busy service's +27 % regression, its counts ×1.08 on 81,459 requests,
/// PROCEEDed at 50 % on the judge lab). At 100 % the test asks for the average, as before: a
/// 5-minute bake holds too few requests for busy healthy canaries to reach 80 % (3 of 45 on the
/// lab ended HOLD).
pub const DETECT_POWER_Z: f64 = 0.84;

/// The exit from [`DEFAULT_DETECT_SLICES`] on a clean service: a canary shown under half its
/// bound PROCEEDs once its counts could have shown it this share of its bound above its
/// reference's rate (on a service at 0.01 % under a 0.5 % bound, 0.125 % above it is many
/// doublings, shown on a few thousand requests). Shown under half the bound alone was not enough:
/// gradual regressions of services at 0.08–0.13 % PROCEEDed early at 25 % on 0–4 errors in
/// 2,000–5,000 requests, their canaries by chance under their stable's rate (4 of the 6 PROCEEDs
/// on a regression left on the judge lab's 540).
pub const SLICES_EXCESS_OF_BOUND: f64 = 0.25;

/// At 100 %, a counted ratio held to `detect` (set, or [`DEFAULT_DETECT`] on a busy service)
/// PROCEEDs only once its estimate is this many standard errors (of the log rate ratio, both
/// sides' Poisson noise) under ×(1 + detect) of its reference: an upper bound at 90 %, one-sided.
/// "Could have shown" the excess on average is not "shows it absent": a +33 % regression whose
/// counts came out ×1.15 passed the first. (On the judge lab's 3,375 rollouts it changed one
/// poll: that one.)
pub const DETECT_SHOWN_Z: f64 = 1.2816;

/// Whether a counted ratio with `detect` unset is held to [`DEFAULT_DETECT`]: when the stable
/// version's own lookback before the rollout (`prior_events` errors at full traffic) holds twice
/// the errors that excess takes to show — 1 / s², s = ln 1.25 / √(2 ln(1/α)), the standard error
/// of the log rate ratio at which a test at `alpha` reaches its goal on average: about 240 at
/// α = 0.05. (At the policy's α alone, not the goal of each poll, which grows with the slices
/// and references: a service is busy or not for the whole rollout.) A service of a few errors a
/// minute cannot show +25 % within any rollout (it would hold every canary for hours); its
/// canary is judged on its bound and on what its baseline shows, as the counts allow. A service
/// of dozens of errors a minute can, and a canary that PROCEEDs there is one its counts could
/// have shown to be a +25 % regression.
pub fn detect_by_default(prior_events: f64, alpha: f64) -> bool {
    let goal = (1.0 / alpha).ln();
    if !(prior_events.is_finite() && goal.is_finite() && goal > 0.0) {
        return false;
    }
    let s = (1.0 + DEFAULT_DETECT).ln() / (2.0 * goal).sqrt();
    prior_events * s * s >= 2.0
}

/// At 100 %: ln E of the slices before (all of them, or their last two or four windows) against the
/// stable's counts before the rollout with which they point to a finding the last slice proves.
pub const POINTED: f64 = 1.0;

impl MetricSamples {
    /// Bundles the three series.
    pub fn new(canary: Vec<f64>, baseline: Vec<f64>, windows: Vec<f64>) -> Self {
        MetricSamples {
            canary,
            baseline,
            windows,
            ..MetricSamples::default()
        }
    }
}

/// Promotion policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Score at or above which the band is Promote (default 0.92).
    pub promote_at: f64,
    /// Score at or above which the band is Review; below is Block (default 0.75).
    pub review_at: f64,
    /// Confidence of the comparison: 0.95 means α = 0.05 and a 95 % interval. Values outside [0.5, 0.999999]
    /// are clamped to it; a non-finite value means 0.95.
    pub confidence: f64,
    /// Minimum canary traffic (in the caller's unit, e.g. requests per window); below it, or unknown, HOLD.
    pub min_traffic: Option<f64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            promote_at: 0.92,
            review_at: 0.75,
            confidence: 0.95,
            min_traffic: None,
        }
    }
}

impl Policy {
    /// The band a score falls in.
    pub fn band(&self, score: f64) -> Band {
        if score >= self.promote_at {
            Band::Promote
        } else if score >= self.review_at {
            Band::Review
        } else {
            Band::Block
        }
    }

    /// The confidence actually used (clamped, see [`Policy::confidence`]).
    pub fn effective_confidence(&self) -> f64 {
        if self.confidence.is_finite() {
            self.confidence.clamp(0.5, 0.999_999)
        } else {
            0.95
        }
    }

    /// α = 1 − confidence.
    pub fn alpha(&self) -> f64 {
        1.0 - self.effective_confidence()
    }
}

/// Kayenta's per-metric classification of the baseline comparison. High and Low are the direction of the
/// shift (canary higher / lower than baseline), not a judgement: see [`Direction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricResult {
    /// No significant shift beyond the tolerance.
    Pass,
    /// The canary is significantly higher, beyond the tolerance.
    High,
    /// The canary is significantly lower, beyond the tolerance.
    Low,
    /// Too few samples in a group to compare.
    NoData,
}

/// What a metric means for the verdict (see the module documentation, rule 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricOutcome {
    /// Has data, within its bounds, not significantly worse than its baseline.
    Pass,
    /// Not enough data to judge: HOLD.
    NoData,
    /// Threshold failed while the baseline breaches too (degraded baseline): HOLD.
    SharedBreach,
    /// Threshold failed, baseline within the bound, but the canary's median is no worse than the baseline's:
    /// HOLD.
    Borderline,
    /// Significantly worse than the baseline beyond tolerance, thresholds fine: counts against the score;
    /// ROLLBACK when critical or when the score is below `review_at`.
    Worse,
    /// Threshold failed and the canary is to blame: ROLLBACK.
    Breach,
}

impl MetricOutcome {
    /// Lower-case name used in reasons.
    pub fn label(self) -> &'static str {
        match self {
            MetricOutcome::Pass => "pass",
            MetricOutcome::NoData => "no data",
            MetricOutcome::SharedBreach => "shared breach",
            MetricOutcome::Borderline => "borderline",
            MetricOutcome::Worse => "worse than baseline",
            MetricOutcome::Breach => "breach",
        }
    }
}

/// Everything the judge found about one metric, with the numbers it used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricJudgement {
    /// Metric name.
    pub name: String,
    /// Display unit.
    pub unit: Unit,
    /// Which way is worse.
    pub direction: Direction,
    /// Whether the metric is critical.
    pub critical: bool,
    /// Weight in the score, as configured.
    pub weight: f64,
    /// What the metric means for the verdict.
    pub outcome: MetricOutcome,
    /// Kayenta classification of the comparison.
    pub result: MetricResult,
    /// Upper bound, if any.
    pub max: Option<f64>,
    /// Lower bound, if any.
    pub min: Option<f64>,
    /// Windows given (conclusive or not).
    pub windows: usize,
    /// Windows whose value was NaN or infinite.
    pub inconclusive_windows: usize,
    /// Windows beyond a bound.
    pub threshold_breaches: usize,
    /// Breaches allowed.
    pub failure_limit: usize,
    /// `threshold_breaches > failure_limit`.
    pub threshold_failed: bool,
    /// The breaching window farthest beyond its bound, if any breached.
    pub worst_window: Option<f64>,
    /// The baseline's median is beyond a bound too (degraded baseline).
    pub baseline_breaches: bool,
    /// (canary, baseline) samples after NaN removal.
    pub samples: (usize, usize),
    /// (canary, baseline) non-finite samples removed.
    pub dropped_nan: (usize, usize),
    /// Samples needed per group.
    pub min_samples: usize,
    /// Canary median.
    pub canary_median: Option<f64>,
    /// Baseline median.
    pub baseline_median: Option<f64>,
    /// canary median / baseline median (None when the baseline median is 0).
    pub ratio: Option<f64>,
    /// Mann–Whitney U of the canary (pairs where canary > baseline, plus half the ties).
    pub u: Option<f64>,
    /// Standardised U (tie- and continuity-corrected); positive when the canary tends higher.
    pub z: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// α used for significance.
    pub alpha: f64,
    /// Rank-biserial correlation in [−1, 1]; positive when the canary tends higher.
    pub effect_size: Option<f64>,
    /// Hodges–Lehmann estimate of the shift canary − baseline; computed only when `p_value < alpha`, the
    /// only case in which the interval decides anything (otherwise the metric passes the comparison and the
    /// medians, ratio and p-value explain it).
    pub shift: Option<f64>,
    /// Confidence interval of the shift at `1 − alpha`; computed only when `p_value < alpha`.
    pub ci: Option<(f64, f64)>,
    /// Half-width of the tolerance band: `max(tolerance · |baseline median|, min_effect)`.
    pub allowed_shift: Option<f64>,
    /// The finding in words, with its numbers.
    pub reason: String,
    /// The count evidence, for a ratio judged on its counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<CountEvidence>,
}

impl MetricJudgement {
    /// Whether the comparison shows the canary significantly worse than its baseline.
    pub fn is_worse(&self) -> bool {
        worse_result(self.direction, self.result)
    }
}

fn worse_result(direction: Direction, result: MetricResult) -> bool {
    matches!(
        (direction, result),
        (Direction::HigherIsWorse, MetricResult::High)
            | (Direction::LowerIsWorse, MetricResult::Low)
    )
}

/// The judge's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Promote the canary.
    Proceed,
    /// Wait: not enough evidence, a shared problem, or a human's call.
    Hold,
    /// Roll the canary back.
    Rollback,
}

impl Verdict {
    /// Process exit code for `flightdeck judge`: 0 proceed, 1 hold, 2 rollback.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Proceed => 0,
            Verdict::Hold => 1,
            Verdict::Rollback => 2,
        }
    }

    /// "PROCEED", "HOLD" or "ROLLBACK".
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Proceed => "PROCEED",
            Verdict::Hold => "HOLD",
            Verdict::Rollback => "ROLLBACK",
        }
    }
}

/// Policy band of the promotion confidence score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// `score ≥ promote_at`.
    Promote,
    /// `review_at ≤ score < promote_at`.
    Review,
    /// `score < review_at`.
    Block,
}

impl Band {
    /// "promote", "review" or "block".
    pub fn label(self) -> &'static str {
        match self {
            Band::Promote => "promote",
            Band::Review => "review",
            Band::Block => "block",
        }
    }
}

/// The judge's answer for one canary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// PROCEED / HOLD / ROLLBACK.
    pub verdict: Verdict,
    /// Promotion confidence, 0–1.
    pub score: f64,
    /// The score's policy band.
    pub band: Band,
    /// Per-metric findings, in input order.
    pub metrics: Vec<MetricJudgement>,
    /// Why, most important first.
    pub reasons: Vec<String>,
    /// One line: verdict, score, band and the first reason.
    pub summary: String,
    /// The traffic the caller reported.
    pub traffic: Option<f64>,
    /// The policy used.
    pub policy: Policy,
    /// At the last slice: the canary has held 100 % with PROCEED for the bake time.
    #[serde(default)]
    pub complete: bool,
    /// At the last slice, every metric passing but the bake time not yet passed: HOLD until it
    /// has (`analysis::rollout`).
    #[serde(default)]
    pub baking: bool,
}

/// The threshold part of a metric's evaluation.
struct Threshold {
    breaches: usize,
    inconclusive: usize,
    failed: bool,
    worst: Option<f64>,
    /// Which bound the breaches (mostly) crossed: true for max.
    over_max: bool,
}

fn check_threshold(spec: &MetricSpec, windows: &[f64]) -> Threshold {
    let (mut high, mut low, mut inconclusive) = (0usize, 0usize, 0usize);
    let (mut worst_high, mut worst_low): (Option<f64>, Option<f64>) = (None, None);
    for &w in windows {
        if !w.is_finite() {
            inconclusive += 1;
            continue;
        }
        if spec.max.is_some_and(|m| w > m) {
            high += 1;
            worst_high = Some(worst_high.map_or(w, |c: f64| c.max(w)));
        } else if spec.min.is_some_and(|m| w < m) {
            low += 1;
            worst_low = Some(worst_low.map_or(w, |c: f64| c.min(w)));
        }
    }
    let breaches = high + low;
    let over_max = (high >= low && high > 0) || spec.min.is_none();
    Threshold {
        breaches,
        inconclusive,
        failed: breaches > spec.failure_limit,
        worst: if over_max { worst_high } else { worst_low },
        over_max,
    }
}

/// Judges one metric: thresholds over windows (Argo), comparison with the baseline (Kayenta), blame.
/// A metric since the rollout began and, when the current slice is shorter and holds enough
/// samples, in the slice alone: the slice's finding wins when it is a regression the whole
/// span does not show (a late onset); in a slice too young for that, a breach across its change
/// ([`carried_breach`]).
fn judge_metric_spans(
    spec: &MetricSpec,
    samples: &MetricSamples,
    policy: &Policy,
    ws: &mut Workspace,
) -> MetricJudgement {
    let found = judge_metric_slice(spec, samples, policy, ws);
    if found.outcome == MetricOutcome::Breach {
        return found;
    }
    carried_breach(spec, samples, policy, ws).unwrap_or(found)
}

/// A breach that runs across a slice change. A slice younger than its metric's failing windows
/// (`failure_limit + 1` of them) cannot show a breach on its own points, and the samples since the
/// rollout began, most of them from before the regression when it came late, do not show it
/// either: so the canary's last `failure_limit + 1` windows' worth of points, across the change,
/// are judged as a slice of their own, by the same rule as a young slice's (every point beyond
/// the bound, or a run of them longer than a spike fills, the windows failing, the baseline beside
/// them within the bound and the canary's median worse than its own). A regression found at the
/// end of one slice stays ROLLBACK at the start of the next while it goes on, rather than a
/// minute or two of HOLD while the new slice's windows fill. Not for a ratio judged on its counts
/// (they carry across slices themselves).
fn carried_breach(
    spec: &MetricSpec,
    samples: &MetricSamples,
    policy: &Policy,
    ws: &mut Workspace,
) -> Option<MetricJudgement> {
    let counted = !samples.counts.is_empty() && spec.direction == Direction::HigherIsWorse;
    let c = samples.slice_points?;
    let w = samples.window_steps;
    if counted || w == 0 || samples.baseline_rose {
        return None;
    }
    let n = w.saturating_mul(spec.failure_limit.saturating_add(1));
    let nb = n.min(samples.baseline.len());
    if c >= n || samples.canary.len() < n || nb == 0 {
        return None;
    }
    let canary = &samples.canary[samples.canary.len() - n..];
    let baseline = &samples.baseline[samples.baseline.len() - nb..];
    let windows = |points: &[f64]| -> Vec<f64> {
        points
            .chunks(w)
            .map(|ch| {
                let (sum, k) = ch
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((0.0, 0usize), |(s, k), v| (s + v, k + 1));
                if k == 0 { f64::NAN } else { sum / k as f64 }
            })
            .collect()
    };
    // A baseline beyond the bound in any of its windows beside the stretch may share the
    // problem (a shared incident lifts both, the canary's p99 on its fewer requests higher):
    // nothing carried then.
    if check_threshold(spec, &windows(baseline)).breaches > 0 {
        return None;
    }
    let stretch = MetricSamples {
        windows: windows(canary),
        window_steps: w,
        ..MetricSamples::default()
    };
    // Its reason is worded only when it is a breach.
    if judge_metric_on(spec, &stretch, canary, baseline, policy, ws, false).outcome
        != MetricOutcome::Breach
    {
        return None;
    }
    let mut j = judge_metric_on(spec, &stretch, canary, baseline, policy, ws, true);
    j.reason = format!(
        "across the change to this slice ({c} of its points and the {} before them): {}",
        n - c,
        j.reason
    );
    Some(j)
}

/// [`judge_metric_with`] since the rollout began and, when the current slice is shorter and holds
/// enough samples, in the slice alone (see [`judge_metric_spans`]).
fn judge_metric_slice(
    spec: &MetricSpec,
    samples: &MetricSamples,
    policy: &Policy,
    ws: &mut Workspace,
) -> MetricJudgement {
    let whole = judge_metric_with(spec, samples, policy, ws);
    let Some((c, b)) = samples.slice else {
        return whole;
    };
    let counted = !samples.counts.is_empty() && spec.direction == Direction::HigherIsWorse;
    // A slice of more than a window's points is judged alone too: with fewer than `min_samples`
    // it can only be a breach too young for the comparison (see `judge_metric_on`).
    let w = samples.window_steps.max(1);
    if counted || c >= samples.canary.len() || c <= w || b == 0 || b > samples.baseline.len() {
        return whole;
    }
    let severity = |o: MetricOutcome| match o {
        MetricOutcome::Breach => 2,
        MetricOutcome::Worse => 1,
        _ => 0,
    };
    // Nothing the slice alone finds is worse than a breach.
    if severity(whole.outcome) == 2 {
        return whole;
    }
    // The slice alone: the trailing samples, the same windows; no counts (they are judged above).
    let alone = MetricSamples {
        windows: samples.windows.clone(),
        window_steps: samples.window_steps,
        ..MetricSamples::default()
    };
    let (canary, baseline) = (
        &samples.canary[samples.canary.len() - c..],
        &samples.baseline[samples.baseline.len() - b..],
    );
    // Its reason is worded only when it wins (rarely: a late onset).
    let slice = judge_metric_on(spec, &alone, canary, baseline, policy, ws, false);
    if severity(slice.outcome) > severity(whole.outcome) {
        let mut slice = judge_metric_on(spec, &alone, canary, baseline, policy, ws, true);
        slice.reason = format!("in this slice alone: {}", slice.reason);
        slice
    } else {
        whole
    }
}

fn judge_metric_with(
    spec: &MetricSpec,
    samples: &MetricSamples,
    policy: &Policy,
    ws: &mut Workspace,
) -> MetricJudgement {
    judge_metric_on(
        spec,
        samples,
        &samples.canary,
        &samples.baseline,
        policy,
        ws,
        true,
    )
}

/// [`judge_metric_with`] of `canary` and `baseline` (the samples' own, or a trailing part of them:
/// the slice alone), with the rest of `samples`; its reason in words only when `reason` is set.
fn judge_metric_on(
    spec: &MetricSpec,
    samples: &MetricSamples,
    canary_in: &[f64],
    baseline_in: &[f64],
    policy: &Policy,
    ws: &mut Workspace,
    reason: bool,
) -> MetricJudgement {
    // A ratio judged on its counts is compared by them, not by samples of the ratio: its samples
    // give only their medians (a selection, not a sort).
    let counted = !samples.counts.is_empty() && spec.direction == Direction::HigherIsWorse;
    let mut canary = std::mem::take(&mut ws.sorted_canary);
    let mut baseline = std::mem::take(&mut ws.sorted_baseline);
    let (dropped_c, dropped_b, canary_median, baseline_median) = if counted {
        let dc = clean_into(canary_in, &mut canary);
        let db = clean_into(baseline_in, &mut baseline);
        (
            dc,
            db,
            median_unsorted(&mut canary),
            median_unsorted(&mut baseline),
        )
    } else {
        let dc = clean_sorted_into(canary_in, &mut canary);
        let db = clean_sorted_into(baseline_in, &mut baseline);
        (dc, db, median_sorted(&canary), median_sorted(&baseline))
    };
    let alpha = policy.alpha();
    let confidence = policy.effective_confidence();
    let min_samples = spec.min_samples.max(1);
    let ratio = match (canary_median, baseline_median) {
        (Some(c), Some(b)) if b != 0.0 => Some(c / b).filter(|r| r.is_finite()),
        _ => None,
    };

    let has_bounds = spec.max.is_some() || spec.min.is_some();
    let th = if has_bounds {
        check_threshold(spec, &samples.windows)
    } else {
        Threshold {
            breaches: 0,
            inconclusive: samples.windows.iter().filter(|w| !w.is_finite()).count(),
            failed: false,
            worst: None,
            over_max: true,
        }
    };
    let conclusive = samples.windows.len() - th.inconclusive;
    let baseline_breaches = samples.baseline_rose
        || baseline_median.is_some_and(|m| {
            spec.max.is_some_and(|max| m > max) || spec.min.is_some_and(|min| m < min)
        });

    let enough = canary.len() >= min_samples && baseline.len() >= min_samples;
    let mut m = MetricJudgement {
        name: spec.name.clone(),
        unit: spec.unit,
        direction: spec.direction,
        critical: spec.critical,
        weight: spec.weight,
        outcome: MetricOutcome::NoData,
        result: MetricResult::NoData,
        max: spec.max,
        min: spec.min,
        windows: samples.windows.len(),
        inconclusive_windows: th.inconclusive,
        threshold_breaches: th.breaches,
        failure_limit: spec.failure_limit,
        threshold_failed: th.failed,
        worst_window: th.worst,
        baseline_breaches,
        samples: (canary.len(), baseline.len()),
        dropped_nan: (dropped_c, dropped_b),
        min_samples,
        canary_median,
        baseline_median,
        ratio,
        u: None,
        z: None,
        p_value: None,
        alpha,
        effect_size: None,
        shift: None,
        ci: None,
        allowed_shift: None,
        reason: String::new(),
        counts: None,
    };

    if enough && !counted {
        let allowed = baseline_median.map(|b| {
            let rel = spec.tolerance * b.abs();
            let floor = spec.min_effect;
            let rel = if rel.is_finite() { rel.max(0.0) } else { 0.0 };
            let floor = if floor.is_finite() {
                floor.max(0.0)
            } else {
                0.0
            };
            rel.max(floor)
        });
        m.allowed_shift = allowed;
        if let Some((mut mw, mut sigma)) = mann_whitney_sorted(&canary, &baseline) {
            // Overlapping rate windows: fewer independent samples than points.
            if spec.overlap.is_finite() && spec.overlap > 1.0 {
                let f = spec.overlap.sqrt();
                mw.z /= f;
                mw.p_value = two_sided_p(mw.z);
                sigma *= f;
            }
            m.u = Some(mw.u);
            m.z = Some(mw.z);
            m.p_value = Some(mw.p_value);
            m.effect_size = Some(mw.rank_biserial);
            // The interval decides High/Low only when the test is significant; otherwise the metric
            // passes whatever it says, so it is not computed (it is the costly part).
            let hl = if mw.p_value < alpha {
                hodges_lehmann_sorted(&canary, &baseline, sigma, confidence, ws)
            } else {
                None
            };
            m.shift = hl.map(|s| s.estimate);
            m.ci = hl.map(|s| (s.lower, s.upper));
            let allowed = allowed.unwrap_or(0.0);
            m.result = match hl {
                Some(s) if s.lower > allowed => MetricResult::High,
                Some(s) if s.upper < -allowed => MetricResult::Low,
                _ => MetricResult::Pass,
            };
        }
    }

    let worse = m.is_worse();
    // Worse by median beyond the tolerance band (a millisecond is not blame), and by
    // [`BLAME_LIFT`] of the baseline's median at least: blame without a proof.
    let band = m
        .allowed_shift
        .unwrap_or(0.0)
        .max(baseline_median.map_or(0.0, |b| BLAME_LIFT * b.abs()));
    let canary_median_worse = match (canary_median, baseline_median) {
        (Some(c), Some(b)) => match spec.direction {
            Direction::HigherIsWorse => c > b + band,
            Direction::LowerIsWorse => c < b - band,
        },
        _ => false,
    };
    // Whether the baseline breaches now: its median over the windows the threshold looks at
    // (a baseline healthy an hour ago and degraded now is a shared problem now).
    let recent_n = (samples.window_steps * (spec.failure_limit + 1)).min(baseline.len());
    let baseline_breaches = if samples.window_steps > 0 && recent_n > 0 {
        let (recent, _) = clean_sorted(&baseline_in[baseline_in.len().saturating_sub(recent_n)..]);
        median_sorted(&recent).is_some_and(|m| {
            spec.max.is_some_and(|max| m > max) || spec.min.is_some_and(|min| m < min)
        }) || baseline_breaches
    } else {
        baseline_breaches
    };
    m.baseline_breaches = baseline_breaches;
    // A breach too young for the comparison: every canary point of the current slice's last
    // windows beyond the bound (more than a window of them), or its newest run of points, the
    // windows failing, the baseline within the bound and the canary's median worse than its own.
    // A spike that has passed leaves points back inside; a regression that came with the slice
    // does not.
    let young_breach = !enough && th.failed && !baseline_breaches && canary_median_worse && {
        let w = samples.window_steps.max(1);
        let in_slice = samples
            .slice
            .map_or(canary_in.len(), |(c, _)| c.min(canary_in.len()));
        let n = (w * (spec.failure_limit + 1)).min(in_slice);
        let recent = &canary_in[canary_in.len() - n..];
        let finite = recent.iter().filter(|v| v.is_finite()).count();
        let beyond =
            |v: f64| spec.max.is_some_and(|max| v > max) || spec.min.is_some_and(|min| v < min);
        // …or the slice's newest points beyond it, more than a spike of half a window can fill
        // (its window holds it for a window and a half: six points at four a window), however
        // few its first points, of a rate over a few requests, were. With `failure_limit = 0` no
        // breaching window is tolerated, a spike's neither (as the counts' burst rule is off):
        // a window of points beyond is enough.
        let tolerated = if spec.failure_limit == 0 && samples.window_steps > 0 {
            w - 1
        } else {
            w + w / 2
        };
        let run = canary_in[canary_in.len() - in_slice..]
            .iter()
            .rev()
            .filter(|v| v.is_finite())
            .take_while(|v| beyond(**v))
            .count();
        (finite > tolerated.min(w) && recent.iter().filter(|v| v.is_finite()).all(|v| beyond(*v)))
            || (samples.window_steps > 0 && run > tolerated)
    };
    m.outcome = if young_breach {
        MetricOutcome::Breach
    } else if !enough {
        MetricOutcome::NoData
    } else if th.failed {
        // Not proven worse than the baseline: blamed by its median only while the breach goes
        // on (the newest point beyond the bound; a spike that has passed leaves it inside).
        let going_on = canary_in
            .iter()
            .rev()
            .find(|v| v.is_finite())
            .is_some_and(|v| {
                spec.max.is_some_and(|max| *v > max) || spec.min.is_some_and(|min| *v < min)
            });
        if worse || (!baseline_breaches && canary_median_worse && going_on) {
            MetricOutcome::Breach
        } else if baseline_breaches {
            MetricOutcome::SharedBreach
        } else {
            MetricOutcome::Borderline
        }
    } else if worse {
        MetricOutcome::Worse
    } else if has_bounds && conclusive == 0 {
        MetricOutcome::NoData
    } else {
        MetricOutcome::Pass
    };
    // A counted metric's reason is its counts' (the samples' would be formatted for nothing).
    if counted {
        judge_counts(spec, samples, policy, &mut m);
    } else if reason {
        m.reason = metric_reason(spec, &m, &th);
    }
    ws.sorted_canary = canary;
    ws.sorted_baseline = baseline;
    m
}

/// Judges a canary over its metrics (each with its samples), with the policy and the canary's traffic (in
/// the unit of `policy.min_traffic`). See the module documentation for the rules.
pub fn judge(
    metrics: &[(MetricSpec, MetricSamples)],
    policy: &Policy,
    traffic: Option<f64>,
) -> Judgement {
    let mut ws = Workspace::default();
    let judged: Vec<MetricJudgement> = metrics
        .iter()
        .map(|(spec, samples)| judge_metric_spans(spec, samples, policy, &mut ws))
        .collect();
    let traffic = traffic.filter(|t| !t.is_nan());

    if judged.is_empty() {
        let reasons = vec!["no metrics to judge".to_string()];
        return finish(Verdict::Hold, 0.0, judged, reasons, traffic, policy);
    }

    // Score.
    let weight = |m: &MetricJudgement| {
        if m.weight.is_finite() && m.weight > 0.0 {
            m.weight
        } else {
            0.0
        }
    };
    let scored: Vec<&MetricJudgement> = judged
        .iter()
        .filter(|m| m.outcome != MetricOutcome::NoData)
        .collect();
    let no_data = judged.len() - scored.len();
    let total: f64 = scored.iter().map(|m| weight(m)).sum();
    let passing: Vec<&&MetricJudgement> = scored
        .iter()
        .filter(|m| m.outcome == MetricOutcome::Pass)
        .collect();
    let passed = passing.len();
    let mut score = if scored.is_empty() {
        0.0
    } else if total > 0.0 {
        passing.iter().map(|m| weight(m)).sum::<f64>() / total
    } else {
        passed as f64 / scored.len() as f64
    };
    let mut score_reasons = Vec::new();
    if scored.is_empty() {
        score_reasons.push(format!(
            "score 0: {}",
            match judged.len() {
                1 => "its one metric has no data".to_string(),
                2 => "neither metric has data".to_string(),
                n => format!("none of the {n} metrics has data"),
            }
        ));
    } else if no_data * 2 >= judged.len() {
        score = 0.0;
        score_reasons.push(format!(
            "score 0: {no_data} of {} metrics {} no data (half or more)",
            judged.len(),
            if no_data == 1 { "has" } else { "have" }
        ));
    }
    let critical_failing: Vec<&MetricJudgement> = judged
        .iter()
        .filter(|m| m.critical && m.outcome != MetricOutcome::Pass)
        .collect();
    if !critical_failing.is_empty() {
        score = 0.0;
        score_reasons.push(format!(
            "score 0: critical {} not passing",
            critical_failing
                .iter()
                .map(|m| format!("{} ({})", m.name, m.outcome.label()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // `+ 0.0` folds the −0.0 of an empty f64 sum into 0.0.
    let score = score.clamp(0.0, 1.0) + 0.0;
    let band = policy.band(score);
    let score_text = format!(
        "score {score:.2} ({}; band {}: promote ≥ {:.2}, review ≥ {:.2})",
        match (scored.len(), passed) {
            // Nothing to weigh: the score is no weighted share.
            (0, _) => "no metric has data".to_string(),
            (1, 0) => "its one metric with data does not pass, weighted".to_string(),
            (1, _) => "its one metric with data passes, weighted".to_string(),
            (2, 0) => "neither metric with data passes, weighted".to_string(),
            (2, 2) => "both metrics with data pass, weighted".to_string(),
            (n, 1) => format!("1 of {n} metrics with data passes, weighted"),
            (n, _) => format!("{passed} of {n} metrics with data pass, weighted"),
        },
        band.label(),
        policy.promote_at,
        policy.review_at
    );

    let any_worse = judged.iter().any(|m| m.outcome == MetricOutcome::Worse);
    let mut rollback = Vec::new();
    for m in &judged {
        let blame = match m.outcome {
            MetricOutcome::Breach => true,
            MetricOutcome::Worse => m.critical || score < policy.review_at,
            _ => false,
        };
        if blame {
            let critical = if m.critical { "critical: " } else { "" };
            rollback.push(format!("{critical}{}", m.reason));
        }
    }
    if !rollback.is_empty() && any_worse && score < policy.review_at {
        rollback.push(score_text.clone());
    }

    let mut hold = Vec::new();
    match (policy.min_traffic, traffic) {
        (Some(min), None) => hold.push(format!("traffic unknown; need at least {}", sig3(min))),
        (Some(min), Some(t)) if t < min => hold.push(format!(
            "not enough traffic: {} < min {}",
            sig3(t),
            sig3(min)
        )),
        _ => {}
    }
    let traffic_low = !hold.is_empty();
    for m in &judged {
        let holds = match m.outcome {
            MetricOutcome::NoData | MetricOutcome::SharedBreach | MetricOutcome::Borderline => true,
            MetricOutcome::Worse => !(m.critical || score < policy.review_at),
            _ => false,
        };
        if holds {
            hold.push(m.reason.clone());
        }
    }
    hold.extend(score_reasons);
    if score < policy.promote_at {
        hold.push(score_text.clone());
    }

    let (verdict, reasons) = if traffic_low {
        // Traffic first, then any rollback evidence as context: a coin toss decides nothing.
        let mut r = hold;
        r.extend(
            rollback
                .into_iter()
                .map(|s| format!("would roll back: {s}")),
        );
        (Verdict::Hold, r)
    } else if !rollback.is_empty() {
        let mut r = rollback;
        let listed = r.contains(&score_text);
        r.extend(hold.into_iter().filter(|s| !(listed && *s == score_text)));
        (Verdict::Rollback, r)
    } else if !hold.is_empty() || score < policy.promote_at {
        (Verdict::Hold, hold)
    } else {
        let mut r = vec![format!(
            "{}; score {score:.2} ≥ promote {:.2}",
            match judged.len() {
                1 => "its one metric has data and passes".to_string(),
                2 => "both metrics have data and pass".to_string(),
                n => format!("all {n} metrics have data and pass"),
            },
            policy.promote_at
        )];
        if let (Some(min), Some(t)) = (policy.min_traffic, traffic) {
            r.push(format!("traffic {} ≥ min {}", sig3(t), sig3(min)));
        }
        (Verdict::Proceed, r)
    };
    finish(verdict, score, judged, reasons, traffic, policy)
}

fn finish(
    verdict: Verdict,
    score: f64,
    metrics: Vec<MetricJudgement>,
    reasons: Vec<String>,
    traffic: Option<f64>,
    policy: &Policy,
) -> Judgement {
    let band = policy.band(score);
    let first = reasons.first().cloned().unwrap_or_default();
    let more = if reasons.len() > 1 {
        format!(" (+{} more)", reasons.len() - 1)
    } else {
        String::new()
    };
    let summary = format!(
        "{} · score {score:.2} ({}) · {first}{more}",
        verdict.label(),
        band.label()
    );
    Judgement {
        verdict,
        score,
        band,
        metrics,
        reasons,
        summary,
        traffic,
        policy: *policy,
        complete: false,
        baking: false,
    }
}
