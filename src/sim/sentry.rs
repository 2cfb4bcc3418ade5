//! Simulated Sentry API under `/api/0/`: a project's issues (query, environment, statsPeriod with
//! Sentry's `stats` series, sort, cursor pagination with Sentry's `Link` header), an organization issue and its latest event. An issue
//! of a canary's release stops receiving events when the operator rolls that canary back. A Big
//! world serves five projects and [`data::BIG_ISSUES`] unresolved issues (see `sentry_data`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::Shared;
use super::sentry_data::{self as data, IssueSpec, ORG, ORG_ID};
use super::util::{param, parse_pairs, url_with};

const PAGE: usize = 100;

/// The scenario second at which `spec` is evaluated: now, or the moment its release's canary was
/// rolled back (the canary gets no traffic after that, so no new events).
fn issue_time(s: &Shared, spec: &IssueSpec) -> f64 {
    let now = s.clock.now();
    if !data::from_canary(spec) {
        return now;
    }
    let acts = s.github.lock().unwrap_or_else(|e| e.into_inner());
    acts.rollbacks()
        .iter()
        .find(|r| r.app == spec.project)
        .map_or(now, |r| now.min(r.at))
}

pub fn router(shared: Arc<Shared>) -> Router {
    let issues = "/api/0/projects/{org}/{project}/issues";
    let issue = "/api/0/organizations/{org}/issues/{id}";
    let event = "/api/0/organizations/{org}/issues/{id}/events/{event_id}";
    let release_commits = "/api/0/organizations/{org}/releases/{version}/commits";
    Router::new()
        .route(issues, get(list_issues))
        .route(&format!("{issues}/"), get(list_issues))
        .route(issue, get(get_issue).put(update_issue))
        .route(&format!("{issue}/"), get(get_issue).put(update_issue))
        .route(event, get(get_event))
        .route(&format!("{event}/"), get(get_event))
        .route(release_commits, get(get_release_commits))
        .route(&format!("{release_commits}/"), get(get_release_commits))
        .fallback(|| async { not_found() })
        .with_state(shared)
}

fn reply(status: StatusCode, body: &Value, link: Option<String>) -> Response {
    let mut resp = (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Some(v) = link.and_then(|l| l.parse().ok()) {
        resp.headers_mut().insert("link", v);
    }
    resp
}

fn not_found() -> Response {
    reply(
        StatusCode::NOT_FOUND,
        &json!({"detail": "The requested resource does not exist"}),
        None,
    )
}

fn bad_request(detail: &str) -> Response {
    reply(StatusCode::BAD_REQUEST, &json!({"detail": detail}), None)
}

fn org_ok(org: &str) -> bool {
    org == ORG || org == ORG_ID
}

/// Filters by Sentry search syntax: `is:unresolved`, `level:error`, free text in title/culprit.
fn matches(spec: &IssueSpec, query: &str) -> bool {
    query.split_whitespace().all(|token| {
        if let Some((key, value)) = token.split_once(':') {
            match (key, value) {
                ("is", "unresolved" | "unassigned" | "for_review" | "unread") => true,
                ("is", _) => false,
                ("level", l) => spec.level == l,
                ("project", p) => spec.project == p,
                _ => true,
            }
        } else {
            let needle = token.to_lowercase();
            let title = format!("{}: {}", spec.exc_type, spec.value).to_lowercase();
            title.contains(&needle) || spec.culprit.to_lowercase().contains(&needle)
        }
    })
}

/// `value:offset:is_prev` → offset.
fn cursor_offset(cursor: &str) -> Option<usize> {
    let mut parts = cursor.split(':');
    let (_value, offset, is_prev) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !matches!(is_prev, "0" | "1") {
        return None;
    }
    offset.parse().ok()
}

async fn list_issues(
    State(s): State<Arc<Shared>>,
    Path((org, project)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((slug, _, _)) = data::projects(s.scale)
        .iter()
        .find(|p| org_ok(&org) && (p.0 == project || p.1 == project))
    else {
        return not_found();
    };
    let pairs = parse_pairs(q.as_deref().unwrap_or(""));
    let stats_period = param(&pairs, "statsPeriod").unwrap_or("24h");
    if !matches!(stats_period, "" | "24h" | "14d") {
        return bad_request("Invalid stats_period. Valid choices are '', '24h', and '14d'");
    }
    let offset = match param(&pairs, "cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => match cursor_offset(c) {
            Some(o) => o,
            None => return bad_request("Invalid cursor parameter."),
        },
    };
    let limit = match param(&pairs, "limit").filter(|l| !l.is_empty()) {
        None => PAGE,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=PAGE).contains(&n) => n,
            _ => return bad_request("Invalid limit parameter."),
        },
    };
    let query = param(&pairs, "query").unwrap_or("is:unresolved");
    // Sentry's `environment` parameter: only issues seen there (every environment when absent).
    let environment = param(&pairs, "environment").filter(|e| !e.is_empty());
    let t = |i: &IssueSpec| issue_time(&s, i);
    let mut found: Vec<&IssueSpec> = data::issues(s.scale)
        .filter(|i| {
            i.project == *slug
                && data::visible(i, t(i))
                && matches(i, query)
                // An issue the operator resolved or ignored is no longer unresolved.
                && (!query.contains("is:unresolved") || status_of(&s, i.id).is_none_or(|st| st == "unresolved"))
                && environment.is_none_or(|e| data::environment_of(i) == e)
        })
        .collect();
    match param(&pairs, "sort").unwrap_or("date") {
        "date" | "" => {
            found.sort_by(|a, b| data::last_seen(b, t(b)).total_cmp(&data::last_seen(a, t(a))))
        }
        "new" => found.sort_by(|a, b| b.first_seen.total_cmp(&a.first_seen)),
        "freq" => found.sort_by_key(|i| std::cmp::Reverse(data::count(i, t(i)))),
        "user" | "priority" | "trends" => {}
        _ => return bad_request("Invalid sort parameter."),
    }
    let total = found.len();
    let items: Vec<Value> = found
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|i| data::issue_json(i, t(i), stats_period))
        .collect();
    let path = format!("/api/0/projects/{org}/{project}/issues/");
    let link_to = |cursor: &str, rel: &str, more: bool| {
        format!(
            "<{}>; rel=\"{rel}\"; results=\"{more}\"; cursor=\"{cursor}\"",
            url_with(&s.sentry_url, &path, &pairs, "cursor", cursor)
        )
    };
    let prev = format!("0:{}:1", offset.saturating_sub(limit));
    let next = format!("0:{}:0", offset + limit);
    let link = format!(
        "{}, {}",
        link_to(&prev, "previous", offset > 0),
        link_to(&next, "next", offset + limit < total)
    );
    reply(StatusCode::OK, &Value::Array(items), Some(link))
}

