//! Small helpers shared by the simulated APIs: stable hashing, deterministic noise, timestamps and
//! query-string handling. Nothing here reads the wall clock.

use time::OffsetDateTime;
use time::macros::format_description;

/// 2026-11-23T09:00:00Z: scenario second 0 in every payload timestamp.
pub const BASE_UNIX: i64 = 1_795_424_400;

/// FNV-1a, 64 bit: stable across Rust versions (unlike `DefaultHasher`).
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// splitmix64 finaliser: spreads a seed over all bits.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `len` lowercase hex digits derived from `seed` (commit SHAs, event ids, ETags).
pub fn hex_id(seed: &str, len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    let mut h = fnv64(seed.as_bytes());
    while out.len() < len {
        h = mix(h);
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(len);
    out
}

/// A deterministic value in [-1, 1] for lattice point `k` of stream `seed`.
fn lattice(seed: u64, k: i64) -> f64 {
    let h = mix(seed ^ mix(k as u64));
    (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// Smooth deterministic noise in [-1, 1]: value noise over a lattice of `period` seconds.
pub fn noise(seed: &str, t: f64, period: f64) -> f64 {
    let s = fnv64(seed.as_bytes());
    let x = t / period;
    let k = x.floor();
    let f = x - k;
    let f = f * f * (3.0 - 2.0 * f);
    let k = k as i64;
    let a = lattice(s, k);
    let b = lattice(s, k.wrapping_add(1));
    a + (b - a) * f
}

/// A small deterministic integer in `0..n` for `(seed, k)`.
pub fn pick(seed: &str, k: i64, n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    mix(fnv64(seed.as_bytes()) ^ mix(k as u64)) % n
}

static ANCHOR: std::sync::OnceLock<i64> = std::sync::OnceLock::new();

/// Move scenario second 0 to `unix` for the rest of the process (first call wins).
pub fn anchor_base(unix: i64) {
    let _ = ANCHOR.set(unix);
}

/// Unix seconds of a scenario time (whole seconds, floored).
pub fn unix_of(scenario_secs: f64) -> i64 {
    ANCHOR.get().copied().unwrap_or(BASE_UNIX) + scenario_secs.floor() as i64
}

/// ISO-8601 UTC with a `Z`, whole seconds, e.g. `2026-11-23T09:00:00Z`.
pub fn iso_unix(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// ISO-8601 UTC timestamp of a scenario time.
pub fn iso(scenario_secs: f64) -> String {
    iso_unix(unix_of(scenario_secs))
}

/// ISO-8601 UTC with microseconds (Sentry event `dateCreated`).
pub fn iso_micros(scenario_secs: f64) -> String {
    let micros = ((scenario_secs - scenario_secs.floor()) * 1e6).floor() as i64;
    let whole = iso(scenario_secs);
    let stem = whole.trim_end_matches('Z');
    format!("{stem}.{micros:06}Z")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (GraphQL cursors).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Inverse of [`base64_encode`]; `None` for anything it would not produce.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (k, chunk) in bytes.chunks(4).enumerate() {
        let last = k + 1 == bytes.len() / 4;
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad {
                0
            } else {
                B64.iter().position(|b| b == c)? as u32
            };
            n |= v << (18 - 6 * i);
        }
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    Some(out)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; bad escapes stay
/// literal.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `:` (allowed in a query,
/// and how Sentry writes cursors such as `0:100:0`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses a query string or form body into ordered pairs.
pub fn parse_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

/// First value of `key`.
pub fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Rebuilds a URL with every pair but `replace`, then `replace=value` last.
pub fn url_with(
    base: &str,
    path: &str,
    pairs: &[(String, String)],
    replace: &str,
    value: &str,
) -> String {
    let mut q: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != replace)
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    q.push(format!(
        "{}={}",
        percent_encode(replace),
        percent_encode(value)
    ));
    format!("{base}{path}?{}", q.join("&"))
}

/// Removes control characters (ANSI escapes included) and collapses whitespace.
pub fn clean_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip a CSI sequence `ESC [ ... final` or a two-character escape.
            if chars.peek() == Some(&'[') {
                chars.next();
                for n in chars.by_ref() {
                    if ('@'..='~').contains(&n) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
            continue;
        }
        if c.is_whitespace() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_formats_base_time() {
        assert_eq!(iso(0.0), "2026-11-23T09:00:00Z");
        assert_eq!(iso(83.7), "2026-11-23T09:01:23Z");
        assert_eq!(iso_micros(1.5), "2026-11-23T09:00:01.500000Z");
    }

    #[test]
    fn percent_round_trip() {
        let pairs = parse_pairs("query=a%2Bb+c&x&per_page=2");
        assert_eq!(pairs[0], ("query".into(), "a+b c".into()));
        assert_eq!(pairs[1], ("x".into(), String::new()));
        assert_eq!(param(&pairs, "per_page"), Some("2"));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_encode("is:unresolved x"), "is:unresolved%20x");
        assert_eq!(percent_encode("a&b=c/d"), "a%26b%3Dc%2Fd");
    }

    #[test]
    fn base64_round_trip() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("cursor:v2:1", "Y3Vyc29yOnYyOjE="),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), coded);
            assert_eq!(base64_decode(coded).as_deref(), Some(plain.as_bytes()));
        }
        for bad in ["Zg", "Z===", "Zg==Zm9v", "Zm9v!A==", "===="] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn noise_is_bounded_and_deterministic() {
        for i in 0..500 {
            let t = f64::from(i) * 0.37;
            let n = noise("s", t, 5.0);
            assert!((-1.0..=1.0).contains(&n));
            assert_eq!(n, noise("s", t, 5.0));
        }
        assert_eq!(hex_id("a", 40).len(), 40);
        assert_ne!(hex_id("a", 40), hex_id("b", 40));
    }

    #[test]
    fn clean_text_strips_escapes() {
        assert_eq!(
            clean_text("\u{1b}[31mfix\u{1b}[0m:\n colour\tbleed"),
            "fix: colour bleed"
        );
    }
}
