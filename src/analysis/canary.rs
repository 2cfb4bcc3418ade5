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
    CountEvidence, Prefixes, SpanEvidence, Totals, log_e_over, log_e_worse_totals,
    requests_to_show_under,
};
use crate::domain::CountStep;
use serde::{Deserialize, Serialize};

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

/// Three significant digits; scientific notation outside 0.001 ≤ |v| < 1,000,000.
fn sig3(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{v:.2e}");
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 5) as usize;
    format!("{v:.decimals$}")
}

/// A ratio such as "16.6×" (no decimals from 100×).
fn fmt_ratio(r: f64) -> String {
    if r.abs() >= 100.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

/// A p-value: "p < 0.001", "p = 0.004", "p = 0.03".
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else if p < 0.01 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2}")
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
    /// The stable version's (requests, events) over the lookback before the rollout began. While
    /// the canary shares the traffic a counted ratio is compared with it too, as long as the live
    /// baseline shows the stable still where it was (see [`PRIOR_MOVED`]); at 100 % it steadies
    /// the estimate that holds a PROCEED and says whether the slices before pointed to a finding.
    #[serde(default)]
    pub prior: Option<(f64, f64)>,
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
/// [`HISTORY_NOISE_MAX_LIFT`].)
pub const ROLLOUT_EVENTS_AT_BOUND: f64 = 12.0;

/// The stable version's counts from before the rollout stop being a reference once the live
/// baseline's evidence of being above them (ln E) reaches this: an e-value of √e, a lean, far
/// from a proof — this only withholds evidence against the canary (a shared spike or incident
/// lifts the stable beside the canary too, often on a handful of its own events).
pub const PRIOR_MOVED: f64 = 0.5;

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

/// At 100 %, against the history: over how many judging windows, each on its own, a finding on
/// counts must have held when the slices before did not point to it.
pub const HISTORY_SUSTAIN_WINDOWS: usize = 3;

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
}

/// Result of a two-sided Mann–Whitney U (Wilcoxon rank-sum) test of sample `a` against sample `b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// Finite values in `a`.
    pub n_a: usize,
    /// Finite values in `b`.
    pub n_b: usize,
    /// U of `a`: pairs with a > b plus half the tied pairs (`R_a − n_a(n_a+1)/2`). U of `b` is
    /// `n_a·n_b − u`.
    pub u: f64,
    /// `(u − n_a·n_b/2 ∓ 0.5) / σ` with the tie-corrected σ; 0 when every value is tied.
    pub z: f64,
    /// Two-sided p-value from the normal approximation, in [0, 1]; 1 when every value is tied.
    pub p_value: f64,
    /// Rank-biserial correlation `2u/(n_a·n_b) − 1`, in [−1, 1]: +1 when every a exceeds every b.
    pub rank_biserial: f64,
}

impl MannWhitney {
    /// The textbook statistic `min(U_a, U_b)`.
    pub fn u_min(&self) -> f64 {
        self.u.min(self.n_a as f64 * self.n_b as f64 - self.u)
    }
}

/// Hodges–Lehmann estimate of the location shift `a − b` with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    /// Median of all pairwise differences `a_i − b_j`.
    pub estimate: f64,
    /// Lower end of the interval (an order statistic of the pairwise differences).
    pub lower: f64,
    /// Upper end of the interval.
    pub upper: f64,
    /// Confidence level used (after clamping to [0.5, 0.999999]).
    pub confidence: f64,
}

/// Finite values, with −0.0 folded into +0.0, sorted ascending; and how many were dropped.
fn clean_sorted(values: &[f64]) -> (Vec<f64>, usize) {
    let mut v = Vec::with_capacity(values.len());
    let dropped = clean_sorted_into(values, &mut v);
    (v, dropped)
}

/// [`clean_sorted`] into `v` (cleared first, its allocation reused); the values dropped.
fn clean_sorted_into(values: &[f64], v: &mut Vec<f64>) -> usize {
    v.clear();
    v.extend(values.iter().filter(|x| x.is_finite()).map(|x| x + 0.0));
    // Every value is finite here, so `partial_cmp` is a total order (and twice as fast as `total_cmp`).
    v.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values.len() - v.len()
}

/// The finite values of `values` into `v` (cleared first, its allocation reused), unsorted; the
/// values dropped.
fn clean_into(values: &[f64], v: &mut Vec<f64>) -> usize {
    v.clear();
    v.extend(values.iter().filter(|x| x.is_finite()).map(|x| x + 0.0));
    values.len() - v.len()
}

/// The median of finite values in any order (reorders them): a selection, O(n).
pub(crate) fn median_unsorted(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let cmp = |a: &f64, b: &f64| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
    let (lower, upper, _) = v.select_nth_unstable_by(n / 2, cmp);
    let upper = *upper;
    if n % 2 == 1 {
        Some(upper)
    } else {
        // The largest of the lower half is the other middle value.
        let lower = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(lower / 2.0 + upper / 2.0)
    }
}

fn median_sorted(v: &[f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        None
    } else if n % 2 == 1 {
        Some(v[n / 2])
    } else {
        Some(v[n / 2 - 1] / 2.0 + v[n / 2] / 2.0)
    }
}

/// Two-sided Mann–Whitney U test of `a` against `b`. Non-finite values are ignored. Ties get average ranks
/// and the variance is tie-corrected; the p-value is the normal approximation with continuity correction
/// (R's `wilcox.test(a, b, exact = FALSE, correct = TRUE)`). `None` when either sample has no finite value.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let (a, _) = clean_sorted(a);
    let (b, _) = clean_sorted(b);
    mann_whitney_sorted(&a, &b).map(|(mw, _)| mw)
}

/// U of `a` (pairs with a > b plus half the ties) and the tie term `Σ(t³ − t)` over the pooled sample, for
/// finite ascending samples.
///
/// The common case, no tie anywhere, takes one branch-free merge count, `U = Σᵢ #{b < aᵢ}`, which also
/// notices any tie between the groups (the first b not below aᵢ equals it). With ties it takes the
/// rank-averaging merge.
fn u_and_ties(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (na, nb) = (a.len(), b.len());
    let at = |v: &[f64], k: usize| v.get(k).copied().unwrap_or(f64::INFINITY);
    // One element per step: the next b when it is below the current a, else the a, scoring the b's
    // consumed so far. The +∞ past each end makes it take exactly na + nb steps.
    let (mut i, mut j, mut lt, mut cross_ties) = (0usize, 0usize, 0usize, 0usize);
    for _ in 0..na + nb {
        let (x, y) = (at(a, i), at(b, j));
        let adv = usize::from(y < x);
        lt += (1 - adv) * j;
        cross_ties += usize::from(y == x);
        j += adv;
        i += 1 - adv;
    }
    let inner_ties = |v: &[f64]| v.windows(2).filter(|w| w[0] == w[1]).count();
    if cross_ties == 0 && inner_ties(a) == 0 && inner_ties(b) == 0 {
        return (lt as f64, 0.0);
    }
    // Ties: give each run of equal values its average rank.
    let (mut i, mut j) = (0usize, 0usize);
    let mut rank_sum_a = 0.0;
    let mut tie_sum = 0.0;
    let mut seen = 0usize; // values ranked so far
    while i < na || j < nb {
        let v = at(a, i).min(at(b, j));
        let start_i = i;
        while i < na && a[i] == v {
            i += 1;
        }
        let start_j = j;
        while j < nb && b[j] == v {
            j += 1;
        }
        let (ca, t) = (i - start_i, (i - start_i) + (j - start_j));
        // Ranks seen+1 ..= seen+t, average seen + (t+1)/2.
        let avg = seen as f64 + (t as f64 + 1.0) / 2.0;
        rank_sum_a += ca as f64 * avg;
        let tf = t as f64;
        tie_sum += tf * tf * tf - tf;
        seen += t;
    }
    let naf = na as f64;
    (rank_sum_a - naf * (naf + 1.0) / 2.0, tie_sum)
}

/// Mann–Whitney on finite, ascending samples; also returns σ_U (tie-corrected, 0 when all values tie).
fn mann_whitney_sorted(a: &[f64], b: &[f64]) -> Option<(MannWhitney, f64)> {
    let (na, nb) = (a.len(), b.len());
    if na == 0 || nb == 0 {
        return None;
    }
    let (u, tie_sum) = u_and_ties(a, b);
    let (naf, nbf) = (na as f64, nb as f64);
    let n = naf + nbf;
    let mean = naf * nbf / 2.0;
    let var = naf * nbf / 12.0 * ((n + 1.0) - tie_sum / (n * (n - 1.0)));
    let sigma = if var > 0.0 && var.is_finite() {
        var.sqrt()
    } else {
        0.0
    };
    let (z, p) = if sigma > 0.0 {
        let d = u - mean;
        let corrected = (d.abs() - 0.5).max(0.0).copysign(d);
        let z = corrected / sigma;
        (z, two_sided_p(z))
    } else {
        (0.0, 1.0)
    };
    let mw = MannWhitney {
        n_a: na,
        n_b: nb,
        u,
        z,
        p_value: p,
        rank_biserial: (2.0 * u / (naf * nbf) - 1.0).clamp(-1.0, 1.0),
    };
    Some((mw, sigma))
}

