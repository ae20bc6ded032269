//! The queue API (`queue.fal.run`) and synchronous runs (`fal.run`).
//!
//! A job's phase is a pure function of the time since submit, its settings and whether
//! it was cancelled, so every request recomputes it and nothing runs in the background.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{request::Parts, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::faults::{request_error_for_status, Faults, Step};
use super::{images, input_image, iso8601, not_found, openapi, sse, validate, PublicBase, Sim};
use crate::json::{json as json_resp, request_error};

/// Queue endpoints. The realtime apps take queue jobs too: the client falls back to them when sockets fail.
pub const KNOWN_ENDPOINTS: [&str; 6] = ["fal-ai/flux/dev", "fal-ai/fast-sdxl", "fal-ai/flux/dev/image-to-image", "genwire/schema-zoo", "fal-ai/lcm-sd15-i2i", "fal-ai/fast-lcm-diffusion"];
/// A test endpoint whose output echoes its (valid) input instead of making images.
const SCHEMA_ZOO: &str = "genwire/schema-zoo";
/// The endpoint whose `image_url` is fetched and read at submit.
const IMAGE_TO_IMAGE: &str = "fal-ai/flux/dev/image-to-image";
/// Logs per job: one every latency/LOG_STEPS while IN_PROGRESS.
const LOG_STEPS: u64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Cancelled,
    TimedOut,
    ResultError,
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
    /// Attempts per step (indexed by `Step::index`), for counted faults.
    attempts: [u32; Step::ALL.len()],
    created: Instant,
    created_wall: SystemTime,
    latency_ms: u64,
    queue_depth: u32,
    queue_step_ms: u64,
    timeout_ms: Option<u64>,
    canceled_at_ms: Option<u64>,
}

impl Job {
    fn elapsed_ms(&self) -> u64 {
        self.created.elapsed().as_millis() as u64
    }

    fn queue_ms(&self) -> u64 {
        u64::from(self.queue_depth).saturating_mul(self.queue_step_ms)
    }

