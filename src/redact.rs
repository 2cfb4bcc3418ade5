//! Secrets out of text: the one place that knows what a credential looks like.
//!
//! Used by the audit log ([`crate::ops::audit`], which writes [`redact_whole`]), by everything drawn
//! on screen ([`crate::sanitize::clean`] and [`crate::sanitize::clean_multiline`] return [`redact`]ed
//! text) and by LLM prompts ([`crate::ai::prompt`], which takes every field through [`redact`] and [`ExtraPatterns`]).
//!
//! # Patterns
//!
//! | what | shape | shown as ([`redact`]) |
//! |---|---|---|
//! | GitHub token | `ghp_` `gho_` `ghu_` `ghs_` `ghr_` `github_pat_` + 20 or more `[A-Za-z0-9_]` | `ghp_[redacted]` |
//! | AWS access key id | `AKIA`/`ASIA` + exactly 16 `[A-Z0-9]`, not inside a longer word | `AKIA[redacted]` |
//! | Sentry token | `sntrys_`/`sntryu_` + 20 or more `[A-Za-z0-9_+/=.-]` | `sntrys_[redacted]` |
//! | OpenAI-style key | `sk-` (not ending a word such as `task-`) + 20 or more `[A-Za-z0-9_-]` with a digit | `sk-[redacted]` |
//! | Slack token | `xoxa-` `xoxb-` `xoxp-` `xoxr-` `xoxs-` + 10 or more `[A-Za-z0-9-]` with a digit | `xoxb-[redacted]` |
//! | private key block | `-----BEGIN … PRIVATE KEY-----` up to its `-----END …-----` line (or the end of the text) | `-----BEGIN RSA PRIVATE KEY-----[redacted]` |
//! | bearer credential | `Bearer <credential>` (any length); lower-case `bearer` only with 16 or more characters, so prose survives | `Bearer [redacted]` |
//! | URL password | `scheme://user:password@host` (the authority's last `@` ends the password; the user name is kept) | `postgres://app:[redacted]@db:5432/x` |
//! | JSON Web Token | `eyJ` + 10 or more base64url characters, `.`, 10 or more, then `.` and the signature (possibly empty) | `eyJ[redacted]` |
//! | e-mail address | `local@domain.tld`, a top-level label of 2 or more letters; not `git@host` (an SSH remote), `scheme://user@host` (a URL's user name) nor `icon@2x.png` | `[redacted]` (whole) |
//! | key = value | a key ending in `token`, `secret`, `password`, `passwd`, `apikey`, `api_key`, `api-key` or `authorization` followed by `=` (`?access_token=…&`, `GITHUB_TOKEN=…`), or quoted and followed by `:` (`"token": "…"`) | `token=[redacted]` |
//! | header | `Authorization:`, `Proxy-Authorization:`, `X-Api-Key:`, `X-Auth-Token:` + value; a scheme word (`Bearer`, `Basic`, `token`, …) is kept | `Authorization: Basic [redacted]` |
//!
//! A value or credential ends at whitespace, a quote, `,` `;` `&` `<` `>` `)` `]` `}` or the end of
//! the text, so a secret inside a URL or followed by punctuation is cut exactly.
//!
//! # Configured words
//!
//! [`ExtraPatterns`] masks what only the operator knows is sensitive (an internal host name, a
//! customer's name): literal substrings, or one-word globs with `*` and `?`. See its documentation.
//!
//! # Masking
//!
//! The secret is replaced by [`MARKER`] (`[redacted]`). [`redact`] keeps the recognisable prefix
//! (`ghp_`, `AKIA`, `Bearer `, the key of a `key=value`) so the operator sees *what* leaked: the prefix
//! carries no secret. [`redact_whole`] replaces prefix and secret alike (`[redacted]`, `token=[redacted]`,
//! `Authorization: [redacted]`): the format the audit log has always written. Both are idempotent:
//! redacted text has no candidates left.
//!
//! # Speed
//!
//! Byte scanning only, no regex: `memchr` finds the few bytes every pattern needs (`_`, `-`, `=`, `:`,
//! `@`, and the substrings `IA`, `earer` and `eyJ`), and only those spots are checked. Text without a secret is
//! returned borrowed: no allocation.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::{memchr2, memchr3, memmem};

/// What replaces a secret.
pub const MARKER: &str = "[redacted]";

/// Replace every secret with [`MARKER`], keeping its recognisable prefix: `ghp_[redacted]`,
/// `AKIA[redacted]`, `Bearer [redacted]`, `token=[redacted]`. For the screen and for LLM prompts.
pub fn redact(s: &str) -> Cow<'_, str> {
    redact_with(s, false)
}

/// Replace every secret, prefix included, with [`MARKER`]: `[redacted]`, `Authorization: [redacted]`.
/// The audit log's format.
pub fn redact_whole(s: &str) -> Cow<'_, str> {
    redact_with(s, true)
}

