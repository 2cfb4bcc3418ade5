//! The on-disk store: round trips, damaged and foreign files, permissions, atomic writes, one file
//! per source and config without tokens, the saver's cadence, the cockpit's start from a store, and
//! `status --json` reusing the ETags of the run before.

mod common;

use common::*;
use flightdeck::app::{Msg, SourceEvent, update};
use flightdeck::config::Config;
use flightdeck::domain::*;
use flightdeck::store::{Saver, Store, VERSION};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;

const CONFIG: &str = r#"
[github]
api_url = "https://ghe.example.com/api/v3"
repos = ["acme/checkout", "acme/web"]

[prometheus]
url = "https://prom.example.com"

[sentry]
org = "acme"
projects = ["checkout"]

[[service]]
name = "checkout"
[service.metrics.error_rate]
canary = "x"
max = 0.005
"#;

fn config(text: &str) -> Config {
    Config::parse(text, "test").unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Files in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Prometheus data with the floats JSON has no words for.
fn prometheus_with_nan() -> SourceData {
    let SourceData::Prometheus(mut r) = prometheus_data() else {
        unreachable!()
    };
    r[0].metrics[0].canary_samples[1] = f64::NAN;
    r[0].metrics[0].baseline = Some(f64::INFINITY);
    r[0].traffic = Some(f64::NAN);
    SourceData::Prometheus(r)
}

#[test]
fn every_source_round_trips_with_its_memo() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path(), &config(CONFIG));
    let at = NOW - time::Duration::minutes(4);
    let memo = serde_json::json!({ "etags": { "/repos/acme/web/actions/runs": "\"abc\"" } });
    store
        .save(SourceId::GitHub, at, &github_data(), Some(&memo))
        .unwrap();
    store
        .save(SourceId::Prometheus, at, &prometheus_with_nan(), None)
        .unwrap();
    store
        .save(SourceId::Sentry, at, &sentry_data(), None)
        .unwrap();

    let loaded = store.load();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let got: Vec<SourceId> = loaded.entries.iter().map(|(id, _)| *id).collect();
    assert_eq!(got, SourceId::ALL);
    for (id, e) in &loaded.entries {
        assert_eq!(e.fetched_at, at, "{id:?}");
        match id {
            SourceId::GitHub => {
                assert_eq!(e.data, github_data());
                assert_eq!(e.memo.as_ref(), Some(&memo));
            }
            // NaN is not equal to itself: compare what Debug prints ("NaN" both sides).
            SourceId::Prometheus => {
                assert_eq!(
                    format!("{:?}", e.data),
                    format!("{:?}", prometheus_with_nan())
                );
                assert_eq!(e.memo, None);
            }
            SourceId::Sentry => assert_eq!(e.data, sentry_data()),
        }
    }
    let text = std::fs::read_to_string(store.path(SourceId::Prometheus).unwrap()).unwrap();
    assert!(
        text.starts_with(&format!(
            "{{\"version\":{VERSION},\"source\":\"prometheus\""
        )),
        "{}",
        &text[..80]
    );
    assert!(text.contains("\"NaN\"") && text.contains("\"+Inf\""));
}

#[test]
fn a_damaged_file_is_ignored_with_a_warning_and_replaced_by_the_next_save() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path(), &config(CONFIG));
    store
        .save(SourceId::Sentry, NOW, &sentry_data(), None)
        .unwrap();
    let gh = store.path(SourceId::GitHub).unwrap();
    for damage in [
        &b"{\"version\":1,\"source\":\"github\",\"data\":{\"Git"[..],
        b"\xff\x00",
        b"",
    ] {
        std::fs::write(&gh, damage).unwrap();
        let loaded = store.load();
        assert_eq!(loaded.entries.len(), 1, "the other sources still load");
        assert_eq!(loaded.entries[0].0, SourceId::Sentry);
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        let w = &loaded.warnings[0];
        assert!(
            w.starts_with(&format!("cache at {} was unreadable (", gh.display()))
                && w.ends_with("); starting cold"),
            "{w}"
        );
    }
    store
        .save(SourceId::GitHub, NOW, &github_data(), None)
        .unwrap();
    let loaded = store.load();
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.entries.len(), 2);
}

