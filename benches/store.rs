//! The on-disk store with 10,000 PRs (bodies, eight checks and two reviews each) and 1,000 runs:
//! - reading and parsing the GitHub file (what start waits for): decides whether the first frame
//!   may wait for the store (`runtime::STORE_WAIT`, 40 ms) or the data follows it
//! - saving it (serialize, fsync, rename): what a poller pays at most every `store::SAVE_EVERY`
//!   per megabyte, on a blocking thread
//!
//! Run: `cargo bench --bench store` (divan prints median per benchmark; the file's size first).

use divan::{Bencher, black_box};
use flightdeck::config::Config;
use flightdeck::domain::*;
use flightdeck::store::Store;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-23 09:30:00 UTC);
const WORDS: &[&str] = &[
    "fix", "payment", "checkout", "retry", "bump", "serde", "cart", "totals", "refactor", "web",
    "button", "focus", "release", "canary", "timeout", "gateway", "docs", "metrics", "cache",
    "auth",
];

fn words(i: usize, n: usize) -> String {
    (0..n)
        .map(|k| WORDS[(i * 7 + k * 13 + i / 3) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn pr(i: usize) -> PullRequest {
    let repo = format!("acme/{}", WORDS[i % 5]);
    PullRequest {
        url: format!("https://github.com/{repo}/pull/{i}"),
        repo,
        number: i as u64,
        title: words(i, 7),
        author: format!("dev{}", i % 97),
        draft: i.is_multiple_of(11),
        labels: vec![WORDS[i % 20].to_string(), WORDS[(i + 3) % 20].to_string()],
        head_ref: format!("feature/{}-{i}", WORDS[i % 20]),
        base_ref: "main".into(),
        created_at: Some(NOW - time::Duration::minutes((i % 5000) as i64)),
        updated_at: Some(NOW - time::Duration::minutes((i % 50) as i64)),
        body: words(i, 100),
        head_sha: format!("{i:040x}"),
        checks: Some(ChecksRollup {
            failed: i.is_multiple_of(3) as u32,
            pending: 1,
            passed: 6,
            skipped: 0,
        }),
        check_list: (0..8)
            .map(|k| Check {
                name: format!("ci / {} ({k})", WORDS[(i + k) % 20]),
                state: [CheckState::Passed, CheckState::Pending, CheckState::Failed][k % 3],
                detail: "success".into(),
                url: format!("https://github.com/acme/x/actions/runs/{i}/job/{k}"),
            })
            .collect(),
        review: Some(ReviewDecision::Approved),
        reviews: (0..2)
            .map(|k| Review {
                reviewer: format!("dev{}", (i + k) % 97),
                state: "APPROVED".into(),
                submitted_at: Some(NOW),
            })
            .collect(),
        mergeable: Some("clean".into()),
        additions: Some(i as u64 % 900),
        deletions: Some(i as u64 % 300),
        changed_files: Some(i as u64 % 40),
    }
}

fn run(i: usize) -> WorkflowRun {
    WorkflowRun {
        repo: format!("acme/{}", WORDS[i % 5]),
        id: i as u64,
        run_number: i as u64,
        workflow: ["CI", "Deploy", "CodeQL"][i % 3].into(),
        title: words(i, 6),
        branch: format!("fix/{}", WORDS[i % 20]),
        sha: format!("{i:040x}"),
        event: "push".into(),
        actor: format!("dev{}", i % 97),
        state: [RunState::Success, RunState::Failure, RunState::InProgress][i % 3],
        attempt: 1,
        started_at: Some(NOW - time::Duration::minutes((i % 500) as i64)),
        updated_at: Some(NOW),
        url: format!("https://github.com/acme/x/actions/runs/{i}"),
        pending: Vec::new(),
    }
}

fn big() -> SourceData {
    SourceData::GitHub {
        prs: (0..10_000).map(pr).map(std::sync::Arc::new).collect(),
        runs: (0..1_000).map(run).collect(),
        rate: None,
        graphql_rate: None,
        failed: Vec::new(),
        slowed: None,
    }
}

fn store(dir: &std::path::Path) -> Store {
    let config = Config::parse(
        "[github]\nrepos = [\"acme/fix\", \"acme/payment\", \"acme/checkout\", \"acme/retry\", \"acme/bump\"]\n",
        "bench",
    )
    .unwrap();
    Store::new(dir, &config)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    s.save(SourceId::GitHub, NOW, &big(), None).unwrap();
    let path = s.path(SourceId::GitHub).unwrap();
    let bytes = std::fs::metadata(&path).unwrap().len();
    println!(
        "GitHub store with 10,000 PRs and 1,000 runs: {:.1} MB",
        bytes as f64 / 1e6
    );
    divan::main();
}

#[divan::bench(sample_count = 20)]
fn load_10k_prs(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    s.save(SourceId::GitHub, NOW, &big(), None).unwrap();
    bencher.bench_local(|| {
        let loaded = s.load();
        assert_eq!(loaded.entries.len(), 1);
        black_box(loaded)
    });
}

#[divan::bench(sample_count = 20)]
fn save_10k_prs(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let data = big();
    bencher.bench_local(|| {
        s.save(SourceId::GitHub, NOW, black_box(&data), None)
            .unwrap()
    });
}