/// Whether `s` holds anything [`redact`] would mask.
pub fn contains_secret(s: &str) -> bool {
    Scanner::new(s.as_bytes()).next_from(0).is_some()
}

/// Words the operator configured as sensitive, masked with [`MARKER`] on top of [`redact`]'s patterns.
///
/// - **A literal** (a pattern without `*` or `?`) is masked wherever it occurs as a substring,
///   spaces included: `Project Nightingale`, `acme-internal`.
/// - **A glob** (a pattern with `*` or `?`) is matched against whole words (runs of characters
///   without whitespace, leading and trailing `"'()[]{}<>,;:.!?` set aside); a word that matches is
///   masked. `*` is any run of characters, `?` one character: `*.corp.example` masks
///   `db1.corp.example`, `cust-????` masks `cust-4711`. A glob never spans whitespace.
/// - Matching ignores ASCII case. A pattern with fewer than 3 characters other than `*` and `?`
///   (after trimming) is ignored: it would mask too much to be what was meant.
///
/// No regular expressions: the cost is one pass per literal and one glob match per word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraPatterns {
    /// Lower-cased (ASCII) literals.
    literals: Vec<String>,
    /// Lower-cased (ASCII) globs, as characters.
    globs: Vec<Vec<char>>,
}

/// Set aside at both ends of a word before a glob is matched.
const WORD_EDGES: &[char] = &[
    '"', '\'', '(', ')', '[', ']', '{', '}', '<', '>', ',', ';', ':', '.', '!', '?',
];

impl ExtraPatterns {
    pub fn new(patterns: &[String]) -> ExtraPatterns {
        let mut out = ExtraPatterns::default();
        for p in patterns {
            let p = p.trim().to_ascii_lowercase();
            if p.chars().filter(|c| !matches!(c, '*' | '?')).count() < 3 {
                continue;
            }
            if p.contains(['*', '?']) {
                out.globs.push(p.chars().collect());
            } else {
                out.literals.push(p);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.literals.is_empty() && self.globs.is_empty()
    }

    /// `s` with every configured literal and every word matching a glob replaced by [`MARKER`].
    pub fn mask<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.is_empty() {
            return Cow::Borrowed(s);
        }
        let lower = s.to_ascii_lowercase();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for lit in &self.literals {
            spans.extend(
                memmem::find_iter(lower.as_bytes(), lit.as_bytes()).map(|i| (i, i + lit.len())),
            );
        }
        if !self.globs.is_empty() {
            for (start, word) in words(&lower) {
                let lead = word.len() - word.trim_start_matches(WORD_EDGES).len();
                let core = word.trim_matches(WORD_EDGES);
                let chars: Vec<char> = core.chars().collect();
                if !core.is_empty() && self.globs.iter().any(|g| glob_match(g, &chars)) {
                    spans.push((start + lead, start + lead + core.len()));
                }
            }
        }
        if spans.is_empty() {
            return Cow::Borrowed(s);
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(s.len());
        let mut copied = 0;
        let mut spans = spans.into_iter().peekable();
        while let Some((start, mut end)) = spans.next() {
            // Overlapping or touching spans become one mask.
            while let Some(&(s2, e2)) = spans.peek() {
                if s2 > end {
                    break;
                }
                end = end.max(e2);
                spans.next();
            }
            // ASCII lower-casing keeps every byte offset, so the spans are char boundaries of `s`.
            out.push_str(s.get(copied..start).unwrap_or_default());
            out.push_str(MARKER);
            copied = end;
        }
        out.push_str(s.get(copied..).unwrap_or_default());
        Cow::Owned(out)
    }
}

/// The words of `s` (runs without whitespace) with their byte offsets.
fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    s.split(char::is_whitespace).filter_map(move |w| {
        let start = at;
        // The separator is one whitespace character.
        at += w.len()
            + s.get(start + w.len()..)
                .and_then(|r| r.chars().next())
                .map_or(0, char::len_utf8);
        (!w.is_empty()).then_some((start, w))
    })
}

/// Whether `text` matches `glob` whole (`*` any run, `?` one character); linear backtracking on
/// the last `*` only, so O(glob × text).
fn glob_match(glob: &[char], text: &[char]) -> bool {
    let (mut g, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some('*') => {
                star = Some((g, t));
                g += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                g += 1;
                t += 1;
            }
            _ => match star {
                Some((sg, st)) => {
                    g = sg + 1;
                    t = st + 1;
                    star = Some((sg, st + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|&c| c == '*')
}

fn redact_with(s: &str, whole: bool) -> Cow<'_, str> {
    let mut scanner = Scanner::new(s.as_bytes());
    let Some(first) = scanner.next_from(0) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut found = Some(first);
    while let Some(f) = found {
        // Scanner only returns char-boundary offsets at or after `copied`.
        out.push_str(s.get(copied..f.start).unwrap_or_default());
        if !whole {
            out.push_str(s.get(f.start..f.keep).unwrap_or_default());
        }
        out.push_str(MARKER);
        copied = f.end;
        found = scanner.next_from(copied);
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

/// A secret at `start..end`, of which `start..keep` is the prefix [`redact`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    start: usize,
    keep: usize,
    end: usize,
}

static IA: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("IA"));
static EARER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("earer"));
static EYJ: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("eyJ"));

const NONE: usize = usize::MAX;
/// Anchor streams: `_ - =` (prefix tokens, key=value), `:` `@` (headers, quoted keys; URL
/// passwords, addresses), `IA` (AWS), `earer` (Bearer), `eyJ` (JWT).
const STREAMS: usize = 5;

/// Walks the candidate anchors of all streams in text order (a merge of the streams' next positions).
struct Scanner<'a> {
    b: &'a [u8],
    next: [usize; STREAMS],
}

impl<'a> Scanner<'a> {
    fn new(b: &'a [u8]) -> Scanner<'a> {
        let mut s = Scanner {
            b,
            next: [NONE; STREAMS],
        };
        for k in 0..STREAMS {
            s.next[k] = s.find(k, 0);
        }
        s
    }

    /// The next anchor of stream `k` at or after `from`.
    fn find(&self, k: usize, from: usize) -> usize {
        let Some(hay) = self.b.get(from..) else {
            return NONE;
        };
        let hit = match k {
            0 => memchr3(b'_', b'-', b'=', hay),
            1 => memchr2(b':', b'@', hay),
            2 => IA.find(hay),
            3 => EARER.find(hay),
            _ => EYJ.find(hay),
        };
        hit.map_or(NONE, |i| i + from)
    }

    /// The first secret starting at or after `from`.
    fn next_from(&mut self, from: usize) -> Option<Found> {
        for k in 0..STREAMS {
            if self.next[k] < from {
                self.next[k] = self.find(k, from);
            }
        }
        loop {
            let (k, p) = self
                .next
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|&(_, p)| p)?;
            if p == NONE {
                return None;
            }
            self.next[k] = self.find(k, p + 1);
            let found = match k {
                0 => match self.b[p] {
                    b'_' => underscore_at(self.b, p),
                    b'-' => dash_at(self.b, p),
                    _ => key_value_at(self.b, p),
                },
                1 => match self.b[p] {
                    b':' => key_value_at(self.b, p),
                    _ => url_password_at(self.b, p).or_else(|| email_at(self.b, p)),
                },
                2 => aws_at(self.b, p),
                3 => bearer_at(self.b, p.wrapping_sub(1)),
                _ => jwt_at(self.b, p),
            };
            if let Some(f) = found.filter(|f| f.start >= from && self.boundaries(f)) {
                return Some(f);
            }
        }
    }

