//! A simulated fal upstream, reached in-process by the proxy when no FAL_KEY is set.
//!
//! It dispatches on the host of the absolute target URL, like the real fal hosts would.
//! Job state is computed from elapsed time on each request, so no task runs per job.

pub mod catalog;
pub mod faults;
pub mod images;
pub mod input_image;
pub mod openapi;
pub mod queue;
pub mod realtime;
mod sse;
pub mod storage;
mod stream_output;
pub mod validate;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::json::json as json_resp;
use faults::{FaultNote, FaultRegistry, FaultRule, Step};
use queue::Job;

/// Timeline settings; jobs copy them at submit time, keep-alive is read live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimConfig {
    pub latency_ms: u64,
    pub queue_depth: u32,
    pub queue_step_ms: u64,
    pub keepalive_ms: u64,
}

impl Default for SimConfig {
    /// fal sends a keep-alive comment on status streams every 15 s (docs, status-stream page).
    fn default() -> Self {
        SimConfig { latency_ms: 1500, queue_depth: 2, queue_step_ms: 400, keepalive_ms: 15_000 }
    }
}

/// Where the wire protocol leaves room, which variant the simulator speaks. The defaults are
/// fal's documented behaviour (../shared/reference/fal-protocol.md); every other value is a
/// variant some source shows or leaves possible, so clients can be tested against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocol {
    /// Logs in status-stream events: only the new lines of each event (`delta`, fal's) or
    /// every line so far (`snapshot`).
    pub stream_logs: StreamLogs,
    /// Polled statuses with `logs=1` hold the lines of this last stretch of the job (fal: 5 min).
    pub log_window_ms: u64,
    /// Log lines of a job, spread over its run, unless its faults say otherwise.
    pub log_lines: u32,
    /// Status polls answer 202 while queued or running and 200 once completed (fal), or
    /// always 200.
    pub status_202: bool,
    /// Invalid input is refused by `result` after the job ran (`result`, fal's), or at `submit`.
    pub validation: Validation,
    /// The submit answer has `status: "IN_QUEUE"`; `false` leaves it out (an older docs example).
    pub submit_status: bool,
    /// HTTP codes of the cancel answers (unconfirmed by the sources).
    pub cancel_codes: CancelCodes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamLogs {
    Delta,
    Snapshot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    Result,
    Submit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelCodes {
    /// `CANCELLATION_REQUESTED`.
    pub requested: u16,
    /// `ALREADY_COMPLETED`.
    pub already_completed: u16,
    /// `NOT_FOUND`.
    pub not_found: u16,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            stream_logs: StreamLogs::Delta,
            log_window_ms: 300_000,
            log_lines: 4,
            status_202: true,
            validation: Validation::Result,
            submit_status: true,
            cancel_codes: CancelCodes { requested: 202, already_completed: 400, not_found: 404 },
        }
    }
}

/// Partial update accepted by `POST /__sim/config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    latency_ms: Option<u64>,
    queue_depth: Option<u32>,
    queue_step_ms: Option<u64>,
    keepalive_ms: Option<u64>,
    stream_logs: Option<StreamLogs>,
    log_window_ms: Option<u64>,
    log_lines: Option<u32>,
    status_202: Option<bool>,
    validation: Option<Validation>,
    submit_status: Option<bool>,
    cancel_codes: Option<CancelCodes>,
}

impl ConfigPatch {
    fn check(&self) -> Result<(), String> {
        if let Some(c) = &self.cancel_codes {
            for code in [c.requested, c.already_completed, c.not_found] {
                if !(200..=599).contains(&code) {
                    return Err(format!("cancel_codes: {code} is not an HTTP status from 200 to 599"));
                }
            }
        }
        if self.log_lines.is_some_and(|n| n > MAX_LOG_LINES) {
            return Err(format!("log_lines: at most {MAX_LOG_LINES}"));
        }
        Ok(())
    }
}

/// The most log lines a job may have.
pub const MAX_LOG_LINES: u32 = 10_000;

/// `http://host:port` of the proxy request, so image URLs load in the page that asked.
#[derive(Debug, Clone)]
pub struct PublicBase(pub String);

const LOG_CAP: usize = 10_000;

#[derive(Clone)]
pub struct Sim(Arc<Inner>);

