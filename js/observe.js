// genwire/observe: the state machines behind the React hooks, without React (TanStack Query's
// split of an observer from a thin `useSyncExternalStore` hook). Each observer holds a state
// snapshot (a new object on every change, the same one otherwise), tells its subscribers, and owns
// the rules: a new submit supersedes the current call (its results are dropped and its job
// cancelled), an unmounted observer updates nothing and aborts what it started; a realtime
// observer's callbacks stop counting once it disconnects, and `reconnect()` after `close()` opens
// a new connection. Plain JS, testable in Node with a fake client (tests/observe.test.mjs).
// Options are the core's to judge: before an observer starts anything it asks the client's
// `checkHook` (the same typed `config` error the hook's call gives for the same mistake), and
// reports a refusal in its state and through the promise its action returns, never by throwing.
import { configError } from "./errors.js";

/** Options as the observers read them: an object, or none (anything else is the core's to refuse). */
const plain = (options) => (options !== null && typeof options === "object" ? options : {});

/** One option, read without throwing (a getter or a Proxy trap that throws reads as none; the core's check says why). */
export function field(options, key) {
  try {
    return plain(options)[key];
  } catch {
    return undefined;
  }
}

/** A hook's options and an action's as one object; unreadable ones read as none (the core's check says why). */
function merge(a, b) {
  try {
    return { ...plain(a), ...plain(b) };
  } catch {
    return {};
  }
}

/** Calls `fn` if it is a function (when it is not, the core's check has said so). */
const fire = (fn, ...args) => (typeof fn === "function" ? fn(...args) : undefined);

/**
 * The core's check of a hook's options (the client's `checkHook`): the hook's own, then the
 * action's; a promise. Null for a client of the hook's shape without it (a test double): the
 * observer then starts at once, as it would have.
 */
function check(client, hook, options, callOptions) {
  if (typeof client?.checkHook !== "function") return null;
  return client.checkHook(hook, options).then(() => (callOptions === undefined ? undefined : client.checkHook(hook, callOptions)));
}

