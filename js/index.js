// genwire: the public JS entry. The wasm module is loaded lazily on first use
// (or by an explicit `init()`), so importing this file touches neither wasm nor
// `window` and is safe during a server render.
import wasmInit, { GenwireClient } from "../pkg/genwire.js";

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

/** Creates a client bound to the app's proxy route. Refuses any key or credentials. */
export function createClient(options = {}) {
  let inner = null;
  const make = () => (inner ??= new GenwireClient(options));
  // Already loaded: say about bad options now, synchronously.
  if (loaded) make();
  const call = (method) => (endpoint, opts = {}) => init().then(() => make()[method](endpoint, opts));
  return Object.freeze({
    get proxyUrl() { return options.proxyUrl ?? "/api/fal/proxy"; },
    queue: Object.freeze({
      submit: call("submit"),
      status: call("status"),
      result: call("result"),
      cancel: call("cancel"),
    }),
    subscribe: call("subscribe"),
    run: call("run"),
  });
}
