//! Every option of every call, read and checked: types, ranges, clamps and defaults, with a
//! typed error that names the option. The edge reads the plain-data options of a JS object
//! into a [`Value`] (functions, signals and inputs stay with it) and hands them here.
//! The client's own options are in `proto::config`.

use crate::proto::endpoint::{EndpointId, RequestId};
use crate::proto::realtime::connection::Config as RealtimeConfig;
use crate::proto::subscribe::{Config as SubscribeConfig, Mode};
use crate::proto::time::Duration;
use crate::proto::upload::DEFAULT_MULTIPART_THRESHOLD;
use crate::proto::value::Value;

/// A call's option that can't be used; the message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError(pub String);

impl core::fmt::Display for OptionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

type R<T> = Result<T, OptionError>;

pub fn wrong(key: &str, expected: &str) -> OptionError {
    OptionError(format!("option '{key}' must be {expected}"))
}

/// The fields of an options object; anything else reads as no options.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a>(&'a [(String, Value)]);

impl<'a> Reader<'a> {
    pub(crate) fn of(v: &'a Value) -> Self {
        match v {
            Value::Obj(m) => Reader(m),
            _ => Reader(&[]),
        }
    }

    /// A field that is there and not null.
    pub(crate) fn get(self, key: &str) -> Option<&'a Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    pub(crate) fn obj(self, key: &str) -> Reader<'a> {
        self.get(key).map_or(Reader(&[]), Reader::of)
    }

    pub(crate) fn str(self, key: &str) -> R<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong(key, "a string")),
        }
    }

    /// A finite number of at least `min`.
    pub(crate) fn num(self, key: &str, min: f64) -> R<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Num(n)) if n.is_finite() && *n >= min => Ok(Some(*n)),
            Some(_) => Err(wrong(key, &format!("a number of at least {}", crate::proto::num::fmt(min)))),
        }
    }

    pub(crate) fn ms(self, key: &str, min: f64) -> R<Option<Duration>> {
        Ok(self.num(key, min)?.map(Duration::ms))
    }

    pub(crate) fn bool(self, key: &str) -> R<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong(key, "true or false")),
        }
    }
}

/// What a submit sends besides the input: webhook, priority, start timeout, runner hint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubmitExtras {
    pub webhook: Option<String>,
    pub headers: Vec<(&'static str, String)>,
}

pub fn submit(v: &Value) -> R<SubmitExtras> {
    let o = Reader::of(v);
    let mut headers = Vec::new();
    if let Some(p) = o.str("priority")? {
        if p != "normal" && p != "low" {
            return Err(OptionError("option 'priority' must be 'normal' or 'low'".into()));
        }
        headers.push(("x-fal-queue-priority", p));
    }
    // Seconds the job may wait before it starts; fal wants more than 1 and takes the value as given.
    if let Some(t) = o.num("startTimeout", 0.0)? {
        if t <= 1.0 {
            return Err(OptionError("option 'startTimeout' must be a number of seconds greater than 1".into()));
        }
        headers.push(("x-fal-request-timeout", crate::proto::num::fmt(t)));
    }
    if let Some(h) = o.str("hint")? {
        headers.push(("x-fal-runner-hint", h));
    }
    Ok(SubmitExtras { webhook: o.str("webhookUrl")?, headers })
}

/// `validate`: this call's say over the client's `validation`.
pub fn validate(v: &Value) -> R<Option<bool>> {
    Reader::of(v).bool("validate")
}

#[derive(Debug, Clone)]
pub struct Subscribe {
    pub machine: SubscribeConfig,
    pub logs: bool,
    pub submit: SubmitExtras,
}

impl Subscribe {
    /// A realtime input sent through the queue (the polling fallback): polled, every 100 ms.
    pub fn fallback() -> Self {
        let machine = SubscribeConfig { mode: Mode::Polling, poll_interval: Duration::ms(100.0), ..SubscribeConfig::default() };
        Self { machine, logs: false, submit: SubmitExtras::default() }
    }
}

pub fn subscribe(v: &Value) -> R<Subscribe> {
    let machine = follow_config(v, true)?;
    Ok(Subscribe { machine, logs: logs(v)?, submit: submit(v)? })
}

