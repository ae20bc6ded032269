//! The queue API (`queue.fal.run`) and synchronous runs (`fal.run`).
//!
//! A job's phase and log lines are pure functions of the time since submit, its settings and
//! whether it was cancelled, so every request recomputes them and nothing runs in the
//! background. A status stream sleeps until the job's next change (`Job::next_change_after`)
//! or a cancel (`Job::changed`), so changes reach it the moment they happen.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{request::Parts, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::faults::{request_error_for_status, Faults, Step};
use super::{images, input_image, iso8601, not_found, openapi, sse, validate, PublicBase, Sim, StreamLogs, Validation};
use crate::json::{json as json_resp, request_error};

/// Queue endpoints. The realtime apps take queue jobs too: the client falls back to them when sockets fail.
pub const KNOWN_ENDPOINTS: [&str; 7] =
    ["fal-ai/flux/dev", "fal-ai/fast-sdxl", "fal-ai/flux/dev/image-to-image", "genwire/schema-zoo", "fal-ai/lcm-sd15-i2i", "fal-ai/fast-lcm-diffusion", LLM];
/// A test endpoint whose output echoes its (valid) input instead of making images.
const SCHEMA_ZOO: &str = "genwire/schema-zoo";
/// The endpoint whose `image_url` is fetched and read at submit.
const IMAGE_TO_IMAGE: &str = "fal-ai/flux/dev/image-to-image";
/// A text endpoint like fal's `fal-ai/any-llm`: `{output, partial, error}`; it also streams.
pub const LLM: &str = "fal-ai/any-llm";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Cancelled,
    TimedOut,
    ResultError,
    /// The input failed validation: the job ran, and `result` answers the 422.
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    InQueue(u32),
    InProgress,
    Done(Outcome),
}

pub struct Job {
    pub id: String,
    pub endpoint: String,
    pub input: Value,
    pub prompt: String,
    pub webhook: Option<String>,
    pub priority: String,
    pub faults: Faults,
    pub status_polls: u32,
    /// The size of the fetched input image (image-to-image), already fitted for the output.
    output_size: Option<(u32, u32)>,
    /// The issues of an invalid input, answered by `result` (422) once the job is done.
    invalid: Option<Value>,
    /// Attempts per step (indexed by `Step::index`), for counted faults.
    attempts: [u32; Step::ALL.len()],
    created: Instant,
    created_wall: SystemTime,
    latency_ms: u64,
    queue_depth: u32,
    queue_step_ms: u64,
    timeout_ms: Option<u64>,
    canceled_at_ms: Option<u64>,
    /// When each log line is written, in ms after processing starts (sorted, within the run).
    log_at: Vec<u64>,
    /// Woken when the job changes other than by the passing of time (a cancel).
    changed: Arc<Notify>,
}

/// The log schedule of a job: explicit times, or `lines` spread evenly over its run.
fn log_schedule(faults: &Faults, default_lines: u32, latency_ms: u64) -> Vec<u64> {
    if let Some(at) = &faults.log_at_ms {
        let mut at: Vec<u64> = at.iter().copied().filter(|t| *t <= latency_ms).collect();
        at.sort_unstable();
        return at;
    }
    let n = u64::from(faults.log_lines.unwrap_or(default_lines));
    (0..n).map(|k| k.saturating_mul(latency_ms) / n).collect()
}

impl Job {
    fn elapsed_ms(&self) -> u64 {
        self.created.elapsed().as_millis() as u64
    }

    fn queue_ms(&self) -> u64 {
        u64::from(self.queue_depth).saturating_mul(self.queue_step_ms)
    }

    /// When the job stops and how: natural end, timed out while still queued, or cancelled.
    /// `x-fal-request-timeout` bounds only the wait before processing starts: a running job
    /// is never cut by it.
    fn end(&self) -> (u64, Outcome) {
        let natural = self.queue_ms().saturating_add(self.latency_ms);
        let outcome = if self.invalid.is_some() {
            Outcome::Invalid
        } else if self.faults.job_failure().is_some() {
            Outcome::ResultError
        } else {
            Outcome::Ok
        };
        let mut end = (natural, outcome);
        if let Some(t) = self.timeout_ms.filter(|t| self.queue_ms() > *t) {
            end = (t, Outcome::TimedOut);
        }
        if let Some(c) = self.canceled_at_ms.filter(|c| *c < end.0) {
            end = (c, Outcome::Cancelled);
        }
        end
    }

