//! Contract tests: the clients' public serde types and error mapping against the shared API
//! fixtures in `../shared/fixtures` (official examples and recorded responses, see its README).
//!
//! The folder lives beside the project (CI has it there). When it is absent every test says so on
//! stderr and passes; a single missing file inside a present folder is a failure (the contract
//! changed). Only `tests/llm.rs` reads these files too.
//!
//! The LLM fixtures (`llm/`) are replayed by `tests/llm.rs` through a loopback server, where the
//! client is held to them (plain answers, SSE and NDJSON streams, errors).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use flightdeck::domain::{CheckState, ChecksRollup, ReviewDecision, RunState};
use flightdeck::sources::SourceError;
use flightdeck::sources::github::{
    ApiCheckRun, ApiCheckRuns, ApiCombinedStatus, ApiFile, ApiJob, ApiJobs, ApiPending, ApiPull,
    ApiReview, ApiRun, ApiRunList, ApiStatus, classify, review_decision,
};
use flightdeck::sources::http::{Response, error_summary, next_link, parse_links};
use flightdeck::sources::prometheus::{Envelope, QueryData};
use flightdeck::sources::sentry::ApiIssue;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use time::macros::datetime;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures");

/// The fixtures folder, or `None` after saying plainly that it is absent.
fn fixtures(what: &str) -> Option<PathBuf> {
    let dir = Path::new(FIXTURES);
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        eprintln!("../shared/fixtures is absent: skipping {what}");
        None
    }
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    let path = dir.join(rel);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("fixture {} cannot be read: {e}", path.display()))
}

fn json(dir: &Path, rel: &str) -> Value {
    serde_json::from_slice(&read(dir, rel))
        .unwrap_or_else(|e| panic!("fixture {rel} is not JSON: {e}"))
}

fn parse<T: serde::de::DeserializeOwned>(dir: &Path, rel: &str) -> T {
    serde_json::from_slice(&read(dir, rel)).unwrap_or_else(|e| {
        panic!(
            "fixture {rel} does not parse as {}: {e}",
            std::any::type_name::<T>()
        )
    })
}

/// Files of `folder` (sorted names) for which `keep` holds.
fn files(dir: &Path, folder: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let path = dir.join(folder);
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{} cannot be listed: {e}", path.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| keep(n))
        .collect();
    names.sort();
    names
}

/// A `.headers.json` object (header name → value; a few recorded values are JSON numbers).
fn headers(dir: &Path, rel: &str) -> HeaderMap {
    let Value::Object(map) = json(dir, rel) else {
        panic!("{rel}: expected a JSON object of headers");
    };
    let mut h = HeaderMap::new();
    for (name, value) in map {
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|e| panic!("{rel}: header name {name:?}: {e}"));
        let value = HeaderValue::from_str(&text)
            .unwrap_or_else(|e| panic!("{rel}: header value {text:?}: {e}"));
        h.append(name, value);
    }
    h
}

fn response(status: u16, headers: HeaderMap, body: Vec<u8>) -> Response {
    Response {
        status,
        headers,
        body: Bytes::from(body),
    }
}

fn message_of(dir: &Path, rel: &str) -> String {
    json(dir, rel)["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{rel} has no string `message`"))
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// GitHub

#[test]
fn github_pull_list_parses_into_domain() {
    let Some(dir) = fixtures("the GitHub pull list contract") else {
        return;
    };
    let list: Vec<ApiPull> = parse(&dir, "github/pulls__list.json");
    assert_eq!(list.len(), 1);
    let prs: Vec<_> = list.into_iter().map(|p| p.into_domain("o/r")).collect();
    let pr = &prs[0];
    assert_eq!(pr.repo, "o/r");
    assert_eq!(pr.number, 32);
    assert_eq!(
        pr.title,
        "Creation of a pull request from an issue is not covered by integration tests"
    );
    assert_eq!(pr.author, "jacquev6");
    // A 2012 recording: no `draft`, no `labels` member.
    assert!(!pr.draft);
    assert!(pr.labels.is_empty());
    assert_eq!(pr.head_ref, "master");
    assert_eq!(pr.base_ref, "topic/RewriteWithGeneratedCode");
    assert_eq!(pr.created_at, Some(datetime!(2012-05-27 10:58:41 UTC)));
    assert_eq!(pr.updated_at, Some(datetime!(2012-05-27 10:58:41 UTC)));
    assert_eq!(pr.url, "https://github.com/PyGithub/PyGithub/pull/32");
    assert_eq!(pr.body, "");
}

#[test]
fn github_single_pull_parses_into_domain() {
    let Some(dir) = fixtures("the GitHub single pull contract") else {
        return;
    };
    let pull: ApiPull = parse(&dir, "github/pulls__get.json");
    let pr = pull.into_domain("o/r");
    assert_eq!(pr.repo, "o/r");
    assert_eq!(pr.number, 31);
    assert_eq!(pr.title, "Title edited by PyGithub");
    assert_eq!(pr.author, "jacquev6");
    assert!(!pr.draft);
    assert!(pr.labels.is_empty());
    assert_eq!(pr.head_ref, "master");
    assert_eq!(pr.base_ref, "topic/RewriteWithGeneratedCode");
    assert_eq!(pr.created_at, Some(datetime!(2012-05-27 09:25:36 UTC)));
    assert_eq!(pr.updated_at, Some(datetime!(2018-06-25 12:54:43 UTC)));
    assert_eq!(pr.url, "https://github.com/PyGithub/PyGithub/pull/31");
    // Multi-line bodies keep their line breaks.
    assert_eq!(pr.body, "Body edited by PyGithub\n");
}

#[test]
fn github_run_list_parses_into_domain() {
    let Some(dir) = fixtures("the GitHub workflow run list contract") else {
        return;
    };
    let list: ApiRunList = parse(&dir, "github/actions__list-workflow-runs-for-repo.json");
    assert_eq!(list.total_count, Some(124));
    let runs: Vec<_> = list
        .workflow_runs
        .into_iter()
        .map(|r| r.into_domain("o/r"))
        .collect();
    assert_eq!(runs.len(), 3, "INDEX.md: trimmed to the first 3 items");
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        [110_932_306, 110_932_159, 110_932_072]
    );
    assert_eq!(
        runs.iter().map(|r| r.run_number).collect::<Vec<_>>(),
        [122, 121, 120]
    );
    let r = &runs[0];
    assert_eq!(r.repo, "o/r");
    assert_eq!(r.branch, "master");
    assert_eq!(r.sha, "7abf600480089550b4224aa97004367c2fa25b38");
    assert_eq!(r.event, "push");
    assert_eq!(r.state, RunState::Success);
    // A 2020 recording: no `name`, `path`, `display_title`, `run_attempt`, `run_started_at` or
    // `actor`; the documented fallbacks apply.
    assert_eq!(r.workflow, "workflow");
    assert_eq!(r.title, "");
    assert_eq!(r.actor, "");
    assert_eq!(r.attempt, 1);
    assert_eq!(r.started_at, Some(datetime!(2020-05-20 23:59:37 UTC)));
    assert_eq!(r.updated_at, Some(datetime!(2020-05-21 00:02:14 UTC)));
    assert_eq!(
        r.url,
        "https://github.com/PyGithub/PyGithub/actions/runs/110932306"
    );
    assert!(runs.iter().all(|r| r.state == RunState::Success));
}

#[test]
fn github_single_runs_parse_into_domain() {
    let Some(dir) = fixtures("the GitHub single workflow run contract") else {
        return;
    };
    let done: ApiRun = parse(&dir, "github/actions__get-workflow-run.json");
    let r = done.into_domain("PyGithub/PyGithub");
    assert_eq!(r.id, 3_881_497_935);
    assert_eq!(r.run_number, 930);
    assert_eq!(r.workflow, "CI");
    assert_eq!(r.title, "TEST PR");
    assert_eq!(r.branch, "feat/workflow-run");
    assert_eq!(r.sha, "c6e5cac67a58a4eb11f1f28567a77a6e2cc8ee98");
    assert_eq!(r.event, "pull_request");
    assert_eq!(r.actor, "nuang-ee");
    assert_eq!(r.attempt, 1);
    // INDEX.md calls this a "completed/failure run"; the payload says conclusion "success".
    assert_eq!(r.state, RunState::Success);
    assert_eq!(r.started_at, Some(datetime!(2023-01-10 08:24:19 UTC)));
    assert_eq!(r.updated_at, Some(datetime!(2023-01-10 08:28:20 UTC)));
    assert_eq!(
        r.url,
        "https://github.com/PyGithub/PyGithub/actions/runs/3881497935"
    );

    let running: ApiRun = parse(&dir, "github/actions__get-workflow-run.before-cancel.json");
    let r = running.into_domain("PyGithub/PyGithub");
    assert_eq!(r.id, 3_911_660_493);
    assert_eq!(r.run_number, 934);
    assert_eq!(r.workflow, "CI");
    assert_eq!(r.state, RunState::InProgress);
    assert_eq!(r.state.label(), "running");
    assert_eq!(r.sha, "f8de1574818fccb40aa2a4d89a5c423a44753258");
    assert_eq!(r.started_at, Some(datetime!(2023-01-13 13:19:24 UTC)));
    assert_eq!(r.updated_at, Some(datetime!(2023-01-13 13:19:37 UTC)));
}

