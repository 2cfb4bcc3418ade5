//! The command line: help with examples, config init/check, exit codes, doctor.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

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

/// A config file only its owner can read, so that no permission warning joins stderr.
fn write_private(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn run(c: &mut Command) -> Output {
    c.output().expect("run flightdeck")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn help_everywhere_with_examples() {
    let home = tempfile::tempdir().unwrap();
    let o = run(fd(home.path()).arg("--help"));
    assert!(o.status.success());
    let (out, _) = text(&o);
    for s in [
        "demo",
        "doctor",
        "config",
        "--readonly",
        "--config",
        "Examples:",
    ] {
        assert!(out.contains(s), "--help mentions {s}:\n{out}");
    }
    for sub in [
        vec!["demo"],
        vec!["doctor"],
        vec!["config", "init"],
        vec!["config", "path"],
        vec!["config", "check"],
        vec!["dora"],
    ] {
        let o = run(fd(home.path()).args(&sub).arg("--help"));
        assert!(o.status.success(), "{sub:?}");
        let (out, _) = text(&o);
        assert!(
            out.contains("Example"),
            "{sub:?} --help has an example:\n{out}"
        );
    }
    let o = run(fd(home.path()).arg("--version"));
    assert!(text(&o).0.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn config_init_writes_a_template_that_parses_back() {
    let home = tempfile::tempdir().unwrap();
    let o = run(fd(home.path()).args(["config", "init"]));
    assert!(o.status.success(), "{:?}", text(&o));
    let path = home.path().join("config/flightdeck/config.toml");
    let written = std::fs::read_to_string(&path).expect("template written to XDG_CONFIG_HOME");
    let cfg = flightdeck::config::Config::parse(&written, "written").expect("parses back");
    assert_eq!(cfg.github.unwrap().repos, vec!["acme/checkout", "acme/web"]);
    assert!(written.contains("# "), "commented");
    // check accepts it; a second init refuses to overwrite.
    assert!(
        run(fd(home.path()).args(["config", "check"]))
            .status
            .success()
    );
    let again = run(fd(home.path()).args(["config", "init"]));
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again).1.contains("--force"));
    assert!(
        run(fd(home.path()).args(["config", "init", "--force"]))
            .status
            .success()
    );
    let o = run(fd(home.path()).args(["config", "path"]));
    assert_eq!(text(&o).0.trim(), path.display().to_string());
}

/// `flightdeck config check` of a config of `services` (beside a Prometheus on loopback) written
/// to a file in `home`: what it printed (it must succeed).
fn config_check(home: &tempfile::TempDir, services: &str) -> String {
    let file = home.path().join("fd.toml");
    std::fs::write(
        &file,
        format!("[prometheus]\nurl = \"http://127.0.0.1:9\"\n{services}"),
    )
    .unwrap();
    let o = run(fd(home.path())
        .arg("--config")
        .arg(&file)
        .args(["config", "check"]));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    out
}

#[test]
fn config_check_says_which_ratios_are_counted_from_their_query() {
    let home = tempfile::tempdir().unwrap();
    let metric = |name: &str, extra: &str| {
        format!(
            "[service.metrics.{name}]\ncanary = 'sum(rate(http_requests_total{{track=\"canary\",code=~\"5..\"}}[1m])) / sum(rate(http_requests_total{{track=\"canary\"}}[1m]))'\nmax = 0.005\n{extra}"
        )
    };
    let out = config_check(
        &home,
        &format!(
            "[[service]]\nname = \"checkout\"\nslices = [10, 50, 100]\nweight = 'w'\n{}{}",
            metric("error_rate", ""),
            metric("kept", "kind = \"samples\"\n")
        ),
    );
    assert!(
        out.contains("service checkout: error_rate is judged on its counts"),
        "{out}"
    );
    assert!(!out.contains("kept is judged"), "{out}");
}

#[test]
fn config_check_says_a_quantile_without_the_services_traffic_cannot_be_gated() {
    let home = tempfile::tempdir().unwrap();
    let service = |name: &str, traffic: &str| {
        format!(
            "[[service]]\nname = \"{name}\"\nslices = [10, 50, 100]\nweight = 'w'\n{traffic}[service.metrics.p99_ms]\ncanary = 'histogram_quantile(0.99, sum by (le) (rate(d_bucket{{track=\"canary\"}}[1m]))) * 1000'\nmax = 300\n"
        )
    };
    let out = config_check(
        &home,
        &format!(
            "{}{}",
            service("quiet", ""),
            service(
                "counted",
                "traffic = 'sum(rate(r{track=\"canary\"}[1m]))'\n"
            )
        ),
    );
    assert!(
        out.contains("service quiet: p99_ms is a quantile (0.99); without the service's traffic the judge cannot tell when a window holds too few requests for one (fewer than 200 at full traffic)"),
        "{out}"
    );
    assert!(
        !out.contains("service counted: p99_ms is a quantile"),
        "{out}"
    );
}

#[test]
fn unknown_key_exits_2_naming_file_and_key() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("bad.toml");
    std::fs::write(
        &file,
        "refresh_secs = 5\n[github]\nrepos = [\"a/b\"]\ntokn_command = \"x\"\n",
    )
    .unwrap();
    for args in [vec!["config", "check"], vec![], vec!["doctor"]] {
        let o = run(fd(home.path()).arg("--config").arg(&file).args(&args));
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let (_, err) = text(&o);
        assert!(err.contains("bad.toml"), "names the file: {err}");
        assert!(err.contains("tokn_command"), "names the key: {err}");
        assert!(err.contains("expected"), "says what is expected: {err}");
    }
    // FLIGHTDECK_CONFIG works the same way.
    let o = run(fd(home.path())
        .env("FLIGHTDECK_CONFIG", &file)
        .args(["config", "check"]));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_values_keymap_conflicts_and_themes_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let cases = [
        ("refresh_secs = 0\n", "refresh_secs"),
        ("[keys]\nrefresh = \"j\"\n", "key conflict"),
        ("[keys]\nfly = \"f\"\n", "keys.fly"),
        ("theme = \"neon\"\n", "unknown theme"),
        (
            "[[service]]\nname = \"a\"\nslices = [50, 10]\n",
            "service[0].slices",
        ),
    ];
    for (i, (body, needle)) in cases.iter().enumerate() {
        let file = home.path().join(format!("c{i}.toml"));
        std::fs::write(&file, body).unwrap();
        let o = run(fd(home.path())
            .arg("--config")
            .arg(&file)
            .args(["config", "check"]));
        assert_eq!(o.status.code(), Some(2), "{body}");
        assert!(text(&o).1.contains(needle), "{body}: {}", text(&o).1);
    }
    let missing =
        run(fd(home.path()).args(["--config", "/nonexistent/fd.toml", "config", "check"]));
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn user_theme_may_set_only_some_roles() {
    let home = tempfile::tempdir().unwrap();
    let themes = home.path().join("config/flightdeck/themes");
    std::fs::create_dir_all(&themes).unwrap();
    std::fs::write(
        themes.join("ops.toml"),
        "base = \"light\"\ndanger = \"#ff0000\"\n",
    )
    .unwrap();
    let file = home.path().join("c.toml");
    write_private(&file, "theme = \"ops\"\n");
    let o = run(fd(home.path())
        .arg("--config")
        .arg(&file)
        .args(["config", "check"]));
    assert!(o.status.success(), "{:?}", text(&o));
    std::fs::write(themes.join("ops.toml"), "danger = \"ultraviolet\"\n").unwrap();
    let o = run(fd(home.path())
        .arg("--config")
        .arg(&file)
        .args(["config", "check"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("ops.toml"), "{:?}", text(&o));
    // The theme file is to blame, not the config that selected it.
    assert!(!text(&o).1.contains("c.toml"), "{:?}", text(&o));
}

#[test]
fn theme_errors_blame_the_right_thing() {
    let home = tempfile::tempdir().unwrap();
    let themes = home.path().join("config/flightdeck/themes");
    std::fs::create_dir_all(&themes).unwrap();
    std::fs::write(themes.join("ops.toml"), "danger = \"#ff0000\"\n").unwrap();
    std::fs::write(themes.join("broken.toml"), "danger = \"ultraviolet\"\n").unwrap();
    let file = home.path().join("c.toml");
    let check = |body: &str, extra: &[&str]| {
        write_private(&file, body);
        run(fd(home.path())
            .arg("--config")
            .arg(&file)
            .args(extra)
            .args(["config", "check"]))
    };

    // A broken theme that is not selected: a warning naming its file; the rest goes on.
    let o = check("theme = \"ops\"\n", &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains(": ok"), "{out}");
    assert!(
        err.contains("warning") && err.contains("broken.toml"),
        "{err}"
    );
    assert!(err.contains("ultraviolet"), "says what is wrong: {err}");
    assert!(!err.contains("c.toml"), "{err}");

    // Selected: an error naming the theme file, not the config.
    let o = check("theme = \"broken\"\n", &[]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("broken.toml"), "{err}");
    assert!(!err.contains("c.toml"), "{err}");

    // An unknown --theme: the flag is to blame, and the choices are listed.
    let o = check("", &["--theme", "nope"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--theme") && err.contains("\"nope\""), "{err}");
    assert!(
        err.contains("default, light, high-contrast, mono, ops"),
        "{err}"
    );
    assert!(!err.contains("c.toml"), "{err}");

    // A path to something that is not a theme: where and what, never its content.
    let secret = home.path().join("passwd");
    std::fs::write(&secret, "root:x:0:0:hunter2:/root:/bin/bash\n").unwrap();
    let o = check(&format!("theme = \"{}\"\n", secret.display()), &[]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&secret.display().to_string()), "{err}");
    assert!(err.contains("line 1, column "), "{err}");
    assert!(!err.contains("hunter2") && !err.contains("root:x"), "{err}");
}

#[test]
fn doctor_checks_each_source_of_the_demo_world() {
    let home = tempfile::tempdir().unwrap();
    let mut world = DemoWorld::start(home.path());
    let file = world.config.clone();
    let o = run(fd(home.path()).arg("--config").arg(&file).arg("doctor"));
    let (out, err) = text(&o);
    assert!(o.status.success(), "doctor: {out}\n{err}");
    for s in ["GitHub", "Prometheus", "Sentry", "AI", "audit", "log"] {
        assert!(out.contains(s), "doctor mentions {s}:\n{out}");
    }
    assert!(out.contains("flightdeck/demo/audit.jsonl"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(out.contains("service queries asked"), "{out}");
    assert!(!out.contains("no series"), "{out}");

    // Each service's queries are asked: one Prometheus refuses fails the check, one that answers
    // no series is said.
    let text_of = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text_of.lines().map(str::to_string).collect();
    let errors = lines
        .iter()
        .position(|l| l.starts_with("errors = "))
        .expect("an errors query");
    lines[errors] =
        "errors = 'sum(rate(http_requests_total{app=\"nosuch\",code=~\"5..\"}[1m]))'".to_string();
    let requests = lines
        .iter()
        .position(|l| l.starts_with("requests = "))
        .expect("a requests query");
    lines[requests] = "requests = 'sum(rate(http_requests_total[1m]'".to_string();
    let broken = home.path().join("broken.toml");
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let o = run(fd(home.path()).arg("--config").arg(&broken).arg("doctor"));
    world.stop();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("FAIL") && l.contains("error_rate.requests")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("error_rate.errors: no series now")),
        "{out}"
    );

    // The same config after the world is gone: every source fails, exit 1, no hang.
    let o = run(fd(home.path()).arg("--config").arg(&file).arg("doctor"));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).0.contains("FAIL"));
}

/// `flightdeck demo --serve` in the background; killed when dropped, so a failed assertion does not
/// leave the world running.
struct DemoWorld {
    child: std::process::Child,
    config: std::path::PathBuf,
}

impl DemoWorld {
    /// Start a paused world (`--speed 0`) and save the config it prints into `home/demo.toml`.
    fn start(home: &Path) -> DemoWorld {
        DemoWorld::start_at(home, 0)
    }

    /// The same, paused `secs` scenario seconds into the story (at 100 s checkout's canary is broken).
    fn start_at(home: &Path, secs: u32) -> DemoWorld {
        let mut child = fd(home)
            .args(["demo", "--serve", "--speed", "0", "--start-at"])
            .arg(secs.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // A reader thread, so that a world that prints nothing cannot hang the test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut world = DemoWorld {
            child,
            config: home.join("demo.toml"),
        };
        // The world prints its config in one go and flushes: the config is complete once it has
        // started and no line followed for a moment.
        let deadline = Instant::now() + Duration::from_secs(20);
        let quiet = Duration::from_millis(500);
        let mut config = String::new();
        let mut in_config = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(quiet)) {
                Ok(line) => {
                    if line.starts_with("# flightdeck demo world") {
                        in_config = true;
                    }
                    if in_config {
                        config.push_str(&line);
                        config.push('\n');
                    }
                }
                Err(RecvTimeoutError::Timeout) if in_config => break,
                Err(RecvTimeoutError::Timeout) if !left.is_zero() => {}
                Err(e) => panic!("demo --serve printed no config ({e:?}):\n{config}"),
            }
        }
        if let Err(e) = flightdeck::config::Config::parse(&config, "demo --serve") {
            panic!("demo --serve printed a config that does not parse: {e}\n{config}");
        }
        std::fs::write(&world.config, &config).unwrap();
        assert!(world.child.try_wait().unwrap().is_none(), "world exited");
        world
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DemoWorld {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Run with a deadline: the process is killed and the test fails if it is not done in time. Its
/// output is drained while it runs, so a large answer cannot block it on a full pipe.
fn run_within(c: &mut Command, limit: Duration) -> Output {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flightdeck");
    fn drain(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    }
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for flightdeck") {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for flightdeck");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert!(
        !timed_out,
        "flightdeck did not finish within {limit:?}: {:?}",
        text(&o)
    );
    o
}

fn status_json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("status --json prints JSON ({e}): {:?}", text(o)))
}

