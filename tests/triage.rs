//! `flightdeck triage`: real-looking failed CI logs of every category, through the binary.
//!
//! Each case names the category, the line that must come first among the root-cause lines (found by
//! its text in the fixture, so the expected number is the input's own 1-based line number), other
//! lines that must be among the root causes, and the failing tests' names.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures_triage")
}

fn fixture(name: &str) -> String {
    let path = fixtures().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The 1-based number of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line holds {needle:?}"))
}

fn fd(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdin(Stdio::null());
    c
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn triage_json(args: &[&str]) -> serde_json::Value {
    let home = tempfile::tempdir().unwrap();
    let o = fd(home.path())
        .arg("triage")
        .args(args)
        .arg("--json")
        .output()
        .expect("run flightdeck");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"))
}

struct Case {
    file: &'static str,
    kind: &'static str,
    rule: Option<&'static str>,
    /// Text of the line that must be the first root-cause line.
    first: &'static str,
    /// Texts of other lines that must be among the root causes.
    also: &'static [&'static str],
    tests: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        file: "gha_cargo_compile.log",
        kind: "compile_error",
        rule: Some("rustc-error"),
        first: "error[E0308]: mismatched types",
        also: &[
            "error[E0425]: cannot find value `discount`",
            "error: could not compile `checkout`",
        ],
        tests: &[],
    },
    Case {
        file: "cargo_test.log",
        kind: "test_failure",
        rule: Some("failing-tests"),
        first: "test cart::tests::applies_discount ... FAILED",
        also: &[
            "test pricing::tests::vat_for_de ... FAILED",
            "test result: FAILED.",
            "panicked at src/cart.rs:88:9:",
            "panicked at src/pricing.rs:31:5:",
        ],
        tests: &[
            "cart::tests::applies_discount",
            "pricing::tests::vat_for_de",
        ],
    },
    Case {
        file: "pytest.log",
        kind: "test_failure",
        rule: Some("failing-tests"),
        first: "FAILED tests/test_invoice.py::test_invoice_total[eur]",
        also: &[
            "FAILED tests/test_tax.py::test_reverse_charge",
            "2 failed, 46 passed in 3.12s",
            "E       AssertionError: assert Decimal('117.99')",
        ],
        tests: &[
            "tests/test_invoice.py::test_invoice_total[eur]",
            "tests/test_tax.py::test_reverse_charge",
        ],
    },
    Case {
        file: "jest.log",
        kind: "test_failure",
        rule: Some("failing-tests"),
        first: "● Cart › adds an item",
        also: &["● Cart › applies a coupon", "Tests:       2 failed"],
        tests: &["Cart › adds an item", "Cart › applies a coupon"],
    },
    Case {
        file: "go_test.log",
        kind: "test_failure",
        rule: Some("go-test"),
        first: "--- FAIL: TestRetryBackoff (0.00s)",
        also: &["--- FAIL: TestQueueDrain"],
        tests: &[
            "TestRetryBackoff",
            "TestRetryBackoff/caps_at_max",
            "TestQueueDrain",
        ],
    },
    Case {
        file: "gitlab_go.log",
        kind: "test_failure",
        rule: Some("go-test"),
        first: "--- FAIL: TestLedgerBalance",
        also: &[],
        tests: &["TestLedgerBalance"],
    },
    Case {
        file: "tap.log",
        kind: "test_failure",
        rule: Some("failing-tests"),
        first: "not ok 2 - divides by zero safely",
        also: &[],
        tests: &["divides by zero safely"],
    },
    Case {
        file: "maven_surefire.log",
        kind: "test_failure",
        rule: Some("failing-tests"),
        first: "OrderServiceTest.rejectsNegativeQuantity -- Time elapsed",
        also: &["There are test failures."],
        tests: &[
            "com.acme.orders.OrderServiceTest.rejectsNegativeQuantity",
            "com.acme.orders.OrderServiceTest.cancelsPaidOrder",
        ],
    },
    Case {
        file: "maven2_surefire.log",
        kind: "test_failure",
        rule: Some("failing-tests"),
        first: "Failed tests:   testBalance",
        also: &[],
        tests: &[
            "com.acme.legacy.LedgerTest.testBalance",
            "com.acme.legacy.LedgerTest.testPosting",
        ],
    },
    Case {
        file: "jenkins_pytest.log",
        kind: "test_failure",
        rule: Some("failing-tests"),
        first: "FAILED tests/test_payments.py::test_refund",
        also: &[],
        tests: &["tests/test_payments.py::test_refund"],
    },
    Case {
        file: "maven_compile.log",
        kind: "compile_error",
        rule: Some("maven-compile"),
        first: "[ERROR] COMPILATION ERROR",
        also: &["OrderService.java:[88,17] cannot find symbol"],
        tests: &[],
    },
    Case {
        file: "docker_build.log",
        kind: "compile_error",
        rule: Some("compiler-error"),
        first: "#8 0.702 codec.c:118:12: error: 'frame_len' undeclared",
        also: &["ERROR: failed to solve: process \"/bin/sh -c make -C native\""],
        tests: &[],
    },
    Case {
        file: "npm_eresolve.log",
        kind: "dependency_resolution",
        rule: Some("npm-eresolve"),
        first: "npm ERR! code ERESOLVE",
        also: &["ERESOLVE unable to resolve dependency tree"],
        tests: &[],
    },
    Case {
        file: "pip_resolution.log",
        kind: "dependency_resolution",
        rule: Some("pip-conflict"),
        first: "ERROR: Cannot install -r requirements.txt (line 2) and kombu==5.2.0",
        also: &["ERROR: ResolutionImpossible"],
        tests: &[],
    },
    Case {
        file: "jenkins_maven_deps.log",
        kind: "dependency_resolution",
        rule: Some("maven-unresolved"),
        first: "Could not resolve dependencies for project com.acme:orders-service",
        also: &[],
        tests: &[],
    },
    Case {
        file: "go_module.log",
        kind: "dependency_resolution",
        rule: Some("go-module-not-found"),
        first: "go: github.com/acme/sdk@v1.4.2: reading",
        also: &[],
        tests: &[],
    },
    Case {
        file: "cargo_deps.log",
        kind: "dependency_resolution",
        rule: Some("cargo-select-version"),
        first: "error: failed to select a version for the requirement `tokio",
        also: &[],
        tests: &[],
    },
    Case {
        file: "oom_cargo.log",
        kind: "out_of_memory",
        rule: Some("sigkill"),
        first: "(signal: 9, SIGKILL: kill)",
        also: &["error: could not compile `engine` (lib)"],
        tests: &[],
    },
    Case {
        file: "oom_node.log",
        kind: "out_of_memory",
        rule: Some("out-of-memory"),
        first: "JavaScript heap out of memory",
        also: &[],
        tests: &[],
    },
    Case {
        file: "oom_runner.log",
        kind: "out_of_memory",
        rule: Some("exit-137"),
        first: "Process completed with exit code 137.",
        also: &["The runner has received a shutdown signal"],
        tests: &[],
    },
    Case {
        file: "oom_killed.log",
        kind: "out_of_memory",
        rule: Some("killed"),
        first: "8123 Killed",
        also: &["ERROR: script returned exit code 137"],
        tests: &[],
    },
    Case {
        file: "gitlab_timeout.log",
        kind: "timeout",
        rule: Some("job-timeout"),
        first: "execution took longer than 1h0m0s seconds",
        also: &[],
        tests: &[],
    },
    Case {
        file: "timeout_gha.log",
        kind: "timeout",
        rule: Some("job-timeout"),
        first: "has exceeded the maximum execution time of 360 minutes",
        also: &[],
        tests: &[],
    },
    Case {
        file: "pytest_timeout.log",
        kind: "timeout",
        rule: Some("pytest-timeout"),
        first: "+++++ Timeout +++++",
        also: &["E       Failed: Timeout >60.0s"],
        tests: &["tests/test_sync.py::test_sync_large_account"],
    },
    Case {
        file: "go_deadline.log",
        kind: "timeout",
        rule: Some("deadline-exceeded"),
        first: "context deadline exceeded",
        also: &[],
        tests: &["TestIntegrationPublish"],
    },
    Case {
        file: "network_npm.log",
        kind: "network",
        rule: Some("econnreset"),
        first: "npm ERR! code ECONNRESET",
        also: &[],
        tests: &[],
    },
    Case {
        file: "network_git.log",
        kind: "network",
        rule: Some("dns"),
        first: "Could not resolve host: github.com",
        also: &[],
        tests: &[],
    },
    Case {
        file: "network_503.log",
        kind: "network",
        rule: Some("cargo-spurious-network"),
        first: "warning: spurious network error",
        also: &[
            "error: failed to get successful HTTP response",
            "503 Service Unavailable",
        ],
        tests: &[],
    },
    Case {
        file: "clippy.log",
        kind: "lint",
        rule: Some("deny-warnings"),
        first: "error: this `if` has identical blocks",
        also: &["implied by `-D warnings`"],
        tests: &[],
    },
    Case {
        file: "eslint.log",
        kind: "lint",
        rule: Some("eslint"),
        first: "12:7   error    'total' is assigned",
        also: &["3:10  error  'retry' is defined", "✖ 3 problems"],
        tests: &[],
    },
    Case {
        file: "ruff.log",
        kind: "lint",
        rule: Some("ruff-flake8"),
        first: "billing/export.py:3:8: F401",
        also: &["billing/tax.py:41:5: E722"],
        tests: &[],
    },
    Case {
        file: "infra_disk.log",
        kind: "infrastructure",
        rule: Some("disk-full"),
        first: "npm ERR! code ENOSPC",
        also: &["No space left on device"],
        tests: &[],
    },
    Case {
        file: "infra_docker.log",
        kind: "infrastructure",
        rule: Some("docker-daemon"),
        first: "Cannot connect to the Docker daemon",
        also: &[],
        tests: &[],
    },
    Case {
        file: "infra_runner_lost.log",
        kind: "infrastructure",
        rule: Some("runner-lost"),
        first: "lost communication with the server",
        also: &[],
        tests: &[],
    },
    Case {
        file: "unknown.log",
        kind: "unknown",
        rule: None,
        first: "Process completed with exit code 3.",
        also: &[],
        tests: &[],
    },
];

