//! pydantic-core's lax conversions of what JSON carries, written after its source
//! (`src/input/shared.rs`, `input_python.rs`, `validators/url.rs`; pydantic-core 2.x, as
//! pydantic 2.14 ships it) and checked against pydantic itself by the differential test:
//! strings to integers, floats and booleans, numbers to booleans, HttpUrl's checks, and
//! Python's `repr` of literal values for messages.

/// How Python receives a JSON number that a browser's `JSON.stringify` wrote: a whole number
/// below 1e21 as an `int`, anything else as a `float`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PyNum {
    Int(f64),
    Float(f64),
}

pub fn py_num(n: f64) -> PyNum {
    if n.fract() == 0.0 && n.abs() < 1e21 {
        PyNum::Int(n)
    } else {
        PyNum::Float(n)
    }
}

/// Why a value is not an integer (pydantic's error types).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IntErr {
    /// `int_parsing`
    Parsing,
    /// `int_from_float`
    FromFloat,
    /// `int_parsing_size`
    Size,
}

/// A Python float to an int: `float_as_int`.
pub fn float_as_int(f: f64) -> Result<f64, IntErr> {
    if !f.is_finite() {
        // `finite_number`: JSON from a browser never carries it.
        return Err(IntErr::Size);
    }
    if f.fract() != 0.0 {
        return Err(IntErr::FromFloat);
    }
    if (i64::MIN as f64) < f && f < (i64::MAX as f64) {
        Ok(f)
    } else {
        Err(IntErr::Size)
    }
}

/// jiter's `NumberInt::try_from`: `-?(0|[1-9][0-9]*)` and nothing else. `Err(true)` when it
/// is such a number but longer than 4300 characters (Python's limit).
fn json_int(s: &str) -> Result<f64, bool> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let b = digits.as_bytes();
    let valid = !b.is_empty() && b.iter().all(u8::is_ascii_digit) && (b[0] != b'0' || b.len() == 1);
    if !valid {
        return Err(false);
    }
    if s.len() > 4300 {
        return Err(true);
    }
    let v = digits.bytes().fold(0f64, |acc, d| acc * 10.0 + f64::from(d - b'0'));
    Ok(if s.starts_with('-') { -v } else { v })
}

/// `strip_leading_zeros` of pydantic-core.
fn strip_leading_zeros(s: &str) -> Option<&str> {
    let mut it = s.char_indices();
    match it.next() {
        Some((_, '0')) => {}
        Some((_, c)) if c.is_ascii_digit() || c == '-' => return Some(s),
        _ => return None,
    }
    for (i, c) in it {
        match c {
            '0' | '_' => {}
            '1'..='9' | '-' => return s.get(i..),
            // The point keeps its last zero: `00.0` -> `0.0`.
            '.' => return s.get(i - 1..),
            _ => return None,
        }
    }
    s.get(s.len() - 1..)
}

/// `strip_underscores`: `1_000` -> `1000`; leading, trailing or doubled underscores refuse.
fn strip_underscores(s: &str) -> Option<String> {
    if s.starts_with('_') || s.ends_with('_') || !s.as_bytes().contains(&b'_') || s.as_bytes().windows(2).any(|w| w == b"__") {
        None
    } else {
        Some(s.chars().filter(|c| *c != '_').collect())
    }
}

/// `clean_int_str`: whitespace, a `+`, leading zeros, a `.000` tail and underscores removed.
fn clean_int_str(original: &str) -> Option<String> {
    let len_before = original.len();
    let mut s = original.trim();
    if let Some(rest) = s.strip_prefix('+') {
        if rest.starts_with('-') {
            return None;
        }
        s = rest;
    }
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        if rest.starts_with('-') || rest.starts_with('+') {
            return None;
        }
        negative = true;
        s = rest;
    }
    s = strip_leading_zeros(s)?;
    if let Some(i) = s.find('.') {
        let decimals = s.get(i + 1..).unwrap_or("");
        if !decimals.is_empty() && decimals.bytes().all(|b| b == b'0') {
            s = s.get(..i).unwrap_or(s);
        }
    }
    let mut out = String::from(if negative { "-" } else { "" });
    match strip_underscores(s) {
        Some(stripped) => out.push_str(&stripped),
        None if len_before == s.len() => return None,
        None => out.push_str(s),
    }
    Some(out)
}

