//! The thin web edge: the JS API over fetch, streams and timers.

mod error;
mod http;
mod js;
mod queue;
mod stream;
mod subscribe;

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::proto::config::ClientConfig;

/// One client: a proxy route and the calls made through it. Cheap to create.
#[wasm_bindgen]
pub struct GenwireClient {
    proxy: Rc<str>,
}

fn promise<F>(f: F) -> js_sys::Promise
where
    F: core::future::Future<Output = Result<JsValue, JsValue>> + 'static,
{
    future_to_promise(f)
}

#[wasm_bindgen]
impl GenwireClient {
    /// Throws a `GenwireError` of kind `config` for a key, credentials or an unusable proxyUrl.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<GenwireClient, JsValue> {
        let cfg = ClientConfig::from_deserializer(serde_wasm_bindgen::Deserializer::from(options))
            .map_err(|e| error::config(&e.to_string()))?;
        Ok(Self { proxy: cfg.proxy_url.into() })
    }

    #[wasm_bindgen(getter, js_name = proxyUrl)]
    pub fn proxy_url(&self) -> String {
        self.proxy.to_string()
    }

    pub fn submit(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let proxy = self.proxy.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            let body = queue::input_json(&options)?;
            let extras = queue::SubmitExtras::from_options(&options)?;
            let signal = js::opt_signal(&options, "signal")?;
            queue::submit(&proxy, &ep, &body, &extras, signal.as_ref()).await.map(|(_, _, raw)| raw).map_err(|e| e.0)
        })
    }

    pub fn status(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let proxy = self.proxy.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            let id = queue::request_id(&options)?;
            let signal = js::opt_signal(&options, "signal")?;
            let logs = queue::logs_flag(&options)?;
            queue::status(&proxy, &ep, &id, logs, signal.as_ref()).await.map(|(_, raw)| raw).map_err(|e| e.0)
        })
    }

    pub fn result(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let proxy = self.proxy.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            let id = queue::request_id(&options)?;
            let signal = js::opt_signal(&options, "signal")?;
            queue::result(&proxy, &ep, &id, signal.as_ref()).await.map_err(|e| e.0)
        })
    }

    pub fn cancel(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let proxy = self.proxy.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            let id = queue::request_id(&options)?;
            queue::cancel(&proxy, &ep, &id).await.map_err(|e| e.0)
        })
    }

    pub fn subscribe(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        promise(subscribe::subscribe(self.proxy.clone(), endpoint, options))
    }

    pub fn run(&self, endpoint: String, options: JsValue) -> js_sys::Promise {
        let proxy = self.proxy.clone();
        promise(async move {
            let ep = queue::endpoint(&endpoint)?;
            let body = queue::input_json(&options)?;
            let signal = js::opt_signal(&options, "signal")?;
            queue::run(&proxy, &ep, &body, signal.as_ref()).await.map_err(|e| e.0)
        })
    }
}
