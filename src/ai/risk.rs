//! The risk of a pull request, from what it touches and how it was reviewed: a score from 0 to 100,
//! a tier (Low, Medium, High) and the reasons behind it, each naming the rule and the paths or
//! facts that triggered it. Deterministic and pure: the same facts and rules give the same answer.
//!
//! The rules are the additive table of the deterministic analyzer (reference `ai-and-analysis.md`
//! §3.1): named path rules with globs and a weight (migrations, auth, CI/deploy, infrastructure,
//! dependencies, public API, configuration), then size, tests, review state, ownership and churn.
//! Each path rule counts once however many files it matches, and its globs ignore ASCII case
//! (`*jwt*` catches `JwtFilter.java`); the test and source globs do not (`*IT.java` must not catch
//! `Audit.java`). The table is data ([`RiskRules`]) so `[ai.risk]` in the configuration can change
//! a weight, add a rule or replace the table.
//!
//! When only the PR's counts are known (its file list was not fetched) the path and test rules are
//! not applied and a reason says so: a low score then means "nothing seen", not "nothing there".

use serde::{Deserialize, Serialize};

use crate::domain::{PrFile, PullRequest, ReviewDecision};

/// How a file changed, from GitHub's `status` of a PR file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileStatus {
    Added,
    Modified,
    Removed,
    Renamed,
    /// `copied`, `changed`, `unchanged` or anything else.
    Other,
}

impl FileStatus {
    pub fn from_api(status: &str) -> FileStatus {
        match status {
            "added" => FileStatus::Added,
            "modified" => FileStatus::Modified,
            "removed" => FileStatus::Removed,
            "renamed" => FileStatus::Renamed,
            _ => FileStatus::Other,
        }
    }
}

/// One file the PR changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: String,
    pub additions: u64,
    pub deletions: u64,
    pub status: FileStatus,
}

impl ChangedFile {
    pub fn new(path: &str, additions: u64, deletions: u64) -> ChangedFile {
        ChangedFile {
            path: path.to_string(),
            additions,
            deletions,
            status: FileStatus::Modified,
        }
    }
}

impl From<&PrFile> for ChangedFile {
    fn from(f: &PrFile) -> ChangedFile {
        ChangedFile {
            path: f.filename.clone(),
            additions: f.additions,
            deletions: f.deletions,
            status: FileStatus::from_api(&f.status),
        }
    }
}

/// What is known about a PR when its risk is scored. Everything optional is "unknown" when `None`
/// (or empty, for the lists), and an unknown never adds to the score.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrFacts {
    /// The changed files; `None` when the file list has not been fetched (only the counts below).
    pub files: Option<Vec<ChangedFile>>,
    pub additions: Option<u64>,
    pub deletions: Option<u64>,
    pub changed_files: Option<u64>,
    pub author: String,
    pub is_draft: bool,
    /// GitHub's review decision, when read.
    pub review: Option<ReviewDecision>,
    /// Reviewers whose latest review approves.
    pub approved_by: Vec<String>,
    /// Reviewers whose latest review requests changes.
    pub changes_requested_by: Vec<String>,
    /// `Some(true)` for a first-time contributor to the repository; `None` when unknown.
    pub author_is_first_time: Option<bool>,
    /// Code owners of the changed paths that are not among the approvers; `None` when unknown
    /// (no CODEOWNERS read).
    pub codeowners_missing: Option<Vec<String>>,
    /// Paths touched by the suspected changes of recent incidents (churn); empty when unknown.
    pub incident_paths: Vec<String>,
}

impl PrFacts {
    /// The facts the cockpit has for a PR: its counts, draft flag and reviews, and its files when
    /// they were fetched (`Fetch::PrFiles`). Ownership, first-time authorship and churn are left
    /// unknown for the caller to fill.
    pub fn from_pull_request(pr: &PullRequest, files: Option<&[PrFile]>) -> PrFacts {
        let (approved_by, changes_requested_by) = latest_review_states(pr);
        PrFacts {
            files: files.map(|f| f.iter().map(ChangedFile::from).collect()),
            additions: pr.additions,
            deletions: pr.deletions,
            changed_files: pr.changed_files,
            author: pr.author.clone(),
            is_draft: pr.draft,
            review: pr.review,
            approved_by,
            changes_requested_by,
            author_is_first_time: None,
            codeowners_missing: None,
            incident_paths: Vec::new(),
        }
    }

    /// Lines added plus deleted: the PR's counts, or the files' sums when the counts are unknown.
    fn changed_lines(&self) -> Option<u64> {
        match (self.additions, self.deletions, &self.files) {
            (Some(a), Some(d), _) => Some(a + d),
            (Some(a), None, None) => Some(a),
            (None, Some(d), None) => Some(d),
            (_, _, Some(files)) => Some(files.iter().map(|f| f.additions + f.deletions).sum()),
            (None, None, None) => None,
        }
    }

    fn file_count(&self) -> Option<u64> {
        self.changed_files
            .or_else(|| self.files.as_ref().map(|f| f.len() as u64))
    }
}

/// Each reviewer's latest deciding review (APPROVED, CHANGES_REQUESTED, or DISMISSED, which clears
/// it; COMMENTED does not change a decision), as GitHub counts them. Reviews without a time keep
/// their list order. Sorted by reviewer.
fn latest_review_states(pr: &PullRequest) -> (Vec<String>, Vec<String>) {
    let mut reviews: Vec<(usize, &crate::domain::Review)> = pr.reviews.iter().enumerate().collect();
    reviews.sort_by_key(|(i, r)| (r.submitted_at, *i));
    let mut latest: std::collections::BTreeMap<&str, &str> = Default::default();
    for (_, r) in reviews {
        match r.state.as_str() {
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED" => {
                latest.insert(&r.reviewer, &r.state);
            }
            _ => {}
        }
    }
    let with = |state: &str| -> Vec<String> {
        latest
            .iter()
            .filter(|(_, s)| **s == state)
            .map(|(r, _)| r.to_string())
            .collect()
    };
    (with("APPROVED"), with("CHANGES_REQUESTED"))
}

