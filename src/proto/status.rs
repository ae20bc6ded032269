//! Queue status as the upstream reports it, reduced to what ordering needs.
//!
//! The full object still reaches the caller untouched (unknown fields kept);
//! this view only decides whether an update is news.

use crate::proto::logs::LogKey;
use crate::proto::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    InQueue,
    InProgress,
    Completed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::InQueue => "IN_QUEUE",
            Phase::InProgress => "IN_PROGRESS",
            Phase::Completed => "COMPLETED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub phase: Phase,
    pub queue_position: Option<u64>,
    /// The keys of the log lines this answer carries, in its order (see `proto::logs`).
    pub logs: Vec<LogKey>,
    pub request_id: Option<String>,
    /// COMPLETED with `error` or `error_type`: fal's sign of a failed job (never `FAILED`).
    pub failed: bool,
}

/// A log line's key from its two fields: strings as they are, anything else as nothing
/// (a line without a usable timestamp is then known by its message alone).
pub fn log_key(timestamp: &Value, message: &Value) -> LogKey {
    let text = |v: &Value| match v {
        Value::Str(s) => s.clone(),
        _ => String::new(),
    };
    LogKey { timestamp: text(timestamp), message: text(message) }
}

fn string(v: &Value) -> Result<Option<&str>, BadStatus> {
    match v {
        Value::Null => Ok(None),
        Value::Str(s) => Ok(Some(s)),
        other => Err(BadStatus(other.invalid_type("a string"))),
    }
}

/// Why a status object could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadStatus(pub String);

impl Status {
    /// Builds the view from anything serde can read (JSON in tests and the fuzzer).
    pub fn from_deserializer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, BadStatus> {
        let v = Value::from_deserializer(d).map_err(|e| BadStatus(e.to_string()))?;
        Self::from_value(&v)
    }

    /// Builds the view from a decoded status object.
    pub fn from_value(v: &Value) -> Result<Self, BadStatus> {
        if !matches!(v, Value::Obj(_) | Value::Arr(_)) {
            return Err(BadStatus(v.invalid_type("struct Wire")));
        }
        let field = |k: &str| v.get(k).unwrap_or(&Value::Null);
        let logs = match field("logs") {
            Value::Null => Vec::new(),
            Value::Arr(a) => a.iter().map(|l| log_key(l.get("timestamp").unwrap_or(&Value::Null), l.get("message").unwrap_or(&Value::Null))).collect(),
            other => return Err(BadStatus(other.invalid_type("a sequence"))),
        };
        let mut s = Self::from_fields(field("status"), field("queue_position"), logs, field("request_id"))?;
        s.failed = s.phase == Phase::Completed && (!field("error").is_null() || !field("error_type").is_null());
        Ok(s)
    }

    /// A submit answer: like a status, but one without `status` (an older docs example has
    /// none; fal's Python client needs only the id and the URLs) is taken as just queued.
    pub fn from_submit_fields(status: &Value, queue_position: &Value, logs: Vec<LogKey>, request_id: &Value) -> Result<Self, BadStatus> {
        match status {
            Value::Null => Self::from_fields(&Value::Str("IN_QUEUE".into()), queue_position, logs, request_id),
            _ => Self::from_fields(status, queue_position, logs, request_id),
        }
    }

    /// Builds the view from the fields that matter (`Null` for a missing one) and the log keys.
    pub fn from_fields(status: &Value, queue_position: &Value, logs: Vec<LogKey>, request_id: &Value) -> Result<Self, BadStatus> {
        // Any number is accepted for `queue_position`; a wrong type there is not worth failing a job for.
        let queue_position = match queue_position {
            // A safe integer reads as i64, anything else as f64 (as the JS and JSON readers hand them over).
            Value::Num(n) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 => u64::try_from(*n as i64).ok(),
            Value::Num(n) => (n.is_finite() && *n >= 0.0).then_some(*n as u64),
            Value::Null | Value::Str(_) | Value::Bool(_) => None,
            other => return Err(BadStatus(other.invalid_type("a queue position"))),
        };
        let phase = match string(status)? {
            Some("IN_QUEUE") => Phase::InQueue,
            Some("IN_PROGRESS") => Phase::InProgress,
            Some("COMPLETED") => Phase::Completed,
            Some(other) => return Err(BadStatus(format!("unknown queue status '{other}'"))),
            None => return Err(BadStatus("the status object has no 'status' field".into())),
        };
        Ok(Status { phase, queue_position, logs, request_id: string(request_id)?.map(String::from), failed: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Status, BadStatus> {
        let mut de = serde_json::Deserializer::from_str(json);
        Status::from_deserializer(&mut de)
    }

    #[test]
    fn reads_the_three_phases() {
        let s = parse(r#"{"status":"IN_QUEUE","request_id":"r1","queue_position":3,"extra":{}}"#).unwrap();
        assert_eq!((s.phase, s.queue_position, s.request_id.as_deref()), (Phase::InQueue, Some(3), Some("r1")));
        let s = parse(r#"{"status":"IN_PROGRESS","logs":[{"message":"a","timestamp":"t1"},{"message":"b"},7]}"#).unwrap();
        assert_eq!(s.phase, Phase::InProgress);
        assert_eq!(s.logs, [LogKey::new("t1", "a"), LogKey::new("", "b"), LogKey::default()]);
        let s = parse(r#"{"status":"COMPLETED","logs":null,"metrics":{"inference_time":1.2}}"#).unwrap();
        assert_eq!((s.phase, s.logs.len()), (Phase::Completed, 0));
    }

    #[test]
    fn a_submit_answer_without_status_is_queued() {
        let id = Value::Str("r1".into());
        let s = Status::from_submit_fields(&Value::Null, &Value::Null, Vec::new(), &id).unwrap();
        assert_eq!((s.phase, s.request_id.as_deref()), (Phase::InQueue, Some("r1")));
        assert!(Status::from_submit_fields(&Value::Str("WEIRD".into()), &Value::Null, Vec::new(), &id).is_err());
        assert!(Status::from_fields(&Value::Null, &Value::Null, Vec::new(), &id).is_err(), "a status answer still needs its status");
    }

    #[test]
    fn tolerates_odd_queue_positions() {
        assert_eq!(parse(r#"{"status":"IN_QUEUE","queue_position":"3"}"#).unwrap().queue_position, None);
        assert_eq!(parse(r#"{"status":"IN_QUEUE","queue_position":-1}"#).unwrap().queue_position, None);
        assert_eq!(parse(r#"{"status":"IN_QUEUE","queue_position":2.0}"#).unwrap().queue_position, Some(2));
    }

    #[test]
    fn unknown_or_missing_status_is_an_error_not_a_panic() {
        assert!(parse(r#"{"status":"WEIRD"}"#).is_err());
        assert!(parse(r#"{"queue_position":1}"#).is_err());
        assert!(parse(r#"[1,2]"#).is_err());
        assert!(parse(r#"{"status":5}"#).is_err());
    }
}
