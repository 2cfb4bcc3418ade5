//! The audit log of remote changes: `$XDG_STATE_HOME/flightdeck/audit.jsonl`.
//!
//! Every change (approve, reject, re-run, cancel, rollback, …) writes one JSON line before the call
//! (`intent`) and one after it (`outcome`), both with the same `id`, each fsync'd before the caller
//! goes on. A crash between the two leaves an intent without an outcome: the log shows what was
//! attempted even when it cannot say how it ended.
//!
//! Lines are appended with `O_APPEND` in a single write, so concurrent writers (threads, or two
//! flightdeck processes) never interleave inside a line. Tokens never belong in the log; [`AuditLog::append`]
//! redacts anything shaped like a secret anyway, with the patterns of [`crate::redact`].

use std::borrow::Cow;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::sanitize;

/// How much of the log's end is read for the ROLLBACKs the judge called
/// ([`AuditLog::rollbacks_called`]; a verdict record is one to two kilobytes: the last thousands
/// of them).
pub const ROLLBACKS_TAIL_BYTES: u64 = 4 << 20;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub at: String,
    /// Correlates intent and outcome: the same id on both lines.
    pub id: String,
    pub phase: Phase,
    /// "approve-deployment", "reject-deployment", "rerun-failed-jobs", "cancel-run", "rollback", …
    pub action: String,
    /// The operator: GitHub login when known, else `$USER`, else "unknown" (see [`operator`]).
    pub who: String,
    /// What was acted on, e.g. `{"repo":"acme/checkout","run_id":1,"environment":"production","sha":"abc"}`.
    pub target: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Only on `outcome` lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Intent,
    Outcome,
    /// A single line that changes nothing remote: a verdict of the judge that changed.
    Record,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub ok: bool,
    /// "HTTP 200", or GitHub's error message.
    pub detail: String,
}

impl AuditEntry {
    /// The line written before the call, with a fresh id and the current time.
    pub fn intent(
        action: impl Into<String>,
        who: impl Into<String>,
        target: serde_json::Value,
        comment: Option<String>,
    ) -> AuditEntry {
        AuditEntry {
            at: now_rfc3339(),
            id: new_id(),
            phase: Phase::Intent,
            action: action.into(),
            who: who.into(),
            target,
            comment,
            outcome: None,
        }
    }

    /// A record: one line, nothing sent (a verdict change, with its evidence in `comment`).
    pub fn record(
        action: impl Into<String>,
        who: impl Into<String>,
        target: serde_json::Value,
        comment: Option<String>,
    ) -> AuditEntry {
        AuditEntry {
            phase: Phase::Record,
            ..AuditEntry::intent(action, who, target, comment)
        }
    }

    /// The line written after the call: same id, action, operator and target as this intent.
    pub fn outcome(&self, ok: bool, detail: impl Into<String>) -> AuditEntry {
        AuditEntry {
            at: now_rfc3339(),
            id: self.id.clone(),
            phase: Phase::Outcome,
            action: self.action.clone(),
            who: self.who.clone(),
            target: self.target.clone(),
            comment: None,
            outcome: Some(Outcome {
                ok,
                detail: detail.into(),
            }),
        }
    }
}

