// `genwire/queue` (js/queue.js): genwire without realtime, on the core built without it
// (docs/size.md, "Fourth pass", step 4). The same calls, errors, events and validation as
// `genwire`, from its own modules; realtime refused with a typed error; nothing of the full
// library's modules fetched.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { blankPage, setup, teardown } from "./support/env.mjs";

let env;
before(async () => { env = await setup(); });
after(() => teardown(env));

/** A blank page of the server's origin, recording every request under /pkg/. */
const blank = () => blankPage(env.browser, env.server, (u) => u.pathname.startsWith("/pkg/"));

const SCHEMA = {
  type: "object",
  required: ["prompt"],
  properties: { prompt: { type: "string", maxLength: 5 }, n: { type: "integer", minimum: 1, maximum: 4 }, size: { enum: ["square", "portrait"] } },
};
const BAD = [{ n: 9, size: "wide" }, { prompt: "far too long", n: 2.5 }, { prompt: "ok", n: 2 }];

test("a subscribe page: the queue glue and its lean core only; subscribe, run, stream, upload, events and decodeError work as in genwire", async () => {
  const { page, fetched } = await blank();
  const out = await page.evaluate(async () => {
    const g = await import("/js/queue.js");
    const c = g.createClient({ validation: false });
    const afterImport = performance.getEntriesByType("resource").filter((e) => e.name.endsWith(".wasm")).length;
    const events = [];
    c.on((e) => events.push(e.type));
    const statuses = [];
    const sub = await c.subscribe("fal-ai/flux/dev", { input: { prompt: "queue entry" }, onQueueUpdate: (s) => statuses.push(s.status) });
    const ran = await c.run("fal-ai/flux/dev", { input: { prompt: "queue entry run" } });
    const s = c.stream("fal-ai/any-llm", { input: { prompt: "hello" } });
    const parts = [];
    for await (const e of s) parts.push(e);
    const url = await c.storage.upload(new Blob(["queue entry bytes"], { type: "text/plain" }));
    const stored = await (await fetch(url)).text().catch((e) => `unreadable: ${e}`);
    const decoded = await g.decodeError(new Response(JSON.stringify({ detail: [{ loc: ["body", "prompt"], msg: "Field required", type: "missing" }] }), { status: 422, headers: { "content-type": "application/json" } }));
    return {
      afterImport,
      images: sub.data.images.length,
      statuses: [...new Set(statuses)],
      ranImages: ran.data.images.length,
      streamed: parts.length,
      last: parts.at(-1),
      stored,
      decoded: { name: decoded.name, kind: decoded.kind, issues: decoded.issues.map((i) => i.type) },
      events: [...new Set(events)].sort(),
      calls: c.stats().calls,
    };
  });
  assert.equal(out.afterImport, 0, "importing fetches no wasm");
  assert.ok(out.images >= 1 && out.ranImages >= 1);
  assert.ok(out.statuses.includes("COMPLETED"), JSON.stringify(out.statuses));
  assert.ok(out.streamed >= 2 && out.last.partial === false, JSON.stringify(out.last));
  assert.equal(out.stored, "queue entry bytes");
  assert.deepEqual(out.decoded, { name: "GenwireError", kind: "validation", issues: ["missing"] });
  assert.ok(out.events.includes("success") && out.events.includes("attempt"), JSON.stringify(out.events));
  assert.ok(out.calls >= 3, `stats counted ${out.calls} calls`);
  assert.deepEqual(fetched, ["/pkg/genwire_queue.js", "/pkg/genwire_queue_lean_bg.wasm"], "only the queue entry's glue and lean core");
  await page.close();
});

