//! JavaScript and TypeScript: jest (`test.failing`), vitest (`test.fails`) or `node:test` (a
//! `todo` test with `assert.rejects`), in `__tests__/` or beside the file as the package already
//! does; a skipped skeleton when the arguments cannot be rebuilt.
//!
//! The drafts use no TypeScript-only syntax, so a TypeScript draft is also an ES module that
//! `node --check` parses.

use serde_json::Value;

use super::literals::{self, Dialect, Lit, NotLiteral};
use super::{Call, Ctx, Draft, LangOps, Language, Param, Runner, Signature};

const OPS: LangOps = LangOps {
    function_name,
    signature,
    literal,
    other_files: true,
};

const RESERVED: &[&str] = &[
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "let",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "async",
    "undefined",
];

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !RESERVED.contains(&s)
}

fn function_name(raw: &str) -> Option<String> {
    let mut t = raw.trim();
    for prefix in ["async ", "new "] {
        t = t.strip_prefix(prefix).unwrap_or(t);
    }
    let name = t.rsplit('.').next().unwrap_or(t);
    is_name(name).then(|| name.to_string())
}

/// Where `name`'s parameter list starts in `t` (a top-level line), with what the declaration
/// says: `(index after '(', async, exported, default export)`.
fn declaration(t: &str, name: &str) -> Option<(usize, bool, bool, bool)> {
    let len = t.len();
    let mut rest = t;
    let mut exported = false;
    let mut default = false;
    let mut is_async = false;
    if let Some(r) = rest.strip_prefix("export ") {
        exported = true;
        rest = r.trim_start();
        if let Some(r) = rest.strip_prefix("default ") {
            default = true;
            rest = r.trim_start();
        }
    }
    if let Some(r) = rest.strip_prefix("async ") {
        is_async = true;
        rest = r.trim_start();
    }
    if let Some(r) = rest.strip_prefix("function ") {
        let r = r.trim_start().strip_prefix(name)?;
        let r = r.trim_start().strip_prefix('(')?;
        return Some((len - r.len(), is_async, exported, default));
    }
    if default {
        return None;
    }
    let r = ["const ", "let ", "var "]
        .iter()
        .find_map(|k| rest.strip_prefix(k))?;
    let r = r.trim_start().strip_prefix(name)?;
    let r = r.trim_start().strip_prefix('=')?.trim_start();
    let (r, is_async) = match r.strip_prefix("async ") {
        Some(r) => (r.trim_start(), true),
        None => (r, false),
    };
    let r = match r.strip_prefix("function") {
        Some(f) => {
            let f = f.trim_start();
            let f = f.strip_prefix(name).unwrap_or(f).trim_start();
            f.strip_prefix('(')?
        }
        None => r.strip_prefix('(')?,
    };
    Some((len - r.len(), is_async, exported, false))
}

