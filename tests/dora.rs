//! `flightdeck dora` against the demo world: acme/checkout's production deployments of the last
//! 30 days (2.13.1, rolled back to 2.11.0 three and a half hours later; 2.13.2; the failed 2.13.3;
//! the held 2.14.0), the PRs merged since (#408 and #410 shipped with 2.13.2; #414, #416 and #417
//! not deployed yet) and checkout's Sentry issues.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use flightdeck::config::Config;
use flightdeck::sim::{SimOptions, SimWorld};
use flightdeck::sources::github::GitHub;
use flightdeck::sources::http::Http;

/// The demo world at the start of its story, its payload times anchored at the wall clock (the
/// binary reads the clock), and its config written where only its owner can read it.
async fn world(home: &Path) -> (SimWorld, std::path::PathBuf) {
    let world = flightdeck::sim::start(SimOptions {
        speed: 0.0,
        start_at_secs: 0.0,
        anchor_now: true,
        ..SimOptions::default()
    })
    .await
    .expect("demo world");
    let path = home.join("demo.toml");
    std::fs::write(&path, world.config_toml()).expect("write config");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    (world, path)
}

fn fd(home: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .arg("--config")
        .arg(config)
        .arg("dora")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run flightdeck")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn close(a: f64, b: f64, within: f64) -> bool {
    (a - b).abs() <= within
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_four_metrics_of_the_demo_worlds_production() {
    let home = tempfile::tempdir().unwrap();
    let (_world, config) = world(home.path()).await;

    let o = fd(home.path(), &config, &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("dora --json prints JSON ({e}): {:?}", text(&o)));
    assert_eq!(doc["environment"], "production");
    assert_eq!(doc["window"]["days"], 30.0);
    assert_eq!(doc["window"]["buckets"], 5);
    assert!(doc["requests"]["github"].as_u64().unwrap() >= 3, "{doc}");
    assert!(doc["requests"]["sentry"].as_u64().unwrap() >= 1, "{doc}");
    assert_eq!(doc["errors"], serde_json::json!([]));
    let value = |m: &str| doc[m]["value"].as_f64();
    let band = |m: &str| doc[m]["band"].as_str().unwrap_or("");
    let counted = |m: &str| doc[m]["counted"].as_array().cloned().unwrap_or_default();
    let notes = |m: &str| doc[m]["notes"].to_string();

    // 2.13.1 and 2.13.2 shipped; the rollback, the failed 2.13.3 and the held 2.14.0 do not count.
    let df = value("deployment_frequency").expect("a deployment frequency");
    assert!(close(df, 2.0 / 30.0, 1e-9), "{df}");
    assert_eq!(band("deployment_frequency"), "Medium");
    assert_eq!(counted("deployment_frequency").len(), 2);
    assert!(notes("deployment_frequency").contains("1 rollback deployment not counted"));
    assert!(notes("deployment_frequency").contains("1 failed deployment not counted"));

    // #408 (opened 15.5 days before, 5.57 days to 2.13.2's end) and #410 (3.07 days): median 4.3 d.
    let lt = value("lead_time").expect("a lead time");
    assert!(close(lt, 103.74, 0.1), "{lt}");
    assert_eq!(band("lead_time"), "High");
    let ids: Vec<String> = counted("lead_time")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ids, vec!["acme/checkout#408", "acme/checkout#410"]);
    assert!(
        notes("lead_time").contains("#417"),
        "{}",
        notes("lead_time")
    );
    assert!(notes("lead_time").contains("from the PR's opening"));

    // 2.13.1 rolled back and 2.13.3 failed, of three.
    let cfr = value("change_failure_rate").expect("a change failure rate");
    assert!(close(cfr, 2.0 / 3.0, 1e-9), "{cfr}");
    assert_eq!(band("change_failure_rate"), "Low");
    let details: Vec<String> = counted("change_failure_rate")
        .iter()
        .map(|c| c["detail"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(details[0].starts_with("rolled back by"), "{details:?}");
    assert_eq!(details[1..], ["ok", "failed"]);

    // 2.13.1's end to the rollback's: 3.9 h. CHECKOUT-2A and 2.13.3 are not restored yet.
    let ttr = value("time_to_restore").expect("a time to restore");
    assert!(close(ttr, 3.9, 0.01), "{ttr}");
    assert_eq!(band("time_to_restore"), "High");
    assert!(notes("time_to_restore").contains("CHECKOUT-2A"));
    assert!(
        doc["time_to_restore"]["how"]
            .as_str()
            .unwrap_or("")
            .contains("lastSeen")
    );
    for m in [
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "time_to_restore",
    ] {
        assert_eq!(doc[m]["trend"].as_array().map(Vec::len), Some(5), "{m}");
    }

    // The same for people: each metric with its band, trend, how and count; the requests.
    let o = fd(home.path(), &config, &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let (out, _) = text(&o);
    for line in [
        "Deployment frequency",
        "Lead time for changes",
        "Change failure rate",
        "Time to restore",
        "0.5 a week (2 in 30 days)",
        "median 4.3 d",
        "66.7 % (2 of 3 deployments)",
        "median 3.9 h",
        "medium",
        "high",
        "low",
        "how: Successful deployments",
        "counted 2 deployments",
        "counted 2 changes: acme/checkout#408, acme/checkout#410",
        "counted 1 failure",
        "no deployments to production in the window: acme/web",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert!(
        out.lines().any(|l| l.contains('[') && l.contains('█')),
        "a sparkline:\n{out}"
    );
    let requests = out
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>();
    assert!(
        matches!(
            requests.as_slice(),
            [n, "requests", "to", "GitHub,", m, "to", "Sentry"]
                if n.parse::<u64>().is_ok() && m.parse::<u64>().is_ok()
        ),
        "{requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_window_another_environment_failed_reads_and_bad_windows() {
    let home = tempfile::tempdir().unwrap();
    let (world, config) = world(home.path()).await;

    // The last 7 days of production: only the failed 2.13.3 (and the held deploy) — a rate of
    // zero, not "no data"; daily buckets.
    let o = fd(home.path(), &config, &["--window", "7d", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["window"]["buckets"], 7);
    assert_eq!(doc["deployment_frequency"]["value"], 0.0);
    assert_eq!(doc["change_failure_rate"]["value"], 1.0);
    assert_eq!(doc["lead_time"]["value"], serde_json::Value::Null);
    assert_eq!(doc["lead_time"]["band"], serde_json::Value::Null);

    // acme/web's staging: 2026.11.16 and (a week later) the Deploy run's, in progress at t = 0.
    let o = fd(home.path(), &config, &["--env", "staging", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["environment"], "staging");
    assert_eq!(
        doc["deployment_frequency"]["counted"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Nothing answers: the reads fail, the metrics say they have no data, exit 3.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let nowhere = home.path().join("nowhere.toml");
    let dead = format!("http://127.0.0.1:{closed}");
    let body = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&world.github_url, &dead)
        .replace(&world.sentry_url, &dead);
    std::fs::write(&nowhere, body).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&nowhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let o = fd(home.path(), &nowhere, &[]);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    let (out, _) = text(&o);
    assert!(out.contains("FAILED: acme/checkout: deployments"), "{out}");
    assert!(out.contains("FAILED: Sentry checkout"), "{out}");
    assert!(out.contains("no deployments in the window"), "{out}");

    for bad in ["2w", "0d", "400d", "soon"] {
        let o = fd(home.path(), &config, &["--window", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {:?}", text(&o));
        assert!(text(&o).1.contains("--window"), "{bad}: {:?}", text(&o));
    }
}

#[tokio::test]
async fn merged_pulls_stop_at_the_window_and_skip_other_branches() {
    // Anchored like the other tests' worlds (one anchor per process): t = 0 is about now.
    let world = flightdeck::sim::start(SimOptions {
        speed: 0.0,
        anchor_now: true,
        ..SimOptions::default()
    })
    .await
    .expect("demo world");
    let config = Config::parse(&world.config_toml(), "demo").unwrap();
    let http = Http::new(Duration::from_secs(10)).unwrap();
    let gh = GitHub::new(http, config.github.as_ref().unwrap(), None);
    let t0 = time::OffsetDateTime::now_utc();
    let since = t0 - time::Duration::days(13);
    let m = gh
        .merged_pulls("acme/checkout", since, Some("main"))
        .await
        .unwrap();
    let mut numbers: Vec<u64> = m.changes.iter().map(|c| c.number).collect();
    numbers.sort();
    // #408 was merged 14 days before: outside.
    assert_eq!(numbers, vec![410, 414, 416, 417]);
    assert!(m.changes.iter().all(|c| c.merge_sha.is_some()));
    assert_eq!(m.other_branch, 0);
    let m = gh
        .merged_pulls("acme/checkout", since, Some("release"))
        .await
        .unwrap();
    assert!(m.changes.is_empty());
    assert_eq!(m.other_branch, 4);
    // One page of closed PRs.
    assert_eq!(gh.requests(), 2);

    let d = gh
        .dora_deployments("acme/checkout", "production", t0 - time::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(d.branch.as_deref(), Some("main"));
    let rollbacks: Vec<&str> = d
        .deployments
        .iter()
        .filter(|x| x.is_rollback)
        .map(|x| x.sha.as_str())
        .collect();
    assert_eq!(rollbacks.len(), 1);
    // 2.11.0 (41 days before) is read for its sha only.
    assert_eq!(d.deployments.len(), 5);
}