struct Inner {
    key: String,
    /// Origin of the log's `t_ms`.
    started: Instant,
    state: Mutex<SimState>,
    /// Tokens, sockets and their faults; its own lock, so sockets never wait on the job table.
    realtime: Mutex<realtime::RtState>,
    /// Uploads and stored files; its own lock, so big copies never hold up the job table.
    storage: Mutex<storage::StorageState>,
}

pub(crate) struct SimState {
    /// The timeline the server started with (`DELETE /__sim/config` restores it).
    initial: SimConfig,
    pub config: SimConfig,
    pub protocol: Protocol,
    pub jobs: HashMap<String, Job>,
    pub faults: FaultRegistry,
    log: VecDeque<Value>,
    next_seq: u64,
}

impl Sim {
    pub fn new(config: SimConfig, key: String) -> Sim {
        Sim(Arc::new(Inner {
            key,
            started: Instant::now(),
            state: Mutex::new(SimState {
                initial: config,
                config,
                protocol: Protocol::default(),
                jobs: HashMap::new(),
                faults: FaultRegistry::default(),
                log: VecDeque::new(),
                next_seq: 0,
            }),
            realtime: Mutex::new(realtime::RtState::default()),
            storage: Mutex::new(storage::StorageState::default()),
        }))
    }

    /// A panic elsewhere must not wedge the simulator, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn rt(&self) -> MutexGuard<'_, realtime::RtState> {
        self.0.realtime.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn storage(&self) -> MutexGuard<'_, storage::StorageState> {
        self.0.storage.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn config(&self) -> SimConfig {
        self.lock().config
    }

    pub fn protocol(&self) -> Protocol {
        self.lock().protocol.clone()
    }

    fn now_ms(&self) -> f64 {
        self.0.started.elapsed().as_secs_f64() * 1000.0
    }

    /// Logs a call as it arrives (so `seq` and `t_ms` grow together); `log_answer` completes it.
    fn log_arrival(&self, method: &Method, url: String, headers: Value, step: Option<Step>) -> u64 {
        self.log_arrival_as(method, url, headers, step.map_or("other", Step::as_str))
    }

    fn log_arrival_as(&self, method: &Method, url: String, headers: Value, step: &str) -> u64 {
        let mut st = self.lock();
        let seq = st.next_seq;
        st.next_seq += 1;
        let t_ms = self.now_ms();
        st.log.push_back(json!({
            "seq": seq, "t_ms": t_ms, "step": step, "method": method.as_str(), "url": url, "headers": headers,
            "status": null, "fault": null, "answer_ms": null,
        }));
        if st.log.len() > LOG_CAP {
            st.log.pop_front();
        }
        seq
    }

    /// Status `None` means the connection was cut without an answer.
    fn log_answer(&self, seq: u64, status: Option<u16>, fault: Option<String>) {
        let t_ms = self.now_ms();
        let mut st = self.lock();
        let first = st.log.front().and_then(|e| e["seq"].as_u64()).unwrap_or(0);
        if let Some(entry) = seq.checked_sub(first).and_then(|i| st.log.get_mut(i as usize)) {
            entry["status"] = json!(status);
            entry["fault"] = json!(fault);
            entry["answer_ms"] = json!(t_ms);
        }
    }

    /// Request headers as the simulator saw them, with the key replaced by a verdict.
    fn describe_headers(&self, headers: &HeaderMap) -> Value {
        let mut out = Map::new();
        for name in headers.keys() {
            let values: Vec<String> = headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
            let shown = if name == header::AUTHORIZATION {
                if self.authorized(headers) {
                    "<redacted:present>".to_string()
                } else {
                    "<redacted:wrong>".to_string()
                }
            } else {
                values.join(", ")
            };
            out.insert(name.as_str().to_string(), Value::String(shown));
        }
        Value::Object(out)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let expected = format!("Key {}", self.0.key);
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        matches!((values.next(), values.next()), (Some(v), None) if v.as_bytes() == expected.as_bytes())
    }
}

/// The upstream as the proxy sees it: one handler that dispatches on host and path.
pub fn upstream_router(sim: Sim) -> Router {
    Router::new().fallback(dispatch).with_state(sim)
}

