//! A real Prometheus: the judge's PromQL path end to end.
//!
//! The test runs a tiny exporter of its own (canary and stable request counters, a latency
//! histogram, the canary weight gauge), starts Debian's `prometheus` on loopback scraping it every
//! second, checks the rate queries straight through Prometheus's HTTP API, and runs the real
//! `flightdeck judge` against it: healthy first (not ROLLBACK), then with the canary's error ratio
//! moved from 0.1 % to 5 % (ROLLBACK, exit code 2). The error ratio is judged on its counts
//! (`errors`/`requests` queries). Then replay: `judge --at` the healthy moment gives the verdict
//! that was live then, and `judge --every 2s --from … --to …` the timeline to ROLLBACK.
//!
//! Without `prometheus` on PATH the test says so and passes, except under CI=true (`.ci/run`
//! installs it). Everything is bounded; only 127.0.0.1 is used.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Requests per second of each track.
const RPS: f64 = 100.0;
const HEALTHY_RATIO: f64 = 0.001;
const BAD_RATIO: f64 = 0.05;
/// The canary's share of traffic, as the weight gauge says.
const WEIGHT: f64 = 10.0;

const CANARY_RATIO: &str = r#"sum(rate(http_requests_total{app="checkout",track="canary",code=~"5.."}[5s])) / sum(rate(http_requests_total{app="checkout",track="canary"}[5s]))"#;
const STABLE_RATIO: &str = r#"sum(rate(http_requests_total{app="checkout",track="stable",code=~"5.."}[5s])) / sum(rate(http_requests_total{app="checkout",track="stable"}[5s]))"#;
const CANARY_RPS: &str = r#"sum(rate(http_requests_total{app="checkout",track="canary"}[5s]))"#;
const CANARY_ERRORS: &str =
    r#"sum(rate(http_requests_total{app="checkout",track="canary",code=~"5.."}[5s]))"#;
const STABLE_RPS: &str = r#"sum(rate(http_requests_total{app="checkout",track="stable"}[5s]))"#;
const STABLE_ERRORS: &str =
    r#"sum(rate(http_requests_total{app="checkout",track="stable",code=~"5.."}[5s]))"#;
const CANARY_P90: &str = r#"histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{app="checkout",track="canary"}[5s])))"#;
const WEIGHT_QUERY: &str = r#"flagger_canary_weight{name="checkout"}"#;

// ---------------------------------------------------------------------------------------------
// The exporter

/// One track's counters, advanced on every scrape by its rate and error ratio.
#[derive(Debug, Clone, Copy)]
struct Track {
    rps: f64,
    error_ratio: f64,
    ok: f64,
    errors: f64,
}

impl Track {
    fn new() -> Track {
        Track {
            rps: RPS,
            error_ratio: HEALTHY_RATIO,
            ok: 0.0,
            errors: 0.0,
        }
    }

    fn advance(&mut self, secs: f64) {
        let n = self.rps * secs;
        self.errors += n * self.error_ratio;
        self.ok += n * (1.0 - self.error_ratio);
    }
}

#[derive(Debug)]
struct Tracks {
    canary: Track,
    stable: Track,
    last: Instant,
}

impl Tracks {
    fn advance(&mut self) {
        let now = Instant::now();
        let secs = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.canary.advance(secs);
        self.stable.advance(secs);
    }

    fn exposition(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP http_requests_total Requests served.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        for (name, t) in [("canary", &self.canary), ("stable", &self.stable)] {
            for (code, v) in [("200", t.ok), ("500", t.errors)] {
                out.push_str(&format!(
                    "http_requests_total{{app=\"checkout\",track=\"{name}\",code=\"{code}\"}} {v}\n"
                ));
            }
        }
        // Latency: 90 % under 0.1 s, 99 % under 0.25 s, all under 0.5 s.
        out.push_str("# HELP http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (name, t) in [("canary", &self.canary), ("stable", &self.stable)] {
            let count = t.ok + t.errors;
            for (le, share) in [("0.05", 0.5), ("0.1", 0.9), ("0.25", 0.99), ("0.5", 1.0)] {
                out.push_str(&format!(
                    "http_request_duration_seconds_bucket{{app=\"checkout\",track=\"{name}\",le=\"{le}\"}} {}\n",
                    count * share
                ));
            }
            out.push_str(&format!(
                "http_request_duration_seconds_bucket{{app=\"checkout\",track=\"{name}\",le=\"+Inf\"}} {count}\n"
            ));
            out.push_str(&format!(
                "http_request_duration_seconds_sum{{app=\"checkout\",track=\"{name}\"}} {}\n",
                count * 0.06
            ));
            out.push_str(&format!(
                "http_request_duration_seconds_count{{app=\"checkout\",track=\"{name}\"}} {count}\n"
            ));
        }
        out.push_str("# HELP flagger_canary_weight The canary's traffic weight in percent.\n");
        out.push_str("# TYPE flagger_canary_weight gauge\n");
        out.push_str(&format!(
            "flagger_canary_weight{{name=\"checkout\"}} {WEIGHT}\n"
        ));
        out
    }
}

