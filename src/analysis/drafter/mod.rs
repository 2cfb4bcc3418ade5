//! The regression-test drafter: from an incident's latest event to a test file in the repository's
//! own language, at its conventional place, that reproduces the crash where the event carries the
//! arguments and is otherwise a skipped skeleton. Pure: the caller fetched the tree, the manifests
//! ([`manifests`]) and the crashing file; nothing here reads a file, the network or the clock.
//!
//! - [`map_frame`] finds the crash frame's file in the tree ([`paths`]).
//! - [`Layout::detect`] reads the language, runner and test placement from the repository.
//! - [`draft`] writes the test: the outermost in-app frame whose arguments can all be rebuilt as
//!   literals from its `vars` (with the parameter names read from the function's signature) is
//!   called and the incident's exception asserted as an expected failure that flips when fixed.

mod go;
mod js;
mod layout;
mod literals;
pub mod paths;
mod python;
mod rust;

use std::fmt;

use serde_json::Value;

use crate::domain::{Frame, IncidentEvent};

pub use layout::{Language, Layout, Runner, manifests};
pub use paths::{Unmapped, map_frame};

use literals::{Lit, NotLiteral};

/// A drafted test file, ready for the editor and the PR.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Draft {
    /// Repository path of the file to commit.
    pub path: String,
    pub language: Language,
    /// The whole file to commit (for Rust's `#[cfg(test)]` module: the crash file with the module
    /// appended).
    pub contents: String,
    /// `path` is the crash file itself (Rust private functions), not a new file.
    pub modifies_existing: bool,
    /// The test's name (Python / Rust function, JS test title, Go `TestXxx`).
    pub function: String,
    /// The app's function the test calls (`refund_order`), or names for a skeleton; `None` when
    /// the crashing code has no callable name.
    pub calls: Option<String>,
    /// The test calls a function with arguments rebuilt from the event and asserts the
    /// incident's exception (an expected failure); `false` for a skipped skeleton.
    pub reproduces: bool,
    /// How the test was derived, one paragraph for the PR body.
    pub derivation: String,
}

/// Why no draft could be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftError {
    /// The event carries no exception.
    NoException,
    /// The raised exception has no frames.
    NoFrames,
    /// The crash file is in a language the drafter does not write (the path).
    Unsupported(String),
}

impl fmt::Display for DraftError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DraftError::NoException => write!(f, "the event carries no exception to reproduce"),
            DraftError::NoFrames => write!(f, "the event's exception has no stack frames"),
            DraftError::Unsupported(p) => write!(
                f,
                "no regression test can be drafted for `{p}`: the drafter writes Python, \
                 JavaScript, TypeScript, Rust and Go"
            ),
        }
    }
}

impl std::error::Error for DraftError {}

/// Draft a regression test for `event`, whose crash frame's file is `crash_path` in the repository
/// laid out as `layout`; `crash_source` is that file's contents when the caller has them.
pub fn draft(
    event: &IncidentEvent,
    crash_path: &str,
    layout: &Layout,
    crash_source: Option<&str>,
) -> Result<Draft, DraftError> {
    let raised = event.raised().ok_or(DraftError::NoException)?;
    if raised.frames.is_empty() {
        return Err(DraftError::NoFrames);
    }
    let crash = event.crash_frame().ok_or(DraftError::NoFrames)?;
    if Language::of_path(crash_path) != Some(layout.language) {
        return Err(DraftError::Unsupported(crate::sanitize::clean(crash_path)));
    }
    let ctx = Ctx {
        event,
        kind: raised.kind.clone(),
        value: raised.value.clone(),
        module: raised.module.clone(),
        crash,
        crash_path,
        layout,
        crash_source,
        slug: literals::snake(if event.short_id.is_empty() {
            &event.issue_id
        } else {
            &event.short_id
        }),
        short_id: if event.short_id.is_empty() {
            literals::cut(&crate::sanitize::clean(&event.issue_id), 40)
        } else {
            literals::cut(&crate::sanitize::clean(&event.short_id), 40)
        },
    };
    Ok(match layout.language {
        Language::Python => python::draft(&ctx),
        Language::JavaScript | Language::TypeScript => js::draft(&ctx),
        Language::Rust => rust::draft(&ctx),
        Language::Go => go::draft(&ctx),
    })
}

