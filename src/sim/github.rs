//! Simulated GitHub REST API (routes at the root, like api.github.com): pulls (detail, reviews,
//! files), check runs and combined statuses, workflow runs (jobs, job logs, pending deployments),
//! the actions on runs (review pending deployments, re-run failed jobs, cancel), workflow
//! dispatches (`rollback.yml` rolls the service's canary back), deployments and their statuses,
//! rate limit and user, with strong ETags, `If-None-Match` → 304, `x-ratelimit-*` and `Link`
//! pagination. `POST /graphql` answers the PR list query ([`super::github_graphql`]).
//!
//! Job logs redirect (`302`) to a signed URL on this server under `/_blob/`, which plays the
//! blob store: it refuses requests that carry an `Authorization` header (`403`, XML body, as
//! Azure Blob Storage does) and answers `404 BlobNotFound` for jobs without a log yet.

use std::sync::{Arc, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::github_data::{self as data, PrSpec, RunSpec};
use super::github_deploys::{self as deploys, Deployment};
use super::github_logs::job_log;
use super::github_runs::{
    ActionKind, Actions, Job, Now, RunView, check_details_url, check_run_json, job_json,
    pending_environment_ids, pending_json, run_json,
};
use super::github_scale;
use super::scenario::{APPS, story};
use super::util::{hex_id, iso_unix, param, parse_pairs, url_with};
use super::{RecordedRequest, Shared};

#[path = "github_repo.rs"]
pub(super) mod repo;

const LIMIT: u64 = 5000;
const DOCS: &str = "https://docs.github.com/rest";
const DOCS_REVIEW: &str = "https://docs.github.com/rest/actions/workflow-runs#review-pending-deployments-for-a-workflow-run";
const DOCS_RERUN: &str =
    "https://docs.github.com/rest/actions/workflow-runs#re-run-failed-jobs-from-a-workflow-run";
const DOCS_CANCEL: &str =
    "https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run";
const DOCS_DISPATCH: &str =
    "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event";
/// Wall seconds a signed log URL stays valid (GitHub: about a minute).
const LOG_URL_SECS: i64 = 60;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(list_pulls).post(repo::create_pull),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}",
            get(get_pull).patch(repo::update_pull),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/reviews",
            get(list_reviews),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/files",
            get(list_files),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs",
            get(check_runs),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{ref}/status",
            get(combined_status),
        )
        .route("/repos/{owner}/{repo}/actions/runs", get(list_runs))
        .route("/repos/{owner}/{repo}/actions/runs/{run_id}", get(get_run))
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
            get(list_jobs),
        )
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments",
            get(get_pending).post(review_pending),
        )
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs",
            post(rerun_failed),
        )
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel",
            post(cancel_run),
        )
        .route(
            "/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches",
            post(dispatch_workflow),
        )
        .route("/repos/{owner}/{repo}/deployments", get(list_deployments))
        .route(
            "/repos/{owner}/{repo}/deployments/{id}",
            get(get_deployment),
        )
        .route(
            "/repos/{owner}/{repo}/deployments/{id}/statuses",
            get(list_deployment_statuses),
        )
        .route("/repos/{owner}/{repo}/actions/jobs/{job_id}", get(get_job))
        .route(
            "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs",
            get(job_logs),
        )
        .route("/repos/{owner}/{repo}", get(repo::get_repo))
        .route("/repos/{owner}/{repo}/commits", get(repo::list_commits))
        .route(
            "/repos/{owner}/{repo}/commits/{ref}/pulls",
            get(repo::commit_pulls),
        )
        .route(
            "/repos/{owner}/{repo}/compare/{*basehead}",
            get(repo::compare),
        )
        .route(
            "/repos/{owner}/{repo}/git/trees/{*ref}",
            get(repo::get_tree),
        )
        .route("/repos/{owner}/{repo}/git/ref/{*ref}", get(repo::get_ref))
        .route("/repos/{owner}/{repo}/git/refs", post(repo::create_ref))
        .route(
            "/repos/{owner}/{repo}/contents/{*path}",
            get(repo::get_contents).put(repo::put_contents),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/labels",
            post(repo::add_labels),
        )
        .route("/_blob/job-logs/{job_id}", get(blob_log))
        .route("/graphql", post(super::github_graphql::graphql))
        .route("/rate_limit", get(rate_limit))
        .route("/user", get(get_user))
        .fallback(fallback)
        .method_not_allowed_fallback(fallback)
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .with_state(shared)
}

