//! The command line: help with examples, config init/check, exit codes, doctor.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
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
    std::fs::write(&file, "theme = \"ops\"\n").unwrap();
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
}

#[test]
fn doctor_checks_each_source_of_the_demo_world() {
    let home = tempfile::tempdir().unwrap();
    let mut serve = fd(home.path())
        .args(["demo", "--serve", "--speed", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let mut config = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut in_config = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("# flightdeck demo world") {
            in_config = true;
        }
        if in_config {
            config.push_str(&line);
            config.push('\n');
            if line.starts_with("max = 500") && config.matches("max = 500").count() == 2 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "demo --serve printed no config");
    }
    let file = home.path().join("demo.toml");
    std::fs::write(&file, &config).unwrap();
    let o = run(fd(home.path()).arg("--config").arg(&file).arg("doctor"));
    let _ = serve.kill();
    let _ = serve.wait();
    let (out, err) = text(&o);
    assert!(o.status.success(), "doctor: {out}\n{err}");
    for s in ["GitHub", "Prometheus", "Sentry", "AI", "audit", "log"] {
        assert!(out.contains(s), "doctor mentions {s}:\n{out}");
    }
    assert!(!out.contains("FAIL"), "{out}");

    // The same config after the world is gone: every source fails, exit 1, no hang.
    let o = run(fd(home.path()).arg("--config").arg(&file).arg("doctor"));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).0.contains("FAIL"));
}
