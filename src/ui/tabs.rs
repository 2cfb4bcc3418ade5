//! The five tables, their empty/loading/error states, and the detail pane.

use super::{fmt_age, fmt_age_coarse};
use crate::analysis::canary::{Band, MetricOutcome, Verdict as JudgeVerdict};
use crate::app::filter::Query;
use crate::app::rows::Row as _;
use crate::app::{ListState, Loadable, State, Tab, TabStatus};
use crate::domain::{
    CheckState, Incident, PullRequest, ReviewDecision, RunState, ServiceRollout, Summary,
    WorkflowRun,
};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Cell, Paragraph, Row, Table, Wrap};
use time::OffsetDateTime;

/// Split `text` into spans with the filter's matches highlighted.
pub fn highlighted<'a>(text: &str, q: &Query, base: Style, matched: Style) -> Vec<Span<'a>> {
    if q.is_empty() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let hits = q.highlight(text);
    if hits.is_empty() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let mut spans = Vec::new();
    let mut cur = String::new();
    let mut cur_hit = false;
    let mut hit_iter = hits.iter().peekable();
    for (i, c) in text.chars().enumerate() {
        let is_hit = hit_iter.peek() == Some(&&i);
        if is_hit {
            hit_iter.next();
        }
        if is_hit != cur_hit && !cur.is_empty() {
            let style = if cur_hit { base.patch(matched) } else { base };
            spans.push(Span::styled(std::mem::take(&mut cur), style));
        }
        cur_hit = is_hit;
        cur.push(c);
    }
    if !cur.is_empty() {
        let style = if cur_hit { base.patch(matched) } else { base };
        spans.push(Span::styled(cur, style));
    }
    spans
}

fn age(now: OffsetDateTime, t: Option<OffsetDateTime>) -> String {
    t.map(|t| fmt_age_coarse((now - t).whole_seconds()))
        .unwrap_or_else(|| "—".into())
}

/// The body: the focused table, and the detail pane when open.
pub fn draw_body(state: &State, frame: &mut Frame, area: Rect) {
    let (table_area, detail_area) = if state.detail {
        if state.detail_at_right() {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                    .areas(area);
            (a, Some(b))
        } else {
            let top = area.height - area.height / 2;
            let [a, b] =
                Layout::vertical([Constraint::Length(top), Constraint::Min(0)]).areas(area);
            (a, Some(b))
        }
    } else {
        (area, None)
    };
    draw_table(state, frame, table_area);
    if let Some(d) = detail_area {
        draw_detail(state, frame, d);
    }
}

fn frame_block<'a>(state: &State, title: Line<'a>) -> Block<'a> {
    let theme = state.theme();
    let prod = state.production_focus();
    let mut b = Block::default().borders(Borders::ALL).title(title);
    if prod {
        b = b
            .border_type(BorderType::Thick)
            .border_style(theme.production())
            .title_bottom(Line::from(Span::styled(
                " PRODUCTION — actions here change production ",
                theme.production(),
            )));
    } else {
        b = b
            .border_type(BorderType::Rounded)
            .border_style(theme.border());
    }
    b
}

/// Per column: its width and the narrowest table width at which it is shown.
struct Columns {
    widths: Vec<(Constraint, u16)>,
    /// Columns where filter matches are highlighted.
    highlight: &'static [usize],
}

fn columns(tab: Tab) -> Columns {
    use Constraint::{Fill, Length};
    match tab {
        Tab::Prs => Columns {
            widths: vec![
                (Length(14), 100),
                (Length(6), 0),
                (Fill(4), 0),
                (Length(12), 0),
                (Length(4), 0),
                (Length(9), 0),
                (Length(9), 0),
                (Length(8), 120),
                (Length(11), 110),
                (Fill(1), 140),
            ],
            highlight: &[0, 2, 3],
        },
        Tab::Runs => Columns {
            widths: vec![
                (Length(16), 100),
                (Fill(2), 0),
                (Fill(2), 0),
                (Length(12), 120),
                (Length(12), 110),
                (Length(20), 0),
                (Length(3), 100),
                (Length(7), 0),
                (Length(7), 90),
            ],
            highlight: &[0, 1, 2, 4],
        },
        Tab::Rollouts => Columns {
            widths: vec![
                (Length(12), 0),
                (Length(13), 0),
                (Length(16), 90),
                (Length(6), 0),
                (Length(8), 100),
                (Length(9), 0),
                (Length(13), 0),
                (Fill(1), 110),
            ],
            highlight: &[0, 1],
        },
        Tab::Incidents => Columns {
            widths: vec![
                (Length(10), 0),
                (Length(14), 0),
                (Fill(3), 0),
                (Fill(2), 100),
                (Length(7), 0),
                (Length(7), 0),
                (Length(5), 100),
                (Length(5), 110),
                (Length(5), 0),
            ],
            highlight: &[0, 1, 2, 3],
        },
        Tab::Ai => Columns {
            widths: vec![
                (Length(8), 0),
                (Length(26), 0),
                (Fill(1), 0),
                (Length(8), 100),
            ],
            highlight: &[1, 2],
        },
    }
}

