//! The confirmation modal of remote changes and the failed-log view.

use crate::analysis::ci_log::{LineKind, Triage};
use crate::app::ops::{Confirm, Focus};
use crate::app::{Loadable, LogView, State};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn draw_confirm(state: &State, frame: &mut Frame, area: Rect, c: &Confirm) {
    let t = state.theme();
    let prod = c.op.production();
    let rows = c.op.target_rows();
    let comment_h: u16 = if c.comment.is_some() { 5 } else { 0 };
    let typed_h: u16 = if c.require.is_some() { 3 } else { 0 };
    let height = rows.len() as u16 + comment_h + typed_h + 8;
    let rect = centered(area, 76, height);
    frame.render_widget(Clear, rect);
    let border = if prod { t.production() } else { t.accent() };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_type(if prod {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(border)
        .title(Span::styled(format!(" {} ", c.op.title()), t.header()))
        .style(t.base());
    if prod {
        block = block.title_bottom(Line::from(Span::styled(" PRODUCTION ", t.production())));
    }
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [info, comment, typed, buttons, hint] = Layout::vertical([
        Constraint::Length(rows.len() as u16 + 1),
        Constraint::Length(comment_h),
        Constraint::Length(typed_h),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner);
    if let Some((word, why)) = &c.require {
        let focused = c.focus == Focus::Typed;
        let ok = c.armed();
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if focused { t.accent() } else { t.border() })
            .title(format!(" {why}: type \"{word}\" "));
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw(c.typed.clone()),
                Span::styled(if focused { "▏" } else { "" }, t.accent()),
                Span::styled(if ok { "  ✓" } else { "" }, t.ok()),
            ]))
            .block(block),
            typed,
        );
    }
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, v)| {
            let style = if k == "note" || (k == "environment" && prod) {
                t.danger()
            } else {
                Style::default()
            };
            Line::from(vec![
                Span::styled(format!(" {k:<12}"), t.muted()),
                Span::styled(v, style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), info);
    if let Some(area_text) = &c.comment {
        let mut ta = area_text.clone();
        let focused = c.focus == Focus::Comment;
        ta.set_block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(if focused { t.accent() } else { t.border() })
                .title(" Comment (sent with the review) "),
        );
        ta.set_cursor_line_style(Style::default());
        ta.set_cursor_style(if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        });
        frame.render_widget(&ta, comment);
    }
    let button = |label: &str, focus: bool| {
        Span::styled(
            format!("[ {label} ]"),
            if focus {
                t.selected()
            } else {
                Style::default()
            },
        )
    };
    frame.render_widget(
        Line::from(vec![
            Span::raw(" "),
            button("No", c.focus == Focus::No),
            Span::raw("   "),
            if c.armed() {
                button(c.op.yes_label(), c.focus == Focus::Yes)
            } else {
                Span::styled(format!("[ {} ]", c.op.yes_label()), t.muted())
            },
        ]),
        buttons.inner(ratatui::layout::Margin::new(0, 0)),
    );
    frame.render_widget(
        Paragraph::new(Span::styled(
            " tab moves focus · enter on Yes sends · esc or n cancels · every change is audited",
            t.muted(),
        ))
        .wrap(Wrap { trim: true }),
        hint,
    );
}

/// Rows of the "lines that matter" section: (line index into the log, is anchor) or a header.
enum Row {
    Header(String),
    Line(usize, bool),
    Blank,
}

fn excerpt_rows(tr: &Triage) -> Vec<Row> {
    let mut rows = Vec::new();
    if let Some(s) = &tr.summary {
        rows.push(Row::Header(format!("First failure: {s}")));
        rows.push(Row::Blank);
    }
    if tr.excerpts.is_empty() {
        rows.push(Row::Header(
            "No failure lines found; the whole log follows.".into(),
        ));
    }
    for e in &tr.excerpts {
        let again = if e.repeats > 0 {
            format!(" (and {} more time(s) later)", e.repeats)
        } else {
            String::new()
        };
        rows.push(Row::Header(format!(
            "▶ {} at line {}{again}",
            e.reason,
            e.anchor + 1
        )));
        for i in e.start..e.end.min(tr.lines.len()) {
            rows.push(Row::Line(i, i == e.anchor));
        }
        rows.push(Row::Blank);
    }
    rows.push(Row::Header(format!("Full log ({} lines)", tr.lines.len())));
    rows
}

fn log_line<'a>(t: &Theme, tr: &Triage, i: usize, anchor: bool) -> Line<'a> {
    let l = &tr.lines[i];
    let style = match (anchor, l.kind) {
        (true, _) | (_, LineKind::Error) => t.danger(),
        (_, LineKind::Warning) => t.warn(),
        (_, LineKind::GroupStart) => t.header(),
        (_, LineKind::Command) => t.accent(),
        (_, LineKind::Debug) => t.muted(),
        _ => Style::default(),
    };
    let text = if l.kind == LineKind::GroupStart {
        format!("▸ {}", l.text)
    } else {
        l.text.clone()
    };
    Line::from(vec![
        Span::styled(format!("{:>6} │ ", i + 1), t.muted()),
        Span::styled(text, style),
    ])
}

pub fn draw_log(state: &State, frame: &mut Frame, area: Rect, log: &LogView) {
    let t = state.theme();
    let job = log
        .job
        .as_ref()
        .map(|(_, n)| format!(" · job {n}"))
        .unwrap_or_default();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(t.accent())
        .title(Span::styled(
            format!(" Log · {}{job} ", log.title),
            t.header(),
        ))
        .title_bottom(Line::from(Span::styled(
            " j/k scroll · pgup/pgdn · g/G · r reload · esc closes ",
            t.muted(),
        )))
        .style(t.base());
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let tr = match &log.content {
        Loadable::Loading => {
            let what = if log.job.is_some() {
                "Downloading the job's log…"
            } else {
                "Listing the run's jobs…"
            };
            frame.render_widget(Paragraph::new(Span::styled(what, t.muted())), inner);
            return;
        }
        Loadable::Failed(e) => {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    format!("Could not load the log: {e}"),
                    t.danger(),
                ))
                .wrap(Wrap { trim: true }),
                inner,
            );
            return;
        }
        Loadable::Ready(tr) => tr,
    };
    let head = excerpt_rows(tr);
    let total = head.len() + tr.lines.len();
    let h = inner.height as usize;
    let start = log.scroll.min(total.saturating_sub(h));
    let lines: Vec<Line> = (start..(start + h).min(total))
        .map(|r| {
            if r < head.len() {
                match &head[r] {
                    Row::Header(s) => Line::from(Span::styled(s.clone(), t.header())),
                    Row::Line(i, anchor) => log_line(t, tr, *i, *anchor),
                    Row::Blank => Line::raw(""),
                }
            } else {
                log_line(t, tr, r - head.len(), false)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