/// Records non-GET requests (and every blob request) before they are handled: GraphQL queries
/// (`POST /graphql`, reads) apart from the mutations.
async fn record(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let blob = path.starts_with("/_blob/");
    let graphql = path == "/graphql" && req.method() == Method::POST;
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    if read && !blob {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let authorization = req.headers().contains_key(header::AUTHORIZATION);
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let rec = RecordedRequest {
        method,
        path,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        authorization,
    };
    let fail = {
        let mut r = s.records.lock().unwrap_or_else(|e| e.into_inner());
        // A failure a test asked for: the first that matches is used up.
        let fail = r
            .fail_next
            .iter()
            .position(|(m, p, _)| *m == rec.method && rec.path.starts_with(p.as_str()))
            .map(|i| r.fail_next.remove(i).2);
        if blob {
            r.blobs.push(rec);
        } else if graphql {
            r.graphql.push(rec);
        } else {
            r.mutations.push(rec);
        }
        fail
    };
    if let Some(status) = fail {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        return (
            status,
            axum::Json(json!({ "message": "Server Error (injected by a test)" })),
        )
            .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// An answer before headers are added.
struct Reply {
    status: StatusCode,
    body: Value,
    link: Option<String>,
    /// A redirect (empty body).
    location: Option<String>,
    /// `If-None-Match` may answer 304 (GETs).
    cacheable: bool,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Self::with(StatusCode::OK, body)
    }

    fn with(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            link: None,
            location: None,
            cacheable: true,
        }
    }

    /// The answer to a mutation (never 304).
    fn done(status: StatusCode, body: Value) -> Self {
        Self {
            cacheable: false,
            ..Self::with(status, body)
        }
    }

    fn message(status: StatusCode, message: &str, docs: &str) -> Self {
        Self::done(
            status,
            json!({"message": message, "documentation_url": docs}),
        )
    }

    fn not_found() -> Self {
        Self::message(StatusCode::NOT_FOUND, "Not Found", DOCS)
    }

    fn invalid(resource: &str, field: &str) -> Self {
        Self::failed(resource, &[("invalid", field)], DOCS)
    }

    /// `422 Validation Failed` with one error per (code, field).
    fn failed(resource: &str, errors: &[(&str, &str)], docs: &str) -> Self {
        let errors: Vec<Value> = errors
            .iter()
            .map(|(code, field)| json!({"resource": resource, "code": code, "field": field}))
            .collect();
        Self::done(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "Validation Failed", "errors": errors, "documentation_url": docs}),
        )
    }

    fn bad_json(docs: &str) -> Self {
        Self::message(StatusCode::BAD_REQUEST, "Problems parsing JSON", docs)
    }

    fn no_commit(reference: &str, docs: &str) -> Self {
        Self::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {reference}"),
            docs,
        )
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
    let no_content = reply.status == StatusCode::NO_CONTENT;
    let text = if reply.location.is_some() || no_content {
        String::new()
    } else {
        reply.body.to_string()
    };
    let etag = format!("\"{}\"", hex_id(&text, 32));
    let now = s.clock.unix_now() as i64;
    let (used, reset, status, text) = {
        let mut rate = s.rate.lock().unwrap_or_else(|e| e.into_inner());
        if now >= rate.reset {
            rate.used = 0;
            rate.reset = now + 3600;
        }
        if reply.cacheable && reply.status.is_success() && etag_matches(headers, &etag) {
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
    let redirect = status.is_redirection() && status != StatusCode::NOT_MODIFIED;
    let no_content = status == StatusCode::NO_CONTENT;
    if status != StatusCode::NOT_MODIFIED && !redirect && !no_content {
        put("content-type", "application/json; charset=utf-8".into());
        if let Some(link) = reply.link {
            put("link", link);
        }
    }
    if redirect && let Some(location) = reply.location {
        put("location", location);
    }
    if !redirect && !no_content {
        put("etag", etag);
    }
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
    if no_content {
        return (status, h, Body::empty()).into_response();
    }
    (status, h, text).into_response()
}

pub(super) fn known(s: &Shared, owner: &str, repo: &str) -> Option<&'static str> {
    s.scale
        .repos()
        .iter()
        .copied()
        .find(|r| *r == format!("{owner}/{repo}"))
}

pub(super) fn now(s: &Shared) -> Now {
    Now {
        t: s.clock.now(),
        wall: s.clock.unix_now(),
        rate: s.clock.action_rate(),
    }
}

pub(super) fn actions(s: &Shared) -> MutexGuard<'_, Actions> {
    s.github.lock().unwrap_or_else(|e| e.into_inner())
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
fn paginate<T>(
    s: &Shared,
    path: &str,
    pairs: &[(String, String)],
    items: Vec<T>,
    per_page: usize,
    page: usize,
) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let page_items: Vec<T> = items
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

/// A paginated array answer.
fn page_of(
    s: &Shared,
    path: &str,
    pairs: &[(String, String)],
    resource: &str,
    items: Vec<Value>,
) -> Reply {
    let (per_page, page) = match paging(pairs, resource) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (items, link) = paginate(s, path, pairs, items, per_page, page);
    Reply {
        link,
        ..Reply::ok(Value::Array(items))
    }
}

/// A paginated `{total_count, <key>: [...]}` answer.
fn counted_page(
    s: &Shared,
    path: &str,
    pairs: &[(String, String)],
    resource: &str,
    key: &str,
    items: Vec<Value>,
) -> Reply {
    let (per_page, page) = match paging(pairs, resource) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let total = items.len();
    let (items, link) = paginate(s, path, pairs, items, per_page, page);
    let mut body = json!({"total_count": total});
    if let Some(obj) = body.as_object_mut() {
        obj.insert(key.to_string(), Value::Array(items));
    }
    Reply {
        link,
        ..Reply::ok(body)
    }
}

