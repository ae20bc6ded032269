//! genwire: a browser client for generative-media APIs that talks only to the app's own proxy.
//!
//! `proto` is plain Rust (no I/O, time passed in) and is tested natively; `web`
//! is the thin layer over fetch, streams and timers, compiled only for wasm32.

pub mod proto;

#[cfg(target_arch = "wasm32")]
mod web;

/// The exported JS API, reachable from Rust for the browser tests.
#[cfg(target_arch = "wasm32")]
pub mod web_api {
    pub use crate::web::GenwireClient;
}
