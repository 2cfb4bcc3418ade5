//! Why did a CI job fail? From a failed job's log (and, when there is one, the last green log of the
//! same job) to a [`Category`], the root-cause lines with their line numbers in the input, the failing
//! tests' names and what is new since the green run.
//!
//! Pure and deterministic, no regular expressions, linear in the size of the logs:
//! 1. [`ci_log::triage`] cleans every line (timestamp prefix, escapes and secrets gone) and finds the
//!    excerpts an engineer reads first. Its `LogLine`s are the input's lines minus the `##[endgroup]`
//!    markers ([`ci_log::is_dropped`]); [`analyze`] maps them back to 1-based input line numbers.
//! 2. Each line outside a step header and outside a shell echo (`$ cmd`, `+ cmd`) is matched against
//!    hand-written rules, each naming a category, a strength (3 strong, 2 medium, 1 weak) and itself.
//!    The category is the one with the strongest hit; ties go to the category that usually *causes*
//!    the others (infrastructure, then out of memory, timeout, dependency resolution, compile error,
//!    lint, test failure, network). With a green log, a hit on a line whose template the green run
//!    also printed is one step weaker: it was there when the job passed.
//! 3. Failing tests are read from cargo test, pytest, jest, go test, Maven surefire and TAP (`node
//!    --test`, `npm test`) output.
//! 4. [`LogDiff`]: every line becomes a Drain-style template ([`template`]: numbers, hex ids, UUIDs,
//!    durations, IPs, ports and temporary paths masked); lines of the failed log whose template the
//!    green log never printed are new. Membership is a **set**, not a multiset: how often a known line
//!    repeats (retries, progress, polling, parallel workers) varies from run to run, and counting it
//!    would report noise as new while a genuinely new failure almost always prints a new template.
//!    Hashing makes it linear, and order does not matter, so reordered parallel output is not "new".
//!
//! 5xx answers from a registry are classified as network/flaky (the remedy is a retry), not as
//! infrastructure, which is kept for the runner itself: lost runners, full disks, the Docker daemon.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::analysis::ci_log::{self, LineKind};
use crate::sanitize;

/// Most lines of classification evidence put first in [`FailureReport::root_cause`].
pub const MAX_EVIDENCE: usize = 5;
/// Most root-cause lines in a report.
pub const MAX_ROOT_CAUSE: usize = 12;
/// Most failing tests' names in a report.
pub const MAX_TESTS: usize = 100;
/// Most hunks in a [`LogDiff`], and lines shown per hunk.
pub const MAX_HUNKS: usize = 20;
pub const MAX_HUNK_LINES: usize = 40;
/// New lines with at most this many known, non-blank lines between them belong to one hunk.
const HUNK_GAP: usize = 1;
const LINE_MAX: usize = 400;
/// How far above rustc's `implied by `-D warnings`` note its `error:` header may be.
const LINT_HEADER_LOOKBACK: usize = 20;
const TEST_NAME_MAX: usize = 200;
const SUMMARY_MAX: usize = 300;

/// What kind of failure a log shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Category {
    CompileError,
    TestFailure {
        tests: Vec<String>,
    },
    Lint,
    Timeout,
    OutOfMemory,
    /// Network errors and 5xx answers from registries: usually flaky, retry first.
    Network,
    /// The runner, not the code: runner lost, disk full, Docker daemon, system failure.
    Infrastructure,
    DependencyResolution,
    Unknown,
}

impl Category {
    pub fn label(&self) -> &'static str {
        match self {
            Category::CompileError => "compile error",
            Category::TestFailure { .. } => "test failure",
            Category::Lint => "lint",
            Category::Timeout => "timeout",
            Category::OutOfMemory => "out of memory",
            Category::Network => "network / flaky",
            Category::Infrastructure => "infrastructure",
            Category::DependencyResolution => "dependency resolution",
            Category::Unknown => "unknown",
        }
    }
}

/// How sure the classification is: the strength of the rule that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// The analysis of one failed log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureReport {
    pub category: Category,
    /// [`Category::label`].
    pub label: String,
    /// The rule that decided the category (`rustc-error`, `failing-tests`, …); `None` when unknown.
    pub rule: Option<String>,
    pub confidence: Confidence,
    /// `(line number in the input, 1-based; cleaned text)`: the lines that decided the category
    /// (strongest first), then the other failures [`ci_log::triage`] found, in its order.
    pub root_cause: Vec<(usize, String)>,
    pub failing_tests: Vec<String>,
    /// What is new relative to the green log, when one was given.
    pub new_lines: Option<LogDiff>,
    /// One line for humans.
    pub summary: String,
}

/// The lines of a failed log that the green log of the same job never printed (as templates).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogDiff {
    /// How many lines of the failed log are new (all of them, also those not shown in a hunk).
    pub new_count: usize,
    /// Runs of new lines, the most error-ish first, then in log order. At most [`MAX_HUNKS`].
    pub hunks: Vec<Hunk>,
    /// Hunks beyond [`MAX_HUNKS`].
    pub hunks_left_off: usize,
}

/// Consecutive new lines: at most [`HUNK_GAP`] known lines between two of them (blank lines do not count).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hunk {
    /// 1-based input line numbers, inclusive.
    pub first: usize,
    pub last: usize,
    /// How many of its lines look like errors.
    pub errorish: usize,
    /// `(line number, cleaned text)`, at most [`MAX_HUNK_LINES`].
    pub lines: Vec<(usize, String)>,
    pub lines_left_off: usize,
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CompileError,
    TestFailure,
    Lint,
    Timeout,
    OutOfMemory,
    Network,
    Infrastructure,
    DependencyResolution,
}

impl Kind {
    /// Ties between equally strong hits go to the likelier cause.
    fn precedence(self) -> u8 {
        match self {
            Kind::Infrastructure => 7,
            Kind::OutOfMemory => 6,
            Kind::Timeout => 5,
            Kind::DependencyResolution => 4,
            Kind::CompileError => 3,
            Kind::Lint => 2,
            Kind::TestFailure => 1,
            Kind::Network => 0,
        }
    }
}

const STRONG: u8 = 3;
const MEDIUM: u8 = 2;
const WEAK: u8 = 1;

