//! Each endpoint's compiled schema, loaded once per client: concurrent callers share one load
//! (`W`, the edge's handle to wait on), a document is compiled by the first waiter to wake, and
//! a load that failed is not tried again for a minute (its error `E` is answered meanwhile).
//! `S` is the compiled schema: a [`Schema`] here, the edge's handle to one in the validator
//! module in the browser (compiled there as the load ends: [`Cache::settled`]).
//! A schema that can't be had never blocks a request: the server stays the judge.

use std::rc::Rc;

use crate::proto::map::Map;
use crate::proto::schema::Schema;
use crate::proto::time::{Duration, Instant};
use crate::proto::value::Value;

/// After a failed load, the endpoint is not tried again for this long.
pub const RETRY_LOAD_MS: f64 = 60_000.0;

/// fal's public OpenAPI document of an endpoint (reached through the proxy). The id is
/// percent-encoded in the query (`fal-ai%2Fflux%2Fdev`, which fal decodes): a proxy allowlist
/// written with glob patterns (`endpoint_id=**` in `@fal-ai/server-proxy`, where `*` and `**` stop
/// at `/`) matches it, as it never matches the raw `fal-ai/flux/dev`.
pub fn openapi_url(endpoint: &str) -> String {
    let mut url = String::from("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=");
    for b in endpoint.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[derive(Debug)]
enum Slot<W, E, S> {
    Loading(W),
    Ready(S),
    Failed { until: Instant, error: E },
}

#[derive(Debug)]
pub enum Lookup<W, E, S = Rc<Schema>> {
    Ready(S),
    Failed(E),
    /// Someone is loading it: wait on this, then call [`Cache::loaded`].
    Wait(W),
    /// Nobody is: load it, say so with [`Cache::loading`], then call [`Cache::loaded`].
    Load,
}

#[derive(Debug)]
pub struct Cache<W, E, S = Rc<Schema>> {
    slots: Map<Slot<W, E, S>>,
}

impl<W: Clone, E: Clone, S: Clone> Default for Cache<W, E, S> {
    fn default() -> Self {
        Self { slots: Map::new() }
    }
}

impl<W: Clone, E: Clone, S: Clone> Cache<W, E, S> {
    pub fn lookup(&self, key: &str, now: Instant) -> Lookup<W, E, S> {
        match self.slots.get(key) {
            Some(Slot::Ready(s)) => Lookup::Ready(s.clone()),
            Some(Slot::Failed { until, error }) if now < *until => Lookup::Failed(error.clone()),
            Some(Slot::Loading(w)) => Lookup::Wait(w.clone()),
            _ => Lookup::Load,
        }
    }

    pub fn loading(&mut self, key: &str, w: W) {
        self.slots.insert(key.into(), Slot::Loading(w));
    }

    /// The load ended with `compiled` (the schema, or why there is none). The first waiter
    /// records it; later ones find it ready (or failed). Returns the schema or the error, and
    /// whether this call recorded a new failure.
    pub fn settled(&mut self, key: &str, compiled: Result<S, E>, now: Instant) -> (Result<S, E>, bool) {
        match self.slots.get(key) {
            Some(Slot::Ready(s)) => return (Ok(s.clone()), false),
            Some(Slot::Failed { error, .. }) => return (Err(error.clone()), false),
            _ => {}
        }
        match compiled {
            Ok(s) => {
                self.slots.insert(key.into(), Slot::Ready(s.clone()));
                (Ok(s), false)
            }
            Err(error) => {
                self.slots.insert(key.into(), Slot::Failed { until: now + Duration::ms(RETRY_LOAD_MS), error: error.clone() });
                (Err(error), true)
            }
        }
    }
}

impl<W: Clone, E: Clone> Cache<W, E> {
    /// The load ended with `doc`: [`Cache::settled`] with the document compiled here, once
    /// (`bad` turns a document that can't be compiled into an error).
    pub fn loaded(&mut self, key: &str, doc: Result<&Value, E>, now: Instant, bad: impl FnOnce(String) -> E) -> (Result<Rc<Schema>, E>, bool) {
        if let Some(Slot::Ready(_) | Slot::Failed { .. }) = self.slots.get(key) {
            return self.settled(key, Err(bad(String::new())), now);
        }
        let compiled =
            doc.and_then(|d| Schema::from_openapi(d, Some(key)).map(Rc::new).map_err(|e| bad(format!("The input schema of {key} can't be used: {e}."))));
        self.settled(key, compiled, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type C = Cache<u8, String>;

    fn doc() -> Value {
        Value::from_deserializer(&mut serde_json::Deserializer::from_str(r#"{"type":"object","properties":{"prompt":{"type":"string"}}}"#)).unwrap()
    }

    #[test]
    fn one_load_shared_then_ready() {
        let mut c = C::default();
        assert!(matches!(c.lookup("a/b", Instant::at(0.0)), Lookup::Load));
        c.loading("a/b", 7);
        assert!(matches!(c.lookup("a/b", Instant::at(1.0)), Lookup::Wait(7)));
        let d = doc();
        let (first, failed) = c.loaded("a/b", Ok(&d), Instant::at(5.0), |m| m);
        assert!(first.is_ok() && !failed);
        let (second, _) = c.loaded("a/b", Err("ignored: already compiled".into()), Instant::at(5.0), |m| m);
        assert!(Rc::ptr_eq(&first.unwrap(), &second.unwrap()), "compiled once");
        assert!(matches!(c.lookup("a/b", Instant::at(9.0)), Lookup::Ready(_)));
    }

    #[test]
    fn a_failed_load_is_answered_for_a_minute_then_tried_again() {
        let mut c = C::default();
        c.loading("a/b", 1);
        let (r, failed) = c.loaded("a/b", Err("offline".into()), Instant::at(1_000.0), |m| m);
        assert_eq!((r.err().as_deref(), failed), (Some("offline"), true));
        let (r, failed) = c.loaded("a/b", Err("other waiter".into()), Instant::at(1_000.0), |m| m);
        assert_eq!((r.err().as_deref(), failed), (Some("offline"), false), "told once");
        assert!(matches!(c.lookup("a/b", Instant::at(60_999.0)), Lookup::Failed(e) if e == "offline"));
        assert!(matches!(c.lookup("a/b", Instant::at(61_000.0)), Lookup::Load));
        let bad = Value::Str("not a schema".into());
        c.loading("a/b", 2);
        let (r, _) = c.loaded("a/b", Ok(&bad), Instant::at(61_000.0), |m| m);
        assert!(r.unwrap_err().starts_with("The input schema of a/b can't be used: "));
    }
}

#[cfg(test)]
mod url_tests {
    use super::openapi_url;

    #[test]
    fn the_endpoint_id_is_percent_encoded_in_the_query() {
        assert_eq!(openapi_url("fal-ai/flux/dev"), "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai%2Fflux%2Fdev");
        assert_eq!(openapi_url("a b&c=é"), "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=a%20b%26c%3D%C3%A9");
    }
}
