// genwire/react: hooks over the client. Importing this touches neither wasm nor `window`, and no
// hook does anything during render: work starts in effects or in the handlers they return, so a
// server render shows the idle state, and StrictMode's mount/unmount/mount leaves one connection.
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { configError } from "./errors.js";
import { createClient } from "./index.js";
import { either, field, GenerationObserver, RealtimeObserver, StreamObserver } from "./observe.js";

const ClientContext = createContext(null);
let fallbackClient = null;

/** Hands a client to the hooks below it: `client`, or one made once from `options`. */
export function GenwireProvider({ client, options, children }) {
  const [own] = useState(() => client ?? createClient(options));
  return createElement(ClientContext.Provider, { value: client ?? own }, children);
}

/** The provider's client; without a provider, one default client (proxy at `/api/fal/proxy`). */
export function useGenwire() {
  return useContext(ClientContext) ?? (fallbackClient ??= createClient());
}

/** The latest value, for callbacks that must not restart effects when the caller passes new closures. */
function useLatest(value) {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

/** Unmounted components get no more state updates, and their calls are aborted. */
function useMounted(onUnmount) {
  const mounted = useRef(false);
  const cleanup = useLatest(onUnmount);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      cleanup.current?.();
    };
  }, []);
  return mounted;
}

/** Options as hooks read them during render: an object, or none. Nothing is judged during a
 *  render: the core judges the options as given (`client.checkHook`, the rules of the hook's call
 *  and its own) when the hook starts something, and a refusal is the hook's `error` (and the
 *  rejection of the promise its action returns), a typed `config` GenwireError naming the option. */
const asOptions = (options) => (options !== null && typeof options === "object" ? options : {});

/** The core's check of a hook's options, where the client has it (see js/observe.js). */
const checkHook = (client, hook, options) => (typeof client.checkHook === "function" ? client.checkHook(hook, options) : Promise.resolve());

/** An observer of `Kind` made once per component, told the latest client, endpoint and options on every render. */
function useObserver(Kind, client, endpoint, options) {
  const [observer] = useState(() => new Kind(client, endpoint, options));
  observer.setOptions(client, endpoint, options);
  return [observer, useSyncExternalStore(observer.subscribe, observer.getSnapshot, observer.getSnapshot)];
}

/**
 * A generation job, shaped like a mutation: `submit(input)` runs it on the queue with live status,
 * `submitAsync` returns the promise. A new submit supersedes the current one: its result is dropped
 * and, unless `cancelSuperseded: false`, its job cancelled upstream. Unmounting cancels too, unless
 * `resume: "session"`: then the job is kept in `client.jobs` while in flight, an unmount (or a
 * reload) lets it run on, and the next mount follows it again (status `resuming`) to its result.
 * The rules are `GenerationObserver`'s (js/observe.js); this hook subscribes to it.
 */
export function useGeneration(endpoint, options = {}) {
  const [observer, state] = useObserver(GenerationObserver, useGenwire(), endpoint, options);
  useEffect(() => {
    observer.mount();
    return () => observer.unmount();
  }, [observer]);
  const actions = useMemo(() => ({
    submit: (input, callOptions) => observer.submit(input, callOptions),
    submitAsync: (input, callOptions) => observer.submitAsync(input, callOptions),
    cancel: () => observer.cancel(),
    reset: () => observer.reset(),
  }), [observer]);
  return useMemo(() => ({
    ...state,
    isIdle: state.status === "idle",
    isPending: state.status === "submitting" || state.status === "resuming" || state.status === "queued" || state.status === "running",
    isSuccess: state.status === "success",
    isError: state.status === "error",
    ...actions,
  }), [state, actions]);
}

/**
 * An output stream (`client.stream`): `start(input)` streams it, `partial` is the latest partial
 * output, `data` the final one. A new start aborts the stream in flight; so do `abort()` and an
 * unmount. The rules are `StreamObserver`'s (js/observe.js).
 */