/// Substring rules: needle (case-sensitive), category, strength, rule name.
const NEEDLES: &[(&str, Kind, u8, &str)] = &[
    // Infrastructure
    (
        "No space left on device",
        Kind::Infrastructure,
        STRONG,
        "disk-full",
    ),
    ("ENOSPC", Kind::Infrastructure, STRONG, "disk-full"),
    (
        "You are running out of disk space",
        Kind::Infrastructure,
        STRONG,
        "disk-full",
    ),
    (
        "Cannot connect to the Docker daemon",
        Kind::Infrastructure,
        STRONG,
        "docker-daemon",
    ),
    (
        "Is the docker daemon running?",
        Kind::Infrastructure,
        STRONG,
        "docker-daemon",
    ),
    (
        "lost communication with the server",
        Kind::Infrastructure,
        STRONG,
        "runner-lost",
    ),
    (
        "Job failed (system failure)",
        Kind::Infrastructure,
        STRONG,
        "gitlab-system-failure",
    ),
    (
        "ChannelClosedException",
        Kind::Infrastructure,
        STRONG,
        "jenkins-agent-lost",
    ),
    (
        "was marked offline",
        Kind::Infrastructure,
        STRONG,
        "jenkins-agent-lost",
    ),
    (
        "toomanyrequests:",
        Kind::Infrastructure,
        MEDIUM,
        "registry-rate-limit",
    ),
    (
        "Error response from daemon:",
        Kind::Infrastructure,
        MEDIUM,
        "docker-daemon",
    ),
    // Out of memory
    ("out of memory", Kind::OutOfMemory, STRONG, "out-of-memory"),
    ("Out of memory", Kind::OutOfMemory, STRONG, "out-of-memory"),
    ("OutOfMemoryError", Kind::OutOfMemory, STRONG, "java-oom"),
    ("OOMKilled", Kind::OutOfMemory, STRONG, "oom-killed"),
    ("Killed process", Kind::OutOfMemory, STRONG, "oom-killed"),
    (
        "Cannot allocate memory",
        Kind::OutOfMemory,
        STRONG,
        "out-of-memory",
    ),
    (
        "memory allocation of",
        Kind::OutOfMemory,
        STRONG,
        "alloc-failed",
    ),
    ("exit code 137", Kind::OutOfMemory, MEDIUM, "exit-137"),
    ("exit code: 137", Kind::OutOfMemory, MEDIUM, "exit-137"),
    ("exit status 137", Kind::OutOfMemory, MEDIUM, "exit-137"),
    (
        "exited with code 137",
        Kind::OutOfMemory,
        MEDIUM,
        "exit-137",
    ),
    ("signal: 9, SIGKILL", Kind::OutOfMemory, MEDIUM, "sigkill"),
    ("signal: killed", Kind::OutOfMemory, MEDIUM, "sigkill"),
    (
        "The runner has received a shutdown signal",
        Kind::OutOfMemory,
        WEAK,
        "runner-shutdown",
    ),
    // Timeout
    (
        "exceeded the maximum execution time",
        Kind::Timeout,
        STRONG,
        "job-timeout",
    ),
    (
        "execution took longer than",
        Kind::Timeout,
        STRONG,
        "job-timeout",
    ),
    ("Failed: Timeout >", Kind::Timeout, STRONG, "pytest-timeout"),
    ("+ Timeout +", Kind::Timeout, STRONG, "pytest-timeout"),
    (
        "test timed out after",
        Kind::Timeout,
        STRONG,
        "go-test-timeout",
    ),
    (
        "context deadline exceeded",
        Kind::Timeout,
        STRONG,
        "deadline-exceeded",
    ),
    ("Exceeded timeout of", Kind::Timeout, STRONG, "jest-timeout"),
    ("ms exceeded", Kind::Timeout, MEDIUM, "mocha-timeout"),
    (
        "Timeout has been exceeded",
        Kind::Timeout,
        MEDIUM,
        "jenkins-timeout",
    ),
    (
        "The operation was canceled.",
        Kind::Timeout,
        WEAK,
        "canceled",
    ),
    // Dependency resolution
    (
        "ERESOLVE",
        Kind::DependencyResolution,
        STRONG,
        "npm-eresolve",
    ),
    ("ETARGET", Kind::DependencyResolution, STRONG, "npm-etarget"),
    (
        "No matching version found for",
        Kind::DependencyResolution,
        STRONG,
        "npm-etarget",
    ),
    (
        "Couldn't find any versions for",
        Kind::DependencyResolution,
        STRONG,
        "yarn-no-version",
    ),
    (
        "conflicting dependencies",
        Kind::DependencyResolution,
        STRONG,
        "pip-conflict",
    ),
    (
        "ResolutionImpossible",
        Kind::DependencyResolution,
        STRONG,
        "pip-resolution-impossible",
    ),
    (
        "Could not find a version that satisfies the requirement",
        Kind::DependencyResolution,
        STRONG,
        "pip-no-version",
    ),
    (
        "No matching distribution found",
        Kind::DependencyResolution,
        STRONG,
        "pip-no-version",
    ),
    (
        "version solving failed",
        Kind::DependencyResolution,
        STRONG,
        "solver-failed",
    ),
    (
        "Could not resolve dependencies",
        Kind::DependencyResolution,
        STRONG,
        "maven-unresolved",
    ),
    (
        "Could not resolve all dependencies",
        Kind::DependencyResolution,
        STRONG,
        "gradle-unresolved",
    ),
    (
        "Could not resolve all files for",
        Kind::DependencyResolution,
        STRONG,
        "gradle-unresolved",
    ),
    (
        "failed to select a version for",
        Kind::DependencyResolution,
        STRONG,
        "cargo-select-version",
    ),
    (
        "no matching package named",
        Kind::DependencyResolution,
        STRONG,
        "cargo-no-package",
    ),
    (
        "no required module provides package",
        Kind::DependencyResolution,
        STRONG,
        "go-module-missing",
    ),
    (
        "cannot find module providing package",
        Kind::DependencyResolution,
        STRONG,
        "go-module-missing",
    ),
    (
        "missing go.sum entry",
        Kind::DependencyResolution,
        STRONG,
        "go-sum-missing",
    ),
    (
        "unknown revision",
        Kind::DependencyResolution,
        MEDIUM,
        "go-unknown-revision",
    ),
    (
        "npm ERR! 404",
        Kind::DependencyResolution,
        MEDIUM,
        "npm-404",
    ),
    (
        "npm error 404",
        Kind::DependencyResolution,
        MEDIUM,
        "npm-404",
    ),
    // Compile errors
    (
        "COMPILATION ERROR",
        Kind::CompileError,
        STRONG,
        "maven-compile",
    ),
    (
        "Compilation failure",
        Kind::CompileError,
        STRONG,
        "maven-compile",
    ),
    (
        "could not compile `",
        Kind::CompileError,
        MEDIUM,
        "cargo-could-not-compile",
    ),
    (
        "error: aborting due to",
        Kind::CompileError,
        MEDIUM,
        "rustc-aborting",
    ),
    (
        "cannot find symbol",
        Kind::CompileError,
        MEDIUM,
        "javac-symbol",
    ),
    (
        "failed to solve:",
        Kind::CompileError,
        WEAK,
        "docker-build-step",
    ),
    // Lint
    (
        "implied by `-D warnings`",
        Kind::Lint,
        STRONG,
        "deny-warnings",
    ),
    (
        "rust-clippy/master/index.html#",
        Kind::Lint,
        MEDIUM,
        "clippy",
    ),
    ("would reformat", Kind::Lint, MEDIUM, "black"),
    ("Code style issues found", Kind::Lint, MEDIUM, "prettier"),
    // Test failures
    (
        "test result: FAILED",
        Kind::TestFailure,
        STRONG,
        "cargo-test",
    ),
    (
        "There are test failures",
        Kind::TestFailure,
        STRONG,
        "surefire",
    ),
    (
        "short test summary info",
        Kind::TestFailure,
        MEDIUM,
        "pytest-summary",
    ),
    (
        "npm ERR! Test failed",
        Kind::TestFailure,
        MEDIUM,
        "npm-test",
    ),
    ("panicked at", Kind::TestFailure, MEDIUM, "panic"),
    ("AssertionError", Kind::TestFailure, MEDIUM, "assertion"),
    ("assertion failed", Kind::TestFailure, MEDIUM, "assertion"),
    // Network
    ("ECONNRESET", Kind::Network, MEDIUM, "econnreset"),
    ("ETIMEDOUT", Kind::Network, MEDIUM, "etimedout"),
    ("ECONNREFUSED", Kind::Network, MEDIUM, "econnrefused"),
    ("EAI_AGAIN", Kind::Network, MEDIUM, "dns"),
    ("ENOTFOUND", Kind::Network, MEDIUM, "dns"),
    ("ENETUNREACH", Kind::Network, MEDIUM, "unreachable"),
    ("socket hang up", Kind::Network, MEDIUM, "socket-hang-up"),
    ("Could not resolve host", Kind::Network, MEDIUM, "dns"),
    (
        "Temporary failure in name resolution",
        Kind::Network,
        MEDIUM,
        "dns",
    ),
    ("Name or service not known", Kind::Network, MEDIUM, "dns"),
    (
        "Connection reset by peer",
        Kind::Network,
        MEDIUM,
        "connection-reset",
    ),
    (
        "Connection timed out",
        Kind::Network,
        MEDIUM,
        "connection-timeout",
    ),
    (
        "Network is unreachable",
        Kind::Network,
        MEDIUM,
        "unreachable",
    ),
    (
        "TLS handshake timeout",
        Kind::Network,
        MEDIUM,
        "tls-timeout",
    ),
    ("i/o timeout", Kind::Network, MEDIUM, "io-timeout"),
    (
        "spurious network error",
        Kind::Network,
        MEDIUM,
        "cargo-spurious-network",
    ),
    (
        "Could not transfer artifact",
        Kind::Network,
        MEDIUM,
        "maven-transfer",
    ),
];