/// Two-sided normal p-value `2·(1 − Φ(|z|))`.
fn two_sided_p(z: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// Complementary error function (Chebyshev fit, fractional error < 1.2e-7 everywhere; Numerical Recipes
/// `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9), for
/// `0 < p < 1`.
fn norm_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// Hodges–Lehmann estimate of the shift `a − b` (the median of the `n_a·n_b` pairwise differences) and its
/// distribution-free confidence interval `[D(k), D(N+1−k)]`, where D are the sorted differences, `N = n_a·n_b`
/// and `k = ⌊N/2 − z·σ_U⌋` (at least 1) with `z` the normal quantile at `1 − (1 − confidence)/2` and `σ_U` the
/// tie-corrected standard deviation of U (Hollander & Wolfe's large-sample interval). The order statistics
/// are found exactly without materialising the N differences. Non-finite values are ignored; `None` when a
/// sample is empty or the differences overflow.
pub fn hodges_lehmann(a: &[f64], b: &[f64], confidence: f64) -> Option<Shift> {
    let (a, _) = clean_sorted(a);
    let (b, _) = clean_sorted(b);
    let (_, sigma) = mann_whitney_sorted(&a, &b)?;
    let policy = Policy {
        confidence,
        ..Policy::default()
    };
    hodges_lehmann_sorted(
        &a,
        &b,
        sigma,
        policy.effective_confidence(),
        &mut Workspace::default(),
    )
}

/// The index k (1-based) of the lower end of the interval, from U's null distribution.
fn ci_rank(n_a: usize, n_b: usize, sigma_u: f64, confidence: f64) -> usize {
    let n = n_a as f64 * n_b as f64;
    let z = norm_quantile(1.0 - (1.0 - confidence) / 2.0);
    let k = (n / 2.0 - z * sigma_u).floor();
    if k.is_finite() && k >= 1.0 {
        (k as usize).min(n_a * n_b)
    } else {
        1
    }
}

/// Reusable buffers for the Hodges–Lehmann selection (one per `judge` call).
#[derive(Default)]
struct Workspace {
    /// The canary's and the baseline's finite values, sorted (reused across metrics).
    sorted_canary: Vec<f64>,
    sorted_baseline: Vec<f64>,
    /// The baseline with a −∞ sentinel in front and a +∞ sentinel behind.
    yext: Vec<f64>,
    /// Candidate differences left for the final selection.
    cand: Vec<f64>,
    /// Probes made so far for the current pair of samples (they narrow later brackets for free).
    probes: Vec<Probe>,
}

fn hodges_lehmann_sorted(
    a: &[f64],
    b: &[f64],
    sigma_u: f64,
    confidence: f64,
    ws: &mut Workspace,
) -> Option<Shift> {
    let (na, nb) = (a.len(), b.len());
    let lo_diff = a.first()? - b.last()?;
    let hi_diff = a.last()? - b.first()?;
    if !lo_diff.is_finite() || !hi_diff.is_finite() {
        return None;
    }
    let n = na * nb;
    ws.yext.clear();
    ws.yext.push(f64::NEG_INFINITY);
    ws.yext.extend_from_slice(b);
    ws.yext.push(f64::INFINITY);
    ws.probes.clear();
    let diffs = Diffs {
        x: a,
        yext: &ws.yext,
        ny: nb,
    };
    let (cand, probes) = (&mut ws.cand, &mut ws.probes);
    let k_mid = n.div_ceil(2);
    let k = ci_rank(na, nb, sigma_u, confidence).min(k_mid);
    let k_hi = n + 1 - k;
    let whole = Bracket {
        a: lo_diff,
        fa_lt: 0,
        b: hi_diff,
        fb_le: n,
    };
    // Median: D((n+1)/2) for odd n; the mean of D(n/2) and D(n/2+1) for even n. First guess: the median
    // of the differences between 16 evenly spaced order statistics of each sample; slope of the count of
    // differences: about N/2 per interquartile range of the difference.
    let iqr = |v: &[f64]| v[(v.len() * 3) / 4] - v[v.len() / 4];
    let slope0 = 0.5 * n as f64 / (iqr(a).powi(2) + iqr(b).powi(2)).sqrt();
    let guess = thinned_median_difference(a, b).map(|g| (g, slope0));
    let mid = diffs.select(k_mid, whole, guess, cand, probes)?;
    let m1 = mid.value;
    let estimate = if n % 2 == 1 {
        m1
    } else {
        let m2 = match mid.next {
            Some(m2) => m2,
            None => diffs.probe(m1).min_gt,
        };
        m1 / 2.0 + m2 / 2.0
    };
    // The ends of the interval: brackets from the median's, narrowed by every probe so far; first
    // guesses from the median and the local slope.
    let slope = mid.slope;
    let offset = |k_end: usize| (k_end as f64 - k_mid as f64) / slope;
    let mut br_lo = Bracket {
        b: mid.bracket.b,
        fb_le: mid.bracket.fb_le,
        ..whole
    };
    let mut br_hi = Bracket {
        a: mid.bracket.a,
        fa_lt: mid.bracket.fa_lt,
        ..whole
    };
    for pr in probes.iter() {
        br_lo.narrow(k, pr);
        br_hi.narrow(k_hi, pr);
    }
    let lower = diffs
        .select(k, br_lo, Some((m1 + offset(k), slope)), cand, probes)?
        .value;
    let upper = diffs
        .select(k_hi, br_hi, Some((m1 + offset(k_hi), slope)), cand, probes)?
        .value;
    if !(lower.is_finite() && upper.is_finite() && estimate.is_finite()) {
        return None;
    }
    Some(Shift {
        estimate,
        lower,
        upper,
        confidence,
    })
}

/// The median of the 256 differences between 16 evenly spaced order statistics of each sample: a cheap
/// first guess for the Hodges–Lehmann estimate.
fn thinned_median_difference(a: &[f64], b: &[f64]) -> Option<f64> {
    const M: usize = 16;
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let pick = |v: &[f64], t: usize| v.get((2 * t + 1) * v.len() / (2 * M)).copied();
    let mut d = [0.0f64; M * M];
    for t in 0..M {
        for u in 0..M {
            d[t * M + u] = pick(a, t)? - pick(b, u)?;
        }
    }
    let (_, m, _) = d.select_nth_unstable_by(M * M / 2, f64::total_cmp);
    Some(*m).filter(|m| m.is_finite())
}

/// The implicit `x.len() × ny` matrix of differences `x_i − y_j` over ascending `x` and `y`: rows ascend
/// with i, and within a row the differences descend with j. `yext` is `y` between a −∞ and a +∞ sentinel, so
/// a row's pointer always stops inside it.
struct Diffs<'a> {
    x: &'a [f64],
    yext: &'a [f64],
    ny: usize,
}

/// A closed range `[a, b]` of difference values known to hold the k-th smallest, with `a` and `b` themselves
/// differences: `fa_lt` differences are `< a` and `fb_le` are `≤ b`.
#[derive(Debug, Clone, Copy)]
struct Bracket {
    a: f64,
    fa_lt: usize,
    b: f64,
    fb_le: usize,
}

/// Counts around a pivot value v.
#[derive(Debug, Clone, Copy)]
struct Probe {
    /// Differences `≤ v`.
    le: usize,
    /// Largest difference `≤ v` (−∞ when none).
    max_le: f64,
    /// Smallest difference `> v` (+∞ when none).
    min_gt: f64,
}

impl Bracket {
    /// Tightens the bracket for the k-th smallest with a probe at any pivot.
    fn narrow(&mut self, k: usize, pr: &Probe) {
        if pr.le >= k {
            if pr.le < self.fb_le {
                self.b = pr.max_le;
                self.fb_le = pr.le;
            }
        } else if pr.le > self.fa_lt {
            self.a = pr.min_gt;
            self.fa_lt = pr.le;
        }
    }
}

