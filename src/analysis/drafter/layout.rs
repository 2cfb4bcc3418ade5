//! How the repository around the crash file is laid out: its language, test runner and where its
//! tests live, read from the tree and a few small manifests the caller fetched.

use std::collections::BTreeMap;

use super::DraftError;

/// The language of the crash file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Language {
    Python,
    JavaScript,
    TypeScript,
    Rust,
    Go,
}

impl Language {
    /// From a file's extension; `None` for languages the drafter does not write.
    pub fn of_path(path: &str) -> Option<Language> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.').map(|(_, e)| e)?;
        Some(match ext {
            "py" => Language::Python,
            "js" | "cjs" | "mjs" | "jsx" => Language::JavaScript,
            "ts" | "cts" | "mts" | "tsx" => Language::TypeScript,
            "rs" => Language::Rust,
            "go" => Language::Go,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "Python",
            Language::JavaScript => "JavaScript",
            Language::TypeScript => "TypeScript",
            Language::Rust => "Rust",
            Language::Go => "Go",
        }
    }
}

/// The test runner the drafted test is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Runner {
    Pytest,
    Jest,
    Vitest,
    /// Node's built-in `node:test` (the JavaScript fallback).
    NodeTest,
    Cargo,
    GoTest,
}

/// Where and how a regression test for one crash file is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Layout {
    pub language: Language,
    pub runner: Runner,
    /// The directory a new test file goes in, relative to the repository root (`""` is the root).
    /// Rust: the crate's `tests/` (used for a `pub fn` of a library crate).
    pub test_dir: String,
    /// The directory of the nearest manifest (package.json, Cargo.toml, go.mod, pyproject.toml,
    /// setup.cfg, pytest.ini), `""` for the root.
    pub project_root: String,
    /// Python: the directory modules are imported from (`worker/refunds.py` under `""` is
    /// `worker.refunds`).
    pub python_root: String,
    /// JavaScript: the package is ES modules (`"type": "module"`), so the test uses `import`.
    pub esm: bool,
    /// Rust: the library crate's name (`[lib] name`, else the package name with `-` as `_`) when
    /// the crate has a library and the crash file belongs to it.
    pub rust_lib: Option<String>,
}

const PY_MANIFESTS: [&str; 3] = ["pyproject.toml", "setup.cfg", "pytest.ini"];

fn manifest_names(lang: Option<Language>) -> &'static [&'static str] {
    match lang {
        Some(Language::Python) => &PY_MANIFESTS,
        Some(Language::JavaScript | Language::TypeScript) => &["package.json"],
        Some(Language::Rust) => &["Cargo.toml"],
        Some(Language::Go) => &["go.mod"],
        None => &[],
    }
}

/// The directories from the crash file's up to the root, nearest first (`""` is the root).
fn ancestors(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut dir = parent(path);
    loop {
        out.push(dir);
        if dir.is_empty() {
            break;
        }
        dir = parent(dir);
    }
    out
}

