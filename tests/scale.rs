//! `flightdeck demo --scale big`: GitHub at a real team's size (5 repositories × 2,000 open pull
//! requests and 2,000 workflow runs), read through the real client, and what a poll costs in
//! requests.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use flightdeck::config::Config;
use flightdeck::domain::SourceData;
use flightdeck::sim::{Scale, SimOptions};
use flightdeck::sources::github::GitHub;
use flightdeck::sources::http::Http;

/// The big world at the story's end, frozen: every scripted PR and run exists (#422 opens at
/// 140), so each repository has exactly 2,000 of both.
async fn big_world() -> flightdeck::sim::SimWorld {
    flightdeck::sim::start(SimOptions {
        scale: Scale::Big,
        speed: 0.0,
        start_at_secs: flightdeck::sim::scenario::END,
        ..SimOptions::default()
    })
    .await
    .expect("big world starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_world_is_read_once_and_then_only_what_changed() {
    let world = big_world().await;
    let cfg = Config::parse(&world.config_toml(), "big demo").expect("the big config parses");
    let gh = cfg.github.expect("[github]");
    assert_eq!(gh.repos.len(), 5, "{:?}", gh.repos);
    assert_eq!(gh.max_items, 2_000);
    let http = Http::new(Duration::from_secs(60)).expect("HTTP client");
    let mut client = GitHub::new(http, &gh, None);

    let before = world.requests();
    let started = Instant::now();
    let first = client.poll().await.expect("first poll");
    let first_points = client.points_spent();
    let first_secs = started.elapsed().as_secs_f64();
    let after_first = world.requests();
    let SourceData::GitHub {
        prs, runs, failed, ..
    } = first
    else {
        panic!("expected GitHub data");
    };
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(prs.len(), 10_000, "every open PR is read");
    // The recent runs: one page of 100 per repository.
    assert_eq!(runs.len(), 5 * 100, "the recent runs of each repository");
    let distinct: HashSet<(&str, u64)> = prs.iter().map(|p| (p.repo.as_str(), p.number)).collect();
    assert_eq!(distinct.len(), 10_000, "no PR twice");
    let distinct: HashSet<u64> = runs.iter().map(|r| r.id).collect();
    assert_eq!(distinct.len(), 500, "no run twice");
    for repo in &gh.repos {
        let of: Vec<_> = prs.iter().filter(|p| &p.repo == repo).collect();
        assert_eq!(of.len(), 2_000, "{repo}");
        assert!(
            of.windows(2).all(|w| w[0].updated_at >= w[1].updated_at),
            "{repo}: newest activity first"
        );
        assert!(of.iter().all(|p| p.head_sha.len() == 40));
    }
    let waiting = runs
        .iter()
        .filter(|r| r.state == flightdeck::domain::RunState::Waiting)
        .count() as u64;

    let first_github = after_first.github - before.github;
    let graphql = world.graphql_requests().len() as u64;
    // 2,000 PRs at `first: 100` per repository: 20 pages, each request carrying the page of
    // every repository.
    assert_eq!(graphql, 20);
    // The recent runs: one REST page per repository, plus the pending deployments of the runs
    // that wait for an approval.
    let rest = first_github - graphql;
    assert_eq!(rest, 5 + waiting);
    eprintln!(
        "big world: first poll {first_github} GitHub requests ({graphql} GraphQL, {rest} REST, \
         {waiting} pending-deployment reads) in {first_secs:.2} s; generated content ~{} KB",
        world.generated_bytes() / 1024
    );
    // The first poll of 5 × 2,000 PRs: at most 150 requests (issue 8's target).
    assert!(first_github <= 150, "first poll: {first_github} requests");
    // The whole read has its own pace: the poll after it is spaced by the rest of the poll (the
    // runs), not by the 20 pages (which would hold the next poll back for minutes).
    let after_whole = client.pace().0.unwrap_or_default();
    assert!(
        after_whole <= Duration::from_secs(30),
        "the poll after the first whole read waits {after_whole:?}"
    );

    let started = Instant::now();
    let second = client.poll().await.expect("second poll");
    let second_points = client.points_spent() - first_points;
    let second_secs = started.elapsed().as_secs_f64();
    let after_second = world.requests();
    let SourceData::GitHub { prs, runs, .. } = second else {
        panic!("expected GitHub data");
    };
    assert_eq!((prs.len(), runs.len()), (10_000, 500));
    let second_github = after_second.github - after_first.github;
    let second_304 = after_second.github_not_modified - after_first.github_not_modified;
    let second_graphql = world.graphql_requests().len() as u64 - graphql;
    eprintln!(
        "big world: second poll {second_github} GitHub requests ({second_graphql} GraphQL, \
         {second_304} answered 304) in {second_secs:.2} s"
    );
    // Only what changed since the first poll is read: one probe of every repository finds
    // nothing newer (a frozen world), and every REST request is a 304.
    assert_eq!(second_graphql, 1);
    assert_eq!(second_304, 5 + waiting);
    assert_eq!(second_github, 1 + 5 + waiting);

    // Steady state with the PRs tab visible (the poller's fastest cadence, 5 s at a 15 s
    // refresh): the budget's pace holds the polls apart, so the requests a minute and the
    // points an hour do not depend on how many PRs there are.
    let pace = client.pace().0.expect("a pace after a poll");
    let every = pace.max(Duration::from_secs(5)).as_secs_f64();
    let per_minute = second_github as f64 * 60.0 / every;
    let whole_points = first_points as f64;
    let whole_every = client.whole_read_every().as_seconds_f64();
    let points_per_hour =
        second_points as f64 * 3600.0 / every + whole_points * 3600.0 / whole_every;
    eprintln!(
        "big world steady state: a poll every {every:.1} s, {per_minute:.1} requests/min; \
         {second_points} point(s) a poll, whole reads ({whole_points} points) every \
         {:.0} min: {points_per_hour:.0} GraphQL points/h ({:.1} % of 5,000); REST: 304s only",
        whole_every / 60.0,
        points_per_hour / 50.0
    );
    assert!(
        per_minute <= 60.0,
        "{per_minute} requests/min (target ≤ 60)"
    );
    assert!(
        points_per_hour <= 0.2 * 5000.0,
        "{points_per_hour} points/h (target ≤ 20 % of 5,000)"
    );
}

/// REST and GraphQL serve the same generated pull requests; REST pages runs with `Link` and
/// ETags; page sizes are capped as on GitHub; a demo-scale world knows only its two repositories.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_and_graphql_agree_at_scale() {
    use serde_json::{Value, json};
    let world = big_world().await;
    let http = reqwest::Client::new();
    let api = &world.github_url;
    let get = |path: String| {
        let http = http.clone();
        async move { http.get(path).send().await.expect("GET") }
    };
    let gql = |first: i64, after: Option<String>| {
        let http = http.clone();
        let url = flightdeck::sources::github::graphql_url(api);
        async move {
            use flightdeck::sources::github::{Selection, pulls_query};
            let body = json!({
                "query": pulls_query(1, Selection::Full),
                "variables": {"owner0": "acme", "name0": "search", "first": first, "after0": after}
            });
            let r = http.post(url).json(&body).send().await.expect("POST");
            r.json::<Value>().await.expect("JSON")
        }
    };

    // REST: the newest activity first, 100 per page at most, 20 pages.
    let r = get(format!(
        "{api}/repos/acme/search/pulls?state=open&sort=updated&direction=desc&per_page=500"
    ))
    .await;
    let link = r.headers()["link"].to_str().unwrap_or_default().to_string();
    assert!(link.contains("page=20>; rel=\"last\""), "{link}");
    let rest: Vec<Value> = r.json().await.expect("pulls");
    assert_eq!(rest.len(), 100, "per_page is capped at 100");

    let answer = gql(100, None).await;
    let conn = &answer["data"]["r0"]["pullRequests"];
    assert_eq!(conn["totalCount"], 2_000);
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let nodes = conn["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 100);
    for (p, n) in rest.iter().zip(nodes) {
        assert_eq!(p["number"], n["number"]);
        assert_eq!(p["title"], n["title"]);
        assert_eq!(p["updated_at"], n["updatedAt"]);
        assert_eq!(p["head"]["sha"], n["headRefOid"]);
        assert_eq!(p["head"]["ref"], n["headRefName"]);
        assert_eq!(
            p["user"]["login"]
                .as_str()
                .map(|l| l.trim_end_matches("[bot]")),
            n["author"]["login"].as_str()
        );
    }
    // The detail's mergeability is GraphQL's merge state; the reviews are its latest reviews.
    let mut states = HashSet::new();
    for n in nodes.iter().take(30) {
        let number = n["number"].as_u64().expect("number");
        let detail: Value = get(format!("{api}/repos/acme/search/pulls/{number}"))
            .await
            .json()
            .await
            .expect("detail");
        let state = detail["mergeable_state"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_uppercase();
        assert_eq!(
            Value::from(state.clone()),
            n["mergeStateStatus"],
            "#{number}"
        );
        states.insert(state);
        let reviews: Vec<Value> = get(format!("{api}/repos/acme/search/pulls/{number}/reviews"))
            .await
            .json()
            .await
            .expect("reviews");
        let files: Vec<Value> = get(format!("{api}/repos/acme/search/pulls/{number}/files"))
            .await
            .json()
            .await
            .expect("files");
        assert_eq!(Value::from(files.len()), n["changedFiles"], "#{number}");
        let additions: u64 = files.iter().filter_map(|f| f["additions"].as_u64()).sum();
        assert_eq!(Value::from(additions), n["additions"], "#{number}");
        let latest = n["latestReviews"]["nodes"].as_array().map_or(0, Vec::len);
        assert_eq!(reviews.len(), latest, "#{number}");
    }
    assert!(states.len() >= 3, "a mix of merge states: {states:?}");
    // The next page follows the cursor.
    let after = conn["pageInfo"]["endCursor"].as_str().map(str::to_string);
    let next = gql(100, after).await;
    let first_next = &next["data"]["r0"]["pullRequests"]["nodes"][0];
    let rest2: Vec<Value> = get(format!(
        "{api}/repos/acme/search/pulls?sort=updated&per_page=100&page=2"
    ))
    .await
    .json()
    .await
    .expect("page 2");
    assert_eq!(rest2[0]["number"], first_next["number"]);
    // `first` is capped at 100, as on GitHub.
    let too_many = gql(101, None).await;
    assert_eq!(
        too_many["errors"][0]["type"], "EXCESSIVE_PAGINATION",
        "{too_many}"
    );

    // Runs: 20 pages of 100, the last page linked; an unchanged page is a 304.
    let url = format!("{api}/repos/acme/ledger/actions/runs?per_page=100&page=7");
    let r = get(url.clone()).await;
    let etag = r.headers()["etag"].to_str().expect("etag").to_string();
    let link = r.headers()["link"].to_str().unwrap_or_default().to_string();
    assert!(link.contains("page=8>; rel=\"next\""), "{link}");
    assert!(link.contains("page=20>; rel=\"last\""), "{link}");
    let page: Value = r.json().await.expect("runs");
    assert_eq!(page["total_count"], 2_000);
    let runs = page["workflow_runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 100);
    assert!(
        runs.windows(2)
            .all(|w| w[0]["id"].as_u64() > w[1]["id"].as_u64())
    );
    assert!(runs.iter().all(|r| r["status"] == "completed"));
    let id = runs[0]["id"].as_u64().expect("id");
    let one: Value = get(format!("{api}/repos/acme/ledger/actions/runs/{id}"))
        .await
        .json()
        .await
        .expect("run");
    assert_eq!(&one, &runs[0], "a listed run is the run");
    // A generated run's jobs, one job and its log (through the blob store's redirect).
    let jobs: Value = get(format!("{api}/repos/acme/ledger/actions/runs/{id}/jobs"))
        .await
        .json()
        .await
        .expect("jobs");
    let job = jobs["jobs"][0]["id"].as_u64().expect("a job");
    let r = get(format!("{api}/repos/acme/ledger/actions/jobs/{job}")).await;
    assert_eq!(r.status(), 200);
    let r = get(format!("{api}/repos/acme/ledger/actions/jobs/{job}/logs")).await;
    assert_eq!(r.status(), 200, "the redirect to the log is followed");
    assert!(!r.text().await.unwrap_or_default().is_empty());
    let again = http
        .get(url)
        .header("if-none-match", etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), 304);

    // A demo-scale world does not know the Big world's extra repositories.
    let demo = flightdeck::sim::start(SimOptions {
        speed: 0.0,
        ..SimOptions::default()
    })
    .await
    .expect("demo world starts");
    let r = get(format!("{}/repos/acme/search/pulls", demo.github_url)).await;
    assert_eq!(r.status(), 404);
    assert!(!demo.config_toml().contains("acme/search"));
    assert!(!demo.config_toml().contains("max_items"));
}