#[test]
fn status_polls_every_source_of_the_demo_world_then_fails_without_it() {
    let home = tempfile::tempdir().unwrap();
    let mut world = DemoWorld::start(home.path());
    let limit = Duration::from_secs(120);
    let o = run_within(
        fd(home.path())
            .arg("--config")
            .arg(&world.config)
            .args(["status", "--json"]),
        limit,
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let doc = status_json(&o);
    for source in ["github", "prometheus", "sentry"] {
        assert_eq!(doc["sources"][source]["ok"], true, "{source}: {doc:#}");
        assert!(doc["sources"][source]["error"].is_null(), "{source}");
    }
    let prs = doc["prs"].as_array().expect("prs");
    assert_eq!(prs.len(), 8, "{prs:#?}");
    for pr in prs {
        let n = &pr["number"];
        let checks = pr["checks"].as_object().expect("checks rolled up");
        for k in ["failed", "pending", "passed", "skipped"] {
            assert!(checks[k].is_u64(), "#{n} checks.{k}");
        }
        assert!(
            ["approved", "changes", "commented", "required"]
                .contains(&pr["review_decision"].as_str().unwrap_or("")),
            "#{n} review_decision {}",
            pr["review_decision"]
        );
        assert!(
            pr["mergeable_state"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "#{n} mergeable_state {}",
            pr["mergeable_state"]
        );
    }
    let runs = doc["runs"].as_array().expect("runs");
    assert!(!runs.is_empty());
    // The builtin analyzer's summaries: what needs a human, each with its detail and next step.
    let summaries = doc["summaries"].as_array().expect("summaries");
    for kind in ["rollout", "run", "incident"] {
        let s = summaries
            .iter()
            .find(|s| s["kind"] == kind)
            .unwrap_or_else(|| panic!("a {kind} summary: {summaries:#?}"));
        assert_eq!(s["analyzer"], "builtin");
        let detail = s["detail"].as_array().expect("detail lines");
        assert!(
            detail
                .iter()
                .any(|l| l.as_str().is_some_and(|l| l.starts_with("Next:"))),
            "{kind}: {s:#}"
        );
    }
    let pending = doc["pending_deployments"].as_array().expect("pending");
    assert_eq!(pending.len(), 1, "{pending:#?}");
    let p = &pending[0];
    assert_eq!(p["environment"], "production");
    assert_eq!(p["current_user_can_approve"], true);
    assert!(
        runs.iter()
            .any(|r| r["id"] == p["run_id"] && r["status"] == "waiting"),
        "the run waiting for {p} is among the runs"
    );
    let services: Vec<&str> = doc["rollouts"]
        .as_array()
        .expect("rollouts")
        .iter()
        .filter_map(|r| r["service"].as_str())
        .collect();
    assert_eq!(services, ["checkout", "web"]);
    assert!(
        !doc["incidents"].as_array().expect("incidents").is_empty(),
        "{doc:#}"
    );

    // The human summary, same world.
    let o = run_within(
        fd(home.path())
            .arg("--config")
            .arg(&world.config)
            .arg("status"),
        limit,
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let (out, _) = text(&o);
    assert!(out.contains("8 open PRs,"), "{out}");
    assert!(out.contains(" 1 pending deployment,"), "{out}");
    assert!(!out.contains("FAILED"), "{out}");

    // The same config after the world is gone: exit 3, every source failed, still JSON.
    world.stop();
    let o = run_within(
        fd(home.path())
            .arg("--config")
            .arg(&world.config)
            .args(["status", "--json"]),
        limit,
    );
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    let doc = status_json(&o);
    let sources = doc["sources"].as_object().expect("sources");
    assert_eq!(
        sources.keys().map(String::as_str).collect::<Vec<_>>(),
        ["github", "prometheus", "sentry"]
    );
    for (name, s) in sources {
        assert_eq!(s["ok"], false, "{name}");
        assert!(
            s["error"].as_str().is_some_and(|e| !e.trim().is_empty()),
            "{name}: {s}"
        );
    }
    for list in [
        "prs",
        "runs",
        "pending_deployments",
        "rollouts",
        "incidents",
    ] {
        assert_eq!(doc[list], serde_json::json!([]), "{list}");
    }

    let o = run_within(
        fd(home.path())
            .arg("--config")
            .arg(&world.config)
            .arg("status"),
        limit,
    );
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    let (out, _) = text(&o);
    for name in ["github", "prometheus", "sentry"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(name) && l.contains("FAILED")),
            "{name} FAILED:\n{out}"
        );
    }
    assert!(out.contains("0 open PRs"), "{out}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&out).is_err(),
        "human text, not JSON"
    );
}

#[test]
fn audit_prints_the_recorded_changes() {
    use flightdeck::ops::audit::{AuditEntry, AuditLog, Outcome, Phase};

    let home = tempfile::tempdir().unwrap();
    let o = run(fd(home.path()).arg("audit"));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(
        text(&o).0.contains("No remote changes recorded yet"),
        "{:?}",
        text(&o)
    );

    let path = home.path().join("state/flightdeck/audit.jsonl");
    let log = AuditLog::new(&path);
    let intent = AuditEntry {
        at: "2026-11-23T09:01:02Z".into(),
        id: "cli-test-1".into(),
        phase: Phase::Intent,
        action: "approve-deployment".into(),
        who: "mara-k".into(),
        target: serde_json::json!({
            "repo": "acme/checkout", "run_id": 9200000103u64, "environment": "production",
            "sha": "576b77aa94b197f12be6f8777837c8869006d4d6",
        }),
        comment: Some("ship it".into()),
        outcome: None,
    };
    let mut outcome = intent.outcome(true, "HTTP 200: deployment approved");
    outcome.at = "2026-11-23T09:01:03Z".into();
    assert_eq!(
        outcome.outcome,
        Some(Outcome {
            ok: true,
            detail: "HTTP 200: deployment approved".into()
        })
    );
    log.append(&intent).unwrap();
    log.append(&outcome).unwrap();

    let o = run(fd(home.path()).arg("audit"));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let (out, err) = text(&o);
    assert!(err.is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in &lines {
        assert!(line.contains("approve-deployment"), "{line}");
        assert!(line.contains("acme/checkout"), "{line}");
        assert!(line.contains("production"), "{line}");
        assert!(line.contains("mara-k"), "{line}");
    }
    assert!(lines[0].contains("intent") && lines[0].contains("\"ship it\""));
    assert!(lines[1].contains("outcome"), "{}", lines[1]);
    assert!(
        lines[1].contains("ok  HTTP 200: deployment approved"),
        "{}",
        lines[1]
    );

    let o = run(fd(home.path()).args(["audit", "--json"]));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let (out, _) = text(&o);
    let parsed: Vec<AuditEntry> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(parsed, [intent.clone(), outcome.clone()]);

    // `--demo` reads the demo's own log, apart from the real one: empty here.
    let o = run(fd(home.path()).args(["audit", "--demo"]));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let (out, _) = text(&o);
    assert!(out.contains("No remote changes recorded yet"), "{out}");
    assert!(out.contains("flightdeck/demo/audit.jsonl"), "{out}");
    AuditLog::new(home.path().join("state/flightdeck/demo/audit.jsonl"))
        .append(&intent)
        .unwrap();
    let o = run(fd(home.path()).args(["audit", "--demo", "--json"]));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(text(&o).0.lines().count(), 1, "{:?}", text(&o));

    // A torn third line: reported on stderr with its number, the good lines still print.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, b"{\"at\": \"2026-11-23T09:0").unwrap();
    drop(file);
    for json in [false, true] {
        let mut c = fd(home.path());
        c.arg("audit");
        if json {
            c.arg("--json");
        }
        let o = run(&mut c);
        assert_eq!(o.status.code(), Some(0), "json={json}: {:?}", text(&o));
        let (out, err) = text(&o);
        assert_eq!(out.lines().count(), 2, "json={json}: {out}");
        assert!(err.contains("line 3"), "json={json}: {err}");
        assert!(err.contains("audit.jsonl"), "json={json}: {err}");
        if json {
            for l in out.lines() {
                serde_json::from_str::<AuditEntry>(l).unwrap();
            }
        }
    }
}

#[test]
fn status_and_audit_help_have_examples() {
    let home = tempfile::tempdir().unwrap();
    for sub in ["status", "audit"] {
        let o = run(fd(home.path()).args([sub, "--help"]));
        assert!(o.status.success(), "{sub}");
        let (out, _) = text(&o);
        assert!(
            out.contains("Example"),
            "{sub} --help has an example:\n{out}"
        );
        assert!(out.contains("--json"), "{sub} --help names --json:\n{out}");
    }
}

/// Run with stdout a pipe whose read end is already closed: every write gets EPIPE.
fn run_into_closed_pipe(c: &mut Command) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let child = c
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flightdeck");
    child.wait_with_output().expect("wait for flightdeck")
}

#[test]
fn a_closed_stdout_pipe_ends_every_command_quietly() {
    use flightdeck::ops::audit::{AuditEntry, AuditLog, Phase};

    let home = tempfile::tempdir().unwrap();
    let log = AuditLog::new(home.path().join("state/flightdeck/audit.jsonl"));
    for i in 0..50 {
        log.append(&AuditEntry {
            at: "2026-11-23T09:01:02Z".into(),
            id: format!("pipe-{i}"),
            phase: Phase::Intent,
            action: "approve-deployment".into(),
            who: "mara-k".into(),
            target: serde_json::json!({ "repo": "acme/checkout", "environment": "production" }),
            comment: None,
            outcome: None,
        })
        .unwrap();
    }
    // No sources: nothing touches the network.
    let file = home.path().join("empty.toml");
    write_private(&file, "refresh_secs = 5\n");
    let cases: [&[&str]; 8] = [
        &["config", "init", "--stdout"],
        &["config", "path"],
        &["audit"],
        &["audit", "--json"],
        &["status", "--json"],
        &["status"],
        &["doctor"],
        &["judge", "--service", "checkout", "--json"],
    ];
    for args in cases {
        let o = run_into_closed_pipe(fd(home.path()).arg("--config").arg(&file).args(args));
        let (_, err) = text(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
        assert!(err.trim().is_empty(), "{args:?} is quiet on stderr: {err}");
        assert_ne!(o.status.code(), Some(101), "{args:?}: {err}");
        // Each command keeps the exit code it would have had with a reader.
        let expected = if args[0] == "judge" { 3 } else { 0 };
        assert_eq!(o.status.code(), Some(expected), "{args:?}: {err}");
    }
}

#[test]
fn status_shows_each_services_verdict_rollback_first() {
    let home = tempfile::tempdir().unwrap();
    let world = DemoWorld::start_at(home.path(), 100);
    let o = run_within(
        fd(home.path())
            .arg("--config")
            .arg(&world.config)
            .arg("status"),
        Duration::from_secs(120),
    );
    drop(world);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let (out, _) = text(&o);
    let verdicts: Vec<&str> = out
        .lines()
        .filter(|l| {
            ["ROLLBACK", "HOLD", "PROCEED"]
                .iter()
                .any(|v| l.starts_with(v))
        })
        .collect();
    assert_eq!(verdicts.len(), 2, "one line per service:\n{out}");
    assert!(
        verdicts[0].starts_with("ROLLBACK") && verdicts[0].contains("checkout in production"),
        "the rollback comes first:\n{out}"
    );
    assert!(
        verdicts[0].contains("error_rate"),
        "with its reason:\n{out}"
    );
    assert!(verdicts[1].contains("web in "), "{out}");
}

#[test]
fn config_check_of_a_missing_file_fails_naming_it() {
    let home = tempfile::tempdir().unwrap();
    // The default path, the --config flag and FLIGHTDECK_CONFIG.
    let default = home.path().join("config/flightdeck/config.toml");
    let flag = home.path().join("flag.toml");
    let env = home.path().join("env.toml");
    let cases = [
        (fd(home.path()).args(["config", "check"]).output(), &default),
        (
            fd(home.path())
                .arg("--config")
                .arg(&flag)
                .args(["config", "check"])
                .output(),
            &flag,
        ),
        (
            fd(home.path())
                .env("FLIGHTDECK_CONFIG", &env)
                .args(["config", "check"])
                .output(),
            &env,
        ),
    ];
    for (o, path) in cases {
        let o = o.expect("run flightdeck");
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{path:?}: {out}{err}");
        assert!(!out.contains("ok"), "{out}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("does not exist"), "{err}");
    }
}

#[test]
fn the_cockpit_and_the_demo_refuse_a_bad_keys_table_before_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let clash = home.path().join("clash.toml");
    write_private(&clash, "[keys]\nrefresh = \"j\"\n");
    let not_a_key = home.path().join("number.toml");
    write_private(&not_a_key, "[keys]\nquit = 5\n");
    let missing = home.path().join("missing.toml");
    let cases = [
        (&clash, "key conflict"),
        (&not_a_key, "quit"),
        (&missing, "does not exist"),
    ];
    for (file, needle) in cases {
        for args in [&[][..], &["demo"][..], &["demo", "--speed", "4"][..]] {
            let o = run_within(
                fd(home.path()).arg("--config").arg(file).args(args),
                Duration::from_secs(30),
            );
            let (_, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{file:?} {args:?}: {err}");
            assert!(err.contains(needle), "{file:?} {args:?}: {err}");
            assert!(
                err.contains(&file.display().to_string()),
                "names the file: {err}"
            );
            // Refused before the terminal was tried (no tty here: that would be another error).
            assert!(
                err.starts_with("flightdeck: config error:") && !err.contains("Location"),
                "{file:?} {args:?}: {err}"
            );
        }
    }
    // The same from the default config path.
    let default = home.path().join("config/flightdeck/config.toml");
    std::fs::create_dir_all(default.parent().unwrap()).unwrap();
    write_private(&default, "[keys]\nquit = 5\n");
    let o = run_within(fd(home.path()).arg("demo"), Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_state_dir_is_private() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/flightdeck");
    let o = run(fd(home.path()).arg("audit"));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(mode(&state), 0o700, "a new state dir");
    // One an older flightdeck created 0755 is narrowed.
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    run(fd(home.path()).args(["config", "path"]));
    assert_eq!(mode(&state), 0o700, "an existing state dir");
}

#[test]
fn a_config_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    // `config init` writes it private.
    let o = run(fd(home.path()).args(["config", "init"]));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let written = home.path().join("config/flightdeck/config.toml");
    assert_eq!(mode(&written), 0o600);
    // The template is a config as the README recommends it: `config check` has nothing to say of
    // it (no quantile left without its service's traffic).
    let o = run(fd(home.path()).args(["config", "check"]));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out} {err}");
    assert_eq!(
        out.trim(),
        format!("{}: ok", written.display()),
        "{out} {err}"
    );

    let file = home.path().join("c.toml");
    std::fs::write(&file, "refresh_secs = 5\n").unwrap();
    for (m, warned) in [(0o644, true), (0o640, true), (0o600, false), (0o400, false)] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(m)).unwrap();
        for args in [&["config", "check"][..], &["status"][..]] {
            let o = run(fd(home.path()).arg("--config").arg(&file).args(args));
            assert_eq!(o.status.code(), Some(0), "{m:o} {args:?}: {:?}", text(&o));
            let (_, err) = text(&o);
            assert_eq!(
                err.contains("chmod 600") && err.contains(&file.display().to_string()),
                warned,
                "{m:o} {args:?}: {err}"
            );
        }
    }
}