/// What every language's writer reads.
pub(crate) struct Ctx<'a> {
    pub event: &'a IncidentEvent,
    pub kind: String,
    pub value: String,
    pub module: Option<String>,
    pub crash: &'a Frame,
    pub crash_path: &'a str,
    pub layout: &'a Layout,
    pub crash_source: Option<&'a str>,
    /// The short id for names (`checkout_4c`).
    pub slug: String,
    /// The short id for text (`CHECKOUT-4C`), cleaned.
    pub short_id: String,
}

/// One parameter of a function's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub name: String,
    /// The declared type where the language has one in the signature (Rust, Go, TypeScript).
    pub ty: Option<String>,
    pub has_default: bool,
    /// Python: after `*`, passed by keyword only.
    pub keyword_only: bool,
}

/// A function's signature as read from its source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Signature {
    pub params: Vec<Param>,
    pub is_async: bool,
    /// Rust: `pub fn` (visible from `tests/`).
    pub is_pub: bool,
    /// JavaScript: `Some(false)` when the whole module was read and the function is not exported.
    pub exported: Option<bool>,
    /// JavaScript: the module's default export (`module.exports = f`, `export default function f`).
    pub default_export: bool,
    /// Rust: the function returns a value (`-> T`).
    pub returns: bool,
}

/// The call a reproducing test makes.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// Repository path of the file defining the function.
    pub path: String,
    pub function: String,
    /// Python: the frame's module (`worker.refunds`) when the SDK sent one.
    pub module: Option<String>,
    pub sig: Signature,
    /// Each argument's parameter and literal, in the signature's order.
    pub args: Vec<(Param, Lit)>,
    /// The frame's line (for the derivation).
    pub line: Option<u32>,
}

/// Reads the signature of `name` defined at or above `line` in numbered source lines.
pub(crate) type SignatureFn =
    fn(&[(u32, &str)], &str, u32, bool) -> Result<Signature, &'static str>;

/// What a language tells the frame chooser.
pub(crate) struct LangOps {
    /// The plain function name from a frame's `function` (`Object.chargeCard` → `chargeCard`),
    /// `None` when it is not a callable name (`<lambda>`, `<anonymous>`, a method).
    pub function_name: fn(&str) -> Option<String>,
    /// The signature of `name` defined at or above `line` in `lines`.
    /// `whole` says `lines` are the whole file (so exports can be read).
    pub signature: SignatureFn,
    /// A variable's value as a literal for `param`.
    pub literal: fn(&Value, &Param) -> Result<Lit, NotLiteral>,
    /// Frames in other files of the repository may be called (the test imports from any module).
    pub other_files: bool,
}

/// The chosen call (if any), the crash frame's function and signature, and a note per frame
/// passed over.
pub(crate) struct Choice {
    pub call: Option<Call>,
    pub crash_fn: Option<String>,
    pub crash_sig: Option<Signature>,
    pub notes: Vec<String>,
}

/// The source lines of `path`: the whole crashing file when it is `path` and the caller has it,
/// else the frame's context lines; and whether they are the whole file.
fn lines_for<'a>(ctx: &Ctx<'a>, frame: &'a Frame, path: &str) -> (Vec<(u32, &'a str)>, bool) {
    match ctx.crash_source {
        Some(src) if path == ctx.crash_path => {
            (src.lines().zip(1u32..).map(|(l, n)| (n, l)).collect(), true)
        }
        _ => (
            frame
                .context
                .iter()
                .map(|(n, l)| (*n, l.as_str()))
                .collect(),
            false,
        ),
    }
}

/// The repository path of `frame`'s file, placed the way the crash frame's was: the crash
/// frame's normalized path minus `crash_path` is the deploy prefix to strip.
fn repo_path_of(ctx: &Ctx, frame: &Frame) -> Option<String> {
    if frame.path() == ctx.crash.path() {
        return Some(ctx.crash_path.to_string());
    }
    let crash_norm = paths::normalize(ctx.crash.path()?);
    let prefix = if crash_norm == ctx.crash_path {
        ""
    } else {
        crash_norm.strip_suffix(&format!("/{}", ctx.crash_path))?
    };
    let norm = paths::normalize(frame.path()?);
    let rel = if prefix.is_empty() {
        norm.as_str()
    } else {
        norm.strip_prefix(&format!("{prefix}/"))?
    };
    (!rel.is_empty() && !paths::is_vendored(rel)).then(|| rel.to_string())
}

