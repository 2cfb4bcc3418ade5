//! The demo's Sentry issues and their JSON in the Sentry API's shapes: JavaScript incidents in
//! checkout and web, and a Python refunds worker's (CHECKOUT-4C, with frame `vars`).
//!
//! A Big world (`flightdeck demo --scale big`) adds three projects and generated issues, so that
//! [`BIG_ISSUES`] are unresolved across the five; see [`issues`].

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::Scale;
use super::scenario::{INCIDENT_AT, story};
use super::util::{hex_id, iso, iso_micros, mix, pick, unix_of};

pub const ORG: &str = "acme";
pub const ORG_ID: &str = "4504000";
/// (slug, id, platform)
pub const PROJECTS: [(&str, &str, &str); 2] = [
    ("checkout", "4504812", "node"),
    ("web", "4504813", "javascript"),
];
/// The projects of a Big world: the demo's two, then one per other repository.
pub const BIG_PROJECTS: [(&str, &str, &str); 5] = [
    PROJECTS[0],
    PROJECTS[1],
    ("search", "4504814", "node"),
    ("ledger", "4504815", "node"),
    ("mobile", "4504816", "javascript"),
];
/// Unresolved issues of a Big world, the demo's six included.
pub const BIG_ISSUES: usize = 500;
/// How a Big world's issues spread over its projects, the demo's included: most in the busiest
/// project (more than one client page cap of old, 300), a few in the quietest.
pub const BIG_ISSUES_PER_PROJECT: [(&str, usize); 5] = [
    ("checkout", 340),
    ("web", 80),
    ("search", 40),
    ("ledger", 25),
    ("mobile", 15),
];

/// A stack frame: (file, function, line, column, in_app, source lines from `line - 3`).
type Frame = (
    &'static str,
    &'static str,
    u32,
    u32,
    bool,
    &'static [&'static str],
);

/// A frame as Sentry's Python SDK sends it: module, absolute path and local variables (`vars`,
/// a JSON object, strings as Python reprs with their quotes). Context lines come from the file.
pub struct RichFrame {
    pub filename: &'static str,
    pub abs_path: &'static str,
    pub module: &'static str,
    pub function: &'static str,
    pub line: u32,
    pub in_app: bool,
    /// The file's text for the context lines (±3 around `line`); empty: none sent.
    pub source: &'static str,
    /// The frame's `vars` as JSON text.
    pub vars: &'static str,
}

pub struct IssueSpec {
    pub id: &'static str,
    pub project: &'static str,
    pub short_id: &'static str,
    pub exc_type: &'static str,
    pub value: &'static str,
    pub culprit: &'static str,
    pub level: &'static str,
    pub release: &'static str,
    pub first_seen: f64,
    /// Last event before any growth below.
    pub last_seen: f64,
    pub base_count: u64,
    /// (from scenario second, events per second) segments.
    pub growth: &'static [(f64, f64)],
    pub users_per_event: f64,
    pub priority: &'static str,
    pub frames: &'static [Frame],
    /// The event's platform when it is not the project's (a Python worker in a node project).
    pub platform: Option<&'static str>,
    /// Frames with modules and vars (a Python SDK's), used instead of `frames` when not empty.
    pub rich_frames: &'static [RichFrame],
}

const EXPRESS: Frame = (
    "node_modules/express/lib/router/layer.js",
    "Layer.handle [as handle_request]",
    95,
    5,
    false,
    &[
        "  try {",
        "    fn(req, res, next);",
        "  } catch (err) {",
        "    fn(req, res, next);",
        "    next(err);",
        "  }",
        "};",
    ],
);

