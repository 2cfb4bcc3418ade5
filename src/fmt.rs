//! Small text helpers shared by everything that prints for humans.

/// `n` and `word`, with the word in the plural unless `n` is 1: `plural(1, "run")` is "1 run",
/// `plural(3, "open PR")` is "3 open PRs". Regular English plurals only (adds "s"); see
/// [`plural_with`] for the others.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `n` and the form of the word that goes with it, for irregular plurals:
/// `plural_with(2, "match", "matches")` is "2 matches".
pub fn plural_with(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("{n} {singular}")
    } else {
        format!("{n} {plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_agrees_with_the_count() {
        assert_eq!(plural(0, "deployment"), "0 deployments");
        assert_eq!(plural(1, "deployment"), "1 deployment");
        assert_eq!(plural(2, "open PR"), "2 open PRs");
        assert_eq!(plural_with(1, "match", "matches"), "1 match");
        assert_eq!(plural_with(3, "match", "matches"), "3 matches");
        assert_eq!(plural_with(0, "entry", "entries"), "0 entries");
    }
}
