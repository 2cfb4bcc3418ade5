//! The judge's own benchmark (issue 10): a deterministic, seeded generator of **labelled canary
//! rollouts**, a fake Prometheus that serves them ([`server`]), and the continuous-monitoring run
//! and its report ([`report`]).
//!
//! This file is the generator: pure, no I/O, no clock. A [`Scenario`] is one service rolled out
//! through the slices 10 → 25 → 50 → 100 % ([`SLICES`]), each `slice_secs` long but the last,
//! which lasts the config's bake ([`BAKE_SECS`]) or a slice's length when that is longer, with
//! [`HISTORY_SECS`] of history before the first slice (weight 0, the stable track serving
//! everything). Scenario time is in seconds, 0 at the first slice; points every [`STEP_SECS`].
//!
//! Traffic: `R` requests per second in total, split by weight. The canary serves `w` %, the
//! baseline (a same-size stable track, as Argo Rollouts and Kayenta run it) the same share (`100 −
//! w` % past 50, so nothing at 100 %). Per 15 s step and track: requests ~ Poisson(rate · share ·
//! 15), errors ~ Binomial(requests, p), one log-normal latency per request counted into histogram
//! buckets. Each point is what Prometheus's `rate(x[1m])` gives at that instant: the counts of the
//! last 60 s (four overlapping steps) over 60 — error ratio (NaN when there were no requests),
//! `histogram_quantile(0.99, …)` in ms, requests/s and errors/s. A step is counted in the slice
//! its interval starts in, so traffic reaches a new weight 15 s after the weight changed.
//!
//! Each [`Kind`] has a [`Label`] saying what the judge should answer, and a regression records its
//! onset (the first second the canary is worse by the regression's measure, ≥ +25 %).

use serde::Serialize;

pub mod report;
pub mod server;

/// Seconds between points (and between the judge's polls in the lab).
pub const STEP_SECS: u64 = 15;
/// Prometheus's `rate(…[1m])` window.
pub const WINDOW_SECS: u64 = 60;
/// History before the first slice (at least the judge's 10-minute lookback).
pub const HISTORY_SECS: u64 = 660;
/// Older history before that, the stable track alone, drawn from a stream of its own so that
/// everything from −[`HISTORY_SECS`] on is the same however long it is: what a `reference_secs`
/// longer than the lookback reads (up to an hour before the first slice).
pub const PRE_HISTORY_SECS: u64 = 3000;
/// The canary weights, in percent.
pub const SLICES: [u8; 4] = [10, 25, 50, 100];
/// The bake time of every scenario's config (the default): the 100 % stage lasts this long, or
/// the slice's length when that is longer, so the last poll is the one at which the judge
/// completes the promotion or does not — the decision a rollout ends on. Scenarios are the same
/// up to the end of a slice's length at 100 % whatever this is: what lies past it is drawn from
/// a stream of its own.
pub const BAKE_SECS: u64 = 300;
/// `max` of the error ratio in every scenario's config.
pub const ERROR_BOUND: f64 = 0.005;
/// The judge's lookback in the lab's config (10 minutes).
pub const LOOKBACK_SECS: u64 = 600;
/// The lab's traffic floor (`min_traffic`, canary requests per second).
pub const MIN_TRAFFIC: f64 = 1.0;

/// Upper bounds (ms) of the latency histogram's buckets; the last is `+Inf`.
const BUCKETS_MS: [f64; 22] = [
    10.0,
    25.0,
    50.0,
    75.0,
    100.0,
    125.0,
    150.0,
    175.0,
    200.0,
    250.0,
    300.0,
    350.0,
    400.0,
    500.0,
    600.0,
    800.0,
    1000.0,
    1500.0,
    2000.0,
    3000.0,
    5000.0,
    f64::INFINITY,
];
/// σ of the log-normal latency (p99 = median · e^(2.326 σ)).
const LATENCY_SIGMA: f64 = 0.5;
const Z99: f64 = 2.326_347_874;

// ---------------------------------------------------------------------------------------------
// The PRNG.

/// SplitMix64: a small, fast, well-mixed 64-bit generator; the same seed gives the same stream
/// on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.unit() * n as f64) as u64).min(n.saturating_sub(1))
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal: `exp(mu + sigma · N(0, 1))`.
    pub fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        (mu + sigma * self.normal()).exp()
    }

    /// Poisson(λ): exact inversion below λ = 30, the normal approximation above.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda.is_nan() || lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let mut u = self.unit();
            let mut f = (-lambda).exp();
            let mut k = 0u64;
            while u > f && k < 1000 {
                u -= f;
                k += 1;
                f *= lambda / k as f64;
            }
            k
        } else {
            (lambda + lambda.sqrt() * self.normal() + 0.5)
                .floor()
                .max(0.0) as u64
        }
    }

    /// Binomial(n, p): exact inversion while n·min(p, 1 − p) < 30, the normal approximation above.
    pub fn binomial(&mut self, n: u64, p: f64) -> u64 {
        if n == 0 || p.is_nan() || p <= 0.0 {
            return 0;
        }
        if p >= 1.0 {
            return n;
        }
        if p > 0.5 {
            return n - self.binomial(n, 1.0 - p);
        }
        let mean = n as f64 * p;
        if mean < 30.0 {
            let q = 1.0 - p;
            let r = p / q;
            let mut f = (n as f64 * q.ln()).exp();
            let mut u = self.unit();
            let mut k = 0u64;
            while u > f && k < n {
                u -= f;
                f *= r * (n - k) as f64 / (k + 1) as f64;
                k += 1;
            }
            k
        } else {
            let sd = (mean * (1.0 - p)).sqrt();
            ((mean + sd * self.normal() + 0.5).floor().max(0.0) as u64).min(n)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Kinds and labels.

/// What the judge should answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Label {
    /// A good canary: expected PROCEED.
    Healthy,
    /// Both tracks degrade together, not the canary's fault: HOLD or PROCEED, never ROLLBACK.
    SharedProblem,
    /// A bad canary: expected ROLLBACK, never PROCEED (from its onset).
    Regression,
    /// Too little evidence (low traffic, missing data): expected HOLD.
    NoEvidence,
}

impl Label {
    /// The criterion, in words.
    pub fn criterion(self) -> &'static str {
        match self {
            Label::Healthy => "PROCEED",
            Label::SharedProblem => "never ROLLBACK",
            Label::Regression => "ROLLBACK",
            Label::NoEvidence => "HOLD",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Label::Healthy => "healthy",
            Label::SharedProblem => "shared",
            Label::Regression => "regression",
            Label::NoEvidence => "no-evidence",
        }
    }
}

/// The labelled kinds of scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Kind {
    /// Both tracks alike, Poisson/binomial/log-normal noise only.
    HealthyNoise,
    /// Traffic, error ratio and latency drift slowly (a two-hour cycle), shared by both tracks.
    DiurnalDrift,
    /// Traffic bursts (×2–4 for 30–90 s), errors and latency up a little in them, on both tracks.
    Bursts,
    /// A healthy service whose error ratio is 60–80 % of the bound.
    NearThreshold,
    /// The canary is better: half the errors, or 20 % faster.
    Improvement,
    /// Both tracks' errors ×8–12 for 60–120 s.
    SharedSpike,
    /// A shared incident: both tracks' errors ×4–8 and latency ×1.5–2 for 4–8 minutes (it may
    /// still run at the end).
    SharedIncident,
    /// The canary alone errs ×10–20 (or is ×3 slower) for 15–30 s, then recovers.
    CanarySpike,
    /// From the first slice: errors ×5 (even seeds) or p99 +100 % (odd seeds).
    ClearRegression,
    /// From the first slice: errors +25–40 %, still under the bound, at thousands of requests a
    /// minute on the canary (500–1,000 a second in all: enough that the difference is real by
    /// the end of the rollout; at a tenth of that it is within the counts' noise to any judge).
    SubtleRegression,
    /// Errors ×5 or p99 +100 % from the start of the 50 % slice.
    LateOnset,
    /// Errors ramp from ×1 at the 25 % slice to ×5 at the end; onset when the ramp reaches ×1.25.
    Gradual,
    /// Healthy, ~1–2 requests a second in all: a handful of requests proves nothing at 0.5 %.
    LowTraffic,
    /// No canary series at all, both tracks gone from the 50 % slice, or NaN gaps in the canary
    /// and nothing conclusive in the last slice.
    MissingData,
    /// Healthy at the subtle regressions' traffic (500–1,000 requests a second, 0.15–0.25 %):
    /// their counterpart, where the judge holds a canary to +25 % by default (`detect`).
    BusyHealthy,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::HealthyNoise,
        Kind::DiurnalDrift,
        Kind::Bursts,
        Kind::NearThreshold,
        Kind::Improvement,
        Kind::SharedSpike,
        Kind::SharedIncident,
        Kind::CanarySpike,
        Kind::ClearRegression,
        Kind::SubtleRegression,
        Kind::LateOnset,
        Kind::Gradual,
        Kind::LowTraffic,
        Kind::MissingData,
        Kind::BusyHealthy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::HealthyNoise => "healthy-noise",
            Kind::DiurnalDrift => "diurnal-drift",
            Kind::Bursts => "bursts",
            Kind::NearThreshold => "near-threshold",
            Kind::Improvement => "improvement",
            Kind::SharedSpike => "shared-spike",
            Kind::SharedIncident => "shared-incident",
            Kind::CanarySpike => "canary-spike",
            Kind::ClearRegression => "clear-regression",
            Kind::SubtleRegression => "subtle-regression",
            Kind::LateOnset => "late-onset",
            Kind::Gradual => "gradual",
            Kind::LowTraffic => "low-traffic",
            Kind::MissingData => "missing-data",
            Kind::BusyHealthy => "busy-healthy",
        }
    }

    pub fn label(self) -> Label {
        match self {
            Kind::HealthyNoise
            | Kind::DiurnalDrift
            | Kind::Bursts
            | Kind::NearThreshold
            | Kind::Improvement
            | Kind::CanarySpike
            | Kind::BusyHealthy => Label::Healthy,
            Kind::SharedSpike | Kind::SharedIncident => Label::SharedProblem,
            Kind::ClearRegression | Kind::SubtleRegression | Kind::LateOnset | Kind::Gradual => {
                Label::Regression
            }
            Kind::LowTraffic | Kind::MissingData => Label::NoEvidence,
        }
    }

    fn index(self) -> u64 {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0) as u64
    }
}