fn run_style(theme: &Theme, s: RunState) -> Style {
    match s {
        RunState::Success => theme.ok(),
        RunState::Failure => theme.danger(),
        RunState::Waiting => theme.warn(),
        RunState::InProgress | RunState::Queued => theme.accent(),
        _ => theme.muted(),
    }
}

fn duration(secs: i64) -> String {
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// "10›25›[50]›100": the slice plan with the current weight marked.
pub fn slice_strip(r: &ServiceRollout) -> String {
    let current = r.weight.map(|w| w.round() as i64);
    let mut parts = Vec::new();
    // No canary traffic: not started yet, or rolled back.
    if current == Some(0) {
        parts.push("[0]".to_string());
    }
    for &s in &r.slices {
        if current == Some(s as i64) {
            parts.push(format!("[{s}]"));
        } else {
            parts.push(s.to_string());
        }
    }
    parts.join("›")
}

fn fmt_metric(name: &str, v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v.is_nan() => "NaN".into(),
        Some(v) if name.contains("rate") || name.contains("ratio") => format!("{:.2}%", v * 100.0),
        Some(v) => {
            if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        }
    }
}

fn cells_pr(state: &State, p: &PullRequest) -> Vec<(String, Style)> {
    let t = state.theme();
    let checks = match p.checks {
        Some(c) => {
            let style = match c.worst() {
                Some(CheckState::Failed) => t.danger(),
                Some(CheckState::Pending) => t.warn(),
                Some(CheckState::Passed) => t.ok(),
                _ => t.muted(),
            };
            (c.label(), style)
        }
        None => ("…".into(), t.muted()),
    };
    let review = match p.review {
        Some(r) => {
            let style = match r {
                ReviewDecision::Approved => t.ok(),
                ReviewDecision::ChangesRequested => t.danger(),
                _ => t.muted(),
            };
            (r.label().to_string(), style)
        }
        None => ("…".into(), t.muted()),
    };
    let merge = match p.mergeable.as_deref() {
        Some(m @ ("clean" | "has_hooks")) => (m.to_string(), t.ok()),
        Some(m @ ("dirty" | "blocked")) => (m.to_string(), t.danger()),
        Some(m) => (m.to_string(), t.warn()),
        None => ("…".into(), t.muted()),
    };
    let size = match (p.additions, p.deletions) {
        (Some(a), Some(d)) => format!("+{a} −{d}"),
        _ => "…".into(),
    };
    vec![
        (p.repo.clone(), t.muted()),
        (format!("#{}", p.number), t.accent()),
        if p.draft {
            (format!("(draft) {}", p.title), t.muted())
        } else {
            (p.title.clone(), Style::default())
        },
        (p.author.clone(), Style::default()),
        (age(state.now, p.created_at), t.muted()),
        checks,
        review,
        merge,
        (size, t.muted()),
        (p.labels.join(","), t.warn()),
    ]
}

fn cells_run(state: &State, r: &WorkflowRun) -> Vec<(String, Style)> {
    let t = state.theme();
    let took = match (r.started_at, r.updated_at, r.state) {
        (Some(s), _, RunState::InProgress | RunState::Queued | RunState::Waiting) => {
            fmt_age_coarse((state.now - s).whole_seconds())
        }
        (Some(s), Some(u), _) => duration((u - s).whole_seconds().max(0)),
        _ => "—".into(),
    };
    vec![
        (r.repo.clone(), t.muted()),
        (r.workflow.clone(), Style::default()),
        (r.branch.clone(), Style::default()),
        (r.event.clone(), t.muted()),
        (r.actor.clone(), Style::default()),
        if r.pending.is_empty() {
            (r.state.label().into(), run_style(t, r.state))
        } else {
            let envs: Vec<&str> = r.pending.iter().map(|p| p.environment.as_str()).collect();
            let style = if r.production() {
                t.production()
            } else {
                t.warn()
            };
            (format!("waiting: {}", envs.join(",")), style)
        },
        (r.attempt.to_string(), t.muted()),
        (age(state.now, r.started_at), t.muted()),
        (took, t.muted()),
    ]
}