export function useStream(endpoint, options = {}) {
  const [observer, state] = useObserver(StreamObserver, useGenwire(), endpoint, options);
  useEffect(() => {
    observer.mount();
    return () => observer.unmount();
  }, [observer]);
  const actions = useMemo(() => ({
    start: (input, callOptions) => observer.start(input, callOptions),
    startAsync: (input, callOptions) => observer.startAsync(input, callOptions),
    abort: () => observer.abort(),
    reset: () => observer.reset(),
  }), [observer]);
  return useMemo(() => ({
    ...state,
    isIdle: state.status === "idle",
    isStreaming: state.status === "streaming",
    isSuccess: state.status === "success",
    isError: state.status === "error",
    ...actions,
  }), [state, actions]);
}

/**
 * A realtime connection for as long as the component is mounted (and `enabled`). Hooks with the same
 * `connectionKey` share one socket, reference-counted. Callbacks may change between renders; the
 * endpoint, key and `enabled` decide the connection. `send` before the socket is open keeps the newest.
 * The rules are `RealtimeObserver`'s (js/observe.js).
 */
export function useRealtime(endpoint, options = {}) {
  const client = useGenwire();
  const [observer, state] = useObserver(RealtimeObserver, client, endpoint, options);
  const [generation, setGeneration] = useState(0); // bumped by reconnect() after close()
  observer.onClosed = () => setGeneration((g) => g + 1);
  const [enabled, connectionKey] = [field(options, "enabled") !== false, field(options, "connectionKey")];
  useEffect(() => (enabled ? observer.connect() : undefined), [observer, client, endpoint, connectionKey, enabled, generation]);
  const actions = useMemo(() => ({
    send: (input) => observer.send(input),
    close: () => observer.close(),
    reconnect: () => observer.reconnect(),
  }), [observer]);
  return useMemo(() => ({ status: state.status.status, detail: state.status, lastResult: state.lastResult, error: state.error, ...actions }), [state, actions]);
}

const IDLE_UPLOAD = Object.freeze({ status: "idle", progress: 0, loaded: 0, total: 0, url: undefined, error: undefined });

/** Uploads a File or Blob with progress; a new upload or an unmount aborts the one in flight. */
export function useUpload(options = {}) {
  const client = useGenwire();
  const opts = useLatest(options);
  const [state, setState] = useState(IDLE_UPLOAD);
  const current = useRef(null);
  const mounted = useMounted(() => current.current?.abort());

  const upload = useCallback((data, callOptions = {}) => {
    current.current?.abort();
    const controller = new AbortController();
    current.current = controller;
    const live = () => mounted.current && current.current === controller;
    let o = {};
    try { o = { ...asOptions(opts.current), ...asOptions(callOptions) }; } catch { /* unreadable: the check says why */ }
    let total = 0;
    try { total = data?.size ?? data?.byteLength ?? 0; } catch { /* the upload judges what it was given */ }
    setState({ ...IDLE_UPLOAD, status: "uploading", total });
    const { abortSignal, ...rest } = o;
    // Nothing is sent before the core has judged the options (the hook's and this call's).
    return checkHook(client, "useUpload", opts.current).then(() => checkHook(client, "useUpload", callOptions)).then(() => client.storage.upload(data, {
      ...(o.signal && o.signal !== abortSignal ? o : rest),
      signal: either(o.signal ?? abortSignal, controller.signal),
      onProgress(p) {
        if (live()) setState((s) => ({ ...s, progress: p.fraction, loaded: p.loaded, total: p.total }));
        if (typeof o.onProgress === "function") o.onProgress(p);
      },
    })).then(
      (url) => {
        if (live()) setState((s) => ({ ...s, status: "success", progress: 1, url }));
        return url;
      },
      (error) => {
        if (live()) setState((s) => ({ ...s, status: error?.kind === "aborted" ? "canceled" : "error", error }));
        throw error;
      },
    );
  }, [client]);

  const abort = useCallback(() => current.current?.abort(), []);
  const reset = useCallback(() => {
    current.current?.abort();
    current.current = null;
    setState(IDLE_UPLOAD);
  }, []);
  return useMemo(() => ({ ...state, upload, abort, reset }), [state, upload, abort, reset]);
}

