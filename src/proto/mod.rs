//! The pure core: protocol logic with no I/O and time passed in, tested natively.

pub mod endpoint;
pub mod sse;
pub mod status;
pub mod subscribe;
