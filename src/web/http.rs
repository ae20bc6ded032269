//! The one way out: every request goes to the app's proxy, with the real target
//! in `x-fal-target-url`. Never an `authorization` header: the proxy adds the key.

use js_sys::Object;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader, Response};

use super::js::{get, set};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (window or worker).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &Object) -> js_sys::Promise;
}

/// `fetch(url, {method, headers, body, signal})`. `Err` is the rejection as an `Error`
/// (name and message kept).
pub async fn fetch(url: &str, method: &str, headers: &[(&str, &str)], body: Option<&str>, signal: Option<&AbortSignal>) -> Result<Response, JsValue> {
    let init = Object::new();
    set(&init, "method", &JsValue::from_str(method));
    let h = Object::new();
    for (k, v) in headers {
        set(&h, k, &JsValue::from_str(v));
    }
    set(&init, "headers", &h);
    if let Some(b) = body {
        set(&init, "body", &JsValue::from_str(b));
    }
    if let Some(s) = signal {
        set(&init, "signal", s);
    }
    let resp = JsFuture::from(global_fetch(url, &init)).await.map_err(as_error)?;
    resp.dyn_into::<Response>().map_err(as_error)
}

/// Sends one request through the proxy. `Err` is the rejected fetch as JS threw it.
pub async fn send(
    proxy: &str,
    method: &str,
    target: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
    accept: &str,
    signal: Option<&AbortSignal>,
) -> Result<Response, JsValue> {
    let mut all = vec![("x-fal-target-url", target), ("accept", accept)];
    all.extend_from_slice(headers);
    if body.is_some() {
        all.push(("content-type", "application/json"));
    }
    fetch(proxy, method, &all, body, signal).await
}

/// The body as text.
pub async fn text(resp: &Response) -> Result<String, JsValue> {
    let p: js_sys::Promise = super::js::call(resp, "text", None).map_err(as_error)?.unchecked_into();
    Ok(JsFuture::from(p).await.map_err(as_error)?.as_string().unwrap_or_default())
}

/// `resp.ok`. Response's fields are read as properties: one import for all of them.
pub fn ok(resp: &Response) -> bool {
    get(resp, "ok").as_bool() == Some(true)
}

/// `resp.status`.
pub fn status(resp: &Response) -> u16 {
    get(resp, "status").as_f64().unwrap_or(0.0) as u16
}

/// A reader of the body; None when it has none.
pub fn reader(resp: &Response) -> Option<ReadableStreamDefaultReader> {
    let body = get(resp, "body");
    super::js::call(&body, "getReader", None).ok().map(JsCast::unchecked_into)
}

/// A response header, if present.
pub fn header(resp: &Response, name: &str) -> Option<String> {
    super::js::call(&get(resp, "headers"), "get", Some(&JsValue::from_str(name))).ok().and_then(|v| v.as_string())
}

/// Reads at most `limit` bytes of the body (error bodies can be huge HTML pages).
/// Returns the text and whether it was cut.
pub async fn read_bounded(resp: &Response, limit: usize) -> Result<(String, bool), JsValue> {
    let Some(reader) = reader(resp) else { return Ok((String::new(), false)) };
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(read(&reader)?).await?;
        if get(&chunk, "done").as_bool().unwrap_or(true) {
            return Ok((String::from_utf8_lossy(&buf).into_owned(), false));
        }
        let bytes = js_sys::Uint8Array::new(&get(&chunk, "value"));
        let room = limit.saturating_sub(buf.len());
        if (bytes.length() as usize) > room {
            buf.extend_from_slice(&bytes.subarray(0, room as u32).to_vec());
            let _ = super::js::call(&reader, "cancel", None);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), true));
        }
        buf.extend_from_slice(&bytes.to_vec());
    }
}

/// `reader.read()`: a promise of the next chunk.
pub fn read(reader: &ReadableStreamDefaultReader) -> Result<js_sys::Promise, JsValue> {
    super::js::call(reader, "read", None).map(JsCast::unchecked_into)
}

/// A thrown value as a fresh `Error` of the same name and message.
pub fn as_error(e: JsValue) -> JsValue {
    let message = get(&e, "message").as_string().or_else(|| e.as_string()).unwrap_or_default();
    let err = js_sys::Error::new(&message);
    let name = get(&e, "name");
    if name.is_string() {
        set(&err, "name", &name);
    }
    err.into()
}
