//! Untrusted text (titles, branch names, logs, LLM output) on its way to the terminal.
//!
//! Everything that came from outside goes through [`clean`] (or [`clean_multiline`]) before it is
//! stored for display. Both return text that is safe to draw and free of secrets:
//!
//! - **Escapes and controls.** Escape sequences (CSI, OSC, DCS, …) are removed whole, C0/C1 control
//!   characters are dropped (tabs and newlines become spaces on single-line text; U+2028/U+2029 count
//!   as newlines) and bidirectional controls are dropped so text cannot reorder what the operator reads.
//! - **Widths the terminal agrees on.** ratatui sizes a cell by `unicode-width`'s width of the whole
//!   grapheme; a terminal advances by the width of each character. Wherever the two can differ the
//!   redraw leaves stale cells, so after cleaning every character's `unicode_width` is what a terminal
//!   draws and the width of the text is the sum of its characters' widths:
//!   - dropped: zero-width and format characters: every Unicode `Cf` (soft hyphen U+00AD, ZW space,
//!     ZWNJ, ZWJ U+200B..U+200D, word joiner and invisible operators U+2060..U+2064, BOM U+FEFF,
//!     Mongolian vowel separator U+180E, tags U+E0000..U+E007F, …) and the other default-ignorable
//!     code points (variation selectors U+FE00..U+FE0F and U+E0100..U+E01EF, Hangul fillers, combining
//!     grapheme joiner, Mongolian free variation selectors, …); emoji skin-tone modifiers
//!     U+1F3FB..U+1F3FF; the few characters `unicode-width` and `wcwidth` size differently (U+17D8,
//!     which `unicode-width` calls 3 cells wide; U+2D7F; U+A8FA; prepended marks that are not `Cf`).
//!   - ZWJ emoji sequences therefore fall apart into their single emoji: `👨‍👩‍👧` becomes `👨👩👧`
//!     (6 cells, as a terminal without ZWJ support draws it), `🏳️‍🌈` becomes `🏳🌈`, `👍🏽` becomes `👍`.
//!   - **Emoji presentation:** with the variation selectors gone every emoji shows in its default
//!     presentation: emoji-default ones (`🚀`, `✅`) keep width 2, text-default ones (`❤`, `✈`, `™`,
//!     keycaps) are 1 cell. `❤️` (with VS16) is 2 cells in some terminals and 1 in others; `❤` is 1 in all.
//!   - **Regional indicators** become their ASCII capital letter: the flag `🇩🇪` reads `DE`. Terminals
//!     disagree on flags (one 2-cell glyph, two 1-cell letters or two 2-cell glyphs for a pair; 1 or 2
//!     cells for a lone indicator); letters are 1 cell everywhere and stay readable.
//!   - Kept as they are: combining marks (`é` as `e` + U+0301), CJK and other wide characters (2
//!     cells), single-scalar emoji such as `🚀`, East Asian ambiguous characters (1 cell, as
//!     `unicode-width` says outside a CJK locale). Script ligatures that `unicode-width` sizes as one
//!     cell (Arabic lam-alef, Lisu tone letters, Khmer coeng, Kirat Rai) span several graphemes, which
//!     ratatui draws one by one, so they leave no stale cells; only their string width is narrower.
//! - **Secrets.** The result passes through [`crate::redact::redact`]: tokens, keys and credentials
//!   are shown as `ghp_[redacted]`, `AKIA[redacted]`, `Bearer [redacted]` … (see that module). Cleaning
//!   runs first, so an escape or a zero-width character inside a token cannot hide it.
//!
//! Plain printable ASCII without a secret takes a fast path: one byte check, the redaction scan (a
//! few `memchr` passes) and a copy.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

/// Strip escape sequences, control and format characters, make widths unambiguous and redact secrets
/// ([`crate::redact::redact`]); line breaks and tabs become single spaces.
pub fn clean(input: &str) -> String {
    clean_inner(input, false)
}

/// Like [`clean`] but keeps `\n` (for multi-line bodies such as PR descriptions and logs).
pub fn clean_multiline(input: &str) -> String {
    clean_inner(input, true)
}