    /// When the job stops and how: natural end, cut short by the timeout, or by a cancel.
    fn end(&self) -> (u64, Outcome) {
        let natural = self.queue_ms().saturating_add(self.latency_ms);
        let mut end = (natural, if self.faults.job_failure().is_some() { Outcome::ResultError } else { Outcome::Ok });
        if let Some(t) = self.timeout_ms.filter(|t| natural > *t) {
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

    fn log_count_at(&self, elapsed: u64) -> u64 {
        let e = elapsed.min(self.end().0);
        let q = self.queue_ms();
        if e < q {
            return 0;
        }
        match (e - q).saturating_mul(LOG_STEPS).checked_div(self.latency_ms) {
            Some(step) => (1 + step).min(LOG_STEPS),
            None => LOG_STEPS,
        }
    }

    fn logs_json(&self, count: u64) -> Value {
        let logs: Vec<Value> = (0..count)
            .map(|k| {
                let at = self.queue_ms().saturating_add(k.saturating_mul(self.latency_ms) / LOG_STEPS);
                let when = self.created_wall.checked_add(Duration::from_millis(at)).unwrap_or(self.created_wall);
                json!({
                    "message": format!("step {}/{}", k + 1, LOG_STEPS),
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

    pub fn status_json(&self, with_logs: bool) -> Value {
        let elapsed = self.elapsed_ms();
        let phase = self.phase_at(elapsed);
        let mut v = self.urls();
        let logs = if with_logs { self.logs_json(self.log_count_at(elapsed)) } else { Value::Null };
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
                let inference = if matches!(outcome, Outcome::Ok | Outcome::ResultError) { json!(self.latency_ms as f64 / 1000.0) } else { Value::Null };
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

    fn failure(&self) -> Option<(String, Option<String>)> {
        match self.end().1 {
            Outcome::Ok => None,
            Outcome::Cancelled => Some(("Request was cancelled".into(), Some("client_cancelled".into()))),
            Outcome::TimedOut => Some(("Request timed out".into(), Some("request_timeout".into()))),
            Outcome::ResultError => self.faults.job_failure().map(|e| e.answer.status_error()),
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
        })
    }

    /// The answer of `GET .../requests/{id}` once the job is done.
    fn result_response(&self, outcome: Outcome, base: &str) -> Response {
        match outcome {
            Outcome::Ok => {
                let mut resp = json_resp(StatusCode::OK, self.output(base));
                insert_request_id(&mut resp, &self.id);
                resp
            }
            Outcome::Cancelled => request_error(StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST), "Request was cancelled", "client_cancelled"),
            Outcome::TimedOut => request_error(StatusCode::GATEWAY_TIMEOUT, "Request timed out", "request_timeout"),
            Outcome::ResultError => match self.faults.job_failure() {
                Some(e) => e.answer.response(Some(&self.id)),
                None => request_error_for_status(500),
            },
        }
    }

    fn output(&self, base: &str) -> Value {
        if self.endpoint == SCHEMA_ZOO {
            return json!({ "ok": true, "echo": self.input });
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
    match create_job(sim, &parts, body, &path, Step::Submit).await {
        Ok(job_json) => {
            let id = job_json["request_id"].as_str().unwrap_or_default().to_string();
            let mut resp = json_resp(StatusCode::OK, job_json);
            insert_request_id(&mut resp, &id);
            resp
        }
        Err(resp) => resp,
    }
}

/// `POST https://fal.run/{endpoint}`: a job without a queue, answered when it is done.
pub async fn route_sync(sim: &Sim, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return method_not_allowed();
    }
    let endpoint = parts.uri.path().trim_matches('/').to_string();
    let id = match create_job(sim, &parts, body, &endpoint, Step::Run).await {
        Ok(v) => v["request_id"].as_str().unwrap_or_default().to_string(),
        Err(resp) => return resp,
    };
    let wait = match sim.lock().jobs.get(&id) {
        Some(job) => job.end().0.saturating_sub(job.elapsed_ms()),
        None => return request_not_found(),
    };
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let st = sim.lock();
    let Some(job) = st.jobs.get(&id) else { return request_not_found() };
    let outcome = match job.phase() {
        Phase::Done(o) => o,
        _ => Outcome::Ok,
    };
    let mut resp = job.result_response(outcome, &public_base(&parts));
    insert_request_id(&mut resp, &id);
    resp
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

/// Validates a submit (or sync run) against the endpoint's OpenAPI input schema and stores
/// the job; returns the IN_QUEUE answer or an error response (422 for an invalid input). Step faults of the attempt apply after validation; a failed attempt
/// makes no job. A slow attempt makes the job at once and answers late.
async fn create_job(sim: &Sim, parts: &Parts, body: Body, endpoint: &str, step: Step) -> Result<Value, Response> {
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
                return Err(request_error(StatusCode::BAD_REQUEST, "Invalid x-fal-request-timeout: expected a number of seconds greater than 1", "bad_request"));
            }
        },
    };
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| request_error(StatusCode::BAD_REQUEST, "Could not read the request body", "bad_request"))?;
    let input: Value = serde_json::from_slice(&bytes).map_err(|e| {
        unprocessable(json!([{ "loc": ["body"], "msg": format!("JSON decode error: {e}"), "type": "json_invalid", "input": null }]))
    })?;
    // An endpoint whose schema is unusable (SchemaError) takes the input unvalidated.
    if let Some(Ok(issues)) = openapi::parsed(endpoint).map(|doc| validate::validate(doc, &input)) {
        if !issues.is_empty() {
            return Err(unprocessable(json!(issues)));
        }
    }
    // The input image is fetched and read now, so its errors answer the submit (no job).
    let output_size = match input.get("image_url").and_then(Value::as_str).filter(|_| endpoint == IMAGE_TO_IMAGE) {
        Some(url) => match input_image::load(sim, &public_base(parts), url).await {
            Ok(size) => Some(input_image::output_size(size)),
            Err(problem) => return Err(unprocessable(json!([problem.issue(url)]))),
        },
        None => None,
    };
    let prompt = input.get("prompt").and_then(Value::as_str).unwrap_or_default().to_string();

    let (plan, faults) = sim.lock().faults.admit(&prompt, step);
    if let Some(failure) = plan.failure {
        if plan.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
        }
        return Err(failure.response(None));
    }
    let config = sim.config();
    let job = Job {
        id: uuid::Uuid::new_v4().to_string(),
        endpoint: endpoint.to_string(),
        input,
        prompt,
        webhook: query_param(parts, "fal_webhook"),
        priority,
        status_polls: 0,
        output_size,
        attempts: [0; Step::ALL.len()],
        created: Instant::now(),
        created_wall: SystemTime::now(),
        latency_ms: faults.latency_ms.unwrap_or(config.latency_ms),
        queue_depth: if queued { faults.queue_depth.unwrap_or(config.queue_depth) } else { 0 },
        queue_step_ms: config.queue_step_ms,
        timeout_ms,
        canceled_at_ms: None,
        faults,
    };
    let mut answer = job.urls();
    answer["status"] = json!("IN_QUEUE");
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

async fn status(sim: &Sim, parts: &Parts, owner_alias: &str, id: &str) -> Response {
    let Some(delay) = with_job(sim, owner_alias, id, |j| j.faults.status_delay_ms.unwrap_or(0)) else {
        return request_not_found();
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let logs = wants_logs(parts);
    let answer = with_job(sim, owner_alias, id, |job| {
        job.status_polls += 1;
        if job.status_polls <= job.faults.status_fail_times.unwrap_or(0) {
            let mut resp = request_error(StatusCode::SERVICE_UNAVAILABLE, "Runner disconnected", "runner_disconnected");
            resp.headers_mut().insert("x-fal-retryable", HeaderValue::from_static("true"));
            return resp;
        }
        let mut resp = json_resp(StatusCode::OK, job.status_json(logs));
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
    sse::status_stream(sim.clone(), id.to_string(), wants_logs(parts), &faults)
}

/// Current status JSON of a job and whether it is final; `None` if the job is gone.
pub(crate) fn snapshot(sim: &Sim, id: &str, logs: bool) -> Option<(String, bool)> {
    let st = sim.lock();
    let job = st.jobs.get(id)?;
    Some((job.status_json(logs).to_string(), matches!(job.phase(), Phase::Done(_))))
}

fn cancel(sim: &Sim, owner_alias: &str, id: &str) -> Response {
    let answer = with_job(sim, owner_alias, id, |job| {
        let elapsed = job.elapsed_ms();
        if let Phase::Done(_) = job.phase_at(elapsed) {
            return json_resp(StatusCode::BAD_REQUEST, json!({ "status": "ALREADY_COMPLETED" }));
        }
        job.canceled_at_ms = Some(elapsed);
        json_resp(StatusCode::ACCEPTED, json!({ "status": "CANCELLATION_REQUESTED" }))
    });
    answer.unwrap_or_else(request_not_found)
}

fn result(sim: &Sim, parts: &Parts, owner_alias: &str, id: &str) -> Response {
    let base = public_base(parts);
    let answer = with_job(sim, owner_alias, id, |job| match job.phase() {
        Phase::Done(outcome) => job.result_response(outcome, &base),
        _ => json_resp(StatusCode::BAD_REQUEST, json!({ "detail": "Request is still in progress" })),
    });
    answer.unwrap_or_else(request_not_found)
}
