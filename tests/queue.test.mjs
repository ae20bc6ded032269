// Queue jobs end to end: the JS API in Chromium -> our proxy -> the simulated upstream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown, uniquePrompt } from "./support/env.mjs";

let server, browser, page;
before(async () => ({ server, browser, page } = await setup(["--latency-ms", "600", "--queue-depth", "2", "--queue-step-ms", "150", "--keepalive-ms", "200"])));
after(() => teardown({ server, browser }));

/** Runs subscribe in the page; returns the outcome and every update the callback saw. */
function subscribe(prompt, opts = {}) {
  return page.evaluate(async ({ prompt, opts }) => {
    const client = genwire.createClient({ proxyUrl: "/api/fal/proxy" });
    const updates = [];
    try {
      const result = await client.subscribe("fal-ai/flux/dev", {
        input: { prompt, image_size: "square", seed: 3 }, logs: true, pollInterval: 100, ...opts,
        onQueueUpdate: (u) => updates.push(structuredClone(u)),
      });
      return { ok: true, result, updates };
    } catch (e) {
      return { ok: false, error: { name: e.name, kind: e.kind, message: e.message, status: e.status, retryable: e.retryable, body: e.body, issues: e.issues }, updates };
    }
  }, { prompt, opts });
}

const RANK = { IN_QUEUE: 0, IN_PROGRESS: 1, COMPLETED: 2 };

/** One ordered sequence: starts queued, never goes back, no repeats, one COMPLETED at the end. */
function assertOrdered(updates) {
  const phases = updates.map((u) => u.status);
  assert.equal(phases[0], "IN_QUEUE", phases.join(","));
  assert.ok(phases.includes("IN_PROGRESS"), phases.join(","));
  assert.equal(phases.at(-1), "COMPLETED", phases.join(","));
  assert.equal(phases.filter((p) => p === "COMPLETED").length, 1);
  for (let i = 1; i < updates.length; i++) {
    const [a, b] = [updates[i - 1], updates[i]];
    assert.ok(RANK[a.status] <= RANK[b.status], `went back: ${phases.join(",")}`);
    if (a.status === b.status && a.status === "IN_QUEUE") assert.notEqual(a.queue_position, b.queue_position, "repeated queue position");
    if (a.status === b.status && a.status === "IN_PROGRESS") assert.ok((b.logs?.length ?? 0) > (a.logs?.length ?? 0), "repeated progress");
  }
  const ids = new Set(updates.map((u) => u.request_id));
  assert.equal(ids.size, 1, "all updates are about one request");
}