fn find_pr(s: &Shared, owner: &str, repo: &str, number: &str, t: f64) -> Option<&'static PrSpec> {
    let full = known(s, owner, repo)?;
    let n: u64 = number.parse().ok()?;
    data::open_prs(s.scale, full, t)
        .into_iter()
        .find(|p| p.number == n)
}

fn find_run(
    s: &Shared,
    acts: &Actions,
    owner: &str,
    repo: &str,
    run_id: &str,
    t: f64,
) -> Option<RunSpec> {
    let full = known(s, owner, repo)?;
    let id: u64 = run_id.parse().ok()?;
    acts.find(full, id, t)
        .or_else(|| github_scale::find_run(s.scale, full, id))
}

/// The runs on `branch` now, evaluated (newest first): their latest jobs are the head's check runs
/// (`GET .../commits/{ref}/check-runs`).
pub(super) fn head_runs(acts: &Actions, now: &Now, repo: &str, branch: &str) -> Vec<RunView> {
    acts.runs(repo, now.t)
        .into_iter()
        .filter(|r| r.branch == branch)
        .map(|spec| acts.view(&spec, now))
        .collect()
}

/// One check run on a head commit, as `GET .../check-runs` (`filter=latest`) lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct HeadCheck {
    pub name: &'static str,
    pub status: &'static str,
    pub conclusion: Option<&'static str>,
    pub details_url: String,
}

/// The check runs on `branch`'s head now, in the REST list's order.
pub(super) fn head_checks(acts: &Actions, now: &Now, repo: &str, branch: &str) -> Vec<HeadCheck> {
    let mut out = Vec::new();
    for v in head_runs(acts, now, repo, branch) {
        for j in v.latest_jobs() {
            let (status, conclusion) = j.status(v.t);
            out.push(HeadCheck {
                name: j.tpl.name,
                status,
                conclusion,
                details_url: check_details_url(v.spec(), j),
            });
        }
    }
    out
}

/// Whether a completed check run's conclusion fails the head.
pub(super) fn failing_conclusion(conclusion: &str) -> bool {
    matches!(
        conclusion,
        "failure" | "cancelled" | "timed_out" | "action_required" | "startup_failure"
    )
}

/// The check runs on `p`'s head now (a generated pull request's are derived from its number).
pub(super) fn pr_checks(acts: &Actions, now: &Now, p: &PrSpec) -> Vec<HeadCheck> {
    if github_scale::is_generated(p) {
        return github_scale::checks(p)
            .into_iter()
            .map(|(name, status, conclusion, details_url)| HeadCheck {
                name,
                status,
                conclusion,
                details_url,
            })
            .collect();
    }
    head_checks(acts, now, p.repo, p.branch)
}

/// (failing, pending) of the latest checks and statuses on `p`'s head.
fn head_health(acts: &Actions, now: &Now, p: &PrSpec) -> (bool, bool) {
    let (repo, branch) = (p.repo, p.branch);
    let (mut failing, mut pending) = (false, false);
    for c in pr_checks(acts, now, p) {
        match (c.status, c.conclusion) {
            ("completed", Some(c)) => failing |= failing_conclusion(c),
            _ => pending = true,
        }
    }
    for (_, state, _, _) in data::statuses(repo, branch, now.t) {
        failing |= matches!(state, "failure" | "error");
        pending |= state == "pending";
    }
    (failing, pending)
}

