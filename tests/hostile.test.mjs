// Hostile calls against the JS API in Chromium (issue 16, items 1, 3 and 6): every public entry
// point gets every kind of JS value a caller can pass (wrong types, Symbols, BigInts, cycles,
// getters and Proxy traps that throw, revoked Proxies, look-alike Blobs), keys hidden in every
// place, and callbacks and getters that call back into the client. After each call the client must
// still answer a normal call (a validation and a request through the proxy); every failure must be
// a GenwireError with a kind; nothing may trap; every realtime handle must close to zero
// listeners, timers and sockets; and no request the page sends (seen by Chromium) nor any the
// proxy passes upstream (the simulator's log) may carry a key.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown } from "./support/env.mjs";
import { keyLikeName } from "../js/errors.js";

const FAL_KEY = "0c6b1a52-9f5e-4d1b-8a3e-2f7c9d4e5b6a:3f9a1c7e5b2d8f4a6c0e9b1d7f3a5c8e";
const TOKEN = "tok_PLANTED_7d1e5c";
const KINDS = ["validation", "api", "network", "timeout", "aborted", "circuit_open", "config", "protocol"];
/** What must never be seen: a trap, a bare engine error, a borrow tripped, serde's wording. */
const BROKEN = /unreachable|memory access|RuntimeError|recursive use|unsafe aliasing|expected struct|invalid type:|is not a function|Cannot read prop/i;

let env;
const requests = [];
const pageErrors = [];