pub const ISSUES: [IssueSpec; 6] = [
    IssueSpec {
        id: "6120003",
        project: "checkout",
        short_id: "CHECKOUT-3F",
        exc_type: "TypeError",
        value: "cannot read property 'amount' of undefined",
        culprit: "checkout/payment.js in chargeCard",
        level: "error",
        release: "checkout@2.14.0",
        first_seen: INCIDENT_AT,
        last_seen: INCIDENT_AT,
        base_count: 1,
        growth: &[(INCIDENT_AT, 2.0), (120.0, 4.0)],
        users_per_event: 0.6,
        priority: "high",
        frames: &[
            EXPRESS,
            (
                "checkout/routes/pay.js",
                "submitPayment",
                42,
                26,
                true,
                &[
                    "router.post('/pay', async (req, res) => {",
                    "  const order = await orders.load(req.body.orderId);",
                    "  const gateway = gateways.for(order.region);",
                    "  const receipt = await chargeCard(order, gateway);",
                    "  await orders.markPaid(order.id, receipt);",
                    "  res.status(201).json(receipt);",
                    "});",
                ],
            ),
            (
                "checkout/payment.js",
                "chargeCard",
                118,
                44,
                true,
                &[
                    "    throw new PaymentError('no card on file');",
                    "  }",
                    "  // saved cards skip the payment form, so order.payment may be unset",
                    "  const cents = Math.round(order.payment.amount * 100);",
                    "  return gateway.charge({",
                    "    card: customer.defaultCard,",
                    "    amount: cents,",
                ],
            ),
        ],
        platform: None,
        rich_frames: &[],
    },
    IssueSpec {
        id: "6120002",
        project: "checkout",
        short_id: "CHECKOUT-2A",
        exc_type: "PaymentGatewayTimeout",
        value: "upstream timed out after 30000ms",
        culprit: "checkout/gateway.js in capture",
        level: "error",
        release: "checkout@2.13.2",
        first_seen: -9.0 * 86_400.0,
        last_seen: -2_400.0,
        base_count: 342,
        growth: &[(0.0, 1.0 / 45.0)],
        users_per_event: 0.4,
        priority: "medium",
        frames: &[(
            "checkout/gateway.js",
            "capture",
            61,
            11,
            true,
            &[
                "export async function capture(intent) {",
                "  const res = await fetchWithTimeout(`${BASE}/capture`, {",
                "    method: 'POST',",
                "    timeout: 30000,",
                "    body: JSON.stringify(intent),",
                "  });",
                "  return res.json();",
            ],
        )],
        platform: None,
        rich_frames: &[],
    },
    IssueSpec {
        id: "6120001",
        project: "checkout",
        short_id: "CHECKOUT-1K",
        exc_type: "DeprecationWarning",
        value: "Intl.v8BreakIterator is deprecated. Please use Intl.Segmenter instead.",
        culprit: "checkout/i18n/format.js in wrapLines",
        level: "warning",
        release: "checkout@2.11.0",
        first_seen: -40.0 * 86_400.0,
        last_seen: -600.0,
        base_count: 1_280,
        growth: &[(0.0, 1.0 / 20.0)],
        users_per_event: 0.2,
        priority: "low",
        frames: &[(
            "checkout/i18n/format.js",
            "wrapLines",
            23,
            18,
            true,
            &[
                "export function wrapLines(text, width) {",
                "  const out = [];",
                "  // TODO: move to Intl.Segmenter",
                "  const it = new Intl.v8BreakIterator([locale], { type: 'line' });",
                "  it.adoptText(text);",
                "  let start = it.first();",
                "  for (let end = it.next(); end !== -1; end = it.next()) {",
            ],
        )],
        platform: None,
        rich_frames: &[],
    },
    IssueSpec {
        id: "6120102",
        project: "web",
        short_id: "WEB-9C",
        exc_type: "ChunkLoadError",
        value: "Loading chunk 812 failed.",
        culprit: "web/src/router.ts in lazyRoute",
        level: "error",
        release: "web@2026.11.16",
        first_seen: -6.0 * 86_400.0,
        last_seen: -5_000.0,
        base_count: 57,
        growth: &[(0.0, 1.0 / 90.0)],
        users_per_event: 0.9,
        priority: "medium",
        frames: &[(
            "web/src/router.ts",
            "lazyRoute",
            17,
            12,
            true,
            &[
                "function lazyRoute(name: string) {",
                "  return async () => {",
                "    const mod = await import(`./pages/${name}`);",
                "    return mod.default;",
                "  };",
                "}",
                "",
            ],
        )],
        platform: None,
        rich_frames: &[],
    },
    IssueSpec {
        id: "6120101",
        project: "web",
        short_id: "WEB-7Q",
        exc_type: "Error",
        value: "ResizeObserver loop completed with undelivered notifications.",
        culprit: "web/src/components/Carousel.tsx in onResize",
        level: "info",
        release: "web@2026.10.30",
        first_seen: -25.0 * 86_400.0,
        last_seen: -300.0,
        base_count: 2_210,
        growth: &[(0.0, 1.0 / 15.0)],
        users_per_event: 0.3,
        priority: "low",
        frames: &[(
            "web/src/components/Carousel.tsx",
            "onResize",
            88,
            7,
            true,
            &[
                "  const onResize = useCallback((entries) => {",
                "    for (const entry of entries) {",
                "      setWidth(entry.contentRect.width);",
                "      el.current.style.height = `${entry.contentRect.width / ratio}px`;",
                "    }",
                "  }, [ratio]);",
                "",
            ],
        )],
        platform: None,
        rich_frames: &[],
    },
    IssueSpec {
        id: "6120007",
        project: "checkout",
        short_id: "CHECKOUT-4C",
        exc_type: "ZeroDivisionError",
        value: "integer division or modulo by zero",
        culprit: "worker.refunds in split_refund",
        level: "error",
        release: "checkout@2.14.0",
        first_seen: PY_INCIDENT_AT,
        last_seen: PY_INCIDENT_AT,
        base_count: 1,
        growth: &[(PY_INCIDENT_AT, 0.5), (120.0, 1.0)],
        users_per_event: 0.5,
        priority: "high",
        frames: &[],
        platform: Some("python"),
        rich_frames: &PY_FRAMES,
    },
];

