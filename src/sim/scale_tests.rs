//! A Big world beyond GitHub (`flightdeck demo --scale big`): 500 unresolved Sentry issues over
//! five projects, paginated as Sentry does, and 20 services whose queries the Prometheus sim
//! answers. Over real HTTP on 127.0.0.1, through the ordinary clients where they exist.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use super::github_scale::BIG_REPOS;
use super::sentry_data::{BIG_ISSUES_PER_PROJECT, BIG_PROJECTS};
use super::{BIG_ISSUES, BIG_SERVICES, Scale, SimOptions, SimWorld, start};
use crate::analysis::canary::{Policy, Verdict};
use crate::config::Config;
use crate::domain::SourceData;
use crate::sources::http::Http;

async fn world(scale: Scale, speed: f64) -> SimWorld {
    start(SimOptions {
        scale,
        speed,
        start_at_secs: super::scenario::END,
        ..SimOptions::default()
    })
    .await
    .expect("world starts")
}

fn config(w: &SimWorld) -> Config {
    Config::parse(&w.config_toml(), "scale test").expect("the world's config parses")
}

fn http() -> Http {
    Http::new(Duration::from_secs(30)).expect("HTTP client")
}

/// `(rel, url, results)` of each part of Sentry's `Link` header.
fn sentry_links(h: &reqwest::header::HeaderMap) -> Vec<(String, String, String)> {
    let raw = h.get("link").and_then(|v| v.to_str().ok()).unwrap_or("");
    raw.split(", <")
        .filter_map(|part| {
            let (url, rest) = part.trim_start_matches('<').split_once('>')?;
            let attr = |name: &str| {
                rest.split(';')
                    .filter_map(|a| a.trim().split_once('='))
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.trim_matches('"').to_string())
            };
            Some((attr("rel")?, url.to_string(), attr("results")?))
        })
        .collect()
}

