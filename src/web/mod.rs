//! The thin web edge: the JS API over fetch, streams and timers.

mod abort;
mod chan;
mod client;
mod conv;
mod decode;
mod error;
mod http;
mod js;
mod listen;
mod queue;
mod realtime;
mod request;
mod storage;
mod stream;
mod subscribe;
mod validate;

use std::rc::Rc;

use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;

use crate::proto::config::ClientConfig;
use client::Shared;


/// One client: a proxy route and the calls made through it, with their retry
/// policy, circuit breakers, events and stats.
#[wasm_bindgen]
pub struct GenwireClient {
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl GenwireClient {
    /// Throws a `GenwireError` of kind `config` for a key, credentials or an unusable option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<GenwireClient, JsValue> {
        // Functions can't go through serde; read the plain-data options only.
        let plain = plain_options(&options);
        let cfg = conv::to_value(&plain)
            .map_err(crate::proto::config::ConfigError::BadOptions)
            .and_then(|v| ClientConfig::from_value(&v))
            .map_err(|e| error::config(&e.to_string()))?;
        Ok(Self { shared: Rc::new(Shared::new(cfg.proxy_url, &options)?) })
    }

    #[wasm_bindgen(getter, js_name = proxyUrl)]
    pub fn proxy_url(&self) -> String {
        self.shared.proxy.clone()
    }

    pub fn submit(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            queue::input_json(&options)?;
            let extras = queue::SubmitExtras::from_options(&options)?;
            let signal = js::opt_signal(&options, "signal")?;
            validate::check_input(&s, &ep, &js::get(&options, "input"), &options).await?;
            let input = storage::upload_files(&s, &js::get(&options, "input"), signal.as_ref()).await?;
            let body = queue::stringify(&input)?;
            queue::submit(&s, &ep, &body, &extras, signal.as_ref()).await.map(|(_, _, raw)| raw)
        })
    }

    pub fn status(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            let id = queue::request_id(&options)?;
            let signal = js::opt_signal(&options, "signal")?;
            queue::status(&s, &ep, &id, queue::logs_flag(&options)?, signal.as_ref()).await.map(|(_, raw)| raw)
        })
    }

    pub fn result(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            let id = queue::request_id(&options)?;
            let signal = js::opt_signal(&options, "signal")?;
            queue::result(&s, &ep, &id, signal.as_ref()).await
        })
    }

    pub fn cancel(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            let id = queue::request_id(&options)?;
            queue::cancel(&s, &ep, &id).await
        })
    }

    pub fn subscribe(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        promise(subscribe::subscribe(self.shared.clone(), endpoint, options))
    }

    pub fn run(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            queue::input_json(&options)?;
            let signal = js::opt_signal(&options, "signal")?;
            validate::check_input(&s, &ep, &js::get(&options, "input"), &options).await?;
            let input = storage::upload_files(&s, &js::get(&options, "input"), signal.as_ref()).await?;
            let body = queue::stringify(&input)?;
            queue::run(&s, &ep, &body, signal.as_ref()).await
        })
    }

    /// The input's issues by the endpoint's schema, without sending it. Rejects when no schema can be had.
    pub fn validate(&self, endpoint: String, input: JsValue) -> js_sys::Promise {
        let s = self.shared.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
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
        realtime::connect(&self.shared, &endpoint, &options)
    }

    /// What realtime holds right now: registered connections, sockets, window listeners, timers.
    #[wasm_bindgen(js_name = realtimeDebug)]
    pub fn realtime_debug(&self) -> JsValue {
        let o = Object::new();
        js::set(&o, "connections", &JsValue::from(self.shared.realtime.borrow().len() as u32));
        js::set(&o, "sockets", &JsValue::from(listen::count(&listen::SOCKETS)));
        js::set(&o, "listeners", &JsValue::from(listen::count(&listen::LISTENERS)));
        js::set(&o, "timers", &JsValue::from(listen::count(&listen::TIMERS)));
        o.into()
    }

    /// Listens to every attempt, retry, error, success and breaker change. Returns the unsubscribe function.
    pub fn on(&self, listener: Function) -> Function {
        self.shared.listeners.borrow_mut().push(listener.clone());
        let shared = Rc::downgrade(&self.shared);
        Closure::once_into_js(move || {
            if let Some(s) = shared.upgrade() {
                s.listeners.borrow_mut().retain(|f| f != &listener);
            }
        })
        .unchecked_into()
    }

    /// A rolling summary of the last five minutes, plus the state of every troubled endpoint's breaker.
    pub fn stats(&self) -> JsValue {
        let now = js::now();
        let summary = self.shared.stats.borrow_mut().summary(now);
        let out = conv::summary(&summary);
        let breakers = Object::new();
        for (endpoint, b) in self.shared.breakers.borrow().iter() {
            let o = Object::new();
            js::set(&o, "state", &JsValue::from_str(b.state().name()));
            if let crate::proto::breaker::State::Open { until } = b.state() {
                js::set(&o, "reopensAt", &JsValue::from_f64(until));
            }
            js::set(&breakers, endpoint, &o);
        }
        js::set(&out, "breakers", &breakers);
        js::set(&out, "retryBudget", &JsValue::from_f64(self.shared.budget.borrow().tokens()));
        out.into()
    }
}

type JsResult = Result<JsValue, JsValue>;

/// A promise of `f`. Every async export goes through the one boxed instantiation of
/// `future_to_promise` below instead of one copy of its machinery per future type.
fn promise(f: impl core::future::Future<Output = JsResult> + 'static) -> js_sys::Promise {
    boxed_promise(Box::pin(f))
}

#[inline(never)]
fn boxed_promise(f: core::pin::Pin<Box<dyn core::future::Future<Output = JsResult>>>) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(f)
}

/// The options without function values, for the serde-based config check.
fn plain_options(options: &JsValue) -> JsValue {
    if !options.is_object() {
        return options.clone();
    }
    let out = Object::new();
    for entry in Object::entries(options.unchecked_ref()).iter() {
        let pair: Array = entry.unchecked_into();
        let v = pair.get(1);
        if !v.is_function() {
            let _ = js_sys::Reflect::set(&out, &pair.get(0), &v);
        }
    }
    out.into()
}