/// A top-level `function name(…)`, `const name = (…) =>` or `const name = function (…)`, at or
/// above `line`.
fn signature(
    lines: &[(u32, &str)],
    name: &str,
    line: u32,
    whole: bool,
) -> Result<Signature, &'static str> {
    let mut found = None;
    for (i, (n, text)) in lines.iter().enumerate() {
        if *n > line {
            break;
        }
        let t = text.trim_start();
        if let Some(d) = declaration(t, name) {
            found = Some((i, d, text.len() != t.len()));
        }
    }
    let (start, (open, is_async, mut exported, default_export), indented) =
        found.ok_or("its signature is not in the source or the frame's context")?;
    if indented {
        return Err("it is a method or a nested function");
    }
    let first = lines[start].1.trim_start();
    let text = first[open..].to_string();
    let (text, end) = super::parameter_text(lines, start, text, |l| l.to_string())?;
    if text[..end].contains("/*") || text[..end].contains("//") {
        return Err("its signature could not be read");
    }
    let mut params = Vec::new();
    for p in super::split_top(&text[..end]) {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if p.starts_with("...") {
            return Err("it takes rest parameters");
        }
        if p.starts_with(['{', '[']) {
            return Err("it takes destructured parameters");
        }
        let name_end = p.find([':', '=', '?']).unwrap_or(p.len());
        let pname = p[..name_end].trim();
        if !is_name(pname) || pname == "this" {
            return Err("its signature could not be read");
        }
        let ty = p[name_end..]
            .strip_prefix(':')
            .map(|t| t.split('=').next().unwrap_or(t).trim().to_string());
        params.push(Param {
            name: pname.to_string(),
            ty,
            has_default: p.contains('=') || p[name_end..].starts_with('?'),
            keyword_only: false,
        });
    }
    let mut default = default_export;
    if whole && !exported {
        let all: Vec<&str> = lines.iter().map(|(_, l)| *l).collect();
        match exports(&all, name) {
            Some(d) => {
                exported = true;
                default = d;
            }
            None => {
                return Ok(Signature {
                    params,
                    is_async,
                    exported: Some(false),
                    ..Signature::default()
                });
            }
        }
    }
    Ok(Signature {
        params,
        is_async,
        is_pub: false,
        exported: if whole { Some(exported) } else { None },
        default_export: default,
        returns: false,
    })
}

/// How a whole module exports `name`: `Some(true)` as its default export (`module.exports =
/// name`), `Some(false)` by name (`module.exports = { name }`, `exports.name =`, `export { name }`),
/// `None` not at all.
fn exports(lines: &[&str], name: &str) -> Option<bool> {
    let text = lines.join("\n");
    let compact: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if compact.contains(&format!("module.exports = {name};"))
        || compact.ends_with(&format!("module.exports = {name}"))
        || compact.contains(&format!("export default {name};"))
    {
        return Some(true);
    }
    if compact.contains(&format!("exports.{name} ="))
        || compact.contains(&format!("exports.{name}="))
    {
        return Some(false);
    }
    for opener in ["module.exports = {", "export {"] {
        let mut from = 0;
        while let Some(i) = compact[from..].find(opener) {
            let start = from + i + opener.len();
            let end = compact[start..].find('}').map(|e| start + e)?;
            let listed = compact[start..end].split(',').any(|item| {
                let item = item.trim();
                let key = item.split([':', ' ']).next().unwrap_or("");
                key == name || item.ends_with(&format!(" as {name}"))
            });
            if listed {
                return Some(false);
            }
            from = end;
        }
    }
    None
}

fn literal(value: &Value, _: &Param) -> Result<Lit, NotLiteral> {
    literals::js(value, 0)
}

/// The module specifier of `to` (a repository path) from a file in `from_dir`.
fn specifier(from_dir: &str, to: &str, keep_ext: bool) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from
        .iter()
        .zip(to_parts.iter())
        .take_while(|(a, b)| a == b)
        .count()
        .min(to_parts.len().saturating_sub(1));
    let mut out = String::new();
    if from.len() == common {
        out.push_str("./");
    } else {
        out.push_str(&"../".repeat(from.len() - common));
    }
    out.push_str(&to_parts[common..].join("/"));
    if !keep_ext {
        for ext in [".tsx", ".ts", ".jsx", ".js"] {
            if let Some(s) = out.strip_suffix(ext) {
                return s.to_string();
            }
        }
    }
    out
}

