//! An unbounded channel for one thread: the driver loops' inbox. What
//! futures-channel's mpsc did here, without its atomics and lock-free queue
//! (everything runs on the page's one thread).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Inner<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
    senders: usize,
    receiver: bool,
}

pub struct Sender<T>(Rc<RefCell<Inner<T>>>);
pub struct Receiver<T>(Rc<RefCell<Inner<T>>>);

pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Rc::new(RefCell::new(Inner { queue: VecDeque::new(), waker: None, senders: 1, receiver: true }));
    (Sender(inner.clone()), Receiver(inner))
}

fn wake<T>(inner: &RefCell<Inner<T>>) {
    // Taken out first: waking must not happen under the borrow.
    let w = inner.borrow_mut().waker.take();
    if let Some(w) = w {
        w.wake();
    }
}

impl<T> Sender<T> {
    /// Queues `v`; `Err(v)` once the receiver is gone.
    pub fn unbounded_send(&self, v: T) -> Result<(), T> {
        {
            let mut i = self.0.borrow_mut();
            if !i.receiver {
                return Err(v);
            }
            i.queue.push_back(v);
        }
        wake(&self.0);
        Ok(())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.0.borrow_mut().senders += 1;
        Sender(self.0.clone())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut i = self.0.borrow_mut();
            i.senders -= 1;
            i.senders == 0
        };
        if last {
            wake(&self.0);
        }
    }
}

impl<T> Receiver<T> {
    /// The next message; `None` when every sender is gone and the queue is empty.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut i = self.0.borrow_mut();
        if let Some(v) = i.queue.pop_front() {
            return Poll::Ready(Some(v));
        }
        if i.senders == 0 {
            return Poll::Ready(None);
        }
        i.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    pub async fn next(&mut self) -> Option<T> {
        core::future::poll_fn(|cx| self.poll_next(cx)).await
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let queued = {
            let mut i = self.0.borrow_mut();
            i.receiver = false;
            core::mem::take(&mut i.queue)
        };
        // Dropped outside the borrow: a message's drop may send again.
        drop(queued);
    }
}
