//! Reading an event ratio's PromQL apart: `errors / requests` into the query for its events and
//! the query for its requests, so that a ratio written the way dashboards write it is judged on
//! the counts behind it (see `analysis::counts`) without the user restating both halves.
//!
//! Only the plain shape is read apart; anything else is left to the user's explicit `errors` /
//! `requests` keys. The query must be one division at its top level (no other operator, no
//! `group_left`/`group_right`; an `on(…)`/`ignoring(…)` before the divisor is dropped), and
//! each half must select metrics by name. The halves must count events of the same kind: the
//! same metric names on both sides (the numerator filtering them, e.g. `code=~"5.."`), or a
//! numerator whose every metric names errors or failures. A mean (`…_sum / …_count`) or a
//! histogram's share is never read as an event ratio.
//!
//! Pure text: no I/O.

/// The quantile `q` of a query that is `histogram_quantile(q, …)` at its top level, or that
/// times or over a number (`… * 1000`, a unit's change; 0 < q < 1).
pub fn quantile_of(query: &str) -> Option<f64> {
    let mut q = strip_parens(query.trim());
    // A number times the call.
    if let Some((k, call)) = q.split_once('*')
        && k.trim().parse::<f64>().is_ok()
    {
        q = strip_parens(call.trim());
    }
    let rest = q.strip_prefix("histogram_quantile")?.trim_start();
    let inner = rest.strip_prefix('(')?;
    // The call is the whole query but for a number it is multiplied or divided by.
    let close = matching_close(rest)?;
    let after = rest[close + 1..].trim();
    let scaled = after
        .strip_prefix('*')
        .or_else(|| after.strip_prefix('/'))
        .is_some_and(|k| k.trim().parse::<f64>().is_ok());
    if !(after.is_empty() || scaled) {
        return None;
    }
    let (first, _) = inner.split_once(',')?;
    let v: f64 = first.trim().parse().ok()?;
    (v > 0.0 && v < 1.0).then_some(v)
}

/// The numerator and denominator of `query` when it is an event ratio (see the module's doc),
/// each a query of its own (trimmed, outer parentheses removed).
pub fn split_event_ratio(query: &str) -> Option<(String, String)> {
    let q = strip_parens(query.trim());
    let divisions = top_level_operators(q)?;
    let [at] = divisions[..] else {
        return None;
    };
    let (num, den) = (q[..at].trim(), q[at + 1..].trim());
    let den = strip_matching(den)?;
    let (num, den) = (strip_parens(num), strip_parens(den));
    if num.is_empty() || den.is_empty() || num == den {
        return None;
    }
    let (a, b) = (metric_names(num), metric_names(den));
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let lower = |q: &str| q.to_ascii_lowercase();
    if [num, den].iter().any(|q| {
        let q = lower(q);
        q.contains("histogram_quantile") || q.contains("quantile(")
    }) || a
        .iter()
        .chain(&b)
        .any(|n| n.ends_with("_sum") || n.ends_with("_bucket"))
    {
        return None;
    }
    let failures = |n: &String| {
        let n = lower(n);
        ["error", "fail", "fault", "5xx"]
            .iter()
            .any(|w| n.contains(w))
    };
    let same = a == b;
    let named = a.iter().all(failures) && !b.iter().any(failures);
    (same || named).then(|| (num.to_string(), den.to_string()))
}

/// The bytes of a query outside its string literals (`"…"`, `'…'` with escapes, `` `…` ``
/// raw), with their offsets.
struct Unquoted<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Unquoted<'a> {
    fn new(q: &'a str) -> Self {
        Unquoted {
            bytes: q.as_bytes(),
            at: 0,
        }
    }

    /// Go on from `at` (past a word just read).
    fn skip_to(&mut self, at: usize) {
        self.at = at;
    }

    /// Whether the query ended inside a string.
    fn in_string(&self) -> bool {
        self.at > self.bytes.len()
    }
}

impl Iterator for Unquoted<'_> {
    type Item = (usize, u8);

    fn next(&mut self) -> Option<(usize, u8)> {
        let c = *self.bytes.get(self.at)?;
        if matches!(c, b'"' | b'\'' | b'`') {
            let mut i = self.at + 1;
            loop {
                match self.bytes.get(i) {
                    None => {
                        self.at = self.bytes.len() + 1;
                        return None;
                    }
                    Some(b'\\') if c != b'`' => i += 2,
                    Some(&b) if b == c => break,
                    Some(_) => i += 1,
                }
            }
            self.at = i + 1;
            return self.next();
        }
        self.at += 1;
        Some((self.at - 1, c))
    }
}

