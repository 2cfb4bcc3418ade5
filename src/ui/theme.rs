//! Colour themes with semantic roles. Built-in themes live in `themes/*.toml` (compiled in); a user theme
//! is a TOML file that may set only some roles over a `base` theme (default: `default`).

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub fg: Color,
    pub bg: Color,
    pub muted: Color,
    pub accent: Color,
    pub ok: Color,
    pub warn: Color,
    pub danger: Color,
    pub selection_fg: Color,
    pub selection_bg: Color,
    pub matched: Color,
    pub border: Color,
    pub header: Color,
    pub production: Color,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::mono()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    base: Option<String>,
    fg: Option<String>,
    bg: Option<String>,
    muted: Option<String>,
    accent: Option<String>,
    ok: Option<String>,
    warn: Option<String>,
    danger: Option<String>,
    selection_fg: Option<String>,
    selection_bg: Option<String>,
    #[serde(rename = "match")]
    matched: Option<String>,
    border: Option<String>,
    header: Option<String>,
    production: Option<String>,
}

/// Parse a colour: a name, `#rrggbb`, an ANSI index, or `reset`.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let l = s.trim().to_ascii_lowercase();
    if let Some(hex) = l.strip_prefix('#') {
        if hex.len() == 6
            && let Ok(v) = u32::from_str_radix(hex, 16)
        {
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("expected #rrggbb, got \"{s}\""));
    }
    if let Ok(n) = l.parse::<u8>() {
        return Ok(Color::Indexed(n));
    }
    Ok(match l.replace(['-', '_', ' '], "").as_str() {
        "reset" | "default" | "none" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => {
            return Err(format!(
                "expected a colour name, #rrggbb, 0-255 or reset, got \"{s}\""
            ));
        }
    })
}

impl Theme {
    pub fn mono() -> Theme {
        Theme {
            name: "mono".into(),
            fg: Color::Reset,
            bg: Color::Reset,
            muted: Color::Reset,
            accent: Color::Reset,
            ok: Color::Reset,
            warn: Color::Reset,
            danger: Color::Reset,
            selection_fg: Color::Reset,
            selection_bg: Color::Reset,
            matched: Color::Reset,
            border: Color::Reset,
            header: Color::Reset,
            production: Color::Reset,
        }
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Option<Theme> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Theme::from_toml(name, text, None).ok()
    }

    /// Parse theme TOML over `base` (or over the theme its `base` key names, or `default`).
    pub fn from_toml(name: &str, text: &str, base: Option<&Theme>) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| describe_toml_error(&e, text))?;
        let mut t = match (&f.base, base) {
            (Some(b), _) => {
                Theme::builtin(b).ok_or_else(|| format!("base: unknown built-in theme \"{b}\""))?
            }
            (None, Some(b)) => b.clone(),
            (None, None) => Theme::mono(),
        };
        t.name = name.to_string();
        let set = |slot: &mut Color, v: &Option<String>, key: &str| -> Result<(), String> {
            if let Some(v) = v {
                *slot = parse_color(v).map_err(|e| format!("{key}: {e}"))?;
            }
            Ok(())
        };
        set(&mut t.fg, &f.fg, "fg")?;
        set(&mut t.bg, &f.bg, "bg")?;
        set(&mut t.muted, &f.muted, "muted")?;
        set(&mut t.accent, &f.accent, "accent")?;
        set(&mut t.ok, &f.ok, "ok")?;
        set(&mut t.warn, &f.warn, "warn")?;
        set(&mut t.danger, &f.danger, "danger")?;
        set(&mut t.selection_fg, &f.selection_fg, "selection_fg")?;
        set(&mut t.selection_bg, &f.selection_bg, "selection_bg")?;
        set(&mut t.matched, &f.matched, "match")?;
        set(&mut t.border, &f.border, "border")?;
        set(&mut t.header, &f.header, "header")?;
        set(&mut t.production, &f.production, "production")?;
        Ok(t)
    }

    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }
    pub fn muted(&self) -> Style {
        if self.muted == Color::Reset {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.muted)
        }
    }
    pub fn accent(&self) -> Style {
        Style::default()
            .fg(self.accent)
            .add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        Style::default().fg(self.ok)
    }
    pub fn warn(&self) -> Style {
        Style::default().fg(self.warn).add_modifier(Modifier::BOLD)
    }
    pub fn danger(&self) -> Style {
        Style::default()
            .fg(self.danger)
            .add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        if self.selection_bg == Color::Reset {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
                .fg(self.selection_fg)
                .bg(self.selection_bg)
                .add_modifier(Modifier::BOLD)
        }
    }
    pub fn matched(&self) -> Style {
        Style::default()
            .fg(self.matched)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    pub fn border(&self) -> Style {
        Style::default().fg(self.border)
    }
    pub fn header(&self) -> Style {
        Style::default()
            .fg(self.header)
            .add_modifier(Modifier::BOLD)
    }
    pub fn production(&self) -> Style {
        Style::default()
            .fg(self.production)
            .add_modifier(Modifier::BOLD)
    }
}

