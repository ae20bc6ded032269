//! Realtime apps over WebSocket, the way fal serves them at `wss://fal.run/{endpoint}/realtime`.
//!
//! The browser mints a short-lived token through the proxy (`POST rest.fal.ai/tokens/`), then
//! opens `ws://<host>/sim/realtime/{endpoint}/realtime?fal_jwt_token=..` on this server itself.
//!
//! By default it speaks as fal's realtime apps do (fal-ai/fal, `projects/fal/src/fal/realtime.py`):
//! inputs are msgpack binary frames, each result a msgpack binary frame followed by a JSON text
//! `{"type":"x-fal-message","action":"timings","timing":<seconds>}`; pending inputs beyond
//! `max_buffering` drop the oldest; an idle socket gets `TIMEOUT` then a normal close; anything
//! that is not a msgpack map is an `INTERNAL_ERROR` and a close. The `json` encoding (config, or
//! `/sim/realtime/~json/...` for one connection) is the older, laxer variant: JSON text or
//! msgpack in, JSON text out (msgpack if the input has `"_binary_reply": true`), bad frames
//! answered `BAD_INPUT` on a socket that stays open. Faults, settings and statistics live under
//! `/__sim/realtime/*`.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Number, Value};

use super::images::{self, ImageSpec};
use super::Sim;
use crate::allowlist::is_endpoint_id;
use crate::json::{json as json_resp, request_error};

/// Endpoints with a realtime app; the two LCM apps answer with an image, `genwire/echo` echoes.
pub const ENDPOINTS: [&str; 3] = ["fal-ai/lcm-sd15-i2i", "fal-ai/fast-lcm-diffusion", "genwire/echo"];

/// Side of the square PNG the image apps answer with.
const IMAGE_SIDE: u32 = 256;
const DEFAULT_TOKEN_SECS: u64 = 120;
const TOKEN_SECS: std::ops::RangeInclusive<u64> = 10..=3600;
const CONNECTIONS_KEPT: usize = 200;
const IMAGE_CACHE: usize = 128;
/// How long a closing socket waits for the client's half of the close handshake.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// How frames are encoded on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// fal's: msgpack binary in and out, JSON text only for control messages.
    Msgpack,
    /// JSON text (or msgpack) in, JSON text out unless the input asks `_binary_reply`.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RealtimeConfig {
    /// A socket with no input for this long gets `TIMEOUT` and a normal close (1000).
    pub idle_timeout_ms: u64,
    /// The frames of connections that don't choose (`/sim/realtime/~json/...`, `~msgpack`).
    pub encoding: Encoding,
    /// A `timings` control message follows each result.
    pub timings: bool,
    /// Every result waits this long first.
    pub result_delay_ms: u64,
    /// When set, tokens minted from now on live this long whatever `token_expiration` said
    /// (`token_expiration` must be at least 10 s, too long for an expiry test).
    pub token_ttl_ms: Option<u64>,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        RealtimeConfig { idle_timeout_ms: 8000, encoding: Encoding::Msgpack, timings: true, result_delay_ms: 0, token_ttl_ms: None }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    idle_timeout_ms: Option<u64>,
    encoding: Option<Encoding>,
    timings: Option<bool>,
    result_delay_ms: Option<u64>,
    /// Absent: unchanged; `null`: back to the requested expiry.
    #[serde(default, deserialize_with = "present")]
    token_ttl_ms: Option<Option<u64>>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseNext {
    pub code: u16,
    #[serde(default)]
    pub reason: String,
    /// How many connections it applies to.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// Socket faults; `POST` sets the fields it names, `DELETE` clears all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RtFaults {
    /// The next n upgrade attempts answer 503 without upgrading.
    pub refuse_next: u32,
    /// Every connection is dropped (TCP close, no close frame) after sending n results.
    pub drop_after: Option<u32>,
    /// Only the next connection is dropped after n results.
    pub drop_once_after: Option<u32>,
    /// The next n connections are Unauthorized whatever their token.
    pub reject_token_next: u32,
    /// The next `count` connections are closed with `code` after their first result.
    pub close_code_next: Option<CloseNext>,
    /// Every result waits this long (on top of `result_delay_ms`).
    pub slow_ms: u64,
    /// A heartbeat `x-fal-message` goes before every n-th result of a connection.
    pub control_every: u32,
}

