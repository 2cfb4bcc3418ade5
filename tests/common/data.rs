// Deterministic rows and a fixed clock, shared by the integration tests (`tests/common`) and the
// tab views' unit tests (`src/ui/tabs`), which `include!` this file. Plain data builders over the
// domain types only: the including module brings `domain::*`, `OffsetDateTime` and `datetime!`.

pub const NOW: OffsetDateTime = datetime!(2026-11-23 09:30:00 UTC);

pub fn pr(repo: &str, number: u64, title: &str, author: &str) -> PullRequest {
    PullRequest {
        repo: repo.into(),
        number,
        title: title.into(),
        author: author.into(),
        draft: number.is_multiple_of(5),
        labels: if number.is_multiple_of(3) {
            vec!["release".into()]
        } else {
            vec![]
        },
        head_ref: format!("feature/{number}"),
        base_ref: "main".into(),
        created_at: Some(NOW - time::Duration::hours(number as i64 % 48 + 1)),
        updated_at: Some(NOW - time::Duration::minutes(number as i64 % 50)),
        url: format!("https://github.com/{repo}/pull/{number}"),
        body: "Body line one\nBody line two".into(),
        head_sha: format!("{:040x}", number * 7919),
        checks: Some(ChecksRollup::of(&checks_for(number))),
        check_list: checks_for(number),
        review: Some(match number % 4 {
            0 => ReviewDecision::Approved,
            1 => ReviewDecision::ReviewRequired,
            2 => ReviewDecision::ChangesRequested,
            _ => ReviewDecision::Commented,
        }),
        reviews: vec![Review {
            reviewer: "rita".into(),
            state: "APPROVED".into(),
            submitted_at: Some(NOW - time::Duration::minutes(30)),
        }],
        mergeable: Some(if number.is_multiple_of(2) {
            "clean".into()
        } else {
            "blocked".into()
        }),
        additions: Some(number * 3),
        deletions: Some(number % 17),
        changed_files: Some(number % 9 + 1),
    }
}

pub fn checks_for(number: u64) -> Vec<Check> {
    let mut v = vec![
        Check {
            name: "build".into(),
            state: CheckState::Passed,
            detail: "success".into(),
            url: format!("https://github.com/acme/x/runs/{number}1"),
        },
        Check {
            name: "lint".into(),
            state: CheckState::Passed,
            detail: "success".into(),
            url: format!("https://github.com/acme/x/runs/{number}2"),
        },
    ];
    if number % 3 == 1 {
        v.insert(
            0,
            Check {
                name: "test (node 20)".into(),
                state: CheckState::Failed,
                detail: "failure".into(),
                url: format!("https://github.com/acme/x/runs/{number}3"),
            },
        );
    }
    if number % 3 == 2 {
        v.insert(
            0,
            Check {
                name: "e2e".into(),
                state: CheckState::Pending,
                detail: "in_progress".into(),
                url: format!("https://github.com/acme/x/runs/{number}4"),
            },
        );
    }
    v
}

pub fn run(repo: &str, id: u64, workflow: &str, state: RunState) -> WorkflowRun {
    WorkflowRun {
        repo: repo.into(),
        id,
        run_number: id % 1000,
        workflow: workflow.into(),
        title: format!("{workflow} for change {id}"),
        branch: if id.is_multiple_of(2) {
            "main".into()
        } else {
            format!("fix/{id}")
        },
        sha: format!("{:040x}", id),
        event: if id.is_multiple_of(2) {
            "push".into()
        } else {
            "pull_request".into()
        },
        actor: "octocat".into(),
        state,
        attempt: 1 + (id % 2) as u32,
        started_at: Some(NOW - time::Duration::minutes(id as i64 % 90 + 2)),
        updated_at: Some(NOW - time::Duration::minutes(id as i64 % 90)),
        url: format!("https://github.com/{repo}/actions/runs/{id}"),
        pending: if state == RunState::Waiting {
            vec![PendingDeployment {
                environment_id: 161088068,
                environment: "production".into(),
                wait_timer_minutes: 0,
                wait_started_at: Some(NOW - time::Duration::minutes(12)),
                can_approve: true,
                reviewers: vec!["mara-k".into(), "team release".into()],
            }]
        } else {
            Vec::new()
        },
    }
}

/// `n` deterministic samples around `center` (±5 %).
pub fn samples(center: f64, n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let x = ((i as u64 + 1) * 2654435761 + seed * 40503) % 1000;
            center * (0.95 + x as f64 / 10_000.0)
        })
        .collect()
}