/// When the refunds worker's first `ZeroDivisionError` arrives: 3 s after CHECKOUT-3F, 6 s after
/// the canary's 50 % step.
pub const PY_INCIDENT_AT: f64 = INCIDENT_AT + 3.0;

/// `worker/refunds.py` of acme/checkout (the crash is on line 6 when an order has no open
/// shipment).
pub const REFUNDS_PY: &str = r#""""Refunds for orders that shipped in parts."""


def split_refund(total_cents, parts):
    """Split a refund into equal parts; the remainder goes on the first."""
    share = total_cents // parts
    remainder = total_cents - share * parts
    return [share + remainder] + [share] * (parts - 1)


def refund_order(order):
    """Refund what has not been delivered yet, one part per open shipment."""
    open_shipments = [s for s in order["shipments"] if not s["delivered"]]
    return split_refund(order["total_cents"], len(open_shipments))
"#;

/// `worker/app.py` of acme/checkout.
pub const APP_PY: &str = r#""""The refunds worker: takes refund requests off the queue."""

from worker.refunds import refund_order


def handle_refund(message):
    order = message.order
    parts = refund_order(order)
    message.ack()
    return parts
"#;

/// CHECKOUT-4C's frames, outermost first, as Sentry's Python SDK sends them.
const PY_FRAMES: [RichFrame; 4] = [
    RichFrame {
        filename: "kombu/messaging.py",
        abs_path: "/usr/lib/python3.11/site-packages/kombu/messaging.py",
        module: "kombu.messaging",
        function: "_receive_callback",
        line: 654,
        in_app: false,
        source: "",
        vars: r#"{"message": "<RefundMessage delivery_tag=8812>"}"#,
    },
    RichFrame {
        filename: "worker/app.py",
        abs_path: "/srv/checkout/worker/app.py",
        module: "worker.app",
        function: "handle_refund",
        line: 8,
        in_app: true,
        source: APP_PY,
        vars: concat!(
            r#"{"message": "<RefundMessage delivery_tag=8812>", "order": "#,
            r#"{"id": "'ord_1842'", "total_cents": 4599, "shipments": [{"id": "'shp_1'", "delivered": true}, {"id": "'shp_2'", "delivered": true}]}"#,
            "}"
        ),
    },
    RichFrame {
        filename: "worker/refunds.py",
        abs_path: "/srv/checkout/worker/refunds.py",
        module: "worker.refunds",
        function: "refund_order",
        line: 14,
        in_app: true,
        source: REFUNDS_PY,
        vars: concat!(
            r#"{"order": "#,
            r#"{"id": "'ord_1842'", "total_cents": 4599, "shipments": [{"id": "'shp_1'", "delivered": true}, {"id": "'shp_2'", "delivered": true}]}"#,
            r#", "open_shipments": []}"#
        ),
    },
    RichFrame {
        filename: "worker/refunds.py",
        abs_path: "/srv/checkout/worker/refunds.py",
        module: "worker.refunds",
        function: "split_refund",
        line: 6,
        in_app: true,
        source: REFUNDS_PY,
        vars: r#"{"total_cents": 4599, "parts": 0}"#,
    },
];

/// The projects the simulated Sentry knows at `scale`.
pub fn projects(scale: Scale) -> &'static [(&'static str, &'static str, &'static str)] {
    match scale {
        Scale::Demo => &PROJECTS,
        Scale::Big => &BIG_PROJECTS,
    }
}

