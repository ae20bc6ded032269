//! What looks like an API key, wherever one could hide: an option's name, a header's name or
//! value, a URL's query or user info. One set of rules, written once: the client's options
//! (`proto::config`), call headers and `js/diagnose.js` (through `js/facts.js`) use these.
//!
//! A name is compared in a normal form: lower case, without `-`, `_`, `.` and spaces, so
//! `apiKey`, `API_KEY`, `api-key` and `x-api-key` are one name to the rules.

/// Names (normal form) that carry a secret as a whole. `js/facts.js` exports this list.
pub const SECRET_NAMES: [&str; 17] = [
    "credentials",
    "credential",
    "apikey",
    "key",
    "falkey",
    "authorization",
    "proxyauthorization",
    "auth",
    "token",
    "secret",
    "password",
    "bearer",
    "cookie",
    "jwt",
    "keyid",
    "keysecret",
    "signature",
];

/// Endings (normal form) that make any name a secret's: `falKey`, `accessToken`, `x-fal-key`,
/// `openaiApiKey`, `client_secret`, `session_token`. `js/facts.js` exports this list.
pub const SECRET_SUFFIXES: [&str; 11] =
    ["apikey", "falkey", "token", "secret", "password", "authorization", "credentials", "privatekey", "secretkey", "accesskey", "authkey"];

/// Beginnings (normal form) that make a name a secret's: `FAL_KEY_ID`, `x-api-key-2`. `js/facts.js` exports this list.
pub const SECRET_PREFIXES: [&str; 4] = ["falkey", "xfalkey", "apikey", "xapikey"];

/// The name in its normal form (see the module).
pub fn normal(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '-' | '_' | '.' | ' ')).map(|c| c.to_ascii_lowercase()).collect()
}

/// An option, header or query parameter of this name would carry a key.
pub fn key_like_name(name: &str) -> bool {
    let n = normal(name);
    !n.is_empty() && (SECRET_NAMES.contains(&n.as_str()) || SECRET_SUFFIXES.iter().any(|s| n.ends_with(s)) || SECRET_PREFIXES.iter().any(|p| n.starts_with(p)))
}

/// A value shaped like a key: an HTTP credential (`Key …`, `Bearer …`, `Basic …`), an
/// assignment of a key-like name (`fal_key=…`, `token: …`), or a fal key anywhere in it
/// (`<uuid>:<hex>`, as fal's dashboard issues them).
pub fn key_like_value(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let scheme = ["key ", "bearer ", "basic ", "token "].iter().any(|p| lower.starts_with(p) && v.len() > p.len());
    scheme || has_key_assignment(v) || has_fal_key(v)
}

/// Header names (normal form, with or without an `x` prefix) that end like a secret's but carry the
/// app's own session with its own server (`X-Session-Token`, `X-CSRF-Token`): what the `headers`
/// option is for (fal-js issue 86). fal never reads them; their values are still checked.
/// `js/facts.js` exports this list.
pub const APP_SESSION_HEADERS: [&str; 3] = ["sessiontoken", "csrftoken", "xsrftoken"];

/// A header an app must not set in the browser: a key-like name (`x-fal-key`, `Authorization`,
/// `Cookie`, `X-Api-Key`) other than an app-session one, or a key-like value under any name.
/// Client headers, call headers and `onRequest` go through this.
pub fn key_like_header(name: &str, value: &str) -> bool {
    let n = normal(name);
    let session = APP_SESSION_HEADERS.iter().any(|s| n.strip_prefix('x').unwrap_or(&n) == *s || n == *s);
    (key_like_name(name) && !session) || key_like_value(value)
}

/// Where a key hides in `url`: its user info, or a query (or fragment) parameter whose name or
/// value looks like a key. The parameter's name as written (or `user info`), for the message.
/// (On bytes, without `str` slicing or substring search: their panic and search code would weigh
/// kilobytes in the download.)
pub fn key_in_url(url: &str) -> Option<String> {
    let b = url.as_bytes();
    let cut = |s: &[u8], stops: &[u8]| s.iter().position(|c| stops.contains(c)).unwrap_or(s.len());
    if let Some(i) = b.windows(3).position(|w| w == b"://") {
        let rest = &b[i + 3..];
        if rest[..cut(rest, b"/?#")].contains(&b'@') {
            return Some("user info".into());
        }
    }
    let start = cut(b, b"?#");
    let query = if start < b.len() { &b[start + 1..] } else { &[][..] };
    for pair in query.split(|c| b"&;?#".contains(c)).filter(|p| !p.is_empty()) {
        let eq = cut(pair, b"=");
        let (name, value) = (percent_decode(&pair[..eq]), percent_decode(pair.get(eq + 1..).unwrap_or(&[])));
        if key_like_name(&name) || key_like_value(&value) {
            return Some(name);
        }
    }
    None
}

