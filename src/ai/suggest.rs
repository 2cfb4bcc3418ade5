//! Which tests to run (or write) for a change: each changed source file is mapped to its tests by
//! its language's conventions (reference `ai-and-analysis.md` §3.2, "convention mapping"):
//!
//! | language | source | tests |
//! | --- | --- | --- |
//! | Rust | `src/a/b.rs` | the `#[cfg(test)]` module of the file itself; `tests/*b*.rs` |
//! | Go | `pkg/x.go` | `pkg/x_test.go` |
//! | Python | `a/b.py` | `a/test_b.py`, `a/b_test.py`, `tests/**/test_b.py` |
//! | JS/TS | `src/x.ts` | `src/x.{test,spec}.ts`, `src/__tests__/x.*`, `test/**/x.{test,spec}.*` |
//! | Java/Kotlin | `src/main/java/a/X.java` | `src/test/java/a/X{Test,Tests,IT}.java` |
//! | Ruby | `app/models/x.rb`, `lib/a/x.rb` | `spec/models/x_spec.rb`, `spec/a/x_spec.rb`, `test/…/x_test.rb` |
//!
//! With the repository's file list, only tests that exist are suggested, and a source file with
//! none gets one "would be created at" its conventional place. Without it, the conventional place
//! is suggested as "may exist". Changed test files are always suggested (they run as they are).
//! Pure: paths in, suggestions out.

use serde::Serialize;

use super::risk::{Glob, TEST_GLOBS, glob_match};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Language {
    Rust,
    Go,
    Python,
    JavaScript,
    TypeScript,
    Java,
    Kotlin,
    Ruby,
}

impl Language {
    /// From a path's extension; `None` for files this module does not map (docs, config, other
    /// languages).
    pub fn of(path: &str) -> Option<Language> {
        let name = file_name(path);
        if name.ends_with(".d.ts") {
            return None;
        }
        let ext = name.rsplit_once('.').map(|(_, e)| e)?;
        Some(match ext {
            "rs" => Language::Rust,
            "go" => Language::Go,
            "py" => Language::Python,
            "js" | "jsx" | "mjs" | "cjs" => Language::JavaScript,
            "ts" | "tsx" | "mts" | "cts" => Language::TypeScript,
            "java" => Language::Java,
            "kt" => Language::Kotlin,
            "rb" => Language::Ruby,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::Go => "Go",
            Language::Python => "Python",
            Language::JavaScript => "JavaScript",
            Language::TypeScript => "TypeScript",
            Language::Java => "Java",
            Language::Kotlin => "Kotlin",
            Language::Ruby => "Ruby",
        }
    }
}

/// Whether a suggested test is known to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Existence {
    /// In the repository's file list, or among the changed files.
    Exists,
    /// The file list is known and has no such test: this is where it would be created.
    WouldBeCreated,
    /// No file list: the conventional place, which may or may not exist.
    Unknown,
}

/// One test to run or write for a changed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// The changed file the test covers (the test itself for a changed test).
    pub source: String,
    /// The test file (the source itself for Rust's in-file `#[cfg(test)]` module).
    pub test: String,
    pub language: Language,
    /// Why this test: the convention that maps it.
    pub reason: String,
    pub existence: Existence,
    /// The test file is among the changed files.
    pub touched: bool,
    /// The command that runs it, where the convention makes it obvious.
    pub command: Option<String>,
}

/// Every suggestion for a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Suggestions {
    /// In the order of the changed files; a test suggested for two files is listed once, for the
    /// first.
    pub tests: Vec<Suggestion>,
    /// Changed source files none of whose tests was touched.
    pub untested: Vec<String>,
    /// Source code changed and no test file did: "code changed, no test touched".
    pub no_test_touched: bool,
    /// The commands to run the suggested tests that exist (or may), merged per runner where it
    /// takes several paths (`pytest a b`), in first-seen order.
    pub commands: Vec<String>,
    /// Changed code files in a language this module does not map.
    pub unmapped: Vec<String>,
}

/// Whether a path is a test file by its language's conventions (the same table as the risk
/// score's).
pub fn is_test_path(path: &str) -> bool {
    TEST_GLOBS.iter().any(|g| glob_match(g, path))
}

