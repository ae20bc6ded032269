//! Client options: where the proxy is, and the refusal of anything that looks like a key.
//!
//! A key in a browser bundle is a key published to everyone who opens the page,
//! so genwire does not accept one in any spelling; the proxy adds it server-side.

use crate::proto::breaker::BreakerConfig;
use crate::proto::endpoint::EndpointId;
use crate::proto::map::Map;
use crate::proto::options::{OptionError, Reader};
use crate::proto::realtime::frame::DEFAULT_REALTIME_URL;
use crate::proto::retry::{RetryConfig, MAX_RETRIES_CAP};
use crate::proto::schema::files::FileLimits;
use crate::proto::time::Duration;
use crate::proto::value::Value;

pub const DEFAULT_PROXY_URL: &str = "/api/fal/proxy";

/// What looks like a key, in one place (`proto::keys`): `js/diagnose.js` and call headers use the same rules.
pub use crate::proto::keys::{key_in_url, key_like_header, key_like_name, SECRET_NAMES, SECRET_SUFFIXES};

/// Headers genwire sets itself on every request through the proxy: no option or hook replaces them.
pub const RESERVED_HEADERS: [&str; 3] = ["x-fal-target-url", "accept", "content-type"];

/// Why a header can't be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Its name or value would carry a key.
    KeyLike,
    /// genwire sets it ([`RESERVED_HEADERS`]).
    Reserved,
    /// Not an HTTP header name (a token of RFC 9110).
    BadName,
    /// A line break, a control character or a character fetch can't send.
    BadValue,
}

/// The rules of a header the app adds (client or call `headers`, or `onRequest`).
#[inline(never)]
pub fn check_header(name: &str, value: &str) -> Result<(), HeaderProblem> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(HeaderProblem::BadName);
    }
    if key_like_header(name, value) {
        return Err(HeaderProblem::KeyLike);
    }
    if RESERVED_HEADERS.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(HeaderProblem::Reserved);
    }
    if value.chars().any(|c| (c.is_control() && c != '\t') || u32::from(c) > 0xFF) {
        return Err(HeaderProblem::BadValue);
    }
    Ok(())
}

/// A schema the app gave for an endpoint (`schemas`): a document, or a URL to fetch.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaSource {
    Doc(Value),
    Url(String),
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub proxy_url: String,
    pub retry: RetryConfig,
    /// None: circuit breaking turned off (`circuitBreaker: false`).
    pub breaker: Option<BreakerConfig>,
    /// Validate inputs before sending (`validation`; per call, `validate`).
    pub validation: bool,
    /// Where realtime sockets go.
    pub realtime_url: String,
    /// `schemas: {endpoint: document | url}`, by full endpoint id.
    pub schemas: Map<SchemaSource>,
    /// `fileLimits: {endpoint: {field: limits}}`, by full endpoint id then field name.
    pub file_limits: Map<Vec<(String, FileLimits)>>,
    /// `headers`: the app's own headers on every request through the proxy (checked by [`check_header`]).
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A key or credentials were passed; the name says which option.
    SecretRefused(String),
    /// `proxyUrl` is not a usable URL for the proxy route.
    BadProxyUrl(String),
    BadOptions(String),
    /// An option of the right name that can't be used.
    Option(OptionError),
}

impl From<OptionError> for ConfigError {
    fn from(e: OptionError) -> Self {
        ConfigError::Option(e)
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::SecretRefused(name) => write!(
                f,
                "genwire refuses the option '{name}': an API key in the browser is visible to every visitor. \
                 Keep FAL_KEY on your server and point proxyUrl at your proxy route (e.g. '/api/fal/proxy'), which adds the key."
            ),
            Self::BadProxyUrl(why) => write!(f, "proxyUrl is not usable: {why}"),
            Self::BadOptions(why) => write!(f, "createClient options are not valid: {why}"),
            Self::Option(e) => write!(f, "{e}"),
        }
    }
}

impl ClientConfig {
    /// From anything serde can read (JSON in tests).
    pub fn from_deserializer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, ConfigError> {
        let v = Value::from_deserializer(d).map_err(|e| ConfigError::BadOptions(e.to_string()))?;
        Self::from_value(&v)
    }

