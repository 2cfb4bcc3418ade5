//! The regression-test drafter (`analysis::drafter`) on constructed events, with every draft
//! checked by the language's own tools: Python drafts are compiled (`py_compile`) and the demo's
//! CHECKOUT-4C draft runs under pytest against the demo's buggy worker (xfailed) and its fix
//! (XPASS(strict), so it flips); JavaScript drafts pass `node --check` and a node:test draft runs
//! under `node --test`; TypeScript drafts use no TypeScript-only syntax and are parsed by node as
//! ES modules; Rust drafts build and run in a temp crate (`cargo test --offline`, no dependencies);
//! Go drafts go through `gofmt -e` when Go is installed. Node and Go are optional (CI has only
//! Rust, gcc and Python): without them their part says so on stderr and is skipped. No fixtures
//! are read. The last test reads the demo's CHECKOUT-4C through the Sentry client from the demo
//! world on loopback and drafts from that.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use flightdeck::analysis::drafter::{
    Draft, DraftError, Language, Layout, Runner, draft, manifests, map_frame,
};
use flightdeck::domain::{ExceptionInfo, Frame, IncidentEvent};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The demo world's Python incident (CHECKOUT-4C) and repository.

const REFUNDS_PY: &str = r#""""Refunds for orders that shipped in parts."""


def split_refund(total_cents, parts):
    """Split a refund into equal parts; the remainder goes on the first."""
    share = total_cents // parts
    remainder = total_cents - share * parts
    return [share + remainder] + [share] * (parts - 1)


def refund_order(order):
    """Refund what has not been delivered yet, one part per open shipment."""
    open_shipments = [s for s in order["shipments"] if not s["delivered"]]
    return split_refund(order["total_cents"], len(open_shipments))
"#;

const APP_PY: &str = r#""""The refunds worker: takes refund requests off the queue."""

from worker.refunds import refund_order


def handle_refund(message):
    order = message.order
    parts = refund_order(order)
    message.ack()
    return parts
"#;

const TEST_REFUNDS_PY: &str = r#"from worker.refunds import split_refund


def test_split_refund_puts_the_remainder_first():
    assert split_refund(1000, 3) == [334, 333, 333]
"#;

const PYPROJECT: &str = r#"[tool.pytest.ini_options]
testpaths = ["worker/tests"]
pythonpath = ["."]
"#;

const PACKAGE_JSON: &str = r#"{"name": "checkout", "private": true, "scripts": {"test": "jest"}, "devDependencies": {"jest": "^29.7.0"}}"#;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn checkout_tree() -> Vec<String> {
    s(&[
        "package.json",
        "pyproject.toml",
        "checkout/__tests__/gateway.test.js",
        "checkout/gateway.js",
        "checkout/payment.js",
        "checkout/routes/pay.js",
        "worker/__init__.py",
        "worker/app.py",
        "worker/refunds.py",
        "worker/tests/__init__.py",
        "worker/tests/test_refunds.py",
    ])
}

/// A file's lines around `line` (±3), numbered, as Sentry's `context`.
fn context(source: &str, line: u32) -> Vec<(u32, String)> {
    source
        .lines()
        .zip(1u32..)
        .filter(|(_, n)| *n + 3 >= line && *n <= line + 3)
        .map(|(l, n)| (n, l.to_string()))
        .collect()
}

fn py_frame(file: &str, function: &str, line: u32, source: &str, vars: Value) -> Frame {
    Frame {
        filename: Some(file.to_string()),
        abs_path: Some(format!("/srv/checkout/{file}")),
        module: Some(file.trim_end_matches(".py").replace('/', ".")),
        function: Some(function.to_string()),
        line: Some(line),
        column: None,
        in_app: true,
        context: context(source, line),
        vars: vars_of(vars),
    }
}

fn vars_of(v: Value) -> Vec<(String, Value)> {
    match v {
        Value::Object(m) => m.into_iter().collect(),
        _ => Vec::new(),
    }
}

fn order() -> Value {
    json!({"id": "'ord_1842'", "total_cents": 4599, "shipments": [
        {"id": "'shp_1'", "delivered": true}, {"id": "'shp_2'", "delivered": true}]})
}

fn event(
    short_id: &str,
    platform: &str,
    kind: &str,
    value: &str,
    frames: Vec<Frame>,
) -> IncidentEvent {
    IncidentEvent {
        event_id: "0f3c2a".into(),
        issue_id: "6120007".into(),
        short_id: short_id.into(),
        title: format!("{kind}: {value}"),
        message: String::new(),
        platform: platform.into(),
        release: Some("checkout@2.14.0".into()),
        environment: Some("production".into()),
        date: None,
        tags: Vec::new(),
        exceptions: vec![ExceptionInfo {
            kind: kind.into(),
            value: value.into(),
            module: None,
            frames,
            ..ExceptionInfo::default()
        }],
        url: "http://127.0.0.1:9000/organizations/acme/issues/6120007/".into(),
    }
}

/// CHECKOUT-4C's latest event, frames outermost first, as Sentry's Python SDK sends them.
fn checkout_4c() -> IncidentEvent {
    let kombu = Frame {
        filename: Some("kombu/messaging.py".into()),
        abs_path: Some("/usr/lib/python3.11/site-packages/kombu/messaging.py".into()),
        module: Some("kombu.messaging".into()),
        function: Some("_receive_callback".into()),
        line: Some(654),
        in_app: false,
        vars: vars_of(json!({"message": "<RefundMessage delivery_tag=8812>"})),
        ..Frame::default()
    };
    let mut e = event(
        "CHECKOUT-4C",
        "python",
        "ZeroDivisionError",
        "integer division or modulo by zero",
        vec![
            kombu,
            py_frame(
                "worker/app.py",
                "handle_refund",
                8,
                APP_PY,
                json!({"message": "<RefundMessage delivery_tag=8812>", "order": order()}),
            ),
            py_frame(
                "worker/refunds.py",
                "refund_order",
                14,
                REFUNDS_PY,
                json!({"order": order(), "open_shipments": []}),
            ),
            py_frame(
                "worker/refunds.py",
                "split_refund",
                6,
                REFUNDS_PY,
                json!({"total_cents": 4599, "parts": 0}),
            ),
        ],
    );
    e.exceptions[0].module = Some("builtins".into());
    e
}

fn python_layout() -> Layout {
    let tree = checkout_tree();
    let files = BTreeMap::from([("pyproject.toml".to_string(), PYPROJECT.to_string())]);
    Layout::detect("worker/refunds.py", &tree, &files).expect("a Python layout")
}

// ---------------------------------------------------------------------------------------------
// Tools.

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn have_node() -> bool {
    let ok = have("node", "--version");
    if !ok {
        eprintln!("node is not installed: skipping the JavaScript tool checks");
    }
    ok
}

fn write(dir: &Path, rel: &str, contents: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("create dir");
    }
    std::fs::write(&p, contents).expect("write file");
}