#[test]
fn draft_test_prints_writes_maps_and_opens_the_pr() {
    let home = tempfile::tempdir().unwrap();
    let world = DemoWorld::start_at(home.path(), 180);
    let limit = Duration::from_secs(120);
    let draft = |args: &[&str]| {
        run_within(
            fd(home.path())
                .arg("--config")
                .arg(&world.config)
                .arg("draft-test")
                .args(args),
            limit,
        )
    };

    // `status --json`: the newest incidents carry their suspected change; a second run asks
    // nothing again for them.
    let status = || {
        run_within(
            fd(home.path())
                .arg("--config")
                .arg(&world.config)
                .args(["status", "--json"]),
            limit,
        )
    };
    for _ in 0..2 {
        let o = status();
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        let doc = status_json(&o);
        let incidents = doc["incidents"].as_array().unwrap();
        let c4 = incidents
            .iter()
            .find(|i| i["short_id"] == "CHECKOUT-4C")
            .expect("CHECKOUT-4C");
        assert_eq!(c4["suspected_change"][0]["pr"], 416, "{c4:#}");
        assert!(
            c4["suspected_change"][0]["evidence"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "{c4:#}"
        );
        let looked_up = incidents
            .iter()
            .filter(|i| !i["suspected_change"].is_null())
            .count();
        assert!(looked_up <= 3, "{looked_up}");
    }

    // Printed: the path, what was found, the test.
    let o = draft(&["CHECKOUT-4C"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("# CHECKOUT-4C → acme/checkout worker/tests/"),
        "{stdout}"
    );
    assert!(stdout.contains("# suspected change: PR #416"), "{stdout}");
    assert!(stdout.contains("xfail(strict=True"), "{stdout}");

    // JSON for scripts.
    let o = draft(&["checkout-4c", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["repo"], "acme/checkout");
    assert_eq!(doc["reproduces"], true);
    assert_eq!(doc["suspects"][0]["pr"], 416, "{doc:#}");
    assert!(doc["sent"].is_null());
    let path = doc["path"].as_str().unwrap().to_string();

    // Written into a local checkout.
    let checkout = home.path().join("checkout");
    let o = draft(&["CHECKOUT-4C", "--write", checkout.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let written = std::fs::read_to_string(checkout.join(&path)).unwrap();
    assert_eq!(written, doc["contents"].as_str().unwrap());

    // A crash frame that maps nowhere: exit 2, naming the path it tried.
    let o = draft(&["CHECKOUT-2A"]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("checkout/gateway.js"), "{:?}", text(&o));
    // An incident that is not there: exit 3.
    let o = draft(&["NOPE-1"]);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));

    // --pr without --yes reads the answer from stdin: none (closed) is No.
    let o = draft(&["CHECKOUT-4C", "--pr"]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(text(&o).1.contains("not sent"), "{:?}", text(&o));
    // Read-only refuses.
    let o = run_within(
        fd(home.path()).arg("--config").arg(&world.config).args([
            "--readonly",
            "draft-test",
            "CHECKOUT-4C",
            "--pr",
            "--yes",
        ]),
        limit,
    );
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    // --pr --yes opens it, audited.
    let o = draft(&["CHECKOUT-4C", "--pr", "--yes"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("draft PR #"), "{stdout}");
    let audit = std::fs::read_to_string(home.path().join("state/flightdeck/audit.jsonl")).unwrap();
    // Intent and outcome; the refused read-only run wrote nothing.
    assert_eq!(
        audit.matches("\"regression-test-pr\"").count(),
        2,
        "{audit}"
    );
    // A second run finds what exists and changes nothing.
    let o = draft(&["CHECKOUT-4C", "--pr", "--yes"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("already holds this test"), "{stdout}");
    assert!(stdout.contains("PR #423 exists"), "{stdout}");
}

#[test]
fn approve_asks_the_judge_refuses_without_override_and_sends_with_it() {
    let home = tempfile::tempdir().unwrap();
    // At 100 s the judge says ROLLBACK for checkout, whose production deployment waits.
    let world = DemoWorld::start_at(home.path(), 100);
    let limit = Duration::from_secs(120);
    let o = run_within(
        fd(home.path())
            .arg("--config")
            .arg(&world.config)
            .args(["status", "--json"]),
        limit,
    );
    let doc = status_json(&o);
    let held = &doc["pending_deployments"][0];
    assert_eq!(held["repo"], "acme/checkout", "{doc:#}");
    let run_id = held["run_id"].as_u64().unwrap().to_string();
    let approve = |args: &[&str]| {
        run_within(
            fd(home.path())
                .arg("--config")
                .arg(&world.config)
                .args(["approve", "acme/checkout", &run_id])
                .args(args),
            limit,
        )
    };
    let audit = home.path().join("state/flightdeck/audit.jsonl");

    // Against the judge: refused, naming the service and its verdict.
    let o = approve(&["--yes"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        err.contains("ROLLBACK") && err.contains("checkout") && err.contains("--override"),
        "{err}"
    );
    assert!(out.starts_with("ROLLBACK    checkout: "), "{out}");
    // Not confirmed: standard input is not a terminal and there is no --yes.
    let o = approve(&["--override"]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(text(&o).1.contains("not confirmed"), "{:?}", text(&o));
    // Read-only refuses.
    let o = run_within(
        fd(home.path())
            .arg("--config")
            .arg(&world.config)
            .args(["--readonly", "approve", "acme/checkout", &run_id])
            .args(["--override", "--yes"]),
        limit,
    );
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(text(&o).1.contains("read-only"), "{:?}", text(&o));
    assert!(!audit.exists(), "nothing was sent, nothing audited");

    // --override --yes: sent, the override audited.
    let o = approve(&["--override", "--yes", "--json"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["sent"]["ok"], true, "{doc:#}");
    assert!(doc["override"].as_str().unwrap().contains("ROLLBACK"));
    let log = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "intent and outcome: {log}");
    assert_eq!(lines[0]["action"], "approve-deployment");
    assert!(
        lines[0]["target"]["override"]
            .as_str()
            .is_some_and(|w| w.contains("checkout")),
        "{log}"
    );
    assert_eq!(lines[1]["outcome"]["ok"], true, "{log}");
    // The demo world took the review: the deployment waits no more.
    let o = run_within(
        fd(home.path())
            .arg("--config")
            .arg(&world.config)
            .args(["status", "--json"]),
        limit,
    );
    let doc = status_json(&o);
    assert_eq!(
        doc["pending_deployments"].as_array().map(Vec::len),
        Some(0),
        "{doc:#}"
    );
    drop(world);
}

#[test]
fn approve_help_has_examples() {
    let home = tempfile::tempdir().unwrap();
    let o = run(fd(home.path()).args(["approve", "--help"]));
    assert!(o.status.success());
    let (out, _) = text(&o);
    for s in [
        "Examples:",
        "--override",
        "--yes",
        "--reject",
        "--comment",
        "--json",
    ] {
        assert!(out.contains(s), "approve --help mentions {s}:\n{out}");
    }
    let o = run(fd(home.path()).arg("--help"));
    assert!(text(&o).0.contains("approve"), "{:?}", text(&o));
}

/// `explain` gives one subject of each kind as the AI tab would, from the sources themselves.
#[test]
fn explain_each_kind_of_subject_in_the_demo_world() {
    let home = tempfile::tempdir().unwrap();
    let mut world = DemoWorld::start_at(home.path(), 100);
    let limit = Duration::from_secs(120);
    let explain = |args: &[&str]| {
        run_within(
            fd(home.path())
                .arg("--config")
                .arg(&world.config)
                .arg("explain")
                .args(args),
            limit,
        )
    };
    // A failed run: why, against its job's last green log on main.
    let o = explain(&["run:9200000104"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let out = text(&o).0;
    assert!(
        out.starts_with("run acme/checkout #1284 (builtin)"),
        "{out}"
    );
    assert!(out.contains("Category: test failure"), "{out}");
    assert!(out.contains("on main (#1287)"), "{out}");
    assert!(out.contains("New against the last green log"), "{out}");
    // A PR: its risk from its files, and the tests to run.
    let o = explain(&["pr:acme/checkout#415", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let doc: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(doc["kind"], "PR");
    assert!(
        doc["headline"].as_str().unwrap().contains(" risk ("),
        "{doc:#}"
    );
    assert!(
        !doc["detail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("not read yet")),
        "the files were read: {doc:#}"
    );
    // A rollout: the verdict in prose, with its next action.
    let o = explain(&["rollout:checkout"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let out = text(&o).0;
    assert!(out.contains("Promotion confidence"), "{out}");
    assert!(out.contains("Next: "), "{out}");
    // With --llm the demo's OpenAI-compatible endpoint answers too; a second ask is cached.
    let o = explain(&["rollout:checkout", "--llm", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let doc: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(doc["llm"]["model"], "sim-analyst", "{doc:#}");
    assert_eq!(doc["llm"]["cached"], false, "{doc:#}");
    assert!(
        doc["llm"]["headline"]
            .as_str()
            .is_some_and(|h| h.starts_with("Canary rollout:")),
        "{doc:#}"
    );
    let o = explain(&["rollout:checkout", "--llm", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(doc["llm"]["cached"], true, "{doc:#}");
    // An incident.
    let o = explain(&["incident:CHECKOUT-3F"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(
        text(&o).0.starts_with("incident checkout CHECKOUT-3F"),
        "{:?}",
        text(&o)
    );
    // Unknown and malformed subjects: exit 2, said on stderr.
    for bad in [
        &["incident:NOPE-1"][..],
        &["rollout:nosuch"][..],
        &["run:1"][..],
        &["prs:acme/checkout#1"][..],
    ] {
        let o = explain(bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {:?}", text(&o));
        assert!(!text(&o).1.is_empty(), "{bad:?} says why");
    }
    world.stop();
}