    /// From the options object (`Null` for none); every option's name is checked for a key.
    pub fn from_value(v: &Value) -> Result<Self, ConfigError> {
        let entries: &[(String, Value)] = match v {
            Value::Null => &[],
            Value::Obj(m) => m,
            other => {
                return Err(ConfigError::BadOptions(format!("createClient takes an options object (or nothing), not {}", crate::proto::host::what(other))))
            }
        };
        let mut proxy_url = None;
        // Names are reported in sorted order, the first secret one.
        let mut secret: Option<String> = None;
        let mut found = |name: String| {
            if secret.as_ref().is_none_or(|s| name < *s) {
                secret = Some(name);
            }
        };
        for (k, x) in entries {
            match (k.as_str(), x) {
                (_, Value::Null) if !key_like_name(k) => {}
                ("proxyUrl", Value::Str(s)) => proxy_url = Some(s.clone()),
                ("proxyUrl", _) => return Err(OptionError(format!("option 'proxyUrl' must be a string, not {}", crate::proto::host::what(x))).into()),
                ("realtimeUrl", Value::Str(url)) => {
                    if let Some(p) = key_in_url(url) {
                        found(format!("{k} ({p})"));
                    }
                }
                ("headers", Value::Obj(h)) => {
                    for (name, value) in h {
                        if key_like_header(name, value.as_str().unwrap_or("")) {
                            found(format!("headers.{name}"));
                        }
                    }
                }
                ("headers", _) => {
                    return Err(
                        OptionError(format!("option 'headers' must be an object of header names and values, not {}", crate::proto::host::what(x))).into()
                    )
                }
                ("schemas", Value::Obj(m)) => {
                    for (id, doc) in m {
                        if let Some(p) = doc.as_str().and_then(key_in_url) {
                            found(format!("schemas.{id} ({p})"));
                        }
                    }
                }
                (name, _) if key_like_name(name) => found(name.into()),
                _ => {}
            }
        }
        if let Some(p) = proxy_url.as_deref().and_then(key_in_url) {
            found(format!("proxyUrl ({p})"));
        }
        if let Some(name) = secret {
            return Err(ConfigError::SecretRefused(name));
        }
        let proxy_url = proxy_url.unwrap_or_else(|| DEFAULT_PROXY_URL.into());
        check_proxy_url(&proxy_url)?;
        let o = Reader::of(v);
        Ok(Self {
            proxy_url,
            retry: retry(o)?,
            breaker: breaker(o)?,
            validation: o.bool("validation")?.unwrap_or(true),
            realtime_url: o.str("realtimeUrl")?.unwrap_or_else(|| DEFAULT_REALTIME_URL.into()),
            schemas: schemas(o)?,
            file_limits: file_limits(o)?,
            headers: crate::proto::options::headers(v)?,
        })
    }
}

impl ClientConfig {
    /// The app's limits for the file at `loc` (by its field: the last name in `loc`) of an input to `endpoint`.
    pub fn file_limits_for(&self, endpoint: &str, loc: &[crate::proto::error::LocPart]) -> Option<&FileLimits> {
        use crate::proto::error::LocPart;
        let field = loc.iter().rev().find_map(|p| if let LocPart::Key(k) = p { Some(k.as_str()) } else { None }).unwrap_or("");
        self.file_limits.get(endpoint)?.iter().find(|(f, _)| f == field).map(|(_, l)| l)
    }
}

fn retry(o: Reader<'_>) -> Result<RetryConfig, ConfigError> {
    let mut c = RetryConfig::default();
    if o.get("retry") == Some(&Value::Bool(false)) {
        c.max_retries = 0;
        return Ok(c);
    }
    let r = o.obj("retry");
    if let Some(n) = r.num("maxRetries", 0.0)? {
        c.max_retries = n.min(f64::from(MAX_RETRIES_CAP)) as u32;
    }
    if let Some(d) = r.ms("baseDelayMs", 0.0)? {
        c.base_delay = d;
    }
    if let Some(d) = r.ms("maxDelayMs", 0.0)? {
        c.max_delay = d;
    }
    if let Some(d) = r.ms("maxRetryAfterMs", 0.0)? {
        c.max_retry_after = d;
    }
    if let Some(n) = r.num("budget", 0.0)? {
        c.budget_capacity = n;
    }
    Ok(c)
}

fn breaker(o: Reader<'_>) -> Result<Option<BreakerConfig>, ConfigError> {
    if o.get("circuitBreaker") == Some(&Value::Bool(false)) {
        return Ok(None);
    }
    let b = o.obj("circuitBreaker");
    let mut c = BreakerConfig::default();
    if let Some(n) = b.num("failureThreshold", 1.0)? {
        c.failure_threshold = n.min(1e6) as u32;
    }
    if let Some(d) = b.num("openMs", 0.0)? {
        c.open = Duration::ms(d);
    }
    Ok(Some(c))
}

