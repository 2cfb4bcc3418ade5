//! Simulated GitHub GraphQL API: `POST /graphql` answers the PR list query of
//! `src/sources/github/pulls.graphql` (and nothing else: the query text is only checked for
//! `pullRequests`, never parsed). Every field comes from the computations behind the REST side,
//! so a pull request's node says what `GET /pulls/{n}`, its reviews, the head's check runs and its
//! combined status say at the same moment.
//!
//! Nodes are ordered by `updatedAt` descending (then number); a cursor is
//! `base64("cursor:v2:<updated ms>:<number>")` of a node and `after` it means every node behind it
//! in that order, so pages stay exact while new pull requests appear at the top.
//!
//! Errors as GitHub sends them: `200` with `errors` (unknown repository with `repository: null`,
//! bad variables or too many records with no `data`, a bad cursor), `400 Problems parsing JSON`
//! for a body that is not a JSON object with a `query`. A query costs one point of GraphQL's own
//! rate-limit window (the `graphql` resource), apart from REST's `core`.

use std::sync::{Arc, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::github::{HeadCheck, actions, failing_conclusion, known, merge_of, now, pr_checks};
use super::github_data::{self as data, PrSpec};
use super::github_runs::{Actions, Now};
use super::util::{base64_decode, base64_encode, iso, iso_unix};
use super::{RateWindow, Shared};

/// Points per hour (GitHub's primary GraphQL limit for a user).
pub const POINTS: u64 = 5000;
/// The most records one connection may request (`first`).
const MAX_FIRST: i64 = 100;
const DOCS: &str = "https://docs.github.com/graphql";
/// What the demo's GraphQL endpoint answers to anything but the PR list.
pub const ONLY_PULLS: &str = "flightdeck's demo world answers only the PR list query";
const CURSOR_PREFIX: &str = "cursor:v2:";
/// Records per page of the nested connections, as the query asks.
const LABELS_FIRST: usize = 20;
const REVIEWS_FIRST: usize = 20;
const CONTEXTS_FIRST: usize = 100;

/// The GraphQL window now, a new one when the last is over.
fn window(s: &Shared) -> MutexGuard<'_, RateWindow> {
    let now = s.clock.unix_now() as i64;
    let mut rate = s.graphql_rate.lock().unwrap_or_else(|e| e.into_inner());
    if now >= rate.reset {
        rate.used = 0;
        rate.reset = now + 3600;
    }
    rate
}

/// (used, reset) of the GraphQL window (`GET /rate_limit`, response headers).
pub(super) fn points(s: &Shared) -> (u64, i64) {
    let rate = window(s);
    (rate.used, rate.reset)
}

/// `POST /graphql`.
pub(super) async fn graphql(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let (status, answer) = answer(&s, &body);
    let (used, reset) = points(&s);
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    put("content-type", "application/json; charset=utf-8".into());
    put("x-github-media-type", "github.v4; format=json".into());
    put("x-ratelimit-limit", POINTS.to_string());
    put(
        "x-ratelimit-remaining",
        POINTS.saturating_sub(used).to_string(),
    );
    put("x-ratelimit-used", used.to_string());
    put("x-ratelimit-reset", reset.to_string());
    put("x-ratelimit-resource", "graphql".into());
    (status, h, answer.to_string()).into_response()
}