fn find_issue(s: &Shared, org: &str, id: &str) -> Option<&'static IssueSpec> {
    data::issues(s.scale).find(|i| {
        org_ok(org) && (i.id == id || i.short_id == id) && data::visible(i, issue_time(s, i))
    })
}

async fn get_issue(
    State(s): State<Arc<Shared>>,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    match find_issue(&s, &org, &id) {
        Some(i) => reply(
            StatusCode::OK,
            &data::issue_detail_json(i, issue_time(&s, i)),
            None,
        ),
        None => not_found(),
    }
}

/// `GET /api/0/organizations/{org}/releases/{version}/commits/` ("List an Organization Release's
/// Commits", documented as `[{dateCreated, id, message}]`): the commits of the demo repository
/// from the release before `version` (exclusive) to `version`, newest first — what
/// `sentry-cli releases set-commits --auto` records. Unknown releases are 404.
async fn get_release_commits(Path((org, version)): Path<(String, String)>) -> Response {
    if org != ORG {
        return not_found();
    }
    let repo = match version.split_once('@') {
        Some(("checkout", _)) => "acme/checkout",
        Some(("web", _)) => "acme/web",
        _ => return not_found(),
    };
    let v = version.split_once('@').map_or("", |(_, v)| v);
    let hist = super::github::repo::history(repo);
    let Some(end) = hist.iter().position(|c| c.release == Some(v)) else {
        return not_found();
    };
    let start = hist[..end]
        .iter()
        .rposition(|c| c.release.is_some())
        .map_or(0, |i| i + 1);
    let list: Vec<Value> = hist[start..=end]
        .iter()
        .rev()
        .map(|c| {
            json!({
                "dateCreated": super::util::iso(c.at),
                "id": c.sha,
                "message": c.message,
            })
        })
        .collect();
    reply(StatusCode::OK, &Value::Array(list), None)
}

/// The status the operator gave an issue, if any (`resolved`, `ignored`, …).
fn status_of(s: &Shared, id: &str) -> Option<String> {
    s.sentry_status
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id)
        .cloned()
}

/// `PUT /api/0/organizations/{org}/issues/{id}/` (`updateOrganizationIssue`): `status` is one of
/// Sentry's (`resolved`, `unresolved`, `ignored`, `resolvedInNextRelease`, `muted`); the answer is
/// the issue with it. Recorded for tests.
async fn update_issue(
    State(s): State<Arc<Shared>>,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(issue) = find_issue(&s, &org, &id) else {
        return not_found();
    };
    {
        let mut r = s.records.lock().unwrap_or_else(|e| e.into_inner());
        r.sentry.push(super::RecordedRequest {
            method: "PUT".into(),
            path: format!("/api/0/organizations/{org}/issues/{id}/"),
            body: String::from_utf8_lossy(&body).into_owned(),
            authorization: false,
        });
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("Invalid JSON");
    };
    let status = match req.get("status").and_then(Value::as_str) {
        Some(st @ ("resolved" | "unresolved" | "ignored" | "resolvedInNextRelease" | "muted")) => {
            st.to_string()
        }
        Some(other) => return bad_request(&format!("\"{other}\" is not a valid choice.")),
        None => return bad_request("status is required"),
    };
    s.sentry_status
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(issue.id.to_string(), status.clone());
    let mut detail = data::issue_detail_json(issue, issue_time(&s, issue));
    detail["status"] = Value::String(if status == "muted" {
        "ignored".into()
    } else {
        status
    });
    reply(StatusCode::OK, &detail, None)
}

async fn get_event(
    State(s): State<Arc<Shared>>,
    Path((org, id, event_id)): Path<(String, String, String)>,
) -> Response {
    let Some(issue) = find_issue(&s, &org, &id) else {
        return not_found();
    };
    let event = data::latest_event_json(issue, issue_time(&s, issue));
    let wanted = matches!(event_id.as_str(), "latest" | "recommended" | "oldest")
        || event.get("eventID").and_then(Value::as_str) == Some(event_id.as_str());
    if wanted {
        reply(StatusCode::OK, &event, None)
    } else {
        not_found()
    }
}
