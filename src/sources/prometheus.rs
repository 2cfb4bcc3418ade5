//! Prometheus HTTP API: instant queries for each configured service's weight and metrics.

use super::http::{Http, SourceError, error_summary, rate_limit_wait};
use crate::config::{PrometheusConfig, ServiceConfig};
use crate::domain::CountStep;
use crate::domain::{MetricReading, ServiceRollout, SourceData};
use serde::Deserialize;
use time::OffsetDateTime;

/// A ratio's counts per step (`None`: to be read another way) and the stable version's counts
/// from before the rollout began with the points they were summed from.
type CountsRead = (Option<Vec<(f64, CountStep)>>, PriorCounts);
/// The stable version's requests and events before the rollout began, and how many points they
/// were summed from.
type PriorCounts = Option<(f64, f64, usize)>;
/// (time, value) points of one series.
type Timed = Vec<(f64, f64)>;
/// Points of one series, and Prometheus's warnings about the query.
type Points = (Timed, Vec<String>);

/// A range query: its text, start and end (milliseconds) and step.
type RangeKey = (String, i64, i64, u64);

/// Queries longer than this go in a POST body, as Prometheus allows.
const MAX_GET_QUERY: usize = 1500;

pub struct Prometheus {
    http: Http,
    base: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    services: Vec<ServiceConfig>,
    /// Ranges of the past that no longer change (the stable version's history before a rollout
    /// began): read once, then served from here.
    fixed: std::sync::Mutex<std::collections::HashMap<RangeKey, Vec<(f64, f64)>>>,
    /// Per service: when its rollout began, and the poll that last saw it going on (the lookback
    /// stops showing the start once the rollout is older than it).
    began: std::sync::Mutex<std::collections::HashMap<String, (f64, f64)>>,
}

/// At most this many fixed ranges are kept (every service's counted metrics, two queries each).
const FIXED_RANGES: usize = 512;

#[derive(Clone)]
enum Auth {
    None,
    Bearer(crate::config::Secret),
    Basic(String, crate::config::Secret),
}

/// The response envelope of every Prometheus API call.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub status: String,
    #[serde(default)]
    pub data: Option<QueryData>,
    #[serde(default, rename = "errorType")]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum QueryData {
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
    Scalar((f64, String)),
    String((f64, String)),
}

#[derive(Debug, Deserialize)]
pub struct Sample {
    #[serde(default)]
    pub metric: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub value: Option<(f64, String)>,
    #[serde(default)]
    pub histogram: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct Series {
    #[serde(default)]
    pub metric: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub values: Vec<(f64, String)>,
    #[serde(default)]
    pub histograms: Option<serde_json::Value>,
}

/// Prometheus sample values are strings: numbers, "NaN", "+Inf", "-Inf".
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        other => other.parse().ok(),
    }
}

impl Envelope {
    /// The points of the first series of a range (matrix) result; a vector or scalar result gives
    /// its one point. No series at all is no data, not an error.
    pub fn points(&self) -> Result<Vec<(f64, f64)>, SourceError> {
        self.single_value()?;
        Ok(match &self.data {
            Some(QueryData::Matrix(series)) => series
                .first()
                .map(|s| {
                    s.values
                        .iter()
                        .filter_map(|(t, v)| parse_value(v).map(|v| (*t, v)))
                        .collect()
                })
                .unwrap_or_default(),
            Some(QueryData::Vector(samples)) => samples
                .iter()
                .find_map(|s| s.value.as_ref())
                .and_then(|(t, v)| parse_value(v).map(|v| vec![(*t, v)]))
                .unwrap_or_default(),
            Some(QueryData::Scalar((t, v))) => {
                parse_value(v).map(|v| vec![(*t, v)]).unwrap_or_default()
            }
            _ => Vec::new(),
        })
    }

    /// One number from an instant query: the scalar, or the single (first) sample of a vector.
    /// `Ok(None)` when the vector is empty (no data).
    pub fn single_value(&self) -> Result<Option<f64>, SourceError> {
        if self.status != "success" {
            return Err(SourceError::Query {
                error_type: crate::sanitize::clean(self.error_type.as_deref().unwrap_or("error")),
                error: crate::sanitize::clean(self.error.as_deref().unwrap_or("unknown")),
            });
        }
        match &self.data {
            Some(QueryData::Scalar((_, v))) => Ok(parse_value(v)),
            Some(QueryData::Vector(samples)) => Ok(samples
                .iter()
                .find_map(|s| s.value.as_ref())
                .and_then(|(_, v)| parse_value(v))),
            Some(QueryData::Matrix(series)) => Ok(series
                .first()
                .and_then(|s| s.values.last())
                .and_then(|(_, v)| parse_value(v))),
            Some(QueryData::String(_)) | None => Err(SourceError::Decode(
                "expected a number (vector or scalar result)".into(),
            )),
        }
    }
}

