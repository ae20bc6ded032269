//! The other decoders of network input: SSE in arbitrary chunks, queue statuses,
//! dates, endpoint and request ids, an output stream's body through its machine.
#![no_main]

use genwire::proto::endpoint::{EndpointId, RequestId};
use genwire::proto::realtime::msgpack;
use genwire::proto::sse::Parser;
use genwire::proto::status::Status;
use genwire::proto::stream::{Action, Body, Config, Input, Machine};
use genwire::proto::time::Instant;
use genwire::proto::value::Value;
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
    // An output stream's body, as events, JSON or binary: one end at most, nothing after it.
    let body = [Body::Events, Body::Json, Body::Binary][data.first().copied().unwrap_or(0) as usize % 3];
    let mut m: Machine<Value, ()> = Machine::new(Config::default(), Instant::at(0.0));
    m.handle(Instant::at(1.0), Input::Opened { body, request_id: None });
    let (mut ends, mut after) = (0, 0);
    let piece = |c: &[u8]| if body == Body::Binary { Input::Chunk(Value::Bytes(c.to_vec())) } else { Input::Bytes(c.to_vec()) };
    let chunks = data.chunks(1 + data.last().copied().unwrap_or(0) as usize % 23).map(piece);
    for input in chunks.chain(std::iter::once(Input::Ended)) {
        m.handle(Instant::at(2.0), input);
        while let Some(a) = m.poll_action() {
            after += ends;
            match a {
                Action::Parse { name, data } => {
                    let value = Value::from_deserializer(&mut serde_json::Deserializer::from_str(&data)).ok();
                    m.handle(Instant::at(2.0), Input::Parsed { name, data, value, now_ms: 0.0 });
                }
                Action::Done(_) => ends += 1,
                Action::Partial(_) => {}
            }
        }
    }
    assert!(ends == 1 && after == 0, "{ends} ends, {after} actions after the end");
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
