//! Numbers to and from text without core's float machinery.
//!
//! `f64`'s `Display` and `FromStr` pull Grisu, Dragon4, Eisel-Lemire and their
//! tables (~20 KB of wasm) into the browser download. Here integers are written
//! by hand, and the shortest round-trip digits of other floats come from the
//! host: JavaScript's `Number.prototype.toString` in the browser (the same
//! shortest, closest digits by spec), core's `{:e}` natively. Either way the
//! text is then laid out exactly as `Display` would: never an exponent,
//! `inf`, `-inf`, `NaN`, `-0`. Parsing reads plain decimals exactly on the
//! fast path (Clinger's: at most 15 significant digits, at most 22 after the
//! point) and leaves the rare longer ones to the host.

/// `n` as Rust's `Display` writes it (`1.5`, `20`, `0.000001`, `1000000000000000000000`).
pub fn fmt(n: f64) -> String {
    let mut out = String::new();
    write(&mut out, n);
    out
}

/// Appends `n` as [`fmt`] writes it.
pub fn write(out: &mut String, n: f64) {
    if n.is_nan() {
        out.push_str("NaN");
        return;
    }
    if n.is_sign_negative() {
        out.push('-');
    }
    let a = n.abs();
    if a.is_infinite() {
        out.push_str("inf");
    } else if a.fract() == 0.0 && a < 1e15 {
        write_u64(out, a as u64);
    } else {
        plain(out, &shortest(a));
    }
}

/// Appends the decimal digits of `n`.
pub fn write_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.extend(buf[i..].iter().map(|&b| b as char));
}

/// `n` as decimal text.
pub fn fmt_u64(n: u64) -> String {
    let mut s = String::new();
    write_u64(&mut s, n);
    s
}

/// The shortest round-trip form of a positive finite float, in the host's notation
/// (`1.5`, `1e+21`, `1.5e-7`).
#[cfg(target_arch = "wasm32")]
fn shortest(a: f64) -> String {
    js_sys::Number::from(a).to_string_with_radix(10).map(String::from).unwrap_or_default()
}

#[cfg(not(target_arch = "wasm32"))]
fn shortest(a: f64) -> String {
    format!("{a:e}")
}

/// Lays out `d.ddd` or `d.ddde±x` (either host's notation) as a plain decimal.
fn plain(out: &mut String, sci: &str) {
    // The significant digits, and where the decimal point goes relative to them.
    let mut digits = [0u8; 40];
    let (mut len, mut point, mut seen_point, mut exp, mut exp_neg, mut in_exp) = (0usize, 0i32, false, 0i32, false, false);
    for b in sci.bytes() {
        match b {
            b'e' | b'E' => in_exp = true,
            b'-' if in_exp => exp_neg = true,
            b'0'..=b'9' if in_exp => exp = exp.saturating_mul(10).saturating_add(i32::from(b - b'0')),
            b'0'..=b'9' => {
                if len == 0 && b == b'0' {
                    // A leading zero: after the point it moves the point left.
                    if seen_point {
                        point -= 1;
                    }
                    continue;
                }
                if len < digits.len() {
                    digits[len] = b;
                    len += 1;
                }
                if !seen_point {
                    point += 1;
                }
            }
            b'.' => seen_point = true,
            _ => {}
        }
    }
    while len > 0 && digits[len - 1] == b'0' {
        len -= 1;
    }
    if len == 0 {
        out.push('0');
        return;
    }
    let point = point + if exp_neg { -exp } else { exp };
    let digit = |i: i32| if (0..len as i32).contains(&i) { digits[i as usize] as char } else { '0' };
    if point <= 0 {
        out.push_str("0.");
        (point..len as i32).for_each(|i| out.push(digit(i)));
    } else {
        (0..point.max(len as i32)).for_each(|i| {
            if i == point {
                out.push('.');
            }
            out.push(digit(i));
        });
    }
}

/// A plain decimal (`12`, `1.5`, `.5`, `3.`): digits with at most one point, at least one digit.
/// Anything else (signs, exponents, spaces, `inf`) is None. Correctly rounded, like `str::parse`.
pub fn parse_decimal(s: &str) -> Option<f64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let all = int.bytes().chain(frac.bytes()).skip_while(|b| *b == b'0');
    let significant = all.clone().count();
    if significant <= 15 && frac.len() <= 22 {
        // Both the integer and the power of ten are exact, so one division rounds correctly.
        let m = all.fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
        return Some(m as f64 / POW10[frac.len()]);
    }
    host_parse(s)
}

const POW10: [f64; 23] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

#[cfg(target_arch = "wasm32")]
fn host_parse(s: &str) -> Option<f64> {
    // Only digits and one point reach here: JS's Number() reads them as Rust would.
    Some(js_sys::Number::from(wasm_bindgen::JsValue::from_str(s)).value_of())
}