/// Every issue at `scale`: the demo's, then (in a Big world) the generated ones.
pub fn issues(scale: Scale) -> impl Iterator<Item = &'static IssueSpec> {
    let generated: &'static [IssueSpec] = match scale {
        Scale::Demo => &[],
        Scale::Big => generated(),
    };
    ISSUES.iter().chain(generated)
}

/// Id of the first generated issue (above every scripted one).
const GEN_ISSUE_BASE: u64 = 6_200_000;
const DAY: f64 = 86_400.0;

/// A Big world's generated issues, built once per process (the JSON only when asked for). They
/// are old and quiet: first seen 60 to 1 days before the story, last seen before it starts, and
/// they never change, so they never come from a canary.
fn generated() -> &'static [IssueSpec] {
    static GEN: OnceLock<Vec<IssueSpec>> = OnceLock::new();
    GEN.get_or_init(|| {
        let mut out = Vec::with_capacity(BIG_ISSUES);
        for (slug, total) in BIG_ISSUES_PER_PROJECT {
            let demo = ISSUES.iter().filter(|i| i.project == slug).count();
            for i in 0..total.saturating_sub(demo) {
                let id = GEN_ISSUE_BASE + out.len() as u64;
                out.push(gen_issue(slug, i, id));
            }
        }
        out
    })
}

fn leak(s: String) -> &'static str {
    // Once per process (the generated issues are built once and shared by every Big world).
    Box::leak(s.into_boxed_str())
}

/// (exception type, message with `{}` for a detail, whether the detail is a dependency)
const EXCEPTIONS: [(&str, &str, bool); 8] = [
    (
        "TypeError",
        "Cannot read properties of undefined (reading '{}')",
        false,
    ),
    ("RangeError", "Invalid time value in {}", false),
    ("TimeoutError", "upstream {} timed out after 5000ms", true),
    (
        "ConnectionResetError",
        "socket hang up while calling {}",
        true,
    ),
    ("ValidationError", "\"{}\" is required", false),
    ("NotFoundError", "no {} with that id", false),
    ("Error", "Request failed with status code 502 from {}", true),
    (
        "SyntaxError",
        "Unexpected token < in JSON at position 0 (response of {})",
        true,
    ),
];
const FIELDS: [&str; 8] = [
    "amount", "currency", "userId", "sku", "locale", "cursor", "token", "address",
];
const DEPENDENCIES: [&str; 8] = [
    "payments-gateway",
    "inventory",
    "search-index",
    "ledger-db",
    "push-service",
    "auth",
    "feature-flags",
    "cdn",
];
/// (module, function)
const CULPRITS: [(&str, &str); 6] = [
    ("handlers/orders", "handle"),
    ("lib/http", "fetchWithRetry"),
    ("db/pool", "acquire"),
    ("jobs/sync", "run"),
    ("routes/api", "validate"),
    ("services/cache", "lookup"),
];
const GENERIC_SOURCE: [&str; 7] = [
    "  const started = Date.now();",
    "  try {",
    "    const result = await next(input);",
    "    return result.value;",
    "  } catch (err) {",
    "    log.warn({ err, elapsed: Date.now() - started });",
    "    throw err;",
];

