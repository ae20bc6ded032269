//! Client-side validation: the endpoint's schema from the core's cache (loaded through the
//! proxy from its public OpenAPI URL, or given by the app), the input read with its files, and
//! the `validate` exports. The schema is compiled and checked by the validator module
//! (`validator`, an instance of its own, loaded while the document is: docs/size.md); the walk
//! of the input, the file checks and the errors are the core's.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::call::{json, Req};
use super::conv;
use super::js;
use super::js::{get, now, promise};
use super::shared::Shared;
use crate::proto::call::Spec;
use crate::proto::config::SchemaSource;
use crate::proto::endpoint::EndpointId;
use crate::proto::error::issues::read_shaped;
use crate::proto::error::{ErrorInfo, FieldIssue, LocPart};
use crate::proto::schema::files::{file_issues, FileMeta};
use crate::proto::schema_cache::{openapi_url, Lookup};
use crate::proto::shapes;
use crate::proto::value::{Value, MAX_DEPTH, MAX_ITEMS};
use conv::lossy;

/// The endpoint's compiled schema (the validator module's handle), or why there is none.
pub async fn schema_for(shared: &Rc<Shared>, ep: &EndpointId) -> Result<JsValue, JsValue> {
    let key = ep.full();
    let pending = match shared.with_schemas(|c| c.lookup(&key, now())) {
        Lookup::Ready(s) => return Ok(s),
        Lookup::Failed(e) => return Err(e),
        Lookup::Wait(p) => p,
        Lookup::Load => {
            // The validator module is fetched while the document is: neither waits for the other.
            let p = compiled(load(shared.clone(), ep.clone()), super::modules::load("validator"), key.clone());
            shared.with_schemas(|c| c.loading(&key, p.clone()));
            p
        }
    };
    let compiled = JsFuture::from(pending).await;
    let (r, failed) = shared.with_schemas(|c| c.settled(&key, compiled, now()));
    if let (Err(e), true) = (&r, failed) {
        shared.emit(&shapes::refused("schema", &key), Some(e));
    }
    r
}

/// The document compiled by the validator module, once both are here.
fn compiled(doc: js_sys::Promise, module: Result<js_sys::Promise, JsValue>, key: String) -> js_sys::Promise {
    promise(async move {
        let doc = JsFuture::from(doc).await;
        let module = super::modules::ready(module).await;
        let (doc, module) = (doc?, module?);
        js::call2(&module, "compile", &doc, &JsValue::from_str(&key)).map_err(|e| unusable(&format!("The input schema of {key}"), &e))
    })
}

/// Why the validator module refused a schema (it throws the reason as a string).
fn unusable(what: &str, thrown: &JsValue) -> JsValue {
    conv::config(&format!("{what} can't be used: {}.", js::message(thrown)))
}

/// The document: from the app's option (an object, or a URL), else fal's public OpenAPI URL through the proxy.
fn load(shared: Rc<Shared>, ep: EndpointId) -> js_sys::Promise {
    promise(async move {
        let url = match shared.cfg().schemas.get(&ep.full()) {
            Some(SchemaSource::Doc(doc)) => return Ok(conv::from_value(doc)),
            Some(SchemaSource::Url(url)) => url.clone(),
            None => openapi_url(&ep.full()),
        };
        // The app's own files load directly; anything else goes through the proxy's allowlist.
        if url.starts_with('/') && !url.starts_with("//") {
            let text = match super::http::fetch(shared.net(), &url, None, "GET", Vec::new(), None, None).await {
                Ok(resp) => super::http::text(&resp).await,
                Err(e) => Err(e.into_js()),
            };
            let text = text.map_err(|e| conv::thrown(&e).1)?;
            return js_sys::JSON::parse(&text).map_err(|_| conv::config(&format!("The schema at {url} is not JSON.")));
        }
        Ok(json(&shared, Spec::schema(), Req::new(Some(&shared.cfg().proxy_url), "GET", &url, None), None).await?.body)
    })
}

/// What the walk of an input found beside its [`Value`].
#[derive(Default)]
struct Found {
    /// Files, Blobs and byte arrays, with where they sit and their names.
    files: Vec<(Vec<LocPart>, web_sys::Blob, Option<String>)>,
    /// Where a string held a lone UTF-16 surrogate (a path from the input's root).
    lone_surrogates: Vec<Vec<LocPart>>,
    /// The input is deeper or wider than a [`Value`] holds ([`MAX_DEPTH`], [`MAX_ITEMS`]): the
    /// validator would judge a cut copy, and could refuse what the server takes. Such an input is
    /// left to the server (its files are still checked).
    beyond_bounds: bool,
}