#[tokio::test]
async fn a_big_sentry_serves_500_unresolved_issues_across_pages() {
    let w = world(Scale::Big, 0.0).await;
    let cfg = config(&w);
    let sentry = cfg.sentry.as_ref().expect("[sentry]");
    let slugs: Vec<&str> = BIG_PROJECTS.iter().map(|p| p.0).collect();
    assert_eq!(sentry.projects, slugs);

    // Sentry's own pagination, followed by hand: 100 per page, `results="false"` on the last.
    let client = reqwest::Client::new();
    let mut per_project = BTreeMap::new();
    let mut ids = HashSet::new();
    for (slug, expected) in BIG_ISSUES_PER_PROJECT {
        let mut url = Some(format!(
            "{}/api/0/projects/acme/{slug}/issues/?query=is%3Aunresolved&statsPeriod=24h",
            w.sentry_url
        ));
        let (mut pages, mut seen) = (0, 0);
        while let Some(u) = url.take() {
            let r = client.get(&u).send().await.expect("GET issues");
            assert_eq!(r.status(), 200, "{u}");
            let links = sentry_links(r.headers());
            let page: Vec<Value> = r.json().await.expect("issues");
            assert!(page.len() <= 100, "{slug}: a page holds at most 100");
            let prev = links.iter().find(|l| l.0 == "previous").expect("previous");
            assert_eq!(prev.2, if pages == 0 { "false" } else { "true" });
            pages += 1;
            seen += page.len();
            for i in &page {
                assert_eq!(i["status"], "unresolved");
                assert_eq!(i["project"]["slug"], slug);
                assert!(
                    ids.insert(i["id"].as_str().unwrap_or_default().to_string()),
                    "{slug}: issue {} twice",
                    i["id"]
                );
            }
            let next = links.iter().find(|l| l.0 == "next").expect("next");
            if next.2 == "true" {
                url = Some(next.1.clone());
            }
            assert!(pages <= 10, "{slug}: pagination ends");
        }
        assert_eq!(seen, expected, "{slug}");
        assert_eq!(pages, expected.div_ceil(100), "{slug}: pages");
        per_project.insert(slug, seen);
    }
    assert_eq!(ids.len(), BIG_ISSUES);
    assert!(per_project["checkout"] > 300, "one project beyond 300");

    // The ordinary client reads them all (its per-project cap is above 340) in one request per
    // page.
    let mut client = crate::sources::sentry::Sentry::new(http(), sentry, None);
    let before = w.requests().sentry;
    let SourceData::Sentry(incidents) = client.poll().await.expect("poll") else {
        panic!("expected Sentry data");
    };
    assert_eq!(incidents.len(), BIG_ISSUES);
    let pages: usize = BIG_ISSUES_PER_PROJECT
        .iter()
        .map(|(_, n)| n.div_ceil(100))
        .sum();
    assert_eq!((w.requests().sentry - before) as usize, pages);
    // The demo's incidents stay, newest first; the generated ones are old and quiet.
    let short: Vec<&str> = incidents.iter().map(|i| i.short_id.as_str()).collect();
    for demo in [
        "CHECKOUT-3F",
        "CHECKOUT-4C",
        "CHECKOUT-2A",
        "CHECKOUT-1K",
        "WEB-9C",
        "WEB-7Q",
    ] {
        assert!(short.contains(&demo), "{demo}");
    }
    assert_eq!(short[0], "CHECKOUT-3F", "the live incident is the newest");
    assert!(
        incidents
            .windows(2)
            .all(|p| p[0].last_seen >= p[1].last_seen)
    );
    let distinct: HashSet<(&str, &str)> = incidents
        .iter()
        .map(|i| (i.project.as_str(), i.short_id.as_str()))
        .collect();
    assert_eq!(distinct.len(), BIG_ISSUES, "short ids are unique");
    let titles: HashSet<&str> = incidents.iter().map(|i| i.title.as_str()).collect();
    assert!(titles.len() > 40, "varied titles: {}", titles.len());

    // A generated issue has a detail and a latest event.
    let ledger = incidents
        .iter()
        .find(|i| i.project == "ledger")
        .expect("a ledger issue");
    let r = reqwest::get(format!(
        "{}/api/0/organizations/acme/issues/{}/events/latest/",
        w.sentry_url, ledger.id
    ))
    .await
    .expect("GET event");
    assert_eq!(r.status(), 200);
    let event: Value = r.json().await.expect("event");
    assert_eq!(event["groupID"], ledger.id.as_str());
    assert!(
        event["culprit"]
            .as_str()
            .is_some_and(|c| c.starts_with("ledger/"))
    );

    // A demo-scale world knows two projects and six issues (the Python worker's CHECKOUT-4C too).
    let demo = world(Scale::Demo, 0.0).await;
    let r = reqwest::get(format!(
        "{}/api/0/projects/acme/search/issues/",
        demo.sentry_url
    ))
    .await
    .expect("GET");
    assert_eq!(r.status(), 404);
    let sentry = config(&demo).sentry.expect("[sentry]");
    assert_eq!(sentry.projects, ["checkout", "web"]);
    let mut client = crate::sources::sentry::Sentry::new(http(), &sentry, None);
    let SourceData::Sentry(incidents) = client.poll().await.expect("poll") else {
        panic!("expected Sentry data");
    };
    assert_eq!(incidents.len(), 6);
}

