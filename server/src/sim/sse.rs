//! `GET .../requests/{id}/status/stream`: the job's status as server-sent events.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;

use super::faults::Faults;
use super::{queue, Sim};

const POLL: Duration = Duration::from_millis(50);

struct StreamState {
    sim: Sim,
    id: String,
    logs: bool,
    last: Option<String>,
    sent: u32,
    last_write: Instant,
    finished: bool,
    cut_after: Option<u32>,
    stall_after: Option<u32>,
}

/// Sends the status at once and on every change, keep-alive comments in between,
/// and ends after COMPLETED. Faults can cut the connection or stall it.
pub fn status_stream(sim: Sim, id: String, logs: bool, faults: &Faults) -> Response {
    let state = StreamState {
        sim,
        id,
        logs,
        last: None,
        sent: 0,
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
            if st.stall_after.is_some_and(|n| st.sent >= n) {
                // Holds the connection open with no bytes at all until the client leaves.
                std::future::pending::<()>().await;
            }
            let (json, done) = queue::snapshot(&st.sim, &st.id, st.logs)?;
            if st.last.as_deref() != Some(json.as_str()) {
                if st.cut_after.is_some_and(|n| st.sent >= n) {
                    // An error makes hyper abort the connection instead of ending the chunked body.
                    st.finished = true;
                    let err = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "simulated stream cut");
                    return Some((Err(err), st));
                }
                st.sent += 1;
                st.last_write = Instant::now();
                st.finished = done;
                let event = Bytes::from(format!("data: {json}\n\n"));
                st.last = Some(json);
                return Some((Ok(event), st));
            }
            let keepalive = st.sim.config().keepalive_ms;
            if keepalive > 0 && st.last_write.elapsed() >= Duration::from_millis(keepalive) {
                st.last_write = Instant::now();
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st));
            }
            tokio::time::sleep(POLL).await;
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