/// `n` in Sentry's short-id digits (base 36, upper case).
fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// The `i`-th generated issue of project `slug`, with id `id`.
fn gen_issue(slug: &'static str, i: usize, id: u64) -> IssueSpec {
    let h = mix(super::util::fnv64(slug.as_bytes()) ^ mix(i as u64));
    let pick_of = |shift: u32, n: usize| ((h >> shift) as usize) % n;
    let (exc_type, template, dependency) = EXCEPTIONS[pick_of(0, EXCEPTIONS.len())];
    let detail = if dependency {
        DEPENDENCIES[pick_of(4, DEPENDENCIES.len())]
    } else {
        FIELDS[pick_of(4, FIELDS.len())]
    };
    let (module, function) = CULPRITS[pick_of(8, CULPRITS.len())];
    let file = leak(format!("{slug}/{module}.js"));
    let (level, priority) = match pick_of(12, 10) {
        0..=6 if pick_of(16, 3) == 0 => ("error", "high"),
        0..=6 => ("error", "medium"),
        7 | 8 => ("warning", "low"),
        _ => ("info", "low"),
    };
    // First seen 60 to 1 days before the story, last seen between then and a minute before it.
    let t = mix(h);
    let first_seen = -(DAY + (t % (59 * 86_400)) as f64);
    let frac = ((t >> 32) % 1000) as f64 / 1000.0;
    let last_seen = (first_seen + frac * (-60.0 - first_seen)).round();
    let r = (t >> 48) % 1000;
    let line = 20 + (h >> 32) as u32 % 200;
    let frames: &'static [Frame] = Box::leak(Box::new([
        EXPRESS,
        (file, function, line, 9, true, &GENERIC_SOURCE[..]),
    ]));
    IssueSpec {
        id: leak(id.to_string()),
        project: slug,
        short_id: leak(format!(
            "{}-{}",
            slug.to_uppercase(),
            base36(1_000 + i as u64)
        )),
        exc_type,
        value: leak(template.replace("{}", detail)),
        culprit: leak(format!("{file} in {function}")),
        level,
        // 1.x: never a canary's release.
        release: leak(format!("{slug}@1.{}.{}", (h >> 24) % 20, (h >> 28) % 10)),
        first_seen,
        last_seen,
        // Mostly a handful of events, a few thousand for the noisiest.
        base_count: 1 + r * r * r / 200_000,
        growth: &[],
        users_per_event: 0.1 + ((h >> 40) % 9) as f64 / 10.0,
        priority,
        frames,
        platform: None,
        rich_frames: &[],
    }
}

/// The releases the canaries run (the `Deploy` runs' releases).
const CANARY_RELEASES: [&str; 2] = ["checkout@2.14.0", "web@2026.11.23"];

/// Whether `spec`'s events come from a canary (its release is a canary's).
pub fn from_canary(spec: &IssueSpec) -> bool {
    CANARY_RELEASES.contains(&spec.release)
}

/// Events recorded by the growth segments up to `t`.
fn grown(spec: &IssueSpec, t: f64) -> f64 {
    let mut total = 0.0;
    for (i, (from, rate)) in spec.growth.iter().enumerate() {
        let until = spec.growth.get(i + 1).map_or(f64::INFINITY, |n| n.0);
        total += (t.min(until) - from).max(0.0) * rate;
    }
    total
}

/// Scenario second when the growth reached `n` events.
fn time_of_event(spec: &IssueSpec, n: f64) -> f64 {
    let mut done = 0.0;
    for (i, (from, rate)) in spec.growth.iter().enumerate() {
        let until = spec.growth.get(i + 1).map_or(f64::INFINITY, |s| s.0);
        let here = (until - from) * rate;
        if done + here >= n {
            return from + (n - done) / rate;
        }
        done += here;
    }
    spec.last_seen
}

/// Whether the issue exists at `t`.
pub fn visible(spec: &IssueSpec, t: f64) -> bool {
    story(t) >= spec.first_seen
}

/// Event count at `t` (0 before it is first seen).
pub fn count(spec: &IssueSpec, t: f64) -> u64 {
    let t = story(t);
    if t < spec.first_seen {
        return 0;
    }
    spec.base_count + grown(spec, t).floor() as u64
}

/// Scenario second of the latest event at `t`.
pub fn last_seen(spec: &IssueSpec, t: f64) -> f64 {
    let n = grown(spec, story(t)).floor();
    if n >= 1.0 {
        time_of_event(spec, n)
    } else {
        spec.last_seen
    }
}

fn user_count(spec: &IssueSpec, t: f64) -> u64 {
    ((count(spec, t) as f64 * spec.users_per_event).floor() as u64).max(1)
}

fn project(slug: &str) -> (&'static str, &'static str, &'static str) {
    BIG_PROJECTS
        .iter()
        .copied()
        .find(|p| p.0 == slug)
        .unwrap_or(PROJECTS[0])
}

/// Hourly (`bucket` = 3600, `n` = 24) or daily stats ending at `t`.
fn stats(spec: &IssueSpec, t: f64, bucket: i64, n: i64) -> Value {
    let t = story(t);
    let now = unix_of(t);
    let last = now - now.rem_euclid(bucket);
    let points: Vec<Value> = (0..n)
        .rev()
        .map(|k| {
            let start = last - k * bucket;
            let s0 = (start - unix_of(0.0)) as f64;
            let s1 = (s0 + bucket as f64).min(t);
            let live = count(spec, s1).saturating_sub(count(spec, s0.min(s1)));
            let history = if s0 < 0.0 && s0 >= spec.first_seen && spec.base_count > 1 {
                pick(
                    spec.id,
                    start / bucket,
                    (spec.base_count / 10).clamp(2, 40) * bucket as u64 / 3600,
                )
            } else {
                0
            };
            json!([start, live + history])
        })
        .collect();
    Value::Array(points)
}

