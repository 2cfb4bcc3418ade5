//! The demo world under faults (`demo --chaos`): the schedule, each fault as each service sends
//! it (over real HTTP on 127.0.0.1), and the request log.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::chaos::Chaos;
use super::{Api, ChaosOptions, Phase, SimOptions, SimWorld, start};
use crate::sources::http::{Response as ClientResponse, rate_limit_wait};

fn opts(phase_secs: f64, health_phases: u32, start_phase: f64, stagger: f64) -> ChaosOptions {
    ChaosOptions {
        phase_secs,
        health_phases,
        start_phase,
        stagger_phases: stagger,
        slow_secs: 0.3,
    }
}

#[test]
fn the_schedule_is_health_then_each_fault_then_health_again() {
    let c = Chaos::new(opts(1.0, 2, 0.0, 1.0), 1000.0);
    let at = |api, t| {
        let s = c.at(api, t);
        (s.phase, s.start_unix, s.end_unix)
    };
    assert_eq!(at(Api::Github, 1000.5), (Phase::Health, 1000.0, 1002.0));
    for (k, fault) in Phase::FAULTS.iter().enumerate() {
        let start = 1002.0 + k as f64;
        let (phase, s, e) = at(Api::Github, start + 0.5);
        assert_eq!(phase, *fault, "phase {k}");
        assert!((s - start).abs() < 1e-9 && (e - start - 1.0).abs() < 1e-9);
    }
    // Health again, then the cycle repeats.
    let (phase, s, e) = at(Api::Github, 1011.5);
    assert_eq!(phase, Phase::Health);
    assert!((s - 1011.0).abs() < 1e-9 && (e - 1013.0).abs() < 1e-9);
    assert_eq!(at(Api::Github, 1013.5).0, Phase::ServerError);
    // Each service lags the one before it by one phase (stagger 1).
    assert_eq!(at(Api::Prometheus, 1002.5).0, Phase::Health);
    assert_eq!(at(Api::Prometheus, 1003.5).0, Phase::ServerError);
    assert_eq!(at(Api::Sentry, 1004.5).0, Phase::ServerError);
    assert_eq!(at(Api::Llm, 1005.5).0, Phase::ServerError);
    let (phase, s, e) = at(Api::Llm, 1000.2);
    assert_eq!(phase, Phase::Health);
    assert!((s - 1000.0).abs() < 1e-9 && (e - 1005.0).abs() < 1e-9);

    let spans = c.spans(Api::Github, 1013.0);
    let names: Vec<&str> = spans.iter().map(|s| s.phase.name()).collect();
    assert_eq!(
        names,
        [
            "health",
            "500",
            "html-502",
            "slow",
            "cut-body",
            "malformed-json",
            "401",
            "rate-limit-spent",
            "secondary-limit",
            "429-retry-after",
            "health"
        ]
    );
    assert!(
        spans
            .windows(2)
            .all(|w| (w[0].end_unix - w[1].start_unix).abs() < 1e-6)
    );

    // A world that starts late in its health reaches the faults sooner.
    let late = Chaos::new(opts(1.0, 4, 3.5, 0.0), 1000.0);
    let s = late.at(Api::Sentry, 1000.1);
    assert_eq!((s.phase, s.end_unix), (Phase::Health, 1000.5));
    assert_eq!(late.at(Api::Sentry, 1000.6).phase, Phase::ServerError);
}

/// A world parked in `phase` (every service at once) for half a minute more.
async fn parked(phase: Phase) -> SimWorld {
    let k = Phase::FAULTS.iter().position(|f| *f == phase).unwrap_or(0);
    start(SimOptions {
        speed: 0.0,
        start_at_secs: 100.0,
        chaos: Some(opts(60.0, 1, 1.0 + k as f64 + 0.5, 0.0)),
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts")
}

/// One request the cockpit's clients send, per kind of server.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Rest,
    Graphql,
    Prometheus,
    Sentry,
    Llm,
}

const TARGETS: [Target; 5] = [
    Target::Rest,
    Target::Graphql,
    Target::Prometheus,
    Target::Sentry,
    Target::Llm,
];

impl Target {
    fn api(self) -> Api {
        match self {
            Target::Rest | Target::Graphql => Api::Github,
            Target::Prometheus => Api::Prometheus,
            Target::Sentry => Api::Sentry,
            Target::Llm => Api::Llm,
        }
    }
}

/// What came back: status, headers, the body (or why it could not be read), when it was sent
/// (the world's clock) and how long it took.
struct Answer {
    api: Api,
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Result<Vec<u8>, String>,
    sent_at: f64,
    took: Duration,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        self.body
            .as_ref()
            .ok()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(self.body.as_deref().unwrap_or_default()).into_owned()
    }

    /// The answer as the clients' HTTP layer holds it.
    fn as_client(&self) -> ClientResponse {
        ClientResponse {
            status: self.status.as_u16(),
            headers: self.headers.clone(),
            body: self.body.clone().unwrap_or_default().into(),
        }
    }
}

