// The React hooks in Chromium against the real server: generation (statuses, superseded calls,
// cancel, typed errors, unmount), realtime under StrictMode (one socket, none after unmount),
// uploads, validation as you type and stats. The page is www/dist/hooks-fixture.js (tests/react).
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown, uniquePrompt } from "./support/env.mjs";

let server, browser, page;
before(async () => {
  ({ server, browser, page } = await setup(["--latency-ms", "300", "--queue-depth", "1", "--queue-step-ms", "200"]));
  await page.addScriptTag({ url: "/dist/hooks-fixture.js", type: "module" });
  await page.waitForSelector("body[data-hooks=ready]");
});
after(() => teardown({ server, browser }));
beforeEach(() => page.evaluate(() => { window.hooks.unmount(); window.hooks.log.length = 0; }));

const rt = (path, body, method) => server.sim(`/__sim/realtime/${path}`, body, method);
const mount = (scenario, props, opts) => page.evaluate(([s, p, o]) => window.hooks.mount(s, p, o), [scenario, props, opts]);
const entries = (hook) => page.evaluate((h) => window.hooks.log.filter((e) => e.hook === h), hook);
/** Waits until the hook's last logged state satisfies `pred` (a function of that state, run in the page). */
async function until(hook, pred, timeout = 15000) {
  await page.waitForFunction(([h, src]) => {
    const last = window.hooks.log.filter((e) => e.hook === h).at(-1);
    return last && new Function("s", `return (${src})(s)`)(last);
  }, [hook, pred.toString()], { timeout });
  return (await entries(hook)).at(-1);
}
const distinct = (xs) => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);

