//! A tiny PromQL recogniser for the demo: it understands the queries `config_toml` emits (and close
//! variants: other quantiles, rates, `up`, `vector(N)`, bare numbers) by their metric names and
//! labels, and evaluates them against the scenario. Anything else is a `bad_data` error.
//!
//! A Big world runs [`BIG_SERVICES`] besides the demo's two: calm canaries held at a steady
//! weight, tracking their baselines ([`Calm`]), so every service's queries have data.

use serde_json::{Map, Value};

use super::Scale;
use super::scenario::{
    APPS, Canary, blended, canary_weight, error_ratio, p99_ms, quantile_ms, request_rate,
};
use super::util::{fnv64, noise};

/// The services a Big world adds to the demo's two: (name, repository), on the five repositories
/// of a Big GitHub.
pub const BIG_SERVICES: [(&str, &str); 18] = [
    ("checkout-worker", "acme/checkout"),
    ("checkout-gateway", "acme/checkout"),
    ("checkout-tax", "acme/checkout"),
    ("web-edge", "acme/web"),
    ("web-assets", "acme/web"),
    ("web-auth", "acme/web"),
    ("search-api", "acme/search"),
    ("search-indexer", "acme/search"),
    ("search-ranker", "acme/search"),
    ("search-crawler", "acme/search"),
    ("ledger-api", "acme/ledger"),
    ("ledger-reconciler", "acme/ledger"),
    ("ledger-exporter", "acme/ledger"),
    ("ledger-audit", "acme/ledger"),
    ("mobile-api", "acme/mobile"),
    ("mobile-push", "acme/mobile"),
    ("mobile-sync", "acme/mobile"),
    ("mobile-config", "acme/mobile"),
];

/// A generated service's calm canary: held at one weight for the whole run, as healthy as its
/// baseline (the same noise as the demo's `web` canary). Levels come from the service's name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calm {
    app: &'static str,
    /// Canary weight, %.
    pub weight: f64,
    /// Requests per second over both tracks.
    pub rps: f64,
    /// The baseline's 5xx ratio (well under the config's 0.5 %).
    pub error_ratio: f64,
    /// The baseline's p99, ms (well under the config's 500 ms).
    pub p99_ms: f64,
}

impl Calm {
    /// The calm canary of generated service `app` (`None` for any other name).
    pub fn of(app: &str) -> Option<Calm> {
        let (app, _) = BIG_SERVICES.iter().copied().find(|(n, _)| *n == app)?;
        let h = super::util::mix(fnv64(app.as_bytes()));
        Some(Calm {
            app,
            weight: [10.0, 25.0, 50.0][(h % 3) as usize],
            rps: 20.0 + ((h >> 8) % 380) as f64,
            error_ratio: 0.0004 + ((h >> 20) % 20) as f64 * 0.0001,
            p99_ms: 40.0 + ((h >> 32) % 260) as f64,
        })
    }

    fn noise(&self, what: &str, track: &str, t: f64, period: f64) -> f64 {
        noise(&format!("{what}/{}/{track}", self.app), t, period)
    }

    /// Requests per second of `track` while the canary gets `weight` %.
    fn rate(&self, track: &str, t: f64, weight: f64) -> Option<f64> {
        let total = self.rps * (1.0 + 0.05 * self.noise("rps", "", t, 7.0));
        let share = weight / 100.0;
        match track {
            "canary" => Some(total * share),
            "stable" => Some(total * (1.0 - share)),
            _ => None,
        }
    }

    fn error_ratio(&self, track: &str, t: f64) -> Option<f64> {
        let stable = self.error_ratio * (1.0 + 0.25 * self.noise("err", "stable", t, 5.0));
        match track {
            "stable" => Some(stable),
            "canary" => Some(stable * (1.0 + 0.08 * self.noise("err", "canary", t, 5.0))),
            _ => None,
        }
    }

