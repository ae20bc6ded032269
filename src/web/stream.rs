//! Reads the queue's status stream (SSE over fetch: EventSource can't send the
//! `x-fal-target-url` header) and turns it into machine inputs.

use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::http;
use super::js;
use crate::proto::sse::Parser;
use crate::proto::subscribe::Input;

type Sink = dyn Fn(Input<JsValue, JsValue>) -> bool;

/// Runs until the stream ends, breaks, or `signal` aborts it. Every way out other than an abort
/// reports `StreamBroken`; the machine ignores it once done. `sink` is false once nobody listens.
pub async fn follow(proxy: String, url: String, signal: AbortSignal, sink: Box<Sink>) {
    let _ = read(&proxy, &url, &signal, &*sink).await;
    if !js::aborted(&signal) {
        sink(Input::StreamBroken);
    }
}

async fn read(proxy: &str, url: &str, signal: &AbortSignal, sink: &Sink) -> Result<(), JsValue> {
    let resp = http::send(proxy, "GET", url, None, &[], "text/event-stream", Some(signal)).await?;
    let reader = http::reader(&resp).filter(|_| http::ok(&resp)).ok_or(JsValue::NULL)?;
    let (mut parser, mut events) = (Parser::default(), Vec::new());
    let send = |i| sink(i).then_some(()).ok_or(JsValue::NULL);
    while let Some(bytes) = http::chunk(&reader).await? {
        if bytes.is_empty() {
            continue;
        }
        send(Input::StreamActivity)?;
        parser.feed(&bytes, &mut events).map_err(|e| JsValue::from_str(&e.to_string()))?;
        for ev in events.drain(..) {
            let raw = js_sys::JSON::parse(&ev.data)?;
            let status = crate::proto::host::status(&raw, false).map_err(|e| JsValue::from_str(&e.0))?;
            send(Input::StreamStatus(status, raw))?;
        }
    }
    Ok(())
}
