//! Simulated GitHub REST API (routes at the root, like api.github.com): pulls, workflow runs,
//! rate limit and user, with strong ETags, `If-None-Match` → 304, `x-ratelimit-*` and `Link`
//! pagination.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::Shared;
use super::github_data::{self as data, REPOS};
use super::util::{hex_id, param, parse_pairs, url_with};

const LIMIT: u64 = 5000;
const DOCS: &str = "https://docs.github.com/rest";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/repos/{owner}/{repo}/pulls", get(list_pulls))
        .route("/repos/{owner}/{repo}/pulls/{number}", get(get_pull))
        .route("/repos/{owner}/{repo}/actions/runs", get(list_runs))
        .route("/repos/{owner}/{repo}/actions/runs/{run_id}", get(get_run))
        .route("/rate_limit", get(rate_limit))
        .route("/user", get(get_user))
        .fallback(fallback)
        .with_state(shared)
}

/// A JSON answer before headers are added.
struct Reply {
    status: StatusCode,
    body: Value,
    link: Option<String>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            link: None,
        }
    }

    fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            body: json!({"message": "Not Found", "documentation_url": DOCS}),
            link: None,
        }
    }

    fn invalid(resource: &str, field: &str) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({
                "message": "Validation Failed",
                "errors": [{"resource": resource, "code": "invalid", "field": field}],
                "documentation_url": DOCS
            }),
            link: None,
        }
    }
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// Adds GitHub's headers; answers 304 when `If-None-Match` matches; charges the rate limit.
fn finish(s: &Shared, headers: &HeaderMap, reply: Reply, charge: bool) -> Response {
    let text = reply.body.to_string();
    let etag = format!("\"{}\"", hex_id(&text, 32));
    let now = s.clock.unix_now() as i64;
    let (used, reset, status, text) = {
        let mut rate = s.rate.lock().unwrap_or_else(|e| e.into_inner());
        if now >= rate.reset {
            rate.used = 0;
            rate.reset = now + 3600;
        }
        if reply.status.is_success() && etag_matches(headers, &etag) {
            s.count_github_304();
            (
                rate.used,
                rate.reset,
                StatusCode::NOT_MODIFIED,
                String::new(),
            )
        } else if charge && rate.used >= LIMIT {
            let body = json!({
                "message": "API rate limit exceeded for user ID 5120999.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            });
            (
                rate.used,
                rate.reset,
                StatusCode::FORBIDDEN,
                body.to_string(),
            )
        } else {
            if charge {
                rate.used += 1;
            }
            (rate.used, rate.reset, reply.status, text)
        }
    };
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    if status != StatusCode::NOT_MODIFIED {
        put("content-type", "application/json; charset=utf-8".into());
        if let Some(link) = reply.link {
            put("link", link);
        }
    }
    put("etag", etag);
    put("cache-control", "private, max-age=60, s-maxage=60".into());
    put("vary", "Accept, Authorization, Cookie, X-GitHub-OTP".into());
    put("x-github-api-version-selected", "2022-11-28".into());
    put("x-github-media-type", "github.v3; format=json".into());
    put("x-ratelimit-limit", LIMIT.to_string());
    put(
        "x-ratelimit-remaining",
        LIMIT.saturating_sub(used).to_string(),
    );
    put("x-ratelimit-reset", reset.to_string());
    put("x-ratelimit-used", used.to_string());
    put("x-ratelimit-resource", "core".into());
    (status, h, text).into_response()
}

fn known(owner: &str, repo: &str) -> Option<&'static str> {
    REPOS
        .iter()
        .copied()
        .find(|r| *r == format!("{owner}/{repo}"))
}

/// `per_page` (default 30, at most 100) and `page` (default 1).
fn paging(pairs: &[(String, String)], resource: &str) -> Result<(usize, usize), Reply> {
    let num = |key: &str, default: usize| match param(pairs, key) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| Reply::invalid(resource, key)),
    };
    let per_page = num("per_page", 30)?.clamp(1, 100);
    let page = num("page", 1)?.max(1);
    Ok((per_page, page))
}

/// Slices `items` to one page and builds GitHub's `Link` header (prev, next, last, first).
fn paginate(
    s: &Shared,
    path: &str,
    pairs: &[(String, String)],
    items: Vec<Value>,
    per_page: usize,
    page: usize,
) -> (Vec<Value>, Option<String>) {
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let page_items: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let link = |p: usize, rel: &str| {
        format!(
            "<{}>; rel=\"{rel}\"",
            url_with(&s.github_url, path, pairs, "page", &p.to_string())
        )
    };
    let mut rels = Vec::new();
    if page > 1 {
        rels.push(link((page - 1).min(last), "prev"));
    }
    if page < last {
        rels.push(link(page + 1, "next"));
        rels.push(link(last, "last"));
    }
    if page > 1 {
        rels.push(link(1, "first"));
    }
    let header = (!rels.is_empty()).then(|| rels.join(", "));
    (page_items, header)
}

async fn list_pulls(
    State(s): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = pulls_reply(&s, &owner, &repo, q.as_deref().unwrap_or(""));
    finish(&s, &headers, reply, true)
}