/// Error bodies: `error.<status>-<kind>.json` and the per-operation `<op>.<4xx>.json` ones.
fn github_error_bodies(dir: &Path) -> Vec<(u16, String)> {
    let is_status = |s: &str| s.len() == 3 && s.starts_with('4') && s.parse::<u16>().is_ok();
    let names = files(dir, "github", |n| {
        if n.ends_with(".headers.json") || n.ends_with(".request.json") || !n.ends_with(".json") {
            return false;
        }
        let stem = n.trim_end_matches(".json");
        stem.starts_with("error.") || stem.rsplit('.').next().is_some_and(is_status)
    });
    names
        .into_iter()
        .map(|n| {
            let stem = n.trim_end_matches(".json");
            let status = if let Some(rest) = stem.strip_prefix("error.") {
                rest.get(..3).and_then(|s| s.parse().ok())
            } else {
                stem.rsplit('.').next().and_then(|s| s.parse().ok())
            }
            .unwrap_or_else(|| panic!("{n}: no status in the name"));
            (status, n)
        })
        .collect()
}

#[test]
fn github_error_bodies_summarised_to_their_message() {
    let Some(dir) = fixtures("the GitHub error body contract") else {
        return;
    };
    let bodies = github_error_bodies(&dir);
    let names: Vec<&str> = bodies.iter().map(|(_, n)| n.as_str()).collect();
    for expected in [
        "error.401-bad-credentials.json",
        "error.403-rate-limit-exceeded.json",
        "error.404-not-found.json",
        "error.422-validation-failed.json",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for (status, name) in &bodies {
        let rel = format!("github/{name}");
        let message = message_of(&dir, &rel);
        let summary = error_summary(&read(&dir, &rel));
        assert!(!summary.is_empty(), "{name}: empty summary");
        assert_eq!(summary, message, "{name} (HTTP {status})");
    }
}

#[test]
fn github_401_is_an_auth_error_naming_gh_token() {
    let Some(dir) = fixtures("the GitHub 401 contract") else {
        return;
    };
    let resp = response(
        401,
        HeaderMap::new(),
        read(&dir, "github/error.401-bad-credentials.json"),
    );
    let err = classify(&resp, 1_368_793_436);
    let SourceError::Auth { status, hint } = &err else {
        panic!("expected Auth, got {err:?}");
    };
    assert_eq!(*status, 401);
    assert!(hint.starts_with("Bad credentials"), "{hint}");
    let text = err.to_string();
    assert!(text.contains("GH_TOKEN"), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert_eq!(err.retry_after(), None);
}

#[test]
fn github_403_rate_limit_waits_for_the_reset() {
    let Some(dir) = fixtures("the GitHub 403 rate-limit contract") else {
        return;
    };
    let body = read(&dir, "github/error.403-rate-limit-exceeded.json");
    let recorded = headers(&dir, "github/error.403-rate-limit-exceeded.headers.json");
    assert_eq!(
        recorded
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    // "Fri, 17 May 2013 12:23:56 GMT", the recording's Date.
    let now = 1_368_793_436;

    // The recording has no x-ratelimit-reset: the client falls back to one minute.
    let err = classify(&response(403, recorded.clone(), body.clone()), now);
    assert_eq!(
        err,
        SourceError::RateLimited {
            retry_after_secs: 60
        }
    );

    // With the reset GitHub sends today, the wait is reset - now.
    let mut with_reset = recorded.clone();
    with_reset.insert(
        "x-ratelimit-reset",
        HeaderValue::from_str(&(now + 1_234).to_string()).unwrap(),
    );
    let err = classify(&response(403, with_reset.clone(), body.clone()), now);
    assert_eq!(
        err,
        SourceError::RateLimited {
            retry_after_secs: 1_234
        }
    );
    assert_eq!(
        err.retry_after(),
        Some(std::time::Duration::from_secs(1_234))
    );
    assert!(err.to_string().contains("1234 s"), "{err}");

    // A reset already past still waits at least a second.
    let err = classify(&response(403, with_reset, body.clone()), now + 5_000);
    assert_eq!(
        err,
        SourceError::RateLimited {
            retry_after_secs: 1
        }
    );

    // Retry-After (secondary limits) wins over the reset.
    let mut retry = recorded;
    retry.insert("retry-after", HeaderValue::from_static("42"));
    let err = classify(&response(403, retry, body), now);
    assert_eq!(
        err,
        SourceError::RateLimited {
            retry_after_secs: 42
        }
    );
}

/// GitHub's secondary limits are their own error (not the hour's budget): `Retry-After` when
/// given, else at least a minute, as GitHub's docs ask; a 403 that names the permission the
/// token lacks (`X-Accepted-GitHub-Permissions`) says so.
#[test]
fn github_secondary_limits_and_missing_permissions_say_what_happened() {
    let body = br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#.to_vec();
    let now = 1_700_000_000;
    let err = classify(&response(403, HeaderMap::new(), body.clone()), now);
    assert_eq!(
        err,
        SourceError::SecondaryLimit {
            retry_after_secs: 60
        }
    );
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("17"));
    let err = classify(&response(429, h, body), now);
    assert_eq!(
        err,
        SourceError::SecondaryLimit {
            retry_after_secs: 17
        }
    );
    assert!(err.stops_the_poll());
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(17)));
    let shown = flightdeck::app::state::describe_error(&err, time::OffsetDateTime::UNIX_EPOCH);
    assert!(shown.contains("secondary rate limit"), "{shown}");

    let mut h = HeaderMap::new();
    h.insert(
        "x-accepted-github-permissions",
        HeaderValue::from_static("actions=write"),
    );
    let err = classify(
        &response(
            403,
            h,
            br#"{"message":"Resource not accessible by personal access token"}"#.to_vec(),
        ),
        now,
    );
    assert_eq!(
        err,
        SourceError::Status {
            status: 403,
            message: "Resource not accessible by personal access token (the token needs the permission actions=write)".into()
        }
    );
}

#[test]
fn github_other_errors_are_status_errors_with_the_message() {
    let Some(dir) = fixtures("the GitHub 403/404/422 contract") else {
        return;
    };
    let now = 1_507_651_200;
    for (status, name) in github_error_bodies(&dir) {
        if status == 401 || name.contains("rate-limit") {
            continue;
        }
        let rel = format!("github/{name}");
        let header_file = rel.replace(".json", ".headers.json");
        let h = if dir.join(&header_file).is_file() {
            headers(&dir, &header_file)
        } else {
            HeaderMap::new()
        };
        let err = classify(&response(status, h, read(&dir, &rel)), now);
        let message = message_of(&dir, &rel);
        assert_eq!(
            err,
            SourceError::Status {
                status,
                message: message.clone()
            },
            "{name}"
        );
        assert_eq!(err.to_string(), format!("HTTP {status}: {message}"));
        assert_eq!(err.retry_after(), None, "{name}");
    }
    // Concrete spot checks.
    let nf = classify(
        &response(
            404,
            HeaderMap::new(),
            read(&dir, "github/error.404-not-found.json"),
        ),
        now,
    );
    assert_eq!(nf.to_string(), "HTTP 404: Not Found");
    let invalid = classify(
        &response(
            422,
            headers(&dir, "github/error.422-validation-failed.headers.json"),
            read(&dir, "github/error.422-validation-failed.json"),
        ),
        now,
    );
    assert_eq!(invalid.to_string(), "HTTP 422: Validation Failed");
    let admin = classify(
        &response(
            403,
            HeaderMap::new(),
            read(&dir, "github/actions__cancel-workflow-run.403.json"),
        ),
        now,
    );
    assert_eq!(
        admin.to_string(),
        "HTTP 403: Must have admin rights to Repository."
    );
}