/// Status and body of one request.
fn answer(s: &Shared, body: &[u8]) -> (StatusCode, Value) {
    let request = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ => return problems_parsing(),
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return problems_parsing();
    };
    if !query.contains("pullRequests") {
        return (StatusCode::OK, json!({"errors": [{"message": ONLY_PULLS}]}));
    }
    let empty = Map::new();
    let vars = match request.get("variables") {
        Some(Value::Object(m)) => m,
        _ => &empty,
    };
    let mut errors = Vec::new();
    let owner = string_var(query, vars, "owner", true, &mut errors);
    let name = string_var(query, vars, "name", true, &mut errors);
    let first = int_var(query, vars, "first", &mut errors);
    let after = string_var(query, vars, "after", false, &mut errors);
    let (Some(owner), Some(name), Some(first)) = (owner, name, first) else {
        return (StatusCode::OK, json!({"errors": errors}));
    };
    if !errors.is_empty() {
        return (StatusCode::OK, json!({"errors": errors}));
    }
    if first < 0 {
        let message = "`first` on the `pullRequests` connection cannot be less than zero.";
        return connection_error(query, "INVALID_ARGUMENTS", message);
    }
    if first > MAX_FIRST {
        let message = format!(
            "Requesting {first} records on the `pullRequests` connection exceeds the `first` limit of {MAX_FIRST} records."
        );
        return connection_error(query, "EXCESSIVE_PAGINATION", &message);
    }
    let rate_limit = {
        let mut rate = window(s);
        if rate.used >= POINTS {
            let message = format!(
                "API rate limit already exceeded for user ID {}.",
                operator_id()
            );
            return (
                StatusCode::OK,
                json!({"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": message}]}),
            );
        }
        rate.used += 1;
        json!({
            "cost": 1,
            "limit": POINTS,
            "remaining": POINTS.saturating_sub(rate.used),
            "resetAt": iso_unix(rate.reset)
        })
    };
    let Some(full) = known(s, owner, name) else {
        let error = json!({
            "type": "NOT_FOUND",
            "path": ["repository"],
            "locations": locate(query, "repository("),
            "message": format!("Could not resolve to a Repository with the name '{owner}/{name}'.")
        });
        return (
            StatusCode::OK,
            json!({"data": {"rateLimit": rate_limit, "repository": null}, "errors": [error]}),
        );
    };
    let after = match after.map(|c| (c, decode_cursor(c))) {
        None => None,
        Some((_, Some(key))) => Some(key),
        Some((c, None)) => {
            let error = json!({
                "type": "INVALID_CURSOR_ARGUMENTS",
                "path": ["repository", "pullRequests"],
                "locations": locate(query, "pullRequests("),
                "message": format!("`{c}` does not appear to be a valid cursor.")
            });
            return (
                StatusCode::OK,
                json!({"data": {"rateLimit": rate_limit, "repository": null}, "errors": [error]}),
            );
        }
    };
    let connection = pull_requests(s, full, usize::try_from(first).unwrap_or(0), after);
    (
        StatusCode::OK,
        json!({"data": {"rateLimit": rate_limit, "repository": {"pullRequests": connection}}}),
    )
}

fn problems_parsing() -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"message": "Problems parsing JSON", "documentation_url": DOCS}),
    )
}

/// An argument error on the `pullRequests` connection (found before execution: no `data`).
fn connection_error(query: &str, kind: &str, message: &str) -> (StatusCode, Value) {
    (
        StatusCode::OK,
        json!({"errors": [{
            "type": kind,
            "path": ["repository", "pullRequests", "first"],
            "locations": locate(query, "pullRequests("),
            "message": message
        }]}),
    )
}

fn operator_id() -> u64 {
    data::user("", data::OPERATOR)["id"].as_u64().unwrap_or(0)
}

/// `[{line, column}]` (1-based) of the first `needle` in the query text, `[]` when absent.
fn locate(query: &str, needle: &str) -> Value {
    let Some(at) = query.find(needle) else {
        return json!([]);
    };
    let before = &query[..at];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    json!([{"line": line, "column": column}])
}

/// GitHub's error for a variable that does not fit its declared type.
fn variable_error(query: &str, var: &str, ty: &str, value: &Value, explanation: &str) -> Value {
    json!({
        "extensions": {
            "value": value,
            "problems": [{"path": [], "explanation": explanation}]
        },
        "locations": locate(query, &format!("${var}:")),
        "message": format!("Variable ${var} of type {ty} was provided invalid value")
    })
}

