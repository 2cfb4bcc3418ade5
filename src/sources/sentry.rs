//! Sentry REST: unresolved issues of the configured projects (in the configured environment,
//! with their `statsPeriod` event series), and an issue's latest event (exception chain, frames
//! with context and vars, tags, release) for the Incidents tab's detail.

use super::http::{
    Http, Response, SourceError, error_summary, next_link, rate_limit_wait, wait_for_reset,
};
use crate::config::{Secret, SentryConfig};
use crate::domain::{ExceptionInfo, Frame, Incident, IncidentEvent, SourceData};
use crate::sanitize::{clean, truncate};
use serde::Deserialize;
use serde_json::Value;

/// At most this many unresolved issues per project: ten of Sentry's pages of 100 (a team with 500
/// open incidents in one project sees them all; pagination stays bounded).
const MAX_ISSUES: usize = 1_000;
pub const TOKEN_HINT: &str = "set SENTRY_AUTH_TOKEN or sentry.token_command";

pub struct Sentry {
    http: Http,
    base: String,
    org: String,
    projects: Vec<String>,
    environment: Option<String>,
    stats_period: String,
    token: Option<Secret>,
}

#[derive(Debug, Deserialize)]
pub struct ApiProject {
    #[serde(default)]
    pub slug: Option<String>,
}

/// The members of an issue this client reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiIssue {
    pub id: String,
    #[serde(default)]
    pub short_id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub culprit: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// A string in Sentry's API ("count": "1").
    #[serde(default)]
    pub count: Option<serde_json::Value>,
    #[serde(default)]
    pub user_count: Option<u64>,
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
    #[serde(default)]
    pub project: Option<ApiProject>,
    /// `{"24h": [[unix, events], …]}` (the list's `statsPeriod`).
    #[serde(default)]
    pub stats: Option<Value>,
}

/// The first series of an issue's `stats` (`{"24h": [[start, n], …]}`), oldest first; points
/// that are not `[number, number]` are skipped, at most 400 kept.
fn stats_series(stats: Option<&Value>, period: &str) -> Vec<(i64, u64)> {
    let Some(obj) = stats.and_then(Value::as_object) else {
        return Vec::new();
    };
    let series = obj
        .get(period)
        .or_else(|| obj.values().next())
        .and_then(Value::as_array);
    let mut out: Vec<(i64, u64)> = series
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let p = p.as_array()?;
            let start = p.first()?.as_f64()?;
            let n = p.get(1)?.as_f64()?;
            (start.is_finite() && n.is_finite() && n >= 0.0).then_some((start as i64, n as u64))
        })
        .take(400)
        .collect();
    out.sort_by_key(|p| p.0);
    out
}

impl ApiIssue {
    pub fn into_domain(self, project: &str) -> Incident {
        self.into_domain_with(project, "24h")
    }

    /// The issue with the `stats` series of `period` (the list's `statsPeriod`).
    pub fn into_domain_with(self, project: &str, period: &str) -> Incident {
        let count = match &self.count {
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0),
            _ => 0,
        };
        let t = |s: Option<&str>| s.map(clean).unwrap_or_default();
        Incident {
            project: self
                .project
                .as_ref()
                .and_then(|p| p.slug.as_deref())
                .map(clean)
                .unwrap_or_else(|| project.to_string()),
            short_id: t(self.short_id.as_deref()),
            title: t(self.title.as_deref()),
            culprit: t(self.culprit.as_deref()),
            level: t(self.level.as_deref()),
            status: t(self.status.as_deref()),
            count,
            user_count: self.user_count.unwrap_or(0),
            first_seen: super::github::parse_time(self.first_seen.as_deref()),
            last_seen: super::github::parse_time(self.last_seen.as_deref()),
            url: t(self.permalink.as_deref()),
            stats: stats_series(self.stats.as_ref(), period),
            id: clean(&self.id),
        }
    }
}