#[test]
fn github_link_headers_parse() {
    let Some(dir) = fixtures("the GitHub Link header contract") else {
        return;
    };
    let mut with_links = Vec::new();
    for name in files(&dir, "github", |n| n.ends_with(".headers.json")) {
        let rel = format!("github/{name}");
        let h = headers(&dir, &rel);
        // HeaderMap names are case-insensitive: "Link" and "link" recordings both land here.
        let Some(raw) = h.get("link").and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let links = parse_links(raw);
        assert!(!links.is_empty(), "{name}: no links in {raw:?}");
        for l in &links {
            assert!(
                l.url.starts_with("https://api.github.com/"),
                "{name}: {l:?}"
            );
            assert!(
                ["next", "last", "prev", "first"].contains(&l.rel.as_str()),
                "{name}: {l:?}"
            );
            assert_eq!(l.results, None, "{name}: GitHub links carry no `results`");
        }
        let next = links
            .iter()
            .find(|l| l.rel == "next")
            .map(|l| l.url.clone());
        assert!(next.is_some(), "{name}: no rel=next");
        assert!(links.iter().any(|l| l.rel == "last"), "{name}: no rel=last");
        assert_eq!(next_link(&h), next, "{name}");
        with_links.push((name, links));
    }
    let names: Vec<&str> = with_links.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "checks__list-for-ref.per_page-1.headers.json",
            "issues__list-for-repo.page-2.headers.json"
        ]
    );

    let checks = &with_links[0].1;
    let rels: Vec<&str> = checks.iter().map(|l| l.rel.as_str()).collect();
    assert_eq!(rels, ["next", "last"]);
    assert!(checks[0].url.ends_with("check-runs?per_page=1&page=2"));
    assert!(checks[1].url.ends_with("check-runs?per_page=1&page=4"));

    let issues = &with_links[1].1;
    let rels: Vec<&str> = issues.iter().map(|l| l.rel.as_str()).collect();
    assert_eq!(rels, ["prev", "next", "last", "first"]);
    assert_eq!(
        issues[1].url,
        "https://api.github.com/repositories/1000/issues?per_page=3&page=3"
    );
    assert_eq!(
        issues[2].url,
        "https://api.github.com/repositories/1000/issues?per_page=3&page=5"
    );
}

// ---------------------------------------------------------------------------------------------
// GitHub: the per-PR, per-run and action payloads

#[test]
fn github_single_pull_carries_size_and_mergeability() {
    let Some(dir) = fixtures("the GitHub single pull size/mergeability contract") else {
        return;
    };
    let pull: ApiPull = parse(&dir, "github/pulls__get.json");
    assert_eq!(pull.mergeable_state.as_deref(), Some("dirty"));
    let pr = pull.into_domain("PyGithub/PyGithub");
    assert_eq!(pr.mergeable.as_deref(), Some("dirty"));
    assert_eq!(pr.additions, Some(511));
    assert_eq!(pr.deletions, Some(384));
    assert_eq!(pr.changed_files, Some(45));
    // The per-PR requests fill these; `into_domain` leaves them empty.
    assert_eq!(pr.checks, None);
    assert!(pr.check_list.is_empty());
    assert_eq!(pr.review, None);
    assert!(pr.reviews.is_empty());

    // The list answer has none of the four members: they stay unknown, not zero.
    let list: Vec<ApiPull> = parse(&dir, "github/pulls__list.json");
    let pr = list.into_iter().next().unwrap().into_domain("o/r");
    assert_eq!(pr.mergeable, None);
    assert_eq!(
        (pr.additions, pr.deletions, pr.changed_files),
        (None, None, None)
    );
}

fn reviews(items: &[Value]) -> Vec<ApiReview> {
    serde_json::from_value(Value::Array(items.to_vec())).expect("reviews parse")
}

/// `base` with its `state` and `submitted_at` replaced (and, when given, its user's login).
fn review_like(base: &Value, login: Option<&str>, state: &str, at: &str) -> Value {
    let mut v = base.clone();
    v["state"] = Value::from(state);
    v["submitted_at"] = Value::from(at);
    if let Some(login) = login {
        v["user"]["login"] = Value::from(login);
    }
    v
}

/// (reviewer, state) of each entry of the per-reviewer list.
fn verdicts(list: &[flightdeck::domain::Review]) -> Vec<(&str, &str)> {
    list.iter()
        .map(|r| (r.reviewer.as_str(), r.state.as_str()))
        .collect()
}

#[test]
fn github_reviews_give_the_decision_of_the_latest_review_per_reviewer() {
    let Some(dir) = fixtures("the GitHub review list contract") else {
        return;
    };
    let raw = json(&dir, "github/pulls__list-reviews.json");
    let items = raw.as_array().expect("a JSON array").clone();
    assert_eq!(items.len(), 5);

    let parsed: Vec<ApiReview> = parse(&dir, "github/pulls__list-reviews.json");
    let who: Vec<Option<&str>> = parsed
        .iter()
        .map(|r| r.user.as_ref().and_then(|u| u.login.as_deref()))
        .collect();
    assert_eq!(
        who,
        [
            Some("jzelinskie"),
            Some("electrofelix"),
            Some("sfdye"),
            Some("sfdye"),
            Some("sfdye")
        ]
    );
    let states: Vec<&str> = parsed.iter().filter_map(|r| r.state.as_deref()).collect();
    assert_eq!(
        states,
        [
            "APPROVED",
            "COMMENTED",
            "COMMENTED",
            "COMMENTED",
            "COMMENTED"
        ]
    );

    // The fixture as recorded: one approval and comments only, so "approved".
    let (decision, list) = review_decision(&parsed);
    assert_eq!(decision, ReviewDecision::Approved);
    assert_eq!(decision.label(), "approved");
    assert_eq!(
        verdicts(&list),
        [
            ("electrofelix", "COMMENTED"),
            ("jzelinskie", "APPROVED"),
            ("sfdye", "COMMENTED")
        ]
    );
    assert_eq!(
        list[1].submitted_at,
        Some(datetime!(2017-03-22 19:06:59 UTC))
    );
    assert_eq!(
        list[0].submitted_at,
        Some(datetime!(2018-03-16 14:23:47 UTC))
    );

    let approval = &items[0];
    let comments = &items[1..];

    // A request for changes, then a later approval by the same login: the approval wins.
    let mut seq = vec![review_like(
        approval,
        None,
        "CHANGES_REQUESTED",
        "2017-03-21T10:00:00Z",
    )];
    seq.extend_from_slice(comments);
    seq.push(review_like(
        approval,
        None,
        "APPROVED",
        "2018-03-21T10:00:00Z",
    ));
    let (decision, list) = review_decision(&reviews(&seq));
    assert_eq!(decision, ReviewDecision::Approved);
    let jz = list.iter().find(|r| r.reviewer == "jzelinskie").unwrap();
    assert_eq!(jz.state, "APPROVED");
    assert_eq!(jz.submitted_at, Some(datetime!(2018-03-21 10:00:00 UTC)));

    // The other way round: the later request for changes wins.
    let seq = [
        approval.clone(),
        review_like(approval, None, "CHANGES_REQUESTED", "2018-03-21T10:00:00Z"),
    ];
    let (decision, list) = review_decision(&reviews(&seq));
    assert_eq!(decision, ReviewDecision::ChangesRequested);
    assert_eq!(decision.label(), "changes");
    assert_eq!(verdicts(&list), [("jzelinskie", "CHANGES_REQUESTED")]);

    // A later comment does not override a verdict (approval or request for changes).
    for verdict in ["APPROVED", "CHANGES_REQUESTED"] {
        let seq = [
            review_like(approval, None, verdict, "2017-03-22T19:06:59Z"),
            review_like(approval, None, "COMMENTED", "2018-03-21T10:00:00Z"),
        ];
        let (decision, list) = review_decision(&reviews(&seq));
        let expected = if verdict == "APPROVED" {
            ReviewDecision::Approved
        } else {
            ReviewDecision::ChangesRequested
        };
        assert_eq!(decision, expected, "{verdict} then COMMENTED");
        assert_eq!(verdicts(&list), [("jzelinskie", verdict)]);
        assert_eq!(
            list[0].submitted_at,
            Some(datetime!(2017-03-22 19:06:59 UTC)),
            "the verdict's time, not the comment's"
        );
    }

    // One reviewer's request for changes outweighs another's approval.
    let mut seq = items.clone();
    seq[4]["state"] = Value::from("CHANGES_REQUESTED");
    let (decision, list) = review_decision(&reviews(&seq));
    assert_eq!(decision, ReviewDecision::ChangesRequested);
    assert_eq!(
        verdicts(&list),
        [
            ("electrofelix", "COMMENTED"),
            ("jzelinskie", "APPROVED"),
            ("sfdye", "CHANGES_REQUESTED")
        ]
    );

    // Dismissed: GitHub rewrites the dismissed review's state. The approval no longer counts; the
    // comments of the others leave "commented".
    let mut seq = items.clone();
    seq[0]["state"] = Value::from("DISMISSED");
    let (decision, list) = review_decision(&reviews(&seq));
    assert_eq!(decision, ReviewDecision::Commented);
    assert_eq!(decision.label(), "commented");
    assert_eq!(
        list.iter()
            .find(|r| r.reviewer == "jzelinskie")
            .map(|r| r.state.as_str()),
        Some("DISMISSED")
    );
    // A dismissed review alone: a review is still required.
    let (decision, list) = review_decision(&reviews(&seq[..1]));
    assert_eq!(decision, ReviewDecision::ReviewRequired);
    assert_eq!(verdicts(&list), [("jzelinskie", "DISMISSED")]);
    // A dismissed review, then a new approval: approved again.
    let seq = [
        review_like(approval, None, "DISMISSED", "2017-03-22T19:06:59Z"),
        review_like(approval, None, "APPROVED", "2018-03-21T10:00:00Z"),
    ];
    assert_eq!(review_decision(&reviews(&seq)).0, ReviewDecision::Approved);
    // A dismissed request for changes no longer blocks another reviewer's approval.
    let seq = [
        review_like(approval, Some("sfdye"), "DISMISSED", "2017-03-21T10:00:00Z"),
        approval.clone(),
    ];
    let (decision, list) = review_decision(&reviews(&seq));
    assert_eq!(decision, ReviewDecision::Approved);
    assert_eq!(
        verdicts(&list),
        [("jzelinskie", "APPROVED"), ("sfdye", "DISMISSED")]
    );

    // Comments only.
    let (decision, list) = review_decision(&reviews(comments));
    assert_eq!(decision, ReviewDecision::Commented);
    assert_eq!(
        verdicts(&list),
        [("electrofelix", "COMMENTED"), ("sfdye", "COMMENTED")]
    );

    // A pending (unsubmitted) review and an unknown state say nothing.
    let seq = [
        review_like(approval, None, "PENDING", "2018-03-21T10:00:00Z"),
        review_like(
            approval,
            Some("sfdye"),
            "SOMETHING_NEW",
            "2018-03-21T10:00:00Z",
        ),
    ];
    let (decision, list) = review_decision(&reviews(&seq));
    assert_eq!(decision, ReviewDecision::ReviewRequired);
    assert_eq!(decision.label(), "required");
    assert!(list.is_empty(), "{list:?}");

    // States are compared without regard to case.
    let seq = [review_like(
        approval,
        None,
        "approved",
        "2018-03-21T10:00:00Z",
    )];
    let (decision, list) = review_decision(&reviews(&seq));
    assert_eq!(decision, ReviewDecision::Approved);
    assert_eq!(verdicts(&list), [("jzelinskie", "APPROVED")]);

    // No reviews at all.
    let (decision, list) = review_decision(&[]);
    assert_eq!(decision, ReviewDecision::ReviewRequired);
    assert!(list.is_empty());
}

