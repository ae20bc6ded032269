//! The thin web edge: the JS API over fetch, streams, sockets, XHR and timers. Every decision is
//! the core's (`src/proto`); these modules carry them out and convert values. Layered, with no
//! import circle (scripts/edge-check.mjs): `js`, `chan`, `listen` → `conv` → `error`, `abort`,
//! `http` → `shared` → `call` → `queue`, `storage`, `validate`, `stream` → `subscribe` →
//! `realtime` → this file and `decode`.

mod call;
mod conv;
mod decode;
mod error;
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

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::proto::config::{ClientConfig, ConfigError};
use js::promise;
use shared::Shared;

/// One client: a proxy route and the calls made through it, with their retry
/// policy, circuit breakers, events and stats.
#[wasm_bindgen]
pub struct GenwireClient {
    shared: Rc<Shared>,
    realtime: Rc<realtime::Hub>,
}

/// A request's endpoint, options (as the core reads them) and signal.
fn request(
    endpoint: &str,
    options: &JsValue,
) -> Result<(crate::proto::endpoint::EndpointId, crate::proto::value::Value, Option<web_sys::AbortSignal>), JsValue> {
    let ep = error::endpoint(endpoint)?;
    let plain = error::options(options, &["input", "signal"])?;
    Ok((ep, plain, error::opt_signal(options, "signal")?))
}

#[wasm_bindgen]
impl GenwireClient {
    /// Throws a `GenwireError` of kind `config` for a key, credentials or an unusable option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<GenwireClient, JsValue> {
        let cfg = conv::options(&options, &[])
            .map_err(ConfigError::BadOptions)
            .and_then(|v| ClientConfig::from_value(&v))
            .map_err(|e| error::config(&e.to_string()))?;
        let shared = Shared::new(cfg, error::opt_fn(&options, "onEvent")?);
        Ok(Self { realtime: realtime::Hub::new(shared.clone()), shared })
    }

    #[wasm_bindgen(getter, js_name = proxyUrl)]
    pub fn proxy_url(&self) -> String {
        self.shared.cfg().proxy_url.clone()
    }

    pub fn submit(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let (ep, plain, signal) = request(&endpoint, &options)?;
            let extras = crate::proto::options::submit(&plain).map_err(error::option)?;
            let body = queue::prepare(&s, &ep, &options, &plain, signal.as_ref()).await?;
            queue::submit(&s, &ep, &body, &extras, signal.as_ref()).await.map(|(_, _, raw)| raw)
        })
    }

    pub fn status(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let (ep, plain, signal) = request(&endpoint, &options)?;
            let id = crate::proto::options::request_id(&plain).map_err(error::option)?;
            let logs = crate::proto::options::logs(&plain).map_err(error::option)?;
            queue::status(&s, &ep, &id, logs, signal.as_ref()).await.map(|(_, raw)| raw)
        })
    }

    pub fn result(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let (ep, plain, signal) = request(&endpoint, &options)?;
            let id = crate::proto::options::request_id(&plain).map_err(error::option)?;
            queue::result(&s, &ep, &id, signal.as_ref()).await
        })
    }

    pub fn cancel(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let (ep, plain, _) = request(&endpoint, &options)?;
            let id = crate::proto::options::request_id(&plain).map_err(error::option)?;
            queue::cancel(&s, &ep, &id).await
        })
    }

    pub fn subscribe(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        promise(subscribe::subscribe(self.shared.clone(), endpoint, options))
    }

    pub fn run(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let (ep, plain, signal) = request(&endpoint, &options)?;
            let body = queue::prepare(&s, &ep, &options, &plain, signal.as_ref()).await?;
            queue::run(&s, &ep, &body, signal.as_ref()).await
        })
    }

    /// The input's issues by the endpoint's schema, without sending it. Rejects when no schema can be had.
    pub fn validate(&self, endpoint: String, input: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = error::endpoint(&endpoint)?;
            let schema = validate::schema_for(&s, &ep).await?;
            Ok(validate::issues_to_js(&validate::issues_of(&s, &ep, Some(&schema), &input).await))
        })
    }

    /// Uploads a File, Blob, typed array or ArrayBuffer; resolves to its URL.
    pub fn upload(&self, data: JsValue, options: JsValue) -> js_sys::Promise {
        promise(storage::upload(self.shared.clone(), data, options))
    }

    /// Opens (or joins, by `connectionKey`) a realtime connection.
    #[wasm_bindgen(js_name = realtimeConnect)]
    pub fn realtime_connect(&self, endpoint: String, options: JsValue) -> Result<realtime::RealtimeConnection, JsValue> {
        self.realtime.connect(&endpoint, &options)
    }

    /// What realtime holds right now: registered connections, sockets, window listeners, timers.
    #[wasm_bindgen(js_name = realtimeDebug)]
    pub fn realtime_debug(&self) -> JsValue {
        let n = |k: &str, v: usize| (k.to_string(), crate::proto::value::Value::Num(v as f64));
        let alive = |kind| tasks::count(kind).max(0) as usize;
        conv::from_value(&crate::proto::value::Value::Obj(vec![
            n("connections", self.realtime.len()),
            n("sockets", alive(tasks::SOCKETS)),
            n("listeners", alive(tasks::LISTENERS)),
            n("timers", alive(tasks::TIMERS)),
        ]))
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