/// Which metric a regression worsens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Regressed {
    /// The error ratio.
    Errors,
    /// The latency (p99).
    Latency,
}

impl Regressed {
    pub fn name(self) -> &'static str {
        match self {
            Regressed::Errors => "errors",
            Regressed::Latency => "latency",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

/// One track's series, a point every [`STEP_SECS`] (see [`Scenario::time`]); `None` is no point
/// (no series), `Some(NaN)` a point Prometheus computed as NaN.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Track {
    pub error_ratio: Vec<Option<f64>>,
    pub p99_ms: Vec<Option<f64>>,
    pub requests_per_sec: Vec<Option<f64>>,
    pub errors_per_sec: Vec<Option<f64>>,
    /// Requests slower than the scenario's [`Scenario::slow_bound_ms`] per second, and their share
    /// of all requests (NaN when there were none): a latency bound judged on counts.
    pub slow_per_sec: Vec<Option<f64>>,
    pub slow_ratio: Vec<Option<f64>>,
    /// Requests and errors counted in each 15 s step; step `i + 3` ends at point `i`, so point
    /// `i` covers steps `i..=i + 3`.
    pub step_requests: Vec<u64>,
    pub step_errors: Vec<u64>,
}

/// Which series of a scenario (what each configured query names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeriesId {
    Weight,
    ErrorRatio(Side),
    P99(Side),
    Requests(Side),
    Errors(Side),
    /// Requests slower than the slow bound, per second.
    Slow(Side),
    /// Their share of the requests.
    SlowRatio(Side),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Canary,
    Baseline,
}

impl SeriesId {
    pub const ALL: [SeriesId; 13] = [
        SeriesId::Weight,
        SeriesId::ErrorRatio(Side::Canary),
        SeriesId::ErrorRatio(Side::Baseline),
        SeriesId::P99(Side::Canary),
        SeriesId::P99(Side::Baseline),
        SeriesId::Requests(Side::Canary),
        SeriesId::Requests(Side::Baseline),
        SeriesId::Errors(Side::Canary),
        SeriesId::Errors(Side::Baseline),
        SeriesId::Slow(Side::Canary),
        SeriesId::Slow(Side::Baseline),
        SeriesId::SlowRatio(Side::Canary),
        SeriesId::SlowRatio(Side::Baseline),
    ];
}

/// One labelled rollout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scenario {
    pub kind: Kind,
    pub label: Label,
    pub seed: u64,
    /// The service's name (`clear-regression-07`).
    pub name: String,
    /// Length of each slice.
    pub slice_secs: u64,
    /// Length of the 100 % stage: the bake, or a slice's length when that is longer.
    pub stage_secs: u64,
    /// Total requests per second (before drift and bursts).
    pub total_rps: f64,
    /// The healthy error probability and p99.
    pub base_error_ratio: f64,
    pub base_p99_ms: f64,
    /// The latency bound of the config.
    pub latency_max_ms: f64,
    /// The histogram's bucket bound a slow request is above: the highest at or under
    /// `latency_max_ms` (a p99 over the bound is more than 1 % of the requests above it).
    pub slow_bound_ms: f64,
    /// When a regression starts (scenario seconds), for detection times.
    pub onset_secs: Option<i64>,
    /// The metric a regression worsens.
    pub regressed: Option<Regressed>,
    /// When an oracle would detect the regression, seconds after its onset ([`oracle_detection`]).
    pub oracle_detection_secs: Option<i64>,
    /// What was generated, in words.
    pub description: String,
    /// Time of the first point (−[`HISTORY_SECS`] − [`PRE_HISTORY_SECS`]).
    pub t0: i64,
    /// Canary weight in percent per point.
    pub weight: Vec<Option<f64>>,
    pub canary: Track,
    pub baseline: Track,
}

impl Scenario {
    /// Points per series.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }

    /// Scenario seconds of point `i`.
    pub fn time(&self, i: usize) -> i64 {
        self.t0 + (i as u64 * STEP_SECS) as i64
    }

    /// End of the rollout (the end of the 100 % stage): the judge's last poll.
    pub fn end_secs(&self) -> i64 {
        self.slice_start(SLICES.len() - 1) + self.stage_secs as i64
    }

    /// A slice's length into the 100 % stage: where the lab's last poll was before the stage
    /// lasted the bake.
    pub fn slice_end_secs(&self) -> i64 {
        (SLICES.len() as u64 * self.slice_secs) as i64
    }

    /// Start of slice `k` (0-based).
    pub fn slice_start(&self, k: usize) -> i64 {
        (k as u64 * self.slice_secs) as i64
    }

    /// The series `id`.
    pub fn series(&self, id: SeriesId) -> &[Option<f64>] {
        let track = |s: Side| match s {
            Side::Canary => &self.canary,
            Side::Baseline => &self.baseline,
        };
        match id {
            SeriesId::Weight => &self.weight,
            SeriesId::ErrorRatio(s) => &track(s).error_ratio,
            SeriesId::P99(s) => &track(s).p99_ms,
            SeriesId::Requests(s) => &track(s).requests_per_sec,
            SeriesId::Errors(s) => &track(s).errors_per_sec,
            SeriesId::Slow(s) => &track(s).slow_per_sec,
            SeriesId::SlowRatio(s) => &track(s).slow_ratio,
        }
    }

    /// The value of `id` at scenario second `t`: the latest point at or before it (as a recording
    /// rule evaluated every 15 s reads), `None` before the first point, after the last, or where
    /// the series has no point.
    pub fn value_at(&self, id: SeriesId, t: f64) -> Option<f64> {
        let rel = t - self.t0 as f64;
        if rel.is_nan() || rel < 0.0 {
            return None;
        }
        let i = (rel / STEP_SECS as f64).floor() as usize;
        self.series(id).get(i).copied().flatten()
    }
}

/// The canary weight at scenario second `t` of a rollout with `slice_secs` slices: 0 before it,
/// 100 from the last slice on (the end included).
pub fn weight_at(t: i64, slice_secs: u64) -> u8 {
    if t < 0 {
        return 0;
    }
    let k = (t as u64 / slice_secs.max(1)) as usize;
    SLICES[k.min(SLICES.len() - 1)]
}

/// A change over `[from, to)`: traffic, error probability and latency multiplied.
#[derive(Clone, Copy, Debug)]
struct Span {
    from: i64,
    to: i64,
    rate_x: f64,
    err_x: f64,
    lat_x: f64,
}

impl Span {
    fn at(&self, t: i64) -> bool {
        t >= self.from && t < self.to
    }
}

