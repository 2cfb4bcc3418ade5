//! Simulated OpenAI-compatible API under `/v1`: chat completions (plain or server-sent events) and
//! the model list. The answer is a deterministic one-line summary of the last user message.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Shared;
use super::util::{clean_text, hex_id, unix_of};

pub const MODEL: &str = "sim-analyst";
const EXCERPT_CHARS: usize = 200;
const FINGERPRINT: &str = "fp_sim0001";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "Unknown request URL. Please check the URL for typos.",
                None,
            )
        })
        .with_state(shared)
}

fn json_reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error(status: StatusCode, message: &str, param: Option<&str>) -> Response {
    json_reply(
        status,
        &json!({"error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": null
        }}),
    )
}

/// Text of a message's `content`: a string or an array of `{type: "text", text}` parts.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The deterministic answer: "Summary: " + the first ~200 characters of the last user message,
/// with control characters removed.
pub fn summarise(messages: &[Value]) -> String {
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|m| m.get("content"))
        .map(content_text)
        .unwrap_or_default();
    let head: String = last_user.chars().take(EXCERPT_CHARS).collect();
    let cleaned = clean_text(&head);
    if cleaned.is_empty() {
        return "Summary: (empty prompt)".into();
    }
    let words = last_user.split_whitespace().count();
    let more = if last_user.chars().count() > EXCERPT_CHARS {
        "..."
    } else {
        ""
    };
    format!("Summary: {cleaned}{more} ({words} words reviewed by {MODEL})")
}

/// The content of the `<data name="{name}">` fence of `text`, when there is one.
fn fence<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<data name=\"{name}\">");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find("</data>")? + start;
    Some(text[start..end].trim())
}

/// When the system message asks for flightdeck's JSON answer, a deterministic analyst's: the
/// subject's heading with the builtin summary's first line as the headline, the fields it read,
/// the builtin's next steps. `None` for any other prompt.
pub fn analyst_json(messages: &[Value]) -> Option<String> {
    let text_of = |role: &str| {
        messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some(role))
            .and_then(|m| m.get("content"))
            .map(content_text)
            .unwrap_or_default()
    };
    let system = text_of("system");
    if !system.contains("JSON Schema") {
        return None;
    }
    let user = text_of("user");
    let heading = user
        .lines()
        .next()
        .unwrap_or("")
        .split('.')
        .next()
        .unwrap_or("")
        .trim();
    let builtin = fence(&user, "builtin.summary").unwrap_or("");
    let first = clean_text(builtin.lines().next().unwrap_or("nothing to add"));
    let mut headline = format!("{heading}: {first}");
    if headline.chars().count() > 100 {
        headline = headline.chars().take(99).collect::<String>() + "…";
    }
    let fields: Vec<&str> = user
        .match_indices("<data name=\"")
        .filter_map(|(i, m)| {
            let rest = &user[i + m.len()..];
            rest.find('"').map(|j| &rest[..j])
        })
        .collect();
    let mut next: Vec<String> = builtin
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Next:"))
        .map(|l| clean_text(l.trim()))
        .collect();
    next.push("Check the evidence above against the dashboards before acting.".into());
    let summary = format!(
        "{MODEL} read {} fields ({}) and agrees with the builtin analysis: {}",
        fields.len(),
        fields.join(", "),
        clean_text(
            &builtin
                .lines()
                .skip(1)
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        )
    );
    Some(
        json!({
            "headline": headline,
            "summary": summary,
            "next_steps": next,
            "confidence": "medium",
        })
        .to_string(),
    )
}

fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

async fn chat(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            None,
        );
    };
    let Some(model) = req
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
            Some("model"),
        );
    };
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Missing required parameter: 'messages'.",
            Some("messages"),
        );
    };
    if messages.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
        );
    }
    let content = analyst_json(messages).unwrap_or_else(|| summarise(messages));
    let prompt_tokens: u64 = messages
        .iter()
        .map(|m| tokens(&m.get("content").map(content_text).unwrap_or_default()))
        .sum();
    let completion_tokens = tokens(&content);
    let id = format!("chatcmpl-{}", hex_id(&format!("{model}/{content}"), 29));
    let created = unix_of(s.clock.now());
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    });
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        let include_usage = req
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        return stream(
            &id,
            created,
            model,
            &content,
            include_usage.then_some(usage),
        );
    }
    json_reply(
        StatusCode::OK,
        &json!({
            "id": id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": null,
                    "annotations": []
                },
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT
        }),
    )
}

/// Server-sent events: a role chunk, one chunk per word, a `stop` chunk, optional usage, `[DONE]`.
fn stream(id: &str, created: i64, model: &str, content: &str, usage: Option<Value>) -> Response {
    let with_usage = usage.is_some();
    let chunk = |delta: Value, finish: Option<&str>| {
        let mut c = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        });
        if with_usage && let Some(obj) = c.as_object_mut() {
            obj.insert("usage".into(), Value::Null);
        }
        c
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        None,
    )];
    for piece in content.split_inclusive(' ') {
        events.push(chunk(json!({"content": piece}), None));
    }
    events.push(chunk(json!({}), Some("stop")));
    if let Some(u) = usage {
        events.push(json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": [],
            "usage": u
        }));
    }
    let mut body = String::new();
    for e in events {
        body.push_str(&format!("data: {e}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    (
        StatusCode::OK,
        [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn models() -> Response {
    json_reply(
        StatusCode::OK,
        &json!({
            "object": "list",
            "data": [{
                "id": MODEL,
                "object": "model",
                "created": unix_of(0.0),
                "owned_by": "flightdeck-sim"
            }]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_deterministic_and_clean() {
        let msgs = vec![
            json!({"role": "system", "content": "You are terse."}),
            json!({"role": "user", "content": "first"}),
            json!({"role": "user", "content": [{"type": "text", "text": "canary \u{1b}[31mfailing\u{1b}[0m\nat 50%"}]}),
        ];
        let s = summarise(&msgs);
        assert_eq!(
            s,
            "Summary: canary failing at 50% (4 words reviewed by sim-analyst)"
        );
        assert!(!s.chars().any(char::is_control));
        let long = vec![json!({"role": "user", "content": "x".repeat(1000)})];
        assert!(summarise(&long).contains("..."));
        assert_eq!(summarise(&[]), "Summary: (empty prompt)");
    }
}
