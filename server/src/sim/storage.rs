//! Simulated fal storage: `rest.fal.ai/storage/upload/*` (through the proxy) hands out
//! presigned upload URLs on this server's own origin, which the page PUTs bytes to directly.
//! Like fal's, an upload URL is signed: it carries a query string (`?X-Goog-...&X-Goog-Signature=..`)
//! that every PUT and the complete must carry exactly (403 otherwise).
//!
//! - simple: `PUT /sim/upload/<id>?<sig>` with the bytes and a Content-Type;
//! - multipart: `PUT /sim/upload/<id>/<n>?<sig>` per part, then `POST /sim/upload/<id>/complete?<sig>`
//!   (or `complete-multipart` through the proxy).
//!
//! Files live in memory and are served at `/sim/files/up/<id>/<name>`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::faults::FaultNote;
use super::{PublicBase, Sim};
use crate::json::{json as json_resp, request_error};

/// The most bytes read from one PUT body before giving up (beyond the limit, the rest is
/// only drained so the client still gets its 413 answer).
const DRAIN_CAP: u64 = 1 << 30;
const MAX_PART: u32 = 10_000;
const MAX_FILE_NAME: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageConfig {
    /// How long an upload URL stays valid after its initiate.
    pub upload_ttl_ms: u64,
    /// The largest body one PUT (simple or part) may carry.
    pub max_upload_bytes: u64,
    /// Upload URLs carry a signature query that every PUT and complete must repeat (fal's);
    /// `false` hands out bare URLs (and checks nothing).
    pub signed_urls: bool,
    /// Part answers carry the etag in the JSON body and the `ETag` header (fal's JS client reads
    /// the body); `false`: only the header (fal's Python CDN path reads that).
    pub etag_in_body: bool,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { upload_ttl_ms: 300_000, max_upload_bytes: 64 * 1024 * 1024, signed_urls: true, etag_in_body: true }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    upload_ttl_ms: Option<u64>,
    max_upload_bytes: Option<u64>,
    signed_urls: Option<bool>,
    etag_in_body: Option<bool>,
}

/// Faults of `POST /__sim/storage/faults`; counters go down as they are used.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StorageFaults {
    pub expire_next: u32,
    pub reject_put_413_next: u32,
    pub slow_put_ms: u64,
    pub fail_part_next: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsPatch {
    expire_next: Option<u32>,
    reject_put_413_next: Option<u32>,
    slow_put_ms: Option<u64>,
    fail_part_next: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Simple,
    Multipart,
}

struct Part {
    bytes: Bytes,
    etag: String,
}

struct Upload {
    kind: Kind,
    /// The query of the upload URL (without `?`); empty for unsigned URLs.
    signature: String,
    content_type: String,
    file_name: String,
    /// `http://host` of the initiate, so the file URL stays what the initiate promised.
    base: String,
    expires_at: Instant,
    parts: BTreeMap<u32, Part>,
    completed: bool,
}

impl Upload {
    fn file_url(&self, id: &str) -> String {
        format!("{}/sim/files/up/{id}/{}", self.base, self.file_name)
    }
}

pub(crate) struct StoredFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Bytes,
}

#[derive(Default)]
pub(crate) struct StorageState {
    config: StorageConfig,
    faults: StorageFaults,
    uploads: HashMap<String, Upload>,
    /// Served files by upload id.
    files: HashMap<String, StoredFile>,
    initiated: u64,
    puts: u64,
    parts: u64,
    completed: u64,
}

impl StorageState {
    /// The bytes of an uploaded file, if `id`/`name` name one.
    pub(crate) fn file(&self, id: &str, name: &str) -> Option<&StoredFile> {
        self.files.get(id).filter(|f| f.name == name)
    }

    fn stats(&self) -> Value {
        let incomplete = self.uploads.values().filter(|u| u.kind == Kind::Multipart && !u.completed && !u.parts.is_empty()).count();
        json!({
            "initiated": self.initiated,
            "puts": self.puts,
            "parts": self.parts,
            "completed": self.completed,
            "bytes_stored": self.files.values().map(|f| f.bytes.len() as u64).sum::<u64>(),
            "incomplete": incomplete,
            "files": self.files.len(),
        })
    }
}

