//! Job logs as GitHub Actions writes them: a UTF-8 BOM, then one line per output line, each
//! prefixed by a timestamp with 7 fractional digits (`2026-11-23T09:00:03.1234567Z `), with
//! `##[group]` / `##[endgroup]` markers, ANSI colours from the tools and `##[error]` lines.
//! A function of the job's plan only.

use super::github_data::sha;
use super::github_runs::{Job, JobKind, Plan, Step};
use super::util::{iso, pick};

const ESC: &str = "\u{1b}";

/// `2026-11-23T09:00:03.1234567Z` for scenario second `t`.
pub fn stamp(t: f64) -> String {
    let whole = iso(t);
    let ticks = (((t - t.floor()) * 1e7).floor() as u64).min(9_999_999);
    format!("{}.{ticks:07}Z", whole.trim_end_matches('Z'))
}

struct Ctx<'a> {
    plan: &'a Plan,
    job: &'a Job,
}

impl Ctx<'_> {
    fn repo(&self) -> &'static str {
        self.plan.spec.repo
    }

    fn name(&self) -> &'static str {
        self.plan.spec.repo.split('/').nth(1).unwrap_or("app")
    }

    fn sha(&self) -> String {
        sha(self.plan.spec.repo, self.plan.spec.branch)
    }

    /// A dispatch input of the run.
    fn input(&self, name: &str) -> &str {
        self.plan
            .inputs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn node(&self) -> &'static str {
        match self.job.tpl.kind {
            JobKind::Test(v) => v,
            _ => "20",
        }
    }
}

fn c(code: &str, text: &str) -> String {
    format!("{ESC}[{code}m{text}{ESC}[0m")
}