async function assertImageLoads(url) {
  assert.ok(url.startsWith(server.url), `image is served by the page's origin: ${url}`);
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "image/png");
  const bytes = new Uint8Array(await r.arrayBuffer());
  assert.deepEqual([...bytes.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
}

const requestsOf = (entries, id, suffix) => entries.filter((e) => e.url.includes(`/requests/${id}${suffix}`));

describe("subscribe", () => {
  test("streams live status to a generated image", async () => {
    const since = (await server.log()).length;
    const r = await subscribe(uniquePrompt("stream"));
    assert.ok(r.ok, JSON.stringify(r.error));
    assertOrdered(r.updates);
    assert.equal(r.result.data.images[0].width, 512);
    await assertImageLoads(r.result.data.images[0].url);
    const id = r.result.requestId;
    const log = (await server.log()).slice(since);
    assert.equal(requestsOf(log, id, "/status/stream").length, 1, "one stream");
    assert.equal(requestsOf(log, id, "/status?").length, 0, "no polling while the stream works");
  });

  test("the stream cut mid-job: the result still arrives through polling", async () => {
    const prompt = uniquePrompt("cut");
    await server.fault(prompt, { stream_cut_after: 2 });
    const r = await subscribe(prompt);
    assert.ok(r.ok, JSON.stringify(r.error));
    assertOrdered(r.updates);
    await assertImageLoads(r.result.data.images[0].url);
    const log = await server.log();
    assert.ok(requestsOf(log, r.result.requestId, "/status?").length >= 1, "polled after the cut");
  });

  test("the stream stalls (no event, no keep-alive): polling takes over after the window", async () => {
    const prompt = uniquePrompt("stall");
    await server.fault(prompt, { stream_stall_after: 1 });
    const r = await subscribe(prompt, { streamStallTimeout: 500 });
    assert.ok(r.ok, JSON.stringify(r.error));
    assertOrdered(r.updates);
    assert.ok(requestsOf(await server.log(), r.result.requestId, "/status?").length >= 1);
  });

  test("keep-alives alone keep a quiet stream (no needless fallback)", async () => {
    const prompt = uniquePrompt("quiet");
    // The job waits 1.5 s in one queue position: only keep-alives (every 200 ms) arrive meanwhile.
    await server.fault(prompt, { queue_depth: 1, latency_ms: 300 });
    await server.config({ queue_step_ms: 1500 });
    try {
      const r = await subscribe(prompt, { streamStallTimeout: 700 });
      assert.ok(r.ok, JSON.stringify(r.error));
      assert.equal(requestsOf(await server.log(), r.result.requestId, "/status?").length, 0);
    } finally {
      await server.config({ queue_step_ms: 150 });
    }
  });

  test("a stream that can't open (HTTP 500) falls back at once", async () => {
    const prompt = uniquePrompt("refused");
    await server.fault(prompt, { stream_status: 500 });
    const r = await subscribe(prompt);
    assert.ok(r.ok, JSON.stringify(r.error));
    assertOrdered(r.updates);
  });

  test("polling mode never opens a stream", async () => {
    const r = await subscribe(uniquePrompt("poll"), { mode: "polling" });
    assert.ok(r.ok, JSON.stringify(r.error));
    assertOrdered(r.updates);
    const log = await server.log();
    assert.equal(requestsOf(log, r.result.requestId, "/status/stream").length, 0);
    assert.ok(requestsOf(log, r.result.requestId, "/status?").length >= 2);
  });

  test("transient status failures are retried while polling", async () => {
    const prompt = uniquePrompt("flaky");
    await server.fault(prompt, { status_fail_times: 2 });
    const r = await subscribe(prompt, { mode: "polling" });
    assert.ok(r.ok, JSON.stringify(r.error));
    assertOrdered(r.updates);
  });

  test("timeout rejects with kind 'timeout' and cancels the job upstream", async () => {
    const prompt = uniquePrompt("slow");
    await server.fault(prompt, { latency_ms: 20000 });
    const r = await subscribe(prompt, { timeout: 700 });
    assert.equal(r.ok, false);
    assert.equal(r.error.name, "GenwireError");
    assert.equal(r.error.kind, "timeout");
    const id = r.updates[0].request_id;
    await waitFor(async () => (await server.job(id)).canceled === true, "cancel reached upstream");
  });

  test("abort rejects with kind 'aborted', cancels upstream, and stops all traffic", async () => {
    const prompt = uniquePrompt("abort");
    await server.fault(prompt, { latency_ms: 20000 });
    const out = await page.evaluate(async (prompt) => {
      const client = genwire.createClient();
      const ctl = new AbortController();
      let id;
      try {
        await client.subscribe("fal-ai/flux/dev", {
          input: { prompt }, signal: ctl.signal,
          onQueueUpdate: (u) => { id = u.request_id; if (u.status === "IN_PROGRESS") ctl.abort(); },
        });
        return { ok: true };
      } catch (e) {
        return { ok: false, kind: e.kind, id };
      }
    }, prompt);
    assert.deepEqual([out.ok, out.kind], [false, "aborted"]);
    await waitFor(async () => (await server.job(out.id)).canceled === true, "cancel reached upstream");
    const before = (await server.log()).length;
    await new Promise((r) => setTimeout(r, 600));
    const later = (await server.log()).slice(before).filter((e) => e.url.includes(out.id));
    assert.deepEqual(later, [], "no request for the job after the abort settled");
  });

  test("an already aborted signal rejects before any request", async () => {
    const before = (await server.log()).length;
    const kind = await page.evaluate(async () => {
      const ctl = new AbortController();
      ctl.abort();
      return genwire.createClient().subscribe("fal-ai/flux/dev", { input: { prompt: "x" }, signal: ctl.signal }).catch((e) => e.kind);
    });
    assert.equal(kind, "aborted");
    assert.equal((await server.log()).length, before);
  });

  test("a throwing onQueueUpdate rejects the call with that error and cancels the job", async () => {
    const prompt = uniquePrompt("throws");
    await server.fault(prompt, { latency_ms: 20000 });
    const out = await page.evaluate(async (prompt) => {
      let id;
      const err = await genwire.createClient().subscribe("fal-ai/flux/dev", {
        input: { prompt },
        onQueueUpdate: (u) => { id = u.request_id; throw new TypeError("boom in callback"); },
      }).then(() => null, (e) => e);
      return { message: err?.message, isTypeError: err instanceof TypeError, id };
    }, prompt);
    assert.deepEqual([out.message, out.isTypeError], ["boom in callback", true]);
    await waitFor(async () => (await server.job(out.id)).canceled === true, "cancel reached upstream");
  });

  test("a failed result rejects with the server's status and body", async () => {
    const prompt = uniquePrompt("fails");
    const body = { detail: [{ loc: ["body"], msg: "Internal server error", type: "internal_server_error", url: "https://docs.fal.ai/errors/#internal_server_error" }] };
    await server.fault(prompt, { result_error: { status: 500, headers: { "x-fal-retryable": "false" }, body } });
    const r = await subscribe(prompt);
    assert.equal(r.ok, false);
    assert.deepEqual([r.error.kind, r.error.status, r.error.retryable, r.error.message], ["api", 500, false, "Internal server error"]);
    assert.deepEqual(r.error.body, body);
  });

  test("a rejected submit rejects without polling", async () => {
    const prompt = uniquePrompt("bad submit");
    await server.fault(prompt, { submit_error: { status: 422, body: { detail: [{ loc: ["body", "prompt"], msg: "bad", type: "value_error" }] } } });
    const r = await subscribe(prompt);
    assert.deepEqual([r.ok, r.error.kind, r.error.status, r.updates.length], [false, "validation", 422, 0]);
    assert.deepEqual(r.error.issues.map((i) => [i.field, i.type, i.msg]), [["prompt", "value_error", "bad"]]);
  });
});

describe("queue calls one by one", () => {
  test("submit, status, result, and cancel after completion", async () => {
    const out = await page.evaluate(async (prompt) => {
      const { queue } = genwire.createClient();
      const sub = await queue.submit("fal-ai/flux/dev", { input: { prompt, image_size: "square" } });
      let st;
      do {
        await new Promise((r) => setTimeout(r, 100));
        st = await queue.status("fal-ai/flux/dev", { requestId: sub.request_id, logs: true });
      } while (st.status !== "COMPLETED");
      const res = await queue.result("fal-ai/flux/dev", { requestId: sub.request_id });
      const late = await queue.cancel("fal-ai/flux/dev", { requestId: sub.request_id }).catch((e) => ({ kind: e.kind, status: e.status }));
      return { sub, st, res, late };
    }, uniquePrompt("manual"));
    assert.equal(out.sub.status, "IN_QUEUE");
    assert.match(out.sub.status_url, /\/fal-ai\/flux\/requests\//);
    assert.ok(out.st.logs.length > 0);
    assert.equal(out.res.requestId, out.sub.request_id);
    assert.equal(out.res.data.images.length, 1);
    assert.deepEqual(out.late, { kind: "api", status: 400 });
  });

  test("cancel while queued: the job ends as cancelled", async () => {
    const prompt = uniquePrompt("cancel");
    await server.fault(prompt, { latency_ms: 20000 });
    const out = await page.evaluate(async (prompt) => {
      const { queue } = genwire.createClient();
      const sub = await queue.submit("fal-ai/flux/dev", { input: { prompt } });
      const c = await queue.cancel("fal-ai/flux/dev", { requestId: sub.request_id });
      const res = await queue.result("fal-ai/flux/dev", { requestId: sub.request_id }).catch((e) => ({ kind: e.kind, status: e.status, errorType: e.errorType }));
      return { id: sub.request_id, c, res };
    }, prompt);
    assert.equal(out.c.status, "CANCELLATION_REQUESTED");
    assert.equal((await server.job(out.id)).canceled, true);
    assert.deepEqual(out.res, { kind: "api", status: 499, errorType: "client_cancelled" });
  });

  test("run returns the output directly", async () => {
    const r = await page.evaluate(() => genwire.createClient().run("fal-ai/flux/dev", { input: { prompt: "run", image_size: "square" } }));
    assert.equal(r.data.images[0].content_type, "image/png");
  });

  test("bad arguments reject with kind 'config' and send nothing", async () => {
    const before = (await server.log()).length;
    const kinds = await page.evaluate(async () => {
      const c = genwire.createClient();
      const k = (p) => p.then(() => "resolved", (e) => `${e.kind}: ${e.message}`);
      return [
        await k(c.subscribe("fal-ai//dev", { input: {} })),
        await k(c.queue.status("fal-ai/flux/dev", { requestId: "../../etc" })),
        await k(c.subscribe("fal-ai/flux/dev", { input: "not an object" })),
        await k(c.subscribe("fal-ai/flux/dev", { input: {}, mode: "carrier-pigeon" })),
        await k(c.subscribe("fal-ai/flux/dev", { input: {}, pollInterval: -5 })),
      ];
    });
    for (const k of kinds) assert.match(k, /^config: /);
    assert.equal((await server.log()).length, before);
  });
});

describe("the proxy boundary", () => {
  test("no authorization header and no origin but the page's own", async () => {
    const seen = [];
    const onRequest = async (req) => seen.push({ url: req.url(), headers: await req.allHeaders() });
    page.on("request", onRequest);
    try {
      const r = await subscribe(uniquePrompt("boundary"));
      assert.ok(r.ok, JSON.stringify(r.error));
      await page.evaluate((u) => new Promise((res) => { const i = new Image(); i.onload = i.onerror = res; i.src = u; }), r.result.data.images[0].url);
    } finally {
      page.off("request", onRequest);
    }
    assert.ok(seen.length >= 4, `saw ${seen.length} requests`);
    const origin = new URL(server.url).origin;
    for (const { url, headers } of seen) {
      assert.equal(new URL(url).origin, origin, url);
      assert.equal(headers.authorization, undefined, `authorization sent to ${url}`);
    }
    const proxied = seen.filter((s) => new URL(s.url).pathname === "/api/fal/proxy");
    assert.ok(proxied.length >= 3);
    // The queue, and the endpoint's public schema for client-side validation.
    const targets = proxied.map((s) => s.headers["x-fal-target-url"]);
    for (const t of targets) assert.match(t, /^https:\/\/queue\.fal\.run\/|^https:\/\/fal\.ai\/api\/openapi\/queue\/openapi\.json\?endpoint_id=fal-ai%2Fflux%2Fdev$/);
  });

  test("the proxy added the key: the simulator saw a valid authorization", async () => {
    const entries = await server.log();
    assert.ok(entries.length > 0);
    for (const e of entries) assert.equal(e.headers.authorization, "<redacted:present>", e.url);
  });

  test("a key in the options is refused synchronously once loaded", async () => {
    const msgs = await page.evaluate(() => ["credentials", "apiKey", "FAL_KEY"].map((k) => {
      try { genwire.createClient({ [k]: "fal-123:abc" }); return "accepted"; } catch (e) { return `${e.kind}`; }
    }));
    assert.deepEqual(msgs, ["config", "config", "config"]);
    const direct = await page.evaluate(() => { try { genwire.createClient({ proxyUrl: "https://queue.fal.run" }); return "accepted"; } catch (e) { return e.kind; } });
    assert.equal(direct, "config");
  });
});

async function waitFor(check, what, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting: ${what}`);
}

describe("submit options reach the upstream as fal expects", () => {
  test("webhookUrl, priority, startTimeout (as given) and hint; startTimeout of 1 or less is refused", async () => {
    const since = (await server.log()).length;
    const prompt = uniquePrompt("extras");
    const out = await page.evaluate(async (prompt) => {
      const client = genwire.createClient();
      const sub = await client.queue.submit("fal-ai/flux/dev", {
        input: { prompt, image_size: "square" },
        webhookUrl: "https://app.example/hooks/fal?job=1&x=a b",
        priority: "low",
        startTimeout: 2.5,
        hint: "runner-7",
      });
      const refused = [];
      for (const startTimeout of [1, 0.5, -3, "10"]) {
        refused.push(await client.queue.submit("fal-ai/flux/dev", { input: { prompt }, startTimeout }).then(() => "sent", (e) => [e.kind, /startTimeout/.test(e.message)]));
      }
      const badPriority = await client.queue.submit("fal-ai/flux/dev", { input: { prompt }, priority: "high" }).then(() => "sent", (e) => e.kind);
      return { id: sub.request_id, refused, badPriority };
    }, prompt);
    assert.deepEqual(out.refused, [["config", true], ["config", true], ["config", true], ["config", true]]);
    assert.equal(out.badPriority, "config");
    const submits = (await server.log(since)).filter((e) => e.step === "submit");
    assert.equal(submits.length, 1, "nothing refused reached the upstream");
    const [s] = submits;
    assert.equal(s.url, "https://queue.fal.run/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fapp.example%2Fhooks%2Ffal%3Fjob%3D1%26x%3Da%20b");
    assert.equal(s.headers["x-fal-queue-priority"], "low");
    assert.equal(s.headers["x-fal-request-timeout"], "2.5");
    assert.equal(s.headers["x-fal-runner-hint"], "runner-7");
    const job = await server.job(out.id);
    assert.deepEqual([job.webhook, job.priority], ["https://app.example/hooks/fal?job=1&x=a b", "low"]);
  });
});
