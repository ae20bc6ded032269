//! The thin web edge: the JS API over fetch, streams, sockets, XHR and timers. Every decision is
//! the core's (`src/proto`); these modules carry them out and convert values. Layered, with no
//! import circle (scripts/edge-check.mjs): `js` → `conv`, `tasks`, `http` → `shared` → `call` →
//! `queue`, `storage`, `validate` → `subscribe`, `stream` → `realtime` → this file, `decode`.

mod call;
mod conv;
mod decode;
mod http;
mod js;
mod queue;
mod realtime;
mod shared;
mod storage;
mod stream;
mod subscribe;
mod tasks;
mod validate;

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::proto::config::ClientConfig;
use crate::proto::endpoint::EndpointId;
use crate::proto::options as opt;
use crate::proto::value::Value;
use js::{promise, JsResult};
use shared::Shared;

/// One client: a proxy route and the calls made through it, with their retry
/// policy, circuit breakers, events and stats.
#[wasm_bindgen]
pub struct GenwireClient {
    shared: Rc<Shared>,
    realtime: Rc<realtime::Hub>,
}

type Request = (Rc<Shared>, EndpointId, Value, Option<AbortSignal>, JsValue);
type Body = core::pin::Pin<Box<dyn core::future::Future<Output = JsResult>>>;

impl GenwireClient {
    /// An export's promise: `f` of the shared state, the endpoint, the options as the core reads
    /// them, the signal. (One instance of the reading for every export: `f` is boxed.)
    fn go(&self, endpoint: String, options: JsValue, f: fn(Request) -> Body) -> Promise {
        let s = self.shared.clone();
        promise(async move {
            let (ep, plain, signal) = (conv::endpoint(&endpoint)?, conv::options(&options, &["input", "signal"])?, conv::opt_signal(&options, "signal")?);
            f((s, ep, plain, signal, options)).await
        })
    }
}

#[wasm_bindgen]
impl GenwireClient {
    /// Throws a `GenwireError` of kind `config` for a key, credentials or an unusable option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<GenwireClient, JsValue> {
        let cfg = ClientConfig::from_value(&conv::options(&options, &[])?).map_err(|e| conv::config(&e.to_string()))?;
        let shared = Shared::new(cfg, conv::opt_fn(&options, "onEvent")?);
        Ok(Self { realtime: realtime::Hub::new(shared.clone()), shared })
    }

    #[wasm_bindgen(getter, js_name = proxyUrl)]
    pub fn proxy_url(&self) -> String {
        self.shared.cfg().proxy_url.clone()
    }

    pub fn submit(&self, endpoint: String, options: JsValue) -> Promise {
        self.go(endpoint, options, |(s, ep, plain, signal, options)| {
            Box::pin(async move {
                let extras = opt::submit(&plain).map_err(conv::option)?;
                let body = queue::prepare(&s, &ep, &options, &plain, signal.as_ref()).await?;
                queue::submit(&s, &ep, &body, &extras, signal.as_ref()).await.map(|(_, _, raw)| raw)
            })
        })
    }

    pub fn status(&self, endpoint: String, options: JsValue) -> Promise {
        self.go(endpoint, options, |(s, ep, plain, signal, _)| {
            Box::pin(async move {
                let (id, logs) = (opt::request_id(&plain).map_err(conv::option)?, opt::logs(&plain).map_err(conv::option)?);
                queue::status(&s, &ep, &id, logs, signal.as_ref()).await.map(|(_, raw)| raw)
            })
        })
    }

    pub fn result(&self, endpoint: String, options: JsValue) -> Promise {
        self.go(endpoint, options, |(s, ep, plain, signal, _)| {
            Box::pin(async move { queue::result(&s, &ep, &opt::request_id(&plain).map_err(conv::option)?, false, signal.as_ref()).await })
        })
    }

    pub fn cancel(&self, endpoint: String, options: JsValue) -> Promise {
        self.go(endpoint, options, |(s, ep, plain, _, _)| {
            Box::pin(async move { queue::cancel(&s, &ep, &opt::request_id(&plain).map_err(conv::option)?).await })
        })
    }

    pub fn subscribe(&self, endpoint: String, options: JsValue) -> Promise {
        promise(subscribe::subscribe(self.shared.clone(), endpoint, options))
    }

    /// An output stream (`fal.run/{id}/stream`): `on_partial(output)` for each partial output (a
    /// parsed event, or a `Uint8Array` chunk of a binary answer), `on_open(requestId)` when the
    /// answer's head is in; resolves with the final output (the last one). The facade (js/index.js)
    /// makes the async iterator of it.
    pub fn stream(&self, endpoint: String, options: JsValue, on_partial: Function, on_open: Function) -> Promise {
        promise(stream::stream(self.shared.clone(), endpoint, options, on_partial, on_open))
    }

    pub fn run(&self, endpoint: String, options: JsValue) -> Promise {
        self.go(endpoint, options, |(s, ep, plain, signal, options)| {
            Box::pin(async move {
                let extras = opt::run(&plain).map_err(conv::option)?;
                let body = queue::prepare(&s, &ep, &options, &plain, signal.as_ref()).await?;
                queue::run(&s, &ep, &body, &extras, signal.as_ref()).await
            })
        })
    }

    /// The input's issues by the endpoint's schema, without sending it. Rejects when no schema can be had.
    pub fn validate(&self, endpoint: String, input: JsValue) -> Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = conv::endpoint(&endpoint)?;
            let schema = validate::schema_for(&s, &ep).await?;
            Ok(validate::issues_to_js(&validate::issues_of(&s, &ep, Some(&schema), &input).await))
        })
    }

    /// Uploads a File, Blob, typed array or ArrayBuffer; resolves to its URL.
    pub fn upload(&self, data: JsValue, options: JsValue) -> Promise {
        promise(storage::upload(self.shared.clone(), data, options))
    }

    /// Opens (or joins, by `connectionKey`) a realtime connection.
    #[wasm_bindgen(js_name = realtimeConnect)]
    pub fn realtime_connect(&self, endpoint: String, options: JsValue) -> Result<realtime::RealtimeConnection, JsValue> {
        self.realtime.connect(&endpoint, &options)
    }

    /// What genwire holds right now: registered connections, sockets, listeners and timers (of every call in flight too).
    #[wasm_bindgen(js_name = realtimeDebug)]
    pub fn realtime_debug(&self) -> JsValue {
        let n = |k: &str, v: usize| (k.to_string(), Value::Num(v as f64));
        let alive = |kind| tasks::count(kind).max(0) as usize;
        let counts = [
            n("connections", self.realtime.len()),
            n("sockets", alive(tasks::SOCKETS)),
            n("listeners", alive(tasks::LISTENERS)),
            n("timers", alive(tasks::TIMERS)),
        ];
        conv::from_value(&Value::Obj(counts.into()))
    }

    /// Listens to every attempt, retry, error, success and breaker change. Returns the unsubscribe function.
    pub fn on(&self, listener: Function) -> Function {
        self.shared.listen(listener.clone());
        let shared = Rc::downgrade(&self.shared);
        Closure::once_into_js(move || shared.upgrade().iter().for_each(|s| s.unlisten(&listener))).unchecked_into()
    }

    /// A rolling summary of the last five minutes, plus the state of every troubled endpoint's breaker.
    pub fn stats(&self) -> JsValue {
        conv::from_value(&self.shared.with_policy(|p| crate::proto::shapes::stats(p, js::clock())))
    }
}
