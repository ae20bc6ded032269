// Coming from @fal-ai/client: the migration traps (abortSignal, timeouts on every call, signals on
// cancel and validate, unknown options, strict ranges) and the extension points (headers, fetch,
// onRequest, onResponse), in Chromium against the dev server and its simulated upstream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown, uniquePrompt } from "./support/env.mjs";

let server, browser, page;
const warnings = [];
before(async () => {
  ({ server, browser, page } = await setup(["--latency-ms", "600", "--queue-depth", "1", "--queue-step-ms", "150", "--keepalive-ms", "200"]));
  page.on("console", (m) => { if (m.type() === "warning") warnings.push(m.text()); });
});
after(() => teardown({ server, browser }));

const EP = "fal-ai/flux/dev";

/** Runs `body` (the source of an async function of `genwire`, `args`) in the page; errors come back as plain objects. */
function inPage(body, args = {}) {
  return page.evaluate(async ({ body, args }) => {
    const plain = (e) => ({ name: e?.name, kind: e?.kind, category: e?.category, message: e?.message, timeoutMs: e?.timeoutMs, retryable: e?.retryable, attempts: e?.attempts });
    try {
      return { ok: true, value: await new Function("genwire", "args", "plain", `return (async () => { ${body} })()`)(genwire, args, plain) };
    } catch (e) {
      return { ok: false, error: plain(e) };
    }
  }, { body, args });
}

const jobsOf = (log, id) => log.filter((e) => e.url.includes(`/requests/${id}`));

