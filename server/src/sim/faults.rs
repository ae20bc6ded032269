//! Faults that tests attach to the next jobs with a given prompt, so client code can be
//! exercised against failures without changing how it calls the API.
//!
//! Step faults (`*_error`, `cut`, `slow_ms`) are counted per attempt of their step: with a
//! `count` of n, the first n attempts fail and later ones behave normally. Submit and run
//! attempts are counted on the registration (no job exists yet), the other steps on the job.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::{self, Example};

/// What an upstream call is, for faults and for the request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Submit,
    Status,
    Stream,
    Result,
    Cancel,
    Run,
    /// `POST fal.run/{endpoint}/stream`: output streaming.
    Output,
}

impl Step {
    pub const ALL: [Step; 7] = [Step::Submit, Step::Status, Step::Stream, Step::Result, Step::Cancel, Step::Run, Step::Output];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Status => "status",
            Step::Stream => "stream",
            Step::Result => "result",
            Step::Cancel => "cancel",
            Step::Run => "run",
            Step::Output => "output",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// SSE sends this many events, then the connection is aborted (not a clean end).
    pub stream_cut_after: Option<u32>,
    /// SSE sends this many events, then nothing at all (no keep-alives) until the client leaves.
    pub stream_stall_after: Option<u32>,
    /// The status stream answers this HTTP status with a request-error body instead of streaming.
    pub stream_status: Option<u16>,
    /// Every status poll answer is delayed by this long.
    pub status_delay_ms: Option<u64>,
    /// The first n status polls answer 503 runner_disconnected (retryable).
    pub status_fail_times: Option<u32>,
    /// Without a count the job itself fails: it completes with an error and its result
    /// answers this. With a count, only that many result fetches fail.
    pub result_error: Option<StepError>,
    /// The submit answers this; no job is created.
    pub submit_error: Option<StepError>,
    pub status_error: Option<StepError>,
    pub stream_error: Option<StepError>,
    pub cancel_error: Option<StepError>,
    /// A sync run (`fal.run`) answers this at once; no job is created.
    pub run_error: Option<StepError>,
    /// Output streaming (`fal.run/{endpoint}/stream`) answers this instead of a stream.
    pub output_error: Option<StepError>,
    /// The output stream sends this many events (or binary chunks), then the connection is aborted.
    pub output_cut_after: Option<u32>,
    /// The output stream sends this many events (or chunks), then nothing until the client leaves.
    pub output_stall_after: Option<u32>,
    /// An event stream sends this many events, then fal's error document for a runner that went
    /// away (`{"detail", "error_type": "runner_disconnected"}`) as one more event, and ends.
    pub output_error_after: Option<u32>,
    /// How that error event comes: `"document"` (default: an unnamed `data:` event) or `"named"`
    /// (`event: error`). The sources say nothing of fal's mid-stream errors: both are plausible.
    pub output_error_event: Option<OutputErrorEvent>,
    /// The job logs this many lines, spread evenly over its run (default: the config's `log_lines`).
    pub log_lines: Option<u32>,
    /// The job logs one line at each of these times (ms after processing starts; at or past
    /// the end of processing: not logged). Overrides `log_lines`.
    pub log_at_ms: Option<Vec<u64>>,
    /// This step's connection is dropped without any HTTP answer.
    pub cut: Option<Step>,
    /// This step's answer comes `slow_ms` late.
    pub slow_ms: Option<u64>,
    pub slow_step: Option<Step>,
    /// How many attempts `cut` and `slow_ms` apply to, and the default for `*_error`
    /// without their own count. Absent: every attempt.
    pub count: Option<u32>,
    pub latency_ms: Option<u64>,
    pub queue_depth: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputErrorEvent {
    Document,
    Named,
}

/// A failing answer for one step: explicit or a catalog example, with an optional count.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "StepErrorForm")]
pub struct StepError {
    pub answer: Answer,
    pub count: Option<u32>,
}

/// Either `{status, headers, body}` or `{example}`, each with an optional `count`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepErrorForm {
    example: Option<String>,
    status: Option<u16>,
    headers: Option<BTreeMap<String, String>>,
    body: Option<Value>,
    count: Option<u32>,
}

impl TryFrom<StepErrorForm> for StepError {
    type Error = String;

