// What the core decides, seen from a page against the real server: a billed run is not repeated
// after an answer that may hide one; an upload's parts are calls like any other (retried, counted,
// breaker); a fatal realtime close leaves a handle that says so and starts over on reconnect();
// closing a connection in its polling fallback cancels the queued job.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown, uniquePrompt } from "./support/env.mjs";

let server, browser, page;
before(async () => ({ server, browser, page } = await setup(["--latency-ms", "100", "--queue-depth", "0"])));
after(() => teardown({ server, browser }));

const rt = (path, body, method) => server.sim(`/__sim/realtime/${path}`, body, method);
const storage = (path, body, method) => server.sim(`/__sim/storage/${path}`, body, method);
beforeEach(async () => {
  await rt("faults", undefined, "DELETE");
  await storage("faults", undefined, "DELETE");
});

/** Runs `body(client, helpers)` in the page with a client of `clientOptions`, recording its events. */
function inPage(body, arg, clientOptions = {}) {
  return page.evaluate(async ({ src, arg, clientOptions }) => {
    const events = [];
    const client = genwire.createClient({ realtimeUrl: `ws://${location.host}/sim/realtime`, ...clientOptions, onEvent: (e) => events.push({ ...e, error: e.error?.kind }) });
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    const until = async (pred, ms = 5000) => {
      const end = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > end) throw new Error("timed out waiting");
        await wait(10);
      }
    };
    const bytes = (n) => new Uint8Array(n).map((_, i) => (i * 31) & 255);
    // eslint-disable-next-line no-new-func
    const out = await new Function("client", "helpers", "arg", `return (${src})(client, helpers, arg)`)(client, { wait, until, bytes }, arg);
    return { out, events, stats: client.stats() };
  }, { src: body.toString(), arg, clientOptions });
}

const steps = async (since, step) => (await server.log()).slice(since).filter((e) => e.step === step);

describe("a billed run is never repeated after an answer that may hide one", () => {
  const run = (client, _, prompt) => client.run("fal-ai/flux/dev", { input: { prompt, image_size: "square" } }).then(
    (r) => ({ ok: true, id: r.requestId }),
    (e) => ({ ok: false, kind: e.kind, category: e.category, attempts: e.attempts, retryable: e.retryable }),
  );

  // A dropped connection is cut every time: Chromium itself re-sends a request, POST included,
  // when a reused keep-alive connection closes before any answer, once per idle connection it
  // holds to the host (at most 6), and only then reports the failure; genwire must not add
  // attempts of its own (one attempt, one pair of events: asserted below).
  for (const [name, faults, kind, upstream] of [
    ["a gateway 504", { run_error: { example: "gateway/html_504", count: 1 } }, "api", [1, 1]],
    ["a dropped connection", { cut: "run", count: 20 }, "network", [1, 7]],
    ["a 502", { run_error: { example: "gateway/html_502", count: 1 } }, "api", [1, 1]],
  ]) {
    test(`after ${name}: one attempt, the error to the caller`, async () => {
      const prompt = uniquePrompt(name);
      await server.fault(prompt, faults);
      const since = (await server.log()).length;
      const { out, events } = await inPage(run, prompt, { retry: { baseDelayMs: 10 } });
      assert.deepEqual([out.ok, out.kind, out.attempts, out.retryable], [false, kind, 1, true], "retryable in itself, but not repeated: it may have run");
      const runs = (await steps(since, "run")).length;
      assert.ok(runs >= upstream[0] && runs <= upstream[1], `${runs} runs reached the upstream`);
      assert.deepEqual(events.filter((e) => e.call === "run").map((e) => [e.type, e.reason]), [["attempt", undefined], ["error", "may_have_enqueued"]]);
    });
  }

  test("after a 503 that shows nothing ran, it is repeated and succeeds", async () => {
    const prompt = uniquePrompt("run 503");
    await server.fault(prompt, { run_error: { example: "seed002/runner_disconnected", count: 1 } });
    const since = (await server.log()).length;
    const { out, events } = await inPage(run, prompt, { retry: { baseDelayMs: 10 } });
    assert.equal(out.ok, true);
    assert.equal((await steps(since, "run")).length, 2);
    assert.deepEqual(events.filter((e) => e.call === "run").map((e) => e.type), ["attempt", "retry", "attempt", "success"]);
  });
});

