// Realtime against the simulator's echo app (`genwire/echo`): throughput and main-thread CPU per
// input with 64 KiB binary inputs at throttle 0 (script time both by CDP's ScriptDuration and by
// CPU-profile samples), and memory after many connect/close cycles.
import { benchPage, loadClient, mainThreadMs, memory, profiled, scriptMetricCheck } from "./harness.mjs";

const APP = "genwire/echo";

/** Opens a connection as `window.rt` and waits for its first result (token, socket, first frame). */
function open(page) {
  return page.evaluate(async (app) => {
    const { client } = window.bench;
    const rt = { handler: null, errors: 0 };
    rt.conn = client.realtime.connect(app, {
      throttleInterval: 0,
      onResult: (r) => rt.handler?.(r),
      onError: () => rt.errors++,
    });
    window.rt = rt;
    await new Promise((resolve) => {
      rt.handler = resolve;
      rt.conn.send({ seq: -1, image: new Uint8Array(65536).fill(1) });
    });
  }, APP);
}

/** Sends `n` 64 KiB inputs keeping `window_` in flight; resolves when every result is back. */
function pump(page, n, window_) {
  return page.evaluate(async ({ n, window_ }) => {
    const { rt } = window;
    const image = new Uint8Array(65536).fill(7);
    let sent = 0, got = 0, wrongBytes = 0;
    const t0 = performance.now();
    await new Promise((resolve, reject) => {
      rt.handler = (r) => {
        got++;
        if (r.bytes !== 65536) wrongBytes++;
        if (got === n) resolve();
        else if (sent < n) rt.conn.send({ seq: sent++, image });
      };
      while (sent < Math.min(window_, n)) rt.conn.send({ seq: sent++, image });
      setTimeout(() => reject(new Error(`realtime pump stuck: ${got}/${n} results, ${rt.errors} errors`)), 180_000);
    });
    return { ms: performance.now() - t0, wrongBytes };
  }, { n, window_ });
}

/** Three rounds per client, interleaved (genwire, theirs, genwire, ...), so a burst of load on the
 * machine hits both; each figure is the median round. */
export async function throughput(browser, server, assets, { inputs, inFlight, rounds = 3 }) {
  const pages = {};
  for (const kind of ["genwire", "theirs"]) {
    const p = await benchPage(browser, server);
    await loadClient(p.page, assets, kind);
    await open(p.page);
    await pump(p.page, Math.min(100, inputs), inFlight); // warm-up
    pages[kind] = p;
  }
  const runs = { genwire: [], theirs: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of ["genwire", "theirs"]) {
      const { page, cdp } = pages[kind];
      const before = await mainThreadMs(cdp);
      const { value: { ms, wrongBytes }, scriptMs: sampledMs, gcMs } = await profiled(cdp, () => pump(page, inputs, inFlight));
      const after = await mainThreadMs(cdp);
      if (wrongBytes) throw new Error(`${kind}: ${wrongBytes} results did not echo 64 KiB of binary input`);
      runs[kind].push({
        seconds: ms / 1000,
        inputsPerSecond: inputs / (ms / 1000),
        cpuMsPerInput: (after.task - before.task) / inputs,
        scriptMsPerInput: (after.script - before.script) / inputs,
        sampledScriptMsPerInput: sampledMs / inputs,
        gcMsPerInput: gcMs / inputs,
      });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = { scriptMetricCheck: await scriptMetricCheck(pages.genwire.page, pages.genwire.cdp) };
  for (const kind of ["genwire", "theirs"]) {
    await pages[kind].page.evaluate(() => window.rt.conn.close());
    await pages[kind].close();
    const rs = runs[kind];
    out[kind] = {
      inputs,
      inFlight,
      rounds,
      inputsPerSecond: median(rs.map((x) => x.inputsPerSecond)),
      cpuMsPerInput: median(rs.map((x) => x.cpuMsPerInput)),
      scriptMsPerInput: median(rs.map((x) => x.scriptMsPerInput)),
      sampledScriptMsPerInput: median(rs.map((x) => x.sampledScriptMsPerInput)),
      gcMsPerInput: median(rs.map((x) => x.gcMsPerInput)),
      runs: rs,
    };
  }
  return out;
}

/** Memory (JS heap + wasm) after `cycles` of connect, one input, its result, close. */
export async function realtimeMemory(browser, server, assets, { cycles }) {
  const cycle = (page, n) => page.evaluate(async ({ n, app }) => {
    const { client } = window.bench;
    let errors = 0;
    for (let i = 0; i < n; i++) {
      await new Promise((resolve, reject) => {
        const stuck = setTimeout(() => reject(new Error(`realtime cycle ${i} got no result in 10 s (${errors} errors)`)), 10_000);
        const conn = client.realtime.connect(app, {
          throttleInterval: 0,
          onResult: () => { clearTimeout(stuck); conn.close(); resolve(); },
          onError: () => errors++,
        });
        conn.send({ seq: i });
      });
    }
    await new Promise((r) => setTimeout(r, 500)); // let the last closes finish
    return errors;
  }, { n, app: APP });
  const out = {};
  for (const kind of ["genwire", "theirs"]) {
    const { page, cdp, close } = await benchPage(browser, server);
    await loadClient(page, assets, kind);
    await cycle(page, 5);
    const baseline = await memory(page, cdp);
    const t0 = Date.now();
    const errors = await cycle(page, cycles);
    const seconds = (Date.now() - t0) / 1000;
    const after = await memory(page, cdp);
    const { open: openSockets } = await server.sim("/__sim/realtime/stats");
    out[kind] = { cycles, baseline, after, delta: { jsHeap: after.jsHeap - baseline.jsHeap, wasm: after.wasm - baseline.wasm, total: after.total - baseline.total }, seconds, onErrorCalls: errors, serverSocketsOpenAfter: openSockets };
    await close();
  }
  return out;
}