    fn boundaries(&self, f: &Found) -> bool {
        // A char boundary: the end, or any byte that is not a UTF-8 continuation byte.
        let ok = |i: usize| {
            i == self.b.len() || self.b.get(i).is_some_and(|c| !(0x80..0xC0).contains(c))
        };
        f.start <= f.keep && f.keep <= f.end && ok(f.start) && ok(f.keep) && ok(f.end)
    }
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether the byte before `i` (if any) continues a word, so a pattern starting at `i` would be the
/// tail of something else (`task-…`, `XAKIA…`).
fn word_before(b: &[u8], i: usize, also: &[u8]) -> bool {
    i > 0
        && b.get(i - 1)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || also.contains(&c))
}

fn run(b: &[u8], from: usize, ok: impl Fn(u8) -> bool) -> usize {
    b.get(from..)
        .map_or(0, |rest| rest.iter().take_while(|&&c| ok(c)).count())
}

fn ends_with(b: &[u8], end: usize, what: &[u8]) -> bool {
    end >= what.len() && b.get(end - what.len()..end) == Some(what)
}

/// `ghp_…`, `github_pat_…`, `sntrys_…` with the `_` at `p`.
fn underscore_at(b: &[u8], p: usize) -> Option<Found> {
    const MIN_BODY: usize = 20;
    let (start, keep, ok): (usize, usize, fn(u8) -> bool) =
        if [&b"ghp"[..], b"gho", b"ghu", b"ghs", b"ghr"]
            .iter()
            .any(|pre| ends_with(b, p, pre))
        {
            (p - 3, p + 1, is_token_char)
        } else if ends_with(b, p, b"github") && b.get(p + 1..p + 5) == Some(b"pat_") {
            (p - 6, p + 5, is_token_char)
        } else if (ends_with(b, p, b"sntrys") || ends_with(b, p, b"sntryu"))
            && !word_before(b, p - 6, b"")
        {
            (p - 6, p + 1, |c| is_token_char(c) || b"+/=.-".contains(&c))
        } else {
            return None;
        };
    let body = run(b, keep, ok);
    (body >= MIN_BODY).then_some(Found {
        start,
        keep,
        end: keep + body,
    })
}

/// `sk-…`, `xoxb-…` or `-----BEGIN … PRIVATE KEY-----` with the (first) `-` at `p`.
fn dash_at(b: &[u8], p: usize) -> Option<Found> {
    let has_digit = |from: usize, len: usize| {
        b.get(from..from + len)
            .is_some_and(|s| s.iter().any(u8::is_ascii_digit))
    };
    if ends_with(b, p, b"sk") && !word_before(b, p - 2, b"_-") {
        let body = run(b, p + 1, |c| is_token_char(c) || c == b'-');
        return (body >= 20 && has_digit(p + 1, body)).then_some(Found {
            start: p - 2,
            keep: p + 1,
            end: p + 1 + body,
        });
    }
    if p >= 4
        && ends_with(b, p - 1, b"xox")
        && b"abprs".contains(&b[p - 1])
        && !word_before(b, p - 4, b"_-")
    {
        let body = run(b, p + 1, |c| c.is_ascii_alphanumeric() || c == b'-');
        return (body >= 10 && has_digit(p + 1, body)).then_some(Found {
            start: p - 4,
            keep: p + 1,
            end: p + 1 + body,
        });
    }
    private_key_at(b, p)
}

fn private_key_at(b: &[u8], p: usize) -> Option<Found> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    if !b.get(p..)?.starts_with(BEGIN) {
        return None;
    }
    let label_at = p + BEGIN.len();
    let label = run(b, label_at, |c| {
        c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' '
    });
    let label_text = b.get(label_at..label_at + label)?;
    if label > 64
        || memmem::find(label_text, b"PRIVATE KEY").is_none()
        || !b.get(label_at + label..)?.starts_with(b"-----")
    {
        return None;
    }
    let keep = label_at + label + 5;
    if b.get(keep..)?.starts_with(MARKER.as_bytes()) {
        return None; // already redacted
    }
    let end = match memmem::find(b.get(keep..)?, b"-----END ") {
        Some(i) => {
            let after = keep + i + b"-----END ".len();
            let tail = run(b, after, |c| {
                c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' '
            });
            let close = after + tail;
            if b.get(close..).is_some_and(|r| r.starts_with(b"-----")) {
                close + 5
            } else {
                close
            }
        }
        // A truncated block (a cut log) still hides the key.
        None => b.len(),
    };
    Some(Found {
        start: p,
        keep,
        end,
    })
}

