// The hooks' rules without React or a browser: js/observe.js driven with a fake client whose calls
// the test resolves, rejects and aborts by hand. (tests/react.test.mjs checks the hooks on top in
// Chromium against the real server.)
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { IDLE_GENERATION, IDLE_STREAM, RealtimeObserver, StreamObserver, either } from "../js/observe.js";
import { mounted } from "./support/observer.mjs";

const aborted = () => Object.assign(new Error("aborted"), { name: "GenwireError", kind: "aborted" });

/** A client whose `subscribe` calls wait for the test; an aborted call rejects like genwire's. */
function queueClient() {
  const calls = [];
  return {
    calls,
    subscribe(endpoint, opts) {
      return new Promise((resolve, reject) => {
        const call = { endpoint, opts, resolve, reject, update: (s) => opts.onQueueUpdate(s) };
        opts.signal.addEventListener("abort", () => reject(aborted()));
        calls.push(call);
      });
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("GenerationObserver", () => {
  test("submitting, queued, running with logs, success: one job's statuses in order, then onSuccess", async () => {
    const client = queueClient();
    const done = [];
    const { o, statuses } = mounted(client, { onSuccess: (data) => done.push(data), logs: false });
    assert.equal(o.getSnapshot(), IDLE_GENERATION);
    const p = o.submitAsync({ prompt: "x" });
    const [call] = client.calls;
    assert.deepEqual([call.endpoint, call.opts.input, call.opts.logs], ["fal-ai/flux/dev", { prompt: "x" }, false]);
    call.update({ status: "IN_QUEUE", queue_position: 2, request_id: "r" });
    assert.deepEqual([o.getSnapshot().queuePosition, o.getSnapshot().requestId], [2, "r"]);
    call.update({ status: "IN_PROGRESS", logs: [{ message: "a" }], request_id: "r" });
    assert.deepEqual([o.getSnapshot().queuePosition, o.getSnapshot().logs], [undefined, [{ message: "a" }]]);
    call.resolve({ data: { ok: 1 }, requestId: "r" });
    assert.deepEqual(await p, { ok: 1 });
    assert.deepEqual(statuses(), ["submitting", "queued", "running", "success"]);
    assert.deepEqual(done, [{ ok: 1 }]);
  });

  test("a new submit supersedes the current call: aborted, its late results change nothing", async () => {
    const client = queueClient();
    const { o, statuses } = mounted(client);
    const first = o.submitAsync({ n: 1 }).then(() => "resolved", (e) => e.kind);
    const [a] = client.calls;
    a.update({ status: "IN_QUEUE", queue_position: 0, request_id: "a" });
    o.submit({ n: 2 });
    const b = client.calls[1];
    assert.equal(a.opts.signal.aborted, true, "the superseded job is aborted (genwire cancels it upstream)");
    assert.equal(await first, "aborted");
    a.update({ status: "IN_PROGRESS", request_id: "a" });
    a.resolve({ data: "stale", requestId: "a" });
    b.resolve({ data: "fresh", requestId: "b" });
    await settle();
    assert.deepEqual([o.getSnapshot().status, o.getSnapshot().data, o.getSnapshot().requestId], ["success", "fresh", "b"]);
    assert.ok(!statuses().includes("canceled"), "the superseded call's abort is not this observer's news");
  });

  test("cancelSuperseded: false keeps the old job running but still drops its results", async () => {
    const client = queueClient();
    const { o } = mounted(client, { cancelSuperseded: false });
    o.submit({ n: 1 });
    o.submit({ n: 2 });
    const [a, b] = client.calls;
    assert.equal(a.opts.signal.aborted, false);
    a.resolve({ data: "old", requestId: "a" });
    await settle();
    assert.equal(o.getSnapshot().status, "submitting");
    b.resolve({ data: "new", requestId: "b" });
    await settle();
    assert.equal(o.getSnapshot().data, "new");
  });

  test("cancel() ends as canceled, not an error; a failure ends as error with onError", async () => {
    const client = queueClient();
    const errors = [];
    const { o } = mounted(client, { onError: (e) => errors.push(e.kind) });
    o.submit({});
    o.cancel();
    await settle();
    assert.deepEqual([o.getSnapshot().status, o.getSnapshot().error, errors], ["canceled", undefined, []]);
    o.submit({});
    client.calls[1].reject(Object.assign(new Error("bad"), { kind: "validation" }));
    await settle();
    assert.deepEqual([o.getSnapshot().status, o.getSnapshot().error.kind, errors], ["error", "validation", ["validation"]]);
  });

  test("unmounting aborts the call in flight, and nothing is published after", async () => {
    const client = queueClient();
    const { o, seen } = mounted(client);
    o.submit({});
    const n = seen.length;
    o.unmount();
    assert.equal(client.calls[0].opts.signal.aborted, true);
    client.calls[0].update({ status: "IN_PROGRESS" });
    await settle();
    assert.equal(seen.length, n, "no update after unmount");
  });

  test("reset() aborts and goes back to idle; the caller's own signal aborts too", async () => {
    const client = queueClient();
    const { o } = mounted(client);
    o.submit({});
    o.reset();
    assert.equal(o.getSnapshot(), IDLE_GENERATION);
    assert.equal(client.calls[0].opts.signal.aborted, true);
    const mine = new AbortController();
    o.submit({}, { signal: mine.signal });
    mine.abort();
    assert.equal(client.calls[1].opts.signal.aborted, true);
    await settle();
    assert.equal(o.getSnapshot().status, "canceled");
  });

  test("either() joins two signals, also without AbortSignal.any", () => {
    const saved = AbortSignal.any;
    try {
      for (const any of [saved, undefined]) {
        AbortSignal.any = any;
        const [a, b] = [new AbortController(), new AbortController()];
        const s = either(a.signal, b.signal);
        assert.equal(s.aborted, false);
        b.abort("why");
        assert.deepEqual([s.aborted, s.reason], [true, "why"]);
      }
    } finally {
      AbortSignal.any = saved;
    }
  });
});

/** A client whose connections record what is done to them. */
function realtimeClient() {
  const conns = [];
  return {
    conns,
    realtime: {
      connect(endpoint, opts) {
        const c = { endpoint, opts, sent: [], closed: false, reconnects: 0, status: { status: "idle" } };
        Object.assign(c, { send: (x) => c.sent.push(x), close: () => (c.closed = true), reconnect: () => c.reconnects++ });
        conns.push(c);
        return c;
      },
    },
  };
}

describe("RealtimeObserver", () => {
  test("connect, disconnect, connect (StrictMode's double mount): one connection left, the first one's callbacks ignored", () => {
    const client = realtimeClient();
    const results = [];
    const o = new RealtimeObserver(client, "fal-ai/lcm", { throttleInterval: 0, onResult: (r) => results.push(r) });
    const off = o.connect();
    off();
    o.connect();
    const [first, second] = client.conns;
    assert.deepEqual([first.closed, second.closed, second.opts.throttleInterval], [true, false, 0]);
    first.opts.onResult("stale");
    first.opts.onStatus({ status: "open" });
    second.opts.onResult("r1");
    assert.deepEqual([results, o.getSnapshot().lastResult, o.getSnapshot().status.status], [["r1"], "r1", "idle"]);
  });

  test("an input sent before the connection goes once it exists; the latest callbacks are called", () => {
    const client = realtimeClient();
    const o = new RealtimeObserver(client, "fal-ai/lcm");
    o.send({ n: 1 });
    o.send({ n: 2 });
    o.connect();
    assert.deepEqual(client.conns[0].sent, [{ n: 2 }], "the newest input");
    const errors = [];
    o.setOptions(client, "fal-ai/lcm", { onError: (e) => errors.push(e) });
    client.conns[0].opts.onError("boom");
    assert.deepEqual([errors, o.getSnapshot().error], [["boom"], "boom"]);
    client.conns[0].opts.onResult("ok");
    assert.equal(o.getSnapshot().error, undefined, "a result clears the error");
  });

  test("reconnect() asks the connection (which starts over after a fatal close); after close(), a new connection", () => {
    const client = realtimeClient();
    const o = new RealtimeObserver(client, "fal-ai/lcm");
    let generations = 0;
    o.onClosed = () => generations++;
    o.connect();
    o.reconnect();
    assert.equal(client.conns[0].reconnects, 1);
    o.close();
    assert.deepEqual([client.conns[0].closed, o.getSnapshot().status], [true, { status: "closed" }]);
    o.reconnect();
    assert.equal(generations, 1, "the hook connects again (a new generation)");
  });
});

/** A client whose streams the test feeds: `push(partial)`, `end(final)`, `fail(error)`; an abort ends them as genwire's do. */
function streamClient() {
  const calls = [];
  return {
    calls,
    stream(endpoint, opts) {
      const queue = [];
      let wake = null;
      let end = null;
      const poke = () => { const w = wake; wake = null; w?.(); };
      const finish = (e) => { if (!end) { end = e; poke(); } };
      opts.signal.addEventListener("abort", () => finish({ error: aborted() }));
      const call = { endpoint, opts, push: (p) => { queue.push(p); poke(); }, end: (v) => finish({ value: v }), fail: (e) => finish({ error: e }) };
      calls.push(call);
      return {
        requestId: "rid",
        async *[Symbol.asyncIterator]() {
          for (;;) {
            if (queue.length) { yield queue.shift(); continue; }
            if (end) { if (end.error && end.error.kind !== "aborted") throw end.error; return; }
            await new Promise((r) => { wake = r; });
          }
        },
        done: async () => { while (!end) await new Promise((r) => setTimeout(r, 0)); if (end.error) throw end.error; return end.value; },
      };
    },
  };
}

describe("StreamObserver", () => {
  function mountedStream(client, options = {}) {
    const o = new StreamObserver(client, "fal-ai/any-llm", options);
    const seen = [];
    o.subscribe(() => seen.push(o.getSnapshot()));
    o.mount();
    return { o, seen };
  }

  test("partials as state in order, then the final output; callbacks are the latest ones", async () => {
    const client = streamClient();
    const partials = [];
    const { o, seen } = mountedStream(client, { onPartial: () => partials.push("old") });
    assert.equal(o.getSnapshot(), IDLE_STREAM);
    const p = o.startAsync({ prompt: "x" }, { stallTimeout: 500 });
    o.setOptions(client, "fal-ai/any-llm", { onPartial: (x) => partials.push(x.output) });
    const [call] = client.calls;
    assert.deepEqual([call.endpoint, call.opts.input, call.opts.stallTimeout, call.opts.onPartial], ["fal-ai/any-llm", { prompt: "x" }, 500, undefined]);
    call.push({ output: "a" });
    call.push({ output: "a b" });
    await settle();
    assert.deepEqual(o.getSnapshot().partial, { output: "a b" });
    call.end({ output: "a b", partial: false });
    call.push({ output: "a b", partial: false });
    assert.deepEqual(await p, { output: "a b", partial: false });
    assert.deepEqual(partials, ["a", "a b", "a b"]);
    const last = o.getSnapshot();
    assert.deepEqual([last.status, last.data, last.requestId], ["success", { output: "a b", partial: false }, "rid"]);
    assert.deepEqual(seen.map((s) => s.status).filter((s, i, a) => i === 0 || s !== a[i - 1]), ["streaming", "success"]);
  });

  test("a new start aborts the stream in flight; its late partials change nothing", async () => {
    const client = streamClient();
    const { o } = mountedStream(client);
    const first = o.startAsync({ n: 1 }).then(() => "resolved", (e) => e.kind);
    o.start({ n: 2 });
    const [a, b] = client.calls;
    assert.equal(a.opts.signal.aborted, true);
    assert.equal(await first, "aborted");
    a.push({ output: "late" });
    b.push({ output: "mine" });
    await settle();
    assert.deepEqual([o.getSnapshot().status, o.getSnapshot().partial], ["streaming", { output: "mine" }]);
  });

  test("errors land in state and onError; abort() is canceled without an error; unmount aborts and updates nothing", async () => {
    const client = streamClient();
    const errors = [];
    const { o } = mountedStream(client, { onError: (e) => errors.push(e.kind) });
    o.start({});
    client.calls[0].push({ output: "x" });
    client.calls[0].fail(Object.assign(new Error("boom"), { kind: "api" }));
    await settle();
    await settle();
    assert.deepEqual([o.getSnapshot().status, o.getSnapshot().error.kind, o.getSnapshot().partial], ["error", "api", { output: "x" }]);
    assert.deepEqual(errors, ["api"]);
    o.start({});
    o.abort();
    await settle();
    await settle();
    assert.deepEqual([o.getSnapshot().status, o.getSnapshot().error], ["canceled", undefined]);
    const p = o.startAsync({}).then(() => "resolved", (e) => e.kind);
    const before = o.getSnapshot();
    o.unmount();
    assert.equal(client.calls.at(-1).opts.signal.aborted, true);
    assert.equal(await p, "aborted");
    assert.equal(o.getSnapshot(), before, "nothing updated after the unmount");
  });
});

describe("options judged by the client's checkHook before anything starts", () => {
  const refusal = (message) => Object.assign(new Error(message), { name: "GenwireError", kind: "config" });
  /** `base` with a checkHook that refuses options holding `bad: true` (as the core refuses a bad option). */
  const checking = (base) => Object.assign(base, {
    checked: [],
    checkHook(hook, options) {
      base.checked.push(hook);
      return options?.bad ? Promise.reject(refusal(`option 'bad' of ${hook}`)) : Promise.resolve();
    },
  });

  test("GenerationObserver: a refused option is the call's error and rejection, nothing submitted; fixed, it submits", async () => {
    const client = checking(queueClient());
    const errors = [];
    const { o, statuses } = mounted(client, { bad: true, onError: (e) => errors.push(e.kind) });
    let thrown = null;
    try { o.submit({}); } catch (e) { thrown = e; }
    assert.equal(thrown, null, "submit() never throws");
    const r = await o.submitAsync({}).then(() => "resolved", (e) => e.message);
    assert.equal(r, "option 'bad' of useGeneration");
    assert.deepEqual([o.getSnapshot().status, o.getSnapshot().error.kind, client.calls.length], ["error", "config", 0]);
    assert.deepEqual(errors, ["config"], "the superseded submit() is not this observer's news");
    // Per call too.
    o.setOptions(client, "fal-ai/flux/dev", {});
    assert.equal(await o.submitAsync({}, { bad: true }).then(() => "resolved", (e) => e.kind), "config");
    assert.equal(client.calls.length, 0);
    const p = o.submitAsync({ n: 1 });
    await settle();
    client.calls[0].resolve({ data: "ok", requestId: "r" });
    assert.equal(await p, "ok");
    assert.deepEqual(statuses().slice(-2), ["submitting", "success"]);
  });

  test("GenerationObserver: a non-function callback is never called (the check refuses it)", async () => {
    const client = queueClient(); // no checkHook: the observer starts at once
    const { o } = mounted(client, { onSuccess: 5, onQueueUpdate: "x" });
    const p = o.submitAsync({});
    client.calls[0].update({ status: "IN_QUEUE", queue_position: 0, request_id: "r" });
    client.calls[0].resolve({ data: 1, requestId: "r" });
    assert.equal(await p, 1, "no TypeError from calling 5");
  });

  test("StreamObserver: refused options end as error before any stream; a bad signal is no TypeError", async () => {
    let streams = 0;
    const client = checking({ stream() { streams++; throw new Error("not reached"); } });
    const o = new StreamObserver(client, "fal-ai/any-llm", { bad: true });
    o.mount();
    assert.equal(await o.startAsync({}).then(() => "resolved", (e) => e.kind), "config");
    assert.deepEqual([o.getSnapshot().status, o.getSnapshot().error.kind, streams], ["error", "config", 0]);
  });

  test("RealtimeObserver: refused options connect nothing; the next send() after a fix connects and delivers", async () => {
    const client = checking(realtimeClient());
    const o = new RealtimeObserver(client, "fal-ai/lcm", { bad: true });
    let generations = 0;
    o.onClosed = () => { generations++; o.connect(); };
    o.connect();
    await settle();
    assert.deepEqual([client.conns.length, o.getSnapshot().status.status, o.getSnapshot().error.kind], [0, "closed", "config"]);
    o.setOptions(client, "fal-ai/lcm", {});
    o.send({ prompt: "after the fix" });
    await settle();
    assert.equal(generations, 1);
    assert.equal(client.conns.length, 1);
    assert.deepEqual(client.conns[0].sent, [{ prompt: "after the fix" }]);
  });
});

test("StreamObserver: abortSignal (@fal-ai/client's name) is the caller's signal, not a second one", async () => {
  const seen = [];
  const client = {
    stream(endpoint, opts) {
      seen.push(opts);
      const stop = new Promise((_, reject) => opts.signal.addEventListener("abort", () => reject(aborted())));
      stop.catch(() => {});
      return { requestId: null, done: () => stop, [Symbol.asyncIterator]: () => ({ next: () => stop }) };
    },
  };
  const o = new StreamObserver(client, "fal-ai/any-llm", {});
  o.mount();
  const mine = new AbortController();
  const p = o.startAsync({ prompt: "x" }, { abortSignal: mine.signal }).then(() => "resolved", (e) => e.kind);
  assert.equal(seen.length, 1);
  assert.ok(!("abortSignal" in seen[0]), "one signal goes to the client");
  mine.abort();
  assert.equal(await p, "aborted");
  assert.equal(o.getSnapshot().status, "canceled");
});
