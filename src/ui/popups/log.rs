//! The failed-log view: the lines that matter (excerpts around each failure), then the whole log.
//! Its rows come from `app::logview`, the same rows `update` scrolls over.

use crate::analysis::ci_log::{LineKind, Triage};
use crate::app::Loadable;
use crate::app::layout::inset;
use crate::app::logview::{LogRow, LogView, excerpt_rows};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

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

pub fn draw(t: &Theme, frame: &mut Frame, area: Rect, log: &LogView) {
    let job = log
        .job
        .as_ref()
        .map(|(_, n)| format!(" · job {n}"))
        .unwrap_or_default();
    let inner = inset(area);
    let h = inner.height as usize;
    let total = log.total_rows();
    let start = log.scroll.min(log.max_scroll(h));
    let position = if total > h {
        format!(
            " rows {}–{} of {total} ·",
            start + 1,
            (start + h).min(total)
        )
    } else {
        String::new()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(t.accent())
        .title(Span::styled(
            format!(" Log · {}{job} ", log.title),
            t.header(),
        ))
        .title_bottom(Line::from(Span::styled(
            format!("{position} j/k scroll · pgup/pgdn · g/G · r reload · esc closes "),
            t.muted(),
        )))
        .style(t.base());
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
    let lines: Vec<Line> = (start..(start + h).min(total))
        .map(|r| {
            if r < head.len() {
                match &head[r] {
                    LogRow::Header(s) => Line::from(Span::styled(s.clone(), t.header())),
                    LogRow::Line(i, anchor) => log_line(t, tr, *i, *anchor),
                    LogRow::Blank => Line::raw(""),
                }
            } else {
                log_line(t, tr, r - head.len(), false)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