test("realtime is refused with a typed config error, as any unusable argument is (onError, then send()), before anything is fetched; the hooks' observer shows it", async () => {
  const { page, fetched } = await blank();
  const out = await page.evaluate(async () => {
    const g = await import("/js/queue.js");
    const { RealtimeObserver } = await import("/js/observe.js");
    const c = g.createClient({ validation: false });
    const seen = [];
    const shape = (e) => ({ name: e.name, kind: e.kind, message: e.message, isError: e instanceof Error });
    const conn = c.realtime.connect("fal-ai/fast-lcm-diffusion", { onResult: () => {}, onError: (e) => seen.push(shape(e)) });
    let sent = null;
    try {
      conn.send({ prompt: "x" });
    } catch (e) {
      sent = shape(e);
    }
    await new Promise((r) => setTimeout(r, 0));
    const status = conn.status;
    conn.close();
    const wasmBefore = performance.getEntriesByType("resource").filter((e) => e.name.endsWith(".wasm")).length;
    // What useRealtime runs in its effect (after the hook's options are checked by the core):
    // connecting must not throw, the error is state.
    const observer = new RealtimeObserver(c, "fal-ai/fast-lcm-diffusion", {});
    let threw = null;
    let stop = null;
    try {
      stop = observer.connect();
    } catch (e) {
      threw = String(e);
    }
    const until = Date.now() + 10000;
    while (!observer.getSnapshot().error && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const observed = observer.getSnapshot();
    stop?.();
    await c.subscribe("fal-ai/flux/dev", { input: { prompt: "after the refusal" } });
    return { wasmBefore, seen, sent, status, threw, observedError: observed?.error ? shape(observed.error) : null, debug: c.realtime.debug() };
  });
  const refusal = {
    name: "GenwireError",
    kind: "config",
    message: "genwire/queue has no realtime: import createClient from 'genwire' to open realtime connections",
    isError: true,
  };
  assert.deepEqual(out.seen, [refusal], "onError, once");
  assert.deepEqual(out.sent, refusal, "send() throws it");
  assert.deepEqual(out.status, { status: "closed" });
  assert.equal(out.threw, null);
  assert.deepEqual(out.observedError, refusal);
  assert.deepEqual(out.debug, { connections: 0, sockets: 0, listeners: 0, timers: 0 });
  assert.equal(out.wasmBefore, 0, "refusing realtime loads nothing");
  assert.deepEqual(fetched, ["/pkg/genwire_queue.js", "/pkg/genwire_queue_lean_bg.wasm"], "then one core: the hook's check and the subscribe share it");
  await page.close();
});

test("validation on genwire/queue: the core with the validator by default, the validator module for a lean client; the same issues as genwire's full core", async () => {
  const run = async (entry, options) => {
    const { page, fetched } = await blank();
    const out = await page.evaluate(async ({ entry, options, schema, inputs }) => {
      const g = await import(entry);
      const c = g.createClient({ ...options, schemas: { "a/b": schema } });
      // A lean client's first call that doesn't validate picks the lean core (`validate()` would pick the full one).
      if (options.validation === false) await c.subscribe("fal-ai/flux/dev", { input: { prompt: "lean first" } });
      const issues = [];
      for (const input of inputs) issues.push(await c.validate("a/b", input));
      const refused = await c.queue.submit("a/b", { input: inputs[0], validate: true }).then(() => null, (e) => ({ kind: e.kind, issues: e.issues.map((i) => i.type) }));
      return { issues, refused };
    }, { entry, options, schema: SCHEMA, inputs: BAD });
    await page.close();
    return { ...out, fetched };
  };
  const queueFull = await run("/js/queue.js", {});
  const queueLean = await run("/js/queue.js", { validation: false });
  const main = await run("/js/index.js", {});
  assert.deepEqual(queueFull.fetched, ["/pkg/genwire_queue.js", "/pkg/genwire_queue_bg.wasm"]);
  assert.deepEqual(queueLean.fetched.sort(), ["/pkg/genwire_queue.js", "/pkg/genwire_queue_lean_bg.wasm", "/pkg/genwire_validate.js", "/pkg/genwire_validate_bg.wasm"]);
  assert.ok(main.fetched.includes("/pkg/genwire_bg.wasm") && !main.fetched.some((f) => f.includes("queue")));
  assert.ok(main.issues[0].length >= 3 && main.issues[1].length >= 2 && main.issues[2].length === 0, JSON.stringify(main.issues));
  assert.deepEqual(queueFull.issues, main.issues);
  assert.deepEqual(queueLean.issues, main.issues);
  assert.deepEqual(queueFull.refused, { kind: "validation", issues: main.issues[0].map((i) => i.type) });
  assert.deepEqual(queueLean.refused, queueFull.refused);
});