#[test]
fn a_file_of_another_version_is_ignored_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path(), &config(CONFIG));
    store
        .save(SourceId::GitHub, NOW, &github_data(), None)
        .unwrap();
    let path = store.path(SourceId::GitHub).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let ours = format!("{{\"version\":{VERSION},");
    // The same data under another number, and another shape under another number.
    for other in [
        text.replacen(&ours, "{\"version\":99,", 1),
        "{\"version\":2,\"source\":\"github\",\"rows\":[1,2,3]}".to_string(),
    ] {
        std::fs::write(&path, other).unwrap();
        let loaded = store.load();
        assert!(loaded.entries.is_empty());
        assert_eq!(loaded.warnings.len(), 1);
        let w = &loaded.warnings[0];
        assert!(
            w.contains("was unreadable (written by another version of flightdeck: store version")
                && w.contains(&format!("this one reads {VERSION})"))
                && w.ends_with("starting cold"),
            "{w}"
        );
    }
}

#[test]
fn the_directory_and_files_are_private() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cache/flightdeck");
    let store = Store::new(&dir, &config(CONFIG));
    store
        .save(SourceId::GitHub, NOW, &github_data(), None)
        .unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&store.path(SourceId::GitHub).unwrap()), 0o600);
    // A directory someone opened up is narrowed again.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    store
        .save(SourceId::Sentry, NOW, &sentry_data(), None)
        .unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&store.path(SourceId::Sentry).unwrap()), 0o600);
}

#[test]
fn writes_are_atomic_and_leave_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path(), &config(CONFIG));
    let saver = Saver::new(store.clone(), Duration::ZERO);
    for i in 0..5u64 {
        store
            .save(SourceId::GitHub, NOW, &github_data(), None)
            .unwrap();
        saver.polled(
            SourceId::Sentry,
            &SourceData::Sentry(vec![incident("web", i + 1, "x")]),
            || None,
        );
    }
    assert_eq!(
        files(dir.path()),
        vec![
            store
                .path(SourceId::GitHub)
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            store
                .path(SourceId::Sentry)
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        ]
    );
    // A write that fails (the target is a directory) leaves nothing behind either.
    let blocked = dir.path().join("blocked.json");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("x"), "").unwrap();
    assert!(flightdeck::store::write_atomic(&blocked, b"{}").is_err());
    assert!(
        !files(dir.path()).iter().any(|f| f.ends_with(".tmp")),
        "{:?}",
        files(dir.path())
    );
}

#[test]
fn each_config_has_its_own_files_named_without_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::new(dir.path(), &config(CONFIG));
    let b = Store::new(
        dir.path(),
        &config(&CONFIG.replace("\"acme/web\"", "\"acme/api\"")),
    );
    let c = Store::new(
        dir.path(),
        &config(&CONFIG.replace("prom.example.com", "prom2.example.com")),
    );
    assert_ne!(a.path(SourceId::GitHub), b.path(SourceId::GitHub));
    assert_eq!(
        a.path(SourceId::Prometheus),
        b.path(SourceId::Prometheus),
        "GitHub's repositories are not Prometheus's business"
    );
    assert_ne!(a.path(SourceId::Prometheus), c.path(SourceId::Prometheus));
    // The order of the repositories and a trailing slash do not matter; a password in a URL is
    // not part of the name.
    let same = Store::new(
        dir.path(),
        &config(
            &CONFIG
                .replace(
                    "[\"acme/checkout\", \"acme/web\"]",
                    "[\"acme/web\", \"acme/checkout\"]",
                )
                .replace(
                    "https://prom.example.com",
                    "https://scraper:hunter2@prom.example.com/",
                ),
        ),
    );
    assert_eq!(a, same);
    let name = a
        .path(SourceId::GitHub)
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("github-") && name.ends_with(".json") && name.len() == 28,
        "{name}"
    );
    // An unconfigured source has no file.
    let only_github = Store::new(
        dir.path(),
        &config("[github]\nrepos = [\"acme/checkout\"]\n"),
    );
    assert_eq!(only_github.path(SourceId::Sentry), None);
    assert!(only_github.load().entries.is_empty());
}

