// genwire: the public JS entry. The wasm module is loaded lazily on first use
// (or by an explicit `init()`), so importing this file touches neither wasm nor
// `window` and is safe during a server render.
import wasmInit, { GenwireClient, decodeError as wasmDecodeError, validate as wasmValidate } from "../pkg/genwire.js";
import { DEFAULT_PROXY_URL, STATS_WINDOW_MS } from "./facts.js";

let loading = null;
let loaded = false;

/**
 * Loads the wasm module. Optional: every call does it on first use. Pass a URL,
 * a Response, bytes or a WebAssembly.Module when your bundler can't resolve the
 * default `genwire_bg.wasm` next to this package.
 */
export function init(input) {
  loading ??= wasmInit(input === undefined ? undefined : { module_or_path: input }).then(
    () => { loaded = true; },
    (e) => { loading = null; throw e; },
  );
  return loading;
}

/**
 * Decodes an error answer into a GenwireError, for the app's own fetches:
 * `await decodeError(response)`, or at once `decodeError({ status, headers, body })`
 * and `decodeError(thrownFetchError)` (those need the module loaded: `await init()`).
 */
export function decodeError(value) {
  if (loaded) return wasmDecodeError(value);
  if (typeof Response !== "undefined" && value instanceof Response) return init().then(() => wasmDecodeError(value));
  throw new Error("genwire: call `await init()` before decodeError() on anything but a Response");
}

/**
 * Checks an input against a schema (an endpoint's OpenAPI document, or a JSON schema) without a
 * client or a request; returns the issues, as the server's 422 would list them. Needs `await init()`.
 */
export function validate(schema, input, endpoint) {
  if (!loaded) throw new Error("genwire: call `await init()` before validate()");
  return wasmValidate(schema, input, endpoint);
}

/** Creates a client bound to the app's proxy route. Refuses any key or credentials. */
export function createClient(options = {}) {
  let inner = null;
  const early = []; // listeners added before the module loaded
  const make = () => {
    if (!inner) {
      inner = new GenwireClient(options);
      for (const l of early.splice(0)) l.off = inner.on(l.fn);
    }
    return inner;
  };
  // Already loaded: say about bad options now, synchronously.
  if (loaded) make();
  const call = (method) => (endpoint, opts = {}) => init().then(() => make()[method](endpoint, opts));
  return Object.freeze({
    get proxyUrl() { return options.proxyUrl ?? DEFAULT_PROXY_URL; },
    queue: Object.freeze({
      submit: call("submit"),
      status: call("status"),
      result: call("result"),
      cancel: call("cancel"),
    }),
    subscribe: call("subscribe"),
    run: call("run"),
    /** The input's issues by the endpoint's schema (loaded once, cached), without sending it. */
    validate: call("validate"),
    storage: Object.freeze({
      /**
       * Uploads a File, Blob, typed array or ArrayBuffer; resolves to its URL. Initiated through the
       * proxy, then sent straight to the presigned upload URL (no key goes with it); above
       * `multipartThreshold` (90 MiB, as in fal's own client) in 10 MiB parts, three at a time, each retried.
       */
      upload: (data, opts = {}) => init().then(() => make().upload(data, opts)),
    }),
    realtime: Object.freeze({
      /**
       * Opens a realtime connection, or joins the one of the same `connectionKey` (its socket and
       * transport options are the first caller's; callbacks are each caller's own). Usable at once:
       * sends before the module loads are passed on when it has (the throttle keeps the newest).
       */
      connect(endpoint, opts = {}) {
        let handle = null;
        let closed = false;
        let early = undefined;
        const conn = {
          get status() { return handle ? handle.status : { status: closed ? "closed" : "idle" }; },
          // Once loaded, the handle throws a typed GenwireError when closed (after a fatal close, saying why).
          send(input) {
            if (handle) return handle.send(input);
            if (closed) throw Object.assign(new Error("this realtime connection is closed"), { name: "GenwireError", kind: "config", category: "config", retryable: false, issues: [] });
            early = input;
          },
          close() { closed = true; handle?.close(); },
          reconnect() { handle?.reconnect(); },
        };
        init().then(() => {
          if (closed) return;
          try {
            handle = make().realtimeConnect(endpoint, opts);
          } catch (e) {
            closed = true; // a bad option: said once, through onError, as a config error
            opts.onError?.(e);
            return;
          }
          try {
            if (early !== undefined) handle.send(early);
          } catch (e) {
            opts.onError?.(e); // an input that can't be sent: said, and the connection goes on
          }
        }, (e) => opts.onError?.(e));
        return conn;
      },
      /** What realtime holds right now (for leak checks): connections, sockets, listeners, timers. */
      debug() { return inner ? inner.realtimeDebug() : { connections: 0, sockets: 0, listeners: 0, timers: 0 }; },
    }),
    /** Every attempt, retry, error, success and breaker change. Returns the unsubscribe function. */
    on(listener) {
      if (inner) return inner.on(listener);
      const l = { fn: listener, off: null };
      early.push(l);
      return () => (l.off ? l.off() : early.splice(early.indexOf(l) >>> 0, 1));
    },
    /**
     * The integration checklist (proxy, key, allowlist, streaming, realtime, clock, CSP) as a report.
     * Loaded on first use: it costs nothing in the main download.
     */
    diagnose: (opts = {}) => import("./diagnose.js").then((m) => m.diagnose(options, opts)),
    /** Rolling summary of the last five minutes of calls. */
    stats() {
      return inner ? inner.stats() : { windowMs: STATS_WINDOW_MS, calls: 0, successes: 0, successRate: null, latencyP50Ms: null, latencyP95Ms: null, retries: 0, errorsByType: [], breakers: {}, retryBudget: null };
    },
  });
}
