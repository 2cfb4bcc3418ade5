//! End-to-end: the real binary in a real pseudo-terminal, against the embedded demo world.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Session {
    output: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _home: tempfile::TempDir,
    cols: u16,
    rows: u16,
}

impl Session {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Session {
        let (cols, rows) = (120u16, 32u16);
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let home = tempfile::tempdir().unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_flightdeck"));
        cmd.args(args);
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_STATE_HOME", home.path().join("state"));
        cmd.env("XDG_CACHE_HOME", home.path().join("cache"));
        cmd.env("TERM", "xterm-256color");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn flightdeck");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
                }
            }
        });
        Session {
            output,
            writer,
            child,
            _home: home,
            cols,
            rows,
        }
    }

    fn bytes(&self) -> usize {
        self.output.lock().unwrap().len()
    }

    fn screen(&self) -> vt100::Parser {
        let nz = |n: u16| std::num::NonZeroU16::new(n).expect("non-zero size");
        let mut p = vt100::Parser::new(nz(self.rows), nz(self.cols), 0);
        p.process(&self.output.lock().unwrap());
        p
    }

    fn text(&self) -> String {
        self.screen().screen().contents()
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let t = self.text();
            if pred(&t) {
                return t;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{t}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // Let the reader thread drain the last bytes.
                std::thread::sleep(Duration::from_millis(200));
                return st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("flightdeck did not exit; screen:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn all_sources_fresh(t: &str) -> bool {
    t.contains("GitHub ✓") && t.contains("Prometheus ✓") && t.contains("Sentry ✓")
}

#[test]
fn demo_tabs_filter_help_idle_and_restore() {
    // The scenario clock is paused (--speed 0) so that the world does not change while we measure idle.
    let mut s = Session::start(&["demo", "--speed", "0"], &[]);
    let first = s.wait_for("the first frame with demo data", |t| {
        t.contains("1 PRs") && t.contains("acme/checkout") && all_sources_fresh(t)
    });
    for tab in ["2 Runs", "3 Rollouts", "4 Incidents", "5 AI"] {
        assert!(first.contains(tab), "tab bar shows {tab}:\n{first}");
    }
    assert!(
        first.contains("Retry payment capture"),
        "a PR title from the demo world:\n{first}"
    );

    s.send("2");
    s.wait_for("the runs tab", |t| {
        t.contains("Runs (") && t.contains("waiting")
    });
    s.send("3");
    s.wait_for("the rollouts tab", |t| {
        t.contains("Rollouts (") && t.contains("checkout") && t.contains("error_rate")
    });
    s.send("4");
    s.wait_for("the incidents tab", |t| {
        t.contains("Incidents (") && t.contains("CHECKOUT-")
    });
    s.send("5");
    s.wait_for("the AI tab", |t| {
        t.contains("AI (") && t.contains("builtin")
    });

    // Idle: on a tab whose content has no clock-driven labels, nothing may be written for 3 s.
    s.send("3");
    s.wait_for("the rollouts tab again", |t| {
        t.contains("Rollouts (") && all_sources_fresh(t)
    });
    std::thread::sleep(Duration::from_millis(500));
    let before = s.bytes();
    std::thread::sleep(Duration::from_secs(3));
    let written = s.bytes() - before;
    assert_eq!(written, 0, "idle for 3 s wrote {written} bytes");

    s.send("1");
    s.send("/");
    for c in "colour".chars() {
        s.send(&c.to_string());
    }
    let filtered = s.wait_for("the filter to apply", |t| {
        t.contains("/colour") && t.contains("of 8)")
    });
    assert!(filtered.contains("colour bleed"), "{filtered}");
    assert!(
        !filtered.contains("bump axios"),
        "filtered out:\n{filtered}"
    );
    s.send("\r");
    s.send("?");
    s.wait_for("the help overlay", |t| {
        t.contains("Help") && t.contains("next-tab")
    });
    s.send("\x1b");
    s.wait_for("help to close", |t| !t.contains("next-tab"));

    s.send("q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    let p = s.screen();
    assert!(!p.screen().alternate_screen(), "left the alternate screen");
    assert!(!p.screen().hide_cursor(), "cursor visible again");
}

/// SGR parameters that set a colour: 30–37, 38, 40–47, 48, 90–97, 100–107.
fn colour_sgr(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = Vec::new();
    let mut rest = &text[..];
    while let Some(i) = rest.find("\x1b[") {
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('m') {
            let params = &rest[..end];
            for p in params.split(';') {
                let n: u32 = p.parse().unwrap_or(0);
                let colour = matches!(n, 30..=37 | 40..=47 | 90..=97 | 100..=107);
                if colour || n == 38 || n == 48 {
                    found.push(params.to_string());
                    break;
                }
            }
        }
        rest = &rest[end..];
    }
    found
}

#[test]
fn no_color_and_other_terminals() {
    let mut s = Session::start(&["demo", "--speed", "0"], &[("NO_COLOR", "1")]);
    s.wait_for("the first frame", |t| {
        t.contains("acme/checkout") && all_sources_fresh(t)
    });
    s.send("3");
    s.wait_for("rollouts", |t| t.contains("error_rate"));
    s.send("q");
    assert!(s.wait_exit().success());
    let colours = colour_sgr(&s.output.lock().unwrap());
    assert!(
        colours.is_empty(),
        "NO_COLOR output set colours: {colours:?}"
    );

    for term in ["tmux-256color", "screen"] {
        let mut s = Session::start(&["demo", "--speed", "0"], &[("TERM", term)]);
        s.wait_for(term, |t| {
            t.contains("acme/checkout") && all_sources_fresh(t)
        });
        s.send("q");
        assert!(s.wait_exit().success(), "{term}");
        let p = s.screen();
        assert!(
            !p.screen().alternate_screen() && !p.screen().hide_cursor(),
            "{term} restored"
        );
    }
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let mut s = Session::start(&["demo", "--speed", "0"], &[]);
        s.wait_for("the first frame", |t| t.contains("acme/checkout"));
        let pid = s.child.process_id().expect("pid");
        let ok = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let status = s.wait_exit();
        assert_eq!(status.exit_code(), code, "SIG{sig}: exit 128 + the signal");
        let p = s.screen();
        assert!(
            !p.screen().alternate_screen(),
            "SIG{sig}: left the alternate screen"
        );
        assert!(!p.screen().hide_cursor(), "SIG{sig}: cursor visible");
    }
}

#[test]
fn demo_approves_a_held_deployment_with_a_keystroke() {
    let mut s = Session::start(&["demo", "--speed", "0"], &[]);
    s.wait_for("the first frame", |t| {
        t.contains("acme/checkout") && all_sources_fresh(t)
    });
    s.send("2");
    s.wait_for("the held deployment", |t| t.contains("waiting: production"));
    // Put the held run on the selected row with the filter, then approve it.
    s.send("/");
    for c in "production".chars() {
        s.send(&c.to_string());
    }
    s.send("\r");
    s.wait_for("the filter", |t| t.contains("/production"));
    s.send("a");
    let modal = s.wait_for("the confirmation", |t| {
        t.contains("Approve deployment to production")
    });
    assert!(
        modal.contains("acme/checkout") && modal.contains("Deploy"),
        "{modal}"
    );
    assert!(modal.contains("[ No ]"), "{modal}");
    // The comment has the focus: tab to No, tab to Yes.
    s.send("\t");
    s.send("\t");
    s.send("\r");
    s.wait_for("GitHub's answer", |t| t.contains("done (HTTP 200"));
    // The run leaves `waiting` once GitHub has it.
    s.send("r");
    s.wait_for("the run to move on", |t| !t.contains("waiting: production"));
    s.send("q");
    assert!(s.wait_exit().success());
    // The demo keeps its own audit log: the simulated world's approvals and verdicts never join
    // the operator's real one.
    let state = s._home.path().join("state/flightdeck");
    assert!(
        !state.join("audit.jsonl").exists(),
        "the demo wrote to the real audit log"
    );
    assert!(
        !state.join("flightdeck.log").exists() && state.join("demo/flightdeck.log").exists(),
        "the demo logs beside its own audit log"
    );
    let audit = std::fs::read_to_string(state.join("demo/audit.jsonl"))
        .expect("the demo's audit log was written");
    // The judge's first verdicts on live data are kept as records; the change as intent and
    // outcome.
    let (records, lines): (Vec<&str>, Vec<&str>) = audit
        .lines()
        .partition(|l| l.contains("\"phase\":\"record\""));
    assert!(
        records
            .iter()
            .any(|l| l.contains("\"service\":\"checkout\"") && l.contains("PROCEED")),
        "the judge's verdict on checkout is recorded: {audit}"
    );
    assert_eq!(lines.len(), 2, "intent and outcome: {audit}");
    assert!(lines[0].contains("\"intent\"") && lines[0].contains("approve-deployment"));
    assert!(lines[1].contains("\"outcome\"") && lines[1].contains("\"ok\":true"));
}

#[test]
fn the_first_frame_does_not_wait_for_the_network() {
    // A token command that takes 8 s, and a GitHub that does not answer: the cockpit draws at once,
    // and quits at once.
    let dir = tempfile::tempdir().unwrap();
    let done = dir.path().join("token-command-finished");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[github]\napi_url = \"http://127.0.0.1:9\"\nrepos = [\"acme/x\"]\ntoken_command = [\"sh\", \"-c\", \"sleep 8; touch {}; echo tok\"]\n",
            done.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&config).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&config, perms).unwrap();
    let mut s = Session::start(&["--config", config.to_str().unwrap()], &[]);
    s.wait_for("the first frame", |t| {
        t.contains("1 PRs") && t.contains("2 Runs")
    });
    assert!(
        !done.exists(),
        "the frame came before the token command finished"
    );
    s.send("q");
    let status = s.wait_exit();
    assert_eq!(status.exit_code(), 0);
    assert!(
        !done.exists(),
        "quitting did not wait for the token command"
    );
}