/// GitHub's `mergeable` / `mergeable_state` of `p` now.
pub(super) fn merge_of(acts: &Actions, now: &Now, p: &PrSpec) -> data::Merge {
    let t = story(now.t);
    let m = |mergeable: Option<bool>, state| data::Merge { mergeable, state };
    if p.draft {
        return m(Some(!p.conflicts), "draft");
    }
    if t < p.created + 10.0 {
        // GitHub computes mergeability in the background after a push.
        return m(None, "unknown");
    }
    if p.conflicts {
        return m(Some(false), "dirty");
    }
    if p.behind {
        return m(Some(true), "behind");
    }
    if data::requires_review(p.repo) && data::review_decision(p, t) != Some("APPROVED") {
        return m(Some(true), "blocked");
    }
    let (failing, pending) = head_health(acts, now, p);
    if failing || pending {
        m(Some(true), "unstable")
    } else {
        m(Some(true), "clean")
    }
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
    let Some(full) = known(s, owner, repo) else {
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
    let t = s.clock.now();
    if let Some(head) = param(&pairs, "head") {
        let state = param(&pairs, "state").unwrap_or("open");
        return repo::pulls_with_head(s, full, head, state, t);
    }
    if !include {
        // The merged PRs (the demo closes none without merging).
        let ascending = match param(&pairs, "direction").unwrap_or("desc") {
            "desc" | "" => false,
            "asc" => true,
            _ => return Reply::invalid("PullRequest", "direction"),
        };
        let sort = match param(&pairs, "sort").unwrap_or("created") {
            "created" | "" => "created",
            "updated" | "popularity" | "long-running" => "updated",
            _ => return Reply::invalid("PullRequest", "sort"),
        };
        let items = repo::merged_pulls(&s.github_url, full, sort, ascending);
        return page_of(
            s,
            &format!("/repos/{full}/pulls"),
            &pairs,
            "PullRequest",
            items,
        );
    }
    let mut prs = data::open_prs(s.scale, full, t);
    match param(&pairs, "sort").unwrap_or("created") {
        "created" | "" => {}
        "updated" | "popularity" | "long-running" => data::sort_by_updated(&mut prs),
        _ => return Reply::invalid("PullRequest", "sort"),
    }
    match param(&pairs, "direction").unwrap_or("desc") {
        "desc" | "" => {}
        "asc" => prs.reverse(),
        _ => return Reply::invalid("PullRequest", "direction"),
    }
    let path = format!("/repos/{full}/pulls");
    // Only the page becomes JSON (a Big world's repository has 2,000).
    let (page_prs, link) = paginate(s, &path, &pairs, prs, per_page, page);
    let items = page_prs
        .into_iter()
        .map(|p| data::pr_json(&s.github_url, p, t, None))
        .collect();
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
    let now = now(&s);
    let reply = match find_pr(&s, &owner, &repo, &number, now.t) {
        None => Reply::not_found(),
        Some(p) => {
            let merge = merge_of(&actions(&s), &now, p);
            Reply::ok(data::pr_json(&s.github_url, p, now.t, Some(merge)))
        }
    };
    finish(&s, &headers, reply, true)
}

async fn list_reviews(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, number)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let t = s.clock.now();
    let reply = match find_pr(&s, &owner, &repo, &number, t) {
        None => Reply::not_found(),
        Some(p) => {
            let items = data::reviews(p, t)
                .into_iter()
                .map(|r| data::review_json(&s.github_url, p, r))
                .collect();
            let path = format!("/repos/{}/pulls/{}/reviews", p.repo, p.number);
            let pairs = parse_pairs(q.as_deref().unwrap_or(""));
            page_of(&s, &path, &pairs, "PullRequestReview", items)
        }
    };
    finish(&s, &headers, reply, true)
}

async fn list_files(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, number)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let t = s.clock.now();
    let reply = match find_pr(&s, &owner, &repo, &number, t) {
        None => Reply::not_found(),
        Some(p) => {
            let items = data::pr_files(p)
                .iter()
                .map(|f| data::file_json(&s.github_url, p, f))
                .collect();
            let path = format!("/repos/{}/pulls/{}/files", p.repo, p.number);
            let pairs = parse_pairs(q.as_deref().unwrap_or(""));
            page_of(&s, &path, &pairs, "PullRequestFile", items)
        }
    };
    finish(&s, &headers, reply, true)
}

async fn check_runs(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = check_runs_reply(&s, &owner, &repo, &reference, q.as_deref().unwrap_or(""));
    finish(&s, &headers, reply, true)
}

fn check_runs_reply(s: &Shared, owner: &str, repo: &str, reference: &str, query: &str) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let Some(branch) = data::resolve_ref(full, reference) else {
        return Reply::no_commit(
            reference,
            "https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference",
        );
    };
    let pairs = parse_pairs(query);
    let all = match param(&pairs, "filter").unwrap_or("latest") {
        "latest" | "" => false,
        "all" => true,
        _ => return Reply::invalid("CheckRun", "filter"),
    };
    let want_status = param(&pairs, "status").filter(|v| !v.is_empty());
    if want_status.is_some_and(|w| !matches!(w, "queued" | "in_progress" | "completed")) {
        return Reply::invalid("CheckRun", "status");
    }
    let want_name = param(&pairs, "check_name").filter(|v| !v.is_empty());
    let now = now(s);
    let acts = actions(s);
    let mut items = Vec::new();
    for v in head_runs(&acts, &now, full, branch) {
        let jobs = if all { v.all_jobs() } else { v.latest_jobs() };
        for j in jobs {
            let status = j.status(v.t).0;
            if want_status.is_some_and(|w| w != status)
                || want_name.is_some_and(|w| w != j.tpl.name)
            {
                continue;
            }
            items.push(check_run_json(&s.github_url, &v, j));
        }
    }
    let path = format!("/repos/{full}/commits/{reference}/check-runs");
    counted_page(s, &path, &pairs, "CheckRun", "check_runs", items)
}

