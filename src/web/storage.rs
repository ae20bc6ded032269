//! Uploads: initiate through the proxy, then PUT the bytes to the presigned upload
//! URL (direct, like fal's own client: a presigned URL carries no key). Large files
//! go in parts, a few at once, then are completed. Every one of these requests is a call
//! under the client's policy (`Spec::upload`): retried, breaker, events and stats.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Blob, XmlHttpRequest};

use super::abort::OnAbort;
use super::call::{json, run, Answer, Outcome};
use super::error;
use super::js::{get, set};
use super::shared::Shared;
use crate::proto::call::Spec;
use crate::proto::error::{Category, ErrorInfo, Kind};
use crate::proto::retry::Call;
use crate::proto::upload::{plan, Plan, Progress};

const PARALLEL_PARTS: usize = 3;

/// `(part index, bytes of it sent)`.
type Report = Rc<dyn Fn(usize, u64)>;
const STORAGE: &str = "https://rest.fal.ai/storage/upload";

/// Anything uploadable as a Blob: File, Blob, typed arrays, ArrayBuffer.
pub fn as_blob(data: &JsValue, content_type: Option<&str>) -> Option<Blob> {
    if let Some(b) = data.dyn_ref::<Blob>() {
        return Some(b.clone());
    }
    let is_bytes = data.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(data);
    if !is_bytes {
        return None;
    }
    let opts = web_sys::BlobPropertyBag::new();
    set(&opts, "type", &JsValue::from_str(content_type.unwrap_or("application/octet-stream")));
    let parts = Array::new();
    parts.push(data);
    Blob::new_with_buffer_source_sequence_and_options(&parts, &opts).ok()
}

fn file_name(data: &JsValue, content_type: &str) -> String {
    get(data, "name").as_string().filter(|n| !n.is_empty()).unwrap_or_else(|| {
        let ext = content_type.split('/').nth(1).map(|e| e.split(['+', ';']).next().unwrap_or("bin")).unwrap_or("bin");
        format!("upload.{ext}")
    })
}

/// `client.storage.upload(data, {contentType, fileName, onProgress, signal, multipartThreshold})` → the file URL.
pub async fn upload(shared: Rc<Shared>, data: JsValue, opts: JsValue) -> Result<JsValue, JsValue> {
    let o = crate::proto::options::upload(&error::options(&opts, &["signal"])?).map_err(error::option)?;
    let blob = as_blob(&data, o.content_type.as_deref()).ok_or_else(|| error::config("upload takes a File, a Blob, a typed array or an ArrayBuffer"))?;
    let content_type = o.content_type.or_else(|| get(&blob, "type").as_string().filter(|t| !t.is_empty())).unwrap_or_else(|| "application/octet-stream".into());
    let name = o.file_name.unwrap_or_else(|| file_name(&data, &content_type));
    let on_progress = error::opt_fn(&opts, "onProgress")?;
    let on_done = on_progress.clone();
    let signal = error::opt_signal(&opts, "signal")?;
    error::check(signal.as_ref())?;
    let size = get(&blob, "size").as_f64().unwrap_or(0.0) as u64;
    let plan = plan(size, o.multipart_threshold);
    let parts = match &plan {
        Plan::Simple => 1,
        Plan::Multipart(p) => p.len(),
    };
    let progress = Rc::new(RefCell::new(Progress::new(size, parts)));
    let report: Report = {
        let progress = progress.clone();
        Rc::new(move |part: usize, loaded: u64| {
            if let (Some(f), Some(sent)) = (&on_progress, progress.borrow_mut().update(part, loaded)) {
                emit_progress(f, sent, size);
            }
        })
    };
    let url = match plan {
        Plan::Simple => {
            let (upload_url, file_url) = initiate(&shared, "initiate", &content_type, &name, signal.as_ref()).await?;
            put(&shared, &upload_url, &blob, &content_type, 0, &report, signal.as_ref()).await?;
            file_url
        }
        Plan::Multipart(parts) => multipart(&shared, &blob, &content_type, &name, parts, &report, signal.as_ref()).await?,
    };
    if let (Some(f), Some(sent)) = (on_done, progress.borrow_mut().finish()) {
        emit_progress(&f, sent, size);
    }
    Ok(JsValue::from_str(&url))
}