/// Points of one track removed (`None`) or NaN over `[from, to)`, each with probability `prob`.
#[derive(Clone, Copy, Debug)]
struct Mask {
    side: Option<Side>,
    from: i64,
    to: i64,
    nan: bool,
    prob: f64,
}

/// Everything a kind changes, as functions of time.
#[derive(Clone, Debug, Default)]
struct Model {
    /// (rate amplitude, error amplitude, latency amplitude, phase seconds) of a 2 h cycle.
    diurnal: Option<(f64, f64, f64, f64)>,
    /// On both tracks.
    shared: Vec<Span>,
    /// On the canary only.
    canary: Vec<Span>,
    /// Canary errors ramp linearly from ×1 at `from` to ×`err_x` at `to` and stay there.
    ramp: Option<Span>,
    masks: Vec<Mask>,
}

/// What a track looks like during one step.
struct StepModel {
    rate: f64,
    p: f64,
    lat_x: f64,
}

impl Model {
    fn step(&self, t: i64, base_p: f64, canary: bool) -> StepModel {
        let mut m = StepModel {
            rate: 1.0,
            p: base_p,
            lat_x: 1.0,
        };
        if let Some((ra, ea, la, phase)) = self.diurnal {
            let s = (std::f64::consts::TAU * (t as f64 + phase) / 7200.0).sin();
            m.rate *= 1.0 + ra * s;
            m.p *= 1.0 + ea * s;
            m.lat_x *= 1.0 + la * s;
        }
        let spans = self
            .shared
            .iter()
            .chain(self.canary.iter().filter(|_| canary));
        for s in spans.filter(|s| s.at(t)) {
            m.rate *= s.rate_x;
            m.p *= s.err_x;
            m.lat_x *= s.lat_x;
        }
        if let (true, Some(r)) = (canary, self.ramp)
            && t >= r.from
        {
            let f = ((t - r.from) as f64 / (r.to - r.from).max(1) as f64).min(1.0);
            m.p *= 1.0 + (r.err_x - 1.0) * f;
        }
        m.p = m.p.clamp(0.0, 0.5);
        m
    }
}

/// A rollout's scenario: `kind` and `seed` decide everything.
pub fn generate(kind: Kind, seed: u64) -> Scenario {
    generate_baked(kind, seed, BAKE_SECS)
}

/// [`generate`] with a 100 % stage of `bake` seconds (at least a slice's length).
pub fn generate_baked(kind: Kind, seed: u64, bake: u64) -> Scenario {
    let mut rng = Rng::new(
        seed.wrapping_mul(0xd1b5_4a32_d192_ed03) ^ (kind.index() + 1).wrapping_mul(0x9e37_79b9),
    );
    // Warm the stream up so that neighbouring seeds diverge at once.
    for _ in 0..4 {
        rng.next_u64();
    }
    let slice_secs = 120 + STEP_SECS * rng.below(13); // 120–300 s
    let d = slice_secs as i64;
    let end = 4 * d;
    // What lies past a slice's length at 100 % (the rest of the bake) has a stream of its own, so
    // everything before it is the same however long the stage is.
    let mut ext = Rng::new(
        seed.wrapping_mul(0x94d0_49bb_1331_11eb) ^ (kind.index() + 1).wrapping_mul(0xbf58_476d),
    );
    let stage_secs = slice_secs.max(bake);
    let stage_end = 3 * d + stage_secs as i64;
    let mut total_rps = (10f64.ln() + rng.unit() * (100f64.ln() - 10f64.ln())).exp(); // 10–100, log-uniform
    let mut base_p = rng.range(0.0008, 0.002);
    let base_p99 = rng.range(150.0, 250.0);
    let latency_max_ms = (base_p99 * 1.75 / 10.0).round() * 10.0;
    let mut model = Model::default();
    let mut onset = None;
    let description;
    match kind {
        Kind::HealthyNoise => {
            description = "no change".to_string();
        }
        Kind::DiurnalDrift => {
            let (ra, ea, la) = (
                rng.range(0.3, 0.5),
                rng.range(0.2, 0.4),
                rng.range(0.1, 0.2),
            );
            let phase = rng.range(0.0, 7200.0);
            model.diurnal = Some((ra, ea, la, phase));
            description = format!(
                "2 h cycle on both tracks: traffic ±{:.0} %, errors ±{:.0} %, latency ±{:.0} %",
                ra * 100.0,
                ea * 100.0,
                la * 100.0
            );
        }
        Kind::Bursts => {
            let from = -(HISTORY_SECS as i64) + 60 * rng.below(5) as i64;
            let (t, n) = bursts(&mut model, &mut rng, from, end);
            // On through the rest of the 100 % stage.
            bursts(&mut model, &mut ext, t, stage_end);
            description = format!("{n} traffic bursts ×2–4 on both tracks");
        }
        Kind::NearThreshold => {
            base_p = ERROR_BOUND * rng.range(0.6, 0.8);
            description = format!(
                "error ratio {:.0} % of the bound",
                base_p / ERROR_BOUND * 100.0
            );
        }
        Kind::Improvement => {
            let (err_x, lat_x) = if seed.is_multiple_of(2) {
                (0.5, 1.0)
            } else {
                (1.0, 0.8)
            };
            model.canary.push(Span {
                from: 0,
                to: i64::MAX,
                rate_x: 1.0,
                err_x,
                lat_x,
            });
            description = format!("canary errors ×{err_x}, latency ×{lat_x}");
        }
        Kind::SharedSpike => {
            let from = step_align(rng.range(0.3, 3.5) * d as f64);
            let len = 60 + 15 * rng.below(5) as i64;
            let err_x = rng.range(8.0, 12.0);
            model.shared.push(Span {
                from,
                to: from + len,
                rate_x: 1.0,
                err_x,
                lat_x: 1.3,
            });
            description = format!("both tracks' errors ×{err_x:.1} for {len} s from {from} s");
        }
        Kind::SharedIncident => {
            let from = step_align(rng.range(1.0, 3.0) * d as f64);
            let len = 240 + 15 * rng.below(17) as i64;
            let (err_x, lat_x) = (rng.range(4.0, 8.0), rng.range(1.5, 2.0));
            model.shared.push(Span {
                from,
                to: from + len,
                rate_x: 1.0,
                err_x,
                lat_x,
            });
            description = format!(
                "shared incident: errors ×{err_x:.1}, latency ×{lat_x:.2} for {len} s from {from} s"
            );
        }
        Kind::CanarySpike => {
            let from = step_align(rng.range(0.5, 3.0) * d as f64);
            let len = 15 * (1 + rng.below(2) as i64);
            let (err_x, lat_x) = if seed.is_multiple_of(2) {
                (rng.range(10.0, 20.0), 1.0)
            } else {
                (1.0, 3.0)
            };
            model.canary.push(Span {
                from,
                to: from + len,
                rate_x: 1.0,
                err_x,
                lat_x,
            });
            description = format!(
                "canary alone: errors ×{err_x:.1}, latency ×{lat_x} for {len} s from {from} s"
            );
        }
        Kind::ClearRegression | Kind::LateOnset => {
            let from = if kind == Kind::LateOnset { 2 * d } else { 0 };
            let (err_x, lat_x) = if seed.is_multiple_of(2) {
                (5.0, 1.0)
            } else {
                (1.0, 2.0)
            };
            model.canary.push(Span {
                from,
                to: i64::MAX,
                rate_x: 1.0,
                err_x,
                lat_x,
            });
            onset = Some(from);
            description = if err_x > 1.0 {
                format!("canary errors ×5 from {from} s")
            } else {
                format!("canary p99 +100 % from {from} s")
            };
        }
        Kind::SubtleRegression => {
            total_rps = rng.range(500.0, 1000.0);
            base_p = rng.range(0.0015, 0.0025);
            let err_x = rng.range(1.25, 1.4);
            model.canary.push(Span {
                from: 0,
                to: i64::MAX,
                rate_x: 1.0,
                err_x,
                lat_x: 1.0,
            });
            onset = Some(0);
            description = format!(
                "canary errors +{:.0} % ({:.2} % → {:.2} %, bound 0.50 %)",
                (err_x - 1.0) * 100.0,
                base_p * 100.0,
                base_p * err_x * 100.0
            );
        }
        Kind::Gradual => {
            let ramp = Span {
                from: d,
                to: end,
                rate_x: 1.0,
                err_x: 5.0,
                lat_x: 1.0,
            };
            // ×1.25 is reached a sixteenth of the way up the ramp (×1 → ×5).
            onset = Some(step_align(d as f64 + (end - d) as f64 * 0.25 / 4.0));
            model.ramp = Some(ramp);
            description = format!("canary errors ramp ×1 → ×5 from {d} s to {end} s");
        }
        Kind::BusyHealthy => {
            // Drawn as the subtle regressions' are, without the regression.
            total_rps = rng.range(500.0, 1000.0);
            base_p = rng.range(0.0015, 0.0025);
            description = format!(
                "no change, {total_rps:.0} requests a second at {:.2} %",
                base_p * 100.0
            );
        }
        Kind::LowTraffic => {
            total_rps = rng.range(1.0, 2.0);
            description = "healthy, low traffic".to_string();
        }
        Kind::MissingData => {
            let variant = seed % 3;
            description = match variant {
                0 => {
                    model.masks.push(Mask {
                        side: Some(Side::Canary),
                        from: i64::MIN,
                        to: i64::MAX,
                        nan: false,
                        prob: 1.0,
                    });
                    "no canary series at all".to_string()
                }
                1 => {
                    model.masks.push(Mask {
                        side: None,
                        from: 2 * d,
                        to: i64::MAX,
                        nan: false,
                        prob: 1.0,
                    });
                    format!("every metric gone from {} s (the 50 % slice)", 2 * d)
                }
                _ => {
                    model.masks.push(Mask {
                        side: Some(Side::Canary),
                        from: 0,
                        to: 3 * d,
                        nan: true,
                        prob: 0.4,
                    });
                    model.masks.push(Mask {
                        side: Some(Side::Canary),
                        from: 3 * d,
                        to: i64::MAX,
                        nan: true,
                        prob: 1.0,
                    });
                    format!("canary NaN gaps (40 %), all NaN from {} s", 3 * d)
                }
            };
        }
    }
    let name = format!("{}-{seed:02}", kind.name());
    let regressed = match kind {
        Kind::ClearRegression | Kind::LateOnset if seed.is_multiple_of(2) => {
            Some(Regressed::Errors)
        }
        Kind::ClearRegression | Kind::LateOnset => Some(Regressed::Latency),
        Kind::SubtleRegression | Kind::Gradual => Some(Regressed::Errors),
        _ => None,
    };
    let scenario = build(
        kind,
        seed,
        name,
        slice_secs,
        total_rps,
        base_p,
        base_p99,
        latency_max_ms,
        onset,
        description,
        &model,
        (stage_secs, &mut rng, &mut ext),
    );
    let oracle_detection_secs = oracle_detection(
        regressed,
        onset,
        &model,
        base_p,
        (total_rps, slice_secs),
        stage_end,
    );
    Scenario {
        regressed,
        oracle_detection_secs,
        ..scenario
    }
}