/// A path rule: any changed file matching one of `globs` adds `weight` once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    pub globs: Vec<String>,
    pub weight: u32,
}

impl Rule {
    pub fn new(name: &str, globs: &[&str], weight: u32) -> Rule {
        Rule {
            name: name.to_string(),
            globs: globs.iter().map(|g| g.to_string()).collect(),
            weight,
        }
    }

    /// Whether a path matches one of the globs; path rules ignore ASCII case.
    pub fn matches(&self, path: &str) -> bool {
        self.globs
            .iter()
            .any(|g| Glob::ignore_case(g).matches(path))
    }
}

/// Score bands: below `medium_from` is Low, above `high_above` is High, Medium between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bands {
    pub medium_from: u32,
    pub high_above: u32,
}

impl Default for Bands {
    fn default() -> Bands {
        Bands {
            medium_from: 25,
            high_above: 55,
        }
    }
}

/// Size thresholds (strictly more than) and their weights. The large-lines weight replaces the
/// lines weight; the files weight adds to either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SizeRules {
    pub lines: u64,
    pub lines_weight: u32,
    pub large_lines: u64,
    pub large_lines_weight: u32,
    pub files: u64,
    pub files_weight: u32,
}

impl Default for SizeRules {
    fn default() -> SizeRules {
        SizeRules {
            lines: 200,
            lines_weight: 10,
            large_lines: 500,
            large_lines_weight: 20,
            files: 20,
            files_weight: 10,
        }
    }
}

/// Weights of the signals that are not path rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalWeights {
    /// Source code changed and no test file changed.
    pub no_tests: u32,
    /// A reviewer's latest review requests changes.
    pub changes_requested: u32,
    /// No approving review.
    pub no_approval: u32,
    /// The author's first contribution to the repository.
    pub first_time_author: u32,
    /// A code owner of the changed paths has not approved.
    pub codeowners: u32,
    /// A changed file was touched by a recent incident's suspected change.
    pub churn: u32,
}

impl Default for SignalWeights {
    fn default() -> SignalWeights {
        SignalWeights {
            no_tests: 10,
            changes_requested: 15,
            no_approval: 10,
            first_time_author: 10,
            codeowners: 10,
            churn: 15,
        }
    }
}

/// The whole rule table, `[ai.risk]` in the configuration. Every key is optional:
///
/// ```toml
/// [ai.risk]
/// bands = { medium_from = 30, high_above = 60 }
/// [[ai.risk.rules]]          # same name as a default: replaces it (weight 0 turns it off)
/// name = "dependencies"
/// globs = ["Cargo.lock"]
/// weight = 5
/// [[ai.risk.rules]]          # a new name: added after the defaults
/// name = "billing"
/// globs = ["**/billing/**"]
/// weight = 25
/// ```
///
/// `replace_defaults = true` drops the default rules and keeps only the ones given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawRiskRules")]
pub struct RiskRules {
    pub rules: Vec<Rule>,
    /// Globs of test files (tests changed, tests only, code without tests).
    pub test_globs: Vec<String>,
    /// Globs of source code (the "code without tests" rule looks only at these).
    pub source_globs: Vec<String>,
    pub bands: Bands,
    pub size: SizeRules,
    pub weights: SignalWeights,
}

/// `[ai.risk]` as written: rules merged into the defaults by name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawRiskRules {
    rules: Vec<Rule>,
    replace_defaults: bool,
    test_globs: Option<Vec<String>>,
    source_globs: Option<Vec<String>>,
    bands: Bands,
    size: SizeRules,
    weights: SignalWeights,
}

impl From<RawRiskRules> for RiskRules {
    fn from(raw: RawRiskRules) -> RiskRules {
        let defaults = RiskRules::default();
        let mut rules = if raw.replace_defaults {
            Vec::new()
        } else {
            defaults.rules
        };
        for rule in raw.rules {
            match rules.iter_mut().find(|r| r.name == rule.name) {
                Some(existing) => *existing = rule,
                None => rules.push(rule),
            }
        }
        RiskRules {
            rules,
            test_globs: raw.test_globs.unwrap_or(defaults.test_globs),
            source_globs: raw.source_globs.unwrap_or(defaults.source_globs),
            bands: raw.bands,
            size: raw.size,
            weights: raw.weights,
        }
    }
}

/// Test files by each language's conventions.
pub const TEST_GLOBS: &[&str] = &[
    "**/tests/**",
    "**/test/**",
    "**/__tests__/**",
    "**/spec/**",
    "**/testdata/**",
    "*_test.go",
    "test_*.py",
    "*_test.py",
    "*.{test,spec}.{js,jsx,ts,tsx,mjs,cjs,mts,cts}",
    "*{Test,Tests,IT}.{java,kt}",
    "*_spec.rb",
    "*_test.rb",
];

/// Source code: what "changed without tests" looks at (not docs, config or lockfiles).
pub const SOURCE_GLOBS: &[&str] = &[
    "*.{rs,go,py,js,jsx,ts,tsx,mjs,cjs,mts,cts,java,kt,rb,c,h,cc,cpp,hpp,cs,swift,php,scala,ex,exs}",
];