fn verdict_style(t: &Theme, v: JudgeVerdict) -> Style {
    match v {
        JudgeVerdict::Proceed => t.ok(),
        JudgeVerdict::Hold => t.warn(),
        JudgeVerdict::Rollback => t.danger(),
    }
}

fn band_style(t: &Theme, b: Band) -> Style {
    match b {
        Band::Promote => t.ok(),
        Band::Review => t.warn(),
        Band::Block => t.danger(),
    }
}

fn cells_rollout(state: &State, r: &ServiceRollout) -> Vec<(String, Style)> {
    let t = state.theme();
    let j = state.judgement(&r.name);
    let metrics: Vec<String> = r
        .metrics
        .iter()
        .map(|m| {
            let glyph = j
                .and_then(|j| j.metrics.iter().find(|x| x.name == m.name))
                .map(|x| outcome_glyph(x.outcome))
                .unwrap_or(match m.breached() {
                    Some(true) => "✗",
                    Some(false) => "✓",
                    None => "?",
                });
            let bound = match (m.max, m.min) {
                (Some(max), _) => format!("≤{}", fmt_metric(&m.name, Some(max))),
                (None, Some(min)) => format!("≥{}", fmt_metric(&m.name, Some(min))),
                _ => String::new(),
            };
            format!(
                "{glyph} {} {}/{} {bound}",
                m.name,
                fmt_metric(&m.name, m.canary),
                fmt_metric(&m.name, m.baseline)
            )
        })
        .collect();
    let held = state.held_run(r).is_some();
    let env_style = if r.production {
        t.production()
    } else {
        Style::default()
    };
    let (verdict, score) = match j {
        Some(j) => (
            (j.verdict.label().to_string(), verdict_style(t, j.verdict)),
            (
                format!("{:.2} {}", j.score, j.band.label()),
                band_style(t, j.band),
            ),
        ),
        None => (("…".into(), t.muted()), ("…".into(), t.muted())),
    };
    let in_slice = r
        .slice_since
        .map(|s| fmt_age((state.now - s).whole_seconds()))
        .unwrap_or_else(|| "—".into());
    vec![
        (r.name.clone(), t.accent()),
        (
            format!("{}{}", r.environment, if held { " ⏸" } else { "" }),
            env_style,
        ),
        (slice_strip(r), Style::default()),
        (
            r.weight
                .map(|w| format!("{w:.0}%"))
                .unwrap_or_else(|| "—".into()),
            Style::default(),
        ),
        (in_slice, t.muted()),
        verdict,
        score,
        (metrics.join("  "), Style::default()),
    ]
}

fn outcome_glyph(o: MetricOutcome) -> &'static str {
    match o {
        MetricOutcome::Pass => "✓",
        MetricOutcome::NoData => "?",
        MetricOutcome::SharedBreach | MetricOutcome::Borderline => "~",
        MetricOutcome::Worse | MetricOutcome::Breach => "✗",
    }
}

/// A sparkline of `values` on the scale `[lo, hi]` (NaN as a gap), at most `width` cells (the newest).
pub fn spark(values: &[f64], lo: f64, hi: f64, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let start = values.len().saturating_sub(width);
    values[start..]
        .iter()
        .map(|v| {
            if !v.is_finite() {
                ' '
            } else if hi - lo <= f64::EPSILON {
                BARS[0]
            } else {
                let i = ((v - lo) / (hi - lo) * 7.0).round().clamp(0.0, 7.0) as usize;
                BARS[i]
            }
        })
        .collect()
}

fn cells_incident(state: &State, i: &Incident) -> Vec<(String, Style)> {
    let t = state.theme();
    let level_style = match i.level.as_str() {
        "fatal" | "error" => t.danger(),
        "warning" => t.warn(),
        _ => t.muted(),
    };
    vec![
        (i.project.clone(), t.muted()),
        (i.short_id.clone(), t.accent()),
        (i.title.clone(), Style::default()),
        (i.culprit.clone(), t.muted()),
        (i.level.clone(), level_style),
        (i.count.to_string(), Style::default()),
        (i.user_count.to_string(), Style::default()),
        (age(state.now, i.first_seen), t.muted()),
        (age(state.now, i.last_seen), t.muted()),
    ]
}