/// Traffic bursts on both tracks from `t` until `until`, drawn from `rng`: where the next would
/// begin, and how many.
fn bursts(model: &mut Model, rng: &mut Rng, mut t: i64, until: i64) -> (i64, usize) {
    let mut n = 0;
    while t < until {
        let len = 30 + 15 * rng.below(5) as i64;
        model.shared.push(Span {
            from: t,
            to: t + len,
            rate_x: rng.range(2.0, 4.0),
            err_x: 1.3,
            lat_x: 1.15,
        });
        n += 1;
        t += len + 120 + 15 * rng.below(17) as i64;
    }
    (t, n)
}

/// The evidence an oracle's detection needs: a likelihood ratio of 20 (α = 0.05, looked at once).
pub const ORACLE_EVIDENCE: f64 = 20.0;

/// A lower bound on any judge's detection time, seconds after the onset: an oracle that knows
/// the canary's and the stable's true error probabilities at every step tests the one against the
/// other with their likelihood ratio, looked at once, on the canary's *expected* requests and
/// errors: the first step after which the expected ln LR (requests × p₀ × (x ln x − x + 1), x the
/// ratio of the two) reaches ln [`ORACLE_EVIDENCE`]. It needs no tolerance, no reference of its
/// own noise, no allowance for looking every poll and no luck: a judge held to the same evidence
/// that must estimate both rates from `rate()[1m]` points does not do better on average. A
/// latency regression (×2 on every request) it sees in the first 15 s point after the onset.
/// `None`: no regression, or not within the rollout.
fn oracle_detection(
    regressed: Option<Regressed>,
    onset: Option<i64>,
    model: &Model,
    base_p: f64,
    (total_rps, slice_secs): (f64, u64),
    end: i64,
) -> Option<i64> {
    let onset = onset?;
    let step = STEP_SECS as i64;
    match regressed? {
        Regressed::Latency => Some(step),
        Regressed::Errors => {
            let goal = ORACLE_EVIDENCE.ln();
            let mut evidence = 0.0;
            let mut t = onset;
            while t < end {
                let canary = model.step(t, base_p, true);
                let stable = model.step(t, base_p, false);
                let requests = total_rps * canary.rate * f64::from(weight_at(t, slice_secs))
                    / 100.0
                    * step as f64;
                if stable.p > 0.0 && canary.p > stable.p {
                    let x = canary.p / stable.p;
                    evidence += requests * stable.p * (x * x.ln() - x + 1.0);
                }
                t += step;
                if evidence >= goal {
                    return Some(t - onset);
                }
            }
            None
        }
    }
}

/// `t` rounded down to a step.
fn step_align(t: f64) -> i64 {
    let s = STEP_SECS as i64;
    (t as i64).div_euclid(s) * s
}

#[allow(clippy::too_many_arguments)]
fn build(
    kind: Kind,
    seed: u64,
    name: String,
    slice_secs: u64,
    total_rps: f64,
    base_p: f64,
    base_p99: f64,
    latency_max_ms: f64,
    onset_secs: Option<i64>,
    description: String,
    model: &Model,
    (stage_secs, rng, ext): (u64, &mut Rng, &mut Rng),
) -> Scenario {
    let step = STEP_SECS as i64;
    // The older history's points come first, from a stream of their own (`pre`).
    let pre_n = (PRE_HISTORY_SECS / STEP_SECS) as usize;
    let mut pre = Rng::new(
        seed.wrapping_mul(0xa076_1d64_78bd_642f) ^ (kind.index() + 1).wrapping_mul(0xe703_7ed1),
    );
    let t0 = -(HISTORY_SECS as i64) - pre_n as i64 * step;
    let end = 3 * slice_secs as i64 + stage_secs as i64;
    let n = ((end - t0) / step + 1) as usize;
    let per_window = (WINDOW_SECS / STEP_SECS) as usize; // 4
    let steps = n + per_window - 1;
    // The steps up to a slice's length at 100 % come from `rng`, the rest of the stage's from
    // `ext`.
    let own = ((SLICES.len() as u64 * slice_secs) as i64 + HISTORY_SECS as i64) as usize
        / STEP_SECS as usize
        + per_window
        + pre_n;
    let median = base_p99 / (Z99 * LATENCY_SIGMA).exp();
    let slow_bound_ms = slow_bound(latency_max_ms);
    // Buckets at or under the slow bound; the rest hold the slow requests.
    let fast_buckets = BUCKETS_MS.partition_point(|le| *le <= slow_bound_ms);
    let mut tracks = [Track::default(), Track::default()];
    let mut buckets: [Vec<[u64; BUCKETS_MS.len()]>; 2] = [Vec::new(), Vec::new()];
    for j in 0..steps {
        // Step j covers (τ − 15, τ], τ = t0 − 45 + 15 j; it counts in the slice its interval
        // starts in.
        let tau = t0 - (per_window as i64 - 1) * step + j as i64 * step;
        let t = tau - step;
        let w = weight_at(t, slice_secs) as f64;
        let shares = [
            w / 100.0,
            if w == 0.0 {
                1.0
            } else {
                w.min(100.0 - w) / 100.0
            },
        ];
        let rng: &mut Rng = if j < pre_n {
            &mut pre
        } else if j < own {
            &mut *rng
        } else {
            &mut *ext
        };
        for (side, share) in shares.into_iter().enumerate() {
            let m = model.step(t, base_p, side == 0);
            let requests = rng.poisson(total_rps * m.rate * share * step as f64);
            let errors = rng.binomial(requests, m.p);
            let mut b = [0u64; BUCKETS_MS.len()];
            let mu = (median * m.lat_x).ln();
            for _ in 0..requests {
                let v = rng.lognormal(mu, LATENCY_SIGMA);
                let i = BUCKETS_MS.partition_point(|le| *le < v);
                b[i.min(BUCKETS_MS.len() - 1)] += 1;
            }
            tracks[side].step_requests.push(requests);
            tracks[side].step_errors.push(errors);
            buckets[side].push(b);
        }
    }
    let mut weight = Vec::with_capacity(n);
    for i in 0..n {
        let t = t0 + i as i64 * step;
        weight.push(Some(weight_at(t, slice_secs) as f64));
        for side in 0..2 {
            let tr = &mut tracks[side];
            let win = i..i + per_window;
            let req: u64 = tr.step_requests[win.clone()].iter().sum();
            let err: u64 = tr.step_errors[win.clone()].iter().sum();
            let mut hist = [0u64; BUCKETS_MS.len()];
            for b in &buckets[side][win] {
                for (h, c) in hist.iter_mut().zip(b) {
                    *h += c;
                }
            }
            // The canary's series exist once it is deployed (the first slice).
            let exists = side == 1 || t >= 0;
            let ratio = if req == 0 {
                f64::NAN
            } else {
                err as f64 / req as f64
            };
            let point = |v: f64| exists.then_some(v);
            tr.error_ratio.push(point(ratio));
            tr.p99_ms.push(point(histogram_quantile(0.99, &hist)));
            tr.requests_per_sec
                .push(point(req as f64 / WINDOW_SECS as f64));
            tr.errors_per_sec
                .push(point(err as f64 / WINDOW_SECS as f64));
            let slow: u64 = hist[fast_buckets..].iter().sum();
            tr.slow_per_sec
                .push(point(slow as f64 / WINDOW_SECS as f64));
            tr.slow_ratio.push(point(if req == 0 {
                f64::NAN
            } else {
                slow as f64 / req as f64
            }));
        }
    }
    // (Not over the older history: the masks' draws stay those of the points from −HISTORY_SECS.)
    for mask in &model.masks {
        for i in pre_n..n {
            let t = t0 + i as i64 * step;
            if t < mask.from || t >= mask.to {
                continue;
            }
            for (side, tr) in tracks.iter_mut().enumerate() {
                let s = if side == 0 {
                    Side::Canary
                } else {
                    Side::Baseline
                };
                if mask.side.is_some_and(|m| m != s) || rng.unit() >= mask.prob {
                    continue;
                }
                let v = if mask.nan { Some(f64::NAN) } else { None };
                for series in [
                    &mut tr.error_ratio,
                    &mut tr.p99_ms,
                    &mut tr.requests_per_sec,
                    &mut tr.errors_per_sec,
                    &mut tr.slow_per_sec,
                    &mut tr.slow_ratio,
                ] {
                    series[i] = v;
                }
            }
        }
    }
    let [canary, baseline] = tracks;
    Scenario {
        kind,
        label: kind.label(),
        seed,
        name,
        slice_secs,
        stage_secs,
        total_rps,
        base_error_ratio: base_p,
        base_p99_ms: base_p99,
        latency_max_ms,
        slow_bound_ms,
        onset_secs,
        regressed: None,
        oracle_detection_secs: None,
        description,
        t0,
        weight,
        canary,
        baseline,
    }
}