impl Default for RiskRules {
    fn default() -> RiskRules {
        RiskRules {
            rules: vec![
                Rule::new(
                    "migrations",
                    &[
                        "**/migrations/**",
                        "**/migrate/**",
                        "*.sql",
                        "alembic/versions/**",
                        "schema.prisma",
                    ],
                    25,
                ),
                Rule::new(
                    "auth",
                    &[
                        "**/{auth,authn,authz,security,permissions,oauth,session,sessions,crypto}/**",
                        "*{jwt,password,passwd,secret,credential,crypto,permission}*",
                    ],
                    25,
                ),
                Rule::new(
                    "ci-deploy",
                    &[
                        ".github/workflows/**",
                        ".github/actions/**",
                        ".gitlab-ci.y*ml",
                        ".circleci/**",
                        "Jenkinsfile*",
                        "Dockerfile*",
                        "*.dockerfile",
                        "docker-compose*",
                        "**/deploy/**",
                    ],
                    20,
                ),
                Rule::new(
                    "infra",
                    &[
                        "*.tf",
                        "*.tfvars",
                        "*.hcl",
                        "**/terraform/**",
                        "**/helm/**",
                        "**/charts/**",
                        "Chart.yaml",
                        "**/{k8s,kubernetes}/**",
                        "kustomization.y*ml",
                    ],
                    20,
                ),
                Rule::new(
                    "dependencies",
                    &[
                        "Cargo.{toml,lock}",
                        "package.json",
                        "{package-lock.json,npm-shrinkwrap.json,pnpm-lock.yaml,yarn.lock,bun.lockb}",
                        "go.{mod,sum}",
                        "{poetry.lock,uv.lock,Pipfile,Pipfile.lock,pyproject.toml}",
                        "requirements*.txt",
                        "Gemfile{,.lock}",
                        "{pom.xml,build.gradle,build.gradle.kts,gradle.lockfile}",
                        "composer.{json,lock}",
                    ],
                    10,
                ),
                Rule::new(
                    "public-api",
                    &[
                        "**/api/**",
                        "*.proto",
                        "openapi*.{yaml,yml,json}",
                        "swagger*.{yaml,yml,json}",
                        "*.graphql",
                        "src/lib.rs",
                    ],
                    15,
                ),
                Rule::new(
                    "config",
                    &[
                        "**/config/**",
                        "*.env*",
                        "settings.*",
                        "**/{flags,feature_flags,feature-flags,features}/**",
                        "*{flags,feature_flags,feature-flags}.{json,yaml,yml,toml}",
                    ],
                    10,
                ),
            ],
            test_globs: TEST_GLOBS.iter().map(|g| g.to_string()).collect(),
            source_globs: SOURCE_GLOBS.iter().map(|g| g.to_string()).collect(),
            bands: Bands::default(),
            size: SizeRules::default(),
            weights: SignalWeights::default(),
        }
    }
}

impl RiskRules {
    pub fn is_test(&self, path: &str) -> bool {
        self.test_globs.iter().any(|g| glob_match(g, path))
    }

    pub fn is_source(&self, path: &str) -> bool {
        self.source_globs.iter().any(|g| glob_match(g, path))
    }

    pub fn tier(&self, score: u32) -> Tier {
        if score > self.bands.high_above {
            Tier::High
        } else if score >= self.bands.medium_from {
            Tier::Medium
        } else {
            Tier::Low
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    Low,
    Medium,
    High,
}

impl Tier {
    pub fn label(self) -> &'static str {
        match self {
            Tier::Low => "low",
            Tier::Medium => "medium",
            Tier::High => "high",
        }
    }
}

/// One reason for the score: the rule, what it added (0 for a note that adds nothing) and what
/// triggered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub rule: String,
    pub weight: u32,
    /// One line for the screen: the trigger, with the paths (at most [`PATHS_SHOWN`]).
    pub detail: String,
    /// Every path that triggered the rule (empty for signals that are not about paths).
    pub paths: Vec<String>,
}

/// How many paths a reason's `detail` names before "and N more".
pub const PATHS_SHOWN: usize = 3;

/// A PR's risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub tier: Tier,
    /// 0..=100: the sum of the reasons' weights, capped; for a tests-only PR, capped below Medium.
    pub score: u32,
    /// Heaviest first; equal weights keep the rule table's order.
    pub reasons: Vec<Reason>,
    /// Whether the file list was known (the path and test rules applied).
    pub files_known: bool,
    /// A test file is among the changed files.
    pub tests_changed: bool,
    /// Source code changed and no test file did.
    pub code_without_tests: bool,
}

