//! Named actions and the key bindings that trigger them. Every action has a name (used by the config's
//! `[keys]` table, the command palette and the help overlay); every key is remappable.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

macro_rules! actions {
    ($( $variant:ident => $name:literal, $desc:literal, [$($key:literal),*] ;)*) => {
        /// Everything the operator can do, by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];
            pub fn name(self) -> &'static str { match self { $(Action::$variant => $name),* } }
            pub fn description(self) -> &'static str { match self { $(Action::$variant => $desc),* } }
            fn default_keys(self) -> &'static [&'static str] { match self { $(Action::$variant => &[$($key),*]),* } }
        }
    };
}

actions! {
    Quit => "quit", "Quit flightdeck", ["q", "ctrl-c"];
    NextTab => "next-tab", "Next tab", ["tab"];
    PrevTab => "prev-tab", "Previous tab", ["backtab"];
    TabPrs => "tab-prs", "Show pull requests", ["1"];
    TabRuns => "tab-runs", "Show pipeline runs", ["2"];
    TabRollouts => "tab-rollouts", "Show rollout slices", ["3"];
    TabIncidents => "tab-incidents", "Show incidents", ["4"];
    TabAi => "tab-ai", "Show AI summaries", ["5"];
    Down => "down", "Select next row", ["j", "down"];
    Up => "up", "Select previous row", ["k", "up"];
    Top => "top", "Select first row", ["g", "home"];
    Bottom => "bottom", "Select last row", ["G", "end"];
    PageDown => "page-down", "Down one page (with the detail pane open: scroll it)", ["pgdown", "ctrl-d"];
    PageUp => "page-up", "Up one page (with the detail pane open: scroll it)", ["pgup", "ctrl-u"];
    ScrollDown => "scroll-down", "Scroll the detail pane (or help) down a line", ["J"];
    ScrollUp => "scroll-up", "Scroll the detail pane (or help) up a line", ["K"];
    Detail => "detail", "Show or hide the detail pane", ["enter"];
    Back => "back", "Close popup, detail or filter", ["esc"];
    Filter => "filter", "Filter the list (fuzzy)", ["/"];
    Palette => "palette", "Command palette: run any action by name", [":"];
    Help => "help", "Show key bindings", ["?"];
    Refresh => "refresh", "Poll every source now", ["r"];
    Open => "open", "Open the selected item in the browser (copies the URL over SSH)", ["o"];
    Copy => "copy", "Copy the selected item's URL (OSC 52)", ["y"];
    Errors => "errors", "Show the error history", ["!"];
    Sort => "sort", "Sort by the next column (off, then each column in turn)", ["s"];
    SortReverse => "sort-reverse", "Reverse the sort order", ["S"];
    GroupByRepo => "group", "Group rows by repo (project, kind)", ["b"];
    Logs => "logs", "Show the failed job's log: the lines that matter, then the whole log", ["l"];
    Approve => "approve", "Approve the deployment the selected run waits for", ["a"];
    Reject => "reject", "Reject the deployment the selected run waits for", ["x"];
    RerunFailed => "rerun-failed", "Re-run the failed jobs of the selected run", ["F"];
    CancelRun => "cancel-run", "Cancel the selected run", ["c"];
    Rollback => "rollback", "Roll the selected service back to its last good revision", ["R"];
    Resolve => "resolve", "Resolve the selected incident in Sentry", ["z"];
    Ignore => "ignore", "Ignore the selected incident in Sentry", ["Z"];
    TestPr => "test-pr", "Draft a regression test for the selected incident, review it, open a draft PR", ["T"];
    NextTheme => "next-theme", "Switch to the next colour theme", [];
    ToggleMouse => "toggle-mouse", "Turn mouse support on or off", [];
    AskLlm => "ask-llm", "Ask the configured LLM about the selected subject (esc cancels)", ["s"];
    PreviewPrompt => "preview-prompt", "Show exactly what would be sent to the LLM for the selected subject", ["p"];
}

