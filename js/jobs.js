// genwire's jobs store (`client.jobs`): the request ids of jobs in flight, with their endpoint and
// the time they were submitted, kept where a reload doesn't lose them (`sessionStorage` by default,
// or the app's own `{getItem, setItem, removeItem}`), so a page can follow them again with
// `queue.subscribeToStatus` after a reload or a restored tab. Plain JS, no wasm: what the store
// holds is the app's data, not a protocol decision. Storage that is missing, refuses to be read
// (a sandboxed frame, privacy modes) or is full never breaks a call: the store then lives in memory
// for the page's lifetime. A corrupt entry is skipped and dropped at the next write.

import { configError } from "./errors.js";

export const DEFAULT_JOBS_KEY = "genwire:jobs";
/** A day: a job still in flight after that is not coming back, and fal keeps results for a while only. */
export const DEFAULT_JOB_MAX_AGE_MS = 24 * 60 * 60 * 1000;


/** A `Storage`-like object, or null when there is none the page may use. */
function pickStorage(choice) {
  if (choice && typeof choice === "object") {
    for (const m of ["getItem", "setItem", "removeItem"]) {
      if (typeof choice[m] !== "function") throw configError(`option 'jobs.storage' must have getItem, setItem and removeItem functions (${m} is missing)`);
    }
    return choice;
  }
  if (choice === "memory" || choice === false || choice === null) return null;
  if (choice !== undefined && choice !== "session" && choice !== "local") {
    throw configError(`option 'jobs.storage' must be 'session', 'local', 'memory' or a {getItem, setItem, removeItem} store, not ${JSON.stringify(choice)}`);
  }
  try {
    // Reading the property itself throws where storage is denied (sandboxed frames, some privacy modes).
    return (choice === "local" ? globalThis.localStorage : globalThis.sessionStorage) ?? null;
  } catch {
    return null;
  }
}

/** One stored entry, or null for anything that isn't one (a corrupt or foreign entry). */
function entry(x) {
  if (!x || typeof x !== "object") return null;
  const { endpoint, requestId, submittedAt, key } = x;
  if (typeof endpoint !== "string" || !endpoint || typeof requestId !== "string" || !requestId) return null;
  if (typeof submittedAt !== "number" || !Number.isFinite(submittedAt)) return null;
  return { endpoint, requestId, submittedAt, key: typeof key === "string" ? key : endpoint };
}

/**
 * The store of `client` (its `subscribe` and `queue.subscribeToStatus`). `options`: `storage`
 * (`'session'`, default; `'local'`; `'memory'`; or a `{getItem, setItem, removeItem}` object, sync
 * or async), `key` (the storage key, default `genwire:jobs`), `maxAgeMs` (default a day).
 */
export function createJobs(client, options = {}) {
  if (options === null || typeof options !== "object") throw configError("option 'jobs' must be an object");
  const { storage: choice, key = DEFAULT_JOBS_KEY, maxAgeMs = DEFAULT_JOB_MAX_AGE_MS } = options;
  if (typeof key !== "string" || !key) throw configError("option 'jobs.key' must be a non-empty string");
  if (typeof maxAgeMs !== "number" || !(maxAgeMs > 0)) throw configError("option 'jobs.maxAgeMs' must be a number greater than 0");
  let storage = pickStorage(choice);
  // The page's copy: what storage held at the last read, or everything when there is no storage.
  let memory = [];
  const parse = (text) => {
    const parsed = text == null ? [] : JSON.parse(text);
    return (Array.isArray(parsed) ? parsed : []).map(entry).filter(Boolean);
  };
  // An async store (`getItem` returns a promise) is read once, at start (`ready`); then the page's
  // copy is the truth and every change is written through.
  let async = false;
  let ready = Promise.resolve();
  if (storage) {
    try {
      const first = storage.getItem(key);
      if (first && typeof first.then === "function") {
        async = true;
        ready = first.then((text) => {
          try {
            const got = parse(text);
            memory = [...got.filter((g) => !memory.some((m) => m.requestId === g.requestId)), ...memory];
          } catch { /* corrupt: ignored */ }
        }, () => {});
      }
    } catch {
      storage = null; // refused at once: memory only
    }
  }

  // A write that failed (storage full, refused) left storage behind the page's copy: the copy wins
  // until a write goes through again.
  let behind = false;
  const read = () => {
    if (!storage || async || behind) return memory;
    try {
      memory = parse(storage.getItem(key));
    } catch {
      // Unreadable or corrupt: what this page knows stands; the next write replaces it.
    }
    return memory;
  };
  const write = (list) => {
    memory = list;
    if (!storage) return;
    try {
      const r = list.length ? storage.setItem(key, JSON.stringify(list)) : storage.removeItem(key);
      r?.catch?.(() => {});
      behind = false;
    } catch {
      behind = true; // full or refused: kept in memory for this page
    }
  };

  /** The entries still worth following (younger than `maxAgeMs`); older and corrupt ones are dropped. */
  const list = (filter = {}) => {
    const all = read();
    const now = Date.now();
    const fresh = all.filter((j) => now - j.submittedAt <= maxAgeMs);
    if (fresh.length !== all.length) write(fresh);
    return fresh
      .filter((j) => (filter.endpoint === undefined || j.endpoint === filter.endpoint) && (filter.key === undefined || j.key === filter.key))
      .map((j) => ({ ...j }));
  };
  const add = (job) => {
    const j = entry({ submittedAt: Date.now(), ...job });
    if (!j) throw configError("a job needs an 'endpoint' and a 'requestId' (strings) and a numeric 'submittedAt'");
    write([...read().filter((x) => x.requestId !== j.requestId), j]);
    return { ...j };
  };
  const remove = (requestId) => {
    const all = read();
    const rest = all.filter((x) => x.requestId !== requestId);
    if (rest.length !== all.length) write(rest);
  };
  const settled = (requestId) => (error) => {
    // Delivered (a result or the job's error): forgotten. Let go (aborted, the job runs on): kept.
    if (error?.kind !== "aborted") remove(requestId);
  };

  return Object.freeze({
    /** Resolves once an async store was read (at once for `sessionStorage` and other sync stores). */
    ready,
    list,
    add,
    remove,
    clear: () => write([]),
    /**
     * `client.subscribe`, the job remembered from its `onEnqueue` until its result or error is
     * delivered. Not cancelled upstream on abort (`cancelOnAbort: false` unless given), so a page
     * that goes away leaves it to be resumed.
     */
    subscribe(endpoint, opts = {}) {
      let id;
      const { jobKey, ...rest } = opts;
      return client.subscribe(endpoint, {
        cancelOnAbort: false,
        ...rest,
        onEnqueue(requestId) {
          id = requestId;
          add({ endpoint, requestId, key: jobKey ?? endpoint });
          rest.onEnqueue?.(requestId);
        },
      }).then(
        (r) => { remove(id); return r; },
        (e) => { if (id) settled(id)(e); throw e; },
      );
    },
    /**
     * Follows every stored job (matching `filter.endpoint` / `filter.key`) again with
     * `queue.subscribeToStatus`: one `{endpoint, requestId, submittedAt, key, result}` per job, where
     * `result` resolves like `subscribe` (a job finished meanwhile resolves at once with its result).
     * Each entry is forgotten once its result or error is delivered.
     */
    resume(filter = {}, opts = {}) {
      return list(filter).map((job) => {
        const result = client.queue.subscribeToStatus(job.endpoint, { ...opts, requestId: job.requestId });
        result.then(() => remove(job.requestId), settled(job.requestId));
        return { ...job, result };
      });
    },
  });
}
