//! The demo world under faults (`flightdeck demo --chaos`): every simulated service goes through a
//! cycle of phases on the wall clock — healthy for a while, then one phase of each fault, in
//! [`Phase::FAULTS`] order, then healthy again — and answers each fault as that service (or the
//! load balancer in front of it) really sends it:
//!
//! | phase | GitHub (REST; GraphQL) | Prometheus | Sentry | LLM (OpenAI) |
//! | --- | --- | --- | --- | --- |
//! | `500` | `{"message":"Server Error"}` | `{"status":"error","errorType":"internal",…}` | `{"detail":"Internal Error",…}` | `{"error":{"type":"server_error",…}}` |
//! | `html-502` | a load balancer's `text/html` page | same | same | same |
//! | `slow` | the normal answer after [`ChaosOptions::slow_secs`] | same | same | same |
//! | `cut-body` | the normal status and headers, `content-length` of the whole body, half of it, then the connection closes | same | same | same |
//! | `malformed-json` | `200`, JSON that does not parse | same | same | same |
//! | `401` | `Bad credentials` | `Unauthorized` (basic auth) | `Invalid token` | `invalid_api_key` |
//! | `rate-limit-spent` | `403`, `x-ratelimit-remaining: 0`; GraphQL: `200` with `RATE_LIMITED` | `429`, a gateway's `x-ratelimit-remaining: 0` | `429`, `X-Sentry-Rate-Limit-Remaining: 0` | `429`, `x-ratelimit-remaining-requests: 0` |
//! | `secondary-limit` | `403`, `retry-after`, "You have exceeded a secondary rate limit…" | `403`, `retry-after` (a gateway) | `429`, `X-Sentry-Rate-Limit-ConcurrentRemaining: 0` | `429`, `x-ratelimit-remaining-tokens: 0` |
//! | `429-retry-after` | `429`, `retry-after` | same | same | same |
//!
//! Every wait a fault announces (`retry-after`, a reset time) points at the end of its phase, so a
//! client that honours it comes back just as health returns. The schedule runs on wall time, not
//! scenario time, so a paused scenario (`--speed 0`) still cycles. Services lag each other by
//! [`ChaosOptions::stagger_phases`] so that they do not all fail at once; `0` aligns them. The log
//! blob store (`/_blob/`, which plays Azure rather than GitHub) stays healthy.
//!
//! Whatever the schedule, every request is recorded with the phase it met and the status it got
//! ([`SimWorld::request_log`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::util::hex_id;
use super::{Api, Shared, SimWorld, github_graphql};

/// How the world fails under `--chaos`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosOptions {
    /// Wall seconds each phase lasts.
    pub phase_secs: f64,
    /// How many phases health lasts at the start of each cycle (the 9 faults follow).
    pub health_phases: u32,
    /// Where in its cycle the world starts, in phases (0: at the start of health). Tests start
    /// late in the health to reach the faults sooner while keeping a long health after them.
    pub start_phase: f64,
    /// How many phases each service lags the one before it (GitHub, Prometheus, Sentry, LLM):
    /// a service is healthy until its own cycle starts. 0 aligns them.
    pub stagger_phases: f64,
    /// How long a `slow` answer waits before the normal answer.
    pub slow_secs: f64,
}

impl Default for ChaosOptions {
    fn default() -> Self {
        Self {
            phase_secs: 20.0,
            health_phases: 3,
            start_phase: 0.0,
            stagger_phases: 1.0,
            slow_secs: 3.0,
        }
    }
}

impl ChaosOptions {
    pub(super) fn validate(&self) -> Result<(), String> {
        let finite = |v: f64| v.is_finite() && v >= 0.0;
        if !self.phase_secs.is_finite() || self.phase_secs < 0.01 {
            return Err("chaos phase_secs must be a finite number >= 0.01".into());
        }
        if !finite(self.start_phase) || !finite(self.stagger_phases) || !finite(self.slow_secs) {
            return Err(
                "chaos start_phase, stagger_phases and slow_secs must be finite, >= 0".into(),
            );
        }
        Ok(())
    }
}