describe("an upload's parts are calls like any other", () => {
  // 20 MiB at a 16 MiB threshold: two parts of 10 MiB.
  const upload = (client, { bytes }) => client.storage.upload(new Blob([bytes(20 * 1024 * 1024)]), { multipartThreshold: 16 << 20 }).then(
    (url) => ({ ok: true, url }),
    (e) => ({ ok: false, kind: e.kind }),
  );

  test("a part failing twice is retried, with events and stats", async () => {
    await storage("faults", { fail_part_next: 2 });
    const s0 = await storage("stats");
    const { out, events, stats } = await inPage(upload, undefined, { retry: { baseDelayMs: 10 } });
    assert.equal(out.ok, true, JSON.stringify(out));
    const retries = events.filter((e) => e.type === "retry");
    assert.equal(retries.length, 2);
    for (const r of retries) assert.deepEqual([r.call, r.endpoint, r.error, r.serverNamed], ["upload", "storage", "api", false]);
    const attempts = events.filter((e) => e.type === "attempt" && e.call === "upload");
    assert.equal(attempts.length, 1 + 2 + 2 + 1, "initiate, two parts, their two retries, complete");
    assert.ok(attempts.filter((e) => /\/sim\/upload\/[0-9a-f]+\/[12](\?|$)/.test(e.url)).length === 4, "the part URLs");
    // Each request is a sample: initiate, two parts, complete; two retries among them.
    assert.deepEqual([stats.calls, stats.successes, stats.retries], [4, 4, 2]);
    const s1 = await storage("stats");
    assert.deepEqual([s1.parts - s0.parts, s1.completed - s0.completed], [2, 1]);
  });

  test("the parts go through the storage's breaker: two failures open it, and the upload stops", async () => {
    await storage("faults", { fail_part_next: 2 });
    const { out, events, stats } = await inPage(upload, undefined, { retry: { baseDelayMs: 10 }, circuitBreaker: { failureThreshold: 2, openMs: 60000 } });
    assert.deepEqual(out, { ok: false, kind: "circuit_open" });
    const opened = events.filter((e) => e.type === "breaker").map((e) => [e.endpoint, e.from, e.to]);
    assert.deepEqual(opened, [["storage", "closed", "open"]]);
    assert.equal(stats.breakers.storage.state, "open");
  });
});

describe("realtime: a fatal close leaves a handle that says so", () => {
  test("after a 1011 close, send() throws the typed error and reconnect() starts over", async () => {
    await rt("faults", { close_code_next: { code: 1011, reason: "boom", count: 1 } });
    const s0 = await rt("stats");
    const { out } = await inPage(async (client, { until, wait }) => {
      const seqs = [], errors = [], statuses = [];
      const c = client.realtime.connect("genwire/echo", { throttleInterval: 0, onResult: (r) => seqs.push(r.seq), onError: (e) => errors.push([e.kind, e.status]), onStatus: (s) => statuses.push(s.status) });
      c.send({ seq: 1 });
      await until(() => errors.length === 1);
      let thrown;
      try { c.send({ seq: 2 }); } catch (e) { thrown = { name: e.name, kind: e.kind, status: e.status, category: e.category, says: /reconnect\(\)/.test(e.message) }; }
      const closed = c.status.status;
      c.reconnect();
      await until(() => c.status.status === "open");
      c.send({ seq: 3 });
      await until(() => seqs.includes(3));
      c.close();
      await wait(50);
      return { seqs, errors, statuses, thrown, closed, after: client.realtime.debug() };
    });
    assert.deepEqual(out.errors, [["api", 1011]]);
    assert.deepEqual(out.thrown, { name: "GenwireError", kind: "api", status: 1011, category: "server", says: true });
    assert.equal(out.closed, "closed");
    assert.deepEqual(out.seqs, [1, 3], "nothing of the refused send; the new connection works");
    // The handle's own close() tells no one (it left first), as before.
    assert.deepEqual(out.statuses.slice(out.statuses.indexOf("closed")), ["closed", "idle", "connecting", "open"]);
    assert.equal((await rt("stats")).opened - s0.opened, 2);
    assert.deepEqual(out.after, { connections: 0, sockets: 0, listeners: 0, timers: 0 });
  });

  test("the key is free before anyone hears of the end: a connect from onStatus('closed') is a new connection", async () => {
    await rt("faults", { close_code_next: { code: 1011, count: 1 } });
    const { out } = await inPage(async (client, { until }) => {
      const seqs = [];
      let again = null;
      const c = client.realtime.connect("genwire/echo", {
        connectionKey: "k", throttleInterval: 0,
        onStatus: (s) => {
          if (s.status === "closed" && !again) again = client.realtime.connect("genwire/echo", { connectionKey: "k", throttleInterval: 0, onResult: (r) => seqs.push(r.seq) });
        },
      });
      c.send({ seq: 1 });
      await until(() => again);
      again.send({ seq: 2 });
      await until(() => seqs.includes(2));
      c.close();
      again.close();
      return seqs;
    });
    assert.deepEqual(out, [2]);
  });

  test("closing a connection in its polling fallback cancels the queued job and stops polling", async () => {
    const prompt = uniquePrompt("fallback close");
    await server.fault(prompt, { latency_ms: 20000 });
    await rt("faults", { refuse_next: 5 });
    const jobs = async () => (await fetch(`${server.url}/__sim/jobs?prompt=${encodeURIComponent(prompt)}`)).json();
    await page.evaluate((prompt) => {
      const client = genwire.createClient({ realtimeUrl: `ws://${location.host}/sim/realtime` });
      window.__fb = client.realtime.connect("fal-ai/lcm-sd15-i2i", { reconnect: { baseDelayMs: 10, fallbackAfter: 1, fallbackRetryMs: 60000 } });
      window.__fb.send({ prompt, seed: 1 });
      window.__fbClient = client;
    }, prompt);
    for (let i = 0; i < 100 && (await jobs()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const [job] = await jobs();
    assert.ok(job && !job.canceled, "the input went through the queue");
    assert.equal(await page.evaluate(() => window.__fb.status.status), "fallback");
    await page.evaluate(() => window.__fb.close());
    for (let i = 0; i < 100 && !(await server.job(job.id)).canceled; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await server.job(job.id)).canceled, true, "cancelled upstream");
    const polls = (await server.job(job.id)).status_polls;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await server.job(job.id)).status_polls, polls, "no poll after the close");
    assert.deepEqual(await page.evaluate(() => window.__fbClient.realtime.debug()), { connections: 0, sockets: 0, listeners: 0, timers: 0 });
  });
});