fn root_lines(report: &serde_json::Value) -> Vec<(usize, String)> {
    report["root_cause"]
        .as_array()
        .expect("root_cause is an array")
        .iter()
        .map(|pair| {
            (
                pair[0].as_u64().expect("a line number") as usize,
                pair[1].as_str().expect("a text").to_string(),
            )
        })
        .collect()
}

#[test]
fn every_category_with_its_root_cause_lines_and_tests() {
    let mut failures = Vec::new();
    for case in CASES {
        let log = fixture(case.file);
        let path = fixtures().join(case.file);
        let report = triage_json(&[path.to_str().unwrap()]);
        let roots = root_lines(&report);
        let mut problems = Vec::new();
        if report["category"]["kind"] != case.kind {
            problems.push(format!(
                "category {} (want {})",
                report["category"]["kind"], case.kind
            ));
        }
        let rule = report["rule"].as_str();
        if rule != case.rule {
            problems.push(format!("rule {rule:?} (want {:?})", case.rule));
        }
        let first = line_of(&log, case.first);
        if roots.first().map(|r| r.0) != Some(first) {
            problems.push(format!(
                "first root-cause line {:?} (want {first})",
                roots.first()
            ));
        }
        // The printed text is the input line's (cleaned): the number points at the right line.
        if let Some((_, t)) = roots.first()
            && !log.lines().nth(first - 1).unwrap().contains(t.as_str())
        {
            problems.push(format!("line {first}'s text is not {t:?}"));
        }
        for also in case.also {
            let n = line_of(&log, also);
            if !roots.iter().any(|r| r.0 == n) {
                problems.push(format!("line {n} ({also}) not among the root causes"));
            }
        }
        let tests: Vec<&str> = report["failing_tests"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        if tests != case.tests {
            problems.push(format!("tests {tests:?} (want {:?})", case.tests));
        }
        if case.kind == "test_failure" {
            let in_category: Vec<&str> = report["category"]["tests"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t.as_str())
                .collect();
            if in_category != case.tests {
                problems.push(format!("category's tests {in_category:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  root causes: {roots:?}",
                case.file,
                problems.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn text_output_names_the_category_the_numbered_lines_and_the_tests() {
    let home = tempfile::tempdir().unwrap();
    let path = fixtures().join("cargo_test.log");
    let o = fd(home.path()).arg("triage").arg(&path).output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let log = fixture("cargo_test.log");
    let n = line_of(&log, "test cart::tests::applies_discount ... FAILED");
    assert!(out.starts_with("Category: test failure"), "{out}");
    assert!(
        out.contains(&format!(
            "\n  {n}: test cart::tests::applies_discount ... FAILED\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "Failing tests (2):\n  cart::tests::applies_discount\n  pricing::tests::vat_for_de\n"
        ),
        "{out}"
    );
    // Timestamps are gone from what is printed.
    assert!(!out.contains("2026-11-30T"), "{out}");
    assert!(!out.contains("New relative to the green log"), "{out}");
}

#[test]
fn reads_standard_input_with_a_dash_or_no_file() {
    let log = fixture("npm_eresolve.log");
    for args in [vec!["triage"], vec!["triage", "-"]] {
        let home = tempfile::tempdir().unwrap();
        let mut child = fd(home.path())
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(log.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(out.starts_with("Category: dependency resolution"), "{out}");
        assert!(out.contains("\n  5: npm ERR! code ERESOLVE\n"), "{out}");
    }
}

#[test]
fn against_the_green_log_only_the_genuinely_new_lines_are_reported() {
    let failed = fixture("diff_failed.log");
    let green = fixture("diff_green.log");
    let f = fixtures().join("diff_failed.log");
    let g = fixtures().join("diff_green.log");
    let report = triage_json(&[f.to_str().unwrap(), "--against", g.to_str().unwrap()]);

    // Expected: the FAILED test line, and everything from the first `failures:` to the closing
    // `Process completed` line except blank lines. Runner name, shas, run ids, temp dirs, worker ids,
    // IPs, ports, durations, pids and timestamps differ, and the tests and workers ran in another
    // order: none of that is new.
    let start = line_of(&failed, "failures:");
    let end = line_of(&failed, "Process completed with exit code 101.");
    let mut want = vec![line_of(
        &failed,
        "test api::tests::rejects_expired_token ... FAILED",
    )];
    for (i, l) in failed.lines().enumerate() {
        let n = i + 1;
        let body = l.split_once(' ').map_or("", |(_, b)| b);
        if (start..=end).contains(&n) && !body.trim().is_empty() {
            want.push(n);
        }
    }
    let diff = &report["new_lines"];
    let mut got: Vec<usize> = diff["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["lines"].as_array().unwrap().iter())
        .map(|pair| pair[0].as_u64().unwrap() as usize)
        .collect();
    got.sort_unstable();
    assert_eq!(got, want, "{diff:#}");
    assert_eq!(diff["new_count"], want.len());
    // The hunk with the panic is the most error-ish, so it comes first.
    let first_hunk = &diff["hunks"][0];
    assert_eq!(first_hunk["first"], start);
    assert_eq!(report["category"]["kind"], "test_failure");
    assert_eq!(
        report["failing_tests"],
        serde_json::json!(["api::tests::rejects_expired_token"])
    );

    // And in text.
    let home = tempfile::tempdir().unwrap();
    let o = fd(home.path())
        .arg("triage")
        .arg(&f)
        .arg("--against")
        .arg(&g)
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.contains("New relative to the green log:"), "{out}");
    let panic_line = line_of(&failed, "panicked at src/api.rs:212:9:");
    assert!(
        out.contains(&format!(
            "  {panic_line}: thread 'api::tests::rejects_expired_token' panicked at src/api.rs:212:9:"
        )),
        "{out}"
    );
    // The green log against itself: nothing new.
    let report = triage_json(&[g.to_str().unwrap(), "--against", g.to_str().unwrap()]);
    assert_eq!(report["new_lines"]["new_count"], 0);
    let _ = green;
}

#[test]
fn unreadable_logs_exit_1_and_help_has_examples() {
    let home = tempfile::tempdir().unwrap();
    let o = fd(home.path())
        .args(["triage", "/nonexistent/failed.log"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("/nonexistent/failed.log"), "{err}");

    let path = fixtures().join("cargo_test.log");
    let o = fd(home.path())
        .arg("triage")
        .arg(&path)
        .args(["--against", "/nonexistent/green.log"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));

    let o = fd(home.path())
        .args(["triage", "--against", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "both logs from stdin");

    let o = fd(home.path()).args(["triage", "--help"]).output().unwrap();
    let (out, _) = text(&o);
    assert!(o.status.success());
    for s in ["Examples:", "--against", "--json", "Exit codes: 0"] {
        assert!(out.contains(s), "{s}:\n{out}");
    }
}

#[test]
fn escapes_and_secrets_in_a_log_are_not_printed() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.log");
    std::fs::write(
        &path,
        "Run deploy\n\x1b]0;pwned\x07error[E0599]: no method named `x` \x1b[31mfound\x1b[0m token=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n",
    )
    .unwrap();
    let o = fd(home.path()).arg("triage").arg(&path).output().unwrap();
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(!out.contains('\x1b'), "{out:?}");
    assert!(
        !out.contains("abcdefghijklmnopqrstuvwxyz0123456789"),
        "{out}"
    );
    assert!(
        out.contains("  2: error[E0599]: no method named `x` found"),
        "{out}"
    );
}
