//! The command line: the cockpit (default), `demo`, `doctor`, `config`, and the headless commands
//! (`status`, `judge`, `approve`, `draft-test`, `triage`, `explain`, `dora`, `audit`).

use crate::app::keymap::Keymap;
use crate::config::{Config, ConfigError, Paths, TEMPLATE};
use crate::runtime::{self, Options};
use crate::ui::theme::{ThemeError, load_themes};
use clap::{Parser, Subcommand};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Exit code for configuration errors.
pub const EXIT_CONFIG: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "flightdeck",
    version,
    about = "A terminal release cockpit: PRs, pipeline runs, canary rollouts, incidents and AI summaries",
    after_help = "Examples:\n  flightdeck                      open the cockpit with your config\n  flightdeck demo                 try it against a simulated release\n  flightdeck --readonly           look, but refuse every remote change\n  flightdeck config init          write a commented config template\n  flightdeck doctor               check every configured source\n  flightdeck approve acme/checkout 9200000103   approve a held deployment, behind the judge"
)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/flightdeck/config.toml; also FLIGHTDECK_CONFIG)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Refuse every action that changes something remote
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Log level for the log file: error, warn, info, debug, trace (RUST_LOG wins when set)
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Colour theme: default, light, high-contrast, mono, a file in the themes dir, or a path
    #[arg(long, global = true, value_name = "THEME")]
    pub theme: Option<String>,
    /// Enable mouse support (click tabs and rows, scroll lists)
    #[arg(long, global = true)]
    pub mouse: bool,
    /// Let the judge act: approve the next slice on PROCEED (promote band), roll back on ROLLBACK;
    /// every decision is audited. Ignored with --readonly
    #[arg(long, global = true)]
    pub autopilot: bool,
    /// Neither read nor write the cache of each source's last data and ETags ($XDG_CACHE_HOME/flightdeck)
    #[arg(long, global = true)]
    pub no_cache: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `demo --scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoScale {
    /// The demo's two repositories and their handful of PRs and runs
    Demo,
    /// 5 repositories x 2,000 open PRs and 2,000 workflow runs (to measure request counts)
    Big,
}

impl From<DemoScale> for crate::sim::Scale {
    fn from(s: DemoScale) -> Self {
        match s {
            DemoScale::Demo => crate::sim::Scale::Demo,
            DemoScale::Big => crate::sim::Scale::Big,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cockpit against an embedded simulated release (GitHub, Prometheus, Sentry, LLM on 127.0.0.1)
    #[command(
        after_help = "Examples:\n  flightdeck demo\n  flightdeck demo --speed 4          tell the three-minute story in 45 s\n  flightdeck demo --serve            only serve the APIs and print a matching config\n  flightdeck demo --scale big        GitHub at scale: 5 repos x 2,000 open PRs and runs\n  flightdeck demo --chaos            every service cycles through 500s, 502s, cut bodies, 401s, rate limits\n  flightdeck demo --chaos --chaos-phase-secs 5   the same, faster"
    )]
    Demo {
        /// How fast the scenario clock runs (1.0 = the story takes about three minutes; 0 pauses it)
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Start the story this many scenario seconds in
        #[arg(long, default_value_t = 0.0, value_name = "SECS")]
        start_at: f64,
        /// Serve the simulated APIs and print their URLs and a config, without the cockpit
        #[arg(long)]
        serve: bool,
        /// How big the simulated GitHub is: the demo's two repositories, or five with 2,000 open PRs and 2,000 workflow runs each
        #[arg(long, value_enum, default_value_t = DemoScale::Demo)]
        scale: DemoScale,
        /// Faults on a schedule: each service is healthy for a while, then answers 500, an HTML 502, slowly, a cut body, malformed JSON, 401, a spent rate limit, a secondary limit and 429 Retry-After, one phase each, then recovers (services take turns)
        #[arg(long)]
        chaos: bool,
        /// Seconds each chaos phase lasts
        #[arg(long, default_value_t = 20.0, value_name = "SECS", requires = "chaos")]
        chaos_phase_secs: f64,
    },
    /// Check each configured source (reachable, token accepted) and print flightdeck's paths
    #[command(
        after_help = "Examples:\n  flightdeck doctor\n  flightdeck --config ./staging.toml doctor"
    )]
    Doctor,
    /// Poll every configured source once and print the result (exit 3 when a source failed)
    #[command(
        after_help = "Examples:\n  flightdeck status --json | jq '.pending_deployments'\n  flightdeck status          a short summary for humans"
    )]
    Status {
        /// Print JSON (PRs, runs, pending deployments, rollouts, incidents, per-source errors)
        #[arg(long)]
        json: bool,
    },
    /// Judge a service's canary once: exit 0 proceed, 1 hold, 2 rollback, 3 could not judge (a CI gate)
    #[command(
        after_help = "Examples:\n  flightdeck judge --service checkout\n  flightdeck judge --service checkout --json || echo \"do not promote\"\n  flightdeck judge --service checkout --at 14:05           what it said at 14:05 UTC today\n  flightdeck judge --service checkout --at 2026-11-23T14:05:00Z\n  flightdeck judge --service checkout --every 60s --from 13:30 --to 14:30\n\nTimes: RFC 3339, unix seconds, HH:MM[:SS] (UTC, the last such moment), or -15m / -2h (ago)."
    )]
    Judge {
        /// The `[[service]]` to judge
        #[arg(long)]
        service: String,
        /// Print the verdict with every number it used as JSON
        #[arg(long)]
        json: bool,
        /// Judge as of a past moment, from Prometheus's history
        #[arg(long, conflicts_with_all = ["every", "from", "to"])]
        at: Option<String>,
        /// Print the verdict timeline: one judgement every DURATION (60s, 5m) from --from to --to
        #[arg(long, requires = "from")]
        every: Option<String>,
        /// The timeline's start
        #[arg(long, requires = "every")]
        from: Option<String>,
        /// The timeline's end (default: now)
        #[arg(long, requires = "every")]
        to: Option<String>,
    },
    /// Draft a regression test for a Sentry incident: exit 0 drafted, 2 could not map or draft, 3 a source failed
    #[command(
        name = "draft-test",
        after_help = "Examples:\n  flightdeck draft-test CHECKOUT-4C                 print the path and the test\n  flightdeck draft-test CHECKOUT-4C --write ~/src/checkout\n  flightdeck draft-test CHECKOUT-4C --json | jq .path\n  flightdeck draft-test CHECKOUT-4C --pr            open the draft PR (asks first)"
    )]
    DraftTest {
        /// The incident's short id (CHECKOUT-4C) or issue id
        short_id: String,
        /// Write the test into the local checkout at DIR (the crashing file is read from DIR when present)
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
        /// Print the draft, its suspected change and the PR text as JSON
        #[arg(long)]
        json: bool,
        /// Open (or update) the draft PR like `T` in the cockpit: branch, file, draft PR, label; audited
        #[arg(long)]
        pr: bool,
        /// With --pr: do not ask for confirmation
        #[arg(long, requires = "pr")]
        yes: bool,
    },
    /// Explain one subject as the AI tab does: what it is, the evidence, what to do (exit 0; 2 unknown subject; 3 a source failed)
    #[command(
        after_help = "Examples:\n  flightdeck explain pr:acme/checkout#412     risk, its reasons and the tests to run\n  flightdeck explain run:9200000104           why it failed, against the job's last green log\n  flightdeck explain incident:CHECKOUT-4C\n  flightdeck explain rollout:checkout --json\n  flightdeck explain incident:CHECKOUT-4C --llm   and what the configured LLM makes of it\n\nThe builtin analyzer reads only the configured sources; nothing leaves the machine otherwise."
    )]
    Explain {
        /// pr:owner/name#N, run:ID, incident:SHORT-ID or rollout:SERVICE
        subject: String,
        /// Ask the configured OpenAI-compatible LLM too ([ai] provider = "openai"); its answer follows the builtin's
        #[arg(long)]
        llm: bool,
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
    },
    /// Find why a CI job failed from its log: category, root-cause lines, failing tests (exit 0 when analysed)
    #[command(
        after_help = "Examples:\n  flightdeck triage job.log\n  gh run view 123 --log-failed | flightdeck triage\n  flightdeck triage failed.log --against green.log   and what is new since the last green run\n  flightdeck triage job.log --json | jq -r .category.kind\n\nExit codes: 0 the log was analysed, also when no cause was found (category \"unknown\"); 1 a log\ncould not be read. Reads GitHub Actions, GitLab and Jenkins logs; timestamps and escapes are\nstripped and secrets masked before anything is printed."
    )]
    Triage {
        /// The failed job's log; `-` or nothing reads standard input
        #[arg(value_name = "FAILED.log")]
        log: Option<PathBuf>,
        /// The last green log of the same job: also report the lines that are new in the failed one
        #[arg(long, value_name = "GREEN.log")]
        against: Option<PathBuf>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// DORA metrics of an environment: deployment frequency, lead time, change failure rate, time to restore (exit 3 when a source failed)
    #[command(
        after_help = "Examples:\n  flightdeck dora                          the last 30 days of the production service's environment\n  flightdeck dora --window 7d --env staging\n  flightdeck dora --json | jq '.lead_time.value'\n\nReads each configured repository's deployments to the environment and their statuses, the PRs\nmerged in the window (GitHub), and the issues first seen in the window (Sentry). A deployment is\na rollback when its task, description or payload says so, or when it ships a release that ran\nbefore the one running then. Bands follow DORA's State of DevOps report; each metric says how it\nwas computed and what it left out."
    )]
    Dora {
        /// How far back, up to now: 30d (the default), 7d, 12h; at most 365d
        #[arg(long, default_value = "30d", value_name = "DURATION")]
        window: String,
        /// The environment (default: the first production [[service]]'s, else \"production\")
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Print the metrics, what they counted and the requests made as JSON
        #[arg(long)]
        json: bool,
    },
    /// Approve (or reject) the deployments a run waits for, behind the judge: exit 0 sent, 1 refused or not confirmed, 3 a source failed
    #[command(
        after_help = "Examples:\n  flightdeck approve acme/checkout 9200000103            asks first; refused if the judge does not say PROCEED\n  flightdeck approve acme/checkout 9200000103 --override --yes --comment \"hotfix, judge overruled\"\n  flightdeck approve acme/checkout 9200000103 --reject --yes\n  flightdeck approve acme/checkout 9200000103 --json | jq .verdicts\n\nEvery configured [[service]] whose environment the run waits for (and whose repo is unset or the\nrun's) is judged once through Prometheus, as the cockpit's `a` does. Approving when any of them\nis not PROCEED, or has no verdict, takes --override, which the audit log records."
    )]
    Approve {
        /// The repository, owner/name
        repo: String,
        /// The workflow run's id (as in its URL, or `status --json`'s pending_deployments)
        run_id: u64,
        /// Reject instead of approve (never needs --override)
        #[arg(long)]
        reject: bool,
        /// The review's comment (default: names the judge's verdicts)
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
        /// Approve even though the judge does not say PROCEED for every service (audited)
        #[arg(long = "override")]
        force: bool,
        /// Do not ask for confirmation (needed when standard input is not a terminal)
        #[arg(long)]
        yes: bool,
        /// Print the verdicts and the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Print the audit log: remote changes (approve, reject, re-run, cancel, rollback, test PR,
    /// resolve/ignore) and the judge's verdict changes
    #[command(
        after_help = "Examples:\n  flightdeck audit\n  flightdeck audit --json | jq 'select(.phase == \"outcome\")'\n  flightdeck audit --demo            what `flightdeck demo` approved, rolled back and judged"
    )]
    Audit {
        /// Print the raw JSON lines
        #[arg(long)]
        json: bool,
        /// The demo's audit log (`flightdeck demo` keeps its own, apart from the real one)
        #[arg(long)]
        demo: bool,
    },
    /// Write, locate or check the config file
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented config template (refuses to overwrite without --force)
    #[command(
        after_help = "Examples:\n  flightdeck config init\n  flightdeck config init --stdout > my.toml\n  flightdeck --config ./fd.toml config init"
    )]
    Init {
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
        /// Print the template instead of writing it
        #[arg(long)]
        stdout: bool,
    },
    /// Print the path of the config file in use
    #[command(after_help = "Example:\n  flightdeck config path")]
    Path,
    /// Parse and validate the config file (exit 2 on errors)
    #[command(after_help = "Example:\n  flightdeck --config ./fd.toml config check")]
    Check,
}

/// Standard output for every command. `write!`/`writeln!` on it never panic: when the reader has gone
/// (`flightdeck status --json | head -c1`, EPIPE) the rest of the output is dropped quietly, like git
/// and ripgrep do, and the command keeps its own exit code. Any other write error is reported once on
/// stderr and turns a success into exit 1.
pub struct Out<W: Write = io::Stdout> {
    w: W,
    state: OutState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    Open,
    /// The reader closed the pipe.
    Closed,
    /// Another error (disk full, bad descriptor), already reported.
    Failed,
}

impl Out<io::Stdout> {
    pub fn stdout() -> Self {
        Out::new(io::stdout())
    }
}

impl<W: Write> Out<W> {
    pub fn new(w: W) -> Self {
        Out {
            w,
            state: OutState::Open,
        }
    }

    /// What `write!` and `writeln!` call.
    pub fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        if self.state == OutState::Open
            && let Err(e) = self.w.write_fmt(args)
        {
            self.fail(&e);
        }
    }

    pub fn flush(&mut self) {
        if self.state == OutState::Open
            && let Err(e) = self.w.flush()
        {
            self.fail(&e);
        }
    }

    fn fail(&mut self, e: &io::Error) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.state = OutState::Closed;
        } else {
            eprintln!("flightdeck: cannot write to standard output: {e}");
            self.state = OutState::Failed;
        }
    }

    /// Flush, and the exit code: the command's own, or 1 if it succeeded but its output was lost to an
    /// error other than a closed pipe.
    pub fn finish(mut self, code: i32) -> i32 {
        self.flush();
        if self.state == OutState::Failed && code == 0 {
            1
        } else {
            code
        }
    }
}

/// Entry point; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    if let Err(e) = crate::terminal::install_hooks() {
        eprintln!("flightdeck: {e}");
    }
    let paths = Paths::resolve(cli.config.as_deref());
    // The demo logs beside its own audit log, apart from the real cockpit's log.
    let log_paths = if matches!(cli.command, Some(Command::Demo { .. })) {
        paths.demo()
    } else {
        paths.clone()
    };
    let _log_guard = init_logging(&log_paths, cli.log_level.as_deref());
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("flightdeck: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let mut out = Out::stdout();
    let code = rt.block_on(dispatch(cli, paths, &mut out));
    out.finish(code)
}

fn init_logging(
    paths: &Paths,
    level: Option<&str>,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    paths.ensure_state_dir().ok()?;
    let appender = tracing_appender::rolling::never(&paths.state_dir, "flightdeck.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level.unwrap_or("info")))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

fn config_error(e: &ConfigError) -> i32 {
    eprintln!("flightdeck: config error: {e}");
    EXIT_CONFIG
}

fn warn(message: &str) {
    eprintln!("flightdeck: warning: {message}");
}

/// The config, with a warning on stderr when the file is readable by other users.
fn load_config(cli: &Cli, paths: &Paths) -> Result<Config, i32> {
    let explicit = Paths::explicit(cli.config.as_deref());
    let config = Config::load(&paths.config_file, explicit).map_err(|e| config_error(&e))?;
    if let Some(w) = crate::config::readable_by_others(&paths.config_file) {
        warn(&w);
    }
    Ok(config)
}

/// What the cockpit needs besides the config, checked before anything touches the terminal.
struct Prepared {
    themes: Vec<crate::ui::theme::Theme>,
    theme: usize,
    keymap: Keymap,
    /// Things to tell the operator that do not stop the program (a broken theme file that is not
    /// the selected one).
    warnings: Vec<String>,
}

/// Themes and keymap are part of the configuration: their errors exit 2 too. An error is blamed on
/// what caused it: the config file for `[keys]` and an unknown `theme`, the `--theme` flag, or the
/// selected theme's own file.
fn prepare(config: &Config, cli: &Cli, paths: &Paths) -> Result<Prepared, i32> {
    let file = paths.config_file.display().to_string();
    let keymap = Keymap::build(config.keys.iter().map(|(k, v)| (k.as_str(), v.keys()))).map_err(
        |message| {
            config_error(&ConfigError {
                file: file.clone(),
                message,
            })
        },
    )?;
    let (theme, from_flag) = match &cli.theme {
        Some(t) => (t.as_str(), true),
        None => (config.theme.as_str(), false),
    };
    let loaded = load_themes(&paths.themes_dir, theme, crate::terminal::no_color()).map_err(
        |e| match e {
            ThemeError::Unknown { .. } if !from_flag => config_error(&ConfigError {
                file,
                message: format!("theme: {e}"),
            }),
            ThemeError::Unknown { .. } => {
                eprintln!("flightdeck: --theme: {e}");
                EXIT_CONFIG
            }
            ThemeError::File { .. } => {
                eprintln!("flightdeck: theme error: {e}");
                EXIT_CONFIG
            }
        },
    )?;
    Ok(Prepared {
        themes: loaded.themes,
        theme: loaded.index,
        keymap,
        warnings: loaded.warnings,
    })
}

async fn dispatch(cli: Cli, paths: Paths, out: &mut Out) -> i32 {
    match &cli.command {
        None => {
            let config = match load_config(&cli, &paths) {
                Ok(c) => c,
                Err(code) => return code,
            };
            cockpit(&cli, &paths, config).await
        }
        Some(Command::Demo {
            speed,
            start_at,
            serve,
            scale,
            chaos,
            chaos_phase_secs,
        }) => {
            let world = WorldArgs {
                speed: *speed,
                start_at: *start_at,
                scale: (*scale).into(),
                chaos: chaos.then(|| crate::sim::ChaosOptions {
                    phase_secs: *chaos_phase_secs,
                    // A slow answer takes 3 s, or less in short phases (it must end in its phase).
                    slow_secs: (*chaos_phase_secs / 4.0).min(3.0),
                    ..crate::sim::ChaosOptions::default()
                }),
            };
            demo(&cli, &paths, world, *serve, out).await
        }
        Some(Command::Doctor) => {
            let config = match load_config(&cli, &paths) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let store = store(&cli, &paths, &config);
            doctor(&config, &paths, store.as_ref(), out).await
        }
        Some(Command::Config(c)) => config_command(c, &cli, &paths, out),
        Some(Command::Status { json }) => {
            let config = match load_config(&cli, &paths) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let store = store(&cli, &paths, &config);
            status(&config, store.as_ref(), *json, out).await
        }
        Some(Command::Audit { json, demo }) => {
            let paths = if *demo { paths.demo() } else { paths };
            audit(&paths, *json, out)
        }
        Some(Command::DraftTest {
            short_id,
            write,
            json,
            pr,
            yes,
        }) => {
            let config = match load_config(&cli, &paths) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let args = DraftArgs {
                short_id,
                write: write.as_deref(),
                json: *json,
                pr: *pr,
                yes: *yes,
                read_only: cli.readonly || config.read_only,
            };
            draft_test(&config, &paths, &args, out).await
        }
        Some(Command::Explain { subject, llm, json }) => {
            let subject = match crate::headless::Subject::parse(subject) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("flightdeck explain: {e}");
                    return 2;
                }
            };
            let config = match load_config(&cli, &paths) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let (summary, subj) = match crate::headless::explain(&config, &subject).await {
                Ok(x) => x,
                Err(crate::headless::ExplainError::NotFound(e)) => {
                    eprintln!("flightdeck explain: {e}");
                    return 2;
                }
                Err(crate::headless::ExplainError::Source(e)) => {
                    eprintln!("flightdeck explain: {e}");
                    return 3;
                }
            };
            let mut doc = crate::headless::summary_json(&summary);
            let mut text = crate::headless::summary_text(&summary);
            let mut code = 0;
            if *llm {
                let cache = store(&cli, &paths, &config).map(|s| s.dir().join("llm"));
                match crate::headless::explain_llm(&config, &summary, &subj, cache).await {
                    Ok((model, a, cached)) => {
                        doc["llm"] = serde_json::json!({
                            "model": model, "cached": cached, "headline": a.headline,
                            "summary": a.summary, "next_steps": a.next_steps,
                            "confidence": a.confidence.as_str(),
                        });
                        text.push_str(&format!(
                            "\n{model} ({} confidence{}; text to read, it acts on nothing):\n{}\n{}\n",
                            a.confidence.as_str(),
                            if cached { ", from the cache" } else { "" },
                            a.headline,
                            a.summary
                        ));
                        for n in &a.next_steps {
                            text.push_str(&format!("Next (model): {n}\n"));
                        }
                    }
                    Err(e) => {
                        eprintln!("flightdeck explain --llm: {e}");
                        doc["llm"] = serde_json::json!({ "error": e });
                        code = 3;
                    }
                }
            }
            if *json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
                );
            } else {
                write!(out, "{text}");
            }
            code
        }
        Some(Command::Dora { window, env, json }) => {
            let config = match load_config(&cli, &paths) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let Some(secs) = parse_duration(window).filter(|s| *s <= MAX_DORA_WINDOW_SECS) else {
                eprintln!(
                    "flightdeck: --window: not a duration of up to 365 days: \"{window}\" (30d, 7d, 12h)"
                );
                return EXIT_CONFIG;
            };
            let length = time::Duration::seconds_f64(secs);
            dora(&config, length, env.as_deref(), *json, out).await
        }
        Some(Command::Triage { log, against, json }) => {
            triage(log.as_deref(), against.as_deref(), *json, out)
        }
        Some(Command::Approve {
            repo,
            run_id,
            reject,
            comment,
            force,
            yes,
            json,
        }) => {
            let config = match load_config(&cli, &paths) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let args = crate::headless::ApproveArgs {
                repo: repo.clone(),
                run_id: *run_id,
                reject: *reject,
                comment: comment.clone(),
                force: *force,
                yes: *yes,
                read_only: cli.readonly || config.read_only,
            };
            let (code, doc) = crate::headless::approve(&config, paths.audit_file(), &args).await;
            if *json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
                );
            } else {
                write!(out, "{}", crate::headless::approve_text(&doc));
            }
            code
        }
        Some(Command::Judge {
            service,
            json,
            at,
            every,
            from,
            to,
        }) => {
            let config = match load_config(&cli, &paths) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
            let when = |s: &Option<String>, what: &str| -> Result<Option<f64>, String> {
                match s {
                    None => Ok(None),
                    Some(text) => parse_moment(text, now)
                        .map(Some)
                        .ok_or_else(|| format!("--{what}: not a time: \"{text}\" (RFC 3339, unix seconds, HH:MM or -15m)")),
                }
            };
            let parsed = (|| -> Result<Replay, String> {
                let at = when(at, "at")?;
                match every {
                    None => Ok(match at {
                        Some(t) => Replay::At(t),
                        None => Replay::Now,
                    }),
                    Some(e) => {
                        let step = parse_duration(e).ok_or_else(|| {
                            format!("--every: not a duration: \"{e}\" (60s, 5m, 1h)")
                        })?;
                        let from = when(from, "from")?.unwrap_or(now);
                        let to = when(to, "to")?.unwrap_or(now);
                        if to < from {
                            return Err("--to is before --from".into());
                        }
                        if (to - from) / step > MAX_TIMELINE as f64 {
                            return Err(format!(
                                "--every {e} from --from to --to is over {MAX_TIMELINE} judgements; take a longer step"
                            ));
                        }
                        Ok(Replay::Every { from, to, step })
                    }
                }
            })();
            match parsed {
                Ok(replay) => judge(&config, service, *json, replay, out).await,
                Err(e) => {
                    eprintln!("flightdeck: {e}");
                    2
                }
            }
        }
    }
}

struct DraftArgs<'a> {
    short_id: &'a str,
    write: Option<&'a std::path::Path>,
    json: bool,
    pr: bool,
    yes: bool,
    read_only: bool,
}

/// `draft-test`: find the incident, draft its test like `T` does, print or write it, and with
/// `--pr` open the draft PR through the same audited executor.
async fn draft_test(config: &Config, paths: &Paths, args: &DraftArgs<'_>, out: &mut Out) -> i32 {
    use crate::app::draft::DraftFailure;
    let failed = crate::headless::EXIT_SOURCE_FAILED;
    let sources = runtime::connect(config).await;
    for (_, note) in &sources.notes {
        eprintln!("flightdeck: {note}");
    }
    let (Some(gh), Some(sentry)) = (sources.github_ops.clone(), sources.sentry_ops.clone()) else {
        eprintln!("flightdeck: draft-test needs [github] and [sentry] in the config");
        return EXIT_CONFIG;
    };
    let projects = config
        .sentry
        .as_ref()
        .map(|s| s.projects.clone())
        .unwrap_or_default();
    let mut incident = None;
    for p in &projects {
        match sentry.issues(p).await {
            Ok(list) => {
                incident = list.into_iter().find(|i| {
                    i.short_id.eq_ignore_ascii_case(args.short_id) || i.id == args.short_id
                });
            }
            Err(e) => {
                eprintln!("flightdeck: Sentry: {e}");
                return failed;
            }
        }
        if incident.is_some() {
            break;
        }
    }
    let Some(incident) = incident else {
        eprintln!(
            "flightdeck: {} is not among the unresolved issues of {}",
            crate::sanitize::clean(args.short_id),
            projects.join(", ")
        );
        return failed;
    };
    let mut setup = crate::ops::draft::DraftSetup::from_config(config);
    setup.local = args.write.map(|d| d.to_path_buf());
    let now = time::OffsetDateTime::now_utc();
    let prepared =
        match crate::ops::draft::prepare(&gh, Some(&sentry), &setup, &incident, None, now).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!(
                    "flightdeck: no regression test drafted for {}: {e}",
                    incident.short_id
                );
                return match e {
                    DraftFailure::Source(_) => failed,
                    _ => EXIT_CONFIG,
                };
            }
        };
    let d = &prepared.draft;
    let mut written = None;
    if let Some(dir) = args.write {
        let to = dir.join(&d.path);
        let made = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&to, &d.contents));
        if let Err(e) = made {
            eprintln!("flightdeck: cannot write {}: {e}", to.display());
            return 1;
        }
        written = Some(to);
    }
    let mut pr_result = None;
    let mut code = 0;
    if args.pr {
        let change = crate::app::draft::DraftEditor::new(d.clone()).change();
        let asked = args.yes
            || crate::headless::ask_yes(&format!(
                "{}: {}?\n  branch {}, file {}\nSend it? [y/N] ",
                change.title(),
                change.summary(),
                d.branch,
                d.path
            ));
        if !asked {
            eprintln!("flightdeck: not sent");
            pr_result = Some(Err("not sent: not confirmed".to_string()));
            code = 1;
        } else {
            let exec = crate::ops::exec::Executor::new(
                Some(gh.clone()),
                crate::ops::audit::AuditLog::new(paths.audit_file()),
                args.read_only,
            );
            match exec.execute(&change, "").await {
                Ok(detail) => pr_result = Some(Ok(detail)),
                Err(e) => {
                    eprintln!("flightdeck: {}: {e}", change.summary());
                    pr_result = Some(Err(e.to_string()));
                    code = if matches!(e, crate::app::change::ChangeError::ReadOnly) {
                        1
                    } else {
                        failed
                    };
                }
            }
        }
    }
    if args.json {
        let doc = serde_json::json!({
            "incident": { "id": incident.id, "short_id": incident.short_id, "project": incident.project,
                          "title": incident.title, "url": incident.url },
            "repo": d.repo, "branch": d.branch, "path": d.path, "language": d.language,
            "reproduces": d.reproduces, "contents": d.contents,
            "pr": { "title": d.title, "body": d.body, "existing": d.existing_pr,
                    "branch_exists": d.branch_exists },
            "suspects": prepared.suspects.iter().map(|s| serde_json::json!({
                "title": s.title, "repo": s.repo, "sha": s.sha, "pr": s.pr, "url": s.url,
                "evidence": s.evidence,
            })).collect::<Vec<_>>(),
            "notes": d.notes,
            "written": written.as_ref().map(|p| p.display().to_string()),
            "sent": pr_result.as_ref().map(|r| match r {
                Ok(detail) => serde_json::json!({ "ok": true, "detail": detail }),
                Err(e) => serde_json::json!({ "ok": false, "detail": e }),
            }),
        });
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
        );
    } else {
        writeln!(
            out,
            "# {} → {} {} ({}, {})",
            incident.short_id,
            d.repo,
            d.path,
            d.language,
            if d.reproduces {
                "reproduces the crash with the event's values"
            } else {
                "a skipped skeleton: the event has no arguments to rebuild"
            }
        );
        for n in &d.notes {
            writeln!(out, "# {n}");
        }
        match prepared.suspects.first() {
            Some(s) => writeln!(out, "# suspected change: {}", s.title),
            None => writeln!(out, "# suspected change: none found"),
        }
        match &written {
            Some(p) => writeln!(out, "wrote {}", p.display()),
            None => write!(out, "{}", d.contents),
        }
        match &pr_result {
            Some(Ok(detail)) => writeln!(out, "PR: {detail}"),
            Some(Err(e)) => writeln!(out, "PR: {e}"),
            None => {}
        }
    }
    code
}

/// The on-disk store of `config`'s sources, unless `--no-cache` or `cache = false`.
fn store(cli: &Cli, paths: &Paths, config: &Config) -> Option<crate::store::Store> {
    (config.cache && !cli.no_cache).then(|| crate::store::Store::new(&paths.cache_dir, config))
}

async fn status(
    config: &Config,
    store: Option<&crate::store::Store>,
    json: bool,
    out: &mut Out,
) -> i32 {
    let (doc, failed) = crate::headless::status(config, store).await;
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
        );
    } else {
        write!(out, "{}", crate::headless::status_text(&doc));
    }
    if failed {
        crate::headless::EXIT_SOURCE_FAILED
    } else {
        0
    }
}

/// `judge --every`: one judgement per step from `from` to `to`, a line each (changes marked), or a
/// JSON array; the exit code is the last verdict's.
#[allow(clippy::too_many_arguments)]
async fn judge_timeline(
    config: &Config,
    source: &crate::sources::prometheus::Prometheus,
    service: &str,
    json: bool,
    from: f64,
    to: f64,
    step: f64,
    out: &mut Out,
) -> i32 {
    let policy: crate::analysis::canary::Policy = (&config.policy).into();
    let mut rows = Vec::new();
    let mut last: Option<crate::analysis::canary::Verdict> = None;
    let mut code = EXIT_CANNOT_JUDGE;
    let mut t = from;
    while t <= to + 1e-9 {
        let polled = tokio::time::timeout(Duration::from_secs(60), source.poll_at(t)).await;
        let judged = match polled {
            Ok(Ok(crate::domain::SourceData::Prometheus(mut r))) if !r.is_empty() => Ok(
                crate::analysis::rollout::judge_service(&r.remove(0), &policy),
            ),
            Ok(Ok(_)) => Err("Prometheus returned nothing for the service".to_string()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("Prometheus did not answer within 60 s".into()),
        };
        match judged {
            Ok(j) => {
                let changed = last != Some(j.verdict);
                last = Some(j.verdict);
                code = j.verdict.exit_code();
                let first = j.reasons.first().cloned().unwrap_or_default();
                if json {
                    rows.push(serde_json::json!({
                        "at": utc(t),
                        "verdict": j.verdict.label(),
                        "score": j.score,
                        "changed": changed,
                        "reasons": j.reasons,
                    }));
                } else {
                    writeln!(
                        out,
                        "{}  {}{:<8} {:.2}  {first}",
                        utc(t),
                        if changed { "▶ " } else { "  " },
                        j.verdict.label(),
                        j.score
                    );
                }
            }
            Err(e) => {
                code = EXIT_CANNOT_JUDGE;
                last = None;
                if json {
                    rows.push(serde_json::json!({ "at": utc(t), "verdict": null, "error": e }));
                } else {
                    writeln!(out, "{}  cannot judge: {e}", utc(t));
                }
            }
        }
        // The last step lands on `to` itself, however the steps fall.
        t = if t < to && t + step > to {
            to
        } else {
            t + step
        };
    }
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "service": service, "timeline": rows })
            )
            .unwrap_or_else(|_| "{}".into())
        );
    }
    code
}

/// The longest `dora --window`.
const MAX_DORA_WINDOW_SECS: f64 = 365.0 * 86_400.0;

/// `dora`: read, compute, print; exit 3 when a read failed (what was read is still printed).
async fn dora(
    config: &Config,
    length: time::Duration,
    env: Option<&str>,
    json: bool,
    out: &mut Out,
) -> i32 {
    if config.github.is_none() {
        eprintln!("flightdeck: dora needs [github] in the config");
        return EXIT_CONFIG;
    }
    let report = crate::headless::dora(config, length, env).await;
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&crate::headless::dora_json(&report))
                .unwrap_or_else(|_| "{}".into())
        );
    } else {
        write!(out, "{}", crate::headless::dora_text(&report));
    }
    if report.errors.is_empty() {
        0
    } else {
        crate::headless::EXIT_SOURCE_FAILED
    }
}

/// Exit code of `judge` when it could not judge.
pub const EXIT_CANNOT_JUDGE: i32 = 3;

/// When `judge` judges.
#[derive(Debug, Clone, Copy)]
enum Replay {
    Now,
    At(f64),
    Every { from: f64, to: f64, step: f64 },
}

/// The most judgements one `--every` timeline takes (each is a poll of the service's queries).
const MAX_TIMELINE: usize = 1440;

/// "60s", "5m", "1h", "90" (seconds) → seconds.
fn parse_duration(text: &str) -> Option<f64> {
    let t = text.trim();
    let (n, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: f64 = n.parse().ok()?;
    let secs = n * match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then_some(secs)
}

/// A moment: RFC 3339, unix seconds, `HH:MM[:SS]` (UTC, the last such moment up to `now`), or
/// `-15m` (ago).
fn parse_moment(text: &str, now: f64) -> Option<f64> {
    let t = text.trim();
    if let Some(ago) = t.strip_prefix('-') {
        return parse_duration(ago).map(|d| now - d);
    }
    if let Ok(dt) = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
        return Some(dt.unix_timestamp() as f64);
    }
    if t.contains(':') {
        let parts: Vec<&str> = t.split(':').collect();
        let num = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse::<i64>().ok());
        let (h, m, s) = (num(0)?, num(1)?, num(2)?);
        if parts.len() > 3
            || !(0..24).contains(&h)
            || !(0..60).contains(&m)
            || !(0..60).contains(&s)
        {
            return None;
        }
        let day = (now as i64).div_euclid(86_400) * 86_400;
        let mut at = (day + h * 3600 + m * 60 + s) as f64;
        if at > now {
            at -= 86_400.0;
        }
        return Some(at);
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0)
}

fn utc(t: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t as i64)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{t}"))
}

async fn judge(config: &Config, service: &str, json: bool, replay: Replay, out: &mut Out) -> i32 {
    let mut fail = |msg: String| {
        if json {
            writeln!(
                out,
                "{}",
                serde_json::json!({ "service": service, "verdict": null, "error": msg })
            );
        } else {
            eprintln!("flightdeck: cannot judge {service}: {msg}");
        }
        EXIT_CANNOT_JUDGE
    };
    let Some(svc) = config.services.iter().find(|s| s.name == service) else {
        let names: Vec<&str> = config.services.iter().map(|s| s.name.as_str()).collect();
        return fail(format!(
            "no [[service]] named \"{service}\" in the config (configured: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ));
    };
    let Some(prom) = &config.prometheus else {
        return fail("no [prometheus] in the config".into());
    };
    let http = match crate::sources::http::Http::new(Duration::from_secs(20)) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string()),
    };
    let source =
        match crate::sources::prometheus::Prometheus::new(http, prom, std::slice::from_ref(svc)) {
            Ok(s) => s,
            Err(e) => return fail(e.to_string()),
        };
    let (at, timeline) = match replay {
        Replay::Now => (
            time::OffsetDateTime::now_utc().unix_timestamp() as f64,
            None,
        ),
        Replay::At(t) => (t, None),
        Replay::Every { from, to, step } => (to, Some((from, step))),
    };
    if let Some((from, step)) = timeline {
        return judge_timeline(config, &source, service, json, from, at, step, out).await;
    }
    let rollout = match tokio::time::timeout(Duration::from_secs(60), source.poll_at(at)).await {
        Ok(Ok(crate::domain::SourceData::Prometheus(mut r))) if !r.is_empty() => r.remove(0),
        Ok(Ok(_)) => return fail("Prometheus returned nothing for the service".into()),
        Ok(Err(e)) => return fail(e.to_string()),
        Err(_) => return fail("Prometheus did not answer within 60 s".into()),
    };
    let j = crate::analysis::rollout::judge_service(&rollout, &(&config.policy).into());
    if json {
        let mut doc = crate::headless::rollout_json(&rollout);
        doc["judgement"] = serde_json::to_value(&j).unwrap_or(serde_json::Value::Null);
        doc["verdict"] = serde_json::Value::String(j.verdict.label().into());
        doc["score"] = serde_json::json!(j.score);
        doc["band"] = serde_json::Value::String(j.band.label().into());
        doc["reasons"] = serde_json::json!(j.reasons);
        doc["at"] = serde_json::Value::String(utc(at));
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
        );
    } else {
        let when = match replay {
            Replay::Now => String::new(),
            _ => format!(" at {}", utc(at)),
        };
        writeln!(
            out,
            "{} in {}{when}: {} — score {:.2} ({})",
            rollout.name,
            rollout.environment,
            j.verdict.label(),
            j.score,
            j.band.label()
        );
        for r in &j.reasons {
            writeln!(out, "  - {r}");
        }
    }
    j.verdict.exit_code()
}

/// Read a log named on the command line; `None` and `-` read standard input. Not UTF-8 is read lossily.
fn read_log(path: Option<&std::path::Path>) -> Result<String, String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    match path {
        None => io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?,
        Some(p) if p.as_os_str() == "-" => io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?,
        Some(p) => {
            bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            bytes.len()
        }
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `triage`: exit 0 when analysed (whatever was found), 1 when a log cannot be read.
fn triage(
    log: Option<&std::path::Path>,
    against: Option<&std::path::Path>,
    json: bool,
    out: &mut Out,
) -> i32 {
    let stdin = |p: Option<&std::path::Path>| p.is_none_or(|p| p.as_os_str() == "-");
    if against.is_some() && stdin(against) && stdin(log) {
        eprintln!("flightdeck: triage: the failed log and --against cannot both be standard input");
        return 1;
    }
    let failed = match read_log(log) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("flightdeck: triage: {e}");
            return 1;
        }
    };
    let green = match against.map(|p| read_log(Some(p))).transpose() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("flightdeck: triage: {e}");
            return 1;
        }
    };
    let report = crate::ai::triage::analyze(&failed, green.as_deref());
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => writeln!(out, "{s}"),
            Err(e) => {
                eprintln!("flightdeck: triage: cannot encode the report: {e}");
                return 1;
            }
        }
    } else {
        write!(out, "{}", report.to_text());
    }
    0
}

fn audit(paths: &Paths, json: bool, out: &mut Out) -> i32 {
    let log = crate::ops::audit::AuditLog::new(paths.audit_file());
    if !log.path().exists() {
        // Keep stdout clean for `audit --json | jq`.
        if json {
            eprintln!("No remote changes recorded yet ({}).", log.path().display());
        } else {
            writeln!(
                out,
                "No remote changes recorded yet ({}).",
                log.path().display()
            );
        }
        return 0;
    }
    match log.read_all() {
        Ok((entries, problems)) => {
            if json {
                for e in &entries {
                    if let Ok(line) = serde_json::to_string(e) {
                        writeln!(out, "{line}");
                    }
                }
            } else {
                write!(out, "{}", crate::ops::audit::format_entries(&entries));
            }
            for p in problems {
                eprintln!("flightdeck: {}: {p}", log.path().display());
            }
            0
        }
        Err(e) => {
            eprintln!("flightdeck: cannot read {}: {e}", log.path().display());
            1
        }
    }
}

async fn cockpit(cli: &Cli, paths: &Paths, config: Config) -> i32 {
    match prepare(&config, cli, paths) {
        Ok(prepared) => run_cockpit(cli, paths, config, prepared).await,
        Err(code) => code,
    }
}

async fn run_cockpit(cli: &Cli, paths: &Paths, config: Config, prepared: Prepared) -> i32 {
    let opts = Options {
        read_only: cli.readonly,
        mouse: cli.mouse,
        audit_file: paths.audit_file(),
        autopilot: cli.autopilot,
        store: store(cli, paths, &config),
        // Shown in the cockpit's message bar and error history (`!`).
        warnings: prepared
            .warnings
            .iter()
            .cloned()
            .chain(crate::config::readable_by_others(&paths.config_file))
            .collect(),
    };
    let themes = (prepared.themes, prepared.theme);
    match runtime::run(config, themes, prepared.keymap, opts).await {
        Ok(code) => code,
        Err(e) => {
            crate::terminal::restore();
            eprintln!("flightdeck: {e}");
            1
        }
    }
}

/// How `demo` builds its world.
struct WorldArgs {
    speed: f64,
    start_at: f64,
    scale: crate::sim::Scale,
    chaos: Option<crate::sim::ChaosOptions>,
}

async fn demo(cli: &Cli, paths: &Paths, world: WorldArgs, serve: bool, out: &mut Out) -> i32 {
    let speed = world.speed;
    if !(0.0..=1000.0).contains(&speed) || !speed.is_finite() {
        eprintln!("flightdeck: --speed expects a number from 0 to 1000, got {speed}");
        return EXIT_CONFIG;
    }
    if let Some(c) = &world.chaos
        && !(c.phase_secs.is_finite() && (1.0..=3600.0).contains(&c.phase_secs))
    {
        eprintln!(
            "flightdeck: --chaos-phase-secs expects a number of seconds from 1 to 3600, got {}",
            c.phase_secs
        );
        return EXIT_CONFIG;
    }
    if serve {
        return match start_world(world).await {
            Ok(world) => serve_world(world, speed, out).await,
            Err(code) => code,
        };
    }
    // The operator's own key bindings, theme and mouse apply in the demo too, so their config is
    // checked like the cockpit's (a bad file is exit 2, not silently the defaults), and before the
    // world starts or the terminal is touched.
    let user = match load_config(cli, paths) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let prepared = match prepare(&user, cli, paths) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let world = match start_world(world).await {
        Ok(w) => w,
        Err(code) => return code,
    };
    let mut config = match Config::parse(&world.config_toml(), "demo world config") {
        Ok(c) => c,
        Err(e) => {
            world.shutdown();
            return config_error(&e);
        }
    };
    config.keys = user.keys;
    config.theme = user.theme;
    config.mouse = user.mouse;
    // The world listens on new ports every time: its cache would never be read again.
    config.cache = false;
    // Its approvals, rollbacks and verdict records go to the demo's own audit log.
    let code = run_cockpit(cli, &paths.demo(), config, prepared).await;
    world.shutdown();
    code
}

async fn start_world(args: WorldArgs) -> Result<crate::sim::SimWorld, i32> {
    crate::sim::start(crate::sim::SimOptions {
        speed: args.speed,
        start_at_secs: args.start_at.max(0.0),
        anchor_now: true,
        scale: args.scale,
        chaos: args.chaos,
    })
    .await
    .map_err(|e| {
        eprintln!("flightdeck: cannot start the demo world on 127.0.0.1: {e}");
        1
    })
}

/// `demo --serve`: print the URLs and a matching config, then serve until Ctrl-C.
async fn serve_world(world: crate::sim::SimWorld, speed: f64, out: &mut Out) -> i32 {
    writeln!(
        out,
        "flightdeck demo world (scenario speed {speed}), on 127.0.0.1 only:"
    );
    writeln!(out, "  GitHub REST      {}", world.github_url);
    writeln!(out, "  Prometheus       {}", world.prometheus_url);
    writeln!(out, "  Sentry           {}", world.sentry_url);
    writeln!(out, "  OpenAI-compat.   {}", world.llm_url);
    if world.chaos_phase(crate::sim::Api::Github).is_some() {
        writeln!(
            out,
            "  (chaos: each service cycles through faults, then recovers; see `flightdeck demo --help`)"
        );
    }
    writeln!(out);
    writeln!(
        out,
        "# A matching config (save it and run `flightdeck --config FILE`):"
    );
    writeln!(out, "{}", world.config_toml());
    out.flush();
    let _ = tokio::signal::ctrl_c().await;
    world.shutdown();
    0
}

async fn doctor(
    config: &Config,
    paths: &Paths,
    store: Option<&crate::store::Store>,
    out: &mut Out,
) -> i32 {
    writeln!(out, "flightdeck {}", env!("CARGO_PKG_VERSION"));
    writeln!(out);
    writeln!(out, "Paths");
    let exists = |p: &std::path::Path| {
        if p.exists() {
            ""
        } else {
            "  (not created yet)"
        }
    };
    writeln!(
        out,
        "  config  {}{}",
        paths.config_file.display(),
        exists(&paths.config_file)
    );
    writeln!(
        out,
        "  themes  {}{}",
        paths.themes_dir.display(),
        exists(&paths.themes_dir)
    );
    writeln!(out, "  log     {}", paths.log_file().display());
    writeln!(out, "  audit   {}", paths.audit_file().display());
    writeln!(
        out,
        "  demo    {}  (the demo's own audit log: flightdeck audit --demo)",
        paths.demo().audit_file().display()
    );
    match store {
        None => writeln!(
            out,
            "  cache   {}  (off: --no-cache or cache = false)",
            paths.cache_dir.display()
        ),
        Some(store) => {
            writeln!(out, "  cache   {}", store.dir().display());
            for (id, path, age) in store.describe() {
                let file = path.file_name().unwrap_or_default().to_string_lossy();
                let age = age.map_or("(not saved yet)".to_string(), |a| {
                    format!("saved {} ago", crate::fmt::fmt_age(a.as_secs() as i64))
                });
                writeln!(out, "          {:<11} {file}  {age}", id.label());
            }
        }
    }
    writeln!(out);
    writeln!(out, "Sources");
    let sources = runtime::connect(config).await;
    for (_, note) in &sources.notes {
        writeln!(out, "  note    {note}");
    }
    let mut failed = 0;
    let timeout = Duration::from_secs(20);
    let mut configured = 0;
    let mut prometheus_queries = None;
    for s in sources.list {
        configured += 1;
        let label = s.id().label();
        let result = match s {
            crate::sources::poller::AnySource::GitHub(mut g) => {
                tokio::time::timeout(timeout, g.check()).await
            }
            crate::sources::poller::AnySource::Prometheus(p) => {
                let result = tokio::time::timeout(timeout, p.check()).await;
                if let Ok(Ok(_)) = &result {
                    prometheus_queries = Some(p);
                }
                result
            }
            crate::sources::poller::AnySource::Sentry(s) => {
                tokio::time::timeout(timeout, s.check()).await
            }
        };
        match result {
            Ok(Ok(detail)) => writeln!(out, "  ok      {label:<10} {detail}"),
            Ok(Err(e)) => {
                failed += 1;
                writeln!(out, "  FAIL    {label:<10} {e}");
            }
            Err(_) => {
                failed += 1;
                writeln!(
                    out,
                    "  FAIL    {label:<10} no answer within {} s",
                    timeout.as_secs()
                );
            }
        }
    }
    // Each service's queries, once Prometheus answers: a refused one fails; one that answers no
    // series is said (a weight or a counter's error label that does not exist yet, or a typo).
    if let Some(p) = prometheus_queries {
        let checked = tokio::time::timeout(Duration::from_secs(60), p.check_queries()).await;
        match checked {
            Ok(answers) => {
                let asked = answers.len();
                for check in answers {
                    let what = &check.what;
                    match (check.answer, check.derived) {
                        (Ok(0), _) => writeln!(
                            out,
                            "  note    {what}: no series now (an errors query with none counts no errors; check it if there should be some)"
                        ),
                        (Ok(_), _) => {}
                        // Not the user's query: the judge falls back (and says so), the config
                        // is not wrong.
                        (Err(e), Some(fallback)) => {
                            writeln!(out, "  note    {what}: {e} ({fallback})")
                        }
                        (Err(e), None) => {
                            failed += 1;
                            writeln!(out, "  FAIL    {what}: {e}");
                        }
                    }
                }
                if asked > 0 {
                    writeln!(
                        out,
                        "  ok      {:<10} {asked} service queries asked",
                        "Prometheus"
                    );
                }
            }
            Err(_) => {
                failed += 1;
                writeln!(
                    out,
                    "  FAIL    {:<10} the service queries got no answer within 60 s",
                    "Prometheus"
                );
            }
        }
    }
    if config.ai.provider == "openai" {
        configured += 1;
        match check_llm(config).await {
            Ok(detail) => writeln!(out, "  ok      {:<10} {detail}", "AI"),
            Err(e) => {
                failed += 1;
                writeln!(out, "  FAIL    {:<10} {e}", "AI");
            }
        }
    } else {
        writeln!(
            out,
            "  ok      {:<10} built-in analyzer (no endpoint needed)",
            "AI"
        );
    }
    if configured == 0 {
        writeln!(
            out,
            "  No source is configured: `flightdeck config init` writes a template."
        );
    }
    if failed > 0 { 1 } else { 0 }
}

async fn check_llm(config: &Config) -> Result<String, String> {
    let http =
        crate::sources::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let key = crate::config::ai_key(&config.ai).await.ok().flatten();
    let url = format!("{}/models", config.ai.url.trim_end_matches('/'));
    let mut req = http.client().get(&url);
    if let Some((k, _)) = &key {
        req = req.bearer_auth(k.expose());
    }
    let resp = http.send(req).await.map_err(|e| e.to_string())?;
    match resp.status {
        200 => Ok(format!(
            "{} answers (model {})",
            config.ai.url, config.ai.model
        )),
        401 | 403 => Err(format!(
            "key rejected (HTTP {}): set OPENAI_API_KEY or ai.api_key_command",
            resp.status
        )),
        s => Err(format!(
            "HTTP {s}: {}",
            crate::sources::http::error_summary(&resp.body)
        )),
    }
}

fn config_command(c: &ConfigCommand, cli: &Cli, paths: &Paths, out: &mut Out) -> i32 {
    match c {
        ConfigCommand::Init { force, stdout } => {
            if *stdout {
                write!(out, "{TEMPLATE}");
                return 0;
            }
            let path = &paths.config_file;
            if path.exists() && !force {
                eprintln!(
                    "flightdeck: {} already exists; use --force to overwrite it",
                    path.display()
                );
                return 1;
            }
            if let Some(dir) = path.parent()
                && let Err(e) = std::fs::create_dir_all(dir)
            {
                eprintln!("flightdeck: cannot create {}: {e}", dir.display());
                return 1;
            }
            match write_private(path, TEMPLATE) {
                Ok(()) => {
                    writeln!(out, "Wrote {}", path.display());
                    0
                }
                Err(e) => {
                    eprintln!("flightdeck: cannot write {}: {e}", path.display());
                    1
                }
            }
        }
        ConfigCommand::Path => {
            writeln!(out, "{}", paths.config_file.display());
            0
        }
        ConfigCommand::Check => {
            // Checking a file that is not there is an error, wherever its path came from: the
            // defaults would be "ok" but nothing was checked.
            let config = match Config::load(&paths.config_file, true) {
                Ok(c) => c,
                Err(e) => return config_error(&e),
            };
            if let Some(w) = crate::config::readable_by_others(&paths.config_file) {
                warn(&w);
            }
            match prepare(&config, cli, paths) {
                Ok(prepared) => {
                    for w in &prepared.warnings {
                        warn(w);
                    }
                    // Say where the judge reads counts the file did not give.
                    for s in &config.services {
                        for (name, m) in &s.metrics {
                            if m.counts_from_ratio {
                                writeln!(
                                    out,
                                    "service {}: {name} is judged on its counts, its query's numerator (events) over its denominator (requests); kind = \"samples\" judges its samples instead",
                                    crate::sanitize::clean(&s.name),
                                    name = crate::sanitize::clean(name)
                                );
                            }
                            // A quantile the judge cannot tell from a quiet service's largest
                            // request without the service's traffic.
                            if let (Some(q), None) =
                                (crate::sources::promql::quantile_of(&m.canary), &s.traffic)
                            {
                                writeln!(
                                    out,
                                    "service {}: {name} is a quantile ({q}); without the service's traffic the judge cannot tell when a window holds too few requests for one (fewer than {:.0} at full traffic)",
                                    crate::sanitize::clean(&s.name),
                                    crate::analysis::rollout::quantile_needs(q),
                                    name = crate::sanitize::clean(name)
                                );
                            }
                        }
                    }
                    writeln!(out, "{}: ok", paths.config_file.display());
                    0
                }
                Err(code) => code,
            }
        }
    }
}

/// Write `text` to `path`, readable by its owner only (a new file is created 0600; an existing one
/// is narrowed to 0600).
fn write_private(path: &std::path::Path, text: &str) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(text.as_bytes())
    }
    #[cfg(not(unix))]
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judge_times_and_durations() {
        assert_eq!(parse_duration("60s"), Some(60.0));
        assert_eq!(parse_duration("5m"), Some(300.0));
        assert_eq!(parse_duration("90"), Some(90.0));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("5w"), None);
        // 2026-11-23T14:30:00Z
        let now = 1_795_444_200.0;
        assert_eq!(parse_moment("-15m", now), Some(now - 900.0));
        assert_eq!(parse_moment("14:05", now), Some(now - 1500.0));
        // Later today than now: yesterday's.
        assert_eq!(parse_moment("15:00", now), Some(now + 1800.0 - 86_400.0));
        assert_eq!(
            parse_moment("2026-11-23T14:00:00Z", now),
            Some(now - 1800.0)
        );
        assert_eq!(parse_moment("1795444200", now), Some(now));
        assert_eq!(parse_moment("25:00", now), None);
        assert_eq!(parse_moment("soon", now), None);
    }

    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn out_swallows_a_closed_pipe_and_keeps_the_code() {
        let mut out = Out::new(Failing(io::ErrorKind::BrokenPipe));
        writeln!(out, "one");
        writeln!(out, "two");
        assert_eq!(out.state, OutState::Closed);
        assert_eq!(out.finish(0), 0);
        let out = Out::new(Failing(io::ErrorKind::BrokenPipe));
        assert_eq!(out.finish(3), 3);
    }

    #[test]
    fn out_turns_other_write_errors_into_a_failure() {
        let mut out = Out::new(Failing(io::ErrorKind::StorageFull));
        writeln!(out, "one");
        assert_eq!(out.state, OutState::Failed);
        assert_eq!(out.finish(0), 1);
        let mut ok = Out::new(Vec::new());
        writeln!(ok, "fine {}", 1);
        assert_eq!(ok.w, b"fine 1\n");
        assert_eq!(ok.finish(0), 0);
    }
}
