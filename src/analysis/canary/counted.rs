//! A higher-is-worse ratio judged on its counts ([`crate::analysis::counts`]): the evidence over the
//! bound, under it and against its references (the live baseline, the stable version's past, at
//! 100 % its history), the rules that keep a shared problem or a burst from being the canary's,
//! and the metric's outcome and reason in words.

use super::*;

/// A higher-is-worse ratio judged on its counts (see [`super::counts`]): over the bound or worse
/// than the baseline when the evidence reaches `1/α` in the current slice or since the rollout
/// began (α split between the two looks) and the latest window still shows it — worse than the
/// stable version's own past too (`prior`, one long step of the same test; at 100 % pooled with
/// its steps beside the slices before), while the live baseline shows the stable no higher than
/// then: over the bound, either look against `2/α`; worse, every look against
/// every reference the span may use, summed against their number over α (an average of e-values
/// is one). "Worse" is proven against ×1 ([`PROOF_RHO`]) with an
/// estimate beyond the tolerance. PROCEED-worthy only when the canary is under its bound — shown
/// by the current slice's own counts, or by the whole rollout's once the slice has served
/// [`SLICE_EVENTS_AT_BOUND`] events' worth of requests at the bound with no hint of a rise over
/// the slices before (the late-onset guard; at 100 %, with the estimate beyond tolerance of its
/// reference, [`ROLLOUT_EVENTS_AT_BOUND`]), or estimated under it on
/// [`ROLLOUT_EVENTS_AT_BOUND`] events' worth — or, without a bound, the counts hold enough
/// expected events to have seen a doubling, and its ratio is within tolerance of the reference's
/// (the baseline's, pooled with the stable's before the rollout, and below 100 % the live
/// baseline's alone too; at 100 % unless within [`HISTORY_NOISE_Z`] standard errors of parity,
/// no more than [`HISTORY_NOISE_MAX_LIFT`] times the reference
/// and not rising with its traffic).
pub(super) fn judge_counts(
    spec: &MetricSpec,
    samples: &MetricSamples,
    policy: &Policy,
    m: &mut MetricJudgement,
) {
    let c = Counted::new(spec, samples, policy);
    let f = c.findings();
    let (outcome, result, reason) = c.decide(&f);
    let (outcome, result, reason) = match c.held_as_one_burst(outcome) {
        Some(reason) => (MetricOutcome::Borderline, MetricResult::Pass, reason),
        None => (outcome, result, reason),
    };
    m.outcome = outcome;
    m.result = result;
    m.reason = reason;
    m.counts = Some(CountEvidence {
        slice: c.se,
        rollout: c.re,
        recent: c.recent,
        goal: c.goal,
        requests_needed: f.needed,
    });
}

/// A counted metric's evidence, read once: the spans' evidence (the current slice's and, when
/// evidence is carried, the whole rollout's), the latest window, the stable version's past and
/// the reference the canary's estimate is held to. Its methods are the questions the findings
/// ([`Counted::findings`]), the outcome ([`Counted::decide`]) and the burst rule
/// ([`Counted::held_as_one_burst`]) ask of them.
struct Counted<'a> {
    spec: &'a MetricSpec,
    samples: &'a MetricSamples,
    all: &'a [CountStep],
    len: usize,
    /// The current slice's steps (all of them when nothing is carried).
    slice_n: usize,
    /// Evidence carried from the slices before: a slice shorter than the rollout.
    carried: bool,
    alpha: f64,
    /// The looks α is split between: the slice, and the rollout when carried.
    looks: f64,
    /// ln(looks / α): what a finding's evidence must reach.
    goal: f64,
    /// 1 + tolerance.
    rho0: f64,
    /// A window's steps (at least 1).
    w: usize,
    prefixes: Prefixes,
    /// The current slice's evidence (the whole span when nothing is carried).
    se: SpanEvidence,
    /// The whole rollout's, when carried.
    re: Option<SpanEvidence>,
    /// The latest window's counts.
    recent: Totals,
    /// The widest span's counts.
    widest: Totals,
    /// The stable's (requests, events) before the rollout began, when finite and served.
    prior: Option<(f64, f64)>,
    /// Below 100 %: the live baseline shows the stable where it was before the rollout.
    prior_holds: bool,
    /// The stable's past as one long step, where it may serve (see [`Counted::new`]).
    past: Option<(f64, f64)>,
    past_rate: Option<f64>,
    /// At 100 %: the past is the one reference, with α whole.
    past_only: bool,
    /// What the comparison's summed e-values must reach (ln 2 more with two references).
    comparison_goal: f64,
    /// A spike's length in steps: a window and a half.
    spike_steps: usize,
    /// The burst rule's stretch: `failure_limit` windows and a half.
    burst_steps: usize,
    /// Where each span of [`Counted::spans`] begins.
    starts: [usize; 2],
    /// The counts the canary's estimate is held to, and their name in words.
    reference: Totals,
    reference_name: &'static str,
    span_name: &'static str,
}

/// What the counts show, for [`Counted::decide`] and the reason's words.
struct Findings {
    over: bool,
    combined_e: f64,
    worse: bool,
    worse_live: bool,
    stable_last: Option<f64>,
    rose_in_slice: bool,
    stage_leans: bool,
    stage_events: f64,
    under: bool,
    under_estimated: bool,
    still_over: bool,
    still_worse: bool,
    base_now: Option<f64>,
    stable_elevated: bool,
    canary_to_blame: bool,
    shared: bool,
    needed: Option<f64>,
    live_beyond: bool,
    beyond_noise: f64,
    past_noise_bar: bool,
    passed_burst: Option<Totals>,
    detect: Option<f64>,
    by_default: Option<&'static str>,
}

/// Events rounded to a whole number, with thousands separators.
fn count(v: f64) -> String {
    crate::fmt::thousands(v.round().max(0.0) as u64)
}

/// An evidence's e-value from its logarithm, in words.
fn ev(l: f64) -> String {
    let e = l.exp();
    if e >= 1e6 {
        "over a million".to_string()
    } else {
        format!("{e:.1}")
    }
}

/// The standard error of the log of a rate ratio (the Poisson noise of both sides' events).
fn log_ratio_se(t: &Totals) -> f64 {
    (1.0 / t.canary_events.max(0.5) + 1.0 / t.baseline_events.max(0.5)).sqrt()
}

/// How far a canary's rate is beyond the reference's, in standard errors of the log of their
/// ratio.
fn noise_z(t: &Totals) -> f64 {
    t.rate_ratio()
        .map_or(f64::NEG_INFINITY, |r| r.ln() / log_ratio_se(t))
}