async fn ask(w: &SimWorld, target: Target) -> Answer {
    let c = reqwest::Client::new();
    let req = match target {
        Target::Rest => c.get(format!(
            "{}/repos/acme/checkout/actions/runs?per_page=5",
            w.github_url
        )),
        Target::Graphql => c.post(format!("{}/graphql", w.github_url)).json(&json!({
            "query": crate::sources::github::pulls_query(1, crate::sources::github::Selection::Full),
            "variables": {"owner0": "acme", "name0": "checkout", "states": ["OPEN"], "first": 5, "after0": null},
        })),
        Target::Prometheus => c.get(format!("{}/api/v1/query?query=vector(1)", w.prometheus_url)),
        Target::Sentry => c.get(format!(
            "{}/api/0/projects/acme/checkout/issues/?query=is%3Aunresolved",
            w.sentry_url
        )),
        Target::Llm => c
            .post(format!("{}/chat/completions", w.llm_url))
            .json(&json!({"model": "sim-analyst", "messages": [{"role": "user", "content": "hi"}]})),
    };
    let sent_at = w.unix_now();
    let t0 = Instant::now();
    let resp = req.send().await.expect("the status line arrives");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| format!("{e:?}"));
    Answer {
        api: target.api(),
        status,
        headers,
        body,
        sent_at,
        took: t0.elapsed(),
    }
}

/// `(end of the phase - sent) rounded up`, allowing for the request's own time.
fn assert_waits_until_phase_end(w: &SimWorld, a: &Answer, secs: u64, what: &str) {
    let end = w
        .chaos_span(a.api)
        .map(|s| s.end_unix)
        .expect("chaos is on");
    let at_most = (end - a.sent_at).ceil() as u64;
    let at_least = (end - a.sent_at - a.took.as_secs_f64() - 0.05).ceil() as u64;
    assert!(
        (at_least..=at_most).contains(&secs),
        "{what}: waits {secs} s, the phase ends in {:.2} s",
        end - a.sent_at
    );
}

/// The window's reset in header `name` is the first second after the phase.
fn assert_reset_is_phase_end(w: &SimWorld, a: &Answer, name: &str) {
    let end = w
        .chaos_span(a.api)
        .map(|s| s.end_unix)
        .expect("chaos is on");
    let reset = a.header(name).parse::<i64>().ok();
    assert_eq!(reset, Some(end.ceil() as i64), "{:?} {name}", a.api);
}

#[tokio::test]
async fn fault_500_is_each_services_own_error_body() {
    let w = parked(Phase::ServerError).await;
    assert_eq!(w.chaos_phase(Api::Sentry), Some("500"));
    for t in TARGETS {
        let a = ask(&w, t).await;
        assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR, "{t:?}");
        assert!(a.header("content-type").starts_with("application/json"));
        let body = a.json();
        match t {
            Target::Rest | Target::Graphql => {
                assert_eq!(body, json!({"message": "Server Error"}));
                assert_eq!(a.header("x-ratelimit-limit"), "5000");
            }
            Target::Prometheus => {
                assert_eq!(body["status"], "error");
                assert_eq!(body["errorType"], "internal");
                assert!(body["error"].is_string());
            }
            Target::Sentry => {
                assert_eq!(body["detail"], "Internal Error");
                assert!(body["errorId"].is_string());
            }
            Target::Llm => assert_eq!(body["error"]["type"], "server_error"),
        }
    }
}

