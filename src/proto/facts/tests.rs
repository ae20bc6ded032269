use super::*;
use crate::proto::breaker::State;
use crate::proto::endpoint::EndpointId;
use crate::proto::realtime::connection::Status;
use crate::proto::retry::{Call, GiveUp};

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The string literals of a TypeScript union `export type Name = "a" | "b" ...;`.
fn union(dts: &str, name: &str) -> Vec<String> {
    let start = dts.find(&format!("export type {name} =")).unwrap_or_else(|| panic!("no union {name}"));
    let body = &dts[start..start + dts[start..].find(';').unwrap()];
    body.split('"').skip(1).step_by(2).map(String::from).collect()
}

/// The string literals after `key: ` in `text` (e.g. every `kind: "..."` of the error interfaces).
fn literals_after(text: &str, key: &str) -> Vec<String> {
    text.match_indices(&format!("{key}: \"")).map(|(i, m)| text[i + m.len()..].split('"').next().unwrap().to_string()).collect()
}

#[test]
fn js_facts_is_generated_from_the_core() {
    let path = format!("{}/js/facts.js", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_FACTS").is_some() {
        std::fs::write(&path, js_module()).unwrap();
    }
    assert_eq!(read("js/facts.js"), js_module(), "js/facts.js is out of date: UPDATE_FACTS=1 cargo test -p genwire facts");
}

#[test]
fn the_typescript_unions_are_the_rust_enums() {
    let dts = read("js/index.d.ts");
    let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(union(&dts, "ErrorCategory"), categories().map(|c| c.as_str().to_string()));
    let errors = &dts[dts.find("interface ErrorBase").unwrap()..dts.find("export type GenwireError").unwrap()];
    assert_eq!(literals_after(errors, "kind"), kinds().map(|k| k.as_str().to_string()));
    let mut calls: Vec<String> = Call::ALL.iter().map(|c| c.as_str().to_string()).collect();
    calls.push("validate".into());
    assert_eq!(union(&dts, "CallName"), calls);
    assert_eq!(union(&dts, "BreakerState"), names(&State::NAMES));
    let events = &dts[dts.find("export type GenwireEvent").unwrap()..dts.find("export type BreakerState").unwrap()];
    assert_eq!(literals_after(events, "type"), names(&crate::proto::shapes::EVENT_TYPES));
    let reasons = &events[events.find("reason?:").unwrap()..];
    let reasons: Vec<String> = reasons[..reasons.find(';').unwrap()].split('"').skip(1).step_by(2).map(String::from).collect();
    assert_eq!(reasons, GiveUp::ALL.map(|g| g.as_str().to_string()));
    let status = &dts[dts.find("export interface RealtimeStatus").unwrap()..];
    let status = &status[status.find("status:").unwrap()..status.find(';').unwrap()];
    assert_eq!(status.split('"').skip(1).step_by(2).collect::<Vec<_>>(), Status::NAMES);
}

#[test]
fn the_documented_defaults_are_the_cores() {
    use crate::proto::{breaker, realtime, retry, subscribe};
    let dts = read("js/index.d.ts");
    let n = crate::proto::num::fmt;
    let defaults = [
        ("maxRetries", n(f64::from(retry::DEFAULT_MAX_RETRIES))),
        ("baseDelayMs", n(retry::DEFAULT_BASE_DELAY_MS)),
        ("maxDelayMs", n(retry::DEFAULT_MAX_DELAY_MS)),
        ("maxRetryAfterMs", n(retry::DEFAULT_MAX_RETRY_AFTER_MS)),
        ("budget", n(retry::DEFAULT_BUDGET)),
        ("failureThreshold", n(f64::from(breaker::DEFAULT_FAILURE_THRESHOLD))),
        ("openMs", n(breaker::DEFAULT_OPEN_MS)),
        ("proxyUrl", format!("`{}`", crate::proto::config::DEFAULT_PROXY_URL)),
        ("realtimeUrl", format!("`{}`", realtime::frame::DEFAULT_REALTIME_URL)),
        ("pollInterval", n(subscribe::DEFAULT_POLL_INTERVAL_MS)),
        ("streamStallTimeout", n(subscribe::DEFAULT_STALL_MS)),
        ("stallTimeout", n(crate::proto::stream::DEFAULT_STALL_MS)),
        ("throttleInterval", n(realtime::connection::DEFAULT_THROTTLE_MS)),
        ("fallbackAfter", n(f64::from(realtime::connection::DEFAULT_FALLBACK_AFTER))),
        ("fallbackRetryMs", n(realtime::connection::DEFAULT_FALLBACK_RETRY_MS)),
        ("multipartThreshold", format!("{} MiB", crate::proto::upload::DEFAULT_MULTIPART_THRESHOLD >> 20)),
    ];
    for (field, value) in defaults {
        let at = dts.find(&format!("{field}?:")).unwrap_or_else(|| panic!("{field} is not in index.d.ts"));
        let doc = &dts[dts[..at].rfind("/**").unwrap()..at];
        assert!(doc.contains(&format!("Default {value}")), "index.d.ts documents {field} as {doc:?}, the core's default is {value}");
    }
    // The README's table of client options says the same.
    let readme = read("README.md");
    let retry = format!(
        "`{{ maxRetries: {}, baseDelayMs: {}, maxDelayMs: {}, maxRetryAfterMs: {}, budget: {} }}`",
        retry::DEFAULT_MAX_RETRIES,
        n(retry::DEFAULT_BASE_DELAY_MS),
        n(retry::DEFAULT_MAX_DELAY_MS),
        n(retry::DEFAULT_MAX_RETRY_AFTER_MS),
        n(retry::DEFAULT_BUDGET)
    );
    assert!(readme.contains(&retry), "README: {retry}");
    let breaker = format!("`{{ failureThreshold: {}, openMs: {} }}`", breaker::DEFAULT_FAILURE_THRESHOLD, n(breaker::DEFAULT_OPEN_MS));
    assert!(readme.contains(&breaker), "README: {breaker}");
}