async fn dispatch(State(sim): State<Sim>, req: Request) -> Response {
    let method = req.method().clone();
    let step = step_of(&method, req.uri());
    let seq = sim.log_arrival(&method, req.uri().to_string(), sim.describe_headers(req.headers()), step);
    let resp = if sim.authorized(req.headers()) {
        route(&sim, req).await
    } else {
        json_resp(StatusCode::UNAUTHORIZED, json!({ "detail": "No user found for Key ID and secret" }))
    };
    let fault = resp.extensions().get::<FaultNote>().map(|n| n.0.clone());
    let status = if fault.as_deref() == Some("cut") { None } else { Some(resp.status().as_u16()) };
    sim.log_answer(seq, status, fault);
    resp
}

/// Which step of the fal API an upstream call is; `None` for anything else.
fn step_of(method: &Method, uri: &Uri) -> Option<Step> {
    let host = uri.host().unwrap_or("").to_ascii_lowercase();
    let path = uri.path().trim_matches('/');
    let segments: Vec<&str> = path.split('/').collect();
    match host.as_str() {
        "queue.fal.run" if segments.len() >= 4 && segments[2] == "requests" => queue::job_step(method, &segments[4..]),
        "queue.fal.run" if method == Method::POST => Some(Step::Submit),
        "fal.run" if method == Method::POST && path.ends_with("/stream") => Some(Step::Output),
        "fal.run" if method == Method::POST => Some(Step::Run),
        _ => None,
    }
}

async fn route(sim: &Sim, req: Request) -> Response {
    let host = req.uri().host().unwrap_or("").to_ascii_lowercase();
    match host.as_str() {
        "queue.fal.run" => queue::route_queue(sim, req).await,
        "fal.run" => queue::route_sync(sim, req).await,
        "fal.ai" => openapi::route(req),
        "rest.fal.ai" if req.method() == Method::POST && req.uri().path() == "/tokens/" => realtime::issue_token(sim, req).await,
        "rest.fal.ai" if req.uri().path().starts_with("/storage/upload/") => storage::route_rest(sim, req).await,
        _ => not_found(),
    }
}

pub(crate) fn not_found() -> Response {
    json_resp(StatusCode::NOT_FOUND, json!({ "detail": "Not Found" }))
}

/// Test-only controls and generated files, served directly (never through the proxy).
pub fn local_router(sim: Sim) -> Router {
    Router::new()
        .route("/__sim/config", get(get_config).post(set_config).delete(reset_config))
        .route("/__sim/faults", axum::routing::post(add_faults).delete(clear_faults))
        .route("/__sim/log", get(get_log))
        .route("/__sim/examples", get(get_examples))
        .route("/__sim/jobs", get(list_jobs))
        .route("/__sim/jobs/{id}", get(get_job))
        .route("/__sim/now", get(get_now))
        .merge(realtime::local_routes())
        .merge(storage::local_routes())
        .with_state(sim)
        .route("/sim/files/{name}", get(images::serve_file))
}

/// The timeline settings and the protocol variants, as one object.
fn config_json(st: &SimState) -> Value {
    let mut v = json!(st.config);
    if let (Some(out), Value::Object(p)) = (v.as_object_mut(), json!(st.protocol)) {
        out.extend(p);
    }
    v
}

async fn get_config(State(sim): State<Sim>) -> Response {
    json_resp(StatusCode::OK, config_json(&sim.lock()))
}

async fn set_config(State(sim): State<Sim>, body: axum::body::Bytes) -> Result<Response, Response> {
    let patch: ConfigPatch = control_body(&body)?;
    if let Err(e) = patch.check() {
        return Err(json_resp(StatusCode::BAD_REQUEST, json!({ "detail": format!("Invalid config: {e}") })));
    }
    let mut st = sim.lock();
    let c = &mut st.config;
    c.latency_ms = patch.latency_ms.unwrap_or(c.latency_ms);
    c.queue_depth = patch.queue_depth.unwrap_or(c.queue_depth);
    c.queue_step_ms = patch.queue_step_ms.unwrap_or(c.queue_step_ms);
    c.keepalive_ms = patch.keepalive_ms.unwrap_or(c.keepalive_ms);
    let p = &mut st.protocol;
    p.stream_logs = patch.stream_logs.unwrap_or(p.stream_logs);
    p.log_window_ms = patch.log_window_ms.unwrap_or(p.log_window_ms);
    p.log_lines = patch.log_lines.unwrap_or(p.log_lines);
    p.status_202 = patch.status_202.unwrap_or(p.status_202);
    p.validation = patch.validation.unwrap_or(p.validation);
    p.submit_status = patch.submit_status.unwrap_or(p.submit_status);
    p.cancel_codes = patch.cancel_codes.unwrap_or(p.cancel_codes);
    Ok(json_resp(StatusCode::OK, config_json(&st)))
}