/** A structural key of an input, so a new object with the same content doesn't validate again. */
function inputKey(value) {
  try {
    return JSON.stringify(value, (_k, v) => {
      if (typeof Blob !== "undefined" && v instanceof Blob) return `\u0000blob:${v.type}:${v.size}:${v.name ?? ""}:${v.lastModified ?? ""}`;
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `\u0000bytes:${v.byteLength}`;
      return v;
    });
  } catch {
    return NaN; // cyclic: never equal, validated each time (the validator reports it)
  }
}

const NO_ISSUES = Object.freeze([]);

/**
 * Validation as you type: the input's issues by the endpoint's schema, `debounceMs` after the last
 * change (default 150). `valid` is null until the first answer; `error` says the schema couldn't load.
 */
export function useValidation(endpoint, input, options = {}) {
  const client = useGenwire();
  const [debounceMs, enabled] = [field(options, "debounceMs") ?? 150, field(options, "enabled") ?? true];
  const [state, setState] = useState({ issues: NO_ISSUES, valid: null, pending: false, error: undefined });
  const key = inputKey(input);
  const latestInput = useLatest(input);
  const latestOptions = useLatest(options);

  useEffect(() => {
    if (!enabled || input === undefined) return undefined;
    let active = true;
    const stop = new AbortController(); // a newer input or an unmount stops waiting for this one
    setState((s) => (s.pending ? s : { ...s, pending: true }));
    const timer = setTimeout(() => {
      // The options are the core's to judge first: a refusal is the hook's error.
      checkHook(client, "useValidation", latestOptions.current).then(() => client.validate(endpoint, latestInput.current, { signal: stop.signal })).then(
        (issues) => { if (active) setState({ issues, valid: issues.length === 0, pending: false, error: undefined }); },
        (error) => { if (active) setState({ issues: NO_ISSUES, valid: null, pending: false, error }); },
      );
    }, debounceMs);
    return () => {
      active = false;
      clearTimeout(timer);
      stop.abort();
    };
  }, [client, endpoint, key, enabled, debounceMs]);

  const byField = useMemo(() => {
    const map = {};
    for (const issue of state.issues) (map[issue.field] ??= []).push(issue);
    return map;
  }, [state.issues]);
  return useMemo(() => ({ ...state, byField, issueFor: (field) => byField[field]?.[0] }), [state, byField]);
}

/** The longest delay timers take (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2147483647;

/** The client's rolling stats, refreshed every `intervalMs` (default 1000; 0: only on events) and on every event. */
export function useClientStats(intervalMs = 1000) {
  // Its one argument has no state to carry a refusal, so a wrong one is thrown here (a typed
  // `config` error, pure, as React throws for a misused hook) rather than hammering a 0 ms timer.
  if (typeof intervalMs !== "number" || !(intervalMs >= 0 && intervalMs <= MAX_TIMER_MS)) {
    throw configError(`useClientStats: intervalMs must be a number of milliseconds from 0 (refresh on events only) to ${MAX_TIMER_MS}, not ${typeof intervalMs === "number" ? intervalMs : typeof intervalMs}`);
  }
  const client = useGenwire();
  const [stats, setStats] = useState(null);
  useEffect(() => {
    let queued = false;
    let active = true;
    const refresh = () => {
      if (queued) return;
      queued = true;
      queueMicrotask(() => { queued = false; if (active) setStats(client.stats()); });
    };
    refresh();
    const timer = intervalMs > 0 ? setInterval(refresh, intervalMs) : undefined;
    const off = client.on(refresh);
    return () => { active = false; clearInterval(timer); off(); };
  }, [client, intervalMs]);
  return stats;
}
