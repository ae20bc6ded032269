//! Client options: where the proxy is, and the refusal of anything that looks like a key.
//!
//! A key in a browser bundle is a key published to everyone who opens the page,
//! so genwire does not accept one in any spelling; the proxy adds it server-side.

use crate::proto::value::Value;

pub const DEFAULT_PROXY_URL: &str = "/api/fal/proxy";

/// Option names that would carry a secret. Matched case-insensitively.
const SECRET_NAMES: [&str; 9] = [
    "credentials", "apikey", "api_key", "key", "falkey", "fal_key", "authorization", "token", "secret",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub proxy_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A key or credentials were passed; the name says which option.
    SecretRefused(String),
    /// `proxyUrl` is not a usable URL for the proxy route.
    BadProxyUrl(String),
    BadOptions(String),
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
        }
    }
}

impl ClientConfig {
    /// From anything serde can read (JSON in tests).
    pub fn from_deserializer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, ConfigError> {
        let v = Value::from_deserializer(d).map_err(|e| ConfigError::BadOptions(e.to_string()))?;
        Self::from_value(&v)
    }

    /// From the options object (`Null` for none). Only `proxyUrl` and `headers` are read here;
    /// every option's name is checked for a key.
    pub fn from_value(v: &Value) -> Result<Self, ConfigError> {
        let bad = |v: &Value, expected: &str| Err(ConfigError::BadOptions(v.invalid_type(expected)));
        let entries: &[(String, Value)] = match v {
            Value::Null => &[],
            Value::Obj(m) => m,
            other => return bad(other, "struct Raw"),
        };
        let mut proxy_url = None;
        // Names are reported in sorted order, the first secret one.
        let mut secret: Option<&str> = None;
        let mut header_secret: Option<&str> = None;
        for (k, x) in entries {
            match k.as_str() {
                "proxyUrl" => match x {
                    Value::Null => {}
                    Value::Str(s) => proxy_url = Some(s.clone()),
                    other => return bad(other, "a string"),
                },
                "headers" => match x {
                    Value::Null => {}
                    Value::Obj(h) => {
                        for (name, _) in h {
                            if (is_secret_name(name) || name.eq_ignore_ascii_case("cookie")) && header_secret.is_none_or(|s| name.as_str() < s) {
                                header_secret = Some(name);
                            }
                        }
                    }
                    other => return bad(other, "a map"),
                },
                name if is_secret_name(name) && secret.is_none_or(|s| name < s) => secret = Some(name),
                _ => {}
            }
        }
        if let Some(name) = secret {
            return Err(ConfigError::SecretRefused(name.into()));
        }
        if let Some(h) = header_secret {
            return Err(ConfigError::SecretRefused(format!("headers.{h}")));
        }
        let proxy_url = proxy_url.unwrap_or_else(|| DEFAULT_PROXY_URL.into());
        check_proxy_url(&proxy_url)?;
        Ok(Self { proxy_url })
    }
}

fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
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
            assert_eq!(r, Err(ConfigError::SecretRefused(name.into())), "{name}");
        }
        assert_eq!(cfg(r#"{"headers":{"Authorization":"Key x"}}"#), Err(ConfigError::SecretRefused("headers.Authorization".into())));
        // Even an empty or null value: the intent is what is refused.
        assert!(matches!(cfg(r#"{"credentials":null}"#), Err(ConfigError::SecretRefused(_))));
        let msg = cfg(r#"{"credentials":"k"}"#).unwrap_err().to_string();
        assert!(msg.contains("proxy"), "{msg}");
    }

    #[test]
    fn fal_itself_and_odd_urls_are_not_a_proxy() {
        for bad in ["https://fal.run", "https://queue.fal.run/x", "https://rest.fal.ai", "//evil.example/p", "api/fal/proxy", "", "javascript:alert(1)", "https://u:p@me.dev/p", "/a b"] {
            assert!(matches!(cfg(&format!(r#"{{"proxyUrl":"{bad}"}}"#)), Err(ConfigError::BadProxyUrl(_))), "{bad}");
        }
    }

    #[test]
    fn wrong_types_are_a_clear_error() {
        assert!(matches!(cfg(r#"{"proxyUrl":5}"#), Err(ConfigError::BadOptions(_))));
        assert!(matches!(cfg(r#""/p""#), Err(ConfigError::BadOptions(_))));
        assert!(matches!(cfg(r#"{"headers":"x"}"#), Err(ConfigError::BadOptions(_))));
    }

    #[test]
    fn the_first_secret_name_in_sorted_order_is_named() {
        assert_eq!(cfg(r#"{"token":1,"apiKey":2}"#), Err(ConfigError::SecretRefused("apiKey".into())));
        assert_eq!(cfg(r#"{"headers":{"x-key":1,"Cookie":2,"authorization":3}}"#), Err(ConfigError::SecretRefused("headers.Cookie".into())));
        assert_eq!(cfg(r#"{"proxyUrl":"/p","other":{"nested":[1,2]},"retry":false}"#).unwrap().proxy_url, "/p");
    }
}