#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Index into the triage's lines.
    idx: usize,
    kind: Kind,
    strength: u8,
    rule: &'static str,
}

/// Indexes into [`NEEDLES`] by the needle's first byte.
fn needles_by_first_byte() -> &'static [Vec<usize>; 256] {
    static TABLE: std::sync::OnceLock<[Vec<usize>; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: [Vec<usize>; 256] = std::array::from_fn(|_| Vec::new());
        for (i, (needle, ..)) in NEEDLES.iter().enumerate() {
            if let Some(&first) = needle.as_bytes().first() {
                table[usize::from(first)].push(i);
            }
        }
        table
    })
}

/// The best rule a cleaned line matches: strongest, then by precedence.
fn line_hit(text: &str) -> Option<(Kind, u8, &'static str)> {
    let mut best: Option<(Kind, u8, &'static str)> = None;
    let mut offer = |k: Kind, s: u8, r: &'static str| {
        let better = match best {
            None => true,
            Some((bk, bs, _)) => (s, k.precedence()) > (bs, bk.precedence()),
        };
        if better {
            best = Some((k, s, r));
        }
    };
    // One pass over the line: at each byte, only the needles that start with it are compared.
    let by_first = needles_by_first_byte();
    let b = text.as_bytes();
    for i in 0..b.len() {
        for &n in &by_first[usize::from(b[i])] {
            if let Some(&(needle, kind, strength, rule)) = NEEDLES.get(n)
                && b[i..].starts_with(needle.as_bytes())
            {
                offer(kind, strength, rule);
            }
        }
    }
    let t = text.trim();
    if rustc_code(t) {
        offer(Kind::CompileError, STRONG, "rustc-error");
    }
    if tsc_code(t) {
        offer(Kind::CompileError, STRONG, "tsc-error");
    }
    if go_build_error(t) {
        offer(Kind::CompileError, MEDIUM, "go-build");
    }
    if c_like_error(t) {
        offer(Kind::CompileError, MEDIUM, "compiler-error");
    }
    if lint_code(t) {
        offer(Kind::Lint, STRONG, "ruff-flake8");
    }
    if eslint_summary(t) {
        offer(Kind::Lint, STRONG, "eslint");
    }
    if eslint_row(t) {
        offer(Kind::Lint, STRONG, "eslint");
    }
    if t == "Killed" || t.ends_with(" Killed") || t.contains(" Killed  ") {
        offer(Kind::OutOfMemory, MEDIUM, "killed");
    }
    if generic_timed_out(t) {
        offer(Kind::Timeout, WEAK, "timed-out");
    }
    if go_module_not_found(t) {
        offer(Kind::DependencyResolution, STRONG, "go-module-not-found");
    }
    if t.starts_with("--- FAIL:") {
        offer(Kind::TestFailure, STRONG, "go-test");
    }
    if t.starts_with("Tests:") && t.contains(" failed") {
        offer(Kind::TestFailure, STRONG, "jest-summary");
    }
    if t.starts_with('=') && t.contains(" failed") && t.contains(" in ") {
        offer(Kind::TestFailure, STRONG, "pytest-summary");
    }
    if surefire_counts(t) {
        offer(Kind::TestFailure, MEDIUM, "surefire");
    }
    if http_5xx(t) {
        offer(Kind::Network, MEDIUM, "http-5xx");
    }
    best
}

