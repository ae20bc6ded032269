// The jobs store (js/jobs.js) and useGeneration's resume rules (js/observe.js) in Node, with a
// fake client whose calls the test settles by hand and a storage object it can corrupt, fill or
// take away. (tests/react.test.mjs reloads a real page mid-job against the real server.)
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createJobs, DEFAULT_JOBS_KEY } from "../js/jobs.js";
import { mounted } from "./support/observer.mjs";

const aborted = () => Object.assign(new Error("aborted"), { name: "GenwireError", kind: "aborted" });
const settle = () => new Promise((r) => setTimeout(r, 0));

/** A Storage stand-in: a Map, with switches to make reads or writes throw. */
function memoryStorage(initial = {}) {
  const map = new Map(Object.entries(initial));
  const s = {
    map, failReads: false, failWrites: false,
    getItem(k) { if (s.failReads) throw new Error("SecurityError"); return map.has(k) ? map.get(k) : null; },
    setItem(k, v) { if (s.failWrites) throw new Error("QuotaExceededError"); map.set(k, String(v)); },
    removeItem(k) { map.delete(k); },
  };
  return s;
}

/** A client whose subscribe / subscribeToStatus calls wait for the test; aborts reject like genwire's. */
function fakeClient(jobsOptions) {
  const calls = [];
  const cancels = [];
  const pending = (kind) => (endpoint, opts) => new Promise((resolve, reject) => {
    const call = { kind, endpoint, opts, resolve, reject, update: (s) => opts.onQueueUpdate?.(s) };
    opts.signal?.addEventListener("abort", () => reject(aborted()));
    calls.push(call);
  });
  const client = {
    calls, cancels,
    subscribe: pending("subscribe"),
    queue: { subscribeToStatus: pending("follow"), cancel: (endpoint, o) => { cancels.push(o.requestId); return Promise.resolve(); } },
  };
  client.jobs = createJobs(client, jobsOptions);
  return client;
}