impl Sentry {
    pub fn new(http: Http, cfg: &SentryConfig, token: Option<Secret>) -> Sentry {
        Sentry {
            http,
            base: cfg.url.trim_end_matches('/').to_string(),
            org: cfg.org.clone(),
            projects: cfg.projects.clone(),
            environment: cfg.environment.clone().filter(|e| !e.is_empty()),
            stats_period: cfg.stats_period.clone(),
            token,
        }
    }

    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        let r = self.http.client().get(url);
        match &self.token {
            Some(t) => r.bearer_auth(t.expose()),
            None => r,
        }
    }

    pub async fn issues(&self, project: &str) -> Result<Vec<Incident>, SourceError> {
        let mut url = Some(self.issues_url(project));
        let mut out = Vec::new();
        while let Some(u) = url.take() {
            let resp = self.http.send(self.get(&u)).await?;
            refused(&resp, &format!("project {project}"))?;
            let list: Vec<ApiIssue> = serde_json::from_slice(&resp.body)
                .map_err(|e| SourceError::Decode(format!("issues of {project}: {e}")))?;
            let period = &self.stats_period;
            out.extend(
                list.into_iter()
                    .map(|i| i.into_domain_with(project, period)),
            );
            url = next_link(&resp.headers).filter(|_| out.len() < MAX_ISSUES);
        }
        Ok(out)
    }

    /// The issues of `project` first seen in the last `hours` hours, whatever their status
    /// (Sentry's `age:-{hours}h`), seen in `environment` when given, without stats series; and the
    /// number of requests it took. Pages are followed up to the same cap as [`Sentry::issues`].
    pub async fn issues_since(
        &self,
        project: &str,
        hours: u64,
        environment: Option<&str>,
    ) -> Result<(Vec<Incident>, u64), SourceError> {
        let mut first = format!(
            "{}/api/0/projects/{}/{}/issues/?query={}&statsPeriod=",
            self.base,
            enc(&self.org),
            enc(project),
            enc(&format!("age:-{}h", hours.max(1)))
        );
        if let Some(env) = environment.filter(|e| !e.is_empty()) {
            first.push_str("&environment=");
            first.push_str(&enc(env));
        }
        let mut url = Some(first);
        let mut out = Vec::new();
        let mut requests = 0;
        while let Some(u) = url.take() {
            requests += 1;
            let resp = self.http.send(self.get(&u)).await?;
            refused(&resp, &format!("project {project}"))?;
            let list: Vec<ApiIssue> = serde_json::from_slice(&resp.body)
                .map_err(|e| SourceError::Decode(format!("issues of {project}: {e}")))?;
            out.extend(list.into_iter().map(|i| i.into_domain_with(project, "")));
            url = next_link(&resp.headers).filter(|_| out.len() < MAX_ISSUES);
        }
        Ok((out, requests))
    }

    /// The first page of a project's unresolved issues, in the configured environment, with the
    /// configured `statsPeriod` series.
    pub fn issues_url(&self, project: &str) -> String {
        let mut url = format!(
            "{}/api/0/projects/{}/{}/issues/?query=is%3Aunresolved&statsPeriod={}",
            self.base,
            enc(&self.org),
            enc(project),
            enc(&self.stats_period)
        );
        if let Some(env) = &self.environment {
            url.push_str("&environment=");
            url.push_str(&enc(env));
        }
        url
    }

    /// The latest event of issue `issue_id`: its exception chain, frames, tags and release, every
    /// string cleaned and secrets masked, sizes capped (see [`parse_event`]).
    pub async fn latest_event(&self, issue_id: &str) -> Result<IncidentEvent, SourceError> {
        let url = format!(
            "{}/api/0/organizations/{}/issues/{}/events/latest/",
            self.base,
            enc(&self.org),
            enc(issue_id)
        );
        let resp = self.http.send(self.get(&url)).await?;
        refused(&resp, &format!("latest event of issue {}", clean(issue_id)))?;
        let mut event = parse_event(&resp.body)?;
        if event.issue_id.is_empty() {
            event.issue_id = clean(issue_id);
        }
        if event.url.is_empty() {
            event.url = format!(
                "{}/organizations/{}/issues/{}/",
                self.base,
                clean(&self.org),
                event.issue_id
            );
        }
        Ok(event)
    }

    /// The commits Sentry associates with release `version` (`GET /api/0/organizations/{org}/
    /// releases/{version}/commits/`, first page of 100): their shas, newest first, as the org set
    /// them (`sentry-cli releases set-commits`). Empty when the release is unknown or has none
    /// (404): not every org records them.
    pub async fn release_commits(&self, version: &str) -> Result<Vec<String>, SourceError> {
        let url = format!(
            "{}/api/0/organizations/{}/releases/{}/commits/",
            self.base,
            enc(&self.org),
            enc(version)
        );
        let resp = self.http.send(self.get(&url)).await?;
        if resp.status == 404 {
            return Ok(Vec::new());
        }
        refused(&resp, &format!("commits of release {}", clean(version)))?;
        #[derive(Deserialize)]
        struct Commit {
            id: Option<String>,
        }
        let list: Vec<Commit> = serde_json::from_slice(&resp.body)
            .map_err(|e| SourceError::Decode(format!("release commits: {e}")))?;
        Ok(list
            .into_iter()
            .filter_map(|c| c.id)
            .map(|id| clean(&id))
            .filter(|id| id.len() >= 7 && id.chars().all(|c| c.is_ascii_hexdigit()))
            .take(100)
            .collect())
    }

    /// What Sentry says of the commits behind `event`: the commits of its release, when the org
    /// records them. A failure is no hint (logged), never an error: the ranking works without.
    pub async fn commit_hints(
        &self,
        event: Option<&crate::domain::IncidentEvent>,
    ) -> crate::domain::SentryCommits {
        let release = match event.and_then(|e| e.release.as_deref()) {
            Some(r) => self.release_commits(r).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "no release commits from Sentry");
                Vec::new()
            }),
            None => Vec::new(),
        };
        crate::domain::SentryCommits {
            suspects: Vec::new(),
            release,
        }
    }

    /// Set an issue's status (`resolved`, `ignored`, `unresolved`): Sentry's
    /// `PUT /api/0/organizations/{org}/issues/{id}/`. Returns the status Sentry answered with.
    pub async fn set_status(&self, issue_id: &str, status: &str) -> Result<String, SourceError> {
        let url = format!(
            "{}/api/0/organizations/{}/issues/{}/",
            self.base,
            enc(&self.org),
            enc(issue_id)
        );
        let mut req = self
            .http
            .client()
            .put(&url)
            .json(&serde_json::json!({ "status": status }));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        let resp = self.http.send(req).await?;
        refused(&resp, &format!("issue {}", clean(issue_id)))?;
        #[derive(Deserialize)]
        struct Answer {
            status: Option<String>,
        }
        let answer: Answer = serde_json::from_slice(&resp.body)
            .map_err(|e| SourceError::Decode(format!("updated issue: {e}")))?;
        Ok(clean(answer.status.as_deref().unwrap_or(status)))
    }

    pub async fn poll(&mut self) -> Result<SourceData, SourceError> {
        let mut all = Vec::new();
        for p in &self.projects {
            all.extend(self.issues(p).await?);
        }
        all.sort_by_key(|i| std::cmp::Reverse(i.last_seen));
        Ok(SourceData::Sentry(all))
    }

    /// `doctor`: can the first project's issues be listed?
    pub async fn check(&self) -> Result<String, SourceError> {
        match self.projects.first() {
            Some(p) => self
                .issues(p)
                .await
                .map(|i| format!("{} in {p}", crate::fmt::plural(i.len(), "unresolved issue"))),
            None => Err(SourceError::Config("sentry.projects is empty".into())),
        }
    }
}