async fn combined_status(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = match known(&s, &owner, &repo) {
        None => Reply::not_found(),
        Some(full) => match data::resolve_ref(full, &reference) {
            None => Reply::no_commit(
                &reference,
                "https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference",
            ),
            Some(branch) => Reply::ok(data::combined_status_json(
                &s.github_url,
                full,
                branch,
                s.clock.now(),
            )),
        },
    };
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
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let pairs = parse_pairs(query);
    let (per_page, page) = match paging(&pairs, "WorkflowRun") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let now = now(s);
    let acts = actions(s);
    let want = |key: &str| param(&pairs, key).filter(|v| !v.is_empty());
    // Scripted and dispatched runs, then (a Big world) the generated ones: all older.
    let mut specs = acts.runs(full, now.t);
    let t = super::scenario::story(now.t);
    specs.extend(
        github_scale::runs(s.scale, full)
            .iter()
            .filter(|r| r.phases.first().is_some_and(|p| p.0 <= t)),
    );
    let filtering = ["status", "branch", "event", "actor"]
        .iter()
        .any(|k| want(k).is_some());
    if filtering {
        specs.retain(|r| {
            let v = acts.view(r, &now);
            let (status, conclusion, _) = v.state();
            want("status").is_none_or(|w| w == status || Some(w) == conclusion)
                && want("branch").is_none_or(|w| w == r.branch)
                && want("event").is_none_or(|w| w == r.event)
                && want("actor").is_none_or(|w| w == r.actor)
        });
    }
    let total = specs.len();
    let path = format!("/repos/{full}/actions/runs");
    // Only the page becomes JSON (a Big world's repository has 2,000 runs).
    let (page_specs, link) = paginate(s, &path, &pairs, specs, per_page, page);
    let items: Vec<Value> = page_specs
        .iter()
        .map(|r| run_json(&s.github_url, &acts.view(r, &now)))
        .collect();
    Reply {
        link,
        ..Reply::ok(json!({"total_count": total, "workflow_runs": items}))
    }
}

/// The run's view now, or a 404.
fn run_view(s: &Shared, owner: &str, repo: &str, run_id: &str) -> Result<RunView, Reply> {
    let now = now(s);
    let acts = actions(s);
    let spec = find_run(s, &acts, owner, repo, run_id, now.t).ok_or_else(Reply::not_found)?;
    Ok(acts.view(&spec, &now))
}

async fn get_run(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, run_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = match run_view(&s, &owner, &repo, &run_id) {
        Ok(v) => Reply::ok(run_json(&s.github_url, &v)),
        Err(r) => r,
    };
    finish(&s, &headers, reply, true)
}

async fn list_jobs(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, run_id)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let pairs = parse_pairs(q.as_deref().unwrap_or(""));
    let reply = match run_view(&s, &owner, &repo, &run_id) {
        Err(r) => r,
        Ok(v) => match param(&pairs, "filter").unwrap_or("latest") {
            f @ ("latest" | "" | "all") => {
                let jobs = if f == "all" {
                    v.all_jobs()
                } else {
                    v.latest_jobs()
                };
                let items = jobs
                    .into_iter()
                    .map(|j| job_json(&s.github_url, &v, j))
                    .collect();
                let path = format!("/repos/{}/actions/runs/{}/jobs", v.spec().repo, v.spec().id);
                counted_page(&s, &path, &pairs, "WorkflowJob", "jobs", items)
            }
            _ => Reply::invalid("WorkflowJob", "filter"),
        },
    };
    finish(&s, &headers, reply, true)
}

/// The job `job_id` of `repo` (any attempt) with its run's view.
fn find_job(s: &Shared, repo: &str, job_id: &str) -> Option<(RunView, Job)> {
    let id: u64 = job_id.parse().ok()?;
    let now = now(s);
    let acts = actions(s);
    acts.runs(repo, now.t)
        .into_iter()
        .chain(github_scale::run_of_job(s.scale, repo, id))
        .find_map(|spec| {
            let v = acts.view(&spec, &now);
            let j = v.all_jobs().into_iter().find(|j| j.id == id).cloned()?;
            Some((v, j))
        })
}

async fn get_job(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, job_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = known(&s, &owner, &repo)
        .and_then(|full| find_job(&s, full, &job_id))
        .map_or_else(Reply::not_found, |(v, j)| {
            Reply::ok(job_json(&s.github_url, &v, &j))
        });
    finish(&s, &headers, reply, true)
}

/// Signature of a log URL for `job_id` valid until wall second `expires`.
fn log_sig(job_id: u64, expires: i64) -> String {
    hex_id(&format!("job-logs/{job_id}/{expires}"), 64)
}

/// `302` to a signed, short-lived URL on the blob store, as GitHub does (for every existing job:
/// a job without a log yet then gets `404 BlobNotFound` from the store).
async fn job_logs(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, job_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let found = known(&s, &owner, &repo).and_then(|full| find_job(&s, full, &job_id));
    let reply = match found {
        None => Reply::not_found(),
        Some((_, j)) => {
            let expires = s.clock.unix_now() as i64 + LOG_URL_SECS;
            let sig = log_sig(j.id, expires);
            Reply {
                location: Some(format!(
                    "{}/_blob/job-logs/{}?sig={sig}&se={expires}&sp=r&sv=2025-01-05",
                    s.github_url, j.id
                )),
                ..Reply::done(StatusCode::FOUND, Value::Null)
            }
        }
    };
    finish(&s, &headers, reply, true)
}