describe("useGeneration", () => {
  test("idle → submitting → queued → running → success, with data, requestId, queue position and logs", async () => {
    await mount("Generation", { endpoint: "fal-ai/flux/dev" }, { strict: true });
    const prompt = uniquePrompt("hook generation");
    await page.evaluate((p) => window.hooks.current.gen.submit({ prompt: p }), prompt);
    const last = await until("gen", (s) => s.status === "success" || s.status === "error");
    assert.equal(last.status, "success", JSON.stringify(last.error));
    const seen = distinct((await entries("gen")).map((e) => e.status));
    assert.deepEqual(seen, ["idle", "submitting", "queued", "running", "success"]);
    assert.ok(last.data.images[0].url.startsWith("http"), "an image URL");
    assert.match(last.requestId, /\S/);
    assert.ok((await entries("gen")).some((e) => e.status === "queued" && Number.isInteger(e.queuePosition)), "queue position while queued");
    const job = await server.job(last.requestId);
    assert.equal(job.input.prompt, prompt, "the job the hook submitted");
  });

  test("a new submit supersedes the running one: its result is never shown, its job is cancelled", async () => {
    await mount("Generation", { endpoint: "fal-ai/flux/dev" });
    const [a, b] = [uniquePrompt("first"), uniquePrompt("second")];
    await page.evaluate((p) => { window.firstCall = window.hooks.current.gen.submitAsync({ prompt: p }).then(() => "resolved", (e) => e.kind); }, a);
    await until("gen", (s) => s.status === "queued" || s.status === "running");
    const firstId = (await entries("gen")).findLast((e) => e.requestId).requestId;
    await page.evaluate((p) => window.hooks.current.gen.submit({ prompt: p }), b);
    const last = await until("gen", (s) => s.status === "success" || s.status === "error");
    assert.equal(last.status, "success");
    assert.notEqual(last.requestId, firstId);
    assert.equal((await server.job(last.requestId)).input.prompt, b);
    assert.equal(await page.evaluate(() => window.firstCall), "aborted", "the superseded call's promise rejects as aborted");
    const log = await entries("gen");
    assert.ok(!log.some((e) => e.status === "canceled" || e.status === "error"), "the superseded call changed nothing");
    assert.equal((await server.job(firstId)).canceled, true, "the superseded job was cancelled upstream");
  });

  test("cancel(): status canceled, the job cancelled upstream", async () => {
    await mount("Generation", { endpoint: "fal-ai/flux/dev" });
    await page.evaluate((p) => window.hooks.current.gen.submit({ prompt: p }), uniquePrompt("cancel me"));
    const running = await until("gen", (s) => !!s.requestId);
    await page.evaluate(() => window.hooks.current.gen.cancel());
    const last = await until("gen", (s) => s.status !== "queued" && s.status !== "running" && s.status !== "submitting");
    assert.equal(last.status, "canceled");
    assert.equal(last.error, undefined);
    await assert.doesNotReject(async () => {
      for (let i = 0; i < 50 && !(await server.job(running.requestId)).canceled; i++) await new Promise((r) => setTimeout(r, 50));
    });
    assert.equal((await server.job(running.requestId)).canceled, true);
  });

  test("the caller's own signal cancels too, also where AbortSignal.any is missing", async () => {
    await mount("Generation", { endpoint: "fal-ai/flux/dev" });
    const ids = [];
    for (const withoutAny of [false, true]) {
      await page.evaluate(([p, withoutAny]) => {
        window.savedAny = AbortSignal.any;
        if (withoutAny) delete AbortSignal.any;
        window.callerAbort = new AbortController();
        window.hooks.current.gen.submit({ prompt: p }, { signal: window.callerAbort.signal });
      }, [uniquePrompt("caller signal"), withoutAny]);
      const { requestId } = await until("gen", (s) => !!s.requestId && s.status !== "submitting");
      ids.push(requestId);
      await page.evaluate(() => { window.callerAbort.abort(); AbortSignal.any = window.savedAny; });
      assert.equal((await until("gen", (s) => s.status === "canceled" || s.status === "error" || s.status === "success")).status, "canceled");
      for (let i = 0; i < 50 && !(await server.job(requestId)).canceled; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await server.job(requestId)).canceled, true);
    }
    assert.notEqual(ids[0], ids[1]);
  });

  test("a refused input: status error with the typed validation error, nothing sent", async () => {
    await mount("Generation", { endpoint: "fal-ai/flux/dev" });
    const before = (await server.log()).length;
    await page.evaluate(() => window.hooks.current.gen.submit({ prompt: "x", num_images: 99 }));
    const last = await until("gen", (s) => s.status === "error");
    assert.equal(last.error.kind, "validation");
    assert.deepEqual(last.error.issues.map((i) => [i.field, i.type]), [["num_images", "less_than_equal"]]);
    assert.deepEqual((await server.log()).slice(before).filter((e) => e.step === "submit"), [], "nothing submitted");
    await page.evaluate(() => window.hooks.current.gen.reset());
    assert.equal((await until("gen", (s) => s.status === "idle")).error, undefined);
  });

  test("unmounting mid-job cancels it upstream and updates nothing", async () => {
    await mount("Generation", { endpoint: "fal-ai/flux/dev" }, { strict: true });
    await page.evaluate((p) => window.hooks.current.gen.submit({ prompt: p }), uniquePrompt("unmount"));
    const { requestId } = await until("gen", (s) => !!s.requestId);
    const errors = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.evaluate(() => window.hooks.unmount());
    for (let i = 0; i < 50 && !(await server.job(requestId)).canceled; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await server.job(requestId)).canceled, true);
    const n = (await entries("gen")).length;
    await new Promise((r) => setTimeout(r, 800)); // the job's own time has passed: no late update
    assert.equal((await entries("gen")).length, n);
    assert.deepEqual(errors, []);
  });
});

