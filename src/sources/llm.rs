//! An OpenAI-compatible chat-completions client: OpenAI, Ollama's `/v1`, vLLM, llama.cpp's
//! `llama-server`, LM Studio and most gateways speak the same `POST {base}/chat/completions`.
//!
//! - **The base URL includes `/v1`** (`http://localhost:11434/v1`, `https://api.openai.com/v1`);
//!   a trailing slash is accepted. The client appends `/chat/completions`.
//! - **The key** is sent as `Authorization: Bearer …` and is never part of an error, a `Debug`
//!   output, a log line or the cache: server messages are scrubbed of it, then cleaned and redacted
//!   ([`crate::sanitize::clean`]).
//! - **Answers**: [`LlmClient::complete`] (one JSON answer), [`LlmClient::stream`] (server-sent
//!   events, `data: [DONE]`, comments, CRLF, an `error` object mid-stream, the final usage chunk
//!   with empty `choices`; or Ollama's native NDJSON when the server answers
//!   `application/x-ndjson`), [`LlmClient::complete_json`] (structured output: `json_schema`, then
//!   `json_object`, then the prompt alone, remembered per client).
//! - **Timeouts** by phase: connecting, the first byte (the response head and the first piece of
//!   the body — for [`LlmClient::complete`] that is the whole generation), and idle time between
//!   pieces of a stream. There is no whole-request timeout: a long answer that keeps coming is not
//!   cut. [`CancelToken`] stops a request promptly and drops its connection.
//! - **Untrusted output**: the model's text is returned as sent. Pass it through
//!   [`crate::sanitize::clean_multiline`] before it is shown, and validate JSON with code
//!   ([`parse_json_answer`]) before acting on it.
//! - [`LlmCache`]: final answers on disk by a stable hash of (URL, model, messages, format).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::Secret;
use crate::sources::http::USER_AGENT;

/// The longest answer read (bytes on the wire, after decompression): more is a malformed answer.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// The most of an error body read for its message.
const MAX_ERROR_BYTES: usize = 64 * 1024;
/// The longest server message kept in an error, in cells.
const MAX_MESSAGE_CELLS: usize = 200;

// ---------------------------------------------------------------------------------------------
// Requests and answers

/// One chat message. `role` is `system`, `developer`, `user`, `assistant` or `tool`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: "system".into(),
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: "user".into(),
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: "assistant".into(),
            content: content.into(),
        }
    }
}

/// How the answer is to be shaped (`response_format`).
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    /// `{"type": "json_schema", "json_schema": {name, schema, strict}}` (Structured Outputs).
    JsonSchema {
        name: String,
        schema: Value,
        strict: bool,
    },
    /// `{"type": "json_object"}` (JSON mode; the prompt must ask for JSON too).
    JsonObject,
}

impl ResponseFormat {
    pub fn to_json(&self) -> Value {
        match self {
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => json!({
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": strict}
            }),
            ResponseFormat::JsonObject => json!({"type": "json_object"}),
        }
    }
}

/// A chat-completions request, without the model (the client's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    pub response_format: Option<ResponseFormat>,
}

impl ChatRequest {
    pub fn new(messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            messages,
            ..ChatRequest::default()
        }
    }
}

/// Token counts, when the server reports them (Ollama's native `prompt_eval_count`/`eval_count`
/// are read as prompt and completion tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

/// A whole answer. `text` is untrusted (see the module header).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    pub text: String,
    /// `stop`, `length`, `tool_calls`, `content_filter`…; `None` when the server said nothing.
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    /// The model the server says answered.
    pub model: Option<String>,
}

impl Completion {
    /// The answer stopped at the token limit (`finish_reason: "length"`).
    pub fn is_truncated(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

/// What a stream reports, in order: deltas, then `Done` or `Failed` (exactly one of them).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Delta(String),
    Done {
        finish_reason: Option<String>,
        usage: Option<Usage>,
    },
    Failed(LlmError),
}

/// Which `response_format` [`LlmClient::complete_json`] sends; the client remembers the first that
/// the server accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonMode {
    Schema,
    Object,
    PromptOnly,
}

impl JsonMode {
    fn from_u8(v: u8) -> JsonMode {
        match v {
            1 => JsonMode::Object,
            2 => JsonMode::PromptOnly,
            _ => JsonMode::Schema,
        }
    }
    fn as_u8(self) -> u8 {
        match self {
            JsonMode::Schema => 0,
            JsonMode::Object => 1,
            JsonMode::PromptOnly => 2,
        }
    }
    fn next(self) -> Option<JsonMode> {
        match self {
            JsonMode::Schema => Some(JsonMode::Object),
            JsonMode::Object => Some(JsonMode::PromptOnly),
            JsonMode::PromptOnly => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Opening the connection.
    Connect,
    /// The response head and the first piece of the body.
    FirstByte,
    /// Between two pieces of the body.
    Idle,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connecting",
            TimeoutPhase::FirstByte => "waiting for the first byte",
            TimeoutPhase::Idle => "waiting for the next piece of the answer",
        })
    }
}

/// What went wrong, worded for the status bar. Every message from the server is scrubbed of the
/// API key, cleaned and redacted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("LLM client: {0}")]
    Config(String),
    #[error("cannot reach the LLM at {host}: {detail}")]
    Unreachable { host: String, detail: String },
    #[error("the LLM timed out {phase} ({secs:.1} s)")]
    Timeout { phase: TimeoutPhase, secs: f64 },
    #[error("{}", http_text(*status, message, *retry_after_secs))]
    Http {
        status: u16,
        message: String,
        /// `Retry-After` of a 429 or 503, in seconds.
        retry_after_secs: Option<u64>,
    },
    /// An `error` object in a 200 answer or in the middle of a stream.
    #[error("the LLM failed: {0}")]
    Server(String),
    #[error("LLM request cancelled")]
    Cancelled,
    /// The connection closed before the answer's end.
    #[error("the LLM's answer was cut off before its end")]
    Cut,
    #[error("unexpected answer from the LLM: {0}")]
    Malformed(String),
    /// `finish_reason: "length"`: the answer stopped at the token limit.
    #[error("the LLM's answer hit its length limit and is incomplete")]
    Truncated,
    /// The answer is not the JSON asked for.
    #[error("the LLM's answer is not the JSON asked for: {0}")]
    Invalid(String),
}

