// Following jobs by their id, in Chromium against the real server: a job submitted outside the page
// (Node's fetch to the proxy, as a server would) followed by `queue.subscribeToStatus` (streaming
// and polling) and `queue.streamStatus` (for-await, break closes the stream); `onEnqueue` on
// `subscribe`; and resuming after a reload (`page.reload()`), with `client.jobs` and with
// `useGeneration({ resume: "session" })`, the simulator counting one submit.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown, uniquePrompt } from "./support/env.mjs";

const ENDPOINT = "fal-ai/flux/dev";
let server, browser, page;
before(async () => ({ server, browser, page } = await setup(["--latency-ms", "900", "--queue-depth", "2", "--queue-step-ms", "200", "--keepalive-ms", "200"])));
after(() => teardown({ server, browser }));

/** Submits a job as a server would (no page involved); returns its request id. */
async function submitOutside(prompt) {
  const r = await fetch(`${server.url}/api/fal/proxy`, {
    method: "POST",
    headers: { "x-fal-target-url": `https://queue.fal.run/${ENDPOINT}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt, image_size: "square", seed: 3 }),
  });
  assert.ok(r.ok, `submit: ${r.status}`);
  const id = (await r.json()).request_id;
  assert.match(id, /\S/);
  return id;
}

/** The upstream calls about one request id since `since`, by step. */
async function steps(id, since = 0) {
  return (await server.log(since)).filter((e) => e.url.includes(id)).map((e) => e.step);
}

/** Runs subscribeToStatus in the page; returns the outcome and every update. */
function follow(requestId, opts = {}) {
  return page.evaluate(async ({ endpoint, requestId, opts }) => {
    const client = genwire.createClient();
    const updates = [];
    try {
      const result = await client.queue.subscribeToStatus(endpoint, { requestId, logs: true, pollInterval: 100, ...opts, onQueueUpdate: (u) => updates.push(structuredClone(u)) });
      return { ok: true, result, updates };
    } catch (e) {
      return { ok: false, error: { name: e.name, kind: e.kind, category: e.category, message: e.message, status: e.status }, updates };
    }
  }, { endpoint: ENDPOINT, requestId, opts });
}

function assertOrdered(updates, id) {
  const phases = updates.map((u) => u.status);
  const rank = { IN_QUEUE: 0, IN_PROGRESS: 1, COMPLETED: 2 };
  assert.equal(phases.at(-1), "COMPLETED", phases.join(","));
  assert.equal(phases.filter((p) => p === "COMPLETED").length, 1, phases.join(","));
  for (let i = 1; i < phases.length; i++) assert.ok(rank[phases[i - 1]] <= rank[phases[i]], `went back: ${phases.join(",")}`);
  assert.ok(updates.every((u) => u.request_id === id), "every update is about the followed job");
}

describe("queue.subscribeToStatus", () => {
  for (const mode of ["streaming", "polling"]) {
    test(`a job submitted outside the page is followed to its result (${mode})`, async () => {
      const since = (await server.sim("/__sim/log?since=0")).next;
      const id = await submitOutside(uniquePrompt(`outside ${mode}`));
      const out = await follow(id, { mode });
      assert.ok(out.ok, JSON.stringify(out.error));
      assert.equal(out.result.requestId, id);
      assert.match(out.result.data.images[0].url, /^http/);
      assertOrdered(out.updates, id);
      assert.ok(out.updates.some((u) => u.status === "IN_QUEUE" || u.status === "IN_PROGRESS"), "followed while it ran");
      assert.ok(out.updates.at(-1).logs.length > 0, "logs merged into the updates");
      const seen = await steps(id, since);
      assert.equal((await server.log(since)).filter((e) => e.step === "submit").length, 1, "the page submitted nothing");
      assert.equal(seen.includes("stream"), mode === "streaming", `${mode}: ${seen.join(",")}`);
      assert.equal(seen.filter((s) => s === "result").length, 1);
    });
  }

  test("a job that finished before it is followed resolves with its result at once", async () => {
    const prompt = uniquePrompt("finished before");
    const id = await submitOutside(prompt);
    for (let i = 0; i < 100 && (await server.job(id)).phase !== "COMPLETED"; i++) await new Promise((r) => setTimeout(r, 100));
    const since = (await server.sim("/__sim/log?since=0")).next;
    const out = await follow(id);
    assert.ok(out.ok, JSON.stringify(out.error));
    assert.deepEqual(out.updates.map((u) => u.status), ["COMPLETED"]);
    assert.equal(out.result.requestId, id);
    assert.deepEqual(await steps(id, since), ["status", "result"], "one status poll, then the result: no stream");
  });

  test("an unknown request id is a typed error; a bad option says which", async () => {
    const out = await follow("00000000-0000-0000-0000-00000000dead");
    assert.equal(out.ok, false);
    assert.equal(out.error.name, "GenwireError");
    assert.equal(out.error.status, 404);
    const bad = await page.evaluate(async () => {
      const client = genwire.createClient();
      const kinds = [];
      for (const o of [{}, { requestId: "a/../b" }, { requestId: "r", input: {} }, { requestId: "r", mode: "sse" }]) {
        try { await client.queue.subscribeToStatus("fal-ai/flux/dev", o); kinds.push("resolved"); } catch (e) { kinds.push(`${e.kind}: ${e.message}`); }
      }
      return kinds;
    });
    assert.match(bad[0], /^config: .*'requestId' is required/);
    assert.match(bad[1], /^config: .*not a valid request id/);
    assert.match(bad[2], /^config: option 'input' is for submitting a job/);
    assert.match(bad[3], /^config: .*'mode'/);
  });

  test("an abort stops following and lets the job run on; a timeout cancels it upstream", async () => {
    const id = await submitOutside(uniquePrompt("let go"));
    const kind = await page.evaluate(async ({ endpoint, id }) => {
      const ctl = new AbortController();
      const p = genwire.createClient().queue.subscribeToStatus(endpoint, { requestId: id, signal: ctl.signal, onQueueUpdate: () => ctl.abort() });
      return p.then(() => "resolved", (e) => e.kind);
    }, { endpoint: ENDPOINT, id });
    assert.equal(kind, "aborted");
    for (let i = 0; i < 100 && (await server.job(id)).outcome === null; i++) await new Promise((r) => setTimeout(r, 100));
    const job = await server.job(id);
    assert.deepEqual([job.canceled, job.outcome], [false, "ok"], "the followed job was not cancelled");

    const slow = uniquePrompt("timed out follow");
    await server.fault(slow, { latency_ms: 60_000 });
    const id2 = await submitOutside(slow);
    const out = await follow(id2, { timeout: 800 });
    assert.equal(out.ok, false);
    assert.equal(out.error.kind, "timeout");
    for (let i = 0; i < 50 && !(await server.job(id2)).canceled; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await server.job(id2)).canceled, true, "a follow that times out cancels, as fal's client does");
  });
});

describe("onEnqueue on subscribe", () => {
  test("called exactly once, with the request id, before any status update", async () => {
    const out = await page.evaluate(async (endpoint) => {
      const events = [];
      const client = genwire.createClient();
      const result = await client.subscribe(endpoint, {
        input: { prompt: `enqueue ${Math.random()}`, image_size: "square", seed: 3 }, pollInterval: 100,
        onEnqueue: (id) => events.push(["enqueue", id]),
        onQueueUpdate: (u) => events.push([u.status, u.request_id]),
      });
      return { events, requestId: result.requestId };
    }, ENDPOINT);
    assert.deepEqual(out.events[0], ["enqueue", out.requestId]);
    assert.equal(out.events.filter((e) => e[0] === "enqueue").length, 1);
    assert.ok(out.events.length > 1 && out.events.slice(1).every((e) => e[1] === out.requestId));
    assert.equal(out.events.at(-1)[0], "COMPLETED");
  });

  test("a throwing onEnqueue ends the call with what it threw, no status follows, and the job is cancelled", async () => {
    const out = await page.evaluate(async (endpoint) => {
      let id;
      let updates = 0;
      try {
        await genwire.createClient().subscribe(endpoint, {
          input: { prompt: `enqueue throws ${Math.random()}`, image_size: "square", seed: 3 },
          onEnqueue: (r) => { id = r; throw new Error("app bug"); },
          onQueueUpdate: () => { updates++; },
        });
        return { id, updates, message: "resolved" };
      } catch (e) {
        return { id, updates, message: e.message };
      }
    }, ENDPOINT);
    assert.equal(out.message, "app bug");
    assert.equal(out.updates, 0, "no update after the throw");
    for (let i = 0; i < 50 && !(await server.job(out.id)).canceled; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await server.job(out.id)).canceled, true);
  });
});

describe("queue.streamStatus", () => {
  test("for await yields the job's statuses until COMPLETED; done() is that status", async () => {
    const id = await submitOutside(uniquePrompt("stream statuses"));
    const out = await page.evaluate(async ({ endpoint, id }) => {
      const stream = genwire.createClient().queue.streamStatus(endpoint, { requestId: id, logs: true });
      const seen = [];
      for await (const s of stream) seen.push(structuredClone(s));
      const done = await stream.done();
      return { seen, done, requestId: stream.requestId };
    }, { endpoint: ENDPOINT, id });
    assertOrdered(out.seen, id);
    assert.equal(out.requestId, id);
    assert.equal(out.done.status, "COMPLETED");
    assert.deepEqual(out.done.logs, out.seen.at(-1).logs);
    assert.equal((await steps(id)).filter((s) => s === "result").length, 0, "statuses only: no result fetched");
  });

  test("break closes the stream (its fetch aborted), the job runs on; errors are thrown typed", async () => {
    const slow = uniquePrompt("break the stream");
    await server.fault(slow, { latency_ms: 4_000 });
    const id = await submitOutside(slow);
    const out = await page.evaluate(async ({ endpoint, id }) => {
      // Every fetch genwire makes, with its target and signal.
      const fetches = [];
      const original = window.fetch;
      window.fetch = function (url, init) {
        fetches.push({ target: new Headers(init?.headers).get("x-fal-target-url") ?? "", signal: init?.signal });
        return original.apply(this, arguments);
      };
      try {
        const stream = genwire.createClient().queue.streamStatus(endpoint, { requestId: id });
        const seen = [];
        for await (const s of stream) {
          seen.push(s.status);
          if (s.status === "IN_PROGRESS") break;
        }
        const after = await stream.next();
        const ended = await stream.done().then(() => "resolved", (e) => e.kind);
        const streams = fetches.filter((f) => f.target.includes(`/requests/${id}/status/stream`));
        return { seen, after, ended, streams: streams.length, allAborted: streams.every((f) => f.signal?.aborted === true) };
      } finally {
        window.fetch = original;
      }
    }, { endpoint: ENDPOINT, id });
    assert.equal(out.seen.at(-1), "IN_PROGRESS");
    assert.equal(out.after.done, true, "nothing after break");
    assert.equal(out.ended, "aborted");
    assert.ok(out.streams >= 1, "a status stream was opened");
    assert.equal(out.allAborted, true, "break closed the stream");
    for (let i = 0; i < 100 && (await server.job(id)).outcome === null; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([(await server.job(id)).canceled, (await server.job(id)).outcome], [false, "ok"], "the job ran on");

    const err = await page.evaluate(async (endpoint) => {
      try {
        for await (const _ of genwire.createClient().queue.streamStatus(endpoint, { requestId: "00000000-0000-0000-0000-00000000beef" })) { /* none */ }
        return "ended";
      } catch (e) {
        return { name: e.name, status: e.status, kind: e.kind };
      }
    }, ENDPOINT);
    assert.equal(err.name, "GenwireError");
    assert.equal(err.status, 404);
  });
});

describe("resuming after a reload", () => {
  const jobsOf = async (prompt) => (await server.sim(`/__sim/jobs?prompt=${encodeURIComponent(prompt)}`));

  test("client.jobs: a page reloaded mid-job follows the same job to its result; one submit", async () => {
    const p = await browser.newPage();
    try {
      await p.goto(`${server.url}/sandbox.html`);
      await p.waitForSelector("body[data-ready=true]");
      const prompt = uniquePrompt("reload jobs");
      await server.fault(prompt, { latency_ms: 3_000 });
      const id = await p.evaluate(({ endpoint, prompt }) => new Promise((resolve, reject) => {
        genwire.createClient().jobs.subscribe(endpoint, { input: { prompt, image_size: "square", seed: 3 }, onEnqueue: resolve }).catch(reject);
      }), { endpoint: ENDPOINT, prompt });
      const stored = await p.evaluate(() => sessionStorage.getItem("genwire:jobs"));
      assert.equal(JSON.parse(stored)[0].requestId, id);
      await p.reload();
      await p.waitForSelector("body[data-ready=true]");
      const out = await p.evaluate(async () => {
        const client = genwire.createClient();
        const resumed = client.jobs.resume({}, { logs: true });
        const results = await Promise.all(resumed.map((j) => j.result));
        return { ids: resumed.map((j) => j.requestId), results, left: client.jobs.list().length, raw: sessionStorage.getItem("genwire:jobs") };
      });
      assert.deepEqual(out.ids, [id]);
      assert.equal(out.results[0].requestId, id);
      assert.match(out.results[0].data.images[0].url, /^http/);
      assert.deepEqual([out.left, out.raw], [0, null], "delivered: forgotten");
      const jobs = await jobsOf(prompt);
      assert.equal(jobs.length, 1, "the simulator counts one submit");
      assert.equal(jobs[0].canceled, false, "the reload did not cancel the job");
    } finally {
      await p.close();
    }
  });

  /** A page with the hooks fixture. */
  async function hooksPage(p) {
    await p.waitForSelector("body[data-ready=true]");
    await p.addScriptTag({ url: "/dist/hooks-fixture.js", type: "module" });
    await p.waitForSelector("body[data-hooks=ready]");
  }
  const lastGen = (p) => p.evaluate(() => window.hooks.log.filter((e) => e.hook === "gen").at(-1));
  async function untilGen(p, pred) {
    await p.waitForFunction((src) => {
      const last = window.hooks.log.filter((e) => e.hook === "gen").at(-1);
      return last && new Function("s", `return (${src})(s)`)(last);
    }, pred.toString(), { timeout: 20_000 });
    return lastGen(p);
  }

  for (const when of ["reloaded mid-job", "left mid-job, back after it finished"]) {
    test(`useGeneration({ resume: "session" }): ${when}, the same job's result shows without a new submit (StrictMode)`, async () => {
      const p = await browser.newPage();
      try {
        await p.goto(`${server.url}/sandbox.html`);
        await hooksPage(p);
        const prompt = uniquePrompt(`reload hook ${when}`);
        await server.fault(prompt, { latency_ms: 3_000 });
        const props = { endpoint: ENDPOINT, options: { resume: "session" } };
        await p.evaluate((props) => window.hooks.mount("Generation", props, { strict: true }), props);
        await p.evaluate((prompt) => window.hooks.current.gen.submit({ prompt, image_size: "square", seed: 3 }), prompt);
        const running = await untilGen(p, (s) => (s.status === "queued" || s.status === "running") && !!s.requestId);
        const id = running.requestId;
        assert.notEqual((await server.job(id)).phase, "COMPLETED", "still running when the page goes");
        if (when === "reloaded mid-job") {
          await p.reload();
        } else {
          // Away (another page in the same tab) while the job finishes, then back: sessionStorage stays.
          await p.goto("about:blank");
          for (let i = 0; i < 100 && (await server.job(id)).phase !== "COMPLETED"; i++) await new Promise((r) => setTimeout(r, 100));
          assert.equal((await server.job(id)).phase, "COMPLETED");
          await p.goto(`${server.url}/sandbox.html`);
        }
        await hooksPage(p);
        await p.evaluate((props) => window.hooks.mount("Generation", props, { strict: true }), props);
        const last = await untilGen(p, (s) => s.status === "success" || s.status === "error");
        assert.equal(last.status, "success", JSON.stringify(last.error));
        assert.equal(last.requestId, id, "the same job");
        assert.match(last.data.images[0].url, /^http/);
        const statuses = (await p.evaluate(() => window.hooks.log.filter((e) => e.hook === "gen").map((e) => e.status)));
        assert.ok(!statuses.includes("submitting"), `no submit after the reload: ${statuses.join(",")}`);
        assert.ok(statuses.includes("resuming"), statuses.join(","));
        const jobs = await jobsOf(prompt);
        assert.equal(jobs.length, 1, "the simulator counts one submit");
        assert.equal(jobs[0].canceled, false, "neither the reload nor StrictMode's unmount cancelled it");
        assert.equal(await p.evaluate(() => sessionStorage.getItem("genwire:jobs")), null, "delivered: forgotten");
      } finally {
        await p.close();
      }
    });
  }

  test("a corrupt stored entry is ignored: the hook mounts idle and works", async () => {
    const p = await browser.newPage();
    try {
      await p.goto(`${server.url}/sandbox.html`);
      await p.evaluate(() => sessionStorage.setItem("genwire:jobs", "{corrupt"));
      await p.reload();
      await hooksPage(p);
      const errors = [];
      p.on("pageerror", (e) => errors.push(e.message));
      await p.evaluate((endpoint) => window.hooks.mount("Generation", { endpoint, options: { resume: "session" } }), ENDPOINT);
      await p.evaluate((prompt) => window.hooks.current.gen.submit({ prompt, image_size: "square", seed: 3 }), uniquePrompt("after corrupt"));
      const last = await untilGen(p, (s) => s.status === "success" || s.status === "error");
      assert.equal(last.status, "success", JSON.stringify(last.error));
      assert.deepEqual(errors, []);
    } finally {
      await p.close();
    }
  });
});
