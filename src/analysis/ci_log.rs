//! Failed-job log triage: from the raw text of a GitHub Actions job log to the few excerpts an on-call
//! engineer reads first, and one summary line.
//!
//! Pure and deterministic, no I/O, one linear pass and no regular expressions:
//! 1. Each line is cleaned ([`clean_line`]: timestamp prefix, escape sequences and control characters
//!    gone) and classified by its `##[…]` marker.
//! 2. Lines that matter (anchors) are found with hand-written matchers for the usual failure shapes of
//!    Jest, rustc/cargo, pytest, go test, Python, Node, npm, make, the linker and the kernel (OOM,
//!    segfault), each scored by how specific it is.
//! 3. Anchors are de-duplicated on a normalised text (numbers, hex ids and line:col masked), so a
//!    failure that repeats counts its repeats instead of filling the list.
//! 4. Each anchor gets a window of context (3 before, 6 after, kept inside its step); overlapping and
//!    adjacent windows merge. Real failures come first in log order, generic noise (`npm ERR!`, `exit
//!    code 1`) after them and the runner's closing `Process completed with exit code N.` last.
//!
//! Groups: in a job log every step opens with `##[group]Run …` holding the step's header, and the
//! step's output follows the `##[endgroup]`. A line therefore belongs to the most recent group that
//! was opened (the step it came from); lines before the first group belong to none.

use std::collections::HashMap;

use crate::sanitize;

/// One cleaned log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub text: String,
    pub kind: LineKind,
    /// Index into [`Triage::groups`]: the most recent `##[group]` opened before (or on) this line.
    pub group: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Normal,
    GroupStart,
    Error,
    Warning,
    Command,
    Debug,
}

/// A window of lines around one failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Excerpt {
    /// The line that matters most in the window (index into [`Triage::lines`]).
    pub anchor: usize,
    pub start: usize,
    /// Exclusive.
    pub end: usize,
    /// A short label: the exception type ("TypeError"), "compiler error", "test failure", "exit code 1", …
    pub reason: String,
    /// How many more times the same anchor text (normalised) appeared later in the log.
    pub repeats: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    pub lines: Vec<LogLine>,
    pub groups: Vec<String>,
    /// First failure first; the runner's closing exit-code line last. At most [`MAX_EXCERPTS`].
    pub excerpts: Vec<Excerpt>,
    /// One line: the first failure, with its first stack frame's `file:line` when one follows.
    pub summary: Option<String>,
}

/// Most excerpts returned by [`triage`].
pub const MAX_EXCERPTS: usize = 10;
const BEFORE: usize = 3;
const AFTER: usize = 6;
/// How far past an exception line to look for its first stack frame (Jest prints a code frame between).
const FRAME_LOOKAHEAD: usize = 16;
/// How far a Python traceback may run before its exception line.
const TRACEBACK_LOOKAHEAD: usize = 200;
const SUMMARY_MAX: usize = 300;

// Scores: how specific an anchor is. The best anchor of a window names it.
const S_FINAL: u8 = 0; // "Process completed with exit code N." — the runner's closing line
const S_GENERIC: u8 = 1; // npm ERR!, "exit code 2", make: ***
const S_ANNOTATION: u8 = 2; // a bare ##[error] with nothing more specific
const S_TEST: u8 = 3; // FAIL, FAILED, ✕, ●, --- FAIL:, "2 failed"
const S_SPECIFIC: u8 = 4; // error:, fatal:, segfault, OOM, timed out, Traceback, assertion failed
const S_EXCEPTION: u8 = 5; // TypeError: …, error[E0308], panicked at, pytest E lines

/// Strip the timestamp prefix, escape sequences, other control characters and trailing whitespace.
pub fn clean_line(raw: &str) -> String {
    let s = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let s = s.trim_end_matches(['\n', '\r']);
    let s = strip_timestamp(s);
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    // Every line goes through the sanitizer, plain ASCII too: it masks token-shaped secrets.
    let cleaned = sanitize::clean(s);
    let trimmed_len = cleaned.trim_end().len();
    let mut cleaned = cleaned;
    cleaned.truncate(trimmed_len);
    cleaned
}

/// `2026-11-23T09:00:03.1234567Z ` and friends (any fraction, `Z` or an offset, or none) at the start.
fn strip_timestamp(s: &str) -> &str {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    if !(digits(0, 4)
        && b.get(4) == Some(&b'-')
        && digits(5, 2)
        && b.get(7) == Some(&b'-')
        && digits(8, 2)
        && matches!(b.get(10), Some(b'T' | b' '))
        && digits(11, 2)
        && b.get(13) == Some(&b':')
        && digits(14, 2)
        && b.get(16) == Some(&b':')
        && digits(17, 2))
    {
        return s;
    }
    let mut i = 19;
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i += 1,
        Some(b'+' | b'-') if digits(i + 1, 2) => {
            i += 3;
            if b.get(i) == Some(&b':') {
                i += 1;
            }
            if digits(i, 2) {
                i += 2;
            }
        }
        _ => {}
    }
    match b.get(i) {
        None => "",
        // A date-time that runs on into other text is not a prefix.
        Some(b' ') => &s[i + 1..],
        Some(b'\t') => &s[i + 1..],
        Some(_) => s,
    }
}

/// Triage a raw job log.
pub fn triage(raw: &str) -> Triage {
    let mut lines: Vec<LogLine> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    // Where each group's lines start, and whether it is a step header (`Run …` holding `shell:`).
    let mut group_first: Vec<usize> = Vec::new();
    let mut header_groups: Vec<bool> = Vec::new();
    let mut current: Option<usize> = None;
    let mut open = false;
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut prev_pytest_e = false;

    for raw_line in raw.lines() {
        let (kind, text) = split_marker(clean_line(raw_line));
        let Some(kind) = kind else {
            // ##[endgroup]
            open = false;
            prev_pytest_e = false;
            continue;
        };
        let index = lines.len();
        if kind == LineKind::GroupStart {
            current = Some(groups.len());
            groups.push(text.clone());
            group_first.push(index);
            header_groups.push(false);
            open = true;
        } else if open
            && let Some(g) = current
            && (text.starts_with("shell: ") || text == "with:" || text == "env:")
            && groups.get(g).is_some_and(|name| name.starts_with("Run "))
            && let Some(h) = header_groups.get_mut(g)
        {
            *h = true;
        }
        if matches!(kind, LineKind::Normal | LineKind::Error) {
            let is_e = is_pytest_e(&text);
            if let Some((score, reason)) = classify(&text, kind, prev_pytest_e) {
                candidates.push(Candidate {
                    line: index,
                    score,
                    reason,
                    header: if open { current } else { None },
                });
            }
            prev_pytest_e = is_e;
        } else {
            prev_pytest_e = false;
        }
        lines.push(LogLine {
            text,
            kind,
            group: current,
        });
    }
    // A step header shows the script that will run, not what failed: drop what matched in headers
    // (known to be headers only once their `shell:` line has been read).
    candidates.retain(|c| {
        !c.header
            .is_some_and(|g| header_groups.get(g).copied().unwrap_or(false))
    });

    let excerpts = build_excerpts(&lines, &group_first, candidates);
    let summary = excerpts
        .first()
        .map(|e| summarize(&lines, e))
        .filter(|s| !s.is_empty());
    Triage {
        lines,
        groups,
        excerpts,
        summary,
    }
}

struct Candidate {
    line: usize,
    score: u8,
    reason: String,
    /// The group whose `##[endgroup]` had not been read yet when this line was.
    header: Option<usize>,
}

/// Whether [`triage`] drops this cleaned line ([`clean_line`]'s output) instead of keeping it in
/// [`Triage::lines`]: only `##[endgroup]` markers are dropped, so every other line of the input is a
/// `LogLine`, in order, and callers can map a `LogLine` index back to its input line.
pub fn is_dropped(cleaned: &str) -> bool {
    cleaned.starts_with("##[endgroup]")
}

