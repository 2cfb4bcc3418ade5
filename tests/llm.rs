//! The LLM client (`sources::llm`) against loopback servers: a scripted fake that replays the
//! shared fixtures in `../shared/fixtures/llm` (OpenAI and Ollama bodies, streaming chunks, errors;
//! each test that needs them says so and skips when the folder is absent), misbehaving streams
//! (awkward splits, stalls, errors mid-stream) and the demo world's simulated endpoint.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use flightdeck::sources::llm::{
    CancelToken, ChatRequest, JsonMode, LlmCache, LlmClient, LlmError, LlmOptions, Message,
    StreamEvent, TimeoutPhase, Usage,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const KEY: &str = "test-llm-key-0123456789";
const MODEL: &str = "test-model";
/// Every wait of a test is bounded by this.
const LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Fixtures

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/llm")
}

/// A fixture's JSON, or `None` after saying plainly that the folder is absent.
fn fixture(name: &str) -> Option<Value> {
    let dir = fixtures_dir();
    if !dir.is_dir() {
        eprintln!(
            "../shared/fixtures/llm is absent ({}): skipping the test that replays {name}",
            dir.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(dir.join(name)).expect("fixture readable");
    Some(serde_json::from_str(&text).expect("fixture is JSON"))
}

// ---------------------------------------------------------------------------------------------
// The scripted fake server

/// What the fake answers to one request.
enum Reply {
    /// A status, extra headers and a JSON body, after `delay`.
    Json {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Value,
        delay: Duration,
    },
    /// A 200 with `content_type`, its body sent in pieces (each after its delay); then the body
    /// ends, or (`keep_alive`) an SSE comment follows every 50 ms until the client goes away.
    Pieces {
        content_type: &'static str,
        pieces: Vec<(Duration, Vec<u8>)>,
        keep_alive: bool,
    },
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply::Json {
        status,
        headers: Vec::new(),
        body,
        delay: Duration::ZERO,
    }
}

/// `body` in pieces of `size` bytes, `gap` apart.
fn pieces(content_type: &'static str, body: &[u8], size: usize, gap: Duration) -> Reply {
    Reply::Pieces {
        content_type,
        pieces: body.chunks(size).map(|c| (gap, c.to_vec())).collect(),
        keep_alive: false,
    }
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
struct Seen {
    authorization: Option<String>,
    body: Value,
}

#[derive(Default)]
struct FakeState {
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
    /// Set when a streamed body is dropped (the client went away or the body ended).
    body_dropped: Arc<AtomicBool>,
}

struct Fake {
    /// The base URL, with `/v1`.
    url: String,
    state: Arc<FakeState>,
}

impl Fake {
    async fn start(replies: Vec<Reply>) -> Fake {
        let state = Arc::new(FakeState {
            replies: Mutex::new(replies.into()),
            ..FakeState::default()
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake {
            url: format!("http://{addr}/v1"),
            state,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("lock").clone()
    }

    fn client(&self, options: LlmOptions) -> LlmClient {
        LlmClient::new(&self.url, MODEL, Some(KEY.into()), options).expect("client")
    }
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn handle(State(st): State<Arc<FakeState>>, headers: HeaderMap, body: Bytes) -> Response {
    st.seen.lock().expect("lock").push(Seen {
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let reply = st.replies.lock().expect("lock").pop_front();
    match reply {
        None => Response::builder()
            .status(500)
            .body(Body::from("no reply scripted"))
            .expect("response"),
        Some(Reply::Json {
            status,
            headers,
            body,
            delay,
        }) => {
            tokio::time::sleep(delay).await;
            let mut b = Response::builder()
                .status(StatusCode::from_u16(status).expect("status"))
                .header("content-type", "application/json");
            for (k, v) in headers {
                b = b.header(k, v);
            }
            b.body(Body::from(body.to_string())).expect("response")
        }
        Some(Reply::Pieces {
            content_type,
            pieces,
            keep_alive,
        }) => {
            let flag = DropFlag(st.body_dropped.clone());
            let state = (VecDeque::from(pieces), keep_alive, flag);
            let stream =
                futures::stream::unfold(state, |(mut rest, keep_alive, flag)| async move {
                    let chunk = match rest.pop_front() {
                        Some((gap, bytes)) => {
                            tokio::time::sleep(gap).await;
                            bytes
                        }
                        None if keep_alive => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            b": ping\n\n".to_vec()
                        }
                        None => return None,
                    };
                    Some((
                        Ok::<_, Infallible>(Bytes::from(chunk)),
                        (rest, keep_alive, flag),
                    ))
                });
            Response::builder()
                .status(200)
                .header("content-type", content_type)
                .body(Body::from_stream(stream))
                .expect("response")
        }
    }
}

fn hello() -> ChatRequest {
    ChatRequest::new(vec![
        Message::system("You are a helpful assistant."),
        Message::user("Hello!"),
    ])
}

fn fast() -> LlmOptions {
    LlmOptions {
        connect_timeout: Duration::from_secs(2),
        first_byte_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
    }
}

/// Run `stream` and gather its events.
async fn stream_all(
    client: &LlmClient,
    req: &ChatRequest,
) -> (
    Result<flightdeck::sources::llm::Completion, LlmError>,
    Vec<StreamEvent>,
) {
    let mut events = Vec::new();
    let cancel = CancelToken::new();
    let r = tokio::time::timeout(LIMIT, client.stream(req, &cancel, |e| events.push(e)))
        .await
        .expect("the stream ends in time");
    (r, events)
}

fn deltas(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

/// An SSE body of these `data:` payloads, then `[DONE]`; CRLF line ends and comments when `crlf`.
fn sse(payloads: &[Value], crlf: bool) -> Vec<u8> {
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    if crlf {
        out.push_str(&format!(": OPENROUTER PROCESSING{nl}{nl}"));
    }
    for p in payloads {
        out.push_str(&format!("data: {p}{nl}{nl}"));
        if crlf {
            out.push_str(&format!(":keep-alive{nl}"));
        }
    }
    out.push_str(&format!("data: [DONE]{nl}{nl}"));
    out.into_bytes()
}

fn chunk(content: &str) -> Value {
    json!({
        "id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": content}, "logprobs": null, "finish_reason": null}]
    })
}

fn final_chunk(finish: &str) -> Value {
    json!({
        "id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": finish}]
    })
}

fn usage_chunk() -> Value {
    json!({
        "id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
        "choices": [],
        "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29}
    })
}

fn answer(content: &str, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-y", "object": "chat.completion", "created": 1, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    })
}

// ---------------------------------------------------------------------------------------------
// Plain answers

#[tokio::test]
async fn openai_fixture_answer_and_request_shape() {
    let Some(default) = fixture("createChatCompletion.default.json") else {
        return;
    };
    let Some(schema_example) = fixture("CreateChatCompletionResponse.json") else {
        return;
    };
    let Some(request_example) = fixture("createChatCompletion.default.request.json") else {
        return;
    };
    let fake = Fake::start(vec![
        json_reply(200, default),
        json_reply(200, schema_example),
    ])
    .await;
    // A trailing slash on the base is fine.
    let client = LlmClient::new(
        &format!("{}/", fake.url),
        MODEL,
        Some(KEY.into()),
        LlmOptions::default(),
    )
    .expect("client");
    let req = ChatRequest::new(vec![
        Message {
            role: "developer".into(),
            content: "You are a helpful assistant.".into(),
        },
        Message::user("Hello!"),
    ]);
    let c = client.complete(&req).await.expect("answer");
    assert_eq!(c.text, "Hello! How can I assist you today?");
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        c.usage,
        Some(Usage {
            prompt_tokens: 19,
            completion_tokens: 10,
            total_tokens: 29
        })
    );
    assert_eq!(c.model.as_deref(), Some("gpt-5.4"));
    let c = client.complete(&req).await.expect("answer");
    assert!(c.text.starts_with("The image shows a wooden boardwalk"));

    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let body = &seen[0].body;
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["stream"], false);
    // The messages are the documented example's, byte for byte.
    assert_eq!(body["messages"], request_example["messages"]);
    assert!(body.get("response_format").is_none());
    assert!(body.get("stream_options").is_none());
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn tool_call_answer_has_no_text_but_its_finish_reason() {
    let Some(functions) = fixture("createChatCompletion.functions.json") else {
        return;
    };
    let fake = Fake::start(vec![json_reply(200, functions)]).await;
    let c = fake
        .client(fast())
        .complete(&hello())
        .await
        .expect("answer");
    assert_eq!(c.text, "");
    assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
}

#[tokio::test]
async fn ollama_native_answer_is_read_too() {
    let Some(chat) = fixture("ollama.chat.json") else {
        return;
    };
    let fake = Fake::start(vec![json_reply(200, chat)]).await;
    let c = fake
        .client(fast())
        .complete(&hello())
        .await
        .expect("answer");
    assert_eq!(c.text, "Hello! How are you today?");
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        c.usage,
        Some(Usage {
            prompt_tokens: 26,
            completion_tokens: 298,
            total_tokens: 324
        })
    );
}

#[tokio::test]
async fn no_key_no_authorization_header() {
    let fake = Fake::start(vec![json_reply(200, answer("hi", "stop"))]).await;
    let client = LlmClient::new(&fake.url, MODEL, Some("  ".into()), fast()).expect("client");
    client.complete(&hello()).await.expect("answer");
    assert_eq!(fake.seen()[0].authorization, None);
}

// ---------------------------------------------------------------------------------------------
// Streams

#[tokio::test]
async fn sse_fixture_stream_split_at_awkward_bytes() {
    let Some(chunks) = fixture("createChatCompletion.streaming.chunks.json") else {
        return;
    };
    let Some(chunks) = chunks.as_array().cloned() else {
        panic!("the streaming fixture is an array");
    };
    // The documented chunks, with a multi-byte delta slipped in before the last, and the usage
    // chunk that `stream_options.include_usage` adds (empty `choices`).
    let mut payloads = chunks.clone();
    let last = payloads.pop().expect("a final chunk");
    payloads.push(chunk(" — héllo 🚀 ✓"));
    payloads.push(last);
    payloads.push(usage_chunk());
    for crlf in [false, true] {
        let body = sse(&payloads, crlf);
        // Pieces of 1, 3 and 7 bytes split lines, `data:` prefixes and UTF-8 characters.
        for size in [1, 3, 7] {
            let fake = Fake::start(vec![pieces(
                "text/event-stream",
                &body,
                size,
                Duration::from_micros(200),
            )])
            .await;
            let (r, events) = stream_all(&fake.client(fast()), &hello()).await;
            let c = r.expect("streamed answer");
            assert_eq!(c.text, "Hello — héllo 🚀 ✓", "size {size}, crlf {crlf}");
            assert_eq!(deltas(&events), c.text);
            let usage = Some(Usage {
                prompt_tokens: 19,
                completion_tokens: 10,
                total_tokens: 29,
            });
            assert_eq!(
                events.last(),
                Some(&StreamEvent::Done {
                    finish_reason: Some("stop".into()),
                    usage
                })
            );
            assert_eq!(
                events
                    .iter()
                    .filter(|e| !matches!(e, StreamEvent::Delta(_)))
                    .count(),
                1,
                "one Done"
            );
            let body = &fake.seen()[0].body;
            assert_eq!(body["stream"], true);
            assert_eq!(body["stream_options"]["include_usage"], true);
            assert_eq!(body["model"], MODEL);
        }
    }
}

#[tokio::test]
async fn ollama_ndjson_fixture_stream() {
    let Some(lines) = fixture("ollama.chat.streaming.chunks.json") else {
        return;
    };
    let mut body = String::new();
    for l in lines.as_array().expect("array") {
        body.push_str(&l.to_string());
        body.push('\n');
    }
    let fake = Fake::start(vec![pieces(
        "application/x-ndjson",
        body.as_bytes(),
        5,
        Duration::from_micros(200),
    )])
    .await;
    let (r, events) = stream_all(&fake.client(fast()), &hello()).await;
    let c = r.expect("answer");
    assert_eq!(c.text, "The");
    assert_eq!(
        events,
        vec![
            StreamEvent::Delta("The".into()),
            StreamEvent::Done {
                finish_reason: Some("stop".into()),
                usage: Some(Usage {
                    prompt_tokens: 26,
                    completion_tokens: 282,
                    total_tokens: 308
                })
            }
        ]
    );
}

#[tokio::test]
async fn ollama_error_mid_stream() {
    let Some(lines) = fixture("ollama.error.mid-stream.json") else {
        return;
    };
    let mut body = String::new();
    for l in lines.as_array().expect("array") {
        body.push_str(&l.to_string());
        body.push('\n');
    }
    let fake = Fake::start(vec![pieces(
        "application/x-ndjson",
        body.as_bytes(),
        64,
        Duration::from_millis(1),
    )])
    .await;
    let (r, events) = stream_all(&fake.client(fast()), &hello()).await;
    let want = LlmError::Server("an error was encountered while running the model".into());
    assert_eq!(r, Err(want.clone()));
    assert_eq!(deltas(&events), " Yes.Ican");
    assert_eq!(events.last(), Some(&StreamEvent::Failed(want)));
}

#[tokio::test]
async fn openai_error_object_mid_sse_stream() {
    let body = sse(
        &[
            chunk("par"),
            json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}}),
            chunk("never"),
        ],
        false,
    );
    let fake = Fake::start(vec![pieces("text/event-stream", &body, 16, Duration::ZERO)]).await;
    let (r, events) = stream_all(&fake.client(fast()), &hello()).await;
    assert!(
        matches!(&r, Err(LlmError::Server(m)) if m.contains("server had an error")),
        "{r:?}"
    );
    assert_eq!(deltas(&events), "par");
}