#[test]
fn with_a_store_the_first_frame_shows_the_cached_rows() {
    // A GitHub that does not answer, and a store with its PRs from 4 minutes ago.
    let dir = tempfile::tempdir().unwrap();
    let text = "[github]\napi_url = \"http://127.0.0.1:9\"\nrepos = [\"acme/checkout\"]\nanonymous = true\n";
    let config = dir.path().join("config.toml");
    std::fs::write(&config, text).unwrap();
    let mut perms = std::fs::metadata(&config).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&config, perms).unwrap();
    let cache = dir.path().join("cache");
    let store = flightdeck::store::Store::new(
        cache.join("flightdeck"),
        &flightdeck::config::Config::parse(text, "test").unwrap(),
    );
    let mut pr = flightdeck::domain::PullRequest {
        repo: "acme/checkout".into(),
        number: 7,
        title: "Cached capture retry".into(),
        author: "alice".into(),
        draft: false,
        labels: Vec::new(),
        head_ref: "retry".into(),
        base_ref: "main".into(),
        created_at: None,
        updated_at: None,
        url: "https://github.com/acme/checkout/pull/7".into(),
        body: String::new(),
        head_sha: "abc".into(),
        checks: None,
        check_list: Vec::new(),
        review: None,
        reviews: Vec::new(),
        mergeable: None,
        additions: None,
        deletions: None,
        changed_files: None,
    };
    let mut prs = vec![pr.clone()];
    pr.number = 8;
    pr.title = "Cached colour fix".into();
    prs.push(pr);
    let data = flightdeck::domain::SourceData::GitHub {
        prs: prs.into_iter().map(std::sync::Arc::new).collect(),
        runs: Vec::new(),
        rate: None,
        graphql_rate: None,
        failed: Vec::new(),
        slowed: None,
    };
    let four_min_ago = time::OffsetDateTime::now_utc() - time::Duration::minutes(4);
    store
        .save(
            flightdeck::domain::SourceId::GitHub,
            four_min_ago,
            &data,
            None,
        )
        .unwrap();

    let cache = cache.to_string_lossy().into_owned();
    let started = Instant::now();
    let mut s = Session::start(
        &["--config", config.to_str().unwrap()],
        &[("XDG_CACHE_HOME", &cache)],
    );
    // The frame streams through the pty: the rows can be read before its status bar is written
    // (CI once read a screen cut off below the table), so wait for both.
    let screen = s.wait_for("the cached rows and the status bar", |t| {
        t.contains("Cached capture retry")
            && t.contains("Cached colour fix")
            && t.contains("GitHub stale")
    });
    let took = started.elapsed();
    eprintln!("first frame with the store's rows after {took:?} (debug build)");
    assert!(screen.contains("GitHub stale 4m (cached)"), "{screen}");
    // The rows came with the first frame: no "Loading" was ever drawn before them.
    let raw = String::from_utf8_lossy(&s.output.lock().unwrap()).into_owned();
    let rows_at = raw
        .find("Cached capture retry")
        .expect("rows in the output");
    assert!(
        !raw[..rows_at].contains("Loading"),
        "a frame without the store's rows came first"
    );
    s.send("q");
    assert!(s.wait_exit().success());
}