    fn p99(&self, track: &str, t: f64) -> Option<f64> {
        let stable = self.p99_ms * (1.0 + 0.04 * self.noise("p99", "stable", t, 5.0));
        match track {
            "stable" => Some(stable),
            "canary" => Some(stable + 1.0 + 2.0 * self.noise("p99", "canary", t, 5.0)),
            _ => None,
        }
    }

    /// Latency quantile `phi`, ms: the p99 scaled by the demo's latency shape (the ratio of the
    /// demo's quantile to its p99 depends on `phi` alone).
    fn quantile(&self, track: &str, phi: f64, t: f64) -> Option<f64> {
        let shape = quantile_ms("web", "stable", phi, t)? / p99_ms("web", "stable", t)?;
        Some(self.p99(track, t)? * shape)
    }
}

const FUNCTIONS: [&str; 22] = [
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "rate",
    "irate",
    "increase",
    "histogram_quantile",
    "vector",
    "scalar",
    "time",
    "abs",
    "ceil",
    "floor",
    "round",
    "clamp_min",
    "clamp_max",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "delta",
];
const AGGREGATORS: [&str; 6] = ["sum", "avg", "min", "max", "count", "histogram_quantile"];
const GROUPING: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// A parsed series selector.
#[derive(Debug, Default)]
pub struct Selector {
    metric: String,
    /// (label, op, value)
    matchers: Vec<(String, String, String)>,
}

impl Selector {
    fn eq(&self, label: &str) -> Option<&str> {
        self.matchers
            .iter()
            .find(|(l, op, _)| l == label && op == "=")
            .map(|(_, _, v)| v.as_str())
    }
}

#[derive(Debug)]
pub enum Kind {
    Up,
    Weight,
    ErrorRatio,
    ErrorRate,
    RequestRate,
    Quantile { phi: f64, scale: f64 },
}

/// A recognised query.
#[derive(Debug)]
pub enum Expr {
    /// A bare number or `time()` (`None`): resultType scalar.
    Scalar(Option<f64>),
    /// `vector(N)`.
    Literal(f64),
    Series {
        kind: Kind,
        sel: Selector,
        aggregated: bool,
    },
}

/// One sample of an instant vector: labels and value.
pub type Sample = (Map<String, Value>, f64);

/// The world at one evaluation: the scenario second, the canaries the operator rolled back and
/// how big the world is.
#[derive(Clone, Debug, Default)]
pub struct At {
    pub t: f64,
    /// (app, seconds since its rollback).
    pub rolled_back: Vec<(&'static str, f64)>,
    /// A Big world also serves [`BIG_SERVICES`].
    pub scale: Scale,
    /// Scenario seconds per wall second (1 when frozen): `rate()` is per wall second, so a world
    /// that runs 4× fast serves 4× the requests a wall second.
    pub rate_scale: f64,
}

impl At {
    fn scale_rate(&self) -> f64 {
        if self.rate_scale > 0.0 {
            self.rate_scale
        } else {
            1.0
        }
    }

    /// The story alone at `t`.
    #[cfg(test)]
    pub fn story(t: f64) -> Self {
        Self {
            t,
            rolled_back: Vec::new(),
            scale: Scale::Demo,
            rate_scale: 1.0,
        }
    }

    /// The apps with series: the demo's, then a Big world's generated services.
    fn apps(&self) -> impl Iterator<Item = &'static str> {
        let big: &[(&str, &str)] = match self.scale {
            Scale::Demo => &[],
            Scale::Big => &BIG_SERVICES,
        };
        APPS.iter().copied().chain(big.iter().map(|(n, _)| *n))
    }

    /// The calm canary of `app` when it is one of this world's generated services.
    fn calm(&self, app: &str) -> Option<Calm> {
        match self.scale {
            Scale::Demo => None,
            Scale::Big => Calm::of(app),
        }
    }

    fn canary(&self, app: &str) -> Canary {
        Canary::after_rollback(
            self.rolled_back
                .iter()
                .find(|(a, _)| *a == app)
                .map(|(_, since)| *since),
        )
    }

