//! The thin web edge: the JS API over fetch, streams, sockets, XHR and timers. Every decision is
//! the core's (`src/proto`); these modules carry them out and convert values. Layered, with no
//! import circle (scripts/edge-check.mjs): `js` → `conv`, `tasks`, `http` → `shared` → `call` →
//! `queue`, `storage`, `validate` → `subscribe`, `stream` → `realtime` → this file, `decode`.

mod call;
mod conv;
mod decode;
mod http;
mod js;
mod modules;
mod queue;
#[cfg(feature = "realtime")]
mod realtime;
mod shared;
mod storage;
mod stream;
mod subscribe;
mod tasks;
mod validate;
#[cfg(feature = "validator")]
mod validator;

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
    #[cfg(feature = "realtime")]
    realtime: Rc<realtime::Hub>,
}

type Request = (Rc<Shared>, EndpointId, Value, Option<AbortSignal>, JsValue);
type Body = core::pin::Pin<Box<dyn core::future::Future<Output = JsResult>>>;

impl GenwireClient {
    /// An export's promise: `f` of the shared state, the endpoint, the options as the core reads
    /// them, the signal (the caller's, `abortSignal` too, ended by the call's `timeout`). Options
    /// `call` does not have are warned about. (One instance of the reading for every export: `f` is boxed.)
    fn go(&self, call: &'static str, endpoint: JsValue, options: JsValue, f: fn(Request) -> Body) -> Promise {
        let s = self.shared.clone();
        promise(async move {
            let (ep, plain, signal) = (conv::endpoint(&endpoint)?, conv::options(&options, &conv::SKIP)?, conv::signal(&options)?);
            s.warn_unknown(call, &options, &plain);
            let Some(after) = opt::timeout(&plain).map_err(conv::option)? else { return f((s, ep, plain, signal, options)).await };
            let deadline = tasks::Deadline::new(after, signal.as_ref())?;
            match deadline.race(f((s, ep, plain, Some(deadline.signal()), options))).await {
                Some(r) if !deadline.fired() => r,
                _ => {
                    let (info, extra) = crate::proto::shapes::call_timed_out(after.as_ms());
                    Err(conv::with(&info, &extra))
                }
            }
        })
    }
}

