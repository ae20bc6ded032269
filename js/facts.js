// Generated from the Rust core (src/proto/facts.rs) by `UPDATE_FACTS=1 cargo test`; do not edit.
export const DEFAULT_PROXY_URL = "/api/fal/proxy";
export const DEFAULT_REALTIME_URL = "wss://fal.run";
export const SECRET_NAMES = ["credentials","apikey","api_key","key","falkey","fal_key","authorization","token","secret"];
export const ENDPOINT_NAMESPACES = ["workflows","comfy"];
export const STATS_WINDOW_MS = 300000;