/// The directory holding `path` (`""` for a file at the root).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn child(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Which small files the caller should fetch for [`Layout::detect`]: the manifests of the crash
/// file's language in its directory and every directory above it that the tree holds (nearest
/// first): package.json, Cargo.toml, go.mod, or pyproject.toml / setup.cfg / pytest.ini.
pub fn manifests(tree: &[String], crash_path: &str) -> Vec<String> {
    let names = manifest_names(Language::of_path(crash_path));
    let mut out = Vec::new();
    for dir in ancestors(crash_path) {
        for name in names {
            let p = child(dir, name);
            if tree.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

impl Layout {
    /// The layout for `crash_path`, from the repository's `tree` and the contents of the files
    /// [`manifests`] named (missing or unreadable ones are passed over).
    pub fn detect(
        crash_path: &str,
        tree: &[String],
        files: &BTreeMap<String, String>,
    ) -> Result<Layout, DraftError> {
        let language = Language::of_path(crash_path)
            .ok_or_else(|| DraftError::Unsupported(crate::sanitize::clean(crash_path)))?;
        let names = manifest_names(Some(language));
        let project_root = ancestors(crash_path)
            .into_iter()
            .find(|d| names.iter().any(|n| tree.iter().any(|t| *t == child(d, n))))
            .unwrap_or("")
            .to_string();
        let manifest = |name: &str| files.get(&child(&project_root, name)).map(String::as_str);
        let mut layout = Layout {
            language,
            runner: Runner::Pytest,
            test_dir: String::new(),
            project_root: project_root.clone(),
            python_root: String::new(),
            esm: false,
            rust_lib: None,
        };
        match language {
            Language::Python => {
                layout.python_root = python_root(crash_path, tree, &project_root);
                layout.test_dir = python_test_dir(crash_path, tree, &project_root);
            }
            Language::JavaScript | Language::TypeScript => {
                let pkg: Option<serde_json::Value> =
                    manifest("package.json").and_then(|s| serde_json::from_str(s).ok());
                layout.runner = js_runner(pkg.as_ref());
                layout.esm = crash_path.ends_with(".mjs")
                    || (!crash_path.ends_with(".cjs")
                        && pkg
                            .as_ref()
                            .and_then(|p| p.get("type"))
                            .and_then(|t| t.as_str())
                            == Some("module"));
                layout.test_dir = js_test_dir(crash_path, tree, &project_root);
            }
            Language::Rust => {
                layout.runner = Runner::Cargo;
                layout.test_dir = child(&project_root, "tests");
                layout.rust_lib = rust_lib(crash_path, tree, &project_root, manifest("Cargo.toml"));
            }
            Language::Go => {
                layout.runner = Runner::GoTest;
                layout.test_dir = parent(crash_path).to_string();
            }
        }
        Ok(layout)
    }
}

/// The directory Python imports the crash file's package from: above the outermost directory of
/// the chain of packages (`__init__.py`) holding the file; without packages, the project root's
/// `src/` when the file is under it, else the project root.
fn python_root(crash_path: &str, tree: &[String], project_root: &str) -> String {
    let mut dir = parent(crash_path);
    let mut found = false;
    while !dir.is_empty() && tree.iter().any(|t| *t == child(dir, "__init__.py")) {
        found = true;
        dir = parent(dir);
    }
    if found {
        return dir.to_string();
    }
    let src = child(project_root, "src");
    if crash_path.starts_with(&format!("{src}/")) {
        src
    } else {
        project_root.to_string()
    }
}

/// The `tests/` (or `test/`) directory nearest the module, walking up to the project root; the
/// project root's `tests/` when there is none.
fn python_test_dir(crash_path: &str, tree: &[String], project_root: &str) -> String {
    for dir in ancestors(crash_path) {
        for name in ["tests", "test"] {
            let d = child(dir, name);
            let prefix = format!("{d}/");
            if tree
                .iter()
                .any(|t| t.starts_with(&prefix) && t.ends_with(".py"))
            {
                return d;
            }
        }
        if dir == project_root {
            break;
        }
    }
    child(project_root, "tests")
}

/// jest, vitest or node:test, from the package's `test` script, then its dependencies.
fn js_runner(pkg: Option<&serde_json::Value>) -> Runner {
    let Some(pkg) = pkg else {
        return Runner::NodeTest;
    };
    let script = pkg
        .get("scripts")
        .and_then(|s| s.get("test"))
        .and_then(|s| s.as_str())
        .unwrap_or("");
    let words: Vec<&str> = script
        .split(|c: char| c.is_whitespace() || c == '&' || c == ';' || c == '|')
        .collect();
    if words.contains(&"vitest") {
        return Runner::Vitest;
    }
    if words.contains(&"jest") {
        return Runner::Jest;
    }
    if script.contains("node --test") || script.contains("node:test") {
        return Runner::NodeTest;
    }
    let has = |name: &str| {
        ["devDependencies", "dependencies"]
            .iter()
            .any(|k| pkg.get(k).and_then(|d| d.get(name)).is_some())
    };
    if has("vitest") {
        Runner::Vitest
    } else if has("jest") {
        Runner::Jest
    } else {
        Runner::NodeTest
    }
}

/// Following what the package already does: `__tests__/` beside the file when the package uses
/// `__tests__` directories and has no test files beside its code in that directory; else beside.
fn js_test_dir(crash_path: &str, tree: &[String], project_root: &str) -> String {
    let dir = parent(crash_path);
    let beside = child(dir, "__tests__");
    let in_dir = |t: &String, d: &str| parent(t) == d;
    if tree
        .iter()
        .any(|t| t.starts_with(&format!("{beside}/")) && !super::paths::is_vendored(t))
    {
        return beside;
    }
    let is_test_file = |t: &String| {
        let name = t.rsplit('/').next().unwrap_or(t);
        name.contains(".test.") || name.contains(".spec.")
    };
    if tree.iter().any(|t| in_dir(t, dir) && is_test_file(t)) {
        return dir.to_string();
    }
    let scope = if project_root.is_empty() {
        String::new()
    } else {
        format!("{project_root}/")
    };
    let in_package = |t: &&String| t.starts_with(&scope) && !super::paths::is_vendored(t);
    let uses_dirs = tree
        .iter()
        .filter(in_package)
        .any(|t| t.contains("/__tests__/") || t.starts_with("__tests__/"));
    let uses_beside = tree
        .iter()
        .filter(in_package)
        .any(|t| is_test_file(t) && !t.contains("__tests__/"));
    if uses_dirs && !uses_beside {
        beside
    } else {
        dir.to_string()
    }
}

/// The library crate's name when the crash file is part of the library (under `src/`, not a
/// binary's `main.rs` or `src/bin/`).
fn rust_lib(
    crash_path: &str,
    tree: &[String],
    project_root: &str,
    cargo_toml: Option<&str>,
) -> Option<String> {
    let src = child(project_root, "src");
    let rel = crash_path.strip_prefix(&format!("{src}/"))?;
    if rel == "main.rs" || rel.starts_with("bin/") {
        return None;
    }
    let manifest: Option<toml::Table> = cargo_toml.and_then(|s| s.parse().ok());
    let lib_name = manifest
        .as_ref()
        .and_then(|m| m.get("lib"))
        .and_then(|l| l.get("name"))
        .and_then(|n| n.as_str());
    let has_lib = tree.iter().any(|t| *t == child(&src, "lib.rs")) || lib_name.is_some();
    if !has_lib {
        return None;
    }
    let name = lib_name.or_else(|| {
        manifest
            .as_ref()
            .and_then(|m| m.get("package"))
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
    })?;
    let name = name.replace('-', "_");
    super::literals::is_ident(&name).then_some(name)
}