    fn try_from(f: StepErrorForm) -> Result<StepError, String> {
        let answer = match (f.example, f.status) {
            (Some(name), None) if f.headers.is_none() && f.body.is_none() => match catalog::get(&name) {
                Some(example) => Answer::Example(example),
                None => return Err(format!("unknown example {name:?}; GET /__sim/examples lists them")),
            },
            (Some(_), _) => return Err("an error is either {\"example\": name} or {status, headers, body}, not both".into()),
            (None, Some(status)) => Answer::Explicit(ErrorSpec { status, headers: f.headers.unwrap_or_default(), body: f.body.unwrap_or(Value::Null) }),
            (None, None) => return Err("an error needs \"status\" or \"example\"".into()),
        };
        Ok(StepError { answer, count: f.count })
    }
}

#[derive(Debug, Clone)]
pub enum Answer {
    Explicit(ErrorSpec),
    Example(&'static Example),
}

impl Answer {
    /// The upstream answer; catalog examples carry `x-fal-request-id` (the job's id if any).
    pub fn response(&self, request_id: Option<&str>) -> Response {
        let (mut resp, note) = match self {
            Answer::Explicit(spec) => (spec.to_response(), format!("error:{}", spec.status)),
            Answer::Example(e) => {
                let fresh;
                let id = match request_id {
                    Some(id) => id,
                    None => {
                        fresh = uuid::Uuid::new_v4().to_string();
                        &fresh
                    }
                };
                (e.response(id), format!("example:{}", e.name))
            }
        };
        resp.extensions_mut().insert(FaultNote(note));
        resp
    }

    /// What a status answer says about this failure: (error message, error_type if known).
    pub fn status_error(&self) -> (String, Option<String>) {
        match self {
            Answer::Explicit(spec) => summarize(spec.status, spec.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())), &spec.body),
            Answer::Example(e) => summarize(e.status, e.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())), &e.body_json().unwrap_or(Value::Null)),
        }
    }
}

/// A message and error type from any of the error shapes: `detail` string or array, `message`.
pub(crate) fn summarize<'a>(status: u16, mut headers: impl Iterator<Item = (&'a str, &'a str)>, body: &Value) -> (String, Option<String>) {
    let detail = match body.get("detail") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => items.first().and_then(|i| i.get("msg")).and_then(Value::as_str).map(str::to_owned),
        _ => body.get("message").and_then(Value::as_str).map(str::to_owned),
    };
    // A request error names its type; a model error's issues each carry one (seed 001).
    let error_type = body
        .get("error_type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| headers.find(|(k, _)| k.eq_ignore_ascii_case("x-fal-error-type")).map(|(_, v)| v.to_string()))
        .or_else(|| body.get("detail").and_then(|d| d.get(0)).and_then(|i| i.get("type")).and_then(Value::as_str).map(str::to_owned));
    (detail.unwrap_or_else(|| format!("Request failed with status {status}")), error_type)
}

/// A canned upstream answer: JSON bodies are sent as JSON, a JSON string as plain text.
#[derive(Debug, Clone)]
pub struct ErrorSpec {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

impl ErrorSpec {
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn to_response(&self) -> Response {
        let (content_type, body) = match &self.body {
            Value::String(s) => ("text/plain; charset=utf-8", s.clone()),
            other => ("application/json", other.to_string()),
        };
        let mut resp = (self.status_code(), body).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
                headers.insert(n, v);
            }
        }
        resp
    }
}

/// Marks a response shaped by a fault, for the request log.
#[derive(Debug, Clone)]
pub struct FaultNote(pub String);

/// How an attempt of a step fails.
#[derive(Debug, Clone)]
pub enum Failure {
    Cut,
    Error(StepError),
}

impl Failure {
    pub fn response(&self, request_id: Option<&str>) -> Response {
        match self {
            Failure::Cut => cut_response(),
            Failure::Error(e) => e.answer.response(request_id),
        }
    }
}

/// What the faults do to one attempt of a step.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub delay_ms: u64,
    pub failure: Option<Failure>,
    /// The failure has a count, so it does not use up the registration.
    bounded: bool,
}

fn within(attempt: u32, count: Option<u32>) -> bool {
    !matches!(count, Some(n) if attempt > n)
}