/// A `String!` (`required`) or `String` variable; `None` when absent, null or invalid.
fn string_var<'a>(
    query: &str,
    vars: &'a Map<String, Value>,
    var: &str,
    required: bool,
    errors: &mut Vec<Value>,
) -> Option<&'a str> {
    let ty = if required { "String!" } else { "String" };
    match vars.get(var) {
        Some(Value::String(v)) => Some(v),
        None | Some(Value::Null) => {
            if required {
                errors.push(variable_error(
                    query,
                    var,
                    ty,
                    &Value::Null,
                    "Expected value to not be null",
                ));
            }
            None
        }
        Some(other) => {
            let explanation = format!("Could not coerce value {other} to String");
            errors.push(variable_error(query, var, ty, other, &explanation));
            None
        }
    }
}

/// An `Int!` variable.
fn int_var(
    query: &str,
    vars: &Map<String, Value>,
    var: &str,
    errors: &mut Vec<Value>,
) -> Option<i64> {
    match vars.get(var) {
        Some(v) if v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()) => v.as_i64(),
        None | Some(Value::Null) => {
            errors.push(variable_error(
                query,
                var,
                "Int!",
                &Value::Null,
                "Expected value to not be null",
            ));
            None
        }
        Some(other) => {
            let explanation = format!("Could not coerce value {other} to Int");
            errors.push(variable_error(query, var, "Int!", other, &explanation));
            None
        }
    }
}

/// A node's place in the order: (updatedAt in ms, number).
fn key(p: &PrSpec) -> (i64, u64) {
    ((p.updated * 1000.0).round() as i64, p.number)
}

fn cursor(p: &PrSpec) -> String {
    let (updated, number) = key(p);
    base64_encode(format!("{CURSOR_PREFIX}{updated}:{number}").as_bytes())
}

fn decode_cursor(c: &str) -> Option<(i64, u64)> {
    let text = String::from_utf8(base64_decode(c)?).ok()?;
    let (updated, number) = text.strip_prefix(CURSOR_PREFIX)?.split_once(':')?;
    Some((updated.parse().ok()?, number.parse().ok()?))
}

/// Whether `p` comes after the node whose key is `after` (updated descending, then number).
fn behind(p: &PrSpec, after: (i64, u64)) -> bool {
    let (updated, number) = key(p);
    updated < after.0 || (updated == after.0 && number < after.1)
}

/// The `pullRequests` connection of `repo` now: up to `first` open pull requests after `after`.
fn pull_requests(s: &Shared, repo: &str, first: usize, after: Option<(i64, u64)>) -> Value {
    let now = now(s);
    let mut prs = data::open_prs(s.scale, repo, now.t);
    data::sort_by_updated(&mut prs);
    let total = prs.len();
    let start = after.map_or(0, |a| {
        prs.iter().position(|p| behind(p, a)).unwrap_or(prs.len())
    });
    let page: Vec<&PrSpec> = prs.iter().skip(start).take(first).copied().collect();
    let acts = actions(s);
    let nodes: Vec<Value> = page.iter().map(|p| node(&acts, &now, p)).collect();
    json!({
        "totalCount": total,
        "pageInfo": {
            "hasNextPage": start + page.len() < total,
            "endCursor": page.last().map(|p| cursor(p))
        },
        "nodes": nodes
    })
}

/// An actor's GraphQL `login`: apps (`Bot`) without REST's `[bot]` suffix.
fn login(rest_login: &str) -> &str {
    rest_login.strip_suffix("[bot]").unwrap_or(rest_login)
}

