//! One HTTP client for every source: timeouts, typed errors with readable messages, `Link` pagination
//! and conditional requests (ETag / If-None-Match) with the parsed body kept per URL.

use reqwest::header::{HeaderMap, HeaderValue};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub const USER_AGENT: &str = concat!("flightdeck/", env!("CARGO_PKG_VERSION"));

pub use crate::domain::SourceError;

/// A response read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, SourceError> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            // Redirects are followed by the callers that expect them, so that credentials are
            // never carried to another origin by accident (job logs redirect to blob storage).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SourceError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http { client, timeout })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Send a request and read the whole body. Network failures become [`SourceError`]s.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Response, SourceError> {
        let req = req
            .build()
            .map_err(|e| SourceError::Config(e.to_string()))?;
        let host = req
            .url()
            .host_str()
            .map(|h| match req.url().port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
            .unwrap_or_default();
        let resp = self
            .client
            .execute(req)
            .await
            .map_err(|e| self.classify(&host, e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| {
            if e.is_timeout() {
                self.classify(&host, e)
            } else {
                // The status line came: the server is there, its answer stopped short.
                SourceError::Cut { host: host.clone() }
            }
        })?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn classify(&self, host: &str, e: reqwest::Error) -> SourceError {
        if e.is_timeout() {
            SourceError::Timeout {
                host: host.to_string(),
                secs: self.timeout.as_secs_f64(),
            }
        } else {
            SourceError::Connect {
                host: host.to_string(),
                detail: root_cause(&e),
            }
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    crate::sanitize::clean(&cur.to_string())
}

/// A short, clean description of an error body: the JSON `message`/`detail`/`error`, or what it is.
pub fn error_summary(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["message", "detail", "error"] {
            if let Some(s) = v.get(key).and_then(|m| m.as_str()) {
                return crate::sanitize::truncate(&crate::sanitize::clean(s), 160);
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let t = text.trim_start();
    if t.starts_with('<') {
        return "the server answered with an HTML error page".into();
    }
    if t.is_empty() {
        return "empty body".into();
    }
    crate::sanitize::truncate(&crate::sanitize::clean(t), 160)
}

/// One entry of a `Link` header.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub url: String,
    pub rel: String,
    /// Sentry's `results="true|false"`.
    pub results: Option<bool>,
}

/// Parse an RFC 8288 `Link` header (GitHub and Sentry forms).
pub fn parse_links(header: &str) -> Vec<Link> {
    let mut out = Vec::new();
    for part in split_links(header) {
        let part = part.trim();
        let Some(end) = part.find('>') else { continue };
        if !part.starts_with('<') {
            continue;
        }
        let url = part[1..end].to_string();
        let mut rel = String::new();
        let mut results = None;
        for param in part[end + 1..].split(';') {
            let param = param.trim();
            if let Some((k, v)) = param.split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim() {
                    "rel" => rel = v.to_string(),
                    "results" => results = Some(v == "true"),
                    _ => {}
                }
            }
        }
        out.push(Link { url, rel, results });
    }
    out
}

fn split_links(header: &str) -> Vec<&str> {
    // Commas separate links, but only outside <...>.
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in header.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

/// The next page's URL, if any (Sentry: only when it says there are results).
/// The longest wait a server may ask for; more is treated as this (an hour is GitHub's own window).
pub const MAX_RATE_WAIT_SECS: u64 = 3600;

/// How long a refused request says to wait, when it is a rate limit: `Retry-After` (seconds), or a
/// spent window's reset (`X-RateLimit-Remaining: 0` with `X-RateLimit-Reset`, GitHub's; the same
/// with Sentry's `X-Sentry-Rate-Limit-*`), or a bare 429 (a minute). `None` when the answer is not a
/// rate limit. Capped at [`MAX_RATE_WAIT_SECS`], at least a second.
pub fn rate_limit_wait(resp: &Response, now_unix: i64) -> Option<u64> {
    let num = |name: &str| resp.header(name).and_then(|v| v.trim().parse::<i64>().ok());
    if !matches!(resp.status, 403 | 429) {
        return None;
    }
    if let Some(secs) = num("retry-after") {
        return Some(clamp_wait(secs));
    }
    for (remaining, reset) in [
        ("x-ratelimit-remaining", "x-ratelimit-reset"),
        ("x-sentry-rate-limit-remaining", "x-sentry-rate-limit-reset"),
    ] {
        if num(remaining) == Some(0) {
            return Some(wait_for_reset(resp, reset, now_unix));
        }
    }
    (resp.status == 429).then_some(60)
}

/// Seconds until the epoch time in header `reset` (a minute when it is missing), capped.
pub fn wait_for_reset(resp: &Response, reset: &str, now_unix: i64) -> u64 {
    resp.header(reset)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map_or(60, |r| clamp_wait(r - now_unix))
}

fn clamp_wait(secs: i64) -> u64 {
    secs.clamp(1, MAX_RATE_WAIT_SECS as i64) as u64
}

pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let h = headers.get("link")?.to_str().ok()?;
    parse_links(h)
        .into_iter()
        .find(|l| l.rel == "next" && l.results != Some(false))
        .map(|l| l.url)
}

/// Conditional requests: per URL the ETag, the `next` page link and the value parsed from the last
/// good 200 — never the raw body, so memory follows what is kept, not what was read. Only a 200
/// that parsed is stored; one that did not drops the URL's entry, so a corrupt body is never
/// replayed by later 304s.
#[derive(Default)]
pub struct EtagCache {
    entries: HashMap<String, Cached>,
    pub hits: u64,
}

struct Cached {
    etag: HeaderValue,
    next: Option<String>,
    value: Arc<dyn Any + Send + Sync>,
}

impl EtagCache {
    pub fn if_none_match(&self, url: &str) -> Option<HeaderValue> {
        self.entries.get(url).map(|c| c.etag.clone())
    }

    /// The value a 304 stands for, with its `next` link; `None` when nothing of type `T` is held.
    pub fn hit<T: Clone + 'static>(&mut self, url: &str) -> Option<(T, Option<String>)> {
        let c = self.entries.get(url)?;
        let v = c.value.downcast_ref::<T>()?.clone();
        let next = c.next.clone();
        self.hits += 1;
        Some((v, next))
    }

    pub fn store<T: Send + Sync + 'static>(
        &mut self,
        url: &str,
        etag: HeaderValue,
        next: Option<String>,
        value: T,
    ) {
        self.entries.insert(
            url.to_string(),
            Cached {
                etag,
                next,
                value: Arc::new(value),
            },
        );
    }

    /// Every URL held, with its ETag.
    pub fn etags(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .filter_map(|(url, c)| Some((url.clone(), c.etag.to_str().ok()?.to_string())))
            .collect()
    }

    pub fn forget(&mut self, url: &str) {
        self.entries.remove(url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_and_sentry_links() {
        let gh = r#"<https://api.github.com/repos/o/r/pulls?page=2>; rel="next", <https://api.github.com/repos/o/r/pulls?page=5>; rel="last""#;
        let l = parse_links(gh);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].rel, "next");
        assert!(l[0].url.ends_with("page=2"));
        let sentry = r#"<https://sentry.io/api/0/x/?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io/api/0/x/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#;
        let l = parse_links(sentry);
        assert_eq!(l[1].results, Some(true));
        assert_eq!(l[0].results, Some(false));
    }

    #[test]
    fn error_bodies_summarised() {
        assert_eq!(
            error_summary(br#"{"message":"Bad credentials"}"#),
            "Bad credentials"
        );
        assert_eq!(
            error_summary(b"<html><body>502 Bad Gateway</body></html>"),
            "the server answered with an HTML error page"
        );
        assert_eq!(
            error_summary(br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#),
            "parse error"
        );
        assert_eq!(error_summary(b"\x1b[31moops"), "oops");
    }
}
