//! Rust: `#[cfg(test)] mod regression_<id>` appended to the module for a private function (unit
//! tests see private items), `tests/regression_<id>.rs` for a `pub fn` of a library crate;
//! `#[should_panic(expected = "<message>")]` when the arguments are rebuilt, else `#[ignore]`.

use serde_json::Value;

use super::literals::{self, Lit, NotLiteral};
use super::{Choice, Ctx, Draft, LangOps, Language, Param, Signature};

const OPS: LangOps = LangOps {
    function_name,
    signature,
    literal,
    other_files: false,
};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

fn is_name(s: &str) -> bool {
    literals::is_ident(s) && !KEYWORDS.contains(&s) && s != "_"
}

fn function_name(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = raw.trim().split("::").collect();
    // A symbol hash (`::h0123456789abcdef`) is not part of the name.
    if parts.len() > 1
        && parts.last().is_some_and(|h| {
            h.len() == 17 && h.starts_with('h') && h[1..].chars().all(|c| c.is_ascii_hexdigit())
        })
    {
        parts.pop();
    }
    let name = parts.last()?.trim();
    is_name(name).then(|| name.to_string())
}

/// Lifetimes (`'a`, `'static`) taken out, so quotes mean nothing in a signature.
fn without_lifetimes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A module-level `fn name(…)` at or above `line`.
fn signature(
    lines: &[(u32, &str)],
    name: &str,
    line: u32,
    _whole: bool,
) -> Result<Signature, &'static str> {
    let mut found = None;
    for (i, (n, text)) in lines.iter().enumerate() {
        if *n > line {
            break;
        }
        if let Some(d) = declaration(text.trim_start(), name) {
            found = Some((i, d, text.len() != text.trim_start().len()));
        }
    }
    let (start, (open, is_pub), indented) =
        found.ok_or("its signature is not in the source or the frame's context")?;
    if indented {
        return Err("it is a method, in an inline module, or nested");
    }
    let first = lines[start].1.trim_start();
    if first[..open].contains("async ") {
        return Err("it is async");
    }
    let rest = &first[open..];
    if rest.starts_with('<') {
        return Err("it is generic");
    }
    let text = without_lifetimes(
        rest.strip_prefix('(')
            .ok_or("its signature could not be read")?,
    );
    let (text, end) = super::parameter_text(lines, start, text, without_lifetimes)?;
    let returns = text[end + 1..].trim_start().starts_with("->");
    let mut params = Vec::new();
    for p in super::split_top(&text[..end]) {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let Some((pat, ty)) = p.split_once(':') else {
            return Err("it is a method");
        };
        let pat = pat.trim();
        let pat = pat.strip_prefix("mut ").unwrap_or(pat).trim();
        if !is_name(pat) {
            return Err("its parameters are patterns");
        }
        params.push(Param {
            name: pat.to_string(),
            ty: Some(ty.split_whitespace().collect::<Vec<_>>().join(" ")),
            has_default: false,
            keyword_only: false,
        });
    }
    Ok(Signature {
        params,
        is_pub,
        returns,
        ..Signature::default()
    })
}

/// Where `fn name` ends in a declaration line (`pub`, `pub(crate)`, `const`, `unsafe`, `extern
/// "C"` allowed before it), and whether it is `pub`.
fn declaration(t: &str, name: &str) -> Option<(usize, bool)> {
    let len = t.len();
    let mut rest = t;
    let mut is_pub = false;
    if let Some(r) = rest.strip_prefix("pub") {
        if let Some(r) = r.strip_prefix('(') {
            rest = r.split_once(')')?.1.trim_start();
        } else {
            rest = r.strip_prefix(' ')?.trim_start();
            is_pub = true;
        }
    }
    loop {
        let before = rest;
        for q in ["const ", "async ", "unsafe ", "extern \"C\" ", "extern "] {
            if let Some(r) = rest.strip_prefix(q) {
                rest = r.trim_start();
            }
        }
        if before == rest {
            break;
        }
    }
    let r = rest.strip_prefix("fn ")?.trim_start().strip_prefix(name)?;
    if !r.starts_with(['(', '<']) {
        return None;
    }
    Some((len - r.len(), is_pub))
}

fn literal(value: &Value, param: &Param) -> Result<Lit, NotLiteral> {
    typed(value, param.ty.as_deref().unwrap_or(""), 0).map(Lit::Atom)
}

const NO_TYPE: NotLiteral = "of a type the drafter does not rebuild";