describe("abortSignal, the official name of signal", () => {
  test("abortSignal cancels subscribe: the job is cancelled upstream", async () => {
    const since = (await server.log()).length;
    const r = await inPage(`
      const client = genwire.createClient();
      const ctl = new AbortController();
      let id;
      const p = client.subscribe(args.EP, { input: { prompt: args.prompt }, abortSignal: ctl.signal,
        onQueueUpdate: (u) => { id = u.request_id; ctl.abort(); } });
      try { await p; return { id, settled: "resolved" }; } catch (e) { return { id, error: plain(e) }; }
    `, { EP, prompt: uniquePrompt("abortSignal") });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.error?.kind, "aborted", JSON.stringify(r.value));
    let cancels = [];
    for (let i = 0; i < 50 && cancels.length === 0; i++) {
      cancels = jobsOf((await server.log()).slice(since), r.value.id).filter((e) => e.url.endsWith("/cancel"));
      if (!cancels.length) await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(cancels.length, 1, "the abort reached the upstream as a cancel");
  });

  test("abortSignal aborts run, upload and the queue calls; signal and abortSignal together must be the same", async () => {
    const prompt = uniquePrompt("abort-run");
    await server.fault(prompt, { slow_ms: 3000, slow_step: "run" });
    const r = await inPage(`
      const client = genwire.createClient();
      const ctl = new AbortController();
      const run = client.run(args.EP, { input: { prompt: args.prompt }, abortSignal: ctl.signal });
      setTimeout(() => ctl.abort(), 200);
      const out = {};
      try { await run; out.run = "resolved"; } catch (e) { out.run = plain(e); }
      const gone = AbortSignal.abort();
      for (const [name, call] of [
        ["status", () => client.queue.status(args.EP, { requestId: "abc-1", abortSignal: gone })],
        ["result", () => client.queue.result(args.EP, { requestId: "abc-1", abortSignal: gone })],
        ["upload", () => client.storage.upload(new Blob(["x"]), { abortSignal: gone })],
      ]) { try { await call(); out[name] = "resolved"; } catch (e) { out[name] = plain(e); } }
      const same = new AbortController().signal;
      try { await client.queue.status(args.EP, { requestId: "abc-1", signal: same, abortSignal: new AbortController().signal }); out.both = "resolved"; } catch (e) { out.both = plain(e); }
      try { await client.queue.status(args.EP, { requestId: "abc-1", signal: gone, abortSignal: gone }); out.same = "resolved"; } catch (e) { out.same = plain(e); }
      return out;
    `, { EP, prompt });
    assert.ok(r.ok, JSON.stringify(r));
    const v = r.value;
    assert.equal(v.run.kind, "aborted", JSON.stringify(v.run));
    for (const k of ["status", "result", "upload"]) assert.equal(v[k].kind, "aborted", `${k}: ${JSON.stringify(v[k])}`);
    assert.equal(v.both.kind, "config");
    assert.match(v.both.message, /'abortSignal' is @fal-ai\/client's/);
    assert.equal(v.same.kind, "aborted", "the same signal under both names is one signal");
  });
});

describe("timeouts on run and every queue call", () => {
  test("run's timeout fires while the model is slow", async () => {
    const prompt = uniquePrompt("run-timeout");
    await server.fault(prompt, { slow_ms: 4000, slow_step: "run" });
    const r = await inPage(`return await genwire.createClient().run(args.EP, { input: { prompt: args.prompt }, timeout: 300 });`, { EP, prompt });
    assert.equal(r.ok, false);
    assert.equal(r.error.kind, "timeout");
    assert.equal(r.error.category, "timeout");
    assert.equal(r.error.timeoutMs, 300);
    assert.match(r.error.message, /No answer within 300 ms/);
  });

  test("submit, status, result and cancel each take a timeout", async () => {
    const prompt = uniquePrompt("queue-timeouts");
    // The submit is slow once; its job's status, result and cancel answers are slow every time.
    await server.fault(prompt, { slow_ms: 4000, slow_step: "submit" }, 1);
    const r = await inPage(`
      const client = genwire.createClient();
      const out = {};
      try { await client.queue.submit(args.EP, { input: { prompt: args.prompt }, timeout: 250 }); out.submit = "resolved"; } catch (e) { out.submit = plain(e); }
      const job = await client.queue.submit(args.EP, { input: { prompt: args.prompt + " again" } });
      out.id = job.request_id;
      return out;
    `, { EP, prompt });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.submit.kind, "timeout", JSON.stringify(r.value.submit));
    assert.equal(r.value.submit.timeoutMs, 250);

    const slow = uniquePrompt("slow-reads");
    await server.fault(slow, { slow_ms: 4000, slow_step: "status" }, 5);
    const s = await inPage(`
      // The status answer is slow upstream; the result's and the cancel's requests hang in the app's
      // fetch, which ignores the abort: the timeout still ends the call.
      const hangs = (t) => { const rest = t.split("/requests/")[1]; return rest !== undefined && (!rest.includes("/") || rest.endsWith("/cancel")); };
      const client = genwire.createClient({ retry: false, fetch: (url, init) =>
        hangs(String(init.headers["x-fal-target-url"])) ? new Promise(() => {}) : fetch(url, init) });
      const job = await client.queue.submit(args.EP, { input: { prompt: args.prompt } });
      const out = {};
      for (const call of ["status", "result", "cancel"]) {
        try { await client.queue[call](args.EP, { requestId: job.request_id, timeout: 200 }); out[call] = "resolved"; } catch (e) { out[call] = plain(e); }
      }
      return out;
    `, { EP, prompt: slow });
    assert.ok(s.ok, JSON.stringify(s));
    for (const call of ["status", "result", "cancel"]) {
      assert.equal(s.value[call].kind, "timeout", `${call}: ${JSON.stringify(s.value[call])}`);
      assert.equal(s.value[call].timeoutMs, 200);
    }
  });

  test("a bad timeout is a config error naming the option", async () => {
    const r = await inPage(`return await genwire.createClient().queue.status(args.EP, { requestId: "abc-1", timeout: 0 });`, { EP });
    assert.equal(r.error.kind, "config");
    assert.equal(r.error.message, "option 'timeout' must be a number of milliseconds greater than 0");
  });
});