/// Choose the outermost in-app frame whose arguments can all be rebuilt as literals.
pub(crate) fn choose(ctx: &Ctx, ops: &LangOps) -> Choice {
    let mut notes = Vec::new();
    let mut call = None;
    let frames: Vec<&Frame> = ctx.event.in_app_frames().collect();
    let crash_fn = ctx
        .crash
        .function
        .as_deref()
        .and_then(|f| (ops.function_name)(f));
    let crash_sig = crash_fn.as_deref().and_then(|name| {
        let (lines, whole) = lines_for(ctx, ctx.crash, ctx.crash_path);
        (ops.signature)(&lines, name, ctx.crash.line.unwrap_or(u32::MAX), whole).ok()
    });
    for frame in frames {
        let shown = literals::cut(
            &crate::sanitize::clean(frame.function.as_deref().unwrap_or("?")),
            60,
        );
        let Some(path) = repo_path_of(ctx, frame) else {
            notes.push(format!(
                "`{shown}`: its file could not be placed in the repository"
            ));
            continue;
        };
        if path != ctx.crash_path && !ops.other_files {
            notes.push(format!(
                "`{shown}`: it is in another file than the crash frame"
            ));
            continue;
        }
        if Language::of_path(&path) != Some(ctx.layout.language) {
            notes.push(format!("`{shown}`: its file is in another language"));
            continue;
        }
        let Some(name) = frame
            .function
            .as_deref()
            .and_then(|f| (ops.function_name)(f))
        else {
            notes.push(format!(
                "`{shown}`: not a function that can be called by name"
            ));
            continue;
        };
        let (lines, whole) = lines_for(ctx, frame, &path);
        // In the whole file, a definition below the frame's line (the file changed since the
        // release) still counts when none is above it.
        let line = frame.line.unwrap_or(u32::MAX);
        let sig = (ops.signature)(&lines, &name, line, whole).or_else(|e| {
            if whole {
                (ops.signature)(&lines, &name, u32::MAX, whole)
            } else {
                Err(e)
            }
        });
        let sig = match sig {
            Ok(sig) => sig,
            Err(why) => {
                notes.push(format!("`{name}`: {why}"));
                continue;
            }
        };
        if sig.exported == Some(false) {
            notes.push(format!("`{name}`: the module does not export it"));
            continue;
        }
        let mut args = Vec::new();
        let mut failed = None;
        for p in &sig.params {
            match frame.vars.iter().find(|(k, _)| *k == p.name) {
                Some((_, v)) => match (ops.literal)(v, p) {
                    Ok(lit) => args.push((p.clone(), lit)),
                    Err(why) => {
                        failed = Some(format!("`{name}`: `{}` is {why}", p.name));
                        break;
                    }
                },
                None if p.has_default => {}
                None => {
                    failed = Some(format!("`{name}`: the event has no value for `{}`", p.name));
                    break;
                }
            }
        }
        if let Some(why) = failed {
            notes.push(why);
            continue;
        }
        call = Some(Call {
            path,
            function: name,
            module: frame.module.clone(),
            sig,
            args,
            line: frame.line,
        });
        break;
    }
    Choice {
        call,
        crash_fn,
        crash_sig,
        notes,
    }
}

