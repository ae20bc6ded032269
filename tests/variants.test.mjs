// genwire against every variant the simulator can produce where fal's public sources leave a point
// open (shared/reference/fal-protocol.md: "the client must cope with every plausible answer"):
// stream logs as deltas (fal's default) or snapshots, polling windows shorter than the job, a
// fallback from one to the other mid-job, a submit answer without `status`, status polls always
// 200, the cancel answer's codes, a part's etag only in the `ETag` header, unsigned upload URLs.
// The conformance suite covers fal's defaults with the official client beside genwire; this one
// runs genwire alone against the rest, each on a server of its own (the variants are server-wide).
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, openPage, startServer, uniquePrompt } from "./support/env.mjs";

let server, browser, page;
before(async () => {
  [server, browser] = await Promise.all([startServer(["--latency-ms", "900", "--queue-depth", "1", "--queue-step-ms", "150"]), launchBrowser()]);
  page = await openPage(browser, server.url);
});
after(async () => {
  await browser?.close();
  server?.close();
});
afterEach(() => server.sim("/__sim/config", undefined, "DELETE"));

const steps = (n) => Array.from({ length: n }, (_, k) => `step ${k + 1}/${n}`);

/** subscribe in the page; every update's log messages, and the outcome. */
function subscribe(prompt, options = {}) {
  return page.evaluate(async ({ prompt, options }) => {
    const client = genwire.createClient({ validation: false });
    const updates = [];
    try {
      const r = await client.subscribe("fal-ai/flux/dev", {
        input: { prompt, image_size: "square" },
        logs: true,
        ...options,
        onQueueUpdate: (u) => updates.push({ status: u.status, logs: Array.isArray(u.logs) ? u.logs.map((l) => l.message) : null }),
      });
      return { ok: true, id: r.requestId, updates, images: r.data.images?.length };
    } catch (e) {
      return { ok: false, error: { kind: e.kind, message: e.message }, updates };
    }
  }, { prompt, options });
}

/** Each update's logs extend the previous ones (nothing dropped, repeated or reordered); the last has all. */
function assertLogsGrow(updates, expected) {
  let before = [];
  for (const u of updates) {
    if (u.logs === null) continue;
    assert.deepEqual(u.logs.slice(0, before.length), before, `an update took lines back: ${JSON.stringify(u.logs)}`);
    before = u.logs;
  }
  assert.deepEqual(before, expected);
}

describe("logs, whatever shape the queue sends them in", () => {
  test("stream snapshots (every line so far in each event): all 12 lines once each, in order", async () => {
    await server.config({ stream_logs: "snapshot" });
    const prompt = uniquePrompt("snapshot");
    await server.fault(prompt, { log_lines: 12 });
    const r = await subscribe(prompt, { mode: "streaming" });
    assert.ok(r.ok, JSON.stringify(r.error));
    assertLogsGrow(r.updates, steps(12));
    assert.equal((await server.job(r.id)).status_polls, 0, "streamed to the end, no polls");
  });

  test("polling with a window shorter than the job: every line written inside a window is kept", async () => {
    // Lines every 75 ms; each poll (every 100 ms) sees the last 400 ms: windows overlap, the job's
    // early lines leave the window long before it ends.
    await server.config({ log_window_ms: 400 });
    const prompt = uniquePrompt("window");
    await server.fault(prompt, { log_lines: 16, latency_ms: 1200 });
    const r = await subscribe(prompt, { mode: "polling", pollInterval: 100 });
    assert.ok(r.ok, JSON.stringify(r.error));
    assertLogsGrow(r.updates, steps(16));
  });

  test("deltas on the stream, a cut, then polling windows: all lines once each across the fallback", async () => {
    await server.config({ log_window_ms: 600 });
    const prompt = uniquePrompt("fallback");
    await server.fault(prompt, { log_lines: 20, latency_ms: 1500, stream_cut_after: 4 });
    const r = await subscribe(prompt, { mode: "streaming", pollInterval: 100 });
    assert.ok(r.ok, JSON.stringify(r.error));
    assertLogsGrow(r.updates, steps(20));
    assert.ok((await server.job(r.id)).status_polls > 0, "it did fall back to polling");
  });
});