fn cells_summary(state: &State, s: &Summary) -> Vec<(String, Style)> {
    let t = state.theme();
    vec![
        (s.kind.label().into(), t.accent()),
        (s.subject.clone(), Style::default()),
        (s.headline.clone(), Style::default()),
        (s.analyzer.clone(), t.muted()),
    ]
}

fn noun(tab: Tab) -> &'static str {
    match tab {
        Tab::Prs => "open pull requests",
        Tab::Runs => "workflow runs",
        Tab::Rollouts => "services",
        Tab::Incidents => "unresolved incidents",
        Tab::Ai => "summaries",
    }
}

fn draw_table(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme();
    let tab = state.tab;
    let list = state.list(tab);
    let total = state.table(tab).len();
    let mut title = vec![Span::styled(format!(" {} ", tab.title()), theme.header())];
    if list.filter.is_empty() {
        title.push(Span::styled(format!("({total}) "), theme.muted()));
    } else {
        title.push(Span::styled(
            format!("({} of {total}) ", list.view.len()),
            theme.muted(),
        ));
        title.push(Span::styled(format!("/{} ", list.filter), theme.matched()));
    }
    if state.production_focus() {
        title.push(Span::styled(" PRODUCTION ", theme.production()));
    }
    let block = frame_block(state, Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let status = state.tab_status(tab);
    let notice: Option<(String, Style)> = match status {
        TabStatus::NotConfigured(what) => Some((
            format!(
                "{} is not configured: add {what} to the config file.\n`flightdeck config init` writes a commented template; `flightdeck demo` shows a simulated release.",
                tab.source().map(|s| s.label()).unwrap_or("No source")
            ),
            theme.muted(),
        )),
        TabStatus::Loading => Some((format!("Loading {}…", noun(tab)), theme.muted())),
        TabStatus::Error(e) => Some((
            format!(
                "Could not load {}: {e}\nRetrying on its own with backoff · r retries now · ! shows the error history",
                noun(tab)
            ),
            theme.danger(),
        )),
        TabStatus::Ready if total == 0 => Some((format!("No {}.", noun(tab)), theme.muted())),
        TabStatus::Ready if list.view.is_empty() => Some((
            format!(
                "No {} match /{} — esc clears the filter.",
                noun(tab),
                list.filter
            ),
            theme.muted(),
        )),
        TabStatus::Ready => None,
    };
    if let Some((text, style)) = notice {
        frame.render_widget(
            Paragraph::new(Text::styled(text, style)).wrap(Wrap { trim: true }),
            inner.inner(ratatui::layout::Margin::new(1, 1)),
        );
        return;
    }

    let cols = columns(tab);
    let shown: Vec<usize> = (0..cols.widths.len())
        .filter(|&c| inner.width >= cols.widths[c].1)
        .collect();
    let height = inner.height.saturating_sub(1) as usize;
    let offset = visible_offset(list, height);
    let q = Query::new(&list.filter);
    let group_of = |i: usize| -> &str {
        match tab {
            Tab::Prs => state.prs.items[i].group(),
            Tab::Runs => state.runs.items[i].group(),
            Tab::Rollouts => state.rollouts.items[i].group(),
            Tab::Incidents => state.incidents.items[i].group(),
            Tab::Ai => state.summaries.items[i].group(),
        }
    };
    let group_col = if tab == Tab::Rollouts { 1 } else { 0 };
    let end = (offset + height).min(list.view.len());
    let rows: Vec<Row> = (offset..end)
        .map(|pos| {
            let i = list.view[pos] as usize;
            let cells = match tab {
                Tab::Prs => cells_pr(state, &state.prs.items[i]),
                Tab::Runs => cells_run(state, &state.runs.items[i]),
                Tab::Rollouts => cells_rollout(state, &state.rollouts.items[i]),
                Tab::Incidents => cells_incident(state, &state.incidents.items[i]),
                Tab::Ai => cells_summary(state, &state.summaries.items[i]),
            };
            // Grouped: the group's name only on its first row.
            let repeat =
                list.grouped && pos > 0 && group_of(list.view[pos - 1] as usize) == group_of(i);
            let mut cells: Vec<Option<(String, Style)>> = cells.into_iter().map(Some).collect();
            let row = Row::new(shown.iter().map(|&c| {
                let (text, style) = cells[c].take().unwrap_or_default();
                let text = if repeat && c == group_col {
                    String::new()
                } else {
                    text
                };
                if cols.highlight.contains(&c) && !q.is_empty() {
                    Cell::from(Line::from(highlighted(&text, &q, style, theme.matched())))
                } else {
                    Cell::from(Span::styled(text, style))
                }
            }));
            if pos == list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let names = state.table(tab).columns();
    let header = Row::new(shown.iter().map(|&c| {
        let name = names.get(c).copied().unwrap_or("");
        match list.sort {
            Some((sc, desc)) if sc == c => {
                Cell::from(format!("{name} {}", if desc { "▼" } else { "▲" }))
            }
            _ => Cell::from(name),
        }
    }))
    .style(theme.header());
    let widths: Vec<Constraint> = shown.iter().map(|&c| cols.widths[c].0).collect();
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}

/// The first visible row: the stored offset, moved just enough to show the selection.
pub fn visible_offset(list: &ListState, height: usize) -> usize {
    let h = height.max(1);
    let mut off = list.offset.min(list.view.len().saturating_sub(h));
    if list.selected < off {
        off = list.selected;
    } else if list.selected >= off + h {
        off = list.selected + 1 - h;
    }
    off
}

fn kv<'a>(theme: &Theme, k: &str, v: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{k:<12}"), theme.muted()),
        Span::raw(v),
    ])
}

