//! `POST https://fal.run/{endpoint}/stream`: output streaming, no queue.
//!
//! - `fal-ai/any-llm` answers `text/event-stream`: one `data:` event per token with the text so
//!   far, `{"output", "partial": true, "error": null}`, then a last event with the whole text
//!   and `"partial": false` (fal's any-llm marks its final event that way).
//! - `genwire/audio-stream` answers raw `audio/wav` bytes in chunks (not SSE), as fal's binary
//!   streaming endpoints do.
//!
//! Events (or chunks) are spread over the run (`latency_ms`). An invalid input answers 422 at
//! once, as `fal.run` does. Faults (per prompt, step `output`): `output_error` and `cut:
//! "output"` answer instead of streaming, `slow_ms` delays the head, `output_cut_after: n`
//! aborts the connection after n events, `output_stall_after: n` goes silent after n,
//! `output_error_after: n` sends an error event after n (as `output_error_event` says).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use super::faults::{OutputErrorEvent, Step};
use super::queue::{input_issues, read_input, unprocessable, LLM};
use super::{images, Sim};
use crate::json::json as json_resp;

/// A binary streaming endpoint: a WAV file of (simulated) speech.
pub const AUDIO: &str = "genwire/audio-stream";
/// Chunks of an audio stream.
const AUDIO_CHUNKS: usize = 8;
const SAMPLE_RATE: u32 = 16_000;

