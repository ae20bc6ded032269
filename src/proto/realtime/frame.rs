//! What the realtime server says, in the machine's terms: frames classified (results, control
//! messages, notices, errors), the token request and its answer shapes, and the errors a caller
//! sees. From fal's server side of realtime apps (shared/reference/fal-protocol.md, Realtime).

use super::reconnect::Notice;
use crate::proto::error::{Category, ErrorInfo, Kind};
use crate::proto::time::Duration;
use crate::proto::value::Value;

/// fal's token endpoint, reached through the proxy.
pub const TOKEN_URL: &str = "https://rest.fal.ai/tokens/";
/// Where realtime sockets connect unless the app says otherwise.
pub const DEFAULT_REALTIME_URL: &str = "wss://fal.run";

/// The fields of a decoded frame that say what it is; the rest is the app's business.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Head {
    /// `type`
    pub kind: Option<String>,
    pub error: Option<String>,
    pub reason: Option<String>,
    pub status: Option<String>,
}

impl Head {
    /// The head of a frame decoded in Rust (msgpack, tests).
    pub fn of(v: &Value) -> Self {
        let s = |k: &str| v.str_field(k).map(String::from);
        Self { kind: s("type"), error: s("error"), reason: s("reason"), status: s("status") }
    }
}

/// A frame from the server; `R` is the decoded frame as the edge holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame<R> {
    /// For the app's `onResult`.
    Result(R),
    /// `x-fal-message` (e.g. `action: "timings"` after a result, heartbeats): not a result.
    Control,
    /// Said before a close: idle, or the token refused.
    Notice(Notice),
    /// `x-fal-error` other than TIMEOUT (e.g. INTERNAL_ERROR): reported; a close usually follows.
    Error { code: String, reason: String },
    /// Could not be decoded (the codec threw, not JSON, bad msgpack).
    Unreadable(String),
}

pub fn classify<R>(head: &Head, frame: R) -> Frame<R> {
    match head.kind.as_deref() {
        Some("x-fal-message") => Frame::Control,
        Some("x-fal-error") => {
            let code = head.error.clone().unwrap_or_default();
            if code == "TIMEOUT" {
                return Frame::Notice(Notice::Idle);
            }
            Frame::Error { reason: head.reason.clone().unwrap_or_else(|| code.clone()), code }
        }
        _ if head.status.as_deref() == Some("error") && head.error.as_deref() == Some("Unauthorized") => Frame::Notice(Notice::Unauthorized),
        _ => Frame::Result(frame),
    }
}

