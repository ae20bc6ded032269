//! The one way out: every request goes to the app's proxy, with the real target in
//! `x-fal-target-url`. Never an `authorization` header: the proxy adds the key (the app's headers
//! and `onRequest` are held to the core's key rule). A Response's fields and methods are read by
//! name: one import for all of them.

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Response};

use super::js::{call, get, set};
use crate::proto::error::{Category, ErrorInfo, Kind};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (window or worker).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &Object) -> js_sys::Promise;
}

/// The client's extension points on the way out: the app's `fetch` (every request genwire makes
/// with fetch goes through it, status streams included), `onRequest` (may change headers by the
/// core's rules), `onResponse` (observes), and its `headers` (on requests through the proxy).
#[derive(Default)]
pub struct Net {
    pub fetch: Option<Function>,
    pub on_request: Option<Function>,
    pub on_response: Option<Function>,
    pub headers: Vec<(String, String)>,
}

/// Why a request did not go out or came back without an answer.
pub enum Fail {
    /// The fetch rejected (or the app's `fetch` threw): the network's, decoded by name and message.
    Thrown(JsValue),
    /// `onRequest` threw or asked for what the rules refuse: a `config` error, never retried.
    Refused(String, JsValue),
}

impl Fail {
    /// As a JS value (the `GenwireError` for a refusal).
    pub fn into_js(self) -> JsValue {
        match self {
            Fail::Thrown(e) => e,
            Fail::Refused(m, cause) => {
                super::conv::to_js(&ErrorInfo::local(Kind::Config, Category::Config, &m), None, Some(&cause).filter(|c| !c.is_undefined()))
            }
        }
    }
}

/// A JS value that may be a promise (or any thenable, or not one at all: what an app's `fetch`,
/// `onRequest` or a look-alike of a Response gives back), awaited.
async fn settle(v: &JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(super::js::resolved(v)).await
}

fn headers_obj(headers: &[(String, String)]) -> Object {
    let h = Object::new();
    headers.iter().for_each(|(k, v)| set(&h, k, &JsValue::from_str(v)));
    h
}

/// A request's future: boxed once here, so its poll is one function however many callers await it.
pub type Sent<'a> = core::pin::Pin<Box<dyn core::future::Future<Output = Result<Response, Fail>> + 'a>>;

/// `fetch(url, {method, headers, body, signal})` through the client's `Net`. `target` is the
/// upstream URL of a request through the proxy: what `onRequest` and `onResponse` see as `url`.
#[inline(never)]
pub fn fetch<'a>(
    net: &'a Net,
    url: &'a str,
    target: Option<&'a str>,
    method: &'a str,
    headers: Vec<(String, String)>,
    body: Option<JsValue>,
    signal: Option<&'a AbortSignal>,
) -> Sent<'a> {
    Box::pin(fetch_now(net, url, target, method, headers, body, signal))
}

async fn fetch_now(
    net: &Net,
    url: &str,
    target: Option<&str>,
    method: &str,
    mut headers: Vec<(String, String)>,
    body: Option<JsValue>,
    signal: Option<&AbortSignal>,
) -> Result<Response, Fail> {
    let shown = target.unwrap_or(url);
    if let Some(hook) = &net.on_request {
        let req = Object::new();
        set(&req, "url", &JsValue::from_str(shown));
        set(&req, "method", &JsValue::from_str(method));
        set(&req, "headers", &headers_obj(&headers));
        let refused =
            |e: JsValue| Fail::Refused(format!("onRequest threw: {}", get(&e, "message").as_string().or_else(|| e.as_string()).unwrap_or_default()), e);
        let out = settle(&hook.call1(&JsValue::UNDEFINED, &req).map_err(refused)?).await.map_err(refused)?;
        let after = if out.is_object() { out } else { req.into() };
        let after = super::conv::to_value(&after).map_err(|e| Fail::Refused(format!("onRequest's request can't be read: {e}"), JsValue::UNDEFINED))?;
        headers = crate::proto::options::after_on_request(shown, method, &headers, &after).map_err(|e| Fail::Refused(e.0, JsValue::UNDEFINED))?;
    }
    let init = Object::new();
    set(&init, "method", &JsValue::from_str(method));
    set(&init, "headers", &headers_obj(&headers));
    body.iter().for_each(|b| set(&init, "body", b));
    signal.iter().for_each(|s| set(&init, "signal", s));
    let sent = match &net.fetch {
        Some(f) => f.call2(&JsValue::UNDEFINED, &JsValue::from_str(url), &init).map(|p| super::js::resolved(&p)).map_err(as_error),
        None => Ok(global_fetch(url, &init)),
    };
    let resp = JsFuture::from(sent.map_err(Fail::Thrown)?).await.map_err(|e| Fail::Thrown(as_error(e)))?;
    if !resp.is_object() {
        return Err(Fail::Refused("the client's fetch did not resolve to a Response".into(), JsValue::UNDEFINED));
    }
    let resp: Response = resp.unchecked_into();
    if let Some(hook) = &net.on_response {
        let res = Object::new();
        set(&res, "url", &JsValue::from_str(shown));
        set(&res, "method", &JsValue::from_str(method));
        set(&res, "status", &get(&resp, "status"));
        set(&res, "ok", &get(&resp, "ok"));
        set(&res, "headers", &get(&resp, "headers"));
        super::js::callback(hook, &res);
    }
    Ok(resp)
}

/// One request through the proxy: the client's `headers`, then `headers` (the call's, then what
/// its options imply), then genwire's own (the target, `accept`, the content type).
#[allow(clippy::too_many_arguments)]
pub fn send<'a>(
    net: &'a Net,
    proxy: &'a str,
    method: &'a str,
    target: &'a str,
    body: Option<&str>,
    headers: &[(String, String)],
    accept: &str,
    signal: Option<&'a AbortSignal>,
) -> Sent<'a> {
    let mut own = vec![("x-fal-target-url", target), ("accept", accept)];
    own.extend(body.map(|_| ("content-type", "application/json")));
    let all = crate::proto::options::request_headers(&[&net.headers, headers], &own);
    fetch(net, proxy, Some(target), method, all, body.map(JsValue::from_str), signal)
}

// A Response's methods are called by name: the app's `fetch` may resolve to a look-alike of one,
// whose methods return anything (a string, not a promise of one). Every result is settled.

/// The body as text.
pub async fn text(resp: &Response) -> Result<String, JsValue> {
    let p = call(resp, "text", None).map_err(as_error)?;
    Ok(settle(&p).await.map_err(as_error)?.as_string().unwrap_or_default())
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
    Ok(chunk_js(reader).await?.map(|c| c.to_vec()))
}

/// The next chunk of a body (a `Uint8Array` of its own), None at its end; a chunk that is not
/// bytes is an error.
pub async fn chunk_js(reader: &JsValue) -> Result<Option<js_sys::Uint8Array>, JsValue> {
    let c = settle(&call(reader, "read", None)?).await?;
    if get(&c, "done").as_bool() != Some(false) {
        return Ok(None);
    }
    let value = get(&c, "value");
    let bytes = value.is_instance_of::<js_sys::Uint8Array>() && js_sys::ArrayBuffer::is_view(&value);
    if !bytes || super::js::byte_length(&value).map_or(true, |n| n > crate::proto::host::MAX_BYTES) {
        return Err(js_sys::Error::new("The answer's body gave a chunk that is not bytes (or longer than 16 MiB).").into());
    }
    // A copy, read by the engine (no getter of the caller's runs): the chunk is the reader's to reuse.
    super::js::uint8(&value).map(Some)
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
