// Bench plumbing: a static server for the built bundles (both clients fetched the same way, over
// real loopback HTTP), bench pages, CDP helpers, statistics.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { outDir } from "./sizes.mjs";

/** Serves `outDir` (the bundles and the wasm) with CORS, no caching, the right types. */
export async function startAssetServer() {
  const types = { js: "text/javascript", mjs: "text/javascript", wasm: "application/wasm" };
  const srv = createServer((req, res) => {
    const name = new URL(req.url, "http://x").pathname.slice(1);
    let body;
    try {
      if (!/^[\w.-]+$/.test(name)) throw new Error("bad name");
      body = readFileSync(outDir + name);
    } catch {
      res.writeHead(404, { "access-control-allow-origin": "*" }).end();
      return;
    }
    res.writeHead(200, {
      "content-type": types[name.split(".").pop()] ?? "application/octet-stream",
      "access-control-allow-origin": "*",
      "cache-control": "no-store",
    });
    res.end(body);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) };
}

/**
 * A fresh browser context on a real page of the dev server (a static file: Chromium refuses
 * WebSockets to loopback from pages Playwright fulfilled itself) with nothing of either client loaded.
 */
export async function benchPage(browser, server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e.message));
  // The demo's stylesheet: a real static file that loads nothing (the sandbox page loads genwire).
  const resp = await page.goto(`${server.url}/style.css`);
  if (!resp?.ok()) throw new Error("no static page to host the bench on the dev server");
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  return { page, cdp, close: () => context.close() };
}

/**
 * Loads a client into the page as `window.bench`: `{ kind, lib, client, wasmBytes() }`.
 * genwire: the bundle (plus a wasm memory accessor), initialised, with a client on the proxy and
 * sockets to the simulator. theirs: @fal-ai/client's bundle, `createFalClient({ proxyUrl })`, and a
 * WebSocket wrapper sending fal.run's realtime URL to the simulator (the same target genwire gets).
 */
export async function loadClient(page, assets, kind) {
  await page.evaluate(async ({ assets, kind }) => {
    const realtimeBase = `ws://${location.host}/sim/realtime`;
    if (kind === "genwire") {
      const lib = await import(`${assets}/genwire-bench.min.js`);
      await lib.init();
      const client = lib.createClient({ proxyUrl: "/api/fal/proxy", realtimeUrl: realtimeBase });
      window.bench = { kind, lib, client, wasmBytes: async () => (await lib.wasmExports()).memory.buffer.byteLength };
    } else {
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url, protocols) {
          super(String(url).replace(/^wss:\/\/fal\.run\//, `${realtimeBase}/`), protocols);
        }
      };
      const m = await import(`${assets}/fal-client.min.js`);
      const lib = m.createFalClient ? m : m.default;
      const client = lib.createFalClient({ proxyUrl: "/api/fal/proxy" });
      window.bench = { kind, lib, client, wasmBytes: async () => 0 };
    }
    // Their default token provider warns once per connection that it is deprecated: keep the log quiet.
    const warn = console.warn;
    console.warn = (...a) => (String(a[0]).includes("default token provider") ? undefined : warn(...a));
  }, { assets: assets.url, kind });
}

/** JS heap after two full GCs, and the wasm memory of the page's client. */
export async function memory(page, cdp) {
  await cdp.send("HeapProfiler.collectGarbage");
  await new Promise((r) => setTimeout(r, 100));
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  const wasm = await page.evaluate(() => window.bench.wasmBytes());
  return { jsHeap: usedSize, wasm, total: usedSize + wasm };
}

/** Main-thread busy time so far (CDP Performance.getMetrics), in ms. */
export async function mainThreadMs(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  const get = (n) => metrics.find((m) => m.name === n)?.value ?? 0;
  return { task: get("TaskDuration") * 1000, script: get("ScriptDuration") * 1000 };
}

/**
 * Runs `fn` under the CPU profiler (sampling every 100 µs) and gives the main thread's time in
 * script by the samples: JavaScript, wasm and the built-ins script calls (`ws.send`,
 * `Blob.arrayBuffer`), without idle time, the browser's own work ("program") and GC, in ms.
 * Unlike CDP's ScriptDuration this sees promise reactions (see `scriptMetricCheck`).
 */
export async function profiled(cdp, fn) {
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  const value = await fn();
  const { profile } = await cdp.send("Profiler.stop");
  const name = new Map(profile.nodes.map((n) => [n.id, n.callFrame.functionName]));
  let scriptUs = 0, gcUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0; // a sample's time runs to the next one
    const f = name.get(id);
    if (f === "(garbage collector)") gcUs += us;
    else if (!["(idle)", "(program)", "(root)"].includes(f)) scriptUs += us;
  });
  return { value, scriptMs: scriptUs / 1000, gcMs: gcUs / 1000 };
}

/**
 * What CDP's ScriptDuration counts: 20 ms of work in a task, in a `queueMicrotask` callback and
 * in a promise reaction (`.then`). Chromium counts the first two and not the third, so a client
 * that works in promise reactions looks cheaper on that metric than it is.
 */
export async function scriptMetricCheck(page, cdp) {
  const out = {};
  for (const how of ["task", "queueMicrotask", "promiseThen"]) {
    const before = await mainThreadMs(cdp);
    await page.evaluate(async (how) => {
      const burn = () => { const t = performance.now(); while (performance.now() - t < 20); };
      await new Promise((r) => setTimeout(() => {
        if (how === "task") { burn(); r(); }
        if (how === "queueMicrotask") queueMicrotask(() => { burn(); r(); });
        if (how === "promiseThen") Promise.resolve().then(() => { burn(); r(); });
      }, 0));
    }, how);
    await new Promise((r) => setTimeout(r, 50));
    const after = await mainThreadMs(cdp);
    out[how] = { scriptDurationMs: after.script - before.script, taskDurationMs: after.task - before.task };
  }
  return out;
}

export const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, p50: q(0.5), p95: q(0.95), min: s[0], max: s.at(-1), mean: s.reduce((a, b) => a + b, 0) / s.length };
};