/// Where a TOML error is and what kind it is, without quoting the text: a `theme` that points at a
/// file that is not a theme (`/etc/passwd`) must not print its content.
fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let kind = e.message().trim_end();
    let Some(span) = e.span() else {
        return format!("not a theme: {kind}");
    };
    let before = &text.as_bytes()[..span.start.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    format!("not a theme: line {line}, column {column}: {kind}")
}

/// The themes to cycle through, the selected one, and what was skipped.
#[derive(Debug, Clone)]
pub struct LoadedThemes {
    pub themes: Vec<Theme>,
    /// Index of the selected theme in `themes`.
    pub index: usize,
    /// One line per theme file in the themes dir that could not be loaded and was skipped (each names
    /// its file); for the caller to show.
    pub warnings: Vec<String>,
}

/// Why the selected theme could not be used.
#[derive(Debug, Clone, PartialEq)]
pub enum ThemeError {
    /// The selected theme's file is unreadable or not a valid theme.
    File { path: PathBuf, message: String },
    /// No theme has that name.
    Unknown {
        name: String,
        /// Every theme that loaded: the built-ins, then the themes dir.
        available: Vec<String>,
        dir: PathBuf,
    },
}

impl fmt::Display for ThemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThemeError::File { path, message } => write!(f, "{}: {message}", path.display()),
            ThemeError::Unknown {
                name,
                available,
                dir,
            } => write!(
                f,
                "unknown theme \"{name}\"; expected one of {}, a file in {}, or a path",
                available.join(", "),
                dir.display()
            ),
        }
    }
}

impl std::error::Error for ThemeError {}