/// A command: `prefix target`, and whether runs with the same prefix merge into one line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    prefix: String,
    target: String,
    merges: bool,
}

impl Run {
    fn new(prefix: impl Into<String>, target: impl Into<String>, merges: bool) -> Run {
        Run {
            prefix: prefix.into(),
            target: target.into(),
            merges,
        }
    }

    fn line(&self) -> String {
        if self.target.is_empty() {
            self.prefix.clone()
        } else {
            format!("{} {}", self.prefix, self.target)
        }
    }
}

/// Where a source file's tests may be: globs to look for (first wins on order), and where one
/// would be created when none exists.
struct Plan {
    /// `(glob, reason)`.
    look: Vec<(String, String)>,
    /// `(path, reason)`; `None` when the convention needs no new file (Rust's in-file module).
    create: Option<(String, String)>,
    /// A string every looked-for test's file name contains.
    needle: String,
}

/// Suggest tests for the changed paths; `known` is the repository's file list when it is known.
pub fn suggest(changed: &[String], known: Option<&[String]>) -> Suggestions {
    let mut out = Suggestions::default();
    let mut runs: Vec<Run> = Vec::new();
    let changed_tests: Vec<&String> = changed.iter().filter(|p| is_test_path(p)).collect();
    let build = BuildTool::detect(known);
    let mut any_code = false;

    for path in changed {
        let Some(lang) = Language::of(path) else {
            if is_other_code(path) && !is_test_path(path) {
                out.unmapped.push(path.clone());
            }
            continue;
        };
        if is_test_path(path) {
            let run = test_run(lang, path, build);
            push(
                &mut out,
                &mut runs,
                Suggestion {
                    source: path.clone(),
                    test: path.clone(),
                    language: lang,
                    reason: "changed test".to_string(),
                    existence: Existence::Exists,
                    touched: true,
                    command: None,
                },
                run,
            );
            continue;
        }
        any_code = true;
        let mut found_any = false;
        let mut touched_any = false;

        if lang == Language::Rust {
            let run = rust_unit_run(path);
            push(
                &mut out,
                &mut runs,
                Suggestion {
                    source: path.clone(),
                    test: path.clone(),
                    language: lang,
                    reason: "the #[cfg(test)] module in the file itself, if it has one".to_string(),
                    existence: Existence::Exists,
                    // Whether the change touched that module is not known from paths.
                    touched: false,
                    command: None,
                },
                run,
            );
            found_any = true;
        }

        let plan = plan(lang, path);
        // Every convention's test name contains the source's name: a cheap filter before globs.
        let candidates: Vec<&String> = known
            .into_iter()
            .flatten()
            .filter(|k| file_name(k).contains(plan.needle.as_str()))
            .collect();
        for (glob, reason) in &plan.look {
            let glob = Glob::new(glob);
            let in_known = candidates.iter().copied().filter(|k| glob.matches(k));
            let in_changed = changed_tests.iter().copied().filter(|c| glob.matches(c));
            let mut hits: Vec<&String> = in_known.chain(in_changed).collect();
            hits.sort();
            hits.dedup();
            for hit in hits {
                let touched = changed.contains(hit);
                touched_any |= touched;
                found_any = true;
                push(
                    &mut out,
                    &mut runs,
                    Suggestion {
                        source: path.clone(),
                        test: hit.clone(),
                        language: lang,
                        reason: reason.clone(),
                        existence: Existence::Exists,
                        touched,
                        command: None,
                    },
                    test_run(lang, hit, build),
                );
            }
        }
        if !found_any && let Some((at, reason)) = plan.create {
            let (existence, reason, run) = match known {
                Some(_) => (
                    Existence::WouldBeCreated,
                    format!("{reason}: none exists, would be created at {at}"),
                    None,
                ),
                None => (
                    Existence::Unknown,
                    format!("{reason} (file list unknown: may not exist)"),
                    test_run(lang, &at, build),
                ),
            };
            push(
                &mut out,
                &mut runs,
                Suggestion {
                    source: path.clone(),
                    test: at,
                    language: lang,
                    reason,
                    existence,
                    touched: false,
                    command: None,
                },
                run,
            );
        }
        if !touched_any {
            out.untested.push(path.clone());
        }
    }
    out.no_test_touched = any_code && changed_tests.is_empty();
    out.commands = merge_runs(&runs);
    out
}