describe("client.jobs", () => {
  test("add, list, remove: entries carry endpoint, request id, time submitted and key; kept in sessionStorage's stand-in", () => {
    const storage = memoryStorage();
    const jobs = createJobs({}, { storage });
    const j = jobs.add({ endpoint: "fal-ai/flux/dev", requestId: "r1" });
    assert.equal(j.key, "fal-ai/flux/dev");
    assert.ok(Math.abs(Date.now() - j.submittedAt) < 60_000);
    jobs.add({ endpoint: "fal-ai/fast-sdxl", requestId: "r2", key: "sidebar" });
    assert.deepEqual(JSON.parse(storage.map.get(DEFAULT_JOBS_KEY)).map((x) => x.requestId), ["r1", "r2"]);
    // A second store on the same storage (the page after a reload) sees them.
    const again = createJobs({}, { storage });
    assert.deepEqual(again.list().map((x) => x.requestId), ["r1", "r2"]);
    assert.deepEqual(again.list({ key: "sidebar" }).map((x) => x.requestId), ["r2"]);
    assert.deepEqual(again.list({ endpoint: "fal-ai/flux/dev" }).map((x) => x.requestId), ["r1"]);
    again.remove("r1");
    assert.deepEqual(jobs.list().map((x) => x.requestId), ["r2"]);
    jobs.clear();
    assert.equal(storage.map.has(DEFAULT_JOBS_KEY), false, "an empty store leaves nothing behind");
  });

  test("entries past their age are dropped; corrupt storage and corrupt entries are ignored without a crash", () => {
    const old = { endpoint: "a/b", requestId: "old", submittedAt: Date.now() - 10_000 };
    const fresh = { endpoint: "a/b", requestId: "fresh", submittedAt: Date.now() };
    const storage = memoryStorage({ [DEFAULT_JOBS_KEY]: JSON.stringify([old, fresh, null, 5, { endpoint: "a/b" }, { endpoint: 1, requestId: "x", submittedAt: 1 }, { endpoint: "a/b", requestId: "n", submittedAt: "yesterday" }]) });
    const jobs = createJobs({}, { storage, maxAgeMs: 5_000 });
    assert.deepEqual(jobs.list().map((x) => x.requestId), ["fresh"]);
    assert.deepEqual(JSON.parse(storage.map.get(DEFAULT_JOBS_KEY)).map((x) => x.requestId), ["fresh"], "the dropped ones are written away");
    for (const junk of ["{not json", '{"a":1}', "null", "42", '"str"']) {
      storage.map.set(DEFAULT_JOBS_KEY, junk);
      const j = createJobs({}, { storage });
      assert.deepEqual(j.list(), [], junk);
      j.add({ endpoint: "a/b", requestId: "after" });
      assert.deepEqual(createJobs({}, { storage }).list().map((x) => x.requestId), ["after"], `${junk} replaced by the next write`);
    }
  });

  test("storage that refuses to be read or written, or is missing, leaves a store in memory for the page", () => {
    const storage = memoryStorage();
    storage.failWrites = true;
    const jobs = createJobs({}, { storage });
    jobs.add({ endpoint: "a/b", requestId: "r" });
    assert.deepEqual(jobs.list().map((x) => x.requestId), ["r"], "full storage: kept in memory");
    storage.failReads = true;
    assert.deepEqual(jobs.list().map((x) => x.requestId), ["r"], "unreadable storage: the page's copy");
    const denied = memoryStorage();
    denied.failReads = true;
    assert.deepEqual(createJobs({}, { storage: denied }).list(), []);
    // Node has no sessionStorage: the default is memory, and it works.
    const none = createJobs({});
    none.add({ endpoint: "a/b", requestId: "m" });
    assert.deepEqual(none.list().map((x) => x.requestId), ["m"]);
    const mem = createJobs({}, { storage: "memory" });
    assert.deepEqual(mem.list(), []);
  });

  test("an async store is read once (ready) and written through", async () => {
    const map = new Map([[DEFAULT_JOBS_KEY, JSON.stringify([{ endpoint: "a/b", requestId: "stored", submittedAt: Date.now() }])]]);
    const storage = {
      getItem: async (k) => map.get(k) ?? null,
      setItem: async (k, v) => { map.set(k, v); },
      removeItem: async (k) => { map.delete(k); },
    };
    const jobs = createJobs({}, { storage });
    await jobs.ready;
    assert.deepEqual(jobs.list().map((x) => x.requestId), ["stored"]);
    jobs.add({ endpoint: "a/b", requestId: "new" });
    await settle();
    assert.deepEqual(JSON.parse(map.get(DEFAULT_JOBS_KEY)).map((x) => x.requestId), ["stored", "new"]);
  });

  test("bad options and bad entries are typed config errors", () => {
    const bad = (f, re) => assert.throws(f, (e) => e.name === "GenwireError" && e.kind === "config" && re.test(e.message));
    bad(() => createJobs({}, { storage: { getItem() {} } }), /jobs.storage.*setItem/);
    bad(() => createJobs({}, { storage: "cookies" }), /'session', 'local', 'memory'/);
    bad(() => createJobs({}, { maxAgeMs: 0 }), /maxAgeMs/);
    bad(() => createJobs({}, { maxAgeMs: "1h" }), /maxAgeMs/);
    bad(() => createJobs({}, { key: "" }), /jobs.key/);
    bad(() => createJobs({}, "session"), /option 'jobs'/);
    bad(() => createJobs({}, {}).add({ endpoint: "a/b" }), /requestId/);
  });

  test("jobs.subscribe remembers the job from onEnqueue until delivered; an abort leaves it stored and running", async () => {
    const client = fakeClient({ storage: memoryStorage() });
    const enqueued = [];
    const p = client.jobs.subscribe("a/b", { input: { x: 1 }, onEnqueue: (id) => enqueued.push(id) });
    const [call] = client.calls;
    assert.equal(call.opts.cancelOnAbort, false, "not cancelled upstream when the page lets go");
    call.opts.onEnqueue("r1");
    assert.deepEqual([enqueued, client.jobs.list().map((j) => j.requestId)], [["r1"], ["r1"]]);
    call.resolve({ data: 1, requestId: "r1" });
    await p;
    assert.deepEqual(client.jobs.list(), []);

    const ctl = new AbortController();
    const q = client.jobs.subscribe("a/b", { input: {}, signal: ctl.signal }).catch((e) => e.kind);
    client.calls[1].opts.onEnqueue("r2");
    ctl.abort();
    assert.equal(await q, "aborted");
    assert.deepEqual(client.jobs.list().map((j) => j.requestId), ["r2"], "kept, to be resumed");
    const failed = client.jobs.subscribe("a/b", { input: {} }).catch((e) => e.kind);
    client.calls[2].opts.onEnqueue("r3");
    client.calls[2].reject(Object.assign(new Error("gone"), { kind: "not_found" }));
    assert.equal(await failed, "not_found");
    assert.deepEqual(client.jobs.list().map((j) => j.requestId), ["r2"], "an error is delivered too: forgotten");
  });

  test("jobs.resume follows each stored job with subscribeToStatus and forgets it once delivered", async () => {
    const client = fakeClient({ storage: memoryStorage() });
    client.jobs.add({ endpoint: "a/b", requestId: "r1" });
    client.jobs.add({ endpoint: "c/d", requestId: "r2" });
    const resumed = client.jobs.resume({}, { mode: "polling" });
    assert.deepEqual(resumed.map((j) => [j.endpoint, j.requestId]), [["a/b", "r1"], ["c/d", "r2"]]);
    assert.deepEqual(client.calls.map((c) => [c.kind, c.endpoint, c.opts.requestId, c.opts.mode]), [["follow", "a/b", "r1", "polling"], ["follow", "c/d", "r2", "polling"]]);
    client.calls[0].resolve({ data: "one", requestId: "r1" });
    assert.deepEqual(await resumed[0].result, { data: "one", requestId: "r1" });
    await settle();
    assert.deepEqual(client.jobs.list().map((j) => j.requestId), ["r2"]);
  });
});

