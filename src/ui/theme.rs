//! Colour themes with semantic roles. Built-in themes live in `themes/*.toml` (compiled in); a user theme
//! is a TOML file that may set only some roles over a `base` theme (default: `default`).

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;

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
        let f: ThemeFile =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
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

/// Every theme to cycle through: built-ins then `*.toml` in `dir`; and the index of `selected`
/// (a name or a path to a file). With `no_color`, only `mono`.
pub fn load_themes(
    dir: &Path,
    selected: &str,
    no_color: bool,
) -> Result<(Vec<Theme>, usize), String> {
    if no_color {
        return Ok((vec![Theme::mono()], 0));
    }
    let default = Theme::builtin("default").unwrap_or_else(Theme::mono);
    let mut themes: Vec<Theme> = BUILTIN
        .iter()
        .filter_map(|(n, _)| Theme::builtin(n))
        .collect();
    let mut load_file = |path: &Path| -> Result<usize, String> {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "custom".into());
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("theme {}: {e}", path.display()))?;
        let t = Theme::from_toml(&name, &text, Some(&default))
            .map_err(|e| format!("theme {}: {e}", path.display()))?;
        if let Some(i) = themes.iter().position(|x| x.name == t.name) {
            themes[i] = t;
            Ok(i)
        } else {
            themes.push(t);
            Ok(themes.len() - 1)
        }
    };
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for p in paths {
            load_file(&p)?;
        }
    }
    let index = if selected.ends_with(".toml") || selected.contains('/') {
        load_file(Path::new(selected))?
    } else {
        let builtin_names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        themes.iter().position(|t| t.name == selected).ok_or_else(|| {
            format!(
                "theme: unknown theme \"{selected}\"; expected one of {}, a file in {}, or a path",
                builtin_names.join(", "),
                dir.display()
            )
        })?
    };
    Ok((themes, index))
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
}
