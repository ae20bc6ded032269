//! Reacting to an `AbortSignal` without leaking listeners, and a sleep it can cut short.

use std::cell::Cell;
use std::rc::Rc;
use std::task::{Poll, Waker};

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::proto::time::Instant;

/// Runs `f` when the signal aborts; the listener is removed when this is dropped,
/// so a long-lived signal shared by many calls doesn't collect them.
pub struct OnAbort {
    signal: AbortSignal,
    closure: Closure<dyn FnMut()>,
}

impl OnAbort {
    pub fn new(signal: &AbortSignal, f: impl FnMut() + 'static) -> Self {
        let closure = Closure::<dyn FnMut()>::new(f);
        let _ = signal.add_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
        Self { signal: signal.clone(), closure }
    }
}

impl Drop for OnAbort {
    fn drop(&mut self) {
        let f: &Function = self.closure.as_ref().unchecked_ref();
        let _ = self.signal.remove_event_listener_with_callback("abort", f);
    }
}

/// Milliseconds until `at` on the monotonic clock, for `setTimeout`: rounded up, so a timer never
/// fires before its deadline, and within `setTimeout`'s range.
pub fn delay_until(at: Instant) -> u32 {
    super::js::now().until(at).as_ms().ceil().min(2_147_483_647.0) as u32
}

/// Waits until `at`, or less if `signal` aborts first. The timer is cleared either way.
pub async fn sleep_until(at: Instant, signal: Option<&AbortSignal>) {
    if signal.is_some_and(super::js::aborted) {
        return;
    }
    // The timer and the abort both set one flag; the first to do so ends the wait.
    let done = Rc::new(Done::default());
    let d = done.clone();
    let _timer = gloo_timers::callback::Timeout::new(delay_until(at), move || d.set());
    let _guard = signal.map(|s| {
        let d = done.clone();
        OnAbort::new(s, move || d.set())
    });
    core::future::poll_fn(|cx| {
        if done.fired.get() {
            Poll::Ready(())
        } else {
            done.waker.set(Some(cx.waker().clone()));
            Poll::Pending
        }
    })
    .await;
}

#[derive(Default)]
struct Done {
    fired: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Done {
    fn set(&self) {
        self.fired.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}