impl Action {
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// A key with its modifiers, normalised so that `G` and `shift-g` are the same binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyBinding {
    pub fn from_event(ev: &KeyEvent) -> KeyBinding {
        normalise(ev.code, ev.modifiers)
    }

    pub fn parse(text: &str) -> Result<KeyBinding, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let l = rest.to_ascii_lowercase();
            if l.starts_with("ctrl-") && rest.len() > 5 {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if l.starts_with("alt-") && rest.len() > 4 {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else if l.starts_with("shift-") && rest.len() > 6 {
                mods |= KeyModifiers::SHIFT;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdown" | "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n: u8 = f[1..].parse().unwrap_or(1);
                if !(1..=24).contains(&n) {
                    return Err(format!("unknown key \"{text}\""));
                }
                KeyCode::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => {
                        return Err(format!(
                            "unknown key \"{text}\" (expected e.g. \"a\", \"G\", \"ctrl-r\", \"enter\", \"f5\")"
                        ));
                    }
                }
            }
        };
        Ok(normalise(code, mods))
    }
}

fn normalise(code: KeyCode, mods: KeyModifiers) -> KeyBinding {
    let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
    let code = match code {
        // Terminals send ctrl-x and ctrl-shift-x alike: one binding, lower case, no shift.
        KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) && c.is_ascii_alphabetic() => {
            mods.remove(KeyModifiers::SHIFT);
            KeyCode::Char(c.to_ascii_lowercase())
        }
        KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_lowercase() => {
            mods.remove(KeyModifiers::SHIFT);
            KeyCode::Char(c.to_ascii_uppercase())
        }
        // "shift-tab" as help shows it is the key crossterm reports as BackTab.
        KeyCode::BackTab | KeyCode::Tab
            if mods.contains(KeyModifiers::SHIFT) || code == KeyCode::BackTab =>
        {
            mods.remove(KeyModifiers::SHIFT);
            KeyCode::BackTab
        }
        other => other,
    };
    if let KeyCode::Char(_) = code {
        // The character already says whether shift was held ('G', '?', ':').
        mods.remove(KeyModifiers::SHIFT);
    }
    KeyBinding { code, mods }
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdown"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The live key bindings.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    /// A key is bound to one action, or to several that no tab offers together (`s` sorts on
    /// the PRs tab and asks the LLM on the AI tab).
    by_key: HashMap<KeyBinding, Vec<Action>>,
    by_action: BTreeMap<Action, Vec<KeyBinding>>,
}

/// The tabs that offer `a` (none: it works everywhere).
fn tabs_of(a: Action) -> Vec<super::tab::Tab> {
    super::tab::Tab::ALL
        .iter()
        .copied()
        .filter(|t| t.actions().contains(&a))
        .collect()
}

/// Two actions may share a key when both belong to tabs and no tab offers both.
fn may_share(a: Action, b: Action) -> bool {
    let (ta, tb) = (tabs_of(a), tabs_of(b));
    !ta.is_empty() && !tb.is_empty() && !ta.iter().any(|t| tb.contains(t))
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::build([]).unwrap_or_else(|_| Keymap {
            by_key: HashMap::new(),
            by_action: BTreeMap::new(),
        })
    }
}