/// The issue as listed by `GET /projects/{org}/{project}/issues/`; `stats_period` is "24h", "14d"
/// or "" (no stats).
pub fn issue_json(spec: &IssueSpec, t: f64, stats_period: &str) -> Value {
    let (slug, project_id, _) = project(spec.project);
    let title = format!("{}: {}", spec.exc_type, spec.value);
    let stats = match stats_period {
        "24h" => json!({"24h": stats(spec, t, 3600, 24)}),
        "14d" => json!({"14d": stats(spec, t, 86_400, 14)}),
        _ => json!({}),
    };
    let fresh = story(t) - spec.first_seen < 3600.0;
    json!({
        "annotations": [],
        "assignedTo": null,
        "count": count(spec, t).to_string(),
        "culprit": spec.culprit,
        "firstSeen": iso(spec.first_seen),
        "hasSeen": false,
        "id": spec.id,
        "isBookmarked": false,
        "isPublic": false,
        "isSubscribed": true,
        "lastSeen": iso(last_seen(spec, t)),
        "level": spec.level,
        "logger": null,
        "metadata": {
            "title": title,
            "type": spec.exc_type,
            "value": spec.value,
            "filename": spec.rich_frames.last().map_or(spec.frames.last().map_or("", |f| f.0), |f| f.filename),
            "function": spec.rich_frames.last().map_or(spec.frames.last().map_or("", |f| f.1), |f| f.function),
            "in_app_frame_mix": "mixed"
        },
        "numComments": 0,
        "permalink": format!("https://{ORG}.sentry.io/issues/{}/", spec.id),
        "project": {"id": project_id, "name": slug, "slug": slug},
        "shareId": null,
        "shortId": spec.short_id,
        "stats": stats,
        "status": "unresolved",
        "statusDetails": {},
        "substatus": if fresh { "new" } else { "ongoing" },
        "subscriptionDetails": null,
        "title": title,
        "type": "error",
        "issueType": "error",
        "issueCategory": "error",
        "platform": platform_of(spec),
        "priority": spec.priority,
        "isUnhandled": spec.level == "error",
        "userCount": user_count(spec, t)
    })
}

/// `GET /organizations/{org}/issues/{id}/`.
pub fn issue_detail_json(spec: &IssueSpec, t: f64) -> Value {
    let mut v = issue_json(spec, t, "24h");
    let (_, project_id, platform) = project(spec.project);
    let n = count(spec, t);
    let version = spec.release;
    let short = version.split('@').nth(1).unwrap_or(version);
    let extra = json!({
        "project": {
            "id": project_id,
            "name": spec.project,
            "slug": spec.project,
            "platform": platform
        },
        "priorityLockedAt": null,
        "seerFixabilityScore": null,
        "seerAutofixLastTriggered": null,
        "seerExplorerAutofixLastTriggered": null,
        "activity": [{
            "data": {},
            "dateCreated": iso(spec.first_seen),
            "id": format!("{}0", spec.id),
            "type": "first_seen",
            "user": null
        }],
        "seenBy": [],
        "userReportCount": 0,
        "participants": [],
        "firstRelease": {
            "version": version,
            "shortVersion": short,
            "dateCreated": iso(spec.first_seen.min(0.0) - 3600.0),
            "dateReleased": null,
            "ref": null,
            "url": null
        },
        "lastRelease": null,
        "tags": [
            {"key": "environment", "name": "Environment", "totalValues": n},
            {"key": "level", "name": "Level", "totalValues": n},
            {"key": "release", "name": "Release", "totalValues": n}
        ],
        "stats": {
            "24h": stats(spec, t, 3600, 24),
            "30d": stats(spec, t, 86_400, 30)
        }
    });
    if let (Some(obj), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        obj.extend(e.clone());
    }
    v
}

fn frame_json(f: &Frame, platform: &str) -> Value {
    let (file, function, line, col, in_app, source) = *f;
    let first = line.saturating_sub(3);
    let context: Vec<Value> = source
        .iter()
        .zip(first..)
        .map(|(text, n)| json!([n, text]))
        .collect();
    json!({
        "function": function,
        "errors": null,
        "colNo": col,
        "vars": null,
        "package": null,
        "absPath": format!("/srv/app/{file}"),
        "inApp": in_app,
        "lineNo": line,
        "module": file.trim_end_matches(".js").trim_end_matches(".ts").trim_end_matches(".tsx"),
        "filename": file,
        "platform": platform,
        "instructionAddr": null,
        "context": context,
        "symbolAddr": null,
        "trust": null,
        "symbol": null
    })
}

