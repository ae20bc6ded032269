// genwire/observe: the state machines behind the React hooks, without React (TanStack Query's
// split of an observer from a thin `useSyncExternalStore` hook). Each observer holds a state
// snapshot (a new object on every change, the same one otherwise), tells its subscribers, and owns
// the rules: a new submit supersedes the current call (its results are dropped and its job
// cancelled), an unmounted observer updates nothing and aborts what it started; a realtime
// observer's callbacks stop counting once it disconnects, and `reconnect()` after `close()` opens
// a new connection. Plain JS, testable in Node with a fake client (tests/observe.test.mjs).

/** The caller's signal and the observer's own, as one (AbortSignal.any where the runtime has it). */
export function either(theirs, ours) {
  if (!theirs) return ours;
  if (AbortSignal.any) return AbortSignal.any([theirs, ours]);
  const both = new AbortController();
  for (const s of [theirs, ours]) {
    if (s.aborted) both.abort(s.reason);
    else s.addEventListener("abort", () => both.abort(s.reason), { once: true });
  }
  return both.signal;
}

/** A snapshot and its subscribers. */
class Store {
  constructor(state) {
    this.state = state;
    this.listeners = new Set();
    this.subscribe = (l) => { this.listeners.add(l); return () => this.listeners.delete(l); };
    this.getSnapshot = () => this.state;
  }
  /** Merges `patch` into a new snapshot; `replace` puts `state` itself. Subscribers are told either way. */
  set(patch, replace = false) {
    this.state = replace ? patch : { ...this.state, ...patch };
    for (const l of [...this.listeners]) l();
  }
}

export const IDLE_GENERATION = Object.freeze({
  status: "idle", data: undefined, error: undefined, queuePosition: undefined, logs: [], requestId: undefined,
});
const PHASES = { IN_QUEUE: "queued", IN_PROGRESS: "running", COMPLETED: "running" };

/** `resume` as the hook takes it: false, or the client's jobs store (`"session"`, `true`). */
function resumeMode(value) {
  if (value === undefined || value === false || value === null) return false;
  if (value === true || value === "session") return true;
  throw Object.assign(new Error(`option 'resume' must be "session", true or false, not ${JSON.stringify(value)}`), {
    name: "GenwireError", kind: "config", category: "config", retryable: false, issues: [],
  });
}

/**
 * One generation job at a time on `client.subscribe`; see `useGeneration`. With `resume`, the job
 * is kept in the client's jobs store (`client.jobs`) from its `onEnqueue` until its result or error
 * is delivered, an unmount lets it run on instead of cancelling it, and the next mount (after a
 * reload, a restored tab, a remount) follows it again with `queue.subscribeToStatus`.
 */
export class GenerationObserver extends Store {
  constructor(client, endpoint, options = {}) {
    super(IDLE_GENERATION);
    this.setOptions(client, endpoint, options);
    this.current = null; // the call whose results count: { controller, requestId, done }
    this.mounted = false;
  }

  /** The latest client, endpoint and options (callbacks may change on every render). */
  setOptions(client, endpoint, options = {}) {
    Object.assign(this, { client, endpoint, options });
  }

  get resumeKey() { return this.options.resumeKey ?? this.endpoint; }

  mount() {
    this.mounted = true;
    if (resumeMode(this.options.resume)) this.resume();
  }

  /**
   * Unmounted: nothing updates any more, and the call in flight is aborted (cancelled upstream;
   * with `resume`, only let go: it stays stored, to be followed again by the next mount).
   */
  unmount() {
    this.mounted = false;
    this.current?.controller.abort();
  }

  /** Stops `call`: aborted, and with `resume` cancelled upstream by hand and forgotten. */
  stop(call, cancelUpstream = true) {
    if (!call) return;
    call.controller.abort();
    if (call.resume && call.requestId && !call.done) {
      if (cancelUpstream) this.client.queue.cancel(this.endpoint, { requestId: call.requestId }).catch(() => {});
      call.jobs.remove(call.requestId);
    }
  }