describe("signals on cancel and validate", () => {
  test("queue.cancel stops at its signal: nothing sent when already aborted, abandoned when aborted in flight", async () => {
    const prompt = uniquePrompt("cancel-signal");
    await server.fault(prompt, { slow_ms: 4000, slow_step: "cancel" }, 5);
    const r = await inPage(`
      const client = genwire.createClient({ retry: false });
      const job = await client.queue.submit(args.EP, { input: { prompt: args.prompt } });
      const out = { id: job.request_id };
      try { await client.queue.cancel(args.EP, { requestId: job.request_id, signal: AbortSignal.abort() }); out.before = "resolved"; } catch (e) { out.before = plain(e); }
      out.sentBefore = true;
      const ctl = new AbortController();
      const p = client.queue.cancel(args.EP, { requestId: job.request_id, abortSignal: ctl.signal });
      setTimeout(() => ctl.abort(), 150);
      try { await p; out.during = "resolved"; } catch (e) { out.during = plain(e); }
      return out;
    `, { EP, prompt });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.before.kind, "aborted");
    assert.equal(r.value.during.kind, "aborted");
    const cancels = jobsOf(await server.log(), r.value.id).filter((e) => e.url.endsWith("/cancel"));
    assert.equal(cancels.length, 1, "the aborted-before call sent nothing; the other one request");
  });

  test("validate rejects as aborted when its signal fires while the schema loads; the load goes on for others", async () => {
    const r = await inPage(`
      let release;
      const held = new Promise((res) => { release = res; });
      const client = genwire.createClient({
        fetch: async (url, init) => {
          if (String(init.headers["x-fal-target-url"] ?? "").includes("openapi")) await held;
          return fetch(url, init);
        },
      });
      const ctl = new AbortController();
      const first = client.validate(args.EP, { prompt: "x" }, { signal: ctl.signal });
      const second = client.validate(args.EP, { prompt: 5 });
      setTimeout(() => ctl.abort(), 100);
      const out = {};
      try { await first; out.first = "resolved"; } catch (e) { out.first = plain(e); }
      release();
      out.second = await second;
      return out;
    `, { EP });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.first.kind, "aborted");
    assert.ok(Array.isArray(r.value.second) && r.value.second.length > 0, JSON.stringify(r.value.second));
    assert.equal(r.value.second[0].field, "prompt");
  });
});

describe("unknown options", () => {
  test("a misspelt option is warned about once per name, with the name it meant; @fal-ai/client's names say what to use", async () => {
    warnings.length = 0;
    const r = await inPage(`
      const client = genwire.createClient({ requestMiddleware: (r) => r, retry: { baseDelay: 100 } });
      for (let i = 0; i < 3; i++) {
        try { await client.queue.status(args.EP, { requestId: "abc-1", timout: 5, signal: AbortSignal.abort() }); } catch {}
      }
      const c = client.realtime.connect(args.EP, { encodeMessage: () => "", throttleInterval: 0 });
      await new Promise((res) => setTimeout(res, 20));
      c.close();
      return true;
    `, { EP });
    assert.ok(r.ok, JSON.stringify(r));
    await new Promise((res) => setTimeout(res, 100));
    const mine = warnings.filter((w) => w.startsWith("genwire:"));
    assert.deepEqual(mine.filter((w) => w.includes("'timout'")), ["genwire: queue.status() has no option 'timout'; it does nothing. Did you mean 'timeout'?"], "once, though used three times");
    assert.ok(mine.some((w) => w.includes("createClient() has no option 'requestMiddleware'") && w.includes("use onRequest")), mine.join("\n"));
    assert.ok(mine.some((w) => w.includes("createClient({ retry }) has no option 'baseDelay'") && w.includes("use baseDelayMs")), mine.join("\n"));
    assert.ok(mine.some((w) => w.includes("realtime.connect() has no option 'encodeMessage'") && w.includes("codec")), mine.join("\n"));
    assert.ok(!mine.some((w) => /'(requestId|signal|throttleInterval)'/.test(w)), "known options are not warned about");
  });

  test("a production build (process.env.NODE_ENV, as bundlers define it) warns about nothing", async () => {
    warnings.length = 0;
    const r = await inPage(`
      globalThis.process = { env: { NODE_ENV: "production" } };
      try {
        const client = genwire.createClient({ proxyUrll: "/x" });
        try { await client.queue.result(args.EP, { requestId: "abc-1", signall: 1, signal: AbortSignal.abort() }); } catch {}
      } finally { delete globalThis.process; }
      const dev = genwire.createClient({ proxyUrll: "/x" });
      try { await dev.queue.result(args.EP, { requestId: "abc-1", signal: AbortSignal.abort() }); } catch {}
      return true;
    `, { EP });
    assert.ok(r.ok, JSON.stringify(r));
    await new Promise((res) => setTimeout(res, 100));
    const mine = warnings.filter((w) => w.startsWith("genwire:"));
    assert.ok(!mine.some((w) => w.includes("'signall'")), mine.join("\n"));
    assert.equal(mine.filter((w) => w.includes("'proxyUrll'")).length, 1, "the development client warns: " + mine.join("\n"));
  });
});