/// The context lines Sentry sends for `line` of `source`: ±3 lines, as `[number, text]`.
pub fn context_lines(source: &str, line: u32) -> Vec<(u32, &str)> {
    let first = line.saturating_sub(3).max(1);
    source
        .lines()
        .zip(1u32..)
        .filter(|(_, n)| (first..=line + 3).contains(n))
        .map(|(text, n)| (n, text))
        .collect()
}

fn rich_frame_json(f: &RichFrame, platform: &str) -> Value {
    let context: Vec<Value> = if f.source.is_empty() {
        Vec::new()
    } else {
        context_lines(f.source, f.line)
            .into_iter()
            .map(|(n, text)| json!([n, text]))
            .collect()
    };
    let vars: Value = serde_json::from_str(f.vars).unwrap_or(Value::Null);
    json!({
        "function": f.function,
        "errors": null,
        "colNo": null,
        "vars": vars,
        "package": null,
        "absPath": f.abs_path,
        "inApp": f.in_app,
        "lineNo": f.line,
        "module": f.module,
        "filename": f.filename,
        "platform": platform,
        "instructionAddr": null,
        "context": context,
        "symbolAddr": null,
        "trust": null,
        "symbol": null
    })
}

/// The platform of `spec`'s events: its own, else its project's.
pub fn platform_of(spec: &IssueSpec) -> &'static str {
    spec.platform.unwrap_or(project(spec.project).2)
}

/// The environment `spec`'s events come from.
pub fn environment_of(spec: &IssueSpec) -> &'static str {
    if spec.project == "checkout" {
        "production"
    } else {
        "staging"
    }
}

