//! From a stack frame's path (as the SDK reported it) to a file of the repository.
//!
//! Configured prefixes (`[sentry] path_map`) win; otherwise the tree path sharing the longest
//! suffix of whole path segments with the frame's path, ties broken towards a shorter path that is
//! not a test. Vendored and built files (`node_modules/`, `site-packages/`, `vendor/`, `dist/`,
//! `*.min.js`) are never a match.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::Frame;

/// No file of the tree matched the frame; `tried` names every path that was looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    pub tried: Vec<String>,
}

impl fmt::Display for Unmapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tried.is_empty() {
            return write!(f, "the frame names no file to look for in the repository");
        }
        let list: Vec<String> = self
            .tried
            .iter()
            .map(|p| format!("`{}`", crate::sanitize::clean(p)))
            .collect();
        write!(
            f,
            "no file in the repository matches the frame's path (tried {})",
            list.join(", ")
        )
    }
}

impl std::error::Error for Unmapped {}

/// The repository path of `frame`'s file: first the longest configured prefix of its path replaced
/// (the result must be in `tree`), then the longest path-suffix match (`abs_path` first, then
/// `filename`).
pub fn map_frame(
    frame: &Frame,
    tree: &[String],
    path_map: &BTreeMap<String, String>,
) -> Result<String, Unmapped> {
    let mut raw: Vec<&str> = Vec::new();
    for p in [frame.abs_path.as_deref(), frame.filename.as_deref()]
        .into_iter()
        .flatten()
    {
        if !p.trim().is_empty() && !raw.contains(&p) {
            raw.push(p);
        }
    }
    let mut tried: Vec<String> = Vec::new();
    let note = |p: String, tried: &mut Vec<String>| {
        if !tried.contains(&p) {
            tried.push(p);
        }
    };

    // 1. Configured prefixes, the longest that applies.
    for p in &raw {
        for form in [p.to_string(), normalize(p)] {
            let best = path_map
                .iter()
                .filter(|(from, _)| !from.is_empty() && form.starts_with(from.as_str()))
                .max_by_key(|(from, _)| from.len());
            if let Some((from, to)) = best {
                let mapped = join(to, &form[from.len()..]);
                if tree.contains(&mapped) {
                    return Ok(mapped);
                }
                note(mapped, &mut tried);
            }
        }
    }

    // 2. The longest suffix of whole segments.
    for p in &raw {
        let norm = normalize(p);
        if norm.is_empty() {
            continue;
        }
        note(norm.clone(), &mut tried);
        if let Some(found) = best_suffix(&norm, tree) {
            return Ok(found);
        }
    }
    Err(Unmapped { tried })
}

/// `prefix` + `rest` as a repository path: no leading `/`, one `/` between the two.
fn join(prefix: &str, rest: &str) -> String {
    let prefix = prefix.trim_matches('/');
    let rest = rest.trim_start_matches('/');
    if prefix.is_empty() {
        rest.to_string()
    } else if rest.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}/{rest}")
    }
}

/// The frame's path without its scheme (`app:///`, `webpack:///`, `file://`), home (`~/`), query
/// string, fragment, `./` segments and leading `/`.
pub fn normalize(path: &str) -> String {
    let mut p = path.trim();
    if let Some(i) = p.find(['?', '#']) {
        p = &p[..i];
    }
    for scheme in [
        "app:///",
        "webpack:///",
        "webpack-internal:///",
        "file://",
        "app://",
    ] {
        if let Some(rest) = p.strip_prefix(scheme) {
            p = rest;
        }
    }
    if let Some(rest) = p.strip_prefix("~/") {
        p = rest;
    }
    let segments: Vec<&str> = p
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != "." && *s != "~")
        .collect();
    segments.join("/")
}

/// The tree path sharing the most trailing segments with `norm` (at least the file name).
fn best_suffix(norm: &str, tree: &[String]) -> Option<String> {
    let want: Vec<&str> = norm.split('/').collect();
    tree.iter()
        .filter(|t| !is_vendored(t))
        .filter_map(|t| {
            let common = t
                .split('/')
                .rev()
                .zip(want.iter().rev())
                .take_while(|(a, b)| a == *b)
                .count();
            // The most segments in common, then not a test, then the shortest path.
            (common > 0).then_some((std::cmp::Reverse(common), is_test_path(t), t.len(), t))
        })
        .min()
        .map(|(_, _, _, t)| t.clone())
}

/// Third-party or built code: never the app's own file.
pub fn is_vendored(path: &str) -> bool {
    let p = format!("/{path}");
    [
        "/node_modules/",
        "/site-packages/",
        "/dist-packages/",
        "/vendor/",
        "/dist/",
    ]
    .iter()
    .any(|d| p.contains(d))
        || path.ends_with(".min.js")
}

/// A test file, by directory or by name, in any of the languages the drafter knows.
pub fn is_test_path(path: &str) -> bool {
    let p = format!("/{path}");
    if ["/tests/", "/test/", "/__tests__/", "/spec/"]
        .iter()
        .any(|d| p.contains(d))
    {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("test_")
        || name.ends_with("_test.py")
        || name.ends_with("_test.go")
        || name.contains(".test.")
        || name.contains(".spec.")
}