/// A string to an integer, as pydantic's lax mode reads it (`str_as_int`).
pub fn str_as_int(s: &str) -> Result<f64, IntErr> {
    match json_int(s) {
        Ok(v) => return Ok(v),
        Err(true) => return Err(IntErr::Size),
        Err(false) => {}
    }
    let cleaned = clean_int_str(s).ok_or(IntErr::Parsing)?;
    json_int(&cleaned).map_err(|_| IntErr::Parsing)
}

/// Rust's `f64::from_str` grammar (what pydantic-core calls): a sign, then `inf`, `infinity`,
/// `nan` (any case) or digits with an optional point and exponent.
fn rust_float(s: &str) -> Option<f64> {
    let (neg, body) = match (s.strip_prefix('-'), s.strip_prefix('+')) {
        (Some(rest), _) => (true, rest),
        (_, Some(rest)) => (false, rest),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => {
            let (mantissa, exp) = match lower.split_once('e') {
                Some((m, e)) => (m, Some(e)),
                None => (lower.as_str(), None),
            };
            let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
            let digits_ok = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
            if (int.is_empty() && frac.is_empty()) || !digits_ok(int) || !digits_ok(frac) {
                return None;
            }
            if let Some(e) = exp {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                if e.is_empty() || !digits_ok(e) {
                    return None;
                }
            }
            // The grammar is checked; the value (needed only against bounds) may round.
            let mut normal = String::from(if int.is_empty() { "0" } else { int });
            if !frac.is_empty() {
                normal.push('.');
                normal.push_str(frac);
            }
            if let Some(e) = exp {
                normal.push('e');
                normal.push_str(e);
            }
            crate::proto::num::parse_float(&normal).unwrap_or(f64::INFINITY)
        }
    };
    Some(if neg { -v } else { v })
}

/// A string to a float, as pydantic's lax mode reads it (`str_as_float`). None: `float_parsing`.
pub fn str_as_float(s: &str) -> Option<f64> {
    rust_float(s.trim()).or_else(|| strip_underscores(s).and_then(|t| rust_float(&t)))
}

/// A string to a bool (`str_as_bool`). None: `bool_parsing`.
pub fn str_as_bool(s: &str) -> Option<bool> {
    let is = |w: &str| s.eq_ignore_ascii_case(w);
    if s == "0" || is("f") || is("n") || is("no") || is("off") || is("false") {
        Some(false)
    } else if s == "1" || is("t") || is("y") || is("on") || is("yes") || is("true") {
        Some(true)
    } else {
        None
    }
}

/// What pydantic's `HttpUrl` (http/https, a host required) makes of a string, as far as this
/// side can be sure. `Fine` includes every URL whose host or port only the server's WHATWG
/// parser can judge: those are left to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UrlVerdict {
    Fine,
    /// `url_parsing` with this `error`.
    Parsing(&'static str),
    /// `url_scheme`: parses, but not http(s).
    Scheme,
}

fn scheme_of(t: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = t.split_once(':')?;
    let mut b = scheme.bytes();
    let first_alpha = b.next().is_some_and(|c| c.is_ascii_alphabetic());
    (first_alpha && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))).then_some((scheme, rest))
}

/// The host of a special URL's authority, after its slashes, and whether a port follows it.
fn authority(rest: &str) -> &str {
    let after = rest.trim_start_matches(['/', '\\']);
    let end = after.find(['/', '\\', '?', '#']).unwrap_or(after.len());
    let auth = after.get(..end).unwrap_or(after);
    auth.rsplit_once('@').map(|(_, h)| h).unwrap_or(auth)
}

