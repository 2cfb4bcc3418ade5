//! The five tables, their empty/loading/error states, and the detail pane.

use super::{fmt_age, fmt_age_coarse};
use crate::app::filter::Query;
use crate::app::{ListState, State, Tab, TabStatus};
use crate::domain::{Incident, PullRequest, RunState, ServiceRollout, Summary, WorkflowRun};
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

struct Columns {
    header: &'static [&'static str],
    widths: Vec<Constraint>,
    /// Index of the main text column, where filter matches are highlighted.
    highlight: &'static [usize],
}

fn columns(tab: Tab) -> Columns {
    use Constraint::{Fill, Length};
    match tab {
        Tab::Prs => Columns {
            header: &["Repo", "#", "Title", "Author", "Age", "Labels"],
            widths: vec![
                Length(14),
                Length(6),
                Fill(4),
                Length(12),
                Length(4),
                Fill(1),
            ],
            highlight: &[0, 2, 3],
        },
        Tab::Runs => Columns {
            header: &[
                "Repo", "Workflow", "Branch", "Event", "Actor", "Status", "Try", "Started", "Took",
            ],
            widths: vec![
                Length(16),
                Fill(2),
                Fill(2),
                Length(12),
                Length(12),
                Length(9),
                Length(3),
                Length(7),
                Length(7),
            ],
            highlight: &[0, 1, 2, 4],
        },
        Tab::Rollouts => Columns {
            header: &[
                "Service",
                "Environment",
                "Slices",
                "Weight",
                "Metrics (canary / baseline, bound)",
                "Health",
            ],
            widths: vec![
                Length(12),
                Length(12),
                Length(16),
                Length(6),
                Fill(1),
                Length(8),
            ],
            highlight: &[0, 1],
        },
        Tab::Incidents => Columns {
            header: &[
                "Project", "Issue", "Title", "Culprit", "Level", "Events", "Users", "First", "Last",
            ],
            widths: vec![
                Length(10),
                Length(14),
                Fill(3),
                Fill(2),
                Length(7),
                Length(7),
                Length(5),
                Length(5),
                Length(5),
            ],
            highlight: &[0, 1, 2, 3],
        },
        Tab::Ai => Columns {
            header: &["Kind", "Subject", "Summary", "By"],
            widths: vec![Length(8), Length(26), Fill(1), Length(8)],
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

/// "10 ▸ 25 ▸[50]▸ 100": the slice plan with the current weight.
pub fn slice_strip(r: &ServiceRollout) -> String {
    let current = r.weight.map(|w| w.round() as i64);
    let mut parts = Vec::new();
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

fn rollout_health(r: &ServiceRollout) -> (&'static str, u8) {
    if r.metrics.iter().any(|m| m.breached() == Some(true)) {
        ("BREACH", 2)
    } else if r.metrics.is_empty() || r.metrics.iter().any(|m| m.canary.is_none()) {
        ("NO DATA", 1)
    } else {
        ("OK", 0)
    }
}

fn cells_pr(state: &State, p: &PullRequest) -> Vec<(String, Style)> {
    let t = state.theme();
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
        (r.state.label().into(), run_style(t, r.state)),
        (r.attempt.to_string(), t.muted()),
        (age(state.now, r.started_at), t.muted()),
        (took, t.muted()),
    ]
}

fn cells_rollout(state: &State, r: &ServiceRollout) -> Vec<(String, Style)> {
    let t = state.theme();
    let metrics: Vec<String> = r
        .metrics
        .iter()
        .map(|m| {
            let glyph = match m.breached() {
                Some(true) => "✗",
                Some(false) => "✓",
                None => "?",
            };
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
    let (health, level) = rollout_health(r);
    let hstyle = match level {
        2 => t.danger(),
        1 => t.warn(),
        _ => t.ok(),
    };
    let env_style = if r.production {
        t.production()
    } else {
        Style::default()
    };
    vec![
        (r.name.clone(), t.accent()),
        (r.environment.clone(), env_style),
        (slice_strip(r), Style::default()),
        (
            r.weight
                .map(|w| format!("{w:.0}%"))
                .unwrap_or_else(|| "—".into()),
            Style::default(),
        ),
        (metrics.join("  "), Style::default()),
        (health.into(), hstyle),
    ]
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
    let total = match tab {
        Tab::Prs => state.prs.items.len(),
        Tab::Runs => state.runs.items.len(),
        Tab::Rollouts => state.rollouts.items.len(),
        Tab::Incidents => state.incidents.items.len(),
        Tab::Ai => state.summaries.items.len(),
    };
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
    let height = inner.height.saturating_sub(1) as usize;
    let offset = visible_offset(list, height);
    let q = Query::new(&list.filter);
    let rows: Vec<Row> = list.view[offset..(offset + height).min(list.view.len())]
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let i = i as usize;
            let cells = match tab {
                Tab::Prs => cells_pr(state, &state.prs.items[i]),
                Tab::Runs => cells_run(state, &state.runs.items[i]),
                Tab::Rollouts => cells_rollout(state, &state.rollouts.items[i]),
                Tab::Incidents => cells_incident(state, &state.incidents.items[i]),
                Tab::Ai => cells_summary(state, &state.summaries.items[i]),
            };
            let selected = offset + n == list.selected;
            let row = Row::new(cells.into_iter().enumerate().map(|(c, (text, style))| {
                if cols.highlight.contains(&c) && !q.is_empty() {
                    Cell::from(Line::from(highlighted(&text, &q, style, theme.matched())))
                } else {
                    Cell::from(Span::styled(text, style))
                }
            }));
            if selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(cols.header.iter().map(|h| Cell::from(*h))).style(theme.header());
    frame.render_widget(
        Table::new(rows, cols.widths)
            .header(header)
            .column_spacing(1),
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

fn detail_lines<'a>(state: &State) -> Vec<Line<'a>> {
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
        Tab::Prs => state.prs.selected().map(|p| {
            let mut l = vec![
                Line::from(Span::styled(
                    format!("{}#{} {}", p.repo, p.number, p.title),
                    t.header(),
                )),
                kv(t, "author", p.author.clone()),
                kv(t, "branch", format!("{} → {}", p.head_ref, p.base_ref)),
                kv(t, "draft", if p.draft { "yes".into() } else { "no".into() }),
                kv(t, "labels", p.labels.join(", ")),
                kv(t, "opened", ago(p.created_at)),
                kv(t, "updated", ago(p.updated_at)),
                kv(t, "link", p.url.clone()),
                Line::raw(""),
            ];
            l.extend(p.body.lines().take(200).map(|s| Line::raw(s.to_string())));
            l
        }),
        Tab::Runs => state.runs.selected().map(|r| {
            vec![
                Line::from(Span::styled(
                    format!("{} · {} #{}", r.repo, r.workflow, r.run_number),
                    t.header(),
                )),
                kv(t, "title", r.title.clone()),
                kv(t, "status", r.state.label().into()),
                kv(t, "branch", r.branch.clone()),
                kv(t, "commit", r.sha.chars().take(12).collect()),
                kv(t, "event", r.event.clone()),
                kv(t, "actor", r.actor.clone()),
                kv(t, "attempt", r.attempt.to_string()),
                kv(t, "started", ago(r.started_at)),
                kv(t, "updated", ago(r.updated_at)),
                kv(t, "link", r.url.clone()),
            ]
        }),
        Tab::Rollouts => state.rollouts.selected().map(|r| {
            let mut l = vec![
                Line::from(Span::styled(
                    format!("{} in {}", r.name, r.environment),
                    t.header(),
                )),
                kv(
                    t,
                    "production",
                    if r.production {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                ),
                kv(t, "slices", slice_strip(r)),
                kv(
                    t,
                    "weight",
                    r.weight
                        .map(|w| format!("{w:.1} %"))
                        .unwrap_or_else(|| "no data".into()),
                ),
            ];
            if let Some(e) = &r.weight_error {
                l.push(Line::from(Span::styled(
                    format!("weight query: {e}"),
                    t.danger(),
                )));
            }
            l.push(Line::raw(""));
            for m in &r.metrics {
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
                let style = match m.breached() {
                    Some(true) => t.danger(),
                    Some(false) => t.ok(),
                    None => t.warn(),
                };
                l.push(Line::from(Span::styled(m.name.clone(), style)));
                l.push(kv(t, "  canary", fmt_metric(&m.name, m.canary)));
                l.push(kv(t, "  baseline", fmt_metric(&m.name, m.baseline)));
                l.push(kv(t, "  bound", bound));
                if let Some(e) = &m.error {
                    l.push(Line::from(Span::styled(
                        format!("  error: {e}"),
                        t.danger(),
                    )));
                }
            }
            l
        }),
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
        Paragraph::new(detail_lines(state))
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