#[cfg(not(target_arch = "wasm32"))]
fn host_parse(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// Like [`parse_decimal`], with an optional exponent (`0.5e-1`): the part of Rust's float
/// grammar a date's fraction of a second can meet.
pub fn parse_float(s: &str) -> Option<f64> {
    let Some((m, e)) = s.split_once(['e', 'E']) else { return parse_decimal(s) };
    let e = e.strip_prefix(['+', '-']).unwrap_or(e);
    parse_decimal(m)?;
    (!e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())).then(|| host_parse(s)).flatten()
}

/// A short run of ASCII digits (at most 9) as an integer.
pub fn parse_digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.bytes().fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')))
}

/// A deterministic spread of `n` 64-bit patterns (xorshift), for the formatting tests.
#[cfg(test)]
fn spread(n: usize) -> impl Iterator<Item = u64> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n).map(move |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_display() {
        let mut samples = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1.5,
            0.1,
            0.2,
            0.30000000000000004,
            1e-7,
            1.5e-7,
            123.456,
            1e15,
            1e16,
            1e21,
            1e22,
            1.7976931348623157e308,
            5e-324,
            2.2250738585072014e-308,
            9007199254740993.0,
            123456789012345680.0,
            0.000001,
            1e-6,
            1e100,
            4.35,
            14142.0,
            2.5e-5,
            999999999999999.9,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e14 + 0.5,
        ];
        for x in spread(20_000) {
            samples.push(f64::from_bits(x));
            samples.push((x % 100_000) as f64 / 100.0);
            samples.push((x % 1_000_000) as f64 / 1e9);
        }
        for n in samples {
            assert_eq!(fmt(n), format!("{n}"), "{n:e}");
        }
    }

    #[test]
    fn lays_out_javascript_notation() {
        let cases = [
            ("1e+21", "1000000000000000000000"),
            ("1.5e-7", "0.00000015"),
            ("123.45", "123.45"),
            ("0.000001", "0.000001"),
            ("1.2345e+22", "12345000000000000000000"),
        ];
        for (js, want) in cases {
            let mut s = String::new();
            plain(&mut s, js);
            assert_eq!(s, want, "{js}");
        }
        let mut s = String::new();
        plain(&mut s, "5e-324");
        assert_eq!(s, format!("{}", 5e-324));
    }

    #[test]
    fn integers() {
        for n in [0u64, 7, 10, 99, 1_000, 65_535, u64::MAX] {
            assert_eq!(fmt_u64(n), n.to_string());
        }
    }

    #[test]
    fn parses_like_str_parse() {
        for s in [
            "0",
            "1",
            "1.5",
            ".5",
            "5.",
            "0.1",
            "3.14159",
            "000123.4500",
            "99999999999999999999",
            "0.30000000000000004",
            "1.7976931348623157",
            "123456789012345678901234567890.5",
            "0.0000000000000000000000001",
            "4.35",
            "2.675",
        ] {
            assert_eq!(parse_decimal(s), s.parse::<f64>().ok(), "{s}");
        }
        for s in ["", ".", "1.2.3", "-1", "+1", "1e5", " 1", "inf", "NaN", "1,5"] {
            assert_eq!(parse_decimal(s), None, "{s}");
        }
        let mut x: u64 = 12345;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s = format!("{}.{}", x % 1_000_000_000, x % 10_000_000);
            assert_eq!(parse_decimal(&s), s.parse::<f64>().ok(), "{s}");
        }
        for s in ["0.5e-1", "0.5E3", "1.e5", "0.1e+2", "0.5e999", "0.5e-999"] {
            assert_eq!(parse_float(s), s.parse::<f64>().ok(), "{s}");
        }
        for s in ["0.5e", "0.5e+", ".e5", "0.5e1.5", "0.5ee1", "e5"] {
            assert_eq!(parse_float(s), None, "{s}");
        }
        assert_eq!(parse_digits("0042"), Some(42));
        assert_eq!(parse_digits("1234567890"), None);
        assert_eq!(parse_digits("12a"), None);
        assert_eq!(parse_digits(""), None);
    }
}

/// The browser path: digits from JavaScript's `Number.prototype.toString` and `Number()`.
#[cfg(all(test, target_arch = "wasm32"))]
mod wasm_tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn javascript_digits_lay_out_like_display() {
        let mut samples = vec![0.1, 1.5, 1e21, 1.5e-7, 5e-324, 1.7976931348623157e308, 0.30000000000000004, 123.456, -0.0, -2.5];
        for x in spread(5_000) {
            samples.push(f64::from_bits(x));
            samples.push((x % 100_000) as f64 / 100.0);
        }
        for n in samples {
            assert_eq!(fmt(n), format!("{n}"), "{n:e}");
        }
        for s in ["99999999999999999999", "123456789012345678901234567890.5", "0.30000000000000004", "0.5e-1", "1.e5"] {
            assert_eq!(parse_float(s), s.parse::<f64>().ok(), "{s}");
        }
    }
}