/// Back to the timeline the server started with and fal's protocol (the defaults).
async fn reset_config(State(sim): State<Sim>) -> Response {
    let mut st = sim.lock();
    st.config = st.initial;
    st.protocol = Protocol::default();
    json_resp(StatusCode::OK, config_json(&st))
}

async fn add_faults(State(sim): State<Sim>, body: axum::body::Bytes) -> Result<Response, Response> {
    let rule: FaultRule = control_body(&body)?;
    if let Err(e) = rule.faults.validate() {
        return Err(json_resp(StatusCode::BAD_REQUEST, json!({ "detail": format!("Invalid faults: {e}") })));
    }
    sim.lock().faults.add(rule);
    Ok(json_resp(StatusCode::OK, json!({ "ok": true })))
}

async fn clear_faults(State(sim): State<Sim>) -> Response {
    sim.lock().faults.clear();
    json_resp(StatusCode::OK, json!({ "ok": true }))
}

#[derive(Deserialize)]
struct LogQuery {
    since: Option<u64>,
}

async fn get_log(State(sim): State<Sim>, Query(query): Query<LogQuery>) -> Response {
    let since = query.since.unwrap_or(0);
    let st = sim.lock();
    let entries: Vec<Value> = st.log.iter().filter(|e| e["seq"].as_u64().is_some_and(|s| s >= since)).cloned().collect();
    json_resp(StatusCode::OK, json!({ "next": st.next_seq, "entries": entries }))
}

/// The error catalog, with time-dependent values as they would be served now.
async fn get_examples() -> Response {
    let now = SystemTime::now();
    let list: Vec<Value> = catalog::catalog().examples.iter().map(|e| e.describe(now)).collect();
    json_resp(StatusCode::OK, Value::Array(list))
}

#[derive(Deserialize)]
struct JobsQuery {
    prompt: Option<String>,
}

/// Every job (oldest first), or only those whose input prompt is `prompt`.
async fn list_jobs(State(sim): State<Sim>, Query(query): Query<JobsQuery>) -> Response {
    let st = sim.lock();
    let mut jobs: Vec<&Job> = st.jobs.values().filter(|j| query.prompt.is_none() || query.prompt.as_deref() == Some(j.prompt.as_str())).collect();
    jobs.sort_by_key(|j| j.created());
    json_resp(StatusCode::OK, Value::Array(jobs.into_iter().map(Job::describe).collect()))
}

async fn get_job(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    let st = sim.lock();
    match st.jobs.get(&id) {
        Some(job) => json_resp(StatusCode::OK, job.describe()),
        None => json_resp(StatusCode::NOT_FOUND, json!({ "detail": "Request not found" })),
    }
}

/// The simulator's wall clock (ms since the epoch, sub-ms), the clock of `/__sim/jobs` times: a
/// page that reads it around a round trip learns the offset to its own clock (the bench does).
async fn get_now() -> Response {
    let epoch_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    json_resp(StatusCode::OK, json!({ "epoch_ms": epoch_ms }))
}

/// The JSON body of a `/__sim` control call, or the 400 that answers a bad one.
/// (The handler returns that 400 with `?`; its size is no concern on this cold path.)
#[allow(clippy::result_large_err)]
pub(crate) fn control_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| json_resp(StatusCode::BAD_REQUEST, json!({ "detail": format!("Invalid JSON body: {e}") })))
}

/// Milliseconds since the epoch as an ISO 8601 UTC timestamp (no date crate needed).
pub(crate) fn iso8601(t: SystemTime) -> String {
    let ms = t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01: Howard Hinnant's civil_from_days.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(UNIX_EPOCH + Duration::from_millis(1_709_210_096_789)), "2024-02-29T12:34:56.789Z");
    }
}
