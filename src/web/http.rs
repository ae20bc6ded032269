//! The one way out: every request goes to the app's proxy, with the real target
//! in `x-fal-target-url`. Never an `authorization` header: the proxy adds the key.

use gloo_net::http::{Method, RequestBuilder, Response};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

use super::error;
use super::js::get;

/// Sends one request through the proxy. `Err` is the rejected fetch as JS threw it.
pub async fn send(
    proxy: &str,
    method: Method,
    target: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
    accept: &str,
    signal: Option<&AbortSignal>,
) -> Result<Response, JsValue> {
    let mut rb = RequestBuilder::new(proxy).method(method).header("x-fal-target-url", target).header("accept", accept).abort_signal(signal);
    for (k, v) in headers {
        rb = rb.header(k, v);
    }
    let sent = match body {
        Some(b) => rb.header("content-type", "application/json").body(b).map_err(gloo_err)?.send().await,
        None => rb.send().await,
    };
    sent.map_err(|e| match signal {
        Some(s) if s.aborted() => error::aborted(s.reason()),
        _ => gloo_err(e),
    })
}

/// Reads at most `limit` bytes of the body (error bodies can be huge HTML pages).
/// Returns the text and whether it was cut.
pub async fn read_bounded(resp: &Response, limit: usize) -> Result<(String, bool), JsValue> {
    let Some(stream) = resp.body() else { return Ok((String::new(), false)) };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        if get(&chunk, "done").as_bool().unwrap_or(true) {
            return Ok((String::from_utf8_lossy(&buf).into_owned(), false));
        }
        let bytes = js_sys::Uint8Array::new(&get(&chunk, "value"));
        let room = limit.saturating_sub(buf.len());
        if (bytes.length() as usize) > room {
            buf.extend_from_slice(&bytes.subarray(0, room as u32).to_vec());
            let _ = reader.cancel();
            return Ok((String::from_utf8_lossy(&buf).into_owned(), true));
        }
        buf.extend_from_slice(&bytes.to_vec());
    }
}

pub fn gloo_err(e: gloo_net::Error) -> JsValue {
    match e {
        gloo_net::Error::JsError(j) => {
            let err = js_sys::Error::new(&j.message);
            err.set_name(&j.name);
            err.into()
        }
        other => js_sys::Error::new(&other.to_string()).into(),
    }
}