pub(crate) fn local_routes() -> Router<Sim> {
    Router::new()
        .route("/sim/upload/{id}", put(put_simple))
        .route("/sim/upload/{id}/{part}", put(put_part).post(complete_direct))
        .route("/sim/files/up/{id}/{name}", get(serve_file))
        .route("/__sim/storage/config", get(get_config).post(set_config))
        .route("/__sim/storage/faults", get(get_faults).post(set_faults).delete(clear_faults))
        .route("/__sim/storage/stats", get(get_stats))
}

// ---- errors ----

fn file_too_large() -> Response {
    json_resp(StatusCode::PAYLOAD_TOO_LARGE, json!({ "detail": "File too large", "error_type": "file_too_large" }))
}

fn expired() -> Response {
    json_resp(StatusCode::FORBIDDEN, json!({ "detail": "Upload URL expired", "error_type": "upload_url_expired" }))
}

fn upload_not_found() -> Response {
    request_error(StatusCode::NOT_FOUND, "Upload not found", "not_found")
}

fn bad_request(detail: &str) -> Response {
    request_error(StatusCode::BAD_REQUEST, detail, "bad_request")
}

fn noted(mut resp: Response, note: &str) -> Response {
    resp.extensions_mut().insert(FaultNote(note.to_string()));
    resp
}

// ---- rest.fal.ai/storage/upload/* (through the proxy) ----

/// `POST rest.fal.ai/storage/upload/{initiate,initiate-multipart,complete-multipart}`.
pub(crate) async fn route_rest(sim: &Sim, req: Request) -> Response {
    if req.method() != Method::POST {
        return json_resp(StatusCode::METHOD_NOT_ALLOWED, json!({ "detail": "Method Not Allowed" }));
    }
    let base = req.extensions().get::<PublicBase>().map(|b| b.0.clone()).unwrap_or_else(|| "http://127.0.0.1".to_string());
    let path = req.uri().path().to_string();
    let Ok(body) = axum::body::to_bytes(req.into_body(), 1 << 20).await else {
        return bad_request("Could not read the request body");
    };
    match path.as_str() {
        "/storage/upload/initiate" => initiate(sim, &base, &body, Kind::Simple),
        "/storage/upload/initiate-multipart" => initiate(sim, &base, &body, Kind::Multipart),
        "/storage/upload/complete-multipart" => complete_via_rest(sim, &body),
        _ => super::not_found(),
    }
}

fn initiate(sim: &Sim, base: &str, body: &[u8], kind: Kind) -> Response {
    let input: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return super::queue::unprocessable(json!([{ "loc": ["body"], "msg": format!("JSON decode error: {e}"), "type": "json_invalid", "input": null }]))
        }
    };
    let Some(obj) = input.as_object() else {
        return super::queue::unprocessable(json!([{ "loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type", "input": input }]));
    };
    let mut issues = Vec::new();
    match obj.get("content_type") {
        None => issues.push(json!({ "loc": ["body", "content_type"], "msg": "Field required", "type": "missing", "input": input })),
        Some(Value::String(_)) => {}
        Some(other) => issues.push(json!({ "loc": ["body", "content_type"], "msg": "Input should be a valid string", "type": "string_type", "input": other })),
    }
    match obj.get("file_name") {
        None | Some(Value::String(_)) => {}
        Some(other) => issues.push(json!({ "loc": ["body", "file_name"], "msg": "Input should be a valid string", "type": "string_type", "input": other })),
    }
    if !issues.is_empty() {
        return super::queue::unprocessable(Value::Array(issues));
    }
    let content_type = obj.get("content_type").and_then(Value::as_str).unwrap_or_default().to_string();
    let file_name = sanitize_file_name(obj.get("file_name").and_then(Value::as_str).unwrap_or(""));
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut st = sim.storage();
    st.initiated += 1;
    let now = Instant::now();
    let expires_at = if st.faults.expire_next > 0 {
        st.faults.expire_next -= 1;
        now
    } else {
        now.checked_add(Duration::from_millis(st.config.upload_ttl_ms)).unwrap_or(now + Duration::from_secs(86_400 * 365))
    };
    let signature = if st.config.signed_urls { sign(&id, st.config.upload_ttl_ms) } else { String::new() };
    let upload_url = if signature.is_empty() { format!("{base}/sim/upload/{id}") } else { format!("{base}/sim/upload/{id}?{signature}") };
    let upload = Upload { kind, signature, content_type, file_name, base: base.to_string(), expires_at, parts: BTreeMap::new(), completed: false };
    let answer = json!({ "upload_url": upload_url, "file_url": upload.file_url(&id) });
    st.uploads.insert(id, upload);
    json_resp(StatusCode::OK, answer)
}