describe("useStream", () => {
  test("under StrictMode: idle → streaming with a growing partial → success with the final output; one stream upstream", async () => {
    await mount("Stream", { endpoint: "fal-ai/any-llm" }, { strict: true });
    const prompt = uniquePrompt("hook stream");
    const since = (await server.sim("/__sim/log?since=0")).next;
    await page.evaluate((p) => window.hooks.current.stream.start({ prompt: p }), prompt);
    const last = await until("stream", (s) => s.status === "success" || s.status === "error");
    assert.equal(last.status, "success", JSON.stringify(last.error));
    const log = await entries("stream");
    assert.deepEqual(distinct(log.map((e) => e.status)), ["idle", "streaming", "success"]);
    const partials = distinct(log.filter((e) => e.status === "streaming" && e.partial).map((e) => e.partial));
    assert.ok(partials.length >= 3, `${partials.length} partials shown`);
    assert.ok(partials.every((p, i) => i === 0 || p.startsWith(partials[i - 1])), "the partial only grows");
    assert.equal(last.data, partials.at(-1));
    assert.equal(last.final, false, "the final event says partial: false");
    assert.match(last.requestId, /^[0-9a-f-]{36}$/);
    assert.equal((await server.log(since)).filter((e) => e.step === "output").length, 1, "StrictMode streams once");
  });

  test("abort(), a superseding start and an unmount each stop the stream in flight", async () => {
    const slow = uniquePrompt("slow hook stream");
    await server.fault(slow, { latency_ms: 4000 }, 3);
    await mount("Stream", { endpoint: "fal-ai/any-llm" });
    await page.evaluate((p) => window.hooks.current.stream.start({ prompt: p }), slow);
    await until("stream", (s) => !!s.partial);
    await page.evaluate(() => window.hooks.current.stream.abort());
    const canceled = await until("stream", (s) => s.status !== "streaming");
    assert.deepEqual([canceled.status, canceled.error], ["canceled", undefined]);

    await page.evaluate((p) => { window.firstStream = window.hooks.current.stream.startAsync({ prompt: p }).then(() => "resolved", (e) => e.kind); }, slow);
    await until("stream", (s) => s.status === "streaming" && !!s.partial);
    const quick = uniquePrompt("quick");
    await page.evaluate((p) => window.hooks.current.stream.start({ prompt: p }), quick);
    const done = await until("stream", (s) => s.status === "success" || s.status === "error");
    assert.equal(done.status, "success");
    assert.match(done.data, new RegExp(`^You asked: "quick`), "the superseding stream's output");
    assert.equal(await page.evaluate(() => window.firstStream), "aborted");
    const afterSuperseding = (await entries("stream")).filter((e) => e.status === "streaming" && e.partial);
    assert.ok(afterSuperseding.at(-1).partial.startsWith("You asked: \"quick"), "the superseded stream's partials stopped counting");

    await page.evaluate((p) => { window.unmounted = window.hooks.current.stream.startAsync({ prompt: p }).then(() => "resolved", (e) => e.kind); }, slow);
    await until("stream", (s) => s.status === "streaming" && !!s.partial && !s.partial.startsWith("You asked: \"quick"));
    await page.evaluate(() => window.hooks.unmount());
    assert.equal(await page.evaluate(() => window.unmounted), "aborted", "unmounting aborted the stream");
  });

  test("a mid-stream error: status error with the typed error, the last partial kept; a binary stream's chunks", async () => {
    const prompt = uniquePrompt("hook stream error");
    await server.fault(prompt, { output_error_after: 2 });
    await mount("Stream", { endpoint: "fal-ai/any-llm" });
    await page.evaluate((p) => window.hooks.current.stream.start({ prompt: p }), prompt);
    const last = await until("stream", (s) => s.status === "success" || s.status === "error");
    assert.equal(last.status, "error");
    assert.equal(last.error.kind, "api");
    assert.match(last.error.message, /runner disconnected/);
    assert.match(last.partial, /^You asked:/, "the partial before the error stays");

    await mount("Stream", { endpoint: "genwire/audio-stream" });
    await page.evaluate(() => window.hooks.current.stream.start({ prompt: "one two three four" }));
    const audio = await until("stream", (s) => s.status === "success" || s.status === "error");
    assert.equal(audio.status, "success", JSON.stringify(audio.error));
    assert.ok(audio.data > 0 && Number.isInteger(audio.data), "the last chunk's length");
  });
});

