//! One output stream (`POST fal.run/{id}/stream`) as a sans-IO machine (quinn-proto style): the
//! edge opens the request (one call under the client's policy, up to the answer's head), then
//! feeds the machine the head, the body's bytes as they come and the body's end, with the time;
//! the machine says what each piece is (a partial output, a mid-stream error, the final output)
//! and when the stream has gone silent too long or run past its deadline.
//!
//! What the answer is, by its content type (protocol page, "Output streaming"; the official
//! client's `FalStream`):
//! - `text/event-stream`: each event's data is JSON, a partial output; there is no special final
//!   event, the final output is the **last** event when the body ends (LLM endpoints mark it
//!   `partial: false`). An event named `error`, or one that is nothing but fal's error document,
//!   is the stream's error (`error::flattened::stream_event_error`). The events are read by the
//!   core's one SSE parser (`proto::sse`).
//! - JSON (a proxy that overwrote `accept`, an endpoint that does not stream): one answer, read
//!   whole; the output, unless it is an error document (a proxy that answers everything 200).
//! - anything else: raw binary chunks (audio, for example), each a partial; the last is the final.

use std::collections::VecDeque;

use crate::proto::error::{flattened, Category, ErrorInfo, Kind};
use crate::proto::host::{self, Host, Shape};
use crate::proto::sse::{self, Parser};
use crate::proto::time::{Duration, Instant};

/// No byte for this long (35 s: fal's keep-alives on its status streams come every 15 s) ends the stream.
pub const DEFAULT_STALL_MS: f64 = 35_000.0;
/// An event's data may be long: a progressive image as a data URI, an LLM's whole text so far.
const MAX_LINE: usize = 32 << 20;
/// A JSON answer (not a stream) is read whole, up to this.
const MAX_JSON: usize = 32 << 20;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// The longest silence (no byte at all, from the request on) before the stream is given up.
    /// (The whole stream has no deadline of its own: the caller's signal bounds it.)
    pub stall: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self { stall: Duration::ms(DEFAULT_STALL_MS) }
    }
}

/// How the answer's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Events,
    Json,
    Binary,
}

impl Body {
    /// By the answer's `content-type`.
    pub fn of(content_type: Option<&str>) -> Self {
        let media = content_type.and_then(|t| t.split(';').next()).unwrap_or("").trim().to_ascii_lowercase();
        match content_type {
            Some(t) if sse::is_event_stream(t) => Body::Events,
            _ if media == "application/json" || (media.starts_with("application/") && media.ends_with("+json")) => Body::Json,
            _ => Body::Binary,
        }
    }
}

/// What the edge reports. `P` is a host value (a parsed event, a chunk), `E` a host error.
#[derive(Debug)]
pub enum Input<P, E> {
    /// The request was answered with a 2xx: its head.
    Opened {
        body: Body,
        request_id: Option<String>,
    },
    /// Bytes of an event stream or a JSON answer ([`Machine::wants_bytes`]).
    Bytes(Vec<u8>),
    /// A chunk of a binary answer.
    Chunk(P),
    /// The answer to [`Action::Parse`]: the data as JSON (`None`: it was not JSON), with the wall clock (ms since the epoch).
    Parsed {
        name: String,
        data: String,
        value: Option<P>,
        now_ms: f64,
    },
    /// The body ended cleanly.
    Ended,
    /// The request failed for good (its decoded error answer, a network failure, an open circuit), or the body broke off.
    Failed(E),
    Abort,
}

/// Why a stream ended without its final output.
#[derive(Debug, Clone, PartialEq)]
pub enum End<P, E> {
    /// The edge's error, as it came (see [`Input::Failed`]).
    Failed(E),
    /// A mid-stream error, or a body that breaks the protocol; `body`: the event it came in.
    Error {
        info: ErrorInfo,
        body: Option<P>,
    },
    /// No byte for this long.
    Stalled(Duration),
    Aborted,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action<P, E> {
    /// Parse `data` as JSON and feed back [`Input::Parsed`] before anything else.
    Parse { name: String, data: String },
    /// A partial output, for the caller.
    Partial(P),
    /// The end: the final output (the last partial), or why there is none. Stop reading.
    Done(Result<P, End<P, E>>),
}

#[derive(Debug)]
pub struct Machine<P, E> {
    cfg: Config,
    activity: Instant,
    body: Option<Body>,
    request_id: Option<String>,
    parser: Parser,
    json: Vec<u8>,
    last: Option<P>,
    /// Parses asked for and not answered yet: the end waits for them.
    parsing: usize,
    ended: bool,
    done: bool,
    actions: VecDeque<Action<P, E>>,
}

impl<P: Host + Clone, E> Machine<P, E> {
    /// A stream whose request goes out now.
    pub fn new(cfg: Config, now: Instant) -> Self {
        Self {
            cfg,
            activity: now,
            body: None,
            request_id: None,
            parser: Parser::new(MAX_LINE),
            json: Vec::new(),
            last: None,
            parsing: 0,
            ended: false,
            done: false,
            actions: VecDeque::new(),
        }
    }

