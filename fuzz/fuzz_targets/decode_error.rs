//! The error decoder on arbitrary answers: status, headers and body bytes.
//! It must return an ErrorInfo for every input, never panic.
#![no_main]

use genwire::proto::error::flattened::{error_in_success, Expected};
use genwire::proto::error::{decode_http, decode_thrown, Body};
use genwire::proto::retry::{decide, Budget, Call, Idempotency, RetryConfig};
use genwire::proto::value::Value;
use libfuzzer_sys::fuzz_target;

const HEADERS: [&str; 9] = [
    "x-fal-retryable", "x-fal-error-type", "x-fal-request-id", "retry-after", "retry-after-ms",
    "x-ratelimit-reset", "ratelimit-reset", "x-fal-request-timeout-type", "content-type",
];
const CALLS: [Call; 9] = Call::ALL;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]);
    let call = CALLS[data[2] as usize % CALLS.len()];
    // Up to 9 header values, separated by 0xFF, then the body.
    let rest = &data[3..];
    let mut parts = rest.splitn(HEADERS.len() + 1, |b| *b == 0xFF);
    let values: Vec<Option<String>> = HEADERS
        .iter()
        .map(|_| parts.next().filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()))
        .collect();
    let body_bytes = parts.next().unwrap_or(&[]);
    let header = |n: &str| HEADERS.iter().position(|h| *h == n).and_then(|i| values.get(i).cloned().flatten());
    let body = match serde_json::from_slice::<serde_json::Value>(body_bytes) {
        Ok(_) => {
            let mut de = serde_json::Deserializer::from_slice(body_bytes);
            Value::from_deserializer(&mut de).map(Body::Json).unwrap_or(Body::Empty)
        }
        Err(_) if body_bytes.is_empty() => Body::Empty,
        Err(_) => Body::Text(String::from_utf8_lossy(body_bytes).into_owned()),
    };
    let info = decode_http(status, &header, &body, data[2] & 0x80 != 0, Some(call), 1.7e12);
    assert!(!info.message.is_empty());
    if let Some(ms) = info.retry_after_ms {
        assert!(ms.is_finite() && ms >= 0.0);
    }
    let mut budget = Budget::new(&RetryConfig::default());
    let idempotency = if data[3] & 1 == 0 { Idempotency::Safe } else { Idempotency::UnsafeIfMaybeProcessed };
    let _ = decide(&RetryConfig::default(), idempotency, u32::from(data[3]), &info, &mut budget, f64::from(data[0]) / 256.0);
    // The same answer as a 2xx behind a status-flattening proxy.
    if let Body::Json(v) = &body {
        for expected in [Expected::Submit, Expected::Status, Expected::Result] {
            if let Some(e) = error_in_success(expected, &header, v, data[2] & 0x40 != 0, 1.7e12) {
                assert!(!e.message.is_empty());
            }
        }
    }
    let text = String::from_utf8_lossy(body_bytes);
    let _ = decode_thrown(text.split('\n').next().unwrap_or(""), &text);
});
