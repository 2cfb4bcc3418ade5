//! "Imports point down": every `.rs` file under `src/` is scanned for the crate paths it uses
//! (`use crate::x::…`, `use crate::{x, y}`, inline `crate::x::f(…)`, and `flightdeck::x` in the
//! binary), and each top-level module may only reach the modules ARCHITECTURE.md allows.
//! Comments, doc comments, string and char literals are skipped; `self::`/`super::` are ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which modules a rule applies to, or which modules it forbids.
#[derive(Debug, Clone, Copy)]
enum Set {
    /// Exactly these.
    Only(&'static [&'static str]),
    /// Every module except these.
    AllBut(&'static [&'static str]),
}

impl Set {
    fn contains(self, m: &str) -> bool {
        match self {
            Set::Only(l) => l.contains(&m),
            Set::AllBut(l) => !l.contains(&m),
        }
    }
}

/// One line of the rule table: modules in `who` never import modules in `forbidden`. A module using
/// itself is always fine.
struct Rule {
    who: Set,
    forbidden: Set,
    why: &'static str,
}

const LEAVES: &[&str] = &["fmt", "sanitize", "redact"];

const RULES: &[Rule] = &[
    Rule {
        who: Set::Only(&["app", "ui", "analysis", "domain", "ai"]),
        forbidden: Set::Only(&[
            "sources", "ops", "config", "runtime", "cli", "sim", "headless", "terminal", "store",
        ]),
        why: "the pure core does no I/O and knows no config, runtime or binary",
    },
    Rule {
        who: Set::Only(&["app"]),
        forbidden: Set::Only(&["ui"]),
        why: "app is below ui",
    },
    Rule {
        who: Set::Only(&["analysis"]),
        forbidden: Set::Only(&["app", "ui"]),
        why: "analysis is below app and ui",
    },
    Rule {
        who: Set::Only(&["ai"]),
        forbidden: Set::AllBut(&["analysis", "domain", "fmt", "sanitize", "redact"]),
        why: "ai is pure: it reads analysis, domain and the leaves only",
    },
    Rule {
        who: Set::Only(&["analysis"]),
        forbidden: Set::Only(&["ai"]),
        why: "ai builds on analysis, not the other way",
    },
    Rule {
        who: Set::Only(&["domain"]),
        forbidden: Set::AllBut(LEAVES),
        why: "domain is plain data: only the leaves",
    },
    Rule {
        who: Set::Only(&["sources"]),
        forbidden: Set::Only(&["app", "ui", "ops", "runtime", "cli"]),
        why: "sources return domain data, they know no app, ui or ops",
    },
    Rule {
        who: Set::Only(&["store"]),
        forbidden: Set::Only(&[
            "app", "ui", "analysis", "sources", "ops", "runtime", "headless", "cli", "sim",
            "terminal",
        ]),
        why: "the store keeps domain data on disk: it knows no app, ui, clients or runtime",
    },
    Rule {
        who: Set::Only(&["ops"]),
        forbidden: Set::Only(&["ui", "runtime", "cli"]),
        why: "ops runs changes, it draws nothing and knows no runtime",
    },
    Rule {
        who: Set::AllBut(&["main"]),
        forbidden: Set::Only(&["cli"]),
        why: "nothing imports cli (only main.rs runs it)",
    },
    Rule {
        who: Set::Only(LEAVES),
        forbidden: Set::AllBut(LEAVES),
        why: "fmt, sanitize and redact are leaves",
    },
];

/// One use of a crate path: which top-level module it reaches, where, and the text.
#[derive(Debug, Clone, PartialEq)]
struct Import {
    target: String,
    line: usize,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Violation {
    file: String,
    module: String,
    import: Import,
    why: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "src/{}:{}: `{}` ({} → {}): {}",
            self.file,
            self.import.line,
            self.import.text,
            self.module,
            self.import.target,
            self.why
        )
    }
}