pub(super) fn draft(ctx: &Ctx) -> Draft {
    let choice = super::choose(ctx, &OPS);
    let layout = ctx.layout;
    let ts = layout.language == Language::TypeScript;
    let esm = layout.esm || ts || layout.runner == Runner::Vitest;
    let reproduces = choice.call.is_some();
    let kind = ctx.kind.trim().to_string();
    let marking = match (layout.runner, reproduces) {
        (Runner::Jest, true) => {
            "It is a jest `test.failing`: it passes while the call still throws \
             the incident's error and fails once that is fixed; then make it a plain test."
        }
        (Runner::Vitest, true) => {
            "It is a vitest `test.fails`: it passes while the call still \
             throws the incident's error and fails once that is fixed; then make it a plain test."
        }
        (_, true) => {
            "node:test has no expected failure, so it is a `todo` test asserting the \
             incident's error: the run stays green either way and the report shows whether it \
             still throws."
        }
        (_, false) => "It is skipped until the arguments are filled in.",
    };
    let derivation = super::derivation(ctx, &choice, marking);

    let (function, target_path, target_sig) = match (&choice.call, &choice.crash_fn) {
        (Some(c), _) => (Some(c.function.clone()), c.path.clone(), Some(&c.sig)),
        (None, Some(f)) => (
            Some(f.clone()),
            ctx.crash_path.to_string(),
            choice.crash_sig.as_ref(),
        ),
        (None, None) => (None, ctx.crash_path.to_string(), None),
    };
    let default_export = target_sig.is_some_and(|s| s.default_export);
    // A named import of a name the module does not export fails to link the whole file, so an
    // ES module test imports the namespace unless the export was read in the source.
    let known_export = target_sig.and_then(|s| s.exported) == Some(true) && (layout.esm || ts);
    let crash_not_exported =
        choice.call.is_none() && choice.crash_sig.as_ref().and_then(|s| s.exported) == Some(false);
    let keep_ext = esm && !ts;
    let spec = literals::js_str(&specifier(&layout.test_dir, &target_path, keep_ext));

    let mut out = super::comment_block(&ctx.header(&derivation), "//");
    out.push('\n');
    // Imports.
    match layout.runner {
        Runner::Vitest => out.push_str("import { expect, test } from 'vitest';\n"),
        Runner::NodeTest if esm => out.push_str(
            "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n",
        ),
        Runner::NodeTest => out.push_str(
            "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\n",
        ),
        _ => {}
    }
    match (&function, esm) {
        (Some(_), _) if crash_not_exported => {
            if esm {
                out.push_str(&format!("import {spec};\n"));
            } else {
                out.push_str(&format!("require({spec});\n"));
            }
        }
        (Some(f), true) if known_export && default_export => {
            out.push_str(&format!("import {f} from {spec};\n"))
        }
        (Some(f), true) if known_export => {
            out.push_str(&format!("import {{ {f} }} from {spec};\n"))
        }
        (Some(f), true) if default_export => out.push_str(&format!(
            "import * as subject from {spec};\n\nconst {f} = subject.default;\n"
        )),
        (Some(f), true) => out.push_str(&format!(
            "import * as subject from {spec};\n\nconst {{ {f} }} = subject;\n"
        )),
        (Some(f), false) if default_export => {
            out.push_str(&format!("const {f} = require({spec});\n"))
        }
        (Some(f), false) => out.push_str(&format!("const {{ {f} }} = require({spec});\n")),
        (None, true) => out.push_str(&format!("import {spec};\n")),
        (None, false) => out.push_str(&format!("require({spec});\n")),
    }
    out.push('\n');

    let shown_fn = function
        .clone()
        .unwrap_or_else(|| "the crashing code".into());
    let title = literals::cut(
        &crate::sanitize::clean(&format!("{}: {shown_fn} throws {kind}", ctx.short_id)),
        200,
    );
    let kind_lit = literals::js_str(&literals::cut(&kind, 200));
    let call_text = match (&choice.call, &function) {
        (Some(call), _) => call_expr(call),
        (None, Some(f)) if !crash_not_exported => {
            let names = choice
                .crash_sig
                .as_ref()
                .map(|s| {
                    s.params
                        .iter()
                        .map(|p| p.name.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| "its arguments".into());
            format!("{f}(/* {names}: fill in from the incident */)")
        }
        _ => {
            let msg = literals::js_str(&format!(
                "call the code that crashed ({}) with the incident's inputs",
                literals::comment_text(ctx.crash.function.as_deref().unwrap_or("?"), 80)
            ));
            format!("(() => {{ throw new Error({msg}); }})()")
        }
    };

    if reproduces && let Some(f) = &function {
        let exported_title = literals::js_str(&format!("{}: {f} is exported", ctx.short_id));
        match layout.runner {
            Runner::NodeTest => out.push_str(&format!(
                "test({exported_title}, () => {{\n  assert.equal(typeof {f}, 'function');\n}});\n\n"
            )),
            _ => out.push_str(&format!(
                "test({exported_title}, () => {{\n  expect(typeof {f}).toBe('function');\n}});\n\n"
            )),
        }
    }

    match layout.runner {
        Runner::NodeTest => {
            let opts = if reproduces {
                format!(
                    "{{ todo: {} }}",
                    literals::js_str(&format!(
                        "{} reproduces while it throws {kind}; once fixed, assert the fixed behaviour",
                        ctx.short_id
                    ))
                )
            } else {
                format!(
                    "{{ skip: {} }}",
                    literals::js_str(&format!(
                        "{}: the event does not rebuild the arguments; fill them in from the incident",
                        ctx.short_id
                    ))
                )
            };
            out.push_str(&format!(
                "test({}, {opts}, async () => {{\n  await assert.rejects(\n    Promise.resolve().then(() => {call_text}),\n    {{ name: {kind_lit} }},\n  );\n}});\n",
                literals::js_str(&title)
            ));
        }
        runner => {
            let marker = match (runner, reproduces) {
                (_, false) => "test.skip",
                (Runner::Vitest, true) => "test.fails",
                _ => "test.failing",
            };
            if !reproduces {
                let now = if runner == Runner::Vitest {
                    "test.fails"
                } else {
                    "test.failing"
                };
                out.push_str(&format!(
                    "// Skipped: the event does not rebuild the arguments. Fill them in from the\n// incident, then make this `{now}`: it passes while the error is thrown.\n"
                ));
            }
            out.push_str(&format!(
                "{marker}({}, async () => {{\n  const thrown = await Promise.resolve()\n    .then(() => {call_text})\n    .then(\n      () => undefined,\n      (err) => (err && err.name) || String(err),\n    );\n  expect(thrown).not.toBe({kind_lit});\n}});\n",
                literals::js_str(&title)
            ));
        }
    }

    let ext = if ts {
        "ts"
    } else if ctx.crash_path.ends_with(".mjs") {
        "mjs"
    } else if ctx.crash_path.ends_with(".cjs") {
        "cjs"
    } else {
        "js"
    };
    let name = format!("{}.regression.test.{ext}", ctx.slug.replace('_', "-"));
    let path = if layout.test_dir.is_empty() {
        name
    } else {
        format!("{}/{name}", layout.test_dir)
    };
    Draft {
        path,
        language: layout.language,
        contents: out,
        modifies_existing: false,
        function: title,
        calls: function,
        reproduces,
        derivation,
    }
}

/// `f(a, b)` with the rebuilt literals in the signature's order (`undefined` for a defaulted
/// parameter the event had no value for), laid out to fit.
fn call_expr(call: &Call) -> String {
    let mut lits: Vec<Option<&Lit>> = call
        .sig
        .params
        .iter()
        .map(|p| {
            call.args
                .iter()
                .find(|(a, _)| a.name == p.name)
                .map(|(_, l)| l)
        })
        .collect();
    while matches!(lits.last(), Some(None)) {
        lits.pop();
    }
    let flat: Vec<String> = lits
        .iter()
        .map(|l| {
            l.map(|l| l.flat(Dialect::Js))
                .unwrap_or_else(|| "undefined".into())
        })
        .collect();
    let one = format!("{}({})", call.function, flat.join(", "));
    if one.len() + 16 <= 100 {
        return one;
    }
    let mut out = format!("{}(\n", call.function);
    for l in &lits {
        let text = l
            .map(|l| l.render(Dialect::Js, 6, 6, 100))
            .unwrap_or_else(|| "undefined".into());
        out.push_str(&format!("      {text},\n"));
    }
    out.push_str("    )");
    out
}