/// A host and port the WHATWG parser certainly takes: ASCII letters, digits, `-`, `_`, `.`,
/// not ending in a numeric label (that is read as IPv4) unless it is a plain dotted quad, and a
/// port up to 65535.
fn plain_host(host_port: &str) -> bool {
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
    let last = host.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u32>().is_ok_and(|p| p <= 65535));
    let byte = |p: &str| {
        !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0')) && p.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    let quad = host.split('.').count() == 4 && host.split('.').all(byte);
    let name = host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !last.is_empty()
        && !last.bytes().all(|b| b.is_ascii_digit())
        && !last.to_ascii_lowercase().starts_with("0x");
    !host.is_empty() && (quad || name) && port_ok
}

/// `HttpUrl`'s parse and scheme checks (the caller checks the type, unicode and length first).
pub fn http_url(s: &str) -> UrlVerdict {
    if s.is_empty() {
        return UrlVerdict::Parsing("input is empty");
    }
    // WHATWG: C0 controls and spaces around the URL are dropped, tabs and newlines anywhere.
    let trimmed = s.trim_matches(|c: char| c <= ' ');
    let cleaned: String = trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let Some((scheme, rest)) = scheme_of(&cleaned) else {
        return UrlVerdict::Parsing("relative URL without a base");
    };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "http" | "https" => {
            let host_port = authority(rest);
            if host_port.is_empty() || host_port.starts_with(':') {
                UrlVerdict::Parsing("empty host")
            } else {
                UrlVerdict::Fine
            }
        }
        "ftp" | "ws" | "wss" => match authority(rest) {
            "" => UrlVerdict::Parsing("empty host"),
            h if plain_host(h) => UrlVerdict::Scheme,
            _ => UrlVerdict::Fine,
        },
        "file" => {
            let rest = rest.replace('\\', "/");
            match rest.strip_prefix("//") {
                None => UrlVerdict::Scheme,
                Some(after) => {
                    let host = after.split(['/', '?', '#']).next().unwrap_or("");
                    if host.is_empty() || (plain_host(host) && !host.as_bytes().contains(&b':')) {
                        UrlVerdict::Scheme
                    } else {
                        UrlVerdict::Fine
                    }
                }
            }
        }
        // Other schemes: without an authority the rest is a path, which always parses.
        _ if !rest.starts_with("//") => UrlVerdict::Scheme,
        _ => UrlVerdict::Fine,
    }
}