fn emit_progress(f: &Function, loaded: u64, total: u64) {
    let o = Object::new();
    set(&o, "loaded", &JsValue::from_f64(loaded as f64));
    set(&o, "total", &JsValue::from_f64(total as f64));
    set(&o, "fraction", &JsValue::from_f64(if total == 0 { 1.0 } else { loaded as f64 / total as f64 }));
    let _ = f.call1(&JsValue::NULL, &o);
}

async fn initiate(shared: &Shared, route: &str, content_type: &str, name: &str, signal: Option<&AbortSignal>) -> Result<(String, String), JsValue> {
    let url = format!("{STORAGE}/{route}?storage_type=fal-cdn-v3");
    let body = Object::new();
    set(&body, "content_type", &JsValue::from_str(content_type));
    set(&body, "file_name", &JsValue::from_str(name));
    let body = js_sys::JSON::stringify(&body).ok().and_then(|s| s.as_string()).unwrap_or_default();
    let answer = json(shared, Spec::upload(), Some(shared.cfg().proxy_url.as_str()), "POST", &url, Some(&body), &[], signal, None).await?.body;
    match (get(&answer, "upload_url").as_string(), get(&answer, "file_url").as_string()) {
        (Some(u), Some(f)) => Ok((u, f)),
        _ => Err(error::protocol("The storage answer has no upload_url or file_url.", &answer)),
    }
}