#[test]
fn endpoint_ids_mean_what_the_shared_table_says() {
    let table = Value::from_deserializer(&mut serde_json::Deserializer::from_str(&read("tests/facts/endpoint-ids.json"))).unwrap();
    let cases = table.get("cases").and_then(Value::as_array).unwrap();
    assert!(cases.len() > 10);
    for c in cases {
        let id = c.get("id").and_then(Value::as_str).unwrap();
        match (EndpointId::parse(id), c.str_field("error")) {
            (Ok(ep), None) => {
                let want = |k: &str| c.str_field(k).unwrap().to_string();
                assert_eq!((ep.full(), ep.app(), ep.alias().to_string()), (want("full"), want("app"), want("alias")), "{id}");
            }
            (Err(_), Some(_)) => {}
            (r, why) => panic!("{id:?}: the core says {r:?}, the table {why:?}"),
        }
    }
}

/// The names an interface of the declarations gives its members (at its own level), with those of
/// the interfaces it extends.
fn members(dts: &str, name: &str) -> Vec<String> {
    let start = dts.find(&format!("export interface {name}")).unwrap_or_else(|| panic!("no interface {name}"));
    let head = &dts[start..start + dts[start..].find('{').unwrap()];
    let body = &dts[start + head.len()..];
    let body = &body[..body.find("\n}").unwrap()];
    let mut out: Vec<String> = body
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| {
            let n: String = l[2..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            (!n.is_empty() && (l[2 + n.len()..].starts_with("?:") || l[2 + n.len()..].starts_with(':'))).then_some(n)
        })
        .collect();
    if let Some((_, parents)) = head.split_once(" extends ") {
        for p in parents.split(',').map(|p| p.trim().split('<').next().unwrap().trim()) {
            out.extend(members(dts, p));
        }
    }
    out
}

#[test]
fn the_declared_options_are_the_ones_the_core_knows() {
    use crate::proto::options::call;
    let dts = read("js/index.d.ts");
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    let known = |c: &str| sorted(call(c).unwrap().known.iter().map(|s| s.to_string()).collect());
    let refused = ["credentials", "apiKey", "key"];
    let client = members(&dts, "ClientOptions").into_iter().filter(|n| !refused.contains(&n.as_str())).collect();
    assert_eq!(sorted(client), known("client"), "ClientOptions");
    for (iface, c) in [
        ("SubmitOptions", "submit"),
        ("SubscribeOptions", "subscribe"),
        ("RunOptions", "run"),
        ("RequestOptions", "result"),
        ("RequestOptions", "cancel"),
        ("UploadOptions", "upload"),
        ("RealtimeOptions", "realtime"),
        ("RetryOptions", "retry"),
        ("CircuitBreakerOptions", "circuitBreaker"),
    ] {
        assert_eq!(sorted(members(&dts, iface)), known(c), "{iface} declares what `{c}` knows (proto::options::CALLS)");
    }
    let mut status = members(&dts, "RequestOptions");
    status.push("logs".into());
    assert_eq!(sorted(status), known("status"));
}