impl Diffs<'_> {
    /// Counts around `v`: for each row, a pointer stops at the first difference `≤ v`; the pointers only
    /// move forward. The rows are split in two halves walked by two independent branch-free chains in one
    /// loop (the second starting where a binary search puts it), so the processor overlaps them.
    fn probe(&self, v: f64) -> Probe {
        let (x, y, ny) = (self.x, self.yext, self.ny);
        let (x1, x2) = x.split_at(x.len() / 2);
        let p2_start = x2.first().map_or(ny + 1, |&x0| {
            1 + y
                .get(1..)
                .map_or(0, |ys| ys.partition_point(|&yj| x0 - yj > v))
        });
        let at = |s: &[f64], k: usize| s.get(k).copied().unwrap_or(f64::INFINITY);
        let (mut i1, mut p1, mut i2, mut p2) = (0usize, 1usize, 0usize, p2_start);
        let (mut le1, mut le2) = (0usize, 0usize);
        let (mut max1, mut max2) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let (mut min1, mut min2) = (f64::INFINITY, f64::INFINITY);
        while i1 < x1.len() || i2 < x2.len() {
            if i1 < x1.len() {
                let xi = at(x1, i1);
                let d = xi - at(y, p1);
                let adv = usize::from(d > v);
                le1 += (1 - adv) * (ny + 1).saturating_sub(p1);
                max1 = max1.max(if adv == 1 { f64::NEG_INFINITY } else { d });
                let gt = xi - at(y, p1.saturating_sub(1));
                min1 = min1.min(if adv == 1 { f64::INFINITY } else { gt });
                p1 += adv;
                i1 += 1 - adv;
            }
            if i2 < x2.len() {
                let xi = at(x2, i2);
                let d = xi - at(y, p2);
                let adv = usize::from(d > v);
                le2 += (1 - adv) * (ny + 1).saturating_sub(p2);
                max2 = max2.max(if adv == 1 { f64::NEG_INFINITY } else { d });
                let gt = xi - at(y, p2.saturating_sub(1));
                min2 = min2.min(if adv == 1 { f64::INFINITY } else { gt });
                p2 += adv;
                i2 += 1 - adv;
            }
        }
        Probe {
            le: le1 + le2,
            max_le: max1.max(max2),
            min_gt: min1.min(min2),
        }
    }

    /// The k-th smallest difference (1-based), given a bracket with `fa_lt < k ≤ fb_le` and optionally a
    /// first guess `(value, slope)` (slope: differences per unit of value near the guess).
    ///
    /// Narrows the bracket with Newton/secant steps on the count of differences `≤ v`, each aiming a little
    /// past the target (further each time a probe fails to cross it) so that both ends close in; regula
    /// falsi (Illinois) takes over when a step leaves the bracket. The ends snap to actual differences, so
    /// each probe shrinks the bracket. Then it selects among the few candidates left. Every probe is
    /// appended to `probes`.
    fn select(
        &self,
        k: usize,
        mut br: Bracket,
        guess: Option<(f64, f64)>,
        cand: &mut Vec<f64>,
        probes: &mut Vec<Probe>,
    ) -> Option<Selected> {
        if !(br.fa_lt < k && k <= br.fb_le) {
            return None;
        }
        let limit = (self.x.len() + self.ny).max(32);
        let margin = (limit / 3) as f64;
        let target = k as f64 - 0.5;
        let (mut wa, mut wb) = (br.fa_lt as f64 - target, br.fb_le as f64 - target);
        let mut last = 0i8;
        let (mut v, mut slope) = guess.unwrap_or((f64::NAN, f64::NAN));
        let mut prev: Option<(f64, usize)> = None;
        let (mut overshoot, mut last_side) = (margin, 0i8);
        for _ in 0..200 {
            if br.a >= br.b || br.fb_le - br.fa_lt <= limit {
                break;
            }
            if !(v >= br.a && v < br.b) {
                v = br.a + (br.b - br.a) * (-wa / (wb - wa));
                if !(v >= br.a && v < br.b) {
                    v = br.a / 2.0 + br.b / 2.0;
                    if !(v >= br.a && v < br.b) {
                        v = br.a;
                    }
                }
            }
            let pr = self.probe(v);
            probes.push(pr);
            let side: i8 = if pr.le >= k { 1 } else { -1 };
            if side == 1 {
                br.b = pr.max_le;
                br.fb_le = pr.le;
                wb = pr.le as f64 - target;
                if last == 1 {
                    wa /= 2.0;
                }
            } else {
                br.a = pr.min_gt;
                br.fa_lt = pr.le;
                wa = pr.le as f64 - target;
                if last == -1 {
                    wb /= 2.0;
                }
            }
            last = side;
            if !(br.fa_lt < k && k <= br.fb_le) {
                return None;
            }
            if let Some((pv, ple)) = prev
                && ple != pr.le
                && pv != v
            {
                slope = (pr.le as f64 - ple as f64) / (v - pv);
            }
            prev = Some((v, pr.le));
            overshoot = if side == last_side {
                overshoot * 2.0
            } else {
                margin
            };
            last_side = side;
            let aim = k as f64 - f64::from(side) * overshoot;
            v = if slope.is_finite() && slope > 0.0 {
                v + (aim - pr.le as f64) / slope
            } else {
                f64::NAN
            };
        }
        let local = (br.fb_le - br.fa_lt) as f64 / (br.b - br.a);
        let slope = if local.is_finite() && local > 0.0 {
            local
        } else {
            slope
        };
        if br.a >= br.b {
            // Every candidate equals a.
            let next = (k < br.fb_le).then_some(br.a);
            return Some(Selected {
                value: br.a,
                next,
                bracket: br,
                slope,
            });
        }
        // Collect the differences in [a, b]: per row, from the first d ≤ b to the first d < a.
        cand.clear();
        let (x, y) = (self.x, self.yext.get(1..=self.ny)?);
        let (mut p, mut q) = (0usize, 0usize);
        for &xi in x {
            while p < y.len() && xi - y[p] > br.b {
                p += 1;
            }
            q = q.max(p);
            while q < y.len() && xi - y[q] >= br.a {
                q += 1;
            }
            cand.extend(y[p..q].iter().map(|&yj| xi - yj));
        }
        if cand.len() != br.fb_le - br.fa_lt {
            return None;
        }
        let idx = k - br.fa_lt - 1;
        let (_, v, above) = cand.select_nth_unstable_by(idx, f64::total_cmp);
        let value = *v;
        let next = above.iter().copied().min_by(f64::total_cmp);
        Some(Selected {
            value,
            next,
            bracket: br,
            slope,
        })
    }
}

