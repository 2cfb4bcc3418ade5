//! Redraws through a real terminal model: ratatui's crossterm output fed into `vt100`.
//!
//! Drawing frame A (untrusted text) and then frame B must leave the screen exactly as drawing B
//! alone. That fails when ratatui and the terminal disagree on a grapheme's width (ZWJ sequences,
//! skin tones, …): the terminal draws more cells than ratatui thinks, and the diff-based redraw of B
//! never clears them. `sanitize::clean` makes them agree.

use std::num::NonZeroU16;

use flightdeck::sanitize::{clean, clean_multiline};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::{Terminal, TerminalOptions, Viewport};

const COLS: u16 = 48;
const ROWS: u16 = 8;

/// A detail header (the block title) over a log view.
struct Frame {
    header: String,
    log: Vec<String>,
}

fn plain_frame() -> Frame {
    Frame {
        header: "PR #42 fix checkout".to_string(),
        log: vec![
            "step 1 ok".to_string(),
            "step 2 ok".to_string(),
            "done".to_string(),
        ],
    }
}

/// Every cell of the screen after drawing `frames` one after the other.
fn screen_after(frames: &[&Frame]) -> Vec<Vec<String>> {
    let options = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, COLS, ROWS)),
    };
    let mut term =
        Terminal::with_options(CrosstermBackend::new(Vec::<u8>::new()), options).expect("terminal");
    for frame in frames {
        term.draw(|f| {
            let lines: Vec<Line> = frame.log.iter().map(|l| Line::raw(l.as_str())).collect();
            let block = Block::bordered().title(frame.header.as_str());
            f.render_widget(Paragraph::new(lines).block(block), f.area());
        })
        .expect("draw");
    }
    let nz = |n: u16| NonZeroU16::new(n).expect("non-zero size");
    let mut parser = vt100::Parser::new(nz(ROWS), nz(COLS), 0);
    parser.process(term.backend().writer());
    let screen = parser.screen();
    (0..ROWS)
        .map(|r| {
            (0..COLS)
                .map(|c| {
                    screen
                        .cell(r, c)
                        .map(|cell| cell.contents())
                        .filter(|s| !s.is_empty())
                        // A cell never written and a written blank look the same.
                        .unwrap_or(" ")
                        .to_string()
                })
                .collect()
        })
        .collect()
}

const ADVERSARIAL: &[&str] = &[
    "family 👨\u{200D}👩\u{200D}👧",
    "pride 🏳\u{FE0F}\u{200D}🌈",
    "ok 👍🏽👍🏿",
    "coder 🧑\u{200D}💻\u{200D}",
    "flag 🇩🇪🇫🇷 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
    "zw\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}\u{AD}\u{180E} ❤\u{FE0F} 1\u{FE0F}\u{20E3}",
    "👩\u{200D}❤\u{FE0F}\u{200D}💋\u{200D}👨 couple",
];

fn adversarial_frame(text: &str) -> Frame {
    Frame {
        header: format!("PR #42 {text}"),
        log: vec![
            format!("step 1 {text}"),
            text.to_string(),
            format!("{text} {text}"),
        ],
    }
}

#[test]
fn redraw_after_cleaned_adversarial_text_leaves_no_stale_cells() {
    let b = plain_frame();
    let fresh = screen_after(&[&b]);
    for text in ADVERSARIAL {
        let a = adversarial_frame(&clean(text));
        assert_eq!(
            screen_after(&[&a, &b]),
            fresh,
            "stale cells after drawing {:?} (cleaned to {:?})",
            text,
            clean(text)
        );
        let a = adversarial_frame(&clean_multiline(text));
        assert_eq!(screen_after(&[&a, &b]), fresh, "{text:?}");
    }
}

/// The harness sees the defect: uncleaned, the ZWJ family leaves cells behind.
#[test]
fn redraw_after_raw_zwj_sequence_is_what_goes_wrong() {
    let b = plain_frame();
    let a = adversarial_frame(ADVERSARIAL[0]);
    assert_ne!(screen_after(&[&a, &b]), screen_after(&[&b]));
}