fn fmt_time(t: Option<OffsetDateTime>) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.and_then(|t| t.format(&f).ok())
        .unwrap_or_else(|| "—".into())
}

fn detail_lines<'a>(state: &State, width: u16) -> Vec<Line<'a>> {
    let t = state.theme();
    let now = state.now;
    let ago = |x: Option<OffsetDateTime>| {
        x.map(|x| {
            format!(
                "{} ({} ago)",
                fmt_time(Some(x)),
                fmt_age((now - x).whole_seconds())
            )
        })
        .unwrap_or_else(|| "—".into())
    };
    match state.tab {
        Tab::Prs => state.prs.selected().map(|p| pr_detail(state, p, width)),
        Tab::Runs => state.runs.selected().map(|r| run_detail(state, r)),
        Tab::Rollouts => state
            .rollouts
            .selected()
            .map(|r| rollout_detail(state, r, width)),
        Tab::Incidents => state.incidents.selected().map(|i| {
            vec![
                Line::from(Span::styled(
                    format!("{} {}", i.short_id, i.title),
                    t.header(),
                )),
                kv(t, "project", i.project.clone()),
                kv(t, "culprit", i.culprit.clone()),
                kv(t, "level", i.level.clone()),
                kv(t, "status", i.status.clone()),
                kv(t, "events", i.count.to_string()),
                kv(t, "users", i.user_count.to_string()),
                kv(t, "first seen", ago(i.first_seen)),
                kv(t, "last seen", ago(i.last_seen)),
                kv(t, "link", i.url.clone()),
            ]
        }),
        Tab::Ai => state.summaries.selected().map(|s| {
            vec![
                Line::from(Span::styled(
                    format!("{} {}", s.kind.label(), s.subject),
                    t.header(),
                )),
                kv(t, "analyzer", s.analyzer.clone()),
                Line::raw(""),
                Line::raw(s.headline.clone()),
            ]
        }),
    }
    .unwrap_or_else(|| vec![Line::from(Span::styled("Nothing selected.", t.muted()))])
}

