//! Simulated fal storage: initiate through the proxy, PUT directly to the presigned URL on
//! this server, multipart uploads, storage faults, and image-to-image reading its input.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use common::{unique_prompt, Server, QUEUE};
use reqwest::Method;
use serde_json::{json, Value};

const INITIATE: &str = "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3";
const INITIATE_MULTIPART: &str = "https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3";
const COMPLETE_MULTIPART: &str = "https://rest.fal.ai/storage/upload/complete-multipart?storage_type=fal-cdn-v3";
const I2I: &str = "fal-ai/flux/dev/image-to-image";
const MIB: usize = 1024 * 1024;

async fn initiate(s: &Server, target: &str, content_type: &str, file_name: &str) -> (String, String) {
    let (code, _, body) = s.proxy_json(Method::POST, target, Some(json!({ "content_type": content_type, "file_name": file_name }))).await;
    assert_eq!(code, 200, "{body}");
    let obj = body.as_object().expect("object");
    assert_eq!(obj.len(), 2, "{body}");
    (body["upload_url"].as_str().expect("upload_url").to_string(), body["file_url"].as_str().expect("file_url").to_string())
}

async fn put(s: &Server, url: &str, content_type: &str, bytes: Vec<u8>) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = s.client.put(url).header("content-type", content_type).body(bytes).send().await.expect("send");
    let (code, headers) = (resp.status().as_u16(), resp.headers().clone());
    let text = resp.text().await.expect("body");
    (code, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn get_bytes(s: &Server, url: &str) -> (u16, Option<String>, Vec<u8>) {
    let resp = s.client.get(url).send().await.expect("send");
    let code = resp.status().as_u16();
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (code, ct, resp.bytes().await.expect("bytes").to_vec())
}

async fn stats(s: &Server) -> Value {
    s.sim_get("/__sim/storage/stats").await
}

async fn faults(s: &Server, body: Value) {
    assert_eq!(s.sim_post("/__sim/storage/faults", body).await, 200);
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(31).wrapping_add(u32::from(seed)) as u8 ^ (i >> 13) as u8).collect()
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    let mut writer = enc.write_header().expect("header");
    writer.write_image_data(&pattern((w * h * 3) as usize, 9)).expect("data");
    writer.finish().expect("finish");
    out
}

fn id_of(upload_url: &str) -> String {
    url::Url::parse(upload_url).expect("url").path().rsplit('/').next().expect("id").to_string()
}

/// `{origin}{pathname}/{suffix}{search}` of a signed upload URL: where fal's clients send part
/// `n` and the complete (the query is kept, after the suffix).
fn signed(upload_url: &str, suffix: &str) -> String {
    let u = url::Url::parse(upload_url).expect("url");
    let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}{}/{suffix}{query}", u.origin().ascii_serialization(), u.path())
}

#[tokio::test]
async fn simple_upload_round_trip() {
    let s = common::start().await;
    let (upload_url, file_url) = initiate(&s, INITIATE, "image/png", "my cat/../photo.png").await;
    let id = id_of(&upload_url);
    // A signed URL, like fal's: the path, then a query every PUT must carry.
    let (path, query) = upload_url.split_once('?').expect("a signed URL has a query");
    assert_eq!(path, s.url(&format!("/sim/upload/{id}")));
    assert!(query.starts_with("X-Goog-Algorithm=GOOG4-RSA-SHA256&") && query.contains("&X-Goog-Signature="), "{query}");
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(file_url, s.url(&format!("/sim/files/up/{id}/my_cat_.._photo.png")));
    assert_eq!(get_bytes(&s, &file_url).await.0, 404, "nothing served before the PUT");

    let bytes = pattern(300_000, 1);
    let (code, _, body) = put(&s, &upload_url, "image/x-test", bytes.clone()).await;
    assert_eq!((code, body), (200, json!({})));
    let (code, ct, got) = get_bytes(&s, &file_url).await;
    assert_eq!((code, ct.as_deref()), (200, Some("image/x-test")));
    assert!(got == bytes, "served bytes differ");
    let head = s.client.head(&file_url).send().await.expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "300000");
    assert_eq!(head.headers()["content-type"], "image/x-test");
    assert!(head.bytes().await.expect("body").is_empty());
    // A wrong name under the right id is not the file.
    assert_eq!(get_bytes(&s, &s.url(&format!("/sim/files/up/{id}/other.png"))).await.0, 404);

    let st = stats(&s).await;
    assert_eq!(st, json!({ "initiated": 1, "puts": 1, "parts": 0, "completed": 0, "bytes_stored": 300_000, "incomplete": 0, "files": 1 }));
    // The direct PUT is in the log as an `upload` step.
    let log = s.sim_log(0).await;
    let steps: Vec<(&str, &str, u64)> = log.iter().filter_map(|e| Some((e["step"].as_str()?, e["method"].as_str()?, e["status"].as_u64()?))).collect();
    assert_eq!(steps, [("other", "POST", 200), ("upload", "PUT", 200)]);
}