fn endpoint_key(option: &str, id: &str) -> Result<String, ConfigError> {
    EndpointId::parse(id).map(|ep| ep.full()).map_err(|e| ConfigError::Option(OptionError(format!("{option}: {e}"))))
}

fn entries<'a>(o: Reader<'a>, key: &str) -> &'a [(String, Value)] {
    match o.get(key) {
        Some(Value::Obj(m)) => m,
        _ => &[],
    }
}

fn schemas(o: Reader<'_>) -> Result<Map<SchemaSource>, ConfigError> {
    let mut out = Map::new();
    for (id, doc) in entries(o, "schemas") {
        let source = match doc {
            Value::Str(url) => SchemaSource::Url(url.clone()),
            other => SchemaSource::Doc(other.clone()),
        };
        out.insert(endpoint_key("schemas", id)?, source);
    }
    Ok(out)
}

fn file_limits(o: Reader<'_>) -> Result<Map<Vec<(String, FileLimits)>>, ConfigError> {
    let mut out = Map::new();
    for (id, fields) in entries(o, "fileLimits") {
        let mut list = Vec::new();
        let fields: &[(String, Value)] = match fields {
            Value::Obj(m) => m,
            _ => &[],
        };
        for (field, l) in fields {
            let l = Reader::of(l);
            let types = match l.get("types") {
                Some(Value::Arr(a)) => a.iter().filter_map(|t| t.as_str().map(String::from)).collect(),
                _ => Vec::new(),
            };
            list.push((
                field.clone(),
                FileLimits {
                    max_size: l.num("maxSize", 0.0)?,
                    min_width: l.num("minWidth", 0.0)?,
                    min_height: l.num("minHeight", 0.0)?,
                    max_width: l.num("maxWidth", 0.0)?,
                    max_height: l.num("maxHeight", 0.0)?,
                    types,
                },
            ));
        }
        out.insert(endpoint_key("fileLimits", id)?, list);
    }
    Ok(out)
}

