//! The terminal's lifecycle: raw mode and the alternate screen on entry; restored on normal exit, on
//! panic, and on SIGTERM / SIGHUP / Ctrl-C (handled by the runtime as messages). Frames are written
//! inside synchronized updates, and a frame that changes no cell writes nothing at all.

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// A crossterm backend that buffers a frame, wraps it in a synchronized update, skips frames with no
/// changed cell, and writes cursor visibility only when it changes: idle means zero bytes.
pub struct QuietBackend<W: Write> {
    inner: CrosstermBackend<Vec<u8>>,
    out: W,
    cursor_hidden: Option<bool>,
}

impl<W: Write> QuietBackend<W> {
    pub fn new(out: W) -> Self {
        QuietBackend {
            inner: CrosstermBackend::new(Vec::with_capacity(64 * 1024)),
            out,
            cursor_hidden: None,
        }
    }

    /// Write raw bytes (OSC 52 clipboard) straight to the terminal.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.out.flush()
    }
}

impl<W: Write> Backend for QuietBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        queue!(self.inner.writer_mut(), BeginSynchronizedUpdate)?;
        self.inner.draw(content)?;
        queue!(self.inner.writer_mut(), EndSynchronizedUpdate)?;
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(true) {
            self.inner.hide_cursor()?;
            self.cursor_hidden = Some(true);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(false) {
            self.inner.show_cursor()?;
            self.cursor_hidden = Some(false);
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(Position::ORIGIN)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        let buf = self.inner.writer_mut();
        if buf.is_empty() {
            return Ok(());
        }
        self.out.write_all(buf)?;
        buf.clear();
        self.out.flush()
    }
}

pub type Term = ratatui::Terminal<QuietBackend<io::Stdout>>;

/// Enter raw mode and the alternate screen.
pub fn enter(mouse: bool) -> io::Result<Term> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = io::stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    let mut term = ratatui::Terminal::new(QuietBackend::new(io::stdout()))?;
    term.clear()?;
    Ok(term)
}

pub fn set_mouse(enabled: bool) -> io::Result<()> {
    if enabled {
        execute!(io::stdout(), EnableMouseCapture)
    } else {
        execute!(io::stdout(), DisableMouseCapture)
    }
}

/// Put the terminal back as it was. Safe to call more than once, and from a panic hook.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Install color-eyre's hooks, with a panic hook that restores the terminal before reporting.
pub fn install_hooks() -> color_eyre::Result<()> {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .into_hooks();
    eyre_hook.install()?;
    let panic_hook = panic_hook.into_panic_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        panic_hook(info);
    }));
    Ok(())
}

/// Whether colours are off (NO_COLOR set to anything non-empty).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