  /** A new call that supersedes the current one; `start(signal, onQueueUpdate, onEnqueue)` runs it. */
  begin(patch, callOptions, start) {
    const o = { ...this.options, ...callOptions };
    const previous = this.current;
    if (previous) {
      if (o.cancelSuperseded !== false) this.stop(previous);
      else if (previous.resume && previous.requestId) previous.jobs.remove(previous.requestId); // its result is dropped anyway
    }
    const resume = resumeMode(o.resume);
    const call = { controller: new AbortController(), requestId: patch.requestId, done: false, resume, jobs: resume ? this.client.jobs : null };
    if (resume && !call.jobs) throw new Error("genwire: option 'resume' needs a client with a jobs store (createClient's client.jobs)");
    this.current = call;
    const live = () => this.mounted && this.current === call;
    const update = (patch) => { if (live()) this.set(patch); };
    this.set({ ...IDLE_GENERATION, ...patch });
    const { onQueueUpdate, onSuccess, onError, onEnqueue, cancelSuperseded, resume: _r, resumeKey: _k, ...rest } = o;
    const latest = () => ({ ...this.options, ...callOptions });
    // `abortSignal` (@fal-ai/client's name) is `signal`; two different ones are for the client to refuse.
    if (!o.signal || o.signal === o.abortSignal) delete rest.abortSignal;
    const signal = either(o.signal ?? o.abortSignal, call.controller.signal);
    const options = {
      ...rest,
      signal,
      logs: rest.logs ?? true,
      // With resume, an abort (an unmount) lets the job go; cancel() and a superseding submit cancel it by hand.
      ...(resume ? { cancelOnAbort: false } : {}),
      onQueueUpdate(status) {
        update({
          status: PHASES[status.status] ?? "running",
          requestId: status.request_id,
          queuePosition: status.status === "IN_QUEUE" ? status.queue_position : undefined,
          ...(status.logs ? { logs: status.logs } : {}),
        });
        if (live()) latest().onQueueUpdate?.(status);
      },
    };
    const enqueued = (requestId) => {
      call.requestId = requestId;
      if (resume) call.jobs.add({ endpoint: this.endpoint, requestId, key: this.resumeKey });
      update({ requestId });
      if (live()) latest().onEnqueue?.(requestId);
    };
    return start(options, enqueued).then(
      (result) => {
        call.done = true;
        if (resume) call.jobs.remove(call.requestId);
        if (live()) {
          update({ status: "success", data: result.data, requestId: result.requestId, queuePosition: undefined });
          latest().onSuccess?.(result.data, result);
        }
        return result.data;
      },
      (error) => {
        const canceled = error?.kind === "aborted"; // cancel(), the caller's signal, an unmount
        if (!canceled) {
          call.done = true;
          if (resume && call.requestId) call.jobs.remove(call.requestId); // delivered, as an error
        }
        if (live()) {
          update({ status: canceled ? "canceled" : "error", error: canceled ? undefined : error, queuePosition: undefined });
          if (!canceled) latest().onError?.(error);
        }
        throw error;
      },
    );
  }

  submitAsync(input, callOptions = {}) {
    return this.begin({ status: "submitting" }, callOptions, (options, enqueued) =>
      this.client.subscribe(this.endpoint, { ...options, input, onEnqueue: enqueued }));
  }

  /**
   * Follows the newest stored job of this hook (`resumeKey`, default the endpoint) again; older
   * ones are forgotten (superseded: their results would be dropped). A job that finished meanwhile
   * delivers its result; one whose result is gone upstream ends as an error.
   */
  resume() {
    const jobs = this.client.jobs;
    if (!jobs) return;
    const go = () => {
      if (!this.mounted) return;
      if (this.current && !this.current.controller.signal.aborted) return; // a call of its own runs
      this.current = null; // let go by an unmount (StrictMode's, say): not to be cancelled now
      const stored = jobs.list({ key: this.resumeKey });
      if (!stored.length) return;
      const newest = stored.reduce((a, b) => (b.submittedAt >= a.submittedAt ? b : a));
      for (const j of stored) if (j !== newest) jobs.remove(j.requestId);
      this.begin({ status: "resuming", requestId: newest.requestId }, {}, (options) => {
        const { input: _i, validate: _v, webhookUrl: _w, priority: _p, hint: _h, startTimeout: _s, ...follow } = options;
        return this.client.queue.subscribeToStatus(newest.endpoint, { ...follow, requestId: newest.requestId });
      }).catch(() => {});
    };
    // After an async store's first read; a microtask later for sessionStorage.
    Promise.resolve(jobs.ready).then(go);
  }

  submit(input, callOptions) { this.submitAsync(input, callOptions).catch(() => {}); }
  cancel() { this.stop(this.current); }
  reset() {
    this.stop(this.current);
    this.current = null;
    this.set(IDLE_GENERATION, true);
  }
}

