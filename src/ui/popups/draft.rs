//! The regression-test editor: what was drafted and where it goes, the test file, the PR's title
//! and body — each an editable field; the focused one has the accent border and the cursor.

use crate::app::draft::{DraftEditor, DraftFocus};
use crate::app::layout::inset;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

pub const HINT: &str =
    "tab next field · ctrl-s open the PR (asks first) · ctrl-r draft anew · esc close (kept for T)";

pub fn draw(t: &Theme, frame: &mut Frame, area: Rect, e: &DraftEditor) {
    let rect = area;
    frame.render_widget(Clear, rect);
    let d = &e.draft;
    let title = format!(" Regression test for {} ", d.short_id);
    frame.render_widget(
        Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(t.accent())
            .title(Span::styled(title, t.header()))
            .style(t.base()),
        rect,
    );
    let inner = inset(rect);
    let pr = match d.existing_pr {
        Some(n) => format!("updates PR #{n}"),
        None if d.branch_exists => "branch exists, no PR yet".into(),
        None => "new draft PR".into(),
    };
    let mut info = vec![Line::from(vec![
        Span::styled(" to ", t.muted()),
        Span::raw(format!("{} {}", d.repo, d.path)),
        Span::styled(format!("  on {}  ", d.branch), t.muted()),
        Span::raw(pr),
    ])];
    info.push(Line::from(vec![
        Span::styled(" test ", t.muted()),
        if d.reproduces {
            Span::styled(
                format!(
                    "{}: reproduces the crash with the event's values",
                    d.language
                ),
                t.ok(),
            )
        } else {
            Span::styled(
                format!(
                    "{}: skeleton, skipped — the event has no arguments to rebuild",
                    d.language
                ),
                t.warn(),
            )
        },
    ]));
    for n in d.notes.iter().take(3) {
        info.push(Line::from(vec![
            Span::styled(" note ", t.muted()),
            Span::raw(n.clone()),
        ]));
    }
    let info = Paragraph::new(info).wrap(Wrap { trim: false });
    let info_h = (info.line_count(inner.width) as u16)
        .min(inner.height / 4)
        .max(1);
    let body_h: u16 = if inner.height > 24 { 8 } else { 5 };
    let [info_area, file_area, title_area, body_area, hint_area] = Layout::vertical([
        Constraint::Length(info_h),
        Constraint::Min(3),
        Constraint::Length(3),
        Constraint::Length(body_h),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(info, info_area);
    field(
        t,
        frame,
        file_area,
        &e.file,
        " Test file ",
        e.focus == DraftFocus::File,
    );
    field(
        t,
        frame,
        title_area,
        &e.title,
        " PR title ",
        e.focus == DraftFocus::Title,
    );
    field(
        t,
        frame,
        body_area,
        &e.body,
        " PR body ",
        e.focus == DraftFocus::Body,
    );
    frame.render_widget(
        Paragraph::new(Span::styled(format!(" {HINT}"), t.muted())),
        hint_area,
    );
}

fn field(
    t: &Theme,
    frame: &mut Frame,
    area: Rect,
    ta: &TextArea<'static>,
    name: &str,
    focused: bool,
) {
    let mut ta = ta.clone();
    ta.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(if focused { t.accent() } else { t.border() })
            .title(name.to_string()),
    );
    ta.set_cursor_line_style(Style::default());
    ta.set_cursor_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    });
    frame.render_widget(&ta, area);
}