    fn phase_at(&self, elapsed: u64) -> Phase {
        let (end, outcome) = self.end();
        if elapsed >= end {
            Phase::Done(outcome)
        } else if elapsed < self.queue_ms() {
            let passed = (elapsed / self.queue_step_ms.max(1)).min(u64::from(self.queue_depth)) as u32;
            Phase::InQueue(self.queue_depth - passed)
        } else {
            Phase::InProgress
        }
    }

    pub fn created(&self) -> Instant {
        self.created
    }

    pub fn phase(&self) -> Phase {
        self.phase_at(self.elapsed_ms())
    }

    /// When (ms after submit) the job next changes after `elapsed`: a queue position, the
    /// start of processing, a log line, the end. `None` once it is done.
    pub(crate) fn next_change_after(&self, elapsed: u64) -> Option<u64> {
        let (end, _) = self.end();
        if elapsed >= end {
            return None;
        }
        let q = self.queue_ms();
        let mut next = end;
        if elapsed < q {
            let step = self.queue_step_ms.max(1);
            next = next.min((elapsed / step).saturating_add(1).saturating_mul(step)).min(q);
        }
        if let Some(t) = self.log_at.iter().map(|at| q.saturating_add(*at)).find(|t| *t > elapsed) {
            next = next.min(t);
        }
        Some(next)
    }

    /// The instant `ms` after submit, for sleeping until a change.
    pub(crate) fn instant_at(&self, ms: u64) -> Instant {
        self.created.checked_add(Duration::from_millis(ms)).unwrap_or(self.created)
    }

    pub(crate) fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    /// How many log lines are written by `elapsed` (none after the job ended).
    pub(crate) fn log_count_at(&self, elapsed: u64) -> usize {
        let e = elapsed.min(self.end().0);
        let q = self.queue_ms();
        if e < q {
            return 0;
        }
        self.log_at.partition_point(|at| q.saturating_add(*at) <= e)
    }

    /// The lines of a polled status: those written within the last `window_ms` (fal: five minutes).
    fn window_at(&self, elapsed: u64, window_ms: u64) -> Range<usize> {
        let count = self.log_count_at(elapsed);
        let from = elapsed.saturating_sub(window_ms);
        let q = self.queue_ms();
        let first = self.log_at.partition_point(|at| q.saturating_add(*at) < from).min(count);
        first..count
    }

    pub(crate) fn log_lines(&self, range: Range<usize>) -> Value {
        let n = self.log_at.len();
        let logs: Vec<Value> = range
            .filter_map(|k| self.log_at.get(k).map(|at| (k, *at)))
            .map(|(k, at)| {
                let when = self.created_wall.checked_add(Duration::from_millis(self.queue_ms().saturating_add(at))).unwrap_or(self.created_wall);
                json!({
                    "message": format!("step {}/{}", k + 1, n),
                    "level": "INFO",
                    "source": "USER",
                    "timestamp": iso8601(when),
                })
            })
            .collect();
        Value::Array(logs)
    }

    /// Status, result and cancel URLs use only `owner/alias`, as fal's do.
    pub fn owner_alias(&self) -> String {
        owner_alias(&self.endpoint)
    }

    fn response_url(&self) -> String {
        format!("https://queue.fal.run/{}/requests/{}", self.owner_alias(), self.id)
    }

    fn urls(&self) -> Value {
        let base = self.response_url();
        json!({
            "request_id": self.id,
            "response_url": base,
            "status_url": format!("{base}/status"),
            "cancel_url": format!("{base}/cancel"),
        })
    }