/// How a job is followed: mode, intervals, deadline, and whether an abort cancels it upstream
/// (`cancelOnAbort`, by default only for a job the call submitted itself).
fn follow_config(v: &Value, owned: bool) -> R<SubscribeConfig> {
    let o = Reader::of(v);
    let mut machine = SubscribeConfig::default();
    match o.str("mode")?.as_deref() {
        None | Some("streaming") => machine.mode = Mode::Streaming,
        Some("polling") => machine.mode = Mode::Polling,
        Some(other) => return Err(OptionError(format!("option 'mode' must be 'streaming' or 'polling', not '{other}'"))),
    }
    if let Some(d) = o.ms("pollInterval", 10.0)? {
        machine.poll_interval = d;
    }
    if let Some(d) = o.ms("streamStallTimeout", 10.0)? {
        machine.stall = d;
    }
    machine.timeout = o.ms("timeout", 0.0)?;
    machine.cancel_on_abort = o.bool("cancelOnAbort")?.unwrap_or(owned);
    Ok(machine)
}

/// `queue.subscribeToStatus` (`fetch_result`) and `queue.streamStatus`: a job followed by its id.
#[derive(Debug, Clone)]
pub struct Follow {
    pub machine: SubscribeConfig,
    pub logs: bool,
    pub request_id: RequestId,
}

pub fn follow(v: &Value, fetch_result: bool) -> R<Follow> {
    let o = Reader::of(v);
    // What only a submit sends: said, not silently dropped.
    for key in ["input", "webhookUrl", "priority", "hint", "startTimeout"] {
        if o.get(key).is_some() {
            return Err(OptionError(format!("option '{key}' is for submitting a job; this call follows one already submitted (its 'requestId')")));
        }
    }
    let mut machine = follow_config(v, false)?;
    machine.fetch_result = fetch_result;
    Ok(Follow { machine, logs: logs(v)?, request_id: request_id(v)? })
}

pub fn logs(v: &Value) -> R<bool> {
    Ok(Reader::of(v).bool("logs")?.unwrap_or(false))
}

pub fn request_id(v: &Value) -> R<RequestId> {
    let raw = Reader::of(v).str("requestId")?.ok_or_else(|| OptionError("option 'requestId' is required".into()))?;
    RequestId::parse(&raw).ok_or_else(|| OptionError(format!("'{raw}' is not a valid request id")))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub multipart_threshold: u64,
}

