//! genwire: a browser client for generative-media APIs that talks only to the app's own proxy.
//!
//! `proto` is plain Rust (no I/O, time passed in) and is tested natively; `web`
//! is the thin layer over fetch, streams and timers, compiled only for wasm32.

pub mod proto;

/// Talc instead of std's dlmalloc: a few KB less wasm, and faster (docs/size.md).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(all(target_arch = "wasm32", feature = "client"))]
mod web;

/// The validator module alone (`--no-default-features --features validator`): only its exports
/// and the conversions they use. With `client`, the same exports sit in `web` (docs/size.md).
#[cfg(all(target_arch = "wasm32", feature = "validator", not(feature = "client")))]
#[path = "web/validator_module.rs"]
mod web;

/// The exported JS API, reachable from Rust for the browser tests.
#[cfg(all(target_arch = "wasm32", feature = "client"))]
pub mod web_api {
    pub use crate::web::GenwireClient;
}
