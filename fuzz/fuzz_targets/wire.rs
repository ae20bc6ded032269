//! The other decoders of network input: SSE in arbitrary chunks, queue statuses,
//! dates, endpoint and request ids.
#![no_main]

use genwire::proto::endpoint::{EndpointId, RequestId};
use genwire::proto::realtime::msgpack;
use genwire::proto::sse::Parser;
use genwire::proto::status::Status;
use genwire::proto::when::{http_date, iso8601};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = Parser::new(4096);
    let mut out = Vec::new();
    for chunk in data.chunks(1 + data.first().copied().unwrap_or(0) as usize % 17) {
        if p.feed(chunk, &mut out).is_err() {
            break;
        }
    }
    for ev in &out {
        let mut de = serde_json::Deserializer::from_str(&ev.data);
        let _ = Status::from_deserializer(&mut de);
    }
    // A realtime frame: whatever decodes must survive encode -> decode -> encode
    // unchanged (bytes compared, so a NaN is equal to itself).
    if let Ok(v) = msgpack::decode(data) {
        let once = msgpack::encode(&v);
        let again = msgpack::decode(&once).map(|w| msgpack::encode(&w));
        assert_eq!(again.as_deref(), Ok(&once[..]));
    }
    let text = String::from_utf8_lossy(data);
    let _ = http_date(&text);
    let _ = iso8601(&text);
    if let Ok(e) = EndpointId::parse(&text) {
        let _ = e.submit_url(Some(&text));
        if let Some(id) = RequestId::parse(e.alias()) {
            let url = e.status_url(&id, true);
            assert!(!url.split(['/', '?']).any(|s| s == ".." || s == "."), "{url}");
        }
    }
});
