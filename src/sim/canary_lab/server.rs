//! The lab's fake Prometheus on 127.0.0.1: `/api/v1/query_range` and `/api/v1/query` in
//! Prometheus's JSON shape (the demo's helpers), answering each configured query (see
//! [`super::query`]) with the loaded scenario's series.
//!
//! Time: [`FakePrometheus::set_now`] puts scenario second `S` at the current wall-clock second, so
//! the real client, which asks for `[now − lookback, now]`, reads the scenario as of `S`. A range
//! query's points are at `start + k · step` ≤ `end`; each carries the scenario's latest point at
//! or before its time (none where the series has none). A query the scenario does not name gets an
//! empty result, as Prometheus gives for a selector that matches nothing, and is recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::super::prometheus::{bad_data, params, parse_time, range_params, sample_pair, success};
use super::super::util::param;
use super::{STEP_SECS, Scenario, SeriesId, query};

#[derive(Debug, Default)]
struct Loaded {
    /// Query → the series' points.
    series: HashMap<String, Arc<[Option<f64>]>>,
    /// Scenario seconds of the first point.
    t0: i64,
    /// Wall-clock unix seconds minus scenario seconds.
    offset: f64,
    requests: u64,
    unknown: Vec<String>,
}

impl Loaded {
    fn value(&self, q: &str, wall: f64) -> Result<Option<f64>, ()> {
        let points = self.series.get(q).ok_or(())?;
        let rel = wall - self.offset - self.t0 as f64;
        if rel.is_nan() || rel < 0.0 {
            return Ok(None);
        }
        let i = (rel / STEP_SECS as f64).floor() as usize;
        Ok(points.get(i).copied().flatten())
    }
}

type Shared = Arc<Mutex<Loaded>>;

/// The running fake. Dropping it stops the server.
#[derive(Debug)]
pub struct FakePrometheus {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Shared,
    stop: watch::Sender<bool>,
}

fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl FakePrometheus {
    /// Binds 127.0.0.1:0 and serves on the current tokio runtime.
    pub async fn start() -> std::io::Result<FakePrometheus> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/api/v1/query", get(instant).post(instant))
            .route("/api/v1/query_range", get(range).post(range))
            .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found\n") })
            .with_state(state.clone());
        let (stop, mut rx) = watch::channel(false);
        tokio::spawn(async move {
            let signal = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::warn!(error = %e, "lab prometheus stopped");
            }
        });
        Ok(FakePrometheus { url, state, stop })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serve `s` (replacing what was served), as of its first slice.
    pub fn load(&self, s: &Scenario) {
        let mut st = self.lock();
        st.series = SeriesId::ALL
            .iter()
            .map(|id| (query(s, *id), Arc::from(s.series(*id))))
            .collect();
        st.t0 = s.t0;
        // Scenario second 0 at a whole step of the wall clock plus the scenario's own phase:
        // the client asks for ranges on whole steps of the clock, so the points a range takes
        // depend on that phase, and a phase taken from the wall clock's second changed the
        // figures from run to run. Varied across scenarios, as real polls fall anywhere in a step.
        let step = STEP_SECS as f64;
        let phase = s.seed.wrapping_mul(7).wrapping_add(s.kind.index()) % STEP_SECS;
        st.offset = (wall_now() / step).floor() * step + phase as f64;
    }

    /// Make scenario second `t` now: the current wall-clock second is `t` (so a request within
    /// the next 15 s reads the scenario as of `t`).
    pub fn set_now(&self, t: i64) {
        self.lock().offset = wall_now().floor() - t as f64;
    }

    /// The wall-clock time that is scenario second `t` (as the last [`FakePrometheus::set_now`]
    /// or [`FakePrometheus::load`] set the clock): poll as of it to walk through a scenario with
    /// a clock that moves as the scenario's does.
    pub fn wall_time(&self, t: i64) -> f64 {
        self.lock().offset + t as f64
    }

    /// Requests answered since start.
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Queries asked that no scenario series answers (each once, in order).
    pub fn unknown_queries(&self) -> Vec<String> {
        self.lock().unknown.clone()
    }
}

impl Drop for FakePrometheus {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Looks `q` up at each wall-clock time; an unknown query is recorded and has no points.
fn lookup(state: &Shared, q: &str, times: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    st.requests += 1;
    let mut out = Vec::new();
    for ts in times {
        match st.value(q, ts) {
            Ok(Some(v)) => out.push((ts, v)),
            Ok(None) => {}
            Err(()) => {
                if !st.unknown.iter().any(|u| u == q) {
                    st.unknown.push(q.to_string());
                }
                break;
            }
        }
    }
    out
}

async fn instant(State(s): State<Shared>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let pairs = params(q.as_deref(), &body);
    let ts = match param(&pairs, "time") {
        None | Some("") => wall_now(),
        Some(v) => match parse_time(v) {
            Some(t) => t,
            None => {
                return bad_data(&format!(
                    "invalid parameter \"time\": cannot parse \"{v}\" to a valid timestamp"
                ));
            }
        },
    };
    let query = param(&pairs, "query").unwrap_or("");
    let result: Vec<Value> = lookup(&s, query, std::iter::once(ts))
        .into_iter()
        .map(|(t, v)| json!({"metric": {}, "value": sample_pair(t, v)}))
        .collect();
    success(json!({"resultType": "vector", "result": result}))
}

async fn range(State(s): State<Shared>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let pairs = params(q.as_deref(), &body);
    let (start, end, step) = match range_params(&pairs) {
        Ok(r) => r,
        Err(e) => return bad_data(&e),
    };
    let query = param(&pairs, "query").unwrap_or("");
    let n = ((end - start) / step).floor() as u64;
    let points = lookup(&s, query, (0..=n).map(|k| start + k as f64 * step));
    let result: Vec<Value> = if points.is_empty() {
        Vec::new()
    } else {
        let values: Vec<Value> = points.iter().map(|(t, v)| sample_pair(*t, *v)).collect();
        vec![json!({"metric": {}, "values": values})]
    };
    success(json!({"resultType": "matrix", "result": result}))
}