    /// The status at `elapsed` with `logs` (`null` when not asked for).
    pub(crate) fn status_at(&self, phase: Phase, logs: Value) -> Value {
        let mut v = self.urls();
        match phase {
            Phase::InQueue(pos) => {
                v["status"] = json!("IN_QUEUE");
                v["queue_position"] = json!(pos);
            }
            Phase::InProgress => {
                v["status"] = json!("IN_PROGRESS");
                v["logs"] = logs;
            }
            Phase::Done(outcome) => {
                v["status"] = json!("COMPLETED");
                v["logs"] = logs;
                let ran = matches!(outcome, Outcome::Ok | Outcome::ResultError | Outcome::Invalid);
                let inference = if ran { json!(self.latency_ms as f64 / 1000.0) } else { Value::Null };
                v["metrics"] = json!({ "inference_time": inference });
                if let Some((error, error_type)) = self.failure() {
                    v["error"] = json!(error);
                    if let Some(t) = error_type {
                        v["error_type"] = json!(t);
                    }
                }
            }
        }
        v
    }

    /// A polled status: logs are the lines of the window (`logs=1`) or `null`.
    pub fn status_json(&self, with_logs: bool, window_ms: u64) -> Value {
        let elapsed = self.elapsed_ms();
        let logs = if with_logs { self.log_lines(self.window_at(elapsed, window_ms)) } else { Value::Null };
        self.status_at(self.phase_at(elapsed), logs)
    }

    /// What a COMPLETED status says about a failure: (error text, error_type if known).
    fn failure(&self) -> Option<(String, Option<String>)> {
        match self.end().1 {
            Outcome::Ok => None,
            Outcome::Cancelled => Some(("Request was cancelled".into(), Some("client_cancelled".into()))),
            Outcome::TimedOut => Some(("Request timed out before processing started".into(), Some("request_timeout".into()))),
            Outcome::ResultError => self.faults.job_failure().map(|e| e.answer.status_error()),
            Outcome::Invalid => self.invalid.as_ref().map(|issues| super::faults::summarize(422, std::iter::empty(), &json!({ "detail": issues }))),
        }
    }

    /// For `GET /__sim/jobs/<id>`.
    pub fn describe(&self) -> Value {
        let (phase, outcome) = match self.phase() {
            Phase::InQueue(_) => ("IN_QUEUE", Value::Null),
            Phase::InProgress => ("IN_PROGRESS", Value::Null),
            Phase::Done(o) => ("COMPLETED", json!(format!("{o:?}").to_ascii_lowercase())),
        };
        // Wall-clock times (ms since the epoch, sub-ms), comparable with a browser's
        // `performance.timeOrigin + performance.now()` on the same machine (the bench uses them).
        let epoch_ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let created_at_ms = epoch_ms(self.created_wall);
        let completed_at_ms = matches!(self.phase(), Phase::Done(_)).then(|| created_at_ms + self.end().0 as f64);
        json!({
            "id": self.id,
            "endpoint": self.endpoint,
            "phase": phase,
            "created_at_ms": created_at_ms,
            "completed_at_ms": completed_at_ms,
            "outcome": outcome,
            "canceled": self.canceled_at_ms.is_some(),
            "input": self.input,
            "webhook": self.webhook,
            "priority": self.priority,
            "timeout_ms": self.timeout_ms,
            "status_polls": self.status_polls,
            "log_lines": self.log_at.len(),
        })
    }