describe("useRealtime", () => {
  beforeEach(async () => {
    await rt("faults", undefined, "DELETE");
    await rt("config", { idle_timeout_ms: 8000, result_delay_ms: 0 });
  });

  test("under StrictMode one socket opens; results arrive; none remains after unmount", async () => {
    const s0 = await rt("stats");
    await mount("Realtime", { endpoint: "fal-ai/lcm-sd15-i2i", options: { throttleInterval: 0 } }, { strict: true });
    // The socket opens on the first send (as fal's client does), so an idle page holds none.
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "strict", seed: 7 }));
    const last = await until("rt", (s) => s.lastResult !== undefined && s.status === "open");
    assert.ok(last.lastResult, "a result");
    const s1 = await rt("stats");
    assert.equal(s1.opened - s0.opened, 1, "exactly one socket for a double mount");
    assert.equal(s1.open, 1);
    await page.evaluate(() => window.hooks.unmount());
    for (let i = 0; i < 50 && (await rt("stats")).open !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await rt("stats")).open, 0, "the server has no socket left");
    assert.deepEqual(await page.evaluate(() => window.hooks.current.client.realtime.debug()), { connections: 0, sockets: 0, listeners: 0, timers: 0 });
  });

  test("two components with one connectionKey share a socket; the last unmount closes it", async () => {
    const s0 = await rt("stats");
    await mount("Realtime", { endpoint: "fal-ai/lcm-sd15-i2i", options: { connectionKey: "shared", throttleInterval: 0 } }, { strict: true, twice: true });
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "shared" }));
    await until("rt", (s) => s.lastResult !== undefined);
    assert.equal((await rt("stats")).opened - s0.opened, 1, "one socket for two hooks");
    await page.evaluate(() => window.hooks.unmount());
    for (let i = 0; i < 50 && (await rt("stats")).open !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await rt("stats")).open, 0);
  });

  test("the first send opens the socket and is delivered; close() then reconnect() opens a new connection", async () => {
    const s0 = await rt("stats");
    await mount("Realtime", { endpoint: "fal-ai/lcm-sd15-i2i", options: { throttleInterval: 0 } });
    assert.equal((await until("rt", (s) => s.status === "idle")).status, "idle");
    assert.equal((await rt("stats")).opened - s0.opened, 0, "no socket before the first send");
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "first" }));
    await until("rt", (s) => s.lastResult !== undefined);
    await page.evaluate(() => window.hooks.current.rt.close());
    await until("rt", (s) => s.status === "closed");
    for (let i = 0; i < 50 && (await rt("stats")).open !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await rt("stats")).open, 0);
    await page.evaluate(() => window.hooks.current.rt.reconnect());
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "again" }));
    await until("rt", (s) => s.status === "open");
    assert.equal((await rt("stats")).opened - s0.opened, 2);
  });

  test("a fatal close surfaces as the hook's error; reconnect() then opens a new connection", async () => {
    await rt("faults", { close_code_next: { code: 1011, reason: "boom", count: 1 } });
    const s0 = await rt("stats");
    await mount("Realtime", { endpoint: "fal-ai/lcm-sd15-i2i", options: { throttleInterval: 0 } });
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "fatal", seed: 1 }));
    const last = await until("rt", (s) => !!s.error && s.status === "closed");
    assert.deepEqual([last.error.kind, last.error.category], ["api", "server"]);
    await page.evaluate(() => window.hooks.current.rt.reconnect());
    await until("rt", (s) => s.status === "open");
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "after the fatal close", seed: 2 }));
    const again = await until("rt", (s) => s.lastResult?.seed === 2);
    assert.equal(again.status, "open");
    assert.equal((await rt("stats")).opened - s0.opened, 2, "a second socket, opened by reconnect()");
  });
});

describe("useUpload, useValidation, useClientStats", () => {
  test("useUpload: progress rises to 1, then the URL; abort() ends as canceled", async () => {
    await mount("Upload");
    const url = await page.evaluate(() => window.hooks.current.up.upload(new Blob([new Uint8Array(3 << 20)], { type: "application/octet-stream" })));
    const last = await until("up", (s) => s.status === "success");
    assert.equal(last.url, url);
    const fracs = (await entries("up")).map((e) => e.progress);
    assert.ok(fracs.every((f, i) => i === 0 || f >= fracs[i - 1]), "progress never goes back");
    assert.equal(last.progress, 1);
    const outcome = await page.evaluate(() => {
      const p = window.hooks.current.up.upload(new Blob([new Uint8Array(40 << 20)]), { multipartThreshold: 8 << 20 });
      setTimeout(() => window.hooks.current.up.abort(), 50);
      return p.then(() => "resolved", (e) => e.kind);
    });
    assert.equal(outcome, "aborted");
    assert.equal((await until("up", (s) => s.status !== "uploading")).status, "canceled");
  });

  test("useValidation: issues follow the input as it changes, without a request per keystroke", async () => {
    await mount("Validation", { endpoint: "fal-ai/flux/dev", input: { prompt: "ok" }, debounceMs: 50 });
    assert.equal((await until("val", (s) => s.valid !== null)).valid, true);
    await page.evaluate(() => {
      const set = window.hooks.current.setInput;
      for (const n of [5, 9, 12, 99]) set({ prompt: "ok", num_images: n });
    });
    const bad = await until("val", (s) => s.valid === false && !s.pending);
    assert.deepEqual(bad.fields, ["num_images:less_than_equal"]);
    await page.evaluate(() => window.hooks.current.setInput({ prompt: "ok", num_images: 2 }));
    assert.deepEqual((await until("val", (s) => s.valid === true && !s.pending)).fields, []);
    // The validator ran once per settled input: the first, the last of 4 quick changes, the fix.
    assert.equal(await page.evaluate(() => window.hooks.validateCalls), 3);
  });

  test("useClientStats counts the client's calls", async () => {
    await mount("Stats");
    await until("stats", (s) => s.calls === 0);
    await page.evaluate(() => window.hooks.current.client.queue.status("fal-ai/flux/dev", { requestId: "00000000-0000-0000-0000-000000000000" }).catch(() => {}));
    assert.ok((await until("stats", (s) => s.calls >= 1)).calls >= 1);
  });

  test("useClientStats(0) refreshes on events only; a wrong interval is a typed config error thrown during render", async () => {
    await mount("Stats", { intervalMs: 0 });
    await until("stats", (s) => s.calls === 0);
    await page.evaluate(() => window.hooks.current.client.queue.status("fal-ai/flux/dev", { requestId: "00000000-0000-0000-0000-000000000000" }).catch(() => {}));
    await until("stats", (s) => s.calls >= 1);
    // No timer: with nothing happening, no more renders.
    const renders = (await entries("stats")).length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await entries("stats")).length, renders, "no refresh without an event");
    for (const bad of [-1, Number.NaN, Infinity, 2 ** 31, "1000", null]) {
      await page.evaluate(() => { window.hooks.unmount(); window.hooks.log.length = 0; });
      await mount("Stats", { intervalMs: bad });
      const thrown = await until("thrown", () => true);
      assert.equal(thrown.name, "GenwireError", String(bad));
      assert.equal(thrown.error.kind, "config", String(bad));
      assert.match(thrown.error.message, /useClientStats: intervalMs must be a number of milliseconds from 0/);
      assert.deepEqual(await entries("stats"), [], "nothing rendered");
    }
  });
});