/// What a service does during a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Health,
    ServerError,
    BadGateway,
    Slow,
    CutBody,
    MalformedJson,
    BadCredentials,
    RateLimitSpent,
    SecondaryLimit,
    TooManyRequests,
}

impl Phase {
    /// The faults of a cycle, in order (health comes before the first).
    pub const FAULTS: [Phase; 9] = [
        Phase::ServerError,
        Phase::BadGateway,
        Phase::Slow,
        Phase::CutBody,
        Phase::MalformedJson,
        Phase::BadCredentials,
        Phase::RateLimitSpent,
        Phase::SecondaryLimit,
        Phase::TooManyRequests,
    ];

    /// The phase's name in the request log and [`SimWorld::chaos_phase`].
    pub fn name(self) -> &'static str {
        match self {
            Phase::Health => "health",
            Phase::ServerError => "500",
            Phase::BadGateway => "html-502",
            Phase::Slow => "slow",
            Phase::CutBody => "cut-body",
            Phase::MalformedJson => "malformed-json",
            Phase::BadCredentials => "401",
            Phase::RateLimitSpent => "rate-limit-spent",
            Phase::SecondaryLimit => "secondary-limit",
            Phase::TooManyRequests => "429-retry-after",
        }
    }

    /// Whether a request in this phase gets an answer a client must treat as a failure (a slow
    /// answer is a good one, late).
    pub fn fails(self) -> bool {
        !matches!(self, Phase::Health | Phase::Slow)
    }
}

/// One phase of one service, on the world's wall clock (unix seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseSpan {
    pub phase: Phase,
    pub start_unix: f64,
    pub end_unix: f64,
}

/// One request as a simulated service answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedRequest {
    pub api: Api,
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Wall-clock time it arrived, unix seconds (the world's clock).
    pub at_unix: f64,
    /// The status answered (`200` for a cut body: the status line was sent whole).
    pub status: u16,
    /// The chaos phase it met ([`Phase::name`]); `"health"` without chaos.
    pub phase: &'static str,
}

/// The fault schedule: which phase each service is in at a wall-clock time.
#[derive(Clone, Debug)]
pub(crate) struct Chaos {
    opts: ChaosOptions,
    /// Wall time the world started.
    origin_unix: f64,
}

impl Chaos {
    pub(crate) fn new(opts: ChaosOptions, origin_unix: f64) -> Self {
        Self { opts, origin_unix }
    }

    fn cycle_phases(&self) -> f64 {
        f64::from(self.opts.health_phases) + Phase::FAULTS.len() as f64
    }

    /// The phase `api` is in at wall time `unix`, with its start and end.
    pub(crate) fn at(&self, api: Api, unix: f64) -> PhaseSpan {
        let p = self.opts.phase_secs;
        let health = f64::from(self.opts.health_phases);
        // Phases since this service's first cycle began (negative: not yet, so healthy).
        let pos = (unix - self.origin_unix) / p + self.opts.start_phase
            - self.opts.stagger_phases * api.index() as f64;
        if pos < health {
            // The first cycle's health, which began when the world did.
            return PhaseSpan {
                phase: Phase::Health,
                start_unix: self.origin_unix,
                end_unix: unix + (health - pos) * p,
            };
        }
        let within = pos.rem_euclid(self.cycle_phases());
        if within < health {
            return PhaseSpan {
                phase: Phase::Health,
                start_unix: unix - within * p,
                end_unix: unix + (health - within) * p,
            };
        }
        let into_faults = within - health;
        let k = (into_faults.floor() as usize).min(Phase::FAULTS.len() - 1);
        let start = unix - (into_faults - k as f64) * p;
        PhaseSpan {
            phase: Phase::FAULTS[k],
            start_unix: start.max(self.origin_unix),
            end_unix: start + p,
        }
    }

