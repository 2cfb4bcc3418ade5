//! Simulated GitHub GraphQL API: `POST /graphql` answers the PR list query of
//! `src/sources/github/pulls.graphql` and the by-id query of `pulls_by_id.graphql` (and nothing
//! else: the query text is only checked for `nodes(ids:` then `pullRequests`, never parsed).
//! Every field comes from the computations behind the REST side, so a pull request's node says
//! what `GET /pulls/{n}`, its reviews, the head's check runs and its combined status say at the
//! same moment.
//!
//! The list honours `$states` (null or absent: every state). The story never closes or merges a
//! pull request (`github_data` has open ones only), so every node is `OPEN` and a list without
//! `OPEN` in its states is empty. A node's `id` is opaque like GitHub's:
//! `"PR_" + base64("PullRequest:<owner>/<name>#<number>")`, resolved by `nodes(ids:)` while that
//! pull request exists.
//!
//! Nodes are ordered by `updatedAt` descending (then number); a cursor is
//! `base64("cursor:v2:<updated ms>:<number>")` of a node and `after` it means every node behind it
//! in that order, so pages stay exact while new pull requests appear at the top.
//!
//! Errors as GitHub sends them: `200` with `errors` (unknown repository with `repository: null`,
//! bad variables or too many records with no `data`, a bad cursor), `400 Problems parsing JSON`
//! for a body that is not a JSON object with a `query`. A query costs one point of GraphQL's own
//! rate-limit window (the `graphql` resource), apart from REST's `core`.

use std::collections::HashMap;
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
/// The most node ids one `nodes(ids:)` may ask for.
const MAX_IDS: usize = 100;
/// What the demo's GraphQL endpoint answers to anything but the PR list and PRs by id.
pub const ONLY_PULLS: &str = "flightdeck's demo world answers only the PR list query";
const CURSOR_PREFIX: &str = "cursor:v2:";
const ID_PREFIX: &str = "PR_";
const ID_TYPE: &str = "PullRequest:";
/// Every `PullRequestState`.
const STATES: [&str; 3] = ["OPEN", "CLOSED", "MERGED"];
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
    let empty = Map::new();
    let vars = match request.get("variables") {
        Some(Value::Object(m)) => m,
        _ => &empty,
    };
    if query.contains("nodes(ids:") {
        return by_id(s, query, vars);
    }
    if !query.contains("pullRequests") {
        return (StatusCode::OK, json!({"errors": [{"message": ONLY_PULLS}]}));
    }
    let mut errors = Vec::new();
    let states = states_var(query, vars, &mut errors);
    // One block per `repository(` field: the plain query has one, a batch one per alias.
    let mut asked = Vec::new();
    for b in blocks(query) {
        let owner = string_var(query, vars, b.owner, true, &mut errors);
        let name = string_var(query, vars, b.name, true, &mut errors);
        let first = int_var(query, vars, b.first, &mut errors);
        let after = match b.after {
            Some(var) => string_var(query, vars, var, false, &mut errors),
            None => None,
        };
        if let (Some(owner), Some(name), Some(first)) = (owner, name, first) {
            asked.push((b.key, owner, name, first, after));
        }
    }
    if !errors.is_empty() || asked.is_empty() {
        return (StatusCode::OK, json!({"errors": errors}));
    }
    for &(_, _, _, first, _) in &asked {
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
    }
    let full = query.contains("...PullRequestFields");
    // GitHub's cost: each connection's requests (its parents' page sizes), over 100, rounded.
    let requests: i64 = asked
        .iter()
        .map(|&(_, _, _, first, _)| 1 + if full { first * NESTED_CONNECTIONS } else { 0 })
        .sum();
    let rate_limit = match spend(s, cost_of(requests)) {
        Ok(rate_limit) => rate_limit,
        Err(limited) => return limited,
    };
    let mut data = Map::new();
    data.insert("rateLimit".into(), rate_limit);
    for (key, owner, name, first, after) in asked {
        let Some(repo) = known(s, owner, name) else {
            errors.push(json!({
                "type": "NOT_FOUND",
                "path": [key],
                "locations": locate(query, "repository("),
                "message": format!("Could not resolve to a Repository with the name '{owner}/{name}'.")
            }));
            data.insert(key, Value::Null);
            continue;
        };
        let after = match after.map(|c| (c, decode_cursor(c))) {
            None => None,
            Some((_, Some(k))) => Some(k),
            Some((c, None)) => {
                errors.push(json!({
                    "type": "INVALID_CURSOR_ARGUMENTS",
                    "path": [key, "pullRequests"],
                    "locations": locate(query, "pullRequests("),
                    "message": format!("`{c}` does not appear to be a valid cursor.")
                }));
                data.insert(key, Value::Null);
                continue;
            }
        };
        let open = states.as_ref().is_none_or(|st| st.contains(&"OPEN"));
        let first = usize::try_from(first).unwrap_or(0);
        let connection = pull_requests(s, repo, first, after, open, full);
        data.insert(key, json!({"pullRequests": connection}));
    }
    let mut answer = json!({ "data": data });
    if !errors.is_empty() {
        answer["errors"] = Value::from(errors);
    }
    (StatusCode::OK, answer)
}