/// Characters dropped because they are invisible or a terminal may size them differently from
/// `unicode-width` (see the module header). Bidi controls are among them.
fn is_dropped(c: char) -> bool {
    matches!(c,
        // Soft hyphen, combining grapheme joiner.
        '\u{AD}' | '\u{34F}'
        // Arabic prepended marks and letter mark, Syriac abbreviation mark (Cf).
        | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}' | '\u{890}'..='\u{891}' | '\u{8E2}'
        // Malayalam dot reph (prepend, not Cf).
        | '\u{D4E}'
        // Hangul fillers.
        | '\u{115F}'..='\u{1160}' | '\u{3164}' | '\u{FFA0}'
        // Khmer inherent vowels, Khmer sign beyyal (3 cells in unicode-width).
        | '\u{17B4}'..='\u{17B5}' | '\u{17D8}'
        // Mongolian free variation selectors and vowel separator.
        | '\u{180B}'..='\u{180F}'
        // ZW space, ZWNJ, ZWJ, LRM, RLM; bidi embeddings and overrides.
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        // Word joiner, invisible operators, bidi isolates, deprecated format characters.
        | '\u{2060}'..='\u{206F}'
        // Tifinagh consonant joiner (1 cell in unicode-width, 0 in wcwidth), Devanagari caret.
        | '\u{2D7F}' | '\u{A8FA}'
        // Variation selectors, BOM / ZW no-break space.
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        // Reserved default-ignorables, interlinear annotation.
        | '\u{FFF0}'..='\u{FFFB}'
        // Kaithi number signs, Egyptian hieroglyph format controls.
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}'
        // Prepend letters of Sharada, Dives Akuru, Zanabazar Square, Soyombo, Masaram Gondi, Kawi.
        | '\u{111C2}'..='\u{111C3}' | '\u{1193F}' | '\u{11941}' | '\u{11A3A}' | '\u{11A84}'..='\u{11A89}'
        | '\u{11D46}' | '\u{11F02}'
        // Shorthand format controls, musical symbol format controls.
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        // Emoji skin-tone modifiers.
        | '\u{1F3FB}'..='\u{1F3FF}'
        // Tags, variation selectors supplement, reserved default-ignorables.
        | '\u{E0000}'..='\u{E0FFF}'
    )
}

fn regional_indicator_letter(c: char) -> Option<char> {
    let n = u32::from(c).checked_sub(0x1F1E6)?;
    (n < 26).then(|| char::from(b'A' + n as u8))
}

/// Whether `c` needs any work (dropping, replacing, a line break or an escape).
fn needs_work(c: char, keep_newlines: bool) -> bool {
    if c.is_ascii() {
        return !(c == ' ' || c.is_ascii_graphic() || (keep_newlines && c == '\n'));
    }
    c.is_control()
        || is_dropped(c)
        || regional_indicator_letter(c).is_some()
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Printable ASCII, and `\n` when newlines are kept: nothing to do.
fn is_plain_ascii(b: u8, keep_newlines: bool) -> bool {
    (0x20..0x7f).contains(&b) || (keep_newlines && b == b'\n')
}

/// The first byte offset from which `input` needs work, if any.
fn first_work(input: &str, keep_newlines: bool) -> Option<usize> {
    let bytes = input.as_bytes();
    // Printable ASCII (and `\n` when kept) needs nothing: a byte check, no decoding.
    let ascii = bytes
        .iter()
        .position(|&b| !is_plain_ascii(b, keep_newlines))?;
    // Stopped on a control byte or the lead byte of a multi-byte char: both are char boundaries.
    let rest = input.get(ascii..)?;
    rest.char_indices()
        .find(|&(_, c)| needs_work(c, keep_newlines))
        .map(|(i, _)| ascii + i)
}

fn clean_inner(input: &str, keep_newlines: bool) -> String {
    let cleaned: Cow<'_, str> = match first_work(input, keep_newlines) {
        None => Cow::Borrowed(input),
        Some(at) => Cow::Owned(clean_from(input, at, keep_newlines)),
    };
    let redacted = match crate::redact::redact(&cleaned) {
        Cow::Owned(r) => Some(r),
        Cow::Borrowed(_) => None,
    };
    redacted.unwrap_or_else(|| cleaned.into_owned())
}

