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
    assert_eq!(one["mergeable_state"], "clean");

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
    assert_eq!(a["total_count"], 5);
    assert_eq!(b["total_count"], 6);
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
    let parsed = crate::config::Config::parse(&cfg, "demo").expect("flightdeck accepts the config");
    assert_eq!(parsed.services.len(), 2);
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