/// The body of a token request for `alias` (fal's token is for the app's alias), living `ttl`.
pub fn token_request(alias: &str, ttl: Duration) -> String {
    let mut s = String::from(r#"{"allowed_apps":["#);
    crate::proto::json::quote(&mut s, alias);
    s.push_str(r#"],"token_expiration":"#);
    crate::proto::num::write(&mut s, (ttl.as_ms() / 1000.0).round());
    s.push('}');
    s
}

/// The token in an answer: a JSON string (fal), `{detail}` (older proxies) or `{token}` (the Python client's shape).
pub fn token_from_answer(v: &Value) -> Option<String> {
    v.as_str().or_else(|| v.str_field("detail")).or_else(|| v.str_field("token")).filter(|t| !t.is_empty()).map(String::from)
}

/// Why a connection ended for good.
#[derive(Debug, Clone, PartialEq)]
pub enum Fatal {
    /// Close code 1008 or 1011.
    Closed { code: u16 },
    /// Unauthorized even with a token fetched for that very attempt.
    Unauthorized,
    /// The token could not be had, and asking again won't help.
    Token,
    /// Reconnection attempts ran out.
    Attempts,
}

impl Fatal {
    /// The error the app's `onError` gets (and a later `send()` throws).
    pub fn info(&self) -> ErrorInfo {
        let (category, message) = match self {
            Fatal::Closed { code: 1008 } => (Category::Forbidden, "The realtime server closed the connection for a policy violation (1008).".into()),
            Fatal::Closed { code } => (Category::Server, format!("The realtime server closed the connection with an error ({code}).")),
            Fatal::Unauthorized => (
                Category::Auth,
                "The realtime server refused the token, even a fresh one. Check that the proxy allows rest.fal.ai/tokens/ and that the key may use this app."
                    .into(),
            ),
            Fatal::Token => (Category::Auth, "A realtime token could not be had from the proxy.".into()),
            Fatal::Attempts => (Category::Unavailable, "The realtime connection could not be re-established.".into()),
        };
        let mut info = ErrorInfo::local(Kind::Api, category, message);
        if let Fatal::Closed { code } = self {
            info.status = Some(*code);
        }
        info
    }
}

/// What `send()` throws on a connection a fatal close ended: the same error, saying what to do.
pub fn after_fatal(fatal: &ErrorInfo) -> ErrorInfo {
    let mut e = fatal.clone();
    e.message = format!("{} The connection is closed; call reconnect() to start over.", fatal.message);
    e
}

/// What `send()` throws after the app's own `close()`.
pub fn after_close() -> ErrorInfo {
    ErrorInfo::local(Kind::Config, Category::Config, "this realtime connection is closed")
}

/// A problem the app hears about through `onError` while the connection goes on.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// An `x-fal-error` frame.
    Server {
        code: String,
        reason: String,
    },
    Unreadable(String),
}

impl Problem {
    pub fn info(&self) -> ErrorInfo {
        match self {
            Problem::Server { code, reason } => {
                let mut info = ErrorInfo::local(Kind::Api, Category::Server, reason.clone());
                info.error_type = Some(code.clone());
                info
            }
            Problem::Unreadable(why) => ErrorInfo::local(Kind::Protocol, Category::Unknown, format!("A realtime frame could not be read: {why}.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(json: &str) -> Head {
        Head::of(&Value::from_deserializer(&mut serde_json::Deserializer::from_str(json)).unwrap())
    }

    #[test]
    fn frames_by_what_fal_sends() {
        let c = |json: &str| classify(&head(json), json.to_string());
        assert_eq!(c(r#"{"type":"x-fal-message","action":"timings","timing":{"inference":0.1}}"#), Frame::Control, "timings are not a result");
        assert_eq!(c(r#"{"type":"x-fal-message","message":"heartbeat"}"#), Frame::Control);
        assert_eq!(c(r#"{"type":"x-fal-error","error":"TIMEOUT","reason":"no inputs, reconnect when needed!"}"#), Frame::Notice(Notice::Idle));
        assert_eq!(
            c(r#"{"type":"x-fal-error","error":"INTERNAL_ERROR","reason":"boom"}"#),
            Frame::Error { code: "INTERNAL_ERROR".into(), reason: "boom".into() }
        );
        assert_eq!(c(r#"{"type":"x-fal-error","error":"BAD_INPUT"}"#), Frame::Error { code: "BAD_INPUT".into(), reason: "BAD_INPUT".into() });
        assert_eq!(c(r#"{"status":"error","error":"Unauthorized","reason":"expired"}"#), Frame::Notice(Notice::Unauthorized));
        let r = r#"{"images":[{"url":"x"}],"timings":{"inference":1},"status":"ok"}"#;
        assert_eq!(c(r), Frame::Result(r.to_string()));
        assert_eq!(c("[1,2]"), Frame::Result("[1,2]".to_string()), "anything else is a result");
    }

    #[test]
    fn token_shapes() {
        assert_eq!(token_request("lcm-sd15-i2i", Duration::ms(120_000.0)), r#"{"allowed_apps":["lcm-sd15-i2i"],"token_expiration":120}"#);
        let v = |json: &str| Value::from_deserializer(&mut serde_json::Deserializer::from_str(json)).unwrap();
        assert_eq!(token_from_answer(&v(r#""abc""#)).as_deref(), Some("abc"));
        assert_eq!(token_from_answer(&v(r#"{"detail":"abc"}"#)).as_deref(), Some("abc"));
        assert_eq!(token_from_answer(&v(r#"{"token":"abc"}"#)).as_deref(), Some("abc"));
        for bad in [r#""""#, "{}", "5", r#"{"detail":5}"#, "null"] {
            assert_eq!(token_from_answer(&v(bad)), None, "{bad}");
        }
    }

    #[test]
    fn errors_the_app_sees() {
        let e = Fatal::Closed { code: 1011 }.info();
        assert_eq!((e.kind, e.category, e.status), (Kind::Api, Category::Server, Some(1011)));
        assert_eq!(Fatal::Closed { code: 1008 }.info().category, Category::Forbidden);
        assert_eq!(Fatal::Unauthorized.info().category, Category::Auth);
        let after = after_fatal(&e);
        assert_eq!((after.kind, after.status), (Kind::Api, Some(1011)));
        assert!(after.message.contains("reconnect()"));
        let p = Problem::Server { code: "INTERNAL_ERROR".into(), reason: "boom".into() }.info();
        assert_eq!((p.message.as_str(), p.error_type.as_deref()), ("boom", Some("INTERNAL_ERROR")));
    }
}
