// Subscribe: latency as users feel it with realistic jobs (1–6 s of model time after 0–2 queue
// steps, a seeded draw, per-job faults on the simulator), in the page's clock; and memory after
// many subscribe cycles (on the server's zero-latency default).
import { benchPage, loadClient, memory, stats } from "./harness.mjs";

const ENDPOINT = "fal-ai/flux/dev";

/** Runs `n` subscribes in the page, `concurrency` at a time (used for the memory figure). */
function runJobs(page, { n, concurrency, prompt, options }) {
  return page.evaluate(async ({ n, concurrency, prompt, options, endpoint }) => {
    const { client } = window.bench;
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        await client.subscribe(endpoint, { input: { prompt }, ...options });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }, { n, concurrency, prompt, options, endpoint: ENDPOINT });
}

export const MODES = [
  { key: "genwireStreaming", kind: "genwire", label: "genwire, streaming (its default)", options: { mode: "streaming" } },
  { key: "genwirePolling", kind: "genwire", label: "genwire, polling (pollInterval default 500 ms)", options: { mode: "polling" } },
  { key: "theirsStreaming", kind: "theirs", label: "theirs, streaming", options: { mode: "streaming" } },
  { key: "theirsPolling", kind: "theirs", label: "theirs, polling (its default; pollInterval default 500 ms)", options: { mode: "polling" } },
];

/** mulberry32: a seeded draw, so every run (and every mode) gets the same jobs. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` jobs: a model run of 1–6 s (uniform) after 0–2 queue steps, drawn from `seed`. */
export function drawJobs(n, seed, queueStepMs) {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const latencyMs = 1000 + Math.floor(r() * 5000);
    const queueDepth = Math.floor(r() * 3);
    return { latencyMs, queueDepth, queueMs: queueDepth * queueStepMs, durationMs: queueDepth * queueStepMs + latencyMs };
  });
}

/**
 * The offset from the page's clock to the simulator's (`server = page + offset`), from the
 * quickest of `n` reads of `/__sim/now` around a round trip (error at most half that round trip),
 * and the round trip of a status request through the proxy (what fetching a result costs).
 */
function clocks(page, statusUrl) {
  return page.evaluate(async (statusUrl) => {
    const now = () => performance.timeOrigin + performance.now();
    let best = { rtt: Infinity, offset: 0 };
    for (let i = 0; i < 25; i++) {
      const t0 = now();
      const { epoch_ms } = await (await window.benchFetch("/__sim/now", { cache: "no-store" })).json();
      const t1 = now();
      if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: epoch_ms - (t0 + t1) / 2 };
    }
    const proxy = [];
    for (let i = 0; i < 25; i++) {
      const t0 = now();
      const r = await window.benchFetch("/api/fal/proxy", { headers: { "x-fal-target-url": statusUrl } });
      await r.text();
      proxy.push(now() - t0);
    }
    proxy.sort((a, b) => a - b);
    return { offsetMs: best.offset, offsetErrorMs: best.rtt / 2, proxyRoundTripMs: proxy[Math.floor(proxy.length / 2)] };
  }, statusUrl);
}

/**
 * Subscribe latency with realistic jobs, in the page's clock. Each mode runs the same drawn
 * jobs in its own browser context (its own connection pool), `concurrency` at a time; the modes
 * run side by side. Per job: submit → first IN_PROGRESS the app sees (`onQueueUpdate`), and the
 * job's completion (the simulator's time, moved to the page's clock by the measured offset) → the
 * promise resolving. Requests: every `fetch` the page made for the jobs, divided by the jobs.
 */