/// A query in the form of a Google Cloud Storage V4 signed URL (fal's CDN hands those out);
/// the signature is random, so it can't be guessed from the id.
fn sign(id: &str, ttl_ms: u64) -> String {
    let now = std::time::SystemTime::now();
    let date: String = super::iso8601(now).chars().filter(|c| c.is_ascii_digit() || *c == 'T').take(15).collect();
    let signature = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    format!(
        "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sim-uploader%2F{}%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date={date}Z&X-Goog-Expires={}&X-Goog-SignedHeaders=host&X-Goog-Signature={signature}&upload_id={id}",
        &date[..8.min(date.len())],
        ttl_ms.div_ceil(1000).max(1),
    )
}

/// A call whose query is not the upload URL's signature is refused (403), as a signed URL is.
fn signature_ok(upload: &Upload, query: Option<&str>) -> bool {
    upload.signature.is_empty() || query == Some(upload.signature.as_str())
}

fn bad_signature() -> Response {
    json_resp(
        StatusCode::FORBIDDEN,
        json!({ "detail": "The request signature does not match: send the upload URL's query string unchanged", "error_type": "upload_signature_invalid" }),
    )
}

/// Letters, digits, `.`, `-` and `_` survive; anything else becomes `_`; no leading dots.
pub fn sanitize_file_name(name: &str) -> String {
    let mapped: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let trimmed = mapped.trim_start_matches('.');
    // Keep the end (the extension) when the name is too long.
    let kept = if trimmed.len() > MAX_FILE_NAME { &trimmed[trimmed.len() - MAX_FILE_NAME..] } else { trimmed };
    let kept = kept.trim_start_matches('.');
    if kept.is_empty() {
        "file".to_string()
    } else {
        kept.to_string()
    }
}

fn complete_via_rest(sim: &Sim, body: &[u8]) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return bad_request("The body must be JSON: {\"upload_url\": ..., \"parts\": [...]}");
    };
    let Some(url) = v.get("upload_url").and_then(Value::as_str) else {
        return bad_request("upload_url is required");
    };
    let parsed = url::Url::parse(url).ok().and_then(|u| {
        let rest = u.path().strip_prefix("/sim/upload/")?.to_string();
        (!rest.is_empty() && !rest.contains('/')).then(|| (rest, u.query().map(str::to_string)))
    });
    match parsed {
        Some((id, query)) => complete(sim, &id, query.as_deref(), &v),
        None => upload_not_found(),
    }
}

// ---- direct routes (the presigned URLs) ----

#[derive(Deserialize)]
struct PartRef {
    #[serde(rename = "partNumber")]
    part_number: u32,
    etag: String,
}

#[derive(Deserialize)]
struct CompleteBody {
    parts: Vec<PartRef>,
}

async fn complete_direct(State(sim): State<Sim>, Path((id, part)): Path<(String, String)>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let uri = parts.uri.to_string();
    logged(&sim, &parts.method, &uri, &parts.headers, async {
        if part != "complete" {
            return json_resp(StatusCode::METHOD_NOT_ALLOWED, json!({ "detail": "Method Not Allowed" }));
        }
        let Ok(body) = axum::body::to_bytes(body, 16 << 20).await else {
            return bad_request("Could not read the request body");
        };
        let Ok(v) = serde_json::from_slice::<Value>(&body) else {
            return bad_request("The body must be JSON: {\"parts\": [{\"partNumber\": n, \"etag\": \"...\"}, ...]}");
        };
        complete(&sim, &id, parts.uri.query(), &v)
    })
    .await
}