/// What [`Diffs::select`] found.
#[derive(Debug, Clone, Copy)]
struct Selected {
    /// The k-th smallest difference.
    value: f64,
    /// The (k+1)-th, when the final bracket holds it.
    next: Option<f64>,
    /// The final bracket.
    bracket: Bracket,
    /// Differences per unit of value near the k-th.
    slope: f64,
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
    if counted || w == 0 {
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
    let baseline_breaches = baseline_median.is_some_and(|m| {
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
    // Worse by median beyond the tolerance band (a millisecond is not blame).
    let band = m.allowed_shift.unwrap_or(0.0);
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
        // few its first points, of a rate over a few requests, were.
        let run = canary_in[canary_in.len() - in_slice..]
            .iter()
            .rev()
            .filter(|v| v.is_finite())
            .take_while(|v| beyond(**v))
            .count();
        (finite > w && recent.iter().filter(|v| v.is_finite()).all(|v| beyond(*v)))
            || (samples.window_steps > 0 && run > w + w / 2)
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

/// A higher-is-worse ratio judged on its counts (see [`super::counts`]): over the bound or worse
/// than the baseline when the evidence reaches `1/α` in the current slice or since the rollout
/// began (α split between the two looks) and the latest window still shows it — worse than the
/// stable version's own past too (`prior`, one long step of the same test; at 100 % pooled with
/// its steps beside the slices before), while the live baseline shows the stable no higher than
/// then, the two references sharing α. "Worse" is proven against ×1 ([`PROOF_RHO`]) with an
/// estimate beyond the tolerance. PROCEED-worthy only when the canary is under its bound — shown
/// by the current slice's own counts, or by the whole rollout's once the slice has served
/// [`SLICE_EVENTS_AT_BOUND`] events' worth of requests at the bound with no hint of a rise over
/// the slices before (the late-onset guard), or estimated under it on
/// [`ROLLOUT_EVENTS_AT_BOUND`] events' worth — or, without a bound, the counts hold enough
/// expected events to have seen a doubling, and its ratio is within tolerance of the reference's
/// (the baseline's, pooled with the stable's before the rollout, and below 100 % the live
/// baseline's alone too; at 100 % unless within [`HISTORY_NOISE_Z`] standard errors of parity,
/// no more than [`HISTORY_NOISE_MAX_LIFT`] times the reference
/// and not rising with its traffic).
fn judge_counts(
    spec: &MetricSpec,
    samples: &MetricSamples,
    policy: &Policy,
    m: &mut MetricJudgement,
) {
    let all = &samples.counts;
    let len = all.len();
    let slice_n = samples.slice_steps.unwrap_or(len).min(len);
    let carried = slice_n < len && slice_n > 0;
    let alpha = policy.alpha();
    let looks = if carried { 2.0 } else { 1.0 };
    let goal = (looks / alpha).ln();
    let rho0 = 1.0
        + if spec.tolerance.is_finite() {
            spec.tolerance.max(0.0)
        } else {
            0.1
        };
    // One pass over the steps: every span below is a difference of two prefixes.
    let prefixes = Prefixes::of(all, PROOF_RHO);
    let span = |from: usize, to: usize| prefixes.span(all, from, to, spec.max);
    let se = span(if carried { len - slice_n } else { 0 }, len);
    let re = carried.then(|| span(0, len));
    let spans: Vec<&SpanEvidence> = std::iter::once(&se).chain(re.as_ref()).collect();
    let recent_n = samples.window_steps.max(1).min(len);
    let recent = Totals::of(&all[len - recent_n..]);
    let widest = re.as_ref().unwrap_or(&se).totals;
    let fired = |f: fn(&SpanEvidence) -> f64| spans.iter().any(|s| f(s) >= goal);
    // The estimate a finding on the comparison needs beside its proof: beyond the tolerance.
    let beyond_tolerance = |t: &Totals| t.rate_ratio().map_or(t.canary_events > 0.0, |r| r > rho0);
    // Against the history (at 100 %, with no live baseline beside the canary) a finding stands
    // when it was proven before the last slice, beside the live stable track, or when each of the
    // last `HISTORY_SUSTAIN_WINDOWS` windows points to it on its own: a spike on every track
    // (which the history cannot tell from the canary's doing) passes before that. (Not a
    // cumulative proof at the end of each window: a spike that came with full traffic keeps that
    // proven long after it has passed.)
    // (These rules weigh the comparison against the tolerance itself, not against ×1: with
    // nothing beside the canary they are all that tells it from a shared outage.)
    let w = samples.window_steps.max(1);
    let tolerant = if samples.against_history {
        Prefixes::of(all, rho0)
    } else {
        Prefixes::default()
    };
    let span_tolerant = |from: usize, to: usize| tolerant.span(all, from, to, spec.max);
    let before_last = (samples.against_history && carried).then(|| span_tolerant(0, len - slice_n));
    // …or each of the last `HISTORY_SUSTAIN_WINDOWS` windows on its own points to it (a
    // regression that grew at full traffic; a spike leaves a window behind it that does not).
    let windows_each: Vec<SpanEvidence> =
        if samples.against_history && len >= HISTORY_SUSTAIN_WINDOWS * w {
            (0..HISTORY_SUSTAIN_WINDOWS)
                .map(|j| len - (j + 1) * w)
                .map(|from| span_tolerant(from, from + w))
                .collect()
        } else {
            Vec::new()
        };
    // Proven before the last slice, or pointed to there (half the evidence a finding needs, in
    // logarithms) and proven since: the canary's, not an outage that came with full traffic.
    let held = |f: fn(&SpanEvidence) -> f64| {
        !samples.against_history
            || before_last.as_ref().is_some_and(|e| f(e) >= goal / 2.0)
            || (windows_each.len() == HISTORY_SUSTAIN_WINDOWS
                && windows_each.iter().all(|e| f(e) >= 1.0))
    };
    let over = fired(|s| s.log_e_over) && held(|s| s.log_e_over);
    let worse_held = held(|s| s.log_e_worse);
    // The stable version before the rollout began (while the canary shares the traffic): a
    // second reference with far more events than the live baseline beside a small canary,
    // compared by the same count test as one long step — as long as the live baseline shows the
    // stable no higher than it was (a shared problem or a drift since then leaves the live
    // baseline alone as the reference).
    let prior = samples
        .prior
        .filter(|(r, e)| r.is_finite() && e.is_finite() && *r > 0.0 && *e >= 0.0);
    let against_prior = |requests: f64, events: f64| {
        prior.map_or(f64::NEG_INFINITY, |p| {
            log_e_worse_totals((requests, events), p, PROOF_RHO)
        })
    };
    // Whether the stable has moved since then: a hint beyond the tolerance.
    let prior_moved = |requests: f64, events: f64| {
        prior.is_some_and(|p| log_e_worse_totals((requests, events), p, rho0) >= PRIOR_MOVED)
    };
    // (At 100 % the stable has no traffic beside the canary: its history is the baseline, with
    // its own rules above; the counts from before the rollout only steady the estimate below.)
    let prior_holds = prior.is_some()
        && !samples.against_history
        && [&widest, &recent]
            .iter()
            .all(|t| !prior_moved(t.baseline_requests, t.baseline_events));
    // At 100 %: the slices before pointed to it against the stable's counts from before the
    // rollout too (half the evidence, as above), while the stable beside them stayed where it was.
    let pointed = |from: usize, to: usize| {
        let t = Totals::of(&all[from..to]);
        !prior_moved(t.baseline_requests, t.baseline_events)
            && against_prior(t.canary_requests, t.canary_events) >= POINTED
            && matches!((t.canary_ratio(), prior.map(|(r, e)| e / r)), (Some(c), Some(p)) if c > p * rho0)
            && prefixes.log_e_worse(from, to) > 0.0
    };
    let pointed_by_prior = samples.against_history
        && carried
        && (pointed(0, len - slice_n)
            || pointed((len - slice_n).saturating_sub(2 * w), len - slice_n)
            || pointed((len - slice_n).saturating_sub(4 * w), len - slice_n));
    // The stable's past as one long step: below 100 %, its counts before the rollout (while the
    // live baseline shows it where it was); at 100 %, those pooled with its own steps beside the
    // slices before (while they show it where it was) — far more events than the history's mean
    // step copied into the last slice.
    let live_before = (samples.against_history && carried).then(|| {
        let last = Totals::of(&all[(len - slice_n).saturating_sub(w)..len - slice_n]);
        (Totals::of(&all[..len - slice_n]), last)
    });
    let past = match (prior, live_before) {
        (Some(p), _) if prior_holds => Some(p),
        (Some((r, e)), Some((t, last)))
            if !prior_moved(t.baseline_requests, t.baseline_events)
                && !prior_moved(last.baseline_requests, last.baseline_events) =>
        {
            Some((r + t.baseline_requests, e + t.baseline_events))
        }
        _ => None,
    };
    // Two references (the live baseline and the stable's past) share α between them.
    // At 100 % the history's steps and the stable's past pooled are one reference (the stable's
    // own history, the past with the more events): the past alone is used, with α whole.
    let past_only = samples.against_history && past.is_some();
    let comparison_goal = if past.is_some() && !past_only {
        goal + std::f64::consts::LN_2
    } else {
        goal
    };
    let prior_e = |t: &Totals| {
        past.map_or(f64::NEG_INFINITY, |p| {
            log_e_worse_totals((t.canary_requests, t.canary_events), p, PROOF_RHO)
        })
    };
    let past_rate = past.map(|(r, e)| e / r);
    // Below 100 %, the stable's past serves a span only when the stable beside the canary in that
    // span could show it had moved ([`PRIOR_POWER_EVENTS`]) and does not: a shared spike lifts
    // both tracks, and a canary proven against a calm past while the stable's few events in the
    // same seconds cannot say otherwise is not shown to be the problem. (At 100 % the past is the
    // history's, with its own rules.)
    // With fewer of its events the stable can still vouch against a canary lifted further than
    // [`PRIOR_POWER_LIFT`]: its counts show it was not lifted as much (the log likelihood ratio
    // of its rate as it was against it lifted as the canary is, on its own expected events, at
    // least what [`PRIOR_POWER_EVENTS`] give at that lift). The canary's lift is taken outside
    // its worst stretch of a burst's length (`burst_steps`, the stretch the burst rule below sets
    // aside): a canary-only spike is not a lift a regression would keep.
    let burst_steps = spec.failure_limit * w + w / 2;
    let vouches = |t: &Totals, from: usize, p: f64| {
        let expected = t.baseline_requests * p;
        if expected >= PRIOR_POWER_EVENTS {
            return true;
        }
        let lift = outside_worst_stretch(&all[from..], burst_steps)
            .and_then(|rest| rest.canary_ratio())
            .map_or(1.0, |c| c / p);
        lift > PRIOR_POWER_LIFT
            && expected * (lift - 1.0) - t.baseline_events * lift.ln()
                >= PRIOR_POWER_EVENTS * (PRIOR_POWER_LIFT - 1.0 - PRIOR_POWER_LIFT.ln())
    };
    let serves = |t: &Totals, from: usize| {
        samples.against_history
            || (past_rate.is_some_and(|p| vouches(t, from, p))
                && !prior_moved(t.baseline_requests, t.baseline_events))
    };
    // A finding against the live baseline over a span the past serves needs a lean against the
    // past too: a live baseline far under its own past (a lucky quiet stretch) proves nothing
    // against a canary at the service's usual rate.
    let corroborated = |t: &Totals, from: usize| {
        samples.against_history || !serves(t, from) || prior_e(t) >= PRIOR_MOVED
    };
    // At 100 %: a lift over the stable's past that has lasted through each of the last
    // [`HISTORY_PERSIST_WINDOWS`] windows on its own (a lean against ×1 and an estimate beyond
    // tolerance in each) is the canary's, as a finding the slices before pointed to is: longer
    // than a shared spike and its `[1m]` smear can fill, against the stable's past (its many
    // events, not the history's mean step copied beside each window), which a shared problem the
    // stable already had leaves no longer where it was (`past` is then None).
    let persists = samples.against_history
        && len >= HISTORY_PERSIST_WINDOWS * w
        && past_rate.is_some_and(|p| {
            (0..HISTORY_PERSIST_WINDOWS).all(|j| {
                let t = Totals::of(&all[len - (j + 1) * w..len - j * w]);
                prior_e(&t) >= 1.0 && t.canary_ratio().is_some_and(|c| c > p * rho0)
            })
        });
    // Where each span in `spans` begins.
    let starts = [if carried { len - slice_n } else { 0 }, 0];
    let worse_live = !past_only
        && spans.iter().zip(starts).any(|(s, from)| {
            s.log_e_worse >= comparison_goal
                && beyond_tolerance(&s.totals)
                && corroborated(&s.totals, from)
        })
        && (worse_held || pointed_by_prior || persists);
    let worse_prior = spans.iter().zip(starts).any(|(s, from)| {
        serves(&s.totals, from)
            && prior_e(&s.totals) >= comparison_goal
            && matches!((s.totals.canary_ratio(), past_rate), (Some(c), Some(p)) if c > p * rho0)
    }) && match (recent.canary_ratio(), past_rate) {
        (Some(c), Some(p)) => c > p * rho0,
        _ => false,
    } && (worse_held || pointed_by_prior || persists);
    let worse = worse_live || worse_prior;
    // The stable version's last window before it lost its traffic (at 100 %): a problem it had
    // too is not the canary's. From its counts when the steps before the last slice hold them,
    // else from its samples.
    let stable_counts = (samples.against_history && carried)
        .then(|| Totals::of(&all[(len - slice_n).saturating_sub(w)..len - slice_n]))
        .filter(|t| t.baseline_requests > 0.0);
    let stable_last = if let Some(t) = stable_counts {
        t.baseline_ratio()
    } else {
        samples
            .against_history
            .then(|| {
                let b: Vec<f64> = samples
                    .baseline
                    .iter()
                    .rev()
                    .filter(|v| v.is_finite())
                    .take(w)
                    .copied()
                    .collect();
                (!b.is_empty()).then(|| b.iter().sum::<f64>() / b.len() as f64)
            })
            .flatten()
    };
    let baseline_over = fired(|s| s.log_e_baseline_over);
    // Under the bound: shown by this slice's own requests, or by the whole rollout's while this
    // slice gives no hint of being over it (the late-onset guard: what was carried cannot vouch
    // for a change that came with this slice, but it need not be proven again from scratch).
    // The canary in this slice against itself in the slices before: a hint of a rise.
    // The canary's (requests, events) in this slice and in the slices before it.
    let slice_and_before = re.as_ref().map(|re| {
        let slice = (se.totals.canary_requests, se.totals.canary_events);
        let before = (
            re.totals.canary_requests - slice.0,
            re.totals.canary_events - slice.1,
        );
        (slice, before)
    });
    let rose_in_slice = slice_and_before.is_some_and(|(slice, before)| {
        before.0 <= 0.0 || log_e_worse_totals(slice, before, rho0) >= 1.0
    });
    // At 100 %: the canary's own rate in the last slice above tolerance of its rate in the slices
    // before, and in those above the live stable's beside it, the counts leaning that way each
    // time (ln E against ×1 above 0; leanings, not proofs: this only holds a PROCEED): a
    // regression growing with its traffic — not a spike the slices before already carried, nor
    // a drift both tracks shared.
    let rising = samples.against_history
        && slice_and_before.is_some_and(|(slice, before)| {
            before.0 > 0.0
                && slice.0 > 0.0
                && slice.1 / slice.0 > before.1 / before.0 * rho0
                && log_e_worse_totals(slice, before, PROOF_RHO) > 0.0
                && prefixes.log_e_worse(0, len - slice_n) > 0.0
        });
    let under = se.log_e_under >= goal
        || re.as_ref().is_some_and(|re| {
            let slice = se.totals.canary_requests;
            re.log_e_under >= goal
                && se.log_e_over < 0.0
                && !rose_in_slice
                && spec
                    .max
                    .is_some_and(|max| slice * max >= SLICE_EVENTS_AT_BOUND)
                && match (spec.max, se.totals.canary_ratio()) {
                    (Some(max), Some(r)) => r <= max,
                    _ => false,
                }
        });
    // …or, short of a proof, estimated under it on enough requests: the whole rollout's and this
    // slice's requests hold [`ROLLOUT_EVENTS_AT_BOUND`] and [`SLICE_EVENTS_AT_BOUND`] events'
    // worth at the bound (how much evidence is enough is decided by the counts, as the issue of
    // "too little traffic" is), both ratios are under the bound with no hint of being over it, and
    // the reference is under it too. A service at 60–80 % of its bound can take hundreds of
    // thousands of requests to *prove* under it; what holds its promotion is then the comparison
    // with the baseline (checked before this), not the bound.
    let under_estimated = !under
        && spec.max.is_some_and(|max| {
            let ok = |e: &SpanEvidence, events: f64| {
                e.totals.canary_requests * max >= events
                    && e.log_e_over < 0.0
                    && e.totals.canary_ratio().is_some_and(|r| r <= max)
            };
            ok(re.as_ref().unwrap_or(&se), ROLLOUT_EVENTS_AT_BOUND)
                && ok(&se, SLICE_EVENTS_AT_BOUND)
                && widest.baseline_ratio().is_none_or(|b| b <= max)
                && !rose_in_slice
        });
    let still_over = match (spec.max, recent.canary_ratio()) {
        (Some(max), Some(r)) => r > max,
        _ => true,
    };
    let still_worse = worse_prior
        || match (recent.canary_ratio(), recent.baseline_ratio()) {
            (Some(c), Some(b)) => c > b * rho0 || (b == 0.0 && c > 0.0),
            _ => true,
        };
    // Over the bound is the canary's doing when it is proven worse than its baseline, when there
    // is no baseline, or when the baseline over the same steps is within the bound and the
    // canary beyond tolerance of it; a baseline over the bound too (proven, or in the latest
    // window) is a shared problem.
    let base_now = recent.baseline_ratio().or(widest.baseline_ratio());
    let canary_now = recent.canary_ratio().or(widest.canary_ratio());
    // Elevated: on its counts, with a hint (an e-value of e, far from a proof: this only
    // shields the canary) of a rate above tolerance of the history, of its own counts from
    // before the rollout, or of the bound; on samples alone, by the ratio. (The history's newest
    // minutes may carry the start of the same incident, which lifts it: the stable's own past
    // is the level it left.)
    let stable_elevated = match (stable_counts, stable_last, base_now) {
        (Some(t), _, b) => {
            let (x, n) = (t.baseline_events, t.baseline_requests);
            let shown = |bound: f64| log_e_over(x, n, bound) >= 1.0;
            b.is_some_and(|b| b > 0.0 && shown((b * rho0).min(0.999)))
                || prior.is_some_and(|(r, e)| e > 0.0 && shown((e / r * rho0).min(0.999)))
                || spec.max.is_some_and(shown)
        }
        (None, Some(s), Some(b)) => s > b * rho0 || spec.max.is_some_and(|max| s > max),
        _ => false,
    };
    let canary_to_blame = if stable_elevated {
        // Compared with the stable's state when it lost traffic, not with its calmer past: on
        // the counts, proven beyond tolerance of that window (a point estimate over a window
        // of a few errors is noise); on samples alone, by the ratio.
        match stable_counts {
            Some(t) => {
                log_e_worse_totals(
                    (recent.canary_requests, recent.canary_events),
                    (t.baseline_requests, t.baseline_events),
                    rho0,
                ) >= goal
            }
            None => matches!((stable_last, canary_now), (Some(s), Some(c)) if c > s * rho0),
        }
    } else {
        // Not proven worse than its baseline, the canary is blamed by its estimate only while the
        // stable beside it shows no move from its own past over the same steps (over the bound
        // after a spike both tracks had, the canary's few more errors are chance).
        let stable_moved = !samples.against_history
            && [&widest, &recent, &se.totals]
                .iter()
                .any(|t| prior_moved(t.baseline_requests, t.baseline_events));
        worse
            || (!stable_moved
                && [
                    (widest.baseline_ratio(), widest.canary_ratio()),
                    (base_now, canary_now),
                ]
                .iter()
                .all(|pair| match (*pair, spec.max) {
                    ((None, _), _) => true,
                    ((Some(b), Some(c)), Some(max)) => b <= max && c > b * rho0,
                    _ => false,
                }))
    };
    let shared = baseline_over
        || stable_elevated
        || matches!((base_now, spec.max), (Some(b), Some(max)) if b > max);
    let needed = spec.max.and_then(|max| {
        requests_to_show_under(widest.canary_ratio().unwrap_or(0.0), max, alpha / looks)
    });
    let fmt = |v: f64| spec.fmt(v);
    let count = |v: f64| crate::fmt::thousands(v.round().max(0.0) as u64);
    let side = |t: &Totals| {
        format!(
            "{} in {} requests ({})",
            count(t.canary_events),
            count(t.canary_requests),
            t.canary_ratio().map_or("—".into(), fmt)
        )
    };
    let span_name = if carried {
        "since the rollout began"
    } else {
        "in this slice"
    };
    let ev = |l: f64| {
        let e = l.exp();
        if e >= 1e6 {
            "over a million".to_string()
        } else {
            format!("{e:.1}")
        }
    };
    let best =
        |f: fn(&SpanEvidence) -> f64| spans.iter().map(|s| f(s)).fold(f64::NEG_INFINITY, f64::max);
    let needed_e = format!("{:.0}", goal.exp());
    let needed_cmp = format!("{:.0}", comparison_goal.exp());
    // How far the rate ratio is beyond the tolerance, in standard errors of its logarithm (the
    // Poisson noise of both sides' events): at 100 %, against the history, an excess within
    // `HISTORY_NOISE_Z` of them does not hold the promotion.
    // The rate the canary is held to by its estimate: the live baseline's, pooled with the
    // stable's own before the rollout while that still holds (far less noise than a small
    // baseline's few events).
    let (reference, reference_name) = match prior {
        // At 100 %: the stable's own steps beside the earlier slices and its counts before the
        // rollout, not the last slice's steps filled with the history's mean step (a copy of the
        // same history, weighed by how long the last slice has run).
        Some((r, e)) if samples.against_history => {
            let live = Totals::of(&all[..len - slice_n]);
            let t = Totals {
                baseline_requests: live.baseline_requests + r,
                baseline_events: live.baseline_events + e,
                ..widest
            };
            (
                t,
                "stable's (before the rollout and beside the slices before)",
            )
        }
        Some((r, e)) if prior_holds => {
            let t = Totals {
                baseline_requests: widest.baseline_requests + r,
                baseline_events: widest.baseline_events + e,
                ..widest
            };
            (t, "stable's (before the rollout and beside it)")
        }
        _ => (widest, "baseline's"),
    };
    // Below 100 %, pooled with the stable's past, the estimate may hide what the live baseline
    // beside the canary shows: either beyond tolerance holds the PROCEED.
    let live_beyond =
        !samples.against_history && prior_holds && widest.rate_ratio().is_some_and(|r| r > rho0);
    let beyond_noise = reference.rate_ratio().map_or(f64::NEG_INFINITY, |r| {
        let se = (1.0 / reference.canary_events.max(0.5)
            + 1.0 / reference.baseline_events.max(0.5))
        .sqrt();
        r.ln() / se
    });
    // `detect`: PROCEED only once the counts could have shown the canary that much worse than its
    // reference: the standard error of the log rate ratio, at the reference's rate, within
    // ln(1 + detect) / √(2 ln(1/α)) — about where an anytime-valid test of that excess reaches its
    // goal on average. Set, always; 0, never; unset, [`DEFAULT_DETECT`] on a service busy enough
    // to show it ([`detect_by_default`]). (Otherwise a canary under its bound and not shown worse
    // PROCEEDs however few its errors: a +25 % regression takes a few hundred errors to show.)
    let s_max_of = |d: f64| (1.0 + d).ln() / (2.0 * comparison_goal).sqrt();
    let (detect, by_default) = match spec.detect {
        Some(d) => (Some(d), false),
        None => (
            prior
                .is_some_and(|(_, e)| detect_by_default(e, alpha))
                .then_some(DEFAULT_DETECT),
            true,
        ),
    };
    let undetectable = detect.filter(|d| d.is_finite() && *d > 0.0).and_then(|d| {
        let b = reference.baseline_ratio().unwrap_or(0.0);
        let due = widest.canary_requests * b;
        let s_max = s_max_of(d);
        let reference_events = reference.baseline_events;
        let se2 = 1.0 / due.max(f64::MIN_POSITIVE) + 1.0 / reference_events.max(f64::MIN_POSITIVE);
        if se2 <= s_max * s_max {
            return None;
        }
        let need = if b > 0.0 && reference_events > 0.0 && 1.0 / reference_events < s_max * s_max {
            let n = 1.0 / (b * (s_max * s_max - 1.0 / reference_events));
            format!(
                "about {} requests at its rate are needed, {:.1}× those {span_name}",
                count(n),
                n / widest.canary_requests.max(1.0)
            )
        } else {
            "its reference holds too few errors to show it at any traffic".to_string()
        };
        Some(format!(
            "{}: not yet able to show +{:.0} % ({}): {} {span_name} against the {} {}, {:.0} errors due at that rate; {need}",
            spec.name,
            d * 100.0,
            if by_default {
                "detect, by default on a service this busy"
            } else {
                "detect"
            },
            side(&widest),
            reference_name,
            reference.baseline_ratio().map_or("—".into(), fmt),
            due
        ))
    });
    let (outcome, result, reason) = if widest.canary_requests <= 0.0 {
        (
            MetricOutcome::NoData,
            MetricResult::NoData,
            format!("{}: the canary served no requests {span_name}", spec.name),
        )
    } else if over && !canary_to_blame && shared {
        (
            MetricOutcome::SharedBreach,
            MetricResult::Pass,
            format!(
                "{}: canary {} over max {}, but the baseline is over it too ({}): a shared problem, not the canary's",
                spec.name,
                side(&widest),
                fmt(spec.max.unwrap_or(f64::NAN)),
                widest.baseline_ratio().map_or("—".into(), fmt)
            ),
        )
    } else if over && !canary_to_blame {
        (
            MetricOutcome::Borderline,
            MetricResult::Pass,
            format!(
                "{}: canary {} over max {}, but no worse than its baseline ({}): watching",
                spec.name,
                side(&widest),
                fmt(spec.max.unwrap_or(f64::NAN)),
                base_now.map_or("—".into(), fmt)
            ),
        )
    } else if over && still_over && canary_to_blame {
        (
            MetricOutcome::Breach,
            MetricResult::High,
            format!(
                "{}: {} errors {span_name} > max {}: evidence {} (needed {needed_e}); the latest window {}",
                spec.name,
                side(&widest),
                fmt(spec.max.unwrap_or(f64::NAN)),
                ev(best(|s| s.log_e_over)),
                recent
                    .canary_ratio()
                    .map_or("has no requests".into(), |r| format!("is {}", fmt(r)))
            ),
        )
    } else if worse && still_worse && stable_elevated && !canary_to_blame {
        (
            MetricOutcome::SharedBreach,
            MetricResult::Pass,
            format!(
                "{}: canary {} against the history's {}, but the stable version was at {} when it lost its traffic: a shared problem, not the canary's",
                spec.name,
                side(&widest),
                widest.baseline_ratio().map_or("—".into(), fmt),
                stable_last.map_or("—".into(), fmt)
            ),
        )
    } else if worse && still_worse && !worse_live {
        (
            MetricOutcome::Worse,
            MetricResult::High,
            format!(
                "{}: canary {} against the stable's {} {} ({} now): beyond ×{:.2} of it (evidence {}, needed {needed_cmp})",
                spec.name,
                side(&widest),
                past_rate.map_or("—".into(), fmt),
                if samples.against_history {
                    "before the rollout and beside the slices before"
                } else {
                    "before the rollout began"
                },
                widest.baseline_ratio().map_or("—".into(), fmt),
                rho0,
                ev(spans
                    .iter()
                    .map(|s| prior_e(&s.totals))
                    .fold(f64::NEG_INFINITY, f64::max)),
            ),
        )
    } else if worse && still_worse {
        (
            MetricOutcome::Worse,
            MetricResult::High,
            format!(
                "{}: canary {} against baseline {} {span_name}: {}× the baseline's rate, beyond ×{:.2} (evidence {}, needed {needed_cmp})",
                spec.name,
                side(&widest),
                widest.baseline_ratio().map_or("—".into(), fmt),
                widest
                    .rate_ratio()
                    .map_or("—".into(), |r| format!("{r:.2}")),
                rho0,
                ev(best(|s| s.log_e_worse)),
            ),
        )
    } else if over || worse {
        (
            MetricOutcome::Borderline,
            MetricResult::Pass,
            format!(
                "{}: errors rose earlier {span_name} ({}) and the latest window is back to {}: watching",
                spec.name,
                side(&widest),
                recent.canary_ratio().map_or("—".into(), fmt)
            ),
        )
    } else if (reference.rate_ratio().is_some_and(|r| r > rho0)
        && (!samples.against_history
            || beyond_noise >= HISTORY_NOISE_Z
            || rising
            || reference
                .rate_ratio()
                .is_some_and(|r| r > HISTORY_NOISE_MAX_LIFT)))
        || live_beyond
    {
        // The estimate that holds it: the pooled one, else the live baseline's alone.
        let (shown, shown_name) = if reference.rate_ratio().is_some_and(|r| r > rho0) {
            (reference, reference_name)
        } else {
            (widest, "live baseline's")
        };
        (
            MetricOutcome::Borderline,
            MetricResult::Pass,
            format!(
                "{}: canary {} is {:.2}× the {} {} {span_name}, beyond ×{:.2} but not proven (evidence {}, needed {needed_cmp})",
                spec.name,
                side(&widest),
                shown.rate_ratio().unwrap_or(f64::NAN),
                shown_name,
                shown.baseline_ratio().map_or("—".into(), fmt),
                rho0,
                ev(spans
                    .iter()
                    .map(|s| prior_e(&s.totals))
                    .fold(best(|s| s.log_e_worse), f64::max)),
            ),
        )
    } else if spec.max.is_some() && !under && !under_estimated {
        let need = match needed {
            Some(n) => format!(
                "about {} requests at this ratio are needed to show it under {}",
                count(n),
                fmt(spec.max.unwrap_or(f64::NAN))
            ),
            None => format!(
                "at this ratio no number of requests shows it under {}",
                fmt(spec.max.unwrap_or(f64::NAN))
            ),
        };
        (
            MetricOutcome::NoData,
            MetricResult::NoData,
            if carried {
                // PROCEED needs this slice's own requests to show it (the late-onset guard):
                // what was carried from the slices before cannot vouch for a change that came
                // with this one.
                format!(
                    "{}: not enough evidence yet: {} in this slice ({} since the rollout began); {need} in this slice",
                    spec.name,
                    side(&se.totals),
                    side(&widest)
                )
            } else {
                format!(
                    "{}: not enough evidence yet: {} {span_name}; {need}",
                    spec.name,
                    side(&widest)
                )
            },
        )
    } else if spec.max.is_none()
        && widest.canary_requests * widest.baseline_ratio().unwrap_or(0.0) < 13.0
    {
        (
            MetricOutcome::NoData,
            MetricResult::NoData,
            format!(
                "{}: not enough evidence yet: {} {span_name}, too few to see a doubling of the baseline's {}",
                spec.name,
                side(&widest),
                widest.baseline_ratio().map_or("—".into(), fmt)
            ),
        )
    } else if let Some(reason) = undetectable {
        (MetricOutcome::NoData, MetricResult::NoData, reason)
    } else {
        let bound = spec
            .max
            .map(|max| {
                if under {
                    format!(
                        ", shown under max {} (evidence {})",
                        fmt(max),
                        ev(best(|s| s.log_e_under))
                    )
                } else {
                    format!(
                        ", under max {} by its estimate on {} events' worth of requests at it (not proven: evidence {})",
                        fmt(max),
                        count(widest.canary_requests * max),
                        ev(best(|s| s.log_e_under))
                    )
                }
            })
            .unwrap_or_default();
        let noise = match widest.rate_ratio() {
            Some(r) if r > rho0 => format!(
                " ({r:.2}× it, within the noise: {beyond_noise:.1} standard errors beyond parity)"
            ),
            _ => String::new(),
        };
        (
            MetricOutcome::Pass,
            MetricResult::Pass,
            format!(
                "{}: {} {span_name}{bound}; baseline {}{noise}",
                spec.name,
                side(&widest),
                widest.baseline_ratio().map_or("—".into(), fmt)
            ),
        )
    };
    // One burst is not a regression while the config tolerates a failing window: a finding that
    // rests on the canary's worst stretch (its `failure_limit` windows and the half window a
    // `[1m]` rate smears a burst over) stands only when the rest of its span leans the same way.
    let n = burst_steps;
    // …unless the rise came with the slice: every step of a slice no older than that stretch
    // beyond tolerance of the reference (but its first, whose `[1m]` window may hold only a
    // sliver of the change), and the window before the slice not. That is the late onset the
    // slice's own look is for (a new weight's load), not a burst, which does not wait for a
    // weight change.
    // The reference over some steps: their baseline's counts pooled with the stable's past.
    let pooled = |t: &Totals| {
        let (r, e) = past.unwrap_or((0.0, 0.0));
        (t.baseline_requests + r, t.baseline_events + e)
    };
    let came_with_slice = carried && slice_n <= n && {
        let (r, e) = pooled(&widest);
        let reference = (r > 0.0).then(|| e / r);
        reference.is_some_and(|b| {
            let beyond = |t: &Totals| t.canary_ratio().is_some_and(|c| c > b * rho0);
            let slice = &all[len - slice_n..];
            slice[usize::from(slice.len() > 1)..]
                .iter()
                .all(|s| beyond(&Totals::of(std::slice::from_ref(s))))
                && !beyond(&Totals::of(
                    &all[(len - slice_n).saturating_sub(w)..len - slice_n],
                ))
        })
    };
    let burst = if matches!(outcome, MetricOutcome::Breach | MetricOutcome::Worse)
        && spec.failure_limit > 0
        && !came_with_slice
    {
        let lean = |from: usize| {
            let rest = outside_worst_stretch(&all[from..], n)?;
            let c = rest.canary_ratio()?;
            let against = pooled(&rest);
            let reference = (against.0 > 0.0).then(|| against.1 / against.0);
            // Beyond tolerance of the reference (or over the bound), the counts leaning that way.
            let cmp = (rest.canary_requests, rest.canary_events);
            let leans = match reference {
                Some(b) => c > b * rho0 && log_e_worse_totals(cmp, against, PROOF_RHO) > 0.0,
                None => true,
            } || spec.max.is_some_and(|max| {
                c > max && log_e_over(rest.canary_events, rest.canary_requests, max) > 0.0
            });
            Some((leans, rest, reference))
        };
        let mut looks = vec![lean(len - slice_n)];
        if carried {
            looks.push(lean(0));
        }
        (!looks.iter().flatten().any(|(leans, _, _)| *leans))
            .then(|| looks.into_iter().flatten().last())
            .map(|rest| (n, rest))
    } else {
        None
    };
    let (outcome, result, reason) = match burst {
        Some((n, rest)) => (
            MetricOutcome::Borderline,
            MetricResult::Pass,
            format!(
                "{}: canary {} {span_name}, but it rests on one burst: outside its worst {} steps{} (failure limit {}): watching",
                spec.name,
                side(&widest),
                n,
                match rest {
                    Some((_, t, reference)) => format!(
                        ", {} does not lean beyond ×{:.2} of the reference's {}",
                        side(&t),
                        rho0,
                        reference.map_or("—".into(), fmt)
                    ),
                    None => " nothing is left to judge".into(),
                },
                spec.failure_limit
            ),
        ),
        None => (outcome, result, reason),
    };
    m.outcome = outcome;
    m.result = result;
    m.reason = reason;
    m.counts = Some(CountEvidence {
        slice: se,
        rollout: re,
        recent,
        goal,
        requests_needed: needed,
    });
}

/// The totals of `steps` outside their worst stretch of `n` (the most canary events beyond the
/// steps' own canary ratio): `None` when nothing is left outside it.
fn outside_worst_stretch(steps: &[CountStep], n: usize) -> Option<Totals> {
    if n == 0 || steps.len() <= n {
        return None;
    }
    let all = Totals::of(steps);
    let ratio = all.canary_ratio()?;
    let excess = |s: &CountStep| s.canary_events - ratio * s.canary_requests;
    let mut sum: f64 = steps[..n].iter().map(excess).sum();
    let (mut best, mut at) = (sum, 0);
    for i in n..steps.len() {
        sum += excess(&steps[i]) - excess(&steps[i - n]);
        if sum > best {
            (best, at) = (sum, i + 1 - n);
        }
    }
    let worst = Totals::of(&steps[at..at + n]);
    Some(Totals {
        canary_requests: all.canary_requests - worst.canary_requests,
        canary_events: all.canary_events - worst.canary_events,
        baseline_requests: all.baseline_requests - worst.baseline_requests,
        baseline_events: all.baseline_events - worst.baseline_events,
    })
}

/// The bound crossed, e.g. "> max 0.50 %".
fn bound_text(spec: &MetricSpec, over_max: bool) -> String {
    match (over_max, spec.max, spec.min) {
        (true, Some(max), _) => format!("> max {}", spec.fmt(max)),
        (_, _, Some(min)) => format!("< min {}", spec.fmt(min)),
        (_, Some(max), None) => format!("> max {}", spec.fmt(max)),
        (_, None, None) => String::new(),
    }
}

/// The configured bounds, e.g. "max 0.50 %" or "min 99.00 % / max 100.00 %".
fn bounds_text(spec: &MetricSpec) -> String {
    match (spec.min, spec.max) {
        (Some(min), Some(max)) => format!("min {} / max {}", spec.fmt(min), spec.fmt(max)),
        (None, Some(max)) => format!("max {}", spec.fmt(max)),
        (Some(min), None) => format!("min {}", spec.fmt(min)),
        (None, None) => String::new(),
    }
}

fn threshold_text(spec: &MetricSpec, m: &MetricJudgement, th: &Threshold) -> Option<String> {
    if spec.max.is_none() && spec.min.is_none() {
        return None;
    }
    let inconclusive = if m.inconclusive_windows > 0 {
        format!(", {} inconclusive", m.inconclusive_windows)
    } else {
        String::new()
    };
    let conclusive = m.windows - m.inconclusive_windows;
    Some(if conclusive == 0 {
        format!(
            "{}: no conclusive window to check {} ({} windows{inconclusive})",
            spec.name,
            bounds_text(spec),
            m.windows
        )
    } else if th.breaches > 0 {
        let worst = th.worst.map(|w| spec.fmt(w)).unwrap_or_default();
        let verdict = if th.failed {
            format!("failure limit {}", spec.failure_limit)
        } else {
            format!("within failure limit {}", spec.failure_limit)
        };
        format!(
            "{} {worst} {} in {} of the last {} windows ({verdict}{inconclusive})",
            spec.name,
            bound_text(spec, th.over_max),
            th.breaches,
            m.windows
        )
    } else {
        format!(
            "{} within {} in all {} conclusive windows{}",
            spec.name,
            bounds_text(spec),
            conclusive,
            if m.inconclusive_windows > 0 {
                format!(" ({} inconclusive)", m.inconclusive_windows)
            } else {
                String::new()
            }
        )
    })
}

fn comparison_text(spec: &MetricSpec, m: &MetricJudgement) -> Option<String> {
    let (c, b) = (m.canary_median?, m.baseline_median?);
    let mut s = match m.ratio {
        Some(r) => format!(
            "canary {} = {} baseline {}",
            spec.fmt(c),
            fmt_ratio(r),
            spec.fmt(b)
        ),
        None => format!("canary {} vs baseline {}", spec.fmt(c), spec.fmt(b)),
    };
    if let (Some(shift), Some((lo, hi)), Some(allowed)) = (m.shift, m.ci, m.allowed_shift) {
        let beyond = matches!(m.result, MetricResult::High | MetricResult::Low);
        s.push_str(&format!(
            ", shift {} ({:.0} % CI {} to {}) {} tolerance ±{}",
            spec.unit.format_signed(shift),
            (1.0 - m.alpha) * 100.0,
            spec.unit.format_signed(lo),
            spec.unit.format_signed(hi),
            if beyond { "beyond" } else { "within" },
            spec.fmt(allowed)
        ));
    }
    if let Some(p) = m.p_value {
        s.push_str(&format!(", Mann-Whitney {}", format_p(p)));
        if let Some(e) = m.effect_size {
            s.push_str(&format!(
                " (n {}/{}, effect {e:+.2})",
                m.samples.0, m.samples.1
            ));
        }
        if p >= m.alpha {
            s.push_str(&format!(
                ": no significant difference at α = {}",
                sig3(m.alpha)
            ));
        }
    }
    Some(s)
}

fn metric_reason(spec: &MetricSpec, m: &MetricJudgement, th: &Threshold) -> String {
    let threshold = threshold_text(spec, m, th);
    let comparison = comparison_text(spec, m);
    let join = |parts: &[Option<String>]| {
        parts
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    };
    match m.outcome {
        MetricOutcome::NoData if m.samples.0 < m.min_samples || m.samples.1 < m.min_samples => {
            let dropped = |d: usize| {
                if d > 0 {
                    format!(" ({d} NaN dropped)")
                } else {
                    String::new()
                }
            };
            let mut s = format!(
                "{}: no data: canary {} samples{}, baseline {}{}; need at least {} each",
                spec.name,
                m.samples.0,
                dropped(m.dropped_nan.0),
                m.samples.1,
                dropped(m.dropped_nan.1),
                m.min_samples
            );
            if let Some(t) = threshold.filter(|_| th.breaches > 0) {
                s.push_str("; ");
                s.push_str(&t);
            }
            s
        }
        MetricOutcome::NoData => join(&[threshold, comparison]),
        MetricOutcome::SharedBreach => {
            let base = m.baseline_median.map(|b| spec.fmt(b)).unwrap_or_default();
            join(&[
                threshold,
                Some(format!(
                    "baseline also breaches (median {base} {}): shared problem, not the canary's",
                    bound_text(spec, th.over_max)
                )),
                comparison,
            ])
        }
        MetricOutcome::Borderline => {
            let (c, b) = (
                m.canary_median.map(|v| spec.fmt(v)).unwrap_or_default(),
                m.baseline_median.map(|v| spec.fmt(v)).unwrap_or_default(),
            );
            join(&[
                threshold,
                Some(format!(
                    "but canary median {c} is no worse than baseline {b}, which is within the bound"
                )),
                comparison,
            ])
        }
        MetricOutcome::Breach => {
            let also = if m.baseline_breaches {
                Some("baseline breaches too, but the canary is significantly worse".to_string())
            } else {
                None
            };
            join(&[threshold, also, comparison])
        }
        MetricOutcome::Worse => join(&[
            Some(format!(
                "{} significantly {} than baseline",
                spec.name,
                if m.result == MetricResult::High {
                    "higher"
                } else {
                    "lower"
                }
            )),
            comparison,
            threshold,
        ]),
        MetricOutcome::Pass => {
            let better = if matches!(m.result, MetricResult::High | MetricResult::Low) {
                Some(format!("{} significantly better than baseline", spec.name))
            } else {
                None
            };
            match threshold {
                Some(t) => join(&[Some(t), better, comparison]),
                None => join(&[Some(format!("{} passes", spec.name)), better, comparison]),
            }
        }
    }
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
            "score 0: none of the {} metrics has data",
            judged.len()
        ));
    } else if no_data * 2 >= judged.len() {
        score = 0.0;
        score_reasons.push(format!(
            "score 0: {no_data} of {} metrics have no data (half or more)",
            judged.len()
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
        "score {score:.2} ({passed} of {} metrics with data pass, weighted; band {}: promote ≥ {:.2}, review ≥ {:.2})",
        scored.len(),
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
            "all {} metrics have data and pass; score {score:.2} ≥ promote {:.2}",
            judged.len(),
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
    }
}

#[cfg(test)]
mod tests {
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
        // Clean slices before; then a minute at 100 % in each of four states, against the
        // history's 0.1 %: errors ×10 on and off. Proven since the rollout began at the end of
        // each of the last three windows, but the third-last window alone shows nothing: an
        // outage that comes and goes on every track looks the same. Not a finding yet.
        let last = |windows: [bool; 4]| {
            let mut steps: Vec<_> = std::iter::repeat_n((500.0, 0.5, 500.0, 0.5), 40).collect();
            for bad in windows {
                let e = if bad { 15.0 } else { 1.5 };
                steps.extend(std::iter::repeat_n((1500.0, e, 1500.0, 1.5), 4));
            }
            judge_counted(MetricSamples {
                against_history: true,
                prior: Some((60_000.0, 60.0)),
                ..counted(&steps, Some(16))
            })
        };
        let j = last([false, true, false, true]);
        assert_ne!(j.verdict, Verdict::Rollback, "{}", j.metrics[0].reason);
        // Each of the last three windows on its own: the canary's. ROLLBACK.
        let j = last([false, true, true, true]);
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
            prior: None,
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
        // A doubling takes far fewer: 30 a side (24 are just short).
        let j = judge_with(50, Some(1.0), None);
        assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
        // 400 steps beside the stable's 2,000 errors before the rollout: 240 due against 2,240,
        // enough to have shown +25 %. PROCEED.
        let j = judge_with(400, Some(0.25), Some((2_000_000.0, 2_000.0)));
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
        // Turned off (0), or a quiet service (60 errors in its lookback): PROCEED as before.
        let j = judge_with(40, Some(0.0), busy);
        assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
        let j = judge_with(40, None, (600_000.0, 60.0));
        assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
        // The busy service's canary once its counts could have shown it: PROCEED.
        let j = judge_with(600, None, busy);
        assert_eq!(j.verdict, Verdict::Proceed, "{}", j.metrics[0].reason);
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
        // mean. Against those the canary's 100 errors are 2× (four standard errors: HOLD). Its
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
            without.metrics[0].reason.contains("not proven"),
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
        // erred 14 times in 10,000 requests (0.14 %), the canary 21 (0.21 %). Pooled with the
        // past the reference is 0.19 % (×1.08, within tolerance); the live baseline alone says
        // ×1.5. HOLD, naming the live baseline.
        let judged = |canary: f64| {
            judge_counted(MetricSamples {
                prior: Some((100_000.0, 200.0)),
                ..counted(&vec![(250.0, canary, 250.0, 0.35); 40], None)
            })
        };
        let j = judged(0.525);
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
        says(&j, Verdict::Proceed, "within the noise");
        // The same errors leaning on the canary beside the stable before (10 to 5) and rising
        // with full traffic (7 in the last slice's 3,600 requests): a regression growing with
        // its traffic. HOLD.
        let j = judged(10.0 / 40.0, 7.0 / 12.0);
        says(&j, Verdict::Hold, "not proven");
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

    #[test]
    fn at_100_percent_twice_the_stables_past_holds_the_promotion_even_within_the_noise() {
        // The stable's past: 10,000 requests at 0.1 % before the rollout and 5,000 beside the
        // slices before (15 errors); the canary's 3,400 requests at `x` times that, evenly over
        // the rollout (not rising). Under its 0.5 % bound by its estimate on 17 errors' worth.
        let judged = |x: f64| {
            let c = 0.1 * x; // errors in a step's 100 requests
            let steps: Vec<_> = std::iter::repeat_n((100.0, c, 250.0, 0.25), 20)
                .chain(std::iter::repeat_n((100.0, c, 100.0, 0.1), 14))
                .collect();
            judge_counted(MetricSamples {
                against_history: true,
                prior: Some((10_000.0, 10.0)),
                ..counted(&steps, Some(14))
            })
        };
        // ×1.6 on 5 errors: within the noise. PROCEED.
        says(&judged(1.6), Verdict::Proceed, "");
        // ×2.2 on 7.5 errors: still within two standard errors of parity (few events on either
        // side), but twice the past. HOLD.
        says(&judged(2.2), Verdict::Hold, "not proven");
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
                .any(|r| r.starts_with("score 0.00 (0 of 1 metrics")),
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
            "all 1 metrics have data and pass; score 1.00 ≥ promote 0.92"
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
}
