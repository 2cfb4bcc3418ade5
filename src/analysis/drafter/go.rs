//! Go: `regression_<id>_test.go` in the package's directory, same package (white-box). Go has no
//! expected failure, so a reproducing test starts with `t.Skip` giving the reason, then the call
//! with the rebuilt arguments; a skeleton skips with what to fill in.

use serde_json::Value;

use super::layout::parent;
use super::literals::{self, Lit, NotLiteral};
use super::{Ctx, Draft, LangOps, Language, Param, Signature};

const OPS: LangOps = LangOps {
    function_name,
    signature,
    literal,
    other_files: false,
};

const KEYWORDS: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

fn is_name(s: &str) -> bool {
    literals::is_ident(s) && !KEYWORDS.contains(&s)
}

/// Go SDK functions are `Name`, `Type.Method`, `(*Type).Method` or `Name.func1`: only a plain
/// name is callable.
fn function_name(raw: &str) -> Option<String> {
    let t = raw.trim();
    let t = t.rsplit('/').next().unwrap_or(t);
    is_name(t).then(|| t.to_string())
}

fn signature(
    lines: &[(u32, &str)],
    name: &str,
    line: u32,
    _whole: bool,
) -> Result<Signature, &'static str> {
    let decl = format!("func {name}");
    let start = lines
        .iter()
        .rposition(|(n, t)| {
            *n <= line && t.starts_with(&decl) && t[decl.len()..].starts_with(['(', '['])
        })
        .ok_or("its signature is not in the source or the frame's context")?;
    let first = lines[start].1;
    let rest = &first[decl.len()..];
    if rest.starts_with('[') {
        return Err("it is generic");
    }
    let text = rest[1..].to_string();
    let (text, end) = super::parameter_text(lines, start, text, |l| l.to_string())?;
    let mut params: Vec<Param> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for p in super::split_top(&text[..end]) {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let (pname, ty) = match p.split_once(char::is_whitespace) {
            Some((n, t)) => (n, Some(t.trim())),
            None => (p, None),
        };
        if !is_name(pname) {
            return Err("its parameters are unnamed");
        }
        match ty {
            None => pending.push(pname.to_string()),
            Some(ty) => {
                if ty.starts_with("...") {
                    return Err("it is variadic");
                }
                for n in pending.drain(..).chain(std::iter::once(pname.to_string())) {
                    params.push(Param {
                        name: n,
                        ty: Some(ty.to_string()),
                        has_default: false,
                        keyword_only: false,
                    });
                }
            }
        }
    }
    if !pending.is_empty() {
        return Err("its parameters are unnamed");
    }
    Ok(Signature {
        params,
        ..Signature::default()
    })
}

fn literal(value: &Value, param: &Param) -> Result<Lit, NotLiteral> {
    let ty = param.ty.as_deref().unwrap_or("");
    let int = matches!(
        ty,
        "int"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "uint"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
            | "uintptr"
            | "byte"
            | "rune"
    );
    match (ty, value) {
        (_, Value::Number(n)) if int => {
            let unsigned = ty.starts_with('u') || ty == "byte";
            let ok = match ty {
                "int8" => n.as_i64().is_some_and(|v| i8::try_from(v).is_ok()),
                "int16" => n.as_i64().is_some_and(|v| i16::try_from(v).is_ok()),
                "int32" | "rune" => n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
                "uint8" | "byte" => n.as_u64().is_some_and(|v| u8::try_from(v).is_ok()),
                "uint16" => n.as_u64().is_some_and(|v| u16::try_from(v).is_ok()),
                "uint32" => n.as_u64().is_some_and(|v| u32::try_from(v).is_ok()),
                _ if unsigned => n.as_u64().is_some(),
                _ => n.as_i64().is_some(),
            };
            if ok {
                Ok(Lit::Atom(n.to_string()))
            } else {
                Err("out of its type's range")
            }
        }
        ("float32" | "float64", Value::Number(n)) => literals::number(n)
            .map(Lit::Atom)
            .ok_or("a number without a literal"),
        ("bool", Value::Bool(b)) => Ok(Lit::Atom(b.to_string())),
        ("string", Value::String(s)) => Ok(Lit::Atom(literals::go_str(s))),
        _ => Err("of a type the drafter does not rebuild"),
    }
}

/// `checkout_4c` + `SplitRefund` → `Checkout4cSplitRefund`.
fn camel(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

pub(super) fn draft(ctx: &Ctx) -> Draft {
    let choice = super::choose(ctx, &OPS);
    let reproduces = choice.call.is_some();
    let marking = if reproduces {
        "Go has no expected failure: the test starts with `t.Skip` giving the reason, then makes \
         the call that panics; remove the Skip once it is fixed."
    } else {
        "It is skipped until the arguments are filled in."
    };
    let derivation = super::derivation(ctx, &choice, marking);
    let function = choice
        .call
        .as_ref()
        .map(|c| c.function.clone())
        .or_else(|| choice.crash_fn.clone());
    let test_name = format!(
        "Test{}{}",
        camel(&ctx.slug),
        camel(&literals::snake(function.as_deref().unwrap_or("crash")))
    );
    let package = ctx
        .crash_source
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("package "))
                .map(|p| p.split_whitespace().next().unwrap_or("").to_string())
        })
        .filter(|p| is_name(p))
        .or_else(|| {
            let dir = parent(ctx.crash_path);
            let last = dir.rsplit('/').next().unwrap_or(dir).replace('-', "_");
            is_name(&last).then_some(last)
        })
        .unwrap_or_else(|| "main".to_string());

    let mut out = super::comment_block(&ctx.header(&derivation), "//");
    out.push_str(&format!("\npackage {package}\n\nimport \"testing\"\n\n"));
    out.push_str(&format!("func {test_name}(t *testing.T) {{\n"));
    match &choice.call {
        Some(call) => {
            let reason = format!(
                "{}: {} still panics ({}: {}); remove this Skip once it is fixed",
                ctx.short_id,
                call.function,
                ctx.kind,
                literals::cut(&crate::sanitize::clean(&ctx.value), 200)
            );
            out.push_str(&format!(
                "\tt.Skip({})\n",
                literals::go_str(&crate::sanitize::clean(&reason))
            ));
            let args: Vec<String> = call
                .args
                .iter()
                .map(|(_, l)| l.flat(literals::Dialect::Js))
                .collect();
            out.push_str(&format!("\t{}({})\n", call.function, args.join(", ")));
        }
        None => {
            let reason = format!(
                "{}: the event does not rebuild the arguments of {}; fill them in from the incident",
                ctx.short_id,
                function.as_deref().unwrap_or("the crashing function")
            );
            out.push_str(&format!(
                "\tt.Skip({})\n",
                literals::go_str(&literals::cut(&crate::sanitize::clean(&reason), 300))
            ));
            if let Some(f) = &function {
                let names = choice
                    .crash_sig
                    .as_ref()
                    .map(|s| {
                        s.params
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|| "…".into());
                out.push_str(&format!("\t// {f}({names})\n"));
            }
        }
    }
    out.push_str("}\n");
    let dir = parent(ctx.crash_path);
    let name = format!("regression_{}_test.go", ctx.slug);
    Draft {
        path: if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        },
        language: Language::Go,
        contents: out,
        modifies_existing: false,
        function: test_name,
        calls: function,
        reproduces,
        derivation,
    }
}