/// Score a PR's facts against the rules.
pub fn assess(facts: &PrFacts, rules: &RiskRules) -> Risk {
    let mut reasons: Vec<Reason> = Vec::new();
    let w = rules.weights;
    let mut tests_changed = false;
    let mut code_without_tests = false;
    let mut tests_only = false;

    match &facts.files {
        Some(files) => {
            for rule in &rules.rules {
                if rule.weight == 0 {
                    continue;
                }
                let globs: Vec<Glob> = rule.globs.iter().map(|g| Glob::ignore_case(g)).collect();
                let hits: Vec<String> = files
                    .iter()
                    .filter(|f| globs.iter().any(|g| g.matches(&f.path)))
                    .map(|f| f.path.clone())
                    .collect();
                if !hits.is_empty() {
                    reasons.push(path_reason(&rule.name, rule.weight, "", hits));
                }
            }
            let tests: Vec<&ChangedFile> =
                files.iter().filter(|f| rules.is_test(&f.path)).collect();
            let code: Vec<String> = files
                .iter()
                .filter(|f| !rules.is_test(&f.path) && rules.is_source(&f.path))
                .map(|f| f.path.clone())
                .collect();
            tests_changed = !tests.is_empty();
            tests_only = tests_changed && tests.len() == files.len();
            code_without_tests = !tests_changed && !code.is_empty();
            if code_without_tests && w.no_tests > 0 {
                reasons.push(path_reason(
                    "no-tests",
                    w.no_tests,
                    "source changed, no test file changed: ",
                    code,
                ));
            }
            if tests_only {
                let paths: Vec<String> = tests.iter().map(|f| f.path.clone()).collect();
                reasons.push(path_reason(
                    "tests-only",
                    0,
                    "only test files changed, capped at low: ",
                    paths,
                ));
            }
            if let Some(total) = facts.changed_files
                && (files.len() as u64) < total
            {
                reasons.push(Reason {
                    rule: "files-partial".to_string(),
                    weight: 0,
                    detail: format!(
                        "file list partial: {} of {total} files seen by the path and test rules",
                        files.len()
                    ),
                    paths: Vec::new(),
                });
            }
            let churn: Vec<String> = files
                .iter()
                .filter(|f| facts.incident_paths.iter().any(|p| p == &f.path))
                .map(|f| f.path.clone())
                .collect();
            if !churn.is_empty() && w.churn > 0 {
                reasons.push(path_reason(
                    "churn",
                    w.churn,
                    "touched by a recent incident's suspected change: ",
                    churn,
                ));
            }
        }
        None => {
            let counts = match facts.file_count() {
                Some(n) => crate::fmt::plural(n as usize, "file"),
                None => "the files".to_string(),
            };
            reasons.push(Reason {
                rule: "files-unknown".to_string(),
                weight: 0,
                detail: format!(
                    "file list not fetched: path, test and churn rules not applied to {counts}"
                ),
                paths: Vec::new(),
            });
        }
    }

    size_reasons(facts, rules, &mut reasons);
    review_reasons(facts, rules, &mut reasons);

    // Stable: equal weights keep the order they were added in (the rule table's).
    reasons.sort_by_key(|r| std::cmp::Reverse(r.weight));
    let mut score = reasons.iter().map(|r| r.weight).sum::<u32>().min(100);
    if tests_only {
        score = score.min(rules.bands.medium_from.saturating_sub(1));
    }
    Risk {
        tier: rules.tier(score),
        score,
        reasons,
        files_known: facts.files.is_some(),
        tests_changed,
        code_without_tests,
    }
}

fn size_reasons(facts: &PrFacts, rules: &RiskRules, reasons: &mut Vec<Reason>) {
    let s = rules.size;
    if let Some(lines) = facts.changed_lines() {
        let lines_s = crate::fmt::thousands(lines);
        if lines > s.large_lines && s.large_lines_weight > 0 {
            reasons.push(Reason {
                rule: "size".to_string(),
                weight: s.large_lines_weight,
                detail: format!("{lines_s} changed lines (more than {})", s.large_lines),
                paths: Vec::new(),
            });
        } else if lines > s.lines && s.lines_weight > 0 {
            reasons.push(Reason {
                rule: "size".to_string(),
                weight: s.lines_weight,
                detail: format!("{lines_s} changed lines (more than {})", s.lines),
                paths: Vec::new(),
            });
        }
    }
    if let Some(n) = facts.file_count()
        && n > s.files
        && s.files_weight > 0
    {
        reasons.push(Reason {
            rule: "files".to_string(),
            weight: s.files_weight,
            detail: format!("{n} changed files (more than {})", s.files),
            paths: Vec::new(),
        });
    }
}

fn review_reasons(facts: &PrFacts, rules: &RiskRules, reasons: &mut Vec<Reason>) {
    let w = rules.weights;
    let requested = facts.review == Some(ReviewDecision::ChangesRequested)
        || !facts.changes_requested_by.is_empty();
    if requested && w.changes_requested > 0 {
        let by = if facts.changes_requested_by.is_empty() {
            String::new()
        } else {
            format!(" by {}", facts.changes_requested_by.join(", "))
        };
        reasons.push(Reason {
            rule: "changes-requested".to_string(),
            weight: w.changes_requested,
            detail: format!("changes requested{by}"),
            paths: Vec::new(),
        });
    }
    let approved = facts.review == Some(ReviewDecision::Approved) || !facts.approved_by.is_empty();
    // Unknown review state (no decision read, no reviews) is not "no approval".
    let review_known = facts.review.is_some()
        || !facts.approved_by.is_empty()
        || !facts.changes_requested_by.is_empty();
    if review_known && !approved && w.no_approval > 0 {
        reasons.push(Reason {
            rule: "no-approval".to_string(),
            weight: w.no_approval,
            detail: "no approving review".to_string(),
            paths: Vec::new(),
        });
    }
    if facts.author_is_first_time == Some(true) && w.first_time_author > 0 {
        reasons.push(Reason {
            rule: "first-time-author".to_string(),
            weight: w.first_time_author,
            detail: format!("first contribution by {}", facts.author),
            paths: Vec::new(),
        });
    }
    if let Some(missing) = &facts.codeowners_missing
        && !missing.is_empty()
        && w.codeowners > 0
    {
        reasons.push(Reason {
            rule: "codeowners".to_string(),
            weight: w.codeowners,
            detail: format!(
                "code owners not among the approvers: {}",
                missing.join(", ")
            ),
            paths: Vec::new(),
        });
    }
    if facts.is_draft {
        reasons.push(Reason {
            rule: "draft".to_string(),
            weight: 0,
            detail: "draft: not ready for review".to_string(),
            paths: Vec::new(),
        });
    }
}