// Bad options: the typed `config` error the client gives for the same mistake (the core's check,
// `client.checkHook`), in the hook's `error` and the rejection of its action; never thrown during
// a render, nothing sent; the same hook works once its options are fixed.
describe("hooks with bad options", () => {
  const rerender = (props) => page.evaluate((p) => window.hooks.rerender(p), props);
  /** The outcome of an action of the live hook (`fn` run in the page), as a settled promise's. */
  const settle = (fn, arg) => page.evaluate(([src, a]) => new Function("h", "a", `return (${src})(h, a)`)(window.hooks.current, a).then(
    (value) => ({ ok: true, value: typeof value === "string" ? value : typeof value }),
    (e) => ({ ok: false, name: e?.name, kind: e?.kind, message: String(e?.message ?? e) }),
  ), [fn.toString(), arg]);
  /** The hook's logged state once its error is the one with `message` (an earlier error may still be the last). */
  const untilError = async (hook, message) => {
    await page.waitForFunction(([h, m]) => window.hooks.log.filter((e) => e.hook === h).at(-1)?.error?.message === m, [hook, message], { timeout: 15000 });
    return (await entries(hook)).at(-1);
  };
  const pageErrors = [];
  before(() => page.on("pageerror", (e) => pageErrors.push(e.message)));
  beforeEach(() => { pageErrors.length = 0; });

  /**
   * The hook's action `act` refuses `options` with a config GenwireError naming `names`, in its
   * rejection and in the hook's `key` state; with `direct` (the client's own call, run in the page
   * on the same options), the client says the very same.
   */
  async function refusedAsTheClient(key, act, options, names, direct) {
    const r = await settle(act);
    const where = JSON.stringify(options);
    assert.deepEqual([r.ok, r.name, r.kind], [false, "GenwireError", "config"], `${where}: ${r.message}`);
    assert.ok(r.message.includes(names), `${where}: ${r.message}`);
    const state = await untilError(key, r.message);
    assert.equal(state.status, "error", where);
    assert.deepEqual([state.error.kind, state.error.message], ["config", r.message], where);
    if (direct) assert.equal(await page.evaluate(direct, options), r.message, `${where}: the hook says what the client says`);
    return { r, where };
  }

  test("useGeneration: each mistake is the client's config error, in error and in submitAsync's rejection; fixed, it submits", async () => {
    const EP = "fal-ai/flux/dev";
    await mount("Generation", { endpoint: EP, options: { onSuccess: 5 } }, { strict: true });
    const cases = [
      // [options, the option the error names, the same options on client.subscribe (when the call has them)]
      [{ onSuccess: 5 }, "onSuccess"],
      [{ onError: "log" }, "onError"],
      [{ onQueueUpdate: "x" }, "onQueueUpdate", true],
      [{ onEnqueue: {} }, "onEnqueue", true],
      [{ cancelSuperseded: "no" }, "cancelSuperseded"],
      [{ resumeKey: 7 }, "resumeKey"],
      [{ timeout: -1 }, "timeout", true],
      [{ mode: "sse" }, "mode", true],
      [{ signal: "stop" }, "signal", true],
      [{ headers: { "x-fal-key": "0b5f1c2e-1234-4abc-9def-0123456789ab:0123" } }, "x-fal-key", true],
      [{ headers: { "x-session": "Key abc:def" } }, "x-session", true],
      [5, "options must be an object"],
    ];
    const before = (await server.log()).length;
    for (const [options, names, viaClient] of cases) {
      await rerender({ endpoint: EP, options });
      const { r, where } = await refusedAsTheClient("gen", (h) => h.gen.submitAsync({ prompt: "never sent" }), options, names,
        viaClient && ((o) => window.hooks.current.client.subscribe("fal-ai/flux/dev", { ...o, input: { prompt: "never sent" } }).then(() => null, (e) => e.message)));
      // Per call too, with the hook's own options fine.
      await rerender({ endpoint: EP, options: {} });
      const perCall = await settle((h, o) => h.gen.submitAsync({ prompt: "never sent" }, o), options);
      if (typeof options === "object") assert.deepEqual([perCall.kind, perCall.message], ["config", r.message], `${where} per call`);
    }
    assert.deepEqual((await server.log()).slice(before).filter((e) => e.step === "submit"), [], "nothing submitted");
    // Fixed: the same hook submits and succeeds.
    await rerender({ endpoint: EP, options: { onSuccess: "__fn__" } });
    const ok = await settle((h, p) => h.gen.submitAsync({ prompt: p }), uniquePrompt("fixed options"));
    assert.deepEqual(ok, { ok: true, value: "object" });
    assert.equal((await until("gen", (s) => s.status === "success" || s.status === "error")).status, "success");
    assert.deepEqual(pageErrors, [], "nothing thrown in the page");
  });

  test("useGeneration: a bad resume is the hook's error at mount (no throw); submit() never throws", async () => {
    await mount("Generation", { endpoint: "fal-ai/flux/dev", options: { resume: "local" } }, { strict: true });
    const state = await until("gen", (s) => s.status === "error");
    assert.equal(state.error.kind, "config");
    assert.match(state.error.message, /option 'resume' must be "session", true or false/);
    await rerender({ endpoint: "fal-ai/flux/dev", options: {} });
    const sync = await page.evaluate(() => { try { window.hooks.current.gen.submit({ prompt: "x" }, { signal: 42 }); return "returned"; } catch (e) { return `threw ${e}`; } });
    assert.equal(sync, "returned");
    assert.match((await until("gen", (s) => s.status === "error" && /signal/.test(s.error.message))).error.message, /option 'signal' must be an AbortSignal/);
    assert.deepEqual(pageErrors, []);
  });

  test("useStream: callbacks, ranges, headers and signals refused as the client refuses them; nothing streamed; fixed, it streams", async () => {
    const EP = "fal-ai/any-llm";
    const since = (await server.sim("/__sim/log?since=0")).next;
    await mount("Stream", { endpoint: EP, options: { onPartial: 5 } });
    const cases = [
      [{ onPartial: 5 }, "onPartial"],
      [{ onSuccess: "x" }, "onSuccess"],
      [{ stallTimeout: "5s" }, "stallTimeout", true],
      [{ timeout: 0 }, "timeout", true],
      [{ headers: { authorization: "Bearer x" } }, "authorization", true],
      [{ abortSignal: {} }, "abortSignal", true],
      ["fast", "options must be an object"],
    ];
    for (const [options, names, viaClient] of cases) {
      await rerender({ endpoint: EP, options });
      await refusedAsTheClient("stream", (h) => h.stream.startAsync({ prompt: "never sent" }), options, names,
        viaClient && ((o) => window.hooks.current.client.stream("fal-ai/any-llm", { ...o, input: { prompt: "never sent" } }).done().then(() => null, (e) => e.message)));
    }
    assert.equal((await server.log(since)).filter((e) => e.step === "output").length, 0, "nothing streamed");
    await rerender({ endpoint: EP, options: { onPartial: "__fn__", timeout: 20000 } });
    await page.evaluate((p) => window.hooks.current.stream.start({ prompt: p }), uniquePrompt("fixed stream"));
    assert.equal((await until("stream", (s) => s.status === "success" || s.status === "error")).status, "success");
    assert.deepEqual(pageErrors, []);
  });

  test("useRealtime: a bad callback or enabled is the hook's error, no socket; fixed, the next send connects", async () => {
    await rt("faults", undefined, "DELETE");
    const s0 = await rt("stats");
    const EP = "fal-ai/lcm-sd15-i2i";
    await mount("Realtime", { endpoint: EP, options: { throttleInterval: 0, onResult: 5 } }, { strict: true });
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "refused" }));
    const refused = await until("rt", (s) => !!s.error);
    assert.deepEqual([refused.error.kind, refused.status], ["config", "closed"]);
    assert.match(refused.error.message, /option 'onResult' must be a function/);
    await rerender({ endpoint: EP, options: { throttleInterval: 0, enabled: "yes" } });
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "refused again" }));
    assert.match((await until("rt", (s) => /enabled/.test(s.error?.message ?? ""))).error.message, /option 'enabled' must be true or false/);
    assert.equal((await rt("stats")).opened - s0.opened, 0, "no socket for refused options");
    await rerender({ endpoint: EP, options: { throttleInterval: 0, onResult: "__fn__" } });
    await page.evaluate(() => window.hooks.current.rt.send({ prompt: "fixed", seed: 3 }));
    const fixed = await until("rt", (s) => s.lastResult?.seed === 3);
    assert.equal(fixed.status, "open");
    assert.equal((await rt("stats")).opened - s0.opened, 1);
    assert.deepEqual(pageErrors, []);
  });

  test("an unknown option of a hook is warned about once in development, naming the hook, and not again by its call", async () => {
    const warnings = [];
    const listen = (m) => { if (m.type() === "warning" && m.text().includes("cancelSupersede'")) warnings.push(m.text()); };
    page.on("console", listen);
    try {
      await page.evaluate(async () => {
        const c = window.genwire.createClient(); // the sandbox page's genwire: a development build
        await c.checkHook("useGeneration", { cancelSupersede: false });
        await c.checkHook("useGeneration", { cancelSupersede: false });
        // The call the hook then makes (its own options passed on): said already.
        await c.subscribe("fal-ai/flux/dev", { input: { prompt: 5 }, cancelSupersede: false }).catch(() => {});
      });
      await new Promise((r) => setTimeout(r, 100)); // console events arrive after evaluate
    } finally {
      page.off("console", listen);
    }
    assert.deepEqual(warnings, ["genwire: useGeneration() has no option 'cancelSupersede'; it does nothing. Did you mean 'cancelSuperseded'?"]);
  });

  test("useUpload and useValidation: refused options are their error; fixed, they work", async () => {
    await mount("Upload", { options: { onProgress: "x" } });
    let r = await settle((h) => h.up.upload(new Blob(["abc"])));
    assert.deepEqual([r.kind, r.message], ["config", "option 'onProgress' must be a function"]);
    assert.equal((await until("up", (s) => s.status === "error")).error.kind, "config");
    await rerender({ options: {} });
    r = await settle((h) => h.up.upload(new Blob(["abc"]), { signal: "stop" }));
    assert.deepEqual([r.kind, r.message], ["config", "option 'signal' must be an AbortSignal"], "a bad signal per call: a rejection, not a TypeError");
    r = await settle((h) => h.up.upload(new Blob(["abc"]), { lifecycle: { expiresIn: "2h" } }));
    assert.equal(r.kind, "config");
    r = await settle((h) => h.up.upload(new Blob(["abc"])));
    assert.equal(r.ok, true, JSON.stringify(r));

    await mount("Validation", { endpoint: "fal-ai/flux/dev", input: { prompt: "ok" }, options: { debounceMs: -5 } });
    const bad = await until("val", (s) => !!s.error);
    assert.deepEqual([bad.error.kind, bad.error.message], ["config", "option 'debounceMs' must be a number of at least 0"]);
    await rerender({ endpoint: "fal-ai/flux/dev", input: { prompt: "ok" }, options: { debounceMs: 10 } });
    assert.equal((await until("val", (s) => s.valid !== null)).valid, true);
    assert.deepEqual(pageErrors, []);
  });
});