before(async () => {
  env = await setup();
  env.page.on("request", (r) => requests.push({ url: r.url(), headers: r.headers(), body: r.postData() ?? "" }));
  env.page.on("pageerror", (e) => pageErrors.push(e.message));
  await env.page.evaluate(async ({ FAL_KEY, TOKEN }) => {
    const g = window.genwire;
    const EP = "fal-ai/flux/dev";
    const RT = "fal-ai/lcm-sd15-i2i";
    const schema = { type: "object", properties: { prompt: { type: "string" }, n: { type: "integer", maximum: 3 } }, required: ["prompt"] };
    const realtimeUrl = `ws://${location.host}/sim/realtime`;
    const client = g.createClient({ schemas: { [EP]: schema }, realtimeUrl, retry: false });
    const { request_id: RID } = await client.queue.submit(EP, { input: { prompt: "a health check job" } });
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    const until = async (pred, ms = 5000) => {
      for (const end = Date.now() + ms; !pred(); await wait(10)) if (Date.now() > end) return false;
      return true;
    };
    const unhandled = [];
    window.addEventListener("unhandledrejection", (e) => unhandled.push(String(e.reason?.stack ?? e.reason)));

    // Each value is made fresh for each call.
    const values = {
      number: () => 42,
      nan: () => NaN,
      string: () => "not/ an id",
      empty: () => "",
      boolean: () => true,
      null: () => null,
      undefined: () => undefined,
      symbol: () => Symbol("s"),
      bigint: () => 10n,
      hugeBigint: () => 2n ** 70n,
      array: () => [1, 2],
      object: () => ({}),
      function: () => () => 1,
      cyclic: () => { const o = { a: 1 }; o.self = { back: o }; return o; },
      throwingGetter: () => ({ get prompt() { throw new Error("getter boom"); } }),
      proxyGetThrows: () => new Proxy({ prompt: "x" }, { get() { throw new Error("trap get"); } }),
      proxyOwnKeysThrows: () => new Proxy({ a: 1 }, { ownKeys() { throw new Error("trap ownKeys"); } }),
      proxyProtoThrows: () => new Proxy({}, { getPrototypeOf() { throw new Error("trap getPrototypeOf"); } }),
      proxyHasThrows: () => new Proxy({}, { has() { throw new Error("trap has"); } }),
      revokedProxy: () => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; },
      mapNumberKey: () => new Map([[1, 2]]),
      set: () => new Set([1]),
      deepBigint: () => ({ a: [{ b: 10n ** 30n }] }),
      functionInside: () => ({ a: { cb: () => 1 } }),
      symbolInside: () => ({ a: [Symbol("s")] }),
      fakeBlob: () => new Proxy(new Blob(["x"]), {}),
      date: () => new Date(0),
    };

    // Each entry point with the value in one argument's place; the rest as a normal call has them.
    const handles = [];
    /** A connection's outcome: a connect that failed makes send() throw why (and onError say it). */
    const connect = async (endpoint, opts) => {
      const c = client.realtime.connect(endpoint, opts);
      handles.push(c);
      await wait(20);
      c.send({ prompt: "probe" });
      return "ok";
    };
    const entries = {
      createClient: (v) => g.createClient(v).validate(EP, { prompt: "x" }),
      createClientDiagnose: (v) => g.createClient(v).diagnose({ checks: ["clock"] }),
      subscribeEndpoint: (v) => client.subscribe(v, { input: { prompt: "x" } }),
      subscribeOptions: (v) => client.subscribe(EP, v),
      subscribeInput: (v) => client.subscribe(EP, { input: v }),
      runEndpoint: (v) => client.run(v, { input: { prompt: "x" } }),
      runInput: (v) => client.run(EP, { input: v }),
      submitInput: (v) => client.queue.submit(EP, { input: v }),
      statusEndpoint: (v) => client.queue.status(v, { requestId: RID }),
      statusOptions: (v) => client.queue.status(EP, v),
      resultOptions: (v) => client.queue.result(EP, v),
      cancelEndpoint: (v) => client.queue.cancel(v, { requestId: RID }),
      validateEndpoint: (v) => client.validate(v, { prompt: "x" }),
      validateInput: (v) => client.validate(EP, v),
      upload: (v) => client.storage.upload(v),
      uploadOptions: (v) => client.storage.upload(new Blob(["x"]), v),
      connectEndpoint: (v) => connect(v, {}),
      connectOptions: (v) => connect(RT, v),
      send: async (v) => { await connect(RT, {}); handles.at(-1).send(v); return "ok"; },
      on: (v) => { const off = client.on(v); off(); return "ok"; },
      diagnose: (v) => client.diagnose(v),
      pureValidate: (v) => g.validate(schema, {}, v),
      checkHook: (v) => client.checkHook("useGeneration", v),
      checkHookStream: (v) => client.checkHook("useStream", v),
    };

    const describe = (e) => ({
      isError: e instanceof Error, name: e?.name, kind: e?.kind, category: e?.category,
      message: String(e?.message ?? e), stack: String(e?.stack ?? ""), body: e?.body === undefined ? undefined : JSON.stringify(e.body),
    });
    const health = async () => {
      const issues = await client.validate(EP, { prompt: "ok" });
      const status = await client.queue.status(EP, { requestId: RID });
      return issues.length === 0 && typeof status.status === "string";
    };
    const closeAll = async () => {
      for (const c of handles.splice(0)) c.close();
      const clean = await until(() => {
        const d = client.realtime.debug();
        return d.connections === 0 && d.sockets === 0 && d.listeners === 0 && d.timers === 0;
      });
      return { clean, debug: client.realtime.debug() };
    };
    window.H = {
      client, EP, RT, RID, values, entries, unhandled, health, closeAll, describe, wait, until, handles, FAL_KEY, TOKEN,
      /** One hostile call: its outcome, then the client's health and the realtime counters. */
      async run(entry, value) {
        let outcome;
        try {
          const r = await Promise.race([(async () => entries[entry](values[value]()))(), wait(15000).then(() => "hung")]);
          outcome = r === "hung" ? { hung: true } : { ok: true };
        } catch (e) {
          outcome = { error: describe(e) };
        }
        let healthy;
        try { healthy = await health(); } catch (e) { healthy = describe(e); }
        return { outcome, healthy, ...(await closeAll()) };
      },
    };
  }, { FAL_KEY, TOKEN });
});

after(() => teardown(env));

/**
 * Values an argument may take without a `config` error (the call may then succeed or fail for
 * another reason, always typed); any other value must be refused as `config`.
 */