describe("useGeneration's resume (GenerationObserver)", () => {
  test("a submitted job is stored from onEnqueue (before any status), told to onEnqueue, and forgotten on success", async () => {
    const client = fakeClient({ storage: memoryStorage() });
    const order = [];
    const { o } = mounted(client, { resume: "session", onEnqueue: (id) => order.push(`enqueue ${id}`), onQueueUpdate: (s) => order.push(s.status) });
    await settle();
    const p = o.submitAsync({ prompt: "x" });
    const [call] = client.calls;
    assert.equal(call.opts.cancelOnAbort, false);
    call.opts.onEnqueue("r1");
    assert.equal(o.getSnapshot().requestId, "r1", "the id is known at once");
    assert.deepEqual(client.jobs.list().map((j) => [j.requestId, j.key]), [["r1", "fal-ai/flux/dev"]]);
    call.update({ status: "IN_QUEUE", queue_position: 0, request_id: "r1" });
    call.resolve({ data: "img", requestId: "r1" });
    assert.equal(await p, "img");
    assert.deepEqual(order, ["enqueue r1", "IN_QUEUE"]);
    assert.deepEqual(client.jobs.list(), []);
  });

  test("after an unmount (or a reload) the next mount follows the stored job to its result, without submitting", async () => {
    const storage = memoryStorage();
    const first = fakeClient({ storage });
    const a = mounted(first, { resume: "session" });
    a.o.submit({ prompt: "x" });
    first.calls[0].opts.onEnqueue("r1");
    a.o.unmount();
    assert.deepEqual(first.cancels, [], "an unmount lets a resumable job run on");
    assert.deepEqual(first.jobs.list().map((j) => j.requestId), ["r1"]);

    // The page again: a new client on the same storage.
    const page = fakeClient({ storage });
    const done = [];
    const b = mounted(page, { resume: "session", onSuccess: (d) => done.push(d), mode: "polling", pollInterval: 250, validate: true });
    await settle();
    assert.deepEqual(page.calls.map((c) => [c.kind, c.opts.requestId, c.opts.mode, c.opts.pollInterval, "validate" in c.opts, "input" in c.opts]), [["follow", "r1", "polling", 250, false, false]]);
    assert.deepEqual([b.o.getSnapshot().status, b.o.getSnapshot().requestId], ["resuming", "r1"]);
    page.calls[0].update({ status: "COMPLETED", request_id: "r1" });
    page.calls[0].resolve({ data: "img", requestId: "r1" });
    await settle();
    assert.deepEqual(b.statuses(), ["resuming", "running", "success"]);
    assert.deepEqual(done, ["img"]);
    assert.deepEqual(page.jobs.list(), [], "delivered: forgotten");
    assert.ok(!page.calls.some((c) => c.kind === "subscribe"), "nothing submitted again");
  });

  test("StrictMode's mount, unmount, mount: the job is followed once more, never cancelled", async () => {
    const client = fakeClient({ storage: memoryStorage() });
    client.jobs.add({ endpoint: "fal-ai/flux/dev", requestId: "r1" });
    const { o } = mounted(client, { resume: "session" });
    await settle();
    o.unmount();
    o.mount();
    await settle();
    assert.deepEqual(client.calls.map((c) => [c.kind, c.opts.signal.aborted]), [["follow", true], ["follow", false]]);
    assert.deepEqual(client.cancels, []);
    assert.deepEqual(client.jobs.list().map((j) => j.requestId), ["r1"]);
  });

  test("only the newest job of the hook's key is followed; older ones, other keys' and errors are handled", async () => {
    const client = fakeClient({ storage: memoryStorage() });
    client.jobs.add({ endpoint: "fal-ai/flux/dev", requestId: "older", submittedAt: Date.now() - 1000 });
    client.jobs.add({ endpoint: "fal-ai/flux/dev", requestId: "newer" });
    client.jobs.add({ endpoint: "fal-ai/flux/dev", requestId: "other", key: "sidebar" });
    const errors = [];
    const { o } = mounted(client, { resume: "session", onError: (e) => errors.push(e.kind) });
    await settle();
    assert.deepEqual(client.calls.map((c) => c.opts.requestId), ["newer"]);
    assert.deepEqual(client.jobs.list().map((j) => j.requestId), ["newer", "other"]);
    // Its result expired upstream: an error, and forgotten.
    client.calls[0].reject(Object.assign(new Error("not found"), { kind: "not_found" }));
    await settle();
    assert.deepEqual([o.getSnapshot().status, errors], ["error", ["not_found"]]);
    assert.deepEqual(client.jobs.list().map((j) => j.requestId), ["other"]);
  });

  test("cancel() and a superseding submit cancel a resumable job upstream by hand and forget it", async () => {
    const client = fakeClient({ storage: memoryStorage() });
    const { o } = mounted(client, { resume: "session" });
    await settle();
    o.submit({ n: 1 });
    client.calls[0].opts.onEnqueue("a");
    o.submit({ n: 2 });
    client.calls[1].opts.onEnqueue("b");
    assert.deepEqual(client.cancels, ["a"]);
    assert.deepEqual(client.jobs.list().map((j) => j.requestId), ["b"]);
    o.cancel();
    await settle();
    assert.deepEqual(client.cancels, ["a", "b"]);
    assert.deepEqual([o.getSnapshot().status, client.jobs.list()], ["canceled", []]);
  });

  test("without resume nothing is stored; a bad resume value is the hook's config error, never a throw", async () => {
    const client = fakeClient({ storage: memoryStorage() });
    const { o } = mounted(client);
    o.submit({});
    client.calls[0].opts.onEnqueue("r");
    assert.deepEqual(client.jobs.list(), []);
    assert.ok(!("cancelOnAbort" in client.calls[0].opts), "subscribe's own default: cancelled on abort");
    // The value is the core's to judge (client.checkHook; tests/react.test.mjs has the real one):
    // its refusal is the hook's error, never a throw from mount().
    const refusal = Object.assign(new Error(`option 'resume' must be "session", true or false`), { name: "GenwireError", kind: "config" });
    const judged = { ...client, checkHook: (hook, opts) => (opts?.resume === "local" ? Promise.reject(refusal) : Promise.resolve()) };
    let bad;
    assert.doesNotThrow(() => { bad = mounted(judged, { resume: "local" }); });
    await settle();
    assert.deepEqual([bad.o.getSnapshot().status, bad.o.getSnapshot().error], ["error", refusal]);
    assert.equal(client.calls.length, 1, "nothing followed or submitted");
  });
});