pub(crate) async fn route(sim: &Sim, req: Request, endpoint: String) -> Response {
    if req.method() != Method::POST {
        return json_resp(StatusCode::METHOD_NOT_ALLOWED, json!({ "detail": "Method Not Allowed" }));
    }
    let binary = match endpoint.as_str() {
        LLM => false,
        AUDIO => true,
        _ => return json_resp(StatusCode::NOT_FOUND, json!({ "detail": format!("Application '{endpoint}' has no streaming route") })),
    };
    let input = match read_input(req.into_body()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let issues = input_issues(&endpoint, &input);
    if !issues.is_empty() {
        return unprocessable(Value::Array(issues));
    }
    let prompt = input.get("prompt").and_then(Value::as_str).unwrap_or_default().to_string();
    let (plan, faults) = sim.lock().faults.admit(&prompt, Step::Output);
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    if let Some(failure) = plan.failure {
        return failure.response(None);
    }
    let latency = Duration::from_millis(faults.latency_ms.unwrap_or_else(|| sim.config().latency_ms));
    let pieces: Vec<Bytes> = if binary {
        let wav = audio_bytes(&prompt);
        let size = wav.len().div_ceil(AUDIO_CHUNKS).max(1);
        wav.chunks(size).map(Bytes::copy_from_slice).collect()
    } else {
        let mut events: Vec<Bytes> = llm_events(&input).into_iter().map(|e| Bytes::from(format!("data: {e}\n\n"))).collect();
        if let Some(n) = faults.output_error_after {
            events.truncate(n as usize);
            let doc = json!({ "detail": "The runner disconnected unexpectedly during processing.", "error_type": "runner_disconnected" });
            let name = if faults.output_error_event == Some(OutputErrorEvent::Named) { "event: error\n" } else { "" };
            events.push(Bytes::from(format!("{name}data: {doc}\n\n")));
        }
        events
    };
    let plan = Pacing { start: Instant::now(), latency, count: pieces.len(), cut_after: faults.output_cut_after, stall_after: faults.output_stall_after };
    let stream = futures_util::stream::unfold((pieces.into_iter().enumerate(), plan), |(mut pieces, plan)| async move {
        let (i, piece) = pieces.next()?;
        // A stall or a cut happens when the next piece would have gone out.
        tokio::time::sleep_until(tokio::time::Instant::from_std(plan.due(i))).await;
        if plan.stall_after.is_some_and(|n| i >= n as usize) {
            std::future::pending::<()>().await;
        }
        if plan.cut_after.is_some_and(|n| i >= n as usize) {
            let err = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "simulated output stream cut");
            // Ending the iterator after the error: hyper aborts the connection.
            return Some((Err(err), (Vec::new().into_iter().enumerate(), plan)));
        }
        Some((Ok::<Bytes, std::io::Error>(piece), (pieces, plan)))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    let content_type = if binary { "audio/wav" } else { "text/event-stream" };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-fal-request-id", v);
    }
    resp
}

/// When each piece of a stream goes out: the first at once, the last when the run ends.
struct Pacing {
    start: Instant,
    latency: Duration,
    count: usize,
    cut_after: Option<u32>,
    stall_after: Option<u32>,
}

impl Pacing {
    fn due(&self, i: usize) -> Instant {
        let steps = self.count.saturating_sub(1).max(1) as u32;
        self.start + self.latency.mul_f64(f64::from(i as u32) / f64::from(steps))
    }
}

/// The simulated model's whole answer to an any-llm input (also its queue and run result).
pub fn llm_text(input: &Value) -> String {
    let prompt = input.get("prompt").and_then(Value::as_str).unwrap_or_default();
    let model = input.get("model").and_then(Value::as_str).unwrap_or("google/gemini-flash-1.5");
    let words = ["Here", "is", "a", "short", "answer", "from", "the", "simulated", "model"];
    let hash = images::prompt_hash(prompt);
    let n = 4 + (hash % 5) as usize;
    format!("You asked: \"{prompt}\". {} {model}.", words[..n.min(words.len())].join(" "))
}

/// The SSE events of an any-llm stream: the text so far, token by token (a token is a word and
/// the space before it), then the whole text with `partial: false`.
fn llm_events(input: &Value) -> Vec<String> {
    let text = llm_text(input);
    let mut events = Vec::new();
    let mut end = 0;
    for (i, _) in text.match_indices(' ').chain(std::iter::once((text.len(), ""))) {
        if i > end {
            end = i;
            events.push(json!({ "output": &text[..end], "partial": true, "error": null }).to_string());
        }
    }
    events.push(json!({ "output": text, "partial": false, "error": null }).to_string());
    events
}

/// A WAV file (16 kHz, 16-bit mono PCM, a quarter second per word of `prompt`, at least one
/// second) of a tone whose pitch depends on the prompt: deterministic bytes.
pub fn audio_bytes(prompt: &str) -> Vec<u8> {
    let words = prompt.split_whitespace().count().max(4) as u32;
    let samples = SAMPLE_RATE / 4 * words;
    let hz = 220.0 + (images::prompt_hash(prompt) % 440) as f64;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for n in 0..samples {
        let t = f64::from(n) / f64::from(SAMPLE_RATE);
        let v = (t * hz * std::f64::consts::TAU).sin() * 8000.0;
        out.extend_from_slice(&(v as i16).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llm_events_grow_token_by_token_and_end_with_the_whole_text() {
        let input = json!({ "prompt": "tell me a joke" });
        let events: Vec<Value> = llm_events(&input).iter().map(|e| serde_json::from_str(e).expect("json")).collect();
        let text = llm_text(&input);
        assert!(events.len() >= 5);
        let (last, partials) = events.split_last().expect("events");
        assert_eq!(*last, json!({ "output": text, "partial": false, "error": null }));
        for w in partials.windows(2) {
            let (a, b) = (w[0]["output"].as_str().expect("a"), w[1]["output"].as_str().expect("b"));
            assert!(b.starts_with(a) && b.len() > a.len(), "{a:?} -> {b:?}");
        }
        assert!(partials.iter().all(|e| e["partial"] == true));
        assert_eq!(partials.last().expect("partial")["output"], text.as_str());
    }

    #[test]
    fn audio_is_a_consistent_wav() {
        let wav = audio_bytes("hello there");
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[4..8].try_into().expect("4")) as usize, wav.len() - 8);
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().expect("4")) as usize, wav.len() - 44);
        assert_eq!(wav, audio_bytes("hello there"));
        assert_ne!(wav, audio_bytes("another prompt"));
    }
}