fn unquote(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

fn complete(sim: &Sim, id: &str, query: Option<&str>, body: &Value) -> Response {
    let parsed: CompleteBody = match serde_json::from_value(body.clone()) {
        Ok(p) => p,
        Err(e) => return bad_request(&format!("Invalid parts list: {e}")),
    };
    let mut st = sim.storage();
    let Some(upload) = st.uploads.get_mut(id) else {
        return upload_not_found();
    };
    if !signature_ok(upload, query) {
        return bad_signature();
    }
    if upload.kind != Kind::Multipart {
        return bad_request("This upload is not multipart; PUT the whole file to its upload_url");
    }
    if upload.completed {
        // A retried complete (its first answer lost) gets the same answer.
        return json_resp(StatusCode::OK, json!({ "file_url": upload.file_url(id) }));
    }
    if Instant::now() >= upload.expires_at {
        return expired();
    }
    if parsed.parts.is_empty() {
        return bad_request("The parts list is empty");
    }
    let mut numbers: Vec<u32> = Vec::with_capacity(parsed.parts.len());
    for p in &parsed.parts {
        if numbers.contains(&p.part_number) {
            return bad_request(&format!("Part {} is listed twice", p.part_number));
        }
        match upload.parts.get(&p.part_number) {
            None => return bad_request(&format!("Part {} was not uploaded", p.part_number)),
            Some(stored) if unquote(&stored.etag) != unquote(&p.etag) => {
                return bad_request(&format!("The etag of part {} does not match the uploaded part", p.part_number));
            }
            Some(_) => numbers.push(p.part_number),
        }
    }
    numbers.sort_unstable();
    let total: usize = numbers.iter().filter_map(|n| upload.parts.get(n)).map(|p| p.bytes.len()).sum();
    let mut assembled = Vec::with_capacity(total);
    for n in &numbers {
        if let Some(p) = upload.parts.get(n) {
            assembled.extend_from_slice(&p.bytes);
        }
    }
    upload.completed = true;
    upload.parts.clear();
    let file_url = upload.file_url(id);
    let file = StoredFile { name: upload.file_name.clone(), content_type: upload.content_type.clone(), bytes: Bytes::from(assembled) };
    st.files.insert(id.to_string(), file);
    st.completed += 1;
    json_resp(StatusCode::OK, json!({ "file_url": file_url }))
}

/// Why a PUT may not go ahead (unknown id, bad signature, expired, wrong kind); `None` if it may.
fn refuse_put(sim: &Sim, id: &str, query: Option<&str>, part: Option<u32>) -> Option<Response> {
    let st = sim.storage();
    let Some(upload) = st.uploads.get(id) else {
        return Some(upload_not_found());
    };
    if !signature_ok(upload, query) {
        return Some(bad_signature());
    }
    if Instant::now() >= upload.expires_at {
        return Some(expired());
    }
    match (upload.kind, part) {
        (Kind::Simple, Some(_)) => Some(bad_request("This upload is not multipart; PUT the whole file to its upload_url")),
        (Kind::Multipart, None) => Some(bad_request(
            "This upload is multipart; PUT its parts to <origin><path>/<partNumber><query> of the upload URL, then POST <origin><path>/complete<query>",
        )),
        (Kind::Multipart, Some(_)) if upload.completed => Some(bad_request("This upload is already completed")),
        _ => None,
    }
}

/// Reads a PUT body up to `limit` bytes; past it the rest is drained and `Ok(None)` returned.
/// `Err` means the body broke off (the client went away).
async fn read_limited(body: Body, limit: u64) -> Result<Option<Bytes>, ()> {
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut seen: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ())?;
        seen = seen.saturating_add(chunk.len() as u64);
        if seen <= limit {
            buf.extend_from_slice(&chunk);
        } else {
            buf = Vec::new();
            if seen > DRAIN_CAP {
                return Ok(None);
            }
        }
    }
    Ok((seen <= limit).then(|| Bytes::from(buf)))
}

/// Drains a body whose bytes are not wanted, so the client reads the answer cleanly.
async fn drain(body: Body) {
    let _ = read_limited(body, 0).await;
}

