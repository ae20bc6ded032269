//! `GET .../requests/{id}/status/stream`: the job's status as server-sent events.
//!
//! No polling tick: between events the stream sleeps until the job's next change (a queue
//! position, the start of processing, a log line, the end), the next keep-alive, or a
//! cancel, whichever comes first, so a change is sent the moment it happens.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;

use super::faults::Faults;
use super::queue::{self, Sent};
use super::{Sim, StreamLogs};

struct StreamState {
    sim: Sim,
    id: String,
    logs: Option<StreamLogs>,
    sent: Sent,
    events: u32,
    last_write: Instant,
    finished: bool,
    cut_after: Option<u32>,
    stall_after: Option<u32>,
}

/// Sends the status at once and on every change, keep-alive comments in between (every
/// `keepalive_ms`, read live), and ends after COMPLETED. With `logs` each event carries the
/// log lines new since the previous one (`Delta`, fal's) or all so far (`Snapshot`).
/// Faults can cut the connection or stall it.
pub fn status_stream(sim: Sim, id: String, logs: Option<StreamLogs>, faults: &Faults) -> Response {
    let state = StreamState {
        sim,
        id,
        logs,
        sent: Sent::default(),
        events: 0,
        last_write: Instant::now(),
        finished: false,
        cut_after: faults.stream_cut_after,
        stall_after: faults.stream_stall_after,
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        if st.finished {
            return None;
        }
        loop {
            if st.stall_after.is_some_and(|n| st.events >= n) {
                // Holds the connection open with no bytes at all until the client leaves.
                std::future::pending::<()>().await;
            }
            let mut sent = std::mem::take(&mut st.sent);
            let step = queue::stream_step(&st.sim, &st.id, st.logs, &mut sent);
            st.sent = sent;
            let step = step?;
            // Registered before anything can change again, so a cancel is never missed.
            let changed = step.changed.clone();
            let woken = changed.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(json) = step.event {
                if st.cut_after.is_some_and(|n| st.events >= n) {
                    // An error makes hyper abort the connection instead of ending the chunked body.
                    st.finished = true;
                    let err = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "simulated stream cut");
                    return Some((Err(err), st));
                }
                st.events += 1;
                st.last_write = Instant::now();
                st.finished = step.done;
                return Some((Ok(Bytes::from(format!("data: {json}\n\n"))), st));
            }
            let keepalive = st.sim.config().keepalive_ms;
            let ping_at = (keepalive > 0).then(|| st.last_write + Duration::from_millis(keepalive));
            let wake = match (step.next_change, ping_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match wake {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(tokio::time::Instant::from_std(at)) => {}
                        () = &mut woken => {}
                    }
                }
                None => woken.await,
            }
            if ping_at.is_some_and(|p| Instant::now() >= p) {
                st.last_write = Instant::now();
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st));
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}