fn blob_error(status: StatusCode, code: &str, message: &str, job_id: &str) -> Response {
    let request_id = hex_id(&format!("req/{job_id}/{code}"), 32);
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:{}-{}-{}-{}-{}</Message></Error>",
        &request_id[..8],
        &request_id[8..12],
        &request_id[12..16],
        &request_id[16..20],
        &request_id[20..32]
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "application/xml"),
            (HeaderName::from_static("x-ms-error-code"), code),
        ],
        body,
    )
        .into_response()
}

/// The blob store behind job-log redirects.
async fn blob_log(
    State(s): State<Arc<Shared>>,
    Path(job_id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return blob_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
            &job_id,
        );
    }
    let pairs = parse_pairs(q.as_deref().unwrap_or(""));
    let expires: i64 = param(&pairs, "se")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let id: u64 = job_id.parse().unwrap_or(0);
    if param(&pairs, "sig") != Some(log_sig(id, expires).as_str()) {
        return blob_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
            &job_id,
        );
    }
    if (s.clock.unix_now() as i64) > expires {
        return blob_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            &format!(
                "Signature not valid in the specified time frame: Expiry [{}] - Current [{}]",
                iso_unix(expires),
                iso_unix(s.clock.unix_now() as i64)
            ),
            &job_id,
        );
    }
    let log = s.scale.repos().iter().find_map(|repo| {
        let (v, j) = find_job(&s, repo, &job_id)?;
        job_log(&v.plan, &j, v.t)
    });
    match log {
        None => blob_error(
            StatusCode::NOT_FOUND,
            "BlobNotFound",
            "The specified blob does not exist.",
            &job_id,
        ),
        Some(text) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (HeaderName::from_static("x-ms-blob-type"), "BlockBlob"),
                (HeaderName::from_static("x-ms-version"), "2025-01-05"),
            ],
            text,
        )
            .into_response(),
    }
}

async fn get_pending(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, run_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = match run_view(&s, &owner, &repo, &run_id) {
        Ok(v) => Reply::ok(Value::Array(pending_json(&s.github_url, &v))),
        Err(r) => r,
    };
    finish(&s, &headers, reply, true)
}

/// `POST .../pending_deployments`: `{environment_ids, state, comment}`.
async fn review_pending(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, run_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = review_reply(&s, &owner, &repo, &run_id, &body);
    finish(&s, &headers, reply, true)
}

fn review_reply(s: &Shared, owner: &str, repo: &str, run_id: &str, body: &[u8]) -> Reply {
    let now = now(s);
    let mut acts = actions(s);
    let Some(spec) = find_run(s, &acts, owner, repo, run_id, now.t) else {
        return Reply::not_found();
    };
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return Reply::bad_json(DOCS_REVIEW);
    };
    let mut errors: Vec<(&str, &str)> = Vec::new();
    let ids: Vec<u64> = match req.get("environment_ids") {
        None | Some(Value::Null) => {
            errors.push(("missing_field", "environment_ids"));
            Vec::new()
        }
        Some(Value::Array(a)) => match a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>() {
            Some(ids) => ids,
            None => {
                errors.push(("invalid", "environment_ids"));
                Vec::new()
            }
        },
        Some(_) => {
            errors.push(("invalid", "environment_ids"));
            Vec::new()
        }
    };
    let kind = match req.get("state") {
        None | Some(Value::Null) => {
            errors.push(("missing_field", "state"));
            None
        }
        Some(Value::String(st)) if st == "approved" => Some(ActionKind::Approve),
        Some(Value::String(st)) if st == "rejected" => Some(ActionKind::Reject),
        Some(_) => {
            errors.push(("invalid", "state"));
            None
        }
    };
    match req.get("comment") {
        None | Some(Value::Null) => errors.push(("missing_field", "comment")),
        Some(Value::String(_)) => {}
        Some(_) => errors.push(("invalid", "comment")),
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return Reply::failed("DeploymentReview", &errors, DOCS_REVIEW);
    };
    let before = acts.view(&spec, &now);
    let pending = pending_environment_ids(&before);
    let Some(held) = before.pending().map(|j| (j.idx, j.attempt)) else {
        return no_pending();
    };
    if ids.is_empty() || ids.iter().any(|id| !pending.contains(id)) {
        return no_pending();
    }
    acts.record(&spec, kind, &now);
    // The held job's deployment, as the review left it.
    let after = acts.view(&spec, &now);
    let deployments: Vec<Value> = after
        .plan
        .jobs
        .iter()
        .filter(|j| (j.idx, j.attempt) == held)
        .filter_map(|j| deploys::of_job(&after, j))
        .map(|d| deploys::deployment_json(&s.github_url, &d))
        .collect();
    Reply::done(StatusCode::OK, Value::Array(deployments))
}

fn no_pending() -> Reply {
    Reply::message(
        StatusCode::UNPROCESSABLE_ENTITY,
        "No pending deployment requests to approve or reject",
        DOCS_REVIEW,
    )
}