    pub fn poll_action(&mut self) -> Option<Action<P, E>> {
        self.actions.pop_front()
    }

    /// When to call [`Machine::handle_timeout`]: the stall window's end.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.done).then(|| self.activity + self.cfg.stall)
    }

    /// Whether the body's bytes are the core's to read ([`Input::Bytes`]), else binary chunks ([`Input::Chunk`]).
    pub fn wants_bytes(&self) -> bool {
        self.body != Some(Body::Binary)
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub fn handle(&mut self, now: Instant, input: Input<P, E>) {
        if self.done {
            return;
        }
        match input {
            Input::Abort => self.finish(Err(End::Aborted)),
            Input::Failed(e) => self.finish(Err(End::Failed(e))),
            Input::Opened { body, request_id } => {
                self.activity = now;
                self.body = Some(body);
                self.request_id = request_id;
            }
            Input::Bytes(bytes) => {
                self.activity = now;
                match self.body {
                    Some(Body::Events) => self.feed(&bytes, false),
                    Some(Body::Json) if self.json.len() + bytes.len() > MAX_JSON => {
                        self.protocol(format!("The stream's JSON answer is larger than {} MiB.", MAX_JSON >> 20))
                    }
                    Some(Body::Json) => self.json.extend_from_slice(&bytes),
                    _ => {}
                }
            }
            Input::Chunk(chunk) => {
                self.activity = now;
                self.last = Some(chunk.clone());
                self.actions.push_back(Action::Partial(chunk));
            }
            Input::Parsed { name, data, value, now_ms } => self.parsed(&name, &data, value, now_ms),
            Input::Ended => {
                self.ended = true;
                match self.body {
                    Some(Body::Events) => self.feed(&[], true),
                    Some(Body::Json) => {
                        let data = String::from_utf8_lossy(&core::mem::take(&mut self.json)).into_owned();
                        self.parse("message".into(), data);
                    }
                    _ => {}
                }
                self.end();
            }
        }
    }

    /// Wakes the machine: silent for the stall window, the stream ends.
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.done && now >= self.activity + self.cfg.stall {
            self.finish(Err(End::Stalled(self.cfg.stall)));
        }
    }

    /// Events out of `bytes` (and, at the body's end, the last one even without its blank line).
    fn feed(&mut self, bytes: &[u8], last: bool) {
        let mut events = Vec::new();
        let fed = if last { self.parser.finish(&mut events) } else { self.parser.feed(bytes, &mut events) };
        for e in events {
            self.parse(e.name, e.data);
        }
        if let Err(e) = fed {
            self.protocol(format!("The output stream is not a valid event stream: {e}."));
        }
    }

    fn parse(&mut self, name: String, data: String) {
        self.parsing += 1;
        self.actions.push_back(Action::Parse { name, data });
    }

    fn parsed(&mut self, name: &str, data: &str, value: Option<P>, now_ms: f64) {
        self.parsing = self.parsing.saturating_sub(1);
        let named = name == "error";
        let error = match &value {
            None => flattened::stream_event_error(named, None, data, now_ms),
            Some(v) if named || may_be_error(v) => match host::read(v) {
                Ok(doc) => flattened::stream_event_error(named, Some(&doc), data, now_ms),
                Err(_) => None,
            },
            Some(_) => None,
        };
        if let Some(mut info) = error {
            info.request_id = info.request_id.or_else(|| self.request_id.clone());
            return self.finish(Err(End::Error { info, body: value }));
        }
        match value {
            Some(v) => {
                self.last = Some(v.clone());
                self.actions.push_back(Action::Partial(v));
            }
            None => {
                let mut preview: String = data.chars().take(80).collect();
                if preview.len() < data.len() {
                    preview.push('…');
                }
                return self.protocol(format!("An output stream event is not JSON: \"{preview}\"."));
            }
        }
        self.end();
    }

    /// Once the body ended and every event is parsed: the final output is the last partial.
    fn end(&mut self) {
        if !self.ended || self.parsing > 0 || self.done {
            return;
        }
        match self.last.clone() {
            Some(last) => self.finish(Ok(last)),
            None => self.protocol("The output stream ended without any output.".into()),
        }
    }

    fn protocol(&mut self, message: String) {
        let mut info = ErrorInfo::local(Kind::Protocol, Category::Unknown, message);
        info.request_id = self.request_id.clone();
        self.finish(Err(End::Error { info, body: None }));
    }

    fn finish(&mut self, r: Result<P, End<P, E>>) {
        if !self.done {
            self.done = true;
            self.actions.push_back(Action::Done(r));
        }
    }
}

/// Whether a parsed event could be an error document: an object of at most the error keys (read
/// without copying a partial's contents; only a candidate is read whole).
fn may_be_error<P: Host>(v: &P) -> bool {
    const KEYS: [&str; 6] = ["detail", "error_type", "request_id", "error", "errors", "message"];
    match v.shape(KEYS.len() + 1) {
        Shape::Object(fields) => !fields.is_empty() && fields.len() <= KEYS.len() && fields.iter().all(|(k, _)| KEYS.contains(&k.as_str())),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
