//! End-to-end tests of the demo world over real HTTP on 127.0.0.1.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::util::percent_encode;
use super::{SimOptions, SimWorld, error_rate_query, p99_query, start, weight_query};

/// A world frozen at scenario second `t`.
async fn frozen(t: f64) -> SimWorld {
    start(SimOptions {
        speed: 0.0,
        start_at_secs: t,
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// `base?k=v&...` with percent-encoded values.
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    format!("{base}?{}", q.join("&"))
}

async fn get_json(url: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = client().get(url).send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Parses `<url>; rel="next", ...` into (rel, url) pairs.
fn links(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    header(h, "link")
        .split(", <")
        .filter_map(|part| {
            let part = part.trim_start_matches('<');
            let (url, rest) = part.split_once(">; rel=\"")?;
            let rel = rest.split('"').next()?;
            Some((rel.to_string(), url.to_string()))
        })
        .collect()
}

fn rel<'a>(links: &'a [(String, String)], name: &str) -> Option<&'a str> {
    links
        .iter()
        .find(|(r, _)| r == name)
        .map(|(_, u)| u.as_str())
}

#[tokio::test]
async fn github_etag_gives_304_without_spending_rate_limit() {
    let w = frozen(10.0).await;
    let url = format!("{}/repos/acme/checkout/pulls", w.github_url);
    let first = client().get(&url).send().await.expect("request");
    assert_eq!(first.status(), StatusCode::OK);
    let h = first.headers().clone();
    assert_eq!(
        header(&h, "content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(header(&h, "x-ratelimit-limit"), "5000");
    assert_eq!(header(&h, "x-ratelimit-remaining"), "4999");
    assert_eq!(header(&h, "x-ratelimit-used"), "1");
    assert_eq!(header(&h, "x-ratelimit-resource"), "core");
    assert!(header(&h, "x-ratelimit-reset").parse::<i64>().is_ok());
    let etag = header(&h, "etag").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10);

    let again = client()
        .get(&url)
        .header("if-none-match", &etag)
        .header("authorization", "Bearer ignored")
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(again.headers(), "etag"), etag);
    assert_eq!(header(again.headers(), "x-ratelimit-remaining"), "4999");
    assert!(again.bytes().await.expect("body").is_empty());

    let stale = client()
        .get(&url)
        .header("if-none-match", "\"0000\"")
        .send()
        .await
        .expect("request");
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(header(stale.headers(), "x-ratelimit-remaining"), "4998");
    assert_eq!(
        header(stale.headers(), "etag"),
        etag,
        "same scenario time, same body"
    );

    let stats = w.requests();
    assert_eq!(stats.github, 3);
    assert_eq!(stats.github_not_modified, 1);
    w.shutdown();
}

#[tokio::test]
async fn github_pulls_paginate_with_link_header() {
    let w = frozen(10.0).await;
    let mut url = format!(
        "{}/repos/acme/checkout/pulls?state=open&per_page=2",
        w.github_url
    );
    let mut numbers = Vec::new();
    let mut pages = 0;
    loop {
        let (status, h, body) = get_json(&url).await;
        assert_eq!(status, StatusCode::OK);
        let prs = body.as_array().expect("array");
        assert!(prs.len() <= 2);
        for pr in prs {
            numbers.push(pr["number"].as_u64().expect("number"));
            assert_eq!(pr["state"], "open");
            assert!(pr["user"]["login"].is_string());
            assert!(pr["labels"].is_array());
            assert!(pr["draft"].is_boolean());
            assert!(pr["head"]["sha"].as_str().is_some_and(|s| s.len() == 40));
            assert!(pr["merged_at"].is_null());
        }
        pages += 1;
        let l = links(&h);
        if pages == 1 {
            assert!(rel(&l, "prev").is_none());
            assert!(rel(&l, "last").is_some_and(|u| u.ends_with("page=3")));
        }
        if pages == 2 {
            assert!(rel(&l, "prev").is_some_and(|u| u.ends_with("page=1")));
            assert!(rel(&l, "first").is_some_and(|u| u.ends_with("page=1")));
            assert!(
                rel(&l, "next")
                    .is_some_and(|u| u.contains("per_page=2") && u.contains("state=open"))
            );
        }
        match rel(&l, "next") {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(numbers, vec![421, 419, 418, 415, 412]);

    // The ANSI title is served raw, for the client to sanitize.
    let (_, _, one) = get_json(&format!("{}/repos/acme/checkout/pulls/418", w.github_url)).await;
    assert!(one["title"].as_str().is_some_and(|t| t.contains('\u{1b}')));
    assert_eq!(one["mergeable_state"], "unstable");

    let (status, _, body) = get_json(&format!("{}/repos/acme/nope/pulls", w.github_url)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
    );

    let (status, _, body) = get_json(&format!(
        "{}/repos/acme/web/pulls?per_page=abc",
        w.github_url
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["message"], "Validation Failed");
}

#[tokio::test]
async fn github_runs_progress_with_the_story() {
    let early = frozen(10.0).await;
    let late = frozen(178.0).await;
    let runs = |w: &SimWorld| format!("{}/repos/acme/checkout/actions/runs", w.github_url);
    let (_, _, a) = get_json(&runs(&early)).await;
    let (_, _, b) = get_json(&runs(&late)).await;
    let find = |v: &Value, id: u64| {
        v["workflow_runs"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == id).cloned())
    };
    assert_eq!(a["total_count"], 8);
    assert_eq!(b["total_count"], 9);
    let ci = find(&a, 9_200_000_105).expect("ci run");
    assert_eq!(ci["status"], "in_progress");
    assert!(ci["conclusion"].is_null());
    assert_eq!(ci["pull_requests"][0]["number"], 415);
    assert!(
        ci["jobs_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&early.github_url))
    );
    let ci = find(&b, 9_200_000_105).expect("ci run");
    assert_eq!(
        (ci["status"].as_str(), ci["conclusion"].as_str()),
        (Some("completed"), Some("success"))
    );
    let deploy = find(&b, 9_200_000_103).expect("deploy run");
    assert_eq!(deploy["status"], "waiting");
    assert_eq!(deploy["name"], "Deploy");
    let failed = find(&a, 9_200_000_104).expect("failed run");
    assert_eq!(failed["conclusion"], "failure");
    assert_eq!(failed["repository"]["full_name"], "acme/checkout");

    let (_, h, page) = get_json(&format!("{}?per_page=2&page=2", runs(&late))).await;
    assert_eq!(page["workflow_runs"].as_array().map(Vec::len), Some(2));
    assert!(rel(&links(&h), "next").is_some_and(|u| u.ends_with("page=3")));
    assert!(rel(&links(&h), "last").is_some_and(|u| u.ends_with("page=5")));

    let (status, _, waiting) = get_json(&format!("{}?status=waiting", runs(&late))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(waiting["total_count"], 1);

    let (_, h, limits) = get_json(&format!("{}/rate_limit", late.github_url)).await;
    assert_eq!(limits["resources"]["core"]["limit"], 5000);
    // `/rate_limit` itself is free, as on GitHub.
    assert_eq!(limits["rate"]["used"], 3);
    assert_eq!(header(&h, "x-ratelimit-used"), "3");
    let (_, _, user) = get_json(&format!("{}/user", late.github_url)).await;
    assert_eq!(user["login"], "demo-operator");
}

async fn prom_query(w: &SimWorld, query: &str) -> (StatusCode, Value) {
    let resp = client()
        .get(with_query(
            &format!("{}/api/v1/query", w.prometheus_url),
            &[("query", query)],
        ))
        .send()
        .await
        .expect("request");
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

fn vector_value(body: &Value) -> f64 {
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"]["resultType"], "vector");
    let sample = &body["data"]["result"][0]["value"];
    assert!(sample[0].is_number());
    sample[1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("string value")
}

#[tokio::test]
async fn prometheus_error_rate_breaches_after_the_half_step() {
    let before = frozen(60.0).await;
    let after = frozen(100.0).await;
    let q = error_rate_query("checkout", "canary");
    let (status, body) = prom_query(&before, &q).await;
    assert_eq!(status, StatusCode::OK);
    let v = vector_value(&body);
    assert!(v > 0.0 && v < 0.005, "before: {v}");
    let (_, body) = prom_query(&after, &q).await;
    let v = vector_value(&body);
    assert!(v > 0.005, "after: {v}");
    let (_, body) = prom_query(&after, &error_rate_query("checkout", "stable")).await;
    assert!(vector_value(&body) < 0.005);
    let (_, body) = prom_query(&after, &error_rate_query("web", "canary")).await;
    assert!(vector_value(&body) < 0.005);
    let (_, body) = prom_query(&after, &p99_query("checkout", "canary")).await;
    let p99 = vector_value(&body);
    assert!(p99 > 150.0 && p99 < 500.0, "p99 {p99}");
    let (_, body) = prom_query(&after, &weight_query("checkout")).await;
    assert_eq!(vector_value(&body), 50.0);
    assert_eq!(body["data"]["result"][0]["metric"]["name"], "checkout");

    // Form POST, explicit time.
    let resp = client()
        .post(format!("{}/api/v1/query", after.prometheus_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("query={}&time={}", percent_encode(&q), now_unix()))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("json");
    assert!(vector_value(&body) > 0.005);

    let (status, body) = prom_query(&before, "1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["resultType"], "scalar");
    assert_eq!(body["data"]["result"][1], "1");
    let (_, body) = prom_query(&before, "vector(1)").await;
    assert_eq!(vector_value(&body), 1.0);
    assert_eq!(body["data"]["result"][0]["metric"], json!({}));
    let (status, body) = prom_query(&before, "nonsense_metric{").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
    assert_eq!(body["errorType"], "bad_data");
    assert!(body["error"].is_string());
    assert_eq!(before.requests().prometheus, 4);

    let health = client()
        .get(format!("{}/-/healthy", before.prometheus_url))
        .send()
        .await
        .expect("request");
    assert_eq!(
        health.text().await.expect("text"),
        "Prometheus Server is Healthy.\n"
    );
}

#[tokio::test]
async fn prometheus_query_range_maps_wall_clock_to_scenario_time() {
    // Real-time world at scenario second 100: the last minute spans t = 40..100.
    let w = start(SimOptions {
        speed: 1.0,
        start_at_secs: 100.0,
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let end = now_unix().floor();
    let resp = client()
        .get(with_query(
            &format!("{}/api/v1/query_range", w.prometheus_url),
            &[
                ("query", error_rate_query("checkout", "canary").as_str()),
                ("start", &(end - 60.0).to_string()),
                ("end", &end.to_string()),
                ("step", "15s"),
            ],
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["data"]["resultType"], "matrix");
    let values = body["data"]["result"][0]["values"]
        .as_array()
        .expect("values");
    assert_eq!(values.len(), 5);
    let v = |i: usize| {
        values[i][1]
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .expect("value")
    };
    assert!(v(0) < 0.005, "t~40: {}", v(0));
    assert!(v(4) > 0.005, "t~100: {}", v(4));
    assert_eq!(values[0][0], json!((end - 60.0) as i64));

    let bad = client()
        .get(with_query(
            &format!("{}/api/v1/query_range", w.prometheus_url),
            &[
                ("query", "up"),
                ("start", "10"),
                ("end", "5"),
                ("step", "1"),
            ],
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sentry_incident_appears_after_the_half_step() {
    let before = frozen(60.0).await;
    let after = frozen(100.0).await;
    let list = |w: &SimWorld| {
        format!(
            "{}/api/0/projects/acme/checkout/issues/?query=is%3Aunresolved&statsPeriod=24h",
            w.sentry_url
        )
    };
    let (status, _, a) = get_json(&list(&before)).await;
    assert_eq!(status, StatusCode::OK);
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["shortId"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(ids(&a), vec!["CHECKOUT-1K", "CHECKOUT-2A"]);
    let (_, h, b) = get_json(&list(&after)).await;
    assert_eq!(ids(&b)[0], "CHECKOUT-3F");
    let inc = &b[0];
    assert_eq!(
        inc["title"],
        "TypeError: cannot read property 'amount' of undefined"
    );
    assert_eq!(inc["count"], "35");
    assert_eq!(inc["firstSeen"], "2026-11-23T09:01:23Z");
    assert_eq!(inc["status"], "unresolved");
    assert!(inc["userCount"].is_u64());
    assert_eq!(inc["project"]["slug"], "checkout");
    assert_eq!(inc["stats"]["24h"].as_array().map(Vec::len), Some(24));
    let link = header(&h, "link");
    assert!(
        link.contains("rel=\"previous\"; results=\"false\""),
        "{link}"
    );
    assert!(link.contains("rel=\"next\"; results=\"false\""), "{link}");

    let id = inc["id"].as_str().expect("id");
    let (status, _, detail) = get_json(&format!(
        "{}/api/0/organizations/acme/issues/{id}/",
        after.sentry_url
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["shortId"], "CHECKOUT-3F");
    let (status, _, event) = get_json(&format!(
        "{}/api/0/organizations/acme/issues/{id}/events/latest/",
        after.sentry_url
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let exc = &event["entries"][0];
    assert_eq!(exc["type"], "exception");
    let frames = exc["data"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .expect("frames");
    let crash = frames.last().expect("frame");
    assert_eq!(crash["filename"], "checkout/payment.js");
    assert_eq!(crash["lineNo"], 118);
    assert!(crash["context"].as_array().is_some_and(|c| !c.is_empty()));

    let (status, _, _) = get_json(&format!(
        "{}/api/0/organizations/acme/issues/{id}/",
        before.sentry_url
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = get_json(&format!(
        "{}/api/0/projects/acme/nope/issues/",
        after.sentry_url
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"detail": "The requested resource does not exist"})
    );

    let (_, h, page) = get_json(&format!(
        "{}/api/0/projects/acme/checkout/issues/?limit=2",
        after.sentry_url
    ))
    .await;
    assert_eq!(page.as_array().map(Vec::len), Some(2));
    assert!(header(&h, "link").contains("rel=\"next\"; results=\"true\"; cursor=\"0:2:0\""));
}

#[tokio::test]
async fn sentry_python_incident_has_vars_and_its_own_platform() {
    let before = frozen(85.0).await;
    let w = frozen(100.0).await;
    let list = |w: &SimWorld, extra: &str| {
        format!(
            "{}/api/0/projects/acme/checkout/issues/?query=is%3Aunresolved&statsPeriod=24h{extra}",
            w.sentry_url
        )
    };
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["shortId"].as_str().map(String::from))
            .collect()
    };
    // First seen at 86: 3 s after CHECKOUT-3F, 6 s after the 50 % step.
    assert!(!ids(&get_json(&list(&before, "")).await.2).contains(&"CHECKOUT-4C".to_string()));
    let (_, _, issues) = get_json(&list(&w, "")).await;
    let issue = issues
        .as_array()
        .and_then(|a| a.iter().find(|i| i["shortId"] == "CHECKOUT-4C"))
        .expect("CHECKOUT-4C listed")
        .clone();
    assert_eq!(issue["id"], "6120007");
    assert_eq!(issue["platform"], "python");
    assert_eq!(issue["culprit"], "worker.refunds in split_refund");
    assert_eq!(
        issue["title"],
        "ZeroDivisionError: integer division or modulo by zero"
    );
    assert_eq!(issue["firstSeen"], "2026-11-23T09:01:26Z");
    assert_eq!(issue["stats"]["24h"].as_array().map(Vec::len), Some(24));
    // `environment` filters: checkout's incidents are production's.
    assert!(
        ids(&get_json(&list(&w, "&environment=production")).await.2)
            .contains(&"CHECKOUT-4C".to_string())
    );
    assert_eq!(
        ids(&get_json(&list(&w, "&environment=staging")).await.2),
        Vec::<String>::new()
    );
    // statsPeriod=14d: daily buckets.
    let (_, _, daily) = get_json(&list(&w, "").replace("24h", "14d")).await;
    assert_eq!(daily[0]["stats"]["14d"].as_array().map(Vec::len), Some(14));

    let (status, _, event) = get_json(&format!(
        "{}/api/0/organizations/acme/issues/6120007/events/latest/",
        w.sentry_url
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(event["platform"], "python");
    let release = &event["release"]["version"];
    assert_eq!(release, "checkout@2.14.0");
    let tags = event["tags"].as_array().expect("tags");
    assert!(tags.contains(&json!({"key": "environment", "value": "production"})));
    let exc = &event["entries"][0]["data"]["values"][0];
    assert_eq!(exc["type"], "ZeroDivisionError");
    assert_eq!(exc["value"], "integer division or modulo by zero");
    assert_eq!(exc["module"], "builtins");
    let frames = exc["stacktrace"]["frames"].as_array().expect("frames");
    let names: Vec<(&str, bool, i64)> = frames
        .iter()
        .map(|f| {
            (
                f["function"].as_str().unwrap_or(""),
                f["inApp"].as_bool().unwrap_or(false),
                f["lineNo"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("_receive_callback", false, 654),
            ("handle_refund", true, 8),
            ("refund_order", true, 14),
            ("split_refund", true, 6)
        ]
    );
    assert_eq!(
        frames[0]["absPath"],
        "/usr/lib/python3.11/site-packages/kombu/messaging.py"
    );
    assert_eq!(frames[0]["module"], "kombu.messaging");
    assert_eq!(frames[0]["context"], json!([]));
    assert_eq!(frames[3]["module"], "worker.refunds");
    assert_eq!(frames[3]["absPath"], "/srv/checkout/worker/refunds.py");
    assert_eq!(frames[3]["vars"], json!({"total_cents": 4599, "parts": 0}));
    assert_eq!(frames[2]["vars"]["open_shipments"], json!([]));
    assert_eq!(frames[1]["vars"]["order"]["id"], "'ord_1842'");
    assert_eq!(
        frames[1]["vars"]["order"]["shipments"][1],
        json!({"id": "'shp_2'", "delivered": true})
    );
    assert_eq!(
        frames[3]["context"],
        json!([
            [3, ""],
            [4, "def split_refund(total_cents, parts):"],
            [
                5,
                "    \"\"\"Split a refund into equal parts; the remainder goes on the first.\"\"\""
            ],
            [6, "    share = total_cents // parts"],
            [7, "    remainder = total_cents - share * parts"],
            [8, "    return [share + remainder] + [share] * (parts - 1)"],
            [9, ""]
        ])
    );
    // The file ends at line 14: the context stops there.
    assert_eq!(frames[2]["context"].as_array().map(Vec::len), Some(4));
    assert_eq!(frames[1]["context"][5], json!([10, "    return parts"]));
    // The JavaScript incident keeps its data: node, no vars.
    let (_, _, js) = get_json(&format!(
        "{}/api/0/organizations/acme/issues/6120003/events/latest/",
        w.sentry_url
    ))
    .await;
    assert_eq!(js["platform"], "node");
    let js_frames = js["entries"][0]["data"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .expect("frames");
    assert!(js_frames.iter().all(|f| f["vars"].is_null()));
}

#[tokio::test]
async fn the_sentry_client_reads_the_demos_python_event() {
    let w = frozen(100.0).await;
    let cfg = crate::config::Config::parse(&w.config_toml(), "demo").expect("demo config");
    let sentry = cfg.sentry.expect("sentry configured");
    let http = crate::sources::http::Http::new(std::time::Duration::from_secs(30)).expect("http");
    let client = crate::sources::sentry::Sentry::new(http, &sentry, None);
    let e = client.latest_event("6120007").await.expect("latest event");
    assert_eq!(e.platform, "python");
    assert_eq!(e.release.as_deref(), Some("checkout@2.14.0"));
    assert_eq!(e.environment.as_deref(), Some("production"));
    assert_eq!(e.issue_id, "6120007");
    let x = e.raised().expect("an exception");
    assert_eq!((x.kind.as_str(), x.frames.len()), ("ZeroDivisionError", 4));
    let crash = e.crash_frame().expect("crash frame");
    assert_eq!(crash.function.as_deref(), Some("split_refund"));
    assert_eq!(crash.line, Some(6));
    assert_eq!(crash.path(), Some("/srv/checkout/worker/refunds.py"));
    assert_eq!(
        crash.vars,
        vec![
            ("parts".to_string(), json!(0)),
            ("total_cents".to_string(), json!(4599))
        ]
    );
    assert_eq!(e.in_app_frames().count(), 3);
    assert_eq!(
        crash
            .context
            .iter()
            .find(|(n, _)| *n == 6)
            .map(|(_, t)| t.as_str()),
        Some("    share = total_cents // parts")
    );
    // An unknown issue is a typed 404.
    let missing = client.latest_event("999").await;
    assert!(
        matches!(
            missing,
            Err(crate::domain::SourceError::Status { status: 404, .. })
        ),
        "{missing:?}"
    );
}

#[tokio::test]
async fn opening_the_python_incident_fetches_and_draws_its_stack_trace() {
    use crate::app::{Effect, Fetch, Msg, State, Tab, update};
    let w = frozen(100.0).await;
    let cfg = crate::config::Config::parse(&w.config_toml(), "demo").expect("demo config");
    let sentry_cfg = cfg.sentry.expect("sentry configured");
    let http = crate::sources::http::Http::new(std::time::Duration::from_secs(30)).expect("http");
    let mut poller = crate::sources::sentry::Sentry::new(http.clone(), &sentry_cfg, None);
    let data = poller.poll().await.expect("poll");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let fetcher = crate::ops::exec::Fetcher {
        drafts: Default::default(),
        github: None,
        sentry: Some(std::sync::Arc::new(crate::sources::sentry::Sentry::new(
            http,
            &sentry_cfg,
            None,
        ))),
        tx,
    };

    let now = time::OffsetDateTime::now_utc();
    let mut state = State::new(crate::app::keymap::Keymap::default(), Vec::new(), now);
    state.size = (200, 60);
    state.sources[crate::domain::SourceId::Sentry as usize].configured = true;
    state.tab = Tab::Incidents;
    update(
        &mut state,
        Msg::loaded(crate::domain::SourceId::Sentry, Ok(data), now),
    );
    let at = state
        .incidents
        .list
        .view
        .iter()
        .position(|&i| state.incidents.items[i as usize].short_id == "CHECKOUT-4C")
        .expect("CHECKOUT-4C listed");
    state.incidents.list.selected = at;
    // Opening the detail pane asks for the event, once.
    let fx = update(
        &mut state,
        Msg::key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Enter,
        )),
    );
    let fetches: Vec<Fetch> = fx
        .into_iter()
        .filter_map(|e| match e {
            Effect::Fetch(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(fetches.len(), 1, "{fetches:?}");
    assert!(state.detail);
    for f in fetches {
        fetcher.spawn(f);
    }
    let msg = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("an answer in time")
        .expect("a message");
    update(&mut state, msg);
    let theme = crate::ui::theme::Theme::default();
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 60)).expect("terminal");
    term.draw(|f| {
        crate::ui::render(&state, &theme, f);
    })
    .expect("draw");
    let screen = format!("{}", term.backend());
    assert!(
        screen.contains("▶ worker/refunds.py in split_refund at line 6"),
        "{screen}"
    );
    assert!(screen.contains("release     checkout@2.14.0"), "{screen}");
    assert!(screen.contains("total_cents = 4599"), "{screen}");
    assert!(
        screen.contains("⋯ kombu/messaging.py in _receive_callback"),
        "{screen}"
    );
}

#[tokio::test]
async fn llm_completion_has_the_openai_shape() {
    let w = frozen(5.0).await;
    let req = json!({
        "model": "sim-analyst",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Canary checkout at 50%: error rate 3% vs max 0.5%.\u{1b}[0m"}
        ]
    });
    let url = format!("{}/chat/completions", w.llm_url);
    let resp = client()
        .post(&url)
        .json(&req)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "sim-analyst");
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|i| i.starts_with("chatcmpl-"))
    );
    assert!(body["created"].is_i64());
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert!(choice["logprobs"].is_null());
    assert_eq!(choice["message"]["role"], "assistant");
    assert!(choice["message"]["refusal"].is_null());
    assert_eq!(choice["message"]["annotations"], json!([]));
    let content = choice["message"]["content"].as_str().expect("content");
    assert!(
        content.starts_with("Summary: Canary checkout at 50%"),
        "{content}"
    );
    assert!(!content.chars().any(char::is_control));
    assert!(body["usage"]["total_tokens"].is_u64());

    let again: Value = client()
        .post(&url)
        .json(&req)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(again, body, "deterministic");

    let mut streaming = req.clone();
    streaming["stream"] = json!(true);
    let resp = client()
        .post(&url)
        .json(&streaming)
        .send()
        .await
        .expect("request");
    assert!(header(resp.headers(), "content-type").starts_with("text/event-stream"));
    let text = resp.text().await.expect("text");
    assert!(text.ends_with("data: [DONE]\n\n"));
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("chunk json"))
        .collect();
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let streamed: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(streamed, content);
    assert_eq!(
        chunks
            .last()
            .map(|c| c["choices"][0]["finish_reason"].clone()),
        Some(json!("stop"))
    );

    let bad = client()
        .post(&url)
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let err: Value = bad.json().await.expect("json");
    assert_eq!(err["error"]["type"], "invalid_request_error");

    let (_, _, models) = get_json(&format!("{}/models", w.llm_url)).await;
    assert_eq!(models["data"][0]["id"], "sim-analyst");
    assert_eq!(w.requests().llm, 5);
}

#[tokio::test]
async fn config_toml_points_at_the_world() {
    let w = frozen(0.0).await;
    let cfg = w.config_toml();
    let table: toml::Table = cfg.parse().expect("valid TOML");
    assert_eq!(
        table["github"]["api_url"].as_str(),
        Some(w.github_url.as_str())
    );
    assert_eq!(
        table["prometheus"]["url"].as_str(),
        Some(w.prometheus_url.as_str())
    );
    assert_eq!(table["sentry"]["url"].as_str(), Some(w.sentry_url.as_str()));
    assert_eq!(table["ai"]["url"].as_str(), Some(w.llm_url.as_str()));
    let services = table["service"].as_array().expect("services");
    assert_eq!(services.len(), 2);
    let checkout = &services[0];
    assert_eq!(checkout["production"].as_bool(), Some(true));
    let canary = checkout["metrics"]["error_rate"]["canary"]
        .as_str()
        .expect("query");
    assert_eq!(canary, error_rate_query("checkout", "canary"));
    // Every query of the config evaluates.
    for svc in services {
        let mut queries = vec![svc["weight"].as_str().unwrap_or_default().to_string()];
        for metric in ["error_rate", "p99_ms"] {
            for side in ["canary", "baseline"] {
                queries.push(
                    svc["metrics"][metric][side]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
        for q in queries {
            let (status, body) = prom_query(&w, &q).await;
            assert_eq!(status, StatusCode::OK, "{q}");
            assert_eq!(
                body["data"]["result"].as_array().map(Vec::len),
                Some(1),
                "{q}"
            );
        }
    }
    assert!(w.scenario_secs() == 0.0);
    let rollback = &checkout["rollback"];
    assert_eq!(rollback["workflow"].as_str(), Some("rollback.yml"));
    assert_eq!(rollback["inputs"]["to"].as_str(), Some("{last_good_sha}"));
    let parsed = crate::config::Config::parse(&cfg, "demo").expect("flightdeck accepts the config");
    assert_eq!(parsed.services.len(), 2);
    for svc in &parsed.services {
        let rb = svc.rollback.as_ref().expect("rollback");
        assert_eq!(rb.workflow.as_deref(), Some("rollback.yml"));
        assert_eq!(
            rb.inputs.get("service").map(String::as_str),
            Some("{service}")
        );
        assert_eq!(
            rb.inputs.get("environment").map(String::as_str),
            Some("{environment}")
        );
    }
}

#[tokio::test]
async fn shutdown_closes_the_listeners() {
    let w = frozen(0.0).await;
    let url = format!("{}/user", w.github_url);
    assert!(client().get(&url).send().await.is_ok());
    w.shutdown();
    let mut refused = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if client().get(&url).send().await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused);
}

// ---------------------------------------------------------------------------------------------
// GitHub: pull-request detail, checks, jobs, logs and the actions on runs.

const FAILED_RUN: u64 = 9_200_000_104;
const HELD_RUN: u64 = 9_200_000_103;
const RUNNING_RUN: u64 = 9_200_000_105;
const PRODUCTION: u64 = 161_088_101;
/// "test (node 20)" of the failed run, attempt 1.
const FAILED_JOB: u64 = 33_000_104_012;

/// A world whose scenario runs 50× (GitHub's story is over at t = 200): action consequences
/// (5-6 scenario seconds) play out within ~0.12 wall seconds.
async fn fast() -> SimWorld {
    start(SimOptions {
        speed: 50.0,
        start_at_secs: 200.0,
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts")
}

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn post_json(url: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = client().post(url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json::<Value>().await.unwrap_or(Value::Null))
}

fn run_url(w: &SimWorld, id: u64) -> String {
    format!("{}/repos/acme/checkout/actions/runs/{id}", w.github_url)
}

async fn pull(w: &SimWorld, n: u64) -> Value {
    let repo = if n < 100 { "acme/web" } else { "acme/checkout" };
    let (status, _, body) = get_json(&format!("{}/repos/{repo}/pulls/{n}", w.github_url)).await;
    assert_eq!(status, StatusCode::OK, "#{n}");
    body
}

async fn checks_of(w: &SimWorld, repo: &str, reference: &str) -> Value {
    let (status, _, body) = get_json(&format!(
        "{}/repos/{repo}/commits/{reference}/check-runs?per_page=100",
        w.github_url
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{reference}");
    body
}

/// (name, status, conclusion) of each check run.
fn check_states(v: &Value) -> Vec<(String, String, Option<String>)> {
    v["check_runs"]
        .as_array()
        .expect("check_runs")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
                c["conclusion"].as_str().map(String::from),
            )
        })
        .collect()
}

fn job_named<'a>(jobs: &'a Value, name: &str) -> &'a Value {
    jobs["jobs"]
        .as_array()
        .and_then(|j| j.iter().find(|j| j["name"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn github_pull_detail_reviews_and_files_are_consistent() {
    let w = frozen(30.0).await;
    let expected = [
        (412, Some(true), "clean"),
        (415, Some(true), "blocked"),
        (418, Some(true), "unstable"),
        (419, Some(true), "draft"),
        (421, Some(false), "dirty"),
        (88, Some(true), "behind"),
        (90, Some(true), "clean"),
        (91, Some(true), "draft"),
    ];
    let (_, _, list) = get_json(&format!("{}/repos/acme/checkout/pulls", w.github_url)).await;
    for (n, mergeable, state) in expected {
        let pr = pull(&w, n).await;
        assert_eq!(pr["mergeable"].as_bool(), mergeable, "#{n}");
        assert_eq!(pr["mergeable_state"], state, "#{n}");
        if n > 100 {
            let listed = list
                .as_array()
                .and_then(|l| l.iter().find(|p| p["number"] == n))
                .expect("listed");
            assert_eq!(listed["head"]["sha"], pr["head"]["sha"]);
        }
        // Files: paginated by 30; sums agree with the detail.
        let repo = pr["base"]["repo"]["full_name"].as_str().expect("repo");
        let mut url = format!("{}/repos/{repo}/pulls/{n}/files", w.github_url);
        let mut files = Vec::new();
        loop {
            let (status, h, page) = get_json(&url).await;
            assert_eq!(status, StatusCode::OK);
            files.extend(page.as_array().cloned().unwrap_or_default());
            match rel(&links(&h), "next") {
                Some(next) => url = next.to_string(),
                None => break,
            }
        }
        let sum = |k: &str| {
            files
                .iter()
                .map(|f| f[k].as_u64().unwrap_or(0))
                .sum::<u64>()
        };
        assert_eq!(
            files.len() as u64,
            pr["changed_files"].as_u64().unwrap_or(0),
            "#{n}"
        );
        assert_eq!(
            sum("additions"),
            pr["additions"].as_u64().unwrap_or(0),
            "#{n}"
        );
        assert_eq!(
            sum("deletions"),
            pr["deletions"].as_u64().unwrap_or(0),
            "#{n}"
        );
        for f in &files {
            let patch = f["patch"].as_str().expect("patch");
            let count = |c: char| {
                patch
                    .lines()
                    .skip(1)
                    .filter(|l| !l.starts_with("@@") && l.starts_with(c))
                    .count() as u64
            };
            assert_eq!(count('+'), f["additions"].as_u64().unwrap_or(0), "{f}");
            assert_eq!(count('-'), f["deletions"].as_u64().unwrap_or(0), "{f}");
            assert_eq!(
                f["changes"],
                f["additions"].as_u64().unwrap_or(0) + f["deletions"].as_u64().unwrap_or(0)
            );
            assert!(f["sha"].as_str().is_some_and(|s| s.len() == 40));
            assert!(f["blob_url"].as_str().is_some_and(|u| u.contains("/blob/")));
            assert!(f["raw_url"].as_str().is_some_and(|u| u.contains("/raw/")));
        }
    }
    let (_, h, first) = get_json(&format!("{}/repos/acme/web/pulls/90/files", w.github_url)).await;
    assert_eq!(first.as_array().map(Vec::len), Some(30));
    assert!(rel(&links(&h), "last").is_some_and(|u| u.ends_with("page=2")));
    let (_, _, hotfix) = get_json(&format!(
        "{}/repos/acme/checkout/pulls/415/files",
        w.github_url
    ))
    .await;
    let renamed = hotfix
        .as_array()
        .and_then(|f| f.iter().find(|f| f["status"] == "renamed"))
        .expect("a renamed file");
    assert_eq!(renamed["previous_filename"], "src/payment.js");

    let reviews = |n: u64| {
        let url = format!("{}/repos/acme/checkout/pulls/{n}/reviews", w.github_url);
        async move { get_json(&url).await.2 }
    };
    let states = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        (
                            r["user"]["login"].as_str().unwrap_or_default().to_string(),
                            r["state"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let r412 = reviews(412).await;
    assert_eq!(
        states(&r412)
            .iter()
            .filter(|(_, s)| s == "APPROVED")
            .count(),
        2
    );
    let first = &r412[0];
    for key in [
        "id",
        "node_id",
        "user",
        "body",
        "state",
        "html_url",
        "pull_request_url",
        "author_association",
        "_links",
        "submitted_at",
        "commit_id",
    ] {
        assert!(first.get(key).is_some(), "review has {key}");
    }
    let r418 = states(&reviews(418).await);
    assert_eq!(
        r418.iter()
            .filter(|(u, _)| u == "mara-k")
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>(),
        ["CHANGES_REQUESTED", "APPROVED"],
        "latest per reviewer wins"
    );
    assert!(r418.iter().any(|(_, s)| s == "DISMISSED"));
    assert_eq!(
        states(&reviews(415).await).last().map(|r| r.1.as_str()),
        Some("CHANGES_REQUESTED")
    );
    assert_eq!(reviews(421).await, json!([]));
    let (status, _, _) = get_json(&format!(
        "{}/repos/acme/checkout/pulls/999/reviews",
        w.github_url
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn github_hotfix_pull_request_goes_green_over_time() {
    // (t, mergeable, state, requested reviewers)
    for (t, mergeable, state, requested) in [
        (145.0, None, "unknown", 1),
        (160.0, Some(true), "blocked", 1),
        (170.0, Some(true), "unstable", 0),
        (178.0, Some(true), "clean", 0),
    ] {
        let w = frozen(t).await;
        let pr = pull(&w, 422).await;
        assert_eq!(pr["mergeable"].as_bool(), mergeable, "t={t}");
        assert_eq!(pr["mergeable_state"], state, "t={t}");
        assert_eq!(
            pr["requested_reviewers"].as_array().map(Vec::len),
            Some(requested),
            "t={t}"
        );
        let sha = pr["head"]["sha"].as_str().expect("sha").to_string();
        let checks = checks_of(&w, "acme/checkout", &sha).await;
        let statuses: Vec<String> = check_states(&checks).into_iter().map(|c| c.1).collect();
        if t < 146.0 {
            assert!(statuses.iter().all(|s| s == "queued"), "t={t} {statuses:?}");
        } else if t < 176.0 {
            assert!(
                statuses.iter().any(|s| s == "in_progress"),
                "t={t} {statuses:?}"
            );
        } else {
            assert!(
                statuses.iter().all(|s| s == "completed"),
                "t={t} {statuses:?}"
            );
        }
    }
}

#[tokio::test]
async fn github_check_runs_and_statuses_follow_the_runs() {
    let w = frozen(30.0).await;
    let later = frozen(100.0).await;
    let pr418 = pull(&w, 418).await;
    let sha418 = pr418["head"]["sha"].as_str().expect("sha").to_string();
    let checks = checks_of(&w, "acme/checkout", &sha418).await;
    assert_eq!(checks["total_count"], 4);
    let states = check_states(&checks);
    let find = |name: &str| states.iter().find(|c| c.0 == name).cloned();
    assert_eq!(
        find("test (node 20)"),
        Some((
            "test (node 20)".into(),
            "completed".into(),
            Some("failure".into())
        ))
    );
    assert_eq!(find("build").and_then(|c| c.2), Some("skipped".into()));
    assert_eq!(find("lint").and_then(|c| c.2), Some("success".into()));
    let failing = checks["check_runs"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "test (node 20)"))
        .expect("failing check");
    assert_eq!(failing["id"], FAILED_JOB, "check run id = job id");
    assert_eq!(failing["head_sha"], sha418.as_str());
    assert_eq!(failing["app"]["slug"], "github-actions");
    assert_eq!(
        failing["output"]["title"],
        "Process completed with exit code 1."
    );
    assert_eq!(failing["pull_requests"][0]["number"], 418);
    assert!(failing["started_at"].is_string() && failing["completed_at"].is_string());
    assert!(
        failing["details_url"]
            .as_str()
            .is_some_and(|u| u.contains("/job/"))
    );
    // check_name and status filters; short SHA and branch names resolve.
    let (_, _, one) = get_json(&format!(
        "{}/repos/acme/checkout/commits/{}/check-runs?check_name=lint",
        w.github_url,
        &sha418[..7]
    ))
    .await;
    assert_eq!(one["total_count"], 1);
    let (_, _, main) = get_json(&format!(
        "{}/repos/acme/checkout/commits/main/check-runs?status=completed",
        w.github_url
    ))
    .await;
    assert!(
        main["total_count"].as_u64().is_some_and(|n| n >= 5),
        "{main}"
    );
    let (status, _, body) = get_json(&format!(
        "{}/repos/acme/checkout/commits/0000000/check-runs",
        w.github_url
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["message"], "No commit found for SHA: 0000000");

    // #415: in progress at 30, green at 100.
    let sha415 = pull(&w, 415).await["head"]["sha"]
        .as_str()
        .expect("sha")
        .to_string();
    let running = check_states(&checks_of(&w, "acme/checkout", &sha415).await);
    assert!(running.iter().any(|c| c.1 == "in_progress"), "{running:?}");
    assert!(running.iter().any(|c| c.1 == "completed"), "{running:?}");
    let done = check_states(&checks_of(&later, "acme/checkout", &sha415).await);
    assert!(
        done.iter().all(|c| c.2.as_deref() == Some("success")),
        "{done:?}"
    );

    // Combined legacy statuses.
    let combined = |w: &SimWorld, repo: &str, sha: String| {
        let url = format!("{}/repos/{repo}/commits/{sha}/status", w.github_url);
        async move { get_json(&url).await.2 }
    };
    let none = combined(&w, "acme/checkout", sha418.clone()).await;
    assert_eq!(none["state"], "pending");
    assert_eq!(none["statuses"], json!([]));
    assert_eq!(none["total_count"], 0);
    assert_eq!(none["sha"], sha418.as_str());
    let sha412 = pull(&w, 412).await["head"]["sha"]
        .as_str()
        .expect("sha")
        .to_string();
    let green = combined(&w, "acme/checkout", sha412).await;
    assert_eq!(green["state"], "success");
    assert_eq!(green["total_count"], 2);
    let status = &green["statuses"][0];
    assert_eq!(status["context"], "codecov/patch");
    for key in [
        "context",
        "state",
        "description",
        "target_url",
        "created_at",
        "updated_at",
        "id",
        "url",
    ] {
        assert!(status.get(key).is_some(), "status has {key}");
    }
    assert_eq!(
        combined(&w, "acme/checkout", sha415.clone()).await["state"],
        "pending"
    );
    assert_eq!(
        combined(&later, "acme/checkout", sha415).await["state"],
        "failure"
    );
    let sha88 = pull(&w, 88).await["head"]["sha"]
        .as_str()
        .expect("sha")
        .to_string();
    let circle = combined(&w, "acme/web", sha88.clone()).await;
    assert_eq!(
        (circle["state"].as_str(), circle["total_count"].as_u64()),
        (Some("pending"), Some(1))
    );
    assert_eq!(circle["statuses"][0]["context"], "ci/circleci: e2e");
    assert_eq!(
        combined(&later, "acme/web", sha88).await["state"],
        "success"
    );
}

#[tokio::test]
async fn github_jobs_and_steps_tell_the_failure() {
    let w = frozen(30.0).await;
    let (status, _, jobs) = get_json(&format!("{}/jobs", run_url(&w, FAILED_RUN))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jobs["total_count"], 4);
    let failing = job_named(&jobs, "test (node 20)");
    assert_eq!(failing["id"], FAILED_JOB);
    assert_eq!(failing["run_id"], FAILED_RUN);
    assert_eq!(
        (failing["status"].as_str(), failing["conclusion"].as_str()),
        (Some("completed"), Some("failure"))
    );
    assert_eq!(failing["run_attempt"], 1);
    assert_eq!(failing["workflow_name"], "CI");
    assert_eq!(failing["head_branch"], "fix/colour-bleed");
    assert_eq!(failing["labels"], json!(["ubuntu-latest"]));
    assert!(failing["runner_name"].is_string());
    let steps = failing["steps"].as_array().expect("steps");
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(step("Run npm test")["conclusion"], "failure");
    assert_eq!(step("Upload coverage")["conclusion"], "skipped");
    assert_eq!(step("Complete job")["conclusion"], "success");
    assert!(steps.iter().enumerate().all(|(i, s)| s["number"] == i + 1));
    for other in ["lint", "test (node 18)"] {
        assert_eq!(job_named(&jobs, other)["conclusion"], "success", "{other}");
    }
    assert_eq!(job_named(&jobs, "build")["conclusion"], "skipped");

    let (status, _, one) = get_json(&format!(
        "{}/repos/acme/checkout/actions/jobs/{FAILED_JOB}",
        w.github_url
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["name"], "test (node 20)");

    // A running run has finished, running and queued steps.
    let (_, _, running) = get_json(&format!("{}/jobs", run_url(&w, RUNNING_RUN))).await;
    let step_states: Vec<&str> = running["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|j| j["steps"].as_array().into_iter().flatten())
        .filter_map(|s| s["status"].as_str())
        .collect();
    for s in ["completed", "in_progress", "queued"] {
        assert!(step_states.contains(&s), "{s} in {step_states:?}");
    }
    // The held deploy job waits.
    let (_, _, held) = get_json(&format!("{}/jobs", run_url(&w, HELD_RUN))).await;
    assert_eq!(job_named(&held, "build-image")["conclusion"], "success");
    let deploy = job_named(&held, "deploy (production)");
    assert_eq!(deploy["status"], "waiting");
    assert_eq!(deploy["steps"], json!([]));
    let (status, _, _) = get_json(&format!("{}/jobs?filter=bogus", run_url(&w, HELD_RUN))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = get_json(&format!("{}/jobs", run_url(&w, 1))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Whether `line` starts with `2026-11-23T09:00:03.1234567Z `.
fn stamped(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() >= 29
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[20..27].iter().all(u8::is_ascii_digit)
        && b[27] == b'Z'
        && b[28] == b' '
}

#[tokio::test]
async fn github_job_logs_redirect_to_a_blob_that_refuses_authorization() {
    let w = frozen(30.0).await;
    let logs = format!(
        "{}/repos/acme/checkout/actions/jobs/{FAILED_JOB}/logs",
        w.github_url
    );
    let resp = no_redirects().get(&logs).send().await.expect("request");
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert!(
        header(resp.headers(), "x-ratelimit-remaining")
            .parse::<u64>()
            .is_ok()
    );
    let location = header(resp.headers(), "location").to_string();
    assert!(
        location.starts_with(&format!(
            "{}/_blob/job-logs/{FAILED_JOB}?sig=",
            w.github_url
        )),
        "{location}"
    );

    // With an Authorization header the blob store refuses (as Azure does).
    let refused = client()
        .get(&location)
        .header("authorization", "Bearer ghp_secret")
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let text = refused.text().await.expect("text");
    assert!(text.contains("<Code>AuthenticationFailed</Code>"), "{text}");

    let ok = client().get(&location).send().await.expect("request");
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(header(ok.headers(), "content-type").starts_with("text/plain"));
    let bytes = ok.bytes().await.expect("body");
    assert!(
        bytes.starts_with(b"\xef\xbb\xbf"),
        "a UTF-8 BOM, as GitHub's logs"
    );
    let log = String::from_utf8_lossy(&bytes[3..]).into_owned();
    let lines: Vec<&str> = log.lines().collect();
    assert!((150..=300).contains(&lines.len()), "{} lines", lines.len());
    assert!(
        lines.iter().all(|l| stamped(l)),
        "every line has a timestamp"
    );
    assert!(
        lines.windows(2).all(|p| p[0][..28] <= p[1][..28]),
        "timestamps ascend"
    );
    let text: Vec<String> = lines
        .iter()
        .map(|l| super::util::clean_text(&l[29..]))
        .collect();
    let has = |needle: &str| text.iter().filter(|l| l.contains(needle)).count();
    assert!(log.contains("##[group]Run npm test") && log.contains("##[endgroup]"));
    assert!(log.contains('\u{1b}'), "ANSI colours from jest");
    assert!(has("npm warn deprecated") >= 3, "install noise");
    assert!(has("FAIL src/payment.test.js") >= 1);
    assert!(has("\u{25cf} charge \u{203a} rejects a card without amount") >= 2);
    assert_eq!(
        has("TypeError: Cannot read properties of undefined (reading 'amount')"),
        2,
        "repeated"
    );
    assert_eq!(has("at chargeCard (src/payment.js:118:23)"), 2);
    assert_eq!(has("Tests: 1 failed, 41 passed, 42 total"), 1);
    assert_eq!(
        text.iter()
            .filter(|l| *l == "##[error]Process completed with exit code 1.")
            .count(),
        1
    );

    // A successful job: a short log, no error.
    let ok_job = FAILED_JOB - 1;
    let ok_log = client()
        .get(format!(
            "{}/repos/acme/checkout/actions/jobs/{ok_job}/logs",
            w.github_url
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(ok_log.status(), StatusCode::OK, "redirect followed");
    let ok_log = ok_log.text().await.expect("text");
    assert!(ok_log.contains("42 passed") && !ok_log.contains("##[error]"));

    // A tampered signature, a job without a log yet, an unknown job.
    let tampered = location.replace("sig=", "sig=0");
    let resp = client().get(&tampered).send().await.expect("request");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (_, _, running) = get_json(&format!("{}/jobs", run_url(&w, RUNNING_RUN))).await;
    let unfinished = running["jobs"]
        .as_array()
        .and_then(|j| j.iter().find(|j| j["status"] != "completed"))
        .and_then(|j| j["id"].as_u64())
        .expect("an unfinished job");
    let resp = client()
        .get(format!(
            "{}/repos/acme/checkout/actions/jobs/{unfinished}/logs",
            w.github_url
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(
        resp.text()
            .await
            .expect("text")
            .contains("<Code>BlobNotFound</Code>")
    );
    let (status, _, body) = get_json(&format!(
        "{}/repos/acme/checkout/actions/jobs/42/logs",
        w.github_url
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "Not Found");

    let blobs = w.blob_requests();
    assert_eq!(
        blobs.iter().map(|b| b.authorization).collect::<Vec<_>>(),
        [true, false, false, false, false]
    );
    assert!(
        blobs
            .iter()
            .all(|b| b.method == "GET" && b.path.starts_with("/_blob/job-logs/"))
    );
    assert!(w.github_mutations().is_empty(), "GETs are not mutations");
}

#[tokio::test]
async fn github_approve_releases_the_held_deployment() {
    let w = frozen(30.0).await;
    let pending = format!("{}/pending_deployments", run_url(&w, HELD_RUN));
    let (status, _, held) = get_json(&pending).await;
    assert_eq!(status, StatusCode::OK);
    let env = &held[0]["environment"];
    assert_eq!(
        (env["id"].as_u64(), env["name"].as_str()),
        (Some(PRODUCTION), Some("production"))
    );
    assert_eq!(held[0]["current_user_can_approve"], true);
    assert_eq!(held[0]["reviewers"][1]["type"], "Team");
    let (_, h, before) = get_json(&run_url(&w, HELD_RUN)).await;
    assert_eq!(before["status"], "waiting");
    let etag = header(&h, "etag").to_string();
    // Not waiting: nothing pending.
    let (_, _, none) = get_json(&format!("{}/pending_deployments", run_url(&w, FAILED_RUN))).await;
    assert_eq!(none, json!([]));

    let body = json!({"environment_ids": [PRODUCTION], "state": "approved", "comment": "Ship it"});
    let (status, deployments) = post_json(&pending, Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{deployments}");
    let d = &deployments[0];
    assert_eq!(d["task"], "deploy");
    assert_eq!(d["environment"], "production");
    assert_eq!(d["ref"], "main");
    assert_eq!(d["sha"], before["head_sha"]);
    assert!(d["creator"]["login"].is_string() && d["statuses_url"].is_string() && d["id"].is_u64());

    let after = client()
        .get(run_url(&w, HELD_RUN))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(
        after.status(),
        StatusCode::OK,
        "the run changed, so did its ETag"
    );
    let after: Value = after.json().await.expect("json");
    assert_eq!(after["status"], "in_progress");
    assert!(after["conclusion"].is_null());
    assert_eq!(get_json(&pending).await.2, json!([]));
    let (_, _, jobs) = get_json(&format!("{}/jobs", run_url(&w, HELD_RUN))).await;
    assert_eq!(
        job_named(&jobs, "deploy (production)")["status"],
        "in_progress"
    );

    // A second approval finds nothing to approve.
    let (status, again) = post_json(&pending, Some(body.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again["message"],
        "No pending deployment requests to approve or reject"
    );

    let posts = w.github_mutations();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].method, "POST");
    assert_eq!(
        posts[0].path,
        format!("/repos/acme/checkout/actions/runs/{HELD_RUN}/pending_deployments")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&posts[0].body).ok(),
        Some(body)
    );
    assert!(!posts[0].authorization);

    // The deployment finishes APPROVE_SECS (5) scenario seconds later.
    let f = fast().await;
    let pending = format!("{}/pending_deployments", run_url(&f, HELD_RUN));
    let approve = json!({"environment_ids": [PRODUCTION], "state": "approved", "comment": ""});
    assert_eq!(post_json(&pending, Some(approve)).await.0, StatusCode::OK);
    settle().await;
    let (_, _, done) = get_json(&run_url(&f, HELD_RUN)).await;
    assert_eq!(
        (done["status"].as_str(), done["conclusion"].as_str()),
        (Some("completed"), Some("success"))
    );
    let (_, _, jobs) = get_json(&format!("{}/jobs", run_url(&f, HELD_RUN))).await;
    let deploy = job_named(&jobs, "deploy (production)");
    assert_eq!(deploy["conclusion"], "success");
    let id = deploy["id"].as_u64().expect("id");
    let log = client()
        .get(format!(
            "{}/repos/acme/checkout/actions/jobs/{id}/logs",
            f.github_url
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(log.status(), StatusCode::OK);
    assert!(
        log.text()
            .await
            .expect("text")
            .contains("kubectl set image")
    );
}

#[tokio::test]
async fn github_reject_fails_the_held_deployment() {
    let w = frozen(30.0).await;
    let pending = format!("{}/pending_deployments", run_url(&w, HELD_RUN));
    let (status, body) = post_json(
        &pending,
        Some(json!({"environment_ids": [PRODUCTION], "state": "rejected", "comment": "error rate 3x"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0]["environment"], "production");
    let (_, _, run) = get_json(&run_url(&w, HELD_RUN)).await;
    assert_eq!(
        (run["status"].as_str(), run["conclusion"].as_str()),
        (Some("completed"), Some("failure"))
    );
    assert_eq!(get_json(&pending).await.2, json!([]));
    let (_, _, jobs) = get_json(&format!("{}/jobs", run_url(&w, HELD_RUN))).await;
    let deploy = job_named(&jobs, "deploy (production)");
    assert_eq!(deploy["conclusion"], "failure");
    // It never ran: no log.
    let id = deploy["id"].as_u64().expect("id");
    let resp = client()
        .get(format!(
            "{}/repos/acme/checkout/actions/jobs/{id}/logs",
            w.github_url
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Re-running the failed deploy job holds it for approval again.
    let (status, _) = post_json(
        &format!("{}/rerun-failed-jobs", run_url(&w, HELD_RUN)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, _, run) = get_json(&run_url(&w, HELD_RUN)).await;
    assert_eq!(run["run_attempt"], 2);
    assert_eq!(run["status"], "queued");
}

#[tokio::test]
async fn github_pending_deployment_review_validates_the_body() {
    let w = frozen(30.0).await;
    let pending = format!("{}/pending_deployments", run_url(&w, HELD_RUN));
    let (status, body) = post_json(&pending, Some(json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["message"], "Validation Failed");
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap_or(""),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("missing_field", "environment_ids"),
            ("missing_field", "state"),
            ("missing_field", "comment")
        ]
    );
    assert!(body["documentation_url"].is_string());
    let (status, body) = post_json(
        &pending,
        Some(json!({"environment_ids": ["production"], "state": "maybe", "comment": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(3));
    assert!(
        body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| e["code"] == "invalid")
    );
    let resp = client()
        .post(&pending)
        .body("{nope")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (status, body) = post_json(
        &pending,
        Some(json!({"environment_ids": [1], "state": "approved", "comment": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["message"],
        "No pending deployment requests to approve or reject"
    );
    let (status, _) = post_json(
        &format!("{}/pending_deployments", run_url(&w, FAILED_RUN)),
        Some(json!({"environment_ids": [PRODUCTION], "state": "approved", "comment": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post_json(
        &format!("{}/pending_deployments", run_url(&w, 7)),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Still held: none of these changed anything.
    assert_eq!(
        get_json(&pending).await.2[0]["environment"]["id"],
        PRODUCTION
    );
    let recorded = w.github_mutations();
    assert_eq!(recorded.len(), 6);
    assert_eq!(recorded[2].body, "{nope");
    // GitHub answers 404 to a GET on a POST-only path.
    let (status, _, _) = get_json(&format!("{}/cancel", run_url(&w, RUNNING_RUN))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn github_rerun_failed_jobs_starts_attempt_two() {
    let w = frozen(30.0).await;
    let rerun = format!("{}/rerun-failed-jobs", run_url(&w, FAILED_RUN));
    let (status, body) = post_json(&rerun, None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body, json!({}));
    let (_, _, run) = get_json(&run_url(&w, FAILED_RUN)).await;
    assert_eq!(run["run_attempt"], 2);
    assert_eq!(run["status"], "queued");
    assert!(run["conclusion"].is_null());
    assert!(
        run["previous_attempt_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/attempts/1"))
    );
    let (_, _, jobs) = get_json(&format!("{}/jobs", run_url(&w, FAILED_RUN))).await;
    assert_eq!(jobs["total_count"], 4);
    let again = job_named(&jobs, "test (node 20)");
    assert_eq!(again["id"], 33_000_104_022_u64);
    assert_eq!(again["run_attempt"], 2);
    assert_eq!(again["status"], "queued");
    assert_eq!(job_named(&jobs, "build")["run_attempt"], 2);
    assert_eq!(job_named(&jobs, "lint")["run_attempt"], 1);
    let (_, _, all) = get_json(&format!("{}/jobs?filter=all", run_url(&w, FAILED_RUN))).await;
    assert_eq!(all["total_count"], 6);
    assert_eq!(pull(&w, 418).await["mergeable_state"], "unstable");

    let (status, body) = post_json(&rerun, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["message"], "This workflow is already running");
    let (status, body) = post_json(
        &format!("{}/rerun-failed-jobs", run_url(&w, 9_200_000_101)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["message"], "This workflow run cannot be retried");
    let (status, _) = post_json(&format!("{}/rerun-failed-jobs", run_url(&w, 5)), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The re-run goes green RERUN_SECS (6) scenario seconds later; #418 becomes clean.
    let f = fast().await;
    let (status, _) = post_json(
        &format!("{}/rerun-failed-jobs", run_url(&f, FAILED_RUN)),
        Some(json!({"enable_debug_logging": false})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    settle().await;
    let (_, _, run) = get_json(&run_url(&f, FAILED_RUN)).await;
    assert_eq!(
        (run["status"].as_str(), run["conclusion"].as_str()),
        (Some("completed"), Some("success"))
    );
    assert_eq!(run["run_attempt"], 2);
    assert_eq!(pull(&f, 418).await["mergeable_state"], "clean");
    let log = client()
        .get(format!(
            "{}/repos/acme/checkout/actions/jobs/33000104022/logs",
            f.github_url
        ))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(
        log.contains("re-run (attempt 2)") && log.contains("42 passed"),
        "{log}"
    );
}

#[tokio::test]
async fn github_cancel_stops_a_running_run() {
    let w = frozen(30.0).await;
    let cancel = format!("{}/cancel", run_url(&w, RUNNING_RUN));
    let (status, body) = post_json(&cancel, None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, json!({}));
    let (_, _, run) = get_json(&run_url(&w, RUNNING_RUN)).await;
    assert_eq!(
        (run["status"].as_str(), run["conclusion"].as_str()),
        (Some("completed"), Some("cancelled"))
    );
    let (_, _, jobs) = get_json(&format!("{}/jobs", run_url(&w, RUNNING_RUN))).await;
    assert!(
        jobs["jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|j| j["status"] == "completed"),
        "{jobs}"
    );
    assert!(
        jobs["jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|j| j["conclusion"] == "cancelled")
    );
    let (status, body) = post_json(&cancel, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["message"],
        "Cannot cancel a workflow run that is completed."
    );
    assert!(body["documentation_url"].is_string());
    let (status, _) = post_json(&format!("{}/cancel", run_url(&w, FAILED_RUN)), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A cancelled run's failed jobs can be re-run.
    let (status, _) = post_json(
        &format!("{}/rerun-failed-jobs", run_url(&w, RUNNING_RUN)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // Cancelling the held deploy drops its pending deployment.
    let (status, _) = post_json(&format!("{}/cancel", run_url(&w, HELD_RUN)), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        get_json(&format!("{}/pending_deployments", run_url(&w, HELD_RUN)))
            .await
            .2,
        json!([])
    );
    let (_, _, waiting) = get_json(&format!(
        "{}/repos/acme/checkout/actions/runs?status=waiting",
        w.github_url
    ))
    .await;
    assert_eq!(waiting["total_count"], 0);
    let paths: Vec<String> = w.github_mutations().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            format!("/repos/acme/checkout/actions/runs/{RUNNING_RUN}/cancel"),
            format!("/repos/acme/checkout/actions/runs/{RUNNING_RUN}/cancel"),
            format!("/repos/acme/checkout/actions/runs/{FAILED_RUN}/cancel"),
            format!("/repos/acme/checkout/actions/runs/{RUNNING_RUN}/rerun-failed-jobs"),
            format!("/repos/acme/checkout/actions/runs/{HELD_RUN}/cancel"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Rollback: workflow dispatch, the canary's metrics, deployments.

const LAST_GOOD: &str = "2.13.2";

fn dispatch_url(w: &SimWorld, repo: &str, workflow: &str) -> String {
    format!(
        "{}/repos/{repo}/actions/workflows/{workflow}/dispatches",
        w.github_url
    )
}

fn rollback_body(service: &str, to: &str, environment: &str) -> Value {
    json!({
        "ref": "main",
        "inputs": {"service": service, "to": to, "environment": environment}
    })
}

/// The value of an instant query: `Some(NaN)` for "NaN", `None` for an empty result.
async fn prom_value(w: &SimWorld, query: &str) -> Option<f64> {
    let (status, body) = prom_query(w, query).await;
    assert_eq!(status, StatusCode::OK, "{query}");
    assert_eq!(body["data"]["resultType"], "vector");
    let result = body["data"]["result"].as_array().expect("result");
    if result.is_empty() {
        return None;
    }
    assert_eq!(result.len(), 1, "{query}");
    Some(vector_value(&body))
}

async fn latest_runs(w: &SimWorld, repo: &str) -> Vec<Value> {
    let (status, _, body) = get_json(&format!("{}/repos/{repo}/actions/runs", w.github_url)).await;
    assert_eq!(status, StatusCode::OK);
    body["workflow_runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The environment's deployments, newest first, each with its statuses (newest first).
async fn deployments_of(w: &SimWorld, repo: &str, environment: &str) -> Vec<(Value, Vec<Value>)> {
    let (status, _, list) = get_json(&with_query(
        &format!("{}/repos/{repo}/deployments", w.github_url),
        &[("environment", environment)],
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut out = Vec::new();
    for d in list.as_array().cloned().unwrap_or_default() {
        let (status, _, statuses) = get_json(d["statuses_url"].as_str().expect("url")).await;
        assert_eq!(status, StatusCode::OK);
        out.push((d, statuses.as_array().cloned().unwrap_or_default()));
    }
    out
}

fn latest_state(statuses: &[Value]) -> &str {
    statuses
        .first()
        .and_then(|s| s["state"].as_str())
        .unwrap_or("")
}

#[tokio::test]
async fn github_rollback_dispatch_rolls_the_canary_back() {
    let w = frozen(100.0).await;
    let untouched = frozen(100.0).await;
    let err = error_rate_query("checkout", "canary");
    let p99 = p99_query("checkout", "canary");
    assert_eq!(prom_value(&w, &weight_query("checkout")).await, Some(50.0));
    assert!(prom_value(&w, &err).await.is_some_and(|v| v > 0.005));
    let canary_sha = get_json(&run_url(&w, HELD_RUN)).await.2["head_sha"].clone();

    let to = super::github_deploys::past_sha("acme/checkout", LAST_GOOD);
    let body = rollback_body("checkout", &to, "production");
    let resp = client()
        .post(dispatch_url(&w, "acme/checkout", "rollback.yml"))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.headers().get("content-type").is_none());
    assert!(resp.bytes().await.expect("body").is_empty());
    let posts = w.github_mutations();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].path,
        "/repos/acme/checkout/actions/workflows/rollback.yml/dispatches"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&posts[0].body).ok(),
        Some(body)
    );

    // A new run at the top of the list.
    let runs = latest_runs(&w, "acme/checkout").await;
    let run = &runs[0];
    assert_eq!(run["name"], "Rollback");
    assert_eq!(run["path"], ".github/workflows/rollback.yml");
    assert_eq!(run["event"], "workflow_dispatch");
    assert_eq!(run["head_branch"], "main");
    assert_eq!(run["head_sha"], canary_sha);
    assert_eq!(run["actor"]["login"], "demo-operator");
    assert!(matches!(
        run["status"].as_str(),
        Some("queued" | "in_progress")
    ));
    assert!(run["id"].as_u64() > runs[1]["id"].as_u64());
    let id = run["id"].as_u64().expect("id");
    let (status, _, one) = get_json(&run_url(&w, id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["id"], id);
    let (_, _, jobs) = get_json(&format!("{}/jobs", run_url(&w, id))).await;
    assert_eq!(jobs["jobs"][0]["name"], "rollback");

    // The canary: weight 0, no traffic (0 / 0); the baseline as before.
    assert_eq!(prom_value(&w, &weight_query("checkout")).await, Some(0.0));
    assert!(prom_value(&w, &err).await.is_some_and(f64::is_nan));
    assert!(prom_value(&w, &p99).await.is_some_and(f64::is_nan));
    for q in [
        error_rate_query("checkout", "stable"),
        p99_query("checkout", "stable"),
    ] {
        let after = prom_value(&w, &q).await;
        assert!(after.is_some_and(f64::is_finite), "{q}");
        assert_eq!(after, prom_value(&untouched, &q).await, "{q}");
    }
    // The other service and the held production deployment are left alone.
    assert_eq!(prom_value(&w, &weight_query("web")).await, Some(50.0));
    let (_, _, held) = get_json(&run_url(&w, HELD_RUN)).await;
    assert_eq!(held["status"], "waiting");
    let (_, _, pending) = get_json(&format!("{}/pending_deployments", run_url(&w, HELD_RUN))).await;
    assert_eq!(pending[0]["environment"]["id"], PRODUCTION);
}

#[tokio::test]
async fn github_rollback_run_completes_and_the_canary_series_end() {
    // 50× speed: the run completes 6 scenario seconds (0.12 s) after the dispatch, the canary's
    // idle minute is over after 1.2 s.
    let f = fast().await;
    assert_eq!(prom_value(&f, &weight_query("web")).await, Some(100.0));
    let to = super::github_deploys::past_sha("acme/web", "2026.11.16");
    let resp = client()
        .post(dispatch_url(&f, "acme/web", "61000014"))
        .json(&json!({"ref": "refs/heads/main", "inputs": {"service": "web", "to": to}, "return_run_details": true}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    let details: Value = resp.json().await.expect("json");
    // Right after the rollback the idle canary serves nothing: 0 / 0.
    assert!(
        prom_value(&f, &error_rate_query("web", "canary"))
            .await
            .is_some_and(f64::is_nan)
    );
    let id = details["workflow_run_id"].as_u64().expect("run id");
    assert_eq!(
        details["run_url"],
        format!("{}/repos/acme/web/actions/runs/{id}", f.github_url)
    );
    settle().await;
    let runs = latest_runs(&f, "acme/web").await;
    assert_eq!(runs[0]["id"], id);
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["conclusion"].as_str()),
        (Some("completed"), Some("success"))
    );
    assert_eq!(runs[0]["head_commit"]["message"], "Release 2026.11.23");
    let run = format!("{}/repos/acme/web/actions/runs/{id}", f.github_url);
    let (_, _, jobs) = get_json(&format!("{run}/jobs")).await;
    let job = &jobs["jobs"][0];
    assert_eq!(job["conclusion"], "success");
    assert!(
        job["steps"]
            .as_array()
            .is_some_and(|s| s.iter().all(|s| s["conclusion"] == "success"))
    );
    let log = client()
        .get(format!(
            "{}/repos/acme/web/actions/jobs/{}/logs",
            f.github_url, job["id"]
        ))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(log.contains("/rollback/open"), "{log}");
    assert!(log.contains(&to), "{log}");
    assert!(log.contains("Rolling back web in production"), "{log}");

    // After one rate window, no canary series at all.
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    assert_eq!(prom_value(&f, &weight_query("web")).await, Some(0.0));
    assert_eq!(
        prom_value(&f, &error_rate_query("web", "canary")).await,
        None
    );
    assert_eq!(prom_value(&f, &p99_query("web", "canary")).await, None);
    let base = prom_value(&f, &error_rate_query("web", "stable")).await;
    assert!(base.is_some_and(|v| v > 0.0 && v < 0.005));
    // checkout was not rolled back.
    assert_eq!(prom_value(&f, &weight_query("checkout")).await, Some(100.0));
    assert!(
        prom_value(&f, &error_rate_query("checkout", "canary"))
            .await
            .is_some_and(|v| v > 0.005)
    );
}

#[tokio::test]
async fn github_dispatch_validates_the_workflow_and_the_body() {
    let w = frozen(100.0).await;
    let url = dispatch_url(&w, "acme/checkout", "rollback.yml");
    let to = super::github_deploys::past_sha("acme/checkout", LAST_GOOD);
    let docs = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event";

    let (status, body) = post_json(
        &dispatch_url(&w, "acme/checkout", "nope.yml"),
        Some(rollback_body("checkout", &to, "production")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
    );
    let (status, _) = post_json(
        &dispatch_url(&w, "acme/nope", "rollback.yml"),
        Some(rollback_body("checkout", &to, "production")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let cases = [
        (
            json!({"inputs": {"service": "checkout", "to": to}}),
            "Invalid request.\n\n\"ref\" wasn't supplied.",
        ),
        (
            json!({"ref": "main", "inputs": {"service": "checkout", "to": 1}}),
            "Invalid request.\n\nFor 'properties/to', 1 is not a string.",
        ),
        (
            json!({"ref": "main", "inputs": ["checkout"]}),
            "Invalid request.\n\nFor 'properties/inputs', [\"checkout\"] is not an object.",
        ),
        (
            json!({"ref": "main", "service": "checkout"}),
            "Invalid request.\n\n\"service\" is not a permitted key.",
        ),
        (
            json!({"ref": "nope", "inputs": {"service": "checkout", "to": to}}),
            "No ref found for: nope",
        ),
        (
            json!({"ref": "main", "inputs": {"service": "checkout", "to": to, "force": "yes"}}),
            "Unexpected inputs provided: [\"force\"]",
        ),
        (
            json!({"ref": "main", "inputs": {"service": "checkout"}}),
            "Required input 'to' not provided",
        ),
    ];
    for (body, message) in cases {
        let (status, reply) = post_json(&url, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            reply,
            json!({"message": message, "documentation_url": docs}),
            "{body}"
        );
    }
    let (status, reply) = post_json(
        &dispatch_url(&w, "acme/checkout", "deploy.yml"),
        Some(json!({"ref": "main"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply["message"],
        "Workflow does not have 'workflow_dispatch' trigger"
    );
    let resp = client()
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"ref\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Nothing was dispatched, nothing rolled back; every attempt was recorded.
    assert!(
        latest_runs(&w, "acme/checkout")
            .await
            .iter()
            .all(|r| r["name"] != "Rollback")
    );
    assert_eq!(prom_value(&w, &weight_query("checkout")).await, Some(50.0));
    assert_eq!(w.github_mutations().len(), 11);
}

#[tokio::test]
async fn github_deployments_tell_the_last_good_release() {
    let w = frozen(10.0).await;
    let (_, _, held) = get_json(&run_url(&w, HELD_RUN)).await;
    let canary_sha = held["head_sha"].as_str().expect("sha").to_string();
    let production = deployments_of(&w, "acme/checkout", "production").await;
    assert_eq!(production.len(), 6);
    let created: Vec<&str> = production
        .iter()
        .map(|(d, _)| d["created_at"].as_str().unwrap_or(""))
        .collect();
    assert!(created.windows(2).all(|c| c[0] > c[1]), "{created:?}");
    for (d, statuses) in &production {
        assert_eq!(d["environment"], "production");
        // 2.13.1 was rolled back to 2.11.0 (from its tag), the one deployment of another task.
        if d["ref"] == "v2.11.0" {
            assert_eq!(d["task"], "deploy:rollback");
            assert_eq!(d["description"], "Roll back to 2.11.0");
        } else {
            assert_eq!(d["task"], "deploy");
        }
        assert_eq!(d["production_environment"], true);
        assert!(
            d["creator"]["login"].is_string() && d["sha"].as_str().is_some_and(|s| s.len() == 40)
        );
        let times: Vec<&str> = statuses
            .iter()
            .map(|s| s["created_at"].as_str().unwrap_or(""))
            .collect();
        assert!(times.windows(2).all(|t| t[0] >= t[1]), "{times:?}");
        assert!(statuses.iter().all(|s| s["deployment_url"] == d["url"]));
    }
    // The newest is the held canary deployment, waiting for approval.
    let (current, statuses) = &production[0];
    assert_eq!(current["sha"], canary_sha.as_str());
    assert_eq!(current["ref"], "main");
    assert_eq!(latest_state(statuses), "queued");
    assert_eq!(latest_state(&production[1].1), "failure");
    // The last successful production deployment is an older release.
    let (good, _) = production
        .iter()
        .skip(1)
        .find(|(_, s)| latest_state(s) == "success")
        .expect("a successful deployment");
    let last_good = super::github_deploys::past_sha("acme/checkout", LAST_GOOD);
    assert_eq!(good["sha"], last_good.as_str());
    assert_ne!(good["sha"], canary_sha.as_str());

    // Filters and paging.
    let list = |q: &[(&str, &str)]| {
        let url = with_query(
            &format!("{}/repos/acme/checkout/deployments", w.github_url),
            q,
        );
        async move { get_json(&url).await }
    };
    assert_eq!(list(&[("environment", "staging")]).await.2, json!([]));
    let (_, _, by_sha) = list(&[("sha", &last_good)]).await;
    assert_eq!(by_sha.as_array().map(Vec::len), Some(1));
    assert_eq!(by_sha[0]["id"], good["id"]);
    let (_, _, by_ref) = list(&[("ref", "main"), ("task", "deploy")]).await;
    assert_eq!(by_ref.as_array().map(Vec::len), Some(5));
    let (_, _, by_task) = list(&[("task", "deploy:rollback")]).await;
    assert_eq!(by_task.as_array().map(Vec::len), Some(1));
    let (_, h, page) = list(&[("environment", "production"), ("per_page", "2")]).await;
    assert_eq!(page.as_array().map(Vec::len), Some(2));
    assert!(rel(&links(&h), "last").is_some_and(|u| u.ends_with("page=3")));
    let (status, _, one) = get_json(current["url"].as_str().expect("url")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, *current);
    let (status, _, _) = get_json(&format!(
        "{}/repos/acme/checkout/deployments/1/statuses",
        w.github_url
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Staging of acme/web: older successes went inactive when a newer one succeeded.
    let staging = deployments_of(&w, "acme/web", "staging").await;
    let states: Vec<&str> = staging.iter().map(|(_, s)| latest_state(s)).collect();
    assert_eq!(states, ["in_progress", "success", "inactive"]);
    assert_eq!(
        staging[0].0["sha"],
        latest_runs(&w, "acme/web")
            .await
            .iter()
            .find(|r| r["name"] == "Deploy")
            .map_or(Value::Null, |r| r["head_sha"].clone())
    );
    assert_eq!(staging[0].0["production_environment"], false);
}

#[tokio::test]
async fn github_approval_marks_the_newest_deployment_success() {
    let f = fast().await;
    let before = deployments_of(&f, "acme/checkout", "production").await;
    assert_eq!(latest_state(&before[0].1), "queued");
    let pending = format!("{}/pending_deployments", run_url(&f, HELD_RUN));
    let (status, approved) = post_json(
        &pending,
        Some(json!({"environment_ids": [PRODUCTION], "state": "approved", "comment": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(approved[0]["id"], before[0].0["id"]);
    assert_eq!(approved[0]["created_at"], before[0].0["created_at"]);
    settle().await;
    let (_, _, run) = get_json(&run_url(&f, HELD_RUN)).await;
    assert_eq!(run["conclusion"], "success");
    let after = deployments_of(&f, "acme/checkout", "production").await;
    assert_eq!(after.len(), before.len());
    let (newest, statuses) = &after[0];
    assert_eq!(newest["id"], before[0].0["id"]);
    let states: Vec<&str> = statuses
        .iter()
        .map(|s| s["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states, ["success", "in_progress", "queued"]);
    assert_eq!(statuses[0]["created_at"], run["updated_at"]);
    assert_eq!(newest["updated_at"], run["updated_at"]);
    // Production deployments never go inactive: the older ones keep their outcome.
    assert_eq!(latest_state(&after[2].1), "success");
}

#[tokio::test]
async fn sentry_incident_stops_growing_after_the_rollback() {
    // Real time from scenario second 100: the incident grows by 2 events per second.
    let opts = SimOptions {
        speed: 4.0,
        start_at_secs: 100.0,
        ..SimOptions::default()
    };
    let w = start(opts.clone()).await.expect("demo world starts");
    let control = start(opts).await.expect("demo world starts");
    let issue = |w: &SimWorld| {
        format!(
            "{}/api/0/organizations/acme/issues/CHECKOUT-3F/",
            w.sentry_url
        )
    };
    let to = super::github_deploys::past_sha("acme/checkout", LAST_GOOD);
    let (status, _) = post_json(
        &dispatch_url(&w, "acme/checkout", "rollback.yml"),
        Some(rollback_body("checkout", &to, "production")),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let count = |v: &Value| v["count"].as_str().and_then(|c| c.parse::<u64>().ok());
    let frozen_at = count(&get_json(&issue(&w)).await.2);
    let growing = count(&get_json(&issue(&control)).await.2);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(count(&get_json(&issue(&w)).await.2), frozen_at);
    assert!(count(&get_json(&issue(&control)).await.2) > growing);
}

// ---- GraphQL: the PR list query ----

const PULLS_QUERY: &str = include_str!("../sources/github/pulls.graphql");

fn pulls_vars(repo: &str, first: i64, after: Option<&str>) -> Value {
    let (owner, name) = repo.split_once('/').expect("owner/name");
    json!({
        "query": PULLS_QUERY,
        "variables": {"owner": owner, "name": name, "first": first, "after": after}
    })
}

async fn graphql_raw(
    w: &SimWorld,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = client()
        .post(format!("{}/graphql", w.github_url))
        .header("content-type", "application/json")
        .header("accept", "application/vnd.github+json")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    (
        status,
        headers,
        resp.json::<Value>().await.unwrap_or(Value::Null),
    )
}

async fn graphql(w: &SimWorld, body: &Value) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    graphql_raw(w, body.to_string()).await
}

/// Every open PR node of `repo`, walking pages of `first`; also the number of pages.
async fn graphql_pulls(w: &SimWorld, repo: &str, first: i64) -> (Vec<Value>, usize) {
    let mut nodes = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let (status, _, body) = graphql(w, &pulls_vars(repo, first, after.as_deref())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.get("errors").is_none(), "{body}");
        let conn = &body["data"]["repository"]["pullRequests"];
        let page = conn["nodes"].as_array().expect("nodes");
        assert!(page.len() as i64 <= first);
        nodes.extend(page.iter().cloned());
        pages += 1;
        assert!(pages < 50, "pagination ends");
        if conn["pageInfo"]["hasNextPage"] == true {
            after = Some(
                conn["pageInfo"]["endCursor"]
                    .as_str()
                    .expect("endCursor")
                    .to_string(),
            );
        } else {
            assert_eq!(conn["totalCount"].as_u64(), Some(nodes.len() as u64));
            return (nodes, pages);
        }
    }
}

fn upper(v: &Value) -> Value {
    v.as_str()
        .map_or(Value::Null, |s| Value::from(s.to_ascii_uppercase()))
}

#[tokio::test]
async fn github_graphql_pulls_agree_with_rest() {
    for t in [30.0, 100.0, 145.0, 160.0, 170.0, 178.0] {
        let w = frozen(t).await;
        for repo in ["acme/checkout", "acme/web"] {
            let (nodes, _) = graphql_pulls(&w, repo, 100).await;
            let (_, _, list) = get_json(&format!(
                "{}/repos/{repo}/pulls?state=open&per_page=100",
                w.github_url
            ))
            .await;
            let mut rest: Vec<u64> = list
                .as_array()
                .expect("pulls")
                .iter()
                .filter_map(|p| p["number"].as_u64())
                .collect();
            let mut ours: Vec<u64> = nodes.iter().filter_map(|n| n["number"].as_u64()).collect();
            rest.sort_unstable();
            ours.sort_unstable();
            assert_eq!(ours, rest, "t={t} {repo}");
            let updated: Vec<&str> = nodes
                .iter()
                .map(|n| n["updatedAt"].as_str().expect("updatedAt"))
                .collect();
            assert!(
                updated.windows(2).all(|w| w[0] >= w[1]),
                "UPDATED_AT DESC: {updated:?}"
            );
            for node in &nodes {
                let n = node["number"].as_u64().expect("number");
                let ctx = format!("t={t} {repo}#{n}");
                let pr = pull(&w, n).await;
                assert_eq!(node["additions"], pr["additions"], "{ctx}");
                assert_eq!(node["deletions"], pr["deletions"], "{ctx}");
                assert_eq!(node["changedFiles"], pr["changed_files"], "{ctx}");
                assert_eq!(
                    node["mergeStateStatus"],
                    upper(&pr["mergeable_state"]),
                    "{ctx}"
                );
                assert_eq!(node["headRefOid"], pr["head"]["sha"], "{ctx}");
                assert_eq!(node["headRefName"], pr["head"]["ref"], "{ctx}");
                assert_eq!(node["baseRefName"], pr["base"]["ref"], "{ctx}");
                assert_eq!(node["url"], pr["html_url"], "{ctx}");
                assert_eq!(node["title"], pr["title"], "{ctx}");
                assert_eq!(node["isDraft"], pr["draft"], "{ctx}");
                assert_eq!(node["createdAt"], pr["created_at"], "{ctx}");
                assert_eq!(node["updatedAt"], pr["updated_at"], "{ctx}");
                assert_eq!(
                    node["body"].as_str(),
                    Some(pr["body"].as_str().unwrap_or("")),
                    "{ctx}: body is String!"
                );
                let author = pr["user"]["login"].as_str().expect("login");
                assert_eq!(
                    node["author"]["login"].as_str(),
                    Some(author.trim_end_matches("[bot]")),
                    "{ctx}"
                );
                let labels = |v: &Value| -> Vec<Value> {
                    v.as_array()
                        .map(|a| a.iter().map(|l| l["name"].clone()).collect())
                        .unwrap_or_default()
                };
                assert_eq!(
                    labels(&node["labels"]["nodes"]),
                    labels(&pr["labels"]),
                    "{ctx}"
                );

                // Reviews: the latest per reviewer, and the decision they make.
                let (_, _, reviews) = get_json(&format!(
                    "{}/repos/{repo}/pulls/{n}/reviews?per_page=100",
                    w.github_url
                ))
                .await;
                let reviews = reviews.as_array().cloned().unwrap_or_default();
                let mut latest: Vec<(Value, Value, Value)> = Vec::new();
                let mut opinions: Vec<(Value, Value)> = Vec::new();
                for r in &reviews {
                    let login = r["user"]["login"].clone();
                    latest.retain(|(l, _, _)| *l != login);
                    latest.push((login.clone(), r["state"].clone(), r["submitted_at"].clone()));
                    if r["state"] != "COMMENTED" {
                        opinions.retain(|(l, _)| *l != login);
                        opinions.push((login, r["state"].clone()));
                    }
                }
                let served: Vec<(Value, Value, Value)> = node["latestReviews"]["nodes"]
                    .as_array()
                    .expect("latestReviews")
                    .iter()
                    .map(|r| {
                        (
                            r["author"]["login"].clone(),
                            r["state"].clone(),
                            r["submittedAt"].clone(),
                        )
                    })
                    .collect();
                assert_eq!(served, latest, "{ctx}");
                let decision = if opinions.iter().any(|(_, s)| s == "CHANGES_REQUESTED") {
                    json!("CHANGES_REQUESTED")
                } else if opinions.iter().any(|(_, s)| s == "APPROVED") {
                    json!("APPROVED")
                } else if repo == "acme/checkout" {
                    json!("REVIEW_REQUIRED")
                } else {
                    Value::Null
                };
                assert_eq!(node["reviewDecision"], decision, "{ctx}");
                if pr["mergeable_state"] == "blocked" {
                    assert_ne!(node["reviewDecision"], "APPROVED", "{ctx}");
                }

                // The rollup: REST check runs and commit statuses of the head.
                let sha = pr["head"]["sha"].as_str().expect("sha");
                let checks = checks_of(&w, repo, sha).await;
                let (_, _, combined) = get_json(&format!(
                    "{}/repos/{repo}/commits/{sha}/status",
                    w.github_url
                ))
                .await;
                let mut expected: Vec<Value> = Vec::new();
                let (mut failing, mut pending) = (false, false);
                for c in checks["check_runs"].as_array().expect("check_runs") {
                    if c["status"] == "completed" {
                        failing |= matches!(
                            c["conclusion"].as_str(),
                            Some("failure" | "cancelled" | "timed_out" | "action_required")
                        );
                    } else {
                        pending = true;
                    }
                    expected.push(json!({
                        "__typename": "CheckRun",
                        "name": c["name"],
                        "status": upper(&c["status"]),
                        "conclusion": upper(&c["conclusion"]),
                        "detailsUrl": c["details_url"]
                    }));
                }
                for s in combined["statuses"].as_array().expect("statuses") {
                    failing |= matches!(s["state"].as_str(), Some("failure" | "error"));
                    pending |= s["state"] == "pending";
                    expected.push(json!({
                        "__typename": "StatusContext",
                        "context": s["context"],
                        "state": upper(&s["state"]),
                        "targetUrl": s["target_url"]
                    }));
                }
                let rollup = &node["statusCheckRollup"];
                if expected.is_empty() {
                    assert_eq!(*rollup, Value::Null, "{ctx}");
                    continue;
                }
                let served = rollup["contexts"]["nodes"].as_array().expect("contexts");
                assert_eq!(served.len(), expected.len(), "{ctx}");
                for e in &expected {
                    assert!(served.contains(e), "{ctx}: {e} in {served:?}");
                }
                let state = if failing {
                    "FAILURE"
                } else if pending {
                    "PENDING"
                } else {
                    "SUCCESS"
                };
                assert_eq!(rollup["state"], state, "{ctx}");
            }
        }
        w.shutdown();
    }
}

#[tokio::test]
async fn github_graphql_pages_walk_every_pull_request_once() {
    let w = frozen(178.0).await;
    for repo in ["acme/checkout", "acme/web"] {
        let (all, one_page) = graphql_pulls(&w, repo, 100).await;
        assert_eq!(one_page, 1);
        let (paged, pages) = graphql_pulls(&w, repo, 3).await;
        assert_eq!(pages, all.len().div_ceil(3).max(1), "{repo}");
        let numbers =
            |v: &[Value]| -> Vec<u64> { v.iter().filter_map(|n| n["number"].as_u64()).collect() };
        assert_eq!(
            numbers(&paged),
            numbers(&all),
            "{repo}: same order, each once"
        );
    }
    // The checkout list has 6: two full pages, the second ends it.
    let (_, _, first) = graphql(&w, &pulls_vars("acme/checkout", 3, None)).await;
    let info = &first["data"]["repository"]["pullRequests"]["pageInfo"];
    assert_eq!(info["hasNextPage"], true);
    let cursor = info["endCursor"].as_str().expect("cursor");
    let (_, _, second) = graphql(&w, &pulls_vars("acme/checkout", 3, Some(cursor))).await;
    let conn = &second["data"]["repository"]["pullRequests"];
    assert_eq!(conn["nodes"].as_array().map(Vec::len), Some(3));
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);
    assert_eq!(conn["totalCount"], 6);
    let end = conn["pageInfo"]["endCursor"].as_str().expect("cursor");
    let (_, _, past) = graphql(&w, &pulls_vars("acme/checkout", 3, Some(end))).await;
    let conn = &past["data"]["repository"]["pullRequests"];
    assert_eq!(conn["nodes"], json!([]));
    assert_eq!(
        conn["pageInfo"],
        json!({"hasNextPage": false, "endCursor": null})
    );
    // A cursor from before #422 opened still continues after the same node.
    let early = frozen(100.0).await;
    let (_, _, before) = graphql(&early, &pulls_vars("acme/checkout", 2, None)).await;
    let cursor = before["data"]["repository"]["pullRequests"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    let (_, _, rest_early) =
        graphql(&early, &pulls_vars("acme/checkout", 100, Some(&cursor))).await;
    let (_, _, rest_late) = graphql(&w, &pulls_vars("acme/checkout", 100, Some(&cursor))).await;
    assert_eq!(
        rest_early["data"]["repository"]["pullRequests"]["nodes"]
            .as_array()
            .map(Vec::len),
        rest_late["data"]["repository"]["pullRequests"]["nodes"]
            .as_array()
            .map(Vec::len),
    );
    // A cursor it never gave.
    let (status, _, bad) = graphql(&w, &pulls_vars("acme/checkout", 3, Some("bm9wZQ=="))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bad["data"]["repository"], Value::Null);
    assert_eq!(bad["errors"][0]["type"], "INVALID_CURSOR_ARGUMENTS");
    assert_eq!(
        bad["errors"][0]["path"],
        json!(["repository", "pullRequests"])
    );
    early.shutdown();
    w.shutdown();
}

#[tokio::test]
async fn github_graphql_errors_as_github_sends_them() {
    let w = frozen(30.0).await;
    let (status, _, body) = graphql(&w, &pulls_vars("acme/nope", 100, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["repository"], Value::Null);
    assert!(body["data"]["rateLimit"]["remaining"].is_u64());
    let e = &body["errors"][0];
    assert_eq!(e["type"], "NOT_FOUND");
    assert_eq!(e["path"], json!(["repository"]));
    assert_eq!(
        e["message"],
        "Could not resolve to a Repository with the name 'acme/nope'."
    );
    let loc = &e["locations"][0];
    assert!(loc["line"].as_u64().is_some_and(|l| l > 1) && loc["column"].as_u64() == Some(3));

    for bad in ["not json", "[1]", r#"{"variables": {}}"#, r#"{"query": 5}"#] {
        let (status, h, body) = graphql_raw(&w, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["message"], "Problems parsing JSON", "{bad}");
        assert_eq!(header(&h, "x-ratelimit-resource"), "graphql");
    }

    let (status, _, body) = graphql(&w, &json!({"query": PULLS_QUERY})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("data").is_none(), "{body}");
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "Variable $owner of type String! was provided invalid value",
            "Variable $name of type String! was provided invalid value",
            "Variable $first of type Int! was provided invalid value",
        ]
    );
    let mut wrong = pulls_vars("acme/checkout", 100, None);
    wrong["variables"]["first"] = json!("ten");
    let (_, _, body) = graphql(&w, &wrong).await;
    assert!(body.get("data").is_none());
    assert_eq!(
        body["errors"][0]["extensions"]["problems"][0]["explanation"],
        "Could not coerce value \"ten\" to Int"
    );

    let (status, _, body) = graphql(&w, &pulls_vars("acme/checkout", 101, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("data").is_none());
    assert_eq!(body["errors"][0]["type"], "EXCESSIVE_PAGINATION");

    let (status, _, body) = graphql(&w, &json!({"query": "query { viewer { login } }"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"errors": [{"message": "flightdeck's demo world answers only the PR list query"}]})
    );
    w.shutdown();
}

const BY_ID_QUERY: &str = include_str!("../sources/github/pulls_by_id.graphql");

fn pulls_states_vars(repo: &str, first: i64, states: Value) -> Value {
    let mut body = pulls_vars(repo, first, None);
    body["variables"]["states"] = states;
    body
}

fn by_id_vars(ids: &[&str]) -> Value {
    json!({"query": BY_ID_QUERY, "variables": {"ids": ids}})
}

/// The first page (up to 100) of `repo`'s list with `states`.
async fn list_nodes(w: &SimWorld, repo: &str, states: Value) -> Vec<Value> {
    let (status, _, body) = graphql(w, &pulls_states_vars(repo, 100, states)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["repository"]["pullRequests"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone()
}

fn ids_of(nodes: &[Value]) -> Vec<&str> {
    nodes.iter().filter_map(|n| n["id"].as_str()).collect()
}

/// `nodes` as the by-id query answers them: each with `__typename`.
fn typed(nodes: &[Value]) -> Vec<Value> {
    nodes
        .iter()
        .map(|n| {
            let mut n = n.clone();
            n["__typename"] = json!("PullRequest");
            n
        })
        .collect()
}

#[tokio::test]
async fn github_graphql_states_filter_the_list() {
    for t in [30.0, 178.0] {
        let w = frozen(t).await;
        for repo in ["acme/checkout", "acme/web"] {
            let (old, _) = graphql_pulls(&w, repo, 100).await;
            let open = list_nodes(&w, repo, json!(["OPEN"])).await;
            assert!(!open.is_empty(), "{repo}");
            assert_eq!(open, old, "{repo} at {t}: [OPEN] is the list it always was");
            for n in &open {
                assert_eq!(n["state"], "OPEN");
                assert!(n["id"].as_str().is_some_and(|id| !id.contains(repo)), "{n}");
            }
            // None is ever closed or merged: every state adds nothing, none of them is empty.
            assert_eq!(list_nodes(&w, repo, json!(STATES_ALL)).await, open);
            assert_eq!(list_nodes(&w, repo, Value::Null).await, open);
            assert_eq!(list_nodes(&w, repo, json!("OPEN")).await, open);
            let (_, _, closed) = graphql(
                &w,
                &pulls_states_vars(repo, 100, json!(["CLOSED", "MERGED"])),
            )
            .await;
            let conn = &closed["data"]["repository"]["pullRequests"];
            assert_eq!(conn["nodes"], json!([]));
            assert_eq!(conn["totalCount"], 0);
        }
        let (_, _, bad) = graphql(
            &w,
            &pulls_states_vars("acme/checkout", 100, json!(["OPEN", "DRAFT"])),
        )
        .await;
        assert!(bad.get("data").is_none(), "{bad}");
        assert_eq!(
            bad["errors"][0]["message"],
            "Variable $states of type [PullRequestState!] was provided invalid value"
        );
        w.shutdown();
    }
}

const STATES_ALL: [&str; 3] = ["OPEN", "CLOSED", "MERGED"];

#[tokio::test]
async fn github_graphql_ids_resolve_to_the_list_nodes() {
    for t in [30.0, 160.0, 178.0] {
        let w = frozen(t).await;
        for repo in ["acme/checkout", "acme/web"] {
            let list = list_nodes(&w, repo, json!(STATES_ALL)).await;
            let ids = ids_of(&list);
            assert_eq!(ids.len(), list.len());
            let (status, _, body) = graphql(&w, &by_id_vars(&ids)).await;
            assert_eq!(status, StatusCode::OK);
            assert!(body.get("errors").is_none(), "{body}");
            assert_eq!(body["data"]["rateLimit"]["cost"], 1);
            assert_eq!(
                body["data"]["nodes"],
                Value::from(typed(&list)),
                "{repo} at {t}"
            );
            // Backwards, and one at a time: the same nodes.
            let reversed: Vec<&str> = ids.iter().rev().copied().collect();
            let (_, _, back) = graphql(&w, &by_id_vars(&reversed)).await;
            let mut expected = typed(&list);
            expected.reverse();
            assert_eq!(back["data"]["nodes"], Value::from(expected));
            let (_, _, one) = graphql(&w, &by_id_vars(&ids[..1])).await;
            assert_eq!(one["data"]["nodes"], json!([typed(&list[..1])[0]]));
        }
        w.shutdown();
    }
}

#[tokio::test]
async fn github_graphql_unknown_ids_are_null_in_place() {
    let w = frozen(178.0).await;
    let list = list_nodes(&w, "acme/checkout", json!(["OPEN"])).await;
    let ids = ids_of(&list);
    let web = list_nodes(&w, "acme/web", json!(["OPEN"])).await;
    let web_id = ids_of(&web)[0];
    let b64 = |text: &str| format!("PR_{}", super::util::base64_encode(text.as_bytes()));
    let no_such_number = b64("PullRequest:acme/checkout#9999");
    let no_such_repo = b64("PullRequest:acme/nope#412");
    let asked = [
        ids[1],
        "garbage",
        web_id,
        no_such_number.as_str(),
        ids[0],
        no_such_repo.as_str(),
        "",
        ids[1],
    ];
    let before = w.graphql_requests().len();
    let (status, _, body) = graphql(&w, &by_id_vars(&asked)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.graphql_requests().len(), before + 1, "recorded");
    assert_eq!(body["data"]["rateLimit"]["cost"], 1);
    let nodes = body["data"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), asked.len());
    let typed_checkout = typed(&list);
    assert_eq!(nodes[0], typed_checkout[1]);
    assert_eq!(nodes[2], typed(&web)[0]);
    assert_eq!(nodes[4], typed_checkout[0]);
    assert_eq!(nodes[7], typed_checkout[1], "asked twice, answered twice");
    for i in [1, 3, 5, 6] {
        assert_eq!(nodes[i], Value::Null, "{i}");
    }
    let errors = body["errors"].as_array().expect("errors");
    let paths: Vec<&Value> = errors.iter().map(|e| &e["path"]).collect();
    assert_eq!(
        paths,
        [
            &json!(["nodes", 1]),
            &json!(["nodes", 3]),
            &json!(["nodes", 5]),
            &json!(["nodes", 6])
        ]
    );
    assert!(errors.iter().all(|e| e["type"] == "NOT_FOUND"));
    assert_eq!(
        errors[0]["message"],
        "Could not resolve to a node with the global id of 'garbage'"
    );

    // A pull request that does not exist yet at an earlier moment.
    let early = frozen(100.0).await;
    let early_ids: Vec<String> =
        ids_of(&list_nodes(&early, "acme/checkout", json!(["OPEN"])).await)
            .into_iter()
            .map(String::from)
            .collect();
    let later: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !early_ids.iter().any(|e| e == id))
        .collect();
    assert!(!later.is_empty(), "a PR opens between 100 and 178");
    let (_, _, body) = graphql(&early, &by_id_vars(&later)).await;
    assert!(
        body["data"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(Value::is_null)
    );
    early.shutdown();

    // Too many ids: an argument error, no data, no point spent.
    let many: Vec<&str> = std::iter::repeat_n(ids[0], 101).collect();
    let (status, h, body) = graphql(&w, &by_id_vars(&many)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(body["errors"][0]["type"], "EXCESSIVE_PAGINATION");
    let used = header(&h, "x-ratelimit-used");
    let hundred: Vec<&str> = std::iter::repeat_n(ids[0], 100).collect();
    let (_, h, body) = graphql(&w, &by_id_vars(&hundred)).await;
    assert!(body.get("errors").is_none());
    assert_eq!(body["data"]["nodes"].as_array().map(Vec::len), Some(100));
    // GitHub's cost: 100 PRs × 3 nested connections = 300 requests, over 100: 3 points.
    assert_eq!(
        header(&h, "x-ratelimit-used").parse::<u64>().ok(),
        used.parse::<u64>().ok().map(|u| u + 3)
    );

    // Missing ids.
    let (_, _, body) = graphql(&w, &json!({"query": BY_ID_QUERY})).await;
    assert!(body.get("data").is_none());
    assert_eq!(
        body["errors"][0]["message"],
        "Variable $ids of type [ID!]! was provided invalid value"
    );
    w.shutdown();
}

#[tokio::test]
async fn github_graphql_big_world_ids_resolve() {
    let w = start(SimOptions {
        speed: 0.0,
        start_at_secs: 178.0,
        scale: super::Scale::Big,
        ..SimOptions::default()
    })
    .await
    .expect("big world starts");
    for repo in ["acme/checkout", "acme/search"] {
        let list = list_nodes(&w, repo, json!(STATES_ALL)).await;
        assert_eq!(list.len(), 100);
        assert!(
            list.iter()
                .any(|n| n["number"].as_u64().is_some_and(|n| n >= 1_000))
        );
        let ids = ids_of(&list);
        let (_, _, body) = graphql(&w, &by_id_vars(&ids)).await;
        assert!(body.get("errors").is_none(), "{repo}");
        assert_eq!(body["data"]["nodes"], Value::from(typed(&list)), "{repo}");
    }
    // Deep in the list too: the last page of acme/ledger.
    let (all, _) = graphql_pulls(&w, "acme/ledger", 100).await;
    let tail = &all[all.len() - 5..];
    let (_, _, body) = graphql(&w, &by_id_vars(&ids_of(tail))).await;
    assert_eq!(body["data"]["nodes"], Value::from(typed(tail)));
    w.shutdown();
}

#[tokio::test]
async fn github_graphql_spends_its_own_rate_limit() {
    let w = frozen(30.0).await;
    let (status, h, body) = graphql(&w, &pulls_vars("acme/checkout", 100, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&h, "content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(header(&h, "x-ratelimit-resource"), "graphql");
    assert_eq!(header(&h, "x-ratelimit-limit"), "5000");
    assert_eq!(header(&h, "x-ratelimit-remaining"), "4997");
    assert_eq!(header(&h, "x-ratelimit-used"), "3");
    let reset: i64 = header(&h, "x-ratelimit-reset").parse().expect("epoch");
    assert!((reset as f64 - now_unix() - 3600.0).abs() < 60.0);
    let rate = &body["data"]["rateLimit"];
    // A page of 100 with three nested connections each: 301 requests, 3 points (GitHub's
    // formula).
    assert_eq!(rate["cost"], 3);
    assert_eq!(rate["limit"], 5000);
    assert_eq!(rate["remaining"], 4997);
    assert_eq!(
        rate["resetAt"].as_str(),
        Some(super::util::iso_unix(reset).as_str())
    );
    let (_, h, _) = graphql(&w, &pulls_vars("acme/web", 100, None)).await;
    assert_eq!(header(&h, "x-ratelimit-remaining"), "4994");

    // REST's core window is untouched; /rate_limit shows both.
    let (_, _, limits) = get_json(&format!("{}/rate_limit", w.github_url)).await;
    assert_eq!(limits["resources"]["core"]["remaining"], 5000);
    assert_eq!(limits["resources"]["graphql"]["used"], 6);
    assert_eq!(limits["resources"]["graphql"]["remaining"], 4994);
    let (_, h, _) = get_json(&format!("{}/repos/acme/checkout/pulls", w.github_url)).await;
    assert_eq!(header(&h, "x-ratelimit-resource"), "core");
    assert_eq!(header(&h, "x-ratelimit-remaining"), "4999");
    let (_, h, _) = graphql(&w, &pulls_vars("acme/checkout", 100, None)).await;
    assert_eq!(header(&h, "x-ratelimit-remaining"), "4991");

    // Queries are counted and recorded, but are not mutations.
    assert!(w.github_mutations().is_empty());
    let recorded = w.graphql_requests();
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path, "/graphql");
    let sent: Value = serde_json::from_str(&recorded[0].body).expect("json body");
    assert_eq!(sent["query"], PULLS_QUERY);
    assert_eq!(w.requests().github, 5);
    w.shutdown();
}

/// The client's batched list query: one aliased `repository` per repository, each answered
/// under its alias; an unknown one is null with its own error; the stamp selection carries only
/// what says whether a PR changed; the cost follows GitHub's formula.
#[tokio::test]
async fn github_graphql_answers_batched_queries_per_alias() {
    use crate::sources::github::{Selection, pulls_query};
    let w = frozen(178.0).await;
    let vars = |first: i64| {
        json!({
            "states": ["OPEN", "CLOSED", "MERGED"], "first": first,
            "owner0": "acme", "name0": "checkout", "after0": null,
            "owner1": "acme", "name1": "nope", "after1": null,
            "owner2": "acme", "name2": "web", "after2": null,
        })
    };
    let (status, _, body) = graphql(
        &w,
        &json!({"query": pulls_query(3, Selection::Stamp), "variables": vars(20)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["rateLimit"]["cost"], 1, "three connections");
    assert_eq!(body["data"]["r1"], Value::Null);
    assert_eq!(body["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(body["errors"][0]["path"], json!(["r1"]));
    let checkout = list_nodes(&w, "acme/checkout", json!(STATES_ALL)).await;
    let stamps = body["data"]["r0"]["pullRequests"]["nodes"]
        .as_array()
        .expect("stamps");
    assert_eq!(stamps.len(), checkout.len().min(20));
    for (stamp, full) in stamps.iter().zip(&checkout) {
        let keys: Vec<&str> = stamp
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 4, "{stamp}");
        for k in ["id", "number", "state", "updatedAt"] {
            assert_eq!(stamp[k], full[k], "{k}");
        }
    }
    let web = &body["data"]["r2"]["pullRequests"]["nodes"];
    assert_eq!(
        web.as_array().map(Vec::len),
        Some(list_nodes(&w, "acme/web", json!(STATES_ALL)).await.len())
    );
    // The full selection: pages of 50 of three repositories = 3 × (1 + 50 × 3) requests.
    let (_, _, body) = graphql(
        &w,
        &json!({"query": pulls_query(3, Selection::Full), "variables": vars(50)}),
    )
    .await;
    assert_eq!(body["data"]["rateLimit"]["cost"], 5);
    assert_eq!(
        body["data"]["r0"]["pullRequests"]["nodes"][0], checkout[0],
        "the same node as the single-repository query"
    );
    w.shutdown();
}