export async function latency(browser, server, assets, { jobs, concurrency, seed = 18 }) {
  const { queue_step_ms: queueStepMs } = await server.sim("/__sim/config");
  const drawn = drawJobs(jobs, seed, queueStepMs);
  const runMode = async (mode) => {
    const { page, close } = await benchPage(browser, server);
    // Counts every fetch the client makes (installed before it loads, so it can't hold the original).
    await page.evaluate(() => {
      const original = window.fetch.bind(window);
      window.benchFetch = original;
      window.benchRequests = 0;
      window.fetch = (...a) => {
        window.benchRequests++;
        return original(...a);
      };
    });
    await loadClient(page, assets, mode.kind);
    const tag = `bench latency ${mode.key} ${process.pid} ${Date.now()}`;
    // A warm-up job (connections, the module's first run), and a status URL for the round trip.
    await server.fault(`${tag} warm-up`, { latency_ms: 200, queue_depth: 0 });
    const warm = await page.evaluate(async ({ endpoint, prompt, options }) => (await window.bench.client.subscribe(endpoint, { input: { prompt }, ...options })).requestId, {
      endpoint: ENDPOINT, prompt: `${tag} warm-up`, options: mode.options,
    });
    const clock = await clocks(page, `https://queue.fal.run/fal-ai/flux/requests/${warm}/status`);
    for (const [i, j] of drawn.entries()) {
      await server.fault(`${tag} #${i}`, { latency_ms: j.latencyMs, queue_depth: j.queueDepth });
    }
    const run = await page.evaluate(async ({ n, concurrency, tag, options, endpoint }) => {
      const { client } = window.bench;
      const now = () => performance.timeOrigin + performance.now();
      const out = [];
      let next = 0;
      const requests0 = window.benchRequests;
      const worker = async () => {
        while (next < n) {
          const i = next++;
          const job = { i, submit: now(), firstInProgress: null };
          const onQueueUpdate = (s) => {
            if (s.status === "IN_PROGRESS" && job.firstInProgress === null) job.firstInProgress = now();
          };
          const r = await client.subscribe(endpoint, { input: { prompt: `${tag} #${i}` }, onQueueUpdate, ...options });
          job.resolved = now();
          job.id = r.requestId;
          out.push(job);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return { jobs: out, requests: window.benchRequests - requests0 };
    }, { n: jobs, concurrency, tag, options: mode.options, endpoint: ENDPOINT });
    await close();
    const sim = new Map((await server.sim(`/__sim/jobs`)).filter((j) => j.input?.prompt?.startsWith(`${tag} #`)).map((j) => [j.id, j]));
    const toPage = (serverMs) => serverMs - clock.offsetMs;
    const rows = run.jobs.map((job) => {
      const s = sim.get(job.id);
      if (typeof s?.completed_at_ms !== "number") throw new Error(`${mode.key}: no completion time for job ${job.id}`);
      const d = drawn[job.i];
      const started = toPage(s.created_at_ms + d.queueMs);
      return {
        resolveMs: job.resolved - toPage(s.completed_at_ms),
        // The same figure without the simulator's clock: the submit's way there is included.
        totalMinusDurationMs: job.resolved - job.submit - d.durationMs,
        firstUpdateMs: job.firstInProgress === null ? null : job.firstInProgress - job.submit,
        firstUpdateLagMs: job.firstInProgress === null ? null : job.firstInProgress - started,
      };
    });
    const seen = rows.filter((x) => x.firstUpdateMs !== null);
    return [mode.key, {
      label: mode.label,
      ...stats(rows.map((x) => x.resolveMs)),
      totalMinusDuration: stats(rows.map((x) => x.totalMinusDurationMs)),
      firstUpdate: seen.length ? stats(seen.map((x) => x.firstUpdateMs)) : null,
      firstUpdateLag: seen.length ? stats(seen.map((x) => x.firstUpdateLagMs)) : null,
      firstUpdateSeen: seen.length,
      requestsPerJob: run.requests / jobs,
      clock,
    }];
  };
  const modes = Object.fromEntries(await Promise.all(MODES.map(runMode)));
  const durations = stats(drawn.map((j) => j.durationMs));
  return { jobs, concurrency, seed, queueStepMs, durations, modes };
}

/** Memory (JS heap + wasm) after `cycles` subscribes with each client's default mode. */
export async function subscribeMemory(browser, server, assets, { cycles, concurrency }) {
  const out = {};
  for (const kind of ["genwire", "theirs"]) {
    const { page, cdp, close } = await benchPage(browser, server);
    await loadClient(page, assets, kind);
    const tag = `bench memory ${kind} ${process.pid} ${Date.now()}`;
    await runJobs(page, { n: 20, concurrency, prompt: tag, options: {} });
    const baseline = await memory(page, cdp);
    const t0 = Date.now();
    await runJobs(page, { n: cycles, concurrency, prompt: tag, options: {} });
    const seconds = (Date.now() - t0) / 1000;
    const after = await memory(page, cdp);
    out[kind] = { cycles, concurrency, mode: kind === "genwire" ? "streaming" : "polling", baseline, after, delta: { jsHeap: after.jsHeap - baseline.jsHeap, wasm: after.wasm - baseline.wasm, total: after.total - baseline.total }, seconds };
    await close();
  }
  return out;
}