impl Keymap {
    /// Defaults overlaid with the config's `[keys]` table. A listed action's keys replace its defaults.
    /// Unknown action names, unknown keys and one key bound to two actions are errors naming both.
    pub fn build<'a>(
        overrides: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
    ) -> Result<Keymap, String> {
        let mut by_action: BTreeMap<Action, (Vec<KeyBinding>, bool)> = BTreeMap::new();
        for &a in Action::ALL {
            let keys = a
                .default_keys()
                .iter()
                .map(|k| KeyBinding::parse(k))
                .collect::<Result<Vec<_>, _>>()?;
            by_action.insert(a, (keys, false));
        }
        for (name, list) in overrides {
            let action = Action::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "keys.{name}: unknown action; expected one of {}",
                    names.join(", ")
                )
            })?;
            let keys = list
                .into_iter()
                .map(|k| KeyBinding::parse(k).map_err(|e| format!("keys.{name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            by_action.insert(action, (keys, true));
        }
        let mut by_key: HashMap<KeyBinding, Vec<Action>> = HashMap::new();
        for (&action, (keys, from_config)) in &by_action {
            for &k in keys {
                let bound = by_key.get(&k).cloned().unwrap_or_default();
                if let Some(&other) = bound.iter().find(|&&o| !may_share(o, action)) {
                    let origin = |a: Action, cfg: bool| {
                        if cfg {
                            format!("keys.{} in the config", a.name())
                        } else {
                            format!("the default of {}", a.name())
                        }
                    };
                    let other_cfg = by_action.get(&other).is_some_and(|(_, c)| *c);
                    return Err(format!(
                        "key conflict: \"{k}\" is bound to both {} ({}) and {} ({})",
                        other.name(),
                        origin(other, other_cfg),
                        action.name(),
                        origin(action, *from_config),
                    ));
                }
                by_key.entry(k).or_default().push(action);
            }
        }
        Ok(Keymap {
            by_key,
            by_action: by_action.into_iter().map(|(a, (k, _))| (a, k)).collect(),
        })
    }

    /// The action of a key where no tab decides (popups, the log view): the first bound.
    pub fn action_for(&self, ev: &KeyEvent) -> Option<Action> {
        self.by_key
            .get(&KeyBinding::from_event(ev))
            .and_then(|v| v.first().copied())
    }

    /// The action of a key on `tab`: the one that tab offers when the key is shared.
    pub fn action_in(&self, ev: &KeyEvent, tab: super::tab::Tab) -> Option<Action> {
        let all = self.by_key.get(&KeyBinding::from_event(ev))?;
        all.iter()
            .find(|a| tab.actions().contains(a))
            .or_else(|| all.iter().find(|a| tabs_of(**a).is_empty()))
            .or_else(|| all.first())
            .copied()
    }

    pub fn keys_for(&self, action: Action) -> &[KeyBinding] {
        self.by_action
            .get(&action)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// An action's first live key as help shows it (`None` when it has none).
    pub fn first_key(&self, action: Action) -> Option<String> {
        self.keys_for(action).first().map(ToString::to_string)
    }

    /// "j, ↓" — the live bindings of an action, for help and the palette.
    pub fn describe(&self, action: Action) -> String {
        self.keys_for(action)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_resolve() {
        let km = Keymap::default();
        assert_eq!(
            km.action_for(&ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action_for(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action_for(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            km.action_for(&ev(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::Help)
        );
        assert_eq!(
            km.action_for(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevTab)
        );
    }

    #[test]
    fn parse_round_trips() {
        for k in [
            "a", "G", "ctrl-r", "enter", "esc", "f5", "?", "space", "alt-x", "pgdown",
        ] {
            let b = KeyBinding::parse(k).unwrap();
            assert_eq!(KeyBinding::parse(&b.to_string()).unwrap(), b, "{k}");
        }
        assert_eq!(
            KeyBinding::parse("shift-g").unwrap(),
            KeyBinding::parse("G").unwrap()
        );
        assert!(KeyBinding::parse("hyper-x").is_err());
    }

    #[test]
    fn remap_replaces_defaults() {
        let km = Keymap::build([("quit", vec!["Q"])]).unwrap();
        assert_eq!(
            km.action_for(&ev(KeyCode::Char('Q'), KeyModifiers::SHIFT)),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action_for(&ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn conflicts_name_both_bindings() {
        let e = Keymap::build([("refresh", vec!["j"])]).unwrap_err();
        assert!(e.contains("\"j\""), "{e}");
        assert!(e.contains("down") && e.contains("refresh"), "{e}");
        assert!(e.contains("keys.refresh"), "{e}");
    }

    #[test]
    fn unknown_action_is_named() {
        let e = Keymap::build([("launch-missiles", vec!["m"])]).unwrap_err();
        assert!(e.contains("keys.launch-missiles"), "{e}");
    }
}