/// `error[E0308]: …` (rustc).
fn rustc_code(t: &str) -> bool {
    let Some(p) = t.find("error[E") else {
        return false;
    };
    let rest = &t.as_bytes()[p + 7..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest.get(digits) == Some(&b']')
}

/// `src/a.ts(3,7): error TS2322: …` or `src/a.ts:3:7 - error TS2322: …`.
fn tsc_code(t: &str) -> bool {
    let Some(p) = t.find("error TS") else {
        return false;
    };
    let rest = &t.as_bytes()[p + 8..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest.get(digits) == Some(&b':')
}

/// `./main.go:12:3: undefined: Foo` and other messages of the Go compiler.
fn go_build_error(t: &str) -> bool {
    t.contains(".go:")
        && [
            ": undefined: ",
            ": syntax error",
            ": cannot use ",
            "declared and not used",
            "imported and not used",
            "too many arguments",
            "not enough arguments",
        ]
        .iter()
        .any(|m| t.contains(m))
}

/// `file.c:3:5: error: …` (gcc, clang, mypy): a `path.ext:line:` location right before `error:`.
fn c_like_error(t: &str) -> bool {
    let Some(p) = t.find(": error: ") else {
        return false;
    };
    let loc = t[..p].rsplit(' ').next().unwrap_or("");
    let mut parts = loc.split(':');
    let Some(path) = parts.next() else {
        return false;
    };
    let line_ok = parts
        .next()
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    line_ok && path.contains('.')
}

/// `x.py:1:8: F401 …` (ruff, flake8, pycodestyle): location, then a code of 1–3 capitals and 3–4 digits.
fn lint_code(t: &str) -> bool {
    let mut fields = t.splitn(4, ':');
    let (Some(path), Some(line), Some(col), Some(rest)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(path.ends_with(".py") && num(line) && num(col)) {
        return false;
    }
    let code = rest.trim_start().split(' ').next().unwrap_or("");
    let letters = code.bytes().take_while(u8::is_ascii_uppercase).count();
    let digits = code.len() - letters;
    (1..=3).contains(&letters)
        && (3..=4).contains(&digits)
        && code.bytes().skip(letters).all(|b| b.is_ascii_digit())
}

/// `✖ 3 problems (3 errors, 0 warnings)`.
fn eslint_summary(t: &str) -> bool {
    t.starts_with('✖') && t.contains(" problem") && t.contains(" error")
}

/// `  12:5  error  'x' is assigned a value but never used  no-unused-vars`.
fn eslint_row(t: &str) -> bool {
    let mut words = t.split_whitespace();
    let (Some(pos), Some(level)) = (words.next(), words.next()) else {
        return false;
    };
    let Some((l, c)) = pos.split_once(':') else {
        return false;
    };
    let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    num(l) && num(c) && level == "error"
}

/// "timed out" that is not a summary's "0 timed out".
fn generic_timed_out(t: &str) -> bool {
    let Some(p) = t.find("timed out") else {
        return false;
    };
    let before = t[..p].trim_end();
    !(before.ends_with(" 0") || before == "0")
}

/// `go: github.com/x/y@v1.2.3: reading …: 404 Not Found`, `go: module x: … not found`.
fn go_module_not_found(t: &str) -> bool {
    t.starts_with("go: ") && (t.contains("not found") || t.contains("Not Found"))
}

/// `Tests run: 12, Failures: 2, Errors: 0, …` with a failure or an error.
fn surefire_counts(t: &str) -> bool {
    let t = t.strip_prefix("[ERROR] ").unwrap_or(t);
    if !t.starts_with("Tests run:") {
        return false;
    }
    let nonzero = |label: &str| {
        t.find(label).is_some_and(|p| {
            t[p + label.len()..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .any(|b| b != b'0')
        })
    };
    nonzero("Failures: ") || nonzero("Errors: ")
}

/// A 5xx status in an HTTP answer: `503 Service Unavailable`, `status code 502`, `HTTP 500`.
fn http_5xx(t: &str) -> bool {
    let b = t.as_bytes();
    let mut from = 0;
    while let Some(p) = t[from..].find('5') {
        let at = from + p;
        from = at + 1;
        let three = b.get(at..at + 3);
        let Some(code) = three else {
            break;
        };
        let word_start = at == 0 || !b[at - 1].is_ascii_alphanumeric();
        let word_end = b.get(at + 3).is_none_or(|c| !c.is_ascii_alphanumeric());
        if !(word_start && word_end && code[1].is_ascii_digit() && code[2].is_ascii_digit()) {
            continue;
        }
        if !matches!(&code[1..], b"00" | b"02" | b"03" | b"04") {
            continue;
        }
        let after = &t[at + 3..];
        let before = &t[..at];
        if after.starts_with(" Service Unavailable")
            || after.starts_with(" Bad Gateway")
            || after.starts_with(" Gateway Time")
            || after.starts_with(" Internal Server Error")
            || before.ends_with("status code ")
            || before.ends_with("status ")
            || before.ends_with("got ")
            || before.ends_with("HTTP ")
            || before.ends_with("code E")
            || before.ends_with("HTTP/1.1 ")
            || before.ends_with("HTTP/2 ")
        {
            return true;
        }
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Failing tests
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct TestScan {
    /// Names from lines that name one failure each (cargo, pytest, jest ●, go, surefire `<<<`, TAP).
    primary: Vec<String>,
    /// Names from summaries in another spelling (jest ✕, surefire's closing lists): used only when
    /// there are no primary names, so one test is not listed twice.
    fallback: Vec<String>,
    seen: HashSet<String>,
    seen_fallback: HashSet<String>,
    /// The line that first named each test, in each list.
    primary_lines: Vec<usize>,
    fallback_lines: Vec<usize>,
    section: Section,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Section {
    #[default]
    None,
    /// cargo's `failures:` list.
    CargoFailures,
    /// Surefire's `Failed tests:` / `Tests in error:` (Maven 2/3.0) or `[ERROR] Failures:` / `[ERROR] Errors:`.
    Surefire,
}

impl TestScan {
    fn add(&mut self, idx: usize, name: &str) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let name = sanitize::truncate(name, TEST_NAME_MAX);
        if self.seen.insert(name.clone()) && self.primary.len() < MAX_TESTS {
            self.primary.push(name);
            self.primary_lines.push(idx);
        }
    }

    fn add_fallback(&mut self, idx: usize, name: &str) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let name = sanitize::truncate(name, TEST_NAME_MAX);
        if self.seen_fallback.insert(name.clone()) && self.fallback.len() < MAX_TESTS {
            self.fallback.push(name);
            self.fallback_lines.push(idx);
        }
    }

    fn line(&mut self, idx: usize, text: &str) {
        let t = text.trim();
        // Sections first: they end at the first line that is not theirs.
        match self.section {
            Section::CargoFailures => {
                if text.starts_with("    ") && !t.is_empty() && !t.contains(' ') {
                    self.add(idx, t);
                    return;
                }
                if !t.is_empty() {
                    self.section = Section::None;
                }
            }
            Section::Surefire => {
                let body = text.strip_prefix("[ERROR]").unwrap_or(text);
                let b = body.trim();
                if body.starts_with("  ") && !b.is_empty() && !b.starts_with("Run ") {
                    if let Some(name) = surefire_summary_name(b) {
                        self.add_fallback(idx, &name);
                    }
                    return;
                }
                if !b.is_empty() {
                    self.section = Section::None;
                }
            }
            Section::None => {}
        }
        if t == "failures:" {
            self.section = Section::CargoFailures;
            return;
        }
        let unbracketed = t.strip_prefix("[ERROR]").map(str::trim).unwrap_or(t);
        for header in ["Failed tests:", "Tests in error:", "Failures:", "Errors:"] {
            // Maven 2/3.0 prints its lists bare; later versions as `[ERROR] Failures:`.
            let bare = matches!(header, "Failed tests:" | "Tests in error:");
            if let Some(rest) = unbracketed.strip_prefix(header)
                && (bare || t.starts_with("[ERROR]"))
            {
                self.section = Section::Surefire;
                if let Some(name) = surefire_summary_name(rest.trim()) {
                    self.add_fallback(idx, &name);
                }
                return;
            }
        }
        // cargo: `test a::b ... FAILED`, `---- a::b stdout ----`
        if let Some(name) = t
            .strip_prefix("test ")
            .and_then(|r| r.strip_suffix(" ... FAILED"))
        {
            self.add(idx, name);
            return;
        }
        if let Some(name) = t
            .strip_prefix("---- ")
            .and_then(|r| r.strip_suffix(" stdout ----"))
        {
            self.add(idx, name);
            return;
        }
        // pytest: `FAILED tests/x.py::test_y - msg`, `ERROR tests/x.py::test_z`, verbose `x.py::t FAILED`
        for prefix in ["FAILED ", "ERROR "] {
            if let Some(rest) = t.strip_prefix(prefix) {
                let name = rest.split(" - ").next().unwrap_or(rest).trim();
                if name.contains("::") && !name.contains(' ') {
                    self.add(idx, name);
                    return;
                }
            }
        }
        if let Some(first) = t.split_whitespace().next()
            && first.contains("::")
            && first.contains(".py")
            && (t.contains(" FAILED") || t.contains(" ERROR"))
        {
            self.add(idx, first);
            return;
        }
        // jest: `● Suite › test`; verbose `✕ test (5 ms)`
        if let Some(rest) = t.strip_prefix('●') {
            let rest = rest.trim();
            if !rest.is_empty()
                && !rest.starts_with("Console")
                && !rest.starts_with("Test suite failed to run")
            {
                self.add(idx, rest);
            }
            return;
        }
        if let Some(rest) = t.strip_prefix('✕') {
            self.add_fallback(idx, strip_duration(rest.trim()));
            return;
        }
        // go test: `--- FAIL: TestX (0.00s)`, subtests `--- FAIL: TestX/case (0.00s)`
        if let Some(rest) = t.strip_prefix("--- FAIL: ") {
            self.add(idx, rest.split(" (").next().unwrap_or(rest));
            return;
        }
        // surefire: `[ERROR] testFoo(com.x.YTest)  Time elapsed: 0.01 s  <<< FAILURE!` and the
        // Maven 3.9 spelling `[ERROR] com.x.YTest.testFoo -- Time elapsed: 0.01 s <<< ERROR!`
        if (t.contains("<<< FAILURE!") || t.contains("<<< ERROR!"))
            && !unbracketed.starts_with("Tests run:")
        {
            if let Some(first) = unbracketed.split_whitespace().next() {
                self.add(idx, &java_test_name(first));
            }
            return;
        }
        // TAP (node --test, tap, npm test): `not ok 3 - adds two numbers`
        if let Some(rest) = t.strip_prefix("not ok ") {
            let rest = rest
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start();
            let name = rest.strip_prefix("- ").unwrap_or(rest);
            let name = name.split(" # ").next().unwrap_or(name);
            self.add(idx, name);
        }
    }

    /// The names, and the line that first named each.
    fn finish(self) -> (Vec<String>, Vec<usize>) {
        if self.primary.is_empty() {
            (self.fallback, self.fallback_lines)
        } else {
            (self.primary, self.primary_lines)
        }
    }
}

/// `adds an item (5 ms)` → `adds an item`.
fn strip_duration(s: &str) -> &str {
    if (s.ends_with(" ms)") || s.ends_with(" s)"))
        && let Some(p) = s.rfind(" (")
    {
        return &s[..p];
    }
    s
}

/// `testFoo(com.x.YTest)` → `com.x.YTest.testFoo`; other spellings as they are.
fn java_test_name(token: &str) -> String {
    if let Some((method, rest)) = token.split_once('(')
        && let Some(class) = rest.strip_suffix(')')
        && !method.is_empty()
        && !class.is_empty()
    {
        return format!("{class}.{method}");
    }
    token.to_string()
}

/// A name in surefire's closing lists: `testFoo(com.x.YTest): expected…` (Maven 3.0) or
/// `YTest.testFoo:42 expected…` (Maven 3.x).
fn surefire_summary_name(s: &str) -> Option<String> {
    let first = s.split_whitespace().next()?;
    if first.contains('(') {
        return Some(java_test_name(first.trim_end_matches(':')));
    }
    let name = first.split(':').next()?;
    (name.contains('.') && !name.is_empty()).then(|| name.to_string())
}

// ---------------------------------------------------------------------------------------------
// Templates and the log diff
// ---------------------------------------------------------------------------------------------

/// Where temporary directories start: the next path segment (or, under `/var/folders/`, the whole
/// rest of the path) is random and masked.
const TMP_PREFIXES: &[(&str, bool)] = &[
    ("/tmp/", false),
    ("/var/tmp/", false),
    ("/_temp/", false),
    ("/var/folders/", true),
    ("\\Temp\\", false),
];

fn path_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ')' | '(' | ',' | ';' | '>' | '<')
}

/// A cleaned line's Drain-style template: temporary paths masked, every word that holds a digit
/// (numbers, hex ids and shas, UUID parts, durations like `53s`, IP octets, ports, `E0308`) becomes
/// `#`, and so does a hex id of 6 or more letters ([`hex_id`]); whitespace runs become one space.
/// Other words stay (`cafe`, `FAILED`).
pub fn template(line: &str) -> String {
    let masked = mask_tmp_paths(line);
    let line_ref: &str = &masked;
    let mut out = String::with_capacity(line_ref.len());
    let mut word_start: Option<usize> = None;
    let mut has_digit = false;
    let mut space = true; // drop leading whitespace
    let flush = |out: &mut String, start: &mut Option<usize>, end: usize, digit: &mut bool| {
        if let Some(s) = start.take() {
            let word = &line_ref[s..end];
            if *digit || hex_id(word) {
                out.push('#');
            } else {
                out.push_str(word);
            }
        }
        *digit = false;
    };
    for (i, c) in line_ref.char_indices() {
        if c.is_alphanumeric() || c == '_' {
            if word_start.is_none() {
                word_start = Some(i);
            }
            has_digit |= c.is_ascii_digit();
            space = false;
            continue;
        }
        flush(&mut out, &mut word_start, i, &mut has_digit);
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    flush(&mut out, &mut word_start, line_ref.len(), &mut has_digit);
    let len = out.trim_end().len();
    out.truncate(len);
    out
}

/// The random part of temporary paths as `#` ([`TMP_PREFIXES`]); one pass over the line's slashes.
fn mask_tmp_paths(line: &str) -> std::borrow::Cow<'_, str> {
    let b = line.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b'/' | b'\\')
            && let Some(&(prefix, whole)) = TMP_PREFIXES
                .iter()
                .find(|(p, _)| b[i..].starts_with(p.as_bytes()))
        {
            let body = i + prefix.len();
            let after = &line[body..];
            let stop = after
                .char_indices()
                .find(|&(_, c)| path_end(c) || (!whole && matches!(c, '/' | '\\')))
                .map_or(after.len(), |(k, _)| k);
            let o = out.get_or_insert_with(|| String::with_capacity(line.len()));
            o.push_str(&line[copied..body]);
            o.push('#');
            copied = body + stop;
            i = copied;
            continue;
        }
        i += 1;
    }
    match out {
        None => std::borrow::Cow::Borrowed(line),
        Some(mut o) => {
            o.push_str(&line[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

/// A hex id without a digit in it (`ddadafd`, `ABCDEF`): 6 or more hex letters of one case. English
/// words of that shape (`decade`, `facade`) are rare enough in logs to mask too.
fn hex_id(word: &str) -> bool {
    word.len() >= 6
        && (word.bytes().all(|b| matches!(b, b'a'..=b'f'))
            || word.bytes().all(|b| matches!(b, b'A'..=b'F')))
}

fn hash_of(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Cleaned lines of a log as [`ci_log::triage`] keeps them: `(1-based input line, text)`.
fn cleaned_lines(raw: &str) -> Vec<(usize, String)> {
    raw.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, ci_log::clean_line(l)))
        .filter(|(_, c)| !ci_log::is_dropped(c))
        .collect()
}

/// The templates a log printed.
fn templates_of(lines: &[(usize, String)]) -> HashSet<u64> {
    lines
        .iter()
        .map(|(_, c)| template(c))
        .filter(|t| !t.is_empty())
        .map(|t| hash_of(&t))
        .collect()
}

/// Whether a cleaned line looks like an error (for ranking hunks).
fn errorish(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "error",
        "fail",
        "panic",
        "exception",
        "fatal",
        "killed",
        "timed out",
        "timeout",
        "traceback",
        "denied",
        "refused",
        "cannot ",
        "can't ",
        "could not",
        "not found",
        "unable to",
        "exit code",
        "segmentation fault",
        "out of memory",
        "✕",
        "●",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

impl LogDiff {
    /// The lines of `failed` whose template `green` (the last green log of the same job) never printed.
    pub fn between(failed: &str, green: &str) -> LogDiff {
        diff_lines(&cleaned_lines(failed), green).0
    }
}

/// The diff, and the 1-based numbers of the new lines (all of them, sorted).
fn diff_lines(failed: &[(usize, String)], green: &str) -> (LogDiff, Vec<usize>) {
    let known = templates_of(&cleaned_lines(green));
    // Non-blank lines before each position: blank lines neither count as new nor split a hunk.
    let mut nonblank_before = Vec::with_capacity(failed.len() + 1);
    nonblank_before.push(0usize);
    for (_, c) in failed {
        let last = nonblank_before.last().copied().unwrap_or(0);
        nonblank_before.push(last + usize::from(!c.trim().is_empty()));
    }
    let mut numbers: Vec<usize> = Vec::new();
    let mut hunks: Vec<Hunk> = Vec::new();
    // Position (in `failed`) of the last new line.
    let mut last_new: Option<usize> = None;
    for (k, (no, text)) in failed.iter().enumerate() {
        let t = template(text);
        if t.is_empty() || known.contains(&hash_of(&t)) {
            continue;
        }
        numbers.push(*no);
        let bad = usize::from(errorish(text));
        let shown = (*no, sanitize::truncate(text, LINE_MAX));
        let joins = last_new.is_some_and(|j| {
            let between = nonblank_before.get(k).copied().unwrap_or(0)
                - nonblank_before.get(j + 1).copied().unwrap_or(0);
            between <= HUNK_GAP
        });
        last_new = Some(k);
        match hunks.last_mut() {
            Some(h) if joins => {
                h.last = *no;
                h.errorish += bad;
                if h.lines.len() < MAX_HUNK_LINES {
                    h.lines.push(shown);
                } else {
                    h.lines_left_off += 1;
                }
            }
            _ => hunks.push(Hunk {
                first: *no,
                last: *no,
                errorish: bad,
                lines: vec![shown],
                lines_left_off: 0,
            }),
        }
    }
    // Stable: equally error-ish hunks stay in log order.
    hunks.sort_by_key(|h| std::cmp::Reverse(h.errorish));
    let hunks_left_off = hunks.len().saturating_sub(MAX_HUNKS);
    hunks.truncate(MAX_HUNKS);
    (
        LogDiff {
            new_count: numbers.len(),
            hunks,
            hunks_left_off,
        },
        numbers,
    )
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

/// Analyse a failed job's log, against the last green log of the same job when there is one.
pub fn analyze(failed: &str, green: Option<&str>) -> FailureReport {
    let triage = ci_log::triage(failed);
    let cleaned = cleaned_lines(failed);

    // `triage.lines[i]` is `cleaned[i]` (both skip only `##[endgroup]`); its input line number and
    // whether it sits in a step header (`##[group]Run …` up to its `##[endgroup]`: the script as
    // written, not what it printed).
    let mut numbers: Vec<usize> = Vec::with_capacity(cleaned.len());
    let mut in_header: Vec<bool> = Vec::with_capacity(cleaned.len());
    {
        let mut open_run = false;
        let mut prev_no = 0;
        for (no, text) in &cleaned {
            // An `##[endgroup]` between two kept lines closed the group.
            if *no > prev_no + 1 {
                open_run = false;
            }
            prev_no = *no;
            if let Some(name) = text.strip_prefix("##[group]") {
                open_run = name.starts_with("Run ");
                in_header.push(true);
            } else {
                in_header.push(open_run);
            }
            numbers.push(*no);
        }
    }
    debug_assert_eq!(
        numbers.len(),
        triage.lines.len(),
        "ci_log keeps every line but ##[endgroup]"
    );
    let line_no = |idx: usize| numbers.get(idx).copied().unwrap_or(idx + 1);

    let (diff, new_numbers) = match green {
        Some(g) => {
            let (d, n) = diff_lines(&cleaned, g);
            (Some(d), Some(n))
        }
        None => (None, None),
    };
    let is_new = |no: usize| {
        new_numbers
            .as_ref()
            .is_none_or(|n| n.binary_search(&no).is_ok())
    };

    let mut hits: Vec<Hit> = Vec::new();
    let mut scan = TestScan::default();
    for (idx, line) in triage.lines.iter().enumerate() {
        if in_header.get(idx).copied().unwrap_or(false)
            || matches!(
                line.kind,
                LineKind::GroupStart | LineKind::Command | LineKind::Debug
            )
        {
            continue;
        }
        let t = line.text.trim_start();
        // A shell's echo of the command it runs (GitLab `$ cmd`, Jenkins and `set -x` `+ cmd`).
        if t.starts_with("$ ") || t.starts_with("+ ") {
            continue;
        }
        scan.line(idx, &line.text);
        if let Some((kind, strength, rule)) = line_hit(&line.text) {
            let strength = if is_new(line_no(idx)) {
                strength
            } else {
                strength - 1
            };
            hits.push(Hit {
                idx,
                kind,
                strength,
                rule,
            });
        }
    }
    // rustc prints `implied by `-D warnings`` as a note under the lint's own `error: …` header: the
    // header is the line to read first.
    let lint_headers: Vec<Hit> = hits
        .iter()
        .filter(|h| h.rule == "deny-warnings")
        .filter_map(|h| {
            (h.idx.saturating_sub(LINT_HEADER_LOOKBACK)..h.idx)
                .rev()
                .find(|&i| {
                    triage.lines.get(i).is_some_and(|l| {
                        l.text.starts_with("error: ") || l.text.starts_with("warning: ")
                    })
                })
                .map(|idx| Hit { idx, ..*h })
        })
        .collect();
    for h in lint_headers {
        if !hits.iter().any(|x| x.idx == h.idx && x.kind == Kind::Lint) {
            hits.push(h);
        }
    }
    let (tests, test_lines) = scan.finish();
    // Each failing test's first line is evidence (a few: the rest of the names are in the list).
    for &idx in test_lines.iter().take(MAX_EVIDENCE) {
        let strength = if is_new(line_no(idx)) { STRONG } else { MEDIUM };
        hits.push(Hit {
            idx,
            kind: Kind::TestFailure,
            strength,
            rule: "failing-tests",
        });
    }

    let winner = hits
        .iter()
        .max_by_key(|h| (h.strength, h.kind.precedence(), std::cmp::Reverse(h.idx)))
        .map(|h| h.kind);
    let mut evidence: Vec<Hit> = hits
        .iter()
        .filter(|h| Some(h.kind) == winner)
        .copied()
        .collect();
    evidence.sort_by_key(|h| (std::cmp::Reverse(h.strength), h.idx));

    let category = match winner {
        None => Category::Unknown,
        Some(Kind::CompileError) => Category::CompileError,
        Some(Kind::TestFailure) => Category::TestFailure {
            tests: tests.clone(),
        },
        Some(Kind::Lint) => Category::Lint,
        Some(Kind::Timeout) => Category::Timeout,
        Some(Kind::OutOfMemory) => Category::OutOfMemory,
        Some(Kind::Network) => Category::Network,
        Some(Kind::Infrastructure) => Category::Infrastructure,
        Some(Kind::DependencyResolution) => Category::DependencyResolution,
    };
    let confidence = match evidence.first().map(|h| h.strength) {
        Some(s) if s >= STRONG => Confidence::High,
        Some(MEDIUM) => Confidence::Medium,
        _ => Confidence::Low,
    };

    let text_of = |idx: usize| {
        triage
            .lines
            .get(idx)
            .map(|l| sanitize::truncate(l.text.trim(), LINE_MAX))
            .unwrap_or_default()
    };
    let mut root_idx: Vec<usize> = Vec::new();
    for h in evidence.iter().take(MAX_EVIDENCE) {
        if !root_idx.contains(&h.idx) {
            root_idx.push(h.idx);
        }
    }
    for e in &triage.excerpts {
        if root_idx.len() >= MAX_ROOT_CAUSE {
            break;
        }
        if !root_idx.contains(&e.anchor) {
            root_idx.push(e.anchor);
        }
    }
    let root_cause: Vec<(usize, String)> = root_idx
        .iter()
        .map(|&idx| (line_no(idx), text_of(idx)))
        .collect();

    let detail = root_cause
        .first()
        .map(|(n, t)| format!("line {n}: {t}"))
        .or_else(|| triage.summary.clone())
        .unwrap_or_else(|| "no failure found in the log".to_string());
    let label = category.label();
    let summary = if tests.is_empty() {
        format!("{label}: {detail}")
    } else {
        format!(
            "{label} ({} failing): {detail}",
            crate::fmt::plural(tests.len(), "test")
        )
    };

    FailureReport {
        label: label.to_string(),
        rule: evidence.first().map(|h| h.rule.to_string()),
        category,
        confidence,
        root_cause,
        failing_tests: tests,
        new_lines: diff,
        summary: sanitize::truncate(&summary, SUMMARY_MAX),
    }
}

impl FailureReport {
    /// The report as `flightdeck triage` prints it.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let confidence = match self.confidence {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        };
        match &self.rule {
            Some(rule) => {
                let _ = writeln!(
                    s,
                    "Category: {} (rule {rule}, confidence {confidence})",
                    self.label
                );
            }
            None => {
                let _ = writeln!(s, "Category: {}", self.label);
            }
        }
        let _ = writeln!(s, "Summary: {}", self.summary);
        if self.root_cause.is_empty() {
            let _ = writeln!(s, "Root cause: no failure line found");
        } else {
            let _ = writeln!(s, "Root cause:");
            for (n, t) in &self.root_cause {
                let _ = writeln!(s, "  {n}: {t}");
            }
        }
        if !self.failing_tests.is_empty() {
            let _ = writeln!(s, "Failing tests ({}):", self.failing_tests.len());
            for t in &self.failing_tests {
                let _ = writeln!(s, "  {t}");
            }
        }
        if let Some(d) = &self.new_lines {
            if d.new_count == 0 {
                let _ = writeln!(
                    s,
                    "New relative to the green log: nothing (every line's template is in the green log)"
                );
            } else {
                let _ = writeln!(
                    s,
                    "New relative to the green log: {} in {}",
                    crate::fmt::plural(d.new_count, "line"),
                    crate::fmt::plural(d.hunks.len() + d.hunks_left_off, "hunk")
                );
                for h in &d.hunks {
                    let _ = writeln!(s, "  @@ lines {}-{}", h.first, h.last);
                    for (n, t) in &h.lines {
                        let _ = writeln!(s, "  {n}: {t}");
                    }
                    if h.lines_left_off > 0 {
                        let _ = writeln!(
                            s,
                            "  … {} more",
                            crate::fmt::plural(h.lines_left_off, "line")
                        );
                    }
                }
                if d.hunks_left_off > 0 {
                    let _ = writeln!(
                        s,
                        "  … {} more",
                        crate::fmt::plural(d.hunks_left_off, "hunk")
                    );
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(r: &FailureReport) -> &'static str {
        match r.category {
            Category::CompileError => "compile",
            Category::TestFailure { .. } => "test",
            Category::Lint => "lint",
            Category::Timeout => "timeout",
            Category::OutOfMemory => "oom",
            Category::Network => "network",
            Category::Infrastructure => "infra",
            Category::DependencyResolution => "deps",
            Category::Unknown => "unknown",
        }
    }

    #[test]
    fn templates_mask_what_varies_between_runs() {
        let pairs = [
            (
                "HEAD is now at 3f9a2c4 Merge pull request #645",
                "HEAD is now at 9b8c7d6 Merge pull request #11",
            ),
            (
                "request 1b4e28ba-2fa1-11d2-883f-0016d3cca427 failed",
                "request 6fa459ea-ee8a-3ca4-894e-db77e160355e failed",
            ),
            ("finished in 0.53s", "finished in 12.07s"),
            ("✓ renders (31 ms)", "✓ renders (8 ms)"),
            (
                "db ready at 10.1.0.45:5432",
                "db ready at 192.168.13.7:15432",
            ),
            (
                "cache in /tmp/tmp.Qx7LmZ/build",
                "cache in /tmp/tmp.Ab3kPw/build",
            ),
            (
                "script /home/runner/work/_temp/2f3a9c.sh",
                "script /home/runner/work/_temp/77aa01.sh",
            ),
            (
                "wrote /var/folders/x1/abc_def/T/out.json done",
                "wrote /var/folders/zz/q9/T/other.json done",
            ),
            (
                "Runner name: 'GitHub Actions 12'",
                "Runner name:   'GitHub Actions 7'",
            ),
            ("sha256:4b1ae4e5a9c0d9b5", "sha256:0a1b2c3d4e5f"),
        ];
        for (a, b) in pairs {
            assert_eq!(template(a), template(b), "{a:?} vs {b:?}");
        }
        // Words without digits and the shape of the line stay.
        assert_eq!(template("test a::b ... FAILED"), "test a::b ... FAILED");
        assert_ne!(
            template("test a::b ... FAILED"),
            template("test a::b ... ok")
        );
        assert_eq!(
            template("error[E0308]: mismatched  types "),
            "error[#]: mismatched types"
        );
        assert_eq!(template("   "), "");
        assert_eq!(template("id=ddadafd cafe Facade"), "id=# cafe Facade");
        // Only the random segment of a temp path goes.
        assert_ne!(template("/tmp/x/a.txt"), template("/tmp/x/b.txt"));
    }

    #[test]
    fn the_diff_ignores_reordering_timestamps_and_ids() {
        let green = "\
2026-11-29T09:00:00.1Z [worker-1] shard 1 passed in 812ms (run 1182736)
2026-11-29T09:00:00.2Z [worker-2] shard 2 passed in 901ms (run 1182736)
2026-11-29T09:00:00.3Z [worker-3] shard 3 passed in 733ms (run 1182736)
2026-11-29T09:00:00.4Z uploading artifact 5f0c3a9d2b1e to https://cache.example/v1/c9a2
2026-11-29T09:00:00.5Z done
";
        let failed = "\
2026-11-30T14:11:00.9Z [worker-3] shard 3 passed in 690ms (run 1182999)
2026-11-30T14:11:01.0Z [worker-1] shard 1 passed in 1012ms (run 1182999)
2026-11-30T14:11:01.1Z [worker-2] shard 2 FAILED: expected 200, got 500
2026-11-30T14:11:01.2Z uploading artifact 77aa01bc9e3f to https://cache.example/v1/0d1e
2026-11-30T14:11:01.3Z done
";
        let d = LogDiff::between(failed, green);
        assert_eq!(d.new_count, 1, "{d:#?}");
        assert_eq!(d.hunks.len(), 1);
        assert_eq!(
            d.hunks[0].lines,
            vec![(
                3,
                "[worker-2] shard 2 FAILED: expected 200, got 500".to_string()
            )]
        );
        assert_eq!(d.hunks[0].errorish, 1);
        assert_eq!(LogDiff::between(green, green).new_count, 0);
        assert_eq!(LogDiff::between(failed, failed).new_count, 0);
    }

    #[test]
    fn hunks_group_runs_of_new_lines_and_rank_error_ish_ones_first() {
        let green = "a\nb\nc\nd\ne\nf\ng\n";
        // Lines 2-3 are new and harmless, 6 and 8 are new errors separated by one known line (7),
        // and a blank line (9) does not split 8 from 10.
        let failed =
            "a\nnew thing one\nnew thing two\nd\ne\nerror: boom\ng\nfatal: worse\n\nexit code 3\n";
        let d = LogDiff::between(failed, green);
        assert_eq!(d.new_count, 5);
        let spans: Vec<(usize, usize, usize)> = d
            .hunks
            .iter()
            .map(|h| (h.first, h.last, h.errorish))
            .collect();
        assert_eq!(spans, vec![(6, 10, 3), (2, 3, 0)]);
    }

    #[test]
    fn a_50k_line_log_against_its_green_run() {
        let mut green = String::new();
        let mut failed_lines: Vec<String> = Vec::new();
        for i in 0..50_000u64 {
            let kind = i % 50;
            green.push_str(&format!(
                "2026-11-29T09:{:02}:{:02}.{:07}Z step {kind} item {i} took {}ms id={:x}\n",
                (i / 60) % 60,
                i % 60,
                i * 7,
                i % 997,
                i * 2_654_435_761
            ));
            failed_lines.push(format!(
                "2026-11-30T14:{:02}:{:02}.{:07}Z step {kind} item {} took {}ms id={:x}\n",
                (i / 60) % 60,
                i % 60,
                i * 11,
                i + 3,
                (i * 31) % 1009,
                i * 40_503
            ));
        }
        // Reordered: the failed run printed its lines in reverse, and three new ones.
        failed_lines.reverse();
        failed_lines.insert(
            10_000,
            "panic: runtime error: index out of range [3] with length 3\n".into(),
        );
        failed_lines.insert(30_000, "goroutine 7 [running]:\n".into());
        failed_lines.push("FAIL\tgithub.com/acme/x\t12.5s\n".into());
        let failed: String = failed_lines.concat();
        let d = LogDiff::between(&failed, &green);
        assert_eq!(d.new_count, 3, "{:?}", d.hunks);
        let mut numbers: Vec<usize> = d.hunks.iter().map(|h| h.first).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, vec![10_001, 30_001, 50_003]);
        assert!(d.hunks[0].lines[0].1.starts_with("panic: runtime error"));

        let report = analyze(&failed, Some(&green));
        assert_eq!(report.new_lines.as_ref().map(|d| d.new_count), Some(3));
        assert_eq!(report.root_cause.first().map(|r| r.0), Some(10_001));
    }

    #[test]
    fn line_numbers_are_the_inputs_even_where_triage_drops_endgroup_lines() {
        let log = "\
2026-11-30T10:00:00.0Z ##[group]Run actions/checkout@v4
2026-11-30T10:00:00.0Z with:
2026-11-30T10:00:00.0Z ##[endgroup]
2026-11-30T10:00:01.0Z ##[group]Run cargo build
2026-11-30T10:00:01.0Z cargo build
2026-11-30T10:00:01.0Z shell: /usr/bin/bash -e {0}
2026-11-30T10:00:01.0Z ##[endgroup]
2026-11-30T10:00:02.0Z    Compiling app v0.1.0
2026-11-30T10:00:03.0Z error[E0432]: unresolved import `crate::missing`
2026-11-30T10:00:03.0Z ##[error]Process completed with exit code 101.
";
        let t = ci_log::triage(log);
        assert_eq!(t.lines.len(), 8, "two ##[endgroup] lines dropped");
        let r = analyze(log, None);
        assert_eq!(kind(&r), "compile");
        assert_eq!(
            r.root_cause[0],
            (
                9,
                "error[E0432]: unresolved import `crate::missing`".to_string()
            )
        );
        assert!(
            r.root_cause
                .iter()
                .any(|(n, t)| *n == 10 && t.starts_with("Process completed"))
        );
        // CRLF line ends count the same.
        let crlf = log.replace('\n', "\r\n");
        assert_eq!(analyze(&crlf, None).root_cause[0].0, 9);
    }

    #[test]
    fn step_headers_and_shell_echoes_are_not_evidence() {
        let log = "\
##[group]Run echo \"No space left on device\" | grep -c ECONNRESET
echo \"No space left on device\" | grep -c ECONNRESET
shell: /usr/bin/bash -e {0}
##[endgroup]
$ grep 'out of memory' /var/log/syslog
+ echo 'context deadline exceeded'
all good
";
        let r = analyze(log, None);
        assert_eq!(r.category, Category::Unknown, "{r:#?}");
        assert_eq!(r.rule, None);
        assert_eq!(r.confidence, Confidence::Low);
    }

    #[test]
    fn a_line_the_green_run_also_printed_is_weaker_evidence() {
        let failed = "\
/bin/sh: line 1:  4242 Killed                  ./warm-cache.sh
npm ERR! code ECONNRESET
";
        let green = "\
/bin/sh: line 1:  4117 Killed                  ./warm-cache.sh
npm notice all good
";
        assert_eq!(kind(&analyze(failed, None)), "oom");
        let r = analyze(failed, Some(green));
        assert_eq!(kind(&r), "network");
        assert_eq!(r.root_cause[0], (2, "npm ERR! code ECONNRESET".to_string()));
    }

    #[test]
    fn test_names_from_each_runner() {
        let names = |log: &str| analyze(log, None).failing_tests;
        assert_eq!(
            names("tests/test_a.py::test_one PASSED\ntests/test_a.py::test_two FAILED  [ 50%]\n"),
            vec!["tests/test_a.py::test_two"]
        );
        // jest without its ● details: the ✕ lines, durations dropped.
        assert_eq!(
            names("FAIL src/a.test.js\n  ✓ ok one (3 ms)\n  ✕ breaks two (12 ms)\n"),
            vec!["breaks two"]
        );
        // cargo's closing list alone (output captured elsewhere).
        assert_eq!(
            names("failures:\n    a::b\n    c::d_e\n\ntest result: FAILED. 1 passed; 2 failed\n"),
            vec!["a::b", "c::d_e"]
        );
        assert_eq!(
            names("not ok 4 - parses dates # TODO later\n"),
            vec!["parses dates"]
        );
        assert_eq!(
            names("Tests in error: \n  testA(org.x.FooTest): boom\n  testB(org.x.FooTest)\n\n"),
            vec!["org.x.FooTest.testA", "org.x.FooTest.testB"]
        );
        // Not tests: pytest's summary, go's package line, jest's console blocks.
        assert!(
            names("FAIL\tgithub.com/acme/x\t0.1s\n  ● Console\n\n    console.log\n").is_empty()
        );
        assert!(names("[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0 <<< FAILURE! - in a.BTest\n").is_empty());
    }

    #[test]
    fn matchers_take_what_they_should_and_nothing_else() {
        assert!(http_5xx(
            "npm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/x"
        ));
        assert!(http_5xx(
            "error: got 502 from the registry, status code 502"
        ));
        assert!(http_5xx("received HTTP/1.1 504"));
        assert!(!http_5xx("took 503ms for 5000 rows"));
        assert!(!http_5xx("HTTP 404 Not Found"));
        assert!(lint_code("app/x.py:10:1: E501 line too long (99 > 88)"));
        assert!(lint_code("./x.py:1:1: F401 'os' imported but unused"));
        assert!(!lint_code("x.py:1:1: error: something"));
        assert!(!lint_code("x.rs:1:1: E501 not python"));
        assert!(c_like_error("src/a.c:3:5: error: expected ';'"));
        assert!(!c_like_error("error: no location here"));
        assert!(rustc_code("error[E0599]: no method"));
        assert!(!rustc_code("error[Edition]: no"));
        assert!(tsc_code(
            "src/a.ts(3,7): error TS2322: Type 'string' is not assignable"
        ));
        assert!(eslint_row("12:7   error    'x' is unused  no-unused-vars"));
        assert!(!eslint_row("12:7   warning  'x' is unused  no-unused-vars"));
        assert!(!generic_timed_out("Tests: 12 passed, 0 timed out"));
        assert!(generic_timed_out("request timed out after 30s"));
        assert!(surefire_counts(
            "[ERROR] Tests run: 4, Failures: 1, Errors: 0, Skipped: 0"
        ));
        assert!(!surefire_counts(
            "Tests run: 4, Failures: 0, Errors: 0, Skipped: 0"
        ));
    }

    #[test]
    fn categories_serialize_with_a_kind_and_round_trip() {
        let c = Category::TestFailure {
            tests: vec!["a::b".into()],
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "test_failure", "tests": ["a::b"]})
        );
        let back: Category = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
        assert_eq!(
            serde_json::to_value(Category::OutOfMemory).unwrap(),
            serde_json::json!({"kind": "out_of_memory"})
        );
        let r = analyze("", None);
        assert_eq!(r.category, Category::Unknown);
        assert!(r.root_cause.is_empty());
        assert_eq!(r.summary, "unknown: no failure found in the log");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["new_lines"], serde_json::Value::Null);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for log in [
            "\u{feff}",
            "é\u{0}\u{1b}[",
            "error[E",
            "error TS",
            ": error: ",
            "x.py:1:",
            "--- FAIL: ",
            "not ok ",
            "● ",
            "✕",
            "failures:\n    ",
            "5",
            "got 5",
            "/tmp/",
            "/var/folders/",
            "\r\n\r\n",
            "##[endgroup]\n##[endgroup]\nerror[E0001]: x",
        ] {
            let r = analyze(log, Some(log));
            let _ = r.to_text();
        }
        assert_eq!(
            analyze("##[endgroup]\n##[endgroup]\nerror[E0001]: x", None).root_cause[0].0,
            3
        );
    }
}
