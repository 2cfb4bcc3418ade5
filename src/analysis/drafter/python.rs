//! pytest: `tests/test_regression_<id>.py` in the `tests/` directory nearest the module; the call
//! rebuilt from the frame's `vars` under `xfail(strict=True, raises=…)`, else a skipped skeleton.

use serde_json::Value;

use super::literals::{self, Dialect, Lit, NotLiteral};
use super::{Choice, Ctx, Draft, LangOps, Language, Param, Signature};

const OPS: LangOps = LangOps {
    function_name,
    signature,
    literal,
    other_files: true,
};

/// Python's built-in exceptions: raised by name without an import.
const BUILTINS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "EOFError",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "NotADirectoryError",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "RuntimeError",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "ValueError",
    "ZeroDivisionError",
];

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

fn is_name(s: &str) -> bool {
    literals::is_ident(s) && !KEYWORDS.contains(&s)
}

fn function_name(raw: &str) -> Option<String> {
    let name = raw.rsplit('.').next().unwrap_or(raw).trim();
    is_name(name).then(|| name.to_string())
}

/// `def name(…)` (or `async def`) at the module's top level, at or above `line`.
fn signature(
    lines: &[(u32, &str)],
    name: &str,
    line: u32,
    _whole: bool,
) -> Result<Signature, &'static str> {
    let def = format!("def {name}(");
    let start = lines
        .iter()
        .rposition(|(n, text)| {
            let t = text.trim_start();
            *n <= line && (t.starts_with(&def) || t.starts_with(&format!("async {def}")))
        })
        .ok_or("its signature is not in the source or the frame's context")?;
    let (_, first) = lines[start];
    if first.starts_with([' ', '\t']) {
        return Err("it is a method or a nested function");
    }
    let is_async = first.starts_with("async ");
    let open = first.find(&def).ok_or("its signature could not be read")? + def.len();
    let text = first[open..].to_string();
    let (text, end) = super::parameter_text(lines, start, text, |l| strip_comment(l).to_string())?;
    let mut params = Vec::new();
    let mut keyword_only = false;
    for p in super::split_top(&text[..end]) {
        let p = p.trim();
        match p {
            "" | "/" => continue,
            "*" => {
                keyword_only = true;
                continue;
            }
            _ if p.starts_with('*') => return Err("it takes *args or **kwargs"),
            _ => {}
        }
        let name_end = p.find([':', '=']).unwrap_or(p.len());
        let pname = p[..name_end].trim();
        if !is_name(pname) {
            return Err("its signature could not be read");
        }
        if pname == "self" || pname == "cls" {
            return Err("it is a method");
        }
        params.push(Param {
            name: pname.to_string(),
            ty: None,
            has_default: p.contains('='),
            keyword_only,
        });
    }
    Ok(Signature {
        params,
        is_async,
        ..Signature::default()
    })
}

fn strip_comment(line: &str) -> &str {
    line.find('#').map(|i| &line[..i]).unwrap_or(line)
}

fn literal(value: &Value, _: &Param) -> Result<Lit, NotLiteral> {
    literals::python(value, 0)
}

/// The import path of a repository file (`worker/refunds.py` → `worker.refunds`).
fn module_of(path: &str, root: &str) -> Option<String> {
    let rel = if root.is_empty() {
        path
    } else {
        path.strip_prefix(&format!("{root}/"))?
    };
    let rel = rel.strip_suffix(".py")?;
    let rel = rel.strip_suffix("/__init__").unwrap_or(rel);
    let parts: Vec<&str> = rel.split('/').collect();
    parts.iter().all(|p| is_name(p)).then(|| parts.join("."))
}

fn valid_module(m: &str) -> bool {
    !m.is_empty() && m.split('.').all(is_name)
}

