//! The one way out: every request goes to the app's proxy, with the real target in
//! `x-fal-target-url`. Never an `authorization` header: the proxy adds the key. A Response's
//! fields and methods are read by name: one import for all of them.

use js_sys::Object;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Response};

use super::js::{call, get, set};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (window or worker).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &Object) -> js_sys::Promise;
}

/// `fetch(url, {method, headers, body, signal})`. `Err` is the rejection as a fresh `Error` (name and message kept).
pub async fn fetch(url: &str, method: &str, headers: &[(&str, &str)], body: Option<&str>, signal: Option<&AbortSignal>) -> Result<Response, JsValue> {
    let (init, h) = (Object::new(), Object::new());
    headers.iter().for_each(|(k, v)| set(&h, k, &JsValue::from_str(v)));
    set(&init, "method", &JsValue::from_str(method));
    set(&init, "headers", &h);
    body.iter().for_each(|b| set(&init, "body", &JsValue::from_str(b)));
    signal.iter().for_each(|s| set(&init, "signal", s));
    JsFuture::from(global_fetch(url, &init)).await.and_then(JsCast::dyn_into).map_err(as_error)
}

/// One request through the proxy. `Err` is the rejected fetch.
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
    all.extend(body.map(|_| ("content-type", "application/json")));
    fetch(proxy, method, &all, body, signal).await
}

/// The body as text.
pub async fn text(resp: &Response) -> Result<String, JsValue> {
    let p = call(resp, "text", None).map_err(as_error)?;
    Ok(JsFuture::from(js_sys::Promise::from(p)).await.map_err(as_error)?.as_string().unwrap_or_default())
}

pub fn ok(resp: &Response) -> bool {
    get(resp, "ok").as_bool() == Some(true)
}

pub fn status(resp: &Response) -> u16 {
    get(resp, "status").as_f64().unwrap_or(0.0) as u16
}

pub fn header(resp: &Response, name: &str) -> Option<String> {
    call(&get(resp, "headers"), "get", Some(&JsValue::from_str(name))).ok().and_then(|v| v.as_string())
}

/// A reader of the body; None when it has none.
pub fn reader(resp: &Response) -> Option<JsValue> {
    call(&get(resp, "body"), "getReader", None).ok()
}

/// The next chunk of a body, None at its end.
pub async fn chunk(reader: &JsValue) -> Result<Option<Vec<u8>>, JsValue> {
    Ok(chunk_js(reader).await?.map(|c| js_sys::Uint8Array::new(&c).to_vec()))
}

/// The next chunk of a body as the browser gave it (a `Uint8Array`), None at its end.
pub async fn chunk_js(reader: &JsValue) -> Result<Option<JsValue>, JsValue> {
    let c = JsFuture::from(js_sys::Promise::from(call(reader, "read", None)?)).await?;
    Ok((get(&c, "done").as_bool() == Some(false)).then(|| get(&c, "value")))
}

/// At most `limit` bytes of the body (error bodies can be huge HTML pages), and whether it was cut.
pub async fn read_bounded(resp: &Response, limit: usize) -> Result<(String, bool), JsValue> {
    let mut buf = Vec::new();
    let Some(reader) = reader(resp) else { return Ok((String::new(), false)) };
    while let Some(bytes) = chunk(&reader).await? {
        if buf.len() + bytes.len() > limit {
            buf.extend(bytes.iter().take(limit - buf.len()));
            let _ = call(&reader, "cancel", None);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), true));
        }
        buf.extend_from_slice(&bytes);
    }
    Ok((String::from_utf8_lossy(&buf).into_owned(), false))
}

/// A thrown value as a fresh `Error` of the same name and message.
pub fn as_error(e: JsValue) -> JsValue {
    let err = js_sys::Error::new(&get(&e, "message").as_string().or_else(|| e.as_string()).unwrap_or_default());
    Some(get(&e, "name")).filter(JsValue::is_string).iter().for_each(|n| set(&err, "name", n));
    err.into()
}