/// The exporter thread; stops (and joins) when dropped.
struct Exporter {
    port: u16,
    tracks: Arc<Mutex<Tracks>>,
    scrapes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    fn start() -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the exporter on 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let tracks = Arc::new(Mutex::new(Tracks {
            canary: Track::new(),
            stable: Track::new(),
            last: Instant::now(),
        }));
        let scrapes = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (tracks, scrapes, stop) = (tracks.clone(), scrapes.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream, &tracks, &scrapes),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10))
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Exporter {
            port,
            tracks,
            scrapes,
            stop,
            thread: Some(thread),
        }
    }

    fn set_canary_error_ratio(&self, ratio: f64) {
        let mut t = self.tracks.lock().unwrap();
        t.advance(); // what was served so far was served at the old ratio
        t.canary.error_ratio = ratio;
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answer one HTTP request: `GET /metrics` gets the exposition, anything else 404.
fn serve(mut stream: TcpStream, tracks: &Mutex<Tracks>, scrapes: &AtomicU64) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&req);
    let (status, body) = if head.starts_with("GET /metrics ") || head.starts_with("GET /metrics?") {
        let mut t = tracks.lock().unwrap();
        t.advance();
        scrapes.fetch_add(1, Ordering::Relaxed);
        ("200 OK", t.exposition())
    } else {
        ("404 Not Found", "not found\n".to_string())
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes());
    let _ = stream.flush();
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/// The `prometheus` child; killed and reaped when dropped, also on panic.
struct PrometheusProcess {
    child: Child,
    log: PathBuf,
}

impl PrometheusProcess {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for PrometheusProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let p = dir.join(program);
            p.is_file()
                && std::fs::metadata(&p).is_ok_and(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    m.permissions().mode() & 0o111 != 0
                })
        })
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn start_prometheus(dir: &Path, exporter_port: u16) -> (PrometheusProcess, String) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: checkout\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let log = dir.join("prometheus.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("start prometheus");
    (
        PrometheusProcess { child, log },
        format!("http://127.0.0.1:{port}"),
    )
}

/// Poll `f` every `every` until it gives `Some`, or panic with `what` after `limit`.
async fn poll<T, F, Fut>(what: &str, limit: Duration, every: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: not within {} s",
            limit.as_secs()
        );
        tokio::time::sleep(every).await;
    }
}

/// An instant query; the first series' value (None when empty, NaN or failed).
async fn instant(http: &reqwest::Client, base: &str, query: &str) -> Option<f64> {
    let resp = http
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", query)])
        .send()
        .await
        .ok()?;
    let body: Value = resp.json().await.ok()?;
    if body["status"] != "success" {
        return None;
    }
    let v: f64 = body["data"]["result"][0]["value"][1]
        .as_str()?
        .parse()
        .ok()?;
    v.is_finite().then_some(v)
}

/// A range query over the last `secs` at `step` seconds; the first series' finite values.
async fn range(http: &reqwest::Client, base: &str, query: &str, secs: u64, step: u64) -> Vec<f64> {
    let end = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let (start, end, step) = (
        format!("{:.3}", end - secs as f64),
        format!("{end:.3}"),
        step.to_string(),
    );
    let Ok(resp) = http
        .get(format!("{base}/api/v1/query_range"))
        .query(&[
            ("query", query),
            ("start", &start),
            ("end", &end),
            ("step", &step),
        ])
        .send()
        .await
    else {
        return Vec::new();
    };
    let Ok(body) = resp.json::<Value>().await else {
        return Vec::new();
    };
    body["data"]["result"][0]["values"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .filter_map(|p| p[1].as_str()?.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .collect()
        })
        .unwrap_or_default()
}

fn near(v: f64, want: f64, rel: f64) -> bool {
    (v - want).abs() <= want.abs() * rel
}

