//! The pure core: every decision genwire makes, as plain Rust with no I/O and the time passed
//! in, tested natively. The web edge (`src/web`) only carries the decisions out.

pub mod breaker;
pub mod call;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod facts;
pub mod host;
pub mod json;
pub mod keys;
pub mod logs;
pub mod map;
pub mod num;
pub mod options;
pub mod policy;
pub mod rand;
pub mod realtime;
pub mod retry;
pub mod schema;
pub mod schema_cache;
pub mod shapes;
pub mod sort;
pub mod sse;
pub mod stats;
pub mod status;
pub mod stream;
pub mod subscribe;
pub mod time;
pub mod upload;
pub mod value;
pub mod when;

#[cfg(test)]
mod tests;