    /// The answer of `GET .../requests/{id}` once the job is done.
    fn result_response(&self, outcome: Outcome, base: &str) -> Response {
        let mut resp = match outcome {
            Outcome::Ok => json_resp(StatusCode::OK, self.output(base)),
            Outcome::Cancelled => request_error(StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST), "Request was cancelled", "client_cancelled"),
            Outcome::TimedOut => {
                // The caller's own `x-fal-request-timeout` ran out: fal marks it as the user's.
                let mut resp = request_error(StatusCode::GATEWAY_TIMEOUT, "Request timed out before processing started", "request_timeout");
                resp.headers_mut().insert("x-fal-request-timeout-type", HeaderValue::from_static("user"));
                resp
            }
            Outcome::ResultError => match self.faults.job_failure() {
                Some(e) => e.answer.response(Some(&self.id)),
                None => request_error_for_status(500),
            },
            Outcome::Invalid => unprocessable(self.invalid.clone().unwrap_or(Value::Array(Vec::new()))),
        };
        insert_request_id(&mut resp, &self.id);
        resp
    }

    fn output(&self, base: &str) -> Value {
        if self.endpoint == SCHEMA_ZOO {
            return json!({ "ok": true, "echo": self.input });
        }
        if self.endpoint == LLM {
            return json!({ "output": super::stream_output::llm_text(&self.input), "partial": false, "error": null });
        }
        let (width, height) = self.output_size.unwrap_or_else(|| images::image_size(&self.input, images::default_size(&self.endpoint)));
        let count = self.input.get("num_images").and_then(Value::as_u64).unwrap_or(1).clamp(1, 8);
        let hash = images::prompt_hash(&self.prompt);
        let seed = self.input.get("seed").and_then(Value::as_u64).unwrap_or_else(|| images::seed_from_hash(hash));
        let imgs: Vec<Value> = (0..count)
            .map(|i| {
                let spec = images::ImageSpec { width, height, seed: seed.wrapping_add(i), prompt_hash: hash };
                json!({
                    "url": format!("{base}/sim/files/{}", spec.file_name()),
                    "width": width,
                    "height": height,
                    "content_type": "image/png",
                })
            })
            .collect();
        json!({
            "images": imgs,
            "timings": { "inference": self.latency_ms as f64 / 1000.0 },
            "seed": seed,
            "has_nsfw_concepts": vec![false; count as usize],
            "prompt": self.prompt,
        })
    }
}

pub fn owner_alias(endpoint: &str) -> String {
    endpoint.split('/').take(2).collect::<Vec<_>>().join("/")
}

fn insert_request_id(resp: &mut Response, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        resp.headers_mut().insert("x-fal-request-id", v);
    }
}

fn public_base(req: &Parts) -> String {
    req.extensions.get::<PublicBase>().map(|b| b.0.clone()).unwrap_or_else(|| "http://127.0.0.1".to_string())
}

fn query_param(req: &Parts, name: &str) -> Option<String> {
    let q = req.uri.query()?;
    url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn wants_logs(req: &Parts) -> bool {
    matches!(query_param(req, "logs").as_deref(), Some("1" | "true"))
}

/// A seed-001 validation error: 422 with `detail` an array of issues, not retryable.
pub(crate) fn unprocessable(detail: Value) -> Response {
    let mut resp = json_resp(StatusCode::UNPROCESSABLE_ENTITY, json!({ "detail": detail }));
    resp.headers_mut().insert("x-fal-retryable", HeaderValue::from_static("false"));
    insert_request_id(&mut resp, &uuid::Uuid::new_v4().to_string());
    resp
}

fn request_not_found() -> Response {
    json_resp(StatusCode::NOT_FOUND, json!({ "detail": "Request not found" }))
}

fn method_not_allowed() -> Response {
    json_resp(StatusCode::METHOD_NOT_ALLOWED, json!({ "detail": "Method Not Allowed" }))
}

pub async fn route_queue(sim: &Sim, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().trim_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() >= 4 && segments[2] == "requests" {
        let owner_alias = format!("{}/{}", segments[0], segments[1]);
        let id = segments[3];
        if let Some(step) = job_step(&parts.method, &segments[4..]) {
            if let Some(resp) = step_faults(sim, &owner_alias, id, step).await {
                return resp;
            }
        }
        return match (&parts.method, &segments[4..]) {
            (&Method::GET, []) => result(sim, &parts, &owner_alias, id),
            (&Method::GET, ["status"]) => status(sim, &parts, &owner_alias, id).await,
            (&Method::GET, ["status", "stream"]) => stream(sim, &parts, &owner_alias, id),
            (&Method::PUT, ["cancel"]) => cancel(sim, &owner_alias, id),
            (_, [] | ["status"] | ["status", "stream"] | ["cancel"]) => method_not_allowed(),
            _ => not_found(),
        };
    }
    if parts.method != Method::POST {
        return method_not_allowed();
    }
    let validation = sim.protocol().validation;
    match create_job(sim, &parts, body, &path, Step::Submit, validation).await {
        Ok(job_json) => {
            let id = job_json["request_id"].as_str().unwrap_or_default().to_string();
            let mut resp = json_resp(StatusCode::OK, job_json);
            insert_request_id(&mut resp, &id);
            resp
        }
        Err(resp) => resp,
    }
}

/// `POST https://fal.run/{endpoint}`: a job without a queue, answered when it is done; with
/// `/stream` after the endpoint, output streaming (`stream_output`).
pub async fn route_sync(sim: &Sim, req: Request) -> Response {
    if let Some(endpoint) = req.uri().path().trim_matches('/').strip_suffix("/stream").map(str::to_string) {
        return super::stream_output::route(sim, req, endpoint).await;
    }
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return method_not_allowed();
    }
    let endpoint = parts.uri.path().trim_matches('/').to_string();
    // A synchronous run answers an invalid input at once (422), as fal.run does.
    let id = match create_job(sim, &parts, body, &endpoint, Step::Run, Validation::Submit).await {
        Ok(v) => v["request_id"].as_str().unwrap_or_default().to_string(),
        Err(resp) => return resp,
    };
    let wait = match sim.lock().jobs.get(&id) {
        Some(job) => job.end().0.saturating_sub(job.elapsed_ms()),
        None => return request_not_found(),
    };
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let st = sim.lock();
    let Some(job) = st.jobs.get(&id) else {
        return request_not_found();
    };
    let outcome = match job.phase() {
        Phase::Done(o) => o,
        _ => Outcome::Ok,
    };
    job.result_response(outcome, &public_base(&parts))
}

