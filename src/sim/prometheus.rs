//! Simulated Prometheus HTTP API: `/api/v1/query`, `/api/v1/query_range` (GET or form POST),
//! `/api/v1/status/buildinfo`, `/-/healthy`, `/-/ready`. Values come from the scenario at the
//! scenario time of each evaluation timestamp.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Shared;
use super::promql::{self, At, Expr, Sample};
use super::util::{param, parse_pairs};

/// Prometheus' limit on points per series of a range query.
const MAX_POINTS: f64 = 11_000.0;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/query", get(query).post(query))
        .route("/api/v1/query_range", get(query_range).post(query_range))
        .route("/api/v1/status/buildinfo", get(buildinfo))
        .route(
            "/-/healthy",
            get(|| async { "Prometheus Server is Healthy.\n" }),
        )
        .route(
            "/-/ready",
            get(|| async { "Prometheus Server is Ready.\n" }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found\n") })
        .with_state(shared)
}

fn json_reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn bad_data(msg: &str) -> Response {
    json_reply(
        StatusCode::BAD_REQUEST,
        &json!({"status": "error", "errorType": "bad_data", "error": msg}),
    )
}

pub(super) fn success(data: Value) -> Response {
    json_reply(StatusCode::OK, &json!({"status": "success", "data": data}))
}

/// Form body first, then the URL query (Go's `FormValue` order).
pub(super) fn params(q: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let mut pairs = parse_pairs(&String::from_utf8_lossy(body));
    pairs.extend(parse_pairs(q.unwrap_or("")));
    pairs
}

/// Unix seconds or RFC 3339.
pub(super) fn parse_time(s: &str) -> Option<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|d| d.unix_timestamp_nanos() as f64 / 1e9)
}

/// Seconds as a float, or a Prometheus duration such as `15s`, `1m30s`, `500ms`.
pub(super) fn parse_duration(s: &str) -> Option<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return None,
        };
        total += n * unit;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// A sample timestamp: milliseconds precision, an integer when whole (as Prometheus prints it).