/// Percent-encode a path segment or query value (anything but unreserved characters).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// At most this many frames per exception are kept: every in-app frame (up to the cap), then the
/// outermost and innermost of the others.
pub const MAX_FRAMES: usize = 200;
/// Source lines kept per frame (Sentry sends the line and five either side).
pub const MAX_CONTEXT_LINES: usize = 11;
/// Characters kept of one source line.
pub const MAX_LINE_CHARS: usize = 300;
/// Local variables kept per frame.
pub const MAX_VARS: usize = 50;
/// Bytes of one variable's rendered value kept.
pub const MAX_VAR_BYTES: usize = 1024;
/// Exceptions of a chain kept (the raised one always).
const MAX_CHAIN: usize = 20;
/// Tags kept.
const MAX_TAGS: usize = 100;
/// Characters kept of a title, message or exception value.
const MAX_TEXT: usize = 2_000;

/// The members of an event this client reads (`GET …/issues/{id}/events/latest/`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ApiEvent {
    #[serde(rename = "eventID")]
    event_id: Option<String>,
    id: Option<String>,
    #[serde(rename = "groupID")]
    group_id: Option<String>,
    title: Option<String>,
    message: Option<String>,
    platform: Option<String>,
    date_created: Option<String>,
    tags: Option<Vec<ApiTag>>,
    entries: Option<Vec<ApiEntry>>,
    release: Option<Value>,
    permalink: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiTag {
    key: Option<String>,
    value: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiEntry {
    #[serde(rename = "type")]
    kind: Option<String>,
    data: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiException {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<String>,
    module: Option<String>,
    stacktrace: Option<ApiStack>,
    mechanism: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiStack {
    /// Each read on its own: one malformed frame does not lose the others.
    frames: Option<Vec<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ApiFrame {
    filename: Option<String>,
    abs_path: Option<String>,
    module: Option<String>,
    function: Option<String>,
    line_no: Option<Value>,
    col_no: Option<Value>,
    in_app: Option<bool>,
    context: Option<Vec<Value>>,
    vars: Option<serde_json::Map<String, Value>>,
}

/// Text from the event: cut to `max` characters before cleaning (a huge string costs nothing),
/// cleaned and masked, then truncated to `max` cells.
fn text_max(s: &str, max: usize) -> String {
    let cut: String = s.chars().take(max + 1).collect();
    truncate(&clean(&cut), max)
}

fn opt_text(s: Option<&str>) -> Option<String> {
    s.map(|s| text_max(s, MAX_TEXT)).filter(|s| !s.is_empty())
}

fn number(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// Whether a variable's name says its value is a credential.
fn secret_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "authorization",
        "api_key",
        "apikey",
        "api-key",
        "cookie",
        "credential",
        "private_key",
    ]
    .iter()
    .any(|k| n.contains(k))
}

/// A variable's value, cleaned: strings cleaned and masked, values of credential-named keys
/// replaced, nesting cut at depth 8 and at 50 members per level.
fn clean_value(v: &Value, depth: usize) -> Value {
    match v {
        Value::String(s) => Value::String(text_max(s, MAX_VAR_BYTES)),
        Value::Array(items) if depth < 8 => Value::Array(
            items
                .iter()
                .take(MAX_VARS)
                .map(|i| clean_value(i, depth + 1))
                .collect(),
        ),
        Value::Object(map) if depth < 8 => Value::Object(
            map.iter()
                .take(MAX_VARS)
                .map(|(k, v)| {
                    let v = if secret_key(k) {
                        Value::String(crate::redact::MARKER.into())
                    } else {
                        clean_value(v, depth + 1)
                    };
                    (text_max(k, 200), v)
                })
                .collect(),
        ),
        Value::Array(_) | Value::Object(_) => Value::String("…".into()),
        other => other.clone(),
    }
}

/// A variable as kept: cleaned, and when its JSON exceeds [`MAX_VAR_BYTES`], its JSON text cut
/// there (as a string ending in `…`).
fn var_value(name: &str, v: &Value) -> Value {
    if secret_key(name) {
        return Value::String(crate::redact::MARKER.into());
    }
    let cleaned = clean_value(v, 0);
    let text = cleaned.to_string();
    if text.len() <= MAX_VAR_BYTES {
        return cleaned;
    }
    let mut end = MAX_VAR_BYTES - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Value::String(format!("{}…", &text[..end]))
}

fn frame(f: ApiFrame) -> Frame {
    let context = f
        .context
        .unwrap_or_default()
        .iter()
        .filter_map(|pair| {
            let p = pair.as_array()?;
            let n = number(p.first())?;
            let line = p.get(1).and_then(Value::as_str).unwrap_or("");
            Some((n, text_max(line, MAX_LINE_CHARS)))
        })
        .collect::<Vec<_>>();
    // The lines nearest the frame's line when more were sent.
    let line = number(f.line_no.as_ref());
    let context = match (line, context.len() > MAX_CONTEXT_LINES) {
        (Some(at), true) => {
            let centre = context.iter().position(|(n, _)| *n == at).unwrap_or(0);
            let start = centre
                .saturating_sub(MAX_CONTEXT_LINES / 2)
                .min(context.len() - MAX_CONTEXT_LINES);
            context[start..start + MAX_CONTEXT_LINES].to_vec()
        }
        (_, true) => context[..MAX_CONTEXT_LINES].to_vec(),
        _ => context,
    };
    let vars = f
        .vars
        .unwrap_or_default()
        .iter()
        .take(MAX_VARS)
        .map(|(k, v)| (text_max(k, 200), var_value(k, v)))
        .collect();
    Frame {
        filename: opt_text(f.filename.as_deref()),
        abs_path: opt_text(f.abs_path.as_deref()),
        module: opt_text(f.module.as_deref()),
        function: opt_text(f.function.as_deref()),
        line,
        column: number(f.col_no.as_ref()),
        in_app: f.in_app.unwrap_or(false),
        context,
        vars,
    }
}

/// Which of `in_app` flags to keep within [`MAX_FRAMES`]: every in-app frame (the outermost and
/// innermost halves when there are more than the cap), then the others from both ends. Returns
/// the kept indices in order.
fn keep_frames(in_app: &[bool]) -> Vec<usize> {
    let n = in_app.len();
    if n <= MAX_FRAMES {
        return (0..n).collect();
    }
    let app: Vec<usize> = (0..n).filter(|&i| in_app[i]).collect();
    let mut keep = vec![false; n];
    if app.len() >= MAX_FRAMES {
        let half = MAX_FRAMES / 2;
        for &i in app
            .iter()
            .take(half)
            .chain(app.iter().rev().take(MAX_FRAMES - half))
        {
            keep[i] = true;
        }
    } else {
        for &i in &app {
            keep[i] = true;
        }
        let others: Vec<usize> = (0..n).filter(|&i| !in_app[i]).collect();
        let budget = MAX_FRAMES - app.len();
        let outer = budget / 2;
        for &i in others
            .iter()
            .take(outer)
            .chain(others.iter().rev().take(budget - outer))
        {
            keep[i] = true;
        }
    }
    (0..n).filter(|&i| keep[i]).collect()
}

fn exception(e: ApiException) -> ExceptionInfo {
    let raw = e.stacktrace.and_then(|s| s.frames).unwrap_or_default();
    let flags: Vec<bool> = raw
        .iter()
        .map(|f| f.get("inApp").and_then(Value::as_bool).unwrap_or(false))
        .collect();
    let kept = keep_frames(&flags);
    let omitted = raw.len() - kept.len();
    // Where the gap is: after the last kept index that precedes the first dropped one.
    let omitted_at = kept
        .iter()
        .enumerate()
        .find(|(pos, i)| **i != *pos)
        .map_or(kept.len(), |(pos, _)| pos);
    let mut keep = kept.into_iter().peekable();
    let frames = raw
        .into_iter()
        .enumerate()
        .filter_map(|(i, f)| {
            if keep.peek() == Some(&i) {
                keep.next();
                Some(frame(serde_json::from_value(f).unwrap_or_default()))
            } else {
                None
            }
        })
        .collect();
    ExceptionInfo {
        kind: opt_text(e.kind.as_deref()).unwrap_or_else(|| "Error".into()),
        value: opt_text(e.value.as_deref()).unwrap_or_default(),
        module: opt_text(e.module.as_deref()),
        frames,
        frames_omitted: omitted,
        omitted_at: if omitted == 0 { 0 } else { omitted_at },
        chained_as: opt_text(
            e.mechanism
                .as_ref()
                .and_then(|m| m.get("source"))
                .and_then(Value::as_str),
        ),
    }
}

/// An event body as [`IncidentEvent`]: non-UTF-8 bytes read lossily, missing members default,
/// every string cleaned and masked, sizes capped ([`MAX_FRAMES`], [`MAX_CONTEXT_LINES`],
/// [`MAX_LINE_CHARS`], [`MAX_VARS`], [`MAX_VAR_BYTES`]).
pub fn parse_event(body: &[u8]) -> Result<IncidentEvent, SourceError> {
    let text = String::from_utf8_lossy(body);
    let api: ApiEvent = serde_json::from_str(&text)
        .map_err(|e| SourceError::Decode(format!("latest event: {e}")))?;
    let tags: Vec<(String, String)> = api
        .tags
        .unwrap_or_default()
        .into_iter()
        .take(MAX_TAGS)
        .filter_map(|t| {
            let key = opt_text(t.key.as_deref())?;
            let value = match t.value {
                Some(Value::String(s)) => text_max(&s, MAX_LINE_CHARS),
                Some(Value::Null) | None => String::new(),
                Some(v) => text_max(&v.to_string(), MAX_LINE_CHARS),
            };
            Some((key, value))
        })
        .collect();
    let environment = tags
        .iter()
        .find(|(k, _)| k == "environment")
        .map(|(_, v)| v.clone());
    let release = match &api.release {
        Some(Value::String(s)) => opt_text(Some(s)),
        Some(Value::Object(o)) => opt_text(o.get("version").and_then(Value::as_str)),
        _ => None,
    }
    .or_else(|| {
        tags.iter()
            .find(|(k, _)| k == "release")
            .map(|(_, v)| v.clone())
    });
    let mut exceptions: Vec<ExceptionInfo> = Vec::new();
    for entry in api.entries.unwrap_or_default() {
        if entry.kind.as_deref() != Some("exception") {
            continue;
        }
        let values = entry
            .data
            .as_ref()
            .and_then(|d| d.get("values"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let n = values.len();
        // The cause first, the raised exception last: keep the last ones when the chain is long.
        for v in values.into_iter().skip(n.saturating_sub(MAX_CHAIN)) {
            let e: ApiException = serde_json::from_value(v).unwrap_or_default();
            exceptions.push(exception(e));
        }
    }
    Ok(IncidentEvent {
        event_id: opt_text(api.event_id.as_deref().or(api.id.as_deref())).unwrap_or_default(),
        issue_id: opt_text(api.group_id.as_deref()).unwrap_or_default(),
        short_id: String::new(),
        title: opt_text(api.title.as_deref()).unwrap_or_default(),
        message: opt_text(api.message.as_deref()).unwrap_or_default(),
        platform: opt_text(api.platform.as_deref()).unwrap_or_default(),
        release,
        environment,
        date: super::github::parse_time(api.date_created.as_deref()),
        tags,
        exceptions,
        url: opt_text(api.permalink.as_deref()).unwrap_or_default(),
    })
}

/// The error of an answer that is not a 2xx: a spent rate-limit window (429, or 403 with no
/// requests left) is a wait, not a bad token; 401/403 name the token; the rest the status.
fn refused(resp: &Response, what: &str) -> Result<(), SourceError> {
    if let Some(secs) = rate_wait(resp, now_unix()) {
        return Err(SourceError::RateLimited {
            retry_after_secs: secs,
        });
    }
    match resp.status {
        200..=299 => Ok(()),
        401 | 403 => Err(SourceError::Auth {
            status: resp.status,
            hint: format!("{}; {TOKEN_HINT}", error_summary(&resp.body)),
        }),
        s => Err(SourceError::Status {
            status: s,
            message: format!("{} ({what})", error_summary(&resp.body)),
        }),
    }
}

/// How long a refused request says to wait. Sentry's API sends no `Retry-After` with a 429, only
/// its window's reset (`X-Sentry-Rate-Limit-Reset`), whether the window is spent or too many
/// requests are in flight at once (`X-Sentry-Rate-Limit-ConcurrentRemaining: 0`): a 429 waits for
/// that reset, not for a guessed minute. Otherwise the shared reading ([`rate_limit_wait`]).
fn rate_wait(resp: &Response, now_unix: i64) -> Option<u64> {
    if resp.status == 429
        && resp.header("retry-after").is_none()
        && resp.header("x-sentry-rate-limit-reset").is_some()
    {
        return Some(wait_for_reset(resp, "x-sentry-rate-limit-reset", now_unix));
    }
    rate_limit_wait(resp, now_unix)
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    fn answer(status: u16, headers: &[(&'static str, &str)]) -> Response {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Response {
            status,
            headers: h,
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn a_429_waits_for_sentrys_window_reset() {
        let spent = answer(
            429,
            &[
                ("x-sentry-rate-limit-remaining", "0"),
                ("x-sentry-rate-limit-reset", "1030"),
            ],
        );
        assert_eq!(rate_wait(&spent, 1000), Some(30));
        // Too many at once: requests are left in the window, the reset still says when.
        let concurrent = answer(
            429,
            &[
                ("x-sentry-rate-limit-remaining", "39"),
                ("x-sentry-rate-limit-concurrentremaining", "0"),
                ("x-sentry-rate-limit-reset", "1002"),
            ],
        );
        assert_eq!(rate_wait(&concurrent, 1000), Some(2));
        // Retry-After wins; a bare 429 is a minute; a 200 is no wait.
        let both = answer(
            429,
            &[("retry-after", "5"), ("x-sentry-rate-limit-reset", "1030")],
        );
        assert_eq!(rate_wait(&both, 1000), Some(5));
        assert_eq!(rate_wait(&answer(429, &[]), 1000), Some(60));
        assert_eq!(
            rate_wait(&answer(200, &[("x-sentry-rate-limit-reset", "1030")]), 1000),
            None
        );
    }

    fn event_with(frames: Vec<Value>, extra: Value) -> Vec<u8> {
        let mut v = serde_json::json!({
            "eventID": "e1",
            "groupID": "42",
            "title": "TypeError: boom",
            "platform": "python",
            "dateCreated": "2026-11-23T09:29:40.250000Z",
            "tags": [{"key": "environment", "value": "production"}, {"key": "level", "value": "error"}],
            "release": {"version": "checkout@2.14.0", "shortVersion": "2.14.0"},
            "entries": [{"type": "exception", "data": {"values": [
                {"type": "KeyError", "value": "'card'", "module": "builtins", "stacktrace": null,
                 "mechanism": {"type": "chained", "source": "__context__", "exception_id": 1}},
                {"type": "TypeError", "value": "boom", "stacktrace": {"frames": frames}}
            ]}}]
        });
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        serde_json::to_vec(&v).unwrap()
    }

    fn py_frame(n: usize, in_app: bool) -> Value {
        serde_json::json!({
            "filename": format!("f{n}.py"), "function": format!("fn{n}"), "lineNo": n,
            "inApp": in_app, "context": [[n, format!("line {n}")]], "vars": {"n": n}
        })
    }

    #[test]
    fn an_event_keeps_the_chain_in_sentrys_order_and_reads_release_and_environment() {
        let e = parse_event(&event_with(
            vec![py_frame(1, false), py_frame(2, true)],
            Value::Null,
        ))
        .unwrap();
        let kinds: Vec<&str> = e.exceptions.iter().map(|x| x.kind.as_str()).collect();
        assert_eq!(kinds, ["KeyError", "TypeError"]);
        assert_eq!(e.exceptions[0].chained_as.as_deref(), Some("__context__"));
        assert_eq!(e.exceptions[1].chained_as, None);
        assert_eq!(e.raised().map(|x| x.value.as_str()), Some("boom"));
        assert_eq!(e.release.as_deref(), Some("checkout@2.14.0"));
        assert_eq!(e.environment.as_deref(), Some("production"));
        assert_eq!(e.platform, "python");
        assert!(e.date.is_some());
        assert_eq!(
            e.crash_frame().and_then(|f| f.function.as_deref()),
            Some("fn2")
        );
        // A release as a string, or null (then the release tag, if any).
        let s = parse_event(&event_with(vec![], serde_json::json!({"release": "web@1"}))).unwrap();
        assert_eq!(s.release.as_deref(), Some("web@1"));
        let n = parse_event(&event_with(vec![], serde_json::json!({"release": null}))).unwrap();
        assert_eq!(n.release, None);
    }

    #[test]
    fn a_500_frame_trace_keeps_every_in_app_frame_and_both_ends() {
        let frames: Vec<Value> = (0..500).map(|n| py_frame(n, n % 50 == 7)).collect();
        let e = parse_event(&event_with(frames, Value::Null)).unwrap();
        let x = e.raised().unwrap();
        assert_eq!(x.frames.len(), MAX_FRAMES);
        assert_eq!(x.frames_omitted, 300);
        let app: Vec<u32> = x
            .frames
            .iter()
            .filter(|f| f.in_app)
            .filter_map(|f| f.line)
            .collect();
        assert_eq!(app, (0..500).filter(|n| n % 50 == 7).collect::<Vec<u32>>());
        // The outermost and the innermost frames are there; the gap is where they meet.
        assert_eq!(x.frames.first().and_then(|f| f.line), Some(0));
        assert_eq!(x.frames.last().and_then(|f| f.line), Some(499));
        let gap = x.omitted_at;
        assert!(gap > 0 && gap < x.frames.len());
        assert!(x.frames[gap].line.unwrap() > x.frames[gap - 1].line.unwrap() + 1);
    }

    #[test]
    fn context_vars_and_text_are_capped_cleaned_and_masked() {
        let context: Vec<Value> = (1..=40)
            .map(|n| {
                serde_json::json!([
                    n,
                    format!("x{}", "y".repeat(if n == 20 { 5000 } else { 3 }))
                ])
            })
            .collect();
        let mut vars = serde_json::Map::new();
        for n in 0..80 {
            vars.insert(format!("v{n:02}"), Value::from(n));
        }
        vars.insert("password".into(), Value::from("hunter2"));
        vars.insert("a_huge".into(), Value::from("z".repeat(100_000)));
        vars.insert(
            "a_nested".into(),
            serde_json::json!({"api_token": "abc", "list": vec![1; 5000]}),
        );
        vars.insert(
            "a_url".into(),
            Value::from("https://x/?access_token=s3cr3tvalue&b=1"),
        );
        vars.insert("a_esc".into(), Value::from("red\u{1b}[31mtext"));
        let frame = serde_json::json!({
            "filename": "app.py\u{1b}]0;title\u{7}", "function": "f", "lineNo": 20, "inApp": true,
            "context": context, "vars": vars
        });
        let e = parse_event(&event_with(vec![frame], Value::Null)).unwrap();
        let f = &e.raised().unwrap().frames[0];
        assert_eq!(f.context.len(), MAX_CONTEXT_LINES);
        assert!(
            f.context.iter().any(|(n, _)| *n == 20),
            "the frame's line is kept"
        );
        assert_eq!(f.context.first().map(|c| c.0), Some(15));
        assert!(
            f.context
                .iter()
                .all(|(_, t)| t.chars().count() <= MAX_LINE_CHARS)
        );
        assert_eq!(f.vars.len(), MAX_VARS);
        assert!(
            f.filename
                .as_deref()
                .is_some_and(|n| !n.contains('\u{1b}') && n.starts_with("app.py"))
        );
        let var = |k: &str| f.vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        // Alphabetical order: a_… and password come before the v…, so they are kept.
        assert_eq!(var("password"), Some(Value::from("[redacted]")));
        assert!(var("v49").is_none());
        assert!(var("a_huge").unwrap().to_string().len() <= MAX_VAR_BYTES + 8);
        let nested = var("a_nested").unwrap().to_string();
        assert!(
            nested.len() <= MAX_VAR_BYTES + 8 && !nested.contains("abc"),
            "{nested}"
        );
        let url = var("a_url").unwrap().to_string();
        assert!(!url.contains("s3cr3tvalue"), "{url}");
        assert!(!var("a_esc").unwrap().to_string().contains('\u{1b}'));
        // A credential-named var is masked whatever its value.
        assert_eq!(
            var_value("db_password", &Value::from("hunter2")),
            Value::from("[redacted]")
        );
        assert_eq!(
            clean_value(&serde_json::json!({"Authorization": "Basic abc"}), 0),
            serde_json::json!({"Authorization": "[redacted]"})
        );
    }

    #[test]
    fn odd_events_parse_without_panicking() {
        // Non-UTF-8 bytes, missing members, a frame of the wrong shape, no exception entry.
        let mut bytes = br#"{"title": "bad XX bytes", "entries": [{"type": "exception", "data": {"values": [{"stacktrace": {"frames": [42, {"filename": 7}, {"function": "ok", "lineNo": -1}]}}]}}]}"#.to_vec();
        let at = bytes.windows(2).position(|w| w == b"XX").unwrap();
        bytes[at] = 0xff;
        bytes[at + 1] = 0xfe;
        let e = parse_event(&bytes).unwrap();
        assert!(e.title.starts_with("bad ") && e.title.ends_with(" bytes"));
        let x = e.raised().unwrap();
        assert_eq!(x.kind, "Error");
        assert_eq!(x.frames.len(), 3);
        assert_eq!(x.frames[2].function.as_deref(), Some("ok"));
        assert_eq!(x.frames[2].line, None);
        let empty = parse_event(b"{}").unwrap();
        assert!(empty.exceptions.is_empty() && empty.release.is_none());
        assert!(matches!(parse_event(b"[1,"), Err(SourceError::Decode(_))));
    }

    #[test]
    fn the_stats_series_is_read_from_the_list_period() {
        let stats = serde_json::json!({"24h": [[1000, 3], [4600, 5], ["x", 1]]});
        assert_eq!(
            stats_series(Some(&stats), "24h"),
            vec![(1000, 3), (4600, 5)]
        );
        assert_eq!(stats_series(Some(&serde_json::json!({})), "24h"), vec![]);
        assert_eq!(stats_series(None, "24h"), vec![]);
    }
}