/// `value` as a Rust expression of type `ty`.
fn typed(value: &Value, ty: &str, depth: usize) -> Result<String, NotLiteral> {
    if depth > 8 {
        return Err("nested too deeply");
    }
    let ty = ty.trim();
    let int_range: Option<(i128, i128)> = match ty {
        "i8" => Some((i8::MIN.into(), i8::MAX.into())),
        "i16" => Some((i16::MIN.into(), i16::MAX.into())),
        "i32" => Some((i32::MIN.into(), i32::MAX.into())),
        "i64" | "isize" => Some((i64::MIN.into(), i64::MAX.into())),
        "i128" => Some((i128::MIN, i128::MAX)),
        "u8" => Some((0, u8::MAX.into())),
        "u16" => Some((0, u16::MAX.into())),
        "u32" => Some((0, u32::MAX.into())),
        "u64" | "usize" | "u128" => Some((0, u64::MAX.into())),
        _ => None,
    };
    if let Some((lo, hi)) = int_range {
        let v: i128 = match value {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .ok_or("not an integer")?,
            _ => return Err("not an integer"),
        };
        return if (lo..=hi).contains(&v) {
            Ok(v.to_string())
        } else {
            Err("out of its type's range")
        };
    }
    match (ty, value) {
        ("f32" | "f64", Value::Number(n)) => literals::number(n)
            .ok_or("a number without a literal")
            .map(|s| {
                if s.contains(['.', 'e', 'E']) {
                    s
                } else {
                    format!("{s}.0")
                }
            }),
        ("bool", Value::Bool(b)) => Ok(b.to_string()),
        ("&str", Value::String(s)) => Ok(literals::rust_str(s)),
        ("String", Value::String(s)) => Ok(format!("String::from({})", literals::rust_str(s))),
        ("char", Value::String(s)) => {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Ok(rust_char(c)),
                _ => Err("not a single character"),
            }
        }
        (_, _) if ty.starts_with("Option<") && ty.ends_with('>') => {
            let inner = &ty[7..ty.len() - 1];
            match value {
                Value::Null => Ok("None".into()),
                v => Ok(format!("Some({})", typed(v, inner, depth + 1)?)),
            }
        }
        (_, Value::Array(items)) if ty.starts_with("&[") && ty.ends_with(']') => {
            let inner = &ty[2..ty.len() - 1];
            let parts: Vec<String> = items
                .iter()
                .map(|i| typed(i, inner, depth + 1))
                .collect::<Result<_, _>>()?;
            Ok(format!("&[{}]", parts.join(", ")))
        }
        (_, Value::Array(items)) if ty.starts_with("Vec<") && ty.ends_with('>') => {
            let inner = &ty[4..ty.len() - 1];
            let parts: Vec<String> = items
                .iter()
                .map(|i| typed(i, inner, depth + 1))
                .collect::<Result<_, _>>()?;
            Ok(format!("vec![{}]", parts.join(", ")))
        }
        _ => Err(NO_TYPE),
    }
}

fn rust_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '\\' => "'\\\\'".into(),
        ' '..='~' => format!("'{c}'"),
        c => format!("'\\u{{{:x}}}'", c as u32),
    }
}

/// The module path of a file of the crate's `src/` (`src/a/b.rs` → `a::b`, `src/lib.rs` → ``).
fn module_path(crash_path: &str, project_root: &str) -> Option<String> {
    let src = if project_root.is_empty() {
        "src/".to_string()
    } else {
        format!("{project_root}/src/")
    };
    let rel = crash_path.strip_prefix(&src)?.strip_suffix(".rs")?;
    if rel == "lib" {
        return Some(String::new());
    }
    let rel = rel.strip_suffix("/mod").unwrap_or(rel);
    let parts: Vec<&str> = rel.split('/').collect();
    parts.iter().all(|p| is_name(p)).then(|| parts.join("::"))
}

