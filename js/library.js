// The facade over one core module, for each entry: js/index.js (`genwire`, the full library) and
// js/queue.js (`genwire/queue`, on the core built without realtime). The wasm is loaded lazily on
// first use (or by an explicit `init()`), so importing an entry touches neither wasm nor `window`
// and is safe during a server render. The first call picks the core module (docs/size.md, "The
// split"): the lean one, without the validator, when that call's client has `validation: false` and
// the call doesn't ask for a validation; else the full one. A lean page that validates after all
// fetches the validator module then, with the schema. One glue runs both cores of an entry.
import { DEFAULT_PROXY_URL, STATS_WINDOW_MS } from "./facts.js";
import { createJobs } from "./jobs.js";
import { configError } from "./errors.js";

/**
 * `queue.streamStatus`: the statuses of `call` (started with the `onQueueUpdate` and signal given to
 * it) as an async iterator that ends after COMPLETED. Breaking out of a `for await` (its `return()`)
 * or `abort()` closes the stream and stops polling; the job itself runs on. An error (typed) is
 * thrown by the iteration after the statuses before it.
 */
function statusStream(requestId, callerSignal, start) {
  const ctl = new AbortController();
  const buffered = [];
  let wake = null; // the pending next()'s resolve
  let end = null; // { error } or { value }
  let closed = false; // by return() or abort(): the end is quiet
  const signal = callerSignal ? (AbortSignal.any ? AbortSignal.any([callerSignal, ctl.signal]) : ctl.signal) : ctl.signal;
  if (callerSignal && !AbortSignal.any) callerSignal.addEventListener("abort", () => ctl.abort(callerSignal.reason), { once: true });
  const poke = () => { const w = wake; wake = null; w?.(); };
  const done = start(signal, (status) => { buffered.push(status); poke(); }).then(
    (value) => { end = { value }; poke(); return value; },
    (error) => { end = { error }; poke(); throw error; },
  );
  done.catch(() => {}); // said through the iteration or done(), never as an unhandled rejection
  const iterator = {
    async next() {
      for (;;) {
        if (buffered.length) return { value: buffered.shift(), done: false };
        if (end) {
          if (end.error && !closed) {
            const e = end.error;
            end = { value: undefined };
            throw e;
          }
          return { value: undefined, done: true };
        }
        await new Promise((r) => { wake = r; });
      }
    },
    async return(value) {
      closed = true;
      ctl.abort();
      buffered.length = 0;
      end ??= { value };
      return { value, done: true };
    },
    [Symbol.asyncIterator]() { return this; },
  };
  return Object.freeze({
    requestId,
    /** The COMPLETED status (rejects with the typed error, or as aborted after abort()). */
    done: () => done,
    /** Stops following: the stream closes, no more polls; the job runs on. */
    abort: () => iterator.return(),
    next: iterator.next,
    return: iterator.return,
    [Symbol.asyncIterator]() { return iterator; },
  });
}

/**
 * A development build: where unknown options are warned about. Bundlers replace
 * `process.env.NODE_ENV` in production builds; without a bundler (no `process`), development.
 */
function development() {
  try {
    return process.env.NODE_ENV !== "production";
  } catch {
    return true;
  }
}

/**
 * The object `client.stream` returns, over the core's stream (`inner.stream(endpoint, options,
 * onPartial, onOpen)`, which decides what every chunk, event and silence means). One reader: every
 * partial is kept for the iterator until it takes it. `abort()` (or leaving a `for await` early)
 * stops the request; the iterator then ends quietly and `done()` rejects with an `aborted` error.
 */
