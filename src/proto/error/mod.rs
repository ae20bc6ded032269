//! The one error type genwire rejects with, and its decoding from whatever the
//! upstream, a proxy or the browser produced.

mod classify;
mod decode;
mod envelope;
pub mod flattened;
pub(crate) mod issues;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use decode::{decode_http, decode_thrown, Body, Headers};
pub use issues::{Ctx, FieldIssue, LocPart};

/// Which shape the error has; the TypeScript union narrows on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The input was refused, with field issues (server 422 or found on the client).
    Validation,
    /// Any other HTTP error answer.
    Api,
    /// The request did not complete: offline, connection reset, CORS.
    Network,
    Timeout,
    Aborted,
    /// The endpoint's circuit breaker is open: nothing was sent.
    CircuitOpen,
    /// The call itself is wrong (bad option, endpoint id, a key in the browser).
    Config,
    /// A 2xx answer that breaks the protocol.
    Protocol,
}

/// What a UI does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Validation,
    ContentPolicy,
    Auth,
    Forbidden,
    NotFound,
    RateLimited,
    Timeout,
    Unavailable,
    Server,
    Network,
    Aborted,
    Cancelled,
    CircuitOpen,
    BadRequest,
    Config,
    Unknown,
}

impl Kind {
    /// The name the JS side sees (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Validation => "validation",
            Kind::Api => "api",
            Kind::Network => "network",
            Kind::Timeout => "timeout",
            Kind::Aborted => "aborted",
            Kind::CircuitOpen => "circuit_open",
            Kind::Config => "config",
            Kind::Protocol => "protocol",
        }
    }
}

impl Category {
    /// The name the JS side sees (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Validation => "validation",
            Category::ContentPolicy => "content_policy",
            Category::Auth => "auth",
            Category::Forbidden => "forbidden",
            Category::NotFound => "not_found",
            Category::RateLimited => "rate_limited",
            Category::Timeout => "timeout",
            Category::Unavailable => "unavailable",
            Category::Server => "server",
            Category::Network => "network",
            Category::Aborted => "aborted",
            Category::Cancelled => "cancelled",
            Category::CircuitOpen => "circuit_open",
            Category::BadRequest => "bad_request",
            Category::Config => "config",
            Category::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInfo {
    pub kind: Kind,
    pub category: Category,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub retryable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// fal's machine-readable type (`X-Fal-Error-Type`, the body's `error_type`, or the first issue's `type`),
    /// else the most specific code another API's envelope names (`moderation_blocked`, `RESOURCE_EXHAUSTED`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// A sentence fit to show a person.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    pub issues: Vec<FieldIssue>,
    /// `x-fal-request-timeout-type`: `user` when the caller's own request timeout expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_type: Option<String>,
    /// The error body was larger than genwire reads and was cut.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub truncated: bool,
    /// Where the error was found: an HTTP answer (`server`) or genwire's own checks (`client`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Server,
    Client,
}

impl Source {
    /// The name the JS side sees (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Server => "server",
            Source::Client => "client",
        }
    }
}

impl ErrorInfo {
    /// An error that did not come from an HTTP answer.
    pub fn local(kind: Kind, category: Category, message: impl Into<String>) -> Self {
        Self {
            kind,
            category,
            status: None,
            retryable: false,
            retry_after_ms: None,
            request_id: None,
            error_type: None,
            message: message.into(),
            docs_url: None,
            issues: Vec::new(),
            timeout_type: None,
            truncated: false,
            source: None,
        }
    }

    /// Input issues found before sending: the same shape as the server's 422.
    pub fn client_validation(issues: Vec<FieldIssue>) -> Self {
        let first = issues.iter().find(|i| !i.field.is_empty()).or(issues.first());
        let message = match (first, issues.len()) {
            (Some(i), 1) => i.msg.clone(),
            (Some(i), n) => format!("{} (and {} more)", i.msg, n - 1),
            (None, _) => "Some inputs are not valid.".into(),
        };
        let error_type = first.map(|i| i.kind.clone());
        let mut e = Self::local(Kind::Validation, Category::Validation, message);
        e.status = Some(422);
        e.docs_url = error_type.as_deref().filter(|t| classify::error_type(t).is_some()).map(|t| format!("https://docs.fal.ai/errors/#{t}"));
        e.error_type = error_type;
        e.issues = issues;
        e.source = Some(Source::Client);
        e
    }
}