/// The input as a [`Value`], as `JSON.stringify` will send it (keys holding `undefined`, a
/// function or a symbol dropped, `toJSON` applied), with every File, Blob or byte array
/// replaced by a stand-in URL (the upload puts the real one there) and collected with its
/// location for the file checks.
fn walk(v: &JsValue, loc: &mut Vec<LocPart>, found: &mut Found, depth: usize) -> Value {
    let object = v.is_object();
    if object && super::storage::is_file(v) {
        if let Some(b) = super::storage::as_blob(v, None) {
            found.files.push((loc.clone(), b, get(v, "name").as_string()));
            return Value::Str("https://upload.pending/file".into());
        }
    }
    if let Some(s) = v.as_string() {
        // A lone surrogate comes out as U+FFFD (EF BF BD): only then is the JS string looked at again.
        if s.as_bytes().windows(3).any(|w| w == [0xEF, 0xBF, 0xBD]) && !v.unchecked_ref::<js_sys::JsString>().is_valid_utf16() {
            found.lone_surrogates.push(loc.iter().skip(1).cloned().collect());
        }
        return Value::Str(s);
    }
    if v.is_function() || v.is_symbol() {
        // JSON.stringify sends null for these in a list (and drops them from an object).
        return Value::Null;
    }
    if depth > MAX_DEPTH {
        found.beyond_bounds = true;
        return lossy(v);
    }
    if !object {
        // A number, a boolean, null, undefined or a BigInt: only objects have more to look at.
        return v.as_f64().map_or_else(|| lossy(v), Value::Num);
    }
    if let Some(f) = get(v, "toJSON").dyn_ref::<js_sys::Function>() {
        // A Date and the like: what JSON.stringify sends is what toJSON returns.
        return match f.call1(v, &JsValue::from_str("")) {
            Ok(j) => walk(&j, loc, found, depth + 1),
            Err(_) => lossy(v),
        };
    }
    // As the uploads search it (`storage::SCAN` children at most): longer, its files are not
    // uploaded either, and it is left to the server.
    let scan = super::storage::SCAN;
    let Some((array, kids)) = super::storage::children(v, scan + 1) else { return lossy(v) };
    found.beyond_bounds |= kids.len() > MAX_ITEMS;
    if kids.len() > scan {
        return Value::Null;
    }
    let mut out = Vec::with_capacity(kids.len());
    for (key, x) in kids {
        if !array && (x.is_undefined() || x.is_function() || x.is_symbol()) {
            continue;
        }
        loc.push(if array { LocPart::Index(out.len() as u64) } else { LocPart::Key(key.clone()) });
        out.push((key, walk(&x, loc, found, depth + 1)));
        loc.pop();
    }
    if array {
        Value::Arr(out.into_iter().map(|(_, x)| x).collect())
    } else {
        Value::Obj(out)
    }
}

/// The input as the client judges it (by the validator module): the server's rules, the
/// client's extras, its lone surrogates.
fn judge(schema: &JsValue, value: &Value, found: Found) -> Vec<FieldIssue> {
    if found.beyond_bounds {
        return Vec::new();
    }
    let lone = Value::Arr(found.lone_surrogates.iter().map(|l| shapes::loc(l)).collect());
    let issues = js::call2(schema, "check", &conv::from_value(value), &conv::from_value(&lone)).map(|v| lossy(&v)).unwrap_or(Value::Null);
    issues.as_array().map(|l| l.iter().map(read_shaped).collect()).unwrap_or_default()
}

/// What the browser can tell about a file without sending it; image dimensions only when needed.
async fn meta_of(blob: &web_sys::Blob, need_dims: bool) -> FileMeta {
    let content_type = get(blob, "type").as_string().unwrap_or_default();
    let mut dimensions = None;
    if need_dims && content_type.starts_with("image/") {
        if let Ok(p) = js::call(&js_sys::global(), "createImageBitmap", Some(blob)) {
            if let Ok(bitmap) = JsFuture::from(js::resolved(&p)).await {
                let n = |k: &str| get(&bitmap, k).as_f64();
                dimensions = n("width").zip(n("height"));
                let _ = js::call(&bitmap, "close", None);
            }
        }
    }
    FileMeta { size: get(blob, "size").as_f64().unwrap_or(0.0), content_type, dimensions }
}

/// Every issue of the input: file checks (when the app gave limits), then the schema's.
pub async fn issues_of(shared: &Rc<Shared>, ep: &EndpointId, schema: Option<&JsValue>, input: &JsValue) -> Vec<FieldIssue> {
    let mut found = Found::default();
    let value = walk(input, &mut vec![LocPart::Key("body".into())], &mut found, 0);
    let mut issues = Vec::new();
    for (loc, blob, name) in core::mem::take(&mut found.files) {
        let Some(lim) = shared.cfg().file_limits_for(&ep.full(), &loc) else { continue };
        let meta = meta_of(&blob, lim.needs_dimensions()).await;
        issues.extend(file_issues(&loc, &meta, lim, &name.unwrap_or_else(|| "blob".into())));
    }
    issues.extend(schema.map(|s| judge(s, &value, found)).unwrap_or_default());
    issues
}

/// Validates `input` when the endpoint's schema can be had. `Err` is the validation error to reject with.
pub async fn check_input(shared: &Rc<Shared>, ep: &EndpointId, input: &JsValue) -> Result<(), JsValue> {
    let schema = schema_for(shared, ep).await.ok();
    let issues = issues_of(shared, ep, schema.as_ref(), input).await;
    if issues.is_empty() {
        return Ok(());
    }
    let e = conv::to_js(&ErrorInfo::client_validation(issues), None, None);
    shared.emit(&shapes::refused("error", &ep.full()), Some(&e));
    Err(e)
}

pub fn issues_to_js(issues: &[FieldIssue]) -> JsValue {
    conv::from_value(&shapes::issues(issues))
}

/// `validate(schema, input, endpoint?)`: the pure check, without a client or a request, by the
/// validator module's exports `validator` (js/index.js has loaded them).
#[wasm_bindgen(js_name = validate)]
pub fn validate_pure(schema: JsValue, input: JsValue, endpoint: JsValue, validator: JsValue) -> Result<JsValue, JsValue> {
    if !(endpoint.is_string() || endpoint.is_undefined() || endpoint.is_null()) {
        return Err(conv::endpoint(&endpoint).err().unwrap_or(JsValue::UNDEFINED));
    }
    let endpoint = if endpoint.is_null() { JsValue::UNDEFINED } else { endpoint };
    let s = js::call2(&validator, "compile", &schema, &endpoint).map_err(|e| unusable("The schema", &e))?;
    let mut found = Found::default();
    let value = walk(&input, &mut vec![LocPart::Key("body".into())], &mut found, 0);
    Ok(issues_to_js(&judge(&s, &value, found)))
}
