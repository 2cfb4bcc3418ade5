//! Fuzzy matching for `/` filters and the command palette.
//!
//! A query is split on whitespace into terms; a row matches when every term is a (case-insensitive)
//! subsequence of the row's search text. Rows keep their order in tables; the palette ranks by score.

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    bytes: Vec<u8>,
    ascii: bool,
    chars: Vec<char>,
}

impl Query {
    pub fn new(text: &str) -> Query {
        let terms = text
            .split_whitespace()
            .map(|t| {
                let lower = t.to_lowercase();
                Term {
                    ascii: lower.is_ascii(),
                    chars: lower.chars().collect(),
                    bytes: lower.into_bytes(),
                }
            })
            .collect();
        Query { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether `hay` (already lower-cased, see [`search_key`]) matches every term.
    pub fn matches(&self, hay: &str) -> bool {
        self.terms.iter().all(|t| term_matches(t, hay))
    }

    /// A ranking score (higher is better), or `None` when it does not match. For short lists.
    pub fn score(&self, text: &str) -> Option<i64> {
        let lower = text.to_lowercase();
        let chars: Vec<char> = lower.chars().collect();
        let mut total = 0i64;
        for t in &self.terms {
            total += score_term(&t.chars, &chars)?;
        }
        Some(total)
    }

    /// Character indices of `text` to highlight: each term's leftmost subsequence match, when the whole
    /// term matches inside `text`.
    pub fn highlight(&self, text: &str) -> Vec<usize> {
        let chars: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
        if chars.len() != text.chars().count() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for t in &self.terms {
            let mut pos = Vec::with_capacity(t.chars.len());
            let mut i = 0;
            for &c in &t.chars {
                while i < chars.len() && chars[i] != c {
                    i += 1;
                }
                if i == chars.len() {
                    pos.clear();
                    break;
                }
                pos.push(i);
                i += 1;
            }
            out.extend(pos);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The lower-cased text a row is searched by.
pub fn search_key(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for p in parts {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(p);
    }
    if s.is_ascii() {
        s.make_ascii_lowercase();
        s
    } else {
        s.to_lowercase()
    }
}

fn term_matches(t: &Term, hay: &str) -> bool {
    if t.ascii {
        let mut rest = hay.as_bytes();
        for &b in &t.bytes {
            match memchr::memchr(b, rest) {
                Some(i) => rest = &rest[i + 1..],
                None => return false,
            }
        }
        true
    } else {
        let mut it = hay.chars();
        t.chars.iter().all(|&c| it.any(|h| h == c))
    }
}

fn score_term(term: &[char], text: &[char]) -> Option<i64> {
    // Greedy from each possible start; keep the best. Texts here are short (action names, descriptions).
    let mut best: Option<i64> = None;
    let first = *term.first()?;
    for start in (0..text.len()).filter(|&i| text[i] == first) {
        let mut score = 0i64;
        let mut i = start;
        let mut prev: Option<usize> = None;
        let mut ok = true;
        for &c in term {
            while i < text.len() && text[i] != c {
                i += 1;
            }
            if i == text.len() {
                ok = false;
                break;
            }
            score += 10;
            if prev.is_some_and(|p| p + 1 == i) {
                score += 15;
            }
            if i == 0 || matches!(text[i - 1], ' ' | '-' | '_' | '/' | '.') {
                score += 20;
            }
            prev = Some(i);
            i += 1;
        }
        if ok {
            let span = (i - start) as i64;
            let s = score - span - start as i64 / 4;
            best = Some(best.map_or(s, |b: i64| b.max(s)));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn subsequence_and_terms() {
        let q = Query::new("chk fail");
        assert!(q.matches(&search_key(&["acme/checkout", "CI failed"])));
        assert!(!q.matches(&search_key(&["acme/web", "CI failed"])));
        assert!(Query::new("").matches("anything"));
        assert!(Query::new("ÉT").matches(&search_key(&["résumé été"])));
    }

    #[test]
    fn score_prefers_word_starts_and_runs() {
        let q = Query::new("nt");
        assert!(q.score("next-tab").unwrap() > q.score("intent").unwrap());
        assert!(Query::new("zz").score("next-tab").is_none());
    }

    #[test]
    fn highlight_positions() {
        assert_eq!(Query::new("co").highlight("Checkout"), vec![0, 5]);
        assert_eq!(Query::new("xyz").highlight("Checkout"), Vec::<usize>::new());
    }

    proptest! {
        #[test]
        fn text_always_matches_its_own_subsequences(text in "[a-zA-Z0-9 /_-]{0,40}", mask in any::<u64>()) {
            let picked: String = text.chars().enumerate()
                .filter(|(i, c)| mask & (1 << (i % 64)) != 0 && !c.is_whitespace())
                .map(|(_, c)| c).collect();
            let q = Query::new(&picked);
            prop_assert!(q.matches(&search_key(&[&text])));
        }

        #[test]
        fn a_match_is_never_longer_than_the_text(text in "[a-z]{0,10}", query in "[a-z]{11,20}") {
            prop_assert!(!Query::new(&query).matches(&text));
        }
    }
}