    /// `flagger_canary_weight` of `app`: 0 once rolled back.
    fn weight(&self, app: &str) -> f64 {
        match self.canary(app) {
            Canary::Live => match self.calm(app) {
                Some(c) => c.weight,
                None => canary_weight(self.t),
            },
            Canary::Idle | Canary::Gone => 0.0,
        }
    }

    /// Requests per second of `track`; the canary's is 0 while idle and absent once gone.
    fn rate(&self, app: &str, track: &str) -> Option<f64> {
        if track == "canary" && self.canary(app) == Canary::Gone {
            return None;
        }
        let weight = self.weight(app);
        match self.calm(app) {
            Some(c) => c.rate(track, self.t, weight),
            None => request_rate(app, track, self.t, weight),
        }
    }

    /// 5xx ratio of `track`.
    fn error_ratio(&self, app: &str, track: &str) -> Option<f64> {
        match self.calm(app) {
            Some(c) => c.error_ratio(track, self.t),
            None => error_ratio(app, track, self.t),
        }
    }

    /// Latency quantile `phi` of `track`, ms.
    fn quantile_ms(&self, app: &str, track: &str, phi: f64) -> Option<f64> {
        match self.calm(app) {
            Some(c) => c.quantile(track, phi, self.t),
            None => quantile_ms(app, track, phi, self.t),
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Reads a `"..."` / `'...'` string starting at `chars[*i]` (the quote).
fn read_string(chars: &[char], i: &mut usize) -> Result<String, String> {
    let quote = chars[*i];
    let mut out = String::new();
    *i += 1;
    while *i < chars.len() {
        let c = chars[*i];
        if c == '\\' && *i + 1 < chars.len() {
            out.push(chars[*i + 1]);
            *i += 2;
            continue;
        }
        *i += 1;
        if c == quote {
            return Ok(out);
        }
        out.push(c);
    }
    Err("unterminated quoted string".into())
}

/// Parses the matchers of `{...}` starting at `chars[*i]` (the `{`).
fn read_matchers(chars: &[char], i: &mut usize) -> Result<Vec<(String, String, String)>, String> {
    let mut out = Vec::new();
    *i += 1;
    loop {
        while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == ',') {
            *i += 1;
        }
        match chars.get(*i) {
            None => return Err("unexpected end of input inside braces".into()),
            Some('}') => {
                *i += 1;
                return Ok(out);
            }
            Some(c) if is_ident_start(*c) => {}
            Some(c) => return Err(format!("unexpected character inside braces: '{c}'")),
        }
        let start = *i;
        while *i < chars.len() && is_ident(chars[*i]) {
            *i += 1;
        }
        let label: String = chars[start..*i].iter().collect();
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
        let op_start = *i;
        while *i < chars.len() && matches!(chars[*i], '=' | '!' | '~') {
            *i += 1;
        }
        let op: String = chars[op_start..*i].iter().collect();
        if !matches!(op.as_str(), "=" | "!=" | "=~" | "!~") {
            return Err(format!("unexpected operator {op:?} in label matching"));
        }
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
        if !matches!(chars.get(*i), Some('"' | '\'')) {
            return Err("unexpected label value, expected string".into());
        }
        let value = read_string(chars, i)?;
        out.push((label, op, value));
    }
}

/// Whether `chars[j..]` starts with `by` / `without` (as in `sum by (le) (...)`).
fn followed_by_grouping(chars: &[char], j: usize) -> bool {
    let word: String = chars[j.min(chars.len())..]
        .iter()
        .take_while(|c| is_ident(**c))
        .collect();
    word == "by" || word == "without"
}

/// Scans the query: selectors, called functions, whether it divides, and bracket balance.
fn scan(q: &str) -> Result<(Vec<Selector>, Vec<String>, bool), String> {
    let chars: Vec<char> = q.chars().collect();
    let (mut sels, mut funcs, mut divides) = (Vec::new(), Vec::new(), false);
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if GROUPING.contains(&word.as_str()) {
                // Skip the label list of `by (...)`.
                if chars.get(j) == Some(&'(') {
                    let close = chars[j..].iter().position(|c| *c == ')');
                    i = j + close.ok_or("unclosed left parenthesis")? + 1;
                }
            } else if chars.get(j) == Some(&'(') || followed_by_grouping(&chars, j) {
                if !FUNCTIONS.contains(&word.as_str()) {
                    return Err(format!("unknown function with name {word:?}"));
                }
                funcs.push(word);
            } else {
                let matchers = if chars.get(j) == Some(&'{') {
                    i = j;
                    read_matchers(&chars, &mut i)?
                } else {
                    Vec::new()
                };
                sels.push(Selector {
                    metric: word,
                    matchers,
                });
            }
            continue;
        }
        match c {
            '{' => {
                let matchers = read_matchers(&chars, &mut i)?;
                sels.push(Selector {
                    metric: String::new(),
                    matchers,
                });
                continue;
            }
            '"' | '\'' => {
                read_string(&chars, &mut i)?;
                continue;
            }
            '0'..='9' | '.' => {
                // A number, exponent included (`1e3`), so `e3` is not read as a metric.
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                continue;
            }
            '[' => {
                // A range or subquery duration: `[1m]`, `[5m:30s]`.
                let close = chars[i..].iter().position(|c| *c == ']');
                i += close.ok_or("unclosed left bracket")? + 1;
                continue;
            }
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or("unexpected right parenthesis ')'")?;
            }
            ']' => return Err("unexpected right bracket ']'".into()),
            '/' => divides = true,
            '}' => return Err("unexpected right brace '}'".into()),
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        return Err("unclosed left parenthesis".into());
    }
    Ok((sels, funcs, divides))
}

