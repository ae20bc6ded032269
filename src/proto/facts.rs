//! The facts the JS side shares with the core, written once, here: `js/facts.js` is generated
//! from this module (a native test fails when the file differs, `UPDATE_FACTS=1 cargo test`
//! rewrites it), and the TypeScript unions and documented defaults of `js/index.d.ts` are checked
//! against the Rust enums and constants by the tests below. The endpoint rules are checked in
//! both languages against one table (`tests/facts/endpoint-ids.json`).

use crate::proto::error::{Category, Kind};
use crate::proto::value::Value;

/// What the JS files need: defaults, the refused option names, the endpoint rules.
pub fn js_facts() -> Vec<(&'static str, Value)> {
    let s = |v: &str| Value::Str(v.into());
    let list = |l: &[&str]| Value::Arr(l.iter().map(|x| s(x)).collect());
    vec![
        ("DEFAULT_PROXY_URL", s(crate::proto::config::DEFAULT_PROXY_URL)),
        ("DEFAULT_REALTIME_URL", s(crate::proto::realtime::frame::DEFAULT_REALTIME_URL)),
        ("SECRET_NAMES", list(&crate::proto::keys::SECRET_NAMES)),
        ("SECRET_SUFFIXES", list(&crate::proto::keys::SECRET_SUFFIXES)),
        ("SECRET_PREFIXES", list(&crate::proto::keys::SECRET_PREFIXES)),
        ("APP_SESSION_HEADERS", list(&crate::proto::keys::APP_SESSION_HEADERS)),
        ("ENDPOINT_NAMESPACES", list(&crate::proto::endpoint::NAMESPACES)),
        ("STATS_WINDOW_MS", Value::Num(crate::proto::stats::WINDOW_MS)),
    ]
}

/// The text of `js/facts.js`.
pub fn js_module() -> String {
    let mut out = String::from("// Generated from the Rust core (src/proto/facts.rs) by `UPDATE_FACTS=1 cargo test`; do not edit.\n");
    for (name, v) in js_facts() {
        out.push_str("export const ");
        out.push_str(name);
        out.push_str(" = ");
        crate::proto::json::write(&mut out, &v);
        out.push_str(";\n");
    }
    out
}

/// Every error kind, in the order of the TypeScript union (a new variant fails to compile here).
pub fn kinds() -> [Kind; 8] {
    let all = [Kind::Validation, Kind::Api, Kind::Network, Kind::Timeout, Kind::Aborted, Kind::CircuitOpen, Kind::Config, Kind::Protocol];
    for k in all {
        match k {
            Kind::Validation | Kind::Api | Kind::Network | Kind::Timeout | Kind::Aborted | Kind::CircuitOpen | Kind::Config | Kind::Protocol => {}
        }
    }
    all
}

/// Every category, in the order of the TypeScript union (a new variant fails to compile here).
pub fn categories() -> [Category; 16] {
    use Category::*;
    let all = [
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
    ];
    for c in all {
        match c {
            Validation | ContentPolicy | Auth | Forbidden | NotFound | RateLimited | Timeout | Unavailable | Server | Network | Aborted | Cancelled
            | CircuitOpen | BadRequest | Config | Unknown => {}
        }
    }
    all
}

#[cfg(test)]
mod tests;