/// `python3 -m py_compile` on the draft: it must be valid Python.
fn py_compile(d: &Draft) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "draft.py", &d.contents);
    let o = run(Command::new("python3")
        .args(["-m", "py_compile", "draft.py"])
        .current_dir(dir.path()));
    assert!(
        o.status.success(),
        "draft does not compile:\n{}\n---\n{}",
        text(&o),
        d.contents
    );
}

/// `node --check` on a CommonJS draft (`.js`) or an ES module draft (`.mjs`).
fn node_check(contents: &str, module: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = if module { "draft.mjs" } else { "draft.js" };
    write(dir.path(), name, contents);
    let o = run(Command::new("node")
        .args(["--check", name])
        .current_dir(dir.path()));
    assert!(
        o.status.success(),
        "draft does not parse:\n{}\n---\n{contents}",
        text(&o)
    );
}

/// pytest's run in `dir`; `None` (said on stderr) when pytest is not installed, which only a
/// machine outside CI may be: `.ci/run` installs it, and under `CI=true` its absence fails.
fn pytest(dir: &Path) -> Option<Output> {
    let probe = run(Command::new("python3").args(["-m", "pytest", "--version"]));
    if !probe.status.success() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pytest is needed under CI=true (.ci/run installs it): {}",
            text(&probe)
        );
        eprintln!(
            "pytest is not installed: the drafted Python test was not run (python3 -m pip install pytest; CI installs it)"
        );
        return None;
    }
    Some(run(Command::new("python3")
        .args(["-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"])
        .current_dir(dir)))
}

// ---------------------------------------------------------------------------------------------
// Mapping frames to repository paths.

fn frame_at(abs: Option<&str>, filename: Option<&str>) -> Frame {
    Frame {
        abs_path: abs.map(str::to_string),
        filename: filename.map(str::to_string),
        in_app: true,
        ..Frame::default()
    }
}

#[test]
fn a_configured_prefix_wins_and_the_longest_applies() {
    let tree = s(&["worker/refunds.py", "svc/worker/refunds.py"]);
    let f = frame_at(
        Some("/srv/checkout/worker/refunds.py"),
        Some("worker/refunds.py"),
    );
    let map = BTreeMap::from([
        ("/srv/".to_string(), "nowhere/".to_string()),
        ("/srv/checkout/".to_string(), "svc/".to_string()),
    ]);
    assert_eq!(map_frame(&f, &tree, &map).unwrap(), "svc/worker/refunds.py");
    // A prefix whose result is not in the tree gives way to the suffix match.
    let map = BTreeMap::from([("/srv/checkout/".to_string(), "gone/".to_string())]);
    assert_eq!(map_frame(&f, &tree, &map).unwrap(), "worker/refunds.py");
}

#[test]
fn the_longest_suffix_matches_after_schemes_and_queries_are_stripped() {
    let tree = s(&[
        "src/payment.js",
        "checkout/payment.js",
        "web/src/checkout/payment.js",
    ]);
    let none = BTreeMap::new();
    for (abs, want) in [
        ("app:///checkout/payment.js?v=3", "checkout/payment.js"),
        (
            "webpack:///./src/checkout/payment.js",
            "web/src/checkout/payment.js",
        ),
        ("file:///home/ci/build/src/payment.js#L4", "src/payment.js"),
        ("~/checkout/payment.js", "checkout/payment.js"),
    ] {
        let f = frame_at(Some(abs), None);
        assert_eq!(map_frame(&f, &tree, &none).unwrap(), want, "{abs}");
    }
    // abs_path first, then filename.
    let f = frame_at(Some("<anonymous>"), Some("checkout/payment.js"));
    assert_eq!(map_frame(&f, &tree, &none).unwrap(), "checkout/payment.js");
}

#[test]
fn ties_go_to_the_shortest_path_that_is_not_a_test() {
    let none = BTreeMap::new();
    let f = frame_at(Some("/srv/app/util.py"), None);
    let tree = s(&["b/lib/util.py", "a/util.py"]);
    assert_eq!(map_frame(&f, &tree, &none).unwrap(), "a/util.py");
    let tree = s(&["tests/util.py", "application/util.py"]);
    assert_eq!(map_frame(&f, &tree, &none).unwrap(), "application/util.py");
    // But more segments in common beat both.
    let tree = s(&["a/util.py", "deep/er/app/util.py"]);
    assert_eq!(map_frame(&f, &tree, &none).unwrap(), "deep/er/app/util.py");
}

#[test]
fn vendored_and_minified_files_are_never_a_match_and_unmapped_names_what_it_tried() {
    let none = BTreeMap::new();
    let tree = s(&[
        "vendor/kombu/messaging.py",
        "node_modules/kombu/messaging.py",
        "lib/site-packages/kombu/messaging.py",
        "dist/app.min.js",
        "static/app.min.js",
    ]);
    let f = frame_at(
        Some("/usr/lib/python3.11/site-packages/kombu/messaging.py"),
        Some("kombu/messaging.py"),
    );
    let err = map_frame(&f, &tree, &none).unwrap_err();
    assert_eq!(
        err.tried,
        s(&[
            "usr/lib/python3.11/site-packages/kombu/messaging.py",
            "kombu/messaging.py"
        ])
    );
    let msg = err.to_string();
    assert!(msg.contains("`kombu/messaging.py`"), "{msg}");
    assert!(msg.contains("no file in the repository"), "{msg}");
    let f = frame_at(Some("https://cdn.example/static/app.min.js"), None);
    assert!(map_frame(&f, &tree, &none).is_err());
    // A frame with no path says so.
    let err = map_frame(&Frame::default(), &tree, &none).unwrap_err();
    assert!(err.tried.is_empty());
    assert!(err.to_string().contains("names no file"));
}

#[test]
fn the_demo_crash_frame_maps_into_the_repository() {
    let e = checkout_4c();
    let crash = e.crash_frame().expect("a crash frame");
    assert_eq!(crash.function.as_deref(), Some("split_refund"));
    let got = map_frame(crash, &checkout_tree(), &BTreeMap::new()).unwrap();
    assert_eq!(got, "worker/refunds.py");
}

// ---------------------------------------------------------------------------------------------
// Layout.