pub(super) fn draft(ctx: &Ctx) -> Draft {
    let mut choice = super::choose(ctx, &OPS);
    let root = &ctx.layout.python_root;
    // The call's import path; a call that cannot be imported is no call.
    let mut call_module = None;
    if let Some(call) = &choice.call {
        let m =
            module_of(&call.path, root).or_else(|| call.module.clone().filter(|m| valid_module(m)));
        match m {
            Some(m) => call_module = Some(m),
            None => {
                choice.notes.push(format!(
                    "`{}`: its module has no import path",
                    call.function
                ));
                choice.call = None;
            }
        }
    }

    let (raises, raises_import, raises_note) = raises(ctx);
    let reproduces = choice.call.is_some();
    let marking = if reproduces {
        format!(
            "It is marked `xfail(strict=True, raises={raises})`: it passes while the crash \
             reproduces and fails (XPASS) once it is fixed; then remove the mark. The values are \
             the SDK's copies (it shortens long collections), so run it once before merging."
        )
    } else {
        format!(
            "It is marked skip, with `xfail(strict=True, raises={raises})` underneath for when it \
             is filled in."
        )
    };
    let derivation = super::derivation(ctx, &choice, &marking);

    let mut imports: Vec<String> = Vec::new();
    let (function, body) = match &choice.call {
        Some(call) => {
            if call.sig.is_async {
                imports.push("import asyncio".into());
            }
            let call_text = call_expr(&call.function, &call.args, call.sig.is_async);
            let module = call_module.unwrap_or_default();
            imports.push(format!("from {module} import {}", call.function));
            (Some(call.function.clone()), call_text)
        }
        None => skeleton(ctx, &choice, &mut imports),
    };
    let calls = function.clone();
    let function = function.unwrap_or_else(|| "crash".to_string());
    let test_name = format!("test_{}_{}", ctx.slug, literals::snake(&function));
    let reason = if reproduces {
        format!(
            "{}: {} raises {} ({}); remove this mark once fixed",
            ctx.short_id,
            function,
            ctx.kind,
            literals::cut(&crate::sanitize::clean(&ctx.value), 200)
        )
    } else {
        format!(
            "{}: {} crashed with {} but fails differently once fixed",
            ctx.short_id, function, ctx.kind
        )
    };

    let mut out = super::comment_block(&ctx.header(&derivation), "#");
    out.push('\n');
    let mut plain: Vec<String> = vec!["import pytest".to_string()];
    plain.extend(raises_import);
    let mut from: Vec<String> = Vec::new();
    for l in imports.into_iter().filter(|l| !l.is_empty()) {
        if l.starts_with("from ") {
            from.push(l);
        } else {
            plain.push(l);
        }
    }
    plain.sort();
    plain.dedup();
    for l in &plain {
        out.push_str(l);
        out.push('\n');
    }
    if !from.is_empty() {
        out.push('\n');
        for l in &from {
            out.push_str(l);
            out.push('\n');
        }
    }
    out.push_str("\n\n");
    if !reproduces {
        let skip = format!(
            "{}: the event's variables do not rebuild the arguments of {}; fill them in from the \
             incident, then remove this mark",
            ctx.short_id, function
        );
        out.push_str(&format!(
            "@pytest.mark.skip(reason={})\n",
            literals::python_str(&literals::cut(&crate::sanitize::clean(&skip), 300))
        ));
    }
    out.push_str("@pytest.mark.xfail(\n    strict=True,\n");
    out.push_str(&format!("    raises={raises},\n"));
    out.push_str(&format!(
        "    reason={},\n)\n",
        literals::python_str(&literals::cut(&crate::sanitize::clean(&reason), 300))
    ));
    out.push_str(&format!("def {test_name}():\n"));
    if let Some(note) = raises_note {
        out.push_str(&format!("    # {note}\n"));
    }
    out.push_str(&body);
    out.push('\n');

    Draft {
        path: join(
            &ctx.layout.test_dir,
            &format!("test_regression_{}.py", ctx.slug),
        ),
        language: Language::Python,
        contents: out,
        modifies_existing: false,
        function: test_name,
        calls,
        reproduces,
        derivation,
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The `raises=` expression, an import it needs, and a note when it had to fall back.
fn raises(ctx: &Ctx) -> (String, Option<String>, Option<String>) {
    let kind = ctx.kind.trim();
    let builtin_module = matches!(ctx.module.as_deref(), None | Some("builtins") | Some(""));
    if builtin_module && BUILTINS.contains(&kind) {
        return (kind.to_string(), None, None);
    }
    if let Some(m) = ctx
        .module
        .as_deref()
        .filter(|m| *m != "builtins" && *m != "__main__")
        && valid_module(m)
        && valid_module(kind)
    {
        return (format!("{m}.{kind}"), Some(format!("import {m}")), None);
    }
    let shown = literals::comment_text(kind, 80);
    (
        "Exception".to_string(),
        None,
        Some(format!(
            "The incident's exception ({shown}) cannot be imported by name: any exception counts."
        )),
    )
}

/// `f(a, b, key=c)` laid out for a body line (four spaces in), wrapped when long.
fn call_expr(function: &str, args: &[(Param, Lit)], is_async: bool) -> String {
    let mut parts = Vec::new();
    let mut by_keyword = false;
    let mut flat_parts = Vec::new();
    for (p, lit) in args {
        by_keyword |= p.keyword_only || p.has_default;
        let prefix = if by_keyword {
            format!("{}=", p.name)
        } else {
            String::new()
        };
        flat_parts.push(format!("{prefix}{}", lit.flat(Dialect::Python)));
        parts.push((prefix, lit));
    }
    let (open, close) = if is_async {
        (format!("asyncio.run({function}("), "))")
    } else {
        (format!("{function}("), ")")
    };
    let flat = format!("    {open}{}{close}", flat_parts.join(", "));
    if flat.len() <= 88 {
        return flat;
    }
    let mut out = format!("    {open}\n");
    for (prefix, lit) in parts {
        out.push_str(&format!(
            "        {prefix}{},\n",
            lit.render(Dialect::Python, 8, 8 + prefix.len(), 88)
        ));
    }
    out.push_str(&format!("    {close}"));
    out
}

/// The skeleton's body (and its imports): the crash function called with `...` for each
/// parameter, or a `NotImplementedError` when the function cannot be named.
fn skeleton(ctx: &Ctx, choice: &Choice, imports: &mut Vec<String>) -> (Option<String>, String) {
    let module = module_of(ctx.crash_path, &ctx.layout.python_root)
        .or_else(|| ctx.crash.module.clone().filter(|m| valid_module(m)));
    match (&choice.crash_fn, module) {
        (Some(f), Some(m)) => {
            imports.push(format!("from {m} import {f}"));
            let body = match &choice.crash_sig {
                Some(sig) => {
                    let args: Vec<String> = sig
                        .params
                        .iter()
                        .map(|p| format!("{}=...", p.name))
                        .collect();
                    let call = format!("{f}({})", args.join(", "));
                    if sig.is_async {
                        imports.push("import asyncio".into());
                        format!("    asyncio.run({call})")
                    } else {
                        format!("    {call}")
                    }
                }
                None => format!(
                    "    # Its signature was not found: pass the arguments the incident had.\n    {f}()"
                ),
            };
            (Some(f.clone()), body)
        }
        (_, module) => {
            if let Some(m) = module {
                imports.push(format!("import {m}"));
            }
            let shown = literals::comment_text(ctx.crash.function.as_deref().unwrap_or("?"), 80);
            let msg = literals::python_str(&format!(
                "call the code that crashed ({shown}) with the incident's inputs"
            ));
            (None, format!("    raise NotImplementedError({msg})"))
        }
    }
}