#[tokio::test]
async fn fault_502_is_a_load_balancers_html_page() {
    let w = parked(Phase::BadGateway).await;
    for t in TARGETS {
        let a = ask(&w, t).await;
        assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{t:?}");
        assert!(a.header("content-type").starts_with("text/html"), "{t:?}");
        assert!(a.text().starts_with("<html>") && a.text().contains("502 Bad Gateway"));
    }
}

#[tokio::test]
async fn fault_slow_is_the_normal_answer_late() {
    let w = parked(Phase::Slow).await;
    for t in [Target::Rest, Target::Prometheus, Target::Sentry] {
        let a = ask(&w, t).await;
        assert_eq!(a.status, StatusCode::OK, "{t:?}");
        assert!(
            a.took >= Duration::from_millis(290),
            "{t:?} took {:?}",
            a.took
        );
        let body = a.json();
        match t {
            Target::Rest => assert!(body["workflow_runs"].is_array()),
            Target::Prometheus => assert_eq!(body["status"], "success"),
            _ => assert!(body.is_array()),
        }
    }
}

#[tokio::test]
async fn fault_cut_body_promises_more_than_it_sends() {
    let w = parked(Phase::CutBody).await;
    for t in TARGETS {
        let a = ask(&w, t).await;
        assert_eq!(a.status, StatusCode::OK, "{t:?}: the status line is whole");
        assert!(a.body.is_err(), "{t:?}: the body cannot be read whole");
    }
    // On the wire: content-length says more than arrives before the connection closes.
    let addr = w.sentry_url.trim_start_matches("http://").to_string();
    let raw = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let req = "GET /api/0/projects/acme/checkout/issues/ HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: \"x\"\r\n\r\n";
        s.write_all(req.as_bytes()).expect("write");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    })
    .await
    .expect("raw read");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_string)
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    assert!(
        !body.is_empty() && body.len() < length,
        "{} of {length}",
        body.len()
    );
    assert!(body.starts_with('['), "half of the real list: {body}");
}

#[tokio::test]
async fn fault_malformed_json_is_a_200_that_does_not_parse() {
    let w = parked(Phase::MalformedJson).await;
    for t in TARGETS {
        let a = ask(&w, t).await;
        assert_eq!(a.status, StatusCode::OK, "{t:?}");
        assert!(a.header("content-type").starts_with("application/json"));
        let body = a.body.as_deref().expect("a whole body");
        assert!(serde_json::from_slice::<Value>(body).is_err(), "{t:?}");
        assert!(matches!(body.first(), Some(b'{' | b'[')));
    }
}

#[tokio::test]
async fn fault_401_says_the_token_is_bad_in_each_services_words() {
    let w = parked(Phase::BadCredentials).await;
    for t in TARGETS {
        let a = ask(&w, t).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{t:?}");
        let body = a.json();
        match t {
            Target::Rest => {
                assert_eq!(body["message"], "Bad credentials");
                assert_eq!(body["documentation_url"], "https://docs.github.com/rest");
            }
            Target::Graphql => {
                assert_eq!(body["message"], "Bad credentials");
                assert_eq!(body["documentation_url"], "https://docs.github.com/graphql");
            }
            Target::Prometheus => {
                assert_eq!(a.text(), "Unauthorized\n");
                assert_eq!(a.header("www-authenticate"), "Basic");
            }
            Target::Sentry => assert_eq!(body, json!({"detail": "Invalid token"})),
            Target::Llm => assert_eq!(body["error"]["code"], "invalid_api_key"),
        }
        assert_eq!(
            rate_limit_wait(&a.as_client(), 0),
            None,
            "{t:?}: not a wait"
        );
    }
}