/// `POST .../rerun-failed-jobs` (optional body `{enable_debug_logging}`) → `201 {}`.
async fn rerun_failed(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, run_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = rerun_reply(&s, &owner, &repo, &run_id, &body);
    finish(&s, &headers, reply, true)
}

fn rerun_reply(s: &Shared, owner: &str, repo: &str, run_id: &str, body: &[u8]) -> Reply {
    let now = now(s);
    let mut acts = actions(s);
    let Some(spec) = find_run(s, &acts, owner, repo, run_id, now.t) else {
        return Reply::not_found();
    };
    if !body.iter().all(u8::is_ascii_whitespace) {
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return Reply::bad_json(DOCS_RERUN);
        };
        if req
            .get("enable_debug_logging")
            .is_some_and(|v| !v.is_boolean())
        {
            return Reply::failed(
                "WorkflowRun",
                &[("invalid", "enable_debug_logging")],
                DOCS_RERUN,
            );
        }
    }
    let (status, conclusion, _) = acts.view(&spec, &now).state();
    if status != "completed" {
        return Reply::message(
            StatusCode::FORBIDDEN,
            "This workflow is already running",
            DOCS_RERUN,
        );
    }
    if !matches!(
        conclusion,
        Some("failure" | "cancelled" | "timed_out" | "startup_failure")
    ) {
        return Reply::message(
            StatusCode::FORBIDDEN,
            "This workflow run cannot be retried",
            DOCS_RERUN,
        );
    }
    acts.record(&spec, ActionKind::Rerun, &now);
    Reply::done(StatusCode::CREATED, json!({}))
}

/// `POST .../cancel` → `202 {}`; `409` when the run already completed.
async fn cancel_run(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, run_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let now = now(&s);
    let mut acts = actions(&s);
    let reply = match find_run(&s, &acts, &owner, &repo, &run_id, now.t) {
        None => Reply::not_found(),
        Some(spec) => {
            if acts.view(&spec, &now).state().0 == "completed" {
                Reply::message(
                    StatusCode::CONFLICT,
                    "Cannot cancel a workflow run that is completed.",
                    DOCS_CANCEL,
                )
            } else {
                acts.record(&spec, ActionKind::Cancel, &now);
                Reply::done(StatusCode::ACCEPTED, json!({}))
            }
        }
    };
    drop(acts);
    finish(&s, &headers, reply, true)
}

/// `POST .../actions/workflows/{workflow_id}/dispatches` with `{ref, inputs}` → `204` (or `200`
/// with the run's ids when `return_run_details` is true). Dispatching `rollback.yml` rolls the
/// repository's canary back.
async fn dispatch_workflow(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, workflow)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = dispatch_reply(&s, &owner, &repo, &workflow, &body);
    finish(&s, &headers, reply, true)
}

/// `422` with GitHub's schema-validation text.
fn invalid_request(problems: &[String]) -> Reply {
    Reply::message(
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("Invalid request.\n\n{}", problems.join("\n")),
        DOCS_DISPATCH,
    )
}

fn unprocessable(message: &str) -> Reply {
    Reply::message(StatusCode::UNPROCESSABLE_ENTITY, message, DOCS_DISPATCH)
}

/// The demo app deployed from `repo` (`acme/checkout` → `checkout`).
fn app_of(repo: &str) -> Option<&'static str> {
    let name = repo.split_once('/').map_or(repo, |(_, n)| n);
    APPS.iter().copied().find(|a| *a == name)
}

fn dispatch_reply(s: &Shared, owner: &str, repo: &str, workflow: &str, body: &[u8]) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let Some(wf) = data::workflow(full, workflow) else {
        return Reply::not_found();
    };
    let req: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return Reply::bad_json(DOCS_DISPATCH),
        }
    };
    let Some(obj) = req.as_object() else {
        return invalid_request(&[format!("For 'links/0/schema', {req} is not an object.")]);
    };
    let mut problems = Vec::new();
    let unknown: Vec<String> = obj
        .keys()
        .filter(|k| !matches!(k.as_str(), "ref" | "inputs" | "return_run_details"))
        .map(|k| format!("\"{k}\""))
        .collect();
    match unknown.as_slice() {
        [] => {}
        [one] => problems.push(format!("{one} is not a permitted key.")),
        many => problems.push(format!("{} are not permitted keys.", many.join(", "))),
    }
    let reference = match obj.get("ref") {
        None => {
            problems.push("\"ref\" wasn't supplied.".to_string());
            None
        }
        Some(Value::String(r)) => Some(r.as_str()),
        Some(other) => {
            problems.push(format!("For 'properties/ref', {other} is not a string."));
            None
        }
    };
    let mut inputs: Vec<(String, String)> = Vec::new();
    match obj.get("inputs") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                match v {
                    Value::String(x) => inputs.push((k.clone(), x.clone())),
                    other => {
                        problems.push(format!("For 'properties/{k}', {other} is not a string."));
                    }
                }
            }
        }
        Some(other) => problems.push(format!(
            "For 'properties/inputs', {other} is not an object."
        )),
    }
    let details = match obj.get("return_run_details") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            problems.push(format!(
                "For 'properties/return_run_details', {other} is not a boolean."
            ));
            false
        }
    };
    let Some(reference) = reference.filter(|_| problems.is_empty()) else {
        return invalid_request(&problems);
    };
    let Some(declared) = wf.dispatch else {
        return unprocessable("Workflow does not have 'workflow_dispatch' trigger");
    };
    let Some(branch) = data::dispatch_branch(full, reference) else {
        return unprocessable(&format!("No ref found for: {reference}"));
    };
    let unexpected: Vec<&str> = inputs
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !declared.iter().any(|d| d.name == *k))
        .collect();
    if !unexpected.is_empty() {
        return unprocessable(&format!(
            "Unexpected inputs provided: {}",
            json!(unexpected)
        ));
    }
    let given = |name: &str| inputs.iter().any(|(k, v)| k == name && !v.is_empty());
    if let Some(missing) = declared.iter().find(|d| d.required && !given(d.name)) {
        return unprocessable(&format!("Required input '{}' not provided", missing.name));
    }
    let now = now(s);
    let mut acts = actions(s);
    let run = acts.dispatch(wf, branch, inputs, &now);
    if wf.file == "rollback.yml"
        && let Some(app) = app_of(full)
    {
        acts.roll_back(app, &now);
    }
    if details {
        Reply::done(
            StatusCode::OK,
            json!({
                "workflow_run_id": run.id,
                "run_url": format!("{}/repos/{full}/actions/runs/{}", s.github_url, run.id),
                "html_url": format!("https://github.com/{full}/actions/runs/{}", run.id)
            }),
        )
    } else {
        Reply::done(StatusCode::NO_CONTENT, Value::Null)
    }
}