pub(super) fn draft(ctx: &Ctx) -> Draft {
    let choice = super::choose(ctx, &OPS);
    let reproduces = choice.call.is_some();
    let expected = literals::cut(&ctx.value, 500);
    let marking = if reproduces {
        "It is `#[should_panic]` with the incident's message: it passes while the panic \
         reproduces and fails once it is fixed; then assert the fixed behaviour instead."
    } else {
        "It is `#[ignore]`d until the arguments are filled in."
    };
    let derivation = super::derivation(ctx, &choice, marking);
    let (function, sig) = match (&choice.call, &choice.crash_fn) {
        (Some(c), _) => (Some(c.function.clone()), Some(c.sig.clone())),
        (None, f) => (f.clone(), choice.crash_sig.clone()),
    };
    let test_name = format!(
        "test_{}_{}",
        ctx.slug,
        literals::snake(function.as_deref().unwrap_or("crash"))
    );
    let module = module_path(ctx.crash_path, &ctx.layout.project_root);
    // `tests/` for a `pub fn` of the library (reachable by path), else the module itself.
    let external = match (&ctx.layout.rust_lib, &module, &sig) {
        (Some(lib), Some(m), Some(s)) if s.is_pub && function.is_some() => Some(if m.is_empty() {
            format!("{lib}::{}", function.as_deref().unwrap_or(""))
        } else {
            format!("{lib}::{m}::{}", function.as_deref().unwrap_or(""))
        }),
        _ => None,
    };
    let header = super::comment_block(&ctx.header(&derivation), "//");
    let test_fn = test_fn(
        ctx,
        &choice,
        &test_name,
        function.as_deref(),
        sig.as_ref(),
        &expected,
    );

    match (external, ctx.crash_source) {
        (None, Some(source)) => {
            let marker = format!("// flightdeck: regression test for {}", ctx.short_id);
            let base = match source.find(&marker) {
                Some(i) => &source[..i],
                None => source,
            };
            let mut out = base.trim_end().to_string();
            out.push_str("\n\n");
            out.push_str(&marker);
            out.push('\n');
            out.push_str(&header);
            out.push_str(&format!(
                "#[cfg(test)]\nmod regression_{} {{\n    #[allow(unused_imports)]\n    use super::*;\n\n",
                ctx.slug
            ));
            for l in test_fn.lines() {
                if l.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("    {l}\n"));
                }
            }
            out.push_str("}\n");
            Draft {
                path: ctx.crash_path.to_string(),
                language: Language::Rust,
                contents: out,
                modifies_existing: true,
                function: test_name,
                calls: function.clone(),
                reproduces,
                derivation,
            }
        }
        (external, _) => {
            let mut out = header;
            out.push('\n');
            let reproduces = reproduces && external.is_some();
            match &external {
                Some(path) => out.push_str(&format!("#[allow(unused_imports)]\nuse {path};\n\n")),
                None => out.push_str(&format!(
                    "// The crashing module's source was not available: import `{}` from the\n// crate and call it here.\n\n",
                    function.as_deref().unwrap_or("the crashing function")
                )),
            }
            let body = if external.is_some() {
                test_fn
            } else {
                let empty = Choice {
                    call: None,
                    crash_fn: None,
                    crash_sig: None,
                    notes: Vec::new(),
                };
                self::test_fn(ctx, &empty, &test_name, None, None, &expected)
            };
            out.push_str(&body);
            Draft {
                path: format!(
                    "{}/regression_{}.rs",
                    ctx.layout.test_dir.trim_end_matches('/'),
                    ctx.slug
                )
                .trim_start_matches('/')
                .to_string(),
                language: Language::Rust,
                contents: out,
                modifies_existing: false,
                function: test_name,
                calls: function.clone(),
                reproduces,
                derivation,
            }
        }
    }
}

/// The `#[test]` function, unindented.
fn test_fn(
    ctx: &Ctx,
    choice: &Choice,
    test_name: &str,
    function: Option<&str>,
    sig: Option<&Signature>,
    expected: &str,
) -> String {
    let mut out = String::from("#[test]\n");
    match &choice.call {
        Some(call) => {
            if expected.is_empty() {
                out.push_str("#[should_panic]\n");
            } else {
                out.push_str(&format!(
                    "#[should_panic(expected = {})]\n",
                    literals::rust_str(expected)
                ));
            }
            let args: Vec<String> = call
                .args
                .iter()
                .map(|(_, l)| l.flat(literals::Dialect::Js))
                .collect();
            let call_text = format!("{}({})", call.function, args.join(", "));
            out.push_str(&format!("fn {test_name}() {{\n"));
            if call.sig.returns {
                out.push_str(&format!("    let _ = {call_text};\n"));
            } else {
                out.push_str(&format!("    {call_text};\n"));
            }
            out.push_str("}\n");
        }
        None => {
            let reason = format!(
                "{}: the event does not rebuild the arguments of {}; fill them in from the incident",
                ctx.short_id,
                function.unwrap_or("the crashing function")
            );
            out.push_str(&format!(
                "#[ignore = {}]\n",
                literals::rust_str(&literals::cut(&crate::sanitize::clean(&reason), 300))
            ));
            out.push_str(&format!("fn {test_name}() {{\n"));
            if let Some(f) = function {
                let names = sig
                    .map(|s| {
                        s.params
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|| "…".into());
                out.push_str(&format!("    // {f}({names})\n"));
            }
            if !expected.is_empty() {
                out.push_str(&format!(
                    "    // Then mark it #[should_panic(expected = {})].\n",
                    literals::comment_text(&literals::rust_str(expected), 300)
                ));
            }
            out.push_str(&format!(
                "    todo!({});\n}}\n",
                literals::rust_str("call the crashing function with the incident's arguments")
            ));
        }
    }
    out
}