/// Every theme to cycle through: built-ins then `*.toml` in `dir`; and the index of `selected`
/// (a name or a path to a file). With `no_color`, only `mono`.
///
/// A file in `dir` that cannot be loaded is skipped with a warning, unless it is the selected theme:
/// then it is an error naming that file.
pub fn load_themes(dir: &Path, selected: &str, no_color: bool) -> Result<LoadedThemes, ThemeError> {
    if no_color {
        return Ok(LoadedThemes {
            themes: vec![Theme::mono()],
            index: 0,
            warnings: Vec::new(),
        });
    }
    let default = Theme::builtin("default").unwrap_or_else(Theme::mono);
    let mut themes: Vec<Theme> = BUILTIN
        .iter()
        .filter_map(|(n, _)| Theme::builtin(n))
        .collect();
    let read = |path: &Path| -> Result<Theme, ThemeError> {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "custom".into());
        let fail = |message: String| ThemeError::File {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        Theme::from_toml(&name, &text, Some(&default)).map_err(fail)
    };
    let add = |themes: &mut Vec<Theme>, t: Theme| -> usize {
        if let Some(i) = themes.iter().position(|x| x.name == t.name) {
            themes[i] = t;
            i
        } else {
            themes.push(t);
            themes.len() - 1
        }
    };
    let by_path = selected.ends_with(".toml") || selected.contains('/');
    // Broken files of the themes dir, by theme name.
    let mut broken: Vec<(String, ThemeError)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for p in paths {
            match read(&p) {
                Ok(t) => {
                    add(&mut themes, t);
                }
                Err(e) => {
                    let name = p
                        .file_stem()
                        .map(|s| s.to_string_lossy().to_string())
                        .unwrap_or_default();
                    broken.push((name, e));
                }
            }
        }
    }
    let index = if by_path {
        let path = Path::new(selected);
        let t = read(path)?;
        // The selected file may also sit in the themes dir: its error is the one above, not a warning.
        let same = |b: &ThemeError| match b {
            ThemeError::File { path: p, .. } => {
                p == path
                    || std::fs::canonicalize(p)
                        .ok()
                        .is_some_and(|c| std::fs::canonicalize(path).ok() == Some(c))
            }
            ThemeError::Unknown { .. } => false,
        };
        broken.retain(|(_, b)| !same(b));
        add(&mut themes, t)
    } else {
        if let Some(i) = broken.iter().position(|(n, _)| n == selected) {
            return Err(broken.swap_remove(i).1);
        }
        themes
            .iter()
            .position(|t| t.name == selected)
            .ok_or_else(|| ThemeError::Unknown {
                name: selected.to_string(),
                available: themes.iter().map(|t| t.name.clone()).collect(),
                dir: dir.to_path_buf(),
            })?
    };
    let warnings = broken
        .into_iter()
        .map(|(_, e)| format!("theme {e}; skipped"))
        .collect();
    Ok(LoadedThemes {
        themes,
        index,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (n, _) in BUILTIN {
            assert!(Theme::builtin(n).is_some(), "{n}");
        }
        assert_eq!(Theme::builtin("default").unwrap().danger, Color::Red);
    }

    #[test]
    fn partial_user_theme_overrides_some_roles() {
        let base = Theme::builtin("default").unwrap();
        let t = Theme::from_toml("mine", "danger = \"#ff0000\"\n", Some(&base)).unwrap();
        assert_eq!(t.danger, Color::Rgb(255, 0, 0));
        assert_eq!(t.ok, base.ok);
        let t = Theme::from_toml("mine", "base = \"light\"\nok = \"12\"\n", None).unwrap();
        assert_eq!(t.ok, Color::Indexed(12));
        assert!(Theme::from_toml("bad", "danger = \"blurple\"\n", None).is_err());
        assert!(Theme::from_toml("bad", "sparkle = \"red\"\n", None).is_err());
    }

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn a_broken_unselected_theme_is_a_warning_naming_its_file() {
        let dir = dir_with(&[
            ("broken.toml", "danger = \"blurple\"\n"),
            ("ops.toml", "danger = \"#ff0000\"\n"),
        ]);
        let loaded = load_themes(dir.path(), "ops", false).unwrap();
        assert_eq!(loaded.themes[loaded.index].name, "ops");
        assert!(!loaded.themes.iter().any(|t| t.name == "broken"));
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(
            loaded.warnings[0].contains("broken.toml"),
            "{:?}",
            loaded.warnings
        );
        assert!(
            loaded.warnings[0].contains("danger"),
            "{:?}",
            loaded.warnings
        );
        let loaded = load_themes(dir.path(), "light", false).unwrap();
        assert_eq!(loaded.themes[loaded.index].name, "light");
        assert_eq!(loaded.warnings.len(), 1);
    }

    #[test]
    fn a_broken_selected_theme_is_an_error_naming_its_file() {
        let dir = dir_with(&[("broken.toml", "danger = \"blurple\"\n")]);
        let e = load_themes(dir.path(), "broken", false).unwrap_err();
        assert_eq!(
            e,
            ThemeError::File {
                path: dir.path().join("broken.toml"),
                message: "danger: expected a colour name, #rrggbb, 0-255 or reset, got \"blurple\""
                    .into()
            }
        );
        // The same file selected by path: the error, and no warning besides.
        let path = dir.path().join("broken.toml");
        let e = load_themes(dir.path(), &path.display().to_string(), false).unwrap_err();
        assert!(e.to_string().contains("broken.toml"), "{e}");
    }

    #[test]
    fn an_unknown_theme_lists_the_available_ones() {
        let dir = dir_with(&[("ops.toml", "ok = \"green\"\n")]);
        let e = load_themes(dir.path(), "nope", false).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("unknown theme \"nope\""), "{text}");
        assert!(
            text.contains("default, light, high-contrast, mono, ops"),
            "{text}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_theme_is_not_quoted() {
        let secret = "root:x:0:0:hunter2:/root:/bin/bash\nsecond line\n";
        let dir = dir_with(&[("passwd", secret)]);
        let path = dir.path().join("passwd");
        let e = load_themes(dir.path(), &path.display().to_string(), false).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("passwd"), "{text}");
        assert!(text.contains("line 1, column "), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("root:x"),
            "{text}"
        );
        // Further down a file, the line and column follow.
        let e = Theme::from_toml("t", "fg = \"red\"\nbg = red\n", None).unwrap_err();
        assert!(e.contains("line 2, column 6"), "{e}");
    }
}
