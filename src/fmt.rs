//! Formatting shared by the cockpit's state, its drawing and the headless commands: ages and
//! counted nouns. Neutral ground: imports nothing from the crate.

/// "45s", "12m", "3h", "5d".
pub fn fmt_age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// Like [`fmt_age`] but without seconds ("now" under a minute), so that tables do not change every second.
pub fn fmt_age_coarse(secs: i64) -> String {
    if secs < 60 {
        "now".into()
    } else {
        fmt_age(secs)
    }
}

/// "1 line", "3 lines", "0 lines" (regular English plurals).
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Like [`plural`] for irregular plurals: `plural_with(2, "match", "matches")` is "2 matches".
pub fn plural_with(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `▁▂▃▄▅▆▇█` from zero to the largest value; a bucket without data is a space.
pub fn sparkline(trend: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = trend
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    trend
        .iter()
        .map(|v| match v {
            Some(v) if v.is_finite() => {
                let k = if max > 0.0 {
                    ((v.max(0.0) / max) * 7.0).round() as usize
                } else {
                    0
                };
                BARS[k.min(7)]
            }
            _ => ' ',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_nouns() {
        assert_eq!(plural(1, "pending deployment"), "1 pending deployment");
        assert_eq!(plural(0, "line"), "0 lines");
        assert_eq!(plural_with(3, "match", "matches"), "3 matches");
        assert_eq!(plural_with(1, "match", "matches"), "1 match");
    }

    #[test]
    fn ages() {
        assert_eq!(fmt_age(-5), "0s");
        assert_eq!(fmt_age(59), "59s");
        assert_eq!(fmt_age(3600), "1h");
        assert_eq!(fmt_age_coarse(30), "now");
        assert_eq!(fmt_age_coarse(90_000), "1d");
    }
}