/// The highest bucket bound at or under `max_ms` (the lowest when none is).
pub fn slow_bound(max_ms: f64) -> f64 {
    BUCKETS_MS
        .iter()
        .copied()
        .rfind(|le| le.is_finite() && *le <= max_ms)
        .unwrap_or(BUCKETS_MS[0])
}

/// Prometheus's `histogram_quantile`: linear interpolation within the bucket holding the rank;
/// the `+Inf` bucket answers the highest finite bound; NaN without observations.
pub fn histogram_quantile(q: f64, counts: &[u64; BUCKETS_MS.len()]) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return f64::NAN;
    }
    let rank = q * total as f64;
    let mut cum = 0u64;
    for (i, c) in counts.iter().enumerate() {
        let prev = cum;
        cum += c;
        if cum as f64 >= rank && *c > 0 {
            if BUCKETS_MS[i].is_infinite() {
                return BUCKETS_MS[i - 1];
            }
            let lower = if i == 0 { 0.0 } else { BUCKETS_MS[i - 1] };
            return lower + (BUCKETS_MS[i] - lower) * (rank - prev as f64) / *c as f64;
        }
    }
    BUCKETS_MS[BUCKETS_MS.len() - 2]
}

/// `seeds_per_kind` scenarios of every kind (seeds 1 ..= n), in [`Kind::ALL`] order.
pub fn suite(seeds_per_kind: u64) -> Vec<Scenario> {
    suite_from(1, seeds_per_kind)
}

/// [`suite`] from seed `first` on: seeds `first..first + seeds_per_kind` of every kind (a block
/// of seeds nothing was tuned on).
pub fn suite_from(first: u64, seeds_per_kind: u64) -> Vec<Scenario> {
    let first = first.max(1);
    Kind::ALL
        .iter()
        .flat_map(|k| (first..first.saturating_add(seeds_per_kind)).map(move |s| generate(*k, s)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Queries and config.

/// What the lab's config turns on.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LabConfig {
    /// Also give the judge the request and error counts (`requests`, `errors`,
    /// `baseline_requests`, `baseline_errors` per metric, `baseline_traffic` per service). Off by
    /// default: today's config has no such keys.
    pub counts: bool,
    /// Give the error ratio as its query alone (no count keys, no `kind`, no traffic floor): the
    /// judge reads the counts from the ratio's numerator and denominator, as it does for a
    /// config that writes only the ratio. Without this or `counts`, the ratio is judged on its
    /// samples (`kind = "samples"`, with the `min_traffic` floor), as before counting.
    pub ratio_only: bool,
    /// Count the error ratio from its samples times the service's traffic (`kind = "ratio"`,
    /// `traffic` and `baseline_traffic`, no count keys): the config that names no count queries,
    /// and what a ratio read apart falls back to when its halves are not answered.
    pub ratio_traffic: bool,
    /// With counts: the error ratio's opt-in `detect` (PROCEED only once the counts could have
    /// shown this relative excess).
    pub detect: Option<f64>,
    /// Judge latency on counts too: the share of requests slower than the latency bound's
    /// bucket (`slow_ratio`, at most 1 %: the p99 under the bound), from the histogram's
    /// `_count` and `_bucket` series, in place of the p99's samples.
    pub latency_counts: bool,
    /// Every metric's `failure_limit` (judging windows allowed to breach); unset, the config's
    /// default of 1.
    pub failure_limit: Option<usize>,
    /// The service's `reference_secs` (how much of the stable's history before the rollout a
    /// counted ratio is compared with); unset, the config's default.
    pub reference_secs: Option<u64>,
}

/// The PromQL a config names for series `id` of scenario `s`'s service (the fake answers exactly
/// these).
pub fn query(s: &Scenario, id: SeriesId) -> String {
    let app = s.name.as_str();
    let track = |s: Side| match s {
        Side::Canary => "canary",
        Side::Baseline => "baseline",
    };
    match id {
        SeriesId::Weight => format!(r#"flagger_canary_weight{{name="{app}"}}"#),
        SeriesId::ErrorRatio(s) => format!(
            r#"sum(rate(http_requests_total{{app="{app}",track="{t}",code=~"5.."}}[1m])) / sum(rate(http_requests_total{{app="{app}",track="{t}"}}[1m]))"#,
            t = track(s)
        ),
        SeriesId::P99(s) => format!(
            r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{app="{app}",track="{t}"}}[1m]))) * 1000"#,
            t = track(s)
        ),
        SeriesId::Requests(s) => format!(
            r#"sum(rate(http_requests_total{{app="{app}",track="{t}"}}[1m]))"#,
            t = track(s)
        ),
        SeriesId::Errors(s) => format!(
            r#"sum(rate(http_requests_total{{app="{app}",track="{t}",code=~"5.."}}[1m]))"#,
            t = track(s)
        ),
        SeriesId::Slow(side) => slow_query(app, track(side), s.slow_bound_ms),
        SeriesId::SlowRatio(side) => format!(
            "({}) / {}",
            slow_query(app, track(side), s.slow_bound_ms),
            timed_query(app, track(side))
        ),
    }
}