async fn multipart(
    shared: &Shared,
    blob: &Blob,
    content_type: &str,
    name: &str,
    parts: Vec<(u32, u64, u64)>,
    report: &Report,
    signal: Option<&AbortSignal>,
) -> Result<String, JsValue> {
    let (upload_url, file_url) = initiate(shared, "initiate-multipart", content_type, name, signal).await?;
    // Every part's requests stop when one part fails for good, or the caller aborts.
    let stop = web_sys::AbortController::new()?;
    let _relay = signal.map(|s| {
        let stop = stop.clone();
        OnAbort::new(s, move || super::js::abort(&stop))
    });
    let queue = RefCell::new(parts.into_iter().enumerate().collect::<Vec<_>>());
    let done: RefCell<Vec<(u32, String)>> = RefCell::new(Vec::new());
    let worker = || async {
        loop {
            let next = queue.borrow_mut().pop();
            let Some((i, (n, start, end))) = next else { return Ok(()) };
            let chunk = blob.slice_with_f64_and_f64(start as f64, end as f64)?;
            let part_url = crate::proto::upload::part_url(&upload_url, n);
            let answer =
                put(shared, &part_url, &chunk, content_type, i, report, Some(&super::js::signal_of(&stop))).await.inspect_err(|_| super::js::abort(&stop))?;
            // fal answers the etag in the JSON body; its CDN path (the Python client's) in the `ETag` header.
            let body = answer.body.as_string().unwrap_or_default();
            let etag = get(&js_sys::JSON::parse(&body).unwrap_or(JsValue::NULL), "etag").as_string().or(answer.header).unwrap_or_default();
            done.borrow_mut().push((n, etag));
        }
    };
    // A few parts at once: enough to fill the pipe, not enough to starve the page.
    let results =
        join_all((0..PARALLEL_PARTS).map(|_| Box::pin(worker()) as std::pin::Pin<Box<dyn core::future::Future<Output = Result<(), JsValue>> + '_>>).collect())
            .await;
    error::check(signal)?;
    results.into_iter().collect::<Result<Vec<()>, JsValue>>()?;
    let mut parts = done.into_inner();
    crate::proto::sort::sort_by(&mut parts, |a, b| a.0 < b.0);
    let list: Array = parts
        .iter()
        .map(|(n, etag)| {
            let o = Object::new();
            set(&o, "partNumber", &JsValue::from(*n));
            set(&o, "etag", &JsValue::from_str(etag));
            JsValue::from(o)
        })
        .collect();
    let body = Object::new();
    set(&body, "parts", &list);
    let body = js_sys::JSON::stringify(&body).ok().and_then(|s| s.as_string()).unwrap_or_default();
    // Straight to the storage, like the parts (a presigned URL carries no key).
    json(shared, Spec::upload(), None, "POST", &crate::proto::upload::complete_url(&upload_url), Some(&body), &[], signal, None).await?;
    Ok(file_url)
}

/// Polls futures until all are done (the few upload workers).
async fn join_all<'a, T>(mut futs: Vec<std::pin::Pin<Box<dyn core::future::Future<Output = T> + 'a>>>) -> Vec<T> {
    let mut out: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    core::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    core::task::Poll::Ready(v) => out[i] = Some(v),
                    core::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            core::task::Poll::Pending
        } else {
            core::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// One PUT of `blob` (a whole file or part `part`) under the policy: the answer's body and its `ETag`.
async fn put(
    shared: &Shared,
    url: &str,
    blob: &Blob,
    content_type: &str,
    part: usize,
    report: &Report,
    signal: Option<&AbortSignal>,
) -> Result<Answer, JsValue> {
    run(shared, Spec::upload(), url, signal, &mut || {
        let r = report.clone();
        Box::pin(xhr_put(url, blob, content_type, move |loaded| r(part, loaded), signal))
    })
    .await
}

/// One PUT through XMLHttpRequest: fetch can't report upload progress.
async fn xhr_put(url: &str, blob: &Blob, content_type: &str, on_progress: impl Fn(u64) + 'static, signal: Option<&AbortSignal>) -> Outcome {
    let local = |kind, cat, msg: &str| {
        let info = ErrorInfo::local(kind, cat, msg);
        let js = error::to_js(&info, None, None);
        (info, js)
    };
    if signal.is_some_and(super::js::aborted) {
        return Err(local(Kind::Aborted, Category::Aborted, "The upload was cancelled."));
    }
    let xhr = XmlHttpRequest::new().map_err(|_| local(Kind::Config, Category::Config, "XMLHttpRequest is not available here."))?;
    xhr.open_with_async("PUT", url, true).map_err(|_| local(Kind::Config, Category::Config, "The upload URL is not valid."))?;
    let _ = xhr.set_request_header("content-type", content_type);
    let progress = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| on_progress(get(&e, "loaded").as_f64().unwrap_or(0.0) as u64));
    let up = get(&xhr, "upload");
    set(&up, "onprogress", progress.as_ref());
    let done = js_sys::Promise::new(&mut |resolve, _| {
        set(&xhr, "onloadend", &resolve);
    });
    let _abort = signal.map(|s| {
        let x = xhr.clone();
        OnAbort::new(s, move || drop(super::js::call(&x, "abort", None)))
    });
    super::js::call(&xhr, "send", Some(blob)).map_err(|_| local(Kind::Network, Category::Network, "The upload could not start."))?;
    let _ = JsFuture::from(done).await;
    set(&up, "onprogress", &JsValue::NULL);
    drop(progress);
    if signal.is_some_and(super::js::aborted) {
        return Err(local(Kind::Aborted, Category::Aborted, "The upload was cancelled."));
    }
    let status = get(&xhr, "status").as_f64().unwrap_or(0.0) as u16;
    let body = get(&xhr, "responseText").as_string().unwrap_or_default();
    if status == 0 {
        let mut info = ErrorInfo::local(Kind::Network, Category::Network, "The upload did not reach the storage (network error).");
        info.retryable = true;
        let js = error::to_js(&info, None, None);
        return Err((info, js));
    }
    let header = |n: &str| super::js::call(&xhr, "getResponseHeader", Some(&JsValue::from_str(n))).ok().and_then(|v| v.as_string());
    if (200..300).contains(&status) {
        return Ok(Answer { body: JsValue::from_str(&body), header: header("etag") });
    }
    Err(super::call::decoded(status, &header, &body, false, Some(Call::Upload)))
}

/// Every File, Blob, typed array and ArrayBuffer in `input` (at any depth) uploaded, a few at once,
/// and replaced by its URL, in a copy; the caller's object is left as it was. Strings (data: and
/// http(s) URLs included) are left alone.
pub async fn upload_files(shared: &Rc<Shared>, input: &JsValue, signal: Option<&AbortSignal>) -> Result<JsValue, JsValue> {
    upload_some(shared, input, signal, is_file).await
}

/// Like [`upload_files`] for Files and Blobs only: realtime sends byte arrays as binary frames.
pub async fn upload_blobs(shared: &Rc<Shared>, input: &JsValue) -> Result<JsValue, JsValue> {
    upload_some(shared, input, None, |v| v.is_instance_of::<Blob>()).await
}

pub fn has_blob(v: &JsValue, depth: usize) -> bool {
    if v.is_instance_of::<Blob>() {
        return true;
    }
    if depth > crate::proto::value::MAX_DEPTH || !v.is_object() || is_file(v) {
        return false;
    }
    if Array::is_array(v) {
        return Array::from(v).iter().any(|x| has_blob(&x, depth + 1));
    }
    // Object.entries, not Object.values: one import fewer.
    Object::entries(v.unchecked_ref()).iter().any(|e| has_blob(&e.unchecked_into::<Array>().get(1), depth + 1))
}

async fn upload_some(shared: &Rc<Shared>, input: &JsValue, signal: Option<&AbortSignal>, pick: fn(&JsValue) -> bool) -> Result<JsValue, JsValue> {
    let mut found = Vec::new();
    let copy = copy_marking(input, &mut found, 0, pick);
    if found.is_empty() {
        return Ok(input.clone());
    }
    let queue = RefCell::new(found);
    let worker = || async {
        loop {
            let next = queue.borrow_mut().pop();
            let Some((holder, key, data)) = next else { return Ok::<(), JsValue>(()) };
            let opts = Object::new();
            if let Some(s) = signal {
                set(&opts, "signal", s);
            }
            let url = upload(shared.clone(), data, opts.into()).await?;
            let _ = js_sys::Reflect::set(&holder, &key, &url);
        }
    };
    let results =
        join_all((0..PARALLEL_PARTS).map(|_| Box::pin(worker()) as std::pin::Pin<Box<dyn core::future::Future<Output = Result<(), JsValue>> + '_>>).collect())
            .await;
    results.into_iter().collect::<Result<Vec<()>, JsValue>>()?;
    Ok(copy)
}

pub fn is_file(v: &JsValue) -> bool {
    v.is_instance_of::<Blob>() || v.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(v)
}

/// A copy of plain objects and arrays; each file is recorded with where its URL goes.
fn copy_marking(v: &JsValue, found: &mut Vec<(JsValue, JsValue, JsValue)>, depth: usize, pick: fn(&JsValue) -> bool) -> JsValue {
    if depth > crate::proto::value::MAX_DEPTH || !v.is_object() || is_file(v) {
        return v.clone();
    }
    if Array::is_array(v) {
        let out = Array::new();
        for (i, x) in Array::from(v).iter().enumerate() {
            if pick(&x) {
                found.push((out.clone().into(), JsValue::from(i as u32), x.clone()));
            }
            out.push(&copy_marking(&x, found, depth + 1, pick));
        }
        return out.into();
    }
    let proto = Object::get_prototype_of(v);
    if !(proto.is_null() || Object::get_prototype_of(&proto).is_null()) {
        return v.clone(); // a Date, a Map, a class instance: sent as JSON would send it
    }
    let out = Object::new();
    for entry in Object::entries(v.unchecked_ref()).iter() {
        let pair: Array = entry.unchecked_into();
        let (k, x) = (pair.get(0), pair.get(1));
        if pick(&x) {
            found.push((out.clone().into(), k.clone(), x.clone()));
        }
        let _ = js_sys::Reflect::set(&out, &k, &copy_marking(&x, found, depth + 1, pick));
    }
    out.into()
}
