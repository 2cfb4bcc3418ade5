//! The generic table: title with counts and filter, the empty / loading / error notices, the rows
//! on screen (and only those), filter highlights, sort arrows, grouping. Which columns fit is
//! decided by each column's priority, so the ones that identify a row and the verdicts stay.

use super::tabs::{Col, view};
use super::text::highlighted;
use super::theme::Theme;
use crate::app::filter::Query;
use crate::app::{State, TabStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Cell, Paragraph, Row, Table, Wrap};

/// The columns that fit in `width`, in display order: the lowest-priority column goes first
/// (the rightmost among equals) until the rest fit with their spacing.
pub fn fit(cols: &[Col], width: u16) -> Vec<usize> {
    let min = |c: &Col| match c.width {
        Constraint::Length(n) | Constraint::Min(n) => n,
        _ => c.min,
    };
    let mut shown: Vec<usize> = (0..cols.len()).collect();
    loop {
        let total: u16 = shown.iter().map(|&i| min(&cols[i])).sum::<u16>()
            + shown.len().saturating_sub(1) as u16;
        if total <= width || shown.len() <= 1 {
            return shown;
        }
        let drop = shown
            .iter()
            .enumerate()
            .min_by(|a, b| cols[*a.1].keep.cmp(&cols[*b.1].keep).then(b.0.cmp(&a.0)))
            .map(|(pos, _)| pos)
            .unwrap_or(0);
        shown.remove(drop);
    }
}

/// The table's frame: thick and in the danger colour when the selected row acts on production.
pub fn frame_block<'a>(state: &State, theme: &Theme, title: Line<'a>) -> Block<'a> {
    let mut b = Block::default().borders(Borders::ALL).title(title);
    if state.production_focus() {
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

pub fn draw_table(state: &State, theme: &Theme, frame: &mut Frame, area: Rect, rows_area: Rect) {
    let tab = state.tab;
    let list = state.list(tab);
    let table = state.table(tab);
    let total = table.len();
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
    let block = frame_block(state, theme, Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let noun = tab.noun();
    let notice: Option<(String, Style)> = match state.tab_status(tab) {
        TabStatus::NotConfigured(what) => Some((
            format!(
                "{} is not configured: add {what} to the config file.\n`flightdeck config init` writes a commented template; `flightdeck demo` shows a simulated release.",
                tab.source().map(|s| s.label()).unwrap_or("No source")
            ),
            theme.muted(),
        )),
        TabStatus::Loading => Some((format!("Loading {noun}…"), theme.muted())),
        TabStatus::Error(e) => Some((
            format!(
                "Could not load {noun}: {e}\nRetrying on its own with backoff · r retries now · ! shows the error history"
            ),
            theme.danger(),
        )),
        TabStatus::Ready if total == 0 => Some((format!("No {noun}."), theme.muted())),
        TabStatus::Ready if list.view.is_empty() => Some((
            format!("No {noun} match /{} — esc clears the filter.", list.filter),
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

    let v = view(tab);
    let cols = v.columns();
    let shown = fit(cols, inner.width);
    let height = rows_area.height as usize;
    let offset = list.visible_offset(height);
    let q = Query::new(&list.filter);
    let group_col = v.group_column();
    let end = (offset + height).min(list.view.len());
    let widths: Vec<Constraint> = shown.iter().map(|&c| cols[c].width).collect();
    // The widths the table will give its columns (as `Table` lays them out: from the start, a
    // space between): a cell longer than its column ends in "…" rather than cut mid-word.
    let col_widths: Vec<usize> = Layout::horizontal(widths.clone())
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, inner.width, 1))
        .iter()
        .map(|r| usize::from(r.width))
        .collect();
    let rows: Vec<Row> = (offset..end)
        .map(|pos| {
            let i = list.view[pos] as usize;
            let mut cells: Vec<Option<(String, Style)>> =
                v.cells(state, theme, i).into_iter().map(Some).collect();
            // Grouped: the group's name only on its first row.
            let repeat = list.grouped
                && pos > 0
                && table.group_of(list.view[pos - 1] as usize) == table.group_of(i);
            let row = Row::new(shown.iter().enumerate().map(|(k, &c)| {
                let (text, style) = cells.get_mut(c).and_then(Option::take).unwrap_or_default();
                let text = if repeat && c == group_col {
                    String::new()
                } else {
                    match col_widths.get(k) {
                        Some(&w) => crate::sanitize::truncate(&text, w),
                        None => text,
                    }
                };
                if cols[c].highlight && !q.is_empty() {
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
    let names = table.columns();
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
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use Constraint::{Fill, Length};

    const fn col(width: Constraint, keep: u8) -> Col {
        Col::new(width, keep)
    }

    #[test]
    fn low_priority_columns_go_first_and_the_rest_fit() {
        let cols = [
            col(Length(12), 9),
            col(Length(8), 2),
            col(Fill(1), 8),
            col(Length(9), 9),
        ];
        assert_eq!(fit(&cols, 200), vec![0, 1, 2, 3]);
        // 12 + 8 + 10 + 9 + 3 = 42: one column less at 41.
        assert_eq!(fit(&cols, 42), vec![0, 1, 2, 3]);
        assert_eq!(fit(&cols, 41), vec![0, 2, 3]);
        assert_eq!(fit(&cols, 22), vec![0, 3]);
        assert_eq!(fit(&cols, 5), vec![0]);
    }
}