fn ts_json(ts: f64) -> Value {
    let ms = (ts * 1000.0).round();
    if ms % 1000.0 == 0.0 {
        Value::from((ms / 1000.0) as i64)
    } else {
        Value::from(ms / 1000.0)
    }
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

pub(super) fn sample_pair(ts: f64, v: f64) -> Value {
    json!([ts_json(ts), fmt_value(v)])
}

/// The canaries rolled back by wall-clock `ts` (scenario second `t`), with the seconds since, on
/// the rollback's clock (the world's speed, or 1 s per wall second when it is frozen). A frozen
/// world has a single scenario instant, so there a rollback applies to every timestamp (as the
/// story's values do).
fn rolled_back_at(s: &Shared, ts: f64, t: f64) -> Vec<(&'static str, f64)> {
    let acts = s.github.lock().unwrap_or_else(|e| e.into_inner());
    let rate = s.clock.action_rate();
    acts.rollbacks()
        .iter()
        .filter(|r| ts >= r.wall || t >= r.at)
        .map(|r| (r.app, ((ts - r.wall) * rate).max(0.0)))
        .collect()
}

/// Evaluates a vector-valued expression at wall-clock `ts`.
fn vector_at(s: &Shared, expr: &Expr, ts: f64) -> Vec<Sample> {
    match expr {
        Expr::Scalar(Some(n)) | Expr::Literal(n) => vec![(Map::new(), *n)],
        Expr::Scalar(None) => vec![(Map::new(), ts)],
        Expr::Series {
            kind,
            sel,
            aggregated,
        } => {
            let t = s.clock.at_unix(ts);
            let at = At {
                t,
                rolled_back: rolled_back_at(s, ts, t),
                scale: s.scale,
                rate_scale: s.clock.action_rate(),
            };
            promql::eval_vector(kind, sel, *aggregated, &at)
        }
    }
}

async fn query(State(s): State<Arc<Shared>>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let pairs = params(q.as_deref(), &body);
    let ts = match param(&pairs, "time") {
        None | Some("") => s.clock.unix_now(),
        Some(v) => match parse_time(v) {
            Some(t) => t,
            None => {
                return bad_data(&format!(
                    "invalid parameter \"time\": cannot parse \"{v}\" to a valid timestamp"
                ));
            }
        },
    };
    let expr = match promql::parse(param(&pairs, "query").unwrap_or("")) {
        Ok(e) => e,
        Err(e) => {
            return bad_data(&format!(
                "invalid parameter \"query\": 1:1: parse error: {e}"
            ));
        }
    };
    if let Expr::Scalar(n) = expr {
        let v = n.unwrap_or(ts);
        return success(json!({"resultType": "scalar", "result": sample_pair(ts, v)}));
    }
    let result: Vec<Value> = vector_at(&s, &expr, ts)
        .into_iter()
        .map(|(metric, v)| json!({"metric": metric, "value": sample_pair(ts, v)}))
        .collect();
    success(json!({"resultType": "vector", "result": result}))
}

/// `start`, `end` and `step` of a range query, checked as Prometheus checks them (its error
/// messages when they are not).
pub(super) fn range_params(pairs: &[(String, String)]) -> Result<(f64, f64, f64), String> {
    let get_time = |key: &str| {
        let v = param(pairs, key).unwrap_or("");
        parse_time(v).ok_or_else(|| {
            format!("invalid parameter \"{key}\": cannot parse \"{v}\" to a valid timestamp")
        })
    };
    let (start, end) = match (get_time("start"), get_time("end")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let step_raw = param(pairs, "step").unwrap_or("");
    let Some(step) = parse_duration(step_raw) else {
        return Err(format!(
            "invalid parameter \"step\": cannot parse \"{step_raw}\" to a valid duration"
        ));
    };
    if end < start {
        return Err(
            "invalid parameter \"end\": end timestamp must not be before start time".to_string(),
        );
    }
    if step <= 0.0 {
        return Err("invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer".to_string());
    }
    if (end - start) / step > MAX_POINTS {
        return Err("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".to_string());
    }
    Ok((start, end, step))
}

async fn query_range(State(s): State<Arc<Shared>>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let pairs = params(q.as_deref(), &body);
    let (start, end, step) = match range_params(&pairs) {
        Ok(r) => r,
        Err(e) => return bad_data(&e),
    };
    let expr = match promql::parse(param(&pairs, "query").unwrap_or("")) {
        Ok(e) => e,
        Err(e) => {
            return bad_data(&format!(
                "invalid parameter \"query\": 1:1: parse error: {e}"
            ));
        }
    };
    // Series in first-seen order, keyed by their label set.
    let mut series: Vec<(Map<String, Value>, Vec<Value>)> = Vec::new();
    let mut k = 0.0;
    loop {
        let ts = start + k * step;
        if ts > end {
            break;
        }
        for (metric, v) in vector_at(&s, &expr, ts) {
            match series.iter_mut().find(|(m, _)| *m == metric) {
                Some((_, values)) => values.push(sample_pair(ts, v)),
                None => series.push((metric, vec![sample_pair(ts, v)])),
            }
        }
        k += 1.0;
    }
    let result: Vec<Value> = series
        .into_iter()
        .map(|(metric, values)| json!({"metric": metric, "values": values}))
        .collect();
    success(json!({"resultType": "matrix", "result": result}))
}

async fn buildinfo() -> Response {
    success(json!({
        "version": "3.5.0",
        "revision": "flightdeck-sim",
        "branch": "HEAD",
        "buildUser": "flightdeck@sim",
        "buildDate": "20261123-09:00:00",
        "goVersion": "go1.24.4"
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(parse_duration("15"), Some(15.0));
        assert_eq!(parse_duration("1m30s"), Some(90.0));
        assert_eq!(parse_duration("500ms"), Some(0.5));
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_time("1435781451.781"), Some(1_435_781_451.781));
        assert_eq!(parse_time("2015-07-01T20:10:51Z"), Some(1_435_781_451.0));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(ts_json(1_435_781_451.0), json!(1_435_781_451));
        assert_eq!(ts_json(1_435_781_451.781), json!(1_435_781_451.781));
        assert_eq!(fmt_value(10.0), "10");
        assert_eq!(fmt_value(f64::INFINITY), "+Inf");
    }
}