#[test]
fn github_pr_files_parse() {
    let Some(dir) = fixtures("the GitHub PR files contract") else {
        return;
    };
    let files: Vec<ApiFile> = parse(&dir, "github/pulls__list-files.json");
    assert_eq!(files.len(), 4, "INDEX.md: trimmed to the first 4 items");
    let rows: Vec<(&str, &str, u64, u64)> = files
        .iter()
        .map(|f| {
            (
                f.filename.as_deref().unwrap(),
                f.status.as_deref().unwrap(),
                f.additions.unwrap(),
                f.deletions.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("codegen/templates/GithubObject.py", "modified", 1, 1),
            ("src/github/AuthenticatedUser.py", "modified", 25, 25),
            ("src/github/Authorization.py", "modified", 9, 9),
            ("src/github/Branch.py", "modified", 2, 2),
        ]
    );
}

#[test]
fn github_check_runs_parse_into_checks_and_roll_up() {
    let Some(dir) = fixtures("the GitHub check runs contract") else {
        return;
    };
    let runs: ApiCheckRuns = parse(&dir, "github/checks__list-for-ref.json");
    let checks: Vec<_> = runs
        .check_runs
        .into_iter()
        .map(ApiCheckRun::into_domain)
        .collect();
    let rows: Vec<(&str, CheckState, &str)> = checks
        .iter()
        .map(|c| (c.name.as_str(), c.state, c.detail.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("test (Python 3.8)", CheckState::Passed, "success"),
            ("test (Python 3.7)", CheckState::Passed, "success"),
            ("test (Python 3.6)", CheckState::Failed, "failure"),
            ("test (Python 3.5)", CheckState::Passed, "success"),
        ]
    );
    assert_eq!(
        checks[2].url,
        "https://github.com/PyGithub/PyGithub/runs/1039891917"
    );
    let rollup = ChecksRollup::of(&checks);
    assert_eq!(
        rollup,
        ChecksRollup {
            failed: 1,
            pending: 0,
            passed: 3,
            skipped: 0
        }
    );
    assert_eq!(rollup.label(), "✗1 ✓3");
    assert_eq!(rollup.worst(), Some(CheckState::Failed));

    // The first page of the same list, one item per page.
    let page: ApiCheckRuns = parse(&dir, "github/checks__list-for-ref.per_page-1.json");
    let checks: Vec<_> = page
        .check_runs
        .into_iter()
        .map(ApiCheckRun::into_domain)
        .collect();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].name, "test (Python 3.8)");
    assert_eq!(checks[0].state, CheckState::Passed);
    assert_eq!(
        checks[0].url,
        "https://github.com/PyGithub/PyGithub/runs/34942661139"
    );
    let rollup = ChecksRollup::of(&checks);
    assert_eq!(rollup.label(), "✓1");
    assert_eq!(rollup.worst(), Some(CheckState::Passed));

    // Every status/conclusion pair, on the recorded object.
    let raw = json(&dir, "github/checks__list-for-ref.json");
    let base = &raw["check_runs"][0];
    let with = |status: &str, conclusion: Option<&str>| {
        let mut v = base.clone();
        v["status"] = Value::from(status);
        v["conclusion"] = conclusion.map_or(Value::Null, Value::from);
        serde_json::from_value::<ApiCheckRun>(v)
            .unwrap()
            .into_domain()
    };
    for (status, conclusion, state, detail) in [
        ("queued", None, CheckState::Pending, "queued"),
        ("in_progress", None, CheckState::Pending, "in_progress"),
        ("waiting", None, CheckState::Pending, "waiting"),
        ("completed", Some("success"), CheckState::Passed, "success"),
        ("completed", Some("failure"), CheckState::Failed, "failure"),
        (
            "completed",
            Some("timed_out"),
            CheckState::Failed,
            "timed_out",
        ),
        (
            "completed",
            Some("cancelled"),
            CheckState::Failed,
            "cancelled",
        ),
        (
            "completed",
            Some("action_required"),
            CheckState::Failed,
            "action_required",
        ),
        ("completed", Some("neutral"), CheckState::Skipped, "neutral"),
        ("completed", Some("skipped"), CheckState::Skipped, "skipped"),
        ("completed", Some("stale"), CheckState::Skipped, "stale"),
        ("completed", None, CheckState::Skipped, "completed"),
    ] {
        let c = with(status, conclusion);
        assert_eq!(c.state, state, "{status}/{conclusion:?}");
        assert_eq!(
            CheckState::from_check_run(status, conclusion),
            state,
            "{status}/{conclusion:?}"
        );
        assert_eq!(c.detail, detail, "{status}/{conclusion:?}");
    }
    let mixed = [
        with("completed", Some("failure")),
        with("in_progress", None),
        with("completed", Some("success")),
        with("completed", Some("success")),
        with("completed", Some("skipped")),
    ];
    let rollup = ChecksRollup::of(&mixed);
    assert_eq!(rollup.label(), "✗1 ●1 ✓2");
    assert_eq!(rollup.skipped, 1);
    assert_eq!(ChecksRollup::of(&mixed[4..]).label(), "–1");
    assert_eq!(ChecksRollup::of(&[]).label(), "—");
    assert_eq!(ChecksRollup::of(&[]).worst(), None);

    // Without `html_url` the check links to its `details_url`.
    let mut v = base.clone();
    v["html_url"] = Value::Null;
    v["details_url"] = Value::from("https://ci.example.com/build/7");
    let c = serde_json::from_value::<ApiCheckRun>(v)
        .unwrap()
        .into_domain();
    assert_eq!(c.url, "https://ci.example.com/build/7");
}

