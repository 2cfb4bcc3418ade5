//! Untrusted text (titles, branch names, logs, LLM output) on its way to the terminal.
//!
//! Everything that came from outside goes through [`clean`] before it is stored for display: escape
//! sequences (CSI, OSC, DCS, …) are removed whole, C0/C1 control characters are dropped (tabs and
//! newlines become spaces on single-line text) and bidirectional overrides are dropped so text cannot
//! reorder what the operator reads.

use unicode_width::UnicodeWidthChar;

/// Strip escape sequences and control characters; line breaks and tabs become single spaces.
pub fn clean(input: &str) -> String {
    clean_inner(input, false)
}

/// Like [`clean`] but keeps `\n` (for multi-line bodies such as PR descriptions and logs).
pub fn clean_multiline(input: &str) -> String {
    clean_inner(input, true)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn clean_inner(input: &str, keep_newlines: bool) -> String {
    // Fast path: nothing to do for plain printable text.
    if input
        .chars()
        .all(|c| !c.is_control() && !is_bidi_control(c))
    {
        return input.to_string();
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS / APC / PM / SOS introducers: skip their sequences too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string(&mut chars),
            '\n' if keep_newlines => out.push('\n'),
            '\r' if keep_newlines => {}
            '\n' | '\r' | '\t' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => skip_string(chars),
        // Two-character escapes (ESC c, ESC 7, ESC ( B …): drop the intermediate bytes and the final byte.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while let Some(&n) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&n) {
                    break;
                }
            }
        }
        _ => {}
    }
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // Parameters and intermediates, then one final byte in 0x40..=0x7e.
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            break;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // Ends at BEL, ST (ESC \) or C1 ST.
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// Display width of a string in terminal cells.
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Truncate to at most `max` cells, ending with `…` when cut. Never splits a wide character.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_and_osc() {
        assert_eq!(clean("\u{1b}[31mred\u{1b}[0m text"), "red text");
        assert_eq!(clean("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(
            clean("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "alink"
        );
        assert_eq!(clean("x\u{9b}2Jy"), "xy");
    }

    #[test]
    fn drops_controls_and_bidi() {
        assert_eq!(clean("a\u{7}b\u{8}c\u{0}d"), "abcd");
        assert_eq!(clean("line1\nline2\r\n\tx"), "line1 line2 x");
        assert_eq!(clean("ab\u{202E}cd"), "abcd");
        assert_eq!(clean_multiline("a\r\nb"), "a\nb");
    }

    #[test]
    fn keeps_unicode() {
        assert_eq!(clean("héllo 世界 e\u{301}"), "héllo 世界 e\u{301}");
    }

    #[test]
    fn truncates_by_width() {
        assert_eq!(truncate("hello", 10), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("世界世界", 5), "世界…");
        assert!(width(&truncate("世界世界", 4)) <= 4);
    }
}