/// The step of a call under `.../requests/{id}`, from what follows the id.
pub(crate) fn job_step(method: &Method, rest: &[&str]) -> Option<Step> {
    match (method, rest) {
        (&Method::GET, []) => Some(Step::Result),
        (&Method::GET, ["status"]) => Some(Step::Status),
        (&Method::GET, ["status", "stream"]) => Some(Step::Stream),
        (&Method::PUT, ["cancel"]) => Some(Step::Cancel),
        _ => None,
    }
}

/// Counts an attempt of a job's step and applies the step faults planned for it:
/// after any delay, `Some` answer replaces the normal one. Unknown jobs get no faults.
async fn step_faults(sim: &Sim, owner_alias: &str, id: &str, step: Step) -> Option<Response> {
    let plan = with_job(sim, owner_alias, id, |job| {
        let n = &mut job.attempts[step.index()];
        *n = n.saturating_add(1);
        job.faults.plan(step, *n)
    })?;
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    plan.failure.map(|f| f.response(Some(id)))
}

/// The issues of `input` for `endpoint` (empty: valid). An endpoint whose schema is unusable
/// (SchemaError) takes the input unvalidated.
pub(crate) fn input_issues(endpoint: &str, input: &Value) -> Vec<Value> {
    match openapi::parsed(endpoint).map(|doc| validate::validate(doc, input)) {
        Some(Ok(issues)) => issues.into_iter().map(|i| json!(i)).collect(),
        _ => Vec::new(),
    }
}

/// The input of a submit, run or output stream: JSON (else a 422 `json_invalid`).
pub(crate) async fn read_input(body: Body) -> Result<Value, Response> {
    let bytes =
        axum::body::to_bytes(body, usize::MAX).await.map_err(|_| request_error(StatusCode::BAD_REQUEST, "Could not read the request body", "bad_request"))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| unprocessable(json!([{ "loc": ["body"], "msg": format!("JSON decode error: {e}"), "type": "json_invalid", "input": null }])))
}