#[tokio::test]
async fn a_polled_github_client_leaves_no_token_in_the_store() {
    let (world, mut config, http) = demo_world(0.0).await;
    let secret = "ghp_storetest0123456789abcdefSECRET";
    config.github.as_mut().unwrap().anonymous = false;
    let gh = config.github.clone().unwrap();
    let mut client = flightdeck::sources::github::GitHub::new(
        http,
        &gh,
        Some(flightdeck::config::Secret::new(secret)),
    );
    let data = client.poll().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path(), &config);
    store
        .save(SourceId::GitHub, NOW, &data, client.memo().as_ref())
        .unwrap();
    let text = std::fs::read_to_string(store.path(SourceId::GitHub).unwrap()).unwrap();
    assert!(text.contains("acme/checkout"), "the data is there");
    assert!(
        !text.contains(secret) && !text.contains("SECRET"),
        "no token"
    );
    world.shutdown();
}

#[test]
fn the_saver_writes_what_changed_when_due_and_the_rest_at_quit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path(), &config(CONFIG));
    let path = store.path(SourceId::Sentry).unwrap();
    let read = || std::fs::read_to_string(&path).unwrap();
    let one = SourceData::Sentry(vec![incident("web", 1, "one")]);
    let two = SourceData::Sentry(vec![incident("web", 2, "two")]);

    // Always due: written on a change (data or memo), not on a repeat.
    let saver = Saver::new(store.clone(), Duration::ZERO);
    saver.polled(SourceId::Sentry, &one, || None);
    let first = read();
    assert!(first.contains("\"one\""));
    std::thread::sleep(Duration::from_millis(1100));
    saver.polled(SourceId::Sentry, &one, || None);
    assert_eq!(read(), first, "the same data is not written again");
    saver.polled(SourceId::Sentry, &one, || {
        Some(serde_json::json!({"etag": "x"}))
    });
    assert!(read().contains("\"etag\""), "a new memo is written");

    // Due once an hour: the first poll is written, the next waits for quit.
    std::fs::remove_file(&path).unwrap();
    let saver = Saver::new(store.clone(), Duration::from_secs(3600));
    saver.polled(SourceId::Sentry, &one, || {
        Some(serde_json::json!({"etag": "1"}))
    });
    assert!(read().contains("\"one\""));
    assert!(!saver.pending(SourceId::Sentry));
    let mut asked = false;
    saver.polled(SourceId::Sentry, &two, || {
        asked = true;
        None
    });
    assert!(!asked, "the memo is not built when nothing is written");
    assert!(read().contains("\"one\""), "not due yet");
    assert!(saver.pending(SourceId::Sentry));
    let at = OffsetDateTime::now_utc();
    saver.flush(SourceId::Sentry, at, &two).unwrap();
    assert!(!saver.pending(SourceId::Sentry));
    let loaded = store.load();
    let entry = &loaded.entries[0].1;
    assert_eq!(entry.data, two);
    assert_eq!(entry.fetched_at.unix_timestamp(), at.unix_timestamp());
    assert_eq!(
        entry.memo,
        Some(serde_json::json!({"etag": "1"})),
        "with the memo of the last write"
    );
    // Nothing pending: flushing again writes nothing.
    std::fs::remove_file(&path).unwrap();
    saver.flush(SourceId::Sentry, at, &two).unwrap();
    assert!(!path.exists());
}

