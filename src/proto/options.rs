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
    headers.extend(storage_settings(v)?);
    Ok(SubmitExtras { webhook: o.str("webhookUrl")?, headers })
}

/// What a synchronous run sends besides the input: the outputs' lifecycle.
pub fn run(v: &Value) -> R<Vec<(&'static str, String)>> {
    Ok(storage_settings(v)?.into_iter().collect())
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
    Ok(Subscribe { machine, logs: logs(v)?, submit: submit(v)? })
}

/// `client.stream`'s options: the stall window (`stallTimeout`, ms without a byte) and the deadline (`timeout`).
pub fn stream(v: &Value) -> R<crate::proto::stream::Config> {
    let o = Reader::of(v);
    let mut c = crate::proto::stream::Config::default();
    if let Some(d) = o.ms("stallTimeout", 10.0)? {
        c.stall = d;
    }
    c.timeout = o.ms("timeout", 1.0)?;
    Ok(c)
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
    fn stream_options_with_their_defaults_and_ranges() {
        let c = stream(&v("{}")).unwrap();
        assert_eq!((c.stall, c.timeout), (Duration::ms(crate::proto::stream::DEFAULT_STALL_MS), None));
        let c = stream(&v(r#"{"stallTimeout":2000,"timeout":60000}"#)).unwrap();
        assert_eq!((c.stall, c.timeout), (Duration::ms(2_000.0), Some(Duration::ms(60_000.0))));
        assert_eq!(err(stream(&v(r#"{"stallTimeout":5}"#))), "option 'stallTimeout' must be a number of at least 10");
        assert_eq!(err(stream(&v(r#"{"timeout":0}"#))), "option 'timeout' must be a number of at least 1");
        assert_eq!(err(stream(&v(r#"{"timeout":"1s"}"#))), "option 'timeout' must be a number of at least 1");
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
        assert!(s.headers.contains(&(OUTPUT_LIFECYCLE_HEADER, r#"{"expiration_duration_seconds":3600}"#.into())));
        assert_eq!(
            run(&v(r#"{"storageSettings":{"expiresIn":"1d"}}"#)).unwrap(),
            vec![(OUTPUT_LIFECYCLE_HEADER, r#"{"expiration_duration_seconds":86400}"#.into())]
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
