//! Uploads: initiate through the proxy, then PUT the bytes to the presigned upload URL (direct,
//! like fal's own client: a presigned URL carries no key); large files in parts, a few at once,
//! then completed. Each of these requests is a call under the client's policy (`Spec::upload`):
//! retried, breaker, events and stats. The storage protocol is `proto::upload`'s.

use std::rc::Rc;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortSignal, Blob, XmlHttpRequest};

use super::call::{json, run, Answer, Outcome, Req};
use super::conv;
use super::js;
use super::js::{get, set};
use super::shared::Shared;
use super::tasks::{Inbox, Listener};
use crate::proto::call::Spec;
use crate::proto::error::{Category, ErrorInfo, Kind};
use crate::proto::retry::Call;
use crate::proto::upload::{self as up, Upload, UploadAction, UploadInput, PARALLEL};

/// Bytes of a PUT sent so far.
type Report = Rc<dyn Fn(u64)>;

/// Anything uploadable as a Blob: File, Blob, typed arrays, ArrayBuffer. A Blob is taken through
/// its own `slice` (the whole of it, its type kept): something that only claims to be one (a
/// Proxy) fails there, caught, instead of in a later call that can't catch it.
pub fn as_blob(data: &JsValue, content_type: Option<&str>) -> Option<Blob> {
    if data.is_instance_of::<Blob>() {
        let args = Array::of3(&JsValue::from(0), &JsValue::UNDEFINED, &get(data, "type"));
        return js::call_args(data, "slice", &args).ok().and_then(|b| b.dyn_into::<Blob>().ok());
    }
    if !is_file(data) {
        return None;
    }
    let opts = web_sys::BlobPropertyBag::new();
    set(&opts, "type", &JsValue::from_str(content_type.unwrap_or("application/octet-stream")));
    Blob::new_with_buffer_source_sequence_and_options(&Array::of1(data), &opts).ok()
}

pub fn is_file(v: &JsValue) -> bool {
    v.is_instance_of::<Blob>() || v.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(v)
}

/// `client.storage.upload(data, {contentType, fileName, onProgress, signal, multipartThreshold})` →
/// the file URL: `proto::upload::Upload` carried out.
pub async fn upload(shared: Rc<Shared>, data: JsValue, opts: JsValue) -> Result<JsValue, JsValue> {
    let plain = conv::options(&opts, &conv::SKIP)?;
    shared.warn_unknown("upload", &opts, &plain);
    let o = crate::proto::options::upload(&plain).map_err(conv::option)?;
    let blob = as_blob(&data, o.content_type.as_deref()).ok_or_else(|| conv::config("upload takes a File, a Blob, a typed array or an ArrayBuffer"))?;
    let content_type: Rc<str> = up::content_type(o.content_type, get(&blob, "type").as_string()).into();
    let name = up::file_name(o.file_name, get(&data, "name").as_string(), &content_type);
    let on_progress = conv::opt_fn(&opts, "onProgress")?;
    let signal = conv::signal(&opts)?;
    conv::check(signal.as_ref())?;
    let mut m = Upload::new(get(&blob, "size").as_f64().unwrap_or(0.0) as u64, o.multipart_threshold, &content_type, &name);
    let (tx, mut inbox) = Inbox::<Result<UploadInput, JsValue>>::new();
    // The parts' own signal: the caller's abort, or a part failing for good, stops them all.
    let stop = web_sys::AbortController::new()?;
    let relay = stop.clone();
    let _relay = Listener::on_abort(signal.as_ref(), move || js::abort(&relay));
    let mut failure = JsValue::UNDEFINED;
    loop {
        while let Some(action) = m.poll_action() {
            let (s, tx, sig, lifecycle) = (shared.clone(), tx.clone(), signal.clone(), o.lifecycle.clone());
            match action {
                UploadAction::Initiate { url, body } => spawn_local(async move {
                    let headers: Vec<(String, String)> =
                        lifecycle.iter().map(|l| (crate::proto::options::UPLOAD_LIFECYCLE_HEADER.to_string(), l.clone())).collect();
                    let req = Req { headers: &headers, ..Req::new(Some(&s.cfg().proxy_url), "POST", &url, Some(&body)) };
                    let r = json(&s, Spec::upload(), req, sig.as_ref()).await;
                    tx.send(r.map(|a| UploadInput::Initiated(conv::lossy(&a.body))));
                }),
                UploadAction::Put { part, url, start, end } => {
                    let (chunk, content_type, sig) = (blob.slice_with_f64_and_f64(start as f64, end as f64)?, content_type.clone(), js::signal_of(&stop));
                    spawn_local(async move {
                        let t = tx.clone();
                        let report: Report = Rc::new(move |loaded| {
                            t.send(Ok(UploadInput::Sent { part, loaded }));
                        });
                        let r = put(&s, &url, &chunk, &content_type, &report, Some(&sig)).await;
                        let answer = |a: &Answer| conv::lossy(&js_sys::JSON::parse(&a.body.as_string().unwrap_or_default()).unwrap_or(JsValue::NULL));
                        tx.send(r.map(|a| UploadInput::Stored { part, answer: answer(&a), etag: a.header }));
                    });
                }
                UploadAction::StopParts => js::abort(&stop),
                // Straight to the storage, like the parts (a presigned URL carries no key).
                UploadAction::Complete { url, body } => spawn_local(async move {
                    let r = json(&s, Spec::upload(), Req::new(None, "POST", &url, Some(&body)), sig.as_ref()).await;
                    tx.send(r.map(|_| UploadInput::Completed));
                }),
                UploadAction::Progress(p) => on_progress.iter().for_each(|f| js::callback(f, &conv::from_value(&p))),
                UploadAction::Done(Ok(url)) => return Ok(url.into()),
                UploadAction::Done(Err(Some(answer))) => {
                    return Err(conv::protocol("The storage answer has no upload_url or file_url.", &conv::from_value(&answer)))
                }
                UploadAction::Done(Err(None)) => {
                    return Err(if signal.as_ref().is_some_and(js::aborted) { conv::aborted(js::reason(signal.as_ref())) } else { failure })
                }
            }
        }
        match inbox.next(None).await {
            Some(Ok(input)) => m.handle(input),
            Some(Err(e)) => {
                let status = get(&e, "status").as_f64().map(|n| n as u16);
                failure = e;
                m.handle(UploadInput::Failed(status));
            }
            None => {}
        }
    }
}

