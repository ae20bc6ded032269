//! Realtime (WebSocket) apps: the pure parts, time passed in.

pub mod connection;
pub mod msgpack;
pub mod reconnect;
pub mod throttle;