/// The `##[…]` marker of a cleaned line. `None` for `##[endgroup]` (dropped).
fn split_marker(text: String) -> (Option<LineKind>, String) {
    // The runner writes commands it runs itself as `[command]…` (no `##`); accept both spellings.
    if let Some(cmd) = text.strip_prefix("[command]") {
        return (Some(LineKind::Command), cmd.to_string());
    }
    let Some(rest) = text.strip_prefix("##[") else {
        return (Some(LineKind::Normal), text);
    };
    let Some(close) = rest.find(']') else {
        return (Some(LineKind::Normal), text);
    };
    let body = rest[close + 1..].to_string();
    let kind = match &rest[..close] {
        "group" => LineKind::GroupStart,
        "endgroup" => return (None, String::new()),
        "error" => LineKind::Error,
        "warning" => LineKind::Warning,
        "command" => LineKind::Command,
        "debug" => LineKind::Debug,
        "notice" | "section" | "info" => LineKind::Normal,
        _ => return (Some(LineKind::Normal), text),
    };
    (Some(kind), body)
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/// Which bytes a line contains: a cheap necessary condition before any substring search.
struct ByteSet([bool; 256]);

impl ByteSet {
    fn of(s: &str) -> ByteSet {
        let mut seen = [false; 256];
        for &b in s.as_bytes() {
            seen[b as usize] = true;
        }
        ByteSet(seen)
    }
    fn has(&self, b: u8) -> bool {
        self.0[b as usize]
    }
    fn has_all(&self, bs: &[u8]) -> bool {
        bs.iter().all(|&b| self.has(b))
    }
    fn non_ascii(&self) -> bool {
        self.0[128..].iter().any(|&b| b)
    }
}

/// How common each byte is in log text (higher: more common). Substring searches scan for the
/// needle's rarest byte, so they stop at few candidate positions.
const COMMONNESS: [u8; 256] = {
    const LOWER_BY_FREQUENCY: &[u8] = b"zqjxkvbpygfwmucldrhsnioate";
    let mut t = [50u8; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = 70;
        b += 1;
    }
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = 90;
        d += 1;
    }
    let mut u = b'A';
    while u <= b'Z' {
        t[u as usize] = 60;
        u += 1;
    }
    let mut i = 0;
    while i < LOWER_BY_FREQUENCY.len() {
        t[LOWER_BY_FREQUENCY[i] as usize] = 100 + 4 * i as u8;
        i += 1;
    }
    t[b' ' as usize] = 255;
    t
};

/// Substring search without set-up cost (lines are short; building a `memmem::Finder` per call costs
/// more than the search): `memchr` for the needle's rarest byte, then an inline compare.
#[inline(always)]
fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return if needle.is_empty() { Some(0) } else { None };
    }
    let mut rare = 0;
    for (i, &b) in needle.iter().enumerate() {
        if COMMONNESS[b as usize] < COMMONNESS[needle[rare] as usize] {
            rare = i;
        }
    }
    let last_start = hay.len() - needle.len();
    let mut from = rare;
    while from < hay.len() {
        let p = memchr::memchr(needle[rare], &hay[from..])?;
        let at = from + p - rare;
        if at > last_start {
            return None;
        }
        if hay[at..at + needle.len()]
            .iter()
            .zip(needle)
            .all(|(a, b)| a == b)
        {
            return Some(at);
        }
        from = from + p + 1;
    }
    None
}

#[inline(always)]
fn find(hay: &str, needle: &str) -> Option<usize> {
    find_bytes(hay.as_bytes(), needle.as_bytes())
}

#[inline(always)]
fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `word` occurs in `s` with no word character (nor `=`, `-`) directly around it.
fn has_word(s: &str, word: &str) -> bool {
    word_at(s, word).is_some()
}

