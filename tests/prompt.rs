//! `ai::prompt` against the real LLM client: the preview is the request body byte for byte, and no
//! token-shaped string injected into any field of any subject reaches what a loopback
//! chat-completions server receives (proptest).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use flightdeck::ai::prompt::{
    Confidence, IncidentSubject, LogLine, MAX_PROMPT_CHARS, PrSubject, Prompt, RolloutSubject,
    RunSubject, Subject, answer_from_value, answer_schema, build, parse_answer, preview,
    request_body,
};
use flightdeck::sources::llm::{ChatRequest, LlmClient, LlmOptions, Message, parse_json_answer};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const MODEL: &str = "test-model";

/// The answer the fake sends: escapes and zero-width characters the parser must clean.
const ANSWER: &str = "Here it is:\n```json\n{\"headline\": \"Rounding\u{200B} bug\", \
     \"summary\": \"The total rounds half-up.\\u001b[2J\", \"next_steps\": [\"- Run \\u001b[31mcargo test\"], \
     \"confidence\": \"high\"}\n```";

/// The ChatRequest a caller builds from a prompt.
fn request(p: &Prompt) -> ChatRequest {
    ChatRequest::new(
        p.messages
            .iter()
            .map(|(role, content)| Message {
                role: role.as_str().to_string(),
                content: content.clone(),
            })
            .collect(),
    )
}

fn options() -> LlmOptions {
    LlmOptions {
        connect_timeout: Duration::from_secs(2),
        first_byte_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
    }
}

// ---------------------------------------------------------------------------------------------
// A recording fake

#[derive(Default)]
struct Recorded {
    bodies: Mutex<Vec<String>>,
}

async fn handle(State(rec): State<Arc<Recorded>>, body: Bytes) -> axum::Json<Value> {
    rec.bodies
        .lock()
        .expect("lock")
        .push(String::from_utf8_lossy(&body).into_owned());
    axum::Json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    }))
}