/// `GET /organizations/{org}/issues/{id}/events/latest/`.
pub fn latest_event_json(spec: &IssueSpec, t: f64) -> Value {
    let (slug, project_id, _) = project(spec.project);
    let platform = platform_of(spec);
    let python = platform == "python";
    let n = count(spec, t);
    let at = last_seen(spec, t);
    let event_id = hex_id(&format!("event/{}/{n}", spec.id), 32);
    let previous = (n > 1).then(|| hex_id(&format!("event/{}/{}", spec.id, n - 1), 32));
    let title = format!("{}: {}", spec.exc_type, spec.value);
    let frames: Vec<Value> = if spec.rich_frames.is_empty() {
        spec.frames
            .iter()
            .map(|f| frame_json(f, platform))
            .collect()
    } else {
        spec.rich_frames
            .iter()
            .map(|f| rich_frame_json(f, platform))
            .collect()
    };
    let (crash, crash_function) = match spec.rich_frames.last() {
        Some(f) => (f.filename, f.function),
        None => spec.frames.last().map_or(("", ""), |f| (f.0, f.1)),
    };
    let environment = environment_of(spec);
    let mechanism = if python {
        "excepthook"
    } else {
        "onunhandledrejection"
    };
    let track = if spec.first_seen >= 0.0 {
        "canary"
    } else {
        "stable"
    };
    let user_id = 100_000 + pick(spec.id, n as i64, 90_000);
    let (sdk, sdk_version) = match platform {
        "python" => ("sentry.python", "2.19.0"),
        "node" => ("sentry.javascript.node", "8.40.0"),
        _ => ("sentry.javascript.react", "8.40.0"),
    };
    let runtime = if python {
        json!({"name": "CPython", "version": "3.11.9", "type": "runtime"})
    } else {
        json!({"name": "node", "version": "v22.11.0", "type": "runtime"})
    };
    let request = if python {
        json!({
            "type": "message",
            "data": {"formatted": format!("refund request {}", spec.short_id)}
        })
    } else {
        json!({
            "type": "request",
            "data": {
                "fragment": null,
                "cookies": [],
                "inferredContentType": "application/json",
                "env": null,
                "headers": [["Content-Type", "application/json"], ["User-Agent", "acme-web/2026.11.23"]],
                "url": format!("https://{slug}.acme.example/api/pay"),
                "query": [],
                "data": null,
                "method": "POST"
            }
        })
    };
    json!({
        "groupID": spec.id,
        "eventID": event_id,
        "dist": null,
        "userReport": null,
        "previousEventID": previous,
        "message": "",
        "title": title,
        "id": event_id,
        "size": 6_000 + pick(spec.id, 7, 2_000),
        "errors": [],
        "platform": platform,
        "nextEventID": null,
        "type": "error",
        "metadata": {
            "type": spec.exc_type,
            "value": spec.value,
            "filename": crash,
            "function": crash_function
        },
        "tags": [
            {"value": environment, "key": "environment"},
            {"value": "no", "key": "handled"},
            {"value": spec.level, "key": "level"},
            {"value": mechanism, "key": "mechanism"},
            {"value": spec.release, "key": "release"},
            {"value": track, "key": "track"}
        ],
        "dateCreated": iso_micros(at),
        "dateReceived": iso_micros(at + 0.25),
        "user": {
            "username": null,
            "name": null,
            "ip_address": "10.0.0.0",
            "email": null,
            "data": null,
            "id": user_id.to_string()
        },
        "entries": [
            {
                "type": "exception",
                "data": {
                    "values": [{
                        "stacktrace": {
                            "frames": frames,
                            "framesOmitted": null,
                            "registers": null,
                            "hasSystemFrames": true
                        },
                        "module": if python { json!("builtins") } else { Value::Null },
                        "rawStacktrace": null,
                        "mechanism": {"type": mechanism, "handled": false},
                        "threadId": null,
                        "value": spec.value,
                        "type": spec.exc_type
                    }],
                    "excOmitted": null,
                    "hasSystemFrames": true
                }
            },
            {
                "type": "breadcrumbs",
                "data": {"values": [
                    {
                        "category": "http",
                        "level": "info",
                        "event_id": null,
                        "timestamp": iso_micros(at - 0.4),
                        "data": {"url": "/api/pay", "method": "POST"},
                        "message": null,
                        "type": "http"
                    },
                    {
                        "category": "console",
                        "level": "log",
                        "event_id": null,
                        "timestamp": iso_micros(at - 0.1),
                        "data": null,
                        "message": format!("handling request on {track}"),
                        "type": "debug"
                    }
                ]}
            },
            request
        ],
        "packages": {},
        "sdk": {"version": sdk_version, "name": sdk},
        "_meta": {
            "user": null,
            "context": null,
            "entries": {},
            "contexts": null,
            "message": null,
            "packages": null,
            "tags": {},
            "sdk": null
        },
        "contexts": {
            "runtime": runtime,
            "os": {"name": "Linux", "version": "6.8", "type": "os"},
            "trace": {
                "trace_id": hex_id(&format!("trace/{event_id}"), 32),
                "span_id": hex_id(&format!("span/{event_id}"), 16),
                "op": "http.server",
                "type": "trace"
            }
        },
        "fingerprints": [hex_id(&format!("fp/{}", spec.id), 32)],
        "context": {},
        "release": {
            "version": spec.release,
            "shortVersion": spec.release.split('@').nth(1).unwrap_or(spec.release),
            "ref": null,
            "url": null,
            "dateCreated": iso(spec.first_seen.min(0.0) - 3600.0),
            "dateReleased": null,
            "commitCount": 0,
            "deployCount": 0,
            "lastDeploy": null,
            "lastCommit": null,
            "data": {}
        },
        "crashFile": null,
        "location": crash,
        "culprit": spec.culprit,
        "groupingConfig": {"enhancements": "eJybzDRxc15qeXFJZU6qlZGBkbGugaGuoREAeaYIdg", "id": "newstyle:2023-01-11"},
        "occurrence": null,
        "projectID": project_id,
        "resolvedWith": [],
        "sdkUpdates": []
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_appears_and_grows() {
        let inc = &ISSUES[0];
        assert!(!visible(inc, 82.0));
        assert!(visible(inc, 83.0));
        assert_eq!(count(inc, 83.0), 1);
        assert_eq!(count(inc, 93.0), 21);
        assert!(count(inc, 150.0) > count(inc, 100.0));
        assert_eq!(count(inc, 500.0), count(inc, 180.0));
        assert_eq!(last_seen(inc, 93.2), 93.0);
        assert_eq!(last_seen(inc, 83.2), INCIDENT_AT);
        let older = &ISSUES[1];
        assert_eq!(count(older, 0.0), 342);
        assert_eq!(count(older, 90.0), 344);
        assert_eq!(last_seen(older, 10.0), older.last_seen);
        assert_eq!(last_seen(older, 100.0), 90.0);
    }
}