/// The operator's name for [`AuditEntry::who`]: the GitHub login when known, else `$USER` (or
/// `$LOGNAME`), else "unknown"; cleaned of control characters.
pub fn operator(github_login: Option<&str>) -> String {
    github_login
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .into_iter()
        .chain(std::env::var("LOGNAME").ok())
        .map(|u| sanitize::clean(u.trim()))
        .find(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The append-only audit file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

/// Serialises appends within this process, so the fsync of one line is not raced by the next; across
/// processes `O_APPEND` and one `write` per line keep lines whole.
static APPEND_LOCK: Mutex<()> = Mutex::new(());

impl AuditLog {
    pub fn new(path: impl Into<PathBuf>) -> AuditLog {
        AuditLog { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one entry as a JSON line: create the parent dir (0700) and file (0600 on unix) if needed,
    /// open with append, write the whole line in one `write_all`, then fsync. Errors returned, never panics.
    pub fn append(&self, entry: &AuditEntry) -> io::Result<()> {
        let entry = redact_entry(entry);
        let mut line = serde_json::to_string(&entry).map_err(io::Error::other)?;
        line.push('\n');

        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let _guard = APPEND_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut file = options.open(&self.path)?;
        file.write_all(line.as_bytes())?;
        file.sync_all()
    }

    /// Every entry in the file, in order. A malformed line (a torn write, a hand edit) is reported in
    /// the second vector with its line number and does not stop the others from being read. A missing
    /// file is an empty log.
    pub fn read_all(&self) -> io::Result<(Vec<AuditEntry>, Vec<String>)> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
            Err(e) => return Err(e),
        };
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let text = match std::str::from_utf8(raw) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("line {n}: not UTF-8: {e}"));
                    continue;
                }
            };
            match serde_json::from_str::<AuditEntry>(text) {
                Ok(entry) => entries.push(entry),
                Err(e) => problems.push(sanitize::clean(&format!("line {n}: {e}"))),
            }
        }
        Ok((entries, problems))
    }

    /// The ROLLBACKs the judge called, from the last `tail` bytes of the log, oldest first: per
    /// service and rollout, the newest `verdict` record of ROLLBACK that names when its rollout
    /// began (kept while a live poll shows the same rollout). Lines that do not parse are
    /// skipped; a missing or unreadable file gives none.
    pub fn rollbacks_called(&self, tail: u64) -> Vec<crate::domain::RollbackCall> {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut file) = fs::File::open(&self.path) else {
            return Vec::new();
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let from = len.saturating_sub(tail);
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(from)).is_err() || file.read_to_end(&mut bytes).is_err() {
            return Vec::new();
        }
        let parse = |s: &str| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        };
        let mut calls: Vec<crate::domain::RollbackCall> = Vec::new();
        // From the middle of the file, the first line is likely cut: it does not parse.
        for raw in bytes.split(|&b| b == b'\n') {
            let Ok(entry) = serde_json::from_slice::<AuditEntry>(raw) else {
                continue;
            };
            let t = &entry.target;
            let call = (entry.phase == Phase::Record
                && entry.action == "verdict"
                && t["verdict"] == "ROLLBACK")
                .then(|| {
                    Some(crate::domain::RollbackCall {
                        service: t["service"].as_str()?.to_string(),
                        at: parse(&entry.at)?,
                        weight: t["weight"].as_f64(),
                        summary: t["summary"].as_str().unwrap_or_default().to_string(),
                        rollout_began: parse(t["rollout_began"].as_str()?)?,
                    })
                })
                .flatten();
            if let Some(c) = call {
                calls.retain(|o| (&o.service, o.rollout_began) != (&c.service, c.rollout_began));
                calls.push(c);
            }
        }
        calls
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

static ID_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh id: wall-clock nanoseconds, process id and a per-process counter, in hex.
pub fn new_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let count = ID_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{nanos:x}-{:x}-{count:x}", std::process::id())
}

/// Now, UTC, to the second: `2026-11-23T09:01:02Z`.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

fn redact_entry(entry: &AuditEntry) -> AuditEntry {
    let mut e = entry.clone();
    e.comment = e.comment.as_deref().map(redact);
    redact_value(&mut e.target);
    if let Some(o) = e.outcome.as_mut() {
        o.detail = redact(&o.detail);
    }
    e
}

fn redact_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            let masked = match crate::redact::redact_whole(s) {
                Cow::Owned(masked) => Some(masked),
                Cow::Borrowed(_) => None,
            };
            if let Some(masked) = masked {
                *s = masked;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_value),
        _ => {}
    }
}