enum Planned {
    Go,
    Reject413,
    FailPart,
}

/// The shared part of simple and part PUTs: faults, the delay, the size limit.
async fn receive(sim: &Sim, headers: &HeaderMap, body: Body, part: bool) -> Result<Bytes, Response> {
    let (slow, planned, limit) = {
        let mut st = sim.storage();
        let planned = if st.faults.reject_put_413_next > 0 {
            st.faults.reject_put_413_next -= 1;
            Planned::Reject413
        } else if part && st.faults.fail_part_next > 0 {
            st.faults.fail_part_next -= 1;
            Planned::FailPart
        } else {
            Planned::Go
        };
        (st.faults.slow_put_ms, planned, st.config.max_upload_bytes)
    };
    if slow > 0 {
        // Nothing of the body is read meanwhile, so a client can abort mid-upload.
        tokio::time::sleep(Duration::from_millis(slow)).await;
    }
    match planned {
        Planned::Go => {}
        Planned::Reject413 => {
            drain(body).await;
            return Err(noted(file_too_large(), "storage:reject_put_413"));
        }
        Planned::FailPart => {
            drain(body).await;
            let mut resp = request_error(StatusCode::SERVICE_UNAVAILABLE, "Upload temporarily unavailable", "runner_connection_error");
            resp.headers_mut().insert("x-fal-retryable", HeaderValue::from_static("true"));
            return Err(noted(resp, "storage:fail_part"));
        }
    }
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        drain(body).await;
        return Err(file_too_large());
    }
    match read_limited(body, limit).await {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(file_too_large()),
        Err(()) => Err(bad_request("The upload body broke off")),
    }
}

/// Logs a direct call in `/__sim/log` (step `upload`) around its handler.
async fn logged(sim: &Sim, method: &Method, uri: &str, headers: &HeaderMap, fut: impl std::future::Future<Output = Response>) -> Response {
    let seq = sim.log_arrival_as(method, uri.to_string(), sim.describe_headers(headers), "upload");
    let resp = fut.await;
    let fault = resp.extensions().get::<FaultNote>().map(|n| n.0.clone());
    sim.log_answer(seq, Some(resp.status().as_u16()), fault);
    resp
}

async fn put_simple(State(sim): State<Sim>, Path(id): Path<String>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let uri = parts.uri.to_string();
    logged(&sim, &parts.method, &uri, &parts.headers, async {
        if let Some(resp) = refuse_put(&sim, &id, parts.uri.query(), None) {
            drain(body).await;
            return resp;
        }
        let bytes = match receive(&sim, &parts.headers, body, false).await {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        let mut st = sim.storage();
        let Some(upload) = st.uploads.get(&id) else {
            return upload_not_found();
        };
        let content_type = match parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
            Some(ct) if !ct.trim().is_empty() => ct.to_string(),
            _ => upload.content_type.clone(),
        };
        let file = StoredFile { name: upload.file_name.clone(), content_type, bytes };
        st.files.insert(id.clone(), file);
        st.puts += 1;
        json_resp(StatusCode::OK, json!({}))
    })
    .await
}

async fn put_part(State(sim): State<Sim>, Path((id, part)): Path<(String, String)>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let uri = parts.uri.to_string();
    logged(&sim, &parts.method, &uri, &parts.headers, async {
        let number = match part.parse::<u32>() {
            Ok(n) if (1..=MAX_PART).contains(&n) && part.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                drain(body).await;
                return bad_request(&format!("The part number must be 1..={MAX_PART}"));
            }
        };
        if let Some(resp) = refuse_put(&sim, &id, parts.uri.query(), Some(number)) {
            drain(body).await;
            return resp;
        }
        let bytes = match receive(&sim, &parts.headers, body, true).await {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        let etag = format!("\"{}\"", etag_hex(&bytes));
        let mut st = sim.storage();
        match st.uploads.get_mut(&id) {
            Some(upload) if !upload.completed => {
                upload.parts.insert(number, Part { bytes, etag: etag.clone() });
            }
            _ => return bad_request("This upload is already completed"),
        }
        st.parts += 1;
        let body = if st.config.etag_in_body { json!({ "partNumber": number, "etag": etag }) } else { json!({ "partNumber": number }) };
        let mut resp = json_resp(StatusCode::OK, body);
        if let Ok(v) = HeaderValue::from_str(&etag) {
            resp.headers_mut().insert(header::ETAG, v);
        }
        resp
    })
    .await
}