/// Add a suggestion unless its test is already listed; remember its run for the commands.
fn push(out: &mut Suggestions, runs: &mut Vec<Run>, mut s: Suggestion, run: Option<Run>) {
    if out.tests.iter().any(|t| t.test == s.test) {
        return;
    }
    s.command = run.as_ref().map(Run::line);
    if let Some(run) = run
        && s.existence != Existence::WouldBeCreated
    {
        runs.push(run);
    }
    out.tests.push(s);
}

fn merge_runs(runs: &[Run]) -> Vec<String> {
    let mut lines: Vec<(String, Vec<String>, bool)> = Vec::new();
    for run in runs {
        if run.merges
            && let Some(line) = lines.iter_mut().find(|(p, _, m)| *m && *p == run.prefix)
        {
            if !line.1.contains(&run.target) {
                line.1.push(run.target.clone());
            }
            continue;
        }
        if !run.merges
            && lines
                .iter()
                .any(|(p, t, _)| *p == run.prefix && t.first() == Some(&run.target))
        {
            continue;
        }
        lines.push((run.prefix.clone(), vec![run.target.clone()], run.merges));
    }
    lines
        .into_iter()
        .map(|(prefix, targets, _)| {
            let targets: Vec<String> = targets.into_iter().filter(|t| !t.is_empty()).collect();
            if targets.is_empty() {
                prefix
            } else {
                format!("{prefix} {}", targets.join(" "))
            }
        })
        .collect()
}

/// Code in a language without a mapping here (so "untested" does not silently skip it).
fn is_other_code(path: &str) -> bool {
    const EXTS: &[&str] = &[
        "c", "h", "cc", "cpp", "hpp", "cs", "swift", "php", "scala", "ex", "exs",
    ];
    file_name(path)
        .rsplit_once('.')
        .is_some_and(|(_, e)| EXTS.contains(&e))
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `a/b/c.rs` → (`a/b/`, `c`, `rs`).
fn split(path: &str) -> (&str, &str, &str) {
    let (dir, name) = match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    };
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    (dir, stem, ext)
}

/// The part of `path` before its first `src/` directory and the part after it.
fn around_src(path: &str) -> Option<(&str, &str)> {
    if let Some(rest) = path.strip_prefix("src/") {
        return Some(("", rest));
    }
    path.find("/src/").map(|i| (&path[..=i], &path[i + 5..]))
}