// ---------------------------------------------------------------------------------------------
// flightdeck judge

/// The config the test judges with: the error ratio's counts given (`counts`), or the ratio's
/// query alone (the judge reads the counts from its numerator and denominator).
fn write_flightdeck_config(dir: &Path, prometheus: &str, counts: bool) -> PathBuf {
    let path = dir.join(if counts {
        "flightdeck.toml"
    } else {
        "flightdeck-ratio.toml"
    });
    let counts = if counts {
        format!(
            "errors = '{CANARY_ERRORS}'\nrequests = '{CANARY_RPS}'\nbaseline_errors = '{STABLE_ERRORS}'\nbaseline_requests = '{STABLE_RPS}'\n"
        )
    } else {
        String::new()
    };
    let text = format!(
        r#"# Written by tests/prometheus_real.rs: one canary judged by a real Prometheus.
[prometheus]
url = "{prometheus}"

[[service]]
name = "checkout"
environment = "production"
production = true
slices = [10, 25, 50, 100]
weight = 'flagger_canary_weight{{name="checkout"}}'
lookback_secs = 60
step_secs = 2
window_secs = 10

# A ratio judged on the counts behind it.
[service.metrics.error_rate]
canary = '{CANARY_RATIO}'
baseline = '{STABLE_RATIO}'
{counts}max = 0.005
failure_limit = 1
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// What one `flightdeck judge` run said.
#[derive(Debug)]
struct Judged {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    json: Option<Value>,
}

impl Judged {
    /// clap's answer to a subcommand it does not know (exit code 2, like ROLLBACK: never take
    /// that for a verdict).
    fn judge_missing(&self) -> bool {
        self.json.is_none()
            && (self.stderr.contains("unrecognized subcommand")
                || self.stderr.contains("unexpected argument"))
    }

    fn show(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

async fn judge(home: &Path, config: &Path) -> Judged {
    judge_with(home, config, &[]).await
}

async fn judge_with(home: &Path, config: &Path, extra: &[&str]) -> Judged {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(config)
        .args(["judge", "--service", "checkout", "--json"])
        .args(extra)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), c.output())
        .await
        .expect("flightdeck judge answers within 30 s")
        .expect("run flightdeck judge");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Judged {
        code: out.status.code(),
        json: serde_json::from_str(stdout.trim()).ok(),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every string in `v` found under a key whose name contains `key` (case-insensitive).
fn strings_under(v: &Value, key: &str, inside: bool, out: &mut Vec<String>) {
    match v {
        Value::String(s) if inside => out.push(s.clone()),
        Value::Array(items) => items
            .iter()
            .for_each(|i| strings_under(i, key, inside, out)),
        Value::Object(map) => {
            for (k, child) in map {
                let hit = inside || k.to_ascii_lowercase().contains(key);
                strings_under(child, key, hit, out);
            }
        }
        _ => {}
    }
}

fn found(v: &Value, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    strings_under(v, key, false, &mut out);
    out
}

fn names_checkout(j: &Judged) -> bool {
    j.json.as_ref().is_some_and(|v| {
        v["service"] == "checkout"
            || found(v, "service").iter().any(|s| s == "checkout")
            || found(v, "name").iter().any(|s| s == "checkout")
    })
}

fn verdict(j: &Judged) -> Option<String> {
    let v = j.json.as_ref()?;
    if let Some(top) = v["verdict"].as_str() {
        return Some(top.to_ascii_uppercase());
    }
    found(v, "verdict")
        .into_iter()
        .find(|s| {
            ["PROCEED", "HOLD", "ROLLBACK", "PROMOTE", "REVIEW"]
                .iter()
                .any(|w| s.eq_ignore_ascii_case(w))
        })
        .map(|s| s.to_ascii_uppercase())
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judge_rolls_back_through_a_real_prometheus() {
    if !on_path("prometheus") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "prometheus is not installed, and CI=true: .ci/run must install Debian's prometheus package"
        );
        println!(
            "prometheus is not installed: skipping the real-Prometheus test (.ci/run installs it)"
        );
        return;
    }
    let t0 = Instant::now();
    let mark = |what: &str| println!("[{:5.1} s] {what}", t0.elapsed().as_secs_f64());

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    let exporter = Exporter::start();
    let (mut prom, base) = start_prometheus(dir.path(), exporter.port);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .unwrap();

    // Ready (or dead: then say why), then scraping.
    let ready_url = format!("{base}/-/ready");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = prom.child.try_wait() {
            panic!(
                "prometheus exited ({status}) before it was ready:\n{}",
                prom.log_tail()
            );
        }
        if let Ok(r) = http.get(&ready_url).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus was not ready within 30 s:\n{}",
            prom.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    mark(&format!("prometheus ready at {base}"));
    let up = poll(
        "the exporter's first samples are queryable",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || instant(&http, &base, r#"up{job="checkout"}"#),
    )
    .await;
    assert_eq!(up, 1.0, "the exporter is up\n{}", prom.log_tail());
    mark("first samples queryable");
    let data_from = Instant::now();

    // ---- Phase 1: healthy, canary equal to baseline at 0.1 % errors.
    // The 5 s windows fill after a few scrapes; until then rate() extrapolates from too little.
    let (healthy, rps) = poll(
        "the canary serves ~100 req/s at a 5 s error ratio of 0.1 %",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async {
            let v = instant(&http, &base, CANARY_RATIO).await?;
            let rps = instant(&http, &base, CANARY_RPS).await?;
            (near(v, HEALTHY_RATIO, 0.02) && near(rps, RPS, 0.1)).then_some((v, rps))
        },
    )
    .await;
    mark(&format!(
        "canary error ratio {healthy:.5} at {rps:.1} req/s"
    ));
    let stable = instant(&http, &base, STABLE_RATIO)
        .await
        .expect("the stable error ratio");
    assert!(near(stable, HEALTHY_RATIO, 0.02), "stable ratio {stable}");
    let weight = instant(&http, &base, WEIGHT_QUERY)
        .await
        .expect("the weight gauge");
    assert_eq!(weight, WEIGHT);
    let p90 = instant(&http, &base, CANARY_P90)
        .await
        .expect("the canary's p90 latency");
    assert!(near(p90, 0.1, 0.05), "canary p90 {p90}, want ~0.1 s");

    // Let ~15 s of data gather, then look at the range the judge reads.
    while data_from.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let series = range(&http, &base, CANARY_RATIO, 60, 2).await;
    assert!(
        series.len() >= 6,
        "query_range gives the canary ratio over the last 60 s at 2 s: {series:?}"
    );
    assert!(
        series.iter().all(|v| near(*v, HEALTHY_RATIO, 0.02)),
        "healthy series {series:?}"
    );
    mark(&format!(
        "{} range samples of the healthy ratio; {} scrapes so far",
        series.len(),
        exporter.scrapes.load(Ordering::Relaxed)
    ));

    let config = write_flightdeck_config(dir.path(), &base, true);
    let healthy_at = time::OffsetDateTime::now_utc().unix_timestamp();
    let first = judge(&home, &config).await;
    mark(&format!(
        "judge (healthy): exit {:?}, verdict {:?}",
        first.code,
        verdict(&first)
    ));
    let judge_exists = !first.judge_missing();
    if judge_exists {
        assert!(
            matches!(first.code, Some(0) | Some(1)),
            "a healthy canary (equal to its baseline) is PROCEED or HOLD, not ROLLBACK or could-not-judge\n{}",
            first.show()
        );
        assert!(first.json.is_some(), "--json prints JSON\n{}", first.show());
        assert!(
            names_checkout(&first),
            "the JSON names the service\n{}",
            first.show()
        );
        assert_ne!(
            verdict(&first).as_deref(),
            Some("ROLLBACK"),
            "{}",
            first.show()
        );
    }

    // ---- Phase 2: the canary's errors go to 5 %, the baseline stays at 0.1 %.
    exporter.set_canary_error_ratio(BAD_RATIO);
    let moved = Instant::now();
    mark("canary error ratio moved to 5 %");
    let bad = poll(
        "the canary's 5 s error ratio reaches 5 %",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async {
            let v = instant(&http, &base, CANARY_RATIO).await?;
            near(v, BAD_RATIO, 0.02).then_some(v)
        },
    )
    .await;
    let stable = instant(&http, &base, STABLE_RATIO)
        .await
        .expect("the stable error ratio");
    assert!(near(stable, HEALTHY_RATIO, 0.02), "stable ratio {stable}");
    mark(&format!(
        "Prometheus sees canary {bad:.4} vs baseline {stable:.4}, {:.1} s after the move",
        moved.elapsed().as_secs_f64()
    ));

    let mut last = None;
    if judge_exists {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let j = judge(&home, &config).await;
            let done = j.code == Some(2);
            mark(&format!(
                "judge (bad canary): exit {:?}, verdict {:?}",
                j.code,
                verdict(&j)
            ));
            last = Some(j);
            if done || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    assert!(
        judge_exists,
        "flightdeck refused `judge --service checkout --json` (no such subcommand or flag yet); \
         the Prometheus part passed, the judge part could not run\n{}",
        first.show()
    );
    let last = last.expect("judge ran");
    assert_eq!(
        last.code,
        Some(2),
        "a canary at 5 % errors against a 0.1 % baseline (max 0.005) is ROLLBACK within 40 s\n{}",
        last.show()
    );
    assert_eq!(
        verdict(&last).as_deref(),
        Some("ROLLBACK"),
        "the JSON verdict\n{}",
        last.show()
    );
    assert!(
        names_checkout(&last),
        "the JSON names the service\n{}",
        last.show()
    );
    let json = last.json.as_ref().unwrap();
    let reasons = found(json, "reason");
    assert!(
        reasons.iter().any(|r| r.contains("error_rate")),
        "a reason names the failing metric error_rate: {reasons:?}\n{}",
        last.show()
    );
    mark(&format!(
        "ROLLBACK {:.1} s after the move",
        moved.elapsed().as_secs_f64()
    ));
    let rolled_back_at = last
        .json
        .as_ref()
        .and_then(|j| j["at"].as_str().map(str::to_string))
        .expect("the live verdict says when it was judged");

    // ---- The error ratio given as its query alone: the judge reads the counts from its
    // numerator and denominator, and says at that moment what it says with the counts given.
    let ratio_only = write_flightdeck_config(dir.path(), &base, false);
    let given = judge_with(&home, &config, &["--at", &rolled_back_at]).await;
    let read = judge_with(&home, &ratio_only, &["--at", &rolled_back_at]).await;
    mark(&format!(
        "judge --at {rolled_back_at}, the ratio's query alone: exit {:?}, verdict {:?}",
        read.code,
        verdict(&read)
    ));
    assert_eq!(read.code, Some(2), "{}", read.show());
    let reasons = |j: &Judged| found(j.json.as_ref().expect("JSON"), "reason");
    assert_eq!(reasons(&read), reasons(&given), "{}", read.show());
    assert!(
        reasons(&read)
            .iter()
            .any(|r| r.contains("error_rate") && r.contains(" requests")),
        "the reason counts requests\n{}",
        read.show()
    );

    // ---- Replay: the judge as of the healthy moment says what it said then, from Prometheus's
    // history; the timeline since then shows the change to ROLLBACK.
    let at = healthy_at.to_string();
    let past = judge_with(&home, &config, &["--at", &at]).await;
    mark(&format!(
        "judge --at {at} (healthy then): exit {:?}, verdict {:?}",
        past.code,
        verdict(&past)
    ));
    assert_eq!(
        past.code,
        first.code,
        "the verdict live then\n{}",
        past.show()
    );
    assert_eq!(verdict(&past), verdict(&first), "{}", past.show());
    let at_field = past
        .json
        .as_ref()
        .and_then(|j| j["at"].as_str().map(str::to_string));
    assert!(at_field.is_some(), "the JSON says when\n{}", past.show());
    let timeline = judge_with(
        &home,
        &config,
        &["--every", "2s", "--from", &at, "--to", &rolled_back_at],
    )
    .await;
    mark(&format!(
        "judge --every 2s --from {at}: exit {:?}",
        timeline.code
    ));
    assert_eq!(
        timeline.code,
        Some(2),
        "the timeline ends at ROLLBACK\n{}",
        timeline.show()
    );
    let rows = timeline
        .json
        .as_ref()
        .and_then(|j| j["timeline"].as_array().cloned())
        .unwrap_or_default();
    assert!(rows.len() >= 2, "{}", timeline.show());
    assert_eq!(
        rows[0]["verdict"].as_str(),
        verdict(&first).as_deref(),
        "{}",
        timeline.show()
    );
    assert_eq!(
        rows.last().unwrap()["verdict"],
        "ROLLBACK",
        "{}",
        timeline.show()
    );
    let changes = rows.iter().filter(|r| r["changed"] == true).count();
    assert!(
        changes >= 2,
        "the first row and the change to ROLLBACK are marked\n{}",
        timeline.show()
    );
    drop(prom);
    drop(exporter);
}