#[tokio::test]
async fn a_big_config_has_twenty_services_on_the_big_repos() {
    let w = world(Scale::Big, 0.0).await;
    let cfg = config(&w);
    assert_eq!(cfg.services.len(), 20);
    let names: HashSet<&str> = cfg.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 20, "unique names");
    assert_eq!(cfg.services[0].name, "checkout");
    assert_eq!(cfg.services[1].name, "web");
    for (svc, (name, repo)) in cfg.services[2..].iter().zip(BIG_SERVICES) {
        assert_eq!(svc.name, name);
        assert_eq!(svc.repo.as_deref(), Some(repo));
        assert!(BIG_REPOS.contains(&repo), "{repo}");
        assert!(svc.rollback.is_none(), "{name}: no rollback workflow");
        assert_eq!(svc.metrics.len(), 2, "{name}");
        assert!(svc.weight.is_some(), "{name}");
    }
    assert!(cfg.services.iter().any(|s| s.production));
    assert!(cfg.services.iter().any(|s| !s.production));
    // The demo's two keep their rollback.
    assert!(cfg.services[..2].iter().all(|s| s.rollback.is_some()));

    let demo = world(Scale::Demo, 0.0).await;
    let cfg = config(&demo);
    let names: Vec<&str> = cfg.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["checkout", "web"]);
}

fn generated(name: &str) -> bool {
    BIG_SERVICES.iter().any(|(n, _)| *n == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_big_service_query_is_answered_with_data() {
    // A running world, so that the samples of a range vary.
    let w = world(Scale::Big, 1.0).await;
    let cfg = config(&w);
    let prom_cfg = cfg.prometheus.as_ref().expect("[prometheus]");
    let mut prom = crate::sources::prometheus::Prometheus::new(http(), prom_cfg, &cfg.services)
        .expect("client");
    let SourceData::Prometheus(rollouts) = prom.poll().await.expect("poll") else {
        panic!("expected Prometheus data");
    };
    assert_eq!(rollouts.len(), 20);
    let policy = Policy::from(&cfg.policy);
    for r in &rollouts {
        assert!(r.weight_error.is_none(), "{}: {:?}", r.name, r.weight_error);
        let weight = r.weight.unwrap_or_else(|| panic!("{}: no weight", r.name));
        assert!(weight > 0.0, "{}: a canary in progress", r.name);
        assert_eq!(r.metrics.len(), 2, "{}", r.name);
        for m in &r.metrics {
            assert!(m.error.is_none(), "{} {}: {:?}", r.name, m.name, m.error);
            for (track, v, samples) in [
                ("canary", m.canary, &m.canary_samples),
                ("baseline", m.baseline, &m.baseline_samples),
            ] {
                let v = v.unwrap_or_else(|| panic!("{} {} {track}: no value", r.name, m.name));
                // The demo's canaries are at 100 % by the story's end: their baselines serve no
                // traffic, so a ratio there is 0 / 0.
                assert!(
                    v.is_finite() || !generated(&r.name),
                    "{} {} {track}: {v}",
                    r.name,
                    m.name
                );
                assert!(
                    samples.len() >= 50,
                    "{} {} {track}: {} samples",
                    r.name,
                    m.name,
                    samples.len()
                );
            }
        }
        if generated(&r.name) {
            assert!([10.0, 25.0, 50.0].contains(&weight), "{}: {weight}", r.name);
            // Calm: well under the thresholds, and the judge does not roll it back.
            for m in &r.metrics {
                let (c, max) = (m.canary.unwrap_or(f64::NAN), m.max.unwrap_or(0.0));
                assert!(c < max * 0.7, "{} {}: {c} vs max {max}", r.name, m.name);
            }
            let j = crate::analysis::rollout::judge_service(r, &policy);
            assert_ne!(j.verdict, Verdict::Rollback, "{}: {}", r.name, j.summary);
        }
    }

    // `up` lists every service's job; a demo-scale world serves none of the generated ones.
    let up = reqwest::get(format!("{}/api/v1/query?query=up", w.prometheus_url))
        .await
        .expect("GET")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(up["data"]["result"].as_array().map(Vec::len), Some(22));
    let demo = world(Scale::Demo, 0.0).await;
    let q = super::util::percent_encode(&super::weight_query("search-api"));
    let v = reqwest::get(format!("{}/api/v1/query?query={q}", demo.prometheus_url))
        .await
        .expect("GET")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(v["data"]["result"], Value::Array(Vec::new()));
}