    /// The phases of `api` from the world's start until `until_unix`, in order.
    pub(crate) fn spans(&self, api: Api, until_unix: f64) -> Vec<PhaseSpan> {
        let eps = self.opts.phase_secs * 1e-6;
        let mut out = Vec::new();
        let mut t = self.origin_unix;
        while t < until_unix {
            let s = self.at(api, t + eps);
            t = s.end_unix.max(t + eps);
            out.push(s);
        }
        out
    }
}

/// Longest request log kept: the oldest entries go first (a demo left running for days).
const LOG_CAP: usize = 200_000;

/// The schedule (when chaos is on) and the request log, shared by the servers.
#[derive(Debug, Default)]
pub(crate) struct ChaosState {
    pub schedule: Option<Chaos>,
    log: Mutex<VecDeque<LoggedRequest>>,
}

impl ChaosState {
    pub(crate) fn new(schedule: Option<Chaos>) -> Self {
        Self {
            schedule,
            log: Mutex::default(),
        }
    }

    fn record(&self, entry: LoggedRequest) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= LOG_CAP {
            log.pop_front();
        }
        log.push_back(entry);
    }
}

impl SimWorld {
    /// Every request the four servers received, by arrival time, with the phase it met and the
    /// status it got (the demo world's own request log).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        let log = self
            .shared
            .chaos
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<LoggedRequest> = log.iter().cloned().collect();
        out.sort_by(|a, b| a.at_unix.total_cmp(&b.at_unix));
        out
    }

    /// The chaos phase `api` is in now ([`Phase::name`]); `None` without chaos.
    pub fn chaos_phase(&self, api: Api) -> Option<&'static str> {
        self.chaos_span(api).map(|s| s.phase.name())
    }

    /// The chaos phase `api` is in now, with its start and end; `None` without chaos.
    pub fn chaos_span(&self, api: Api) -> Option<PhaseSpan> {
        let now = self.shared.clock.unix_now();
        self.shared.chaos.schedule.as_ref().map(|c| c.at(api, now))
    }

    /// The chaos phases of `api` from the world's start until `until_unix`; empty without chaos.
    pub fn chaos_spans(&self, api: Api, until_unix: f64) -> Vec<PhaseSpan> {
        self.shared
            .chaos
            .schedule
            .as_ref()
            .map(|c| c.spans(api, until_unix))
            .unwrap_or_default()
    }

    /// The world's wall clock, unix seconds (what the request log and the phases are timed by).
    pub fn unix_now(&self) -> f64 {
        self.shared.clock.unix_now()
    }
}

/// The middleware in front of each server: answers the current fault (or lets the request
/// through), and logs the request.
pub(super) async fn layer(
    State((s, api)): State<(Arc<Shared>, Api)>,
    mut req: Request,
    next: Next,
) -> Response {
    let now = s.clock.unix_now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let span = match &s.chaos.schedule {
        Some(c) if !path.starts_with("/_blob/") => Some((c.at(api, now), c.opts.slow_secs)),
        _ => None,
    };
    let phase = span.map_or(Phase::Health, |(sp, _)| sp.phase);
    let resp = match span {
        None => next.run(req).await,
        Some((sp, slow_secs)) => match sp.phase {
            Phase::Health => next.run(req).await,
            Phase::Slow => {
                tokio::time::sleep(Duration::from_secs_f64(slow_secs)).await;
                next.run(req).await
            }
            Phase::CutBody => {
                // A conditional request would get a 304 without a body to cut.
                req.headers_mut().remove(header::IF_NONE_MATCH);
                cut(next.run(req).await).await
            }
            fault => {
                let ask = Asked {
                    graphql: api == Api::Github && path == "/graphql",
                    authorized: req.headers().contains_key(header::AUTHORIZATION),
                    now,
                    end: sp.end_unix,
                };
                match api {
                    Api::Github => github(&s, fault, &ask),
                    Api::Prometheus => prometheus(fault, &ask),
                    Api::Sentry => sentry(fault, &ask),
                    Api::Llm => llm(fault, &ask),
                }
            }
        },
    };
    s.chaos.record(LoggedRequest {
        api,
        method,
        path,
        at_unix: now,
        status: resp.status().as_u16(),
        phase: phase.name(),
    });
    resp
}