#[tokio::test]
async fn initiate_validates_its_body_and_ids() {
    let s = common::start().await;
    let (code, headers, body) = s.proxy_json(Method::POST, INITIATE, Some(json!({ "file_name": "a.png" }))).await;
    assert_eq!((code, headers["x-fal-retryable"].to_str().ok()), (422, Some("false")));
    assert_eq!(body, json!({ "detail": [{ "loc": ["body", "content_type"], "msg": "Field required", "type": "missing", "input": { "file_name": "a.png" } }] }));
    let (code, _, body) = s.proxy_json(Method::POST, INITIATE_MULTIPART, Some(json!({ "content_type": 1, "file_name": null }))).await;
    assert_eq!(code, 422);
    let types: Vec<&str> = body["detail"].as_array().expect("detail").iter().filter_map(|i| i["type"].as_str()).collect();
    assert_eq!(types, ["string_type", "string_type"]);
    // No file name: "file".
    let (_, file_url) = initiate(&s, INITIATE, "text/plain", "").await;
    assert!(file_url.ends_with("/file"), "{file_url}");
    // Unknown ids.
    let (code, _, body) = put(&s, &s.url("/sim/upload/0123456789abcdef0123456789abcdef"), "text/plain", b"x".to_vec()).await;
    assert_eq!((code, body["error_type"].as_str()), (404, Some("not_found")));
    let (code, _, _) = put(&s, &s.url("/sim/upload/0123456789abcdef0123456789abcdef/1"), "text/plain", b"x".to_vec()).await;
    assert_eq!(code, 404);
    // Only the three storage routes with storage_type=fal-cdn-v3 pass the proxy.
    for target in ["https://rest.fal.ai/storage/upload/initiate?storage_type=other", "https://rest.fal.ai/storage/upload/whatever"] {
        let (code, _, body) = s.proxy_json(Method::POST, target, Some(json!({ "content_type": "text/plain" }))).await;
        assert_eq!((code, body["reason"].as_str()), (403, Some("path_not_allowed")), "{target}");
    }
    assert_eq!(stats(&s).await["initiated"], 1);
}

async fn put_part(s: &Server, upload_url: &str, n: u32, bytes: Vec<u8>) -> Value {
    let (code, headers, body) = put(s, &signed(upload_url, &n.to_string()), "application/octet-stream", bytes).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(headers.get("etag").and_then(|v| v.to_str().ok()), body["etag"].as_str(), "the etag in the body and the ETag header");
    body
}