/// Validates a submit (or sync run) and stores the job; returns the IN_QUEUE answer or an
/// error response. With `Validation::Result` (fal's way, the default for submits) an invalid
/// input makes a job that runs and whose `result` answers the 422; with `Validation::Submit`
/// it is refused at once (422, no job). The input image of image-to-image counts as input.
/// Step faults of the attempt apply after validation; a failed attempt makes no job. A slow
/// attempt makes the job at once and answers late.
async fn create_job(sim: &Sim, parts: &Parts, body: Body, endpoint: &str, step: Step, validation: Validation) -> Result<Value, Response> {
    let queued = step == Step::Submit;
    if !KNOWN_ENDPOINTS.contains(&endpoint) {
        return Err(json_resp(StatusCode::NOT_FOUND, json!({ "detail": format!("Application '{endpoint}' not found") })));
    }
    let priority = match parts.headers.get("x-fal-queue-priority").map(|v| v.to_str().unwrap_or("")) {
        None => "normal".to_string(),
        Some(p @ ("normal" | "low")) => p.to_string(),
        Some(other) => {
            return Err(request_error(StatusCode::BAD_REQUEST, &format!("Invalid x-fal-queue-priority '{other}': expected 'normal' or 'low'"), "bad_request"));
        }
    };
    let timeout_ms = match parts.headers.get("x-fal-request-timeout") {
        None => None,
        Some(v) => match v.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()).filter(|s| s.is_finite() && *s > 1.0) {
            Some(secs) => Some((secs * 1000.0) as u64),
            None => {
                return Err(request_error(
                    StatusCode::BAD_REQUEST,
                    "Invalid x-fal-request-timeout: expected a number of seconds greater than 1",
                    "bad_request",
                ));
            }
        },
    };
    let input = read_input(body).await?;
    let mut issues = input_issues(endpoint, &input);
    // The input image is fetched and read now; its problems count as invalid input.
    let mut output_size = None;
    if issues.is_empty() {
        if let Some(url) = input.get("image_url").and_then(Value::as_str).filter(|_| endpoint == IMAGE_TO_IMAGE) {
            match input_image::load(sim, &public_base(parts), url).await {
                Ok(size) => output_size = Some(input_image::output_size(size)),
                Err(problem) => issues.push(problem.issue(url)),
            }
        }
    }
    if !issues.is_empty() && validation == Validation::Submit {
        return Err(unprocessable(Value::Array(issues)));
    }
    let invalid = (!issues.is_empty()).then_some(Value::Array(issues));
    let prompt = input.get("prompt").and_then(Value::as_str).unwrap_or_default().to_string();

    let (plan, faults) = sim.lock().faults.admit(&prompt, step);
    if let Some(failure) = plan.failure {
        if plan.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
        }
        return Err(failure.response(None));
    }
    let (config, protocol) = {
        let st = sim.lock();
        (st.config, st.protocol.clone())
    };
    let latency_ms = faults.latency_ms.unwrap_or(config.latency_ms);
    let job = Job {
        id: uuid::Uuid::new_v4().to_string(),
        endpoint: endpoint.to_string(),
        input,
        prompt,
        webhook: query_param(parts, "fal_webhook"),
        priority,
        status_polls: 0,
        output_size,
        invalid,
        attempts: [0; Step::ALL.len()],
        created: Instant::now(),
        created_wall: SystemTime::now(),
        latency_ms,
        queue_depth: if queued { faults.queue_depth.unwrap_or(config.queue_depth) } else { 0 },
        queue_step_ms: config.queue_step_ms,
        timeout_ms,
        canceled_at_ms: None,
        log_at: log_schedule(&faults, protocol.log_lines, latency_ms),
        changed: Arc::new(Notify::new()),
        faults,
    };
    let mut answer = job.urls();
    if protocol.submit_status {
        answer["status"] = json!("IN_QUEUE");
    }
    answer["queue_position"] = json!(job.queue_depth);
    sim.lock().jobs.insert(job.id.clone(), job);
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    Ok(answer)
}

/// Finds a job by id, but only under the owner/alias it was submitted to.
fn with_job<T>(sim: &Sim, owner_alias: &str, id: &str, f: impl FnOnce(&mut Job) -> T) -> Option<T> {
    let mut st = sim.lock();
    st.jobs.get_mut(id).filter(|j| j.owner_alias() == owner_alias).map(f)
}