#[test]
fn github_combined_status_parses_into_checks() {
    let Some(dir) = fixtures("the GitHub combined status contract") else {
        return;
    };
    let combined: ApiCombinedStatus = parse(&dir, "github/repos__get-combined-status-for-ref.json");
    let checks: Vec<_> = combined
        .statuses
        .into_iter()
        .map(ApiStatus::into_domain)
        .collect();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0].name, "example/1");
    assert_eq!(checks[0].state, CheckState::Failed);
    assert_eq!(checks[0].detail, "failure: create-status failure test");
    assert_eq!(checks[0].url, "https://example.com");
    assert_eq!(checks[1].name, "example/2");
    assert_eq!(checks[1].state, CheckState::Passed);
    assert_eq!(checks[1].detail, "success: create-status success test");
    assert_eq!(checks[1].url, "https://example.com");
    assert_eq!(ChecksRollup::of(&checks).label(), "✗1 ✓1");

    let raw = json(&dir, "github/repos__get-combined-status-for-ref.json");
    let base = &raw["statuses"][0];
    let with = |state: Option<&str>, description: Option<&str>| {
        let mut v = base.clone();
        v["state"] = state.map_or(Value::Null, Value::from);
        v["description"] = description.map_or(Value::Null, Value::from);
        serde_json::from_value::<ApiStatus>(v)
            .unwrap()
            .into_domain()
    };
    for (state, description, expected, detail) in [
        (
            Some("pending"),
            Some("waiting for CI"),
            CheckState::Pending,
            "pending: waiting for CI",
        ),
        (Some("pending"), Some(""), CheckState::Pending, "pending"),
        (Some("success"), None, CheckState::Passed, "success"),
        (Some("failure"), None, CheckState::Failed, "failure"),
        (
            Some("error"),
            Some("boom"),
            CheckState::Failed,
            "error: boom",
        ),
        // No state at all reads as pending.
        (None, None, CheckState::Pending, "pending"),
    ] {
        let c = with(state, description);
        assert_eq!(c.state, expected, "{state:?}");
        assert_eq!(c.detail, detail, "{state:?}/{description:?}");
    }
}

#[test]
fn github_jobs_parse_into_jobs_and_steps() {
    let Some(dir) = fixtures("the GitHub jobs contract") else {
        return;
    };
    let jobs: ApiJobs = parse(&dir, "github/actions__list-jobs-for-workflow-run.json");
    let jobs: Vec<_> = jobs.jobs.into_iter().map(ApiJob::into_domain).collect();
    assert_eq!(
        jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        [
            10_545_727_758,
            10_545_727_888,
            10_545_728_039,
            10_545_728_190,
            10_545_728_356
        ]
    );
    assert_eq!(
        jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(),
        [
            "test (Python 3.7)",
            "test (Python 3.8)",
            "test (Python 3.9)",
            "test (Python 3.10)",
            "test (Python 3.11-dev)"
        ]
    );
    assert!(jobs.iter().all(|j| j.state == RunState::Success));
    let j = &jobs[0];
    assert_eq!(j.started_at, Some(datetime!(2023-01-10 08:24:28 UTC)));
    assert_eq!(j.completed_at, Some(datetime!(2023-01-10 08:25:28 UTC)));
    assert_eq!(
        j.url,
        "https://github.com/PyGithub/PyGithub/actions/runs/3881497935/jobs/6620564740"
    );
    assert_eq!(
        j.steps.iter().map(|s| s.number).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 11, 12, 13]
    );
    assert_eq!(j.steps[0].name, "Set up job");
    assert_eq!(j.steps[4].name, "Run tests");
    assert_eq!(j.steps[8].name, "Complete job");
    for job in &jobs {
        assert_eq!(job.steps.len(), 9, "{}", job.name);
        assert!(job.steps.iter().all(|s| s.state == RunState::Success));
        // All green: no failing step.
        assert_eq!(
            job.steps.iter().find(|s| s.state == RunState::Failure),
            None
        );
    }

    // The same recording with one job failing in "Run tests" and the steps after it skipped.
    let mut raw = json(&dir, "github/actions__list-jobs-for-workflow-run.json");
    let job = &mut raw["jobs"][2];
    job["conclusion"] = Value::from("failure");
    let steps = job["steps"].as_array_mut().unwrap();
    steps[4]["conclusion"] = Value::from("failure");
    for s in &mut steps[5..] {
        s["conclusion"] = Value::from("skipped");
    }
    // And one still running, its current step in progress and the next queued.
    let job = &mut raw["jobs"][3];
    job["status"] = Value::from("in_progress");
    job["conclusion"] = Value::Null;
    job["completed_at"] = Value::Null;
    let steps = job["steps"].as_array_mut().unwrap();
    steps[4]["status"] = Value::from("in_progress");
    steps[4]["conclusion"] = Value::Null;
    steps[5]["status"] = Value::from("queued");
    steps[5]["conclusion"] = Value::Null;
    let jobs: Vec<_> = serde_json::from_value::<ApiJobs>(raw)
        .unwrap()
        .jobs
        .into_iter()
        .map(ApiJob::into_domain)
        .collect();
    let failed = &jobs[2];
    assert_eq!(failed.state, RunState::Failure);
    let step = failed
        .steps
        .iter()
        .find(|s| s.state == RunState::Failure)
        .expect("a failing step");
    assert_eq!((step.number, step.name.as_str()), (5, "Run tests"));
    assert_eq!(failed.steps[5].state, RunState::Skipped);
    let running = &jobs[3];
    assert_eq!(running.state, RunState::InProgress);
    assert_eq!(running.completed_at, None);
    assert_eq!(running.steps[4].state, RunState::InProgress);
    assert_eq!(running.steps[5].state, RunState::Queued);
}

#[test]
fn github_pending_deployments_parse_into_domain() {
    let Some(dir) = fixtures("the GitHub pending deployments contract") else {
        return;
    };
    let list: Vec<ApiPending> = parse(&dir, "github/actions__get-pending-deployments-for-run.json");
    let pending: Vec<_> = list
        .into_iter()
        .filter_map(ApiPending::into_domain)
        .collect();
    assert_eq!(pending.len(), 1);
    let p = &pending[0];
    assert_eq!(p.environment_id, 161_088_068);
    assert_eq!(p.environment, "staging");
    assert_eq!(p.wait_timer_minutes, 30);
    assert_eq!(p.wait_started_at, Some(datetime!(2020-11-23 22:00:40 UTC)));
    assert!(p.can_approve);
    // A User by login, a Team by slug.
    assert_eq!(p.reviewers, ["octocat", "team justice-league"]);

    // A team without a slug is named by its name; a reviewer without a type is a user.
    let mut raw = json(&dir, "github/actions__get-pending-deployments-for-run.json");
    let reviewers = raw[0]["reviewers"].as_array_mut().unwrap();
    reviewers[1]["reviewer"]
        .as_object_mut()
        .unwrap()
        .remove("slug");
    reviewers[0].as_object_mut().unwrap().remove("type");
    raw[0]["current_user_can_approve"] = Value::from(false);
    let p = serde_json::from_value::<Vec<ApiPending>>(raw)
        .unwrap()
        .into_iter()
        .find_map(ApiPending::into_domain)
        .unwrap();
    assert_eq!(p.reviewers, ["octocat", "team Justice League"]);
    assert!(!p.can_approve);
}

#[test]
fn github_action_answers_map_to_results() {
    let Some(dir) = fixtures("the GitHub run action answers contract") else {
        return;
    };
    let now = 1_673_612_364;
    // Cancel without admin rights: 403 without rate-limit headers is a plain refusal.
    let err = classify(
        &response(
            403,
            HeaderMap::new(),
            read(&dir, "github/actions__cancel-workflow-run.403.json"),
        ),
        now,
    );
    assert_eq!(
        err,
        SourceError::Status {
            status: 403,
            message: "Must have admin rights to Repository.".into()
        }
    );
    assert!(!err.is_transport());
    assert_eq!(err.retry_after(), None);
    // Still a refusal when the rate limit has requests left.
    let mut plenty = HeaderMap::new();
    plenty.insert("x-ratelimit-remaining", HeaderValue::from_static("4999"));
    plenty.insert("x-ratelimit-reset", HeaderValue::from_static("1673615964"));
    let again = classify(
        &response(
            403,
            plenty,
            read(&dir, "github/actions__cancel-workflow-run.403.json"),
        ),
        now,
    );
    assert_eq!(again, err);

    // Dispatch without a required input.
    let err = classify(
        &response(
            422,
            HeaderMap::new(),
            read(&dir, "github/actions__create-workflow-dispatch.422.json"),
        ),
        now,
    );
    assert_eq!(
        err,
        SourceError::Status {
            status: 422,
            message: "Required input 'mandatory-parameter' not provided".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "HTTP 422: Required input 'mandatory-parameter' not provided"
    );

    // Re-run failed jobs answers 201 with an empty object: nothing to parse.
    let rerun = json(&dir, "github/actions__re-run-workflow-failed-jobs.json");
    assert_eq!(rerun, Value::Object(serde_json::Map::new()));
}

// ---------------------------------------------------------------------------------------------
// GitHub: robustness of the success payloads

/// Every optional member set to null, at every depth. `required` names the members the client's
/// types need (not `Option`); they are kept, but the members inside them are still nulled. With
/// `whole`, an optional object or array member is nulled as a whole; without it, its own members
/// are nulled and it is kept.
fn null_optional(v: &mut Value, required: &[&str], whole: bool) {
    match v {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| null_optional(i, required, whole)),
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let container = child.is_object() || child.is_array();
                if required.contains(&k.as_str()) || (container && !whole) {
                    null_optional(child, required, whole);
                } else {
                    *child = Value::Null;
                }
            }
        }
        _ => {}
    }
}