#[wasm_bindgen]
impl GenwireClient {
    /// Throws a `GenwireError` of kind `config` for a key, credentials or an unusable option.
    /// `dev`: a development build (the JS entry decides), where unknown options are warned about.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, dev: Option<bool>) -> Result<GenwireClient, JsValue> {
        let plain = conv::options(&options, &[])?;
        let cfg = ClientConfig::from_value(&plain).map_err(|e| conv::config(&e.to_string()))?;
        let net = http::Net {
            fetch: conv::opt_fn(&options, "fetch")?,
            on_request: conv::opt_fn(&options, "onRequest")?,
            on_response: conv::opt_fn(&options, "onResponse")?,
            headers: Vec::new(),
        };
        let shared = Shared::new(cfg, conv::opt_fn(&options, "onEvent")?, net, dev.unwrap_or(true));
        shared.warn_unknown("client", &options, &plain);
        Ok(Self {
            #[cfg(feature = "realtime")]
            realtime: realtime::Hub::new(shared.clone()),
            shared,
        })
    }

    #[wasm_bindgen(getter, js_name = proxyUrl)]
    pub fn proxy_url(&self) -> String {
        self.shared.cfg().proxy_url.clone()
    }

    pub fn submit(&self, endpoint: JsValue, options: JsValue) -> Promise {
        self.go("submit", endpoint, options, |(s, ep, plain, signal, options)| {
            Box::pin(async move {
                let extras = opt::submit(&plain).map_err(conv::option)?;
                let body = queue::prepare(&s, &ep, &options, &plain, signal.as_ref()).await?;
                queue::submit(&s, &ep, &body, &extras, signal.as_ref()).await.map(|(_, _, raw)| raw)
            })
        })
    }

    pub fn status(&self, endpoint: JsValue, options: JsValue) -> Promise {
        self.go("status", endpoint, options, |(s, ep, plain, signal, _)| {
            Box::pin(async move {
                let (id, logs, headers) =
                    (opt::request_id(&plain).map_err(conv::option)?, opt::logs(&plain).map_err(conv::option)?, opt::headers(&plain).map_err(conv::option)?);
                queue::status(&s, &ep, &id, logs, &headers, signal.as_ref()).await.map(|(_, raw)| raw)
            })
        })
    }

    pub fn result(&self, endpoint: JsValue, options: JsValue) -> Promise {
        self.go("result", endpoint, options, |(s, ep, plain, signal, _)| {
            Box::pin(async move {
                let (id, headers) = (opt::request_id(&plain).map_err(conv::option)?, opt::headers(&plain).map_err(conv::option)?);
                queue::result(&s, &ep, &id, false, &headers, signal.as_ref()).await
            })
        })
    }

    pub fn cancel(&self, endpoint: JsValue, options: JsValue) -> Promise {
        self.go("cancel", endpoint, options, |(s, ep, plain, signal, _)| {
            Box::pin(async move {
                let (id, headers) = (opt::request_id(&plain).map_err(conv::option)?, opt::headers(&plain).map_err(conv::option)?);
                queue::cancel(&s, &ep, &id, &headers, signal.as_ref()).await
            })
        })
    }

    pub fn subscribe(&self, endpoint: JsValue, options: JsValue) -> Promise {
        promise(subscribe::subscribe(self.shared.clone(), endpoint, options))
    }

    /// A job submitted elsewhere (or before a reload), followed by its id like `subscribe`'s:
    /// `queue.subscribeToStatus` (`result`: resolves with the result), or the source of
    /// `queue.streamStatus`'s async iterator (js/index.js: statuses through `onQueueUpdate`,
    /// resolves with the COMPLETED status).
    pub fn follow(&self, endpoint: JsValue, options: JsValue, result: bool) -> Promise {
        promise(subscribe::follow_status(self.shared.clone(), endpoint, options, result))
    }

    /// An output stream (`fal.run/{id}/stream`): `on_partial(output)` for each partial output (a
    /// parsed event, or a `Uint8Array` chunk of a binary answer), `on_open(requestId)` when the
    /// answer's head is in; resolves with the final output (the last one). The facade (js/index.js)
    /// makes the async iterator of it.
    pub fn stream(&self, endpoint: JsValue, options: JsValue, on_partial: Function, on_open: Function) -> Promise {
        promise(stream::stream(self.shared.clone(), endpoint, options, on_partial, on_open))
    }

    pub fn run(&self, endpoint: JsValue, options: JsValue) -> Promise {
        self.go("run", endpoint, options, |(s, ep, plain, signal, options)| {
            Box::pin(async move {
                let extras = opt::run(&plain).map_err(conv::option)?;
                let body = queue::prepare(&s, &ep, &options, &plain, signal.as_ref()).await?;
                queue::run(&s, &ep, &body, &extras, signal.as_ref()).await
            })
        })
    }

    /// The input's issues by the endpoint's schema, without sending it. Rejects when no schema can
    /// be had, or when `options.signal` (or `abortSignal`) aborts first: the schema's load, shared
    /// with other callers, goes on.
    pub fn validate(&self, endpoint: JsValue, input: JsValue, options: JsValue) -> Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = conv::endpoint(&endpoint)?;
            let signal = conv::signal(&options)?;
            s.warn_unknown("validate", &options, &Value::Null);
            conv::check(signal.as_ref())?;
            let work = async {
                let schema = validate::schema_for(&s, &ep).await?;
                Ok(validate::issues_to_js(&validate::issues_of(&s, &ep, Some(&schema), &input).await))
            };
            tasks::until_abort(work, signal.as_ref()).await.unwrap_or_else(|| Err(conv::aborted(js::reason(signal.as_ref()))))
        })
    }

    /// Uploads a File, Blob, typed array or ArrayBuffer; resolves to its URL.
    pub fn upload(&self, data: JsValue, options: JsValue) -> Promise {
        promise(storage::upload(self.shared.clone(), data, options))
    }

    /// Opens (or joins, by `connectionKey`) a realtime connection.
    #[cfg(feature = "realtime")]
    #[wasm_bindgen(js_name = realtimeConnect)]
    pub fn realtime_connect(&self, endpoint: JsValue, options: JsValue) -> Result<realtime::RealtimeConnection, JsValue> {
        self.realtime.connect(&endpoint, &options)
    }

    /// What genwire holds right now: registered connections, sockets, listeners and timers (of every call in flight too).
    #[wasm_bindgen(js_name = realtimeDebug)]
    pub fn realtime_debug(&self) -> JsValue {
        let n = |k: &str, v: usize| (k.to_string(), Value::Num(v as f64));
        let alive = |kind| tasks::count(kind).max(0) as usize;
        let counts = [
            #[cfg(feature = "realtime")]
            n("connections", self.realtime.len()),
            #[cfg(not(feature = "realtime"))]
            n("connections", 0),
            n("sockets", alive(tasks::SOCKETS)),
            n("listeners", alive(tasks::LISTENERS)),
            n("timers", alive(tasks::TIMERS)),
        ];
        conv::from_value(&Value::Obj(counts.into()))
    }

    /// A React hook's options (`proto::options::HOOKS`), checked before the hook starts anything:
    /// throws the `config` GenwireError its call would give for the same mistake (a callback that
    /// is not a function, a bad signal, a key-like header, a value out of range), and warns about
    /// unknown names in development.
    #[wasm_bindgen(js_name = checkHook)]
    pub fn check_hook(&self, hook: &str, options: JsValue) -> Result<(), JsValue> {
        let h = opt::hook_of(hook).ok_or_else(|| conv::config(&format!("genwire has no hook '{hook}'")))?;
        let plain = conv::options(&options, &conv::SKIP)?;
        conv::signal(&options)?;
        for f in h.callbacks {
            conv::opt_fn(&options, f)?;
        }
        self.shared.warn_unknown(hook, &options, &plain);
        opt::hook(hook, &plain).map_err(conv::option)
    }

    /// Listens to every attempt, retry, error, success and breaker change. Returns the unsubscribe function.
    pub fn on(&self, listener: JsValue) -> Result<Function, JsValue> {
        crate::proto::host::function(&listener, "the listener").map_err(|e| conv::config(&e))?;
        let listener: Function = listener.unchecked_into();
        self.shared.listen(listener.clone());
        let shared = Rc::downgrade(&self.shared);
        // Any number of calls (a FnOnce's second call throws through the wasm); freed with the function.
        let off = Closure::<dyn FnMut()>::new(move || shared.upgrade().iter().for_each(|s| s.unlisten(&listener)));
        Ok(off.into_js_value().unchecked_into())
    }

    /// A rolling summary of the last five minutes, plus the state of every troubled endpoint's breaker.
    pub fn stats(&self) -> JsValue {
        conv::from_value(&self.shared.with_policy(|p| crate::proto::shapes::stats(p, js::clock())))
    }
}
