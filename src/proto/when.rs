//! When the server says to come back: `retry-after-ms`, `Retry-After` (seconds or
//! an HTTP date), `RateLimit-Reset` / `X-RateLimit-Reset` (seconds, or an epoch
//! timestamp), or a body's `resetAt` (ISO 8601). Times are epoch milliseconds.

use crate::proto::value::Value;

/// Delay in ms from `now_ms`, from the first source that parses, in the order above.
pub fn retry_after_ms(header: &dyn Fn(&str) -> Option<String>, body: Option<&Value>, now_ms: f64) -> Option<f64> {
    let h = |n: &str| header(n).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let from_headers = h("retry-after-ms")
        .and_then(|v| number(&v))
        .or_else(|| h("retry-after").and_then(|v| number(&v).map(|s| s * 1000.0).or_else(|| http_date(&v).map(|t| t - now_ms))))
        .or_else(|| h("ratelimit-reset").or_else(|| h("x-ratelimit-reset")).and_then(|v| number(&v)).map(|n| reset_value(n, now_ms)));
    let from_body = || {
        let b = body?;
        b.str_field("resetAt")
            .or_else(|| b.str_field("reset_at"))
            .and_then(iso8601)
            .map(|t| t - now_ms)
            .or_else(|| b.get("retry_after").and_then(Value::as_f64).map(|s| s * 1000.0))
    };
    from_headers.or_else(from_body).filter(|ms| ms.is_finite()).map(|ms| ms.max(0.0))
}

/// Reset headers carry either seconds from now or an epoch time (seconds or ms): tell them apart by size.
fn reset_value(n: f64, now_ms: f64) -> f64 {
    if n > 1e12 {
        n - now_ms
    } else if n > 1e9 {
        n * 1000.0 - now_ms
    } else {
        n * 1000.0
    }
}

fn number(s: &str) -> Option<f64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    crate::proto::num::parse_decimal(s).filter(|n| n.is_finite())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn epoch_ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: f64) -> Option<f64> {
    let ok = (1..=12).contains(&mo) && (1..=31).contains(&d) && (0..=23).contains(&h) && (0..=59).contains(&mi) && (0.0..61.0).contains(&s);
    ok.then(|| (days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60) as f64 * 1000.0 + s * 1000.0)
}

fn digits(s: &str) -> Option<i64> {
    crate::proto::num::parse_digits(s)
}

/// IMF-fixdate, the one form HTTP senders must use: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(s: &str) -> Option<f64> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let rest = s.split_once(',').map_or(s, |(_, r)| r);
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let [d, mon, y, time, zone] = parts.as_slice() else { return None };
    if !zone.eq_ignore_ascii_case("GMT") && !zone.eq_ignore_ascii_case("UTC") {
        return None;
    }
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(mon))? as i64 + 1;
    let t: Vec<&str> = time.split(':').collect();
    let [h, mi, sec] = t.as_slice() else { return None };
    epoch_ms(digits(y)?, mo, digits(d)?, digits(h)?, digits(mi)?, digits(sec)? as f64)
}

/// `2025-10-23T10:30:00.000Z`, with an optional fraction and `Z` or `±HH:MM`.
pub fn iso8601(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let dp: Vec<&str> = date.split('-').collect();
    let [y, mo, d] = dp.as_slice() else { return None };
    let (clock, offset_min) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let (c, off) = time.rsplit_once(['+', '-'])?;
        let sign = if time.as_bytes().get(c.len()) == Some(&b'-') { -1 } else { 1 };
        let (oh, om) = off.split_once(':').unwrap_or((off, "0"));
        (c, sign * (digits(oh)? * 60 + digits(om)?))
    };
    let cp: Vec<&str> = clock.split(':').collect();
    let [h, mi, sec] = cp.as_slice() else { return None };
    let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
    let frac = if frac.is_empty() { 0.0 } else { crate::proto::num::parse_float(&format!("0.{frac}"))? };
    let t = epoch_ms(digits(y)?, digits(mo)?, digits(d)?, digits(h)?, digits(mi)?, digits(whole)? as f64 + frac)?;
    Some(t - offset_min as f64 * 60_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_761_215_400_000.0; // 2025-10-23T10:30:00Z

    fn after(headers: &[(&str, &str)], body: Option<&str>) -> Option<f64> {
        let body = body.map(|b| Value::from_deserializer(&mut serde_json::Deserializer::from_str(b)).unwrap());
        let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.to_string());
        retry_after_ms(&get, body.as_ref(), NOW)
    }

    #[test]
    fn dates_parse_to_epoch_ms() {
        assert_eq!(iso8601("2025-10-23T10:30:00.000Z"), Some(NOW));
        assert_eq!(iso8601("2025-10-23T12:30:00+02:00"), Some(NOW));
        assert_eq!(iso8601("2025-10-23T10:30:45.5Z"), Some(NOW + 45_500.0));
        assert_eq!(http_date("Thu, 23 Oct 2025 10:30:00 GMT"), Some(NOW));
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000.0));
        assert_eq!(iso8601("1970-01-01T00:00:00Z"), Some(0.0));
    }

    #[test]
    fn garbage_dates_are_none() {
        for s in [
            "",
            "tomorrow",
            "2025-13-01T00:00:00Z",
            "2025-10-23",
            "Thu, 23 Oct 2025 25:00:00 GMT",
            "Thu, 23 Foo 2025 10:30:00 GMT",
            "2025-10-23T10:30:00+xx:00",
            "9999999999-01-01T00:00:00Z",
        ] {
            assert!(iso8601(s).is_none() && http_date(s).is_none(), "{s}");
        }
    }

    #[test]
    fn precedence_and_forms() {
        assert_eq!(after(&[("Retry-After", "2")], None), Some(2_000.0));
        assert_eq!(after(&[("Retry-After", "2"), ("retry-after-ms", "1500")], None), Some(1_500.0));
        assert_eq!(after(&[("Retry-After", "Thu, 23 Oct 2025 10:30:03 GMT")], None), Some(3_000.0));
        assert_eq!(after(&[("X-RateLimit-Reset", "45")], None), Some(45_000.0));
        assert_eq!(after(&[("X-RateLimit-Reset", "1761215402")], None), Some(2_000.0)); // epoch seconds
        assert_eq!(after(&[("RateLimit-Reset", "7")], None), Some(7_000.0));
        assert_eq!(after(&[], Some(r#"{"resetAt":"2025-10-23T10:30:45.000Z"}"#)), Some(45_000.0));
        assert_eq!(after(&[("Retry-After", "1")], Some(r#"{"resetAt":"2025-10-23T10:30:45.000Z"}"#)), Some(1_000.0));
    }

    #[test]
    fn past_or_unparsable_values() {
        assert_eq!(after(&[("Retry-After", "Thu, 23 Oct 2025 10:29:00 GMT")], None), Some(0.0));
        assert_eq!(after(&[("Retry-After", "-5")], None), None);
        assert_eq!(after(&[("Retry-After", "soon")], None), None);
        assert_eq!(after(&[], Some(r#"{"resetAt":5}"#)), None);
        assert_eq!(after(&[], None), None);
    }
}