#[tokio::test]
async fn fault_spent_rate_limit_resets_when_the_phase_ends() {
    let w = parked(Phase::RateLimitSpent).await;
    let now = || w.unix_now().floor() as i64;
    for t in TARGETS {
        let a = ask(&w, t).await;
        let body = a.json();
        match t {
            Target::Rest => {
                assert_eq!(a.status, StatusCode::FORBIDDEN);
                assert_eq!(a.header("x-ratelimit-remaining"), "0");
                assert_eq!(a.header("x-ratelimit-resource"), "core");
                assert_reset_is_phase_end(&w, &a, "x-ratelimit-reset");
                let msg = body["message"].as_str().unwrap_or("");
                // An anonymous caller is named by its address, as GitHub does.
                assert!(
                    msg.starts_with("API rate limit exceeded for 127.0.0.1."),
                    "{msg}"
                );
            }
            Target::Graphql => {
                // GraphQL says so in a 200.
                assert_eq!(a.status, StatusCode::OK);
                assert_eq!(body["errors"][0]["type"], "RATE_LIMITED");
                assert_eq!(a.header("x-ratelimit-remaining"), "0");
                assert_eq!(a.header("x-ratelimit-resource"), "graphql");
                assert_reset_is_phase_end(&w, &a, "x-ratelimit-reset");
            }
            Target::Prometheus => {
                assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
                assert_eq!(a.header("x-ratelimit-remaining"), "0");
                assert_reset_is_phase_end(&w, &a, "x-ratelimit-reset");
            }
            Target::Sentry => {
                assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
                assert_eq!(a.header("x-sentry-rate-limit-remaining"), "0");
                assert_reset_is_phase_end(&w, &a, "x-sentry-rate-limit-reset");
                assert!(
                    body["detail"]
                        .as_str()
                        .unwrap_or("")
                        .contains("too frequently")
                );
            }
            Target::Llm => {
                assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
                assert_eq!(a.header("x-ratelimit-remaining-requests"), "0");
                assert_eq!(body["error"]["code"], "rate_limit_exceeded");
            }
        }
        if t != Target::Graphql && t != Target::Llm {
            // The clients' reading: wait until the phase is over.
            let end = w.chaos_span(t.api()).map_or(0.0, |s| s.end_unix);
            let n = now();
            let wait = rate_limit_wait(&a.as_client(), n);
            assert_eq!(wait, Some((end.ceil() as i64 - n) as u64), "{t:?}");
        }
    }
}

#[tokio::test]
async fn fault_secondary_limit_asks_to_retry_after_the_phase() {
    let w = parked(Phase::SecondaryLimit).await;
    for t in TARGETS {
        let a = ask(&w, t).await;
        let body = a.json();
        match t {
            Target::Rest | Target::Graphql => {
                assert_eq!(a.status, StatusCode::FORBIDDEN, "{t:?}");
                let msg = body["message"].as_str().unwrap_or("");
                assert!(
                    msg.starts_with("You have exceeded a secondary rate limit."),
                    "{msg}"
                );
                assert!(msg.contains("request ID "));
                // A secondary limit does not spend the primary window.
                assert_ne!(a.header("x-ratelimit-remaining"), "0");
                let secs = a.header("retry-after").parse().expect("retry-after");
                assert_waits_until_phase_end(&w, &a, secs, "GitHub");
            }
            Target::Prometheus => {
                assert_eq!(a.status, StatusCode::FORBIDDEN);
                let secs = a.header("retry-after").parse().expect("retry-after");
                assert_waits_until_phase_end(&w, &a, secs, "Prometheus");
            }
            Target::Sentry => {
                assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
                assert_eq!(a.header("x-sentry-rate-limit-concurrentremaining"), "0");
                assert_reset_is_phase_end(&w, &a, "x-sentry-rate-limit-reset");
            }
            Target::Llm => {
                assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
                assert_eq!(a.header("x-ratelimit-remaining-tokens"), "0");
            }
        }
    }
}

#[tokio::test]
async fn fault_429_retry_after_points_at_the_phase_end() {
    let w = parked(Phase::TooManyRequests).await;
    for t in TARGETS {
        let a = ask(&w, t).await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{t:?}");
        let secs: u64 = a.header("retry-after").parse().expect("retry-after");
        assert_waits_until_phase_end(&w, &a, secs, &format!("{t:?}"));
        let wait = rate_limit_wait(&a.as_client(), 0);
        assert_eq!(wait, Some(secs), "{t:?}: the clients read it");
    }
}