/// The connections nested under each pull request of the full selection (labels, latest
/// reviews, the rollup's contexts): each costs one request per pull request of the page.
const NESTED_CONNECTIONS: i64 = 3;

/// Points of a query that needs `requests` requests: over 100, rounded, at least 1.
fn cost_of(requests: i64) -> u64 {
    u64::try_from(((requests as f64) / 100.0).round() as i64)
        .unwrap_or(1)
        .max(1)
}

/// One `repository(...)` field of a query: the key its answer goes under (its alias, or
/// `repository`) and the names of the variables it reads.
struct Block<'q> {
    key: String,
    owner: &'q str,
    name: &'q str,
    first: &'q str,
    after: Option<&'q str>,
}

/// The `repository(owner: $o, name: $n) { pullRequests(... first: $f, after: $a ...` fields of
/// a query, in order. Only the shapes the client sends are understood.
fn blocks(query: &str) -> Vec<Block<'_>> {
    let starts: Vec<usize> = query.match_indices("repository(").map(|(i, _)| i).collect();
    let mut out = Vec::new();
    for (n, &at) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(query.len());
        let text = &query[at..end];
        let line = &query[query[..at].rfind('\n').map_or(0, |i| i + 1)..at];
        let key = line
            .trim()
            .strip_suffix(':')
            .map(str::trim)
            .filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or("repository")
            .to_string();
        let var = |arg: &str| -> Option<&str> {
            let rest = &text[text.find(&format!("{arg}: $"))? + arg.len() + 3..];
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            Some(&rest[..len])
        };
        out.push(Block {
            key,
            owner: var("owner").unwrap_or("owner"),
            name: var("name").unwrap_or("name"),
            first: var("first").unwrap_or("first"),
            after: var("after"),
        });
    }
    out
}

/// Spends the query's points: its `rateLimit`, or GitHub's answer once the window is spent.
fn spend(s: &Shared, cost: u64) -> Result<Value, (StatusCode, Value)> {
    let mut rate = window(s);
    if rate.used + cost > POINTS {
        let message = format!(
            "API rate limit already exceeded for user ID {}.",
            operator_id()
        );
        return Err((
            StatusCode::OK,
            json!({"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": message}]}),
        ));
    }
    rate.used += cost;
    Ok(json!({
        "cost": cost,
        "limit": POINTS,
        "remaining": POINTS.saturating_sub(rate.used),
        "resetAt": iso_unix(rate.reset)
    }))
}

