//! A frame's local variables (as the SDK sent them) rebuilt as source literals, and strings
//! escaped so that any text stays inside its literal or comment.
//!
//! Every emitted literal is plain ASCII: anything outside printable ASCII is written as an
//! escape, so no control, bidirectional or line-breaking character reaches the drafted file.

use serde_json::Value;

/// A literal as a tree, so long ones can be laid out over several lines.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Atom(String),
    Seq(Vec<Lit>),
    Map(Vec<(String, Lit)>),
}

impl Lit {
    /// The literal on one line.
    pub fn flat(&self, dialect: Dialect) -> String {
        match self {
            Lit::Atom(s) => s.clone(),
            Lit::Seq(items) => {
                let inner: Vec<String> = items.iter().map(|i| i.flat(dialect)).collect();
                format!("[{}]", inner.join(", "))
            }
            Lit::Map(entries) if entries.is_empty() => "{}".to_string(),
            Lit::Map(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.flat(dialect)))
                    .collect();
                match dialect {
                    Dialect::Python => format!("{{{}}}", inner.join(", ")),
                    Dialect::Js => format!("{{ {} }}", inner.join(", ")),
                }
            }
        }
    }

    /// The literal laid out to fit `width` columns when it starts at column `col` of a line
    /// indented by `indent` (nested lines indented four more, trailing commas where it breaks).
    pub fn render(&self, dialect: Dialect, indent: usize, col: usize, width: usize) -> String {
        let flat = self.flat(dialect);
        if col + flat.len() <= width {
            return flat;
        }
        let inner = indent + 4;
        let pad = " ".repeat(inner);
        let end = " ".repeat(indent);
        match self {
            Lit::Seq(items) if !items.is_empty() => {
                let mut out = String::from("[\n");
                for i in items {
                    out.push_str(&format!(
                        "{pad}{},\n",
                        i.render(dialect, inner, inner, width)
                    ));
                }
                out.push_str(&format!("{end}]"));
                out
            }
            Lit::Map(entries) if !entries.is_empty() => {
                let mut out = String::from("{\n");
                for (k, v) in entries {
                    let at = inner + k.len() + 2;
                    out.push_str(&format!(
                        "{pad}{k}: {},\n",
                        v.render(dialect, inner, at, width)
                    ));
                }
                out.push_str(&format!("{end}}}"));
                out
            }
            _ => flat,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Python,
    Js,
}

/// Why a variable is not a literal (for the derivation paragraph): the reason, never the value.
pub type NotLiteral = &'static str;

/// A Python SDK variable as a Python literal. Strings must be Python reprs (`'ord_1842'`); other
/// strings (`<RefundMessage …>`, `[Filtered]`, truncated reprs) are objects that were not sent.
pub fn python(value: &Value, depth: usize) -> Result<Lit, NotLiteral> {
    if depth > 32 {
        return Err("nested too deeply");
    }
    Ok(match value {
        Value::Null => Lit::Atom("None".into()),
        Value::Bool(true) => Lit::Atom("True".into()),
        Value::Bool(false) => Lit::Atom("False".into()),
        Value::Number(n) => Lit::Atom(number(n).ok_or("a number without a literal")?),
        Value::String(s) => {
            let text = decode_python_repr(s).ok_or("not a literal (an object's repr)")?;
            Lit::Atom(python_str(&text))
        }
        Value::Array(items) => Lit::Seq(
            items
                .iter()
                .map(|i| python(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Lit::Map(
            map.iter()
                .map(|(k, v)| Ok((python_str(k), python(v, depth + 1)?)))
                .collect::<Result<_, NotLiteral>>()?,
        ),
    })
}

/// A JavaScript SDK variable as a JavaScript literal. The SDKs' placeholders (`[Function: f]`,
/// `[undefined]`, `[Circular ~]`, `<anonymous>`) are not literals.
pub fn js(value: &Value, depth: usize) -> Result<Lit, NotLiteral> {
    if depth > 32 {
        return Err("nested too deeply");
    }
    Ok(match value {
        Value::Null => Lit::Atom("null".into()),
        Value::Bool(b) => Lit::Atom(b.to_string()),
        Value::Number(n) => Lit::Atom(number(n).ok_or("a number without a literal")?),
        Value::String(s) => {
            if is_placeholder(s) {
                return Err("not a literal (an SDK placeholder)");
            }
            Lit::Atom(js_str(s))
        }
        Value::Array(items) => Lit::Seq(
            items
                .iter()
                .map(|i| js(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Lit::Map(
            map.iter()
                .map(|(k, v)| {
                    // A quoted `__proto__` key would still set the prototype; a computed one does not.
                    let key = if k == "__proto__" {
                        format!("[{}]", js_str(k))
                    } else {
                        js_str(k)
                    };
                    Ok((key, js(v, depth + 1)?))
                })
                .collect::<Result<_, NotLiteral>>()?,
        ),
    })
}

fn is_placeholder(s: &str) -> bool {
    let t = s.trim();
    (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('<') && t.ends_with('>'))
}

/// A JSON number as a literal that Python, JavaScript, Rust and Go all read as that number.
pub fn number(n: &serde_json::Number) -> Option<String> {
    if let Some(i) = n.as_i64() {
        return Some(i.to_string());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.to_string());
    }
    let f = n.as_f64()?;
    if !f.is_finite() {
        return None;
    }
    let s = format!("{f:?}");
    Some(if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    })
}

/// The text of a Python `str` repr (`'it\'s'`, `"a\n"`), or `None` when `s` is not exactly one.
pub fn decode_python_repr(s: &str) -> Option<String> {
    let mut chars = s.chars();
    let quote = chars.next()?;
    if quote != '\'' && quote != '"' {
        return None;
    }
    let body = s.get(1..)?.strip_suffix(quote)?;
    let mut out = String::with_capacity(body.len());
    let mut it = body.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                let e = it.next()?;
                match e {
                    '\\' | '\'' | '"' => out.push(e),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '0' => out.push('\0'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = it.by_ref().take(n).collect();
                        if hex.len() != n {
                            return None;
                        }
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(code)?);
                    }
                    _ => return None,
                }
            }
            c if c == quote || c == '\n' || c == '\r' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// `text` between `quote`s in plain ASCII: backslash, the quote, `\n`, `\r` and `\t` escaped the
/// way every C-like language writes them, printable ASCII as is, anything else by `other`.
fn quoted(text: &str, quote: char, other: fn(u32) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c => out.push_str(&other(c as u32)),
        }
    }
    out.push(quote);
    out
}

/// `text` as a double-quoted Python string literal in plain ASCII.
pub fn python_str(text: &str) -> String {
    quoted(text, '"', |u| match u {
        u if u < 0x100 => format!("\\x{u:02x}"),
        u if u < 0x10000 => format!("\\u{u:04x}"),
        u => format!("\\U{u:08x}"),
    })
}

/// `text` as a single-quoted JavaScript string literal in plain ASCII.
pub fn js_str(text: &str) -> String {
    quoted(text, '\'', |u| match u {
        u if u < 0x10000 => format!("\\u{u:04x}"),
        u => format!("\\u{{{u:x}}}"),
    })
}

/// `text` as a Rust string literal in plain ASCII.
pub fn rust_str(text: &str) -> String {
    quoted(text, '"', |u| format!("\\u{{{u:x}}}"))
}

/// `text` as a Go interpreted string literal in plain ASCII.
pub fn go_str(text: &str) -> String {
    quoted(text, '"', |u| match u {
        u if u < 0x10000 => format!("\\u{u:04x}"),
        u => format!("\\U{u:08x}"),
    })
}

/// Untrusted text for a line comment: cleaned (controls, escapes, line breaks, secrets), the
/// sequences that could close or confuse a comment defused, and cut to `max` characters.
pub fn comment_text(text: &str, max: usize) -> String {
    let cleaned = crate::sanitize::clean(text);
    let defused = cleaned.replace("*/", "* /").replace("/*", "/ *");
    cut(&defused, max)
}

/// `text` cut to at most `max` characters, with `…` when it was longer.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Whether `s` is an identifier in the C family's sense (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `text` in lower snake case for names (`CHECKOUT-4C` → `checkout_4c`), never empty and never
/// starting with a digit.
pub fn snake(text: &str) -> String {
    let mut out = String::new();
    let mut last_us = true;
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !last_us {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            last_us = false;
            prev_lower = c.is_ascii_lowercase();
        } else if !last_us {
            out.push('_');
            last_us = true;
            prev_lower = false;
        }
    }
    let out: String = out.chars().take(40).collect();
    let out = out.trim_end_matches('_').to_string();
    match out.chars().next() {
        None => "incident".to_string(),
        Some(c) if c.is_ascii_digit() => format!("n{out}"),
        Some(_) => out,
    }
}