/// A member no client knows, added to every object at every depth.
fn add_unknown(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(add_unknown),
        Value::Object(map) => {
            map.values_mut().for_each(add_unknown);
            map.insert(
                "flightdeck_unknown_member".into(),
                serde_json::json!({"nested": [1, "two", null, {"three": 3.0}]}),
            );
        }
        _ => {}
    }
}

/// The fixture changed three ways, each parsed as `T`: optional leaves null, optional members
/// null as a whole, an unknown member everywhere.
fn variants<T: serde::de::DeserializeOwned>(
    dir: &Path,
    rel: &str,
    required: &[&str],
) -> [(&'static str, T); 3] {
    let raw = json(dir, rel);
    let mut leaves = raw.clone();
    null_optional(&mut leaves, required, false);
    let mut whole = raw.clone();
    null_optional(&mut whole, required, true);
    let mut unknown = raw;
    add_unknown(&mut unknown);
    let parse = |label: &'static str, v: Value| -> (&'static str, T) {
        let t = serde_json::from_value(v).unwrap_or_else(|e| {
            panic!(
                "{rel} ({label}) does not parse as {}: {e}",
                std::any::type_name::<T>()
            )
        });
        (label, t)
    };
    [
        parse("null leaves", leaves),
        parse("null members", whole),
        parse("unknown member", unknown),
    ]
}

#[test]
fn github_payloads_survive_nulls_and_unknown_members() {
    let Some(dir) = fixtures("the GitHub payload robustness contract") else {
        return;
    };

    for rel in ["github/pulls__get.json", "github/pulls__list.json"] {
        let is_list = rel.ends_with("list.json");
        let raw = json(&dir, rel);
        let expected_number = if is_list {
            raw[0]["number"].as_u64()
        } else {
            raw["number"].as_u64()
        }
        .unwrap();
        for (label, v) in variants::<Value>(&dir, rel, &["number"]) {
            let pulls: Vec<ApiPull> = if is_list {
                serde_json::from_value(v)
            } else {
                serde_json::from_value(v).map(|p| vec![p])
            }
            .unwrap_or_else(|e| panic!("{rel} ({label}): {e}"));
            let pr = pulls.into_iter().next().unwrap().into_domain("o/r");
            assert_eq!(pr.number, expected_number, "{rel} ({label})");
            if label == "unknown member" {
                assert!(!pr.title.is_empty(), "{rel} ({label})");
                continue;
            }
            assert_eq!(
                (pr.title.as_str(), pr.author.as_str(), pr.head_ref.as_str()),
                ("", "", ""),
                "{rel} ({label})"
            );
            assert!(!pr.draft && pr.labels.is_empty(), "{rel} ({label})");
            assert_eq!((pr.created_at, pr.mergeable), (None, None), "{rel}");
            assert_eq!(
                (pr.additions, pr.deletions, pr.changed_files),
                (None, None, None),
                "{rel} ({label})"
            );
        }
    }

    for (label, list) in variants::<Vec<ApiReview>>(&dir, "github/pulls__list-reviews.json", &[]) {
        assert_eq!(list.len(), 5, "{label}");
        let (decision, reviewers) = review_decision(&list);
        if label == "unknown member" {
            assert_eq!(decision, ReviewDecision::Approved);
            assert_eq!(reviewers.len(), 3);
        } else {
            // No state: nothing was said.
            assert_eq!(decision, ReviewDecision::ReviewRequired, "{label}");
            assert!(reviewers.is_empty(), "{label}");
        }
    }

    for (label, files) in variants::<Vec<ApiFile>>(&dir, "github/pulls__list-files.json", &[]) {
        assert_eq!(files.len(), 4, "{label}");
        let named = files.iter().filter(|f| f.filename.is_some()).count();
        assert_eq!(named, if label == "unknown member" { 4 } else { 0 });
    }

    for rel in [
        "github/checks__list-for-ref.json",
        "github/checks__list-for-ref.per_page-1.json",
    ] {
        let expected = json(&dir, rel)["check_runs"].as_array().unwrap().len();
        for (label, runs) in variants::<ApiCheckRuns>(&dir, rel, &["check_runs"]) {
            let checks: Vec<_> = runs
                .check_runs
                .into_iter()
                .map(ApiCheckRun::into_domain)
                .collect();
            assert_eq!(checks.len(), expected, "{rel} ({label})");
            if label != "unknown member" {
                // No status: still pending, and no name, detail or link.
                for c in &checks {
                    assert_eq!(c.state, CheckState::Pending, "{rel} ({label})");
                    assert_eq!(
                        (c.name.as_str(), c.detail.as_str(), c.url.as_str()),
                        ("", "", ""),
                        "{rel} ({label})"
                    );
                }
            }
        }
    }

    for (label, combined) in variants::<ApiCombinedStatus>(
        &dir,
        "github/repos__get-combined-status-for-ref.json",
        &["statuses"],
    ) {
        let checks: Vec<_> = combined
            .statuses
            .into_iter()
            .map(ApiStatus::into_domain)
            .collect();
        assert_eq!(checks.len(), 2, "{label}");
        if label != "unknown member" {
            for c in &checks {
                assert_eq!(c.state, CheckState::Pending, "{label}");
                assert_eq!(c.detail, "pending", "{label}");
            }
        }
    }

    for (label, jobs) in variants::<ApiJobs>(
        &dir,
        "github/actions__list-jobs-for-workflow-run.json",
        &["jobs", "id"],
    ) {
        let jobs: Vec<_> = jobs.jobs.into_iter().map(ApiJob::into_domain).collect();
        assert_eq!(jobs.len(), 5, "{label}");
        assert_eq!(jobs[0].id, 10_545_727_758, "{label}");
        match label {
            "unknown member" => assert_eq!(jobs[0].steps.len(), 9),
            "null members" => {
                assert_eq!(jobs[0].state, RunState::Other);
                assert!(jobs[0].steps.is_empty());
            }
            _ => {
                assert_eq!(jobs[0].state, RunState::Other);
                assert_eq!(jobs[0].steps.len(), 9);
                assert!(
                    jobs[0]
                        .steps
                        .iter()
                        .all(|s| s.number == 0 && s.name.is_empty() && s.state == RunState::Other)
                );
            }
        }
    }

    for (label, list) in variants::<Vec<ApiPending>>(
        &dir,
        "github/actions__get-pending-deployments-for-run.json",
        &["id", "reviewers"],
    ) {
        assert_eq!(list.len(), 1, "{label}");
        let domain: Vec<_> = list
            .into_iter()
            .filter_map(ApiPending::into_domain)
            .collect();
        match label {
            "unknown member" => {
                assert_eq!(domain.len(), 1);
                assert_eq!(domain[0].reviewers, ["octocat", "team justice-league"]);
            }
            // Without an environment there is nothing to approve.
            "null members" => assert!(domain.is_empty(), "{domain:?}"),
            _ => {
                let p = &domain[0];
                assert_eq!(p.environment_id, 161_088_068);
                assert_eq!(p.environment, "");
                assert_eq!((p.wait_timer_minutes, p.wait_started_at), (0, None));
                assert!(!p.can_approve, "unknown means no");
                assert!(p.reviewers.is_empty(), "{:?}", p.reviewers);
            }
        }
    }

    for (label, list) in variants::<ApiRunList>(
        &dir,
        "github/actions__list-workflow-runs-for-repo.json",
        &["workflow_runs", "id"],
    ) {
        let runs: Vec<_> = list
            .workflow_runs
            .into_iter()
            .map(|r| r.into_domain("o/r"))
            .collect();
        assert_eq!(runs.len(), 3, "{label}");
        assert_eq!(runs[0].id, 110_932_306, "{label}");
    }
}