describe("answers the sources leave open", () => {
  test("a submit answer without status; status polls that are always 200", async () => {
    await server.config({ submit_status: false, status_202: false });
    for (const mode of ["streaming", "polling"]) {
      const prompt = uniquePrompt(`variant-${mode}`);
      await server.fault(prompt, { queue_depth: 6 }); // 2.4 s queued: the first status read finds it queued even on a loaded machine
      const r = await subscribe(prompt, { mode, pollInterval: 100 });
      assert.ok(r.ok, `${mode}: ${JSON.stringify(r.error)}`);
      assert.equal(r.images, 1);
      assert.deepEqual([...new Set(r.updates.map((u) => u.status))], ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"], mode);
    }
    const sub = await page.evaluate(() => genwire.createClient({ validation: false }).queue.submit("fal-ai/flux/dev", { input: { prompt: "no status" } }));
    assert.equal(sub.status, undefined, "the answer is passed on as fal sent it");
    assert.match(sub.request_id, /^[0-9a-f-]{36}$/);
  });

  test("cancel answers with fal's codes, and with other codes for the same statuses", async () => {
    const cancels = (codes) => page.evaluate(async () => {
      const client = genwire.createClient({ validation: false, retry: false });
      const outcome = (p) => p.then((v) => ["ok", v.status], (e) => [e.kind, e.status, e.category]);
      const running = await client.queue.submit("fal-ai/flux/dev", { input: { prompt: "cancel me" } });
      const first = await outcome(client.queue.cancel("fal-ai/flux/dev", { requestId: running.request_id }));
      const again = await outcome(client.queue.cancel("fal-ai/flux/dev", { requestId: running.request_id }));
      const unknown = await outcome(client.queue.cancel("fal-ai/flux/dev", { requestId: "00000000-0000-4000-8000-000000000000" }));
      return { first, again, unknown };
    });
    assert.deepEqual(await cancels(), {
      first: ["ok", "CANCELLATION_REQUESTED"],
      again: ["api", 400, "bad_request"],
      unknown: ["api", 404, "not_found"],
    });
    await server.config({ cancel_codes: { requested: 200, already_completed: 200, not_found: 200 } });
    assert.deepEqual(await cancels(), {
      first: ["ok", "CANCELLATION_REQUESTED"],
      again: ["ok", "ALREADY_COMPLETED"],
      unknown: ["ok", "NOT_FOUND"],
    });
  });
});

describe("uploads", () => {
  const upload = (mib) => page.evaluate(async (mib) => {
    const data = new Uint8Array(mib << 20);
    for (let i = 0; i < data.length; i += 997) data[i] = (i >> 10) & 255;
    const url = await genwire.createClient().storage.upload(new Blob([data]), { multipartThreshold: 16 << 20 });
    const back = new Uint8Array(await (await fetch(url)).arrayBuffer());
    let same = back.length === data.length;
    for (let i = 0; same && i < data.length; i += 997) same = back[i] === data[i];
    return same;
  }, mib);
  const storage = (path, body) => server.sim(`/__sim/storage/${path}`, body);

  test("a part's etag only in the ETag header (fal's CDN path, as the Python client reads it)", async () => {
    await storage("config", { etag_in_body: false });
    try {
      assert.equal(await upload(21), true, "reassembled byte for byte");
    } finally {
      await storage("config", { etag_in_body: true });
    }
  });

  test("an upload URL without a signature query", async () => {
    await storage("config", { signed_urls: false });
    try {
      assert.equal(await upload(21), true, "reassembled byte for byte");
    } finally {
      await storage("config", { signed_urls: true });
    }
  });
});