/// Relative paths (same origin, the normal case) and http(s) URLs are accepted;
/// a URL pointing at fal itself means the app skipped its proxy.
fn check_proxy_url(url: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| Err(ConfigError::BadProxyUrl(format!("'{url}': {why}")));
    if url.trim().is_empty() {
        return bad("it is empty");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains spaces or control characters");
    }
    let lower = url.to_ascii_lowercase();
    let host = if let Some(rest) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return bad("credentials in the URL are refused");
        }
        authority.rsplit_once(':').map_or(authority, |(h, _)| h).to_string()
    } else if lower.starts_with('/') && !lower.starts_with("//") {
        return Ok(());
    } else {
        return bad("use a path on this site such as '/api/fal/proxy', or an http(s) URL of your own server");
    };
    if ["fal.run", "fal.ai", "fal.media"].iter().any(|d| host == *d || host.ends_with(&format!(".{d}"))) {
        return bad("that is fal itself; point it at your own proxy route, which forwards to fal with your key");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> Result<ClientConfig, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(json);
        ClientConfig::from_deserializer(&mut de)
    }

    #[test]
    fn defaults_to_the_conventional_proxy_route() {
        assert_eq!(cfg("{}").unwrap().proxy_url, "/api/fal/proxy");
        assert_eq!(cfg("null").unwrap().proxy_url, "/api/fal/proxy");
        assert_eq!(cfg(r#"{"proxyUrl":"/custom/proxy"}"#).unwrap().proxy_url, "/custom/proxy");
        assert!(cfg(r#"{"proxyUrl":"https://my-app.example/api/fal/proxy"}"#).is_ok());
    }

    #[test]
    fn every_spelling_of_a_key_is_refused() {
        for name in ["credentials", "apiKey", "API_KEY", "key", "falKey", "FAL_KEY", "authorization", "token", "secret"] {
            let r = cfg(&format!(r#"{{"proxyUrl":"/p","{name}":"abc"}}"#));
            assert_eq!(r.err(), Some(ConfigError::SecretRefused(name.into())), "{name}");
        }
        assert_eq!(cfg(r#"{"headers":{"Authorization":"Key x"}}"#).err(), Some(ConfigError::SecretRefused("headers.Authorization".into())));
        // Even an empty or null value: the intent is what is refused.
        assert!(matches!(cfg(r#"{"credentials":null}"#), Err(ConfigError::SecretRefused(_))));
        let msg = cfg(r#"{"credentials":"k"}"#).unwrap_err().to_string();
        assert!(msg.contains("proxy"), "{msg}");
    }

    #[test]
    fn fal_itself_and_odd_urls_are_not_a_proxy() {
        for bad in ["https://fal.run", "https://queue.fal.run/x", "https://rest.fal.ai", "//evil.example/p", "api/fal/proxy", "", "javascript:alert(1)", "/a b"]
        {
            assert!(matches!(cfg(&format!(r#"{{"proxyUrl":"{bad}"}}"#)), Err(ConfigError::BadProxyUrl(_))), "{bad}");
        }
        assert_eq!(cfg(r#"{"proxyUrl":"https://u:p@me.dev/p"}"#).err(), Some(ConfigError::SecretRefused("proxyUrl (user info)".into())));
    }

    #[test]
    fn the_policy_options_with_their_defaults_and_clamps() {
        let c = cfg("{}").unwrap();
        assert_eq!(
            (c.retry, c.breaker, c.validation, c.realtime_url.as_str()),
            (RetryConfig::default(), Some(BreakerConfig::default()), true, "wss://fal.run")
        );
        let c = cfg(r#"{"retry":false,"circuitBreaker":false,"validation":false,"realtimeUrl":"ws://h/x"}"#).unwrap();
        assert_eq!((c.retry.max_retries, c.breaker, c.validation, c.realtime_url.as_str()), (0, None, false, "ws://h/x"));
        let c = cfg(r#"{"retry":{"maxRetries":99,"baseDelayMs":20,"budget":2},"circuitBreaker":{"failureThreshold":2,"openMs":600}}"#).unwrap();
        assert_eq!((c.retry.max_retries, c.retry.base_delay, c.retry.budget_capacity), (20, Duration::ms(20.0), 2.0));
        assert_eq!(c.breaker, Some(BreakerConfig { failure_threshold: 2, open: Duration::ms(600.0) }));
        assert_eq!(cfg(r#"{"retry":{"maxRetries":-1}}"#).unwrap_err().to_string(), "option 'maxRetries' must be a number of at least 0");
        assert_eq!(cfg(r#"{"circuitBreaker":{"failureThreshold":0}}"#).unwrap_err().to_string(), "option 'failureThreshold' must be a number of at least 1");
        assert_eq!(cfg(r#"{"validation":"no"}"#).unwrap_err().to_string(), "option 'validation' must be true or false");
    }

    #[test]
    fn schemas_and_file_limits_by_endpoint() {
        let c = cfg(r#"{"schemas":{"fal-ai/flux/dev":{"type":"object"},"/x/y/":"/schemas/y.json"},"fileLimits":{"fal-ai/flux/dev/image-to-image":{"image_url":{"minWidth":512,"types":["image/*",5]}}}}"#).unwrap();
        assert!(matches!(c.schemas.get("fal-ai/flux/dev"), Some(SchemaSource::Doc(_))));
        assert_eq!(c.schemas.get("x/y"), Some(&SchemaSource::Url("/schemas/y.json".into())));
        let limits = &c.file_limits.get("fal-ai/flux/dev/image-to-image").unwrap()[0];
        assert_eq!((limits.0.as_str(), limits.1.min_width, limits.1.types.clone()), ("image_url", Some(512.0), vec!["image/*".to_string()]));
        use crate::proto::error::LocPart;
        let loc = [LocPart::Key("body".into()), LocPart::Key("image_url".into())];
        assert_eq!(c.file_limits_for("fal-ai/flux/dev/image-to-image", &loc).and_then(|l| l.min_width), Some(512.0));
        let deeper = [LocPart::Key("body".into()), LocPart::Key("image_url".into()), LocPart::Index(0)];
        assert!(c.file_limits_for("fal-ai/flux/dev/image-to-image", &deeper).is_some(), "by the field, not the index");
        assert!(c.file_limits_for("fal-ai/flux/dev", &loc).is_none());
        assert!(cfg(r#"{"schemas":{"nope":{}}}"#).unwrap_err().to_string().starts_with("schemas: "));
        assert!(cfg(r#"{"fileLimits":{"a/b":{"f":{"maxSize":-1}}}}"#).is_err());
    }

    #[test]
    fn wrong_types_are_a_clear_error() {
        assert_eq!(cfg(r#"{"proxyUrl":5}"#).unwrap_err().to_string(), "option 'proxyUrl' must be a string, not the number 5");
        assert_eq!(
            cfg(r#""/p""#).unwrap_err().to_string(),
            "createClient options are not valid: createClient takes an options object (or nothing), not a string"
        );
        assert_eq!(cfg(r#"{"headers":"x"}"#).unwrap_err().to_string(), "option 'headers' must be an object of header names and values, not a string");
        for text in [r#"42"#, r#"[1]"#, r#"true"#] {
            let msg = cfg(text).unwrap_err().to_string();
            assert!(!msg.contains("expected") && !msg.contains("struct"), "no serde wording: {msg}");
        }
    }

    #[test]
    fn keys_hidden_in_urls_headers_and_new_names() {
        let refused = |json: &str| match cfg(json) {
            Err(ConfigError::SecretRefused(what)) => what,
            other => panic!("{json}: {other:?}"),
        };
        assert_eq!(refused(r#"{"proxyUrl":"/api/fal/proxy?fal_key=abc"}"#), "proxyUrl (fal_key)");
        assert_eq!(refused(r#"{"proxyUrl":"https://me.dev/p?x=1&token=abc"}"#), "proxyUrl (token)");
        assert_eq!(refused(r#"{"realtimeUrl":"wss://rt.me.dev/ws?key=abc"}"#), "realtimeUrl (key)");
        assert_eq!(refused(r#"{"schemas":{"a/b":"/s.json?access_token=x"}}"#), "schemas.a/b (access_token)");
        assert_eq!(refused(r#"{"headers":{"X-Fal-Key":"abc"}}"#), "headers.X-Fal-Key");
        assert_eq!(refused(r#"{"headers":{"x-custom":"Key 0c6b1a52-9f5e-4d1b-8a3e-2f7c9d4e5b6a:3f9a1c7e5b2d8f4a6c0e9b1d7f3a5c8e"}}"#), "headers.x-custom");
        for name in ["accessToken", "access_token", "falKey", "apiToken", "authToken", "clientSecret", "FAL_KEY_ID", "password"] {
            assert_eq!(refused(&format!(r#"{{"{name}":"x"}}"#)), name);
        }
        let msg = cfg(r#"{"proxyUrl":"/p?fal_key=abc"}"#).unwrap_err().to_string();
        assert!(!msg.contains("abc"), "the key itself is never repeated: {msg}");
        assert!(cfg(r#"{"proxyUrl":"/p?mode=x","realtimeUrl":"wss://fal.run","headers":{"x-fal-queue-priority":"low"}}"#).is_ok());
    }

    #[test]
    fn the_first_secret_name_in_sorted_order_is_named() {
        assert_eq!(cfg(r#"{"token":1,"apiKey":2}"#).err(), Some(ConfigError::SecretRefused("apiKey".into())));
        assert_eq!(cfg(r#"{"headers":{"x-key":1,"Cookie":2,"authorization":3}}"#).err(), Some(ConfigError::SecretRefused("headers.Cookie".into())));
        assert_eq!(cfg(r#"{"proxyUrl":"/p","other":{"nested":[1,2]},"retry":false}"#).unwrap().proxy_url, "/p");
    }

    #[test]
    fn one_key_likeness_rule_for_options_and_headers() {
        for name in ["apiKey", "API_KEY", "X-Fal-Key", "x-api-key", "Authorization", "Cookie", "token", "x_token", "fal-key", "Proxy-Authorization"] {
            assert!(key_like_header(name, ""), "{name}");
        }
        for name in ["x-session-token", "X-CSRF-Token", "x-request-id", "keyboard", "monkey", "x-fal-queue-priority", "session"] {
            assert!(!key_like_header(name, ""), "{name}");
        }
        let c = cfg(r#"{"headers":{"x-session-token":"abc","X-Trace":"1"}}"#).unwrap();
        assert_eq!(c.headers, vec![("x-session-token".to_string(), "abc".to_string()), ("X-Trace".into(), "1".into())]);
        assert_eq!(cfg(r#"{"headers":{"X-Api-Key":"k"}}"#).err(), Some(ConfigError::SecretRefused("headers.X-Api-Key".into())));
        assert_eq!(cfg(r#"{"headers":{"x-s":"Key id:secret"}}"#).err(), Some(ConfigError::SecretRefused("headers.x-s".into())));
        assert!(cfg(r#"{"headers":{"accept":"text/html"}}"#).unwrap_err().to_string().contains("genwire's own"));
    }
}