pub fn metric(name: &str, canary: f64, baseline: f64, max: f64) -> MetricReading {
    MetricReading {
        name: name.into(),
        canary: Some(canary),
        baseline: Some(baseline),
        max: Some(max),
        min: None,
        error: None,
        canary_samples: samples(canary, 40, 1),
        baseline_samples: samples(baseline, 40, 2),
        in_slice: None,
        windows: samples(canary, 10, 3),
        counts: Vec::new(),
        prior: None,
        prior_lookbacks: None,
        in_rollout: None,
        min_samples: 0,
        overlap: 1.0,
        window_steps: 4,
        window_secs: 60,
        quantile: None,
        lower_is_worse: false,
        critical: false,
        weight: 1.0,
        failure_limit: 1,
        tolerance: 0.1,
        detect: None,
    }
}

pub fn rollout(name: &str, production: bool, weight: f64, err: f64) -> ServiceRollout {
    ServiceRollout {
        name: name.into(),
        environment: if production {
            "production".into()
        } else {
            "staging".into()
        },
        production,
        slices: vec![10, 25, 50, 100],
        weight: Some(weight),
        metrics: vec![
            metric("error_rate", err, 0.002, 0.005),
            metric("p99_ms", 182.0, 180.0, 500.0),
        ],
        slice_since: Some(NOW - time::Duration::minutes(4)),
        repo: Some(format!("acme/{name}")),
        ..ServiceRollout::default()
    }
}

pub fn incident(project: &str, n: u64, title: &str) -> Incident {
    Incident {
        project: project.into(),
        id: n.to_string(),
        short_id: format!("{}-{n}", project.to_uppercase()),
        title: title.into(),
        culprit: "checkout/payment.js in charge".into(),
        level: if n.is_multiple_of(2) {
            "error".into()
        } else {
            "warning".into()
        },
        status: "unresolved".into(),
        count: n * 17,
        user_count: n * 3,
        first_seen: Some(NOW - time::Duration::minutes(n as i64 * 7)),
        last_seen: Some(NOW - time::Duration::minutes(n as i64)),
        url: format!("https://sentry.io/organizations/acme/issues/{n}/"),
        stats: Vec::new(),
    }
}

pub fn github_data() -> SourceData {
    SourceData::GitHub {
        prs: vec![
            pr(
                "acme/checkout",
                101,
                "Add retry to payment capture",
                "alice",
            ),
            pr("acme/checkout", 102, "Bump serde to 1.0.229", "dependabot"),
            pr("acme/web", 45, "Checkout button colour bleed", "bob"),
            pr("acme/web", 48, "Release 2.14.0", "carol"),
        ]
        .into_iter()
        .map(std::sync::Arc::new)
        .collect(),
        runs: vec![
            run("acme/checkout", 9001, "CI", RunState::Failure),
            run("acme/checkout", 9002, "Deploy", RunState::Waiting),
            run("acme/web", 9003, "CI", RunState::Success),
            run("acme/web", 9004, "CI", RunState::InProgress),
        ],
        rate: Some(RateLimit {
            limit: 5000,
            remaining: 4930,
            reset: 0,
        }),
        graphql_rate: None,
        failed: Vec::new(),
        slowed: None,
    }
}

pub fn prometheus_data() -> SourceData {
    SourceData::Prometheus(vec![
        rollout("checkout", true, 50.0, 0.031),
        rollout("web", false, 25.0, 0.001),
    ])
}

pub fn sentry_data() -> SourceData {
    SourceData::Sentry(vec![
        incident(
            "checkout",
            1,
            "TypeError: cannot read property 'amount' of undefined",
        ),
        incident("checkout", 2, "TimeoutError: upstream payments took 30s"),
        incident("web", 3, "ReferenceError: gtag is not defined"),
    ])
}


/// The demo's Python incident CHECKOUT-4C as the issue list has it: first seen 4 minutes ago,
/// events in the last hours from its `stats` series.
pub fn incident_4c() -> Incident {
    let hour = NOW.unix_timestamp() - NOW.unix_timestamp().rem_euclid(3600);
    Incident {
        project: "checkout".into(),
        id: "6120007".into(),
        short_id: "CHECKOUT-4C".into(),
        title: "ZeroDivisionError: integer division or modulo by zero".into(),
        culprit: "worker.refunds in split_refund".into(),
        level: "error".into(),
        status: "unresolved".into(),
        count: 42,
        user_count: 21,
        first_seen: Some(NOW - time::Duration::minutes(4)),
        last_seen: Some(NOW - time::Duration::seconds(20)),
        url: "https://acme.sentry.io/issues/6120007/".into(),
        stats: vec![(hour - 3600, 0), (hour, 42)],
    }
}