#[tokio::test]
async fn multipart_round_trip() {
    let s = common::start().await;
    let (upload_url, file_url) = initiate(&s, INITIATE_MULTIPART, "video/mp4", "clip.mp4").await;
    let chunks: Vec<Vec<u8>> = (1..=3).map(|i| pattern(5 * MIB, i)).collect();
    let mut parts = vec![Value::Null; 3];
    // Out of order on purpose: the file is assembled by part number.
    for n in [3u32, 1, 2] {
        let answer = put_part(&s, &upload_url, n, chunks[n as usize - 1].clone()).await;
        assert_eq!(answer.as_object().map(|o| o.len()), Some(2));
        assert_eq!(answer["partNumber"], n);
        let etag = answer["etag"].as_str().expect("etag");
        assert!(etag.len() == 34 && etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        parts[n as usize - 1] = answer;
    }
    assert_ne!(parts[0]["etag"], parts[1]["etag"]);
    assert_eq!(get_bytes(&s, &file_url).await.0, 404, "nothing served before complete");
    let st = stats(&s).await;
    assert_eq!((st["parts"].as_u64(), st["incomplete"].as_u64(), st["files"].as_u64()), (Some(3), Some(1), Some(0)));
    // A simple PUT to a multipart upload is refused.
    assert_eq!(put(&s, &upload_url, "video/mp4", b"x".to_vec()).await.0, 400);

    let resp = s.client.post(signed(&upload_url, "complete")).json(&json!({ "parts": parts })).send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json"), json!({ "file_url": file_url }));
    let (code, ct, got) = get_bytes(&s, &file_url).await;
    assert_eq!((code, ct.as_deref(), got.len()), (200, Some("video/mp4"), 15 * MIB));
    assert!(got == chunks.concat(), "assembled bytes differ");
    let st = stats(&s).await;
    assert_eq!(st, json!({ "initiated": 1, "puts": 0, "parts": 3, "completed": 1, "bytes_stored": 15 * MIB, "incomplete": 0, "files": 1 }));
    // Parts after completion are refused; a repeated complete answers the same.
    assert_eq!(put(&s, &signed(&upload_url, "4"), "video/mp4", b"x".to_vec()).await.0, 400);
    let again = s.client.post(signed(&upload_url, "complete")).json(&json!({ "parts": parts })).send().await.expect("send");
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn complete_through_the_proxy_and_bad_part_lists() {
    let s = common::start().await;
    let (upload_url, file_url) = initiate(&s, INITIATE_MULTIPART, "text/plain", "notes.txt").await;
    let p1 = put_part(&s, &upload_url, 1, b"hello ".to_vec()).await;
    let p2 = put_part(&s, &upload_url, 2, b"world".to_vec()).await;
    let complete = |parts: Value| s.proxy_json(Method::POST, COMPLETE_MULTIPART, Some(json!({ "upload_url": upload_url, "parts": parts })));

    let (code, _, body) = complete(json!([p1, { "partNumber": 3, "etag": p2["etag"] }])).await;
    assert_eq!((code, body["error_type"].as_str()), (400, Some("bad_request")), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("Part 3")), "{body}");
    let (code, _, body) = complete(json!([p1, { "partNumber": 2, "etag": p1["etag"] }])).await;
    assert_eq!((code, body["error_type"].as_str()), (400, Some("bad_request")), "{body}");
    // The same through the direct route, with a missing part.
    let resp = s.client.post(signed(&upload_url, "complete")).json(&json!({ "parts": [p2] })).send().await.expect("send");
    assert_eq!(resp.status(), 200, "listing a subset is allowed (only listed parts are kept)");
    assert_eq!(get_bytes(&s, &file_url).await.2, b"world");

    let (upload_url, file_url) = initiate(&s, INITIATE_MULTIPART, "text/plain", "n.txt").await;
    let p1 = put_part(&s, &upload_url, 1, b"a".to_vec()).await;
    let resp =
        s.client.post(signed(&upload_url, "complete")).json(&json!({ "parts": [p1, { "partNumber": 2, "etag": "\"00\"" }] })).send().await.expect("send");
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.expect("json")["error_type"], "bad_request");
    assert_eq!(get_bytes(&s, &file_url).await.0, 404, "a failed complete serves nothing");
    let (code, _, body) = s.proxy_json(Method::POST, COMPLETE_MULTIPART, Some(json!({ "upload_url": upload_url, "parts": [p1] }))).await;
    assert_eq!((code, body), (200, json!({ "file_url": file_url })));
    assert_eq!(stats(&s).await["incomplete"], 0);
}