#[test]
fn github_empty_lists_parse_to_nothing() {
    let Some(_dir) = fixtures("the GitHub empty list contract") else {
        return;
    };
    assert!(
        serde_json::from_str::<Vec<ApiPull>>("[]")
            .unwrap()
            .is_empty()
    );
    assert!(
        serde_json::from_str::<Vec<ApiReview>>("[]")
            .unwrap()
            .is_empty()
    );
    assert!(
        serde_json::from_str::<Vec<ApiFile>>("[]")
            .unwrap()
            .is_empty()
    );
    assert!(
        serde_json::from_str::<Vec<ApiPending>>("[]")
            .unwrap()
            .is_empty()
    );
    for body in [r#"{"total_count": 0, "check_runs": []}"#, "{}"] {
        let runs: ApiCheckRuns = serde_json::from_str(body).unwrap();
        assert!(runs.check_runs.is_empty(), "{body}");
    }
    for body in [
        r#"{"state": "pending", "statuses": [], "total_count": 0}"#,
        "{}",
    ] {
        let combined: ApiCombinedStatus = serde_json::from_str(body).unwrap();
        assert!(combined.statuses.is_empty(), "{body}");
    }
    for body in [r#"{"total_count": 0, "jobs": []}"#, "{}"] {
        let jobs: ApiJobs = serde_json::from_str(body).unwrap();
        assert!(jobs.jobs.is_empty(), "{body}");
    }
    let runs: ApiRunList =
        serde_json::from_str(r#"{"total_count": 0, "workflow_runs": []}"#).unwrap();
    assert!(runs.workflow_runs.is_empty());
    let pending: Vec<ApiPending> =
        serde_json::from_str(r#"[{"environment": {"id": 1, "name": "production"}}]"#).unwrap();
    let p = pending
        .into_iter()
        .find_map(ApiPending::into_domain)
        .unwrap();
    assert!(p.reviewers.is_empty());
    let (decision, list) = review_decision(&[]);
    assert_eq!(decision, ReviewDecision::ReviewRequired);
    assert!(list.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Prometheus

fn envelope(dir: &Path, name: &str) -> Envelope {
    parse(dir, &format!("prometheus/{name}"))
}

#[test]
fn prometheus_instant_results_give_one_value() {
    let Some(dir) = fixtures("the Prometheus instant query contract") else {
        return;
    };
    let v = envelope(&dir, "query.vector.json");
    assert_eq!(v.status, "success");
    let Some(QueryData::Vector(samples)) = &v.data else {
        panic!("expected a vector: {v:?}");
    };
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0].metric["job"], "prometheus");
    assert_eq!(samples[0].metric["instance"], "localhost:9090");
    assert_eq!(samples[0].value, Some((1_435_781_451.781, "1".to_string())));
    assert_eq!(samples[1].metric["job"], "node");
    assert_eq!(samples[1].value, Some((1_435_781_451.781, "0".to_string())));
    // The first sample's value.
    assert_eq!(v.single_value().unwrap(), Some(1.0));

    let demo = envelope(&dir, "query.vector-demo.json");
    let Some(QueryData::Vector(samples)) = &demo.data else {
        panic!("expected a vector: {demo:?}");
    };
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[1].metric["job"], "alertmanager");
    assert_eq!(samples[1].metric["env"], "demo");
    assert_eq!(
        samples[0].value.as_ref().map(|v| v.0),
        Some(1_767_436_620.0)
    );
    assert_eq!(demo.single_value().unwrap(), Some(1.0));

    // `result` comes before `resultType` in this one; integer timestamps.
    let scalar = envelope(&dir, "query.scalar.json");
    assert!(
        matches!(&scalar.data, Some(QueryData::Scalar((t, v))) if *t == 1_767_436_620.0 && v == "42"),
        "{scalar:?}"
    );
    assert_eq!(scalar.single_value().unwrap(), Some(42.0));
}

#[test]
fn prometheus_range_results_parse() {
    let Some(dir) = fixtures("the Prometheus range query contract") else {
        return;
    };
    let m = envelope(&dir, "query_range.matrix.json");
    let Some(QueryData::Matrix(series)) = &m.data else {
        panic!("expected a matrix: {m:?}");
    };
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].metric["instance"], "localhost:9090");
    assert_eq!(series[0].values.len(), 3);
    assert_eq!(series[0].values[0], (1_435_781_430.781, "1".to_string()));
    assert_eq!(
        series[1]
            .values
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>(),
        ["0", "0", "1"]
    );
    // A matrix gives the latest value of its first series.
    assert_eq!(m.single_value().unwrap(), Some(1.0));

    let demo = envelope(&dir, "query_range.matrix-demo.json");
    let Some(QueryData::Matrix(series)) = &demo.data else {
        panic!("expected a matrix: {demo:?}");
    };
    assert_eq!(series.len(), 1);
    assert_eq!(
        series[0].values.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        [1_767_433_020.0, 1_767_434_820.0, 1_767_436_620.0]
    );
    assert_eq!(demo.single_value().unwrap(), Some(1.0));
}

#[test]
fn prometheus_native_histograms_parse_but_give_no_value() {
    let Some(dir) = fixtures("the Prometheus native histogram contract") else {
        return;
    };
    let h = envelope(&dir, "query_range.histogram.json");
    assert_eq!(h.status, "success");
    let Some(QueryData::Matrix(series)) = &h.data else {
        panic!("expected a matrix: {h:?}");
    };
    assert_eq!(series.len(), 1);
    assert_eq!(
        series[0].metric["__name__"],
        "http_request_duration_seconds"
    );
    assert!(series[0].values.is_empty());
    let hist = series[0].histograms.as_ref().expect("histograms kept raw");
    assert_eq!(hist[0][1]["count"], "12.5");
    assert_eq!(hist[0][1]["buckets"].as_array().map(Vec::len), Some(2));
    // Observed behaviour: a histogram-only series has no float sample, so no single value (and no
    // error): the cockpit shows "no data" for such a metric.
    assert_eq!(h.single_value().unwrap(), None);
}

#[test]
fn prometheus_error_envelopes_are_errors() {
    let Some(dir) = fixtures("the Prometheus error envelope contract") else {
        return;
    };
    let names = files(&dir, "prometheus", |n| {
        n.starts_with("error.") && n.ends_with(".json")
    });
    assert_eq!(
        names,
        ["error.not-acceptable.json", "error.tsdb-not-ready.json"]
    );
    for name in names {
        let raw = json(&dir, &format!("prometheus/{name}"));
        let env = envelope(&dir, &name);
        assert_eq!(env.status, "error");
        let error_type = raw["errorType"].as_str().unwrap();
        let error = raw["error"].as_str().unwrap();
        assert_eq!(env.error_type.as_deref(), Some(error_type));
        assert_eq!(env.error.as_deref(), Some(error));
        let err = env.single_value().unwrap_err();
        let text = err.to_string();
        assert!(text.contains(error_type), "{name}: {text}");
        assert!(text.contains(error), "{name}: {text}");
        // The body alone also summarises to the error text.
        assert_eq!(
            error_summary(&read(&dir, &format!("prometheus/{name}"))),
            error
        );
    }
    let e = envelope(&dir, "error.tsdb-not-ready.json");
    assert_eq!(
        e.single_value().unwrap_err().to_string(),
        "query rejected (internal): TSDB not ready"
    );
}

// ---------------------------------------------------------------------------------------------
// Sentry

#[test]
fn sentry_issue_list_parses_into_domain() {
    let Some(dir) = fixtures("the Sentry issue list contract") else {
        return;
    };
    let list: Vec<ApiIssue> = parse(&dir, "sentry/list-a-projects-issues.json");
    assert_eq!(list.len(), 1);
    let incidents: Vec<_> = list
        .into_iter()
        .map(|i| i.into_domain("fallback-project"))
        .collect();
    let i = &incidents[0];
    // The issue's own project slug wins over the one asked for.
    assert_eq!(i.project, "pump-station");
    assert_eq!(i.id, "1");
    assert_eq!(i.short_id, "PUMP-STATION-1");
    assert_eq!(i.title, "This is an example Python exception");
    assert_eq!(i.culprit, "raven.scripts.runner in main");
    assert_eq!(i.level, "error");
    assert_eq!(i.status, "unresolved");
    // "count": "1" is a string in Sentry's API.
    assert_eq!(i.count, 1);
    assert_eq!(i.user_count, 0);
    assert_eq!(i.first_seen, Some(datetime!(2018-11-06 21:19:55 UTC)));
    assert_eq!(i.last_seen, Some(datetime!(2018-11-06 21:19:55 UTC)));
    assert_eq!(
        i.url,
        "https://sentry.io/the-interstellar-jurisdiction/pump-station/issues/1/"
    );
}