/// A frame of CHECKOUT-4C's event (context and vars as Sentry's Python SDK sends them).
fn py_frame(
    file: &str,
    module: &str,
    function: &str,
    line: u32,
    context: &[(u32, &str)],
    vars: serde_json::Value,
) -> Frame {
    Frame {
        filename: Some(file.into()),
        abs_path: Some(format!("/srv/checkout/{file}")),
        module: Some(module.into()),
        function: Some(function.into()),
        line: Some(line),
        column: None,
        in_app: true,
        context: context.iter().map(|(n, t)| (*n, t.to_string())).collect(),
        vars: match vars {
            serde_json::Value::Object(m) => m.into_iter().collect(),
            _ => Vec::new(),
        },
    }
}

/// CHECKOUT-4C's latest event as the Sentry client returns it.
pub fn event_4c() -> IncidentEvent {
    let order = serde_json::json!({"id": "'ord_1842'", "total_cents": 4599, "shipments": [
        {"id": "'shp_1'", "delivered": true}, {"id": "'shp_2'", "delivered": true}]});
    let kombu = Frame {
        filename: Some("kombu/messaging.py".into()),
        abs_path: Some("/usr/lib/python3.11/site-packages/kombu/messaging.py".into()),
        module: Some("kombu.messaging".into()),
        function: Some("_receive_callback".into()),
        line: Some(654),
        column: None,
        in_app: false,
        context: Vec::new(),
        vars: vec![(
            "message".into(),
            serde_json::json!("<RefundMessage delivery_tag=8812>"),
        )],
    };
    let frames = vec![
        kombu,
        py_frame(
            "worker/app.py",
            "worker.app",
            "handle_refund",
            8,
            &[
                (5, ""),
                (6, "def handle_refund(message):"),
                (7, "    order = message.order"),
                (8, "    parts = refund_order(order)"),
                (9, "    message.ack()"),
                (10, "    return parts"),
            ],
            serde_json::json!({"message": "<RefundMessage delivery_tag=8812>", "order": order}),
        ),
        py_frame(
            "worker/refunds.py",
            "worker.refunds",
            "refund_order",
            14,
            &[
                (11, "def refund_order(order):"),
                (12, "    \"\"\"Refund what has not been delivered yet, one part per open shipment.\"\"\""),
                (13, "    open_shipments = [s for s in order[\"shipments\"] if not s[\"delivered\"]]"),
                (14, "    return split_refund(order[\"total_cents\"], len(open_shipments))"),
            ],
            serde_json::json!({"order": order, "open_shipments": []}),
        ),
        py_frame(
            "worker/refunds.py",
            "worker.refunds",
            "split_refund",
            6,
            &[
                (3, ""),
                (4, "def split_refund(total_cents, parts):"),
                (5, "    \"\"\"Split a refund into equal parts; the remainder goes on the first.\"\"\""),
                (6, "    share = total_cents // parts"),
                (7, "    remainder = total_cents - share * parts"),
                (8, "    return [share + remainder] + [share] * (parts - 1)"),
                (9, ""),
            ],
            serde_json::json!({"total_cents": 4599, "parts": 0}),
        ),
    ];
    IncidentEvent {
        event_id: "4c0000000000000000000000000000aa".into(),
        issue_id: "6120007".into(),
        short_id: "CHECKOUT-4C".into(),
        title: "ZeroDivisionError: integer division or modulo by zero".into(),
        message: String::new(),
        platform: "python".into(),
        release: Some("checkout@2.14.0".into()),
        environment: Some("production".into()),
        date: Some(NOW - time::Duration::seconds(20)),
        tags: vec![
            ("environment".into(), "production".into()),
            ("handled".into(), "no".into()),
            ("level".into(), "error".into()),
            ("mechanism".into(), "excepthook".into()),
            ("release".into(), "checkout@2.14.0".into()),
        ],
        exceptions: vec![ExceptionInfo {
            kind: "ZeroDivisionError".into(),
            value: "integer division or modulo by zero".into(),
            module: Some("builtins".into()),
            frames,
            frames_omitted: 0,
            omitted_at: 0,
            chained_as: None,
        }],
        url: "https://acme.sentry.io/issues/6120007/".into(),
    }
}