describe("extension points: headers, fetch, onRequest, onResponse", () => {
  test("the custom fetch carries every request, the status stream and the upload included", async () => {
    const prompt = uniquePrompt("custom-fetch");
    const since = (await server.log()).length;
    const r = await inPage(`
      const seen = [];
      const client = genwire.createClient({
        fetch: (url, init) => { seen.push({ url: String(url), target: init.headers["x-fal-target-url"] ?? null, accept: init.headers.accept ?? null, method: init.method }); return fetch(url, init); },
      });
      const url = await client.storage.upload(new Blob([new Uint8Array(64)], { type: "image/png" }));
      const result = await client.subscribe(args.EP, { input: { prompt: args.prompt }, logs: true });
      return { seen, id: result.requestId, url };
    `, { EP, prompt });
    assert.ok(r.ok, JSON.stringify(r));
    const { seen, id } = r.value;
    const targets = seen.map((s) => s.target ?? s.url);
    assert.ok(seen.some((s) => s.accept === "text/event-stream" && s.target.endsWith(`/requests/${id}/status/stream?logs=1`)), JSON.stringify(seen));
    assert.ok(seen.some((s) => s.method === "PUT" && s.target === null), "the upload's PUT went through the app's fetch");
    // Every request the upstream saw for this test was sent by the app's fetch.
    const log = (await server.log()).slice(since);
    assert.ok(log.length >= 5, JSON.stringify(log.map((e) => e.url)));
    for (const e of log) {
      const path = new URL(e.url, "http://x").pathname;
      assert.ok(targets.some((t) => new URL(t, "http://x").pathname === path), `not through the app's fetch: ${e.url}\n${targets.join("\n")}`);
    }
  });

  test("client and call headers and onRequest's reach the upstream; onResponse observes; the hook never sees a key", async () => {
    const prompt = uniquePrompt("hooks");
    const since = (await server.log()).length;
    const r = await inPage(`
      const requests = [], responses = [];
      const client = genwire.createClient({
        headers: { "x-fal-tenant": "t1", "x-app-session": "s-123" },
        onRequest: async (req) => { requests.push(structuredClone(req)); req.headers["x-fal-hooked"] = req.method; },
        onResponse: (res) => responses.push({ url: res.url, status: res.status, ct: res.headers.get("content-type") }),
      });
      const result = await client.subscribe(args.EP, { input: { prompt: args.prompt }, headers: { "x-fal-call": "c1" }, priority: "low", startTimeout: 30, hint: "h-1",
        webhookUrl: "https://app.example/hooks/fal?x=1" });
      return { requests, responses, id: result.requestId };
    `, { EP, prompt });
    assert.ok(r.ok, JSON.stringify(r));
    const { requests, responses, id } = r.value;
    const log = (await server.log()).slice(since);
    const submit = log.find((e) => e.step === "submit" && e.url.includes("fal_webhook="));
    assert.ok(submit, JSON.stringify(log.map((e) => e.url)));
    assert.match(submit.url, /fal_webhook=https%3A%2F%2Fapp\.example%2Fhooks%2Ffal%3Fx%3D1/);
    const h = submit.headers;
    assert.equal(h["x-fal-tenant"], "t1");
    assert.equal(h["x-fal-call"], "c1");
    assert.equal(h["x-fal-hooked"], "POST");
    assert.equal(h["x-fal-queue-priority"], "low");
    assert.equal(h["x-fal-request-timeout"], "30");
    assert.equal(h["x-fal-runner-hint"], "h-1");
    for (const e of jobsOf(log, id)) {
      assert.equal(e.headers["x-fal-call"], "c1", `the call's headers on every request of the call: ${e.url}`);
      assert.equal(e.headers["x-fal-tenant"], "t1", e.url);
      assert.equal(e.headers["x-fal-hooked"], e.method, e.url);
      assert.equal(e.headers["x-fal-queue-priority"], undefined, `priority only on the submit: ${e.url}`);
    }
    assert.ok(requests.some((q) => q.url.includes(`/requests/${id}/status/stream`) && q.headers.accept === "text/event-stream"), "the status stream goes through onRequest");
    for (const q of requests) {
      assert.ok(q.url.startsWith("https://"), `the hook sees the upstream URL: ${q.url}`);
      assert.equal(q.headers["x-app-session"], "s-123");
      assert.ok(!Object.keys(q.headers).some((k) => /authorization|key/i.test(k)), JSON.stringify(q.headers));
    }
    assert.ok(responses.some((s) => s.url.includes(`/requests/${id}/status/stream`) && s.ct.startsWith("text/event-stream")), JSON.stringify(responses));
    assert.ok(responses.every((s) => s.status >= 200 && s.status < 300), JSON.stringify(responses));
  });

  test("diagnose goes through the client's fetch with its headers", async () => {
    const r = await inPage(`
      const seen = [];
      const client = genwire.createClient({ headers: { "x-app-session": "s-9" },
        fetch: (url, init) => { seen.push(init.headers["x-app-session"]); return fetch(url, init); } });
      const report = await client.diagnose({ checks: ["proxy", "key"] });
      return { seen, proxy: report.checks.find((c) => c.id === "proxy")?.status };
    `);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.proxy, "pass");
    assert.ok(r.value.seen.length >= 1 && r.value.seen.every((h) => h === "s-9"), JSON.stringify(r.value.seen));
  });

  test("key-like headers are refused: client headers at once, call headers and onRequest's before anything is sent", async () => {
    const prompt = uniquePrompt("refused");
    const since = (await server.log()).length;
    const r = await inPage(`
      await genwire.init();
      const out = {};
      for (const h of [{ Authorization: "Key a:b" }, { "X-Fal-Key": "x" }, { "x-api-key": "x" }, { "x-session": "Key id:secret" }, { "x-fal-target-url": "https://evil.example/" }]) {
        try { genwire.createClient({ headers: h }); out[Object.keys(h)[0]] = "created"; } catch (e) { out[Object.keys(h)[0]] = plain(e); }
      }
      const client = genwire.createClient({ retry: { maxRetries: 3 } });
      try { await client.subscribe(args.EP, { input: { prompt: args.prompt }, headers: { authorization: "Bearer x" } }); out.call = "resolved"; } catch (e) { out.call = plain(e); }
      const hooked = genwire.createClient({ onRequest: () => ({ headers: { cookie: "sid=1" } }) });
      try { await hooked.run(args.EP, { input: { prompt: args.prompt } }); out.hook = "resolved"; } catch (e) { out.hook = plain(e); }
      const thrower = genwire.createClient({ onRequest: () => { throw new Error("no session"); } });
      try { await thrower.queue.submit(args.EP, { input: { prompt: args.prompt } }); out.threw = "resolved"; } catch (e) { out.threw = plain(e); }
      return out;
    `, { EP, prompt });
    assert.ok(r.ok, JSON.stringify(r));
    const v = r.value;
    for (const name of ["Authorization", "X-Fal-Key", "x-api-key"]) {
      assert.equal(v[name].kind, "config", name);
      assert.match(v[name].message, new RegExp(`refuses the option 'headers.${name}'`), name);
    }
    assert.match(v["x-session"].message, /refuses the option 'headers.x-session'/);
    assert.match(v["x-fal-target-url"].message, /genwire's own/);
    assert.equal(v.call.kind, "config");
    assert.match(v.call.message, /refuses the header 'authorization' \(headers\)/);
    assert.equal(v.hook.kind, "config");
    assert.match(v.hook.message, /refuses the header 'cookie' \(onRequest\)/);
    assert.equal(v.hook.attempts, 1, "a refusal is not retried");
    assert.equal(v.threw.kind, "config");
    assert.equal(v.threw.message, "onRequest threw: no session");
    const log = (await server.log()).slice(since);
    assert.equal(log.filter((e) => e.step === "submit" || e.step === "run").length, 0, "nothing reached the upstream");
  });
});

