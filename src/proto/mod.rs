//! The pure core: protocol logic with no I/O and time passed in, tested natively.

pub mod breaker;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod realtime;
pub mod retry;
pub mod schema;
pub mod sort;
pub mod sse;
pub mod stats;
pub mod status;
pub mod subscribe;
pub mod upload;
pub mod value;
pub mod logs;
pub mod map;
pub mod num;
pub mod when;