pub fn upload(v: &Value) -> R<Upload> {
    let o = Reader::of(v);
    Ok(Upload {
        content_type: o.str("contentType")?,
        file_name: o.str("fileName")?,
        multipart_threshold: o.num("multipartThreshold", 0.0)?.map_or(DEFAULT_MULTIPART_THRESHOLD, |t| t as u64),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    MsgPack,
    Json,
    /// The app's `{encode, decode}` (the edge holds the functions).
    Custom,
}

#[derive(Debug, Clone)]
pub struct Realtime {
    pub machine: RealtimeConfig,
    pub codec: Codec,
    /// Pending inputs fal keeps for the socket (`max_buffering`), 1..=60.
    pub max_buffering: Option<u32>,
    /// `owner/alias[/path]/realtime`: the socket's path, and what a `tokenProvider` is given.
    pub app_path: String,
    pub key: Option<String>,
    /// The socket's URL without its query: the client's `realtimeUrl`, then `app_path`.
    pub base_url: String,
}

impl Realtime {
    /// The socket's URL with this token (and `max_buffering`), as fal's own client builds it.
    pub fn socket_url(&self, token: &str) -> String {
        let mut url = self.base_url.clone();
        url.push_str("?fal_jwt_token=");
        crate::proto::endpoint::percent_encode_into(&mut url, token);
        if let Some(m) = self.max_buffering {
            url.push_str("&max_buffering=");
            crate::proto::num::write_u64(&mut url, u64::from(m));
        }
        url
    }
}

/// `custom_codec`: the app passed `codec` as an object (its functions are the edge's to check).
/// `realtime_url`: the client's, where sockets go.
pub fn realtime(v: &Value, ep: &EndpointId, custom_codec: bool, realtime_url: &str) -> R<Realtime> {
    let o = Reader::of(v);
    let mut m = RealtimeConfig::default();
    if let Some(d) = o.ms("throttleInterval", 0.0)? {
        m.throttle = d;
    }
    let rc = o.obj("reconnect");
    if let Some(d) = rc.ms("baseDelayMs", 0.0)? {
        m.reconnect.base = d;
    }
    if let Some(d) = rc.ms("maxDelayMs", 0.0)? {
        m.reconnect.max = d;
    }
    if let Some(d) = rc.ms("minUptimeMs", 0.0)? {
        m.reconnect.min_uptime = d;
    }
    if let Some(n) = rc.num("maxAttempts", 1.0)? {
        m.reconnect.max_attempts = Some(n as u32);
    }
    if let Some(n) = rc.num("fallbackAfter", 1.0)? {
        m.fallback_after = n as u32;
    }
    if let Some(d) = rc.ms("fallbackRetryMs", 0.0)? {
        m.fallback_retry = d;
    }
    if let Some(n) = o.num("bufferSize", 1.0)? {
        m.buffer = n as usize;
    }
    let codec = match o.str("codec") {
        _ if custom_codec => Codec::Custom,
        Ok(None) => Codec::MsgPack,
        Ok(Some(c)) if c == "msgpack" => Codec::MsgPack,
        Ok(Some(c)) if c == "json" => Codec::Json,
        Ok(Some(other)) => return Err(OptionError(format!("option 'codec' must be 'msgpack', 'json' or {{encode, decode}}, not '{other}'"))),
        Err(_) => return Err(OptionError("option 'codec' must be 'msgpack', 'json' or {encode, decode}".into())),
    };
    // fal takes 1..=60 pending inputs; outside that is the caller's mistake, as in the official client.
    let max_buffering = match o.num("maxBuffering", 1.0) {
        Ok(Some(n)) if n <= 60.0 && n.fract() == 0.0 => Some(n as u32),
        Ok(None) => None,
        _ => return Err(OptionError("option 'maxBuffering' must be a whole number from 1 to 60".into())),
    };
    let app_path = ep.realtime_path(o.str("path")?.as_deref()).map_err(|e| OptionError(format!("option 'path': {e}")))?;
    let mut base_url = String::from(realtime_url.trim_end_matches('/'));
    base_url.push('/');
    base_url.push_str(&app_path);
    Ok(Realtime { machine: m, codec, max_buffering, app_path, key: o.str("connectionKey")?, base_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::from_deserializer(&mut serde_json::Deserializer::from_str(json)).unwrap()
    }
    fn err<T: core::fmt::Debug>(r: R<T>) -> String {
        r.unwrap_err().0
    }

    #[test]
    fn subscribe_options_with_their_defaults_and_ranges() {
        let s = subscribe(&v("{}")).unwrap();
        assert_eq!(
            (s.machine.mode, s.machine.poll_interval, s.machine.stall, s.machine.timeout, s.logs),
            (Mode::Streaming, Duration::ms(500.0), Duration::ms(35_000.0), None, false)
        );
        let s = subscribe(&v(
            r#"{"mode":"polling","pollInterval":50,"timeout":1000,"logs":true,"priority":"low","startTimeout":2.5,"hint":"h","webhookUrl":"https://x"}"#,
        ))
        .unwrap();
        assert_eq!(
            (s.machine.mode, s.machine.poll_interval, s.machine.timeout, s.logs),
            (Mode::Polling, Duration::ms(50.0), Some(Duration::ms(1_000.0)), true)
        );
        assert_eq!(
            s.submit.headers,
            vec![("x-fal-queue-priority", "low".to_string()), ("x-fal-request-timeout", "2.5".into()), ("x-fal-runner-hint", "h".into())]
        );
        assert_eq!(s.submit.webhook.as_deref(), Some("https://x"));
        assert_eq!(err(subscribe(&v(r#"{"mode":"carrier-pigeon"}"#))), "option 'mode' must be 'streaming' or 'polling', not 'carrier-pigeon'");
        assert_eq!(err(subscribe(&v(r#"{"pollInterval":-5}"#))), "option 'pollInterval' must be a number of at least 10");
        assert_eq!(err(subscribe(&v(r#"{"logs":"yes"}"#))), "option 'logs' must be true or false");
        assert_eq!(err(subscribe(&v(r#"{"startTimeout":1}"#))), "option 'startTimeout' must be a number of seconds greater than 1");
        assert_eq!(err(subscribe(&v(r#"{"priority":"high"}"#))), "option 'priority' must be 'normal' or 'low'");
        assert!(subscribe(&v(r#"{"timeout":null,"mode":null}"#)).is_ok(), "null is no option");
    }

    #[test]
    fn followed_jobs_are_let_go_on_abort_unless_owned() {
        let f = follow(&v(r#"{"requestId":"abc-1","mode":"polling","pollInterval":250,"timeout":5000,"logs":true}"#), true).unwrap();
        assert_eq!((f.request_id.as_str(), f.machine.mode, f.machine.poll_interval, f.logs), ("abc-1", Mode::Polling, Duration::ms(250.0), true));
        assert_eq!((f.machine.timeout, f.machine.cancel_on_abort, f.machine.fetch_result), (Some(Duration::ms(5000.0)), false, true));
        let f = follow(&v(r#"{"requestId":"abc-1","cancelOnAbort":true}"#), false).unwrap();
        assert_eq!((f.machine.mode, f.machine.cancel_on_abort, f.machine.fetch_result), (Mode::Streaming, true, false));
        assert_eq!(err(follow(&v("{}"), true)), "option 'requestId' is required");
        assert_eq!(err(follow(&v(r#"{"requestId":"a","cancelOnAbort":1}"#), true)), "option 'cancelOnAbort' must be true or false");
        assert!(err(follow(&v(r#"{"requestId":"a","input":{}}"#), true)).starts_with("option 'input' is for submitting a job"));
        assert!(err(follow(&v(r#"{"requestId":"a","mode":"sse"}"#), true)).contains("'sse'"));
        // A job the call submits is its own: cancelled on abort unless told otherwise.
        assert!(subscribe(&v("{}")).unwrap().machine.cancel_on_abort);
        assert!(!subscribe(&v(r#"{"cancelOnAbort":false}"#)).unwrap().machine.cancel_on_abort);
    }

    #[test]
    fn request_ids_are_required_and_checked() {
        assert_eq!(request_id(&v(r#"{"requestId":"abc-1"}"#)).unwrap().as_str(), "abc-1");
        assert_eq!(err(request_id(&v("{}"))), "option 'requestId' is required");
        assert_eq!(err(request_id(&v(r#"{"requestId":"../../etc"}"#))), "'../../etc' is not a valid request id");
        assert_eq!(err(request_id(&v(r#"{"requestId":5}"#))), "option 'requestId' must be a string");
    }

    #[test]
    fn realtime_options() {
        let ep = EndpointId::parse("fal-ai/lcm").unwrap();
        let r = realtime(&v("{}"), &ep, false, "wss://fal.run/").unwrap();
        assert_eq!((r.codec, r.max_buffering, r.app_path.as_str(), r.machine.throttle), (Codec::MsgPack, None, "fal-ai/lcm/realtime", Duration::ms(128.0)));
        assert_eq!(r.socket_url("a.b-c_d+e/="), "wss://fal.run/fal-ai/lcm/realtime?fal_jwt_token=a.b-c_d%2Be%2F%3D");
        let r = realtime(&v(r#"{"throttleInterval":0,"codec":"json","maxBuffering":60,"path":"ws","bufferSize":3,"reconnect":{"maxAttempts":2,"fallbackAfter":1,"baseDelayMs":20}}"#), &ep, false, "wss://fal.run").unwrap();
        assert_eq!((r.codec, r.max_buffering, r.app_path.as_str(), r.machine.buffer), (Codec::Json, Some(60), "fal-ai/lcm/ws", 3));
        assert_eq!(r.socket_url("t"), "wss://fal.run/fal-ai/lcm/ws?fal_jwt_token=t&max_buffering=60");
        assert_eq!((r.machine.reconnect.max_attempts, r.machine.fallback_after, r.machine.reconnect.base), (Some(2), 1, Duration::ms(20.0)));
        for m in ["0", "61", "2.5", "\"x\""] {
            assert_eq!(
                err(realtime(&v(&format!(r#"{{"maxBuffering":{m}}}"#)), &ep, false, "wss://fal.run")),
                "option 'maxBuffering' must be a whole number from 1 to 60",
                "{m}"
            );
        }
        assert!(err(realtime(&v(r#"{"codec":"cbor"}"#), &ep, false, "wss://fal.run")).contains("'cbor'"));
        assert_eq!(realtime(&v(r#"{"codec":{}}"#), &ep, true, "wss://fal.run").unwrap().codec, Codec::Custom);
        assert!(err(realtime(&v(r#"{"path":"../x"}"#), &ep, false, "wss://fal.run")).starts_with("option 'path': "));
        assert_eq!(
            err(realtime(&v(r#"{"reconnect":{"baseDelayMs":-1}}"#), &ep, false, "wss://fal.run")),
            "option 'baseDelayMs' must be a number of at least 0"
        );
    }

    #[test]
    fn upload_options() {
        assert_eq!(upload(&v("{}")).unwrap(), Upload { content_type: None, file_name: None, multipart_threshold: DEFAULT_MULTIPART_THRESHOLD });
        assert_eq!(upload(&v(r#"{"multipartThreshold":16777216,"fileName":"a.png"}"#)).unwrap().multipart_threshold, 16 << 20);
        assert!(upload(&v(r#"{"contentType":1}"#)).is_err());
    }
}