/// Requests per second the latency histogram observed.
fn timed_query(app: &str, track: &str) -> String {
    format!(r#"sum(rate(http_request_duration_seconds_count{{app="{app}",track="{track}"}}[1m]))"#)
}

/// Requests per second slower than `bound_ms`: all of them less those in the bucket at the bound.
fn slow_query(app: &str, track: &str, bound_ms: f64) -> String {
    format!(
        r#"{} - sum(rate(http_request_duration_seconds_bucket{{app="{app}",track="{track}",le="{le}"}}[1m]))"#,
        timed_query(app, track),
        le = bound_ms / 1000.0
    )
}

/// A complete config (as the README describes it) for one scenario's service, judged against
/// the Prometheus at `prometheus_url`.
pub fn config_toml(prometheus_url: &str, s: &Scenario, cfg: LabConfig) -> String {
    let q = |id| query(s, id);
    let (c, b) = (Side::Canary, Side::Baseline);
    let counts_service = if cfg.counts || (cfg.ratio_traffic && !cfg.ratio_only) {
        format!("baseline_traffic = '{}'\n", q(SeriesId::Requests(b)))
    } else {
        String::new()
    };
    let counts_metric = if cfg.ratio_traffic && !cfg.counts && !cfg.ratio_only {
        format!(
            "kind = \"ratio\"\n{}",
            cfg.detect
                .map_or(String::new(), |d| format!("detect = {d:?}\n"))
        )
    } else if cfg.ratio_only && !cfg.counts {
        cfg.detect
            .map_or(String::new(), |d| format!("detect = {d:?}\n"))
    } else if cfg.counts {
        format!(
            "requests = '{}'\nerrors = '{}'\nbaseline_requests = '{}'\nbaseline_errors = '{}'\n{}",
            q(SeriesId::Requests(c)),
            q(SeriesId::Errors(c)),
            q(SeriesId::Requests(b)),
            q(SeriesId::Errors(b)),
            cfg.detect
                .map_or(String::new(), |d| format!("detect = {d:?}\n")),
        )
    } else {
        "kind = \"samples\"\n".to_string()
    };
    format!(
        r#"# flightdeck judge lab: {kind} (seed {seed}), {description}
cache = false

[prometheus]
url = "{prometheus_url}"

[[service]]
name = "{name}"
environment = "production"
production = true
slices = [10, 25, 50, 100]
weight = '{weight}'
traffic = '{traffic}'
{floor}{counts_service}{reference}lookback_secs = {LOOKBACK_SECS}
bake_secs = {BAKE_SECS}
step_secs = {STEP_SECS}
window_secs = {WINDOW_SECS}

[service.metrics.error_rate]
canary = '{err_c}'
baseline = '{err_b}'
max = {ERROR_BOUND:?}
{counts_metric}{fl}
{latency}{fl}"#,
        fl = cfg
            .failure_limit
            .map_or(String::new(), |n| format!("failure_limit = {n}\n")),
        kind = s.kind.name(),
        reference = cfg
            .reference_secs
            .map_or(String::new(), |r| format!("reference_secs = {r}\n")),
        // Counting needs no traffic floor: the counts say when there is too little evidence.
        floor = if cfg.counts || cfg.ratio_only || cfg.ratio_traffic {
            String::new()
        } else {
            format!("min_traffic = {MIN_TRAFFIC:?}\n")
        },
        seed = s.seed,
        description = s.description,
        name = s.name,
        weight = q(SeriesId::Weight),
        traffic = q(SeriesId::Requests(c)),
        err_c = q(SeriesId::ErrorRatio(c)),
        err_b = q(SeriesId::ErrorRatio(b)),
        latency = if cfg.latency_counts {
            format!(
                "# At most 1 % of requests slower than {bound} ms (the p99 under it), on counts.\n\
                 [service.metrics.slow_ratio]\ncanary = '{}'\nbaseline = '{}'\nmax = 0.01\n\
                 requests = '{}'\nerrors = '{}'\nbaseline_requests = '{}'\nbaseline_errors = '{}'\n",
                q(SeriesId::SlowRatio(c)),
                q(SeriesId::SlowRatio(b)),
                q(SeriesId::Requests(c)),
                q(SeriesId::Slow(c)),
                q(SeriesId::Requests(b)),
                q(SeriesId::Slow(b)),
                bound = s.slow_bound_ms,
            )
        } else {
            format!(
                "[service.metrics.latency_p99_ms]\ncanary = '{}'\nbaseline = '{}'\nmax = {:?}\n",
                q(SeriesId::P99(c)),
                q(SeriesId::P99(b)),
                s.latency_max_ms
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_scenario() {
        for kind in Kind::ALL {
            // Debug, so that NaN points compare equal.
            let same = format!("{:?}", generate(kind, 3)) == format!("{:?}", generate(kind, 3));
            assert!(same, "{kind:?}: the same seed, the same scenario");
            assert_ne!(
                generate(kind, 3).canary.step_requests,
                generate(kind, 4).canary.step_requests,
                "{kind:?}: seeds differ"
            );
        }
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
    }

    #[test]
    fn poisson_and_binomial_means_are_right() {
        let mut rng = Rng::new(7);
        for lambda in [0.5, 4.0, 25.0, 80.0, 1500.0] {
            let n = 20_000;
            let xs: Vec<f64> = (0..n).map(|_| rng.poisson(lambda) as f64).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            let se = (lambda / n as f64).sqrt();
            assert!((mean - lambda).abs() < 5.0 * se, "λ {lambda}: mean {mean}");
            assert!(
                (var / lambda - 1.0).abs() < 0.1,
                "λ {lambda}: variance {var}"
            );
        }
        for (trials, p) in [
            (10u64, 0.3),
            (1500, 0.002),
            (6000, 0.004),
            (400, 0.5),
            (50, 0.9),
        ] {
            let n = 20_000;
            let mean = (0..n).map(|_| rng.binomial(trials, p) as f64).sum::<f64>() / n as f64;
            let expect = trials as f64 * p;
            let se = (expect * (1.0 - p) / n as f64).sqrt();
            assert!((mean - expect).abs() < 5.0 * se, "B({trials}, {p}): {mean}");
        }
        assert_eq!(rng.binomial(0, 0.5), 0);
        assert_eq!(rng.poisson(0.0), 0);
    }

    #[test]
    fn lognormal_p99_is_where_it_should_be() {
        let mut rng = Rng::new(11);
        let mut xs: Vec<f64> = (0..50_000)
            .map(|_| rng.lognormal(100f64.ln(), LATENCY_SIGMA))
            .collect();
        xs.sort_by(f64::total_cmp);
        let p99 = xs[(0.99 * xs.len() as f64) as usize];
        let expect = 100.0 * (Z99 * LATENCY_SIGMA).exp();
        assert!((p99 / expect - 1.0).abs() < 0.05, "{p99} vs {expect}");
    }

    #[test]
    fn points_are_overlapping_one_minute_windows() {
        let s = generate(Kind::HealthyNoise, 1);
        for tr in [&s.canary, &s.baseline] {
            for i in 0..s.len() {
                let Some(rps) = tr.requests_per_sec[i] else {
                    continue;
                };
                let req: u64 = tr.step_requests[i..i + 4].iter().sum();
                let err: u64 = tr.step_errors[i..i + 4].iter().sum();
                assert_eq!(Some(rps), Some(req as f64 / 60.0), "point {i}");
                assert_eq!(tr.errors_per_sec[i], Some(err as f64 / 60.0));
                match tr.error_ratio[i] {
                    Some(r) if req == 0 => assert!(r.is_nan()),
                    Some(r) => assert_eq!(r, err as f64 / req as f64),
                    None => panic!("a point without a ratio"),
                }
            }
        }
        // Consecutive points share three of their four steps.
        let tr = &s.baseline;
        let a: u64 = tr.step_requests[10..14].iter().sum();
        let b: u64 = tr.step_requests[11..15].iter().sum();
        assert_eq!(
            a as i64 - b as i64,
            tr.step_requests[10] as i64 - tr.step_requests[14] as i64
        );
    }

    #[test]
    fn weight_is_zero_before_the_rollout_and_the_baseline_serves_everything() {
        let s = generate(Kind::ClearRegression, 2);
        assert!(s.t0 <= -600, "at least ten minutes of history");
        let mut pre = 0;
        for i in 0..s.len() {
            let t = s.time(i);
            let w = s.weight[i];
            if t < 0 {
                pre += 1;
                assert_eq!(w, Some(0.0));
                assert_eq!(s.canary.error_ratio[i], None, "no canary yet at {t}");
                let rps = s.baseline.requests_per_sec[i].unwrap_or(0.0);
                assert!(
                    rps > s.total_rps * 0.5,
                    "the baseline serves all at {t}: {rps}"
                );
            } else {
                let expect = SLICES[((t as u64 / s.slice_secs) as usize).min(3)];
                assert_eq!(w, Some(expect as f64), "at {t}");
            }
        }
        assert!(pre >= 40);
        assert_eq!(s.time(s.len() - 1), s.end_secs());
        assert_eq!(s.weight.last(), Some(&Some(100.0)));
        // At 100 % the baseline has no traffic (NaN ratio), the canary all of it.
        let last = s.len() - 1;
        assert_eq!(s.baseline.requests_per_sec[last], Some(0.0));
        assert!(s.baseline.error_ratio[last].is_some_and(f64::is_nan));
        // At 10 %, canary and baseline serve about the same.
        let i = s.len() - 1 - (3 * s.slice_secs / STEP_SECS) as usize - 1;
        let (c, b) = (
            s.canary.requests_per_sec[i].unwrap_or(0.0),
            s.baseline.requests_per_sec[i].unwrap_or(0.0),
        );
        assert!((c - b).abs() < 0.5 * s.total_rps * 0.1 + 3.0, "{c} vs {b}");
    }

    #[test]
    fn the_100_percent_stage_lasts_the_bake_and_adds_nothing_before_a_slices_length_into_it() {
        let same = |a: &[Option<f64>], b: &[Option<f64>]| {
            a.iter()
                .zip(b)
                .all(|(x, y)| x.map(f64::to_bits) == y.map(f64::to_bits))
        };
        for kind in Kind::ALL {
            for seed in 1..=4 {
                let short = generate_baked(kind, seed, 0);
                let s = generate(kind, seed);
                assert_eq!(short.stage_secs, short.slice_secs);
                assert_eq!(s.stage_secs, s.slice_secs.max(BAKE_SECS));
                assert_eq!(s.end_secs(), s.slice_start(3) + s.stage_secs as i64);
                assert_eq!(short.end_secs(), s.slice_end_secs());
                assert_eq!(s.time(s.len() - 1), s.end_secs());
                assert_eq!(s.weight.last(), Some(&Some(100.0)), "{}", s.name);
                // Every point up to a slice's length into 100 % is the same, whatever the stage.
                assert!(short.len() <= s.len());
                for id in SeriesId::ALL {
                    assert!(same(short.series(id), s.series(id)), "{} {id:?}", s.name);
                }
                assert_eq!(short.onset_secs, s.onset_secs);
                assert_eq!(short.description, s.description);
            }
        }
        // A slice of 300 s is already as long as the bake.
        let long = (1..100)
            .map(|seed| generate(Kind::HealthyNoise, seed))
            .find(|s| s.slice_secs == 300)
            .expect("a seed with 300 s slices");
        assert_eq!(long.end_secs(), long.slice_end_secs());
    }

    #[test]
    fn labels_onsets_and_the_suite() {
        let suite = suite(8);
        assert_eq!(suite.len(), 8 * Kind::ALL.len());
        for s in &suite {
            assert_eq!(s.label, s.kind.label());
            assert_eq!(
                s.onset_secs.is_some(),
                s.label == Label::Regression,
                "{}",
                s.name
            );
            assert!((120..=300).contains(&s.slice_secs));
            assert!(s.slice_secs.is_multiple_of(STEP_SECS));
        }
        let late = generate(Kind::LateOnset, 1);
        assert_eq!(late.onset_secs, Some(late.slice_start(2)));
        // The busy healthy kind: the subtle regressions' traffic and error ratios, no regression.
        for s in suite.iter().filter(|s| s.kind == Kind::BusyHealthy) {
            assert_eq!(s.label, Label::Healthy);
            assert!((500.0..=1000.0).contains(&s.total_rps), "{}", s.name);
            assert!(
                (0.0015..=0.0025).contains(&s.base_error_ratio),
                "{}",
                s.name
            );
        }
        let names: std::collections::BTreeSet<&str> =
            suite.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), suite.len(), "names are unique");
    }

    #[test]
    fn regressions_show_in_the_canary_only() {
        let s = generate(Kind::ClearRegression, 2); // errors ×5
        let mean = |v: &[Option<f64>]| {
            let xs: Vec<f64> = v
                .iter()
                .flatten()
                .copied()
                .filter(|x| x.is_finite())
                .collect();
            xs.iter().sum::<f64>() / xs.len() as f64
        };
        let from = (-s.t0 / STEP_SECS as i64) as usize + 4;
        let to = from + (2 * s.slice_secs / STEP_SECS) as usize;
        let c = mean(&s.canary.error_ratio[from..to]);
        let b = mean(&s.baseline.error_ratio[from..to]);
        assert!(c > 3.0 * b, "canary {c} vs baseline {b}");
        let low = generate(Kind::LowTraffic, 1);
        assert!(low.total_rps <= 2.0);
        let missing = generate(Kind::MissingData, 3); // seed 3: no canary series
        assert!(missing.canary.error_ratio.iter().all(Option::is_none));
    }

    #[test]
    fn a_latency_regression_shows_in_the_share_of_slow_requests() {
        // The share of requests above the slow bound over the rollout, per track.
        let share = |s: &Scenario, side: Side| {
            let (mut slow, mut all) = (0.0, 0.0);
            for i in 0..s.len() {
                if s.time(i) < 60 {
                    continue;
                }
                slow += s
                    .value_at(SeriesId::Slow(side), s.time(i) as f64)
                    .unwrap_or(0.0);
                all += s
                    .value_at(SeriesId::Requests(side), s.time(i) as f64)
                    .unwrap_or(0.0);
            }
            slow / all
        };
        for seed in [1, 3, 5] {
            // p99 +100 % on the canary (odd seeds): a few percent of its requests are slow.
            let s = generate(Kind::ClearRegression, seed);
            assert_eq!(s.regressed, Some(Regressed::Latency));
            assert!(s.slow_bound_ms <= s.latency_max_ms && s.slow_bound_ms >= 200.0);
            let (c, b) = (share(&s, Side::Canary), share(&s, Side::Baseline));
            assert!(c > 0.01, "{}: canary {c}", s.name);
            assert!(b < 0.002, "{}: baseline {b}", s.name);
            // The ratio series is the same share, point by point.
            let i = s.len() - 1;
            let t = s.time(i) as f64;
            let ratio = s
                .value_at(SeriesId::SlowRatio(Side::Canary), t)
                .unwrap_or(f64::NAN);
            let rate = s
                .value_at(SeriesId::Slow(Side::Canary), t)
                .unwrap_or(f64::NAN)
                / s.value_at(SeriesId::Requests(Side::Canary), t)
                    .unwrap_or(f64::NAN);
            assert!((ratio - rate).abs() < 1e-12, "{ratio} {rate}");
        }
        // A healthy canary: as few slow requests as its baseline.
        let s = generate(Kind::HealthyNoise, 2);
        assert!(share(&s, Side::Canary) < 0.002);
        assert_eq!(slow_bound(340.0), 300.0);
        assert_eq!(slow_bound(5.0), 10.0);
    }

    #[test]
    fn a_slice_into_100_percent_within_the_bake_takes_a_baking_hold_as_a_healthy_answer() {
        use super::report::{Poll, ScenarioResult};
        use crate::analysis::canary::Verdict;
        let poll = |t: i64, verdict: Verdict, baking: bool| Poll {
            t,
            weight: Some(100.0),
            verdict: Some(verdict),
            score: None,
            summary: String::new(),
            reasons: Vec::new(),
            baking,
            error: None,
        };
        let at_slice_end = |s: &Scenario, verdict: Verdict, baking: bool| {
            ScenarioResult::new(s, vec![poll(s.slice_end_secs(), verdict, baking)])
        };
        let healthy = generate(Kind::HealthyNoise, 1);
        assert!(healthy.slice_end_secs() < healthy.end_secs());
        assert!(at_slice_end(&healthy, Verdict::Hold, true).slice_end_correct);
        assert!(at_slice_end(&healthy, Verdict::Proceed, false).slice_end_correct);
        // Any other HOLD is not.
        assert!(!at_slice_end(&healthy, Verdict::Hold, false).slice_end_correct);
        // A regression's answer is ROLLBACK, baking or not.
        let ramp = generate(Kind::Gradual, 1);
        assert!(!at_slice_end(&ramp, Verdict::Hold, true).slice_end_correct);
    }

    #[test]
    fn a_proceed_on_a_regression_counts_apart_once_the_oracle_could_tell() {
        use super::report::{Poll, ScenarioResult};
        use crate::analysis::canary::Verdict;
        let mut s = generate(Kind::Gradual, 1);
        let onset = s.onset_secs.expect("a gradual ramp has an onset");
        s.oracle_detection_secs = Some(240);
        let poll = |t: i64, verdict: Verdict| Poll {
            t,
            weight: Some(25.0),
            verdict: Some(verdict),
            score: None,
            summary: String::new(),
            reasons: Vec::new(),
            baking: false,
            error: None,
        };
        let with = |s: &Scenario, proceed_at: i64| {
            let timeline = vec![
                poll(onset, Verdict::Hold),
                poll(onset + proceed_at, Verdict::Proceed),
                poll(onset + 600, Verdict::Rollback),
            ];
            ScenarioResult::new(s, timeline)
        };
        // Within the first window after the onset: not in the data yet, neither counts.
        let r = with(&s, 45);
        assert!(!r.proceed_on_regression && !r.proceed_after_oracle);
        // In the data, before an oracle could tell it from a healthy canary: the first only.
        let r = with(&s, 90);
        assert!(r.proceed_on_regression && !r.proceed_after_oracle);
        // At or after the oracle's detection: both.
        for at in [240, 300] {
            let r = with(&s, at);
            assert!(r.proceed_on_regression && r.proceed_after_oracle, "{at}");
        }
        // A regression no oracle detects within the rollout: never "after" it.
        s.oracle_detection_secs = None;
        let r = with(&s, 300);
        assert!(r.proceed_on_regression && !r.proceed_after_oracle);
        // Counted in the figures, shown beside PROCEED on a regression.
        s.oracle_detection_secs = Some(240);
        let results = vec![with(&s, 90), with(&s, 300)];
        let stats = super::report::Stats::of(&results);
        assert_eq!(
            (stats.proceed_on_regression, stats.proceed_after_oracle),
            (2, 1)
        );
        let table = super::report::render_table(&results);
        assert!(
            table.contains("of them once an oracle could tell"),
            "{table}"
        );
        assert!(table.contains("1 of 2"), "{table}");
    }

    #[test]
    fn the_judges_detection_is_reported_on_the_regressions_an_oracle_detects_in_time() {
        use super::report::{ScenarioResult, render_oracle_detection};
        let s = generate(Kind::ClearRegression, 1);
        // (the oracle's detection, the judge's): three within the oracle's 90 s, one not.
        let results: Vec<ScenarioResult> = [
            (Some(15), Some(75)),
            (Some(45), Some(120)),
            (Some(30), None),
            (Some(300), Some(330)),
        ]
        .into_iter()
        .map(|(oracle, judge)| {
            let mut r = ScenarioResult::new(&s, Vec::new());
            r.oracle_detection_secs = oracle;
            r.detection_secs = judge;
            r
        })
        .collect();
        let text = render_oracle_detection(&results);
        assert!(
            text.contains("median 38 s over all 4 regressions, 3 within 90 s"),
            "{text}"
        );
        // Over those three: 75, 120 and never → 120 s; one within 90 s.
        assert!(
            text.contains(
                "on the 3 regressions an oracle detects within 90 s: the judge's median 120 s, 1 within"
            ),
            "{text}"
        );
        // None in reach: no such line.
        let late: Vec<ScenarioResult> = results.into_iter().skip(3).collect();
        assert!(!render_oracle_detection(&late).contains("on the "));
    }

    #[test]
    fn the_oracle_detects_from_the_true_rates_expected_evidence() {
        // 100 requests a second at 0.1 %, the canary ×5 from the start, at 10 %: 150 requests a
        // step, 0.15 errors due, 0.15 × (5 ln 5 − 4) = 0.61 of ln LR a step; ln 20 = 3.0 is
        // reached after the fifth step.
        let model = |err_x: f64| Model {
            canary: vec![Span {
                from: 0,
                to: i64::MAX,
                rate_x: 1.0,
                err_x,
                lat_x: 1.0,
            }],
            ..Model::default()
        };
        let oracle = |m: &Model, regressed| {
            oracle_detection(regressed, Some(0), m, 0.001, (100.0, 120), 480)
        };
        assert_eq!(oracle(&model(5.0), Some(Regressed::Errors)), Some(75));
        // Latency: the first point. No regression: nothing. +1 % at this traffic: not within
        // the rollout's 480 s.
        assert_eq!(oracle(&model(1.0), Some(Regressed::Latency)), Some(15));
        assert_eq!(oracle(&model(5.0), None), None);
        assert_eq!(oracle(&model(1.01), Some(Regressed::Errors)), None);
        // A shared problem lifts both: alone it is nothing to detect; under a regression it
        // brings more errors at the same ratio, so sooner.
        let shared = |m: Model| Model {
            shared: vec![Span {
                from: 0,
                to: i64::MAX,
                rate_x: 1.0,
                err_x: 5.0,
                lat_x: 1.0,
            }],
            ..m
        };
        assert_eq!(oracle(&shared(model(1.0)), Some(Regressed::Errors)), None);
        assert_eq!(
            oracle(&shared(model(5.0)), Some(Regressed::Errors)),
            Some(15)
        );
        // The generated scenarios carry it: an errors regression later than a latency one.
        let errors = generate(Kind::ClearRegression, 2);
        let latency = generate(Kind::ClearRegression, 1);
        assert_eq!(latency.oracle_detection_secs, Some(15));
        assert!(errors.oracle_detection_secs.is_some_and(|d| d > 15));
        assert_eq!(generate(Kind::HealthyNoise, 1).oracle_detection_secs, None);
    }

    #[test]
    fn quantiles_interpolate_like_prometheus() {
        let mut h = [0u64; BUCKETS_MS.len()];
        assert!(histogram_quantile(0.99, &h).is_nan());
        h[1] = 100; // all in (10, 25]
        assert_eq!(histogram_quantile(0.5, &h), 17.5);
        h[BUCKETS_MS.len() - 1] = 10_000;
        assert_eq!(histogram_quantile(0.99, &h), 5000.0);
    }

    #[test]
    fn configs_parse_and_name_every_series() {
        let s = generate(Kind::HealthyNoise, 1);
        let text = config_toml("http://127.0.0.1:9", &s, LabConfig::default());
        let config = crate::config::Config::parse(&text, "lab").expect("today's keys parse");
        let svc = &config.services[0];
        assert_eq!(svc.name, s.name);
        assert_eq!(svc.lookback_secs, LOOKBACK_SECS);
        assert_eq!(svc.metrics["error_rate"].max, Some(ERROR_BOUND));
        assert_eq!(
            svc.traffic.as_deref(),
            Some(query(&s, SeriesId::Requests(Side::Canary)).as_str())
        );
        let counts = config_toml(
            "http://127.0.0.1:9",
            &s,
            LabConfig {
                counts: true,
                ..LabConfig::default()
            },
        );
        for key in ["baseline_traffic", "baseline_requests", "baseline_errors"] {
            assert!(counts.contains(key), "{key}");
        }
        assert!(!counts.contains("detect"));
        let detect = config_toml(
            "http://127.0.0.1:9",
            &s,
            LabConfig {
                counts: true,
                detect: Some(0.25),
                ..LabConfig::default()
            },
        );
        let parsed =
            crate::config::Config::parse(&detect, "lab.toml").expect("the lab's config parses");
        assert_eq!(parsed.services[0].metrics["error_rate"].detect, Some(0.25));
        // Latency on counts: the share of requests slower than the bound's bucket, at most 1 %,
        // in place of the p99.
        let slow = config_toml(
            "http://127.0.0.1:9",
            &s,
            LabConfig {
                counts: true,
                latency_counts: true,
                ..LabConfig::default()
            },
        );
        let parsed =
            crate::config::Config::parse(&slow, "lab.toml").expect("the lab's config parses");
        let metrics = &parsed.services[0].metrics;
        assert!(!metrics.contains_key("latency_p99_ms"), "{slow}");
        let m = &metrics["slow_ratio"];
        assert_eq!(m.max, Some(0.01));
        assert_eq!(
            m.errors.as_deref(),
            Some(query(&s, SeriesId::Slow(Side::Canary)).as_str())
        );
        assert!(
            query(&s, SeriesId::Slow(Side::Baseline))
                .contains(&format!(r#"le="{}""#, s.slow_bound_ms / 1000.0)),
            "{slow}"
        );
        // Every metric's failure limit, when the lab sets one.
        let strict = config_toml(
            "http://127.0.0.1:9",
            &s,
            LabConfig {
                counts: true,
                failure_limit: Some(0),
                ..LabConfig::default()
            },
        );
        let parsed =
            crate::config::Config::parse(&strict, "lab.toml").expect("the lab's config parses");
        let metrics = &parsed.services[0].metrics;
        assert_eq!(metrics.len(), 2, "{strict}");
        assert!(
            metrics.values().all(|m| m.failure_limit == Some(0)),
            "{strict}"
        );
    }
}