/// The slow path: `input[..at]` is known to be clean.
fn clean_from(input: &str, at: usize, keep_newlines: bool) -> String {
    let (head, tail) = input.split_at_checked(at).unwrap_or(("", input));
    let mut out = String::with_capacity(input.len());
    out.push_str(head);
    let mut chars = tail.chars();
    loop {
        // Copy a run of plain ASCII in one go; it ends at a char boundary (an ASCII byte or a lead byte).
        let rest = chars.as_str();
        let run = rest
            .bytes()
            .position(|b| !is_plain_ascii(b, keep_newlines))
            .unwrap_or(rest.len());
        if let Some((plain, after)) = rest.split_at_checked(run) {
            out.push_str(plain);
            chars = after.chars();
        }
        let Some(c) = chars.next() else {
            break;
        };
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS / APC / PM / SOS introducers: skip their sequences too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string(&mut chars),
            '\n' | '\u{2028}' | '\u{2029}' if keep_newlines => out.push('\n'),
            '\r' if keep_newlines => {}
            '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() || is_dropped(c) => {}
            c => out.push(regional_indicator_letter(c).unwrap_or(c)),
        }
    }
    out
}

fn skip_escape(chars: &mut std::str::Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => skip_string(chars),
        // Two-character escapes (ESC c, ESC 7, ESC ( B …): drop the intermediate bytes and the final byte.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while let Some(n) = chars.clone().next() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&n) {
                    break;
                }
            }
        }
        _ => {}
    }
}