/// `GET .../status`: 202 while queued or running, 200 once completed (or always 200 with
/// `status_202: false`).
async fn status(sim: &Sim, parts: &Parts, owner_alias: &str, id: &str) -> Response {
    let Some(delay) = with_job(sim, owner_alias, id, |j| j.faults.status_delay_ms.unwrap_or(0)) else {
        return request_not_found();
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let logs = wants_logs(parts);
    let protocol = sim.protocol();
    let answer = with_job(sim, owner_alias, id, |job| {
        job.status_polls += 1;
        if job.status_polls <= job.faults.status_fail_times.unwrap_or(0) {
            let mut resp = request_error(StatusCode::SERVICE_UNAVAILABLE, "Runner disconnected", "runner_disconnected");
            resp.headers_mut().insert("x-fal-retryable", HeaderValue::from_static("true"));
            return resp;
        }
        let done = matches!(job.phase(), Phase::Done(_));
        let code = if done || !protocol.status_202 { StatusCode::OK } else { StatusCode::ACCEPTED };
        let mut resp = json_resp(code, job.status_json(logs, protocol.log_window_ms));
        insert_request_id(&mut resp, &job.id);
        resp
    });
    answer.unwrap_or_else(request_not_found)
}

fn stream(sim: &Sim, parts: &Parts, owner_alias: &str, id: &str) -> Response {
    let Some(faults) = with_job(sim, owner_alias, id, |j| j.faults.clone()) else {
        return request_not_found();
    };
    if let Some(code) = faults.stream_status {
        return request_error_for_status(code);
    }
    let logs = wants_logs(parts).then(|| sim.protocol().stream_logs);
    let mut resp = sse::status_stream(sim.clone(), id.to_string(), logs, &faults);
    insert_request_id(&mut resp, id);
    resp
}

/// What a status stream sends next: the event (if the job changed since `sent`), whether it
/// is the last, and when the job changes next (`None`: the job is gone).
pub(crate) struct StreamStep {
    pub event: Option<String>,
    pub done: bool,
    pub next_change: Option<Instant>,
    pub changed: Arc<Notify>,
}

/// What the stream has sent so far: the phase of its last event and the log lines in it.
#[derive(Default)]
pub(crate) struct Sent {
    pub phase: Option<Phase>,
    pub lines: usize,
}

/// The next event of a status stream with `logs` (`None`: `logs=0`), given what it sent.
pub(crate) fn stream_step(sim: &Sim, id: &str, logs: Option<StreamLogs>, sent: &mut Sent) -> Option<StreamStep> {
    let st = sim.lock();
    let job = st.jobs.get(id)?;
    let elapsed = job.elapsed_ms();
    let phase = job.phase_at(elapsed);
    let count = job.log_count_at(elapsed);
    let new_lines = logs.is_some() && count > sent.lines;
    let event = (sent.phase != Some(phase) || new_lines).then(|| {
        let lines = match logs {
            None => Value::Null,
            Some(StreamLogs::Delta) => job.log_lines(sent.lines.min(count)..count),
            Some(StreamLogs::Snapshot) => job.log_lines(0..count),
        };
        sent.phase = Some(phase);
        sent.lines = count;
        job.status_at(phase, lines).to_string()
    });
    let next_change = job.next_change_after(elapsed).map(|ms| job.instant_at(ms));
    Some(StreamStep { event, done: matches!(phase, Phase::Done(_)), next_change, changed: job.changed() })
}

/// `PUT .../cancel`: `CANCELLATION_REQUESTED` (queued or running: the job ends now as
/// cancelled), `ALREADY_COMPLETED`, or `NOT_FOUND`, with the configured HTTP codes.
fn cancel(sim: &Sim, owner_alias: &str, id: &str) -> Response {
    let codes = sim.protocol().cancel_codes;
    let code = |c: u16| StatusCode::from_u16(c).unwrap_or(StatusCode::OK);
    let answer = with_job(sim, owner_alias, id, |job| {
        let elapsed = job.elapsed_ms();
        if let Phase::Done(_) = job.phase_at(elapsed) {
            return json_resp(code(codes.already_completed), json!({ "status": "ALREADY_COMPLETED" }));
        }
        job.canceled_at_ms = Some(elapsed);
        job.changed.notify_waiters();
        json_resp(code(codes.requested), json!({ "status": "CANCELLATION_REQUESTED" }))
    });
    answer.unwrap_or_else(|| json_resp(code(codes.not_found), json!({ "status": "NOT_FOUND", "detail": "Request not found" })))
}

fn result(sim: &Sim, parts: &Parts, owner_alias: &str, id: &str) -> Response {
    let base = public_base(parts);
    let answer = with_job(sim, owner_alias, id, |job| match job.phase() {
        Phase::Done(outcome) => job.result_response(outcome, &base),
        _ => json_resp(StatusCode::BAD_REQUEST, json!({ "detail": "Request is still in progress" })),
    });
    answer.unwrap_or_else(request_not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(latency_ms: u64, queue_depth: u32, queue_step_ms: u64, faults: Faults) -> Job {
        Job {
            id: "j".into(),
            endpoint: "fal-ai/flux/dev".into(),
            input: json!({}),
            prompt: String::new(),
            webhook: None,
            priority: "normal".into(),
            status_polls: 0,
            output_size: None,
            invalid: None,
            attempts: [0; Step::ALL.len()],
            created: Instant::now(),
            created_wall: SystemTime::now(),
            latency_ms,
            queue_depth,
            queue_step_ms,
            timeout_ms: None,
            canceled_at_ms: None,
            log_at: log_schedule(&faults, 4, latency_ms),
            changed: Arc::new(Notify::new()),
            faults,
        }
    }

    #[test]
    fn changes_are_scheduled_at_each_position_line_and_end() {
        let j = job(400, 2, 100, Faults::default());
        let mut t = 0;
        let mut changes = Vec::new();
        while let Some(next) = j.next_change_after(t) {
            changes.push(next);
            t = next;
        }
        // Positions at 100 and 200 (processing starts with line 1), lines at 300, 400, 500, the end at 600.
        assert_eq!(changes, [100, 200, 300, 400, 500, 600]);
        assert_eq!(j.phase_at(99), Phase::InQueue(2));
        assert_eq!(j.phase_at(100), Phase::InQueue(1));
        assert_eq!(j.phase_at(200), Phase::InProgress);
        assert_eq!((j.log_count_at(199), j.log_count_at(200), j.log_count_at(599), j.log_count_at(10_000)), (0, 1, 4, 4));
    }

    #[test]
    fn explicit_log_times_leave_quiet_gaps_and_the_window_slides() {
        let faults = Faults { log_at_ms: Some(vec![30_000, 0, 39_000, 50_000]), ..Faults::default() };
        let j = job(40_000, 0, 100, faults);
        assert_eq!(j.log_at, [0, 30_000, 39_000], "sorted; past the end of the run: dropped");
        assert_eq!(j.next_change_after(0), Some(30_000));
        assert_eq!(j.next_change_after(30_000), Some(39_000));
        assert_eq!(j.next_change_after(39_000), Some(40_000));
        assert_eq!(j.next_change_after(40_000), None);
        // A 10 s window at 45 s holds the lines written from 35 s on.
        assert_eq!(j.window_at(45_000, 10_000), 2..3);
        assert_eq!(j.window_at(45_000, 300_000), 0..3);
        assert_eq!(j.window_at(100_000, 10_000), 3..3);
    }

    #[test]
    fn the_request_timeout_bounds_only_the_wait_in_the_queue() {
        let mut queued = job(100, 3, 1000, Faults::default());
        queued.timeout_ms = Some(2000);
        assert_eq!(queued.end(), (2000, Outcome::TimedOut));
        assert_eq!(queued.log_count_at(5000), 0, "never processed");
        let mut running = job(10_000, 1, 1000, Faults::default());
        running.timeout_ms = Some(2000);
        assert_eq!(running.end(), (11_000, Outcome::Ok), "processing started in time: not cut");
    }
}