/// One PUT of `blob` (a whole file or a part) under the policy: the answer's body and its `ETag`.
async fn put(shared: &Shared, url: &str, blob: &Blob, content_type: &str, report: &Report, signal: Option<&AbortSignal>) -> Result<Answer, JsValue> {
    run(shared, Spec::upload(), url, signal, &mut || {
        let r = report.clone();
        match shared.net().fetch.is_some() {
            // The app's fetch carries every request; its progress is the part's end.
            true => Box::pin(fetch_put(shared, url, blob, content_type, r, signal)),
            false => Box::pin(xhr_put(url, blob, content_type, move |loaded| r(loaded), signal)),
        }
    })
    .await
}

/// One PUT through the client's `fetch` (when the app gave one).
async fn fetch_put(shared: &Shared, url: &str, blob: &Blob, content_type: &str, report: Report, signal: Option<&AbortSignal>) -> Outcome {
    let headers = vec![("content-type".to_string(), content_type.to_string())];
    let resp = super::http::fetch(shared.net(), url, None, "PUT", headers, Some(blob.into()), signal).await.map_err(super::call::failed)?;
    if !super::http::ok(&resp) {
        return Err(super::call::error_from(&resp, Some(Call::Upload)).await);
    }
    let body = super::http::text(&resp).await.map_err(|e| conv::thrown(&e))?;
    report(get(blob, "size").as_f64().unwrap_or(0.0) as u64);
    Ok(Answer { body: JsValue::from_str(&body), header: super::http::header(&resp, "etag") })
}

/// One PUT through XMLHttpRequest: fetch can't report upload progress.
async fn xhr_put(url: &str, blob: &Blob, content_type: &str, on_progress: impl Fn(u64) + 'static, signal: Option<&AbortSignal>) -> Outcome {
    let local = |kind, cat, msg: &str| {
        let mut info = ErrorInfo::local(kind, cat, msg);
        info.retryable = kind == Kind::Network;
        let js = conv::to_js(&info, None, None);
        (info, js)
    };
    let aborted = || local(Kind::Aborted, Category::Aborted, "The upload was cancelled.");
    if signal.is_some_and(js::aborted) {
        return Err(aborted());
    }
    let xhr = XmlHttpRequest::new().map_err(|_| local(Kind::Config, Category::Config, "XMLHttpRequest is not available here."))?;
    xhr.open_with_async("PUT", url, true).map_err(|_| local(Kind::Config, Category::Config, "The upload URL is not valid."))?;
    let _ = xhr.set_request_header("content-type", content_type);
    let progress = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| on_progress(get(&e, "loaded").as_f64().unwrap_or(0.0) as u64));
    let up = get(&xhr, "upload");
    set(&up, "onprogress", progress.as_ref());
    let done = js_sys::Promise::new(&mut |resolve, _| set(&xhr, "onloadend", &resolve));
    let x = xhr.clone();
    let _abort = Listener::on_abort(signal, move || drop(js::call(&x, "abort", None)));
    js::call(&xhr, "send", Some(blob)).map_err(|_| local(Kind::Network, Category::Network, "The upload could not start."))?;
    let _ = JsFuture::from(done).await;
    set(&up, "onprogress", &JsValue::NULL);
    if signal.is_some_and(js::aborted) {
        return Err(aborted());
    }
    let status = get(&xhr, "status").as_f64().unwrap_or(0.0) as u16;
    let body = get(&xhr, "responseText").as_string().unwrap_or_default();
    let header = |n: &str| js::call(&xhr, "getResponseHeader", Some(&JsValue::from_str(n))).ok().and_then(|v| v.as_string());
    match status {
        0 => Err(local(Kind::Network, Category::Network, "The upload did not reach the storage (network error).")),
        200..=299 => Ok(Answer { body: JsValue::from_str(&body), header: header("etag") }),
        _ => Err(super::call::decoded(status, &header, &body, false, Some(Call::Upload))),
    }
}