/// The top-level module of a path relative to `src/`: `app/update/nav.rs` → `app`, `cli.rs` → `cli`.
fn top_module(rel: &str) -> String {
    let rel = rel.replace('\\', "/");
    let first = rel.split('/').next().unwrap_or("");
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

/// The source with comments (line, doc and nested block comments), string literals (plain, byte,
/// raw) and char literals blanked to spaces; newlines are kept so offsets keep their line numbers.
fn strip(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && !prev_is_ident(&b, i)
            && raw_string_start(&b, if c == 'b' { i + 1 } else { i }).is_some()
        {
            let start = if c == 'b' { i + 1 } else { i };
            let hashes = raw_string_start(&b, start).unwrap_or(0);
            // Skip `r###"`, then find `"###`.
            let body = start + 1 + hashes + 1;
            for &ch in &b[i..body] {
                out.push(blank(ch));
            }
            i = body;
            while i < b.len() {
                if b[i] == '"' && (1..=hashes).all(|k| b.get(i + k) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(b[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() {
                if b[i] == '\\' {
                    out.push(' ');
                    if let Some(&e) = b.get(i + 1) {
                        out.push(blank(e));
                    }
                    i += 2;
                } else if b[i] == '"' {
                    out.push(' ');
                    i += 1;
                    break;
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a, 'static).
            let end = if next == Some('\\') {
                (i + 2..b.len().min(i + 12)).find(|&k| b[k] == '\'')
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    for _ in i..=e {
                        out.push(' ');
                    }
                    i = e + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn prev_is_ident(b: &[char], i: usize) -> bool {
    i > 0 && is_ident(b[i - 1])
}

/// At `b[i] == 'r'`: the number of `#` of a raw string starting here, if one does.
fn raw_string_start(b: &[char], i: usize) -> Option<usize> {
    if b.get(i) != Some(&'r') {
        return None;
    }
    let mut k = i + 1;
    while b.get(k) == Some(&'#') {
        k += 1;
    }
    (b.get(k) == Some(&'"')).then_some(k - i - 1)
}

/// Every crate path in a file: the top-level module each one reaches, with its line.
/// `crate::x…`, `crate::{x…, y…}` and (for the binary) `flightdeck::x…`.
fn imports(src: &str) -> Vec<Import> {
    let code = strip(src);
    let chars: Vec<char> = code.chars().collect();
    let line_of = |pos: usize| chars[..pos].iter().filter(|&&c| c == '\n').count() + 1;
    let original: Vec<&str> = src.lines().collect();
    let text_of = |line: usize| original.get(line - 1).map_or("", |l| l.trim()).to_string();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let prefix = ["crate", "flightdeck"].into_iter().find(|p| {
            let n = p.len();
            chars.len() >= i + n + 2
                && chars[i..i + n].iter().copied().eq(p.chars())
                && chars[i + n] == ':'
                && chars[i + n + 1] == ':'
                && !(i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == '$'))
        });
        let Some(p) = prefix else {
            i += 1;
            continue;
        };
        let mut k = skip_ws(&chars, i + p.len() + 2);
        if chars.get(k) == Some(&'{') {
            // A group: the first name of each top-level entry.
            k += 1;
            let mut depth = 0;
            let mut expect_name = true;
            while k < chars.len() {
                let c = chars[k];
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expect_name = true,
                    c if is_ident(c) && expect_name && depth == 0 => {
                        let (name, end) = ident_at(&chars, k);
                        out.push(Import {
                            target: name,
                            line: line_of(k),
                            text: text_of(line_of(k)),
                        });
                        expect_name = false;
                        k = end;
                        continue;
                    }
                    _ => {}
                }
                k += 1;
            }
            i = k;
        } else if chars.get(k).is_some_and(|&c| is_ident(c)) {
            let (name, end) = ident_at(&chars, k);
            out.push(Import {
                target: name,
                line: line_of(i),
                text: text_of(line_of(i)),
            });
            i = end;
        } else {
            i = k;
        }
    }
    out
}

fn skip_ws(chars: &[char], mut k: usize) -> usize {
    while chars.get(k).is_some_and(|c| c.is_whitespace()) {
        k += 1;
    }
    k
}

fn ident_at(chars: &[char], k: usize) -> (String, usize) {
    let mut end = k;
    while end < chars.len() && is_ident(chars[end]) {
        end += 1;
    }
    (chars[k..end].iter().collect(), end)
}

/// Check files (path relative to `src/`, content) against [`RULES`].
fn check(files: &[(String, String)]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (file, content) in files {
        let module = top_module(file);
        for import in imports(content) {
            // `self`, `super` and the crate root's re-exports are not a module of the crate.
            if import.target == module || ["self", "super", "crate"].contains(&&*import.target) {
                continue;
            }
            let broken: Vec<&str> = RULES
                .iter()
                .filter(|r| r.who.contains(&module) && r.forbidden.contains(&import.target))
                .map(|r| r.why)
                .collect();
            if !broken.is_empty() {
                out.push(Violation {
                    file: file.clone(),
                    module: module.clone(),
                    import,
                    why: broken.join("; "),
                });
            }
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `.rs` file under `src/`, relative to it, with its text.
fn source_files() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    walk(&src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
            (rel, text)
        })
        .collect()
}

#[test]
fn imports_point_down() {
    let files = source_files();
    let violations = check(&files);
    assert!(
        violations.is_empty(),
        "{} import(s) point the wrong way (see ARCHITECTURE.md, Invariants):\n{}",
        violations.len(),
        violations
            .iter()
            .map(|v| format!("  {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_scan_sees_the_whole_crate() {
    let files = source_files();
    let mut per_module: BTreeMap<String, usize> = BTreeMap::new();
    let mut uses: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (file, content) in &files {
        let m = top_module(file);
        *per_module.entry(m.clone()).or_default() += 1;
        for i in imports(content) {
            *uses.entry((m.clone(), i.target)).or_default() += 1;
        }
    }
    // A wrong path or a broken walk must not pass silently.
    for (module, min) in [
        ("app", 15),
        ("ui", 10),
        ("analysis", 4),
        ("domain", 2),
        ("sources", 5),
        ("ops", 3),
        ("sim", 8),
        ("cli", 1),
        ("config", 1),
        ("fmt", 1),
        ("sanitize", 1),
        ("runtime", 1),
        ("headless", 1),
        ("terminal", 1),
        ("store", 1),
        ("main", 1),
        ("lib", 1),
    ] {
        let n = per_module.get(module).copied().unwrap_or(0);
        assert!(
            n >= min,
            "expected at least {min} file(s) of `{module}` under src/, found {n}: {per_module:?}"
        );
    }
    // And the parser must see the imports that are known to be there.
    for (from, to) in [
        ("app", "domain"),
        ("app", "analysis"),
        ("ui", "app"),
        ("ops", "app"),
        ("sources", "domain"),
        ("runtime", "ui"),
        ("runtime", "store"),
        ("store", "domain"),
        ("main", "cli"),
    ] {
        assert!(
            uses.contains_key(&(from.to_string(), to.to_string())),
            "the scan found no `{from}` → `{to}` import; is the parser broken? {uses:?}"
        );
    }
    let total: usize = uses.values().sum();
    assert!(total >= 100, "only {total} crate paths found under src/");
}

/// The checker on made-up files: it must report what breaks the rules (so the real scan cannot
/// pass vacuously) and nothing else.
#[test]
fn the_checker_reports_violations() {
    let fake = |p: &str, c: &str| (p.to_string(), c.to_string());
    let files = vec![
        fake(
            "app/update/nav.rs",
            "use crate::ui::render;\nuse crate::domain::SourceId;\n// use crate::ops::exec;\n\
             /// See crate::config::Config.\nfn f() { let s = \"crate::sources::x\"; let c = '\"'; }\n\
             fn g() { let s = r#\"crate::cli::main\"#; }\n/* crate::runtime::run\n   crate::sim */\n\
             macro_rules! m { () => { $crate::ops::x() } }\n",
        ),
        fake(
            "analysis/canary.rs",
            "fn f() {\n    let x = crate::sources::github::GitHub::new(1);\n}\n",
        ),
        fake(
            "ui/bars.rs",
            "use crate::{\n    app::State,\n    ops::{exec::Fetcher, audit},\n};\n",
        ),
        fake(
            "domain/mod.rs",
            "use crate::fmt::plural;\nuse crate::analysis::canary;\n",
        ),
        fake(
            "sanitize.rs",
            "use crate::fmt::plural;\nuse crate::redact::mask;\n",
        ),
        fake("fmt.rs", "pub fn f() -> u8 { crate::app::x() }\n"),
        fake("main.rs", "fn main() { flightdeck::cli::main(); }\n"),
        fake(
            "headless.rs",
            "use crate::cli::Exit;\nuse crate::sources::github;\n",
        ),
        fake(
            "sources/poller.rs",
            "use crate::app::Msg;\nuse crate::config::Config;\n",
        ),
        fake(
            "ops/exec.rs",
            "use crate::app::Effect;\nuse crate::runtime::Loop;\n",
        ),
        fake(
            "app/state.rs",
            "fn f<'a>(x: &'a str) -> &'a str { crate::sanitize::clean(x) }\n",
        ),
        fake(
            "app/update/sources.rs",
            "use crate::domain::SourceData;\nuse crate::store::Store;\n",
        ),
        fake(
            "store.rs",
            "use crate::config::Config;\nuse crate::sources::poller::AnySource;\n",
        ),
    ];
    let got: Vec<(String, usize, String)> = check(&files)
        .into_iter()
        .map(|v| (v.file, v.import.line, v.import.target))
        .collect();
    let want: Vec<(String, usize, String)> = [
        ("app/update/nav.rs", 1, "ui"),
        ("analysis/canary.rs", 2, "sources"),
        ("ui/bars.rs", 3, "ops"),
        ("domain/mod.rs", 2, "analysis"),
        ("fmt.rs", 1, "app"),
        ("headless.rs", 1, "cli"),
        ("sources/poller.rs", 1, "app"),
        ("ops/exec.rs", 2, "runtime"),
        ("app/update/sources.rs", 2, "store"),
        ("store.rs", 2, "sources"),
    ]
    .into_iter()
    .map(|(f, l, t)| (f.to_string(), l, t.to_string()))
    .collect();
    assert_eq!(got, want);

    // The failure message names the file, the line and the import.
    let v = &check(&files)[0];
    let msg = v.to_string();
    assert!(
        msg.contains("src/app/update/nav.rs:1") && msg.contains("use crate::ui::render;"),
        "{msg}"
    );
}

#[test]
fn top_modules_and_stripping() {
    assert_eq!(top_module("app/update/nav.rs"), "app");
    assert_eq!(top_module("cli.rs"), "cli");
    assert_eq!(top_module("ui/mod.rs"), "ui");
    let s = strip("a // crate::x\nb /* c /* d */ e */ f \"g\\\"h\" 'i' '\\n' 'static\n");
    assert_eq!(s.lines().count(), 2);
    for gone in ["crate", "c", "d", "e", "g", "h", "'i'", "\\n"] {
        assert!(
            !s.replace("'static", "").contains(gone),
            "{gone:?} left in {s:?}"
        );
    }
    assert!(
        s.contains("'static") && s.contains('f') && s.contains('b'),
        "{s:?}"
    );
}