#[test]
fn layouts_come_from_the_repository() {
    let tree = checkout_tree();
    assert_eq!(
        manifests(&tree, "worker/refunds.py"),
        s(&["pyproject.toml"])
    );
    assert_eq!(
        manifests(&tree, "checkout/payment.js"),
        s(&["package.json"])
    );
    let py = python_layout();
    assert_eq!(
        (
            py.language,
            py.runner,
            py.test_dir.as_str(),
            py.python_root.as_str()
        ),
        (Language::Python, Runner::Pytest, "worker/tests", "")
    );

    let files = BTreeMap::from([("package.json".to_string(), PACKAGE_JSON.to_string())]);
    let js = Layout::detect("checkout/payment.js", &tree, &files).unwrap();
    assert_eq!(
        (js.language, js.runner, js.test_dir.as_str(), js.esm),
        (
            Language::JavaScript,
            Runner::Jest,
            "checkout/__tests__",
            false
        )
    );

    // acme/web: TypeScript, vitest, tests beside the code.
    let web = s(&[
        "package.json",
        "src/cart.ts",
        "src/cart.test.ts",
        "src/price.ts",
    ]);
    let files = BTreeMap::from([(
        "package.json".to_string(),
        r#"{"type": "module", "scripts": {"test": "vitest run"}, "devDependencies": {"vitest": "^2"}}"#
            .to_string(),
    )]);
    let ts = Layout::detect("src/price.ts", &web, &files).unwrap();
    assert_eq!(
        (ts.language, ts.runner, ts.test_dir.as_str(), ts.esm),
        (Language::TypeScript, Runner::Vitest, "src", true)
    );

    // No package.json: node:test. A monorepo package: its own package.json.
    let mono = s(&[
        "packages/api/package.json",
        "packages/api/lib/x.js",
        "package.json",
    ]);
    assert_eq!(
        manifests(&mono, "packages/api/lib/x.js"),
        s(&["packages/api/package.json", "package.json"])
    );
    let node = Layout::detect("lib/x.js", &s(&["lib/x.js"]), &BTreeMap::new()).unwrap();
    assert_eq!(node.runner, Runner::NodeTest);
    let files = BTreeMap::from([(
        "packages/api/package.json".to_string(),
        r#"{"scripts": {"test": "node --test"}}"#.to_string(),
    )]);
    let api = Layout::detect("packages/api/lib/x.js", &mono, &files).unwrap();
    assert_eq!(
        (api.runner, api.project_root.as_str()),
        (Runner::NodeTest, "packages/api")
    );

    // Rust: the library's name; a binary's file has none.
    let crate_tree = s(&["Cargo.toml", "src/lib.rs", "src/refunds.rs", "src/main.rs"]);
    let files = BTreeMap::from([(
        "Cargo.toml".to_string(),
        "[package]\nname = \"refund-core\"\nversion = \"0.1.0\"\n".to_string(),
    )]);
    let rs = Layout::detect("src/refunds.rs", &crate_tree, &files).unwrap();
    assert_eq!(
        (rs.runner, rs.test_dir.as_str(), rs.rust_lib.as_deref()),
        (Runner::Cargo, "tests", Some("refund_core"))
    );
    assert_eq!(
        Layout::detect("src/main.rs", &crate_tree, &files)
            .unwrap()
            .rust_lib,
        None
    );

    let go = Layout::detect(
        "pkg/refunds/split.go",
        &s(&["go.mod", "pkg/refunds/split.go"]),
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(
        (go.runner, go.test_dir.as_str()),
        (Runner::GoTest, "pkg/refunds")
    );

    // No tests directory yet: the project root's tests/.
    let bare = s(&["setup.cfg", "app/__init__.py", "app/core.py"]);
    let l = Layout::detect("app/core.py", &bare, &BTreeMap::new()).unwrap();
    assert_eq!(l.test_dir, "tests");

    assert!(matches!(
        Layout::detect("docs/x.md", &tree, &BTreeMap::new()),
        Err(DraftError::Unsupported(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Python.

#[test]
fn checkout_4c_draft_reproduces_the_crash_under_pytest_and_flips_when_fixed() {
    let e = checkout_4c();
    let layout = python_layout();
    for source in [Some(REFUNDS_PY), None] {
        let d = draft(&e, "worker/refunds.py", &layout, source).expect("a draft");
        assert_eq!(d.path, "worker/tests/test_regression_checkout_4c.py");
        assert_eq!(d.function, "test_checkout_4c_refund_order");
        assert_eq!(d.calls.as_deref(), Some("refund_order"));
        assert!(d.reproduces, "{}", d.contents);
        assert!(!d.modifies_existing);
        assert!(
            d.contents
                .contains("from worker.refunds import refund_order"),
            "{}",
            d.contents
        );
        assert!(d.contents.contains("strict=True"));
        assert!(d.contents.contains("raises=ZeroDivisionError"));
        assert!(d.contents.contains("# Sentry issue CHECKOUT-4C"));
        assert!(
            d.contents
                .contains("# ZeroDivisionError: integer division or modulo by zero")
        );
        assert!(d.contents.contains("worker/refunds.py:6 in split_refund"));
        assert!(
            d.contents.contains("\"id\": \"ord_1842\""),
            "{}",
            d.contents
        );
        assert!(d.contents.contains("\"delivered\": True"));
        assert!(
            d.contents.contains("            \"shipments\": [\n                {\"delivered\": True, \"id\": \"shp_1\"},\n"),
            "{}",
            d.contents
        );
        assert!(d.derivation.contains("`refund_order`"), "{}", d.derivation);
        assert!(
            d.derivation
                .contains("`handle_refund`: `message` is not a literal"),
            "{}",
            d.derivation
        );
        py_compile(&d);
    }
    let d = draft(&e, "worker/refunds.py", &layout, Some(REFUNDS_PY)).unwrap();

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "pyproject.toml", PYPROJECT);
    write(root, "worker/__init__.py", "");
    write(root, "worker/app.py", APP_PY);
    write(root, "worker/refunds.py", REFUNDS_PY);
    write(root, "worker/tests/__init__.py", "");
    write(root, "worker/tests/test_refunds.py", TEST_REFUNDS_PY);
    write(root, &d.path, &d.contents);

    let Some(o) = pytest(root) else {
        return;
    };
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("1 passed, 1 xfailed"), "{out}");
    assert!(
        out.contains(
            "XFAIL worker/tests/test_regression_checkout_4c.py::test_checkout_4c_refund_order"
        ),
        "{out}"
    );

    // Fix the bug in the copy: the expected failure no longer happens and strict xfail fails.
    let fixed = REFUNDS_PY.replace(
        "    share = total_cents // parts\n",
        "    if parts == 0:\n        return []\n    share = total_cents // parts\n",
    );
    assert_ne!(fixed, REFUNDS_PY);
    write(root, "worker/refunds.py", &fixed);
    let Some(o) = pytest(root) else {
        return;
    };
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("XPASS(strict)"), "{out}");
    assert!(out.contains("1 failed, 1 passed"), "{out}");
}

#[test]
fn python_falls_back_to_a_skipped_skeleton_that_still_compiles_and_never_passes() {
    let layout = python_layout();
    // Nothing rebuildable: split_refund's `parts` is an object, refund_order has no vars, no
    // source for the signature above the context.
    let mut e = checkout_4c();
    let frames = &mut e.exceptions[0].frames;
    frames[2].vars.clear();
    frames[3].vars = vars_of(json!({"total_cents": 4599, "parts": "<Parts object at 0x7f>"}));
    let d = draft(&e, "worker/refunds.py", &layout, Some(REFUNDS_PY)).unwrap();
    assert!(!d.reproduces);
    assert!(
        d.contents.contains("@pytest.mark.skip(reason="),
        "{}",
        d.contents
    );
    assert!(
        d.contents
            .contains("split_refund(total_cents=..., parts=...)"),
        "{}",
        d.contents
    );
    assert!(
        d.contents
            .contains("from worker.refunds import split_refund")
    );
    py_compile(&d);

    // Run it: collected and skipped (the import works), never passed.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "pyproject.toml", PYPROJECT);
    write(root, "worker/__init__.py", "");
    write(root, "worker/refunds.py", REFUNDS_PY);
    write(root, "worker/tests/__init__.py", "");
    write(root, &d.path, &d.contents);
    let Some(o) = pytest(root) else {
        return;
    };
    let out = text(&o);
    assert!(out.contains("1 skipped"), "{out}");
    assert!(!out.contains("passed"), "{out}");

    // Signature unknown (no source; context lines without the def): no guess at the arguments.
    let mut e = checkout_4c();
    for f in &mut e.exceptions[0].frames {
        f.context.retain(|(n, _)| *n == f.line.unwrap_or(0));
    }
    let d = draft(&e, "worker/refunds.py", &layout, None).unwrap();
    assert!(!d.reproduces);
    assert!(
        d.contents.contains("    split_refund()\n"),
        "{}",
        d.contents
    );
    assert!(
        d.derivation.contains("signature is not in the source"),
        "{}",
        d.derivation
    );
    py_compile(&d);
}

#[test]
fn python_exceptions_outside_builtins_are_imported_or_fall_back_to_exception() {
    let layout = python_layout();
    let mut e = checkout_4c();
    e.exceptions[0].kind = "GatewayError".into();
    e.exceptions[0].module = Some("payments.errors".into());
    let d = draft(&e, "worker/refunds.py", &layout, Some(REFUNDS_PY)).unwrap();
    assert!(
        d.contents.contains("import payments.errors\n"),
        "{}",
        d.contents
    );
    assert!(d.contents.contains("raises=payments.errors.GatewayError,"));
    py_compile(&d);

    e.exceptions[0].kind = "Gateway Error\"); import os; (\"".into();
    e.exceptions[0].module = None;
    let d = draft(&e, "worker/refunds.py", &layout, Some(REFUNDS_PY)).unwrap();
    assert!(d.contents.contains("raises=Exception,"), "{}", d.contents);
    assert!(d.contents.contains("cannot be imported by name"));
    assert!(!d.contents.contains("\nimport os"));
    py_compile(&d);
}

/// Text that tries to break out of comments and literals, in every field a draft shows.
fn hostile_event(platform: &str, frames: Vec<Frame>) -> IncidentEvent {
    let nasty = "*/ \"\"\" ''' \n# -*- coding: utf-16 -*-\r\nimport os\u{1b}[2J\u{7}\u{202e}\u{2028}end`${x}`";
    let mut e = event(
        &format!("CHECKOUT-4C{nasty}"),
        platform,
        "ZeroDivisionError",
        &format!("{nasty}{}", "x".repeat(10_000)),
        frames,
    );
    e.url = format!("http://sentry/{nasty}");
    e.release = Some(nasty.into());
    e
}

#[test]
fn hostile_python_events_still_draft_valid_python() {
    let layout = python_layout();
    let repr_10k = format!("'{}'", "y".repeat(10_000));
    let weird_repr = r#"'it\'s "quoted" \\ \n\x00\u202e\U0001f600 */ """'"#;
    let mut frames = Vec::new();
    // 500 frames: the crash is the last; the outermost rebuildable one is the 250th.
    for i in 0..500u32 {
        let mut f = py_frame(
            "worker/refunds.py",
            "split_refund",
            6,
            REFUNDS_PY,
            json!({}),
        );
        f.function = Some(format!("f{i}"));
        f.vars = vars_of(json!({"x": "<object>"}));
        frames.push(f);
    }
    frames[250] = py_frame(
        "worker/refunds.py",
        "refund_order",
        14,
        REFUNDS_PY,
        json!({"order": {"note": weird_repr, "big": repr_10k, "n": null, "f": 1.5, "l": [1, [2, {"k": false}]]}}),
    );
    let e = hostile_event("python", frames.clone());
    let d = draft(&e, "worker/refunds.py", &layout, Some(REFUNDS_PY)).unwrap();
    assert!(d.reproduces, "{}", d.derivation);
    assert!(
        d.derivation.contains("and 242 more frames"),
        "{}",
        d.derivation
    );
    assert_eq!(
        d.contents.lines().next(),
        Some("# Regression test drafted by flightdeck from a Sentry incident.")
    );
    for l in d.contents.lines().filter(|l| !l.starts_with('#')) {
        assert!(l.is_ascii(), "only ASCII reaches the code: {l:?}");
    }
    for l in d.contents.lines().take_while(|l| !l.starts_with("import")) {
        assert!(
            l.is_empty() || l.starts_with('#'),
            "a header line escaped its comment: {l:?}"
        );
    }
    assert!(
        d.contents
            .contains(r#""it's \"quoted\" \\ \n\x00\u202e\U0001f600 */ \"\"\"""#),
        "{}",
        d.contents
    );
    py_compile(&d);

    // The values come back exactly: run the drafted call's literal through Python.
    let dir = tempfile::tempdir().expect("tempdir");
    let start = d.contents.find("refund_order(\n").expect("the call");
    let lit = d.contents[start + "refund_order(".len()..].trim_start();
    let lit = lit[..lit.rfind(')').unwrap()].trim().trim_end_matches(',');
    write(
        dir.path(),
        "check.py",
        &format!(
            "v = {lit}\nassert v['note'] == 'it\\'s \"quoted\" \\\\ \\n\\x00\\u202e\\U0001f600 */ \"\"\"', v['note']\nassert v['big'] == 'y' * 10000\nassert v['n'] is None and v['f'] == 1.5 and v['l'] == [1, [2, {{'k': False}}]]\n"
        ),
    );
    let o = run(Command::new("python3")
        .arg("check.py")
        .current_dir(dir.path()));
    assert!(o.status.success(), "{}", text(&o));

    // Non-literal everywhere, no exception module, a frame without a file or a function.
    let mut frames: Vec<Frame> = frames.into_iter().take(3).collect();
    frames.push(Frame {
        in_app: true,
        ..Frame::default()
    });
    let e = hostile_event("python", frames);
    let d = draft(&e, "worker/refunds.py", &layout, None).unwrap();
    assert!(!d.reproduces);
    assert!(
        d.contents.contains("raise NotImplementedError("),
        "{}",
        d.contents
    );
    assert_eq!(d.calls, None);
    py_compile(&d);

    // No exception, no frames: errors, not drafts.
    let mut e = checkout_4c();
    e.exceptions[0].frames.clear();
    assert_eq!(
        draft(&e, "worker/refunds.py", &layout, None),
        Err(DraftError::NoFrames)
    );
    e.exceptions.clear();
    assert_eq!(
        draft(&e, "worker/refunds.py", &layout, None),
        Err(DraftError::NoException)
    );
}

// ---------------------------------------------------------------------------------------------
// JavaScript and TypeScript.

/// `checkout/payment.js` of the demo: lines 115–121 are CHECKOUT-3F's context, line 118 the crash.
fn payment_js() -> String {
    let mut lines: Vec<String> = vec![
        "'use strict';".into(),
        String::new(),
        "class PaymentError extends Error {}".into(),
    ];
    while lines.len() < 110 {
        lines.push("// …".into());
    }
    lines.extend(
        [
            "async function chargeCard(order, gateway) {",
            "  const customer = order.customer;",
            "  if (!customer || !customer.defaultCard) {",
            "    // a card on file is needed to charge",
            "    throw new PaymentError('no card on file');",
            "  }",
            "  // saved cards skip the payment form, so order.payment may be unset",
            "  const cents = Math.round(order.payment.amount * 100);",
            "  return gateway.charge({",
            "    card: customer.defaultCard,",
            "    amount: cents,",
            "  });",
            "}",
            "",
            "module.exports = { chargeCard, PaymentError };",
        ]
        .map(String::from),
    );
    lines.join("\n") + "\n"
}

fn js_frame(file: &str, function: &str, line: u32, source: &str) -> Frame {
    Frame {
        filename: Some(file.to_string()),
        abs_path: Some(format!("/srv/app/{file}")),
        module: Some(file.trim_end_matches(".js").to_string()),
        function: Some(function.to_string()),
        line: Some(line),
        column: Some(44),
        in_app: true,
        context: context(source, line),
        vars: Vec::new(),
    }
}

fn checkout_3f() -> IncidentEvent {
    let express = Frame {
        filename: Some("node_modules/express/lib/router/layer.js".into()),
        abs_path: Some("/srv/app/node_modules/express/lib/router/layer.js".into()),
        function: Some("Layer.handle [as handle_request]".into()),
        line: Some(95),
        in_app: false,
        ..Frame::default()
    };
    let pay = "router.post('/pay', async (req, res) => {\n  const receipt = await chargeCard(order, gateway);\n});\n";
    event(
        "CHECKOUT-3F",
        "node",
        "TypeError",
        "cannot read property 'amount' of undefined",
        vec![
            express,
            js_frame("checkout/routes/pay.js", "submitPayment", 2, pay),
            js_frame("checkout/payment.js", "chargeCard", 118, &payment_js()),
        ],
    )
}

#[test]
fn checkout_3f_without_vars_is_a_skipped_jest_skeleton_beside_the_existing_tests() {
    let tree = checkout_tree();
    let files = BTreeMap::from([("package.json".to_string(), PACKAGE_JSON.to_string())]);
    let layout = Layout::detect("checkout/payment.js", &tree, &files).unwrap();
    let source = payment_js();
    for src in [Some(source.as_str()), None] {
        let d = draft(&checkout_3f(), "checkout/payment.js", &layout, src).unwrap();
        assert_eq!(d.path, "checkout/__tests__/checkout-3f.regression.test.js");
        assert_eq!(d.language, Language::JavaScript);
        assert!(!d.reproduces);
        assert!(
            d.contents
                .contains("const { chargeCard } = require('../payment');"),
            "{}",
            d.contents
        );
        assert!(
            d.contents
                .contains("test.skip('CHECKOUT-3F: chargeCard throws TypeError'"),
            "{}",
            d.contents
        );
        assert!(d.contents.contains("// Sentry issue CHECKOUT-3F"));
        if src.is_some() {
            assert!(
                d.derivation
                    .contains("`chargeCard`: the event has no value for `order`"),
                "{}",
                d.derivation
            );
            assert!(
                d.contents
                    .contains("chargeCard(/* order, gateway: fill in from the incident */)")
            );
        } else {
            assert!(
                d.derivation
                    .contains("`chargeCard`: its signature is not in the source"),
                "{}",
                d.derivation
            );
        }
        if have_node() {
            node_check(&d.contents, false);
        }
    }
}

/// A buggy CommonJS module, an event whose frame carries the arguments (the Node SDK's
/// `includeLocalVariables`).
const TOTAL_JS: &str = "function orderTotal(order) {\n  const items = order.items.reduce((sum, i) => sum + i.price * i.qty, 0);\n  return items + order.shipping.amount;\n}\n\nmodule.exports = { orderTotal };\n";

fn total_event() -> IncidentEvent {
    let mut f = js_frame("lib/total.js", "Object.orderTotal", 3, TOTAL_JS);
    f.vars = vars_of(
        json!({"order": {"id": "ord_7", "items": [{"price": 5, "qty": 2}], "note": "it's */ \u{2028} done"}}),
    );
    event(
        "WEB-12",
        "node",
        "TypeError",
        "Cannot read properties of undefined (reading 'amount')",
        vec![f],
    )
}

#[test]
fn node_test_drafts_run_under_node_as_a_todo_that_shows_the_crash_and_its_fix() {
    let tree = s(&["lib/total.js"]);
    let layout = Layout::detect("lib/total.js", &tree, &BTreeMap::new()).unwrap();
    assert_eq!(layout.runner, Runner::NodeTest);
    let d = draft(&total_event(), "lib/total.js", &layout, Some(TOTAL_JS)).unwrap();
    assert_eq!(d.path, "lib/web-12.regression.test.js");
    assert!(d.reproduces, "{}", d.derivation);
    assert!(d.contents.contains("{ todo: "), "{}", d.contents);
    assert!(
        d.contents
            .contains("orderTotal(\n      { 'id': 'ord_7', 'items': [{ 'price': 5, 'qty': 2 }]"),
        "{}",
        d.contents
    );
    assert!(d.contents.contains("{ name: 'TypeError' }"));
    if !have_node() {
        return;
    }
    node_check(&d.contents, false);
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "lib/total.js", TOTAL_JS);
    write(dir.path(), &d.path, &d.contents);
    let node_test = |dir: &Path| {
        run(Command::new("node")
            .args([
                "--test",
                "--test-reporter=tap",
                "lib/web-12.regression.test.js",
            ])
            .current_dir(dir))
    };
    let o = node_test(dir.path());
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("ok 1 - WEB-12: orderTotal is exported"),
        "{out}"
    );
    assert!(
        out.contains("ok 2 - WEB-12: orderTotal throws TypeError # TODO"),
        "{out}"
    );
    assert!(!out.contains("not ok"), "{out}");
    assert!(out.contains("# todo 1"), "{out}");

    // Fixed: the todo test now reports that the crash is gone (and the run stays green).
    write(
        dir.path(),
        "lib/total.js",
        &TOTAL_JS.replace(
            "order.shipping.amount",
            "(order.shipping ? order.shipping.amount : 0)",
        ),
    );
    let o = node_test(dir.path());
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("not ok 2 - WEB-12: orderTotal throws TypeError # TODO"),
        "{out}"
    );
}

#[test]
fn jest_and_vitest_drafts_are_expected_failures_and_parse() {
    let tree = s(&["package.json", "lib/total.js", "lib/total.test.js"]);
    let files = BTreeMap::from([("package.json".to_string(), PACKAGE_JSON.to_string())]);
    let layout = Layout::detect("lib/total.js", &tree, &files).unwrap();
    let d = draft(&total_event(), "lib/total.js", &layout, Some(TOTAL_JS)).unwrap();
    assert_eq!(d.path, "lib/web-12.regression.test.js");
    assert!(
        d.contents
            .contains("test.failing('WEB-12: orderTotal throws TypeError'"),
        "{}",
        d.contents
    );
    assert!(d.contents.contains("expect(thrown).not.toBe('TypeError');"));
    assert!(
        d.contents
            .contains("const { orderTotal } = require('./total');")
    );
    // Not exported: never called (an undefined function would throw a TypeError of its own).
    let hidden = TOTAL_JS.replace("module.exports = { orderTotal };", "module.exports = {};");
    let h = draft(&total_event(), "lib/total.js", &layout, Some(&hidden)).unwrap();
    assert!(!h.reproduces);
    assert!(
        h.derivation.contains("does not export it"),
        "{}",
        h.derivation
    );

    // acme/web: TypeScript under vitest, an exported arrow function with types.
    let ts_src = "export const orderTotal = (order: Order, rate?: number): number =>\n  order.items.length + order.shipping.amount;\n";
    let web = s(&["package.json", "src/total.ts", "src/cart.test.ts"]);
    let files = BTreeMap::from([(
        "package.json".to_string(),
        r#"{"type": "module", "scripts": {"test": "vitest run"}}"#.to_string(),
    )]);
    let tl = Layout::detect("src/total.ts", &web, &files).unwrap();
    let mut e = total_event();
    e.exceptions[0].frames[0] = {
        let mut f = js_frame("src/total.ts", "orderTotal", 2, ts_src);
        f.vars = vars_of(json!({"order": {"items": []}}));
        f
    };
    let t = draft(&e, "src/total.ts", &tl, Some(ts_src)).unwrap();
    assert_eq!(t.path, "src/web-12.regression.test.ts");
    assert!(t.reproduces, "{}", t.derivation);
    assert!(
        t.contents
            .contains("import { expect, test } from 'vitest';")
    );
    assert!(
        t.contents.contains("import { orderTotal } from './total';"),
        "{}",
        t.contents
    );
    assert!(t.contents.contains("test.fails("));
    assert!(
        t.contents.contains("orderTotal({ 'items': [] })"),
        "{}",
        t.contents
    );

    // Without the source the export is unknown: the namespace is imported (a named import of a
    // missing export would fail to load the whole file).
    let u = draft(&e, "src/total.ts", &tl, None).unwrap();
    assert!(u.reproduces, "{}", u.derivation);
    assert!(
        u.contents
            .contains("import * as subject from './total';\n\nconst { orderTotal } = subject;\n"),
        "{}",
        u.contents
    );

    if have_node() {
        node_check(&d.contents, false);
        // The TypeScript drafts have no TypeScript-only syntax: node parses them as ES modules.
        node_check(&t.contents, true);
        node_check(&u.contents, true);
    }
}

#[test]
fn hostile_js_events_still_draft_valid_javascript() {
    let mut f = js_frame("lib/total.js", "orderTotal", 3, TOTAL_JS);
    f.vars = vars_of(
        json!({"order": {"__proto__": {"x": 1}, "s": "*/ ' \" \\ \n \u{0} \u{2029} ${x} `", "big": "z".repeat(10_000)}}),
    );
    let mut frames: Vec<Frame> = (0..499)
        .map(|i| {
            let mut g = js_frame("lib/total.js", &format!("<anonymous{i}>"), 3, TOTAL_JS);
            g.vars = vars_of(json!({"order": "[Function: x]"}));
            g
        })
        .collect();
    frames.push(f);
    let e = hostile_event("node", frames);
    let esm_files = BTreeMap::from([(
        "package.json".to_string(),
        r#"{"type": "module", "scripts": {"test": "jest"}}"#.to_string(),
    )]);
    let tree = s(&["package.json", "lib/total.js"]);
    for (files, module) in [(BTreeMap::new(), false), (esm_files, true)] {
        let layout = Layout::detect("lib/total.js", &tree, &files).unwrap();
        let d = draft(&e, "lib/total.js", &layout, Some(TOTAL_JS)).unwrap();
        assert!(d.reproduces, "{}", d.derivation);
        assert!(
            d.contents.contains("['__proto__']: { 'x': 1 }"),
            "{}",
            d.contents
        );
        for l in d.contents.lines().filter(|l| !l.starts_with("//")) {
            assert!(l.is_ascii(), "{l:?}");
        }
        if have_node() {
            node_check(&d.contents, module);
        }
    }
    // Nothing rebuildable, no source.
    let e = hostile_event("node", vec![js_frame("lib/total.js", "<anonymous>", 3, "")]);
    let layout = Layout::detect("lib/total.js", &tree, &BTreeMap::new()).unwrap();
    let d = draft(&e, "lib/total.js", &layout, None).unwrap();
    assert!(!d.reproduces);
    if have_node() {
        node_check(&d.contents, false);
    }
}

// ---------------------------------------------------------------------------------------------
// Rust.

const REFUNDS_RS: &str = "/// Refunds for orders that shipped in parts.\nfn split_refund(total_cents: u64, parts: u64) -> Vec<u64> {\n    let share = total_cents / parts;\n    let remainder = total_cents - share * parts;\n    let mut out = vec![share; parts as usize];\n    out[0] += remainder;\n    out\n}\n\npub fn refund_order(total_cents: u64, open: &[bool]) -> Vec<u64> {\n    split_refund(total_cents, open.iter().filter(|d| !**d).count() as u64)\n}\n\npub fn first_part(total_cents: u64, parts: u64) -> u64 {\n    split_refund(total_cents, parts)[0]\n}\n";

fn rust_event(
    short_id: &str,
    function: &str,
    line: u32,
    vars: Value,
    value: &str,
) -> IncidentEvent {
    let f = Frame {
        filename: Some("src/refunds.rs".into()),
        abs_path: Some("/build/refund-core/src/refunds.rs".into()),
        function: Some(format!("refund_core::refunds::{function}")),
        line: Some(line),
        in_app: true,
        context: context(REFUNDS_RS, line),
        vars: vars_of(vars),
        ..Frame::default()
    };
    event(short_id, "rust", "panic", value, vec![f])
}

fn cargo_test(dir: &Path) -> Output {
    run(Command::new(env!("CARGO"))
        .args(["test", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .current_dir(dir))
}

#[test]
fn rust_drafts_build_in_a_temp_crate_and_should_panic_flips_when_fixed() {
    let tree = s(&["Cargo.toml", "src/lib.rs", "src/refunds.rs"]);
    let cargo_toml = "[package]\nname = \"refund-core\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";
    let files = BTreeMap::from([("Cargo.toml".to_string(), cargo_toml.to_string())]);
    let layout = Layout::detect("src/refunds.rs", &tree, &files).unwrap();
    let panic = "attempt to divide by zero";

    // A private function: a #[cfg(test)] module appended to the file.
    let private = rust_event(
        "REFUNDS-1",
        "split_refund",
        3,
        json!({"total_cents": 4599, "parts": 0}),
        panic,
    );
    let a = draft(&private, "src/refunds.rs", &layout, Some(REFUNDS_RS)).unwrap();
    assert!(a.modifies_existing && a.reproduces, "{}", a.derivation);
    assert_eq!(a.path, "src/refunds.rs");
    assert!(a.contents.starts_with(REFUNDS_RS.trim_end()));
    assert!(a.contents.contains("mod regression_refunds_1 {"));
    assert!(
        a.contents
            .contains("#[should_panic(expected = \"attempt to divide by zero\")]"),
        "{}",
        a.contents
    );
    assert!(a.contents.contains("let _ = split_refund(4599, 0);"));
    // Drafting again replaces the module instead of adding a second one.
    let again = draft(&private, "src/refunds.rs", &layout, Some(&a.contents)).unwrap();
    assert_eq!(again.contents, a.contents);

    // A pub fn of the library: tests/ through the public path.
    let public = rust_event(
        "REFUNDS-2",
        "first_part",
        16,
        json!({"total_cents": 10, "parts": 0}),
        panic,
    );
    let b = draft(&public, "src/refunds.rs", &layout, Some(REFUNDS_RS)).unwrap();
    assert_eq!(b.path, "tests/regression_refunds_2.rs");
    assert!(!b.modifies_existing && b.reproduces);
    assert!(
        b.contents.contains("use refund_core::refunds::first_part;"),
        "{}",
        b.contents
    );

    // Arguments that cannot be rebuilt (a slice of objects) and a hostile message: ignored skeleton.
    let mut skeleton = rust_event(
        "REFUNDS-3*/\"#",
        "split_refund",
        3,
        json!({"total_cents": 1, "parts": "<x>"}),
        "",
    );
    skeleton.exceptions[0].value = "quote \" */ \n #[test] \u{202e}".into();
    let c = draft(&skeleton, "src/refunds.rs", &layout, Some(REFUNDS_RS)).unwrap();
    assert!(!c.reproduces);
    assert!(
        c.modifies_existing && c.contents.contains("#[ignore = "),
        "{}",
        c.contents
    );
    // No source at all: a tests/ skeleton that imports nothing it cannot see.
    let d = draft(
        &rust_event("REFUNDS-4", "split_refund", 3, json!({}), panic),
        "src/refunds.rs",
        &layout,
        None,
    )
    .unwrap();
    assert_eq!(d.path, "tests/regression_refunds_4.rs");
    assert!(!d.reproduces && d.contents.contains("todo!("));

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "Cargo.toml", cargo_toml);
    write(root, "src/lib.rs", "pub mod refunds;\n");
    // The module with both appended test modules (a's then c's).
    let c_module = &c.contents[REFUNDS_RS.trim_end().len()..];
    write(root, "src/refunds.rs", &format!("{}{c_module}", a.contents));
    write(root, &b.path, &b.contents);
    write(root, &d.path, &d.contents);
    let o = cargo_test(root);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    // Two reproduced panics pass, two skeletons are ignored.
    for summary in [
        "1 passed; 0 failed; 1 ignored", // src/refunds.rs: REFUNDS-1 reproduced, REFUNDS-3 ignored
        "1 passed; 0 failed; 0 ignored", // tests/regression_refunds_2.rs
        "0 passed; 0 failed; 1 ignored", // tests/regression_refunds_4.rs
    ] {
        assert!(out.contains(summary), "{summary}: {out}");
    }

    // Fix split_refund: both should_panic tests fail ("did not panic").
    let fixed = format!("{}{c_module}", a.contents).replace(
        "    let share = total_cents / parts;",
        "    if parts == 0 {\n        return vec![0];\n    }\n    let share = total_cents / parts;",
    );
    write(root, "src/refunds.rs", &fixed);
    let o = cargo_test(root);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("did not panic"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// Go.

const SPLIT_GO: &str = "package refunds\n\n// SplitRefund splits a refund into equal parts.\nfunc SplitRefund(totalCents, parts int, note string) []int {\n\tshare := totalCents / parts\n\tout := make([]int, parts)\n\tfor i := range out {\n\t\tout[i] = share\n\t}\n\treturn out\n}\n";

#[test]
fn go_drafts_skip_with_the_reason_then_call() {
    let tree = s(&["go.mod", "pkg/refunds/split.go"]);
    let layout = Layout::detect("pkg/refunds/split.go", &tree, &BTreeMap::new()).unwrap();
    let f = Frame {
        filename: Some("pkg/refunds/split.go".into()),
        abs_path: Some("/go/src/example.com/checkout/pkg/refunds/split.go".into()),
        module: Some("example.com/checkout/pkg/refunds".into()),
        function: Some("SplitRefund".into()),
        line: Some(5),
        in_app: true,
        context: context(SPLIT_GO, 5),
        vars: vars_of(json!({"totalCents": 4599, "parts": 0, "note": "a \"b\" \n */"})),
        ..Frame::default()
    };
    let e = event(
        "CHECKOUT-5G",
        "go",
        "runtime.Error",
        "runtime error: integer divide by zero",
        vec![f.clone()],
    );
    let d = draft(&e, "pkg/refunds/split.go", &layout, Some(SPLIT_GO)).unwrap();
    assert_eq!(d.path, "pkg/refunds/regression_checkout_5g_test.go");
    assert_eq!(d.function, "TestCheckout5gSplitRefund");
    assert!(d.reproduces);
    assert!(d.contents.contains("package refunds\n"));
    assert!(
        d.contents
            .contains("\tt.Skip(\"CHECKOUT-5G: SplitRefund still panics"),
        "{}",
        d.contents
    );
    assert!(
        d.contents
            .contains("\tSplitRefund(4599, 0, \"a \\\"b\\\" \\n */\")\n"),
        "{}",
        d.contents
    );
    let mut g = f;
    g.vars.clear();
    let skel = draft(
        &hostile_event("go", vec![g]),
        "pkg/refunds/split.go",
        &layout,
        None,
    )
    .unwrap();
    assert!(!skel.reproduces);
    assert!(skel.contents.contains("\tt.Skip("));
    if !have("go", "version") {
        eprintln!("go is not installed: skipping gofmt -e on the Go drafts");
        return;
    }
    for draft in [&d, &skel] {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "x_test.go", &draft.contents);
        let o = run(Command::new("gofmt")
            .args(["-e", "-l", "x_test.go"])
            .current_dir(dir.path()));
        assert!(o.status.success(), "{}\n---\n{}", text(&o), draft.contents);
    }
}

/// jest itself is not installed here (no network installs in tests), so the jest draft's bodies
/// run under a stand-in for the three globals they use (`test`, `test.failing`, `expect(…).toBe`
/// / `.not.toBe`): what matters is that the `test.failing` body fails while the bug is there
/// (jest reports it passing) and passes once it is fixed (jest reports it failing), and that the
/// export check passes.
const JEST_STANDIN: &str = r#"
const tests = [];
const fail = (m) => { throw new Error(m); };
globalThis.expect = (v) => ({
  toBe: (w) => { if (v !== w) fail(`expected ${w}, got ${v}`); },
  not: { toBe: (w) => { if (v === w) fail(`expected not ${w}`); } },
});
const test = (name, fn) => tests.push(['test', name, fn]);
test.failing = (name, fn) => tests.push(['failing', name, fn]);
test.skip = (name, fn) => tests.push(['skip', name, fn]);
globalThis.test = test;
require(require('path').resolve(process.argv[2]));
(async () => {
  for (const [kind, name, fn] of tests) {
    let body = 'body passed';
    try { await fn(); } catch (e) { body = 'body failed'; }
    console.log(`${kind}: ${body}: ${name}`);
  }
})();
"#;

#[test]
fn the_jest_failing_body_fails_while_buggy_and_passes_once_fixed() {
    let tree = s(&["package.json", "lib/total.js", "lib/total.test.js"]);
    let files = BTreeMap::from([("package.json".to_string(), PACKAGE_JSON.to_string())]);
    let layout = Layout::detect("lib/total.js", &tree, &files).unwrap();
    let d = draft(&total_event(), "lib/total.js", &layout, Some(TOTAL_JS)).unwrap();
    assert!(d.reproduces);
    if !have_node() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "standin.js", JEST_STANDIN);
    write(dir.path(), &d.path, &d.contents);
    let run_it = |module: &str| {
        write(dir.path(), "lib/total.js", module);
        let o = run(Command::new("node")
            .args(["standin.js", &d.path])
            .current_dir(dir.path()));
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let out = run_it(TOTAL_JS);
    assert!(
        out.contains("test: body passed: WEB-12: orderTotal is exported"),
        "{out}"
    );
    assert!(
        out.contains("failing: body failed: WEB-12: orderTotal throws TypeError"),
        "{out}"
    );
    let out = run_it(&TOTAL_JS.replace(
        "order.shipping.amount",
        "(order.shipping ? order.shipping.amount : 0)",
    ));
    assert!(
        out.contains("failing: body passed: WEB-12: orderTotal throws TypeError"),
        "{out}"
    );
    // Another error than the incident's is not a reproduction either: the body passes.
    let out = run_it(&TOTAL_JS.replace(
        "return items",
        "throw new RangeError('other');\n  return items",
    ));
    assert!(
        out.contains("failing: body passed: WEB-12: orderTotal throws TypeError"),
        "{out}"
    );
}

#[test]
fn python_calls_into_other_files_async_functions_and_keyword_only_parameters() {
    let layout = python_layout();
    // handle_refund's message is a plain dict here: the outermost frame, in worker/app.py.
    let mut e = checkout_4c();
    e.exceptions[0].frames[1].vars = vars_of(json!({"message": {"order": order()}}));
    let d = draft(&e, "worker/refunds.py", &layout, Some(REFUNDS_PY)).unwrap();
    assert!(d.reproduces);
    assert_eq!(d.function, "test_checkout_4c_handle_refund");
    assert!(
        d.contents.contains("from worker.app import handle_refund"),
        "{}",
        d.contents
    );
    py_compile(&d);

    // An async function with a keyword-only parameter and a defaulted one the event lacks.
    let src = "import asyncio\n\n\nasync def settle(order, retries=3, *, region, dry_run: bool = False):\n    await asyncio.sleep(0)\n    return order[\"total_cents\"] // order[\"parts\"]\n";
    let tree = s(&[
        "pyproject.toml",
        "worker/__init__.py",
        "worker/settle.py",
        "worker/tests/__init__.py",
    ]);
    let layout = Layout::detect("worker/settle.py", &tree, &BTreeMap::new()).unwrap();
    let mut f = py_frame("worker/settle.py", "settle", 6, src, json!({}));
    f.vars = vars_of(
        json!({"order": {"total_cents": 10, "parts": 0}, "region": "'eu'", "dry_run": true}),
    );
    let e = event(
        "CHECKOUT-9",
        "python",
        "ZeroDivisionError",
        "integer division or modulo by zero",
        vec![f],
    );
    let d = draft(&e, "worker/settle.py", &layout, Some(src)).unwrap();
    assert!(d.reproduces, "{}", d.derivation);
    assert!(d.contents.contains("import asyncio\n"));
    assert!(
        d.contents.contains(
            "asyncio.run(settle({\"parts\": 0, \"total_cents\": 10}, region=\"eu\", dry_run=True))"
        ),
        "{}",
        d.contents
    );
    py_compile(&d);
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "worker/__init__.py", "");
    write(dir.path(), "worker/settle.py", src);
    write(dir.path(), "worker/tests/__init__.py", "");
    write(dir.path(), &d.path, &d.contents);
    let Some(o) = pytest(dir.path()) else {
        return;
    };
    assert!(text(&o).contains("1 xfailed"), "{}", text(&o));
}

// ---------------------------------------------------------------------------------------------
// The demo world end to end: its Sentry on loopback, read by the Sentry client, drafted here.

#[tokio::test]
async fn the_demos_checkout_4c_event_read_by_the_sentry_client_drafts_a_test_pytest_xfails() {
    use flightdeck::sim::{SimOptions, start};
    let w = start(SimOptions {
        speed: 0.0,
        start_at_secs: 100.0,
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts");
    let cfg = flightdeck::config::Config::parse(&w.config_toml(), "demo").expect("demo config");
    let sentry = cfg.sentry.expect("sentry configured");
    let http =
        flightdeck::sources::http::Http::new(std::time::Duration::from_secs(30)).expect("http");
    let client = flightdeck::sources::sentry::Sentry::new(http, &sentry, None);
    let mut e = client.latest_event("6120007").await.expect("latest event");
    w.shutdown();
    // The event endpoint carries no short id: the caller takes it from the incident.
    if e.short_id.is_empty() {
        e.short_id = "CHECKOUT-4C".into();
    }

    let crash = e.crash_frame().expect("a crash frame");
    let path = map_frame(crash, &checkout_tree(), &BTreeMap::new()).expect("mapped");
    assert_eq!(path, "worker/refunds.py");
    let d = draft(&e, &path, &python_layout(), Some(REFUNDS_PY)).expect("a draft");
    assert!(d.reproduces, "{}", d.derivation);
    assert_eq!(d.calls.as_deref(), Some("refund_order"));
    assert!(
        d.contents.contains("# Sentry issue CHECKOUT-4C"),
        "{}",
        d.contents
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "pyproject.toml", PYPROJECT);
    write(root, "worker/__init__.py", "");
    write(root, "worker/app.py", APP_PY);
    write(root, "worker/refunds.py", REFUNDS_PY);
    write(root, "worker/tests/__init__.py", "");
    write(root, "worker/tests/test_refunds.py", TEST_REFUNDS_PY);
    write(root, &d.path, &d.contents);
    let Some(o) = pytest(root) else {
        return;
    };
    assert!(
        text(&o).contains("1 passed, 1 xfailed"),
        "{}\n---\n{}",
        text(&o),
        d.contents
    );
}