impl Prometheus {
    pub fn new(
        http: Http,
        cfg: &PrometheusConfig,
        services: &[ServiceConfig],
    ) -> Result<Prometheus, SourceError> {
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(crate::config::Secret::new)
                .ok_or_else(|| {
                    SourceError::Config(format!(
                        "prometheus.auth names the environment variable {name}, which is not set"
                    ))
                })
        };
        let auth = match &cfg.auth {
            Some(a) if a.bearer_env.is_some() => {
                Auth::Bearer(env(a.bearer_env.as_deref().unwrap_or_default())?)
            }
            Some(a) if a.basic_user.is_some() => Auth::Basic(
                a.basic_user.clone().unwrap_or_default(),
                env(a.basic_password_env.as_deref().unwrap_or_default())?,
            ),
            _ => Auth::None,
        };
        Ok(Prometheus {
            http,
            base: cfg.url.trim_end_matches('/').to_string(),
            auth,
            headers: cfg
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            services: services.to_vec(),
            fixed: Default::default(),
            began: Default::default(),
        })
    }

    /// Run an instant query and return the envelope (errors in the envelope are left to the caller).
    pub async fn query(&self, q: &str) -> Result<Envelope, SourceError> {
        self.call("query", &[("query", q.to_string())], None).await
    }

    /// Run a range query over `[start, end]` (unix seconds) at `step` seconds.
    pub async fn query_range(
        &self,
        q: &str,
        start: f64,
        end: f64,
        step: u64,
    ) -> Result<Envelope, SourceError> {
        self.range(q, start, end, step, None).await
    }

    async fn range(
        &self,
        q: &str,
        start: f64,
        end: f64,
        step: u64,
        gate: Option<&Gate>,
    ) -> Result<Envelope, SourceError> {
        let params = [
            ("query", q.to_string()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", step.to_string()),
        ];
        self.call("query_range", &params, gate).await
    }

    /// One request. `Err` means Prometheus as a whole failed it (unreachable, a refused token, a
    /// rate limit, a 5xx or an answer that is not Prometheus's); a query Prometheus refused comes
    /// back `Ok` with the refusal in its envelope. Within a poll (`gate`), no request is sent
    /// once one has failed that way, and the first goes alone.
    async fn call(
        &self,
        endpoint: &str,
        params: &[(&str, String)],
        gate: Option<&Gate>,
    ) -> Result<Envelope, SourceError> {
        let Some(gate) = gate else {
            return self.send(endpoint, params).await;
        };
        let first = gate.enter().await?;
        let result = self.send(endpoint, params).await;
        gate.leave(first, result.as_ref().err());
        result
    }

    async fn send(
        &self,
        endpoint: &str,
        params: &[(&str, String)],
    ) -> Result<Envelope, SourceError> {
        let url = format!("{}/api/v1/{endpoint}", self.base);
        let long = params.iter().map(|(_, v)| v.len()).sum::<usize>() > MAX_GET_QUERY;
        let mut req = if long {
            self.http.client().post(&url).form(params)
        } else {
            self.http.client().get(&url).query(params)
        };
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t.expose()),
            Auth::Basic(u, p) => req.basic_auth(u, Some(p.expose())),
        };
        let resp = self.http.send(req).await?;
        if let Some(secs) = rate_limit_wait(&resp, now_unix()) {
            // A proxy's rate limit in front of Prometheus: a wait for the whole poll.
            return Err(SourceError::RateLimited {
                retry_after_secs: secs,
            });
        }
        if resp.status == 401 || resp.status == 403 {
            // Refused credentials fail the whole poll, not one query.
            return Err(SourceError::Auth {
                status: resp.status,
                hint: format!(
                    "{}; check prometheus.auth and prometheus.headers",
                    // A plain-text "Unauthorized\n" (basic auth) without its line end.
                    error_summary(&resp.body).trim_end()
                ),
            });
        }
        match serde_json::from_slice::<Envelope>(&resp.body) {
            // A server error is the server's, not the query's — except a query that ran out of
            // time (Prometheus answers 503 `timeout` for that one query).
            Ok(env) if resp.status >= 500 && env.error_type.as_deref() != Some("timeout") => {
                Err(SourceError::Status {
                    status: resp.status,
                    message: error_summary(&resp.body),
                })
            }
            Ok(env) => Ok(env),
            Err(e) if resp.status == 200 => Err(SourceError::Decode(format!("query result: {e}"))),
            Err(_) => Err(SourceError::Status {
                status: resp.status,
                message: error_summary(&resp.body),
            }),
        }
    }

    async fn value(&self, q: &str) -> Result<Option<f64>, SourceError> {
        self.query(q).await?.single_value()
    }

    /// The first series of a range query as (timestamp, value) points, with the envelope's warnings.
    async fn series(
        &self,
        q: &str,
        svc: &ServiceConfig,
        end: f64,
        gate: &Gate,
    ) -> Result<Points, SourceError> {
        self.series_since(q, svc, end - svc.lookback_secs as f64, end, gate)
            .await
    }

    /// A canary-side query from `start` (on the grid of `end`) to `end`.
    async fn series_since(
        &self,
        q: &str,
        svc: &ServiceConfig,
        start: f64,
        end: f64,
        gate: &Gate,
    ) -> Result<Points, SourceError> {
        let start = on_grid(end, svc.step_secs, start);
        let env = self.range(q, start, end, svc.step_secs, Some(gate)).await?;
        let warnings = env
            .warnings
            .iter()
            .map(|w| crate::sanitize::clean(w))
            .collect();
        Ok((env.points()?, warnings))
    }

    /// A range that ended at least two steps before `end` (complete, and fixed from then on):
    /// read once and kept. For ranges every poll asks for alike (on whole steps of the clock).
    async fn fixed_range(
        &self,
        q: &str,
        (from, to): (f64, f64),
        step: u64,
        end: f64,
        gate: &Gate,
    ) -> Result<Points, SourceError> {
        let k = (q.to_string(), key(from), key(to), step);
        let cached = self.fixed.lock().ok().and_then(|c| c.get(&k).cloned());
        if let Some(points) = cached {
            return Ok((points, Vec::new()));
        }
        let points = self.range(q, from, to, step, Some(gate)).await?.points()?;
        if to <= end - 2.0 * step as f64
            && let Ok(mut c) = self.fixed.lock()
        {
            if c.len() >= FIXED_RANGES {
                c.clear();
            }
            c.insert(k, points.clone());
        }
        Ok((points, Vec::new()))
    }

    /// A baseline-side query: over the lookback before `end`, or over `history` (the lookback
    /// before the rollout began, and the rollout up to the last slice) when the canary has all
    /// the traffic.
    async fn baseline_series(
        &self,
        q: &str,
        svc: &ServiceConfig,
        end: f64,
        history: Option<(f64, f64)>,
        gate: &Gate,
    ) -> Result<Points, SourceError> {
        match history {
            // On the canary's grid, which moves with every poll: read each time (a kept copy
            // would never be asked for again).
            Some((from, to)) => {
                let env = self.range(q, from, to, svc.step_secs, Some(gate)).await?;
                Ok((env.points()?, Vec::new()))
            }
            None => self.series(q, svc, end, gate).await,
        }
    }

    /// When `svc`'s rollout began, as an earlier poll found it — `Some(None)`: not within the
    /// longer series either — kept while the polls follow each other within the lookback and the
    /// weight stays above 0 (the lookback stops showing the start once the rollout is older than
    /// it). `None` when the lookback shows it, or when it must be looked up.
    fn known_start(
        &self,
        svc: &ServiceConfig,
        end: f64,
        seen: Option<f64>,
        rolling: bool,
    ) -> Option<Option<f64>> {
        let mut m = self.began.lock().ok()?;
        if !rolling || seen.is_some_and(f64::is_finite) {
            if !rolling {
                m.remove(&svc.name);
            }
            return None;
        }
        match m.get(&svc.name) {
            Some(&(b, at))
                if at <= end && end - at <= svc.lookback_secs as f64 && (b.is_nan() || b < end) =>
            {
                Some((!b.is_nan()).then_some(b))
            }
            _ => {
                m.remove(&svc.name);
                None
            }
        }
    }

    async fn read_service(
        &self,
        svc: &ServiceConfig,
        gate: &Gate,
        end: f64,
    ) -> Result<ServiceRollout, SourceError> {
        let mut warnings = Vec::new();
        // (`appeared`: the weight series' first point, when it began within the lookback — a
        // canary whose weight exists only while it is deployed; what tells one rollout from the
        // next when no point of weight 0 does.)
        let (weight, weight_error, slice_since, rollout_since, appeared) = match &svc.weight {
            Some(q) => match fatal(gate, self.series(q, svc, end, gate).await)? {
                Ok((points, w)) => {
                    warnings.extend(w);
                    let last = points.last().map(|(_, v)| *v).filter(|v| v.is_finite());
                    let appeared = points.first().map(|(t, _)| *t).filter(|t| {
                        *t > end - svc.lookback_secs as f64 + 2.0 * svc.step_secs as f64
                    });
                    (
                        last,
                        None,
                        slice_start(&points),
                        rollout_start(&points),
                        appeared,
                    )
                }
                Err(e) => (None, Some(e.to_string()), None, None, None),
            },
            None => (None, None, None, None, None),
        };
        // At 100 % the baseline serves nothing: the service's own history from before the
        // rollout began stands in for it (the baseline's queries over the lookback before then).
        let full = weight.is_some_and(|w| w >= 100.0);
        // While the canary shares the traffic, a counted ratio is also compared with the stable
        // version's own counts from before the rollout began (read once, see `prior`).
        let sharing =
            !full && weight.is_some_and(|w| w > 0.0) && svc.metrics.values().any(|m| m.counted());
        let mut slice_since = slice_since;
        let (began, looked) = self
            .rollout_began(
                svc,
                gate,
                end,
                full,
                sharing,
                rollout_since,
                &mut slice_since,
            )
            .await?;
        // The history runs up to the moment the stable version lost its traffic: its last
        // minutes tell a shared problem (it had it too) from the canary's.
        let lost = slice_since.map(|t| t.unix_timestamp() as f64);
        // Kept for the next poll: the start, or (below 100 %) that the longer series does not
        // hold it either, so it is not looked for at every poll of a rollout older than that.
        let keep = began.or((sharing && looked).then_some(f64::NAN));
        if let Some(b) = keep
            && let Ok(mut m) = self.began.lock()
        {
            m.insert(svc.name.clone(), (b, end));
        }
        let plan = ReadPlan::new(
            svc,
            end,
            (full, sharing),
            (began, rollout_since),
            slice_since,
            lost,
        );
        let mut traffic_points: Vec<(f64, f64)> = Vec::new();
        let traffic = match &svc.traffic {
            Some(q) => match fatal(gate, self.series(q, svc, end, gate).await)? {
                Ok((points, _)) => {
                    let last = points.last().map(|(_, v)| *v).filter(|v| v.is_finite());
                    traffic_points = points;
                    last
                }
                Err(_) => None,
            },
            None => None,
        };
        // The baseline's traffic, read when a ratio is first counted from it (`kind = "ratio"`, or
        // one read apart from its query whose halves did not count).
        let mut baseline_traffic_points: Option<Timed> = None;
        let mut metrics = Vec::new();
        for (name, m) in &svc.metrics {
            metrics.push(
                self.read_metric(
                    svc,
                    gate,
                    &plan,
                    name,
                    m,
                    &traffic_points,
                    &mut baseline_traffic_points,
                    &mut warnings,
                )
                .await?,
            );
        }
        warnings.sort();
        warnings.dedup();
        Ok(ServiceRollout {
            name: svc.name.clone(),
            environment: svc.environment.clone(),
            production: svc.production,
            slices: svc.slices.clone(),
            weight,
            weight_error,
            metrics,
            slice_since,
            traffic,
            min_traffic: svc.min_traffic,
            repo: svc.repo.clone(),
            autopilot: svc.autopilot,
            warnings,
            read_at: OffsetDateTime::from_unix_timestamp(end as i64).ok(),
            bake_secs: svc.bake_secs,
            rollout_began: [began, rollout_since, appeared]
                .into_iter()
                .flatten()
                .find(|b| b.is_finite())
                .and_then(|b| OffsetDateTime::from_unix_timestamp(b as i64).ok()),
            baseline_history: plan.history.and_then(|(from, to)| {
                Some((
                    OffsetDateTime::from_unix_timestamp(from as i64).ok()?,
                    OffsetDateTime::from_unix_timestamp(to as i64).ok()?,
                ))
            }),
        })
    }

    /// When the rollout began, at 100 % or while a counted ratio shares the traffic: from the
    /// weight's lookback when it shows it, as an earlier poll found it, or from the longer series
    /// (`history_secs`) with a second look at the step before it. At 100 % the moment the weight
    /// got there (`slice_since`) is taken from the longer series too when the lookback saw only
    /// 100 %. Also whether the longer series was read (and answered) this poll.
    #[allow(clippy::too_many_arguments)]
    async fn rollout_began(
        &self,
        svc: &ServiceConfig,
        gate: &Gate,
        end: f64,
        full: bool,
        sharing: bool,
        rollout_since: Option<f64>,
        slice_since: &mut Option<OffsetDateTime>,
    ) -> Result<(Option<f64>, bool), SourceError> {
        let known = self.known_start(svc, end, rollout_since, full || sharing);
        // Whether the longer series was read (and answered) this poll.
        let mut looked = false;
        let began = match (full || sharing, rollout_since, &svc.weight) {
            (false, _, _) => None,
            (true, Some(t), _) if t.is_finite() => Some(t),
            (true, _, _) if known.is_some() && !full => known.flatten(),
            (true, _, Some(q)) => {
                let from = end - svc.history_secs as f64;
                let step = (svc.history_secs / 600).max(svc.step_secs);
                let points = fatal(
                    gate,
                    self.range(q, from, end, step, Some(gate))
                        .await
                        .and_then(|e| Ok((e.points()?, Vec::new()))),
                )?
                .map(|(p, _)| p)
                .unwrap_or_default();
                looked = !points.is_empty();
                // The lookback saw only 100 %: when it began is in the longer series, to within
                // its step; a second look at the step before it finds the moment.
                if let Some(s) = slice_start(&points)
                    && full
                    && slice_since.is_none_or(|l| s < l)
                {
                    let at = s.unix_timestamp() as f64;
                    let fine = fatal(
                        gate,
                        self.range(q, at - step as f64, at, svc.step_secs, Some(gate))
                            .await
                            .and_then(|e| Ok((e.points()?, Vec::new()))),
                    )?
                    .map(|(p, _)| p)
                    .unwrap_or_default();
                    *slice_since = slice_start(&fine).or(Some(s));
                }
                // The rollout's start, to within the longer series' step: kept from an earlier
                // poll, or found on the canary's grid of steps with a second look at the step
                // before it (else the counts' start would move with that grid from poll to poll).
                match (
                    known.flatten(),
                    rollout_start(&points).filter(|t| t.is_finite()),
                ) {
                    (Some(b), _) => Some(b),
                    (None, Some(c)) => {
                        let fine = fatal(
                            gate,
                            self.range(
                                q,
                                on_grid(end, svc.step_secs, c - step as f64),
                                c,
                                svc.step_secs,
                                Some(gate),
                            )
                            .await
                            .and_then(|e| Ok((e.points()?, Vec::new()))),
                        )?
                        .map(|(p, _)| p)
                        .unwrap_or_default();
                        rollout_start(&fine).filter(|t| t.is_finite()).or(Some(c))
                    }
                    (None, None) => None,
                }
            }
            _ => None,
        };
        Ok((began, looked))
    }

    /// One metric of a service over the poll's ranges ([`ReadPlan`]): its canary and baseline
    /// points, and for a ratio judged on its counts the requests and events per step — from its
    /// `errors`/`requests` queries, or from the ratio times the service's traffic — with the
    /// stable version's counts from before the rollout began.
    #[allow(clippy::too_many_arguments)]
    async fn read_metric(
        &self,
        svc: &ServiceConfig,
        gate: &Gate,
        plan: &ReadPlan,
        name: &str,
        m: &crate::config::MetricConfig,
        traffic_points: &[(f64, f64)],
        baseline_traffic_points: &mut Option<Timed>,
        warnings: &mut Vec<String>,
    ) -> Result<MetricReading, SourceError> {
        let ReadPlan {
            end,
            rollout_since,
            slice_since,
            history,
            canary_from,
            ..
        } = *plan;
        // Whether a ratio whose halves do not count can be counted from the traffic instead.
        let from_traffic = svc.traffic.is_some() && !traffic_points.is_empty();
        // How many lookbacks a prior summed from `n` points spans.
        let lookbacks =
            |n: usize| n as f64 * svc.step_secs.max(1) as f64 / svc.lookback_secs.max(1) as f64;
        let canary = fatal(
            gate,
            self.series_since(&m.canary, svc, canary_from, end, gate)
                .await,
        )?;
        let baseline = match &m.baseline {
            Some(b) => {
                fatal(gate, self.baseline_series(b, svc, end, history, gate).await)?.map(Some)
            }
            None => Ok(None),
        };
        let error = match (&canary, &baseline) {
            (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
            _ => None,
        };
        // (A refused ratio is no count at all: not a ratio of 0.)
        let (canary_ok, baseline_ok) = (canary.is_ok(), baseline.is_ok());
        let (canary_points, w1) = canary.unwrap_or_default();
        let (baseline_points, w2) = baseline.ok().flatten().unwrap_or_default();
        warnings.extend(w1);
        warnings.extend(w2);
        let last = |p: &[(f64, f64)]| p.last().map(|(_, v)| *v);
        // Each traffic step starts a new analysis: the judge reads the current slice only.
        let slice_t = slice_since.map(|t| t.unix_timestamp() as f64);
        let in_slice = |p: &[(f64, f64)]| match slice_t {
            Some(s) => p.iter().filter(|(t, _)| *t >= s).count(),
            None => p.len(),
        };
        let span = slice_t
            .map(|s| (end - s).max(0.0) as u64)
            .unwrap_or(svc.lookback_secs)
            .min(svc.lookback_secs);
        let slice_points: Vec<(f64, f64)> = canary_points
            .iter()
            .copied()
            .filter(|(t, _)| slice_t.is_none_or(|s| *t >= s))
            .collect();
        // A ratio judged on counts: requests and events per step, from their own queries or
        // from the ratio times the traffic (`None`: the latter), with the stable version's
        // requests and events before the rollout began and how many points they were summed
        // from.
        let (halves, prior_counts) = if !m.counted() {
            (Some(Vec::new()), None)
        } else if let (Some(eq), Some(rq)) = (&m.errors, &m.requests) {
            self.counts_from_halves(
                svc,
                gate,
                plan,
                (name, m),
                (eq, rq),
                &canary_points,
                &baseline_points,
                from_traffic,
                warnings,
            )
            .await?
        } else {
            (None, None)
        };
        // (Halves that did not count leave no counts from before the rollout: the traffic's
        // reading gives its own.)
        let (counts, prior_counts) = match halves {
            Some(counts) => (counts, prior_counts),
            None if !canary_ok => (Vec::new(), prior_counts),
            None => {
                self.counts_from_traffic(
                    svc,
                    gate,
                    plan,
                    m,
                    &canary_points,
                    &baseline_points,
                    baseline_ok,
                    traffic_points,
                    baseline_traffic_points,
                )
                .await?
            }
        };
        // Counts since the rollout began (the evidence carried across its slices).
        let in_rollout =
            rollout_since.map(|r| canary_points.iter().filter(|(t, _)| *t >= r).count());
        let counts: Vec<CountStep> = counts
            .into_iter()
            .filter(|(t, _)| rollout_since.is_none_or(|r| *t >= r))
            .map(|(_, c)| c)
            .collect();
        Ok(MetricReading {
            name: name.to_string(),
            canary: last(&canary_points),
            baseline: last(&baseline_points),
            max: m.max,
            min: m.min,
            error,
            // History is the baseline's whole sample.
            in_slice: slice_t.map(|_| {
                (
                    in_slice(&canary_points),
                    if history.is_some() {
                        baseline_points.len()
                    } else {
                        in_slice(&baseline_points)
                    },
                )
            }),
            windows: windows(&slice_points, end, svc.window_secs, span),
            canary_samples: canary_points.iter().map(|(_, v)| *v).collect(),
            baseline_samples: baseline_points.iter().map(|(_, v)| *v).collect(),
            counts,
            prior: prior_counts.map(|(r, e, _)| (r, e)),
            prior_lookbacks: prior_counts.map(|(_, _, n)| lookbacks(n)),
            in_rollout,
            window_steps: (svc.window_secs / svc.step_secs.max(1)).max(1) as usize,
            window_secs: svc.window_secs,
            quantile: super::promql::quantile_of(&m.canary),
            min_samples: m.min_samples.unwrap_or(0),
            overlap: longest_range(&m.canary)
                .map_or(1.0, |r| (r / svc.step_secs.max(1) as f64).max(1.0)),
            lower_is_worse: m.lower_is_worse(),
            critical: m.critical,
            weight: m.weight.unwrap_or(1.0),
            failure_limit: m.failure_limit.unwrap_or(1),
            tolerance: m.tolerance.unwrap_or(0.1),
            detect: m.detect,
        })
    }

    /// A ratio's counts from its `errors`/`requests` queries (and the baseline's), with the
    /// stable version's counts from before the rollout began; `None` for the counts when they
    /// are to be read from the ratio and the traffic instead (halves read from a ratio's query
    /// that do not give it back).
    #[allow(clippy::too_many_arguments)]
    async fn counts_from_halves(
        &self,
        svc: &ServiceConfig,
        gate: &Gate,
        plan: &ReadPlan,
        (name, m): (&str, &crate::config::MetricConfig),
        (eq, rq): (&str, &str),
        canary_points: &[(f64, f64)],
        baseline_points: &[(f64, f64)],
        from_traffic: bool,
        warnings: &mut Vec<String>,
    ) -> Result<CountsRead, SourceError> {
        let ReadPlan {
            end,
            began,
            prior,
            history,
            counts_from,
            ..
        } = *plan;
        let mut prior_counts = None;
        // The halves read from a ratio's query are ours, not the user's: a Prometheus (or
        // a proxy) that fails them fails this metric's counts, never the poll (the ratio
        // is then judged on its samples).
        let own_gate = Gate::default();
        let halves_gate = if m.counts_from_ratio { &own_gate } else { gate };
        // At 100 % the counts reach back to the rollout's start when it began before the
        // lookback: evidence carried across every slice, on the history's grid.
        let ce = fatal(
            gate,
            self.series_since(eq, svc, counts_from, end, halves_gate)
                .await,
        )?;
        let cr = fatal(
            gate,
            self.series_since(rq, svc, counts_from, end, halves_gate)
                .await,
        )?;
        // Both of the baseline's answers or neither: with one refused, the other alone
        // would read as requests without events.
        let baseline = match (&m.baseline_errors, &m.baseline_requests) {
            (Some(beq), Some(brq)) => {
                let be = fatal(
                    gate,
                    self.baseline_series(beq, svc, end, history, halves_gate)
                        .await,
                )?;
                let br = fatal(
                    gate,
                    self.baseline_series(brq, svc, end, history, halves_gate)
                        .await,
                )?;
                be.ok().zip(br.ok())
            }
            _ => None,
        };
        let (be, br) = baseline.map(|(be, br)| (be.0, br.0)).unwrap_or_default();
        if let (Some(span), Some(beq), Some(brq)) =
            (prior, &m.baseline_errors, &m.baseline_requests)
        {
            let be = fatal(
                gate,
                self.fixed_range(beq, span, svc.step_secs, end, halves_gate)
                    .await,
            )?;
            let br = fatal(
                gate,
                self.fixed_range(brq, span, svc.step_secs, end, halves_gate)
                    .await,
            )?;
            if let (Ok((be, _)), Ok((br, _))) = (be, br) {
                prior_counts = totals_n_at(&br, &be, svc.step_secs as f64);
            }
        }
        let counts = match (ce, cr) {
            // Counts read from the ratio's own halves stand only where they give back the
            // ratio Prometheus answers (a Prometheus, or a proxy, that does not answer
            // the halves as it answers the whole would count something else): else the
            // ratio is judged on its samples, and the warnings say so.
            (Ok((ce, _)), Ok((cr, _)))
                if m.counts_from_ratio
                    && ((cr.is_empty() && !canary_points.is_empty())
                        || (br.is_empty() && !baseline_points.is_empty())
                        || !(reproduces(canary_points, &cr, &ce)
                            && reproduces(baseline_points, &br, &be))) =>
            {
                prior_counts = None;
                halves_failed(
                    name,
                    "its query's numerator over its denominator does not give back the ratio",
                    from_traffic,
                    warnings,
                )
            }
            (Ok((ce, _)), Ok((cr, _))) => {
                if ce.is_empty() && !cr.is_empty() {
                    warnings.push(format!(
                        "{}: no series answers its errors query: counted as no errors (an error label appears with the first error; check the query if there have been some)",
                        crate::sanitize::clean(name)
                    ));
                }
                let mut steps = count_steps(&cr, &ce, &br, &be, svc.step_secs as f64);
                if history.is_some() {
                    with_history(&mut steps, &br, &be, svc.step_secs as f64);
                    if prior_counts.is_none() {
                        prior_counts = before_start(&br, &be, began, svc.step_secs as f64);
                    }
                }
                Some(steps)
            }
            _ if m.counts_from_ratio => {
                prior_counts = None;
                halves_failed(
                    name,
                    "its query's numerator or denominator was refused",
                    from_traffic,
                    warnings,
                )
            }
            _ => Some(Vec::new()),
        };
        Ok((counts, prior_counts))
    }

    /// A ratio's counts from its samples times the service's `traffic` (and `baseline_traffic`,
    /// read once per poll when first needed), with the stable version's counts from before the
    /// rollout began.
    #[allow(clippy::too_many_arguments)]
    async fn counts_from_traffic(
        &self,
        svc: &ServiceConfig,
        gate: &Gate,
        plan: &ReadPlan,
        m: &crate::config::MetricConfig,
        canary_points: &[(f64, f64)],
        baseline_points: &[(f64, f64)],
        baseline_ok: bool,
        traffic_points: &[(f64, f64)],
        baseline_traffic_points: &mut Option<Timed>,
    ) -> Result<(Vec<(f64, CountStep)>, PriorCounts), SourceError> {
        let ReadPlan {
            end,
            began,
            prior,
            history,
            counts_from,
            ..
        } = *plan;
        let mut prior_counts = None;
        if baseline_traffic_points.is_none() {
            *baseline_traffic_points = Some(match &svc.baseline_traffic {
                Some(q) => fatal(gate, self.baseline_series(q, svc, end, history, gate).await)?
                    .map(|(p, _)| p)
                    .unwrap_or_default(),
                None => Vec::new(),
            });
        }
        let baseline_traffic_points: &[(f64, f64)] = match baseline_traffic_points.as_deref() {
            Some(p) if baseline_ok => p,
            _ => &[],
        };
        let times = |p: &[(f64, f64)], r: &[(f64, f64)]| -> Vec<(f64, f64)> {
            let by_t = by_time(r);
            p.iter()
                .filter_map(|(t, v)| by_t.get(&key(*t)).map(|ratio| (*t, v * ratio)))
                .collect()
        };
        // At 100 % the counts reach back to the rollout's start, as the halves' do: the
        // ratio and the traffic since then (over the lookback alone the slices before
        // would be left out).
        let mut since: Option<[Timed; 2]> = None;
        if let (true, Some(tq)) = (counts_from < end - svc.lookback_secs as f64, &svc.traffic) {
            let r = fatal(
                gate,
                self.series_since(&m.canary, svc, counts_from, end, gate)
                    .await,
            )?;
            let t = fatal(
                gate,
                self.series_since(tq, svc, counts_from, end, gate).await,
            )?;
            if let (Ok((r, _)), Ok((t, _))) = (r, t) {
                since = Some([r, t]);
            }
        }
        let [ratio_points, traffic_points]: [&[(f64, f64)]; 2] = match &since {
            Some([r, t]) => [r, t],
            None => [canary_points, traffic_points],
        };
        let baseline_events = times(baseline_traffic_points, baseline_points);
        if let (Some(span), Some(bq), Some(tq)) = (prior, &m.baseline, &svc.baseline_traffic) {
            let ratio = fatal(
                gate,
                self.fixed_range(bq, span, svc.step_secs, end, gate).await,
            )?;
            let tr = fatal(
                gate,
                self.fixed_range(tq, span, svc.step_secs, end, gate).await,
            )?;
            if let (Ok((ratio, _)), Ok((tr, _))) = (ratio, tr) {
                prior_counts = totals_n_at(&tr, &times(&tr, &ratio), svc.step_secs as f64);
            }
        }
        let mut steps = count_steps(
            traffic_points,
            &times(traffic_points, ratio_points),
            baseline_traffic_points,
            &baseline_events,
            svc.step_secs as f64,
        );
        if history.is_some() {
            with_history(
                &mut steps,
                baseline_traffic_points,
                &baseline_events,
                svc.step_secs as f64,
            );
            if prior_counts.is_none() {
                prior_counts = before_start(
                    baseline_traffic_points,
                    &baseline_events,
                    began,
                    svc.step_secs as f64,
                );
            }
        }
        Ok((steps, prior_counts))
    }

    /// One poll: every configured service, concurrently after a first query that goes alone. A
    /// failure of Prometheus as a whole (see `call`) fails the poll at its first failing request;
    /// a bad query fails only its metric.
    pub async fn poll(&mut self) -> Result<SourceData, SourceError> {
        self.poll_at(OffsetDateTime::now_utc().unix_timestamp() as f64)
            .await
    }

    /// A poll as of `end` (unix seconds): what the judge read then (replay, `judge --at`).
    pub async fn poll_at(&self, end: f64) -> Result<SourceData, SourceError> {
        let gate = Gate::default();
        let reads = self
            .services
            .iter()
            .map(|s| self.read_service(s, &gate, end));
        let results = futures::future::join_all(reads).await;
        if let Some(e) = gate.failure() {
            return Err(e);
        }
        let mut out = Vec::new();
        for r in results {
            out.push(r?);
        }
        Ok(SourceData::Prometheus(out))
    }

    /// `doctor`: evaluate `vector(1)`.
    pub async fn check(&self) -> Result<String, SourceError> {
        match self.value("vector(1)").await? {
            Some(1.0) => Ok("query API answers".into()),
            other => Err(SourceError::Decode(format!("vector(1) answered {other:?}"))),
        }
    }

    /// Every query of every service asked once, now (for `flightdeck doctor`): what each is (e.g.
    /// `checkout error_rate.errors`) and how many series it answers, or why it was refused. The
    /// counts a ratio's query was read apart into are asked too; for those, what the judge does
    /// when they do not count (a refusal of one is no failure of the config).
    pub async fn check_queries(&self) -> Vec<QueryCheck> {
        let mut out = Vec::new();
        for svc in &self.services {
            let mut queries: Vec<(String, &str, Option<&'static str>)> = Vec::new();
            for (what, q) in [("weight", &svc.weight), ("traffic", &svc.traffic)]
                .into_iter()
                .chain([("baseline_traffic", &svc.baseline_traffic)])
            {
                if let Some(q) = q {
                    queries.push((what.to_string(), q, None));
                }
            }
            let fallback = if svc.traffic.is_some() {
                "read from its ratio's query; without it the ratio is counted from the service's traffic"
            } else {
                "read from its ratio's query; without it the ratio is judged on its samples"
            };
            for (name, m) in &svc.metrics {
                let derived = m.counts_from_ratio.then_some(fallback);
                let all = [
                    ("canary", Some(&m.canary), None),
                    ("baseline", m.baseline.as_ref(), None),
                    ("errors", m.errors.as_ref(), derived),
                    ("requests", m.requests.as_ref(), derived),
                    ("baseline_errors", m.baseline_errors.as_ref(), derived),
                    ("baseline_requests", m.baseline_requests.as_ref(), derived),
                ];
                for (what, q, derived) in all {
                    if let Some(q) = q {
                        queries.push((format!("{name}.{what}"), q, derived));
                    }
                }
            }
            for (what, q, derived) in queries {
                let answer = self.query(q).await.and_then(|env| {
                    env.single_value()?;
                    Ok(match &env.data {
                        Some(QueryData::Vector(v)) => v.len(),
                        Some(QueryData::Matrix(m)) => m.len(),
                        Some(QueryData::Scalar(_)) | Some(QueryData::String(_)) => 1,
                        None => 0,
                    })
                });
                out.push(QueryCheck {
                    what: format!(
                        "{} {}",
                        crate::sanitize::clean(&svc.name),
                        crate::sanitize::clean(&what)
                    ),
                    answer,
                    derived,
                });
            }
        }
        out
    }
}

/// One query asked by [`Prometheus::check_queries`].
#[derive(Debug)]
pub struct QueryCheck {
    /// The service and the query's place in its config, e.g. `checkout error_rate.errors`.
    pub what: String,
    /// How many series it answers, or why it was refused.
    pub answer: Result<usize, SourceError>,
    /// For a query read from a ratio's query rather than written: what the judge does without it.
    pub derived: Option<&'static str>,
}

/// The requests of one poll: the first goes alone, so that a Prometheus that is down costs one
/// request, not one per service; once it answered, the rest go concurrently, until one fails
/// Prometheus as a whole, after which none is sent and every reader gets that first failure.
#[derive(Default)]
struct Gate {
    state: std::sync::Mutex<GateState>,
    changed: tokio::sync::Notify,
}

#[derive(Default)]
enum GateState {
    /// Nothing sent yet.
    #[default]
    Closed,
    /// The first request is out.
    Probing,
    /// The first request came back: send freely.
    Open,
    /// A request failed Prometheus as a whole.
    Failed(SourceError),
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait until a request may be sent: `Ok(true)` for the first of the poll.
    async fn enter(&self) -> Result<bool, SourceError> {
        loop {
            // Registered before the state is read, so that a change in between is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut state = self.lock();
                match &*state {
                    GateState::Open => return Ok(false),
                    GateState::Failed(e) => return Err(e.clone()),
                    GateState::Closed => {
                        *state = GateState::Probing;
                        return Ok(true);
                    }
                    GateState::Probing => {}
                }
            }
            changed.await;
        }
    }

    /// A request came back (`failed`: the error when it failed Prometheus as a whole).
    fn leave(&self, first: bool, failed: Option<&SourceError>) {
        let mut state = self.lock();
        match failed {
            Some(e) if !matches!(*state, GateState::Failed(_)) => {
                *state = GateState::Failed(e.clone())
            }
            None if first => *state = GateState::Open,
            _ => return,
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// The failure that stopped the poll, if one did.
    fn failure(&self) -> Option<SourceError> {
        match &*self.lock() {
            GateState::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }
}

/// At 100 %: every step the stable track no longer served becomes the history's mean step — the
/// canary's steps are compared with what the stable version did per step before it lost its
/// traffic; the steps it served keep its counts.
fn with_history(
    steps: &mut [(f64, CountStep)],
    requests: &[(f64, f64)],
    events: &[(f64, f64)],
    step_secs: f64,
) {
    let (r, e, n) = matched_sums(requests, events);
    let (r, e) = if n > 0 {
        (r / n as f64 * step_secs, e / n as f64 * step_secs)
    } else {
        (0.0, 0.0)
    };
    // Steps the stable track served (the slices before the last) keep their own counts.
    for (_, s) in steps.iter_mut().filter(|(_, s)| s.baseline_requests <= 0.0) {
        s.baseline_requests = r;
        s.baseline_events = e;
    }
}

/// The longest range selector of a PromQL query in seconds (`rate(x[1m])` → 60, a subquery
/// `[10m:1m]` → 600), `None` without one.
pub fn longest_range(q: &str) -> Option<f64> {
    let mut best: Option<f64> = None;
    let mut rest = q;
    while let Some(i) = rest.find('[') {
        let after = &rest[i + 1..];
        let Some(j) = after.find(']') else { break };
        let inner = after[..j].split(':').next().unwrap_or("").trim();
        if let Some(secs) = promql_duration(inner) {
            best = Some(best.map_or(secs, |b: f64| b.max(secs)));
        }
        rest = &after[j + 1..];
    }
    best
}

/// A PromQL duration: `90s`, `1m30s`, `5m`, `1h`, `250ms`, `1d`, `1w`, `1y`.
fn promql_duration(text: &str) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86_400.0,
            'w' => 604_800.0,
            'y' => 31_536_000.0,
            _ => return None,
        };
        total += n * unit;
    }
    (num.is_empty() && total > 0.0).then_some(total)
}