fn setup_job(x: &Ctx) -> Vec<String> {
    let mut v: Vec<String> = [
        "Current runner version: '2.321.0'",
        "##[group]Runner Image Provisioner",
        "Hosted Compute Agent",
        "Version: 20241210.13",
        "Commit: 4a1dc2f0b9dd0e0aa6a5f9eb8b2cb6cd1b1c0c2f",
        "Build Date: 2024-12-10T17:03:06Z",
        "##[endgroup]",
        "##[group]Operating System",
        "Ubuntu",
        "24.04.1",
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: ubuntu-24.04",
        "Version: 20241215.1.0",
        "Included Software: https://github.com/actions/runner-images/blob/ubuntu24/20241215.1/images/ubuntu/Ubuntu2404-Readme.md",
        "Image Release: https://github.com/actions/runner-images/releases/tag/ubuntu24%2F20241215.1",
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "PullRequests: read",
        "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
        "Download action repository 'actions/checkout@v4' (SHA:11bd71901bbe5b1630ceea73d27597364c9af683)",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    if matches!(x.job.tpl.kind, JobKind::Deploy | JobKind::Rollback) {
        v.push("Download action repository 'azure/setup-kubectl@v4' (SHA:3e0aec4d80787158d308d7b364cb1b702e7feb7f)".into());
    } else {
        v.push("Download action repository 'actions/setup-node@v4' (SHA:39370e3970a6d050c480ffad4ff0ed4d3fdee5af)".into());
    }
    if x.job.attempt > 1 {
        v.push(format!(
            "This job is a re-run (attempt {}) of a previously failed job.",
            x.job.attempt
        ));
    }
    v.push(format!("Complete job name: {}", x.job.tpl.name));
    v
}

fn checkout(x: &Ctx) -> Vec<String> {
    let repo = x.repo();
    let name = x.name();
    let sha = x.sha();
    let short = &sha[..7];
    let dir = format!("/home/runner/work/{name}/{name}");
    let (remote_ref, local) = match x.plan.spec.pr {
        Some(n) => (
            format!("+{sha}:refs/remotes/pull/{n}/merge"),
            format!("refs/remotes/pull/{n}/merge"),
        ),
        None => (
            format!("+{sha}:refs/remotes/origin/main"),
            "refs/remotes/origin/main".to_string(),
        ),
    };
    vec![
        "##[group]Run actions/checkout@v4".into(),
        "with:".into(),
        format!("  repository: {repo}"),
        "  token: ***".into(),
        "  ssh-strict: true".into(),
        "  persist-credentials: true".into(),
        "  clean: true".into(),
        "  fetch-depth: 1".into(),
        "##[endgroup]".into(),
        format!("Syncing repository: {repo}"),
        "##[group]Getting Git version info".into(),
        format!("Working directory is '{dir}'"),
        "[command]/usr/bin/git version".into(),
        "git version 2.47.1".into(),
        "##[endgroup]".into(),
        "Temporarily overriding HOME='/home/runner/work/_temp/5d1f6a52-3c8e-4d0e-9a51-0c6f2b1e9a4d' before making global git config changes".into(),
        "Adding repository directory to the temporary git global config as a safe directory".into(),
        format!("[command]/usr/bin/git config --global --add safe.directory {dir}"),
        format!("Deleting the contents of '{dir}'"),
        "##[group]Initializing the repository".into(),
        format!("[command]/usr/bin/git init {dir}"),
        "hint: Using 'master' as the name for the initial branch. This default branch name".into(),
        "hint: is subject to change. To configure the initial branch name to use in all".into(),
        format!("Initialized empty Git repository in {dir}/.git/"),
        format!("[command]/usr/bin/git remote add origin https://github.com/{repo}"),
        "##[endgroup]".into(),
        "##[group]Fetching the repository".into(),
        format!(
            "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin {remote_ref}"
        ),
        format!("From https://github.com/{repo}"),
        format!(" * [new ref]         {sha} -> {}", local.trim_start_matches("refs/remotes/")),
        "##[endgroup]".into(),
        "##[group]Checking out the ref".into(),
        format!("[command]/usr/bin/git checkout --progress --force {local}"),
        format!("HEAD is now at {short} {}", x.plan.spec.title),
        "##[endgroup]".into(),
        "[command]/usr/bin/git log -1 --format=%H".into(),
        sha,
    ]
}

fn setup_node(x: &Ctx) -> Vec<String> {
    let v = x.node();
    let full = if v == "18" { "18.20.5" } else { "20.18.1" };
    vec![
        "##[group]Run actions/setup-node@v4".into(),
        "with:".into(),
        format!("  node-version: {v}"),
        "  cache: npm".into(),
        "  always-auth: false".into(),
        "  check-latest: false".into(),
        "  token: ***".into(),
        "##[endgroup]".into(),
        format!("Found in cache @ /opt/hostedtoolcache/node/{full}/x64"),
        "##[group]Environment details".into(),
        format!("node: v{full}"),
        "npm: 10.8.2".into(),
        "yarn: 1.22.22".into(),
        "##[endgroup]".into(),
        format!("[command]/opt/hostedtoolcache/node/{full}/x64/bin/npm config get cache"),
        "/home/runner/.npm".into(),
        "Cache hit for: node-cache-Linux-x64-npm-7f3c2a9e1b4d".into(),
        "Received 41943040 of 58211942 (72.1%), 40.0 MBs/sec".into(),
        "Received 58211942 of 58211942 (100.0%), 38.9 MBs/sec".into(),
        "Cache Size: ~56 MB (58211942 B)".into(),
        "Cache restored successfully".into(),
        "Cache restored from key: node-cache-Linux-x64-npm-7f3c2a9e1b4d".into(),
    ]
}

fn npm_ci() -> Vec<String> {
    [
        "##[group]Run npm ci",
        "npm ci",
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        "npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory. Do not use it. Check out lru-cache if you want a good and tested way to coalesce async requests by a key value, which is much more comprehensive and powerful.",
        "npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
        "npm warn deprecated rimraf@3.0.2: Rimraf versions prior to v4 are no longer supported",
        "npm warn deprecated abab@2.0.6: Use your platform's native atob() and btoa() methods instead",
        "npm warn deprecated domexception@4.0.0: Use your platform's native DOMException instead",
        "npm warn deprecated @humanwhocodes/config-array@0.13.0: Use @eslint/config-array instead",
        "",
        "added 612 packages, and audited 613 packages in 14s",
        "",
        "87 packages are looking for funding",
        "  run `npm fund` for details",
        "",
        "2 moderate severity vulnerabilities",
        "",
        "To address all issues, run:",
        "  npm audit fix",
        "",
        "Run `npm audit` for details.",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

/// (suite, tests) of the checkout test run: 12 suites, 42 tests.
const SUITES: [(&str, u32); 12] = [
    ("src/cart.test.js", 6),
    ("src/money.test.js", 5),
    ("src/tax.test.js", 4),
    ("src/shipping.test.js", 3),
    ("src/discounts.test.js", 4),
    ("src/payment.test.js", 5),
    ("src/refund.test.js", 3),
    ("src/receipt.test.js", 3),
    ("src/api/cart.test.js", 3),
    ("src/api/orders.test.js", 2),
    ("src/email/receipt.test.js", 2),
    ("src/config.test.js", 2),
];

fn suite_line(ok: bool, path: &str, secs: f64) -> String {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let badge = if ok {
        format!("{ESC}[0m{ESC}[7m{ESC}[1m{ESC}[32m PASS {ESC}[39m{ESC}[22m{ESC}[27m{ESC}[0m")
    } else {
        format!("{ESC}[0m{ESC}[7m{ESC}[1m{ESC}[31m FAIL {ESC}[39m{ESC}[22m{ESC}[27m{ESC}[0m")
    };
    format!("{badge} {ESC}[2m{dir}/{ESC}[22m{ESC}[1m{file}{ESC}[22m ({secs:.3} s)")
}

/// The failing test: a code frame and stack, as Jest prints it.
fn failure_block(coloured: bool) -> Vec<String> {
    let dim = |s: &str| if coloured { c("2", s) } else { s.to_string() };
    let gray = |s: &str| if coloured { c("90", s) } else { s.to_string() };
    let red = |s: &str| if coloured { c("31", s) } else { s.to_string() };
    let title = if coloured {
        format!(
            "{ESC}[1m{ESC}[31m  {ESC}[1m\u{25cf} {ESC}[22m{ESC}[1mcharge \u{203a} rejects a card without amount{ESC}[39m{ESC}[22m"
        )
    } else {
        "  \u{25cf} charge \u{203a} rejects a card without amount".to_string()
    };
    vec![
        title,
        String::new(),
        "    TypeError: Cannot read properties of undefined (reading 'amount')".into(),
        String::new(),
        format!(
            "      {}   const provider = providers[order.provider];",
            gray("116 |")
        ),
        format!(
            "      {}   if (!provider) throw new UnknownProvider(order.provider);",
            gray("117 |")
        ),
        format!(
            "    {} {}   const cents = order.payment.amount * 100;",
            red(">"),
            gray("118 |")
        ),
        format!(
            "      {}                         {}",
            gray("    |"),
            red("^")
        ),
        format!(
            "      {}   return provider.charge(cents, order.card);",
            gray("119 |")
        ),
        format!("      {} }}", gray("120 |")),
        String::new(),
        format!("      {}", dim("at chargeCard (src/payment.js:118:23)")),
        format!(
            "      {}",
            dim("at Object.<anonymous> (src/payment.test.js:42:11)")
        ),
        String::new(),
    ]
}

fn npm_test(x: &Ctx, fail: bool) -> Vec<String> {
    let name = x.name();
    let mut v: Vec<String> = vec![
        "##[group]Run npm test".into(),
        "npm test".into(),
        "shell: /usr/bin/bash -e {0}".into(),
        "##[endgroup]".into(),
        String::new(),
        format!("> {name}@2.14.0 test"),
        "> jest --ci --coverage".into(),
        String::new(),
        "(node:2304) [DEP0040] DeprecationWarning: The `punycode` module is deprecated. Please use a userland alternative instead.".into(),
        "(Use `node --trace-deprecation ...` to show where the warning was created)".into(),
    ];
    let mut passed = 0;
    for (i, (suite, tests)) in SUITES.iter().enumerate() {
        let secs = 0.4 + pick(suite, i as i64, 2_600) as f64 / 1000.0;
        let failing = fail && *suite == "src/payment.test.js";
        v.push(suite_line(!failing, suite, secs));
        if *suite == "src/money.test.js" {
            v.extend([
                format!("  {}", c("33", "console.warn")),
                "    [deprecation] Money.fromFloat() is deprecated; use Money.fromCents().".into(),
                String::new(),
                format!("      {}", c("2", "at warn (src/money.js:12:11)")),
                format!(
                    "      {}",
                    c("2", "at Object.fromFloat (src/money.js:31:3)")
                ),
                String::new(),
            ]);
        }
        if failing {
            v.extend([
                "  charge".into(),
                format!(
                    "    {} {}",
                    c("32", "\u{2713}"),
                    c("2", "charges a saved card (12 ms)")
                ),
                format!(
                    "    {} {}",
                    c("31", "\u{2715}"),
                    c("2", "rejects a card without amount (4 ms)")
                ),
                format!(
                    "    {} {}",
                    c("32", "\u{2713}"),
                    c("2", "refunds a captured charge (3 ms)")
                ),
                format!(
                    "    {} {}",
                    c("32", "\u{2713}"),
                    c("2", "retries a gateway timeout (31 ms)")
                ),
                format!(
                    "    {} {}",
                    c("32", "\u{2713}"),
                    c("2", "rejects an unknown provider (2 ms)")
                ),
                String::new(),
            ]);
            v.extend(failure_block(true));
            passed += tests - 1;
        } else {
            passed += tests;
        }
    }
    if fail {
        v.extend([
            String::new(),
            format!("{ESC}[1mSummary of all failing tests{ESC}[22m"),
            " FAIL src/payment.test.js".into(),
        ]);
        v.extend(failure_block(false));
        v.extend([
            String::new(),
            format!(
                "{ESC}[1mTest Suites: {ESC}[22m{ESC}[1m{ESC}[31m1 failed{ESC}[39m{ESC}[22m, {ESC}[1m{ESC}[32m11 passed{ESC}[39m{ESC}[22m, 12 total"
            ),
            format!(
                "{ESC}[1mTests:       {ESC}[22m{ESC}[1m{ESC}[31m1 failed{ESC}[39m{ESC}[22m, {ESC}[1m{ESC}[32m{passed} passed{ESC}[39m{ESC}[22m, 42 total"
            ),
            format!("{ESC}[1mSnapshots:   {ESC}[22m0 total"),
            format!("{ESC}[1mTime:        {ESC}[22m14.382 s"),
            c("2", "Ran all test suites."),
            "##[error]Process completed with exit code 1.".into(),
        ]);
    } else {
        v.extend([
            String::new(),
            "----------------|---------|----------|---------|---------|-------------------".into(),
            "File            | % Stmts | % Branch | % Funcs | % Lines | Uncovered Line #s ".into(),
            "----------------|---------|----------|---------|---------|-------------------".into(),
            "All files       |   87.12 |    79.40 |   90.03 |   87.55 |                   ".into(),
            "----------------|---------|----------|---------|---------|-------------------".into(),
            format!(
                "{ESC}[1mTest Suites: {ESC}[22m{ESC}[1m{ESC}[32m12 passed{ESC}[39m{ESC}[22m, 12 total"
            ),
            format!(
                "{ESC}[1mTests:       {ESC}[22m{ESC}[1m{ESC}[32m{passed} passed{ESC}[39m{ESC}[22m, 42 total"
            ),
            format!("{ESC}[1mSnapshots:   {ESC}[22m0 total"),
            format!("{ESC}[1mTime:        {ESC}[22m13.907 s"),
            c("2", "Ran all test suites."),
        ]);
    }
    v
}

fn run_block(cmd: &str, output: &[&str]) -> Vec<String> {
    let mut v = vec![
        format!("##[group]Run {cmd}"),
        cmd.to_string(),
        "shell: /usr/bin/bash -e {0}".into(),
        "##[endgroup]".into(),
    ];
    v.extend(output.iter().map(|s| (*s).to_string()));
    v
}

fn step_lines(x: &Ctx, step: &Step) -> Vec<String> {
    let fail = step.conclusion == "failure";
    let name = step.name.as_str();
    let app = x.name();
    let image = format!("ghcr.io/{}:{}", x.repo(), &x.sha()[..12]);
    match name {
        "Set up job" => setup_job(x),
        "Run actions/checkout@v4" => checkout(x),
        "Run npm ci" => npm_ci(),
        "Run npm test" => npm_test(x, fail),
        "Complete job" => vec!["Cleaning up orphan processes".into()],
        _ if name.starts_with("Set up Node.js") => setup_node(x),
        _ if name.starts_with("Post ") => {
            let mut v = vec!["Post job cleanup.".to_string()];
            if name.contains("checkout") {
                v.extend([
                    "[command]/usr/bin/git version".into(),
                    "git version 2.47.1".into(),
                    "[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand"
                        .into(),
                    "[command]/usr/bin/git config --local --name-only --get-regexp http\\.https\\:\\/\\/github\\.com\\/\\.extraheader".into(),
                    "http.https://github.com/.extraheader".into(),
                    "[command]/usr/bin/git config --local --unset-all http.https://github.com/.extraheader".into(),
                ]);
            }
            v
        }
        "Upload coverage" => vec![
            "##[group]Run codecov/codecov-action@v4".into(),
            "with:".into(),
            "  fail_ci_if_error: false".into(),
            "##[endgroup]".into(),
            "==> linux OS detected".into(),
            "info - 2026-11-23 09:00:00,000 -- Found 1 coverage files to report".into(),
            "info - 2026-11-23 09:00:01,000 -- Process Upload complete".into(),
        ],
        "Run npm run lint" => run_block(
            "npm run lint",
            &[
                "",
                &format!("> {app}@2.14.0 lint"),
                "> eslint . --max-warnings=0",
                "",
            ],
        ),
        "Run npm run build" => run_block(
            "npm run build",
            &[
                "",
                &format!("> {app}@2.14.0 build"),
                "> esbuild src/index.js --bundle --platform=node --outfile=dist/server.js",
                "",
                "  dist/server.js  1.2mb",
                "",
                "\u{26a1} Done in 412ms",
            ],
        ),
        "Upload build artifact" => vec![
            "##[group]Run actions/upload-artifact@v4".into(),
            "##[endgroup]".into(),
            "With the provided path, there will be 1 file uploaded".into(),
            "Artifact dist has been successfully uploaded! Final size is 318412 bytes.".into(),
        ],
        "Run npm run test:unit" => run_block(
            "npm run test:unit",
            &[
                "",
                "> web@2026.11.23 test:unit",
                "> vitest run",
                "",
                &format!(
                    " {} src/lib/images.test.ts (9 tests) 41ms",
                    c("32", "\u{2713}")
                ),
                &format!(
                    " {} src/components/Header/Header.test.tsx (6 tests) 120ms",
                    c("32", "\u{2713}")
                ),
                &format!(
                    " {} src/components/CheckoutButton.test.tsx (4 tests) 88ms",
                    c("32", "\u{2713}")
                ),
                "",
                &format!(" Test Files  {} (3)", c("32", "3 passed")),
                &format!("      Tests  {} (19)", c("32", "19 passed")),
            ],
        ),
        "Install Playwright browsers" => run_block(
            "npx playwright install --with-deps chromium",
            &[
                "Downloading Chromium 131.0.6778.33 (playwright build v1148) from https://playwright.azureedge.net/builds/chromium/1148/chromium-linux.zip",
                "|\u{25a0}\u{25a0}\u{25a0}\u{25a0}\u{25a0}\u{25a0}\u{25a0}\u{25a0}| 100% of 164.5 MiB",
                "Chromium 131.0.6778.33 (playwright build v1148) downloaded to /home/runner/.cache/ms-playwright/chromium-1148",
            ],
        ),
        "Run npx playwright test --project=chromium" => run_block(
            "npx playwright test --project=chromium",
            &[
                "",
                "Running 14 tests using 2 workers",
                "",
                "  14 passed (38.2s)",
            ],
        ),
        "Upload Playwright report" => vec![
            "##[group]Run actions/upload-artifact@v4".into(),
            "##[endgroup]".into(),
            "Artifact playwright-report has been successfully uploaded! Final size is 912004 bytes."
                .into(),
        ],
        "Initialize CodeQL" => vec![
            "##[group]Run github/codeql-action/init@v3".into(),
            "with:".into(),
            "  languages: javascript-typescript".into(),
            "##[endgroup]".into(),
            "Using CodeQL CLI version 2.19.4 sourced from the toolcache.".into(),
        ],
        "Autobuild" => vec![
            "##[group]Run github/codeql-action/autobuild@v3".into(),
            "##[endgroup]".into(),
            "No build steps are needed for javascript-typescript.".into(),
        ],
        "Perform CodeQL Analysis" => vec![
            "##[group]Run github/codeql-action/analyze@v3".into(),
            "##[endgroup]".into(),
            "Finalizing javascript-typescript database.".into(),
            "Running queries for javascript-typescript".into(),
            "Interpreting results.".into(),
            "Uploading results".into(),
            "Analysis upload status is complete.".into(),
        ],
        "Log in to ghcr.io" => vec![
            "##[group]Run docker/login-action@v3".into(),
            "##[endgroup]".into(),
            "Logging into ghcr.io...".into(),
            "Login Succeeded!".into(),
        ],
        "Build and push image" => vec![
            "##[group]Run docker/build-push-action@v6".into(),
            "##[endgroup]".into(),
            "#1 [internal] load build definition from Dockerfile".into(),
            "#1 DONE 0.0s".into(),
            "#7 [3/5] RUN npm ci --omit=dev".into(),
            "#7 DONE 18.4s".into(),
            "#9 exporting to image".into(),
            format!("#9 pushing layers {image}"),
            "#9 DONE 6.2s".into(),
        ],
        "Set up kubectl" => vec![
            "##[group]Run azure/setup-kubectl@v4".into(),
            "##[endgroup]".into(),
            "Downloading kubectl v1.31.3".into(),
            "kubectl installed at /opt/hostedtoolcache/kubectl/1.31.3/x64/kubectl".into(),
        ],
        "Roll out the image" => run_block(
            &format!("kubectl set image deployment/{app} {app}={image}"),
            &[
                &format!("deployment.apps/{app} image updated"),
                &format!("canary.flagger.app/{app} promotion started"),
            ],
        ),
        "Wait for the canary" => run_block(
            &format!("./scripts/wait-for-canary.sh {app}"),
            &[
                &format!("canary {app}: weight 10"),
                &format!("canary {app}: progressing"),
                &format!("canary {app}: handed over to Flagger"),
            ],
        ),
        "Open the rollback gate" => {
            let env = match x.input("environment") {
                "" => "production",
                e => e,
            };
            run_block(
                &format!(
                    "curl -sf -d '{{\"name\": \"{app}\", \"namespace\": \"acme\"}}' http://flagger-loadtester.flagger-system/rollback/open"
                ),
                &[
                    &format!("Rolling back {app} in {env}"),
                    &format!("canary {app}: rollback gate opened"),
                    &format!("canary {app}: weight 0, all traffic routed to {app}-primary"),
                    &format!("canary {app}: scaling {app} to zero"),
                ],
            )
        }
        "Verify the primary" => {
            let to = x.input("to");
            let tag = to.get(..12).unwrap_or(to);
            let image = format!("ghcr.io/{}:{tag}", x.repo());
            run_block(
                &format!("./scripts/verify-primary.sh {app} {to}"),
                &[
                    &format!("{app}-primary: {image} (3/3 ready)"),
                    &format!("canary {app}: status Failed, weight 0"),
                    &format!("{app} runs {to}"),
                ],
            )
        }
        other => run_block(other.trim_start_matches("Run "), &[]),
    }
}

/// The log of a finished job, or `None` when it never ran (or has not finished).
pub fn job_log(plan: &Plan, job: &Job, t: f64) -> Option<String> {
    if !job.has_log(t) {
        return None;
    }
    let x = Ctx { plan, job };
    let mut out = String::from("\u{feff}");
    for step in &job.steps {
        if step.conclusion == "skipped" {
            continue;
        }
        let mut lines = step_lines(&x, step);
        if step.conclusion == "cancelled" {
            lines.truncate(lines.len().div_ceil(2));
            lines.push("##[error]The operation was canceled.".into());
        }
        let n = lines.len().max(1) as f64;
        let span = (step.end - step.start).max(0.0);
        for (i, line) in lines.iter().enumerate() {
            let base = step.start + span * i as f64 / n;
            let jitter = pick(&step.name, i as i64, 1_000) as f64 / 1_000.0 * 0.5 * span / n;
            out.push_str(&stamp(base + jitter));
            out.push(' ');
            out.push_str(line);
            out.push('\n');
        }
    }
    Some(out)
}
