//! State shared by every call of one client: the proxy route, the retry policy
//! and its budget, a circuit breaker per endpoint, event listeners and stats.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object};
use wasm_bindgen::JsValue;

use super::js::{now, opt_f64, set};
use crate::proto::map::Map;
use crate::proto::breaker::{Breaker, BreakerConfig};
use crate::proto::retry::{Budget, RetryConfig};
use crate::proto::schema::files::FileLimits;
use crate::proto::schema::Schema;
use crate::proto::stats::{Sample, Stats};

pub struct Shared {
    pub proxy: String,
    pub retry: RetryConfig,
    /// None: circuit breaking turned off.
    pub breaker_cfg: Option<BreakerConfig>,
    /// Only endpoints with recent failures; an idle breaker is dropped.
    pub breakers: RefCell<Map<Breaker>>,
    pub budget: RefCell<Budget>,
    pub stats: RefCell<Stats>,
    pub listeners: RefCell<Vec<Function>>,
    /// Validate inputs before sending (the `validation` option; per call, `validate`).
    pub validation: bool,
    /// Schemas the app gave (`schemas: {endpoint: object | url}`), by full endpoint id.
    pub schema_sources: Map<JsValue>,
    pub schemas: RefCell<Map<SchemaSlot>>,
    /// Open realtime connections by connection key.
    pub realtime: RefCell<Map<Rc<super::realtime::Conn>>>,
    /// Where realtime sockets go: `wss://fal.run` unless the app says otherwise.
    pub realtime_url: String,
    /// `fileLimits: {endpoint: {field: limits}}`, by full endpoint id then field name.
    pub file_limits: Map<Vec<(String, FileLimits)>>,
}

pub enum SchemaSlot {
    /// Being fetched: every caller awaits the same promise (of the document).
    Loading(js_sys::Promise),
    Ready(Rc<Schema>),
    /// Not to be tried again before `until`; `error` says why.
    Failed { until: f64, error: JsValue },
}

impl Shared {
    pub fn new(proxy: String, options: &JsValue) -> Result<Self, JsValue> {
        let retry = retry_config(&super::js::get(options, "retry"))?;
        let breaker_opts = super::js::get(options, "circuitBreaker");
        let breaker_cfg = if breaker_opts == JsValue::FALSE { None } else { Some(breaker_config(&breaker_opts)?) };
        let listeners = super::js::opt_fn(options, "onEvent")?.into_iter().collect();
        let validation = super::js::opt_bool(options, "validation")?.unwrap_or(true);
        let mut schema_sources = Map::new();
        let given = super::js::get(options, "schemas");
        if given.is_object() {
            for entry in Object::entries(wasm_bindgen::JsCast::unchecked_ref(&given)).iter() {
                let pair: js_sys::Array = wasm_bindgen::JsCast::unchecked_into(entry);
                let id = pair.get(0).as_string().unwrap_or_default();
                let ep = crate::proto::endpoint::EndpointId::parse(&id).map_err(|e| super::error::config(&format!("schemas: {e}")))?;
                schema_sources.insert(ep.full(), pair.get(1));
            }
        }
        let file_limits = file_limits(&super::js::get(options, "fileLimits"))?;
        let realtime_url = super::js::opt_str(options, "realtimeUrl")?.unwrap_or_else(|| "wss://fal.run".into());
        Ok(Self {
            realtime: RefCell::new(Map::new()),
            realtime_url,
            file_limits,
            proxy,
            budget: RefCell::new(Budget::new(&retry)),
            retry,
            breaker_cfg,
            breakers: RefCell::new(Map::new()),
            stats: RefCell::new(Stats::new(300_000.0, 1_000)),
            listeners: RefCell::new(listeners),
            validation,
            schema_sources,
            schemas: RefCell::new(Map::new()),
        })
    }

    /// Sends an event to every listener. A listener that throws is reported, never fatal.
    pub fn emit(&self, kind: &str, fields: &[(&str, JsValue)]) {
        if self.listeners.borrow().is_empty() {
            return;
        }
        let ev = Object::new();
        set(&ev, "type", &JsValue::from_str(kind));
        set(&ev, "at", &JsValue::from_f64(now()));
        for (k, v) in fields {
            set(&ev, k, v);
        }
        // Clone so a listener may unsubscribe itself while being called.
        let listeners = self.listeners.borrow().clone();
        for f in listeners {
            if let Err(e) = f.call1(&JsValue::NULL, &ev) {
                web_sys::console::error_2(&JsValue::from_str("genwire: an onEvent listener threw"), &e);
            }
        }
    }

    pub fn record(&self, started: f64, error: Option<String>, retries: u32) {
        let at = now();
        self.stats.borrow_mut().record(Sample { at, latency_ms: at - started, error, retries });
    }
}

fn retry_config(o: &JsValue) -> Result<RetryConfig, JsValue> {
    let mut c = RetryConfig::default();
    if o == &JsValue::FALSE {
        c.max_retries = 0;
        return Ok(c);
    }
    if let Some(v) = opt_f64(o, "maxRetries", 0.0)? {
        c.max_retries = v.min(20.0) as u32;
    }
    if let Some(v) = opt_f64(o, "baseDelayMs", 0.0)? {
        c.base_delay_ms = v;
    }
    if let Some(v) = opt_f64(o, "maxDelayMs", 0.0)? {
        c.max_delay_ms = v;
    }
    if let Some(v) = opt_f64(o, "maxRetryAfterMs", 0.0)? {
        c.max_retry_after_ms = v;
    }
    if let Some(v) = opt_f64(o, "budget", 0.0)? {
        c.budget_capacity = v;
    }
    Ok(c)
}

fn breaker_config(o: &JsValue) -> Result<BreakerConfig, JsValue> {
    let mut c = BreakerConfig::default();
    if let Some(v) = opt_f64(o, "failureThreshold", 1.0)? {
        c.failure_threshold = v.min(1e6) as u32;
    }
    if let Some(v) = opt_f64(o, "openMs", 0.0)? {
        c.open_ms = v;
    }
    Ok(c)
}

fn entries(o: &JsValue) -> Vec<(String, JsValue)> {
    if !o.is_object() {
        return Vec::new();
    }
    Object::entries(wasm_bindgen::JsCast::unchecked_ref(o))
        .iter()
        .map(|e| {
            let pair: js_sys::Array = wasm_bindgen::JsCast::unchecked_into(e);
            (pair.get(0).as_string().unwrap_or_default(), pair.get(1))
        })
        .collect()
}

fn file_limits(o: &JsValue) -> Result<Map<Vec<(String, FileLimits)>>, JsValue> {
    let mut out = Map::new();
    for (endpoint, fields) in entries(o) {
        let ep = crate::proto::endpoint::EndpointId::parse(&endpoint).map_err(|e| super::error::config(&format!("fileLimits: {e}")))?;
        let mut list = Vec::new();
        for (field, l) in entries(&fields) {
            let types = super::js::get(&l, "types");
            list.push((
                field,
                FileLimits {
                    max_size: opt_f64(&l, "maxSize", 0.0)?,
                    min_width: opt_f64(&l, "minWidth", 0.0)?,
                    min_height: opt_f64(&l, "minHeight", 0.0)?,
                    max_width: opt_f64(&l, "maxWidth", 0.0)?,
                    max_height: opt_f64(&l, "maxHeight", 0.0)?,
                    types: if js_sys::Array::is_array(&types) { js_sys::Array::from(&types).iter().filter_map(|t| t.as_string()).collect() } else { Vec::new() },
                },
            ));
        }
        out.insert(ep.full(), list);
    }
    Ok(out)
}