fn plan(lang: Language, path: &str) -> Plan {
    let (dir, stem, ext) = split(path);
    let needle = match lang {
        Language::Rust => rust_module_name(path).unwrap_or(stem),
        Language::Python if stem == "__init__" => file_name(dir.trim_end_matches('/')),
        _ => stem,
    }
    .to_string();
    match lang {
        Language::Rust => {
            let root = around_src(path).map_or("", |(root, _)| root);
            let name = rust_module_name(path);
            let look = match name {
                Some(n) => vec![(
                    format!("{root}tests/*{n}*.rs"),
                    format!("integration tests named after `{n}` (tests/*{n}*.rs)"),
                )],
                None => Vec::new(),
            };
            Plan {
                look,
                create: None,
                needle,
            }
        }
        Language::Go => {
            let at = format!("{dir}{stem}_test.go");
            Plan {
                look: vec![(at.clone(), "Go: the package's x_test.go".to_string())],
                create: Some((at, "Go: the package's x_test.go".to_string())),
                needle,
            }
        }
        Language::Python => {
            let stem = if stem == "__init__" {
                file_name(dir.trim_end_matches('/'))
            } else {
                stem
            };
            let root = around_src(path).map_or("", |(root, _)| root);
            Plan {
                look: vec![
                    (
                        format!("{dir}test_{stem}.py"),
                        "pytest: test_x.py beside the module".to_string(),
                    ),
                    (
                        format!("{dir}{stem}_test.py"),
                        "pytest: x_test.py beside the module".to_string(),
                    ),
                    (
                        format!("{root}**/{{tests,test}}/**/test_{stem}.py"),
                        "pytest: tests/**/test_x.py".to_string(),
                    ),
                    (
                        format!("{root}**/{{tests,test}}/**/{stem}_test.py"),
                        "pytest: tests/**/x_test.py".to_string(),
                    ),
                ],
                create: Some((
                    format!("{root}tests/test_{stem}.py"),
                    "pytest: tests/test_x.py".to_string(),
                )),
                needle,
            }
        }
        Language::JavaScript | Language::TypeScript => {
            let family = "{js,jsx,ts,tsx,mjs,cjs,mts,cts}";
            // The package's root: before its `src/` or `lib/` (a monorepo has many `test/`).
            let root = around_src(path)
                .map(|(root, _)| root)
                .or_else(|| {
                    path.find("lib/")
                        .filter(|&i| i == 0 || path[..i].ends_with('/'))
                        .map(|i| &path[..i])
                })
                .unwrap_or("");
            Plan {
                look: vec![
                    (
                        format!("{dir}{stem}.{{test,spec}}.{family}"),
                        "x.test / x.spec beside the module".to_string(),
                    ),
                    (
                        format!("{dir}__tests__/{stem}.*"),
                        "__tests__/x.* beside the module".to_string(),
                    ),
                    (
                        format!("{root}{{test,tests}}/**/{stem}.{{test,spec}}.{family}"),
                        "test/**/x.test or x.spec in the package".to_string(),
                    ),
                ],
                create: Some((
                    format!("{dir}{stem}.test.{ext}"),
                    "x.test beside the module".to_string(),
                )),
                needle,
            }
        }
        Language::Java | Language::Kotlin => {
            let look_reason = format!("JUnit: {stem}Test under src/test");
            match path.find("src/main/") {
                Some(i) => {
                    let test_dir = format!("{}src/test/{}", &path[..i], &dir[i + 9..]);
                    Plan {
                        look: vec![(
                            format!("{test_dir}{stem}{{Test,Tests,IT}}.{ext}"),
                            look_reason.clone(),
                        )],
                        create: Some((format!("{test_dir}{stem}Test.{ext}"), look_reason)),
                        needle,
                    }
                }
                None => Plan {
                    look: vec![(format!("**/{stem}{{Test,Tests,IT}}.{ext}"), look_reason)],
                    create: None,
                    needle,
                },
            }
        }
        Language::Ruby => {
            // `app/models/x.rb` → `spec/models/`; `lib/a/x.rb` → `spec/a/` (or `spec/lib/a/`).
            let (root, rel_dir) = ruby_split(dir);
            let spec = format!("{root}spec/{rel_dir}{stem}_spec.rb");
            let mut look = vec![(spec.clone(), "RSpec: spec/…/x_spec.rb".to_string())];
            if dir.starts_with(&format!("{root}lib/")) {
                look.push((
                    format!("{root}spec/lib/{rel_dir}{stem}_spec.rb"),
                    "RSpec: spec/lib/…/x_spec.rb".to_string(),
                ));
            }
            look.push((
                format!("{root}test/{rel_dir}{stem}_test.rb"),
                "Minitest: test/…/x_test.rb".to_string(),
            ));
            Plan {
                look,
                create: Some((spec, "RSpec: spec/…/x_spec.rb".to_string())),
                needle,
            }
        }
    }
}

/// `app/models/` → (``, `models/`); `engines/x/lib/a/` → (`engines/x/`, `a/`).
fn ruby_split(dir: &str) -> (&str, &str) {
    for top in ["app/", "lib/"] {
        if let Some(rest) = dir.strip_prefix(top) {
            return ("", rest);
        }
        if let Some(i) = dir.find(&format!("/{top}")) {
            return (&dir[..=i], &dir[i + 1 + top.len()..]);
        }
    }
    ("", dir)
}

/// The last name of a Rust file's module path (`src/a/b.rs` → `b`, `src/a/mod.rs` → `a`); `None`
/// for a crate root (`lib.rs`, `main.rs`).
fn rust_module_name(path: &str) -> Option<&str> {
    let (_, after) = around_src(path)?;
    let segments: Vec<&str> = after.split('/').collect();
    let (last, parents) = segments.split_last()?;
    let stem = last.strip_suffix(".rs")?;
    match stem {
        "mod" => parents.last().copied(),
        "lib" | "main" if parents.is_empty() => None,
        _ => Some(stem),
    }
}