impl<'a> Counted<'a> {
    fn new(spec: &'a MetricSpec, samples: &'a MetricSamples, policy: &Policy) -> Counted<'a> {
        let all = samples.counts.as_slice();
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
        let se = prefixes.span(all, if carried { len - slice_n } else { 0 }, len, spec.max);
        let re = carried.then(|| prefixes.span(all, 0, len, spec.max));
        let recent_n = samples.window_steps.max(1).min(len);
        let recent = Totals::of(&all[len - recent_n..]);
        let widest = re.as_ref().unwrap_or(&se).totals;
        let w = samples.window_steps.max(1);
        // The stable version before the rollout began (while the canary shares the traffic): a
        // second reference with far more events than the live baseline beside a small canary,
        // compared by the same count test as one long step — as long as the live baseline shows
        // the stable no higher than it was (a shared problem or a drift since then leaves the
        // live baseline alone as the reference).
        let prior = samples
            .prior
            .filter(|(r, e)| r.is_finite() && e.is_finite() && *r > 0.0 && *e >= 0.0);
        // A spike's stretch (a window and a half: a 30 s spike fills that many `[1m]` points;
        // see [`Counted::vouches`]) and the burst rule's ([`Counted::held_as_one_burst`]).
        let spike_steps = w + w / 2;
        let burst_steps = spec.failure_limit * w + w / 2;
        let mut c = Counted {
            spec,
            samples,
            all,
            len,
            slice_n,
            carried,
            alpha,
            looks,
            goal,
            rho0,
            w,
            prefixes,
            se,
            re,
            recent,
            widest,
            prior,
            prior_holds: false,
            past: None,
            past_rate: None,
            past_only: false,
            comparison_goal: goal,
            spike_steps,
            burst_steps,
            starts: [if carried { len - slice_n } else { 0 }, 0],
            reference: widest,
            reference_name: "baseline's",
            span_name: if carried {
                "since the rollout began"
            } else {
                "in this slice"
            },
        };
        // (At 100 % the stable has no traffic beside the canary: its history is the baseline,
        // with its own rules; the counts from before the rollout only steady the estimate.)
        c.prior_holds = prior.is_some()
            && !samples.against_history
            && [&widest, &recent]
                .iter()
                .all(|t| !c.prior_moved(t.baseline_requests, t.baseline_events));
        // The stable's past as one long step: below 100 %, its counts before the rollout (while
        // the live baseline shows it where it was); at 100 %, those pooled with its own steps
        // beside the slices before (while they show it where it was) — far more events than the
        // history's mean step copied into the last slice.
        let live_before = (samples.against_history && carried).then(|| {
            let last = Totals::of(&all[(len - slice_n).saturating_sub(w)..len - slice_n]);
            (Totals::of(&all[..len - slice_n]), last)
        });
        c.past = match (prior, live_before) {
            (Some(p), _) if c.prior_holds => Some(p),
            (Some((r, e)), Some((t, last)))
                if !c.prior_moved(t.baseline_requests, t.baseline_events)
                    && !c.prior_moved(last.baseline_requests, last.baseline_events) =>
            {
                Some((r + t.baseline_requests, e + t.baseline_events))
            }
            _ => None,
        };
        c.past_rate = c.past.map(|(r, e)| e / r);
        // Two references (the live baseline and the stable's past) share α between them.
        // At 100 % the history's steps and the stable's past pooled are one reference (the
        // stable's own history, the past with the more events): the past alone is used, with α
        // whole.
        c.past_only = samples.against_history && c.past.is_some();
        c.comparison_goal = if c.past.is_some() && !c.past_only {
            goal + std::f64::consts::LN_2
        } else {
            goal
        };
        // The rate the canary is held to by its estimate: the live baseline's, pooled with the
        // stable's own before the rollout while that still holds (far less noise than a small
        // baseline's few events).
        (c.reference, c.reference_name) = match prior {
            // At 100 %: the stable's own steps beside the earlier slices and its counts before
            // the rollout, not the last slice's steps filled with the history's mean step (a copy
            // of the same history, weighed by how long the last slice has run).
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
            Some((r, e)) if c.prior_holds => {
                let t = Totals {
                    baseline_requests: widest.baseline_requests + r,
                    baseline_events: widest.baseline_events + e,
                    ..widest
                };
                (t, "stable's (before the rollout and beside it)")
            }
            _ => (widest, "baseline's"),
        };
        c
    }

    /// The current slice's evidence, then the whole rollout's when carried.
    fn spans(&self) -> impl Iterator<Item = &SpanEvidence> + Clone {
        std::iter::once(&self.se).chain(self.re.as_ref())
    }

    /// Each span with the step it begins at.
    fn spans_from(&self) -> impl Iterator<Item = (&SpanEvidence, usize)> + Clone {
        self.spans().zip(self.starts)
    }

    fn fired(&self, f: fn(&SpanEvidence) -> f64) -> bool {
        self.spans().any(|s| f(s) >= self.goal)
    }

    /// The most of an evidence over the spans.
    fn best(&self, f: fn(&SpanEvidence) -> f64) -> f64 {
        self.spans().map(f).fold(f64::NEG_INFINITY, f64::max)
    }

    /// The estimate a finding on the comparison needs beside its proof: beyond the tolerance.
    fn beyond_tolerance(&self, t: &Totals) -> bool {
        t.rate_ratio()
            .map_or(t.canary_events > 0.0, |r| r > self.rho0)
    }

    fn against_prior(&self, requests: f64, events: f64) -> f64 {
        self.prior.map_or(f64::NEG_INFINITY, |p| {
            log_e_worse_totals((requests, events), p, PROOF_RHO)
        })
    }

    /// Whether the stable's (requests, events) are above its counts from before the rollout,
    /// beyond the tolerance, with at least this evidence (ln E).
    fn above_prior(&self, requests: f64, events: f64, at: f64) -> bool {
        self.prior
            .is_some_and(|p| log_e_worse_totals((requests, events), p, self.rho0) >= at)
    }

    /// Whether the stable has moved since then: a lean beyond the tolerance.
    fn prior_moved(&self, requests: f64, events: f64) -> bool {
        self.above_prior(requests, events, PRIOR_MOVED)
    }

    /// At 100 %: the slices before pointed to it against the stable's counts from before the
    /// rollout too (half the evidence), while the stable beside them stayed where it was.
    fn pointed(&self, from: usize, to: usize) -> bool {
        let t = Totals::of(&self.all[from..to]);
        !self.prior_moved(t.baseline_requests, t.baseline_events)
            && self.against_prior(t.canary_requests, t.canary_events) >= POINTED
            && matches!((t.canary_ratio(), self.prior.map(|(r, e)| e / r)), (Some(c), Some(p)) if c > p * self.rho0)
            && self.prefixes.log_e_worse(from, to) > 0.0
    }

    fn prior_e(&self, t: &Totals) -> f64 {
        self.past.map_or(f64::NEG_INFINITY, |p| {
            log_e_worse_totals((t.canary_requests, t.canary_events), p, PROOF_RHO)
        })
    }

    /// Below 100 %, the stable's past serves a span only when the stable beside the canary in
    /// that span could show it had moved ([`PRIOR_POWER_EVENTS`]) and does not: a shared spike
    /// lifts both tracks, and a canary proven against a calm past while the stable's few events
    /// in the same seconds cannot say otherwise is not shown to be the problem. (At 100 % the
    /// past is the history's, with its own rules.)
    /// With fewer of its events the stable can still vouch against a canary lifted further than
    /// [`PRIOR_POWER_LIFT`]: its counts show it was not lifted as much (the log likelihood ratio
    /// of its rate as it was against it lifted as the canary is, on its own expected events, at
    /// least what [`PRIOR_POWER_EVENTS`] give at that lift). The canary's lift is taken outside
    /// its worst stretch of a spike's length (a window and a half: a 30 s spike fills that many
    /// `[1m]` points): a canary-only spike is not a lift a regression would keep. Not the burst
    /// rule's stretch, which grows with `failure_limit`: outside a longer stretch the lift can
    /// come out higher (the rest is fewer steps), and the rule that only holds back a ROLLBACK
    /// would then make one.
    fn vouches(&self, t: &Totals, from: usize, p: f64) -> bool {
        let expected = t.baseline_requests * p;
        if expected >= PRIOR_POWER_EVENTS {
            return true;
        }
        let lift = outside_worst_stretch(&self.all[from..], self.spike_steps)
            .and_then(|rest| rest.canary_ratio())
            .map_or(1.0, |c| c / p);
        lift > PRIOR_POWER_LIFT
            && expected * (lift - 1.0) - t.baseline_events * lift.ln()
                >= PRIOR_POWER_EVENTS * (PRIOR_POWER_LIFT - 1.0 - PRIOR_POWER_LIFT.ln())
    }

    /// …nor where the stable beside the canary's worst stretch (a spike's length) shows a hint
    /// (an e-value of e) of being above its past: a shared spike lifts the stable in the same
    /// steps as the canary, which over the whole span its calm rest dilutes, while the canary,
    /// drawing a few more of the spike's errors by chance, is proven against the calm past.
    fn spiked_beside(&self, from: usize) -> bool {
        worst_stretch(&self.all[from..], self.spike_steps)
            .is_some_and(|s| self.above_prior(s.baseline_requests, s.baseline_events, STABLE_HINT))
    }

    fn serves(&self, t: &Totals, from: usize) -> bool {
        self.samples.against_history
            || (self.past_rate.is_some_and(|p| self.vouches(t, from, p))
                && !self.prior_moved(t.baseline_requests, t.baseline_events)
                && !self.spiked_beside(from))
    }

    /// A finding against the live baseline over a span the past serves needs a lean against the
    /// past too: a live baseline far under its own past (a lucky quiet stretch) proves nothing
    /// against a canary at the service's usual rate.
    fn corroborated(&self, t: &Totals, from: usize) -> bool {
        self.samples.against_history || !self.serves(t, from) || self.prior_e(t) >= PRIOR_MOVED
    }

    fn fmt(&self, v: f64) -> String {
        self.spec.fmt(v)
    }

    /// The canary's counts in words: "3 in 1,200 requests (0.25 %)".
    fn side(&self, t: &Totals) -> String {
        format!(
            "{} in {} requests ({})",
            count(t.canary_events),
            count(t.canary_requests),
            t.canary_ratio().map_or("—".into(), |r| self.fmt(r))
        )
    }

    /// The span with the most of a finding's evidence — its counts and its name — for the
    /// reason: a finding the slice proves is told by the slice's counts, not the whole
    /// rollout's (where a late onset is diluted by the slices before it). (`f` is given each
    /// span and the step it begins at.)
    fn strongest(&self, f: &dyn Fn(&SpanEvidence, usize) -> f64) -> (Totals, &'static str) {
        self.spans_from()
            .zip(["in this slice", "since the rollout began"])
            .max_by(|((a, fa), _), ((b, fb), _)| f(a, *fa).total_cmp(&f(b, *fb)))
            .map_or((self.widest, self.span_name), |((s, _), name)| {
                (s.totals, name)
            })
    }

    fn needed_e(&self) -> String {
        format!("{:.0}", self.goal.exp())
    }

    fn needed_cmp(&self) -> String {
        format!("{:.0}", self.comparison_goal.exp())
    }

    /// The reference over some steps: their baseline's counts pooled with the stable's past.
    fn pooled(&self, t: &Totals) -> (f64, f64) {
        let (r, e) = self.past.unwrap_or((0.0, 0.0));
        (t.baseline_requests + r, t.baseline_events + e)
    }

    /// Every finding the counts make, in the order each rests on the ones before.
    fn findings(&self) -> Findings {
        let (spec, samples, all) = (self.spec, self.samples, self.all);
        let (len, slice_n, w, goal, rho0) = (self.len, self.slice_n, self.w, self.goal, self.rho0);
        let (se, widest, recent, reference) = (&self.se, self.widest, self.recent, self.reference);
        // Against the history (at 100 %, with no live baseline beside the canary) a finding
        // stands when it was proven before the last slice, beside the live stable track, or when
        // each of the last `HISTORY_SUSTAIN_WINDOWS` windows points to it on its own: a spike on
        // every track (which the history cannot tell from the canary's doing) passes before that.
        // (Not a cumulative proof at the end of each window: a spike that came with full traffic
        // keeps that proven long after it has passed.)
        // (These rules weigh the comparison against the tolerance itself, not against ×1: with
        // nothing beside the canary they are all that tells it from a shared outage.)
        let tolerant = if samples.against_history {
            Prefixes::of(all, rho0)
        } else {
            Prefixes::default()
        };
        let span_tolerant = |from: usize, to: usize| tolerant.span(all, from, to, spec.max);
        let before_last =
            (samples.against_history && self.carried).then(|| span_tolerant(0, len - slice_n));
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
        // Proven before the last slice, or pointed to there (half the evidence a finding needs,
        // in logarithms) and proven since: the canary's, not an outage that came with full
        // traffic.
        let held = |f: fn(&SpanEvidence) -> f64| {
            !samples.against_history
                || before_last.as_ref().is_some_and(|e| f(e) >= goal / 2.0)
                || (windows_each.len() == HISTORY_SUSTAIN_WINDOWS
                    && windows_each.iter().all(|e| f(e) >= 1.0))
        };
        let over = self.fired(|s| s.log_e_over) && held(|s| s.log_e_over);
        let worse_held = held(|s| s.log_e_worse);
        let pointed_by_prior = samples.against_history
            && self.carried
            && (self.pointed(0, len - slice_n)
                || self.pointed((len - slice_n).saturating_sub(2 * w), len - slice_n)
                || self.pointed((len - slice_n).saturating_sub(4 * w), len - slice_n));
        // At 100 %: a lift over the stable's past that has lasted through each of the last
        // [`HISTORY_PERSIST_WINDOWS`] windows on its own (a lean against ×1 and an estimate
        // beyond tolerance in each) is the canary's, as a finding the slices before pointed to
        // is: longer than a shared spike and its `[1m]` smear can fill, against the stable's past
        // (its many events, not the history's mean step copied beside each window), which a
        // shared problem the stable already had leaves no longer where it was (`past` is then
        // None).
        let persists = samples.against_history
            && len >= HISTORY_PERSIST_WINDOWS * w
            && self.past_rate.is_some_and(|p| {
                (0..HISTORY_PERSIST_WINDOWS).all(|j| {
                    let t = Totals::of(&all[len - (j + 1) * w..len - j * w]);
                    self.prior_e(&t) >= 1.0 && t.canary_ratio().is_some_and(|c| c > p * rho0)
                })
            });
        // The comparison's e-values — each span against each reference that may be used there —
        // are combined by their sum against `comparison_goal` (ln of their number over α): an
        // average of e-values is one, so this holds α as splitting it between them does, and it
        // fires whenever one of them alone would have reached its share, and sooner where two or
        // more lean together (a regression since the rollout began shows against the live
        // baseline and the stable's past alike). An e-value that may not be used over its span
        // (its estimate within tolerance; a live baseline the past does not corroborate; a past
        // that does not serve) counts as 0, less than it is: still an e-value.
        // (Until 2026-12-03 each alone against the goal with α split: the largest of four at
        // e^4.4 = 80 where their sum reaching 80 is as valid.)
        let live_es: Vec<f64> = if self.past_only {
            Vec::new()
        } else {
            self.spans_from()
                .filter(|(s, from)| {
                    self.beyond_tolerance(&s.totals) && self.corroborated(&s.totals, *from)
                })
                .map(|(s, _)| s.log_e_worse)
                .collect()
        };
        let prior_es: Vec<f64> = match (recent.canary_ratio(), self.past_rate) {
            (Some(c), Some(p)) if c > p * rho0 => self
                .spans_from()
                .filter(|(s, from)| {
                    self.serves(&s.totals, *from)
                        && matches!(s.totals.canary_ratio(), Some(c) if c > p * rho0)
                })
                .map(|(s, _)| self.prior_e(&s.totals))
                .collect(),
            _ => Vec::new(),
        };
        let live_e = log_sum_exp(&live_es);
        let prior_side_e = log_sum_exp(&prior_es);
        let combined_e = log_sum_exp(&[live_e, prior_side_e]);
        let worse =
            combined_e >= self.comparison_goal && (worse_held || pointed_by_prior || persists);
        // The reference that carries the most of it, for the reason (and, the past's, for whether
        // the latest window still shows it).
        let worse_prior = worse && prior_side_e > live_e;
        let worse_live = worse && !worse_prior;
        // The stable version's last window before it lost its traffic (at 100 %): a problem it
        // had too is not the canary's. From its counts when the steps before the last slice hold
        // them, else from its samples.
        let stable_counts = (samples.against_history && self.carried)
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
        let baseline_over = self.fired(|s| s.log_e_baseline_over);
        // Under the bound: shown by this slice's own requests, or by the whole rollout's while
        // this slice gives no hint of being over it (the late-onset guard: what was carried
        // cannot vouch for a change that came with this slice, but it need not be proven again
        // from scratch).
        // The canary in this slice against itself in the slices before: a hint of a rise.
        // The canary's (requests, events) in this slice and in the slices before it.
        let slice_and_before = self.re.as_ref().map(|re| {
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
        // At 100 %: the canary's own rate in the last slice above tolerance of its rate in the
        // slices before, and in those above the live stable's beside it, the counts leaning that
        // way each time (ln E against ×1 above 0; leanings, not proofs: this only holds a
        // PROCEED): a regression growing with its traffic — not a spike the slices before already
        // carried, nor a drift both tracks shared.
        let rising = samples.against_history
            && slice_and_before.is_some_and(|(slice, before)| {
                before.0 > 0.0
                    && slice.0 > 0.0
                    && slice.1 / slice.0 > before.1 / before.0 * rho0
                    && log_e_worse_totals(slice, before, PROOF_RHO) > 0.0
                    && self.prefixes.log_e_worse(0, len - slice_n) > 0.0
            });
        // At 100 % the stage is the promotion's last look, and the whole rollout's estimate
        // dilutes what grows with time or full traffic (a ramp) in the slices before it. Where
        // that estimate is beyond tolerance of the reference (only the noise lets it pass), the
        // rollout vouches for the stage (or takes it under its bound by its estimate) only once
        // the stage has served a whole rollout's [`ROLLOUT_EVENTS_AT_BOUND`] events' worth at the
        // bound of its own, not a slice's [`SLICE_EVENTS_AT_BOUND`]. (Until 2026-12-03 a slice's:
        // ramps at 10–15 requests a second got PROCEED a minute or two into the bake, on the
        // rollout's 1.7–2× within the noise.)
        let stage_leans = samples.against_history
            && self.carried
            && reference.rate_ratio().is_some_and(|r| r > rho0);
        let stage_events = if stage_leans {
            ROLLOUT_EVENTS_AT_BOUND
        } else {
            SLICE_EVENTS_AT_BOUND
        };
        let under = se.log_e_under >= goal
            || self.re.as_ref().is_some_and(|re| {
                let slice = se.totals.canary_requests;
                re.log_e_under >= goal
                    && se.log_e_over < 0.0
                    && !rose_in_slice
                    && spec.max.is_some_and(|max| slice * max >= stage_events)
                    && match (spec.max, se.totals.canary_ratio()) {
                        (Some(max), Some(r)) => r <= max,
                        _ => false,
                    }
            });
        // …or, short of a proof, estimated under it on enough requests: the whole rollout's and
        // this slice's requests hold [`ROLLOUT_EVENTS_AT_BOUND`] and [`SLICE_EVENTS_AT_BOUND`]
        // events' worth at the bound (how much evidence is enough is decided by the counts, as
        // the issue of "too little traffic" is), both ratios are under the bound with no hint of
        // being over it, and the reference is under it too. A service at 60–80 % of its bound can
        // take hundreds of thousands of requests to *prove* under it; what holds its promotion is
        // then the comparison with the baseline (checked before this), not the bound.
        let under_estimated = !under
            && spec.max.is_some_and(|max| {
                let ok = |e: &SpanEvidence, events: f64| {
                    e.totals.canary_requests * max >= events
                        && e.log_e_over < 0.0
                        && e.totals.canary_ratio().is_some_and(|r| r <= max)
                };
                ok(self.re.as_ref().unwrap_or(se), ROLLOUT_EVENTS_AT_BOUND)
                    && ok(se, stage_events)
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
        // Over the bound is the canary's doing when it is proven worse than its baseline, when
        // there is no baseline, or when the baseline over the same steps is within the bound and
        // the canary beyond tolerance of it; a baseline over the bound too (proven, or in the
        // latest window) is a shared problem.
        let base_now = recent.baseline_ratio().or(widest.baseline_ratio());
        let canary_now = recent.canary_ratio().or(widest.canary_ratio());
        // Elevated: on its counts, with a hint (an e-value of e, far from a proof: this only
        // shields the canary) of a rate above tolerance of the history, of its own counts from
        // before the rollout, or of the bound; on samples alone, by the ratio. (The history's
        // newest minutes may carry the start of the same incident, which lifts it: the stable's
        // own past is the level it left.)
        let stable_elevated = samples.baseline_rose
            || match (stable_counts, stable_last, base_now) {
                (Some(t), _, b) => {
                    let (x, n) = (t.baseline_events, t.baseline_requests);
                    let shown = |bound: f64| log_e_over(x, n, bound) >= 1.0;
                    b.is_some_and(|b| b > 0.0 && shown((b * rho0).min(0.999)))
                        || self
                            .prior
                            .is_some_and(|(r, e)| e > 0.0 && shown((e / r * rho0).min(0.999)))
                        || spec.max.is_some_and(shown)
                }
                (None, Some(s), Some(b)) => s > b * rho0 || spec.max.is_some_and(|max| s > max),
                _ => false,
            };
        // A problem both tracks met in the minute before the promotion (a p99 of the service rose
        // on both): after it nothing runs beside the canary to tell the two apart, and the
        // stable's last window holds only the problem's first seconds. The canary is blamed only
        // when the slices before, beside the live stable, pointed to it too.
        let canary_to_blame = (!samples.baseline_rose || pointed_by_prior)
            && if stable_elevated {
                // Compared with the stable's state when it lost traffic, not with its calmer
                // past: on the counts, proven beyond tolerance of that window (a point estimate
                // over a window of a few errors is noise); on samples alone, by the ratio.
                match stable_counts {
                    Some(t) => {
                        log_e_worse_totals(
                            (recent.canary_requests, recent.canary_events),
                            (t.baseline_requests, t.baseline_events),
                            rho0,
                        ) >= goal
                    }
                    None => {
                        matches!((stable_last, canary_now), (Some(s), Some(c)) if c > s * rho0)
                    }
                }
            } else {
                // Not proven worse than its baseline, the canary is blamed by its estimate only
                // while the stable beside it shows no move from its own past over the same steps
                // (over the bound after a spike both tracks had, the canary's few more errors are
                // chance).
                let stable_moved = !samples.against_history
                    && [&widest, &recent, &se.totals]
                        .iter()
                        .any(|t| self.prior_moved(t.baseline_requests, t.baseline_events));
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
            requests_to_show_under(
                widest.canary_ratio().unwrap_or(0.0),
                max,
                self.alpha / self.looks,
            )
        });
        // How far the rate ratio is beyond the tolerance, in standard errors of its logarithm
        // (the Poisson noise of both sides' events): at 100 %, against the history, an excess
        // within `HISTORY_NOISE_Z` of them does not hold the promotion.
        // Below 100 %, pooled with the stable's past, the estimate may hide what the live
        // baseline beside the canary shows: either beyond tolerance holds the PROCEED.
        let live_beyond = !samples.against_history
            && self.prior_holds
            && widest.rate_ratio().is_some_and(|r| r > rho0);
        let beyond_noise = noise_z(&reference);
        // At 100 %: the reference's excess past the noise bar — beyond its standard errors,
        // rising with full traffic, or beyond twice the past — holds the promotion (unless it
        // rests on one burst that has passed, below).
        let past_noise_bar = beyond_noise >= HISTORY_NOISE_Z
            || rising
            || reference
                .rate_ratio()
                .is_some_and(|r| r > HISTORY_NOISE_MAX_LIFT);
        let (detect, by_default) = self.detect();
        Findings {
            over,
            combined_e,
            worse,
            worse_live,
            stable_last,
            rose_in_slice,
            stage_leans,
            stage_events,
            under,
            under_estimated,
            still_over,
            still_worse,
            base_now,
            stable_elevated,
            canary_to_blame,
            shared,
            needed,
            live_beyond,
            beyond_noise,
            past_noise_bar,
            passed_burst: self.passed_burst(),
            detect,
            by_default,
        }
    }

    /// At 100 %: an excess over the reference that rests on one burst which has passed — the
    /// steps since the burst rule's worst stretch shown under half its rate, outside the stretch
    /// the canary within the noise of the reference (the bar below), its latest window within
    /// tolerance of it — does not hold the promotion: a canary-only spike that recovered, not a
    /// regression the canary keeps. (Without the first, taking the worst stretch out let subtle
    /// regressions through: their rest came out within the noise.)
    fn passed_burst(&self) -> Option<Totals> {
        if !self.samples.against_history {
            return None;
        }
        let (all, n, reference) = (self.all, self.burst_steps, self.reference);
        let b = reference.baseline_ratio().filter(|b| *b > 0.0)?;
        let at = worst_stretch_at(all, n)?;
        let stretch = Totals::of(&all[at..at + n]);
        let after = Totals::of(&all[at + n..]);
        // Passed: the steps since the stretch shown under half its rate.
        let passed = stretch.canary_ratio().is_some_and(|s| {
            crate::analysis::counts::log_e_under(
                after.canary_events,
                after.canary_requests,
                s / 2.0,
            ) >= self.goal
        });
        if !passed {
            return None;
        }
        let rest = Totals {
            baseline_requests: reference.baseline_requests,
            baseline_events: reference.baseline_events,
            ..Totals::of(all).without(&stretch)
        };
        let within = noise_z(&rest) < HISTORY_NOISE_Z
            && rest
                .rate_ratio()
                .is_some_and(|r| r <= HISTORY_NOISE_MAX_LIFT)
            && self
                .recent
                .canary_ratio()
                .is_some_and(|c| c <= b * self.rho0);
        within.then_some(rest)
    }

    /// `detect`: PROCEED only once the counts could have shown the canary that much worse than
    /// its reference: the standard error of the log rate ratio, at the reference's rate, within
    /// ln(1 + detect) / √(2 ln(1/α)) — about where an anytime-valid test of that excess reaches
    /// its goal on average — and below 100 % within the smaller bound of [`DETECT_POWER_Z`].
    /// Set, always; 0, never; unset, [`DEFAULT_DETECT`] on a service busy enough to show it
    /// ([`detect_by_default`]), and otherwise below 100 % [`DEFAULT_DETECT_SLICES`] (a doubling)
    /// where the stable's past makes a reference that can show it. (Otherwise a canary under its
    /// bound and not shown worse PROCEEDs however few its errors: a +25 % regression takes a few
    /// hundred errors to show, a doubling some twenty.) The excess asked, and why when by
    /// default.
    fn detect(&self) -> (Option<f64>, Option<&'static str>) {
        let samples = self.samples;
        match self.spec.detect {
            Some(d) => (Some(d), None),
            None if self.prior.is_some_and(|(_, e)| {
                detect_by_default(
                    e / samples
                        .prior_lookbacks
                        .filter(|n| n.is_finite() && *n > 0.0)
                        .unwrap_or(1.0),
                    self.alpha,
                )
            }) =>
            {
                (
                    Some(DEFAULT_DETECT),
                    Some("detect, by default on a service this busy"),
                )
            }
            None if self.prior.is_some() && !samples.against_history => (
                Some(DEFAULT_DETECT_SLICES),
                Some("a doubling, by default before 100 %"),
            ),
            None => (None, None),
        }
    }

    /// Why `detect` holds a PROCEED: the counts could not yet have shown its excess (see
    /// [`Counted::detect`]). Below 100 %, "could have shown" at [`DETECT_POWER_Z`]'s power: the
    /// log likelihood ratio of a normal estimate at that excess, θ²/2s² on average with a
    /// standard deviation of θ/s, reaches the goal that often when θ/s ≥ z + √(z² + 2 goal); at
    /// 100 %, on average (z = 0).
    fn undetectable(&self, f: &Findings) -> Option<String> {
        let (spec, widest, reference) = (self.spec, self.widest, self.reference);
        let (comparison_goal, span_name, by_default) =
            (self.comparison_goal, self.span_name, f.by_default);
        let d = f.detect.filter(|d| d.is_finite() && *d > 0.0)?;
        let z = if self.samples.against_history {
            0.0
        } else {
            DETECT_POWER_Z
        };
        let b = reference.baseline_ratio().unwrap_or(0.0);
        let due = widest.canary_requests * b;
        let s_max = (1.0 + d).ln() / (z + (z * z + 2.0 * comparison_goal).sqrt());
        let reference_events = reference.baseline_events;
        let se2 = 1.0 / due.max(f64::MIN_POSITIVE) + 1.0 / reference_events.max(f64::MIN_POSITIVE);
        if se2 <= s_max * s_max {
            return None;
        }
        // The slices' doubling is not asked of a canary on a clean service whose counts could
        // have shown it [`SLICES_EXCESS_OF_BOUND`] of its bound above its reference, and show it
        // under half its bound: there that excess is many doublings (a service at 0.01 % would
        // otherwise wait hours at 10 % for the errors a doubling takes to show).
        let clean_exit = d == DEFAULT_DETECT_SLICES
            && by_default.is_some()
            && !f.rose_in_slice
            && spec.max.is_some_and(|max| {
                let excess = max * SLICES_EXCESS_OF_BOUND;
                excess_shown(due, reference_events, b, excess, comparison_goal, z)
                    && self.spans().any(|s| {
                        crate::analysis::counts::log_e_under(
                            s.totals.canary_events,
                            s.totals.canary_requests,
                            max / 2.0,
                        ) >= self.goal
                    })
            });
        if clean_exit {
            return None;
        }
        // The canary's requests the doubling (or `detect`) asks for, when any number can.
        let doubling =
            (b > 0.0 && reference_events > 0.0 && 1.0 / reference_events < s_max * s_max)
                .then(|| 1.0 / (b * (s_max * s_max - 1.0 / reference_events)));
        let need = if let Some(n) = doubling {
            format!(
                "about {} requests at its rate are needed, {:.1}× those {span_name}",
                count(n),
                n / widest.canary_requests.max(1.0)
            )
        } else {
            "its reference holds too few errors to show it at any traffic (a longer lookback_secs gives the stable's past more)".to_string()
        };
        // On a clean service the exit above may come sooner: say when.
        let sooner = spec
            .max
            .filter(|_| d == DEFAULT_DETECT_SLICES && by_default.is_some())
            .and_then(|max| {
                let excess = max * SLICES_EXCESS_OF_BOUND;
                let n = requests_to_show_excess(reference_events, b, excess, comparison_goal, z)?;
                (n < doubling.unwrap_or(f64::INFINITY)).then(|| {
                    format!(
                        " (or about {} to show it {:.0} % of its bound above it, once shown under half the bound)",
                        count(n),
                        SLICES_EXCESS_OF_BOUND * 100.0
                    )
                })
            })
            .unwrap_or_default();
        Some(format!(
            "{}: not yet able to show +{:.0} % ({}): {} {span_name} against the {} {}, {:.0} errors due at that rate; {need}{sooner}",
            spec.name,
            d * 100.0,
            by_default.unwrap_or("detect"),
            self.side(&widest),
            self.reference_name,
            reference
                .baseline_ratio()
                .map_or("—".into(), |r| self.fmt(r)),
            due
        ))
    }

    /// Why a comparison that reached its goal on some span is not taken as a finding (the reason
    /// says so, rather than "not proven" beside an evidence over the goal): the first rule that
    /// holds it back, on the span with the most evidence.
    fn held_back(&self) -> Option<String> {
        let (samples, rho0, comparison_goal) = (self.samples, self.rho0, self.comparison_goal);
        let at_full = || {
            format!(
                "at 100 % the slices before do not point to it, nor has it held through each of the last {HISTORY_PERSIST_WINDOWS} windows on its own"
            )
        };
        let live = self
            .spans_from()
            .filter(|(s, _)| !self.past_only && s.log_e_worse >= comparison_goal)
            .max_by(|a, b| a.0.log_e_worse.total_cmp(&b.0.log_e_worse));
        let against_past = self
            .spans_from()
            .filter(|(s, _)| self.prior_e(&s.totals) >= comparison_goal)
            .max_by(|a, b| {
                self.prior_e(&a.0.totals)
                    .total_cmp(&self.prior_e(&b.0.totals))
            });
        let why_live = live.map(|(s, from)| {
            let why = if !self.beyond_tolerance(&s.totals) {
                format!("its estimate is within ×{rho0:.2} of the baseline's")
            } else if !self.corroborated(&s.totals, from) {
                "the live baseline is under the stable's own past, and against that past the canary does not lean worse".to_string()
            } else {
                at_full()
            };
            let against = if samples.against_history {
                "the history"
            } else {
                "the live baseline"
            };
            (s.log_e_worse, against, why)
        });
        let why_past = against_past.and_then(|(s, from)| {
            let p = self.past_rate?;
            // The estimate, then the latest window, within tolerance of the past; else at 100 %.
            let within = || {
                if !matches!(s.totals.canary_ratio(), Some(c) if c > p * rho0) {
                    format!("its estimate is within ×{rho0:.2} of that past")
                } else if !matches!(self.recent.canary_ratio(), Some(c) if c > p * rho0) {
                    format!("the latest window is within ×{rho0:.2} of that past")
                } else {
                    at_full()
                }
            };
            let why = if samples.against_history {
                within()
            } else if self.prior_moved(s.totals.baseline_requests, s.totals.baseline_events) {
                "the stable beside it has moved from that past too".to_string()
            } else if self.spiked_beside(from) {
                "the stable beside the canary's worst stretch rose too".to_string()
            } else if !self.vouches(&s.totals, from, p) {
                format!(
                    "the stable beside it served too few requests to show it did not rise as well, and outside its worst {} steps the canary is not {:.0}× that past",
                    self.spike_steps, PRIOR_POWER_LIFT
                )
            } else {
                within()
            };
            Some((self.prior_e(&s.totals), "the stable's past", why))
        });
        [why_live, why_past]
            .into_iter()
            .flatten()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(e, against, why)| {
                format!(
                    "proven against {against} (evidence {}, needed {}), but {why}",
                    ev(e),
                    self.needed_cmp()
                )
            })
    }

    /// At 100 %, where the promotion completes, `detect` asks more than that the counts could
    /// have shown its excess: that they show it absent — the estimate's upper bound at
    /// [`DETECT_SHOWN_Z`] standard errors (of the log rate ratio) within ×(1 + detect) of the
    /// reference. (Until 2026-12-03 "could have shown" alone: a busy +33 % regression PROCEEDed
    /// at 100 % on an estimate of 1.15×, 1.9 standard errors beyond parity.)
    fn not_shown_within(&self, f: &Findings) -> Option<String> {
        let reference = self.reference;
        let d = f
            .detect
            .filter(|d| self.samples.against_history && d.is_finite() && *d > 0.0)?;
        let r = reference.rate_ratio().filter(|r| *r > 0.0)?;
        let margin = ((1.0 + d).ln() - r.ln()) / log_ratio_se(&reference);
        (margin < DETECT_SHOWN_Z).then(|| {
            format!(
                "{}: {} {} is {:.2}× the {} {}: not yet shown within +{:.0} % of it ({}; {:.1} standard errors under it, {DETECT_SHOWN_Z:.2} needed)",
                self.spec.name,
                self.side(&self.widest),
                self.span_name,
                r,
                self.reference_name,
                reference.baseline_ratio().map_or("—".into(), |r| self.fmt(r)),
                d * 100.0,
                f.by_default.unwrap_or("detect"),
                margin
            )
        })
    }

    /// At 100 %, what the stage still needs before the rollout vouches for it, when more than a
    /// slice's (see [`Findings::stage_events`]).
    fn stage_short(&self, f: &Findings) -> String {
        match self.spec.max {
            Some(max) if f.stage_leans && self.se.totals.canary_requests * max < f.stage_events => {
                format!(
                    " (or, at 100 % with the canary {:.2}× the {} {} {}, once this slice has served about {} requests: {} events' worth at the bound)",
                    self.reference.rate_ratio().unwrap_or(f64::NAN),
                    self.reference_name,
                    self.reference
                        .baseline_ratio()
                        .map_or("—".into(), |r| self.fmt(r)),
                    self.span_name,
                    count(f.stage_events / max),
                    count(f.stage_events)
                )
            }
            _ => String::new(),
        }
    }

    /// The metric's outcome, result and reason in words, from its findings: the first that
    /// applies of no requests, a shared problem, over the bound, worse than a reference, a
    /// rise that has passed, an estimate beyond tolerance not proven, not enough evidence under
    /// the bound, `detect` not yet able to show its excess, and passing.
    fn decide(&self, f: &Findings) -> (MetricOutcome, MetricResult, String) {
        let (spec, samples, se, carried) = (self.spec, self.samples, &self.se, self.carried);
        let (widest, recent, reference) = (self.widest, self.recent, self.reference);
        let (rho0, past_rate, burst_steps) = (self.rho0, self.past_rate, self.burst_steps);
        let (reference_name, span_name) = (self.reference_name, self.span_name);
        let Findings {
            over,
            combined_e,
            worse,
            worse_live,
            stable_last,
            under,
            under_estimated,
            still_over,
            still_worse,
            base_now,
            stable_elevated,
            canary_to_blame,
            shared,
            needed,
            live_beyond,
            beyond_noise,
            past_noise_bar,
            passed_burst,
            ..
        } = *f;
        let fmt = |v: f64| self.fmt(v);
        let side = |t: &Totals| self.side(t);
        let best = |g: fn(&SpanEvidence) -> f64| self.best(g);
        let strongest = |g: &dyn Fn(&SpanEvidence, usize) -> f64| self.strongest(g);
        let serves = |t: &Totals, from: usize| self.serves(t, from);
        let prior_e = |t: &Totals| self.prior_e(t);
        let (needed_e, needed_cmp) = (self.needed_e(), self.needed_cmp());
        if widest.canary_requests <= 0.0 {
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
            let (shown, shown_span) = strongest(&|s, _| s.log_e_over);
            (
                MetricOutcome::Breach,
                MetricResult::High,
                format!(
                    "{}: {} {shown_span} > max {}: evidence {} (needed {needed_e}); the latest window {}",
                    spec.name,
                    side(&shown),
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
            // The span the past serves with the most evidence against it (the finding's).
            let (shown, shown_span) = strongest(&|s, from| {
                if serves(&s.totals, from) {
                    prior_e(&s.totals)
                } else {
                    f64::NEG_INFINITY
                }
            });
            (
                MetricOutcome::Worse,
                MetricResult::High,
                format!(
                    "{}: canary {} {shown_span} against the stable's {} {} ({} now): beyond ×{:.2} of it (evidence {}, needed {needed_cmp})",
                    spec.name,
                    side(&shown),
                    past_rate.map_or("—".into(), fmt),
                    if samples.against_history {
                        "before the rollout and beside the slices before"
                    } else {
                        "before the rollout began"
                    },
                    shown
                        .baseline_ratio()
                        .or(widest.baseline_ratio())
                        .map_or("—".into(), fmt),
                    rho0,
                    ev(combined_e),
                ),
            )
        } else if worse && still_worse {
            let (shown, shown_span) = strongest(&|s, _| s.log_e_worse);
            (
                MetricOutcome::Worse,
                MetricResult::High,
                format!(
                    "{}: canary {} against baseline {} {shown_span}: {}× the baseline's rate, beyond ×{:.2} (evidence {}, needed {needed_cmp})",
                    spec.name,
                    side(&shown),
                    shown.baseline_ratio().map_or("—".into(), fmt),
                    shown.rate_ratio().map_or("—".into(), |r| format!("{r:.2}")),
                    rho0,
                    ev(combined_e),
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
            && (!samples.against_history || (passed_burst.is_none() && past_noise_bar)))
            || live_beyond
        {
            // The estimate that holds it: the pooled one, else the live baseline's alone.
            let (shown, shown_name) = if reference.rate_ratio().is_some_and(|r| r > rho0) {
                (reference, reference_name)
            } else {
                (widest, "live baseline's")
            };
            let head = format!(
                "{}: canary {} is {:.2}× the {} {} {span_name}, beyond ×{:.2}",
                spec.name,
                side(&widest),
                shown.rate_ratio().unwrap_or(f64::NAN),
                shown_name,
                shown.baseline_ratio().map_or("—".into(), fmt),
                rho0,
            );
            let reason = match self.held_back() {
                Some(why) => format!("{head}: {why}: watching"),
                None => format!(
                    "{head} but not proven (evidence {}, needed {needed_cmp})",
                    ev(if combined_e.is_finite() {
                        combined_e
                    } else {
                        self.spans()
                            .map(|s| prior_e(&s.totals))
                            .fold(best(|s| s.log_e_worse), f64::max)
                    }),
                ),
            };
            (MetricOutcome::Borderline, MetricResult::Pass, reason)
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
                        "{}: not enough evidence yet: {} in this slice ({} since the rollout began); {need} in this slice{}",
                        spec.name,
                        side(&se.totals),
                        side(&widest),
                        self.stage_short(f)
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
        } else if let Some(reason) = self.undetectable(f) {
            (MetricOutcome::NoData, MetricResult::NoData, reason)
        } else if let Some(reason) = self.not_shown_within(f) {
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
            // Within the noise of the reference the canary is held to (the pooled one, when the
            // stable's past serves: named, as it is not the baseline printed beside it).
            let noise = match (reference.rate_ratio(), reference_name) {
                // Beyond the noise bar, let through by the burst that has passed.
                (Some(r), name) if r > rho0 && past_noise_bar => {
                    let rest = passed_burst.unwrap_or(widest);
                    format!(
                        " (the {name} {}: {r:.2}× it, resting on one burst that has passed: outside its worst {burst_steps} steps {}, {:.2}× it)",
                        reference.baseline_ratio().map_or("—".into(), fmt),
                        side(&rest),
                        rest.rate_ratio().unwrap_or(f64::NAN)
                    )
                }
                (Some(r), "baseline's") if r > rho0 => format!(
                    " ({r:.2}× it, within the noise: {beyond_noise:.1} standard errors beyond parity)"
                ),
                (Some(r), name) if r > rho0 => format!(
                    " (the {name} {}: {r:.2}× it, within the noise: {beyond_noise:.1} standard errors beyond parity)",
                    reference.baseline_ratio().map_or("—".into(), fmt)
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
        }
    }

    /// One burst is not a regression while the config tolerates a failing window: a finding on the
    /// canary's counts stands only when it is still proven with its worst stretch (its
    /// `failure_limit` windows and the half window a `[1m]` rate smears a burst over) brought down
    /// to the level around it — the rest's ratio, or the windows beside the stretch when higher
    /// (a ramp's latest steps are its worst, and the steps before them nearly as high) — and the
    /// rest is beyond tolerance of the reference. (A rest that merely leaned the canary's way did
    /// before: a healthy canary's rest can lean by chance.)
    fn held_as_one_burst(&self, outcome: MetricOutcome) -> Option<String> {
        let (spec, all, len, slice_n) = (self.spec, self.all, self.len, self.slice_n);
        let (carried, w, rho0, goal) = (self.carried, self.w, self.rho0, self.goal);
        let (widest, span_name) = (self.widest, self.span_name);
        let fmt = |v: f64| self.fmt(v);
        let side = |t: &Totals| self.side(t);
        let pooled = |t: &Totals| self.pooled(t);
        let n = self.burst_steps;
        // …unless the rise came with the slice and stayed, at any age of the slice: from its
        // second step on (its first step's `[1m]` window may hold only a sliver of the change)
        // every run of its steps from there, and every window of them, beyond tolerance of the
        // reference, and the window before the slice not. That is the late onset the slice's own
        // look is for (a new weight's load), not a burst, which does not wait for a weight change;
        // a spike that came with the slice leaves it once a window after it is back. (Until
        // 2026-12-02 only a slice no older than the stretch, each step beyond on its own: a late
        // onset a step past the stretch was watched for as long as the slice's steps outside the
        // stretch were too few to prove it.)
        // (Asked last, where a finding would be held as one burst: a pass over the slice's steps.)
        let came_with_slice = || {
            let (r, e) = pooled(&widest);
            if !carried || r <= 0.0 {
                return false;
            }
            let beyond = |t: &Totals| t.canary_ratio().is_some_and(|c| c > e / r * rho0);
            let slice = &all[len - slice_n..];
            let since = &slice[usize::from(slice.len() > 1)..];
            let mut run = Totals::default();
            since.iter().all(|s| {
                run.canary_requests += s.canary_requests;
                run.canary_events += s.canary_events;
                beyond(&run)
            }) && since.chunks(w).all(|c| beyond(&Totals::of(c)))
                && !beyond(&Totals::of(
                    &all[(len - slice_n).saturating_sub(w)..len - slice_n],
                ))
        };
        let burst = if matches!(outcome, MetricOutcome::Breach | MetricOutcome::Worse)
            && spec.failure_limit > 0
            && !came_with_slice()
        {
            let lean = |from: usize| {
                let steps = &all[from..];
                let whole = Totals::of(steps);
                let at = worst_stretch_at(steps, n)?;
                let stretch = Totals::of(&steps[at..at + n]);
                let rest = whole.without(&stretch);
                let c = rest.canary_ratio()?;
                let against = pooled(&whole);
                let reference = (against.0 > 0.0).then(|| against.1 / against.0);
                // The span with its worst stretch at the level around it — the rest's ratio, or the
                // windows beside the stretch when higher (a ramp's latest steps are its worst, and the
                // steps before them are close to them; a burst's are not): the finding without the
                // stretch's excess must still be proven, beyond tolerance of the reference or over the
                // bound.
                let beside = Totals::of(&steps[at.saturating_sub(w)..at])
                    .canary_ratio()
                    .into_iter()
                    .chain(
                        Totals::of(
                            &steps[(at + n).min(steps.len())..(at + n + w).min(steps.len())],
                        )
                        .canary_ratio(),
                    )
                    .fold(c, f64::max);
                // A stretch that could have stood out from the rest and does not is no burst: the
                // excess is spread over the span (the worst of a uniform regression's stretches is
                // worst by chance), and it stays at its own level. Could: the rest served as many
                // requests, and the stretch's requests hold enough events at the rest's ratio that a
                // doubling would stand out on average ([`BURST_DUE_EVENTS`]). Does not: its ratio is
                // not beyond the rest's by a likelihood ratio of e^BURST_STANDS_OUT.
                let spread = rest.canary_requests >= stretch.canary_requests
                    && c * stretch.canary_requests >= BURST_DUE_EVENTS
                    && stands_out(&stretch, &rest) < BURST_STANDS_OUT;
                let level = if spread {
                    stretch.canary_ratio().unwrap_or(beside).max(beside)
                } else {
                    beside
                };
                let capped =
                    rest.canary_events + stretch.canary_events.min(level * stretch.canary_requests);
                let cmp = (whole.canary_requests, capped);
                let leans = match reference {
                    Some(b) => c > b * rho0 && log_e_worse_totals(cmp, against, PROOF_RHO) >= goal,
                    None => true,
                } || spec.max.is_some_and(|max| {
                    c > max && log_e_over(capped, whole.canary_requests, max) >= goal
                });
                Some((leans, rest, reference, level))
            };
            let mut looks = vec![lean(len - slice_n)];
            if carried {
                looks.push(lean(0));
            }
            (!looks.iter().flatten().any(|(leans, ..)| *leans))
                .then(|| looks.into_iter().flatten().last())
                .map(|rest| (n, rest))
        } else {
            None
        };
        burst.map(|(n, rest)| {
                format!(
                    "{}: canary {} {span_name}, but it rests on one burst: outside its worst {} steps{} (failure limit {}): watching",
                    spec.name,
                    side(&widest),
                    n,
                    match rest {
                        Some((_, t, reference, level)) => format!(
                            ", {}; with those steps at the level around them ({}) it is not proven beyond ×{:.2} of the reference's {}",
                            side(&t),
                            fmt(level),
                            rho0,
                            reference.map_or("—".into(), fmt)
                        ),
                        None => " nothing is left to judge".into(),
                    },
                    spec.failure_limit
                )
        })
    }
}

/// Whether counts with `due` errors due at the reference's rate `b` (the canary's requests × b)
/// beside a reference of `reference_events` errors could have shown the canary `excess` above
/// that rate with the power of `z`: the log likelihood ratio of its errors at `b + excess`
/// against `b`, `X ln ρ − due (ρ − 1)` with X ~ Poisson(due ρ), ρ = 1 + excess / b — on average
/// `due (ρ ln ρ − ρ + 1)`, with a standard deviation of `ln ρ √(due ρ)` — reaching `goal` at z
/// standard deviations under its mean (`due` combined with the reference's own errors as their
/// variances are). For a large ρ far fewer requests than the normal approximation of `detect`
/// asks. A reference without errors shows any excess.
fn excess_shown(due: f64, reference_events: f64, b: f64, excess: f64, goal: f64, z: f64) -> bool {
    if b <= 0.0 {
        return true;
    }
    if due <= 0.0 || reference_events <= 0.0 {
        return false;
    }
    let due_eff = 1.0 / (1.0 / due + 1.0 / reference_events);
    due_eff >= due_to_show_excess(b, excess, goal, z)
}

/// The (combined) errors due that [`excess_shown`] needs.
fn due_to_show_excess(b: f64, excess: f64, goal: f64, z: f64) -> f64 {
    let rho = 1.0 + excess / b;
    let kl = rho * rho.ln() - rho + 1.0;
    // kl u² − z ln ρ √ρ u − goal ≥ 0, u = √due.
    let k = z * rho.ln() * rho.sqrt();
    let u = (k + (k * k + 4.0 * kl * goal).sqrt()) / (2.0 * kl);
    u * u
}

/// The canary requests [`excess_shown`] needs at the reference's rate `b`, when any number can.
fn requests_to_show_excess(
    reference_events: f64,
    b: f64,
    excess: f64,
    goal: f64,
    z: f64,
) -> Option<f64> {
    if b <= 0.0 || reference_events <= 0.0 {
        return None;
    }
    let inv_due = 1.0 / due_to_show_excess(b, excess, goal, z) - 1.0 / reference_events;
    (inv_due > 0.0).then(|| 1.0 / (b * inv_due))
}

/// How far `stretch`'s canary ratio stands out above `rest`'s: the log likelihood ratio, at its
/// maximum, of the stretch's share of their events against the share its requests give it when
/// both ratios are one (0 when it is not above).
pub(super) fn stands_out(stretch: &Totals, rest: &Totals) -> f64 {
    let (xs, ns) = (stretch.canary_events, stretch.canary_requests);
    let (xr, nr) = (rest.canary_events, rest.canary_requests);
    let x = xs + xr;
    if !(x > 0.0 && ns > 0.0 && nr > 0.0) {
        return 0.0;
    }
    let (share, due) = (xs / x, ns / (ns + nr));
    if share <= due {
        return 0.0;
    }
    // The stretch's events among all of them, binomial: at their share against the due one.
    llr(xs, x, share, due)
}

/// The totals of `steps` outside their worst stretch of `n` (the most canary events beyond the
/// steps' own canary ratio): `None` when nothing is left outside it.
pub(super) fn outside_worst_stretch(steps: &[CountStep], n: usize) -> Option<Totals> {
    Some(Totals::of(steps).without(&worst_stretch(steps, n)?))
}

/// The totals of `steps`' worst stretch of `n` (the most canary events beyond the steps' own
/// canary ratio): `None` when it would be all of them.
pub(super) fn worst_stretch(steps: &[CountStep], n: usize) -> Option<Totals> {
    let at = worst_stretch_at(steps, n)?;
    Some(Totals::of(&steps[at..at + n]))
}

/// Where [`worst_stretch`] begins.
pub(super) fn worst_stretch_at(steps: &[CountStep], n: usize) -> Option<usize> {
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
    Some(at)
}