describe("tokenExpirationSeconds", () => {
  test("the default token provider asks fal for the given lifetime (120 s without it), and the socket opens with the token", async () => {
    const r = await inPage(`
      const bodies = [];
      const client = genwire.createClient({ realtimeUrl: "ws://" + location.host + "/sim/realtime",
        fetch: (url, init) => { if (String(init.headers["x-fal-target-url"]).includes("/tokens/")) bodies.push(JSON.parse(init.body)); return fetch(url, init); } });
      const open = (opts) => new Promise((res, rej) => {
        const c = client.realtime.connect("fal-ai/lcm-sd15-i2i", { ...opts, onStatus: (s) => { if (s.status === "open") { c.close(); res(); } }, onError: rej });
        c.send({ prompt: "a cat", seed: 1 });
      });
      await open({ tokenExpirationSeconds: 600, connectionKey: "a" });
      await open({ connectionKey: "b" });
      return bodies;
    `);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.map((b) => b.token_expiration), [600, 120]);
    assert.deepEqual(r.value[0].allowed_apps, ["lcm-sd15-i2i"]);
  });
});

describe("strict ranges as the official client has them", () => {
  test("maxBuffering outside 1..60, startTimeout of 1, tokenExpirationSeconds under 10 are config errors; run sends startTimeout", async () => {
    const prompt = uniquePrompt("ranges");
    const since = (await server.log()).length;
    const r = await inPage(`
      const client = genwire.createClient();
      const out = {};
      out.buffering = await new Promise((res) => client.realtime.connect(args.EP, { maxBuffering: 61, onError: (e) => res(plain(e)) }));
      out.token = await new Promise((res) => client.realtime.connect(args.EP, { tokenExpirationSeconds: 5, onError: (e) => res(plain(e)) }));
      try { await client.run(args.EP, { input: { prompt: args.prompt }, startTimeout: 1 }); out.start = "resolved"; } catch (e) { out.start = plain(e); }
      await client.run(args.EP, { input: { prompt: args.prompt }, startTimeout: 2.5 });
      return out;
    `, { EP, prompt });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.buffering.message, "option 'maxBuffering' must be a whole number from 1 to 60");
    assert.equal(r.value.token.message, "option 'tokenExpirationSeconds' must be a number of seconds of at least 10");
    assert.equal(r.value.start.message, "option 'startTimeout' must be a number of seconds greater than 1");
    const runs = (await server.log()).slice(since).filter((e) => e.step === "run");
    assert.equal(runs.length, 1, "the refused run sent nothing");
    assert.equal(runs[0].headers["x-fal-request-timeout"], "2.5");
  });
});
