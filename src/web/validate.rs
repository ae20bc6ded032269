//! Client-side validation: each endpoint's schema loaded once (through the proxy
//! from its public OpenAPI URL, or given by the app), shared by concurrent callers.
//! A schema that can't be had never blocks a request: the server stays the judge.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use super::promise;

use super::client::{SchemaSlot, Shared};
use super::error;
use super::js::{get, now};
use super::request::{call, Req};
use crate::proto::endpoint::EndpointId;
use crate::proto::error::{ErrorInfo, FieldIssue, LocPart};
use crate::proto::schema::files::{file_issues, FileMeta};
use crate::proto::retry::Call;
use crate::proto::schema::{Options, Schema};
use crate::proto::value::Value;

/// After a failed load, the endpoint is not tried again for this long.
const RETRY_LOAD_MS: f64 = 60_000.0;

pub fn openapi_url(ep: &EndpointId) -> String {
    format!("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id={}", ep.full())
}

pub fn to_value(js: &JsValue) -> Value {
    super::conv::to_value(js).unwrap_or(Value::Null)
}

/// The endpoint's compiled schema, or why there is none.
pub async fn schema_for(shared: &Rc<Shared>, ep: &EndpointId) -> Result<Rc<Schema>, JsValue> {
    let key = ep.full();
    let pending = {
        let mut map = shared.schemas.borrow_mut();
        match map.get(&key) {
            Some(SchemaSlot::Ready(s)) => return Ok(s.clone()),
            Some(SchemaSlot::Failed { until, error }) if *until > now() => return Err(error.clone()),
            Some(SchemaSlot::Loading(p)) => p.clone(),
            _ => {
                let p = load(shared.clone(), ep.clone());
                map.insert(key.clone(), SchemaSlot::Loading(p.clone()));
                p
            }
        }
    };
    let outcome = JsFuture::from(pending).await;
    let mut map = shared.schemas.borrow_mut();
    // The first waiter to wake compiles; the others find it ready.
    if let Some(SchemaSlot::Ready(s)) = map.get(&key) {
        return Ok(s.clone());
    }
    let compiled = outcome.and_then(|doc| {
        Schema::from_openapi(&to_value(&doc), Some(&key)).map_err(|e| error::config(&format!("The input schema of {key} can't be used: {e}.")))
    });
    match compiled {
        Ok(s) => {
            let s = Rc::new(s);
            map.insert(key, SchemaSlot::Ready(s.clone()));
            Ok(s)
        }
        Err(e) => {
            map.insert(key.clone(), SchemaSlot::Failed { until: now() + RETRY_LOAD_MS, error: e.clone() });
            drop(map);
            shared.emit("schema", &[("endpoint", JsValue::from_str(&key)), ("error", e.clone())]);
            Err(e)
        }
    }
}

/// The document: from the app's option (an object, or a URL), else fal's public OpenAPI URL through the proxy.
fn load(shared: Rc<Shared>, ep: EndpointId) -> js_sys::Promise {
    promise(async move {
        let given = shared.schema_sources.get(&ep.full()).cloned();
        match given {
            Some(doc) if !doc.is_string() => Ok(doc),
            Some(url) => {
                let url = url.as_string().unwrap_or_default();
                // The app's own files load directly; anything else goes through the proxy's allowlist.
                if url.starts_with('/') && !url.starts_with("//") {
                    let resp = super::http::fetch(&url, "GET", &[], None, None).await.map_err(|e| error::thrown(&e).1)?;
                    let text = super::http::text(&resp).await.map_err(|e| error::thrown(&e).1)?;
                    js_sys::JSON::parse(&text).map_err(|_| error::config(&format!("The schema at {url} is not JSON.")))
                } else {
                    fetch_via_proxy(&shared, &url).await
                }
            }
            None => fetch_via_proxy(&shared, &openapi_url(&ep)).await,
        }
    })
}

async fn fetch_via_proxy(shared: &Shared, url: &str) -> Result<JsValue, JsValue> {
    // Its own breaker key: a failing docs host must not open the endpoint's circuit.
    let req = Req { call: Call::Status, endpoint: "openapi", method: "GET", url, body: None, headers: &[] };
    call(shared, &req, None).await.map(|(doc, _)| doc)
}

/// What the walk of an input found beside its [`Value`].
#[derive(Default)]
struct Found {
    /// Files, Blobs and byte arrays, with where they sit.
    files: Vec<(Vec<LocPart>, web_sys::Blob)>,
    /// Where a string held a lone UTF-16 surrogate (a path from the input's root).
    lone_surrogates: Vec<Vec<LocPart>>,
}

