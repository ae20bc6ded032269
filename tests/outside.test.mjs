// What comes back from outside, in Chromium: the values a caller's callbacks return (a custom
// codec's `encode`, the app's `fetch` resolving to a look-alike of a Response), answers of any size
// (a status with millions of log lines), inputs of any size or made to change while they are read
// (a byte array detached or grown by a getter, a Map whose iterator throws or yields nonsense, a
// Proxy of a typed array, a Proxy whose traps throw only the second time). Each must end in a
// value or a typed GenwireError: a JS exception thrown through the wasm leaves its task borrowed
// (the next wake-up of that task is a trap that kills the module for the page), and millions of
// JS values held at once exhaust the wasm's reference table (a trap too). After every case the
// client must still answer, and the page must have seen no uncaught error.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown } from "./support/env.mjs";

const KINDS = ["validation", "api", "network", "timeout", "aborted", "circuit_open", "config", "protocol"];
/** What must never be seen: a trap, a bare engine error, a borrow tripped. */
const BROKEN = /unreachable|memory access|RuntimeError|recursive use|unsafe aliasing|table index|Invalid typed array|detached ArrayBuffer|is not a function|Cannot read prop|Cannot convert/i;

let env;
const pageErrors = [];

/** The cases and their harness, installed in the page as `window.O`. */
async function install() {
  await env.page.evaluate(async () => {
    const g = window.genwire;
    const EP = "fal-ai/flux/dev";
    const RT = "fal-ai/lcm-sd15-i2i";
    const schema = { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] };
    const realtimeUrl = `ws://${location.host}/sim/realtime`;
    const client = g.createClient({ schemas: { [EP]: schema }, realtimeUrl, retry: false });
    const { request_id: RID } = await client.queue.submit(EP, { input: { prompt: "a health check job" } });
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    const handles = [];
    const connect = async (opts = {}) => {
      const c = client.realtime.connect(RT, opts);
      handles.push(c);
      await wait(20);
      return c;
    };
    /** send(input) on a fresh connection: what it threw, or "ok". */
    const send = async (input, opts) => {
      const c = await connect(opts);
      c.send(typeof input === "function" ? input() : input);
      return "ok";
    };
    /** send() through a custom codec whose encode returns `out()`. */
    const codec = (out) => send({ prompt: "x" }, { codec: { encode: () => out(), decode: (d) => JSON.parse(d) } });
    /** A client whose `fetch` resolves to `answer()` (a look-alike of a Response) for every request. */
    const faking = (answer) => g.createClient({ retry: false, fetch: async () => answer() });
    const json = { "content-type": "application/json" };
    const reader = (read) => ({ getReader: () => ({ read, cancel() {}, releaseLock() {} }) });
    const chain = (n) => {
      const schemas = {};
      for (let i = 0; i < n; i++) schemas[`S${i}`] = { type: "object", title: `S${i}`, properties: { next: i + 1 < n ? { $ref: `#/components/schemas/S${i + 1}` } : { type: "string" } } };
      return { components: { schemas }, type: "object", properties: { a: { $ref: "#/components/schemas/S0" } } };
    };
    const thenThrows = (v) => { const p = Promise.resolve(v); Object.defineProperty(p, "then", { get() { throw new Error("then boom"); } }); return p; };
    const mapWith = (iterator) => { const m = new Map([["prompt", "x"]]); m[Symbol.iterator] = iterator; return m; };
    /** A Proxy of `{requestId}` whose ownKeys trap works once, then throws. */
    const secondThrows = (target) => { let n = 0; return new Proxy(target, { ownKeys(t) { if (n++ > 0) throw new Error("second ownKeys"); return Reflect.ownKeys(t); } }); };

    const cases = {
      // A custom codec's encode must return a string, an ArrayBuffer or a Uint8Array (js/index.d.ts).
      codecHugeNumber: () => codec(() => 1e12),
      codecNegative: () => codec(() => -1),
      codecSymbol: () => codec(() => Symbol("s")),
      codecBigint: () => codec(() => 5n),
      codecLengthThrows: () => codec(() => ({ get length() { throw new Error("length boom"); } })),
      codecProxyThrows: () => codec(() => new Proxy({}, { get() { throw new Error("trap get"); } })),
      // The app's fetch resolving to something Response-like whose methods return what a Response's don't.
      textNotPromise: () => faking(() => ({ ok: true, status: 200, headers: new Headers(json), text: () => 5 })).queue.status(EP, { requestId: RID, timeout: 300 }),
      textPlainString: () => faking(() => ({ ok: true, status: 200, headers: new Headers(json), text: () => JSON.stringify({ status: "IN_QUEUE", request_id: RID }) })).queue.status(EP, { requestId: RID }),
      errorChunkSymbol: () => faking(() => ({ ok: false, status: 500, headers: new Headers(), body: reader(async () => ({ done: false, value: Symbol("s") })) })).queue.status(EP, { requestId: RID, timeout: 300 }),
      errorChunkHuge: () => faking(() => ({ ok: false, status: 500, headers: new Headers(), body: reader(async () => ({ done: false, value: 1e12 })) })).queue.status(EP, { requestId: RID, timeout: 300 }),
      errorReadNotPromise: () => faking(() => ({ ok: false, status: 500, headers: new Headers(), body: reader(() => 7) })).queue.status(EP, { requestId: RID, timeout: 300 }),
      streamChunkHuge: () => faking(() => ({ ok: true, status: 200, headers: new Headers({ "content-type": "application/octet-stream" }), body: reader(async () => ({ done: false, value: 1e12 })) }))
        .stream(EP, { input: { prompt: "x" }, stallTimeout: 300 }).done(),
      streamReadNotPromise: () => faking(() => ({ ok: true, status: 200, headers: new Headers({ "content-type": "text/event-stream" }), body: reader(() => 7) }))
        .stream(EP, { input: { prompt: "x" }, stallTimeout: 300 }).done(),
      // Answers and inputs of millions of items: more JS values than the wasm can hold at once.
      statusHugeLogs: () => {
        const body = JSON.stringify({ status: "IN_PROGRESS", request_id: RID, logs: new Array(12e6).fill(0) });
        return faking(() => new Response(body, { headers: json })).queue.status(EP, { requestId: RID });
      },
      validateHugeArray: () => client.validate(EP, { prompt: "x", big: new Array(2e7) }),
      sendHugeArray: () => send({ prompt: "x", big: new Array(2e7) }),
      sendHugeArrayCustomCodec: () => send({ prompt: "x", big: new Array(2e7) }, { codec: { encode: () => "x", decode: (d) => JSON.parse(d) } }),
      // Byte arrays that are not what they seem, or change while the input is read.
      sendProxyOfUint8Array: () => send({ image: new Proxy(new Uint8Array(4), {}) }),
      sendProxyOfArrayBuffer: () => send({ image: new Proxy(new ArrayBuffer(4), {}) }),
      sendDetachedWhileRead: () => send(() => {
        const u = new Uint8Array(4096);
        return { a: u, b: { get c() { structuredClone(u.buffer, { transfer: [u.buffer] }); return 1; } } };
      }),
      sendGrownWhileRead: () => send(() => {
        const ab = new ArrayBuffer(2048, { maxByteLength: 8192 });
        const u = new Uint8Array(ab);
        return { a: u, b: { get c() { ab.resize(8192); return 1; } } };
      }),
      // Maps whose iteration throws or yields what no Map's does.
      sendMapNextThrows: () => send(mapWith(() => ({ get next() { throw new Error("next boom"); } }))),
      sendMapDoneThrows: () => send(mapWith(() => ({ next: () => ({ get done() { throw new Error("done boom"); } }) }))),
      sendMapYieldsNull: () => send(mapWith(function* () { yield null; })),
      validateMapYieldsProxy: () => client.validate(EP, mapWith(function* () { yield new Proxy([], { get() { throw new Error("trap get"); } }); })),
      // Bytes past what wasm32 can allocate (2 GiB: a capacity overflow), in an option the core reads.
      optionHugeBytes: () => client.queue.status(EP, { requestId: RID, timeout: 300, extra: new Uint8Array(2.5e9) }),
      // Promises whose `then` is a getter that throws, from the app's fetch and a tokenProvider.
      fetchThenThrows: () => g.createClient({ retry: false, fetch: () => thenThrows(new Response("{}", { headers: json })) }).queue.status(EP, { requestId: RID, timeout: 300 }),
      tokenThenThrows: () => send({ prompt: "x" }, { tokenProvider: () => thenThrows("a token") }),
      // A Proxy of an AbortSignal passes instanceof, but none of its getters or methods work on it.
      proxyOfSignal: () => client.queue.status(EP, { requestId: RID, timeout: 300, signal: new Proxy(new AbortController().signal, {}) }),
      // A schema whose 9,999 models each refer to the next: a level of recursion per link.
      schemaLongChain: () => g.validate(chain(9999), { a: { next: 5 } }),
      // The unsubscribe function of `on()` called twice (a React effect's cleanup may be).
      offTwice: () => { const off = client.on(() => {}); off(); off(); return "ok"; },
      // Options whose keys can be read once only.
      connectOptionsSecondOwnKeys: () => connect(secondThrows({ throttleInterval: 0 })).then(() => "ok"),
      statusOptionsSecondOwnKeys: () => client.queue.status(EP, secondThrows({ requestId: RID, timeout: 300 })),
    };

    const describe = (e) => ({
      isError: e instanceof Error, name: e?.name, kind: e?.kind, message: String(e?.message ?? e), stack: String(e?.stack ?? ""),
    });
    const health = async () => {
      const issues = await client.validate(EP, { prompt: "ok" });
      const status = await client.queue.status(EP, { requestId: RID });
      return issues.length === 0 && typeof status.status === "string";
    };
    window.O = {
      names: Object.keys(cases),
      async run(name) {
        let outcome;
        try {
          const r = await Promise.race([(async () => cases[name]())(), wait(20000).then(() => "hung")]);
          outcome = r === "hung" ? { hung: true } : { ok: true };
        } catch (e) {
          outcome = { error: describe(e) };
        }
        let closed = true;
        for (const c of handles.splice(0)) try { c.close(); } catch (e) { closed = describe(e); }
        // Long enough for a timer of the case (300 ms) to wake a task it left behind.
        await wait(400);
        let healthy;
        try { healthy = await Promise.race([health(), wait(10000).then(() => "hung")]); } catch (e) { healthy = describe(e); }
        return { outcome, closed, healthy };
      },
    };
  });
}

