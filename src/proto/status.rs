//! Queue status as the upstream reports it, reduced to what ordering needs.
//!
//! The full object still reaches the caller untouched (unknown fields kept);
//! this view only decides whether an update is news.

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
    pub logs: usize,
    pub request_id: Option<String>,
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
            Value::Null => 0,
            Value::Arr(a) => a.len(),
            Value::Bytes(b) => b.len(),
            other => return Err(BadStatus(other.invalid_type("a sequence"))),
        };
        Self::from_fields(field("status"), field("queue_position"), logs, field("request_id"))
    }

    /// Builds the view from the fields that matter (`Null` for a missing one) and the number of logs.
    pub fn from_fields(status: &Value, queue_position: &Value, logs: usize, request_id: &Value) -> Result<Self, BadStatus> {
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
        Ok(Status { phase, queue_position, logs, request_id: string(request_id)?.map(String::from) })
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
        let s = parse(r#"{"status":"IN_PROGRESS","logs":[{"message":"a"},{"message":"b"}]}"#).unwrap();
        assert_eq!((s.phase, s.logs), (Phase::InProgress, 2));
        let s = parse(r#"{"status":"COMPLETED","logs":null,"metrics":{"inference_time":1.2}}"#).unwrap();
        assert_eq!((s.phase, s.logs), (Phase::Completed, 0));
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