impl RtFaults {
    fn validate(&self) -> Result<(), String> {
        if let Some(c) = &self.close_code_next {
            // Codes a close frame may carry (RFC 6455 7.4): 1005, 1006 and 1015 never travel.
            let sendable = matches!(c.code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if !sendable {
                return Err(format!("close_code_next.code {} cannot be sent in a close frame; use 1000-1003, 1007-1014 or 3000-4999", c.code));
            }
            if c.reason.len() > 123 {
                return Err("close_code_next.reason is longer than 123 bytes".into());
            }
            if c.count == 0 {
                return Err("close_code_next.count must be at least 1".into());
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsPatch {
    refuse_next: Option<u32>,
    drop_after: Option<u32>,
    drop_once_after: Option<u32>,
    reject_token_next: Option<u32>,
    close_code_next: Option<CloseNext>,
    slow_ms: Option<u64>,
    control_every: Option<u32>,
}

struct Token {
    apps: Vec<String>,
    expires: Instant,
}

#[derive(Debug, Default, Serialize)]
struct Counters {
    open: u64,
    opened: u64,
    refused: u64,
    unauthorized: u64,
    dropped: u64,
    inputs: u64,
    /// Pending inputs dropped (the oldest first) beyond a connection's `max_buffering`.
    dropped_inputs: u64,
    results: u64,
    tokens_issued: u64,
}

#[derive(Debug, Serialize)]
struct ConnRecord {
    id: u64,
    endpoint: String,
    opened_at_ms: f64,
    closed_at_ms: Option<f64>,
    inputs: u64,
    results: u64,
    close_code: Option<u16>,
}

#[derive(Default)]
pub(crate) struct RtState {
    config: RealtimeConfig,
    faults: RtFaults,
    tokens: HashMap<String, Token>,
    counters: Counters,
    connections: VecDeque<ConnRecord>,
    next_conn: u64,
    images: HashMap<(u64, u64), Arc<str>>,
}

impl RtState {
    fn record(&mut self, id: u64) -> Option<&mut ConnRecord> {
        self.connections.iter_mut().rev().find(|c| c.id == id)
    }
}

pub(crate) fn local_routes() -> Router<Sim> {
    Router::new()
        .route("/sim/realtime/{*path}", get(upgrade))
        .route("/__sim/realtime/config", get(get_config).post(set_config))
        .route("/__sim/realtime/faults", get(get_faults).post(set_faults).delete(clear_faults))
        .route("/__sim/realtime/stats", get(get_stats))
}

// ---- tokens ----

/// `POST rest.fal.ai/tokens/` `{"allowed_apps": [alias..], "token_expiration": secs}` -> 201 `"simtok_.."`.
pub(crate) async fn issue_token(sim: &Sim, req: Request) -> Response {
    let Ok(body) = axum::body::to_bytes(req.into_body(), 1 << 20).await else {
        return request_error(StatusCode::BAD_REQUEST, "Could not read the request body", "bad_request");
    };
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return request_error(StatusCode::BAD_REQUEST, "The request body is not valid JSON", "bad_request");
    };
    let invalid = |detail: &str| request_error(StatusCode::UNPROCESSABLE_ENTITY, detail, "bad_request");
    let Some(obj) = value.as_object() else {
        return invalid("The body must be a JSON object {\"allowed_apps\": [\"<alias>\"], \"token_expiration\": <seconds>}");
    };
    let apps: Option<Vec<String>> =
        obj.get("allowed_apps").and_then(Value::as_array).and_then(|a| a.iter().map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string)).collect());
    let Some(apps) = apps.filter(|a| !a.is_empty()) else {
        return invalid("allowed_apps must be a non-empty array of app aliases");
    };
    let secs = match obj.get("token_expiration") {
        None | Some(Value::Null) => DEFAULT_TOKEN_SECS,
        Some(v) => match v.as_u64().filter(|s| TOKEN_SECS.contains(s)) {
            Some(s) => s,
            None => return invalid("token_expiration must be a whole number of seconds from 10 to 3600"),
        },
    };
    let token = format!("simtok_{}", uuid::Uuid::new_v4().simple());
    let mut rt = sim.rt();
    let life = rt.config.token_ttl_ms.map_or(Duration::from_secs(secs), Duration::from_millis);
    let now = Instant::now();
    // Long-expired tokens go; recently expired ones stay so their refusal can say "expired".
    rt.tokens.retain(|_, t| t.expires + Duration::from_secs(600) > now);
    rt.tokens.insert(token.clone(), Token { apps, expires: now + life });
    rt.counters.tokens_issued += 1;
    json_resp(StatusCode::CREATED, Value::String(token))
}

// ---- the socket ----

/// What an accepted upgrade does: refuse with a frame and a close, or serve an endpoint.
enum Plan {
    Reject { frame: Value, code: u16, reason: &'static str },
    Serve { app: App, max_buffering: Option<usize> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum App {
    Image,
    Echo,
}

fn x_fal_error(error: &str, reason: &str) -> Value {
    json!({ "type": "x-fal-error", "error": error, "reason": reason })
}

/// Checks in the order a gateway would: path shape, token, parameters, then the app.
fn plan(rt: &mut RtState, endpoint: Option<&str>, query: &[(String, String)]) -> (Plan, &'static str) {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let not_found = |reason: &str| (Plan::Reject { frame: x_fal_error("NOT_FOUND", reason), code: 1008, reason: "not found" }, "not_found");
    let Some(endpoint) = endpoint else {
        return not_found("The socket path must be /sim/realtime/<owner>/<alias>[/<subpath>]/realtime");
    };
    let alias = endpoint.split('/').nth(1).unwrap_or_default();
    let unauthorized = |why: String| {
        (Plan::Reject { frame: json!({ "status": "error", "error": "Unauthorized", "reason": why }), code: 1008, reason: "Unauthorized" }, "unauthorized")
    };
    let forced = rt.faults.reject_token_next > 0;
    if forced {
        rt.faults.reject_token_next -= 1;
    }
    let refusal = match param("fal_jwt_token").map(|t| rt.tokens.get(t)) {
        _ if forced => Some("token rejected (simulated fault)".to_string()),
        None => Some("missing fal_jwt_token".to_string()),
        Some(None) => Some("unknown token".to_string()),
        Some(Some(t)) if t.expires <= Instant::now() => Some("token expired".to_string()),
        Some(Some(t)) if !t.apps.iter().any(|a| a == alias) => Some(format!("token is not valid for app '{alias}'")),
        Some(Some(_)) => None,
    };
    if let Some(why) = refusal {
        return unauthorized(why);
    }
    let mut max_buffering = None;
    if let Some(v) = param("max_buffering") {
        match v.parse::<usize>() {
            Ok(n) if (1..=60).contains(&n) => max_buffering = Some(n),
            _ => {
                let frame = x_fal_error("BAD_REQUEST", "max_buffering must be a whole number from 1 to 60");
                return (Plan::Reject { frame, code: 1008, reason: "bad request" }, "bad_request");
            }
        }
    }
    match endpoint {
        "genwire/echo" => (Plan::Serve { app: App::Echo, max_buffering }, ""),
        e if ENDPOINTS.contains(&e) => (Plan::Serve { app: App::Image, max_buffering }, ""),
        e => not_found(&format!("No realtime app at {e}")),
    }
}

async fn upgrade(
    State(sim): State<Sim>,
    Path(path): Path<String>,
    RawQuery(raw_query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let seq = sim.log_arrival_as(&Method::GET, uri.to_string(), sim.describe_headers(&headers), "realtime");
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            let resp = rejection.into_response();
            sim.log_answer(seq, Some(resp.status().as_u16()), Some("not_websocket".into()));
            return resp;
        }
    };
    // `~json/` or `~msgpack/` before the endpoint picks the encoding of this connection.
    let (chosen, rest) = match path.split_once('/') {
        Some(("~json", rest)) => (Some(Encoding::Json), rest),
        Some(("~msgpack", rest)) => (Some(Encoding::Msgpack), rest),
        _ => (None, path.as_str()),
    };
    let endpoint = rest.strip_suffix("/realtime").filter(|e| is_endpoint_id(e)).map(str::to_string);
    let query: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()).into_owned().collect();
    let (plan, note, encoding) = {
        let mut rt = sim.rt();
        if rt.faults.refuse_next > 0 {
            rt.faults.refuse_next -= 1;
            rt.counters.refused += 1;
            drop(rt);
            sim.log_answer(seq, Some(503), Some("refused".into()));
            return request_error(StatusCode::SERVICE_UNAVAILABLE, "No realtime runner is available (simulated refusal)", "runner_unavailable");
        }
        let (plan, note) = plan(&mut rt, endpoint.as_deref(), &query);
        if note == "unauthorized" {
            rt.counters.unauthorized += 1;
        }
        (plan, note, chosen.unwrap_or(rt.config.encoding))
    };
    sim.log_answer(seq, Some(101), (!note.is_empty()).then(|| note.to_string()));
    let shown = endpoint.unwrap_or_else(|| path.clone());
    ws.on_upgrade(move |socket| async move {
        let conn = Conn::open(sim, shown);
        match plan {
            Plan::Reject { frame, code, reason } => reject(socket, conn, &frame, code, reason).await,
            Plan::Serve { app, max_buffering } => serve(socket, conn, app, encoding, max_buffering).await,
        }
    })
}

/// One open socket in the stats; dropping it records the close (1006 unless told otherwise).
struct Conn {
    sim: Sim,
    id: u64,
    code: Option<u16>,
    dropped: bool,
}

impl Conn {
    fn open(sim: Sim, endpoint: String) -> Conn {
        let opened_at_ms = sim.now_ms();
        let mut rt = sim.rt();
        let id = rt.next_conn;
        rt.next_conn += 1;
        rt.counters.open += 1;
        rt.counters.opened += 1;
        rt.connections.push_back(ConnRecord { id, endpoint, opened_at_ms, closed_at_ms: None, inputs: 0, results: 0, close_code: None });
        if rt.connections.len() > CONNECTIONS_KEPT {
            rt.connections.pop_front();
        }
        drop(rt);
        Conn { sim, id, code: None, dropped: false }
    }

    fn count(&self, input: bool) {
        let mut rt = self.sim.rt();
        if input {
            rt.counters.inputs += 1;
        } else {
            rt.counters.results += 1;
        }
        if let Some(r) = rt.record(self.id) {
            if input {
                r.inputs += 1;
            } else {
                r.results += 1;
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let closed_at_ms = self.sim.now_ms();
        let mut rt = self.sim.rt();
        rt.counters.open = rt.counters.open.saturating_sub(1);
        if self.dropped {
            rt.counters.dropped += 1;
        }
        let code = self.code.unwrap_or(1006);
        if let Some(r) = rt.record(self.id) {
            r.closed_at_ms = Some(closed_at_ms);
            r.close_code = Some(code);
        }
    }
}

fn text(v: &Value) -> Message {
    Message::Text(v.to_string().into())
}

/// A result or control message in the family the input asked for.
fn frame(v: &Value, binary: bool) -> Message {
    match binary.then(|| rmp_serde::to_vec_named(v)) {
        Some(Ok(bytes)) => Message::Binary(Bytes::from(bytes)),
        _ => text(v),
    }
}

/// Sends a close frame, then waits (briefly) for the client's half of the handshake.
async fn close(socket: &mut WebSocket, conn: &mut Conn, code: u16, reason: &str) {
    conn.code = Some(code);
    if socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await.is_ok() {
        let _ = tokio::time::timeout(CLOSE_WAIT, async { while let Some(Ok(_)) = socket.recv().await {} }).await;
    }
}

async fn reject(mut socket: WebSocket, mut conn: Conn, frame: &Value, code: u16, reason: &str) {
    if socket.send(text(frame)).await.is_ok() {
        close(&mut socket, &mut conn, code, reason).await;
    }
}

/// A result being worked out: the result, whether it goes as msgpack, and the seconds it took.
type Work = Pin<Box<dyn Future<Output = (Value, bool, f64)> + Send>>;

/// Works out one input's result after the configured delays.
fn work(sim: Sim, app: App, input: Value, bin_bytes: u64, binary: bool) -> Work {
    Box::pin(async move {
        let started = Instant::now();
        let delay = {
            let rt = sim.rt();
            rt.config.result_delay_ms + rt.faults.slow_ms
        };
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let result = match app {
            App::Echo => echo_result(&input, bin_bytes),
            App::Image => image_result(&sim, &input).await,
        };
        (result, binary, started.elapsed().as_secs_f64())
    })
}

/// Serves one connection: inputs are read while a result is worked out; at most
/// `max_buffering` wait (the oldest is dropped), as fal's unary realtime apps do.
async fn serve(mut socket: WebSocket, mut conn: Conn, app: App, encoding: Encoding, max_buffering: Option<usize>) {
    let (drop_after, close_next) = {
        let mut rt = conn.sim.rt();
        let once = rt.faults.drop_once_after.take();
        let close_next = match &mut rt.faults.close_code_next {
            Some(c) => {
                let taken = (c.code, c.reason.clone());
                c.count -= 1;
                if c.count == 0 {
                    rt.faults.close_code_next = None;
                }
                Some(taken)
            }
            None => None,
        };
        (once, close_next)
    };
    // `drop_after` is read live (after every result) so a test or the demo can cut a socket
    // that is already open; `drop_once_after` was taken for this connection at open.
    let drop_limit = |sim: &Sim| drop_after.or_else(|| sim.rt().faults.drop_after);
    if drop_limit(&conn.sim) == Some(0) {
        conn.dropped = true;
        return;
    }
    let mut last = tokio::time::Instant::now();
    let mut results: u32 = 0;
    let mut pending: VecDeque<(Value, u64, bool)> = VecDeque::new();
    let mut working: Option<Work> = None;
    loop {
        if working.is_none() {
            if let Some((input, bin_bytes, binary)) = pending.pop_front() {
                working = Some(work(conn.sim.clone(), app, input, bin_bytes, binary));
            }
        }
        let idle = Duration::from_millis(conn.sim.rt().config.idle_timeout_ms);
        let quiet = working.is_none() && pending.is_empty();
        tokio::select! {
            msg = socket.recv() => {
                let msg = match msg {
                    None | Some(Err(_)) => return,
                    Some(Ok(msg)) => msg,
                };
                let decoded = match (msg, encoding) {
                    (Message::Binary(b), _) => decode_msgpack(&b),
                    (Message::Text(t), Encoding::Json) => decode_json(t.as_str()),
                    (Message::Text(_), Encoding::Msgpack) => Err("text frames are not read: send each input as a msgpack binary frame".to_string()),
                    (Message::Close(f), _) => {
                        conn.code = Some(f.map_or(1005, |f| f.code));
                        let _ = tokio::time::timeout(CLOSE_WAIT, async { while let Some(Ok(_)) = socket.recv().await {} }).await;
                        return;
                    }
                    (Message::Ping(_) | Message::Pong(_), _) => continue,
                };
                last = tokio::time::Instant::now();
                conn.count(true);
                match decoded {
                    Ok((input, bin_bytes)) => {
                        let binary = match encoding {
                            Encoding::Msgpack => true,
                            Encoding::Json => input.get("_binary_reply") == Some(&Value::Bool(true)),
                        };
                        pending.push_back((input, bin_bytes, binary));
                        while max_buffering.is_some_and(|n| pending.len() > n) {
                            pending.pop_front();
                            conn.sim.rt().counters.dropped_inputs += 1;
                        }
                    }
                    Err(reason) if encoding == Encoding::Json => {
                        if socket.send(text(&x_fal_error("BAD_INPUT", &reason))).await.is_err() {
                            return;
                        }
                    }
                    Err(reason) => {
                        // fal's app server fails on an input it can't decode: INTERNAL_ERROR, then a close.
                        if socket.send(text(&x_fal_error("INTERNAL_ERROR", &reason))).await.is_ok() {
                            close(&mut socket, &mut conn, 1000, "").await;
                        }
                        return;
                    }
                }
            }
            (result, binary, secs) = async { working.as_mut().expect("checked by the guard").await }, if working.is_some() => {
                working = None;
                results += 1;
                let control_every = conn.sim.rt().faults.control_every;
                if control_every > 0 && results.is_multiple_of(control_every) && socket.send(frame(&json!({ "type": "x-fal-message", "message": "heartbeat" }), binary)).await.is_err() {
                    return;
                }
                if socket.send(frame(&result, binary)).await.is_err() {
                    return;
                }
                conn.count(false);
                // Control messages are JSON text whatever the results are (realtime.py).
                if conn.sim.rt().config.timings && socket.send(text(&json!({ "type": "x-fal-message", "action": "timings", "timing": secs }))).await.is_err() {
                    return;
                }
                last = tokio::time::Instant::now();
                if drop_limit(&conn.sim).is_some_and(|n| results >= n) {
                    conn.dropped = true;
                    return;
                }
                if let Some((code, reason)) = close_next.as_ref().filter(|_| results == 1) {
                    close(&mut socket, &mut conn, *code, reason).await;
                    return;
                }
            }
            () = tokio::time::sleep_until(last + idle), if quiet => {
                if socket.send(text(&x_fal_error("TIMEOUT", "no inputs, reconnect when needed!"))).await.is_ok() {
                    close(&mut socket, &mut conn, 1000, "").await;
                }
                return;
            }
        }
    }
}

// ---- inputs and results ----

fn decode_json(text: &str) -> Result<(Value, u64), String> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok((v, 0)),
        Ok(_) => Err("The input must be a JSON object".into()),
        Err(e) => Err(format!("The text frame is not valid JSON: {e}")),
    }
}

fn decode_msgpack(bytes: &[u8]) -> Result<(Value, u64), String> {
    let mut cursor = std::io::Cursor::new(bytes);
    let decoded = {
        let mut de = rmp_serde::Deserializer::new(&mut cursor);
        Decoded::deserialize(&mut de).map_err(|e| format!("The binary frame is not valid msgpack: {e}"))?
    };
    if cursor.position() != bytes.len() as u64 {
        return Err("The binary frame has bytes after its msgpack value".into());
    }
    match decoded.value {
        v @ Value::Object(_) => Ok((v, decoded.bin_bytes)),
        _ => Err("The input must be a msgpack map".into()),
    }
}

/// A msgpack value as JSON: each `bin` becomes the string `"<bytes:N>"` and N is added up.
struct Decoded {
    value: Value,
    bin_bytes: u64,
}

impl Decoded {
    fn plain(value: Value) -> Decoded {
        Decoded { value, bin_bytes: 0 }
    }
}

impl<'de> Deserialize<'de> for Decoded {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DecodedVisitor)
    }
}

struct DecodedVisitor;

impl<'de> Visitor<'de> for DecodedVisitor {
    type Value = Decoded;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a msgpack value without extension types")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Decoded, E> {
        Ok(Decoded::plain(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decoded, E> {
        Ok(Decoded::plain(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decoded, E> {
        Ok(Decoded::plain(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decoded, E> {
        Ok(Decoded::plain(Number::from_f64(v).map_or(Value::Null, Value::Number)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decoded, E> {
        Ok(Decoded::plain(Value::String(v.to_string())))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Decoded, E> {
        Ok(Decoded { value: Value::String(format!("<bytes:{}>", v.len())), bin_bytes: v.len() as u64 })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Decoded, E> {
        Ok(Decoded::plain(Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Decoded, E> {
        Ok(Decoded::plain(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Decoded, D::Error> {
        Decoded::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Decoded, A::Error> {
        let (mut items, mut bin_bytes) = (Vec::new(), 0);
        while let Some(item) = seq.next_element::<Decoded>()? {
            bin_bytes += item.bin_bytes;
            items.push(item.value);
        }
        Ok(Decoded { value: Value::Array(items), bin_bytes })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decoded, A::Error> {
        let (mut out, mut bin_bytes) = (Map::new(), 0);
        while let Some((key, value)) = map.next_entry::<Decoded, Decoded>()? {
            let name = match key.value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            bin_bytes += key.bin_bytes + value.bin_bytes;
            out.insert(name, value.value);
        }
        Ok(Decoded { value: Value::Object(out), bin_bytes })
    }
}

fn with_seq(input: &Value, mut out: Map<String, Value>) -> Value {
    let mut result = Map::new();
    result.insert("request_id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
    if let Some(seq) = input.get("seq") {
        result.insert("seq".into(), seq.clone());
    }
    result.append(&mut out);
    Value::Object(result)
}

fn echo_result(input: &Value, bin_bytes: u64) -> Value {
    let mut out = Map::new();
    out.insert("echo".into(), input.clone());
    out.insert("bytes".into(), Value::from(bin_bytes));
    with_seq(input, out)
}

/// A deterministic picture from `prompt`, `seed` and `strength`; a given image is ignored.
async fn image_result(sim: &Sim, input: &Value) -> Value {
    let started = Instant::now();
    let prompt = input.get("prompt").and_then(Value::as_str).unwrap_or_default();
    let hash = match input.get("strength").and_then(Value::as_f64) {
        Some(s) => images::prompt_hash(&format!("{prompt}\u{0}strength={s}")),
        None => images::prompt_hash(prompt),
    };
    let seed = input.get("seed").and_then(Value::as_u64).unwrap_or_else(|| images::seed_from_hash(hash));
    let cached = sim.rt().images.get(&(hash, seed)).cloned();
    let url = match cached {
        Some(url) => Some(url),
        None => {
            let spec = ImageSpec { width: IMAGE_SIDE, height: IMAGE_SIDE, seed, prompt_hash: hash };
            let rendered = tokio::task::spawn_blocking(move || images::render_png(&spec)).await;
            match rendered {
                Ok(Ok(png)) => {
                    let url: Arc<str> = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)).into();
                    let mut rt = sim.rt();
                    if rt.images.len() >= IMAGE_CACHE {
                        rt.images.clear();
                    }
                    rt.images.insert((hash, seed), url.clone());
                    Some(url)
                }
                _ => None,
            }
        }
    };
    let images = match url {
        Some(url) => {
            json!([{ "url": &*url, "width": IMAGE_SIDE, "height": IMAGE_SIDE, "content_type": "image/png" }])
        }
        None => json!([]),
    };
    let mut out = Map::new();
    out.insert("images".into(), images);
    out.insert("timings".into(), json!({ "inference": started.elapsed().as_secs_f64() }));
    out.insert("seed".into(), Value::from(seed));
    with_seq(input, out)
}

// ---- control API ----

async fn get_config(State(sim): State<Sim>) -> Response {
    json_resp(StatusCode::OK, json!(sim.rt().config))
}

async fn set_config(State(sim): State<Sim>, body: Bytes) -> Result<Response, Response> {
    let patch: ConfigPatch = super::control_body(&body)?;
    let mut rt = sim.rt();
    let c = &mut rt.config;
    c.idle_timeout_ms = patch.idle_timeout_ms.unwrap_or(c.idle_timeout_ms);
    c.encoding = patch.encoding.unwrap_or(c.encoding);
    c.timings = patch.timings.unwrap_or(c.timings);
    c.result_delay_ms = patch.result_delay_ms.unwrap_or(c.result_delay_ms);
    if let Some(ttl) = patch.token_ttl_ms {
        c.token_ttl_ms = ttl;
    }
    Ok(json_resp(StatusCode::OK, json!(rt.config)))
}

async fn get_faults(State(sim): State<Sim>) -> Response {
    json_resp(StatusCode::OK, json!(sim.rt().faults))
}

async fn set_faults(State(sim): State<Sim>, body: Bytes) -> Result<Response, Response> {
    let patch: FaultsPatch = super::control_body(&body)?;
    let mut rt = sim.rt();
    let mut f = rt.faults.clone();
    f.refuse_next = patch.refuse_next.unwrap_or(f.refuse_next);
    f.drop_after = patch.drop_after.or(f.drop_after);
    f.drop_once_after = patch.drop_once_after.or(f.drop_once_after);
    f.reject_token_next = patch.reject_token_next.unwrap_or(f.reject_token_next);
    f.close_code_next = patch.close_code_next.or(f.close_code_next);
    f.slow_ms = patch.slow_ms.unwrap_or(f.slow_ms);
    f.control_every = patch.control_every.unwrap_or(f.control_every);
    if let Err(e) = f.validate() {
        return Err(json_resp(StatusCode::BAD_REQUEST, json!({ "detail": format!("Invalid realtime faults: {e}") })));
    }
    rt.faults = f;
    Ok(json_resp(StatusCode::OK, json!(rt.faults)))
}

async fn clear_faults(State(sim): State<Sim>) -> Response {
    sim.rt().faults = RtFaults::default();
    json_resp(StatusCode::OK, json!({ "ok": true }))
}

async fn get_stats(State(sim): State<Sim>) -> Response {
    let rt = sim.rt();
    let mut stats = json!(rt.counters);
    stats["connections"] = json!(rt.connections);
    json_resp(StatusCode::OK, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgpack_bins_are_counted_and_replaced() {
        #[derive(Serialize)]
        struct Input<'a> {
            prompt: &'a str,
            #[serde(with = "serde_bytes_shim")]
            image: Vec<u8>,
            list: Vec<u32>,
        }
        mod serde_bytes_shim {
            pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(v)
            }
        }
        let bytes = rmp_serde::to_vec_named(&Input { prompt: "p", image: vec![7; 1000], list: vec![1, 2] }).expect("encode");
        let (value, n) = decode_msgpack(&bytes).expect("decode");
        assert_eq!(n, 1000);
        assert_eq!(value, json!({"prompt": "p", "image": "<bytes:1000>", "list": [1, 2]}));
        assert!(decode_msgpack(&rmp_serde::to_vec(&[1, 2]).expect("encode")).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0xc0);
        assert!(decode_msgpack(&trailing).is_err());
        assert!(decode_msgpack(&[0xc1]).is_err());
        assert!(decode_json("[1]").is_err() && decode_json("{").is_err());
    }

    #[test]
    fn close_codes_are_checked() {
        let bad = |code| RtFaults { close_code_next: Some(CloseNext { code, reason: String::new(), count: 1 }), ..RtFaults::default() }.validate().is_err();
        assert!(bad(1006) && bad(1005) && bad(999) && bad(5000));
        assert!(!bad(1011) && !bad(4000) && !bad(1000));
    }
}
