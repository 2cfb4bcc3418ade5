//! Speed targets (medians on the 2-core dev machine):
//! - render a full 200×50 frame of a tab holding 10,000 rows: ≤ 1 ms
//! - filter 100,000 rows on a keystroke: ≤ 5 ms
//! - apply a poll result of 10,000 PRs + 10,000 runs: ≤ 10 ms
//! - `sanitize::clean` / `redact::redact` of 100 KB of log: ≤ 1 ms; of a plain title: no slower than a copy
//!   and a byte scan
//!
//! Run: `cargo bench` (divan prints median per benchmark).

use divan::{Bencher, black_box};
use flightdeck::app::keymap::Keymap;
use flightdeck::app::{Msg, State, Tab, update};
use flightdeck::domain::*;
use flightdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-23 09:30:00 UTC);
const WORDS: &[&str] = &[
    "fix", "payment", "checkout", "retry", "bump", "serde", "cart", "totals", "refactor", "web",
    "button", "focus", "release", "canary", "timeout", "gateway", "docs", "metrics", "cache",
    "auth",
];

fn title(i: usize) -> String {
    (0..6)
        .map(|k| WORDS[(i * 7 + k * 13 + i / 3) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn prs(n: usize, salt: usize) -> Vec<std::sync::Arc<PullRequest>> {
    (0..n)
        .map(|i| PullRequest {
            repo: format!("acme/{}", WORDS[i % 5]),
            number: (i + salt) as u64,
            title: title(i + salt),
            author: format!("dev{}", i % 97),
            draft: i % 11 == 0,
            labels: vec![WORDS[i % 20].to_string()],
            head_ref: format!("feature/{i}"),
            base_ref: "main".into(),
            created_at: Some(NOW - time::Duration::minutes((i % 5000) as i64)),
            updated_at: Some(NOW),
            url: format!("https://github.com/acme/x/pull/{i}"),
            body: String::new(),
            head_sha: format!("{i:040x}"),
            checks: Some(ChecksRollup {
                failed: (i % 3 == 0) as u32,
                pending: 1,
                passed: 6,
                skipped: 0,
            }),
            check_list: Vec::new(),
            review: Some(ReviewDecision::Approved),
            reviews: Vec::new(),
            mergeable: Some("clean".into()),
            additions: Some(i as u64 % 900),
            deletions: Some(i as u64 % 300),
            changed_files: Some(i as u64 % 40),
        })
        .map(std::sync::Arc::new)
        .collect()
}

fn runs(n: usize, salt: usize) -> Vec<WorkflowRun> {
    (0..n)
        .map(|i| WorkflowRun {
            repo: format!("acme/{}", WORDS[i % 5]),
            id: (i + salt) as u64,
            run_number: i as u64,
            workflow: ["CI", "Deploy", "CodeQL"][i % 3].into(),
            title: title(i),
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
        })
        .collect()
}

fn state_with(n_prs: usize, n_runs: usize) -> State {
    let mut s = State::new(Keymap::default(), vec!["default".into()], NOW);
    s.size = (200, 50);
    s.sources[SourceId::GitHub as usize].configured = true;
    update(
        &mut s,
        Msg::loaded(
            SourceId::GitHub,
            Ok(SourceData::GitHub {
                prs: prs(n_prs, 0),
                runs: runs(n_runs, 0),
                rate: None,
                graphql_rate: None,
                failed: Vec::new(),
                slowed: None,
            }),
            NOW,
        ),
    );
    s
}

fn main() {
    divan::main();
}

#[divan::bench(args = [Tab::Prs, Tab::Runs])]
fn render_200x50_with_10k_rows(bencher: Bencher, tab: Tab) {
    let mut s = state_with(10_000, 10_000);
    s.tab = tab;
    s.prs.list.selected = 5_000;
    s.runs.list.selected = 5_000;
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let theme = Theme::builtin("default").unwrap();
    bencher.bench_local(|| {
        // Invalidate the previous frame so every iteration draws and diffs a full screen.
        term.swap_buffers();
        term.current_buffer_mut().reset();
        term.draw(|f| {
            flightdeck::ui::render(black_box(&s), &theme, f);
        })
        .unwrap();
    });
}

#[divan::bench]
fn render_200x50_filtered_10k_rows(bencher: Bencher) {
    let mut s = state_with(10_000, 0);
    s.prs.list.set_filter("chk pay".into());
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let theme = Theme::builtin("default").unwrap();
    bencher.bench_local(|| {
        term.swap_buffers();
        term.current_buffer_mut().reset();
        term.draw(|f| {
            flightdeck::ui::render(black_box(&s), &theme, f);
        })
        .unwrap();
    });
}

/// A keystroke that starts a filter: every one of 100,000 rows is checked.
#[divan::bench]
fn filter_100k_rows_first_keystroke(bencher: Bencher) {
    let mut s = state_with(100_000, 0);
    bencher.bench_local(|| {
        s.prs.list.set_filter(String::new());
        s.prs.list.set_filter(black_box("c".into()));
        black_box(s.prs.list.view.len())
    });
}

/// A keystroke that makes a typed filter longer ("chec" → "check"), the common case while typing.
#[divan::bench]
fn filter_100k_rows_next_keystroke(bencher: Bencher) {
    let mut s = state_with(100_000, 0);
    s.prs.list.set_filter("chec".into());
    let typed = s.prs.list.clone();
    bencher
        .with_inputs(|| typed.clone())
        .bench_local_values(|mut list| {
            list.set_filter(black_box("check".into()));
            list
        });
}

/// The worst keystroke: a query that is not a narrowing of the last, over all 100,000 rows.
#[divan::bench]
fn filter_100k_rows_full_rescan_two_terms(bencher: Bencher) {
    let mut s = state_with(100_000, 0);
    let mut flip = false;
    bencher.bench_local(|| {
        flip = !flip;
        let q = if flip { "pay rty" } else { "chk tmo" };
        s.prs.list.set_filter(black_box(q.into()));
        black_box(s.prs.list.view.len())
    });
}

/// Applying a GitHub poll of 10,000 PRs and 10,000 runs that changed.
#[divan::bench]
fn apply_poll_10k_prs_10k_runs(bencher: Bencher) {
    let mut s = state_with(10_000, 10_000);
    let mut salt = 0;
    bencher
        .with_inputs(|| {
            salt += 1;
            Msg::loaded(
                SourceId::GitHub,
                Ok(SourceData::GitHub {
                    prs: prs(10_000, salt),
                    runs: runs(10_000, salt),
                    rate: None,
                    graphql_rate: None,
                    failed: Vec::new(),
                    slowed: None,
                }),
                NOW,
            )
        })
        .bench_local_values(|msg| update(&mut s, msg));
}

/// 100 KB of plain printable ASCII log lines (the common case: must stay on the fast path).
fn plain_log_100k() -> String {
    let mut s = String::with_capacity(110_000);
    let mut i = 0;
    while s.len() < 100_000 {
        s.push_str(&format!(
            "2026-11-23T09:{:02}:{:02}Z step={} {} (exit=0, took {}ms) - see docs_{}\n",
            i % 60,
            (i * 7) % 60,
            i,
            title(i),
            i % 977,
            i % 13
        ));
        i += 1;
    }
    s
}

/// 100 KB of a mixed CI log: ANSI colours, CJK, accents, emoji and ZWJ sequences, flags, zero-width
/// characters, the odd secret.
fn mixed_log_100k() -> String {
    const EXTRA: &[&str] = &[
        "\u{1b}[31merror\u{1b}[0m: build failed",
        "déploiement terminé e\u{301} 世界 ✅",
        "ship it 🚀 👨\u{200d}👩\u{200d}👧 🏳\u{fe0f}\u{200d}🌈 👍🏽 🇩🇪",
        "zero\u{200b}width\u{2060}join\u{feff}er soft\u{ad}hyphen",
        "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
        "key AKIAIOSFODNN7EXAMPLE in env",
    ];
    let mut s = String::with_capacity(110_000);
    let mut i = 0;
    while s.len() < 100_000 {
        s.push_str(&format!("#{i} {} {}\n", title(i), EXTRA[i % EXTRA.len()]));
        i += 1;
    }
    s
}

/// `sanitize::clean` on a typical PR title (plain ASCII).
#[divan::bench]
fn clean_plain_title(bencher: Bencher) {
    let t = title(42);
    bencher.bench_local(|| flightdeck::sanitize::clean(black_box(&t)));
}

/// `sanitize::clean_multiline` on 100 KB of plain ASCII log.
#[divan::bench]
fn clean_plain_log_100k(bencher: Bencher) {
    let log = plain_log_100k();
    bencher.bench_local(|| flightdeck::sanitize::clean_multiline(black_box(&log)));
}

/// `sanitize::clean_multiline` on 100 KB of mixed, adversarial log.
#[divan::bench]
fn clean_mixed_log_100k(bencher: Bencher) {
    let log = mixed_log_100k();
    bencher.bench_local(|| flightdeck::sanitize::clean_multiline(black_box(&log)));
}

/// `sanitize::clean` on 100 KB of plain ASCII on one line (the fast path at its longest).
#[divan::bench]
fn clean_plain_line_100k(bencher: Bencher) {
    let line = plain_log_100k().replace('\n', " ");
    bencher.bench_local(|| flightdeck::sanitize::clean(black_box(&line)));
}

/// `redact::redact` on 100 KB of plain ASCII log without a secret (borrowed, no allocation).
#[divan::bench]
fn redact_plain_log_100k(bencher: Bencher) {
    let log = plain_log_100k();
    bencher.bench_local(|| flightdeck::redact::redact(black_box(&log)).len());
}

/// `redact::redact` on the 100 KB mixed log (one secret every few lines).
#[divan::bench]
fn redact_mixed_log_100k(bencher: Bencher) {
    let log = mixed_log_100k();
    bencher.bench_local(|| flightdeck::redact::redact(black_box(&log)).len());
}
