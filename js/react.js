// genwire/react: hooks over the client. Importing this touches neither wasm nor `window`, and no
// hook does anything during render: work starts in effects or in the handlers they return, so a
// server render shows the idle state, and StrictMode's mount/unmount/mount leaves one connection.
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { createClient } from "./index.js";

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

/** The caller's signal and the hook's own, as one (AbortSignal.any where the browser has it). */
function either(theirs, ours) {
  if (!theirs) return ours;
  if (AbortSignal.any) return AbortSignal.any([theirs, ours]);
  const both = new AbortController();
  for (const s of [theirs, ours]) {
    if (s.aborted) both.abort(s.reason);
    else s.addEventListener("abort", () => both.abort(s.reason), { once: true });
  }
  return both.signal;
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

const IDLE_GENERATION = Object.freeze({
  status: "idle", data: undefined, error: undefined, queuePosition: undefined, logs: [], requestId: undefined,
});
const PHASES = { IN_QUEUE: "queued", IN_PROGRESS: "running", COMPLETED: "running" };

/**
 * A generation job, shaped like a mutation: `submit(input)` runs it on the queue with live status,
 * `submitAsync` returns the promise. A new submit supersedes the current one: its result is dropped
 * and, unless `cancelSuperseded: false`, its job cancelled upstream. Unmounting cancels too.
 */
export function useGeneration(endpoint, options = {}) {
  const client = useGenwire();
  const [state, setState] = useState(IDLE_GENERATION);
  const opts = useLatest(options);
  const current = useRef(null); // the call whose results count: { controller }
  const mounted = useMounted(() => current.current?.controller.abort());

  const submitAsync = useCallback((input, callOptions = {}) => {
    const o = { ...opts.current, ...callOptions };
    const previous = current.current;
    if (previous && o.cancelSuperseded !== false) previous.controller.abort();
    const controller = new AbortController();
    const call = { controller };
    current.current = call;
    const live = () => mounted.current && current.current === call;
    const update = (patch) => { if (live()) setState((s) => ({ ...s, ...patch })); };
    setState({ ...IDLE_GENERATION, status: "submitting" });
    const signal = either(o.signal, controller.signal);
    const { onQueueUpdate, onSuccess, onError, cancelSuperseded, ...rest } = o;
    return client.subscribe(endpoint, {
      ...rest,
      input,
      signal,
      logs: rest.logs ?? true,
      onQueueUpdate(status) {
        update({
          status: PHASES[status.status] ?? "running",
          requestId: status.request_id,
          queuePosition: status.status === "IN_QUEUE" ? status.queue_position : undefined,
          ...(status.logs ? { logs: status.logs } : {}),
        });
        if (live()) onQueueUpdate?.(status);
      },
    }).then(
      (result) => {
        if (live()) {
          update({ status: "success", data: result.data, requestId: result.requestId, queuePosition: undefined });
          onSuccess?.(result.data, result);
        }
        return result.data;
      },
      (error) => {
        if (live()) {
          const canceled = error?.kind === "aborted"; // cancel(), the caller's signal
          update({ status: canceled ? "canceled" : "error", error: canceled ? undefined : error, queuePosition: undefined });
          if (!canceled) onError?.(error);
        }
        throw error;
      },
    );
  }, [client, endpoint]);

  const submit = useCallback((input, callOptions) => { submitAsync(input, callOptions).catch(() => {}); }, [submitAsync]);
  const cancel = useCallback(() => {
    current.current?.controller.abort();
  }, []);
  const reset = useCallback(() => {
    current.current?.controller.abort();
    current.current = null;
    setState(IDLE_GENERATION);
  }, []);

  return useMemo(() => ({
    ...state,
    isIdle: state.status === "idle",
    isPending: state.status === "submitting" || state.status === "queued" || state.status === "running",
    isSuccess: state.status === "success",
    isError: state.status === "error",
    submit, submitAsync, cancel, reset,
  }), [state, submit, submitAsync, cancel, reset]);
}

const IDLE_REALTIME = Object.freeze({ status: "idle" });

/**
 * A realtime connection for as long as the component is mounted (and `enabled`). Hooks with the same
 * `connectionKey` share one socket, reference-counted. Callbacks may change between renders; the
 * endpoint, key and `enabled` decide the connection. `send` before the socket is open keeps the newest.
 */
export function useRealtime(endpoint, options = {}) {
  const client = useGenwire();
  const opts = useLatest(options);
  const [status, setStatus] = useState(IDLE_REALTIME);
  const [lastResult, setLastResult] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [generation, setGeneration] = useState(0); // bumped by reconnect() after close()
  const conn = useRef(null);
  const pending = useRef(undefined);
  const enabled = options.enabled !== false;

  useEffect(() => {
    if (!enabled) return undefined;
    let active = true;
    const { enabled: _e, onResult, onError, onStatus, ...rest } = opts.current;
    const c = client.realtime.connect(endpoint, {
      ...rest,
      onResult(result) {
        if (!active) return;
        setLastResult(result);
        setError(undefined);
        opts.current.onResult?.(result);
      },
      onError(e) {
        if (!active) return;
        setError(e);
        opts.current.onError?.(e);
      },
      onStatus(s) {
        if (!active) return;
        setStatus(s);
        opts.current.onStatus?.(s);
      },
    });
    conn.current = c;
    setStatus(c.status);
    if (pending.current !== undefined) {
      c.send(pending.current);
      pending.current = undefined;
    }
    return () => {
      active = false;
      if (conn.current === c) conn.current = null;
      c.close();
    };
  }, [client, endpoint, options.connectionKey, enabled, generation]);

  const send = useCallback((input) => {
    if (conn.current) conn.current.send(input);
    else pending.current = input;
  }, []);
  const close = useCallback(() => {
    const c = conn.current;
    conn.current = null;
    c?.close();
    setStatus({ status: "closed" });
  }, []);
  const reconnect = useCallback(() => {
    if (conn.current) conn.current.reconnect();
    else setGeneration((g) => g + 1);
  }, []);

  return useMemo(() => ({ status: status.status, detail: status, lastResult, error, send, close, reconnect }),
    [status, lastResult, error, send, close, reconnect]);
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
    const o = { ...opts.current, ...callOptions };
    const total = data?.size ?? data?.byteLength ?? 0;
    setState({ ...IDLE_UPLOAD, status: "uploading", total });
    return client.storage.upload(data, {
      ...o,
      signal: either(o.signal, controller.signal),
      onProgress(p) {
        if (live()) setState((s) => ({ ...s, progress: p.fraction, loaded: p.loaded, total: p.total }));
        o.onProgress?.(p);
      },
    }).then(
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
  const { debounceMs = 150, enabled = true } = options;
  const [state, setState] = useState({ issues: NO_ISSUES, valid: null, pending: false, error: undefined });
  const key = inputKey(input);
  const latestInput = useLatest(input);

  useEffect(() => {
    if (!enabled || input === undefined) return undefined;
    let active = true;
    setState((s) => (s.pending ? s : { ...s, pending: true }));
    const timer = setTimeout(() => {
      client.validate(endpoint, latestInput.current).then(
        (issues) => { if (active) setState({ issues, valid: issues.length === 0, pending: false, error: undefined }); },
        (error) => { if (active) setState({ issues: NO_ISSUES, valid: null, pending: false, error }); },
      );
    }, debounceMs);
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, [client, endpoint, key, enabled, debounceMs]);

  const byField = useMemo(() => {
    const map = {};
    for (const issue of state.issues) (map[issue.field] ??= []).push(issue);
    return map;
  }, [state.issues]);
  return useMemo(() => ({ ...state, byField, issueFor: (field) => byField[field]?.[0] }), [state, byField]);
}

/** The client's rolling stats, refreshed every `intervalMs` (default 1000) and on every event. */
export function useClientStats(intervalMs = 1000) {
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
    const timer = setInterval(refresh, intervalMs);
    const off = client.on(refresh);
    return () => { active = false; clearInterval(timer); off(); };
  }, [client, intervalMs]);
  return stats;
}