/// Every PUT and complete must carry the upload URL's query exactly: 403 otherwise, like a
/// signed URL. A part number after the query (`{upload_url}/1`) misses it too.
#[tokio::test]
async fn signed_urls_refuse_calls_without_their_query() {
    let s = common::start().await;
    let forbidden =
        json!({ "detail": "The request signature does not match: send the upload URL's query string unchanged", "error_type": "upload_signature_invalid" });
    let (upload_url, file_url) = initiate(&s, INITIATE, "text/plain", "s.txt").await;
    let (bare, query) = upload_url.split_once('?').expect("query");
    let tampered = format!("{bare}?{}", query.replace("X-Goog-Signature=", "X-Goog-Signature=0"));
    for url in [bare.to_string(), tampered, format!("{upload_url}&extra=1")] {
        let (code, _, body) = put(&s, &url, "text/plain", b"x".to_vec()).await;
        assert_eq!((code, body), (403, forbidden.clone()), "{url}");
    }
    assert_eq!(get_bytes(&s, &file_url).await.0, 404);
    assert_eq!(put(&s, &upload_url, "text/plain", b"x".to_vec()).await.0, 200);

    let (mp_url, mp_file) = initiate(&s, INITIATE_MULTIPART, "text/plain", "m.txt").await;
    let (mp_bare, _) = mp_url.split_once('?').expect("query");
    for url in [format!("{mp_url}/1"), format!("{mp_bare}/1")] {
        assert_eq!(put(&s, &url, "text/plain", b"part".to_vec()).await.0, 403, "{url}");
    }
    let p1 = put_part(&s, &mp_url, 1, b"part".to_vec()).await;
    let resp = s.client.post(format!("{mp_bare}/complete")).json(&json!({ "parts": [p1] })).send().await.expect("send");
    assert_eq!(resp.status(), 403);
    let (code, _, _) = s.proxy_json(Method::POST, COMPLETE_MULTIPART, Some(json!({ "upload_url": mp_bare, "parts": [p1] }))).await;
    assert_eq!(code, 403, "the proxy's complete-multipart needs the signed URL too");
    let (code, _, body) = s.proxy_json(Method::POST, COMPLETE_MULTIPART, Some(json!({ "upload_url": mp_url, "parts": [p1] }))).await;
    assert_eq!((code, body), (200, json!({ "file_url": mp_file })));
    let log = s.sim_log(0).await;
    let answered: Vec<u64> = log.iter().filter(|e| e["step"] == "upload").filter_map(|e| e["status"].as_u64()).collect();
    assert_eq!(answered, [403, 403, 403, 200, 403, 403, 200, 403]);
}

/// Variants: unsigned upload URLs, and part answers with the etag only in the `ETag` header.
#[tokio::test]
async fn unsigned_urls_and_etags_only_in_the_header() {
    let s = common::start().await;
    assert_eq!(s.sim_post("/__sim/storage/config", json!({ "signed_urls": false, "etag_in_body": false })).await, 200);
    let (upload_url, file_url) = initiate(&s, INITIATE_MULTIPART, "text/plain", "u.txt").await;
    assert!(!upload_url.contains('?'), "{upload_url}");
    let (code, headers, body) = put(&s, &format!("{upload_url}/1"), "text/plain", b"abc".to_vec()).await;
    assert_eq!((code, body), (200, json!({ "partNumber": 1 })));
    let etag = headers["etag"].to_str().expect("etag").to_string();
    let resp = s.client.post(format!("{upload_url}/complete")).json(&json!({ "parts": [{ "partNumber": 1, "etag": etag }] })).send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(get_bytes(&s, &file_url).await.2, b"abc");
}