/// One `PullRequest` node with exactly the query's selection.
fn node(acts: &Actions, now: &Now, p: &PrSpec) -> Value {
    let t = now.t;
    let merge = merge_of(acts, now, p);
    let (_, additions, deletions, changed) = p.size;
    let labels: Vec<Value> = p
        .labels
        .iter()
        .take(LABELS_FIRST)
        .map(|l| json!({"name": l}))
        .collect();
    json!({
        "number": p.number,
        "title": p.title,
        "url": data::pr_html_url(p),
        "body": p.body,
        "isDraft": p.draft,
        "createdAt": iso(p.created),
        "updatedAt": iso(p.updated),
        "author": {"login": login(p.author)},
        "headRefName": p.branch,
        "baseRefName": "main",
        "headRefOid": data::sha(p.repo, p.branch),
        "additions": additions,
        "deletions": deletions,
        "changedFiles": changed,
        "mergeStateStatus": merge.state.to_ascii_uppercase(),
        "reviewDecision": review_decision(p, t),
        "labels": {"nodes": labels},
        "latestReviews": {"nodes": latest_reviews(p, t)},
        "statusCheckRollup": rollup(acts, now, p)
    })
}

/// GitHub's `reviewDecision`: the latest opinion per reviewer (as `mergeable_state` reads it),
/// else `REVIEW_REQUIRED` where the base branch needs an approval, else null.
fn review_decision(p: &PrSpec, t: f64) -> Option<&'static str> {
    data::review_decision(p, t)
        .or_else(|| data::requires_review(p.repo).then_some("REVIEW_REQUIRED"))
}

/// The latest review of each reviewer, in the order they were submitted.
fn latest_reviews(p: &PrSpec, t: f64) -> Vec<Value> {
    let all = data::reviews(p, t);
    all.iter()
        .enumerate()
        .filter(|(i, r)| !all[i + 1..].iter().any(|later| later.user == r.user))
        .take(REVIEWS_FIRST)
        .map(|(_, r)| {
            json!({
                "author": {"login": login(r.user)},
                "state": r.state,
                "submittedAt": iso(r.at)
            })
        })
        .collect()
}

/// `statusCheckRollup` of `p`'s head: its check runs (REST check-runs, latest) then its commit
/// statuses (REST combined status); null when it has neither.
fn rollup(acts: &Actions, now: &Now, p: &PrSpec) -> Value {
    let checks = pr_checks(acts, now, p);
    let statuses = data::statuses(p.repo, p.branch, now.t);
    if checks.is_empty() && statuses.is_empty() {
        return Value::Null;
    }
    let (mut error, mut failure, mut pending) = (false, false, false);
    let mut contexts = Vec::new();
    for HeadCheck {
        name,
        status,
        conclusion,
        details_url,
    } in checks
    {
        match (status, conclusion) {
            ("completed", Some(c)) => failure |= failing_conclusion(c),
            _ => pending = true,
        }
        contexts.push(json!({
            "__typename": "CheckRun",
            "name": name,
            "status": status.to_ascii_uppercase(),
            "conclusion": conclusion.map(str::to_ascii_uppercase),
            "detailsUrl": details_url
        }));
    }
    for (spec, state, _, _) in statuses {
        error |= state == "error";
        failure |= state == "failure";
        pending |= state == "pending";
        contexts.push(json!({
            "__typename": "StatusContext",
            "context": spec.context,
            "state": state.to_ascii_uppercase(),
            "targetUrl": spec.target_url
        }));
    }
    // The worst wins.
    let state = if error {
        "ERROR"
    } else if failure {
        "FAILURE"
    } else if pending {
        "PENDING"
    } else {
        "SUCCESS"
    };
    contexts.truncate(CONTEXTS_FIRST);
    json!({"state": state, "contexts": {"nodes": contexts}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let p = data::PRS.iter().find(|p| p.number == 418).expect("#418");
        let c = cursor(p);
        assert!(!c.contains("418"), "opaque: {c}");
        assert_eq!(decode_cursor(&c), Some(key(p)));
        for bad in ["", "cursor:3", "Y3Vyc29yOnYyOg==", "!!!!", "abc"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn locations_are_one_based() {
        let q = "query Q($owner: String!) {\n  repository(owner: $owner) { id }\n}";
        assert_eq!(locate(q, "$owner:"), json!([{"line": 1, "column": 9}]));
        assert_eq!(locate(q, "repository("), json!([{"line": 2, "column": 3}]));
        assert_eq!(locate(q, "nothing"), json!([]));
    }
}