fn path_reason(rule: &str, weight: u32, prefix: &str, paths: Vec<String>) -> Reason {
    let shown: Vec<&str> = paths.iter().take(PATHS_SHOWN).map(String::as_str).collect();
    let more = paths.len().saturating_sub(PATHS_SHOWN);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Reason {
        rule: rule.to_string(),
        weight,
        detail: format!("{prefix}{}{tail}", shown.join(", ")),
        paths,
    }
}

/// A glob, compiled once to match many paths. `**` is any number of whole directories (none
/// included), `*` any run of characters within one directory, `?` one character (one byte of a
/// non-ASCII one), `{a,b}` either alternative (nesting allowed). A pattern without `/` matches the
/// file's name in any directory (`Cargo.lock` matches `crates/x/Cargo.lock`); one with `/` matches
/// from the repository's root. A leading `./` is ignored on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// Each brace alternative: `None` to match the file name, else the path's segments.
    alternatives: Vec<(String, Option<Vec<String>>)>,
    ignore_case: bool,
}

impl Glob {
    /// Case-sensitive, as file systems and Git are.
    pub fn new(pattern: &str) -> Glob {
        Glob::build(pattern, false)
    }

    /// ASCII letters match either case (`*jwt*` matches `JwtFilter.java`).
    pub fn ignore_case(pattern: &str) -> Glob {
        Glob::build(pattern, true)
    }

    fn build(pattern: &str, ignore_case: bool) -> Glob {
        let alternatives = expand_braces(pattern)
            .into_iter()
            .map(|p| {
                let p = p.trim_start_matches("./").to_string();
                let segments = p.contains('/').then(|| {
                    p.split('/')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                });
                (p, segments)
            })
            .collect();
        Glob {
            alternatives,
            ignore_case,
        }
    }

    pub fn matches(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./");
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let fold = self.ignore_case;
        self.alternatives.iter().any(|(name, segs)| match segs {
            Some(pat) => {
                let pat: Vec<&str> = pat.iter().map(String::as_str).collect();
                match_segments(&pat, &segments, fold)
            }
            None => segments
                .last()
                .is_some_and(|last| match_segment(name.as_bytes(), last.as_bytes(), fold)),
        })
    }
}

/// Whether `path` matches `pattern` (case-sensitive); see [`Glob`].
pub fn glob_match(pattern: &str, path: &str) -> bool {
    Glob::new(pattern).matches(path)
}

/// The most alternatives one pattern expands to; the rest are dropped.
const MAX_EXPANSIONS: usize = 256;

/// `a{b,c{d,e}}f` → `abf`, `acdf`, `acef`. An unmatched `{` is literal.
fn expand_braces(pattern: &str) -> Vec<String> {
    let bytes = pattern.as_bytes();
    let Some(open) = bytes.iter().position(|&b| b == b'{') else {
        return vec![pattern.to_string()];
    };
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_string()];
    };
    let head = &pattern[..open];
    let tail = &pattern[close + 1..];
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for pair in bounds.windows(2) {
        let alt = &pattern[pair[0] + 1..pair[1]];
        for expanded in expand_braces(&format!("{head}{alt}{tail}")) {
            if out.len() >= MAX_EXPANSIONS {
                return out;
            }
            out.push(expanded);
        }
    }
    out
}

fn match_segments(pat: &[&str], path: &[&str], fold: bool) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|i| match_segments(rest, &path[i..], fold)),
        Some((first, rest)) => {
            !path.is_empty()
                && match_segment(first.as_bytes(), path[0].as_bytes(), fold)
                && match_segments(rest, &path[1..], fold)
        }
    }
}