#[tokio::test]
async fn a_short_cycle_meets_every_phase_in_order_and_health_returns() {
    let phase = 0.4;
    let w = start(SimOptions {
        speed: 0.0,
        chaos: Some(ChaosOptions {
            slow_secs: 0.05,
            ..opts(phase, 2, 0.0, 0.0)
        }),
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts");
    // Two phases of health, nine faults, and into the next health.
    let cycle = phase * 11.0;
    let url = format!(
        "{}/api/0/projects/acme/web/issues/?query=is%3Aunresolved",
        w.sentry_url
    );
    let mut tasks = Vec::new();
    let client = reqwest::Client::new();
    // Timed by the world's own clock from the schedule's origin (not from when `start` returned,
    // which a loaded machine can delay past the next health's margin): the last request goes
    // 0.1 s into the next cycle's health, 0.7 s before its first fault.
    let origin = w
        .chaos_spans(Api::Sentry, w.unix_now())
        .first()
        .map(|s| s.start_unix)
        .expect("a schedule");
    while w.unix_now() < origin + cycle + 0.1 {
        let req = client.get(&url);
        tasks.push(tokio::spawn(async move {
            let Ok(resp) = req.send().await else {
                return None;
            };
            let retry = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            Some((resp.status().as_u16(), retry))
        }));
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.ok().flatten());
    }
    let log = w.request_log();
    assert!(
        log.iter()
            .all(|r| r.api == Api::Sentry && r.method == "GET")
    );
    assert!(
        log.iter()
            .all(|r| r.path == "/api/0/projects/acme/web/issues/")
    );
    // Phases in the order met, runs collapsed.
    let mut order: Vec<&str> = log.iter().map(|r| r.phase).collect();
    order.dedup();
    let mut expected = vec!["health"];
    expected.extend(Phase::FAULTS.iter().map(|p| p.name()));
    expected.push("health");
    assert_eq!(order, expected);
    for r in &log {
        let status = match r.phase {
            "500" => 500,
            "html-502" => 502,
            "401" => 401,
            "rate-limit-spent" | "secondary-limit" | "429-retry-after" => 429,
            _ => 200,
        };
        assert_eq!(r.status, status, "{r:?}");
    }
    // A Retry-After ends with its phase: a 0.4 s phase asks for the least, a second.
    let waits: Vec<u64> = answers.iter().filter_map(|(_, r)| *r).collect();
    assert!(
        !waits.is_empty() && waits.iter().all(|w| *w == 1),
        "{waits:?}"
    );
    let spans = w.chaos_spans(Api::Sentry, w.unix_now());
    assert_eq!(spans.len(), 11, "{spans:?}");
    assert!((spans[10].start_unix - spans[0].start_unix - 11.0 * phase).abs() < 1e-6);
    assert_eq!(w.chaos_phase(Api::Sentry), Some("health"));
}

#[tokio::test]
async fn without_chaos_every_request_is_logged_healthy() {
    let w = start(SimOptions {
        speed: 0.0,
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts");
    assert_eq!(w.chaos_phase(Api::Github), None);
    assert!(w.chaos_spans(Api::Github, w.unix_now() + 60.0).is_empty());
    let a = ask(&w, Target::Rest).await;
    assert_eq!(a.status, StatusCode::OK);
    let b = ask(&w, Target::Prometheus).await;
    assert_eq!(b.status, StatusCode::OK);
    let log = w.request_log();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].api, log[0].method.as_str(), log[0].path.as_str()),
        (Api::Github, "GET", "/repos/acme/checkout/actions/runs")
    );
    assert_eq!((log[0].status, log[0].phase), (200, "health"));
    assert_eq!(
        (log[1].api, log[1].path.as_str()),
        (Api::Prometheus, "/api/v1/query")
    );
    assert!(log[0].at_unix <= log[1].at_unix && log[1].at_unix <= w.unix_now());
}

#[tokio::test]
async fn chaos_options_out_of_range_are_refused() {
    for bad in [
        opts(0.0, 1, 0.0, 0.0),
        opts(f64::NAN, 1, 0.0, 0.0),
        opts(1.0, 1, -1.0, 0.0),
        opts(1.0, 1, 0.0, f64::INFINITY),
    ] {
        let r = start(SimOptions {
            chaos: Some(bad.clone()),
            ..SimOptions::default()
        })
        .await;
        assert!(r.is_err(), "{bad:?}");
    }
}