/// `cargo test --lib a::b` for a file under `src/` (with `-p crate` in a workspace member).
fn rust_unit_run(path: &str) -> Option<Run> {
    let (root, after) = around_src(path)?;
    let package = match root.trim_end_matches('/') {
        "" => String::new(),
        r => format!(" -p {}", file_name(r)),
    };
    if after == "main.rs" || after.starts_with("bin/") {
        return Some(Run::new(format!("cargo test{package} --bins"), "", false));
    }
    let module: Vec<&str> = after
        .trim_end_matches(".rs")
        .split('/')
        .filter(|s| *s != "mod" && *s != "lib")
        .collect();
    Some(Run::new(
        format!("cargo test{package} --lib"),
        module.join("::"),
        false,
    ))
}

/// The build tool of a JVM project, from the file list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BuildTool {
    Maven,
    Gradle,
    Unknown,
}

impl BuildTool {
    fn detect(known: Option<&[String]>) -> BuildTool {
        let files = known.unwrap_or(&[]);
        if files
            .iter()
            .any(|f| glob_match("{build.gradle,build.gradle.kts,gradlew}", f))
        {
            BuildTool::Gradle
        } else if files.iter().any(|f| glob_match("pom.xml", f)) {
            BuildTool::Maven
        } else {
            BuildTool::Unknown
        }
    }
}

