//! Realtime (WebSocket) apps: the pure parts, time passed in.

pub mod connection;
pub mod frame;
pub mod input;
pub mod msgpack;
pub mod reconnect;
pub mod registry;
pub mod throttle;