/// The input as a [`Value`], as `JSON.stringify` will send it (keys holding `undefined`, a
/// function or a symbol dropped, `toJSON` applied), with every File, Blob or byte array
/// replaced by a stand-in URL (the upload puts the real one there) and collected with its
/// location for the file checks.
fn walk(v: &JsValue, loc: &mut Vec<LocPart>, found: &mut Found, depth: usize) -> Value {
    if super::storage::is_file(v) {
        if let Some(b) = super::storage::as_blob(v, None) {
            found.files.push((loc.clone(), b));
        }
        return Value::Str("https://upload.pending/file".into());
    }
    if let Some(s) = v.as_string() {
        // A lone surrogate comes out as U+FFFD (EF BF BD): only then is the JS string looked at again.
        if s.as_bytes().windows(3).any(|w| w == [0xEF, 0xBF, 0xBD]) && !v.unchecked_ref::<js_sys::JsString>().is_valid_utf16() {
            found.lone_surrogates.push(loc[1..].to_vec());
        }
        return Value::Str(s);
    }
    if v.is_function() || v.is_symbol() {
        // JSON.stringify sends null for these in a list (and drops them from an object).
        return Value::Null;
    }
    if depth > crate::proto::value::MAX_DEPTH || !v.is_object() {
        return to_value(v);
    }
    if js_sys::Array::is_array(v) {
        let a = js_sys::Array::from(v);
        return Value::Arr(a.iter().enumerate().map(|(i, x)| {
            loc.push(LocPart::Index(i as u64));
            let out = walk(&x, loc, found, depth + 1);
            loc.pop();
            out
        }).collect());
    }
    let to_json = get(v, "toJSON");
    if let Some(f) = to_json.dyn_ref::<js_sys::Function>() {
        // A Date and the like: what JSON.stringify sends is what toJSON returns.
        return match f.call1(v, &JsValue::from_str("")) {
            Ok(j) => walk(&j, loc, found, depth + 1),
            Err(_) => to_value(v),
        };
    }
    if !is_plain(v) {
        return to_value(v);
    }
    let entries = js_sys::Object::entries(v.unchecked_ref());
    Value::Obj(entries.iter().filter_map(|e| {
        let pair: js_sys::Array = e.unchecked_into();
        let x = pair.get(1);
        if x.is_undefined() || x.is_function() || x.is_symbol() {
            return None;
        }
        let k = pair.get(0).as_string().unwrap_or_default();
        loc.push(LocPart::Key(k.clone()));
        let out = walk(&x, loc, found, depth + 1);
        loc.pop();
        Some((k, out))
    }).collect())
}

fn is_plain(v: &JsValue) -> bool {
    let proto = js_sys::Object::get_prototype_of(v);
    // `Object.prototype` is the only prototype whose own prototype is null.
    proto.is_null() || js_sys::Object::get_prototype_of(&proto).is_null()
}

/// What the browser can tell about a file without sending it; image dimensions only when needed.
async fn meta_of(blob: &web_sys::Blob, need_dims: bool) -> FileMeta {
    let content_type = get(blob, "type").as_string().unwrap_or_default();
    let mut dimensions = None;
    if need_dims && content_type.starts_with("image/") {
        let create = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("createImageBitmap")).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(Ok(p)) = create.map(|f| f.call1(&JsValue::NULL, blob)) {
            if let Ok(bitmap) = JsFuture::from(js_sys::Promise::from(p)).await {
                let n = |k: &str| super::js::get(&bitmap, k).as_f64();
                dimensions = n("width").zip(n("height"));
                if let Ok(close) = js_sys::Reflect::get(&bitmap, &JsValue::from_str("close")).and_then(|f| f.dyn_into::<js_sys::Function>()) {
                    let _ = close.call0(&bitmap);
                }
            }
        }
    }
    FileMeta { size: get(blob, "size").as_f64().unwrap_or(0.0), content_type, dimensions }
}

/// Every issue of the input: file checks (when the app gave limits), then the schema's.
pub async fn issues_of(shared: &Rc<Shared>, ep: &EndpointId, schema: Option<&Schema>, input: &JsValue) -> Vec<FieldIssue> {
    let mut found = Found::default();
    let value = walk(input, &mut vec![LocPart::Key("body".into())], &mut found, 0);
    let mut issues = Vec::new();
    let limits = shared.file_limits.get(&ep.full());
    for (loc, blob) in found.files {
        let field = loc.iter().rev().find_map(|p| if let LocPart::Key(k) = p { Some(k.as_str()) } else { None }).unwrap_or("");
        let Some((_, lim)) = limits.and_then(|l| l.iter().find(|(f, _)| f == field)) else { continue };
        let meta = meta_of(&blob, lim.needs_dimensions()).await;
        let name = super::js::get(&blob, "name").as_string().unwrap_or_else(|| "blob".into());
        issues.extend(file_issues(&loc, &meta, lim, &name));
    }
    if let Some(s) = schema {
        issues.extend(s.validate_with(&value, &Options { client: true, lone_surrogates: found.lone_surrogates }));
    }
    issues
}

/// Validates `input` when the endpoint's schema can be had. `Err` is the validation error to reject with.
pub async fn check_input(shared: &Rc<Shared>, ep: &EndpointId, input: &JsValue, opts: &JsValue) -> Result<(), JsValue> {
    let per_call = super::js::opt_bool(opts, "validate")?;
    if !per_call.unwrap_or(shared.validation) {
        return Ok(());
    }
    let schema = schema_for(shared, ep).await.ok();
    let issues = issues_of(shared, ep, schema.as_deref(), input).await;
    if issues.is_empty() {
        return Ok(());
    }
    let info = ErrorInfo::client_validation(issues);
    let e = error::to_js(&info, None, None);
    shared.emit("error", &[("call", JsValue::from_str("validate")), ("endpoint", JsValue::from_str(&ep.full())), ("error", e.clone())]);
    Err(e)
}

pub fn issues_to_js(issues: &[FieldIssue]) -> JsValue {
    super::conv::issues(issues)
}

/// `validate(schema, input, endpoint?)`: the pure check, without a client or a request.
#[wasm_bindgen(js_name = validate)]
pub fn validate_pure(schema: JsValue, input: JsValue, endpoint: Option<String>) -> Result<JsValue, JsValue> {
    let s = Schema::from_openapi(&to_value(&schema), endpoint.as_deref()).map_err(|e| error::config(&format!("The schema can't be used: {e}.")))?;
    let mut found = Found::default();
    let value = walk(&input, &mut vec![LocPart::Key("body".into())], &mut found, 0);
    Ok(issues_to_js(&s.validate_with(&value, &Options { client: true, lone_surrogates: found.lone_surrogates })))
}
