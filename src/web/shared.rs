//! What every call of one client shares: its options (checked by the core), the policy state
//! (breakers, budget, stats, jitter), the schema cache and the event listeners. The cells are
//! private: each method borrows for the length of a closure and never hands out a guard, so no
//! borrow can live across an await.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::JsValue;

use super::conv;
use super::js;
use super::js::{clock, set};
use crate::proto::config::ClientConfig;
use crate::proto::policy::Policy;
use crate::proto::schema_cache::Cache;
use crate::proto::value::Value;

thread_local!(static WARNED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) });

/// Schemas by endpoint: a load is a promise of the compiled schema (the validator module's
/// handle); a failure is the error to answer with.
pub type Schemas = Cache<js_sys::Promise, JsValue, JsValue>;

pub struct Shared {
    cfg: ClientConfig,
    policy: RefCell<Policy>,
    schemas: RefCell<Schemas>,
    listeners: RefCell<Vec<Function>>,
    net: super::http::Net,
    /// Development build: unknown options are warned about.
    dev: bool,
}

impl Shared {
    pub fn new(cfg: ClientConfig, on_event: Option<Function>, mut net: super::http::Net, dev: bool) -> Rc<Self> {
        net.headers = cfg.headers.clone();
        let seed = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        Rc::new(Self {
            policy: RefCell::new(Policy::new(cfg.retry.clone(), cfg.breaker.clone(), seed)),
            cfg,
            schemas: RefCell::new(Schemas::default()),
            listeners: RefCell::new(on_event.into_iter().collect()),
            net,
            dev,
        })
    }

    pub fn net(&self) -> &super::http::Net {
        &self.net
    }

    /// Warns (once per page for each call and name) about options `call` does not have, in development.
    #[inline(never)]
    pub fn warn_unknown(&self, call: &str, opts: &JsValue, plain: &Value) {
        if !self.dev || !opts.is_object() {
            return;
        }
        // Read again (the options were read once already): a Proxy's trap may throw this time.
        let Ok(names) = js::keys(opts) else { return };
        for (key, msg) in crate::proto::options::unknown(call, &names, plain) {
            let first = WARNED.with(|w| {
                let mut w = w.borrow_mut();
                let first = !w.contains(&key);
                if first {
                    w.push(key);
                }
                first
            });
            if first {
                web_sys::console::warn_1(&JsValue::from_str(&msg));
            }
        }
    }

    pub fn cfg(&self) -> &ClientConfig {
        &self.cfg
    }

    pub fn with_policy<R>(&self, f: impl FnOnce(&mut Policy) -> R) -> R {
        f(&mut self.policy.borrow_mut())
    }

    pub fn with_schemas<R>(&self, f: impl FnOnce(&mut Schemas) -> R) -> R {
        f(&mut self.schemas.borrow_mut())
    }

    pub fn listen(&self, f: Function) {
        self.listeners.borrow_mut().push(f);
    }

    pub fn unlisten(&self, f: &Function) {
        self.listeners.borrow_mut().retain(|g| g != f);
    }

    pub fn has_listeners(&self) -> bool {
        !self.listeners.borrow().is_empty()
    }

    /// Sends an event (its fields built by the core) to every listener, with `at` (wall clock)
    /// and the error it is about. A listener that throws is reported, never fatal.
    pub fn emit(&self, fields: &[(String, Value)], error: Option<&JsValue>) {
        if !self.has_listeners() {
            return;
        }
        let ev: JsValue = js_sys::Object::new().into();
        conv::set_fields(&ev, fields);
        set(&ev, "at", &JsValue::from_f64(clock().wall.0));
        if let Some(e) = error {
            set(&ev, "error", e);
        }
        // A copy: a listener may unsubscribe itself while being called.
        let listeners = self.listeners.borrow().clone();
        for f in listeners {
            js::callback(&f, &ev);
        }
    }
}