/// `GET /repos/{owner}/{repo}/deployments` (filters `environment`, `ref`, `sha`, `task`).
async fn list_deployments(
    State(s): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = deployments_reply(&s, &owner, &repo, q.as_deref().unwrap_or(""));
    finish(&s, &headers, reply, true)
}

fn deployments_reply(s: &Shared, owner: &str, repo: &str, query: &str) -> Reply {
    let Some(full) = known(s, owner, repo) else {
        return Reply::not_found();
    };
    let pairs = parse_pairs(query);
    let want = |key: &str| param(&pairs, key).filter(|v| !v.is_empty());
    let all = deploys::deployments(&actions(s), &now(s), full);
    let items: Vec<Value> = all
        .iter()
        .filter(|d| {
            let reference = want("ref");
            want("environment").is_none_or(|w| w == d.environment)
                && want("sha").is_none_or(|w| w == d.sha)
                && want("task").is_none_or(|w| w == d.task)
                && reference.is_none_or(|w| {
                    w == d.reference
                        || w == d.sha
                        || w.strip_prefix("refs/heads/") == Some(d.reference)
                })
        })
        .map(|d| deploys::deployment_json(&s.github_url, d))
        .collect();
    let path = format!("/repos/{full}/deployments");
    page_of(s, &path, &pairs, "Deployment", items)
}

fn find_deployment(s: &Shared, owner: &str, repo: &str, id: &str) -> Option<Deployment> {
    let full = known(s, owner, repo)?;
    let id: u64 = id.parse().ok()?;
    deploys::deployments(&actions(s), &now(s), full)
        .into_iter()
        .find(|d| d.id == id)
}

async fn get_deployment(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let reply = find_deployment(&s, &owner, &repo, &id).map_or_else(Reply::not_found, |d| {
        Reply::ok(deploys::deployment_json(&s.github_url, &d))
    });
    finish(&s, &headers, reply, true)
}

/// `GET .../deployments/{id}/statuses`, newest first.
async fn list_deployment_statuses(
    State(s): State<Arc<Shared>>,
    Path((owner, repo, id)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = match find_deployment(&s, &owner, &repo, &id) {
        None => Reply::not_found(),
        Some(d) => {
            let pairs = parse_pairs(q.as_deref().unwrap_or(""));
            let path = format!("/repos/{}/deployments/{}/statuses", d.repo, d.id);
            let items = deploys::statuses_json(&s.github_url, &d);
            page_of(&s, &path, &pairs, "DeploymentStatus", items)
        }
    };
    finish(&s, &headers, reply, true)
}

/// `GET /rate_limit` does not count against the limit (as on GitHub).
async fn rate_limit(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (used, reset) = {
        let rate = s.rate.lock().unwrap_or_else(|e| e.into_inner());
        (rate.used, rate.reset)
    };
    let (graphql_used, graphql_reset) = super::github_graphql::points(&s);
    let window = |limit: u64, used: u64| {
        let remaining = limit.saturating_sub(used);
        json!({"limit": limit, "used": used, "remaining": remaining, "reset": reset})
    };
    let body = json!({
        "resources": {
            "core": window(LIMIT, used),
            "search": window(30, 0),
            "graphql": {
                "limit": super::github_graphql::POINTS,
                "used": graphql_used,
                "remaining": super::github_graphql::POINTS.saturating_sub(graphql_used),
                "reset": graphql_reset
            },
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
