// Generated from the Rust core (src/proto/facts.rs) by `UPDATE_FACTS=1 cargo test`; do not edit.
export const DEFAULT_PROXY_URL = "/api/fal/proxy";
export const DEFAULT_REALTIME_URL = "wss://fal.run";
export const SECRET_NAMES = ["credentials","credential","apikey","key","falkey","authorization","proxyauthorization","auth","token","secret","password","bearer","cookie","jwt","keyid","keysecret","signature"];
export const SECRET_SUFFIXES = ["apikey","falkey","token","secret","password","authorization","credentials","privatekey","secretkey","accesskey","authkey"];
export const SECRET_PREFIXES = ["falkey","xfalkey","apikey","xapikey"];
export const ENDPOINT_NAMESPACES = ["workflows","comfy"];
export const STATS_WINDOW_MS = 300000;
