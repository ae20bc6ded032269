//! genwire: a browser client for generative-media APIs that talks only to the app's own proxy.
//!
//! `proto` is plain Rust (no I/O, time passed in) and is tested natively; `web`
//! is the thin layer over fetch, streams and timers, compiled only for wasm32.

pub mod proto;

/// Talc instead of std's dlmalloc: a few KB less wasm, and faster (docs/size.md).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
mod web;

/// The exported JS API, reachable from Rust for the browser tests.
#[cfg(target_arch = "wasm32")]
pub mod web_api {
    pub use crate::web::GenwireClient;
}