impl Ctx<'_> {
    /// The comment header's lines (without the comment marker), all cleaned and cut.
    pub fn header(&self, derivation: &str) -> Vec<String> {
        // The first two lines hold no event text: Python reads an encoding declaration there.
        let mut out = vec![
            "Regression test drafted by flightdeck from a Sentry incident.".to_string(),
            String::new(),
            literals::comment_text(&format!("Sentry issue {}", self.short_id), 300),
            literals::comment_text(&format!("{}: {}", self.kind, self.value), 300),
        ];
        let file = self.crash.path().unwrap_or(self.crash_path);
        let at = match self.crash.line {
            Some(l) => format!("{file}:{l}"),
            None => file.to_string(),
        };
        let func = self.crash.function.as_deref().unwrap_or("?");
        out.push(literals::comment_text(
            &format!(
                "Crash frame: {at} in {func} (in the repository: {})",
                self.crash_path
            ),
            300,
        ));
        if !self.event.url.is_empty() {
            out.push(literals::comment_text(
                &format!("Sentry: {}", self.event.url),
                300,
            ));
        }
        let mut where_ = Vec::new();
        if let Some(r) = &self.event.release {
            where_.push(format!("release {r}"));
        }
        if let Some(e) = &self.event.environment {
            where_.push(format!("environment {e}"));
        }
        if !where_.is_empty() {
            out.push(literals::comment_text(&where_.join(", "), 300));
        }
        out.push(String::new());
        out.extend(wrap(&literals::comment_text(derivation, 4000), 92));
        out
    }

    /// The crash as text for reasons and derivations: `ZeroDivisionError in split_refund at
    /// worker/refunds.py:6`.
    pub fn crash_text(&self) -> String {
        let func = self.crash.function.as_deref().unwrap_or("?");
        let at = match self.crash.line {
            Some(l) => format!("{}:{l}", self.crash_path),
            None => self.crash_path.to_string(),
        };
        literals::cut(
            &crate::sanitize::clean(&format!("{} in {func} at {at}", self.kind)),
            200,
        )
    }
}

/// The derivation paragraph shared by the languages: which frame crashed, which was called (or
/// why none could be), and what the test's marking means.
pub(crate) fn derivation(ctx: &Ctx, choice: &Choice, marking: &str) -> String {
    let mut s = format!(
        "The crash frame is the last in-app frame of the raised exception: {}. ",
        ctx.crash_text()
    );
    match &choice.call {
        Some(call) => {
            let names: Vec<&str> = call.args.iter().map(|(p, _)| p.name.as_str()).collect();
            let at = match call.line {
                Some(l) => format!("{}:{l}", call.path),
                None => call.path.clone(),
            };
            s.push_str(&format!(
                "The test calls `{}` ({at}), the outermost in-app frame whose arguments could all be \
                 rebuilt as literals from the event's local variables ({}), with the parameter \
                 names read from its signature. ",
                call.function,
                if names.is_empty() {
                    "it takes none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        }
        None => s.push_str(
            "No in-app frame's arguments could all be rebuilt from the event, so the test is a \
             skipped skeleton that names the crashing function; fill in its arguments from the \
             incident and unskip it. ",
        ),
    }
    if !choice.notes.is_empty() {
        let shown: Vec<&str> = choice.notes.iter().take(8).map(String::as_str).collect();
        s.push_str(&format!("Passed over: {}", shown.join("; ")));
        if choice.notes.len() > 8 {
            s.push_str(&format!(" and {} more frames", choice.notes.len() - 8));
        }
        s.push_str(". ");
    }
    s.push_str(marking);
    literals::cut(&crate::sanitize::clean(&s), 3000)
}

/// `text` broken into lines of at most `width` characters at spaces (a longer word stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Header lines as line comments with `marker` (`#`, `//`); empty lines carry the bare marker.
pub(crate) fn comment_block(lines: &[String], marker: &str) -> String {
    let mut out = String::new();
    for l in lines {
        if l.is_empty() {
            out.push_str(marker);
        } else {
            out.push_str(marker);
            out.push(' ');
            out.push_str(l);
        }
        out.push('\n');
    }
    out
}

/// The parameter list of the signature on `lines[start]`, given `first`, its text after the `(`:
/// the next lines (each through `each`) joined on until the `)` that closes it, which must come
/// on consecutive lines. The joined text and the index of that `)`.
pub(crate) fn parameter_text(
    lines: &[(u32, &str)],
    start: usize,
    first: String,
    each: impl Fn(&str) -> String,
) -> Result<(String, usize), &'static str> {
    let mut text = first;
    let mut prev = lines[start].0;
    for (n, l) in &lines[start + 1..] {
        if close_paren(&text).is_some() {
            break;
        }
        if *n != prev + 1 {
            return Err("its signature is cut off");
        }
        prev = *n;
        text.push(' ');
        text.push_str(&each(l));
    }
    let end = close_paren(&text).ok_or("its signature is cut off")?;
    Ok((text, end))
}

/// The index of the `)` closing the parameter list (`text` starts after the `(`).
pub(crate) fn close_paren(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `text` split at commas outside brackets and quotes.
pub(crate) fn split_top(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}
