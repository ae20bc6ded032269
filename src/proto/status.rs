//! Queue status as the upstream reports it, reduced to what ordering needs.
//!
//! The full object still reaches the caller untouched (unknown fields kept);
//! this view only decides whether an update is news.

use serde::de::IgnoredAny;
use serde::Deserialize;

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

/// Why a status object could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadStatus(pub String);

#[derive(Deserialize)]
struct Wire {
    status: Option<String>,
    #[serde(default)]
    queue_position: Option<IgnoredAnyNumber>,
    #[serde(default)]
    logs: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    request_id: Option<String>,
}

/// Accepts any number for `queue_position`; a wrong type there is not worth failing a job for.
struct IgnoredAnyNumber(Option<u64>);

impl<'de> Deserialize<'de> for IgnoredAnyNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = IgnoredAnyNumber;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("a queue position")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(IgnoredAnyNumber(Some(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(IgnoredAnyNumber(u64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(IgnoredAnyNumber((v.is_finite() && v >= 0.0).then_some(v as u64)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(IgnoredAnyNumber(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(IgnoredAnyNumber(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(IgnoredAnyNumber(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(IgnoredAnyNumber(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl Status {
    /// Builds the view from anything serde can read (a JS object in the browser, JSON in tests).
    pub fn from_deserializer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, BadStatus> {
        let w = Wire::deserialize(d).map_err(|e| BadStatus(e.to_string()))?;
        let phase = match w.status.as_deref() {
            Some("IN_QUEUE") => Phase::InQueue,
            Some("IN_PROGRESS") => Phase::InProgress,
            Some("COMPLETED") => Phase::Completed,
            Some(other) => return Err(BadStatus(format!("unknown queue status '{other}'"))),
            None => return Err(BadStatus("the status object has no 'status' field".into())),
        };
        Ok(Status {
            phase,
            queue_position: w.queue_position.and_then(|q| q.0),
            logs: w.logs.map_or(0, |l| l.len()),
            request_id: w.request_id,
        })
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