fn skip_csi(chars: &mut std::str::Chars<'_>) {
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

fn skip_string(chars: &mut std::str::Chars<'_>) {
    // Ends at BEL, ST (ESC \) or C1 ST.
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.clone().next() == Some('\\') {
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
    use proptest::prelude::*;
    use unicode_width::UnicodeWidthStr;

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
        assert_eq!(clean("ship 🚀 ✅ ❤ ∑ — ü"), "ship 🚀 ✅ ❤ ∑ — ü");
        assert_eq!(clean_multiline("a\nb 世界\n"), "a\nb 世界\n");
    }

    /// Characters that must not survive cleaning (see the module header).
    const LISTED: &[char] = &[
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{2060}',
        '\u{2061}',
        '\u{2062}',
        '\u{2063}',
        '\u{2064}',
        '\u{FEFF}',
        '\u{180E}',
        '\u{FE00}',
        '\u{FE0E}',
        '\u{FE0F}',
        '\u{E0100}',
        '\u{E01EF}',
        '\u{1F3FB}',
        '\u{1F3FC}',
        '\u{1F3FD}',
        '\u{1F3FE}',
        '\u{1F3FF}',
        '\u{E0001}',
        '\u{E0020}',
        '\u{E0067}',
        '\u{E007F}',
        '\u{AD}',
        '\u{600}',
        '\u{6DD}',
        '\u{110BD}',
        '\u{FFF9}',
        '\u{1D173}',
        '\u{1BCA0}',
        '\u{2028}',
        '\u{2029}',
        '\u{115F}',
        '\u{3164}',
        '\u{17D8}',
        '\u{1F1E9}',
        '\u{1F1EA}',
    ];

    /// Adversarial samples: ZWJ sequences, VS16, skin tones, tag flags, regional indicators, format
    /// characters, a width-3 character.
    const ADVERSARIAL: &[&str] = &[
        "family 👨\u{200D}👩\u{200D}👧 done",
        "pride 🏳\u{FE0F}\u{200D}🌈 flag",
        "couple 👩\u{200D}❤\u{FE0F}\u{200D}👨",
        "coder 🧑\u{200D}💻 and ❤\u{FE0F}\u{200D}🔥",
        "thumbs 👍🏽 👋🏿",
        "scotland 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
        "flags 🇩🇪🇫🇷 odd 🇺",
        "keycap 1\u{FE0F}\u{20E3} #\u{20E3}",
        "heart ❤\u{FE0F} rocket 🚀\u{FE0E} quote \u{201C}\u{FE01}x\u{201D}\u{FE00}",
        "zw\u{200B}sp zw\u{200C}nj wo\u{2060}rd in\u{2062}v b\u{FEFF}om mv\u{180E}s",
        "soft\u{AD}hyphen ideo\u{E0100}graph\u{E01EF}ic",
        "arabic mark \u{600}123 \u{6DD}9 kaithi \u{110BD}x",
        "interlinear \u{FFF9}a\u{FFFA}b\u{FFFB} music \u{1D173}x\u{1D17A}",
        "hangul filler \u{3164}\u{115F}\u{1160}\u{FFA0}x khmer \u{17D8} tifinagh ⵏ\u{2D7F}ⴾ",
        "line\u{2028}sep para\u{2029}sep",
        "\u{200D}\u{200D}\u{FE0F}\u{1F3FB}",
    ];

    fn char_sum(s: &str) -> usize {
        s.chars().map(|c| c.width().unwrap_or(0)).sum()
    }

    fn assert_width_stable(input: &str) {
        for out in [clean(input), clean_multiline(input)] {
            for line in out.split('\n') {
                assert_eq!(
                    UnicodeWidthStr::width(line),
                    char_sum(line),
                    "{input:?} cleaned to {line:?}"
                );
            }
            assert!(
                !out.chars().any(|c| LISTED.contains(&c)),
                "{input:?} cleaned to {out:?}"
            );
        }
    }

    #[test]
    fn adversarial_text_has_terminal_widths() {
        for s in ADVERSARIAL {
            assert_width_stable(s);
        }
        assert_eq!(clean(ADVERSARIAL[0]), "family 👨👩👧 done");
        assert_eq!(clean(ADVERSARIAL[1]), "pride 🏳🌈 flag");
        assert_eq!(clean(ADVERSARIAL[4]), "thumbs 👍 👋");
        assert_eq!(clean(ADVERSARIAL[5]), "scotland 🏴");
        assert_eq!(clean(ADVERSARIAL[6]), "flags DEFR odd U");
        assert_eq!(clean(ADVERSARIAL[7]), "keycap 1\u{20E3} #\u{20E3}");
        assert_eq!(clean("soft\u{AD}hyphen zw\u{200B}sp"), "softhyphen zwsp");
        assert_eq!(clean("a\u{2028}b"), "a b");
        assert_eq!(clean_multiline("a\u{2029}b"), "a\nb");
    }

    proptest! {
        #[test]
        fn any_mix_cleans_to_terminal_widths(
            parts in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(LISTED.to_vec()).prop_map(String::from),
                    proptest::sample::select(ADVERSARIAL.to_vec()).prop_map(String::from),
                    proptest::sample::select(vec![
                        "a", "é", "e\u{301}", "世", "🚀", "👨", "👩", "🏳", "🌈", "❤", "☺", "1", "#",
                        "\u{20E3}", "\u{301}", " ", "\n", "\t", "\u{1b}[1m", "👍", "🏴", "\u{1F1E6}",
                        "\u{1F1FF}", "\u{1F1FA}", "\u{201C}", "¡",
                    ]).prop_map(String::from),
                ],
                0..24,
            )
        ) {
            let input: String = parts.concat();
            assert_width_stable(&input);
        }
    }

    #[test]
    fn fast_path_leaves_plain_text_alone() {
        let plain = "fix: retry payment (#42) - 100% done ~ ok";
        assert_eq!(clean(plain), plain);
        assert_eq!(first_work(plain, false), None);
        assert_eq!(first_work("a\nb", true), None);
        assert_eq!(first_work("a\nb", false), Some(1));
        assert_eq!(first_work("héllo 世界", false), None);
        assert_eq!(first_work("ab\u{200D}", false), Some(2));
        assert_eq!(clean("abc\u{1b}[0m x"), "abc x");
    }

    #[test]
    fn secrets_are_redacted_on_screen() {
        assert_eq!(
            clean("fix ghp_abcdefghijklmnopqrstuvwxyz0123456789 leak"),
            "fix ghp_[redacted] leak"
        );
        assert_eq!(
            clean_multiline("key AKIAIOSFODNN7EXAMPLE\nAuthorization: Bearer abc"),
            "key AKIA[redacted]\nAuthorization: Bearer [redacted]"
        );
        // Hiding a token behind an escape or a zero-width character does not work.
        assert_eq!(
            clean("ghp_abcdefghij\u{1b}[0mklmnopqrst\u{200B}uvwxyz0123456789"),
            "ghp_[redacted]"
        );
    }

    #[test]
    fn truncates_by_width() {
        assert_eq!(truncate("hello", 10), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("世界世界", 5), "世界…");
        assert!(width(&truncate("世界世界", 4)) <= 4);
    }
}
