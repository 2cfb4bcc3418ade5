//! The baseline comparison's rank statistics: the Mann–Whitney U test (average ranks for ties,
//! tie-corrected variance, normal approximation with continuity correction) and the
//! Hodges–Lehmann shift with its distribution-free confidence interval, found by selection among
//! the pairwise differences rather than by sorting them all; the samples' cleaning and medians.

use super::*;

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
pub(super) fn clean_sorted(values: &[f64]) -> (Vec<f64>, usize) {
    let mut v = Vec::with_capacity(values.len());
    let dropped = clean_sorted_into(values, &mut v);
    (v, dropped)
}

/// [`clean_sorted`] into `v` (cleared first, its allocation reused); the values dropped.
pub(super) fn clean_sorted_into(values: &[f64], v: &mut Vec<f64>) -> usize {
    v.clear();
    v.extend(values.iter().filter(|x| x.is_finite()).map(|x| x + 0.0));
    // Every value is finite here, so `partial_cmp` is a total order (and twice as fast as `total_cmp`).
    v.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values.len() - v.len()
}

/// The finite values of `values` into `v` (cleared first, its allocation reused), unsorted; the
/// values dropped.
pub(super) fn clean_into(values: &[f64], v: &mut Vec<f64>) -> usize {
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

pub(super) fn median_sorted(v: &[f64]) -> Option<f64> {
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
pub(super) fn u_and_ties(a: &[f64], b: &[f64]) -> (f64, f64) {
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
pub(super) fn mann_whitney_sorted(a: &[f64], b: &[f64]) -> Option<(MannWhitney, f64)> {
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
pub(super) fn two_sided_p(z: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// Complementary error function (Chebyshev fit, fractional error < 1.2e-7 everywhere; Numerical Recipes
/// `erfcc`).
pub(super) fn erfc(x: f64) -> f64 {
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
pub(super) fn norm_quantile(p: f64) -> f64 {
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
pub(super) fn ci_rank(n_a: usize, n_b: usize, sigma_u: f64, confidence: f64) -> usize {
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
pub(super) struct Workspace {
    /// The canary's and the baseline's finite values, sorted (reused across metrics).
    pub(super) sorted_canary: Vec<f64>,
    pub(super) sorted_baseline: Vec<f64>,
    /// The baseline with a −∞ sentinel in front and a +∞ sentinel behind.
    yext: Vec<f64>,
    /// Candidate differences left for the final selection.
    cand: Vec<f64>,
    /// Probes made so far for the current pair of samples (they narrow later brackets for free).
    probes: Vec<Probe>,
}

pub(super) fn hodges_lehmann_sorted(
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
pub(super) fn thinned_median_difference(a: &[f64], b: &[f64]) -> Option<f64> {
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