fn restored(source: SourceId, data: SourceData, fetched_at: OffsetDateTime) -> Msg {
    Msg::Source(SourceEvent::Restored {
        source,
        data,
        fetched_at,
    })
}

#[test]
fn the_cockpit_starts_with_the_stores_rows_marked_stale() {
    let mut state = new_state(120, 30);
    state.now = NOW;
    let four_min_ago = NOW - time::Duration::minutes(4);
    update(
        &mut state,
        restored(SourceId::GitHub, github_data(), four_min_ago),
    );
    update(
        &mut state,
        restored(
            SourceId::Sentry,
            sentry_data(),
            NOW - time::Duration::seconds(30),
        ),
    );
    let screen = screen_text(&draw(&state)).join("\n");
    assert!(
        screen.contains("Add retry to payment capture"),
        "the cached PRs are on screen:\n{screen}"
    );
    assert!(screen.contains("GitHub stale 4m (cached)"), "{screen}");
    assert!(screen.contains("Sentry stale 30s (cached)"), "{screen}");
    assert!(state.stale(SourceId::Sentry), "young, but from the cache");
    assert_eq!(state.freshness(SourceId::Prometheus), "Prometheus …");

    // The first poll replaces the marker.
    load(&mut state, SourceId::GitHub, github_data());
    assert_eq!(state.freshness(SourceId::GitHub), "GitHub ✓");
    // A store read slower than the first poll does not put old data back.
    update(
        &mut state,
        restored(
            SourceId::GitHub,
            SourceData::GitHub {
                prs: Vec::new(),
                runs: Vec::new(),
                rate: None,
                graphql_rate: None,
                failed: Vec::new(),
                slowed: None,
            },
            four_min_ago,
        ),
    );
    assert_eq!(state.prs.items.len(), 4);
    assert_eq!(state.freshness(SourceId::GitHub), "GitHub ✓");

    // A first poll that failed keeps its error beside the cached data.
    fail(&mut state, SourceId::Prometheus, "connection refused");
    update(
        &mut state,
        restored(SourceId::Prometheus, prometheus_data(), four_min_ago),
    );
    assert_eq!(
        state.freshness(SourceId::Prometheus),
        "Prometheus stale 4m (cached): connection refused"
    );
    assert!(!state.rollouts.items.is_empty());
}

#[test]
fn the_autopilot_never_acts_on_cached_data() {
    let mut state = new_state(120, 30);
    state.autopilot = true;
    // checkout's canary breaches its error rate: ROLLBACK.
    let breaking = SourceData::Prometheus(vec![rollout("checkout", true, 25.0, 0.05)]);
    update(
        &mut state,
        restored(
            SourceId::Prometheus,
            breaking.clone(),
            NOW - time::Duration::minutes(4),
        ),
    );
    assert_eq!(
        state.judgement("checkout").map(|j| j.verdict.label()),
        Some("ROLLBACK"),
        "the cached verdict is shown"
    );
    // A live GitHub poll runs the autopilot: still nothing on the cached verdict.
    load(&mut state, SourceId::GitHub, github_data());
    assert!(state.autopilot_log.is_empty(), "{:?}", state.autopilot_log);
    // A live reading with the same breach: now it acts.
    load(&mut state, SourceId::Prometheus, breaking);
    assert!(
        state
            .autopilot_log
            .iter()
            .any(|(_, n)| n.contains("rolls back checkout")),
        "{:?}",
        state.autopilot_log
    );
}