#[test]
fn sentry_single_issue_parses_into_domain() {
    let Some(dir) = fixtures("the Sentry single issue contract") else {
        return;
    };
    let issue: ApiIssue = parse(&dir, "sentry/getOrganizationIssue.json");
    let i = issue.into_domain("fallback-project");
    assert_eq!(i.project, "pump-station");
    assert_eq!(i.id, "1");
    assert_eq!(i.short_id, "PUMP-STATION-1");
    assert_eq!(i.title, "This is an example Python exception");
    assert_eq!(i.level, "error");
    assert_eq!(i.status, "unresolved");
    assert_eq!(i.count, 150);
    assert_eq!(i.user_count, 12);
    assert_eq!(i.first_seen, Some(datetime!(2018-11-06 21:19:55 UTC)));
    assert_eq!(i.last_seen, Some(datetime!(2018-12-06 21:19:55 UTC)));
}

/// A loopback Sentry serving the fixtures `list` (issue list, one page) and `event` (any issue's
/// latest event); the event endpoint answers 429 with Sentry's rate-limit headers for issue
/// `limited`. Returns its base URL and the issue-list queries it saw.
async fn fixture_sentry(
    list: Vec<u8>,
    event: Vec<u8>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::extract::{Path as UrlPath, RawQuery};
    use axum::response::IntoResponse;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    let base = format!("http://{addr}");
    let next = format!(
        "<{base}/api/0/projects/acme/pump-station/issues/?cursor=0:100:0>; rel=\"next\"; results=\"false\"; cursor=\"0:100:0\""
    );
    let app = axum::Router::new()
        .route(
            "/api/0/projects/acme/pump-station/issues/",
            axum::routing::get(move |RawQuery(q): RawQuery| {
                let (list, next, log) = (list.clone(), next.clone(), log.clone());
                async move {
                    log.lock().unwrap().push(q.unwrap_or_default());
                    (
                        [
                            ("content-type", "application/json"),
                            ("link", next.as_str()),
                        ],
                        list,
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/api/0/organizations/acme/issues/{id}/events/latest/",
            axum::routing::get(move |UrlPath(id): UrlPath<String>| {
                let event = event.clone();
                async move {
                    if id == "limited" {
                        let reset =
                            (time::OffsetDateTime::now_utc().unix_timestamp() + 30).to_string();
                        return (
                            axum::http::StatusCode::TOO_MANY_REQUESTS,
                            [
                                ("x-sentry-rate-limit-remaining", "0".to_string()),
                                ("x-sentry-rate-limit-reset", reset),
                            ],
                            "{\"detail\": \"slow down\"}",
                        )
                            .into_response();
                    }
                    ([("content-type", "application/json")], event).into_response()
                }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, seen)
}

fn sentry_config(url: String) -> flightdeck::config::SentryConfig {
    flightdeck::config::SentryConfig {
        url,
        org: "acme".into(),
        projects: vec!["pump-station".into()],
        token_command: None,
        anonymous: true,
        environment: Some("production".into()),
        stats_period: "24h".into(),
        repos: Default::default(),
        path_map: Default::default(),
    }
}

#[tokio::test]
async fn sentry_latest_event_parses_from_a_loopback_server() {
    let Some(dir) = fixtures("the Sentry latest event contract") else {
        return;
    };
    let (base, _) = fixture_sentry(
        read(&dir, "sentry/list-a-projects-issues.json"),
        read(&dir, "sentry/getOrganizationIssueEvent.json"),
    )
    .await;
    let http = flightdeck::sources::http::Http::new(std::time::Duration::from_secs(10))
        .expect("HTTP client");
    let sentry = flightdeck::sources::sentry::Sentry::new(http, &sentry_config(base), None);
    let e = sentry
        .latest_event("1341191803")
        .await
        .expect("latest event");
    assert_eq!(e.event_id, "9999aaaaca8b46d797c23c6077c6ff01");
    assert_eq!(e.issue_id, "1341191803");
    assert_eq!(e.title, "This is an example Python exception");
    assert_eq!(e.platform, "javascript");
    assert_eq!(e.date, Some(datetime!(2020-06-17 22:26:56.098086 UTC)));
    // The release is an object with its version; the environment is a tag.
    assert_eq!(
        e.release.as_deref(),
        Some("b65bc521378269d3eaefdc964f8ef56621414943")
    );
    assert_eq!(e.environment.as_deref(), Some("prod"));
    assert_eq!(e.tags.len(), 6);
    assert_eq!(e.tags[0], ("browser".into(), "Chrome 83.0.4103".into()));
    assert_eq!(e.tags[5], ("mechanism".into(), "generic".into()));
    // The chain: one exception, its two frames, outermost first, neither in-app.
    assert_eq!(e.exceptions.len(), 1);
    let x = &e.exceptions[0];
    assert_eq!(x.kind, "ForbiddenError");
    assert_eq!(x.value, "GET /organizations/hellboy-meowmeow/users/ 403");
    assert_eq!(x.frames_omitted, 0);
    let names: Vec<_> = x
        .frames
        .iter()
        .map(|f| (f.function.as_deref(), f.line, f.column, f.in_app))
        .collect();
    assert_eq!(
        names,
        [
            (Some("ignoreOnError"), Some(71), Some(23), false),
            (Some("apply"), Some(74), Some(24), false)
        ]
    );
    let f = &x.frames[0];
    assert_eq!(
        f.filename.as_deref(),
        Some("/usr/src/getsentry/src/sentry/node_modules/@sentry/browser/esm/helpers.js")
    );
    assert_eq!(
        f.abs_path.as_deref(),
        Some(
            "webpack:////usr/src/getsentry/src/sentry/node_modules/@sentry/browser/esm/helpers.js"
        )
    );
    assert_eq!(
        f.module.as_deref(),
        Some("usr/src/getsentry/src/sentry/node_modules/@sentry/browser/esm/helpers")
    );
    assert_eq!(f.context.len(), 11);
    assert_eq!(f.context[0].0, 66);
    assert_eq!(
        f.context[5],
        (
            71,
            "            return fn.apply(this, wrappedArguments);".into()
        )
    );
    assert!(f.vars.is_empty());
    assert_eq!(e.in_app_frames().count(), 0);
    // No in-app frame: the crash frame is the last one.
    assert_eq!(
        e.crash_frame().and_then(|f| f.function.as_deref()),
        Some("apply")
    );
    // Without a permalink in the event, the issue's page on the configured Sentry.
    assert!(
        e.url.ends_with("/organizations/acme/issues/1341191803/"),
        "{}",
        e.url
    );

    // Sentry's rate limit on the event endpoint is a wait, not an error of the token.
    let limited = sentry.latest_event("limited").await;
    assert!(
        matches!(limited, Err(SourceError::RateLimited { retry_after_secs }) if (1..=31).contains(&retry_after_secs)),
        "{limited:?}"
    );
}

#[tokio::test]
async fn sentry_issue_list_asks_for_the_environment_and_period_and_reads_stats() {
    let Some(dir) = fixtures("the Sentry issue list query contract") else {
        return;
    };
    let (base, seen) = fixture_sentry(
        read(&dir, "sentry/list-a-projects-issues.json"),
        b"{}".to_vec(),
    )
    .await;
    let http = flightdeck::sources::http::Http::new(std::time::Duration::from_secs(10))
        .expect("HTTP client");
    let sentry = flightdeck::sources::sentry::Sentry::new(http, &sentry_config(base), None);
    let issues = sentry.issues("pump-station").await.expect("issues");
    // One request: the `next` link says results="false".
    assert_eq!(
        *seen.lock().unwrap(),
        ["query=is%3Aunresolved&statsPeriod=24h&environment=production"]
    );
    assert_eq!(issues.len(), 1);
    let stats = &issues[0].stats;
    assert_eq!(stats.len(), 24);
    assert_eq!(stats[0], (1541455200, 473));
    assert_eq!(stats[23], (1541538000, 943));
    // The last hour of the series: its last bucket (and the one before, which ends inside it).
    let end = datetime!(2018-11-06 21:00:00 UTC) + time::Duration::minutes(30);
    assert_eq!(issues[0].events_last_hour(end), Some(400 + 943));
}