fn draw_detail(state: &State, frame: &mut Frame, area: Rect) {
    let block = frame_block(
        state,
        Line::from(Span::styled(" Detail ", state.theme().header())),
    );
    frame.render_widget(
        Paragraph::new(detail_lines(state, area.width.saturating_sub(2)))
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn check_style(t: &Theme, s: CheckState) -> Style {
    match s {
        CheckState::Failed => t.danger(),
        CheckState::Pending => t.warn(),
        CheckState::Passed => t.ok(),
        CheckState::Skipped => t.muted(),
    }
}

/// The line that stands in for on-demand data that is not ready.
fn not_ready<'a, T>(t: &Theme, l: Option<&Loadable<T>>) -> Line<'a> {
    match l {
        Some(Loadable::Failed(e)) => {
            Line::from(Span::styled(format!(" could not load: {e}"), t.danger()))
        }
        Some(Loadable::Loading) => Line::from(Span::styled(" loading…", t.muted())),
        Some(Loadable::Ready(_)) | None => {
            Line::from(Span::styled(" (shown with the detail pane)", t.muted()))
        }
    }
}

/// "4m ago", or "—" without a time.
fn ago_text(now: OffsetDateTime, t: Option<OffsetDateTime>) -> String {
    t.map(|x| format!("{} ago", fmt_age((now - x).whole_seconds())))
        .unwrap_or_else(|| "—".into())
}

fn section<'a>(t: &Theme, title: &str) -> Line<'a> {
    Line::from(Span::styled(title.to_string(), t.header()))
}

fn pr_detail<'a>(state: &State, p: &PullRequest, width: u16) -> Vec<Line<'a>> {
    let t = state.theme();
    let now = state.now;
    let ago = |x| ago_text(now, x);
    let mut l = vec![
        Line::from(Span::styled(
            format!("{}#{} {}", p.repo, p.number, p.title),
            t.header(),
        )),
        kv(t, "author", p.author.clone()),
        kv(t, "branch", format!("{} → {}", p.head_ref, p.base_ref)),
        kv(t, "draft", if p.draft { "yes".into() } else { "no".into() }),
        kv(
            t,
            "checks",
            p.checks
                .map(|c| c.label())
                .unwrap_or_else(|| "loading…".into()),
        ),
        kv(
            t,
            "review",
            p.review
                .map(|r| r.label().to_string())
                .unwrap_or_else(|| "loading…".into()),
        ),
        kv(
            t,
            "mergeable",
            p.mergeable.clone().unwrap_or_else(|| "unknown".into()),
        ),
        kv(
            t,
            "size",
            match (p.additions, p.deletions, p.changed_files) {
                (Some(a), Some(d), Some(f)) => format!("+{a} −{d} in {f} files"),
                _ => "loading…".into(),
            },
        ),
        kv(t, "labels", p.labels.join(", ")),
        kv(t, "opened", ago(p.created_at)),
        kv(t, "updated", ago(p.updated_at)),
        kv(t, "link", p.url.clone()),
    ];
    if !p.check_list.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Checks"));
        for c in &p.check_list {
            let head = format!(" {} {:<24} {:<10}", c.state.glyph(), c.name, c.detail);
            let room = (width as usize).saturating_sub(crate::sanitize::width(&head) + 2);
            l.push(Line::from(vec![
                Span::styled(head, check_style(t, c.state)),
                Span::styled(
                    format!("  {}", crate::sanitize::truncate(&c.url, room)),
                    t.muted(),
                ),
            ]));
        }
    }
    if !p.reviews.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Reviews (latest per reviewer)"));
        for r in &p.reviews {
            let style = match r.state.as_str() {
                "APPROVED" => t.ok(),
                "CHANGES_REQUESTED" => t.danger(),
                _ => t.muted(),
            };
            l.push(Line::from(vec![
                Span::raw(format!(" {:<20} ", r.reviewer)),
                Span::styled(r.state.to_lowercase().replace('_', " "), style),
                Span::styled(format!("  {}", ago(r.submitted_at)), t.muted()),
            ]));
        }
    }
    l.push(Line::raw(""));
    l.push(section(t, "Files"));
    let key = format!("{}#{}", p.repo, p.number);
    match state.pr_files.get(&key).map(|(_, f)| f) {
        Some(Loadable::Ready(files)) => {
            let max = files
                .iter()
                .map(|f| f.additions + f.deletions)
                .max()
                .unwrap_or(1)
                .max(1);
            for f in files.iter().take(300) {
                let churn = f.additions + f.deletions;
                let bar = ((churn * 12).div_ceil(max)).min(12) as usize;
                let plus = (bar as u64 * f.additions).checked_div(churn).unwrap_or(0) as usize;
                l.push(Line::from(vec![
                    Span::styled(format!(" {:>5} ", format!("+{}", f.additions)), t.ok()),
                    Span::styled(format!("{:>5} ", format!("−{}", f.deletions)), t.danger()),
                    Span::styled("■".repeat(plus), t.ok()),
                    Span::styled("■".repeat(bar - plus), t.danger()),
                    Span::raw(" ".repeat(13 - bar)),
                    Span::raw(f.filename.clone()),
                    Span::styled(
                        if f.status == "modified" {
                            String::new()
                        } else {
                            format!("  ({})", f.status)
                        },
                        t.muted(),
                    ),
                ]));
            }
        }
        other => l.push(not_ready(t, other)),
    }
    if !p.body.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Description"));
        l.extend(p.body.lines().take(200).map(|s| Line::raw(s.to_string())));
    }
    l
}

