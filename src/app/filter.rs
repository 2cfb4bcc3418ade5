//! Fuzzy matching for `/` filters and the command palette.
//!
//! A query is split on whitespace into terms; a row matches when every term is a (case-insensitive)
//! subsequence of the row's search text whose letters lie close together (within the term's length
//! plus six), so "chk" finds "checkout" but "alice" does not match letters scattered over a whole
//! row. The window grows by one per letter, so typing one more letter can only narrow the match
//! (the prefix's letters lie within its own window): the table then re-checks only the rows that
//! matched before. Rows keep their order in tables; the palette ranks by score.

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

    /// Whether every row this query matches is also matched by `before`: `before`'s terms are this
    /// query's first terms, unchanged but for the last, which may have grown at its end (typing).
    pub fn narrows(&self, before: &Query) -> bool {
        let n = before.terms.len();
        if n == 0 || n > self.terms.len() {
            return n == 0;
        }
        self.terms[..n - 1] == before.terms[..n - 1]
            && self.terms[n - 1]
                .chars
                .starts_with(&before.terms[n - 1].chars)
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
            if let Some(pos) = windowed_match(&t.chars, &chars) {
                out.extend(pos);
            }
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

/// How far apart a term's first and last letters may lie: its length plus six. It must not grow
/// by more than one per letter, or a longer term could match a row its prefix does not.
fn max_span(len: usize) -> usize {
    len + 6
}

fn term_matches(t: &Term, hay: &str) -> bool {
    if t.ascii {
        windowed_bytes(hay.as_bytes(), &t.bytes, max_span(t.bytes.len()))
    } else {
        let hay: Vec<char> = hay.chars().collect();
        windowed_match(&t.chars, &hay).is_some()
    }
}

/// Whether `term` occurs in `hay` as a subsequence spanning at most `span` bytes. Finds the leftmost
/// greedy occurrence, tightens its start by scanning back from its end, and moves on past that start
/// when it is still too wide: linear in practice, with memchr doing the scanning.
fn windowed_bytes(hay: &[u8], term: &[u8], span: usize) -> bool {
    let Some(&first) = term.first() else {
        return true;
    };
    let mut from = 0;
    while from < hay.len() {
        let Some(i) = memchr::memchr(first, &hay[from..]) else {
            return false;
        };
        let mut pos = from + i + 1;
        for &b in &term[1..] {
            match memchr::memchr(b, &hay[pos..]) {
                Some(j) => pos += j + 1,
                None => return false,
            }
        }
        let end = pos; // exclusive
        // Tighten: the latest start that still reaches `end`.
        let mut back = end;
        for &b in term.iter().rev() {
            match memchr::memrchr(b, &hay[..back]) {
                Some(j) => back = j,
                None => return false,
            }
        }
        if end - back <= span {
            return true;
        }
        from = back + 1;
    }
    false
}

/// The first match of `term` in `hay` whose letters lie within the span, as char positions.
fn windowed_match(term: &[char], hay: &[char]) -> Option<Vec<usize>> {
    let (&first, rest) = term.split_first()?;
    let span = max_span(term.len());
    for start in (0..hay.len()).filter(|&i| hay[i] == first) {
        let limit = (start + span).min(hay.len());
        let mut pos = vec![start];
        let mut i = start + 1;
        for &c in rest {
            while i < limit && hay[i] != c {
                i += 1;
            }
            if i >= limit {
                break;
            }
            pos.push(i);
            i += 1;
        }
        if pos.len() == term.len() {
            return Some(pos);
        }
    }
    None
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
        fn text_always_matches_its_own_words(text in "[a-zA-Z0-9 /_-]{0,40}", a in 0usize..40, len in 1usize..10) {
            // Any piece of the text (a substring, split into words by the query parser) matches.
            let chars: Vec<char> = text.chars().collect();
            let start = a.min(chars.len());
            let end = (start + len).min(chars.len());
            let piece: String = chars[start..end].iter().collect();
            prop_assert!(Query::new(&piece).matches(&search_key(&[&text])));
        }

        #[test]
        fn the_fast_matcher_agrees_with_the_simple_one(hay in "[a-e ]{0,60}", q in "[a-e]{1,5}") {
            let chars: Vec<char> = hay.chars().collect();
            let term: Vec<char> = q.chars().collect();
            prop_assert_eq!(
                windowed_bytes(hay.as_bytes(), q.as_bytes(), max_span(q.len())),
                windowed_match(&term, &chars).is_some()
            );
        }

        #[test]
        fn a_longer_term_matches_only_where_its_prefix_does(hay in "[a-e ]{0,60}", q in "[a-e]{1,5}", more in "[a-e]{1,4}") {
            // What makes narrowing by typing correct.
            let longer = format!("{q}{more}");
            if Query::new(&longer).matches(&hay) {
                prop_assert!(Query::new(&q).matches(&hay), "{longer:?} matches {hay:?} but {q:?} does not");
            }
            prop_assert!(Query::new(&longer).narrows(&Query::new(&q)));
            prop_assert!(!Query::new(&q).narrows(&Query::new(&longer)));
        }

        #[test]
        fn a_match_keeps_its_letters_close(hay in "[a-z ]{0,60}", q in "[a-z]{1,6}") {
            // Whatever matches, some window of len + 6 characters holds the letters in order.
            let query = Query::new(&q);
            if query.matches(&hay) {
                let chars: Vec<char> = hay.chars().collect();
                let term: Vec<char> = q.chars().collect();
                prop_assert!(windowed_match(&term, &chars).is_some());
            }
        }

        #[test]
        fn a_match_is_never_longer_than_the_text(text in "[a-z]{0,10}", query in "[a-z]{11,20}") {
            prop_assert!(!Query::new(&query).matches(&text));
        }
    }
}
