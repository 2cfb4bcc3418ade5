//! The confirmation of a remote change: the exact target, the comment, the word to type when one
//! is required, and the buttons with "No" first. Sized to the screen; production is loud.

use super::centered;
use crate::app::change::{Confirm, Focus};
use crate::app::layout::inset;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

/// What the keys do with the current focus.
pub fn hint(c: &Confirm) -> &'static str {
    match c.focus {
        Focus::Typed => "type the word · enter or tab moves on · esc cancels",
        Focus::Comment => {
            "type the comment · enter or tab moves to the buttons · alt-enter new line · esc cancels"
        }
        Focus::No | Focus::Yes => {
            "←/→ choose · enter on Yes sends · tab back to the fields · esc or n cancels · every change is audited"
        }
    }
}

pub fn draw(t: &Theme, frame: &mut Frame, area: Rect, c: &Confirm) {
    let prod = c.change.production();
    let width = 76.min(area.width.saturating_sub(2)).max(area.width.min(24));
    let inner_w = width.saturating_sub(2);
    let rows = c.change.target_rows();
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
    let info = Paragraph::new(lines).wrap(Wrap { trim: false });
    let info_h = info.line_count(inner_w) as u16;
    let hint =
        Paragraph::new(Span::styled(format!(" {}", hint(c)), t.muted())).wrap(Wrap { trim: true });
    let hint_h = hint.line_count(inner_w) as u16;
    let comment_h: u16 = if c.comment.is_some() { 5 } else { 0 };
    let typed_h: u16 = if c.require.is_some() { 3 } else { 0 };
    let height = info_h + 1 + comment_h + typed_h + 2 + hint_h + 2;
    let rect = centered(area, width, height);
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
        .title(Span::styled(format!(" {} ", c.change.title()), t.header()))
        .style(t.base());
    if prod {
        block = block.title_bottom(Line::from(Span::styled(" PRODUCTION ", t.production())));
    }
    frame.render_widget(block, rect);
    let [info_area, comment, typed, buttons, hint_area] = Layout::vertical([
        Constraint::Length(info_h + 1),
        Constraint::Length(comment_h),
        Constraint::Length(typed_h),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inset(rect));
    frame.render_widget(info, info_area);
    if let Some((word, why)) = &c.require {
        let focused = c.focus == Focus::Typed;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if focused { t.accent() } else { t.border() })
            .title(format!(" {why}: type \"{word}\" "));
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw(c.typed.clone()),
                Span::styled(if focused { "▏" } else { "" }, t.accent()),
                Span::styled(if c.armed() { "  ✓" } else { "" }, t.ok()),
            ]))
            .block(block),
            typed,
        );
    }
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
                button(c.change.yes_label(), c.focus == Focus::Yes)
            } else {
                Span::styled(format!("[ {} ]", c.change.yes_label()), t.muted())
            },
        ]),
        buttons,
    );
    frame.render_widget(hint, hint_area);
}