/// `status --json` twice against the demo world: the second run finds the first run's ETags in
/// the store and GitHub answers 304 (no primary rate-limit point) to everything it asked before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_status_json_costs_github_nearly_nothing() {
    let (world, _, _) = demo_world(0.0).await;
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("demo.toml");
    std::fs::write(&file, world.config_toml()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = || {
        let home = home.path().to_path_buf();
        let file = file.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_STATE_HOME", home.join("state"))
                .env("XDG_CACHE_HOME", home.join("cache"))
                .arg("--config")
                .arg(&file)
                .args(["status", "--json"])
                .output()
                .unwrap()
        })
    };
    let first = run().await.unwrap();
    assert!(first.status.success(), "{first:?}");
    assert_eq!(
        files(&home.path().join("cache/flightdeck")).len(),
        4,
        "a file per source and the suspected changes"
    );
    let (before, graphql_before) = (world.requests(), world.graphql_requests().len());
    let second = run().await.unwrap();
    assert!(second.status.success(), "{second:?}");
    let doc: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(doc["prs"].as_array().map(Vec::len), Some(8), "{doc}");
    let after = world.requests();
    let graphql = (world.graphql_requests().len() - graphql_before) as u64;
    let not_modified = after.github_not_modified - before.github_not_modified;
    let rest = after.github - before.github - graphql - not_modified;
    assert_eq!(
        rest, 0,
        "REST requests that were not 304s: {before:?} → {after:?}"
    );
    // One probe of every repository's PRs, about a point.
    assert_eq!(graphql, 1, "GraphQL requests");
    world.shutdown();
}

/// The second run of `status --json` reads the store and the first run's warnings are not
/// repeated; `--no-cache` neither reads nor writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_saves_the_store_and_no_cache_leaves_it_alone() {
    let (world, _, _) = demo_world(0.0).await;
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("demo.toml");
    std::fs::write(&file, world.config_toml()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cache = home.path().join("cache/flightdeck");
    let run = |extra: &'static [&'static str]| {
        let home = home.path().to_path_buf();
        let file = file.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_STATE_HOME", home.join("state"))
                .env("XDG_CACHE_HOME", home.join("cache"))
                .arg("--config")
                .arg(&file)
                .args(extra)
                .args(["status", "--json"])
                .output()
                .unwrap()
        })
    };
    let o = run(&["--no-cache"]).await.unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(!cache.exists(), "--no-cache writes nothing");
    let o = run(&[]).await.unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(files(&cache).len(), 4, "{:?}", files(&cache));
    assert!(
        files(&cache)
            .iter()
            .any(|f| f.starts_with("sentry-") && f.ends_with(".suspects.json")),
        "{:?}",
        files(&cache)
    );
    assert_eq!(mode(&cache), 0o700);
    // A damaged file: a note, and the next save replaces it.
    let github = cache.join(
        files(&cache)
            .into_iter()
            .find(|f| f.starts_with("github-"))
            .unwrap(),
    );
    std::fs::write(&github, "{not json").unwrap();
    let o = run(&[]).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("was unreadable") && notes.contains("starting cold"),
        "{notes}"
    );
    assert!(
        Store::new(
            &cache,
            &Config::parse(&world.config_toml(), "demo").unwrap()
        )
        .load()
        .warnings
        .is_empty()
    );
    world.shutdown();
}

#[test]
fn a_failed_write_is_tried_again() {
    let root = tempfile::tempdir().unwrap();
    // The cache directory's place is taken by a file: every write fails.
    let dir = root.path().join("flightdeck");
    std::fs::write(&dir, "").unwrap();
    let store = Store::new(&dir, &config(CONFIG));
    let saver = Saver::new(store.clone(), Duration::ZERO);
    let data = SourceData::Sentry(vec![incident("web", 1, "one")]);
    saver.polled(SourceId::Sentry, &data, || None);
    assert!(saver.pending(SourceId::Sentry), "still to be written");
    // The place is free again: the same data is written on the next poll.
    std::fs::remove_file(&dir).unwrap();
    saver.polled(SourceId::Sentry, &data, || None);
    assert!(!saver.pending(SourceId::Sentry));
    assert_eq!(store.load().entries.len(), 1);
}