#[tokio::test]
async fn expiry_and_size_limit() {
    let s = common::start().await;
    assert_eq!(
        s.sim_get("/__sim/storage/config").await,
        json!({ "upload_ttl_ms": 300000, "max_upload_bytes": 67108864, "signed_urls": true, "etag_in_body": true })
    );
    assert_eq!(s.sim_post("/__sim/storage/config", json!({ "upload_ttl_ms": 150, "max_upload_bytes": 1000 })).await, 200);
    assert_eq!(s.sim_post("/__sim/storage/config", json!({ "ttl": 1 })).await, 400);
    let (upload_url, file_url) = initiate(&s, INITIATE, "text/plain", "a.txt").await;
    let (code, _, body) = put(&s, &upload_url, "text/plain", vec![b'x'; 1001]).await;
    assert_eq!((code, body), (413, json!({ "detail": "File too large", "error_type": "file_too_large" })));
    assert_eq!(put(&s, &upload_url, "text/plain", vec![b'x'; 1000]).await.0, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (code, _, body) = put(&s, &upload_url, "text/plain", b"late".to_vec()).await;
    assert_eq!((code, body), (403, json!({ "detail": "Upload URL expired", "error_type": "upload_url_expired" })));
    // The file stored before expiry stays served.
    assert_eq!(get_bytes(&s, &file_url).await.2.len(), 1000);
}

#[tokio::test]
async fn storage_faults() {
    let s = common::start().await;
    faults(&s, json!({ "expire_next": 1, "reject_put_413_next": 1, "fail_part_next": 1 })).await;
    assert_eq!(s.sim_get("/__sim/storage/faults").await, json!({ "expire_next": 1, "reject_put_413_next": 1, "slow_put_ms": 0, "fail_part_next": 1 }));
    assert_eq!(s.sim_post("/__sim/storage/faults", json!({ "nope": 1 })).await, 400);

    // expire_next: the first initiate hands out an already expired URL.
    let (expired_url, _) = initiate(&s, INITIATE, "text/plain", "a.txt").await;
    let (code, _, body) = put(&s, &expired_url, "text/plain", b"x".to_vec()).await;
    assert_eq!((code, body["error_type"].as_str()), (403, Some("upload_url_expired")));

    // reject_put_413_next: the next PUT answers 413, the one after works.
    let (upload_url, file_url) = initiate(&s, INITIATE, "text/plain", "b.txt").await;
    let (code, _, body) = put(&s, &upload_url, "text/plain", b"hi".to_vec()).await;
    assert_eq!((code, body), (413, json!({ "detail": "File too large", "error_type": "file_too_large" })));
    assert_eq!(put(&s, &upload_url, "text/plain", b"hi".to_vec()).await.0, 200);
    assert_eq!(get_bytes(&s, &file_url).await.2, b"hi");

    // fail_part_next: the next part answers 503, retryable; the retry works.
    let (mp_url, _) = initiate(&s, INITIATE_MULTIPART, "text/plain", "c.txt").await;
    let (code, headers, body) = put(&s, &signed(&mp_url, "1"), "text/plain", b"part".to_vec()).await;
    assert_eq!((code, headers["x-fal-retryable"].to_str().ok()), (503, Some("true")));
    assert_eq!(body, json!({ "detail": "Upload temporarily unavailable", "error_type": "runner_connection_error" }));
    put_part(&s, &mp_url, 1, b"part".to_vec()).await;
    assert_eq!(s.sim_get("/__sim/storage/faults").await, json!({ "expire_next": 0, "reject_put_413_next": 0, "slow_put_ms": 0, "fail_part_next": 0 }));

    // reject_put_413_next also hits parts; DELETE clears whatever is left.
    faults(&s, json!({ "reject_put_413_next": 1 })).await;
    assert_eq!(put(&s, &signed(&mp_url, "2"), "text/plain", b"x".to_vec()).await.0, 413);
    faults(&s, json!({ "reject_put_413_next": 5, "fail_part_next": 5, "expire_next": 5 })).await;
    let resp = s.client.delete(s.url("/__sim/storage/faults")).send().await.expect("send");
    assert_eq!(resp.status(), 200);
    put_part(&s, &mp_url, 2, b"x".to_vec()).await;
    let st = stats(&s).await;
    assert_eq!((st["initiated"].as_u64(), st["puts"].as_u64(), st["parts"].as_u64(), st["incomplete"].as_u64()), (Some(3), Some(1), Some(2), Some(1)));
    // Faulted PUTs are marked in the log.
    let log = s.sim_log(0).await;
    let notes: Vec<&str> = log.iter().filter_map(|e| e["fault"].as_str()).collect();
    assert_eq!(notes, ["storage:reject_put_413", "storage:fail_part", "storage:reject_put_413"]);
}

#[tokio::test]
async fn slow_puts_are_really_slow_and_abortable() {
    let s = common::start().await;
    faults(&s, json!({ "slow_put_ms": 300 })).await;
    let (upload_url, file_url) = initiate(&s, INITIATE, "text/plain", "slow.txt").await;
    let t = Instant::now();
    assert_eq!(put(&s, &upload_url, "text/plain", b"slow".to_vec()).await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300), "{:?}", t.elapsed());

    // A client that gives up mid-upload (the connection closes with the body half sent)
    // leaves nothing behind.
    let (upload_url, file_url2) = initiate(&s, INITIATE, "text/plain", "aborted.txt").await;
    let path = upload_url.strip_prefix(&s.base).expect("same origin");
    let mut conn = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).expect("connect");
    let head = format!("PUT {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: text/plain\r\ncontent-length: 100000\r\n\r\n", s.base.trim_start_matches("http://"));
    std::io::Write::write_all(&mut conn, head.as_bytes()).expect("write head");
    std::io::Write::write_all(&mut conn, &[7u8; 1000]).expect("write some body");
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(conn);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get_bytes(&s, &file_url2).await.0, 404);
    assert_eq!(stats(&s).await["puts"], 1);
    assert_eq!(get_bytes(&s, &file_url).await.2, b"slow");
    // The aborted PUT did arrive: it is logged, and was not answered 200.
    let log = s.sim_log(0).await;
    let puts: Vec<Value> = log.iter().filter(|e| e["step"] == "upload").map(|e| e["status"].clone()).collect();
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert_ne!(puts[1], 200);
}