function outputStream(client, endpoint, opts) {
  const own = new AbortController();
  const theirs = opts?.signal;
  const isSignal = typeof AbortSignal !== "undefined" && theirs instanceof AbortSignal;
  const merged = isSignal ? (AbortSignal.any ? AbortSignal.any([theirs, own.signal]) : relay(theirs, own)) : own.signal;
  // Anything else the caller gave as a signal goes on as it is, for the core to refuse by name.
  const signal = theirs == null || isSignal ? merged : theirs;
  const queue = [];
  const listeners = { data: [], error: [], done: [] };
  const waiting = []; // next() calls waiting for a partial or the end
  let requestId = null;
  let settled = null; // { ok, value } once the stream ended
  const tell = (type, v) => { for (const f of listeners[type]) f(v); };
  const poke = () => { for (const w of waiting.splice(0)) w(); };
  const onPartial = (p) => { queue.push(p); tell("data", p); poke(); };
  const onOpen = (id) => { requestId = id; };
  const done = client().then((inner) => inner.stream(endpoint, { ...opts, signal }, onPartial, onOpen));
  const finished = done.then(
    (value) => { settled = { ok: true, value }; tell("done", value); poke(); },
    (error) => { settled = { ok: false, value: error }; tell("error", error); poke(); },
  );
  void finished;
  let thrown = false;
  const iterator = {
    async next() {
      for (;;) {
        if (queue.length) return { value: queue.shift(), done: false };
        if (settled) {
          // An error is thrown once; an abort (ours or the caller's) ends the iteration quietly.
          if (!settled.ok && !thrown && settled.value?.kind !== "aborted") {
            thrown = true;
            throw settled.value;
          }
          return { value: undefined, done: true };
        }
        await new Promise((r) => waiting.push(r));
      }
    },
    /** Leaving a `for await` early stops the stream. */
    async return() {
      if (!settled) own.abort();
      queue.length = 0;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() { return this; },
  };
  return {
    get requestId() { return requestId; },
    /** The final output (the last partial); rejects with the stream's typed error. */
    done: () => done,
    /** Stops the request (a no-op once the stream ended). */
    abort(reason) { if (!settled) own.abort(reason); },
    /** `"data"` for each partial, `"error"`, `"done"` with the final output (as `@fal-ai/client`'s stream). */
    on(type, fn) {
      if (!listeners[type]) throw new TypeError(`genwire: stream events are "data", "error" and "done", not ${JSON.stringify(type)}`);
      listeners[type].push(fn);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
}

function relay(theirs, own) {
  if (theirs.aborted) own.abort(theirs.reason);
  else theirs.addEventListener("abort", () => own.abort(theirs.reason), { once: true });
  return own.signal;
}

/**
 * One entry's library over its wasm-bindgen `glue` (the exports it uses: `default`, `GenwireClient`,
 * `decodeError`, `validate`, `setModuleLoader`, `compile`) and where its other files
 * are. `files` holds functions, so that each entry writes its URLs and `import()`s relative to
 * itself, where bundlers see them: `lean()` the lean core's URL, `validatorWasm()` the validator
 * module's URL, `validatorGlue()` its glue, imported. Each library keeps its own state.
 */
export function library(glue, files) {
  const { default: wasmInit, GenwireClient, decodeError: wasmDecodeError, validate: wasmValidate, setModuleLoader, compile } = glue;

  /** Whether this entry's core has realtime: `genwire` has, `genwire/queue` (js/queue.js) hasn't. */
  const REALTIME = typeof GenwireClient.prototype.realtimeConnect === "function";

  let loading = null;
  let loaded = false;
  let lean = false;
  let validatorLoading = null;
  let validator = null; // what compiles schemas: the full core's export, or the validator module's

  const source = (input) => (input === undefined ? undefined : { module_or_path: input });

  /** The validator module (pkg/genwire_validate_bg.wasm), for a page whose core is the lean one. */
  function loadValidator() {
    if (!validatorLoading) {
      // The wasm is fetched while the glue is: one round trip, not two.
      const wasmFile = fetch(files.validatorWasm());
      wasmFile.catch(() => {});
      validatorLoading = files.validatorGlue().then(
        async (m) => { await m.default({ module_or_path: wasmFile }); validator = m; return m; },
      ).catch((e) => { validatorLoading = null; throw e; });
    }
    return validatorLoading;
  }

  /** The core module, loaded once: the full one if `full` (or `input` is given), else the lean one. */
  function core(full, input) {
    loading ??= wasmInit(source(input ?? (full ? undefined : files.lean()))).then(
      () => {
        lean = !full && input === undefined;
        if (!lean) validator = { compile };
        setModuleLoader((name) => (name !== "validator" ? Promise.reject(new Error(`genwire: no module ${name}`)) : lean ? loadValidator() : Promise.resolve(validator)));
        loaded = true;
      },
      (e) => { loading = null; throw e; },
    );
    return loading;
  }

  /**
   * Loads the wasm ahead of the first call (the full core, with the validator). Optional: every
   * call loads what it needs on first use. Pass a URL, a Response, bytes or a WebAssembly.Module
   * when your bundler can't resolve the default `genwire_bg.wasm` next to this package.
   */
  function init(input) {
    return core(true, input).then(() => (lean ? loadValidator() : undefined)).then(() => {});
  }

  /**
   * Decodes an error answer into a GenwireError, for the app's own fetches:
   * `await decodeError(response)`, or at once `decodeError({ status, headers, body })`
   * and `decodeError(thrownFetchError)` (those need the module loaded: `await init()`).
   */
  function decodeError(value) {
    if (loaded) return wasmDecodeError(value);
    let response = false;
    try {
      response = typeof Response !== "undefined" && value instanceof Response; // a Proxy's getPrototypeOf trap may throw
    } catch { /* not a Response */ }
    if (response) return core(true).then(() => wasmDecodeError(value));
    throw configError("genwire: call `await init()` before decodeError() on anything but a Response");
  }

  /**
   * Checks an input against a schema (an endpoint's OpenAPI document, or a JSON schema) without a
   * client or a request; returns the issues, as the server's 422 would list them. Needs `await init()`.
   */
  function validate(schema, input, endpoint) {
    if (!loaded || !validator) throw configError("genwire: call `await init()` before validate()");
    return wasmValidate(schema, input, endpoint, validator);
  }

  /** Creates a client bound to the app's proxy route. Refuses any key or credentials. */
  function createClient(options = {}) {
    let inner = null;
    const early = []; // listeners added before the module loaded
    const dev = development();
    // The jobs store's options are the page's (a store object may hold functions): not the core's.
    // Anything else (not an object, getters that throw) goes to the core as given, to be judged there.
    let jobsOptions, coreOptions = options;
    try {
      if (options !== null && typeof options === "object" && !Array.isArray(options) && "jobs" in options) ({ jobs: jobsOptions, ...coreOptions } = options);
    } catch {
      coreOptions = options;
    }
    const make = () => {
      if (!inner) {
        inner = new GenwireClient(coreOptions, dev);
        for (const l of early.splice(0)) l.off = inner.on(l.fn);
      }
      return inner;
    };
    // Already loaded: say about bad options now, synchronously.
    if (loaded) make();
    // Whether a call may need the validator, now or later: the full core, if it comes first. Only a
    // client that turned validation off, on a call that doesn't turn it on, starts with the lean one.
    // (Options whose getters throw are the core's to judge: the full core then.)
    const validates = (method, opts) => {
      try {
        return method === "validate" || (opts?.validate ?? options?.validation) !== false;
      } catch {
        return true;
      }
    };
    const call = (method) => (endpoint, opts = {}) => core(validates(method, opts)).then(() => make()[method](endpoint, opts));
    // Arguments are judged by the core (any JS value: a typed `config` error, never a trap); a
    // synchronous throw of a call becomes its rejection.
    const client = {
      get proxyUrl() {
        if (inner) return inner.proxyUrl;
        try { return typeof options?.proxyUrl === "string" ? options.proxyUrl : DEFAULT_PROXY_URL; } catch { return DEFAULT_PROXY_URL; }
      },
      queue: Object.freeze({
        submit: call("submit"),
        status: call("status"),
        result: call("result"),
        cancel: call("cancel"),
        /**
         * Follows a job already submitted (by a server, another tab, this page before a reload) by its
         * `requestId`, with `subscribe`'s machinery: the status stream with the polling fallback,
         * `onQueueUpdate`, merged logs, `timeout` (cancels upstream, as fal's client does); resolves
         * with `{ data, requestId }`. An abort only stops following, unless `cancelOnAbort: true`.
         */
        subscribeToStatus: (endpoint, opts = {}) => core(validates("follow")).then(() => make().follow(endpoint, opts, true)),
        /** The job's statuses as an async iterator (see `statusStream`), ending after COMPLETED. */
        streamStatus(endpoint, opts = {}) {
          const { abortSignal, ...rest } = opts ?? {};
          return statusStream(rest.requestId, rest.signal ?? abortSignal, (sig, push) => core(validates("follow")).then(() => make().follow(endpoint, {
            ...rest,
            signal: sig,
            onQueueUpdate(status) {
              push(status);
              rest.onQueueUpdate?.(status);
            },
          }, false)));
        },
      }),
      subscribe: call("subscribe"),
      run: call("run"),
      /**
       * An output stream (`fal.run/{id}/stream`, through the proxy): an async iterator of partial
       * outputs (parsed events, or `Uint8Array` chunks of a binary answer), `done()` (the final
       * output: the last one), `abort()`, `requestId` (once the answer is in), `on(type, fn)`.
       */
      stream: (endpoint, opts = {}) => outputStream(() => core(validates("stream", opts)).then(() => make()), endpoint, opts),
      /** The input's issues by the endpoint's schema (loaded once, cached), without sending it; `opts.signal` stops waiting. */
      validate: (endpoint, input, opts = {}) => core(true).then(() => make().validate(endpoint, input, opts)),
      storage: Object.freeze({
        /**
         * Uploads a File, Blob, typed array or ArrayBuffer; resolves to its URL. Initiated through the
         * proxy, then sent straight to the presigned upload URL (no key goes with it); above
         * `multipartThreshold` (90 MiB, as in fal's own client) in 10 MiB parts, three at a time, each retried.
         */
        upload: (data, opts = {}) => core(validates("upload")).then(() => make().upload(data, opts)),
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
          let failure = null; // why it could not connect: send() throws it
          let early = undefined;
          const report = (e) => {
            failure = e;
            try {
              const f = opts?.onError;
              if (typeof f === "function") f(e);
            } catch (thrown) {
              console.error("genwire: a callback threw", thrown);
            }
          };
          const conn = {
            get status() { return handle ? handle.status : { status: closed ? "closed" : "idle" }; },
            // Once loaded, the handle throws a typed GenwireError when closed (after a fatal close, saying why).
            send(input) {
              if (handle) return handle.send(input);
              if (failure) throw failure;
              if (closed) throw configError("this realtime connection is closed");
              early = input;
            },
            close() { closed = true; handle?.close(); },
            reconnect() { handle?.reconnect(); },
          };
          if (!REALTIME) {
            // `genwire/queue`: said like any unusable argument (onError, then send() throws it), before anything loads.
            const e = configError("genwire/queue has no realtime: import createClient from 'genwire' to open realtime connections");
            failure = e;
            closed = true;
            queueMicrotask(() => report(e));
            return conn;
          }
          core(validates("realtime")).then(() => {
            if (closed) return;
            try {
              handle = make().realtimeConnect(endpoint, opts);
            } catch (e) {
              closed = true; // a bad argument: said through onError (and by send()), as a config error
              report(e);
              return;
            }
            if (early === undefined) return;
            try {
              handle.send(early);
            } catch (e) {
              report(e);
            }
          }, report);
          return conn;
        },
        /** What realtime holds right now (for leak checks): connections, sockets, listeners, timers. */
        debug() { return inner ? inner.realtimeDebug() : { connections: 0, sockets: 0, listeners: 0, timers: 0 }; },
      }),
      /** Every attempt, retry, error, success and breaker change. Returns the unsubscribe function. */
      on(listener) {
        if (inner) return inner.on(listener);
        if (typeof listener !== "function") throw configError(`the listener must be a function, not ${listener === null ? "null" : typeof listener}`);
        const l = { fn: listener, off: null };
        early.push(l);
        return () => (l.off ? l.off() : early.splice(early.indexOf(l) >>> 0, 1));
      },
      /**
       * The integration checklist (proxy, key, allowlist, streaming, realtime, clock, CSP) as a report.
       * Loaded on first use: it costs nothing in the main download.
       */
      // The client's options are judged by the core first (keys anywhere refused) when the wasm can
      // load; when it can't, diagnose still runs (its CSP check says why) with the same key rules.
      diagnose: (opts = {}) => core(validates("diagnose")).then(() => { make(); }, () => {}).then(() => import("./diagnose.js")).then((m) => m.diagnose(options, opts)),
      /**
       * The check `genwire/react`'s hooks run on their options before they start anything: resolves,
       * or rejects with the `config` GenwireError the hook's call would give (the core's rules,
       * `proto::options::HOOKS`). Loads the core module the hook's call would load.
       */
      checkHook: (hook, opts) => core(validates(hook === "useValidation" ? "validate" : hook, opts)).then(() => make().checkHook(hook, opts)),
      /** Rolling summary of the last five minutes of calls. */
      stats() {
        return inner ? inner.stats() : { windowMs: STATS_WINDOW_MS, calls: 0, successes: 0, successRate: null, latencyP50Ms: null, latencyP95Ms: null, retries: 0, errorsByType: [], breakers: {}, retryBudget: null };
      },
    };
    /** Jobs in flight kept across reloads (js/jobs.js): `list`, `add`, `remove`, `subscribe`, `resume`. */
    client.jobs = createJobs(client, jobsOptions ?? {});
    return Object.freeze(client);
  }

  return { init, decodeError, validate, createClient };
}