export const IDLE_STREAM = Object.freeze({
  status: "idle", partial: undefined, data: undefined, error: undefined, requestId: undefined,
});

/** One output stream at a time on `client.stream`; see `useStream`. */
export class StreamObserver extends Store {
  constructor(client, endpoint, options = {}) {
    super(IDLE_STREAM);
    this.setOptions(client, endpoint, options);
    this.current = null; // the stream whose partials count: { controller }
    this.mounted = false;
  }

  setOptions(client, endpoint, options = {}) {
    Object.assign(this, { client, endpoint, options });
  }

  mount() { this.mounted = true; }

  /** Unmounted: nothing updates any more, and the stream in flight is aborted. */
  unmount() {
    this.mounted = false;
    this.current?.controller.abort();
  }

  /**
   * Starts a stream of `input`; a stream already running is aborted (its partials stop counting).
   * Resolves with the final output; rejects with the stream's error.
   */
  async startAsync(input, callOptions = {}) {
    this.current?.controller.abort();
    const call = { controller: new AbortController() };
    this.current = call;
    const live = () => this.mounted && this.current === call;
    const o = { ...this.options, ...callOptions };
    const { onPartial: _p, onSuccess: _s, onError: _e, ...rest } = o;
    const latest = () => ({ ...this.options, ...callOptions });
    this.set({ ...IDLE_STREAM, status: "streaming" });
    const stream = this.client.stream(this.endpoint, { ...rest, input, signal: either(o.signal, call.controller.signal) });
    try {
      for await (const partial of stream) {
        if (!live()) continue; // drained quietly: an aborted stream ends at once
        this.set({ partial, requestId: stream.requestId ?? undefined });
        latest().onPartial?.(partial);
      }
      const data = await stream.done();
      if (live()) {
        this.set({ status: "success", data, partial: data, requestId: stream.requestId ?? undefined });
        latest().onSuccess?.(data);
      }
      return data;
    } catch (error) {
      if (live()) {
        const canceled = error?.kind === "aborted";
        this.set({ status: canceled ? "canceled" : "error", error: canceled ? undefined : error, requestId: stream.requestId ?? undefined });
        if (!canceled) latest().onError?.(error);
      }
      throw error;
    }
  }

  start(input, callOptions) { this.startAsync(input, callOptions).catch(() => {}); }
  abort() { this.current?.controller.abort(); }
  reset() {
    this.current?.controller.abort();
    this.current = null;
    this.set(IDLE_STREAM, true);
  }
}

export const IDLE_REALTIME = Object.freeze({ status: { status: "idle" }, lastResult: undefined, error: undefined });

/** A realtime connection while connected (mounted and enabled); see `useRealtime`. */
export class RealtimeObserver extends Store {
  constructor(client, endpoint, options = {}) {
    super(IDLE_REALTIME);
    this.setOptions(client, endpoint, options);
    this.conn = null;
    this.pending = undefined; // the newest input sent before a connection
    this.onClosed = null; // what `reconnect()` does once `close()` let the connection go
  }

  setOptions(client, endpoint, options = {}) {
    Object.assign(this, { client, endpoint, options });
  }

  /** Connects; returns the disconnect. A disconnected connection's callbacks change nothing. */
  connect() {
    let active = true;
    const { enabled: _e, onResult, onError, onStatus, ...rest } = this.options;
    const latest = () => this.options;
    const c = this.client.realtime.connect(this.endpoint, {
      ...rest,
      onResult: (result) => {
        if (!active) return;
        this.set({ lastResult: result, error: undefined });
        latest().onResult?.(result);
      },
      onError: (e) => {
        if (!active) return;
        this.set({ error: e });
        latest().onError?.(e);
      },
      onStatus: (s) => {
        if (!active) return;
        this.set({ status: s });
        latest().onStatus?.(s);
      },
    });
    this.conn = c;
    this.set({ status: c.status });
    if (this.pending !== undefined) {
      c.send(this.pending);
      this.pending = undefined;
    }
    return () => {
      active = false;
      if (this.conn === c) this.conn = null;
      c.close();
    };
  }

  send(input) {
    if (this.conn) this.conn.send(input);
    else this.pending = input;
  }

  close() {
    const c = this.conn;
    this.conn = null;
    c?.close();
    this.set({ status: { status: "closed" } });
  }

  /** The connection's `reconnect()` (which starts over after a fatal close); after `close()`, a new connection. */
  reconnect() {
    if (this.conn) this.conn.reconnect();
    else this.onClosed?.();
  }
}