fn http_text(status: u16, message: &str, retry: Option<u64>) -> String {
    let what = match status {
        401 | 403 => format!(
            "the LLM refused the API key (HTTP {status}): {message}; set OPENAI_API_KEY or ai.api_key_command"
        ),
        429 => format!("the LLM is rate limiting (HTTP 429): {message}"),
        _ => format!("LLM HTTP {status}: {message}"),
    };
    match retry {
        Some(s) => format!("{what}; retry in {s} s"),
        None => what,
    }
}

// ---------------------------------------------------------------------------------------------
// Cancellation

/// Cancels requests: clone it, hand it to [`LlmClient::stream`], call [`CancelToken::cancel`] from
/// anywhere. A cancelled token stays cancelled.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<CancelInner>,
}

#[derive(Default)]
struct CancelInner {
    flag: AtomicBool,
    notify: Notify,
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.inner.flag.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.flag.load(Ordering::SeqCst)
    }

    /// Resolves once [`CancelToken::cancel`] has been called.
    pub async fn cancelled(&self) {
        loop {
            // Registered before the flag is read, so a cancel in between is not missed.
            let notified = self.inner.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The client

/// Waits of [`LlmClient`]; see the module header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlmOptions {
    pub connect_timeout: Duration,
    /// Until the response head and the first piece of the body. A local model may load first, and
    /// a non-streamed answer is whole before its first byte: generous.
    pub first_byte_timeout: Duration,
    /// Between two pieces of a body.
    pub idle_timeout: Duration,
}

impl Default for LlmOptions {
    fn default() -> Self {
        LlmOptions {
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// An OpenAI-compatible chat-completions endpoint. Cheap to share behind an `Arc`.
pub struct LlmClient {
    client: reqwest::Client,
    base: String,
    host: String,
    /// The base without any `user:password@`, for logs and `Debug`.
    shown: String,
    model: String,
    api_key: Option<Secret>,
    options: LlmOptions,
    json_mode: AtomicU8,
}

impl fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmClient")
            .field("base", &self.shown)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("options", &self.options)
            .field("json_mode", &self.json_mode())
            .finish()
    }
}

impl LlmClient {
    /// A client of `url`, the base **including `/v1`** (`http://localhost:11434/v1`; a trailing
    /// slash is fine), asking `model`. `api_key`, when given and not blank, is sent as a bearer
    /// token (Ollama and llama.cpp need none).
    pub fn new(
        url: &str,
        model: &str,
        api_key: Option<String>,
        options: LlmOptions,
    ) -> Result<LlmClient, LlmError> {
        let base = url.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| LlmError::Config(format!("the LLM URL is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(LlmError::Config(
                "the LLM URL must start with http:// or https://".into(),
            ));
        }
        if model.trim().is_empty() {
            return Err(LlmError::Config("no LLM model configured".into()));
        }
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        };
        let mut shown = parsed.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        let shown = shown.as_str().trim_end_matches('/').to_string();
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(options.connect_timeout)
            // No whole-request timeout: streams are bounded by the idle wait instead.
            // No redirects: the key is never carried to another origin.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| LlmError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(LlmClient {
            client,
            base,
            host,
            shown,
            model: model.trim().to_string(),
            api_key: api_key
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .map(Secret::new),
            options,
            json_mode: AtomicU8::new(JsonMode::Schema.as_u8()),
        })
    }

    /// The client of the `[ai]` config, with the key found for it (`OPENAI_API_KEY` or
    /// `api_key_command`).
    pub fn from_config(
        cfg: &crate::config::AiConfig,
        api_key: Option<Secret>,
        options: LlmOptions,
    ) -> Result<LlmClient, LlmError> {
        LlmClient::new(
            &cfg.url,
            &cfg.model,
            api_key.map(|k| k.expose().to_string()),
            options,
        )
    }

    /// The base URL, without a trailing slash (nor a `user:password@`).
    pub fn base_url(&self) -> &str {
        &self.shown
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The structured-output mode [`LlmClient::complete_json`] starts with (the last that worked).
    pub fn json_mode(&self) -> JsonMode {
        JsonMode::from_u8(self.json_mode.load(Ordering::Relaxed))
    }

    /// The cache key of `req` sent by this client (see [`cache_key`]; the URL without credentials).
    pub fn cache_key(&self, req: &ChatRequest) -> String {
        cache_key(&self.shown, &self.model, req)
    }

    /// The cache key of a serialized body sent to this client's endpoint (the body names the
    /// model and holds the messages).
    pub fn cache_key_raw(&self, body: &str) -> String {
        let identity = json!([
            "flightdeck-llm-cache/raw/1",
            self.shown.trim_end_matches('/'),
            body
        ]);
        format!("{:032x}", fnv1a_128(identity.to_string().as_bytes()))
    }

    /// The JSON body of `req`.
    pub fn body(&self, req: &ChatRequest, stream: bool) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": req.messages,
            "stream": stream,
        });
        if let Some(obj) = body.as_object_mut() {
            if stream {
                obj.insert("stream_options".into(), json!({"include_usage": true}));
            }
            if let Some(t) = req.temperature {
                obj.insert("temperature".into(), json!(t));
            }
            if let Some(m) = req.max_tokens {
                obj.insert("max_tokens".into(), json!(m));
            }
            if let Some(s) = req.seed {
                obj.insert("seed".into(), json!(s));
            }
            if let Some(f) = &req.response_format {
                obj.insert("response_format".into(), f.to_json());
            }
        }
        body
    }

    /// One answer, not streamed. Dropping the future drops the connection.
    pub async fn complete(&self, req: &ChatRequest) -> Result<Completion, LlmError> {
        self.run(
            self.body(req, false).to_string(),
            false,
            &CancelToken::new(),
            &mut |_| {},
        )
        .await
    }

    /// [`LlmClient::complete`] that `cancel` can stop.
    pub async fn complete_cancellable(
        &self,
        req: &ChatRequest,
        cancel: &CancelToken,
    ) -> Result<Completion, LlmError> {
        self.run(
            self.body(req, false).to_string(),
            false,
            cancel,
            &mut |_| {},
        )
        .await
    }

    /// A streamed answer: `sink` gets each [`StreamEvent::Delta`] as it comes, then exactly one
    /// `Done` or `Failed`; the whole answer (or the same error) is returned too.
    pub async fn stream(
        &self,
        req: &ChatRequest,
        cancel: &CancelToken,
        sink: impl FnMut(StreamEvent),
    ) -> Result<Completion, LlmError> {
        self.stream_raw(self.body(req, true).to_string(), cancel, sink)
            .await
    }

    /// [`LlmClient::stream`] of a request body already serialized — byte for byte what the
    /// operator previewed (`stream` must be true in it).
    pub async fn stream_raw(
        &self,
        body: String,
        cancel: &CancelToken,
        mut sink: impl FnMut(StreamEvent),
    ) -> Result<Completion, LlmError> {
        let result = self.run(body, true, cancel, &mut sink).await;
        match &result {
            Ok(c) => sink(StreamEvent::Done {
                finish_reason: c.finish_reason.clone(),
                usage: c.usage,
            }),
            Err(e) => sink(StreamEvent::Failed(e.clone())),
        }
        result
    }

    /// [`LlmClient::stream`] on a task of its own, its events on a channel (which closes after
    /// `Done` or `Failed`). Dropping the receiver does not stop the request: cancel `cancel`.
    pub fn spawn_stream(
        self: &Arc<Self>,
        req: ChatRequest,
        cancel: CancelToken,
    ) -> tokio::sync::mpsc::UnboundedReceiver<StreamEvent> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let _ = me
                .stream(&req, &cancel, |e| {
                    let _ = tx.send(e);
                })
                .await;
        });
        rx
    }

    /// [`LlmClient::complete`]'s text, from `cache` when it holds this request's answer; a new
    /// answer is kept unless it was cut at the length limit. `true` with a cache hit. A cache that
    /// cannot be written is logged and otherwise ignored.
    pub async fn complete_cached(
        &self,
        req: &ChatRequest,
        cache: &LlmCache,
    ) -> Result<(String, bool), LlmError> {
        let key = self.cache_key(req);
        if let Some(text) = cache.get(&key) {
            return Ok((text, true));
        }
        let c = self.complete(req).await?;
        if !c.is_truncated()
            && let Err(e) = cache.put(&key, &c.text)
        {
            tracing::warn!(dir = %cache.dir().display(), error = %e, "cannot keep the LLM answer");
        }
        Ok((c.text, false))
    }

    /// A JSON object that must have `schema`'s top-level `required` keys (and their simple types).
    /// Tries `response_format: json_schema`; when the server rejects it (a 4xx/5xx naming
    /// `response_format`, `json_schema` or a grammar, as llama.cpp does) `json_object`, then the
    /// prompt alone; the first accepted is remembered for this client. The answer is parsed
    /// tolerantly ([`parse_json_answer`]); `finish_reason: "length"` is [`LlmError::Truncated`].
    pub async fn complete_json(
        &self,
        req: &ChatRequest,
        schema: &Value,
    ) -> Result<Value, LlmError> {
        let mut mode = self.json_mode();
        loop {
            let attempt = json_request(req, schema, mode);
            match self.complete(&attempt).await {
                Err(e) if rejects_format(&e) => match mode.next() {
                    Some(next) => {
                        tracing::info!(from = ?mode, to = ?next, "the LLM refused the response format");
                        mode = next;
                        self.json_mode.store(mode.as_u8(), Ordering::Relaxed);
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
                Ok(c) => {
                    self.json_mode.store(mode.as_u8(), Ordering::Relaxed);
                    if c.is_truncated() {
                        return Err(LlmError::Truncated);
                    }
                    return parse_json_answer(&c.text, schema);
                }
            }
        }
    }

    fn url(&self) -> String {
        format!("{}/chat/completions", self.base)
    }

    /// Send `req` and read its answer, whatever its framing.
    async fn run<F: FnMut(StreamEvent)>(
        &self,
        body: String,
        stream: bool,
        cancel: &CancelToken,
        sink: &mut F,
    ) -> Result<Completion, LlmError> {
        if cancel.is_cancelled() {
            return Err(LlmError::Cancelled);
        }
        let mut builder = self
            .client
            .post(self.url())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if stream {
            builder = builder.header(
                reqwest::header::ACCEPT,
                "text/event-stream, application/x-ndjson, application/json",
            );
        }
        if let Some(k) = &self.api_key {
            builder = builder.bearer_auth(k.expose());
        }
        tracing::debug!(url = %self.shown, model = %self.model, stream, "LLM request");
        let first_deadline = Instant::now() + self.options.first_byte_timeout;
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(LlmError::Cancelled),
            r = tokio::time::timeout_at(first_deadline, builder.send()) => r,
        };
        let mut resp = match sent {
            Err(_) => return Err(self.timeout(TimeoutPhase::FirstByte)),
            Ok(Err(e)) => return Err(self.classify(&e)),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut reader = Reader {
            first_deadline: Some(first_deadline),
            idle: self.options.idle_timeout,
            first_secs: self.options.first_byte_timeout.as_secs_f64(),
            cancel,
            read: 0,
        };
        if !(200..300).contains(&status) {
            let retry_after_secs = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = reader.read_all(&mut resp, MAX_ERROR_BYTES, true).await?;
            return Err(LlmError::Http {
                status,
                message: self.scrub(&error_message(&body)),
                retry_after_secs,
            });
        }
        let framing = Framing::of(&content_type, stream);
        let mut acc = Accumulator::default();
        let finished = match framing {
            Framing::Whole => {
                let body = reader.read_all(&mut resp, MAX_ANSWER_BYTES, false).await?;
                let v: Value = serde_json::from_slice(&body)
                    .map_err(|e| LlmError::Malformed(format!("the answer is not JSON ({e})")))?;
                acc.whole(&v, sink).map_err(|e| self.scrub_error(e))?;
                true
            }
            Framing::Sse | Framing::Ndjson => {
                let mut lines = EventParser::new(framing == Framing::Sse);
                let mut finished = false;
                'read: while let Some(bytes) = reader.next(&mut resp).await? {
                    for event in lines.push(&bytes)? {
                        // A sink may cancel: no more events after that.
                        if cancel.is_cancelled() {
                            return Err(LlmError::Cancelled);
                        }
                        if acc.event(&event, sink).map_err(|e| self.scrub_error(e))? {
                            finished = true;
                            break 'read;
                        }
                    }
                }
                if !finished {
                    for event in lines.finish()? {
                        if acc.event(&event, sink).map_err(|e| self.scrub_error(e))? {
                            finished = true;
                            break;
                        }
                    }
                }
                // Without `[DONE]` (or Ollama's `done`), a finish reason still says the answer ended.
                finished || acc.finish_reason.is_some()
            }
        };
        // Dropping `resp` here closes the connection (or returns it to the pool when whole).
        drop(resp);
        if !finished {
            return Err(LlmError::Cut);
        }
        Ok(acc.into_completion())
    }

    fn timeout(&self, phase: TimeoutPhase) -> LlmError {
        let d = match phase {
            TimeoutPhase::Connect => self.options.connect_timeout,
            TimeoutPhase::FirstByte => self.options.first_byte_timeout,
            TimeoutPhase::Idle => self.options.idle_timeout,
        };
        LlmError::Timeout {
            phase,
            secs: d.as_secs_f64(),
        }
    }

    fn classify(&self, e: &reqwest::Error) -> LlmError {
        if e.is_timeout() {
            return self.timeout(if e.is_connect() {
                TimeoutPhase::Connect
            } else {
                TimeoutPhase::FirstByte
            });
        }
        if e.is_builder() {
            return LlmError::Config(self.scrub(&root_cause(e)));
        }
        // Refused, unresolved, or the answer's head never came whole.
        LlmError::Unreachable {
            host: self.host.clone(),
            detail: self.scrub(&root_cause(e)),
        }
    }

    /// Untrusted text for an error: without the key, cleaned, redacted, short.
    fn scrub(&self, text: &str) -> String {
        let text = match &self.api_key {
            Some(k) if !k.expose().is_empty() => text.replace(k.expose(), "[redacted]"),
            _ => text.to_string(),
        };
        crate::sanitize::truncate(&crate::sanitize::clean(&text), MAX_MESSAGE_CELLS)
    }

    fn scrub_error(&self, e: LlmError) -> LlmError {
        match e {
            LlmError::Server(m) => LlmError::Server(self.scrub(&m)),
            LlmError::Malformed(m) => LlmError::Malformed(self.scrub(&m)),
            other => other,
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Whether an error is the server refusing the structured-output request itself.
/// The server refused the request's `response_format` (or grammar): asking without it may work.
pub fn rejects_format(e: &LlmError) -> bool {
    let LlmError::Http {
        status, message, ..
    } = e
    else {
        return false;
    };
    if matches!(status, 401 | 403 | 404 | 408 | 429) || *status < 400 {
        return false;
    }
    let m = message.to_ascii_lowercase();
    [
        "response_format",
        "json_schema",
        "json_object",
        "grammar",
        "response format",
    ]
    .iter()
    .any(|w| m.contains(w))
}

/// The request [`LlmClient::complete_json`] sends in `mode`.
fn json_request(req: &ChatRequest, schema: &Value, mode: JsonMode) -> ChatRequest {
    let mut r = req.clone();
    match mode {
        JsonMode::Schema => {
            r.response_format = Some(ResponseFormat::JsonSchema {
                name: schema_name(schema),
                schema: schema.clone(),
                strict: true,
            });
        }
        JsonMode::Object | JsonMode::PromptOnly => {
            r.response_format = (mode == JsonMode::Object).then_some(ResponseFormat::JsonObject);
            // JSON mode needs the prompt to ask for JSON, and the prompt alone needs the schema.
            r.messages.insert(
                0,
                Message::system(format!(
                    "Answer with one JSON object only, no prose and no code fences. It must match this JSON schema:\n{schema}"
                )),
            );
        }
    }
    r
}

/// `schema.title` made fit for `json_schema.name` (`[a-zA-Z0-9_-]`, at most 64), or `answer`.
fn schema_name(schema: &Value) -> String {
    let name: String = schema
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("answer")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "answer".into()
    } else {
        name
    }
}

/// The message of an error body: OpenAI's `error.message`, Ollama's `error`, `message`, `detail`,
/// or the text itself (an HTML page is named, not shown).
fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(m) = json_error_message(&v).or_else(|| {
            ["message", "detail"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
        })
    {
        return m;
    }
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    if t.starts_with('<') {
        return "the server answered with an HTML page".into();
    }
    if t.is_empty() {
        return "empty body".into();
    }
    t.to_string()
}

/// The message of an `error` member: a string (Ollama) or an object with `message` (OpenAI).
fn json_error_message(v: &Value) -> Option<String> {
    match v.get("error")? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => Some(
            o.get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .to_string(),
        ),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a body under the phase timeouts

struct Reader<'a> {
    /// Until the first piece of the body; `None` after it.
    first_deadline: Option<Instant>,
    idle: Duration,
    first_secs: f64,
    cancel: &'a CancelToken,
    read: usize,
}

impl Reader<'_> {
    /// The next piece of the body, `None` at its end.
    async fn next(
        &mut self,
        resp: &mut reqwest::Response,
    ) -> Result<Option<bytes::Bytes>, LlmError> {
        let (deadline, phase, secs) = match self.first_deadline {
            Some(d) => (d, TimeoutPhase::FirstByte, self.first_secs),
            None => (
                Instant::now() + self.idle,
                TimeoutPhase::Idle,
                self.idle.as_secs_f64(),
            ),
        };
        let got = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => return Err(LlmError::Cancelled),
            r = tokio::time::timeout_at(deadline, resp.chunk()) => r,
        };
        self.first_deadline = None;
        match got {
            Err(_) => Err(LlmError::Timeout { phase, secs }),
            Ok(Err(e)) if e.is_decode() => Err(LlmError::Malformed(format!(
                "the body could not be decoded ({})",
                root_cause(&e)
            ))),
            Ok(Err(_)) => Err(LlmError::Cut),
            Ok(Ok(Some(b))) => {
                self.read += b.len();
                if self.read > MAX_ANSWER_BYTES {
                    return Err(LlmError::Malformed(format!(
                        "the answer is larger than {} MiB",
                        MAX_ANSWER_BYTES / (1024 * 1024)
                    )));
                }
                Ok(Some(b))
            }
            Ok(Ok(None)) => Ok(None),
        }
    }

    /// The whole body, at most `max` bytes (an error body is cut there, `lenient`; an answer fails).
    async fn read_all(
        &mut self,
        resp: &mut reqwest::Response,
        max: usize,
        lenient: bool,
    ) -> Result<Vec<u8>, LlmError> {
        let mut out = Vec::new();
        loop {
            let next = match self.next(resp).await {
                Ok(n) => n,
                // An error body that stops short still says something.
                Err(LlmError::Cut) if lenient => None,
                Err(LlmError::Timeout { .. }) if lenient && !out.is_empty() => None,
                Err(e) => return Err(e),
            };
            let Some(b) = next else { break };
            out.extend_from_slice(&b);
            if out.len() > max {
                if lenient {
                    out.truncate(max);
                    break;
                }
                return Err(LlmError::Malformed(format!(
                    "the answer is larger than {} MiB",
                    max / (1024 * 1024)
                )));
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// One JSON document.
    Whole,
    /// Server-sent events.
    Sse,
    /// Newline-delimited JSON (Ollama's native stream).
    Ndjson,
}

impl Framing {
    fn of(content_type: &str, stream: bool) -> Framing {
        if content_type.contains("text/event-stream") {
            Framing::Sse
        } else if content_type.contains("ndjson") || content_type.contains("jsonl") {
            Framing::Ndjson
        } else if content_type.contains("json") || !stream {
            Framing::Whole
        } else {
            Framing::Sse
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Framing: server-sent events and NDJSON

/// One event of a stream: an SSE event (its `event:` name and its `data:` lines joined by `\n`) or
/// one NDJSON line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFrame {
    pub event: Option<String>,
    pub data: String,
}

/// Splits a byte stream into [`StreamFrame`]s, whatever the network's chunking: bytes are kept
/// until a line ends (`\n`, `\r\n` or `\r`), and an SSE event until a blank line, so an event or
/// a UTF-8 character split between chunks is whole when it is decoded. SSE comments (`:` lines),
/// `id:` and `retry:` are skipped.
#[derive(Debug)]
pub struct EventParser {
    sse: bool,
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<u8>,
    has_data: bool,
    /// The last byte seen was a `\r`: a `\n` right after it is the same line end.
    after_cr: bool,
}

impl EventParser {
    /// `sse`: server-sent events; otherwise one JSON document per line.
    pub fn new(sse: bool) -> EventParser {
        EventParser {
            sse,
            buf: Vec::new(),
            event: None,
            data: Vec::new(),
            has_data: false,
            after_cr: false,
        }
    }

    /// The frames completed by `bytes`.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<StreamFrame>, LlmError> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.buf);
                    if let Some(f) = self.line(&line)? {
                        out.push(f);
                    }
                }
                _ => {
                    self.buf.push(b);
                    if self.buf.len() + self.data.len() > MAX_ANSWER_BYTES {
                        return Err(LlmError::Malformed("a stream event is too large".into()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// What is left when the stream ends: an NDJSON line without its newline. (An SSE event that
    /// never got its blank line is dispatched too: some servers close right after `data: [DONE]`.)
    pub fn finish(&mut self) -> Result<Vec<StreamFrame>, LlmError> {
        let mut out = Vec::new();
        let line = std::mem::take(&mut self.buf);
        if !line.is_empty()
            && let Some(f) = self.line(&line)?
        {
            out.push(f);
        }
        if self.sse
            && let Some(f) = self.dispatch()?
        {
            out.push(f);
        }
        Ok(out)
    }

    fn line(&mut self, line: &[u8]) -> Result<Option<StreamFrame>, LlmError> {
        if !self.sse {
            let text = utf8(line)?;
            let t = text.trim();
            return Ok((!t.is_empty()).then(|| StreamFrame {
                event: None,
                data: t.to_string(),
            }));
        }
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => self.event = Some(utf8(value)?.to_string()),
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Result<Option<StreamFrame>, LlmError> {
        let event = self.event.take();
        if !self.has_data {
            return Ok(None);
        }
        self.has_data = false;
        let data = std::mem::take(&mut self.data);
        Ok(Some(StreamFrame {
            event,
            data: utf8(&data)?.to_string(),
        }))
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, LlmError> {
    std::str::from_utf8(bytes)
        .map_err(|_| LlmError::Malformed("the stream is not valid UTF-8".into()))
}

// ---------------------------------------------------------------------------------------------
// Reading the JSON of answers and chunks

#[derive(Debug, Default)]
struct Accumulator {
    text: String,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    model: Option<String>,
    refusal: Option<String>,
}

impl Accumulator {
    /// One stream frame; `true` when the stream is over.
    fn event(
        &mut self,
        frame: &StreamFrame,
        sink: &mut dyn FnMut(StreamEvent),
    ) -> Result<bool, LlmError> {
        let data = frame.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(_) if frame.event.as_deref() == Some("error") => {
                return Err(LlmError::Server(data.to_string()));
            }
            Err(e) => {
                return Err(LlmError::Malformed(format!(
                    "a stream event is not JSON ({e})"
                )));
            }
        };
        if let Some(m) = json_error_message(&v) {
            return Err(LlmError::Server(m));
        }
        if frame.event.as_deref() == Some("error") {
            return Err(LlmError::Server(v.to_string()));
        }
        self.chunk(&v, sink)
    }

    /// A whole (non-streamed) answer.
    fn whole(&mut self, v: &Value, sink: &mut dyn FnMut(StreamEvent)) -> Result<(), LlmError> {
        if let Some(m) = json_error_message(v) {
            return Err(LlmError::Server(m));
        }
        let known = v.get("choices").is_some_and(Value::is_array)
            || v.get("message").is_some_and(Value::is_object)
            || v.get("response").is_some_and(Value::is_string);
        if !known {
            return Err(LlmError::Malformed(
                "no `choices` in the chat completion".into(),
            ));
        }
        self.chunk(v, sink)?;
        if self.text.is_empty()
            && let Some(r) = self.refusal.take()
        {
            return Err(LlmError::Server(format!("the model refused: {r}")));
        }
        Ok(())
    }

    /// A chat completion, a chunk of one, or an Ollama native line; `true` at Ollama's `done`.
    fn chunk(&mut self, v: &Value, sink: &mut dyn FnMut(StreamEvent)) -> Result<bool, LlmError> {
        if let Some(m) = v.get("model").and_then(Value::as_str) {
            self.model = Some(m.to_string());
        }
        if let Some(u) = v.get("usage").and_then(parse_usage) {
            self.usage = Some(u);
        }
        if let Some(choices) = v.get("choices").and_then(Value::as_array) {
            let first = choices
                .iter()
                .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0);
            if let Some(c) = first {
                let part = c.get("delta").or_else(|| c.get("message"));
                if let Some(s) = part.and_then(|p| p.get("content")).and_then(Value::as_str) {
                    self.push(s, sink);
                }
                if let Some(r) = part.and_then(|p| p.get("refusal")).and_then(Value::as_str) {
                    self.refusal.get_or_insert_with(String::new).push_str(r);
                }
                if let Some(f) = c.get("finish_reason").and_then(Value::as_str) {
                    self.finish_reason = Some(f.to_string());
                }
            }
            return Ok(false);
        }
        // Ollama's native shapes: /api/chat (`message.content`) and /api/generate (`response`).
        let text = v
            .pointer("/message/content")
            .or_else(|| v.get("response"))
            .and_then(Value::as_str);
        if let Some(s) = text {
            self.push(s, sink);
        }
        if v.get("done").and_then(Value::as_bool) == Some(true) {
            self.finish_reason = Some(
                v.get("done_reason")
                    .and_then(Value::as_str)
                    .unwrap_or("stop")
                    .to_string(),
            );
            let n = |k: &str| v.get(k).and_then(Value::as_u64);
            if n("prompt_eval_count").is_some() || n("eval_count").is_some() {
                let p = n("prompt_eval_count").unwrap_or(0);
                let c = n("eval_count").unwrap_or(0);
                self.usage = Some(Usage {
                    prompt_tokens: p,
                    completion_tokens: c,
                    total_tokens: p + c,
                });
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn push(&mut self, s: &str, sink: &mut dyn FnMut(StreamEvent)) {
        if s.is_empty() {
            return;
        }
        self.text.push_str(s);
        sink(StreamEvent::Delta(s.to_string()));
    }

    fn into_completion(self) -> Completion {
        Completion {
            text: self.text,
            finish_reason: self.finish_reason,
            usage: self.usage,
            model: self.model,
        }
    }
}

fn parse_usage(v: &Value) -> Option<Usage> {
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    let prompt = n("prompt_tokens");
    let completion = n("completion_tokens");
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    let p = prompt.unwrap_or(0);
    let c = completion.unwrap_or(0);
    Some(Usage {
        prompt_tokens: p,
        completion_tokens: c,
        total_tokens: n("total_tokens").unwrap_or(p + c),
    })
}

// ---------------------------------------------------------------------------------------------
// Tolerant JSON answers

/// The JSON object in a model's answer, checked against `schema`: the text itself, else the
/// inside of a ```` ``` ```` fence, else the first balanced `{…}` that parses. The object must
/// have every key of `schema`'s top-level `required`, and those whose `properties` entry names a
/// simple `type` must have it.
pub fn parse_json_answer(text: &str, schema: &Value) -> Result<Value, LlmError> {
    let value = find_json_object(text).ok_or_else(|| {
        LlmError::Invalid(if text.trim().is_empty() {
            "the answer is empty".into()
        } else {
            "no JSON object in the answer".into()
        })
    })?;
    validate(&value, schema)?;
    Ok(value)
}

fn find_json_object(text: &str) -> Option<Value> {
    let t = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    if let Some(inner) = fenced(t)
        && let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(inner.trim())
    {
        return Some(v);
    }
    // At most this many `{` are tried, so a pathological answer costs linear time, not quadratic.
    const MAX_STARTS: usize = 64;
    let mut from = 0;
    let mut tried = 0;
    while let Some(i) = t[from..].find('{') {
        tried += 1;
        if tried > MAX_STARTS {
            break;
        }
        let start = from + i;
        if let Some(end) = balanced_end(&t[start..])
            && let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&t[start..start + end])
        {
            return Some(v);
        }
        from = start + 1;
    }
    None
}

/// The inside of the first ```` ``` ```` fence (its info string, such as `json`, dropped).
fn fenced(t: &str) -> Option<&str> {
    let open = t.find("```")?;
    let rest = &t[open + 3..];
    let body_start = rest.find('\n').map_or(rest.len(), |i| i + 1);
    let body = &rest[body_start..];
    let end = body.find("```").unwrap_or(body.len());
    Some(&body[..end])
}

/// The length of the balanced `{…}` at the start of `s` (strings and escapes respected).
fn balanced_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn validate(value: &Value, schema: &Value) -> Result<(), LlmError> {
    let Some(obj) = value.as_object() else {
        return Err(LlmError::Invalid("the answer is not a JSON object".into()));
    };
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for key in required {
        let Some(v) = obj.get(key) else {
            return Err(LlmError::Invalid(format!(
                "the required key `{}` is missing",
                crate::sanitize::clean(key)
            )));
        };
        let ty = schema
            .pointer(&format!(
                "/properties/{}/type",
                key.replace('~', "~0").replace('/', "~1")
            ))
            .and_then(Value::as_str);
        let ok = match ty {
            Some("string") => v.is_string(),
            Some("number") => v.is_number(),
            Some("integer") => v.is_i64() || v.is_u64(),
            Some("boolean") => v.is_boolean(),
            Some("array") => v.is_array(),
            Some("object") => v.is_object(),
            Some("null") => v.is_null(),
            _ => true,
        };
        if !ok {
            return Err(LlmError::Invalid(format!(
                "`{}` is not of type {}",
                crate::sanitize::clean(key),
                ty.unwrap_or("?")
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The disk cache

/// FNV-1a, 128 bits (the published offset basis and prime): stable across Rust releases, so a
/// cache file keeps its name.
fn fnv1a_128(bytes: &[u8]) -> u128 {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    h
}

/// The cache key of `req` sent to `url` for `model`: 32 hex digits of a stable hash of the URL
/// (without a trailing slash), the model, the messages and the response format. The API key is
/// no part of it.
pub fn cache_key(url: &str, model: &str, req: &ChatRequest) -> String {
    let identity = json!([
        "flightdeck-llm-cache/1",
        url.trim().trim_end_matches('/'),
        model.trim(),
        req.messages,
        req.response_format.as_ref().map(ResponseFormat::to_json),
    ]);
    format!("{:032x}", fnv1a_128(identity.to_string().as_bytes()))
}

/// Final answers on disk, one file per key (`<key>.json`, 0600, in a 0700 directory), written
/// whole or not at all. What is kept passes [`crate::redact::redact`] first: a secret the model
/// repeated never reaches the disk.
#[derive(Debug, Clone)]
pub struct LlmCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    version: u32,
    key: String,
    text: String,
}

const CACHE_VERSION: u32 = 1;

impl LlmCache {
    pub fn new(dir: impl Into<PathBuf>) -> LlmCache {
        LlmCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        let ok = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| self.dir.join(format!("{key}.json")))
    }

    /// The text kept for `key`; `None` when absent, unreadable or of another version.
    pub fn get(&self, key: &str) -> Option<String> {
        let bytes = std::fs::read(self.path(key)?).ok()?;
        let entry: CacheEntry = serde_json::from_slice(&bytes).ok()?;
        (entry.version == CACHE_VERSION && entry.key == key).then_some(entry.text)
    }

    /// Keep `text` for `key` (a key from [`cache_key`]).
    pub fn put(&self, key: &str, text: &str) -> std::io::Result<()> {
        let path = self.path(key).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a cache key")
        })?;
        let entry = CacheEntry {
            version: CACHE_VERSION,
            key: key.to_string(),
            text: crate::redact::redact(text).into_owned(),
        };
        let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        crate::store::write_atomic(&path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(parser: &mut EventParser, pieces: &[&[u8]]) -> Vec<StreamFrame> {
        let mut out = Vec::new();
        for p in pieces {
            out.extend(parser.push(p).expect("frames"));
        }
        out.extend(parser.finish().expect("finish"));
        out
    }

    #[test]
    fn sse_events_whatever_the_split() {
        let text = ": keep-alive\r\ndata: {\"a\":\"héllo 🚀\"}\r\n\r\nevent: ping\ndata: x\ndata: y\n\nid: 3\nretry: 10\n\ndata: [DONE]\n\n";
        let bytes = text.as_bytes();
        let want = vec![
            StreamFrame {
                event: None,
                data: "{\"a\":\"héllo 🚀\"}".into(),
            },
            StreamFrame {
                event: Some("ping".into()),
                data: "x\ny".into(),
            },
            StreamFrame {
                event: None,
                data: "[DONE]".into(),
            },
        ];
        // Every single split point, then every byte alone.
        for i in 0..=bytes.len() {
            let mut p = EventParser::new(true);
            assert_eq!(
                frames(&mut p, &[&bytes[..i], &bytes[i..]]),
                want,
                "split {i}"
            );
        }
        let mut p = EventParser::new(true);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(frames(&mut p, &singles), want);
    }

    #[test]
    fn bare_cr_line_ends_and_unterminated_last_event() {
        let mut p = EventParser::new(true);
        let got = frames(&mut p, &[b"data: 1\r\rdata: 2\r", b"\n\r\ndata: [DONE]"]);
        let data: Vec<&str> = got.iter().map(|f| f.data.as_str()).collect();
        assert_eq!(data, ["1", "2", "[DONE]"]);
    }

    #[test]
    fn ndjson_lines() {
        let mut p = EventParser::new(false);
        let got = frames(&mut p, &[b"{\"a\":1}\n\n{\"b\"", b":2}\r\n{\"c\":3}"]);
        let data: Vec<&str> = got.iter().map(|f| f.data.as_str()).collect();
        assert_eq!(data, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        let mut p = EventParser::new(true);
        assert!(matches!(
            p.push(b"data: \xff\xfe\n\n"),
            Err(LlmError::Malformed(_))
        ));
    }

    #[test]
    fn json_answers_found_tolerantly() {
        let schema = json!({
            "type": "object",
            "required": ["summary", "risk"],
            "properties": {"summary": {"type": "string"}, "risk": {"type": "integer"}}
        });
        let plain = r#"{"summary": "ok", "risk": 2}"#;
        assert_eq!(parse_json_answer(plain, &schema).expect("plain")["risk"], 2);
        let fenced = "Here you go:\n```json\n{\"summary\": \"a } brace\", \"risk\": 1}\n```\nBye";
        assert_eq!(
            parse_json_answer(fenced, &schema).expect("fenced")["summary"],
            "a } brace"
        );
        let prose = "Sure! {not json} then {\"summary\": \"s\", \"risk\": 3, \"x\": [1, {\"y\": \"}\"}]} trailing {";
        assert_eq!(parse_json_answer(prose, &schema).expect("prose")["risk"], 3);
        assert!(matches!(
            parse_json_answer(r#"{"summary": "s"}"#, &schema),
            Err(LlmError::Invalid(m)) if m.contains("risk")
        ));
        assert!(matches!(
            parse_json_answer(r#"{"summary": 1, "risk": 1}"#, &schema),
            Err(LlmError::Invalid(m)) if m.contains("string")
        ));
        assert!(matches!(
            parse_json_answer("no json here", &schema),
            Err(LlmError::Invalid(_))
        ));
        assert!(matches!(
            parse_json_answer("{\"summary\": \"cut", &schema),
            Err(LlmError::Invalid(_))
        ));
        let hostile = "{".repeat(200_000);
        assert!(matches!(
            parse_json_answer(&hostile, &schema),
            Err(LlmError::Invalid(_))
        ));
    }

    #[test]
    fn format_rejections_are_recognised() {
        let http = |status, m: &str| LlmError::Http {
            status,
            message: m.into(),
            retry_after_secs: None,
        };
        assert!(rejects_format(&http(
            400,
            "Either \"json_schema\" or \"grammar\" can be specified, but not both"
        )));
        assert!(rejects_format(&http(
            400,
            "response_format is not supported"
        )));
        assert!(!rejects_format(&http(400, "model not found")));
        assert!(!rejects_format(&http(429, "response_format rate")));
        assert!(!rejects_format(&LlmError::Cut));
    }

    #[test]
    fn cache_key_is_stable_and_keyless() {
        let req = ChatRequest::new(vec![Message::user("hi")]);
        let a = cache_key("http://h/v1/", "m", &req);
        assert_eq!(a, cache_key("http://h/v1", "m", &req));
        assert_eq!(a.len(), 32);
        assert_ne!(a, cache_key("http://h/v1", "m2", &req));
        let mut json = req.clone();
        json.response_format = Some(ResponseFormat::JsonObject);
        assert_ne!(a, cache_key("http://h/v1", "m", &json));
        // The published FNV-1a 128 test vectors.
        assert_eq!(fnv1a_128(b""), 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d);
        assert_eq!(fnv1a_128(b"a"), 0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964);
        // And the key of a fixed request never changes with the compiler.
        assert_eq!(a, cache_key("http://h/v1", "m", &req));
    }

    #[test]
    fn client_debug_hides_the_key() {
        let c = LlmClient::new(
            "http://127.0.0.1:1/v1/",
            "m",
            Some("sekrit-key-123".into()),
            LlmOptions::default(),
        )
        .expect("client");
        let d = format!("{c:?}");
        assert!(!d.contains("sekrit"), "{d}");
        assert!(d.contains("***"));
        assert_eq!(c.base_url(), "http://127.0.0.1:1/v1");
        assert!(LlmClient::new("ftp://x/v1", "m", None, LlmOptions::default()).is_err());
        assert!(LlmClient::new("http://x/v1", " ", None, LlmOptions::default()).is_err());
    }

    #[test]
    fn errors_read_well() {
        let e = LlmError::Http {
            status: 401,
            message: "Incorrect API key provided".into(),
            retry_after_secs: None,
        };
        assert!(e.to_string().contains("OPENAI_API_KEY"));
        let e = LlmError::Timeout {
            phase: TimeoutPhase::Idle,
            secs: 2.0,
        };
        assert_eq!(
            e.to_string(),
            "the LLM timed out waiting for the next piece of the answer (2.0 s)"
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"bad","type":"x"}}"#),
            "bad"
        );
        assert_eq!(
            error_message(br#"{"error":"the model failed to generate a response"}"#),
            "the model failed to generate a response"
        );
        assert_eq!(
            error_message(b"<html>"),
            "the server answered with an HTML page"
        );
    }
}