/// The request as a fault needs it.
struct Asked {
    /// `POST /graphql` on GitHub.
    graphql: bool,
    /// Whether it carried an `Authorization` header.
    authorized: bool,
    now: f64,
    /// When the phase ends (unix seconds).
    end: f64,
}

impl Asked {
    /// Whole seconds until the phase ends (at least 1): `retry-after`.
    fn wait_secs(&self) -> u64 {
        (self.end - self.now).ceil().max(1.0) as u64
    }

    /// The first whole unix second at or after the phase's end: a window's reset.
    fn reset_unix(&self) -> i64 {
        self.end.ceil() as i64
    }
}

/// The normal answer with its status and headers, `content-length` of the whole body, half of
/// the body, then the connection closes (the client reads a truncated body).
async fn cut(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let whole = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let sent = whole.slice(..whole.len() / 2);
    let promised = whole.len().max(sent.len() + 64);
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(promised));
    let head = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(sent) });
    // A pause lets the server flush what was sent before the error closes the connection.
    let abort = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "chaos: the body is cut",
        ))
    });
    let stream = futures::StreamExt::chain(head, abort);
    Response::from_parts(parts, Body::from_stream(stream))
}

fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: String,
    headers: Vec<(&'static str, String)>,
) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

const JSON: &str = "application/json";
const HTML: &str = "text/html";
const TEXT: &str = "text/plain; charset=utf-8";

/// A load balancer's error page (nginx's words).
fn bad_gateway() -> Response {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    reply(StatusCode::BAD_GATEWAY, HTML, page.into(), Vec::new())
}

fn malformed(body: &str, content_type: &'static str) -> Response {
    reply(StatusCode::OK, content_type, body.into(), Vec::new())
}

/// GitHub's request id, `XXXX:XXXX:XXXXXX:XXXXXX:XXXXXXXX`.
fn request_id(now: f64) -> String {
    let h = hex_id(&format!("chaos:{now}"), 26).to_uppercase();
    format!(
        "{}:{}:{}:{}:{}",
        &h[..4],
        &h[4..8],
        &h[8..14],
        &h[14..20],
        &h[20..26]
    )
}

const GITHUB_LIMIT: u64 = 5000;
const SECONDARY_DOCS: &str = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits";