fn run_detail<'a>(state: &State, r: &WorkflowRun) -> Vec<Line<'a>> {
    let t = state.theme();
    let now = state.now;
    let ago = |x| ago_text(now, x);
    let mut l = vec![
        Line::from(Span::styled(
            format!("{} · {} #{}", r.repo, r.workflow, r.run_number),
            t.header(),
        )),
        kv(t, "title", r.title.clone()),
        Line::from(vec![
            Span::styled(format!("{:<12}", "status"), t.muted()),
            Span::styled(r.state.label().to_string(), run_style(t, r.state)),
        ]),
        kv(t, "branch", r.branch.clone()),
        kv(t, "commit", r.sha.chars().take(12).collect()),
        kv(t, "event", r.event.clone()),
        kv(t, "actor", r.actor.clone()),
        kv(t, "attempt", r.attempt.to_string()),
        kv(t, "started", ago(r.started_at)),
        kv(t, "updated", ago(r.updated_at)),
        kv(t, "link", r.url.clone()),
    ];
    if !r.pending.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Waiting for approval"));
        for p in &r.pending {
            let env_style = if p.environment.eq_ignore_ascii_case("production") {
                t.production()
            } else {
                t.warn()
            };
            let timer = if p.wait_timer_minutes > 0 {
                format!(", wait timer {} min", p.wait_timer_minutes)
            } else {
                String::new()
            };
            l.push(Line::from(vec![
                Span::styled(format!(" {}", p.environment), env_style),
                Span::styled(
                    format!(
                        "  waiting {}{timer}",
                        p.wait_started_at
                            .map(|w| fmt_age((now - w).whole_seconds()))
                            .unwrap_or_else(|| "—".into())
                    ),
                    t.muted(),
                ),
            ]));
            l.push(kv(
                t,
                "  you",
                if p.can_approve {
                    "can approve (a) or reject (x)".into()
                } else {
                    "cannot approve: not a required reviewer".into()
                },
            ));
            if !p.reviewers.is_empty() {
                l.push(kv(t, "  reviewers", p.reviewers.join(", ")));
            }
        }
    }
    l.push(Line::raw(""));
    l.push(section(t, "Jobs"));
    match state.jobs.get(&r.id).map(|(_, j)| j) {
        Some(Loadable::Ready(jobs)) if jobs.is_empty() => {
            l.push(Line::from(Span::styled(" no jobs", t.muted())))
        }
        Some(Loadable::Ready(jobs)) => {
            for j in jobs {
                l.push(Line::from(vec![
                    Span::styled(format!(" {:<9} ", j.state.label()), run_style(t, j.state)),
                    Span::raw(j.name.clone()),
                ]));
                for st in &j.steps {
                    let failed = st.state == RunState::Failure;
                    let marker = if failed { "  ✗ " } else { "    " };
                    let style = if failed {
                        t.danger()
                    } else {
                        run_style(t, st.state)
                    };
                    l.push(Line::from(vec![
                        Span::styled(marker.to_string(), t.danger()),
                        Span::styled(format!("{:>2}. {}", st.number, st.name), style),
                        Span::styled(
                            if failed {
                                "  ← failed: l shows the log".to_string()
                            } else {
                                String::new()
                            },
                            t.danger(),
                        ),
                    ]));
                }
            }
        }
        other => l.push(not_ready(t, other)),
    }
    l
}

