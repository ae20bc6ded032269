//! The event loop's plumbing: listeners and timers that undo themselves when dropped (counted,
//! so `client.realtime.debug()` can prove nothing is left), and a driver's inbox: the messages of
//! its tasks, plus a wake-up at its machine's next deadline. One thread: no atomics, no locks.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::js;
use crate::proto::time::Instant;

thread_local!(static ALIVE: [Cell<i32>; 3] = const { [Cell::new(0), Cell::new(0), Cell::new(0)] });
/// What is alive, by kind: `client.realtime.debug()`'s counters.
pub const LISTENERS: usize = 0;
pub const SOCKETS: usize = 1;
pub const TIMERS: usize = 2;

pub fn bump(kind: usize, by: i32) {
    ALIVE.with(|a| a[kind].set(a[kind].get() + by));
}

pub fn count(kind: usize) -> i32 {
    ALIVE.with(|a| a[kind].get())
}

/// `target.addEventListener(name, f)` until dropped.
pub struct Listener(JsValue, &'static str, Closure<dyn FnMut(JsValue)>);

impl Listener {
    /// On `target` if it is there (a worker has no `document`).
    pub fn new(target: JsValue, name: &'static str, f: impl FnMut(JsValue) + 'static) -> Option<Self> {
        let closure = Closure::<dyn FnMut(JsValue)>::new(f);
        js::call2(&target, "addEventListener", &JsValue::from_str(name), closure.as_ref()).ok()?;
        bump(LISTENERS, 1);
        Some(Self(target, name, closure))
    }

    /// `f` when `signal` aborts, until dropped.
    pub fn on_abort(signal: Option<&AbortSignal>, mut f: impl FnMut() + 'static) -> Option<Self> {
        Self::new(signal?.into(), "abort", move |_| f())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = js::call2(&self.0, "removeEventListener", &JsValue::from_str(self.1), self.2.as_ref());
        bump(LISTENERS, -1);
    }
}

/// A timeout, cleared when dropped.
pub struct Timer(#[allow(dead_code)] gloo_timers::callback::Timeout);

impl Timer {
    /// Fires at `at` on the monotonic clock: never before (rounded up), within `setTimeout`'s range.
    pub fn at(at: Instant, f: impl FnOnce() + 'static) -> Self {
        bump(TIMERS, 1);
        Self(gloo_timers::callback::Timeout::new(js::now().until(at).as_ms().ceil().min(2_147_483_647.0) as u32, f))
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        bump(TIMERS, -1);
    }
}

/// What wakes an inbox: a message, or its deadline. Not generic, so its waiting is written once.
#[derive(Default)]
struct Bell {
    waker: Cell<Option<Waker>>,
    rung: Cell<bool>,
    due: Cell<bool>,
}

impl Bell {
    fn ring(&self, due: bool) {
        self.rung.set(true);
        if due {
            self.due.set(true);
        }
        self.waker.take().into_iter().for_each(Waker::wake);
    }

    /// Waits for a ring; true when it was the deadline.
    async fn wait(&self) -> bool {
        core::future::poll_fn(|cx| {
            if self.rung.take() {
                Poll::Ready(self.due.take())
            } else {
                self.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }
}

/// Sends into an inbox while it lives.
pub struct Sender<T>(Weak<(RefCell<VecDeque<T>>, Bell)>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

impl<T> Sender<T> {
    /// Queues `v`; false once the inbox is gone.
    pub fn send(&self, v: T) -> bool {
        let Some(inner) = self.0.upgrade() else { return false };
        inner.0.borrow_mut().push_back(v);
        inner.1.ring(false);
        true
    }
}

/// A driver's inbox, and the one timer at its machine's deadline (re-armed only when it moves).
pub struct Inbox<T> {
    inner: Rc<(RefCell<VecDeque<T>>, Bell)>,
    alarm: Option<(Instant, Timer)>,
}

impl<T: 'static> Inbox<T> {
    pub fn new() -> (Sender<T>, Self) {
        let inner = Rc::new((RefCell::new(VecDeque::new()), Bell::default()));
        (Sender(Rc::downgrade(&inner)), Self { inner, alarm: None })
    }

    /// The next message, or None when `deadline` comes first.
    pub async fn next(&mut self, deadline: Option<Instant>) -> Option<T> {
        if deadline != self.alarm.as_ref().map(|a| a.0) {
            self.alarm = deadline.map(|t| {
                let inner = Rc::downgrade(&self.inner);
                (t, Timer::at(t, move || inner.upgrade().iter().for_each(|i| i.1.ring(true))))
            });
        }
        loop {
            let next = self.inner.0.borrow_mut().pop_front();
            if next.is_some() {
                return next;
            }
            if self.inner.1.wait().await {
                self.alarm = None;
                return None;
            }
        }
    }
}

impl<T> Drop for Inbox<T> {
    fn drop(&mut self) {
        // Dropped outside the borrow: a message's drop may send again.
        let queued = core::mem::take(&mut *self.inner.0.borrow_mut());
        drop(queued);
    }
}

/// Waits until `at`, or less if `signal` aborts first.
pub async fn sleep_until(at: Instant, signal: Option<&AbortSignal>) {
    let bell = Rc::new(Bell::default());
    let (b, a) = (bell.clone(), bell.clone());
    let _timer = Timer::at(at, move || b.ring(true));
    let _abort = Listener::on_abort(signal, move || a.ring(false));
    if !signal.is_some_and(js::aborted) {
        bell.wait().await;
    }
}

/// A call's `timeout`: a signal that aborts when the caller's does (with its reason) or when the
/// time is up, its timer and listener undone when dropped.
pub struct Deadline {
    ctl: web_sys::AbortController,
    bell: Rc<Bell>,
    fired: Rc<Cell<bool>>,
    _timer: Timer,
    _relay: Option<Listener>,
}

impl Deadline {
    pub fn new(after: crate::proto::time::Duration, signal: Option<&AbortSignal>) -> Result<Self, JsValue> {
        let ctl = web_sys::AbortController::new()?;
        let (bell, fired) = (Rc::new(Bell::default()), Rc::new(Cell::new(false)));
        let (c, b, f) = (ctl.clone(), bell.clone(), fired.clone());
        let timer = Timer::at(js::now() + after, move || {
            f.set(true);
            js::abort(&c);
            b.ring(true);
        });
        let relay = |c: web_sys::AbortController, s: AbortSignal| move || drop(js::call(&c, "abort", Some(&js::reason(Some(&s)))));
        if let Some(s) = signal.filter(|s| js::aborted(s)) {
            relay(ctl.clone(), s.clone())();
        }
        let _relay = signal.and_then(|s| Listener::on_abort(Some(s), relay(ctl.clone(), s.clone())));
        Ok(Self { ctl, bell, fired, _timer: timer, _relay })
    }

    pub fn signal(&self) -> AbortSignal {
        js::signal_of(&self.ctl)
    }

    /// `work`'s outcome, or None once the time is up, even if `work` does not heed the signal
    /// (an app's `fetch` may not): then `work` is dropped.
    pub async fn race<T>(&self, work: impl core::future::Future<Output = T>) -> Option<T> {
        let mut work = core::pin::pin!(work);
        core::future::poll_fn(|cx| {
            if let Poll::Ready(v) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.fired.get() {
                return Poll::Ready(None);
            }
            self.bell.waker.set(Some(cx.waker().clone()));
            Poll::Pending
        })
        .await
    }

    pub fn fired(&self) -> bool {
        self.fired.get()
    }
}

/// `work`'s outcome, or None when `signal` aborts first (`work` is dropped: what it shares goes on).
pub async fn until_abort<T>(work: impl core::future::Future<Output = T>, signal: Option<&AbortSignal>) -> Option<T> {
    let bell = Rc::new(Bell::default());
    let b = bell.clone();
    let _abort = Listener::on_abort(signal, move || b.ring(true));
    let mut work = core::pin::pin!(work);
    core::future::poll_fn(|cx| {
        if signal.is_some_and(js::aborted) {
            return Poll::Ready(None);
        }
        if let Poll::Ready(v) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        bell.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    })
    .await
}