/// `nodes(ids: $ids)`: a node or null per id, in order, with a `NOT_FOUND` error per null.
fn by_id(s: &Shared, query: &str, vars: &Map<String, Value>) -> (StatusCode, Value) {
    let mut errors = Vec::new();
    let Some(ids) = ids_var(query, vars, &mut errors) else {
        return (StatusCode::OK, json!({"errors": errors}));
    };
    if ids.len() > MAX_IDS {
        let message = format!(
            "You may not provide more than {MAX_IDS} node ids; you provided {}.",
            ids.len()
        );
        return (
            StatusCode::OK,
            json!({"errors": [{
                "type": "EXCESSIVE_PAGINATION",
                "path": ["nodes"],
                "locations": locate(query, "nodes(ids:"),
                "message": message
            }]}),
        );
    }
    let requests = i64::try_from(ids.len()).unwrap_or(i64::MAX) * NESTED_CONNECTIONS;
    let rate_limit = match spend(s, cost_of(requests)) {
        Ok(rate_limit) => rate_limit,
        Err(limited) => return limited,
    };
    let now = now(s);
    let acts = actions(s);
    let mut open: HashMap<&'static str, Vec<&'static PrSpec>> = HashMap::new();
    let mut nodes = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match resolve(s, &now, id, &mut open) {
            Some(p) => {
                let mut n = node(&acts, &now, p);
                if let Value::Object(m) = &mut n {
                    m.insert("__typename".into(), json!("PullRequest"));
                }
                nodes.push(n);
            }
            None => {
                nodes.push(Value::Null);
                errors.push(json!({
                    "type": "NOT_FOUND",
                    "path": ["nodes", i],
                    "locations": locate(query, "nodes(ids:"),
                    "message": format!("Could not resolve to a node with the global id of '{id}'")
                }));
            }
        }
    }
    let mut answer = json!({"data": {"rateLimit": rate_limit, "nodes": nodes}});
    if !errors.is_empty() {
        answer["errors"] = Value::from(errors);
    }
    (StatusCode::OK, answer)
}

/// The pull request `id` names, if it exists now (`open` caches each repository's list).
fn resolve(
    s: &Shared,
    now: &Now,
    id: &str,
    open: &mut HashMap<&'static str, Vec<&'static PrSpec>>,
) -> Option<&'static PrSpec> {
    let (repo, number) = decode_node_id(id)?;
    let repo = s.scale.repos().iter().copied().find(|r| *r == repo)?;
    let prs = open
        .entry(repo)
        .or_insert_with(|| data::open_prs(s.scale, repo, now.t));
    // Only the canonical spelling resolves (no `+415`, no other padding).
    prs.iter()
        .copied()
        .find(|p| p.number == number && node_id(p) == id)
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

/// `$states: [PullRequestState!]`: `None` when null or absent (every state) or invalid; a
/// single value stands for a list of one, as GraphQL coerces it.
fn states_var<'a>(
    query: &str,
    vars: &'a Map<String, Value>,
    errors: &mut Vec<Value>,
) -> Option<Vec<&'a str>> {
    const TY: &str = "[PullRequestState!]";
    let value = vars.get("states")?;
    let items: Vec<&Value> = match value {
        Value::Null => return None,
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let mut states = Vec::with_capacity(items.len());
    for item in items {
        match item.as_str() {
            Some(st) if STATES.contains(&st) => states.push(st),
            _ => {
                let explanation = if item.is_null() {
                    "Expected value to not be null".to_string()
                } else {
                    format!("Expected {item} to be one of: CLOSED, MERGED, OPEN")
                };
                errors.push(variable_error(query, "states", TY, value, &explanation));
                return None;
            }
        }
    }
    Some(states)
}

/// `$ids: [ID!]!`: `None` (with an error) when null, absent or not ids; a single id stands for
/// a list of one. Integers are ids too, as GraphQL's `ID` takes them.
fn ids_var(query: &str, vars: &Map<String, Value>, errors: &mut Vec<Value>) -> Option<Vec<String>> {
    const TY: &str = "[ID!]!";
    let value = vars.get("ids").unwrap_or(&Value::Null);
    let items: Vec<&Value> = match value {
        Value::Null => {
            let explanation = "Expected value to not be null";
            errors.push(variable_error(query, "ids", TY, value, explanation));
            return None;
        }
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(id) => ids.push(id.clone()),
            Value::Number(n) if n.is_i64() || n.is_u64() => ids.push(n.to_string()),
            _ => {
                let explanation = if item.is_null() {
                    "Expected value to not be null".to_string()
                } else {
                    format!("Could not coerce value {item} to ID")
                };
                errors.push(variable_error(query, "ids", TY, value, &explanation));
                return None;
            }
        }
    }
    Some(ids)
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