/// The rows of the screen, for finding where something is drawn.
fn row_of(t: &str, needle: &str) -> Option<usize> {
    t.lines().position(|l| l.contains(needle))
}

#[test]
fn demo_drafts_a_regression_test_and_opens_its_draft_pr() {
    // The story's end: CHECKOUT-4C (the Python crash after checkout's deploy) is in Sentry.
    let mut s = Session::start(&["demo", "--speed", "0", "--start-at", "180"], &[]);
    s.wait_for("the first frame with demo data", |t| {
        t.contains("acme/checkout") && all_sources_fresh(t)
    });
    s.send("4");
    let list = s.wait_for("CHECKOUT-4C on the incidents tab", |t| {
        t.contains("Incidents (") && t.contains("CHECKOUT-4C")
    });
    // Select it: `g` to the top, then `j` down to its row (the list's rows follow its header).
    let header = row_of(&list, "Issue").expect("the list's header");
    let at = row_of(&list, "CHECKOUT-4C").expect("CHECKOUT-4C listed");
    assert!(at > header, "CHECKOUT-4C below the header:\n{list}");
    s.send("g");
    for _ in 0..at - header - 1 {
        s.send("j");
    }
    s.send("T");
    let editor = s.wait_for("the regression-test editor", |t| {
        t.contains("Regression test for CHECKOUT-4C")
            && t.contains("ZeroDivisionError")
            && t.contains("worker/tests/test_regression_checkout_4c.py")
    });
    assert!(editor.contains("new draft PR"), "{editor}");
    eprintln!("{editor}");
    s.send("\x13"); // ctrl-s
    let confirm = s.wait_for("the confirmation of the PR", |t| {
        t.contains("Yes, open the draft PR")
    });
    eprintln!("{confirm}");
    s.send("\x1b[C"); // Right: to Yes
    s.send("\r");
    let done = s.wait_for("the draft PR opened", |t| {
        t.contains("PR for CHECKOUT-4C in acme/checkout: done")
    });
    eprintln!("{done}");
    // A second `T` finds the PR it opened and offers to update it, never a second one.
    s.send("T");
    let again = s.wait_for("the editor of the existing PR", |t| {
        t.contains("Regression test for CHECKOUT-4C") && t.contains("PR #423")
    });
    assert!(!again.contains("new draft PR"), "{again}");
    s.send("\x1b"); // esc: closed, kept for T
    s.wait_for("the editor closed", |t| !t.contains("ctrl-s open"));
    s.send("q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
}

/// The AI tab in the demo: `p` previews the prompt (redacted, fenced), `s` asks the demo's
/// OpenAI-compatible endpoint and its streamed answer replaces the builtin headline, with the
/// model's name as the source.
#[test]
fn demo_ai_tab_previews_and_streams_an_llm_answer() {
    let mut s = Session::start(&["demo", "--speed", "0", "--start-at", "100"], &[]);
    s.wait_for("the first frame with demo data", |t| {
        t.contains("acme/checkout") && all_sources_fresh(t)
    });
    s.send("5");
    let list = s.wait_for("the AI tab", |t| {
        t.contains("AI (") && t.contains("rollout")
    });
    assert!(list.contains("builtin"), "{list}");
    s.send("g");
    s.send("p");
    let preview = s.wait_for("the prompt preview", |t| t.contains("Prompt preview"));
    assert!(preview.contains("sim-analyst"), "{preview}");
    assert!(preview.contains("<data name="), "{preview}");
    s.send("\x1b");
    s.wait_for("the preview closed", |t| !t.contains("Prompt preview"));
    s.send("s");
    let answered = s.wait_for("the model's answer", |t| {
        t.contains("sim-analyst") && t.contains("Canary rollout:")
    });
    eprintln!("{answered}");
    assert!(answered.contains("medium confidence"), "{answered}");
    s.send("q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
}