/// Byte offsets of the `/` operators at the top level of `q`, or None when `q` has any other
/// top-level operator (arithmetic, comparison, set, `@`) or unbalanced brackets.
fn top_level_operators(q: &str) -> Option<Vec<usize>> {
    let bytes = q.as_bytes();
    let mut depth = 0i32;
    let mut divisions = Vec::new();
    let mut it = Unquoted::new(q);
    while let Some((i, c)) = it.next() {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            b'/' if depth == 0 => divisions.push(i),
            b'*' | b'+' | b'-' | b'%' | b'^' | b'=' | b'!' | b'<' | b'>' | b'@' if depth == 0 => {
                return None;
            }
            _ if depth == 0 && c.is_ascii_alphabetic() => {
                let end = word_end(bytes, i);
                if matches!(&q[i..end], "and" | "or" | "unless" | "atan2") {
                    return None;
                }
                it.skip_to(end);
            }
            _ => {}
        }
    }
    (depth == 0 && !it.in_string()).then_some(divisions)
}

fn word_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < bytes.len()
        && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b':'))
    {
        end += 1;
    }
    end
}

/// The divisor without a leading `on(…)` / `ignoring(…)`; None with `group_left`/`group_right`
/// (a many-to-one match: each half alone is not the ratio's count).
fn strip_matching(den: &str) -> Option<&str> {
    let word = &den[..word_end(den.as_bytes(), 0)];
    if !matches!(word, "on" | "ignoring") {
        return Some(den);
    }
    let rest = den[word.len()..].trim_start();
    let close = matching_close(rest)?;
    let after = rest[close + 1..].trim_start();
    if after.starts_with("group_left") || after.starts_with("group_right") {
        return None;
    }
    Some(after)
}

