//! Configuration: TOML file + environment + command line, XDG paths, validation with clear errors.
//!
//! Precedence for the file: `--config`, then `FLIGHTDECK_CONFIG`, then
//! `$XDG_CONFIG_HOME/flightdeck/config.toml`. Tokens never live in the file: they come from the
//! environment (`GH_TOKEN`/`GITHUB_TOKEN`, `SENTRY_AUTH_TOKEN`, `OPENAI_API_KEY`) or a `*_command`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The commented template written by `flightdeck config init`.
pub const TEMPLATE: &str = include_str!("../assets/config.toml");

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_refresh")]
    pub refresh_secs: u64,
    #[serde(default = "default_theme")]
    pub theme: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub mouse: bool,
    /// Ring the terminal's bell when a judged service turns ROLLBACK (`bell = false`: quiet).
    #[serde(default = "default_bell")]
    pub bell: bool,
    /// Keep each source's last data and ETags on disk (`store`); `--no-cache` turns it off too.
    #[serde(default = "default_cache")]
    pub cache: bool,
    pub github: Option<GitHubConfig>,
    pub prometheus: Option<PrometheusConfig>,
    pub sentry: Option<SentryConfig>,
    #[serde(default)]
    pub ai: AiConfig,
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceConfig>,
    /// How the canary judge turns metrics into a verdict.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Action name → key or keys, e.g. `quit = ["q", "ctrl-c"]`.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyList>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            refresh_secs: default_refresh(),
            theme: default_theme(),
            read_only: false,
            mouse: false,
            bell: true,
            cache: true,
            github: None,
            prometheus: None,
            sentry: None,
            ai: AiConfig::default(),
            services: Vec::new(),
            policy: PolicyConfig::default(),
            keys: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    pub fn keys(&self) -> Vec<&str> {
        match self {
            KeyList::One(k) => vec![k.as_str()],
            KeyList::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A command given either as one string split on whitespace, or as an argv list. Never run by a shell.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum CommandLine {
    Line(String),
    Argv(Vec<String>),
}

impl CommandLine {
    pub fn argv(&self) -> Vec<String> {
        match self {
            CommandLine::Line(s) => s.split_whitespace().map(str::to_string).collect(),
            CommandLine::Argv(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GitHubConfig {
    #[serde(default = "default_github_url")]
    pub api_url: String,
    #[serde(default)]
    pub repos: Vec<String>,
    /// Used when GH_TOKEN / GITHUB_TOKEN are unset. Default `gh auth token`.
    pub token_command: Option<CommandLine>,
    /// Send no token at all (public repositories, the demo world).
    #[serde(default)]
    pub anonymous: bool,
    /// At most this many items per list (PRs, runs) per repo; pages of 100 are fetched up to it.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    pub url: String,
    pub auth: Option<PrometheusAuth>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrometheusAuth {
    /// Name of an environment variable holding a bearer token.
    pub bearer_env: Option<String>,
    pub basic_user: Option<String>,
    /// Name of an environment variable holding the basic-auth password.
    pub basic_password_env: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SentryConfig {
    #[serde(default = "default_sentry_url")]
    pub url: String,
    pub org: String,
    #[serde(default)]
    pub projects: Vec<String>,
    /// Used when SENTRY_AUTH_TOKEN is unset.
    pub token_command: Option<CommandLine>,
    #[serde(default)]
    pub anonymous: bool,
    /// Only issues seen in this environment (Sentry's `environment` parameter); all when unset.
    #[serde(default)]
    pub environment: Option<String>,
    /// Sentry's `statsPeriod` for the issue list and its counts: `24h` or `14d`.
    #[serde(default = "default_stats_period")]
    pub stats_period: String,
    /// The repository holding each project's code (`checkout = "acme/checkout"`). Unset, a project
    /// maps to the repo of the service with its name, else to the only configured repo.
    #[serde(default)]
    pub repos: BTreeMap<String, String>,
    /// Where a stack frame's file lives in the repository when suffix matching cannot tell: a
    /// prefix of the frame's path and what replaces it (`"app:///" = "web/src/"`,
    /// `"/srv/app/" = ""`). Tried before suffix matching, longest prefix first.
    #[serde(default)]
    pub path_map: BTreeMap<String, String>,
}

fn default_stats_period() -> String {
    "24h".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AiConfig {
    #[serde(default = "default_provider")]
    pub provider: String,
    #[serde(default = "default_ai_url")]
    pub url: String,
    #[serde(default = "default_model")]
    pub model: String,
    /// Used when OPENAI_API_KEY is unset.
    pub api_key_command: Option<CommandLine>,
    /// Words masked in every prompt besides tokens, keys, passwords, connection strings and
    /// e-mail addresses (customer names, internal host names): matched literally, ignoring case.
    #[serde(default)]
    pub redact: Vec<String>,
    /// The window of the AI tab's DORA metrics, in days (`flightdeck dora --window` for others).
    #[serde(default = "default_dora_days")]
    pub dora_days: u32,
    /// PR risk rules: `[[ai.risk.rules]] name, globs, weight` (a default's name replaces it,
    /// weight 0 turns it off, a new name adds one; `replace_defaults = true` starts empty), bands,
    /// size thresholds and signal weights.
    #[serde(default)]
    pub risk: crate::ai::risk::RiskRules,
}

fn default_dora_days() -> u32 {
    30
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig {
            provider: default_provider(),
            url: default_ai_url(),
            model: default_model(),
            api_key_command: None,
            redact: Vec::new(),
            dora_days: default_dora_days(),
            risk: Default::default(),
        }
    }
}

/// Promotion policy: the score bands and the statistics' confidence.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Score at or above which a canary may be promoted.
    #[serde(default = "default_promote_at")]
    pub promote_at: f64,
    /// Score below which promotion is blocked; between the two a human reviews.
    #[serde(default = "default_review_at")]
    pub review_at: f64,
    /// Confidence of the canary/baseline comparison (0.95 → p < 0.05).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
}

/// The judge's policy as the configuration sets it (each service brings its own traffic floor).
impl From<&PolicyConfig> for crate::analysis::canary::Policy {
    fn from(cfg: &PolicyConfig) -> Self {
        crate::analysis::canary::Policy {
            promote_at: cfg.promote_at,
            review_at: cfg.review_at,
            confidence: cfg.confidence,
            min_traffic: None,
        }
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            promote_at: default_promote_at(),
            review_at: default_review_at(),
            confidence: default_confidence(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub name: String,
    pub repo: Option<String>,
    #[serde(default = "default_environment")]
    pub environment: String,
    #[serde(default)]
    pub production: bool,
    #[serde(default = "default_slices")]
    pub slices: Vec<u8>,
    pub weight: Option<String>,
    #[serde(default)]
    pub metrics: BTreeMap<String, MetricConfig>,
    pub rollback: Option<RollbackConfig>,
    /// Approve the next slice on PROCEED (promote band) and roll back on ROLLBACK, unattended.
    #[serde(default)]
    pub autopilot: bool,
    /// How far back the judge reads samples.
    #[serde(default = "default_lookback")]
    pub lookback_secs: u64,
    /// Resolution of those samples.
    #[serde(default = "default_step")]
    pub step_secs: u64,
    /// Length of one threshold window (failure limits count windows).
    #[serde(default = "default_window")]
    pub window_secs: u64,
    /// PromQL for the canary's traffic (requests per second); with `min_traffic`, too little is HOLD.
    pub traffic: Option<String>,
    pub min_traffic: Option<f64>,
    /// PromQL for the baseline's traffic (requests per second): with `traffic`, what a
    /// `kind = "ratio"` metric's counts are computed from.
    pub baseline_traffic: Option<String>,
    /// How far back to look for the rollout's start when the canary has all the traffic (its
    /// history before then is the baseline at 100 %).
    #[serde(default = "default_history")]
    pub history_secs: u64,
    /// How long the canary must hold at 100 % with the judge saying PROCEED before the
    /// promotion is complete.
    #[serde(default = "default_bake")]
    pub bake_secs: u64,
    /// How much of the stable version's own history from before the rollout began a counted
    /// ratio is compared with (its errors and requests over this span, read once per rollout):
    /// the longer, the less noise in that reference on a service of few errors a minute, and the
    /// more drift (a daily cycle) it takes in. At least `lookback_secs`; unset,
    /// [`REFERENCE_SECS`] or the lookback if longer ([`ServiceConfig::reference_span`]).
    pub reference_secs: Option<u64>,
}

impl ServiceConfig {
    /// The span of the stable's history before the rollout a counted ratio is compared with.
    pub fn reference_span(&self) -> u64 {
        self.reference_secs
            .unwrap_or(REFERENCE_SECS)
            .max(self.lookback_secs)
    }
}

fn default_history() -> u64 {
    6 * 3600
}

fn default_bake() -> u64 {
    300
}

/// `reference_secs` when unset.
pub const REFERENCE_SECS: u64 = 1800;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricConfig {
    pub canary: String,
    pub baseline: Option<String>,
    pub max: Option<f64>,
    pub min: Option<f64>,
    /// "higher-is-worse" (default unless only `min` is set) or "lower-is-worse".
    pub direction: Option<String>,
    /// A critical metric that fails blocks promotion whatever the score.
    #[serde(default)]
    pub critical: bool,
    /// Weight in the promotion score (default 1).
    pub weight: Option<f64>,
    /// Threshold windows allowed to breach before the metric fails (default 1). A new slice
    /// PROCEEDs only after `failure_limit + 1` windows of its own. 0 tolerates no breaching window
    /// and no spike: a window's points beyond the bound are ROLLBACK before the comparison has its
    /// samples (at 1, more than a 30 s spike's `[1m]` smear fills).
    pub failure_limit: Option<usize>,
    /// How much worse than the baseline the canary may be, relative (default 0.1 = 10 %).
    pub tolerance: Option<f64>,
    /// For a ratio judged on its counts: PROCEED only once the counts could have shown the
    /// canary this much worse than its reference (relative: 0.25 = +25 %; 0 = off). Unset, +25 %
    /// on a service whose traffic can show it (its lookback before the rollout holds a few
    /// hundred errors); on a quieter one, a doubling (1.0) before 100 % (on a clean service, an
    /// excess of a quarter of the bound, with the canary shown under half of it), while at 100 % a
    /// canary under its bound and not shown worse PROCEEDs.
    pub detect: Option<f64>,
    /// Samples needed on each side before the canary is compared with its baseline (default
    /// 10; at least 3). Samples should be independent: one per rate window.
    pub min_samples: Option<usize>,
    /// `"ratio"`: events per request (errors / requests), judged on the counts behind it — from
    /// `errors`/`requests` when given, else the ratio times the service's `traffic` and
    /// `baseline_traffic`. Unset, a ratio whose queries read as `errors / requests` is counted
    /// from them (see [`MetricConfig::count_from_ratio`]); `"samples"` judges it on its samples.
    pub kind: Option<String>,
    /// PromQL for the canary's events (errors) per second.
    pub errors: Option<String>,
    /// PromQL for the canary's requests per second.
    pub requests: Option<String>,
    /// PromQL for the baseline's events (errors) per second.
    pub baseline_errors: Option<String>,
    /// PromQL for the baseline's requests per second.
    pub baseline_requests: Option<String>,
    /// The counts were read from the ratio's own queries (see [`MetricConfig::count_from_ratio`]),
    /// not given.
    #[serde(skip)]
    pub counts_from_ratio: bool,
}

impl MetricConfig {
    /// Judged on counts: `kind = "ratio"`, or `errors`/`requests` given.
    pub fn counted(&self) -> bool {
        self.kind.as_deref() == Some("ratio") || self.errors.is_some()
    }

    /// A higher-is-worse metric with no `kind` and no counts of its own, bounded (if at all)
    /// under 1, whose queries are event ratios as dashboards write them (`errors / requests` of
    /// the same counter, see [`crate::sources::promql::split_event_ratio`]): judged on the
    /// counts behind it, its numerator and denominator, as if `errors`/`requests` (and the
    /// baseline's) had been given. `kind = "samples"` keeps it on its samples.
    fn count_from_ratio(&mut self) {
        use crate::sources::promql::split_event_ratio;
        if self.kind.is_some()
            || self.errors.is_some()
            || self.baseline_errors.is_some()
            || self.lower_is_worse()
            || self.max.is_some_and(|m| !(m > 0.0 && m <= 1.0))
        {
            return;
        }
        let Some((errors, requests)) = split_event_ratio(&self.canary) else {
            return;
        };
        let baseline = match &self.baseline {
            Some(b) => match split_event_ratio(b) {
                Some(split) => Some(split),
                None => return,
            },
            None => None,
        };
        self.errors = Some(errors);
        self.requests = Some(requests);
        if let Some((e, r)) = baseline {
            self.baseline_errors = Some(e);
            self.baseline_requests = Some(r);
        }
        self.counts_from_ratio = true;
    }

    pub fn lower_is_worse(&self) -> bool {
        match self.direction.as_deref() {
            Some("lower-is-worse") => true,
            Some(_) => false,
            None => self.min.is_some() && self.max.is_none(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RollbackConfig {
    pub workflow: Option<String>,
    /// The branch or tag the rollback workflow runs on (default "main").
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
}

fn default_refresh() -> u64 {
    15
}
fn default_cache() -> bool {
    true
}
fn default_bell() -> bool {
    true
}
fn default_theme() -> String {
    "default".into()
}
fn default_github_url() -> String {
    "https://api.github.com".into()
}
fn default_sentry_url() -> String {
    "https://sentry.io".into()
}
fn default_provider() -> String {
    "builtin".into()
}
fn default_ai_url() -> String {
    "http://localhost:11434/v1".into()
}
fn default_model() -> String {
    "llama3.1".into()
}
fn default_environment() -> String {
    "production".into()
}
fn default_slices() -> Vec<u8> {
    vec![10, 25, 50, 100]
}
fn default_max_items() -> usize {
    300
}
fn default_promote_at() -> f64 {
    0.92
}
fn default_review_at() -> f64 {
    0.75
}
fn default_confidence() -> f64 {
    0.95
}
fn default_lookback() -> u64 {
    600
}
fn default_step() -> u64 {
    15
}
fn default_window() -> u64 {
    60
}

/// A configuration problem: which file, and what is wrong (naming the key and what is expected).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parse and validate TOML text. `file` names the source in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError {
            file: file.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        for s in &mut config.services {
            for m in s.metrics.values_mut() {
                m.count_from_ratio();
            }
        }
        config.validate().map_err(|message| ConfigError {
            file: file.to_string(),
            message,
        })?;
        Ok(config)
    }

    /// Read the file at `path`, or the defaults when `path` is the implicit default and absent.
    pub fn load(path: &Path, must_exist: bool) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                Ok(Config::default())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConfigError {
                file,
                message:
                    "the file does not exist (`flightdeck config init` writes a template there)"
                        .into(),
            }),
            Err(e) => Err(ConfigError {
                file,
                message: format!("cannot read: {e}"),
            }),
        }
    }

    fn validate(&self) -> Result<(), String> {
        if !(1..=3600).contains(&self.refresh_secs) {
            return Err(format!(
                "refresh_secs: expected a number of seconds from 1 to 3600, got {}",
                self.refresh_secs
            ));
        }
        if let Some(gh) = &self.github {
            check_url("github.api_url", &gh.api_url)?;
            for (i, repo) in gh.repos.iter().enumerate() {
                check_repo(&format!("github.repos[{i}]"), repo)?;
            }
            if gh.max_items == 0 {
                return Err("github.max_items: expected a positive number, got 0".into());
            }
        }
        if let Some(p) = &self.prometheus {
            check_url("prometheus.url", &p.url)?;
            if let Some(a) = &p.auth {
                let basic = a.basic_user.is_some() || a.basic_password_env.is_some();
                if a.bearer_env.is_some() && basic {
                    return Err(
                        "prometheus.auth: expected either bearer_env or basic_user + basic_password_env, not both"
                            .into(),
                    );
                }
                if basic && (a.basic_user.is_none() || a.basic_password_env.is_none()) {
                    return Err(
                        "prometheus.auth: basic auth needs both basic_user and basic_password_env"
                            .into(),
                    );
                }
            }
        }
        if let Some(s) = &self.sentry {
            check_url("sentry.url", &s.url)?;
            if s.org.trim().is_empty() {
                return Err(
                    "sentry.org: expected an organization slug, got an empty string".into(),
                );
            }
        }
        match self.ai.provider.as_str() {
            "builtin" => {}
            "openai" => check_url("ai.url", &self.ai.url)?,
            other => {
                return Err(format!(
                    "ai.provider: expected \"builtin\" or \"openai\", got \"{other}\""
                ));
            }
        }
        let p = &self.policy;
        if !(0.0..=1.0).contains(&p.review_at)
            || !(0.0..=1.0).contains(&p.promote_at)
            || p.review_at > p.promote_at
        {
            return Err(format!(
                "policy: expected 0 <= review_at <= promote_at <= 1, got review_at = {} and promote_at = {}",
                p.review_at, p.promote_at
            ));
        }
        if !(0.5..1.0).contains(&p.confidence) {
            return Err(format!(
                "policy.confidence: expected a number from 0.5 to below 1, e.g. 0.95, got {}",
                p.confidence
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, s) in self.services.iter().enumerate() {
            let at = format!("service[{i}]");
            if s.name.trim().is_empty() {
                return Err(format!(
                    "{at}.name: expected a service name, got an empty string"
                ));
            }
            check_shown(&format!("{at}.name"), &s.name)?;
            check_shown(&format!("{at}.environment"), &s.environment)?;
            if !names.insert(s.name.as_str()) {
                return Err(format!(
                    "{at}.name: the service \"{}\" is defined twice",
                    s.name
                ));
            }
            if let Some(repo) = &s.repo {
                check_repo(&format!("{at}.repo"), repo)?;
            }
            if s.slices.is_empty()
                || s.slices.iter().any(|&w| w == 0 || w > 100)
                || s.slices.windows(2).any(|w| w[0] >= w[1])
            {
                return Err(format!(
                    "{at}.slices: expected rising percentages between 1 and 100, e.g. [10, 25, 50, 100], got {:?}",
                    s.slices
                ));
            }
            if s.step_secs == 0 || s.window_secs < s.step_secs || s.lookback_secs < s.window_secs {
                return Err(format!(
                    "{at}: expected 0 < step_secs <= window_secs <= lookback_secs, got {} / {} / {}",
                    s.step_secs, s.window_secs, s.lookback_secs
                ));
            }
            if let Some(r) = s.reference_secs
                && (r < s.lookback_secs || r / s.step_secs > 11_000)
            {
                return Err(format!(
                    "{at}.reference_secs: expected at least lookback_secs ({}) and under 11000 steps of step_secs, got {r}",
                    s.lookback_secs
                ));
            }
            if s.lookback_secs / s.step_secs > 11_000 {
                return Err(format!(
                    "{at}.step_secs: lookback_secs / step_secs must stay under 11000 points (Prometheus's limit), got {}",
                    s.lookback_secs / s.step_secs
                ));
            }
            for (name, m) in &s.metrics {
                check_shown(&format!("{at}.metrics"), name)?;
                if let Some(d) = &m.direction
                    && d != "higher-is-worse"
                    && d != "lower-is-worse"
                {
                    return Err(format!(
                        "{at}.metrics.{name}.direction: expected \"higher-is-worse\" or \"lower-is-worse\", got \"{d}\""
                    ));
                }
                if m.weight.is_some_and(|w| w.is_nan() || w <= 0.0)
                    || m.tolerance.is_some_and(|t| t < 0.0)
                {
                    return Err(format!(
                        "{at}.metrics.{name}: weight must be positive and tolerance not negative"
                    ));
                }
                if m.max.is_none() && m.min.is_none() && m.baseline.is_none() {
                    return Err(format!(
                        "{at}.metrics.{name}: expected at least one of max, min or baseline"
                    ));
                }
                if let Some(d) = m.detect
                    && (!d.is_finite() || d < 0.0 || !m.counted())
                {
                    return Err(format!(
                        "{at}.metrics.{name}.detect: expected a relative increase (0.25 = +25 %; 0 = off) on a ratio judged on its counts (kind = \"ratio\" or errors/requests), got {d}"
                    ));
                }
                if m.min_samples.is_some_and(|n| n < 3) {
                    return Err(format!(
                        "{at}.metrics.{name}.min_samples: expected at least 3"
                    ));
                }
                if let Some(k) = &m.kind
                    && k != "ratio"
                    && k != "samples"
                {
                    return Err(format!(
                        "{at}.metrics.{name}.kind: expected \"ratio\" or \"samples\", got \"{k}\""
                    ));
                }
                if m.kind.as_deref() == Some("samples") && m.errors.is_some() {
                    return Err(format!(
                        "{at}.metrics.{name}: kind = \"samples\" judges the metric on its samples: drop errors and requests, or the kind"
                    ));
                }
                if m.errors.is_some() != m.requests.is_some()
                    || m.baseline_errors.is_some() != m.baseline_requests.is_some()
                {
                    return Err(format!(
                        "{at}.metrics.{name}: errors and requests (and baseline_errors and baseline_requests) go in pairs"
                    ));
                }
                if m.counted() && m.lower_is_worse() {
                    return Err(format!(
                        "{at}.metrics.{name}: a ratio judged on counts counts bad events (errors): it must be higher-is-worse"
                    ));
                }
                if m.counted() && m.errors.is_none() && s.traffic.is_none() {
                    return Err(format!(
                        "{at}.metrics.{name}: kind = \"ratio\" needs the canary's counts: errors and requests, or the service's traffic"
                    ));
                }
                if let (Some(lo), Some(hi)) = (m.min, m.max)
                    && lo > hi
                {
                    return Err(format!(
                        "{at}.metrics.{name}: min ({lo}) is greater than max ({hi})"
                    ));
                }
            }
            if let Some(r) = &s.rollback
                && r.workflow.is_some() == r.command.is_some()
            {
                return Err(format!(
                    "{at}.rollback: expected exactly one of workflow or command"
                ));
            }
        }
        Ok(())
    }
}

fn check_url(key: &str, url: &str) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "{key}: expected an http:// or https:// URL, got \"{url}\""
        ))
    }
}

fn check_repo(key: &str, repo: &str) -> Result<(), String> {
    // GitHub's owner and repository names: letters, digits, `-`, `_` and `.`. The error shows the
    // value escaped (`{:?}`): it is printed to a terminal.
    let part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let mut parts = repo.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(o), Some(n), None) if part(o) && part(n) => Ok(()),
        _ => Err(format!("{key}: expected \"owner/name\", got {repo:?}")),
    }
}

/// A name from the config that the cockpit shows (a service, its environment, a metric): the
/// judge's reasons, the Rollouts tab, the audit and `flightdeck judge` print it as written, so it
/// must be printable text as it stands: no escape, control or zero-width character, nothing
/// [`crate::sanitize::clean`] would change. The error shows the value escaped.
fn check_shown(key: &str, name: &str) -> Result<(), String> {
    if crate::sanitize::clean(name) == name {
        Ok(())
    } else {
        Err(format!(
            "{key}: expected printable text (no escape, control or zero-width characters, no token), got {name:?}"
        ))
    }
}

/// Where flightdeck keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    pub themes_dir: PathBuf,
    pub state_dir: PathBuf,
    pub cache_dir: PathBuf,
}

impl Paths {
    /// Resolve paths from the platform's conventions (XDG on Linux). `config_override` is `--config`.
    pub fn resolve(config_override: Option<&Path>) -> Paths {
        let dirs = directories::ProjectDirs::from("", "", "flightdeck");
        let home_fallback = || PathBuf::from(".flightdeck");
        let config_dir = dirs
            .as_ref()
            .map(|d| d.config_dir().to_path_buf())
            .unwrap_or_else(home_fallback);
        let state_dir = dirs
            .as_ref()
            .map(|d| {
                d.state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .to_path_buf()
            })
            .unwrap_or_else(home_fallback);
        let cache_dir = dirs
            .as_ref()
            .map(|d| d.cache_dir().to_path_buf())
            .unwrap_or_else(home_fallback);
        let config_file = config_override
            .map(Path::to_path_buf)
            .or_else(|| {
                std::env::var_os("FLIGHTDECK_CONFIG")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| config_dir.join("config.toml"));
        Paths {
            themes_dir: config_dir.join("themes"),
            config_file,
            state_dir,
            cache_dir,
        }
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("flightdeck.log")
    }

    pub fn audit_file(&self) -> PathBuf {
        self.state_dir.join("audit.jsonl")
    }

    /// The demo's paths: its own state directory (`demo/` in the state directory: its audit log
    /// and the records of its verdicts) and cache, so that the simulated world's approvals, rollbacks
    /// and verdicts never mix with the real ones in the operator's audit log (nor come back from
    /// it at the next start). The config file and themes are the operator's.
    pub fn demo(&self) -> Paths {
        Paths {
            config_file: self.config_file.clone(),
            themes_dir: self.themes_dir.clone(),
            state_dir: self.state_dir.join("demo"),
            cache_dir: self.cache_dir.join("demo"),
        }
    }

    /// Create the state directory (log, audit log) readable by its owner only, and tighten one that
    /// an older flightdeck created with the default 0755.
    pub fn ensure_state_dir(&self) -> std::io::Result<()> {
        create_private_dir(&self.state_dir)
    }

    /// Whether the config file was named explicitly (then it must exist).
    pub fn explicit(config_override: Option<&Path>) -> bool {
        config_override.is_some()
            || std::env::var_os("FLIGHTDECK_CONFIG").is_some_and(|v| !v.is_empty())
    }
}

/// Create `dir` (and missing parents) with mode 0700; an existing `dir` open to group or others is
/// narrowed to 0700 (only ever called on flightdeck's own directories).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        let meta = std::fs::metadata(dir)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    builder.create(dir)
}

/// A warning when `file` exists and other users may read it: the config can carry credentials
/// (`prometheus.headers`, URLs with a user and password), so it should be `chmod 600` like a token.
/// `None` when it is private or absent (and always on platforms without Unix modes).
pub fn readable_by_others(file: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).ok()?.permissions().mode() & 0o777;
        (mode & 0o044 != 0).then(|| {
            format!(
                "{} is readable by other users (mode {mode:03o}); it may hold credentials: chmod 600 {}",
                file.display(),
                file.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        None
    }
}

/// A token. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a token came from, for `doctor` and error messages (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOrigin {
    Env(&'static str),
    Command(String),
    None,
}

fn env_token(names: &[&'static str]) -> Option<(Secret, TokenOrigin)> {
    names.iter().find_map(|n| {
        std::env::var(n)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(|v| (Secret::new(v), TokenOrigin::Env(n)))
    })
}

async fn command_token(cmd: &CommandLine) -> Result<Option<(Secret, TokenOrigin)>, String> {
    let argv = cmd.argv();
    let Some((prog, args)) = argv.split_first() else {
        return Ok(None);
    };
    let shown = argv.join(" ");
    let run = tokio::process::Command::new(prog)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(std::time::Duration::from_secs(10), run).await {
        Err(_) => Err(format!("`{shown}` did not answer within 10 s")),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Ok(Err(e)) => Err(format!("`{shown}` could not run: {e}")),
        Ok(Ok(out)) if !out.status.success() => Ok(None),
        Ok(Ok(out)) => {
            let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Ok((!token.is_empty()).then(|| (Secret::new(token), TokenOrigin::Command(shown))))
        }
    }
}

/// GitHub token: GH_TOKEN, GITHUB_TOKEN, then `token_command` (default `gh auth token`).
pub async fn github_token(cfg: &GitHubConfig) -> Result<Option<(Secret, TokenOrigin)>, String> {
    if cfg.anonymous {
        return Ok(None);
    }
    if let Some(t) = env_token(&["GH_TOKEN", "GITHUB_TOKEN"]) {
        return Ok(Some(t));
    }
    let cmd = cfg
        .token_command
        .clone()
        .unwrap_or_else(|| CommandLine::Line("gh auth token".into()));
    command_token(&cmd).await
}

/// Sentry token: SENTRY_AUTH_TOKEN, then `token_command`.
pub async fn sentry_token(cfg: &SentryConfig) -> Result<Option<(Secret, TokenOrigin)>, String> {
    if cfg.anonymous {
        return Ok(None);
    }
    if let Some(t) = env_token(&["SENTRY_AUTH_TOKEN"]) {
        return Ok(Some(t));
    }
    match &cfg.token_command {
        Some(cmd) => command_token(cmd).await,
        None => Ok(None),
    }
}

/// Key for an OpenAI-compatible endpoint: OPENAI_API_KEY, then `api_key_command`.
pub async fn ai_key(cfg: &AiConfig) -> Result<Option<(Secret, TokenOrigin)>, String> {
    if let Some(t) = env_token(&["OPENAI_API_KEY"]) {
        return Ok(Some(t));
    }
    match &cfg.api_key_command {
        Some(cmd) => command_token(cmd).await,
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses_back() {
        let c = Config::parse(TEMPLATE, "template").expect("template parses");
        assert_eq!(c.refresh_secs, 15);
        assert!(!c.services.is_empty());
        // Its error ratio is judged on its counts (written out: a server that answers only the
        // config's own queries answers them); its p99 on samples.
        let metrics = &c.services[0].metrics;
        assert!(!metrics["error_rate"].counts_from_ratio && metrics["error_rate"].counted());
        // …the same queries its ratio is read apart into when they are left out.
        let m = &metrics["error_rate"];
        let split = crate::sources::promql::split_event_ratio;
        assert_eq!(
            split(&m.canary),
            Some((m.errors.clone().unwrap(), m.requests.clone().unwrap()))
        );
        assert_eq!(
            split(m.baseline.as_deref().unwrap()),
            Some((
                m.baseline_errors.clone().unwrap(),
                m.baseline_requests.clone().unwrap()
            ))
        );
        assert!(!metrics["p99_ms"].counted());
    }

    #[test]
    fn unknown_key_is_named() {
        let e = Config::parse("refresh_secs = 5\ncolour = 'x'\n", "c.toml").unwrap_err();
        assert_eq!(e.file, "c.toml");
        assert!(e.message.contains("colour"), "{e}");
        let e = Config::parse("[github]\nrepo = ['a/b']\n", "c.toml").unwrap_err();
        assert!(e.message.contains("repo"), "{e}");
        assert!(e.message.contains("expected"), "{e}");
    }

    #[test]
    fn bad_values_are_explained() {
        let e = Config::parse("refresh_secs = 0\n", "c.toml").unwrap_err();
        assert!(e.message.starts_with("refresh_secs:"), "{e}");
        let e = Config::parse("[github]\nrepos = ['nope']\n", "c.toml").unwrap_err();
        assert!(e.message.contains("github.repos[0]"), "{e}");
        let e = Config::parse("refresh_secs = 'x'\n", "c.toml").unwrap_err();
        assert!(e.message.contains("refresh_secs"), "{e}");
        let e = Config::parse("[[service]]\nname='a'\nslices=[50,10]\n", "c.toml").unwrap_err();
        assert!(e.message.contains("service[0].slices"), "{e}");
        let e = Config::parse("[ai]\nprovider='magic'\n", "c.toml").unwrap_err();
        assert!(e.message.contains("ai.provider"), "{e}");
    }

    #[test]
    fn names_the_cockpit_shows_are_printable_text() {
        let parse = |toml: &str| Config::parse(toml, "c.toml").map(|_| ());
        // A TOML `\u001b` escape in a metric's name, a service's, its environment's: refused,
        // and the error shows the escape, not the byte.
        let e = parse(
            "[[service]]\nname='a'\n[service.metrics.\"err\\u001b[2Jrate\"]\ncanary='q'\nmax=0.01\n",
        )
        .unwrap_err();
        assert!(e.message.contains("service[0].metrics"), "{e}");
        assert!(e.message.contains("\\u{1b}"), "{e}");
        assert!(!e.message.contains('\u{1b}'), "{e}");
        let e = parse("[[service]]\nname=\"a\\u200bb\"\n").unwrap_err();
        assert!(e.message.contains("service[0].name"), "{e}");
        let e = parse("[[service]]\nname='a'\nenvironment=\"prod\\u0007\"\n").unwrap_err();
        assert!(e.message.contains("service[0].environment"), "{e}");
        // A repository outside GitHub's name characters, shown escaped.
        let e = parse("[github]\nrepos = [\"o/n\\u001b\"]\n").unwrap_err();
        assert!(e.message.contains("github.repos[0]"), "{e}");
        assert!(!e.message.contains('\u{1b}'), "{e}");
        // Ordinary names, Unicode included, pass.
        parse(
            "[github]\nrepos = ['acme-co/web.app_2']\n[[service]]\nname='checkout-api'\nenvironment='production'\n[service.metrics.\"latency p99 (ms) — café\"]\ncanary='q'\nmax=300\n",
        )
        .unwrap();
    }

    #[test]
    fn the_reference_span_is_at_least_the_lookback() {
        let span = |extra: &str| {
            Config::parse(&format!("[[service]]\nname='a'\n{extra}"), "c.toml")
                .map(|c| c.services[0].reference_span())
        };
        assert_eq!(span(""), Ok(REFERENCE_SECS));
        assert_eq!(span("reference_secs = 3600\n"), Ok(3600));
        // A lookback longer than the default reference: the lookback.
        assert_eq!(span("lookback_secs = 2400\n"), Ok(2400));
        let e = span("reference_secs = 300\n").unwrap_err();
        assert!(e.message.contains("service[0].reference_secs"), "{e}");
        let e = span("reference_secs = 200000\nstep_secs = 15\n").unwrap_err();
        assert!(e.message.contains("reference_secs"), "{e}");
    }

    #[test]
    fn detect_is_a_relative_excess_on_a_counted_ratio() {
        let service = |metric: &str| {
            format!(
                "[prometheus]\nurl = 'http://127.0.0.1:9'\n[[service]]\nname = 'a'\nslices = [10, 50, 100]\nweight = 'w'\n[service.metrics.error_rate]\ncanary = 'c'\nbaseline = 'b'\nmax = 0.005\n{metric}"
            )
        };
        let counted = "errors = 'e'\nrequests = 'r'\n";
        let c = Config::parse(&service(&format!("{counted}detect = 0.25\n")), "c.toml").unwrap();
        assert_eq!(c.services[0].metrics["error_rate"].detect, Some(0.25));
        // 0 turns it off (unset, the judge's default applies on a busy service).
        let off = Config::parse(&service(&format!("{counted}detect = 0.0\n")), "c.toml").unwrap();
        assert_eq!(off.services[0].metrics["error_rate"].detect, Some(0.0));
        let unset = Config::parse(&service(counted), "c.toml").unwrap();
        assert_eq!(unset.services[0].metrics["error_rate"].detect, None);
        for bad in [
            format!("{counted}detect = -0.1\n"),
            format!("{counted}detect = nan\n"),
            "detect = 0.25\n".to_string(),
        ] {
            let e = Config::parse(&service(&bad), "c.toml").unwrap_err();
            assert!(e.message.contains("error_rate.detect"), "{e}");
        }
    }

    #[test]
    fn an_error_ratio_written_as_its_query_is_counted_from_its_halves() {
        let service = |canary: &str, baseline: &str, extra: &str| {
            format!(
                "[prometheus]\nurl = 'http://127.0.0.1:9'\n[[service]]\nname = 'a'\nslices = [10, 50, 100]\nweight = 'w'\n[service.metrics.error_rate]\ncanary = '{canary}'\nbaseline = '{baseline}'\n{extra}"
            )
        };
        let ratio = |track: &str| {
            format!(
                r#"sum(rate(http_requests_total{{track="{track}",code=~"5.."}}[1m])) / sum(rate(http_requests_total{{track="{track}"}}[1m]))"#
            )
        };
        let m = |text: &str| {
            Config::parse(text, "c.toml").map(|c| c.services[0].metrics["error_rate"].clone())
        };
        let c = m(&service(
            &ratio("canary"),
            &ratio("stable"),
            "max = 0.005\n",
        ))
        .unwrap();
        assert!(c.counted() && c.counts_from_ratio);
        assert_eq!(
            c.errors.as_deref(),
            Some(r#"sum(rate(http_requests_total{track="canary",code=~"5.."}[1m]))"#)
        );
        assert_eq!(
            c.requests.as_deref(),
            Some(r#"sum(rate(http_requests_total{track="canary"}[1m]))"#)
        );
        assert_eq!(
            c.baseline_errors.as_deref(),
            Some(r#"sum(rate(http_requests_total{track="stable",code=~"5.."}[1m]))"#)
        );
        // So `detect` applies to it.
        assert!(
            m(&service(
                &ratio("canary"),
                &ratio("stable"),
                "max = 0.005\ndetect = 0.3\n"
            ))
            .is_ok()
        );
        // Left on its samples: asked to; given its counts (kept as given); lower-is-worse; a
        // bound that is no share; a baseline that is no event ratio; not a ratio at all.
        let samples = m(&service(
            &ratio("canary"),
            &ratio("stable"),
            "max = 0.005\nkind = 'samples'\n",
        ))
        .unwrap();
        assert!(!samples.counted() && samples.errors.is_none());
        let given = m(&service(
            &ratio("canary"),
            &ratio("stable"),
            "max = 0.005\nerrors = 'e'\nrequests = 'r'\n",
        ))
        .unwrap();
        assert_eq!(given.errors.as_deref(), Some("e"));
        assert!(!given.counts_from_ratio);
        for (canary, baseline, extra) in [
            (ratio("canary"), ratio("stable"), "min = 0.99\n"),
            (ratio("canary"), ratio("stable"), "max = 5\n"),
            (ratio("canary"), "avg(x)".to_string(), "max = 0.005\n"),
            (
                "rate(d_sum[1m]) / rate(d_count[1m])".to_string(),
                "rate(d_sum[1m]) / rate(d_count[1m])".to_string(),
                "max = 0.5\n",
            ),
        ] {
            let c = m(&service(&canary, &baseline, extra)).unwrap();
            assert!(!c.counted(), "{canary} {extra}");
        }
        let e = m(&service(
            &ratio("canary"),
            &ratio("stable"),
            "max = 0.005\nkind = 'samples'\nerrors = 'e'\nrequests = 'r'\n",
        ))
        .unwrap_err();
        assert!(e.message.contains("error_rate"), "{e}");
        let e = m(&service(
            &ratio("canary"),
            &ratio("stable"),
            "kind = 'other'\n",
        ))
        .unwrap_err();
        assert!(e.message.contains("\"samples\""), "{e}");
    }

    #[test]
    fn ai_risk_rules_are_editable_in_the_config() {
        let c = Config::parse(
            "[ai.risk]\n[[ai.risk.rules]]\nname = \"payments\"\nglobs = [\"**/payment*\"]\nweight = 40\n",
            "c.toml",
        )
        .unwrap();
        assert!(
            c.ai.risk
                .rules
                .iter()
                .any(|r| r.name == "payments" && r.weight == 40),
            "{:?}",
            c.ai.risk.rules
        );
        // The defaults stay beside it.
        assert!(c.ai.risk.rules.len() > 1);
        let e = Config::parse("[ai.risk]\nbogus = 1\n", "c.toml").unwrap_err();
        assert!(e.message.contains("bogus"), "{e}");
    }

    #[test]
    fn a_missing_file_is_an_error_only_when_it_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.toml");
        assert_eq!(Config::load(&path, false).unwrap(), Config::default());
        let e = Config::load(&path, true).unwrap_err();
        assert_eq!(e.file, path.display().to_string());
        assert!(e.message.contains("does not exist"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_and_readable_files() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state/flightdeck");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700, "an existing open dir is narrowed");

        let file = root.path().join("config.toml");
        assert_eq!(readable_by_others(&file), None, "absent");
        std::fs::write(&file, "").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let w = readable_by_others(&file).expect("0644 warns");
        assert!(
            w.contains("chmod 600") && w.contains("config.toml") && w.contains("644"),
            "{w}"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(readable_by_others(&file).is_some(), "group-readable warns");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(readable_by_others(&file), None);
    }

    #[test]
    fn secret_debug_hides_value() {
        let s = Secret::new("ghp_supersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
    }

    #[test]
    fn command_line_forms() {
        assert_eq!(
            CommandLine::Line("gh auth token".into()).argv(),
            vec!["gh", "auth", "token"]
        );
    }
}