/// `AKIA…`/`ASIA…` with the `IA` at `p`.
fn aws_at(b: &[u8], p: usize) -> Option<Found> {
    if p < 2 || b[p - 2] != b'A' || !matches!(b[p - 1], b'K' | b'S') || word_before(b, p - 2, b"") {
        return None;
    }
    let body = run(b, p + 2, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let next_is_word = b
        .get(p + 2 + body)
        .is_some_and(|c| c.is_ascii_alphanumeric());
    (body == 16 && !next_is_word).then_some(Found {
        start: p - 2,
        keep: p + 2,
        end: p + 18,
    })
}

/// Where a value or credential ends.
fn is_value_char(c: u8) -> bool {
    !c.is_ascii_whitespace() && !b"\"'`,;&<>)]}".contains(&c)
}

/// `Bearer <credential>` starting at `i`. Capitalised `Bearer` takes any credential; lower-case
/// `bearer` (which also occurs in prose) only one of 16 or more characters.
fn bearer_at(b: &[u8], i: usize) -> Option<Found> {
    let word = b.get(i..i.checked_add(6)?)?;
    let capital = word == b"Bearer";
    if !(capital || word == b"bearer") || word_before(b, i, b"") {
        return None;
    }
    let spaces = run(b, i + 6, |c| c == b' ' || c == b'\t');
    if spaces == 0 {
        return None;
    }
    let keep = i + 6 + spaces;
    let cred = credential(b, keep)?;
    let enough = if capital { cred >= 1 } else { cred >= 16 };
    enough.then_some(Found {
        start: i,
        keep,
        end: keep + cred,
    })
}

/// The length of a credential at `i`: a run of value characters that is not already a marker.
fn credential(b: &[u8], i: usize) -> Option<usize> {
    let rest = b.get(i..)?;
    if rest.starts_with(MARKER.as_bytes()) {
        return None;
    }
    let len = run(b, i, is_value_char);
    (len > 0).then_some(len)
}

const SECRET_KEYS: [&[u8]; 8] = [
    b"token",
    b"secret",
    b"password",
    b"passwd",
    b"apikey",
    b"api_key",
    b"api-key",
    b"authorization",
];
/// Keys that are secrets even unquoted before a `:` (HTTP headers); other `key: value` is prose.
const HEADER_KEYS: [&[u8]; 3] = [b"authorization", b"api-key", b"auth-token"];
/// A first word that names the scheme of the credential after it.
const SCHEMES: [&[u8]; 6] = [
    b"bearer",
    b"basic",
    b"token",
    b"digest",
    b"bot",
    b"negotiate",
];

fn ends_with_ignore_case(word: &[u8], suffix: &[u8]) -> bool {
    word.len() >= suffix.len() && word[word.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// `key=value`, `"key": "value"`, `Authorization: Basic value` with the `=` or `:` at `p`.
fn key_value_at(b: &[u8], p: usize) -> Option<Found> {
    let sep = b[p];
    // A closing quote between key and separator: `"token": …`.
    let quoted = p > 0 && matches!(b[p - 1], b'"' | b'\'');
    let key_end = if quoted { p - 1 } else { p };
    let key_len = b
        .get(..key_end)?
        .iter()
        .rev()
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.')
        .count();
    if key_len == 0 {
        return None;
    }
    let key = &b[key_end - key_len..key_end];
    let secret_key = if sep == b'=' || quoted {
        SECRET_KEYS.iter().any(|k| ends_with_ignore_case(key, k))
    } else {
        HEADER_KEYS.iter().any(|k| ends_with_ignore_case(key, k))
    };
    if !secret_key {
        return None;
    }
    let mut start = p + 1;
    if sep == b':' || quoted {
        start += run(b, start, |c| c == b' ' || c == b'\t');
    }
    if b.get(start).is_some_and(|&c| c == b'"' || c == b'\'') {
        start += 1;
    }
    // A scheme word followed by spaces: keep it, mask what follows.
    let word = run(b, start, |c| c.is_ascii_alphabetic());
    let gap = run(b, start + word, |c| c == b' ' || c == b'\t');
    let scheme = gap > 0
        && b.get(start..start + word)
            .is_some_and(|w| SCHEMES.iter().any(|s| w.eq_ignore_ascii_case(s)));
    let keep = if scheme { start + word + gap } else { start };
    let cred = credential(b, keep)?;
    Some(Found {
        start,
        keep,
        end: keep + cred,
    })
}

/// Where a URL's authority (or its user information) ends.
fn ends_authority(c: u8) -> bool {
    c.is_ascii_whitespace() || b"/?#\"'`<>".contains(&c)
}

/// The password of `scheme://user:password@host` with the (last) `@` of the authority at `p`:
/// `postgres://app:[redacted]@db/x`. The user name is kept; `scheme://user@host` has nothing to mask.
fn url_password_at(b: &[u8], p: usize) -> Option<Found> {
    // The user information ends at the authority's last `@`: `u:p@ss@host` is user `u`, password `p@ss`.
    let rest = b.get(p + 1..)?;
    let authority = rest.iter().take_while(|&&c| !ends_authority(c)).count();
    if rest[..authority].contains(&b'@') {
        return None;
    }
    let info = b
        .get(..p)?
        .iter()
        .rev()
        .take_while(|&&c| !ends_authority(c))
        .count();
    let q = p - info;
    if q < 3 || b.get(q - 3..q) != Some(b"://") {
        return None;
    }
    let colon = q + memchr::memchr(b':', &b[q..p])?;
    let start = colon + 1;
    if start == p || b[start..p].starts_with(MARKER.as_bytes()) {
        return None;
    }
    Some(Found {
        start,
        keep: start,
        end: p,
    })
}

fn is_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"._%+-".contains(&c)
}

/// An e-mail address with its `@` at `p`, masked whole: `[redacted]`. Not an address: `git@host`
/// (an SSH remote), `scheme://user@host` (a URL's user name), `icon@2x.png` (a pixel-density suffix),
/// and a domain without a dot or whose last label is not two or more letters (`pkg@1.2.3`, `a@localhost`).
fn email_at(b: &[u8], p: usize) -> Option<Found> {
    let local = b
        .get(..p)?
        .iter()
        .rev()
        .take_while(|&&c| is_local_char(c))
        .count();
    let mut q = p - local;
    while q < p && b[q] == b'.' {
        q += 1;
    }
    if q == p || &b[q..p] == b"git" || (q >= 3 && b.get(q - 3..q) == Some(b"://")) {
        return None;
    }
    // The domain: labels of `[A-Za-z0-9-]` joined by single dots.
    let mut end = p + 1;
    let mut labels: Vec<(usize, usize)> = Vec::new();
    loop {
        let len = run(b, end, |c| c.is_ascii_alphanumeric() || c == b'-');
        if len == 0 {
            break;
        }
        labels.push((end, end + len));
        end += len;
        let more =
            b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(|c| c.is_ascii_alphanumeric());
        if !more {
            break;
        }
        end += 1;
    }
    let (&(first_start, first_end), &(last_start, last_end)) = (labels.first()?, labels.last()?);
    let first = &b[first_start..first_end];
    let tld = &b[last_start..last_end];
    let density = first.len() >= 2
        && first.ends_with(b"x")
        && first[..first.len() - 1].iter().all(u8::is_ascii_digit);
    if labels.len() < 2 || tld.len() < 2 || !tld.iter().all(u8::is_ascii_alphabetic) || density {
        return None;
    }
    Some(Found {
        start: q,
        keep: q,
        end: last_end,
    })
}

/// A JSON Web Token `eyJ….….…` with its `eyJ` at `p`: two base64url segments of 10 or more
/// characters and a signature (possibly empty, `alg: none`). Shown as `eyJ[redacted]`.
fn jwt_at(b: &[u8], p: usize) -> Option<Found> {
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    if word_before(b, p, b"_-") {
        return None;
    }
    let header = run(b, p, b64);
    let dot = p + header;
    if header < 10 || b.get(dot) != Some(&b'.') {
        return None;
    }
    let payload = run(b, dot + 1, b64);
    if payload < 10 {
        return None;
    }
    let mut end = dot + 1 + payload;
    if b.get(end) == Some(&b'.') {
        end += 1 + run(b, end + 1, b64);
    }
    Some(Found {
        start: p,
        keep: p + 3,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact(s).into_owned()
    }

    const GHP: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

    #[test]
    fn github_tokens() {
        assert_eq!(r(GHP), "ghp_[redacted]");
        for pre in ["gho_", "ghu_", "ghs_", "ghr_"] {
            let t = format!("x {pre}{} y", "A1b2".repeat(6));
            assert_eq!(r(&t), format!("x {pre}[redacted] y"));
        }
        let pat = format!("github_pat_11ABCDEFG0_{}", "x".repeat(60));
        assert_eq!(r(&pat), "github_pat_[redacted]");
        assert_eq!(redact_whole(&pat), "[redacted]");
        // Boundaries: in a URL, at the end, before punctuation.
        assert_eq!(
            r(&format!("https://x:{GHP}@github.com/a/b.git")),
            "https://x:ghp_[redacted]@github.com/a/b.git"
        );
        assert_eq!(r(&format!("leaked {GHP}")), "leaked ghp_[redacted]");
        assert_eq!(r(&format!("({GHP}).")), "(ghp_[redacted]).");
        assert_eq!(
            r(&format!("{GHP}, {GHP}")),
            "ghp_[redacted], ghp_[redacted]"
        );
        // Not tokens.
        for s in [
            "ghost_town is quiet",
            "ghp_short",
            "ghp_",
            "gh_abcdefghijklmnopqrstuvwxyz",
            "é ghp_ é",
        ] {
            assert_eq!(r(s), s);
            assert!(matches!(redact(s), Cow::Borrowed(_)));
        }
        // 19 body characters is not enough, 20 is.
        assert_eq!(
            r(&format!("ghp_{}", "a".repeat(19))),
            format!("ghp_{}", "a".repeat(19))
        );
        assert_eq!(r(&format!("ghp_{}", "a".repeat(20))), "ghp_[redacted]");
    }

    #[test]
    fn aws_access_key_ids() {
        assert_eq!(
            r("key AKIAIOSFODNN7EXAMPLE in env"),
            "key AKIA[redacted] in env"
        );
        assert_eq!(r("ASIAIOSFODNN7EXAMPLE"), "ASIA[redacted]");
        assert_eq!(r("id=ASIAIOSFODNN7EXAMPL2&x"), "id=ASIA[redacted]&x");
        assert_eq!(r("\"AKIAIOSFODNN7EXAMPLE\","), "\"AKIA[redacted]\",");
        // Too short, too long, lower case, inside a word.
        for s in [
            "AKIAIOSFODNN7EXAMPL",
            "AKIAIOSFODNN7EXAMPLEX",
            "akiaiosfodnn7example",
            "XAKIAIOSFODNN7EXAMPLE",
            "ASIA and AKIA are prefixes",
            "MEDIA ASIA",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
    }

    #[test]
    fn sentry_openai_slack() {
        let sentry = format!(
            "sntrys_{}+/=_{}",
            "eyJpYXQiOjE3M".repeat(3),
            "a1".repeat(16)
        );
        assert_eq!(
            r(&format!("SENTRY_AUTH={sentry} ok")),
            "SENTRY_AUTH=sntrys_[redacted] ok"
        );
        assert_eq!(r(&sentry), "sntrys_[redacted]");
        assert_eq!(
            r(&format!("u sntryu_{}", "0f".repeat(32))),
            "u sntryu_[redacted]"
        );
        assert_eq!(r("sntrys_short"), "sntrys_short");

        let key = "sk-proj-Abc123def456ghi789jkl012mno345";
        assert_eq!(r(&format!("key {key}.")), "key sk-[redacted].");
        assert_eq!(r(&format!("OPENAI={key}")), "OPENAI=sk-[redacted]");
        for s in [
            "skill-based routing",
            "sk-short1",
            "task-runner-for-the-deployment-pipeline-2",
            "my_sk-0123456789abcdefghij0123",
            "sk-no-digits-in-this-long-branch-name",
        ] {
            assert_eq!(r(s), s, "{s}");
        }

        assert_eq!(
            r("slack xoxb-1234567890-0987654321-AbCdEfGh ok"),
            "slack xoxb-[redacted] ok"
        );
        assert_eq!(r("xoxp-12345-67890-abc"), "xoxp-[redacted]");
        for s in [
            "xoxo-1234567890123",
            "xoxb-short1",
            "xoxb-abcdefghijklmnop",
            "boxoxb-1234567890123",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
    }

    #[test]
    fn private_key_blocks() {
        let block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nq8x+/abc=\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            r(&format!("key:\n{block}\nafter")),
            "key:\n-----BEGIN RSA PRIVATE KEY-----[redacted]\nafter"
        );
        assert_eq!(redact_whole(block), "[redacted]");
        // On one line (a cleaned single-line string) and truncated (a cut log).
        assert_eq!(
            r(
                "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1r -----END OPENSSH PRIVATE KEY----- x"
            ),
            "-----BEGIN OPENSSH PRIVATE KEY-----[redacted] x"
        );
        assert_eq!(
            r("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B"),
            "-----BEGIN PRIVATE KEY-----[redacted]"
        );
        // Public material is not a secret.
        for s in [
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----\nMIIB",
            "--------",
        ] {
            assert_eq!(r(s), s);
        }
    }

    #[test]
    fn bearer_and_headers() {
        assert_eq!(
            r("Authorization: Bearer abc.def-ghi"),
            "Authorization: Bearer [redacted]"
        );
        assert_eq!(
            redact_whole("Authorization: Bearer abc.def-ghi"),
            "Authorization: [redacted]"
        );
        assert_eq!(
            r("curl -H 'Authorization: token ghp_x' u"),
            "curl -H 'Authorization: token [redacted]' u"
        );
        assert_eq!(
            r("authorization: Basic dXNlcjpwYXNz"),
            "authorization: Basic [redacted]"
        );
        assert_eq!(
            r("Proxy-Authorization: abc123"),
            "Proxy-Authorization: [redacted]"
        );
        assert_eq!(r("X-Api-Key: 0123abcd"), "X-Api-Key: [redacted]");
        assert_eq!(r("send Bearer xyz, then"), "send Bearer [redacted], then");
        assert_eq!(
            redact_whole(&format!("header bearer {}", "k".repeat(20))),
            "header [redacted]"
        );
        // Prose survives.
        for s in [
            "the bearer of bad news",
            "Bearer",
            "Bearer ",
            "token: expired",
            "the token is fine",
            "time 09:30:00",
            "Authorization:",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
    }

    #[test]
    fn key_values() {
        assert_eq!(r("token=abc123"), "token=[redacted]");
        assert_eq!(r(&format!("token={GHP}")), "token=[redacted]");
        assert_eq!(
            r("GET /x?access_token=abc123&page=2"),
            "GET /x?access_token=[redacted]&page=2"
        );
        assert_eq!(
            r("GITHUB_TOKEN=s3cr3t PASSWORD='hunter2' ok"),
            "GITHUB_TOKEN=[redacted] PASSWORD='[redacted]' ok"
        );
        assert_eq!(
            r(r#"{"token": "abc", "client_secret":"xyz"}"#),
            r#"{"token": "[redacted]", "client_secret":"[redacted]"}"#
        );
        assert_eq!(r("api_key=k1;"), "api_key=[redacted];");
        for s in [
            "max_tokens=1000",
            "token=",
            "a=b",
            "tokens: 5",
            "x == y",
            "token=[redacted]",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
    }

    #[test]
    fn url_passwords() {
        assert_eq!(
            r("DATABASE_URL postgres://app:s3cret@db.internal:5432/orders ok"),
            "DATABASE_URL postgres://app:[redacted]@db.internal:5432/orders ok"
        );
        assert_eq!(
            redact_whole("postgres://app:s3cret@db/x"),
            "postgres://app:[redacted]@db/x"
        );
        // The authority's last `@` ends the password; an empty user name; a quoted URL.
        assert_eq!(r("mysql://u:p@ss@h/d"), "mysql://u:[redacted]@h/d");
        assert_eq!(
            r("redis://:hunter2@cache:6379"),
            "redis://:[redacted]@cache:6379"
        );
        assert_eq!(
            r("url=\"amqp://guest:guest@mq/\""),
            "url=\"amqp://guest:[redacted]@mq/\""
        );
        // A token as the user name or the password keeps its own prefix.
        assert_eq!(
            r(&format!("https://{GHP}:x-oauth-basic@github.com/a")),
            "https://ghp_[redacted]:[redacted]@github.com/a"
        );
        // No password: nothing to mask; an `@` in the path is not user information.
        for s in [
            "https://user@host.example/x",
            "ssh://git@github.com/acme/web.git",
            "https://host/a@b",
            "postgres://app:[redacted]@db/x",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
    }

    #[test]
    fn json_web_tokens() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(r(&format!("cookie {jwt}; x")), "cookie eyJ[redacted]; x");
        assert_eq!(redact_whole(jwt), "[redacted]");
        // Unsigned (`alg: none`) and at the end of a sentence.
        assert_eq!(
            r("t eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. done"),
            "t eyJ[redacted] done"
        );
        for s in [
            "eyJhbGciOiJIUzI1NiJ9",
            "eyJ.eyJ.x",
            "keyJust.a.sentence",
            "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
    }

    #[test]
    fn email_addresses() {
        assert_eq!(
            r("reported by jane.doe+ops@example.co.uk."),
            "reported by [redacted]."
        );
        assert_eq!(r("<a_b-c@mail.acme.example>"), "<[redacted]>");
        assert_eq!(r("mailto:ops@acme.io,x"), "mailto:[redacted],x");
        assert_eq!(redact_whole("ops@acme.io"), "[redacted]");
        for s in [
            "git@github.com:acme/web.git",
            "icon@2x.png",
            "lodash@4.17.21",
            "user@localhost",
            "@acme/ui",
            "a@b.c",
            "x @ y.com",
            "foo@bar.",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
    }

    #[test]
    fn extra_patterns() {
        let pats =
            |p: &[&str]| ExtraPatterns::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let x = pats(&[
            "Project Nightingale",
            "*.corp.example",
            "cust-????",
            "ab",
            "**",
            " ",
        ]);
        assert_eq!(
            x.mask("PROJECT nightingale ships; see db1.corp.example, (api.corp.example). cust-4711 cust-47"),
            "[redacted] ships; see [redacted], ([redacted]). [redacted] cust-47"
        );
        // Too-short patterns are ignored; none left means nothing to do.
        let short = pats(&["ab", "*?*", "  x "]);
        assert!(short.is_empty());
        assert!(matches!(short.mask("ab x"), Cow::Borrowed(_)));
        // Overlapping literals become one mask; multi-byte text around them survives.
        let o = pats(&["acme-int", "internal"]);
        assert_eq!(o.mask("é acme-internal ü"), "é [redacted] ü");
        assert!(matches!(o.mask("nothing here"), Cow::Borrowed(_)));
        // Globs are whole words: no match inside a longer word or across spaces.
        let g = pats(&["*.corp.example", "a*b c"]);
        assert_eq!(g.mask("db1.corp.examples a1b c"), "db1.corp.examples a1b c");
        assert!(glob_match(&['a', '*', 'c'], &['a', 'b', 'b', 'c']));
        assert!(!glob_match(&['a', '*', 'c'], &['a', 'b', 'b']));
        assert!(glob_match(&['*'], &[]));
    }

    #[test]
    fn idempotent_and_borrowed_without_secrets() {
        for s in [
            format!("a {GHP} b AKIAIOSFODNN7EXAMPLE c Bearer xyz token=1 sk-0123456789abcdefghijk"),
            "Authorization: Bearer abc".to_string(),
            "-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----".to_string(),
            "postgres://u:p@ss@h/d mail ops@acme.io".to_string(),
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig".to_string(),
        ] {
            for f in [redact, redact_whole] {
                let once = f(&s).into_owned();
                assert_ne!(once, s);
                assert_eq!(f(&once), once, "{once}");
                assert!(matches!(f(&once), Cow::Borrowed(_)), "{once}");
                assert!(!contains_secret(&once));
            }
        }
        let plain = "2026-11-23T09:30:00Z step=3 fix_payment - retry (exit=0): ok\n".repeat(50);
        assert!(matches!(redact(&plain), Cow::Borrowed(_)));
        assert!(!contains_secret(&plain));
    }

    #[test]
    fn never_panics_on_odd_text() {
        for s in [
            "",
            "_",
            "-",
            "=",
            ":",
            "IA",
            "earer",
            "Bearer",
            "\"",
            "'='",
            "é=é",
            "ü:ü",
            "ghp_é",
            "tokén=x",
            "token=é",
            "-----BEGIN ",
            "-----BEGIN PRIVATE KEY-----",
            "AIA",
            "KIA",
        ] {
            let _ = redact(s);
            let _ = redact_whole(s);
        }
        // A value running into multi-byte text ends on a char boundary.
        assert_eq!(r("token=abcé def"), "token=[redacted] def");
        assert_eq!(r("Bearer 秘密 x"), "Bearer [redacted] x");
    }
}