fn pulls_reply(s: &Shared, owner: &str, repo: &str, query: &str) -> Reply {
    let Some(full) = known(owner, repo) else {
        return Reply::not_found();
    };
    let pairs = parse_pairs(query);
    let (per_page, page) = match paging(&pairs, "PullRequest") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let include = match param(&pairs, "state").unwrap_or("open") {
        "open" | "all" | "" => true,
        "closed" => false,
        _ => return Reply::invalid("PullRequest", "state"),
    };
    let mut prs = if include {
        data::open_prs(full, s.clock.now())
    } else {
        Vec::new()
    };
    match param(&pairs, "sort").unwrap_or("created") {
        "created" | "" => {}
        "updated" | "popularity" | "long-running" => {
            prs.sort_by(|a, b| b.updated.total_cmp(&a.updated));
        }
        _ => return Reply::invalid("PullRequest", "sort"),
    }
    match param(&pairs, "direction").unwrap_or("desc") {
        "desc" | "" => {}
        "asc" => prs.reverse(),
        _ => return Reply::invalid("PullRequest", "direction"),
    }
    let items = prs
        .into_iter()
        .map(|p| data::pr_json(&s.github_url, p, false))
        .collect();
    let path = format!("/repos/{full}/pulls");
    let (items, link) = paginate(s, &path, &pairs, items, per_page, page);
    Reply {
        link,
        ..Reply::ok(Value::Array(items))
    }
}

async fn get_pull(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, number)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let t = s.clock.now();
    let reply = known(&owner, &repo)
        .and_then(|full| {
            let n: u64 = number.parse().ok()?;
            data::open_prs(full, t).into_iter().find(|p| p.number == n)
        })
        .map_or_else(Reply::not_found, |p| {
            Reply::ok(data::pr_json(&s.github_url, p, true))
        });
    finish(&s, &headers, reply, true)
}

async fn list_runs(
    State(s): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = runs_reply(&s, &owner, &repo, q.as_deref().unwrap_or(""));
    finish(&s, &headers, reply, true)
}

fn runs_reply(s: &Shared, owner: &str, repo: &str, query: &str) -> Reply {
    let Some(full) = known(owner, repo) else {
        return Reply::not_found();
    };
    let pairs = parse_pairs(query);
    let (per_page, page) = match paging(&pairs, "WorkflowRun") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let t = s.clock.now();
    let want = |key: &str| param(&pairs, key).filter(|v| !v.is_empty());
    let runs: Vec<Value> = data::runs(full, t)
        .into_iter()
        .filter(|r| {
            let (status, conclusion, _) = data::run_state(r, t);
            want("status").is_none_or(|w| w == status || Some(w) == conclusion)
                && want("branch").is_none_or(|w| w == r.branch)
                && want("event").is_none_or(|w| w == r.event)
                && want("actor").is_none_or(|w| w == r.actor)
        })
        .map(|r| data::run_json(&s.github_url, r, t))
        .collect();
    let total = runs.len();
    let path = format!("/repos/{full}/actions/runs");
    let (items, link) = paginate(s, &path, &pairs, runs, per_page, page);
    Reply {
        link,
        ..Reply::ok(json!({"total_count": total, "workflow_runs": items}))
    }
}

async fn get_run(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, run_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let t = s.clock.now();
    let reply = known(&owner, &repo)
        .and_then(|full| {
            let id: u64 = run_id.parse().ok()?;
            data::runs(full, t).into_iter().find(|r| r.id == id)
        })
        .map_or_else(Reply::not_found, |r| {
            Reply::ok(data::run_json(&s.github_url, r, t))
        });
    finish(&s, &headers, reply, true)
}

/// `GET /rate_limit` does not count against the limit (as on GitHub).
async fn rate_limit(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (used, reset) = {
        let rate = s.rate.lock().unwrap_or_else(|e| e.into_inner());
        (rate.used, rate.reset)
    };
    let window = |limit: u64, used: u64| {
        let remaining = limit.saturating_sub(used);
        json!({"limit": limit, "used": used, "remaining": remaining, "reset": reset})
    };
    let body = json!({
        "resources": {
            "core": window(LIMIT, used),
            "search": window(30, 0),
            "graphql": window(5000, 0),
            "integration_manifest": window(5000, 0),
            "source_import": window(100, 0),
            "code_scanning_upload": window(1000, 0),
            "code_scanning_autofix": window(10, 0),
            "actions_runner_registration": window(10000, 0),
            "scim": window(15000, 0),
            "dependency_snapshots": window(100, 0),
            "audit_log": window(1750, 0),
            "audit_log_streaming": window(15, 0),
            "code_search": window(10, 0)
        },
        "rate": window(LIMIT, used)
    });
    finish(&s, &headers, Reply::ok(body), false)
}

async fn get_user(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let reply = Reply::ok(data::operator_json(&s.github_url));
    finish(&s, &headers, reply, true)
}

async fn fallback(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    finish(&s, &headers, Reply::not_found(), true)
}
