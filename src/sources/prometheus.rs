//! Prometheus HTTP API: instant queries for each configured service's weight and metrics.

use super::http::{Http, SourceError, error_summary};
use crate::config::{PrometheusConfig, ServiceConfig};
use crate::domain::{MetricReading, ServiceRollout, SourceData};
use serde::Deserialize;

/// Queries longer than this go in a POST body, as Prometheus allows.
const MAX_GET_QUERY: usize = 1500;

pub struct Prometheus {
    http: Http,
    base: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    services: Vec<ServiceConfig>,
}

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
        })
    }

    /// Run an instant query and return the envelope (errors in the envelope are left to the caller).
    pub async fn query(&self, q: &str) -> Result<Envelope, SourceError> {
        let url = format!("{}/api/v1/query", self.base);
        let mut req = if q.len() > MAX_GET_QUERY {
            self.http.client().post(&url).form(&[("query", q)])
        } else {
            self.http.client().get(&url).query(&[("query", q)])
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
        match serde_json::from_slice::<Envelope>(&resp.body) {
            Ok(env) => Ok(env),
            Err(e) if resp.status == 200 => Err(SourceError::Decode(format!("query result: {e}"))),
            Err(_) if resp.status == 401 || resp.status == 403 => Err(SourceError::Auth {
                status: resp.status,
                hint: format!("{}; check prometheus.auth", error_summary(&resp.body)),
            }),
            Err(_) => Err(SourceError::Status {
                status: resp.status,
                message: error_summary(&resp.body),
            }),
        }
    }

    async fn value(&self, q: &str) -> Result<Option<f64>, SourceError> {
        self.query(q).await?.single_value()
    }

    async fn read_service(&self, svc: &ServiceConfig) -> Result<ServiceRollout, SourceError> {
        // An unreachable Prometheus fails the poll; a refused query fails only its own reading.
        let fatal = |r: Result<Option<f64>, SourceError>| match r {
            Err(e) if e.is_transport() => Err(e),
            other => Ok(other),
        };
        let (weight, weight_error) = match &svc.weight {
            Some(q) => match fatal(self.value(q).await)? {
                Ok(v) => (v, None),
                Err(e) => (None, Some(e.to_string())),
            },
            None => (None, None),
        };
        let mut metrics = Vec::new();
        for (name, m) in &svc.metrics {
            let canary = fatal(self.value(&m.canary).await)?;
            let baseline = match &m.baseline {
                Some(b) => fatal(self.value(b).await)?.map(Some),
                None => Ok(None),
            };
            let error = match (&canary, &baseline) {
                (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
                _ => None,
            };
            metrics.push(MetricReading {
                name: name.clone(),
                canary: canary.ok().flatten(),
                baseline: baseline.ok().flatten().flatten(),
                max: m.max,
                min: m.min,
                error,
            });
        }
        Ok(ServiceRollout {
            name: svc.name.clone(),
            environment: svc.environment.clone(),
            production: svc.production,
            slices: svc.slices.clone(),
            weight,
            weight_error,
            metrics,
        })
    }

    /// One poll: every configured service. A connection failure fails the poll; a bad query fails
    /// only its metric.
    pub async fn poll(&mut self) -> Result<SourceData, SourceError> {
        let reads = self.services.iter().map(|s| self.read_service(s));
        let results = futures::future::join_all(reads).await;
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
}
