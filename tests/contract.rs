//! Contract tests: the clients' public serde types and error mapping against the shared API
//! fixtures in `../shared/fixtures` (official examples and recorded responses, see its README).
//!
//! The folder lives beside the project (CI has it there). When it is absent every test says so on
//! stderr and passes; a single missing file inside a present folder is a failure (the contract
//! changed). Nothing else in the project reads these files.
//!
//! LLM fixtures are not checked yet: there is no LLM client to hold them to.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use flightdeck::domain::RunState;
use flightdeck::sources::SourceError;
use flightdeck::sources::github::{ApiPull, ApiRun, ApiRunList, classify};
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
