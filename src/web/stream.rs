//! Reads the queue's status stream (SSE over fetch: EventSource can't send the
//! `x-fal-target-url` header) and turns it into machine inputs.

use super::chan::Sender as UnboundedSender;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use super::http;
use super::js::get;
use super::subscribe::Msg;
use crate::proto::sse::Parser;
use crate::proto::subscribe::Input;

/// Runs until the stream ends, breaks, or `signal` aborts it. Every way out
/// other than an abort reports `StreamBroken`; the machine ignores it once done.
pub async fn follow(proxy: String, url: String, signal: AbortSignal, tx: UnboundedSender<Msg>) {
    let _ = read(&proxy, &url, &signal, &tx).await;
    if !super::js::aborted(&signal) {
        let _ = tx.unbounded_send(Msg::Input(Input::StreamBroken));
    }
}

async fn read(proxy: &str, url: &str, signal: &AbortSignal, tx: &UnboundedSender<Msg>) -> Result<(), JsValue> {
    let resp = http::send(proxy, "GET", url, None, &[], "text/event-stream", Some(signal)).await?;
    if !http::ok(&resp) {
        return Err(JsValue::from(http::status(&resp)));
    }
    let reader = http::reader(&resp).ok_or(JsValue::NULL)?;
    let mut parser = Parser::default();
    let mut events = Vec::new();
    loop {
        let chunk = JsFuture::from(http::read(&reader)?).await?;
        if get(&chunk, "done").as_bool().unwrap_or(true) {
            return Ok(());
        }
        let bytes = js_sys::Uint8Array::new(&get(&chunk, "value")).to_vec();
        if bytes.is_empty() {
            continue;
        }
        send(tx, Input::StreamActivity)?;
        parser.feed(&bytes, &mut events).map_err(|e| JsValue::from_str(&e.to_string()))?;
        for ev in events.drain(..) {
            let raw = js_sys::JSON::parse(&ev.data)?;
            let status = super::conv::status(&raw)
                .map_err(|e| JsValue::from_str(&e.0))?;
            send(tx, Input::StreamStatus(status, raw))?;
        }
    }
}

/// Fails once the driver has finished and dropped its receiver: stop reading then.
fn send(tx: &UnboundedSender<Msg>, input: Input<JsValue, JsValue>) -> Result<(), JsValue> {
    tx.unbounded_send(Msg::Input(input)).map_err(|_| JsValue::NULL)
}