fn word_at(s: &str, word: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(p) = find_bytes(&b[from..], word.as_bytes()) {
        let at = from + p;
        let end = at + word.len();
        let before_ok = at == 0 || !(is_word_byte(b[at - 1]) || matches!(b[at - 1], b'=' | b'-'));
        let after_ok = end >= b.len() || !(is_word_byte(b[end]) || b[end] == b'=');
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// pytest's exception lines: `E       AssertionError: assert 3 == 4`.
fn is_pytest_e(text: &str) -> bool {
    text.strip_prefix("E   ")
        .is_some_and(|rest| !rest.trim().is_empty())
}

/// The text anchors are compared on: pytest's `E` prefix dropped, then [`normalise`]d.
fn dedup_key(text: &str) -> String {
    let t = if is_pytest_e(text) { &text[1..] } else { text };
    normalise(t.trim())
}

/// The number right after `prefix` in `s`, when it is a non-zero exit code.
fn nonzero_code_after(s: &str, prefix: &str) -> Option<String> {
    let mut from = 0;
    while let Some(p) = find(&s[from..], prefix) {
        let at = from + p + prefix.len();
        let digits: String = s[at..].chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && !digits.bytes().all(|d| d == b'0') {
            return Some(digits.trim_start_matches('0').to_string());
        }
        from = at;
    }
    None
}

fn exit_code(s: &str, set: &ByteSet) -> Option<String> {
    if !set.has(b'x') || !contains(s, "xit") {
        return None;
    }
    for prefix in [
        "exit code ",
        "exit code: ",
        "exit status ",
        "Exit status ",
        "exited with code ",
        "Exit code ",
    ] {
        if let Some(code) = nonzero_code_after(s, prefix) {
            return Some(code);
        }
    }
    None
}

/// The runner's closing line for a failed step.
fn process_completed(text: &str) -> Option<String> {
    let t = text.strip_prefix("Error: ").unwrap_or(text);
    let rest = t.strip_prefix("Process completed with exit code ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.bytes().all(|d| d == b'0') {
        return None;
    }
    Some(digits)
}

/// An exception type at a word boundary: `TypeError: …`, `java.lang.IllegalStateException: …`,
/// `AssertionError` at the end of the line, `AssertionError [ERR_ASSERTION]: …`, `Exception in thread`.
fn exception_type(s: &str, set: &ByteSet) -> Option<String> {
    if !set.has(b'E') {
        return None;
    }
    let b = s.as_bytes();
    let mut fallback: Option<String> = None;
    for suffix in ["Error", "Exception"] {
        if suffix == "Exception" && !set.has(b'x') {
            continue;
        }
        let mut from = 0;
        while let Some(p) = find_bytes(&b[from..], suffix.as_bytes()) {
            let at = from + p;
            let end = at + suffix.len();
            from = at + 1;
            let rest = &s[end..];
            let after_ok = rest.is_empty()
                || rest.starts_with(": ")
                || rest == ":"
                || (rest.starts_with(" [") && rest.contains("]:"))
                || (suffix == "Exception" && rest.starts_with(" in thread"));
            if !after_ok {
                continue;
            }
            // Walk back over the identifier (dotted for Java/Python module paths).
            let mut start = at;
            while start > 0
                && (is_word_byte(b[start - 1]) || b[start - 1] == b'.' || b[start - 1] == b'$')
            {
                start -= 1;
            }
            let ident = s[start..end].trim_start_matches('.');
            let last = ident.rsplit(['.', '$']).next().unwrap_or(ident);
            if !last.as_bytes().first().is_some_and(u8::is_ascii_uppercase) {
                continue;
            }
            let before = s[..start].trim_end();
            if before.ends_with("raise") || before.ends_with("throw") || before.ends_with("new") {
                continue;
            }
            // "Errors: 0"-like counters never reach here (the suffix must end the word), but a bare
            // type at the end of prose ("no Error") should: require start of line, a separator or
            // a "file:line: " location before a type that ends the line.
            if rest.is_empty()
                && !(before.is_empty() || before.ends_with(':') || fallback.is_some())
            {
                continue;
            }
            if rest.starts_with(" in thread") {
                // `Exception in thread "main" java.lang.RuntimeException`: the type named later wins.
                fallback.get_or_insert_with(|| last.to_string());
                continue;
            }
            return Some(last.to_string());
        }
    }
    fallback
}

/// `error:` as a word, as compilers, git and cargo print it (not `errors: 0`, not `canary_error:`).
fn error_colon(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(p) = find_bytes(&b[from..], b"error:") {
        let at = from + p;
        from = at + 1;
        let before_ok = at == 0 || matches!(b[at - 1], b' ' | b':' | b']' | b'(' | b'[' | b'\t');
        let after = b.get(at + 6);
        let after_ok = after.is_none() || after == Some(&b' ');
        if !(before_ok && after_ok) {
            continue;
        }
        let rest = s[at + 6..].trim_start();
        if rest.starts_with('0') && !rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
            continue; // "error: 0"
        }
        let located = at > 0
            && b[at - 1] == b' '
            && s[..at - 1].ends_with(':')
            && location(&s[..at]).is_some();
        if located
            || s[at..].starts_with("error: could not compile")
            || s[at..].starts_with("error: aborting")
        {
            return Some("compiler error");
        }
        return Some("error");
    }
    None
}

/// `error[E0308]` (rustc), `error TS2322:` (tsc), `error CS1002:` (C#).
fn compiler_code(s: &str, set: &ByteSet) -> bool {
    if set.has_all(b"[E") {
        let mut from = 0;
        while let Some(p) = find(&s[from..], "error[E") {
            let at = from + p + "error[E".len();
            let digits = s[at..].bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && s[at + digits..].starts_with(']') {
                return true;
            }
            from = at;
        }
    }
    let mut from = 0;
    while let Some(p) = find(&s[from..], "error ") {
        let at = from + p + "error ".len();
        from = at;
        let letters = s[at..].bytes().take_while(u8::is_ascii_uppercase).count();
        let digits = s[at + letters..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if (1..=4).contains(&letters) && digits >= 3 && s[at + letters + digits..].starts_with(':')
        {
            return true;
        }
    }
    false
}

/// `N failed` / `N failing` with N > 0 ("Tests: 2 failed", "=== 1 failed, 3 passed ===", mocha).
fn nonzero_failed(s: &str, set: &ByteSet) -> bool {
    if !set.has_all(b"fil") {
        return false;
    }
    for word in [" failed", " failing"] {
        let mut from = 0;
        while let Some(p) = find(&s[from..], word) {
            let at = from + p;
            from = at + 1;
            let end = at + word.len();
            if s.as_bytes().get(end).is_some_and(|&c| is_word_byte(c)) {
                continue;
            }
            let num = &s[..at];
            let digits = num.bytes().rev().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                continue;
            }
            let n = &num[num.len() - digits..];
            let boundary =
                num.len() == digits || !is_word_byte(num.as_bytes()[num.len() - digits - 1]);
            if boundary && n.bytes().any(|d| d != b'0') {
                return true;
            }
        }
    }
    false
}

/// Score and label a cleaned line, or `None` if it is not a line that matters.
fn classify(text: &str, kind: LineKind, prev_pytest_e: bool) -> Option<(u8, String)> {
    if kind == LineKind::Error
        && let Some(code) = process_completed(text)
    {
        return Some((S_FINAL, format!("exit code {code}")));
    }
    let found = classify_text(text, prev_pytest_e);
    if kind == LineKind::Error {
        return Some(match found {
            Some((score, reason)) if score >= S_ANNOTATION => (score, reason),
            Some((_, reason)) => (S_ANNOTATION, reason),
            None => (S_ANNOTATION, "error".to_string()),
        });
    }
    found
}

fn classify_text(text: &str, prev_pytest_e: bool) -> Option<(u8, String)> {
    if text.is_empty() {
        return None;
    }
    let set = ByteSet::of(text);
    let t = text.trim();
    let s = |r: &str| r.to_string();

    // --- the most specific: exceptions, compiler errors, panics, pytest's E lines
    // One probe for the lower-case "error" shared by the matchers that need it.
    let lower_error = set.has_all(b"ro") && contains(text, "rror");
    if lower_error && compiler_code(text, &set) {
        return Some((S_EXCEPTION, s("compiler error")));
    }
    if set.has_all(b"pnc") && (contains(text, "panicked at") || t.starts_with("panic: ")) {
        return Some((S_EXCEPTION, s("panic")));
    }
    if is_pytest_e(text) {
        if prev_pytest_e {
            return None; // a continuation of the same message
        }
        let body = text[1..].trim();
        let reason = if let Some(ty) = exception_type(body, &ByteSet::of(body)) {
            ty
        } else if body.starts_with("assert") {
            s("assertion failed")
        } else {
            s("test failure")
        };
        return Some((S_EXCEPTION, reason));
    }
    let code = exit_code(text, &set);
    if let Some(ty) = exception_type(text, &set) {
        if ty == "Error"
            && let Some(code) = &code
        {
            return Some((S_SPECIFIC, format!("exit code {code}")));
        }
        return Some((S_EXCEPTION, ty));
    }

    // --- specific failures
    if set.has_all(b"Tkb") && contains(text, "Traceback (most recent call last)") {
        return Some((S_SPECIFIC, s("Python traceback")));
    }
    if set.has_all(b"sfd") {
        let lower_has = |w: &str| contains(text, w);
        if (lower_has("ssertion") && (lower_has(" failed") || lower_has("` failed")))
            || lower_has("Assertion failed")
            || lower_has("assertion failed")
        {
            return Some((S_SPECIFIC, s("assertion failed")));
        }
    }
    if set.has_all(b"Sgf") && contains(text, "Segmentation fault") {
        return Some((S_SPECIFIC, s("segmentation fault")));
    }
    if set.has_all(b"udr") && contains(text, "undefined reference") {
        return Some((S_SPECIFIC, s("link error")));
    }
    if (set.has_all(b"OM") && (has_word(text, "OOM") || contains(text, "OOMKill")))
        || (set.has_all(b"myo") && contains(text, "ut of memory"))
    {
        return Some((S_SPECIFIC, s("out of memory")));
    }
    if set.has(b'K') && has_word(text, "Killed") {
        return Some((S_SPECIFIC, s("killed")));
    }
    if set.has_all(b"mdu")
        && let Some(p) = find(text, "imed out")
        && p > 0
        && matches!(text.as_bytes()[p - 1], b't' | b'T')
    {
        // "0 timed out" in a summary is not a timeout.
        let before = text[..p - 1].trim_end();
        if !(before.ends_with(" 0") || before == "0") {
            return Some((S_SPECIFIC, s("timeout")));
        }
    }
    if set.has_all(b"xmu") && contains(text, "exceeded the maximum execution time") {
        return Some((S_SPECIFIC, s("timeout")));
    }
    if set.has_all(b"ftl:") && (t.starts_with("fatal:") || contains(text, " fatal:")) {
        return Some((S_SPECIFIC, s("fatal")));
    }
    if set.has_all(b"FTL") && has_word(text, "FATAL") {
        return Some((S_SPECIFIC, s("fatal")));
    }
    if set.has(b'N') && contains(text, "No such file or directory") {
        return Some((S_SPECIFIC, s("missing file")));
    }
    if set.has_all(b"nfd") && contains(text, "annot find") {
        return Some((S_SPECIFIC, s("not found")));
    }
    if lower_error
        && set.has(b':')
        && let Some(reason) = error_colon(text)
    {
        return Some((S_SPECIFIC, s(reason)));
    }
    if set.has_all(b"ERO") && has_word(text, "ERROR") {
        return Some((S_SPECIFIC, s("error")));
    }

    // --- test failures
    if set.has_all(b"FAIL") {
        if t.starts_with("--- FAIL:")
            || t == "FAIL"
            || t.starts_with("FAIL ")
            || t.starts_with("FAIL:")
        {
            return Some((S_TEST, s("test failure")));
        }
        if has_word(text, "FAILED") {
            let zero =
                word_at(text, "FAILED").is_some_and(|p| text[..p].trim_end().ends_with(" 0"));
            if !zero {
                let label = if contains(text, "BUILD FAILED") {
                    "build failed"
                } else {
                    "test failure"
                };
                return Some((S_TEST, s(label)));
            }
        }
        if has_word(text, "FAILURES") {
            return Some((S_TEST, s("test failure")));
        }
    }
    if set.non_ascii() {
        for marker in ['✕', '✗', '✘', '×'] {
            if t.starts_with(marker) {
                return Some((S_TEST, s("test failure")));
            }
        }
        if let Some(rest) = t.strip_prefix('●')
            && !rest.trim_start().starts_with("Console")
            && !rest.trim().is_empty()
        {
            return Some((S_TEST, s("test failure")));
        }
    }
    if nonzero_failed(text, &set) {
        return Some((S_TEST, s("test failure")));
    }

    // --- generic
    if let Some(code) = code {
        return Some((S_GENERIC, format!("exit code {code}")));
    }
    if set.has_all(b"npm") && (t.starts_with("npm ERR!") || t.starts_with("npm error ")) {
        return Some((S_GENERIC, s("npm error")));
    }
    if set.has_all(b"mk*") && t.starts_with("make") && contains(text, ": ***") {
        return Some((S_GENERIC, s("make failed")));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// De-duplication
// ---------------------------------------------------------------------------------------------

/// Mask what varies between repeats of one failure: numbers (line:col, counts, durations, timestamps)
/// and hex ids; collapse whitespace. Words without digits stay ("bad", "cafe").
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.is_empty() {
            return;
        }
        let has_digit = token.bytes().any(|b| b.is_ascii_digit());
        let hexish = token.bytes().all(|b| b.is_ascii_hexdigit())
            || (token.starts_with("0x") && token[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        if has_digit && hexish {
            out.push('#');
        } else {
            let mut last_hash = false;
            for c in token.chars() {
                if c.is_ascii_digit() {
                    if !last_hash {
                        out.push('#');
                    }
                    last_hash = true;
                } else {
                    out.push(c);
                    last_hash = false;
                }
            }
        }
        token.clear();
    };
    let mut last_space = true;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            token.push(c);
            last_space = false;
        } else {
            flush(&mut token, &mut out);
            if c.is_whitespace() {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
            } else {
                out.push(c);
                last_space = false;
            }
        }
    }
    flush(&mut token, &mut out);
    let len = out.trim_end().len();
    out.truncate(len);
    out
}

// ---------------------------------------------------------------------------------------------
// Windows
// ---------------------------------------------------------------------------------------------

struct Anchor {
    line: usize,
    score: u8,
    reason: String,
    repeats: usize,
}

struct Window {
    start: usize,
    end: usize,
    group: Option<usize>,
    /// Index into the anchors of the best (most specific, then earliest) anchor inside.
    best: usize,
}

fn build_excerpts(
    lines: &[LogLine],
    group_first: &[usize],
    candidates: Vec<Candidate>,
) -> Vec<Excerpt> {
    if candidates.is_empty() {
        return Vec::new();
    }
    // Every closing "Process completed" line ends its step: no window of an earlier failure runs past it.
    let finals_at: Vec<usize> = candidates
        .iter()
        .filter(|c| c.score == S_FINAL)
        .map(|c| c.line)
        .collect();

    let mut anchors: Vec<Anchor> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for c in candidates {
        let key = dedup_key(&lines[c.line].text);
        if let Some(&first) = seen.get(&key) {
            anchors[first].repeats += 1;
            continue;
        }
        seen.insert(key, anchors.len());
        anchors.push(Anchor {
            line: c.line,
            score: c.score,
            reason: c.reason,
            repeats: 0,
        });
    }

    // Bounds of the group a line belongs to (groups are contiguous runs of lines).
    let group_bounds = |line: usize| -> (usize, usize) {
        match lines[line].group {
            None => (0, group_first.first().copied().unwrap_or(lines.len())),
            Some(g) => (
                group_first.get(g).copied().unwrap_or(0),
                group_first.get(g + 1).copied().unwrap_or(lines.len()),
            ),
        }
    };
    let next_final = |line: usize| -> usize {
        let i = finals_at.partition_point(|&f| f <= line);
        finals_at.get(i).copied().unwrap_or(lines.len())
    };
    // …and no window reaches back past the closing line of an earlier step.
    let after_prev_final = |line: usize| -> usize {
        let i = finals_at.partition_point(|&f| f < line);
        if i == 0 { 0 } else { finals_at[i - 1] + 1 }
    };

    let mut windows: Vec<Window> = Vec::new();
    let mut finals: Vec<usize> = Vec::new();
    for (ai, a) in anchors.iter().enumerate() {
        if a.score == S_FINAL {
            finals.push(ai);
            continue;
        }
        let (g_start, g_end) = group_bounds(a.line);
        let limit = g_end.min(next_final(a.line));
        let start = a
            .line
            .saturating_sub(BEFORE)
            .max(g_start)
            .max(after_prev_final(a.line));
        let mut end = (a.line + 1 + AFTER).min(limit);
        if a.reason == "Python traceback" {
            if let Some(exc) = traceback_end(lines, a.line, limit) {
                end = end.max(exc + 1);
            }
        } else if a.score == S_EXCEPTION
            && location(&lines[a.line].text).is_none()
            && let Some(frame) = (a.line + 1..(a.line + 1 + FRAME_LOOKAHEAD).min(limit))
                .find(|&i| frame_location(&lines[i].text).is_some())
        {
            end = end.max(frame + 1);
        }
        let w = Window {
            start,
            end,
            group: lines[a.line].group,
            best: ai,
        };
        match windows.last_mut() {
            Some(last) if w.start < last.end || (w.start == last.end && w.group == last.group) => {
                last.end = last.end.max(w.end);
                let cur = &anchors[last.best];
                if a.score > cur.score {
                    last.best = ai;
                }
            }
            _ => windows.push(w),
        }
    }

    let to_excerpt = |w: &Window| {
        let a = &anchors[w.best];
        Excerpt {
            anchor: a.line,
            start: w.start,
            end: w.end,
            reason: a.reason.clone(),
            repeats: a.repeats,
        }
    };
    let mut real: Vec<Excerpt> = Vec::new();
    let mut generic: Vec<Excerpt> = Vec::new();
    for w in &windows {
        if anchors[w.best].score >= S_ANNOTATION {
            real.push(to_excerpt(w));
        } else {
            generic.push(to_excerpt(w));
        }
    }
    let mut out = real;
    out.append(&mut generic);

    let mut closing: Vec<Excerpt> = Vec::new();
    for &ai in &finals {
        let a = &anchors[ai];
        let (g_start, _) = group_bounds(a.line);
        // Context before the closing line, but not what an earlier excerpt already shows. Nothing
        // after it: the closing line ends its step, and what follows ("Post job cleanup.") is not
        // grouped by the runner.
        let shown_until = windows
            .iter()
            .filter(|w| w.start <= a.line)
            .map(|w| w.end)
            .max()
            .unwrap_or(0);
        let start = a
            .line
            .saturating_sub(BEFORE)
            .max(g_start)
            .max(after_prev_final(a.line))
            .max(shown_until.min(a.line));
        let end = a.line + 1;
        closing.push(Excerpt {
            anchor: a.line,
            start,
            end,
            reason: a.reason.clone(),
            repeats: a.repeats,
        });
    }
    // The first closing line always stays (it is the one the step failed on); later ones if there is room.
    out.truncate(MAX_EXCERPTS - closing.len().min(1));
    let room = MAX_EXCERPTS - out.len();
    out.extend(closing.into_iter().take(room));
    out
}

/// The exception line that ends a Python traceback starting at `from`.
fn traceback_end(lines: &[LogLine], from: usize, limit: usize) -> Option<usize> {
    let end = (from + 1 + TRACEBACK_LOOKAHEAD).min(limit);
    (from + 1..end).find(|&i| {
        let t = &lines[i].text;
        !t.is_empty()
            && !t.starts_with(' ')
            && !t.starts_with("Traceback")
            && !t.starts_with("During handling")
            && !t.starts_with("The above exception")
    })
}

// ---------------------------------------------------------------------------------------------
// Locations and the summary
// ---------------------------------------------------------------------------------------------

/// `path:line` from the first `path.ext:line[:col]` in `s` (the path has an extension of letters).
fn location(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(p) = memchr::memchr(b':', &b[from..]) {
        let colon = from + p;
        from = colon + 1;
        let digits = b[colon + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            continue;
        }
        // The path: back to whitespace or an opening bracket/quote.
        let start = s[..colon]
            .char_indices()
            .rev()
            .find(|&(_, c)| {
                c.is_whitespace() || matches!(c, '(' | '[' | '"' | '\'' | '<' | '>' | ',')
            })
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        let path = s[start..colon].trim_start_matches("file://");
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let Some(dot) = name.rfind('.') else {
            continue;
        };
        let ext = &name[dot + 1..];
        if dot == 0
            || ext.is_empty()
            || ext.len() > 6
            || !ext.bytes().all(|c| c.is_ascii_alphabetic())
        {
            continue;
        }
        return Some(format!("{path}:{}", &s[colon + 1..colon + 1 + digits]));
    }
    None
}

/// A stack-frame line's location: `at fn (path:line:col)` (JS/Java), ` --> path:line:col` (rustc),
/// `File "path", line N` (Python), or a line that starts with `path:line` (pytest, go, C).
fn frame_location(line: &str) -> Option<String> {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("at ") {
        return location(rest);
    }
    if let Some(rest) = t.strip_prefix("--> ") {
        return location(rest);
    }
    if let Some(loc) = python_frame(t) {
        return Some(loc);
    }
    let first = t.split_whitespace().next()?;
    if first.contains(':') {
        return location(first);
    }
    None
}

fn python_frame(t: &str) -> Option<String> {
    let rest = t.strip_prefix("File \"")?;
    let q = rest.find('"')?;
    let path = &rest[..q];
    let after = rest[q + 1..].strip_prefix(", line ")?;
    let n: String = after.chars().take_while(char::is_ascii_digit).collect();
    if n.is_empty() {
        return None;
    }
    Some(format!("{path}:{n}"))
}

fn in_app(loc: &str) -> bool {
    !(loc.contains("node_modules")
        || loc.starts_with("node:")
        || loc.starts_with("internal/")
        || loc.contains("site-packages")
        || loc.starts_with("/rustc/")
        || loc.contains("/.cargo/registry/")
        || loc.contains("/usr/lib/"))
}

fn summarize(lines: &[LogLine], e: &Excerpt) -> String {
    let anchor_text = lines[e.anchor].text.trim();
    let text = if is_pytest_e(&lines[e.anchor].text) {
        anchor_text[1..].trim()
    } else {
        anchor_text
    };
    let mut summary = text.to_string();

    if text.starts_with("--- FAIL:") {
        // go test: the test's own message sits just above, as `    x_test.go:42: got 1, want 2`.
        if let Some(msg) = (e.start..e.anchor)
            .rev()
            .map(|i| lines[i].text.trim())
            .find(|t| {
                !t.starts_with("---")
                    && !t.starts_with("===")
                    && t.split(' ').next().is_some_and(|w| w.contains(".go:"))
            })
        {
            summary = format!("{text}: {msg}");
        }
    } else if location(text).is_none() {
        // Python prints the frames before the exception; the last one is where it was raised.
        let before = (e.start..e.anchor)
            .rev()
            .find_map(|i| python_frame(lines[i].text.trim_start()));
        let after = || {
            let frames: Vec<String> = (e.anchor + 1..e.end)
                .filter_map(|i| frame_location(&lines[i].text))
                .collect();
            frames
                .iter()
                .find(|l| in_app(l))
                .or_else(|| frames.first())
                .cloned()
        };
        if let Some(loc) = before.or_else(after) {
            summary = format!("{text} at {loc}");
        }
    }
    sanitize::truncate(&summary, SUMMARY_MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_in_plain_log_lines_are_masked() {
        let t = triage(
            "2026-11-23T09:00:01.0000000Z export GH_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n\
             2026-11-23T09:00:02.0000000Z aws AKIAIOSFODNN7EXAMPLE\n",
        );
        let text: Vec<&str> = t.lines.iter().map(|l| l.text.as_str()).collect();
        assert!(
            text.iter()
                .all(|l| !l.contains("abcdefghijklmnop") && !l.contains("IOSFODNN7")),
            "{text:?}"
        );
    }

    use super::*;

    const TS: &str = "2026-11-23T09:00:03.1234567Z ";

    fn log(lines: &[&str]) -> String {
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            out.push_str(&format!(
                "2026-11-23T09:00:{:02}.{:07}Z {l}\r\n",
                i % 60,
                i * 7919 % 10_000_000
            ));
        }
        out
    }

    fn excerpt_texts(t: &Triage, e: &Excerpt) -> Vec<String> {
        t.lines[e.start..e.end]
            .iter()
            .map(|l| l.text.clone())
            .collect()
    }

    fn jest_log() -> String {
        log(&[
            "\u{feff}Current runner version: '2.321.0'",
            "##[group]Operating System",
            "Ubuntu",
            "24.04.1",
            "##[endgroup]",
            "##[group]Run actions/checkout@v4",
            "with:",
            "  repository: acme/checkout",
            "##[endgroup]",
            "Syncing repository: acme/checkout",
            "##[group]Run npm ci",
            "npm ci",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
            "npm WARN deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
            "added 512 packages, and audited 513 packages in 9s",
            "found 0 vulnerabilities",
            "##[group]Run npm test -- --ci",
            "npm test -- --ci 2>&1 | tee test.log || echo \"Error: tests failed\"",
            "shell: /usr/bin/bash -e {0}",
            "env:",
            "  ERROR_REPORTING: off",
            "##[endgroup]",
            "",
            "> checkout@1.4.2 test",
            "> jest --ci",
            "",
            "\u{1b}[0m\u{1b}[7m\u{1b}[1m\u{1b}[32m PASS \u{1b}[39m\u{1b}[22m\u{1b}[27m\u{1b}[0m src/cart.test.js",
            "\u{1b}[0m\u{1b}[7m\u{1b}[1m\u{1b}[31m FAIL \u{1b}[39m\u{1b}[22m\u{1b}[27m\u{1b}[0m src/payment.test.js",
            "  Payment",
            "    \u{1b}[32m✓\u{1b}[39m validates the card (3 ms)",
            "    \u{1b}[31m✕\u{1b}[39m charges the card (5 ms)",
            "    \u{1b}[31m✕\u{1b}[39m refunds (2 ms)",
            "",
            "\u{1b}[1m\u{1b}[31m  \u{1b}[1m● \u{1b}[22m\u{1b}[1mPayment › charges the card\u{1b}[39m\u{1b}[22m",
            "",
            "    TypeError: Cannot read properties of undefined (reading 'amount')",
            "",
            "    \u{1b}[0m \u{1b}[90m 116 |\u{1b}[39m   \u{1b}[36mconst\u{1b}[39m total \u{1b}[33m=\u{1b}[39m sum(order)\u{1b}[33m;\u{1b}[39m",
            "     \u{1b}[90m 117 |\u{1b}[39m",
            "    \u{1b}[31m\u{1b}[1m>\u{1b}[22m\u{1b}[39m\u{1b}[90m 118 |\u{1b}[39m   \u{1b}[36mreturn\u{1b}[39m order\u{1b}[33m.\u{1b}[39mpayment\u{1b}[33m.\u{1b}[39mamount\u{1b}[33m;\u{1b}[39m",
            "     \u{1b}[90m     |\u{1b}[39m                        \u{1b}[31m\u{1b}[1m^\u{1b}[22m\u{1b}[39m",
            "     \u{1b}[90m 119 |\u{1b}[39m }",
            "",
            "      \u{1b}[2mat charge (\u{1b}[22msrc/payment.js\u{1b}[2m:118:24)\u{1b}[22m",
            "      \u{1b}[2mat Object.<anonymous> (\u{1b}[22msrc/payment.test.js\u{1b}[2m:12:5)\u{1b}[22m",
            "",
            "\u{1b}[1m\u{1b}[31m  \u{1b}[1m● \u{1b}[22m\u{1b}[1mPayment › refunds\u{1b}[39m\u{1b}[22m",
            "",
            "    TypeError: Cannot read properties of undefined (reading 'amount')",
            "",
            "      at charge (src/payment.js:118:24)",
            "      at refund (src/payment.js:131:10)",
            "",
            "\u{1b}[1mTest Suites: \u{1b}[22m\u{1b}[1m\u{1b}[31m1 failed\u{1b}[39m\u{1b}[22m, \u{1b}[1m\u{1b}[32m1 passed\u{1b}[39m\u{1b}[22m, 2 total",
            "\u{1b}[1mTests:       \u{1b}[22m\u{1b}[1m\u{1b}[31m2 failed\u{1b}[39m\u{1b}[22m, \u{1b}[1m\u{1b}[32m4 passed\u{1b}[39m\u{1b}[22m, 6 total",
            "Snapshots:   0 total",
            "Time:        1.873 s",
            "Ran all test suites.",
            "npm ERR! Test failed.  See above for more details.",
            "##[error]Process completed with exit code 1.",
            "##[group]Post job cleanup.",
            "[command]/usr/bin/git version",
            "git version 2.47.1",
            "##[endgroup]",
            "Cleaning up orphan processes",
        ])
    }

    #[test]
    fn jest_failure_first_with_location_and_exit_code_last() {
        let t = triage(&jest_log());
        assert_eq!(
            t.summary.as_deref(),
            Some(
                "TypeError: Cannot read properties of undefined (reading 'amount') at src/payment.js:118"
            ),
            "{:#?}",
            t.excerpts
        );
        let first = &t.excerpts[0];
        assert_eq!(first.reason, "TypeError");
        assert!(t.lines[first.anchor].text.contains("TypeError"));
        assert_eq!(first.repeats, 1, "the second TypeError is a repeat");
        // The window shows the failing test's name and reaches the first stack frame.
        let texts = excerpt_texts(&t, first);
        assert!(
            texts
                .iter()
                .any(|l| l.contains("● Payment › charges the card")),
            "{texts:#?}"
        );
        assert!(
            texts
                .iter()
                .any(|l| l.contains("at charge (src/payment.js:118:24)")),
            "{texts:#?}"
        );
        let last = t.excerpts.last().expect("excerpts");
        assert_eq!(last.reason, "exit code 1");
        assert_eq!(
            t.lines[last.anchor].text,
            "Process completed with exit code 1."
        );
        assert_eq!(t.lines[last.anchor].kind, LineKind::Error);
        // Excerpts do not overlap, and none but the last one shows the closing line.
        for e in &t.excerpts[..t.excerpts.len() - 1] {
            assert!(e.end <= last.anchor, "{e:?}");
        }
        // The step header's script and env lines are not failures.
        assert!(
            t.excerpts
                .iter()
                .all(|e| !t.lines[e.anchor].text.contains("tests failed"))
        );
        assert!(
            t.excerpts
                .iter()
                .all(|e| !t.lines[e.anchor].text.contains("ERROR_REPORTING"))
        );
        // Groups: endgroup lines dropped, the step output belongs to its step.
        assert!(t.lines.iter().all(|l| !l.text.contains("##[")));
        let step = t
            .groups
            .iter()
            .position(|g| g == "Run npm test -- --ci")
            .expect("group");
        assert_eq!(t.lines[first.anchor].group, Some(step));
        assert_eq!(t.lines[last.anchor].group, Some(step));
        assert_eq!(t.lines[0].text, "Current runner version: '2.321.0'");
        assert!(
            t.lines
                .iter()
                .any(|l| l.kind == LineKind::Command && l.text == "/usr/bin/git version")
        );
        assert!(t.excerpts.len() <= MAX_EXCERPTS);
    }

    #[test]
    fn jest_windows_stay_inside_their_step() {
        let t = triage(&jest_log());
        for e in &t.excerpts {
            let g = t.lines[e.anchor].group;
            assert!(
                t.lines[e.start..e.end].iter().all(|l| l.group == g),
                "{e:?}"
            );
            assert!(e.start <= e.anchor && e.anchor < e.end && e.end <= t.lines.len());
        }
    }

    #[test]
    fn rustc_compiler_error() {
        let t = triage(&log(&[
            "##[group]Run cargo build --locked",
            "cargo build --locked",
            "shell: /usr/bin/bash -e {0}",
            "env:",
            "  CARGO_TERM_COLOR: always",
            "##[endgroup]",
            "\u{1b}[1m\u{1b}[32m   Compiling\u{1b}[0m serde v1.0.210",
            "\u{1b}[1m\u{1b}[32m   Compiling\u{1b}[0m checkout v0.3.1 (/home/runner/work/checkout/checkout)",
            "\u{1b}[0m\u{1b}[1m\u{1b}[38;5;9merror[E0308]\u{1b}[0m\u{1b}[0m\u{1b}[1m: mismatched types\u{1b}[0m",
            "\u{1b}[0m \u{1b}[0m\u{1b}[0m\u{1b}[1m\u{1b}[38;5;12m--> \u{1b}[0m\u{1b}[0msrc/main.rs:4:18\u{1b}[0m",
            "  |",
            "4 |     let x: i32 = \"a\";",
            "  |            ---   ^^^ expected `i32`, found `&str`",
            "",
            "error[E0308]: mismatched types",
            " --> src/lib.rs:40:9",
            "",
            "For more information about this error, try `rustc --explain E0308`.",
            "warning: unused variable: `y`",
            "error: could not compile `checkout` (bin \"checkout\") due to 2 previous errors",
            "##[error]Process completed with exit code 101.",
        ]));
        assert_eq!(
            t.summary.as_deref(),
            Some("error[E0308]: mismatched types at src/main.rs:4")
        );
        assert_eq!(t.excerpts[0].reason, "compiler error");
        assert_eq!(t.excerpts[0].repeats, 1);
        assert_eq!(
            t.excerpts.last().map(|e| e.reason.as_str()),
            Some("exit code 101")
        );
        let anchored: Vec<&str> = t
            .excerpts
            .iter()
            .map(|e| t.lines[e.anchor].text.as_str())
            .collect();
        assert!(
            !anchored.iter().any(|a| a.starts_with("warning")),
            "{anchored:?}"
        );
    }

    #[test]
    fn pytest_failure() {
        let t = triage(&log(&[
            "##[group]Run pytest -q",
            "pytest -q",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "============================= test session starts ==============================",
            "collected 2 items",
            "",
            "tests/test_x.py .F                                                       [100%]",
            "",
            "=================================== FAILURES ===================================",
            "___________________________________ test_y ____________________________________",
            "",
            "    def test_y():",
            ">       assert add(1, 2) == 4",
            "E       AssertionError: assert 3 == 4",
            "E        +  where 3 = add(1, 2)",
            "",
            "tests/test_x.py:5: AssertionError",
            "=========================== short test summary info ============================",
            "FAILED tests/test_x.py::test_y - AssertionError: assert 3 == 4",
            "========================= 1 failed, 1 passed in 0.12s ==========================",
            "##[error]Process completed with exit code 1.",
        ]));
        assert_eq!(
            t.summary.as_deref(),
            Some("AssertionError: assert 3 == 4 at tests/test_x.py:5")
        );
        assert_eq!(t.excerpts[0].reason, "AssertionError");
        let texts = excerpt_texts(&t, &t.excerpts[0]);
        assert!(
            texts
                .iter()
                .any(|l| l.starts_with("FAILED tests/test_x.py::test_y")),
            "{texts:#?}"
        );
        assert_eq!(
            t.excerpts.last().map(|e| e.reason.as_str()),
            Some("exit code 1")
        );
        assert_eq!(t.excerpts.len(), 2, "{:#?}", t.excerpts);
    }

    #[test]
    fn python_traceback_names_the_exception_and_the_raising_frame() {
        let mut lines = vec!["Traceback (most recent call last):"];
        for _ in 0..6 {
            lines.push("  File \"/usr/lib/python3.12/runpy.py\", line 198, in _run_module_as_main");
            lines.push("    return _run_code(code, main_globals, None,");
        }
        lines.push("  File \"app/deploy.py\", line 42, in main");
        lines.push("    raise ValueError(\"bad manifest\")");
        lines.push("ValueError: bad manifest");
        let t = triage(&log(&lines));
        assert_eq!(t.excerpts.len(), 1, "{:#?}", t.excerpts);
        assert_eq!(t.excerpts[0].reason, "ValueError");
        assert_eq!(
            t.summary.as_deref(),
            Some("ValueError: bad manifest at app/deploy.py:42")
        );
    }

    #[test]
    fn typescript_annotations() {
        let t = triage(&log(&[
            "> web@2.0.0 typecheck",
            "> tsc --noEmit",
            "",
            "##[error]src/api.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.",
            "##[error]src/cart.ts(3,1): error TS2304: Cannot find name 'describe'.",
            "##[error]Process completed with exit code 2.",
            "Post job cleanup.",
            "[command]/usr/bin/git version",
            "git version 2.47.1",
        ]));
        assert_eq!(
            t.summary.as_deref(),
            Some(
                "src/api.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'."
            )
        );
        assert_eq!(t.excerpts.len(), 2, "{:#?}", t.excerpts);
        assert_eq!(t.excerpts[0].reason, "compiler error");
        assert_eq!(t.excerpts[1].reason, "exit code 2");
        assert_eq!(
            t.excerpts[1].end,
            t.excerpts[1].anchor + 1,
            "post-job lines are not shown"
        );
        assert_eq!(t.lines[7].kind, LineKind::Command);
        assert_eq!(t.lines[7].text, "/usr/bin/git version");
    }

    #[test]
    fn two_failing_steps_keep_their_own_windows() {
        let t = triage(&log(&[
            "##[group]Run ./lint.sh",
            "./lint.sh",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "fatal: not a git repository (or any of the parent directories): .git",
            "##[error]Process completed with exit code 128.",
            "boom: Killed",
            "##[error]Process completed with exit code 137.",
            "Post job cleanup.",
        ]));
        let reasons: Vec<&str> = t.excerpts.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["fatal", "killed", "exit code 128"],
            "{:#?}",
            t.excerpts
        );
        // The second failure's window starts after the first step's closing line.
        assert_eq!(t.excerpts[1].start, t.excerpts[1].anchor);
        assert_eq!(t.excerpts[2].repeats, 1);
        assert!(t.excerpts[0].end <= t.excerpts[2].anchor);
    }

    #[test]
    fn go_test_failure() {
        let t = triage(&log(&[
            "##[group]Run go test ./...",
            "go test ./...",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "ok  \texample.com/checkout/cart\t0.011s",
            "=== RUN   TestParse",
            "    parse_test.go:42: Parse(\"1.2\") = 1, want 2",
            "--- FAIL: TestParse (0.00s)",
            "FAIL",
            "FAIL\texample.com/checkout/parse\t0.012s",
            "FAIL",
            "##[error]Process completed with exit code 1.",
        ]));
        assert_eq!(t.excerpts[0].reason, "test failure");
        assert_eq!(
            t.lines[t.excerpts[0].anchor].text,
            "--- FAIL: TestParse (0.00s)"
        );
        assert_eq!(
            t.summary.as_deref(),
            Some("--- FAIL: TestParse (0.00s): parse_test.go:42: Parse(\"1.2\") = 1, want 2")
        );
        assert_eq!(t.excerpts.len(), 2);
    }

    #[test]
    fn false_positives_are_not_anchors() {
        let quiet = [
            "Found 0 errors.",
            "0 errors, 0 warnings",
            "no errors found",
            "errors: 0",
            "error_rate: 0.0012 (max 0.005)",
            "canary_error: 0",
            "cc -Wall -Werror -O2 -c main.c",
            "warning: unused variable: `x`",
            "warning: unused import: `std::fmt`",
            "Tests:       0 failed, 12 passed, 12 total",
            "test result: ok. 12 passed; 0 failed; 0 ignored",
            "LOG_LEVEL=ERROR",
            "export SENTRY_ERROR_SAMPLE=1",
            "  ✓ handles NetworkError gracefully (3 ms)",
            "  ● Console",
            "    at the end of the day",
            "    const handleError = (e) => log(e)",
            "Summary: 0 timed out",
            "For more information about this error, try `rustc --explain E0308`.",
        ];
        let t = triage(&log(&quiet));
        let anchored: Vec<&str> = t
            .excerpts
            .iter()
            .map(|e| t.lines[e.anchor].text.as_str())
            .collect();
        assert!(t.excerpts.is_empty(), "{anchored:?}");
        assert_eq!(t.summary, None);
        // Warnings and commands are never anchors, whatever they say.
        let t = triage(&log(&[
            "##[warning]TypeError: deprecated call",
            "##[command]echo 'Error: nope'",
            "##[debug]FAILED to read cache",
        ]));
        assert!(t.excerpts.is_empty(), "{:?}", t.excerpts);
        assert_eq!(t.lines[0].kind, LineKind::Warning);
        assert_eq!(t.lines[0].text, "TypeError: deprecated call");
        assert_eq!(t.lines[1].kind, LineKind::Command);
        assert_eq!(t.lines[2].kind, LineKind::Debug);
    }

    #[test]
    fn common_failure_lines_are_anchors() {
        let cases = [
            (
                "fatal: could not read Username for 'https://github.com'",
                "fatal",
            ),
            (
                "/usr/bin/ld: main.o: undefined reference to `foo'",
                "link error",
            ),
            (
                "bash: ./deploy.sh: No such file or directory",
                "missing file",
            ),
            ("Segmentation fault (core dumped)", "segmentation fault"),
            ("thread 'main' panicked at src/main.rs:2:5:", "panic"),
            (
                "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                "out of memory",
            ),
            (
                "FATAL: password authentication failed for user \"app\"",
                "fatal",
            ),
            (
                "/home/runner/work/_temp/x.sh: line 1:  1234 Killed  cargo build",
                "killed",
            ),
            ("Error: connect ETIMEDOUT 10.0.0.1:443", "Error"),
            (
                "java.lang.IllegalStateException: not ready",
                "IllegalStateException",
            ),
            (
                "Exception in thread \"main\" java.lang.RuntimeException",
                "RuntimeException",
            ),
            (
                "src/app.ts(12,3): error TS2322: Type 'string' is not assignable to type 'number'.",
                "compiler error",
            ),
            (
                "main.c:10:5: error: expected ';' before 'return'",
                "compiler error",
            ),
            ("npm ERR! code ELIFECYCLE", "npm error"),
            ("make: *** [Makefile:12: test] Error 2", "make failed"),
            (
                "Error: The process '/usr/bin/git' failed with exit code 128",
                "exit code 128",
            ),
            ("test tests::it_works ... FAILED", "test failure"),
            ("  2 failing", "test failure"),
            (
                "The job running on runner GitHub Actions 2 has exceeded the maximum execution time of 10 minutes.",
                "timeout",
            ),
            ("Error: Timed out waiting for deployment", "Error"),
            (
                "curl: (28) Operation timed out after 30001 milliseconds",
                "timeout",
            ),
            ("assertion `left == right` failed", "assertion failed"),
            ("  ✕ charges the card (5 ms)", "test failure"),
            ("Error: Cannot find module 'left-pad'", "Error"),
            ("ld: cannot find -lssl", "not found"),
            ("pod checkout-7d9 OOMKilled", "out of memory"),
            ("BUILD FAILED in 12s", "build failed"),
            (
                "ERROR: Could not find a version that satisfies the requirement foo==9.9",
                "error",
            ),
        ];
        for (line, reason) in cases {
            let t = triage(&log(&[line]));
            assert_eq!(t.excerpts.len(), 1, "{line}");
            assert_eq!(t.excerpts[0].reason, reason, "{line}");
        }
    }

    #[test]
    fn no_failure_no_excerpts() {
        let t = triage(&log(&[
            "##[group]Run cargo test",
            "cargo test",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "running 12 tests",
            "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out",
            "##[group]Post job cleanup.",
            "##[endgroup]",
        ]));
        assert!(t.excerpts.is_empty());
        assert_eq!(t.summary, None);
        assert_eq!(
            t.groups,
            vec![
                "Run cargo test".to_string(),
                "Post job cleanup.".to_string()
            ]
        );
        assert_eq!(t.lines[0].kind, LineKind::GroupStart);
        assert_eq!(t.lines[0].group, Some(0));
        assert_eq!(triage("").lines.len(), 0);
    }

    #[test]
    fn controls_and_escapes_removed() {
        let raw = format!(
            "{TS}\u{1b}]0;pwned\u{7}ok \u{1b}]8;;https://evil.example\u{1b}\\link\u{1b}]8;;\u{1b}\\ \u{1b}[2K\u{1b}[1Gdone\u{8}\u{0}\r\n"
        );
        let t = triage(&raw);
        assert_eq!(t.lines[0].text, "ok link done");
        assert_eq!(clean_line("a\u{9b}31mb\u{202e}c\u{7}\r"), "abc");
        for l in &t.lines {
            assert!(!l.text.chars().any(char::is_control));
        }
    }

    #[test]
    fn timestamp_variants_stripped() {
        for (raw, want) in [
            ("2026-11-23T09:00:03.1234567Z hello", "hello"),
            ("2026-11-23T09:00:03Z hello", "hello"),
            ("2026-11-23T09:00:03.123Z hello", "hello"),
            ("2026-11-23T09:00:03.123456789Z hello", "hello"),
            ("2026-11-23T09:00:03.123+00:00 hello", "hello"),
            ("2026-11-23T09:00:03+0100 hello", "hello"),
            ("2026-11-23T09:00:03.1234567Z   indented", "  indented"),
            ("2026-11-23T09:00:03.1234567Z", ""),
            ("\u{feff}2026-11-23T09:00:03.1234567Z first", "first"),
            ("hello", "hello"),
            ("2026-11-23 is the day", "2026-11-23 is the day"),
            (
                "2026-11-23T09:00:03.1234567Zhello",
                "2026-11-23T09:00:03.1234567Zhello",
            ),
            (
                "2026-11-23T09:00:03.1234567Z E   AssertionError\r",
                "E   AssertionError",
            ),
        ] {
            assert_eq!(clean_line(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn repeats_are_counted_once_per_template() {
        let mut lines = vec![];
        for i in 0..30 {
            lines.push(format!(
                "Error: connect ECONNREFUSED 10.0.0.{i}:5432 (attempt {i}) id=deadbeef{i:02x}"
            ));
            lines.push(format!("retrying in {i}s"));
            lines.push(String::new());
            lines.push(String::new());
            lines.push(String::new());
            lines.push(String::new());
            lines.push(String::new());
            lines.push(String::new());
            lines.push(String::new());
            lines.push(String::new());
            lines.push(String::new());
        }
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let t = triage(&log(&refs));
        assert_eq!(t.excerpts.len(), 1, "{:#?}", t.excerpts);
        assert_eq!(t.excerpts[0].repeats, 29);
        assert_eq!(
            normalise("at x (src/a.js:118:24) 0x1f sha a1b2c3d"),
            normalise("at x (src/a.js:9:2) 0xff sha 9f8e7d6")
        );
        assert_ne!(
            normalise("error[E0308]: mismatched types"),
            normalise("error[E0599]: no method named")
        );
    }

    #[test]
    fn excerpts_capped_and_closing_line_kept() {
        let mut lines: Vec<String> = Vec::new();
        for i in 0..40 {
            lines.push(format!(
                "--- FAIL: TestCase{} (0.00s)",
                ["A", "B", "C", "D", "E", "F", "G", "H"][i % 8].repeat(i / 8 + 1)
            ));
            for _ in 0..12 {
                lines.push("    noise".to_string());
            }
        }
        lines.push("##[error]Process completed with exit code 1.".to_string());
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let t = triage(&log(&refs));
        assert_eq!(t.excerpts.len(), MAX_EXCERPTS);
        assert_eq!(
            t.excerpts.last().map(|e| e.reason.as_str()),
            Some("exit code 1")
        );
        assert_eq!(
            t.lines[t.excerpts[0].anchor].text,
            "--- FAIL: TestCaseA (0.00s)"
        );
    }

    #[test]
    fn generic_noise_after_real_failures() {
        let t = triage(&log(&[
            "npm ERR! code ELIFECYCLE",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "TypeError: x is not a function",
            "    at run (src/index.js:3:1)",
        ]));
        assert_eq!(t.excerpts.len(), 2);
        assert_eq!(t.excerpts[0].reason, "TypeError");
        assert_eq!(t.excerpts[1].reason, "npm error");
        assert_eq!(
            t.summary.as_deref(),
            Some("TypeError: x is not a function at src/index.js:3")
        );
    }

    #[test]
    fn large_log_timing() {
        let mut raw = String::new();
        let body = jest_log();
        let mut n = 0;
        while n < 102_000 {
            for l in [
                "2026-11-23T09:00:03.1234567Z \u{1b}[32m  Compiling\u{1b}[0m some-crate v1.2.3 (registry+https://github.com/rust-lang/crates.io-index)\r\n",
                "2026-11-23T09:00:03.1234567Z test module::tests::case_number_one ... ok\r\n",
                "2026-11-23T09:00:03.1234567Z npm WARN deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported\r\n",
                "2026-11-23T09:00:03.1234567Z [INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/foo/1.0/foo-1.0.pom\r\n",
            ] {
                raw.push_str(l);
            }
            n += 4;
            if n % 20_000 == 0 {
                raw.push_str(&body);
                n += body.lines().count();
            }
        }
        let start = std::time::Instant::now();
        let t = triage(&raw);
        let took = start.elapsed();
        println!(
            "triage of {} lines ({} bytes): {took:?}",
            t.lines.len(),
            raw.len()
        );
        assert!(t.lines.len() >= 100_000);
        assert!(!t.excerpts.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,2000}") {
            let t = triage(&s);
            for e in &t.excerpts {
                proptest::prop_assert!(e.start <= e.anchor && e.anchor < e.end && e.end <= t.lines.len());
            }
            proptest::prop_assert!(t.excerpts.len() <= MAX_EXCERPTS);
        }

        #[test]
        fn never_panics_on_lossy_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let s = String::from_utf8_lossy(&bytes);
            let _ = triage(&s);
            let _ = clean_line(&s);
        }

        #[test]
        fn never_panics_on_log_shaped_text(lines in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("##[group]Run x".to_string()),
                proptest::strategy::Just("##[endgroup]".to_string()),
                proptest::strategy::Just("##[error]Process completed with exit code 1.".to_string()),
                proptest::strategy::Just("Traceback (most recent call last):".to_string()),
                proptest::strategy::Just("TypeError: boom".to_string()),
                proptest::strategy::Just("E   assert 1".to_string()),
                proptest::strategy::Just("--- FAIL: TestX (0.00s)".to_string()),
                proptest::strategy::Just("shell: bash".to_string()),
                "[ -~]{0,40}",
            ], 0..200)) {
            let raw = lines.join("\n");
            let t = triage(&raw);
            for e in &t.excerpts {
                proptest::prop_assert!(e.start <= e.anchor && e.anchor < e.end && e.end <= t.lines.len());
            }
        }
    }
}