/// Recognises `q`; `Err` is the parse error text for a `bad_data` answer.
pub fn parse(q: &str) -> Result<Expr, String> {
    let trimmed = q.trim();
    if trimmed.is_empty() {
        return Err("no expression found in input".into());
    }
    if let Ok(n) = trimmed.parse::<f64>() {
        return Ok(Expr::Scalar(Some(n)));
    }
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    if compact == "time()" {
        return Ok(Expr::Scalar(None));
    }
    if let Some(n) = compact
        .strip_prefix("vector(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|n| n.parse::<f64>().ok())
    {
        return Ok(Expr::Literal(n));
    }
    let (mut sels, funcs, divides) = scan(trimmed)?;
    if sels.is_empty() {
        return Err(format!("unsupported expression {trimmed:?}"));
    }
    let aggregated = funcs
        .first()
        .is_some_and(|f| AGGREGATORS.contains(&f.as_str()) && compact.starts_with(f.as_str()));
    let metric = sels[0].metric.clone();
    let kind = match metric.as_str() {
        "up" => Kind::Up,
        "flagger_canary_weight" => Kind::Weight,
        "http_request_duration_seconds_bucket"
            if funcs.iter().any(|f| f == "histogram_quantile") =>
        {
            let phi = compact
                .split_once("histogram_quantile(")
                .and_then(|(_, r)| r.split_once(','))
                .and_then(|(p, _)| p.parse::<f64>().ok())
                .ok_or("histogram_quantile needs a numeric quantile")?;
            let scale = if compact.ends_with("*1000") || compact.ends_with("*1e3") {
                1000.0
            } else {
                1.0
            };
            Kind::Quantile { phi, scale }
        }
        "http_requests_total" => {
            let errors = sels[0].matchers.iter().any(|(l, op, v)| {
                (l == "code" || l == "status") && (op == "=~" || op == "=") && v.starts_with('5')
            });
            match (errors, divides) {
                (true, true) => Kind::ErrorRatio,
                (true, false) => Kind::ErrorRate,
                _ => Kind::RequestRate,
            }
        }
        other => {
            return Err(format!(
                "unknown series {other:?}: the demo Prometheus serves up, flagger_canary_weight, http_requests_total and http_request_duration_seconds_bucket"
            ));
        }
    };
    Ok(Expr::Series {
        kind,
        sel: sels.swap_remove(0),
        aggregated,
    })
}

fn labels(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
        .collect()
}

/// A vector-valued expression at `at` (empty: no series at that time).
pub fn eval_vector(kind: &Kind, sel: &Selector, aggregated: bool, at: &At) -> Vec<Sample> {
    match kind {
        Kind::Up => [
            ("prometheus", "localhost:9090".to_string()),
            ("flagger", "flagger.flagger-system:8080".to_string()),
        ]
        .into_iter()
        .chain(at.apps().map(|app| (app, format!("{app}.acme:8080"))))
        .filter(|(job, _)| sel.eq("job").is_none_or(|j| j == *job))
        .map(|(job, inst)| {
            (
                labels(&[("__name__", "up"), ("instance", &inst), ("job", job)]),
                1.0,
            )
        })
        .collect(),
        Kind::Weight => {
            let all: Vec<Sample> = at
                .apps()
                .filter(|app| sel.eq("name").is_none_or(|n| n == *app))
                .map(|app| {
                    let l = labels(&[
                        ("__name__", "flagger_canary_weight"),
                        ("name", app),
                        ("namespace", "acme"),
                    ]);
                    (l, at.weight(app))
                })
                .collect();
            if aggregated {
                all.iter()
                    .map(|s| s.1)
                    .reduce(f64::max)
                    .map(|v| vec![(Map::new(), v)])
                    .unwrap_or_default()
            } else {
                all
            }
        }
        _ => http_series(kind, sel, aggregated, at),
    }
}

fn http_series(kind: &Kind, sel: &Selector, aggregated: bool, at: &At) -> Vec<Sample> {
    let track = sel.eq("track");
    let value = |app: &str, tr: &str| {
        let rate = at.rate(app, tr)?;
        // A canary without traffic: rates are 0, ratios and quantiles 0 / 0.
        let idle = tr == "canary" && at.canary(app) == Canary::Idle;
        match kind {
            Kind::ErrorRatio if idle => Some(f64::NAN),
            Kind::ErrorRatio => at.error_ratio(app, tr),
            Kind::ErrorRate if idle => Some(0.0),
            Kind::ErrorRate => Some(at.error_ratio(app, tr)? * rate * at.scale_rate()),
            Kind::RequestRate => Some(rate * at.scale_rate()),
            Kind::Quantile { .. } if idle => Some(f64::NAN),
            Kind::Quantile { phi, scale } => Some(at.quantile_ms(app, tr, *phi)? / 1000.0 * scale),
            _ => Some(rate),
        }
    };
    // (app, value, request rate as a weight)
    let per_app: Vec<(&str, f64, f64)> = at
        .apps()
        .filter(|app| sel.eq("app").is_none_or(|a| a == *app))
        .filter_map(|app| {
            let (v, w) = match track {
                Some(tr) => (value(app, tr)?, at.rate(app, tr)?),
                None => (
                    blended(at.weight(app), |tr| value(app, tr))?,
                    at.rate(app, "stable")? + at.rate(app, "canary").unwrap_or(0.0),
                ),
            };
            Some((app, v, w))
        })
        .collect();
    if per_app.is_empty() {
        return Vec::new();
    }
    if aggregated {
        let v = match kind {
            Kind::ErrorRate | Kind::RequestRate => per_app.iter().map(|p| p.1).sum(),
            _ => {
                // Apps without traffic add nothing to a ratio or a quantile.
                let served = || per_app.iter().filter(|p| p.2 > 0.0);
                let w: f64 = served().map(|p| p.2).sum();
                if w > 0.0 {
                    served().map(|p| p.1 * p.2).sum::<f64>() / w
                } else {
                    f64::NAN
                }
            }
        };
        return vec![(Map::new(), v)];
    }
    per_app
        .into_iter()
        .map(|(app, v, _)| {
            let mut l = labels(&[("app", app)]);
            if let Some(tr) = track {
                l.insert("track".into(), Value::from(tr));
            }
            (l, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{error_rate_query, p99_query, weight_query};

    #[test]
    fn recognises_config_queries() {
        for app in APPS {
            assert!(matches!(
                parse(&weight_query(app)),
                Ok(Expr::Series {
                    kind: Kind::Weight,
                    ..
                })
            ));
            for track in ["canary", "stable"] {
                let e = parse(&error_rate_query(app, track));
                assert!(
                    matches!(
                        e,
                        Ok(Expr::Series {
                            kind: Kind::ErrorRatio,
                            aggregated: true,
                            ..
                        })
                    ),
                    "{e:?}"
                );
                let p = parse(&p99_query(app, track));
                assert!(
                    matches!(
                        p,
                        Ok(Expr::Series {
                            kind: Kind::Quantile { scale: 1000.0, .. },
                            aggregated: true,
                            ..
                        })
                    ),
                    "{p:?}"
                );
            }
        }
    }

    #[test]
    fn literals_and_errors() {
        assert!(matches!(parse("1"), Ok(Expr::Scalar(Some(1.0)))));
        assert!(matches!(parse(" vector(1) "), Ok(Expr::Literal(1.0))));
        assert!(parse("").is_err());
        assert!(parse("sum(rate(x[1m])").is_err());
        assert!(parse("foo_bar").is_err());
        assert!(parse("frobnicate(up)").is_err());
        assert!(parse(r#"up{job="x"#).is_err());
        assert!(matches!(
            parse("up"),
            Ok(Expr::Series { kind: Kind::Up, .. })
        ));
    }

    #[test]
    fn unknown_app_is_empty() {
        let Ok(Expr::Series {
            kind,
            sel,
            aggregated,
        }) = parse(&error_rate_query("nope", "canary"))
        else {
            panic!("not recognised");
        };
        assert!(eval_vector(&kind, &sel, aggregated, &At::story(10.0)).is_empty());
    }

    fn eval(q: &str, at: &At) -> Vec<f64> {
        let Ok(Expr::Series {
            kind,
            sel,
            aggregated,
        }) = parse(q)
        else {
            panic!("not recognised: {q}");
        };
        eval_vector(&kind, &sel, aggregated, at)
            .into_iter()
            .map(|s| s.1)
            .collect()
    }

    #[test]
    fn a_rolled_back_canary_idles_then_disappears() {
        let live = At::story(100.0);
        let idle = At {
            t: 100.0,
            rolled_back: vec![("checkout", 5.0)],
            ..At::default()
        };
        let gone = At {
            t: 100.0,
            rolled_back: vec![("checkout", 600.0)],
            ..At::default()
        };
        assert_eq!(eval(&weight_query("checkout"), &live), vec![50.0]);
        assert_eq!(eval(&weight_query("checkout"), &idle), vec![0.0]);
        assert_eq!(eval(&weight_query("web"), &idle), vec![50.0]);
        let err = error_rate_query("checkout", "canary");
        assert!(eval(&err, &live)[0] > 0.005);
        assert!(eval(&err, &idle)[0].is_nan());
        assert!(eval(&err, &gone).is_empty());
        let p99 = p99_query("checkout", "canary");
        assert!(eval(&p99, &idle)[0].is_nan());
        assert!(eval(&p99, &gone).is_empty());
        for at in [&live, &idle, &gone] {
            let base = eval(&error_rate_query("checkout", "stable"), at);
            assert_eq!(base, eval(&error_rate_query("checkout", "stable"), &live));
            assert_eq!(eval(&p99_query("checkout", "stable"), at).len(), 1);
        }
        // No track label: the baseline alone, with all the traffic.
        let mixed = r#"sum(rate(http_requests_total{app="checkout",code=~"5.."}[1m])) / sum(rate(http_requests_total{app="checkout"}[1m]))"#;
        let v = eval(mixed, &idle)[0];
        assert!(v > 0.0 && v < 0.005, "{v}");
        // Across apps: the idle canary adds nothing.
        let canaries = r#"sum(rate(http_requests_total{track="canary",code=~"5.."}[1m])) / sum(rate(http_requests_total{track="canary"}[1m]))"#;
        let v = eval(canaries, &idle)[0];
        assert!(v > 0.0 && v < 0.005, "{v}");
    }
}