#[tokio::test]
async fn stream_that_stops_early_is_cut_and_one_without_done_but_finished_is_whole() {
    let cut = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"half\"}}]}\n\n".to_vec();
    let mut finished = String::from_utf8(cut.clone()).expect("utf8");
    finished.push_str(&format!("data: {}\n\n", final_chunk("stop")));
    let fake = Fake::start(vec![
        pieces("text/event-stream", &cut, 100, Duration::ZERO),
        pieces(
            "text/event-stream",
            finished.as_bytes(),
            100,
            Duration::ZERO,
        ),
    ])
    .await;
    let client = fake.client(fast());
    let (r, events) = stream_all(&client, &hello()).await;
    assert_eq!(r, Err(LlmError::Cut));
    assert_eq!(deltas(&events), "half");
    let (r, _) = stream_all(&client, &hello()).await;
    assert_eq!(r.expect("finished").text, "half");
}

#[tokio::test]
async fn server_ignoring_stream_true_answers_whole() {
    let fake = Fake::start(vec![json_reply(200, answer("all at once", "stop"))]).await;
    let (r, events) = stream_all(&fake.client(fast()), &hello()).await;
    assert_eq!(r.expect("answer").text, "all at once");
    assert_eq!(deltas(&events), "all at once");
}

#[tokio::test]
async fn spawned_stream_on_a_channel() {
    let body = sse(&[chunk("a"), chunk("b"), final_chunk("stop")], false);
    let fake = Fake::start(vec![pieces(
        "text/event-stream",
        &body,
        9,
        Duration::from_millis(1),
    )])
    .await;
    let client = Arc::new(fake.client(fast()));
    let mut rx = client.spawn_stream(hello(), CancelToken::new());
    let mut got = Vec::new();
    while let Some(e) = tokio::time::timeout(LIMIT, rx.recv())
        .await
        .expect("in time")
    {
        got.push(e);
    }
    assert_eq!(deltas(&got), "ab");
    assert!(matches!(got.last(), Some(StreamEvent::Done { .. })));
}

