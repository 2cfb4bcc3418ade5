//! Small builders of styled lines shared by the tab views and popups.

use super::theme::Theme;
use crate::app::filter::Query;
use crate::app::keymap::{Action, Keymap};
use crate::fmt::{fmt_age, fmt_age_coarse};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
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

/// "key     value" with the key muted.
pub fn kv<'a>(theme: &Theme, k: &str, v: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{k:<12}"), theme.muted()),
        Span::raw(v),
    ])
}

pub fn section<'a>(t: &Theme, title: &str) -> Line<'a> {
    Line::from(Span::styled(title.to_string(), t.header()))
}

/// A table cell's age: "now", "12m", or "—" without a time.
pub fn age(now: OffsetDateTime, t: Option<OffsetDateTime>) -> String {
    t.map(|t| fmt_age_coarse((now - t).whole_seconds()))
        .unwrap_or_else(|| "—".into())
}

/// "4m ago", or "—" without a time.
pub fn ago_text(now: OffsetDateTime, t: Option<OffsetDateTime>) -> String {
    t.map(|x| format!("{} ago", fmt_age((now - x).whole_seconds())))
        .unwrap_or_else(|| "—".into())
}

/// "2026-11-23 09:30:00 UTC (4m ago)".
pub fn time_and_age(now: OffsetDateTime, t: Option<OffsetDateTime>) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.and_then(|x| {
        x.format(&f)
            .ok()
            .map(|s| format!("{s} ({} ago)", fmt_age((now - x).whole_seconds())))
    })
    .unwrap_or_else(|| "—".into())
}

/// "12m05s", "1h02m".
pub fn duration(secs: i64) -> String {
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// An action's first live key, for hints ("" when it has none).
pub fn first_key(keymap: &Keymap, a: Action) -> String {
    keymap.first_key(a).unwrap_or_default()
}
