// What a realtime connect/close cycle and a subscribe leave behind, counted, never timed: after N
// and after 2N cycles, the objects of each cycle still alive (CDP `Runtime.queryObjects` after
// forced collections) and the wasm linear memory (a high-water mark is fine; growth per cycle is
// not). Each cycle's callbacks hold a marker object of the test's own, so a cycle whose callbacks
// are retained anywhere (a table slot of the wasm, a listener, a registry, a pending promise)
// shows up in the count whatever holds it.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown } from "./support/env.mjs";

let server, browser, page, cdp;
before(async () => {
  ({ server, browser, page } = await setup(["--latency-ms", "0", "--queue-depth", "0"]));
  cdp = await page.context().newCDPSession(page);
  await page.evaluate(async () => {
    window.Mark = class Mark {};
    window.glue = await import("/pkg/genwire.js");
    window.client = genwire.createClient({ realtimeUrl: `ws://${location.host}/sim/realtime` });
    // The client's stats window (the last 1,000 calls, proto::stats) filled first: its high-water
    // mark in the wasm memory is reached here, not during the cycles measured.
    const status = () => client.queue.status("fal-ai/fast-sdxl", { requestId: "memory-warm-up" }).catch(() => {});
    for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, status));
    if (client.stats().calls < 1000) throw new Error(`the stats window holds ${client.stats().calls} calls`);
  });
});
after(() => teardown({ server, browser }));
beforeEach(async () => {
  await server.sim("/__sim/realtime/faults", undefined, "DELETE");
  await server.sim("/__sim/realtime/config", { idle_timeout_ms: 8000, result_delay_ms: 0, encoding: "msgpack", timings: true });
});

const N = 200;

/** Runs `n` cycles of `kind` in the page; each cycle's callbacks hold a new `Mark`. */
async function cycles(kind, n) {
  // "fatal": every socket is closed with 1011 on its first input; each cycle's handle reconnects
  // once after it (a new connection, closed the same way) and then closes.
  if (kind === "fatal") await server.sim("/__sim/realtime/faults", { close_code_next: { code: 1011, reason: "memory", count: 2 * n } });
  return page.evaluate(async ({ kind, n }) => {
    const { client, Mark } = window;
    const errors = [];
    for (let i = 0; i < n; i++) {
      const mark = new Mark();
      if (kind === "subscribe") {
        await client.subscribe("fal-ai/fast-sdxl", { input: { prompt: `memory ${i}` }, onQueueUpdate: () => mark });
        continue;
      }
      if (kind === "fatal") {
        let fatal = 0;
        // As an app's callbacks do, they reach the connection (here its status).
        const conn = client.realtime.connect("genwire/echo", { throttleInterval: 0, onError: () => { fatal++; mark.status = conn.status; } });
        conn.send({ seq: i });
        const until = async (k) => {
          for (let t = 0; fatal < k; t++) {
            if (t > 1000) throw new Error(`cycle ${i}: no fatal close (${fatal})`);
            await new Promise((r) => setTimeout(r, 10));
          }
        };
        await until(1);
        conn.reconnect();
        conn.send({ seq: i }); // the server closes a socket on its first input
        await until(2);
        conn.close();
        continue;
      }
      await new Promise((resolve, reject) => {
        const stuck = setTimeout(() => reject(new Error(`cycle ${i} got no result (${errors.join("; ")})`)), 10_000);
        // "shared": a second handle joins the first one's connection by its key and leaves first.
        const opts = (extra) => ({ throttleInterval: 0, onError: (e) => errors.push(e.message), onStatus: () => mark, ...extra });
        const key = kind === "shared" ? { connectionKey: `memory-${i}` } : {};
        const other = kind === "shared" ? client.realtime.connect("genwire/echo", opts(key)) : null;
        const conn = client.realtime.connect("genwire/echo", opts({
          ...key,
          onResult: () => {
            clearTimeout(stuck);
            other?.close();
            conn.close();
            resolve(mark);
          },
        }));
        conn.send({ seq: i });
      });
    }
    await new Promise((r) => setTimeout(r, 300)); // the last close reaches its driver
    return errors;
  }, { kind, n });
}

/** Live objects whose prototype is `expr`'s value, after collections that let finalizers run. */
async function count(expr) {
  // A wasm-bindgen wrapper is freed by its FinalizationRegistry after one collection; what its
  // Rust side held in the wasm's table is released then, and collected by the next.
  for (let i = 0; i < 3; i++) {
    await cdp.send("HeapProfiler.collectGarbage");
    await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
  }
  const objectGroup = "memory-count";
  const { result: proto } = await cdp.send("Runtime.evaluate", { expression: expr, objectGroup });
  const { objects } = await cdp.send("Runtime.queryObjects", { prototypeObjectId: proto.objectId, objectGroup });
  const { result } = await cdp.send("Runtime.callFunctionOn", { objectId: objects.objectId, functionDeclaration: "function () { return this.length; }", returnByValue: true });
  await cdp.send("Runtime.releaseObjectGroup", { objectGroup });
  return result.value;
}

async function measure() {
  return {
    marks: await count("Mark.prototype"),
    handles: await count("glue.RealtimeConnection.prototype"),
    wasm: await page.evaluate(async () => (await glue.default()).memory.buffer.byteLength),
    debug: await page.evaluate(() => client.realtime.debug()),
  };
}

/** Warm-up, then n and 2n cycles: nothing of a cycle stays, and the wasm memory stops growing. */
async function noGrowth(kind, n = N) {
  assert.deepEqual(await cycles(kind, 10), []);
  const first = await measure();
  assert.deepEqual(await cycles(kind, n), []);
  const one = await measure();
  assert.deepEqual(await cycles(kind, n), []);
  const two = await measure();
  const seen = JSON.stringify({ first, one, two });
  // Leaked, each cycle leaves its Mark (and, for realtime, its handle): n and 2n of them.
  assert.ok(one.marks - first.marks < 5 && two.marks - one.marks < 5, `cycles' callbacks retained: ${seen}`);
  assert.ok(one.handles - first.handles < 5 && two.handles - one.handles < 5, `connection handles retained: ${seen}`);
  // The first n set the high-water mark of the wasm memory; the next n fit in it.
  assert.equal(two.wasm, one.wasm, `the wasm memory grew over the second ${n} cycles: ${seen}`);
  assert.deepEqual(two.debug, { connections: 0, sockets: 0, listeners: 0, timers: 0 });
}

describe("memory over many cycles (counted by CDP)", () => {
  test(`realtime connect, one result, close: ${N} more cycles leave nothing`, () => noGrowth("realtime"));
  test(`realtime, two handles sharing a connectionKey, both close: ${N} more cycles leave nothing`, () => noGrowth("shared"));
  // Two sockets and two token fetches a cycle: fewer cycles.
  test(`realtime, fatal closes, reconnect() starting over, close: ${N / 4} more cycles leave nothing`, () => noGrowth("fatal", N / 4));
  test(`subscribe: ${N} more jobs leave nothing`, () => noGrowth("subscribe"));
});