/// The offset of the `)` closing the `(` that `s` starts with.
fn matching_close(s: &str) -> Option<usize> {
    if !s.starts_with('(') {
        return None;
    }
    let mut depth = 0i32;
    for (i, c) in Unquoted::new(s) {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `s` without parentheses that wrap all of it.
fn strip_parens(mut s: &str) -> &str {
    while matching_close(s).is_some_and(|c| c == s.len() - 1) {
        s = s[1..s.len() - 1].trim();
    }
    s
}

/// The metric names `q` selects: identifiers followed by a `{…}` matcher list or a `[…]` range,
/// outside matcher lists and strings, or `q` itself when it is one bare name (a recording rule)
/// (sorted, without repeats).
fn metric_names(q: &str) -> Vec<String> {
    let bytes = q.as_bytes();
    if !q.is_empty() && !bytes[0].is_ascii_digit() && word_end(bytes, 0) == q.len() {
        return vec![q.to_string()];
    }
    let mut names = Vec::new();
    let mut braces = 0i32;
    let mut it = Unquoted::new(q);
    while let Some((i, c)) = it.next() {
        match c {
            b'{' => braces += 1,
            b'}' => braces -= 1,
            _ if braces == 0 && (c.is_ascii_alphabetic() || c == b'_' || c == b':') => {
                let end = word_end(bytes, i);
                let next = q[end..].trim_start().bytes().next();
                if matches!(next, Some(b'{') | Some(b'[')) {
                    names.push(q[i..end].to_string());
                }
                it.skip_to(end);
            }
            _ => {}
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantile_of_a_histogram_quantile_query() {
        assert_eq!(
            quantile_of(
                "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{track=\"canary\"}[1m])))"
            ),
            Some(0.99)
        );
        assert_eq!(quantile_of(" ( histogram_quantile (0.5,x) ) "), Some(0.5));
        // In another unit.
        assert_eq!(
            quantile_of("histogram_quantile(0.99, x) * 1000"),
            Some(0.99)
        );
        assert_eq!(quantile_of("1e3 * histogram_quantile(0.95, x)"), Some(0.95));
        assert_eq!(quantile_of("histogram_quantile(0.9, x) / 0.001"), Some(0.9));
        // Not the whole query, not a quantile, not a number in (0, 1).
        assert_eq!(quantile_of("histogram_quantile(0.99, x) * y"), None);
        assert_eq!(quantile_of("histogram_quantile(0.99, x) + 5"), None);
        assert_eq!(quantile_of("rate(x[1m])"), None);
        assert_eq!(quantile_of("histogram_quantile(1.5, x)"), None);
        assert_eq!(quantile_of("histogram_quantile(q, x)"), None);
    }

    fn split(q: &str) -> Option<(String, String)> {
        split_event_ratio(q)
    }

    #[test]
    fn the_usual_error_ratio_is_read_into_its_events_and_its_requests() {
        let q = r#"sum(rate(http_requests_total{app="checkout",track="canary",code=~"5.."}[1m])) / sum(rate(http_requests_total{app="checkout",track="canary"}[1m]))"#;
        assert_eq!(
            split(q),
            Some((
                r#"sum(rate(http_requests_total{app="checkout",track="canary",code=~"5.."}[1m]))"#
                    .to_string(),
                r#"sum(rate(http_requests_total{app="checkout",track="canary"}[1m]))"#.to_string()
            ))
        );
        // Wrapped in parentheses, with a vector match before the divisor, gRPC's codes.
        let q = r#"( sum by (svc) (rate(grpc_server_handled_total{grpc_code!="OK"}[5m])) / ignoring(grpc_code) sum by (svc) (rate(grpc_server_handled_total[5m])) )"#;
        assert_eq!(
            split(q),
            Some((
                r#"sum by (svc) (rate(grpc_server_handled_total{grpc_code!="OK"}[5m]))"#
                    .to_string(),
                r#"sum by (svc) (rate(grpc_server_handled_total[5m]))"#.to_string()
            ))
        );
        // Two counters, the numerator named for its failures.
        assert_eq!(
            split("rate(checkout_errors_total[1m]) / rate(checkout_requests_total[1m])"),
            Some((
                "rate(checkout_errors_total[1m])".to_string(),
                "rate(checkout_requests_total[1m])".to_string()
            ))
        );
        // Recording rules.
        assert_eq!(
            split("job:http_errors:rate5m / job:http_requests:rate5m"),
            Some((
                "job:http_errors:rate5m".to_string(),
                "job:http_requests:rate5m".to_string()
            ))
        );
        // A division sign inside a string is not the ratio's.
        let q = r#"sum(rate(x_total{path="/a/b",code=~"5.."}[1m])) / sum(rate(x_total{path="/a/b"}[1m]))"#;
        assert!(split(q).is_some_and(|(n, _)| n.contains(r#""/a/b""#)));
        // …nor one after an escaped quote, nor in a raw string.
        let q = r#"sum(rate(x_total{path="a\"/b",code=~`5/.`}[1m])) / sum(rate(x_total[1m]))"#;
        assert_eq!(
            split(q).map(|(_, d)| d),
            Some("sum(rate(x_total[1m]))".to_string())
        );
    }

    #[test]
    fn what_is_not_a_plain_event_ratio_is_left_alone() {
        for q in [
            // A mean, not events per request.
            "rate(http_request_duration_seconds_sum[1m]) / rate(http_request_duration_seconds_count[1m])",
            // A percentage, another operator at the top.
            r#"sum(rate(x_total{code=~"5.."}[1m])) / sum(rate(x_total[1m])) * 100"#,
            "1 - sum(rate(x_total{code=\"200\"}[1m])) / sum(rate(x_total[1m]))",
            // A quantile, no division at all, two divisions.
            "histogram_quantile(0.99, sum by (le) (rate(h_bucket[1m]))) / 1000",
            r#"sum(rate(x_total{code=~"5.."}[1m]))"#,
            "rate(a_errors_total[1m]) / rate(b_total[1m]) / rate(c_total[1m])",
            // Different metrics, the numerator not named for failures.
            "rate(cache_misses_total[1m]) / rate(cache_lookups_total[1m])",
            // The same query on both sides; a many-to-one match; unbalanced; set operators.
            "rate(x_total[1m]) / rate(x_total[1m])",
            r#"rate(x_total{code="500"}[1m]) / on(app) group_left rate(x_total[1m])"#,
            r#"sum(rate(x_total{code="500"}[1m]) / sum(rate(x_total[1m]))"#,
            r#"rate(x_total{code="500"}[1m]) / rate(x_total[1m]) and on() vector(1)"#,
            // Recording rules of different names, neither for failures.
            "job:http_bad:rate5m / job:http_all:rate5m",
            "0.5 / 2",
            // A string never closed.
            r#"rate(x_total{code="5..}[1m]) / rate(x_total[1m])"#,
        ] {
            assert_eq!(split(q), None, "{q}");
        }
    }
}