// ---------------------------------------------------------------------------------------------
// Errors and the key

#[tokio::test]
async fn http_errors_are_typed_and_never_show_the_key() {
    let Some(ollama_error) = fixture("ollama.error.json") else {
        return;
    };
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || LogWriter(sink.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = Fake::start(vec![
        // A server that echoes the key it was sent (OpenAI masks it; not every gateway does).
        json_reply(
            401,
            json!({"error": {"message": format!("Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com/account/api-keys."), "type": "invalid_request_error", "code": "invalid_api_key"}}),
        ),
        Reply::Json {
            status: 429,
            headers: vec![("retry-after", "7".into())],
            body: json!({"error": {"message": format!("Rate limit reached for {MODEL} (key Bearer {KEY})"), "type": "requests"}}),
            delay: Duration::ZERO,
        },
        json_reply(500, ollama_error),
        Reply::Json {
            status: 502,
            headers: Vec::new(),
            body: json!("<html><body>Bad Gateway</body></html>"),
            delay: Duration::ZERO,
        },
    ])
    .await;
    let client = fake.client(fast());
    let e401 = client.complete(&hello()).await.expect_err("401");
    assert!(
        matches!(&e401, LlmError::Http { status: 401, message, .. } if message.contains("Incorrect API key")),
        "{e401:?}"
    );
    assert!(e401.to_string().contains("OPENAI_API_KEY"));
    let e429 = client.complete(&hello()).await.expect_err("429");
    assert!(
        matches!(
            &e429,
            LlmError::Http {
                status: 429,
                retry_after_secs: Some(7),
                ..
            }
        ),
        "{e429:?}"
    );
    assert!(e429.to_string().contains("retry in 7 s"));
    let e500 = client.complete(&hello()).await.expect_err("500");
    assert_eq!(
        e500,
        LlmError::Http {
            status: 500,
            message: "the model failed to generate a response".into(),
            retry_after_secs: None
        }
    );
    let e502 = client.complete(&hello()).await.expect_err("502");
    assert!(e502.to_string().contains("LLM HTTP 502"), "{e502}");

    for e in [&e401, &e429, &e500, &e502] {
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains(KEY), "the key leaked: {text}");
            assert!(
                !text.contains("0123456789"),
                "part of the key leaked: {text}"
            );
        }
    }
    assert!(!format!("{client:?}").contains(KEY));
    for s in fake.seen() {
        assert_eq!(
            s.authorization.as_deref(),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
    let logged = String::from_utf8_lossy(&logs.lock().expect("lock")).into_owned();
    assert!(
        logged.contains("LLM request"),
        "the client logs its requests: {logged}"
    );
    assert!(!logged.contains(KEY), "the key reached the logs");
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn unreachable_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let client = LlmClient::new(
        &format!("http://127.0.0.1:{port}/v1"),
        MODEL,
        Some(KEY.into()),
        fast(),
    )
    .expect("client");
    let e = client.complete(&hello()).await.expect_err("refused");
    assert!(
        matches!(&e, LlmError::Unreachable { host, .. } if host == &format!("127.0.0.1:{port}")),
        "{e:?}"
    );
    assert!(!e.to_string().contains(KEY));
}

// ---------------------------------------------------------------------------------------------
// Timeouts and cancellation

#[tokio::test]
async fn first_byte_timeout() {
    let fake = Fake::start(vec![Reply::Json {
        status: 200,
        headers: Vec::new(),
        body: answer("late", "stop"),
        delay: Duration::from_secs(3),
    }])
    .await;
    let client = fake.client(LlmOptions {
        first_byte_timeout: Duration::from_millis(300),
        ..fast()
    });
    let started = Instant::now();
    let e = client.complete(&hello()).await.expect_err("too slow");
    assert!(
        matches!(
            e,
            LlmError::Timeout {
                phase: TimeoutPhase::FirstByte,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn idle_timeout_between_chunks() {
    let fake = Fake::start(vec![Reply::Pieces {
        content_type: "text/event-stream",
        pieces: vec![
            (
                Duration::ZERO,
                format!("data: {}\n\n", chunk("first")).into_bytes(),
            ),
            (Duration::from_secs(3), b"data: [DONE]\n\n".to_vec()),
        ],
        keep_alive: false,
    }])
    .await;
    let client = fake.client(LlmOptions {
        idle_timeout: Duration::from_millis(300),
        ..fast()
    });
    let started = Instant::now();
    let (r, events) = stream_all(&client, &hello()).await;
    assert!(
        matches!(
            r,
            Err(LlmError::Timeout {
                phase: TimeoutPhase::Idle,
                ..
            })
        ),
        "{r:?}"
    );
    // The whole first event came, with its `[DONE]` sent later.
    assert_eq!(deltas(&events), "first");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn slow_stream_longer_than_the_idle_timeout_is_not_cut() {
    let words: Vec<Value> = (0..8).map(|i| chunk(&format!("w{i} "))).collect();
    let mut payloads = words;
    payloads.push(final_chunk("stop"));
    let body = sse(&payloads, false);
    // ~10 pieces 150 ms apart: 1.5 s in all, each gap well inside the 500 ms idle timeout.
    let size = body.len().div_ceil(10);
    let fake = Fake::start(vec![pieces(
        "text/event-stream",
        &body,
        size,
        Duration::from_millis(150),
    )])
    .await;
    let client = fake.client(LlmOptions {
        connect_timeout: Duration::from_secs(2),
        first_byte_timeout: Duration::from_millis(500),
        idle_timeout: Duration::from_millis(500),
    });
    let started = Instant::now();
    let (r, _) = stream_all(&client, &hello()).await;
    let c = r.expect("the whole slow answer");
    assert_eq!(c.text, "w0 w1 w2 w3 w4 w5 w6 w7 ");
    assert!(started.elapsed() > Duration::from_millis(1000));
}

#[tokio::test]
async fn cancellation_stops_the_stream_and_drops_the_connection() {
    let fake = Fake::start(vec![Reply::Pieces {
        content_type: "text/event-stream",
        pieces: vec![
            (
                Duration::ZERO,
                format!("data: {}\n\n", chunk("one")).into_bytes(),
            ),
            (
                Duration::ZERO,
                format!("data: {}\n\n", chunk("two")).into_bytes(),
            ),
        ],
        keep_alive: true,
    }])
    .await;
    let client = fake.client(fast());
    let cancel = CancelToken::new();
    let canceller = cancel.clone();
    let mut events = Vec::new();
    let mut cancelled_at = None;
    let r = tokio::time::timeout(
        LIMIT,
        client.stream(&hello(), &cancel, |e| {
            if matches!(e, StreamEvent::Delta(_)) {
                canceller.cancel();
                cancelled_at = Some(Instant::now());
            }
            events.push(e);
        }),
    )
    .await
    .expect("cancellation ends the stream");
    assert_eq!(r, Err(LlmError::Cancelled));
    let at = cancelled_at.expect("a delta came");
    assert!(at.elapsed() < Duration::from_secs(2));
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Failed(LlmError::Cancelled))
    );
    assert_eq!(deltas(&events), "one", "nothing after the cancel");
    // The server notices the closed connection (its next keep-alive write fails).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !fake.state.body_dropped.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the connection stayed open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A cancelled token stops the next request before it is sent.
    let e = client
        .complete_cancellable(&hello(), &cancel)
        .await
        .expect_err("cancelled");
    assert_eq!(e, LlmError::Cancelled);
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn cancellation_while_waiting_for_the_head() {
    let fake = Fake::start(vec![Reply::Json {
        status: 200,
        headers: Vec::new(),
        body: answer("late", "stop"),
        delay: Duration::from_secs(5),
    }])
    .await;
    let client = fake.client(fast());
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c2.cancel();
    });
    let started = Instant::now();
    let e = client
        .complete_cancellable(&hello(), &cancel)
        .await
        .expect_err("cancelled");
    assert_eq!(e, LlmError::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
}

// ---------------------------------------------------------------------------------------------
// Structured output

fn schema() -> Value {
    json!({
        "title": "risk summary",
        "type": "object",
        "required": ["summary", "risk"],
        "properties": {"summary": {"type": "string"}, "risk": {"type": "integer"}},
        "additionalProperties": false
    })
}

#[tokio::test]
async fn json_schema_rejected_falls_back_to_json_object_and_remembers() {
    let rejected = json!({"error": {"code": 400, "message": "Either \"json_schema\" or \"grammar\" can be specified, but not both", "type": "invalid_request_error"}});
    let fenced = "```json\n{\"summary\": \"canary fine\", \"risk\": 1}\n```";
    let fake = Fake::start(vec![
        json_reply(400, rejected),
        json_reply(200, answer(fenced, "stop")),
        json_reply(200, answer("{\"summary\": \"again\", \"risk\": 2}", "stop")),
    ])
    .await;
    let client = fake.client(fast());
    assert_eq!(client.json_mode(), JsonMode::Schema);
    let v = client
        .complete_json(&hello(), &schema())
        .await
        .expect("JSON");
    assert_eq!(v, json!({"summary": "canary fine", "risk": 1}));
    assert_eq!(client.json_mode(), JsonMode::Object);
    let v = client
        .complete_json(&hello(), &schema())
        .await
        .expect("JSON");
    assert_eq!(v["risk"], 2);

    let seen = fake.seen();
    assert_eq!(seen.len(), 3, "one rejected try, then json_object twice");
    let first = &seen[0].body["response_format"];
    assert_eq!(first["type"], "json_schema");
    assert_eq!(first["json_schema"]["name"], "risk_summary");
    assert_eq!(first["json_schema"]["strict"], true);
    assert_eq!(first["json_schema"]["schema"], schema());
    for s in &seen[1..] {
        assert_eq!(s.body["response_format"], json!({"type": "json_object"}));
        // JSON mode needs the prompt to ask for JSON.
        let system = s.body["messages"][0]["content"].as_str().expect("text");
        assert!(system.contains("JSON"), "{system}");
    }
}

#[tokio::test]
async fn both_formats_rejected_falls_back_to_the_prompt() {
    let fake = Fake::start(vec![
        json_reply(
            400,
            json!({"error": {"message": "response_format type json_schema is unavailable"}}),
        ),
        json_reply(
            422,
            json!({"detail": "response_format json_object is not supported"}),
        ),
        json_reply(
            200,
            answer(
                "Sure! Here it is: {\"summary\": \"s\", \"risk\": 0} Hope it helps.",
                "stop",
            ),
        ),
    ])
    .await;
    let client = fake.client(fast());
    let v = client
        .complete_json(&hello(), &schema())
        .await
        .expect("JSON");
    assert_eq!(v["summary"], "s");
    assert_eq!(client.json_mode(), JsonMode::PromptOnly);
    let seen = fake.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen[2].body.get("response_format").is_none());
}

#[tokio::test]
async fn json_answers_truncated_or_invalid_or_refused_otherwise() {
    let fake = Fake::start(vec![
        json_reply(
            200,
            answer("{\"summary\": \"the canary is fine but", "length"),
        ),
        json_reply(200, answer("{\"summary\": \"no risk key\"}", "stop")),
        // A 400 about something else is not a format rejection.
        json_reply(400, json!({"error": {"message": "model 'nope' not found"}})),
    ])
    .await;
    let client = fake.client(fast());
    assert_eq!(
        client.complete_json(&hello(), &schema()).await,
        Err(LlmError::Truncated)
    );
    assert!(matches!(
        client.complete_json(&hello(), &schema()).await,
        Err(LlmError::Invalid(m)) if m.contains("risk")
    ));
    assert!(matches!(
        client.complete_json(&hello(), &schema()).await,
        Err(LlmError::Http { status: 400, .. })
    ));
    assert_eq!(client.json_mode(), JsonMode::Schema);
}

// ---------------------------------------------------------------------------------------------
// The cache

#[test]
fn cache_round_trip_private_files_and_no_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = LlmCache::new(dir.path().join("llm"));
    let a = LlmClient::new(
        "http://127.0.0.1:9/v1",
        MODEL,
        Some(KEY.into()),
        LlmOptions::default(),
    )
    .expect("client");
    let b = LlmClient::new("http://127.0.0.1:9/v1/", MODEL, None, LlmOptions::default())
        .expect("client");
    let req = hello();
    let key = a.cache_key(&req);
    assert_eq!(key, b.cache_key(&req), "the API key is no part of the key");
    assert_ne!(
        key,
        a.cache_key(&ChatRequest::new(vec![Message::user("other")]))
    );
    assert_eq!(cache.get(&key), None);
    cache.put(&key, "first answer").expect("put");
    cache.put(&key, "second answer ✓").expect("put again");
    assert_eq!(cache.get(&key).as_deref(), Some("second answer ✓"));
    assert!(cache.put("../escape", "x").is_err());
    assert_eq!(cache.get("../escape"), None);

    let files: Vec<_> = std::fs::read_dir(cache.dir())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "no temporary files left: {files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("read");
    assert!(!text.contains(KEY));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = std::fs::metadata(cache.dir())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
    }
    // A secret the model repeated is redacted before it reaches the disk.
    cache
        .put(&key, "use ghp_abcdefghijklmnopqrstuvwxyz0123 to push")
        .expect("put");
    let kept = cache.get(&key).expect("kept");
    assert!(
        !kept.contains("ghp_abcdefghijklmnopqrstuvwxyz0123"),
        "{kept}"
    );
    // A damaged file is a miss, not an error.
    std::fs::write(&files[0], b"{not json").expect("write");
    assert_eq!(cache.get(&key), None);
}

#[tokio::test]
async fn cached_answers_are_not_asked_again() {
    let fake = Fake::start(vec![
        json_reply(200, answer("cut short", "length")),
        json_reply(200, answer("kept", "stop")),
    ])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = LlmCache::new(dir.path());
    let client = fake.client(fast());
    let req = hello();
    // A truncated answer is not kept.
    assert_eq!(
        client.complete_cached(&req, &cache).await,
        Ok(("cut short".to_string(), false))
    );
    assert_eq!(
        client.complete_cached(&req, &cache).await,
        Ok(("kept".to_string(), false))
    );
    assert_eq!(
        client.complete_cached(&req, &cache).await,
        Ok(("kept".to_string(), true))
    );
    assert_eq!(fake.seen().len(), 2);
}

#[test]
fn credentials_in_the_url_are_not_shown() {
    let c = LlmClient::new(
        "https://alice:hunter2secret@llm.example/v1/",
        MODEL,
        None,
        LlmOptions::default(),
    )
    .expect("client");
    assert_eq!(c.base_url(), "https://llm.example/v1");
    assert!(!format!("{c:?}").contains("hunter2secret"));
}

// ---------------------------------------------------------------------------------------------
// The demo world's simulated endpoint

#[tokio::test]
async fn against_the_demo_worlds_llm() {
    let world = flightdeck::sim::start(flightdeck::sim::SimOptions {
        speed: 0.0,
        ..flightdeck::sim::SimOptions::default()
    })
    .await
    .expect("demo world");
    let client =
        LlmClient::new(&world.llm_url, "sim-analyst", Some(KEY.into()), fast()).expect("client");
    let req = ChatRequest::new(vec![
        Message::system("Be terse."),
        Message::user("canary checkout at 50% with errors rising"),
    ]);
    let whole = client.complete(&req).await.expect("answer");
    assert_eq!(
        whole.text,
        "Summary: canary checkout at 50% with errors rising (7 words reviewed by sim-analyst)"
    );
    assert_eq!(whole.finish_reason.as_deref(), Some("stop"));
    assert!(whole.usage.is_some());

    let (r, events) = stream_all(&client, &req).await;
    let streamed = r.expect("streamed");
    assert_eq!(streamed.text, whole.text);
    assert_eq!(deltas(&events), whole.text);
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Delta(_)))
            .count()
            > 3,
        "one delta per word"
    );
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Done { finish_reason: Some(f), usage: Some(_) }) if f == "stop"
    ));

    // The sim refuses an empty message list with OpenAI's error shape.
    let e = client
        .complete(&ChatRequest::new(Vec::new()))
        .await
        .expect_err("400");
    assert!(
        matches!(&e, LlmError::Http { status: 400, message, .. } if message.contains("messages")),
        "{e:?}"
    );
    // A wrong base (without /v1) is a 404 with the sim's message.
    let root = world.llm_url.trim_end_matches("/v1");
    let wrong = LlmClient::new(root, "sim-analyst", None, fast()).expect("client");
    assert!(matches!(
        wrong.complete(&req).await,
        Err(LlmError::Http { status: 404, .. })
    ));
}