fn rollout_detail<'a>(state: &State, r: &ServiceRollout, width: u16) -> Vec<Line<'a>> {
    let t = state.theme();
    let now = state.now;
    let mut l = vec![Line::from(Span::styled(
        format!("{} in {}", r.name, r.environment),
        if r.production {
            t.production()
        } else {
            t.header()
        },
    ))];
    l.push(kv(t, "slices", slice_strip(r)));
    l.push(kv(
        t,
        "weight",
        r.weight
            .map(|w| format!("{w:.1} %"))
            .unwrap_or_else(|| "no data".into()),
    ));
    if let Some(e) = &r.weight_error {
        l.push(Line::from(Span::styled(
            format!("weight query: {e}"),
            t.danger(),
        )));
    }
    l.push(kv(
        t,
        "in slice",
        r.slice_since
            .map(|s| {
                format!(
                    "{} (within the lookback window)",
                    fmt_age((now - s).whole_seconds())
                )
            })
            .unwrap_or_else(|| "—".into()),
    ));
    if let Some(tr) = r.traffic {
        l.push(kv(t, "traffic", format!("{tr:.1} req/s")));
    }
    match state.held_run(r) {
        Some(run) => l.push(Line::from(vec![
            Span::styled(format!("{:<12}", "approval"), t.muted()),
            Span::styled(
                format!(
                    "{} #{} waits for {} — a approves, x rejects",
                    run.workflow, run.run_number, r.environment
                ),
                t.warn(),
            ),
        ])),
        None => l.push(kv(t, "approval", "nothing waits".into())),
    }
    let auto = state.autopilot || r.autopilot;
    l.push(kv(
        t,
        "autopilot",
        if auto && !state.read_only {
            "on: approves on PROCEED (promote band), rolls back on ROLLBACK".into()
        } else if auto {
            "off in read-only".into()
        } else {
            "off".into()
        },
    ));
    for w in &r.warnings {
        l.push(Line::from(Span::styled(
            format!("Prometheus warning: {w}"),
            t.warn(),
        )));
    }
    l.push(Line::raw(""));
    let j = state.judgement(&r.name);
    if let Some(j) = j {
        l.push(Line::from(vec![
            Span::styled(
                format!(" {} ", j.verdict.label()),
                verdict_style(t, j.verdict).add_modifier(ratatui::style::Modifier::REVERSED),
            ),
            Span::raw("  "),
            Span::styled(
                format!(
                    "promotion confidence {:.2} — {} (promote ≥ {:.2}, review ≥ {:.2})",
                    j.score,
                    j.band.label(),
                    j.policy.promote_at,
                    j.policy.review_at
                ),
                band_style(t, j.band),
            ),
        ]));
        for reason in &j.reasons {
            l.push(Line::from(vec![
                Span::styled(" • ", t.muted()),
                Span::raw(reason.clone()),
            ]));
        }
        l.push(Line::raw(""));
    }
    let spark_w = (width as usize).saturating_sub(16).clamp(8, 60);
    for m in &r.metrics {
        let mj = j.and_then(|j| j.metrics.iter().find(|x| x.name == m.name));
        let style = match mj.map(|x| x.outcome) {
            Some(MetricOutcome::Pass) => t.ok(),
            Some(MetricOutcome::Worse | MetricOutcome::Breach) => t.danger(),
            Some(_) => t.warn(),
            None => t.muted(),
        };
        let glyph = mj.map(|x| outcome_glyph(x.outcome)).unwrap_or("?");
        l.push(Line::from(vec![
            Span::styled(
                format!("{glyph} {}", m.name),
                style.add_modifier(ratatui::style::Modifier::BOLD),
            ),
            Span::styled(
                mj.map(|x| format!("  {}", x.outcome.label()))
                    .unwrap_or_default(),
                style,
            ),
        ]));
        let bound = match (m.min, m.max) {
            (Some(lo), Some(hi)) => format!(
                "between {} and {}",
                fmt_metric(&m.name, Some(lo)),
                fmt_metric(&m.name, Some(hi))
            ),
            (None, Some(hi)) => format!("max {}", fmt_metric(&m.name, Some(hi))),
            (Some(lo), None) => format!("min {}", fmt_metric(&m.name, Some(lo))),
            (None, None) => "no bound".into(),
        };
        l.push(kv(
            t,
            "  values",
            format!(
                "canary {} · baseline {} · {bound}",
                fmt_metric(&m.name, m.canary),
                fmt_metric(&m.name, m.baseline)
            ),
        ));
        let finite = m
            .canary_samples
            .iter()
            .chain(m.baseline_samples.iter())
            .copied()
            .filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if lo.is_finite() {
            l.push(Line::from(vec![
                Span::styled(format!("{:<12}", "  canary"), t.muted()),
                Span::styled(spark(&m.canary_samples, lo, hi, spark_w), style),
            ]));
            l.push(Line::from(vec![
                Span::styled(format!("{:<12}", "  baseline"), t.muted()),
                Span::styled(spark(&m.baseline_samples, lo, hi, spark_w), t.muted()),
            ]));
        }
        // The metric's reason, unless it is already among the verdict's reasons above.
        if let Some(x) = mj
            && !j.is_some_and(|j| j.reasons.contains(&x.reason))
        {
            l.push(Line::from(vec![
                Span::styled(format!("{:<12}", "  judge"), t.muted()),
                Span::raw(x.reason.clone()),
            ]));
        }
        if let Some(e) = &m.error {
            l.push(Line::from(Span::styled(
                format!("  error: {e}"),
                t.danger(),
            )));
        }
    }
    let log: Vec<&(OffsetDateTime, String)> = state
        .autopilot_log
        .iter()
        .filter(|(_, n)| n.contains(&format!(" {} ", r.name)))
        .collect();
    if !log.is_empty() {
        l.push(Line::raw(""));
        l.push(section(t, "Autopilot decisions"));
        for (at, n) in log.iter().rev().take(10) {
            l.push(Line::from(vec![
                Span::styled(
                    format!(" {} ago  ", fmt_age((now - *at).whole_seconds())),
                    t.muted(),
                ),
                Span::raw(n.clone()),
            ]));
        }
    }
    l
}