before(async () => {
  env = await setup();
  env.page.on("pageerror", (e) => pageErrors.push(e.message));
  await install();
});

after(() => teardown(env));

/** What each case must come to: a config error (the caller's mistake), or any typed outcome. */
const CONFIG = [
  "codecHugeNumber", "codecNegative", "codecSymbol", "codecBigint", "codecLengthThrows", "codecProxyThrows",
  "sendHugeArray", "sendProxyOfUint8Array", "sendProxyOfArrayBuffer", "sendDetachedWhileRead", "sendGrownWhileRead",
  "sendMapNextThrows", "sendMapDoneThrows", "sendMapYieldsNull", "optionHugeBytes", "schemaLongChain",
];
const OK = ["offTwice", "textPlainString", "statusHugeLogs", "validateHugeArray", "sendHugeArrayCustomCodec", "connectOptionsSecondOwnKeys", "statusOptionsSecondOwnKeys"];

describe("values from outside: typed outcomes, no trap, a healthy client after each", () => {
  test("every case", { timeout: 600_000 }, async () => {
    const names = await env.page.evaluate(() => window.O.names);
    const failures = [];
    for (const name of names) {
      const before = pageErrors.length;
      const r = await env.page.evaluate((n) => window.O.run(n), name);
      const where = `${name}: ${JSON.stringify(r)}${pageErrors.length > before ? ` uncaught: ${pageErrors.slice(before).join(" | ")}` : ""}`;
      try {
        assert.ok(!r.outcome.hung, `hung: ${where}`);
        assert.equal(r.closed, true, `close() threw after ${where}`);
        assert.equal(r.healthy, true, `the client no longer answers after ${where}`);
        assert.equal(pageErrors.length, before, `an uncaught error in the page: ${where}`);
        const e = r.outcome.error;
        if (e) {
          assert.equal(e.name, "GenwireError", where);
          assert.ok(e.isError && KINDS.includes(e.kind), `untyped: ${where}`);
          assert.doesNotMatch(`${e.message}\n${e.stack}`, BROKEN, where);
        }
        if (CONFIG.includes(name)) assert.equal(e?.kind, "config", `must be refused as config: ${where}`);
        if (OK.includes(name)) assert.ok(r.outcome.ok, `must succeed: ${where}`);
        if (name === "schemaLongChain") assert.match(e.message, /nests deeper than 64 levels/, where);
      } catch (err) {
        failures.push(err.message);
        // A trapped module stays dead: a fresh page for the cases after it.
        if (r.healthy !== true || r.closed !== true) {
          await env.page.reload();
          await env.page.waitForSelector("body[data-ready=true]");
          await install();
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
