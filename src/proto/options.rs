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

/// What a submit sends besides the input: webhook, priority, start timeout, runner hint (fal's
/// headers, which win over the app's), and the call's own `headers` (on every request of the call).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubmitExtras {
    pub webhook: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The call's `headers`: on the submit and on every status, result and cancel request of the call.
    pub app: Vec<(String, String)>,
}

pub fn submit(v: &Value) -> R<SubmitExtras> {
    let o = Reader::of(v);
    let mut headers = Vec::new();
    if let Some(p) = o.str("priority")? {
        if p != "normal" && p != "low" {
            return Err(OptionError("option 'priority' must be 'normal' or 'low'".into()));
        }
        headers.push(("x-fal-queue-priority".into(), p));
    }
    headers.extend(start_timeout(o)?);
    if let Some(h) = o.str("hint")? {
        headers.push(("x-fal-runner-hint".into(), h));
    }
    let webhook = o.str("webhookUrl")?;
    if let Some(w) = &webhook {
        let lower = w.to_ascii_lowercase();
        let host = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
        let bad_host = host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace));
        if bad_host || w.chars().any(char::is_control) {
            return Err(OptionError(format!("option 'webhookUrl' must be an absolute http(s) URL that fal can call, not '{w}'")));
        }
    }
    headers.extend(storage_settings(v)?.map(|(n, v)| (n.to_string(), v)));
    Ok(SubmitExtras { webhook, headers, app: headers_of(o, "headers")? })
}

/// Seconds the job may wait before it starts; fal wants more than 1 and takes the value as given.
fn start_timeout(o: Reader<'_>) -> R<Option<(String, String)>> {
    match o.get("startTimeout") {
        None => Ok(None),
        Some(Value::Num(t)) if t.is_finite() && *t > 1.0 => Ok(Some(("x-fal-request-timeout".into(), crate::proto::num::fmt(*t)))),
        Some(_) => Err(OptionError("option 'startTimeout' must be a number of seconds greater than 1".into())),
    }
}

/// `run`'s extras: its start timeout (fal's header, as the official client sends it) and the call's `headers`.
pub fn run(v: &Value) -> R<SubmitExtras> {
    let o = Reader::of(v);
    let mut headers: Vec<(String, String)> = start_timeout(o)?.into_iter().collect();
    headers.extend(storage_settings(v)?.map(|(n, v)| (n.to_string(), v)));
    Ok(SubmitExtras { webhook: None, headers, app: headers_of(o, "headers")? })
}

/// `timeout` of one call (`run`, `queue.submit`, `status`, `result`, `cancel`): milliseconds for
/// the whole call, retries and (for run and submit) the input's checks and uploads included.
pub fn timeout(v: &Value) -> R<Option<Duration>> {
    match Reader::of(v).get("timeout") {
        None => Ok(None),
        Some(Value::Num(n)) if n.is_finite() && *n > 0.0 => Ok(Some(Duration::ms(*n))),
        Some(_) => Err(OptionError("option 'timeout' must be a number of milliseconds greater than 0".into())),
    }
}

