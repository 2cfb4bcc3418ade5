use flightdeck::sim::canary_lab::{self, Kind};
fn main() {
    let mut tot = [0f64; 4];
    for kind in [
        Kind::HealthyNoise,
        Kind::Bursts,
        Kind::CanarySpike,
        Kind::NearThreshold,
    ] {
        for seed in 1..=15 {
            let s = canary_lab::generate(kind, seed);
            let hist_steps = (canary_lab::HISTORY_SECS / 15) as usize;
            let (c, b) = (&s.canary, &s.baseline);
            let sum = |v: &[u64], r: std::ops::Range<usize>| v[r].iter().sum::<u64>() as f64;
            let n = c.step_requests.len();
            let hr = sum(&b.step_requests, 0..hist_steps);
            let he = sum(&b.step_errors, 0..hist_steps);
            let cr = sum(&c.step_requests, hist_steps..n);
            let ce = sum(&c.step_errors, hist_steps..n);
            let br = sum(&b.step_requests, hist_steps..n);
            let be = sum(&b.step_errors, hist_steps..n);
            tot[0] += he;
            tot[1] += hr;
            tot[2] += ce;
            tot[3] += cr;
            println!(
                "{:20} p {:.4} hist {:.4} ({he}/{hr}) canary {:.4} ({ce}/{cr}) base {:.4} ({be}/{br})",
                s.name,
                s.base_error_ratio,
                he / hr,
                ce / cr,
                be / br
            );
        }
    }
    println!(
        "all: hist {:.5} canary {:.5}",
        tot[0] / tot[1],
        tot[2] / tot[3]
    );
}