/// Replace every secret [`crate::redact`] knows (GitHub, AWS, Sentry, OpenAI-style and Slack tokens,
/// private key blocks, `Bearer <credential>`, `Authorization:` headers, `token=…`) with `[redacted]`,
/// prefix included: the log's format ([`crate::redact::redact_whole`]).
pub fn redact(s: &str) -> String {
    crate::redact::redact_whole(s).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// A short description of a target: `acme/checkout run 123 → production @ abc1234`. Falls back to
/// the compact JSON of the target when it has none of the usual keys.
fn describe_target(target: &serde_json::Value) -> String {
    let Some(map) = target.as_object() else {
        return match target {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    };
    let text = |key: &str| -> Option<String> {
        match map.get(key)? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(repo) = text("repo") {
        parts.push(repo);
    }
    if let Some(service) = text("service") {
        parts.push(format!("service {service}"));
    }
    if let Some(pr) = text("pr").or_else(|| text("pull_number")) {
        parts.push(format!("PR #{pr}"));
    }
    if let Some(run) = text("run_id") {
        parts.push(format!("run {run}"));
    }
    if let Some(job) = text("job_id") {
        parts.push(format!("job {job}"));
    }
    let mut envs: Vec<String> = text("environment").into_iter().collect();
    if let Some(serde_json::Value::Array(list)) = map.get("environments") {
        envs.extend(list.iter().filter_map(|v| v.as_str()).map(str::to_string));
    }
    if !envs.is_empty() {
        parts.push(format!("→ {}", envs.join(", ")));
    }
    if let Some(v) = text("verdict") {
        match text("previous") {
            Some(p) => parts.push(format!("{p} → {v}")),
            None => parts.push(v),
        }
    }
    if let Some(to) = text("to").or_else(|| text("revision")) {
        parts.push(format!("to {to}"));
    }
    if let Some(sha) = text("sha") {
        parts.push(format!("@ {}", sha.chars().take(7).collect::<String>()));
    }
    if parts.is_empty() {
        return target.to_string();
    }
    parts.join(" ")
}

fn pad(s: &str, width: usize) -> String {
    let w = sanitize::width(s);
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    out
}

/// Entries for `flightdeck audit`, one aligned line each:
/// `2026-11-23T09:01:02Z  intent   approve-deployment  demo-operator  acme/checkout run 123 → production  "ship it"`
/// and, for outcomes, `ok` or `FAILED` with the detail. Every field passes through [`sanitize::clean`].
pub fn format_entries(entries: &[AuditEntry]) -> String {
    struct Row {
        at: String,
        phase: &'static str,
        action: String,
        who: String,
        target: String,
        tail: String,
    }
    let rows: Vec<Row> = entries
        .iter()
        .map(|e| {
            let mut tail = Vec::new();
            if let Some(o) = &e.outcome {
                tail.push(if o.ok {
                    "ok".to_string()
                } else {
                    "FAILED".to_string()
                });
                let detail = sanitize::truncate(&sanitize::clean(&o.detail), 200);
                if !detail.is_empty() {
                    tail.push(detail);
                }
            } else if e.phase == Phase::Outcome {
                tail.push("(no outcome recorded)".to_string());
            }
            if let Some(c) = &e.comment {
                let c = sanitize::truncate(&sanitize::clean(c), 200);
                if !c.is_empty() {
                    tail.push(format!("\"{c}\""));
                }
            }
            Row {
                at: sanitize::truncate(&sanitize::clean(&e.at), 35),
                phase: match e.phase {
                    Phase::Intent => "intent",
                    Phase::Outcome => "outcome",
                    Phase::Record => "record",
                },
                action: sanitize::truncate(&sanitize::clean(&e.action), 32),
                who: sanitize::truncate(&sanitize::clean(&e.who), 39),
                target: sanitize::truncate(&sanitize::clean(&describe_target(&e.target)), 80),
                tail: tail.join("  "),
            }
        })
        .collect();
    let width = |f: fn(&Row) -> &str| {
        rows.iter()
            .map(|r| sanitize::width(f(r)))
            .max()
            .unwrap_or(0)
    };
    let (w_at, w_action, w_who, w_target) = (
        width(|r| &r.at),
        width(|r| &r.action),
        width(|r| &r.who),
        width(|r| &r.target),
    );
    let mut out = String::new();
    for r in &rows {
        let mut line = format!(
            "{}  {}  {}  {}  {}",
            pad(&r.at, w_at),
            pad(r.phase, "outcome".len()),
            pad(&r.action, w_action),
            pad(&r.who, w_who),
            if r.tail.is_empty() {
                r.target.clone()
            } else {
                pad(&r.target, w_target)
            },
        );
        if !r.tail.is_empty() {
            line.push_str("  ");
            line.push_str(&r.tail);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> serde_json::Value {
        json!({"repo": "acme/checkout", "run_id": 123, "environment": "production", "sha": "abc1234def"})
    }

    fn log_in(dir: &tempfile::TempDir) -> AuditLog {
        AuditLog::new(
            dir.path()
                .join("state")
                .join("flightdeck")
                .join("audit.jsonl"),
        )
    }

    #[test]
    fn the_rollbacks_the_judge_called_come_back_from_the_logs_tail() {
        use crate::analysis::canary::Verdict;
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_in(&dir);
        let began = |m: i64| time::OffsetDateTime::from_unix_timestamp(1_790_000_000 + 60 * m).ok();
        let change = |service: &str, to: Verdict, weight: f64, rollout: Option<i64>| {
            crate::ops::exec::verdict_record(&crate::app::msg::VerdictChange {
                service: service.into(),
                environment: "production".into(),
                from: None,
                to,
                score: 0.0,
                weight: Some(weight),
                reasons: vec!["error_rate: …".into()],
                summary: format!("{} at {weight} %", to.label()),
                rollout_began: rollout.and_then(began),
            })
        };
        // A filler line long enough to be cut by the tail read below.
        log.append(&AuditEntry::record(
            "verdict",
            "judge",
            json!({"filler": "x".repeat(600)}),
            None,
        ))
        .expect("append");
        for entry in [
            // checkout: a ROLLBACK in its first rollout, then one in its second; then HOLD.
            change("checkout", Verdict::Rollback, 10.0, Some(0)),
            change("checkout", Verdict::Rollback, 25.0, Some(30)),
            change("checkout", Verdict::Hold, 25.0, Some(30)),
            // payments: a ROLLBACK whose rollout's start the poll did not know — not kept.
            change("payments", Verdict::Rollback, 50.0, None),
            // search: never a ROLLBACK.
            change("search", Verdict::Proceed, 10.0, Some(5)),
        ] {
            log.append(&entry).expect("append");
        }
        // A torn last line is skipped.
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .and_then(|mut f| f.write_all(b"{\"at\": \"2026"))
            .expect("torn line");
        let calls = log.rollbacks_called(u64::MAX);
        // One per service and rollout, oldest first: checkout's two rollouts.
        let seen: Vec<_> = calls
            .iter()
            .map(|c| (c.service.as_str(), Some(c.rollout_began), c.weight))
            .collect();
        assert_eq!(
            seen,
            [
                ("checkout", began(0), Some(10.0)),
                ("checkout", began(30), Some(25.0))
            ]
        );
        assert_eq!(calls[1].summary, "ROLLBACK at 25 %");
        // Only the tail is read: the filler line, cut in half, is skipped, the rest the same.
        let size = std::fs::metadata(log.path()).expect("size").len();
        let tail = log.rollbacks_called(size - 300);
        assert_eq!(tail, calls);
        // A missing log: none.
        assert!(
            AuditLog::new(dir.path().join("none.jsonl"))
                .rollbacks_called(1 << 20)
                .is_empty()
        );
    }

    #[test]
    fn intent_and_outcome_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_in(&dir);
        let intent = AuditEntry::intent(
            "approve-deployment",
            "demo-operator",
            target(),
            Some("canary green for 30 min".to_string()),
        );
        log.append(&intent).expect("append intent");
        let outcome = intent.outcome(true, "HTTP 200");
        log.append(&outcome).expect("append outcome");

        let (entries, problems) = log.read_all().expect("read");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries, vec![intent.clone(), outcome.clone()]);
        assert_eq!(entries[0].id, entries[1].id);
        assert_eq!(entries[0].phase, Phase::Intent);
        assert_eq!(entries[1].phase, Phase::Outcome);

        let text = std::fs::read_to_string(log.path()).expect("read file");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(text.ends_with('\n'));
        assert!(lines[0].contains(r#""phase":"intent""#), "{}", lines[0]);
        assert!(
            !lines[0].contains("outcome"),
            "intent lines carry no outcome: {}",
            lines[0]
        );
        assert!(
            lines[1].contains(r#""outcome":{"ok":true,"detail":"HTTP 200"}"#),
            "{}",
            lines[1]
        );
        assert!(!lines[1].contains("comment"));
    }

    #[test]
    fn missing_file_is_an_empty_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (entries, problems) = log_in(&dir).read_all().expect("read");
        assert!(entries.is_empty() && problems.is_empty());
    }

    #[test]
    fn concurrent_appends_stay_whole_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_in(&dir);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let e = AuditEntry::intent(
                            "rerun-failed-jobs",
                            format!("thread-{t}"),
                            json!({"repo": "acme/checkout", "run_id": i, "padding": "x".repeat(3000)}),
                            Some(format!("{t}/{i}")),
                        );
                        log.append(&e).expect("append");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let (entries, problems) = log.read_all().expect("read");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries.len(), 200);
        let mut ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 200, "ids are unique");
    }

    #[test]
    fn malformed_lines_are_reported_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_in(&dir);
        let first = AuditEntry::intent("cancel-run", "op", target(), None);
        log.append(&first).expect("append");
        let mut f = OpenOptions::new()
            .append(true)
            .open(log.path())
            .expect("open");
        f.write_all(b"{\"at\":\"2026-11-23T09:00:00Z\",\"id\":\"x\",\"pha\n")
            .expect("write");
        f.write_all(b"not json at all \x1b[31m\n\n\xff\xfe\n")
            .expect("write");
        let second = first.outcome(false, "HTTP 403: Must have admin rights to Repository.");
        log.append(&second).expect("append");

        let (entries, problems) = log.read_all().expect("read");
        assert_eq!(entries, vec![first, second]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("line 2:"), "{problems:?}");
        assert!(problems[1].starts_with("line 3:"), "{problems:?}");
        assert!(problems[2].starts_with("line 5:"), "{problems:?}");
        assert!(problems.iter().all(|p| !p.chars().any(char::is_control)));
    }

    #[cfg(unix)]
    #[test]
    fn file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_in(&dir);
        log.append(&AuditEntry::intent("rollback", "op", target(), None))
            .expect("append");
        let mode = std::fs::metadata(log.path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let parent = log.path().parent().expect("parent");
        let mode = std::fs::metadata(parent)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn tokens_are_redacted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_in(&dir);
        let ghp = format!("ghp_{}", "A1b2".repeat(9));
        let pat = format!("github_pat_11ABCDEFG0_{}", "x".repeat(60));
        let ghs = format!("ghs_{}", "Z9".repeat(15));
        let entry = AuditEntry::intent(
            "approve-deployment",
            "op",
            json!({
                "repo": "acme/checkout",
                "note": format!("token={ghp}"),
                "nested": {"list": [pat.clone(), 7, "Authorization: Bearer abc.def-ghi"]},
                "ok": "ghp_short is not a token",
            }),
            Some(format!(
                "deploying with {ghs}, header bearer {}",
                "k".repeat(20)
            )),
        );
        log.append(&entry).expect("append");
        let text = std::fs::read_to_string(log.path()).expect("read");
        for secret in [
            ghp.as_str(),
            pat.as_str(),
            ghs.as_str(),
            "abc.def-ghi",
            "kkkkkkkkkkkkkkkk",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let (entries, _) = log.read_all().expect("read");
        let e = &entries[0];
        assert_eq!(e.target["note"], "token=[redacted]");
        assert_eq!(e.target["nested"]["list"][0], "[redacted]");
        assert_eq!(e.target["nested"]["list"][1], 7);
        assert_eq!(e.target["nested"]["list"][2], "Authorization: [redacted]");
        assert_eq!(e.target["ok"], "ghp_short is not a token");
        assert_eq!(
            e.comment.as_deref(),
            Some("deploying with [redacted], header [redacted]")
        );
        // Prose keeps its words; the entry passed in is not modified.
        assert_eq!(redact("the bearer of bad news"), "the bearer of bad news");
        assert!(entry.comment.as_deref().is_some_and(|c| c.contains(&ghs)));
        assert_eq!(redact("é ghp_ é"), "é ghp_ é");
    }

    #[test]
    fn format_shows_fields_without_control_characters() {
        let mut intent = AuditEntry::intent(
            "approve-deployment",
            "demo-operator",
            target(),
            Some("ship it\u{1b}]0;pwned\u{7}\nnow".to_string()),
        );
        intent.at = "2026-11-23T09:01:02Z".to_string();
        let mut outcome =
            intent.outcome(false, "HTTP 422: \u{1b}[31mNo pending deployments\u{1b}[0m");
        outcome.at = "2026-11-23T09:01:03Z".to_string();
        let mut rerun = AuditEntry::intent(
            "rerun-failed-jobs",
            "someone-else\u{202e}",
            json!({"repo": "acme/web", "run_id": 9, "run_number": 4}),
            None,
        );
        rerun.at = "2026-11-23T09:05:00Z".to_string();
        let rerun_done = rerun.outcome(true, "HTTP 201");

        let out = format_entries(&[intent, outcome, rerun, rerun_done]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(!out.contains('\u{202e}'));
        assert_eq!(
            lines[0],
            "2026-11-23T09:01:02Z  intent   approve-deployment  demo-operator  acme/checkout run 123 → production @ abc1234  \"ship it now\""
        );
        assert!(
            lines[1].starts_with("2026-11-23T09:01:03Z  outcome  approve-deployment"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].ends_with("FAILED  HTTP 422: No pending deployments"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains("rerun-failed-jobs   someone-else   acme/web run 9"),
            "{out}"
        );
        assert!(lines[3].ends_with("ok  HTTP 201"), "{}", lines[3]);
        // Columns line up: the target column starts at the same place on every line.
        let col = |l: &str, needle: &str| l.find(needle).map(|b| l[..b].chars().count());
        assert_eq!(col(lines[0], "acme/"), col(lines[2], "acme/"));
        assert_eq!(format_entries(&[]), "");
    }

    #[test]
    fn ids_and_times() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() || c == '-'), "{a}");
        let now = now_rfc3339();
        assert!(
            time::OffsetDateTime::parse(&now, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{now}"
        );
        assert!(
            now.ends_with('Z') && now.len() == "2026-11-23T09:01:02Z".len(),
            "{now}"
        );
        assert_eq!(operator(Some("octocat")), "octocat");
        assert!(!operator(None).is_empty());
        assert!(!operator(Some("  ")).is_empty());
    }
}