/// `*` and `?` within one path segment; backtracking only to the last `*`.
fn match_segment(pat: &[u8], text: &[u8], fold: bool) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() && pat[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pat.len()
            && (pat[p] == b'?'
                || pat[p] == text[t]
                || (fold && pat[p].eq_ignore_ascii_case(&text[t])))
        {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Review;

    fn facts(paths: &[&str]) -> PrFacts {
        PrFacts {
            files: Some(paths.iter().map(|p| ChangedFile::new(p, 5, 1)).collect()),
            author: "dev".to_string(),
            review: Some(ReviewDecision::Approved),
            approved_by: vec!["rev".to_string()],
            ..PrFacts::default()
        }
    }

    fn rules() -> RiskRules {
        RiskRules::default()
    }

    fn reason<'a>(risk: &'a Risk, rule: &str) -> Option<&'a Reason> {
        risk.reasons.iter().find(|r| r.rule == rule)
    }

    #[test]
    fn glob_double_star_matches_any_depth_including_none() {
        assert!(glob_match("**/migrations/**", "migrations/001.sql"));
        assert!(glob_match(
            "**/migrations/**",
            "db/app/migrations/001_init.rb"
        ));
        assert!(!glob_match("**/migrations/**", "src/migrations.rs"));
        assert!(glob_match("a/**/b", "a/b"));
        assert!(glob_match("a/**/b", "a/x/y/b"));
        assert!(!glob_match("a/**/b", "a/x/y/c"));
    }

    #[test]
    fn glob_star_stays_within_a_directory() {
        assert!(glob_match("src/*.rs", "src/main.rs"));
        assert!(!glob_match("src/*.rs", "src/app/main.rs"));
        assert!(glob_match(
            ".github/workflows/*",
            ".github/workflows/ci.yml"
        ));
        assert!(glob_match("?.txt", "a.txt"));
        assert!(!glob_match("?.txt", "ab.txt"));
    }

    #[test]
    fn glob_without_slash_matches_the_name_anywhere() {
        assert!(glob_match("Cargo.lock", "Cargo.lock"));
        assert!(glob_match("Cargo.lock", "crates/core/Cargo.lock"));
        assert!(Glob::ignore_case("*jwt*").matches("src/auth_utils/JwtFilter.java"));
        assert!(!glob_match("*jwt*", "src/auth_utils/JwtFilter.java"));
        assert!(!glob_match("Cargo.lock", "Cargo.lock.bak"));
    }

    #[test]
    fn glob_braces_expand_and_nest() {
        assert!(glob_match("*.{yml,yaml}", "deploy.yaml"));
        assert!(glob_match("*.{yml,yaml}", "deploy.yml"));
        assert!(!glob_match("*.{yml,yaml}", "deploy.json"));
        assert!(glob_match("Gemfile{,.lock}", "Gemfile"));
        assert!(glob_match("Gemfile{,.lock}", "Gemfile.lock"));
        assert!(glob_match("x.{a,b{c,d}}", "x.bd"));
        assert_eq!(expand_braces("a{b,c{d,e}}f"), vec!["abf", "acdf", "acef"]);
        assert!(glob_match("{unclosed", "{unclosed"));
    }

    #[test]
    fn each_default_rule_triggers_with_its_paths() {
        let cases = [
            ("migrations", "db/migrations/20240101_add_users.sql"),
            ("migrations", "alembic/versions/abc123_add.py"),
            ("migrations", "prisma/schema.prisma"),
            ("auth", "src/auth/login.rs"),
            ("auth", "services/api/jwt_verify.go"),
            ("ci-deploy", ".github/workflows/release.yml"),
            ("ci-deploy", "Dockerfile"),
            ("ci-deploy", "docker-compose.prod.yml"),
            ("infra", "infra/main.tf"),
            ("infra", "deploy/helm/values.yaml"),
            ("infra", "k8s/deployment.yaml"),
            ("dependencies", "Cargo.lock"),
            ("dependencies", "web/package-lock.json"),
            ("dependencies", "go.sum"),
            ("public-api", "proto/orders.proto"),
            ("public-api", "docs/openapi.yaml"),
            ("public-api", "src/api/handlers.rs"),
            ("config", "config/production.toml"),
            ("config", ".env.production"),
            ("config", "app/settings.py"),
        ];
        for (rule, path) in cases {
            let risk = assess(&facts(&[path]), &rules());
            let r = reason(&risk, rule).unwrap_or_else(|| panic!("{rule} for {path}: {risk:?}"));
            assert_eq!(r.paths, vec![path.to_string()], "{rule}");
            assert!(r.detail.contains(path), "{rule}: {}", r.detail);
            let weight = rules()
                .rules
                .iter()
                .find(|x| x.name == rule)
                .map(|x| x.weight);
            assert_eq!(Some(r.weight), weight);
        }
    }

    #[test]
    fn a_rule_counts_once_and_lists_every_path() {
        let paths = [
            "db/migrations/1.sql",
            "db/migrations/2.sql",
            "db/migrations/3.sql",
            "db/migrations/4.sql",
        ];
        let risk = assess(&facts(&paths), &rules());
        let r = reason(&risk, "migrations").expect("migrations");
        assert_eq!(r.weight, 25);
        assert_eq!(r.paths.len(), 4);
        assert!(r.detail.ends_with("and 1 more"), "{}", r.detail);
        assert_eq!(
            risk.reasons
                .iter()
                .filter(|r| r.rule == "migrations")
                .count(),
            1
        );
    }

    #[test]
    fn high_risk_pr_adds_up_and_is_high() {
        let risk = assess(
            &facts(&[
                "db/migrations/1.sql",
                "src/auth/session.rs",
                ".github/workflows/deploy.yml",
            ]),
            &rules(),
        );
        // 25 + 25 + 20 + 10 (code without tests)
        assert_eq!(risk.score, 80);
        assert_eq!(risk.tier, Tier::High);
        assert!(risk.code_without_tests);
        assert_eq!(risk.reasons[0].weight, 25);
        assert_eq!(risk.reasons[0].rule, "migrations");
        assert_eq!(risk.reasons[1].rule, "auth");
    }

    #[test]
    fn plain_code_with_tests_is_low() {
        let risk = assess(&facts(&["src/orders.rs", "tests/orders.rs"]), &rules());
        assert_eq!(risk.score, 0);
        assert_eq!(risk.tier, Tier::Low);
        assert!(risk.tests_changed);
        assert!(!risk.code_without_tests);
        assert!(risk.reasons.is_empty(), "{:?}", risk.reasons);
    }

    #[test]
    fn source_without_tests_adds_ten_and_names_the_files() {
        let risk = assess(&facts(&["pkg/orders/orders.go", "README.md"]), &rules());
        let r = reason(&risk, "no-tests").expect("no-tests");
        assert_eq!(r.weight, 10);
        assert_eq!(r.paths, vec!["pkg/orders/orders.go".to_string()]);
        assert!(risk.code_without_tests);
        assert_eq!(risk.score, 10);
        // Docs alone are not code.
        let docs = assess(&facts(&["README.md", "docs/guide.md"]), &rules());
        assert!(!docs.code_without_tests);
        assert_eq!(docs.score, 0);
    }

    #[test]
    fn tests_only_pr_is_capped_at_low() {
        let mut f = facts(&[
            "tests/migrations/001_test.sql",
            "src/auth/__tests__/login.test.ts",
            "pkg/auth/jwt_test.go",
        ]);
        f.additions = Some(900);
        f.deletions = Some(10);
        let risk = assess(&f, &rules());
        assert_eq!(risk.tier, Tier::Low);
        assert_eq!(risk.score, 24);
        assert!(risk.tests_changed);
        assert!(reason(&risk, "tests-only").is_some());
        // The rules that fired are still shown.
        assert!(reason(&risk, "auth").is_some());
    }

    #[test]
    fn test_files_by_convention() {
        let r = rules();
        for p in [
            "pkg/x_test.go",
            "tests/test_x.py",
            "app/x_test.py",
            "src/x.test.ts",
            "src/x.spec.tsx",
            "src/__tests__/x.js",
            "src/test/java/com/a/XTest.java",
            "spec/models/user_spec.rb",
            "tests/cli.rs",
            "src/test/java/com/a/OrderIT.java",
        ] {
            assert!(r.is_test(p), "{p}");
        }
        for p in [
            "src/x.ts",
            "pkg/x.go",
            "src/testing_utils.rs",
            "src/contest.py",
            "src/main/java/com/a/Audit.java",
            "src/main/java/com/a/Contest.java",
        ] {
            assert!(!r.is_test(p), "{p}");
        }
    }

    #[test]
    fn size_thresholds() {
        let sized = |lines: u64, files: u64| {
            let mut f = facts(&["README.md"]);
            f.additions = Some(lines);
            f.deletions = Some(0);
            f.changed_files = Some(files);
            assess(&f, &rules())
        };
        assert!(reason(&sized(200, 1), "size").is_none());
        assert_eq!(reason(&sized(201, 1), "size").map(|r| r.weight), Some(10));
        assert_eq!(reason(&sized(500, 1), "size").map(|r| r.weight), Some(10));
        let large = sized(501, 1);
        assert_eq!(reason(&large, "size").map(|r| r.weight), Some(20));
        assert_eq!(large.reasons.iter().filter(|r| r.rule == "size").count(), 1);
        assert!(reason(&sized(10, 20), "files").is_none());
        let many = sized(10, 21);
        assert_eq!(reason(&many, "files").map(|r| r.weight), Some(10));
        assert_eq!(sized(1_200, 30).score, 30);
        assert!(reason(&sized(1_200, 30), "size").is_some_and(|r| r.detail.contains("1,200")));
    }

    #[test]
    fn size_from_files_when_counts_are_unknown() {
        let mut f = facts(&[]);
        f.files = Some(vec![ChangedFile::new("a.md", 150, 60)]);
        let risk = assess(&f, &rules());
        assert_eq!(reason(&risk, "size").map(|r| r.weight), Some(10));
    }

    #[test]
    fn review_states() {
        let with_review =
            |decision: Option<ReviewDecision>, approved: &[&str], changes: &[&str]| {
                let mut f = facts(&["README.md"]);
                f.review = decision;
                f.approved_by = approved.iter().map(|s| s.to_string()).collect();
                f.changes_requested_by = changes.iter().map(|s| s.to_string()).collect();
                assess(&f, &rules())
            };
        let requested = with_review(Some(ReviewDecision::ChangesRequested), &[], &["carol"]);
        let r = reason(&requested, "changes-requested").expect("changes requested");
        assert_eq!(r.weight, 15);
        assert!(r.detail.contains("carol"));
        assert!(reason(&requested, "no-approval").is_some());
        assert_eq!(requested.score, 25);
        assert_eq!(requested.tier, Tier::Medium);

        let required = with_review(Some(ReviewDecision::ReviewRequired), &[], &[]);
        assert_eq!(reason(&required, "no-approval").map(|r| r.weight), Some(10));
        assert!(reason(&required, "changes-requested").is_none());

        let approved = with_review(Some(ReviewDecision::Approved), &["dave"], &[]);
        assert!(approved.reasons.is_empty());

        // Nothing read about reviews: unknown, not "no approval".
        let unknown = with_review(None, &[], &[]);
        assert!(unknown.reasons.is_empty());
    }

    #[test]
    fn reviews_count_each_reviewers_latest_deciding_state() {
        let at = |m: i64| Some(time::OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(m));
        let review = |who: &str, state: &str, m: i64| Review {
            reviewer: who.to_string(),
            state: state.to_string(),
            submitted_at: at(m),
        };
        let pr = PullRequest {
            repo: "acme/shop".to_string(),
            number: 7,
            title: "t".to_string(),
            author: "dev".to_string(),
            draft: true,
            labels: vec![],
            head_ref: "h".to_string(),
            base_ref: "main".to_string(),
            created_at: None,
            updated_at: None,
            url: String::new(),
            body: String::new(),
            head_sha: "abc".to_string(),
            checks: None,
            check_list: vec![],
            review: Some(ReviewDecision::ChangesRequested),
            reviews: vec![
                review("bob", "APPROVED", 3),
                review("alice", "CHANGES_REQUESTED", 1),
                review("alice", "COMMENTED", 2),
                review("bob", "CHANGES_REQUESTED", 0),
                review("erin", "APPROVED", 1),
                review("erin", "DISMISSED", 4),
            ],
            mergeable: None,
            additions: Some(3),
            deletions: Some(1),
            changed_files: Some(1),
        };
        let files = [PrFile {
            filename: "src/auth/token.rs".to_string(),
            status: "modified".to_string(),
            additions: 3,
            deletions: 1,
        }];
        let f = PrFacts::from_pull_request(&pr, Some(&files));
        assert_eq!(f.approved_by, vec!["bob".to_string()]);
        assert_eq!(f.changes_requested_by, vec!["alice".to_string()]);
        assert!(f.is_draft);
        let risk = assess(&f, &rules());
        assert!(reason(&risk, "draft").is_some_and(|r| r.weight == 0));
        assert!(reason(&risk, "changes-requested").is_some());
        assert!(reason(&risk, "no-approval").is_none());
        assert_eq!(
            PrFacts::from_pull_request(&pr, None).files,
            None,
            "files stay unknown"
        );
    }

    #[test]
    fn unknown_file_list_says_so_and_still_scores_size_and_reviews() {
        let f = PrFacts {
            files: None,
            additions: Some(700),
            deletions: Some(20),
            changed_files: Some(12),
            review: Some(ReviewDecision::ReviewRequired),
            ..PrFacts::default()
        };
        let risk = assess(&f, &rules());
        let r = reason(&risk, "files-unknown").expect("files-unknown");
        assert_eq!(r.weight, 0);
        assert!(r.detail.contains("12 files"), "{}", r.detail);
        assert!(!risk.files_known);
        assert!(!risk.tests_changed && !risk.code_without_tests);
        assert_eq!(risk.score, 30);
        assert_eq!(risk.tier, Tier::Medium);
    }

    #[test]
    fn partial_file_list_says_so() {
        let mut f = facts(&["src/a.rs", "tests/a.rs"]);
        f.changed_files = Some(3_500);
        let risk = assess(&f, &rules());
        let r = reason(&risk, "files-partial").expect("files-partial");
        assert_eq!(r.weight, 0);
        assert!(r.detail.contains("2 of 3500"), "{}", r.detail);
        assert!(risk.files_known);
    }

    #[test]
    fn ownership_first_time_and_churn() {
        let mut f = facts(&["src/orders/checkout.rs", "tests/checkout.rs"]);
        f.author_is_first_time = Some(true);
        f.codeowners_missing = Some(vec!["@acme/payments".to_string()]);
        f.incident_paths = vec!["src/orders/checkout.rs".to_string()];
        let risk = assess(&f, &rules());
        assert_eq!(
            reason(&risk, "first-time-author").map(|r| r.weight),
            Some(10)
        );
        let owners = reason(&risk, "codeowners").expect("codeowners");
        assert!(owners.detail.contains("@acme/payments"));
        let churn = reason(&risk, "churn").expect("churn");
        assert_eq!(churn.weight, 15);
        assert_eq!(churn.paths, vec!["src/orders/checkout.rs".to_string()]);
        assert_eq!(risk.score, 35);
        // Unknown ownership and authorship add nothing.
        f.author_is_first_time = None;
        f.codeowners_missing = None;
        f.incident_paths.clear();
        assert_eq!(assess(&f, &rules()).score, 0);
    }

    #[test]
    fn bands_and_cap() {
        let r = rules();
        assert_eq!(r.tier(0), Tier::Low);
        assert_eq!(r.tier(24), Tier::Low);
        assert_eq!(r.tier(25), Tier::Medium);
        assert_eq!(r.tier(55), Tier::Medium);
        assert_eq!(r.tier(56), Tier::High);
        let mut everything = facts(&[
            "db/migrations/1.sql",
            "src/auth/a.rs",
            "Dockerfile",
            "main.tf",
            "Cargo.lock",
            "proto/a.proto",
            "config/app.toml",
        ]);
        everything.additions = Some(5_000);
        everything.changed_files = Some(50);
        let risk = assess(&everything, &r);
        assert_eq!(risk.score, 100);
        assert_eq!(risk.tier, Tier::High);
    }

    #[test]
    fn deterministic() {
        let f = facts(&["src/auth/a.rs", "Cargo.lock", "db/migrations/1.sql"]);
        assert_eq!(assess(&f, &rules()), assess(&f, &rules()));
    }

    #[test]
    fn toml_overrides_and_extends_the_table() {
        let text = r#"
            bands = { medium_from = 30, high_above = 60 }
            weights = { no_tests = 0 }
            [[rules]]
            name = "dependencies"
            globs = ["Cargo.lock"]
            weight = 5
            [[rules]]
            name = "billing"
            globs = ["**/billing/**"]
            weight = 25
        "#;
        let r: RiskRules = toml::from_str(text).expect("parse");
        assert_eq!(r.bands.medium_from, 30);
        assert_eq!(r.weights.no_tests, 0);
        assert_eq!(r.weights.churn, 15, "unset keys keep their defaults");
        assert_eq!(r.rules.len(), RiskRules::default().rules.len() + 1);
        let deps = r
            .rules
            .iter()
            .find(|x| x.name == "dependencies")
            .expect("deps");
        assert_eq!(deps.weight, 5);
        let risk = assess(&facts(&["src/billing/invoice.rs", "Cargo.lock"]), &r);
        assert_eq!(reason(&risk, "billing").map(|x| x.weight), Some(25));
        assert_eq!(risk.score, 30);
        assert_eq!(risk.tier, Tier::Medium);

        let only: RiskRules = toml::from_str(
            "replace_defaults = true\n[[rules]]\nname = \"x\"\nglobs = [\"*.x\"]\nweight = 1\n",
        )
        .expect("parse");
        assert_eq!(only.rules.len(), 1);
        let empty: RiskRules = toml::from_str("").expect("parse");
        assert_eq!(empty, RiskRules::default());
        assert!(toml::from_str::<RiskRules>("nonsense = 1").is_err());
    }
}