impl Faults {
    /// Checks what serde cannot: fields that only make sense together.
    pub fn validate(&self) -> Result<(), String> {
        match (self.slow_ms, self.slow_step) {
            (Some(_), None) => return Err("slow_ms needs slow_step (submit, status, stream, result, cancel, run or output)".into()),
            (None, Some(_)) => return Err("slow_step needs slow_ms".into()),
            _ => {}
        }
        if self.log_lines.is_some_and(|n| n > super::MAX_LOG_LINES) || self.log_at_ms.as_ref().is_some_and(|v| v.len() > super::MAX_LOG_LINES as usize) {
            return Err(format!("a job logs at most {} lines", super::MAX_LOG_LINES));
        }
        Ok(())
    }

    fn error_for(&self, step: Step) -> Option<&StepError> {
        match step {
            Step::Submit => self.submit_error.as_ref(),
            Step::Status => self.status_error.as_ref(),
            Step::Stream => self.stream_error.as_ref(),
            // Without a count the job fails instead (see `job_failure`).
            Step::Result => self.result_error.as_ref().filter(|e| e.count.or(self.count).is_some()),
            Step::Cancel => self.cancel_error.as_ref(),
            Step::Run => self.run_error.as_ref(),
            Step::Output => self.output_error.as_ref(),
        }
    }

    /// The result error that makes the job itself fail: one without a count.
    pub fn job_failure(&self) -> Option<&StepError> {
        self.result_error.as_ref().filter(|e| e.count.or(self.count).is_none())
    }

    /// What happens to `attempt` (1-based) of `step`: a delay, then a cut, an error or nothing.
    pub fn plan(&self, step: Step, attempt: u32) -> Plan {
        let mut plan = Plan::default();
        if self.slow_step == Some(step) && within(attempt, self.count) {
            plan.delay_ms = self.slow_ms.unwrap_or(0);
        }
        if self.cut == Some(step) && within(attempt, self.count) {
            plan.failure = Some(Failure::Cut);
            plan.bounded = self.count.is_some();
        } else if let Some(e) = self.error_for(step) {
            let count = e.count.or(self.count);
            if within(attempt, count) {
                plan.failure = Some(Failure::Error(e.clone()));
                plan.bounded = count.is_some();
            }
        }
        plan
    }
}

/// A response that never reaches the client: its body fails before anything is written,
/// so hyper drops the connection without sending the head (the browser's fetch rejects).
pub fn cut_response() -> Response {
    let cut = futures_util::stream::once(async { Err::<Bytes, _>(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "simulated connection cut")) });
    let mut resp = Response::new(Body::from_stream(cut));
    resp.extensions_mut().insert(FaultNote("cut".into()));
    resp
}

/// Body of `POST /__sim/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub prompt: String,
    pub faults: Faults,
    #[serde(default = "one")]
    pub times: u32,
    /// Failed submit/run attempts counted against bounded faults for the next job.
    #[serde(skip)]
    attempts: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Default)]
pub struct FaultRegistry {
    rules: Vec<FaultRule>,
}

impl FaultRegistry {
    pub fn add(&mut self, rule: FaultRule) {
        if rule.times > 0 {
            self.rules.push(rule);
        }
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// A submit or run attempt with this prompt: the plan for it, and the faults the job
    /// gets if it is created. The oldest rule for the prompt applies. An attempt failed by
    /// a counted fault leaves the rule as it is (so it still applies to the job made later);
    /// every other attempt uses up one of its `times`.
    pub fn admit(&mut self, prompt: &str, step: Step) -> (Plan, Faults) {
        let Some(i) = self.rules.iter().position(|r| r.prompt == prompt) else {
            return (Plan::default(), Faults::default());
        };
        let rule = &mut self.rules[i];
        let attempt = rule.attempts.saturating_add(1);
        let plan = rule.faults.plan(step, attempt);
        let faults = rule.faults.clone();
        if plan.failure.is_some() && plan.bounded {
            rule.attempts = attempt;
        } else {
            rule.attempts = 0;
            rule.times -= 1;
            if rule.times == 0 {
                self.rules.remove(i);
            }
        }
        (plan, faults)
    }
}

/// A seed-002 body for a bare status code, picking the error_type fal uses for it.
pub fn request_error_for_status(status: u16) -> Response {
    let (detail, error_type) = match status {
        400 => ("Bad request", "bad_request"),
        499 => ("Client disconnected", "client_disconnected"),
        502 => ("Runner sent an incomplete response", "runner_incomplete_response"),
        503 => ("Runner disconnected", "runner_disconnected"),
        504 => ("Request timed out", "request_timeout"),
        _ => ("Internal error", "internal_error"),
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    crate::json::request_error(code, detail, error_type)
}