// Objects that read as an empty object: a Date, a Proxy of a Blob (no own fields), a Proxy whose
// only trap (getPrototypeOf) is never needed.
const OBJECTS = ["object", "date", "fakeBlob", "proxyProtoThrows"];
const OPTIONS = [...OBJECTS, "null", "undefined"];
// Inputs JSON can carry as given or by its own rules (a function or Symbol in an object dropped, a
// Map sent as {}): the schema then refuses them (kind validation).
const INPUTS = [...OPTIONS, "functionInside", "symbolInside", "mapNumberKey"];
const ACCEPTS = {
  createClient: OPTIONS,
  createClientDiagnose: OPTIONS,
  subscribeEndpoint: [],
  // No options, or options without an input, send `{}`: the schema refuses it (kind validation).
  subscribeOptions: OPTIONS,
  subscribeInput: INPUTS,
  runEndpoint: [],
  runInput: INPUTS,
  submitInput: INPUTS,
  statusEndpoint: [],
  statusOptions: [],
  resultOptions: [],
  cancelEndpoint: [],
  validateEndpoint: [],
  // Issues, as the server's 422 would list them, for any input.
  validateInput: ["*"],
  upload: [],
  uploadOptions: OPTIONS,
  connectEndpoint: [],
  connectOptions: OPTIONS,
  send: OBJECTS,
  on: ["function"],
  diagnose: [],
  // The endpoint only picks a path in an OpenAPI document: any string (or none) is taken.
  pureValidate: ["null", "undefined", "string", "empty"],
  // The hooks' options (genwire/react), judged as their calls' are.
  checkHook: OPTIONS,
  checkHookStream: OPTIONS,
};
/** Values that would start something slow (a whole diagnose run) rather than test an argument. */
const SKIP = { diagnose: ["object", "null", "undefined", "array", "cyclic", "proxyGetThrows", "proxyOwnKeysThrows", "proxyProtoThrows", "proxyHasThrows", "mapNumberKey", "set", "date", "fakeBlob", "deepBigint", "functionInside", "symbolInside"] };

function check(entry, value, r) {
  const where = `${entry}(${value}): ${JSON.stringify(r)}`;
  assert.ok(!r.outcome.hung, `hung: ${where}`);
  assert.equal(r.healthy, true, `the client no longer answers after ${where}`);
  assert.equal(r.clean, true, `realtime left something behind after ${where}`);
  const e = r.outcome.error;
  if (e) {
    assert.equal(e.name, "GenwireError", where);
    assert.ok(e.isError, `not an Error: ${where}`);
    assert.ok(KINDS.includes(e.kind), `no kind: ${where}`);
    assert.doesNotMatch(`${e.message}\n${e.stack}`, BROKEN, where);
    assert.ok(!e.message.includes(FAL_KEY) && !e.message.includes(TOKEN), `the key repeated: ${where}`);
  }
  const accepted = ACCEPTS[entry].includes(value) || ACCEPTS[entry].includes("*");
  if (!accepted) assert.equal(e?.kind, "config", `must be refused as config: ${where}`);
  else if (e) assert.notEqual(e.kind, "api", `an argument's fault reported as the server's: ${where}`);
}

let calls = 0;

describe("every entry point, every kind of value", () => {
  test("typed errors, no trap, a healthy client and nothing left behind after each call", async () => {
    const values = await env.page.evaluate(() => Object.keys(window.H.values));
    for (const entry of Object.keys(ACCEPTS)) {
      for (const value of values) {
        if (SKIP[entry]?.includes(value)) continue;
        const r = await env.page.evaluate(([e, v]) => window.H.run(e, v), [entry, value]);
        check(entry, value, r);
        calls++;
      }
    }
    assert.ok(calls >= 120, `${calls} hostile calls`);
  });
});

