//! The extra wasm modules (docs/size.md, "The split"): js/index.js installs a loader when the
//! core loads, and the core asks it for a module when a call first needs one (the validator,
//! with the schema's fetch). Each module is an instance of its own, with its own memory: the
//! core calls its exports through JS, with plain JS values.

use std::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::conv;

thread_local! {
    static LOADER: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// `loader(name)` resolves to the module's exports, initialised (js/index.js: each loaded once).
#[wasm_bindgen(js_name = setModuleLoader)]
pub fn set_module_loader(loader: Function) {
    LOADER.with(|l| *l.borrow_mut() = Some(loader));
}

/// Starts loading the module (if not yet): wait for it with [`ready`].
pub fn load(name: &str) -> Result<Promise, JsValue> {
    match LOADER.with(|l| l.borrow().clone()) {
        Some(f) => f.call1(&JsValue::UNDEFINED, &JsValue::from_str(name)).map(|p| Promise::resolve(&p)),
        None => Err(conv::config(&format!("genwire's {name} module is not available (load genwire through its js/index.js)."))),
    }
}

/// The module's exports, or a `GenwireError`: a failed fetch of the module reads as the network
/// error it is.
pub async fn ready(loading: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    wasm_bindgen_futures::JsFuture::from(loading?).await.map_err(|e| conv::thrown(&e).1)
}