/// `signal` and `abortSignal` (@fal-ai/client's name for it): either, or both when they are the same signal.
pub fn one_signal<T: PartialEq>(signal: Option<T>, abort_signal: Option<T>) -> R<Option<T>> {
    match (signal, abort_signal) {
        (Some(a), Some(b)) if a != b => Err(OptionError(
            "options 'signal' and 'abortSignal' are two names of one option ('abortSignal' is @fal-ai/client's): pass one, or the same AbortSignal".into(),
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// `headers` of the client or of a call: the app's own, non-secret headers (a session for its own
/// proxy). Values are strings; names are HTTP tokens; a key-like name or value
/// ([`crate::proto::config::key_like`]) and the headers genwire sets itself are refused.
pub fn headers(v: &Value) -> R<Vec<(String, String)>> {
    headers_of(Reader::of(v), "headers")
}

#[inline(never)]
fn headers_of(o: Reader<'_>, option: &str) -> R<Vec<(String, String)>> {
    let m = match o.get(option) {
        None => return Ok(Vec::new()),
        Some(Value::Obj(m)) => m,
        Some(_) => return Err(wrong(option, "an object of header names to string values")),
    };
    let mut out = Vec::with_capacity(m.len());
    for (name, value) in m {
        let Value::Str(value) = value else { return Err(OptionError(format!("header '{name}' of option '{option}' must be a string"))) };
        header(name, value, option)?;
        set_header(&mut out, name, value);
    }
    Ok(out)
}

/// `name: value` checked by the header rules, or the error that says why not (`by`: who set it).
#[inline(never)]
fn header(name: &str, value: &str, by: &str) -> R<()> {
    use crate::proto::config::HeaderProblem::*;
    crate::proto::config::check_header(name, value).map_err(|p| {
        OptionError(match p {
            KeyLike => format!(
                "genwire refuses the header '{name}' ({by}): it would carry a key, and a key in the browser is visible to every visitor. \
                 Keep FAL_KEY on your server; your proxy adds it."
            ),
            Reserved => format!("the header '{name}' ({by}) is genwire's own: it can't be set or replaced"),
            BadName => format!("'{name}' ({by}) is not an HTTP header name"),
            BadValue => format!("the value of header '{name}' ({by}) has a line break, a control character or a character outside Latin-1"),
        })
    })
}

/// Sets `name` (compared in any case) to `value`: replaced where it was, else added.
fn set_header(list: &mut Vec<(String, String)>, name: &str, value: &str) {
    match list.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        Some(slot) => *slot = (name.into(), value.into()),
        None => list.push((name.into(), value.into())),
    }
}

/// The headers of one request through the proxy, each layer replacing the one before (names in
/// any case): the client's `headers`, the call's, those its options imply (priority, start
/// timeout, hint: fal's, as the official client lets them win), then genwire's own, which
/// nothing replaces.
pub fn request_headers(layers: &[&[(String, String)]], own: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (n, v) in layers.iter().flat_map(|l| l.iter()) {
        set_header(&mut out, n, v);
    }
    for (n, v) in own {
        set_header(&mut out, n, v);
    }
    out
}

/// The headers after `onRequest`: `after` is what the hook returned (or the request object it was
/// given, which it may have changed): `{url, method, headers}`. It may add, replace and remove
/// headers under the same rules as `headers`; genwire's own stay as they were, and the URL and
/// method can't change (the hook observes them).
pub fn after_on_request(url: &str, method: &str, before: &[(String, String)], after: &Value) -> R<Vec<(String, String)>> {
    let o = Reader::of(after);
    if o.str("url").ok().flatten().is_some_and(|u| u != url) {
        return Err(OptionError("onRequest can't change a request's url (it goes to your proxy with the target named in x-fal-target-url)".into()));
    }
    if o.str("method").ok().flatten().is_some_and(|m| !m.eq_ignore_ascii_case(method)) {
        return Err(OptionError("onRequest can't change a request's method".into()));
    }
    let m = match o.get("headers") {
        None => return Ok(before.to_vec()),
        Some(Value::Obj(m)) => m,
        Some(_) => return Err(OptionError("onRequest must leave 'headers' an object of header names to string values".into())),
    };
    let own =
        |n: &str| before.iter().find(|(b, _)| b.eq_ignore_ascii_case(n) && crate::proto::config::RESERVED_HEADERS.iter().any(|r| r.eq_ignore_ascii_case(n)));
    let mut out = Vec::with_capacity(m.len());
    for (name, value) in m {
        let Value::Str(value) = value else { return Err(OptionError(format!("header '{name}' set by onRequest must be a string"))) };
        match own(name) {
            Some((_, was)) if was == value => {}
            Some(_) => return Err(OptionError(format!("the header '{name}' (onRequest) is genwire's own: it can't be replaced"))),
            None => header(name, value, "onRequest")?,
        }
        set_header(&mut out, name, value);
    }
    for (n, v) in before.iter().filter(|(n, _)| own(n).is_some()) {
        if !out.iter().any(|(o, _)| o.eq_ignore_ascii_case(n)) {
            out.push((n.clone(), v.clone()));
        }
    }
    Ok(out)
}

/// fal's header for the lifecycle of a job's outputs (submit, subscribe, run).
pub const OUTPUT_LIFECYCLE_HEADER: &str = "x-fal-object-lifecycle-preference";
/// fal's header for the lifecycle of an uploaded file (on the upload's initiate).
pub const UPLOAD_LIFECYCLE_HEADER: &str = "x-fal-object-lifecycle";
/// The official client's expiry presets, in seconds (`never`: no expiry is sent).
pub const EXPIRATION_PRESETS: [(&str, Option<u32>); 7] = [
    ("never", None),
    ("immediate", Some(60)),
    ("1h", Some(3_600)),
    ("1d", Some(86_400)),
    ("7d", Some(604_800)),
    ("30d", Some(2_592_000)),
    ("1y", Some(31_536_000)),
];
/// What an ACL rule (or its default) decides for a reader.
pub const ACL_DECISIONS: [&str; 3] = ["hide", "forbid", "allow"];

/// `storageSettings` as fal's `x-fal-object-lifecycle-preference` header, when it says anything.
pub fn storage_settings(v: &Value) -> R<Option<(&'static str, String)>> {
    Ok(lifecycle_json(Reader::of(v).get("storageSettings"), "storageSettings")?.map(|j| (OUTPUT_LIFECYCLE_HEADER, j)))
}

/// `{expiresIn?, initialAcl?}` as the JSON fal's lifecycle headers carry (`{"expiration_duration_seconds", "initial_acl"}`,
/// as the official client writes it); None when it says nothing (`{}`, `expiresIn: "never"`).
/// Unknown fields are refused: a misspelt setting must not silently keep files forever.
pub fn lifecycle_json(v: Option<&Value>, key: &str) -> R<Option<String>> {
    let Some(v) = v else { return Ok(None) };
    let Value::Obj(fields) = v else { return Err(wrong(key, "an object {expiresIn?, initialAcl?}")) };
    let (mut expiry, mut acl) = (None, None);
    for (k, x) in fields.iter().filter(|(_, x)| !x.is_null()) {
        match k.as_str() {
            "expiresIn" => expiry = expires_in(x, key)?,
            "initialAcl" => acl = Some(initial_acl(x, key)?),
            other => return Err(OptionError(format!("option '{key}' has no field '{other}' (it takes expiresIn and initialAcl)"))),
        }
    }
    let mut out = Vec::new();
    out.extend(expiry.map(|s| ("expiration_duration_seconds".to_string(), Value::Num(s))));
    out.extend(acl.map(|a| ("initial_acl".to_string(), a)));
    Ok((!out.is_empty()).then(|| crate::proto::json::to_string(&Value::Obj(out))))
}

fn expires_in(x: &Value, key: &str) -> R<Option<f64>> {
    match x {
        Value::Str(s) => match EXPIRATION_PRESETS.iter().find(|(name, _)| name == s) {
            Some((_, secs)) => Ok(secs.map(f64::from)),
            None => Err(OptionError(format!(
                "option '{key}.expiresIn' must be 'never', 'immediate', '1h', '1d', '7d', '30d', '1y' or a whole number of seconds, not '{s}'"
            ))),
        },
        // Whole seconds, at least one, within what JSON integers carry exactly.
        Value::Num(n) if n.fract() == 0.0 && (1.0..=9_007_199_254_740_991.0).contains(n) => Ok(Some(*n)),
        _ => Err(OptionError(format!(
            "option '{key}.expiresIn' must be 'never', 'immediate', '1h', '1d', '7d', '30d', '1y' or a whole number of seconds of at least 1"
        ))),
    }
}

/// `{default?, rules?: [{user, decision}]}`, each decision one of [`ACL_DECISIONS`].
fn initial_acl(x: &Value, key: &str) -> R<Value> {
    let bad = |what: &str| OptionError(format!("option '{key}.initialAcl' {what}"));
    let decision = |d: &Value, at: &str| match d {
        Value::Str(s) if ACL_DECISIONS.contains(&s.as_str()) => Ok(Value::Str(s.clone())),
        _ => Err(bad(&format!("{at} must be 'hide', 'forbid' or 'allow'"))),
    };
    let Value::Obj(fields) = x else { return Err(bad("must be an object {default?, rules?}")) };
    let mut out = Vec::new();
    for (k, v) in fields.iter().filter(|(_, v)| !v.is_null()) {
        match k.as_str() {
            "default" => out.push(("default".to_string(), decision(v, "default")?)),
            "rules" => {
                let Value::Arr(rules) = v else { return Err(bad("rules must be an array of {user, decision}")) };
                let mut list = Vec::new();
                for (i, r) in rules.iter().enumerate() {
                    let at = format!("rules[{i}]");
                    let (Some(Value::Str(user)), Some(d)) = (r.get("user"), r.get("decision")) else {
                        return Err(bad(&format!("{at} must be {{user: string, decision}}")));
                    };
                    if user.trim().is_empty() || !matches!(r, Value::Obj(f) if f.len() == 2) {
                        return Err(bad(&format!("{at} must be {{user: string, decision}} with a non-empty user and nothing else")));
                    }
                    list.push(Value::Obj(vec![("user".into(), Value::Str(user.clone())), ("decision".into(), decision(d, &format!("{at}.decision"))?)]));
                }
                out.push(("rules".to_string(), Value::Arr(list)));
            }
            other => return Err(bad(&format!("has no field '{other}' (it takes default and rules)"))),
        }
    }
    Ok(Value::Obj(out))
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
    machine.timeout = timeout(v)?;
    machine.cancel_on_abort = o.bool("cancelOnAbort")?.unwrap_or(owned);
    Ok(machine)
}

/// `queue.subscribeToStatus` (`fetch_result`) and `queue.streamStatus`: a job followed by its id.
#[derive(Debug, Clone)]
pub struct Follow {
    pub machine: SubscribeConfig,
    pub logs: bool,
    pub request_id: RequestId,
    /// The call's own `headers`, on each of its requests.
    pub headers: Vec<(String, String)>,
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
    Ok(Follow { machine, logs: logs(v)?, request_id: request_id(v)?, headers: headers(v)? })
}

/// `client.stream`'s options as the core reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub machine: crate::proto::stream::Config,
    /// The call's `headers`, on its request through the proxy.
    pub headers: Vec<(String, String)>,
}

/// `client.stream`'s options: the stall window (`stallTimeout`, ms without a byte, or `timeout`,
/// @fal-ai/client's name for it: its stream's `timeout` is the longest gap between chunks, so a
/// migrated `timeout: 60000` never cuts a long stream; a bound on the whole stream is a `signal`)
/// and the call's `headers`.
pub fn stream(v: &Value) -> R<Stream> {
    let o = Reader::of(v);
    let mut machine = crate::proto::stream::Config::default();
    match (o.ms("stallTimeout", 10.0)?, o.ms("timeout", 10.0)?) {
        (Some(a), Some(b)) if a != b => {
            return Err(OptionError(
                "options 'stallTimeout' and 'timeout' of stream() are one option (the longest silence; 'timeout' is @fal-ai/client's name): \
                 pass one, or the same value; a signal bounds the whole stream"
                    .into(),
            ))
        }
        (Some(d), _) | (None, Some(d)) => machine.stall = d,
        (None, None) => {}
    }
    Ok(Stream { machine, headers: headers_of(o, "headers")? })
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
    /// `lifecycle` as the `X-Fal-Object-Lifecycle` header of the initiate.
    pub lifecycle: Option<String>,
}

pub fn upload(v: &Value) -> R<Upload> {
    let o = Reader::of(v);
    Ok(Upload {
        content_type: o.str("contentType")?,
        file_name: o.str("fileName")?,
        multipart_threshold: o.num("multipartThreshold", 0.0)?.map_or(DEFAULT_MULTIPART_THRESHOLD, |t| t as u64),
        lifecycle: lifecycle_json(o.get("lifecycle"), "lifecycle")?,
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
    // How long a token lives (the default provider asks fal for it; a custom provider's tokens
    // live what the app says): refreshed at 90% of it. Without it, 120 s, fal's default.
    match o.get("tokenExpirationSeconds") {
        None => {}
        Some(Value::Num(n)) if n.is_finite() && *n >= 10.0 => m.token_ttl = Duration::ms(n * 1000.0),
        Some(_) => return Err(OptionError("option 'tokenExpirationSeconds' must be a number of seconds of at least 10".into())),
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

/// A React hook of `genwire/react` (its options are a call's, `base`, and its own), for the
/// check the hooks run before they start anything (`GenwireClient::checkHook`): the same typed
/// `config` error a call gives for the same mistake, and the unknown-name warning.
pub struct Hook {
    pub name: &'static str,
    /// The call whose options the hook passes on (its rules and names apply too).
    pub base: &'static str,
    /// The hook's own option names.
    pub own: &'static [&'static str],
    /// The options that must be functions (the hook wraps them, so the call never sees them).
    pub callbacks: &'static [&'static str],
}

pub const HOOKS: &[Hook] = &[
    Hook {
        name: "useGeneration",
        base: "subscribe",
        own: &["onSuccess", "onError", "cancelSuperseded", "resume", "resumeKey"],
        callbacks: &["onQueueUpdate", "onEnqueue", "onSuccess", "onError"],
    },
    Hook { name: "useStream", base: "stream", own: &["onPartial", "onSuccess", "onError"], callbacks: &["onPartial", "onSuccess", "onError"] },
    Hook { name: "useRealtime", base: "realtime", own: &["enabled"], callbacks: &["onResult", "onError", "onStatus"] },
    Hook { name: "useUpload", base: "upload", own: &[], callbacks: &["onProgress"] },
    Hook { name: "useValidation", base: "validate", own: &["debounceMs", "enabled"], callbacks: &[] },
];

pub fn hook_of(name: &str) -> Option<&'static Hook> {
    HOOKS.iter().find(|h| h.name == name)
}

/// A hook's own plain-data options (`v`, as `conv::options` reads them) by their rules. Those it
/// passes on are judged by its call, which it makes next and which checks them before it sends
/// anything (a realtime hook's connection, through onError): the same error, said once, by the
/// same code. The callbacks the hook wraps and the signal it joins are the edge's to check.
pub fn hook(name: &str, v: &Value) -> R<()> {
    let o = Reader::of(v);
    match name {
        "useGeneration" => {
            match o.get("resume") {
                None | Some(Value::Bool(_)) => {}
                Some(Value::Str(s)) if s == "session" => {}
                Some(_) => return Err(wrong("resume", "\"session\", true or false")),
            }
            o.bool("cancelSuperseded")?;
            o.str("resumeKey").map(drop)
        }
        "useValidation" => {
            o.num("debounceMs", 0.0)?;
            o.bool("enabled").map(drop)
        }
        "useRealtime" => o.bool("enabled").map(drop),
        _ => Ok(()),
    }
}

/// The option names of each call (and of the objects nested in options), for the warning about
/// an unknown one: a misspelt option must not silently do nothing. `label` is how the warning
/// names the call.
pub struct Call {
    pub name: &'static str,
    pub label: &'static str,
    pub known: &'static [&'static str],
    /// Fields whose objects are checked too, with the call that names their fields.
    pub nested: &'static [(&'static str, &'static str)],
}

const SUBMIT: [&str; 11] =
    ["input", "validate", "webhookUrl", "priority", "startTimeout", "hint", "signal", "abortSignal", "headers", "timeout", "storageSettings"];
const REQUEST: [&str; 5] = ["requestId", "signal", "abortSignal", "headers", "timeout"];

pub const CALLS: &[Call] = &[
    Call {
        name: "client",
        label: "createClient()",
        known: &[
            "proxyUrl",
            "validation",
            "schemas",
            "fileLimits",
            "retry",
            "circuitBreaker",
            "realtimeUrl",
            "onEvent",
            "headers",
            "fetch",
            "onRequest",
            "onResponse",
            "jobs",
        ],
        nested: &[("retry", "retry"), ("circuitBreaker", "circuitBreaker")],
    },
    Call { name: "retry", label: "createClient({ retry })", known: &["maxRetries", "baseDelayMs", "maxDelayMs", "maxRetryAfterMs", "budget"], nested: &[] },
    Call { name: "circuitBreaker", label: "createClient({ circuitBreaker })", known: &["failureThreshold", "openMs"], nested: &[] },
    Call { name: "submit", label: "queue.submit()", known: &SUBMIT, nested: &[] },
    Call {
        name: "subscribe",
        label: "subscribe()",
        known: &[
            "input",
            "validate",
            "webhookUrl",
            "priority",
            "startTimeout",
            "hint",
            "signal",
            "abortSignal",
            "headers",
            "timeout",
            "storageSettings",
            "logs",
            "onQueueUpdate",
            "onEnqueue",
            "cancelOnAbort",
            "mode",
            "pollInterval",
            "streamStallTimeout",
        ],
        nested: &[],
    },
    Call {
        name: "subscribeToStatus",
        label: "queue.subscribeToStatus()",
        known: &[
            "requestId",
            "signal",
            "abortSignal",
            "headers",
            "timeout",
            "logs",
            "onQueueUpdate",
            "cancelOnAbort",
            "mode",
            "pollInterval",
            "streamStallTimeout",
        ],
        nested: &[],
    },
    Call { name: "stream", label: "stream()", known: &["input", "validate", "signal", "abortSignal", "headers", "timeout", "stallTimeout"], nested: &[] },
    Call {
        name: "run",
        label: "run()",
        known: &["input", "validate", "startTimeout", "signal", "abortSignal", "headers", "timeout", "storageSettings"],
        nested: &[],
    },
    Call { name: "status", label: "queue.status()", known: &["requestId", "logs", "signal", "abortSignal", "headers", "timeout"], nested: &[] },
    Call { name: "result", label: "queue.result()", known: &REQUEST, nested: &[] },
    Call { name: "cancel", label: "queue.cancel()", known: &REQUEST, nested: &[] },
    Call { name: "validate", label: "validate()", known: &["signal", "abortSignal"], nested: &[] },
    Call {
        name: "upload",
        label: "storage.upload()",
        known: &["contentType", "fileName", "onProgress", "signal", "abortSignal", "multipartThreshold", "lifecycle"],
        nested: &[],
    },
    Call {
        name: "realtime",
        label: "realtime.connect()",
        known: &[
            "connectionKey",
            "throttleInterval",
            "onResult",
            "onError",
            "onStatus",
            "maxBuffering",
            "bufferSize",
            "codec",
            "reconnect",
            "tokenProvider",
            "tokenExpirationSeconds",
            "path",
        ],
        nested: &[("reconnect", "reconnect")],
    },
    Call {
        name: "reconnect",
        label: "realtime.connect({ reconnect })",
        known: &["baseDelayMs", "maxDelayMs", "minUptimeMs", "maxAttempts", "fallbackAfter", "fallbackRetryMs"],
        nested: &[],
    },
];

/// @fal-ai/client's option names that genwire spells or does differently: what to use instead.
const INSTEAD: &[(&str, &str)] = &[
    ("requestMiddleware", "use onRequest (it can add headers and observe the url and method)"),
    ("responseHandler", "use onResponse to observe answers; genwire decodes them itself"),
    ("suppressLocalCredentialsWarning", "genwire takes no key in the browser; your proxy adds it"),
    ("method", "genwire sends each call with the method fal expects"),
    ("connectionMode", "genwire always streams through your proxy and falls back to polling by itself"),
    ("clientOnly", "genwire never connects during a server render"),
    ("encodeMessage", "use codec: { encode, decode }"),
    ("decodeMessage", "use codec: { encode, decode }"),
    ("baseDelay", "use baseDelayMs"),
    ("maxDelay", "use maxDelayMs"),
    ("backoffMultiplier", "genwire's backoff doubles with full jitter"),
    ("enableJitter", "genwire's backoff always has jitter"),
    ("retryableStatusCodes", "genwire decides from each answer (X-Fal-Retryable, status, error type)"),
];

pub fn call(name: &str) -> Option<&'static Call> {
    CALLS.iter().find(|c| c.name == name)
}

/// The warnings about `names` (the options object's own keys) for `call`, and about the fields of
/// its nested objects in `plain` (the options as the core reads them): `(key, message)`, the key
/// the same for the same name of the same call, so each is said once.
/// A hook's warnings name the hook and are keyed by its call's name, so the call the hook then
/// makes does not say the same again.
pub fn unknown(call_name: &str, names: &[String], plain: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let hook = hook_of(call_name);
    let Some(c) = call(hook.map_or(call_name, |h| h.base)) else { return out };
    let known: Vec<&'static str> = c.known.iter().chain(hook.map_or(&[][..], |h| h.own)).copied().collect();
    for name in names.iter().filter(|n| !known.contains(&n.as_str())) {
        let label = hook.map_or(c.label.to_string(), |h| format!("{}()", h.name));
        let mut msg = format!("genwire: {label} has no option '{name}'; it does nothing.");
        if let Some((_, instead)) = INSTEAD.iter().find(|(n, _)| n == name) {
            msg.push_str(&format!(" It is @fal-ai/client's: {instead}."));
        } else if let Some(near) = nearest(name, &known) {
            msg.push_str(&format!(" Did you mean '{near}'?"));
        }
        out.push((format!("{}.{name}", c.name), msg));
    }
    let o = Reader::of(plain);
    for (field, nested) in c.nested {
        if let Some(Value::Obj(m)) = o.get(field) {
            let keys: Vec<String> = m.iter().map(|(k, _)| k.clone()).collect();
            out.extend(unknown(nested, &keys, &Value::Null));
        }
    }
    out
}

/// The known name closest to `name`: the same in another case, or at most two edits away (one for short names).
fn nearest(name: &str, known: &[&'static str]) -> Option<&'static str> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return Some(k);
    }
    let limit = if name.len() <= 4 { 1 } else { 2 };
    known.iter().map(|k| (edits(&name.to_ascii_lowercase(), &k.to_ascii_lowercase()), *k)).filter(|(d, _)| *d <= limit).min_by_key(|(d, _)| *d).map(|(_, k)| k)
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
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
            vec![
                ("x-fal-queue-priority".to_string(), "low".to_string()),
                ("x-fal-request-timeout".into(), "2.5".into()),
                ("x-fal-runner-hint".into(), "h".into())
            ]
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
        assert_eq!(
            upload(&v("{}")).unwrap(),
            Upload { content_type: None, file_name: None, multipart_threshold: DEFAULT_MULTIPART_THRESHOLD, lifecycle: None }
        );
        assert_eq!(upload(&v(r#"{"multipartThreshold":16777216,"fileName":"a.png"}"#)).unwrap().multipart_threshold, 16 << 20);
        assert!(upload(&v(r#"{"contentType":1}"#)).is_err());
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn strict_ranges_as_the_official_client_has_them() {
        // startTimeout: a number greater than 1 (fal's MIN_REQUEST_TIMEOUT_SECONDS), sent as given.
        for bad in ["1", "0.5", "-3", "\"5\"", "true"] {
            assert_eq!(err(submit(&v(&format!(r#"{{"startTimeout":{bad}}}"#)))), "option 'startTimeout' must be a number of seconds greater than 1", "{bad}");
        }
        assert_eq!(submit(&v(r#"{"startTimeout":1.001}"#)).unwrap().headers, h(&[("x-fal-request-timeout", "1.001")]));
        assert_eq!(run(&v(r#"{"startTimeout":30}"#)).unwrap().headers, h(&[("x-fal-request-timeout", "30")]));
        assert!(run(&v(r#"{"startTimeout":1}"#)).is_err(), "run takes startTimeout with the same rule");
        // timeout: milliseconds greater than 0, for every call.
        for bad in ["0", "-1", "\"10\"", "false"] {
            assert_eq!(err(timeout(&v(&format!(r#"{{"timeout":{bad}}}"#)))), "option 'timeout' must be a number of milliseconds greater than 0", "{bad}");
            assert!(subscribe(&v(&format!(r#"{{"timeout":{bad}}}"#))).is_err(), "{bad}");
        }
        assert_eq!(timeout(&v(r#"{"timeout":250}"#)).unwrap(), Some(Duration::ms(250.0)));
        assert_eq!(timeout(&v("{}")).unwrap(), None);
        // webhookUrl: an absolute http(s) URL.
        for bad in ["/hooks/fal", "ftp://x/y", "https://", "https:// a", "example.com/hook", r"https://a/\u0000"] {
            assert!(err(submit(&v(&format!(r#"{{"webhookUrl":"{bad}"}}"#)))).starts_with("option 'webhookUrl' must be an absolute http(s) URL"), "{bad}");
        }
        assert!(submit(&v(r#"{"webhookUrl":"https://app.example/hooks?x=1&y=a b"}"#)).is_ok(), "percent-encoded when sent");
        // tokenExpirationSeconds: at least 10 s; the token's life, refreshed at 90%.
        let ep = EndpointId::parse("fal-ai/lcm").unwrap();
        let r = realtime(&v(r#"{"tokenExpirationSeconds":600}"#), &ep, false, "wss://fal.run").unwrap();
        assert_eq!(r.machine.token_ttl, Duration::ms(600_000.0));
        assert_eq!(realtime(&v("{}"), &ep, false, "wss://fal.run").unwrap().machine.token_ttl, Duration::ms(120_000.0), "fal's default");
        for bad in ["5", "0", "\"600\"", "-1"] {
            assert_eq!(
                err(realtime(&v(&format!(r#"{{"tokenExpirationSeconds":{bad}}}"#)), &ep, false, "wss://fal.run")),
                "option 'tokenExpirationSeconds' must be a number of seconds of at least 10"
            );
        }
    }

    #[test]
    fn abort_signal_is_an_alias_of_signal() {
        assert_eq!(one_signal(Some(1), None), Ok(Some(1)));
        assert_eq!(one_signal(None, Some(2)), Ok(Some(2)));
        assert_eq!(one_signal(Some(3), Some(3)), Ok(Some(3)), "the same signal under both names");
        assert_eq!(one_signal::<u8>(None, None), Ok(None));
        assert!(err(one_signal(Some(1), Some(2))).contains("'abortSignal' is @fal-ai/client's"));
    }

    #[test]
    fn headers_are_the_apps_own_and_never_a_key() {
        let e = submit(&v(r#"{"headers":{"x-session-token":"s1","X-Trace":"t"},"priority":"low"}"#)).unwrap();
        assert_eq!(e.app, h(&[("x-session-token", "s1"), ("X-Trace", "t")]));
        for name in ["Authorization", "x-fal-key", "X-API-KEY", "api-key", "token", "x-token", "Cookie", "proxy-authorization", "secret", "credentials"] {
            let msg = err(headers(&v(&format!(r#"{{"headers":{{"{name}":"v"}}}}"#))));
            assert!(msg.starts_with(&format!("genwire refuses the header '{name}' (headers)")), "{name}: {msg}");
        }
        // A key under any name: fal's Authorization value, or the shape of a fal key.
        for value in ["Key abc:def", "key 123", "0b5f1c2e-1234-4abc-9def-0123456789ab:0123456789abcdef0123456789abcdef"] {
            assert!(err(headers(&v(&format!(r#"{{"headers":{{"x-session":"{value}"}}}}"#)))).contains("would carry a key"), "{value}");
        }
        for name in ["x-fal-target-url", "Accept", "content-type"] {
            assert!(err(headers(&v(&format!(r#"{{"headers":{{"{name}":"v"}}}}"#)))).contains("is genwire's own"), "{name}");
        }
        assert!(err(headers(&v(r#"{"headers":{"bad name":"v"}}"#))).contains("not an HTTP header name"));
        assert!(err(headers(&v(r#"{"headers":{"x-a":"line\nbreak"}}"#))).contains("line break"));
        assert_eq!(err(headers(&v(r#"{"headers":{"x-a":5}}"#))), "header 'x-a' of option 'headers' must be a string");
        assert_eq!(err(headers(&v(r#"{"headers":"x-a: 1"}"#))), "option 'headers' must be an object of header names to string values");
        // Layers: the client's, the call's, fal's option headers, genwire's own; later wins, names in any case.
        let out = request_headers(
            &[&h(&[("x-app", "client"), ("X-Fal-Queue-Priority", "normal")]), &h(&[("X-APP", "call")]), &h(&[("x-fal-queue-priority", "low")])],
            &[("x-fal-target-url", "https://queue.fal.run/a/b"), ("accept", "application/json")],
        );
        assert_eq!(
            out,
            h(&[("X-APP", "call"), ("x-fal-queue-priority", "low"), ("x-fal-target-url", "https://queue.fal.run/a/b"), ("accept", "application/json")])
        );
    }

    #[test]
    fn on_request_changes_headers_under_the_same_rules() {
        let before = h(&[("x-fal-target-url", "https://queue.fal.run/a/b"), ("accept", "application/json"), ("x-app", "1")]);
        let url = "https://queue.fal.run/a/b";
        let hook = |json: &str| after_on_request(url, "POST", &before, &v(json));
        // Nothing returned or headers untouched: as before.
        assert_eq!(hook("{}").unwrap(), before);
        // Added, replaced, removed; genwire's own kept even when the hook dropped them.
        let out = hook(r#"{"url":"https://queue.fal.run/a/b","method":"post","headers":{"x-app":"2","x-session":"s"}}"#).unwrap();
        assert_eq!(out, h(&[("x-app", "2"), ("x-session", "s"), ("x-fal-target-url", url), ("accept", "application/json")]));
        // Never a key, never genwire's own changed, url and method only observed.
        assert!(err(hook(r#"{"headers":{"authorization":"Key k:s"}}"#)).starts_with("genwire refuses the header 'authorization' (onRequest)"));
        assert!(err(hook(r#"{"headers":{"x-session":"Key k:s"}}"#)).contains("would carry a key"));
        assert!(err(hook(r#"{"headers":{"x-fal-target-url":"https://evil.example/"}}"#)).contains("genwire's own"));
        assert!(hook(r#"{"headers":{"x-fal-target-url":"https://queue.fal.run/a/b"}}"#).is_ok(), "kept as it was");
        assert!(err(hook(r#"{"url":"https://evil.example/"}"#)).starts_with("onRequest can't change a request's url"));
        assert!(err(hook(r#"{"method":"DELETE"}"#)).starts_with("onRequest can't change a request's method"));
        assert!(err(hook(r#"{"headers":[1]}"#)).contains("an object"));
        assert!(err(hook(r#"{"headers":{"x-n":1}}"#)).contains("must be a string"));
    }

    #[test]
    fn unknown_options_are_named_with_what_to_use() {
        let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(unknown("subscribe", &names(&["input", "logs", "abortSignal", "onQueueUpdate", "timeout"]), &Value::Null).is_empty());
        let w = unknown("subscribe", &names(&["timout", "Logs", "pollIntervall", "zzz"]), &Value::Null);
        let msgs: Vec<&str> = w.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "genwire: subscribe() has no option 'timout'; it does nothing. Did you mean 'timeout'?",
                "genwire: subscribe() has no option 'Logs'; it does nothing. Did you mean 'logs'?",
                "genwire: subscribe() has no option 'pollIntervall'; it does nothing. Did you mean 'pollInterval'?",
                "genwire: subscribe() has no option 'zzz'; it does nothing.",
            ]
        );
        assert_eq!(w[0].0, "subscribe.timout", "said once per call and name");
        let w = unknown("client", &names(&["requestMiddleware", "retry"]), &v(r#"{"retry":{"baseDelay":100,"maxRetries":2}}"#));
        assert_eq!(w.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["client.requestMiddleware", "retry.baseDelay"], "nested objects are checked too");
        assert!(w[0].1.ends_with("It is @fal-ai/client's: use onRequest (it can add headers and observe the url and method)."));
        assert!(w[1].1.starts_with("genwire: createClient({ retry }) has no option 'baseDelay'"));
        let w = unknown("realtime", &names(&["encodeMessage", "reconnect"]), &v(r#"{"reconnect":{"maxAttempt":2}}"#));
        assert!(w[0].1.contains("use codec: { encode, decode }"));
        assert!(w[1].1.ends_with("Did you mean 'maxAttempts'?"));
        // Every call's names are distinct, and the nested calls exist.
        for c in CALLS {
            let mut k = c.known.to_vec();
            k.sort_unstable();
            k.dedup();
            assert_eq!(k.len(), c.known.len(), "{}", c.name);
            assert!(c.nested.iter().all(|(f, n)| c.known.contains(f) && call(n).is_some()), "{}", c.name);
        }
        assert!(unknown("nope", &names(&["x"]), &Value::Null).is_empty());
    }

    #[test]
    fn a_streams_timeout_is_the_gap_between_chunks_as_in_the_official_client() {
        use crate::proto::stream::DEFAULT_STALL_MS;
        let stall = |json: &str| stream(&v(json)).map(|s| s.machine.stall);
        assert_eq!(stall("{}"), Ok(Duration::ms(DEFAULT_STALL_MS)));
        assert_eq!(stall(r#"{"timeout":60000}"#), Ok(Duration::ms(60_000.0)), "fal.stream(id, {{ timeout: 60000 }}): a minute of silence, not a minute in all");
        assert_eq!(stall(r#"{"stallTimeout":5000}"#), Ok(Duration::ms(5_000.0)));
        assert_eq!(stall(r#"{"stallTimeout":5000,"timeout":5000}"#), Ok(Duration::ms(5_000.0)), "the same value under both names");
        assert!(err(stall(r#"{"stallTimeout":5000,"timeout":6000}"#)).starts_with("options 'stallTimeout' and 'timeout' of stream() are one option"));
        assert_eq!(err(stall(r#"{"timeout":0}"#)), "option 'timeout' must be a number of at least 10");
        assert_eq!(err(stall(r#"{"timeout":"15s"}"#)), "option 'timeout' must be a number of at least 10");
        assert_eq!(err(stall(r#"{"stallTimeout":5}"#)), "option 'stallTimeout' must be a number of at least 10");
        // The call's own headers, under the rules of every call's.
        assert_eq!(stream(&v(r#"{"headers":{"x-session":"s1"}}"#)).unwrap().headers, h(&[("x-session", "s1")]));
        assert!(err(stream(&v(r#"{"headers":{"x-fal-key":"k"}}"#))).starts_with("genwire refuses the header 'x-fal-key' (headers)"));
        assert!(err(stream(&v(r#"{"headers":{"accept":"application/json"}}"#))).contains("is genwire's own"));
        assert!(call("stream").unwrap().known.contains(&"headers"));
    }

    #[test]
    fn hooks_judge_their_own_options_and_leave_the_rest_to_their_call() {
        assert!(hook("useGeneration", &v(r#"{"resume":"session","resumeKey":"k","cancelSuperseded":false,"logs":false}"#)).is_ok());
        assert!(hook("useGeneration", &v(r#"{"resume":true}"#)).is_ok());
        assert!(hook("useGeneration", &Value::Null).is_ok(), "no options");
        assert_eq!(err(hook("useGeneration", &v(r#"{"resume":"local"}"#))), r#"option 'resume' must be "session", true or false"#);
        assert_eq!(err(hook("useGeneration", &v(r#"{"cancelSuperseded":"no"}"#))), "option 'cancelSuperseded' must be true or false");
        assert_eq!(err(hook("useGeneration", &v(r#"{"resumeKey":5}"#))), "option 'resumeKey' must be a string");
        // The options a hook passes on are its call's to judge (tests/react.test.mjs: the same error).
        assert!(hook("useGeneration", &v(r#"{"timeout":0,"headers":{"Authorization":"Key a:b"}}"#)).is_ok());
        assert!(hook("useStream", &v(r#"{"stallTimeout":"5s"}"#)).is_ok());
        assert_eq!(err(hook("useRealtime", &v(r#"{"enabled":"yes"}"#))), "option 'enabled' must be true or false");
        assert_eq!(err(hook("useValidation", &v(r#"{"debounceMs":-1}"#))), "option 'debounceMs' must be a number of at least 0");
        assert_eq!(err(hook("useValidation", &v(r#"{"enabled":1}"#))), "option 'enabled' must be true or false");
        assert!(hook("useValidation", &v(r#"{"debounceMs":0,"enabled":false}"#)).is_ok());
        // Every hook's call exists, its callbacks are names it knows, and its own names are new.
        for h in HOOKS {
            let c = call(h.base).unwrap();
            assert!(h.callbacks.iter().all(|f| c.known.contains(f) || h.own.contains(f)), "{}", h.name);
            assert!(h.own.iter().all(|f| !c.known.contains(f)), "{}", h.name);
        }
    }

    #[test]
    fn a_hooks_unknown_options_are_named_by_the_hook_once_for_its_call() {
        let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(unknown("useGeneration", &names(&["resume", "onSuccess", "timeout", "onQueueUpdate"]), &Value::Null).is_empty());
        let w = unknown("useGeneration", &names(&["cancelSupersede", "timout"]), &Value::Null);
        assert_eq!(
            w,
            [
                (
                    "subscribe.cancelSupersede".to_string(),
                    "genwire: useGeneration() has no option 'cancelSupersede'; it does nothing. Did you mean 'cancelSuperseded'?".to_string()
                ),
                ("subscribe.timout".to_string(), "genwire: useGeneration() has no option 'timout'; it does nothing. Did you mean 'timeout'?".to_string()),
            ]
        );
        let w = unknown("useRealtime", &names(&["enable", "reconnect"]), &v(r#"{"reconnect":{"maxAttempt":2}}"#));
        assert_eq!(w.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["realtime.enable", "reconnect.maxAttempt"]);
        assert!(w[0].1.ends_with("Did you mean 'enabled'?"));
    }

    #[test]
    fn lifecycle_presets_numbers_and_acls_as_the_official_client_writes_them() {
        let h = |json: &str| storage_settings(&v(json));
        assert_eq!(h("{}").unwrap(), None);
        assert_eq!(h(r#"{"storageSettings":{}}"#).unwrap(), None);
        assert_eq!(h(r#"{"storageSettings":{"expiresIn":"never"}}"#).unwrap(), None, "never: nothing sent, as the official client");
        for (name, secs) in EXPIRATION_PRESETS.iter().filter_map(|(n, s)| s.map(|s| (n, s))) {
            let got = h(&format!(r#"{{"storageSettings":{{"expiresIn":"{name}"}}}}"#)).unwrap();
            assert_eq!(got, Some((OUTPUT_LIFECYCLE_HEADER, format!(r#"{{"expiration_duration_seconds":{secs}}}"#))), "{name}");
        }
        assert_eq!(EXPIRATION_PRESETS.iter().map(|p| p.1.unwrap_or(0)).collect::<Vec<_>>(), [0, 60, 3600, 86400, 604800, 2592000, 31536000]);
        // The ACL comes after the expiry whatever the caller's order, like the official client's object.
        let both = r#"{"storageSettings":{"initialAcl":{"rules":[{"user":"u1","decision":"allow"}],"default":"hide"},"expiresIn":90}}"#;
        assert_eq!(
            h(both).unwrap().unwrap().1,
            r#"{"expiration_duration_seconds":90,"initial_acl":{"rules":[{"user":"u1","decision":"allow"}],"default":"hide"}}"#
        );
        let s = submit(&v(r#"{"storageSettings":{"expiresIn":"1h"},"priority":"low"}"#)).unwrap();
        assert!(s.headers.contains(&(OUTPUT_LIFECYCLE_HEADER.into(), r#"{"expiration_duration_seconds":3600}"#.into())));
        assert_eq!(
            run(&v(r#"{"storageSettings":{"expiresIn":"1d"}}"#)).unwrap().headers,
            vec![(OUTPUT_LIFECYCLE_HEADER.into(), r#"{"expiration_duration_seconds":86400}"#.into())]
        );
        let up = upload(&v(r#"{"lifecycle":{"expiresIn":"immediate","initialAcl":{"default":"forbid"}}}"#)).unwrap();
        assert_eq!(up.lifecycle.as_deref(), Some(r#"{"expiration_duration_seconds":60,"initial_acl":{"default":"forbid"}}"#));
    }

    #[test]
    fn bad_lifecycles_are_typed_errors_naming_the_field() {
        let e = |json: &str| err(storage_settings(&v(json)));
        assert_eq!(e(r#"{"storageSettings":"1h"}"#), "option 'storageSettings' must be an object {expiresIn?, initialAcl?}");
        assert!(e(r#"{"storageSettings":{"expiresIn":"2h"}}"#).starts_with("option 'storageSettings.expiresIn' must be 'never', 'immediate'"));
        assert!(e(r#"{"storageSettings":{"expiresIn":"2h"}}"#).ends_with("not '2h'"));
        for n in ["0", "-5", "1.5", "true", "1e300"] {
            assert!(e(&format!(r#"{{"storageSettings":{{"expiresIn":{n}}}}}"#)).contains("whole number of seconds of at least 1"), "{n}");
        }
        assert_eq!(e(r#"{"storageSettings":{"expires":"1h"}}"#), "option 'storageSettings' has no field 'expires' (it takes expiresIn and initialAcl)");
        assert_eq!(
            e(r#"{"storageSettings":{"initialAcl":{"default":"public"}}}"#),
            "option 'storageSettings.initialAcl' default must be 'hide', 'forbid' or 'allow'"
        );
        assert_eq!(e(r#"{"storageSettings":{"initialAcl":[]}}"#), "option 'storageSettings.initialAcl' must be an object {default?, rules?}");
        assert_eq!(e(r#"{"storageSettings":{"initialAcl":{"rules":{}}}}"#), "option 'storageSettings.initialAcl' rules must be an array of {user, decision}");
        assert_eq!(
            e(r#"{"storageSettings":{"initialAcl":{"rules":[{"user":"a","decision":"allow"},{"user":"b"}]}}}"#),
            "option 'storageSettings.initialAcl' rules[1] must be {user: string, decision}"
        );
        assert_eq!(
            e(r#"{"storageSettings":{"initialAcl":{"rules":[{"user":"a","decision":"deny"}]}}}"#),
            "option 'storageSettings.initialAcl' rules[0].decision must be 'hide', 'forbid' or 'allow'"
        );
        assert!(e(r#"{"storageSettings":{"initialAcl":{"rules":[{"user":" ","decision":"allow"}]}}}"#).contains("non-empty user"));
        assert!(e(r#"{"storageSettings":{"initialAcl":{"owner":"me"}}}"#).contains("has no field 'owner'"));
        assert!(err(upload(&v(r#"{"lifecycle":{"expiresIn":0}}"#))).starts_with("option 'lifecycle.expiresIn'"));
        assert!(err(submit(&v(r#"{"storageSettings":5}"#))).starts_with("option 'storageSettings' must be"));
    }
}