fn github(s: &Shared, phase: Phase, ask: &Asked) -> Response {
    let docs = if ask.graphql {
        "https://docs.github.com/graphql"
    } else {
        "https://docs.github.com/rest"
    };
    let (resource, (used, reset)) = if ask.graphql {
        ("graphql", github_graphql::points(s))
    } else {
        let rate = s.rate.lock().unwrap_or_else(|e| e.into_inner());
        ("core", (rate.used, rate.reset))
    };
    let id = request_id(ask.now);
    let rate_headers = |used: u64, reset: i64| {
        vec![
            ("x-ratelimit-limit", GITHUB_LIMIT.to_string()),
            (
                "x-ratelimit-remaining",
                GITHUB_LIMIT.saturating_sub(used).to_string(),
            ),
            ("x-ratelimit-used", used.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
            ("x-ratelimit-resource", resource.to_string()),
            ("x-github-request-id", id.clone()),
        ]
    };
    let json_reply = |status: StatusCode, body: Value, headers| {
        reply(
            status,
            "application/json; charset=utf-8",
            body.to_string(),
            headers,
        )
    };
    let secondary = json!({
        "message": format!("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID {id}."),
        "documentation_url": SECONDARY_DOCS,
    });
    match phase {
        Phase::ServerError => json_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": "Server Error"}),
            rate_headers(used, reset),
        ),
        Phase::BadGateway => bad_gateway(),
        Phase::MalformedJson if ask.graphql => malformed(
            r#"{"data": {"repository": {"pullRequests": {"nodes": [{"number": 41,, ]"#,
            JSON,
        ),
        Phase::MalformedJson => malformed(
            r#"{"total_count": 2, "workflow_runs": [{"id": 9200000104,, "status": ]"#,
            JSON,
        ),
        Phase::BadCredentials => json_reply(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Bad credentials", "documentation_url": docs}),
            rate_headers(used, reset),
        ),
        Phase::RateLimitSpent => {
            let headers = rate_headers(GITHUB_LIMIT, ask.reset_unix());
            let who = if ask.authorized {
                "user ID 5120999.".to_string()
            } else {
                "127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)".to_string()
            };
            if ask.graphql {
                // GraphQL says so in a 200.
                let message = format!("API rate limit already exceeded for {who}");
                json_reply(
                    StatusCode::OK,
                    json!({"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": message}]}),
                    headers,
                )
            } else {
                json_reply(
                    StatusCode::FORBIDDEN,
                    json!({
                        "message": format!("API rate limit exceeded for {who}"),
                        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                    }),
                    headers,
                )
            }
        }
        Phase::SecondaryLimit | Phase::TooManyRequests => {
            let status = if phase == Phase::SecondaryLimit {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            let mut headers = rate_headers(used, reset);
            headers.push(("retry-after", ask.wait_secs().to_string()));
            json_reply(status, secondary, headers)
        }
        Phase::Health | Phase::Slow | Phase::CutBody => StatusCode::OK.into_response(),
    }
}

fn prometheus(phase: Phase, ask: &Asked) -> Response {
    match phase {
        Phase::ServerError => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            JSON,
            json!({"status": "error", "errorType": "internal", "error": "chaos: storage unavailable"})
                .to_string(),
            Vec::new(),
        ),
        Phase::BadGateway => bad_gateway(),
        Phase::MalformedJson => malformed(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{,}]"#,
            JSON,
        ),
        // Prometheus behind basic auth (its web config) answers in plain text.
        Phase::BadCredentials => reply(
            StatusCode::UNAUTHORIZED,
            TEXT,
            "Unauthorized\n".into(),
            vec![("www-authenticate", "Basic".into())],
        ),
        // Prometheus has no rate limits; the gateway in front of it does.
        Phase::RateLimitSpent => reply(
            StatusCode::TOO_MANY_REQUESTS,
            TEXT,
            "rate limit exceeded\n".into(),
            vec![
                ("x-ratelimit-limit", "600".into()),
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", ask.reset_unix().to_string()),
            ],
        ),
        Phase::SecondaryLimit => reply(
            StatusCode::FORBIDDEN,
            TEXT,
            "request blocked: too many requests from this address\n".into(),
            vec![("retry-after", ask.wait_secs().to_string())],
        ),
        Phase::TooManyRequests => reply(
            StatusCode::TOO_MANY_REQUESTS,
            TEXT,
            "too many outstanding requests\n".into(),
            vec![("retry-after", ask.wait_secs().to_string())],
        ),
        Phase::Health | Phase::Slow | Phase::CutBody => StatusCode::OK.into_response(),
    }
}