/// Python's `repr` of a string, as pydantic-core puts it in `literal[...]` and messages.
pub fn py_repr_str(s: &str) -> String {
    let has = |b: u8| s.as_bytes().contains(&b);
    let quote = if has(b'\'') && !has(b'"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !printable(c) => {
                let n = c as u32;
                let (prefix, width) = if n < 0x100 {
                    ("\\x", 2)
                } else if n < 0x10000 {
                    ("\\u", 4)
                } else {
                    ("\\U", 8)
                };
                out.push_str(prefix);
                for shift in (0..width).rev() {
                    out.push(char::from(b"0123456789abcdef"[(n >> (4 * shift)) as usize & 15]));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable` for the characters schemas use: controls, separators other than
/// the space, and the common format characters are not.
fn printable(c: char) -> bool {
    let n = c as u32;
    !(n < 0x20
        || (0x7f..=0xa0).contains(&n)
        || n == 0xad
        || n == 0x1680
        || (0x2000..=0x200f).contains(&n)
        || (0x2028..=0x202f).contains(&n)
        || (0x205f..=0x206f).contains(&n)
        || n == 0x3000
        || n == 0xfeff
        || (0xe000..=0xf8ff).contains(&n)
        || (0xfff9..=0xfffb).contains(&n)
        || n >= 0xf0000)
}

/// Python's `repr` of a float that is not a whole number: the shortest digits, with an
/// exponent below 1e-4 (`1e-05`, `2.5e-07`).
pub fn py_repr_fraction(n: f64) -> String {
    let plain = crate::proto::num::fmt(n);
    if n == 0.0 || n.abs() >= 1e-4 || !n.is_finite() {
        return plain;
    }
    let (sign, digits) = plain.strip_prefix('-').map_or(("", plain.as_str()), |d| ("-", d));
    // 0.0000123 -> digits "123", exponent -5.
    let frac = digits.strip_prefix("0.").unwrap_or(digits);
    let sig = frac.trim_start_matches('0');
    let exp = (frac.len() - sig.len() + 1) as u64;
    let mut out = String::from(sign);
    for (i, c) in sig.chars().enumerate() {
        if i == 1 {
            out.push('.');
        }
        out.push(c);
    }
    out.push_str(if exp < 10 { "e-0" } else { "e-" });
    crate::proto::num::write_u64(&mut out, exp);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_from_strings_as_pydantic_reads_them() {
        for (s, v) in [
            ("2", 2.0),
            (" 2 ", 2.0),
            ("+2", 2.0),
            ("2.0", 2.0),
            ("2.00", 2.0),
            ("01.0", 1.0),
            ("1_000", 1000.0),
            (" 1_000 ", 1000.0),
            ("0-1", -1.0),
            ("00", 0.0),
            ("-0", 0.0),
            ("-00.000", 0.0),
            ("0_0", 0.0),
            ("\u{a0}2\u{a0}", 2.0),
        ] {
            assert_eq!(str_as_int(s), Ok(v), "{s:?}");
        }
        for s in ["2.5", "abc", "1e3", "0x10", "1__0", "+-1", "--1", "1.", "-", "+", "", " ", "١٢"] {
            assert_eq!(str_as_int(s), Err(IntErr::Parsing), "{s:?}");
        }
        assert_eq!(str_as_int(&"9".repeat(4301)), Err(IntErr::Size));
    }

    #[test]
    fn floats_and_bools_from_strings() {
        for (s, v) in [(" 4 ", 4.0), ("1_000.5", 1000.5), ("+.5", 0.5), ("1.", 1.0), ("1e3", 1000.0), ("-Infinity", f64::NEG_INFINITY)] {
            assert_eq!(str_as_float(s), Some(v), "{s:?}");
        }
        assert!(str_as_float("NaN").is_some_and(f64::is_nan));
        for s in [" 1_0", ".", "1e", "e1", "0x1", "1_", "١", ""] {
            assert_eq!(str_as_float(s), None, "{s:?}");
        }
        assert_eq!(str_as_bool("TRUE"), Some(true));
        assert_eq!(str_as_bool("off"), Some(false));
        assert_eq!(str_as_bool(" true"), None);
        assert_eq!(float_as_int(2.5), Err(IntErr::FromFloat));
        assert_eq!(float_as_int(1e21), Err(IntErr::Size));
    }

    #[test]
    fn http_urls() {
        assert_eq!(http_url(""), UrlVerdict::Parsing("input is empty"));
        for s in ["abc", "/home/me/a.png", "//cdn.example/a", " "] {
            assert_eq!(http_url(s), UrlVerdict::Parsing("relative URL without a base"), "{s}");
        }
        for s in ["http://", "https://", "http:", "http://user@", "http://:80/x"] {
            assert_eq!(http_url(s), UrlVerdict::Parsing("empty host"), "{s}");
        }
        for s in ["ftp://a", "ws://1.2.3.4", "data:image/png;base64,AA", "blob:https://x/1", "file:///a.png", "C:\\a.png", "mailto:x"] {
            assert_eq!(http_url(s), UrlVerdict::Scheme, "{s}");
        }
        for s in ["https://x", "HTTP://X.COM", " http://x ", "http:example.com", "http://a b", "ftp://[::1", "foo://a b", "ws://1.2.3.256", "ftp://01.2.3.4"] {
            assert_eq!(http_url(s), UrlVerdict::Fine, "{s}");
        }
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_repr_str("square_hd"), "'square_hd'");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(py_repr_str("a\\b\n"), "'a\\\\b\\n'");
        assert_eq!(py_repr_str("\u{a0}é"), "'\\xa0é'");
        assert_eq!(py_repr_fraction(0.5), "0.5");
        assert_eq!(py_repr_fraction(0.00001), "1e-05");
        assert_eq!(py_repr_fraction(0.000025), "2.5e-05");
    }
}