/// `%XX` decoded (and `+` as a space), leniently: a bad escape stays as written.
fn percent_decode(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => {
                if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `name=value` or `name: value` with a key-like name and a non-empty value, anywhere in `v`.
fn has_key_assignment(v: &str) -> bool {
    let b = v.as_bytes();
    let name_byte = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    (0..b.len()).filter(|&i| b[i] == b'=' || b[i] == b':').any(|i| {
        let start = b[..i].iter().rposition(|c| !name_byte(c)).map_or(0, |p| p + 1);
        let name = core::str::from_utf8(&b[start..i]).unwrap_or("");
        let value = &b[i + 1..];
        let value = &value[value.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(value.len())..];
        let url = b[i] == b':' && value.starts_with(b"//");
        !name.is_empty() && !value.is_empty() && !url && key_like_name(name)
    })
}

/// A fal key: a UUID (8-4-4-4-12 hex), `:`, then at least 16 hex digits.
fn has_fal_key(v: &str) -> bool {
    let b = v.as_bytes();
    let hex_run = |from: usize| b[from.min(b.len())..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
    (0..b.len()).any(|i| {
        let mut at = i;
        for (n, len) in [8usize, 4, 4, 4, 12].iter().enumerate() {
            if hex_run(at) < *len {
                return false;
            }
            at += len;
            let sep = if n < 4 { b'-' } else { b':' };
            if b.get(at) != Some(&sep) {
                return false;
            }
            at += 1;
        }
        hex_run(at) >= 16
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAL_KEY: &str = "0c6b1a52-9f5e-4d1b-8a3e-2f7c9d4e5b6a:3f9a1c7e5b2d8f4a6c0e9b1d7f3a5c8e";

    #[test]
    fn names_in_any_spelling() {
        for name in [
            "key",
            "apiKey",
            "API_KEY",
            "api-key",
            "x-api-key",
            "falKey",
            "FAL_KEY",
            "x-fal-key",
            "X-Fal-Key-Id",
            "accessToken",
            "access_token",
            "apiToken",
            "authToken",
            "token",
            "fal_jwt_token",
            "secret",
            "client_secret",
            "Authorization",
            "proxy-authorization",
            "Cookie",
            "credentials",
            "openaiApiKey",
            "password",
            "privateKey",
        ] {
            assert!(key_like_name(name), "{name}");
        }
        for name in ["proxyUrl", "connectionKey", "keyword", "monkey", "realtimeUrl", "retry", "x-fal-target-url", "accept", "content-type", "hint", ""] {
            assert!(!key_like_name(name), "{name}");
        }
    }

    /// The table `js/errors.js` is held to as well (tests/facts.test.mjs).
    #[test]
    fn names_table_shared_with_js() {
        let table: serde_json::Value = serde_json::from_str(include_str!("../../tests/facts/key-names.json")).unwrap();
        for (list, want) in [("secret", true), ("plain", false)] {
            for name in table[list].as_array().unwrap() {
                assert_eq!(key_like_name(name.as_str().unwrap()), want, "{name}");
            }
        }
    }

    #[test]
    fn values_shaped_like_keys() {
        for v in [
            FAL_KEY,
            "Key abc",
            "key abc",
            "Bearer eyJhbGciOi",
            "Basic dXNlcjpwYXNz",
            "fal_key=abc",
            "x; token=abc",
            "apiKey: abc",
            &format!("prefix {FAL_KEY} suffix"),
            &FAL_KEY.to_uppercase(),
        ] {
            assert!(key_like_value(v), "{v}");
        }
        for v in [
            "",
            "Key",
            "a lighthouse at dusk",
            "application/json",
            "fal-ai/flux/dev",
            "https://example.com/a:b",
            "0c6b1a52-9f5e-4d1b-8a3e-2f7c9d4e5b6a",
            "keyframes=3",
        ] {
            assert!(!key_like_value(v), "{v}");
        }
        assert!(key_like_header("X-Fal-Key", "x") && key_like_header("x-custom", "Key abc") && !key_like_header("x-fal-queue-priority", "low"));
    }

    #[test]
    fn keys_in_urls() {
        for (url, name) in [
            ("/api/fal/proxy?fal_key=abc", "fal_key"),
            ("/p?x=1&key=abc", "key"),
            ("/p?token=abc", "token"),
            ("/p?FAL%5FKEY=abc", "FAL_KEY"),
            ("/p?access_token=abc", "access_token"),
            ("wss://rt.example/ws?auth=1", "auth"),
            (&format!("/p?x={FAL_KEY}"), "x"),
            (&format!("/p?x=Key%20{FAL_KEY}"), "x"),
            ("/p#token=abc", "token"),
            ("https://u:p@me.dev/p", "user info"),
            ("/p?key", "key"),
        ] {
            assert_eq!(key_in_url(url).as_deref(), Some(name), "{url}");
        }
        for url in ["/api/fal/proxy", "/p?x=1&mode=dev", "https://me.dev/p?keyword=x", "wss://fal.run", "/p?%zz=1"] {
            assert_eq!(key_in_url(url), None, "{url}");
        }
    }

    /// Random strings never panic any rule, and a fal key hidden in one is always found.
    #[test]
    fn total_on_random_text() {
        let mut r = crate::proto::rand::Rng::new(7);
        let mut draw = |n: usize| (r.next01() * n as f64) as usize;
        let alphabet: Vec<char> = "aZ09-_:=?&#%+@/ .KeyBearer\u{e9}\u{1F600}".chars().collect();
        for _ in 0..4000 {
            let n = draw(40);
            let s: String = (0..n).map(|_| alphabet[draw(alphabet.len())]).collect();
            let _ = (key_like_name(&s), key_like_value(&s), key_in_url(&s), key_like_header(&s, &s));
            let hidden = format!("{s}{FAL_KEY}{s}");
            assert!(key_like_value(&hidden), "{hidden}");
            assert!(key_in_url(&format!("/p?v={}", hidden.replace(['&', '#', ';', '?', '=', '%'], ""))).is_some(), "{hidden}");
        }
    }
}