/// A timestamp as a map key (milliseconds).
fn key(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

fn by_time(points: &[(f64, f64)]) -> std::collections::HashMap<i64, f64> {
    points.iter().map(|(t, v)| (key(*t), *v)).collect()
}

/// Count steps at the canary requests' timestamps, with those timestamps: requests and events per
/// second times the step (a side missing at a timestamp is no exposure there).
pub fn count_steps(
    canary_requests: &[(f64, f64)],
    canary_events: &[(f64, f64)],
    baseline_requests: &[(f64, f64)],
    baseline_events: &[(f64, f64)],
    step_secs: f64,
) -> Vec<(f64, CountStep)> {
    let (ce, br, be) = (
        by_time(canary_events),
        by_time(baseline_requests),
        by_time(baseline_events),
    );
    // A step with requests and no events point had no events: an errors series that does not
    // exist yet (a counter's `code="500"` appears with the first 500) answers nothing, not 0.
    canary_requests
        .iter()
        .map(|(t, r)| {
            let k = key(*t);
            let baseline = br.get(&k).copied();
            let step = CountStep::from_rates(
                (Some(*r), Some(ce.get(&k).copied().unwrap_or(0.0))),
                (baseline, be.get(&k).copied().or(baseline.map(|_| 0.0))),
                step_secs,
            );
            (*t, step)
        })
        .collect()
}

/// A ratio read apart from its query whose halves did not count (`why`): counted from the ratio
/// and the service's `traffic` (`None`) when that is there to read, else judged on its samples
/// (no counts); the service's warnings say which.
fn halves_failed(
    name: &str,
    why: &str,
    from_traffic: bool,
    warnings: &mut Vec<String>,
) -> Option<Vec<(f64, CountStep)>> {
    let name = crate::sanitize::clean(name);
    if from_traffic {
        warnings.push(format!(
            "{name}: {why}: counted from the ratio and the service's traffic"
        ));
        None
    } else {
        warnings.push(format!("{name}: {why}: judged on its samples"));
        Some(Vec::new())
    }
}

/// Whether `events` / `requests` give back `ratio` wherever the ratio has a finite value and
/// the requests are above 0 (an events series with no point there: 0 events), to within float
/// rounding: counts read from a ratio's halves count what the ratio does. Not at the newest
/// timestamp: the queries are asked one after the other, and a scrape that lands between them
/// moves the newest point of the later ones (a rate over the minute up to now).
fn reproduces(ratio: &[(f64, f64)], requests: &[(f64, f64)], events: &[(f64, f64)]) -> bool {
    let (r, e) = (by_time(requests), by_time(events));
    let newest = ratio
        .iter()
        .map(|(t, _)| *t)
        .fold(f64::NEG_INFINITY, f64::max);
    ratio
        .iter()
        .filter(|(t, v)| v.is_finite() && *t < newest)
        .all(|(t, v)| match r.get(&key(*t)) {
            Some(req) if req.is_finite() && *req > 0.0 => {
                let d = e.get(&key(*t)).copied().unwrap_or(0.0) / req;
                (d - v).abs() <= 1e-6 * v.abs().max(d.abs()) + 1e-12
            }
            _ => true,
        })
}

/// Requests and events over a span, from per-second rates at matching timestamps, and how many
/// timestamps they were summed from (`None` when no timestamp has both with requests).
fn totals_n_at(
    requests: &[(f64, f64)],
    events: &[(f64, f64)],
    step_secs: f64,
) -> Option<(f64, f64, usize)> {
    let (r, e, n) = matched_sums(requests, events);
    (n > 0).then_some((r * step_secs, e * step_secs, n))
}

/// Per-second requests and events summed over the timestamps with requests (finite; events at
/// most the requests, none where the events series has no point: see [`count_steps`]), and how
/// many those were.
fn matched_sums(requests: &[(f64, f64)], events: &[(f64, f64)]) -> (f64, f64, usize) {
    let ev = by_time(events);
    let (mut r, mut e, mut n) = (0.0, 0.0, 0);
    for (t, req) in requests {
        let x = ev.get(&key(*t)).copied().unwrap_or(0.0);
        if req.is_finite() && x.is_finite() && *req > 0.0 {
            r += req;
            e += x.clamp(0.0, *req);
            n += 1;
        }
    }
    (r, e, n)
}

/// At 100 %: the history's totals before the rollout began (the stable version alone), with how
/// many points they were summed from.
fn before_start(
    requests: &[(f64, f64)],
    events: &[(f64, f64)],
    began: Option<f64>,
    step_secs: f64,
) -> Option<(f64, f64, usize)> {
    let b = began?;
    let before = |p: &[(f64, f64)]| -> Vec<(f64, f64)> {
        p.iter().copied().filter(|(t, _)| *t < b).collect()
    };
    totals_n_at(&before(requests), &before(events), step_secs)
}

/// A refused query's result, as its reading's: `Err` only when Prometheus failed as a whole (see
/// `call`), which fails the poll; a refused query fails only its own reading.
fn fatal(
    gate: &Gate,
    r: Result<Points, SourceError>,
) -> Result<Result<Points, SourceError>, SourceError> {
    match gate.failure() {
        Some(e) => Err(e),
        None => Ok(r),
    }
}

/// The ranges one poll reads a service's metrics over, the same for each of them.
#[derive(Clone, Copy)]
struct ReadPlan {
    end: f64,
    /// When the rollout began (at 100 %, or while a counted ratio shares the traffic).
    began: Option<f64>,
    /// When the rollout began, as the weight's lookback shows it.
    rollout_since: Option<f64>,
    /// When the weight last changed.
    slice_since: Option<OffsetDateTime>,
    /// The stable version's past: `reference_secs` before the rollout began.
    prior: Option<(f64, f64)>,
    /// At 100 %: the baseline's history, the lookback before the rollout began and the rollout
    /// up to the moment the stable lost its traffic.
    history: Option<(f64, f64)>,
    /// Where a counted ratio's series start.
    counts_from: f64,
    /// Where the canary's points start.
    canary_from: f64,
}

impl ReadPlan {
    fn new(
        svc: &ServiceConfig,
        end: f64,
        (full, sharing): (bool, bool),
        (began, rollout_since): (Option<f64>, Option<f64>),
        slice_since: Option<OffsetDateTime>,
        lost: Option<f64>,
    ) -> ReadPlan {
        // `reference_secs` before the rollout began, on whole steps of the clock (not the
        // canary's grid, which moves with every poll: only totals are taken from it), so the
        // same range is asked for — and found read — at every poll, at 100 % too.
        let prior = began.filter(|_| sharing || full).map(|b| {
            let step = svc.step_secs.max(1) as f64;
            let to = (b / step).floor() * step;
            (to - svc.reference_span() as f64, to)
        });
        // On the canary's grid of steps (`end − k·step`): the steps the stable track served keep
        // its counts only where their times match.
        let history = began.filter(|_| full).map(|b| {
            (
                on_grid(end, svc.step_secs, b - svc.lookback_secs as f64),
                on_grid(end, svc.step_secs, lost.filter(|l| *l > b).unwrap_or(b)),
            )
        });
        // Where the canary's count series start: the lookback, or the rollout's start at 100 %
        // when it began before the lookback (on the grid; within `history_secs`).
        let counts_from = match (history, began) {
            (Some((from, _)), Some(_)) => {
                (from + svc.lookback_secs as f64).min(end - svc.lookback_secs as f64)
            }
            _ => end - svc.lookback_secs as f64,
        };

        // At 100 %, through the bake, the canary's points reach back to four windows before the
        // change however long the bake: what both tracks showed when the stable lost its traffic
        // is judged at every poll of it. After the bake, the lookback alone (a promoted service
        // is read for hours: its ranges stay the lookback's length).
        let canary_from = match history {
            Some((_, lost)) if end - lost <= svc.bake_secs as f64 => (lost
                - 4.0 * svc.window_secs as f64)
                .min(end - svc.lookback_secs as f64)
                .max(end - svc.history_secs.max(svc.lookback_secs) as f64),
            _ => end - svc.lookback_secs as f64,
        };
        ReadPlan {
            end,
            began,
            rollout_since,
            slice_since,
            prior,
            history,
            counts_from,
            canary_from,
        }
    }
}

/// `t` moved back onto the grid of a range query ending at `end` (`end − k·step`), at or before it.
fn on_grid(end: f64, step_secs: u64, t: f64) -> f64 {
    let step = step_secs.max(1) as f64;
    end - ((end - t) / step).ceil() * step
}

/// When the rollout began: the first point after the last one whose weight was 0 (after the end
/// when the weight is 0 now). `None` when the weight was above 0 over the whole lookback (the
/// rollout began before it) or is unknown.
fn rollout_start(points: &[(f64, f64)]) -> Option<f64> {
    let last_zero = points.iter().rposition(|(_, v)| *v <= 0.0)?;
    Some(points.get(last_zero + 1).map_or(f64::INFINITY, |(t, _)| *t))
}

/// When the weight took its current value: the first point of the trailing run of equal values.
fn slice_start(points: &[(f64, f64)]) -> Option<OffsetDateTime> {
    let (_, last) = *points.last()?;
    let mut t = points.last()?.0;
    for (ts, v) in points.iter().rev() {
        if (v - last).abs() > 1e-9 && !(v.is_nan() && last.is_nan()) {
            break;
        }
        t = *ts;
    }
    OffsetDateTime::from_unix_timestamp(t as i64).ok()
}

/// The mean of the finite points in each window of `window` seconds ending at `end`, oldest first,
/// covering `lookback` (the oldest window reaches before it when `lookback` is not a whole number
/// of windows: a slice 90 s old has two one-minute windows, its first 30 s in the older). A window
/// without finite points is NaN (inconclusive, not a breach).
pub fn windows(points: &[(f64, f64)], end: f64, window: u64, lookback: u64) -> Vec<f64> {
    let w = window.max(1) as f64;
    let n = (lookback as f64 / w).ceil().max(1.0) as usize;
    let start = end - n as f64 * w;
    let mut sums = vec![(0.0f64, 0usize); n];
    for &(t, v) in points {
        if !v.is_finite() || t <= start {
            continue;
        }
        let i = (((t - start) / w).ceil() as usize)
            .saturating_sub(1)
            .min(n - 1);
        sums[i].0 += v;
        sums[i].1 += 1;
    }
    sums.into_iter()
        .map(|(s, c)| if c == 0 { f64::NAN } else { s / c as f64 })
        .collect()
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse() {
        assert_eq!(parse_value("1.5"), Some(1.5));
        assert!(parse_value("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("x"), None);
    }

    #[test]
    fn envelope_shapes() {
        let v: Envelope = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"1"]}}"#,
        )
        .unwrap();
        assert_eq!(v.single_value().unwrap(), Some(1.0));
        let e: Envelope = serde_json::from_str(
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        )
        .unwrap();
        assert!(
            e.single_value()
                .unwrap_err()
                .to_string()
                .contains("bad_data")
        );
        let empty: Envelope = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        )
        .unwrap();
        assert_eq!(empty.single_value().unwrap(), None);
    }

    #[test]
    fn range_selectors_give_the_rate_window() {
        assert_eq!(
            longest_range(r#"sum(rate(x{a="b"}[1m])) / sum(rate(y[5m]))"#),
            Some(300.0)
        );
        assert_eq!(longest_range("max_over_time(x[10m:1m])"), Some(600.0));
        assert_eq!(longest_range("rate(x[1m30s])"), Some(90.0));
        assert_eq!(longest_range("rate(x[250ms])"), Some(0.25));
        assert_eq!(longest_range("up"), None);
        assert_eq!(longest_range("x[5q]"), None);
    }

    #[test]
    fn a_slice_90_s_old_has_two_one_minute_windows() {
        // Points at 15 s steps from the slice's start (t = 0) to t = 90: the older window holds
        // its first 30 s.
        let pts: Vec<(f64, f64)> = (0..=6).map(|i| (15.0 * i as f64, i as f64)).collect();
        let w = windows(&pts, 90.0, 60, 90);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0], 1.0); // t = 0, 15, 30
        assert_eq!(w[1], 4.5); // t = 45 … 90
    }

    #[test]
    fn windows_average_finite_points_per_window() {
        // 4 one-minute windows ending at t=240; points every 30 s.
        let pts: Vec<(f64, f64)> = (1..=8).map(|i| (i as f64 * 30.0, i as f64)).collect();
        let w = windows(&pts, 240.0, 60, 240);
        assert_eq!(w, vec![1.5, 3.5, 5.5, 7.5]);
        let with_nan = vec![(30.0, f64::NAN), (60.0, f64::NAN), (90.0, 2.0)];
        let w = windows(&with_nan, 120.0, 60, 120);
        assert!(w[0].is_nan(), "a window of NaN only is inconclusive");
        assert_eq!(w[1], 2.0);
    }

    /// A steady answer of `v` at two timestamps.
    macro_rules! steady {
        ($v:literal) => {
            concat!(
                r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1795424400,""#,
                $v,
                r#""],[1795424401,""#,
                $v,
                r#""]]}]}}"#
            )
        };
    }

    /// Status and body for a request's (form-encoded) query string.
    type Answer = fn(&str) -> (u16, &'static str);

    /// A Prometheus on 127.0.0.1 answering every request with `answer(query)`, counting them;
    /// a client for it configured with the demo world's two services.
    async fn fake(answer: Answer) -> (Prometheus, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let world = crate::sim::start(crate::sim::SimOptions::default())
            .await
            .unwrap();
        fake_with(answer, &world.config_toml()).await
    }

    /// [`fake`] with the services of `config` (TOML).
    async fn fake_with(
        answer: Answer,
        config: &str,
    ) -> (Prometheus, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            counter.fetch_add(1, Ordering::SeqCst);
            // The query string as sent (form-encoded).
            let (status, body) = answer(uri.query().unwrap_or(""));
            async move {
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = crate::config::Config::parse(config, "test").unwrap();
        let cfg = PrometheusConfig {
            url,
            auth: None,
            headers: Default::default(),
        };
        let http = Http::new(std::time::Duration::from_secs(5)).unwrap();
        let prom = Prometheus::new(http, &cfg, &config.services).unwrap();
        (prom, hits)
    }

    #[tokio::test]
    async fn a_failing_prometheus_costs_one_request_a_poll() {
        use std::sync::atomic::Ordering;
        let cases: [(Answer, &str); 3] = [
            (
                |_| {
                    let body =
                        r#"{"status":"error","errorType":"internal","error":"storage down"}"#;
                    (500, body)
                },
                "HTTP 500: storage down",
            ),
            (|_| (502, "<html>502 Bad Gateway</html>"), "HTTP 502"),
            (
                |_| (200, r#"{"status":"success","data":{"#),
                "unexpected response",
            ),
        ];
        for (answer, words) in cases {
            let (mut prom, hits) = fake(answer).await;
            let err = prom.poll().await.unwrap_err();
            assert!(err.to_string().contains(words), "{words}: {err}");
            assert_eq!(hits.load(Ordering::SeqCst), 1, "{words}: one request");
        }
    }

    #[tokio::test]
    async fn a_query_that_timed_out_fails_only_its_metric() {
        let (mut prom, hits) = fake(|q| {
            if q.contains("track%3D%22canary%22") {
                (
                    503,
                    r#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#,
                )
            } else {
                (
                    200,
                    r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1795424400,"1"]]}]}}"#,
                )
            }
        })
        .await;
        let Ok(SourceData::Prometheus(services)) = prom.poll().await else {
            panic!("the poll as a whole is Ok");
        };
        assert!(hits.load(std::sync::atomic::Ordering::SeqCst) > 2);
        for svc in &services {
            assert_eq!(svc.weight, Some(1.0));
            for m in &svc.metrics {
                let e = m.error.as_deref().unwrap_or_default();
                assert!(e.contains("timeout"), "{}: {e}", m.name);
                assert_eq!(m.baseline, Some(1.0));
            }
        }
    }

    #[test]
    fn a_step_with_requests_and_no_events_point_had_no_events() {
        // Requests at 0, 15 and 30; the events series has a point at 15 only (a `code="500"`
        // series appears with the first 500): the other steps count their requests, no events.
        let requests = [(0.0, 10.0), (15.0, 10.0), (30.0, 10.0)];
        let events = [(15.0, 0.2)];
        let steps = count_steps(&requests, &events, &requests, &[], 15.0);
        let total = |f: fn(&CountStep) -> f64| steps.iter().map(|(_, s)| f(s)).sum::<f64>();
        assert_eq!(total(|s| s.canary_requests), 450.0);
        assert_eq!(total(|s| s.canary_events), 3.0);
        assert_eq!(total(|s| s.baseline_requests), 450.0);
        assert_eq!(total(|s| s.baseline_events), 0.0);
        assert_eq!(totals_n_at(&requests, &[], 15.0), Some((450.0, 0.0, 3)));
        assert_eq!(totals_n_at(&requests, &events, 15.0), Some((450.0, 3.0, 3)));
        // No requests, no step to count.
        assert_eq!(totals_n_at(&[], &events, 15.0), None);
    }

    /// One poll of `prom`: the first service's reading and its error ratio's.
    async fn error_rate(prom: &mut Prometheus) -> (ServiceRollout, MetricReading) {
        let Ok(SourceData::Prometheus(services)) = prom.poll().await else {
            panic!("the poll as a whole is Ok");
        };
        let svc = services.into_iter().next().expect("a service");
        let m = svc
            .metrics
            .iter()
            .find(|m| m.name == "error_rate")
            .expect("the error ratio")
            .clone();
        (svc, m)
    }

    #[tokio::test]
    async fn an_errors_query_that_answers_no_series_counts_no_errors_and_says_so() {
        // The canary's errors queries (and its ratio) answer no series; everything else a
        // steady 2 a second.
        let (mut prom, _) = fake(|q| {
            if q.contains("code") && q.contains("canary") {
                (
                    200,
                    r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
                )
            } else {
                (200, steady!("2"))
            }
        })
        .await;
        let (svc, m) = error_rate(&mut prom).await;
        let canary: f64 = m.counts.iter().map(|c| c.canary_requests).sum();
        let events: f64 = m.counts.iter().map(|c| c.canary_events).sum();
        assert!(canary > 0.0 && events == 0.0, "{:?}", m.counts);
        assert!(
            svc.warnings
                .iter()
                .any(|w| w.contains("error_rate: no series answers its errors query")),
            "{:?}",
            svc.warnings
        );
    }

    #[tokio::test]
    async fn a_refused_baseline_errors_query_leaves_the_baseline_uncounted() {
        // The stable's errors queries are refused: its requests alone must not read as a
        // baseline without errors (the canary would look worse than it).
        let (mut prom, _) = fake(|q| {
            if q.contains("code") && q.contains("stable") {
                (
                    503,
                    r#"{"status":"error","errorType":"timeout","error":"query timed out"}"#,
                )
            } else {
                (200, steady!("2"))
            }
        })
        .await;
        let (_, m) = error_rate(&mut prom).await;
        let baseline: f64 = m.counts.iter().map(|c| c.baseline_requests).sum();
        let canary: f64 = m.counts.iter().map(|c| c.canary_requests).sum();
        assert!(canary > 0.0 && baseline == 0.0, "{:?}", m.counts);
    }

    #[test]
    fn counts_read_from_a_ratios_halves_must_give_the_ratio_back() {
        let ratio = [(0.0, 0.01), (15.0, 0.0), (30.0, f64::NAN), (45.0, 0.02)];
        let requests = [(0.0, 100.0), (15.0, 100.0), (30.0, 0.0), (45.0, 50.0)];
        // The errors series has no point at 15 (no errors): 0, as the ratio says.
        let events = [(0.0, 1.0), (45.0, 1.0)];
        assert!(reproduces(&ratio, &requests, &events));
        assert!(!reproduces(&ratio, &requests, &[(0.0, 5.0), (45.0, 1.0)]));
        // A ratio above 0 where the errors series has nothing: not the same thing.
        assert!(!reproduces(&[(0.0, 0.01), (15.0, 0.0)], &requests, &[]));
        // The newest point may differ (a scrape landed between the queries); an older one not.
        assert!(reproduces(&ratio, &requests, &[(0.0, 1.0), (45.0, 1.5)]));
        assert!(!reproduces(&ratio, &requests, &[(0.0, 1.5), (45.0, 1.0)]));
    }

    /// A service whose error ratio is given as its query alone (the judge reads it apart).
    const RATIO_ONLY: &str = r#"