/// A 128-bit content hash (two FNV-1a lanes, finalized), as 32 hex digits.
pub fn etag_hex(bytes: &[u8]) -> String {
    let (mut a, mut b): (u64, u64) = (0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4);
    for &x in bytes {
        a = (a ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_0129);
    }
    let len = bytes.len() as u64;
    format!("{:016x}{:016x}", super::images::mix(a ^ len), super::images::mix(b.wrapping_add(len)))
}

async fn serve_file(State(sim): State<Sim>, Path((id, name)): Path<(String, String)>) -> Response {
    let st = sim.storage();
    let Some(file) = st.file(&id, &name) else {
        return (StatusCode::NOT_FOUND, "no such uploaded file").into_response();
    };
    let mut resp = Response::new(Body::from(file.bytes.clone()));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(file.bytes.len()));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

// ---- control API ----

async fn get_config(State(sim): State<Sim>) -> Response {
    json_resp(StatusCode::OK, json!(sim.storage().config))
}

async fn set_config(State(sim): State<Sim>, body: Bytes) -> Result<Response, Response> {
    let patch: ConfigPatch = super::control_body(&body)?;
    let mut st = sim.storage();
    let c = &mut st.config;
    c.upload_ttl_ms = patch.upload_ttl_ms.unwrap_or(c.upload_ttl_ms);
    c.max_upload_bytes = patch.max_upload_bytes.unwrap_or(c.max_upload_bytes);
    c.signed_urls = patch.signed_urls.unwrap_or(c.signed_urls);
    c.etag_in_body = patch.etag_in_body.unwrap_or(c.etag_in_body);
    Ok(json_resp(StatusCode::OK, json!(st.config)))
}

async fn get_faults(State(sim): State<Sim>) -> Response {
    json_resp(StatusCode::OK, json!(sim.storage().faults))
}

async fn set_faults(State(sim): State<Sim>, body: Bytes) -> Result<Response, Response> {
    let patch: FaultsPatch = super::control_body(&body)?;
    let mut st = sim.storage();
    let f = &mut st.faults;
    f.expire_next = patch.expire_next.unwrap_or(f.expire_next);
    f.reject_put_413_next = patch.reject_put_413_next.unwrap_or(f.reject_put_413_next);
    f.slow_put_ms = patch.slow_put_ms.unwrap_or(f.slow_put_ms);
    f.fail_part_next = patch.fail_part_next.unwrap_or(f.fail_part_next);
    Ok(json_resp(StatusCode::OK, json!(st.faults)))
}

async fn clear_faults(State(sim): State<Sim>) -> Response {
    sim.storage().faults = StorageFaults::default();
    json_resp(StatusCode::OK, json!({ "ok": true }))
}

async fn get_stats(State(sim): State<Sim>) -> Response {
    json_resp(StatusCode::OK, sim.storage().stats())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_sanitized() {
        assert_eq!(sanitize_file_name("cat.png"), "cat.png");
        assert_eq!(sanitize_file_name("my cat/../é.png"), "my_cat_..__.png");
        assert_eq!(sanitize_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize_file_name(".hidden"), "hidden");
        assert_eq!(sanitize_file_name(""), "file");
        assert_eq!(sanitize_file_name("..."), "file");
        let long = format!("{}.png", "a".repeat(300));
        assert_eq!(sanitize_file_name(&long).len(), MAX_FILE_NAME);
        assert!(sanitize_file_name(&long).ends_with(".png"));
    }

    #[test]
    fn etags_depend_on_content() {
        assert_eq!(etag_hex(b"abc"), etag_hex(b"abc"));
        assert_ne!(etag_hex(b"abc"), etag_hex(b"abd"));
        assert_ne!(etag_hex(b""), etag_hex(b"\0"));
        assert_eq!(etag_hex(b"x").len(), 32);
    }
}