describe("decodeError never throws", () => {
  test("every kind of value, Proxies of a Response, Headers and Error, throwing traps: a GenwireError (decoded where it can be read)", async () => {
    const out = await env.page.evaluate(async () => {
      const { values, describe, wait, health } = window.H;
      const response = () => new Response(JSON.stringify({ detail: "slow down" }), { status: 429, headers: { "retry-after": "3" } });
      const throwing = { get() { throw new Error("trap get"); }, getPrototypeOf() { throw new Error("trap proto"); }, has() { throw new Error("trap has"); }, ownKeys() { throw new Error("trap ownKeys"); } };
      const cases = {
        ...values,
        proxyOfResponse: () => new Proxy(response(), {}),
        proxyOfResponseThrowing: () => new Proxy(response(), throwing),
        proxyOfResponseGetThrows: () => new Proxy(response(), { get() { throw new Error("trap get"); } }),
        revokedProxyOfResponse: () => { const r = Proxy.revocable(response(), {}); r.revoke(); return r.proxy; },
        proxyOfHeaders: () => ({ status: 429, headers: new Proxy(new Headers({ "retry-after": "3" }), {}), body: { detail: "slow down" } }),
        throwingHeaders: () => ({ status: 429, headers: new Proxy({ "retry-after": "3" }, throwing), body: { detail: "slow down" } }),
        throwingBody: () => ({ status: 429, headers: {}, get body() { throw new Error("getter boom"); } }),
        bodyProxy: () => ({ status: 500, headers: {}, body: new Proxy({ detail: "x" }, throwing) }),
        proxyOfAnswer: () => new Proxy({ status: 429, headers: { "retry-after": "3" }, body: { detail: "slow down" } }, {}),
        proxyOfError: () => new Proxy(new TypeError("Failed to fetch"), {}),
        proxyOfErrorThrowing: () => new Proxy(new TypeError("Failed to fetch"), throwing),
        statusGetterThrows: () => ({ get status() { throw new Error("getter boom"); } }),
        usedResponse: () => { const r = response(); r.text(); return r; },
        responseHeadersProxy: () => { const r = response(); Object.defineProperty(r, "headers", { get() { throw new Error("own getter"); } }); return r; },
      };
      const results = {};
      for (const [name, make] of Object.entries(cases)) {
        let r;
        try {
          let e = window.genwire.decodeError(make());
          if (typeof e?.then === "function") e = await Promise.race([e, wait(5000).then(() => "hung")]);
          r = e === "hung" ? { hung: true } : { returned: describe(e), retryAfterMs: e?.retryAfterMs, status: e?.status };
        } catch (thrown) {
          r = { threw: describe(thrown) };
        }
        results[name] = r;
      }
      return { results, healthy: await health() };
    });
    for (const [name, r] of Object.entries(out.results)) {
      const where = `decodeError(${name}): ${JSON.stringify(r)}`;
      assert.ok(!r.threw && !r.hung, where);
      const e = r.returned;
      assert.equal(e.name, "GenwireError", where);
      assert.ok(e.isError && KINDS.includes(e.kind), where);
      assert.doesNotMatch(`${e.message}\n${e.stack}`, BROKEN, where);
      assert.doesNotMatch(e.message, /Illegal invocation|trap (get|proto|has|ownKeys)|getter boom|own getter/, `the engine's (or a trap's) words leaked: ${where}`);
      calls++;
    }
    // What can be read is decoded: a Proxy of a plain answer; an answer whose Headers are a Proxy
    // (unreadable through it) or whose headers' traps throw, without them.
    const seen = (name) => { const r = out.results[name]; return [r.returned.kind, r.returned.category, r.retryAfterMs, r.returned.message]; };
    assert.deepEqual(seen("proxyOfAnswer"), ["api", "rate_limited", 3000, "slow down"]);
    for (const name of ["proxyOfHeaders", "throwingHeaders"]) assert.deepEqual(seen(name), ["api", "rate_limited", undefined, "slow down"], name);
    assert.deepEqual(seen("responseHeadersProxy"), ["api", "rate_limited", undefined, "slow down"], "a Response whose headers getter throws");
    // A Proxy of a Response can't be read through (its getters check what they are called on): said so.
    for (const name of ["proxyOfResponse", "proxyOfResponseThrowing", "proxyOfResponseGetThrows", "revokedProxyOfResponse"]) {
      const e = out.results[name].returned;
      assert.equal(e.kind, "config", `${name}: ${e.message}`);
      assert.match(e.message, /can't be read/, name);
    }
    assert.equal(out.healthy, true, "the client still answers");
  });
});

describe("keys, wherever they hide, are refused before anything is sent", () => {
  const cases = [
    { proxyUrl: `/api/fal/proxy?fal_key=${FAL_KEY}` },
    { proxyUrl: `/api/fal/proxy?key=${TOKEN}` },
    { proxyUrl: `/api/fal/proxy?x=1&token=${TOKEN}` },
    { proxyUrl: `/api/fal/proxy?FAL%5FKEY=${TOKEN}` },
    { proxyUrl: `/api/fal/proxy?v=${encodeURIComponent(FAL_KEY)}` },
    { proxyUrl: `/api/fal/proxy#access_token=${TOKEN}` },
    { proxyUrl: `http://user:${TOKEN}@localhost/api/fal/proxy` },
    { realtimeUrl: `ws://localhost/sim/realtime?token=${TOKEN}` },
    { realtimeUrl: `wss://fal.run?fal_key=${FAL_KEY}` },
    { headers: { "X-Fal-Key": TOKEN } },
    { headers: { Authorization: `Key ${FAL_KEY}` } },
    { headers: { "x-custom": FAL_KEY } },
    { headers: { "x-api-key": TOKEN } },
    { headers: { "x-note": `fal_key=${TOKEN}` } },
    { schemas: { "fal-ai/flux/dev": `/schemas/x.json?api_key=${TOKEN}` } },
    { accessToken: TOKEN },
    { access_token: TOKEN },
    { falKey: FAL_KEY },
    { apiToken: TOKEN },
    { apiKey: FAL_KEY },
    { credentials: FAL_KEY },
    { FAL_KEY_ID: TOKEN },
    { clientSecret: TOKEN },
    { key: FAL_KEY },
  ];
  test(`${cases.length} ways to pass a key: config errors naming where, never the key itself`, async () => {
    const out = await env.page.evaluate(async (cases) => {
      const H = window.H;
      const results = [];
      for (const opts of cases) {
        for (const call of ["validate", "subscribe", "connect", "diagnose"]) {
          let error = null;
          try {
            const c = window.genwire.createClient(opts);
            if (call === "validate") await c.validate(H.EP, { prompt: "x" });
            else if (call === "subscribe") await c.subscribe(H.EP, { input: { prompt: "x" } });
            else if (call === "diagnose") await c.diagnose({ checks: ["proxy", "clock"] });
            else {
              const errs = [];
              const h = c.realtime.connect(H.RT, { onError: (e) => errs.push(e) });
              await H.wait(30);
              try { h.send({ prompt: "x" }); } catch (e) { errs.push(e); }
              h.close();
              if (errs.length) throw errs[0];
            }
          } catch (e) {
            error = H.describe(e);
          }
          results.push({ opts: JSON.stringify(opts), call, error });
        }
      }
      return { results, healthy: await H.health() };
    }, cases);
    for (const r of out.results) {
      const where = `${r.call} with ${r.opts}: ${JSON.stringify(r.error)}`;
      assert.equal(r.error?.name, "GenwireError", where);
      assert.equal(r.error.kind, "config", where);
      assert.ok(!r.error.message.includes(FAL_KEY) && !r.error.message.includes(TOKEN), `the key repeated: ${where}`);
      calls++;
    }
    assert.equal(out.healthy, true);
  });
});

describe("re-entrancy: callbacks and getters that call back in", () => {
  test("close() from a getter of the input being sent, from onResult, from onStatus; every handle closes", async () => {
    const out = await env.page.evaluate(async () => {
      const { client, RT, wait, until, describe } = window.H;
      const out = {};
      // A getter of the input closes the connection while send() reads it.
      const a = client.realtime.connect(RT, {});
      await wait(20);
      try { a.send({ get prompt() { a.close(); return "x"; } }); out.getter = "ok"; } catch (e) { out.getter = describe(e); }
      a.close();
      // A getter that throws, then close(): the handle is still closable.
      const b = client.realtime.connect(RT, {});
      await wait(20);
      try { b.send(new Proxy({}, { ownKeys() { throw new Error("trap"); } })); } catch (e) { out.trap = describe(e); }
      try { b.close(); out.closeAfterTrap = "ok"; } catch (e) { out.closeAfterTrap = describe(e); }
      // close() inside onResult, then connect again from inside onStatus("closed").
      const results = [];
      let again = null;
      const c = client.realtime.connect(RT, {
        onResult: (r) => { results.push(r); c.close(); c.close(); },
        onStatus: (s) => { if (s.status === "closed" && !again) again = client.realtime.connect(RT, {}); },
      });
      c.send({ prompt: "a cat", seq: 1 });
      out.gotResult = await until(() => results.length === 1);
      await wait(50);
      again?.close();
      // send(null) is the caller's mistake, said at once; the connection still works after it.
      const errors = [];
      const d = client.realtime.connect(RT, { onError: (e) => errors.push(describe(e)) });
      await wait(20);
      for (const bad of [null, undefined, 42, "text", [1], { f: () => 1 }, { s: Symbol("s") }]) {
        try { d.send(bad); out[`send ${String(bad?.f ? "fn" : bad?.s ? "sym" : bad)}`] = "sent"; } catch (e) { out[`send ${String(bad?.f ? "fn" : bad?.s ? "sym" : bad)}`] = describe(e); }
      }
      const got = [];
      const e = client.realtime.connect(RT, { connectionKey: "after-bad", onResult: (r) => got.push(r) });
      e.send({ prompt: "still works", seq: 2 });
      out.worksAfter = await until(() => got.length === 1);
      e.close();
      d.close();
      out.serverErrors = errors;
      out.clean = await until(() => { const x = client.realtime.debug(); return !x.connections && !x.sockets && !x.listeners && !x.timers; });
      out.debug = client.realtime.debug();
      // A listener that unsubscribes itself and adds another, and calls into the client, during an event.
      let off = null;
      let seen = 0;
      off = client.on(() => { seen++; off(); client.on(() => {})(); client.stats(); });
      await client.validate("fal-ai/flux/dev", { prompt: "x" });
      await client.queue.status("fal-ai/flux/dev", { requestId: window.H.RID });
      out.listener = seen;
      // An input whose getter calls into the client while subscribe reads it.
      try {
        await client.subscribe("fal-ai/flux/dev", { input: { get n() { client.stats(); client.realtime.debug(); return 9; }, prompt: "x" } });
        out.subscribeGetter = "ok";
      } catch (err) { out.subscribeGetter = describe(err); }
      out.healthy = await window.H.health();
      return out;
    });
    assert.equal(out.getter, "ok", JSON.stringify(out.getter));
    assert.equal(out.trap.kind, "config");
    assert.match(out.trap.message, /trap/);
    assert.equal(out.closeAfterTrap, "ok");
    assert.equal(out.gotResult, true);
    for (const k of ["send null", "send undefined", "send 42", "send text", "send 1", "send fn", "send sym"]) {
      assert.equal(out[k]?.name, "GenwireError", k);
      assert.equal(out[k].kind, "config", `${k}: ${JSON.stringify(out[k])}`);
      assert.doesNotMatch(out[k].message, BROKEN, k);
    }
    assert.deepEqual(out.serverErrors, [], "no input mistake reported as the server's");
    assert.equal(out.worksAfter, true);
    assert.equal(out.clean, true, JSON.stringify(out.debug));
    assert.ok(out.listener >= 1);
    assert.equal(out.subscribeGetter.kind, "validation", JSON.stringify(out.subscribeGetter));
    assert.equal(out.healthy, true);
    calls += 14;
  });
});

describe("what left the page", () => {
  test("no request (seen by Chromium, or passed upstream by the proxy) carries anything key-like", async () => {
    const unhandled = await env.page.evaluate(() => window.H.unhandled);
    assert.deepEqual(unhandled.filter((u) => BROKEN.test(u)), [], "no trap in an unhandled rejection");
    assert.deepEqual(pageErrors, [], "no uncaught error in the page");
    assert.ok(requests.length > 100, `${requests.length} requests recorded`);
    for (const r of requests) {
      const all = `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`;
      assert.ok(!all.includes(FAL_KEY) && !all.includes(TOKEN), `a key left the page: ${all.slice(0, 300)}`);
      for (const name of Object.keys(r.headers)) assert.ok(!keyLikeName(name), `a key-like header ${name} on ${r.url}`);
      for (const name of new URL(r.url).searchParams.keys()) assert.ok(!keyLikeName(name) || name === "fal_jwt_token", `a key-like query ${name} on ${r.url}`);
    }
    const upstream = await env.server.log();
    assert.ok(upstream.length > 10);
    for (const e of upstream) {
      const all = JSON.stringify(e);
      assert.ok(!all.includes(FAL_KEY) && !all.includes(TOKEN), `a key reached the upstream: ${all.slice(0, 300)}`);
    }
    console.log(`# ${calls} hostile calls, ${requests.length} requests from the page, ${upstream.length} upstream`);
  });
});