[prometheus]
url = "http://127.0.0.1:9"
[[service]]
name = "checkout"
slices = [10, 50, 100]
weight = 'w'
[service.metrics.error_rate]
canary = 'sum(rate(req_total{t="c",code="5"}[1m])) / sum(rate(req_total{t="c"}[1m]))'
baseline = 'sum(rate(req_total{t="s",code="5"}[1m])) / sum(rate(req_total{t="s"}[1m]))'
max = 0.05
"#;

    /// [`RATIO_ONLY`]'s answers: weight 50, the ratios 1 %, the requests (and any traffic) 100 a
    /// second, the errors `errors` (1 a second: the ratio's own).
    fn ratio_answer(q: &str, errors: &'static str) -> (u16, &'static str) {
        if q.starts_with("query=w&") {
            (200, steady!("50"))
        } else if q.contains("%2F") {
            (200, steady!("0.01"))
        } else if q.contains("code") {
            (200, errors)
        } else {
            (200, steady!("100"))
        }
    }

    /// Servers whose answers to a ratio's halves do not count: something else (5 errors a second
    /// where the ratio says 1), a refusal, or none at all (a server that knows only the config's
    /// own queries — the weight, the ratios, the traffic — which must not fail the poll).
    fn halves_fail() -> [Answer; 3] {
        [
            |q| ratio_answer(q, steady!("5")),
            |q| {
                if q.contains("code") && !q.contains("%2F") {
                    (
                        400,
                        r#"{"status":"error","errorType":"bad_data","error":"unknown"}"#,
                    )
                } else {
                    ratio_answer(q, steady!("1"))
                }
            },
            |q| {
                let own = ["query=w&", "query=canary_rps&", "query=stable_rps&"]
                    .iter()
                    .any(|p| q.starts_with(p))
                    || q.contains("%2F");
                if own {
                    ratio_answer(q, steady!("1"))
                } else {
                    (404, "404 page not found")
                }
            },
        ]
    }

    /// One poll of a client for `config` against `answer`: its first service.
    async fn read_with(answer: Answer, config: &str) -> ServiceRollout {
        let (mut prom, _) = fake_with(answer, config).await;
        let Ok(SourceData::Prometheus(services)) = prom.poll().await else {
            panic!("the poll as a whole is Ok");
        };
        services.into_iter().next().expect("the service")
    }

    #[tokio::test]
    async fn a_ratio_whose_halves_do_not_give_it_back_is_judged_on_its_samples() {
        let given = read_with(|q| ratio_answer(q, steady!("1")), RATIO_ONLY).await;
        let m = &given.metrics[0];
        assert!(
            !m.counts.is_empty() && m.counts.iter().all(|c| c.canary_events > 0.0),
            "{:?} {:?}",
            m.counts,
            given.warnings
        );
        for other in halves_fail() {
            let svc = read_with(other, RATIO_ONLY).await;
            let m = &svc.metrics[0];
            assert!(m.counts.is_empty(), "{:?}", m.counts);
            assert_eq!(m.canary, Some(0.01), "its samples are read");
            assert!(
                svc.warnings
                    .iter()
                    .any(|w| w.contains("error_rate") && w.contains("judged on its samples")),
                "{:?}",
                svc.warnings
            );
        }
    }

    #[tokio::test]
    async fn a_ratio_whose_halves_do_not_count_is_counted_from_the_services_traffic() {
        // As above, with the service's traffic given (`canary_rps`, `stable_rps`: 100 a second
        // each): the ratio (1 %) times the traffic counts.
        let config = RATIO_ONLY.replace(
            "weight = 'w'\n",
            "weight = 'w'\ntraffic = 'canary_rps'\nbaseline_traffic = 'stable_rps'\n",
        );
        for other in halves_fail() {
            let svc = read_with(other, &config).await;
            let m = &svc.metrics[0];
            assert!(
                !m.counts.is_empty()
                    && m.counts.iter().all(|c| {
                        c.canary_requests > 0.0
                            && (c.canary_events / c.canary_requests - 0.01).abs() < 1e-9
                            && c.baseline_requests > 0.0
                            && (c.baseline_events / c.baseline_requests - 0.01).abs() < 1e-9
                    }),
                "{:?} {:?}",
                m.counts,
                svc.warnings
            );
            assert!(
                svc.warnings.iter().any(|w| w.contains("error_rate")
                    && w.contains("counted from the ratio and the service's traffic")),
                "{:?}",
                svc.warnings
            );
        }
    }

    #[tokio::test]
    async fn doctor_tells_the_halves_read_from_a_ratio_from_the_configs_own_queries() {
        // A server that knows only the config's own queries (the weight and the ratios).
        let (prom, _) = fake_with(
            |q| {
                if q.starts_with("query=w&") || q.contains("%2F") {
                    (
                        200,
                        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795424400,"1"]}]}}"#,
                    )
                } else {
                    (404, "404 page not found")
                }
            },
            RATIO_ONLY,
        )
        .await;
        let checks = prom.check_queries().await;
        let find = |what: &str| {
            checks
                .iter()
                .find(|c| c.what == format!("checkout error_rate.{what}"))
                .unwrap_or_else(|| panic!("{what} asked: {checks:?}"))
        };
        for own in ["canary", "baseline"] {
            let c = find(own);
            assert!(matches!(c.answer, Ok(1)) && c.derived.is_none(), "{c:?}");
        }
        for half in ["errors", "requests", "baseline_errors", "baseline_requests"] {
            let c = find(half);
            assert!(c.answer.is_err(), "{c:?}");
            assert!(
                c.derived
                    .is_some_and(|d| d.contains("without it the ratio is judged on its samples")),
                "{c:?}"
            );
        }
    }

    #[test]
    fn slice_start_is_the_start_of_the_current_weight() {
        let pts = vec![(0.0, 10.0), (15.0, 25.0), (30.0, 50.0), (45.0, 50.0)];
        assert_eq!(slice_start(&pts).map(|t| t.unix_timestamp()), Some(30));
        assert_eq!(slice_start(&[]), None);
    }
}
