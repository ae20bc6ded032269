//! Reacting to an `AbortSignal` without leaking listeners, and a sleep it can cut short.

use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

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

/// Waits `ms`, or less if `signal` aborts first. The timer is cleared either way.
pub async fn sleep(ms: f64, signal: Option<&AbortSignal>) {
    if signal.is_some_and(AbortSignal::aborted) {
        return;
    }
    let mut timer = gloo_timers::future::TimeoutFuture::new(ms.clamp(0.0, 2_147_483_647.0) as u32);
    let (tx, mut rx) = futures_channel::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let _guard = signal.map(|s| {
        OnAbort::new(s, move || {
            if let Some(t) = tx.take() {
                let _ = t.send(());
            }
        })
    });
    poll_fn(|cx| {
        if Pin::new(&mut timer).poll(cx).is_ready() || (signal.is_some() && Pin::new(&mut rx).poll(cx).is_ready()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}