// ---- image-to-image reads its input ----

fn data_url(bytes: &[u8]) -> String {
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

async fn jobs_with_prompt(s: &Server, prompt: &str) -> usize {
    let url = format!("/__sim/jobs?prompt={}", url::form_urlencoded::byte_serialize(prompt.as_bytes()).collect::<String>());
    s.sim_get(&url).await.as_array().map_or(0, Vec::len)
}

/// Submits an i2i job whose input image is refused: 422 at submit, one issue, no job.
async fn refused(s: &Server, image_url: &str) -> Value {
    let prompt = unique_prompt("i2i refused");
    let (code, headers, body) = s.proxy_json(Method::POST, &format!("{QUEUE}/{I2I}"), Some(json!({ "image_url": image_url, "prompt": prompt }))).await;
    assert_eq!((code, headers["x-fal-retryable"].to_str().ok()), (422, Some("false")), "{body}");
    assert_eq!(jobs_with_prompt(s, &prompt).await, 0);
    let detail = body["detail"].as_array().expect("detail");
    assert_eq!(detail.len(), 1, "{body}");
    detail[0].clone()
}

#[tokio::test]
async fn image_to_image_rejects_bad_inputs_at_submit() {
    let s = common::start().await;
    // The variant that refuses invalid input at submit (fal's own way is below).
    assert_eq!(s.sim_post("/__sim/config", json!({ "validation": "submit" })).await, 200);
    let tiny = data_url(&png(64, 64));
    assert_eq!(
        refused(&s, &tiny).await,
        json!({ "loc": ["body", "image_url"], "msg": "Image too small", "type": "image_too_small", "url": "https://docs.fal.ai/errors/#image_too_small", "ctx": { "min_height": 256, "min_width": 256 }, "input": tiny })
    );
    // Either side under 256 is too small.
    let (upload_url, short_url) = initiate(&s, INITIATE, "image/png", "short.png").await;
    assert_eq!(put(&s, &upload_url, "image/png", png(300, 200)).await.0, 200);
    assert_eq!(refused(&s, &short_url).await["type"], "image_too_small");
    let wide = data_url(&png(4097, 256));
    let issue = refused(&s, &wide).await;
    assert_eq!((issue["type"].as_str(), issue["ctx"].clone()), (Some("image_too_large"), json!({ "max_height": 4096, "max_width": 4096 })));

    for external in ["https://example.com/cat.png", "http://example.com/sim/files/512x512-1-0000000000000abc.png", "data:image/png;base64,@@@"] {
        assert_eq!(
            refused(&s, external).await,
            json!({ "loc": ["body", "image_url"], "msg": "File download error", "type": "file_download_error", "url": "https://docs.fal.ai/errors/#file_download_error", "input": external })
        );
    }
    // On this server but not there.
    let missing = s.url("/sim/files/up/0123456789abcdef0123456789abcdef/x.png");
    assert_eq!(refused(&s, &missing).await["type"], "file_download_error");

    // An uploaded file that is not an image, and a corrupted PNG.
    let (upload_url, text_url) = initiate(&s, INITIATE, "text/plain", "notes.txt").await;
    assert_eq!(put(&s, &upload_url, "text/plain", b"not an image".to_vec()).await.0, 200);
    let issue = refused(&s, &text_url).await;
    assert_eq!(
        issue,
        json!({ "loc": ["body", "image_url"], "msg": "Image load error", "type": "image_load_error", "url": "https://docs.fal.ai/errors/#image_load_error", "input": text_url })
    );
    let mut broken = png(300, 300);
    broken.truncate(broken.len() / 2);
    assert_eq!(refused(&s, &data_url(&broken)).await["type"], "image_load_error");
    // A sync run refuses the same way.
    let (code, _, body) = s.proxy_json(Method::POST, &format!("https://fal.run/{I2I}"), Some(json!({ "image_url": tiny, "prompt": "p" }))).await;
    assert_eq!((code, body["detail"][0]["type"].as_str()), (422, Some("image_too_small")));
}

/// By default (fal's way) a bad input image is found by the job: it runs, and `result`
/// answers the 422.
#[tokio::test]
async fn image_to_image_with_a_bad_image_fails_at_result() {
    let s = common::start().await;
    let tiny = data_url(&png(64, 64));
    let sub = s.submit(I2I, json!({ "image_url": tiny, "prompt": unique_prompt("i2i late") })).await;
    let done = s.wait_completed(&sub).await;
    assert_eq!((done["error"].as_str(), done["error_type"].as_str()), (Some("Image too small"), Some("image_too_small")));
    let (code, _, body) = s.result(&sub).await;
    assert_eq!(
        (code, body["detail"][0]["type"].as_str(), body["detail"][0]["ctx"].clone()),
        (422, Some("image_too_small"), json!({ "min_height": 256, "min_width": 256 }))
    );
}

#[tokio::test]
async fn image_to_image_output_follows_the_uploaded_input() {
    let s = common::start().await;
    let (upload_url, file_url) = initiate(&s, INITIATE, "image/png", "input.png").await;
    // 300x260, not 300x200: a side under 256 is image_too_small (checked below).
    assert_eq!(put(&s, &upload_url, "image/png", png(300, 260)).await.0, 200);
    let prompt = unique_prompt("i2i upload");
    let sub = s.submit(I2I, json!({ "image_url": file_url, "prompt": prompt, "seed": 5 })).await;
    s.wait_completed(&sub).await;
    let (code, _, out) = s.result(&sub).await;
    assert_eq!(code, 200, "{out}");
    let image = &out["images"][0];
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(300), Some(260)), "{out}");
    let url = image["url"].as_str().expect("url");
    assert!(url.starts_with(&s.url("/sim/files/300x260-5-")), "{url}");
    assert_eq!(get_bytes(&s, url).await.0, 200);

    // A generated picture as input (e.g. a previous result): 2048x1536 fits into 1024x768.
    let big = s.url("/sim/files/2048x1536-1-0000000000000abc.png");
    let (code, _, out) = s.proxy_json(Method::POST, &format!("https://fal.run/{I2I}"), Some(json!({ "image_url": big, "prompt": prompt }))).await;
    assert_eq!(code, 200, "{out}");
    assert_eq!((out["images"][0]["width"].as_u64(), out["images"][0]["height"].as_u64()), (Some(1024), Some(768)));
    // And a data URL.
    let (code, _, out) =
        s.proxy_json(Method::POST, &format!("https://fal.run/{I2I}"), Some(json!({ "image_url": data_url(&png(256, 512)), "prompt": prompt }))).await;
    assert_eq!(code, 200, "{out}");
    assert_eq!((out["images"][0]["width"].as_u64(), out["images"][0]["height"].as_u64()), (Some(256), Some(512)));
}