fn sentry(phase: Phase, ask: &Asked) -> Response {
    let detail = |status: StatusCode, text: &str, headers| {
        reply(status, JSON, json!({"detail": text}).to_string(), headers)
    };
    // Sentry's rate-limit headers: a window of 40 requests a second, 25 at once.
    let limits = |remaining: u32, concurrent_remaining: u32| {
        vec![
            ("x-sentry-rate-limit-limit", "40".to_string()),
            ("x-sentry-rate-limit-remaining", remaining.to_string()),
            ("x-sentry-rate-limit-reset", ask.reset_unix().to_string()),
            ("x-sentry-rate-limit-concurrentlimit", "25".to_string()),
            (
                "x-sentry-rate-limit-concurrentremaining",
                concurrent_remaining.to_string(),
            ),
        ]
    };
    match phase {
        Phase::ServerError => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            JSON,
            json!({"detail": "Internal Error", "errorId": hex_id(&format!("sentry:{}", ask.now), 32)})
                .to_string(),
            Vec::new(),
        ),
        Phase::BadGateway => bad_gateway(),
        Phase::MalformedJson => malformed(
            r#"[{"id": "4100000001", "shortId": "CHECKOUT-1",, "title": ]"#,
            JSON,
        ),
        Phase::BadCredentials => detail(StatusCode::UNAUTHORIZED, "Invalid token", Vec::new()),
        // Sentry answers a spent window with a 429 (not a 403) and its own headers.
        Phase::RateLimitSpent => detail(
            StatusCode::TOO_MANY_REQUESTS,
            "You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds",
            limits(0, 24),
        ),
        Phase::SecondaryLimit => detail(
            StatusCode::TOO_MANY_REQUESTS,
            "You are attempting to go above the allowed concurrency for this endpoint. Concurrency limit is 25",
            limits(39, 0),
        ),
        Phase::TooManyRequests => {
            let mut headers = limits(0, 24);
            headers.push(("retry-after", ask.wait_secs().to_string()));
            detail(
                StatusCode::TOO_MANY_REQUESTS,
                "You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds",
                headers,
            )
        }
        Phase::Health | Phase::Slow | Phase::CutBody => StatusCode::OK.into_response(),
    }
}

fn llm(phase: Phase, ask: &Asked) -> Response {
    let error = |status: StatusCode, message: &str, kind: &str, code: Value, headers| {
        reply(
            status,
            JSON,
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
                .to_string(),
            headers,
        )
    };
    // OpenAI's resets are durations ("1.5s").
    let reset = format!("{:.3}s", (ask.end - ask.now).max(0.0));
    match phase {
        Phase::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            Value::Null,
            Vec::new(),
        ),
        Phase::BadGateway => bad_gateway(),
        Phase::MalformedJson => malformed(
            r#"{"id": "chatcmpl-sim", "object": "chat.completion", "choices": [{"index": 0,, ]"#,
            JSON,
        ),
        Phase::BadCredentials => error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            json!("invalid_api_key"),
            Vec::new(),
        ),
        Phase::RateLimitSpent => error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Rate limit reached for sim-analyst on requests per min (RPM): Limit 60, Used 60, Requested 1. Please try again in {reset}."
            ),
            "requests",
            json!("rate_limit_exceeded"),
            vec![
                ("x-ratelimit-limit-requests", "60".into()),
                ("x-ratelimit-remaining-requests", "0".into()),
                ("x-ratelimit-reset-requests", reset.clone()),
            ],
        ),
        Phase::SecondaryLimit => error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Rate limit reached for sim-analyst on tokens per min (TPM): Limit 40000, Used 40000, Requested 600. Please try again in {reset}."
            ),
            "tokens",
            json!("rate_limit_exceeded"),
            vec![
                ("x-ratelimit-limit-tokens", "40000".into()),
                ("x-ratelimit-remaining-tokens", "0".into()),
                ("x-ratelimit-reset-tokens", reset.clone()),
            ],
        ),
        Phase::TooManyRequests => error(
            StatusCode::TOO_MANY_REQUESTS,
            "The engine is currently overloaded, please try again later.",
            "server_error",
            Value::Null,
            vec![("retry-after", ask.wait_secs().to_string())],
        ),
        Phase::Health | Phase::Slow | Phase::CutBody => StatusCode::OK.into_response(),
    }
}