/// `p`'s global node id: opaque, stable, and decodable back to its repository and number.
pub(super) fn node_id(p: &PrSpec) -> String {
    let text = format!("{ID_TYPE}{}#{}", p.repo, p.number);
    format!("{ID_PREFIX}{}", base64_encode(text.as_bytes()))
}

/// (repository, number) of a [`node_id`]; `None` for anything it would not produce.
fn decode_node_id(id: &str) -> Option<(String, u64)> {
    let text = String::from_utf8(base64_decode(id.strip_prefix(ID_PREFIX)?)?).ok()?;
    let (repo, number) = text.strip_prefix(ID_TYPE)?.rsplit_once('#')?;
    Some((repo.to_string(), number.parse().ok()?))
}

/// `p`'s `state` now. The story never closes or merges a pull request: every one that exists is
/// open.
fn state(_p: &PrSpec) -> &'static str {
    "OPEN"
}

/// Whether `p` comes after the node whose key is `after` (updated descending, then number).
fn behind(p: &PrSpec, after: (i64, u64)) -> bool {
    let (updated, number) = key(p);
    updated < after.0 || (updated == after.0 && number < after.1)
}

/// The `pullRequests` connection of `repo` now: up to `first` pull requests after `after`, the
/// open ones when `open` (the states asked include `OPEN`). None is ever closed or merged, so
/// the other states add nothing.
fn pull_requests(
    s: &Shared,
    repo: &str,
    first: usize,
    after: Option<(i64, u64)>,
    open: bool,
    full: bool,
) -> Value {
    let now = now(s);
    let mut prs = if open {
        data::open_prs(s.scale, repo, now.t)
    } else {
        Vec::new()
    };
    data::sort_by_updated(&mut prs);
    let total = prs.len();
    let start = after.map_or(0, |a| {
        prs.iter().position(|p| behind(p, a)).unwrap_or(prs.len())
    });
    let page: Vec<&PrSpec> = prs.iter().skip(start).take(first).copied().collect();
    let acts = actions(s);
    let nodes: Vec<Value> = page
        .iter()
        .map(|p| if full { node(&acts, &now, p) } else { stamp(p) })
        .collect();
    json!({
        "totalCount": total,
        "pageInfo": {
            "hasNextPage": start + page.len() < total,
            "endCursor": page.last().map(|p| cursor(p))
        },
        "nodes": nodes
    })
}

/// The few fields of a pull request that say whether it changed (the client's change probe).
fn stamp(p: &PrSpec) -> Value {
    json!({
        "id": node_id(p),
        "number": p.number,
        "state": state(p),
        "updatedAt": iso(p.updated),
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
        "id": node_id(p),
        "state": state(p),
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
    fn node_ids_round_trip_and_reject_garbage() {
        let p = data::PRS.iter().find(|p| p.number == 418).expect("#418");
        let id = node_id(p);
        assert!(id.starts_with("PR_") && !id.contains("418"), "opaque: {id}");
        assert_eq!(decode_node_id(&id), Some((p.repo.to_string(), 418)));
        let b64 = |t: &str| format!("PR_{}", base64_encode(t.as_bytes()));
        for bad in [
            String::new(),
            "PR_".into(),
            base64_encode(b"PullRequest:acme/checkout#418"),
            b64("Issue:acme/checkout#418"),
            b64("PullRequest:acme/checkout"),
            b64("PullRequest:acme/checkout#x"),
            cursor(p),
        ] {
            assert_eq!(decode_node_id(&bad), None, "{bad}");
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
