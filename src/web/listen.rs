//! Event listeners that remove themselves, and counters of what is alive, so a
//! test can prove that closing everything leaves nothing behind.

use std::cell::Cell;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

thread_local! {
    pub static LISTENERS: Cell<i32> = const { Cell::new(0) };
    pub static SOCKETS: Cell<i32> = const { Cell::new(0) };
    pub static TIMERS: Cell<i32> = const { Cell::new(0) };
}

pub fn bump(counter: &'static std::thread::LocalKey<Cell<i32>>, by: i32) {
    counter.with(|c| c.set(c.get() + by));
}

pub fn count(counter: &'static std::thread::LocalKey<Cell<i32>>) -> i32 {
    counter.with(Cell::get)
}

/// `target.addEventListener(name, f)` until dropped.
pub struct Listener {
    target: EventTarget,
    name: &'static str,
    closure: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    pub fn new(target: &EventTarget, name: &'static str, f: impl FnMut(JsValue) + 'static) -> Self {
        let closure = Closure::<dyn FnMut(JsValue)>::new(f);
        let _ = target.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        bump(&LISTENERS, 1);
        Self { target: target.clone(), name, closure }
    }

    /// On the global object (window, or a worker's self) if it is an event target.
    pub fn on_global(name: &'static str, f: impl FnMut(JsValue) + 'static) -> Option<Self> {
        js_sys::global().dyn_into::<EventTarget>().ok().map(|t| Self::new(&t, name, f))
    }

    pub fn on_document(name: &'static str, f: impl FnMut(JsValue) + 'static) -> Option<Self> {
        let doc = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("document")).ok()?;
        doc.dyn_into::<EventTarget>().ok().map(|t| Self::new(&t, name, f))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let f: &Function = self.closure.as_ref().unchecked_ref();
        let _ = self.target.remove_event_listener_with_callback(self.name, f);
        bump(&LISTENERS, -1);
    }
}

/// One timer at a machine's next deadline, re-armed only when the deadline moves.
#[derive(Default)]
pub struct Alarm(Option<(crate::proto::time::Instant, Timer)>);

impl Alarm {
    pub fn set(&mut self, at: Option<crate::proto::time::Instant>, fire: impl FnOnce() + 'static) {
        match at {
            None => self.0 = None,
            Some(t) if self.0.as_ref().map(|x| x.0) != Some(t) => self.0 = Some((t, Timer::new(super::abort::delay_until(t), fire))),
            Some(_) => {}
        }
    }

    /// It went off: the next `set` arms it again.
    pub fn fired(&mut self) {
        self.0 = None;
    }
}

/// A gloo timeout counted while armed.
pub struct Timer(#[allow(dead_code)] gloo_timers::callback::Timeout);

impl Timer {
    pub fn new(ms: u32, f: impl FnOnce() + 'static) -> Self {
        bump(&TIMERS, 1);
        Self(gloo_timers::callback::Timeout::new(ms, f))
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        bump(&TIMERS, -1);
    }
}