/// Every File, Blob, typed array and ArrayBuffer in `input` (at any depth) uploaded, a few at once,
/// and replaced by its URL, in a copy; the caller's object is left as it was. Strings (data: and
/// http(s) URLs included) are left alone.
pub async fn upload_files(shared: &Rc<Shared>, input: &JsValue, signal: Option<&AbortSignal>) -> Result<JsValue, JsValue> {
    upload_some(shared, input, signal, is_file).await
}

/// Like [`upload_files`] for Files and Blobs only: realtime sends byte arrays as binary frames.
#[cfg(feature = "realtime")]
pub async fn upload_blobs(shared: &Rc<Shared>, input: &JsValue) -> Result<JsValue, JsValue> {
    upload_some(shared, input, None, |v| v.is_instance_of::<Blob>()).await
}

#[cfg(feature = "realtime")]
pub fn has_blob(v: &JsValue, depth: usize) -> bool {
    v.is_instance_of::<Blob>()
        || (depth <= crate::proto::value::MAX_DEPTH
            && children(v, SCAN + 1).is_some_and(|(_, c)| c.len() <= SCAN && c.iter().any(|(_, x)| has_blob(x, depth + 1))))
}

/// Arrays and objects with more children than this are not searched for files (they are sent as
/// they are): each child read is a JS value held by the wasm, a slot of its reference table, which
/// traps when it can't grow (some millions; [`MAX_DEPTH`](crate::proto::value::MAX_DEPTH) levels of this many stay well below).
pub const SCAN: usize = 1 << 16;

async fn upload_some(shared: &Rc<Shared>, input: &JsValue, signal: Option<&AbortSignal>, pick: fn(&JsValue) -> bool) -> Result<JsValue, JsValue> {
    let mut found = Vec::new();
    let copy = copy_marking(input, &mut found, 0, pick);
    if found.is_empty() {
        return Ok(input.clone());
    }
    // A few files at once; the first to fail is the outcome.
    let (tx, mut inbox) = Inbox::new();
    let mut out = 0;
    while out > 0 || !found.is_empty() {
        while out < PARALLEL {
            let Some((holder, key, data)) = found.pop() else { break };
            let (s, tx, opts): (_, _, JsValue) = (shared.clone(), tx.clone(), Object::new().into());
            signal.iter().for_each(|sig| set(&opts, "signal", sig));
            spawn_local(async move {
                let url = upload(s, data, opts).await;
                tx.send(url.map(|u| drop(js_sys::Reflect::set(&holder, &key, &u))));
            });
            out += 1;
        }
        if let Some(r) = inbox.next(None).await {
            r?;
            out -= 1;
        }
    }
    Ok(copy)
}

/// The children of an array or a plain object, at most `max` of them: an array's by position
/// (their keys empty), an object's with their names; None for anything else (files, Dates, Maps,
/// class instances: sent as JSON would send them).
pub fn children(v: &JsValue, max: usize) -> Option<(bool, Vec<(String, JsValue)>)> {
    // Each read can throw (a getter, a Proxy): such a value has no children here, and the
    // reading that decides (the input's check, JSON.stringify) says why.
    if !v.is_object() {
        return None;
    }
    if js::is_array(v).ok()? {
        return Some((true, js::items(v, max).ok()?.into_iter().map(|x| (String::new(), x)).collect()));
    }
    let proto = if !is_file(v) { js::proto_of(v).ok()? } else { return None };
    // `Object.prototype` is the only prototype whose own prototype is null.
    if !(proto.is_null() || js::proto_of(&proto).ok()?.is_null()) {
        return None;
    }
    Some((false, js::entries(v, max).ok()?))
}

/// A copy of plain objects and arrays; each file is recorded with where its URL goes.
fn copy_marking(v: &JsValue, found: &mut Vec<(JsValue, JsValue, JsValue)>, depth: usize, pick: fn(&JsValue) -> bool) -> JsValue {
    let Some((array, kids)) = children(v, SCAN + 1).filter(|(_, k)| depth <= crate::proto::value::MAX_DEPTH && k.len() <= SCAN) else { return v.clone() };
    let out: JsValue = if array { Array::new().into() } else { Object::new().into() };
    for (i, (k, x)) in kids.into_iter().enumerate() {
        let k = if array { JsValue::from(i as u32) } else { JsValue::from_str(&k) };
        if pick(&x) {
            found.push((out.clone(), k.clone(), x.clone()));
        }
        let _ = js_sys::Reflect::set(&out, &k, &copy_marking(&x, found, depth + 1, pick));
    }
    out
}
