// Subscribe: the overhead from the job completing in the simulator to the caller's promise
// resolving, and memory after many subscribe cycles. The server runs a zero-latency model
// (`--latency-ms 0 --queue-depth 0`): a job is COMPLETED the moment it is created, so the figure is
// what each client needs after that (the submit's answer, its status stream or polls, the result).
import { benchPage, loadClient, memory, stats } from "./harness.mjs";

const ENDPOINT = "fal-ai/flux/dev";

/** Runs `n` subscribes in the page, `concurrency` at a time; resolves to [{id, t}] (t: epoch ms). */
function runJobs(page, { n, concurrency, prompt, options }) {
  return page.evaluate(async ({ n, concurrency, prompt, options, endpoint }) => {
    const { client } = window.bench;
    const out = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const r = await client.subscribe(endpoint, { input: { prompt }, ...options });
        out.push({ id: r.requestId, t: performance.timeOrigin + performance.now() });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return out;
  }, { n, concurrency, prompt, options, endpoint: ENDPOINT });
}

/** Each job's completion time as the simulator recorded it (epoch ms). */
async function completions(server, prompt) {
  const jobs = await server.sim(`/__sim/jobs?prompt=${encodeURIComponent(prompt)}`);
  return new Map(jobs.map((j) => [j.id, j.completed_at_ms]));
}

export const MODES = [
  { key: "genwireStreaming", kind: "genwire", label: "genwire, streaming (its default)", options: { mode: "streaming" } },
  { key: "genwirePolling", kind: "genwire", label: "genwire, polling (pollInterval default 500 ms)", options: { mode: "polling" } },
  { key: "theirsStreaming", kind: "theirs", label: "theirs, streaming", options: { mode: "streaming" } },
  { key: "theirsPolling", kind: "theirs", label: "theirs, polling (its default; pollInterval default 500 ms)", options: { mode: "polling" } },
];

export async function overhead(browser, server, assets, { jobs, concurrency, warmup = 10 }) {
  const out = {};
  for (const mode of MODES) {
    const { page, close } = await benchPage(browser, server);
    await loadClient(page, assets, mode.kind);
    const tag = `bench ${mode.key} ${process.pid} ${Date.now()}`;
    await runJobs(page, { n: warmup, concurrency: 1, prompt: `${tag} warm-up`, options: mode.options });
    const done = await runJobs(page, { n: jobs, concurrency, prompt: tag, options: mode.options });
    const completed = await completions(server, tag);
    const ms = done.map(({ id, t }) => {
      const c = completed.get(id);
      if (typeof c !== "number") throw new Error(`${mode.key}: no completion time for job ${id}`);
      return t - c;
    });
    out[mode.key] = { label: mode.label, ...stats(ms) };
    await close();
  }
  return out;
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