/// How to run one test file.
fn test_run(lang: Language, test: &str, build: BuildTool) -> Option<Run> {
    let (dir, stem, _) = split(test);
    match lang {
        Language::Rust => {
            let (root, after) = match test.find("tests/") {
                Some(0) => ("", &test[6..]),
                Some(i) if test[..i].ends_with('/') && !test[..i].ends_with("src/") => {
                    (&test[..i], &test[i + 6..])
                }
                _ => return rust_unit_run(test),
            };
            let package = match root.trim_end_matches('/') {
                "" => String::new(),
                r => format!(" -p {}", file_name(r)),
            };
            if after.contains('/') {
                // A helper module of the integration tests: every test target may use it.
                Some(Run::new(format!("cargo test{package} --tests"), "", false))
            } else {
                Some(Run::new(format!("cargo test{package} --test"), stem, false))
            }
        }
        Language::Go => {
            let pkg = dir.trim_end_matches('/');
            let target = if pkg.is_empty() {
                ".".to_string()
            } else {
                format!("./{pkg}")
            };
            Some(Run::new("go test", target, true))
        }
        Language::Python => Some(Run::new("pytest", test, true)),
        Language::JavaScript | Language::TypeScript => Some(Run::new("npx jest", test, true)),
        Language::Java | Language::Kotlin => {
            let (module, class) = match test.find("src/test/") {
                Some(i) => {
                    let rel = &test[i + 9..];
                    // Skip the language directory (`java/`, `kotlin/`).
                    let rel = rel.split_once('/').map_or(rel, |(_, r)| r);
                    let class = rel
                        .rsplit_once('.')
                        .map_or(rel, |(c, _)| c)
                        .replace('/', ".");
                    (test[..i].trim_end_matches('/'), class)
                }
                None => ("", stem.to_string()),
            };
            match build {
                BuildTool::Gradle if module.is_empty() => {
                    Some(Run::new("./gradlew test --tests", class, false))
                }
                BuildTool::Gradle => Some(Run::new(
                    format!("./gradlew :{}:test --tests", module.replace('/', ":")),
                    class,
                    false,
                )),
                BuildTool::Maven if module.is_empty() => {
                    Some(Run::new("mvn test", format!("-Dtest={stem}"), false))
                }
                BuildTool::Maven => Some(Run::new(
                    format!("mvn -pl {module} test"),
                    format!("-Dtest={stem}"),
                    false,
                )),
                BuildTool::Unknown => None,
            }
        }
        Language::Ruby => {
            if stem.ends_with("_spec") {
                Some(Run::new("bundle exec rspec", test, true))
            } else {
                Some(Run::new("ruby -Itest", test, false))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    fn tests_for<'a>(s: &'a Suggestions, source: &str) -> Vec<&'a Suggestion> {
        s.tests.iter().filter(|t| t.source == source).collect()
    }

    #[test]
    fn rust_same_file_and_integration_tests() {
        let known = paths(&[
            "Cargo.toml",
            "src/lib.rs",
            "src/store/cache.rs",
            "tests/cache_eviction.rs",
            "tests/cli.rs",
        ]);
        let s = suggest(&paths(&["src/store/cache.rs"]), Some(&known));
        let t = tests_for(&s, "src/store/cache.rs");
        assert_eq!(t.len(), 2, "{t:?}");
        assert_eq!(t[0].test, "src/store/cache.rs");
        assert!(t[0].reason.contains("#[cfg(test)]"));
        assert_eq!(
            t[0].command.as_deref(),
            Some("cargo test --lib store::cache")
        );
        assert_eq!(t[1].test, "tests/cache_eviction.rs");
        assert_eq!(t[1].existence, Existence::Exists);
        assert!(!t[1].touched);
        assert_eq!(
            t[1].command.as_deref(),
            Some("cargo test --test cache_eviction")
        );
        // Whether the file's own test module changed is not known from paths: untested.
        assert!(s.no_test_touched);
        assert_eq!(s.untested, paths(&["src/store/cache.rs"]));
        assert_eq!(
            s.commands,
            vec![
                "cargo test --lib store::cache".to_string(),
                "cargo test --test cache_eviction".to_string()
            ]
        );
    }

    #[test]
    fn rust_workspace_member_mod_rs_and_crate_root() {
        let s = suggest(&paths(&["crates/engine/src/plan/mod.rs"]), None);
        assert_eq!(
            s.tests[0].command.as_deref(),
            Some("cargo test -p engine --lib plan")
        );
        let s = suggest(&paths(&["src/lib.rs", "src/main.rs"]), None);
        assert_eq!(s.tests[0].command.as_deref(), Some("cargo test --lib"));
        assert_eq!(s.tests[1].command.as_deref(), Some("cargo test --bins"));
        assert_eq!(
            s.tests.len(),
            2,
            "no integration-test glob for a crate root"
        );
    }

    #[test]
    fn go_maps_to_x_test_go_and_package_command() {
        let s = suggest(
            &paths(&["pkg/orders/orders.go", "pkg/orders/orders_test.go"]),
            None,
        );
        // The changed test is listed once, under the file it tests.
        assert_eq!(s.tests.len(), 1, "{:?}", s.tests);
        let test = &tests_for(&s, "pkg/orders/orders.go")[0];
        assert_eq!(test.test, "pkg/orders/orders_test.go");
        assert!(test.touched);
        assert_eq!(test.command.as_deref(), Some("go test ./pkg/orders"));
        assert!(!s.no_test_touched);
        assert!(s.untested.is_empty(), "{:?}", s.untested);
        assert_eq!(s.commands, vec!["go test ./pkg/orders".to_string()]);
    }

    #[test]
    fn go_without_a_test_would_be_created_when_the_list_is_known() {
        let known = paths(&["go.mod", "pkg/pay/pay.go", "main.go", "main_test.go"]);
        let s = suggest(&paths(&["pkg/pay/pay.go", "main.go"]), Some(&known));
        let pay = tests_for(&s, "pkg/pay/pay.go");
        assert_eq!(pay[0].test, "pkg/pay/pay_test.go");
        assert_eq!(pay[0].existence, Existence::WouldBeCreated);
        assert!(
            pay[0]
                .reason
                .contains("would be created at pkg/pay/pay_test.go")
        );
        let main = tests_for(&s, "main.go");
        assert_eq!(main[0].existence, Existence::Exists);
        assert_eq!(main[0].command.as_deref(), Some("go test ."));
        assert!(s.no_test_touched);
        assert_eq!(s.untested, paths(&["pkg/pay/pay.go", "main.go"]));
        // Nothing to run for a test that does not exist yet.
        assert_eq!(s.commands, vec!["go test .".to_string()]);
    }

    #[test]
    fn python_conventions() {
        let known = paths(&[
            "src/shop/cart.py",
            "tests/unit/test_cart.py",
            "src/shop/price.py",
            "src/shop/price_test.py",
            "src/shop/tax.py",
        ]);
        let changed = paths(&["src/shop/cart.py", "src/shop/price.py", "src/shop/tax.py"]);
        let s = suggest(&changed, Some(&known));
        assert_eq!(
            tests_for(&s, "src/shop/cart.py")[0].test,
            "tests/unit/test_cart.py"
        );
        assert_eq!(
            tests_for(&s, "src/shop/price.py")[0].test,
            "src/shop/price_test.py"
        );
        let tax = tests_for(&s, "src/shop/tax.py");
        assert_eq!(tax[0].test, "tests/test_tax.py");
        assert_eq!(tax[0].existence, Existence::WouldBeCreated);
        assert_eq!(
            s.commands,
            vec!["pytest tests/unit/test_cart.py src/shop/price_test.py".to_string()]
        );
        assert!(s.no_test_touched);
        assert_eq!(s.untested.len(), 3);

        // Unknown list: the conventional place, which may exist.
        let s = suggest(&paths(&["app/models.py"]), None);
        assert_eq!(s.tests[0].test, "tests/test_models.py");
        assert_eq!(s.tests[0].existence, Existence::Unknown);
        assert_eq!(s.commands, vec!["pytest tests/test_models.py".to_string()]);
    }

    #[test]
    fn javascript_and_typescript_conventions() {
        let known = paths(&[
            "web/src/cart.ts",
            "web/src/cart.spec.ts",
            "web/src/api.js",
            "web/src/__tests__/api.test.js",
            "web/src/util.tsx",
            "web/src/types.d.ts",
        ]);
        let changed = paths(&[
            "web/src/cart.ts",
            "web/src/api.js",
            "web/src/util.tsx",
            "web/src/types.d.ts",
        ]);
        let s = suggest(&changed, Some(&known));
        let cart = tests_for(&s, "web/src/cart.ts");
        assert_eq!(cart[0].test, "web/src/cart.spec.ts");
        assert_eq!(cart[0].language, Language::TypeScript);
        assert_eq!(
            cart[0].command.as_deref(),
            Some("npx jest web/src/cart.spec.ts")
        );
        let api = tests_for(&s, "web/src/api.js");
        assert_eq!(api[0].test, "web/src/__tests__/api.test.js");
        assert_eq!(api[0].language, Language::JavaScript);
        let util = tests_for(&s, "web/src/util.tsx");
        assert_eq!(util[0].test, "web/src/util.test.tsx");
        assert_eq!(util[0].existence, Existence::WouldBeCreated);
        assert!(tests_for(&s, "web/src/types.d.ts").is_empty());
        // test/**/x.test in the same package, not another package's.
        let known_mono = paths(&[
            "packages/a/src/index.ts",
            "packages/a/test/unit/index.test.ts",
            "packages/b/test/index.test.ts",
        ]);
        let mono = suggest(&paths(&["packages/a/src/index.ts"]), Some(&known_mono));
        let found: Vec<&str> = mono.tests.iter().map(|t| t.test.as_str()).collect();
        assert_eq!(found, vec!["packages/a/test/unit/index.test.ts"]);
        assert_eq!(
            s.commands,
            vec!["npx jest web/src/cart.spec.ts web/src/__tests__/api.test.js".to_string()]
        );
    }

    #[test]
    fn java_and_kotlin_conventions_with_build_tool() {
        let known = paths(&[
            "pom.xml",
            "src/main/java/com/acme/Order.java",
            "src/test/java/com/acme/OrderTest.java",
            "src/main/java/com/acme/Refund.java",
        ]);
        let changed = paths(&[
            "src/main/java/com/acme/Order.java",
            "src/main/java/com/acme/Refund.java",
        ]);
        let s = suggest(&changed, Some(&known));
        let order = tests_for(&s, "src/main/java/com/acme/Order.java");
        assert_eq!(order[0].test, "src/test/java/com/acme/OrderTest.java");
        assert_eq!(
            order[0].command.as_deref(),
            Some("mvn test -Dtest=OrderTest")
        );
        let refund = tests_for(&s, "src/main/java/com/acme/Refund.java");
        assert_eq!(refund[0].test, "src/test/java/com/acme/RefundTest.java");
        assert_eq!(refund[0].existence, Existence::WouldBeCreated);

        let known = paths(&[
            "build.gradle.kts",
            "billing/src/main/kotlin/com/acme/Invoice.kt",
            "billing/src/test/kotlin/com/acme/InvoiceTest.kt",
        ]);
        let s = suggest(
            &paths(&["billing/src/main/kotlin/com/acme/Invoice.kt"]),
            Some(&known),
        );
        assert_eq!(
            s.tests[0].test,
            "billing/src/test/kotlin/com/acme/InvoiceTest.kt"
        );
        assert_eq!(s.tests[0].language, Language::Kotlin);
        assert_eq!(
            s.tests[0].command.as_deref(),
            Some("./gradlew :billing:test --tests com.acme.InvoiceTest")
        );
        // No build file known: no command guessed.
        let s = suggest(&paths(&["src/main/java/com/acme/Order.java"]), None);
        assert_eq!(s.tests[0].test, "src/test/java/com/acme/OrderTest.java");
        assert_eq!(s.tests[0].command, None);
    }

    #[test]
    fn ruby_conventions() {
        let known = paths(&[
            "app/models/user.rb",
            "spec/models/user_spec.rb",
            "lib/billing/invoice.rb",
            "spec/lib/billing/invoice_spec.rb",
            "lib/billing/tax.rb",
            "test/billing/tax_test.rb",
        ]);
        let changed = paths(&[
            "app/models/user.rb",
            "lib/billing/invoice.rb",
            "lib/billing/tax.rb",
        ]);
        let s = suggest(&changed, Some(&known));
        assert_eq!(
            tests_for(&s, "app/models/user.rb")[0].test,
            "spec/models/user_spec.rb"
        );
        assert_eq!(
            tests_for(&s, "lib/billing/invoice.rb")[0].test,
            "spec/lib/billing/invoice_spec.rb"
        );
        let tax = tests_for(&s, "lib/billing/tax.rb");
        assert_eq!(tax[0].test, "test/billing/tax_test.rb");
        assert_eq!(
            tax[0].command.as_deref(),
            Some("ruby -Itest test/billing/tax_test.rb")
        );
        assert_eq!(
            s.commands,
            vec![
                "bundle exec rspec spec/models/user_spec.rb spec/lib/billing/invoice_spec.rb"
                    .to_string(),
                "ruby -Itest test/billing/tax_test.rb".to_string(),
            ]
        );
        let s = suggest(&paths(&["app/services/refund.rb"]), None);
        assert_eq!(s.tests[0].test, "spec/services/refund_spec.rb");
        assert_eq!(s.tests[0].existence, Existence::Unknown);
    }

    #[test]
    fn no_test_touched_flag() {
        let s = suggest(&paths(&["src/app.py", "README.md"]), None);
        assert!(s.no_test_touched);
        assert_eq!(s.untested, paths(&["src/app.py"]));

        let s = suggest(&paths(&["src/app.py", "tests/test_app.py"]), None);
        assert!(!s.no_test_touched);
        assert!(s.untested.is_empty(), "{:?}", s.untested);
        let t = tests_for(&s, "src/app.py");
        assert_eq!(t[0].test, "tests/test_app.py");
        assert!(t[0].touched);

        // Docs and config only: nothing to test, no flag.
        let s = suggest(&paths(&["README.md", "config/app.toml"]), None);
        assert!(!s.no_test_touched);
        assert!(s.tests.is_empty());

        // A language without a mapping is reported, not silently dropped.
        let s = suggest(&paths(&["native/fast.c"]), None);
        assert_eq!(s.unmapped, paths(&["native/fast.c"]));
    }

    #[test]
    fn tests_only_change_runs_the_changed_tests() {
        let s = suggest(&paths(&["tests/cli.rs", "tests/common/mod.rs"]), None);
        assert!(!s.no_test_touched);
        assert_eq!(
            s.commands,
            vec![
                "cargo test --test cli".to_string(),
                "cargo test --tests".to_string()
            ]
        );
    }

    #[test]
    fn language_of() {
        assert_eq!(Language::of("a/b.rs"), Some(Language::Rust));
        assert_eq!(Language::of("a/b.tsx"), Some(Language::TypeScript));
        assert_eq!(Language::of("a/b.d.ts"), None);
        assert_eq!(Language::of("Makefile"), None);
        assert_eq!(Language::of("a/b.md"), None);
    }
}