/** `fn()` once `checking` (a `check`) resolves, or at once without one; a throw is the rejection. */
function after(checking, fn) {
  if (checking) return checking.then(fn);
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

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

/** `resume` asked for (`"session"`, `true`; the core's check refuses any other value but false). */
const resumeAsked = (value) => value !== undefined && value !== false && value !== null;

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
    Object.assign(this, { client, endpoint, options: plain(options), raw: options });
  }

  get resumeKey() { return field(this.options, "resumeKey") ?? this.endpoint; }

  mount() {
    this.mounted = true;
    if (resumeAsked(field(this.options, "resume"))) this.resume();
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
    const o = merge(this.options, callOptions);
    const previous = this.current;
    if (previous) {
      if (o.cancelSuperseded !== false) this.stop(previous);
      else if (previous.resume && previous.requestId) previous.jobs.remove(previous.requestId); // its result is dropped anyway
    }
    const call = { controller: new AbortController(), requestId: patch.requestId, done: false, resume: false, jobs: null };
    this.current = call;
    const live = () => this.mounted && this.current === call;
    const update = (patch) => { if (live()) this.set(patch); };
    this.set({ ...IDLE_GENERATION, ...patch });
    const latest = () => (merge(this.options, callOptions));
    // Nothing starts before the core has judged the options: a refusal is this call's error.
    const started = after(check(this.client, "useGeneration", this.raw, callOptions), () => {
      const resume = o.resume === true || o.resume === "session";
      if (resume && !this.client.jobs) throw configError("option 'resume' needs a client with a jobs store (createClient's client.jobs)");
      Object.assign(call, { resume, jobs: resume ? this.client.jobs : null });
      const { onQueueUpdate, onSuccess, onError, onEnqueue, cancelSuperseded, resume: _r, resumeKey: _k, ...rest } = o;
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
          if (live()) fire(latest().onQueueUpdate, status);
        },
      };
      const enqueued = (requestId) => {
        call.requestId = requestId;
        if (resume) call.jobs.add({ endpoint: this.endpoint, requestId, key: this.resumeKey });
        update({ requestId });
        if (live()) fire(latest().onEnqueue, requestId);
      };
      return start(options, enqueued);
    });
    return started.then(
      (result) => {
        call.done = true;
        if (call.resume) call.jobs.remove(call.requestId);
        if (live()) {
          update({ status: "success", data: result.data, requestId: result.requestId, queuePosition: undefined });
          fire(latest().onSuccess, result.data, result);
        }
        return result.data;
      },
      (error) => {
        const canceled = error?.kind === "aborted"; // cancel(), the caller's signal, an unmount
        if (!canceled) {
          call.done = true;
          if (call.resume && call.requestId) call.jobs.remove(call.requestId); // delivered, as an error
        }
        if (live()) {
          update({ status: canceled ? "canceled" : "error", error: canceled ? undefined : error, queuePosition: undefined });
          if (!canceled) fire(latest().onError, error);
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
    // Once the core has judged the options (a refusal is the hook's error), after an async
    // store's first read (a microtask later for sessionStorage).
    after(check(this.client, "useGeneration", this.raw), () => jobs.ready).then(go, (error) => {
      if (this.mounted && !this.current) this.set({ ...IDLE_GENERATION, status: "error", error });
    });
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
    Object.assign(this, { client, endpoint, options: plain(options), raw: options });
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
    const o = merge(this.options, callOptions);
    const latest = () => (merge(this.options, callOptions));
    this.set({ ...IDLE_STREAM, status: "streaming" });
    let stream = null;
    try {
      // Nothing is sent before the core has judged the options: a refusal is this stream's error.
      const checking = check(this.client, "useStream", this.raw, callOptions);
      if (checking) await checking;
      const { onPartial: _p, onSuccess: _s, onError: _e, ...rest } = o;
      // `abortSignal` (@fal-ai/client's name) is `signal`; two different ones are for the client to refuse.
      if (!o.signal || o.signal === o.abortSignal) delete rest.abortSignal;
      stream = this.client.stream(this.endpoint, { ...rest, input, signal: either(o.signal ?? o.abortSignal, call.controller.signal) });
      for await (const partial of stream) {
        if (!live()) continue; // drained quietly: an aborted stream ends at once
        this.set({ partial, requestId: stream.requestId ?? undefined });
        fire(latest().onPartial, partial);
      }
      const data = await stream.done();
      if (live()) {
        this.set({ status: "success", data, partial: data, requestId: stream.requestId ?? undefined });
        fire(latest().onSuccess, data);
      }
      return data;
    } catch (error) {
      if (live()) {
        const canceled = error?.kind === "aborted";
        this.set({ status: canceled ? "canceled" : "error", error: canceled ? undefined : error, requestId: stream?.requestId ?? undefined });
        if (!canceled) fire(latest().onError, error);
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
    this.refused = false; // the core refused the options: the next send() or reconnect() tries again
  }

  setOptions(client, endpoint, options = {}) {
    Object.assign(this, { client, endpoint, options: plain(options), raw: options });
  }

  /** Connects; returns the disconnect. A disconnected connection's callbacks change nothing. */
  connect() {
    let active = true;
    let c = null;
    const latest = () => this.options;
    const open = () => {
      if (!active) return;
      const { enabled: _e, onResult, onError, onStatus, ...rest } = merge(this.options);
      c = this.client.realtime.connect(this.endpoint, {
        ...rest,
        onResult: (result) => {
          if (!active) return;
          this.set({ lastResult: result, error: undefined });
          fire(latest().onResult, result);
        },
        onError: (e) => {
          if (!active) return;
          this.set({ error: e });
          fire(latest().onError, e);
        },
        onStatus: (s) => {
          if (!active) return;
          this.set({ status: s });
          fire(latest().onStatus, s);
        },
      });
      this.conn = c;
      this.set({ status: c.status });
      if (this.pending !== undefined) {
        const input = this.pending;
        this.pending = undefined;
        try {
          c.send(input);
        } catch (e) {
          this.set({ error: e }); // a typed GenwireError: the connection is closed
        }
      }
    };
    // The hook's own options (its callbacks, `enabled`) by the core's rules before anything
    // connects (the connection judges the rest itself, through onError): a refusal is the hook's
    // error, and the next send() or reconnect() tries again with the options as they are then.
    this.refused = false;
    const checking = check(this.client, "useRealtime", this.raw);
    if (checking) {
      checking.then(open, (error) => {
        if (!active) return;
        this.refused = true;
        this.set({ status: { status: "closed" }, error });
      });
    } else {
      open();
    }
    this.stopConnecting = () => { active = false; };
    return () => {
      active = false;
      if (c && this.conn === c) this.conn = null;
      c?.close();
    };
  }

  send(input) {
    if (this.conn) return this.conn.send(input);
    this.pending = input;
    if (this.refused) this.reconnect(); // with the options as they are now
  }

  close() {
    this.stopConnecting?.(); // a connection still waiting for the check does not open
    const c = this.conn;
    this.conn = null;
    c?.close();
    this.set({ status: { status: "closed" } });
  }

  /** The connection's `reconnect()` (which starts over after a fatal close); after `close()`, a new connection. */
  reconnect() {
    this.refused = false;
    if (this.conn) this.conn.reconnect();
    else this.onClosed?.();
  }
}
