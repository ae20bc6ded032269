//! An unbounded channel for one thread: the driver loops' inbox. What futures-channel's mpsc did
//! here, without its atomics (everything runs on the page's one thread). A driver keeps a sender
//! of its own, so its inbox never runs dry: it ends when the driver's machine is done.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

struct Inner<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
}

/// Sends into the inbox while its receiver lives.
pub struct Sender<T>(Weak<RefCell<Inner<T>>>);
pub struct Receiver<T>(Rc<RefCell<Inner<T>>>);

pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Rc::new(RefCell::new(Inner { queue: VecDeque::new(), waker: None }));
    (Sender(Rc::downgrade(&inner)), Receiver(inner))
}

impl<T> Sender<T> {
    /// Queues `v`; `Err(v)` once the receiver is gone.
    pub fn unbounded_send(&self, v: T) -> Result<(), T> {
        let Some(inner) = self.0.upgrade() else { return Err(v) };
        let waker = {
            let mut i = inner.borrow_mut();
            i.queue.push_back(v);
            i.waker.take()
        };
        // Woken outside the borrow.
        waker.into_iter().for_each(Waker::wake);
        Ok(())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

impl<T> Receiver<T> {
    /// The next message.
    pub async fn next(&mut self) -> T {
        core::future::poll_fn(|cx| {
            let mut i = self.0.borrow_mut();
            match i.queue.pop_front() {
                Some(v) => Poll::Ready(v),
                None => {
                    i.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Dropped outside the borrow: a message's drop may send again.
        let queued = core::mem::take(&mut self.0.borrow_mut().queue);
        drop(queued);
    }
}