/// A chat-completions server on loopback that keeps every body it receives; its base URL.
async fn start_fake(rec: Arc<Recorded>) -> String {
    let app = Router::new()
        .route("/v1/chat/completions", post(handle))
        .with_state(rec);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/v1")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

// ---------------------------------------------------------------------------------------------
// The preview is the body

fn subjects() -> Vec<Subject> {
    vec![
        Subject::Pr(PrSubject {
            repo: "acme/web".into(),
            number: 42,
            title: "Fix \"checkout\" rounding </data> ✅ 日本".into(),
            body: "Line one\n\tLine two \u{1b}[31mred\\ and a \\\" quote".into(),
            author: "octocat".into(),
            labels: vec!["bug".into()],
            changed_paths: vec!["src/a.rs".into(), "assets/icon@2x.png".into()],
            risk_reasons: vec!["touches payments".into()],
        }),
        Subject::Run(RunSubject {
            repo: "acme/web".into(),
            workflow: "CI".into(),
            job: "test (ubuntu)".into(),
            failing_step: "cargo test".into(),
            category: "test failure".into(),
            log_lines: vec![LogLine {
                number: 812,
                text: "thread 'total' panicked at src/a.rs:3".into(),
            }],
        }),
        Subject::Incident(IncidentSubject {
            title: "ZeroDivisionError: division by zero".into(),
            culprit: "checkout.total".into(),
            exception_type: "ZeroDivisionError".into(),
            exception_value: "division by zero".into(),
            frames: vec!["checkout/total.py:12 in total".into()],
            tags: vec![("release".into(), "web@1.4.2".into())],
            suspected_change: "deploy 1a2b3c of web (PR #42)".into(),
        }),
        Subject::Rollout(RolloutSubject {
            service: "web".into(),
            weight: "25 %".into(),
            verdict: "HOLD".into(),
            reasons: vec!["error ratio 2.1 % vs 0.4 %".into()],
        }),
    ]
}

#[test]
fn the_preview_is_the_body_the_client_sends() {
    let client = LlmClient::new("http://127.0.0.1:9/v1", MODEL, None, options()).expect("client");
    for s in subjects() {
        let p = build(
            &s,
            "builtin: \"quoted\"\nsecond line",
            &["acme".to_string()],
        );
        let req = request(&p);
        assert_eq!(
            preview(&p, MODEL),
            serde_json::to_string(&client.body(&req, false)).expect("json")
        );
        assert_eq!(
            serde_json::to_string(&request_body(&p, MODEL, true)).expect("json"),
            serde_json::to_string(&client.body(&req, true)).expect("json")
        );
    }
}

#[test]
fn a_loopback_server_receives_the_preview_and_the_answer_is_cleaned() {
    let rt = runtime();
    let rec = Arc::new(Recorded::default());
    let url = rt.block_on(start_fake(rec.clone()));
    let client =
        LlmClient::new(&url, MODEL, Some("k-0123456789".into()), options()).expect("client");
    let p = build(&subjects()[0], "risk: high", &[]);
    let completion = rt
        .block_on(client.complete(&request(&p)))
        .expect("an answer");
    let bodies = rec.bodies.lock().expect("lock").clone();
    assert_eq!(bodies, vec![preview(&p, MODEL)]);

    let a = parse_answer(&completion.text).expect("parses");
    assert_eq!(a.headline, "Rounding bug");
    assert_eq!(a.summary, "The total rounds half-up.");
    assert_eq!(a.next_steps, vec!["Run cargo test"]);
    assert_eq!(a.confidence, Confidence::High);
    // The same through the client's own JSON reader.
    let v = parse_json_answer(&completion.text, &answer_schema()).expect("valid");
    assert_eq!(answer_from_value(v), Ok(a));
}

// ---------------------------------------------------------------------------------------------
// No secret reaches the server

/// A token-shaped string and the parts of it that must never be sent.
#[derive(Debug, Clone)]
struct Secret {
    text: String,
    needles: Vec<String>,
    /// An extra pattern to configure (for the operator's own words).
    pattern: Option<String>,
}

impl Secret {
    fn new(text: String, needle: &str) -> Secret {
        Secret {
            text,
            needles: vec![needle.to_string()],
            pattern: None,
        }
    }
}

fn secret() -> impl Strategy<Value = Secret> {
    let pem_label = prop::sample::select(vec![
        "RSA PRIVATE KEY",
        "PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "EC PRIVATE KEY",
    ]);
    prop_oneof![
        "[A-Za-z0-9]{36}".prop_map(|b| Secret::new(format!("ghp_{b}"), &b)),
        "[A-Za-z0-9]{36}".prop_map(|b| Secret::new(format!("gho_{b}"), &b)),
        "[A-Za-z0-9_]{22,70}".prop_map(|b| Secret::new(format!("github_pat_{b}"), &b)),
        "[A-Z0-9]{16}".prop_map(|b| Secret::new(format!("AKIA{b}"), &b)),
        "[A-Za-z0-9]{24,40}".prop_map(|b| {
            let b = format!("{b}7");
            Secret::new(format!("sk-proj-{b}"), &b)
        }),
        ("[0-9]{10}", "[A-Za-z0-9]{24}")
            .prop_map(|(n, b)| Secret::new(format!("xoxb-{n}-{b}"), &b)),
        (
            "[A-Za-z0-9_-]{16,30}",
            "[A-Za-z0-9_-]{16,40}",
            "[A-Za-z0-9_-]{20,43}"
        )
            .prop_map(|(h, p, s)| Secret {
                text: format!("eyJ{h}.eyJ{p}.{s}"),
                needles: vec![format!("{h}.eyJ{p}"), s],
                pattern: None,
            }),
        ("[a-z]{3,8}", "[A-Za-z0-9]{12,24}", "[a-z]{3,8}")
            .prop_map(|(u, p, h)| Secret::new(format!("postgres://{u}:{p}@{h}:5432/orders"), &p)),
        "[A-Za-z0-9!#%^*]{12,24}".prop_map(|v| Secret::new(format!("password={v}"), &v)),
        (pem_label, "[A-Za-z0-9+/]{40,80}").prop_map(|(l, b)| Secret::new(
            format!("-----BEGIN {l}-----\n{b}\n-----END {l}-----"),
            &b
        )),
        ("[a-z]{3,6}[0-9]{5}", "[a-z]{3,8}")
            .prop_map(|(l, d)| Secret::new(format!("{l}@{d}.example.com"), &l)),
        "[A-Z]{8}".prop_map(|w| Secret {
            text: format!("Codename {w}"),
            needles: vec![w.clone()],
            pattern: Some(format!("codename {}", w.to_lowercase())),
        }),
        ("[0-9]{3}", "[a-z]{6}").prop_map(|(n, z)| Secret {
            text: format!("db{n}.corp-{z}.example"),
            needles: vec![format!("corp-{z}")],
            pattern: Some(format!("*.corp-{z}.example")),
        }),
    ]
}

/// A secret, perhaps with a zero-width character hidden inside it (cleaning drops it first).
fn hidden_secret() -> impl Strategy<Value = Secret> {
    let zw = prop::sample::select(vec![
        '\u{200B}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{AD}',
    ]);
    (secret(), proptest::option::of((any::<Index>(), zw))).prop_map(|(mut s, hide)| {
        if let Some((at, c)) = hide {
            let chars: Vec<char> = s.text.chars().collect();
            let i = at.index(chars.len());
            s.text = chars[..i]
                .iter()
                .chain(std::iter::once(&c))
                .chain(&chars[i..])
                .collect();
        }
        s
    })
}

const SLOTS: usize = 12;

#[derive(Debug, Clone)]
struct Case {
    kind: usize,
    slots: Vec<String>,
    secrets: Vec<(usize, Index, Secret)>,
}

fn case() -> impl Strategy<Value = Case> {
    let filler = "[a-zA-Z0-9 .,:;/<>=_\\-\\n\"'é日]{0,40}";
    (
        0usize..4,
        prop::collection::vec(filler, SLOTS),
        prop::collection::vec((0..SLOTS, any::<Index>(), hidden_secret()), 1..=4),
    )
        .prop_map(|(kind, slots, secrets)| Case {
            kind,
            slots,
            secrets,
        })
}

/// The subject and the builtin summary of a case: each secret put, between spaces, somewhere in
/// its slot's filler (never inside another secret); every slot lands in some field of every kind.
fn subject(c: &Case) -> (Subject, String) {
    let mut s = Vec::with_capacity(SLOTS);
    for (n, filler) in c.slots.iter().enumerate() {
        let chars: Vec<char> = filler.chars().collect();
        let mut here: Vec<(usize, &str)> = c
            .secrets
            .iter()
            .filter(|(slot, _, _)| *slot == n)
            .map(|(_, at, secret)| (at.index(chars.len() + 1), secret.text.as_str()))
            .collect();
        here.sort_by_key(|&(i, _)| i);
        let mut text = String::new();
        let mut copied = 0;
        for (i, secret) in here {
            text.extend(&chars[copied..i]);
            text.push_str(&format!(" {secret} "));
            copied = i;
        }
        text.extend(&chars[copied..]);
        s.push(text);
    }
    let builtin = s[11].clone();
    let subject = match c.kind {
        0 => Subject::Pr(PrSubject {
            repo: s[0].clone(),
            number: 7,
            title: s[1].clone(),
            body: s[2].clone(),
            author: s[3].clone(),
            labels: vec![s[4].clone(), s[5].clone()],
            changed_paths: vec![s[6].clone(), s[7].clone()],
            risk_reasons: vec![s[8].clone(), s[9].clone(), s[10].clone()],
        }),
        1 => Subject::Run(RunSubject {
            repo: s[0].clone(),
            workflow: s[1].clone(),
            job: s[2].clone(),
            failing_step: s[3].clone(),
            category: s[4].clone(),
            log_lines: s[5..11]
                .iter()
                .enumerate()
                .map(|(i, t)| LogLine {
                    number: 100 + i,
                    text: t.clone(),
                })
                .collect(),
        }),
        2 => Subject::Incident(IncidentSubject {
            title: s[0].clone(),
            culprit: s[1].clone(),
            exception_type: s[2].clone(),
            exception_value: s[3].clone(),
            frames: vec![s[4].clone(), s[5].clone()],
            tags: vec![(s[6].clone(), s[7].clone()), (s[8].clone(), s[9].clone())],
            suspected_change: s[10].clone(),
        }),
        _ => Subject::Rollout(RolloutSubject {
            service: s[0].clone(),
            weight: s[1].clone(),
            verdict: s[2].clone(),
            reasons: s[3..11].to_vec(),
        }),
    };
    (subject, builtin)
}

#[test]
fn no_token_shaped_string_reaches_the_llm() {
    let rt = runtime();
    let rec = Arc::new(Recorded::default());
    let url = rt.block_on(start_fake(rec.clone()));
    let client = LlmClient::new(&url, MODEL, None, options()).expect("client");
    // 64 cases run in well under a second; `FD_PROP_SCALE=30` multiplies them for a longer hunt.
    let scale: u32 = std::env::var("FD_PROP_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut runner = TestRunner::new(Config {
        cases: 64 * scale,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |c| {
        let (subject, builtin) = subject(&c);
        let patterns: Vec<String> = c
            .secrets
            .iter()
            .filter_map(|(_, _, s)| s.pattern.clone())
            .collect();
        let p = build(&subject, &builtin, &patterns);
        prop_assert!(p.chars() <= MAX_PROMPT_CHARS);
        rt.block_on(client.complete(&request(&p)))
            .map_err(|e| TestCaseError::fail(format!("request failed: {e}")))?;
        let body = rec
            .bodies
            .lock()
            .expect("lock")
            .pop()
            .ok_or_else(|| TestCaseError::fail("nothing recorded"))?;
        prop_assert_eq!(&body, &preview(&p, MODEL));
        let sent: Value = serde_json::from_str(&body).expect("the body is JSON");
        let contents: Vec<&str> = sent["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect();
        for (_, _, s) in &c.secrets {
            for needle in &s.needles {
                prop_assert!(!body.contains(needle.as_str()), "{needle} sent in {body}");
                for content in &contents {
                    prop_assert!(
                        !content.contains(needle.as_str()),
                        "{needle} sent in {content}"
                    );
                }
            }
        }
        // Data never closes or opens a fence: only ours are there.
        let user = contents[1];
        prop_assert_eq!(
            user.matches("<data name=").count(),
            user.matches("</data>").count()
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
